"""Agents without a simulator: each is fed the Turns a rollout would feed it.

The key check: driven along an annotated gold episode, the hierarchical and flat agents hand their
models exactly the inputs training made from that episode (examples.examples_from_episode)."""

from __future__ import annotations

import re

import pytest

from subgoal.engine.agents import FlatAgent, HierarchicalAgent, LoopGuard, OracleAgent, Turn
from subgoal.engine.episode import Episode, Step, SubgoalSpan
from subgoal.engine.examples import COMPLETE_TASK, END_SUBGOAL, examples_from_episode
from subgoal.errors import AgentError


def look(room: str, extra: str = "") -> str:
    return f"This room is called the {room}. In it, you see: \n\tthe agent\n\t{extra}\nYou also see: a door"


def gold_episode() -> Episode:
    """A small annotated episode with the steps training drops (look around, a no-op open door)."""
    inv0, inv1 = "In your inventory, you see: nothing", "In your inventory, you see: a thermometer"
    steps = [
        Step("open door to kitchen", "The door is already open.", 0, 0, look("hallway"), inv0),
        Step("go to kitchen", "You move to the kitchen.", 10, 10, look("kitchen", "a thermometer"), inv0),
        Step("look around", look("kitchen", "a thermometer"), 10, 0, look("kitchen", "a thermometer"), inv0),
        Step(
            "pick up thermometer", "You move the thermometer to the inventory.", 30, 20, look("kitchen"), inv1
        ),
        Step(
            "focus on thermometer", "You focus on the thermometer.", 100, 70, look("kitchen"), inv1, done=True
        ),
    ]
    return Episode(
        "4-2",
        "find-non-living-thing",
        0,
        "train",
        "Your task is to find a(n) non-living thing.",
        initial_look=look("hallway"),
        initial_inventory=inv0,
        steps=steps,
        subgoals=[
            SubgoalSpan("navigate_to(kitchen)", 0, 3),
            SubgoalSpan("pick_up(thermometer)", 3, 4),
            SubgoalSpan("focus_on(thermometer)", 4, 5),
        ],
    )


class Scripted:
    """A stand-in Policy that answers from the gold episode and records every input it got."""

    def __init__(self, role: str, answer):  # type: ignore[no-untyped-def]
        self.role, self.manifest, self.answer, self.inputs = role, {"name": role}, answer, []

    def fits(self, text: str) -> bool:
        return True

    def generate(self, inputs, num_beams=5, num_return=5, max_new_tokens=32):  # type: ignore[no-untyped-def]
        self.inputs.extend(inputs)
        return [self.answer(text) for text in inputs]


def time_of(text: str) -> int:
    return int(re.search(r"time: (\d+);", text).group(1))


def prefix(episode: Episode, n: int) -> Episode:
    return Episode(**{**episode.__dict__, "steps": episode.steps[:n], "subgoals": []})


def drive(agent, gold: Episode, valid=None):  # type: ignore[no-untyped-def]
    """Feed the agent the gold episode's states; return its decisions."""
    agent.reset(prefix(gold, 0))
    decisions = []
    for n in range(len(gold.steps) + 1):
        actions = valid if valid is not None else [s.action for s in gold.steps] + ["wait1"]
        decisions.append(agent.act(Turn(prefix(gold, n), lambda a=actions: a)))
    return decisions


def test_hierarchical_agent_sees_exactly_the_training_inputs():
    gold = gold_episode()
    names = [s.name for s in gold.subgoals] + [COMPLETE_TASK]

    def planner_answer(text: str) -> list[str]:
        done = re.search(r"completed subgoals: (.*?) </s>", text).group(1)
        return [names[0 if done == "none" else len(done.split(", "))]]

    planner = Scripted("planner", planner_answer)

    def executor_answer(text: str) -> list[str]:
        t = time_of(text)
        current = re.search(r"current subgoal: (.*?) </s>", text).group(1)
        span = next(s for s in gold.subgoals if s.name == current)
        return [END_SUBGOAL if t >= span.end else gold.steps[t].action, "wait1"]

    executor = Scripted("executor", executor_answer)
    agent = HierarchicalAgent(planner, executor)
    decisions = drive(agent, gold)
    assert [d.action for d in decisions] == [*gold.actions, None]
    assert [d.subgoal for d in decisions[:-1]] == [gold.subgoal_at(i).name for i in range(5)]
    assert [d.closed for d in decisions] == [
        (),
        (),
        (),
        ("navigate_to(kitchen)",),
        ("pick_up(thermometer)",),
        ("focus_on(thermometer)",),
    ]
    assert all(d.grounding == "exact" for d in decisions[:-1])
    # Training's inputs are a subsequence of the agent's (the agent is also asked at the steps
    # training drops); at every step training kept, the texts are identical.
    for role, policy in (("planner", planner), ("executor", executor)):
        expected = [ex.source for ex in examples_from_episode(role, gold)]
        asked = iter(policy.inputs)
        assert all(source in asked for source in expected), role  # in order: `in` consumes
    assert planner.inputs == [ex.source for ex in examples_from_episode("planner", gold)]


def test_flat_agent_sees_exactly_the_training_inputs():
    gold = gold_episode()
    flat = Scripted("flat", lambda text: [gold.steps[min(time_of(text), 4)].action])
    decisions = drive(FlatAgent(flat), gold)
    assert [d.action for d in decisions[:-1]] == gold.actions
    expected = {ex.step: ex.source for ex in examples_from_episode("flat", gold)}
    for index, source in expected.items():
        assert flat.inputs[index] == source


def test_roles_are_checked():
    p, e = Scripted("planner", None), Scripted("executor", None)
    with pytest.raises(AgentError, match="is a planner checkpoint, given as the executor"):
        HierarchicalAgent(p, p)
    with pytest.raises(AgentError, match="given as the flat policy"):
        FlatAgent(e)


def test_executor_that_only_ends_subgoals_is_overruled():
    gold = gold_episode()
    planner = Scripted("planner", lambda text: ["navigate_to(kitchen)"])
    executor = Scripted("executor", lambda text: [END_SUBGOAL, "go to kitchen"])
    agent = HierarchicalAgent(planner, executor, max_empty=3)
    agent.reset(prefix(gold, 0))
    decision = agent.act(Turn(prefix(gold, 0), lambda: ["go to kitchen"]))
    assert decision.action == "go to kitchen"
    assert decision.closed == ("navigate_to(kitchen)",) * 3 and len(decision.info["plans"]) == 4
    agent = HierarchicalAgent(planner, executor)  # the default: one empty sub-goal, then act
    agent.reset(prefix(gold, 0))
    decision = agent.act(Turn(prefix(gold, 0), lambda: ["go to kitchen"]))
    assert decision.closed == ("navigate_to(kitchen)",) and decision.subgoal == "navigate_to(kitchen)"


def test_subgoal_step_cap_hands_back_to_the_planner():
    gold = gold_episode()
    planner = Scripted("planner", lambda text: ["wait_for(ever)"])
    executor = Scripted("executor", lambda text: ["wait1"])
    agent = HierarchicalAgent(planner, executor, subgoal_steps=2)
    decisions = drive(agent, gold, valid=["wait1"])
    assert [d.closed for d in decisions[:4]] == [(), (), ("wait_for(ever)",), ()]


def test_complete_task_ends_the_episode_only_when_nothing_else_is_proposed():
    gold = gold_episode()
    agent = HierarchicalAgent(Scripted("planner", lambda t: [COMPLETE_TASK]), Scripted("executor", None))
    agent.reset(prefix(gold, 0))
    assert agent.act(Turn(prefix(gold, 0), list)).action is None

    # While the simulator has not ended the episode, complete_task() is premature: next beam.
    planner = Scripted("planner", lambda t: [COMPLETE_TASK, "navigate_to(kitchen)"])
    executor = Scripted("executor", lambda t: ["go to kitchen"])
    agent = HierarchicalAgent(planner, executor)
    agent.reset(prefix(gold, 0))
    decision = agent.act(Turn(prefix(gold, 0), lambda: ["go to kitchen"]))
    assert (decision.action, decision.subgoal) == ("go to kitchen", "navigate_to(kitchen)")
    trusting = HierarchicalAgent(planner, executor, trust_complete=True)
    trusting.reset(prefix(gold, 0))
    assert trusting.act(Turn(prefix(gold, 0), lambda: ["go to kitchen"])).action is None


def test_loop_guard_skips_noops_and_over_repeated_actions_but_not_waiting():
    ep = gold_episode()
    guard = LoopGuard(max_repeats=2)
    guard.observe(ep)
    # `open door to kitchen` changed nothing in the first state; `look around` nothing in its own.
    assert "open door to kitchen" in guard.avoid(ep.state_before(0))
    assert "look around" in guard.avoid(ep.state_before(2))
    assert "go to kitchen" not in guard.avoid(ep.state_before(0))
    state = ep.state_before(5)
    ep.steps += [Step("wait1", "You wait.", 100, 0, *state), Step("wait1", "You wait.", 100, 0, *state)]
    ep.steps += [Step("look at thermometer", "a thermometer", 100, 0, *state)]
    guard.observe(ep)
    assert guard.avoid(state) == {"look at thermometer"}


def test_oracle_agent_replays_spans_and_closes_them():
    gold = gold_episode()
    decisions = drive(OracleAgent([gold]), gold)
    assert [d.action for d in decisions] == [*gold.actions, None]
    assert decisions[3].closed == ("navigate_to(kitchen)",) and decisions[-1].closed == (
        "focus_on(thermometer)",
    )
    with pytest.raises(AgentError, match="no gold path"):
        OracleAgent([gold]).reset(prefix(Episode(**{**gold.__dict__, "variation": 7}), 0))
