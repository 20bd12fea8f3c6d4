"""Input layout 3: the planner and the flat model read the next steps of their nearest train plans
(`nearest plans: ...`), made the same way for training, where an episode's own plan is left out,
and for play."""

from __future__ import annotations

import dataclasses

import pytest
from test_agents import Scripted, drive, gold_episode, time_of

from subgoal.engine.agents import FlatAgent, HierarchicalAgent
from subgoal.engine.examples import examples_from_episode
from subgoal.engine.rules import RuleSet
from subgoal.engine.rules.neighbours import PlanNeighbours, play_recall, train_recall, write_neighbours
from subgoal.errors import AgentError

LIVING = "Your task is to find a(n) living thing."


def other_variation():  # type: ignore[no-untyped-def]
    """The gold episode as another variation whose task names a living thing."""
    return dataclasses.replace(gold_episode(), variation=1, task_description=LIVING)


def test_only_the_planner_and_the_flat_model_read_the_nearest_plans_and_from_layout_3() -> None:
    table = PlanNeighbours.of([other_variation()], "planner")
    recall = play_recall(table)
    gold = gold_episode()
    planner = examples_from_episode("planner", gold, recall=recall)
    # Written in this task's names: the train plan's `living` is this task's `non-living`.
    assert "nearest plans: navigate_to(kitchen) (6) </s>" in planner[0].source
    assert "nearest plans: pick_up(thermometer) (2) </s>" in planner[1].source
    assert all("nearest plans" not in ex.source for ex in examples_from_episode("executor", gold))
    assert "nearest plans: none </s>" in examples_from_episode("planner", gold)[0].source  # no table
    older = examples_from_episode("planner", gold, input_format=2, recall=recall)
    assert all("nearest plans" not in ex.source for ex in older)


def test_a_train_episode_never_reads_its_own_plan() -> None:
    own, other = gold_episode(), other_variation()
    other.subgoals = [dataclasses.replace(span, name="navigate_to(outside)") for span in other.subgoals[:1]]
    table = PlanNeighbours.of([own, other], "planner")
    assert table.recall(own.task_description, [])[0] == ("navigate_to(kitchen)", 6)  # its own, at play
    recall = train_recall(table, "planner")
    assert recall(own, []) == [("navigate_to(outside)", 6)]  # in training: the other plan only
    assert recall(other, []) == [("navigate_to(kitchen)", 6)]
    flat = PlanNeighbours.of([own], "flat")
    assert train_recall(flat, "flat")(own, []) == []  # nothing left to recall


def test_both_agents_ask_with_the_very_inputs_training_made(tmp_path) -> None:  # type: ignore[no-untyped-def]
    gold = gold_episode()
    names = [s.name for s in gold.subgoals]
    planner_table = PlanNeighbours.of([other_variation()], "planner")
    planner = Scripted("planner", lambda text: [names[min(text.count(") ") // 2, 2)]])
    agent = HierarchicalAgent(
        planner,
        Scripted("executor", lambda text: ["wait1"]),
        rules=RuleSet("paper"),
        plan_neighbours=planner_table,
    )
    drive(agent, gold)
    expected = [ex.source for ex in examples_from_episode("planner", gold, recall=play_recall(planner_table))]
    assert planner.inputs[0] == expected[0] and "nearest plans: navigate_to(kitchen) (6)" in expected[0]

    flat_table = PlanNeighbours.of([other_variation()], "flat")
    order = [i for i, s in enumerate(gold.steps) if i not in (0, 2)]  # the steps training keeps
    flat = Scripted("flat", lambda text: [gold.steps[order[min(time_of(text), len(order) - 1)]].action])
    drive(FlatAgent(flat, rules=RuleSet("paper"), plan_neighbours=flat_table), gold)
    for ex in examples_from_episode("flat", gold, recall=play_recall(flat_table)):
        assert flat.inputs[ex.step] == ex.source
    assert "nearest plans: go to kitchen (6)" in flat.inputs[1]


def test_a_checkpoint_that_reads_its_nearest_plans_does_not_load_without_them(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from subgoal.engine.agent_kinds import AgentSpec

    for kind, slots in (("flat", {"flat": str(tmp_path)}), ("human", {"planner": str(tmp_path)})):
        role = "flat" if kind == "flat" else "planner"
        spec = AgentSpec(kind, **slots)  # type: ignore[arg-type]
        with pytest.raises(AgentError, match=r"input layout 3\) but has no neighbours.json"):
            spec.build(policy_for=lambda _path, _role, role=role: Scripted(role, list))
        write_neighbours(tmp_path, [gold_episode()], role)
        assert spec.build(policy_for=lambda _path, _role, role=role: Scripted(role, list)) is not None
        (tmp_path / "neighbours.json").unlink()
