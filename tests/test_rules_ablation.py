"""The rules ablation pairs each rule's two arms on the same dev episodes: an active rule's level run
is its "with" arm, a retired rule's is its "without" arm; level runs played with other rules are
skipped, and complete runs are not played again."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from subgoal.engine.episode import Episode, Step, write_episodes
from subgoal.engine.rules import RuleSet

ROOT = Path(__file__).resolve().parents[1]


def _run(folder: Path, scores: dict[int, int], rules: str, acted: str = "") -> None:
    """A finished dev run of task 1-1 whose variation v scored scores[v]."""
    folder.mkdir(parents=True)
    notes = [{"why": {"rules": [acted]}}] if acted else []
    episodes = [
        Episode(
            "1-1",
            "boil",
            v,
            "dev",
            "Your task is to boil water.",
            steps=[Step("look around", "", s, s)],
            agent="hierarchical",
            meta={"notes": notes},
        )
        for v, s in scores.items()
    ]
    write_episodes(folder / "episodes.jsonl.gz", episodes)
    config = {
        "split": "dev",
        "rules": rules,
        "active_rules": RuleSet(rules).active,
        "step_limit": 100,
        "tasks": ["1-1"],
        "spec": {"kind": "hierarchical"},
    }
    (folder / "config.json").write_text(json.dumps(config))
    (folder / "results.json").write_text(json.dumps({"complete": True}))


def _ablate(workspace: Path, capsys, monkeypatch, *args: str) -> tuple[int, str, str]:
    """The benchmark's main() in this process, so a rule retired by the `retired` fixture is
    retired there too; its runs are complete, so it plays nothing."""
    import runpy

    argv = ["rules_ablation.py", "-w", str(workspace), "--base", "b", "--agents", "hierarchical", *args]
    monkeypatch.setattr(sys, "argv", argv)
    try:
        runpy.run_path(str(ROOT / "benchmarks" / "rules_ablation.py"), run_name="__main__")
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_a_retired_rule_is_measured_switched_back_on_against_its_level_run(
    tmp_path: Path, retired: str, capsys, monkeypatch
) -> None:
    runs = tmp_path / "runs"
    _run(runs / "b-general-hierarchical", {0: 10, 1: 30, 2: 50}, "general")
    _run(
        runs / "b-general-with-planner-offer-hierarchical",
        {0: 0, 1: 10},
        "general with planner-offer",
        acted="planner-offer",
    )
    code, out, err = _ablate(tmp_path, capsys, monkeypatch, "--rules", retired)
    assert code == 0, err
    assert "skip task/hierarchical: no run" in err
    (row,) = json.loads((runs / "b-rules-ablation.json").read_text())
    # Scored on the two episodes both arms played: with 5.0, without (the level run) 20.0.
    assert (row["with"], row["without"], row["worth"], row["episodes"]) == (5.0, 20.0, -15.0, 2)
    assert row["retired"] and row["acted"] == 2
    assert "(retired: switched back on)" in out


def test_a_level_run_played_with_other_rules_is_skipped_and_complete_runs_are_not_listed(
    tmp_path: Path, retired: str, capsys, monkeypatch
) -> None:
    runs = tmp_path / "runs"
    _run(runs / "b-general-hierarchical", {0: 10}, "general with planner-offer")  # not today's general
    _run(runs / "b-task-hierarchical", {0: 10}, "task")
    _run(
        runs / "b-task-with-planner-offer-hierarchical",
        {0: 0},
        "task with planner-offer",
        acted="planner-offer",
    )
    code, out, err = _ablate(tmp_path, capsys, monkeypatch, "--rules", retired, "--dry-run")
    assert code == 0, err
    assert "skip general/hierarchical: b-general-hierarchical was played with other general rules" in err
    assert "would play" not in out
