"""`T` in the play app: the training curves of the checkpoints the agent played with."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from test_tui_app import FrozenClock, run_async, sample_episode, wait_until
from test_tui_why_help import why_episode

from subgoal.engine.episode import Episode, write_episodes


def with_planner_log(tmp_path: Path) -> Episode:
    folder = tmp_path / "checkpoints" / "planner-curves"
    folder.mkdir(parents=True)
    lines = [{"kind": "train", "step": s, "loss": 4.0 / (1 + s / 50)} for s in range(10, 410, 10)]
    lines += [
        {"kind": "eval", "step": s, "dev_loss": 2.0 / (1 + s / 100), "dev_exact": s / 800}
        for s in (100, 200, 300, 400)
    ]
    (folder / "log.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))
    episode = why_episode()
    episode.meta["planner"] = {"name": "planner-curves", "path": str(folder)}
    episode.meta["executor"] = {"name": "executor-gone", "path": str(tmp_path / "checkpoints" / "gone")}
    return episode


def curves_app(tmp_path: Path, episode: Episode) -> Any:
    from subgoal.tui.app import PlayApp

    path = tmp_path / "curves.jsonl.gz"
    write_episodes(path, [episode])
    return PlayApp(replay=path, theme="dark", clock=FrozenClock())


@run_async
async def test_T_shows_the_curves_of_the_agents_checkpoints(tmp_path: Path) -> None:
    from subgoal.tui.screens.curves import CurvesScreen
    from subgoal.tui.screens.replay import ReplayScreen

    app = curves_app(tmp_path, with_planner_log(tmp_path))
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, ReplayScreen))
        await pilot.press("T")
        await wait_until(pilot, lambda: isinstance(app.screen, CurvesScreen))
        text = str(app.screen.query_one("#curves-plots").render())
        assert "planner planner-curves" in text and "loss" in text and "dev metrics" in text
        assert "executor gone" in text and "it is not on this machine" in text
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, ReplayScreen))
    (tmp_path / "oracle").mkdir()
    oracle = curves_app(tmp_path / "oracle", sample_episode())
    async with oracle.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: isinstance(oracle.screen, ReplayScreen))
        await pilot.press("T")
        await wait_until(pilot, lambda: isinstance(oracle.screen, CurvesScreen))
        assert "plays with no checkpoint" in str(oracle.screen.query_one("#curves-plots").render())


def test_curves_screen(snap_compare, tmp_path: Path) -> None:
    from test_tui_snapshots import settle_replay

    async def opened(pilot: Any) -> None:
        from subgoal.tui.screens.curves import CurvesScreen

        await settle_replay(pilot)
        await pilot.press("T")
        while not isinstance(pilot.app.screen, CurvesScreen):
            await pilot.pause(0.05)
        await pilot.pause()

    episode = with_planner_log(tmp_path)
    episode.meta["executor"] = {
        "name": "executor-gone",
        "path": "/nowhere/executor-gone",
    }  # the same on every machine
    assert snap_compare(curves_app(tmp_path, episode), terminal_size=(120, 40), run_before=opened)
