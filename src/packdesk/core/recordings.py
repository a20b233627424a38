"""The recordings index: a row when a recording starts, completed when its file closes.

The row is written at the start on purpose: if the app or the PC dies mid-pack, the next start finds a
row still "recording", looks at the file the crash left, and marks it recovered, so every pack's video
stays findable even after a crash.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from packdesk.core import models as m
from packdesk.core.enums import PackOutcome, RecordingStatus

log = logging.getLogger("packdesk.recordings")


def recording_started(s: Session, *, pack_key: str, tracking_number: str, order_nos: str, station: str,
                      packer_name: str, recorder: str, path: str, started_at: datetime) -> int:
    session_id = s.scalar(select(m.PackSession.id).where(m.PackSession.key == pack_key))
    return s.execute(insert(m.Recording).values(
        pack_session_id=session_id, pack_key=pack_key, tracking_number=tracking_number, order_nos=order_nos[:300],
        station=station, packer_name=packer_name, recorder=recorder, path=path, started_at=started_at,
        status=RecordingStatus.RECORDING, pack_outcome=PackOutcome.OPEN,
    ).returning(m.Recording.id)).scalar_one()


def recording_finished(s: Session, *, pack_key: str, path: str, started_at: datetime, ended_at: datetime,
                       frames: int, dropped: int, size_bytes: int, outcome: PackOutcome) -> None:
    s.execute(update(m.Recording).where(m.Recording.pack_key == pack_key, m.Recording.path == path).values(
        started_at=started_at, ended_at=ended_at,
        duration_ms=max(0, int((ended_at - started_at).total_seconds() * 1000)),
        frames=frames, dropped_frames=dropped, size_bytes=size_bytes, status=RecordingStatus.COMPLETE,
        pack_outcome=outcome))


def recording_failed(s: Session, pack_key: str) -> None:
    s.execute(update(m.Recording).where(m.Recording.pack_key == pack_key,
                                        m.Recording.status == RecordingStatus.RECORDING)
              .values(status=RecordingStatus.FAILED))


def recover_interrupted(s: Session, station: str) -> int:
    """Rows this station left "recording" (killed mid-pack): keep what the file holds."""
    rows = s.execute(select(m.Recording.id, m.Recording.path).where(
        m.Recording.station == station, m.Recording.status == RecordingStatus.RECORDING)).all()
    for rid, path in rows:
        p = Path(path)
        if p.is_file():
            st = p.stat()
            s.execute(update(m.Recording).where(m.Recording.id == rid).values(
                status=RecordingStatus.RECOVERED, size_bytes=st.st_size, pack_outcome=PackOutcome.ABANDONED,
                ended_at=datetime.fromtimestamp(st.st_mtime, UTC)))
        else:
            s.execute(update(m.Recording).where(m.Recording.id == rid).values(
                status=RecordingStatus.FAILED, pack_outcome=PackOutcome.ABANDONED))
    if rows:
        log.warning("recovered %d recording(s) interrupted by the last run", len(rows))
    return len(rows)
