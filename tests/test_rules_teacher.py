"""The offline rules teacher: real gold paths (copied from scienceworld 1.2.3) and random ones."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from subgoal.engine.actions import parse
from subgoal.engine.episode import Episode, Step, SubgoalSpan
from subgoal.engine.teachers.rules import RulesTeacher, segment
from subgoal.engine.teachers.spans import check_spans
from subgoal.errors import TeacherError

BOIL = [
    "open door to kitchen",
    "go to kitchen",
    "look around",
    "pick up thermometer",
    "open cupboard",
    "pick up metal pot",
    "look around",
    "move metal pot to sink",
    "activate sink",
    "deactivate sink",
    "pick up metal pot",
    "focus on substance in metal pot",
    "pour metal pot into metal pot",
    "pick up metal pot",
    "move metal pot to stove",
    "activate stove",
    *["examine substance in metal pot", "use thermometer in inventory on substance in metal pot"] * 4,
]

GROW = [
    "open door to kitchen",
    "go to kitchen",
    "look around",
    "pick up seed jar",
    "open door to outside",
    "go to outside",
    "open door to greenhouse",
    "go to greenhouse",
    "look around",
    "move apple seed in seed jar to flower pot 3",
    "0",
    "focus on apple seed in flower pot 3",
    "activate sink",
    "move jug to sink",
    "pour jug into flower pot 3",
    "deactivate sink",
    *["wait1"] * 5,
    "look around",
]

INCLINE = [
    "open door to workshop",
    "go to workshop",
    "look around",
    "pick up stopwatch",
    "move block to inclined plane c",
    "activate stopwatch in inventory",
    *["look at inclined plane c"] * 6,
    "deactivate stopwatch in inventory",
    "examine stopwatch in inventory",
    "focus on inclined plane c",
]


def _named(actions):
    return [(s.name, s.end - s.start) for s in segment(actions)]


def test_boil_reads_like_the_paper():
    assert _named(BOIL) == [
        ("navigate_to(kitchen)", 3),
        ("pick_up(thermometer)", 1),
        ("pick_up(metal pot)", 3),  # opening the cupboard prepares the pick-up
        ("fill(metal pot, water)", 3),
        ("pick_up(metal pot)", 1),
        ("focus_on(substance in metal pot)", 1),
        ("pour(metal pot, metal pot)", 1),
        ("pick_up(metal pot)", 1),
        ("heat(metal pot, stove)", 2),
        ("measure_temperature(substance in metal pot)", 8),
    ]


def test_grow_plant_waters_plants_and_waits():
    assert _named(GROW) == [
        ("navigate_to(kitchen)", 3),
        ("pick_up(seed jar)", 1),
        ("navigate_to(greenhouse)", 5),
        ("plant(apple seed, flower pot 3)", 2),  # the answer `0` belongs to the move it answers
        ("focus_on(apple seed in flower pot 3)", 1),
        ("water(flower pot 3)", 4),
        ("wait(5)", 6),
    ]


def test_incline_times_the_slide():
    assert _named(INCLINE) == [
        ("navigate_to(workshop)", 3),
        ("pick_up(stopwatch)", 1),
        ("measure_time(block, inclined plane c)", 10),
        ("focus_on(inclined plane c)", 1),
    ]


def test_vocabulary_generalises_across_variations():
    """Two variations that differ in rooms and objects share every sub-goal verb."""
    other = [a.replace("kitchen", "hallway").replace("metal pot", "tin cup") for a in BOIL]
    verbs = [[s.name.split("(")[0] for s in segment(path)] for path in (BOIL, other)]
    assert verbs[0] == verbs[1]


@pytest.mark.parametrize(
    ("action", "verb", "objects"),
    [
        (
            "connect battery anode to orange wire terminal 1",
            "connect",
            ("battery anode", "orange wire terminal 1"),
        ),
        (
            "pour cup containing blue paint in art studio in jug",
            "pour",
            ("cup containing blue paint in art studio", "jug"),
        ),
        (
            "use thermometer in inventory on unknown substance B in inventory",
            "measure",
            ("thermometer", "unknown substance B"),
        ),
        ("move egg dove egg in inventory to red box", "move", ("egg dove egg", "red box")),
        ("wait", "wait", ()),
        ("0", "answer", ("0",)),
        ("eat apple", "eat", ("apple",)),
    ],
)
def test_grammar(action, verb, objects):
    act = parse(action)
    assert (act.verb, act.objects) == (verb, objects)


ACTIONS = st.sampled_from(
    [
        *BOIL,
        *GROW,
        *INCLINE,
        "wait",
        "close door to hallway",
        "open bee hive",
        "drop component in inventory",
        "connect battery anode to orange wire terminal 1",
        "mix bowl",
        "teleport to kitchen",
        "flush toilet",
        "xyzzy",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(ACTIONS, min_size=1, max_size=60))
def test_any_path_is_tiled_deterministically(actions):
    spans = segment(actions)
    check_spans(spans, len(actions))  # contiguous, covering, names well-formed
    assert spans == segment(actions)


def _episode(actions):
    steps = [Step(action=a, observation="", score=0, reward=0) for a in actions]
    return Episode("1-1", "boil", 0, "train", "Your task is to boil water.", steps=steps)


def test_teacher_annotation_records_itself():
    annotation = RulesTeacher().annotate(_episode(BOIL))
    assert annotation.teacher == "rules" and annotation.usage.requests == 0
    check_spans(annotation.spans, len(BOIL))


# ScienceWorld's names are data: 4-2 and 3-3 name books with brackets, 10-2 names seeds by their
# whole plant (gold paths from the train split: 4-2 v107, 10-2 v7).
BOOK = [
    "open door to hallway",
    "go to hallway",
    "focus on book (sherlock holmes)",
    "pick up book (sherlock holmes)",
    "move book (sherlock holmes) to purple box",
]
SEED = (
    "square blue unknown e seed in the seed stage on with elliptical leaves unknown e plant in the "
    "reproducing stage"
)


def test_names_in_brackets_and_long_names_are_carried_whole():
    actions = [*BOOK, f"move {SEED} to ceramic cup", "0"]
    annotation = RulesTeacher().annotate(_episode(actions))
    assert [s.name for s in annotation.spans] == [
        "navigate_to(hallway)",
        "focus_on(book (sherlock holmes))",
        "pick_up(book (sherlock holmes))",
        "move(book (sherlock holmes), purple box)",
        f"move({SEED}, ceramic cup)",
    ]
    assert len(annotation.spans[-1].name) > 120


@pytest.mark.parametrize(
    "name", ["navigate_to kitchen", "Navigate_To(kitchen)", "heat (pot, stove)", "f(a)\ng(b)", "(a)"]
)
def test_names_that_are_not_calls_are_refused(name):
    with pytest.raises(ValueError, match="not of the form verb"):
        check_spans([SubgoalSpan(name, 0, 1)], 1)


def test_empty_episode_is_a_clear_error():
    with pytest.raises(TeacherError, match="no steps"):
        RulesTeacher().annotate(_episode([]))


@pytest.mark.jvm
def test_annotates_real_oracle_episodes(oracle_episodes):
    for episode in oracle_episodes:
        spans = RulesTeacher().annotate(episode).spans
        check_spans(spans, len(episode.steps))
        assert spans[0].name.startswith("navigate_to(")
