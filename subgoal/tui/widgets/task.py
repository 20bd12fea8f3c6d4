"""The task description, as the environment states it."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static

from subgoal.tui.widgets import css_beside


class TaskPane(Static):
    DEFAULT_CSS = css_beside(__file__)

    def on_mount(self) -> None:
        self.border_title = "task"

    def show(self, description: str) -> None:
        self.update(Content(" ".join(description.split()) or "…"))
