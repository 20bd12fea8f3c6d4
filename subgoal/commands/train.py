"""`subgoal train planner|executor|flat|all`: annotated episodes → checkpoints.

Picks the data files (annotated train/dev of the workspace by default; the flat baseline falls back
to the oracle files), names the checkpoint `<role>-<tag>`, shows a progress bar fed by the training
loop's log records (plain lines every 30 s when stderr is not a terminal), and prints a summary
table on stdout.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from rich.progress import TextColumn
from rich.table import Table

from subgoal.console import LINE_SECONDS, err, out, progress
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


class TrainingView:
    """Shows the loop's log records on stderr: a line when a run starts and when it stops; what
    comes between is the subclass's."""

    def __call__(self, record: dict[str, Any]) -> None:
        kind = record["kind"]
        if kind == "start":
            err.print(start_line(record))
            self.started(record)
        elif kind == "train":
            self.trained(record)
        elif kind == "eval":
            self.evaluated(record)
        elif kind == "done":
            err.print(f"{record['stopped']}")

    def started(self, record: dict[str, Any]) -> None: ...

    def trained(self, record: dict[str, Any]) -> None: ...

    def evaluated(self, record: dict[str, Any]) -> None: ...


def start_line(record: dict[str, Any]) -> str:
    resumed = f" (resumed at step {record['resumed_at']})" if record["resumed_at"] else ""
    return (
        f"[bold]{record['name']}[/]: {record['train_examples']} train / {record['dev_examples']} dev "
        f"examples, {record['params'] / 1e6:.1f} M parameters, {record['device']} "
        f"x{record['processes']} ({record['mixed_precision']}){resumed}"
    )


def dev_text(record: dict[str, Any]) -> str:
    mark = " *" if record["best"] else ""  # a new best
    return f"dev {record['dev_loss']:.3f} / {record['dev_exact']:.1%}{mark}"


class ProgressView(TrainingView):
    """On a terminal: a rich progress bar with the latest loss, speed and dev metrics."""

    def __init__(self, bar: Any):
        self.bar = bar
        self.task: Any = None

    def started(self, record: dict[str, Any]) -> None:
        self.task = self.bar.add_task(
            record["name"], total=record["total_steps"], completed=record["resumed_at"], stats="", dev=""
        )

    def trained(self, record: dict[str, Any]) -> None:
        if self.task is not None:
            self.bar.update(
                self.task,
                completed=record["step"],
                stats=f"loss {record['loss']:.3f} · {record['examples_per_s']:.1f} ex/s · "
                f"{record['tokens_per_s']:.0f} tok/s",
            )

    def evaluated(self, record: dict[str, Any]) -> None:
        if self.task is not None:
            self.bar.update(self.task, dev=dev_text(record))


class ProgressLines(TrainingView):
    """Without a terminal a bar shows nothing until the run ends (a log file stays empty for
    minutes): a plain line every `every` seconds instead, and one per evaluation. `clock` is
    injectable so that tests need not wait."""

    def __init__(
        self,
        every: float = LINE_SECONDS,
        max_minutes: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.every, self.max_minutes, self.clock = every, max_minutes, clock
        self.name, self.first_step, self.began, self.last_line = "", 0, 0.0, 0.0

    def started(self, record: dict[str, Any]) -> None:
        self.name, self.first_step = record["name"], record["resumed_at"]
        self.began = self.last_line = self.clock()

    def trained(self, record: dict[str, Any]) -> None:
        now = self.clock()
        if now - self.last_line >= self.every:
            self.last_line = now
            err.print(self.line(record, now - self.began), soft_wrap=True, highlight=False)

    def evaluated(self, record: dict[str, Any]) -> None:
        err.print(f"{self.name} step {record['step']} · {dev_text(record)}", soft_wrap=True, highlight=False)

    def line(self, record: dict[str, Any], elapsed: float) -> str:
        step, total = record["step"], record["total_steps"]
        return (
            f"{self.name} step {step}/{total} · {record['examples_per_s']:.1f} ex/s · "
            f"loss {record['loss']:.3f} · elapsed {clock_time(elapsed)} · eta {self.eta(step, total, elapsed)}"
        )

    def eta(self, step: int, total: int, elapsed: float) -> str:
        """From this session's pace; never past the time budget (counted from this session's
        start: a resumed run stops sooner)."""
        done = step - self.first_step
        if done <= 0 or elapsed <= 0:
            return "-:--:--"
        left = (total - step) * elapsed / done
        if self.max_minutes is not None:
            left = min(left, max(0.0, self.max_minutes * 60 - elapsed))
        return clock_time(left)


def clock_time(seconds: float) -> str:
    """h:mm:ss, as the bar shows times."""
    return str(timedelta(seconds=int(seconds)))


@contextmanager
def training_view(cfg: Any) -> Iterator[TrainingView]:
    """The bar where stderr is a terminal; plain lines every LINE_SECONDS where it is not."""
    if not err.is_terminal:
        yield ProgressLines(LINE_SECONDS, cfg.max_minutes)
        return
    with progress(TextColumn("{task.fields[stats]}"), TextColumn("{task.fields[dev]}")) as bar:
        yield ProgressView(bar)


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
        with training_view(cfg) as view:
            results.append(train(cfg, workspace, on_log=view))
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
