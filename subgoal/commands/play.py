"""`subgoal play`: watch an agent live, replay a saved episode file, or play by hand.

The Textual app (subgoal.tui.app) is imported only when a terminal will show it; `--plain` (and any
stdout that is not a terminal) prints the same events with rich instead.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from subgoal.commands.options import CheckpointOption, ExecutorOption, PlannerOption, RulesOption, listed
from subgoal.console import out
from subgoal.engine.agent_kinds import kind_names
from subgoal.engine.episode import read_episodes
from subgoal.engine.rules.layer import DEFAULT_LEVEL, check_rules
from subgoal.engine.tasks import check_variation, get_task
from subgoal.errors import AgentError, EpisodeFileError
from subgoal.workspace import Workspace, workspace_of

DEFAULT_TASK = "4-2"  # find a non-living thing: a handful of steps, something real at once


def command(
    ctx: typer.Context,
    task: Annotated[str, typer.Option("--task", "-t", help="Task id or name.")] = DEFAULT_TASK,
    variation: Annotated[int, typer.Option("--variation", "-v", min=0, help="Variation index.")] = 0,
    agent: Annotated[str, typer.Option("--agent", "-a", help=f"{listed(kind_names())}.")] = "oracle",
    planner: PlannerOption = None,
    executor: ExecutorOption = None,
    checkpoint: CheckpointOption = None,
    rules: RulesOption = DEFAULT_LEVEL,
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
    workspace = workspace_of(ctx)
    theme = "light" if light else "dark"
    if plain is None:
        plain = not sys.stdout.isatty()
    if beside is not None:
        _beside(replay, beside, plain, theme)
    elif replay is not None:
        _replay(replay, episode, plain, theme)
    else:
        checkpoints = {"planner": planner, "executor": executor, "flat": checkpoint}
        options = {"rules": check_rules(rules)}
        _live(
            workspace, task, variation, agent, checkpoints, options, plain, theme, delay, paused, step_limit
        )


def _replay(replay: Path, episode: int | None, plain: bool, theme: str) -> None:
    if not replay.exists():
        raise EpisodeFileError(f"{replay}: no such episode file")
    replay = episode_file(replay)
    if plain:
        _print_replay(replay, episode)
    else:
        from subgoal.tui.app import PlayApp

        _run_app(PlayApp(replay=replay, episode=episode, theme=theme))


def _live(
    workspace: Workspace,
    task: str,
    variation: int,
    agent: str,
    checkpoints: dict[str, str | None],
    options: dict[str, str],
    plain: bool,
    theme: str,
    delay: float,
    paused: bool,
    step_limit: int,
) -> None:
    """An agent of the registry, playing one variation live: in the app, or printed with --plain.
    As in eval, a checkpoint slot left empty takes the newest of its role, checked before a JVM starts."""
    # The live machinery (and the app) load only when a live episode is asked for.
    from subgoal import live
    from subgoal.engine.agent_kinds import gold_plan_file, resolve_spec
    from subgoal.tui.plain import PlainPrinter
    from subgoal.tui.sources import LiveConfig, RunControl, drive

    chosen = get_task(task)
    check_variation(chosen, variation)
    split = chosen.split_of(variation)
    annotated = workspace.annotated
    if agent == "gold-plan":  # its plans: the split's annotated episodes
        plans = gold_plan_file(workspace, split)
        if not plans.exists():
            raise AgentError(
                f"the gold-plan agent plays annotated plans: none at {plans} (`subgoal annotate`)"
            )
        options = {**options, "oracle_file": str(plans)}
    agent_spec = resolve_spec(agent, workspace, checkpoints, **options)
    if agent == "human" and plain:
        raise AgentError("--agent human needs a terminal: run it without --plain, in a terminal")
    agent_spec.check()
    spec = live.LiveSpec(
        chosen.id,
        variation,
        split,
        agent_spec,
        step_limit,
        sorted(annotated.glob(f"{split}.*.jsonl.gz")) if annotated.is_dir() else [],
    )
    holder, policies = live.SessionHolder(), live.PolicyCache()
    try:
        if agent == "human":
            config = LiveConfig(
                lambda link: live.rollout_source(spec, holder, live.registry_agent(spec, policies, link)),
                human=True,
                save_dir=workspace.runs,
            )
        else:
            source = live.rollout_source(spec, holder, live.registry_agent(spec, policies))
            if plain:
                drive(source, RunControl(delay=0.0), PlainPrinter(out))
                return
            config = LiveConfig(lambda link: source, delay=delay, paused=paused, save_dir=workspace.runs)
        from subgoal.tui.app import PlayApp

        _run_app(PlayApp(live=config, theme=theme))
    finally:
        holder.close()


def _run_app(app) -> None:  # type: ignore[no-untyped-def]
    """Run the app; what went wrong in it is then one line and its exit code, as with --plain."""
    app.run()
    if app.error is not None:
        raise app.error


def _beside(replay: Path | None, beside: Path, plain: bool, theme: str) -> None:
    """Two runs side by side: in the app, or a table of their pairs with --plain."""
    if replay is None:
        raise EpisodeFileError("--beside needs --replay: the run to put it beside")
    for path in (replay, beside):
        if not path.exists():
            raise EpisodeFileError(f"{path}: no such episode file")
    left, right = episode_file(replay), episode_file(beside)
    if plain:
        from subgoal.tui.beside import pair_episodes, print_pairs
        from subgoal.tui.beside_app import side_names

        pairs = pair_episodes(read_episodes(left), read_episodes(right))
        if not pairs:
            raise EpisodeFileError(f"{left} and {right} share no task variation")
        print_pairs(out, pairs, side_names(left, right))
        return
    from subgoal.tui.beside_app import BesideApp

    app = BesideApp(left, right, theme=theme)
    app.run()
    if app.error is not None:  # the app showed it; the shell gets its line and exit code too
        raise app.error


def episode_file(path: Path) -> Path:
    """An eval run folder stands for its episodes (RUN/episodes.jsonl.gz); a file for itself."""
    if not path.is_dir():
        return path
    inside = path / "episodes.jsonl.gz"
    if not inside.is_file():
        raise EpisodeFileError(
            f"{path}: a folder without episodes.jsonl.gz (give an episode file or a run folder)"
        )
    return inside


def _print_replay(path: Path, number: int | None) -> None:
    from subgoal.engine.events import replay_events
    from subgoal.tui.plain import PlainPrinter

    printer = PlainPrinter(out)
    found = False
    for index, saved in enumerate(read_episodes(path)):
        if number is not None and index != number:
            continue
        found = True
        if number is None:
            out.rule(f"episode {index}", style="dim")
        for event in replay_events(saved):
            printer(event)
    if not found:
        what = f"no episode {number} in {path}" if number is not None else f"{path} holds no episodes"
        raise EpisodeFileError(what)
