"""The rules ablation pairs each rule's two arms on the same dev episodes: an active rule's level run
is its "with" arm, a retired rule's is its "without" arm; level runs played with other rules are
skipped, and complete runs are not played again."""

from __future__ import annotations

import json
import subprocess
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


def _ablate(workspace: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, str(ROOT / "benchmarks" / "rules_ablation.py"), "-w", str(workspace)]
    command += ["--base", "b", "--agents", "hierarchical", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=ROOT)


def test_a_retired_rule_is_measured_switched_back_on_against_its_level_run(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    _run(runs / "b-general-hierarchical", {0: 10, 1: 30, 2: 50}, "general")
    _run(
        runs / "b-general-with-planner-offer-hierarchical",
        {0: 0, 1: 10},
        "general with planner-offer",
        acted="planner-offer",
    )
    result = _ablate(tmp_path, "--rules", "planner-offer")
    assert result.returncode == 0, result.stderr
    assert "skip task/hierarchical: no run" in result.stderr
    (row,) = json.loads((runs / "b-rules-ablation.json").read_text())
    # Scored on the two episodes both arms played: with 5.0, without (the level run) 20.0.
    assert (row["with"], row["without"], row["worth"], row["episodes"]) == (5.0, 20.0, -15.0, 2)
    assert row["retired"] and row["acted"] == 2
    assert "(retired: switched back on)" in result.stdout


def test_a_level_run_played_with_other_rules_is_skipped_and_complete_runs_are_not_listed(
    tmp_path: Path,
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
    result = _ablate(tmp_path, "--rules", "planner-offer", "--dry-run")
    assert result.returncode == 0, result.stderr
    assert (
        "skip general/hierarchical: b-general-hierarchical was played with other general rules"
        in result.stderr
    )
    assert "would play" not in result.stdout
