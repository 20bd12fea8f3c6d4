"""Which inclined plane the stopwatch's times show (rules/timing.py): the question read from the
task, each plane's time, the routine pinned after the block goes onto a plane, and the answer."""

from __future__ import annotations

import pytest

from subgoal.engine.episode import Episode, Step
from subgoal.engine.rules.timing import Question, answer, held_back, pinned, question, times, which_plane

FRICTION = (
    "Your task is to determine which of the two inclined planes (plastic, cloth) has the least friction. "
    "After completing your experiment, focus on the inclined plane with the least friction."
)
ANGLE = (
    "Your task is to determine which of the two inclined planes (C, B) has the shallowest angle. After "
    "completing your experiment, focus on the inclined plane with the shallowest angle."
)
ROUTINE = [
    "activate stopwatch in inventory",
    "deactivate stopwatch in inventory",
    "examine stopwatch in inventory",
]


def step(action: str, observation: str = "") -> Step:
    return Step(action, observation, 0, 0, "", "")


def onto(plane: str) -> Step:
    return step(f"move block to {plane}", "You move the steel block to the inclined plane.")


def timed(ticks: int) -> list[Step]:
    return [
        step(ROUTINE[0], "The stopwatch is now activated."),
        step(ROUTINE[1], "The stopwatch is now deactivated."),
        step(ROUTINE[2], f"a stopwatch, which is deactivated. The time reads {ticks} ticks."),
    ]


def played(description: str, *steps: Step) -> Episode:
    return Episode("9-2", "inclined-plane", 0, "test", description, steps=list(steps))


CLOTH, PLASTIC = "inclined plane with a cloth surface", "inclined plane with a plastic surface"


def test_the_question_names_two_planes_and_which_time_answers_it() -> None:
    assert question(FRICTION) == Question(("plastic", "cloth"), longer=False)
    assert question(ANGLE) == Question(("c", "b"), longer=True)
    assert question("Your task is to boil water.") is None
    q = question(FRICTION)
    assert which_plane(q, CLOTH) == "cloth" and which_plane(q, "inclined plane with a tin surface") is None
    assert which_plane(question(ANGLE), "inclined plane b") == "b"


def test_each_plane_is_timed_by_the_stopwatch_read_after_the_block_went_onto_it() -> None:
    episode = played(FRICTION, onto(CLOTH), *timed(21), onto(PLASTIC), *timed(16))
    q = question(FRICTION)
    assert times(episode, q) == {"cloth": 21, "plastic": 16}
    assert answer(q, times(episode, q)) == "plastic"  # least friction: the faster slide
    assert answer(question(ANGLE), {"c": 21, "b": 22}) == "b"  # shallowest: the slower slide
    assert answer(q, {"cloth": 21}) is None and answer(q, {"cloth": 20, "plastic": 20}) is None


@pytest.mark.parametrize("done", [0, 1, 2])
def test_after_the_block_goes_onto_a_plane_the_stopwatch_routine_is_pinned_in_order(done: int) -> None:
    steps = [onto(CLOTH), step("look at inclined plane with a cloth surface"), *timed(21)[:done]]
    found = pinned(played(FRICTION, *steps), [*ROUTINE, "wait1"])
    assert found == (ROUTINE[done], f"measure_time(block, {CLOTH})")


def test_nothing_is_pinned_before_the_block_moves_or_once_its_plane_is_timed() -> None:
    assert pinned(played(FRICTION, step("pick up stopwatch")), ROUTINE) is None
    assert pinned(played(FRICTION, onto(CLOTH), *timed(21)), ROUTINE) is None
    # a deactivation before the activation is not the routine's
    early = played(FRICTION, onto(CLOTH), step(ROUTINE[1], "It is already deactivated."))
    assert pinned(early, ROUTINE)[0] == ROUTINE[0]
    assert pinned(played(FRICTION, onto(CLOTH)), ["wait1"]) is None  # no stopwatch at hand


def test_a_plane_is_focused_on_only_once_both_times_show_it() -> None:
    one = played(FRICTION, onto(CLOTH), *timed(21))
    assert held_back(one, PLASTIC) and held_back(one, CLOTH)
    both = played(FRICTION, onto(CLOTH), *timed(21), onto(PLASTIC), *timed(16))
    assert not held_back(both, PLASTIC) and held_back(both, CLOTH)
    assert not held_back(both, "stopwatch")  # not a plane: not this rule's
    valid = [f"focus on {CLOTH}", f"focus on {PLASTIC}", "wait1"]
    assert pinned(both, valid) == (f"focus on {PLASTIC}", f"focus_on({PLASTIC})")
