"""The recordings index: a row when a recording starts, completed when its file closes.

The row is written at the start on purpose: if the app or the PC dies mid-pack, the next start finds a
row still "recording", looks at the file the crash left, and marks it recovered, so every pack's video
stays findable even after a crash.

A parcel opened from its packing slip is recorded under its parcel key until its courier label binds at the
end of the pack; the row then takes the bound number (``label_bound``), so the video is found by the number
the buyer and the marketplace know. The hash chain covers the tracking number (``core/chain.py``), and a
recording joins the chain only when its file closes, after the pack ended: the number is changed before the
link is made, never after, and ``services/integrity.verify`` finds the row as its link says.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session

from packdesk.core import chain
from packdesk.core import models as m
from packdesk.core.db import changed_rows, table
from packdesk.core.enums import PackOutcome, RecordingStatus

log = logging.getLogger("packdesk.recordings")


# On the station's DB thread as a pack starts and as its file closes (one pack's end, the next one's lookup): the
# plain tables, not the ORM (core/db.table says why), with statements built once (core/packing.py says what that
# saves).
_PS, _WB, REC = table(m.PackSession), table(m.Waybill), table(m.Recording)
_PACK_OF = (select(_PS.c.id, _WB.c.tracking_number).select_from(_PS).outerjoin(_WB, _WB.c.id == _PS.c.waybill_id)
            .where(_PS.c.key == bindparam("pack_key")))
_STARTED = insert(REC).returning(REC.c.id)
_FINISHED_ROW = (select(REC.c.id, REC.c.tracking_number, REC.c.station, REC.c.pack_key, REC.c.packer_name,
                        REC.c.recorder, REC.c.deleted_at)
                 .where(REC.c.pack_key == bindparam("key"), REC.c.path == bindparam("file")).limit(1))
_FINISH = update(REC).where(REC.c.id == bindparam("row_id"))


@dataclass(frozen=True)
class Closed:
    """A recording's row as ``recording_finished`` just completed it: what its link covers (``chain.link_fields``
    reads these fields of a ``Recording``), without loading the row through the ORM."""

    id: int
    tracking_number: str
    station: str
    pack_key: str
    packer_name: str
    recorder: str
    started_at: datetime
    ended_at: datetime
    pack_outcome: PackOutcome
    sha256: str
    size_bytes: int
    deleted_at: datetime | None = None


def recording_started(s: Session, *, pack_key: str, tracking_number: str, order_nos: str, station: str,
                      packer_name: str, recorder: str, path: str, started_at: datetime) -> int:
    c = s.connection()
    session = c.execute(_PACK_OF, {"pack_key": pack_key}).first()
    session_id = session.id if session is not None else None
    if session is not None and session.tracking_number:  # a label bound before the recorder said it started
        tracking_number = session.tracking_number
    return int(c.execute(_STARTED, {
        "pack_session_id": session_id, "pack_key": pack_key, "tracking_number": tracking_number,
        "order_nos": order_nos[:300], "station": station, "packer_name": packer_name, "recorder": recorder,
        "path": path, "started_at": started_at, "status": RecordingStatus.RECORDING,
        "pack_outcome": PackOutcome.OPEN}).scalar_one())


def recording_finished(s: Session, *, pack_key: str, path: str, started_at: datetime, ended_at: datetime,
                       frames: int, dropped: int, size_bytes: int, outcome: PackOutcome, sha256: str = "") -> None:
    """Complete the row; a local file with its hash joins the station's hash chain in the same transaction."""
    c = s.connection()
    row = c.execute(_FINISHED_ROW, {"key": pack_key, "file": path}).first()
    if row is None:
        log.warning("no index row for finished recording %s (%s)", pack_key, path)
        return
    c.execute(_FINISH, {"row_id": row.id, "started_at": started_at, "ended_at": ended_at,
                        "duration_ms": max(0, int((ended_at - started_at).total_seconds() * 1000)),
                        "frames": frames, "dropped_frames": dropped, "size_bytes": size_bytes,
                        "status": RecordingStatus.COMPLETE, "pack_outcome": outcome, "sha256": sha256})
    if sha256:
        chain.append(s, Closed(row.id, row.tracking_number, row.station, row.pack_key, row.packer_name, row.recorder,
                               started_at, ended_at, outcome, sha256, size_bytes, row.deleted_at))


def label_bound(s: Session, pack_key: str, tracking_number: str) -> int:
    """The pack's label bound: its recording is indexed under the number from now on. Only a row still
    recording (its pack ends in this transaction; the recorder stops after it): a closed row may be in the
    hash chain already and is never rewritten. Returns how many rows changed."""
    R = m.Recording
    changed = changed_rows(s.execute(update(R).where(R.pack_key == pack_key, R.status == RecordingStatus.RECORDING)
                                     .values(tracking_number=tracking_number)))
    return int(changed or 0)


def recording_failed(s: Session, pack_key: str) -> None:
    s.execute(update(m.Recording).where(m.Recording.pack_key == pack_key,
                                        m.Recording.status == RecordingStatus.RECORDING)
              .values(status=RecordingStatus.FAILED))


def _keep_what_is_left(s: Session, rec: m.Recording, note: str) -> None:
    """A recording cut short: what its file holds is hashed now and chained like any other; no file, failed."""
    p = Path(rec.path)
    rec.pack_outcome = PackOutcome.ABANDONED
    if p.is_file():
        rec.sha256, rec.size_bytes = chain.file_digest(p)
        rec.ended_at = datetime.fromtimestamp(p.stat().st_mtime, UTC)
        rec.duration_ms = max(0, int((rec.ended_at - rec.started_at).total_seconds() * 1000))
        rec.status = RecordingStatus.RECOVERED
        rec.note = (rec.note + "\n" if rec.note else "") + note
        s.flush()
        chain.append(s, rec)
    else:
        rec.status = RecordingStatus.FAILED


def recover_interrupted(s: Session, station: str) -> int:
    """Rows this station left "recording" (killed mid-pack): keep what the file holds."""
    rows = s.scalars(select(m.Recording).where(
        m.Recording.station == station, m.Recording.status == RecordingStatus.RECORDING)).all()
    for rec in rows:
        _keep_what_is_left(s, rec, "충돌 후 복구 / recovered after crash")
    if rows:
        log.warning("recovered %d recording(s) interrupted by the last run", len(rows))
    return len(rows)


def recording_interrupted(s: Session, pack_key: str, path: str) -> None:
    """The recorder's process died while writing ``path`` (the station lives on): keep what the file holds."""
    rec = s.scalars(select(m.Recording).where(m.Recording.pack_key == pack_key, m.Recording.path == path,
                                              m.Recording.status == RecordingStatus.RECORDING)).first()
    if rec is not None:
        _keep_what_is_left(s, rec, "녹화 프로세스 중단 후 보존 / kept after the recorder process stopped")
