"""Checkpoint folders: resolve by name or path, manifests, listing, atomic publish, removal."""

from __future__ import annotations

import re

import pytest
from test_agents import gold_episode

from subgoal import checkpoints as ck
from subgoal.engine.rules.neighbours import write_neighbours
from subgoal.engine.rules.plan_prior import write_plans
from subgoal.engine.rules.stand_in import write_tasks
from subgoal.errors import CheckpointError
from subgoal.workspace import Workspace


def _make(ws: Workspace, name: str, role: str = "planner"):
    path = ws.checkpoints / name
    path.mkdir(parents=True)
    ck.write_manifest(path, {"role": role, "preset": "tiny", "params": 8_000_000})
    return path


def test_resolve_by_name_or_path_and_unknown_names_suggest(tmp_path):
    ws = Workspace(tmp_path / "ws")
    path = _make(ws, "planner-tiny")
    assert ck.resolve("planner-tiny", ws) == path
    assert ck.resolve(str(path), ws) == path
    with pytest.raises(
        CheckpointError, match=r"unknown checkpoint 'planner-tiyn'.*did you mean planner-tiny"
    ):
        ck.resolve("planner-tiyn", ws)
    with pytest.raises(CheckpointError, match="unknown checkpoint"):
        ck.resolve(str(tmp_path / "nowhere"), ws)


def test_manifest_round_trip_and_bad_manifests(tmp_path):
    ws = Workspace(tmp_path / "ws")
    path = _make(ws, "executor-tiny", role="executor")
    manifest = ck.read_manifest(path)
    assert manifest["role"] == "executor" and manifest["format"] == ck.FORMAT
    (path / ck.MANIFEST).write_text("{not json")
    with pytest.raises(CheckpointError, match="unreadable manifest"):
        ck.read_manifest(path)
    (path / ck.MANIFEST).write_text('{"format": "something else"}')
    with pytest.raises(CheckpointError, match=r"not a subgoal\.checkpoint manifest"):
        ck.read_manifest(path)
    with pytest.raises(CheckpointError, match=r"has no manifest\.json"):
        ck.read_manifest(tmp_path)


def test_list_skips_staging_and_incomplete_folders(tmp_path):
    ws = Workspace(tmp_path / "ws")
    assert ck.list_checkpoints(ws) == []
    _make(ws, "flat-tiny", role="flat")
    _make(ws, "planner-tiny")
    (ws.checkpoints / "half-written").mkdir()  # no manifest: not a checkpoint
    ck.staging_dir(ws, "executor-tiny").mkdir()
    assert [c.name for c in ck.list_checkpoints(ws)] == ["flat-tiny", "planner-tiny"]
    assert [c.role for c in ck.list_checkpoints(ws)] == ["flat", "planner"]


def test_publish_is_all_or_nothing(tmp_path):
    ws = Workspace(tmp_path / "ws")
    built = tmp_path / "built"
    built.mkdir()
    with pytest.raises(CheckpointError, match="refusing to publish a partial checkpoint"):
        ck.publish(built, ws.checkpoints / "x")
    ck.write_manifest(built, {"role": "flat"})
    ws.checkpoints.mkdir(parents=True)
    assert ck.publish(built, ws.checkpoints / "x") == ws.checkpoints / "x"
    assert not built.exists() and ck.is_checkpoint(ws.checkpoints / "x")
    other = tmp_path / "other"
    other.mkdir()
    ck.write_manifest(other, {"role": "flat"})
    with pytest.raises(CheckpointError, match="already exists"):
        ck.publish(other, ws.checkpoints / "x")


def test_remove_and_hashes(tmp_path):
    ws = Workspace(tmp_path / "ws")
    path = _make(ws, "planner-tiny")
    assert ck.remove("planner-tiny", ws) == path and not path.exists()
    (tmp_path / "a").write_bytes(b"abc")
    (tmp_path / "b").write_bytes(b"abd")
    assert ck.file_hash([tmp_path / "a"]) != ck.file_hash([tmp_path / "b"])
    assert len(ck.file_hash([tmp_path / "a", tmp_path / "b"])) == 16


def test_show_rounds_the_minutes(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from subgoal.cli import app

    monkeypatch.setenv("COLUMNS", "200")
    ws = Workspace(tmp_path / "ws")
    path = _make(ws, "planner-timed")
    stopped = "time budget of 1.6666666666666667 min reached"
    ck.write_manifest(path, {**ck.read_manifest(path), "training": {"seconds": 100.0, "stopped": stopped}})
    result = CliRunner().invoke(app, ["--workspace", str(ws.root), "checkpoints", "show", "planner-timed"])
    assert "1.7 min on" in result.output and "time budget of 1.7 min reached" in result.output
    assert "1.6666" not in result.output
    assert re.search(r"input layout\s+│?\s*1\b", result.output)  # no `input_format`: layout 1


def test_show_names_the_input_layout(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from subgoal.cli import app

    monkeypatch.setenv("COLUMNS", "200")
    ws = Workspace(tmp_path / "ws")
    path = _make(ws, "planner-layout")
    ck.write_manifest(path, {**ck.read_manifest(path), "input_format": 2})
    result = CliRunner().invoke(app, ["--workspace", str(ws.root), "checkpoints", "show", "planner-layout"])
    assert re.search(r"input layout\s+│?\s*2\b", result.output)
    assert "none (no plans.json" in result.output  # a planner trained before it
    write_plans(path, [gold_episode(), gold_episode()])
    result = CliRunner().invoke(app, ["--workspace", str(ws.root), "checkpoints", "show", "planner-layout"])
    assert "2 (1 distinct) in plans.json, for plan-prior" in result.output
    assert "none (no neighbours.json" in result.output
    write_neighbours(path, [gold_episode(), gold_episode()])
    result = CliRunner().invoke(app, ["--workspace", str(ws.root), "checkpoints", "show", "planner-layout"])
    assert "1 descriptions with their steps in neighbours.json, for plan-neighbours" in result.output
    assert "none (no tasks.json" in result.output
    write_tasks(path, [gold_episode()])
    result = CliRunner().invoke(app, ["--workspace", str(ws.root), "checkpoints", "show", "planner-layout"])
    assert "1 (0 with names) in tasks.json, for stand-ins" in result.output


def _with_log(ws: Workspace, name: str):
    """A checkpoint whose log holds ten training steps and two dev evaluations."""
    import json

    path = _make(ws, name)
    lines = [{"kind": "train", "step": s, "loss": 5.0 / s} for s in range(10, 110, 10)]
    lines += [{"kind": "eval", "step": s, "dev_loss": 1.0 / s, "dev_exact": s / 200} for s in (50, 100)]
    (path / ck.LOG).write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path


def test_show_draws_the_training_curves(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from subgoal.cli import app
    from subgoal.plots import training_curves

    monkeypatch.setenv("COLUMNS", "120")
    ws = Workspace(tmp_path / "ws")
    _with_log(ws, "planner-curves")
    result = CliRunner().invoke(app, ["--workspace", str(ws.root), "checkpoints", "show", "planner-curves"])
    assert "loss" in result.output and "dev metrics" in result.output and "exact" in result.output
    assert "\x1b[" not in result.output  # no colour codes in a pipe
    assert training_curves([]) is None and training_curves([{"kind": "start"}]) is None


def test_show_writes_the_curves_as_svg(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from subgoal.cli import app
    from subgoal.commands.checkpoints import CURVES_SVG

    monkeypatch.setenv("COLUMNS", "200")
    ws = Workspace(tmp_path / "ws")
    path = _with_log(ws, "planner-curves")
    show = ["--workspace", str(ws.root), "checkpoints", "show", "planner-curves"]
    result = CliRunner().invoke(app, show)
    assert f"curves: {path / CURVES_SVG}" in result.output
    svg = (path / CURVES_SVG).read_text().replace("&#160;", " ")  # rich's spaces
    assert svg.startswith("<svg") and "training curves of planner-curves" in svg
    assert "dev metrics" in svg and "exact" in svg and "step" in svg
    elsewhere = tmp_path / "report" / "planner.svg"
    elsewhere.parent.mkdir()
    result = CliRunner().invoke(app, [*show, "--svg", str(elsewhere)])
    assert f"curves: {elsewhere}" in result.output and elsewhere.read_text().startswith("<svg")
    _make(ws, "planner-untrained")  # no log: no curves, no file
    result = CliRunner().invoke(app, [*show[:-1], "planner-untrained"])
    assert "curves:" not in result.output and not (ws.checkpoints / "planner-untrained" / CURVES_SVG).exists()


def test_show_json_parses_back_to_the_manifest(tmp_path):
    import json

    from test_user_errors import invoke, make_checkpoint

    path = make_checkpoint(tmp_path, "executor-json", "executor")
    written = {
        **ck.read_manifest(path),
        "params": 8_000_000,
        "data": {"train_files": ["annotated/train.jsonl.gz"], "train": {"examples": 40, "episodes": 4}},
        "metrics": {"dev_loss": 0.25, "dev_exact": 0.5},
        "training": {"steps": 4, "seconds": 100.0, "stopped": "max steps reached"},
    }
    ck.write_manifest(path, written)
    (path / ck.LOG).write_text(json.dumps({"kind": "train", "step": 1, "loss": 2.0}) + "\n")
    result = invoke(tmp_path, "checkpoints", "show", "executor-json", "--json")
    assert result.exit_code == 0, result.output
    shown = json.loads(result.stdout)  # stdout holds only the JSON; where the curves went is on stderr
    assert shown == {"path": str(path), "problem": None, **written}
    assert shown["metrics"]["dev_exact"] == 0.5 and shown["training"]["seconds"] == 100.0
    assert "curves:" in result.stderr and "curves:" not in result.stdout

    cut = make_checkpoint(tmp_path, "planner-cut", "planner", truncate=True)
    broken = invoke(tmp_path, "checkpoints", "show", str(cut), "--json")
    assert broken.exit_code == 1
    assert "model.safetensors is truncated" in json.loads(broken.stdout)["problem"]


def test_the_curves_run_over_epochs_when_the_log_has_them():
    from subgoal.plots import _x_axis

    log = [{"kind": "train", "step": s, "epoch": s / 40, "loss": 1.0} for s in (10, 20)]
    log.append({"kind": "eval", "step": 30, "dev_loss": 0.5})
    x, axis = _x_axis(log)
    assert axis == "epoch" and [x(r) for r in log] == [0.25, 0.5, 0.75]
    x, axis = _x_axis([{"kind": "train", "step": 10, "loss": 1.0}])
    assert axis == "step" and x({"step": 10}) == 10
