"""`subgoal rules`: the hand-written decision rules, by level (what `--rules LEVEL` switches on)."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Annotated, Optional

import typer
from rich.table import Table

from subgoal.console import out
from subgoal.engine.rules import LEVELS, RULES, at_level, check_level
from subgoal.engine.rules.layer import POINTS


def command(
    level: Annotated[
        Optional[str],
        typer.Option("--level", "-l", help="Only the rules that act at this level (paper, general, task)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """List the hand-written decision rules: name, level, where it acts, which agents, what it does.

    Each level includes those below it: [b]paper[/] < [b]general[/] < [b]task[/]; eval, play,
    quickstart and protocol take [b]--rules LEVEL[/]. A retired rule (the dev protocol showed it
    cost score) is listed with its evidence and acts at no level.
    """
    rules = at_level(check_level(level)) if level else list(RULES.values())
    if as_json:
        out.print_json(json.dumps([asdict(rule) for rule in rules]))
        return
    title = f"rules at the {level} level" if level else f"rules ({', '.join(LEVELS)})"
    table = Table(title=f"{title}: {len(rules)}", title_justify="left")
    for column in ("name", "level", "acts", "agents", "what it does"):
        table.add_column(column, style="bold" if column == "name" else None)
    for rule in rules:
        what = rule.summary + (f"\n[red]retired[/]: {rule.retired}" if rule.retired else "")
        table.add_row(rule.name, rule.level, rule.point, ", ".join(rule.agents), what)
    out.print(table)
    out.print(
        "acts: " + "; ".join(f"[bold]{point}[/] {meaning}" for point, meaning in POINTS.items()),
        soft_wrap=True,
    )
