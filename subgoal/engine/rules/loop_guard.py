"""loop-guard (general): remember which actions changed nothing in which state, and how often each
action was taken in each state, so grounding can skip them. A from-scratch CPU model was seen
looping on doors until the step limit (DESIGN.md); waiting is exempt, since time passing is how
some tasks progress without the room's description changing."""

from __future__ import annotations

import re

from subgoal.engine.episode import Episode
from subgoal.engine.grounding import normalize

WAIT_ACTIONS = re.compile(r"^wait\d*$")


class LoopGuard:
    def __init__(self, max_repeats: int = 3):
        self.max_repeats = max_repeats
        self._noop: dict[tuple[str, str], set[str]] = {}
        self._count: dict[tuple[tuple[str, str], str], int] = {}
        self._seen = 0

    def observe(self, episode: Episode) -> None:
        for index in range(self._seen, len(episode.steps)):
            step = episode.steps[index]
            state = episode.state_before(index)
            action = normalize(step.action)
            if WAIT_ACTIONS.match(action.replace(" ", "")):
                continue
            self._count[(state, action)] = self._count.get((state, action), 0) + 1
            if step.reward == 0 and (step.look, step.inventory) == state:
                self._noop.setdefault(state, set()).add(action)
        self._seen = len(episode.steps)

    def avoid(self, state: tuple[str, str]) -> set[str]:
        repeated = {a for (s, a), n in self._count.items() if s == state and n >= self.max_repeats}
        return self._noop.get(state, set()) | repeated

    def reset(self) -> None:
        self._noop.clear()
        self._count.clear()
        self._seen = 0
