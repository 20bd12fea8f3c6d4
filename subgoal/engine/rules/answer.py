"""answer-reading: where the task makes its answer depend on a reading ("If the melting point of tin
is above 50.0 degrees celsius, focus on the blue box. If ... below ..., focus on the orange box";
"If the metal fork temperature is above 50.0 degrees celsius, place it in the blue box"), an answer
is given only once the thermometer readings so far show its condition holds (answer-reading); and
once they show it, at once (answer-shown): a planner that has read the thermometer wanders off
(2-1 on dev: every episode stalled after its reading).

A wrong answer ends the episode at -100, and the models choose a box by the order the task names
them in, not by the reading (RESULTS §24: 2-2 at 0). An answer held back keeps the points the
experiment made (79-81 of 100 in the gold paths before the answer).

What a reading shows:
- a temperature: the thing's last reading against the threshold;
- a melting point: a reading of the thing solid bounds it from below, one of it liquid from above.
  The simulator's name says the state where it differs from the thing's usual one (`liquid lead`,
  `solid mercury`); a plain name is the other state where the other one was read too (`lead` read
  beside `liquid lead` was solid). On every 2-2 and 2-3 gold path of the train split this verdict,
  where it has one (272 of 365), is the gold answer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from subgoal.engine.episode import Episode
from subgoal.engine.grounding import normalize
from subgoal.engine.subgoals import sentences, unlabelled

_NUMBER = r"(?P<n>-?\d+(?:\.\d+)?)"
_ANSWER = r"(?P<verb>focus on|place it in) the (?P<box>[^.]+?)\.?$"
_SENTENCES = (
    re.compile(
        rf"^if the (?P<quantity>melting point) of (?P<thing>.+?) is (?P<side>above|below) {_NUMBER} "
        rf"degrees(?: celsius)?, {_ANSWER}",
        re.I,
    ),
    re.compile(
        rf"^if the (?P<thing>.+?) (?P<quantity>temperature) is (?P<side>above|below) {_NUMBER} "
        rf"degrees(?: celsius)?, {_ANSWER}",
        re.I,
    ),
)
_READING = re.compile(r"measures a temperature of (-?\d+(?:\.\d+)?) degrees")
_OTHER_STATE = {"liquid": "liquid", "gas": "liquid", "solid": "solid", "frozen": "solid"}


@dataclass(frozen=True)
class Condition:
    quantity: str  # "melting point" or "temperature"
    thing: str
    above: bool
    threshold: float
    verb: str  # "focus" (focus on the box) or "place" (move the thing to the box)
    box: str


Reading = tuple[str, float]  # what the thermometer was used on, and the degrees it read


@lru_cache(maxsize=256)
def conditions(task_description: str) -> tuple[Condition, ...]:
    """The task's answers that depend on a reading, one per sentence that sets one."""
    found = []
    for sentence in sentences(task_description.strip()):
        for pattern in _SENTENCES:
            match = pattern.match(sentence)
            if match:
                found.append(
                    Condition(
                        match["quantity"].lower(),
                        _bare(normalize(match["thing"])),
                        match["side"].lower() == "above",
                        float(match["n"]),
                        match["verb"].split()[0].lower(),
                        normalize(match["box"]),
                    )
                )
                break
    return tuple(found)


def _bare(thing: str) -> str:
    """The thing without the state the task found it in (`solid unknown substance c`): the
    simulator renames it as it melts; and without a one-letter label, which its valid actions leave
    out (`use thermometer on unknown substance`)."""
    first, _, rest = thing.partition(" ")
    return unlabelled(rest if first in _OTHER_STATE and rest else thing)


def readings(episode: Episode) -> list[Reading]:
    """Each thermometer reading of the episode so far, in order."""
    found = []
    for step in episode.steps:
        action = normalize(step.action)
        match = _READING.search(step.observation or "")
        if match and action.startswith("use thermometer") and " on " in action:
            found.append((action.rsplit(" on ", 1)[-1], float(match.group(1))))
    return found


def _state(name: str, thing: str) -> str | None:
    """ "liquid" or "solid" where the name says it (`liquid lead`), "plain" where it names the thing
    as such (`lead`, `metal fork in inventory`), None where it names something else."""
    words, wanted = name.split(), thing.split()
    for start in range(len(words) - len(wanted) + 1):
        if words[start : start + len(wanted)] == wanted:
            prefix = words[:start]
            if not prefix:
                return "plain"
            return _OTHER_STATE.get(prefix[0]) if len(prefix) == 1 else None
    return None


def holds(condition: Condition, seen: list[Reading]) -> bool | None:
    """Whether the readings show the condition holds (True), fails (False), or neither (None)."""
    states = [(state, degrees) for name, degrees in seen if (state := _state(name, condition.thing))]
    if condition.quantity == "temperature":
        if not states or states[-1][1] == condition.threshold:
            return None
        return (states[-1][1] > condition.threshold) == condition.above
    read = {state for state, _ in states}
    plain = ({"liquid", "solid"} - read).pop() if len(read - {"plain"}) == 1 else None
    solid = [t for s, t in states if s == "solid" or (s == "plain" and plain == "solid")]
    liquid = [t for s, t in states if s == "liquid" or (s == "plain" and plain == "liquid")]
    above = any(t > condition.threshold for t in solid)  # solid at t: it melts above t
    below = any(t < condition.threshold for t in liquid)  # liquid at t: it melted at t or below
    if above == below:
        return None
    return above == condition.above


def held_back(episode: Episode, target: str, verb: str) -> bool:
    """Whether answering with `target` (the box focused on, or the one the thing is placed in) waits:
    it is the box of a condition of the task whose verb is `verb`, and the readings so far do not
    show that condition holds. False where `target` is no such box."""
    target = normalize(target)
    mine = [c for c in conditions(episode.task_description) if c.verb == verb and c.box == target]
    if not mine:
        return False
    seen = readings(episode)
    return not any(holds(c, seen) for c in mine)


MOVE = re.compile(r"^move (.+) to (.+)$")


def placed_in(action: str) -> str | None:
    """The container of a `move X to Y` action, or None."""
    match = MOVE.match(normalize(action))
    return match.group(2) if match else None


def shown(episode: Episode, valid: list[str]) -> tuple[str, str] | None:
    """answer-shown: the valid action giving the answer whose condition the readings show, and the
    sub-goal it serves; None before the thing the task is about was focused on (the task asks for
    that first), or where no valid action gives it (the box or the thing not in view)."""
    seen = readings(episode)
    for condition in conditions(episode.task_description):
        if not holds(condition, seen) or not _focused_on(episode, condition.thing):
            continue
        for action in valid:
            text = normalize(action)
            if condition.verb == "focus" and text == f"focus on {condition.box}":
                return action, f"focus_on({condition.box})"
            move = MOVE.match(text)
            if condition.verb == "place" and move and move.group(2) == condition.box:
                thing = move.group(1).removesuffix(" in inventory")
                if _state(thing, condition.thing) is not None:
                    return action, f"move({thing}, {condition.box})"
    return None


def _focused_on(episode: Episode, thing: str) -> bool:
    actions = (normalize(s.action) for s in episode.steps)
    return any(
        a.startswith("focus on ") and _state(a[len("focus on ") :], thing) is not None for a in actions
    )
