"""Where checkpoints live and what they say about themselves.

A checkpoint is a folder `WORKSPACE/checkpoints/<name>/` holding a Hugging Face `save_pretrained`
model (safetensors), its tokenizer, `manifest.json` (role, preset or base model, parameters, data
hashes, seed, versions, best dev metrics, training time, tokenizer hash) and `log.jsonl` (the
training figures). A folder without `manifest.json` is not a checkpoint: training writes into a
hidden staging folder and renames it into place at the very end, so nothing half-written ever looks
complete. This module imports no torch, so `subgoal checkpoints list` answers at once.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import os
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from subgoal.errors import CheckpointError
from subgoal.workspace import Workspace

MANIFEST = "manifest.json"
LOG = "log.jsonl"
FORMAT = "subgoal.checkpoint"
VERSION = 1


@dataclass(frozen=True)
class CheckpointInfo:
    name: str
    path: Path
    manifest: dict[str, Any]

    @property
    def role(self) -> str:
        return str(self.manifest.get("role", "?"))


def is_checkpoint(path: Path) -> bool:
    return (path / MANIFEST).is_file()


def read_manifest(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The manifest of the checkpoint folder `path` (one-line CheckpointError if absent or bad)."""
    file = Path(path) / MANIFEST
    try:
        data = json.loads(file.read_text())
    except FileNotFoundError:
        raise CheckpointError(f"{path} is not a checkpoint: it has no {MANIFEST}") from None
    except (OSError, ValueError) as exc:
        raise CheckpointError(f"{file}: unreadable manifest ({exc})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise CheckpointError(f"{file}: not a {FORMAT} manifest")
    if data.get("version", 0) > VERSION:
        raise CheckpointError(f"{file}: manifest version {data['version']} is newer than this subgoal")
    return data


def write_manifest(path: Path, manifest: dict[str, Any]) -> None:
    data = {"format": FORMAT, "version": VERSION, **manifest}
    (path / MANIFEST).write_text(json.dumps(data, indent=2, sort_keys=False) + "\n")


def list_checkpoints(workspace: Workspace) -> list[CheckpointInfo]:
    """Complete checkpoints of the workspace, by name (staging folders and strays are skipped)."""
    root = workspace.checkpoints
    if not root.is_dir():
        return []
    found = []
    for path in sorted(root.iterdir()):
        if path.name.startswith(".") or not is_checkpoint(path):
            continue
        try:
            found.append(CheckpointInfo(path.name, path, read_manifest(path)))
        except CheckpointError:
            continue
    return found


def resolve(name_or_path: str | os.PathLike[str], workspace: Workspace) -> Path:
    """A checkpoint folder from a name in the workspace (`planner-tiny`) or a path to one."""
    text = str(name_or_path)
    candidates = [Path(text).expanduser()]
    if "/" not in text and os.sep not in text:
        candidates.insert(0, workspace.checkpoints / text)
    for path in candidates:
        if is_checkpoint(path):
            return path
    names = [c.name for c in list_checkpoints(workspace)]
    close = difflib.get_close_matches(text, names, n=3, cutoff=0.5)
    hint = f"; did you mean {', '.join(close)}?" if close else "; `subgoal checkpoints list` shows them"
    raise CheckpointError(f"unknown checkpoint {text!r} (not in {workspace.checkpoints}, not a path){hint}")


def remove(name_or_path: str, workspace: Workspace) -> Path:
    path = resolve(name_or_path, workspace)
    shutil.rmtree(path)
    return path


def staging_dir(workspace: Workspace, name: str) -> Path:
    """The hidden folder where checkpoint `name` is built (and a run's resumable state is kept)."""
    return workspace.checkpoints / f".{name}.training"


def publish(built: Path, final: Path) -> Path:
    """Move a finished checkpoint folder into place in one rename (manifest written last)."""
    if not is_checkpoint(built):
        raise CheckpointError(f"{built} has no {MANIFEST}: refusing to publish a partial checkpoint")
    if final.exists():
        raise CheckpointError(
            f"checkpoint {final.name} already exists; `subgoal checkpoints rm {final.name}`"
        )
    os.replace(built, final)
    return final


def file_hash(paths: Iterable[Path]) -> str:
    """sha256 over the bytes of `paths` in order (short hex), for data and tokenizer identity."""
    digest = hashlib.sha256()
    for path in paths:
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
    return digest.hexdigest()[:16]


def read_log(path: Path) -> list[dict[str, Any]]:
    file = path / LOG
    if not file.exists():
        return []
    return [json.loads(line) for line in file.read_text().splitlines() if line.strip()]
