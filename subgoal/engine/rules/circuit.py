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

from subgoal.engine.episode import Episode, Step
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


def held_back(episode: Episode, box: str, built: bool = False) -> bool:
    """Whether putting a thing into `box` waits: an answer box of the question, and not the
    conductive one with a circuit through the thing shown on; with `built` (circuit-build), not
    the answer the built circuit shows either."""
    q = question(episode.task_description)
    box = normalize(box)
    if q is None or box not in (q.yes, q.no):
        return False
    shows = verdict(episode, q) if built else None
    if shows is not None:
        return box != (q.yes if shows else q.no)
    return box == q.no or not shown(episode, q)


# -- circuit-build: the gold paths' circuit, wired by the rule -------------------------------------
_WIRE = re.compile(r"\ban? (\w+) wire\b")
_BULB = re.compile(r"\ban? (\w+) light bulb, which is (?:on|off)")
_DISCONNECTING = re.compile(r"\(disconnecting (.+?)\)")
WAITS = 2  # ticks the gold paths wait before they look at the bulb


@dataclass(frozen=True)
class Circuit:
    connections: tuple[str, ...]  # the connect actions, in the gold paths' order
    bulb: str


def wires_in(look: str) -> list[str]:
    """The wires the look shows, each once, in its order: `black wire`, ..."""
    return [f"{w} wire" for w in dict.fromkeys(_WIRE.findall(look.lower()))]


def focus_in_view(name: str, look: str) -> tuple[str, str] | None:
    """The focus on `name` and its sub-goal where the look shows it (the circuit tasks ask for it
    first), else None. A book's name ends in ")": no \\b after it."""
    seen = re.search(rf"\b{re.escape(name)}(?!\w)", look.lower())
    return (f"focus on {name}", f"focus_on({name})") if seen else None


def circuit_for(q: Question, look: str) -> Circuit | None:
    """The gold paths' circuit from what the look shows: battery anode, a wire, the bulb, a wire,
    the thing, a wire, battery cathode; None without a battery, three wires and a light bulb."""
    look = look.lower()
    wires = wires_in(look)
    bulbs = _BULB.findall(look)
    if not re.search(r"\bbattery\b", look) or len(wires) < 3 or not bulbs:
        return None
    a, b, c = wires[:3]
    bulb = f"{bulbs[0]} light bulb"
    return Circuit(
        (
            f"connect battery anode to {a} terminal 1",
            f"connect battery cathode to {b} terminal 1",
            f"connect {a} terminal 2 to cathode in {bulb}",
            f"connect {c} terminal 2 to anode in {bulb}",
            f"connect {q.thing} terminal 1 to {b} terminal 2",
            f"connect {q.thing} terminal 2 to {c} terminal 1",
        ),
        bulb,
    )


def after_focus(episode: Episode, thing: str) -> int | None:
    """The index of the first step after the focus on `thing`, or None before it."""
    for i, step in enumerate(episode.steps):
        said = (step.observation or "").lower()
        if normalize(step.action).startswith("focus on") and said.startswith("you focus") and thing in said:
            return i + 1
    return None


def _wiring(episode: Episode, q: Question) -> tuple[Circuit, set[int], int] | None:
    """The circuit (planned from the first look after the focus that shows its parts), the
    connections made and not undone since, and the waits since the last of them; None before."""
    start = after_focus(episode, q.thing)
    if start is None:
        return None
    looks = [episode.state_before(start)[0]] + [s.look or "" for s in episode.steps[start:]]
    plan = next((c for look in looks if (c := circuit_for(q, look)) is not None), None)
    if plan is None:
        return None
    made, waits = connected(episode.steps[start:], plan.connections)
    return plan, made, waits


def connected(steps: list[Step], connections: tuple[str, ...]) -> tuple[set[int], int]:
    """Which of `connections` (connect actions) `steps` made and did not undo since (moving a part
    disconnects it: "(disconnecting red wire)"), and the waits since the last one made."""
    made: set[int] = set()
    waits = 0
    for step in steps:
        action, said = normalize(step.action), (step.observation or "").lower()
        for name in _DISCONNECTING.findall(said):
            made -= {i for i, c in enumerate(connections) if unlabelled(name) in c or name in c}
        if action in connections and "now connected" in said:
            made.add(connections.index(action))
            waits = 0
        elif action.startswith("wait"):
            waits += 1
    return made, waits


def verdict(episode: Episode, q: Question) -> bool | None:
    """What the built circuit shows, once whole and waited on: True (the bulb on), False (off)."""
    wiring = _wiring(episode, q)
    if wiring is None:
        return None
    plan, made, waits = wiring
    if len(made) < len(plan.connections) or waits < WAITS:
        return None
    look = episode.state_before(len(episode.steps))[0].lower()
    return f"{plan.bulb}, which is on" in look


def build(episode: Episode, valid: list[str]) -> tuple[str, str] | None:
    """circuit-build: the focus on the thing where it is in view (the task asks for it first), then
    the next step of the gold paths' circuit (put the thing down, wire it in, wait), then the
    answer the bulb shows; else None."""
    q = question(episode.task_description)
    if q is None:
        return None
    if after_focus(episode, q.thing) is None:  # "First, focus on the unknown substance O"
        return focus_in_view(unlabelled(q.thing), episode.state_before(len(episode.steps))[0])
    wiring = _wiring(episode, q)
    if wiring is None:
        return None
    plan, made, waits = wiring
    inventory = episode.state_before(len(episode.steps))[1].lower()
    if unlabelled(q.thing) in inventory:
        return f"drop {unlabelled(q.thing)}", f"drop({unlabelled(q.thing)})"
    for i, connection in enumerate(plan.connections):
        if i not in made:
            a, b = connection.removeprefix("connect ").split(" to ")
            return connection, f"connect({a}, {b})"
    if waits < WAITS:
        return "wait1", "wait(1)"
    shows = verdict(episode, q)
    return _move(q, q.yes if shows else q.no, valid)


def _move(q: Question, box: str, valid: list[str]) -> tuple[str, str]:
    """The valid move of the thing into `box` (the name the valid actions give it), else the gold
    paths' own spelling."""
    for action in valid:
        move = MOVE.match(normalize(action))
        if (
            move
            and move.group(2) == box
            and _names_thing(move.group(1).removesuffix(" in inventory"), q.thing)
        ):
            return action, f"move({move.group(1)}, {box})"
    return f"move {q.thing} to {box}", f"move({q.thing}, {box})"


def pinned(episode: Episode, valid: list[str]) -> tuple[str, str] | None:
    """Once a circuit through the thing shows it conducts: the move of the thing into the
    conductive answer's box, and its sub-goal; else None."""
    q = question(episode.task_description)
    if q is None or not shown(episode, q):
        return None
    found = _move(q, q.yes, valid)
    return found if found[0] in valid else None
