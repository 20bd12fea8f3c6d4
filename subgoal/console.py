"""Where output goes: results on stdout, progress and messages on stderr."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from rich.console import Console
from rich.measure import Measurement
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)


class ResultConsole(Console):
    """stdout. Piped (no terminal, no COLUMNS), a table prints at its full width: rich would cut it
    to 80 columns, and `subgoal tasks | grep` would find `change-the-state-of-matter-…`."""

    def print(self, *objects: Any, **kwargs: Any) -> None:
        if kwargs.get("width") is None and not self.is_terminal and "COLUMNS" not in os.environ:
            from rich.table import Table

            tables = [o for o in objects if isinstance(o, Table)]
            if tables:
                wide = self.options.update(max_width=10_000)
                natural = max(Measurement.get(self, wide, t).maximum for t in tables)
                if natural > self.width:
                    # print(width=) is capped at the console's width: widen the console itself.
                    before, self._width = self._width, natural
                    try:
                        super().print(*objects, **kwargs)
                    finally:
                        self._width = before
                    return
        super().print(*objects, **kwargs)


out = ResultConsole()
err = Console(stderr=True)


LINE_SECONDS = 30.0  # between two progress lines when stderr is not a terminal


@dataclass
class _LineTask:
    description: str
    total: float
    completed: float = 0.0
    fields: dict[str, Any] = field(default_factory=dict)


class LineProgress:
    """The progress bar where stderr is not a terminal (a log file, CI): rich's bar would print
    nothing until the job ends, and an hour-long `eval > log` would show an empty file. Instead a
    plain line every `every` seconds, and a last one at the end. The calls our commands make of
    rich's Progress; `clock` is injectable so that tests need not wait."""

    def __init__(self, every: float = LINE_SECONDS, clock: Callable[[], float] = time.monotonic):
        self.every, self.clock = every, clock
        self.tasks: list[_LineTask] = []
        self.began = self.last_line = clock()
        self.stopped = False

    def __enter__(self) -> LineProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def add_task(self, description: str, total: float = 100.0, **fields: Any) -> int:
        self.tasks.append(_LineTask(description, total, fields=fields))
        return len(self.tasks) - 1

    def update(
        self, task_id: int, completed: float | None = None, advance: float | None = None, **fields: Any
    ) -> None:
        task = self.tasks[task_id]
        if completed is not None:
            task.completed = completed
        if advance is not None:
            task.completed += advance
        task.fields.update(fields)
        if not self.stopped and self.clock() - self.last_line >= self.every:
            self._print()

    def advance(self, task_id: int, advance: float = 1) -> None:
        self.update(task_id, advance=advance)

    def stop(self) -> None:
        if self.tasks and not self.stopped:
            self._print()
        self.stopped = True

    def _print(self) -> None:
        now = self.clock()
        self.last_line = now
        elapsed = now - self.began
        for task in self.tasks:
            done, total = task.completed, task.total
            eta = (total - done) * elapsed / done if done > 0 else None
            parts = [
                f"{task.description} {done:g}/{total:g}",
                *(str(v) for v in task.fields.values() if str(v).strip()),
                f"elapsed {timedelta(seconds=int(elapsed))}",
                f"eta {timedelta(seconds=int(eta))}" if eta is not None else "eta -:--:--",
            ]
            err.print(" · ".join(parts), soft_wrap=True, highlight=False, markup=False)


def progress(*extra_columns: TextColumn) -> Progress | LineProgress:
    """The progress bar every long job uses (stderr, so stdout stays a clean result); plain lines
    every LINE_SECONDS where stderr is not a terminal."""
    if not err.is_terminal:
        return LineProgress()
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TaskProgressColumn(),
        *extra_columns,
        TimeElapsedColumn(),
        TextColumn("eta"),
        TimeRemainingColumn(),
        console=err,
        transient=False,
    )
