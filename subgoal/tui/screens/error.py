"""What the app shows instead of a traceback when it cannot open what it was given."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Footer, Static

from subgoal.engine.episode import Episode
from subgoal.tui.screens.help import HelpfulScreen


class ErrorScreen(HelpfulScreen):
    CSS_PATH = Path(__file__).with_name("error.tcss")
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q,escape", "app.quit", "quit"),
        Binding("o", "open_intact", "open what is intact"),
    ]
    help_title = "cannot open"

    def __init__(self, title: str, message: str, intact: list[Episode] | None = None, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(**kwargs)
        self.title_text, self.message = title, message
        self.intact = intact or []

    def compose(self) -> ComposeResult:
        with Vertical(id="error-box"):
            yield Static(
                Content.assemble(("✗ ", "bold $text-error"), (self.title_text, "bold")), id="error-title"
            )
            yield Static(Content(self.message), id="error-message")
            if self.intact:
                n = len(self.intact)
                yield Static(
                    Content(
                        f"The {n} episode{'s' if n != 1 else ''} before the damage can still be opened: press o."
                    ),
                    id="error-hint",
                )
            yield Static(Content("Press q to quit."), id="error-quit")
        yield Footer()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "open_intact":
            return bool(self.intact)
        return True

    def action_open_intact(self) -> None:
        self.app.open_episodes(self.intact)  # type: ignore[attr-defined]
