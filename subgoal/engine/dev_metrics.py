"""The dev metrics that pick a run's best weights and stop it early: loss and greedy exact match."""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any

from subgoal.engine import models
from subgoal.engine.examples import COMPLETE_TASK, END_SUBGOAL
from subgoal.engine.train_data import Encoded, collate

if TYPE_CHECKING:
    from subgoal.engine.train_config import TrainConfig

# Not counted in exact match: their share alone can make a model that learned nothing look good.
PSEUDO_LABELS = (END_SUBGOAL, COMPLETE_TASK)


def evaluate(model: Any, tokenizer: Any, dev: Encoded, cfg: TrainConfig, device: Any) -> dict[str, float]:
    """Dev loss on a fixed sample, and exact match of greedy generations on a smaller one."""
    import torch

    rng = random.Random(cfg.seed)
    sample = rng.sample(range(len(dev)), min(len(dev), cfg.eval_loss_examples))
    tidy = models.tidy_decoded if models.splits_punctuation(tokenizer) else (lambda t: " ".join(t.split()))
    was_training = model.training
    model.eval()
    total, count = 0.0, 0
    hits = counted = 0
    with torch.inference_mode():
        for s in range(0, len(sample), cfg.batch_size):
            idx = sample[s : s + cfg.batch_size]
            batch = {k: v.to(device) for k, v in collate(dev, idx, tokenizer.pad_token_id).items()}
            n = int((batch["labels"] != -100).sum())
            total += float(model(**batch).loss) * n
            count += n
        match = sample[: cfg.eval_match_examples]
        for s in range(0, len(match), cfg.batch_size):
            idx = match[s : s + cfg.batch_size]
            batch = collate(dev, idx, tokenizer.pad_token_id)
            out = model.generate(
                input_ids=batch["input_ids"].to(device),
                attention_mask=batch["attention_mask"].to(device),
                max_new_tokens=cfg.max_target_tokens,
                num_beams=1,
                do_sample=False,
            )
            texts = tokenizer.batch_decode(out, skip_special_tokens=True, clean_up_tokenization_spaces=False)
            for i, text in zip(idx, texts, strict=True):
                target = " ".join(dev.examples[i].target.split())
                if target in PSEUDO_LABELS:
                    continue
                counted += 1
                hits += tidy(text) == target
    model.train(was_training)
    return {"dev_loss": total / max(count, 1), "dev_exact": hits / max(counted, 1)}


def improved(metrics: dict[str, float], best: dict[str, Any]) -> bool:
    """Exact match first; at equal exact match, lower dev loss. `best` is stored rounded to 5
    places, so "equal" is within that rounding (0.1796875 ties 0.17969)."""
    if not best:
        return True
    if abs(metrics["dev_exact"] - best["dev_exact"]) > 1e-5:
        return metrics["dev_exact"] > best["dev_exact"]
    return metrics["dev_loss"] < best["dev_loss"] - 1e-4
