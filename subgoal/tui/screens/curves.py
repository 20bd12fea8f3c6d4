"""`T`: the training curves of the checkpoints the agent plays with (loss and dev metrics over the
steps, from each checkpoint's log), over the play screen."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static

from subgoal.plots import training_curves


def curves_text(paths: dict[str, Path], width: int) -> Text:
    """Each checkpoint's curves under its name; a line saying why where there are none."""
    from subgoal.checkpoints import read_log

    text = Text()
    if not paths:
        return Text("this agent plays with no checkpoint (the oracle, a person)", style="dim")
    for role, path in paths.items():
        text.append(f"{role} {path.name}\n", style="bold")
        try:
            drawn = training_curves(read_log(path), width=width, height=14)
        except (OSError, ValueError) as exc:  # a checkpoint moved away, a log cut short
            drawn, why = None, f"its log cannot be read: {exc}"
        else:
            why = "its log holds no training steps" if path.exists() else "it is not on this machine"
        if drawn:
            text.append_text(Text.from_ansi(drawn))
            text.append("\n")
        else:
            text.append(f"  {why}\n\n", style="dim")
    return text


class CurvesScreen(ModalScreen[None]):
    CSS_PATH = Path(__file__).with_name("curves.tcss")
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,T,q", "dismiss", "close", priority=True)]

    def __init__(self, paths: dict[str, Path], **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(**kwargs)
        self.paths = paths

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="curves-box"):
            yield Static(Content.assemble(("training curves", "bold")), id="curves-title")
            yield Static(id="curves-plots")
            yield Static(Content("escape, T or q closes this"), id="curves-close")

    def on_mount(self) -> None:
        width = max(40, min(120, self.app.size.width - 8))
        self.query_one("#curves-plots", Static).update(curves_text(self.paths, width))

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(result)
