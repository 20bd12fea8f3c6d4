"""What the agent sees: the last observation, and look and inventory one key away (o / l / i);
in human mode also the valid actions (v)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.content import Content
from textual.reactive import reactive
from textual.widgets import Static

from subgoal.tui.state import EpisodeState
from subgoal.tui.widgets import css_beside

VIEWS = {"observation": "o", "look": "l", "inventory": "i", "valid": "v"}


class ObservationPane(VerticalScroll, can_focus=False):
    DEFAULT_CSS = css_beside(__file__)

    view: reactive[str] = reactive("observation")

    def __init__(self, *, with_valid: bool = False, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(**kwargs)
        self._views = [v for v in VIEWS if with_valid or v != "valid"]
        self._state: EpisodeState | None = None
        self._valid: list[str] = []

    def compose(self) -> ComposeResult:
        yield Static(id="observation-text")

    def on_mount(self) -> None:
        self._retitle()

    def watch_view(self) -> None:
        self._retitle()
        self._redraw()

    def _retitle(self) -> None:
        titles = []
        for name in self._views:
            key = VIEWS[name]
            label = f"{name} ({key})" if name != self.view else f"[b]{name}[/b]"
            titles.append(label if name == self.view else f"[dim]{label}[/dim]")
        self.border_title = " · ".join(titles)

    def show(self, state: EpisodeState) -> None:
        self._state = state
        self._redraw()

    def show_valid(self, actions: list[str]) -> None:
        self._valid = actions
        if self.view == "valid":
            self._redraw()

    def _redraw(self) -> None:
        state = self._state
        if self.view == "valid":
            text = "\n".join(self._valid) or "…"
        elif state is None:
            text = "…"
        else:
            text = getattr(state, self.view)
        self.query_one("#observation-text", Static).update(Content(text.strip() or "…"), layout=True)
        self.scroll_home(animate=False)
