"""What the models read and write: the input formats of the planner, the executor and the flat
baseline (DESIGN.md, "Sub-goals and the two modules"), shared by training and by the agents.

Fields are joined with `</s>` as in the paper. `render` keeps the task description, the score and
the sub-goals whole; when a `budget` is given it drops the oldest history first, then shortens look.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

SEP = " </s> "
END_SUBGOAL = "end subgoal"  # the executor's pseudo action closing a sub-goal
COMPLETE_TASK = "complete_task()"  # the planner's last label
HISTORY_LENGTH = 10
ROLES = ("planner", "executor", "flat")


@dataclass
class Context:
    """What an agent knows before choosing its next output."""

    task_description: str
    moves: int = 0
    score: int = 0
    completed: list[str] = field(default_factory=list)  # names of finished sub-goals, in order
    current: str | None = None  # the sub-goal being executed (executor only)
    history: list[tuple[str, str, int]] = field(default_factory=list)  # (action, observation, reward)
    look: str = ""
    inventory: str = ""
    visited: list[str] = field(default_factory=list)  # rooms seen so far, in order


def _clean(text: str) -> str:
    return " ".join(text.split())


def render(role: str, ctx: Context, budget: Callable[[str], bool] | None = None) -> str:
    """The model input for `role`. `budget(text)` says whether a text fits; None means no limit."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}")
    history = list(ctx.history[-HISTORY_LENGTH:])
    look = _clean(ctx.look)
    while True:
        text = _compose(role, ctx, history, look)
        if budget is None or budget(text):
            return text
        if history:
            history.pop(0)
        elif look:
            look = look[: len(look) // 2].rsplit(" ", 1)[0] if len(look) > 40 else ""
        else:
            return text


def _compose(role: str, ctx: Context, history: list[tuple[str, str, int]], look: str) -> str:
    parts = [
        f"task: {_clean(ctx.task_description)}",
        f"time: {ctx.moves}; score: {ctx.score}",
        "completed subgoals: " + (", ".join(ctx.completed) if ctx.completed else "none"),
    ]
    if role == "executor":
        parts.append(f"current subgoal: {ctx.current or 'none'}")
    if role == "flat":
        parts = parts[:2]
    steps = "; ".join(f"{a} -> {_clean(o)} ({r:+d})" for a, o, r in history)
    parts.append(f"history: {steps or 'none'}")
    parts.append(f"look: {look}")
    parts.append(f"inventory: {_clean(ctx.inventory)}")
    parts.append("visited: " + (", ".join(ctx.visited) if ctx.visited else "none"))
    return SEP.join(parts)
