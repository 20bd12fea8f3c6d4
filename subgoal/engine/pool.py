"""A pool of worker processes, each holding one long-lived ScienceWorld session.

Jobs are module-level functions `fn(session, item) -> result`. A job whose JVM dies is retried on a
fresh JVM (`retries` times); a worker process that dies is replaced and its job resubmitted. No JVM
outlives the pool: sessions close on exit, on Ctrl-C, and when a worker notices its parent is gone.
With `workers=1` jobs run in this process (no start-up cost, easy to debug). `ThreadedEnvPool` runs
jobs on threads of this process instead, one JVM each, for jobs that share one model (batching.py).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, ThreadPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from subgoal.engine.env import Session, ensure_java, jvm_options
from subgoal.errors import EnvironmentCrashed, JavaUnavailable

T = TypeVar("T")
R = TypeVar("R")
Job = Callable[[Session, T], R]


@dataclass
class Outcome(Generic[T, R]):
    item: T
    result: R | None = None
    error: str | None = None  # one line; set when the job failed after its retries
    attempts: int = 1

    @property
    def ok(self) -> bool:
        return self.error is None


def run_job(
    session: Session,
    fn: Job[T, R],
    item: T,
    retries: int,
    stopping: threading.Event | None = None,
) -> tuple[R | None, str | None, int]:
    """Run one job, restarting a crashed JVM and retrying (not once `stopping` is set: then the
    JVM was closed on purpose). Returns (result, error, attempts). A JVM that cannot run at all
    stops the run: every other job would fail the same way."""
    error = None
    for attempt in range(1, retries + 2):
        try:
            return fn(session, item), None, attempt
        except JavaUnavailable:
            raise
        except EnvironmentCrashed as exc:
            error = str(exc)
            if stopping is not None and stopping.is_set():
                return None, error, attempt
            with contextlib.suppress(Exception):
                session.restart()
        except Exception as exc:  # a bug or bad data in this job: report it, keep the pool going
            return None, f"{type(exc).__name__}: {exc}", attempt
    return None, error, retries + 1


# -- worker-process side -------------------------------------------------------------------------
_SESSION: Session | None = None


def _init_worker(step_limit: int, parent_pid: int) -> None:
    global _SESSION
    # The JVM starts with the first job: a JVM that cannot start then fails that job with one
    # line, where a failing initializer would only break the pool ("worker process died").
    _SESSION = Session(step_limit=step_limit)

    def watch_parent() -> None:  # an orphaned worker must not keep its JVM alive
        while True:
            time.sleep(1.0)
            if os.getppid() != parent_pid:
                if _SESSION is not None:
                    _SESSION.close()
                os._exit(1)

    threading.Thread(target=watch_parent, daemon=True).start()


def _worker_run(fn: Job[T, R], item: T, retries: int) -> tuple[R | None, str | None, int]:
    assert _SESSION is not None
    return run_job(_SESSION, fn, item, retries)


def _worker_pid() -> int:
    return os.getpid()


def _worker_jvm_pid() -> int | None:
    return _SESSION.pid if _SESSION else None


# -- the pool ------------------------------------------------------------------------------------
class EnvPool:
    def __init__(self, workers: int = 1, step_limit: int = 100, retries: int = 1):
        self.workers = max(1, workers)
        self.step_limit = step_limit
        self.retries = retries
        self._session: Session | None = None
        self._executor: ProcessPoolExecutor | None = None

    def __enter__(self) -> EnvPool:
        self.start()
        return self

    def __exit__(self, exc_type: object, *exc: object) -> None:
        # Leaving on an error or Ctrl-C (e.g. while the caller writes a result): stop the workers
        # now rather than wait for the episodes they are playing.
        if exc_type is None:
            self.close()
        else:
            self.terminate()

    def start(self) -> None:
        ensure_java()  # no java, or a bad setting, fails here in one line, not in every worker
        jvm_options()
        if self.workers == 1:
            self._session = self._session or Session(step_limit=self.step_limit).start()
        elif self._executor is None:
            self._executor = ProcessPoolExecutor(
                max_workers=self.workers,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_init_worker,
                initargs=(self.step_limit, os.getpid()),
            )

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None
        if self._executor is not None:
            executor, self._executor = self._executor, None
            executor.shutdown(wait=True, cancel_futures=True)

    def terminate(self) -> None:
        """Stop at once (Ctrl-C): kill workers; their JVMs exit when their stdin closes."""
        if self._executor is not None:
            executor, self._executor = self._executor, None
            processes = list((getattr(executor, "_processes", None) or {}).values())
            for proc in processes:
                with contextlib.suppress(Exception):
                    proc.terminate()
            for proc in processes:
                with contextlib.suppress(Exception):
                    proc.join(timeout=5)
            # A worker killed while sending its result leaves the executor's reader thread waiting
            # for the rest of a message, and interpreter exit would wait for that thread forever
            # (a Ctrl-C test hung like this one run in a few on a loaded machine). Our copy of the
            # pipe's write end is all that keeps it open: closed, the reader sees EOF and gives up.
            with contextlib.suppress(Exception):
                executor._result_queue._writer.close()
            executor.shutdown(wait=False, cancel_futures=True)
        self.close()

    @property
    def session(self) -> Session:
        """The in-process session (workers=1 only)."""
        if self._session is None:
            self.start()
        assert self._session is not None, "session is only available with workers=1"
        return self._session

    def imap_unordered(self, fn: Job[T, R], items: Iterable[T]) -> Iterator[Outcome[T, R]]:
        """Run `fn` over `items`, yielding outcomes as they finish (any order)."""
        self.start()
        try:
            if self.workers == 1:
                for item in items:
                    result, error, attempts = run_job(self.session, fn, item, self.retries)
                    yield Outcome(item, result, error, attempts)
            else:
                yield from self._parallel(fn, list(items))
        except BaseException:
            self.terminate()
            raise

    def _parallel(self, fn: Job[T, R], items: list[T]) -> Iterator[Outcome[T, R]]:
        pending: dict[Future[Any], tuple[T, int]] = {}
        queue = list(reversed(range(len(items))))  # indices still to submit, next one last
        lost: dict[int, int] = {}  # index in items -> times its worker process died under it

        def submit(index: int) -> None:
            assert self._executor is not None
            future = self._executor.submit(_worker_run, fn, items[index], self.retries)
            pending[future] = (items[index], index)

        # Keep at most 2 jobs per worker in flight, so Ctrl-C leaves little half-done work.
        while queue or pending:
            while queue and len(pending) < 2 * self.workers:
                submit(queue.pop())
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            broken = False
            for future in done:
                item, index = pending.pop(future)
                try:
                    result, error, attempts = future.result()
                except BrokenProcessPool:
                    broken = True
                    lost[index] = lost.get(index, 0) + 1
                    if lost[index] > self.retries:
                        yield Outcome(item, None, "worker process died", lost[index])
                    else:
                        queue.append(index)
                    continue
                yield Outcome(item, result, error, attempts)
            if broken:  # every job in flight is lost with the pool: resubmit them on a fresh one
                queue.extend(index for _, index in pending.values())
                pending.clear()
                self.close()
                self.start()

    def worker_pids(self) -> list[int]:
        """PIDs of the JVMs of this pool (for tests and diagnostics)."""
        if self.workers == 1:
            return [self.session.pid] if self._session and self._session.pid else []
        assert self._executor is not None
        futures = [self._executor.submit(_worker_jvm_pid) for _ in range(self.workers * 4)]
        return sorted({p for f in futures if (p := f.result()) is not None})


class ThreadedEnvPool:
    """N threads in this process, each with its own JVM: for jobs that share something a process
    cannot (one model on the GPU, fed in batches by engine.batching). Same `imap_unordered` as
    EnvPool; a crashed JVM is restarted and the job retried; Ctrl-C closes every JVM."""

    def __init__(self, threads: int, step_limit: int = 100, retries: int = 1):
        ensure_java()  # no java, or a bad setting, fails here, not once per episode
        jvm_options()
        self.threads = max(1, threads)
        self.step_limit = step_limit
        self.retries = retries
        self._local = threading.local()
        self._sessions: list[Session] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._executor: ThreadPoolExecutor | None = None

    def __enter__(self) -> ThreadedEnvPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _session(self) -> Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = Session(step_limit=self.step_limit)
            with self._lock:
                self._sessions.append(session)
        return session

    def _run(self, fn: Job[T, R], item: T) -> Outcome[T, R]:
        if self._stopping.is_set():
            return Outcome(item, None, "stopped")
        result, error, attempts = run_job(self._session(), fn, item, self.retries, self._stopping)
        return Outcome(item, result, error, attempts)

    def imap_unordered(self, fn: Job[T, R], items: Iterable[T]) -> Iterator[Outcome[T, R]]:
        """Run `fn` over `items` on the threads, yielding outcomes as they finish (any order)."""
        items = list(items)
        if self._executor is None:
            self._executor = ThreadPoolExecutor(self.threads, thread_name_prefix="episode")
        futures = {self._executor.submit(self._run, fn, item) for item in items}
        try:
            while futures:
                done, futures = wait(futures, return_when=FIRST_COMPLETED)
                for future in done:
                    yield future.result()
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        """Stop: close every JVM (a thread's next call fails, so it ends its episode at once, with
        no retry), wait for the threads, then close any JVM a thread restarted meanwhile."""
        self._stopping.set()
        self._close_sessions()
        if self._executor is not None:
            executor, self._executor = self._executor, None
            executor.shutdown(wait=True, cancel_futures=True)
        self._close_sessions()

    def _close_sessions(self) -> None:
        with self._lock:
            sessions = list(self._sessions)
        for session in sessions:
            session.close(for_good=True)

    def jvm_pids(self) -> list[int]:
        with self._lock:
            return sorted(p for s in self._sessions if (p := s.pid) is not None)
