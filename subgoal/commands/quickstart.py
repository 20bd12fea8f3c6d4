"""`subgoal quickstart`: the whole pipeline, small, offline, on CPU, in minutes.

collect gold paths → rules annotation → train tiny planner, executor and flat → eval both agents →
a side-by-side table and the command to watch an episode. Everything lands in its own workspace,
WORKSPACE/quickstart/, so it never mixes with real data; every stage is resumable (a second run
reuses what the first finished), so Ctrl-C costs at most the stage in flight.
"""

from __future__ import annotations

import os
import shlex
import time
from dataclasses import dataclass, field
from typing import Annotated, Optional

import typer
from rich.markup import escape
from rich.progress import TextColumn

from subgoal.commands.options import RulesOption
from subgoal.commands.protocol import INPUT_TOKENS  # the CPU protocol's budgets
from subgoal.console import err, out, progress
from subgoal.engine.rules.layer import DEFAULT_LEVEL, check_rules, rules_slug
from subgoal.engine.tasks import Task, resolve_tasks
from subgoal.workspace import Workspace, ensure_dir, workspace_of

# Short tasks (gold paths of 5-10 steps) whose actions a tiny model can learn in minutes.
DEFAULT_TASKS = "4-2,7-1"
ROLES = ("planner", "executor", "flat")
SHARE = {"planner": 0.25, "executor": 0.25, "flat": 0.5}  # of the training minutes
# Optimizer steps per second each role made on a quiet 2-core Xeon (RESULTS §27: 151, 213 and 271
# steps in 75, 75 and 150 s). The budget is counted in steps at these rates, not by the clock, so a
# slower or busier machine takes longer and trains the same models: the same table.
STEPS_PER_SECOND = {"planner": 2.0, "executor": 2.8, "flat": 1.8}


@dataclass
class Settings:
    tasks: list[Task] = field(default_factory=lambda: resolve_tasks(DEFAULT_TASKS))
    train_variations: int = 40
    dev_variations: int = 4
    test_variations: int = 2
    minutes: float = 5.0  # training budget, shared by the three models, in steps (STEPS_PER_SECOND)
    step_limit: int = 25  # the benchmark's is 100; a tiny model rarely needs more to show itself
    workers: int = field(default_factory=lambda: min(2, os.cpu_count() or 1))
    rules: str = DEFAULT_LEVEL  # the rules setting both agents play at (a level, or one with rules off)


def command(
    ctx: typer.Context,
    tasks: Annotated[
        Optional[list[str]],
        typer.Option("--tasks", "-t", help="Task ids, names or globs. Default: 4-2,7-1 (short tasks)."),
    ] = None,
    minutes: Annotated[
        float,
        typer.Option(
            "--minutes",
            "-m",
            min=0.05,
            help="Training budget, shared by the three models: the optimizer steps a quiet 2-core Xeon makes "
            "in these minutes (a slower machine takes longer and trains the same models).",
        ),
    ] = 5.0,
    train_variations: Annotated[int, typer.Option(min=1, help="Train variations per task.")] = 40,
    dev_variations: Annotated[int, typer.Option(min=1, help="Dev variations per task (best model).")] = 4,
    test_variations: Annotated[int, typer.Option(min=1, help="Test variations per task to evaluate.")] = 2,
    step_limit: Annotated[int, typer.Option(min=1, help="Steps per test episode (the benchmark: 100).")] = 25,
    workers: Annotated[
        Optional[int],
        typer.Option(
            "--workers", "-j", min=1, envvar="SUBGOAL_WORKERS", help="Parallel JVMs. Default: 2 (or 1 core)."
        ),
    ] = None,
    rules: RulesOption = DEFAULT_LEVEL,
) -> None:
    """The whole pipeline, small, offline, on CPU, in about ten minutes: collect → annotate (rules) → train tiny planner, executor and flat → eval both agents → the table and the command to watch an episode.

    Everything goes to [i]WORKSPACE/quickstart/[/]; run it again to resume or to reuse what is done.
    """
    settings = Settings(
        tasks=resolve_tasks(tasks or DEFAULT_TASKS),
        train_variations=train_variations,
        dev_variations=dev_variations,
        test_variations=test_variations,
        minutes=minutes,
        step_limit=step_limit,
        rules=check_rules(rules),
    )
    if workers:
        settings.workers = workers
    run(workspace_of(ctx), settings)


def run(workspace: Workspace, settings: Settings) -> None:
    started = time.perf_counter()
    ws = Workspace(workspace.root / "quickstart")
    ensure_dir(ws.root)
    ids = [t.id for t in settings.tasks]
    err.print(
        f"[bold]quickstart[/] in {ws.root}: tasks {', '.join(ids)}; {settings.train_variations} train / "
        f"{settings.dev_variations} dev variations each; {settings.minutes:g} min of training; "
        f"{settings.test_variations} test variations each, {settings.step_limit} steps"
    )
    _stage("1/4 collect gold paths")
    for split, count in (("train", settings.train_variations), ("dev", settings.dev_variations)):
        _collect(ws, settings.tasks, split, count, settings.workers)
    _stage("2/4 annotate with the rules teacher")
    for split in ("train", "dev"):
        _annotate(ws, split, settings.tasks)
    _stage("3/4 train tiny models")
    for role in ROLES:  # the flat baseline gets as many minutes as planner and executor together
        _train(ws, role, ids, steps_of(role, settings.minutes))
    _stage("4/4 evaluate on held-out test variations")
    runs = {kind: _evaluate(ws, kind, settings) for kind in ("hierarchical", "flat")}
    _finish(ws, runs, time.perf_counter() - started, settings.rules)


def _stage(title: str) -> None:
    err.rule(f"[bold]{title}", align="left", style="dim")


def _collect(ws: Workspace, tasks: list[Task], split: str, count: int, workers: int) -> None:
    from subgoal.engine.oracle import Job, collect, plan_variations

    jobs = [Job(t.id, v, split) for t in tasks for v in plan_variations(t, split, count)]
    with progress() as bar:
        bar_id = bar.add_task(f"collect {split}", total=len(jobs))
        report = collect(
            jobs,
            ws.oracle_file(split),
            workers=workers,
            on_outcome=lambda _: bar.advance(bar_id),
            on_skip=lambda n: bar.advance(bar_id, n),
        )
    if report.errors:
        err.print(
            f"[yellow]{report.errors} {split} episodes could not be collected; going on without them[/]"
        )


def _annotate(ws: Workspace, split: str, tasks: list[Task]) -> None:
    from subgoal.engine.annotation import annotate, pending, select
    from subgoal.engine.teachers.rules import RulesTeacher

    teacher = RulesTeacher()
    target = ws.annotated_file(split, teacher.name)
    target.parent.mkdir(parents=True, exist_ok=True)
    todo, done = pending(select(ws.oracle_file(split), tasks), target, teacher.identity)
    report = annotate(todo, target, teacher)
    err.print(f"annotate {split}: {report.annotated} new, {done} already there → {target}")


def steps_of(role: str, minutes: float) -> int:
    """The optimizer steps of `role`'s share of a budget of `minutes`."""
    return max(1, round(minutes * 60 * SHARE[role] * STEPS_PER_SECOND[role]))


def _train(ws: Workspace, role: str, task_ids: list[str], steps: int) -> None:
    from subgoal.checkpoints import is_checkpoint
    from subgoal.engine.train_config import TrainConfig
    from subgoal.engine.training import train

    if is_checkpoint(ws.checkpoints / role):
        err.print(f"train {role}: checkpoint already there, reused ({ws.checkpoints / role})")
        return
    import torch

    # One thread: the sums of a matrix product depend on how many threads split it, so a thread count
    # read off the machine's load would train other weights on a busy day (and on 2 busy cores a
    # tiny-T5 step took 5 s with 1 thread, 30 s with 2).
    torch.set_num_threads(1)
    config = TrainConfig(
        role=role,
        name=role,
        train_files=[ws.annotated_file("train", "rules")],
        dev_files=[ws.annotated_file("dev", "rules")],
        tasks=task_ids,
        preset="tiny",
        max_input_tokens=INPUT_TOKENS[role],
        epochs=1000,  # the step budget ends training; dev loss picks the best weights
        max_steps=steps,
        eval_every=50,
        warmup_steps=30,
        patience=0,
        device="cpu",
    )
    with progress(TextColumn("{task.fields[loss]}")) as bar:
        bar_id = bar.add_task(f"train {role}", total=steps, loss="")

        def on_log(record: dict) -> None:  # type: ignore[type-arg]
            loss = f"loss {record['loss']:.3f}" if "loss" in record else bar.tasks[0].fields["loss"]
            bar.update(bar_id, completed=min(steps, int(record.get("step", 0))), loss=loss)

        result = train(config, ws, on_log)
        bar.update(bar_id, completed=steps)
    best = result.manifest.get("metrics") or result.manifest.get("best") or {}
    err.print(f"train {role}: {result.path}" + (f" (dev: {_short(best)})" if best else ""))


def _short(metrics: dict) -> str:  # type: ignore[type-arg]
    return ", ".join(f"{k} {v:.3g}" if isinstance(v, float) else f"{k} {v}" for k, v in metrics.items())


def _evaluate(ws: Workspace, kind: str, settings: Settings):  # type: ignore[no-untyped-def]
    from subgoal.engine.agent_kinds import resolve_spec
    from subgoal.engine.evaluation import evaluate
    from subgoal.engine.runs import CONFIG, EvalProtocol, Run

    spec = resolve_spec(kind, ws, benchmarked=True, device="cpu", rules=settings.rules)
    name = f"quickstart-{kind}-{rules_slug(settings.rules)}"
    if (ws.runs / name / CONFIG).exists():
        the_run = Run.open(ws.runs / name)
    else:
        protocol = EvalProtocol("test", settings.test_variations, settings.step_limit)
        the_run = Run.create(ensure_dir(ws.runs), spec, settings.tasks, protocol, name)
    with progress(TextColumn("{task.fields[score]}")) as bar:
        bar_id = bar.add_task(f"eval {kind}", total=len(the_run.jobs), score="")

        def show(p, *_):  # type: ignore[no-untyped-def]
            bar.update(bar_id, completed=p.done, score=f"mean {p.mean:5.1f}")

        evaluate(the_run, workers=settings.workers, on_start=show, on_episode=show)
    return the_run


def _finish(ws: Workspace, runs: dict, seconds: float, rules: str) -> None:  # type: ignore[type-arg]
    from subgoal.engine.report import PAPER, compare_table, timing_line

    hier, flat = runs["hierarchical"], runs["flat"]
    a, b = flat.summary(), hier.summary()
    table = compare_table(a, b, "flat", "hierarchical")
    table.title = f"quickstart: tiny models, a few minutes of CPU training (test split, {rules} rules)"
    out.print(table)
    out.print(
        f"paper, flan-t5-large on all 30 tasks: hierarchical {PAPER['hierarchical']:.2f}, flat {PAPER['flat']:.2f}. "
        "Two tasks and a few minutes: the table shows the pipeline at work, not how far it generalises "
        "(`subgoal protocol` measures that).",
        soft_wrap=True,
    )
    for kind, the_run in runs.items():
        out.print(f"{kind}: {timing_line(the_run.summary())}", soft_wrap=True)
    replay = _best_episode(hier)
    out.print(f"\ndone in {seconds / 60:.1f} min. Next:", soft_wrap=True)
    quoted = escape(shlex.join(replay))  # for the shell, and for rich's markup
    out.print(f"  watch an episode:    [bold]subgoal play --replay {quoted}[/]", soft_wrap=True)
    out.print(
        f"  the whole benchmark: [bold]subgoal -w {ws.root} eval --agent hierarchical[/]", soft_wrap=True
    )
    out.print(
        "  the full pipeline:   subgoal collect / annotate / train all --preset small / eval", soft_wrap=True
    )


def _best_episode(the_run) -> list[str]:  # type: ignore[no-untyped-def]
    """`FILE --episode N` for the hierarchical agent's best episode: the most to look at (as
    arguments: the path is quoted for the shell on its own)."""
    from subgoal.engine.episode import read_episodes
    from subgoal.engine.runs import EPISODES

    path = the_run.path / EPISODES
    scores = [(ep.clamped_score, len(ep.subgoals), -i) for i, ep in enumerate(read_episodes(path))]
    if not scores:
        return [str(path)]
    return [str(path), "--episode", str(-max(scores)[2])]
