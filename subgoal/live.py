"""Live play for the viewer: a JVM session, an agent built by the registry, a policy cache, and the
rollout that plays them, handed to the app (or the plain printer) as a ready event source.

The viewer (`subgoal.tui`) only paces and draws what a source yields; everything that starts a JVM,
loads a model or builds an agent is here, and agents are built as eval builds them
(engine/agent_kinds.py), with the same checkpoint checks.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from subgoal.engine.agent_kinds import AgentSpec, load_policy
from subgoal.engine.episode import Episode
from subgoal.tui.sources import HumanLink, RunControl, RunNote, Source


@dataclass
class LiveSpec:
    """What `subgoal play` was asked to run live."""

    task_id: str
    variation: int
    split: str
    agent: AgentSpec = field(default_factory=lambda: AgentSpec("oracle"))
    step_limit: int = 100
    annotated: list[Path] = field(default_factory=list)  # episode files to take the oracle's sub-goals from


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


class PolicyCache:
    """Checkpoints loaded once per app (a restart reuses them), as eval loads them (their files were
    checked by `AgentSpec.check` before the app started); loading imports torch, so it happens in
    the worker, never at start-up."""

    def __init__(self, device: str | None = None) -> None:
        self._lock = threading.Lock()
        self._loaded: dict[str, Any] = {}
        self.device = device

    def get(self, path: str, role: str) -> Any:
        """The policy at `path` (a PolicyFor: the agent it is built for checks its role)."""
        with self._lock:
            if path not in self._loaded:
                self._loaded[path] = load_policy(path, self.device)
            return self._loaded[path]


MakeAgent = Callable[[Any], tuple[Any, tuple[str, ...]]]  # session -> (agent, sub-goals planned ahead)


def rollout_source(spec: LiveSpec, holder: SessionHolder, make_agent: MakeAgent) -> Source:
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


def registry_agent(spec: LiveSpec, policies: PolicyCache, link: HumanLink | None = None) -> MakeAgent:
    """The agent the registry builds for `spec.agent`, its policies from the cache. The oracle is
    given its sub-goals (an annotated episode when the workspace has one, else the gold path
    collected now and split by the offline rules teacher) so the app can show its plan ahead; a
    person at the keyboard is joined to the app through `link`."""

    def make(session: Any) -> tuple[Any, tuple[str, ...]]:
        agent = spec.agent.build(policies.get)
        plan: tuple[str, ...] = ()
        if spec.agent.kind == "oracle" and not spec.agent.oracle_file:
            episode = _oracle_episode(spec, session)
            agent.episodes[episode.key] = episode
            plan = tuple(span.name for span in episode.subgoals)
        if link is not None:
            agent.announce = link.announce
            link.agent = agent
        return agent, plan

    return make


def _oracle_episode(spec: LiveSpec, session: Any) -> Episode:
    from subgoal.engine.oracle import Job, replay_gold
    from subgoal.engine.teachers.rules import RulesTeacher
    from subgoal.errors import TeacherError

    episode = annotated_episode(spec)
    if episode is None:
        episode = replay_gold(session, Job(spec.task_id, spec.variation, spec.split))
        with contextlib.suppress(TeacherError):
            episode.subgoals = RulesTeacher().annotate(episode).spans
    return episode
