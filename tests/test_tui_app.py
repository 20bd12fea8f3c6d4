"""The Textual app under Pilot: replay navigation, the picker, error screens, live runs (a real
ScienceWorld JVM for the oracle; scripted sources for pacing, errors and human play)."""

from __future__ import annotations

import asyncio
import functools
import gzip
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from subgoal.engine.agent_kinds import AgentSpec
from subgoal.engine.env import StepResult
from subgoal.engine.episode import Episode, Step, SubgoalSpan, load_episodes, write_episodes
from subgoal.engine.events import EpisodeStarted
from subgoal.engine.tasks import get_task
from subgoal.live import LiveSpec, PolicyCache, SessionHolder, registry_agent, rollout_source
from subgoal.tui.sources import LiveConfig, RunControl, replay_source

HALLWAY = (
    "This room is called the hallway. In it, you see: \n\tthe agent\n\ta substance called air\n"
    "\ta picture\nYou also see:\n\tA door to the art studio (that is open)\n"
    "\tA door to the kitchen (that is open)"
)
KITCHEN = (
    "This room is called the kitchen. In it, you see: \n\tthe agent\n\ta substance called air\n"
    "\ta chair. On the chair is: nothing.\n\ta painting\n\ta red box (containing nothing)\n"
    "You also see:\n\tA door to the hallway (that is open)"
)
INVENTORY = "In your inventory, you see:\n\tan orange\n"


def sample_episode() -> Episode:
    """4-2 variation 0 as the oracle plays it, with sub-goals and one grounded generation: fixed
    text, so that screenshots do not depend on the simulator."""

    def step(action: str, observation: str, score: int, reward: int, look: str, **kw: Any) -> Step:
        return Step(action, observation, score, reward, look=look, inventory=INVENTORY, **kw)

    return Episode(
        task_id="4-2",
        task_name="find-non-living-thing",
        variation=0,
        split="train",
        task_description="Your task is to find a(n) non-living thing. First, focus on the thing. "
        "Then, move it to the red box in the kitchen.",
        initial_look=HALLWAY,
        initial_inventory=INVENTORY,
        steps=[
            step("open door to kitchen", "The door is already open.", 8, 8, HALLWAY),
            step("go to kitchen", "You move to the kitchen.", 25, 17, KITCHEN),
            step("look around", KITCHEN, 25, 0, KITCHEN),
            step(
                "focus on painting",
                "You focus on the painting.",
                75,
                50,
                KITCHEN,
                generated=["focus on the painting", "focus on chair"],
                grounding="fuzzy",
            ),
            step(
                "move painting to red box",
                "You move the painting to the red box.",
                100,
                25,
                KITCHEN,
                done=True,
            ),
        ],
        subgoals=[
            SubgoalSpan("navigate_to(kitchen)", 0, 3),
            SubgoalSpan("focus_on(painting)", 3, 4),
            SubgoalSpan("move(painting, red box)", 4, 5),
        ],
        agent="oracle",
        meta={"seconds": 1.5, "end_reason": "completed"},
    )


def run_async(test: Callable[..., Any]) -> Callable[..., Any]:
    """Run an async test in its own event loop (no pytest async plugin needed)."""

    @functools.wraps(test)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return asyncio.run(test(*args, **kwargs))

    return wrapper


class FrozenClock:
    """An elapsed clock that only moves when told (screenshots must not show a running clock)."""

    def __init__(self, now: float = 1000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


async def wait_until(pilot: Any, condition: Callable[[], bool], timeout: float = 60.0) -> None:
    """Let the app run until `condition()` holds (and the current screen is mounted)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not (pilot.app.screen.is_mounted and condition()):
        if loop.time() > deadline:
            raise AssertionError("timed out waiting for the app")
        await pilot.pause(0.05)
    await pilot.pause()


def status_text(app: Any) -> str:
    from subgoal.tui.widgets.status import StatusBar

    return str(app.screen.query_one(StatusBar).render())


def pane_text(app: Any, selector: str) -> str:
    from textual.widgets import Static

    return str(app.screen.query_one(selector, Static).render())


def rules_annotated(episodes: list[Episode]) -> list[Episode]:
    from subgoal.engine.teachers.rules import RulesTeacher

    teacher = RulesTeacher()
    out = []
    for ep in episodes:
        copy = Episode.from_json(ep.to_json())
        copy.subgoals = teacher.annotate(copy).spans
        out.append(copy)
    return out


def live_app(source_factory: Callable[[Any], Any], **config: Any) -> Any:
    from subgoal.tui.app import PlayApp

    return PlayApp(live=LiveConfig(source_factory, **config), clock=FrozenClock())


# -- replay --------------------------------------------------------------------------------------
@run_async
async def test_replay_navigation_moves_between_steps_and_subgoals(tmp_path: Path) -> None:
    from subgoal.tui.app import PlayApp
    from subgoal.tui.screens.replay import ReplayScreen
    from subgoal.tui.widgets.actions import ActionsLog

    path = tmp_path / "one.jsonl.gz"
    write_episodes(path, [sample_episode()])
    app = PlayApp(replay=path)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, ReplayScreen))
        screen = app.screen
        assert screen.position == 0 and screen.state.taken == 0
        assert "next navigate_to(kitchen)" in pane_text(app, "#subgoal-lines")
        await pilot.press("right")
        assert screen.position == 1 and screen.query_one(ActionsLog).row_count == 1
        assert "▶  1 navigate_to(kitchen)" in pane_text(app, "#subgoal-lines")
        await pilot.press("n")  # to the end of the first sub-goal
        assert screen.position == 3
        assert "✓  3 navigate_to(kitchen)" in pane_text(app, "#subgoal-lines")
        assert "next focus_on(painting)" in pane_text(app, "#subgoal-lines")
        await pilot.press("n")
        assert screen.position == 4 and screen.state.score == 75
        await pilot.press("p", "p")
        assert screen.position == 0
        await pilot.press("G")
        assert screen.position == 5 and screen.state.finished and screen.state.score == 100
        assert "step 5/5" in status_text(app) and "score 100" in status_text(app)
        assert screen.query_one(ActionsLog).row_count == 5
        await pilot.press("left")
        assert screen.position == 4 and not screen.state.finished
        assert screen.query_one(ActionsLog).row_count == 4
        await pilot.press("g")
        assert screen.position == 0 and screen.query_one(ActionsLog).row_count == 0
        # look and inventory are one key away
        await pilot.press("right", "l")
        assert "This room is called the hallway" in pane_text(app, "#observation-text")
        await pilot.press("i")
        assert "an orange" in pane_text(app, "#observation-text")
        await pilot.press("i")
        assert pane_text(app, "#observation-text") == "The door is already open."


@run_async
async def test_picker_filters_and_opens_real_oracle_episodes(oracle_episodes, tmp_path: Path) -> None:
    from textual.widgets import DataTable, Input

    from subgoal.tui.app import PlayApp
    from subgoal.tui.screens.picker import PickerScreen
    from subgoal.tui.screens.replay import ReplayScreen

    path = tmp_path / "annotated.jsonl.gz"
    episodes = rules_annotated(oracle_episodes)
    write_episodes(path, episodes)
    app = PlayApp(replay=path)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, PickerScreen))
        table = app.screen.query_one("#episodes", DataTable)
        assert table.row_count == len(episodes)
        await pilot.press("slash", *"7-1")
        assert app.screen.query_one("#task-filter", Input).value == "7-1"
        assert table.row_count == sum(ep.task_id == "7-1" for ep in episodes)
        await pilot.press("escape", "enter")  # back to the list, open the first
        await wait_until(pilot, lambda: isinstance(app.screen, ReplayScreen))
        replay = app.screen
        assert replay.episode.task_id == "7-1"
        await pilot.press("G")
        assert replay.state.score == 100 and replay.state.finished
        assert all(row.done for row in replay.state.subgoals)
        assert len(replay.state.subgoals) == len(replay.episode.subgoals) >= 1
        await pilot.press("e")  # back to the picker, filter kept
        await wait_until(pilot, lambda: isinstance(app.screen, PickerScreen))
        assert app.screen.query_one("#episodes", DataTable).row_count == table.row_count


def test_picker_filter_rules(oracle_episodes) -> None:
    from subgoal.tui.screens.picker import filter_episodes

    eps = list(oracle_episodes)
    assert filter_episodes(eps, "", "any") == list(range(len(eps)))
    assert [eps[i].task_id for i in filter_episodes(eps, "4-*", "any")] == ["4-2", "4-2"]
    assert [eps[i].task_id for i in filter_episodes(eps, "lifespan", "solved")] == ["7-1"]
    assert filter_episodes(eps, "", "zero") == []
    failed = Episode.from_json(eps[0].to_json())
    failed.steps[-1].score = -100
    assert filter_episodes([*eps, failed], "4-2", "zero") == [len(eps)]


@pytest.mark.parametrize("damage", ["truncated", "garbage", "bad json"])
@run_async
async def test_broken_file_shows_error_screen(oracle_file: Path, tmp_path: Path, damage: str) -> None:
    from subgoal.tui.app import PlayApp
    from subgoal.tui.screens.error import ErrorScreen
    from subgoal.tui.screens.picker import PickerScreen

    data = oracle_file.read_bytes()
    path = tmp_path / "broken.jsonl.gz"
    if damage == "truncated":  # the last episode's gzip member cut short: the others are intact
        path.write_bytes(data[:-40])
    elif damage == "garbage":
        path.write_bytes(b"\x1f\x8b" + bytes(range(256)) * 4)
    else:
        path.write_bytes(gzip.compress(b'{"format": "subgoal.episode", "steps": [\n'))
    app = PlayApp(replay=path)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, ErrorScreen))
        message = pane_text(app, "#error-message")
        assert str(path) in message
        if damage == "truncated":
            intact = len(load_episodes(oracle_file)) - 1
            assert len(app.screen.intact) == intact
            await pilot.press("o")
            await wait_until(pilot, lambda: isinstance(app.screen, PickerScreen))
        else:
            assert not app.screen.intact
            await pilot.press("q")
            assert app.return_code == 2  # as `--plain` exits on the same file


@run_async
async def test_episode_number_out_of_range(tmp_path: Path) -> None:
    from subgoal.tui.app import PlayApp
    from subgoal.tui.screens.error import ErrorScreen

    path = tmp_path / "one.jsonl.gz"
    write_episodes(path, [sample_episode()])
    app = PlayApp(replay=path, episode=3)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, ErrorScreen))
        assert "numbered 0 to 0" in pane_text(app, "#error-message")


# -- live, scripted ------------------------------------------------------------------------------
@run_async
async def test_pause_single_step_resume_and_restart() -> None:
    from subgoal.tui.screens.confirm import ConfirmScreen
    from subgoal.tui.screens.live import LiveScreen
    from subgoal.tui.widgets.actions import ActionsLog

    episode = sample_episode()
    app = live_app(lambda link: replay_source(episode), paused=True, delay=0.0)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, LiveScreen) and app.screen.state.started)
        screen = app.screen
        await pilot.pause(0.3)
        assert screen.state.taken == 0 and "paused" in status_text(app)
        assert "next navigate_to(kitchen)" in pane_text(app, "#subgoal-lines")
        await pilot.press("s")
        await wait_until(pilot, lambda: screen.state.taken == 1)
        await pilot.pause(0.3)
        assert screen.state.taken == 1  # one step, then paused again
        await pilot.press("s")
        await wait_until(pilot, lambda: screen.state.taken == 2)
        await pilot.press("space")
        await wait_until(pilot, lambda: screen.state.finished)
        assert screen.state.score == 100 and screen.query_one(ActionsLog).row_count == 5
        assert "completed" in status_text(app)
        first_run = screen.run_id
        await pilot.press("r")  # asks first
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        await wait_until(pilot, lambda: screen.run_id == first_run + 1 and screen.state.started)
        assert screen.state.taken == 0  # a fresh episode, paused again
        await pilot.press("space")
        await wait_until(pilot, lambda: screen.state.finished)
        assert screen.state.taken == 5


@run_async
async def test_speed_keys_change_the_delay() -> None:
    from subgoal.tui.screens.live import LiveScreen

    app = live_app(lambda link: replay_source(sample_episode()), paused=True, delay=0.5)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, LiveScreen))
        screen = app.screen
        await pilot.press("plus")
        assert screen.delay < 0.5 and screen.control.delay == screen.delay
        await pilot.press("minus", "minus")
        assert screen.delay > 0.5
        assert f"{screen.delay:g}s/step" in status_text(app)


def broken_source(control: RunControl) -> Iterator[Any]:
    ep = sample_episode()
    yield EpisodeStarted(ep.task_id, ep.task_name, 0, ep.task_description, HALLWAY, INVENTORY, "oracle", {})
    raise RuntimeError("the model fell over")


@run_async
async def test_worker_error_is_a_notification_not_a_crash() -> None:
    from subgoal.tui.screens.live import LiveScreen

    app = live_app(lambda link: broken_source, delay=0.0)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, LiveScreen) and app.screen.failure is not None)
        assert "RuntimeError: the model fell over" in app.screen.failure
        assert any("the model fell over" in n.message for n in app._notifications)
        assert "error" in status_text(app)
        assert app.is_running


@run_async
async def test_save_writes_the_episode(tmp_path: Path) -> None:
    from subgoal.tui.screens.live import LiveScreen

    app = live_app(lambda link: replay_source(sample_episode()), delay=0.0, save_dir=tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, LiveScreen) and app.screen.state.finished)
        await pilot.press("w")
        saved = list(tmp_path.glob("play-4-2-v0-oracle-*.jsonl.gz"))
        assert len(saved) == 1
        (episode,) = load_episodes(saved[0])
        assert episode.solved and len(episode.steps) == 5
        assert [s.name for s in episode.subgoals] == [s.name for s in sample_episode().subgoals]


class FakeSession:
    """Just enough of env.Session for a human to play 4-2: focusing on the painting wins."""

    VALID = ("look around", "go to kitchen", "focus on painting", "focus on chair")

    def __init__(self) -> None:
        self.task, self.score = None, 0

    def load(self, task: Any, variation: int, gold: bool = False) -> None:
        self.task = get_task(task) if isinstance(task, str) else task

    def task_description(self) -> str:
        return sample_episode().task_description

    def look(self) -> str:
        return HALLWAY

    def inventory(self) -> str:
        return INVENTORY

    def valid_actions(self) -> list[str]:
        return list(self.VALID)

    def step(self, action: str) -> StepResult:
        old, self.score = self.score, 100 if action == "focus on painting" else self.score
        return StepResult(f"you did {action}", self.score, self.score - old, self.score >= 100, 1)


class FakeHolder(SessionHolder):
    def lend(self):  # type: ignore[no-untyped-def]
        import contextlib

        return contextlib.nullcontext(FakeSession())


@run_async
async def test_human_types_actions_with_completion() -> None:
    from subgoal.tui.screens.live import ActionInput, LiveScreen
    from subgoal.tui.widgets.observation import ObservationPane

    spec = LiveSpec("4-2", 0, "train", AgentSpec("human"))
    holder = FakeHolder()
    app = live_app(
        lambda link: rollout_source(spec, holder, registry_agent(spec, PolicyCache(), link)), human=True
    )
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, LiveScreen))
        field = app.screen.query_one(ActionInput)
        await wait_until(pilot, lambda: not field.disabled)
        assert "your move" in status_text(app)
        await pilot.press(*"look", "enter")
        await wait_until(pilot, lambda: app.screen.state.taken == 1)
        assert app.screen.state.steps[0].action == "look"
        await wait_until(pilot, lambda: not field.disabled)
        await pilot.press("v")  # typed into the field, not a view switch
        assert field.value == "v"
        await pilot.press("backspace", *"focus on p", "tab")
        assert field.value == "focus on painting"
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.screen.state.finished)
        assert app.screen.state.score == 100 and app.screen.state.end_reason == "completed"
        assert app.screen.query_one(ObservationPane)._valid == list(FakeSession.VALID)


# -- live, real JVM -------------------------------------------------------------------------------
@pytest.mark.jvm
@run_async
async def test_live_oracle_runs_to_100_and_the_panes_show_it() -> None:
    from subgoal.tui.screens.live import LiveScreen
    from subgoal.tui.widgets.actions import ActionsLog
    from subgoal.tui.widgets.score import ScoreChart

    spec = LiveSpec("4-2", 0, "train")
    holder = SessionHolder()
    try:
        app = live_app(
            lambda link: rollout_source(spec, holder, registry_agent(spec, PolicyCache())), delay=0.0
        )
        async with app.run_test(size=(100, 30)) as pilot:
            await wait_until(pilot, lambda: isinstance(app.screen, LiveScreen) and app.screen.stopped, 120)
            screen = app.screen
            assert screen.failure is None
            state = screen.state
            assert state.score == 100 and state.end_reason == "completed"
            assert screen.query_one(ActionsLog).row_count == state.taken == len(state.steps) >= 3
            status = status_text(app)
            assert "4-2" in status and "find-non-living-thing" in status and "score 100" in status
            stack = pane_text(app, "#subgoal-lines")
            assert stack.count("✓") == len(state.subgoals) >= 2  # the rules teacher's sub-goals, all done
            assert "navigate_to(kitchen)" in stack
            assert "100 / 100" in pane_text(app, "#score-now")
            assert screen.query_one(ScoreChart)._scores[-1] == 100
            assert pane_text(app, "#observation-text") == state.steps[-1].observation
            assert "non-living thing" in str(screen.query_one("#task").render())
    finally:
        holder.close()
    assert holder._session is None


class FakePolicy:
    """A stand-in for a trained checkpoint: always proposes the same texts."""

    def __init__(self, role: str, beams: list[str]):
        self.role, self.beams = role, beams
        self.manifest = {"role": role, "name": f"{role}-fake"}

    def generate(
        self,
        inputs: list[str],
        num_beams: int = 5,
        num_return: int = 5,
        max_new_tokens: int = 32,
        allowed=None,
    ):  # type: ignore[no-untyped-def]
        if allowed is not None:
            return [[b for b in self.beams if b in ok] or ok[:1] for ok in allowed]
        return [list(self.beams[:num_return]) for _ in inputs]

    def fits(self, text: str) -> bool:
        return True


class FakePolicies:
    def __init__(self, **by_path: FakePolicy):
        self.by_path = by_path

    def get(self, path: str, role: str) -> FakePolicy:
        return self.by_path[path]


@run_async
async def test_learned_agent_shows_generated_text_and_grounding() -> None:
    from subgoal.tui.screens.live import LiveScreen

    spec = LiveSpec("4-2", 0, "train", AgentSpec("flat", flat="flat-ckpt"))
    policies = FakePolicies(
        **{"flat-ckpt": FakePolicy("flat", ["focus on the painting", "focus on painting"])}
    )
    holder = FakeHolder()
    app = live_app(lambda link: rollout_source(spec, holder, registry_agent(spec, policies)), delay=0.0)
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, LiveScreen) and app.screen.stopped)
        state = app.screen.state
        assert state.score == 100 and state.steps[0].action == "focus on painting"
        # A focus is never grounded fuzzily: the second beam, an exact valid action, is taken.
        assert state.steps[0].generated[0] == "focus on the painting" and state.steps[0].grounding == "exact"
        assert "flat flat-fake" in status_text(app) and "agent flat" in status_text(app)
        assert "rules task" in status_text(app)  # the level it played at (a spec without one: every rule)
        table = app.screen.query_one("ActionsLog")
        # Beam 2 was taken; beam 1 is named with what was wrong with it.
        assert "↳ beam 2 (beam 1 'focus on the painting' invalid)" in str(table.get_row("0")[-1])


@run_async
async def test_human_sees_the_planner_hint() -> None:
    from subgoal.tui.screens.live import ActionInput, LiveScreen

    spec = LiveSpec("4-2", 0, "train", AgentSpec("human", planner="planner-ckpt"))
    policies = FakePolicies(**{"planner-ckpt": FakePolicy("planner", ["focus_on(painting)"])})
    holder = FakeHolder()
    app = live_app(
        lambda link: rollout_source(spec, holder, registry_agent(spec, policies, link)), human=True
    )
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, LiveScreen))
        await wait_until(pilot, lambda: not app.screen.query_one(ActionInput).disabled)
        assert "hint focus_on(painting)" in pane_text(app, "#subgoal-lines")


@run_async
async def test_hierarchical_agent_shows_the_planner_proposals() -> None:
    from subgoal.engine.examples import COMPLETE_TASK
    from subgoal.tui.screens.live import LiveScreen

    spec = LiveSpec(
        "4-2", 0, "train", AgentSpec("hierarchical", planner="planner-ckpt", executor="executor-ckpt")
    )
    beams = ["focus_on(painting)", "navigate_to(kitchen)", COMPLETE_TASK]
    policies = FakePolicies(
        **{
            "planner-ckpt": FakePolicy("planner", beams),
            "executor-ckpt": FakePolicy("executor", ["look around"]),
        }
    )
    holder = FakeHolder()
    app = live_app(lambda link: rollout_source(spec, holder, registry_agent(spec, policies)), paused=True)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, LiveScreen) and app.screen.state.started)
        await pilot.press("s")
        await wait_until(pilot, lambda: app.screen.state.taken == 1)
        stack = pane_text(app, "#subgoal-lines")
        assert "▶  1 focus_on(painting)" in stack
        assert f"or navigate_to(kitchen) · {COMPLETE_TASK}" in stack  # the planner's other beams
        assert app.screen.state.subgoals[0].alternatives == beams[1:]
        partial = app.screen.state.to_episode()

    # A planner that proposes only complete_task() ends the episode: the proposal stays as next.
    policies.by_path["planner-ckpt"] = FakePolicy("planner", [COMPLETE_TASK])
    app = live_app(lambda link: rollout_source(spec, holder, registry_agent(spec, policies)), delay=0.0)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, LiveScreen) and app.screen.stopped)
        state = app.screen.state
        assert state.end_reason == "agent_done" and state.proposal == COMPLETE_TASK
        assert f"next {COMPLETE_TASK}" in pane_text(app, "#subgoal-lines")
        ended = state.to_episode()
    # Saved from the app, an episode keeps the proposals, and its replay shows what live play did.
    from subgoal.tui.state import ReplayCursor

    cursor = ReplayCursor(Episode.from_json(partial.to_json()))
    assert cursor.state().proposal is None and not cursor.state().subgoals  # not before the step
    cursor.end()
    assert cursor.state().subgoals[0].alternatives == beams[1:]
    cursor = ReplayCursor(Episode.from_json(ended.to_json()))
    assert cursor.length == 0 and cursor.state().proposal == COMPLETE_TASK and cursor.state().finished
