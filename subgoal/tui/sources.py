"""Where live events come from, and how fast: the pacing a person controls, and the agents' streams.

A *source* is a callable `source(control) -> Iterator[Event]` that plays one episode. The Textual app
runs it in a worker thread through `drive`, which waits on the `RunControl` after every step, so
pause, single-step, speed and stop act between two environment steps and never inside one. The plain
printer drives the same sources with no pacing. Nothing here imports Textual, and nothing here
builds an agent: live sources come ready-made from subgoal.live.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from subgoal.engine.episode import Episode
from subgoal.engine.events import EpisodeStarted, Event, StepTaken

# Seconds between two steps, slowest to fastest; the app starts at DEFAULT_SPEED.
SPEEDS = (2.0, 1.0, 0.5, 0.25, 0.1, 0.0)
DEFAULT_SPEED = 2


class RunControl:
    """Pause, single-step, speed and stop for one run, shared by the UI thread and the worker."""

    def __init__(self, delay: float = SPEEDS[DEFAULT_SPEED], paused: bool = False):
        self._cond = threading.Condition()
        self.delay = delay
        self.paused = paused
        self.stopped = False
        self._tokens = 0
        self._on_stop: list[Callable[[], None]] = []

    def pause(self) -> None:
        with self._cond:
            self.paused = True
            self._cond.notify_all()

    def resume(self) -> None:
        with self._cond:
            self.paused = False
            self._cond.notify_all()

    def toggle(self) -> bool:
        """Pause if running, resume if paused; returns whether it is now paused."""
        with self._cond:
            self.paused = not self.paused
            self._cond.notify_all()
            return self.paused

    def step_once(self) -> None:
        """Let exactly one more step through (while paused)."""
        with self._cond:
            self._tokens += 1
            self._cond.notify_all()

    def set_delay(self, delay: float) -> None:
        with self._cond:
            self.delay = delay
            self._cond.notify_all()

    def on_stop(self, callback: Callable[[], None]) -> None:
        """Call `callback` when the run is stopped (at once if it already is): a rollout's stop()."""
        with self._cond:
            if not self.stopped:
                self._on_stop.append(callback)
                return
        callback()

    def stop(self) -> None:
        with self._cond:
            self.stopped = True
            callbacks, self._on_stop = self._on_stop, []
            self._cond.notify_all()
        for callback in callbacks:
            callback()

    def wait_turn(self) -> bool:
        """Block until the next step may be taken; False once the run is stopped."""
        with self._cond:
            deadline = time.monotonic() + self.delay
            while not self.stopped:
                if self._tokens:
                    self._tokens -= 1
                    return True
                if self.paused:
                    self._cond.wait()
                    deadline = time.monotonic() + self.delay
                    continue
                remaining = min(deadline, time.monotonic() + self.delay) - time.monotonic()
                if remaining <= 0:
                    return True
                self._cond.wait(remaining)
            return False


@dataclass(frozen=True)
class RunNote:
    """What the app knows of a live run beyond the rollout's events: the split, and the sub-goals
    planned ahead (the oracle knows its spans). Not an engine event; only this package sees it."""

    split: str = ""
    plan: tuple[str, ...] = ()


Source = Callable[[RunControl], Iterator[Any]]  # yields engine Events (and RunNotes)


def drive(source: Source, control: RunControl, emit: Callable[[Any], None]) -> None:
    """Run `source`, handing each event to `emit`, pausing per `control` before every next step."""
    events = source(control)
    try:
        for event in events:
            emit(event)
            if isinstance(event, (EpisodeStarted, StepTaken)) and not control.wait_turn():
                break
    finally:
        close = getattr(events, "close", None)
        if close:
            close()


class HumanLink:
    """Between the person typing in the app and the human agent waiting in the worker thread.

    `announce(valid_actions, hint)` is called on the worker thread before each action is awaited;
    `submit` is called on the UI thread with what the person typed."""

    def __init__(self, announce: Callable[[list[str], str | None], None]):
        self.announce = announce
        self.agent: Any = None

    def submit(self, action: str) -> None:
        if self.agent is not None:
            self.agent.submit(action)


@dataclass
class LiveConfig:
    """A live run as the app needs it: how to make its source (human mode: given the link the
    screen answers through), its pacing, and where to save."""

    make_source: Callable[[HumanLink | None], Source]
    human: bool = False
    delay: float = SPEEDS[DEFAULT_SPEED]
    paused: bool = False
    save_dir: Any = None  # a Path; None saves into the current folder


def replay_source(episode: Episode) -> Source:
    """A saved episode played back as if live (tests, and a stand-in agent)."""
    from subgoal.engine.events import replay_events

    def run(control: RunControl) -> Iterator[Event]:
        yield RunNote(episode.split, tuple(span.name for span in episode.subgoals))
        for event in replay_events(episode):
            if control.stopped:
                return
            yield event

    return run
