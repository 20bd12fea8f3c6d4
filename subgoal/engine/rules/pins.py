"""Task-level pins: actions the task's own words pin down, taken at once before any model call
(pin-focus, pin-delivery, answer-shown, answer-timing, answer-circuit, circuit-build, power-build,
paint-recipe, substance-recipe). The same action just taken is not pinned again: it did not do what
it should (but for answer-timing's looks at a sliding block and a wait on a bulb, one per tick)."""

from __future__ import annotations

import re
from collections.abc import Callable

from subgoal.engine.episode import Episode
from subgoal.engine.examples import room_of
from subgoal.engine.grounding import normalize
from subgoal.engine.rules import answer, circuit, focus, paint, power, recipe, stages, timing
from subgoal.engine.rules.focus import FOCUS, TaskStats
from subgoal.engine.rules.layer import RuleSet
from subgoal.engine.rules.vocabulary import delivery, task_object

# "First, focus on the substance.": the 1-x tasks' first instruction.
_FIRST_FOCUS = re.compile(r"\bfirst, focus on the substance\b", re.I)
_WATER = frozenset({"water", "ice", "steam"})


def pinned(
    rules: RuleSet,
    stats: TaskStats,
    episode: Episode,
    look: str,
    valid: Callable[[], list[str]],
    done: focus.Done,
) -> tuple[str, str] | None:
    """The pinned action and the sub-goal it serves, or None."""
    action = _pinned_focus(rules, stats, episode, valid, done) if rules.on("pin-focus") else None
    found = (action, f"focus_on({focus.focus_of(action)})") if action else None
    rule = "pin-focus"
    if found is None and rules.on("pin-delivery"):
        found, rule = _pinned_delivery(episode, look, valid), "pin-delivery"
    if found is None and rules.on("answer-shown"):
        found, rule = answer.shown(episode, valid()), "answer-shown"
    if found is None and rules.on("answer-timing"):
        found, rule = timing.pinned(episode, valid()), "answer-timing"
    if found is None and rules.on("answer-circuit"):
        found, rule = circuit.pinned(episode, valid()), "answer-circuit"
    if found is None and rules.on("circuit-build"):
        found, rule = circuit.build(episode, valid()), "circuit-build"
    inventory = episode.state_before(len(episode.steps))[1]
    if found is None and rules.on("power-build"):
        found, rule = power.pinned(episode, look, inventory), "power-build"
    if found is None and rules.on("paint-recipe"):
        found, rule = paint.pinned(episode, look, valid()), "paint-recipe"
    if found is None and rules.on("substance-recipe"):
        found, rule = recipe.pinned(episode, look, inventory), "substance-recipe"
    if found is None:
        return None
    steps = episode.steps
    # The same action again did not do what it should; but a slide is looked at, a bulb waited on.
    again = rule == "answer-timing" or found[0] == "wait1"
    if not again and steps and normalize(steps[-1].action) == normalize(found[0]):
        return None
    rules.acted(rule)
    return found


def _pinned_focus(
    rules: RuleSet, stats: TaskStats, episode: Episode, valid: Callable[[], list[str]], done: focus.Done
) -> str | None:
    """A valid focus the task pins down and the look shows, which the focus rules pass, or None:
    - where the task asks for life stages in order (stages.py), the next one: stages pass with
      time, and a plant reaches its reproducing stage within a few waits (train plans of 8-x focus
      on each stage as soon as it is in view);
    - where it says "First, focus on the substance" and names it ("change the state of matter of
      tin"), the thing by that name, before any other focus: a planner trained mostly on water
      and ice does not propose tin. Not water: water runs from fixtures, and every water train
      plan focuses on the water it poured into its pot."""
    task = episode.task_description
    thing: str | None = None  # the one name a first focus may take; None: the stage order decides
    if stages.organism(task) is None:
        focused = any(FOCUS.match(normalize(s.action)) for s in episode.steps)
        thing = task_object(task) if _FIRST_FOCUS.search(task) and not focused else None
        if thing is None or thing in _WATER:
            return None
    for action in valid():
        target = focus.focus_of(action)
        if (
            target is not None
            and thing in (None, target)
            and focus.refusal(rules, stats, episode, target, done) is None
        ):
            return action
    return None


def _pinned_delivery(episode: Episode, look: str, valid: Callable[[], list[str]]) -> tuple[str, str] | None:
    """Where the task says where its thing goes ("move it to the yellow box in the living room")
    and the agent holds what it focused on: the move into that box where the box is in view, else
    the teleport to that room (train plans of 4-x do exactly this after their focus)."""
    found = delivery(episode.task_description)
    if found is None or not focus.carries_its_focus(episode):
        return None
    box, room = found
    focused = [m.group(1) for s in episode.steps if (m := FOCUS.match(normalize(s.action)))]
    # Its name, stage words aside (`adult apple tree` is `apple tree in flower pot 1`), not only
    # its head: holding a banana tree, the agent had focused on an apple tree.
    name = set(re.findall(r"[a-z0-9]+", focused[-1].lower())) - stages.STAGE_WORDS
    actions = valid()
    for action in actions:
        move = re.fullmatch(rf"move (.+?)(?: in inventory)? to {re.escape(box)}", normalize(action))
        if move and name <= set(re.findall(r"[a-z0-9]+", move.group(1))):
            return action, f"move({move.group(1)}, {box})"
    if (room_of(look) or "").lower() != room and f"teleport to {room}" in actions:
        return f"teleport to {room}", f"navigate_to({room})"
    return None
