"""rename-beams (task): a thing the train variations of a task were about, renamed in a model's
beam to this variation's (vocabulary.renamed), and the task's box and room put in once the agent
holds what it focused on (vocabulary.delivered); duplicates after that dropped."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from subgoal.engine.episode import Episode
from subgoal.engine.rules.focus import carries_its_focus
from subgoal.engine.rules.layer import RuleSet
from subgoal.engine.rules.vocabulary import delivered, renamed


def rewrite(
    rules: RuleSet, vocabulary: Mapping[str, Any] | None, episode: Episode, beams: list[str]
) -> list[str]:
    if not rules.on("rename-beams"):
        return beams
    carrying = carries_its_focus(episode)
    task = episode.task_description
    names = [delivered(task, renamed(vocabulary, episode.task_id, task, b), carrying) for b in beams]
    if names != beams:
        rules.acted("rename-beams")
    return list(dict.fromkeys(names))
