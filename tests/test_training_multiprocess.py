"""The multi-process training path, run as docs/training.md tells users to: `accelerate launch ...
-m subgoal train`, here with two CPU processes (torchrun underneath, gloo backend).

The ranks run the real command. A `sitecustomize.py` on their PYTHONPATH (never in the launcher)
registers the test's micro preset and records, per rank, what the loop does: each tokenizer
training, each training micro-batch's example indices; and it can stop the main process with a
KeyboardInterrupt right after it has saved `last/` at a chosen step, as Ctrl-C would, so the
interruption lands at a known step whatever the machine's speed.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from test_training import annotated  # noqa: F401 - a fixture the test below takes
from typer.testing import CliRunner

from subgoal.checkpoints import is_checkpoint, read_manifest, staging_dir
from subgoal.cli import app
from subgoal.engine import models
from subgoal.workspace import Workspace

pytestmark = [pytest.mark.jvm, pytest.mark.slow]

HOOK = textwrap.dedent(
    """
    import json, os

    trace = os.environ.get("SUBGOAL_TEST_TRACE")
    if trace and "LOCAL_RANK" in os.environ:  # a rank started by torchrun, not the launcher
        from subgoal.engine import models, training

        models.PRESETS["micro"] = models.Preset(d_model=32, d_ff=64, num_layers=1, num_heads=2, d_kv=16)
        path = os.path.join(trace, "rank%s.jsonl" % os.environ["RANK"])

        def note(**record):
            with open(path, "a") as fh:
                fh.write(json.dumps(record) + "\\n")

        train_tokenizer, collate, save_last = models.train_tokenizer, training.collate, training.save_last

        def traced_train_tokenizer(*args, **kwargs):
            note(event="tokenizer")
            return train_tokenizer(*args, **kwargs)

        def traced_collate(data, indices, *args, **kwargs):
            if "multiple" in kwargs:  # the loop's training batches (evaluation calls it without)
                note(event="batch", indices=list(indices))
            return collate(data, indices, *args, **kwargs)

        stop_at = int(os.environ.get("SUBGOAL_TEST_STOP_AT", "0"))
        stopped = []

        def traced_save_last(folder, model, tokenizer, optimizer, scheduler, state, cfg):
            save_last(folder, model, tokenizer, optimizer, scheduler, state, cfg)
            note(event="saved", step=state.step)
            if state.step == stop_at and not stopped:
                stopped.append(True)
                raise KeyboardInterrupt  # Ctrl-C, right after last/ was written

        models.train_tokenizer = traced_train_tokenizer
        training.collate = traced_collate
        training.save_last = traced_save_last
    """
)

ARGS = ["train", "flat", "--preset", "micro", "--max-steps", "4", "--eval-every", "2",
        "--batch-size", "2", "--max-input-tokens", "48", "--vocab-size", "300", "--warmup", "1"]  # fmt: skip


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def launch(ws: Workspace, trace: Path, hook: Path, stop_at: int = 0) -> subprocess.CompletedProcess:
    """`accelerate launch` of two CPU processes running `subgoal train`, in its own session; on a
    hang the whole process group is killed, and none of it may outlive the call."""
    trace.mkdir(exist_ok=True)
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(hook), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep),
        "SUBGOAL_TEST_TRACE": str(trace),
        "SUBGOAL_TEST_STOP_AT": str(stop_at),
        "OMP_NUM_THREADS": "1",
        "HF_HUB_OFFLINE": "1",
        "CI": "true",
    }
    # `--multi_gpu` is accelerate's torchrun launcher; without a GPU each rank's Accelerator(cpu=True)
    # joins a gloo group (MULTI_CPU). (`--cpu --num_processes 2` alone starts a single process.)
    cmd = [sys.executable, "-m", "accelerate.commands.accelerate_cli", "launch",
           "--multi_gpu", "--num_processes", "2", "--num_machines", "1", "--mixed_precision", "no",
           "--dynamo_backend", "no", "--main_process_port", str(free_port()),
           "-m", "subgoal", "--workspace", str(ws.root), *ARGS]  # fmt: skip
    proc = subprocess.Popen(
        cmd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        out, err = proc.communicate(timeout=240)  # only catches a hang
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        pytest.fail(f"accelerate launch hung; killed. stderr: {err[-3000:]}")
    finally:
        deadline = time.monotonic() + 30
        while group_alive(proc.pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if group_alive(proc.pid):
            os.killpg(proc.pid, signal.SIGKILL)
            pytest.fail("a rank outlived accelerate launch")
    return subprocess.CompletedProcess(cmd, proc.returncode, out, err)


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def events(trace: Path, rank: int) -> list[dict]:
    path = trace / f"rank{rank}.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_two_processes_train_their_shares_publish_one_checkpoint_and_resume(annotated, tmp_path, monkeypatch):  # noqa: F811
    ws = annotated  # test_training's annotated workspace: the same episodes one process trains on
    hook = tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(HOOK)

    # Session 1: Ctrl-C reaches the main process right after it saved last/ at step 2.
    first = launch(ws, tmp_path / "trace1", hook, stop_at=2)
    assert first.returncode != 0, first.stderr[-3000:]
    assert "interrupted" in first.stderr, first.stderr[-3000:]
    staging = staging_dir(ws, "flat-micro")
    assert json.loads((staging / "last" / "state.json").read_text())["state"]["step"] == 2
    assert not (ws.checkpoints / "flat-micro").exists()

    main, other = events(tmp_path / "trace1", 0), events(tmp_path / "trace1", 1)
    # The tokenizer is trained once, by the main process; the other loads it.
    assert [e["event"] for e in main].count("tokenizer") == 1
    assert [e["event"] for e in other].count("tokenizer") == 0
    # Both processes trained, each on its own share: two steps, one micro-batch each per step,
    # from one epoch's batches, no example in both shares.
    shares = [[e["indices"] for e in rank if e["event"] == "batch"] for rank in (main, other)]
    assert [len(s) for s in shares] == [2, 2], shares
    seen = [{i for batch in s for i in batch} for s in shares]
    assert seen[0] and seen[1] and not seen[0] & seen[1], shares
    # Only the main process writes last/.
    assert [e["step"] for e in main if e["event"] == "saved"] == [2, 2]  # at step 2, then on Ctrl-C
    assert not [e for e in other if e["event"] == "saved"]

    # One process may not resume it: last/ holds where each of the two was in the epoch.
    micro = models.Preset(d_model=32, d_ff=64, num_layers=1, num_heads=2, d_kv=16)  # the ranks' (HOOK)
    monkeypatch.setitem(models.PRESETS, "micro", micro)
    alone = CliRunner().invoke(app, ["--workspace", str(ws.root), *ARGS])
    assert alone.exit_code == 2 and "Traceback" not in alone.output, alone.output
    assert "was trained by 2 processes, this one has 1" in " ".join(alone.output.split())

    # Session 2: the same command continues from step 2 to 4 and publishes one checkpoint.
    second = launch(ws, tmp_path / "trace2", hook)
    assert second.returncode == 0, second.stderr[-3000:]
    main, other = events(tmp_path / "trace2", 0), events(tmp_path / "trace2", 1)
    assert not [e for e in main + other if e["event"] == "tokenizer"]  # resumed with last/'s
    assert [len([e for e in rank if e["event"] == "batch"]) for rank in (main, other)] == [2, 2]

    assert [p.name for p in ws.checkpoints.iterdir()] == ["flat-micro"]  # no staging, no .new/.old
    path = ws.checkpoints / "flat-micro"
    assert is_checkpoint(path) and not staging.exists()
    manifest = read_manifest(path)
    assert manifest["training"]["processes"] == 2
    assert manifest["training"]["steps"] == 4 and manifest["training"]["device"].startswith("cpu")
    log = [json.loads(line) for line in (path / "log.jsonl").read_text().splitlines()]
    starts = [r for r in log if r["kind"] == "start"]
    assert [(r["resumed_at"], r["processes"]) for r in starts] == [(0, 2), (2, 2)]
    assert [r["step"] for r in log if r["kind"] == "train"][-1] == 4
    assert log[-1]["kind"] == "done"
    assert second.stdout.count("trained →") == 1  # the summary table, printed by the main process only
