"""Training precision: bf16 autocast where the hardware multiplies bf16 natively, fp32 elsewhere
(with a note), a bf16 step close to the fp32 one, and checkpoints that stay fp32."""

from __future__ import annotations

from pathlib import Path

import pytest

from subgoal.engine import models, precision
from subgoal.errors import TrainingError

MICRO = models.Preset(d_model=64, d_ff=128, num_layers=2, num_heads=2, d_kv=32)
TEXTS = [f"task: boil water </s> step {i} </s> pick up pot" for i in range(20)] + [
    "open door",
    "focus on pot",
]


@pytest.fixture(autouse=True)
def _micro(monkeypatch):
    import torch

    torch.set_num_threads(1)
    monkeypatch.setitem(models.PRESETS, "micro", MICRO)


@pytest.mark.parametrize(
    ("asked", "native", "mode", "noted"),
    [
        ("auto", True, "bf16", False),
        ("auto", False, "no", True),  # a CPU without AMX / AVX-512 BF16: fp32, said once
        ("bf16", False, "bf16", True),  # asked for: honoured, with a warning that it is emulated
        ("bf16", True, "bf16", False),
        ("fp32", True, "no", False),
    ],
)
def test_the_precision_follows_the_cpu(monkeypatch, asked: str, native: bool, mode: str, noted: bool) -> None:
    monkeypatch.setattr(precision, "cpu_has_bf16", lambda: native)
    chosen, note = precision.choose(asked, "cpu")
    assert chosen == mode and (note is not None) == noted
    if asked == "auto" and not native:
        assert note == "training in fp32: this CPU (no AMX or AVX-512 BF16) has no native bf16"


def test_an_unknown_precision_is_one_line() -> None:
    with pytest.raises(TrainingError, match="unknown precision 'fp16'; choose auto, bf16, fp32"):
        precision.choose("fp16", "cpu")


def test_cpu_flags_are_read_from_cpuinfo(tmp_path: Path) -> None:
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nflags\t\t: fpu sse avx512_bf16 amx_tile\n")
    assert {"avx512_bf16", "amx_tile"} <= precision.cpu_flags(info)
    assert precision.cpu_flags(tmp_path / "none") == set()


def _model_and_batch():  # type: ignore[no-untyped-def]
    import torch

    tokenizer = models.train_tokenizer(TEXTS, vocab_size=200)
    torch.manual_seed(0)
    model = models.build_model("micro", tokenizer)
    batch = tokenizer(TEXTS[:8], return_tensors="pt", padding=True)
    labels = tokenizer(["pick up pot"] * 8, return_tensors="pt", padding=True)["input_ids"]
    return model, tokenizer, {**batch, "labels": labels}


def test_a_bf16_step_is_within_tolerance_of_the_fp32_step() -> None:
    import torch

    model, _, batch = _model_and_batch()
    model.train()
    torch.manual_seed(1)
    fp32 = float(model(**batch).loss)
    torch.manual_seed(1)  # the same dropout masks
    with torch.autocast("cpu", dtype=torch.bfloat16):
        bf16 = float(model(**batch).loss)
    assert abs(bf16 - fp32) < 0.02 * fp32, (fp32, bf16)


def test_bf16_training_saves_fp32_weights_that_generate_the_same_beams(tmp_path: Path) -> None:
    import torch

    from subgoal.checkpoints import write_manifest

    model, tokenizer, batch = _model_and_batch()
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    model.train()
    for _ in range(5):
        with torch.autocast("cpu", dtype=torch.bfloat16):
            loss = model(**batch).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
    assert all(p.dtype == torch.float32 for p in model.parameters())  # autocast keeps fp32 masters
    model.eval()
    path = tmp_path / "ckpt"
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    write_manifest(path, {"role": "executor"})
    before = models.Policy(model, tokenizer, {"role": "executor"}, torch.device("cpu"))
    inputs = TEXTS[:3]
    expected = before.generate(inputs, num_beams=3, num_return=3, max_new_tokens=8)
    loaded = models.Policy.load(path, device="cpu")
    assert all(p.dtype == torch.float32 for p in loaded.model.parameters())
    assert loaded.generate(inputs, num_beams=3, num_return=3, max_new_tokens=8) == expected


def test_bf16_training_on_a_cpu_uses_eager_attention_which_computes_what_sdpa_does() -> None:
    import torch

    assert precision.attention("cpu", "bf16") == "eager"
    assert precision.attention("cpu", "no") is None and precision.attention("cuda", "bf16") is None
    model, _, batch = _model_and_batch()
    model.train()
    losses, grads = {}, {}
    for impl in ("sdpa", "eager"):
        model.set_attn_implementation(impl)
        loss = model(**batch).loss
        loss.backward()
        bias = model.encoder.block[0].layer[0].SelfAttention.relative_attention_bias.weight
        losses[impl], grads[impl] = float(loss), bias.grad.clone()
        model.zero_grad()
    assert abs(losses["eager"] - losses["sdpa"]) < 1e-5
    assert torch.allclose(grads["eager"], grads["sdpa"], atol=1e-6)  # the position bias learns alike
