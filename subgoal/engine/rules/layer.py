"""What a rule is, the three levels, and the switch an agent consults (`RuleSet`).

A rule is a hand-written decision an agent makes or refuses beside its models. Each has a level:

    paper    what the paper's own agent does: ground a beam among the valid actions (exact, then
             similarity); never focus on a thing not in view (a focus is only ever a valid action,
             never reached by similarity)
    general  true of any task of the simulator, reading nothing task-specific
    task     keyed to a task family, a task's phrasing, or per-task statistics of the train plans

Each level includes those below it. An agent asks `rules.on(NAME)` at the decision point where the
rule acts, and `rules.acted(NAME)` when it made, refused or rewrote something; the acted names of
each decision land in its why notes, so a replay says which rule did what.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from subgoal.errors import SubgoalError

LEVELS = ("paper", "general", "task")  # each includes those before it
DEFAULT_LEVEL = "general"  # the headline: the learned agent with rules true of any task
LEGACY_LEVEL = "task"  # runs and episodes made before levels existed had every rule on

# Where in a decision a rule acts.
POINTS = {
    "pin": "takes an action before any model call",
    "filter": "removes candidates (actions or sub-goals) before the choice",
    "rewrite": "changes a model's beam before grounding",
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

    def __post_init__(self) -> None:
        check_level(self.level)
        if self.point not in POINTS:
            raise ValueError(f"rule {self.name}: unknown decision point {self.point!r}")


@dataclass
class RuleSet:
    """The rules an agent may use: those at `level` and below. `consulted` keeps every active rule
    asked about (tests read it); `acted` the rules that changed this decision, until `take()`."""

    level: str = LEGACY_LEVEL
    consulted: set[str] = field(default_factory=set)
    _acted: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        from subgoal.engine.rules.registry import RULES

        self.level = check_level(self.level)
        self._active = {name: includes(self.level, rule.level) for name, rule in RULES.items()}

    def on(self, name: str) -> bool:
        active = self._active[name]  # KeyError: a rule missing from the registry
        if active:
            self.consulted.add(name)
        return active

    def acted(self, name: str) -> None:
        if not self.on(name):
            raise AssertionError(f"rule {name} acted at level {self.level}")
        if name not in self._acted:
            self._acted.append(name)

    def take(self) -> list[str]:
        """The rules that acted since the last call, in the order they acted."""
        acted, self._acted = self._acted, []
        return acted
