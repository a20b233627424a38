"""A full disk, told apart from every other failure, and named for people.

On a one-PC station the database is a SQLite file in the data folder and the videos are files too: when
that disk fills, SQLite says "database or disk is full" (SQLITE_FULL) and file writes fail with ENOSPC.
Both arrive as generic errors (SQLAlchemy's ``OperationalError`` is also what a lost PostgreSQL connection
raises), so without this the packer was told the warehouse server was away. Here a failure is recognised
as a full disk by its codes, and the disk and folder are named: what a person must clear to go on.
"""

from __future__ import annotations

import errno
import os
import shutil
from pathlib import Path
from typing import Any

SQLITE_FULL = 13  # sqlite3's primary result code; extended codes keep it in the low byte
_OS_FULL = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)}
_WINDOWS_FULL = {39, 112}  # ERROR_HANDLE_DISK_FULL, ERROR_DISK_FULL
# a failure reported only as text (a recorder's detail, sent from another thread or process)
_FULL_WORDS = ("no space left on device", "database or disk is full", "not enough space on the disk",
               "disk quota exceeded", "[errno 28]")


def is_disk_full(e: BaseException) -> bool:
    """Is ``e`` (or what it wraps: SQLAlchemy's ``orig``, a cause, a context) a full disk?"""
    seen: set[int] = set()
    todo: list[BaseException | None] = [e]
    while todo:
        x = todo.pop()
        if x is None or id(x) in seen:
            continue
        seen.add(id(x))
        code = getattr(x, "sqlite_errorcode", None)
        if isinstance(code, int) and code & 0xFF == SQLITE_FULL:
            return True
        if isinstance(x, OSError) and (x.errno in _OS_FULL or getattr(x, "winerror", None) in _WINDOWS_FULL):
            return True
        if type(x).__module__.split(".")[0] == "sqlite3" and "database or disk is full" in str(x):
            return True  # sqlite3 before Python 3.11 carries no code
        orig = getattr(x, "orig", None)
        todo += [orig if isinstance(orig, BaseException) else None, x.__cause__, x.__context__]
    return False


def says_disk_full(text: str) -> bool:
    """A failure known only by its text (``RecordingFailed.detail``) that is a full disk."""
    low = text.lower()
    return any(w in low for w in _FULL_WORDS)


def _existing(path: Path) -> Path:
    """``path`` or its nearest parent that exists (a day's video folder may not be made yet)."""
    p = path.absolute()
    while not p.exists() and p.parent != p:
        p = p.parent
    return p


def disk_of(path: Path) -> str:
    """The disk holding ``path`` as people know it: the drive (``D:\\``) on Windows, the mount point else."""
    p = _existing(path)
    if os.name == "nt":
        return p.anchor or str(p)
    while not os.path.ismount(p) and p.parent != p:
        p = p.parent
    return str(p)


def free_text(path: Path) -> str:
    """Free space on ``path``'s disk in a short human form; "?" when it cannot be read."""
    try:
        free = shutil.disk_usage(_existing(path)).free
    except OSError:
        return "?"
    for unit, size in (("GB", 1024**3), ("MB", 1024**2), ("KB", 1024)):
        if free >= size:
            return f"{free / size:.1f} {unit}"
    return f"{free} B"


def where(path: Path) -> dict[str, Any]:
    """The message parameters naming a full disk: ``folder``, ``disk`` and its ``free`` space."""
    return {"folder": str(path), "disk": disk_of(path), "free": free_text(path)}
