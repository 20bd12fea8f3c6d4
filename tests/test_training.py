"""The training loop end to end on CPU, on a handful of real oracle episodes with simple sub-goals.

A micro T5 (d_model 64) keeps every run to seconds: the loss must fall, the model must then
reproduce a memorised action, a checkpoint must reload to identical outputs, and an interrupted run
must continue at the step where it stopped.
"""

from __future__ import annotations

import copy
import json
from collections import Counter

import pytest

from subgoal.checkpoints import is_checkpoint, read_manifest, staging_dir
from subgoal.engine import models
from subgoal.engine.episode import SubgoalSpan, load_episodes, write_episodes
from subgoal.engine.examples import trainable_spans
from subgoal.engine.rules.neighbours import PlanNeighbours
from subgoal.engine.rules.plan_prior import PlanPrior
from subgoal.engine.rules.stand_in import TASKS, StandIns, words
from subgoal.engine.tasks import get_task
from subgoal.engine.train_config import TrainConfig
from subgoal.engine.train_data import batch_order
from subgoal.engine.training import train
from subgoal.errors import TrainingError
from subgoal.workspace import Workspace

pytestmark = pytest.mark.jvm

MICRO = models.Preset(d_model=64, d_ff=128, num_layers=2, num_heads=2, d_kv=32)


@pytest.fixture(autouse=True)
def _small_and_quiet(monkeypatch):
    import torch

    torch.set_num_threads(1)
    monkeypatch.setitem(models.PRESETS, "micro", MICRO)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


def chunked(episodes, size: int = 4):
    """Annotated copies of oracle episodes: fixed-size spans named do_part(k)."""
    out = []
    for ep in copy.deepcopy(episodes):
        n = len(ep.steps)
        ep.subgoals = [
            SubgoalSpan(f"do_part({k})", s, min(s + size, n)) for k, s in enumerate(range(0, n, size))
        ]
        out.append(ep)
    return out


def as_dev(episodes):
    """The same games relabelled as dev variations (the loop refuses a train variation in dev)."""
    out = []
    for ep in copy.deepcopy(episodes):
        ep.variation = get_task(ep.task_id).variations("dev")[0]
        ep.split = "dev"
        out.append(ep)
    return out


@pytest.fixture
def annotated(oracle_episodes, tmp_path) -> Workspace:
    ws = Workspace(tmp_path / "ws")
    write_episodes(ws.annotated_file("train"), chunked(oracle_episodes))
    write_episodes(ws.annotated_file("dev"), as_dev(chunked(oracle_episodes)[:2]))
    return ws


def interrupt_at(step: int):
    """An on_log that behaves like Ctrl-C once training reaches `step`."""

    def on_log(record):
        if record["kind"] == "train" and record["step"] == step:
            raise KeyboardInterrupt

    return on_log


def config(ws: Workspace, role: str = "executor", **kw) -> TrainConfig:
    base = dict(
        role=role,
        name=f"{role}-micro",
        train_files=[ws.annotated_file("train")],
        dev_files=[ws.annotated_file("dev")],
        preset="micro",
        vocab_size=800,
        max_input_tokens=64,
        epochs=1000,
        batch_size=8,
        lr=3e-3,
        warmup_steps=5,
        max_steps=60,
        eval_every=30,
        log_every=5,
        eval_loss_examples=32,
        eval_match_examples=8,
        patience=0,
        teleport=False,  # the examples below are made from the episodes as they are
    )
    return TrainConfig(**(base | kw))


def test_training_memorises_and_the_checkpoint_reloads_identically(oracle_episodes, tmp_path):
    # One game (3-1: a circuit, eight actions), seen 200 times: the loss falls and the model learns it.
    ws = Workspace(tmp_path / "ws")
    game = chunked([ep for ep in oracle_episodes if ep.task_id == "3-1"])
    write_episodes(ws.annotated_file("train"), game)
    write_episodes(ws.annotated_file("dev"), as_dev(game))
    records = []
    cfg = config(ws, max_steps=200, eval_every=100, log_every=10, max_input_tokens=512)
    result = train(cfg, ws, on_log=records.append)
    losses = [r["loss"] for r in records if r["kind"] == "train"]
    assert losses[-1] < losses[0] / 5, losses
    assert all(r["examples_per_s"] > 0 and r["tokens_per_s"] > 0 for r in records if r["kind"] == "train")

    path = result.path
    assert path == ws.checkpoints / "executor-micro" and is_checkpoint(path)
    assert not staging_dir(ws, "executor-micro").exists()
    files = {p.name for p in path.iterdir()}
    assert {"model.safetensors", "tokenizer.json", "manifest.json", "log.jsonl"} <= files
    assert not any(name.endswith((".bin", ".pt", ".pkl")) for name in files)

    manifest = read_manifest(path)
    assert manifest["role"] == "executor" and manifest["preset"] == "micro" and manifest["seed"] == 0
    assert manifest["training"]["steps"] == 200 and manifest["params"] > 0
    assert set(manifest["metrics"]) == {"step", "dev_loss", "dev_exact"}
    assert manifest["data"]["train"]["examples"] >= 8 and manifest["tokenizer_hash"]
    assert manifest["versions"]["torch"]
    assert [json.loads(line)["kind"] for line in (path / "log.jsonl").read_text().splitlines()][-1] == "done"

    # The memorised actions come back as first beams, and a reload gives identical beams.
    from subgoal.engine.episode import load_episodes
    from subgoal.engine.examples import examples_from_episodes

    policy = models.Policy.load(path, device="cpu")
    examples = examples_from_episodes("executor", load_episodes(ws.annotated_file("train")), policy.fits)
    assert policy.role == "executor"
    beams = policy.generate([e.source for e in examples], num_beams=3, num_return=3, max_new_tokens=16)
    firsts = [b[0] for b in beams]
    assert firsts[0] == examples[0].target  # the game's first action
    assert sum(f == e.target for f, e in zip(firsts, examples, strict=True)) >= len(examples) * 3 // 4, firsts
    again = models.Policy.load(path, device="cpu").generate([e.source for e in examples], 3, 3, 16)
    assert again == beams
    # Scoring candidates: the memorised action ranks first among the game's other actions.
    options = sorted({e.target for e in examples})
    ranked_first = 0
    for e in examples:
        scores = policy.score(e.source, options)
        assert len(scores) == len(options) and all(s <= 0 for s in scores)
        ranked_first += options[max(range(len(options)), key=scores.__getitem__)] == e.target
    assert ranked_first >= len(examples) * 3 // 4


def test_interrupted_run_resumes_at_the_same_step(annotated):
    cfg = config(annotated, role="flat", max_steps=20, eval_every=5, log_every=5)

    with pytest.raises(KeyboardInterrupt):
        train(cfg, annotated, on_log=interrupt_at(10))
    staging = staging_dir(annotated, cfg.name)
    assert (staging / "last" / "state.json").exists()
    assert not (annotated.checkpoints / cfg.name).exists()  # nothing looks complete

    records = []
    result = train(cfg, annotated, on_log=records.append)
    start = next(r for r in records if r["kind"] == "start")
    assert start["resumed_at"] == 10
    assert [r["step"] for r in records if r["kind"] == "train"] == [15, 20]
    assert result.manifest["training"]["steps"] == 20
    log = [json.loads(line) for line in (result.path / "log.jsonl").read_text().splitlines()]
    assert [r["kind"] for r in log].count("start") == 2  # both sessions are in one log


def test_a_time_budgeted_run_warms_up_and_decays_within_its_budget(annotated):
    # Planned over 1000 epochs, the run only ever sees the start of a step-based schedule; the
    # schedule must follow the share of --max-minutes spent instead.
    cfg = config(annotated, role="flat", max_steps=None, max_minutes=0.1, log_every=1, eval_every=10_000)
    records = []
    train(cfg, annotated, on_log=records.append)
    lrs = [r["lr"] for r in records if r["kind"] == "train"]
    assert len(lrs) >= 5
    assert max(lrs) > 0.5 * cfg.lr  # out of warmup
    assert lrs[-1] < 0.5 * cfg.lr and lrs[-1] >= 0.1 * cfg.lr - 1e-12  # decayed toward its floor


def test_other_settings_do_not_resume_silently(annotated):
    cfg = config(annotated, role="flat", max_steps=20, eval_every=10)
    with pytest.raises(KeyboardInterrupt):
        train(cfg, annotated, on_log=interrupt_at(10))
    with pytest.raises(TrainingError, match="--restart"):
        train(config(annotated, role="flat", max_steps=20, seed=1), annotated)
    state_file = staging_dir(annotated, cfg.name) / "last" / "state.json"
    saved = json.loads(state_file.read_text())
    assert saved["state"]["processes"] == 1
    saved["state"]["processes"] = 2  # as if `accelerate launch --num_processes 2` had started it
    state_file.write_text(json.dumps(saved))
    with pytest.raises(TrainingError, match="was trained by 2 processes, this one has 1"):
        train(cfg, annotated)
    with pytest.raises(TrainingError, match="--restart"):  # dropout too changes what is learnt
        train(config(annotated, role="flat", max_steps=20, dropout=0.0), annotated)
    result = train(config(annotated, role="flat", max_steps=20, seed=1, dropout=0.0, restart=True), annotated)
    assert result.manifest["seed"] == 1
    assert json.loads((result.path / "config.json").read_text())["dropout_rate"] == 0.0
    assert PlanPrior.load(result.path) is None  # train plans only beside a planner
    flat_steps = PlanNeighbours.load(result.path)  # ... but its actions by description (plan-neighbours)
    assert flat_steps is not None and all(
        step == step.lower() for _, plan in flat_steps.plans for step in plan
    )
    assert StandIns.load(result.path) is not None  # the train tasks' names beside every role (stand-ins)


def test_fine_tunes_an_existing_seq2seq_model_from_a_folder(annotated, tmp_path):
    tokenizer = models.train_tokenizer(
        ["go to kitchen", "focus on dove", "task: find </s> look: hallway"], 300
    )
    base = tmp_path / "my-t5"
    model = models.build_model("micro", tokenizer)
    model.save_pretrained(base)
    tokenizer.save_pretrained(base)
    result = train(
        config(annotated, role="planner", model=str(base), name="planner-my-t5", max_steps=10), annotated
    )
    assert result.manifest["model"] == str(base) and result.manifest["preset"] is None
    assert models.Policy.load(result.path).generate(["task: x"], 2, 2, 8)[0]
    # A planner keeps its train plans beside it (plan-prior), read back as counted.
    plans = [
        [span.name for span in trainable_spans(e)]
        for e in load_episodes(annotated.annotated_file("train"))
        if e.subgoals
    ]
    prior = PlanPrior.load(result.path)
    assert prior is not None and plans
    assert prior.names.table[()] == Counter(name for plan in plans for name in plan)
    train_descriptions = {words(e.task_description) for e in load_episodes(annotated.annotated_file("train"))}
    tasks = json.loads((result.path / TASKS).read_text())["tasks"]
    assert {description for description, _ in tasks} == train_descriptions
    # ... and each train description with its plan (plan-neighbours).
    table = PlanNeighbours.load(result.path)
    assert table is not None and sorted(plan for _, plan in table.plans) == sorted(plans)


def test_bad_data_is_one_clear_error(annotated, oracle_episodes, tmp_path):
    write_episodes(tmp_path / "raw.jsonl.gz", oracle_episodes)  # not annotated
    with pytest.raises(TrainingError, match="no sub-goals"):
        train(config(annotated, role="planner", train_files=[tmp_path / "raw.jsonl.gz"]), annotated)
    write_episodes(tmp_path / "empty.jsonl.gz", [])
    with pytest.raises(TrainingError, match="no train episodes"):
        train(config(annotated, train_files=[tmp_path / "empty.jsonl.gz"]), annotated)
    with pytest.raises(TrainingError, match="no such episode file"):
        train(config(annotated, train_files=[tmp_path / "nope.jsonl.gz"]), annotated)
    leaked = as_dev(chunked(oracle_episodes)[:1])
    leaked[0].variation = get_task(leaked[0].task_id).variations("test")[0]
    write_episodes(tmp_path / "leak.jsonl.gz", leaked)
    with pytest.raises(TrainingError, match="test split"):
        train(config(annotated, train_files=[tmp_path / "leak.jsonl.gz"]), annotated)
    with pytest.raises(TrainingError, match="unknown preset"):
        train(config(annotated, preset="huge"), annotated)
    with pytest.raises(TrainingError, match="no CUDA"):
        train(config(annotated, device="cuda"), annotated)
    assert not any(is_checkpoint(p) for p in annotated.checkpoints.glob("*"))


def test_an_existing_checkpoint_is_not_overwritten_by_accident(annotated):
    train(config(annotated, role="flat", max_steps=5, eval_every=5), annotated)
    with pytest.raises(TrainingError, match="already exists"):
        train(config(annotated, role="flat", max_steps=5), annotated)
    again = train(config(annotated, role="flat", max_steps=6, eval_every=6, overwrite=True), annotated)
    assert again.manifest["training"]["steps"] == 6


def test_bucketed_batches_cover_every_example_once_with_less_padding():
    import random

    rng = random.Random(0)
    lengths = [rng.randint(10, 500) for _ in range(1000)]

    def padding(batches):
        return sum(max(lengths[i] for i in b) * len(b) - sum(lengths[i] for i in b) for b in batches)

    bucketed = batch_order(lengths, 16, random.Random(1), bucketed=True)
    plain = batch_order(lengths, 16, random.Random(1), bucketed=False)
    assert sorted(i for b in bucketed for i in b) == list(range(1000))
    assert padding(bucketed) < padding(plain) / 5
    assert batch_order(lengths, 16, random.Random(1)) == bucketed  # seeded


def test_task_balance_gives_each_task_its_share_and_keeps_the_epoch_size():
    import random
    from collections import Counter

    from subgoal.engine.train_data import BatchPlan, balanced_draw

    groups = ["big"] * 900 + ["mid"] * 90 + ["small"] * 10
    natural = BatchPlan([5] * 1000, 10, seed=0, bucketed=False, groups=groups, balance=1.0).epoch(0)
    assert sorted(i for b in natural for i in b) == list(range(1000))  # every example once

    even = Counter(groups[i] for i in balanced_draw(groups, 0.0, random.Random(0)))
    assert abs(sum(even.values()) - 1000) <= 3 and max(even.values()) - min(even.values()) <= 1
    assert even["small"] == 333  # each small example 33 times over, 3 of them once more

    root = Counter(groups[i] for i in balanced_draw(groups, 0.5, random.Random(0)))
    assert root["big"] / root["small"] == pytest.approx((900 / 10) ** 0.5, rel=0.02)

    plan = BatchPlan([5] * 1000, 10, seed=0, bucketed=True, groups=groups, balance=0.0)
    first, second = plan.epoch(0), plan.epoch(1)
    assert len(first) == len(natural) and first == plan.epoch(0)  # same size, seeded
    big = [{i for b in epoch for i in b if groups[i] == "big"} for epoch in (first, second)]
    assert big[0] != big[1]  # a task sampled down shows other examples each epoch


def test_an_equal_dev_exact_is_equal_after_rounding_and_the_lower_loss_wins():
    from subgoal.engine.dev_metrics import improved

    best = {"step": 1200, "dev_loss": 0.97059, "dev_exact": 0.17969}  # as stored: rounded to 5 places
    assert improved({"dev_loss": 0.91411, "dev_exact": 0.1796875}, best)
    assert not improved({"dev_loss": 0.99, "dev_exact": 0.1796875}, best)
    assert improved({"dev_loss": 2.0, "dev_exact": 0.1875}, best)
    assert not improved({"dev_loss": 0.1, "dev_exact": 0.171875}, best)


def test_bf16_on_the_cpu_trains_and_a_nan_loss_stops_the_run_keeping_last(annotated, monkeypatch):
    """bf16 autocast on the CPU (Accelerate's mixed precision); a loss that turns NaN stops the
    run with one line before the step, and last/ keeps the state of the last evaluation."""
    import math

    from subgoal.engine import precision

    monkeypatch.setattr(precision, "cpu_has_bf16", lambda: True)
    records = []
    build = models.build_model
    calls = {"n": 0}

    def nan_after_15(preset, tokenizer, *args):  # type: ignore[no-untyped-def]
        model = build(preset, tokenizer, *args)

        def hook(module, args, output):  # type: ignore[no-untyped-def]
            calls["n"] += module.training
            if module.training and calls["n"] > 15:
                output.loss = output.loss * math.nan
            return output

        model.register_forward_hook(hook)
        return model

    monkeypatch.setattr(models, "build_model", nan_after_15)
    cfg = config(annotated, precision="bf16", max_steps=40, eval_every=10)
    with pytest.raises(TrainingError, match=r"the loss is nan at step 15 \(bf16\).*--precision fp32"):
        train(cfg, annotated, on_log=records.append)
    start = next(r for r in records if r["kind"] == "start")
    assert start["mixed_precision"] == "bf16"
    last = staging_dir(annotated, cfg.name) / "last"
    assert json.loads((last / "state.json").read_text())["state"]["step"] == 10


def test_a_compiled_training_step_learns_as_the_eager_one(annotated):
    """torch.compile changes the speed of the step, not the arithmetic: the same batches give the
    same losses (dropout off, so both draw nothing at random; within bf16's rounding where the
    precision is bf16, as one process's runs all are)."""
    losses = {}
    for compiled in (False, True):
        records = []
        cfg = config(
            annotated, role="flat", name=f"flat-{compiled}", max_steps=6, log_every=2, eval_every=100,
            dropout=0.0, compile=compiled,
        )  # fmt: skip
        train(cfg, annotated, on_log=records.append)
        losses[compiled] = [r["loss"] for r in records if r["kind"] == "train"]
    assert len(losses[True]) == 3
    assert losses[True] == pytest.approx(losses[False], rel=2e-2)


def test_the_examples_follow_the_variations_not_the_order_a_collection_wrote_them(annotated, tmp_path):
    """Two workers append in the order they finish: the same episodes in another order train alike."""
    from subgoal.engine.train_data import load_episodes_for

    episodes = load_episodes(annotated.annotated_file("train"))
    task = episodes[0].task_id
    forward, backward = tmp_path / "forward.jsonl.gz", tmp_path / "backward.jsonl.gz"
    write_episodes(forward, episodes)
    write_episodes(backward, list(reversed(episodes)))
    split = get_task(task).split_of(episodes[0].variation)
    first, _ = load_episodes_for([forward], split, None)
    second, _ = load_episodes_for([backward], split, None)
    assert len(first) == len(episodes) > 1
    assert [(e.task_id, e.variation) for e in first] == [(e.task_id, e.variation) for e in second]
