"""The actions log: one row per step (step, score, reward, action), with the generated text and the
grounding method under the action when the model's words were not the action taken."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.widgets import DataTable

from subgoal.engine.episode import Step
from subgoal.tui.state import EpisodeState, grounding_note
from subgoal.tui.widgets import css_beside


def action_cell(step: Step, why: dict[str, Any] | None = None) -> tuple[Text, int]:
    """The action, and the line saying how a generated text became it (when it differs)."""
    text = Text(step.action)
    note = grounding_note(step, why)
    if note:
        text.append("\n" + note, "dim italic")
        return text, 2
    return text, 1


def reward_cell(reward: int) -> Text:
    if reward > 0:
        return Text(f"+{reward}", "bold green", justify="right")
    if reward < 0:
        return Text(str(reward), "bold red", justify="right")
    return Text("·", "dim", justify="right")


class ActionsLog(DataTable):
    DEFAULT_CSS = css_beside(__file__)

    def __init__(self, *, mark: int | None = None, **kwargs):  # type: ignore[no-untyped-def]
        """`mark`: a step to flag (≠), where two runs side by side first differ."""
        super().__init__(cursor_type="row", zebra_stripes=True, show_cursor=True, **kwargs)
        self._shown: list[Step] = []
        self.mark = mark

    def on_mount(self) -> None:
        self.border_title = "actions"
        # The action goes last: on a narrow terminal only its tail is cut, never the numbers.
        self.add_column(Text("#", justify="right"), key="n", width=3)
        self.add_column(Text("score", justify="right"), key="score", width=5)
        self.add_column(Text("Δ", justify="right"), key="reward", width=4)
        self.add_column("action", key="action")

    def show(self, state: EpisodeState) -> None:
        steps = state.steps
        keep = 0
        while keep < min(len(steps), len(self._shown)) and steps[keep] is self._shown[keep]:
            keep += 1
        for index in range(len(self._shown) - 1, keep - 1, -1):
            self.remove_row(str(index))
        for index in range(keep, len(steps)):
            step = steps[index]
            action, height = action_cell(step, state.whys.get(index))
            self.add_row(
                Text(f"≠{index}", style="bold reverse", justify="right")
                if index == self.mark
                else Text(str(index), style="dim", justify="right"),
                Text(str(step.score), justify="right"),
                reward_cell(step.reward),
                action,
                height=height,
                key=str(index),
            )
        self._shown = list(steps)
        self.border_subtitle = f"{len(steps)} steps" if steps else ""
        if steps:
            self.move_cursor(row=len(steps) - 1, animate=False)
