"""The training loop: annotated episodes in, a checkpoint folder out.

One readable loop on Accelerate, top to bottom in `train()`:

    data      episodes → examples (examples.py) → tokenizer (trained, or the base model's) → token ids
    model     a T5 preset from scratch, or any seq2seq model (`--model`)
    loop      length-bucketed batches · AdamW + warmup/linear decay · gradient accumulation ·
              bf16 autocast on CUDA (fp32 on CPU; never fp16 for T5) · dev loss + exact match ·
              early stopping · --max-steps / --epochs / --max-minutes
    state     `last/` (model, optimizer, scheduler, step) and `best/` in a hidden staging folder;
              an interrupted run resumes from `last/` when the same command runs again
    publish   best model + tokenizer + manifest.json + log.jsonl renamed into checkpoints/<name>/

Multi-GPU and multi-node: `accelerate launch -m subgoal train ...` (DDP); every process takes its
own share of each epoch's batches, and the main process evaluates, logs and saves (docs/training.md).
Nothing here prints: progress goes to `on_log(record)`; the same records land in log.jsonl.
"""

from __future__ import annotations

import json
import math
import random
import shutil
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import nullcontext
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from subgoal import checkpoints
from subgoal.engine import models
from subgoal.engine.episode import Episode, read_episodes
from subgoal.engine.examples import (
    COMPLETE_TASK,
    END_SUBGOAL,
    Example,
    examples_from_episodes,
    stats,
    thin_executor,
)
from subgoal.engine.files import replace_folder
from subgoal.engine.tasks import get_task
from subgoal.errors import EpisodeFileError, TrainingError
from subgoal.workspace import Workspace, ensure_dir

LogFn = Callable[[dict[str, Any]], None]
PSEUDO_LABELS = (END_SUBGOAL, COMPLETE_TASK)  # not counted in dev accuracy


@dataclass
class TrainConfig:
    role: str  # planner | executor | flat
    name: str  # the checkpoint's name in WORKSPACE/checkpoints/
    train_files: list[Path]
    dev_files: list[Path] = field(default_factory=list)  # empty: no evaluation, no early stopping
    tasks: list[str] | None = None  # task ids to keep (None: all in the files)
    preset: str = "tiny"
    model: str | None = None  # an existing seq2seq model (path or hub id) instead of a preset
    vocab_size: int = models.DEFAULT_VOCAB
    max_input_tokens: int = models.DEFAULT_MAX_INPUT_TOKENS
    max_target_tokens: int = models.DEFAULT_MAX_TARGET_TOKENS
    batch_size: int = 16  # examples per micro-batch, per process
    grad_accum: int = 1  # micro-batches per optimizer step
    lr: float = 1e-3
    weight_decay: float = 0.01
    warmup_steps: int = 100
    max_grad_norm: float = 1.0
    epochs: float = 10.0
    max_steps: int | None = None
    max_minutes: float | None = None
    eval_every: int = 200  # optimizer steps between dev evaluations (and saves of last/)
    eval_loss_examples: int = 512  # dev examples for the loss
    eval_match_examples: int = 128  # dev examples generated greedily for exact match
    patience: int = 5  # evaluations without improvement before stopping (0: never stop early)
    log_every: int = 10
    seed: int = 0
    device: str = "auto"  # auto | cpu | cuda
    bucketed: bool = True  # length-bucketed batches (False: plain shuffled batches)
    teleport: bool = True  # navigation runs of gold paths become one `teleport to ROOM` (teleport.py)
    overwrite: bool = False  # replace an existing checkpoint of the same name
    restart: bool = False  # discard an interrupted run instead of resuming it

    def fingerprint(self) -> dict[str, Any]:
        """What must match for an interrupted run to be resumed."""
        keys = (
            "role",
            "preset",
            "model",
            "vocab_size",
            "max_input_tokens",
            "batch_size",
            "grad_accum",
            "seed",
            "teleport",
        )
        return {k: getattr(self, k) for k in keys} | {"tasks": sorted(self.tasks or [])}


@dataclass
class TrainState:
    """Where the loop is; saved as JSON next to the weights so a run resumes at the same step."""

    step: int = 0  # optimizer steps done
    epoch: int = 0
    batch_in_epoch: int = 0  # micro-batches of `epoch` already consumed (per process)
    examples: int = 0
    tokens: int = 0
    seconds: float = 0.0  # training time over all sessions of this run
    best: dict[str, Any] = field(default_factory=dict)  # best dev metrics so far
    bad_evals: int = 0  # evaluations since the last improvement
    stopped: str = ""
    processes: int | None = None  # how many train the run (None: saved before they were noted)


def resumable_state(saved: dict[str, Any], cfg: TrainConfig, processes: int, staging: Path) -> TrainState:
    """The state saved in `staging`'s last/, once that interrupted run is known to fit this one:
    the same settings and as many processes (each process's share of an epoch's batches, and so
    the position in the epoch that last/ holds, depends on how many there are)."""
    if saved["config"] != cfg.fingerprint():
        raise TrainingError(
            f"an interrupted run of {cfg.name} with other settings is in {staging}; "
            "pass --restart to discard it, or the same settings to resume it"
        )
    state = TrainState(**saved["state"])
    if state.processes is not None and state.processes != processes:
        before = state.processes
        again = (
            "`subgoal train ...`"
            if before == 1
            else f"`accelerate launch --num_processes {before} -m subgoal train ...`"
        )
        raise TrainingError(
            f"the interrupted run of {cfg.name} in {staging} was trained by {_processes(before)}, this one "
            f"has {_processes(processes)}: its last/ state and batch order hold for {before}; resume it with "
            f"{again}, or pass --restart to discard it"
        )
    return state


def _processes(count: int) -> str:
    return "1 process" if count == 1 else f"{count} processes"


# --- data ----------------------------------------------------------------------------------------------


def load_episodes_for(
    files: Sequence[Path], split: str, tasks: list[str] | None
) -> tuple[list[Episode], str]:
    """Episodes of `files` (optionally only `tasks`), checking every variation is in `split`.

    This is where "no test variation ever reaches training" is enforced.
    Returns the episodes and a hash of the files' bytes.
    """
    episodes: list[Episode] = []
    for file in files:
        if not Path(file).exists():
            raise TrainingError(f"{file}: no such episode file ({split} data)")
        try:
            for ep in read_episodes(file):
                if tasks and ep.task_id not in tasks:
                    continue
                actual = get_task(ep.task_id).split_of(ep.variation)
                if actual != split:
                    raise TrainingError(
                        f"{file}: task {ep.task_id} variation {ep.variation} belongs to the {actual} split, "
                        f"not {split}: refusing to use it"
                    )
                episodes.append(ep)
        except EpisodeFileError as exc:
            raise TrainingError(str(exc)) from None
    return episodes, checkpoints.file_hash([Path(f) for f in files])


def prepare(episodes: list[Episode], teleport: bool) -> list[Episode]:
    """The episodes as the models learn them (with teleports instead of walks if asked)."""
    from subgoal.engine.teleport import teleport_navigation

    return [teleport_navigation(ep) for ep in episodes] if teleport else episodes


def subgoal_allowance(episodes: list[Episode]) -> dict[str, int]:
    """Steps a sub-goal of each verb may take at play time, from the kept span lengths here."""
    from subgoal.engine.examples import is_training_target
    from subgoal.engine.subgoals import allowance_table, parse_subgoal

    spans = []
    for ep in episodes:
        for span in ep.subgoals:
            parsed = parse_subgoal(span.name)
            if parsed is not None:
                kept = sum(is_training_target(s) for s in ep.steps[span.start : span.end])
                spans.append((parsed.verb, kept))
    return allowance_table(spans)


def make_examples(
    role: str, episodes: list[Episode], fits: Callable[[str], bool] | None, what: str
) -> list[Example]:
    if not episodes:
        raise TrainingError(f"no {what} episodes for the {role} (empty file, or --tasks matched none)")
    examples = examples_from_episodes(role, episodes, fits)
    if role == "executor":  # a set of only routine sub-goals (a small dev file) is kept whole
        examples = thin_executor(examples) or examples
    if not examples:
        raise TrainingError(f"the {what} episodes give no {role} examples")
    return examples


@dataclass
class Encoded:
    """Token ids of a set of examples (lists, not tensors: batches are padded as they are made)."""

    examples: list[Example]
    inputs: list[list[int]]
    labels: list[list[int]]

    def __len__(self) -> int:
        return len(self.inputs)

    def tokens(self, indices: Sequence[int]) -> int:
        return sum(len(self.inputs[i]) + len(self.labels[i]) for i in indices)


def encode(examples: list[Example], tokenizer: Any, max_input: int, max_target: int) -> Encoded:
    inputs = tokenizer([e.source for e in examples], truncation=True, max_length=max_input)["input_ids"]
    labels = tokenizer(text_target=[e.target for e in examples], truncation=True, max_length=max_target)[
        "input_ids"
    ]
    return Encoded(examples, inputs, labels)


def batch_order(
    lengths: Sequence[int], batch_size: int, rng: random.Random, bucketed: bool = True
) -> list[list[int]]:
    """One epoch of batches. Bucketed: shuffle, sort by length within windows of 64 batches, cut,
    then shuffle the batches, so a batch holds similar lengths (little padding) yet epochs differ."""
    order = list(range(len(lengths)))
    rng.shuffle(order)
    if bucketed:
        window = batch_size * 64
        order = [
            i
            for s in range(0, len(order), window)
            for i in sorted(order[s : s + window], key=lengths.__getitem__)
        ]
    batches = [order[s : s + batch_size] for s in range(0, len(order), batch_size)]
    if bucketed:
        rng.shuffle(batches)
    return batches


def collate(
    data: Encoded, indices: Sequence[int], pad_id: int, pad_to: int | None = None, multiple: int = 1
) -> dict:
    """Pad one batch: to its longest member (or to `pad_to`), labels padded with -100."""
    import torch

    def pad(rows: list[list[int]], value: int, width: int | None) -> torch.Tensor:
        width = width or max(len(r) for r in rows)
        width = math.ceil(width / multiple) * multiple
        return torch.tensor([r + [value] * (width - len(r)) for r in rows], dtype=torch.long)

    input_ids = pad([data.inputs[i] for i in indices], pad_id, pad_to)
    return {
        "input_ids": input_ids,
        "attention_mask": (input_ids != pad_id).long(),
        "labels": pad([data.labels[i] for i in indices], -100, None),
    }


# --- evaluation ------------------------------------------------------------------------------------------


def evaluate(model: Any, tokenizer: Any, dev: Encoded, cfg: TrainConfig, device: Any) -> dict[str, float]:
    """Dev loss on a fixed sample, and exact match of greedy generations on a smaller one."""
    import torch

    rng = random.Random(cfg.seed)
    sample = rng.sample(range(len(dev)), min(len(dev), cfg.eval_loss_examples))
    was_training = model.training
    model.eval()
    total, count = 0.0, 0
    hits = counted = 0
    with torch.inference_mode():
        for s in range(0, len(sample), cfg.batch_size):
            idx = sample[s : s + cfg.batch_size]
            batch = {k: v.to(device) for k, v in collate(dev, idx, tokenizer.pad_token_id).items()}
            n = int((batch["labels"] != -100).sum())
            total += float(model(**batch).loss) * n
            count += n
        match = sample[: cfg.eval_match_examples]
        for s in range(0, len(match), cfg.batch_size):
            idx = match[s : s + cfg.batch_size]
            batch = collate(dev, idx, tokenizer.pad_token_id)
            out = model.generate(
                input_ids=batch["input_ids"].to(device),
                attention_mask=batch["attention_mask"].to(device),
                max_new_tokens=cfg.max_target_tokens,
                num_beams=1,
                do_sample=False,
            )
            texts = tokenizer.batch_decode(out, skip_special_tokens=True, clean_up_tokenization_spaces=False)
            tidy = (
                models.tidy_decoded
                if models.splits_punctuation(tokenizer)
                else (lambda t: " ".join(t.split()))
            )
            for i, text in zip(idx, texts, strict=True):
                target = " ".join(dev.examples[i].target.split())
                if (
                    target in PSEUDO_LABELS
                ):  # their share alone can make a model that learned nothing look good
                    continue
                counted += 1
                hits += tidy(text) == target
    model.train(was_training)
    return {"dev_loss": total / max(count, 1), "dev_exact": hits / max(counted, 1)}


def improved(metrics: dict[str, float], best: dict[str, Any]) -> bool:
    """Exact match first; at equal exact match, lower dev loss. `best` is stored rounded to 5
    places, so "equal" is within that rounding (0.1796875 ties 0.17969)."""
    if not best:
        return True
    if abs(metrics["dev_exact"] - best["dev_exact"]) > 1e-5:
        return metrics["dev_exact"] > best["dev_exact"]
    return metrics["dev_loss"] < best["dev_loss"] - 1e-4


# --- saving ----------------------------------------------------------------------------------------------


def save_weights(model: Any, tokenizer: Any, folder: Path) -> None:
    model.save_pretrained(folder, safe_serialization=True)
    tokenizer.save_pretrained(folder)


def save_last(
    folder: Path,
    model: Any,
    tokenizer: Any,
    optimizer: Any,
    scheduler: Any,
    state: TrainState,
    cfg: TrainConfig,
) -> None:
    """Everything needed to resume: weights (safetensors), optimizer/scheduler tensors, state JSON."""
    import torch

    def build(path: Path) -> None:
        save_weights(model, tokenizer, path)
        torch.save(optimizer.state_dict(), path / "optimizer.pt")
        torch.save(scheduler.state_dict(), path / "scheduler.pt")
        (path / "state.json").write_text(
            json.dumps({"state": asdict(state), "config": cfg.fingerprint()}, indent=1)
        )

    replace_folder(build, folder)


def find_last(staging: Path) -> Path | None:
    for name in ("last", "last.old"):
        if (staging / name / "state.json").exists():
            return staging / name
    return None


def versions() -> dict[str, str]:
    found = {}
    for package in ("subgoal", "torch", "transformers", "tokenizers", "accelerate", "scienceworld"):
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            found[package] = "absent"
    return found


# --- the loop ---------------------------------------------------------------------------------------------


@dataclass
class TrainResult:
    name: str
    path: Path
    manifest: dict[str, Any]


def make_accelerator(cfg: TrainConfig) -> Any:
    import torch
    from accelerate import Accelerator

    device = models.pick_device(cfg.device)  # raises when CUDA is asked for but absent
    bf16 = device.type == "cuda" and torch.cuda.is_bf16_supported()
    return Accelerator(cpu=device.type == "cpu", mixed_precision="bf16" if bf16 else "no")


def train(cfg: TrainConfig, workspace: Workspace, on_log: LogFn | None = None) -> TrainResult:
    """Train one role into WORKSPACE/checkpoints/<cfg.name>/ (resuming an interrupted run)."""
    import torch
    from accelerate.utils import broadcast, set_seed

    started = time.perf_counter()
    if cfg.role not in ("planner", "executor", "flat"):
        raise TrainingError(f"unknown role {cfg.role!r}; choose planner, executor, flat or all")
    if cfg.model is None:
        models.get_preset(cfg.preset)  # unknown preset: fail before any work
    final = workspace.checkpoints / cfg.name
    if checkpoints.is_checkpoint(final) and not cfg.overwrite:
        raise TrainingError(
            f"checkpoint {cfg.name} already exists; pass --overwrite, another --tag, "
            f"or `subgoal checkpoints rm {cfg.name}`"
        )
    accelerator = make_accelerator(cfg)
    main = accelerator.is_main_process
    staging = (
        ensure_dir(checkpoints.staging_dir(workspace, cfg.name))
        if main
        else checkpoints.staging_dir(workspace, cfg.name)
    )
    log_file = staging / checkpoints.LOG

    def log(record: dict[str, Any]) -> None:
        if not main:
            return
        record = {"time": round(time.time(), 3), **record}
        with open(log_file, "a") as fh:
            fh.write(json.dumps(record) + "\n")
        if on_log:
            on_log(record)

    # ---- resume or start fresh
    last = find_last(staging)
    if last and cfg.restart:
        if main:
            shutil.rmtree(staging)
            ensure_dir(staging)
        last = None
    accelerator.wait_for_everyone()
    state = TrainState(processes=accelerator.num_processes)
    if last:
        saved = json.loads((last / "state.json").read_text())
        state = resumable_state(saved, cfg, accelerator.num_processes, staging)
    set_seed(cfg.seed + state.step)
    models.quiet_transformers()

    # ---- data and tokenizer
    train_eps, train_hash = load_episodes_for(cfg.train_files, "train", cfg.tasks)
    dev_eps, dev_hash = load_episodes_for(cfg.dev_files, "dev", cfg.tasks) if cfg.dev_files else ([], "")
    train_eps, dev_eps = prepare(train_eps, cfg.teleport), prepare(dev_eps, cfg.teleport)
    if last:
        model, tokenizer = models.load_pretrained(str(last))
    elif cfg.model:
        model, tokenizer = models.load_pretrained(cfg.model)
    else:  # a preset: the main process trains the tokenizer, every process builds the same model
        if main:
            raw = make_examples(cfg.role, train_eps, None, "train")
            tokenizer = models.train_tokenizer((t for e in raw for t in (e.source, e.target)), cfg.vocab_size)
            tokenizer.save_pretrained(staging / "tokenizer")
        accelerator.wait_for_everyone()
        if not main:
            from transformers import AutoTokenizer

            tokenizer = AutoTokenizer.from_pretrained(staging / "tokenizer", local_files_only=True)
        model = models.build_model(cfg.preset, tokenizer)
    models.check_tokenizer(tokenizer)

    def fits(text: str) -> bool:
        return len(tokenizer(text)["input_ids"]) <= cfg.max_input_tokens

    train_data = encode(
        make_examples(cfg.role, train_eps, fits, "train"),
        tokenizer,
        cfg.max_input_tokens,
        cfg.max_target_tokens,
    )
    dev_data = (
        encode(
            make_examples(cfg.role, dev_eps, fits, "dev"),
            tokenizer,
            cfg.max_input_tokens,
            cfg.max_target_tokens,
        )
        if dev_eps
        else None
    )

    # ---- optimizer, schedule, steps
    lengths = [len(x) for x in train_data.inputs]

    def epoch_batches(epoch: int) -> list[list[int]]:
        """This process's micro-batches of `epoch` (the same count on every process)."""
        batches = batch_order(
            lengths, cfg.batch_size, random.Random(cfg.seed * 100_003 + epoch), cfg.bucketed
        )
        n = accelerator.num_processes
        return batches[accelerator.process_index : len(batches) - len(batches) % n or None : n]

    per_epoch = len(epoch_batches(0))  # micro-batches per process
    if per_epoch == 0:
        raise TrainingError(
            f"{len(train_data)} examples are too few for {accelerator.num_processes} processes"
        )
    planned = math.ceil(cfg.epochs * per_epoch / cfg.grad_accum)
    total_steps = max(1, min(planned, cfg.max_steps) if cfg.max_steps else planned)
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        (no_decay if p.ndim < 2 or "layer_norm" in name else decay).append(p)
    optimizer = torch.optim.AdamW(
        [{"params": decay, "weight_decay": cfg.weight_decay}, {"params": no_decay, "weight_decay": 0.0}],
        lr=cfg.lr,
    )
    warmup_fraction = min(cfg.warmup_steps, total_steps // 10 + 1) / total_steps

    def lr_lambda(step: int) -> float:
        """Linear warmup, then linear decay to 10 %, over the progress of training: the steps done,
        or the share of --max-minutes spent when that is further along, so that a run cut by its
        time budget still warms up and decays instead of stopping inside its warmup."""
        progress = (step + 1) / total_steps
        if cfg.max_minutes:
            progress = max(progress, state.seconds / (cfg.max_minutes * 60))
        if progress < warmup_fraction:
            return progress / warmup_fraction
        return max(0.1, 1 - 0.9 * (progress - warmup_fraction) / max(1e-9, 1 - warmup_fraction))

    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_lambda)
    if last:
        optimizer.load_state_dict(torch.load(last / "optimizer.pt", weights_only=True, map_location="cpu"))
        scheduler.load_state_dict(torch.load(last / "scheduler.pt", weights_only=True, map_location="cpu"))
    model, optimizer = accelerator.prepare(model, optimizer)
    device = accelerator.device
    pad_id = tokenizer.pad_token_id
    multiple = 8 if device.type == "cuda" else 1
    params = models.count_parameters(model)

    log(
        {
            "kind": "start",
            "name": cfg.name,
            "role": cfg.role,
            "resumed_at": state.step,
            "total_steps": total_steps,
            "train_examples": len(train_data),
            "dev_examples": len(dev_data) if dev_data else 0,
            "params": params,
            "device": str(device),
            "processes": accelerator.num_processes,
            "mixed_precision": accelerator.mixed_precision,
        }
    )

    def micro_batches() -> Iterator[list[int]]:
        """Micro-batches from where the state says, epoch after epoch."""
        while True:
            batches = epoch_batches(state.epoch)
            while state.batch_in_epoch < len(batches):
                state.batch_in_epoch += 1
                yield batches[state.batch_in_epoch - 1]
            state.epoch += 1
            state.batch_in_epoch = 0

    def evaluate_and_keep() -> None:
        """Main process: dev metrics, keep best/, count evaluations without improvement."""
        if dev_data is None or not main:
            return
        metrics = evaluate(accelerator.unwrap_model(model), tokenizer, dev_data, cfg, device)
        better = improved(metrics, state.best)
        if better:
            state.best = {"step": state.step, **{k: round(v, 5) for k, v in metrics.items()}}
            state.bad_evals = 0
            replace_folder(
                lambda p: save_weights(accelerator.unwrap_model(model), tokenizer, p), staging / "best"
            )
        else:
            state.bad_evals += 1
        log({"kind": "eval", "step": state.step, **metrics, "best": better})

    def checkpoint_last() -> None:
        if main:
            save_last(
                staging / "last", accelerator.unwrap_model(model), tokenizer, optimizer, scheduler, state, cfg
            )

    # ---- the loop: one optimizer step = grad_accum micro-batches
    model.train()
    batches = micro_batches()
    session_start = time.perf_counter()
    seconds_before = state.seconds
    window = {"t": time.perf_counter(), "examples": 0, "tokens": 0, "loss": 0.0, "micro": 0}
    try:
        while state.step < total_steps:
            for micro in range(cfg.grad_accum):
                idx = next(batches)
                batch = {
                    k: v.to(device) for k, v in collate(train_data, idx, pad_id, multiple=multiple).items()
                }
                sync = micro == cfg.grad_accum - 1
                with nullcontext() if sync else accelerator.no_sync(model):
                    loss = model(**batch).loss
                    accelerator.backward(loss / cfg.grad_accum)
                window["loss"] += float(loss.detach())
                window["micro"] += 1
                window["examples"] += len(idx)
                window["tokens"] += train_data.tokens(idx)
            accelerator.clip_grad_norm_(model.parameters(), cfg.max_grad_norm)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
            state.step += 1
            state.seconds = seconds_before + time.perf_counter() - session_start
            if cfg.max_minutes is not None and accelerator.num_processes > 1:
                # One clock for all processes: the schedule reads it, so with each process's own
                # clock their learning rates (and weights) would drift apart.
                state.seconds = float(broadcast(torch.tensor([state.seconds], device=device), 0)[0])

            if state.step % cfg.log_every == 0 or state.step == total_steps:
                counts = accelerator.reduce(
                    torch.tensor([window["examples"], window["tokens"]], device=device), "sum"
                )
                elapsed = max(time.perf_counter() - window["t"], 1e-9)
                state.examples += int(counts[0])
                state.tokens += int(counts[1])
                log(
                    {
                        "kind": "train",
                        "step": state.step,
                        "epoch": round(state.epoch + state.batch_in_epoch / per_epoch, 3),
                        "loss": round(window["loss"] / max(1, window["micro"]), 5),
                        "lr": scheduler.get_last_lr()[0],
                        "examples_per_s": round(int(counts[0]) / elapsed, 1),
                        "tokens_per_s": round(int(counts[1]) / elapsed, 1),
                        "total_steps": total_steps,
                    }
                )
                window = {"t": time.perf_counter(), "examples": 0, "tokens": 0, "loss": 0.0, "micro": 0}

            out_of_time = cfg.max_minutes is not None and state.seconds >= cfg.max_minutes * 60
            if state.step % cfg.eval_every == 0 or state.step == total_steps or out_of_time:
                evaluate_and_keep()
                checkpoint_last()
                if main and cfg.patience and state.bad_evals >= cfg.patience:
                    state.stopped = f"early stop: no better dev metrics in {cfg.patience} evaluations"
                    accelerator.set_trigger()
                if main and out_of_time:
                    state.stopped = f"time budget of {cfg.max_minutes:g} min reached"
                    accelerator.set_trigger()
            if accelerator.check_trigger():
                break
        if not state.stopped:
            state.stopped = f"{total_steps} steps done"
    except KeyboardInterrupt:
        checkpoint_last()
        log({"kind": "interrupted", "step": state.step})
        raise
    accelerator.wait_for_everyone()

    # ---- publish: best (or last) weights + manifest, renamed into place in one step
    if not main:
        return TrainResult(cfg.name, final, {})
    source = staging / "best" if (staging / "best" / "config.json").exists() else staging / "last"
    count = lambda ex: len(tokenizer(ex)["input_ids"])  # noqa: E731
    from subgoal.engine.subgoals import focus_heads, focus_heads_in_order  # for focus_allowed
    from subgoal.engine.vocabulary import task_vocabulary  # what each task's plans use

    manifest = {
        "name": cfg.name,
        "role": cfg.role,
        "preset": None if cfg.model else cfg.preset,
        "model": cfg.model,
        "params": params,
        "max_input_tokens": cfg.max_input_tokens,
        "max_target_tokens": cfg.max_target_tokens,
        "seed": cfg.seed,
        "teleport": cfg.teleport,
        "subgoal_allowance": subgoal_allowance(train_eps) if cfg.role != "flat" else None,
        "focus_heads": focus_heads(train_eps),
        "focus_heads_in_order": focus_heads_in_order(train_eps),
        "task_vocabulary": task_vocabulary(train_eps, cfg.role),
        "task_name_in_input": True,  # examples.render names the task (older checkpoints: false)
        "data": {
            "train_files": [str(f) for f in cfg.train_files],
            "dev_files": [str(f) for f in cfg.dev_files],
            "tasks": cfg.tasks,
            "train_hash": train_hash,
            "dev_hash": dev_hash,
            "train": stats(train_data.examples, count),
            "dev": stats(dev_data.examples, count) if dev_data else None,
        },
        "metrics": state.best,
        "training": {
            "steps": state.step,
            "total_steps": total_steps,
            "epochs": round(state.step * cfg.grad_accum / per_epoch, 3),
            "seconds": round(state.seconds, 1),
            "examples_per_s": round(state.examples / max(state.seconds, 1e-9), 1),
            "tokens_per_s": round(state.tokens / max(state.seconds, 1e-9), 1),
            "stopped": state.stopped,
            "device": str(device),
            "processes": accelerator.num_processes,
            "mixed_precision": accelerator.mixed_precision,
        },
        "config": {
            k: (str(v) if isinstance(v, Path) else v)
            for k, v in asdict(cfg).items()
            if k not in ("train_files", "dev_files")
        },
        "tokenizer_hash": checkpoints.file_hash([source / "tokenizer.json"])
        if (source / "tokenizer.json").exists()
        else None,
        "versions": versions(),
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    log(
        {
            "kind": "done",
            "step": state.step,
            "stopped": state.stopped,
            "best": state.best,
            "seconds": round(time.perf_counter() - started, 1),
        }
    )

    def build(path: Path) -> None:
        for item in source.iterdir():
            if item.suffix != ".pt" and item.name != "state.json":
                shutil.copy2(item, path / item.name)
        shutil.copy2(log_file, path / checkpoints.LOG)
        checkpoints.write_manifest(path, manifest)  # last: a folder without it is not a checkpoint

    replace_folder(build, staging / "final")
    if final.exists() and cfg.overwrite:
        shutil.rmtree(final)
    checkpoints.publish(staging / "final", final)
    shutil.rmtree(staging, ignore_errors=True)
    return TrainResult(cfg.name, final, manifest)
