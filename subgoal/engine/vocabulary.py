"""What each task's gold plans are made of, counted on the train split, and the check agents make
with it before they pursue a sub-goal (planner) or take an action (flat baseline).

A from-scratch model on a CPU budget learns the common plan before it learns to tell tasks apart:
the §8 planner planned a boil (`pick_up(thermometer)`, `heat(metal pot, stove)`) for "turn on the
electric motor" and for "identify the life stages of the turtle", and 44 % of its 271 test
episodes' steps went to sub-goals whose verb no train plan of that task uses, or to rooms a task
played in one room never visits. The task's id is known at play time, so what its train plans use
is a fair bound:

- `verbs`: the sub-goal verbs of its plans (planner, executor), or the action verbs of its gold
  paths (flat: `pick up`, `teleport to`, `observe` ...);
- `rooms`: the one room every train plan of the task navigates to, where there is only one (3-1,
  9-x: the workshop; 7-x, 8-x: outside). Tasks whose plans go to several rooms (where the substance
  is varies by variation) keep every room open.

Stored per checkpoint in its manifest (`task_vocabulary`); checkpoints without it are not bounded.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from subgoal.engine.examples import is_training_target

Vocabulary = Mapping[str, Mapping[str, Sequence[str]]]  # task id -> {"verbs": [...], "rooms": [...]}


def _action_parts(action: str) -> tuple[str, str | None]:
    """An action's verb as the simulator's grammar has it (`pick up`, `move`, `teleport to` ...)
    and the room it goes to, if it is a navigation: one parse (the flat agent checks every valid
    action, every step)."""
    from subgoal.engine.teachers.rules import parse

    act = parse(action)
    if act.verb != "nav":
        return act.verb, None
    return " ".join(action.split()[:2]).lower(), act.objects[0] if act.objects else None


def action_verb(action: str) -> str:
    return _action_parts(action)[0]


def _subgoal_parts(name: str) -> tuple[str, str | None] | None:
    from subgoal.engine.subgoals import parse_subgoal

    parsed = parse_subgoal(name)
    if parsed is None:
        return None
    room = parsed.args[0] if parsed.verb == "navigate_to" and parsed.args else None
    return parsed.verb, room


def task_vocabulary(episodes: Iterable[Any], role: str) -> dict[str, dict[str, list[str]]]:
    """Per task id, the verbs its gold plans use and, where they all navigate to one room, that room.
    `role` says which verbs: sub-goal verbs (planner, executor) or action verbs (flat)."""
    verbs: dict[str, set[str]] = {}
    rooms: dict[str, set[str]] = {}
    for episode in episodes:
        if role == "flat":
            parts = [_action_parts(s.action) for s in episode.steps if is_training_target(s)]
        else:
            parts = [p for p in (_subgoal_parts(span.name) for span in episode.subgoals) if p]
        task_verbs = verbs.setdefault(episode.task_id, set())
        task_rooms = rooms.setdefault(episode.task_id, set())
        for verb, room in parts:
            task_verbs.add(verb)
            if room:
                task_rooms.add(room.lower())
    return {
        task: {"verbs": sorted(verbs[task])}
        | ({"rooms": sorted(rooms[task])} if len(rooms[task]) == 1 else {})
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
    return fits(vocabulary, task_id, *_action_parts(action))
