"""The run folder: what `subgoal eval` writes, beside the episode format it holds.

A run lives in `WORKSPACE/runs/<timestamp>-<agent>/`:

    config.json          what was asked (agent, checkpoints, split, tasks, protocol): the resume key
    episodes.jsonl.gz    every finished episode (trajectories in the episode format, replayable)
    errors.jsonl         episodes that could not be played (JVM died twice), one JSON object a line
    results.json         the summary (report.py), rewritten at the end and on Ctrl-C
    report.md            the same as Markdown

Episodes are appended as they finish (evaluation.py), so Ctrl-C or a crash loses at most the
episodes in flight; running again on the same folder plays only what is missing (errored ones are
retried).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from subgoal.engine.agent_kinds import AgentSpec
from subgoal.engine.env import EVAL_STEP_LIMIT, STALL_LIMIT
from subgoal.engine.episode import Episode, repair
from subgoal.engine.files import write_atomic
from subgoal.engine.oracle import plan_variations, scienceworld_version
from subgoal.engine.report import Summary, markdown, merge_keys, summarize
from subgoal.engine.rules.layer import LEGACY_LEVEL, RuleSet
from subgoal.engine.tasks import Task, check_split
from subgoal.errors import SubgoalError

CONFIG, EPISODES, ERRORS, RESULTS, REPORT = (
    "config.json",
    "episodes.jsonl.gz",
    "errors.jsonl",
    "results.json",
    "report.md",
)


@dataclass(frozen=True)
class EvalProtocol:
    """What each episode of a run is held to: the split its variations come from, how many per task,
    and when an episode ends. The default is the paper's protocol."""

    split: str = "test"
    max_variations: int | None = None  # None: all (test: the first 10, as plan_variations says)
    step_limit: int = EVAL_STEP_LIMIT
    stall_limit: int | None = STALL_LIMIT  # steps without a score change before an episode ends
    skip_variations: int = 0  # the first N variations of each task left out (plan_variations)

    def __post_init__(self) -> None:
        check_split(self.split)


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
    def protocol(self) -> EvalProtocol:
        c = self.config
        return EvalProtocol(
            c["split"],
            c.get("max_variations"),
            c["step_limit"],
            c.get("stall_limit"),
            c.get("skip_variations", 0),
        )

    @property
    def rules(self) -> str:
        """The rules level the run's agent played at; runs from before levels had every rule on."""
        return str(self.config.get("spec", {}).get("rules") or LEGACY_LEVEL)

    def check_rules_unchanged(self) -> None:
        """Refuse to go on with a run whose level's rules changed since it was played (a rule
        retired or added): its finished episodes and the new ones would not be one agent's.
        Runs from before the record are not checked."""
        recorded = self.config.get("active_rules")
        if recorded is None:
            return
        now = RuleSet(self.rules).active
        if recorded != now:
            changed = [f"-{n}" for n in sorted(set(recorded) - set(now))] + [
                f"+{n}" for n in sorted(set(now) - set(recorded))
            ]
            raise SubgoalError(
                f"{self.name} was played when the {self.rules} rules were others ({' '.join(changed)} since): "
                "start another run (--name)"
            )

    @property
    def jobs(self) -> list[tuple[str, int]]:
        return [(t, int(v)) for t, v in self.config["jobs"]]

    @classmethod
    def create(
        cls,
        runs_dir: Path,
        spec: AgentSpec,
        tasks: Sequence[Task],
        protocol: EvalProtocol = EvalProtocol(),
        name: str | None = None,
    ) -> Run:
        split, max_variations = protocol.split, protocol.max_variations
        skip = protocol.skip_variations
        jobs = [(t.id, v) for t in tasks for v in plan_variations(t, split, max_variations, skip=skip)]
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        path = runs_dir / (name or f"{stamp}-{spec.kind}")
        while path.exists() and name is None:  # two runs started in the same second
            path = path.with_name(path.name + "-1")
        path.mkdir(parents=True, exist_ok=name is not None)
        config = {
            "agent": spec.kind,
            "rules": spec.rules,
            "active_rules": RuleSet(spec.rules).active,
            "spec": asdict(spec),
            "checkpoints": spec.checkpoints,
            "split": split,
            "tasks": [t.id for t in tasks],
            "max_variations": max_variations,
            "skip_variations": skip,
            "jobs": jobs,
            "step_limit": protocol.step_limit,
            "stall_limit": protocol.stall_limit,
            "simplification": "easy",
            "scienceworld": scienceworld_version(),
            "created": datetime.now().isoformat(timespec="seconds"),
        }
        run = cls(path, config)
        if (path / CONFIG).exists():
            existing = cls.open(path)
            if existing.rules != spec.rules:
                raise SubgoalError(
                    f"{path} was played with the {existing.rules} rules, not {spec.rules}: "
                    f"pick another --name, or --resume it at its own level"
                )
            existing.check_rules_unchanged()
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
        title = f"eval {self.name} ({self.rules} rules)"
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
