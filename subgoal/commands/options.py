"""Options more than one command takes, declared once (each command's own are in its module)."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

TasksOption = Annotated[
    Optional[list[str]],
    typer.Option(
        "--tasks",
        "-t",
        help="Task ids, names or globs, comma-separated or repeated: [b]1-1[/], [b]boil[/], [b]'4-*'[/]. "
        "Default: all 30.",
    ),
]

WorkersOption = Annotated[
    int, typer.Option("--workers", "-j", min=1, envvar="SUBGOAL_WORKERS", help="Parallel JVMs.")
]

SplitOption = Annotated[str, typer.Option("--split", "-s", help="train, dev or test.")]


def listed(names: list[str]) -> str:
    """ "a, b or c": choices as a help line says them."""
    return ", ".join(names[:-1]) + f" or {names[-1]}" if len(names) > 1 else "".join(names)
