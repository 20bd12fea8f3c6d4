"""Two runs side by side: pairing by task and variation, where a pair parts ways, the screen's
keys, and the table `--plain` prints."""

from __future__ import annotations

from pathlib import Path

from test_tui_app import run_async, wait_until
from test_tui_navigation import wrong_focus_episode
from test_tui_why_help import why_episode
from typer.testing import CliRunner

from subgoal.cli import app as cli
from subgoal.engine.episode import Episode, write_episodes
from subgoal.tui.beside import divergence, pair_episodes


def flat_run() -> list[Episode]:
    """A second run of the same variation: the flat agent focused on the chair at step 3."""
    episode = wrong_focus_episode()
    episode.agent = "flat"
    return [episode]


def hierarchical_run() -> list[Episode]:
    other = why_episode()
    other.task_id, other.variation = "4-1", 3  # played by one run only
    return [why_episode(), other]


def write_runs(tmp_path: Path) -> tuple[Path, Path]:
    left, right = tmp_path / "runs" / "hier", tmp_path / "runs" / "flat"
    left.mkdir(parents=True)
    right.mkdir(parents=True)
    write_episodes(left / "episodes.jsonl.gz", hierarchical_run())
    write_episodes(right / "episodes.jsonl.gz", flat_run())
    return left, right


def test_pairs_and_where_they_part() -> None:
    pairs = pair_episodes(hierarchical_run(), flat_run())
    assert len(pairs) == 1 and pairs[0].label == "4-2 find-non-living-thing v0"
    assert pairs[0].divergence == 3  # "focus on painting" vs "focus on chair"
    same = why_episode()
    assert divergence(same, why_episode()) is None
    shorter = why_episode()
    shorter.steps = shorter.steps[:2]
    assert divergence(same, shorter) == 2  # one ended, the other went on


@run_async
async def test_side_by_side_screen_moves_both_and_jumps_to_the_difference(tmp_path: Path) -> None:
    from subgoal.tui.beside_app import BesideApp
    from subgoal.tui.screens.beside import BesideScreen
    from subgoal.tui.screens.help import HelpScreen
    from subgoal.tui.widgets.actions import ActionsLog

    left, right = write_runs(tmp_path)
    app = BesideApp(left / "episodes.jsonl.gz", right / "episodes.jsonl.gz")
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, BesideScreen))
        screen = app.screen
        assert app.names == ("hier", "flat")
        header = str(screen.query_one("#beside-header").render())
        assert "4-2" in header and "part at step ≠3" in header
        await pilot.press("right", "right")
        assert screen.position == 2
        assert screen.query_one("#actions-left", ActionsLog).row_count == 2
        assert screen.query_one("#actions-right", ActionsLog).row_count == 2
        await pilot.press("d")
        assert screen.position == 4
        left_log, right_log = (screen.query_one(f"#actions-{side}", ActionsLog) for side in ("left", "right"))
        assert "≠3" in str(left_log.get_row("3")[0]) and "≠3" in str(right_log.get_row("3")[0])
        assert "focus on chair" in str(right_log.get_row("3")[-1])
        assert "score -100 → -100" in str(screen.query_one("#title-right").render())
        await pilot.press("G")
        assert screen.position == 5 and screen.query_one("#actions-right", ActionsLog).row_count == 4
        assert "completed" in str(screen.query_one("#title-left").render())
        await pilot.press("y")
        assert screen.query_one("#observation-left").view == "why"
        await pilot.press("question_mark")
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen))
        rows = {what: keys for keys, what, _ in app.screen.rows}
        assert rows["where they part"] == "d" and rows["back"] == "← ,"
        await pilot.press("escape")
        await pilot.press("q")
    assert app.return_code == 0


@run_async
async def test_brackets_step_through_the_pairs_and_e_goes_back_to_their_list(tmp_path: Path) -> None:
    from textual.widgets import DataTable

    from subgoal.tui.beside_app import BesideApp
    from subgoal.tui.screens.beside import BesideScreen
    from subgoal.tui.screens.picker import PickerScreen

    left, right = write_runs(tmp_path)
    alike = hierarchical_run()[1]  # 4-1 v3, which the flat run now plays the same way
    write_episodes(right / "episodes.jsonl.gz", [*flat_run(), alike])
    app = BesideApp(left / "episodes.jsonl.gz", right / "episodes.jsonl.gz")
    header = lambda: str(app.screen.query_one("#beside-header").render())  # noqa: E731
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, PickerScreen))  # two pairs: their list
        assert app.screen.query_one("#episodes", DataTable).row_count == 2
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, BesideScreen))
        assert app.screen.number == 0 and "part at step ≠3" in header() and "pair #0 of 2" in header()
        await pilot.press("right", "right_square_bracket")
        await wait_until(pilot, lambda: isinstance(app.screen, BesideScreen) and app.screen.number == 1)
        assert app.screen.position == 0  # a new pair starts at its first step
        assert "4-1" in header() and "the same all the way" in header() and "pair #1 of 2" in header()
        await pilot.press("right_square_bracket")  # no pair after the last: a bell, it stays
        assert app.screen.number == 1
        await pilot.press("left_square_bracket")
        await wait_until(pilot, lambda: isinstance(app.screen, BesideScreen) and app.screen.number == 0)
        await pilot.press("e")
        await wait_until(pilot, lambda: isinstance(app.screen, PickerScreen))
        await pilot.press("down", "enter")
        await wait_until(pilot, lambda: isinstance(app.screen, BesideScreen) and app.screen.number == 1)
        await pilot.press("t")
        assert app.theme == "textual-light"


def test_plain_prints_the_pairs_and_bad_input_is_one_line(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    left, right = write_runs(tmp_path)
    runner = CliRunner()
    base = ["--workspace", str(tmp_path), "play", "--plain"]
    result = runner.invoke(cli, [*base, "--replay", str(left), "--beside", str(right)])
    assert result.exit_code == 0, result.output
    assert "hier  vs  flat" in result.output
    row = next(line for line in result.output.splitlines() if "find-non-living-thing" in line)
    assert (
        "100" in row
        and "-100" in row
        and "completed" in row
        and "failed" in row
        and "│             3 │" in row
    )
    alone = runner.invoke(cli, [*base, "--beside", str(right)])
    assert alone.exit_code == 2 and "--beside needs --replay" in alone.output
    apart = tmp_path / "apart.jsonl.gz"
    write_episodes(apart, hierarchical_run()[1:])
    none = runner.invoke(cli, [*base, "--replay", str(apart), "--beside", str(right)])
    assert none.exit_code == 2 and "share no task variation" in " ".join(none.output.split())
