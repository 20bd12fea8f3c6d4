"""paint-recipe: where the task asks for a paint colour (6-2, 6-3), the paints the colour is mixed
from are poured into one container and mixed, and the paint made is focused on; no other focus.

The models know which paints the train variations mixed (blue and yellow for green) but not the
colour wheel: asked for orange, the planner pours blue, then every paint in the room, then focuses
on `paint in bowl`, which the simulator resolves to whatever paint comes first (RESULTS §27: dev
6-2 at 12, 6-3 at 0 with the task rules). The colour wheel is the simulator's own:
- a secondary colour is two primaries: green = blue + yellow, orange = red + yellow, violet = red +
  blue;
- a tertiary colour names a primary and a secondary (`yellow-green`: yellow + green); the 6-3
  tasks ask for a focus on the secondary ("the intermediate paint") before the tertiary.

The rule reads only the look and the valid actions, so it acts once the paints are in view (it opens
the cupboards there when a paint is missing); going to the art studio stays the models' (every
train plan of 6-x goes there first).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from subgoal.engine.episode import Episode
from subgoal.engine.grounding import normalize
from subgoal.engine.rules.search import closed_doors

PRIMARIES = frozenset({"red", "yellow", "blue"})
SECONDARIES = {"green": ("blue", "yellow"), "orange": ("red", "yellow"), "violet": ("red", "blue")}
_TASK = re.compile(r"create (?P<colour>[a-z]+(?:-[a-z]+)?) paint\b", re.I)
_INTERMEDIATE = re.compile(r"focus on the intermediate", re.I)
_POUR = re.compile(r"^pour (?P<what>.+) into (?P<into>.+)$")
_CUP = re.compile(r"^(?:\w+ )?cup containing (?P<contents>.+?)(?: (?:in|on) [\w ]+)?$")
_WHERE = re.compile(r" (?:in|on) [\w ]+$")


@dataclass(frozen=True)
class Stage:
    colour: str  # the paint to make and focus on now: "green", "yellow-green"
    recipe: frozenset[str]  # the paints it is mixed from, each as the simulator names it: "blue paint"


@lru_cache(maxsize=256)
def stages(task_description: str) -> tuple[Stage, ...]:
    """What the task asks to make, in order: one stage for a secondary colour, two for a tertiary
    one (its secondary, then itself); () where the task asks for no paint the wheel makes."""
    match = _TASK.search(task_description)
    if match is None:
        return ()
    colour = match["colour"].lower()
    if colour in SECONDARIES:
        return (_stage(colour, SECONDARIES[colour]),)
    parts = colour.split("-")
    secondary = [p for p in parts if p in SECONDARIES]
    primary = [p for p in parts if p in PRIMARIES]
    if len(parts) != 2 or len(secondary) != 1 or len(primary) != 1:
        return ()
    first = _stage(secondary[0], SECONDARIES[secondary[0]])
    then = _stage(colour, (secondary[0], primary[0]))
    # Where the task does not ask for the intermediate focus, only the tertiary is focused on.
    return (first, then) if _INTERMEDIATE.search(task_description) else (then,)


def _stage(colour: str, parts: tuple[str, str]) -> Stage:
    return Stage(colour, frozenset(f"{p} paint" for p in parts))


def is_paint(target: str, colour: str) -> bool:
    """Whether `target` (a focus's) is the paint of `colour` (`green-blue` is also `green blue`)."""
    spelled = {colour, colour.replace("-", " ")}
    name = _WHERE.sub("", normalize(target))
    return any(name == f"{c} paint" for c in spelled)


def stage_now(episode: Episode) -> Stage | None:
    """The stage not yet focused on, or None (no paint task, or every stage focused on)."""
    for stage in stages(episode.task_description):
        focused = any(
            is_paint(s.action.removeprefix("focus on "), stage.colour)
            and (s.observation or "").lower().startswith("you focus")
            for s in episode.steps
            if normalize(s.action).startswith("focus on ")
        )
        if not focused:
            return stage
    return None


def held_back(episode: Episode, target: str) -> bool:
    """Whether a focus on `target` waits: a paint task whose current paint it is not."""
    if not stages(episode.task_description):
        return False
    stage = stage_now(episode)
    return stage is None or not is_paint(target, stage.colour)


def contents(name: str, look: str) -> list[str] | None:
    """What the container the valid actions call `name` holds, or None where that is not clear:
    a cup's name says it (`cup containing blue paint and yellow paint in art studio`); another
    container's comes from the look (`a bowl (containing red paint)`), where it is the only one."""
    cup = _CUP.match(name)
    if cup:
        held = cup["contents"]
        return [] if held == "nothing" else held.split(" and ")
    base = _WHERE.sub("", name)
    if base.split()[-1] == "cup":  # a cup the name does not tell apart from the others
        return None
    found = re.findall(rf"\b{re.escape(base)} \(containing ([^)]*)\)", look.lower())
    if len(found) != 1:
        return None
    return [] if found[0] == "nothing" else [p.strip() for p in found[0].split(",")]


def _in_reach(name: str, look: str) -> bool:
    """The valid actions name cups in closed cupboards too (`cup containing blue paint in
    cupboard`): a thing is in reach where the look shows what it holds, and not behind a door."""
    look = look.lower()
    where = re.search(r" (?:in|on) ([\w ]+)$", name)
    if where and re.search(rf"\b{re.escape(where[1])} door is closed", look):
        return False
    held = contents(name, look)
    return held is not None and all(f"(containing {p}" in look or f", {p}" in look for p in held)


def pinned(episode: Episode, look: str, valid: list[str]) -> tuple[str, str] | None:
    """The next action of the recipe the valid actions allow, and its sub-goal, or None."""
    stage = stage_now(episode)
    if stage is None:
        return None
    spelled = {normalize(a): a for a in valid}
    actions = list(spelled)
    for action in actions:
        if action.startswith("focus on ") and is_paint(action.removeprefix("focus on "), stage.colour):
            return spelled[action], f"focus_on({stage.colour} paint)"
    # The valid actions call a container's only paint `paint in jug`; the simulator still knows it
    # by its colour, as the gold paths focus on it ("focus on yellow-green paint").
    spelling = "[- ]".join(re.escape(part) for part in stage.colour.split("-"))  # `blue green` too
    made = re.search(rf"(?<![\w-]){spelling} paint\b", look.lower())
    if made:
        return f"focus on {made[0]}", f"focus_on({stage.colour} paint)"
    pours = [(m["what"], m["into"]) for a in actions if (m := _POUR.match(a))]
    containers = {into for _, into in pours}
    held = {name: c for name in containers if (c := contents(name, look)) is not None}
    fits = {name: c for name, c in held.items() if set(c) <= stage.recipe}
    if not fits:
        return None
    for name, c in fits.items():
        if set(c) == stage.recipe and f"mix {name}" in actions:
            return spelled[f"mix {name}"], f"mix({name})"

    def rank(name: str) -> tuple[bool, bool, int]:
        c = set(fits[name])
        made = any(p.split()[0] not in PRIMARIES for p in c)  # holds the secondary made
        return made, _CUP.match(name) is None, len(c)

    into = max(sorted(fits), key=rank)
    missing = stage.recipe - set(fits[into])
    for what, target in pours:
        c = contents(what, look) if target == into and what != into and _in_reach(what, look) else None
        if c and len(c) == 1 and c[0] in missing:
            return spelled[f"pour {what} into {into}"], f"pour({what}, {into})"
    for door in closed_doors(look):  # the paint missing may be behind a door
        for name in (door, door.split()[-1]):  # the valid actions say `open cupboard` for the large one
            if f"open {name}" in spelled:
                return spelled[f"open {name}"], f"open({name})"
    return None
