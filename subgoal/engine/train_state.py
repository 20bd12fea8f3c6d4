"""What a run keeps on disk: its log, its resumable state and its checkpoint.

In the hidden staging folder of checkpoint NAME (checkpoints/.NAME.training/):
    log.jsonl   every record of every session of the run
    tokenizer/  the tokenizer a preset's run trained (the other processes load it from here)
    last/       model, optimizer, scheduler and state.json: an interrupted run resumes from here
    best/       the weights with the best dev metrics so far
    final/      the checkpoint being built, published as checkpoints/NAME/ in one rename
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from subgoal import checkpoints
from subgoal.engine.dev_metrics import improved
from subgoal.engine.examples import INPUT_FORMAT, stats
from subgoal.engine.files import replace_folder
from subgoal.engine.rules.neighbours import write_neighbours
from subgoal.engine.rules.plan_prior import write_plans
from subgoal.engine.rules.stand_in import write_tasks
from subgoal.engine.train_data import subgoal_allowance
from subgoal.errors import TrainingError
from subgoal.workspace import ensure_dir

if TYPE_CHECKING:
    from subgoal.engine.episode import Episode
    from subgoal.engine.train_config import TrainConfig
    from subgoal.engine.train_data import Encoded, EpisodeSplits

LogFn = Callable[[dict[str, Any]], None]


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

    def note_eval(self, metrics: dict[str, float]) -> bool:
        """Count a dev evaluation; True when its metrics are the best so far."""
        if not improved(metrics, self.best):
            self.bad_evals += 1
            return False
        self.best = {"step": self.step, **{k: round(v, 5) for k, v in metrics.items()}}
        self.bad_evals = 0
        return True


# --- the log ---------------------------------------------------------------------------------------------


def run_log(path: Path, on_log: LogFn | None, main: bool) -> LogFn:
    """A function that stamps each record with the time, appends it to `path` and passes it to
    `on_log`; on processes other than the main one it does nothing."""

    def log(record: dict[str, Any]) -> None:
        if not main:
            return
        record = {"time": round(time.time(), 3), **record}
        with open(path, "a") as fh:
            fh.write(json.dumps(record) + "\n")
        if on_log:
            on_log(record)

    return log


# --- resuming --------------------------------------------------------------------------------------------


def find_last(staging: Path) -> Path | None:
    for name in ("last", "last.old"):
        if (staging / name / "state.json").exists():
            return staging / name
    return None


def start_or_resume(cfg: TrainConfig, staging: Path, accelerator: Any) -> tuple[Path | None, TrainState]:
    """The interrupted run's last/ folder and its state, or (None, a fresh state). --restart
    discards an interrupted run first."""
    last = find_last(staging)
    if last and cfg.restart:
        if accelerator.is_main_process:
            shutil.rmtree(staging)
            ensure_dir(staging)
        last = None
    accelerator.wait_for_everyone()
    if not last:
        return None, TrainState(processes=accelerator.num_processes)
    saved = json.loads((last / "state.json").read_text())
    return last, resumable_state(saved, cfg, accelerator.num_processes, staging)


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


# --- saving ----------------------------------------------------------------------------------------------


def save_weights(model: Any, tokenizer: Any, folder: Path) -> None:
    model.save_pretrained(folder, safe_serialization=True)
    tokenizer.save_pretrained(folder)


def save_best(model: Any, tokenizer: Any, folder: Path) -> None:
    replace_folder(lambda path: save_weights(model, tokenizer, path), folder)


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


# --- the checkpoint --------------------------------------------------------------------------------------


def versions() -> dict[str, str]:
    found = {}
    for package in ("subgoal", "torch", "transformers", "tokenizers", "accelerate", "scienceworld"):
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            found[package] = "absent"
    return found


def weights_to_publish(staging: Path) -> Path:
    """best/ when dev metrics chose one, else last/."""
    return staging / "best" if (staging / "best" / "config.json").exists() else staging / "last"


def training_summary(
    cfg: TrainConfig, state: TrainState, total_steps: int, per_epoch: int, accelerator: Any
) -> dict[str, Any]:
    """The manifest's account of the run: how far it went, how fast, on what, and why it stopped."""
    return {
        "steps": state.step,
        "total_steps": total_steps,
        "epochs": round(state.step * cfg.grad_accum / per_epoch, 3),
        "seconds": round(state.seconds, 1),
        "examples_per_s": round(state.examples / max(state.seconds, 1e-9), 1),
        "tokens_per_s": round(state.tokens / max(state.seconds, 1e-9), 1),
        "stopped": state.stopped,
        "device": str(accelerator.device),
        "processes": accelerator.num_processes,
        "mixed_precision": accelerator.mixed_precision,
    }


def build_manifest(
    cfg: TrainConfig,
    state: TrainState,
    training: dict[str, Any],
    episodes: EpisodeSplits,
    train_data: Encoded,
    dev_data: Encoded | None,
    tokenizer: Any,
    params: int,
    weights: Path,
) -> dict[str, Any]:
    """manifest.json of the checkpoint: what was trained on what, how, and how well."""
    from subgoal.engine.rules.vocabulary import task_vocabulary  # what each task's plans use
    from subgoal.engine.subgoals import focus_heads, focus_heads_in_order  # for focus_allowed

    count = lambda ex: len(tokenizer(ex)["input_ids"])  # noqa: E731
    train_eps = episodes.train
    return {
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
        "input_format": INPUT_FORMAT,  # the layout of its inputs (examples.input_format_of)
        "data": {
            "train_files": [str(f) for f in cfg.train_files],
            "dev_files": [str(f) for f in cfg.dev_files],
            "tasks": cfg.tasks,
            "train_hash": episodes.train_hash,
            "dev_hash": episodes.dev_hash,
            "train": stats(train_data.examples, count),
            "dev": stats(dev_data.examples, count) if dev_data else None,
        },
        "metrics": state.best,
        "training": training,
        "config": {
            k: (str(v) if isinstance(v, Path) else v)
            for k, v in asdict(cfg).items()
            if k not in ("train_files", "dev_files")
        },
        "tokenizer_hash": checkpoints.file_hash([weights / "tokenizer.json"])
        if (weights / "tokenizer.json").exists()
        else None,
        "versions": versions(),
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }


def publish(
    staging: Path,
    weights: Path,
    manifest: dict[str, Any],
    final: Path,
    overwrite: bool,
    plans_from: list[Episode] | None = None,
    train_episodes: list[Episode] | None = None,
) -> None:
    """Build the checkpoint in staging/final/ (weights without optimizer state, the log, the train
    tasks' names from `train_episodes`, a planner's train plans from `plans_from` (counted, and by
    description), a flat model's actions by description, the manifest), rename it to `final` and
    remove the staging folder."""

    def build(path: Path) -> None:
        for item in weights.iterdir():
            if item.suffix != ".pt" and item.name != "state.json":
                shutil.copy2(item, path / item.name)
        shutil.copy2(staging / checkpoints.LOG, path / checkpoints.LOG)
        if train_episodes is not None:
            write_tasks(path, train_episodes)
        if plans_from is not None:
            write_plans(path, plans_from)
        if manifest.get("role") in ("planner", "flat") and train_episodes is not None:
            write_neighbours(path, train_episodes, manifest["role"])
        checkpoints.write_manifest(path, manifest)  # last: a folder without it is not a checkpoint

    replace_folder(build, staging / "final")
    if final.exists() and overwrite:
        shutil.rmtree(final)
    checkpoints.publish(staging / "final", final)
    shutil.rmtree(staging, ignore_errors=True)
