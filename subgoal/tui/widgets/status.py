"""The header line: task, variation, agent, checkpoints, step, score, run state, elapsed."""

from __future__ import annotations

from textual.content import Content
from textual.events import Resize
from textual.widgets import Static

from subgoal.tui.state import EpisodeState
from subgoal.tui.widgets import css_beside

# (text, style, drop): what does not fit goes, highest `drop` first; 0 always stays (task id, step,
# score, run state), so that an 80-column terminal still says where the run is.
Part = tuple[str, str, int]


def format_elapsed(seconds: float | None) -> str:
    if seconds is None:
        return "--:--"
    seconds = max(0, int(seconds))
    minutes, secs = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


def fit(parts: list[Part], width: int) -> list[Part]:
    """The parts that fit in `width` columns, dropping the most dispensable first."""
    kept = list(parts)
    for drop in sorted({d for _, _, d in parts if d > 0}, reverse=True):
        if sum(len(text) for text, _, _ in kept) <= width:
            break
        kept = [part for part in kept if part[2] != drop]
    return kept


class StatusBar(Static):
    """One line; on a narrow terminal the checkpoints, elapsed time and names give way first."""

    DEFAULT_CSS = css_beside(__file__)

    def __init__(self, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(**kwargs)
        self._parts: list[Part] = []

    def show(self, state: EpisodeState, run: str, elapsed: float | None, extra: str = "") -> None:
        parts: list[Part] = []
        if state.started:
            parts += [(f" {state.task_id} ", "bold reverse", 0), (f" {state.task_name}", "bold", 3)]
            parts.append((f"  v{state.variation}", "", 1))
            if state.split:
                parts.append((f" {state.split}", "", 4))
            parts += [
                ("  ", "", 2),
                ("agent ", "$text-muted", 5),
                (state.agent or "?", "bold $text-accent", 2),
            ]
            if state.rules:
                parts += [("  rules ", "$text-muted", 6), (state.rules, "bold", 6)]
            if state.checkpoints:
                parts.append((f"  {state.checkpoints}", "$text-muted", 7))
        else:
            parts.append((" subgoal play ", "bold reverse", 0))
        total = f"/{state.total_steps}" if state.total_steps is not None else ""
        parts += [("  step ", "$text-muted", 0), (f"{state.taken}{total}", "bold", 0)]
        parts += [("  score ", "$text-muted", 0), (str(state.score), "bold", 0)]
        parts.append((f"  {run}", "bold $text-warning" if run.startswith("paused") else "bold", 0))
        if extra:
            parts.append((f"  {extra}", "$text-muted", 6))
        parts.append((f"  {format_elapsed(elapsed)}", "$text-muted", 8))
        self._parts = parts
        self._draw()

    def _draw(self) -> None:
        width = self.size.width or 10**6  # not laid out yet: everything; on_resize fits it
        self.update(Content.assemble(*[(text, style) for text, style, _ in fit(self._parts, width)]))

    def on_resize(self, event: Resize) -> None:
        self._draw()
