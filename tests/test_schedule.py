"""The learning-rate schedule and the optimizer's parameter groups (engine/schedule.py), without
torch. The expected rates are those of the training loop before the schedule became a function."""

from __future__ import annotations

import itertools
from types import SimpleNamespace

import pytest

from subgoal.engine.schedule import lr_at, parameter_groups, planned_steps


def test_warmup_rises_linearly_to_the_peak_then_decays_linearly_to_a_tenth():
    lrs = [lr_at(step, peak=1e-3, warmup=5, total=100) for step in range(100)]
    assert lrs[:5] == pytest.approx([2e-4, 4e-4, 6e-4, 8e-4, 1e-3], rel=1e-12)
    assert max(lrs) == lrs[4]
    drops = [a - b for a, b in itertools.pairwise(lrs[4:])]
    assert all(d == pytest.approx(drops[0], rel=1e-9) for d in drops)  # a straight line down
    assert lrs[-1] == pytest.approx(1e-4, rel=1e-12)  # the floor, at the last step
    assert lr_at(150, peak=1e-3, warmup=5, total=100) == pytest.approx(1e-4, rel=1e-12)  # and after


@pytest.mark.parametrize(
    ("step", "expected"),
    [(0, 0.2), (3, 0.8), (4, 1.0), (5, 0.9905263157894737), (50, 0.5642105263157895), (94, 0.1473684210526316),
     (98, 0.10947368421052628), (99, 0.1)],
)  # fmt: skip
def test_rates_are_those_of_the_loop_before(step, expected):
    assert lr_at(step, peak=1.0, warmup=5, total=100) == pytest.approx(expected, rel=1e-12)


def test_warmup_takes_at_most_a_tenth_of_the_run():
    # 100 warm-up steps asked for in a 20-step run: it warms up over 3 (20 // 10 + 1).
    lrs = [lr_at(step, peak=1.0, warmup=100, total=20) for step in (0, 1, 2, 3, 10, 19)]
    expected = [1 / 3, 2 / 3, 1.0, 0.9470588235294117, 0.5764705882352941, 0.1]
    assert lrs == pytest.approx(expected, rel=1e-12)


def test_the_share_of_a_time_budget_spent_moves_the_schedule_when_it_is_further_along():
    # 1000 planned steps, warm-up over 100 of them: at step 0 the steps alone say 1 % of the peak.
    at = lambda step, spent: lr_at(step, peak=1.0, warmup=100, total=1000, time_spent=spent)  # noqa: E731
    assert at(0, 0.0) == pytest.approx(0.01, rel=1e-12)
    assert at(0, 0.05) == pytest.approx(0.5, rel=1e-12)  # half-way through the warm-up
    assert at(0, 0.5) == pytest.approx(0.6, rel=1e-12)
    assert at(0, 1.0) == pytest.approx(0.1, rel=1e-12) == at(0, 1.5)
    assert at(10, 0.001) == at(10, 0.0)  # the steps are further along


def test_planned_steps():
    assert planned_steps(2.0, 10, 1, None) == 20
    assert planned_steps(1.5, 10, 4, None) == 4  # ceil(15 / 4)
    assert planned_steps(10.0, 10, 1, 30) == 30
    assert planned_steps(0.01, 10, 1, None) == 1  # never zero


def test_matrices_are_decayed_but_not_biases_or_layer_norms():
    weight, bias, norm = SimpleNamespace(ndim=2), SimpleNamespace(ndim=1), SimpleNamespace(ndim=2)
    model = SimpleNamespace(
        named_parameters=lambda: [("block.0.wi.weight", weight), ("block.0.wi.bias", bias), ("block.0.layer_norm.weight", norm)]
    )  # fmt: skip
    decay, no_decay = parameter_groups(model, 0.01)
    assert decay == {"params": [weight], "weight_decay": 0.01}
    assert no_decay == {"params": [bias, norm], "weight_decay": 0.0}
