"""Renamed train examples (augment.py): names swapped within their slot, everywhere, consistently."""

from __future__ import annotations

import random

from subgoal.engine.augment import name_pools, rename_share, renamed, slots_of
from subgoal.engine.examples import Example


def planner(target: str, source: str) -> Example:
    return Example("planner", source, target, "1-1", 0, 0)


def executor(subgoal: str, target: str, source: str) -> Example:
    return Example("executor", f"subgoal: {subgoal} </s> {source}", target, "1-1", 0, 0, subgoal)


def test_slots_are_verb_and_place_longest_name_first_numbers_and_looks_left_alone():
    assert slots_of(planner("move(apple seed, flower pot 2)", "")) == [
        ("move/1", "flower pot 2"),
        ("move/0", "apple seed"),
    ]
    assert slots_of(planner("wait(5)", "")) == []
    assert slots_of(planner("pick_up(flower pot 1 containing soil)", "")) == []
    assert slots_of(planner("not a sub-goal", "")) == []


def test_a_name_is_swapped_everywhere_for_one_of_its_slot_the_input_does_not_hold():
    ex = planner(
        "pick_up(apple)",
        "task: melt apple. Apple first. </s> look: an apple, a red apple, an apple seed, a pineapple",
    )
    pools = {"pick_up/0": ["apple", "banana", "pineapple"]}
    out = renamed(ex, pools, random.Random(0))
    # "pineapple" is in the input already: only "banana" can stand in; words that merely contain the
    # name ("pineapple") are left, whole words are swapped in every case they are spelled.
    assert out.target == "pick_up(banana)"
    assert out.source == (
        "task: melt banana. banana first. </s> look: an banana, a red banana, an banana seed, a pineapple"
    )


def test_the_executor_sub_goal_input_and_action_are_swapped_together():
    ex = executor("heat(metal pot, stove)", "move metal pot to stove", "look: a metal pot, a stove")
    pools = name_pools(
        [ex, executor("heat(tin cup, oven)", "move tin cup to oven", "look: a tin cup, an oven")]
    )
    out = renamed(ex, pools, random.Random(1))
    assert out.subgoal == "heat(tin cup, oven)"
    assert out.target == "move tin cup to oven"
    assert out.source == "subgoal: heat(tin cup, oven) </s> look: a tin cup, a oven"


def test_a_name_not_in_the_input_is_not_swapped():
    ex = planner("navigate_to(kitchen)", "task: boil water")
    assert renamed(ex, {"navigate_to/0": ["kitchen", "bedroom"]}, random.Random(0)) is ex


def test_share_is_seeded_and_zero_or_a_flat_role_changes_nothing():
    examples = [planner(f"pick_up(thing {i})", f"look: thing {i}") for i in range(40)]
    half = rename_share(examples, 0.5, seed=3)
    assert half == rename_share(examples, 0.5, seed=3)
    changed = sum(a is not b for a, b in zip(examples, half, strict=True))
    assert 10 < changed < 30
    assert rename_share(examples, 0.0, seed=3) is examples
    flat = [Example("flat", "look: a cup", "pick up cup", "1-1", 0, 0)]
    assert rename_share(flat, 1.0, seed=3) is flat
