"""answer-timing: where the task asks which of two inclined planes has the shallowest or steepest
angle, or the most or least friction (9-x), the block's slide down each plane is watched, and the
answer is the plane the slides show.

The models move the block onto a plane, then focus on a plane at once: a coin flip that ends the
episode at -100 when wrong (RESULTS §26: 9-x at 50-60 on test with the task rules). So, at `task`:
- after the block goes onto a plane, the plane is looked at, one look per tick, as the train plans
  of 9-x do between starting and stopping the stopwatch: "a wood block approximately 20% down the
  plane";
- a focus on a plane waits until the two slides differ at the same tick after the block went on;
- then the plane they show is focused on at once: the block is slower down the shallower plane and
  the one with more friction.

The simulator completes the task on the right focus whether or not the stopwatch was used (checked
on 9-1 dev variation 87: 100 and done). The rule's own actions, after the block is put on the first
plane, take 15 of 15 train variations of 9-x to 100 (`benchmarks/answer_rules.py`, RESULTS §26).
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
# What the train plans of 9-x slide down the planes.
_ONTO_PLANE = re.compile(r"^move (?P<thing>(?:\w+ )*(?:block|brick)) to (?P<plane>inclined plane.*)$")
_DOWN = re.compile(r"approximately (\d+)% down the plane")
_SLOWER = frozenset({"shallowest angle", "most friction"})  # the slower slide answers these
MAX_LOOKS = 15  # looks at one slide at most: enough for the closest train pair (21 and 22 ticks)


@dataclass(frozen=True)
class Question:
    planes: tuple[str, str]  # as the task names them: "b", "plastic", "unknown material g"
    slower: bool  # the answer is the plane the block slides down more slowly


@lru_cache(maxsize=256)
def question(task_description: str) -> Question | None:
    match = _QUESTION.search(task_description)
    if match is None:
        return None
    planes = (normalize(match["a"]), normalize(match["b"]))
    return Question(planes, normalize(match["which"]) in _SLOWER)


def which_plane(q: Question, name: str) -> str | None:
    """The task's name for the plane `name` is (`inclined plane with a plastic surface`: plastic)."""
    name = normalize(name)
    if not name.startswith("inclined plane"):
        return None
    for plane in q.planes:
        if re.search(rf"\b{re.escape(plane)}\b", name.removeprefix("inclined plane")):
            return plane
    return None


@dataclass
class Slide:
    plane: str  # the task's name for it
    spelled: str  # the plane as the move named it, to look at
    thing: str  # what slides: block or brick
    seen: list[int]  # % down the plane at each look, one per tick after the block went on (100: bottom)
    going: bool  # the block is still there and nothing but looks at it came since


def _position(observation: str, thing: str) -> int:
    """How far down the plane the look puts the thing, in % (100: at the bottom; -1: not seen).
    Only its own clause: other things may lie on the plane ("a orange at the bottom of the plane,
    a wood block approximately 4% down the plane")."""
    for clause in observation.split("with:", 1)[-1].split(","):
        if re.search(rf"\b{re.escape(thing)}\b", clause):
            if "bottom of the plane" in clause:
                return 100
            down = _DOWN.search(clause)
            return int(down.group(1)) if down else -1
    return -1


def slides(episode: Episode, q: Question) -> dict[str, Slide]:
    """Each plane's latest slide: the looks that followed the block's last move onto it, unbroken."""
    found: dict[str, Slide] = {}
    current: Slide | None = None
    for step in episode.steps:
        action, observation = normalize(step.action), (step.observation or "").lower()
        onto = _ONTO_PLANE.match(action)
        plane = which_plane(q, onto["plane"]) if onto else None
        if onto and plane and "inclined plane" in observation:
            if current is not None:
                current.going = False  # the block left that plane
            current = Slide(plane, onto["plane"], onto["thing"].split()[-1], [], True)
            if plane not in found or not watched(found[plane]):  # a slide watched to its end stands
                found[plane] = current
        elif current is not None and current.going and action == f"look at {current.spelled}":
            current.seen.append(_position(observation, current.thing))
        elif current is not None:
            current.going = False
    return found


def watched(slide: Slide) -> bool:
    """Whether a slide was watched to its end: the block at the bottom, or MAX_LOOKS looks."""
    return 100 in slide.seen or len(slide.seen) >= MAX_LOOKS


def answer(q: Question, seen: dict[str, Slide]) -> str | None:
    """The plane the two slides show, or None before they differ at the same tick."""
    if len(seen) < 2:
        return None
    a, b = (seen[p].seen for p in q.planes)
    for x, y in zip(a, b, strict=False):
        if x != y and min(x, y) >= 0:
            faster = q.planes[0] if x > y else q.planes[1]
            slower = q.planes[1] if faster == q.planes[0] else q.planes[0]
            return slower if q.slower else faster
    return None


def held_back(episode: Episode, target: str) -> bool:
    """Whether `focus on TARGET` waits: a plane of the question, and not the one the slides show."""
    q = question(episode.task_description)
    if q is None:
        return False
    plane = which_plane(q, target)
    return plane is not None and plane != answer(q, slides(episode, q))


def pinned(episode: Episode, valid: list[str]) -> tuple[str, str] | None:
    """The next look at the block sliding, or the answer once the slides show it: a valid action
    and the sub-goal it serves, or None."""
    q = question(episode.task_description)
    if q is None:
        return None
    seen = slides(episode, q)
    best = answer(q, seen)
    if best is not None:
        for action in valid:
            text = normalize(action)
            target = text.removeprefix("focus on ")
            if target != text and which_plane(q, target) == best:
                return action, f"focus_on({target})"
        return None
    going = next((s for s in seen.values() if s.going and not watched(s)), None)
    if going is None:
        return _next_plane(q, seen, valid)
    other = next((s for p, s in seen.items() if p != going.plane), None)
    if other is not None and len(going.seen) >= len(other.seen) and not other.going:
        return None  # as long as the other slide was watched, and no difference: nothing more to see
    look = f"look at {going.spelled}"
    for action in valid:
        if normalize(action) == look:
            return action, f"measure_time(block, {going.spelled})"
    return None


def _next_plane(q: Question, seen: dict[str, Slide], valid: list[str]) -> tuple[str, str] | None:
    """One slide watched to its end and the other plane not yet tried: the block onto it."""
    done = [s for s in seen.values() if watched(s)]
    if len(done) != 1 or len(seen) != 1:
        return None
    for action in valid:
        onto = _ONTO_PLANE.match(normalize(action))
        if onto and which_plane(q, onto["plane"]) not in (None, done[0].plane):
            return action, f"measure_time({onto['thing']}, {onto['plane']})"
    return None
