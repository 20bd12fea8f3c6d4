"""`subgoal play --plain`: the same events as the Textual app, printed line by line with rich.

Used when stdout is not a terminal (a pipe, a log, CI) or when asked. Imports no Textual.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape

from subgoal.engine.events import (
    EpisodeEnded,
    EpisodeStarted,
    Event,
    StepTaken,
    SubgoalEnded,
    SubgoalProposed,
    SubgoalStarted,
)
from subgoal.tui.state import grounding_note


def _one_line(text: str, width: int = 160) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def checkpoint_name(value: Any) -> str:
    """A checkpoint as EpisodeStarted.info records it (a dict from the manifest, or a string)."""
    if isinstance(value, dict):
        return str(value.get("name") or Path(str(value.get("path", "?"))).name)
    return str(value)


MARKS = {
    "taken": "✓",
    "valid": "·",
    "invalid": "✗",
    "avoided": "⊘",
    "focus": "⚠",
    "off-task": "⊘",
}  # as the why pane


class PlainPrinter:
    """Prints one line (or a few) per event."""

    def __init__(self, console: Console | None = None, observations: bool = True):
        self.console = console or Console()
        self.observations = observations

    def __call__(self, event: Event) -> None:
        def print_(line: str, highlight: bool = True) -> None:
            # Soft wrap: a long line stays one line in a pipe or a log (the terminal wraps it itself).
            self.console.print(line, highlight=highlight, soft_wrap=True)

        if isinstance(event, EpisodeStarted):
            extra = " ".join(
                f"{k} {checkpoint_name(event.info[k])}"
                for k in ("planner", "executor", "flat", "checkpoint")
                if event.info.get(k)
            )
            print_(
                f"[bold]{escape(event.task_id)} {escape(event.task_name)}[/] variation {event.variation} · "
                f"agent [cyan]{escape(event.agent)}[/]"
                + (f" · rules {escape(str(event.info['rules']))}" if event.info.get("rules") else "")
                + (f" · {escape(extra)}" if extra else ""),
                highlight=False,
            )
            print_(f"[dim]task:[/] {escape(_one_line(event.task_description))}", highlight=False)
        elif isinstance(event, SubgoalProposed):
            if event.names:
                best, *others = event.names
                also = f" (or {', '.join(others)})" if others else ""
                print_(f"[dim]? planner: {escape(best)}{escape(also)}[/]", highlight=False)
        elif isinstance(event, SubgoalStarted):
            print_(f"[magenta]▶ {escape(event.name)}[/]", highlight=False)
        elif isinstance(event, StepTaken):
            step = event.step
            reward = (
                f" [green]+{step.reward}[/]"
                if step.reward > 0
                else (f" [red]{step.reward}[/]" if step.reward < 0 else "")
            )
            print_(
                f"  {event.index:>3}  {escape(step.action)}{reward}  [dim]score[/] {step.score}",
                highlight=False,
            )
            note = grounding_note(step, event.why)
            if note:
                print_(f"       [dim]{escape(note)}[/]", highlight=False)
            why = event.why or {}
            beams = [b for b in why.get("beams") or () if isinstance(b, (list, tuple)) and len(b) == 2]
            if len(beams) > 1:
                shown = "  ".join(f"{MARKS.get(str(v), '?')} {b}" for b, v in beams)
                print_(f"       [dim]beams: {escape(shown)}[/]", highlight=False)
            scored = [c for c in why.get("scored") or () if isinstance(c, (list, tuple)) and len(c) == 2]
            if scored:
                shown = ", ".join(f"{c} {float(s):.3f}" for c, s in scored)
                print_(f"       [dim]scored: {escape(shown)}[/]", highlight=False)
            if self.observations and step.observation:
                print_(f"       [dim]{escape(_one_line(step.observation))}[/]", highlight=False)
        elif isinstance(event, SubgoalEnded):
            n = event.end - event.start
            length = f"{n} step{'' if n == 1 else 's'}"
            if event.ending in ("failed", "exhausted"):
                print_(f"[red]✗ {escape(event.name)}[/] [dim]({length}, {event.ending})[/]", highlight=False)
            else:
                ending = f", {event.ending}" if event.ending and event.ending != "done" else ""
                print_(f"[green]✓ {escape(event.name)}[/] [dim]({length}{ending})[/]", highlight=False)
        elif isinstance(event, EpisodeEnded):
            episode = event.episode
            colour = "green" if episode.solved else "yellow"
            line = (
                f"[bold {colour}]{escape(event.reason)}[/]: score {episode.final_score} "
                f"in {len(episode.steps)} steps"
            )
            if event.error:
                line += f" [red]({escape(event.error)})[/]"
            print_(line, highlight=False)
