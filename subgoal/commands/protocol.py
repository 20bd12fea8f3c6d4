"""`subgoal protocol`: the CPU protocol of DESIGN.md as one resumable command.

    train   core A: the planner, then the executor, half the minutes each (DESIGN.md: at most 30
            of the 60); core B: the flat baseline for all the minutes (it never loses for lack of
            compute).
    eval    both agents on the test protocol (first 10 test variations of each task, 100 steps),
            one after the other, each on both cores (two worker processes), at each rules level
            asked for (`--rules`, default `general`: the headline); `--split dev` plays the first
            5 dev variations of each task instead (DEV_VARIATIONS), where choices are made.
    report  per task, per bucket and overall for both agents at the first level, the paper's
            numbers beside them; the ladder (both agents at every level played, with eval minutes);
            the wall time of each phase; written to WORKSPACE/protocol/NAME/summary.md too
            (summary-dev.md for the dev split).

Each phase runs `subgoal train` / `subgoal eval` in child processes with one torch thread each
(parallelism on a CPU comes from processes), so the pieces are the ones a user runs by hand.
Everything resumes: a finished checkpoint or run is reused, an interrupted one continues.
"""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Optional

import typer

from subgoal.commands.options import TasksOption
from subgoal.console import err, out
from subgoal.engine.files import write_atomic
from subgoal.engine.rules.layer import DEFAULT_LEVEL, LEGACY_LEVEL, check_level
from subgoal.errors import SubgoalError
from subgoal.workspace import Workspace, ensure_dir, workspace_of

COMPARED = ("hierarchical", "flat")  # the two agents the protocol trains and sets side by side
EVAL_WORKERS = 2  # the protocol's two cores


@dataclass
class Protocol:
    name: str = "cpu"
    minutes: float = 60.0  # per core: planner + executor on one, flat on the other
    preset: str = "mini"
    teleport: bool = True
    tasks: list[str] | None = None
    max_variations: int | None = None  # variations per task (None: the protocol's 10)
    step_limit: int = 100
    levels: tuple[str, ...] = (DEFAULT_LEVEL,)  # rules levels to evaluate; the first is the headline
    split: str = "test"  # dev: decide; test: report

    def run_name(self, agent: str, level: str) -> str:
        """The eval run of `agent` at `level`: NAME-AGENT for the test split at the task level (the
        runs of before levels existed, which had every rule on), else NAME-[dev-]LEVEL-AGENT."""
        split = "" if self.split == "test" else f"{self.split}-"
        if not split and level == LEGACY_LEVEL:
            return f"{self.name}-{agent}"
        return f"{self.name}-{split}{level}-{agent}"


# Each role's input budget in tokens (the quickstart's too): the planner's cut from 320 for twice the
# examples/s and a lower dev loss in its 30 minutes (RESULTS §19); the executor's from 256, its dev
# loss per example held (§17).
INPUT_TOKENS = {"planner": 192, "executor": 160, "flat": 320}

# The throughput levers each role keeps beyond `subgoal train`'s defaults (bf16, no dropout), chosen
# on dev loss per example seen (RESULTS §17): the executor gains from compile and batches of 32 (the
# learning rate scaled by its square root); the planner and the flat model lost dev loss with both.
TRAIN_LEVERS: dict[str, tuple[str, ...]] = {
    "planner": (),
    "executor": ("--compile", "--batch-size", "32", "--lr", "1.4e-3"),
    "flat": (),
}


class ProtocolError(SubgoalError):
    pass


def split_minutes(total: float) -> tuple[float, float]:
    """The planner's and the executor's share of `total` minutes: half each. Not by example
    counts (which gave the executor twice the planner's time): the executor is asked for about a
    third of the actions at play time (a sub-goal that leaves one valid action needs no model),
    while every sub-goal is the planner's choice, and the less trained planner was the weaker."""
    half = round(total / 2, 2)
    return half, half


def command(
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
    rules: Annotated[
        Optional[list[str]],
        typer.Option(
            "--rules",
            metavar="LEVEL",
            help="Rules levels to evaluate, comma-separated or repeated (paper, general, task); the first "
            "is the headline. Default: general. The trained models are reused.",
        ),
    ] = None,
    split: Annotated[
        str,
        typer.Option(
            "--split", "-s", help="test (report) or dev (decide: the first 5 dev variations of each task)."
        ),
    ] = "test",
) -> None:
    """The CPU protocol in one command: train planner, executor and flat within the same minutes on
    two cores, evaluate both agents on the 271 test episodes, print the per-task table beside the paper.

    Run it again to resume: finished checkpoints and runs are reused, interrupted ones continue.
    """
    from subgoal.engine.tasks import resolve_tasks

    chosen = [t.id for t in resolve_tasks(tasks)] if tasks else None
    levels = tuple(
        dict.fromkeys(check_level(x) for r in rules or [DEFAULT_LEVEL] for x in r.split(",") if x.strip())
    )
    if split not in ("test", "dev"):
        raise ProtocolError(f"unknown split {split!r} for the protocol; choose test or dev")
    protocol = Protocol(
        name,
        minutes,
        preset,
        teleport=teleport,
        tasks=chosen,
        max_variations=max_variations,
        levels=levels or (DEFAULT_LEVEL,),
        split=split,
    )
    run(workspace_of(ctx), protocol)


def run(workspace: Workspace, protocol: Protocol) -> None:
    folder = ensure_dir(workspace.root / "protocol" / protocol.name)
    files = [workspace.annotated_file(split) for split in ("train", "dev")]
    missing = [f for f in files if not f.exists()]
    if missing:
        raise ProtocolError(
            f"no annotated data at {missing[0]}: collect and annotate the train and dev splits first "
            "(README: the whole train split is a copy away)"
        )
    times: dict[str, float] = {}
    t0 = time.perf_counter()
    _train(workspace, protocol, folder)
    times["train"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    _evaluate(workspace, protocol, folder)
    times["eval"] = time.perf_counter() - t0
    _report(workspace, protocol, folder, times)


def _checkpoint(role: str, protocol: Protocol) -> str:
    return f"{role}-{protocol.name}"


def _train(workspace: Workspace, protocol: Protocol, folder: Path) -> None:
    from subgoal.checkpoints import is_checkpoint

    if all(
        is_checkpoint(workspace.checkpoints / _checkpoint(r, protocol))
        for r in ("planner", "executor", "flat")
    ):
        err.print(f"train: planner-, executor- and flat-{protocol.name} are there, reused")
        return
    planner_min, executor_min = split_minutes(protocol.minutes)
    minutes = {"planner": planner_min, "executor": executor_min, "flat": protocol.minutes}

    def command(role: str) -> list[str] | None:
        if is_checkpoint(workspace.checkpoints / _checkpoint(role, protocol)):
            err.print(f"train {role}: {_checkpoint(role, protocol)} is there, reused")
            return None
        args = ["train", role, "-p", protocol.preset, "--tag", protocol.name, "--epochs", "1000"]
        args += ["--max-minutes", str(minutes[role]), "--max-input-tokens", str(INPUT_TOKENS[role])]
        args += ["--eval-every", "400", "--patience", "0", "--teleport" if protocol.teleport else "--walk"]
        args += ["--threads", "1"]  # one core each: the two queues run side by side
        args += TRAIN_LEVERS[role]
        if protocol.tasks:
            args += ["--tasks", ",".join(protocol.tasks)]
        return args

    err.print(
        f"[bold]train[/] ({protocol.preset}): planner {planner_min:g} min then executor {executor_min:g} min "
        f"on one core, flat {protocol.minutes:g} min on the other"
    )
    core_a = [c for c in (command("planner"), command("executor")) if c]
    core_b = [c for c in (command("flat"),) if c]
    _run_in_parallel(workspace, [core_a, core_b], folder, "train")


def _evaluate(workspace: Workspace, protocol: Protocol, folder: Path) -> None:
    """The hierarchical agent, then the flat one, each with two worker processes: both cores stay
    busy until the end, where one process per agent side by side left a core idle once the faster
    agent had finished (the hierarchical agent takes about twice the flat one's time)."""
    from subgoal.engine.agent_kinds import KINDS
    from subgoal.engine.runs import CONFIG

    for level in protocol.levels:
        queue = []
        for agent in COMPARED:
            name = protocol.run_name(agent, level)
            workers = ["--workers", str(EVAL_WORKERS)]
            if (workspace.runs / name / CONFIG).exists():
                queue.append(["eval", "--resume", name, *workers])
                continue
            args = ["eval", "--agent", agent, "--name", name, "--rules", level, "--split", protocol.split]
            args += ["--step-limit", str(protocol.step_limit), *workers]
            for slot in KINDS[agent].slots:  # --planner/--executor, or --checkpoint
                args += [slot.flag, _checkpoint(slot.role, protocol)]
            if protocol.tasks:
                args += ["--tasks", ",".join(protocol.tasks)]
            if protocol.max_variations or protocol.split == "dev":
                args += ["-n", str(protocol.max_variations or DEV_VARIATIONS)]
            queue.append(args)
        err.print(
            f"[bold]eval[/] ({protocol.split} split, {level} rules): the hierarchical agent, then the flat "
            f"one, {EVAL_WORKERS} workers each"
        )
        started = time.perf_counter()
        _run_in_parallel(workspace, [queue], folder, "eval")
        _note_minutes(folder, protocol, level, (time.perf_counter() - started) / 60)


def _run_in_parallel(workspace: Workspace, queues: list[list[list[str]]], folder: Path, phase: str) -> None:
    """Each queue runs its commands one after the other; the queues run side by side. The output
    of each command goes to FOLDER/PHASE-N.log."""
    env = {k: v for k, v in os.environ.items() if k != "SUBGOAL_WORKERS"}
    env |= {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    scripts = [(index, queue) for index, queue in enumerate(queues) if queue]
    procs = []
    try:
        for index, queue in scripts:
            log = folder / f"{phase}-{index}.log"
            base = [sys.executable, "-m", "subgoal", "-w", str(workspace.root)]
            script = " && ".join(shlex.join(base + command) for command in queue)
            fh = open(log, "ab")  # noqa: SIM115 - closed below
            proc = subprocess.Popen(
                ["bash", "-c", script],
                stdout=fh,
                stderr=fh,
                stdin=subprocess.DEVNULL,
                env=env,
                start_new_session=True,  # Ctrl-C reaches them through us, once
            )
            procs.append((proc, fh, log))
        failed = []
        for proc, fh, log in procs:
            code = proc.wait()
            fh.close()
            if code != 0:
                failed.append((code, log))
    except KeyboardInterrupt:
        for proc, _fh, _ in procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGINT)
        for proc, fh, _ in procs:
            proc.wait()
            fh.close()
        raise
    if failed:
        code, log = failed[0]
        tail = log.read_text(errors="replace").strip().splitlines()[-1:] or ["(no output)"]
        raise ProtocolError(f"{phase} failed (exit {code}): {tail[0]} — see {log}")


DEV_VARIATIONS = 5  # the dev protocol: the first 5 dev variations of each task (DESIGN.md)
MINUTES = "eval-minutes.json"  # eval wall minutes per split and level, for the ladder


def _note_minutes(folder: Path, protocol: Protocol, level: str, minutes: float) -> None:
    path = folder / MINUTES
    try:
        noted = json.loads(path.read_text())
    except (OSError, ValueError):
        noted = {}
    key = f"{protocol.split}/{level}"
    noted[key] = round(noted.get(key, 0.0) + minutes, 2)  # a resumed eval adds its own minutes
    write_atomic(path, json.dumps(noted, indent=2))


def ladder_table(workspace: Workspace, protocol: Protocol, folder: Path):  # type: ignore[no-untyped-def]
    """Both agents' overall score at every rules level this protocol has played on its split (one set
    of checkpoints), the difference, and the eval minutes of each level."""
    from rich.table import Table

    from subgoal.engine.rules import LEVELS
    from subgoal.engine.runs import CONFIG, Run

    try:
        minutes = json.loads((folder / MINUTES).read_text())
    except (OSError, ValueError):
        minutes = {}
    table = Table(title=f"rules ladder ({protocol.split} split, the same checkpoints)", title_justify="left")
    for column in ("rules", "hierarchical", "flat", "Δ", "eval min"):
        table.add_column(column, justify="left" if column == "rules" else "right")
    for level in LEVELS:
        paths = [workspace.runs / protocol.run_name(agent, level) for agent in COMPARED]
        if not all((p / CONFIG).exists() for p in paths):
            continue
        hier, flat = (Run.open(p).summary().overall for p in paths)
        spent = minutes.get(f"{protocol.split}/{level}")
        table.add_row(
            level, f"{hier:.2f}", f"{flat:.2f}", f"{hier - flat:+.2f}", f"{spent:.1f}" if spent else "—"
        )
    return table


def _report(workspace: Workspace, protocol: Protocol, folder: Path, times: dict[str, float]) -> None:
    from rich.console import Console

    from subgoal.engine.report import compare_table, results_table, timing_line
    from subgoal.engine.runs import Run

    headline = protocol.levels[0]
    runs = {agent: Run.open(workspace.runs / protocol.run_name(agent, headline)) for agent in COMPARED}
    summaries = {agent: run.summary() for agent, run in runs.items()}
    table = compare_table(summaries["flat"], summaries["hierarchical"], "flat", "hierarchical")
    table.title = (
        f"CPU protocol {protocol.name}: {protocol.preset}, {protocol.minutes:g} min per core, "
        f"{protocol.split} split, {headline} rules"
    )
    ladder = ladder_table(workspace, protocol, folder)
    lines = [
        f"train wall time {times['train'] / 60:.1f} min, eval wall time {times['eval'] / 60:.1f} min "
        "(a reused phase counts only what this command ran)",
    ]
    for agent in COMPARED:
        lines.append(f"{agent}: {timing_line(summaries[agent])}")
    summary_file = folder / ("summary.md" if protocol.split == "test" else f"summary-{protocol.split}.md")
    for target in (out, Console(file=open(summary_file, "w"), width=120)):  # noqa: SIM115
        for agent in COMPARED:
            target.print(results_table(summaries[agent], f"{agent} ({protocol.name})", agent))
        target.print(table)
        target.print(ladder)
        for line in lines:
            target.print(line, soft_wrap=True)
        if target is not out:
            target.file.close()
    write_atomic(folder / "times.json", json.dumps(times))
