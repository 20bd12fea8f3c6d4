"""What the LLM teacher is asked, and how its answer is read.

The prompt follows the paper: the task, the numbered gold actions and a worked example; the answer is
a numbered list of sub-goals in call style, each followed by the actions it covers. Parsing is
lenient about what models do to lists (markdown, bold, code fences, actions on one line, gold numbers
in front of actions) and strict about the result: no sub-goals, or a name that is not call-like, is an
`AnswerError` whose message is sent back to the model when re-asking.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

from subgoal.engine.alignment import Group
from subgoal.engine.teachers.spans import check_name, normalize_name

SYSTEM = (
    "You are an expert at ScienceWorld, a text-based science simulator. You are given a task and the "
    "sequence of actions that an expert took to solve it. Split the actions into a short sequence of "
    "sub-goals. Each sub-goal is a call such as navigate_to(kitchen), pick_up(thermometer), "
    "focus_on(substance in metal pot), heat(water, stove), measure_temperature(ice), "
    "connect(battery anode, orange wire terminal 1) or wait(2): a verb in snake_case and its "
    "arguments, in round brackets. Every action belongs to exactly one sub-goal, sub-goals keep the "
    "order of the actions, and each action is copied exactly as given. Answer with the numbered "
    "sub-goals only, each followed by its actions, one per line, starting with '- '."
)

EXAMPLE_TASK = (
    "Your task is to measure the temperature of unknown substance B, which is located around the living "
    "room. First, focus on the thermometer. Next, focus on the unknown substance B. If the unknown "
    "substance B temperature is above 100.0 degrees celsius, place it in the red box. If the unknown "
    "substance B temperature is below 100.0 degrees celsius, place it in the green box. The boxes are "
    "located around the bathroom."
)

EXAMPLE_PLAN: list[tuple[str, list[str]]] = [
    ("navigate_to(kitchen)", ["open door to kitchen", "go to kitchen", "look around"]),
    ("pick_up(thermometer)", ["pick up thermometer"]),
    ("focus_on(thermometer)", ["focus on thermometer in inventory"]),
    (
        "navigate_to(living room)",
        [
            "open door to hallway",
            "go to hallway",
            "open door to living room",
            "go to living room",
            "look around",
        ],
    ),
    ("pick_up(unknown substance B)", ["pick up unknown substance B"]),
    ("focus_on(unknown substance B)", ["focus on unknown substance B in inventory"]),
    (
        "navigate_to(bathroom)",
        [
            "open door to hallway",
            "go to hallway",
            "open door to kitchen",
            "go to kitchen",
            "open door to bathroom",
            "go to bathroom",
            "look around",
        ],
    ),
    (
        "measure_temperature(unknown substance B)",
        ["use thermometer in inventory on unknown substance B in inventory"],
    ),
    ("move(unknown substance B, green box)", ["move unknown substance B in inventory to green box"]),
]


class AnswerError(ValueError):
    """The teacher's answer cannot be used; the message says why, for the user and for a re-ask."""


def question(task_description: str, actions: Sequence[str]) -> str:
    description = " ".join(task_description.replace("Task Description:", "").split())
    numbered = "\n".join(f"{k}. {a}" for k, a in enumerate(actions, start=1))
    return f"Task: {description}\n\nActions:\n{numbered}\n\nSub-goals:"


def format_plan(plan: Sequence[tuple[str, Sequence[str]]]) -> str:
    lines: list[str] = []
    for k, (name, actions) in enumerate(plan, start=1):
        lines.append(f"{k}. {name}")
        lines.extend(f"- {a}" for a in actions)
    return "\n".join(lines)


def messages(task_description: str, actions: Sequence[str]) -> list[dict[str, str]]:
    """The whole few-shot conversation for one gold path."""
    example_actions = [a for _, acts in EXAMPLE_PLAN for a in acts]
    return [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": question(EXAMPLE_TASK, example_actions)},
        {"role": "assistant", "content": format_plan(EXAMPLE_PLAN)},
        {"role": "user", "content": question(task_description, actions)},
    ]


def retry_message(error: str) -> str:
    return (
        f"Your answer could not be used: {error}. Answer again: the numbered sub-goals in call style, "
        "each followed by all of its actions copied exactly, one per line starting with '- ', so that "
        "every action belongs to exactly one sub-goal."
    )


def gap_question(actions: Sequence[str], first_number: int, before: str | None, after: str | None) -> str:
    numbered = "\n".join(f"{first_number + k}. {a}" for k, a in enumerate(actions))
    around = ", ".join(
        f"{where} {name}" for where, name in (("after", before), ("before", after)) if name is not None
    )
    return (
        f"These actions ({around}) are not in any of your sub-goals:\n{numbered}\n\n"
        "Give the sub-goal or sub-goals that cover exactly these actions, in the same format."
    )


# A sub-goal line: optional numbering ("1.", "1)", "Sub-goal 1:", "Step 1 -"), then a call.
_HEADER = re.compile(
    r"^[*_`]*\s*(?:(?:sub-?goal|step)\s*)?(?:\d+\s*[.):\-]\s*)?[*_`]*\s*"
    r"(?P<name>[A-Za-z][A-Za-z0-9_]*\s*\([^()\n]*\))\s*[*_`]*\s*[:\-–]?\s*(?P<rest>.*)$",
    re.I,
)
_BULLET = re.compile(r"^(?:[-*•+]|\d+\s*[.)])\s*")
_ACTIONS_LABEL = re.compile(r"^actions?\s*:\s*", re.I)


def parse_answer(text: str) -> list[Group]:
    """The sub-goals and their actions in the teacher's answer, in its order."""
    groups: list[tuple[str, list[str]]] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("```"):
            continue
        header = _HEADER.match(line)
        if header:
            name = normalize_name(header.group("name"))
            check_or_reject(name)
            groups.append((name, _split_inline(header.group("rest"))))
        elif groups and _ACTIONS_LABEL.match(line):
            groups[-1][1].extend(_split_inline(line))
        elif groups:
            action = _clean_action(line)
            if action:
                groups[-1][1].append(action)
        # Lines before the first sub-goal are the model's preamble: ignored.
    if not groups:
        raise AnswerError("no sub-goals found; write each as a numbered call such as 1. navigate_to(kitchen)")
    empty = [name for name, actions in groups if not actions]
    if len(empty) == len(groups):
        raise AnswerError("the sub-goals list no actions; put each sub-goal's actions under it")
    return [Group(name, tuple(actions)) for name, actions in groups]


def check_or_reject(name: str) -> None:
    try:
        check_name(name)
    except ValueError as exc:
        raise AnswerError(str(exc)) from None


def _split_inline(rest: str) -> list[str]:
    """Actions written on the sub-goal's own line: "navigate_to(kitchen): open door to kitchen; go to kitchen"."""
    rest = _ACTIONS_LABEL.sub("", rest.strip())
    if not rest:
        return []
    parts = re.split(r"\s*[;|]\s*|,\s+(?=[a-z])", rest)
    return [a for a in (_clean_action(p) for p in parts) if a]


def _clean_action(line: str) -> str:
    line = _ACTIONS_LABEL.sub("", _BULLET.sub("", line.strip()))
    line = re.sub(r"^\(?\d+\)?[.:]?\s+(?=\D)", "", line)  # a gold number in front: "(3) go to kitchen"
    return line.strip().strip("`*\"'").strip()


def estimate_tokens(text: str) -> int:
    """A tokenizer-free estimate (about four characters per token for English prompts)."""
    return math.ceil(len(text) / 4)
