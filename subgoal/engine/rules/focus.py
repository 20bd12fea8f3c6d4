"""Focus rules: a `focus on` ends the episode at -100 when wrong, so where the task names its focus,
a focus must fit that name (focus-told, general: every task of the simulator says "focus on the
X"); and, task-level, where the task's words or its train plans say what to focus on, a focus
must fit them (focus-whitelist, focus-task-object, stage-order, answer-guard, focus-by-kind), and a
temperature reading must read the task's thing (measure-guard)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from subgoal.engine.episode import Episode
from subgoal.engine.grounding import normalize
from subgoal.engine.rules import answer, circuit, paint, recipe, stages, timing
from subgoal.engine.rules.layer import RuleSet
from subgoal.engine.rules.vocabulary import action_verb, answer_ready, reads_the_task_object, task_object
from subgoal.engine.subgoals import focus_allowed, focus_head, focus_told, is_answer, is_place

FOCUS = re.compile(r"^focus on (.+)$")
FOCUS_VERBS = frozenset({"focus_on", "focus"})  # a sub-goal's verb, an action's

Done = Callable[[], list[tuple[str, str]]]  # (verb, what it was done to) of the plan so far


@dataclass
class TaskStats:
    """What the train plans of each task say, from the manifest of the model that chooses focuses:
    the kinds of focus (and, for tasks focusing twice, by place), and the vocabulary (vocabulary.py)."""

    focus_heads: dict[str, list[str]] = field(default_factory=dict)
    focus_order: dict[str, list[list[str]]] = field(default_factory=dict)
    vocabulary: Mapping[str, Any] | None = None

    @classmethod
    def from_manifest(cls, manifest: Mapping[str, Any] | None) -> TaskStats:
        manifest = manifest or {}
        return cls(
            dict(manifest.get("focus_heads") or {}),
            dict(manifest.get("focus_heads_in_order") or {}),
            manifest.get("task_vocabulary"),
        )


def focus_of(action: str) -> str | None:
    match = FOCUS.match(normalize(action))
    return match.group(1) if match else None


def acted_on(episode: Episode) -> list[tuple[str, str]]:
    """Each action's verb and what it was done to (`use thermometer on tin` -> measure, tin)."""
    return [(action_verb(s.action), s.action.rsplit(" on ", 1)[-1]) for s in episode.steps]


def holds_the_task_object(episode: Episode, target: str) -> bool:
    """For `substance in X`, the simulator's name for what X holds, whether X holds the thing the
    task is about ("a metal pot (containing water)" for "boil water"). Train plans focus so only
    on water they poured into the pot; a "boil tin" plan has no focus on `substance in fountain`.
    True for every other target, and where the task names no thing (vocabulary.task_object)."""
    match = re.fullmatch(r"substance in (.+)", normalize(target))
    thing = task_object(episode.task_description)
    if match is None or thing is None:
        return True
    look, inventory = episode.state_before(len(episode.steps))
    where = re.escape(match.group(1))
    return bool(
        re.search(rf"\b{where} \(containing [^)]*\b{re.escape(thing)}\b", f"{look}\n{inventory}".lower())
    )


def in_stage_order(episode: Episode, target: str) -> bool:
    """Whether `focus on TARGET` keeps the order of life stages the task asks for (stages.py),
    each earlier focus judged by the look before it."""
    focused = [
        (m.group(1), episode.state_before(i)[0])
        for i, s in enumerate(episode.steps)
        if (m := FOCUS.match(normalize(s.action)))
    ]
    look = episode.state_before(len(episode.steps))[0]
    return stages.in_order(episode.task_description, target, look, focused)


def carries_its_focus(episode: Episode) -> bool:
    """Whether the inventory holds the kind of thing the agent last focused on."""
    focused = [m.group(1) for s in episode.steps if (m := FOCUS.match(normalize(s.action)))]
    if not focused:
        return False
    inventory = episode.state_before(len(episode.steps))[1].lower()
    return focus_head(focused[-1]) in re.findall(r"[a-z0-9-]+", inventory)


def reads_the_task_thing(episode: Episode, target: str) -> bool:
    """Whether a temperature reading of `target` reads the task's thing (vocabulary), the look and
    inventory saying what a container holds."""
    return reads_the_task_object(
        episode.task_description,
        target,
        lambda where: holds_the_task_object(episode, f"substance in {where}"),
    )


def measure_refused(rules: RuleSet, episode: Episode, target: str) -> bool:
    """measure-guard: a reading of something other than the task's thing."""
    if rules.on("measure-guard") and not reads_the_task_thing(episode, target):
        rules.acted("measure-guard")
        return True
    return False


def by_kind(rules: RuleSet, stats: TaskStats, episode: Episode) -> bool:
    """focus-by-kind: whether the task names its focus only by a kind training pinned down ("the
    animal with the shortest life span", "a living thing", "the substance"), or by an order of life
    stages the look resolves (stages.py): there the focus guard is tight enough to choose a focus
    among the valid ones by the model's score. Elsewhere a focus is only ever spelled out."""
    if not rules.on("focus-by-kind"):
        return False
    return (
        bool(stats.focus_heads.get(episode.task_id)) or stages.organism(episode.task_description) is not None
    )


def refusal(rules: RuleSet, stats: TaskStats, episode: Episode, target: str, done: Done) -> str | None:
    """Why `focus on TARGET` may not be taken now, or None: "focus" where it is not what the task
    asks for (focus-no-place, focus-told, focus-whitelist, focus-task-object); "order" out of the life stages' order
    (stage-order); "answer" where it is the task's answer and what its train plans do before the
    answer is not `done()` yet (answer-guard); "unread" where it is an answer the thermometer's
    readings do not show yet (answer-reading), or a plane the block's slides do not show yet
    (answer-timing); "focus" on anything but the paint or substance a recipe task makes (paint-recipe,
    substance-recipe)."""
    if rules.on("focus-no-place") and is_place(target):
        rules.acted("focus-no-place")
        return "focus"
    if rules.on("focus-told") and not focus_told(episode.task_description, target):
        rules.acted("focus-told")
        return "focus"
    if rules.on("focus-whitelist"):
        heads: Sequence[str] | None = stats.focus_heads.get(episode.task_id)
        order = stats.focus_order.get(episode.task_id) or []
        if order:  # the kinds training focused on at this place (7-3: the longest-lived first)
            place = sum(verb in FOCUS_VERBS for verb, _ in done())
            heads = order[place] if place < len(order) else heads
        # Where the task asks for life stages in order, the look says what a name is (stage-order):
        # `living thing in self watering flower pot 9` shares no word with "the orange plant".
        ordered = stages.organism(episode.task_description) is not None
        if not ordered and not focus_allowed(episode.task_description, target, heads):
            rules.acted("focus-whitelist")
            return "focus"
    refused = _object_or_order(rules, episode, target)
    if refused:
        return refused
    if (
        rules.on("answer-guard")
        and is_answer(episode.task_description, target)
        and not answer_ready(stats.vocabulary, episode.task_id, episode.task_description, done())
    ):
        rules.acted("answer-guard")
        return "answer"
    if answer_held(rules, episode, target, "focus"):
        return "unread"
    if rules.on("answer-timing") and timing.held_back(episode, target):
        rules.acted("answer-timing")
        return "unread"
    if rules.on("paint-recipe") and paint.held_back(episode, target):
        rules.acted("paint-recipe")
        return "focus"
    if rules.on("substance-recipe") and recipe.held_back(episode, target):
        rules.acted("substance-recipe")
        return "focus"
    return None


def answer_held(rules: RuleSet, episode: Episode, target: str, verb: str) -> bool:
    """answer-reading: `target` is the box of an answer that depends on a reading (rules/answer.py),
    focused on or placed in by `verb`, and the readings so far do not show its condition holds;
    answer-circuit: a box to place the thing in whose answer no circuit has shown (rules/circuit.py)."""
    if rules.on("answer-reading") and answer.held_back(episode, target, verb):
        rules.acted("answer-reading")
        return True
    if (
        verb == "place"
        and rules.on("answer-circuit")
        and circuit.held_back(episode, target, rules.on("circuit-build"))
    ):
        rules.acted("answer-circuit")
        return True
    return False


def fits(rules: RuleSet, episode: Episode, target: str) -> bool:
    """The executor's own filter of focus candidates spelled from a sub-goal: the substance the
    task is about (focus-task-object) and the order of stages (stage-order)."""
    return _object_or_order(rules, episode, target) is None


def _object_or_order(rules: RuleSet, episode: Episode, target: str) -> str | None:
    """ "focus" where `substance in X` is not the task's thing (focus-task-object), "order" where
    the life stage is out of order (stage-order), or None."""
    if rules.on("focus-task-object") and not holds_the_task_object(episode, target):
        rules.acted("focus-task-object")
        return "focus"
    if rules.on("stage-order") and not in_stage_order(episode, target):
        rules.acted("stage-order")
        return "order"
    return None
