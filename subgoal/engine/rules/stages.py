"""Life stages in order, for the tasks that ask to focus on them "starting from earliest to latest"
(8-x). A focus out of order, or on the same stage twice, ends the episode at -100 (the simulator's
rule), and every 8-x train plan focuses on each stage once, earliest first. The stage of what a
focus names is read off the look, so the agent may focus only on the earliest stage in view that
comes after the last one it focused on. A `task` rule (stage-order, pin-focus): rules/registry.py.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

# The stage words of every 8-x train and dev plan, in the order those plans focus on them: seeds
# and eggs, then the young (a tadpole, a caterpillar, a seedling), then juveniles and pupae, adults,
# and plants in their reproducing stage. A dead one is never a stage to focus on.
LADDER: tuple[frozenset[str], ...] = (
    frozenset({"egg", "seed"}),
    frozenset({"hatchling", "baby", "tadpole", "caterpillar", "larva", "seedling"}),
    frozenset({"juvenile", "pupa"}),
    frozenset({"adult"}),
    frozenset({"reproducing"}),
)
_RANK = {word: rank for rank, words in enumerate(LADDER) for word in words}
STAGE_WORDS = frozenset(_RANK) | {"dead"}
_ASKS = re.compile(r"life stages of the (.+?), starting from earliest", re.I)
_NOT_LIVING = re.compile(r"^(?:soil|substance|air|water)\b|\bflower pot\b|\bcontaining\b")
_ITEM = re.compile(r"^\s*an? (.+?)(?: \(containing (.*)\))?\s*$")


def organism(task_description: str) -> set[str] | None:
    """The words naming what the task follows through its stages ("lemon" for "the life stages of
    the lemon plant"), or None where the task asks for no order of stages."""
    match = _ASKS.search(task_description)
    if match is None:
        return None
    return set(_words(match.group(1))) - {"plant"}


def stage(target: str, look: str, organism_words: set[str]) -> int | None:
    """The rank on LADDER of the organism's stage `focus on TARGET` names, read off the look where
    the name does not say it (`lemon tree in self watering flower pot 1` is the seedling that pot
    holds; `crocodile` the `crocodile egg` in view); None for a pot, soil, a substance, a dead
    one, another organism or a name the look does not resolve."""
    described = _described(target, look, organism_words)
    return None if described is None else _rank(described)


def next_stage(task_description: str, look: str, focused: Sequence[tuple[str, str]]) -> int | None:
    """The one stage a focus may be on now: the earliest of the task's organism in view that comes
    after every stage focused on so far (`focused`: (target, look before the focus) pairs)."""
    words = organism(task_description)
    if words is None:
        return None
    done = [r for target, before in focused if (r := stage(target, before, words)) is not None]
    after = max(done, default=-1)
    ranks = [r for text in _its(_living(look), words) if (r := _rank(text)) is not None]
    later = [r for r in ranks if r > after]
    return min(later) if later else None


def in_order(task_description: str, target: str, look: str, focused: Sequence[tuple[str, str]]) -> bool:
    """Whether `focus on TARGET` keeps the order the task asks for (True where it asks for none):
    the task's organism, at `next_stage`."""
    words = organism(task_description)
    if words is None:
        return True
    rank = stage(target, look, words)
    return rank is not None and rank == next_stage(task_description, look, focused)


def _described(target: str, look: str, organism_words: set[str]) -> str | None:
    """What the look says of the organism's thing TARGET names: itself where it names its stage,
    the content of the container `X in CONTAINER` names, or the one item in view whose name holds
    TARGET's words; None for a pot, soil, a substance or anything not of the organism."""
    target = target.lower().strip()
    if _NOT_LIVING.search(target.split(" in ")[0]):
        return None
    name, _, where = target.partition(" in ")
    if _rank(target) is not None and not where:
        described: str | None = target
    elif " containing " in where:  # `flower pot containing peach seed and soil and water`
        described = _one(where.split(" containing ", 1)[1].split(" and "))
    elif where:
        held = [_one(_split(contents)) for item, contents in _items(look) if item == where and contents]
        described = held[0] if held else target if _rank(name) is not None else None
    else:
        words = set(_words(target))
        matches = [item for item, _ in _items(look) if words <= set(_words(item))]
        if not matches and words <= organism_words:  # `butterfly`, now `a caterpillar` in the look
            # Several (`a caterpillar`, `a tadpole`): the stage is known where they share it.
            bare = _its([item for item, _ in _items(look)], organism_words)
            return bare[0] if len({_rank(b) for b in bare}) == 1 else None
        described = matches[0] if len(matches) == 1 else None
    names = described is not None and organism_words & set(_words(described))
    return described if names else None


def _its(things: list[str], organism_words: set[str]) -> list[str]:
    """The organism's among THINGS: those naming it; where none does, those naming only a stage
    (`a caterpillar` is the butterfly's once no butterfly is in view; `a tadpole` is not the
    tortoise's while a hatchling giant tortoise is)."""
    named = [t for t in things if organism_words & set(_words(t))]
    if named:
        return named
    return [t for t in things if (words := _words(t)) and all(w in _RANK for w in words)]


def _one(contents: list[str]) -> str | None:
    """The one living thing among a container's contents, or None."""
    living = [c for c in contents if not _NOT_LIVING.search(c)]
    return living[0] if len(living) == 1 else None


def _living(look: str) -> list[str]:
    """Every thing in view that is not a pot, soil or a substance, containers' contents included."""
    out = []
    for item, contents in _items(look):
        if not _NOT_LIVING.search(item):
            out.append(item)
        out += [c for c in _split(contents or "") if not _NOT_LIVING.search(c)]
    return out


def _items(look: str) -> list[tuple[str, str | None]]:
    out = []
    for line in look.lower().splitlines():
        match = _ITEM.match(line)
        if match:
            out.append((match.group(1), match.group(2)))
    return out


def _split(contents: str) -> list[str]:
    return [re.sub(r"^(?:an?|the) ", "", c.strip()) for c in contents.split(",") if c.strip()]


def _rank(text: str) -> int | None:
    words = _words(text)
    if "dead" in words:
        return None
    ranks = [_RANK[w] for w in words if w in _RANK]
    return max(ranks) if ranks else None


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())
