"""answer-timing: where the task asks which of two inclined planes has the shallowest or steepest
angle, or the most or least friction (9-x), the block is timed on each plane with the stopwatch and
the answer is the plane the times show.

The models move the block onto a plane and give up on the stopwatch, then focus on a plane
at once: a coin flip that ends the episode at -100 when wrong (RESULTS §26: 9-x at 50-60 on test
with the task rules). So, at the `task` level:
- after the block is moved onto a plane, the stopwatch's routine is pinned as every train plan of 9-x
  takes it: activate, deactivate, examine (the simulator times the slide itself);
- a focus on a plane waits until both planes have a time (a filter, in focus.refusal);
- then the plane the times show is focused on at once: the block slides longer down the shallower
  plane and the one with more friction.

On every 9-x gold path of the train split (150) that verdict is the gold focus.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from subgoal.engine.episode import Episode
from subgoal.engine.grounding import normalize

_QUESTION = re.compile(
    r"which of the two inclined planes \((?P<a>[^,]+), (?P<b>[^)]+)\) has the "
    r"(?P<which>shallowest angle|steepest angle|most friction|least friction)",
    re.I,
)
_ONTO_PLANE = re.compile(r"^move (?P<thing>.+) to (?P<plane>inclined plane.*)$")
_TIME = re.compile(r"the time reads (\d+) ticks", re.I)
_LONGER = frozenset({"shallowest angle", "most friction"})  # the slower slide answers these


@dataclass(frozen=True)
class Question:
    planes: tuple[str, str]  # as the task names them: "b", "plastic", "unknown material g"
    longer: bool  # the answer is the plane with the longer time


@lru_cache(maxsize=256)
def question(task_description: str) -> Question | None:
    match = _QUESTION.search(task_description)
    if match is None:
        return None
    planes = (normalize(match["a"]), normalize(match["b"]))
    return Question(planes, normalize(match["which"]) in _LONGER)


def which_plane(q: Question, name: str) -> str | None:
    """The task's name for the plane `name` is (`inclined plane with a plastic surface`: plastic)."""
    for plane in q.planes:
        if re.search(rf"\b{re.escape(plane)}\b", normalize(name).removeprefix("inclined plane")):
            return plane
    return None


def times(episode: Episode, q: Question) -> dict[str, int]:
    """Each plane's time so far: the stopwatch read after the block was last moved onto it."""
    found: dict[str, int] = {}
    on = None
    for step in episode.steps:
        action = normalize(step.action)
        onto = _ONTO_PLANE.match(action)
        if onto and "inclined plane" in (step.observation or "").lower():
            on = which_plane(q, onto["plane"])
        read = _TIME.search(step.observation or "")
        if read and on is not None and action.startswith("examine stopwatch"):
            found[on] = int(read.group(1))
    return found


def answer(q: Question, timed: dict[str, int]) -> str | None:
    """The plane the times show, or None before both are timed (or on a tie)."""
    if len(timed) < 2 or timed[q.planes[0]] == timed[q.planes[1]]:
        return None
    slower = max(q.planes, key=lambda p: timed[p])
    faster = min(q.planes, key=lambda p: timed[p])
    return slower if q.longer else faster


def held_back(episode: Episode, target: str) -> bool:
    """Whether `focus on TARGET` waits: a plane of the question, and not the one both times show."""
    q = question(episode.task_description)
    if q is None or which_plane(q, target) is None or not target.lower().startswith("inclined plane"):
        return False
    return which_plane(q, target) != answer(q, times(episode, q))


def pinned(episode: Episode, valid: list[str]) -> tuple[str, str] | None:
    """The stopwatch's next step after the block went onto a plane not yet timed, or the answer
    once both are: a valid action and the sub-goal it serves, or None."""
    q = question(episode.task_description)
    if q is None:
        return None
    timed = times(episode, q)
    best = answer(q, timed)
    if best is not None:
        for action in valid:
            target = normalize(action).removeprefix("focus on ")
            if action.lower().startswith("focus on inclined plane") and which_plane(q, target) == best:
                return action, f"focus_on({target})"
        return None
    routine = _routine(episode, q, timed)
    if routine is None:
        return None
    word, subgoal = routine
    for action in valid:
        if normalize(action).startswith(word):
            return action, subgoal
    return None


_ROUTINE = ("activate stopwatch", "deactivate stopwatch", "examine stopwatch")


def _routine(episode: Episode, q: Question, timed: dict[str, int]) -> tuple[str, str] | None:
    """After the block's last move onto a plane without a time: the stopwatch step that comes next,
    in the routine's order among the actions since that move, and the sub-goal it serves."""
    since: list[str] = []
    onto = None
    for step in episode.steps:
        action = normalize(step.action)
        move = _ONTO_PLANE.match(action)
        if move and "inclined plane" in (step.observation or "").lower():
            onto, since = move, []
        elif onto is not None:
            since.append(action)
    if onto is None or which_plane(q, onto["plane"]) in timed:
        return None
    done = 0  # how many of the routine's steps were taken in order
    for action in since:
        if done < len(_ROUTINE) and action.startswith(_ROUTINE[done]):
            done += 1
    if done == len(_ROUTINE):
        return None
    return _ROUTINE[done], f"measure_time({onto['thing']}, {onto['plane']})"
