"""`subgoal play --replay A --beside B`: two runs' episodes side by side, paired by task and
variation. A small app of its own (the play app stays about one run); it reuses the picker, the
help overlay and the error screen."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from textual import work
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.content import Content
from textual.message import Message
from textual.widgets import Static
from textual.worker import Worker, WorkerState

from subgoal.engine.episode import read_episodes
from subgoal.errors import EpisodeFileError, SubgoalError
from subgoal.tui.beside import Pair, pair_episodes
from subgoal.tui.screens.beside import BesideScreen
from subgoal.tui.screens.error import ErrorScreen
from subgoal.tui.screens.picker import PickerScreen

THEMES = {"dark": "textual-dark", "light": "textual-light"}


def run_name(path: Path) -> str:
    """What to call a side: its run folder's name, or the file's name without .jsonl.gz."""
    if path.name == "episodes.jsonl.gz":
        return path.parent.name
    return path.name.removesuffix(".gz").removesuffix(".jsonl")


def side_names(left: Path, right: Path) -> tuple[str, str]:
    names = (run_name(left), run_name(right))
    return names if names[0] != names[1] else ("A", "B")


@dataclass
class PairsLoaded(Message):
    pairs: list[Pair]


class BesideApp(App[None]):
    CSS_PATH = "app.tcss"
    TITLE = "subgoal play --beside"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "quit"),
        Binding("t", "toggle_dark", "theme", show=False),
    ]

    def __init__(self, left: Path, right: Path, theme: str = "dark"):
        super().__init__()
        self.left, self.right = left, right
        self.names = side_names(left, right)
        self.theme = THEMES.get(theme, theme)
        self.pairs: list[Pair] = []
        self.error: SubgoalError | None = None  # quitting after it exits with its code, as --plain

    def compose(self) -> ComposeResult:
        yield Static(Content(f"reading {self.left} and {self.right} …"), id="loading")

    def on_mount(self) -> None:
        self.load()

    @work(thread=True, exclusive=True, group="load", exit_on_error=False)
    def load(self) -> None:
        self.post_message(PairsLoaded(pair_episodes(read_episodes(self.left), read_episodes(self.right))))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR and event.worker.error is not None:
            error = event.worker.error
            self.error = error if isinstance(error, SubgoalError) else EpisodeFileError(str(error))
            self.push_screen(ErrorScreen("cannot compare the two runs", str(self.error)))

    def on_pairs_loaded(self, message: PairsLoaded) -> None:
        self.pairs = message.pairs
        if not self.pairs:
            self.error = EpisodeFileError(f"{self.left} and {self.right} share no task variation")
            self.push_screen(
                ErrorScreen(
                    "nothing to compare",
                    f"{self.names[0]} and {self.names[1]} played no task variation in common",
                )
            )
        elif len(self.pairs) == 1:
            self.open_replay(0)
        else:
            self.show_picker()

    async def action_quit(self) -> None:
        self.exit(return_code=self.error.exit_code if self.error else 0)

    # -- what the picker and the screen call -----------------------------------------------------
    def open_replay(self, number: int) -> None:
        if isinstance(self.screen, BesideScreen):
            self.pop_screen()
        self.push_screen(BesideScreen(self.pairs[number], self.names, number, len(self.pairs)))

    def show_picker(self) -> None:
        """The list of pairs (each shown by its left episode): back to it, or a new one."""
        below = self.screen_stack[-2] if len(self.screen_stack) > 1 else None
        if isinstance(self.screen, BesideScreen) and isinstance(below, PickerScreen):
            self.pop_screen()
            return
        picker = PickerScreen([pair.left for pair in self.pairs], f"{self.names[0]} vs {self.names[1]}")
        if isinstance(self.screen, BesideScreen):
            self.switch_screen(picker)
        else:
            self.push_screen(picker)
