"""How much of the dev split's gold plans the task vocabulary would hold back: a bound is only
worth having if it never stops what a gold plan does.

    python benchmarks/vocabulary_dev.py --train workspace/annotated/train.rules.jsonl.gz \
        --dev workspace/annotated/dev.rules.jsonl.gz

The vocabulary is computed from the train file as training does (teleport navigation unless
`--walk`); each dev gold sub-goal (planner) and action (flat) is checked against its task's verbs
and against `after` (the verbs every train plan uses before it), given the plan so far.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> None:
    from subgoal.engine.episode import load_episodes
    from subgoal.engine.rules.vocabulary import _plan, fits, in_order, task_vocabulary
    from subgoal.engine.train_data import prepare

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", type=Path, required=True)
    parser.add_argument("--dev", type=Path, required=True)
    parser.add_argument("--walk", action="store_true", help="navigation door by door, not teleports")
    args = parser.parse_args()
    train = prepare(load_episodes(args.train), not args.walk)
    dev = prepare(load_episodes(args.dev), not args.walk)
    for role, what in (("planner", "sub-goals"), ("flat", "actions")):
        vocabulary = task_vocabulary(train, role)
        total = off = early = 0
        for episode in dev:
            done: list[str] = []
            for verb, room, _ in _plan(episode, role):
                total += 1
                off += not fits(vocabulary, episode.task_id, verb, room)
                early += not in_order(vocabulary, episode.task_id, verb, done)
                done.append(verb)
        print(
            f"{role}: {total} dev gold {what}; off the vocabulary {off}; before their verbs' `after` {early}"
        )


if __name__ == "__main__":
    main()
