"""Which inclined plane the block's slides show (rules/timing.py): the question read from the task,
each plane's slide watched look by look after the block goes onto it, and the answer."""

from __future__ import annotations

from subgoal.engine.episode import Episode, Step
from subgoal.engine.rules.timing import (
    MAX_LOOKS,
    Question,
    answer,
    held_back,
    pinned,
    question,
    slides,
    which_plane,
)

FRICTION = (
    "Your task is to determine which of the two inclined planes (plastic, cloth) has the least friction. "
    "After completing your experiment, focus on the inclined plane with the least friction."
)
ANGLE = (
    "Your task is to determine which of the two inclined planes (C, B) has the shallowest angle. After "
    "completing your experiment, focus on the inclined plane with the shallowest angle."
)
CLOTH, PLASTIC = "inclined plane with a cloth surface", "inclined plane with a plastic surface"


def step(action: str, observation: str = "") -> Step:
    return Step(action, observation, 0, 0, "", "")


def slide(plane: str, *down: int) -> list[Step]:
    """The block moved onto `plane`, then looked at once per tick: `down` % (100: the bottom)."""
    looks = [
        step(
            f"look at {plane}",
            f"an {plane}, with: a wood block "
            + ("at the bottom of the plane" if d == 100 else f"approximately {d}% down the plane"),
        )
        for d in down
    ]
    return [step(f"move block to {plane}", "You move the wood block to the inclined plane."), *looks]


def played(description: str, *steps: Step) -> Episode:
    return Episode("9-2", "inclined-plane", 0, "test", description, steps=list(steps))


def test_the_question_names_two_planes_and_which_slide_answers_it() -> None:
    assert question(FRICTION) == Question(("plastic", "cloth"), slower=False)
    assert question(ANGLE) == Question(("c", "b"), slower=True)
    assert question("Your task is to boil water.") is None
    q = question(FRICTION)
    assert which_plane(q, CLOTH) == "cloth" and which_plane(q, "inclined plane with a tin surface") is None
    assert which_plane(question(ANGLE), "inclined plane b") == "b" and which_plane(q, "table") is None


def test_each_slide_is_the_unbroken_looks_after_the_block_went_onto_its_plane() -> None:
    q = question(FRICTION)
    episode = played(FRICTION, *slide(CLOTH, 5, 10, 100), step("wait1"), *slide(PLASTIC, 6))
    seen = slides(episode, q)
    assert seen["cloth"].seen == [5, 10, 100] and not seen["cloth"].going
    assert seen["plastic"].seen == [6] and seen["plastic"].going
    # a wire on a plane is not the block the train plans slide
    assert (
        slides(
            played(FRICTION, step(f"move black wire to {CLOTH}", "You move the wire to the inclined plane.")),
            q,
        )
        == {}
    )


def test_the_answer_is_the_faster_or_slower_slide_at_the_first_tick_they_differ() -> None:
    q = question(FRICTION)  # least friction: the faster slide
    episode = played(FRICTION, *slide(CLOTH, 5, 10, 15), *slide(PLASTIC, 5, 12))
    assert answer(q, slides(episode, q)) == "plastic"
    angle = question(ANGLE)  # shallowest: the slower slide
    both = played(ANGLE, *slide("inclined plane c", 4, 9), *slide("inclined plane b", 4, 8))
    assert answer(angle, slides(both, angle)) == "b"
    same = played(FRICTION, *slide(CLOTH, 5, 10), *slide(PLASTIC, 5, 10))
    assert answer(q, slides(same, q)) is None


def test_the_slide_is_looked_at_until_it_ends_or_differs_then_the_answer_is_focused_on() -> None:
    valid = [f"look at {CLOTH}", f"look at {PLASTIC}", f"focus on {CLOTH}", f"focus on {PLASTIC}", "wait1"]
    first = played(FRICTION, *slide(CLOTH, 5))
    assert pinned(first, valid) == (f"look at {CLOTH}", f"measure_time(block, {CLOTH})")
    assert held_back(first, CLOTH) and held_back(first, PLASTIC) and not held_back(first, "stopwatch")
    assert pinned(played(FRICTION, *slide(CLOTH, 5, 100)), valid) is None  # at the bottom: watched
    assert pinned(played(FRICTION, *slide(CLOTH, *range(1, MAX_LOOKS + 1))), valid) is None
    assert pinned(played(FRICTION, step("pick up stopwatch")), valid) is None  # no block on a plane
    second = played(FRICTION, *slide(CLOTH, 5, 10, 100), *slide(PLASTIC, 5))
    assert pinned(second, valid)[0] == f"look at {PLASTIC}"
    shown = played(FRICTION, *slide(CLOTH, 5, 10, 100), *slide(PLASTIC, 5, 12))
    assert pinned(shown, valid) == (f"focus on {PLASTIC}", f"focus_on({PLASTIC})")
    assert not held_back(shown, PLASTIC) and held_back(shown, CLOTH)
    # watched as long as the other and no different: nothing more to look at
    assert (
        pinned(played(FRICTION, *slide(CLOTH, 5, 10), step("wait1"), *slide(PLASTIC, 5, 10)), valid) is None
    )


def test_the_look_at_the_sliding_block_is_pinned_again_each_tick() -> None:
    from subgoal.engine.rules import RuleSet
    from subgoal.engine.rules.focus import TaskStats
    from subgoal.engine.rules.pins import pinned as pinned_by_rules

    episode = played(FRICTION, *slide(CLOTH, 5))  # its last action: this very look
    valid = [f"look at {CLOTH}", "wait1"]
    found = pinned_by_rules(RuleSet("task"), TaskStats(), episode, "", lambda: valid, lambda: [])
    assert found == (f"look at {CLOTH}", f"measure_time(block, {CLOTH})")


def test_one_slide_watched_to_its_end_then_the_block_goes_onto_the_other_plane() -> None:
    valid = [f"move block to {CLOTH}", f"move block to {PLASTIC}", f"look at {PLASTIC}", "wait1"]
    watched_one = played(FRICTION, *slide(CLOTH, 5, 10, 100))
    assert pinned(watched_one, valid) == (valid[1], f"measure_time(block, {PLASTIC})")
    # the block put back on the watched plane: that slide stands, and the other plane is next
    again = played(FRICTION, *slide(CLOTH, 5, 10, 100), *slide(CLOTH))
    assert slides(again, question(FRICTION))["cloth"].seen == [5, 10, 100]
    assert pinned(again, valid)[0] == valid[1]


def test_a_slide_reads_the_blocks_own_place_beside_other_things_on_the_plane() -> None:
    q = question(FRICTION)
    look = step(
        f"look at {CLOTH}",
        f"an {CLOTH}, with: a orange at the bottom of the plane, a wood block approximately 4% down the plane",
    )
    episode = played(FRICTION, slide(CLOTH)[0], look)
    assert slides(episode, q)["cloth"].seen == [4]
