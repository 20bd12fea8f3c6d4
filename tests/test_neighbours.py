"""plan-neighbours: the nearest train plans by description, written in the new task's names, vote
for the next sub-goal after those done."""

from __future__ import annotations

from collections import Counter

import pytest

from subgoal.engine.rules import neighbours
from subgoal.engine.rules.neighbours import (
    NEIGHBOURS,
    PlanNeighbours,
    joined,
    renamed,
    renamer,
    write_neighbours,
)
from subgoal.errors import CheckpointError

BOIL = (
    "Your task is to boil {}. First, focus on the substance. Then, take actions that will cause it to boil."
)
ANIMAL = "Your task is to find the animal with the longest life span. Focus on the animal."
BOIL_PLAN = [
    "navigate_to(kitchen)",
    "focus_on(chocolate)",
    "move(chocolate, metal pot)",
    "heat(metal pot, stove)",
]
ANIMAL_PLAN = ["navigate_to(outside)", "focus_on(giant tortoise)"]


def test_the_stretches_two_descriptions_differ_in_are_swapped_in_whole_words() -> None:
    swaps = renamer(BOIL.format("chocolate"), BOIL.format("ice cream"))
    assert swaps == {"chocolate": "ice cream"}
    assert renamed("move(chocolate, metal pot)", swaps) == "move(ice cream, metal pot)"
    assert renamed("pick_up(cup containing chocolate)", swaps) == "pick_up(cup containing ice cream)"
    assert renamed("pick_up(chocolates)", swaps) == "pick_up(chocolates)"  # not the word
    assert renamed("heat(metal pot, stove)", swaps) == "heat(metal pot, stove)"
    assert renamer(BOIL.format("water"), BOIL.format("water")) == {}


def test_a_plan_is_read_after_the_longest_run_of_sub_goals_done_it_ends_the_same_way() -> None:
    plan = ["a(x)", "b(x)", "c(x)", "b(x)", "d(x)"]
    assert neighbours._next_in(plan, []) == ("a(x)", neighbours.ORDER + 1)
    assert neighbours._next_in(plan, ["a(x)", "b(x)", "c(x)", "b(x)"]) == ("d(x)", 4)
    assert neighbours._next_in(plan, ["c(x)", "b(x)"]) == ("d(x)", 2)  # not c(x), after the first b(x)
    assert neighbours._next_in(plan, ["z(x)"]) == ("b(x)", 0)  # nothing matches: the step as far along
    assert neighbours._next_in([], ["a(x)"]) is None


def test_the_nearest_description_votes_in_the_new_task_s_names() -> None:
    table = PlanNeighbours([(BOIL.format("chocolate"), BOIL_PLAN), (ANIMAL, ANIMAL_PLAN)], nearest=1)
    votes = table.votes(BOIL.format("ice cream"), ["navigate_to(kitchen)"])
    assert votes == Counter({"focus_on(ice cream)": 2})
    assert table.votes(ANIMAL, []).most_common(1)[0][0] == "navigate_to(outside)"
    both = PlanNeighbours([(BOIL.format("chocolate"), BOIL_PLAN), (ANIMAL, ANIMAL_PLAN)], nearest=2)
    assert set(both.votes(ANIMAL, [])) == {"navigate_to(outside)", "navigate_to(kitchen)"}


def test_votes_join_the_beams_and_weigh_in_their_order() -> None:
    votes = Counter({"b(x)": 6, "c(x)": 1, "a(x)": 1, "d(x)": 1, "e(x)": 1, "f(x)": 1})
    out = joined(["a(x)"], votes)
    assert out[:2] == ["a(x)", "b(x)"] and len(out) == 1 + neighbours.JOINED
    assert neighbours.logp(votes, "b(x)", len(out)) > neighbours.logp(votes, "c(x)", len(out))
    assert neighbours.logp(votes, "c(x)", len(out)) > neighbours.logp(votes, "z(x)", len(out))


def test_the_table_is_kept_beside_a_planner_and_read_back(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from test_agents import gold_episode

    assert PlanNeighbours.load(None) is None and PlanNeighbours.load(tmp_path) is None
    write_neighbours(tmp_path, [gold_episode(), gold_episode()])  # the same pair once
    table = PlanNeighbours.load(tmp_path)
    assert table is not None
    assert table.plans == [
        (
            gold_episode().task_description,
            ["navigate_to(kitchen)", "pick_up(thermometer)", "focus_on(thermometer)"],
        )
    ]
    (tmp_path / NEIGHBOURS).write_text('{"names": [], "plans": [["x", 3]]}')
    with pytest.raises(CheckpointError, match="unreadable train plans"):
        PlanNeighbours.load(tmp_path)


def test_the_flat_agent_takes_the_next_action_of_the_nearest_train_episode_in_its_names(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from test_agents import Scripted, gold_episode, prefix

    from subgoal.engine.agents import FlatAgent, Turn
    from subgoal.engine.rules import RuleSet

    train = gold_episode()
    train.task_description = "Your task is to find a(n) living thing."
    write_neighbours(tmp_path, [train], "flat")
    table = PlanNeighbours.load(tmp_path)
    assert table is not None and table.plans[0][1][:2] == ["go to kitchen", "pick up thermometer"]
    # Asked about a non-living thing, the model prefers the door; the train episode went to the kitchen.
    flat = Scripted("flat", lambda text: ["open door to kitchen", "go to kitchen"])
    episode = prefix(gold_episode(), 0)
    valid = ["open door to kitchen", "go to kitchen", "look around"]
    for level, action in (
        ("general", "go to kitchen"),
        ("general without plan-neighbours", "open door to kitchen"),
    ):
        agent = FlatAgent(flat, rules=RuleSet(level), plan_neighbours=table)
        agent.reset(episode)
        assert agent.act(Turn(episode, lambda: valid)).action == action
    assert renamer(train.task_description, episode.task_description) == {"living": "non-living"}


def test_a_planner_that_wrote_nothing_is_given_the_nearest_plan_s_step() -> None:
    from test_agents import Scripted, gold_episode, prefix

    from subgoal.engine.agents import HierarchicalAgent, Turn
    from subgoal.engine.rules import RuleSet

    table = PlanNeighbours([(gold_episode().task_description, ["pick_up(cup)"])])
    planner = Scripted("planner", lambda text: [])
    agent = HierarchicalAgent(
        planner, Scripted("executor", lambda text: ["wait1"]), rules=RuleSet("general"), plan_neighbours=table
    )
    agent.reset(prefix(gold_episode(), 0))
    decision = agent.act(Turn(prefix(gold_episode(), 0), lambda: ["pick up cup", "look around"]))
    assert decision.subgoal == "pick_up(cup)"
