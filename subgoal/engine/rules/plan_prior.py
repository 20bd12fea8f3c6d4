"""What usually comes next in the train plans: a count model over their sub-goals, asked beside the
planner (the `plan-prior` rule).

A planner trained for half an hour on one core reads its completed sub-goals poorly: on the dev
planner examples its first beam's verb is wrong more often than the most frequent next verb after
the same last four verbs of the train plans (RESULTS §22, §23). So the planner's beams are
reordered by

    log p_planner(beam | input) + log p(verb | last 4 verbs) + log p(beam | last 4 sub-goals)

both counted over every train plan, of every task (no task is read: a plan's own history is the
context), interpolated from no history up to 4 (`_Counts.p`). The whole sub-goals are counted in the
task's terms (`in_task_terms`): a name the task description spells is `<task>`, so `focus_on(ice
cream)` in a task about ice cream counts as every train focus on the thing its own task named, not
as a name no train plan has. The counts are the train plans of the planner's checkpoint, kept
beside it in `plans.json` (in those terms).
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from subgoal.engine.episode import Episode
from subgoal.engine.files import write_atomic
from subgoal.engine.subgoals import format_name, parse_subgoal
from subgoal.errors import CheckpointError

PLANS = "plans.json"  # in a planner checkpoint: its train plans, each sub-goal an index into `names`
ORDER = 4  # the longest history counted (dev: 4 is where the count model's verb accuracy levels)
START = "<start>"
TASK = "<task>"  # a name the task description spells
H = TypeVar("H")  # the head of an indexed row: a count, a description


def verb(name: str) -> str:
    return name.split("(", 1)[0]


def _words(text: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text.lower()).split())


def in_task_terms(name: str, task_description: str) -> str:
    """Sub-goal `name` with each argument the task description spells (whole words) as `<task>`."""
    parsed = parse_subgoal(name)
    if parsed is None or not task_description:
        return name
    told = f" {_words(task_description)} "
    args = [TASK if (w := _words(a)) and f" {w} " in told else a for a in parsed.args]
    return format_name(parsed.verb, *args)


class _Counts:
    """Next-item counts after each history of 0..ORDER items, over every plan (its count times)."""

    def __init__(self, plans: Iterable[tuple[Sequence[str], int]], key: Callable[[str], str]):
        self.key = key
        self.table: dict[tuple[str, ...], Counter[str]] = defaultdict(Counter)
        items_seen: set[str] = set()
        for plan, count in plans:
            items = [START] * ORDER + [key(name) for name in plan]
            for i in range(ORDER, len(items)):
                items_seen.add(items[i])
                for k in range(ORDER + 1):
                    self.table[tuple(items[i - k : i])][items[i]] += count
        self.totals = {history: sum(c.values()) for history, c in self.table.items()}
        self.floor = 1.0 / (len(items_seen) + 1)  # uniform: every item seen, and one for any other

    def p(self, done: Sequence[str], name: str) -> float:
        """p(name's item | the last items done): from uniform, each longer history seen moves the
        estimate towards its own counts, as far as it has counts (a count of 1 = the estimate so far)."""
        items = [START] * ORDER + [self.key(n) for n in done]
        item, p = self.key(name), self.floor
        for k in range(ORDER + 1):
            history = tuple(items[len(items) - k :]) if k else ()
            seen = self.table.get(history)
            if seen:
                p = (seen[item] + p) / (self.totals[history] + 1)
        return p


class PlanPrior:
    """log p(next sub-goal | sub-goals done) from counts of verbs and of whole sub-goals."""

    def __init__(self, plans: Iterable[tuple[Sequence[str], int]]):
        plans = list(plans)
        self.verbs = _Counts(plans, verb)
        self.names = _Counts(plans, str)

    def logp(self, done: Sequence[str], name: str, task_description: str = "") -> float:
        """log p(verb of `name` | verbs done) + log p(`name` | sub-goals done), the latter in the
        terms of the task (`in_task_terms`)."""
        named = [in_task_terms(n, task_description) for n in done]
        return math.log(self.verbs.p(done, name)) + math.log(
            self.names.p(named, in_task_terms(name, task_description))
        )

    @classmethod
    def load(cls, checkpoint: str | Path | None) -> PlanPrior | None:
        """The prior of a planner checkpoint folder; None where it has no plans.json (made before it)."""
        rows = read_indexed(checkpoint, PLANS, int)
        return None if rows is None else cls((plan, count) for count, plan in rows)


def indexed(rows: Iterable[tuple[Any, Sequence[str]]]) -> dict[str, Any]:
    """{"names": [...], "plans": [[head, name index, ...], ...]}: each row's head (a count, a
    description) with its names, each name stored once: the form of plans.json and neighbours.json."""
    index: dict[str, int] = {}
    plans = [[head, *(index.setdefault(name, len(index)) for name in names)] for head, names in rows]
    return {"names": list(index), "plans": plans}


def read_indexed(
    checkpoint: str | Path | None, filename: str, head: Callable[[Any], H]
) -> list[tuple[H, list[str]]] | None:
    """The rows of an `indexed` file beside a checkpoint, each head read by `head`; None where the
    checkpoint has no such file (made before it); CheckpointError where it cannot be read."""
    if checkpoint is None or not (Path(checkpoint) / filename).is_file():
        return None
    file = Path(checkpoint) / filename
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
        names = data["names"]
        return [(head(row[0]), [names[i] for i in row[1:]]) for row in data["plans"]]
    except (OSError, ValueError, KeyError, IndexError, TypeError) as exc:
        raise CheckpointError(f"{file}: unreadable train plans ({exc})") from None


def plans_of(episodes: Iterable[Episode]) -> dict[str, Any]:
    """The sub-goal sequences the planner learns from `episodes` in their tasks' terms
    (`in_task_terms`), each distinct one once with its count, names stored once:
    {"names": [...], "plans": [[count, name index, ...], ...]}."""
    from subgoal.engine.examples import trainable_spans

    counts = Counter(
        tuple(in_task_terms(span.name, ep.task_description) for span in trainable_spans(ep))
        for ep in episodes
        if ep.subgoals
    )
    return indexed((count, plan) for plan, count in sorted(counts.items()))


def write_plans(folder: Path, episodes: Iterable[Episode]) -> None:
    write_atomic(folder / PLANS, json.dumps(plans_of(episodes), separators=(",", ":")) + "\n")


def best_first(names: Sequence[str], scores: Sequence[float], *terms: Sequence[float]) -> list[str]:
    """`names` best first by the model's log-likelihood (`scores`) plus each term's (one value per
    name); ties keep the model's order. How plan-prior and plan-neighbours rank a model's beams."""
    total = [score + sum(term[i] for term in terms) for i, score in enumerate(scores)]
    return [names[i] for i in sorted(range(len(names)), key=lambda i: -total[i])]


def rerank(
    prior: PlanPrior, done: Sequence[str], beams: list[str], scores: Sequence[float], task_description: str
) -> list[str]:
    """`beams` best first by the planner's log-likelihood (`scores`, one per beam) plus the prior's."""
    return best_first(beams, scores, [prior.logp(done, beam, task_description) for beam in beams])
