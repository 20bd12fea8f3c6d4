"""`subgoal annotate`: sub-goals for oracle episodes, from the rules teacher or an LLM."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rich.table import Table
from rich.text import Text

from subgoal.console import err, out, progress
from subgoal.engine.annotation import AnnotateReport, annotate, pending, select, vocabulary
from subgoal.engine.episode import Episode, read_episodes
from subgoal.engine.tasks import check_split, resolve_tasks
from subgoal.engine.teachers import TEACHERS, Annotation, Teacher
from subgoal.engine.teachers.pricing import cost, price_of
from subgoal.errors import EpisodeFileError, TeacherError
from subgoal.workspace import Workspace, ensure_dir


@dataclass
class Options:
    split: str = "train"
    tasks: list[str] | None = None
    teacher: str = "rules"
    model: str = "gpt-4o-mini"
    base_url: str | None = None
    workers: int = 4
    limit: int | None = None
    dry_run: bool = False
    on_failure: str = "fail"
    price_per_1k: str | None = None
    max_attempts: int = 3
    max_retries: int = 4
    timeout: float = 120.0
    max_tokens: int = 2048
    cache: bool = True
    input: Path | None = None
    output: Path | None = None


def run(workspace: Workspace, opts: Options) -> AnnotateReport | None:
    check_split(opts.split)
    if opts.teacher not in TEACHERS:
        raise TeacherError(f"unknown teacher {opts.teacher!r}; choose one of {', '.join(TEACHERS)}")
    source = opts.input or workspace.oracle_file(opts.split)
    if not source.exists():
        raise EpisodeFileError(
            f"{source}: no oracle episodes; run `subgoal collect --split {opts.split}` first"
        )
    price = _price(opts)  # a bad --price-per-1k fails before any work
    chosen = resolve_tasks(opts.tasks) if opts.tasks else None
    episodes = select(source, chosen, opts.limit)
    identity = "rules" if opts.teacher == "rules" else f"openai:{opts.model}"
    target = opts.output or workspace.annotated_file(opts.split, opts.teacher)
    ensure_dir(target.parent)
    todo, skipped = pending(episodes, target, identity)
    if opts.dry_run:
        _dry_run(workspace, opts, todo, skipped, price)
        return None

    teacher = _teacher(workspace, opts)
    with progress() as bar:
        bar_id = bar.add_task(f"annotate {opts.split} ({identity})", total=len(todo))

        def on_done(episode: Episode, annotation: Annotation | None, problem: str | None) -> None:
            if annotation is None:
                err.print(f"[red]failed[/]: {problem}", highlight=False)
            elif problem:
                err.print(f"[yellow]fell back to rules[/]: {problem}", highlight=False)
            bar.update(bar_id, advance=1)

        report = annotate(todo, target, teacher, workers=opts.workers, on_done=on_done)
    report.skipped = skipped
    _print_report(report, identity, target, price)
    _print_vocabulary(target)
    if report.failures:
        err.print(
            f"{len(report.failures)} episodes were left out; run the same command to retry them, "
            "or add --on-failure rules"
        )
    return report


def _teacher(workspace: Workspace, opts: Options) -> Teacher:
    if opts.teacher == "rules":
        from subgoal.engine.teachers.rules import RulesTeacher

        return RulesTeacher()
    from subgoal.engine.teachers.cache import RequestCache
    from subgoal.engine.teachers.openai import OpenAITeacher, Settings

    settings = Settings(
        model=opts.model,
        base_url=opts.base_url,
        max_tokens=opts.max_tokens,
        max_attempts=opts.max_attempts,
        max_retries=opts.max_retries,
        timeout=opts.timeout,
        on_failure=opts.on_failure,
    )
    cache = RequestCache(workspace.cache / "openai" if opts.cache else None)
    return OpenAITeacher(settings, cache)


def _price(opts: Options) -> tuple[float, float] | None:
    if opts.teacher == "rules":
        return None
    try:
        return price_of(opts.model, opts.price_per_1k)
    except ValueError as exc:
        raise TeacherError(f"--price-per-1k: {exc}") from None


def _dry_run(
    workspace: Workspace, opts: Options, todo: list[Episode], skipped: int, price: tuple[float, float] | None
) -> None:
    """Show what would be asked and what it would cost, without asking anything."""
    from subgoal.engine.teachers import prompt
    from subgoal.engine.teachers.rules import segment

    if not todo:
        out.print(f"nothing to annotate: {skipped} episodes are already done")
        return
    if opts.teacher == "rules":
        first = todo[0]
        out.print(f"[bold]{first.task_id} v{first.variation}[/] would be annotated as:")
        for span in segment(first.actions):
            steps = f"step {span.start}" if len(span) == 1 else f"steps {span.start}-{span.end - 1}"
            out.print(f"  {span.name}  [dim]{steps}[/]", highlight=False)
        out.print(
            f"{len(todo)} episodes to annotate ({skipped} already done); the rules teacher makes no requests"
        )
        return
    from subgoal.engine.teachers.cache import RequestCache
    from subgoal.engine.teachers.openai import Settings

    settings = Settings(model=opts.model, max_tokens=opts.max_tokens)
    cache = RequestCache(workspace.cache / "openai" if opts.cache else None)
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
    table = Table(title=f"dry run: openai:{opts.model} (no request made)", title_justify="left")
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
    report: AnnotateReport, identity: str, target: Path, price: tuple[float, float] | None
) -> None:
    table = Table(title=f"annotate ({identity}) → {target}", title_justify="left")
    usage = report.usage
    cells = {
        "annotated": str(report.annotated),
        "already there": str(report.skipped),
        "failed": str(len(report.failures)),
    }
    if identity != "rules":  # the rules teacher costs nothing
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
