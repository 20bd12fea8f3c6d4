"""Batched generation for episodes that run side by side in one process.

Each episode runs in its own thread with its own JVM and calls `policy.generate([text])` as if it
were alone. `GenerationBatcher.wrap(policy)` returns a stand-in whose `generate` queues the request
and blocks; one dispatcher thread gathers the queue into a single `Policy.generate` call per
(model, generation settings) and hands each thread its own beams. A batch goes out as soon as every
episode in play is waiting on a model, when it reaches `max_batch`, or `max_wait` seconds after its
first request (an episode still stepping its JVM is not waited for longer than that).

Only the dispatcher runs the models, so a model and its tokenizer are never used by two threads at
once; `fits` (called by every episode thread while rendering) counts tokens with a private copy of
the tokenizer under a lock.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from subgoal.errors import SubgoalError


class BatcherClosed(SubgoalError):
    """The batcher stopped (end of the run or Ctrl-C) while an episode was waiting on it."""


@dataclass
class _Request:
    policy: Any
    inputs: list[str]
    settings: tuple[int, int, int]  # num_beams, num_return, max_new_tokens
    done: threading.Event = field(default_factory=threading.Event)
    result: list[list[str]] | None = None
    error: BaseException | None = None


@dataclass
class BatchStats:
    calls: int = 0  # batched model calls made
    requests: int = 0  # generate() calls served
    inputs: int = 0
    largest: int = 0

    @property
    def mean_batch(self) -> float:
        return self.inputs / self.calls if self.calls else 0.0


class GenerationBatcher:
    def __init__(self, max_batch: int = 64, max_wait: float = 0.02):
        self.max_batch = max(1, max_batch)
        self.max_wait = max_wait
        self.stats = BatchStats()
        self._pending: list[_Request] = []
        self._clients = 0
        self._closed = False
        self._cond = threading.Condition()
        self.model_lock = threading.Lock()  # one user of a model and its tokenizer at a time
        self._thread = threading.Thread(target=self._dispatch, name="generation-batcher", daemon=True)
        self._thread.start()

    # -- the episode side --------------------------------------------------------------------
    def wrap(self, policy: Any) -> BatchedPolicy:
        return BatchedPolicy(policy, self)

    @contextlib.contextmanager
    def client(self) -> Iterator[None]:
        """Mark the calling thread as an episode in play for as long as the block runs: the
        dispatcher sends a batch early once every client is waiting."""
        with self._cond:
            self._clients += 1
        try:
            yield
        finally:
            with self._cond:
                self._clients -= 1
                self._cond.notify_all()

    def submit(self, policy: Any, inputs: list[str], settings: tuple[int, int, int]) -> list[list[str]]:
        request = _Request(policy, list(inputs), settings)
        with self._cond:
            if self._closed:
                raise BatcherClosed("generation stopped")
            self._pending.append(request)
            self._cond.notify_all()
        request.done.wait()
        if request.error is not None:
            raise request.error
        assert request.result is not None
        return request.result

    def close(self) -> None:
        """Stop the dispatcher; requests still queued fail with BatcherClosed."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        self._thread.join(timeout=30)

    def __enter__(self) -> GenerationBatcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the dispatcher ------------------------------------------------------------------------
    def _ready(self, first_at: float) -> bool:
        waiting = sum(len(r.inputs) for r in self._pending)
        everyone = len(self._pending) >= max(1, self._clients)
        return everyone or waiting >= self.max_batch or time.monotonic() - first_at >= self.max_wait

    def _dispatch(self) -> None:
        while True:
            with self._cond:
                while not self._pending and not self._closed:
                    self._cond.wait()
                if self._closed:
                    for request in self._pending:
                        request.error = BatcherClosed("generation stopped")
                        request.done.set()
                    self._pending.clear()
                    return
                first_at = time.monotonic()
                while not self._ready(first_at) and not self._closed:
                    self._cond.wait(timeout=max(0.0, first_at + self.max_wait - time.monotonic()))
                batch = self._take()
            self._run(batch)

    def _take(self) -> list[_Request]:
        """Up to max_batch inputs from the queue, oldest first (at least one request)."""
        taken, size = [], 0
        while self._pending and (not taken or size + len(self._pending[0].inputs) <= self.max_batch):
            request = self._pending.pop(0)
            taken.append(request)
            size += len(request.inputs)
        return taken

    def _run(self, batch: list[_Request]) -> None:
        groups: dict[tuple[int, tuple[int, int, int]], list[_Request]] = {}
        for request in batch:
            groups.setdefault((id(request.policy), request.settings), []).append(request)
        for (_, settings), requests in groups.items():
            num_beams, num_return, max_new_tokens = settings
            inputs = [text for r in requests for text in r.inputs]
            try:
                with self.model_lock:
                    beams = requests[0].policy.generate(
                        inputs, num_beams=num_beams, num_return=num_return, max_new_tokens=max_new_tokens
                    )
            except BaseException as exc:  # handed to every episode waiting on this batch
                for r in requests:
                    r.error = exc
                    r.done.set()
                continue
            self.stats.calls += 1
            self.stats.requests += len(requests)
            self.stats.inputs += len(inputs)
            self.stats.largest = max(self.stats.largest, len(inputs))
            start = 0
            for r in requests:
                r.result = beams[start : start + len(r.inputs)]
                start += len(r.inputs)
                r.done.set()


class BatchedPolicy:
    """A Policy whose `generate` goes through a GenerationBatcher (same interface as Policy)."""

    def __init__(self, policy: Any, batcher: GenerationBatcher):
        self.policy = policy
        self.batcher = batcher
        self.manifest = policy.manifest
        self.max_input_tokens = policy.max_input_tokens
        from subgoal.engine.models import token_counter

        self._count = token_counter(policy.tokenizer, backend=_private_tokenizer(policy.tokenizer))
        self._lock = threading.Lock()

    @property
    def role(self) -> str:
        return str(self.policy.role)

    def fits(self, text: str) -> bool:
        with self._lock:
            return self._count(text) <= self.max_input_tokens

    def generate(
        self,
        inputs: list[str],
        num_beams: int = 5,
        num_return: int = 5,
        max_new_tokens: int = 32,
        allowed: list[list[str]] | None = None,
    ) -> list[list[str]]:
        if not inputs:
            return []
        if allowed is not None:  # per-input constraints do not batch across episodes
            with self.batcher.model_lock:
                return self.policy.generate(inputs, num_beams, num_return, max_new_tokens, allowed=allowed)
        return self.batcher.submit(self.policy, inputs, (num_beams, num_return, max_new_tokens))

    def score(self, source: str, candidates: list[str]) -> list[float]:
        """Not batched across episodes (one encoder pass each): only kept off the model while
        the batcher generates with it."""
        with self.batcher.model_lock:
            return self.policy.score(source, candidates)


def _private_tokenizer(tokenizer: Any) -> Any:
    """A copy of a fast tokenizer's Rust core that counts tokens exactly as `Policy.count_tokens`
    (special tokens included) and that no other thread touches."""
    from tokenizers import Tokenizer

    copy = Tokenizer.from_str(tokenizer.backend_tokenizer.to_str())
    copy.no_truncation()
    copy.no_padding()
    return copy
