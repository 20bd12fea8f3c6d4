"""Replay: a saved episode (oracle, annotated or an eval trajectory), stepped through as it was
played. The state at each position is the fold of the saved episode's events up to that step."""

from __future__ import annotations

from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.timer import Timer

from subgoal.engine.episode import Episode
from subgoal.tui.screens.base import PlayScreen
from subgoal.tui.state import ReplayCursor

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
    ]
    help_title = "replay"

    def __init__(self, episode: Episode, number: int = 0, count: int = 1, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(**kwargs)
        self.episode = episode
        self.number, self.count = number, count
        self.cursor = ReplayCursor(episode)
        self.state = self.cursor.state()
        self._autoplay: Timer | None = None

    def on_mount(self) -> None:
        self.redraw()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "episodes":
            return self.count > 1
        return True

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
        return f"episode {self.number + 1}/{self.count}" if self.count > 1 else ""

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
        self._stop_autoplay()
        self.app.show_picker()  # type: ignore[attr-defined]
