"""The benchmark runner: many episodes through the JVM pool, into a resumable run folder.

A run lives in `WORKSPACE/runs/<timestamp>-<agent>/`:

    config.json          what was asked (agent, checkpoints, split, tasks, protocol): the resume key
    episodes.jsonl.gz    every finished episode (trajectories in the episode format, replayable)
    errors.jsonl         episodes that could not be played (JVM died twice), one JSON object a line
    results.json         the summary (report.py), rewritten at the end and on Ctrl-C
    report.md            the same as Markdown

Episodes are appended as they finish, so Ctrl-C or a crash loses at most the episodes in flight;
running again on the same folder plays only what is missing (errored ones are retried).
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from subgoal.engine.agents import Agent, FlatAgent, GenerationSettings, HierarchicalAgent, OracleAgent
from subgoal.engine.batching import GenerationBatcher
from subgoal.engine.env import EVAL_STEP_LIMIT, Session
from subgoal.engine.episode import Episode, EpisodeWriter, load_episodes, repair
from subgoal.engine.files import write_atomic
from subgoal.engine.grounding import Grounder
from subgoal.engine.oracle import plan_variations, scienceworld_version
from subgoal.engine.pool import EnvPool, Outcome, ThreadedEnvPool
from subgoal.engine.report import Summary, markdown, merge_keys, summarize
from subgoal.engine.rollout import STALL_LIMIT, Rollout
from subgoal.engine.tasks import Task, check_split
from subgoal.errors import AgentError, CheckpointError, SubgoalError
from subgoal.workspace import Workspace

AGENTS = ("hierarchical", "flat", "oracle")
CONFIG, EPISODES, ERRORS, RESULTS, REPORT = (
    "config.json",
    "episodes.jsonl.gz",
    "errors.jsonl",
    "results.json",
    "report.md",
)


# -- what to play with ---------------------------------------------------------------------------
@dataclass(frozen=True)
class AgentSpec:
    """Everything needed to build an agent in any process (picklable, hashable: the worker cache key).
    Checkpoint fields hold resolved folder paths."""

    kind: str
    planner: str | None = None
    executor: str | None = None
    flat: str | None = None
    oracle_file: str | None = None  # oracle/annotated episodes to replay; None: the live gold path
    num_beams: int = 5
    grounding: str = "fuzzy"
    subgoal_steps: int = 25  # unused since sub-goals are checked (allowances per verb): old run configs
    device: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in AGENTS:
            raise AgentError(f"unknown agent {self.kind!r}; choose one of {', '.join(AGENTS)}")
        needed = {"hierarchical": ("planner", "executor"), "flat": ("flat",), "oracle": ()}[self.kind]
        for slot in needed:
            if not getattr(self, slot):
                raise AgentError(f"the {self.kind} agent needs a {slot} checkpoint (--{slot} NAME)")

    @property
    def checkpoints(self) -> dict[str, str]:
        return {s: v for s in ("planner", "executor", "flat") if (v := getattr(self, s))}

    def check(self) -> None:
        """Fail fast, before any JVM starts or weights load: each checkpoint has the right role
        and the tokenizer it was trained with, then whole weights."""
        from subgoal.checkpoints import check_weights

        for slot, path in self.checkpoints.items():
            check_checkpoint(path, slot)
        for path in self.checkpoints.values():
            check_weights(path)

    def build(self, policy_for: Callable[[str | None, str], Any] | None = None) -> Agent:
        """A fresh agent. `policy_for(path, role)` supplies its models (default: load them here)."""
        load = policy_for or (lambda path, role: load_policy(path, role, self.device))
        settings = GenerationSettings(num_beams=self.num_beams)
        if self.kind == "oracle":
            episodes = load_episodes(self.oracle_file) if self.oracle_file else []
            return OracleAgent(episodes)
        grounder = Grounder(self.grounding)
        if self.kind == "flat":
            return FlatAgent(load(self.flat, "flat"), grounder, settings)
        return HierarchicalAgent(
            load(self.planner, "planner"),
            load(self.executor, "executor"),
            grounder,
            settings,
        )


def check_checkpoint(path: str, role: str) -> dict[str, Any]:
    """The manifest of checkpoint `path` once it is known to be a `role` with its own tokenizer
    (no torch needed: this runs before anything heavy)."""
    from subgoal.checkpoints import file_hash, read_manifest

    manifest = read_manifest(path)
    if manifest.get("role") != role:
        raise CheckpointError(f"{path} is a {manifest.get('role')} checkpoint, given as the {role}")
    expected, tokenizer = manifest.get("tokenizer_hash"), Path(path) / "tokenizer.json"
    if expected and tokenizer.exists() and file_hash([tokenizer]) != expected:
        raise CheckpointError(
            f"{path}: its tokenizer.json is not the one the model was trained with "
            "(the manifest's tokenizer_hash differs): copy the checkpoint folder whole"
        )
    return manifest


def load_policy(path: str | None, role: str, device: str | None = None):  # type: ignore[no-untyped-def]
    """A checkpoint loaded for `role`: a wrong role or a tokenizer that does not fit the model is
    one clear line, before a single episode is played with it."""
    from safetensors import SafetensorError

    from subgoal.checkpoints import check_weights
    from subgoal.engine.models import Policy

    assert path is not None
    check_checkpoint(path, role)
    check_weights(path)
    try:
        policy = Policy.load(path, device=device)
    except SafetensorError as exc:  # damage the header check cannot see
        raise CheckpointError(f"{path}: cannot load the model ({str(exc).splitlines()[0]})") from None
    vocab = int(getattr(policy.model.config, "vocab_size", 0) or 0)
    if vocab and len(policy.tokenizer) > vocab:
        raise CheckpointError(
            f"{path}: its tokenizer has {len(policy.tokenizer)} tokens but the model only {vocab}: "
            "the checkpoint was trained with another tokenizer"
        )
    policy.manifest = {**policy.manifest, "path": str(path), "name": Path(path).name}
    return policy


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
    if threads and spec.kind != "oracle":  # the oracle needs no torch: do not import it
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
            slot: batcher.wrap(load_policy(path, slot, spec.device))
            for slot, path in spec.checkpoints.items()
        }
        self._local = threading.local()

    def play(self, session: Session, job: EvalJob) -> Episode:
        agent = getattr(self._local, "agent", None)
        if agent is None:
            agent = self._local.agent = self.spec.build(lambda _path, role: self.policies[role])
        with self.batcher.client():
            return play_with(agent, session, job)


# -- the run folder ------------------------------------------------------------------------------
@dataclass
class Run:
    path: Path
    config: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def spec(self) -> AgentSpec:
        return AgentSpec(**self.config["spec"])

    @property
    def jobs(self) -> list[tuple[str, int]]:
        return [(t, int(v)) for t, v in self.config["jobs"]]

    @classmethod
    def create(
        cls,
        runs_dir: Path,
        spec: AgentSpec,
        split: str,
        tasks: Sequence[Task],
        max_variations: int | None = None,
        step_limit: int = EVAL_STEP_LIMIT,
        stall_limit: int | None = STALL_LIMIT,
        name: str | None = None,
    ) -> Run:
        check_split(split)
        jobs = [(t.id, v) for t in tasks for v in plan_variations(t, split, max_variations)]
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        path = runs_dir / (name or f"{stamp}-{spec.kind}")
        while path.exists() and name is None:  # two runs started in the same second
            path = path.with_name(path.name + "-1")
        path.mkdir(parents=True, exist_ok=name is not None)
        config = {
            "agent": spec.kind,
            "spec": asdict(spec),
            "checkpoints": spec.checkpoints,
            "split": split,
            "tasks": [t.id for t in tasks],
            "max_variations": max_variations,
            "jobs": jobs,
            "step_limit": step_limit,
            "stall_limit": stall_limit,
            "simplification": "easy",
            "scienceworld": scienceworld_version(),
            "created": datetime.now().isoformat(timespec="seconds"),
        }
        run = cls(path, config)
        if (path / CONFIG).exists():
            existing = cls.open(path)
            if existing.config.get("spec") != config["spec"] or existing.jobs != run.jobs:
                raise SubgoalError(f"{path} holds a different run; pick another --name or --resume it")
            return existing
        write_atomic(path / CONFIG, json.dumps(config, indent=2) + "\n")
        return run

    def is_empty(self) -> bool:
        """Nothing was played into it yet: no episode, no error."""
        files = (self.path / EPISODES, self.path / ERRORS)
        return not any(f.exists() and f.stat().st_size for f in files)

    @classmethod
    def open(cls, path: Path) -> Run:
        file = path / CONFIG
        try:
            config = json.loads(file.read_text())
        except FileNotFoundError:
            raise SubgoalError(f"{path} is not an eval run: it has no {CONFIG}") from None
        except (OSError, ValueError) as exc:
            raise SubgoalError(f"{file}: unreadable ({exc})") from None
        return cls(path, config)

    def episodes(self) -> list[Episode]:
        """The finished episodes (a truncated tail from a crash is cut off and will be replayed)."""
        return merge_keys(repair(self.path / EPISODES))

    def errors(self, finished: set[tuple[str, int]] | None = None) -> list[dict[str, Any]]:
        file = self.path / ERRORS
        if not file.exists():
            return []
        records = []
        for line in file.read_text().splitlines():
            try:
                records.append(json.loads(line))
            except ValueError:
                continue  # a half-written last line from a crash
        finished = finished or set()
        latest = {(r["task_id"], int(r["variation"])): r for r in records}
        return [r for key, r in latest.items() if key not in finished]

    def summary(self) -> Summary:
        episodes = self.episodes()
        done = {ep.key for ep in episodes}
        wanted = set(self.jobs)
        errors = [(r["task_id"], int(r["variation"])) for r in self.errors(done)]
        return summarize([ep for ep in episodes if ep.key in wanted], [k for k in errors if k in wanted])

    def batching(self) -> dict[str, Any] | None:
        """What the last `--batch` invocation's batcher did (results.json), if there was one."""
        try:
            return json.loads((self.path / RESULTS).read_text()).get("last_batching")
        except (OSError, ValueError):
            return None

    def write_results(
        self,
        summary: Summary,
        complete: bool,
        wall_seconds: float | None = None,
        batching: dict[str, Any] | None = None,
    ) -> None:
        title = f"eval {self.name}"
        data = {
            "run": self.name,
            "complete": complete,
            "config": self.config,
            **summary.to_json(),
            "errors_list": self.errors({ep.key for ep in self.episodes()}),
        }
        if wall_seconds is not None:
            data["last_wall_seconds"] = round(wall_seconds, 2)
        if batching:
            data["last_batching"] = batching
        write_atomic(self.path / RESULTS, json.dumps(data, indent=2) + "\n")
        write_atomic(self.path / REPORT, markdown(summary, title, self.config.get("agent"), self.config))


def find_run(spec: str, runs_dir: Path) -> Path:
    """A run folder from a path, a name under runs/, or `last` (the one changed most recently)."""
    if spec == "last":
        runs = [p for p in runs_dir.glob("*") if (p / CONFIG).exists()]
        if not runs:
            raise SubgoalError(f"no eval runs in {runs_dir} yet")
        return max(runs, key=_last_changed)
    for path in (runs_dir / spec, Path(spec).expanduser()):
        if (path / CONFIG).exists():
            return path
    raise SubgoalError(f"no eval run {spec!r} (neither {runs_dir / spec} nor a folder with {CONFIG})")


def _last_changed(run: Path) -> float:
    """When anything in `run` last changed: an appended episode changes its file, not the folder."""
    times = [run.stat().st_mtime]
    for path in run.iterdir():
        with contextlib.suppress(OSError):  # a temporary file renamed away meanwhile
            times.append(path.stat().st_mtime)
    return max(times)


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
    spec = run.spec
    spec.check()
    finished = run.episodes()
    done_keys = {ep.key for ep in finished}
    todo = [(t, v) for t, v in run.jobs if (t, v) not in done_keys]
    # One torch thread per worker: on CPU, parallelism comes from --workers, and intra-op threads
    # fight the JVMs (and anything else running) for cores. Measured on 2 busy cores: 5 beams of
    # a tiny T5 took 1.0 s with 1 thread and 94 s with 2 (OpenMP threads spin on a taken core).
    threads = 1
    jobs = [
        EvalJob(t, v, run.config["split"], spec, run.config["step_limit"], run.config["stall_limit"], threads)
        for t, v in todo
    ]
    progress = Progress(total=len(run.jobs), skipped=len(run.jobs) - len(todo))
    for ep in finished:
        if ep.key in set(run.jobs):
            progress.done += 1
            progress.score_sum += ep.clamped_score
    if on_start:
        on_start(progress)
    if jobs and spec.kind == "oracle":
        # Its --oracle-file is read here, whatever --workers or --batch: a bad one is one line, not
        # an error for each episode in a worker. (Cheap: no model, and this agent is kept for -j 1.)
        agent_for(spec, threads)
    step_limit = run.config["step_limit"]
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


def resolve_spec(
    kind: str,
    workspace: Workspace,
    planner: str | None = None,
    executor: str | None = None,
    flat: str | None = None,
    **options: Any,
) -> AgentSpec:
    """An AgentSpec from checkpoint names or paths; a slot left empty takes the newest checkpoint of
    that role in the workspace (what `subgoal train` just made)."""
    from subgoal.checkpoints import resolve

    if kind not in AGENTS:
        raise AgentError(f"unknown agent {kind!r}; choose one of {', '.join(AGENTS)}")
    slots = {"hierarchical": ("planner", "executor"), "flat": ("flat",), "oracle": ()}[kind]
    given = {"planner": planner, "executor": executor, "flat": flat}
    paths = {}
    for slot in slots:
        name = given[slot] or newest_checkpoint(workspace, slot)
        paths[slot] = str(resolve(name, workspace).resolve())
    return AgentSpec(kind, **paths, **options)


def newest_checkpoint(workspace: Workspace, role: str) -> str:
    """The name of the newest `role` checkpoint. A broken newest one is an error, not skipped: the
    user meant that one, and an older model must not be benchmarked in its place unannounced."""
    from subgoal.checkpoints import MANIFEST, list_checkpoints

    found = [c for c in list_checkpoints(workspace) if c.role == role]
    flag = "--checkpoint" if role == "flat" else f"--{role}"
    if not found:
        raise CheckpointError(
            f"no {role} checkpoint in {workspace.checkpoints}: train one (`subgoal train {role}`) "
            f"or name one with {flag}"
        )
    found.sort(key=lambda c: (c.path / MANIFEST).stat().st_mtime, reverse=True)
    newest = found[0]
    if newest.broken:
        sound = next((c.name for c in found if not c.broken), None)
        other = f" (the newest sound one is {sound})" if sound else ""
        raise CheckpointError(
            f"the newest {role} checkpoint, {newest.name}, is broken: {newest.problem}; remove it "
            f"(`subgoal checkpoints rm {newest.name}`) or name another with {flag}{other}"
        )
    return newest.name
