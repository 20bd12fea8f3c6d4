"""The benchmark runner: every episode of a run folder (runs.py) not yet played, through the JVM
pool, appended to the folder as each finishes; then the run's results.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

from subgoal.engine.agent_kinds import AgentSpec, load_policy
from subgoal.engine.agents import Agent
from subgoal.engine.batching import GenerationBatcher
from subgoal.engine.env import EVAL_STEP_LIMIT, STALL_LIMIT, Session
from subgoal.engine.episode import Episode, EpisodeWriter
from subgoal.engine.pool import EnvPool, Outcome, ThreadedEnvPool
from subgoal.engine.report import Summary
from subgoal.engine.rollout import Rollout
from subgoal.engine.runs import EPISODES, ERRORS, Run
from subgoal.errors import SubgoalError


# -- the pool job --------------------------------------------------------------------------------
@dataclass(frozen=True)
class EvalJob:
    task_id: str
    variation: int
    split: str
    spec: AgentSpec
    step_limit: int = EVAL_STEP_LIMIT
    stall_limit: int | None = STALL_LIMIT
    threads: int | None = None  # torch threads in this worker (cores / workers)


_AGENTS: dict[AgentSpec, Agent] = {}  # per process: each worker loads its models once


def _set_torch_threads(spec: AgentSpec, threads: int | None) -> None:
    if threads and spec.checkpoints:  # an agent without models needs no torch: do not import it
        import torch

        torch.set_num_threads(threads)


def agent_for(spec: AgentSpec, threads: int | None = None) -> Agent:
    if spec not in _AGENTS:
        _set_torch_threads(spec, threads)
        _AGENTS[spec] = spec.build()
    return _AGENTS[spec]


def check_parallelism(workers: int, batch: int) -> None:
    """--workers (processes, models each) and --batch (threads, one shared model) do not combine."""
    if batch > 1 and workers > 1:
        raise SubgoalError("--batch plays its episodes in this process: use it without --workers")


def play(session: Session, job: EvalJob) -> Episode:
    return play_with(agent_for(job.spec, job.threads), session, job)


def play_with(agent: Agent, session: Session, job: EvalJob) -> Episode:
    rollout = Rollout(
        agent,
        session,
        job.task_id,
        job.variation,
        split=job.split,
        step_limit=job.step_limit,
        stall_limit=job.stall_limit,
    )
    return rollout.run()


class BatchedAgents:
    """Episodes on threads of this process, one agent each, over one copy of the models whose
    generate calls a GenerationBatcher gathers into batches (`subgoal eval --batch N`)."""

    def __init__(self, spec: AgentSpec, batcher: GenerationBatcher, threads: int | None = None):
        _set_torch_threads(spec, threads)
        self.spec, self.batcher = spec, batcher
        self.policies = {
            slot: batcher.wrap(load_policy(path, spec.device)) for slot, path in spec.checkpoints.items()
        }
        self._local = threading.local()

    def play(self, session: Session, job: EvalJob) -> Episode:
        agent = getattr(self._local, "agent", None)
        if agent is None:
            agent = self._local.agent = self.spec.build(lambda _path, role: self.policies[role])
        with self.batcher.client():
            return play_with(agent, session, job)


# -- running -------------------------------------------------------------------------------------
@dataclass
class Progress:
    total: int
    skipped: int  # already finished before this invocation
    done: int = 0
    score_sum: float = 0.0

    @property
    def mean(self) -> float:
        """Running mean of clamped episode scores over this run so far (a progress signal; the
        reported score is the mean of task means)."""
        return self.score_sum / self.done if self.done else 0.0


def evaluate(
    run: Run,
    workers: int = 1,
    batch: int = 1,
    on_start: Callable[[Progress], None] | None = None,
    on_episode: Callable[[Progress, Outcome[EvalJob, Episode]], None] | None = None,
) -> Summary:
    """Play every job of `run` not yet finished; write results.json and report.md. On Ctrl-C the
    finished episodes are already on disk; partial results are written and the interrupt re-raised.

    `workers` processes each play one episode at a time with their own models; `batch` > 1 instead
    plays that many episodes at once on threads of this process, with one copy of the models fed
    in batches (the GPU set-up)."""
    check_parallelism(workers, batch)
    spec, protocol = run.spec, run.protocol
    spec.check()
    finished = run.episodes()
    done_keys = {ep.key for ep in finished}
    todo = [(t, v) for t, v in run.jobs if (t, v) not in done_keys]
    # One torch thread per worker: on CPU, parallelism comes from --workers, and intra-op threads
    # fight the JVMs (and anything else running) for cores. Measured on 2 busy cores: 5 beams of
    # a tiny T5 took 1.0 s with 1 thread and 94 s with 2 (OpenMP threads spin on a taken core).
    threads = 1
    jobs = [
        EvalJob(t, v, protocol.split, spec, protocol.step_limit, protocol.stall_limit, threads)
        for t, v in todo
    ]
    progress = Progress(total=len(run.jobs), skipped=len(run.jobs) - len(todo))
    for ep in finished:
        if ep.key in set(run.jobs):
            progress.done += 1
            progress.score_sum += ep.clamped_score
    if on_start:
        on_start(progress)
    if jobs and not spec.checkpoints:
        # An agent without models (the oracle) is built here, whatever --workers or --batch: a bad
        # --oracle-file is one line, not an error for each episode in a worker. (Cheap, and this
        # agent is kept for -j 1.)
        agent_for(spec, threads)
    step_limit = protocol.step_limit
    batcher = GenerationBatcher(max_batch=max(64, batch)) if jobs and batch > 1 else None
    pool: EnvPool | ThreadedEnvPool
    if batcher is not None:
        # Models load before any JVM starts, so a bad checkpoint fails at once.
        fn: Callable[[Session, EvalJob], Episode] = BatchedAgents(spec, batcher, threads).play
        pool = ThreadedEnvPool(min(batch, len(jobs)), step_limit=step_limit)
    else:
        if jobs and workers <= 1:
            agent_for(spec, threads)  # load models here, so a bad checkpoint fails before a JVM starts
        fn, pool = play, EnvPool(workers=min(workers, max(1, len(jobs))), step_limit=step_limit)
    started = time.perf_counter()
    complete = False
    try:
        if jobs:
            with (
                pool,
                EpisodeWriter(run.path / EPISODES) as writer,
                open(run.path / ERRORS, "a") as errors,
            ):
                for outcome in pool.imap_unordered(fn, jobs):
                    job = outcome.item
                    if outcome.ok and outcome.result is not None:
                        writer.append(outcome.result)
                        progress.score_sum += outcome.result.clamped_score
                    else:
                        record = {"task_id": job.task_id, "variation": job.variation, "error": outcome.error}
                        errors.write(json.dumps(record) + "\n")
                        errors.flush()
                    progress.done += 1
                    if on_episode:
                        on_episode(progress, outcome)
        complete = True
    finally:
        stats = None
        if batcher is not None:
            batcher.close()
            stats = {"episodes_at_once": batch, **asdict(batcher.stats)}
            stats["mean_batch"] = round(batcher.stats.mean_batch, 2)
        summary = run.summary()
        run.write_results(summary, complete, time.perf_counter() - started, stats)
    return summary
