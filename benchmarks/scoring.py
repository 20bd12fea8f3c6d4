"""Agent speed: decisions/s of candidate scoring versus 5-beam generation, same checkpoint, same inputs.

    python benchmarks/scoring.py --checkpoint workspace/checkpoints/executor-cpu \
        --data workspace/annotated/dev.rules.jsonl.gz --inputs 60 --candidates 5

Inputs are the checkpoint's own role's examples from the episode file (its budget applied); each
decision scores the gold target with `--candidates - 1` other targets of the same episode, or
generates 5 beams. One torch thread unless `--threads`. Prints both rates and their ratio, and how
often each way put the gold target first.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> None:
    import torch

    from subgoal.engine.episode import load_episodes
    from subgoal.engine.examples import examples_from_episodes, input_format_of
    from subgoal.engine.models import Policy
    from subgoal.engine.train_data import prepare

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", type=Path, required=True)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--inputs", type=int, default=60)
    parser.add_argument("--candidates", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    policy = Policy.load(args.checkpoint, device="cpu")
    episodes = prepare(load_episodes(args.data), bool(policy.manifest.get("teleport")))
    examples = examples_from_episodes(policy.role, episodes, policy.fits, input_format_of(policy.manifest))
    rng = random.Random(0)
    chosen = rng.sample(examples, min(args.inputs, len(examples)))
    by_episode: dict[tuple[str, int], list[str]] = {}
    for e in examples:
        by_episode.setdefault((e.task_id, e.variation), []).append(e.target)
    sets = []
    for e in chosen:
        others = sorted(set(by_episode[(e.task_id, e.variation)]) - {e.target})
        sets.append([e.target, *rng.sample(others, min(len(others), args.candidates - 1))])

    policy.score(chosen[0].source, sets[0])  # warm-up
    t0 = time.perf_counter()
    scored_first = 0
    for e, options in zip(chosen, sets, strict=True):
        scores = policy.score(e.source, options)
        scored_first += max(range(len(options)), key=scores.__getitem__) == 0
    scoring = time.perf_counter() - t0

    t0 = time.perf_counter()
    generated_first = 0
    for e in chosen:
        beams = policy.generate([e.source], num_beams=5, num_return=5, max_new_tokens=24)[0]
        generated_first += bool(beams) and beams[0] == e.target
    generation = time.perf_counter() - t0

    n = len(chosen)
    mean_options = sum(len(s) for s in sets) / n
    print(
        f"{policy.role} {args.checkpoint.name}: {n} inputs, {mean_options:.1f} candidates each, {args.threads} thread(s)"
    )
    print(f"  scoring:        {n / scoring:6.2f} decisions/s   gold first {scored_first / n:.0%}")
    print(f"  5-beam generate:{n / generation:6.2f} decisions/s   gold first {generated_first / n:.0%}")
    print(f"  scoring / generation: {generation / scoring:.2f}x decisions/s")


if __name__ == "__main__":
    main()
