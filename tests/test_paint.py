"""Paint made by the colour wheel (rules/paint.py): the stages a task asks for, what a container
holds, the recipe's next action, and the focuses held back."""

from __future__ import annotations

import pytest

from subgoal.engine.episode import Episode, Step
from subgoal.engine.rules.paint import Stage, contents, held_back, pinned, stages

ORANGE = "Your task is to use chemistry to create orange paint. When you are done, focus on the orange paint."
YELLOW_GREEN = (
    "Your task is to use chemistry to create yellow-green paint. When you are part-way done, focus on the "
    "intermediate (secondary color) paint you created.  When you are completely done, focus on the green paint."
)
STUDIO = (
    "This room is called the art studio. In it, you see: \n\tthe agent\n\ta table. On the table is: "
    "a bowl (containing {bowl}).\n\ta wood cup (containing red paint)\n\ta wood cup (containing blue paint)\n"
    "\ta wood cup (containing yellow paint)\nYou also see:\n\tA door to the hallway (that is open)\n"
)


def played(description: str, *steps: tuple[str, str]) -> Episode:
    return Episode("6-x", "paint", 0, "dev", description, steps=[Step(a, o, 0, 0, "", "") for a, o in steps])


def pours(into: str = "bowl") -> list[str]:
    return [f"pour cup containing {c} paint into {into}" for c in ("red", "blue", "yellow")] + [
        "focus on paint in bowl",
        f"mix {into}",
        "pour bowl into table",
    ]


def test_the_task_names_one_stage_per_colour_made_a_tertiary_its_secondary_first() -> None:
    assert stages(ORANGE) == (Stage("orange", frozenset({"red paint", "yellow paint"})),)
    assert stages(YELLOW_GREEN) == (
        Stage("green", frozenset({"blue paint", "yellow paint"})),
        Stage("yellow-green", frozenset({"green paint", "yellow paint"})),
    )
    assert stages("Your task is to use chemistry to create the substance 'salt water'.") == ()
    assert stages("Your task is to use chemistry to create brown paint.") == ()  # not on the wheel


def test_a_container_holds_what_its_name_or_the_look_says_and_nothing_is_guessed() -> None:
    look = STUDIO.format(bowl="red paint, yellow paint")
    assert contents("cup containing blue paint and yellow paint in art studio", look) == [
        "blue paint",
        "yellow paint",
    ]
    assert contents("cup containing nothing", look) == []
    assert contents("bowl", look) == ["red paint", "yellow paint"]
    assert contents("cup in paint cupboard", look) is None  # which cup: the name does not say
    assert contents("table", look) is None


def test_the_recipe_pours_its_paints_into_one_container_mixes_then_focuses() -> None:
    episode = played(ORANGE)
    assert pinned(episode, STUDIO.format(bowl="nothing"), pours()) == (
        "pour cup containing red paint into bowl",
        "pour(cup containing red paint, bowl)",
    )
    assert (
        pinned(episode, STUDIO.format(bowl="red paint"), pours())[0]
        == "pour cup containing yellow paint into bowl"
    )
    assert pinned(episode, STUDIO.format(bowl="red paint, yellow paint"), pours())[0] == "mix bowl"
    # The only paint in the bowl is `paint in bowl` to the valid actions, its colour to the simulator.
    assert pinned(episode, STUDIO.format(bowl="orange paint"), pours())[0] == "focus on orange paint"


def test_a_container_spoiled_by_another_paint_is_left_for_a_cup_of_the_recipe() -> None:
    episode = played(ORANGE)
    action, _ = pinned(
        episode,
        STUDIO.format(bowl="blue paint"),
        [*pours(), "pour cup containing yellow paint into cup containing red paint"],
    )
    assert action == "pour cup containing yellow paint into cup containing red paint"


def test_a_tertiary_focuses_on_its_secondary_then_adds_the_primary_to_it() -> None:
    episode = played(YELLOW_GREEN)
    assert pinned(episode, STUDIO.format(bowl="green paint"), pours())[0] == "focus on green paint"
    episode = played(YELLOW_GREEN, ("focus on green paint", "You focus on the green paint."))
    assert (
        pinned(episode, STUDIO.format(bowl="green paint"), pours())[0]
        == "pour cup containing yellow paint into bowl"
    )
    look = STUDIO.format(bowl="yellow-green paint")
    assert pinned(episode, look, pours())[0] == "focus on yellow-green paint"


@pytest.mark.parametrize(
    ("steps", "target", "held"),
    [
        ((), "paint in bowl", True),  # the simulator picks the paint: blue, red ...
        ((), "green paint", False),
        ((), "yellow-green paint", True),  # its secondary first
        ((("focus on green paint", "You focus on the green paint."),), "green paint", True),
        ((("focus on green paint", "You focus on the green paint."),), "yellow-green paint", False),
    ],
)
def test_no_focus_but_on_the_paint_the_stage_makes(steps: tuple, target: str, held: bool) -> None:
    assert held_back(played(YELLOW_GREEN, *steps), target) is held
    assert held_back(played("Your task is to boil water.", *steps), target) is False


def test_a_paint_out_of_reach_is_not_poured_but_its_cupboard_opened() -> None:
    look = STUDIO.format(bowl="red paint").replace("\ta wood cup (containing yellow paint)\n", "") + (
        "\ta large cupboard. The large cupboard door is closed.\n"
    )
    valid = [*pours(), "open large cupboard"]  # the valid actions name the cup in the cupboard too
    assert pinned(played(ORANGE), look, valid) == ("open large cupboard", "open(large cupboard)")


def test_a_tertiary_paint_the_look_spells_with_a_space_is_focused_on_as_it_is_spelled() -> None:
    episode = played(YELLOW_GREEN, ("focus on green paint", "You focus on the green paint."))
    assert (
        pinned(episode, STUDIO.format(bowl="yellow green paint"), pours())[0] == "focus on yellow green paint"
    )
