"""The CPU decoder (engine/decoding.py) returns what transformers returns: the same beams in the same
order, free and constrained, and the same candidate log-likelihoods, on small random T5s."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from subgoal.engine.decoding import T5Inference, supports  # noqa: E402
from subgoal.engine.models import _trie, _trie_allowed, _trie_constraint  # noqa: E402

PAD, EOS, VOCAB = 0, 1, 40


def _model(tied: bool, gated: bool, trained: bool):
    from transformers import T5Config, T5ForConditionalGeneration

    torch.manual_seed(7)
    config = T5Config(
        vocab_size=VOCAB,
        d_model=32,
        d_ff=48,
        d_kv=8,
        num_layers=2,
        num_heads=4,
        feed_forward_proj="gated-gelu" if gated else "relu",
        tie_word_embeddings=tied,
        pad_token_id=PAD,
        eos_token_id=EOS,
        decoder_start_token_id=PAD,
        dropout_rate=0.0,
    )
    model = T5ForConditionalGeneration(config)
    if trained:  # a few steps on targets of 1-5 tokens, so that beams end at different lengths
        g = torch.Generator().manual_seed(5)
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
        for _ in range(30):
            ids = torch.randint(2, VOCAB, (8, 12), generator=g)
            lengths = torch.randint(1, 6, (8,), generator=g)
            labels = torch.full((8, 6), -100)
            for row, n in enumerate(lengths.tolist()):
                labels[row, :n] = ids[row, :n]
                labels[row, n] = EOS
            model(input_ids=ids, labels=labels).loss.backward()
            optimizer.step()
            optimizer.zero_grad()
    else:
        with torch.no_grad():  # sharper distributions than the initialisation's
            for p in model.parameters():
                p.mul_(4.0)
    return model.eval()


def _inputs(n: int = 4) -> list[torch.Tensor]:
    g = torch.Generator().manual_seed(3)
    return [
        torch.randint(2, VOCAB, (1, int(torch.randint(5, 30, (1,), generator=g))), generator=g)
        for _ in range(n)
    ]


def _hf_beams(model, ids, beams, max_new, constraint=None) -> list[list[int]]:
    out = model.generate(
        input_ids=ids,
        attention_mask=torch.ones_like(ids),
        num_beams=beams,
        num_return_sequences=beams,
        max_new_tokens=max_new,
        do_sample=False,
        early_stopping=True,
        prefix_allowed_tokens_fn=constraint,
    )
    rows = []
    for row in out.tolist():
        row = row[1:]  # the decoder start
        rows.append(row[: row.index(EOS) + 1] if EOS in row else row)
    return rows


@pytest.mark.parametrize(
    ("tied", "gated", "trained"), [(True, True, False), (False, False, True), (True, True, True)]
)
def test_beam_search_matches_transformers(tied, gated, trained):
    model = _model(tied, gated, trained)
    fast = T5Inference(model, EOS)
    assert supports(model)
    ended_early = 0
    with torch.inference_mode():
        for ids in _inputs():
            expected = _hf_beams(model, ids, 4, 7)
            got = fast.beam_search(fast.encode(ids), 4, 4, 7)
            assert got == expected
            ended_early += sum(len(b) < 7 for b in got)
    if trained:
        assert ended_early  # the comparison covered beams that stop before the limit


def test_constrained_beam_search_matches_transformers():
    model = _model(True, True, False)
    fast = T5Inference(model, EOS)
    texts = [[5, 6, 7, EOS], [5, 6, 9, EOS], [12, EOS], [5, 30, 31, 32, EOS], [20, 21, EOS]]
    trie = _trie(texts)
    with torch.inference_mode():
        for ids in _inputs():
            expected = _hf_beams(model, ids, 4, 8, _trie_constraint([trie], EOS))
            got = fast.beam_search(fast.encode(ids), 4, 4, 8, _trie_allowed(trie, EOS))
            assert got == expected
            assert all(b in texts for b in got)


def test_fewer_options_than_beams_returns_each_once():
    model = _model(True, True, False)
    fast = T5Inference(model, EOS)
    texts = [[5, 6, EOS], [12, EOS]]
    with torch.inference_mode():
        got = fast.beam_search(fast.encode(_inputs(1)[0]), 4, 4, 8, _trie_allowed(_trie(texts), EOS))
    assert sorted(got) == sorted(texts)


@pytest.mark.parametrize(("tied", "gated"), [(True, True), (False, False)])
def test_scores_match_transformers(tied, gated):
    model = _model(tied, gated, True)
    fast = T5Inference(model, EOS)
    labels = torch.tensor([[5, 6, 7, EOS], [12, EOS, -100, -100], [3, 4, EOS, -100]])
    with torch.inference_mode():
        for ids in _inputs():
            out = model(input_ids=ids.expand(3, -1), labels=labels)
            logp = torch.log_softmax(out.logits.float(), -1)
            mask = labels != -100
            picked = logp.gather(-1, labels.masked_fill(~mask, 0).unsqueeze(-1)).squeeze(-1)
            expected = (picked * mask).sum(-1)
            got = fast.score(fast.encode(ids), labels)
            assert torch.allclose(got, expected, atol=1e-4), (got, expected)
