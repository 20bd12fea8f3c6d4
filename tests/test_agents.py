"""Agents without a simulator: each is fed the Turns a rollout would feed it.

The key check: driven along an annotated gold episode, the hierarchical and flat agents hand their
models exactly the inputs training made from that episode (examples.examples_from_episode)."""

from __future__ import annotations

import re

import pytest

from subgoal.engine.agents import FlatAgent, HierarchicalAgent, LoopGuard, OracleAgent, Turn
from subgoal.engine.episode import Episode, Step, SubgoalSpan
from subgoal.engine.examples import COMPLETE_TASK, END_SUBGOAL, INPUT_FORMAT, examples_from_episode
from subgoal.engine.rules import RuleSet
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
        self.role, self.answer, self.inputs = role, answer, []
        self.manifest = {"name": role, "input_format": INPUT_FORMAT}

    def fits(self, text: str) -> bool:
        return True

    def generate(self, inputs, num_beams=5, num_return=5, max_new_tokens=32, allowed=None):  # type: ignore[no-untyped-def]
        self.inputs.extend(inputs)
        if allowed is not None:  # constrained: the scripted answers that are allowed, else the first allowed
            self.allowed = allowed
            return [
                [a for a in self.answer(t) if a in ok] or ok[:1]
                for t, ok in zip(inputs, allowed, strict=True)
            ]
        return [self.answer(text) for text in inputs]

    def score(self, source, candidates):  # type: ignore[no-untyped-def]
        """Higher for candidates earlier in the scripted answer; -100 for the rest."""
        self.inputs.append(source)
        self.scored = list(candidates)
        answer = self.answer(source)
        return [-float(answer.index(c)) if c in answer else -100.0 for c in candidates]


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


# The valid actions teleport_episode's agents are offered: one serving each sub-goal, and a wait.
TELEPORT_VALID = [
    "teleport to kitchen",
    "teleport to hallway",
    "pick up thermometer",
    "focus on thermometer",
    "wait1",
]


def teleport_episode() -> Episode:
    """An annotated episode as training sees it with --teleport: every span's action is one the
    agent reads off its sub-goal, and the spans start where the previous one is done."""
    inv0, inv1 = "In your inventory, you see: nothing", "In your inventory, you see: a thermometer"
    steps = [
        Step(
            "teleport to kitchen",
            "You teleport to the kitchen.",
            0,
            0,
            look("kitchen", "a thermometer"),
            inv0,
        ),
        Step(
            "pick up thermometer",
            "You move the thermometer to the inventory.",
            30,
            30,
            look("kitchen"),
            inv1,
        ),
        Step(
            "focus on thermometer",
            "You focus on the thermometer.",
            100,
            70,
            look("kitchen"),
            inv1,
            done=True,
        ),
    ]
    names = ["navigate_to(kitchen)", "pick_up(thermometer)", "focus_on(thermometer)"]
    return Episode(
        "4-2",
        "find-non-living-thing",
        0,
        "train",
        "Your task is to find a(n) non-living thing.",
        initial_look=look("hallway"),
        initial_inventory=inv0,
        steps=steps,
        subgoals=[SubgoalSpan(name, i, i + 1) for i, name in enumerate(names)],
    )


def play_still(agent, gold: Episode, valid: list[str], steps: int):  # type: ignore[no-untyped-def]
    """Let the agent act `steps` times in a world where nothing changes; its decisions."""
    episode = prefix(gold, 0)
    agent.reset(episode)
    state = gold.state_before(0)
    decisions = []
    for _ in range(steps):
        decision = agent.act(Turn(episode, lambda: valid))
        decisions.append(decision)
        episode.steps.append(Step(decision.action, "Nothing happens.", 0, 0, *state))
    return decisions


def completed_in(text: str) -> list[str]:
    done = re.search(r"latest first: (.*?) </s>", text).group(1)
    return [] if done == "none" else list(reversed(re.split(r"(?:^| )\d+\. ", done)[1:]))


def test_hierarchical_agent_reads_actions_off_its_subgoals_and_checks_them():
    gold = teleport_episode()
    names = [s.name for s in gold.subgoals]
    planner = Scripted(
        "planner",
        lambda text: [names[len(completed_in(text))] if len(completed_in(text)) < 3 else COMPLETE_TASK],
    )
    executor = Scripted("executor", lambda text: ["wait1"])
    decisions = drive(HierarchicalAgent(planner, executor), gold, valid=TELEPORT_VALID)
    assert [d.action for d in decisions[:3]] == gold.actions
    assert [d.subgoal for d in decisions[:3]] == names
    assert [d.closed for d in decisions[:3]] == [(), (names[0],), (names[1],)]
    # One valid action serves each sub-goal: no executor call at all.
    assert all(d.grounding == "subgoal" for d in decisions[:3])
    # One valid action served each sub-goal: the executor was never asked.
    assert executor.inputs == [] and decisions[3].action is None  # an old planner's complete_task()
    # The planner is asked where training made its examples, with the very same text.
    assert planner.inputs[:3] == [ex.source for ex in examples_from_episode("planner", gold)]


def test_the_agents_context_is_the_training_context_field_by_field():
    """Replays an annotated episode (with the no-op steps training drops) through the agent's
    context builder: time, score, history, look, inventory and sub-goals all equal training's."""
    from subgoal.engine.agents import agent_context
    from subgoal.engine.examples import render

    gold = gold_episode()
    for role in ("planner", "executor", "flat"):
        for ex in examples_from_episode(role, gold):
            span = gold.subgoal_at(min(ex.step, len(gold.steps) - 1))
            done = [s.name for s in gold.subgoals if s.end <= span.start]
            if role == "flat":
                ctx = agent_context(gold, ex.step)
            elif role == "planner":
                ctx = agent_context(gold, ex.step, done)
            else:
                ctx = agent_context(gold, ex.step, done, span.name, span.start)
            assert render(role, ctx) == ex.source, (role, ex.step)
    # Dropped no-op steps move neither time nor score: the no-op door and `look around` are not counted.
    flat = {ex.step: ex.source for ex in examples_from_episode("flat", gold)}
    assert time_of(flat[3]) == 1 and "score: 10" in flat[3]


def test_an_older_checkpoint_is_asked_in_the_layout_it_learned():
    from subgoal.engine.agents import agent_context
    from subgoal.engine.examples import render

    gold = gold_episode()
    old = Scripted("planner", list)
    old.manifest = {"name": "planner", "task_name_in_input": True}  # before `input_format`
    done = [gold.subgoals[0].name]
    text = render("planner", agent_context(gold, gold.subgoals[1].start, done, policy=old))
    assert f"completed subgoals: {done[0]} </s>" in text
    assert text == examples_from_episode("planner", gold, input_format=1)[1].source


def test_flat_agent_sees_exactly_the_training_inputs():
    gold = gold_episode()
    order = [i for i, s in enumerate(gold.steps) if i not in (0, 2)]  # the steps training keeps
    flat = Scripted("flat", lambda text: [gold.steps[order[min(time_of(text), len(order) - 1)]].action])
    decisions = drive(FlatAgent(flat), gold)
    expected = {ex.step: ex.source for ex in examples_from_episode("flat", gold)}
    for index, source in expected.items():
        assert flat.inputs[index] == source
        assert decisions[index].action == gold.steps[index].action


def test_roles_are_checked():
    p, e = Scripted("planner", None), Scripted("executor", None)
    with pytest.raises(AgentError, match="is a planner checkpoint, given as the executor"):
        HierarchicalAgent(p, p)
    with pytest.raises(AgentError, match="given as the flat policy"):
        FlatAgent(e)


def test_a_subgoal_out_of_allowance_fails_is_not_completed_and_is_capped():
    gold = gold_episode()
    planner = Scripted("planner", lambda text: ["navigate_to(kitchen)", "pick_up(thermometer)"])
    executor = Scripted("executor", lambda text: ["wait1"])
    executor.manifest = {"name": "executor", "subgoal_allowance": {"navigate_to": 2}}
    agent = HierarchicalAgent(planner, executor, max_failures=2)
    # A world where nothing changes: the teleport never arrives, so the sub-goal is never done.
    decisions = play_still(agent, gold, ["teleport to kitchen", "pick up thermometer", "wait1"], 5)
    # A teleport that changed nothing is not repeated within the attempt: the executor's generation.
    assert [d.action for d in decisions[:2]] == ["teleport to kitchen", "wait1"]
    assert decisions[2].closed == ("navigate_to(kitchen)", "navigate_to(kitchen)")
    # Failed on its allowance; proposed again, it is over at once, since its one action is known
    # to change nothing here ("exhausted"); twice failed, the planner's next beam is taken instead.
    assert decisions[2].info["endings"] == ["failed", "exhausted"]
    assert (
        "navigate_to(kitchen)" not in agent.completed and next(iter(agent.failures)) == "navigate_to(kitchen)"
    )
    assert agent.failures["navigate_to(kitchen)"] == 2
    assert "failed" not in planner.inputs[1]  # the planner's input as in training: no failures there
    assert decisions[2].subgoal == "pick_up(thermometer)" and decisions[2].action == "pick up thermometer"


def test_a_measurement_that_only_repeats_itself_is_over():
    gold = gold_episode()
    planner = Scripted("planner", lambda text: ["measure_temperature(pot)", "pick_up(thermometer)"])
    executor = Scripted("executor", lambda text: ["look at pot", "use thermometer on pot", END_SUBGOAL])
    executor.manifest = {"name": "executor", "subgoal_allowance": {"measure_temperature": 50}}
    agent = HierarchicalAgent(planner, executor)
    valid = ["look at pot", "use thermometer on pot", "pick up thermometer"]
    decisions = play_still(agent, gold, valid, 4)
    # Each reading changed nothing; with both tried, the measurement is over (the executor may end
    # it, so it counts as completed) instead of looking at the pot until the stall limit.
    assert [d.action for d in decisions[:2]] == ["look at pot", "use thermometer on pot"]
    assert decisions[2].info["endings"][0] == "exhausted" and agent.completed[0] == "measure_temperature(pot)"
    # Proposed again at once, nothing is left to try: failed, until the cap makes way for the next.
    assert agent.failures["measure_temperature(pot)"] == 2
    assert decisions[2].action == "pick up thermometer"


def test_a_room_is_not_visited_a_third_time_while_the_score_stands_still():
    gold = gold_episode()
    rooms = iter(["kitchen", "hallway"] * 10)
    planner = Scripted(
        "planner", lambda text: ["navigate_to(kitchen)", "navigate_to(hallway)", "pick_up(cup)"]
    )
    executor = Scripted("executor", lambda text: ["wait1"])
    agent = HierarchicalAgent(planner, executor)
    episode = prefix(gold, 0)
    agent.reset(episode)
    valid = ["teleport to kitchen", "teleport to hallway", "pick up cup"]
    taken = []
    for _ in range(6):
        decision = agent.act(Turn(episode, lambda: valid))
        taken.append(decision.action)
        room = (
            decision.action.removeprefix("teleport to ")
            if decision.action.startswith("teleport")
            else next(rooms)
        )
        episode.steps.append(Step(decision.action, "You teleport.", 0, 0, look(room), gold.initial_inventory))
    # The planner always prefers the kitchen; the hallway is its next beam once it is there.
    assert taken[:4] == [
        "teleport to kitchen",
        "teleport to hallway",
        "teleport to kitchen",
        "teleport to hallway",
    ]
    assert "pick up cup" in taken[4:]  # two trips each without a score change: the next beam's turn
    assert agent._progress[1]["navigate_to(kitchen)"] == 2


def test_a_reproposed_subgoal_keeps_its_history():
    gold = gold_episode()
    planner = Scripted("planner", lambda text: ["heat(pot, stove)"])
    executor = Scripted("executor", lambda text: ["move pot to stove", "activate stove"])
    executor.manifest = {"name": "executor", "subgoal_allowance": {"heat": 1}}
    agent = HierarchicalAgent(planner, executor, max_failures=5)
    episode = prefix(gold, 0)
    agent.reset(episode)
    for n in range(3):  # each step changes the room a little: no step is a no-op to avoid
        decision = agent.act(Turn(episode, lambda: ["move pot to stove", "activate stove", "wait1"]))
        episode.steps.append(
            Step(decision.action, "Nothing happens.", 0, 0, look("kitchen", f"a clock at {n}"), "")
        )
    asked = [t for t in executor.inputs if t.startswith("subgoal: heat(pot, stove)")]
    assert "history: none" in asked[0]
    assert "history: move pot to stove -> Nothing happens." in asked[1]  # the first attempt's step


def test_focus_is_never_grounded_fuzzily():
    gold = gold_episode()
    valid = ["focus on beaver egg", "go to kitchen", "look around"]
    flat = Scripted("flat", lambda text: ["focus on beaver"])
    decision = FlatAgent(flat).act(Turn(prefix(gold, 0), lambda: valid))
    assert not decision.action.startswith("focus")
    # The hierarchical agent takes a focus only when its focus_on(X) names exactly X.
    planner = Scripted("planner", lambda text: ["focus_on(beaver)"])
    executor = Scripted("executor", lambda text: ["focus on beaver", "focus on beaver egg"])
    agent = HierarchicalAgent(planner, executor)
    agent.reset(prefix(gold, 0))
    assert not agent.act(Turn(prefix(gold, 0), lambda: valid)).action.startswith("focus")
    planner = Scripted("planner", lambda text: ["focus_on(beaver egg)"])
    agent = HierarchicalAgent(planner, executor)
    agent.reset(prefix(gold, 0))
    assert agent.act(Turn(prefix(gold, 0), lambda: valid)).action == "focus on beaver egg"


def test_candidates_are_scored_and_end_subgoal_only_where_no_check_exists():
    gold = gold_episode()
    valid = ["use thermometer on water", "use thermometer on soap", "examine water", "wait1"]
    planner = Scripted("planner", lambda text: ["measure_temperature(water)"])
    executor = Scripted("executor", lambda text: ["examine water", "use thermometer on water"])
    agent = HierarchicalAgent(planner, executor)
    agent.reset(prefix(gold, 0))
    decision = agent.act(Turn(prefix(gold, 0), lambda: valid))
    assert (decision.action, decision.grounding) == ("examine water", "scored")
    assert END_SUBGOAL not in executor.scored  # nothing done yet: ending is not an option
    assert set(executor.scored) == {"use thermometer on water", "examine water"}


def test_ambiguous_requests_are_answered_and_empty_candidates_fall_back():
    gold = gold_episode()
    state = gold.state_before(0)
    asked = prefix(gold, 0)
    asked.steps = [Step("pick up thermometer", "Ambiguous request: Please enter the number", 0, 0, *state)]
    flat = Scripted("flat", lambda text: ["go to kitchen"])
    assert FlatAgent(flat).act(Turn(asked, lambda: ["0", "1"])).action == "0"
    # A sub-goal naming nothing in view and an executor saying nothing valid: look around.
    planner = Scripted("planner", lambda text: ["pick_up(unicorn)"])
    executor = Scripted("executor", lambda text: ["fly away"])
    agent = HierarchicalAgent(planner, executor)
    agent.reset(prefix(gold, 0))
    assert agent.act(Turn(prefix(gold, 0), lambda: ["look around"])).action == "look around"


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


def test_a_planner_that_misspells_a_name_is_constrained_to_what_is_offered(unretired):
    gold = gold_episode()

    class Speller(Scripted):
        """Spells `move(cup, blue box)`; constrained, takes the allowed name sharing most words."""

        def generate(self, inputs, num_beams=5, num_return=5, max_new_tokens=32, allowed=None):  # type: ignore[no-untyped-def]
            if allowed is None:
                return super().generate(inputs, num_beams, num_return, max_new_tokens)
            self.allowed = allowed
            words = set(re.findall(r"\w+", "move(cup, blue box)"))
            return [
                sorted(ok, key=lambda a: -len(words & set(re.findall(r"\w+", a))))[:num_return]
                for ok in allowed
            ]

    planner = Speller("planner", lambda text: ["move(cup, blue box)", "move(cup, green box)"])
    executor = Scripted("executor", lambda text: ["wait1"])
    agent = HierarchicalAgent(planner, executor)
    agent.reset(prefix(gold, 0))
    decision = agent.act(Turn(prefix(gold, 0), lambda: ["move cup to orange box", "look around"]))
    assert (decision.subgoal, decision.action) == ("move(cup, orange box)", "move cup to orange box")
    assert "move(cup, blue box)" not in planner.allowed[0]  # the constraint came from the valid actions


def test_each_decision_says_why_its_action_was_chosen():
    # The viewer's why pane reads these (Decision.info["why"], kept in Episode.meta["notes"]).
    gold = gold_episode()
    valid = ["focus on beaver egg", "go to kitchen", "look around", "wait1"]
    beams = ["go to hallway", "focus on beaver egg", "go to kitchen", "look around"]
    flat = Scripted("flat", lambda text: beams)
    named = prefix(gold, 0)
    named.task_description = "Your task is to find the thermometer. First, focus on the thermometer."
    decision = FlatAgent(flat).act(Turn(named, lambda: valid))
    assert (decision.action, decision.grounding) == ("go to kitchen", "exact")
    assert decision.info["why"]["beams"] == [
        ["go to hallway", "invalid"],
        ["focus on beaver egg", "focus"],  # the task names the thermometer: the focus guard refused it
        ["go to kitchen", "taken"],
        ["look around", "valid"],
    ]
    # No exact beam: the valid actions of the beams' verbs are scored, best first.
    flat = Scripted("flat", lambda text: ["go to hallway", "go to kitchen"])
    decision = FlatAgent(flat).act(Turn(prefix(gold, 0), lambda: ["go to garden", "go to kitchen", "wait1"]))
    assert decision.grounding == "exact"
    flat = Scripted("flat", lambda text: ["go to hallway", "go to attic"])
    decision = FlatAgent(flat).act(Turn(prefix(gold, 0), lambda: ["go to garden", "go to kitchen", "wait1"]))
    why = decision.info["why"]
    assert decision.grounding == "scored" and why["beams"] == [
        ["go to hallway", "invalid"],
        ["go to attic", "invalid"],
    ]
    assert [c for c, _ in why["scored"]] == [decision.action, *[c for c, _ in why["scored"][1:]]]
    assert {c for c, _ in why["scored"]} == {"go to garden", "go to kitchen"}
    assert all(isinstance(s, float) for _, s in why["scored"])
    # The hierarchical agent: the valid actions serving the sub-goal, and the executor's scores.
    planner = Scripted("planner", lambda text: ["measure_temperature(water)"])
    executor = Scripted("executor", lambda text: ["examine water", "use thermometer on water"])
    agent = HierarchicalAgent(planner, executor)
    agent.reset(prefix(gold, 0))
    valid = ["use thermometer on water", "use thermometer on soap", "examine water", "wait1"]
    decision = agent.act(Turn(prefix(gold, 0), lambda: valid))
    why = decision.info["why"]
    assert set(why["served"]) == {"use thermometer on water", "examine water"}
    assert why["scored"] == [["examine water", -0.0], ["use thermometer on water", -1.0]]


def test_both_agents_keep_to_what_the_tasks_train_plans_use():
    """A planner that plans a boil for a circuit task, and a flat model that teleports to a room the
    task is never played in: with the checkpoint's task_vocabulary, each takes its next beam."""
    gold = gold_episode()  # task 4-2
    valid = ["teleport to bathroom", "teleport to kitchen", "pick up thermometer", "look around"]
    planner = Scripted(
        "planner", lambda text: ["heat(metal pot, stove)", "navigate_to(bathroom)", "navigate_to(kitchen)"]
    )
    planner.manifest = {
        "name": "planner",
        "task_vocabulary": {"4-2": {"verbs": ["navigate_to", "focus_on"], "rooms": ["kitchen"]}},
    }
    executor = Scripted("executor", lambda text: ["wait1"])
    agent = HierarchicalAgent(planner, executor)
    agent.reset(prefix(gold, 0))
    decision = agent.act(Turn(prefix(gold, 0), lambda: valid))
    assert (decision.subgoal, decision.action) == ("navigate_to(kitchen)", "teleport to kitchen")

    flat = Scripted(
        "flat", lambda text: ["teleport to bathroom", "pick up thermometer", "teleport to kitchen"]
    )
    flat.manifest = {
        "name": "flat",
        "task_vocabulary": {"4-2": {"verbs": ["teleport to", "focus"], "rooms": ["kitchen"]}},
    }
    decision = FlatAgent(flat).act(Turn(prefix(gold, 0), lambda: valid))
    assert decision.action == "teleport to kitchen"
    assert decision.info["why"]["beams"][:2] == [
        ["teleport to bathroom", "off-task"],
        ["pick up thermometer", "off-task"],
    ]
    # Without a vocabulary (older checkpoints) nothing is bounded.
    flat.manifest = {"name": "flat"}
    assert FlatAgent(flat).act(Turn(prefix(gold, 0), lambda: valid)).action == "teleport to bathroom"


def test_a_wait_is_not_repeated_past_its_cap_while_the_score_stands_still():
    gold = gold_episode()
    waits = iter(["wait(2)", "wait(1)", "wait(5)"])  # a new length each time: the cap is on waiting
    planner = Scripted("planner", lambda text: [next(waits, "wait(3)"), "pick_up(cup)"])
    executor = Scripted("executor", lambda text: ["wait1"])
    agent = HierarchicalAgent(planner, executor)
    episode = prefix(gold, 0)
    agent.reset(episode)
    taken = []
    for n in range(6):
        decision = agent.act(Turn(episode, lambda: ["wait1", "pick up cup"]))
        taken.append(decision.subgoal)
        episode.steps.append(Step(decision.action, "You wait.", 0, 0, look("kitchen", f"a clock at {n}"), ""))
    # two waits (the train plans' most without a score change, plus one), then the next beam
    assert taken[:4] == ["wait(2)", "wait(2)", "wait(1)", "pick_up(cup)"]


MELT = (
    "Your task is to measure the melting point of tin. First, focus on the thermometer. If the melting "
    "point of tin is above 50.0 degrees celsius, focus on the red box. If the melting point of tin is "
    "below 50.0 degrees celsius, focus on the green box."
)


def test_neither_agent_answers_before_the_experiment_its_train_plans_make():
    """A box focused right after the thermometer is a coin flip taken before any measurement;
    the task's train plans always measure first."""
    gold = gold_episode()
    episode = prefix(gold, 0)
    episode.task_id, episode.task_description = "2-2", MELT
    valid = ["focus on red box", "use thermometer on tin", "look around"]
    planner = Scripted("planner", lambda text: ["focus_on(red box)", "measure_temperature(tin)"])
    planner.manifest = {
        "name": "planner",
        "task_vocabulary": {
            "2-2": {"verbs": ["focus_on", "measure_temperature"], "answer_after": ["measure_temperature"]}
        },
    }
    executor = Scripted("executor", lambda text: [END_SUBGOAL, "use thermometer on tin"])
    # answer-reading would hold the box back until a reading shows it: here the guard alone
    rules = "task without answer-reading"
    agent = HierarchicalAgent(planner, executor, rules=RuleSet(rules))
    agent.reset(episode)
    decision = agent.act(Turn(episode, lambda: valid))
    assert decision.subgoal == "measure_temperature(tin)"
    assert decision.info["why"]["refused"] == {"focus_on(red box)": "answer"}  # for the why pane
    episode.steps.append(Step("use thermometer on tin", "the thermometer measures 20 degrees", 0, 0, "", ""))
    decision = agent.act(Turn(episode, lambda: valid))  # the executor ends the measurement
    assert (decision.subgoal, decision.action) == ("focus_on(red box)", "focus on red box")
    # ended without a reading (the executor may end an unchecked sub-goal): still no answer
    looked = prefix(gold, 0)
    looked.task_id, looked.task_description = "2-2", MELT
    agent.reset(looked)
    agent.act(Turn(looked, lambda: valid))
    looked.steps.append(Step("look at tin", "a substance called tin", 0, 0, "", ""))
    assert agent.act(Turn(looked, lambda: valid)).subgoal == "measure_temperature(tin)"

    flat = Scripted("flat", lambda text: ["focus on red box", "use thermometer on tin"])
    flat.manifest = {
        "name": "flat",
        "task_vocabulary": {"2-2": {"verbs": ["focus", "measure"], "answer_after": ["measure"]}},
    }
    before = prefix(gold, 0)
    before.task_id, before.task_description = "2-2", MELT
    decision = FlatAgent(flat, rules=RuleSet(rules)).act(Turn(before, lambda: valid))
    assert decision.action == "use thermometer on tin"
    assert decision.info["why"]["beams"][0] == ["focus on red box", "focus"]
    assert (
        FlatAgent(flat, rules=RuleSet(rules)).act(Turn(episode, lambda: valid)).action == "focus on red box"
    )
    elsewhere = prefix(gold, 0)
    elsewhere.task_id, elsewhere.task_description = "2-2", MELT
    elsewhere.steps.append(Step("use thermometer on drawing", "the thermometer measures 20", 0, 0, "", ""))
    assert (
        FlatAgent(flat, rules=RuleSet(rules)).act(Turn(elsewhere, lambda: valid)).action
        == "use thermometer on tin"
    )


def test_the_planner_does_not_tour_the_house():
    """The box's room reached, a planner can teleport on and on. A task whose train plans never
    navigate twice in a row gets at most two in a row; then the next beam."""
    gold = gold_episode()
    episode = prefix(gold, 0)
    valid = ["teleport to workshop", "teleport to bathroom", "move egg to red box", "look around"]
    planner = Scripted(
        "planner",
        lambda text: ["navigate_to(workshop)", "navigate_to(bathroom)", "move(egg, red box)"],
    )
    planner.manifest = {
        "name": "planner",
        "task_vocabulary": {"4-2": {"verbs": ["navigate_to", "move"], "navigation_run": 1}},
    }
    executor = Scripted("executor", lambda text: ["wait1"])
    agent = HierarchicalAgent(planner, executor)
    agent.reset(episode)
    taken = []
    for room in ("workshop", "bathroom", "bathroom"):
        decision = agent.act(Turn(episode, lambda: valid))
        taken.append((decision.subgoal, decision.action))
        episode.steps.append(Step(decision.action, "ok", 0, 0, look(room), ""))
    assert taken == [
        ("navigate_to(workshop)", "teleport to workshop"),
        ("navigate_to(bathroom)", "teleport to bathroom"),
        ("move(egg, red box)", "move egg to red box"),
    ]


def test_a_focus_is_chosen_among_the_valid_ones_only_where_the_task_names_it_by_a_kind(unretired):
    """A planner may spell animals that are not there (`focus_on(baby elephant)`) while a
    juvenile mouse is; training focused only on short-lived kinds in 7-2, so the constrained
    choice may offer the mouse and not the wolf. A task that names its focus never gets one so."""
    gold = gold_episode()
    episode = prefix(gold, 0)
    episode.task_id = "7-2"
    episode.task_description = "Your task is to find the animal with the shortest life span. Focus on the animal with the shortest life span."
    valid = ["focus on juvenile wolf", "focus on juvenile mouse", "wait1"]
    planner = Scripted("planner", lambda text: ["focus_on(baby elephant)", "focus_on(juvenile wolf)"])
    planner.manifest = {"name": "planner", "focus_heads": {"7-2": ["mouse", "dragonfly"]}}
    agent = HierarchicalAgent(planner, Scripted("executor", lambda text: ["wait1"]))
    agent.reset(episode)
    decision = agent.act(Turn(episode, lambda: valid))
    assert [o for o in planner.allowed[0] if o.startswith("focus")] == ["focus_on(juvenile mouse)"]
    assert (decision.subgoal, decision.action) == ("focus_on(juvenile mouse)", "focus on juvenile mouse")

    flat = Scripted("flat", lambda text: ["focus on baby elephant", "focus on juvenile wolf"])
    flat.manifest = {"name": "flat", "focus_heads": {"7-2": ["mouse", "dragonfly"]}}
    decision = FlatAgent(flat).act(Turn(episode, lambda: valid))
    assert (decision.action, decision.grounding) == ("focus on juvenile mouse", "scored")

    named = prefix(gold, 0)
    named.task_description = "Your task is to find the thermometer. First, focus on the thermometer."
    planner.manifest = flat.manifest = {"name": "named"}
    valid = ["focus on thermometer", "wait1"]
    agent = HierarchicalAgent(planner, Scripted("executor", lambda text: ["wait1"]))
    agent.reset(named)
    agent.act(Turn(named, lambda: valid))
    assert not [o for o in planner.allowed[0] if o.startswith("focus")]
    flat = Scripted("flat", lambda text: ["focus on thermometers"])
    assert FlatAgent(flat).act(Turn(named, lambda: valid)).action != "focus on thermometer"


def test_a_task_that_focuses_twice_takes_each_kind_at_its_place():
    """7-3: the longest-lived first, then the shortest-lived (a flat run focused the mouse first)."""
    gold = gold_episode()
    episode = prefix(gold, 0)
    episode.task_id = "7-3"
    episode.task_description = "Your task is to find the animal with the longest life span, then the shortest. Focus on the animal with the longest life span."
    valid = ["focus on juvenile mouse", "focus on adult bear", "wait1"]
    flat = Scripted("flat", lambda text: ["focus on juvenile mouse", "focus on adult bear"])
    flat.manifest = {
        "name": "flat",
        "focus_heads": {"7-3": ["bear", "mouse"]},
        "focus_heads_in_order": {"7-3": [["bear"], ["mouse"]]},
    }
    agent = FlatAgent(flat)
    assert agent.act(Turn(episode, lambda: valid)).action == "focus on adult bear"
    episode.steps.append(Step("focus on adult bear", "You focus on the bear.", 50, 50, "", ""))
    assert agent.act(Turn(episode, lambda: valid)).action == "focus on juvenile mouse"


def hunt(vocabulary=None, steps: int = 5, rules=None):  # type: ignore[no-untyped-def]
    """A planner that wants `pick_up(rubber)` for "boil rubber", the rubber in the workshop and the
    agent in the kitchen: the actions taken, how, and the agent."""
    inv = "In your inventory, you see: nothing"
    rooms = ["kitchen", "hallway", "workshop", "foundry"]
    teleports = [f"teleport to {r}" for r in rooms]
    world = {r: teleports for r in rooms} | {
        "kitchen": ["open cupboard", *teleports],
        "workshop": ["pick up rubber", *teleports],
    }
    episode = Episode(
        "1-1",
        "boil",
        0,
        "test",
        "Your task is to boil rubber. Look in the foundry first. First, focus on the substance.",
        initial_look=look("kitchen"),
        initial_inventory=inv,
    )
    planner = Scripted("planner", lambda text: ["pick_up(rubber)"])
    planner.manifest = {"name": "planner", "task_vocabulary": vocabulary}
    executor = Scripted("executor", lambda text: ["open cupboard"])
    executor.manifest = {"name": "executor", "subgoal_allowance": {"pick_up": 2}}
    agent = HierarchicalAgent(planner, executor, rules=rules)
    agent.reset(episode)
    room, taken = "kitchen", []
    for _ in range(steps):
        decision = agent.act(Turn(episode, lambda r=room: world[r]))
        taken.append((decision.action, decision.grounding))
        if decision.action.startswith("teleport to "):
            room = decision.action.removeprefix("teleport to ")
        observation = "You move the rubber to the inventory." if decision.action == "pick up rubber" else "ok"
        episode.steps.append(Step(decision.action, observation, 0, 0, look(room), inv))
        if decision.action == "pick up rubber":
            break
    return taken, agent


def test_a_thing_the_task_names_is_looked_for_room_by_room_outside_the_allowance():
    """`pick_up(rubber)` with no rubber in view: the agent opens what is closed here, then
    teleports to the rooms it has not seen (the one the task names first), each once, and none of
    it counts toward the sub-goal's allowance of 2; found, the rubber is picked up."""
    taken, agent = hunt()
    assert taken == [
        ("open cupboard", "subgoal"),
        ("teleport to foundry", "search"),  # the room the task names, before the others
        ("teleport to hallway", "search"),
        ("teleport to workshop", "search"),
        ("pick up rubber", "subgoal"),
    ]
    assert agent.failures == {} and agent.current == "pick_up(rubber)"
    assert agent.searched == {0, 1, 2, 3}


def test_a_task_played_in_one_room_is_searched_only_there():
    taken, _ = hunt({"1-1": {"verbs": ["pick_up"], "rooms": ["workshop"]}})
    assert taken[1:] == [("teleport to workshop", "search"), ("pick up rubber", "subgoal")]


def test_nothing_is_looked_for_that_the_task_does_not_name():
    from subgoal.engine.subgoals import in_view, parse_subgoal, search_target

    task = "Your task is to boil rubber. First, focus on the substance."
    assert search_target(parse_subgoal("pick_up(rubber)"), task) == "rubber"
    assert search_target(parse_subgoal("focus_on(rubber)"), task) == "rubber"
    assert search_target(parse_subgoal("pick_up(metal pot)"), task) is None  # the planner's own idea
    assert search_target(parse_subgoal("focus_on(substance in metal pot)"), task) is None  # made later
    assert search_target(parse_subgoal("navigate_to(kitchen)"), task) is None
    assert in_view("rubber", ["pick up liquid rubber"], "")
    assert in_view("soap in cupboard", [], "In your inventory, you see: a bar of soap")
    assert not in_view("rubber", ["pick up tree", "open cupboard"], "In your inventory, you see: nothing")


def test_neither_agent_acts_before_what_every_train_plan_does_first():
    """A planner that focuses before it picks up, a flat model likewise, where every train plan of
    the task picks up first (vocabulary `after`): each takes its next beam, and the first one's
    turn comes once the pick-up is done."""
    gold = gold_episode()  # 4-2: pick up the thermometer, then focus on it
    valid = ["focus on thermometer", "pick up thermometer", "look around"]
    after = {"focus_on": ["pick_up"], "focus": ["pick"]}
    planner = Scripted("planner", lambda text: ["focus_on(thermometer)", "pick_up(thermometer)"])
    planner.manifest = {
        "name": "planner",
        "task_vocabulary": {"4-2": {"verbs": ["focus_on", "pick_up"], "after": after}},
    }
    agent = HierarchicalAgent(planner, Scripted("executor", lambda text: ["wait1"]))
    decisions = drive(agent, prefix(gold, 5), valid)  # the gold states: kitchen, then the pick-up done
    assert (decisions[0].subgoal, decisions[0].action) == ("pick_up(thermometer)", "pick up thermometer")
    assert decisions[0].info["why"]["refused"] == {"focus_on(thermometer)": "early"}
    assert agent.completed == ["pick_up(thermometer)", "focus_on(thermometer)"]
    assert "focus on thermometer" in [d.action for d in decisions[1:]]

    flat = Scripted("flat", lambda text: ["focus on thermometer", "pick up thermometer"])
    flat.manifest = {
        "name": "flat",
        "task_vocabulary": {"4-2": {"verbs": ["focus", "pick"], "after": after}},
    }
    flat_agent = FlatAgent(flat)
    assert flat_agent.act(Turn(prefix(gold, 0), lambda: valid)).action == "pick up thermometer"
    assert flat_agent.act(Turn(prefix(gold, 4), lambda: valid)).action == "focus on thermometer"


def test_beams_that_name_nothing_valid_leave_the_choice_to_the_models_score_not_a_look():
    """No beam valid, none of their verbs valid, nothing similar: the flat agent takes the valid
    action its model scores highest among those nearest its first beam, where it used to look
    around (a look changes nothing, so the next step asked the same again)."""

    class Dreamer(Scripted):
        def score(self, source, candidates):  # type: ignore[no-untyped-def]
            self.scored = list(candidates)
            return [1.0 if c == "pick up thermometer" else 0.0 for c in candidates]

    flat = Dreamer("flat", lambda text: ["fly to the moon"])
    decision = FlatAgent(flat).act(
        Turn(prefix(gold_episode(), 0), lambda: ["open cupboard", "pick up thermometer"])
    )
    assert (decision.action, decision.grounding) == ("pick up thermometer", "scored")
    assert sorted(flat.scored) == ["open cupboard", "pick up thermometer"]


def test_both_agents_rename_a_train_variations_thing_to_this_ones():
    """The planner spells the substance its train variations boiled; the agent pursues the
    sub-goal for this variation's (and the flat agent takes the action for it)."""
    inv = "In your inventory, you see: nothing"
    episode = Episode(
        "1-1",
        "boil",
        0,
        "test",
        "Your task is to boil ice cream. First, focus on the substance.",
        initial_look=look("kitchen", "ice cream"),
        initial_inventory=inv,
    )
    vocabulary = {"1-1": {"verbs": ["pick_up", "pick up"], "objects": ["chocolate", "water"]}}
    valid = ["pick up ice cream", "look around"]  # no focus: the one on ice cream is the agents' own
    planner = Scripted("planner", lambda text: ["pick_up(chocolate)"])
    planner.manifest = {"name": "planner", "task_vocabulary": vocabulary}
    agent = HierarchicalAgent(planner, Scripted("executor", lambda text: ["wait1"]))
    agent.reset(episode)
    decision = agent.act(Turn(episode, lambda: valid))
    assert (decision.subgoal, decision.action) == ("pick_up(ice cream)", "pick up ice cream")
    flat = Scripted("flat", lambda text: ["pick up chocolate"])
    flat.manifest = {"name": "flat", "task_vocabulary": vocabulary}
    decision = FlatAgent(flat).act(Turn(episode, lambda: valid))
    assert (decision.action, decision.generated) == ("pick up ice cream", ["pick up ice cream"])


def test_a_thing_put_down_is_picked_up_again():
    """Every 1-x train plan picks the metal pot up, puts it on the stove, then picks it up again
    for the foundry: a second pick-up is pursued; one of a thing still held is found done."""
    inv0, held = "In your inventory, you see: nothing", "In your inventory, you see: a metal pot"
    episode = Episode(
        "1-1",
        "boil",
        0,
        "test",
        "Your task is to boil tin.",
        initial_look=look("kitchen"),
        initial_inventory=inv0,
    )
    plans = iter(["pick_up(metal pot)", "pick_up(metal pot)", "heat(metal pot, stove)", "pick_up(metal pot)"])
    planner = Scripted("planner", lambda text: [next(plans)])
    agent = HierarchicalAgent(planner, Scripted("executor", lambda text: ["wait1"]))
    agent.reset(episode)
    worlds = [
        (["pick up metal pot"], "You move the metal pot to the inventory.", held),
        (["move metal pot to stove", "activate stove"], "You move the metal pot to the stove.", inv0),
        (["activate stove"], "The stove is now activated.", inv0),
        (["pick up metal pot"], "You move the metal pot to the inventory.", held),
    ]
    taken = []
    for valid, observation, inventory in worlds:
        decision = agent.act(Turn(episode, lambda v=valid: v))
        taken.append(decision.action)
        episode.steps.append(Step(decision.action, observation, 0, 0, look("kitchen"), inventory))
    # The second proposal came while the pot was held: done at once, so the heat was next.
    assert taken == ["pick up metal pot", "move metal pot to stove", "activate stove", "pick up metal pot"]
    assert agent.completed == ["pick_up(metal pot)", "heat(metal pot, stove)"]
    assert (agent.current, taken[-1]) == ("pick_up(metal pot)", "pick up metal pot")


def test_a_substance_in_a_container_is_focused_on_only_where_it_is_the_tasks_thing():
    """`focus on substance in fountain` is water: right for "boil water" with water in it, -100
    for "boil tin"."""
    inv = "In your inventory, you see: nothing"
    valid = ["focus on substance in fountain", "look around"]

    def first_action(task: str) -> str:
        episode = Episode(
            "1-1",
            "boil",
            0,
            "test",
            f"Your task is to {task}. First, focus on the substance.",
            initial_look=look("outside", "a fountain (containing water)"),
            initial_inventory=inv,
        )
        flat = Scripted("flat", lambda text: ["focus on substance in fountain"])
        return FlatAgent(flat).act(Turn(episode, lambda: valid)).action

    assert first_action("boil water") == "focus on substance in fountain"
    assert first_action("boil tin") != "focus on substance in fountain"


def test_a_reading_is_only_of_the_tasks_thing_for_both_agents():
    """Every train plan reads the task's substance: `measure_temperature(hallway)` is refused and the planner's next beam taken; the flat agent's
    reading of the jug is off-task, the one of the substance in the pot is not."""
    inv = "In your inventory, you see: a thermometer"
    episode = Episode(
        "1-1",
        "boil",
        0,
        "test",
        "Your task is to boil tin. First, focus on the substance.",
        initial_look=look("kitchen", "a jug, a metal pot (containing liquid tin)"),
        initial_inventory=inv,
    )
    valid = [
        "use thermometer in inventory on jug",
        "use thermometer in inventory on substance in metal pot",
        "use thermometer in inventory on hallway",
        "look around",
    ]
    planner = Scripted(
        "planner",
        lambda text: ["measure_temperature(hallway)", "measure_temperature(substance in metal pot)"],
    )
    agent = HierarchicalAgent(planner, Scripted("executor", lambda text: ["wait1"]))
    agent.reset(episode)
    decision = agent.act(Turn(episode, lambda: valid))
    assert decision.subgoal == "measure_temperature(substance in metal pot)"
    assert decision.action == "use thermometer in inventory on substance in metal pot"
    assert decision.info["why"]["refused"] == {"measure_temperature(hallway)": "measure"}
    flat = Scripted("flat", lambda text: ["use thermometer in inventory on jug"])
    decision = FlatAgent(flat).act(Turn(episode, lambda: valid))
    assert decision.action == "use thermometer in inventory on substance in metal pot"
    assert decision.info["why"]["beams"] == [["use thermometer in inventory on jug", "off-task"]]


def test_once_it_holds_what_it_focused_on_the_agent_goes_to_the_tasks_room_and_box():
    """4-x: every train plan takes the thing it holds to the task's room and box; both agents get
    the task's room, then its box."""
    task = "Your task is to find a(n) living thing. First, focus on the thing. Then, move it to the red box in the kitchen."
    held = "In your inventory, you see: \n\tan egg parrot egg"
    episode = Episode(
        "4-1", "find-living-thing", 0, "test", task, initial_look=look("outside"), initial_inventory=""
    )
    episode.steps.append(
        Step("focus on egg parrot egg", "You focus on the egg parrot egg.", 0, 0, look("outside"), "")
    )
    episode.steps.append(
        Step("pick up egg parrot egg", "You move the egg to the inventory.", 0, 0, look("outside"), held)
    )
    teleports = ["teleport to workshop", "teleport to kitchen", "look around"]
    planner = Scripted("planner", lambda text: ["navigate_to(workshop)"])
    agent = HierarchicalAgent(planner, Scripted("executor", lambda text: ["wait1"]))
    agent.reset(episode)
    decision = agent.act(Turn(episode, lambda: teleports))
    assert (decision.subgoal, decision.action) == ("navigate_to(kitchen)", "teleport to kitchen")
    flat = Scripted("flat", lambda text: ["teleport to workshop"])
    assert FlatAgent(flat).act(Turn(episode, lambda: teleports)).action == "teleport to kitchen"
    episode.steps.append(
        Step(
            "teleport to kitchen",
            "You teleport to the kitchen.",
            0,
            0,
            look("kitchen", "a red box, a green box"),
            held,
        )
    )
    moves = ["move egg parrot egg to red box", "move egg parrot egg to green box", "look around"]
    flat = Scripted("flat", lambda text: ["move egg parrot egg to green box"])
    assert FlatAgent(flat).act(Turn(episode, lambda: moves)).action == "move egg parrot egg to red box"


def test_a_focus_on_the_substance_never_takes_what_the_inventory_holds():
    """A planner copying the task's own word proposes `focus_on(substance)`, and the simulator's
    `focus on substance in inventory` is whatever is held (here wood): -100."""
    episode = Episode(
        "1-4",
        "change-the-state-of-matter-of",
        0,
        "test",
        "Your task is to change the state of matter of tin. First, focus on the substance.",
        initial_look=look("living room", "a chair"),
        initial_inventory="In your inventory, you see: \n\ta wood",
    )
    valid = ["focus on substance in inventory", "focus on chair", "look around"]
    planner = Scripted("planner", lambda text: ["focus_on(substance)"])
    agent = HierarchicalAgent(planner, Scripted("executor", lambda text: ["focus on substance in inventory"]))
    agent.reset(episode)
    for _ in range(3):
        decision = agent.act(Turn(episode, lambda: valid))
        assert not (decision.action or "").startswith("focus on"), decision
        episode.steps.append(
            Step(
                decision.action,
                "nothing happens",
                0,
                0,
                episode.state_before(len(episode.steps))[0],
                episode.state_before(len(episode.steps))[1],
            )
        )


def test_a_room_the_task_names_is_searched_even_after_passing_through_it():
    """The rubber is in the foundry's closed furnace, the task says so, and the agent started in
    the foundry before the planner sent it to the kitchen: the search goes back to the foundry
    and opens the furnace before it tries rooms the task does not name."""
    inv = "In your inventory, you see: nothing"
    teleports = [f"teleport to {r}" for r in ("kitchen", "hallway", "foundry")]
    state = {"room": "foundry", "open": False}

    def valid() -> list[str]:
        if state["room"] == "foundry":
            return (["pick up rubber"] if state["open"] else ["open furnace"]) + teleports
        return teleports

    episode = Episode(
        "1-1",
        "boil",
        0,
        "test",
        "Your task is to boil rubber, which is in the foundry.",
        initial_look=look("foundry"),
        initial_inventory=inv,
    )
    calls = iter([["navigate_to(kitchen)"]] + [["pick_up(rubber)"]] * 10)
    agent = HierarchicalAgent(
        Scripted("planner", lambda text: next(calls)), Scripted("executor", lambda text: ["wait1"])
    )
    agent.reset(episode)
    taken = []
    for _ in range(5):
        decision = agent.act(Turn(episode, valid))
        taken.append(decision.action)
        if decision.action.startswith("teleport to "):
            state["room"] = decision.action.removeprefix("teleport to ")
        state["open"] |= decision.action == "open furnace"
        episode.steps.append(Step(decision.action, "ok", 0, 0, look(state["room"]), inv))
        if decision.action == "pick up rubber":
            break
    assert taken == ["teleport to kitchen", "teleport to foundry", "open furnace", "pick up rubber"]


def test_both_agents_focus_on_each_life_stage_in_order_as_it_comes_into_view():
    """Every 8-x train plan focuses on each stage earliest first, and plants grow on while an
    agent waits: the next stage in view is focused on at once, by neither model."""
    garden = look(
        "outside",
        "a self watering flower pot 1 (containing a lemon tree in the seedling stage, soil)\n"
        "\ta self watering flower pot 4 (containing a lemon seed, soil, a substance called water)\n"
        "\ta self watering flower pot 5 (containing a lemon tree in the adult stage, soil)",
    )
    valid = [
        "focus on adult lemon tree",
        "focus on lemon seed",
        "focus on lemon tree in self watering flower pot 1",
        "wait1",
    ]
    wants = [
        "focus on lemon seed",
        "focus on lemon tree in self watering flower pot 1",
        "focus on adult lemon tree",
    ]
    for make in (
        lambda: HierarchicalAgent(
            Scripted("planner", lambda text: ["focus_on(adult lemon tree)", "wait(5)"]),
            Scripted("executor", lambda text: ["wait1"]),
        ),
        lambda: FlatAgent(Scripted("flat", lambda text: ["focus on adult lemon tree", "wait1"])),
    ):
        episode = Episode(
            "8-2",
            "identify-life-stages-2",
            0,
            "test",
            "Your task is to focus on the life stages of the lemon plant, starting from earliest to latest.",
            initial_look=garden,
            initial_inventory="In your inventory, you see: nothing",
        )
        agent = make()
        agent.reset(episode)
        taken = []
        for _ in range(3):
            decision = agent.act(Turn(episode, lambda: valid))
            taken.append(decision.action)
            assert decision.grounding == "pinned", decision
            episode.steps.append(Step(decision.action, "You focus.", 0, 0, garden, episode.initial_inventory))
        assert taken == wants, (agent.name, taken)
        assert agent.act(Turn(episode, lambda: valid)).action == "wait1"  # no stage left in view


def test_both_agents_focus_first_on_the_substance_the_task_names_once_it_is_in_view():
    """A planner trained mostly on water and ice does not propose tin. "First, focus on the
    substance" with the substance named is a focus the agent takes itself, once, and
    never on water, which runs from fixtures (train plans focus on the water they poured)."""
    inv = "In your inventory, you see: nothing"
    valid = ["focus on tin", "focus on substance in fountain", "focus on table", "look around"]

    def agents():  # type: ignore[no-untyped-def]
        yield HierarchicalAgent(
            Scripted("planner", lambda text: ["focus_on(table)", "navigate_to(kitchen)"]),
            Scripted("executor", lambda text: ["look around"]),
        )
        yield FlatAgent(Scripted("flat", lambda text: ["look around"]))

    for agent in agents():
        for thing, first in (("tin", "focus on tin"), ("water", None)):
            episode = Episode(
                "1-4",
                "change-the-state-of-matter-of",
                0,
                "test",
                f"Your task is to change the state of matter of {thing}. First, focus on the substance.",
                initial_look=look("workshop", "a paper cup (containing a substance called tin)"),
                initial_inventory=inv,
            )
            agent.reset(episode)
            decision = agent.act(Turn(episode, lambda: valid))
            assert (decision.action == first) == (first is not None), (agent.name, thing, decision)
            if first is not None:
                assert decision.grounding == "pinned"
                episode.steps.append(Step(first, "You focus on the tin.", 0, 0, episode.initial_look, inv))
                assert agent.act(Turn(episode, lambda: valid)).action != first  # once


def test_both_agents_deliver_what_they_hold_where_the_task_says():
    """Holding the turtle egg it focused on, in the living room beside the yellow box the task
    names, a planner can go on elsewhere. Holding the focused thing, the agent goes to the task's
    room and moves it into the task's box, as every 4-x train plan does."""
    inv = "In your inventory, you see:\n\ta turtle egg\n"
    task = (
        "Your task is to find a(n) living thing. First, focus on the thing. "
        "Then, move it to the yellow box in the living room."
    )
    rooms = {"outside": look("outside", "a fire pit"), "living room": look("living room", "a yellow box")}
    valid = {
        "outside": ["teleport to living room", "teleport to workshop", "look around"],
        "living room": ["move turtle egg in inventory to yellow box", "teleport to workshop", "look around"],
    }

    def agents():  # type: ignore[no-untyped-def]
        yield HierarchicalAgent(
            Scripted("planner", lambda text: ["navigate_to(workshop)"]),
            Scripted("executor", lambda text: ["look around"]),
        )
        yield FlatAgent(Scripted("flat", lambda text: ["teleport to workshop"]))

    for agent in agents():
        episode = Episode("4-1", "find-living-thing", 0, "test", task, rooms["outside"], inv)
        episode.steps.append(
            Step("focus on egg turtle", "You focus on the turtle egg.", 50, 50, rooms["outside"], inv)
        )
        agent.reset(episode)
        taken = []
        for _ in range(2):
            room = "living room" if taken else "outside"
            decision = agent.act(Turn(episode, lambda r=room: valid[r]))
            taken.append(decision.action)
            assert decision.grounding == "pinned", (agent.name, decision)
            after = rooms["living room"]
            episode.steps.append(Step(decision.action, "ok", 60, 10, after, inv))
        assert taken == ["teleport to living room", "move turtle egg in inventory to yellow box"], agent.name
