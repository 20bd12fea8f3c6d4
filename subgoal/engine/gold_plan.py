"""The hierarchical agent with a perfect planner: the sub-goals of the variation's annotated gold
path, in order, in place of the planner's beams; everything else (executor, rules, sub-goal checks)
as the hierarchical agent has it.

It answers how much of the hierarchical agent's gap is its planner's: the score it reaches is what
the executor and the rules make of the teacher's own plan (`subgoal eval --agent gold-plan`). The
planner checkpoint is still loaded for what its manifest carries (the per-task statistics of the
train plans that task-level rules read) and for the plan's end: past the last gold sub-goal, the
planner's beams are asked for as usual.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from subgoal.engine.agents import HierarchicalAgent
from subgoal.engine.episode import Episode
from subgoal.errors import AgentError


def gold_plans(episodes: Sequence[Episode]) -> dict[tuple[str, int], list[str]]:
    """(task id, variation) -> the planner's targets of that annotated episode, in order: the
    sub-goals as the planner learns them (examples.examples_from_episode)."""
    from subgoal.engine.examples import examples_from_episode

    return {
        ep.key: [ex.target for ex in examples_from_episode("planner", ep)] for ep in episodes if ep.subgoals
    }


def next_in_plan(plan: Sequence[str], completed: Sequence[str]) -> int:
    """Where the plan stands: the index of its first sub-goal not yet completed in order (a
    sub-goal completed out of order does not move it)."""
    at = 0
    for name in completed:
        if at < len(plan) and name == plan[at]:
            at += 1
    return at


class GoldPlanAgent(HierarchicalAgent):
    name = "gold-plan"

    def __init__(self, *args: Any, plans: dict[tuple[str, int], list[str]], **kwargs: Any):
        self.plans = plans
        self.plan: list[str] = []
        super().__init__(*args, **kwargs)

    def reset(self, episode: Episode, gold: list[str] | None = None) -> None:
        super().reset(episode, gold)
        if not episode.task_id:  # the blank episode the constructor resets to
            return
        if episode.key not in self.plans:
            raise AgentError(
                f"no annotated gold plan for {episode.task_id} v{episode.variation}: give the gold-plan "
                "agent the annotated episodes of the split played (--oracle-file)"
            )
        self.plan = self.plans[episode.key]

    def _generate(
        self, policy: Any, text: str, beams: int | None = None, episode: Episode | None = None
    ) -> list[str]:
        if policy is not self.planner:
            return super()._generate(policy, text, beams, episode)
        at = next_in_plan(self.plan, self.completed)
        if at >= len(self.plan):
            return super()._generate(policy, text, beams, episode)
        return self.plan[at : at + (beams or self.settings.num_beams)]
