"""`subgoal play`: watch an agent live, replay a saved episode file, or play by hand.

The Textual app (subgoal.tui.app) is imported only when a terminal will show it; `--plain` (and any
stdout that is not a terminal) prints the same events with rich instead.
"""

from __future__ import annotations

import sys
from pathlib import Path

from subgoal.console import out
from subgoal.engine.episode import read_episodes
from subgoal.engine.events import replay_events
from subgoal.engine.tasks import check_variation, get_task
from subgoal.errors import AgentError, EpisodeFileError
from subgoal.tui.plain import PlainPrinter
from subgoal.tui.sources import (
    SPEEDS,
    LiveConfig,
    LiveSpec,
    PolicyCache,
    RunControl,
    SessionHolder,
    drive,
    human_agent,
    learned_agent,
    oracle_agent,
    rollout_source,
)
from subgoal.workspace import Workspace

AGENTS = ("oracle", "hierarchical", "flat", "human")
DEFAULT_TASK = "4-2"  # find a non-living thing: a handful of steps, something real at once


def run(
    workspace: Workspace,
    *,
    task: str = DEFAULT_TASK,
    variation: int = 0,
    agent: str = "oracle",
    planner: str | None = None,
    executor: str | None = None,
    checkpoint: str | None = None,
    replay: Path | None = None,
    beside: Path | None = None,
    episode: int | None = None,
    plain: bool | None = None,
    theme: str = "dark",
    delay: float = SPEEDS[2],
    paused: bool = False,
    step_limit: int = 100,
) -> None:
    if plain is None:
        plain = not sys.stdout.isatty()
    if beside is not None:
        _beside(replay, beside, plain, theme)
        return
    if replay is not None:
        if not replay.exists():
            raise EpisodeFileError(f"{replay}: no such episode file")
        replay = episode_file(replay)
        if plain:
            _print_replay(replay, episode)
        else:
            from subgoal.tui.app import PlayApp

            _run_app(PlayApp(replay=replay, episode=episode, theme=theme))
        return

    if agent not in AGENTS:
        raise AgentError(f"unknown agent {agent!r}; choose one of {', '.join(AGENTS)}")
    chosen = get_task(task)
    check_variation(chosen, variation)
    if agent in ("hierarchical", "flat"):  # as eval: a slot left empty takes the newest checkpoint
        from subgoal.engine.evaluation import newest_checkpoint

        if agent == "hierarchical":
            planner = planner or newest_checkpoint(workspace, "planner")
            executor = executor or newest_checkpoint(workspace, "executor")
        else:
            checkpoint = checkpoint or newest_checkpoint(workspace, "flat")
    split = chosen.split_of(variation)
    spec = LiveSpec(
        task_id=chosen.id,
        variation=variation,
        split=split,
        agent=agent,
        planner=_checkpoint(planner, workspace),
        executor=_checkpoint(executor, workspace),
        checkpoint=_checkpoint(checkpoint, workspace),
        step_limit=step_limit,
        annotated=sorted(workspace.annotated.glob(f"{split}.*.jsonl.gz"))
        if workspace.annotated.is_dir()
        else [],
    )
    if agent == "hierarchical" and not (spec.planner and spec.executor):
        raise AgentError("--agent hierarchical needs --planner and --executor checkpoints")
    if agent == "flat" and not spec.checkpoint:
        raise AgentError("--agent flat needs --checkpoint")
    holder, policies = SessionHolder(), PolicyCache()
    try:
        if agent == "human":
            if plain:
                raise AgentError("--agent human needs a terminal: run it without --plain, in a terminal")
            config = LiveConfig(
                lambda link: rollout_source(spec, holder, human_agent(spec, link, policies)),  # type: ignore[arg-type]
                human=True,
                save_dir=workspace.runs,
            )
        else:
            make = oracle_agent(spec) if agent == "oracle" else learned_agent(spec, policies)
            source = rollout_source(spec, holder, make)
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


def _checkpoint(name: str | None, workspace: Workspace) -> str | None:
    """A checkpoint's folder, from its name in the workspace or a path (checked now, loaded later)."""
    if not name:
        return None
    from subgoal.checkpoints import check_weights, resolve

    path = resolve(name, workspace)
    check_weights(path)
    return str(path)


def _print_replay(path: Path, number: int | None) -> None:
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
