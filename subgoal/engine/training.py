"""The training loop: annotated episodes in, a checkpoint folder out.

`train()` reads top to bottom; what it calls has one module each:

    train_data.py    episodes → examples (examples.py) → token ids → length-bucketed micro-batches
    schedule.py      steps to run · warmup and linear decay of the learning rate · AdamW's weight decay
    dev_metrics.py   dev loss + exact match, which choose best/ and stop a run early
    train_state.py   log.jsonl · the resumable state in last/ · best/ · manifest.json · publishing

The model is a T5 preset from scratch (on a tokenizer trained on the train examples) or any seq2seq
model (`--model`). The loop: gradient accumulation · bf16 autocast where the hardware has it (CUDA;
a CPU with AMX or AVX-512 BF16), else fp32 (precision.py; never fp16 for T5) · a loss that turns
NaN stops the run, last/ kept · dev evaluation and early stopping · --max-steps / --epochs / --max-minutes. An interrupted
run resumes from last/ when the same command runs again; at the end the best (or last) weights,
tokenizer, manifest.json and log.jsonl are renamed into checkpoints/<name>/ in one step.

Multi-GPU and multi-node: `accelerate launch -m subgoal train ...` (DDP); every process takes its
own share of each epoch's batches, and the main process evaluates, logs and saves (docs/training.md).
Nothing here prints: progress goes to `on_log(record)`; the same records land in log.jsonl.
"""

from __future__ import annotations

import math
import time
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from subgoal import checkpoints
from subgoal.engine import models, precision
from subgoal.engine.dev_metrics import evaluate
from subgoal.engine.schedule import lr_at, parameter_groups, planned_steps
from subgoal.engine.train_config import TrainConfig

# The loop calls `collate` and `save_last` through this module's names
# (tests/test_training_multiprocess.py traces them here).
from subgoal.engine.train_data import (
    BatchPlan,
    Encoded,
    EpisodeSplits,
    collate,
    encode_splits,
    load_splits,
    make_examples,
    micro_batches,
)
from subgoal.engine.train_state import (
    LogFn,
    TrainState,
    build_manifest,
    publish,
    run_log,
    save_best,
    save_last,
    start_or_resume,
    training_summary,
    weights_to_publish,
)
from subgoal.errors import TrainingError
from subgoal.workspace import Workspace, ensure_dir


@dataclass
class TrainResult:
    name: str
    path: Path
    manifest: dict[str, Any]


def make_accelerator(cfg: TrainConfig, log: LogFn | None = None) -> Any:
    import torch
    from accelerate import Accelerator

    device = models.pick_device(cfg.device)  # raises when CUDA is asked for but absent
    cuda_bf16 = device.type == "cuda" and torch.cuda.is_bf16_supported()
    mode, note = precision.choose(cfg.precision, device.type, cuda_bf16)
    if note and log is not None:
        log({"kind": "note", "message": note})
    return Accelerator(cpu=device.type == "cpu", mixed_precision=mode)


def train(cfg: TrainConfig, workspace: Workspace, on_log: LogFn | None = None) -> TrainResult:
    """Train one role into WORKSPACE/checkpoints/<cfg.name>/ (resuming an interrupted run)."""
    from accelerate.utils import set_seed

    started = time.perf_counter()
    final = _checkpoint_to_make(cfg, workspace)
    notes: list[dict[str, Any]] = []
    accelerator = make_accelerator(cfg, notes.append)
    main = accelerator.is_main_process
    staging = checkpoints.staging_dir(workspace, cfg.name)
    if main:
        ensure_dir(staging)
    log = run_log(staging / checkpoints.LOG, on_log, main)
    for note in notes:
        log(note)

    # ---- resume or start fresh; data, model and tokenizer
    last, state = start_or_resume(cfg, staging, accelerator)
    set_seed(cfg.seed + state.step)
    models.quiet_transformers()
    episodes = load_splits(cfg)
    model, tokenizer = _model_and_tokenizer(cfg, last, episodes, staging, accelerator)
    models.check_tokenizer(tokenizer)
    train_data, dev_data = encode_splits(cfg, tokenizer, episodes)

    # ---- batches, steps, optimizer
    plan, per_epoch = _batch_plan(train_data, cfg, accelerator)
    total_steps = planned_steps(cfg.epochs, per_epoch, cfg.grad_accum, cfg.max_steps)
    optimizer, scheduler = _optimizer_and_scheduler(cfg, model, total_steps, state, last)
    model, optimizer = accelerator.prepare(model, optimizer)
    device = accelerator.device
    attention = precision.attention(device.type, accelerator.mixed_precision)
    if attention:
        accelerator.unwrap_model(model).set_attn_implementation(attention)
    multiple = 8 if device.type == "cuda" else 1  # padded lengths that suit tensor cores
    params = models.count_parameters(model)
    log(_start_record(cfg, state, total_steps, train_data, dev_data, params, accelerator))

    def save_resumable() -> None:
        if main:
            unwrapped = accelerator.unwrap_model(model)
            save_last(staging / "last", unwrapped, tokenizer, optimizer, scheduler, state, cfg)

    # ---- the loop: one optimizer step = grad_accum micro-batches
    model.train()
    forward = _compiled(model) if cfg.compile else model  # same weights; dev metrics use `model`
    batches = micro_batches(plan, state)
    session_start, seconds_before = time.perf_counter(), state.seconds
    window = Window()
    try:
        while state.step < total_steps:
            for micro in range(cfg.grad_accum):
                idx = next(batches)
                batch = collate(train_data, idx, tokenizer.pad_token_id, multiple=multiple)
                batch = {k: v.to(device) for k, v in batch.items()}
                sync = micro == cfg.grad_accum - 1  # DDP averages gradients once, on the last micro-batch
                with nullcontext() if sync else accelerator.no_sync(model):
                    loss = forward(**batch).loss
                    if not math.isfinite(float(loss.detach())):
                        # Stop before the step: last/ keeps the weights of the last evaluation.
                        raise TrainingError(
                            f"{cfg.name}: the loss is {float(loss.detach())} at step {state.step} "
                            f"({accelerator.mixed_precision}); the last good state is in {staging / 'last'}: "
                            "run again with --precision fp32 or a lower --lr"
                        )
                    accelerator.backward(loss / cfg.grad_accum)
                window.add(float(loss.detach()), len(idx), train_data.tokens(idx))
            accelerator.clip_grad_norm_(model.parameters(), cfg.max_grad_norm)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
            state.step += 1
            state.seconds = _one_clock(seconds_before + time.perf_counter() - session_start, cfg, accelerator)
            if state.step % cfg.log_every == 0 or state.step == total_steps:
                lr = scheduler.get_last_lr()[0]
                _log_progress(log, window, state, lr, per_epoch, total_steps, accelerator)
                window = Window()
            out_of_time = cfg.max_minutes is not None and state.seconds >= cfg.max_minutes * 60
            if state.step % cfg.eval_every == 0 or state.step == total_steps or out_of_time:
                if dev_data is not None and main:
                    metrics = evaluate(accelerator.unwrap_model(model), tokenizer, dev_data, cfg, device)
                    better = state.note_eval(metrics)
                    if better:
                        save_best(accelerator.unwrap_model(model), tokenizer, staging / "best")
                    log({"kind": "eval", "step": state.step, **metrics, "best": better})
                save_resumable()
                if main and (reason := _stop_reason(cfg, state, out_of_time)):
                    state.stopped = reason
                    accelerator.set_trigger()  # every process stops at this step
            if accelerator.check_trigger():
                break
        if not state.stopped:
            state.stopped = f"{total_steps} steps done"
    except KeyboardInterrupt:
        save_resumable()
        log({"kind": "interrupted", "step": state.step})
        raise
    accelerator.wait_for_everyone()

    # ---- publish: best (or last) weights + manifest, renamed into place in one step
    if not main:
        return TrainResult(cfg.name, final, {})
    weights = weights_to_publish(staging)
    training = training_summary(cfg, state, total_steps, per_epoch, accelerator)
    manifest = build_manifest(
        cfg, state, training, episodes, train_data, dev_data, tokenizer, params, weights
    )
    done = {"kind": "done", "step": state.step, "stopped": state.stopped, "best": state.best}
    log(done | {"seconds": round(time.perf_counter() - started, 1)})
    plans_from = episodes.train if cfg.role == "planner" else None  # for plan-prior at play time
    # Every checkpoint keeps its train descriptions (stand-ins at play time).
    publish(staging, weights, manifest, final, cfg.overwrite, plans_from, episodes.train)
    return TrainResult(cfg.name, final, manifest)


def leave_process_group() -> None:
    """After a command's last training, each process of `accelerate launch` leaves its process
    group: one that exits with gloo's threads still running aborts (SIGABRT, "terminate called
    without an active exception"), and the launcher then fails the whole run. Not inside train():
    `train all` trains its roles in one process group, in turn."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


# --- the parts of train() ------------------------------------------------------------------------------


def _checkpoint_to_make(cfg: TrainConfig, workspace: Workspace) -> Path:
    """Where the checkpoint will go, once the request is known to make sense (before any work)."""
    if cfg.role not in ("planner", "executor", "flat"):
        raise TrainingError(f"unknown role {cfg.role!r}; choose planner, executor, flat or all")
    if cfg.model is None:
        models.get_preset(cfg.preset)  # raises on an unknown preset
    final = workspace.checkpoints / cfg.name
    if checkpoints.is_checkpoint(final) and not cfg.overwrite:
        raise TrainingError(
            f"checkpoint {cfg.name} already exists; pass --overwrite, another --tag, "
            f"or `subgoal checkpoints rm {cfg.name}`"
        )
    return final


def _model_and_tokenizer(
    cfg: TrainConfig, last: Path | None, episodes: EpisodeSplits, staging: Path, accelerator: Any
) -> tuple[Any, Any]:
    """From last/ when resuming, else from --model, else a preset built on a new tokenizer (which
    the main process trains on the train examples and the others load)."""
    if last:
        return models.load_pretrained(str(last))
    if cfg.model:
        return models.load_pretrained(cfg.model)
    if accelerator.is_main_process:
        raw = make_examples(cfg.role, episodes.train, None, "train")
        tokenizer = models.train_tokenizer((t for e in raw for t in (e.source, e.target)), cfg.vocab_size)
        tokenizer.save_pretrained(staging / "tokenizer")
    accelerator.wait_for_everyone()
    if not accelerator.is_main_process:
        from transformers import AutoTokenizer

        tokenizer = AutoTokenizer.from_pretrained(staging / "tokenizer", local_files_only=True)
    return models.build_model(cfg.preset, tokenizer, cfg.dropout), tokenizer


def _compiled(model: Any) -> Any:
    """The training forward through torch.compile (inductor, dynamic shapes: bucketed batches
    vary in length). On a CPU it fuses the elementwise work of T5's norms and gated GELU, most of
    a small model's step besides its matrix products."""
    import torch

    compiled = torch.compile(model, dynamic=True)

    def forward(**batch: Any) -> Any:
        try:
            return compiled(**batch)
        except Exception as exc:  # no C++ compiler, an unsupported platform: say what to do
            if "torch._dynamo" in type(exc).__module__ or "inductor" in type(exc).__module__:
                raise TrainingError(
                    f"torch.compile failed ({str(exc).splitlines()[0]}): train without --compile"
                ) from None
            raise

    return forward


def _batch_plan(train_data: Encoded, cfg: TrainConfig, accelerator: Any) -> tuple[BatchPlan, int]:
    """This process's micro-batches of each epoch, and how many there are per epoch."""
    lengths = [len(x) for x in train_data.inputs]
    processes = accelerator.num_processes
    plan = BatchPlan(
        lengths, cfg.batch_size, cfg.seed, cfg.bucketed, accelerator.process_index, processes,
        groups=[e.task_id for e in train_data.examples], balance=cfg.task_balance,
    )  # fmt: skip
    per_epoch = len(plan.epoch(0))
    if per_epoch == 0:
        raise TrainingError(f"{len(train_data)} examples are too few for {processes} processes")
    return plan, per_epoch


def _optimizer_and_scheduler(
    cfg: TrainConfig, model: Any, total_steps: int, state: TrainState, last: Path | None
) -> tuple[Any, Any]:
    """AdamW and its learning-rate schedule (schedule.lr_at), both restored from last/ on resume."""
    import torch

    optimizer = torch.optim.AdamW(parameter_groups(model, cfg.weight_decay), lr=cfg.lr)
    budget = cfg.max_minutes * 60 if cfg.max_minutes else None

    # LambdaLR multiplies this by cfg.lr, hence the peak of 1. It must stay a plain function, which
    # LambdaLR leaves out of scheduler.pt; it reads the time spent from `state` at each step.
    def share_of_peak(step: int) -> float:
        spent = state.seconds / budget if budget else 0.0
        return lr_at(step, peak=1.0, warmup=cfg.warmup_steps, total=total_steps, time_spent=spent)

    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, share_of_peak)
    if last:
        optimizer.load_state_dict(torch.load(last / "optimizer.pt", weights_only=True, map_location="cpu"))
        scheduler.load_state_dict(torch.load(last / "scheduler.pt", weights_only=True, map_location="cpu"))
    return optimizer, scheduler


def _start_record(
    cfg: TrainConfig,
    state: TrainState,
    total_steps: int,
    train_data: Encoded,
    dev_data: Encoded | None,
    params: int,
    accelerator: Any,
) -> dict[str, Any]:
    import torch

    return {
        "kind": "start",
        "name": cfg.name,
        "role": cfg.role,
        "resumed_at": state.step,
        "total_steps": total_steps,
        "train_examples": len(train_data),
        "dev_examples": len(dev_data) if dev_data else 0,
        "params": params,
        "device": str(accelerator.device),
        "processes": accelerator.num_processes,
        "threads": torch.get_num_threads(),
        "mixed_precision": accelerator.mixed_precision,
    }


@dataclass
class Window:
    """What this process trained since the last progress record."""

    started: float = field(default_factory=time.perf_counter)
    examples: int = 0
    tokens: int = 0
    loss: float = 0.0  # summed over micro-batches
    micro_batches: int = 0

    def add(self, loss: float, examples: int, tokens: int) -> None:
        self.loss += loss
        self.micro_batches += 1
        self.examples += examples
        self.tokens += tokens


def _one_clock(seconds: float, cfg: TrainConfig, accelerator: Any) -> float:
    """The main process's training time, on every process, when there is a time budget: the
    schedule reads it, so with each process's own clock their learning rates (and weights) would
    drift apart."""
    if cfg.max_minutes is None or accelerator.num_processes == 1:
        return seconds
    import torch
    from accelerate.utils import broadcast

    return float(broadcast(torch.tensor([seconds], device=accelerator.device), 0)[0])


def _log_progress(
    log: LogFn,
    window: Window,
    state: TrainState,
    lr: float,
    per_epoch: int,
    total_steps: int,
    accelerator: Any,
) -> None:
    """Add the window's examples and tokens over all processes to `state`; log a train record."""
    import torch

    counts = accelerator.reduce(
        torch.tensor([window.examples, window.tokens], device=accelerator.device), "sum"
    )
    elapsed = max(time.perf_counter() - window.started, 1e-9)
    examples, tokens = int(counts[0]), int(counts[1])
    state.examples += examples
    state.tokens += tokens
    log(
        {
            "kind": "train",
            "step": state.step,
            "epoch": round(state.epoch + state.batch_in_epoch / per_epoch, 3),
            "loss": round(window.loss / max(1, window.micro_batches), 5),
            "lr": lr,
            "examples_per_s": round(examples / elapsed, 1),
            "tokens_per_s": round(tokens / elapsed, 1),
            "total_steps": total_steps,
        }
    )


def _stop_reason(cfg: TrainConfig, state: TrainState, out_of_time: bool) -> str:
    """Why the run stops after this evaluation, or "" (the time budget's reason wins)."""
    if out_of_time:
        return f"time budget of {cfg.max_minutes:g} min reached"
    if cfg.patience and state.bad_evals >= cfg.patience:
        return f"early stop: no better dev metrics in {cfg.patience} evaluations"
    return ""
