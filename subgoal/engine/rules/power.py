"""power-build: where the task asks to turn a thing on with a circuit ("turn on the red light bulb
[by powering it using a renewable power source]. First, focus on the red light bulb. Then, create
an electrical circuit that powers it on": 3-1, 3-2), the thing is focused on where it is in view,
then the gold paths' circuit is wired: the source's anode and cathode to a wire each, the wires to the thing's cathode
and anode; then, as the gold paths do, a nonrenewable generator is activated and a tick waited.

A renewable source works only outside (the sun, the wind): there the thing, the source and the two
wires are carried first, as every renewable gold path does. The source is the battery where the task
names no kind, else one of the kind the look shows (a solar panel or a wind generator; a nuclear
generator). The models wire at random (dev: 3-1 at 74, 3-2 at 53 with the task rules, RESULTS §27).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from subgoal.engine.episode import Episode
from subgoal.engine.examples import room_of
from subgoal.engine.grounding import normalize
from subgoal.engine.rules.circuit import after_focus, connected, focus_in_view, wires_in

_TASK = re.compile(
    r"turn on the (?P<thing>[\w ]+?)(?: by powering it using an? (?P<kind>renewable|nonrenewable) power source)?\. "
    r"first, focus on the (?P=thing)\b",
    re.I,
)
SOURCES = {
    None: ("battery",),
    "renewable": ("solar panel", "wind generator"),
    "nonrenewable": ("nuclear generator",),
}
WAITS = 1  # the gold paths wait one tick with the circuit whole


@dataclass(frozen=True)
class Goal:
    thing: str  # what to turn on: "red light bulb", "electric motor"
    kind: str | None  # the power source asked for: renewable, nonrenewable, or any (None)


@lru_cache(maxsize=256)
def goal(task_description: str) -> Goal | None:
    match = _TASK.search(task_description)
    if match is None:
        return None
    return Goal(normalize(match["thing"]), normalize(match["kind"]) if match["kind"] else None)


@dataclass(frozen=True)
class Parts:
    source: str
    wires: tuple[str, str]

    def connections(self, thing: str) -> tuple[str, ...]:
        a, b = self.wires
        return (
            f"connect {self.source} anode to {a} terminal 1",
            f"connect {self.source} cathode to {b} terminal 1",
            f"connect {a} terminal 2 to cathode in {thing}",
            f"connect {b} terminal 2 to anode in {thing}",
        )


def parts_in(g: Goal, look: str) -> Parts | None:
    """A source of the kind asked for and two wires the look shows, or None."""
    look = look.lower()
    source = next((s for s in SOURCES[g.kind] if re.search(rf"\b{s}\b", look)), None)
    wires = wires_in(look)
    if source is None or len(wires) < 2:
        return None
    return Parts(source, (wires[0], wires[1]))


def _holds(inventory: str, name: str) -> bool:
    """The inventory runs a wire's name into its terminals ("a black wireits terminal 1 is ...")."""
    return re.search(rf"\b{re.escape(name)}", inventory) is not None


def pinned(episode: Episode, look: str, inventory: str) -> tuple[str, str] | None:
    """The next step of the circuit, and its sub-goal, or None."""
    g = goal(episode.task_description)
    if g is None:
        return None
    start = after_focus(episode, g.thing)
    if start is None:  # "First, focus on the red light bulb": where it is in view
        return focus_in_view(g.thing, look)
    steps = episode.steps[start:]
    looks = [episode.state_before(start)[0]] + [s.look or "" for s in steps]
    parts = next((p for seen in looks if (p := parts_in(g, seen)) is not None), None)
    if parts is None:
        return None
    held = inventory.lower()
    if g.kind == "renewable" and (room_of(look) or "").lower() != "outside":
        for name in (g.thing, parts.source, *parts.wires):
            if not _holds(held, name):
                return f"pick up {name}", f"pick_up({name})"
        return "teleport to outside", "navigate_to(outside)"
    for name in (g.thing, parts.source, *parts.wires):  # carried: put down to be wired
        if _holds(held, name):
            return f"drop {name}", f"drop({name})"
    made, waits = connected(steps, parts.connections(g.thing))
    for i, connection in enumerate(parts.connections(g.thing)):
        if i not in made:
            a, b = connection.removeprefix("connect ").split(" to ")
            return connection, f"connect({a}, {b})"
    if g.kind == "nonrenewable" and not any(normalize(s.action) == f"activate {parts.source}" for s in steps):
        return f"activate {parts.source}", f"activate({parts.source})"
    if waits < WAITS:
        return "wait1", "wait(1)"
    return None
