"""plan-neighbours: a model's beams joined, and reordered, by the next steps of the train episodes
whose task descriptions read most like this one: the next sub-goals of their plans for the planner,
their next actions for the flat model.

A planner of 3.4 M parameters trained from scratch recalls its train plans rather than reading a new
variation (RESULTS §21–§24): its first beam is the gold next sub-goal on 32 % of the dev examples,
and the gold is among its 8 beams on only 66 %. Yet variations of one task share their plan's shape;
what differs is the names the description gives. So, as a second memory beside the model's: the
NEAREST train descriptions to this one (tf-idf cosine over their words), each train plan written in
this variation's names (a stretch of words where the two descriptions differ is swapped,
`chocolate` → `ice cream`, in every argument that spells it), and the step of each plan after the
steps done (the longest run of them it ends the same way, the nearest step on a tie). Each plan
votes for its next step. No task id is read and no task is written by hand: the table is every train
description with its plan, kept beside the checkpoint in `neighbours.json`. The flat model gets
the same memory of its own steps, so that the two agents differ by their sub-goals, not by it.
"""

from __future__ import annotations

import difflib
import functools
import json
import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from subgoal.engine.episode import Episode
from subgoal.engine.files import write_atomic
from subgoal.engine.grounding import normalize
from subgoal.engine.rules.plan_prior import indexed, read_indexed
from subgoal.engine.subgoals import format_name, parse_subgoal

# Beside a planner or a flat model: its train descriptions, each with its steps.
NEIGHBOURS = "neighbours.json"
NEAREST = 5  # train plans asked (dev planner examples: 3 -> 56.9 %, 5 -> 59.3 %, 10 -> 59.8 %; §28)
ORDER = 4  # the longest run of steps done a plan is matched on (as plan_prior.ORDER)
_WORD = re.compile(r"[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*")


def _tokens(text: str) -> list[str]:
    return _WORD.findall(text)


def steps_of(episode: Episode, role: str) -> list[str]:
    """What `role` learns to write in `episode`, in order: the planner's sub-goals, or the flat
    model's actions (normalized, as the agent's own actions are matched)."""
    from subgoal.engine.examples import is_training_target, trainable_spans

    if role == "planner":
        return [span.name for span in trainable_spans(episode)]
    return [normalize(step.action) for step in episode.steps if is_training_target(step)]


def neighbours_of(episodes: Iterable[Episode], role: str = "planner") -> dict[str, Any]:
    """{"names": [...], "plans": [[description, name index, ...], ...]}: each train episode's
    description with its plan (`steps_of` for `role`), each distinct pair once."""
    seen: dict[tuple[str, ...], None] = {}
    for episode in episodes:
        if episode.subgoals or role == "flat":
            seen[(episode.task_description.strip(), *steps_of(episode, role))] = None
    return indexed((row[0], row[1:]) for row in sorted(seen))


def write_neighbours(folder: Path, episodes: Iterable[Episode], role: str = "planner") -> None:
    data = neighbours_of(episodes, role)
    write_atomic(folder / NEIGHBOURS, json.dumps(data, separators=(",", ":")) + "\n")


def renamer(train: str, new: str) -> dict[str, str]:
    """The stretches where train description `train` and description `new` differ, word for word
    elsewhere: {train words (lower case): new words as `new` spells them}."""
    a, b = _tokens(train), _tokens(new)
    matcher = difflib.SequenceMatcher(None, [w.lower() for w in a], [w.lower() for w in b], autojunk=False)
    swaps = {}
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "replace":
            swaps[" ".join(a[i1:i2]).lower()] = " ".join(b[j1:j2])
    return swaps


def renamed(name: str, swaps: dict[str, str]) -> str:
    """Sub-goal `name` with each argument that spells a swapped stretch (whole words) rewritten; an
    action (no sub-goal) rewritten as one text."""
    if not swaps:
        return name
    parsed = parse_subgoal(name)
    if parsed is None:
        return _swapped(name, swaps)
    return format_name(parsed.verb, *(_swapped(arg, swaps) for arg in parsed.args))


def _swapped(text: str, swaps: dict[str, str]) -> str:
    words = " ".join(_tokens(text))
    hit_any = False
    for old in sorted(swaps, key=len, reverse=True):
        hit = re.search(rf"(?<![\w-]){re.escape(old)}(?![\w-])", words, re.I)
        if hit:
            words, hit_any = words[: hit.start()] + swaps[old] + words[hit.end() :], True
    return words if hit_any else text


def _next_in(plan: Sequence[str], done: Sequence[str]) -> tuple[str, int] | None:
    """The plan's step after `done`, and how many of the last steps done it follows the same way (the
    longest such run, up to ORDER; the step nearest len(done) on a tie)."""
    best, step = -1, None
    for pos in range(len(plan)):
        run = 0
        while run < min(len(done), ORDER) and pos - 1 - run >= 0 and plan[pos - 1 - run] == done[-1 - run]:
            run += 1
        if pos == 0 and not done:
            run = ORDER + 1
        if run > best or (run == best and step is not None and abs(pos - len(done)) < abs(step - len(done))):
            best, step = run, pos
    return None if step is None else (plan[step], best)


class PlanNeighbours:
    def __init__(self, plans: Sequence[tuple[str, Sequence[str]]], nearest: int = NEAREST):
        self.plans = [(description, list(plan)) for description, plan in plans]
        self.nearest = nearest
        docs = [Counter(w.lower() for w in _tokens(d)) for d, _ in self.plans]
        seen = Counter(w for doc in docs for w in doc)
        self.idf = {w: math.log((len(docs) + 1) / (n + 1)) + 1 for w, n in seen.items()}
        self.vectors = [self._vector(doc) for doc in docs]

    def _vector(self, doc: Counter[str]) -> dict[str, float]:
        weights = {w: n * self.idf.get(w, math.log(len(self.plans) + 1) + 1) for w, n in doc.items()}
        norm = math.sqrt(sum(x * x for x in weights.values())) or 1.0
        return {w: x / norm for w, x in weights.items()}

    @functools.lru_cache(maxsize=64)  # noqa: B019 - one table per checkpoint, asked per decision
    def _near(self, description: str) -> tuple[list[str], ...]:
        """The plans of the `nearest` train descriptions most like `description`, in its names."""
        vector = self._vector(Counter(w.lower() for w in _tokens(description)))
        similarity = [sum(vector.get(w, 0.0) * x for w, x in v.items()) for v in self.vectors]
        order = sorted(range(len(self.plans)), key=lambda i: (-similarity[i], i))[: self.nearest]
        out = []
        for i in order:
            train, plan = self.plans[i]
            swaps = renamer(train, description)
            out.append([renamed(name, swaps) for name in plan])
        return tuple(out)

    def votes(self, description: str, done: Sequence[str]) -> Counter[str]:
        """Each near plan's next step after `done`, weighted 1 + the run of `done` it follows."""
        tally: Counter[str] = Counter()
        for plan in self._near(description.strip()):
            found = _next_in(plan, done)
            if found is not None:
                tally[found[0]] += 1 + found[1]
        return tally

    @classmethod
    def load(cls, checkpoint: str | Path | None) -> PlanNeighbours | None:
        """The table of a planner or flat checkpoint folder; None where it has no neighbours.json."""
        rows = read_indexed(checkpoint, NEIGHBOURS, str)
        return None if rows is None else cls(rows)


SMOOTHING = 0.5  # a vote's worth given to each candidate, so a step no plan votes for is possible
WEIGHT = 1.0  # the votes' log-share beside the model's log-likelihood (dev: 0.5 to 2 alike; §28)
JOINED = 4  # the most-voted steps added to the model's beams where it did not write them


def joined(beams: Sequence[str], votes: Counter[str]) -> list[str]:
    """The model's beams, then the JOINED most-voted steps it did not write."""
    extra = [name for name, _ in votes.most_common() if name not in beams][:JOINED]
    return [*beams, *extra]


def logp(votes: Counter[str], name: str, candidates: int) -> float:
    """WEIGHT × log of `name`'s smoothed share of the votes among `candidates` steps."""
    total = sum(votes.values())
    return WEIGHT * math.log((votes[name] + SMOOTHING) / (total + SMOOTHING * max(1, candidates)))
