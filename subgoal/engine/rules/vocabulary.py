"""What each task's gold plans are made of, counted on the train split, and the check agents make
with it before they pursue a sub-goal (planner) or take an action (flat baseline).

A from-scratch model on a CPU budget learns the common plan before it learns to tell tasks apart
(a planner was seen planning a boil for "turn on the electric motor"). The task's id is known at
play time, so what its train plans use is a bound, and a `task`-level rule (task-vocabulary,
rules/registry.py): it reads per-task train statistics, so the headline `general` level goes
without it:

- `verbs`: the sub-goal verbs of its plans (planner, executor), or the action verbs of its gold
  paths (flat: `pick up`, `teleport to`, `observe` ...);
- `rooms`: the one room every train plan of the task navigates to, where there is only one (3-1,
  9-x: the workshop; 7-x, 8-x: outside). Tasks whose plans go to several rooms (where the substance
  is varies by variation) keep every room open;
- `navigation_run`, `answer_after` and `after`: how many navigations in a row its plans make, what
  they do before the answer focus, and what before each verb (5-x plants before it waters);
- `objects`: the things its variations are about, which `renamed` turns into this variation's.

Stored per checkpoint in its manifest (`task_vocabulary`); checkpoints without it are not bounded.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from subgoal.engine.examples import is_training_target

Vocabulary = Mapping[str, Mapping[str, Sequence[str]]]  # task id -> {"verbs": [...], "rooms": [...]}


def action_parts(action: str) -> tuple[str, str | None]:
    """An action's verb as the simulator's grammar has it (`pick up`, `move`, `teleport to` ...)
    and the room it goes to, if it is a navigation: one parse (the flat agent checks every valid
    action, every step)."""
    from subgoal.engine.actions import parse

    act = parse(action)
    if act.verb != "nav":
        return act.verb, None
    return " ".join(action.split()[:2]).lower(), act.objects[0] if act.objects else None


def action_verb(action: str) -> str:
    return action_parts(action)[0]


def _subgoal_parts(name: str) -> tuple[str, str | None] | None:
    from subgoal.engine.subgoals import parse_subgoal

    parsed = parse_subgoal(name)
    if parsed is None:
        return None
    room = parsed.args[0] if parsed.verb == "navigate_to" and parsed.args else None
    return parsed.verb, room


NAVIGATION = frozenset({"navigate_to", "teleport to", "go to"})  # a sub-goal's verb, an action's


def _plan(episode: Any, role: str) -> list[tuple[str, str | None, str | None]]:
    """An episode's plan as (verb, room, focus target) items: its sub-goals (planner, executor) or
    its gold actions (flat)."""
    from subgoal.engine.subgoals import parse_subgoal

    items: list[tuple[str, str | None, str | None]] = []
    if role == "flat":
        for step in episode.steps:
            if is_training_target(step):
                verb, room = action_parts(step.action)
                target = step.action.strip()[len("focus on ") :] if verb == "focus" else None
                items.append((verb, room, target))
        return items
    for span in episode.subgoals:
        parts = _subgoal_parts(span.name)
        if parts:
            parsed = parse_subgoal(span.name)
            focus = parsed.args[0] if parsed.verb == "focus_on" and parsed.args else None
            items.append((*parts, focus))
    return items


def _before_answer(episode: Any, plan: list[tuple[str, str | None, str | None]]) -> set[str] | None:
    """The verbs a plan uses before its answer focus (subgoals.is_answer); None if it has none."""
    from subgoal.engine.subgoals import is_answer

    answers = [
        i for i, (_, _, target) in enumerate(plan) if target and is_answer(episode.task_description, target)
    ]
    return {verb for verb, _, _ in plan[: answers[-1]]} if answers else None


def _navigation_run(plan: list[tuple[str, str | None, str | None]]) -> int:
    run = longest = 0
    for verb, _, _ in plan:
        run = run + 1 if verb in NAVIGATION else 0
        longest = max(longest, run)
    return longest


def _first_uses(plan: list[tuple[str, str | None, str | None]]) -> dict[str, set[str]]:
    """For each verb of a plan, the verbs used before its first use, navigation aside (where the
    agent starts is not a step it takes: a plan that begins in the right room never navigates)."""
    seen: list[str] = []
    first: dict[str, set[str]] = {}
    for verb, _, _ in plan:
        if verb not in first:
            first[verb] = set(seen) - NAVIGATION
        seen.append(verb)
    return first


# The thing a task's variations differ by, where its description names it: "boil rubber", "measure
# the melting point of tin, which ...", "determine if paper clip is electrically conductive", "turn
# on the blue light bulb", "grow a cherry plant from seed", "the life stages of the moth" (of the
# cherry plant: its plants are cherry trees and cherry seeds). Test variations name things no train
# variation does (1-x trains on water and chocolate, is tested on ice cream and soap).
_VARIED_OBJECT = [
    (kind, re.compile(pattern, re.I))
    for kind, pattern in (
        (
            "substance",
            r"your task is to (?:boil|melt|freeze|change the state of matter of) (?:the |a |an )?([^.]+?)\.",
        ),
        ("substance", r"measure the (?:melting point|temperature) of ([^,.]+?), which"),
        ("conductor", r"determine if ([^.]+?) is electrically"),
        ("device", r"your task is to turn on the ([^.]+?)(?: by powering|\.)"),
        ("organism", r"life stages of the ([^,.]+?) plant\b"),
        ("organism", r"life stages of the ([^,.]+?),"),
        ("crop", r"grow an? ([^.]+?) plant from seed"),
        ("crop", r"grow an? ([^.]+?)\."),
    )
]


def varied_object(task_description: str) -> tuple[str, str] | None:
    """The thing this variation of the task is about, lower-cased, and its kind (substance,
    conductor, device, organism, crop), or None (`_VARIED_OBJECT`)."""
    for kind, pattern in _VARIED_OBJECT:
        match = pattern.search(task_description)
        if match:
            return " ".join(match.group(1).lower().split()), kind
    return None


def task_object(task_description: str) -> str | None:
    found = varied_object(task_description)
    return found[0] if found else None


# A substance's name changes with its state ("liquid marshmallow", "solid unknown substance O"
# melts into "liquid unknown substance O"), and water's changes altogether.
_STATE_WORDS = re.compile(r"\b(?:solid|liquid|gaseous|gas)\s+")
_WATER = ("water", "ice", "steam")


def reads_the_task_object(task_description: str, target: str, holds: Callable[[str], bool]) -> bool:
    """Whether a temperature reading of `target` reads the thing the task is about: the thing in
    any of its states, or `substance in X` where `holds(X)` says X holds it. Every train plan
    measures so (1-x: the substance or the substance in the metal pot; 2-x: the task's thing).
    True where the task names no thing (vocabulary.task_object)."""
    thing = task_object(task_description)
    if thing is None:
        return True
    target = " ".join(target.lower().split())
    inside = re.fullmatch(r"substance in (.+)", target)
    if inside:
        return holds(inside.group(1))
    bare = _STATE_WORDS.sub("", thing)
    names = _WATER if bare in _WATER else (bare,)
    return any(re.search(rf"\b{re.escape(name)}\b", target) for name in names)


def _nonempty(after: dict[str, set[str]]) -> dict[str, list[str]]:
    return {verb: sorted(first) for verb, first in sorted(after.items()) if first}


def task_vocabulary(episodes: Iterable[Any], role: str) -> dict[str, dict[str, Any]]:
    """Per task id: the verbs its gold plans use; where they all navigate to one room, that room;
    the longest run of navigations in a row; for a task whose answer is a focus, the verbs every
    plan uses before it; and `after`, for each verb, the verbs every plan using it uses first
    (5-x: water after plant; 1-x: heat after focus_on); `objects`, the things train variations of
    tasks like it are about (`varied_object`: water, chocolate ... for 1-x, and lead, gallium ...
    for 2-2, since one planner learns them all and spells 2-2's lead for 1-1's tin). `role` says which verbs: sub-goal
    verbs (planner, executor) or action verbs (flat)."""
    verbs: dict[str, set[str]] = {}
    rooms: dict[str, set[str]] = {}
    runs: dict[str, int] = {}
    before: dict[str, set[str]] = {}
    after: dict[str, dict[str, set[str]]] = {}
    kinds: dict[str, str] = {}  # task id -> the kind of thing its variations are about
    objects: dict[str, set[str]] = {}  # kind -> the things of that kind train variations name
    for episode in episodes:
        found = varied_object(episode.task_description)
        if found:
            kinds[episode.task_id] = found[1]
            objects.setdefault(found[1], set()).add(found[0])
        plan = _plan(episode, role)
        task = episode.task_id
        known = after.setdefault(task, {})
        for verb, first in _first_uses(plan).items():
            known[verb] = known[verb] & first if verb in known else first
        verbs.setdefault(task, set()).update(verb for verb, _, _ in plan)
        rooms.setdefault(task, set()).update(room.lower() for _, room, _ in plan if room)
        runs[task] = max(runs.get(task, 0), _navigation_run(plan))
        answer = _before_answer(episode, plan)
        if answer is not None:
            before[task] = before[task] & answer if task in before else answer
    return {
        task: {"verbs": sorted(verbs[task]), "navigation_run": runs[task]}
        | ({"rooms": sorted(rooms[task])} if len(rooms[task]) == 1 else {})
        | ({"answer_after": sorted(before[task])} if before.get(task) else {})
        | ({"after": first} if (first := _nonempty(after[task])) else {})
        | ({"objects": sorted(objects[kinds[task]])} if task in kinds else {})
        for task in sorted(verbs)
        if verbs[task]
    }


def fits(vocabulary: Vocabulary | None, task_id: str, verb: str, room: str | None = None) -> bool:
    """Whether a sub-goal or action of `verb` (going to `room`) is one the task's train plans make.
    A task (or a checkpoint) without a vocabulary is not bounded."""
    entry = (vocabulary or {}).get(task_id)
    if not entry:
        return True
    if verb not in entry.get("verbs", ()):
        return False
    allowed_rooms = entry.get("rooms")
    return room is None or not allowed_rooms or room.lower() in allowed_rooms


def subgoal_fits(vocabulary: Vocabulary | None, task_id: str, name: str) -> bool:
    parts = _subgoal_parts(name)
    return parts is None or fits(vocabulary, task_id, *parts)


def action_fits(vocabulary: Vocabulary | None, task_id: str, action: str) -> bool:
    return fits(vocabulary, task_id, *action_parts(action))


# Verbs whose doing is a measurement (sub-goal verbs; `measure` is `use thermometer on X`).
MEASURING = frozenset({"measure_temperature", "measure_time", "measure"})


def answer_ready(
    vocabulary: Vocabulary | None, task_id: str, task_description: str, done: Iterable[tuple[str, str]]
) -> bool:
    """Whether the task's answer focus may be taken now: every verb its train plans use before the
    answer is among the verbs `done` so far, as (verb, what it was done to) pairs: a measurement for
    2-2, both timings for 9-x. A measurement counts only of what the task is about (2-2 episodes
    measured a drawing, the thermometer itself, and then chose a box)."""
    from subgoal.engine.subgoals import is_about

    entry = (vocabulary or {}).get(task_id) or {}
    verbs = {verb for verb, what in done if verb not in MEASURING or is_about(task_description, what)}
    return set(entry.get("answer_after", ())) <= verbs


def navigations_in_a_row(verbs: Sequence[str]) -> int:
    """How many of the last `verbs` (oldest first) are navigations."""
    run = 0
    for verb in reversed(verbs):
        if verb not in NAVIGATION:
            break
        run += 1
    return run


def navigation_allowed(vocabulary: Vocabulary | None, task_id: str, in_a_row: int) -> bool:
    """Whether one more navigation may follow `in_a_row` navigations: train plans of most tasks
    never navigate twice in a row, yet a from-scratch planner toured the house from room to room
    after reaching the one it needed (4-1: the box's room, then 20 more teleports). One more than
    the task's longest run is allowed, for a search."""
    entry = (vocabulary or {}).get(task_id) or {}
    return "navigation_run" not in entry or in_a_row <= int(entry["navigation_run"])


def in_order(vocabulary: Vocabulary | None, task_id: str, verb: str, done: Iterable[str]) -> bool:
    """Whether a sub-goal or action of `verb` may come now, given the verbs `done` so far: every
    verb the task's train plans use before their first `verb` is among them (0 of 1,591 dev gold
    sub-goals would wait). A from-scratch planner waters before it plants (5-x) and heats before
    the focus the task asks for first (1-x)."""
    entry = (vocabulary or {}).get(task_id) or {}
    return set((entry.get("after") or {}).get(verb, ())) <= set(done)


# `focus_on(substance)`: the planner copies "First, focus on the substance." No gold sub-goal of the
# train or dev split has a bare `substance` argument; the simulator's `focus on substance in
# inventory` is whatever the agent holds, which is not the task's substance.
_BARE_SUBSTANCE = re.compile(r"([(,]\s*)substance(\s*[,)])", re.I)


def renamed(vocabulary: Vocabulary | None, task_id: str, task_description: str, text: str) -> str:
    """`text` (a beam) with a thing the task's train variations were about put in place of this
    variation's: a from-scratch model cannot spell a name it never wrote, so the 1-x planner
    proposes `focus_on(chocolate)` and `measure_temperature(lead)` for "boil ice cream" (not once
    the task's substance in the 40 wrong 1-x dev beams read, benchmarks/planner_dev.py). Unchanged where the text already names this
    variation's thing, where the task has none, or where it names none of the train ones. A bare
    `substance` argument (the task's own word) becomes the task's substance."""
    found = varied_object(task_description)
    current = found[0] if found else None
    if found and found[1] == "substance":  # the task's own word for its thing, as an argument
        text = _BARE_SUBSTANCE.sub(lambda m: f"{m.group(1)}{current}{m.group(2)}", text)
    lowered = text.lower()
    if not current or re.search(rf"\b{re.escape(current)}\b", lowered):
        return text
    entry = (vocabulary or {}).get(task_id) or {}
    for known in sorted(entry.get("objects", ()), key=len, reverse=True):
        pattern = rf"\b{re.escape(known)}\b"
        if known != current and re.search(pattern, lowered):
            return re.sub(pattern, current, lowered)
    return text


# 4-x: "... First, focus on the thing. Then, move it to the red box in the kitchen." Every train plan
# focuses, picks the thing up, navigates to that room and moves it to that box; a planner on dev
# wrote the boxes of train variations (orange, green ... for red) and, once the thing was held,
# navigated to the workshop, the living room, the bathroom, never the task's room.
_DELIVERY = re.compile(r"move it to the ([a-z-]+ box) in the ([a-z ]+?)\.", re.I)
_COLOUR_BOX = re.compile(
    r"\b(?:red|green|blue|yellow|orange|violet|purple|brown|black|white|pink|gray|grey) box\b"
)
_NAVIGATE_TO = re.compile(r"^(?:navigate_to\((.+)\)|teleport to (.+))$")


def delivery(task_description: str) -> tuple[str, str] | None:
    """The box and the room a task says to move its thing to, lower-cased, or None."""
    match = _DELIVERY.search(task_description)
    return (match.group(1).lower(), match.group(2).lower()) if match else None


def delivered(task_description: str, text: str, carrying: bool) -> str:
    """`text` (a beam: a sub-goal or an action) with the task's box in place of any coloured box,
    and, while the agent carries the thing it focused on, the task's room in place of any
    navigation's. Unchanged for a task that names no delivery."""
    found = delivery(task_description)
    if found is None:
        return text
    box, room = found
    text = _COLOUR_BOX.sub(box, text)
    navigation = _NAVIGATE_TO.match(text.strip())
    if carrying and navigation:
        return f"navigate_to({room})" if navigation.group(1) is not None else f"teleport to {room}"
    return text
