"""Map a teacher's sub-goals onto the gold path.

A teacher answers with groups: a sub-goal name and the actions it believes belong to it. Those
actions are the gold actions copied by a language model, so they come back reworded, merged, skipped
or out of order. `align` finds, by edit distance, which gold step each copied action stands for and
turns that into contiguous spans in gold order; what no group claims is reported as gaps, which the
caller can ask about again or close with `close_gaps`.

A group lists a repeated action once (answers often write its actions as a set), so a group also
claims every unclaimed, consecutive repeat of the gold actions it matched: a measurement that reads
the thermometer ten times is one group of two actions.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from subgoal.engine.episode import SubgoalSpan

# A copied action stands for a gold action only if they are at least this similar (rapidfuzz ratio,
# 0-1): "pick up metal pot" ~ "pick up the metal pot", but never "pick up thermometer".
MIN_SIMILARITY = 0.6
GAP_COST = 1.0


@dataclass(frozen=True)
class Group:
    """One sub-goal as the teacher wrote it: its name and the actions it claims."""

    name: str
    actions: tuple[str, ...]


@dataclass
class Alignment:
    spans: list[SubgoalSpan]  # in gold order, non-overlapping; may leave gaps between them
    gaps: list[tuple[int, int]]  # gold ranges [start, end) that no group claims
    matched: int  # gold steps matched to one of the teacher's actions
    length: int  # gold steps in all
    unused: list[str] = field(default_factory=list)  # names of groups that matched no gold step

    @property
    def coverage(self) -> float:
        return self.matched / self.length if self.length else 1.0


def normalize(action: str) -> str:
    """Case, spacing, quotes and trailing punctuation never make two actions different."""
    text = action.strip().strip("`'\"").lower()
    text = re.sub(r"\s+", " ", text).rstrip(".;,")
    return text


def align(gold: Sequence[str], groups: Sequence[Group]) -> Alignment:
    """Align `groups` to `gold`. Groups may come in any order; the result follows the gold order."""
    gold_norm = [normalize(a) for a in gold]
    groups = [g for g in groups if g.actions]
    if not gold_norm or not groups:
        gaps = [(0, len(gold_norm))] if gold_norm else []
        return Alignment([], gaps, 0, len(gold_norm), [g.name for g in groups])
    # The teacher's order is usually right; reordering by where each group fits best rescues an
    # answer that lists sub-goals out of order. Keep whichever order aligns more cheaply.
    by_location = sorted(range(len(groups)), key=lambda i: _best_start(gold_norm, groups[i]))
    best: tuple[float, list[int | None], list[int]] | None = None
    for order in (list(range(len(groups))), by_location):
        cost, labels = _global_alignment(gold_norm, [groups[i] for i in order])
        if best is None or cost < best[0]:
            best = (cost, labels, order)
        if by_location == list(range(len(groups))):
            break
    assert best is not None
    _, labels, order = best
    return _spans_from_labels(_claim_repeats(labels, gold_norm), [groups[i] for i in order])


def close_gaps(alignment: Alignment) -> list[SubgoalSpan]:
    """Contiguous spans covering the whole path: each gap joins the span before it (the first
    span absorbs a gap at the start). Raises ValueError when there is no span at all."""
    if not alignment.spans:
        raise ValueError("no sub-goal matched any gold action")
    spans = [SubgoalSpan(s.name, s.start, s.end) for s in alignment.spans]
    spans[0].start = 0
    for before, after in itertools.pairwise(spans):
        before.end = after.start
    spans[-1].end = alignment.length
    return spans


def _similarities(left: Sequence[str], right: Sequence[str]) -> list[list[float]]:
    from rapidfuzz import fuzz, process

    matrix = process.cdist(left, right, scorer=fuzz.ratio, workers=1)
    return (matrix / 100.0).tolist()


def _substitution(similarity: float) -> float:
    return 2.0 * (1.0 - similarity) if similarity >= MIN_SIMILARITY else math.inf


def _best_start(gold: list[str], group: Group) -> int:
    """Where in `gold` the group fits best (semi-global alignment: free ends on the gold side)."""
    acts = [normalize(a) for a in group.actions]
    sim = _similarities(acts, gold)
    n = len(gold)
    # cost[j], start[j]: best alignment of the actions so far ending just before gold[j].
    cost = [0.0] * (n + 1)
    start = list(range(n + 1))
    for i in range(len(acts)):
        new_cost = [cost[0] + GAP_COST] + [0.0] * n
        new_start = [start[0]] + [0] * n
        for j in range(1, n + 1):
            options = (
                (cost[j - 1] + _substitution(sim[i][j - 1]), start[j - 1]),
                (cost[j] + GAP_COST, start[j]),  # the copied action stands for nothing
                (new_cost[j - 1] + GAP_COST, new_start[j - 1]),  # a gold action inside the group
            )
            new_cost[j], new_start[j] = min(options, key=lambda o: o[0])
        cost, start = new_cost, new_start
    end = min(range(n + 1), key=lambda j: cost[j])
    return start[end]


def _global_alignment(gold: list[str], groups: list[Group]) -> tuple[float, list[int | None]]:
    """Edit-distance alignment of the concatenated groups against the gold path.

    Returns the cost and, for each gold step, the index of the group whose action it matched
    (None where it matched nothing).
    """
    teacher = [normalize(a) for g in groups for a in g.actions]
    owner = [k for k, g in enumerate(groups) for _ in g.actions]
    sim = _similarities(teacher, gold)
    m, n = len(teacher), len(gold)
    cost = [[0.0] * (n + 1) for _ in range(m + 1)]
    move = [[0] * (n + 1) for _ in range(m + 1)]  # 0 match, 1 skip teacher action, 2 skip gold step
    for i in range(1, m + 1):
        cost[i][0], move[i][0] = i * GAP_COST, 1
    for j in range(1, n + 1):
        cost[0][j], move[0][j] = j * GAP_COST, 2
    for i in range(1, m + 1):
        row, prev, sim_row = cost[i], cost[i - 1], sim[i - 1]
        for j in range(1, n + 1):
            diag = prev[j - 1] + _substitution(sim_row[j - 1])
            up = prev[j] + GAP_COST
            left = row[j - 1] + GAP_COST
            if diag <= up and diag <= left:
                row[j], move[i][j] = diag, 0
            elif up <= left:
                row[j], move[i][j] = up, 1
            else:
                row[j], move[i][j] = left, 2
    labels: list[int | None] = [None] * n
    i, j = m, n
    while i > 0 or j > 0:
        step = move[i][j]
        if step == 0:
            labels[j - 1] = owner[i - 1]
            i, j = i - 1, j - 1
        elif step == 1:
            i -= 1
        else:
            j -= 1
    return cost[m][n], labels


def _claim_repeats(labels: list[int | None], gold: list[str]) -> list[int | None]:
    """Give each run of unclaimed steps next to a group's span to that group, as far as the steps
    repeat gold actions the group matched: first forward from the group before, then backward from
    the group after. Labels stay monotone, since a run only takes the label of a neighbour."""
    labels = list(labels)
    matched: dict[int, set[str]] = {}
    for j, k in enumerate(labels):
        if k is not None:
            matched.setdefault(k, set()).add(gold[j])
    for steps in (range(1, len(labels)), range(len(labels) - 2, -1, -1)):
        for j in steps:
            neighbour = labels[j - 1] if steps.step == 1 else labels[j + 1]
            if labels[j] is None and neighbour is not None and gold[j] in matched[neighbour]:
                labels[j] = neighbour
    return labels


def _spans_from_labels(labels: list[int | None], groups: list[Group]) -> Alignment:
    first: dict[int, int] = {}
    last: dict[int, int] = {}
    for j, k in enumerate(labels):
        if k is not None:
            first.setdefault(k, j)
            last[k] = j
    # Labels are monotone (an alignment never crosses), so the ranges are disjoint and ordered;
    # unmatched steps inside a group's range belong to it.
    spans = [SubgoalSpan(groups[k].name, first[k], last[k] + 1) for k in sorted(first)]
    gaps: list[tuple[int, int]] = []
    cursor = 0
    for span in spans:
        if span.start > cursor:
            gaps.append((cursor, span.start))
        cursor = span.end
    if cursor < len(labels):
        gaps.append((cursor, len(labels)))
    matched = sum(k is not None for k in labels)
    unused = [g.name for k, g in enumerate(groups) if k not in first]
    return Alignment(spans, gaps, matched, len(labels), unused)
