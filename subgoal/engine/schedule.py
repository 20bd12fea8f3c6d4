"""How far training goes and how fast it learns, as pure functions of their arguments: the number of
optimizer steps, the learning rate at each step, and which weights the optimizer decays."""

from __future__ import annotations

import math
from typing import Any

FLOOR = 0.1  # the decay ends at this share of the peak learning rate


def planned_steps(epochs: float, batches_per_epoch: int, grad_accum: int, max_steps: int | None) -> int:
    """Optimizer steps for `epochs` epochs of `batches_per_epoch` micro-batches, at most `max_steps`."""
    planned = math.ceil(epochs * batches_per_epoch / grad_accum)
    return max(1, min(planned, max_steps) if max_steps else planned)


def lr_at(step: int, *, peak: float, warmup: int, total: int, time_spent: float = 0.0) -> float:
    """The learning rate after `step` of `total` optimizer steps: a linear warm-up over `warmup` steps
    (at most a tenth of the run, plus one), then a linear decay to FLOOR · `peak`.

    Progress is the share of steps done, or `time_spent` (the share of a time budget used) when that
    is further along, so that a run cut short by --max-minutes still warms up and decays instead of
    stopping inside its warm-up.
    """
    warmed = min(warmup, total // 10 + 1) / total  # the share of the run that warms up
    progress = max((step + 1) / total, time_spent)
    if progress < warmed:
        return peak * (progress / warmed)
    return peak * max(FLOOR, 1 - (1 - FLOOR) * (progress - warmed) / max(1e-9, 1 - warmed))


def parameter_groups(model: Any, weight_decay: float) -> list[dict[str, Any]]:
    """AdamW's parameter groups: matrices are decayed; biases and layer norms are not."""
    decay, no_decay = [], []
    for name, param in model.named_parameters():
        (no_decay if param.ndim < 2 or "layer_norm" in name else decay).append(param)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
