"""A substance made by its recipe (rules/recipe.py): the recipe found and read, the ingredients put
into one held container, water from the sink, the mix, and the focus on what it made."""

from __future__ import annotations

from subgoal.engine.episode import Episode, Step
from subgoal.engine.rules.recipe import ingredients, pinned, substance

SALT_WATER = (
    "Your task is to use chemistry to create the substance 'salt water'. A recipe and some of the "
    "ingredients might be found near the kitchen. When you are done, focus on the salt water."
)
READ = (
    "read recipe in inventory",
    "The recipe reads:\nTo make salt water, you need to mix sodium chloride, water.",
)


def kitchen(*things: str, sink: str = "nothing", tap: str = "off") -> str:
    inside = "".join(f"\t{t}\n" for t in things)
    return (
        f"This room is called the kitchen. In it, you see: \n\tthe agent\n{inside}"
        f"\ta sink, which is turned {tap}. In the sink is: {sink}.\n"
        "\ta cupboard. The cupboard door is closed. \nYou also see:\n\tA door to the hallway (that is open)\n"
    )


def held(*things: str) -> str:
    return "In your inventory, you see:\n" + "".join(f"\t{t}\n" for t in things)


def played(*steps: tuple[str, str], start: str = "kitchen") -> Episode:
    look = (
        kitchen()
        if start == "kitchen"
        else f"This room is called the {start}. In it, you see: \n\tthe agent\n"
    )
    episode = Episode("6-1", "chemistry-mix", 0, "dev", SALT_WATER, steps=[])
    episode.initial_look = look
    episode.steps = [Step(a, o, 0, 0, look, "") for a, o in steps]
    return episode


def test_the_task_names_the_substance_and_the_recipe_read_its_ingredients() -> None:
    assert substance(SALT_WATER) == "salt water"
    assert substance("Your task is to use chemistry to create green paint.") is None
    assert ingredients(played()) is None
    assert ingredients(played(READ)) == ["sodium chloride", "water"]


def test_the_recipe_is_found_by_its_title_and_read_before_anything_else() -> None:
    titled = "A recipe titled instructions to make salt water"  # the title names the substance: no focus
    assert pinned(played(), kitchen(titled), held())[0] == "pick up recipe"
    assert pinned(played(), kitchen(), held(titled))[0] == "read recipe in inventory"
    assert pinned(played(), kitchen(), held())[0] == "open cupboard"  # not in view: what is closed
    assert (
        pinned(played(start="hallway"), "This room is called the hallway.", held())[0]
        == "teleport to kitchen"
    )


def test_ingredients_go_into_the_container_held_water_from_the_sink_then_the_mix_and_focus() -> None:
    episode = played(READ)
    jar = "a glass jar (containing a substance called sodium chloride)"
    assert (
        pinned(episode, kitchen(jar), held())[0] == "open glass jar"
    )  # the look shows a closed jar's contents
    opened = played(READ, ("open glass jar", "The glass jar is now open."))
    assert pinned(opened, kitchen(jar), held())[0] == "pick up sodium chloride"
    assert (
        pinned(opened, kitchen("a tin cup (containing nothing)"), held("sodium chloride"))[0]
        == "pick up tin cup"
    )
    cup = "a tin cup (containing nothing)"
    assert (
        pinned(opened, kitchen(), held(cup, "sodium chloride"))[0]
        == "move sodium chloride to tin cup in inventory"
    )
    salted = "a tin cup (containing sodium chloride)"
    assert pinned(opened, kitchen(), held(salted))[0] == "move tin cup in inventory to sink"
    assert pinned(opened, kitchen(sink=salted), held())[0] == "activate sink"
    wet = "a tin cup (containing sodium chloride, water)"
    assert pinned(opened, kitchen(sink=wet, tap="on"), held())[0] == "deactivate sink"
    assert pinned(opened, kitchen(sink=wet), held())[0] == "pick up tin cup"
    assert pinned(opened, kitchen(), held(wet))[0] == "mix tin cup in inventory"
    assert pinned(opened, kitchen(), held("a tin cup (containing salt water)"))[0] == "focus on salt water"


def test_no_focus_but_on_the_substance_made() -> None:
    from subgoal.engine.rules.recipe import held_back

    assert held_back(played(), "sodium chloride") and not held_back(played(), "salt water")
    other = Episode(
        "6-2", "paint", 0, "dev", "Your task is to use chemistry to create green paint.", steps=[]
    )
    assert not held_back(other, "sodium chloride")
