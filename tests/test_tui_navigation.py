"""Replay navigation: score changes, where it first went wrong, search, the file's other episodes,
and the picker's sort orders."""

from __future__ import annotations

from pathlib import Path

from test_tui_app import pane_text, run_async, sample_episode, status_text, wait_until
from test_tui_why_help import why_episode

from subgoal.engine.episode import Episode, Step, write_episodes
from subgoal.tui.screens.picker import sort_episodes
from subgoal.tui.state import ReplayCursor


def wrong_focus_episode() -> Episode:
    """The sample episode, but the focus is on the chair: -100 at step 3."""
    episode = sample_episode()
    wrong = episode.steps[3]
    episode.steps[3:] = [
        Step("focus on chair", "You focus on the chair.", -100, -125, wrong.look, wrong.inventory, True)
    ]
    episode.subgoals[1:] = []
    episode.subgoals[0].end = 4
    episode.meta["end_reason"] = "failed"
    return episode


def test_the_cursor_jumps_to_changes_failures_and_text() -> None:
    cursor = ReplayCursor(sample_episode())
    assert cursor.changes() == [1, 2, 4, 5]
    assert cursor.next_change() and cursor.position == 1
    assert cursor.next_change() and cursor.position == 2
    assert cursor.next_change() and cursor.position == 4
    assert cursor.previous_change() and cursor.position == 2
    assert cursor.failure() is None and not cursor.first_failure()
    assert cursor.search("RED BOX") and cursor.position == 3  # step 2's observation (the kitchen)
    assert cursor.search("red box") and cursor.position == 5  # the last step's action
    assert cursor.search("red box") and cursor.position == 3  # wraps around
    assert not cursor.search("unicorn") and cursor.position == 3
    assert ReplayCursor(wrong_focus_episode()).failure() == 4
    assert ReplayCursor(why_episode()).failure() == 4  # no points lost; a sub-goal failed at 4


@run_async
async def test_replay_keys_for_changes_failure_search_and_episodes(tmp_path: Path) -> None:
    from subgoal.tui.app import PlayApp
    from subgoal.tui.screens.replay import ReplayScreen

    path = tmp_path / "three.jsonl.gz"
    write_episodes(path, [sample_episode(), wrong_focus_episode(), why_episode()])
    app = PlayApp(replay=path, episode=0)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, ReplayScreen))
        screen = app.screen
        await pilot.press("c", "c")
        assert screen.position == 2
        await pilot.press("C")
        assert screen.position == 1
        await pilot.press("f")  # nothing went wrong: stays, says so
        assert screen.position == 1 and any("nothing went wrong" in n.message for n in app._notifications)
        await pilot.press("slash", *"painting")
        # typed into the search line: g, n, p and c moved nothing
        assert screen.position == 1 and screen.query_one("#replay-search").value == "painting"
        await pilot.press("enter")
        assert screen.position == 3  # step 2 looks around the kitchen: "a painting"
        await pilot.press("enter")
        assert screen.position == 4  # "focus on painting"
        await pilot.press("escape")
        assert not screen.query_one("#replay-search").display and isinstance(app.screen, ReplayScreen)
        await pilot.press("right_square_bracket")
        await wait_until(pilot, lambda: isinstance(app.screen, ReplayScreen) and app.screen.number == 1)
        second = app.screen
        assert "episode #1 of 3" in status_text(app)  # as -e 1 and the picker's # column say
        await pilot.press("f")
        assert second.position == 4 and second.state.score == -100
        assert "-100" in pane_text(app, "#score-now")
        await pilot.press("right_square_bracket", "right_square_bracket")  # the last one, then a bell
        await wait_until(pilot, lambda: isinstance(app.screen, ReplayScreen) and app.screen.number == 2)
        await pilot.press("left_square_bracket")
        await wait_until(pilot, lambda: isinstance(app.screen, ReplayScreen) and app.screen.number == 1)


def test_picker_sorts_by_score_and_end_reason() -> None:
    episodes = [sample_episode(), wrong_focus_episode(), why_episode()]
    episodes[2].steps[-1].score = 60
    episodes[2].meta["end_reason"] = "step_limit"
    shown = [0, 1, 2]
    assert sort_episodes(episodes, shown, "file") == [0, 1, 2]
    assert sort_episodes(episodes, shown, "score-down") == [0, 2, 1]
    assert sort_episodes(episodes, shown, "score-up") == [1, 2, 0]
    assert sort_episodes(episodes, shown, "reason") == [0, 1, 2]  # completed, failed, step_limit
    assert sort_episodes(episodes, [2, 1], "file") == [2, 1]


@run_async
async def test_picker_s_cycles_the_sort(tmp_path: Path) -> None:
    from textual.widgets import DataTable

    from subgoal.tui.app import PlayApp
    from subgoal.tui.screens.picker import PickerScreen

    path = tmp_path / "three.jsonl.gz"
    write_episodes(path, [wrong_focus_episode(), sample_episode(), wrong_focus_episode()])
    app = PlayApp(replay=path)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, PickerScreen))
        table = app.screen.query_one("#episodes", DataTable)
        order = lambda: [str(table.get_row_at(r)[0]) for r in range(table.row_count)]  # noqa: E731
        assert order() == ["0", "1", "2"]
        await pilot.press("s")
        assert order() == ["1", "0", "2"] and "score, best first" in pane_text(app, "#picker-title")
        assert str(table.get_row_at(0)[-1]) == "completed" and str(table.get_row_at(1)[-1]) == "failed"


@run_async
async def test_space_autoplays_to_the_end_and_t_switches_the_theme(tmp_path: Path, monkeypatch) -> None:
    from subgoal.tui.app import PlayApp
    from subgoal.tui.screens import replay
    from subgoal.tui.screens.replay import ReplayScreen

    path = tmp_path / "one.jsonl.gz"
    write_episodes(path, [sample_episode()])
    app = PlayApp(replay=path, theme="dark")
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, ReplayScreen))
        screen = app.screen
        monkeypatch.setattr(replay, "AUTOPLAY_SECONDS", 60.0)  # started, but no step comes yet
        await pilot.press("G", "space")
        assert screen.position == 0 and "replay ▶" in status_text(app)  # at the end: from the start
        await pilot.press("space")
        assert screen.position == 0 and "replay ▶" not in status_text(app)
        monkeypatch.setattr(replay, "AUTOPLAY_SECONDS", 0.02)
        await pilot.press("space")  # on from where it stood, then stops by itself at the end
        await wait_until(pilot, lambda: screen.position == 5 and "replay ▶" not in status_text(app))
        assert screen.state.finished and screen.state.score == 100

        assert app.theme == "textual-dark" and app.current_theme.dark
        await pilot.press("t")
        assert app.theme == "textual-light" and not app.current_theme.dark
        await pilot.press("t")
        assert app.theme == "textual-dark"
