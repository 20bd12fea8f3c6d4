"""`subgoal tasks`: the 30 tasks of the benchmark."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from subgoal.commands.options import TasksOption
from subgoal.console import out
from subgoal.engine.tasks import TEST_PER_TASK, resolve_tasks


def command(
    tasks: TasksOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """List the 30 tasks: id, name, variations per split, and the short/medium/long bucket."""
    run(tasks, as_json)


def run(tasks: list[str] | None, as_json: bool) -> None:
    chosen = resolve_tasks(tasks)
    if as_json:
        rows = [
            {
                "id": t.id,
                "name": t.name,
                "title": t.title,
                "train": t.train,
                "dev": t.dev,
                "test": t.test,
                "test_protocol": min(TEST_PER_TASK, t.test),
                "bucket": t.bucket,
                "mean_gold_length": t.mean_gold_length,
            }
            for t in chosen
        ]
        out.print_json(json.dumps(rows))
        return
    table = Table(title=f"ScienceWorld tasks ({len(chosen)})", title_justify="left")
    table.add_column("id", style="bold")
    table.add_column("name")
    table.add_column("train", justify="right")
    table.add_column("dev", justify="right")
    table.add_column("test", justify="right")
    table.add_column("bucket")
    table.add_column("gold len", justify="right")
    colour = {"short": "green", "medium": "yellow", "long": "red"}
    for t in chosen:
        table.add_row(
            t.id,
            t.name,
            str(t.train),
            str(t.dev),
            str(t.test),
            f"[{colour[t.bucket]}]{t.bucket}[/]",
            f"{t.mean_gold_length:.1f}",
        )
    out.print(table)
