"""One episode: the only place an agent meets an environment.

`Rollout` is an iterator of events (events.py). The eval runner drains it in a worker process, the
TUI drains it on a worker thread and may call `stop()` from its own thread; the episode it built
comes last, in EpisodeEnded, ready for EpisodeWriter. Nothing here knows who is watching.

The protocol lives here: an episode ends when the simulator says so (score 100 or a failure), after
`step_limit` steps (100 in evaluation), after `stall_limit` steps in a row without a score change
(50), or when the agent ends it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from subgoal.engine.agents import Agent, Turn
from subgoal.engine.env import EVAL_STEP_LIMIT, STALL_LIMIT, Session, begin_episode, take_step
from subgoal.engine.episode import Episode, Step, SubgoalSpan
from subgoal.engine.events import (
    EpisodeEnded,
    EpisodeStarted,
    Event,
    StepTaken,
    SubgoalEnded,
    SubgoalProposed,
    SubgoalStarted,
    proposals,
)
from subgoal.engine.tasks import Task, get_task
from subgoal.errors import SubgoalError


class Rollout:
    """Iterate it once for the events of one episode; `stop()` (any thread) ends it at the next step.

    With `on_error="raise"` (the eval pool's choice: it restarts the JVM and retries) a crash
    propagates; with `"end"` (a viewer's choice) the stream ends with EpisodeEnded(reason="error").
    """

    def __init__(
        self,
        agent: Agent,
        session: Session,
        task: Task | str,
        variation: int,
        *,
        split: str | None = None,
        step_limit: int = EVAL_STEP_LIMIT,
        stall_limit: int | None = STALL_LIMIT,
        on_error: str = "raise",
        info: dict[str, Any] | None = None,
    ):
        self.agent = agent
        self.session = session
        self.task = get_task(task) if isinstance(task, str) else task
        self.variation = variation
        self.split = split or self.task.split_of(variation)
        self.step_limit = step_limit
        self.stall_limit = stall_limit
        self.on_error = on_error
        self.extra_info = dict(info or {})
        self.episode: Episode | None = None
        self.gen_seconds = 0.0  # time inside the agent (model generation, grounding)
        self.env_seconds = 0.0  # time inside the simulator (steps, look, inventory, valid actions)
        self._stop = threading.Event()
        self._started = False
        self._open: tuple[int, SubgoalSpan] | None = None  # the sub-goal in progress (number, span)
        self._proposed: list[SubgoalProposed] = []  # this decision's planner calls not yet reported

    def stop(self) -> None:
        self._stop.set()
        self.agent.interrupt()

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

    def __iter__(self) -> Iterator[Event]:
        if self._started:
            raise RuntimeError("a Rollout runs once; make a new one for the next episode")
        self._started = True
        return self._events()

    def run(self) -> Episode:
        """Drain the events; the finished episode."""
        for _ in self:
            pass
        assert self.episode is not None
        return self.episode

    # -- the loop ----------------------------------------------------------------------------
    def _events(self) -> Iterator[Event]:
        started = time.perf_counter()
        try:
            yield self._start()
        except SubgoalError as exc:
            if self.on_error == "raise":
                raise
            yield self._end("error", started, str(exc))
            return
        try:
            reason = yield from self._play()
        except SubgoalError as exc:
            if self.on_error == "raise":
                raise
            yield from self._close_open()
            yield from self._flush_proposed()
            yield self._end("error", started, str(exc))
            return
        yield from self._close_open()
        yield from self._flush_proposed()
        yield self._end(reason, started)

    def _start(self) -> EpisodeStarted:
        t0 = time.perf_counter()
        session, task = self.session, self.task
        wants_gold = self.agent.wants_gold(task.id, self.variation)
        session.load(task, self.variation, gold=wants_gold)
        gold = session.gold_path() if wants_gold else None
        meta = {**self.agent.info(), **self.extra_info, "step_limit": self.step_limit}
        episode = begin_episode(session, task, self.variation, self.split, self.agent.name, meta)
        self.env_seconds += time.perf_counter() - t0
        self.agent.reset(episode, gold)
        self.episode = episode
        return EpisodeStarted(
            task.id,
            task.name,
            self.variation,
            episode.task_description,
            episode.initial_look,
            episode.initial_inventory,
            self.agent.name,
            dict(episode.meta),
        )

    def _play(self) -> Iterator[Event]:
        episode = self.episode
        assert episode is not None
        quiet = 0  # steps in a row without a score change
        while True:
            if self.stopped:
                return "stopped"
            if len(episode.steps) >= self.step_limit:
                return "step_limit"
            turn = Turn(episode, self._valid_actions_once())
            t0 = time.perf_counter()
            env_before = self.env_seconds
            decision = self.agent.act(turn)
            self.gen_seconds += time.perf_counter() - t0 - (self.env_seconds - env_before)
            if self.stopped:
                return "stopped"
            if decision.info:  # e.g. the planner's beams: kept for whoever studies the episode
                episode.meta.setdefault("notes", []).append({"step": len(episode.steps), **decision.info})
            # Each planner call is reported before the sub-goal taken from it (see _begin).
            self._proposed = proposals(len(episode.steps), decision.info)
            endings = list(decision.info.get("endings") or ())  # in the order of decision.closed
            for number, name in enumerate(decision.closed):
                yield from self._close(name, endings[number] if number < len(endings) else None)
            if decision.action is None:
                return "agent_done"
            if decision.subgoal is not None:
                yield from self._begin(decision.subgoal)
            yield from self._flush_proposed()
            step = self._step(decision.action)
            step.generated, step.grounding = decision.generated, decision.grounding
            step.subgoal = decision.subgoal
            episode.steps.append(step)
            yield StepTaken(len(episode.steps) - 1, step, decision.info.get("why"))
            quiet = 0 if step.reward else quiet + 1
            if step.done:
                if step.score >= 100:
                    return "completed"
                return "failed" if step.score < 0 else "step_limit"
            if self.stall_limit is not None and quiet >= self.stall_limit:
                return "stalled"

    def _step(self, action: str) -> Step:
        t0 = time.perf_counter()
        step = take_step(self.session, action)
        self.env_seconds += time.perf_counter() - t0
        return step

    def _valid_actions_once(self) -> Callable[[], list[str]]:
        cache: list[list[str]] = []

        def valid_actions() -> list[str]:
            if not cache:
                t0 = time.perf_counter()
                cache.append(self.session.valid_actions())
                self.env_seconds += time.perf_counter() - t0
            return cache[0]

        return valid_actions

    # -- sub-goal spans ----------------------------------------------------------------------
    def _begin(self, name: str) -> Iterator[Event]:
        if self._open is not None and self._open[1].name == name:
            return  # the same sub-goal goes on
        yield from self._close_open()
        episode = self.episode
        assert episode is not None
        index = len(episode.steps)
        if self._proposed:
            yield self._proposed.pop(0)
        span = SubgoalSpan(name, index, index)
        episode.subgoals.append(span)
        self._open = (len(episode.subgoals) - 1, span)
        yield SubgoalStarted(len(episode.subgoals) - 1, name, index)

    def _close(self, name: str, ending: str | None = None) -> Iterator[Event]:
        """The agent ended sub-goal `name`: the open one, or one it ended before taking a step."""
        if self._open is None:
            yield from self._begin(name)
        yield from self._close_open(ending)

    def _flush_proposed(self) -> Iterator[Event]:
        """Planner calls that started no sub-goal (the planner ended the episode)."""
        proposed, self._proposed = self._proposed, []
        yield from proposed

    def _close_open(self, ending: str | None = None) -> Iterator[Event]:
        if self._open is None:
            return
        episode = self.episode
        assert episode is not None
        number, span = self._open
        span.end = len(episode.steps)
        self._open = None
        yield SubgoalEnded(number, span.name, span.start, span.end, ending)

    def _end(self, reason: str, started: float, error: str | None = None) -> EpisodeEnded:
        episode = self.episode
        if episode is None:  # failed before the episode existed (the load itself)
            task = self.task
            episode = Episode(task.id, task.name, self.variation, self.split, "", agent=self.agent.name)
            self.episode = episode
        episode.meta.update(
            end_reason=reason,
            gen_seconds=round(self.gen_seconds, 4),
            env_seconds=round(self.env_seconds, 4),
            seconds=round(time.perf_counter() - started, 4),
        )
        if error:
            episode.meta["error"] = error
        return EpisodeEnded(episode, reason, error)


def run_episode(agent: Agent, session: Session, task: Task | str, variation: int, **options: Any) -> Episode:
    """Play one episode to its end and return it (no events)."""
    return Rollout(agent, session, task, variation, **options).run()
