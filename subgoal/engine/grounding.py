"""Grounding: turn what a model generated into an action the simulator accepts.

The beams are tried best-first for an exact match among the valid actions; failing that, the most
similar valid action to the best beam is taken (rapidfuzz; an optional sentence-embedding backend
lives behind the same interface). `avoid` holds actions known to change nothing in the current
state: a model that loops on `open door to kitchen` ("The door is already open.") is steered to
its next beam instead of repeating a no-op until the step limit (DESIGN.md, "Models").
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Protocol

from subgoal.errors import AgentError

METHODS = ("exact", "fuzzy", "embedding")


@dataclass(frozen=True)
class Grounded:
    action: str
    method: str  # "exact" | "fuzzy" | "embedding"
    beam: int  # index of the beam that produced it
    similarity: float  # 1.0 for an exact match, else the backend's score in [0, 1]


def normalize(text: str) -> str:
    """Case and whitespace do not make two actions different."""
    return " ".join(text.lower().split())


class Similarity(Protocol):
    name: str

    def best(self, query: str, choices: Sequence[str]) -> tuple[int, float]:
        """Index of the choice most similar to `query`, and its similarity in [0, 1]."""


class FuzzySimilarity:
    """Edit-distance similarity. `token_sort_ratio` forgives word order (`put a in b` vs the
    simulator's `move a to b` still shares its nouns) while exact wording scores highest."""

    name = "fuzzy"

    def best(self, query: str, choices: Sequence[str]) -> tuple[int, float]:
        from rapidfuzz import fuzz, process

        match = process.extractOne(query, choices, scorer=fuzz.token_sort_ratio, processor=None)
        if match is None:  # pragma: no cover - choices is never empty here
            return 0, 0.0
        _, score, index = match
        return int(index), float(score) / 100.0


class EmbeddingSimilarity:
    """Cosine similarity of sentence embeddings (needs `pip install "subgoal[embeddings]"` and a
    locally available model). Embeddings of valid actions are cached: the same few hundred phrases
    come back every step."""

    name = "embedding"

    def __init__(self, model: str = "all-MiniLM-L6-v2"):
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError:
            raise AgentError(
                'the embedding grounder needs sentence-transformers: pip install "subgoal[embeddings]"'
            ) from None
        try:
            self._model = SentenceTransformer(model)
        except Exception as exc:  # no network, no such model: one line, not a traceback
            raise AgentError(f"cannot load sentence-embedding model {model!r}: {exc}") from None
        self._cache: dict[str, object] = {}

    def _embed(self, texts: Sequence[str]):  # type: ignore[no-untyped-def]
        missing = [t for t in texts if t not in self._cache]
        if missing:
            for text, vector in zip(
                missing, self._model.encode(missing, normalize_embeddings=True), strict=True
            ):
                self._cache[text] = vector
        return [self._cache[t] for t in texts]

    def best(self, query: str, choices: Sequence[str]) -> tuple[int, float]:
        import numpy as np

        q = self._embed([query])[0]
        scores = np.stack(self._embed(list(choices))) @ q
        index = int(scores.argmax())
        return index, float(scores[index])


def make_similarity(name: str) -> Similarity:
    if name == "fuzzy":
        return FuzzySimilarity()
    if name == "embedding":
        return EmbeddingSimilarity()
    raise AgentError(f"unknown grounding backend {name!r}; choose fuzzy or embedding")


class Grounder:
    def __init__(self, similarity: Similarity | str = "fuzzy"):
        self.similarity = make_similarity(similarity) if isinstance(similarity, str) else similarity

    def ground(
        self, beams: Sequence[str], valid: Sequence[str], avoid: Collection[str] = ()
    ) -> Grounded | None:
        """The action to take for `beams` (best first), or None when there is nothing to choose
        from (no valid action that is not avoided)."""
        avoided = {normalize(a) for a in avoid}
        allowed = {}
        for action in valid:
            key = normalize(action)
            if key not in avoided:
                allowed.setdefault(key, action)
        if not allowed:
            return None
        for rank, beam in enumerate(beams):
            hit = allowed.get(normalize(beam))
            if hit is not None:
                return Grounded(hit, "exact", rank, 1.0)
        if not beams or not any(b.strip() for b in beams):
            return None
        rank = next(i for i, b in enumerate(beams) if b.strip())
        keys = list(allowed)
        index, score = self.similarity.best(normalize(beams[rank]), keys)
        return Grounded(allowed[keys[index]], self.similarity.name, rank, score)
