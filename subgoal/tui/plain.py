"""`subgoal play --plain`: the same events as the Textual app, printed line by line with rich.

Used when stdout is not a terminal (a pipe, a log, CI) or when asked. Imports no Textual.
"""

from __future__ import annotations

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


def _one_line(text: str, width: int = 160) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


class PlainPrinter:
    """Prints one line (or a few) per event."""

    def __init__(self, console: Console | None = None, observations: bool = True):
        self.console = console or Console()
        self.observations = observations

    def __call__(self, event: Event) -> None:
        print_ = self.console.print
        if isinstance(event, EpisodeStarted):
            extra = " ".join(
                f"{k}={event.info[k]}" for k in ("planner", "executor", "checkpoint") if event.info.get(k)
            )
            print_(
                f"[bold]{escape(event.task_id)} {escape(event.task_name)}[/] variation {event.variation} · "
                f"agent [cyan]{escape(event.agent)}[/]" + (f" · {escape(extra)}" if extra else ""),
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
            generated = (step.generated or [None])[0]
            if generated and generated != step.action:
                print_(f"       [dim]generated {escape(generated)!r} ({escape(step.grounding or '?')})[/]")
            if self.observations and step.observation:
                print_(f"       [dim]{escape(_one_line(step.observation))}[/]", highlight=False)
        elif isinstance(event, SubgoalEnded):
            n = event.end - event.start
            print_(
                f"[green]✓ {escape(event.name)}[/] [dim]({n} step{'' if n == 1 else 's'})[/]", highlight=False
            )
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
