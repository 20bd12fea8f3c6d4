"""The layout every play screen shares: header, task, sub-goals and score on the left, actions and
observation on the right, footer of keys. Live and replay differ only in where the state comes from
and in their keys. The observation pane's `why` view explains the step selected in the actions log."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Footer

from subgoal.tui.screens.help import HelpfulScreen
from subgoal.tui.state import EpisodeState
from subgoal.tui.widgets.actions import ActionsLog
from subgoal.tui.widgets.observation import ObservationPane
from subgoal.tui.widgets.score import ScorePane
from subgoal.tui.widgets.status import StatusBar
from subgoal.tui.widgets.subgoals import SubgoalStack
from subgoal.tui.widgets.task import TaskPane

VIEW = Binding.Group("views")


class PlayScreen(HelpfulScreen):
    CSS_PATH = Path(__file__).with_name("play.tcss")
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "o,f2",
            "view('observation')",
            "observation",
            group=VIEW,
            tooltip="What the last action answered.",
        ),
        Binding(
            "l,f3",
            "view('look')",
            "look",
            group=VIEW,
            tooltip="The room, as `look around` sees it.",
        ),
        Binding(
            "i,f4",
            "view('inventory')",
            "inventory",
            group=VIEW,
            tooltip="What the agent carries.",
        ),
        Binding(
            "y",
            "view('why')",
            "why",
            group=VIEW,
            tooltip="The selected action's candidates, and why it was taken.",
        ),
        Binding(
            "T", "curves", "curves", show=False, tooltip="The training curves of the agent's checkpoints."
        ),
    ]
    # The observation pane's views and their keys (human mode adds the valid actions, on F-keys).
    views: ClassVar[dict[str, str]] = {"observation": "o", "look": "l", "inventory": "i", "why": "y"}

    def __init__(self, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(**kwargs)
        self.state = EpisodeState()

    def compose(self) -> ComposeResult:
        yield StatusBar(id="status")
        yield TaskPane(id="task")
        with Horizontal(id="panes"):
            with Vertical(id="left"):
                yield SubgoalStack(id="subgoals")
                yield ScorePane(id="score")
            with Vertical(id="right"):
                yield ActionsLog(id="actions")
                yield ObservationPane(id="observation", views=self.views)
        yield from self.compose_bottom()
        yield Footer(compact=True, show_command_palette=False)

    def compose_bottom(self) -> ComposeResult:
        yield from ()

    def on_mount(self) -> None:
        self.query_one(ActionsLog).focus()

    def on_resize(self) -> None:
        # A short or narrow terminal gives the task and the score chart less room, so that the
        # sub-goal and action panes still show rows (play.tcss: .-short, .-narrow).
        self.set_class(self.size.height < 22, "-short")
        self.set_class(self.size.width < 72, "-narrow")

    # -- drawing ---------------------------------------------------------------------------------
    def run_label(self) -> str:
        return ""

    def run_extra(self) -> str:
        return ""

    def elapsed(self) -> float | None:
        return None

    def hint(self) -> str | None:
        return None

    def redraw(self) -> None:
        state = self.state
        self.query_one(TaskPane).show(state.task_description)
        self.query_one(SubgoalStack).show(state, self.hint())
        self.query_one(ActionsLog).show(state)
        self.query_one(ObservationPane).show(state)
        self.query_one(ScorePane).show(state)
        self.redraw_status()

    def redraw_status(self) -> None:
        self.query_one(StatusBar).show(self.state, self.run_label(), self.elapsed(), self.run_extra())

    def action_curves(self) -> None:
        from subgoal.tui.screens.curves import CurvesScreen

        self.app.push_screen(CurvesScreen(self.state.checkpoint_paths))

    def action_view(self, view: str) -> None:
        pane = self.query_one(ObservationPane)
        pane.view = "observation" if pane.view == view else view

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        """The why view explains the selected step; the last row means "follow the newest"."""
        table = event.data_table
        if isinstance(table, ActionsLog):
            last = event.cursor_row >= table.row_count - 1
            self.query_one(ObservationPane).select_step(None if last else event.cursor_row)
