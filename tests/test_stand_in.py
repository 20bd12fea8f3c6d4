"""Stand-in names (rules/stand_in.py): which names of a task are swapped, for what, and how a policy
reads the stand-ins and writes the task's names back."""

from __future__ import annotations

import pytest

from subgoal.engine.episode import Episode, SubgoalSpan
from subgoal.engine.rules.stand_in import TASKS, StandIns, Swap, SwappedPolicy, tasks_of, words, write_tasks
from subgoal.errors import CheckpointError

BOIL = "your task is to boil {} first focus on the substance"
FIND = "your task is to find a n {} first focus on the thing then move it to the {} in the kitchen"


def table() -> StandIns:
    return StandIns(
        [
            (BOIL.format("chocolate"), {"chocolate": 4.0}),
            (BOIL.format("water"), {"water": 1.0}),
            (BOIL.format("solid unknown substance h"), {"solid unknown substance h": 3.0}),
            (FIND.format("living thing", "red box"), {"red box": 1.0, "kitchen": 1.0, "living thing": 1.0}),
            (FIND.format("animal", "red box"), {"red box": 1.0, "kitchen": 1.0}),  # no plan names the animal
            ("your task is to measure the melting point of lead", {"lead": 2.0}),
        ]
    )


def test_a_new_name_gets_the_names_a_train_description_of_the_same_words_had_there() -> None:
    swap = table().swap("Your task is to boil ice cream. First, focus on the substance.")
    # by how often their plans use them: chocolate 4 times per episode, water once
    assert swap.options == [("ice cream", ["chocolate", "solid unknown substance h", "water"])]
    # the closest in words first: one letter told apart
    letter = table().swap("Your task is to boil solid unknown substance O. First, focus on the substance.")
    assert letter.options[0][1][0] == "solid unknown substance h"


def test_a_name_known_elsewhere_is_new_where_no_description_of_this_wording_had_it() -> None:
    # lead is a train name, but of a melting-point task: no train task boils lead
    swap = table().swap("Your task is to boil lead. First, focus on the substance.")
    assert swap.options == [("lead", ["chocolate", "solid unknown substance h", "water"])]


def test_names_this_wording_had_in_their_place_and_other_wordings_are_left_alone() -> None:
    assert not table().swap("Your task is to boil water. First, focus on the substance.")
    assert not table().swap("Your task is to freeze ice cream. First, focus on the substance.")
    # a train description of this wording had `animal` there, though no plan names it
    assert not table().swap(
        "Your task is to find a(n) animal. First, focus on the thing. Then, move it to the red box in the kitchen."
    )
    assert not StandIns([]).swap("Your task is to boil ice cream.")


def test_a_stand_in_the_input_already_holds_is_passed_over() -> None:
    swap = table().swap(BOIL.format("ice cream"))
    assert swap.pairs("boil ice cream; look: a freezer") == [("ice cream", "chocolate")]
    assert swap.pairs("boil ice cream; look: a bar of chocolate") == [
        ("ice cream", "solid unknown substance h")
    ]


def test_names_are_swapped_in_whole_words_and_back_in_one_pass() -> None:
    inward = Swap.inward([("ice cream", "ice")])
    assert (
        Swap.apply("focus on Ice  Cream; iced tea; ice-cream", inward) == "focus on ice; iced tea; ice-cream"
    )
    outward = Swap.outward([("ice cream", "ice")])
    assert Swap.apply("move(ice, ice cream)", outward) == "move(ice cream, ice cream)"
    assert Swap.apply("nothing to do", {}) == "nothing to do"


class Echo:
    """A policy that keeps what it read, writes two fixed beams and scores the candidates it read."""

    role, manifest = "flat", {"name": "flat"}

    def __init__(self) -> None:
        self.read: list[str] = []

    def generate(self, inputs, num_beams=5, num_return=5, max_new_tokens=32, allowed=None):  # type: ignore[no-untyped-def]
        self.read.extend(inputs)
        self.allowed = allowed
        return [["focus on chocolate", "focus on ice cream"] for _ in inputs]

    def score(self, source, candidates):  # type: ignore[no-untyped-def]
        self.read.append(source)
        self.candidates = candidates
        return [0.0] * len(candidates)

    def fits(self, text: str) -> bool:
        return True


def test_a_swapped_policy_reads_stand_ins_and_writes_the_tasks_names() -> None:
    echo = Echo()
    swapped_times = []
    policy = SwappedPolicy(echo, on_swap=lambda: swapped_times.append(1))
    text = "task: boil ice cream; look: ice cream in freezer"
    assert policy.generate([text])[0] == ["focus on chocolate", "focus on ice cream"]  # nothing to swap yet
    policy.swap = table().swap(BOIL.format("ice cream"))
    beams = policy.generate([text], allowed=[["focus on ice cream", "look around"]])
    assert echo.read[-1] == "task: boil chocolate; look: chocolate in freezer"
    assert echo.allowed == [["focus on chocolate", "look around"]]
    assert beams == [["focus on ice cream", "focus on ice cream"]]
    assert policy.score(text, ["focus on ice cream", "look around"]) == [0.0, 0.0]
    assert echo.candidates == ["focus on chocolate", "look around"] and "ice cream" not in echo.read[-1]
    assert len(swapped_times) == 2 and policy.role == "flat" and policy.fits(text)


def _episode(description: str, names: list[str]) -> Episode:
    episode = Episode("1-1", "boil", 0, "train", description)
    episode.subgoals = [SubgoalSpan(name, 0, 1) for name in names]
    return episode


def test_the_table_is_each_train_description_with_the_names_its_plans_take_from_it(tmp_path) -> None:
    episodes = [
        _episode("Your task is to boil chocolate.", ["focus_on(chocolate)", "move(chocolate, metal pot)"]),
        _episode("Your task is to boil chocolate.", ["focus_on(chocolate)", "wait(5)"]),
        _episode("Your task is to boil water.", ["pick_up(metal pot)"]),
    ]
    assert tasks_of(episodes) == {
        "tasks": [
            [words("Your task is to boil chocolate."), {"chocolate": 1.5}],
            [words("Your task is to boil water."), {}],
        ]
    }
    write_tasks(tmp_path, episodes)
    loaded = StandIns.load(tmp_path)
    assert loaded is not None and len(loaded) == 1
    assert StandIns.load(tmp_path) is loaded  # built once per process (one agent per --batch thread)
    assert loaded.swap("Your task is to boil tofu.").options == [("tofu", ["chocolate"])]


def test_a_checkpoint_without_the_table_has_none_and_a_damaged_one_is_one_error(tmp_path) -> None:
    assert StandIns.load(tmp_path) is None and StandIns.load(None) is None
    (tmp_path / TASKS).write_text('{"tasks": [["boil x", 3]]}')
    with pytest.raises(CheckpointError, match="unreadable train tasks"):
        StandIns.load(tmp_path)
