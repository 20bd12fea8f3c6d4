"""How the LLM teacher's answer is read: its sub-goals, in its order, and the actions each claims.

Models answer the annotation prompt in a handful of shapes; all of these are read:

- the prompt's own: `1. navigate_to(kitchen)`, then its actions one a line (`- go to kitchen`, or
  numbered);
- the paper's: `1- navigate_to(kitchen) : {'open door to kitchen', 'go to kitchen'}`, a set or list of
  quoted actions after the sub-goal, on its line or over the lines below;
- actions inline after the call, separated by `;`, `|` or `, `, or on an `Actions:` line;
- markdown: bullets, headings, bold, italic or backticked names, code fences;
- JSON: a list of `{"subgoal": ..., "actions": [...]}` (under any key, or none), `{name: [actions]}`,
  or `[name, [actions]]` pairs.

Lenient about the shape, strict about the result: no sub-goals, or no actions at all, is an
`AnswerError` whose message is sent back to the model when re-asking. A set loses repeats; the
alignment gives a group the repeats of its actions (alignment.py).
"""

from __future__ import annotations

import json
import re
from typing import Any

from subgoal.engine.alignment import Group
from subgoal.engine.teachers.spans import check_name, normalize_name

# What `parse_answer` reads, one example a shape, for the user (`subgoal annotate --dry-run`).
SHAPES = (
    ("the prompt's", "1. navigate_to(kitchen)  then  - open door to kitchen  - go to kitchen, one a line"),
    ("the paper's", "1- navigate_to(kitchen) : {'open door to kitchen', 'go to kitchen'}  (a set or list)"),
    ("inline", "navigate_to(kitchen): open door to kitchen; go to kitchen"),
    ("markdown", "- **navigate_to(kitchen)**  or  ### 1. navigate_to(kitchen), actions as bullets below"),
    ("JSON", '[{"subgoal": "navigate_to(kitchen)", "actions": ["open door to kitchen", "go to kitchen"]}]'),
)


class AnswerError(ValueError):
    """The teacher's answer cannot be used; the message says why, for the user and for a re-ask."""


# A call; its arguments may hold one level of brackets, as ScienceWorld's names do:
# `focus_on(book (sherlock holmes))`.
_CALL = r"[A-Za-z][A-Za-z0-9_]*\s*\((?:[^()\n]|\([^()\n]*\))*\)"
_MARKS = r"[*_`]*"  # bold, italics and code around a name
# A sub-goal line: an optional heading, bullet or numbering ("1.", "1-", "1)", "Sub-goal 1:",
# "Step 1 -"), the call, an optional separator (":", "-", "=>", "→"), then maybe its actions.
_HEADER = re.compile(
    rf"^(?:#+\s*)?(?:[-*•+]\s+)?{_MARKS}\s*"
    rf"(?:(?:sub-?goal|step)\s*\d*\s*[.):\-]?\s*|\d+\s*[.):\-]?\s*)?{_MARKS}\s*"
    rf"(?P<name>{_CALL}){_MARKS}\s*(?:[:=\-–—]+>?|→)?\s*(?P<rest>.*)$",
    re.I,
)
_BULLET = re.compile(r"^(?:[-*•+]|\d+\s*[.)])\s*")
_ACTIONS_LABEL = re.compile(r"^actions?\s*:\s*", re.I)
# A quoted action in a set or list ('...', "..." or `...`): it ends at its quote followed by a
# separator or the end, so an apostrophe inside it (`look at bee's nest`) does not end it.
_QUOTED = re.compile(r"(['\"`])(.+?)\1(?=\s*(?:[,;}\]]|$))")
_JSON_START, _JSON_END = "[{", "]}"


def parse_answer(text: str) -> list[Group]:
    """The sub-goals and their actions in the teacher's answer, in its order."""
    pairs = _from_json(text)
    if pairs is None:
        pairs = _from_lines(text)
    if not pairs:
        raise AnswerError("no sub-goals found; write each as a numbered call such as 1. navigate_to(kitchen)")
    if not any(actions for _, actions in pairs):
        raise AnswerError("the sub-goals list no actions; put each sub-goal's actions under it")
    return [Group(name, tuple(actions)) for name, actions in pairs]


def check_or_reject(name: str) -> str:
    """`name` normalised, or an AnswerError saying why it is not a sub-goal."""
    name = normalize_name(name)
    try:
        check_name(name)
    except ValueError as exc:
        raise AnswerError(str(exc)) from None
    return name


# -- lines ---------------------------------------------------------------------------------------
def _from_lines(text: str) -> list[tuple[str, list[str]]]:
    pairs: list[tuple[str, list[str]]] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("```"):
            continue
        header = _HEADER.match(line)
        if header:
            pairs.append((check_or_reject(header.group("name")), _inline_actions(header.group("rest"))))
        elif pairs:
            pairs[-1][1].extend(_line_actions(line))
        # Lines before the first sub-goal are the model's preamble: ignored.
    return pairs


def _inline_actions(rest: str) -> list[str]:
    """Actions on the sub-goal's own line: a set or list of quoted actions, or plain ones separated
    by `;`, `|` or `, ` ("navigate_to(kitchen): open door to kitchen; go to kitchen")."""
    rest = _ACTIONS_LABEL.sub("", rest.strip())
    quoted = _quoted(rest)
    if quoted is not None:
        return quoted
    parts = re.split(r"\s*[;|]\s*|,\s+(?=[a-z])", rest.strip("{}[] "))
    return [a for a in map(_clean_action, parts) if a]


def _line_actions(line: str) -> list[str]:
    """A line below a sub-goal: one action, an `Actions:` line, or the quoted actions of a set or
    list spread over lines."""
    if _ACTIONS_LABEL.match(line):
        return _inline_actions(line)
    quoted = _quoted(line)
    if quoted is not None:
        return quoted
    action = _clean_action(line)
    return [action] if action else []


def _quoted(text: str) -> list[str] | None:
    """The quoted actions in `text`, in the order written; None when nothing is quoted."""
    found = [action for _, action in _QUOTED.findall(text)]
    if not found:
        return None
    return [a for a in map(_clean_action, found) if a]


def _clean_action(line: str) -> str:
    line = _ACTIONS_LABEL.sub("", _BULLET.sub("", line.strip()))
    line = re.sub(r"^\(?\d+\)?[.:]?\s+(?=\D)", "", line)  # a gold number in front: "(3) go to kitchen"
    # Marks, quotes and the brackets and commas of a set or list written over several lines.
    return line.strip().strip("`*\"'{}[],").strip()


# -- JSON ----------------------------------------------------------------------------------------
class _Object(list):  # type: ignore[type-arg]
    """A JSON object as its (key, value) pairs: keeps their order and repeated keys."""


def _from_json(text: str) -> list[tuple[str, list[str]]] | None:
    """The sub-goals of an answer written as JSON (possibly fenced, after a preamble); None if it is
    not JSON or holds no sub-goal."""
    body = "\n".join(line for line in text.splitlines() if not line.strip().startswith("```"))
    starts = [body.find(c) for c in _JSON_START if c in body]
    end = max(body.rfind(c) for c in _JSON_END)
    if not starts or end < min(starts):
        return None
    try:
        data = json.loads(body[min(starts) : end + 1], object_pairs_hook=_Object)
    except ValueError:
        return None
    return _json_pairs(data) or None


def _json_pairs(node: Any) -> list[tuple[str, list[str]]]:
    if isinstance(node, _Object):
        return _object_pairs(node)
    if isinstance(node, list):
        if len(node) == 2 and _is_call(node[0]):  # ["navigate_to(kitchen)", ["go to kitchen"]]
            return [(check_or_reject(_unmark(node[0])), _json_actions(node[1]))]
        return [pair for item in node for pair in _json_pairs(item)]
    return []


def _object_pairs(node: _Object) -> list[tuple[str, list[str]]]:
    named = [(key, value) for key, value in node if _is_call(key)]
    if named:  # {"navigate_to(kitchen)": ["open door to kitchen", ...], ...}
        return [(check_or_reject(_unmark(key)), _json_actions(value)) for key, value in named]
    name = next((value for _, value in node if _is_call(value)), None)
    if name is not None:  # {"subgoal": "navigate_to(kitchen)", "actions": [...]}
        lists = [value for _, value in node if isinstance(value, list) and not isinstance(value, _Object)]
        texts = [value for _, value in node if isinstance(value, str) and value is not name]
        actions = _json_actions(lists[0]) if lists else [a for t in texts for a in _inline_actions(t)]
        return [(check_or_reject(_unmark(name)), actions)]
    return [pair for _, value in node for pair in _json_pairs(value)]  # {"subgoals": [...]}


def _json_actions(value: Any) -> list[str]:
    if isinstance(value, str):
        return _inline_actions(value)
    if isinstance(value, list) and not isinstance(value, _Object):
        return [a for a in (_clean_action(v) for v in value if isinstance(v, str)) if a]
    return []


def _unmark(text: str) -> str:
    return text.strip().strip("`*_").strip()


def _is_call(value: Any) -> bool:
    return isinstance(value, str) and re.fullmatch(_CALL, _unmark(value)) is not None
