"""The events of one rollout. The eval runner, the episode writer and the Textual app all consume
this one stream (and a replayed episode file is turned back into the same stream)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Union

from subgoal.engine.episode import Episode, Step


@dataclass(frozen=True)
class EpisodeStarted:
    task_id: str
    task_name: str
    variation: int
    task_description: str
    look: str
    inventory: str
    agent: str
    info: dict[str, Any] = field(default_factory=dict)  # checkpoints, step limit, ...


@dataclass(frozen=True)
class SubgoalStarted:
    number: int  # 0-based count of sub-goals so far
    name: str
    step: int  # index of the first step taken for it


@dataclass(frozen=True)
class StepTaken:
    index: int  # 0-based step index in the episode
    step: Step


@dataclass(frozen=True)
class SubgoalEnded:
    number: int
    name: str
    start: int
    end: int  # exclusive


@dataclass(frozen=True)
class EpisodeEnded:
    episode: Episode
    reason: str  # "completed" | "failed" | "step_limit" | "stalled" | "stopped" | "error"
    error: str | None = None


Event = Union[EpisodeStarted, SubgoalStarted, StepTaken, SubgoalEnded, EpisodeEnded]


def replay_events(episode: Episode) -> list[Event]:
    """The event stream of a saved episode, as a live rollout would have produced it."""
    look, inventory = episode.state_before(0)
    events: list[Event] = [
        EpisodeStarted(
            episode.task_id,
            episode.task_name,
            episode.variation,
            episode.task_description,
            look,
            inventory,
            episode.agent,
            dict(episode.meta),
        )
    ]
    spans = {span.start: (n, span) for n, span in enumerate(episode.subgoals)}
    open_span = None
    for index, step in enumerate(episode.steps):
        if index in spans:
            number, span = spans[index]
            events.append(SubgoalStarted(number, span.name, index))
            open_span = (number, span)
        events.append(StepTaken(index, step))
        if open_span and open_span[1].end == index + 1:
            number, span = open_span
            events.append(SubgoalEnded(number, span.name, span.start, span.end))
            open_span = None
    reason = "completed" if episode.solved else ("failed" if episode.final_score < 0 else "stopped")
    events.append(EpisodeEnded(episode, episode.meta.get("end_reason", reason)))
    return events
