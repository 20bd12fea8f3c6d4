"""The events of one rollout. The eval runner, the episode writer and the Textual app all consume
this one stream (and a replayed episode file is turned back into the same stream by `replay_events`).

Order within an episode: EpisodeStarted, then for each step StepTaken, with SubgoalStarted before
the first step of a sub-goal and SubgoalEnded after its last; EpisodeEnded closes the stream.
A sub-goal the agent closed without taking a step (start == end) is reported too, Started then
Ended, so a viewer sees every sub-goal the planner proposed.

A hierarchical agent's planner calls (Decision.info["plans"], kept in Episode.meta["notes"]) come as
SubgoalProposed, each just before the SubgoalStarted of the sub-goal taken from it; one that started
nothing (the planner ended the episode) comes before EpisodeEnded. Consumers that do not know the
kind may skip it: nothing else in the stream depends on it.

What a learned agent noted about a decision reaches the viewer the same way, live and replayed:
StepTaken.why is how the action was chosen among its candidates (Decision.info["why"]), and
SubgoalEnded.ending how the sub-goal closed (Decision.info["endings"]: done, failed, ended,
exhausted); both None when the agent said nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Union

from subgoal.engine.episode import Episode, Step

# Why an episode ended (EpisodeEnded.reason and Episode.meta["end_reason"]).
END_REASONS = {
    "completed": "the task was completed (score 100)",
    "failed": "the simulator ended the task as failed (negative score)",
    "step_limit": "the step limit was reached",
    "stalled": "too many steps without a score change",
    "agent_done": "the agent ended the episode (e.g. the planner said complete_task())",
    "stopped": "stopped from outside (Ctrl-C, the viewer, a shutdown)",
    "error": "the environment or the agent failed",
}


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
class SubgoalProposed:
    """One planner call: its beams, best first, asked before step `step` was taken."""

    step: int
    beams: tuple[str, ...]

    @property
    def proposal(self) -> str | None:
        """The planner's best proposal (the agent may take a later beam, e.g. over complete_task())."""
        return self.names[0] if self.names else None

    @property
    def names(self) -> tuple[str, ...]:
        """The non-empty beams, best first, without repeats."""
        return tuple(dict.fromkeys(b for b in self.beams if b))


@dataclass(frozen=True)
class StepTaken:
    index: int  # 0-based step index in the episode
    step: Step
    why: dict[str, Any] | None = None  # the decision's candidates and verdicts (agents._from_beams)


@dataclass(frozen=True)
class SubgoalEnded:
    number: int
    name: str
    start: int
    end: int  # exclusive
    ending: str | None = None  # done / failed / ended / exhausted, when the agent said


@dataclass(frozen=True)
class EpisodeEnded:
    episode: Episode
    reason: str  # a key of END_REASONS
    error: str | None = None


Event = Union[EpisodeStarted, SubgoalProposed, SubgoalStarted, StepTaken, SubgoalEnded, EpisodeEnded]


def proposals(step: int, info: dict[str, Any]) -> list[SubgoalProposed]:
    """The planner calls in one decision's info (or one Episode.meta["notes"] entry), in order."""
    plans = info.get("plans") if isinstance(info, dict) else None
    if not isinstance(plans, (list, tuple)):
        return []
    return [
        SubgoalProposed(step, tuple(str(b) for b in beams))
        for beams in plans
        if isinstance(beams, (list, tuple))
    ]


def end_reason(episode: Episode) -> str:
    """The recorded reason, or one inferred from the score for files that lack it."""
    recorded = episode.meta.get("end_reason")
    if recorded:
        return str(recorded)
    return "completed" if episode.solved else ("failed" if episode.final_score < 0 else "stopped")


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
    spans = sorted(enumerate(episode.subgoals), key=lambda item: (item[1].start, item[0]))
    pending = list(spans)  # sub-goals not yet started, in order
    open_span = None
    planned: dict[int, list[SubgoalProposed]] = {}  # step -> the planner calls made before it
    whys: dict[int, dict[str, Any]] = {}  # step -> why its action was chosen
    endings: dict[int, list[str]] = {}  # step -> how the sub-goals closed before it ended, in order
    for note in episode.meta.get("notes") or ():
        if isinstance(note, dict) and isinstance(note.get("step"), int):
            planned.setdefault(note["step"], []).extend(proposals(note["step"], note))
            if isinstance(note.get("why"), dict):
                whys[note["step"]] = note["why"]
            if isinstance(note.get("endings"), list):
                endings.setdefault(note["step"], []).extend(str(e) for e in note["endings"])

    def propose(index: int, every: bool = False) -> None:
        # The next planner call made before step `index` (all that are left, with `every`).
        calls = planned.get(index, [])
        while calls:
            events.append(calls.pop(0))
            if not every:
                break

    def close(index: int) -> None:
        nonlocal open_span
        if open_span is not None:
            number, span = open_span
            # The decision at span.end closed it; its endings are in closing order.
            closing = endings.get(span.end)
            ending = closing.pop(0) if closing else None
            events.append(SubgoalEnded(number, span.name, span.start, span.end, ending))
            open_span = None

    def open_until(index: int) -> None:
        # Start (and close at once, when empty) every sub-goal that begins at or before `index`.
        nonlocal open_span
        while pending and pending[0][1].start <= index:
            number, span = pending.pop(0)
            close(index)
            propose(span.start)
            events.append(SubgoalStarted(number, span.name, span.start))
            open_span = (number, span)
            if span.end <= span.start:
                close(index)

    for index, step in enumerate(episode.steps):
        open_until(index)
        propose(index, every=True)
        events.append(StepTaken(index, step, whys.get(index)))
        if open_span is not None and open_span[1].end == index + 1:
            close(index)
    open_until(len(episode.steps))
    propose(len(episode.steps), every=True)
    close(len(episode.steps))
    events.append(EpisodeEnded(episode, end_reason(episode), episode.meta.get("error")))
    return events
