"""`subgoal train` and `subgoal checkpoints` through the real Typer app (CliRunner), on CPU."""

from __future__ import annotations

import copy
import json
import re

import pytest
from typer.testing import CliRunner

from subgoal.cli import app
from subgoal.engine import models
from subgoal.engine.episode import SubgoalSpan, write_episodes
from subgoal.engine.tasks import get_task
from subgoal.workspace import Workspace

pytestmark = pytest.mark.jvm
FAST = ["--preset", "micro", "--max-steps", "4", "--eval-every", "2", "--batch-size", "4",
        "--max-input-tokens", "48", "--vocab-size", "300", "--warmup", "1", "--threads", "1"]  # fmt: skip


@pytest.fixture(autouse=True)
def _small(monkeypatch):
    import torch

    torch.set_num_threads(1)
    monkeypatch.setitem(
        models.PRESETS, "micro", models.Preset(d_model=32, d_ff=64, num_layers=1, num_heads=2, d_kv=16)
    )
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


@pytest.fixture
def ws(oracle_episodes, tmp_path) -> Workspace:
    """A workspace with oracle train/dev files and annotated ones (fixed-size spans)."""
    ws = Workspace(tmp_path / "ws")
    train = copy.deepcopy(oracle_episodes)
    dev = copy.deepcopy(oracle_episodes[:2])
    for ep in dev:
        ep.variation, ep.split = get_task(ep.task_id).variations("dev")[0], "dev"
    write_episodes(ws.oracle_file("train"), train)
    write_episodes(ws.oracle_file("dev"), dev)
    for ep in train + dev:
        n = len(ep.steps)
        ep.subgoals = [SubgoalSpan(f"do_part({k})", s, min(s + 3, n)) for k, s in enumerate(range(0, n, 3))]
    write_episodes(ws.annotated_file("train"), train)
    write_episodes(ws.annotated_file("dev"), dev)
    return ws


def invoke(ws: Workspace, *args: str):
    return CliRunner().invoke(app, ["--workspace", str(ws.root), *args])


def test_train_all_then_list_show_and_rm(ws, monkeypatch):
    from subgoal.commands import train

    monkeypatch.setattr(train, "LINE_SECONDS", 0)  # a progress line at every log record
    result = invoke(ws, "train", "all", *FAST)
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in ws.checkpoints.iterdir())
    assert names == ["executor-micro", "flat-micro", "planner-micro"]
    assert "planner-micro" in result.output and "dev" in result.output
    assert re.search(r"^planner-micro: .* cpu x1, 1 thread\s", result.output, re.M), result.output
    # Not a terminal: plain lines, no bar.
    assert "100%" not in result.output
    for name in names:
        assert re.search(
            rf"^{name} step 4/4 · [0-9.]+ ex/s · loss [0-9.]+ · elapsed 0:00:\d\d · eta 0:00:00$",
            result.output,
            re.M,
        ), result.output
        assert re.search(rf"^{name} step 2 · dev [0-9.]+ / [0-9.]+%", result.output, re.M)

    listed = invoke(ws, "checkpoints", "list", "--json")
    assert listed.exit_code == 0, listed.output
    rows = json.loads(listed.output)
    assert {r["name"]: r["role"] for r in rows} == {
        "executor-micro": "executor",
        "flat-micro": "flat",
        "planner-micro": "planner",
    }
    table = invoke(ws, "checkpoints", "list")
    assert table.exit_code == 0 and "planner-micro" in table.output

    show = invoke(ws, "checkpoints", "show", "executor-micro")
    assert show.exit_code == 0, show.output
    assert "executor" in show.output and "best dev" in show.output

    gone = invoke(ws, "checkpoints", "rm", "flat-micro", "--yes")
    assert gone.exit_code == 0 and not (ws.checkpoints / "flat-micro").exists()
    unknown = invoke(ws, "checkpoints", "show", "flat-micro")
    assert unknown.exit_code == 2 and "unknown checkpoint 'flat-micro'" in unknown.output


def test_flat_trains_on_oracle_files_when_nothing_is_annotated(ws):
    for split in ("train", "dev"):
        ws.annotated_file(split).unlink()
    result = invoke(ws, "train", "flat", "--tag", "oracle", "--task-balance", "0.5", *FAST)
    assert result.exit_code == 0, result.output
    manifest = json.loads((ws.checkpoints / "flat-oracle" / "manifest.json").read_text())
    assert manifest["data"]["train_files"] == [str(ws.oracle_file("train"))]
    assert manifest["config"]["task_balance"] == 0.5
    missing = invoke(ws, "train", "planner", *FAST)
    assert missing.exit_code == 2
    assert "no planner training data" in missing.output and "subgoal annotate" in missing.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["train", "planner", "--preset", "huge"], "unknown preset 'huge'"),
        (["train", "critic"], "unknown role 'critic'"),
        (
            ["train", "flat", "--model", "google/flan-t5-nowhere"],
            "downloads are impossible without a network",
        ),
        (["train", "executor", *FAST, "--device", "cuda"], "no CUDA GPU"),
        (
            ["train", "planner", *FAST, "--data", "missing.jsonl.gz"],
            "no planner training data at missing.jsonl.gz",
        ),
    ],
)
def test_bad_input_is_one_line_and_exit_2(ws, args, message):
    import torch

    if "cuda" in args and torch.cuda.is_available():  # pragma: no cover
        pytest.skip("a GPU is present")
    result = invoke(ws, *args)
    assert result.exit_code == 2, result.output
    assert message in " ".join(result.output.split())
    assert "Traceback" not in result.output
    assert (
        not any((p / "manifest.json").exists() for p in ws.checkpoints.glob("*"))
        if ws.checkpoints.exists()
        else True
    )
