"""Messages the workers post to the screens. Each carries the id of the run it belongs to, so that
a restarted run never sees the stragglers of the one it replaced."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from subgoal.engine.episode import Episode
from subgoal.engine.events import Event


@dataclass
class EngineEvent(Message):
    """One rollout event from the live worker."""

    run_id: int
    event: Event


@dataclass
class RunStopped(Message):
    """The live worker returned (the episode ended, or the run was stopped)."""

    run_id: int


@dataclass
class RunFailed(Message):
    """The live worker raised; the app has already told the person."""

    run_id: int
    error: str


@dataclass
class ActionWanted(Message):
    """Human mode: the environment waits for an action."""

    run_id: int
    valid_actions: list[str]
    hint: str | None


@dataclass
class EpisodesLoaded(Message):
    """The replay file is read."""

    episodes: list[Episode]
