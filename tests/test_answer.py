"""Answers set by a reading (rules/answer.py): the task's conditions read from its description, and
what the thermometer's readings so far show of each."""

from __future__ import annotations

import pytest

from subgoal.engine.episode import Episode, Step
from subgoal.engine.rules.answer import Condition, conditions, held_back, holds, placed_in, readings, shown

MELT = (
    "Your task is to measure the melting point of solid unknown substance C, which is located around the "
    "kitchen. First, focus on the thermometer. Next, focus on the solid unknown substance C. If the melting "
    "point of solid unknown substance C is above 150.0 degrees celsius, focus on the orange box. If the "
    "melting point of solid unknown substance C is below 150.0 degrees celsius, focus on the yellow box."
)
PLACE = (
    "Your task is to measure the temperature of metal fork, which is located around the kitchen. First, "
    "focus on the thermometer. Next, focus on the metal fork. If the metal fork temperature is above 25.0 "
    "degrees celsius, place it in the blue box. If the metal fork temperature is below 25.0 degrees "
    "celsius, place it in the green box. The boxes are located around the kitchen."
)


def reading(thing: str, degrees: float) -> Step:
    return Step(
        f"use thermometer in inventory on {thing}",
        f"the thermometer measures a temperature of {degrees:g} degrees celsius",
        0,
        0,
        "",
        "",
    )


def played(description: str, *steps: Step) -> Episode:
    return Episode("2-3", "measure", 0, "test", description, steps=list(steps))


def test_conditions_are_read_with_the_thing_as_the_simulator_renames_it() -> None:
    orange, yellow = conditions(MELT)
    # the state and the one-letter label left out, as the simulator's valid actions name it
    assert orange == Condition("melting point", "unknown substance", True, 150.0, "focus", "orange box")
    assert (yellow.above, yellow.box) == (False, "yellow box")
    blue, green = conditions(PLACE)
    assert blue == Condition("temperature", "metal fork", True, 25.0, "place", "blue box")
    assert green.box == "green box" and not green.above
    assert conditions("Your task is to boil water. First, focus on the substance.") == ()
    # a condition on something no thermometer reads is not one of these
    assert conditions("If the trait is dominant, focus on the blue box.") == ()


def test_a_melting_point_is_bounded_below_by_the_thing_solid_and_above_by_it_liquid() -> None:
    above, below = conditions(MELT)
    solid_hot = [("solid unknown substance c", 160.0)]
    assert holds(above, solid_hot) is True and holds(below, solid_hot) is False
    liquid_cool = [("solid unknown substance c", 20.0), ("liquid unknown substance c", 120.0)]
    assert holds(below, liquid_cool) is True and holds(above, liquid_cool) is False
    # solid at 20 and liquid at 200: it melted somewhere between, on either side of 150
    assert holds(above, [("solid unknown substance c", 20.0), ("liquid unknown substance c", 200.0)]) is None
    assert holds(above, []) is None
    assert holds(above, [("jug", 400.0)]) is None  # a reading of something else shows nothing


def test_a_plain_name_is_the_state_other_than_the_one_read_by_name() -> None:
    melt = conditions(MELT.replace("solid unknown substance C", "lead"))[0]  # above 150
    # `lead` read beside `liquid lead` was solid: solid at 213 means it melts above 150
    assert holds(melt, [("lead", 213.0), ("liquid lead", 368.0)]) is True
    # `lead` alone: the simulator names it so in its usual state, whatever that is
    assert holds(melt, [("lead", 213.0)]) is None
    # `mercury` read beside `solid mercury` was liquid
    assert holds(melt, [("solid mercury", -50.0), ("mercury", 20.0)]) is None  # another thing
    mercury = conditions(MELT.replace("solid unknown substance C", "mercury"))[1]  # below 150
    assert holds(mercury, [("solid mercury", -50.0), ("mercury", 20.0)]) is True


def test_a_temperature_is_its_last_reading_against_the_threshold() -> None:
    blue, green = conditions(PLACE)
    assert holds(blue, [("metal fork in inventory", 10.0), ("metal fork in inventory", 30.0)]) is True
    assert holds(green, [("metal fork in inventory", 30.0)]) is False
    assert holds(blue, [("metal fork", 25.0)]) is None


def test_an_answer_waits_until_the_readings_show_its_condition() -> None:
    episode = played(MELT)
    assert held_back(episode, "orange box", "focus") and held_back(episode, "yellow box", "focus")
    episode.steps.append(reading("solid unknown substance c", 160))
    assert not held_back(episode, "Orange box", "focus")
    assert held_back(episode, "yellow box", "focus")
    assert readings(episode) == [("solid unknown substance c", 160.0)]
    # not an answer of the task: never held back
    assert not held_back(episode, "thermometer", "focus") and not held_back(episode, "red box", "focus")
    # an answer by placing is not one by focusing
    assert not held_back(played(PLACE), "blue box", "focus")


@pytest.mark.parametrize(
    ("action", "box"),
    [("move metal fork in inventory to blue box", "blue box"), ("focus on blue box", None)],
)
def test_placed_in_reads_a_moves_container(action: str, box: str | None) -> None:
    assert placed_in(action) == box


def test_the_flat_agent_places_the_thing_only_in_the_box_its_reading_shows() -> None:
    from test_agents import Scripted

    from subgoal.engine.agents import FlatAgent, Turn
    from subgoal.engine.rules import RuleSet

    episode = played(PLACE, reading("metal fork in inventory", 31))
    episode.task_id = "2-1"
    flat = Scripted("flat", lambda text: ["move metal fork in inventory to green box"])
    valid = ["move metal fork in inventory to green box", "move metal fork in inventory to blue box"]
    decision = FlatAgent(flat, rules=RuleSet("task")).act(Turn(episode, lambda: valid))
    assert decision.action == "move metal fork in inventory to blue box"
    off = FlatAgent(flat, rules=RuleSet("general")).act(Turn(episode, lambda: valid))
    assert off.action == "move metal fork in inventory to green box"


def focus(thing: str) -> Step:
    return Step(f"focus on {thing}", f"You focus on the {thing}.", 0, 0, "", "")


def test_the_answer_a_reading_shows_is_given_once_the_thing_was_focused_on() -> None:
    valid = ["move metal fork in inventory to green box", "move metal fork in inventory to blue box", "wait1"]
    read = played(PLACE, reading("metal fork in inventory", 30.0))
    assert shown(read, valid) is None  # the task asks to focus on the fork first
    focused = played(PLACE, focus("metal fork"), reading("metal fork in inventory", 30.0))
    assert shown(focused, valid) == ("move metal fork in inventory to blue box", "move(metal fork, blue box)")
    assert shown(focused, ["move cup to blue box", "wait1"]) is None  # the fork is not in view
    cold = played(PLACE, focus("metal fork"), reading("metal fork in inventory", 20.0))
    assert shown(cold, valid)[0] == "move metal fork in inventory to green box"
    unread = played(PLACE, focus("metal fork"))
    assert shown(unread, valid) is None
    melted = played(
        MELT,
        focus("solid unknown substance c"),
        reading("solid unknown substance c", 20.0),
        reading("liquid unknown substance c", 120.0),
    )
    assert shown(melted, ["focus on orange box", "focus on yellow box"]) == (
        "focus on yellow box",
        "focus_on(yellow box)",
    )


def test_a_labelled_thing_is_read_and_placed_by_the_name_the_valid_actions_give() -> None:
    labelled = PLACE.replace("metal fork", "unknown substance B")
    focused = played(labelled, focus("unknown substance"), reading("unknown substance", 30.0))
    assert readings(focused) == [("unknown substance", 30.0)]
    valid = ["move unknown substance to green box", "move unknown substance to blue box"]
    assert shown(focused, valid) == (valid[1], "move(unknown substance, blue box)")
    assert not held_back(focused, "blue box", "place") and held_back(focused, "green box", "place")
