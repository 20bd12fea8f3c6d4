"""Training data: episode files → episodes → examples → token ids → padded micro-batches.

The split check lives here: an episode of a variation outside its split stops the run, so no test
variation ever reaches training.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from subgoal import checkpoints
from subgoal.engine.episode import Episode, read_episodes
from subgoal.engine.examples import Example, examples_from_episodes, thin_executor
from subgoal.engine.tasks import get_task
from subgoal.errors import EpisodeFileError, TrainingError

if TYPE_CHECKING:
    from subgoal.engine.train_config import TrainConfig


# --- episodes and examples ---------------------------------------------------------------------------


def load_episodes_for(
    files: Sequence[Path], split: str, tasks: list[str] | None
) -> tuple[list[Episode], str]:
    """Episodes of `files` (optionally only `tasks`), checking every variation is in `split`.
    Returns the episodes and a hash of the files' bytes."""
    episodes: list[Episode] = []
    for file in files:
        if not Path(file).exists():
            raise TrainingError(f"{file}: no such episode file ({split} data)")
        try:
            for ep in read_episodes(file):
                if tasks and ep.task_id not in tasks:
                    continue
                actual = get_task(ep.task_id).split_of(ep.variation)
                if actual != split:
                    raise TrainingError(
                        f"{file}: task {ep.task_id} variation {ep.variation} belongs to the {actual} split, "
                        f"not {split}: refusing to use it"
                    )
                episodes.append(ep)
        except EpisodeFileError as exc:
            raise TrainingError(str(exc)) from None
    # Parallel collectors append in the order they finish: the same episodes in another order would
    # shuffle into other batches, so a run's examples follow the variations, not the file.
    episodes.sort(key=lambda ep: (ep.task_id, ep.variation))
    return episodes, checkpoints.file_hash([Path(f) for f in files])


def prepare(episodes: list[Episode], teleport: bool) -> list[Episode]:
    """The episodes as the models learn them (with teleports instead of walks if asked)."""
    from subgoal.engine.teleport import teleport_navigation

    return [teleport_navigation(ep) for ep in episodes] if teleport else episodes


@dataclass
class EpisodeSplits:
    """A run's train and dev episodes, prepared, with hashes of the files they came from."""

    train: list[Episode]
    dev: list[Episode]
    train_hash: str
    dev_hash: str


def load_splits(cfg: TrainConfig) -> EpisodeSplits:
    train, train_hash = load_episodes_for(cfg.train_files, "train", cfg.tasks)
    dev, dev_hash = load_episodes_for(cfg.dev_files, "dev", cfg.tasks) if cfg.dev_files else ([], "")
    return EpisodeSplits(prepare(train, cfg.teleport), prepare(dev, cfg.teleport), train_hash, dev_hash)


def subgoal_allowance(episodes: list[Episode]) -> dict[str, int]:
    """Steps a sub-goal of each verb may take at play time, from the kept span lengths here."""
    from subgoal.engine.examples import is_training_target
    from subgoal.engine.subgoals import allowance_table, parse_subgoal

    spans = []
    for ep in episodes:
        for span in ep.subgoals:
            parsed = parse_subgoal(span.name)
            if parsed is not None:
                kept = sum(is_training_target(s) for s in ep.steps[span.start : span.end])
                spans.append((parsed.verb, kept))
    return allowance_table(spans)


def make_examples(
    role: str, episodes: list[Episode], fits: Callable[[str], bool] | None, what: str
) -> list[Example]:
    if not episodes:
        raise TrainingError(f"no {what} episodes for the {role} (empty file, or --tasks matched none)")
    examples = examples_from_episodes(role, episodes, fits)
    if role == "executor":  # a set of only routine sub-goals (a small dev file) is kept whole
        examples = thin_executor(examples) or examples
    if not examples:
        raise TrainingError(f"the {what} episodes give no {role} examples")
    return examples


# --- token ids -------------------------------------------------------------------------------------------


@dataclass
class Encoded:
    """Token ids of a set of examples (lists, not tensors: batches are padded as they are made)."""

    examples: list[Example]
    inputs: list[list[int]]
    labels: list[list[int]]

    def __len__(self) -> int:
        return len(self.inputs)

    def tokens(self, indices: Sequence[int]) -> int:
        return sum(len(self.inputs[i]) + len(self.labels[i]) for i in indices)


def encode(examples: list[Example], tokenizer: Any, max_input: int, max_target: int) -> Encoded:
    inputs = tokenizer([e.source for e in examples], truncation=True, max_length=max_input)["input_ids"]
    labels = tokenizer(text_target=[e.target for e in examples], truncation=True, max_length=max_target)[
        "input_ids"
    ]
    return Encoded(examples, inputs, labels)


def encode_splits(
    cfg: TrainConfig, tokenizer: Any, episodes: EpisodeSplits
) -> tuple[Encoded, Encoded | None]:
    """The train and dev examples as token ids (dev: None without dev episodes), their inputs
    rendered to fit --max-input-tokens."""

    from subgoal.engine.augment import rename_share
    from subgoal.engine.models import token_counter

    count = token_counter(tokenizer)

    def fits(text: str) -> bool:
        return count(text) <= cfg.max_input_tokens

    def encoded(split: list[Episode], what: str) -> Encoded:
        examples = make_examples(cfg.role, split, fits, what)
        if what == "train":  # dev examples stay as the agent will see its episodes
            examples = rename_share(examples, cfg.rename_share, cfg.seed)
        return encode(examples, tokenizer, cfg.max_input_tokens, cfg.max_target_tokens)

    return encoded(episodes.train, "train"), encoded(episodes.dev, "dev") if episodes.dev else None


# --- batches ---------------------------------------------------------------------------------------------


def balanced_draw(groups: Sequence[str], power: float, rng: random.Random) -> list[int]:
    """One epoch's example indices, about as many as there are examples, with group g's share
    proportional to n_g ** `power` (n_g: its examples): 1 keeps the data's own shares, 0 gives every
    group (task) the same. A group's quota takes all its examples as often as they fit, then a
    random rest, so each epoch sees different examples of the groups it samples down."""
    members: dict[str, list[int]] = {}
    for i, group in enumerate(groups):
        members.setdefault(group, []).append(i)
    weights = {g: len(ix) ** power for g, ix in members.items()}
    scale = len(groups) / sum(weights.values())
    drawn: list[int] = []
    for group in sorted(members):
        ix = members[group]
        full, rest = divmod(round(weights[group] * scale), len(ix))
        drawn += ix * full + rng.sample(ix, rest)
    return drawn


def batch_order(
    lengths: Sequence[int],
    batch_size: int,
    rng: random.Random,
    bucketed: bool = True,
    order: list[int] | None = None,
) -> list[list[int]]:
    """One epoch of batches of `order` (default: every example once). Bucketed: shuffle, sort by
    length within windows of 64 batches, cut, then shuffle the batches, so a batch holds similar
    lengths (little padding) yet epochs differ."""
    order = list(range(len(lengths))) if order is None else list(order)
    rng.shuffle(order)
    if bucketed:
        window = batch_size * 64
        order = [
            i
            for s in range(0, len(order), window)
            for i in sorted(order[s : s + window], key=lengths.__getitem__)
        ]
    batches = [order[s : s + batch_size] for s in range(0, len(order), batch_size)]
    if bucketed:
        rng.shuffle(batches)
    return batches


@dataclass(frozen=True)
class BatchPlan:
    """One process's micro-batches of each epoch: every process cuts the same seeded order, and each
    takes every n-th batch, dropping the remainder so all take the same number."""

    lengths: list[int]
    batch_size: int
    seed: int
    bucketed: bool
    process: int = 0
    processes: int = 1
    groups: Sequence[str] | None = None  # each example's task, for balance
    balance: float = 1.0  # balanced_draw's power: 1 draws each example once per epoch

    def epoch(self, epoch: int) -> list[list[int]]:
        rng = random.Random(self.seed * 100_003 + epoch)
        order = None
        if self.groups is not None and self.balance != 1.0:
            order = balanced_draw(self.groups, self.balance, rng)
        batches = batch_order(self.lengths, self.batch_size, rng, self.bucketed, order)
        n = self.processes
        return batches[self.process : len(batches) - len(batches) % n or None : n]


class Position(Protocol):
    """Where in the data the loop is (TrainState is one)."""

    epoch: int
    batch_in_epoch: int  # micro-batches of `epoch` already consumed


def micro_batches(plan: BatchPlan, state: Position) -> Iterator[list[int]]:
    """Micro-batches from where `state` says, epoch after epoch, moving `state` along as it goes
    (so a save of last/ records the position)."""
    while True:
        batches = plan.epoch(state.epoch)
        while state.batch_in_epoch < len(batches):
            state.batch_in_epoch += 1
            yield batches[state.batch_in_epoch - 1]
        state.epoch += 1
        state.batch_in_epoch = 0


def collate(
    data: Encoded, indices: Sequence[int], pad_id: int, pad_to: int | None = None, multiple: int = 1
) -> dict:
    """Pad one batch: to its longest member (or to `pad_to`), labels padded with -100."""
    import torch

    def pad(rows: list[list[int]], value: int, width: int | None) -> torch.Tensor:
        width = width or max(len(r) for r in rows)
        width = math.ceil(width / multiple) * multiple
        return torch.tensor([r + [value] * (width - len(r)) for r in rows], dtype=torch.long)

    input_ids = pad([data.inputs[i] for i in indices], pad_id, pad_to)
    return {
        "input_ids": input_ids,
        "attention_mask": (input_ids != pad_id).long(),
        "labels": pad([data.labels[i] for i in indices], -100, None),
    }
