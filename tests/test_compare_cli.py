"""`subgoal eval --compare`: the tables, then the episodes both runs played that scored differently
(and --json of all of it), from two run folders written by hand (no JVM)."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from test_tui_beside import flat_run, hierarchical_run
from typer.testing import CliRunner

from subgoal.cli import app
from subgoal.engine.episode import Episode, write_episodes


def write_run(runs: Path, name: str, agent: str, episodes: list[Episode]) -> Path:
    path = runs / name
    path.mkdir(parents=True)
    jobs = [[ep.task_id, ep.variation] for ep in episodes]
    (path / "config.json").write_text(json.dumps({"agent": agent, "split": "train", "jobs": jobs}))
    write_episodes(path / "episodes.jsonl.gz", episodes)
    return path


def test_compare_lists_the_episodes_that_differ_and_prints_json(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    runs = tmp_path / "runs"
    write_run(runs, "hier", "hierarchical", hierarchical_run())
    write_run(runs, "flat", "flat", flat_run())
    runner = CliRunner()
    base = ["--workspace", str(tmp_path), "eval"]
    result = runner.invoke(app, [*base, "--compare", "hier", "flat"])
    assert result.exit_code == 0, result.output
    row = next(
        line for line in result.output.splitlines() if "find-non-living-thing" in line and "failed" in line
    )
    assert "100" in row and "-100" in row and "│             3 │" in row
    assert "1 of 1 episodes both played scored differently" in result.output
    bars = next(line for line in result.output.splitlines() if line.startswith("4-2 find-non-living-thing "))
    assert "█" in bars and "100.0" in bars and "0.0" in bars  # one bar per run
    assert "--beside" in result.output
    as_json = runner.invoke(app, [*base, "--compare", "hier", "flat", "--json"])
    assert as_json.exit_code == 0, as_json.output
    data = json.loads(as_json.output)
    assert data["a"]["name"] == "hier" and data["b"]["name"] == "flat"
    assert data["episodes"] == [
        {
            "task_id": "4-2",
            "variation": 0,
            "score_a": 100,
            "score_b": 0,
            "end_a": "completed",
            "end_b": "failed",
            "parts_at_step": 3,
        }
    ]


def test_a_run_summary_draws_bars_and_writes_them_as_svg(tmp_path: Path, monkeypatch) -> None:
    from subgoal.commands.eval import SCORES_SVG, print_summary
    from subgoal.engine.runs import Run

    monkeypatch.setenv("COLUMNS", "200")
    the_run = Run.open(write_run(tmp_path / "runs", "hier", "hierarchical", hierarchical_run()))
    print_summary(the_run, the_run.summary())
    svg = (the_run.path / SCORES_SVG).read_text()
    assert svg.startswith("<svg") and "find-non-living-thing" in svg


def test_the_watch_hint_is_quoted_for_the_shell(tmp_path: Path, monkeypatch, capsys) -> None:
    import shlex

    from subgoal.commands.eval import print_summary
    from subgoal.engine.runs import Run

    monkeypatch.setenv("COLUMNS", "300")
    the_run = Run.open(write_run(tmp_path / "my runs", "hier [1]", "hierarchical", hierarchical_run()))
    print_summary(the_run, the_run.summary())
    hint = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("watch an episode:"))
    command = shlex.split(hint.removeprefix("watch an episode:"))
    assert command == ["subgoal", "play", "--replay", str(the_run.path)]


def test_compare_writes_both_runs_bars_as_svg_beside_the_first(tmp_path: Path, monkeypatch) -> None:
    from subgoal.engine.runs import find_run

    monkeypatch.setenv("COLUMNS", "200")
    runs = tmp_path / "runs"
    hier = write_run(runs, "hier", "hierarchical", hierarchical_run())
    flat = write_run(runs, "flat", "flat", flat_run())
    for run, hours_ago in ((hier, 2), (flat, 1)):  # flat played last, clearly
        for path in (run, *run.iterdir()):
            os.utime(path, (time.time() - hours_ago * 3600,) * 2)
    base = ["--workspace", str(tmp_path), "eval", "--compare", "hier", "flat"]
    result = CliRunner().invoke(app, base)
    assert result.exit_code == 0, result.output
    svg = runs / "compare-hier-vs-flat.svg"
    assert f"bars: {svg}" in result.output
    text = svg.read_text()
    assert text.startswith("<svg") and "find-non-living-thing" in text and "hier" in text and "flat" in text
    assert find_run("last", runs) == flat  # the file beside hier left `last` alone
    svg.unlink()
    as_json = CliRunner().invoke(app, [*base, "--json"])
    assert as_json.exit_code == 0, as_json.output
    assert json.loads(as_json.output)["svg"] == str(svg) and svg.exists()
