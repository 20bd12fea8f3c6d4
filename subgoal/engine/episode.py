"""Episodes: what happened in one ScienceWorld game, and the file format that holds many.

An episode file is gzip-compressed JSON Lines, one episode per line. Every line carries
`"format": FORMAT` and its version, so a file is self-describing line by line and can be appended to
(each append is its own gzip member; Python's gzip reads them back as one stream). Writers append
one finished episode at a time, so an interrupted run loses at most the episode in flight; a
truncated tail is detected on read and repaired on resume (`repair`).

State convention: `Step.look` and `Step.inventory` are read *after* the step's action;
`Episode.state_before(t)` gives what the agent saw before taking step t.
"""

from __future__ import annotations

import gzip
import json
import os
import time
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from subgoal.engine.files import replacing
from subgoal.errors import EpisodeFileError

FORMAT = "subgoal.episode"
VERSION = 1
GZIP_MAGIC = b"\x1f\x8b"  # the first bytes of every gzip member


@dataclass
class Step:
    action: str
    observation: str
    score: int  # score after the action, as the simulator reports it (may be negative)
    reward: int  # score change caused by the action
    look: str = ""
    inventory: str = ""
    done: bool = False
    # Filled by learned agents: what the model generated, and how it became `action`.
    generated: list[str] | None = None
    grounding: str | None = None  # "exact" | "fuzzy" | "embedding" | "oracle" | "human"
    subgoal: str | None = None  # the sub-goal being executed when the agent chose this action


@dataclass
class SubgoalSpan:
    """Sub-goal `name` covers steps [start, end) of its episode."""

    name: str
    start: int
    end: int

    def __len__(self) -> int:
        return self.end - self.start


@dataclass
class Episode:
    task_id: str
    task_name: str
    variation: int
    split: str
    task_description: str
    initial_look: str = ""
    initial_inventory: str = ""
    steps: list[Step] = field(default_factory=list)
    subgoals: list[SubgoalSpan] = field(default_factory=list)
    agent: str = "oracle"
    simplification: str = "easy"
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> tuple[str, int]:
        return (self.task_id, self.variation)

    @property
    def final_score(self) -> int:
        return self.steps[-1].score if self.steps else 0

    @property
    def clamped_score(self) -> int:
        """The protocol's episode score: in [0, 100], a failed (negative) episode counts as 0."""
        return max(0, min(100, self.final_score))

    @property
    def actions(self) -> list[str]:
        return [s.action for s in self.steps]

    @property
    def solved(self) -> bool:
        return self.final_score >= 100

    def state_before(self, index: int) -> tuple[str, str]:
        """(look, inventory) the agent saw before taking step `index`."""
        if index == 0:
            return self.initial_look, self.initial_inventory
        prev = self.steps[index - 1]
        return prev.look, prev.inventory

    def subgoal_at(self, index: int) -> SubgoalSpan | None:
        for span in self.subgoals:
            if span.start <= index < span.end:
                return span
        return None

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        return {"format": FORMAT, "version": VERSION, **data}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Episode:
        if data.get("format") != FORMAT:
            raise ValueError(f"not a {FORMAT} record")
        if data.get("version", 0) > VERSION:
            raise ValueError(f"format version {data['version']} is newer than this subgoal ({VERSION})")
        known = {f.name for f in fields(cls)}
        kwargs = {k: v for k, v in data.items() if k in known}
        kwargs["steps"] = [Step(**s) for s in data.get("steps", [])]
        kwargs["subgoals"] = [SubgoalSpan(**s) for s in data.get("subgoals", [])]
        return cls(**kwargs)


def encode(episode: Episode) -> bytes:
    return (json.dumps(episode.to_json(), ensure_ascii=False, separators=(",", ":")) + "\n").encode()


def read_episodes(path: str | os.PathLike[str]) -> Iterator[Episode]:
    """Episodes of one file, in order. A bad line raises EpisodeFileError naming file and line."""
    path = Path(path)
    if not path.exists():
        raise EpisodeFileError(f"{path}: no such episode file")
    line_no = 0
    try:
        with gzip.open(path, "rb") as fh:
            for line_no, raw in enumerate(fh, start=1):
                if not raw.strip():
                    continue
                try:
                    yield Episode.from_json(json.loads(raw))
                except (ValueError, TypeError, KeyError) as exc:
                    raise EpisodeFileError(f"{path}:{line_no}: corrupt episode ({_short(exc)})") from None
    except (EOFError, gzip.BadGzipFile, zlib.error, OSError) as exc:
        if isinstance(exc, FileNotFoundError):
            raise
        error = EpisodeFileError(
            f"{path}:{line_no + 1}: truncated or corrupt file ({_short(exc)}); "
            f"the {line_no} lines before it are intact"
        )
        error.truncated_after = line_no
        raise error from None


def load_episodes(path: str | os.PathLike[str]) -> list[Episode]:
    return list(read_episodes(path))


def write_episodes(path: str | os.PathLike[str], episodes: Iterable[Episode]) -> int:
    """Write a whole file atomically (temp file + rename). Returns the number of episodes."""
    count = 0
    with replacing(path, binary=True) as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as gz:
        for episode in episodes:
            gz.write(encode(episode))
            count += 1
    return count


def _hold_for_tests(appended: int) -> None:
    """With SUBGOAL_TEST_HOLD_AFTER=N, a writer that has appended N episodes waits until a signal
    ends the process: a test that interrupts a job then knows the job is still running when its
    signal lands, however fast the machine (a quiet machine finished 12 episodes before the signal).
    With SUBGOAL_TEST_RELEASE=PATH too, the job goes on once PATH exists (a test that must catch it
    somewhere else, e.g. inside a call to a JVM the test has stopped)."""
    hold = os.environ.get("SUBGOAL_TEST_HOLD_AFTER")
    release = os.environ.get("SUBGOAL_TEST_RELEASE")
    if hold and hold.isdigit() and appended >= int(hold):
        import faulthandler
        import signal

        faulthandler.register(signal.SIGUSR1, all_threads=True)  # a test that times out asks where we are
        while not (release and os.path.exists(release)):
            time.sleep(0.05)


class EpisodeWriter:
    """Appends finished episodes to a file, one gzip member each, flushed to disk per episode."""

    def __init__(self, path: str | os.PathLike[str]):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fh = open(self.path, "ab")  # noqa: SIM115 - closed in close()
        self._appended = 0

    def append(self, episode: Episode) -> None:
        self._fh.write(gzip.compress(encode(episode), mtime=0))
        self._fh.flush()
        os.fsync(self._fh.fileno())
        self._appended += 1
        _hold_for_tests(self._appended)

    def close(self) -> None:
        self._fh.close()

    def __enter__(self) -> EpisodeWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def repair(path: str | os.PathLike[str]) -> list[Episode]:
    """Read what is intact in an episode file; if its tail is truncated, rewrite it without the tail.

    Used before resuming an interrupted run: the episode that was being written when the run died
    is dropped (and will be redone); every complete episode before it is kept.
    """
    path = Path(path)
    if not path.exists():
        return []
    good, error = read_intact(path)
    if error is not None:
        # Only a broken gzip tail is a crash's mark; a bad JSON line in the middle is real
        # corruption that the user must see, not something to drop silently, and a file that is
        # not gzip at all is not ours to rewrite (`collect -o notes.txt` would empty it).
        if getattr(error, "truncated_after", None) is None or not _begins_as_gzip(path):
            raise error
        write_episodes(path, good)
    return good


def _begins_as_gzip(path: Path) -> bool:
    """Whether `path` begins as every episode file does (one cut in its first write may be shorter)."""
    with open(path, "rb") as fh:
        head = fh.read(len(GZIP_MAGIC))
    return GZIP_MAGIC.startswith(head)


def read_intact(path: str | os.PathLike[str]) -> tuple[list[Episode], EpisodeFileError | None]:
    """The episodes before the first bad line, and the error that stopped the reading (or None)."""
    good: list[Episode] = []
    try:
        for episode in read_episodes(path):
            good.append(episode)
    except EpisodeFileError as exc:
        return good, exc
    return good, None


def _short(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text if len(text) < 120 else text[:117] + "..."
