"""Oracle episodes: replay ScienceWorld's gold paths and record everything the agent would see."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from subgoal.engine.env import Session, begin_episode, take_step
from subgoal.engine.episode import Episode, EpisodeWriter, repair
from subgoal.engine.pool import EnvPool, Outcome
from subgoal.engine.tasks import TEST_PER_TASK, TRAIN_CAPS, Task, get_task

COLLECT_STEP_LIMIT = 10_000


def scienceworld_version() -> str:
    try:
        return metadata.version("scienceworld")
    except metadata.PackageNotFoundError:  # pragma: no cover - it is a hard dependency
        return "unknown"


@dataclass(frozen=True)
class Job:
    task_id: str
    variation: int
    split: str


def plan_variations(
    task: Task,
    split: str,
    max_variations: int | None = None,
    downsample: bool = True,
    seed: int = 0,
    skip: int = 0,
) -> list[int]:
    """Which variations of `task` to collect for `split`.

    train/dev: all, or the paper's seeded downsample for the tasks with very many near-identical
    variations (9-x and 10-x capped at 50, 3-3 at 100). test: the protocol's first 10.
    `skip` leaves out the first N of that list; on test it is taken from all the test variations, so
    `skip=10` gives episodes the protocol never plays (a held-out check of a reported number).
    `max_variations` then keeps the first N of what is left.
    """
    variations = task.variations(split)
    if split == "test":
        variations = variations if skip else variations[:TEST_PER_TASK]
    elif downsample and task.id in TRAIN_CAPS and len(variations) > TRAIN_CAPS[task.id]:
        rng = random.Random(f"{seed}:{task.id}:{split}")
        variations = sorted(rng.sample(variations, TRAIN_CAPS[task.id]))
    variations = variations[skip:]
    if max_variations is not None:
        variations = variations[:max_variations]
    return variations


def replay_gold(session: Session, job: Job) -> Episode:
    """Load a variation, take its gold path with the cheap step, and record each step's state."""
    task = get_task(job.task_id)
    started = time.perf_counter()
    session.load(task, job.variation, gold=True)
    gold = session.gold_path()  # must be read right after load
    meta = {"scienceworld": scienceworld_version(), "gold_length": len(gold)}
    episode = begin_episode(session, task, job.variation, job.split, "oracle", meta)
    for action in gold:
        episode.steps.append(take_step(session, action))
        if episode.steps[-1].done:
            break
    episode.meta["seconds"] = round(time.perf_counter() - started, 3)
    return episode


@dataclass
class CollectReport:
    collected: int = 0
    skipped: int = 0
    failed_gold: int = 0  # gold path did not reach 100: written to the .failed file
    errors: int = 0  # JVM crashed twice, or a bug: nothing written, retried on the next run
    steps: int = 0


def failed_path(path: Path) -> Path:
    """Where episodes whose gold path fails are kept, next to the training file."""
    return path.with_name(path.name.replace(".jsonl.gz", "") + ".failed.jsonl.gz")


def collect(
    jobs: list[Job],
    out: Path,
    workers: int = 1,
    on_outcome: Callable[[Outcome[Job, Episode]], None] | None = None,
    on_skip: Callable[[int], None] | None = None,
) -> CollectReport:
    """Collect oracle episodes into `out`, skipping those already there; resumable at any point."""
    failed_out = failed_path(out)
    done = {ep.key for ep in repair(out)} | {ep.key for ep in repair(failed_out)}
    todo = [j for j in jobs if (j.task_id, j.variation) not in done]
    report = CollectReport(skipped=len(jobs) - len(todo))
    if on_skip:
        on_skip(report.skipped)
    if not todo:
        return report
    with (
        EnvPool(workers=workers, step_limit=COLLECT_STEP_LIMIT) as pool,
        EpisodeWriter(out) as good,
        EpisodeWriter(failed_out) as bad,
    ):
        for outcome in pool.imap_unordered(replay_gold, todo):
            if outcome.ok and outcome.result is not None:
                episode = outcome.result
                report.steps += len(episode.steps)
                if episode.solved:
                    good.append(episode)
                    report.collected += 1
                else:
                    bad.append(episode)
                    report.failed_gold += 1
            else:
                report.errors += 1
            if on_outcome:
                on_outcome(outcome)
    if failed_out.exists() and failed_out.stat().st_size == 0:
        failed_out.unlink()
    return report
