"""The worker pool against real JVMs: crashed JVMs are restarted, dead workers replaced, none leak."""

import os
from pathlib import Path

import pytest
from jvm_utils import kill_and_wait, new_tag, pid_alive, wait_until_gone

from subgoal.engine.env import Session
from subgoal.engine.pool import EnvPool, ThreadedEnvPool

pytestmark = pytest.mark.jvm


def gold_score(session: Session, job: tuple[str, int]) -> int:
    session.load(job[0], job[1], gold=True)
    score = 0
    for action in session.gold_path():
        score = session.step(action).score
    return score


def kill_jvm_on_first_try(session: Session, marker: str) -> int:
    """Kills its own JVM the first time it runs (the marker file remembers), then works."""
    path = Path(marker)
    if not path.exists():
        path.write_text("killed once")
        kill_and_wait(session.pid)
        session.look()  # raises EnvironmentCrashed: the JVM is gone
    return gold_score(session, ("4-2", 0))


def exit_worker_on_first_try(session: Session, marker: str) -> int:
    path = Path(marker)
    if not path.exists():
        path.write_text("died once")
        os._exit(3)  # the whole worker process dies, JVM and all
    return gold_score(session, ("7-1", 0))


def test_in_process_pool_restarts_a_killed_jvm(tmp_path):
    with EnvPool(workers=1) as pool:
        first_pid = pool.session.pid
        [outcome] = list(pool.imap_unordered(kill_jvm_on_first_try, [str(tmp_path / "m")]))
        assert outcome.ok and outcome.result == 100 and outcome.attempts == 2
        assert pool.session.pid != first_pid and not pid_alive(first_pid)


def test_process_pool_runs_jobs_and_restarts_crashes(tmp_path, monkeypatch):
    tag = new_tag()
    monkeypatch.setenv("SUBGOAL_TEST_TAG", tag)
    with EnvPool(workers=2) as pool:
        outcomes = list(pool.imap_unordered(gold_score, [("4-2", 0), ("7-1", 0), ("4-2", 1)]))
        assert sorted(o.item for o in outcomes) == [("4-2", 0), ("4-2", 1), ("7-1", 0)]
        assert all(o.ok and o.result == 100 for o in outcomes)
        [crashed] = list(pool.imap_unordered(kill_jvm_on_first_try, [str(tmp_path / "jvm")]))
        assert crashed.ok and crashed.attempts == 2
        [died] = list(pool.imap_unordered(exit_worker_on_first_try, [str(tmp_path / "proc")]))
        assert died.ok and died.result == 100
    assert wait_until_gone(tag) == []


def test_failing_job_is_reported_not_fatal():
    def boom(session, item):
        raise ValueError(f"bad item {item}")

    with EnvPool(workers=1) as pool:
        outcomes = list(pool.imap_unordered(boom, [1, 2]))
    assert [o.error for o in outcomes] == ["ValueError: bad item 1", "ValueError: bad item 2"]


def test_threaded_pool_gives_each_thread_a_jvm_restarts_crashes_and_leaks_none(tmp_path, monkeypatch):
    tag = new_tag()
    monkeypatch.setenv("SUBGOAL_TEST_TAG", tag)
    with ThreadedEnvPool(threads=2) as pool:
        outcomes = list(pool.imap_unordered(gold_score, [("4-2", 0), ("7-1", 0), ("4-2", 1), ("7-1", 1)]))
        assert sorted(o.item for o in outcomes) == [("4-2", 0), ("4-2", 1), ("7-1", 0), ("7-1", 1)]
        assert all(o.ok and o.result == 100 for o in outcomes)
        assert len(pool.jvm_pids()) == 2  # one per thread, reused across jobs
        [crashed] = list(pool.imap_unordered(kill_jvm_on_first_try, [str(tmp_path / "jvm")]))
        assert crashed.ok and crashed.result == 100 and crashed.attempts == 2
    assert wait_until_gone(tag) == []


def test_threaded_pool_stops_at_once_when_its_consumer_does(monkeypatch):
    tag = new_tag()
    monkeypatch.setenv("SUBGOAL_TEST_TAG", tag)
    pool = ThreadedEnvPool(threads=2)
    outcomes = pool.imap_unordered(gold_score, [("4-2", v) for v in range(6)])
    with pytest.raises(KeyboardInterrupt), pool:
        next(outcomes)
        raise KeyboardInterrupt  # Ctrl-C while episodes are in flight
    assert wait_until_gone(tag, timeout=5) == []  # closed for good: no thread restarted a JVM
