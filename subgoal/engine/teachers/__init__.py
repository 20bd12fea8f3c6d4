"""Teachers: whatever splits a gold path into sub-goals.

A teacher reads one oracle episode and returns contiguous spans `{name, start, end}` covering every
gold step, and what that cost. `rules` (offline, deterministic) is the default; `openai` asks any
OpenAI-compatible server. Heavy clients are imported by the teacher that needs them, not here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from subgoal.engine.episode import Episode, SubgoalSpan
from subgoal.errors import TeacherError


@dataclass
class Usage:
    """What annotating cost: requests sent, answers read from the cache, and tokens."""

    requests: int = 0
    cache_hits: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0

    def add(self, other: Usage) -> None:
        self.requests += other.requests
        self.cache_hits += other.cache_hits
        self.prompt_tokens += other.prompt_tokens
        self.completion_tokens += other.completion_tokens


@dataclass
class Annotation:
    spans: list[SubgoalSpan]
    teacher: str  # what made the spans, recorded in the episode: "rules", "openai:gpt-4o-mini"
    usage: Usage = field(default_factory=Usage)
    note: str | None = None  # why a fallback teacher was used, when one was


class AnnotationFailed(TeacherError):
    """An episode the teacher could not annotate, and what trying cost (it is paid all the same)."""

    def __init__(self, message: str, usage: Usage):
        super().__init__(message)
        self.usage = usage


class Teacher(Protocol):
    name: str  # short id, used in file names: "rules", "openai"

    @property
    def identity(self) -> str:
        """What the spans come from, model included; an output file holds one identity only."""
        ...

    def annotate(self, episode: Episode) -> Annotation:
        """Spans covering every step of `episode`; raises TeacherError when it cannot."""
        ...
