"""Tokenizer, presets, `--model` loading and `Policy`: everything offline, nothing unpickled."""

from __future__ import annotations

import json

import pytest

from subgoal.checkpoints import write_manifest
from subgoal.engine import models
from subgoal.errors import CheckpointError, TrainingError

CORPUS = [
    "task: find a living thing </s> time: 3; score: 17 </s> look: This room is called the kitchen.",
    "go to kitchen",
    "open door to hallway",
    "focus on dove egg",
    "move dove egg to red box",
]
MICRO = models.Preset(d_model=32, d_ff=64, num_layers=1, num_heads=2, d_kv=16)


@pytest.fixture(autouse=True)
def _offline(monkeypatch):
    import torch

    torch.set_num_threads(1)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setitem(models.PRESETS, "micro", MICRO)


@pytest.fixture(scope="module")
def tokenizer():
    return models.train_tokenizer(CORPUS * 5, vocab_size=300)


def test_tokenizer_ends_every_text_with_eos_and_keeps_separators_whole(tokenizer):
    assert (tokenizer.pad_token, tokenizer.eos_token, tokenizer.unk_token) == ("<pad>", "</s>", "<unk>")
    target = tokenizer(text_target="go to kitchen")["input_ids"]
    assert target[-1] == tokenizer.eos_token_id  # without it a model never learns to stop
    decoded = tokenizer.decode(target, skip_special_tokens=True, clean_up_tokenization_spaces=False)
    assert models.tidy_decoded(decoded) == "go to kitchen"
    tokens = tokenizer.convert_ids_to_tokens(tokenizer("go to kitchen </s> look: hallway")["input_ids"])
    sep = tokens.index("</s>")  # " </s> " is one token; every word after it starts with a space as anywhere
    assert tokens.count("</s>") == 2 and tokens[sep - 1] == "Ġkitchen" and tokens[sep + 1].startswith("Ġ")
    assert " " not in tokens[sep]
    models.check_tokenizer(tokenizer)


def test_the_token_counter_counts_exactly_as_the_tokenizer(tokenizer):
    from test_agents import gold_episode

    from subgoal.engine.examples import examples_from_episode

    count = models.token_counter(tokenizer)
    texts = [
        e.source
        for role in ("planner", "executor", "flat")
        for e in examples_from_episode(role, gold_episode())
    ]
    texts += [
        "",
        "</s>",
        "look: a (closed) box, 'the' \"thing\" </s>",
        "navigate_to(kitchen)</s>go  to\tkitchen\n(+1); ) ( , ''",
        "unseen words: zygote quokka 3.14 -> (-100)",
    ]
    from tokenizers import Tokenizer

    private = models.token_counter(
        tokenizer, backend=Tokenizer.from_str(tokenizer.backend_tokenizer.to_str())
    )
    for text in texts * 2:  # the second time from what it remembered
        assert count(text) == private(text) == len(tokenizer(text)["input_ids"]), text
    other = models.token_counter(lambda text: {"input_ids": text.split()})  # not ours: a full encode
    assert other("a b c") == 3


def test_tokenizer_survives_save_and_load(tokenizer, tmp_path):
    from transformers import AutoTokenizer

    tokenizer.save_pretrained(tmp_path)
    again = AutoTokenizer.from_pretrained(tmp_path, local_files_only=True)
    for text in CORPUS:
        assert again(text)["input_ids"] == tokenizer(text)["input_ids"]


def test_presets_and_their_sizes(tokenizer):
    assert set(models.PRESETS) >= {"tiny", "small", "base", "large"}
    tiny = models.build_model("tiny", models.train_tokenizer(CORPUS * 5, vocab_size=2048))
    assert 7e6 < models.count_parameters(tiny) < 9.5e6  # "about 8 M"
    assert tiny.config.decoder_start_token_id == tiny.config.pad_token_id == 0
    with pytest.raises(TrainingError, match="unknown preset 'huge'; choose one of tiny, small"):
        models.get_preset("huge")


def _save_t5(tokenizer, folder):
    model = models.build_model("micro", tokenizer)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return model


def test_an_existing_seq2seq_model_loads_from_a_folder(tokenizer, tmp_path):
    _save_t5(tokenizer, tmp_path / "t5")
    model, tok = models.load_pretrained(str(tmp_path / "t5"))
    assert model.config.is_encoder_decoder and tok("go")["input_ids"] == tokenizer("go")["input_ids"]


def test_a_model_that_is_not_seq2seq_is_refused(tmp_path):
    from transformers import GPT2Config

    GPT2Config(n_layer=1, n_embd=32, n_head=2, vocab_size=100).save_pretrained(tmp_path / "gpt")
    with pytest.raises(TrainingError, match="is a gpt2 model, not a sequence-to-sequence one"):
        models.load_pretrained(str(tmp_path / "gpt"))


def test_a_hub_id_without_a_network_says_so():
    with pytest.raises(TrainingError, match="downloads are impossible without a network"):
        models.load_pretrained("google/flan-t5-nonexistent")


def test_cuda_asked_for_but_absent_is_an_error():
    import torch

    if torch.cuda.is_available():  # pragma: no cover - this test is about machines without one
        pytest.skip("a GPU is present")
    with pytest.raises(TrainingError, match="no CUDA GPU"):
        models.pick_device("cuda")
    assert models.pick_device(None).type == "cpu"


def test_policy_round_trip_gives_identical_beams(tokenizer, tmp_path):
    folder = tmp_path / "ckpt"
    model = _save_t5(tokenizer, folder)
    write_manifest(folder, {"role": "flat", "max_input_tokens": 12})
    policy = models.Policy.load(folder, device="cpu")
    assert policy.role == "flat" and policy.manifest["max_input_tokens"] == 12
    assert policy.fits("go to kitchen") and not policy.fits(CORPUS[0])
    inputs = ["go to kitchen", CORPUS[0], "focus on"]
    beams = policy.generate(inputs, num_beams=4, num_return=3, max_new_tokens=6)
    assert len(beams) == 3 and all(len(b) == 3 for b in beams)
    assert models.Policy.load(folder).generate(inputs, 4, 3, 6) == beams
    # the same weights in memory give the same first beam
    import torch

    model.eval()
    batch = tokenizer(inputs[:1], return_tensors="pt")
    with torch.inference_mode():
        out = model.generate(**batch, num_beams=4, max_new_tokens=6)
    assert " ".join(tokenizer.decode(out[0], skip_special_tokens=True).split()) == beams[0][0]


def test_policy_loads_safetensors_only(tokenizer, tmp_path):
    folder = tmp_path / "ckpt"
    _save_t5(tokenizer, folder)
    write_manifest(folder, {"role": "planner"})
    (folder / "model.safetensors").rename(folder / "pytorch_model.bin")  # a pickle would be needed
    with pytest.raises(CheckpointError, match="cannot load the model"):
        models.Policy.load(folder)
    assert json.loads((folder / "manifest.json").read_text())["role"] == "planner"
