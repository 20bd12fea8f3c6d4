"""What the panes show, as plain data: an `EpisodeState` folds the rollout's events one by one.

Live play and replay feed the same events into the same fold (DESIGN.md: one stream, never two code
paths); a replay cursor is simply the state after a prefix of the saved episode's events. Nothing here
imports Textual, so the fold is tested on its own and shared with the plain printer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from subgoal.engine.episode import Episode, Step, SubgoalSpan
from subgoal.engine.events import (
    EpisodeEnded,
    EpisodeStarted,
    Event,
    StepTaken,
    SubgoalEnded,
    SubgoalProposed,
    SubgoalStarted,
    replay_events,
)

# What became of the first beam when another candidate was taken (agents._from_beams verdicts).
FIRST_BEAM = {"invalid": "invalid", "avoided": "avoided", "focus": "focus refused", "off-task": "off-task"}


def _same(a: str, b: str) -> bool:
    return " ".join(a.lower().split()) == " ".join(b.lower().split())


def grounding_note(step: Step, why: dict[str, Any] | None = None) -> str | None:
    """One line on how the model's words became the action, when its first beam was not the action:
    which beam was taken and what was wrong with the first, or how the first was grounded."""
    beams = [b for b in (step.generated or []) if isinstance(b, str)]
    if not beams or _same(beams[0], step.action):
        return None
    verdicts = dict(
        (b[0], b[1]) for b in (why or {}).get("beams") or () if isinstance(b, (list, tuple)) and len(b) == 2
    )
    taken = next((number for number, beam in enumerate(beams, 1) if _same(beam, step.action)), None)
    if taken is not None:
        fault = FIRST_BEAM.get(verdicts.get(beams[0], ""), "not taken")
        return f"↳ beam {taken} (beam 1 {beams[0]!r} {fault})"
    how = step.grounding or "?"
    similarity = (why or {}).get("similarity")
    if isinstance(similarity, (int, float)) and how in ("fuzzy", "embedding"):
        how += f" {similarity:.2f}"
    return f"↳ {beams[0]!r} ({how})"


@dataclass
class SubgoalRow:
    number: int
    name: str
    start: int
    end: int | None = None  # exclusive; None while it runs
    alternatives: list[str] = field(default_factory=list)  # the planner's other beams for it
    ending: str | None = None  # how it closed, when the agent said: done / failed / ended / exhausted

    @property
    def done(self) -> bool:
        return self.end is not None

    def steps(self, taken: int) -> int:
        """How many steps it has taken (or took), given `taken` steps in the episode so far."""
        return (self.end if self.end is not None else taken) - self.start


@dataclass
class EpisodeState:
    task_id: str = ""
    task_name: str = ""
    variation: int = 0
    split: str = ""
    task_description: str = ""
    agent: str = ""
    info: dict[str, Any] = field(default_factory=dict)
    initial_look: str = ""
    initial_inventory: str = ""
    look: str = ""
    inventory: str = ""
    observation: str = ""
    steps: list[Step] = field(default_factory=list)
    subgoals: list[SubgoalRow] = field(default_factory=list)
    # Sub-goals known to come next (a replay knows the saved spans; a live agent may announce a plan).
    upcoming: list[str] = field(default_factory=list)
    proposal: str | None = None  # the planner's next proposal, when an event carries one
    proposed: list[str] = field(default_factory=list)  # all its beams, best first (SubgoalProposed)
    planner_calls: list[SubgoalProposed] = field(default_factory=list)  # every one so far, for saving
    chosen: dict[int, str] = field(default_factory=dict)  # planner call (index) -> sub-goal taken from it
    whys: dict[int, dict[str, Any]] = field(default_factory=dict)  # step -> why its action was chosen
    total_steps: int | None = None  # known in a replay
    end_reason: str | None = None
    error: str | None = None
    started: bool = False

    # -- the fold ------------------------------------------------------------------------------
    def apply(self, event: Event | Any) -> None:
        if isinstance(event, EpisodeStarted):
            self.task_id, self.task_name = event.task_id, event.task_name
            self.variation, self.task_description = event.variation, event.task_description
            self.agent, self.info = event.agent, dict(event.info)
            self.split = str(self.info.get("split") or self.split or "")
            self.initial_look = self.look = event.look
            self.initial_inventory = self.inventory = event.inventory
            self.observation = event.look
            self.started = True
        elif isinstance(event, SubgoalProposed):
            self.planner_calls.append(event)
            self.proposed = list(event.names)
            self.proposal = event.proposal
        elif isinstance(event, SubgoalStarted):
            row = SubgoalRow(event.number, event.name, event.step)
            self.subgoals.append(row)
            if self.upcoming and self.upcoming[0] == event.name:
                self.upcoming.pop(0)
            if self.proposed:  # the planner call it was taken from
                row.alternatives = [name for name in self.proposed if name != event.name]
                self.chosen[len(self.planner_calls) - 1] = event.name
                self.proposed, self.proposal = [], None
            if self.proposal == event.name:
                self.proposal = None
        elif isinstance(event, StepTaken):
            step = event.step
            del self.steps[event.index :]
            self.steps.append(step)
            if event.why:
                self.whys[event.index] = event.why
            else:
                self.whys.pop(event.index, None)
            self.observation = step.observation
            if step.look:
                self.look = step.look
            if step.inventory:
                self.inventory = step.inventory
        elif isinstance(event, SubgoalEnded):
            for row in reversed(self.subgoals):
                if row.number == event.number:
                    row.end, row.ending = event.end, event.ending
                    break
        elif isinstance(event, EpisodeEnded):
            self.end_reason, self.error = event.reason, event.error
        else:  # a RunNote of the live sources, or an event kind this app does not know yet
            split, plan = getattr(event, "split", None), getattr(event, "plan", None)
            if isinstance(split, str) and split:
                self.split = split
            if plan:
                started = len(self.subgoals)
                self.upcoming = [str(name) for name in list(plan)[started:]]
            proposal = getattr(event, "proposal", None)
            if isinstance(proposal, str):
                self.proposal = proposal

    # -- what the panes read -------------------------------------------------------------------
    @property
    def taken(self) -> int:
        return len(self.steps)

    @property
    def score(self) -> int:
        return self.steps[-1].score if self.steps else 0

    @property
    def scores(self) -> list[int]:
        return [s.score for s in self.steps]

    @property
    def current(self) -> SubgoalRow | None:
        return self.subgoals[-1] if self.subgoals and not self.subgoals[-1].done else None

    @property
    def next_subgoal(self) -> str | None:
        return self.proposal or (self.upcoming[0] if self.upcoming else None)

    @property
    def boundaries(self) -> list[int]:
        """Step indices where a sub-goal starts (after the first), for the score chart."""
        return [row.start for row in self.subgoals if row.start > 0]

    @property
    def finished(self) -> bool:
        return self.end_reason is not None

    def plans_at(self, step: int) -> list[tuple[SubgoalProposed, str | None]]:
        """The planner calls made before step `step`, each with the sub-goal taken from it."""
        return [(call, self.chosen.get(i)) for i, call in enumerate(self.planner_calls) if call.step == step]

    def ended_at(self, step: int) -> list[SubgoalRow]:
        """The sub-goals the decision before step `step` closed, in closing order."""
        return [row for row in self.subgoals if row.end == step]

    def notes(self) -> list[dict[str, Any]]:
        """Episode.meta["notes"] as the rollout records them: plans, endings and why per decision."""
        by_step: dict[int, dict[str, Any]] = {}

        def note(step: int) -> dict[str, Any]:
            return by_step.setdefault(step, {"step": step})

        for call in self.planner_calls:
            note(call.step).setdefault("plans", []).append(list(call.beams))
        for row in self.subgoals:
            if row.ending and row.end is not None:
                note(row.end).setdefault("endings", []).append(row.ending)
        for step, why in self.whys.items():
            note(step)["why"] = why
        return [by_step[step] for step in sorted(by_step)]

    @property
    def checkpoints(self) -> str:
        found = []
        for key in ("planner", "executor", "flat", "checkpoint"):
            value = self.info.get(key)
            if isinstance(value, dict):
                value = value.get("name") or Path(str(value.get("path", "?"))).name
            if value:
                found.append(f"{key} {value}")
        return " · ".join(found)

    @property
    def rules(self) -> str:
        """The rules level a learned agent played at (episodes from before levels: every rule, task)."""
        if self.info.get("rules"):
            return str(self.info["rules"])
        return "task" if self.agent in ("hierarchical", "flat") else ""

    @property
    def checkpoint_paths(self) -> dict[str, Path]:
        """The agent's checkpoints on disk, by role, as EpisodeStarted.info names them."""
        found = {}
        for key in ("planner", "executor", "flat"):
            value = self.info.get(key)
            path = value.get("path") if isinstance(value, dict) else value
            if isinstance(path, str) and path:
                found[key] = Path(path)
        return found

    def to_episode(self) -> Episode:
        """The episode as far as it went (for saving a live run, finished or not)."""
        spans = [
            SubgoalSpan(row.name, row.start, row.end if row.end is not None else self.taken)
            for row in self.subgoals
            if (row.end if row.end is not None else self.taken) > row.start
        ]
        meta = dict(self.info)
        notes = self.notes()
        if notes and "notes" not in meta:  # as the rollout records them, so a replay shows the same
            meta["notes"] = notes
        if self.end_reason:
            meta["end_reason"] = self.end_reason
        return Episode(
            task_id=self.task_id,
            task_name=self.task_name,
            variation=self.variation,
            split=self.split or "unknown",
            task_description=self.task_description,
            initial_look=self.initial_look,
            initial_inventory=self.initial_inventory,
            steps=list(self.steps),
            subgoals=spans,
            agent=self.agent,
            meta=meta,
        )


def fold(events: list[Event], state: EpisodeState | None = None) -> EpisodeState:
    state = state or EpisodeState()
    for event in events:
        state.apply(event)
    return state


class ReplayCursor:
    """A saved episode seen as a position: `position` steps shown, 0..len(steps).

    The state at a position is the fold of the episode's events up to that step (and the sub-goal
    ends that follow it), so stepping back is exact and the replay shows what live play showed.
    """

    def __init__(self, episode: Episode):
        self.episode = episode
        self.events = replay_events(episode)
        # cut[k]: how many events make up the state after k steps: up to the k-th step and the
        # sub-goal ends after it, not the sub-goals proposed or begun with the next step (live play
        # pauses there too, before the agent is asked).
        self._cut: list[int] = []
        taken = 0
        for i, event in enumerate(self.events):
            if isinstance(event, (StepTaken, SubgoalProposed, SubgoalStarted)) and len(self._cut) == taken:
                self._cut.append(i)
            taken += isinstance(event, StepTaken)
        # The end is everything: what follows the last step (sub-goals and proposals that started
        # nothing, the end itself) is shown there, even in an episode with no steps.
        self._cut = [*self._cut[: self.length], len(self.events)]
        self.position = 0

    @property
    def length(self) -> int:
        return len(self.episode.steps)

    def state(self) -> EpisodeState:
        state = EpisodeState(
            split=self.episode.split,
            upcoming=[span.name for span in self.episode.subgoals],
            total_steps=self.length,
        )
        return fold(self.events[: self._cut[self.position]], state)

    def boundaries(self) -> list[int]:
        """Positions where a sub-goal ends (and the next begins), plus start and end."""
        marks = {0, self.length} | {span.end for span in self.episode.subgoals if span.end > 0}
        return sorted(m for m in marks if m <= self.length)

    # -- moves; each returns whether the position changed --------------------------------------
    def go(self, position: int) -> bool:
        position = max(0, min(self.length, position))
        moved, self.position = position != self.position, position
        return moved

    def forward(self) -> bool:
        return self.go(self.position + 1)

    def back(self) -> bool:
        return self.go(self.position - 1)

    def next_subgoal(self) -> bool:
        later = [b for b in self.boundaries() if b > self.position]
        return self.go(later[0]) if later else False

    def previous_subgoal(self) -> bool:
        earlier = [b for b in self.boundaries() if b < self.position]
        return self.go(earlier[-1]) if earlier else False

    def start(self) -> bool:
        return self.go(0)

    def end(self) -> bool:
        return self.go(self.length)

    # -- jumps to what a person looks for ------------------------------------------------------
    def changes(self) -> list[int]:
        """Positions just after a step that changed the score."""
        return [i + 1 for i, step in enumerate(self.episode.steps) if step.reward]

    def next_change(self) -> bool:
        later = [c for c in self.changes() if c > self.position]
        return self.go(later[0]) if later else False

    def previous_change(self) -> bool:
        earlier = [c for c in self.changes() if c < self.position]
        return self.go(earlier[-1]) if earlier else False

    def failure(self) -> int | None:
        """Where it first went wrong: just after the first step that lost points (a wrong focus is
        -100), else where the first sub-goal the agent gave up on (failed, exhausted) ended."""
        for i, step in enumerate(self.episode.steps):
            if step.reward < 0 or step.score < 0:
                return i + 1
        for event in self.events:
            if isinstance(event, SubgoalEnded) and event.ending in ("failed", "exhausted"):
                return event.end
        return None

    def first_failure(self) -> bool:
        where = self.failure()
        return self.go(where) if where is not None else False

    def search(self, text: str) -> bool:
        """On to the next step (after the current one, wrapping around) whose action or observation
        holds `text`, case aside; the position shows that step as the last one taken."""
        needle = " ".join(text.lower().split())
        if not needle:
            return False
        n = self.length
        for offset in range(1, n + 1):
            position = (self.position + offset - 1) % n + 1
            step = self.episode.steps[position - 1]
            if needle in " ".join(f"{step.action} {step.observation}".lower().split()):
                return self.go(position) or position == self.position
        return False
