"""Two runs side by side: the same task variation as each played it (say hierarchical and flat of
one protocol), the steps aligned by number and the first step where they differ marked (≠, `d`
jumps there). Each side is a replay of its own episode; the keys move both."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widgets import DataTable, Footer, Static

from subgoal.engine.events import end_reason
from subgoal.tui.beside import Pair
from subgoal.tui.screens.help import HelpfulScreen
from subgoal.tui.state import EpisodeState, ReplayCursor
from subgoal.tui.widgets.actions import ActionsLog
from subgoal.tui.widgets.observation import ObservationPane

STEP = Binding.Group("step", compact=True)
ENDS = Binding.Group("start/end", compact=True)
VIEW = Binding.Group("views")
SIDES = ("left", "right")


class BesideScreen(HelpfulScreen):
    CSS_PATH = Path(__file__).with_name("beside.tcss")
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "left,comma",
            "back",
            "back",
            key_display="←",
            priority=True,
            group=STEP,
            tooltip="Both one step back.",
        ),
        Binding(
            "right,period",
            "forward",
            "step",
            key_display="→",
            priority=True,
            group=STEP,
            tooltip="Both one step on.",
        ),
        Binding(
            "home,g", "start", "start", key_display="g", priority=True, group=ENDS, tooltip="The first step."
        ),
        Binding(
            "end,G",
            "end",
            "end",
            key_display="G",
            priority=True,
            group=ENDS,
            tooltip="The last step of the longer.",
        ),
        Binding(
            "d", "divergence", "where they part", tooltip="Just after the first step where the two differ."
        ),
        Binding(
            "o", "view('observation')", "observation", group=VIEW, tooltip="What the last action answered."
        ),
        Binding("l", "view('look')", "look", group=VIEW, tooltip="The room, as `look around` sees it."),
        Binding("i", "view('inventory')", "inventory", group=VIEW, tooltip="What the agent carries."),
        Binding(
            "y",
            "view('why')",
            "why",
            group=VIEW,
            tooltip="The selected action's candidates, and why it was taken.",
        ),
        Binding(
            "left_square_bracket",
            "pair(-1)",
            "previous pair",
            show=False,
            tooltip="The previous task variation.",
        ),
        Binding(
            "right_square_bracket", "pair(1)", "next pair", show=False, tooltip="The next task variation."
        ),
        Binding(
            "e,escape", "pairs", "pairs", tooltip="Back to the list of task variations both runs played."
        ),
    ]
    help_title = "side by side"

    def __init__(self, pair: Pair, names: tuple[str, str], number: int = 0, count: int = 1, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(**kwargs)
        self.pair, self.names = pair, names
        self.number, self.count = number, count
        self.cursors = {"left": ReplayCursor(pair.left), "right": ReplayCursor(pair.right)}
        self.length = max(cursor.length for cursor in self.cursors.values())
        self.parts = pair.divergence
        self.position = 0

    def compose(self) -> ComposeResult:
        yield Static(id="beside-header")
        with Horizontal(id="beside-sides"):
            for side in SIDES:
                with Vertical(classes="side"):
                    yield Static(id=f"title-{side}", classes="side-title")
                    yield ActionsLog(id=f"actions-{side}", mark=self.parts)
                    yield ObservationPane(
                        id=f"observation-{side}",
                        views={"observation": "o", "look": "l", "inventory": "i", "why": "y"},
                    )
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self.query_one("#actions-left", ActionsLog).focus()
        self.redraw()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("pairs", "pair"):
            return self.count > 1
        if action == "divergence":
            return self.parts is not None
        return True

    # -- drawing ---------------------------------------------------------------------------------
    def side_state(self, side: str) -> EpisodeState:
        cursor = self.cursors[side]
        cursor.go(min(self.position, cursor.length))
        return cursor.state()

    def redraw(self) -> None:
        pair = self.pair
        parts: list[str | tuple[str, str]] = [
            (f" {pair.left.task_id} ", "bold reverse"),
            (f" {pair.left.task_name}", "bold"),
            (f"  v{pair.left.variation}", ""),
            ("  step ", "$text-muted"),
            (f"{self.position}/{self.length}", "bold"),
        ]
        if self.parts is None:
            parts.append(("  the same all the way", "$text-success"))
        else:
            parts += [("  part at step ", "$text-muted"), (f"≠{self.parts}", "bold $text-warning")]
        if self.count > 1:
            parts.append((f"  pair #{self.number} of {self.count}", "$text-muted"))
        self.query_one("#beside-header", Static).update(Content.assemble(*parts))
        for side, name in zip(SIDES, self.names, strict=True):
            state = self.side_state(side)
            episode = self.cursors[side].episode
            ended = f"  {end_reason(episode)}" if state.finished else ""
            self.query_one(f"#title-{side}", Static).update(
                Content.assemble(
                    (f" {name} ", "bold reverse"),
                    (f" {episode.agent}", "bold $text-accent"),
                    ("  score ", "$text-muted"),
                    (str(state.score), "bold"),
                    (f" → {episode.final_score}", "$text-muted"),
                    (ended, "italic $text-muted"),
                )
            )
            self.query_one(f"#actions-{side}", ActionsLog).show(state)
            self.query_one(f"#observation-{side}", ObservationPane).show(state)

    def _go(self, position: int) -> None:
        position = max(0, min(self.length, position))
        if position == self.position:
            self.app.bell()
            return
        self.position = position
        self.redraw()

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        table = event.data_table
        if isinstance(table, ActionsLog) and table.id:
            side = table.id.removeprefix("actions-")
            last = event.cursor_row >= table.row_count - 1
            self.query_one(f"#observation-{side}", ObservationPane).select_step(
                None if last else event.cursor_row
            )

    # -- keys --------------------------------------------------------------------------------------
    def action_forward(self) -> None:
        self._go(self.position + 1)

    def action_back(self) -> None:
        self._go(self.position - 1)

    def action_start(self) -> None:
        self._go(0)

    def action_end(self) -> None:
        self._go(self.length)

    def action_divergence(self) -> None:
        if self.parts is not None:
            self._go(self.parts + 1)

    def action_view(self, view: str) -> None:
        for side in SIDES:
            pane = self.query_one(f"#observation-{side}", ObservationPane)
            pane.view = "observation" if pane.view == view else view

    def action_pair(self, offset: int) -> None:
        number = self.number + offset
        if 0 <= number < self.count:
            self.app.open_replay(number)  # type: ignore[attr-defined]
        else:
            self.app.bell()

    def action_pairs(self) -> None:
        self.app.show_picker()  # type: ignore[attr-defined]
