"""What `subgoal train` shows while it trains, fed log records as the loop emits them: without a
terminal a plain line every 30 seconds, on a clock the test moves (nothing waits)."""

from __future__ import annotations

from subgoal.commands.train import ProgressLines

START = {"kind": "start", "name": "flat-tiny", "resumed_at": 0, "total_steps": 1000, "train_examples": 800,
         "dev_examples": 80, "params": 8_400_000, "device": "cpu", "processes": 1, "mixed_precision": "no"}  # fmt: skip


def trained(step: int) -> dict:  # type: ignore[type-arg]
    return {"kind": "train", "step": step, "total_steps": 1000, "loss": 1.23456, "examples_per_s": 12.5,
            "tokens_per_s": 900.0}  # fmt: skip


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def play(view: ProgressLines, clock: Clock, records: list[tuple[float, dict]], start: dict = START) -> None:  # type: ignore[type-arg]
    """Feed `start`, then `records`, each at its second after the start."""
    view(start)
    began = clock.now
    for second, record in records:
        clock.now = began + second
        view(record)


def test_a_line_every_30_seconds_with_step_speed_loss_elapsed_and_eta(capsys):
    clock = Clock()
    records = [(10, trained(10)), (29, trained(20)), (31, trained(30)), (50, trained(40)), (62, trained(50))]
    play(ProgressLines(30, clock=clock), clock, records)
    lines = [line for line in capsys.readouterr().err.splitlines() if " step " in line]
    # 970 steps left at 30 steps in 31 s: 1002 s.
    assert lines == [
        "flat-tiny step 30/1000 · 12.5 ex/s · loss 1.235 · elapsed 0:00:31 · eta 0:16:42",
        "flat-tiny step 50/1000 · 12.5 ex/s · loss 1.235 · elapsed 0:01:02 · eta 0:19:38",
    ]


def test_evaluations_and_the_end_are_always_shown(capsys):
    clock = Clock()
    evaluated = {"kind": "eval", "step": 200, "dev_loss": 0.5, "dev_exact": 0.25, "best": True}
    done = {"kind": "done", "stopped": "1000 steps done"}
    play(ProgressLines(30, clock=clock), clock, [(1, evaluated), (2, done)])
    err = capsys.readouterr().err
    assert "flat-tiny: 800 train / 80 dev examples" in err
    assert "flat-tiny step 200 · dev 0.500 / 25.0% *" in err and err.rstrip().endswith("1000 steps done")


def test_the_eta_never_passes_the_time_budget_and_counts_from_the_resumed_step(capsys):
    clock = Clock()
    play(ProgressLines(30, max_minutes=1, clock=clock), clock, [(31, trained(30))])
    assert capsys.readouterr().err.splitlines()[-1].endswith("elapsed 0:00:31 · eta 0:00:29")
    resumed = {**START, "resumed_at": 500}
    play(ProgressLines(30, clock=clock), clock, [(30, trained(520))], start=resumed)  # 20 steps in 30 s
    assert capsys.readouterr().err.splitlines()[-1].endswith("elapsed 0:00:30 · eta 0:12:00")
