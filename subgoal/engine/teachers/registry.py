"""The teachers `--teacher` can name, keyed by that name: each declares its help, what its spans
are recorded as, and how it is built. A new teacher is one entry here (and its module)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from subgoal.engine.teachers import Teacher
from subgoal.errors import TeacherError

if TYPE_CHECKING:
    from subgoal.engine.teachers.openai import Settings


@dataclass(frozen=True)
class TeacherKind:
    """A teacher `--teacher` can name: a line of help, what its spans are recorded as (`identity`,
    known before it is built: a dry run builds nothing), and how it is built from the LLM settings
    and the answer cache folder (a teacher that asks nothing ignores both)."""

    name: str
    help: str
    identity: Callable[[Settings], str]
    build: Callable[[Settings, Path | None], Teacher]
    asks: bool  # asks a server: it has a model, a price, a cache and a dry-run estimate


def _rules(settings: Settings, cache: Path | None) -> Teacher:
    from subgoal.engine.teachers.rules import RulesTeacher

    return RulesTeacher()


def _openai(settings: Settings, cache: Path | None) -> Teacher:
    from subgoal.engine.teachers.cache import RequestCache
    from subgoal.engine.teachers.openai import OpenAITeacher  # the openai client loads only here

    return OpenAITeacher(settings, RequestCache(cache))


TEACHERS: dict[str, TeacherKind] = {
    kind.name: kind
    for kind in (
        TeacherKind("rules", "offline", lambda _settings: "rules", _rules, asks=False),
        TeacherKind("openai", "any compatible server", lambda s: f"openai:{s.model}", _openai, asks=True),
    )
}


def teacher_kind(name: str) -> TeacherKind:
    if name not in TEACHERS:
        raise TeacherError(f"unknown teacher {name!r}; choose one of {', '.join(TEACHERS)}")
    return TEACHERS[name]
