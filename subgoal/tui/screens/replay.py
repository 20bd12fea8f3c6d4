"""Replay: a saved episode (oracle, annotated or an eval trajectory), stepped through as it was
played. The state at each position is the fold of the saved episode's events up to that step.

Besides stepping: jumps to the next or previous score change, to where it first went wrong, to the
next step whose action or observation holds a text (`/`), and to the file's other episodes."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.timer import Timer
from textual.widgets import Input

from subgoal.engine.episode import Episode
from subgoal.tui.screens.base import PlayScreen
from subgoal.tui.state import ReplayCursor
from subgoal.tui.widgets.actions import ActionsLog

AUTOPLAY_SECONDS = 0.5
STEP = Binding.Group("step", compact=True)
SUBGOAL = Binding.Group("sub-goal", compact=True)
ENDS = Binding.Group("start/end", compact=True)


class ReplayScreen(PlayScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "left,comma", "back", "back", key_display="←", priority=True, group=STEP, tooltip="One step back."
        ),
        Binding(
            "right,period",
            "forward",
            "step",
            key_display="→",
            priority=True,
            group=STEP,
            tooltip="One step on.",
        ),
        Binding(
            "p",
            "previous_subgoal",
            "prev",
            key_display="p",
            priority=True,
            group=SUBGOAL,
            tooltip="Back to where the previous sub-goal began.",
        ),
        Binding(
            "n",
            "next_subgoal",
            "next",
            key_display="n",
            priority=True,
            group=SUBGOAL,
            tooltip="On to where the current sub-goal ends.",
        ),
        Binding(
            "home,g", "start", "start", key_display="g", priority=True, group=ENDS, tooltip="The first step."
        ),
        Binding("end,G", "end", "end", key_display="G", priority=True, group=ENDS, tooltip="The last step."),
        Binding("space", "autoplay", "play", key_display="␣", tooltip="Step on by itself, or stop."),
        Binding("e,escape", "episodes", "episodes", tooltip="Back to the list of the file's episodes."),
        Binding(
            "slash",
            "search",
            "search",
            key_display="/",
            tooltip="The next step whose action or observation holds a text.",
        ),
        Binding(
            "c",
            "next_change",
            "next change",
            show=False,
            priority=True,
            tooltip="On to the next score change.",
        ),
        Binding(
            "C",
            "previous_change",
            "previous change",
            show=False,
            priority=True,
            tooltip="Back to the previous score change.",
        ),
        Binding(
            "f",
            "failure",
            "first failure",
            show=False,
            priority=True,
            tooltip="Where it first lost points (-100), or gave up a sub-goal.",
        ),
        Binding(
            "left_square_bracket",
            "episode(-1)",
            "previous episode",
            show=False,
            tooltip="The file's previous episode.",
        ),
        Binding(
            "right_square_bracket",
            "episode(1)",
            "next episode",
            show=False,
            tooltip="The file's next episode.",
        ),
    ]
    # Keys that move the replay; not while the search line is being typed in.
    MOVES = frozenset(
        {
            "back",
            "forward",
            "previous_subgoal",
            "next_subgoal",
            "start",
            "end",
            "next_change",
            "previous_change",
            "failure",
        }
    )
    help_title = "replay"

    def __init__(self, episode: Episode, number: int = 0, count: int = 1, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(**kwargs)
        self.episode = episode
        self.number, self.count = number, count
        self.cursor = ReplayCursor(episode)
        self.state = self.cursor.state()
        self._autoplay: Timer | None = None

    def compose_bottom(self) -> ComposeResult:
        yield Input(
            placeholder="search actions and observations; enter finds the next, escape closes",
            id="replay-search",
        )

    def on_mount(self) -> None:
        self.redraw()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("episodes", "episode"):
            return self.count > 1
        # Keys typed into the search line are text, not moves.
        return not (action in self.MOVES and isinstance(self.focused, Input))

    def _moved(self, moved: bool) -> None:
        if moved:
            self.state = self.cursor.state()
            self.redraw()
        elif self._autoplay is None:
            self.app.bell()

    @property
    def position(self) -> int:
        return self.cursor.position

    def run_label(self) -> str:
        return "replay ▶" if self._autoplay else "replay"

    def run_extra(self) -> str:
        # Numbered as -e and the picker's # column number it (from 0).
        return f"episode #{self.number} of {self.count}" if self.count > 1 else ""

    def elapsed(self) -> float | None:
        seconds = self.episode.meta.get("seconds")
        return float(seconds) if isinstance(seconds, (int, float)) else None

    # -- keys --------------------------------------------------------------------------------------
    def action_forward(self) -> None:
        self._moved(self.cursor.forward())

    def action_back(self) -> None:
        self._moved(self.cursor.back())

    def action_next_subgoal(self) -> None:
        self._moved(self.cursor.next_subgoal())

    def action_previous_subgoal(self) -> None:
        self._moved(self.cursor.previous_subgoal())

    def action_start(self) -> None:
        self._moved(self.cursor.start())

    def action_end(self) -> None:
        self._moved(self.cursor.end())

    def action_autoplay(self) -> None:
        if self._autoplay is not None:
            self._stop_autoplay()
            return
        if self.cursor.position >= self.cursor.length:
            self.cursor.start()
        self._autoplay = self.set_interval(AUTOPLAY_SECONDS, self._tick)
        self.redraw_status()

    def _tick(self) -> None:
        self._moved(self.cursor.forward())
        if self.cursor.position >= self.cursor.length:
            self._stop_autoplay()

    def _stop_autoplay(self) -> None:
        if self._autoplay is not None:
            self._autoplay.stop()
            self._autoplay = None
        self.redraw_status()

    def action_episodes(self) -> None:
        if isinstance(self.focused, Input):  # escape in the search line closes it
            self._close_search()
            return
        self._stop_autoplay()
        self.app.show_picker()  # type: ignore[attr-defined]

    def action_episode(self, offset: int) -> None:
        number = self.number + offset
        if 0 <= number < self.count:
            self._stop_autoplay()
            self.app.open_replay(number)  # type: ignore[attr-defined]
        else:
            self.app.bell()

    def action_next_change(self) -> None:
        self._moved(self.cursor.next_change())

    def action_previous_change(self) -> None:
        self._moved(self.cursor.previous_change())

    def action_failure(self) -> None:
        if self.cursor.failure() is None:
            self.notify("nothing went wrong in this episode", timeout=3)
            return
        self._moved(self.cursor.first_failure())

    # -- search --------------------------------------------------------------------------------
    def action_search(self) -> None:
        field = self.query_one("#replay-search", Input)
        field.display = True
        field.focus()

    @on(Input.Submitted, "#replay-search")
    def _search(self, message: Input.Submitted) -> None:
        if not message.value.strip():
            self._close_search()
        elif self.cursor.search(message.value):
            self._moved(True)
        else:
            self.notify(f"no step holds {message.value.strip()!r}", severity="warning", timeout=3)

    def _close_search(self) -> None:
        self.query_one("#replay-search", Input).display = False
        self.query_one(ActionsLog).focus()
