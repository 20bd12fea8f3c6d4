"""`subgoal train planner|executor|flat|all`: annotated episodes → checkpoints.

Picks the data files (annotated train/dev of the workspace by default; the flat baseline falls back
to the oracle files), names the checkpoint `<role>-<tag>`, shows a progress bar fed by the training
loop's log records, and prints a summary table on stdout.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.progress import TextColumn
from rich.table import Table

from subgoal.console import err, out, progress
from subgoal.errors import TrainingError
from subgoal.workspace import Workspace

ROLES = ("planner", "executor", "flat")


@dataclass
class Options:
    """What the command line says, beyond the role."""

    preset: str = "tiny"
    model: str | None = None
    tag: str | None = None
    teacher: str = "rules"
    data: list[Path] | None = None
    dev: list[Path] | None = None
    tasks: list[str] | None = None
    epochs: float = 10.0
    max_steps: int | None = None
    max_minutes: float | None = None
    batch_size: int = 16
    grad_accum: int = 1
    lr: float | None = None
    warmup_steps: int = 100
    eval_every: int = 200
    patience: int = 5
    max_input_tokens: int = 1024
    vocab_size: int = 2048
    seed: int = 0
    device: str = "auto"
    overwrite: bool = False
    restart: bool = False
    teleport: bool = True


def default_files(workspace: Workspace, role: str, split: str, teacher: str) -> list[Path]:
    """The annotated file of `split`; the flat baseline uses the oracle file when nothing is annotated."""
    annotated = workspace.annotated_file(split, teacher)
    if role == "flat" and not annotated.exists():
        return [workspace.oracle_file(split)]
    return [annotated]


def tag_of(opts: Options) -> str:
    if opts.tag:
        return opts.tag
    if opts.model:
        return Path(opts.model.rstrip("/")).name.replace("/", "-")
    return opts.preset


def make_config(workspace: Workspace, role: str, opts: Options) -> Any:
    from subgoal.engine.tasks import resolve_tasks
    from subgoal.engine.training import TrainConfig

    train_files = opts.data or default_files(workspace, role, "train", opts.teacher)
    missing = [f for f in train_files if not f.exists()]
    if missing:
        hint = "`subgoal collect`" if role == "flat" else "`subgoal collect` then `subgoal annotate`"
        raise TrainingError(f"no {role} training data at {missing[0]}; run {hint} first, or pass --data")
    dev_files = opts.dev or default_files(workspace, role, "dev", opts.teacher)
    if not all(f.exists() for f in dev_files):
        if opts.dev:
            raise TrainingError(f"no dev data at {next(f for f in dev_files if not f.exists())}")
        err.print(f"[yellow]no dev data at {dev_files[0]}: training without evaluation or early stopping[/]")
        dev_files = []
    return TrainConfig(
        role=role,
        name=f"{role}-{tag_of(opts)}",
        train_files=list(train_files),
        dev_files=list(dev_files),
        tasks=[t.id for t in resolve_tasks(opts.tasks)] if opts.tasks else None,
        preset=opts.preset,
        model=opts.model,
        vocab_size=opts.vocab_size,
        max_input_tokens=opts.max_input_tokens,
        batch_size=opts.batch_size,
        grad_accum=opts.grad_accum,
        lr=opts.lr if opts.lr is not None else (3e-4 if opts.model else 1e-3),
        warmup_steps=opts.warmup_steps,
        epochs=opts.epochs,
        max_steps=opts.max_steps,
        max_minutes=opts.max_minutes,
        eval_every=opts.eval_every,
        patience=opts.patience,
        seed=opts.seed,
        device=opts.device,
        overwrite=opts.overwrite,
        restart=opts.restart,
        teleport=opts.teleport,
    )


class ProgressView:
    """Turns the loop's log records into a rich progress bar (stderr) and a line per evaluation."""

    def __init__(self, bar: Any):
        self.bar = bar
        self.task: Any = None

    def __call__(self, record: dict[str, Any]) -> None:
        kind = record["kind"]
        if kind == "start":
            resumed = f" (resumed at step {record['resumed_at']})" if record["resumed_at"] else ""
            err.print(
                f"[bold]{record['name']}[/]: {record['train_examples']} train / {record['dev_examples']} dev "
                f"examples, {record['params'] / 1e6:.1f} M parameters, {record['device']} "
                f"x{record['processes']} ({record['mixed_precision']}){resumed}"
            )
            self.task = self.bar.add_task(
                record["name"], total=record["total_steps"], completed=record["resumed_at"], stats="", dev=""
            )
        elif kind == "train" and self.task is not None:
            self.bar.update(
                self.task,
                completed=record["step"],
                stats=f"loss {record['loss']:.3f} · {record['examples_per_s']:.1f} ex/s · "
                f"{record['tokens_per_s']:.0f} tok/s",
            )
        elif kind == "eval" and self.task is not None:
            mark = " *" if record["best"] else ""
            self.bar.update(self.task, dev=f"dev {record['dev_loss']:.3f} / {record['dev_exact']:.1%}{mark}")
        elif kind == "done":
            err.print(f"{record['stopped']}")


def run(workspace: Workspace, role: str, opts: Options) -> list[Any]:
    from subgoal.engine.training import train

    if role not in (*ROLES, "all"):
        raise TrainingError(f"unknown role {role!r}; choose planner, executor, flat or all")
    if opts.model is None:
        from subgoal.engine.models import get_preset

        get_preset(opts.preset)
    roles = list(ROLES) if role == "all" else [role]
    configs = [make_config(workspace, r, opts) for r in roles]  # check every role's data up front
    results = []
    for cfg in configs:
        with progress(TextColumn("{task.fields[stats]}"), TextColumn("{task.fields[dev]}")) as bar:
            results.append(train(cfg, workspace, on_log=ProgressView(bar)))
    if not all(r.manifest for r in results):  # a non-main process of `accelerate launch`: the main prints
        return results
    table = Table(title=f"trained → {workspace.checkpoints}", title_justify="left")
    for column in ("checkpoint", "role", "train ex.", "steps", "dev loss", "dev exact", "ex/s", "minutes"):
        table.add_column(column, justify="left" if column in ("checkpoint", "role") else "right")
    for r in results:
        m = r.manifest
        best, training = m.get("metrics") or {}, m["training"]
        table.add_row(
            r.name,
            m["role"],
            str(m["data"]["train"]["examples"]),
            str(training["steps"]),
            f"{best['dev_loss']:.3f}" if best else "-",
            f"{best['dev_exact']:.1%}" if best else "-",
            f"{training['examples_per_s']:.1f}",
            f"{training['seconds'] / 60:.1f}",
        )
    out.print(table)
    return results
