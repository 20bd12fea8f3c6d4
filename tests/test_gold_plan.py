"""The gold-plan agent: the hierarchical agent with the annotated plan in place of its planner."""

from __future__ import annotations

import pytest

from subgoal.engine.agent_kinds import AgentSpec
from subgoal.engine.examples import examples_from_episode
from subgoal.engine.gold_plan import GoldPlanAgent, gold_plans, next_in_plan
from subgoal.errors import AgentError
from tests.test_agents import TELEPORT_VALID, Scripted, drive, teleport_episode


def test_the_plan_is_the_planners_targets_in_order():
    gold = teleport_episode()
    plans = gold_plans([gold])
    assert plans == {gold.key: [ex.target for ex in examples_from_episode("planner", gold)]}
    assert plans[gold.key] == ["navigate_to(kitchen)", "pick_up(thermometer)", "focus_on(thermometer)"]


def test_the_plan_moves_on_only_with_its_own_subgoals_done_in_order():
    plan = ["a()", "b()", "c()"]
    assert next_in_plan(plan, []) == 0
    assert next_in_plan(plan, ["a()", "b()"]) == 2
    assert next_in_plan(plan, ["b()"]) == 0  # out of order: a() is still next
    assert next_in_plan(plan, ["a()", "x()", "b()", "c()"]) == 3


def test_the_agent_pursues_the_gold_plan_not_the_planners_beams():
    gold = teleport_episode()
    planner = Scripted("planner", lambda text: ["pick_up(orange)"])  # a planner that is always wrong
    executor = Scripted("executor", lambda text: ["wait1"])
    agent = GoldPlanAgent(planner, executor, plans=gold_plans([gold]))
    decisions = drive(agent, gold, valid=TELEPORT_VALID)
    assert [d.action for d in decisions[:3]] == gold.actions
    assert [d.subgoal for d in decisions[:3]] == [s.name for s in gold.subgoals]
    # Asked only past the plan's end, as usual there.
    done = "latest first: 1. focus_on(thermometer) 2. pick_up(thermometer) 3. navigate_to(kitchen) </s>"
    assert planner.inputs and all(done in text for text in planner.inputs)


def test_a_variation_without_a_plan_is_a_clear_error():
    gold = teleport_episode()
    agent = GoldPlanAgent(Scripted("planner", list), Scripted("executor", list), plans={})
    with pytest.raises(AgentError, match="no annotated gold plan for 4-2 v0"):
        agent.reset(gold)


def test_the_kind_needs_annotated_episodes():
    spec = AgentSpec("gold-plan", planner="p", executor="e")
    with pytest.raises(AgentError, match="needs annotated episodes"):
        spec.build(lambda _path, role: Scripted(role, list))
