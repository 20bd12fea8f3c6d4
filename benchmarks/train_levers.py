"""Training throughput, lever by lever: today's settings against each lever added in turn, with the
dev loss each reaches after the same number of examples (a faster arm must learn as much per
example seen).

    python benchmarks/train_levers.py --role planner --examples 2000
    python benchmarks/train_levers.py --role executor --examples 2000 --arms today,bf16,batch64

The arms are cumulative, in the order --arms names them (each adds its lever to the one before):
    today     fp32, T5 dropout 0.1, batches of 16, the protocol's input budget (always first)
    bf16      bf16 autocast (AMX / AVX-512 BF16 through oneDNN)
    eager     eager attention instead of SDPA: SDPA cannot give T5's learned position bias (its
              attn_mask) a gradient on a CPU and falls back to a math path that multiplies in
              fp32; eager attention multiplies in bf16 under autocast (training.py does this)
    nodrop    no dropout (a model seeing a few epochs does not over-fit; dropout's random masks
              cost a fifth of a CPU step)
    batch32   batches of 32, the learning rate x1.4 (square-root scaling)
    batch64   batches of 64, the learning rate x2
    short     the executor's and flat agent's inputs cut to --short-tokens (render drops the
              oldest history first, then shortens the look)
    compile   torch.compile (inductor, dynamic shapes); its compilation is not timed

One torch thread, one process. The arms take steps in turn (round robin, each until it has seen
--examples examples), so a background load slows all of them alike and the ratios hold on a busy
machine. Each arm's examples/s counts its training steps only; its dev loss is measured afterwards
on the same dev examples, in fp32, for every arm.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from subgoal.engine import models
from subgoal.engine.episode import read_episodes
from subgoal.engine.examples import examples_from_episodes
from subgoal.engine.train_data import Encoded, batch_order, collate, encode

BUDGET = {"planner": 320, "executor": 256, "flat": 320}  # the protocol's input tokens per role
LEVERS = {  # name -> what it changes, over the arm before it
    "today": {},
    "bf16": {"bf16": True},
    "eager": {"attention": "eager"},
    "nodrop": {"dropout": 0.0},
    "batch32": {"batch_size": 32, "lr": 1.4e-3},
    "batch64": {"batch_size": 64, "lr": 2e-3},
    "short": {"short": True},
    "compile": {"compile": True},
}


@dataclass
class Arm:
    name: str
    bf16: bool = False
    dropout: float = models.T5_DROPOUT
    batch_size: int = 16
    lr: float = 1e-3
    short: bool = False
    attention: str = "sdpa"
    compile: bool = False
    seconds: float = 0.0
    seen: int = 0
    losses: list[float] = field(default_factory=list)


def arms_for(names: list[str]) -> list[Arm]:
    unknown = set(names) - set(LEVERS)
    if unknown:
        sys.exit(f"unknown arms {sorted(unknown)}; choose from {', '.join(LEVERS)}")
    arms, settings = [], {}
    for name in ["today", *(n for n in names if n != "today")]:
        settings |= LEVERS[name]
        arms.append(Arm(name, **settings))
    return arms


def dev_loss(model, data: Encoded, pad_id: int) -> float:
    import torch

    model.eval()
    total = count = 0.0
    with torch.no_grad():
        for s in range(0, len(data), 32):
            idx = list(range(s, min(s + 32, len(data))))
            total += float(model(**collate(data, idx, pad_id)).loss) * len(idx)
            count += len(idx)
    model.train()
    return total / count


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--train", type=Path, default=Path("workspace/annotated/train.rules.jsonl.gz"))
    parser.add_argument("--dev", type=Path, default=Path("workspace/annotated/dev.rules.jsonl.gz"))
    parser.add_argument("--role", default="executor", choices=list(BUDGET))
    parser.add_argument("--preset", default="mini", choices=list(models.PRESETS))
    parser.add_argument("--episodes", type=int, default=400, help="Train episodes to draw examples from.")
    parser.add_argument("--examples", type=int, default=2000, help="Examples each arm trains on.")
    parser.add_argument("--dev-examples", type=int, default=256)
    parser.add_argument("--short-tokens", type=int, default=160)
    parser.add_argument("--arms", default=",".join(LEVERS))
    args = parser.parse_args()

    import torch

    torch.set_num_threads(1)
    models.quiet_transformers()
    everything = list(read_episodes(args.train))  # the file runs task by task: draw from all 30
    train_eps = random.Random(0).sample(everything, min(args.episodes, len(everything)))
    dev_eps = list(read_episodes(args.dev))
    raw = examples_from_episodes(args.role, train_eps)
    tokenizer = models.train_tokenizer(t for e in raw for t in (e.source, e.target))
    pad = tokenizer.pad_token_id
    count = models.token_counter(tokenizer)

    def data_for(budget: int, episodes, limit: int | None = None) -> Encoded:
        fits = lambda text: count(text) <= budget  # noqa: E731
        examples = examples_from_episodes(args.role, episodes, fits)
        if limit:
            examples = random.Random(0).sample(examples, min(limit, len(examples)))
        return encode(examples, tokenizer, budget, models.DEFAULT_MAX_TARGET_TOKENS)

    arms = arms_for(args.arms.split(","))
    budgets = {BUDGET[args.role]} | ({args.short_tokens} if any(a.short for a in arms) else set())
    train = {b: data_for(b, train_eps) for b in budgets}
    dev = {b: data_for(b, dev_eps, args.dev_examples) for b in budgets}
    print(
        f"{args.role}: {len(train[BUDGET[args.role]])} train examples from {len(train_eps)} episodes, "
        f"{args.dev_examples} dev; preset {args.preset}; {args.examples} examples per arm; 1 thread"
    )
    budget_of = {
        a.name: args.short_tokens if a.short and args.role != "planner" else BUDGET[args.role] for a in arms
    }
    runs = {}
    for a in arms:
        torch.manual_seed(0)
        model = models.build_model(args.preset, tokenizer, dropout=a.dropout)
        model.set_attn_implementation(a.attention)
        if a.compile:
            model = torch.compile(model, dynamic=True)
        data = train[budget_of[a.name]]
        lengths = [len(x) for x in data.inputs]
        rng, batches = random.Random(0), []
        while sum(len(b) for b in batches) < args.examples + a.batch_size:
            batches += batch_order(lengths, a.batch_size, rng)
        runs[a.name] = (model, torch.optim.AdamW(model.parameters(), lr=a.lr), data, iter(batches))

    def step(a: Arm) -> None:
        model, optimizer, data, batches = runs[a.name]
        idx = next(batches)
        start = time.perf_counter()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=a.bf16):
            loss = model(**collate(data, idx, pad)).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        a.losses.append(float(loss.detach()))
        if a.losses[1:]:  # the first step warms kernels and allocators up: not timed
            a.seconds += time.perf_counter() - start
            a.seen += len(idx)

    while any(a.seen < args.examples for a in arms):  # round robin: load hits every arm alike
        for a in arms:
            if a.seen < args.examples:
                step(a)
    base = arms[0]
    print(f"{'arm':>8} {'examples/s':>11} {'x today':>8} {'dev loss':>9} {'train loss':>11}")
    for a in arms:
        model, _, _, _ = runs[a.name]
        loss = dev_loss(model, dev[budget_of[a.name]], pad)
        rate = a.seen / a.seconds
        print(
            f"{a.name:>8} {rate:11.1f} {rate / (base.seen / base.seconds):7.2f}x {loss:9.3f} "
            f"{sum(a.losses[-10:]) / len(a.losses[-10:]):11.3f}"
        )


if __name__ == "__main__":
    main()
