"""search-rooms (general): what the sub-goal acts on is a thing the task names but nothing in view
or in the inventory is of its kind: open what is here, then teleport to a room not seen yet.
task-vocabulary bounds the rooms of a task its train plans play in one room."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from subgoal.engine.episode import Episode
from subgoal.engine.examples import room_of, visited_rooms
from subgoal.engine.rules.layer import RuleSet
from subgoal.engine.rules.vocabulary import action_parts
from subgoal.engine.subgoals import Subgoal, in_view, search_target

_CLOSED = re.compile(r"\ban? ([\w ]+?)\. the \1 door is closed")


def closed_doors(look: str) -> list[str]:
    """What the look shows closed, in its order ("a large cupboard. The large cupboard door is
    closed.": `large cupboard`)."""
    return _CLOSED.findall(look.lower())


def hunted(episode: Episode, parsed: Subgoal, valid: list[str], inventory: str) -> str | None:
    """The thing the sub-goal acts on, where the task names its kind and nothing in view or in the
    inventory is of that kind (subgoals.search_target); None otherwise. A planner trained on
    variations where the thing lay elsewhere sends the agent to another room."""
    target = search_target(parsed, episode.task_description)
    if target is None or in_view(target, valid, inventory):
        return None
    return target


def unseen_room(
    rules: RuleSet,
    vocabulary: Mapping[str, Any] | None,
    episode: Episode,
    index: int,
    look: str,
    valid: list[str],
    hunted_in: set[str],
) -> str | None:
    """A teleport to a room not seen yet in this episode, the rooms the task names first ("...
    located around the kitchen": searched, its containers opened, even if the agent passed
    through it before), else the simulator's order. Each room is searched once, so a search ends."""
    seen = {room.lower() for room in visited_rooms(episode, index)}
    task = episode.task_description.lower()
    here = (room_of(look) or "").lower()
    only = None
    if rules.on("task-vocabulary"):  # the one room of a task its train plans play in one room
        only = ((vocabulary or {}).get(episode.task_id) or {}).get("rooms")

    def worth(room: str) -> bool:
        unseen = room not in seen or (room in task and room not in hunted_in)
        return unseen and room != here and (not only or room in only)

    rooms = []  # (not named by the task, teleport), in the simulator's order
    for action in valid:
        verb, name = action_parts(action)
        room = (name or "").lower()
        if verb == "teleport to" and worth(room):
            rooms.append((room not in task, action))
    return min(rooms, key=lambda r: r[0])[1] if rooms else None  # min keeps the first of equals
