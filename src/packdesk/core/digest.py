"""A file's SHA-256, on its own: the recorder process hashes each file as it closes, and importing the hash
chain (and with it SQLAlchemy) there would add most of a second to that process's start, which a restart
after a crash waits for."""

from __future__ import annotations

import hashlib
from pathlib import Path

CHUNK = 1024 * 1024


def file_digest(path: Path) -> tuple[str, int]:
    """(SHA-256 hex, size) of a file, read in 1 MiB chunks."""
    h = hashlib.sha256()
    size = 0
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            h.update(chunk)
            size += len(chunk)
    return h.hexdigest(), size
