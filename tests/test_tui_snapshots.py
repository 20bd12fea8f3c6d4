"""Screenshots of the play screen (pytest-textual-snapshot), 100x30. Deterministic: fixed episode
text, a frozen clock, the dark theme named explicitly, no notifications on screen.

Update after an intended change with `pytest tests/test_tui_snapshots.py --snapshot-update` and look
at the SVGs before committing them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from test_tui_app import FrozenClock, sample_episode

from subgoal.engine.episode import write_episodes
from subgoal.tui.sources import LiveConfig, replay_source

SIZE = (100, 30)


def replay_app(tmp_path: Path, episodes: int = 1) -> Any:
    from subgoal.tui.app import PlayApp

    path = tmp_path / "episodes.jsonl.gz"
    write_episodes(path, [sample_episode() for _ in range(episodes)])
    return PlayApp(replay=path, theme="dark", clock=FrozenClock())


async def settle_replay(pilot: Any) -> None:
    from subgoal.tui.screens.replay import ReplayScreen

    while not (isinstance(pilot.app.screen, ReplayScreen) and pilot.app.screen.is_mounted):
        await pilot.pause(0.05)
    await pilot.pause()


def test_replay_screen_mid_episode(snap_compare, tmp_path: Path) -> None:
    # Step 4 of 5: two sub-goals done, the third next; the generated text of step 3 shown.
    assert snap_compare(
        replay_app(tmp_path), press=["n", "right"], terminal_size=SIZE, run_before=settle_replay
    )


def test_replay_screen_small_terminal(snap_compare, tmp_path: Path) -> None:
    assert snap_compare(
        replay_app(tmp_path), press=["G", "l"], terminal_size=(80, 24), run_before=settle_replay
    )


def test_picker_screen(snap_compare, tmp_path: Path) -> None:
    async def loaded(pilot: Any) -> None:
        from subgoal.tui.screens.picker import PickerScreen

        while not isinstance(pilot.app.screen, PickerScreen):
            await pilot.pause(0.05)
        await pilot.pause()

    assert snap_compare(replay_app(tmp_path, episodes=3), terminal_size=SIZE, run_before=loaded)


def test_live_screen_finished_episode(snap_compare) -> None:
    from subgoal.tui.app import PlayApp

    episode = sample_episode()
    app = PlayApp(
        live=LiveConfig(lambda link: replay_source(episode), delay=0.0), theme="dark", clock=FrozenClock()
    )

    async def finished(pilot: Any) -> None:
        from subgoal.tui.screens.live import LiveScreen

        while not (isinstance(pilot.app.screen, LiveScreen) and pilot.app.screen.stopped):
            await pilot.pause(0.05)
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=finished)


def test_live_screen_light_theme_paused(snap_compare) -> None:
    from subgoal.tui.app import PlayApp

    episode = sample_episode()
    app = PlayApp(
        live=LiveConfig(lambda link: replay_source(episode), delay=0.0, paused=True),
        theme="light",
        clock=FrozenClock(),
    )

    async def two_steps(pilot: Any) -> None:
        from subgoal.tui.screens.live import LiveScreen

        while not (isinstance(pilot.app.screen, LiveScreen) and pilot.app.screen.state.started):
            await pilot.pause(0.05)
        screen = pilot.app.screen
        for want in (1, 2):
            screen.control.step_once()
            while screen.state.taken < want:
                await pilot.pause(0.05)
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=two_steps)
