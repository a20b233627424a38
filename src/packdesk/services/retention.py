"""Retention and disk guard: old videos go, claimed ("keep") videos never do, and the index row stays.

Runs daily (APScheduler, see ``services/schedule.py``) and once at start. Deleting is by the index, so
only files PackDesk recorded are ever touched; a row whose file is already gone is just marked.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select, update

from packdesk.core import models as m
from packdesk.core.db import Database
from packdesk.core.enums import RecordingStatus

log = logging.getLogger("packdesk.retention")


@dataclass(frozen=True)
class PurgeResult:
    deleted: int
    freed_bytes: int
    kept: int  # old enough, but marked keep


def purge_old_videos(db: Database, *, older_than_days: int, now: datetime, root: Path | None = None,
                     station: str | None = None) -> PurgeResult:
    """``station``: only that station's videos. On a shared database every station purges its own: a file on
    another PC's disk is not missing here, and each station keeps its videos as long as its settings say."""
    cutoff = now - timedelta(days=older_than_days)
    R = m.Recording
    with db.session() as s:
        q = select(R.id, R.path, R.keep).where(
            R.started_at < cutoff, R.deleted_at.is_(None), R.status != RecordingStatus.RECORDING,
            R.recorder != "realpacking")
        old = s.execute(q if station is None else q.where(R.station == station)).all()
    deleted, freed, kept = 0, 0, 0
    for rid, path, keep in old:
        if keep:
            kept += 1
            continue
        p = Path(path)
        size = 0
        try:
            size = p.stat().st_size
            p.unlink()
        except FileNotFoundError:
            pass
        except OSError as e:
            log.warning("could not delete old video %s: %s", p, e)
            continue
        with db.session() as s:
            s.execute(update(R).where(R.id == rid).values(deleted_at=now))
        deleted += 1
        freed += size
        if root is not None:
            _remove_empty_day_folder(p.parent, root)
    if deleted:
        log.info("retention: deleted %d video(s) older than %d days, freed %.1f MB (%d kept)", deleted,
                 older_than_days, freed / 1e6, kept)
    return PurgeResult(deleted, freed, kept)


def _remove_empty_day_folder(folder: Path, root: Path) -> None:
    try:
        if folder.resolve().parent == root.resolve() and not any(folder.iterdir()):
            folder.rmdir()
    except OSError:
        pass
