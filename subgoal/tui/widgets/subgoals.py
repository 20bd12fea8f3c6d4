"""The sub-goal stack: those done (✓, with their length; ✗ and how, when the agent gave one up),
the current one (▶, steps so far, and the planner's other beams for it) and the next one when it
is known (the planner's proposal, the oracle's plan, or the saved spans)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import Static

from subgoal.tui.state import EpisodeState
from subgoal.tui.widgets import css_beside

MAX_ALTERNATIVES = 3  # the planner's other beams shown under the running sub-goal
UNDONE = {"failed", "exhausted"}  # endings that did not achieve the sub-goal (✗ instead of ✓)


def render_stack(state: EpisodeState, hint: str | None = None) -> Content:
    parts: list[str | tuple[str, str]] = []
    taken = state.taken
    for row in state.subgoals:
        n = row.steps(taken)
        if row.done and row.ending in UNDONE:
            parts += [("✗", "$text-error"), (f"{n:>3} ", "$text-muted"), (row.name, "$text-muted")]
            parts.append((f"  {row.ending}\n", "italic $text-error"))
        elif row.done:
            parts += [("✓", "$text-success"), (f"{n:>3} ", "$text-muted"), (row.name + "\n", "$text-muted")]
        else:
            parts += [
                ("▶", "bold $text-warning"),
                (f"{n:>3} ", "bold $text-warning"),
                (row.name + "\n", "bold"),
            ]
            if row.alternatives:
                shown = " · ".join(row.alternatives[:MAX_ALTERNATIVES])
                extra = len(row.alternatives) - MAX_ALTERNATIVES
                shown += f" · +{extra}" if extra > 0 else ""
                parts += [("     or ", "italic $text-muted"), (shown + "\n", "$text-muted")]
    following = state.next_subgoal
    if following:
        parts += [("  next ", "italic $text-muted"), (following + "\n", "italic")]
        more = len(state.upcoming) - (0 if state.proposal else 1)
        if more > 0:
            parts.append((f"  … {more} more\n", "$text-muted"))
    if hint:
        parts += [("  hint ", "italic $text-muted"), (hint + "\n", "italic $text-accent")]
    if not parts:
        parts.append(("no sub-goals" if state.finished or state.taken else "…", "$text-muted"))
    return Content.assemble(*parts).rstrip()


class SubgoalStack(VerticalScroll, can_focus=False):
    DEFAULT_CSS = css_beside(__file__)

    def compose(self) -> ComposeResult:
        yield Static(id="subgoal-lines")

    def on_mount(self) -> None:
        self.border_title = "sub-goals"

    def show(self, state: EpisodeState, hint: str | None = None) -> None:
        done = sum(row.done for row in state.subgoals)
        known = len(state.subgoals) + len(state.upcoming)
        self.border_subtitle = (f"{done}/{known}" if state.upcoming else f"{done} done") if known else ""
        self.query_one("#subgoal-lines", Static).update(render_stack(state, hint))
        self.call_after_refresh(self.scroll_end, animate=False)
