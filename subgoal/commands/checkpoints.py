"""`subgoal checkpoints list|show|rm`: the checkpoints on disk, with their metrics.

A light module (rich only, no torch), so it is also where the Typer sub-app lives.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.table import Table

from subgoal.checkpoints import (
    CheckpointInfo,
    list_checkpoints,
    read_log,
    read_manifest,
    remove,
    resolve,
    weights_problem,
)
from subgoal.console import err, out
from subgoal.engine.examples import input_format_of
from subgoal.engine.rules.neighbours import NEIGHBOURS
from subgoal.engine.rules.plan_prior import PLANS
from subgoal.engine.rules.stand_in import TASKS
from subgoal.workspace import workspace_of

app = typer.Typer(help="The checkpoints on disk: list them, show one, remove one.", no_args_is_help=True)

CURVES_SVG = "curves.svg"  # the training curves for reports, beside the log they are drawn from


def _fmt(value: Any, digits: int = 3) -> str:
    if value is None or value == "":
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def _rounded(text: Any) -> Any:
    """Long decimals in a sentence to one place ("time budget of 1.6666666666666667 min")."""
    if not isinstance(text, str):
        return text
    return re.sub(r"\d+\.\d{3,}", lambda m: f"{float(m.group()):.1f}", text)


def _params(n: Any) -> str:
    return f"{n / 1e6:.1f} M" if isinstance(n, int) else "-"


@app.command("list")
def list_command(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Every checkpoint of the workspace: role, model, size, best dev metrics, training time.

    A checkpoint that cannot be loaded is marked broken, with the reason; then the exit code is 1.
    """
    workspace = workspace_of(ctx)
    found = list_checkpoints(workspace)
    if as_json:
        rows = [{"name": c.name, "path": str(c.path), "problem": c.problem, **c.manifest} for c in found]
        out.print_json(json.dumps(rows))
        _exit_if_broken(found)
        return
    if not found:
        err.print(f"no checkpoints in {workspace.checkpoints}; `subgoal train` makes them")
        return
    table = Table(title=f"checkpoints in {workspace.checkpoints}", title_justify="left")
    for column, justify in [
        ("name", "left"),
        ("role", "left"),
        ("model", "left"),
        ("params", "right"),
        ("train ex.", "right"),
        ("steps", "right"),
        ("dev loss", "right"),
        ("dev exact", "right"),
        ("minutes", "right"),
        ("created", "left"),
    ]:
        table.add_column(column, justify=justify, no_wrap=column == "name")  # type: ignore[arg-type]
    for c in found:
        m = c.manifest
        metrics, training = m.get("metrics") or {}, m.get("training") or {}
        table.add_row(
            f"{c.name} [bold red](broken)[/]" if c.broken else c.name,
            c.role,
            m.get("model") or (f"preset {m['preset']}" if m.get("preset") else "-"),
            _params(m.get("params")),
            _fmt(((m.get("data") or {}).get("train") or {}).get("examples")),
            _fmt(training.get("steps")),
            _fmt(metrics.get("dev_loss")),
            _fmt(metrics.get("dev_exact")),
            _fmt((training.get("seconds") or 0) / 60, 1),
            _fmt(m.get("created", "")[:16]),
        )
    out.print(table)
    _exit_if_broken(found)


def _exit_if_broken(found: list[CheckpointInfo]) -> None:
    """One line on stderr per broken checkpoint, then exit 1."""
    broken = [c for c in found if c.broken]
    for c in broken:
        err.print(f"[bold red]broken:[/] {c.name}: {c.problem}", highlight=False, soft_wrap=True)
    if broken:
        raise typer.Exit(1)


@app.command("show")
def show_command(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="A checkpoint name or folder.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the manifest as JSON.")] = False,
    svg: Annotated[
        Optional[Path],
        typer.Option(
            "--svg",
            dir_okay=False,
            help=f"Write the training curves as SVG there. Default: {CURVES_SVG} in the checkpoint.",
        ),
    ] = None,
) -> None:
    """One checkpoint's manifest: data, metrics, training figures, versions; its training curves,
    also written as an SVG file."""
    path = resolve(name, workspace_of(ctx))
    manifest = read_manifest(path)
    problem = weights_problem(path)
    broken = [CheckpointInfo(path.name, path, manifest, problem)] if problem else []
    log = read_log(path)
    if as_json:
        out.print_json(json.dumps({"path": str(path), "problem": problem, **manifest}))
        _write_curves_svg(log, path, svg, as_json)
        _exit_if_broken(broken)
        return
    table = Table(title=f"{path.name}  ({path})", title_justify="left", show_header=False)
    table.add_column("field", style="bold")
    table.add_column("value")
    data = manifest.get("data") or {}
    rows: list[tuple[str, Any]] = [
        ("state", f"broken: {problem}" if problem else "sound"),
        ("role", manifest.get("role")),
        ("model", manifest.get("model") or f"preset {manifest.get('preset')}"),
        ("parameters", _params(manifest.get("params"))),
        ("input budget", f"{manifest.get('max_input_tokens')} tokens"),
        ("input layout", input_format_of(manifest)),
        ("seed", manifest.get("seed")),
        ("train data", ", ".join(data.get("train_files") or []) + f"  (hash {data.get('train_hash')})"),
        ("dev data", ", ".join(data.get("dev_files") or []) or "-"),
        ("tasks", ", ".join(data.get("tasks") or []) or "all"),
    ]
    rows.append(("train tasks", _train_tasks(path)))
    if manifest.get("role") == "planner":
        rows.append(("train plans", _train_plans(path)))
    if manifest.get("role") in ("planner", "flat"):
        rows.append(("nearest plans", _nearest_plans(path)))
    for split in ("train", "dev"):
        s = data.get(split)
        if s:
            src = s.get("source_tokens", {})
            rows.append(
                (
                    f"{split} examples",
                    f"{s.get('examples')} from {s.get('episodes')} episodes; input tokens "
                    + " ".join(f"{k}={v}" for k, v in src.items()),
                )
            )
    metrics, training = manifest.get("metrics") or {}, manifest.get("training") or {}
    rows += [
        ("best dev", " ".join(f"{k}={_fmt(v, 4)}" for k, v in metrics.items()) or "no dev evaluation"),
        (
            "training",
            f"{training.get('steps')} steps, {training.get('epochs')} epochs, "
            f"{_fmt((training.get('seconds') or 0) / 60, 1)} min on {training.get('device')} "
            f"x{training.get('processes')} ({training.get('mixed_precision')}); {_rounded(training.get('stopped'))}",
        ),
        (
            "throughput",
            f"{training.get('examples_per_s')} examples/s, {training.get('tokens_per_s')} tokens/s",
        ),
        ("tokenizer hash", manifest.get("tokenizer_hash")),
        ("versions", " ".join(f"{k}={v}" for k, v in (manifest.get("versions") or {}).items())),
        ("created", manifest.get("created")),
    ]
    evals = [r for r in log if r.get("kind") == "eval"]
    if evals:
        rows.append(("evaluations", f"{len(evals)}; last at step {evals[-1].get('step')}"))
    for key, value in rows:
        table.add_row(key, _fmt(value))
    out.print(table)
    _print_curves(log)
    _write_curves_svg(log, path, svg, as_json)
    _exit_if_broken(broken)


def _print_curves(log: list[dict[str, Any]]) -> None:
    """The training curves under the table: loss and dev metrics over the steps (plotext)."""
    from rich.text import Text

    from subgoal.plots import training_curves

    curves = training_curves(log, width=min(out.width, 120), height=16, colour=out.is_terminal)
    if curves:
        out.print(Text.from_ansi(curves), soft_wrap=True)


def _write_curves_svg(log: list[dict[str, Any]], path: Path, target: Path | None, as_json: bool) -> None:
    """The curves as an SVG file (`target`, or curves.svg in checkpoint `path`), and where it went:
    on stderr under --json, whose stdout is only the JSON. A checkpoint folder one cannot write to
    (shared, read-only) only warns."""
    from rich.markup import escape

    from subgoal.plots import write_curves_svg

    file = target or path / CURVES_SVG
    try:
        written = write_curves_svg(log, file, f"training curves of {path.name}")
    except OSError as exc:
        err.print(f"[yellow]could not write {escape(str(file))}: {exc}[/]", soft_wrap=True)
        return
    if written:
        (err if as_json else out).print(f"curves: {escape(str(file))}", soft_wrap=True, highlight=False)
    elif target is not None:  # asked for by name: say why there is no file
        err.print(f"no training curves in {path.name}'s log: {escape(str(file))} not written", soft_wrap=True)


@app.command("rm")
def rm_command(
    ctx: typer.Context,
    names: Annotated[list[str], typer.Argument(help="Checkpoint names or folders.")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Remove checkpoints (asks first unless --yes)."""
    workspace = workspace_of(ctx)
    paths = [resolve(n, workspace) for n in names]  # all must exist before any is removed
    if not yes:
        typer.confirm(f"remove {', '.join(str(p) for p in paths)}?", abort=True, err=True)
    for path in paths:
        remove(str(path), workspace)
        err.print(f"removed {path}")


def _train_tasks(path: Path) -> str:
    """What a checkpoint's tasks.json holds for the stand-ins rule, or why the rule cannot act."""

    def summary(data: Any) -> str:
        tasks = data["tasks"]
        named = sum(1 for _, names in tasks if names)
        return f"{len(tasks):,} ({named:,} with names) in {TASKS}, for stand-ins"

    return _rule_file(path, TASKS, "stand-ins", summary)


def _train_plans(path: Path) -> str:
    """What a planner's plans.json holds for the plan-prior rule, or why the rule cannot act."""

    def summary(data: Any) -> str:
        rows = data["plans"]
        return f"{sum(int(r[0]) for r in rows):,} ({len(rows):,} distinct) in {PLANS}, for plan-prior"

    return _rule_file(path, PLANS, "plan-prior", summary)


def _nearest_plans(path: Path) -> str:
    """What the neighbours.json of a planner (its sub-goals) or a flat model (its actions) holds for
    the plan-neighbours rule, or why it cannot act."""

    def summary(data: Any) -> str:
        return f"{len(data['plans']):,} descriptions with their steps in {NEIGHBOURS}, for plan-neighbours"

    return _rule_file(path, NEIGHBOURS, "plan-neighbours", summary)


def _rule_file(path: Path, name: str, rule: str, summary: Callable[[Any], str]) -> str:
    """`summary` of the json file `name` a rule reads beside a checkpoint; a missing or damaged file
    said in words, never raised (show is for looking)."""
    try:
        return summary(json.loads((path / name).read_text(encoding="utf-8")))
    except FileNotFoundError:
        return f"none (no {name}: trained before it), {rule} cannot act"
    except (OSError, ValueError, KeyError, TypeError, IndexError) as exc:
        return f"unreadable {name} ({exc})"
