"""Per-task statistics of collected oracle episodes: count, gold-path length (mean/min/max), bucket,
and collection seconds. The bucket table in subgoal/engine/tasks.py comes from these numbers.

    .venv/bin/python benchmarks/gold_lengths.py workspace/oracle/train.jsonl.gz [--markdown]
"""

from __future__ import annotations

import argparse
import statistics
from collections import defaultdict

from subgoal.engine.episode import read_episodes
from subgoal.engine.tasks import TASKS, bucket_for


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="+")
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args()
    lengths: dict[str, list[int]] = defaultdict(list)
    seconds: dict[str, float] = defaultdict(float)
    for path in args.files:
        for episode in read_episodes(path):
            lengths[episode.task_id].append(int(episode.meta.get("gold_length", len(episode.steps))))
            seconds[episode.task_id] += float(episode.meta.get("seconds", 0.0))
    rows = []
    for task in TASKS:
        values = lengths.get(task.id)
        if not values:
            continue
        mean = statistics.mean(values)
        rows.append(
            (
                task.id,
                task.name,
                len(values),
                mean,
                min(values),
                max(values),
                bucket_for(mean),
                seconds[task.id],
            )
        )
    if args.markdown:
        print("| task | name | episodes | mean gold length | min | max | bucket | collect s |")
        print("|---|---|---:|---:|---:|---:|---|---:|")
        for r in rows:
            print(f"| {r[0]} | {r[1]} | {r[2]} | {r[3]:.1f} | {r[4]} | {r[5]} | {r[6]} | {r[7]:.1f} |")
    else:
        for r in rows:
            print(f"{r[0]:>5} {r[1]:<50} {r[2]:>5} {r[3]:7.1f} {r[4]:5} {r[5]:5} {r[6]:<7} {r[7]:8.1f}")
    total = sum(len(v) for v in lengths.values())
    steps = sum(sum(v) for v in lengths.values())
    print(f"\n{total} episodes, {steps} steps, {sum(seconds.values()):.0f} s of replay (sum over workers)")


if __name__ == "__main__":
    main()
