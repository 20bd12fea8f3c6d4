"""The app explains itself: the why pane of a learned agent's decisions (replayed from a recorded
episode with known beams, and live, saved and replayed again), the help overlay of each screen's
keys, restart asking first, and human mode where typed text never triggers a shortcut."""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from test_tui_app import (
    FakeHolder,
    live_app,
    pane_text,
    run_async,
    sample_episode,
    status_text,
    wait_until,
)

from subgoal.engine.agent_kinds import AgentSpec
from subgoal.engine.episode import Episode, load_episodes, write_episodes
from subgoal.engine.events import EpisodeStarted, replay_events
from subgoal.live import LiveSpec, PolicyCache, registry_agent, rollout_source
from subgoal.tui.sources import RunControl, replay_source
from subgoal.tui.state import fold
from subgoal.tui.widgets.why import render_why

NOTES: list[dict[str, Any]] = [
    {
        "step": 0,
        "plans": [["navigate_to(kitchen)", "focus_on(painting)", "complete_task()"]],
        "why": {"served": ["open door to kitchen"], "refused": {"focus_on(painting)": "answer"}},
    },
    {
        "step": 1,
        "why": {
            "beams": [["go to hallway", "invalid"], ["go to kitchen", "taken"], ["look around", "valid"]],
        },
    },
    {"step": 2, "why": {"beams": [["examine unicorn", "invalid"]], "similarity": 0.41}},
    {
        "step": 3,
        "plans": [["focus_on(painting)", "move(painting, red box)"]],
        "endings": ["done"],
        "why": {
            "served": ["focus on painting", "focus on chair"],
            "scored": [["focus on painting", -0.105], ["focus on chair", -2.3]],
        },
    },
    {
        "step": 4,
        "plans": [["move(painting, red box)"]],
        "endings": ["failed"],
        "why": {"served": ["move painting to red box"]},
    },
]


def why_episode() -> Episode:
    """The sample episode as a hierarchical agent played it: its beams, groundings and notes."""
    episode = sample_episode()
    episode.agent = "hierarchical"
    how = [
        (None, "subgoal"),
        (["go to hallway", "go to kitchen", "look around"], "exact"),
        (["examine unicorn"], "fallback"),
        (None, "scored"),
        (None, "subgoal"),
    ]
    for step, (generated, grounding), span in zip(
        episode.steps,
        how,
        ["navigate_to(kitchen)"] * 3 + ["focus_on(painting)", "move(painting, red box)"],
        strict=True,
    ):
        step.generated, step.grounding, step.subgoal = generated, grounding, span
    episode.meta["notes"] = copy.deepcopy(NOTES)  # whole: a test that changes its copy changes no other
    return episode


def test_the_fold_carries_why_endings_and_the_planner_choice() -> None:
    state = fold(replay_events(why_episode()))
    assert state.whys[1]["beams"][0] == ["go to hallway", "invalid"]
    assert [row.ending for row in state.subgoals] == ["done", "failed", None]
    assert [(call.step, chosen) for call, chosen in state.plans_at(3)] == [(3, "focus_on(painting)")]
    text = str(render_why(state, 0))  # the planner's beams: refused with a reason, taken, passed over
    assert "⊘ focus_on(painting)  the answer, before the experiment its train plans make first" in text
    assert "✓ navigate_to(kitchen)  taken" in text and text.endswith("\n   complete_task()")
    text = str(render_why(state, 1))
    assert "step 1  go to kitchen" in text and "serving navigate_to(kitchen)" in text
    assert "✗ 1 go to hallway  not a valid action here" in text
    assert "✓ 2 go to kitchen  taken: a valid action" in text
    assert "· 3 look around  valid too; an earlier beam was taken" in text
    text = str(render_why(state, 2))
    assert "nothing was similar enough" in text and "(similarity 0.41)" in text
    text = str(render_why(state, 3))
    assert "the model scored the candidates below" in text
    assert " ✓   -0.105  focus on painting" in text and "-2.300  focus on chair" in text
    assert "✓ navigate_to(kitchen)  done: the observations show it achieved" in text
    assert "✓ focus_on(painting)  taken" in text and "move(painting, red box)" in text
    text = str(render_why(state, 4))
    assert "✗ focus_on(painting)  failed: it ran past its allowance" in text
    assert "the only valid action that serves the sub-goal" in text


@run_async
async def test_why_pane_follows_the_replay_and_the_selected_row(tmp_path: Path) -> None:
    from subgoal.tui.app import PlayApp
    from subgoal.tui.screens.replay import ReplayScreen
    from subgoal.tui.widgets.actions import ActionsLog
    from subgoal.tui.widgets.observation import ObservationPane

    path = tmp_path / "why.jsonl.gz"
    write_episodes(path, [why_episode()])
    app = PlayApp(replay=path)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, ReplayScreen))
        await pilot.press("y")
        pane = app.screen.query_one(ObservationPane)
        assert pane.view == "why" and "[b]why[/b]" in pane.border_title and "obs o" in pane.border_title
        assert "no step yet" in pane_text(app, "#observation-text")
        await pilot.press("right", "right")
        assert "✗ 1 go to hallway" in pane_text(app, "#observation-text")
        table = app.screen.query_one(ActionsLog)
        assert "↳ beam 2 (beam 1 'go to hallway' invalid)" in str(table.get_row("1")[-1])
        await pilot.press("G")
        assert "✗ focus_on(painting)  failed" in pane_text(app, "#observation-text")
        assert "✗  1 focus_on(painting)  failed" in pane_text(app, "#subgoal-lines")
        await pilot.press("up")  # the row above: the why of step 3
        assert table.cursor_row == 3
        assert "-0.105  focus on painting" in pane_text(app, "#observation-text")
        await pilot.press("down")
        assert "step 4  move painting to red box" in pane_text(app, "#observation-text")
        await pilot.press("y")  # back to the observation
        assert pane.view == "observation"


def without_notes_at_start(episode: Episode):  # type: ignore[no-untyped-def]
    """A source as a live rollout is: EpisodeStarted knows no notes yet; they come with the events."""

    def run(control: RunControl) -> Iterator[Any]:
        for event in replay_events(episode):
            if isinstance(event, EpisodeStarted):
                info = {k: v for k, v in event.info.items() if k != "notes"}
                event = dataclasses.replace(event, info=info)
            yield event

    return run


@run_async
async def test_a_saved_live_run_keeps_the_why(tmp_path: Path) -> None:
    from subgoal.tui.screens.live import LiveScreen

    episode = why_episode()
    app = live_app(lambda link: without_notes_at_start(episode), delay=0.0, save_dir=tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, LiveScreen) and app.screen.stopped)
        assert app.screen.state.whys[3]["scored"][0] == ["focus on painting", -0.105]
        await pilot.press("y")
        assert "the only valid action that serves" in pane_text(app, "#observation-text")
        await pilot.press("w")
        (saved,) = tmp_path.glob("play-*.jsonl.gz")
    (again,) = load_episodes(saved)
    assert again.meta["notes"] == NOTES
    assert fold(replay_events(again)).whys == fold(replay_events(episode)).whys


# -- help ------------------------------------------------------------------------------------------
def footer_keys(screen: Any) -> dict[str, str]:
    """What the footer offers: description -> key shown."""
    return {
        active.binding.description: screen.app.get_key_display(active.binding)
        for active in screen.active_bindings.values()
        if active.binding.show and active.enabled
    }


@run_async
async def test_help_overlay_lists_the_keys_of_each_screen(tmp_path: Path) -> None:
    from textual.widgets import DataTable

    from subgoal.tui.app import PlayApp
    from subgoal.tui.screens.help import HelpScreen
    from subgoal.tui.screens.picker import PickerScreen
    from subgoal.tui.screens.replay import ReplayScreen

    path = tmp_path / "two.jsonl.gz"
    write_episodes(path, [sample_episode(), why_episode()])
    app = PlayApp(replay=path)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, PickerScreen))
        assert {"quit", "help"} <= set(footer_keys(app.screen))
        await pilot.press("question_mark")
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen))
        rows = {str(row[1]): str(row[0]) for row in app.screen.rows}
        assert rows["filter"] == "/" and rows["quit"].split()[0] == "q"
        assert "Cursor up" not in rows  # the table's own keys are not the screen's
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, PickerScreen))
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ReplayScreen))
        assert {"quit", "help"} <= set(footer_keys(app.screen))
        await pilot.press("f1")
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen))
        help_screen = app.screen
        rows = {str(row[1]): (str(row[0]), str(row[2])) for row in help_screen.rows}
        assert rows["back"][0] == "← ,"
        assert rows["why"][0] == "y" and "candidates" in rows["why"][1]
        assert rows["next"][0] == "n"
        assert "episodes" in rows and "help" in rows
        assert help_screen.query_one(DataTable).row_count == len(rows)
        await pilot.press("right")  # keys do not reach the replay under the overlay
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("question_mark")
        await wait_until(pilot, lambda: isinstance(app.screen, ReplayScreen))
        assert app.screen.position == 0


@run_async
async def test_restart_asks_first() -> None:
    from subgoal.tui.screens.confirm import ConfirmScreen
    from subgoal.tui.screens.live import LiveScreen

    app = live_app(lambda link: replay_source(sample_episode()), delay=0.0)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, LiveScreen) and app.screen.stopped)
        screen = app.screen
        run = screen.run_id
        assert {"quit", "help", "restart"} <= set(footer_keys(screen))
        await pilot.press("r")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("x", "q")  # any other key: still asking, nothing quits
        assert isinstance(app.screen, ConfirmScreen) and app.is_running
        await pilot.press("n")
        await wait_until(pilot, lambda: app.screen is screen)
        assert screen.run_id == run and screen.state.taken == 5
        await pilot.press("r", "y")
        await wait_until(pilot, lambda: screen.run_id == run + 1)


@run_async
async def test_human_typing_never_triggers_a_shortcut() -> None:
    from subgoal.tui.screens.confirm import ConfirmScreen
    from subgoal.tui.screens.help import HelpScreen
    from subgoal.tui.screens.live import ActionInput, LiveScreen

    spec = LiveSpec("4-2", 0, "train", AgentSpec("human"))
    holder = FakeHolder()
    app = live_app(
        lambda link: rollout_source(spec, holder, registry_agent(spec, PolicyCache(), link)), human=True
    )
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, LiveScreen))
        screen = app.screen
        field = screen.query_one(ActionInput)
        run = screen.run_id
        # Typed at once, before the game is ready: every key goes into the line, none is a shortcut.
        await pilot.press(*"look r", "enter")
        await wait_until(pilot, lambda: screen.state.taken == 1)
        assert screen.state.steps[0].action == "look r" and screen.run_id == run
        await pilot.press(*"go to kitchen; q w s y v i o l ? - +")
        assert field.value == "go to kitchen; q w s y v i o l ? - +"
        assert app.is_running and isinstance(app.screen, LiveScreen) and screen.run_id == run
        assert screen.query_one("#observation").view == "observation"
        keys = footer_keys(screen)
        assert keys.get("quit") == "^q" and keys.get("help") == "f1" and keys.get("restart") == "^r", keys
        assert "pause" not in keys and "why" not in keys
        await pilot.press("f4")  # the views are on F-keys
        assert screen.query_one("#observation").view == "inventory"
        await pilot.press("f5")
        assert screen.query_one("#observation").view == "valid"
        await pilot.press("f1")
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen))
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is screen)
        assert app.focused is field
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is screen)
        assert screen.run_id == run and app.focused is field
        assert "your move" in status_text(app)


@run_async
async def test_a_live_learned_agent_fills_the_why_pane(tmp_path: Path) -> None:
    # The whole path: the agent's Decision.info -> the rollout's StepTaken.why -> the pane -> the file.
    from test_tui_app import FakePolicies, FakePolicy

    from subgoal.tui.screens.live import LiveScreen

    spec = LiveSpec("4-2", 0, "train", AgentSpec("flat", flat="flat-ckpt"))
    policies = FakePolicies(
        **{"flat-ckpt": FakePolicy("flat", ["focus on the painting", "focus on painting"])}
    )
    holder = FakeHolder()
    app = live_app(
        lambda link: rollout_source(spec, holder, registry_agent(spec, policies)),
        delay=0.0,
        save_dir=tmp_path,
    )
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, LiveScreen) and app.screen.stopped)
        assert app.screen.state.whys[0]["beams"] == [
            ["focus on the painting", "invalid"],
            ["focus on painting", "taken"],
        ]
        await pilot.press("y")
        text = pane_text(app, "#observation-text")
        assert (
            "✗ 1 focus on the painting  not a valid action here" in text and "✓ 2 focus on painting" in text
        )
        await pilot.press("w")
        (saved,) = tmp_path.glob("play-*.jsonl.gz")
    (episode,) = load_episodes(saved)
    assert episode.meta["notes"][0]["why"]["beams"][1] == ["focus on painting", "taken"]


def test_a_beam_off_the_tasks_vocabulary_says_so() -> None:
    episode = why_episode()
    episode.meta["notes"][1]["why"]["beams"][0] = ["go to hallway", "off-task"]
    text = str(render_why(fold(replay_events(episode)), 1))
    assert "⊘ 1 go to hallway  off-task: no train plan of this task acts so" in text
