"""What a rule is, the three levels, and the switch an agent consults (`RuleSet`).

A rule is a hand-written decision an agent makes or refuses beside its models. Each has a level:

    paper    what the paper's own agent does: ground a beam among the valid actions (exact, then
             similarity); never focus on a thing not in view (a focus is only ever a valid action,
             never reached by similarity)
    general  true of any task of the simulator, reading nothing task-specific
    task     keyed to a task family, a task's phrasing, or per-task statistics of the train plans

Each level includes those below it. A rule the dev protocol showed to cost score is retired: it
keeps its code and registry line (with the evidence) but acts at no level. A setting may also switch
named rules off, for the per-rule ablations that decide which rules stay (`task without
pin-focus+answer-guard`), or back on, to measure a retired rule (or one above the level) where it
was not measured (`general with planner-offer`); `check_rules` gives the one spelling.
An agent asks `rules.on(NAME)` at the decision point where the
rule acts, and `rules.acted(NAME)` when it made, refused or rewrote something; the acted names of
each decision land in its why notes, so a replay says which rule did what.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from subgoal.errors import SubgoalError

LEVELS = ("paper", "general", "task")  # each includes those before it
DEFAULT_LEVEL = "general"  # the headline: the learned agent with rules true of any task
LEGACY_LEVEL = "task"  # runs and episodes made before levels existed had every rule on

# Where in a decision a rule acts.
POINTS = {
    "pin": "takes an action before any model call",
    "input": "changes what a model reads (and its beams back)",
    "filter": "removes candidates (actions or sub-goals) before the choice",
    "rewrite": "changes a model's beam before grounding",
    "rerank": "reorders a model's beams before the choice",
    "grounding": "turns a beam into a valid action",
    "subgoal": "decides when a sub-goal is done, failed or over",
    "cap": "limits how often something may happen",
    "fallback": "acts where the models gave nothing usable",
}


class LevelError(SubgoalError):
    """An unknown rules level (exit 2, one line naming the levels)."""


def check_level(level: str) -> str:
    """`level`, lower-cased, or LevelError naming the levels."""
    name = (level or "").strip().lower()
    if name not in LEVELS:
        raise LevelError(f"unknown rules level {level!r}; choose one of {', '.join(LEVELS)}")
    return name


WITH, WITHOUT = " with ", " without "  # LEVEL with A without B+C
_JOIN = "+"  # not ",": the protocol takes a comma-separated list of settings


def split_rules(setting: str) -> tuple[str, tuple[str, ...], tuple[str, ...]]:
    """`LEVEL[ with A+B][ without C+D]` (either clause first) -> (level, rules switched on, rules
    switched off), unchecked: words before the first clause all belong to the level."""
    level: list[str] = []
    named: dict[str, set[str]] = {WITH.strip(): set(), WITHOUT.strip(): set()}
    clause = None
    for word in (setting or "").replace(_JOIN, f" {_JOIN} ").lower().split():
        if word in named:
            clause = word
        elif clause is None:
            level.append(word)
        elif word != _JOIN:
            named[clause].add(word)
    on, off = (tuple(sorted(names)) for names in named.values())
    return " ".join(level), on, off


def check_rules(setting: str) -> str:
    """A rules setting in its one spelling: a level (`general`), a level with named rules off
    (`task without answer-guard+pin-focus`, names sorted), with rules it lacks switched on
    (`general with planner-offer`), or both in that order; or LevelError saying what is wrong."""
    from subgoal.engine.rules.registry import RULES

    level, on, off = split_rules(setting)
    level = check_level(level)
    for name in on + off:
        if name not in RULES:
            raise LevelError(f"unknown rule {name!r}; `subgoal rules` lists them")
    for name in off:
        if RULES[name].retired:
            raise LevelError(f"rule {name} is retired: it acts at no level ({RULES[name].retired})")
        if not includes(level, RULES[name].level):
            raise LevelError(
                f"rule {name} is a {RULES[name].level} rule: it is off at the {level} level already"
            )
    for name in on:
        if includes(level, RULES[name].level) and not RULES[name].retired:
            raise LevelError(f"rule {name} is on at the {level} level already")
    spelled = level + (WITH + _JOIN.join(on) if on else "")
    return spelled + (WITHOUT + _JOIN.join(off) if off else "")


def rules_slug(setting: str) -> str:
    """A setting as a file-name part: `task-without-answer-guard-pin-focus`."""
    spelled = check_rules(setting).replace(WITHOUT, "-without-").replace(WITH, "-with-")
    return spelled.replace(_JOIN, "-")


def includes(level: str, rule_level: str) -> bool:
    """Whether a rule of `rule_level` acts at `level`."""
    return LEVELS.index(rule_level) <= LEVELS.index(level)


@dataclass(frozen=True)
class Rule:
    name: str
    level: str
    point: str
    agents: tuple[str, ...]  # the agent kinds that consult it
    summary: str  # one line: what it does
    retired: str = ""  # the dev evidence against it: a retired rule acts at no level

    def __post_init__(self) -> None:
        check_level(self.level)
        if self.point not in POINTS:
            raise ValueError(f"rule {self.name}: unknown decision point {self.point!r}")


@dataclass
class RuleSet:
    """The rules an agent may use: those at its level and below, less any switched off (`setting`,
    as `check_rules` spells it). `consulted` keeps every active rule asked about (tests read it);
    `acted` the rules that changed this decision, until `take()`."""

    setting: str = LEGACY_LEVEL
    consulted: set[str] = field(default_factory=set)
    _acted: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        from subgoal.engine.rules.registry import RULES

        self.setting = check_rules(self.setting)
        self.level, on, off = split_rules(self.setting)
        self._active = {
            name: ((includes(self.level, rule.level) and not rule.retired) or name in on) and name not in off
            for name, rule in RULES.items()
        }

    @property
    def active(self) -> list[str]:
        """The names of the rules this setting switches on, sorted: what a run's config records, so
        a run of a level whose rules changed since (one retired, one added) is not resumed as it."""
        return sorted(name for name, on in self._active.items() if on)

    def on(self, name: str) -> bool:
        active = self._active[name]  # KeyError: a rule missing from the registry
        if active:
            self.consulted.add(name)
        return active

    def acted(self, name: str) -> None:
        if not self.on(name):
            raise AssertionError(f"rule {name} acted at {self.setting}")
        if name not in self._acted:
            self._acted.append(name)

    def take(self) -> list[str]:
        """The rules that acted since the last call, in the order they acted."""
        acted, self._acted = self._acted, []
        return acted


def acted_in(episodes: Iterable[Any]) -> Counter[str]:
    """How many decisions each rule acted in, read off the played episodes' why notes."""
    return Counter(
        rule
        for ep in episodes
        for note in ep.meta.get("notes", [])
        for rule in (note.get("why") or {}).get("rules", [])
    )
