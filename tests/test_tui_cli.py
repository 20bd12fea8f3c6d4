"""`subgoal play` through the CLI (typer's CliRunner: stdout is not a terminal, so it prints plain
events), and its error paths: one red line and exit code 2, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_tui_app import sample_episode
from typer.testing import CliRunner

from subgoal.cli import app
from subgoal.engine.episode import write_episodes

runner = CliRunner()


def play(*args: str, workspace: Path):  # type: ignore[no-untyped-def]
    return runner.invoke(app, ["--workspace", str(workspace), "play", *args])


def test_plain_replay_prints_the_events(tmp_path: Path) -> None:
    path = tmp_path / "two.jsonl.gz"
    write_episodes(path, [sample_episode(), sample_episode()])
    result = play("--replay", str(path), "--episode", "1", workspace=tmp_path)
    assert result.exit_code == 0, result.output
    out = result.output
    assert "4-2 find-non-living-thing variation 0" in out
    assert "▶ navigate_to(kitchen)" in out and "✓ navigate_to(kitchen) (3 steps)" in out
    assert "move painting to red box +25" in out
    assert "↳ 'focus on the painting' (fuzzy)" in out
    assert out.rstrip().endswith("completed: score 100 in 5 steps")
    assert "episode 0" not in out  # one episode asked for, no separators
    everything = play("--replay", str(path), "--plain", workspace=tmp_path).output
    assert everything.count("completed: score 100") == 2 and "episode 1" in everything


def test_plain_replay_says_why_in_readable_lines(tmp_path: Path) -> None:
    from test_tui_why_help import why_episode

    episode = why_episode()
    episode.meta["planner"] = {"name": "planner-small", "path": "/w/checkpoints/planner-small"}
    episode.meta["executor"] = {"name": "executor-small", "path": "/w/checkpoints/executor-small"}
    path = tmp_path / "why.jsonl.gz"
    write_episodes(path, [episode])
    out = play("--replay", str(path), workspace=tmp_path).output
    assert "planner planner-small executor executor-small" in out and "{" not in out  # no raw dicts
    assert "↳ beam 2 (beam 1 'go to hallway' invalid)" in out
    assert "beams: ✗ go to hallway  ✓ go to kitchen  · look around" in out
    assert "scored: focus on painting -0.105, focus on chair -2.300" in out
    assert "✗ focus_on(painting) (1 step, failed)" in out


def test_a_run_folder_replays_its_episodes(tmp_path: Path) -> None:
    run = tmp_path / "runs" / "eval-1"
    run.mkdir(parents=True)
    write_episodes(run / "episodes.jsonl.gz", [sample_episode()])
    result = play("--replay", str(run), "--plain", workspace=tmp_path)
    assert result.exit_code == 0, result.output
    assert "completed: score 100 in 5 steps" in result.output
    empty = play("--replay", str(tmp_path / "runs"), "--plain", workspace=tmp_path)
    assert empty.exit_code == 2 and "a folder without episodes.jsonl.gz" in " ".join(empty.output.split())
    assert "Traceback" not in empty.output


def test_piped_tables_are_not_cut(monkeypatch) -> None:
    monkeypatch.delenv("COLUMNS", raising=False)
    result = runner.invoke(app, ["tasks"])
    assert result.exit_code == 0
    assert "change-the-state-of-matter-of" in result.output and "…" not in result.output


def test_plain_live_oracle_goes_through_the_rollout_source(tmp_path: Path, monkeypatch) -> None:
    """The live --plain path (the JVM is replaced by a saved episode; the real JVM run is tested in
    test_tui_app): the same source, driven without pacing, printed."""
    from subgoal import live
    from subgoal.tui import sources

    seen = {}

    def fake_rollout_source(spec, holder, make):  # type: ignore[no-untyped-def]
        seen["spec"] = spec
        return sources.replay_source(sample_episode())

    monkeypatch.setattr(live, "rollout_source", fake_rollout_source)
    result = play("--task", "find-non-living-thing", "--variation", "230", workspace=tmp_path)
    assert result.exit_code == 0, result.output
    assert seen["spec"].task_id == "4-2" and seen["spec"].split == "test" and seen["spec"].variation == 230
    assert "completed: score 100 in 5 steps" in result.output


def test_a_learned_agent_takes_the_newest_checkpoints(tmp_path: Path, monkeypatch) -> None:
    """As eval does: no --planner/--executor/--checkpoint means the newest of each role."""
    import os

    from test_user_errors import make_checkpoint

    from subgoal import live
    from subgoal.tui import sources

    for number, (name, role) in enumerate(
        [
            ("planner-old", "planner"),
            ("planner-new", "planner"),
            ("executor-a", "executor"),
            ("flat-a", "flat"),
        ]
    ):
        folder = make_checkpoint(tmp_path, name, role)
        os.utime(folder / "manifest.json", (1000 + number, 1000 + number))
    seen = []

    def fake_rollout_source(spec, holder, make):  # type: ignore[no-untyped-def]
        seen.append(spec)
        return sources.replay_source(sample_episode())

    monkeypatch.setattr(live, "rollout_source", fake_rollout_source)
    assert play("--agent", "hierarchical", workspace=tmp_path).exit_code == 0
    assert (
        Path(seen[0].agent.planner).name == "planner-new"
        and Path(seen[0].agent.executor).name == "executor-a"
    )
    assert play("--agent", "flat", workspace=tmp_path).exit_code == 0
    assert Path(seen[1].agent.flat).name == "flat-a"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--replay", "missing.jsonl.gz"], "no such episode file"),
        (["--task", "boill"], "unknown task 'boill'; did you mean boil"),
        (["--task", "4-2", "--variation", "9999"], "has variations 0-299"),
        (["--agent", "wizard"], "unknown agent 'wizard'"),
        (["--agent", "hierarchical"], "no planner checkpoint"),  # none to take as the newest
        (["--agent", "flat"], "no flat checkpoint"),
        (["--agent", "human", "--plain"], "needs a terminal"),
        (["--agent", "hierarchical", "--planner", "nope", "--executor", "nope"], "unknown checkpoint 'nope'"),
    ],
)
def test_errors_are_one_line(tmp_path: Path, args: list[str], message: str) -> None:
    result = play(*args, workspace=tmp_path)
    assert result.exit_code == 2, result.output
    assert message in " ".join(result.output.split())
    assert "Traceback" not in result.output


def test_bad_replay_files(tmp_path: Path) -> None:
    path = tmp_path / "one.jsonl.gz"
    write_episodes(path, [sample_episode()])
    result = play("--replay", str(path), "--episode", "4", workspace=tmp_path)
    assert result.exit_code == 2 and "no episode 4 in" in result.output
    broken = tmp_path / "broken.jsonl.gz"
    broken.write_bytes(path.read_bytes()[:-30])
    result = play("--replay", str(broken), workspace=tmp_path)
    assert result.exit_code == 2 and "truncated or corrupt" in " ".join(result.output.split())
