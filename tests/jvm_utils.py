"""Finding the JVMs a test started, even after their parent died: every process inherits a tag in
its environment, and /proc tells whose it is."""

from __future__ import annotations

import os
import signal
import subprocess
import time
import uuid
from pathlib import Path


def new_tag() -> str:
    return uuid.uuid4().hex


def java_pids_with_tag(tag: str) -> list[int]:
    pids = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes()
            if b"java" not in cmdline.split(b"\0")[0]:
                continue
            if f"SUBGOAL_TEST_TAG={tag}".encode() in (proc / "environ").read_bytes():
                pids.append(int(proc.name))
        except OSError:
            continue
    return pids


def wait_until_gone(tag: str, timeout: float = 15.0) -> list[int]:
    """Java processes with `tag` still alive after `timeout` seconds (empty when all exited)."""
    deadline = time.monotonic() + timeout
    while (alive := java_pids_with_tag(tag)) and time.monotonic() < deadline:
        time.sleep(0.2)
    return alive


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is dead for our purposes.
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


def kill_and_wait(pid: int, timeout: float = 10.0) -> None:
    """SIGKILL a JVM and return once it is dead: os.kill only queues the signal, and on a busy
    machine the JVM can still answer one more request before it goes."""
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + timeout
    while pid_alive(pid):
        if time.monotonic() > deadline:
            raise AssertionError(f"JVM {pid} still alive {timeout} s after SIGKILL")
        time.sleep(0.02)


def default_sigint() -> None:
    """preexec_fn for a job a test will interrupt: SIGINT at its default and unblocked in the child.
    A signal ignored at exec stays ignored in Python, and in the full suite the job sometimes
    started that way (its stacks showed it still holding after the test's SIGINT)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


def finish(proc: subprocess.Popen, timeout: float = 60) -> bytes:
    """The stderr of a signalled job; if it does not end in time, its threads' stacks in the error."""
    try:
        return proc.communicate(timeout=timeout)[1]
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGUSR1)
        time.sleep(2)
        proc.kill()
        raise AssertionError(
            f"the job did not end: {proc.communicate()[1].decode(errors='replace')[-6000:]}"
        ) from None
