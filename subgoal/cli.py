"""The `subgoal` command line: one Typer app over the engine.

Start-up stays light: verbs import the engine (and torch, transformers, textual) only when they run,
so `subgoal --help` answers at once. Every SubgoalError becomes one red line on stderr and its exit
code (2); Ctrl-C exits 130 after the verb has saved what it finished.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import click
import typer
from typer.core import TyperGroup

from subgoal import __version__
from subgoal.commands import checkpoints, collect, tasks, train
from subgoal.commands.options import TasksOption
from subgoal.console import err
from subgoal.errors import SubgoalError
from subgoal.workspace import ENV_VAR, Workspace, workspace_of

# `--help` lists the verbs in pipeline order, whatever order they are registered in.
_ORDER = ("tasks", "collect", "annotate", "train", "eval", "play", "checkpoints", "quickstart", "protocol")


class _Group(TyperGroup):
    """Turns the project's own errors into one line and an exit code, for every verb."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        names = super().list_commands(ctx)
        rank = {name: i for i, name in enumerate(_ORDER)}
        return sorted(names, key=lambda name: rank.get(name, len(rank)))

    def invoke(self, ctx: click.Context):  # type: ignore[no-untyped-def]
        try:
            return super().invoke(ctx)
        except SubgoalError as exc:
            err.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt:
            err.print("[yellow]interrupted[/]: what was finished is saved; run the same command to resume")
            raise typer.Exit(130) from None


app = typer.Typer(
    cls=_Group,
    name="subgoal",
    help="Sub-goal distillation for ScienceWorld: collect gold paths, annotate them with sub-goals, "
    "train a small planner and executor, watch them play, and benchmark them.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    rich_markup_mode="rich",
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"subgoal {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    ctx: typer.Context,
    workspace: Annotated[
        Optional[Path],
        typer.Option(
            "--workspace",
            "-w",
            envvar=ENV_VAR,
            help="Folder for every artefact (oracle/, annotated/, checkpoints/, runs/, cache/).",
            show_default="./workspace",
        ),
    ] = None,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
) -> None:
    ctx.obj = Workspace.from_env(workspace)


# Each command declares itself and its options in its own module; this file only composes them.
app.command("tasks")(tasks.command)
app.command("collect")(collect.command)
app.command("train")(train.command)
app.add_typer(checkpoints.app, name="checkpoints")


@app.command("play")
def play_command(
    ctx: typer.Context,
    task: Annotated[str, typer.Option("--task", "-t", help="Task id or name.")] = "4-2",
    variation: Annotated[int, typer.Option("--variation", "-v", min=0, help="Variation index.")] = 0,
    agent: Annotated[
        str, typer.Option("--agent", "-a", help="oracle, hierarchical, flat or human.")
    ] = "oracle",
    planner: Annotated[
        Optional[str], typer.Option(help="Planner checkpoint (hierarchical agent). Default: the newest.")
    ] = None,
    executor: Annotated[
        Optional[str], typer.Option(help="Executor checkpoint (hierarchical agent). Default: the newest.")
    ] = None,
    checkpoint: Annotated[
        Optional[str], typer.Option(help="Checkpoint of the flat agent. Default: the newest.")
    ] = None,
    replay: Annotated[
        Optional[Path],
        typer.Option(
            "--replay", "-r", help="Replay an episode file (or an eval run folder) instead of playing live."
        ),
    ] = None,
    beside: Annotated[
        Optional[Path],
        typer.Option(
            "--beside",
            help="Another episode file or run folder, shown beside --replay's episodes: the same task "
            "variations, steps aligned, the first difference marked.",
        ),
    ] = None,
    episode: Annotated[
        Optional[int], typer.Option("--episode", "-e", min=0, help="Which episode of the file (0-based).")
    ] = None,
    plain: Annotated[
        Optional[bool],
        typer.Option(
            "--plain/--tui",
            help="Print events as text instead of the app. Default: plain when not a terminal.",
        ),
    ] = None,
    delay: Annotated[
        float, typer.Option(min=0.0, help="Seconds between two live steps (+/- change it).")
    ] = 0.5,
    paused: Annotated[bool, typer.Option("--paused", help="Start paused (space resumes, s steps).")] = False,
    light: Annotated[bool, typer.Option("--light", help="Light theme (t toggles).")] = False,
    step_limit: Annotated[int, typer.Option(min=1, help="Step limit of a live episode.")] = 100,
) -> None:
    """Watch an agent play live, replay a saved episode file, or play by hand ([b]--agent human[/]).

    Plain [b]subgoal play[/] shows the oracle with its sub-goals on a short task; the keys are at the bottom.
    """
    from subgoal.commands import play as command

    command.run(
        workspace_of(ctx),
        task=task,
        variation=variation,
        agent=agent,
        planner=planner,
        executor=executor,
        checkpoint=checkpoint,
        replay=replay,
        beside=beside,
        episode=episode,
        plain=plain,
        theme="light" if light else "dark",
        delay=delay,
        paused=paused,
        step_limit=step_limit,
    )


@app.command("quickstart")
def quickstart_command(
    ctx: typer.Context,
    tasks: Annotated[
        Optional[list[str]],
        typer.Option("--tasks", "-t", help="Task ids, names or globs. Default: 4-2,7-1 (short tasks)."),
    ] = None,
    minutes: Annotated[
        float, typer.Option("--minutes", "-m", min=0.05, help="Training budget, shared by the three models.")
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
) -> None:
    """The whole pipeline, small, offline, on CPU, in about ten minutes: collect → annotate (rules) → train tiny planner, executor and flat → eval both agents → the table and the command to watch an episode.

    Everything goes to [i]WORKSPACE/quickstart/[/]; run it again to resume or to reuse what is done.
    """
    from subgoal.commands import quickstart as command
    from subgoal.engine.tasks import resolve_tasks

    settings = command.Settings(
        tasks=resolve_tasks(tasks or command.DEFAULT_TASKS),
        train_variations=train_variations,
        dev_variations=dev_variations,
        test_variations=test_variations,
        minutes=minutes,
        step_limit=step_limit,
    )
    if workers:
        settings.workers = workers
    command.run(workspace_of(ctx), settings)


@app.command("protocol")
def protocol_command(
    ctx: typer.Context,
    name: Annotated[
        str, typer.Option(help="Checkpoints ROLE-NAME, runs NAME-AGENT, WORKSPACE/protocol/NAME/.")
    ] = "cpu",
    minutes: Annotated[
        float,
        typer.Option(
            "--minutes", "-m", min=0.05, help="Training minutes per core (planner+executor | flat)."
        ),
    ] = 60.0,
    preset: Annotated[str, typer.Option("--preset", "-p", help="T5 preset of all three models.")] = "mini",
    tasks: TasksOption = None,
    max_variations: Annotated[
        Optional[int],
        typer.Option("--max-variations", "-n", min=1, help="Test variations per task (default 10)."),
    ] = None,
    teleport: Annotated[
        bool,
        typer.Option(
            "--teleport/--walk", help="Navigation learnt as teleports or door by door (both agents)."
        ),
    ] = True,
) -> None:
    """The CPU protocol in one command: train planner, executor and flat within the same minutes on
    two cores, evaluate both agents on the 271 test episodes, print the per-task table beside the paper.

    Run it again to resume: finished checkpoints and runs are reused, interrupted ones continue.
    """
    from subgoal.commands import protocol as command
    from subgoal.engine.tasks import resolve_tasks

    command.run(
        workspace_of(ctx),
        command.Protocol(
            name=name,
            minutes=minutes,
            preset=preset,
            tasks=[t.id for t in resolve_tasks(tasks)] if tasks else None,
            max_variations=max_variations,
            teleport=teleport,
        ),
    )


@app.command("eval")
def eval_command(
    ctx: typer.Context,
    agent: Annotated[
        str, typer.Option("--agent", "-a", help="hierarchical, flat or oracle.")
    ] = "hierarchical",
    planner: Annotated[
        Optional[str], typer.Option(help="Planner checkpoint (name or path). Default: the newest planner.")
    ] = None,
    executor: Annotated[
        Optional[str], typer.Option(help="Executor checkpoint (name or path). Default: the newest executor.")
    ] = None,
    checkpoint: Annotated[
        Optional[str], typer.Option(help="Flat checkpoint (name or path). Default: the newest flat one.")
    ] = None,
    oracle_file: Annotated[
        Optional[Path],
        typer.Option(help="Oracle agent: replay these (annotated) episodes. Default: the live gold path."),
    ] = None,
    split: Annotated[str, typer.Option("--split", "-s", help="test (the protocol), dev or train.")] = "test",
    tasks: TasksOption = None,
    max_variations: Annotated[
        Optional[int],
        typer.Option("--max-variations", "-n", min=1, help="At most N variations per task (test: 10)."),
    ] = None,
    workers: Annotated[
        int, typer.Option("--workers", "-j", min=1, envvar="SUBGOAL_WORKERS", help="Parallel JVMs.")
    ] = 1,
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
    compare: Annotated[
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
    from subgoal.commands import eval as command

    if compare:
        command.compare(workspace_of(ctx), *compare, as_json=as_json)
        return
    summary = command.run(
        workspace_of(ctx),
        agent=agent,
        planner=planner,
        executor=executor,
        checkpoint=checkpoint,
        oracle_file=oracle_file,
        split=split,
        tasks=tasks,
        max_variations=max_variations,
        workers=workers,
        batch=batch,
        resume=resume,
        name=name,
        step_limit=step_limit,
        stall_limit=stall_limit,
        num_beams=beams,
        grounding=grounding,
        device=device,
        as_json=as_json,
    )
    if summary.errors:
        raise typer.Exit(1)


@app.command("annotate")
def annotate_command(
    ctx: typer.Context,
    split: Annotated[str, typer.Option("--split", "-s", help="train, dev or test.")] = "train",
    tasks: TasksOption = None,
    teacher: Annotated[
        str,
        typer.Option(
            "--teacher", envvar="SUBGOAL_TEACHER", help="rules (offline) or openai (any compatible server)."
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

    The key comes from OPENAI_API_KEY and is never written anywhere. Exits 1 when some episodes
    could not be annotated (they are listed), 2 when nothing can proceed.
    """
    from subgoal.commands import annotate as command

    opts = command.Options(
        split=split,
        tasks=tasks,
        teacher=teacher,
        model=model,
        base_url=base_url,
        workers=workers,
        limit=limit,
        dry_run=dry_run,
        on_failure=on_failure,
        price_per_1k=price_per_1k,
        max_attempts=max_attempts,
        max_retries=max_retries,
        timeout=timeout,
        max_tokens=max_tokens,
        cache=cache,
        input=input,
        output=output,
    )
    report = command.run(workspace_of(ctx), opts)
    if report is not None and report.failures:
        raise typer.Exit(1)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
