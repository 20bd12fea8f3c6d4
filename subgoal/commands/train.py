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
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.progress import TextColumn
from rich.table import Table

from subgoal.commands.options import TasksOption
from subgoal.console import LINE_SECONDS, err, out, progress
from subgoal.engine.models import DEFAULT_DROPOUT
from subgoal.errors import TrainingError
from subgoal.workspace import Workspace, workspace_of

ROLES = ("planner", "executor", "flat")


def command(
    ctx: typer.Context,
    role: Annotated[str, typer.Argument(help="planner, executor, flat (the no-sub-goal baseline) or all.")],
    preset: Annotated[
        str, typer.Option("--preset", "-p", help="T5 from scratch: tiny (~8 M), small, base or large.")
    ] = "tiny",
    model: Annotated[
        Optional[str],
        typer.Option(
            "--model", "-m", help="Fine-tune an existing seq2seq model instead: a folder or hub id."
        ),
    ] = None,
    tag: Annotated[
        Optional[str], typer.Option(help="Checkpoint name is ROLE-TAG. Default: the preset or model name.")
    ] = None,
    teacher: Annotated[
        str, typer.Option(help="Which annotated files to read (annotated/SPLIT.TEACHER...).")
    ] = "rules",
    data: Annotated[
        Optional[list[Path]], typer.Option("--data", help="Train episode file(s) instead.")
    ] = None,
    dev: Annotated[Optional[list[Path]], typer.Option("--dev", help="Dev episode file(s) instead.")] = None,
    tasks: TasksOption = None,
    epochs: Annotated[float, typer.Option(min=0.01, help="Epochs over the train examples.")] = 10.0,
    max_steps: Annotated[Optional[int], typer.Option(min=1, help="Stop after N optimizer steps.")] = None,
    max_minutes: Annotated[
        Optional[float], typer.Option(min=0.01, help="Stop after N minutes of training.")
    ] = None,
    batch_size: Annotated[
        int, typer.Option("--batch-size", "-b", min=1, help="Examples per micro-batch.")
    ] = 16,
    grad_accum: Annotated[int, typer.Option(min=1, help="Micro-batches per optimizer step.")] = 1,
    lr: Annotated[
        Optional[float],
        typer.Option(min=0.0, help="Peak learning rate. Default 1e-3 (preset), 3e-4 (--model)."),
    ] = None,
    warmup: Annotated[int, typer.Option(min=0, help="Warm-up steps.")] = 100,
    dropout: Annotated[
        float,
        typer.Option(
            min=0.0, max=0.9, help="Dropout of a preset's model (a --model keeps its own); T5 uses 0.1."
        ),
    ] = DEFAULT_DROPOUT,
    eval_every: Annotated[int, typer.Option(min=1, help="Steps between dev evaluations and saves.")] = 200,
    patience: Annotated[
        int, typer.Option(min=0, help="Evaluations without improvement before stopping (0: never).")
    ] = 5,
    max_input_tokens: Annotated[int, typer.Option(min=16, help="Input token budget.")] = 1024,
    rename_share: Annotated[
        float,
        typer.Option(
            min=0.0,
            max=1.0,
            help="Share of the planner's and executor's train examples whose sub-goal names are swapped "
            "for other names of the same kind, everywhere in the example: teaches copying names.",
        ),
    ] = 0.0,
    task_balance: Annotated[
        float,
        typer.Option(
            min=0.0,
            max=1.0,
            help="Each task's share of an epoch, as its number of examples to this power: 1 as the "
            "data has it, 0 every task the same, 0.5 between (the protocol weighs tasks equally).",
        ),
    ] = 1.0,
    teleport: Annotated[
        bool,
        typer.Option(
            "--teleport/--walk",
            help="Learn navigation as one `teleport to ROOM` (valid everywhere under easy) or door by door, as gold paths walk.",
        ),
    ] = True,
    vocab_size: Annotated[int, typer.Option(min=64, help="BPE vocabulary of a preset's tokenizer.")] = 2048,
    seed: Annotated[int, typer.Option(help="Seed of initialisation, batch order and dropout.")] = 0,
    device: Annotated[str, typer.Option(help="auto, cpu or cuda.")] = "auto",
    threads: Annotated[
        Optional[int],
        typer.Option(
            min=1,
            help="Torch threads on the CPU. Default: OMP_NUM_THREADS if set, else the cores not busy "
            "when training starts (two trainings side by side: give each --threads 1).",
        ),
    ] = None,
    precision: Annotated[
        str,
        typer.Option(
            help="auto (bf16 autocast where the GPU or CPU has native bf16 — AMX, AVX-512 BF16 — else "
            "fp32), bf16 or fp32. Checkpoints are saved in fp32 either way."
        ),
    ] = "auto",
    compile_model: Annotated[
        bool,
        typer.Option(
            "--compile", help="torch.compile the training step: a few minutes to compile, then faster steps."
        ),
    ] = False,
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Replace a checkpoint of the same name.")
    ] = False,
    restart: Annotated[
        bool, typer.Option("--restart", help="Discard an interrupted run instead of resuming it.")
    ] = False,
) -> None:
    """Train the planner, the executor and/or the flat baseline into WORKSPACE/checkpoints/ROLE-TAG.

    An interrupted run resumes where it stopped when the same command runs again.
    Multi-GPU / multi-node: [b]accelerate launch -m subgoal train ...[/] (docs/training.md).
    """
    from subgoal.engine.tasks import resolve_tasks

    workspace = workspace_of(ctx)
    from subgoal.engine.precision import PRECISIONS

    if precision not in PRECISIONS:
        raise TrainingError(f"unknown precision {precision!r}; choose {', '.join(PRECISIONS)}")
    if role not in (*ROLES, "all"):
        raise TrainingError(f"unknown role {role!r}; choose planner, executor, flat or all")
    if model is None:
        from subgoal.engine.models import get_preset

        get_preset(preset)
    tag = tag or (Path(model.rstrip("/")).name.replace("/", "-") if model else preset)
    chosen = [t.id for t in resolve_tasks(tasks)] if tasks else None
    settings = dict(
        tasks=chosen, preset=preset, model=model, vocab_size=vocab_size,
        max_input_tokens=max_input_tokens, batch_size=batch_size, grad_accum=grad_accum,
        lr=lr if lr is not None else (3e-4 if model else 1e-3), warmup_steps=warmup, dropout=dropout,
        epochs=epochs, max_steps=max_steps, max_minutes=max_minutes, eval_every=eval_every,
        patience=patience, seed=seed, device=device, overwrite=overwrite, restart=restart,
        teleport=teleport, precision=precision, compile=compile_model, rename_share=rename_share,
        task_balance=task_balance,
    )  # fmt: skip
    roles = ROLES if role == "all" else (role,)
    use_threads(threads)
    configs = [
        make_config(workspace, r, tag, teacher, data, dev, **settings) for r in roles
    ]  # data checked first
    run(workspace, configs)


def use_threads(requested: int | None) -> None:
    """Set torch's CPU threads (cores.torch_threads); the run's start line reports them."""
    import torch

    from subgoal.engine.cores import torch_threads

    torch.set_num_threads(torch_threads(requested))


def default_files(workspace: Workspace, role: str, split: str, teacher: str) -> list[Path]:
    """The annotated file of `split`; the flat baseline uses the oracle file when nothing is annotated."""
    annotated = workspace.annotated_file(split, teacher)
    if role == "flat" and not annotated.exists():
        return [workspace.oracle_file(split)]
    return [annotated]


def make_config(
    workspace: Workspace,
    role: str,
    tag: str,
    teacher: str,
    data: list[Path] | None,
    dev: list[Path] | None,
    **settings: Any,
) -> Any:
    """The engine's TrainConfig for `role`: its files checked, `settings` as given."""
    from subgoal.engine.train_config import TrainConfig

    train_files = data or default_files(workspace, role, "train", teacher)
    missing = [f for f in train_files if not f.exists()]
    if missing:
        hint = "`subgoal collect`" if role == "flat" else "`subgoal collect` then `subgoal annotate`"
        raise TrainingError(f"no {role} training data at {missing[0]}; run {hint} first, or pass --data")
    dev_files = dev or default_files(workspace, role, "dev", teacher)
    if not all(f.exists() for f in dev_files):
        if dev:
            raise TrainingError(f"no dev data at {next(f for f in dev_files if not f.exists())}")
        err.print(f"[yellow]no dev data at {dev_files[0]}: training without evaluation or early stopping[/]")
        dev_files = []
    return TrainConfig(
        role=role, name=f"{role}-{tag}", train_files=list(train_files), dev_files=list(dev_files), **settings
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
        elif kind == "note":
            err.print(f"[yellow]{record['message']}[/]")

    def started(self, record: dict[str, Any]) -> None: ...

    def trained(self, record: dict[str, Any]) -> None: ...

    def evaluated(self, record: dict[str, Any]) -> None: ...


def start_line(record: dict[str, Any]) -> str:
    resumed = f" (resumed at step {record['resumed_at']})" if record["resumed_at"] else ""
    return (
        f"[bold]{record['name']}[/]: {record['train_examples']} train / {record['dev_examples']} dev "
        f"examples, {record['params'] / 1e6:.1f} M parameters, {record['device']} "
        f"x{record['processes']}{threads_text(record)} ({record['mixed_precision']}){resumed}"
    )


def threads_text(record: dict[str, Any]) -> str:
    threads = record.get("threads")
    return f", {threads} thread{'s' if threads != 1 else ''}" if record["device"] == "cpu" and threads else ""


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


def run(workspace: Workspace, configs: list[Any]) -> list[Any]:
    """Train each config in turn, then print what was trained."""
    from subgoal.engine.training import leave_process_group, train

    results = []
    for cfg in configs:
        with training_view(cfg) as view:
            results.append(train(cfg, workspace, on_log=view))
    leave_process_group()
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
