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


# -- the why pane, help, human mode and small terminals (issue 15) -----------------------------------
def why_replay_app(tmp_path: Path) -> Any:
    from test_tui_why_help import why_episode

    from subgoal.tui.app import PlayApp

    path = tmp_path / "why.jsonl.gz"
    write_episodes(path, [why_episode()])
    return PlayApp(replay=path, theme="dark", clock=FrozenClock())


async def settled(pilot: Any) -> None:
    """Until no widget changes size between two looks: the panes are laid out again after their
    text arrives, later on a busy machine."""

    def sizes() -> list[Any]:
        return [(w.id, w.size) for w in pilot.app.screen.query("*")]

    before = None
    while before != (now := sizes()):
        before = now
        await pilot.pause(0.1)
    await pilot.pause()


def test_replay_why_pane(snap_compare, tmp_path: Path) -> None:
    # Step 1's decision: beam 1 invalid, beam 2 taken, beam 3 valid too; the planner's first call.
    assert snap_compare(
        why_replay_app(tmp_path), press=["right", "right", "y"], terminal_size=SIZE, run_before=settle_replay
    )


def test_replay_why_pane_scored_small_terminal(snap_compare, tmp_path: Path) -> None:
    # At 80x24: the scored candidates of step 3, the header still shows step, score and state.
    assert snap_compare(
        why_replay_app(tmp_path), press=["G", "up", "y"], terminal_size=(80, 24), run_before=settle_replay
    )


def test_replay_screen_wide(snap_compare, tmp_path: Path) -> None:
    assert snap_compare(
        why_replay_app(tmp_path), press=["G", "y"], terminal_size=(120, 36), run_before=settle_replay
    )


def test_help_overlay_on_replay(snap_compare, tmp_path: Path) -> None:
    async def help_open(pilot: Any) -> None:
        from subgoal.tui.screens.help import HelpScreen

        await settle_replay(pilot)
        await pilot.press("question_mark")
        while not isinstance(pilot.app.screen, HelpScreen):
            await pilot.pause(0.05)
        await pilot.pause()

    assert snap_compare(replay_app(tmp_path), terminal_size=SIZE, run_before=help_open)


def live_why_app() -> Any:
    """A live run of the why episode (a learned agent's beams and planner calls), paused."""
    from test_tui_why_help import why_episode

    from subgoal.tui.app import PlayApp

    episode = why_episode()
    episode.meta["planner"] = {"name": "planner-small"}
    episode.meta["executor"] = {"name": "executor-small"}
    return PlayApp(
        live=LiveConfig(lambda link: replay_source(episode), delay=0.0, paused=True),
        theme="dark",
        clock=FrozenClock(),
    )


async def three_live_steps(pilot: Any) -> None:
    from subgoal.tui.screens.live import LiveScreen

    while not (isinstance(pilot.app.screen, LiveScreen) and pilot.app.screen.state.started):
        await pilot.pause(0.05)
    screen = pilot.app.screen
    for want in (1, 2, 3):
        screen.control.step_once()
        while screen.state.taken < want:
            await pilot.pause(0.05)
    await pilot.pause()


def test_live_screen_small_terminal(snap_compare) -> None:
    assert snap_compare(live_why_app(), terminal_size=(80, 24), run_before=three_live_steps)


def test_live_screen_wide(snap_compare) -> None:
    # At 120x36, paused after three steps, the why view open on the newest decision.
    async def why_of_the_third(pilot: Any) -> None:
        await three_live_steps(pilot)
        await pilot.press("y")
        await settled(pilot)

    assert snap_compare(live_why_app(), terminal_size=(120, 36), run_before=why_of_the_third)


def test_human_mode_small_terminal(snap_compare) -> None:
    from test_tui_app import FakeHolder

    from subgoal.engine.agent_kinds import AgentSpec
    from subgoal.live import LiveSpec, PolicyCache, registry_agent, rollout_source
    from subgoal.tui.app import PlayApp

    spec = LiveSpec("4-2", 0, "train", AgentSpec("human"))
    holder = FakeHolder()
    app = PlayApp(
        live=LiveConfig(
            lambda link: rollout_source(spec, holder, registry_agent(spec, PolicyCache(), link)), human=True
        ),
        theme="dark",
        clock=FrozenClock(),
    )

    async def your_move(pilot: Any) -> None:
        from subgoal.tui.screens.live import ActionInput, LiveScreen

        while not (isinstance(pilot.app.screen, LiveScreen) and pilot.app.screen._waiting):
            await pilot.pause(0.05)
        pilot.app.screen.query_one(ActionInput).cursor_blink = False  # a blinking cursor is flaky
        await pilot.press(*"look r")
        await settled(pilot)

    assert snap_compare(app, terminal_size=(80, 24), run_before=your_move)


def test_replay_search_line_small_terminal(snap_compare, tmp_path: Path) -> None:
    # `/` opens the search line at the bottom; enter went to the first step that holds the text.
    assert snap_compare(
        replay_app(tmp_path),
        press=["slash", *"painting", "enter"],
        terminal_size=(80, 24),
        run_before=settle_replay,
    )


def beside_app(tmp_path: Path) -> Any:
    from test_tui_beside import write_runs

    from subgoal.tui.beside_app import BesideApp

    left, right = write_runs(tmp_path)
    return BesideApp(left / "episodes.jsonl.gz", right / "episodes.jsonl.gz", theme="dark")


async def settle_beside(pilot: Any) -> None:
    from subgoal.tui.screens.beside import BesideScreen

    while not (isinstance(pilot.app.screen, BesideScreen) and pilot.app.screen.is_mounted):
        await pilot.pause(0.05)
    await pilot.pause()


def test_side_by_side_at_the_difference(snap_compare, tmp_path: Path) -> None:
    # hierarchical and flat on one variation: they part at step 3 (≠3), d jumps just after it.
    assert snap_compare(beside_app(tmp_path), press=["d"], terminal_size=(120, 36), run_before=settle_beside)


def test_side_by_side_small_terminal(snap_compare, tmp_path: Path) -> None:
    assert snap_compare(
        beside_app(tmp_path), press=["right", "right"], terminal_size=(80, 24), run_before=settle_beside
    )


def test_replay_screen_tiny_terminal(snap_compare, tmp_path: Path) -> None:
    # 60x15: the task shrinks to one line and the chart to one row; sub-goals and actions keep rows.
    assert snap_compare(replay_app(tmp_path), press=["n"], terminal_size=(60, 15), run_before=settle_replay)
