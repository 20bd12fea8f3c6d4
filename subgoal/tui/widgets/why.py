"""Why the agent did that: for one step, the candidates the decision weighed (the model's beams or
the actions it scored), how each fared, which one was taken and how it was grounded; the planner's
candidate sub-goals asked before it, and how the sub-goals closed by that decision ended.

It reads what the rollout recorded (StepTaken.why, the planner calls, SubgoalEnded.ending), so a
replay shows what live play showed. Shown as the `why` view of the observation pane.
"""

from __future__ import annotations

from typing import Any

from textual.content import Content

from subgoal.engine.episode import Step
from subgoal.engine.rules.registry import RULES
from subgoal.tui.state import EpisodeState

Part = tuple[str, str]

# A beam's verdict (agents._from_beams): its mark, style and what it means.
VERDICTS: dict[str, tuple[str, str, str]] = {
    "taken": ("✓", "bold $text-success", "taken: a valid action"),
    "valid": ("·", "$text-muted", "valid too; an earlier beam was taken"),
    "invalid": ("✗", "$text-error", "not a valid action here"),
    "avoided": ("⊘", "$text-warning", "avoided: it changed nothing here before, or was repeated"),
    "focus": ("⚠", "$text-warning", "a focus the guard refused (a wrong focus ends at -100)"),
    "off-task": ("⊘", "$text-warning", "off-task: no train plan of this task acts so (its vocabulary)"),
}

# How the taken action came about (Step.grounding), in a sentence.
METHODS = {
    "exact": "a beam was a valid action, taken as it is",
    "scored": "the model scored the candidates below and took the likeliest",
    "subgoal": "the only valid action that serves the sub-goal (no model call)",
    "search": "what the sub-goal acts on is nowhere in view: a room not seen yet",
    "fuzzy": "no beam was valid: the valid action most similar to beam 1",
    "embedding": "no beam was valid: the valid action closest in meaning to beam 1",
    "fallback": "no beam was valid and nothing was similar enough: looked around instead",
    "answer": "the simulator asked which one was meant: 0 picks the first",
    "pinned": "a focus the task pins down came into view (its thing, its next life stage): taken at once, no model call",
    "oracle": "the gold path's action",
    "human": "typed by a person",
}

# How a sub-goal closed (Decision.info["endings"]).
ENDINGS: dict[str, tuple[str, str, str]] = {
    "done": ("✓", "$text-success", "done: the observations show it achieved"),
    "ended": ("✓", "$text-success", "ended: the executor chose `end subgoal`"),
    "failed": ("✗", "$text-error", "failed: it ran past its allowance of steps"),
    "exhausted": ("✗", "$text-warning", "over: every action serving it would repeat a no-op"),
    "preempted": ("↷", "$text-muted", "set aside: a focus the task pins down came into view"),
}


# Why the agent would not pursue a planner beam (agents.HierarchicalAgent._refusal).
REFUSALS: dict[str, str] = {
    "malformed": "not a sub-goal it can parse",
    "done": "already done here",
    "failed": "failed too often",
    "focus": "a focus the guard refused",
    "order": "a life stage out of the order the task asks for",
    "answer": "the answer, before the experiment its train plans make first",
    "unread": "an answer the experiment (a reading, the slides, a circuit) does not show yet",
    "measure": "a reading of something other than the task's thing",
    "navigation": "one navigation too many in a row",
    "once": "done once already",
    "off-task": "off-task: no train plan of this task does this",
    "early": "too early: every train plan of this task does something else first",
    "idle": "waited enough while the score stood still",
    "repeated": "repeated too often while the score stood still",
}


def _line(*parts: Part | str) -> list[Part | str]:
    return [*parts, "\n"]


def _beams(step: Step, why: dict[str, Any]) -> list[list[str]]:
    """[beam, verdict] per beam: recorded, or (older files) only which beam matches the action."""
    recorded = why.get("beams")
    if isinstance(recorded, list) and recorded:
        return [[str(b[0]), str(b[1])] for b in recorded if isinstance(b, (list, tuple)) and len(b) == 2]
    generated = [b for b in (step.generated or []) if isinstance(b, str)]
    action = " ".join(step.action.lower().split())
    return [[b, "taken" if " ".join(b.lower().split()) == action else ""] for b in generated]


def render_why(state: EpisodeState, index: int | None) -> Content:
    """The why of step `index` (None: the last step taken)."""
    if index is None:
        index = state.taken - 1
    if not 0 <= index < state.taken:
        return Content.assemble(("no step yet: the why of each action shows here", "$text-muted"))
    step = state.steps[index]
    why = state.whys.get(index) or {}
    parts: list[Part | str] = []
    reward = f"  {step.reward:+d}" if step.reward else ""
    parts += _line((f"step {index}  ", "$text-muted"), (step.action, "bold"), (reward, "$text-success"))
    if step.subgoal:
        parts += _line(("serving ", "$text-muted"), (step.subgoal, "$text-accent"))
    method = step.grounding or ""
    explained = METHODS.get(method, f"grounded by {method}" if method else "")
    similarity = why.get("similarity")
    if isinstance(similarity, (int, float)) and method in ("fuzzy", "embedding", "fallback"):
        explained += f" (similarity {similarity:.2f})"
    if explained:
        parts += _line(("how: ", "$text-muted"), (explained, "italic"))

    beams = _beams(step, why)
    if beams:
        parts += _line(("beams", "bold $text-primary"), ("  best first", "$text-muted"))
        for number, (beam, verdict) in enumerate(beams, 1):
            mark, style, meaning = VERDICTS.get(verdict, (" ", "", ""))
            parts += _line(
                (f" {mark} ", style),
                (f"{number} ", "$text-muted"),
                (beam or "''", "bold" if verdict == "taken" else ""),
                (f"  {meaning}" if meaning else "", "$text-muted"),
            )
    scored = why.get("scored")
    if isinstance(scored, list) and scored:
        parts += _line(("scored", "bold $text-primary"), ("  log-likelihood, best first", "$text-muted"))
        for rank, item in enumerate(scored):
            if not (isinstance(item, (list, tuple)) and len(item) == 2):
                continue
            candidate, score = item
            taken = rank == 0
            parts += _line(
                (" ✓ " if taken else "   ", "bold $text-success"),
                (f"{float(score):8.3f}  ", "$text-muted"),
                (str(candidate), "bold" if taken else ""),
            )
    avoided = why.get("avoided")
    if isinstance(avoided, list) and avoided:
        parts += _line(
            ("avoided as no-ops: ", "$text-warning"), (" · ".join(map(str, avoided)), "$text-muted")
        )

    acted = why.get("rules")
    if isinstance(acted, list) and acted:
        parts += _line(
            ("rules", "bold $text-primary"), (f"  at the {state.rules or 'task'} level", "$text-muted")
        )
        for name in acted:
            rule = RULES.get(str(name))
            meaning = f"{rule.level}: {rule.summary}" if rule else ""
            parts += _line((" § ", "$text-warning"), (str(name), "bold"), (f"  {meaning}", "$text-muted"))

    ended = state.ended_at(index)
    if any(row.ending for row in ended):
        parts += _line(("sub-goals closed before it", "bold $text-primary"))
        for row in ended:
            mark, style, meaning = ENDINGS.get(row.ending or "", ("·", "$text-muted", row.ending or "closed"))
            parts += _line((f" {mark} ", style), (row.name, ""), (f"  {meaning}", "$text-muted"))
    refused = why.get("refused") if isinstance(why.get("refused"), dict) else {}
    for number, (call, taken_name) in enumerate(state.plans_at(index), 1):
        parts += _line(("planner", "bold $text-primary"), (f"  call {number}, best first", "$text-muted"))
        for beam in call.names:
            chosen = beam == taken_name
            reason = refused.get(beam)
            note = "  taken" if chosen else f"  {REFUSALS.get(reason, reason)}" if reason else ""
            parts += _line(
                (
                    " ✓ " if chosen else " ⊘ " if reason else "   ",
                    "bold $text-success" if chosen else "$text-warning",
                ),
                (beam, "bold" if chosen else "$text-muted"),
                (note, "$text-muted"),
            )
        if taken_name and taken_name not in call.names:
            parts += _line((" ✓ ", "bold $text-success"), (taken_name, "bold"), ("  taken", "$text-muted"))
    return Content.assemble(*parts).rstrip()
