"""What the agent sees: the last observation, and look and inventory one key away (o / l / i);
in human mode also the valid actions; for an agent, why it took the selected action (y)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.content import Content
from textual.reactive import reactive
from textual.widgets import Static

from subgoal.tui.state import EpisodeState
from subgoal.tui.widgets import css_beside
from subgoal.tui.widgets.why import render_why

VIEWS = {"observation": "o", "look": "l", "inventory": "i", "valid": "v", "why": "y"}
SHORT = {"observation": "obs", "inventory": "inv"}  # the views not shown, in the title


class ObservationPane(VerticalScroll, can_focus=False):
    DEFAULT_CSS = css_beside(__file__)

    view: reactive[str] = reactive("observation")

    def __init__(self, *, views: dict[str, str] | None = None, **kwargs):  # type: ignore[no-untyped-def]
        """`views`: the views this pane offers, each with the key the screen binds to it."""
        super().__init__(**kwargs)
        self._keys = dict(views) if views is not None else {v: VIEWS[v] for v in VIEWS if v != "valid"}
        self._views = list(self._keys)
        self._state: EpisodeState | None = None
        self._valid: list[str] = []
        self._selected: int | None = None  # the step the why view explains (None: the last)

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
            key = self._keys[name]
            label = f"{SHORT.get(name, name)} {key}" if name != self.view else f"[b]{name}[/b]"
            titles.append(label if name == self.view else f"[dim]{label}[/dim]")
        self.border_title = " · ".join(titles)

    def show(self, state: EpisodeState) -> None:
        self._state = state
        self._redraw()

    def show_valid(self, actions: list[str]) -> None:
        self._valid = actions
        if self.view == "valid":
            self._redraw()

    def select_step(self, index: int | None) -> None:
        """The why view follows the row selected in the actions log."""
        if index != self._selected:
            self._selected = index
            if self.view == "why":
                self._redraw()

    def _redraw(self) -> None:
        state = self._state
        if self.view == "why" and state is not None:
            shown = render_why(state, self._selected)
        else:
            if self.view == "valid":
                text = "\n".join(self._valid) or "…"
            elif state is None or self.view == "why":
                text = "…"
            else:
                text = getattr(state, self.view)
            shown = Content(text.strip() or "…")
        self.query_one("#observation-text", Static).update(shown, layout=True)
        self.scroll_home(animate=False)
