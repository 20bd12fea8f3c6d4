"""Edit-distance alignment of a teacher's action groups onto the gold path."""

from __future__ import annotations

import itertools
import random

from hypothesis import given, settings
from hypothesis import strategies as st

from subgoal.engine.alignment import Group, align, close_gaps

VOCAB = [
    "open door to kitchen",
    "go to kitchen",
    "look around",
    "pick up thermometer",
    "open cupboard",
    "pick up metal pot",
    "move metal pot to sink",
    "activate sink",
    "deactivate sink",
    "focus on substance in metal pot",
    "activate stove",
    "use thermometer in inventory on substance in metal pot",
    "wait1",
    "connect battery anode to orange wire terminal 1",
]


def _covering(spans, length):
    assert spans[0].start == 0
    assert spans[-1].end == length
    for before, after in itertools.pairwise(spans):
        assert before.end == after.start
    assert all(s.end > s.start for s in spans)


@st.composite
def split_path(draw, distinct: bool = False):
    """A gold path and a split of it into contiguous named groups."""
    if distinct:
        length = draw(st.integers(1, len(VOCAB)))
        path = draw(st.permutations(VOCAB))[:length]
    else:
        path = draw(st.lists(st.sampled_from(VOCAB), min_size=1, max_size=40))
    cuts = sorted(
        draw(st.sets(st.integers(1, len(path) - 1), max_size=len(path) - 1)) if len(path) > 1 else []
    )
    bounds = [0, *cuts, len(path)]
    groups = [Group(f"g{k}()", tuple(path[a:b])) for k, (a, b) in enumerate(itertools.pairwise(bounds))]
    return path, groups, bounds


@settings(max_examples=150, deadline=None)
@given(split_path())
def test_exact_split_aligns_back_exactly(case):
    path, groups, bounds = case
    result = align(path, groups)
    assert result.gaps == [] and result.matched == len(path)
    assert [(s.name, s.start, s.end) for s in result.spans] == [
        (g.name, a, b) for g, (a, b) in zip(groups, itertools.pairwise(bounds), strict=True)
    ]


@settings(max_examples=150, deadline=None)
@given(split_path(distinct=True), st.randoms(use_true_random=False))
def test_shuffled_groups_land_where_they_fit(case, rnd: random.Random):
    path, groups, bounds = case
    shuffled = list(groups)
    rnd.shuffle(shuffled)
    result = align(path, shuffled)
    # Distinct actions leave no ambiguity: every group goes back to its own place.
    assert [(s.name, s.start, s.end) for s in result.spans] == [
        (g.name, a, b) for g, (a, b) in zip(groups, itertools.pairwise(bounds), strict=True)
    ]


@st.composite
def edited(draw):
    path, groups, _ = draw(split_path())
    rnd = draw(st.randoms(use_true_random=False))
    noisy = []
    for group in groups:
        actions = list(group.actions)
        roll = rnd.random()
        if roll < 0.2 and len(actions) > 1:
            actions.pop(rnd.randrange(len(actions)))  # the teacher skipped an action
        elif roll < 0.4:
            k = rnd.randrange(len(actions))
            actions[k] = "the " + actions[k].upper() + "."  # reworded
        elif roll < 0.5:
            actions.insert(rnd.randrange(len(actions) + 1), "dance with the teapot")  # invented
        noisy.append(Group(group.name, tuple(actions)))
    if draw(st.booleans()):
        rnd.shuffle(noisy)
    return path, noisy


@settings(max_examples=200, deadline=None)
@given(edited())
def test_any_noisy_answer_closes_into_covering_spans(case):
    path, groups = case
    result = align(path, groups)
    assert result.matched > 0
    spans = close_gaps(result)
    _covering(spans, len(path))
    assert {s.name for s in spans} <= {g.name for g in groups}
    for a, b in result.gaps:
        assert 0 <= a < b <= len(path)


def test_gap_is_reported_where_no_group_claims_actions():
    path = ["open door to kitchen", "go to kitchen", "pick up thermometer", "activate stove"]
    groups = [Group("navigate_to(kitchen)", tuple(path[:2])), Group("activate(stove)", (path[3],))]
    result = align(path, groups)
    assert result.gaps == [(2, 3)]
    assert [(s.start, s.end) for s in close_gaps(result)] == [(0, 3), (3, 4)]


def test_invented_actions_match_nothing():
    path = ["open door to kitchen", "go to kitchen"]
    result = align(path, [Group("fly()", ("fly to the moon", "eat the moon"))])
    assert result.matched == 0 and result.spans == [] and result.unused == ["fly()"]
    assert result.gaps == [(0, 2)]


def test_reworded_actions_still_match():
    path = ["pick up metal pot", "move metal pot to stove", "wait1"]
    groups = [Group("heat(pot)", ("Pick up the metal pot.", "move the metal pot to the stove", "wait 1"))]
    result = align(path, groups)
    assert result.matched == 3 and result.gaps == []


READINGS = ["examine substance in metal pot", "use thermometer in inventory on substance in metal pot"]


def test_a_group_claims_every_consecutive_repeat_of_its_actions():
    """A set lists a repeated action once: the measurement claims all ten readings."""
    path = ["activate stove", *READINGS * 10, "pick up thermometer"]
    groups = [
        Group("heat(pot, stove)", ("activate stove",)),
        Group("measure_temperature(substance)", tuple(READINGS)),
        Group("pick_up(thermometer)", ("pick up thermometer",)),
    ]
    result = align(path, groups)
    assert result.gaps == [] and result.matched == len(path)
    assert [(s.start, s.end) for s in result.spans] == [(0, 1), (1, 21), (21, 22)]


def test_repeats_are_claimed_only_while_they_last():
    path = [*READINGS * 2, "activate stove", READINGS[0]]
    groups = [Group("measure()", tuple(READINGS)), Group("activate(stove)", ("activate stove",))]
    result = align(path, groups)
    assert [(s.start, s.end) for s in result.spans] == [(0, 4), (4, 5)]
    assert result.gaps == [(5, 6)]  # a reading after another sub-goal is not the measurement's
