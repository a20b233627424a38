"""The recordings hash chain: each station links every closed recording to the one before it.

A link's hash covers the previous link's hash, the file's SHA-256 and size, and what the index says of
the recording (id, waybill, station, start, end). So a flipped byte, a truncated, swapped or deleted
file, an edited or deleted index row, and a removed link are each detectable by ``services/integrity``.
The genesis link points at 64 zeros.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from packdesk.core import models as m
from packdesk.core.digest import CHUNK, file_digest  # noqa: F401 - the chain's callers hash files through here

GENESIS = "0" * 64


def _iso(at: datetime | None) -> str:
    return at.astimezone(UTC).isoformat(timespec="microseconds") if at else ""


VERSION = 2          # what a new link covers (see ``link_hash``); older links keep theirs
RECORDING, DELETED = "recording", "deleted"


def link_hash(prev_hash: str, rec: m.Recording, file_sha256: str, size_bytes: int, *, version: int = 1,
              kind: str = RECORDING) -> str:
    """Version 1 covered the file and the row's id, waybill, station, start and end. Version 2 also covers
    the pack (key, packer, outcome) and the recorder, and knows a second kind of link: a deletion by
    retention (covering when), so a file removed and its row marked "deleted" by hand is told apart."""
    fields = [prev_hash, file_sha256, str(size_bytes), str(rec.id), rec.tracking_number, rec.station,
              _iso(rec.started_at), _iso(rec.ended_at)]
    if version >= 2:
        fields += [kind, rec.pack_key, rec.packer_name, str(rec.pack_outcome), rec.recorder]
        if kind == DELETED:
            fields.append(_iso(rec.deleted_at))
    return hashlib.sha256("\n".join(fields).encode("utf-8")).hexdigest()


def append(s: Session, rec: m.Recording, kind: str = RECORDING) -> m.ChainEntry:
    """Chain a closed recording whose ``sha256`` and ``size_bytes`` are set (or, ``DELETED``, its deletion
    by retention, with ``deleted_at`` set). The (station, seq) unique constraint turns any concurrent append
    into an error, not a fork: the caller's transaction fails and is tried again."""
    last = s.scalars(select(m.ChainEntry).where(m.ChainEntry.station == rec.station)
                     .order_by(m.ChainEntry.seq.desc()).limit(1)).first()
    prev = last.entry_hash if last else GENESIS
    entry = m.ChainEntry(station=rec.station, seq=(last.seq + 1) if last else 1, recording_id=rec.id,
                         file_sha256=rec.sha256, size_bytes=rec.size_bytes, prev_hash=prev, version=VERSION,
                         kind=kind, entry_hash=link_hash(prev, rec, rec.sha256, rec.size_bytes, version=VERSION,
                                                         kind=kind))
    s.add(entry)
    s.flush()
    return entry


def head(s: Session, station: str) -> tuple[int, str] | None:
    """The station's last link: (seq, hash)."""
    row = s.execute(select(m.ChainEntry.seq, m.ChainEntry.entry_hash).where(m.ChainEntry.station == station)
                    .order_by(m.ChainEntry.seq.desc()).limit(1)).first()
    return (row.seq, row.entry_hash) if row else None
