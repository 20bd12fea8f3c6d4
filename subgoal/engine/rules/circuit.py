"""answer-circuit: where the task asks whether a thing is electrically conductive and names a box for
each answer (3-3, 3-4), the thing goes into an answer box only once a circuit through it shows the
answer: both its terminals connected, then something in the room turned on (a light bulb, a buzzer,
a motor: "which is on"), and then it goes into the conductive answer's box at once.

The models put the thing in a box after a few connections, as a guess: 12 of 20 dev episodes of
3-3 and 3-4 ended failed at the `task` level (RESULTS §26). A held answer keeps the points the
experiment made (55-83 of 100). A nonconductive thing is never answered: a bulb still off says as
much of a circuit broken elsewhere as of the thing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from subgoal.engine.episode import Episode
from subgoal.engine.grounding import normalize
from subgoal.engine.rules.answer import MOVE
from subgoal.engine.subgoals import unlabelled

_QUESTION = re.compile(
    r"determine if (?P<thing>.+?) is electrically conductive\..*?"
    r"if it is electrically conductive, place it in the (?P<yes>[\w ]+? box)\. "
    r"if it is electrically nonconductive, place it in the (?P<no>[\w ]+? box)",
    re.I | re.S,
)
_CONNECTED = re.compile(r"terminal ([12]) on (.+?) is now connected")
_ON = re.compile(r"\bwhich is on\b")


@dataclass(frozen=True)
class Question:
    thing: str
    yes: str  # the conductive answer's box
    no: str


@lru_cache(maxsize=256)
def question(task_description: str) -> Question | None:
    match = _QUESTION.search(task_description)
    if match is None:
        return None
    return Question(*(normalize(match[k]) for k in ("thing", "yes", "no")))


def _names_thing(name: str, thing: str) -> bool:
    """`unknown substance o` (the task's) is `unknown substance` (the valid actions' short name)."""
    return name in (thing, unlabelled(thing))


def shown(episode: Episode, q: Question) -> bool:
    """Whether something turned on after both of the thing's terminals were connected, and the thing
    was not moved (disconnected) since."""
    terminals: set[str] = set()
    for step in episode.steps:
        observation = (step.observation or "").lower()
        if "(disconnecting" in observation and any(
            _names_thing(n, q.thing) for n in re.findall(r"\(disconnecting (.+?)\)", observation)
        ):
            terminals = set()
        for terminal, name in _CONNECTED.findall(observation):
            if _names_thing(name, q.thing):
                terminals.add(terminal)
        if len(terminals) == 2 and _ON.search((step.look or "").lower()):
            return True
    return False


def held_back(episode: Episode, box: str) -> bool:
    """Whether putting a thing into `box` waits: an answer box of the question, and not the
    conductive one with a circuit through the thing shown on."""
    q = question(episode.task_description)
    box = normalize(box)
    if q is None or box not in (q.yes, q.no):
        return False
    return box == q.no or not shown(episode, q)


def pinned(episode: Episode, valid: list[str]) -> tuple[str, str] | None:
    """Once a circuit through the thing shows it conducts: the move of the thing into the
    conductive answer's box, and its sub-goal; else None."""
    q = question(episode.task_description)
    if q is None or not shown(episode, q):
        return None
    for action in valid:
        move = MOVE.match(normalize(action))
        if (
            move
            and move.group(2) == q.yes
            and _names_thing(move.group(1).removesuffix(" in inventory"), q.thing)
        ):
            return action, f"move({move.group(1)}, {q.yes})"
    return None
