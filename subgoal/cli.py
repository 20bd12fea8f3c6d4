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
from subgoal.commands import annotate, checkpoints, collect, play, protocol, quickstart, rules, tasks, train
from subgoal.commands import eval as eval_command
from subgoal.console import err
from subgoal.errors import SubgoalError
from subgoal.workspace import ENV_VAR, Workspace

# `--help` lists the verbs in pipeline order, whatever order they are registered in.
_ORDER = (
    "tasks",
    "collect",
    "annotate",
    "train",
    "eval",
    "play",
    "rules",
    "checkpoints",
    "quickstart",
    "protocol",
)


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
app.command("annotate")(annotate.command)
app.command("train")(train.command)
app.command("eval")(eval_command.command)
app.command("play")(play.command)
app.command("rules")(rules.command)
app.command("quickstart")(quickstart.command)
app.command("protocol")(protocol.command)
app.add_typer(checkpoints.app, name="checkpoints")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
