"""What the LLM teacher is asked.

The prompt follows the paper: the task, the numbered gold actions and a worked example; the answer is
a numbered list of sub-goals in call style, each followed by the actions it covers. How an answer is
read, in this format or the others models write, is answers.py.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

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


def estimate_tokens(text: str) -> int:
    """A tokenizer-free estimate (about four characters per token for English prompts)."""
    return math.ceil(len(text) / 4)
