"""The offline teacher: sub-goals from ScienceWorld's action grammar, deterministic, no network.

Each gold action is parsed into a verb and its objects; a few composite patterns (moving something to
a heat source and switching it on, watering with a jug, timing a slide with a stopwatch, a run of
thermometer readings) become one sub-goal each; consecutive navigation becomes `navigate_to(room)`;
everything else is one sub-goal per action, named in the paper's style (`pick_up(thermometer)`).
Actions that only look (look around, examine, read, answers such as `0`) join the sub-goal before
them; preparations (opening a container, closing doors) join the sub-goal after them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from subgoal.engine.actions import COOLERS, HEAT_SOURCES, WATER_SOURCES, Act, parse
from subgoal.engine.episode import Episode, SubgoalSpan
from subgoal.engine.subgoals import format_name
from subgoal.engine.teachers import Annotation
from subgoal.engine.teachers.spans import check_spans
from subgoal.errors import TeacherError


def _is(obj: str, kinds: Sequence[str]) -> bool:
    return any(kind in obj.lower() for kind in kinds)


@dataclass
class _Unit:
    name: str
    start: int
    end: int
    joins: str | None = None  # "previous" | "next": folds into a neighbour instead of standing alone


_Rule = Callable[[list[Act], int], "_Unit | None"]


def _navigation(acts: list[Act], i: int) -> _Unit | None:
    j = i
    while j < len(acts) and acts[j].verb == "nav":
        j += 1
    return _Unit(format_name("navigate_to", acts[j - 1].objects[0]), i, j) if j > i else None


def _device(acts: list[Act], i: int) -> _Unit | None:
    """`move X to D` + `activate D`: heat on a heat source, fill at a water source."""
    if i + 1 >= len(acts) or acts[i].verb != "move" or acts[i + 1].verb != "activate":
        return None
    thing, device = acts[i].objects
    if acts[i + 1].objects[0] != device:
        return None
    if _is(device, HEAT_SOURCES):
        return _Unit(format_name("heat", thing, device), i, i + 2)
    if _is(device, WATER_SOURCES):
        return _Unit(format_name("fill", thing, "water"), i, i + 2)
    return None


def _cool(acts: list[Act], i: int) -> _Unit | None:
    if acts[i].verb == "move" and _is(acts[i].objects[1], COOLERS):
        return _Unit(format_name("cool", *acts[i].objects), i, i + 1)
    return None


def _water(acts: list[Act], i: int) -> _Unit | None:
    """[`activate sink`] `move jug to sink` `pour jug into P`: water P."""
    j = i + 1 if acts[i].verb == "activate" and _is(acts[i].objects[0], WATER_SOURCES) else i
    if j + 1 >= len(acts) or acts[j].verb != "move" or acts[j + 1].verb != "pour":
        return None
    vessel, source = acts[j].objects
    if not _is(source, WATER_SOURCES) or acts[j + 1].objects[0] != vessel:
        return None
    return _Unit(format_name("water", acts[j + 1].objects[1]), i, j + 2)


def _timing(acts: list[Act], i: int) -> _Unit | None:
    """`move X to Y`, start a stopwatch, watch, stop it: time how long X takes on Y."""
    if i + 1 >= len(acts) or acts[i].verb != "move" or acts[i + 1].verb != "activate":
        return None
    if "stopwatch" not in acts[i + 1].objects[0]:
        return None
    j = i + 2
    while j < len(acts) and acts[j].verb == "observe":
        j += 1
    if j < len(acts) and acts[j].verb == "deactivate" and "stopwatch" in acts[j].objects[0]:
        j += 1
    return _Unit(format_name("measure_time", *acts[i].objects), i, j)


def _thermometer(acts: list[Act], i: int) -> _Unit | None:
    """A run of readings (examine, use thermometer, wait between them) is one measurement."""
    j, last_reading, first = i, -1, None
    while j < len(acts) and acts[j].verb in ("observe", "measure", "wait"):
        if acts[j].verb == "measure":
            last_reading, first = j, first or acts[j].objects[1]
        j += 1
    if first is None:
        return None
    # Examinations after the last reading still belong to it; trailing waits do not.
    end = last_reading + 1
    while end < j and acts[end].verb == "observe":
        end += 1
    return _Unit(format_name("measure_temperature", first), i, end)


def _plant(acts: list[Act], i: int) -> _Unit | None:
    """`move apple seed in seed jar to flower pot 3`: plant(apple seed, flower pot 3)."""
    if acts[i].verb != "move":
        return None
    seed, pot = acts[i].objects
    if not seed.lower().endswith("seed in seed jar") or "pot" not in pot:
        return None
    return _Unit(format_name("plant", seed[: -len(" in seed jar")], pot), i, i + 1)


def _wait(acts: list[Act], i: int) -> _Unit | None:
    j = i
    while j < len(acts) and acts[j].verb == "wait":
        j += 1
    if j == i:
        return None
    ticks = sum(a.ticks for a in acts[i:j])
    return _Unit(format_name("wait", str(ticks)), i, j)


def _single(acts: list[Act], i: int) -> _Unit:
    act = acts[i]
    following = acts[i + 1].verb if i + 1 < len(acts) else None
    names = {"pick": "pick_up", "focus": "focus_on", "measure": "measure_temperature"}
    objects = act.objects[1:] if act.verb == "measure" else act.objects
    name = format_name(names.get(act.verb, act.verb), *objects)
    if act.verb in ("observe", "answer", "deactivate"):
        return _Unit(name, i, i + 1, joins="previous")
    if act.verb in ("open", "close") and following not in (None, "wait"):
        return _Unit(name, i, i + 1, joins="next")
    if act.verb == "activate" and following == "move" and acts[i + 1].objects[1] == act.objects[0]:
        return _Unit(name, i, i + 1, joins="next")
    return _Unit(name, i, i + 1)


_RULES: tuple[_Rule, ...] = (_navigation, _timing, _device, _water, _cool, _plant, _thermometer, _wait)


def segment(actions: Sequence[str]) -> list[SubgoalSpan]:
    """Contiguous spans covering `actions`, deterministically."""
    acts = [parse(a) for a in actions]
    units: list[_Unit] = []
    i = 0
    while i < len(acts):
        unit = next((u for rule in _RULES if (u := rule(acts, i)) is not None), None) or _single(acts, i)
        units.append(unit)
        i = unit.end
    return _fold(units)


def _fold(units: list[_Unit]) -> list[SubgoalSpan]:
    """Fold joining units into their neighbours: observations back, preparations forward."""
    spans: list[SubgoalSpan] = []
    pending: _Unit | None = None  # the first of the units waiting for the next standalone one
    for unit in units:
        if unit.joins == "next" or (unit.joins == "previous" and (pending or not spans)):
            pending = pending or unit
            continue
        if unit.joins == "previous":
            spans[-1].end = unit.end
            continue
        spans.append(SubgoalSpan(unit.name, pending.start if pending else unit.start, unit.end))
        pending = None
    if pending is not None:  # trailing preparations or observations with nothing after them
        if spans:
            spans[-1].end = units[-1].end
        else:
            spans.append(SubgoalSpan(pending.name, pending.start, units[-1].end))
    return spans


class RulesTeacher:
    name = "rules"
    identity = "rules"

    def annotate(self, episode: Episode) -> Annotation:
        if not episode.steps:
            raise TeacherError(f"{episode.task_id} v{episode.variation}: episode has no steps to annotate")
        spans = segment(episode.actions)
        try:
            check_spans(spans, len(episode.steps))
        except ValueError as exc:  # a bug in the rules, never the data's fault
            raise TeacherError(f"{episode.task_id} v{episode.variation}: rules teacher: {exc}") from None
        return Annotation(spans=spans, teacher=self.identity)
