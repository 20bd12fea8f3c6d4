"""A disk cache of LLM answers, keyed by a hash of the whole request.

The teacher keeps only the answers it accepted, and forgets a kept one that no longer passes (an
older version's), so a rejected answer never stands between a re-run and a new request.

The key covers everything that shapes the answer (model, messages, sampling parameters) and nothing
that does not: not the server's address, so the same model behind another URL reuses answers, and
never the API key, which is not part of the request and is never written. One JSON file per request,
written atomically, so parallel workers and interrupted runs cannot leave half a file behind.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from subgoal.engine.files import replacing
from subgoal.errors import TeacherUnavailable


def request_key(request: dict[str, Any]) -> str:
    canonical = json.dumps(request, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


class RequestCache:
    def __init__(self, folder: Path | None):
        self.folder = folder  # None: caching off

    def _path(self, key: str) -> Path:
        assert self.folder is not None
        return self.folder / key[:2] / f"{key}.json"

    def get(self, request: dict[str, Any]) -> dict[str, Any] | None:
        if self.folder is None:
            return None
        try:
            record = json.loads(self._path(request_key(request)).read_text())
        except (OSError, ValueError):
            return None  # absent, or damaged: ask again and overwrite it
        answer = record.get("answer") if isinstance(record, dict) else None
        return answer if isinstance(answer, dict) else None

    def __contains__(self, request: dict[str, Any]) -> bool:
        return self.get(request) is not None

    def drop(self, request: dict[str, Any]) -> None:
        """Forget the answer to `request` (one that is no longer accepted)."""
        if self.folder is None:
            return
        try:
            self._path(request_key(request)).unlink(missing_ok=True)
        except OSError as exc:
            raise self._unwritable(exc) from None

    def put(self, request: dict[str, Any], answer: dict[str, Any]) -> None:
        if self.folder is None:
            return
        try:
            self._write(self._path(request_key(request)), {"request": request, "answer": answer})
        except OSError as exc:
            raise self._unwritable(exc) from None

    @staticmethod
    def _write(path: Path, record: dict[str, Any]) -> None:
        with replacing(path) as fh:
            json.dump(record, fh, ensure_ascii=False)

    def _unwritable(self, exc: OSError) -> TeacherUnavailable:
        # Stops the run: every later answer would be lost the same way.
        return TeacherUnavailable(
            f"cannot write the answer cache in {self.folder}: {exc.strerror or exc}; fix it or pass --no-cache"
        )
