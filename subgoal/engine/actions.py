"""What a ScienceWorld action says: its verb and the objects it acts on, by the simulator's action
grammar, and the kinds of device the tasks name (heat sources, coolers, water sources). The rules
teacher builds sub-goals from it; the sub-goal checks, the vocabulary and the teleport rewrite read
actions with it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

HEAT_SOURCES = ("stove", "blast furnace", "oven", "fire pit", "hot plate", "lighter")
COOLERS = ("freezer", "fridge", "ice box")
WATER_SOURCES = ("sink", "bathtub", "toilet")


@dataclass(frozen=True)
class Act:
    """One parsed gold action."""

    verb: str  # nav, open, close, pick, drop, focus, move, pour, mix, activate, deactivate, measure,
    # use, connect, disconnect, wait, observe, answer, or the action's first word
    objects: tuple[str, ...] = ()
    ticks: int = 0  # for waits: how many time steps


# (verb, pattern) in priority order; the first that matches the whole action wins.
_GRAMMAR: list[tuple[str, re.Pattern[str]]] = [
    (verb, re.compile(pattern, re.I))
    for verb, pattern in [
        ("answer", r"(\d+)"),
        ("wait", r"wait ?(\d*)"),
        ("nav", r"(?:open door to|go to|teleport to) (.+)"),
        ("close", r"close (.+)"),
        ("open", r"open (.+)"),
        ("pick", r"pick up (.+)"),
        ("drop", r"(?:drop|put down) (.+)"),
        ("focus", r"focus on (.+)"),
        ("move", r"move (.+) to (.+)"),
        ("pour", r"pour (.+) (?:into|in) (.+)"),
        ("mix", r"mix (.+)"),
        ("activate", r"activate (.+)"),
        ("deactivate", r"deactivate (.+)"),
        ("measure", r"use (.*thermometer.*?) on (.+)"),
        ("use", r"use (.+?) on (.+)"),
        ("connect", r"connect (.+?) to (.+)"),
        ("disconnect", r"disconnect (.+)"),
        ("observe", r"look around|look at .+|look in .+|examine .+|read .+|inventory|task"),
    ]
]


def parse(action: str) -> Act:
    text = " ".join(action.split())
    for verb, pattern in _GRAMMAR:
        match = pattern.fullmatch(text)
        if not match:
            continue
        if verb == "wait":
            return Act("wait", ticks=int(match.group(1)) if match.group(1) else 10)
        return Act(verb, tuple(_object(g) for g in match.groups()))
    head, _, rest = text.partition(" ")
    return Act(re.sub(r"\W+", "_", head.lower()) or "act", (_object(rest),) if rest else ())


def _object(text: str) -> str:
    """What an object is called in a sub-goal: without "the" and without "in inventory"."""
    text = re.sub(r"^the ", "", text.strip(), flags=re.I)
    return re.sub(r" in inventory$", "", text, flags=re.I)
