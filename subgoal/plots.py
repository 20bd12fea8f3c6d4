"""Plots drawn in the terminal: a checkpoint's training curves from its log (plotext), the
per-task scores of one run or two as bars (rich), and the bars as an SVG file for reports.

plotext is imported only when a plot is drawn (it stays out of `subgoal --help`)."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.bar import Bar
from rich.console import Console
from rich.table import Table

COLOURS = ("green", "magenta")  # the first run's bars, the second's

NOT_METRICS = {"time", "kind", "step", "best", "dev_loss", "epoch"}


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def training_curves(
    log: list[dict[str, Any]],
    width: int = 100,
    height: int = 16,
    colour: bool = True,
    fit_terminal: bool = True,
) -> str | None:
    """Loss (train, and dev at each evaluation) and the dev metrics over the epochs (examples seen
    over train examples, so roles with other batch sizes compare), or over the steps for a log
    without epochs, side by side; None when the log holds neither. `fit_terminal=False` draws at
    `width` even when the terminal (or its absence: 80 columns) is narrower, as a file wants."""
    x, axis = _x_axis(log)
    train = [(x(r), r["loss"]) for r in log if r.get("kind") == "train" and _number(r.get("loss"))]
    evals = [r for r in log if r.get("kind") == "eval" and _number(r.get("step"))]
    dev_loss = [(x(r), r["dev_loss"]) for r in evals if _number(r.get("dev_loss"))]
    metrics = sorted({k for r in evals for k, v in r.items() if k not in NOT_METRICS and _number(v)})
    if not (train or dev_loss or metrics):
        return None
    import plotext as plt

    plt.main().clear_figure()  # the whole figure: plotext keeps one per process, subplots and all
    plt.theme("clear")
    plt.limitsize(fit_terminal, fit_terminal)  # before plotsize, which it would otherwise override
    plt.plotsize(width, height)  # the whole figure; the subplots share it
    if metrics:
        plt.subplots(1, 2)
        plt.subplot(1, 1)
    plt.title("loss")
    plt.xlabel(axis)
    for points, label in ((train, "train"), (dev_loss, "dev")):
        if points:
            plt.plot([s for s, _ in points], [v for _, v in points], label=label, marker="braille")
    if metrics:
        plt.subplot(1, 2)
        plt.title("dev metrics")
        plt.xlabel(axis)
        for name in metrics:
            points = [(x(r), r[name]) for r in evals if _number(r.get(name))]
            plt.plot(
                [s for s, _ in points],
                [v for _, v in points],
                label=name.removeprefix("dev_"),
                marker="braille",
            )
    text = plt.build()
    plt.main().clear_figure()
    return text if colour else plt.uncolorize(text)


def _x_axis(log: list[dict[str, Any]]) -> tuple[Callable[[dict[str, Any]], float], str]:
    """Where a record goes on the x axis, and the axis's name: epochs when the train records carry
    them (an evaluation, which does not, at its step times the last epochs-per-step: a run's batch
    is fixed), else steps."""
    paced = [r for r in log if r.get("kind") == "train" and _number(r.get("epoch")) and r.get("step")]
    if not paced:
        return (lambda r: r["step"]), "step"
    per_step = paced[-1]["epoch"] / paced[-1]["step"]
    return (lambda r: r["epoch"] if _number(r.get("epoch")) else r["step"] * per_step), "epoch"


def score_bars(scores: dict[str, dict[str, float]], title: str = "score per task", width: int = 30) -> Table:
    """One row per task, one bar (0-100) per run: `scores` maps a run's name to {task: score}, the
    tasks in the first run's order (then any only the others played)."""
    runs = list(scores)
    tasks = list(dict.fromkeys(task for run in runs for task in scores[run]))
    table = Table(title=title, title_justify="left", box=None, pad_edge=False)
    table.add_column("task")
    for number, run in enumerate(runs):
        table.add_column(run, width=width + 1)
        table.add_column("", justify="right", style=COLOURS[number % len(COLOURS)])
    for task in tasks:
        row: list[Any] = [task]
        for number, run in enumerate(runs):
            value = scores[run].get(task)
            if value is None:
                row += ["", "-"]
            else:
                row += [Bar(100, 0, value, width=width, color=COLOURS[number % len(COLOURS)]), f"{value:.1f}"]
        table.add_row(*row)
    return table


def write_curves_svg(log: list[dict[str, Any]], path: Path, title: str, width: int = 110) -> bool:
    """The training curves as an SVG file (for reports); False, and nothing written, when the log
    holds none."""
    from rich.text import Text

    curves = training_curves(log, width=width, height=20, fit_terminal=False)
    if curves is None:
        return False
    write_svg(Text.from_ansi(curves), path, title, width=width)
    return True


def write_svg(renderable: Any, path: Path, title: str, width: int = 110) -> None:
    """`renderable` as rich draws it, saved as an SVG file (for reports beside results.json)."""
    console = Console(record=True, width=width, file=io.StringIO())
    console.print(renderable)
    path.write_text(console.export_svg(title=title), encoding="utf-8")
