"""The one folder where every artefact lives: oracle/, annotated/, checkpoints/, runs/, cache/."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from subgoal.errors import OutputPathError

ENV_VAR = "SUBGOAL_HOME"
DEFAULT = "workspace"


@dataclass(frozen=True)
class Workspace:
    root: Path

    @classmethod
    def from_env(cls, root: str | os.PathLike[str] | None = None) -> Workspace:
        return cls(Path(root or os.environ.get(ENV_VAR) or DEFAULT).expanduser())

    @property
    def oracle(self) -> Path:
        return self.root / "oracle"

    @property
    def annotated(self) -> Path:
        return self.root / "annotated"

    @property
    def checkpoints(self) -> Path:
        return self.root / "checkpoints"

    @property
    def runs(self) -> Path:
        return self.root / "runs"

    @property
    def cache(self) -> Path:
        return self.root / "cache"

    def oracle_file(self, split: str) -> Path:
        return self.oracle / f"{split}.jsonl.gz"

    def annotated_file(self, split: str, teacher: str = "rules") -> Path:
        return self.annotated / f"{split}.{teacher}.jsonl.gz"


def workspace_of(ctx: Any) -> Workspace:
    """The workspace the `subgoal` callback put on a command's (Typer) context, else the default."""
    obj = ctx.find_root().obj
    return obj if isinstance(obj, Workspace) else Workspace.from_env()


def ensure_dir(path: Path) -> Path:
    """Create `path` (a folder) or fail with one line saying why."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputPathError(f"cannot create {path}: {exc.strerror or exc}") from None
    if not os.access(path, os.W_OK):
        raise OutputPathError(f"cannot write to {path}: permission denied")
    return path
