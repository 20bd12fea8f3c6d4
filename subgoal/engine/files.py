"""Writing a file or a folder so that a reader never sees half of it: into a hidden temporary one
beside it, then a rename. An interrupted job leaves the old one or the new one, never a torn one."""

from __future__ import annotations

import errno
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from subgoal.errors import OutputPathError


@contextmanager
def replacing(path: str | os.PathLike[str], binary: bool = False) -> Iterator[IO[Any]]:
    """A file to write PATH's new content into; it becomes PATH when the block ends, and is
    deleted if the block raises. Folders are made as needed."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb" if binary else "w", **({} if binary else {"encoding": "utf-8"})) as fh:
            yield fh
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_atomic(path: str | os.PathLike[str], data: str | bytes) -> None:
    """PATH holds DATA, written whole or not at all."""
    with replacing(path, binary=isinstance(data, bytes)) as fh:
        fh.write(data)


def replace_folder(build: Callable[[Path], None], target: Path) -> None:
    """Let BUILD fill a folder beside TARGET, then swap it in, so TARGET is always whole."""
    new, old = target.with_name(target.name + ".new"), target.with_name(target.name + ".old")
    shutil.rmtree(new, ignore_errors=True)
    new.mkdir(parents=True)
    try:
        build(new)
    except OSError as exc:
        shutil.rmtree(new, ignore_errors=True)
        if exc.errno == errno.ENOSPC:
            raise OutputPathError(
                f"out of disk space writing {target}; free some and re-run to resume"
            ) from None
        raise
    if target.exists():
        target.rename(old)
    new.rename(target)
    shutil.rmtree(old, ignore_errors=True)
