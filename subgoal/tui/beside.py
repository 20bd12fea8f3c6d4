"""Two runs side by side: their episodes paired by task and variation, and where each pair first
parts ways. Plain data, no Textual: the side-by-side screen and `--plain` both read it."""

from __future__ import annotations

from dataclasses import dataclass

from rich.console import Console
from rich.table import Table

from subgoal.engine.episode import Episode
from subgoal.engine.events import end_reason


@dataclass
class Pair:
    left: Episode
    right: Episode

    @property
    def divergence(self) -> int | None:
        """The first step where the two differ (an action, or one has ended), None if they never do."""
        return divergence(self.left, self.right)

    @property
    def label(self) -> str:
        return f"{self.left.task_id} {self.left.task_name} v{self.left.variation}"


def _same(a: str, b: str) -> bool:
    return " ".join(a.lower().split()) == " ".join(b.lower().split())


def divergence(left: Episode, right: Episode) -> int | None:
    for index, (a, b) in enumerate(zip(left.steps, right.steps, strict=False)):  # to the shorter
        if not _same(a.action, b.action):
            return index
    shorter = min(len(left.steps), len(right.steps))
    return None if len(left.steps) == len(right.steps) else shorter


def pair_episodes(left: list[Episode], right: list[Episode]) -> list[Pair]:
    """The episodes of `left` that `right` played too (same task and variation), in `left`'s order;
    a key played twice on one side is paired with its first."""
    first: dict[tuple[str, int], Episode] = {}
    for episode in right:
        first.setdefault(episode.key, episode)
    seen: set[tuple[str, int]] = set()
    pairs = []
    for episode in left:
        if episode.key in first and episode.key not in seen:
            seen.add(episode.key)
            pairs.append(Pair(episode, first[episode.key]))
    return pairs


def print_pairs(console: Console, pairs: list[Pair], names: tuple[str, str]) -> None:
    """One row per pair: both scores, both end reasons, and the step where they part ways."""
    table = Table(title=f"{names[0]}  vs  {names[1]}", title_justify="left")
    for column, justify in (
        ("task", "left"),
        ("var", "right"),
        (f"score {names[0]}", "right"),
        (f"score {names[1]}", "right"),
        ("Δ", "right"),
        (f"end {names[0]}", "left"),
        (f"end {names[1]}", "left"),
        ("parts at step", "right"),
    ):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    for pair in pairs:
        a, b = pair.left.clamped_score, pair.right.clamped_score
        where = pair.divergence
        table.add_row(
            f"{pair.left.task_id} {pair.left.task_name}",
            str(pair.left.variation),
            str(a),
            str(b),
            f"{b - a:+d}" if a != b else "·",
            end_reason(pair.left),
            end_reason(pair.right),
            "never" if where is None else str(where),
        )
    console.print(table)
