"""repeat-caps (general): how often a sub-goal may be pursued while the score stands still. Every
number here is read off the train plans of all tasks together, none off a task of its own."""

from __future__ import annotations

from collections import Counter

# Sub-goals never worth pursuing twice in one episode (a second focus ends it at -100). Not
# pick_up: train plans pick a pot up again after it stood on a stove, and a pick-up of a thing
# already held is found done instead (subgoals.is_done).
ONCE = frozenset({"focus_on"})
# How often a sub-goal may be completed while the score stands still: train plans complete a fill
# three times without a score change between, a heat or a measurement once, so the default is one
# more than that. A navigation twice: a from-scratch planner sends the agent between two rooms.
REPEATS_WITHOUT_PROGRESS = {"navigate_to": 2}
REPEATS_DEFAULT = 4
# Waits of any length while the score stands still: no train plan waits twice without a score
# change between.
IDLE_WAITS = 2
# Failed attempts at one sub-goal before the planner's next-best beam gets its turn.
MAX_FAILURES = 2


def refusal(
    name: str, verb: str, completed: list[str], idle: Counter[str], failures: int, max_failures: int
) -> str | None:
    """Why a sub-goal is over its cap, as a refusal key, or None. `idle`: sub-goals completed since
    the score last changed."""
    if failures >= max_failures:
        return "failed"
    if verb in ONCE and name in completed:
        return "once"
    if verb == "wait" and sum(n for s, n in idle.items() if s.startswith("wait(")) >= IDLE_WAITS:
        return "idle"
    if idle[name] >= REPEATS_WITHOUT_PROGRESS.get(verb, REPEATS_DEFAULT):
        return "repeated"
    return None
