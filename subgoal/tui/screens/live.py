"""Live play: an agent (or a person) plays in a worker thread; this screen folds its events.

Keys act between two environment steps (see `RunControl`): pause/resume, single step, speed, restart
(after asking), save. The worker belongs to the app, which reports its errors; this screen only shows
the outcome.

In human mode the action line keeps the focus from start to end, even while the game computes, so
typed text is never taken for a shortcut: Textual drops the bindings of keys a focused Input
consumes, which leaves each key's second, untypable binding (F1 help, F2-F5 views, ^r restart, ^s
save, ^q quit). Enter before the game is ready sends the line as soon as it is.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.suggester import SuggestFromList
from textual.widgets import Input, Label

from subgoal.engine.episode import write_episodes
from subgoal.engine.events import EpisodeEnded
from subgoal.tui.messages import ActionWanted, EngineEvent, RunFailed, RunStopped
from subgoal.tui.screens.base import VIEW, PlayScreen
from subgoal.tui.screens.confirm import ConfirmScreen
from subgoal.tui.sources import SPEEDS, HumanLink, LiveConfig, RunControl
from subgoal.tui.state import EpisodeState
from subgoal.tui.widgets.actions import ActionsLog
from subgoal.tui.widgets.observation import ObservationPane

SPEED = Binding.Group("speed", compact=True)
HUMAN_VIEWS = {"observation": "F2", "look": "F3", "inventory": "F4", "valid": "F5"}
AGENT_ONLY = {"pause", "step", "slower", "faster"}


class ActionInput(Input):
    """The human's action line: tab takes the completion offered from the valid actions."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("tab", "complete", "complete", show=False, priority=True)
    ]

    def action_complete(self) -> None:
        if self._suggestion:
            self.value = self._suggestion
            self.cursor_position = len(self.value)
        else:
            self.screen.focus_next()


class LiveScreen(PlayScreen):
    help_title = "live play"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("space", "pause", "pause", key_display="␣", tooltip="Pause the agent, or let it go on."),
        Binding("s", "step", "step", tooltip="Pause, and let exactly one step through."),
        Binding(
            "minus", "slower", "slower", key_display="-", group=SPEED, tooltip="More time between steps."
        ),
        Binding(
            "plus,equals_sign",
            "faster",
            "faster",
            key_display="+",
            group=SPEED,
            tooltip="Less time between steps.",
        ),
        Binding(
            "r,ctrl+r",
            "restart",
            "restart",
            tooltip="Play the episode again from the start (asks first).",
        ),
        Binding(
            "w,ctrl+s",
            "save",
            "save",
            tooltip="Write the episode so far to a file, for --replay.",
        ),
        Binding("v,f5", "view('valid')", "valid", group=VIEW, tooltip="The actions the game accepts now."),
        Binding("ctrl+q", "quit", "quit", priority=True, tooltip="Leave the app (q would be typed)."),
    ]

    def __init__(self, config: LiveConfig, **kwargs):  # type: ignore[no-untyped-def]
        if config.human:
            self.views = HUMAN_VIEWS
        super().__init__(**kwargs)
        self.config = config
        self.run_id = 0
        self.control: RunControl | None = None
        self.link: HumanLink | None = None
        self.delay = 0.0 if config.human else config.delay
        self.started_at: float | None = None
        self.ended_at: float | None = None
        self.failure: str | None = None
        self.stopped = False
        self._hint: str | None = None
        self._waiting = False

    def compose_bottom(self) -> ComposeResult:
        if self.config.human:
            with Horizontal(id="action-row"):
                yield Label("›", id="action-prompt", classes="-busy")
                yield ActionInput(placeholder="type an action (tab completes) · F1 keys", id="action-input")

    def on_mount(self) -> None:
        if self.config.human:
            self.query_one(ActionsLog).can_focus = False  # a click must not take the focus from typing
            self.call_after_refresh(self.query_one(ActionInput).focus)
        self.start_run()
        self.set_interval(1.0, self.redraw_status)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        human = self.config.human
        if action in AGENT_ONLY:
            return not human
        if action == "quit":  # the app's q quits, except where q is typed
            return human
        if action == "view" and parameters:
            return parameters[0] != ("why" if human else "valid")
        return True

    async def action_quit(self) -> None:
        await self.app.action_quit()

    def on_unmount(self) -> None:
        if self.control:
            self.control.stop()

    # -- the run -----------------------------------------------------------------------------------
    def start_run(self) -> None:
        if self.control:
            self.control.stop()
        self.run_id += 1
        self.state = EpisodeState()
        self.failure, self.stopped, self._hint, self._waiting = None, False, None, False
        self._send_when_ready = False
        self.control = RunControl(delay=self.delay, paused=self.config.paused and not self.config.human)
        self.link = HumanLink(self._announcer(self.run_id)) if self.config.human else None
        self.started_at, self.ended_at = self.app.clock(), None  # type: ignore[attr-defined]
        source = self.config.make_source(self.link)
        self.app.start_live(self, self.run_id, source, self.control)  # type: ignore[attr-defined]
        self.redraw()

    def _announcer(self, run_id: int):  # type: ignore[no-untyped-def]
        def announce(valid_actions: list[str], hint: str | None) -> None:  # on the worker thread
            self.post_message(ActionWanted(run_id, valid_actions, hint))

        return announce

    @on(EngineEvent)
    def _event(self, message: EngineEvent) -> None:
        if message.run_id != self.run_id:
            return
        self.state.apply(message.event)
        if isinstance(message.event, EpisodeEnded):
            self.ended_at = self.app.clock()  # type: ignore[attr-defined]
        self.redraw()

    @on(RunStopped)
    def _stopped(self, message: RunStopped) -> None:
        if message.run_id == self.run_id:
            self.stopped = True
            if self.ended_at is None:
                self.ended_at = self.app.clock()  # type: ignore[attr-defined]
            self._set_input(False)
            self.redraw_status()

    @on(RunFailed)
    def _failed(self, message: RunFailed) -> None:
        if message.run_id == self.run_id:
            self.failure = message.error
            self._stopped(RunStopped(message.run_id))

    @on(ActionWanted)
    def _action_wanted(self, message: ActionWanted) -> None:
        if message.run_id != self.run_id:
            return
        self._hint, self._waiting = message.hint, True
        field = self.query_one(ActionInput)
        field.suggester = SuggestFromList(message.valid_actions, case_sensitive=False)
        self.query_one(ObservationPane).show_valid(message.valid_actions)
        self._set_input(True)
        self.redraw()
        if self._send_when_ready:
            self._send(field.value)

    @on(Input.Submitted, "#action-input")
    def _action_typed(self, message: Input.Submitted) -> None:
        self._send(message.value)

    def _send(self, typed: str) -> None:
        """Submit the typed action, or keep it to send as soon as the game asks for one."""
        action = " ".join(typed.split())
        self._send_when_ready = False
        if not action:
            return
        if not self._waiting:
            if not self.stopped:
                self._send_when_ready = True
                self.notify("sent as soon as the game is ready", timeout=2)
            return
        self._waiting = False
        self.query_one(ActionInput).value = ""
        self._set_input(False)
        if self.link is not None:
            self.link.submit(action)

    def _set_input(self, ready: bool) -> None:
        """The action line stays enabled and focused; the prompt shows whether the game waits."""
        if not self.config.human:
            return
        self.query_one("#action-prompt", Label).set_class(not ready, "-busy")
        self.query_one(ActionInput).focus()

    # -- drawing -----------------------------------------------------------------------------------
    def run_label(self) -> str:
        if self.failure:
            return "✗ error"
        if self.state.finished:
            return f"■ {self.state.end_reason}"
        if self.stopped:
            return "■ stopped"
        if not self.state.started:
            return "… starting"
        if self.config.human:
            return "your move" if self._waiting else "…"
        return "paused ⏸" if self.control and self.control.paused else "running ▶"

    def run_extra(self) -> str:
        if self.config.human or self.state.finished or self.stopped:
            return ""
        return f"{self.delay:g}s/step"

    def elapsed(self) -> float | None:
        if self.started_at is None:
            return None
        end = self.ended_at if self.ended_at is not None else self.app.clock()  # type: ignore[attr-defined]
        return end - self.started_at

    def hint(self) -> str | None:
        return self._hint

    # -- keys --------------------------------------------------------------------------------------
    def _over(self) -> bool:
        if self.stopped:
            self.notify("the episode is over: r plays it again, w saves it", timeout=3)
        return self.stopped

    def action_pause(self) -> None:
        if self.control and not self.config.human and not self._over():
            paused = self.control.toggle()
            self.notify("paused: s steps, space resumes" if paused else "resumed", timeout=2)
            self.redraw_status()

    def action_step(self) -> None:
        if self.control and not self.config.human and not self._over():
            if not self.control.paused:
                self.control.pause()
            self.control.step_once()
            self.redraw_status()

    def _set_speed(self, faster: bool) -> None:
        if self.config.human:
            return
        slower_to_faster = list(SPEEDS)
        index = min(range(len(slower_to_faster)), key=lambda i: abs(slower_to_faster[i] - self.delay))
        index = max(0, min(len(slower_to_faster) - 1, index + (1 if faster else -1)))
        self.delay = slower_to_faster[index]
        if self.control:
            self.control.set_delay(self.delay)
        self.redraw_status()

    def action_faster(self) -> None:
        self._set_speed(True)

    def action_slower(self) -> None:
        self._set_speed(False)

    def action_restart(self) -> None:
        """Ask first: a restart wipes the game so far."""
        if not self.state.taken:
            self._restart(True)
            return
        save = "^s" if self.config.human else "w"
        detail = f"The {self.state.taken} steps so far are lost unless saved first ({save})."
        self.app.push_screen(ConfirmScreen("Restart the episode?", detail), self._restart)

    def _restart(self, yes: bool | None) -> None:
        if yes:
            self.notify("restarting the episode", timeout=2)
            self.start_run()

    def action_save(self) -> None:
        state = self.state
        if not state.started:
            self.notify("nothing to save yet", severity="warning")
            return
        folder = Path(self.config.save_dir or ".")
        stamp = time.strftime("%Y%m%d-%H%M%S")
        path = folder / f"play-{state.task_id}-v{state.variation}-{state.agent}-{stamp}.jsonl.gz"
        try:
            write_episodes(path, [state.to_episode()])
        except OSError as exc:
            self.notify(f"could not save: {exc}", severity="error")
            return
        self.notify(f"saved {state.taken} steps to {path}", timeout=6)
        self.saved_path = path
