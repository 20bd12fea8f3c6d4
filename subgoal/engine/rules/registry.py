"""Every hand-written decision rule, one line each: name, level, decision point, agents, what it does.

Adding a rule: its code in a module of this package, a line here, and `rules.on(NAME)` at the point
where an agent consults it (docs/ARCHITECTURE.md).
"""

from __future__ import annotations

from subgoal.engine.rules.layer import Rule

BOTH = ("hierarchical", "flat")
HIER = ("hierarchical",)
FLAT = ("flat",)

_RULES = (
    # -- paper: the paper's own agent ---------------------------------------------------------------
    Rule(
        "ground-beams",
        "paper",
        "grounding",
        BOTH,
        "the first beam that is a valid action, else the valid action most similar to beam 1",
    ),
    Rule(
        "focus-exact",
        "paper",
        "filter",
        BOTH,
        "a `focus on` only as a beam spells a valid one, never reached by similarity or scoring",
    ),
    # -- general: true of any task, reading nothing task-specific -----------------------------------
    Rule(
        "which-one",
        "general",
        "fallback",
        BOTH,
        "the simulator asks which of several things was meant: the first, but for a focus the first "
        "the focus rules pass (none: cancel)",
    ),
    Rule(
        "loop-guard",
        "general",
        "filter",
        BOTH,
        "skip actions that changed nothing in this state, or were taken 3 times in it",
    ),
    Rule(
        "score-candidates",
        "general",
        "grounding",
        BOTH,
        "no exact beam: the model scores the valid actions of its beams' verbs (or those nearest "
        "beam 1) instead of taking the most similar one",
    ),
    Rule(
        "subgoal-done",
        "general",
        "subgoal",
        HIER,
        "a sub-goal is done when the observations show it (held, in the room, heated ...)",
    ),
    Rule(
        "subgoal-allowance",
        "general",
        "subgoal",
        HIER,
        "a sub-goal fails after its verb's usual span length in the train plans",
    ),
    Rule(
        "subgoal-candidates",
        "general",
        "filter",
        HIER,
        "the executor chooses among the valid actions that serve its sub-goal (and `end subgoal`)",
    ),
    Rule(
        "focus-told",
        "general",
        "filter",
        BOTH,
        "where the task says to focus on a thing by its name (not a kind: thing, animal, plant, "
        "organism, substance), a focus shares a word with that name and names no other colour",
    ),
    Rule(
        "focus-no-place",
        "general",
        "filter",
        BOTH,
        "no focus on a location of the house or the outside (`focus on greenhouse`): places are "
        "gone to, never focused on",
    ),
    Rule(
        "stand-ins",
        "general",
        "input",
        BOTH,
        "a name of the task that no train task worded the same way gave in its place is read as a "
        "name such a task gave there, and written back in the model's beams",
    ),
    Rule(
        "plan-prior",
        "general",
        "rerank",
        HIER,
        "the planner's beams reordered by its score plus how often the train plans (of every task) "
        "follow the last sub-goals done with the beam's verb and with the beam itself",
    ),
    Rule(
        "plan-neighbours",
        "general",
        "rerank",
        BOTH,
        "the next steps (sub-goals; the flat model's actions) of the train episodes whose "
        "descriptions read most like the task's, in its names, join the model's beams and vote in their order",
    ),
    # Reads only the valid actions, yet a `task` rule: on dev it pays only beside the task rules
    # (general: -10.07 on §14's checkpoints, -0.10 on cpu3's; task: +10.73, +12.36 on held-out
    # variations; docs/RESULTS.md §16, §18), so the `general` headline goes without it.
    Rule(
        "planner-offer",
        "task",
        "filter",
        HIER,
        "prefer a planner beam the valid actions make possible now; else constrain its beams to those",
    ),
    Rule(
        "planner-grounded",
        "general",
        "filter",
        HIER,
        "prefer a planner beam whose names appear in a valid action, the task or the inventory",
    ),
    Rule(
        "planner-constrained",
        "general",
        "fallback",
        HIER,
        "no planner beam names only things in view, the task or the inventory: the planner's choice, "
        "by its score, among the sub-goals the valid actions offer with its beam's verb (no focus)",
        retired="dev, s35 checkpoints: 43.09 -> 42.26 (145 episodes); held-out, with focus-no-place: 54.61 -> 53.43 (114); "
        "more episodes completed, but answers given as guesses once an experiment was set up (RESULTS §26)",
    ),
    Rule(
        "focus-as-named",
        "general",
        "filter",
        HIER,
        "the executor focuses only on what the current `focus_on(X)` names",
    ),
    Rule(
        "repeat-caps",
        "general",
        "cap",
        HIER,
        "no sub-goal repeated, waited or failed past a cap while the score stands still; focus once",
    ),
    Rule(
        "search-rooms",
        "general",
        "fallback",
        HIER,
        "what the sub-goal acts on is not in view: open what is here, then teleport to a room not seen",
    ),
    # -- task: keyed to task families, phrasings or per-task train statistics ----------------------
    Rule(
        "pin-focus",
        "task",
        "pin",
        BOTH,
        "the next life stage in order (8-x) or the substance the task names first (1-x), at once",
    ),
    Rule(
        "pin-delivery",
        "task",
        "pin",
        BOTH,
        "holding what it focused on: move it to the box the task names, or teleport to its room",
    ),
    Rule(
        "focus-whitelist",
        "task",
        "filter",
        BOTH,
        "a focus names what the task says to focus on, or a kind its train plans focus on",
    ),
    Rule(
        "focus-task-object",
        "task",
        "filter",
        BOTH,
        "`focus on substance in X` only where X holds the thing the task is about",
    ),
    Rule(
        "stage-order", "task", "filter", BOTH, "a focus on a life stage only in the order the task asks for"
    ),
    Rule(
        "answer-guard",
        "task",
        "filter",
        BOTH,
        "the answer focus waits for what the task's train plans do before it",
    ),
    Rule(
        "focus-by-kind",
        "task",
        "filter",
        BOTH,
        "where the task names its focus by a kind, a focus may be chosen by the model's score",
    ),
    Rule(
        "answer-reading",
        "task",
        "filter",
        BOTH,
        "an answer set by a temperature or a melting point (focus on / place it in the box) only "
        "once the thermometer's readings show its condition holds",
    ),
    Rule(
        "answer-shown",
        "task",
        "pin",
        BOTH,
        "the thermometer's readings show an answer's condition holds (answer-reading's sentences), "
        "the thing focused on: that answer at once (focus on its box, or move the thing into it)",
    ),
    Rule(
        "answer-timing",
        "task",
        "pin",
        BOTH,
        "which of two inclined planes (angle, friction): the block's slide down each plane looked at "
        "tick by tick, no focus on a plane before the slides differ, then the plane they show",
    ),
    Rule(
        "answer-circuit",
        "task",
        "pin",
        BOTH,
        "whether a thing conducts: into an answer box only once a circuit through it turned something "
        "on, then at once into the conductive answer's box (a nonconductive answer is never given)",
    ),
    Rule(
        "circuit-build",
        "task",
        "pin",
        BOTH,
        "whether a thing conducts, once it was focused on: the gold paths' circuit (battery, three "
        "wires, a light bulb, the thing) wired, two ticks waited, then the box of the answer the bulb shows",
    ),
    Rule(
        "power-build",
        "task",
        "pin",
        BOTH,
        "a thing to turn on with a circuit, once focused on: the gold paths' circuit from a source of "
        "the kind the task asks for (renewable ones outside), a generator activated, a tick waited",
    ),
    Rule(
        "substance-recipe",
        "task",
        "pin",
        BOTH,
        "a substance a recipe makes: the recipe read, its ingredients put into one container (water "
        "from the sink), mixed, then a focus on the substance made",
    ),
    Rule(
        "paint-recipe",
        "task",
        "pin",
        BOTH,
        "a paint colour to make: the paints the colour wheel mixes it from poured into one container "
        "and mixed, then a focus on the paint made (a tertiary's secondary first), and no other focus",
    ),
    Rule("measure-guard", "task", "filter", BOTH, "a temperature reading only of the task's thing"),
    Rule(
        "task-vocabulary",
        "task",
        "filter",
        BOTH,
        "only the verbs, rooms, navigation runs and order of verbs the task's train plans use",
    ),
    Rule(
        "rename-beams",
        "task",
        "rewrite",
        BOTH,
        "a thing its train variations were about renamed to this variation's; the task's box put in",
    ),
)

RULES: dict[str, Rule] = {rule.name: rule for rule in _RULES}


def at_level(level: str) -> list[Rule]:
    """The rules that act at `level` (those of its level and below, not retired), in order."""
    from subgoal.engine.rules.layer import includes

    return [rule for rule in RULES.values() if includes(level, rule.level) and not rule.retired]
