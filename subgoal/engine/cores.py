"""How many torch threads a process should use. On a busy CPU, threads beyond the idle cores spin on
taken ones: two trainings side by side, each with a thread per core, ran at a third of the speed of
one thread each (docs/RESULTS.md §20)."""

from __future__ import annotations

import os


def idle_cores() -> int:
    """The cores the last minute's load leaves free (at least one)."""
    cores = os.cpu_count() or 1
    try:
        load = os.getloadavg()[0]
    except OSError:  # not on this platform
        load = 0.0
    return max(1, min(cores, round(cores - load)))


def _positive(name: str) -> int | None:
    value = os.environ.get(name, "").strip()
    return int(value) if value.isdigit() and int(value) > 0 else None


def torch_threads(requested: int | None = None) -> int:
    """`requested`, else OMP_NUM_THREADS where the caller set it (the protocol does), else the idle
    cores shared among this machine's ranks (torchrun's LOCAL_WORLD_SIZE)."""
    if requested:
        return requested
    return _positive("OMP_NUM_THREADS") or max(1, idle_cores() // (_positive("LOCAL_WORLD_SIZE") or 1))
