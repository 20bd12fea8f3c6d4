"""Gold-path replay speed: the collector's fast step vs. ScienceWorld's stock `env.step`.

Both replay the same gold paths in one JVM, in one run, and record the same state per step (look and
inventory); the stock step additionally computes every valid action, which replay never needs.

    .venv/bin/python benchmarks/collect.py --tasks 1-1,2-1,4-2,6-1,3-1 --variations 2
"""

from __future__ import annotations

import argparse
import time

from subgoal.engine.env import Session
from subgoal.engine.oracle import COLLECT_STEP_LIMIT
from subgoal.engine.tasks import resolve_tasks


def replay(session: Session, task, variation: int, gold: list[str], fast: bool) -> tuple[float, int]:
    session.load(task, variation)
    started = time.perf_counter()
    score = 0
    for action in gold:
        if fast:
            result = session.step(action)
            session.look(), session.inventory()
        else:
            result = session.step_slow(action)  # computes look, inventory and valid actions itself
        score = result.score
    return time.perf_counter() - started, score


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", default="1-1,2-1,4-2,6-1,3-1")
    parser.add_argument("--variations", type=int, default=2)
    args = parser.parse_args()
    rows, fast_total, slow_total, steps = [], 0.0, 0.0, 0
    with Session(step_limit=COLLECT_STEP_LIMIT) as session:
        for task in resolve_tasks(args.tasks):
            for variation in task.variations("train")[: args.variations]:
                session.load(task, variation, gold=True)
                gold = session.gold_path()
                fast, fast_score = replay(session, task, variation, gold, fast=True)
                slow, slow_score = replay(session, task, variation, gold, fast=False)
                assert fast_score == slow_score, (task.id, variation, fast_score, slow_score)
                rows.append((task.id, variation, len(gold), fast, slow))
                fast_total, slow_total, steps = fast_total + fast, slow_total + slow, steps + len(gold)
    print(f"{'task':>5} {'var':>4} {'steps':>6} {'fast s':>8} {'env.step s':>10} {'ratio':>6}")
    for tid, var, n, fast, slow in rows:
        print(f"{tid:>5} {var:>4} {n:>6} {fast:8.2f} {slow:10.2f} {slow / fast:6.1f}")
    print(
        f"total: {steps} steps; fast {fast_total:.2f} s ({steps / fast_total:.0f} steps/s), "
        f"env.step {slow_total:.2f} s ({steps / slow_total:.0f} steps/s); "
        f"fast replay is {slow_total / fast_total:.1f}x faster"
    )


if __name__ == "__main__":
    main()
