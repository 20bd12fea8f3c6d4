"""Where checkpoints live and what they say about themselves.

A checkpoint is a folder `WORKSPACE/checkpoints/<name>/` holding a Hugging Face `save_pretrained`
model (safetensors), its tokenizer, `manifest.json` (role, preset or base model, parameters, data
hashes, seed, versions, best dev metrics, training time, tokenizer hash), `log.jsonl` (the
training figures) and, once `subgoal checkpoints show` has drawn them, `curves.svg`. A folder without `manifest.json` is not a checkpoint: training writes into a
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

from subgoal.engine.files import write_atomic
from subgoal.errors import CheckpointError
from subgoal.workspace import Workspace

MANIFEST = "manifest.json"
LOG = "log.jsonl"
WEIGHTS = "model.safetensors"
WEIGHTS_INDEX = "model.safetensors.index.json"  # save_pretrained's list of shards, for big models
FORMAT = "subgoal.checkpoint"
VERSION = 1


@dataclass(frozen=True)
class CheckpointInfo:
    name: str
    path: Path
    manifest: dict[str, Any]
    problem: str | None = None  # why it cannot be loaded (None: it can)

    @property
    def role(self) -> str:
        return str(self.manifest.get("role", "?"))

    @property
    def broken(self) -> bool:
        return self.problem is not None


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
    write_atomic(path / MANIFEST, json.dumps(data, indent=2, sort_keys=False) + "\n")


def list_checkpoints(workspace: Workspace) -> list[CheckpointInfo]:
    """Checkpoints of the workspace, by name, broken ones included with their problem (staging
    folders and folders without a manifest are skipped)."""
    root = workspace.checkpoints
    if not root.is_dir():
        return []
    found = []
    for path in sorted(root.iterdir()):
        if path.name.startswith(".") or not is_checkpoint(path):
            continue
        try:
            manifest = read_manifest(path)
        except CheckpointError as exc:
            found.append(CheckpointInfo(path.name, path, {}, str(exc)))
            continue
        found.append(CheckpointInfo(path.name, path, manifest, weights_problem(path)))
    return found


def weights_problem(path: str | os.PathLike[str]) -> str | None:
    """What keeps the weights of checkpoint `path` from loading, or None. Reads only the safetensors
    headers (no torch): a copy cut short, the usual damage, is shorter than its header says."""
    path = Path(path)
    shards = [WEIGHTS]
    if (path / WEIGHTS_INDEX).is_file():
        try:
            shards = sorted(set(json.loads((path / WEIGHTS_INDEX).read_text())["weight_map"].values()))
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            return f"{WEIGHTS_INDEX} is unreadable ({exc})"
    for shard in shards:
        problem = _safetensors_problem(path / shard)
        if problem:
            return problem
    return None


def _safetensors_problem(file: Path) -> str | None:
    """A safetensors file is an 8-byte header length, a JSON header, then exactly the tensors' bytes."""
    try:
        size = file.stat().st_size
        with open(file, "rb") as fh:
            length = int.from_bytes(fh.read(8), "little")
            if size < 8 or length > size - 8:
                return f"{file.name} is truncated ({size} bytes, not even its header)"
            header = json.loads(fh.read(length))
        end = max((t["data_offsets"][1] for k, t in header.items() if k != "__metadata__"), default=0)
    except FileNotFoundError:
        return f"it has no {file.name}"
    except (OSError, ValueError, KeyError, TypeError, IndexError, AttributeError) as exc:
        return f"{file.name} has an unreadable header ({type(exc).__name__})"
    expected = 8 + length + int(end)
    if size < expected:
        return f"{file.name} is truncated ({size} of {expected} bytes)"
    if size > expected:
        return f"{file.name} holds {size - expected} bytes more than its header describes"
    return None


def check_weights(path: str | os.PathLike[str]) -> None:
    """One-line CheckpointError if the weights of checkpoint `path` cannot load (before torch does)."""
    problem = weights_problem(path)
    if problem:
        raise CheckpointError(
            f"checkpoint {path} is broken: {problem}; train it again or remove it "
            f"(`subgoal checkpoints rm {path}`)"
        )


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
