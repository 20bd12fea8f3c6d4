"""`subgoal collect` end to end: real JVMs, the CLI as a user runs it, resume, Ctrl-C, bad input."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from jvm_utils import default_sigint, finish, new_tag, wait_until_gone
from typer.testing import CliRunner

from subgoal.cli import app
from subgoal.engine.episode import EpisodeWriter, load_episodes

runner = CliRunner()


def collect(ws: Path, *args: str):
    return runner.invoke(app, ["-w", str(ws), "collect", *args], catch_exceptions=False)


@pytest.mark.jvm
def test_collect_short_tasks_end_to_end_then_resume(tmp_path):
    result = collect(tmp_path, "--tasks", "4-2,find-animal", "-n", "2")
    assert result.exit_code == 0, result.output
    path = tmp_path / "oracle" / "train.jsonl.gz"
    episodes = load_episodes(path)
    assert sorted(e.key for e in episodes) == [("4-2", 0), ("4-2", 1), ("4-4", 0), ("4-4", 1)]
    for ep in episodes:
        assert ep.final_score == 100 and ep.split == "train" and ep.agent == "oracle"
        assert ep.meta["scienceworld"] == "1.2.3" and ep.meta["gold_length"] >= len(ep.steps)
        assert ep.task_description.startswith("Your task is to")
        assert ep.initial_look.startswith("This room is called")
        assert sum(s.reward for s in ep.steps) == 100
        assert all(s.look and s.inventory for s in ep.steps)
    # A re-run with one more variation collects only the new ones.
    result = collect(tmp_path, "--tasks", "4-2,4-4", "-n", "3")
    assert result.exit_code == 0, result.output
    assert len(load_episodes(path)) == 6


@pytest.mark.jvm
def test_resume_after_truncated_write(tmp_path):
    path = tmp_path / "oracle" / "train.jsonl.gz"
    assert collect(tmp_path, "-t", "7-1", "-n", "2").exit_code == 0
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 30])  # killed while writing the second episode
    result = collect(tmp_path, "-t", "7-1", "-n", "2")
    assert result.exit_code == 0, result.output
    assert sorted(e.variation for e in load_episodes(path)) == [0, 1]


def _spawn_collect(ws: Path, tag: str, *args: str) -> subprocess.Popen:
    # The job holds after its first episode until the test's signal ends it (see EpisodeWriter).
    env = {**os.environ, "SUBGOAL_TEST_TAG": tag, "PYTHONUNBUFFERED": "1", "SUBGOAL_TEST_HOLD_AFTER": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "subgoal", "-w", str(ws), "collect", *args],
        env=env,
        stdin=subprocess.DEVNULL,
        preexec_fn=default_sigint,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def _wait_for_episodes(path: Path, count: int, proc: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        if path.exists():
            try:
                if len(load_episodes(path)) >= count:
                    return
            except Exception:
                pass
        time.sleep(0.3)
    raise AssertionError(f"no {count} episodes in {path} (exit {proc.poll()})")


@pytest.mark.jvm
@pytest.mark.slow
@pytest.mark.parametrize("how", ["SIGKILL", "SIGINT"])
def test_interrupted_collect_leaves_no_jvm_and_resumes(tmp_path, how):
    tag = new_tag()
    path = tmp_path / "oracle" / "train.jsonl.gz"
    proc = _spawn_collect(tmp_path, tag, "-t", "4-2", "-n", "12", "-j", "2")
    _wait_for_episodes(path, 1, proc)
    proc.send_signal(signal.SIGKILL if how == "SIGKILL" else signal.SIGINT)
    stderr = finish(proc)
    if how == "SIGINT":
        assert proc.returncode == 130, stderr.decode()
        assert b"interrupted" in stderr and b"Traceback" not in stderr
    assert wait_until_gone(tag) == [], "a JVM outlived its collect command"
    kept = len(load_episodes(path)) if path.exists() else 0
    assert kept >= 1
    result = collect(tmp_path, "-t", "4-2", "-n", "12")
    assert result.exit_code == 0, result.output
    assert sorted(e.variation for e in load_episodes(path)) == list(range(12))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-t", "boill"], "did you mean boil"),
        (["-s", "validation"], "unknown split"),
        (["-t", "99-*"], "no task matches"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(tmp_path, args, message):
    result = runner.invoke(app, ["-w", str(tmp_path), "collect", *args])
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_unwritable_output(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    result = runner.invoke(app, ["collect", "-t", "4-2", "-o", str(blocker / "x" / "train.jsonl.gz")])
    assert result.exit_code == 2 and "cannot create" in result.output


def test_corrupt_existing_file_is_reported_with_its_line(tmp_path):
    path = tmp_path / "oracle" / "train.jsonl.gz"
    path.parent.mkdir(parents=True)
    import gzip

    path.write_bytes(gzip.compress(b'{"format": "subgoal.episode", "version": 1}\n'))
    result = runner.invoke(app, ["-w", str(tmp_path), "collect", "-t", "4-2", "-n", "1"])
    assert result.exit_code == 2
    assert "train.jsonl.gz:1: corrupt episode" in result.output


def test_tasks_table_and_json():
    result = runner.invoke(app, ["tasks", "--json"])
    assert result.exit_code == 0
    import json

    rows = json.loads(result.output)
    assert len(rows) == 30 and rows[0]["id"] == "1-1" and rows[0]["test_protocol"] == 9
    table = runner.invoke(app, ["tasks", "-t", "4-*"])
    assert table.exit_code == 0 and "find-animal" in table.output and "boil" not in table.output


def test_version_and_help():
    assert runner.invoke(app, ["--version"]).output.startswith("subgoal ")
    help_text = runner.invoke(app, ["--help"]).output
    assert "collect" in help_text and "tasks" in help_text


def test_episode_writer_makes_missing_folders(tmp_path):
    with EpisodeWriter(tmp_path / "a" / "b.jsonl.gz"):
        pass
    assert (tmp_path / "a" / "b.jsonl.gz").exists()
