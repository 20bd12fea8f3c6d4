"""The rules layer: each rule acts at its level and is silent below it (read off the decisions'
why notes), a `paper`-level agent consults no other rule, and the registry is whole."""

from __future__ import annotations

import re

import pytest
from test_agents import MELT, Scripted, gold_episode, hunt, look, play_still, prefix, teleport_episode

from subgoal.engine.agents import FlatAgent, HierarchicalAgent, Turn
from subgoal.engine.episode import Episode, Step
from subgoal.engine.examples import END_SUBGOAL
from subgoal.engine.rules import (
    LEVELS,
    RULES,
    LevelError,
    RuleSet,
    at_level,
    check_level,
    check_rules,
    rules_slug,
)
from subgoal.engine.rules import focus as focus_rules
from subgoal.engine.rules.neighbours import PlanNeighbours
from subgoal.engine.rules.plan_prior import PlanPrior
from subgoal.engine.rules.stand_in import StandIns


def acted(decisions) -> set[str]:  # type: ignore[no-untyped-def]
    """Every rule a decision's why notes name as having acted."""
    if not isinstance(decisions, list):
        decisions = [decisions]
    return {r for d in decisions for r in ((d.info or {}).get("why") or {}).get("rules", [])}


def below(level: str) -> str:
    return LEVELS[LEVELS.index(level) - 1]


# -- one scenario per rule: (decisions, what shows the rule acted) at a given level ----------------
def which_one(rules: RuleSet):  # type: ignore[no-untyped-def]
    gold = gold_episode()
    asked = prefix(gold, 0)
    state = gold.state_before(0)
    asked.steps = [Step("pick up thermometer", "Ambiguous request: Please enter the number", 0, 0, *state)]
    decision = FlatAgent(Scripted("flat", lambda text: ["go to kitchen"]), rules=rules).act(
        Turn(asked, lambda: ["0", "1", "go to kitchen"])
    )
    return decision, decision.action == "0"


def test_which_one_answers_a_focus_with_the_thing_the_focus_rules_pass() -> None:
    """`focus on paint in bowl` passed focus-told (no colour named); the simulator's options name the
    paints: the one the task names is answered, and with none of them the request is cancelled."""
    from test_paint import ORANGE
    from test_which import ASKED

    from subgoal.engine.rules.which import CANCEL

    def answered(options: str) -> str:
        episode = prefix(gold_episode(), 0)
        episode.task_id, episode.task_description = "6-2", ORANGE
        episode.steps = [Step("focus on paint in bowl", options, 0, 0, *gold_episode().state_before(0))]
        agent = FlatAgent(Scripted("flat", lambda text: ["look around"]), rules=RuleSet("general"))
        return agent.act(Turn(episode, lambda: ["0", "1", "look around"])).action

    assert answered(ASKED) == "1"
    assert answered(ASKED.replace("orange paint", "red paint")) == CANCEL


def loop_guard(rules: RuleSet):  # type: ignore[no-untyped-def]
    gold = gold_episode()
    episode = prefix(gold, 0)
    state = gold.state_before(0)
    episode.steps = [Step("open drawer", "Nothing happens.", 0, 0, *state)]  # changed nothing here
    flat = Scripted("flat", lambda text: ["open drawer", "go to kitchen"])
    decision = FlatAgent(flat, rules=rules).act(Turn(episode, lambda: ["open drawer", "go to kitchen"]))
    return decision, decision.action == "go to kitchen"


def score_candidates(rules: RuleSet):  # type: ignore[no-untyped-def]
    flat = Scripted("flat", lambda text: ["go to hallway", "go to attic"])
    decision = FlatAgent(flat, rules=rules).act(
        Turn(prefix(gold_episode(), 0), lambda: ["go to garden", "go to kitchen", "wait1"])
    )
    return decision, decision.grounding == "scored"


def subgoal_done(rules: RuleSet):  # type: ignore[no-untyped-def]
    gold = teleport_episode()
    names = [s.name for s in gold.subgoals]
    planner = Scripted("planner", lambda text: names)
    executor = Scripted("executor", lambda text: [*gold.actions, END_SUBGOAL])
    agent = HierarchicalAgent(planner, executor, rules=rules)
    agent.reset(prefix(gold, 0))
    agent.act(Turn(prefix(gold, 0), lambda: gold.actions))
    decision = agent.act(Turn(prefix(gold, 1), lambda: gold.actions))  # the teleport arrived
    return decision, "done" in decision.info.get("endings", [])


def subgoal_allowance(rules: RuleSet):  # type: ignore[no-untyped-def]
    gold = gold_episode()
    planner = Scripted("planner", lambda text: ["navigate_to(kitchen)", "pick_up(thermometer)"])
    executor = Scripted("executor", lambda text: ["wait1"])
    executor.manifest = {"name": "executor", "subgoal_allowance": {"navigate_to": 2}}
    agent = HierarchicalAgent(planner, executor, rules=rules)
    decisions = play_still(agent, gold, ["teleport to kitchen", "pick up thermometer", "wait1"], 4)
    return decisions, any("failed" in d.info.get("endings", []) for d in decisions)


def subgoal_candidates(rules: RuleSet):  # type: ignore[no-untyped-def]
    planner = Scripted("planner", lambda text: ["measure_temperature(water)"])
    executor = Scripted("executor", lambda text: ["examine water", "use thermometer on water"])
    agent = HierarchicalAgent(planner, executor, rules=rules)
    agent.reset(prefix(gold_episode(), 0))
    valid = ["use thermometer on water", "use thermometer on soap", "examine water", "wait1"]
    decision = agent.act(Turn(prefix(gold_episode(), 0), lambda: valid))
    return decision, decision.grounding == "scored" and "served" in decision.info["why"]


def planner_offer(rules: RuleSet):  # type: ignore[no-untyped-def]
    # The first beam names things in view (planner-grounded takes it) but no valid action does it.
    planner = Scripted("planner", lambda text: ["move(thermometer, cup)", "move(cup, orange box)"])
    agent = HierarchicalAgent(planner, Scripted("executor", lambda text: ["wait1"]), rules=rules)
    agent.reset(prefix(gold_episode(), 0))
    valid = ["move cup to orange box", "pick up thermometer", "look around"]
    decision = agent.act(Turn(prefix(gold_episode(), 0), lambda: valid))
    return decision, decision.subgoal == "move(cup, orange box)"


def planner_grounded(rules: RuleSet):  # type: ignore[no-untyped-def]
    # The planner's best beam names a substance seen nowhere; its second names the cup in view.
    planner = Scripted("planner", lambda text: ["pick_up(mercury)", "pick_up(cup)"])
    agent = HierarchicalAgent(planner, Scripted("executor", lambda text: ["wait1"]), rules=rules)
    agent.reset(prefix(gold_episode(), 0))
    valid = ["pick up cup", "look around"]
    decision = agent.act(Turn(prefix(gold_episode(), 0), lambda: valid))
    return decision, decision.subgoal == "pick_up(cup)"


def planner_constrained(rules: RuleSet):  # type: ignore[no-untyped-def]
    # Every beam names a wire seen nowhere; asked again within what the valid actions offer, the
    # planner names the red wire in view (never a focus, which ends an episode if wrong).
    invented = ["connect(green wire terminal 1, battery anode)", "focus_on(green wire)"]
    planner = Scripted("planner", lambda text: invented)
    agent = HierarchicalAgent(planner, Scripted("executor", lambda text: ["wait1"]), rules=rules)
    agent.reset(prefix(gold_episode(), 0))
    valid = ["connect red wire terminal 1 to battery anode", "focus on red wire", "look around"]
    decision = agent.act(Turn(prefix(gold_episode(), 0), lambda: valid))
    return decision, decision.subgoal == "connect(red wire terminal 1, battery anode)"


def _cup_first(rules: RuleSet, **memory):  # type: ignore[no-untyped-def]
    """The planner prefers the thermometer, both in view; what the train plans did (`memory`: a
    plan prior or the nearest plans) was the cup first."""
    planner = Scripted("planner", lambda text: ["pick_up(thermometer)", "pick_up(cup)"])
    agent = HierarchicalAgent(planner, Scripted("executor", lambda text: ["wait1"]), rules=rules, **memory)
    agent.reset(prefix(gold_episode(), 0))
    valid = ["pick up cup", "pick up thermometer", "look around"]
    decision = agent.act(Turn(prefix(gold_episode(), 0), lambda: valid))
    return decision, decision.subgoal == "pick_up(cup)"


def plan_prior(rules: RuleSet):  # type: ignore[no-untyped-def]
    return _cup_first(rules, plan_prior=PlanPrior([(["pick_up(cup)", "focus_on(cup)"], 20)]))


def plan_neighbours(rules: RuleSet):  # type: ignore[no-untyped-def]
    plan = ["pick_up(cup)", "focus_on(cup)"]  # a train task worded as this one
    return _cup_first(rules, plan_neighbours=PlanNeighbours([(gold_episode().task_description, plan)]))


def stand_ins(rules: RuleSet):  # type: ignore[no-untyped-def]
    # The flat model learned to boil chocolate; asked about ice cream it only looks around.
    table = StandIns([("your task is to boil chocolate first focus on the substance", {"chocolate": 3.0})])
    flat = Scripted("flat", lambda text: ["focus on chocolate"] if "chocolate" in text else ["look around"])
    episode = boil("ice cream", "kitchen", "a freezer (containing ice cream)")
    agent = FlatAgent(flat, rules=rules, stand_ins=table)
    agent.reset(episode)
    decision = agent.act(Turn(episode, lambda: ["focus on ice cream", "look around"]))
    return decision, decision.action == "focus on ice cream"


def focus_as_named(rules: RuleSet):  # type: ignore[no-untyped-def]
    planner = Scripted("planner", lambda text: ["focus_on(beaver)"])
    executor = Scripted("executor", lambda text: ["focus on beaver", "focus on beaver egg"])
    agent = HierarchicalAgent(planner, executor, rules=rules)
    agent.reset(prefix(gold_episode(), 0))
    valid = ["focus on beaver egg", "look around"]
    decision = agent.act(Turn(prefix(gold_episode(), 0), lambda: valid))
    return decision, not decision.action.startswith("focus")


def repeat_caps(rules: RuleSet):  # type: ignore[no-untyped-def]
    gold = gold_episode()
    waits = iter(["wait(2)", "wait(1)", "wait(5)", "wait(3)", "wait(10)"])
    planner = Scripted("planner", lambda text: [next(waits, "wait(3)"), "pick_up(cup)"])
    agent = HierarchicalAgent(planner, Scripted("executor", lambda text: ["wait1"]), rules=rules)
    episode = prefix(gold, 0)
    agent.reset(episode)
    decisions = []
    for n in range(6):
        decision = agent.act(Turn(episode, lambda: ["wait1", "pick up cup"]))
        decisions.append(decision)
        episode.steps.append(Step(decision.action, "You wait.", 0, 0, look("kitchen", f"a clock at {n}"), ""))
    return decisions, "pick_up(cup)" in [d.subgoal for d in decisions]


def search_rooms(rules: RuleSet):  # type: ignore[no-untyped-def]
    taken, _agent = hunt(rules=rules, steps=3)
    return [], any(how == "search" for _, how in taken)


def pin_focus(rules: RuleSet):  # type: ignore[no-untyped-def]
    episode = Episode(
        "1-4",
        "change-the-state-of-matter-of",
        0,
        "test",
        "Your task is to change the state of matter of tin. First, focus on the substance.",
        initial_look=look("workshop", "a paper cup (containing a substance called tin)"),
        initial_inventory="In your inventory, you see: nothing",
    )
    agent = FlatAgent(Scripted("flat", lambda text: ["look around"]), rules=rules)
    decision = agent.act(Turn(episode, lambda: ["focus on tin", "look around"]))
    return decision, decision.grounding == "pinned"


def _holding_the_egg() -> Episode:
    task = "Your task is to find a(n) living thing. First, focus on the thing. Then, move it to the red box in the kitchen."
    held = "In your inventory, you see: \n\tan egg parrot egg"
    episode = Episode(
        "4-1", "find-living-thing", 0, "test", task, initial_look=look("outside"), initial_inventory=""
    )
    episode.steps.append(Step("focus on egg parrot egg", "You focus on the egg.", 0, 0, look("outside"), ""))
    episode.steps.append(Step("pick up egg parrot egg", "You move the egg.", 0, 0, look("outside"), held))
    return episode


def pin_delivery(rules: RuleSet):  # type: ignore[no-untyped-def]
    flat = Scripted("flat", lambda text: ["teleport to workshop"])
    decision = FlatAgent(flat, rules=rules).act(
        Turn(_holding_the_egg(), lambda: ["teleport to workshop", "teleport to kitchen"])
    )
    return decision, decision.action == "teleport to kitchen"


def focus_told(rules: RuleSet):  # type: ignore[no-untyped-def]
    named = prefix(gold_episode(), 0)
    named.task_description = (
        "Your task is to turn on the blue light bulb. First, focus on the blue light bulb."
    )
    flat = Scripted("flat", lambda text: ["focus on red light bulb", "focus on blue light bulb"])
    valid = ["focus on red light bulb", "focus on blue light bulb", "look around"]
    decision = FlatAgent(flat, rules=rules).act(Turn(named, lambda: valid))
    return decision, decision.action == "focus on blue light bulb"


def focus_no_place(rules: RuleSet):  # type: ignore[no-untyped-def]
    # "Focus on the substance": a kind, which focus-told leaves open; the greenhouse is a place.
    kind = prefix(gold_episode(), 0)
    kind.task_description = "Your task is to melt ice. First, focus on the substance."
    flat = Scripted("flat", lambda text: ["focus on greenhouse", "focus on ice"])
    valid = ["focus on greenhouse", "focus on ice", "teleport to greenhouse"]
    decision = FlatAgent(flat, rules=rules).act(Turn(kind, lambda: valid))
    return decision, decision.action == "focus on ice"


def focus_whitelist(rules: RuleSet):  # type: ignore[no-untyped-def]
    # The task names its focus only by a kind; its train plans focused on thermometers.
    kind = prefix(gold_episode(), 0)
    kind.task_description = "Your task is to find a(n) non-living thing. First, focus on the thing."
    flat = Scripted("flat", lambda text: ["focus on beaver egg", "go to kitchen"])
    flat.manifest = {"name": "flat", "focus_heads": {"4-2": ["thermometer"]}}
    decision = FlatAgent(flat, rules=rules).act(Turn(kind, lambda: ["focus on beaver egg", "go to kitchen"]))
    return decision, decision.action == "go to kitchen"


def boil(thing: str, room: str, in_view: str, held: str = "nothing") -> Episode:
    """A 1-1 episode before its first step: boil THING, with IN_VIEW in ROOM and HELD in hand."""
    return Episode(
        "1-1",
        "boil",
        0,
        "test",
        f"Your task is to boil {thing}. First, focus on the substance.",
        initial_look=look(room, in_view),
        initial_inventory=f"In your inventory, you see: {held}",
    )


def focus_task_object(rules: RuleSet):  # type: ignore[no-untyped-def]
    episode = boil("tin", "outside", "a fountain (containing water)")
    flat = Scripted("flat", lambda text: ["focus on substance in fountain", "look around"])
    valid = ["focus on substance in fountain", "look around"]
    decision = FlatAgent(flat, rules=rules).act(Turn(episode, lambda: valid))
    return decision, decision.action != "focus on substance in fountain"


def answer_guard(rules: RuleSet):  # type: ignore[no-untyped-def]
    episode = prefix(gold_episode(), 0)
    episode.task_id, episode.task_description = "2-2", MELT
    flat = Scripted("flat", lambda text: ["focus on red box", "use thermometer on tin"])
    flat.manifest = {
        "name": "flat",
        "task_vocabulary": {"2-2": {"verbs": ["focus", "measure", "look"], "answer_after": ["measure"]}},
    }
    valid = ["focus on red box", "use thermometer on tin", "look around"]
    decision = FlatAgent(flat, rules=rules).act(Turn(episode, lambda: valid))
    return decision, decision.action == "use thermometer on tin"


def answer_reading(rules: RuleSet):  # type: ignore[no-untyped-def]
    """Tin read solid at 80 degrees melts above 50: the green box (below 50) is held back."""
    episode = prefix(gold_episode(), 0)
    episode.task_id, episode.task_description = "2-2", MELT
    episode.steps = [
        Step(
            "use thermometer in inventory on tin",
            "the thermometer measures a temperature of 80 degrees celsius",
            0,
            0,
            look("kitchen", "tin"),
            "",
        )
    ]
    episode.steps.append(
        Step(
            "use thermometer in inventory on liquid tin",
            "the thermometer measures a temperature of 240 degrees celsius",
            0,
            0,
            look("kitchen", "liquid tin"),
            "",
        )
    )
    flat = Scripted("flat", lambda text: ["focus on green box", "focus on red box"])
    valid = ["focus on green box", "focus on red box", "look around"]
    decision = FlatAgent(flat, rules=rules).act(Turn(episode, lambda: valid))
    return decision, decision.action == "focus on red box"


def _flat_after(rules: RuleSet, task: tuple[str, str], steps: list[Step], beam: str, valid: list[str]):  # type: ignore[no-untyped-def]
    """The flat agent's decision after `steps` of task (id, description), its model saying `beam`."""
    episode = prefix(gold_episode(), 0)
    episode.task_id, episode.task_description = task
    episode.steps = steps
    return FlatAgent(Scripted("flat", lambda text: [beam]), rules=rules).act(Turn(episode, lambda: valid))


def answer_shown(rules: RuleSet):  # type: ignore[no-untyped-def]
    """Tin focused on, then read liquid at 40 degrees: it melts below 50, the green box at once."""
    read = Step(
        "use thermometer in inventory on liquid tin",
        "the thermometer measures a temperature of 40 degrees celsius",
        0,
        0,
        look("kitchen", "liquid tin"),
        "",
    )
    steps = [Step("focus on tin", "You focus on the tin.", 0, 0, look("kitchen", "tin"), ""), read]
    valid = ["focus on green box", "focus on red box", "pick up shovel"]
    decision = _flat_after(rules, ("2-2", MELT), steps, "pick up shovel", valid)
    return decision, decision.action == "focus on green box"


def answer_timing(rules: RuleSet):  # type: ignore[no-untyped-def]
    """Both slides watched, the cloth's slower: least friction is the plastic plane, at once."""
    from test_timing import CLOTH, FRICTION, PLASTIC, slide

    steps = [*slide(CLOTH, 5, 10, 100), *slide(PLASTIC, 5, 12)]
    valid = [f"focus on {CLOTH}", f"focus on {PLASTIC}", "wait1"]
    decision = _flat_after(rules, ("9-2", FRICTION), steps, f"focus on {CLOTH}", valid)
    return decision, decision.action == f"focus on {PLASTIC}"


def answer_circuit(rules: RuleSet):  # type: ignore[no-untyped-def]
    """A bulb on with both of the thing's terminals wired: the conductive box, at once."""
    from test_circuit import CONDUCTIVE, LIT, step, wired

    steps = [wired(1), wired(2), step("wait1", look=LIT)]
    valid = ["move unknown substance to green box", "move unknown substance to red box", "wait1"]
    decision = _flat_after(rules, ("3-4", CONDUCTIVE), steps, valid[0], valid)
    return decision, decision.action == "move unknown substance to red box"


def circuit_build(rules: RuleSet):  # type: ignore[no-untyped-def]
    """The circuit wired, the bulb off two ticks: the nonconductive box, which answer-circuit never gives."""
    from test_circuit import CONDUCTIVE, built

    valid = ["move unknown substance to green box", "move unknown substance to red box", "wait1"]
    decision = _flat_after(rules, ("3-4", CONDUCTIVE), built("off", 2).steps, valid[1], valid)
    return decision, decision.action == "move unknown substance to green box"


def power_build(rules: RuleSet):  # type: ignore[no-untyped-def]
    """The bulb focused on: its circuit's first connection, not the model's walk away."""
    from test_power import FOCUSED, TASK

    valid = ["connect nuclear generator anode to black wire terminal 1", "teleport to kitchen"]
    decision = _flat_after(rules, ("3-2", TASK.format(kind="nonrenewable")), [FOCUSED], valid[1], valid)
    return decision, decision.action == valid[0]


def substance_recipe(rules: RuleSet):  # type: ignore[no-untyped-def]
    """Salt water's recipe read, the salted cup held: to the sink, not the model's stove."""
    from test_recipe import READ, SALT_WATER, held, kitchen

    episode = prefix(gold_episode(), 0)
    episode.task_id, episode.task_description = "6-1", SALT_WATER
    salted = held("a tin cup (containing sodium chloride)")
    episode.steps = [Step(*READ, 0, 0, kitchen(), salted)]
    valid = ["move tin cup in inventory to sink", "move tin cup in inventory to stove"]
    decision = FlatAgent(Scripted("flat", lambda text: [valid[1]]), rules=rules).act(
        Turn(episode, lambda: valid)
    )
    return decision, decision.action == valid[0]


def paint_recipe(rules: RuleSet):  # type: ignore[no-untyped-def]
    """Orange asked for, the bowl holding red: the yellow poured in, not the blue the model says."""
    from test_paint import ORANGE, STUDIO, pours

    episode = prefix(gold_episode(), 0)
    episode.task_id, episode.task_description = "6-2", ORANGE
    episode.steps = [
        Step("pour cup containing red paint into bowl", "You pour", 0, 0, STUDIO.format(bowl="red paint"), "")
    ]
    valid = pours()
    decision = FlatAgent(Scripted("flat", lambda text: [valid[1]]), rules=rules).act(
        Turn(episode, lambda: valid)
    )
    return decision, decision.action == "pour cup containing yellow paint into bowl"


def focus_by_kind(rules: RuleSet):  # type: ignore[no-untyped-def]
    episode = prefix(gold_episode(), 0)
    episode.task_id = "7-2"
    episode.task_description = "Your task is to find the animal with the shortest life span. Focus on the animal with the shortest life span."
    flat = Scripted("flat", lambda text: ["focus on baby elephant", "focus on juvenile wolf"])
    flat.manifest = {"name": "flat", "focus_heads": {"7-2": ["mouse", "dragonfly"]}}
    valid = ["focus on juvenile wolf", "focus on juvenile mouse", "wait1"]
    decision = FlatAgent(flat, rules=rules).act(Turn(episode, lambda: valid))
    return decision, decision.action == "focus on juvenile mouse"


def measure_guard(rules: RuleSet):  # type: ignore[no-untyped-def]
    episode = boil("tin", "kitchen", "a jug, a metal pot (containing liquid tin)", "a thermometer")
    valid = ["use thermometer in inventory on jug", "use thermometer in inventory on substance in metal pot"]
    flat = Scripted("flat", lambda text: ["use thermometer in inventory on jug"])
    decision = FlatAgent(flat, rules=rules).act(Turn(episode, lambda: valid))
    return decision, decision.action.endswith("metal pot")


def task_vocabulary(rules: RuleSet):  # type: ignore[no-untyped-def]
    flat = Scripted("flat", lambda text: ["teleport to bathroom", "teleport to kitchen"])
    flat.manifest = {
        "name": "flat",
        "task_vocabulary": {"4-2": {"verbs": ["teleport to"], "rooms": ["kitchen"]}},
    }
    valid = ["teleport to bathroom", "teleport to kitchen", "look around"]
    decision = FlatAgent(flat, rules=rules).act(Turn(prefix(gold_episode(), 0), lambda: valid))
    return decision, decision.action == "teleport to kitchen"


def rename_beams(rules: RuleSet):  # type: ignore[no-untyped-def]
    episode = boil("ice cream", "kitchen", "ice cream")
    flat = Scripted("flat", lambda text: ["pick up chocolate"])
    flat.manifest = {"name": "flat", "task_vocabulary": {"1-1": {"objects": ["chocolate", "water"]}}}
    decision = FlatAgent(flat, rules=rules).act(Turn(episode, lambda: ["pick up ice cream", "look around"]))
    return decision, decision.generated == ["pick up ice cream"]


SCENARIOS = {
    "which-one": which_one,
    "loop-guard": loop_guard,
    "score-candidates": score_candidates,
    "subgoal-done": subgoal_done,
    "subgoal-allowance": subgoal_allowance,
    "subgoal-candidates": subgoal_candidates,
    "planner-offer": planner_offer,
    "planner-grounded": planner_grounded,
    "planner-constrained": planner_constrained,
    "plan-prior": plan_prior,
    "plan-neighbours": plan_neighbours,
    "stand-ins": stand_ins,
    "focus-as-named": focus_as_named,
    "repeat-caps": repeat_caps,
    "search-rooms": search_rooms,
    "pin-focus": pin_focus,
    "pin-delivery": pin_delivery,
    "focus-told": focus_told,
    "focus-no-place": focus_no_place,
    "focus-whitelist": focus_whitelist,
    "focus-task-object": focus_task_object,
    "answer-guard": answer_guard,
    "answer-reading": answer_reading,
    "answer-shown": answer_shown,
    "answer-timing": answer_timing,
    "answer-circuit": answer_circuit,
    "circuit-build": circuit_build,
    "paint-recipe": paint_recipe,
    "power-build": power_build,
    "substance-recipe": substance_recipe,
    "focus-by-kind": focus_by_kind,
    "measure-guard": measure_guard,
    "task-vocabulary": task_vocabulary,
    "rename-beams": rename_beams,
}
SWITCHABLE = [name for name, rule in RULES.items() if rule.level != "paper"]
RETIRED = sorted(name for name, rule in RULES.items() if rule.retired)


@pytest.mark.parametrize("name", sorted(SCENARIOS))  # stage-order: on its function, below
def test_each_rule_acts_at_its_level_and_is_silent_below(name: str, unretired: None) -> None:
    level = RULES[name].level
    at = RuleSet(level)
    decisions, effect = SCENARIOS[name](at)
    assert effect, f"{name} did not act at {level}"
    assert name in at.consulted
    if name != "search-rooms":  # its scenario keeps the agent's decisions to itself
        assert name in acted(decisions), acted(decisions)
    lower = RuleSet(below(level))
    decisions, effect = SCENARIOS[name](lower)
    assert not effect, f"{name} acted at {lower.level}"
    assert name not in lower.consulted and name not in acted(decisions)


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_each_rule_switched_off_by_name_is_silent_at_its_level(name: str, unretired: None) -> None:
    off = RuleSet(f"{RULES[name].level} without {name}")
    decisions, effect = SCENARIOS[name](off)
    assert name not in off.consulted and name not in acted(decisions)
    # The same effect may still come from another rule of the level, never from none.
    assert not effect or acted(decisions), f"{name}'s effect with no rule acting"


def test_a_retired_rule_acts_at_no_level(retired: str) -> None:
    name = retired
    every = RuleSet("task")
    decisions, _ = SCENARIOS[name](every)
    assert name not in every.consulted and name not in acted(decisions)
    assert all(rule.name != name for level in LEVELS for rule in at_level(level))
    with pytest.raises(LevelError, match=f"rule {name} is retired: it acts at no level"):
        check_rules(f"task without {name}")


def test_a_retired_rule_switched_back_on_by_name_acts_again(retired: str) -> None:
    name = retired
    back = RuleSet(f"{RULES[name].level} with {name}")
    decisions, effect = SCENARIOS[name](back)
    assert effect and name in back.consulted and name in acted(decisions)
    assert name in back.active and name not in RuleSet(RULES[name].level).active


def test_a_rule_above_the_level_switched_on_by_name_acts_there_alone() -> None:
    setting = RuleSet("general with pin-focus")
    assert setting.on("pin-focus") and not setting.on("answer-guard") and setting.on("loop-guard")
    assert setting.active == sorted({*RuleSet("general").active, "pin-focus"})


def test_with_and_without_have_one_spelling_and_refuse_what_changes_nothing() -> None:
    assert (
        check_rules(" General without loop-guard with planner-offer")
        == "general with planner-offer without loop-guard"
    )
    assert check_rules("general with pin-focus+answer-guard without loop-guard") == (
        "general with answer-guard+pin-focus without loop-guard"
    )
    assert (
        rules_slug("general with pin-focus without loop-guard") == "general-with-pin-focus-without-loop-guard"
    )
    with pytest.raises(LevelError, match="rule loop-guard is on at the general level already"):
        check_rules("general with loop-guard")
    with pytest.raises(LevelError, match="unknown rule 'pin'"):
        check_rules("task with pin")


def test_a_rules_setting_has_one_spelling_and_names_only_rules_its_level_has_on() -> None:
    assert check_rules(" Task without pin-focus + answer-guard ") == "task without answer-guard+pin-focus"
    assert check_rules("general") == "general"
    others = RuleSet("task without pin-focus")
    assert others.level == "task" and others.on("answer-guard") and not others.on("pin-focus")
    with pytest.raises(LevelError, match="unknown rule 'pin'; `subgoal rules` lists them"):
        check_rules("task without pin")
    with pytest.raises(LevelError, match="pin-focus is a task rule: it is off at the general level already"):
        check_rules("general without pin-focus")
    with pytest.raises(LevelError, match="unknown rules level 'every'"):
        check_rules("every without pin-focus")


def test_stage_order_refuses_a_later_stage_first_at_the_task_level_only() -> None:
    garden = look(
        "outside",
        "a self watering flower pot 1 (containing a lemon tree in the adult stage, soil)\n"
        "\ta self watering flower pot 4 (containing a lemon seed, soil, a substance called water)",
    )
    episode = Episode(
        "8-2",
        "lifespan-plant",
        0,
        "test",
        "Your task is to focus on the life stages of the lemon plant, starting from earliest to latest.",
        initial_look=garden,
        initial_inventory="",
    )
    stats = focus_rules.TaskStats()
    adult = "lemon tree in self watering flower pot 1"
    task = RuleSet("task")
    assert focus_rules.refusal(task, stats, episode, adult, list) == "order"
    assert "stage-order" in task.take()
    assert focus_rules.refusal(task, stats, episode, "lemon seed in self watering flower pot 4", list) is None
    general = RuleSet("general")
    assert focus_rules.refusal(general, stats, episode, adult, list) is None
    assert "stage-order" not in general.consulted


def test_a_paper_level_episode_consults_no_general_or_task_rule() -> None:
    gold = teleport_episode()
    names = [s.name for s in gold.subgoals]
    paper = RuleSet("paper")
    planner = Scripted("planner", lambda text: names)
    executor = Scripted(
        "executor",
        lambda text: ["teleport to kitchen", END_SUBGOAL] if "history: none" in text else [END_SUBGOAL],
    )
    hier = HierarchicalAgent(planner, executor, rules=paper)
    flat_rules = RuleSet("paper")
    flat = FlatAgent(Scripted("flat", lambda text: ["fly away", "focus on thermometer"]), rules=flat_rules)
    valid = ["teleport to kitchen", "pick up thermometer", "focus on thermometer", "wait1"]
    for agent in (hier, flat):
        decisions = play_still(agent, gold, valid, 6)
        assert acted(decisions) <= {r.name for r in at_level("paper")}
    allowed = {r.name for r in at_level("paper")}
    assert paper.consulted <= allowed and flat_rules.consulted <= allowed
    # Without the done check, the paper's executor ends a sub-goal by saying so.
    assert hier.completed and not any("done" in (d.info.get("endings") or []) for d in decisions)


def test_the_paper_level_grounds_by_similarity_but_never_a_focus() -> None:
    flat = Scripted("flat", lambda text: ["go to hallway", "go to attic"])
    decision = FlatAgent(flat, rules=RuleSet("paper")).act(
        Turn(prefix(gold_episode(), 0), lambda: ["go to garden", "go to kitchen", "focus on attic"])
    )
    assert decision.grounding == "fuzzy" and not decision.action.startswith("focus")


def test_the_registry_is_whole_and_levels_include_those_below() -> None:
    assert set(SCENARIOS) | {"stage-order"} == set(SWITCHABLE)
    sizes = [len(at_level(level)) for level in LEVELS]
    assert sizes == sorted(sizes) and sizes[0] >= 2 and sizes[-1] == len(RULES) - len(RETIRED)
    for rule in RULES.values():
        assert rule.summary and rule.agents and set(rule.agents) <= {"hierarchical", "flat"}
    with pytest.raises(LevelError, match="choose one of paper, general, task"):
        check_level("gneral")
    assert check_level(" Task ") == "task"
    with pytest.raises(AssertionError):
        RuleSet("paper").acted("loop-guard")


def test_agents_hold_no_rule_code() -> None:
    """The rules package is the only place that reads task phrasings: agents import none of the
    task-reading functions, and compile no pattern of their own."""
    from pathlib import Path

    source = (Path(__file__).resolve().parents[1] / "subgoal" / "engine" / "agents.py").read_text()
    task_readers = (
        "stages",
        "focus_allowed",
        "is_answer",
        "search_target",
        "task_object",
        "delivery",
        "answer_ready",
        "reads_the_task_object",
        "focus_head",
    )
    for name in task_readers:
        assert not re.search(rf"\b{name}\b", source), name
    assert "re.compile" not in source and "import re\n" not in source


def test_an_unchecked_subgoal_with_nothing_left_to_serve_it_may_end(unretired: None) -> None:
    """With subgoal-candidates, `end subgoal` is offered once the sub-goal has acted, even where no
    valid action serves it any more: the executor ends it instead of generating on."""
    gold = gold_episode()
    planner = Scripted("planner", lambda text: ["measure_temperature(water)", "pick_up(thermometer)"])
    executor = Scripted("executor", lambda text: [END_SUBGOAL, "examine water"])
    # Written when planner-offer was a general rule: its scoring of the executor's candidates too.
    agent = HierarchicalAgent(planner, executor, rules=RuleSet("general with planner-offer"))
    episode = prefix(gold, 0)
    agent.reset(episode)
    first = agent.act(Turn(episode, lambda: ["use thermometer on water", "wait1"]))
    assert first.action == "use thermometer on water"
    episode.steps.append(Step(first.action, "the water measures 20 degrees", 0, 0, *gold.state_before(0)))
    second = agent.act(Turn(episode, lambda: ["pick up thermometer", "wait1"]))
    assert second.info["endings"][0] == "ended" and executor.scored == [END_SUBGOAL]
    assert second.action == "pick up thermometer"
