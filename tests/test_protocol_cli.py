"""`subgoal protocol`: the CPU protocol end to end on two short tasks with tiny budgets, and its
pieces that need no JVM (the minutes split between planner and executor)."""

from __future__ import annotations

import pytest
from jvm_utils import new_tag, wait_until_gone
from typer.testing import CliRunner

from subgoal.cli import app
from subgoal.commands.protocol import split_minutes

runner = CliRunner()


def test_planner_and_executor_share_the_minutes_of_one_core_equally():
    assert split_minutes(60) == (30.0, 30.0)
    planner, executor = split_minutes(25)
    assert planner + executor == 25 and planner == executor


def test_protocol_names_a_run_per_split_and_level():
    from subgoal.commands.protocol import Protocol

    assert Protocol("cpu").run_name("flat", "task") == "cpu-flat"  # the runs of before levels
    assert Protocol("cpu").run_name("flat", "general") == "cpu-general-flat"
    assert Protocol("cpu", split="dev").run_name("hierarchical", "paper") == "cpu-dev-paper-hierarchical"


def test_an_unknown_level_is_one_line(tmp_path):
    result = runner.invoke(app, ["-w", str(tmp_path), "protocol", "--rules", "general,tsk"])
    assert result.exit_code == 2
    assert "unknown rules level 'tsk'; choose one of paper, general, task" in result.output


def test_protocol_without_data_is_one_line(tmp_path):
    result = runner.invoke(app, ["-w", str(tmp_path), "protocol"])
    assert result.exit_code == 2
    assert "no annotated data" in result.output and "Traceback" not in result.output


@pytest.mark.jvm
@pytest.mark.slow
def test_protocol_end_to_end_on_two_short_tasks(tmp_path, monkeypatch):
    tag = new_tag()
    monkeypatch.setenv("SUBGOAL_TEST_TAG", tag)
    ws = ["-w", str(tmp_path)]
    for split, count in (("train", "6"), ("dev", "1")):
        assert runner.invoke(app, [*ws, "collect", "-s", split, "-t", "4-2,7-1", "-n", count]).exit_code == 0
        assert runner.invoke(app, [*ws, "annotate", "-s", split]).exit_code == 0
    args = [*ws, "protocol", "--name", "t", "-m", "0.05", "-t", "4-2,7-1", "-n", "1"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "CPU protocol t" in result.output and "overall" in result.output
    summary = (tmp_path / "protocol" / "t" / "summary.md").read_text()
    assert "train wall time" in summary and "general rules" in summary and "rules ladder" in summary
    # The same checkpoints at the task level, on dev: reused models, runs of their own.
    dev = runner.invoke(app, [*args, "--rules", "task", "--split", "dev"])
    assert dev.exit_code == 0, dev.output
    assert (tmp_path / "runs" / "t-dev-task-hierarchical" / "config.json").exists()
    assert "dev split, task rules" in dev.output
    for name in ("planner-t", "executor-t", "flat-t"):
        assert (tmp_path / "checkpoints" / name / "manifest.json").exists()
    # Run again: everything is reused, nothing retrained or replayed.
    again = runner.invoke(app, args)
    assert again.exit_code == 0 and "reused" in again.output
    assert wait_until_gone(tag) == [], "a JVM outlived the protocol"
