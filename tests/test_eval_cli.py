"""`subgoal eval` through the real CLI (typer's CliRunner): a real oracle run, resume, compare, and
the one-line errors for bad input."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time

import pytest
from jvm_utils import default_sigint, finish, new_tag, wait_until_gone
from typer.testing import CliRunner

from subgoal.cli import app
from subgoal.engine.episode import Episode, Step, load_episodes
from subgoal.engine.pool import Outcome
from subgoal.engine.tasks import get_task

runner = CliRunner()


def invoke(workspace, *args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, ["--workspace", str(workspace), *args])


def fake_checkpoint(workspace, name: str, role: str) -> None:  # type: ignore[no-untyped-def]
    folder = workspace / "checkpoints" / name
    folder.mkdir(parents=True)
    (folder / "manifest.json").write_text(
        json.dumps({"format": "subgoal.checkpoint", "version": 1, "role": role})
    )


def one_error_line(result) -> str:  # type: ignore[no-untyped-def]
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), result.output
    return lines[0]


def test_unknown_checkpoint_is_one_line(tmp_path):
    line = one_error_line(invoke(tmp_path, "eval", "--agent", "flat", "--checkpoint", "nope"))
    assert "unknown checkpoint 'nope'" in line


def test_missing_default_checkpoint_says_how_to_get_one(tmp_path):
    line = one_error_line(invoke(tmp_path, "eval", "--agent", "hierarchical"))
    assert "no planner checkpoint" in line and "subgoal train planner" in line


def test_planner_given_as_executor_is_refused_before_any_jvm(tmp_path):
    fake_checkpoint(tmp_path, "plan", "planner")
    line = one_error_line(invoke(tmp_path, "eval", "--planner", "plan", "--executor", "plan"))
    assert "is a planner checkpoint, given as the executor" in line


def test_unknown_agent_and_run(tmp_path):
    assert "unknown agent 'smart'" in one_error_line(invoke(tmp_path, "eval", "--agent", "smart"))
    assert "no eval run 'zzz'" in one_error_line(invoke(tmp_path, "eval", "--resume", "zzz"))
    assert "no eval runs" in one_error_line(invoke(tmp_path, "eval", "--resume", "last"))


def made_up_episode(job) -> Episode:  # type: ignore[no-untyped-def]
    """A solved one-step episode of `job`, as a run stores it (no JVM played it)."""
    step = Step("focus on it", "You focus on it.", 100, 100, done=True)
    name = get_task(job.task_id).name
    return Episode(
        job.task_id, name, job.variation, job.split, "a task", steps=[step], meta={"end_reason": "completed"}
    )


class ScriptedPool:
    """An EnvPool that starts no JVM: the jobs whose (task, variation) is in `failing` error as when
    their JVM died twice; the others are solved in one step."""

    def __init__(self, failing: set[tuple[str, int]]):
        self.failing = failing

    def __enter__(self) -> ScriptedPool:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def imap_unordered(self, fn, jobs):  # type: ignore[no-untyped-def]
        for job in jobs:
            if (job.task_id, job.variation) in self.failing:
                yield Outcome(job, None, "EnvironmentCrashed: the ScienceWorld JVM stopped answering", 2)
            else:
                yield Outcome(job, made_up_episode(job))


@pytest.fixture
def failing(monkeypatch) -> set[tuple[str, int]]:  # type: ignore[no-untyped-def]
    """Eval's pool made a ScriptedPool; the test says which episodes fail by filling this set."""
    from subgoal.engine import evaluation

    keys: set[tuple[str, int]] = set()
    monkeypatch.setattr(evaluation, "EnvPool", lambda **_options: ScriptedPool(keys))
    return keys


def test_eval_exits_1_when_episodes_errored_and_resume_plays_them_again(tmp_path, failing):
    failing.add(("4-2", 1))
    args = ["eval", "--agent", "oracle", "-t", "4-2", "-s", "train", "-n", "3", "--name", "r"]
    result = invoke(tmp_path, *args)
    assert result.exit_code == 1, result.output
    errors = tmp_path / "runs" / "r" / "errors.jsonl"
    assert [json.loads(line)["variation"] for line in errors.read_text().splitlines()] == [1]
    last = [line for line in result.output.splitlines() if line.strip()][-1]
    assert last == (
        f"1 of 3 episodes could not be played (counted as 0), listed in {errors}; "
        "retry them with: subgoal eval --resume r"
    ), result.output
    assert "4-2 v1 failed: EnvironmentCrashed" in result.output and "Traceback" not in result.output

    failing.clear()  # the JVM behaves this time
    resumed = invoke(tmp_path, "eval", "--resume", "r")
    assert resumed.exit_code == 0, resumed.output
    assert "could not be played" not in resumed.output
    played = load_episodes(tmp_path / "runs" / "r" / "episodes.jsonl.gz")
    assert sorted(ep.variation for ep in played) == [0, 1, 2]  # the errored one, played again
    results = json.loads((tmp_path / "runs" / "r" / "results.json").read_text())
    assert results["errors"] == 0 and results["overall"] == 100.0


def test_eval_json_prints_the_per_task_table_alone_on_stdout(tmp_path, failing):
    failing.add(("4-2", 1))
    args = ["eval", "--agent", "oracle", "-t", "4-2,7-1", "-s", "train", "-n", "2", "--name", "r", "--json"]
    result = invoke(tmp_path, *args)
    assert result.exit_code == 1, result.output  # an episode errored: said on stderr, not in the JSON
    assert "could not be played" in result.stderr
    data = json.loads(result.stdout)
    rows = [(t["task_id"], t["episodes"], t["errors"], t["solved"], t["score"]) for t in data["tasks"]]
    assert rows == [("4-2", 2, 1, 1, 50.0), ("7-1", 2, 0, 2, 100.0)]
    assert (data["name"], data["agent"], data["split"], data["overall"]) == ("r", "oracle", "train", 75.0)
    results = json.loads((tmp_path / "runs" / "r" / "results.json").read_text())
    assert {k: data[k] for k in ("tasks", "buckets", "overall", "episodes", "errors")} == {
        k: results[k] for k in ("tasks", "buckets", "overall", "episodes", "errors")
    }

    failing.clear()
    resumed = invoke(tmp_path, "eval", "--resume", "r", "--json")
    assert resumed.exit_code == 0, resumed.output
    assert json.loads(resumed.stdout)["overall"] == 100.0


@pytest.mark.jvm
def test_oracle_eval_resume_and_compare(tmp_path):
    result = invoke(tmp_path, "eval", "--agent", "oracle", "--tasks", "4-2", "-n", "1", "--name", "a")
    assert result.exit_code == 0, result.output
    assert "100.00" in result.output and "1 of 30 tasks" in result.output and "steps/s" in result.output
    run = tmp_path / "runs" / "a"
    results = json.loads((run / "results.json").read_text())
    assert results["overall"] == 100.0 and results["complete"] and results["episodes"] == 1
    assert (run / "report.md").exists() and (run / "episodes.jsonl.gz").exists()

    again = invoke(tmp_path, "eval", "--resume", "last")  # nothing left to play: no JVM, same table
    assert again.exit_code == 0, again.output
    assert "100.00" in again.output

    (tmp_path / "runs" / "b").mkdir()
    (tmp_path / "runs" / "b" / "config.json").write_text((run / "config.json").read_text())
    compared = invoke(tmp_path, "eval", "--compare", "a", "b")
    assert compared.exit_code == 0, compared.output
    assert "a vs b" in compared.output and "different tasks" in compared.output


@pytest.mark.jvm
@pytest.mark.slow
def test_ctrl_c_during_a_batched_eval_leaves_no_jvm_and_the_run_resumes(tmp_path):
    """--batch plays episodes on threads, one JVM each: SIGINT must end them all, keep what finished,
    and `--resume` must play the rest."""
    tag = new_tag()
    # The run holds after its first episode until the signal ends it (see EpisodeWriter).
    env = {**os.environ, "SUBGOAL_TEST_TAG": tag, "PYTHONUNBUFFERED": "1", "SUBGOAL_TEST_HOLD_AFTER": "1"}
    args = [
        "eval",
        "--agent",
        "oracle",
        "-t",
        "4-2",
        "-s",
        "train",
        "-n",
        "40",
        "--name",
        "b",
        "--batch",
        "2",
    ]
    proc = subprocess.Popen(
        [sys.executable, "-m", "subgoal", "-w", str(tmp_path), *args],
        env=env,
        stdin=subprocess.DEVNULL,
        preexec_fn=default_sigint,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    episodes = tmp_path / "runs" / "b" / "episodes.jsonl.gz"
    deadline = time.monotonic() + 120
    while proc.poll() is None and time.monotonic() < deadline:
        with contextlib.suppress(Exception):  # the file may be mid-append
            if episodes.exists() and len(load_episodes(episodes)) >= 1:
                break
        time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    stderr = finish(proc)
    assert proc.returncode == 130, stderr.decode()
    assert b"interrupted" in stderr and b"Traceback" not in stderr
    assert wait_until_gone(tag) == [], "a JVM outlived its eval command"
    kept = len(load_episodes(episodes))
    assert 1 <= kept < 40

    resumed = invoke(tmp_path, "eval", "--resume", "b", "--batch", "2")
    assert resumed.exit_code == 0, resumed.output
    assert sorted(ep.variation for ep in load_episodes(episodes)) == list(range(40))
    assert "100.00" in resumed.output
