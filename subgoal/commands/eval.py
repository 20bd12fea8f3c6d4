"""`subgoal eval`: benchmark an agent on held-out variations, or compare two runs."""

from __future__ import annotations

import json
import shlex
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer
from rich.markup import escape
from rich.progress import TextColumn

from subgoal.commands.options import (
    CheckpointOption,
    ExecutorOption,
    PlannerOption,
    RulesOption,
    TasksOption,
    WorkersOption,
    listed,
)
from subgoal.console import err, out, progress
from subgoal.engine.agent_kinds import kind_names
from subgoal.engine.report import PAPER, Summary, compare_table, results_table, timing_line
from subgoal.engine.rules.layer import DEFAULT_LEVEL, check_rules
from subgoal.engine.runs import ERRORS, EvalProtocol, Run, find_run
from subgoal.engine.tasks import resolve_tasks
from subgoal.errors import SubgoalError
from subgoal.workspace import Workspace, ensure_dir, workspace_of

if TYPE_CHECKING:
    from subgoal.engine.evaluation import Progress

SCORES_SVG = "scores.svg"  # the per-task bars, beside results.json


def command(
    ctx: typer.Context,
    agent: Annotated[
        str, typer.Option("--agent", "-a", help=f"{listed(kind_names(benchmarked=True))}.")
    ] = "hierarchical",
    planner: PlannerOption = None,
    executor: ExecutorOption = None,
    checkpoint: CheckpointOption = None,
    rules: RulesOption = DEFAULT_LEVEL,
    oracle_file: Annotated[
        Optional[Path],
        typer.Option(
            help="Oracle agent: replay these (annotated) episodes (default: the live gold path). Gold-plan "
            "agent: take the plans from these (default: the split's annotated file)."
        ),
    ] = None,
    split: Annotated[str, typer.Option("--split", "-s", help="test (the protocol), dev or train.")] = "test",
    tasks: TasksOption = None,
    max_variations: Annotated[
        Optional[int],
        typer.Option("--max-variations", "-n", min=1, help="At most N variations per task (test: 10)."),
    ] = None,
    skip_variations: Annotated[
        int,
        typer.Option(
            "--skip-variations",
            min=0,
            help="Leave out the first N variations of each task. On test, taken from all its variations: "
            "--skip-variations 10 plays episodes the protocol never plays (a held-out check).",
        ),
    ] = 0,
    workers: WorkersOption = 1,
    batch: Annotated[
        int,
        typer.Option(
            "--batch",
            "-b",
            min=1,
            envvar="SUBGOAL_EVAL_BATCH",
            help="Play N episodes at once in this process (N JVMs) with one copy of the models, their "
            "generate calls batched: the way to fill a GPU (e.g. 32). Not with --workers.",
        ),
    ] = 1,
    resume: Annotated[
        Optional[str],
        typer.Option(
            "--resume",
            help="Continue a run: its name under runs/, its path, or [b]last[/] (the one changed most recently).",
        ),
    ] = None,
    name: Annotated[Optional[str], typer.Option(help="Run folder name. Default: TIMESTAMP-AGENT.")] = None,
    compare_runs: Annotated[
        Optional[tuple[str, str]],
        typer.Option("--compare", metavar="RUN_A RUN_B", help="Print two finished runs side by side."),
    ] = None,
    as_json: Annotated[
        bool,
        typer.Option(
            "--json",
            help="Print the run's per-task table (tasks, buckets, overall) as JSON on stdout instead of "
            "the tables; with --compare, both summaries and every episode pair.",
        ),
    ] = False,
    step_limit: Annotated[int, typer.Option(min=1, help="Steps per episode (protocol: 100).")] = 100,
    stall_limit: Annotated[
        int, typer.Option(min=1, help="End an episode after N steps without a score change (protocol: 50).")
    ] = 50,
    beams: Annotated[int, typer.Option(min=1, help="Beams generated per decision.")] = 5,
    grounding: Annotated[str, typer.Option(help="fuzzy (rapidfuzz) or embedding.")] = "fuzzy",
    device: Annotated[
        Optional[str], typer.Option(help="cpu, cuda, cuda:N. Default: CUDA when present.")
    ] = None,
) -> None:
    """Benchmark an agent on held-out variations: per task, per bucket, overall, beside the paper.

    The default is the protocol: the first 10 test variations of each task, 100 steps, 50 without a score change. The run is saved under [i]runs/[/] as it goes (trajectories, results.json, report.md); Ctrl-C keeps what finished and [b]--resume[/] continues it.

    Exits 1 when some episodes could not be played: they count as 0, the last line says how many and where they are listed (the run's errors.jsonl), and [b]--resume[/] plays them again.
    """
    workspace = workspace_of(ctx)
    rules = check_rules(rules)
    if compare_runs:
        compare(workspace, *compare_runs, as_json=as_json)
        return
    from subgoal.engine.evaluation import check_parallelism  # the runner loads agents: not at start-up

    check_parallelism(workers, batch)  # before a run folder is made for it
    runs_dir = ensure_dir(workspace.runs)
    if resume:
        the_run = Run.open(find_run(resume, runs_dir))
        if _given(ctx, "rules") and rules != the_run.rules:
            raise SubgoalError(
                f"{the_run.name} was played with the {the_run.rules} rules: resume it without --rules, "
                f"or start another run with --rules {rules}"
            )
        the_run.check_rules_unchanged()
        err.print(f"resuming {the_run.path} at its {the_run.rules} rules (its saved settings apply)")
    else:
        from subgoal.engine.agent_kinds import gold_plan_file, resolve_spec

        if agent == "gold-plan" and oracle_file is None:
            oracle_file = gold_plan_file(workspace, split)
        spec = resolve_spec(
            agent,
            workspace,
            {"planner": planner, "executor": executor, "flat": checkpoint},
            benchmarked=True,
            oracle_file=str(oracle_file.resolve()) if oracle_file else None,
            num_beams=beams,
            grounding=grounding,
            device=device,
            rules=rules,
        )
        spec.check()
        protocol = EvalProtocol(split, max_variations, step_limit, stall_limit, skip_variations)
        the_run = Run.create(runs_dir, spec, resolve_tasks(tasks), protocol, name)
    try:
        summary = play_run(the_run, workers, batch, as_json)
    except SubgoalError:
        # A run that failed before playing anything (a bad device, checkpoint or oracle file, no
        # JVM) holds nothing to keep, and left behind it would block its --name.
        if the_run.is_empty():
            shutil.rmtree(the_run.path, ignore_errors=True)
        raise
    if summary.errors:
        raise typer.Exit(1)


def _given(ctx: typer.Context, name: str) -> bool:
    """Whether option `name` was given on the command line (not its default)."""
    from click.core import ParameterSource

    return ctx.get_parameter_source(name) not in (ParameterSource.DEFAULT, None)


def play_run(the_run: Run, workers: int, batch: int = 1, as_json: bool = False) -> Summary:
    """Play what is missing in `the_run` with a progress bar; print the table (or its JSON).
    Ctrl-C keeps what finished and says how to resume."""
    from subgoal.engine.evaluation import evaluate

    with progress(TextColumn("{task.fields[score]}")) as bar:
        bar_id = bar.add_task(f"eval {the_run.config['agent']}", total=len(the_run.jobs), score="")

        def show(p: Progress) -> None:
            bar.update(bar_id, completed=p.done, score=f"mean {p.mean:5.1f}")

        def on_episode(p: Progress, outcome) -> None:  # type: ignore[no-untyped-def]
            if not outcome.ok:
                job = outcome.item
                err.print(f"[red]{job.task_id} v{job.variation} failed: {outcome.error}[/]")
            show(p)

        try:
            summary = evaluate(the_run, workers=workers, batch=batch, on_start=show, on_episode=on_episode)
        except KeyboardInterrupt:
            bar.stop()
            done = len(the_run.episodes())
            err.print(
                f"[yellow]interrupted[/]: {done} of {len(the_run.jobs)} episodes saved in {the_run.path}; "
                f"resume with [bold]subgoal eval --resume {the_run.name}[/]"
            )
            raise typer.Exit(130) from None
    print_summary(the_run, summary, as_json)
    return summary


def task_scores(summary: Summary) -> dict[str, float]:
    """{"1-1 boil": 12.5, ...}: a run's per-task scores, for the bars."""
    return {f"{t.task_id} {t.name}": t.score for t in summary.tasks}


def print_summary(the_run: Run, summary: Summary, as_json: bool = False) -> None:
    """The run's tables and bars, or with `as_json` the same numbers as JSON (stdout holds only
    that); scores.svg either way; last, on stderr, how many episodes errored."""
    from subgoal.plots import score_bars

    bars = score_bars({the_run.name: task_scores(summary)})
    write_scores_svg(the_run, bars)
    if as_json:
        out.print_json(json.dumps(run_json(the_run, summary)))
    else:
        print_tables(the_run, summary, bars)
    if summary.errors:  # last, where a user (or a log's tail) sees it
        err.print(f"[red]{errored_line(the_run, summary)}[/]", soft_wrap=True)


def run_json(the_run: Run, summary: Summary) -> dict[str, Any]:
    """A run's summary as `--json` prints it: the per-task rows, buckets and overall of its table."""
    agent = the_run.config.get("agent")
    return {
        "name": the_run.name,
        "path": str(the_run.path),
        "agent": agent,
        "rules": the_run.rules,
        "split": the_run.config.get("split"),
        "paper": PAPER.get(str(agent)),  # the table's paper row (None for the oracle)
        **summary.to_json(),
    }


def write_scores_svg(the_run: Run, bars: Any) -> None:
    write_bars_svg(bars, the_run.path / SCORES_SVG, f"eval {the_run.name}")


def write_bars_svg(bars: Any, path: Path, title: str) -> Path | None:
    """The bars as an SVG file for a report, or None (said on stderr) if it cannot be written: the
    results stand without it."""
    from subgoal.plots import write_svg

    try:
        write_svg(bars, path, title)
    except OSError as exc:
        err.print(f"[yellow]could not write {escape(str(path))}: {exc}[/]", soft_wrap=True)
        return None
    return path


def compare_svg_path(a: Run, b: Run) -> Path:
    """Beside the first run's folder, not in it: a file written into it would make it the run
    `--resume last` picks."""
    return a.path.parent / f"compare-{a.name}-vs-{b.name}.svg"


def print_tables(the_run: Run, summary: Summary, bars: Any) -> None:
    agent = the_run.config.get("agent")
    title = f"eval {the_run.name} ({the_run.config['split']} split, {the_run.rules} rules)"
    out.print(results_table(summary, title, agent))
    out.print(bars)
    out.print(timing_line(summary), soft_wrap=True)
    batching = the_run.batching()
    if batching:
        out.print(
            f"batched generation: {batching['episodes_at_once']} episodes at once, {batching['calls']} "
            f"model calls, {batching['mean_batch']:.1f} inputs per call (largest {batching['largest']})",
            soft_wrap=True,
        )
    out.print(
        f"results: {the_run.path / 'results.json'}, {the_run.path / 'report.md'}, {the_run.path / SCORES_SVG}",
        soft_wrap=True,
    )
    # Quoted for the shell, and escaped for rich: a path may hold spaces or brackets.
    replay = escape(shlex.quote(str(the_run.path)))
    out.print(f"watch an episode: [bold]subgoal play --replay {replay}[/]", soft_wrap=True)


def errored_line(the_run: Run, summary: Summary) -> str:
    """How many episodes errored, where they are listed, and how to retry them (the exit is 1)."""
    errors = escape(str(the_run.path / ERRORS))
    resume = escape(shlex.quote(the_run.name))
    return (
        f"{summary.errors} of {summary.episodes} episodes could not be played (counted as 0), listed in "
        f"{errors}; retry them with: subgoal eval --resume {resume}"
    )


def compare(workspace: Workspace, run_a: str, run_b: str, as_json: bool = False) -> None:
    """The two runs' tables side by side, their bars (also as an SVG file beside the first run), then
    the episodes both played that scored differently."""
    from subgoal.plots import score_bars
    from subgoal.tui.beside import pair_episodes, print_pairs

    runs_dir = workspace.runs
    a, b = Run.open(find_run(run_a, runs_dir)), Run.open(find_run(run_b, runs_dir))
    pairs = pair_episodes(a.episodes(), b.episodes())
    differ = [p for p in pairs if p.left.clamped_score != p.right.clamped_score]
    summary_a, summary_b = a.summary(), b.summary()
    names = (a.name, b.name) if a.name != b.name else ("A", "B")
    bars = score_bars({names[0]: task_scores(summary_a), names[1]: task_scores(summary_b)})
    svg = write_bars_svg(bars, compare_svg_path(a, b), f"eval --compare {a.name} {b.name}")
    levels = f"rules: {a.name} {a.rules}, {b.name} {b.rules}"
    if a.rules != b.rules:  # on stderr too: a table of two levels is easy to misread as one
        err.print(f"[bold red]the runs played at different rules levels ({levels})[/]", soft_wrap=True)
    if as_json:
        from subgoal.engine.events import end_reason

        episodes = [
            {
                "task_id": p.left.task_id,
                "variation": p.left.variation,
                "score_a": p.left.clamped_score,
                "score_b": p.right.clamped_score,
                "end_a": end_reason(p.left),
                "end_b": end_reason(p.right),
                "parts_at_step": p.divergence,
            }
            for p in pairs
        ]
        runs = {"a": run_json(a, summary_a), "b": run_json(b, summary_b)}
        out.print_json(
            json.dumps(
                {
                    **runs,
                    "same_rules": a.rules == b.rules,
                    "episodes": episodes,
                    "svg": str(svg) if svg else None,
                }
            )
        )
        return
    table = compare_table(summary_a, summary_b, a.name, b.name)
    table.title = f"{table.title} ({levels})"
    out.print(table)
    out.print(bars)
    if svg:
        out.print(f"bars: {escape(str(svg))}", soft_wrap=True)
    if differ:
        print_pairs(out, differ, (a.name, b.name))
        out.print(f"{len(differ)} of {len(pairs)} episodes both played scored differently", soft_wrap=True)
    elif pairs:
        out.print(f"the {len(pairs)} episodes both played scored the same", soft_wrap=True)
    if pairs:
        left, right = (escape(shlex.quote(str(run.path))) for run in (a, b))
        out.print(f"step by step: [bold]subgoal play --replay {left} --beside {right}[/]", soft_wrap=True)
