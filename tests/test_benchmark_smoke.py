"""The training benchmark runs in a smoke mode (two steps per arm on a tiny file): it must keep
working, whatever speed it reports; speeds are measured by hand (docs/RESULTS.md)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from test_agents import gold_episode

from subgoal.engine.episode import write_episodes

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("arms", ["precision", "padding"])
def test_the_training_benchmark_runs_both_arms(tmp_path: Path, arms: str) -> None:
    data = tmp_path / "train.rules.jsonl.gz"
    episodes = []
    for variation in range(3):
        episode = gold_episode()
        episode.variation = variation
        episodes.append(episode)
    write_episodes(data, episodes)
    command = [
        sys.executable,
        str(ROOT / "benchmarks" / "train.py"),
        "--data",
        str(data),
        "--role",
        "executor",
    ]
    command += ["--arms", arms, "--steps", "2", "--preset", "mini", "--threads", "1", "--batch-size", "2"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    second, first = ("bf16", "fp32") if arms == "precision" else ("bucketed", "padded")
    assert f"{second} / {first}:" in done.stdout and "loss (last 10)" in done.stdout


def test_the_levers_benchmark_runs_its_arms_in_turn(tmp_path: Path) -> None:
    episodes = []
    for variation in range(3):
        episode = gold_episode()
        episode.variation = variation
        episodes.append(episode)
    train, dev = tmp_path / "train.jsonl.gz", tmp_path / "dev.jsonl.gz"
    write_episodes(train, episodes)
    write_episodes(dev, episodes[:1])
    command = [sys.executable, str(ROOT / "benchmarks" / "train_levers.py"), "--train", str(train)]
    command += ["--dev", str(dev), "--role", "executor", "--examples", "8", "--dev-examples", "4"]
    command += ["--arms", "bf16,eager,nodrop,short,batch32", "--short-tokens", "64"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    rows = [line.split() for line in done.stdout.splitlines() if line.split()[:1] in (["today"], ["batch32"])]
    assert [r[0] for r in rows] == ["today", "batch32"] and rows[0][2] == "1.00x"


def test_the_plan_count_model_predicts_what_the_train_plans_repeat() -> None:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from plan_ngram import accuracy, verb

    train = [("1-1", ["navigate_to(kitchen)", "pick_up(pot)", "heat(pot, stove)"])] * 2
    train.append(("1-1", ["navigate_to(kitchen)", "pick_up(pan)", "cool(pan, freezer)"]))
    dev = [("1-1", ["navigate_to(kitchen)", "pick_up(cup)", "heat(cup, stove)"])]
    # After the start: navigate (right); after navigate: pick_up (right); after pick_up: heat (right).
    assert accuracy(train, dev, 1, verb) == 1.0
    # Whole sub-goals: only the first is spelled as in train.
    assert accuracy(train, dev, 1, str) == 1 / 3
    # Another task's plans count for nothing.
    assert accuracy([("2-1", p) for _, p in train], dev, 2, verb) == 0.0
