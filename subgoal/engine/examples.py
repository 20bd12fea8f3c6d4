"""What the models read and write: the input formats of the planner, the executor and the flat
baseline (DESIGN.md, "Sub-goals and the two modules"), shared by training and by the agents.

Fields are joined with `</s>` as in the paper. `render` keeps the task description, the score and
the sub-goals whole; when a `budget` is given it drops the oldest history first, then shortens look.

`examples_from_episode` rebuilds, for every step of an (annotated) episode, the Context the agent
had, and pairs the rendered input with what the model must output. Steps the agents never take
(`look around`, `close door ...`, an `open door to X` answered "The door is already open.") are not
targets and not in the history; they stay in the episode file.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from subgoal.engine.episode import Episode, Step, SubgoalSpan
from subgoal.errors import TrainingError

SEP = " </s> "
END_SUBGOAL = "end subgoal"  # the executor's pseudo action closing a sub-goal
COMPLETE_TASK = "complete_task()"  # the planner's last label
# Steps of history each role reads: the executor its sub-goal's, the planner the last few overall.
HISTORY_LENGTH = {"planner": 5, "executor": 10, "flat": 10}
OBSERVATION_WORDS = 24  # an observation is cut to its first words in the history
ROLES = ("planner", "executor", "flat")
# The inputs' layout, saved in each checkpoint's manifest so that a checkpoint is asked in the
# layout it learned (`input_format_of`): 0 did not name the task; 1 named it; 2 lists the planner's
# completed sub-goals latest first and numbered, the last PLANNER_RECENT of them, with their count
# (RESULTS §22: the next verb follows from the last few, which layout 1 left at the list's far end).
INPUT_FORMAT = 2
PLANNER_RECENT = 8


@dataclass
class Context:
    """What an agent knows before choosing its next output."""

    task_description: str
    task_name: str = ""  # e.g. power-component: the same for every variation of a task
    moves: int = 0
    score: int = 0
    completed: list[str] = field(default_factory=list)  # names of finished sub-goals, in order
    current: str | None = None  # the sub-goal being executed (executor only)
    history: list[tuple[str, str, int]] = field(default_factory=list)  # (action, observation, reward)
    look: str = ""
    inventory: str = ""
    visited: list[str] = field(default_factory=list)  # rooms seen so far, in order
    input_format: int = INPUT_FORMAT  # the layout render writes (the model's, at play time)


def _clean(text: str) -> str:
    return " ".join(text.split())


def input_format_of(manifest: dict[str, Any] | None) -> int:
    """The layout a checkpoint learned: its manifest's `input_format`; before that field, 1 unless
    it says `"task_name_in_input": false`."""
    manifest = manifest or {}
    if "input_format" in manifest:
        return int(manifest["input_format"])
    return 0 if manifest.get("task_name_in_input") is False else 1


def render(role: str, ctx: Context, budget: Callable[[str], bool] | None = None) -> str:
    """The model input for `role`. `budget(text)` says whether a text fits; None means no limit."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}")
    history = list(ctx.history[-HISTORY_LENGTH[role] :])
    look = compact_look(ctx.look)
    while True:
        text = _compose(role, ctx, history, look)
        if budget is None or budget(text):
            return text
        if history:
            history.pop(0)
        elif look:
            look = look[: len(look) // 2].rsplit(" ", 1)[0] if len(look) > 40 else ""
        else:
            return text


_NOISE = re.compile(r"\s*\n\t(?:the agent|a substance called air)(?=\n)")


def compact_look(look: str) -> str:
    """A look without what every room has (the agent, air) and with one space between words: the
    same objects in fewer tokens (a cluttered room's look alone is a few hundred)."""
    look = _NOISE.sub("", look)
    look = look.replace("In it, you see:", "you see:").replace("You also see:", "also:")
    return _clean(look)


def _short(observation: str, words: int = OBSERVATION_WORDS) -> str:
    parts = observation.split()
    return " ".join(parts[:words]) + (" ..." if len(parts) > words else "")


def _compose(role: str, ctx: Context, history: list[tuple[str, str, int]], look: str) -> str:
    """Fields in the order a model needs them; the executor's sub-goal comes first."""
    steps = "; ".join(f"{a} -> {_short(o)} ({r:+d})" for a, o, r in history)
    parts = []
    if role == "executor":
        parts.append(f"subgoal: {ctx.current or 'none'}")
    # The task's name first: one stable word that tells the 30 tasks apart, where their descriptions
    # differ by variation (a from-scratch planner was seen planning a boil for "turn on the motor").
    name = f"{ctx.task_name}. " if ctx.task_name and ctx.input_format >= 1 else ""
    parts.append(f"task: {name}{_clean(ctx.task_description)}")
    if role != "executor":
        parts.append(f"time: {ctx.moves}; score: {ctx.score}")
    if role == "planner" and ctx.input_format >= 2:
        recent = " ".join(f"{i}. {sub}" for i, sub in enumerate(reversed(ctx.completed[-PLANNER_RECENT:]), 1))
        parts.append(f"subgoals done: {len(ctx.completed)}; latest first: {recent or 'none'}")
    elif role == "planner":
        parts.append("completed subgoals: " + (", ".join(ctx.completed) if ctx.completed else "none"))
    parts.append(f"history: {steps or 'none'}")
    parts.append(f"look: {look}")
    parts.append(f"inventory: {_clean(ctx.inventory).removeprefix('In your inventory, you see: ')}")
    if role != "executor":
        parts.append("visited: " + (", ".join(ctx.visited) if ctx.visited else "none"))
    return SEP.join(parts)


# --- training examples from annotated episodes -------------------------------------------------

_ROOM = re.compile(r"This (?:room|outside location) is called the ([^.\n]+?)\.")


@dataclass(frozen=True)
class Example:
    """One (input, output) pair for a model, and where it came from."""

    role: str
    source: str
    target: str
    task_id: str
    variation: int
    step: int  # index of the episode step the target belongs to (len(steps) for the last label)
    subgoal: str | None = None  # the sub-goal this example serves (executor) or names (planner)


def is_training_target(step: Step) -> bool:
    """False for the gold steps the models never learn to take (they stay in the episode file).

    `look around` and `close door ...` are dropped as the paper does; `open door to X` answered by
    "The door is already open." is a no-op under `easy` that the valid actions never list.
    """
    action = " ".join(step.action.lower().split())
    if action == "look around" or action.startswith("close door"):
        return False
    return not (action.startswith("open door") and "already open" in step.observation.lower())


def room_of(look: str) -> str | None:
    """The room a `look around` text describes, or None."""
    match = _ROOM.search(look)
    return match.group(1).strip() if match else None


def visited_rooms(episode: Episode, index: int) -> list[str]:
    """Rooms seen before step `index`, in order of first visit (from the looks the agent had)."""
    looks = [episode.initial_look] + [s.look for s in episode.steps[:index]]
    rooms: list[str] = []
    for look in looks:
        room = room_of(look)
        if room and room not in rooms:
            rooms.append(room)
    return rooms


def context_at(
    episode: Episode,
    index: int,
    history_from: int = 0,
    completed: list[str] | None = None,
    input_format: int = INPUT_FORMAT,
) -> Context:
    """What the agent knew before step `index`: history is the kept steps in [history_from, index)."""
    look, inventory = episode.state_before(index)
    before = [s for s in episode.steps[:index] if is_training_target(s)]
    kept = [s for s in episode.steps[history_from:index] if is_training_target(s)]
    return Context(
        task_description=episode.task_description,
        task_name=episode.task_name,
        # Time and score count only the steps an agent can take: a dropped no-op moves neither.
        moves=len(before),
        score=sum(s.reward for s in before),
        completed=list(completed or []),
        history=[(s.action, s.observation, s.reward) for s in kept[-max(HISTORY_LENGTH.values()) :]],
        look=look,
        inventory=inventory,
        visited=visited_rooms(episode, index),
        input_format=input_format,
    )


def trainable_spans(episode: Episode) -> list[SubgoalSpan]:
    """Sub-goal spans with at least one step a model learns to take (others teach nothing)."""
    return [
        span
        for span in episode.subgoals
        if any(is_training_target(s) for s in episode.steps[span.start : span.end])
    ]


def examples_from_episode(
    role: str,
    episode: Episode,
    budget: Callable[[str], bool] | None = None,
    input_format: int = INPUT_FORMAT,
) -> list[Example]:
    """The deterministic training examples of one episode for `role` (DESIGN.md formats).

    flat: one example per kept step, history = the last 10 kept steps.
    planner: one example per sub-goal, at its first step. No `complete_task()`: the simulator ends
    a completed task by itself, and the agent never acts on that label.
    executor: one per kept step of each sub-goal, history = that sub-goal's steps so far; then
    `end subgoal`, only for verbs whose completion the simulator cannot show (subgoals.CHECKED):
    for the others the agent checks completion itself, and the label would only teach the
    shortcut "act once, then end".
    """
    from subgoal.engine.subgoals import parse_subgoal

    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}")
    if role != "flat" and not episode.subgoals:
        raise TrainingError(
            f"episode {episode.task_id} v{episode.variation} has no sub-goals: "
            f"the {role} trains on annotated episodes (`subgoal annotate`)"
        )

    def make(ctx: Context, target: str, index: int) -> Example:
        return Example(
            role, render(role, ctx, budget), target, episode.task_id, episode.variation, index, ctx.current
        )

    examples: list[Example] = []
    if role == "flat":
        for i, step in enumerate(episode.steps):
            if is_training_target(step):
                examples.append(make(context_at(episode, i, input_format=input_format), step.action, i))
        return examples

    completed: list[str] = []
    for span in trainable_spans(episode):
        if role == "planner":
            ctx = context_at(episode, span.start, completed=completed, input_format=input_format)
            examples.append(make(ctx, span.name, span.start))
        else:
            for i in range(span.start, span.end):
                if is_training_target(episode.steps[i]):
                    ctx = context_at(episode, i, span.start, completed, input_format)
                    ctx.current = span.name
                    examples.append(make(ctx, episode.steps[i].action, i))
            parsed = parse_subgoal(span.name)
            if parsed is None or not parsed.checked:
                ctx = context_at(episode, span.end, span.start, completed, input_format)
                ctx.current = span.name
                examples.append(make(ctx, END_SUBGOAL, span.end))
        completed.append(span.name)
    return examples


# One in THIN_KEEP executor examples of routine sub-goals is kept (subgoals.ROUTINE).
THIN_KEEP = 4


def thin_executor(examples: Sequence[Example]) -> list[Example]:
    """The executor examples worth a CPU's minutes: all of the sub-goals it must decide within
    (heat, water, measurements ...), one in THIN_KEEP of the routine ones (deterministic)."""
    import zlib

    from subgoal.engine.subgoals import ROUTINE

    def keep(e: Example) -> bool:
        verb = (e.subgoal or "").split("(", 1)[0]
        if verb not in ROUTINE:
            return True
        return zlib.crc32(f"{e.task_id}/{e.variation}/{e.step}".encode()) % THIN_KEEP == 0

    return [e for e in examples if keep(e)]


def examples_from_episodes(
    role: str,
    episodes: Iterable[Episode],
    budget: Callable[[str], bool] | None = None,
    input_format: int = INPUT_FORMAT,
) -> list[Example]:
    return [ex for ep in episodes for ex in examples_from_episode(role, ep, budget, input_format)]


def percentiles(values: Sequence[int], points: Sequence[int] = (50, 90, 95, 99, 100)) -> dict[str, int]:
    """Nearest-rank percentiles, e.g. {"p50": 210, ..., "p100": 900}; empty input gives zeros."""
    ordered = sorted(values)
    if not ordered:
        return {f"p{p}": 0 for p in points}
    return {
        f"p{p}": ordered[min(len(ordered) - 1, max(0, math.ceil(p / 100 * len(ordered)) - 1))] for p in points
    }


def stats(examples: Sequence[Example], count_tokens: Callable[[str], int]) -> dict[str, object]:
    """Example count, episodes, distinct targets and input/target length percentiles (in tokens)."""
    return {
        "examples": len(examples),
        "episodes": len({(e.task_id, e.variation) for e in examples}),
        "distinct_targets": len({e.target for e in examples}),
        "source_tokens": percentiles([count_tokens(e.source) for e in examples]),
        "target_tokens": percentiles([count_tokens(e.target) for e in examples]),
    }
