"""Batched generation: B decisions in one `Policy.generate` call versus B calls of one, same inputs.

    python benchmarks/batching.py --checkpoint workspace/checkpoints/executor-small \\
        --data workspace/annotated/dev.rules.jsonl.gz --batch 1 4 8 16 32

The inputs are real model inputs (the checkpoint's role, rendered from annotated episodes exactly as
the agents render them). For each batch size B, the same N inputs are generated once as N/B
batched calls and once as N single calls, one after the other in one process, with the eval
settings (5 beams, 5 returned, the checkpoint's target limit). Prints decisions/s of both and their
ratio, and how many inputs got the same best beam both ways. This is what `subgoal eval --batch`
buys per model call; on a GPU the ratio is the point, on a CPU it is mostly the per-call overhead.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from subgoal.engine.agents import target_limit
from subgoal.engine.episode import load_episodes
from subgoal.engine.examples import examples_from_episodes, input_format_of
from subgoal.engine.models import Policy


def timed(policy: Policy, inputs: list[str], size: int, max_new_tokens: int) -> tuple[float, list[str]]:
    best: list[str] = []
    started = time.perf_counter()
    for i in range(0, len(inputs), size):
        beams = policy.generate(
            inputs[i : i + size], num_beams=5, num_return=5, max_new_tokens=max_new_tokens
        )
        best += [b[0] for b in beams]
    if policy.device.type == "cuda":
        import torch

        torch.cuda.synchronize()
    return time.perf_counter() - started, best


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--checkpoint", required=True, help="a checkpoint folder (planner, executor or flat)")
    parser.add_argument("--data", required=True, help="annotated episodes to render inputs from")
    parser.add_argument("--batch", type=int, nargs="+", default=[1, 4, 8, 16])
    parser.add_argument("--inputs", type=int, default=64, help="decisions per arm (rounded to the batch)")
    parser.add_argument("--device", default=None)
    parser.add_argument("--threads", type=int, default=1, help="torch threads on CPU")
    args = parser.parse_args()

    import torch

    torch.set_num_threads(args.threads)
    policy = Policy.load(args.checkpoint, device=args.device)
    examples = examples_from_episodes(
        policy.role, load_episodes(args.data), policy.fits, input_format_of(policy.manifest)
    )
    texts = [e.source for e in examples][: args.inputs]
    limit = target_limit(policy)
    print(
        f"{args.checkpoint} ({policy.role}) on {policy.device}; {len(texts)} inputs, 5 beams, ≤{limit} tokens"
    )
    timed(policy, texts[:2], 2, limit)  # warm-up
    print(f"{'B':>4} {'single/s':>9} {'batched/s':>10} {'ratio':>6} {'same best':>10}")
    for size in args.batch:
        n = len(texts) - len(texts) % size or size
        inputs = texts[:n]
        single_s, single_best = timed(policy, inputs, 1, limit)
        batched_s, batched_best = timed(policy, inputs, size, limit)
        same = sum(a == b for a, b in zip(single_best, batched_best, strict=True))
        print(
            f"{size:>4} {n / single_s:>9.2f} {n / batched_s:>10.2f} {single_s / batched_s:>6.2f} "
            f"{same:>5}/{n:<4}"
        )


if __name__ == "__main__":
    main()
