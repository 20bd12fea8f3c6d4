"""What a new user hit (issue 13, part 4): each case is one line on stderr, a non-zero exit, and
nothing lost. Ctrl-C and kill -9 of the long jobs, broken checkpoints, a JVM that cannot start,
runs that fail at start, an empty --tasks, and the play app's error screens."""

from __future__ import annotations

import gzip
import json
import os
import platform
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from jvm_utils import default_sigint, finish, java_pids_with_tag, new_tag, wait_until_gone
from typer.testing import CliRunner

from subgoal.cli import app
from subgoal.engine.episode import load_episodes, write_episodes

runner = CliRunner()


def invoke(workspace: Path, *args: str, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    return runner.invoke(app, ["--workspace", str(workspace), *args], env=env)


def error_line(result) -> str:  # type: ignore[no-untyped-def]
    """The one `error:` line of a failed command, and no traceback."""
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output, result.output
    errors = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, result.output
    return errors[0]


# -- running jobs as a user does, and interrupting them -----------------------------------------------
def spawn(workspace: Path, tag: str, *args: str, release: Path | None = None) -> subprocess.Popen:
    """`subgoal ARGS` in its own session (a terminal's process group: the JVM is in it too), held
    after its first episode until a signal ends it, or until `release` exists."""
    env = {**os.environ, "SUBGOAL_TEST_TAG": tag, "PYTHONUNBUFFERED": "1", "SUBGOAL_TEST_HOLD_AFTER": "1"}
    if release is not None:
        env["SUBGOAL_TEST_RELEASE"] = str(release)
    return subprocess.Popen(
        [sys.executable, "-m", "subgoal", "-w", str(workspace), *args],
        env=env,
        stdin=subprocess.DEVNULL,
        preexec_fn=default_sigint,
        start_new_session=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def wait_for_episodes(path: Path, count: int, proc: subprocess.Popen, timeout: float = 120) -> None:
    """Until `path` holds `count` episodes (the job then holds); the timeout only catches a hang."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            if path.exists() and len(load_episodes(path)) >= count:
                return
        except Exception:
            pass  # mid-append
        time.sleep(0.1)
    raise AssertionError(f"no {count} episodes in {path} (exit {proc.poll()}): {_stderr_of(proc)}")


def _stderr_of(proc: subprocess.Popen) -> str:
    if proc.poll() is None:
        return "still running"
    return proc.communicate()[1].decode(errors="replace")[-3000:]


# recvfrom, the system call under socket.recv: where a process waits for a JVM's answer.
RECV_SYSCALL = {"x86_64": "45", "aarch64": "207"}


def sees_system_calls(pid: int) -> bool:
    try:
        Path(f"/proc/{pid}/syscall").read_text()
    except OSError:  # a kernel or container that hides them
        return False
    return True


def wait_until_waiting_on_a_socket(proc: subprocess.Popen, timeout: float = 120) -> None:
    """Until the main thread of `proc` is blocked reading a socket (/proc/PID/syscall)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            call = Path(f"/proc/{proc.pid}/syscall").read_text().split()
        except OSError:
            call = []
        if call and call[0] == RECV_SYSCALL[platform.machine()]:
            return
        time.sleep(0.02)
    raise AssertionError(f"the job never waited on its JVM (exit {proc.poll()})")


@pytest.mark.jvm
@pytest.mark.slow
@pytest.mark.skipif(platform.machine() not in RECV_SYSCALL, reason="system call numbers of this machine")
def test_ctrl_c_in_the_middle_of_a_jvm_call_stops_a_one_worker_collect(tmp_path):
    """Ctrl-C lands while the one in-process JVM is answering: py4j turns the KeyboardInterrupt into
    an AttributeError, which used to fail just that episode (and kill its JVM) while the run went on
    to exit 0. The JVM is stopped so that the signal surely lands inside the call."""
    tag, release = new_tag(), tmp_path / "release"
    oracle = tmp_path / "oracle" / "train.jsonl.gz"
    proc = spawn(tmp_path, tag, "collect", "-t", "4-2", "-n", "6", release=release)
    wait_for_episodes(oracle, 1, proc)
    if not sees_system_calls(proc.pid):
        proc.kill()
        pytest.skip("this machine does not show where a process waits (/proc/PID/syscall)")
    [jvm] = java_pids_with_tag(tag)
    os.kill(jvm, signal.SIGSTOP)
    try:
        release.touch()
        wait_until_waiting_on_a_socket(proc)
        os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C does: the JVM gets it too
    finally:
        os.kill(jvm, signal.SIGCONT)
    stderr = finish(proc).decode(errors="replace")
    assert proc.returncode == 130, stderr
    assert "interrupted" in stderr and "Traceback" not in stderr and "failed" not in stderr, stderr
    assert wait_until_gone(tag) == [], "a JVM outlived its collect command"
    assert 1 <= len(load_episodes(oracle)) < 6

    result = invoke(tmp_path, "collect", "-t", "4-2", "-n", "6")
    assert result.exit_code == 0, result.output
    assert sorted(e.variation for e in load_episodes(oracle)) == list(range(6))


def test_an_interrupt_py4j_turned_into_another_error_is_an_interrupt_again():
    from subgoal.engine.env import Session

    def py4j_handling_a_ctrl_c() -> None:
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt:
            raise AttributeError("'GatewayConnection' object has no attribute 'shutdown_socket'") from None

    with pytest.raises(KeyboardInterrupt), Session()._answering():
        py4j_handling_a_ctrl_c()


def test_collect_exits_1_when_episodes_errored(tmp_path, monkeypatch):
    from test_eval_cli import ScriptedPool

    from subgoal.engine import oracle

    failing = {("4-2", 0), ("4-2", 1)}  # as when their JVMs crash twice in a row
    monkeypatch.setattr(oracle, "EnvPool", lambda **_options: ScriptedPool(failing))
    result = invoke(tmp_path, "collect", "-t", "4-2", "-n", "2")
    assert result.exit_code == 1, result.output
    assert "4-2 v0 failed: EnvironmentCrashed" in result.output
    assert "could not collect 2 episodes: run the same command to retry them" in result.output


@pytest.mark.jvm
@pytest.mark.slow
@pytest.mark.parametrize(
    ("command", "args"),
    [
        ("collect", ["-t", "4-2", "-n", "3"]),
        ("eval", ["--agent", "oracle", "-t", "4-2", "-s", "train", "-n", "3", "--name", "k"]),
    ],
)
def test_kill_9_then_the_same_command_resumes_and_leaves_no_jvm(tmp_path, command, args):
    """One worker (the default): its JVM is a child of the killed process and must die with it."""
    tag = new_tag()
    episodes = tmp_path / ("oracle/train.jsonl.gz" if command == "collect" else "runs/k/episodes.jsonl.gz")
    proc = spawn(tmp_path, tag, command, *args)
    wait_for_episodes(episodes, 1, proc)
    proc.kill()
    proc.wait()
    assert wait_until_gone(tag) == [], f"a JVM outlived its killed {command}"
    result = invoke(tmp_path, command, *args)
    assert result.exit_code == 0, result.output
    assert sorted(e.variation for e in load_episodes(episodes)) == [0, 1, 2]


def test_kill_9_of_annotate_then_the_same_command_resumes(tmp_path):
    from test_annotate_cli import _episode
    from test_rules_teacher import BOIL, GROW, INCLINE

    episodes = [_episode("1-1", 0, BOIL), _episode("5-1", 0, GROW), _episode("9-1", 0, INCLINE)]
    write_episodes(tmp_path / "oracle" / "train.jsonl.gz", episodes)
    annotated = tmp_path / "annotated" / "train.rules.jsonl.gz"
    proc = spawn(tmp_path, new_tag(), "annotate", "-j", "1")
    wait_for_episodes(annotated, 1, proc)
    proc.kill()
    proc.wait()
    result = invoke(tmp_path, "annotate", "-j", "1")
    assert result.exit_code == 0, result.output
    assert sorted(e.key for e in load_episodes(annotated)) == [("1-1", 0), ("5-1", 0), ("9-1", 0)]


# -- a JVM that cannot start -------------------------------------------------------------------------
HUGE_HEAP = {"SUBGOAL_JVM_HEAP": "999999g"}  # far beyond any machine's address space


@pytest.mark.jvm
@pytest.mark.parametrize(
    "args",
    [
        ["collect", "-t", "4-2", "-n", "1"],
        ["collect", "-t", "4-2", "-n", "2", "-j", "2"],
        ["eval", "--agent", "oracle", "-t", "4-2", "-n", "1", "--name", "r"],
        ["eval", "--agent", "oracle", "-t", "4-2", "-n", "2", "--batch", "2", "--name", "r"],
        ["play", "--plain"],
    ],
)
def test_a_jvm_that_cannot_start_is_one_line(tmp_path, args):
    line = error_line(invoke(tmp_path, *args, env=HUGE_HEAP))
    assert "the ScienceWorld JVM did not start" in line and "SUBGOAL_JVM_HEAP=999999g" in line
    assert not (tmp_path / "runs" / "r").exists()


# -- an empty --tasks --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "args",
    [
        ["collect", "--tasks", ""],
        ["eval", "--agent", "oracle", "--tasks", ""],
        ["tasks", "--tasks", " , "],
        ["train", "flat", "--tasks", ""],
        ["annotate", "--tasks", ""],
    ],
)
def test_empty_tasks_is_an_error_not_all_thirty(tmp_path, args):
    write_episodes(tmp_path / "oracle" / "train.jsonl.gz", [])
    line = error_line(invoke(tmp_path, *args))
    assert "--tasks names no task; leave it out for all 30" in line
    assert not (tmp_path / "runs").exists() or not list((tmp_path / "runs").iterdir())


# -- broken checkpoints ------------------------------------------------------------------------------
def make_checkpoint(workspace: Path, name: str, role: str, truncate: bool = False) -> Path:
    """A checkpoint folder whose weights are a real safetensors file (small), cut short if asked."""
    import numpy as np
    from safetensors.numpy import save_file

    from subgoal.checkpoints import WEIGHTS, write_manifest

    folder = workspace / "checkpoints" / name
    folder.mkdir(parents=True)
    save_file({"shared.weight": np.zeros((64, 16), dtype=np.float32)}, str(folder / WEIGHTS))
    if truncate:  # a copy that stopped half way
        data = (folder / WEIGHTS).read_bytes()
        (folder / WEIGHTS).write_bytes(data[: len(data) // 2])
    write_manifest(folder, {"role": role, "preset": "tiny"})
    return folder


def test_weights_problem_reads_only_the_header(tmp_path):
    from subgoal.checkpoints import WEIGHTS, weights_problem

    sound = make_checkpoint(tmp_path, "planner-a", "planner")
    assert weights_problem(sound) is None
    cut = make_checkpoint(tmp_path, "planner-b", "planner", truncate=True)
    assert "model.safetensors is truncated (2" in weights_problem(cut)
    (cut / WEIGHTS).write_bytes((cut / WEIGHTS).read_bytes()[:5])
    assert "not even its header" in weights_problem(cut)
    (cut / WEIGHTS).write_bytes((8).to_bytes(8, "little") + b"not json")
    assert "unreadable header" in weights_problem(cut)
    (cut / WEIGHTS).unlink()
    assert weights_problem(cut) == "it has no model.safetensors"


def test_checkpoints_list_and_show_mark_broken_ones(tmp_path):
    make_checkpoint(tmp_path, "executor-ok", "executor")
    make_checkpoint(tmp_path, "planner-cut", "planner", truncate=True)
    (tmp_path / "checkpoints" / "flat-garbled").mkdir()
    (tmp_path / "checkpoints" / "flat-garbled" / "manifest.json").write_text("{not json")

    listed = invoke(tmp_path, "checkpoints", "list", env={"COLUMNS": "200"})
    assert listed.exit_code == 1, listed.output
    assert "planner-cut (broken)" in listed.output and "flat-garbled (broken)" in listed.output
    assert "executor-ok (broken)" not in listed.output and "executor-ok" in listed.output
    assert "broken: planner-cut: model.safetensors is truncated" in listed.output
    assert "broken: flat-garbled:" in listed.output and "unreadable manifest" in listed.output

    as_json = invoke(tmp_path, "checkpoints", "list", "--json")
    assert as_json.exit_code == 1
    rows = {row["name"]: row["problem"] for row in json.loads(as_json.stdout)}
    assert rows["executor-ok"] is None and "truncated" in rows["planner-cut"]

    shown = invoke(tmp_path, "checkpoints", "show", "planner-cut", env={"COLUMNS": "200"})
    assert shown.exit_code == 1 and "broken: model.safetensors is truncated" in shown.output
    sound = invoke(tmp_path, "checkpoints", "show", "executor-ok", env={"COLUMNS": "200"})
    assert sound.exit_code == 0 and "sound" in sound.output


def test_eval_refuses_a_broken_checkpoint_in_one_line_and_leaves_no_run(tmp_path):
    make_checkpoint(tmp_path, "executor-ok", "executor")
    make_checkpoint(tmp_path, "planner-old", "planner")
    newest = make_checkpoint(tmp_path, "planner-new", "planner", truncate=True)
    os.utime(newest / "manifest.json", (time.time() + 60, time.time() + 60))

    line = error_line(invoke(tmp_path, "eval", "-t", "4-2", "-n", "1"))  # the newest planner by default
    assert "the newest planner checkpoint, planner-new, is broken: model.safetensors is truncated" in line
    assert "the newest sound one is planner-old" in line
    line = error_line(invoke(tmp_path, "eval", "--planner", "planner-new", "-t", "4-2", "-n", "1"))
    assert "planner-new is broken: model.safetensors is truncated" in line
    assert not list((tmp_path / "runs").glob("*"))


def test_play_refuses_a_broken_checkpoint_in_one_line(tmp_path):
    make_checkpoint(tmp_path, "flat-cut", "flat", truncate=True)
    line = error_line(invoke(tmp_path, "play", "--plain", "--agent", "flat", "--checkpoint", "flat-cut"))
    assert "flat-cut is broken: model.safetensors is truncated" in line


# -- runs that fail at start -------------------------------------------------------------------------
def test_a_run_that_fails_at_start_leaves_no_folder_to_block_its_name(tmp_path):
    bad = tmp_path / "bad.jsonl.gz"
    bad.write_bytes(b"not gzip")
    args = ["eval", "--agent", "oracle", "-t", "4-2", "-n", "1", "--name", "mine"]
    line = error_line(invoke(tmp_path, *args, "--oracle-file", str(bad)))
    assert "bad.jsonl.gz:1: truncated or corrupt file" in line
    assert not (tmp_path / "runs" / "mine").exists()
    # The same name with other settings is not "a different run" now.
    bad.write_bytes(gzip.compress(b'{"format": "subgoal.episode", "version": 1}\n'))
    line = error_line(invoke(tmp_path, *args, "--oracle-file", str(bad)))
    assert "corrupt episode" in line and "holds a different run" not in line


@pytest.mark.parametrize("parallel", [[], ["-j", "2"], ["--batch", "2"]])
@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"not gzip", "bad.jsonl.gz:1: truncated or corrupt file"),
        (gzip.compress(b'{"format": "subgoal.episode", "version": 1}\n'), "bad.jsonl.gz:1: corrupt episode"),
        (None, "bad.jsonl.gz: no such episode file"),
    ],
)
def test_a_bad_oracle_file_is_one_line_whatever_the_workers(tmp_path, parallel, content, message):
    """Workers read it too, but not first: with -j 2 every episode used to fail on its own, exit 0."""
    bad = tmp_path / "bad.jsonl.gz"
    if content is not None:
        bad.write_bytes(content)
    args = ["eval", "--agent", "oracle", "-t", "4-2", "-n", "2", "--name", "r", "--oracle-file", str(bad)]
    assert message in error_line(invoke(tmp_path, *args, *parallel))
    assert not (tmp_path / "runs" / "r").exists()


@pytest.mark.parametrize("workers", ["1", "2"])
@pytest.mark.parametrize(
    "command", [["collect", "-t", "4-2", "-n", "2", "--output"], ["annotate", "--input"]]
)
@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"not gzip", "bad.jsonl.gz:1: truncated or corrupt file"),  # collect used to empty it, exit 0
        (gzip.compress(b'{"format": "subgoal.episode", "version": 1}\n'), "bad.jsonl.gz:1: corrupt episode"),
    ],
)
def test_a_bad_episode_file_is_one_line_whatever_the_workers(tmp_path, command, workers, content, message):
    bad = tmp_path / "bad.jsonl.gz"
    bad.write_bytes(content)
    assert message in error_line(invoke(tmp_path, *command, str(bad), "-j", workers))
    assert bad.read_bytes() == content


def test_resume_last_is_the_run_changed_most_recently(tmp_path):
    from subgoal.engine.runs import find_run

    runs = tmp_path / "runs"
    for name in ("quickstart-hierarchical", "20261125-101010-flat"):
        (runs / name).mkdir(parents=True)
        (runs / name / "config.json").write_text("{}")
        (runs / name / "episodes.jsonl.gz").write_bytes(b"")
        for path in (runs / name / "config.json", runs / name / "episodes.jsonl.gz", runs / name):
            os.utime(path, (1_000_000, 1_000_000))
    assert find_run("last", runs).name == "quickstart-hierarchical"
    os.utime(runs / "20261125-101010-flat" / "episodes.jsonl.gz")  # an episode appended just now
    assert find_run("last", runs).name == "20261125-101010-flat"


# -- the play app's error screens exit 2, as --plain does ---------------------------------------------
def test_the_app_exits_2_after_an_error_screen_and_play_prints_the_line(tmp_path, monkeypatch):
    from subgoal.tui.app import PlayApp
    from subgoal.tui.screens.error import ErrorScreen

    garbled = tmp_path / "garbled.jsonl.gz"
    garbled.write_bytes(b"\x1f\x8b" + bytes(range(256)))
    headless_run = PlayApp.run

    async def quit_on_the_error_screen(pilot) -> None:  # type: ignore[no-untyped-def]
        while not isinstance(pilot.app.screen, ErrorScreen):
            await pilot.pause(0.05)
        await pilot.press("q")

    def run(self, **options):  # type: ignore[no-untyped-def]
        return headless_run(self, headless=True, size=(100, 30), auto_pilot=quit_on_the_error_screen)

    monkeypatch.setattr(PlayApp, "run", run)
    result = invoke(tmp_path, "play", "--tui", "--replay", str(garbled))
    assert "garbled.jsonl.gz:1: truncated or corrupt file" in error_line(result)


def test_the_app_exits_2_after_a_live_run_failed():
    from test_tui_app import broken_source, live_app, run_async, wait_until

    from subgoal.tui.screens.live import LiveScreen

    @run_async
    async def check() -> None:
        app = live_app(lambda link: broken_source, delay=0.0)
        async with app.run_test(size=(100, 30)) as pilot:
            await wait_until(pilot, lambda: isinstance(app.screen, LiveScreen) and app.screen.failure)
            await pilot.press("q")
        assert app.return_code == 2 and "the model fell over" in str(app.error)

    check()
