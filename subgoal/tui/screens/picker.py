"""The episode picker, for files with many episodes: filter by task (id, name or glob) and by
score, sort by score or by why it ended, then open one in the replay."""

from __future__ import annotations

import fnmatch
import re
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.content import Content
from textual.widgets import DataTable, Footer, Input, Select, Static

from subgoal.engine.episode import Episode
from subgoal.engine.events import end_reason
from subgoal.tui.screens.help import HelpfulScreen

SCORE_FILTERS: list[tuple[str, str]] = [
    ("any score", "any"),
    ("solved (100)", "solved"),
    ("partial (1-99)", "partial"),
    ("zero or failed", "zero"),
]


def score_matches(episode: Episode, which: str) -> bool:
    score = episode.clamped_score
    return {
        "solved": score >= 100,
        "partial": 0 < score < 100,
        "zero": score <= 0,
    }.get(which, True)


def task_matches(episode: Episode, query: str) -> bool:
    words = [w for w in re.split(r"[,\s]+", query.strip().lower()) if w]
    if not words:
        return True
    names = (episode.task_id.lower(), episode.task_name.lower())
    for word in words:
        pattern = word if any(c in word for c in "*?[") else f"{word}*"
        if any(fnmatch.fnmatch(name, pattern) for name in names):
            return True
    return False


def filter_episodes(episodes: list[Episode], task: str, score: str) -> list[int]:
    return [i for i, ep in enumerate(episodes) if task_matches(ep, task) and score_matches(ep, score)]


# The orders `s` cycles through: (name, key of an episode's index); sorted() keeps file order on ties.
SORTS: list[tuple[str, str]] = [
    ("file order", "file"),
    ("score, best first", "score-down"),
    ("score, worst first", "score-up"),
    ("end reason", "reason"),
]


def sort_episodes(episodes: list[Episode], shown: list[int], order: str) -> list[int]:
    if order == "score-down":
        return sorted(shown, key=lambda i: -episodes[i].final_score)
    if order == "score-up":
        return sorted(shown, key=lambda i: episodes[i].final_score)
    if order == "reason":
        return sorted(shown, key=lambda i: end_reason(episodes[i]))
    return list(shown)


class PickerScreen(HelpfulScreen):
    CSS_PATH = Path(__file__).with_name("picker.tcss")
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "focus_filter", "filter", key_display="/", tooltip="Type a task id, name or glob."),
        Binding("escape", "focus_table", "list", show=False, tooltip="Back to the list from a filter."),
        Binding("s", "sort", "sort", tooltip="Sort by file order, score (best or worst first), end."),
    ]
    help_title = "episodes"

    def __init__(self, episodes: list[Episode], source: str = "", **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(**kwargs)
        self.episodes = episodes
        self.source = source
        self.shown: list[int] = list(range(len(episodes)))
        self.order = 0  # index into SORTS

    def compose(self) -> ComposeResult:
        yield Static(id="picker-title")
        with Horizontal(id="picker-filters"):
            yield Input(placeholder="task: 4-2, boil, 4-*", id="task-filter")
            yield Select(SCORE_FILTERS, value="any", allow_blank=False, id="score-filter")
        yield DataTable(cursor_type="row", zebra_stripes=True, id="episodes")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#episodes", DataTable)
        for label, key, width in (
            ("#", "n", 4),
            ("task", "task", None),
            ("var", "var", 5),
            ("split", "split", 5),
            ("agent", "agent", None),
            ("steps", "steps", 5),
            ("sub-goals", "subgoals", 9),
            ("score", "score", 5),
            ("end", "end", None),
        ):
            justify = "right" if key in {"n", "var", "steps", "subgoals", "score"} else "left"
            table.add_column(Text(label, justify=justify), key=key, width=width)
        self.refilter()
        table.focus()

    @on(Input.Changed, "#task-filter")
    @on(Select.Changed, "#score-filter")
    def refilter(self) -> None:
        task = self.query_one("#task-filter", Input).value
        score = self.query_one("#score-filter", Select).value
        order_name, order = SORTS[self.order]
        self.shown = sort_episodes(self.episodes, filter_episodes(self.episodes, task, str(score)), order)
        table = self.query_one("#episodes", DataTable)
        table.clear()
        for i in self.shown:
            ep = self.episodes[i]
            style = "green" if ep.solved else ("red" if ep.final_score < 0 else "")
            table.add_row(
                Text(str(i), style="dim", justify="right"),
                f"{ep.task_id} {ep.task_name}",
                Text(str(ep.variation), justify="right"),
                ep.split,
                ep.agent,
                Text(str(len(ep.steps)), justify="right"),
                Text(str(len(ep.subgoals)), justify="right"),
                Text(str(ep.final_score), style=style, justify="right"),
                Text(end_reason(ep), style="dim"),
                key=str(i),
            )
        title = Content.assemble(
            (" episodes ", "bold reverse"),
            (f" {self.source}" if self.source else "", "bold"),
            (f"  {len(self.shown)} of {len(self.episodes)} shown", "$text-muted"),
            (f"  {order_name}" if order != "file" else "", "$text-accent"),
            ("  enter opens one", "$text-muted"),
        )
        self.query_one("#picker-title", Static).update(title)

    @on(Input.Submitted, "#task-filter")
    def action_focus_table(self) -> None:
        self.query_one("#episodes", DataTable).focus()

    def action_sort(self) -> None:
        self.order = (self.order + 1) % len(SORTS)
        self.refilter()

    def action_focus_filter(self) -> None:
        self.query_one("#task-filter", Input).focus()

    @on(DataTable.RowSelected, "#episodes")
    def _open(self, message: DataTable.RowSelected) -> None:
        if message.row_key.value is not None:
            self.app.open_replay(int(message.row_key.value))  # type: ignore[attr-defined]
