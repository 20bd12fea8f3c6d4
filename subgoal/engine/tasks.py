"""The 30 ScienceWorld tasks of the benchmark: ids, names, splits and length buckets.

Variation counts are those of scienceworld==1.2.3 (train, dev and test are contiguous ranges of
variation indices, in that order); a JVM test checks them against the simulator. Buckets follow
the paper: short / medium / long by the task's mean gold-path length (<20, 20-50, >50), measured on
the collected train split (docs/RESULTS.md).
"""

from __future__ import annotations

import difflib
import fnmatch
import re
from collections.abc import Iterable
from dataclasses import dataclass

from subgoal.errors import UnknownTaskError, VariationError

SPLITS = ("train", "dev", "test")
BUCKETS = ("short", "medium", "long")


@dataclass(frozen=True)
class Task:
    id: str  # "1-1"
    name: str  # ScienceWorld's name, "boil"
    title: str  # "Changes of State (Boiling)"
    train: int
    dev: int
    test: int
    bucket: str
    mean_gold_length: float

    @property
    def total(self) -> int:
        return self.train + self.dev + self.test

    def count(self, split: str) -> int:
        check_split(split)
        return getattr(self, split)

    def variations(self, split: str) -> list[int]:
        """Variation indices of one split, in ScienceWorld's order."""
        start = {"train": 0, "dev": self.train, "test": self.train + self.dev}[check_split(split)]
        return list(range(start, start + self.count(split)))

    def split_of(self, variation: int) -> str:
        for split in SPLITS:
            if variation in self.variations(split):
                return split
        raise VariationError(
            f"task {self.id} ({self.name}) has variations 0-{self.total - 1}; got {variation}"
        )

    @property
    def label(self) -> str:
        return f"{self.id} {self.name}"


def bucket_for(mean_length: float) -> str:
    return "short" if mean_length < 20 else "long" if mean_length > 50 else "medium"


# id, name, title, train, dev, test, mean gold length (first 10 collected train variations; docs/RESULTS.md)
# fmt: off
_TABLE = [
    ("1-1", "boil", "Changes of State (Boiling)", 14, 7, 9, 38.8),
    ("1-2", "melt", "Changes of State (Melting)", 14, 7, 9, 37.6),
    ("1-3", "freeze", "Changes of State (Freezing)", 14, 7, 9, 33.6),
    ("1-4", "change-the-state-of-matter-of", "Changes of State (Any)", 14, 7, 9, 28.4),
    ("2-1", "use-thermometer", "Use Thermometer", 270, 135, 135, 19.6),
    ("2-2", "measure-melting-point-known-substance", "Measuring Melting Point (known)", 218, 109, 109, 23.2),
    ("2-3", "measure-melting-point-unknown-substance", "Measuring Melting Point (unknown)", 150, 75, 75, 74.8),
    ("3-1", "power-component", "Create a circuit", 10, 5, 5, 12.4),
    ("3-2", "power-component-renewable-vs-nonrenewable-energy", "Renewable vs Non-renewable Energy", 10, 5, 5, 20.9),
    ("3-3", "test-conductivity", "Test Conductivity (known)", 450, 225, 225, 26.6),
    ("3-4", "test-conductivity-of-unknown-substances", "Test Conductivity (unknown)", 300, 150, 150, 24.4),
    ("4-1", "find-living-thing", "Find a living thing", 150, 75, 75, 10.6),
    ("4-2", "find-non-living-thing", "Find a non-living thing", 150, 75, 75, 6.0),
    ("4-3", "find-plant", "Find a plant", 150, 75, 75, 11.8),
    ("4-4", "find-animal", "Find an animal", 150, 75, 75, 10.6),
    ("5-1", "grow-plant", "Grow a plant", 62, 31, 33, 67.5),
    ("5-2", "grow-fruit", "Grow a fruit", 62, 31, 33, 77.6),
    ("6-1", "chemistry-mix", "Mixing (generic)", 16, 8, 8, 28.0),
    ("6-2", "chemistry-mix-paint-secondary-color", "Mixing paints (secondary colours)", 18, 9, 9, 18.0),
    ("6-3", "chemistry-mix-paint-tertiary-color", "Mixing paints (tertiary colours)", 18, 9, 9, 26.5),
    ("7-1", "lifespan-longest-lived", "Identify longest-lived animal", 62, 31, 32, 5.8),
    ("7-2", "lifespan-shortest-lived", "Identify shortest-lived animal", 62, 31, 32, 5.8),
    ("7-3", "lifespan-longest-lived-then-shortest-lived", "Identify longest-then-shortest-lived animal", 62, 31, 32, 6.8),
    ("8-1", "identify-life-stages-1", "Identify life stages (plant)", 6, 3, 5, 32.8),
    ("8-2", "identify-life-stages-2", "Identify life stages (animal)", 4, 2, 4, 13.8),
    ("9-1", "inclined-plane-determine-angle", "Inclined planes (determine angle)", 84, 42, 42, 78.0),
    ("9-2", "inclined-plane-friction-named-surfaces", "Friction (known surfaces)", 692, 346, 348, 60.5),
    ("9-3", "inclined-plane-friction-unnamed-surfaces", "Friction (unknown surfaces)", 80, 40, 42, 193.7),
    ("10-1", "mendelian-genetics-known-plant", "Mendelian genetics (known plant)", 60, 30, 30, 130.4),
    ("10-2", "mendelian-genetics-unknown-plant", "Mendelian genetics (unknown plant)", 240, 120, 120, 129.9),
]
# fmt: on

TASKS: tuple[Task, ...] = tuple(
    Task(tid, name, title, tr, dv, te, bucket_for(mean), mean)
    for tid, name, title, tr, dv, te, mean in _TABLE
)
BY_ID = {t.id: t for t in TASKS}
BY_NAME = {t.name: t for t in TASKS}

# The paper's downsampling of the training split (seeded): these tasks have many near-identical
# variations that would otherwise dominate the data.
TRAIN_CAPS = {"9-1": 50, "9-2": 50, "9-3": 50, "10-1": 50, "10-2": 50, "3-3": 100}
# The test protocol of the paper and SwiftSage: the first 10 test variations of each task.
TEST_PER_TASK = 10


def check_split(split: str) -> str:
    if split not in SPLITS:
        raise VariationError(f"unknown split {split!r}; choose one of {', '.join(SPLITS)}")
    return split


def get_task(spec: str) -> Task:
    """One task by id ("1-1") or name ("boil"); the error suggests close names."""
    spec = spec.strip()
    task = BY_ID.get(spec) or BY_NAME.get(spec.lower())
    if task is None:
        raise UnknownTaskError(_unknown_message(spec))
    return task


def resolve_tasks(specs: Iterable[str] | str | None) -> list[Task]:
    """Tasks named by ids, names or globs ("4-*", "*melting*"), comma- or space-separated.

    None (the option left out) or "all" means all 30; given but naming no task (`--tasks ''`) is an
    error, not all 30. Order follows the benchmark's order; duplicates are dropped.
    """
    if isinstance(specs, str):
        specs = [specs]
    specs = list(specs or ())
    words = [w for spec in specs for w in re.split(r"[,\s]+", spec) if w]
    if specs and not words:
        raise UnknownTaskError("--tasks names no task; leave it out for all 30, or give ids, names or globs")
    if not words or words == ["all"]:
        return list(TASKS)
    chosen: set[str] = set()
    for word in words:
        if any(ch in word for ch in "*?["):
            hits = [t.id for t in TASKS if fnmatch.fnmatch(t.id, word) or fnmatch.fnmatch(t.name, word)]
            if not hits:
                raise UnknownTaskError(f"no task matches {word!r}; `subgoal tasks` lists them")
            chosen.update(hits)
        else:
            chosen.add(get_task(word).id)
    return [t for t in TASKS if t.id in chosen]


def _unknown_message(spec: str) -> str:
    close = difflib.get_close_matches(spec.lower(), [*BY_ID, *BY_NAME], n=3, cutoff=0.5)
    hint = f"; did you mean {', '.join(close)}?" if close else "; `subgoal tasks` lists them"
    return f"unknown task {spec!r}{hint}"


def check_variation(task: Task, variation: int, split: str | None = None) -> int:
    if split is None:
        task.split_of(variation)  # raises when out of range
        return variation
    allowed = task.variations(split)
    if variation not in allowed:
        raise VariationError(
            f"variation {variation} is not in the {split} split of task {task.id} "
            f"({task.name}): it has {allowed[0]}-{allowed[-1]}"
        )
    return variation
