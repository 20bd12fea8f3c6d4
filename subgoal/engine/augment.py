"""Renamed train examples: the things an example's sub-goal names swapped for other things' names,
everywhere in the example, so that a model learns to copy a name from its input instead of recalling
the names of its train variations (a from-scratch planner asked for `measure_temperature(mercury)`
in a task about tin; docs/RESULTS.md §19).

Only the planner's and the executor's examples have a sub-goal to read the names from (the flat
model's actions name things with no structure to find them by). Dev examples are never renamed.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from dataclasses import replace

from subgoal.engine.examples import Example
from subgoal.engine.subgoals import parse_subgoal

ROLES = ("planner", "executor")
_TRIES = 5  # draws of a replacement before a name is left as it is
MAX_WORDS = 3  # longer names are looks' descriptions ("flower pot 1 containing ..."): not swapped


def slots_of(example: Example) -> list[tuple[str, str]]:
    """(slot, name) for each name the example's sub-goal (the planner's target, the executor's
    input) gives, longest first. A slot is the verb and the argument's place (`pick_up/0`): a name
    is swapped only for another of the same slot, a room for a room, a thing picked up for another
    such thing. Numbers (`wait(5)`) and long names are left alone."""
    parsed = parse_subgoal(example.target if example.role == "planner" else example.subgoal or "")
    if parsed is None:
        return []
    found = {}
    for place, arg in enumerate(parsed.args):
        name = " ".join(arg.split())
        if name and not name.isdigit() and len(name.split()) <= MAX_WORDS and "containing" not in name:
            found.setdefault(name, f"{parsed.verb}/{place}")
    return sorted(((slot, name) for name, slot in found.items()), key=lambda p: (-len(p[1]), p[1]))


def name_pools(examples: Sequence[Example]) -> dict[str, list[str]]:
    """Every slot's names across the examples, in a fixed order (the replacements drawn from)."""
    pools: dict[str, set[str]] = {}
    for ex in examples:
        for slot, name in slots_of(ex):
            pools.setdefault(slot, set()).add(name)
    return {slot: sorted(names) for slot, names in pools.items()}


def renamed(example: Example, pools: dict[str, list[str]], rng: random.Random) -> Example:
    """`example` with each name of its sub-goal replaced, wherever it appears as whole words in the
    input, the target and the sub-goal, by a name of the same slot the input does not hold."""
    lowered = example.source.lower()
    mapping: dict[str, str] = {}
    for slot, name in slots_of(example):
        if not re.search(rf"(?<![\w-]){re.escape(name.lower())}(?![\w-])", lowered):
            continue  # not in the input: nothing to copy from
        for _ in range(_TRIES):
            other = rng.choice(pools[slot])
            if other.lower() not in lowered and other not in mapping.values():
                mapping[name.lower()] = other
                break
    if not mapping:
        return example
    # One pass, longest names first, so "apple seed" is not renamed as "apple" + " seed".
    pattern = re.compile(
        r"(?<![\w-])(" + "|".join(re.escape(n) for n in mapping) + r")(?![\w-])", re.IGNORECASE
    )

    def swap(text: str) -> str:
        return pattern.sub(lambda m: mapping[m.group(1).lower()], text)

    return replace(
        example,
        source=swap(example.source),
        target=swap(example.target),
        subgoal=swap(example.subgoal) if example.subgoal else example.subgoal,
    )


def rename_share(examples: list[Example], share: float, seed: int) -> list[Example]:
    """The examples, each replaced by its renamed copy with probability `share` (the same choice
    for the same seed). A role without sub-goals, or share 0, gives the examples unchanged."""
    if share <= 0 or not examples or examples[0].role not in ROLES:
        return examples
    rng = random.Random(seed)
    pools = name_pools(examples)
    return [renamed(ex, pools, rng) if rng.random() < share else ex for ex in examples]
