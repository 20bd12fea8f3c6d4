"""Where output goes: results on stdout, progress and messages on stderr."""

from __future__ import annotations

import os
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


def progress(*extra_columns: TextColumn) -> Progress:
    """The progress bar every long job uses (stderr, so stdout stays a clean result)."""
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
