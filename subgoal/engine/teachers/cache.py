"""A disk cache of LLM answers, keyed by a hash of the whole request.

The key covers everything that shapes the answer (model, messages, sampling parameters) and nothing
that does not: not the server's address, so the same model behind another URL reuses answers, and
never the API key, which is not part of the request and is never written. One JSON file per request,
written atomically, so parallel workers and interrupted runs cannot leave half a file behind.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any


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
        answer = record.get("answer")
        return answer if isinstance(answer, dict) else None

    def __contains__(self, request: dict[str, Any]) -> bool:
        return self.get(request) is not None

    def put(self, request: dict[str, Any], answer: dict[str, Any]) -> None:
        if self.folder is None:
            return
        path = self._path(request_key(request))
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "w") as fh:
                json.dump({"request": request, "answer": answer}, fh, ensure_ascii=False)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
