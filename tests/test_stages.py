"""Life stages in order (8-x): what a focus names, read off the look, and which stage comes next.
The looks are the simulator's own (identify-life-stages-1 and -2 test variations)."""

from __future__ import annotations

from subgoal.engine.rules import stages

PLANTS = "Your task is to focus on the life stages of the lemon plant, starting from earliest to latest. The plants are located outside."
GARDEN = """This outside location is called the outside. Here you see:
\tthe agent
\ta substance called air
\ta hatchling dove
\ta dove egg
\ta self watering flower pot 1 (containing a lemon tree in the seedling stage, soil, a substance called water)
\ta self watering flower pot 3 (containing a lemon tree in the reproducing stage, soil)
\ta self watering flower pot 4 (containing a lemon seed, soil, a substance called water)
\ta self watering flower pot 5 (containing a lemon tree in the adult stage, soil)
\ta self watering flower pot 6 (containing a dead lemon tree, soil, a substance called water)
\ta substance called wood
You also see:
\tA door to the kitchen (that is open)
"""
BUTTERFLY = "Your task is to focus on the 4 life stages of the butterfly, starting from earliest to latest."
FROG = "Your task is to focus on the 3 life stages of the frog, starting from earliest to latest."
LARVAE = """This outside location is called the outside. Here you see:
\tthe agent
\ta caterpillar
\ta tadpole
\ta hatchling giant tortoise
\ta juvenile elephant
"""


def outside(*things: str) -> str:
    listed = "".join(f"\t{t}\n" for t in things)
    return f"This outside location is called the outside. Here you see: \n\tthe agent\n{listed}"


def test_only_tasks_that_ask_for_an_order_of_stages_have_one():
    assert stages.organism(PLANTS) == {"lemon"}
    assert stages.organism(
        "Your task is to focus on the 4 life stages of the giant tortoise, starting from earliest to latest."
    ) == {"giant", "tortoise"}
    assert stages.organism("Your task is to boil water. First, focus on the substance.") is None
    assert stages.in_order("Your task is to boil water.", "anything", GARDEN, [])


def test_the_stage_of_a_name_is_read_off_the_look():
    words = {"lemon"}
    assert stages.stage("lemon seed", GARDEN, words) == 0
    assert stages.stage("lemon tree in self watering flower pot 1", GARDEN, words) == 1  # the pot's seedling
    assert stages.stage("living thing in self watering flower pot 5", GARDEN, words) == 3
    assert stages.stage("adult lemon tree", GARDEN, words) == 3
    assert (
        stages.stage("living thing in flower pot containing lemon seed and soil and water", GARDEN, words)
        == 0
    )
    for not_a_stage in (
        "dead lemon tree",  # dead is no stage to focus on
        "self watering flower pot 4",
        "flower pot containing lemon seed and soil and water",
        "soil in self watering flower pot 1",
        "substance in self watering flower pot 1",
        "dove egg",  # another organism
        "orange",
    ):
        assert stages.stage(not_a_stage, GARDEN, words) is None, not_a_stage


def test_each_focus_is_on_the_earliest_stage_in_view_after_the_last_one():
    assert stages.in_order(PLANTS, "lemon seed", GARDEN, [])
    assert not stages.in_order(
        PLANTS, "adult lemon tree", GARDEN, []
    )  # the adult before the seed: out of order
    seed = [("lemon seed", GARDEN)]
    assert not stages.in_order(PLANTS, "lemon seed", GARDEN, seed)  # the same stage twice ends at -100
    assert stages.in_order(PLANTS, "lemon tree in self watering flower pot 1", GARDEN, seed)
    assert not stages.in_order(PLANTS, "adult lemon tree", GARDEN, seed)
    grown = outside("a self watering flower pot 1 (containing a lemon tree in the adult stage, soil)")
    assert stages.next_stage(PLANTS, grown, seed) == 3  # the seedling grew on: the earliest left
    assert stages.next_stage(PLANTS, outside("a lemon seed"), seed) is None  # nothing later yet: wait


def test_a_name_that_only_says_the_organism_is_the_stage_in_view():
    """Once hatched, the look shows `a caterpillar`, and `focus on butterfly` is the simulator's
    name for it; `a tadpole` beside it is the frog's, at the same stage."""
    egg = [("butterfly", outside("a butterfly egg"))]
    assert stages.stage("butterfly", outside("a butterfly egg"), {"butterfly"}) == 0
    assert stages.in_order(BUTTERFLY, "butterfly", LARVAE, egg)
    assert stages.in_order(FROG, "frog", LARVAE, [("egg frog", outside("a frog egg"))])
    assert not stages.in_order(BUTTERFLY, "caterpillar", LARVAE, egg)  # a bare name may be anyone's
    assert not stages.in_order(BUTTERFLY, "agent", LARVAE, egg)
    tortoise = (
        "Your task is to focus on the 4 life stages of the giant tortoise, starting from earliest to latest."
    )
    assert stages.next_stage(tortoise, LARVAE, [("egg giant tortoise", outside("a giant tortoise egg"))]) == 1
