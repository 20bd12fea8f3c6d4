"""The score pane: the score now, and a chart of the score over the steps with the sub-goal
boundaries marked under it (┴ where a new sub-goal began)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.widget import Widget
from textual.widgets import Static

from subgoal.tui.state import EpisodeState
from subgoal.tui.widgets import css_beside

BLOCKS = " ▁▂▃▄▅▆▇█"


def columns_of(scores: list[int], width: int) -> list[tuple[int, int, int]]:
    """(score, first step, last step) per column: a step takes 1-3 columns, or steps share a column
    when there are more steps than columns (each column shows its last score). A step's second and
    third columns have first step -1, so that a boundary is marked once."""
    n = len(scores)
    if n == 0 or width <= 0:
        return []
    if n <= width:
        wide = max(1, min(3, width // n))  # few steps: wider bars
        return [(s, i if k == 0 else -1, i) for i, s in enumerate(scores) for k in range(wide)]
    cols = []
    for c in range(width):
        first, last = c * n // width, max(c * n // width, (c + 1) * n // width - 1)
        cols.append((scores[last], first, last))
    return cols


def chart_lines(scores: list[int], boundaries: list[int], width: int, height: int) -> list[Content]:
    """Rows of a bar chart (top first), then the axis with sub-goal starts marked."""
    cols = columns_of(scores, width)
    levels = height * 8
    bars: list[list[tuple[str, str]]] = [[] for _ in range(height)]
    axis: list[tuple[str, str]] = []
    marks = set(boundaries)
    for value, first, last in cols:
        filled = round(max(0, min(100, value)) / 100 * levels)
        if value > 0 and filled == 0:
            filled = 1
        marked = first >= 0 and any(first <= b <= last for b in marks)
        style = "$text-error" if value < 0 else ("$text-accent" if marked else "$text-primary")
        for row in range(height):
            below = (height - 1 - row) * 8
            part = max(0, min(8, filled - below))
            bars[row].append((BLOCKS[part], style))
        axis.append(("┴", "$text-accent") if marked else ("─", "$text-muted"))
    pad = max(0, width - len(cols))
    lines = [Content.assemble(*row, " " * pad) for row in bars]
    lines.append(Content.assemble(*axis, ("─" * pad, "$text-muted")))
    return lines


class ScoreChart(Widget):
    DEFAULT_CSS = "ScoreChart { height: 1fr; width: 1fr; }"

    def __init__(self, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(**kwargs)
        self._scores: list[int] = []
        self._boundaries: list[int] = []

    def plot(self, scores: list[int], boundaries: list[int]) -> None:
        self._scores, self._boundaries = list(scores), list(boundaries)
        self.refresh()

    def render(self) -> Content:
        width, height = self.content_size.width, self.content_size.height
        if width <= 0 or height <= 1:
            return Content("")
        return Content("\n").join(chart_lines(self._scores, self._boundaries, width, height - 1))


class ScorePane(Vertical):
    DEFAULT_CSS = css_beside(__file__)

    def compose(self) -> ComposeResult:
        yield Static(id="score-now")
        yield ScoreChart(id="score-chart")

    def on_mount(self) -> None:
        self.border_title = "score"

    def show(self, state: EpisodeState) -> None:
        score = state.score
        last = state.steps[-1].reward if state.steps else 0
        style = "bold $text-success" if score >= 100 else ("bold $text-error" if score < 0 else "bold")
        parts: list[str | tuple[str, str]] = [(f"{score:>4}", style), (" / 100", "$text-muted")]
        if state.finished:
            parts.append((f"  {state.end_reason}", "italic $text-muted"))
        elif last:
            parts.append((f"  {last:+d}", "$text-success" if last > 0 else "$text-error"))
        self.query_one("#score-now", Static).update(Content.assemble(*parts))
        self.query_one(ScoreChart).plot(state.scores, state.boundaries)
