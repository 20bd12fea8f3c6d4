"""The benchmark's arithmetic and its tables: per task, per bucket, overall, beside the paper.

Protocol (DESIGN.md): an episode scores its final score clamped to [0, 100] (a failed episode's
-100 counts as 0); a task scores the mean over its episodes; a bucket and the overall score are
means of *task* scores, so a task with 10 episodes weighs as much as one with 5. An episode that
could not be played (the JVM died twice) counts as 0 and is listed, so a crash never flatters a run.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from statistics import fmean
from typing import Any

from subgoal.engine.episode import Episode
from subgoal.engine.tasks import BUCKETS, TASKS, get_task

# Hashemzadeh et al. 2024, ScienceWorld, 30 tasks, flan-t5-large (770 M) for both modules.
PAPER = {"hierarchical": 65.43, "flat": 46.25}
PAPER_LABEL = "paper, flan-t5-large 770M"


@dataclass
class TaskScore:
    task_id: str
    name: str
    bucket: str
    episodes: int
    score: float  # mean clamped score over the task's episodes
    solved: int  # episodes that reached 100
    errors: int = 0  # episodes that could not be played (counted as 0)


@dataclass
class Summary:
    tasks: list[TaskScore]
    buckets: dict[str, float | None]
    overall: float | None
    episodes: int
    errors: int
    steps: int
    gen_seconds: float
    env_seconds: float
    episode_seconds: float
    end_reasons: dict[str, int] = field(default_factory=dict)

    @property
    def steps_per_second(self) -> float:
        return self.steps / self.episode_seconds if self.episode_seconds > 0 else 0.0

    @property
    def complete_benchmark(self) -> bool:
        """Whether the overall score is over all 30 tasks (only then is it comparable to the paper)."""
        return len(self.tasks) == len(TASKS)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["steps_per_second"] = round(self.steps_per_second, 3)
        return data


def summarize(episodes: Iterable[Episode], errors: Iterable[tuple[str, int]] = ()) -> Summary:
    """Scores of the episodes played plus (task_id, variation) keys of episodes that failed."""
    scores: dict[str, list[int]] = {}
    failed: dict[str, int] = {}
    steps = 0
    gen = env = wall = 0.0
    reasons: dict[str, int] = {}
    count = 0
    for ep in episodes:
        count += 1
        scores.setdefault(ep.task_id, []).append(ep.clamped_score)
        steps += len(ep.steps)
        gen += float(ep.meta.get("gen_seconds", 0.0))
        env += float(ep.meta.get("env_seconds", 0.0))
        wall += float(ep.meta.get("seconds", 0.0))
        reason = str(ep.meta.get("end_reason", "unknown"))
        reasons[reason] = reasons.get(reason, 0) + 1
    error_count = 0
    for task_id, _variation in errors:
        error_count += 1
        scores.setdefault(task_id, []).append(0)
        failed[task_id] = failed.get(task_id, 0) + 1
    if error_count:
        reasons["error"] = reasons.get("error", 0) + error_count

    order = {t.id: i for i, t in enumerate(TASKS)}
    rows = []
    for task_id in sorted(scores, key=lambda t: order.get(t, len(order))):
        task = get_task(task_id)
        values = scores[task_id]
        rows.append(
            TaskScore(
                task_id,
                task.name,
                task.bucket,
                len(values),
                fmean(values),
                sum(v >= 100 for v in values),
                failed.get(task_id, 0),
            )
        )
    buckets: dict[str, float | None] = {}
    for bucket in BUCKETS:
        values = [r.score for r in rows if r.bucket == bucket]
        buckets[bucket] = fmean(values) if values else None
    overall = fmean(r.score for r in rows) if rows else None
    return Summary(rows, buckets, overall, count + error_count, error_count, steps, gen, env, wall, reasons)


def _fmt(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def _bucket_counts(summary: Summary) -> dict[str, int]:
    return {b: sum(r.bucket == b for r in summary.tasks) for b in BUCKETS}


def results_table(summary: Summary, title: str, agent: str | None = None):  # type: ignore[no-untyped-def]
    """A rich Table: one row per task, then the buckets, the overall score, and the paper's."""
    from rich.table import Table

    table = Table(
        title=title,
        title_justify="left",
        caption="episode scores clamped to [0, 100]; buckets and overall are means of task scores",
        caption_justify="left",
    )
    for name, justify in (
        ("task", "left"),
        ("name", "left"),
        ("bucket", "left"),
        ("episodes", "right"),
        ("solved", "right"),
        ("score", "right"),
    ):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for row in summary.tasks:
        episodes = f"{row.episodes}" + (f" ({row.errors} failed)" if row.errors else "")
        table.add_row(row.task_id, row.name, row.bucket, episodes, str(row.solved), _fmt(row.score))
    table.add_section()
    counts = _bucket_counts(summary)
    for bucket in BUCKETS:
        if counts[bucket]:
            table.add_row(bucket, _tasks(counts[bucket]), "", "", "", _fmt(summary.buckets[bucket]))
    n = len(summary.tasks)
    scope = "all 30 tasks" if summary.complete_benchmark else f"{n} of 30 tasks"
    table.add_row(
        "[bold]overall[/]",
        scope,
        "",
        str(summary.episodes),
        str(sum(r.solved for r in summary.tasks)),
        f"[bold]{_fmt(summary.overall)}[/]",
    )
    if agent in PAPER:
        table.add_row("paper", f"{PAPER_LABEL}, {agent}, 30 tasks", "", "", "", f"{PAPER[agent]:.2f}")
    return table


def compare_table(a: Summary, b: Summary, label_a: str, label_b: str):  # type: ignore[no-untyped-def]
    """Two runs side by side: per task (those either ran), per bucket, overall, and the difference."""
    from rich.table import Table

    table = Table(title=f"{label_a} vs {label_b}", title_justify="left")
    for name, justify in (
        ("task", "left"),
        ("name", "left"),
        (label_a, "right"),
        (label_b, "right"),
        ("Δ", "right"),
    ):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    rows_a = {r.task_id: r for r in a.tasks}
    rows_b = {r.task_id: r for r in b.tasks}
    order = {t.id: i for i, t in enumerate(TASKS)}
    for task_id in sorted(set(rows_a) | set(rows_b), key=lambda t: order.get(t, 99)):
        sa = rows_a[task_id].score if task_id in rows_a else None
        sb = rows_b[task_id].score if task_id in rows_b else None
        table.add_row(task_id, get_task(task_id).name, _fmt(sa), _fmt(sb), _delta(sa, sb))
    table.add_section()
    for bucket in BUCKETS:
        sa, sb = a.buckets.get(bucket), b.buckets.get(bucket)
        if sa is not None or sb is not None:
            table.add_row(bucket, "", _fmt(sa), _fmt(sb), _delta(sa, sb))
    table.add_row("[bold]overall[/]", "", _fmt(a.overall), _fmt(b.overall), _delta(a.overall, b.overall))
    if set(rows_a) != set(rows_b):
        table.caption = "the runs cover different tasks: overall and bucket scores are not comparable"
    return table


def _tasks(n: int) -> str:
    return f"{n} task" if n == 1 else f"{n} tasks"


def _delta(a: float | None, b: float | None) -> str:
    return "—" if a is None or b is None else f"{b - a:+.2f}"


def timing_line(summary: Summary) -> str:
    return (
        f"{summary.steps} steps in {summary.episodes} episode{'s' if summary.episodes != 1 else ''}; generation {summary.gen_seconds:.1f} s, "
        f"environment {summary.env_seconds:.1f} s, {summary.steps_per_second:.2f} steps/s per episode in play"
    )


def markdown(summary: Summary, title: str, agent: str | None, config: dict[str, Any]) -> str:
    """report.md: the same tables as the terminal, as Markdown, with the run's configuration."""
    lines = [f"# {title}", ""]
    keys = (
        "agent",
        "rules",
        "checkpoints",
        "split",
        "skip_variations",
        "tasks",
        "step_limit",
        "stall_limit",
        "created",
    )
    for key in keys:
        if key in config and config[key] not in (None, {}, [], 0):
            value = config[key]
            if isinstance(value, dict):
                value = ", ".join(f"{k}: `{v}`" for k, v in value.items())
            elif isinstance(value, list):
                value = ", ".join(str(v) for v in value)
            lines.append(f"- **{key.replace('_', ' ')}**: {value}")
    lines += ["", "| task | name | bucket | episodes | solved | score |", "|---|---|---|--:|--:|--:|"]
    for r in summary.tasks:
        failed = f" ({r.errors} failed)" if r.errors else ""
        lines.append(
            f"| {r.task_id} | {r.name} | {r.bucket} | {r.episodes}{failed} | {r.solved} | {r.score:.2f} |"
        )
    counts = _bucket_counts(summary)
    lines += ["", "| | tasks | score |", "|---|--:|--:|"]
    for bucket in BUCKETS:
        if counts[bucket]:
            lines.append(f"| {bucket} | {counts[bucket]} | {_fmt(summary.buckets[bucket])} |")
    lines.append(f"| **overall** | {len(summary.tasks)} | **{_fmt(summary.overall)}** |")
    if agent in PAPER:
        lines.append(f"| {PAPER_LABEL} ({agent}) | 30 | {PAPER[agent]:.2f} |")
    if not summary.complete_benchmark:
        lines += ["", f"Overall is over {len(summary.tasks)} of the 30 tasks: not comparable to the paper's."]
    reasons = ", ".join(f"{k} {v}" for k, v in sorted(summary.end_reasons.items()))
    lines += ["", f"Timing: {timing_line(summary)}.", f"Episode ends: {reasons}.", ""]
    return "\n".join(lines)


def merge_keys(episodes: Sequence[Episode]) -> list[Episode]:
    """One episode per (task, variation), the last written winning (a resumed run may repeat one)."""
    latest: dict[tuple[str, int], Episode] = {}
    for ep in episodes:
        latest[ep.key] = ep
    return list(latest.values())
