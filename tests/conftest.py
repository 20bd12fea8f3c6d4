"""Shared fixtures. Data is made here, in temporary folders: a few real oracle episodes collected
once per test session from a real ScienceWorld JVM (short tasks only, so it takes seconds)."""

from __future__ import annotations

import gc
import os
from collections.abc import Iterator
from pathlib import Path

import hypothesis  # noqa: F401  (see below)
import pytest

# CPython 3.11.7's ast.parse can fail with "AST constructor recursion depth mismatch" once py4j's
# threads have run; hypothesis' pytest plugin imports (and so assertion-rewrites) hypothesis at the
# end of the session. Importing it up front keeps that parse before any JVM work.

os.environ.setdefault("CI", "true")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    """Render a failure with the garbage collector paused. In CPython 3.11.7, ast.parse (which
    pytest uses to show the failing source) keeps its recursion counter in shared state; a collection
    in the middle of it runs py4j finalizers that log a traceback, which parses again, and the outer
    parse dies with "AST constructor recursion depth mismatch" - an INTERNALERROR that hides the
    real failure."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return (yield)
    finally:
        if was_enabled:
            gc.enable()


# Short tasks (gold paths of 3-15 steps) keep the JVM-backed fixtures fast.
SHORT_JOBS = [("4-2", 0), ("4-2", 1), ("7-1", 0), ("3-1", 0)]


@pytest.fixture(scope="session")
def oracle_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real oracle episode file (train split) with the episodes of SHORT_JOBS."""
    from subgoal.engine.oracle import Job, collect

    path = tmp_path_factory.mktemp("oracle") / "train.jsonl.gz"
    report = collect([Job(t, v, "train") for t, v in SHORT_JOBS], path, workers=1)
    assert report.collected == len(SHORT_JOBS), report
    return path


@pytest.fixture(scope="session")
def oracle_episodes(oracle_file: Path):
    from subgoal.engine.episode import load_episodes

    return load_episodes(oracle_file)


@pytest.fixture
def unretired(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every rule back at its level: a retired rule's code stays tested, to be measured again."""
    from dataclasses import replace

    from subgoal.engine.rules import RULES

    for name, rule in list(RULES.items()):
        monkeypatch.setitem(RULES, name, replace(rule, retired=""))


@pytest.fixture
def retired(monkeypatch: pytest.MonkeyPatch) -> str:
    """A rule retired for the test (planner-offer, whose scenario shows it acting), so what a
    retirement does stays tested whatever the registry retires."""
    from dataclasses import replace

    from subgoal.engine.rules import RULES

    offer = replace(RULES["planner-offer"], level="general", retired="retired by a test")  # as it once was
    monkeypatch.setitem(RULES, "planner-offer", offer)
    return "planner-offer"
