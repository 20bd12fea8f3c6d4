"""`subgoal play`: the Textual app. Live play, replay of an episode file, and play by hand.

The app owns the workers (like harlequin and posting): a thread that reads the episode file, and a
thread that drives a live run and posts each rollout event to the live screen. Worker errors are
handled in one place, `on_worker_state_changed`: a file that cannot be read becomes the error screen,
an agent that fails becomes a notification, and the app keeps running. Quitting after either exits
with the error's code (2), as `--plain` does, and `subgoal play` then prints its line.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import ClassVar

from textual import work
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.content import Content
from textual.widgets import Static
from textual.worker import Worker, WorkerState

from subgoal.engine.episode import Episode, read_intact
from subgoal.errors import AgentError, EpisodeFileError, SubgoalError
from subgoal.tui.messages import EngineEvent, EpisodesLoaded, RunFailed, RunStopped
from subgoal.tui.screens.error import ErrorScreen
from subgoal.tui.screens.live import LiveScreen
from subgoal.tui.screens.picker import PickerScreen
from subgoal.tui.screens.replay import ReplayScreen
from subgoal.tui.sources import LiveConfig, RunControl, Source, drive

THEMES = {"dark": "textual-dark", "light": "textual-light"}


def describe(error: BaseException) -> str:
    """One line for a person: our own errors say it themselves; anything else names its type."""
    if isinstance(error, SubgoalError):
        return str(error)
    return f"{type(error).__name__}: {error}"


class PlayApp(App[None]):
    CSS_PATH = "app.tcss"
    TITLE = "subgoal play"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "quit"),
        Binding("t", "toggle_dark", "theme", show=False),
    ]

    def __init__(
        self,
        *,
        live: LiveConfig | None = None,
        replay: Path | None = None,
        episode: int | None = None,
        theme: str = "dark",
        clock: Callable[[], float] = time.monotonic,
    ):
        super().__init__()
        if (live is None) == (replay is None):
            raise ValueError("give exactly one of live= or replay=")
        self.live, self.replay_path, self.episode_number = live, replay, episode
        self.clock = clock
        self.theme = THEMES.get(theme, theme)
        self.episodes: list[Episode] = []
        self._runs: dict[Worker[None], tuple[LiveScreen, int]] = {}
        self.error: SubgoalError | None = None  # what went wrong last: the exit code and line on quit

    def compose(self) -> ComposeResult:
        what = f"reading {self.replay_path} …" if self.replay_path else "starting …"
        yield Static(Content(what), id="loading")

    def on_mount(self) -> None:
        if self.live is not None:
            self.push_screen(LiveScreen(self.live))
        elif self.replay_path is not None:
            self.load_file(self.replay_path)

    # -- workers -----------------------------------------------------------------------------------
    @work(thread=True, exclusive=True, group="load", exit_on_error=False)
    def load_file(self, path: Path) -> None:
        episodes, error = read_intact(path)
        if error is not None:
            error.intact = episodes  # type: ignore[attr-defined]
            raise error
        self.post_message(EpisodesLoaded(episodes))

    async def action_quit(self) -> None:
        self.exit(return_code=self.error.exit_code if self.error else 0)

    def start_live(self, screen: LiveScreen, run_id: int, source: Source, control: RunControl) -> None:
        self.error = None  # a new run: an earlier one's failure no longer stands
        worker = self._run_live(screen, run_id, source, control)
        self._runs[worker] = (screen, run_id)

    @work(thread=True, exclusive=True, group="live", exit_on_error=False)
    def _run_live(self, screen: LiveScreen, run_id: int, source: Source, control: RunControl) -> None:
        try:
            drive(source, control, lambda event: screen.post_message(EngineEvent(run_id, event)))
        finally:
            screen.post_message(RunStopped(run_id))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """The one place worker errors land."""
        worker = event.worker
        if event.state in (WorkerState.SUCCESS, WorkerState.CANCELLED):
            self._runs.pop(worker, None)
        if event.state != WorkerState.ERROR or worker.error is None:
            return
        error = worker.error
        if worker.group == "load":
            intact = getattr(error, "intact", None) or []
            own = error if isinstance(error, SubgoalError) else None  # it names the file and line
            self.show_error(f"cannot open {self.replay_path}", describe(error), intact, own)
        elif worker.group == "live":
            self.error = error if isinstance(error, SubgoalError) else AgentError(describe(error))
            screen, run_id = self._runs.pop(worker, (None, 0))
            self.notify(describe(error), title="the agent stopped", severity="error", timeout=15)
            if screen is not None:
                screen.post_message(RunFailed(run_id, describe(error)))
        else:
            self.notify(describe(error), severity="error", timeout=15)

    # -- replay navigation -------------------------------------------------------------------------
    def on_episodes_loaded(self, message: EpisodesLoaded) -> None:
        self.open_episodes(message.episodes)

    def open_episodes(self, episodes: list[Episode]) -> None:
        self.episodes = episodes
        source = self.replay_path.name if self.replay_path else ""
        while isinstance(self.screen, ErrorScreen):
            self.pop_screen()
        if not episodes:
            self.show_error(f"cannot open {self.replay_path}", "the file holds no episodes")
        elif self.episode_number is not None:
            if not 0 <= self.episode_number < len(episodes):
                self.show_error(
                    f"no episode {self.episode_number} in {source}",
                    f"the file holds {len(episodes)} episodes, numbered 0 to {len(episodes) - 1}",
                )
            else:
                self.open_replay(self.episode_number)
        elif len(episodes) == 1:
            self.open_replay(0)
        else:
            self.push_screen(PickerScreen(episodes, source))

    def show_error(
        self,
        title: str,
        message: str,
        intact: list[Episode] | None = None,
        error: SubgoalError | None = None,
    ) -> None:
        """The error screen; the error stands (exit code 2 on quit) even if what is intact is opened."""
        self.error = error or EpisodeFileError(f"{title}: {message}")
        self.push_screen(ErrorScreen(title, message, intact))

    def open_replay(self, number: int) -> None:
        if isinstance(self.screen, ReplayScreen):
            self.pop_screen()
        self.push_screen(ReplayScreen(self.episodes[number], number, len(self.episodes)))

    def show_picker(self) -> None:
        if len(self.episodes) < 2:
            return
        below = self.screen_stack[-2] if len(self.screen_stack) > 1 else None
        if isinstance(below, PickerScreen):
            self.pop_screen()
        else:
            source = self.replay_path.name if self.replay_path else ""
            self.switch_screen(PickerScreen(self.episodes, source))
