"""`subgoal eval` through the real CLI (typer's CliRunner): a real oracle run, resume, compare, and
the one-line errors for bad input."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from subgoal.cli import app

runner = CliRunner()


def invoke(workspace, *args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, ["--workspace", str(workspace), *args])


def fake_checkpoint(workspace, name: str, role: str) -> None:  # type: ignore[no-untyped-def]
    folder = workspace / "checkpoints" / name
    folder.mkdir(parents=True)
    (folder / "manifest.json").write_text(
        json.dumps({"format": "subgoal.checkpoint", "version": 1, "role": role})
    )


def one_error_line(result) -> str:  # type: ignore[no-untyped-def]
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), result.output
    return lines[0]


def test_unknown_checkpoint_is_one_line(tmp_path):
    line = one_error_line(invoke(tmp_path, "eval", "--agent", "flat", "--checkpoint", "nope"))
    assert "unknown checkpoint 'nope'" in line


def test_missing_default_checkpoint_says_how_to_get_one(tmp_path):
    line = one_error_line(invoke(tmp_path, "eval", "--agent", "hierarchical"))
    assert "no planner checkpoint" in line and "subgoal train planner" in line


def test_planner_given_as_executor_is_refused_before_any_jvm(tmp_path):
    fake_checkpoint(tmp_path, "plan", "planner")
    line = one_error_line(invoke(tmp_path, "eval", "--planner", "plan", "--executor", "plan"))
    assert "is a planner checkpoint, given as the executor" in line


def test_unknown_agent_and_run(tmp_path):
    assert "unknown agent 'smart'" in one_error_line(invoke(tmp_path, "eval", "--agent", "smart"))
    assert "no eval run 'zzz'" in one_error_line(invoke(tmp_path, "eval", "--resume", "zzz"))
    assert "no eval runs" in one_error_line(invoke(tmp_path, "eval", "--resume", "last"))


@pytest.mark.jvm
def test_oracle_eval_resume_and_compare(tmp_path):
    result = invoke(tmp_path, "eval", "--agent", "oracle", "--tasks", "4-2", "-n", "1", "--name", "a")
    assert result.exit_code == 0, result.output
    assert "100.00" in result.output and "1 of 30 tasks" in result.output and "steps/s" in result.output
    run = tmp_path / "runs" / "a"
    results = json.loads((run / "results.json").read_text())
    assert results["overall"] == 100.0 and results["complete"] and results["episodes"] == 1
    assert (run / "report.md").exists() and (run / "episodes.jsonl.gz").exists()

    again = invoke(tmp_path, "eval", "--resume", "last")  # nothing left to play: no JVM, same table
    assert again.exit_code == 0, again.output
    assert "100.00" in again.output

    (tmp_path / "runs" / "b").mkdir()
    (tmp_path / "runs" / "b" / "config.json").write_text((run / "config.json").read_text())
    compared = invoke(tmp_path, "eval", "--compare", "a", "b")
    assert compared.exit_code == 0, compared.output
    assert "a vs b" in compared.output and "different tasks" in compared.output
