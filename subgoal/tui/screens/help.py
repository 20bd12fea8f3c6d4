"""`?` (F1 where typing is expected): an overlay of the keys of the screen below, each with what it
does, read from the screen's own bindings so that it never disagrees with them."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.keys import key_to_character
from textual.screen import ModalScreen, Screen
from textual.widgets import DataTable, Static

HELP = Binding(
    "question_mark,f1",
    "help",
    "help",
    tooltip="This list of keys.",
)


def key_rows(screen: Screen) -> list[tuple[str, str, str]]:
    """(keys, what, why) for each enabled binding of `screen` and the app, one row per action:
    those the footer shows or that explain themselves (a tooltip), and the app's own; a focused
    widget's inner keys (a table's cursor moves) are left out."""
    app = screen.app
    rows: dict[str, dict[str, Any]] = {}
    for key, active in screen.active_bindings.items():
        binding = active.binding
        if not active.enabled or not binding.description:
            continue
        if not (binding.show or binding.tooltip or active.node is app):
            continue
        row = rows.setdefault(
            binding.description.lower(),
            {"shown": [], "hidden": [], "what": binding.description, "why": binding.tooltip},
        )
        if binding.show and not row["shown"]:  # the footer's wording wins over a hidden twin's ("Quit")
            row["what"], row["why"] = binding.description, binding.tooltip or row["why"]
        char = key_to_character(key)  # "rightsquarebracket" reads as "]"
        display = (char if char and char.strip() else None) or app.get_key_display(
            dataclasses.replace(binding, key=key, key_display=None)
        )
        if display not in row["shown"] + row["hidden"]:
            row["shown" if binding.show else "hidden"].append(display)
    return [(" ".join(row["shown"] + row["hidden"]), row["what"], row["why"]) for row in rows.values()]


class HelpScreen(ModalScreen[None]):
    """The keys of the screen it was opened over; any of ? F1 escape q closes it."""

    CSS_PATH = Path(__file__).with_name("help.tcss")
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,question_mark,f1,q", "dismiss", "close", priority=True),
    ]

    def __init__(self, title: str, rows: list[tuple[str, str, str]], **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(**kwargs)
        self.title_text, self.rows = title, rows

    def compose(self) -> ComposeResult:
        with Vertical(id="help-box"):
            yield Static(Content.assemble(("keys · ", "bold"), (self.title_text, "bold $text-accent")))
            table: DataTable[Text] = DataTable(id="help-keys", cursor_type="none", zebra_stripes=True)
            table.add_column("key", key="key")
            table.add_column("does", key="does")
            table.add_column("", key="why")
            for keys, what, why in self.rows:
                table.add_row(Text(keys, "bold"), Text(what), Text(why, "dim"))
            yield table
            yield Static(Content("escape, ? or q closes this"), id="help-close")

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(result)


class HelpfulScreen(Screen):
    """A screen whose `?` opens the overlay of its keys. Help and quit come first in its footer, so
    that a narrow terminal, which cuts the footer's end, still shows them."""

    BINDINGS: ClassVar[list[BindingType]] = [
        HELP,
        Binding("q", "app.quit", "quit", tooltip="Leave the app."),
    ]
    help_title = "this screen"

    def action_help(self) -> None:
        self.app.push_screen(HelpScreen(self.help_title, key_rows(self)))
