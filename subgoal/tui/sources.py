"""Where live events come from, and how fast: the pacing a person controls, and the agents' streams.

A *source* is a callable `source(control) -> Iterator[Event]` that plays one episode. The Textual app
runs it in a worker thread through `drive`, which waits on the `RunControl` after every step, so
pause, single-step, speed and stop act between two environment steps and never inside one. The plain
printer drives the same sources with no pacing. Nothing here imports Textual.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from subgoal.engine.episode import Episode
from subgoal.engine.events import EpisodeStarted, Event, StepTaken

# Seconds between two steps, slowest to fastest; the app starts at DEFAULT_SPEED.
SPEEDS = (2.0, 1.0, 0.5, 0.25, 0.1, 0.0)
DEFAULT_SPEED = 2


class RunControl:
    """Pause, single-step, speed and stop for one run, shared by the UI thread and the worker."""

    def __init__(self, delay: float = SPEEDS[DEFAULT_SPEED], paused: bool = False):
        self._cond = threading.Condition()
        self.delay = delay
        self.paused = paused
        self.stopped = False
        self._tokens = 0
        self._on_stop: list[Callable[[], None]] = []

    def pause(self) -> None:
        with self._cond:
            self.paused = True
            self._cond.notify_all()

    def resume(self) -> None:
        with self._cond:
            self.paused = False
            self._cond.notify_all()

    def toggle(self) -> bool:
        """Pause if running, resume if paused; returns whether it is now paused."""
        with self._cond:
            self.paused = not self.paused
            self._cond.notify_all()
            return self.paused

    def step_once(self) -> None:
        """Let exactly one more step through (while paused)."""
        with self._cond:
            self._tokens += 1
            self._cond.notify_all()

    def set_delay(self, delay: float) -> None:
        with self._cond:
            self.delay = delay
            self._cond.notify_all()

    def on_stop(self, callback: Callable[[], None]) -> None:
        """Call `callback` when the run is stopped (at once if it already is): a rollout's stop()."""
        with self._cond:
            if not self.stopped:
                self._on_stop.append(callback)
                return
        callback()

    def stop(self) -> None:
        with self._cond:
            self.stopped = True
            callbacks, self._on_stop = self._on_stop, []
            self._cond.notify_all()
        for callback in callbacks:
            callback()

    def wait_turn(self) -> bool:
        """Block until the next step may be taken; False once the run is stopped."""
        with self._cond:
            deadline = time.monotonic() + self.delay
            while not self.stopped:
                if self._tokens:
                    self._tokens -= 1
                    return True
                if self.paused:
                    self._cond.wait()
                    deadline = time.monotonic() + self.delay
                    continue
                remaining = min(deadline, time.monotonic() + self.delay) - time.monotonic()
                if remaining <= 0:
                    return True
                self._cond.wait(remaining)
            return False


@dataclass(frozen=True)
class RunNote:
    """What the app knows of a live run beyond the rollout's events: the split, and the sub-goals
    planned ahead (the oracle knows its spans). Not an engine event; only this package sees it."""

    split: str = ""
    plan: tuple[str, ...] = ()


Source = Callable[[RunControl], Iterator[Any]]  # yields engine Events (and RunNotes)


def drive(source: Source, control: RunControl, emit: Callable[[Any], None]) -> None:
    """Run `source`, handing each event to `emit`, pausing per `control` before every next step."""
    events = source(control)
    try:
        for event in events:
            emit(event)
            if isinstance(event, (EpisodeStarted, StepTaken)) and not control.wait_turn():
                break
    finally:
        close = getattr(events, "close", None)
        if close:
            close()


# -- the live sources ---------------------------------------------------------------------------


@dataclass
class LiveSpec:
    """What `subgoal play` was asked to run live."""

    task_id: str
    variation: int
    split: str
    agent: str = "oracle"
    planner: str | None = None  # checkpoint folders, resolved by the command
    executor: str | None = None
    checkpoint: str | None = None
    step_limit: int = 100
    annotated: list[Any] = field(default_factory=list)  # episode files to take the oracle's sub-goals from


class SessionHolder:
    """One ScienceWorld JVM for the life of the app, lent to one run at a time (restart reuses it)."""

    def __init__(self, step_limit: int = 10_000):
        self._lock = threading.Lock()
        self._session: Any = None
        self.step_limit = step_limit

    @contextlib.contextmanager
    def lend(self) -> Iterator[Any]:
        from subgoal.engine.env import Session

        with self._lock:
            if self._session is None or not self._session.alive:
                if self._session is not None:
                    self._session.close()
                self._session = Session(step_limit=self.step_limit).start()
            yield self._session

    def close(self, wait: float = 5.0) -> None:
        """Stop the JVM, after the run that holds it lets go (or after `wait` seconds regardless)."""
        got = self._lock.acquire(timeout=wait)
        try:
            session, self._session = self._session, None
            if session is not None:
                session.close()
        finally:
            if got:
                self._lock.release()


def rollout_source(
    spec: LiveSpec, holder: SessionHolder, make_agent: Callable[[Any], tuple[Any, tuple[str, ...]]]
) -> Source:
    """A live run: `make_agent(session)` gives the agent (and any sub-goals it plans ahead), then
    the engine's Rollout plays it; stopping the run stops the rollout at its next step."""

    def run(control: RunControl) -> Iterator[Any]:
        from subgoal.engine.rollout import Rollout

        with holder.lend() as session:
            agent, plan = make_agent(session)
            yield RunNote(spec.split, plan)
            rollout = Rollout(
                agent, session, spec.task_id, spec.variation, split=spec.split, step_limit=spec.step_limit
            )
            control.on_stop(rollout.stop)
            yield from rollout

    return run


def annotated_episode(spec: LiveSpec) -> Episode | None:
    """The saved annotated episode of this task variation, if one of the given files holds it."""
    from subgoal.engine.episode import read_episodes
    from subgoal.errors import EpisodeFileError

    for path in spec.annotated:
        with contextlib.suppress(EpisodeFileError, OSError):
            for episode in read_episodes(path):
                if episode.key == (spec.task_id, spec.variation) and episode.subgoals:
                    return episode
    return None


def oracle_agent(spec: LiveSpec) -> Callable[[Any], tuple[Any, tuple[str, ...]]]:
    """The oracle with sub-goals: an annotated episode when the workspace has one, else the gold
    path collected now and split by the offline rules teacher."""

    def make(session: Any) -> tuple[Any, tuple[str, ...]]:
        from subgoal.engine.agents import OracleAgent
        from subgoal.engine.oracle import Job, replay_gold
        from subgoal.engine.teachers.rules import RulesTeacher
        from subgoal.errors import TeacherError

        episode = annotated_episode(spec)
        if episode is None:
            episode = replay_gold(session, Job(spec.task_id, spec.variation, spec.split))
            with contextlib.suppress(TeacherError):
                episode.subgoals = RulesTeacher().annotate(episode).spans
        return OracleAgent([episode]), tuple(span.name for span in episode.subgoals)

    return make


class PolicyCache:
    """Checkpoints loaded once per app (a restart reuses them); loading imports torch, so it happens
    in the worker, never at start-up."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loaded: dict[str, Any] = {}

    def get(self, path: str) -> Any:
        with self._lock:
            if path not in self._loaded:
                from subgoal.engine.models import Policy

                self._loaded[path] = Policy.load(path)
            return self._loaded[path]


def learned_agent(spec: LiveSpec, policies: PolicyCache) -> Callable[[Any], tuple[Any, tuple[str, ...]]]:
    def make(session: Any) -> tuple[Any, tuple[str, ...]]:
        from subgoal.engine.agents import FlatAgent, HierarchicalAgent
        from subgoal.errors import AgentError

        if spec.agent == "flat":
            if not spec.checkpoint:
                raise AgentError("the flat agent needs --checkpoint")
            return FlatAgent(policies.get(spec.checkpoint)), ()
        if not (spec.planner and spec.executor):
            raise AgentError("the hierarchical agent needs --planner and --executor")
        return HierarchicalAgent(policies.get(spec.planner), policies.get(spec.executor)), ()

    return make


class HumanLink:
    """Between the person typing in the app and the human agent waiting in the worker thread.

    `announce(valid_actions, hint)` is called on the worker thread before each action is awaited;
    `submit` is called on the UI thread with what the person typed."""

    def __init__(self, announce: Callable[[list[str], str | None], None]):
        self.announce = announce
        self.agent: Any = None

    def submit(self, action: str) -> None:
        if self.agent is not None:
            self.agent.submit(action)


def human_agent(
    spec: LiveSpec, link: HumanLink, policies: PolicyCache | None = None
) -> Callable[[Any], tuple[Any, tuple[str, ...]]]:
    """The person at the keyboard. With a planner checkpoint, each turn also shows the planner's
    proposal for the next sub-goal as a hint (a proposal that changes counts the old one as done)."""

    def make(session: Any) -> tuple[Any, tuple[str, ...]]:
        from subgoal.engine.agents import HumanAgent, Turn, agent_context
        from subgoal.engine.examples import render

        planner = policies.get(spec.planner) if (policies and spec.planner) else None

        class Human(HumanAgent):
            def __init__(self) -> None:
                super().__init__()
                self.completed: list[str] = []
                self.last_hint: str | None = None

            def act(self, turn: Turn):  # type: ignore[no-untyped-def]
                link.announce(turn.valid_actions(), self._hint(turn))
                return super().act(turn)

            def _hint(self, turn: Turn) -> str | None:
                if planner is None:
                    return None
                ctx = agent_context(turn.episode, turn.index, self.completed, policy=planner)
                beams = planner.generate(
                    [render("planner", ctx, budget=planner.fits)], num_beams=3, num_return=1
                )
                hint = (beams[0] or [None])[0] if beams else None
                if self.last_hint and hint != self.last_hint:
                    self.completed = [*self.completed, self.last_hint]
                self.last_hint = hint
                return hint

        agent = Human()
        link.agent = agent
        return agent, ()

    return make


@dataclass
class LiveConfig:
    """A live run as the app needs it: how to make its source (human mode: given the link the
    screen answers through), its pacing, and where to save."""

    make_source: Callable[[HumanLink | None], Source]
    human: bool = False
    delay: float = SPEEDS[DEFAULT_SPEED]
    paused: bool = False
    save_dir: Any = None  # a Path; None saves into the current folder


def replay_source(episode: Episode) -> Source:
    """A saved episode played back as if live (tests, and a stand-in agent)."""
    from subgoal.engine.events import replay_events

    def run(control: RunControl) -> Iterator[Event]:
        yield RunNote(episode.split, tuple(span.name for span in episode.subgoals))
        for event in replay_events(episode):
            if control.stopped:
                return
            yield event

    return run
