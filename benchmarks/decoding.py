"""Model calls per second: the CPU decoder (engine/decoding.py) against transformers, same checkpoint,
same inputs, one run.

    python benchmarks/decoding.py --checkpoint workspace/checkpoints/planner-s5 \
        --data workspace/annotated/dev.rules.jsonl.gz --inputs 40

For each of `--inputs` of the checkpoint's own dev examples: beam search at 8 and 5 beams, beam
search constrained to 16 of the episode's targets, and scoring 16 and 64 of them, each timed with
transformers (`generate`, a teacher-forced forward) and with the CPU decoder. The encoder cache is
cleared before every call, so each call pays its own encoder pass, as a new input does. Prints
calls/s both ways, their ratio, and how many answers were the same (beams: the same texts in the
same order; scores: within 1e-3) and how many chose the same first (the best beam; the
best-scored candidate). Constrained beams differ where transformers lets hypotheses grown from
its empty placeholder slots finish (their scores of about -1e9 divided by their length pass the
-1e9 of an empty slot) and stops once those fill the beam: ours never finishes a placeholder's.
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
    parser.add_argument("--inputs", type=int, default=40)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    policy = Policy.load(args.checkpoint, device="cpu")
    if policy.fast is None:
        sys.exit(f"{args.checkpoint} is not a T5 on the CPU: nothing to compare")
    fast = policy.fast
    episodes = prepare(load_episodes(args.data), bool(policy.manifest.get("teleport")))
    examples = examples_from_episodes(policy.role, episodes, policy.fits, input_format_of(policy.manifest))
    rng = random.Random(0)
    chosen = rng.sample(examples, min(args.inputs, len(examples)))
    targets: dict[tuple[str, int], list[str]] = {}
    for e in examples:
        targets.setdefault((e.task_id, e.variation), []).append(e.target)
    pool = sorted({e.target for e in examples})

    def options(e, n):  # type: ignore[no-untyped-def]
        own = sorted(set(targets[(e.task_id, e.variation)]))
        rest = [t for t in pool if t not in own]
        return (own + rng.sample(rest, max(0, n - len(own))))[:n]

    calls = {
        "generate, 8 beams": lambda e: policy.generate([e.source], 8, 8, 24)[0],
        "generate, 5 beams": lambda e: policy.generate([e.source], 5, 5, 24)[0],
        "constrained to 16, 8 beams": lambda e: policy.generate(
            [e.source], 8, 8, 24, allowed=[options(e, 16)]
        )[0],
        "score 16 candidates": lambda e: policy.score(e.source, options(e, 16)),
        "score 64 candidates": lambda e: policy.score(e.source, options(e, 64)),
    }
    print(f"{policy.role} {args.checkpoint.name}: {len(chosen)} inputs, {args.threads} thread(s)")
    print(f"{'call':30} {'transformers/s':>15} {'ours/s':>8} {'ratio':>6} {'same':>6} {'same first':>10}")
    for label, call in calls.items():
        answers, seconds = {}, {}
        for way in ("transformers", "ours"):
            policy.fast = fast if way == "ours" else None
            rng.seed(1)
            call(chosen[0])  # warm-up
            rng.seed(1)
            out = []
            t0 = time.perf_counter()
            for e in chosen:
                policy._encoded = None
                out.append(call(e))
            seconds[way] = time.perf_counter() - t0
            answers[way] = out
        pairs = list(zip(answers["transformers"], answers["ours"], strict=True))
        same = sum(_same(a, b) for a, b in pairs)
        first = sum(_same(_first(a), _first(b)) for a, b in pairs)
        n = len(chosen)
        print(
            f"{label:30} {n / seconds['transformers']:15.2f} {n / seconds['ours']:8.2f} "
            f"{seconds['transformers'] / seconds['ours']:5.2f}x {same:3d}/{n} {first:7d}/{n}"
        )
    policy.fast = fast


def _first(answer: list) -> list:  # type: ignore[type-arg]
    """The best beam, or the best-scored candidate's index."""
    if answer and isinstance(answer[0], float):
        return [max(range(len(answer)), key=answer.__getitem__)]
    return answer[:1]


def _same(a: list, b: list) -> bool:  # type: ignore[type-arg]
    if a and isinstance(a[0], float):
        return len(a) == len(b) and all(abs(x - y) < 1e-3 for x, y in zip(a, b, strict=True))
    return a == b


if __name__ == "__main__":
    main()
