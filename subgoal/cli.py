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
from subgoal.commands import checkpoints, collect, play, protocol, quickstart, tasks, train
from subgoal.commands import eval as eval_command
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
app.command("eval")(eval_command.command)
app.command("play")(play.command)
app.command("quickstart")(quickstart.command)
app.command("protocol")(protocol.command)
app.add_typer(checkpoints.app, name="checkpoints")


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
