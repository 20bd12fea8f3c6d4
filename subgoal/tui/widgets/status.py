"""The header line: task, variation, agent, checkpoints, step, score, run state, elapsed."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static

from subgoal.tui.state import EpisodeState
from subgoal.tui.widgets import css_beside


def format_elapsed(seconds: float | None) -> str:
    if seconds is None:
        return "--:--"
    seconds = max(0, int(seconds))
    minutes, secs = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


class StatusBar(Static):
    """One line; what does not fit is cut at the right (the elapsed clock stays first to go)."""

    DEFAULT_CSS = css_beside(__file__)

    def show(self, state: EpisodeState, run: str, elapsed: float | None, extra: str = "") -> None:
        parts: list[str | tuple[str, str]] = []
        if state.started:
            parts += [(f" {state.task_id} ", "bold reverse"), (f" {state.task_name}", "bold")]
            split = f" {state.split}" if state.split else ""
            parts += [(f"  v{state.variation}{split}", ""), ("  agent ", "$text-muted")]
            parts.append((state.agent or "?", "bold $text-accent"))
            if state.checkpoints:
                parts.append((f"  {state.checkpoints}", "$text-muted"))
        else:
            parts.append((" subgoal play ", "bold reverse"))
        total = f"/{state.total_steps}" if state.total_steps is not None else ""
        parts += [("  step ", "$text-muted"), (f"{state.taken}{total}", "bold")]
        parts += [("  score ", "$text-muted"), (str(state.score), "bold")]
        parts.append((f"  {run}", "bold $text-warning" if run.startswith("paused") else "bold"))
        if extra:
            parts.append((f"  {extra}", "$text-muted"))
        parts.append((f"  {format_elapsed(elapsed)}", "$text-muted"))
        self.update(Content.assemble(*parts))
