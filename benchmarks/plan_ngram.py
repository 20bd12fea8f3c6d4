"""How predictable the planner's next sub-goal is from the sub-goals before it: a count model as the
reference for `planner_dev.py`'s figures.

    python benchmarks/plan_ngram.py --train workspace/annotated/train.rules.jsonl.gz \
        --dev workspace/annotated/dev.rules.jsonl.gz

For each k, a table of counts over the train plans maps (task, the last k verbs) to the most frequent
next verb, and (task, the last k sub-goals) to the most frequent next sub-goal; scored on every dev
planner example (the same 1,586 `planner_dev.py` reads). No model, no input but the plan so far: what
a planner that reads its completed sub-goals well should at least reach. `--any-task` drops the task.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from subgoal.engine.rules.plan_prior import START, verb


def accuracy(
    train: list[tuple[str, list[str]]], dev: list[tuple[str, list[str]]], k: int, key: Callable[[str], str]
) -> float:
    """Share of dev positions whose next item is the train table's most frequent one after the same
    (task, last k items); `key` maps a sub-goal to the item compared (its verb, or itself)."""
    table: dict[tuple[str, tuple[str, ...]], Counter[str]] = defaultdict(Counter)
    for task, plan in train:
        items = [START] * k + [key(s) for s in plan]
        for i in range(k, len(items)):
            table[task, tuple(items[i - k : i])][items[i]] += 1
    right = total = 0
    for task, plan in dev:
        items = [START] * k + [key(s) for s in plan]
        for i in range(k, len(items)):
            seen = table.get((task, tuple(items[i - k : i])))
            right += bool(seen) and seen.most_common(1)[0][0] == items[i]
            total += 1
    return right / max(total, 1)


def main() -> None:
    from subgoal.engine.episode import load_episodes
    from subgoal.engine.examples import trainable_spans

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", type=Path, required=True)
    parser.add_argument("--dev", type=Path, required=True)
    parser.add_argument("--max-k", type=int, default=4, help="the longest history counted")
    parser.add_argument("--any-task", action="store_true", help="one table for all tasks")
    args = parser.parse_args()

    def plans(path: Path) -> list[tuple[str, list[str]]]:
        return [
            ("" if args.any_task else e.task_id, [s.name for s in trainable_spans(e)])
            for e in load_episodes(path)
            if e.subgoals
        ]

    train, dev = plans(args.train), plans(args.dev)
    print(f"{sum(len(p) for _, p in dev)} dev planner examples, {len(train)} train plans")
    print(f"{'k':>3} {'next verb':>10} {'next sub-goal':>14}")
    for k in range(1, args.max_k + 1):
        print(f"{k:>3} {accuracy(train, dev, k, verb):>10.1%} {accuracy(train, dev, k, str):>14.1%}")


if __name__ == "__main__":
    main()
