"""What a valid annotation looks like: well-formed sub-goal names and spans that tile the path.

A name is a call, `verb(arguments)`, as `subgoals.parse_subgoal` reads it. Its arguments are
ScienceWorld's own names, so they may hold parentheses (`focus_on(book (sherlock holmes))`) and be
of any length (10-2's seed names pass 120 characters): the format carries whatever the data holds.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from subgoal.engine.episode import SubgoalSpan
from subgoal.engine.subgoals import format_name, parse_subgoal


def normalize_name(text: str) -> str:
    """`Navigate_To( the kitchen )` -> `navigate_to(the kitchen)`; spacing and case of the verb only."""
    text = text.strip().strip("`*'\"").strip()
    match = re.fullmatch(r"([A-Za-z][A-Za-z0-9_ ]*?)\s*\((.*)\)", text, flags=re.S)
    if not match:
        return text
    verb = re.sub(r"\s+", "_", match.group(1).strip()).lower()
    args = [" ".join(a.split()) for a in match.group(2).split(",")]
    return format_name(verb, *[a for a in args if a]) if any(args) else f"{verb}()"


def check_name(name: str) -> None:
    """The paper's call style: `navigate_to(kitchen)`, `heat(water, stove)`, `complete_task()`, on one
    line, the verb exactly as written (lower case, no space before the bracket)."""
    call = parse_subgoal(name) if "\n" not in name else None
    if call is None or not name.startswith(f"{call.verb}("):
        raise ValueError(f"sub-goal {name!r} is not of the form verb(arguments), e.g. navigate_to(kitchen)")


def check_spans(spans: Sequence[SubgoalSpan], length: int) -> None:
    """Raise ValueError unless `spans` are non-empty, contiguous, and cover steps [0, length)."""
    if not spans:
        raise ValueError("no sub-goals")
    cursor = 0
    for span in spans:
        check_name(span.name)
        if span.start != cursor:
            what = (
                "overlaps the previous one"
                if span.start < cursor
                else f"leaves steps {cursor}-{span.start - 1} uncovered"
            )
            raise ValueError(f"sub-goal {span.name} at steps {span.start}-{span.end - 1} {what}")
        if span.end <= span.start:
            raise ValueError(f"sub-goal {span.name} covers no step")
        cursor = span.end
    if cursor != length:
        raise ValueError(f"sub-goals cover steps 0-{cursor - 1} of a {length}-step path")
