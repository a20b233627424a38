"""Retention and disk guard: old videos go, claimed ("keep") videos never do, and the index row stays.

Runs daily (APScheduler, see ``services/schedule.py``) and once at start. Deleting is by the index, so
only files PackDesk recorded are ever touched; a row whose file is already gone is just marked.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from packdesk.core import chain
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
        _mark_deleted(db, rid, now)
        deleted += 1
        freed += size
        if root is not None:
            _remove_empty_day_folder(p.parent, root)
    if deleted:
        log.info("retention: deleted %d video(s) older than %d days, freed %.1f MB (%d kept)", deleted,
                 older_than_days, freed / 1e6, kept)
    return PurgeResult(deleted, freed, kept)


def _mark_deleted(db: Database, rid: int, now: datetime, tries: int = 3) -> None:
    """The row stays, marked deleted; a chained recording's deletion joins its station's chain (a deletion
    link covers when), so a file removed by hand with its row marked the same way is told apart. A link
    appended by the station at the same moment makes this transaction fail: it is tried again."""
    for attempt in range(1, tries + 1):
        try:
            with db.session() as s:
                rec = s.get_one(m.Recording, rid)
                rec.deleted_at = now
                s.flush()
                C = m.ChainEntry  # a recording's own links: a pack's or a return's id may equal this one
                if s.scalar(select(C.id).where(C.recording_id == rid, C.kind.not_in((chain.PACK, chain.RETURN)))
                            .limit(1)) is not None:
                    chain.append(s, rec, chain.DELETED)
            return
        except IntegrityError:
            if attempt == tries:
                raise


def _remove_empty_day_folder(folder: Path, root: Path) -> None:
    try:
        if folder.resolve().parent == root.resolve() and not any(folder.iterdir()):
            folder.rmdir()
    except OSError:
        pass
