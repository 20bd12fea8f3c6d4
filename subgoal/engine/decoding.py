"""T5 inference for one input at a time on a CPU: beam search and candidate scoring that compute the
encoder's keys and values for cross-attention once and share them across every beam and candidate.

Why: on one core our small T5s are compute-bound (batching episodes did not pay, RESULTS §4), and
transformers' beam search and teacher-forced scoring both project the encoder states once per beam
or candidate: scoring 64 candidates against a 320-token input did 64 projections where one serves
(`benchmarks/decoding.py` measures the gain). The weights are the model's own modules, used in
place; the encoder pass is transformers'. Beam search follows transformers' rules (2 x beams
continuations a step, length-normalised finished hypotheses, stop once `num_beams` have finished)
so it returns the same beams, which tests/test_decoding.py checks against `model.generate`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch
import torch.nn.functional as F

PLACEHOLDER = -1.0e9  # the score of a beam slot that holds nothing yet (transformers' convention)


def supports(model: Any) -> bool:
    """Whether `model` is a T5 this module can run (ours, or any T5ForConditionalGeneration)."""
    return type(model).__name__ == "T5ForConditionalGeneration"


class T5Inference:
    """The decoder of a T5ForConditionalGeneration, run by hand over its own modules."""

    def __init__(self, model: Any, eos_token_id: int):
        from transformers.models.t5.modeling_t5 import T5Attention

        cfg = model.config
        self.model = model
        self.blocks = list(model.decoder.block)
        first = self.blocks[0].layer[0].SelfAttention
        self.bias_table = first.relative_attention_bias
        self.num_buckets = first.relative_attention_num_buckets
        self.max_distance = first.relative_attention_max_distance
        self.heads, self.d_kv = first.n_heads, first.key_value_proj_dim
        self.bucket = T5Attention._relative_position_bucket
        scale = getattr(cfg, "scale_decoder_outputs", cfg.tie_word_embeddings)
        self.output_scale = cfg.d_model**-0.5 if scale else None
        self.start = cfg.decoder_start_token_id
        self.eos = eos_token_id

    # -- the network --------------------------------------------------------------------------------
    def encode(self, input_ids: torch.Tensor) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """Each decoder layer's cross-attention keys and values for one input (1, S): (1, H, S, d)."""
        hidden = self.model.get_encoder()(
            input_ids=input_ids, attention_mask=torch.ones_like(input_ids)
        ).last_hidden_state
        cross = []
        for block in self.blocks:
            attention = block.layer[1].EncDecAttention
            cross.append((self._split(attention.k(hidden)), self._split(attention.v(hidden))))
        return cross

    def _split(self, x: torch.Tensor) -> torch.Tensor:  # (B, L, H*d) -> (B, H, L, d)
        return x.view(x.shape[0], x.shape[1], self.heads, self.d_kv).transpose(1, 2)

    @staticmethod
    def _merge(x: torch.Tensor) -> torch.Tensor:  # (B, H, L, d) -> (B, L, H*d)
        return x.transpose(1, 2).reshape(x.shape[0], x.shape[2], -1)

    def _self_bias(self, length: int, past: int) -> torch.Tensor:
        """Relative position bias of `length` new positions after `past` cached ones, causal."""
        query = torch.arange(past, past + length)[:, None]
        key = torch.arange(past + length)[None, :]
        buckets = self.bucket(key - query, False, self.num_buckets, self.max_distance)
        bias = self.bias_table(buckets).permute(2, 0, 1).unsqueeze(0)  # (1, H, L, past+L)
        if length > 1:
            bias = bias.masked_fill(key > query, torch.finfo(bias.dtype).min)
        return bias

    def decode(
        self,
        tokens: torch.Tensor,
        cross: list[tuple[torch.Tensor, torch.Tensor]],
        cache: list[tuple[torch.Tensor, torch.Tensor]] | None = None,
    ) -> tuple[torch.Tensor, list[tuple[torch.Tensor, torch.Tensor]]]:
        """Logits for `tokens` (B, L) following `cache` (self-attention keys and values of the
        positions before them), and the cache extended by them. Cross-attention broadcasts the
        one input's keys and values over the B rows."""
        past = cache[0][0].shape[2] if cache else 0
        bias = self._self_bias(tokens.shape[1], past)
        x = self.model.decoder.embed_tokens(tokens)
        extended = []
        for i, block in enumerate(self.blocks):
            layer = block.layer[0]
            attention = layer.SelfAttention
            h = layer.layer_norm(x)
            q, k, v = self._split(attention.q(h)), self._split(attention.k(h)), self._split(attention.v(h))
            if cache:
                k, v = torch.cat([cache[i][0], k], 2), torch.cat([cache[i][1], v], 2)
            extended.append((k, v))
            x = x + attention.o(self._merge(_attend(q, k, v, bias)))
            layer = block.layer[1]
            attention = layer.EncDecAttention
            q = self._split(attention.q(layer.layer_norm(x)))
            x = x + attention.o(self._merge(_cross_attend(q, *cross[i])))
            x = block.layer[2](x)  # layer norm, feed-forward, residual
        x = self.model.decoder.final_layer_norm(x)
        if self.output_scale is not None:
            x = x * self.output_scale
        return self.model.lm_head(x), extended

    # -- what the agents ask ------------------------------------------------------------------------
    def score(self, cross: list[tuple[torch.Tensor, torch.Tensor]], labels: torch.Tensor) -> torch.Tensor:
        """Summed log-likelihood of each row of `labels` (N, L), padded with -100 after its end."""
        mask = labels != -100
        targets = labels.masked_fill(~mask, 0)
        start = torch.full((labels.shape[0], 1), self.start, dtype=labels.dtype)
        inputs = torch.cat([start, targets[:, :-1]], 1).masked_fill(
            torch.cat([torch.zeros_like(start, dtype=torch.bool), ~mask[:, :-1]], 1),
            self.model.config.pad_token_id,
        )
        logits, _ = self.decode(inputs, cross)
        picked = torch.log_softmax(logits.float(), -1).gather(-1, targets.unsqueeze(-1)).squeeze(-1)
        return (picked * mask).sum(-1)

    def beam_search(
        self,
        cross: list[tuple[torch.Tensor, torch.Tensor]],
        num_beams: int,
        num_return: int,
        max_new_tokens: int,
        allowed: Callable[[Sequence[int]], list[int]] | None = None,
    ) -> list[list[int]]:
        """The `num_return` best token sequences (eos included), best first. Each step keeps the
        2 x num_beams best continuations; those among the first num_beams that end (eos, or the
        length limit) are finished, scored by their log-likelihood over their length; the search
        stops once num_beams have finished. `allowed(prefix)` lists the tokens that may follow a
        prefix (constrained decoding); the others get -inf, as transformers' prefix constraint."""
        seqs = torch.full((num_beams, 1), self.start, dtype=torch.long)
        scores = torch.full((num_beams,), PLACEHOLDER)
        scores[0] = 0.0  # every beam starts as the same prefix: only the first is live
        finished: list[tuple[float, list[int]]] = []
        cache = None
        for step in range(max_new_tokens):
            logits, cache = self.decode(seqs[:, -1:], cross, cache)
            logp = torch.log_softmax(logits[:, -1].float(), -1)
            if allowed is not None:
                mask = torch.full_like(logp, float("-inf"))
                for row in range(num_beams):
                    mask[row, allowed(seqs[row, 1:].tolist())] = 0.0
                logp = logp + mask
            vocab = logp.shape[-1]
            top, index = (logp + scores[:, None]).view(-1).topk(2 * num_beams)
            beam, token = index // vocab, index % vocab
            last = step + 1 == max_new_tokens
            ends = (token == self.eos) | last
            for j in range(num_beams):
                if ends[j] and top[j] > PLACEHOLDER / 2:  # neither a placeholder's nor impossible
                    tokens = [*seqs[beam[j], 1:].tolist(), int(token[j])]
                    finished.append((float(top[j]) / (step + 1), tokens))
            finished.sort(key=lambda f: -f[0])
            del finished[num_beams:]
            if len(finished) >= num_beams or last:
                break
            running = top + ends.float() * PLACEHOLDER
            keep = running.topk(num_beams).indices
            source = beam[keep]
            scores = running[keep]
            if not bool((scores > PLACEHOLDER / 2).any()):
                break  # nothing live can finish with a finite score any more
            seqs = torch.cat([seqs[source], token[keep, None]], 1)
            cache = [(k.index_select(0, source), v.index_select(0, source)) for k, v in cache]
        return [tokens for _, tokens in finished[:num_return]]


def _attend(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, bias: torch.Tensor | None = None
) -> torch.Tensor:
    """T5 attention: no 1/sqrt(d) scaling; position bias (and causal mask) added to the scores."""
    weights = q @ k.transpose(-1, -2)
    if bias is not None:
        weights = weights + bias
    return F.softmax(weights, dim=-1) @ v


def _cross_attend(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """Attention of B rows' queries (B, H, L, d) over one input's keys and values (1, H, S, d), as
    one (H, B*L, S) product: a broadcast matmul would copy the keys and values B times."""
    rows, heads, length, d = q.shape
    folded = q.transpose(0, 1).reshape(heads, rows * length, d)
    out = F.softmax(folded @ k[0].transpose(-1, -2), dim=-1) @ v[0]
    return out.view(heads, rows, length, d).transpose(0, 1)
