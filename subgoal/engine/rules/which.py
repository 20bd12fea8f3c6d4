"""which-one: the simulator asks which of several things an action meant ("Ambiguous request ...
0: focus on blue paint (in bowl, in table, in art studio) 1: focus on red paint (...)").

The answer is the first option, but for a focus: a focus is checked by the focus rules on its
spelling (`focus on paint in bowl` names no colour), and the simulator's options name the things
it could mean. So for a focus the answer is the first option the focus rules pass, and where none
passes, no option: a focus on the wrong thing ends the episode at -100 (dev 6-2 and 6-3, RESULTS §27).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from subgoal.engine.rules.focus import focus_of

_OPTION = re.compile(r"^\s*(\d+):\s*(.+?)\s*$", re.M)
_WHERE = re.compile(r"\s*\([^)]*\)")  # "(in bowl, in table, in art studio)"
CANCEL = "look around"  # anything not a number cancels the request; this changes nothing


def answer(observation: str, fits: Callable[[str], bool]) -> str:
    """The option to answer: the first, but for a focus the first whose thing `fits`."""
    options = _OPTION.findall(observation)
    for number, action in options:
        target = focus_of(_WHERE.sub("", action))
        if target is None or fits(target):
            return number
    return CANCEL if options else "0"
