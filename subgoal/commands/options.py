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

# The checkpoint slots of the agent kinds (engine/agent_kinds.py), as eval and play take them.
PlannerOption = Annotated[
    Optional[str],
    typer.Option(
        "--planner",
        help="Planner checkpoint, a name or path. Default: the newest planner (a human's hints: only one named).",
    ),
]
ExecutorOption = Annotated[
    Optional[str],
    typer.Option("--executor", help="Executor checkpoint, a name or path. Default: the newest executor."),
]
CheckpointOption = Annotated[
    Optional[str],
    typer.Option(
        "--checkpoint", help="The flat agent's checkpoint, a name or path. Default: the newest flat one."
    ),
]


RulesOption = Annotated[
    str,
    typer.Option(
        "--rules",
        metavar="LEVEL",
        help="Hand-written rules beside the models: [b]paper[/] (ground beams only), [b]general[/] "
        "(+ rules true of any task), [b]task[/] (+ rules keyed to task families); "
        "[b]'task without pin-focus+answer-guard'[/] switches named rules off, "
        "[b]'general with pin-focus'[/] one above the level (or a retired one) on. See [b]subgoal rules[/].",
    ),
]


def listed(names: list[str]) -> str:
    """ "a, b or c": choices as a help line says them."""
    return ", ".join(names[:-1]) + f" or {names[-1]}" if len(names) > 1 else "".join(names)
