"""Training throughput: the loop's length-bucketed batches versus plain batches padded to max length,
or (`--arms precision`) bf16 autocast versus fp32 on the same bucketed batches.

    python benchmarks/train.py --data workspace/annotated/train.rules.jsonl.gz --role flat --steps 30
    python benchmarks/train.py --data ... --role executor --arms precision --threads 1 --max-input-tokens 256
    python benchmarks/train.py --data workspace/annotated/train.rules.jsonl.gz --stats-only
    accelerate launch --multi_gpu --num_processes 2 benchmarks/train.py --data ... --processes

Both arms train the same model (same preset, seed and examples) with the same optimizer for the
same number of steps, one after the other in one process; each reports examples/s and real
(non-padding) tokens/s and its mean loss over its last steps (a bf16 arm must learn as fp32 does:
same batches, so the losses should be close), and the script prints the ratio. `--stats-only` prints, per role, the number
of examples and the input/target length percentiles in tokens (the figures behind the 1024 budget).
On CUDA it also prints model FLOPs utilisation (6 · params · tokens / s over the GPU's bf16 peak).

`--processes`: one arm (bucketed batches) through Accelerate, as `subgoal train` runs: under
`accelerate launch` each process takes its share of the same batch sequence (DDP; on a machine
without a GPU `--multi_gpu` starts torchrun ranks that join a gloo group), and the main process
prints the examples/s of all processes together. Run it once plainly (one process) and once under
`accelerate launch --num_processes N` to compare.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from subgoal.engine import models
from subgoal.engine.episode import load_episodes
from subgoal.engine.examples import ROLES, examples_from_episodes, stats
from subgoal.engine.train_data import Encoded, batch_order, collate, encode

PEAK_BF16_TFLOPS = {"H100": 989.0, "H200": 989.0, "A100": 312.0}


def arm(
    name: str,
    model,
    data: Encoded,
    batches: list[list[int]],
    pad_id: int,
    pad_to: int | None,
    device,
    quiet: bool = False,
    bf16: bool | None = None,
) -> dict:
    """Train `len(batches)` steps; real tokens exclude padding in both arms. `bf16`: autocast
    (None: on CUDA only)."""
    import torch

    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    if bf16 is None:
        bf16 = device.type == "cuda"
    autocast = torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16)
    model.train()
    examples = tokens = padded = 0
    losses: list[float] = []
    for i, idx in enumerate(batches):
        if i == 1:  # the first step warms up kernels and allocators; time the rest
            if device.type == "cuda":
                torch.cuda.synchronize()
            start = time.perf_counter()
            examples = tokens = padded = 0
        batch = {k: v.to(device) for k, v in collate(data, idx, pad_id, pad_to=pad_to).items()}
        with autocast:
            loss = model(**batch).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        losses.append(float(loss.detach()))
        examples += len(idx)
        tokens += data.tokens(idx)
        padded += batch["input_ids"].numel() + batch["labels"].numel()
    if device.type == "cuda":
        torch.cuda.synchronize()
    seconds = time.perf_counter() - start
    result = {
        "arm": name,
        "steps": len(batches) - 1,
        "seconds": seconds,
        "examples": examples,
        "tokens": tokens,
        "examples_per_s": examples / seconds,
        "tokens_per_s": tokens / seconds,
        "padding": 1 - tokens / padded,
        "late_loss": sum(losses[-10:]) / len(losses[-10:]),
    }
    if quiet:
        return result
    print(
        f"{name:>10}: {result['examples_per_s']:8.1f} examples/s  {result['tokens_per_s']:9.0f} tokens/s  "
        f"padding {result['padding']:.0%}  loss (last 10) {result['late_loss']:.3f}  "
        f"({result['steps']} steps, {seconds:.1f} s)"
    )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--data", type=Path, required=True, help="Annotated (or, for flat, oracle) episode file."
    )
    parser.add_argument("--role", default="flat", choices=ROLES)
    parser.add_argument("--tasks", default=None, help="Comma-separated task ids to keep.")
    parser.add_argument("--preset", default="tiny", choices=list(models.PRESETS))
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--max-input-tokens", type=int, default=models.DEFAULT_MAX_INPUT_TOKENS)
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads.")
    parser.add_argument(
        "--arms", choices=("padding", "precision"), default="padding", help="What the two arms differ in."
    )
    parser.add_argument(
        "--stats-only", action="store_true", help="Only the example counts and lengths per role."
    )
    parser.add_argument(
        "--processes",
        action="store_true",
        help="One arm through Accelerate (DDP under `accelerate launch`): examples/s of all processes.",
    )
    args = parser.parse_args()

    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    models.quiet_transformers()
    episodes = load_episodes(args.data)
    if args.tasks:
        keep = set(args.tasks.split(","))
        episodes = [e for e in episodes if e.task_id in keep]
    annotated = all(e.subgoals for e in episodes)
    roles = [r for r in ROLES if annotated or r == "flat"] if args.stats_only else [args.role]
    raw = {r: examples_from_episodes(r, episodes) for r in roles}
    tokenizer = models.train_tokenizer(t for ex in raw.values() for e in ex for t in (e.source, e.target))
    print(f"{len(episodes)} episodes from {args.data}; tokenizer of {len(tokenizer)} tokens")

    def fits(text: str) -> bool:
        return len(tokenizer(text)["input_ids"]) <= args.max_input_tokens

    def count(text: str) -> int:
        return len(tokenizer(text)["input_ids"])

    if args.stats_only:
        for role in roles:
            s = stats(raw[role], count)
            print(
                f"{role:>9}: {s['examples']:6d} examples  input tokens {s['source_tokens']}  target {s['target_tokens']}"
            )
        return

    examples = examples_from_episodes(args.role, episodes, fits)
    data = encode(examples, tokenizer, args.max_input_tokens, models.DEFAULT_MAX_TARGET_TOKENS)
    lengths = [len(x) for x in data.inputs]
    device = models.pick_device(None)
    print(
        f"{len(examples)} {args.role} examples, input tokens p50 {sorted(lengths)[len(lengths) // 2]} "
        f"max {max(lengths)}; preset {args.preset}, batch {args.batch_size}, {args.steps} steps, {device}"
    )

    def steps(bucketed: bool) -> list[list[int]]:
        rng, out = random.Random(0), []
        while len(out) < args.steps + 1:
            out += batch_order(lengths, args.batch_size, rng, bucketed=bucketed)
        return out[: args.steps + 1]

    if args.processes:
        model_for = lambda: models.build_model(args.preset, tokenizer)  # noqa: E731
        processes_arm(args, model_for, data, lengths, tokenizer.pad_token_id)
        return

    results = []
    if args.arms == "precision":
        arms = [("fp32", True, None, False), ("bf16", True, None, True)]
    else:
        arms = [("padded", False, max(lengths), None), ("bucketed", True, None, None)]
    for name, bucketed, pad_to, bf16 in arms:
        torch.manual_seed(0)
        model = models.build_model(args.preset, tokenizer).to(device)
        results.append(
            arm(name, model, data, steps(bucketed), tokenizer.pad_token_id, pad_to, device, bf16=bf16)
        )
        if device.type == "cuda":
            gpu = torch.cuda.get_device_name()
            peak = next((v for k, v in PEAK_BF16_TFLOPS.items() if k in gpu), None)
            if peak:
                mfu = 6 * models.count_parameters(model) * results[-1]["tokens_per_s"] / (peak * 1e12)
                print(f"{'':>10}  model FLOPs utilisation {mfu:.1%} of {gpu} bf16 peak")
        del model
    ratio = results[1]["tokens_per_s"] / results[0]["tokens_per_s"]
    speedup = results[1]["examples_per_s"] / results[0]["examples_per_s"]
    print(f"{results[1]['arm']} / {results[0]['arm']}: {ratio:.2f}x tokens/s, {speedup:.2f}x examples/s")


def processes_arm(args, model_for, data: Encoded, lengths: list[int], pad_id: int) -> None:
    """Each process trains `--steps` + 1 micro-batches of one shared sequence, taking every n-th (as
    the loop's epoch_batches does); the first step of each is not timed. Examples and real tokens
    are summed over the processes and divided by the slowest process's time."""
    import torch
    from accelerate import Accelerator

    accelerator = Accelerator(cpu=models.pick_device(None).type == "cpu")
    n, rank = accelerator.num_processes, accelerator.process_index
    rng, sequence = random.Random(0), []
    while len(sequence) < (args.steps + 1) * n:
        sequence += batch_order(lengths, args.batch_size, rng, bucketed=True)
    torch.manual_seed(0)
    model = model_for()
    model = accelerator.prepare(model)
    mine = sequence[: (args.steps + 1) * n][rank::n]
    result = arm("ddp", model, data, mine, pad_id, None, accelerator.device, quiet=True)
    counts = accelerator.reduce(
        torch.tensor([result["examples"], result["tokens"]], dtype=torch.float64, device=accelerator.device),
        "sum",
    )
    seconds = float(
        accelerator.reduce(torch.tensor([result["seconds"]], device=accelerator.device), "max")[0]
    )
    if accelerator.is_main_process:
        print(
            f"{n} process(es) x {torch.get_num_threads()} thread(s), {accelerator.distributed_type}: "
            f"{counts[0] / seconds:8.1f} examples/s  {counts[1] / seconds:9.0f} tokens/s  "
            f"({args.steps} steps of {args.batch_size} per process, {seconds:.1f} s)"
        )
    accelerator.end_training()


if __name__ == "__main__":
    main()
