"""`subgoal annotate`: sub-goals for oracle episodes, from the rules teacher or an LLM."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer
from rich.table import Table
from rich.text import Text

from subgoal.commands.options import SplitOption, TasksOption, listed
from subgoal.console import err, out, progress
from subgoal.engine.episode import Episode, read_episodes
from subgoal.engine.tasks import check_split, resolve_tasks
from subgoal.engine.teachers import Annotation
from subgoal.engine.teachers.pricing import cost, price_of
from subgoal.engine.teachers.registry import TEACHERS, TeacherKind, teacher_kind
from subgoal.errors import EpisodeFileError, TeacherError
from subgoal.workspace import Workspace, ensure_dir, workspace_of

if TYPE_CHECKING:
    from subgoal.engine.annotation import AnnotateReport
    from subgoal.engine.teachers.openai import Settings


def command(
    ctx: typer.Context,
    split: SplitOption = "train",
    tasks: TasksOption = None,
    teacher: Annotated[
        str,
        typer.Option(
            "--teacher",
            envvar="SUBGOAL_TEACHER",
            help=listed([f"{k.name} ({k.help})" for k in TEACHERS.values()]) + ".",
        ),
    ] = "rules",
    model: Annotated[
        str, typer.Option("--model", "-m", envvar="SUBGOAL_TEACHER_MODEL", help="The LLM teacher's model.")
    ] = "gpt-4o-mini",
    base_url: Annotated[
        Optional[str],
        typer.Option(
            "--base-url",
            envvar="OPENAI_BASE_URL",
            help="OpenAI-compatible server (vLLM, llama.cpp, Ollama...).",
        ),
    ] = None,
    workers: Annotated[int, typer.Option("--workers", "-j", min=1, help="Episodes annotated at once.")] = 4,
    limit: Annotated[Optional[int], typer.Option("--limit", min=1, help="Only the first N episodes.")] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the first prompt and the token estimate; ask nothing.")
    ] = False,
    on_failure: Annotated[
        str,
        typer.Option(help="When the LLM gives no usable answer: [b]fail[/] the episode, or use [b]rules[/]."),
    ] = "fail",
    price_per_1k: Annotated[
        Optional[str],
        typer.Option(help="USD per 1k tokens, PROMPT[,COMPLETION]. Default: list price of known models."),
    ] = None,
    max_attempts: Annotated[
        int, typer.Option(min=1, help="Answers asked per episode, re-asks included.")
    ] = 3,
    max_retries: Annotated[
        int, typer.Option(min=0, help="Client retries per request (429, 5xx, timeouts).")
    ] = 4,
    timeout: Annotated[float, typer.Option(min=1, help="Seconds to wait for one answer.")] = 120.0,
    max_tokens: Annotated[int, typer.Option(min=16, help="Longest answer, in tokens.")] = 2048,
    cache: Annotated[bool, typer.Option(help="Reuse answers cached under WORKSPACE/cache/openai.")] = True,
    input: Annotated[
        Optional[Path],
        typer.Option("--input", "-i", help="Oracle file. Default: WORKSPACE/oracle/SPLIT.jsonl.gz."),
    ] = None,
    output: Annotated[
        Optional[Path],
        typer.Option("--output", "-o", help="Default: WORKSPACE/annotated/SPLIT.TEACHER.jsonl.gz."),
    ] = None,
) -> None:
    """Split oracle paths into sub-goals (resumable: re-run to continue; cached: a re-run asks nothing).

    The key comes from OPENAI_API_KEY and is never written anywhere. Exits 1 when some episodes could not be annotated (they are listed), 2 when nothing can proceed.
    """
    from subgoal.engine.teachers.openai import Settings

    workspace = workspace_of(ctx)
    settings = Settings(
        model=model,
        base_url=base_url,
        max_tokens=max_tokens,
        max_attempts=max_attempts,
        max_retries=max_retries,
        timeout=timeout,
        on_failure=on_failure,
    )
    job = Job(split, teacher, tasks, input, output, limit, workers, price_per_1k)
    report = run(workspace, job, settings, workspace.cache / "openai" if cache else None, dry_run)
    if report is not None and report.failures:
        raise typer.Exit(1)


@dataclass(frozen=True)
class Job:
    """Which episodes, by which teacher, into which file: what the command's options say beyond the
    LLM's settings."""

    split: str
    teacher: str
    tasks: list[str] | None = None
    source: Path | None = None  # default: WORKSPACE/oracle/SPLIT.jsonl.gz
    target: Path | None = None  # default: WORKSPACE/annotated/SPLIT.TEACHER.jsonl.gz
    limit: int | None = None
    workers: int = 4
    price_per_1k: str | None = None


def run(
    workspace: Workspace, job: Job, settings: Settings, cache: Path | None, dry_run: bool = False
) -> AnnotateReport | None:
    from subgoal.engine.annotation import annotate, pending, select  # threads and all: not at start-up

    check_split(job.split)
    kind = teacher_kind(job.teacher)
    source = job.source or workspace.oracle_file(job.split)
    if not source.exists():
        raise EpisodeFileError(
            f"{source}: no oracle episodes; run `subgoal collect --split {job.split}` first"
        )
    price = _price(kind, settings, job.price_per_1k)  # a bad --price-per-1k fails before any work
    chosen = resolve_tasks(job.tasks) if job.tasks else None
    episodes = select(source, chosen, job.limit)
    identity = kind.identity(settings)
    target = job.target or workspace.annotated_file(job.split, kind.name)
    ensure_dir(target.parent)
    todo, skipped = pending(episodes, target, identity)
    if dry_run:
        _dry_run(kind, settings, cache, todo, skipped, price)
        return None

    teacher = kind.build(settings, cache)
    with progress() as bar:
        bar_id = bar.add_task(f"annotate {job.split} ({identity})", total=len(todo))

        def on_done(episode: Episode, annotation: Annotation | None, problem: str | None) -> None:
            if annotation is None:
                err.print(f"[red]failed[/]: {problem}", highlight=False)
            elif problem:
                err.print(f"[yellow]fell back to rules[/]: {problem}", highlight=False)
            bar.update(bar_id, advance=1)

        report = annotate(todo, target, teacher, workers=job.workers, on_done=on_done)
    report.skipped = skipped
    _print_report(report, identity, target, price, kind.asks)
    _print_vocabulary(target)
    if report.failures:
        err.print(
            f"{len(report.failures)} episodes were left out; run the same command to retry them, "
            "or add --on-failure rules"
        )
    return report


def _price(kind: TeacherKind, settings: Settings, price_per_1k: str | None) -> tuple[float, float] | None:
    if not kind.asks:
        return None
    try:
        return price_of(settings.model, price_per_1k)
    except ValueError as exc:
        raise TeacherError(f"--price-per-1k: {exc}") from None


def _dry_run(
    kind: TeacherKind,
    settings: Settings,
    cache_folder: Path | None,
    todo: list[Episode],
    skipped: int,
    price: tuple[float, float] | None,
) -> None:
    """Show what would be asked and what it would cost, without asking anything."""
    from subgoal.engine.teachers import prompt
    from subgoal.engine.teachers.rules import segment

    if not todo:
        out.print(f"nothing to annotate: {skipped} episodes are already done")
        return
    if not kind.asks:
        first = todo[0]
        out.print(f"[bold]{first.task_id} v{first.variation}[/] would be annotated as:")
        for span in segment(first.actions):
            steps = f"step {span.start}" if len(span) == 1 else f"steps {span.start}-{span.end - 1}"
            out.print(f"  {span.name}  [dim]{steps}[/]", highlight=False)
        out.print(
            f"{len(todo)} episodes to annotate ({skipped} already done); the {kind.name} teacher makes no requests"
        )
        return
    from subgoal.engine.teachers.cache import RequestCache

    cache = RequestCache(cache_folder)
    prompt_tokens = completion_tokens = cached = 0
    for k, episode in enumerate(todo):
        messages = prompt.messages(episode.task_description, episode.actions)
        if k == 0:
            _show_first(episode, messages)
        if settings.request(messages) in cache:
            cached += 1
            continue
        prompt_tokens += sum(prompt.estimate_tokens(m["content"]) for m in messages)
        # A good answer repeats every action under its sub-goal: the rules' answer has that size.
        plan = [(s.name, episode.actions[s.start : s.end]) for s in segment(episode.actions)]
        completion_tokens += prompt.estimate_tokens(prompt.format_plan(plan))
    from subgoal.engine.teachers import Usage

    estimate = cost(Usage(prompt_tokens=prompt_tokens, completion_tokens=completion_tokens), price)
    table = Table(title=f"dry run: {kind.identity(settings)} (no request made)", title_justify="left")
    for column in (
        "episodes",
        "already done",
        "cached",
        "requests ≥",
        "prompt tokens ≈",
        "completion tokens ≈",
        "cost ≈",
    ):
        table.add_column(column, justify="right")
    table.add_row(
        str(len(todo)),
        str(skipped),
        str(cached),
        str(len(todo) - cached),
        f"{prompt_tokens:,}",
        f"{completion_tokens:,}",
        _money(estimate),
    )
    out.print(table)


def _show_first(episode: Episode, messages: list[dict[str, str]]) -> None:
    """The first prompt, and what a good answer to it looks like and may look like."""
    from subgoal.engine.teachers import prompt
    from subgoal.engine.teachers.answers import SHAPES
    from subgoal.engine.teachers.rules import segment

    out.rule(f"first prompt: {episode.task_id} v{episode.variation}")
    for message in messages:
        out.print(Text.assemble((message["role"], "bold"), ": ", message["content"]))
    out.rule("expected answer (the rules teacher's split, in the prompt's format)")
    plan = [(s.name, episode.actions[s.start : s.end]) for s in segment(episode.actions)]
    out.print(Text(prompt.format_plan(plan)))
    out.print(
        Text(
            "Other shapes are read too; a set may list a repeated action once (its sub-goal claims the repeats):",
            "dim",
        )
    )
    for shape, example in SHAPES:
        out.print(Text.assemble(("  " + shape + ": ", "dim"), example))
    out.rule()


def _money(value: float | None) -> str:
    return "n/a (--price-per-1k)" if value is None else f"${value:,.4f}"


def _print_report(
    report: AnnotateReport, identity: str, target: Path, price: tuple[float, float] | None, asks: bool
) -> None:
    table = Table(title=f"annotate ({identity}) → {target}", title_justify="left")
    usage = report.usage
    cells = {
        "annotated": str(report.annotated),
        "already there": str(report.skipped),
        "failed": str(len(report.failures)),
    }
    if asks:  # a teacher that asks no server costs nothing
        cells |= {
            "fell back": str(report.fallbacks),
            "requests": str(usage.requests),
            "cache hits": str(usage.cache_hits),
            "prompt tokens": f"{usage.prompt_tokens:,}",
            "completion tokens": f"{usage.completion_tokens:,}",
            "cost ≈": _money(cost(usage, price)),
        }
    for column in cells:
        table.add_column(column, justify="right")
    table.add_row(*cells.values())
    out.print(table)


def _print_vocabulary(target: Path) -> None:
    if not target.exists():
        return
    from subgoal.engine.annotation import vocabulary

    rows = vocabulary(read_episodes(target))
    if not rows:
        return
    table = Table(title="sub-goal vocabulary per task (whole file)", title_justify="left")
    for column, justify in [
        ("task", "left"),
        ("episodes", "right"),
        ("sub-goals", "right"),
        ("templates", "right"),
        ("distinct", "right"),
        ("steps/sub-goal", "right"),
        ("most used", "left"),
    ]:
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    for row in rows:
        table.add_row(
            row.task_id,
            str(row.episodes),
            str(row.subgoals),
            str(row.templates),
            str(row.distinct),
            f"{row.steps_per_subgoal:.1f}",
            ", ".join(row.top),
        )
    out.print(table)
