"""The models: a BPE tokenizer trained on the corpus, T5 presets built from scratch, any existing
seq2seq model by path or hub id, and `Policy`, a loaded checkpoint that turns inputs into beams.

No weights can be downloaded here, so the default is a T5 trained from scratch. Two facts shape the
tokenizer: its post-processor appends `</s>` to every encoded text, targets included (without it a
model never learns to stop), and `</s>` is a special token that swallows the spaces around it, since
inputs are `</s>`-separated. T5 runs in bf16 or fp32, never fp16. Loading never unpickles:
safetensors only.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from subgoal.errors import CheckpointError, TrainingError

if TYPE_CHECKING:  # pragma: no cover
    import torch
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

PAD, EOS, UNK = "<pad>", "</s>", "<unk>"
DEFAULT_VOCAB = 2048
# The paper's budget. Measured on 290 annotated train episodes (docs/RESULTS.md, "Training"), inputs are
# p50 ~450-490 tokens for every role; p99 is 817 (executor), 1299 (flat), 1547 (planner): render()
# shortens the history, then the look, of the 5-10 % of planner and ~3 % of flat inputs above it.
DEFAULT_MAX_INPUT_TOKENS = 1024
DEFAULT_MAX_TARGET_TOKENS = 32
PUNCT_PIECES = r"[(),'\"]"


def splits_punctuation(tokenizer: Any) -> bool:
    """Whether `tokenizer` is ours (train_tokenizer), whose decoding puts a space around brackets."""
    backend = getattr(tokenizer, "backend_tokenizer", None)
    return backend is not None and "Split" in str(backend.pre_tokenizer)


def tidy_decoded(text: str) -> str:
    """Undo the spaces our pre-tokenizer adds: each bracket, comma or quote piece decodes with one
    space before it, and a word after an opening bracket with one space (`navigate_to ( kitchen )`
    -> `navigate_to(kitchen)`; `book  (sherlock` keeps its real space)."""
    import re

    text = re.sub(r" ([(),'\"])", r"\1", text)
    text = re.sub(r"\( ", "(", text)
    return " ".join(text.split())


@dataclass(frozen=True)
class Preset:
    d_model: int
    d_ff: int
    num_layers: int
    num_heads: int
    d_kv: int = 64
    feed_forward_proj: str = "gated-gelu"  # T5 v1.1 / Flan-T5


# tiny: ~8 M parameters with the corpus tokenizer, trains on CPU in minutes. small/base/large: the
# shapes of T5 v1.1 (the family of the paper's flan-t5-large).
PRESETS: dict[str, Preset] = {
    "tiny": Preset(d_model=256, d_ff=768, num_layers=4, num_heads=4),
    "small": Preset(d_model=512, d_ff=1024, num_layers=8, num_heads=6),
    "base": Preset(d_model=768, d_ff=2048, num_layers=12, num_heads=12),
    "large": Preset(d_model=1024, d_ff=2816, num_layers=24, num_heads=16),
    # mini: ~3.4 M parameters with the corpus tokenizer, 1.9x tiny's examples/s on one core
    # (benchmarks/train.py, 256-token inputs): more epochs in the CPU
    # protocol's minutes for models that rank candidates rather than spell actions.
    "mini": Preset(d_model=192, d_ff=512, num_layers=3, num_heads=4, d_kv=48),
}


def get_preset(name: str) -> Preset:
    try:
        return PRESETS[name]
    except KeyError:
        raise TrainingError(f"unknown preset {name!r}; choose one of {', '.join(PRESETS)}") from None


# --- tokenizer ------------------------------------------------------------------------------------


def train_tokenizer(texts: Iterable[str], vocab_size: int = DEFAULT_VOCAB) -> PreTrainedTokenizerBase:
    """A byte-level BPE tokenizer trained on `texts`, appending `</s>` to everything it encodes."""
    from tokenizers import (
        AddedToken,
        Regex,
        Tokenizer,
        decoders,
        models,
        pre_tokenizers,
        processors,
        trainers,
    )
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE(unk_token=UNK))
    # Names must tokenize alike wherever they appear: `navigate_to(greenhouse)`, `go to greenhouse`
    # and a look's "the greenhouse" all give `Ġgreenhouse`. So brackets, commas and quotes are
    # pieces of their own, and every piece starts with a space (a from-scratch T5 has no copy
    # mechanism: a name it cannot reuse token for token, it must learn to spell).
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(PUNCT_PIECES), behavior="isolated"),
            pre_tokenizers.ByteLevel(add_prefix_space=True),
        ]
    )
    tok.decoder = decoders.ByteLevel()
    specials = [
        AddedToken(PAD, special=True),
        AddedToken(EOS, lstrip=True, rstrip=True, special=True),  # " </s> " is one token
        AddedToken(UNK, special=True),
    ]
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=specials,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(texts, trainer)
    tok.post_processor = processors.TemplateProcessing(
        single=f"$A {EOS}", special_tokens=[(EOS, tok.token_to_id(EOS))]
    )
    return PreTrainedTokenizerFast(tokenizer_object=tok, pad_token=PAD, eos_token=EOS, unk_token=UNK)


def token_counter(tokenizer: Any, backend: Any = None) -> Callable[[str], int]:
    """The exact number of input tokens of a text (its `</s>` included), as `tokenizer(text)` counts
    them, but fast: a render tries a few cut-downs of every input to fit the budget, and a full
    encode of each took most of the minutes of preparing a role's examples. Our tokenizer
    (train_tokenizer) cuts `</s>` out first (stripping the spaces beside it) and makes each bracket,
    comma or quote a pre-token of its own, so the pieces between them are encoded independently:
    each distinct piece is encoded once and remembered. Another tokenizer: a full encode each time.
    `backend`: a private copy of the tokenizer's Rust core to encode with (batching.py: one no other
    thread touches)."""
    if not splits_punctuation(tokenizer):
        if backend is not None:
            return lambda text: len(backend.encode(text).ids)
        return lambda text: len(tokenizer(text)["input_ids"])
    import re

    if backend is None:
        backend = tokenizer.backend_tokenizer
    between = re.compile(PUNCT_PIECES.join("()"))  # a capturing split keeps each bracket as a piece
    known: dict[str, int] = {}

    def count(text: str) -> int:
        parts = text.split(EOS)
        n = len(parts)  # a </s> between parts, and the one appended
        for part in parts:
            for piece in between.split(part.strip()):
                if piece:
                    if piece not in known:
                        if len(known) > 500_000:  # a long game's observations: stay bounded
                            known.clear()
                        known[piece] = len(backend.encode(piece, add_special_tokens=False).ids)
                    n += known[piece]
        return n

    return count


def check_tokenizer(tokenizer: PreTrainedTokenizerBase) -> None:
    """A seq2seq tokenizer must pad and must end targets with EOS, or the model never stops."""
    if tokenizer.pad_token_id is None or tokenizer.eos_token_id is None:
        raise TrainingError("the tokenizer has no pad or eos token: it cannot train a seq2seq model")
    ids = tokenizer(text_target="go to kitchen")["input_ids"]
    if not ids or ids[-1] != tokenizer.eos_token_id:
        raise TrainingError(
            "the tokenizer does not append its eos token to targets: the model could not stop"
        )


# --- models -----------------------------------------------------------------------------------------


T5_DROPOUT = 0.1  # T5's own
# No dropout for a model trained from scratch here: its random masks took a fifth of a CPU step, and
# without them each role learnt as much or more per example seen (docs/RESULTS.md §17) in runs of
# a few epochs, too short to over-fit.
DEFAULT_DROPOUT = 0.0


def build_model(
    preset: str, tokenizer: PreTrainedTokenizerBase, dropout: float = DEFAULT_DROPOUT
) -> PreTrainedModel:
    """A randomly initialised T5 of `preset` for `tokenizer` (fp32; autocast handles bf16)."""
    from transformers import T5Config, T5ForConditionalGeneration

    p = get_preset(preset)
    config = T5Config(
        vocab_size=len(tokenizer),
        d_model=p.d_model,
        d_ff=p.d_ff,
        d_kv=p.d_kv,
        num_layers=p.num_layers,
        num_heads=p.num_heads,
        feed_forward_proj=p.feed_forward_proj,
        dropout_rate=dropout,
        pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id,
        decoder_start_token_id=tokenizer.pad_token_id,
    )
    return T5ForConditionalGeneration(config)


def count_parameters(model: Any) -> int:
    return sum(p.numel() for p in model.parameters())


def quiet_transformers() -> None:
    """No per-shard progress bars or advice from transformers: our own progress is on stderr."""
    from transformers.utils import logging

    logging.disable_progress_bar()
    logging.set_verbosity_error()


def _offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes")


def load_pretrained(model_id: str) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    """Any existing seq2seq model with its own tokenizer, from a folder or a hub id.

    A folder or a model already in the Hugging Face cache loads offline; anything else needs a
    network, and the error says so in one line.
    """
    from transformers import AutoConfig, AutoModelForSeq2SeqLM, AutoTokenizer

    quiet_transformers()
    local = Path(model_id).expanduser()
    source = str(local) if local.exists() else model_id
    attempts = [True] if local.exists() or _offline() else [True, False]
    config = None
    last: Exception | None = None
    for local_only in attempts:
        try:
            config = AutoConfig.from_pretrained(source, local_files_only=local_only)
            break
        except (OSError, ValueError) as exc:
            last = exc
    if config is None:
        where = (
            "that folder has no model config"
            if local.exists()
            else "it is not a local folder nor in the Hugging Face cache"
        )
        raise TrainingError(
            f"cannot load model {model_id!r}: {where}, and downloads are impossible without a network"
            + (f" ({type(last).__name__})" if last else "")
        )
    if not getattr(config, "is_encoder_decoder", False):
        raise TrainingError(
            f"{model_id!r} is a {config.model_type} model, not a sequence-to-sequence one (e.g. T5, BART)"
        )
    try:
        tokenizer = AutoTokenizer.from_pretrained(source, local_files_only=True)
        model = AutoModelForSeq2SeqLM.from_pretrained(source, local_files_only=True, use_safetensors=True)
    except ValueError as exc:
        raise TrainingError(
            f"{model_id!r} cannot load as a seq2seq model: {str(exc).splitlines()[0]}"
        ) from None
    except OSError as exc:
        raise TrainingError(
            f"cannot load {model_id!r} (safetensors weights and tokenizer are needed): {str(exc).splitlines()[0]}"
        ) from None
    if model.config.decoder_start_token_id is None:
        model.config.decoder_start_token_id = tokenizer.pad_token_id
    return model, tokenizer


def pick_device(device: str | None = None) -> torch.device:
    """ "cuda" / "cpu" / None (CUDA when present). Asking for CUDA without one is an error."""
    import torch

    if device in (None, "auto"):
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise TrainingError(
            f"device {device!r} asked for, but this machine has no CUDA GPU (torch sees none)"
        )
    try:
        return torch.device(device)
    except RuntimeError:
        raise TrainingError(f"unknown device {device!r}; use cpu, cuda or cuda:N") from None


# --- a trained checkpoint, ready to act --------------------------------------------------------------


def _trie(sequences: list[list[int]]) -> dict:
    root: dict = {}
    for ids in sequences:
        node = root
        for token in ids:
            node = node.setdefault(token, {})
    return root


def _trie_allowed(trie: dict, eos: int):  # type: ignore[no-untyped-def]
    """The tokens that continue some allowed text after `tokens` (eos where none does)."""

    def allowed(tokens: list[int]) -> list[int]:
        node = trie
        for token in tokens:
            node = node.get(token)
            if node is None:
                return [eos]
        return list(node) or [eos]

    return allowed


def _trie_constraint(tries: list[dict], eos: int):  # type: ignore[no-untyped-def]
    """transformers' prefix_allowed_tokens_fn over one trie per input."""
    each = [_trie_allowed(trie, eos) for trie in tries]

    def allowed(batch_id: int, prefix: Any) -> list[int]:
        return each[batch_id](prefix.tolist()[1:])  # the first is the decoder start token

    return allowed


class Policy:
    """A checkpoint loaded for inference: seq2seq model + tokenizer + manifest."""

    def __init__(self, model: Any, tokenizer: Any, manifest: dict[str, Any], device: torch.device):
        self.model = model
        self.tokenizer = tokenizer
        self.manifest = manifest
        self.device = device
        self.max_input_tokens = int(manifest.get("max_input_tokens", DEFAULT_MAX_INPUT_TOKENS))
        self._count: Callable[[str], int] | None = None  # token_counter, made on first use
        # One input at a time on a CPU: our own T5 decoding (decoding.py), the encoder run once per
        # input text however often it is asked about (the planner asks twice, freely then
        # constrained; the executor scores). Elsewhere (a GPU, another model family) transformers'.
        self.fast: Any = None
        self._encoded: tuple[str, Any] | None = None
        from subgoal.engine import decoding

        on_cpu = getattr(device, "type", None) == "cpu"
        if on_cpu and decoding.supports(model) and tokenizer.eos_token_id is not None:
            self.fast = decoding.T5Inference(model, tokenizer.eos_token_id)

    @property
    def role(self) -> str:
        return str(self.manifest.get("role", ""))

    @classmethod
    def load(cls, path: str | os.PathLike[str], device: str | None = None) -> Policy:
        """Load a checkpoint folder (safetensors only; nothing is unpickled)."""
        import torch
        from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

        from subgoal.checkpoints import read_manifest

        manifest = read_manifest(path)
        quiet_transformers()
        dev = pick_device(device)
        dtype = torch.bfloat16 if dev.type == "cuda" and torch.cuda.is_bf16_supported() else torch.float32
        try:
            tokenizer = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
            model = AutoModelForSeq2SeqLM.from_pretrained(
                str(path), local_files_only=True, use_safetensors=True, dtype=dtype
            )
        except (OSError, ValueError) as exc:
            raise CheckpointError(f"{path}: cannot load the model ({str(exc).splitlines()[0]})") from None
        model.to(dev).eval()
        return cls(model, tokenizer, manifest, dev)

    def count_tokens(self, text: str) -> int:
        if self._count is None:
            self._count = token_counter(self.tokenizer)
        return self._count(text)

    def fits(self, text: str) -> bool:
        """Whether `text` fits the input budget (pass to `examples.render` as `budget`)."""
        return self.count_tokens(text) <= self.max_input_tokens

    def generate(
        self,
        inputs: list[str],
        num_beams: int = 5,
        num_return: int = 5,
        max_new_tokens: int = 32,
        allowed: list[list[str]] | None = None,
    ) -> list[list[str]]:
        """For each input, `num_return` decoded beams, best first, whitespace normalised (one batched
        call). With `allowed` (one list per input), each output is one of those texts: beam search
        constrained to a trie of their tokens, so a small model chooses among names it could not
        spell reliably, at the cost of one free generation."""
        import torch

        if not inputs:
            return []
        num_return = min(num_return, num_beams)
        if self.fast is not None:
            return [
                self._generate_one(
                    text, num_beams, num_return, max_new_tokens, None if allowed is None else allowed[i]
                )
                for i, text in enumerate(inputs)
            ]
        batch = self.tokenizer(
            inputs, padding=True, truncation=True, max_length=self.max_input_tokens, return_tensors="pt"
        ).to(self.device)
        constrain = None
        if allowed is not None:
            tries = [
                _trie(self.tokenizer(text_target=texts)["input_ids"]) if texts else {} for texts in allowed
            ]
            constrain = _trie_constraint(tries, self.tokenizer.eos_token_id)
            num_return = min(num_return, max(1, min(len(texts) for texts in allowed)))
        with torch.inference_mode():
            out = self.model.generate(
                **batch,
                num_beams=num_beams,
                num_return_sequences=num_return,
                max_new_tokens=max_new_tokens,
                do_sample=False,
                early_stopping=num_beams > 1,
                prefix_allowed_tokens_fn=constrain,
            )
        texts = self._decode(out)
        return [texts[i * num_return : (i + 1) * num_return] for i in range(len(inputs))]

    def score(self, source: str, candidates: list[str]) -> list[float]:
        """Log-likelihood of each candidate output given `source` (summed over its tokens, `</s>`
        included): one encoder pass, one batched decoder pass. Choosing among a few well-formed
        candidates asks far less of a small model than spelling an action out."""
        import torch

        if not candidates:
            return []
        if self.fast is not None:
            labels = self.tokenizer(text_target=candidates, padding=True, return_tensors="pt")["input_ids"]
            labels = labels.masked_fill(labels == self.tokenizer.pad_token_id, -100)
            with torch.inference_mode():
                return self.fast.score(self._cross(source), labels).tolist()
        enc = self.tokenizer(
            [source], truncation=True, max_length=self.max_input_tokens, return_tensors="pt"
        ).to(self.device)
        labels = self.tokenizer(text_target=candidates, padding=True, return_tensors="pt")["input_ids"]
        labels = labels.to(self.device)
        mask = labels != self.tokenizer.pad_token_id
        n = len(candidates)
        with torch.inference_mode():
            hidden = self.model.get_encoder()(**enc).last_hidden_state
            out = self.model(
                encoder_outputs=(hidden.expand(n, -1, -1),),
                attention_mask=enc["attention_mask"].expand(n, -1),
                labels=labels.masked_fill(~mask, -100),
            )
            logp = torch.log_softmax(out.logits.float(), dim=-1)
            picked = logp.gather(-1, labels.unsqueeze(-1)).squeeze(-1)
            return (picked * mask).sum(-1).tolist()

    def _cross(self, text: str) -> Any:
        """The fast decoder's cross-attention keys and values for `text`, computed once per text."""
        import torch

        if self._encoded is None or self._encoded[0] != text:
            ids = self.tokenizer(
                [text], truncation=True, max_length=self.max_input_tokens, return_tensors="pt"
            )["input_ids"]
            with torch.inference_mode():
                self._encoded = (text, self.fast.encode(ids))
        return self._encoded[1]

    def _generate_one(
        self, text: str, num_beams: int, num_return: int, max_new_tokens: int, allowed: list[str] | None
    ) -> list[str]:
        import torch

        constrain = None
        if allowed is not None:
            trie = _trie(self.tokenizer(text_target=allowed)["input_ids"]) if allowed else {}
            constrain = _trie_allowed(trie, self.tokenizer.eos_token_id)
            num_return = min(num_return, max(1, len(allowed)))
        with torch.inference_mode():
            found = self.fast.beam_search(self._cross(text), num_beams, num_return, max_new_tokens, constrain)
        return self._decode(found)

    def _decode(self, sequences: Any) -> list[str]:
        """Token sequences as text, whitespace normalised (and our tokenizer's bracket spaces undone)."""
        decoded = self.tokenizer.batch_decode(
            sequences, skip_special_tokens=True, clean_up_tokenization_spaces=False
        )
        tidy = tidy_decoded if splits_punctuation(self.tokenizer) else (lambda t: " ".join(t.split()))
        return [tidy(t) for t in decoded]
