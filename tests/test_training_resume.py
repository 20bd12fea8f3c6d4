"""Which interrupted training runs resume (train_state.resumable_state), without training anything: the
same settings, and as many processes as the run started with (`accelerate launch --num_processes`),
since each process's share of the batches, and so the position that last/ saved, depends on it."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import pytest

from subgoal.engine.train_config import TrainConfig
from subgoal.engine.train_state import TrainState, resumable_state
from subgoal.errors import TrainingError

STAGING = Path("checkpoints/.flat-tiny.training")


def config(**settings) -> TrainConfig:  # type: ignore[no-untyped-def]
    return TrainConfig(role="flat", name="flat-tiny", train_files=[], **settings)


def saved_by(cfg: TrainConfig, **state) -> dict:  # type: ignore[no-untyped-def, type-arg]
    """What last/state.json holds after an interrupted run of `cfg`."""
    return {"config": cfg.fingerprint(), "state": asdict(TrainState(**state))}


def test_a_run_resumes_with_as_many_processes_as_it_started_with():
    saved = saved_by(config(), step=10, batch_in_epoch=5, processes=2)
    state = resumable_state(saved, config(), 2, STAGING)
    assert (state.step, state.batch_in_epoch, state.processes) == (10, 5, 2)


@pytest.mark.parametrize(
    ("before", "now", "again"),
    [(2, 1, "`accelerate launch --num_processes 2 -m subgoal train ...`"), (1, 2, "`subgoal train ...`")],
)
def test_another_number_of_processes_is_refused_in_one_line(before, now, again):
    with pytest.raises(TrainingError) as refused:
        resumable_state(saved_by(config(), step=10, processes=before), config(), now, STAGING)
    message = str(refused.value)
    assert "\n" not in message
    assert f"was trained by {before} process" in message and f"this one has {now} process" in message
    assert f"resume it with {again}, or pass --restart to discard it" in message


def test_a_state_saved_before_processes_were_noted_still_resumes():
    saved = saved_by(config(), step=10)
    del saved["state"]["processes"]
    assert resumable_state(saved, config(), 1, STAGING).step == 10


def test_other_settings_are_refused_before_the_processes_are_looked_at():
    saved = saved_by(config(seed=1), step=10, processes=2)
    with pytest.raises(TrainingError, match=r"with other settings .* pass --restart"):
        resumable_state(saved, config(), 1, STAGING)
