"""Resident memory of one ScienceWorld JVM after replaying long gold paths, and its speed.

    python benchmarks/jvm_memory.py                      # the default heap cap (1g)
    SUBGOAL_JVM_HEAP= python benchmarks/jvm_memory.py    # no cap: the JVM's default, 1/4 of RAM
    SUBGOAL_JVM_HEAP=512m python benchmarks/jvm_memory.py

Replays the gold paths of 1-1, 10-1 and 2-1 (long tasks) for the first N train variations in one
JVM with the fast step, then prints the JVM's resident set size and steps/s. Run it once per
setting and compare: the cap is worth having only if it costs no speed.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from subgoal.engine.env import COLLECT_STEP_LIMIT, HEAP_ENV, Session, jvm_options


def rss_mb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) // 1024
    return -1


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--variations", type=int, default=4)
    parser.add_argument("--tasks", nargs="+", default=["1-1", "10-1", "2-1"])
    args = parser.parse_args()

    steps, started = 0, time.perf_counter()
    with Session(step_limit=COLLECT_STEP_LIMIT) as session:
        for variation in range(args.variations):
            for task in args.tasks:
                session.load(task, variation, gold=True)
                for action in session.gold_path():
                    session.step(action)
                    steps += 1
        seconds = time.perf_counter() - started
        setting = os.environ.get(HEAP_ENV, "(unset)")
        print(
            f"{HEAP_ENV}={setting} options={jvm_options()}: RSS {rss_mb(session.pid)} MB after "
            f"{steps} steps, {steps / seconds:.1f} steps/s"
        )


if __name__ == "__main__":
    main()
