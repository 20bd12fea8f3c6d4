"""`subgoal collect`: oracle episodes from gold paths."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.progress import TextColumn
from rich.table import Table

from subgoal.commands.options import SplitOption, TasksOption, WorkersOption
from subgoal.console import err, out, progress
from subgoal.engine.oracle import CollectReport, Job, collect, failed_path, plan_variations
from subgoal.engine.tasks import check_split, resolve_tasks
from subgoal.workspace import Workspace, ensure_dir, workspace_of


def command(
    ctx: typer.Context,
    split: SplitOption = "train",
    tasks: TasksOption = None,
    max_variations: Annotated[
        Optional[int], typer.Option("--max-variations", "-n", min=1, help="At most N variations per task.")
    ] = None,
    downsample: Annotated[
        bool,
        typer.Option(
            help="The paper's seeded downsampling of train/dev (9-x and 10-x: 50 variations, 3-3: 100)."
        ),
    ] = True,
    workers: WorkersOption = 1,
    output: Annotated[
        Optional[Path],
        typer.Option("--output", "-o", help="Episode file. Default: WORKSPACE/oracle/SPLIT.jsonl.gz."),
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the downsampling.")] = 0,
) -> None:
    """Replay ScienceWorld's gold paths into oracle episodes (resumable: re-run to continue).

    Every episode must reach score 100; one that does not is reported and written to a separate
    [i].failed[/] file, never into the training data. Exits 1 when some episodes could not be
    played (they are listed; the same command retries them).
    """
    report = run(workspace_of(ctx), split, tasks, max_variations, downsample, workers, output, seed)
    if report.errors:
        raise typer.Exit(1)


def run(
    workspace: Workspace,
    split: str,
    tasks: list[str] | None,
    max_variations: int | None,
    downsample: bool,
    workers: int,
    output: Path | None,
    seed: int,
) -> CollectReport:
    check_split(split)
    chosen = resolve_tasks(tasks)
    target = output or workspace.oracle_file(split)
    ensure_dir(target.parent)
    jobs = [
        Job(task.id, variation, split)
        for task in chosen
        for variation in plan_variations(task, split, max_variations, downsample, seed)
    ]
    started = time.perf_counter()
    with progress(TextColumn("{task.fields[rate]}")) as bar:
        bar_id = bar.add_task(f"collect {split}", total=len(jobs), rate="")
        steps = 0

        def on_skip(skipped: int) -> None:
            bar.update(bar_id, advance=skipped)

        def on_outcome(outcome) -> None:  # type: ignore[no-untyped-def]
            nonlocal steps
            if outcome.ok:
                ep = outcome.result
                steps += len(ep.steps)
                if not ep.solved:
                    err.print(
                        f"[yellow]gold path of {ep.task_id} v{ep.variation} ends at score "
                        f"{ep.final_score}, not 100: kept out of the training file[/]"
                    )
            else:
                job = outcome.item
                err.print(f"[red]{job.task_id} v{job.variation} failed: {outcome.error}[/]")
            elapsed = max(time.perf_counter() - started, 1e-9)
            bar.update(bar_id, advance=1, rate=f"{steps / elapsed:.0f} steps/s")

        report = collect(jobs, target, workers=workers, on_outcome=on_outcome, on_skip=on_skip)
    elapsed = time.perf_counter() - started

    table = Table(title=f"collect {split} → {target}", title_justify="left")
    for column in ("collected", "already there", "gold < 100", "errors", "steps", "seconds"):
        table.add_column(column, justify="right")
    table.add_row(
        str(report.collected),
        str(report.skipped),
        str(report.failed_gold),
        str(report.errors),
        str(report.steps),
        f"{elapsed:.1f}",
    )
    out.print(table)
    if report.failed_gold:
        err.print(f"episodes whose gold path failed are in {failed_path(target)}")
    if report.errors:
        err.print(f"[red]could not collect {report.errors} episodes[/]: run the same command to retry them")
    return report
