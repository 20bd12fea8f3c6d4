import pytest

from subgoal.engine.oracle import plan_variations
from subgoal.engine.tasks import TASKS, TEST_PER_TASK, check_variation, get_task, resolve_tasks
from subgoal.errors import UnknownTaskError, VariationError


def test_thirty_tasks_with_unique_ids_and_names():
    assert len(TASKS) == 30
    assert len({t.id for t in TASKS}) == 30
    assert len({t.name for t in TASKS}) == 30
    assert {t.bucket for t in TASKS} == {"short", "medium", "long"}


def test_get_task_by_id_and_name():
    assert get_task("1-1").name == "boil"
    assert get_task("boil").id == "1-1"
    assert get_task(" Boil ").id == "1-1"


def test_unknown_task_suggests_close_names():
    with pytest.raises(UnknownTaskError, match="did you mean boil"):
        get_task("boill")
    with pytest.raises(UnknownTaskError, match="subgoal tasks"):
        get_task("zzzzzz")


@pytest.mark.parametrize(
    ("specs", "expected"),
    [
        (None, [t.id for t in TASKS]),
        (["all"], [t.id for t in TASKS]),
        (["4-*"], ["4-1", "4-2", "4-3", "4-4"]),
        (["1-2,boil"], ["1-1", "1-2"]),  # benchmark order, not input order
        (["melt", "1-2"], ["1-2"]),  # duplicates dropped
        (["*lifespan*"], ["7-1", "7-2", "7-3"]),
        ("10-1 10-2", ["10-1", "10-2"]),
    ],
)
def test_resolve_tasks(specs, expected):
    assert [t.id for t in resolve_tasks(specs)] == expected


def test_glob_that_matches_nothing():
    with pytest.raises(UnknownTaskError, match="no task matches"):
        resolve_tasks(["11-*"])


def test_splits_are_contiguous_and_disjoint():
    for task in TASKS:
        train, dev, test = (task.variations(s) for s in ("train", "dev", "test"))
        assert train + dev + test == list(range(task.total))
        assert task.split_of(test[0]) == "test"


def test_variation_checks():
    boil = get_task("1-1")
    assert check_variation(boil, 3, "train") == 3
    with pytest.raises(VariationError, match="not in the test split"):
        check_variation(boil, 3, "test")
    with pytest.raises(VariationError, match="0-29"):
        check_variation(boil, 30)
    with pytest.raises(VariationError, match="unknown split"):
        boil.variations("validation")


def test_test_protocol_has_271_episodes():
    assert sum(len(plan_variations(t, "test")) for t in TASKS) == 271
    assert all(len(plan_variations(t, "test")) == min(TEST_PER_TASK, t.test) for t in TASKS)


def test_paper_downsampling_is_seeded_and_capped():
    friction = get_task("9-2")
    first = plan_variations(friction, "train", seed=0)
    assert len(first) == 50 and first == sorted(first)
    assert first == plan_variations(friction, "train", seed=0)
    assert first != plan_variations(friction, "train", seed=1)
    assert set(first) <= set(friction.variations("train"))
    assert len(plan_variations(get_task("3-3"), "train")) == 100
    assert len(plan_variations(friction, "train", downsample=False)) == friction.train
    assert plan_variations(get_task("1-1"), "train", max_variations=3) == [0, 1, 2]


def test_skipped_variations_on_test_are_the_ones_the_protocol_never_plays():
    task = get_task("2-1")  # 135 test variations, of which the protocol plays 10
    protocol = plan_variations(task, "test")
    held_out = plan_variations(task, "test", 2, skip=TEST_PER_TASK)
    assert held_out == task.variations("test")[TEST_PER_TASK : TEST_PER_TASK + 2]
    assert len(held_out) == 2 and not set(held_out) & set(protocol)
    assert plan_variations(get_task("1-1"), "test", skip=TEST_PER_TASK) == []  # 9: all played
    friction = get_task("9-2")  # the train/dev downsample is not the test split's
    assert plan_variations(friction, "test", 1, skip=TEST_PER_TASK) == [
        friction.variations("test")[TEST_PER_TASK]
    ]
    assert plan_variations(task, "dev", 2, skip=1) == task.variations("dev")[1:3]
