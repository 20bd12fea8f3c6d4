"""How many torch threads a process takes: asked for, OMP_NUM_THREADS, else the idle cores."""

from __future__ import annotations

import os

import pytest

from subgoal.engine import cores


@pytest.fixture
def two_cores(monkeypatch):
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.delenv("LOCAL_WORLD_SIZE", raising=False)

    def load(value: float) -> None:
        monkeypatch.setattr(os, "getloadavg", lambda: (value, value, value))

    return load


def test_idle_cores_leave_the_busy_ones_and_keep_at_least_one(two_cores):
    two_cores(0.1)
    assert cores.idle_cores() == 2
    two_cores(1.0)  # another training on the other core
    assert cores.idle_cores() == 1
    two_cores(7.5)
    assert cores.idle_cores() == 1


def test_threads_asked_for_then_the_environment_then_the_idle_cores(two_cores, monkeypatch):
    two_cores(0.0)
    assert cores.torch_threads(3) == 3
    assert cores.torch_threads() == 2
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    assert cores.torch_threads() == 1
    assert cores.torch_threads(2) == 2
    monkeypatch.setenv("OMP_NUM_THREADS", "junk")
    assert cores.torch_threads() == 2


def test_no_load_average_counts_as_idle(two_cores, monkeypatch):
    def unavailable():
        raise OSError

    monkeypatch.setattr(os, "getloadavg", unavailable)
    assert cores.idle_cores() == 2


def test_ranks_on_one_machine_share_its_idle_cores(two_cores, monkeypatch):
    two_cores(0.0)
    monkeypatch.setenv("LOCAL_WORLD_SIZE", "2")
    assert cores.torch_threads() == 1
    monkeypatch.setenv("LOCAL_WORLD_SIZE", "4")
    assert cores.torch_threads() == 1
