"""Stand-in names (the `stand-ins` rule): a name of the task that no train task of the same wording
gave in its place, swapped in what a model reads for a name such a train task gave there, and
swapped back in what the model writes.

A T5 trained from scratch on one core does not copy a name it never saw: asked to boil ice cream,
the planner focuses on the water of its train variations (`focus_on(substance in metal pot)`, −27
log-likelihood for `focus_on(ice cream)` against −1.2; RESULTS §23, §24). It has learned to boil
chocolate, though, in the same words. So where the task description is a train description with
other names in the same places (the train names of that description's plan), each new name is
read as the train one, in the whole input (task, look, history), and the train name in a beam is
written back as the new one. No task is read: the table is every train description with the names
its plan took from it, kept beside each checkpoint in `tasks.json`.

A name is new where no train description worded the same way had it in that place (`lead` is a
train name of the melting-point tasks, but no train task boils lead); names a description of this
wording had there (`water`, `kitchen`, `red box`) are left alone.
"""

from __future__ import annotations

import functools
import json
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from subgoal.engine.episode import Episode
from subgoal.engine.files import write_atomic
from subgoal.engine.subgoals import parse_subgoal
from subgoal.errors import CheckpointError

TASKS = "tasks.json"  # in a checkpoint: its train descriptions and the names their plans took from them
MAX_WORDS = 4  # a longer "name" is a stretch of the description, not a thing's name


def words(text: str) -> str:
    """Lower-case words, single spaces, no punctuation: the form descriptions are matched in."""
    return " ".join(re.findall(r"[a-z0-9]+(?:-[a-z0-9]+)*", text.lower()))


def _spelled(name: str, description: str) -> bool:
    return bool(name) and f" {name} " in f" {description} "


def tasks_of(episodes: Iterable[Episode]) -> dict[str, Any]:
    """{"tasks": [[description, {name: uses per episode}], ...]}: each distinct train description
    (in `words` form) with the sub-goal arguments its plans spell from it, and how often a plan of
    it uses each (a stand-in a plan works with is worth more than one it mentions once)."""
    uses: dict[str, Counter[str]] = defaultdict(Counter)
    episodes_of: Counter[str] = Counter()
    for episode in episodes:
        description = words(episode.task_description)
        episodes_of[description] += 1
        for span in episode.subgoals:
            parsed = parse_subgoal(span.name)
            for arg in parsed.args if parsed else ():
                name = words(arg)
                if len(name.split()) <= MAX_WORDS and not name.isdigit() and _spelled(name, description):
                    uses[description][name] += 1
    return {
        "tasks": [
            [d, {n: round(c / episodes_of[d], 3) for n, c in sorted(uses[d].items())}]
            for d in sorted(episodes_of)
        ]
    }


def write_tasks(folder: Path, episodes: Iterable[Episode]) -> None:
    write_atomic(folder / TASKS, json.dumps(tasks_of(episodes), separators=(",", ":")) + "\n")


@dataclass(frozen=True)
class _Template:
    """A train description with its names as slots: matched against a new description, the words
    each slot takes there."""

    pattern: re.Pattern[str]
    prefix: str  # the words before its first slot: a cheap test before the pattern
    names: tuple[str, ...]  # slot i's train name
    uses: tuple[float, ...]

    def fills(self, description: str) -> list[str] | None:
        """The words each slot takes in `description`, or None where it reads otherwise."""
        match = self.pattern.match(description) if description.startswith(self.prefix) else None
        return None if match is None else [match.group(f"s{i}") for i in range(len(self.names))]


def _template(description: str, uses: dict[str, float]) -> _Template | None:
    names = sorted((n for n in uses if _spelled(n, description)), key=lambda n: (-len(n), n))
    if not names:
        return None
    splitter = re.compile(r"(?<![a-z0-9-])(" + "|".join(re.escape(n) for n in names) + r")(?![a-z0-9-])")
    matches = list(splitter.finditer(description))
    parts, slots, position = [], [], 0
    for match in matches:
        name = match.group(1)
        parts.append(re.escape(description[position : match.start()]))
        if name in slots:  # the same name again: the same words again
            parts.append(f"(?P=s{slots.index(name)})")
        else:
            parts.append(f"(?P<s{len(slots)}>[a-z0-9 -]+?)")
            slots.append(name)
        position = match.end()
    parts.append(re.escape(description[position:]))
    pattern = re.compile("".join(parts) + r"\Z")
    prefix = description[: matches[0].start()]
    return _Template(pattern, prefix, tuple(slots), tuple(uses[n] for n in slots))


@dataclass
class Swap:
    """The names of one task swapped for stand-ins: each new name with its stand-ins, best first."""

    options: list[tuple[str, list[str]]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.options)

    def pairs(self, text: str) -> list[tuple[str, str]]:
        """(name, stand-in) for this text: the first stand-in of each name that the text does not
        already hold (a stand-in the input has would make two things one)."""
        low = f" {words(text)} "
        chosen: list[tuple[str, str]] = []
        for name, stand_ins in self.options:
            for stand_in in stand_ins:
                if f" {stand_in} " not in low and all(stand_in != s for _, s in chosen):
                    chosen.append((name, stand_in))
                    break
        return chosen

    @staticmethod
    def apply(text: str, mapping: dict[str, str]) -> str:
        """`text` with each key of `mapping` (whole words, any case) replaced, longest first in one
        pass; a key mapped to itself is kept as written."""
        if not mapping:
            return text
        keys = sorted(mapping, key=lambda k: (-len(k), k))
        pattern = re.compile(
            r"(?<![A-Za-z0-9-])("
            + "|".join(re.escape(k).replace(r"\ ", r"\s+") for k in keys)
            + r")(?![A-Za-z0-9-])",
            re.IGNORECASE,
        )
        return pattern.sub(lambda m: mapping[" ".join(m.group(1).lower().split())], text)

    @staticmethod
    def inward(pairs: Sequence[tuple[str, str]]) -> dict[str, str]:
        return dict(pairs)

    @staticmethod
    def outward(pairs: Sequence[tuple[str, str]]) -> dict[str, str]:
        """Stand-in back to its name; a name the model wrote itself stays (one pass, so `ice` back
        to `ice cream` cannot touch an `ice cream` already there)."""
        back = {name: name for name, _ in pairs}
        back.update({stand_in: name for name, stand_in in pairs})
        return back


class StandIns:
    """The train descriptions of a checkpoint as templates, and the swap each new task gets."""

    def __init__(self, tasks: Sequence[tuple[str, dict[str, float]]]):
        self.templates = [t for d, uses in tasks if (t := _template(d, uses)) is not None]
        # What each slot of each template held in the train descriptions it reads (names or not):
        # a name a description of this wording had in this place is not new there.
        self.seen: list[list[set[str]]] = []
        for template in self.templates:
            seen: list[set[str]] = [set() for _ in template.names]
            for description, _ in tasks:
                for slot, fill in zip(seen, template.fills(description) or (), strict=False):
                    slot.add(fill)
            self.seen.append(seen)
        self._cache: dict[str, Swap] = {}

    def __len__(self) -> int:
        return len(self.templates)

    def swap(self, task_description: str) -> Swap:
        """Each name of the task that no train description worded the same way around it had in
        its place, with the names those descriptions had there, best first."""
        description = words(task_description)
        if description not in self._cache:
            self._cache[description] = self._swap(description)
        return self._cache[description]

    def _swap(self, description: str) -> Swap:
        votes: dict[str, Counter[str]] = defaultdict(Counter)
        for template, seen in zip(self.templates, self.seen, strict=True):
            fills = template.fills(description)
            for name, train_name, uses, held in zip(
                fills or (), template.names, template.uses, seen, strict=False
            ):
                if len(name.split()) <= MAX_WORDS and name not in held:
                    votes[name][train_name] = max(votes[name][train_name], uses)

        def rank(name: str, stand_in: str, uses: float) -> tuple[int, float, str]:
            # The stand-in closest in words first (`solid unknown substance h` for `... o`), then
            # the one its plans use most (a substance heated and measured over one filled once).
            return (-len(set(name.split()) & set(stand_in.split())), -uses, stand_in)

        return Swap(
            [
                (name, [s for s, u in sorted(c.items(), key=lambda p: rank(name, *p))])
                for name, c in sorted(votes.items())
            ]
        )

    @classmethod
    def load(cls, checkpoint: str | Path | None) -> StandIns | None:
        """The stand-ins of a checkpoint folder; None where it has no tasks.json (made before it)."""
        if checkpoint is None or not (Path(checkpoint) / TASKS).is_file():
            return None
        file = (Path(checkpoint) / TASKS).resolve()
        # Built once per file and process: `eval --batch` builds one agent per episode thread.
        return _loaded(str(file), file.stat().st_mtime_ns)


@functools.lru_cache(maxsize=4)
def _loaded(file: str, mtime_ns: int) -> StandIns:
    try:
        data = json.loads(Path(file).read_text(encoding="utf-8"))
        tasks = [(str(d), {str(n): float(u) for n, u in uses.items()}) for d, uses in data["tasks"]]
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise CheckpointError(f"{file}: unreadable train tasks ({exc})") from None
    return StandIns(tasks)


class SwappedPolicy:
    """A policy that reads the stand-ins and writes the task's names (`swap`, set per episode)."""

    def __init__(self, policy: Any, on_swap: Any = None):
        self.policy = policy
        self.swap = Swap()
        self.on_swap = on_swap  # called when a swap changed what the model read

    def __getattr__(self, name: str) -> Any:
        return getattr(self.policy, name)

    def _pairs(self, text: str) -> list[tuple[str, str]]:
        pairs = self.swap.pairs(text) if self.swap else []
        if pairs and self.on_swap is not None:
            self.on_swap()
        return pairs

    def generate(
        self,
        inputs: list[str],
        num_beams: int = 5,
        num_return: int = 5,
        max_new_tokens: int = 32,
        allowed: list[list[str]] | None = None,
    ) -> list[list[str]]:
        if not self.swap:
            return self.policy.generate(inputs, num_beams, num_return, max_new_tokens, allowed)
        outs = []
        for i, text in enumerate(inputs):
            pairs = self._pairs(text)
            inward, outward = Swap.inward(pairs), Swap.outward(pairs)
            options = None if allowed is None else [[Swap.apply(a, inward) for a in allowed[i]]]
            beams = self.policy.generate(
                [Swap.apply(text, inward)], num_beams, num_return, max_new_tokens, options
            )[0]
            outs.append([Swap.apply(b, outward) for b in beams])
        return outs

    def score(self, source: str, candidates: list[str]) -> list[float]:
        if not self.swap:
            return self.policy.score(source, candidates)
        inward = Swap.inward(self._pairs(source))
        return self.policy.score(Swap.apply(source, inward), [Swap.apply(c, inward) for c in candidates])

    def fits(self, text: str) -> bool:
        return self.policy.fits(text)
