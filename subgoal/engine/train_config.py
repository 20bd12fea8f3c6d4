"""What a training run is asked: the one typed config `subgoal train` builds and every part of the
training loop reads (data, state, dev metrics), in a module of its own so they need not import the
loop to know its shape."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from subgoal.engine import models


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
    dropout: float = models.DEFAULT_DROPOUT  # of a preset built here (a --model keeps its own)
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
    precision: str = "auto"  # auto | bf16 | fp32 (precision.py): bf16 autocast where native
    compile: bool = False  # torch.compile the training forward (minutes to compile; ~1.4x a CPU step)
    bucketed: bool = True  # length-bucketed batches (False: plain shuffled batches)
    rename_share: float = 0.0  # share of train examples with their sub-goal's names swapped (augment.py)
    task_balance: float = 1.0  # each task's share of an epoch ∝ its examples ** this (1: as the data has it)
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
            "dropout",
            "seed",
            "teleport",
            "rename_share",
            "task_balance",
        )
        return {k: getattr(self, k) for k in keys} | {"tasks": sorted(self.tasks or [])}
