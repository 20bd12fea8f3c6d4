"""substance-recipe: where the task asks for a substance a recipe gives (6-1: "create the substance
'smores'. A recipe and some of the ingredients might be found near the kitchen"), the recipe is
read, its ingredients put into one container (water from the sink), mixed, and the substance made
focused on, as every train plan of 6-1 does.

The models cannot act on the recipe: the valid actions call it `instructions to make smores`, so
the planner's `pick_up(recipe)` grounds to nothing, the agent searches the house, and no dev episode
of 6-1 got past 25 (RESULTS §27). The simulator knows it as `recipe` (the gold paths' `read recipe
in inventory`), and a container by its own name (`metal pot`, `tin cup`) whatever it holds.

The rule reads the look, the inventory and the recipe's text; where an ingredient is not in reach
it opens what is closed in the room, then leaves the search to the models.
"""

from __future__ import annotations

import re
from functools import lru_cache

from subgoal.engine.episode import Episode
from subgoal.engine.examples import visited_rooms
from subgoal.engine.grounding import normalize
from subgoal.engine.rules.search import closed_doors

_TASK = re.compile(r"create the substance '(?P<substance>[^']+)'", re.I)
_READS = re.compile(r"to make (?P<substance>.+?), you need to mix (?P<ingredients>[^.]+)\.", re.I)
# Containers of the train plans of 6-1, best first: a pot keeps its name whatever it holds.
CONTAINERS = ("metal pot", "ceramic cup", "tin cup", "glass cup", "wood cup", "plastic cup", "jug", "bowl")
_TITLE = re.compile(r"recipe titled instructions to make [^\n]*")
WATER = "water"
ROOMS = ("kitchen", "workshop", "living room", "bedroom", "art studio", "bathroom", "hallway", "greenhouse")


@lru_cache(maxsize=256)
def substance(task_description: str) -> str | None:
    match = _TASK.search(task_description)
    return normalize(match["substance"]) if match else None


def held_back(episode: Episode, target: str) -> bool:
    """Whether a focus on `target` waits: a recipe task, and not the substance it makes."""
    made = substance(episode.task_description)
    return made is not None and normalize(target) != made


def ingredients(episode: Episode) -> list[str] | None:
    """What the recipe read says to mix, or None before it was read."""
    for step in episode.steps:
        found = _READS.search(step.observation or "")
        if found:
            return [normalize(p) for p in found["ingredients"].split(",")]
    return None


def _held(text: str, container: str) -> str | None:
    """What `container` holds as the look or inventory says ("a metal pot (containing a banana,
    bread)"): the text in the brackets, "" for nothing, None where it is not there."""
    found = re.search(rf"\b{re.escape(container)} \(containing ([^)]*)\)", text)
    if found is None:
        return None
    return "" if found[1] == "nothing" else found[1]


def _names(text: str, thing: str) -> bool:
    return re.search(rf"(?<![\w-]){re.escape(thing)}\b", text) is not None


def pinned(episode: Episode, look: str, inventory: str) -> tuple[str, str] | None:
    """The next step of the recipe, and its sub-goal, or None."""
    made = substance(episode.task_description)
    if made is None:
        return None
    # The recipe's title names the substance and some ingredients: "instructions to make smores".
    look, inventory = (_TITLE.sub("recipe", t.lower()) for t in (look, inventory))
    if _names(look, made) or _names(inventory, made):
        return f"focus on {made}", f"focus_on({made})"
    wanted = ingredients(episode)
    if wanted is None:
        if "recipe" in inventory:
            return "read recipe in inventory", "read(recipe)"
        if "recipe" in look:
            return "pick up recipe", "pick_up(recipe)"
        return _search(episode, look)
    # The container held is named `in inventory`: the room may have another of its kind.
    container = next((c for c in CONTAINERS if _held(inventory, c) is not None), None)
    in_sink = next((c for c in CONTAINERS if re.search(rf"in the sink is: [^.]*\b{c}\b", look)), None)
    if container is None and in_sink is not None:
        return _water(look, in_sink)
    held = _held(inventory, container) or "" if container else ""
    missing = [i for i in wanted if not _names(held, i)]
    loose = inventory.replace(held, "")
    for thing in missing:  # each ingredient in reach into the inventory, then into the container
        if thing == WATER:
            continue
        if container and _names(loose, thing):
            return f"move {thing} to {container} in inventory", f"move({thing}, {container})"
        if re.search(rf"\bcup \(containing {re.escape(thing)}\)", look):
            # A liquid in a cup (blue paint in the art studio) is poured, not picked up.
            if container:
                return (
                    f"pour cup containing {thing} into {container} in inventory",
                    f"pour({thing}, {container})",
                )
            continue
        if not _names(loose, thing) and _names(look, thing):
            jar = _closed_around(episode, look, thing)
            if jar:
                return f"open {jar}", f"open({jar})"
            return f"pick up {thing}", f"pick_up({thing})"
    if container is None:
        empty = next((c for c in CONTAINERS if _held(look, c) == ""), None)
        if empty:
            return f"pick up {empty}", f"pick_up({empty})"
        return _search(episode, look)
    if missing == [WATER]:
        if not re.search(r"\ba sink\b", look):
            return "teleport to kitchen", "navigate_to(kitchen)"
        return f"move {container} in inventory to sink", f"move({container}, sink)"
    if missing:
        return _search(episode, look)
    return f"mix {container} in inventory", f"mix({container})"


def _closed_around(episode: Episode, look: str, thing: str) -> str | None:
    """The container `thing` lies in where it may be closed: the look shows a jar's contents
    whether or not it is open ("a glass jar (containing a substance called sodium chloride)"), and
    the simulator refuses to reach in. None where nothing holds it or opening it was tried."""
    around = re.search(rf"\b(?:an? )?([\w ]+?) \(containing [^)]*(?<![\w-]){re.escape(thing)}\b", look)
    if around is None:
        return None
    jar = around[1].split(". ")[-1].removeprefix("a ").removeprefix("an ").strip()
    tried = any(normalize(s.action) == f"open {jar}" for s in episode.steps)  # a bowl does not open
    return None if tried else jar


def _water(look: str, container: str) -> tuple[str, str]:
    """The container in the sink: the tap on, then (water in) off, then the container picked up."""
    if re.search(r"\bsink, which is turned on", look):
        return "deactivate sink", "deactivate(sink)"
    if _held(look, container) is not None and _names(_held(look, container) or "", WATER):
        return f"pick up {container}", f"pick_up({container})"
    return "activate sink", "activate(sink)"


def _search(episode: Episode, look: str) -> tuple[str, str] | None:
    """What is closed here opened, then the rooms not seen yet, the kitchen first: the train plans
    find the recipe, the ingredients and a container in the kitchen, its cupboard or the workshop."""
    doors = closed_doors(look)
    if doors:
        return f"open {doors[0]}", f"open({doors[0]})"
    seen = {room.lower() for room in visited_rooms(episode, len(episode.steps))}
    room = next((r for r in ROOMS if r not in seen), None)
    return (f"teleport to {room}", f"navigate_to({room})") if room else None
