"""A yes/no question before something that cannot be undone (restarting wipes the game so far)."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static


class ConfirmScreen(ModalScreen[bool]):
    """Dismissed with True on y or enter, False on n or escape; every other key is ignored, so
    text typed on after the question never answers it by accident."""

    CSS_PATH = Path(__file__).with_name("confirm.tcss")
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y,enter", "answer(True)", "yes", priority=True),
        Binding("n,escape", "answer(False)", "no", priority=True),
    ]

    def __init__(self, question: str, detail: str = "", **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(**kwargs)
        self.question, self.detail = question, detail

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-box"):
            yield Static(Content.assemble((self.question, "bold")), id="confirm-question")
            if self.detail:
                yield Static(Content(self.detail), id="confirm-detail")
            yield Static(
                Content.assemble(("y", "bold"), " / enter: yes    ", ("n", "bold"), " / escape: no"),
                id="confirm-keys",
            )

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)
