"""The rules level on its way through a run: the eval option, the run's config (resume refused at
another level; an old config reads as `task`), the report header, `eval --compare` (and --json),
and a replayed episode's status bar."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_compare_cli import write_run
from test_tui_beside import flat_run, hierarchical_run
from typer.testing import CliRunner

from subgoal.cli import app
from subgoal.engine.agent_kinds import AgentSpec
from subgoal.engine.rules import LevelError
from subgoal.engine.runs import EvalProtocol, Run
from subgoal.engine.tasks import resolve_tasks
from subgoal.errors import SubgoalError

runner = CliRunner()


def test_an_unknown_level_is_one_line_and_exit_2(tmp_path: Path) -> None:
    for command in (["eval"], ["play", "--plain"], ["quickstart"]):
        result = runner.invoke(app, ["-w", str(tmp_path), *command, "--rules", "all"])
        assert result.exit_code == 2, (command, result.output)
        assert "unknown rules level 'all'; choose one of paper, general, task" in result.output
        assert "Traceback" not in result.output
    with pytest.raises(LevelError):
        AgentSpec("oracle", rules="none")


def test_the_level_round_trips_through_the_run_config_and_report(tmp_path: Path) -> None:
    spec = AgentSpec("oracle", rules="paper")
    run = Run.create(tmp_path, spec, resolve_tasks("4-2"), EvalProtocol("dev", 1), "r")
    again = Run.open(run.path)
    assert again.rules == "paper" and again.spec.rules == "paper"
    assert json.loads((run.path / "config.json").read_text())["rules"] == "paper"
    again.write_results(again.summary(), complete=True)
    report = (run.path / "report.md").read_text()
    assert "(paper rules)" in report and "- **rules**: paper" in report
    # The same name at another level is another run: refused, not mixed into this one.
    with pytest.raises(SubgoalError, match="played with the paper rules, not general"):
        Run.create(
            tmp_path, AgentSpec("oracle", rules="general"), resolve_tasks("4-2"), EvalProtocol("dev", 1), "r"
        )


def test_rules_switched_off_by_name_round_trip_and_name_quickstart_runs(tmp_path: Path) -> None:
    from subgoal.engine.rules import rules_slug

    spec = AgentSpec("oracle", rules="task without pin-focus+answer-guard")
    assert spec.rules == "task without answer-guard+pin-focus"
    run = Run.create(tmp_path, spec, resolve_tasks("4-2"), EvalProtocol("dev", 1), "r")
    assert Run.open(run.path).rules == spec.rules
    assert rules_slug(spec.rules) == "task-without-answer-guard-pin-focus"
    bad = runner.invoke(app, ["-w", str(tmp_path), "eval", "--rules", "task without nothing"])
    assert bad.exit_code == 2 and "unknown rule 'nothing'" in bad.output and "Traceback" not in bad.output
    back = Run.create(
        tmp_path,
        AgentSpec("oracle", rules="general with planner-offer"),
        resolve_tasks("4-2"),
        EvalProtocol("dev", 1),
        "back",
    )
    assert Run.open(back.path).rules == "general with planner-offer"
    assert "planner-offer" in json.loads((back.path / "config.json").read_text())["active_rules"]


def test_a_run_whose_level_lost_a_rule_since_is_not_resumed(tmp_path: Path) -> None:
    spec = AgentSpec("oracle", rules="general")
    run = Run.create(tmp_path / "runs", spec, resolve_tasks("4-2"), EvalProtocol("dev", 1), "r")
    config = json.loads((run.path / "config.json").read_text())
    assert "loop-guard" in config["active_rules"]
    config["active_rules"].append("a-rule-since-retired")
    (run.path / "config.json").write_text(json.dumps(config))
    with pytest.raises(
        SubgoalError, match=r"r was played when the general rules were others \(-a-rule-since-retired since\)"
    ):
        Run.create(tmp_path / "runs", spec, resolve_tasks("4-2"), EvalProtocol("dev", 1), "r")
    result = runner.invoke(app, ["-w", str(tmp_path), "eval", "--resume", "r"])
    assert result.exit_code == 2 and "start another run" in result.output


def test_a_run_from_before_levels_reads_as_task(tmp_path: Path) -> None:
    path = write_run(tmp_path / "runs", "old", "hierarchical", hierarchical_run())
    assert Run.open(path).rules == "task"


def test_resume_at_another_level_is_refused(tmp_path: Path) -> None:
    path = write_run(tmp_path / "runs", "old", "flat", flat_run())
    result = runner.invoke(app, ["-w", str(tmp_path), "eval", "--resume", "old", "--rules", "paper"])
    assert result.exit_code == 2
    assert "old was played with the task rules: resume it without --rules" in result.output
    assert path.exists()


def test_compare_names_both_levels_and_says_so_loudly_when_they_differ(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    runs = tmp_path / "runs"
    write_run(runs, "hier", "hierarchical", hierarchical_run())
    flat = write_run(runs, "flat", "flat", flat_run())
    config = json.loads((flat / "config.json").read_text())
    (flat / "config.json").write_text(json.dumps({**config, "spec": {"kind": "flat", "rules": "general"}}))
    base = ["-w", str(tmp_path), "eval", "--compare", "hier", "flat"]
    result = runner.invoke(app, base)
    assert result.exit_code == 0, result.output
    assert "rules: hier task, flat general" in result.output
    assert "the runs played at different rules levels" in result.output
    data = json.loads(runner.invoke(app, [*base, "--json"]).stdout)
    assert (data["a"]["rules"], data["b"]["rules"], data["same_rules"]) == ("task", "general", False)


def test_a_replayed_episode_shows_its_level() -> None:
    from subgoal.engine.events import replay_events
    from subgoal.tui.state import EpisodeState

    episode = hierarchical_run()[0]
    for meta, shown in (({}, "task"), ({"rules": "paper"}, "paper")):
        episode.meta = {**episode.meta, **meta}
        state = EpisodeState()
        for event in replay_events(episode):
            state.apply(event)
        assert state.rules == shown


def test_subgoal_rules_lists_each_level() -> None:
    from subgoal.engine.rules import RULES, at_level

    every = json.loads(runner.invoke(app, ["rules", "--json"]).stdout)
    assert [r["name"] for r in every] == list(RULES)
    general = json.loads(runner.invoke(app, ["rules", "--level", "general", "--json"]).stdout)
    assert {r["level"] for r in general} == {"paper", "general"} and len(general) == len(at_level("general"))
    table = runner.invoke(app, ["rules", "-l", "task"], env={"COLUMNS": "250"})
    assert (
        table.exit_code == 0 and "pin-delivery" in table.stdout and "rules at the task level" in table.stdout
    )
    bad = runner.invoke(app, ["rules", "-l", "all"])
    assert bad.exit_code == 2 and "choose one of paper, general, task" in bad.output


def test_a_run_keeps_the_variations_it_skipped(tmp_path) -> None:
    from subgoal.engine.oracle import plan_variations
    from subgoal.engine.tasks import get_task

    held_out = EvalProtocol("test", 1, skip_variations=10)
    run = Run.create(tmp_path, AgentSpec("oracle"), resolve_tasks("4-2"), held_out, "h")
    assert run.jobs == [("4-2", plan_variations(get_task("4-2"), "test", 1, skip=10)[0])]
    assert Run.open(run.path).protocol.skip_variations == 10  # a resumed run plays the same episodes
