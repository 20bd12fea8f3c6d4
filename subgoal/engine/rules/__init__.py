"""The hand-written decision rules, as one switchable layer (layer.py: levels, RuleSet;
registry.py: every rule). The modules beside them hold the rules' code; agents consult them only
through a RuleSet at named decision points."""

from subgoal.engine.rules.layer import (
    DEFAULT_LEVEL,
    LEGACY_LEVEL,
    LEVELS,
    LevelError,
    Rule,
    RuleSet,
    acted_in,
    check_level,
    check_rules,
    rules_slug,
)
from subgoal.engine.rules.registry import RULES, at_level

__all__ = [
    "DEFAULT_LEVEL",
    "LEGACY_LEVEL",
    "LEVELS",
    "RULES",
    "LevelError",
    "Rule",
    "RuleSet",
    "acted_in",
    "at_level",
    "check_level",
    "check_rules",
    "rules_slug",
]
