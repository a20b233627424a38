"""The evidence hash chain: each station links every closed recording, every ended pack and every ended return
inspection to the one before.

A recording's link covers the previous link's hash, the file's SHA-256 and size, and what the index says of
the recording (id, waybill, station, start, end). So a flipped byte, a truncated, swapped or deleted
file, an edited or deleted index row, and a removed link are each detectable by ``services/integrity``.
The genesis link points at 64 zeros.

A pack's link (kind ``pack``, version 3) is what the evidence sheet answers "the item was missing" with:
the pack's scan events (each one's id, time, code, source, kind, accepted, reason, item, station, packer)
and the pack session itself (key, station, packer, waybill, parcel, start, end, outcome). It is appended in
the transaction that ends the pack (``core/packing.end_pack``, or ``abandon_open_packs`` after a crash): the
station's DB thread writes a pack's scans in order before its end, so every scan, the completing one too,
is covered, whether the pack was filmed, its recording failed, or it had no local recorder (RealPacking).
Its recording is chained later, when the file closes, in the same station chain. The link's
``recording_id`` then holds the pack session's id, ``file_sha256`` and ``size_bytes`` the scans' digest
and count (no new columns: the table's ``kind`` says which).

A return inspection's link (kind ``return``, version 4, ``RETURN_LINK_FIELDS``) does the same for a returned
parcel opened on camera (``services/returns``): its scans (each one's id, time, code, source, kind, accepted,
reason, item, the item line it is or marks, the condition it scanned, then that line's "sent by the order" and
its condition as the inspection ended, station, packer) and the inspection row (key, station, packer, return
code, original waybill, orders and outbound pack, start, end, outcome). A return scan is never updated (a
corrected condition is a scan of its own); the item lines with their final condition are written when the
inspection ends, so the link appended in that transaction (``end_inspection``, or ``abandon_open_inspections``
after a crash) covers them as stored. ``recording_id`` holds the inspection's id, ``file_sha256`` and
``size_bytes`` its scans' digest and count. Inspections ended before this link existed have none.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Select, bindparam, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from packdesk.core import models as m
from packdesk.core.db import table
from packdesk.core.digest import CHUNK, file_digest  # noqa: F401 - the chain's callers hash files through here
from packdesk.core.enums import PackOutcome

if TYPE_CHECKING:  # recordings imports this module
    from packdesk.core.recordings import Closed

GENESIS = "0" * 64


def _iso(at: datetime | None) -> str:
    return at.astimezone(UTC).isoformat(timespec="microseconds") if at else ""


VERSION = 2          # what a new recording link covers (see ``link_hash``); older links keep theirs
PACK_VERSION = 3     # a pack's link (``pack_link_hash``)
RETURN_VERSION = 4   # a return inspection's link (``return_link_hash``)
RECORDING, DELETED, PACK, RETURN = "recording", "deleted", "pack", "return"
NO_SCANS = hashlib.sha256(b"").hexdigest()  # the digest of a pack with no scan events


# the names of what each link covers, in order: a claim bundle (``services/claim_bundle``) writes them out beside
# the values, so anyone can recompute a link with a SHA-256 tool and no PackDesk
LINK_FIELDS_V1 = ("prev_hash", "file_sha256", "size_bytes", "recording_id", "tracking_number", "station",
                  "started_at_utc", "ended_at_utc")
LINK_FIELDS_V2 = (*LINK_FIELDS_V1, "kind", "pack_key", "packer_name", "outcome", "recorder")
PACK_LINK_FIELDS = ("prev_hash", "scans_sha256", "scan_count", "kind", "pack_session_id", "pack_key", "station",
                    "packer_id", "packer_name", "waybill_id", "parcel_id", "started_at_utc", "ended_at_utc",
                    "outcome")
RETURN_LINK_FIELDS = ("prev_hash", "scans_sha256", "scan_count", "kind", "inspection_id", "inspection_key",
                      "station", "packer_id", "packer_name", "return_code", "waybill_id", "order_nos",
                      "original_pack_session_id", "started_at_utc", "ended_at_utc", "outcome")


def sha256_of_fields(fields: list[str]) -> str:
    """Every link's hash: its fields joined by line feeds, UTF-8, no line feed at the end."""
    return hashlib.sha256("\n".join(fields).encode("utf-8")).hexdigest()


def link_fields(prev_hash: str, rec: m.Recording | Closed, file_sha256: str, size_bytes: int, *, version: int = 1,
                kind: str = RECORDING, outcome: PackOutcome | None = None) -> list[str]:
    """What a recording's link covers (``link_hash``), as the text that is hashed."""
    fields = [prev_hash, file_sha256, str(size_bytes), str(rec.id), rec.tracking_number, rec.station,
              _iso(rec.started_at), _iso(rec.ended_at)]
    if version >= 2:
        fields += [kind, rec.pack_key, rec.packer_name, str(outcome or rec.pack_outcome), rec.recorder]
        if kind == DELETED:
            fields.append(_iso(rec.deleted_at))
    return fields


def link_hash(prev_hash: str, rec: m.Recording | Closed, file_sha256: str, size_bytes: int, *, version: int = 1,
              kind: str = RECORDING, outcome: PackOutcome | None = None) -> str:
    """Version 1 covered the file and the row's id, waybill, station, start and end. Version 2 also covers
    the pack (key, packer, outcome) and the recorder, and knows a second kind of link: a deletion by
    retention (covering when), so a file removed and its row marked "deleted" by hand is told apart.
    ``outcome``: hash as if the row said this outcome (``verify`` names an edited outcome by trying them)."""
    return sha256_of_fields(link_fields(prev_hash, rec, file_sha256, size_bytes, version=version, kind=kind,
                                        outcome=outcome))


E = m.ScanEvent
SCAN_COLUMNS = (E.id, E.scanned_at, E.code, E.source, E.kind, E.accepted, E.reason, E.item_id, E.station,
                E.packer_name, E.quantity)  # what a pack's link covers of each scan, read as plain rows (no ORM)


def scan_line(ev: Any) -> bytes:
    """One scan event (a ``ScanEvent`` or a row of ``SCAN_COLUMNS``) as the chain sees it (JSON: no separator
    inside a code can shift a field). A scan that counted more than one unit (a multi-pack's count) adds its
    quantity; every other scan hashes as before the quantity existed, so the links made then still verify."""
    fields = [ev.id, _iso(ev.scanned_at), ev.code, str(ev.source), str(ev.kind), bool(ev.accepted), ev.reason,
              ev.item_id, ev.station, ev.packer_name]
    if (ev.quantity or 1) != 1:
        fields.append(ev.quantity)
    return json.dumps(fields, ensure_ascii=False).encode("utf-8")


def scans_digest(events: Iterable[Any]) -> tuple[str, int]:
    """(SHA-256 hex, count) of a pack's scan events, given in id order (the order the station wrote them)."""
    h = hashlib.sha256()
    n = 0
    for ev in events:
        h.update(scan_line(ev) + b"\n")
        n += 1
    return h.hexdigest(), n


# A pack's end is on the station's DB thread, between one scan and the next: its link is read and written
# through the plain tables, not the ORM (``core/db.table`` says why). Measured inside the scan-latency bench
# (2026-12-07, 200 packs): ``append_pack`` p50 6.0 ms through the ORM's flush, re-read and insert, 2.6 ms so.
CHAIN, SCANS_TABLE, SESSIONS = table(m.ChainEntry), table(m.ScanEvent), table(m.PackSession)
SCAN_ROW = tuple(SCANS_TABLE.c[c.key] for c in SCAN_COLUMNS)
PACK_ROW = tuple(SESSIONS.c[k] for k in ("id", "key", "station", "packer_id", "packer_name", "waybill_id",
                                         "parcel_id", "started_at", "ended_at", "outcome"))


# built once (``core/packing.py`` says what that saves)
_PACK_SCANS = select(*SCAN_ROW).where(SCANS_TABLE.c.pack_session_id == bindparam("session_id")).order_by(
    SCANS_TABLE.c.id)
_PACK = select(*PACK_ROW).where(SESSIONS.c.id == bindparam("session_id"))
_LAST = (select(CHAIN.c.seq, CHAIN.c.entry_hash).where(CHAIN.c.station == bindparam("station"))
         .order_by(CHAIN.c.seq.desc()).limit(1))
_LINK = insert(CHAIN)


def pack_scans(s: Session, session_id: int) -> list[Any]:
    """The pack's scans (rows of ``SCAN_COLUMNS``), in id order."""
    return list(s.connection().execute(_PACK_SCANS, {"session_id": session_id}))


def pack_link_fields(prev_hash: str, ps: Any, scans_sha256: str, scan_count: int, *,
                     outcome: PackOutcome | None = None) -> list[str]:
    """What a pack's link covers (``pack_link_hash``), as the text that is hashed. ``ps``: a ``PackSession``
    or a row of ``PACK_ROW``."""
    return [prev_hash, scans_sha256, str(scan_count), PACK, str(ps.id), ps.key, ps.station,
            str(ps.packer_id or ""), ps.packer_name, str(ps.waybill_id or ""), str(ps.parcel_id or ""),
            _iso(ps.started_at), _iso(ps.ended_at), str(outcome or ps.outcome)]


def pack_link_hash(prev_hash: str, ps: Any, scans_sha256: str, scan_count: int, *,
                   outcome: PackOutcome | None = None) -> str:
    """A pack's link: its scans' digest and count, and the session row (``outcome``: as for ``link_hash``)."""
    return sha256_of_fields(pack_link_fields(prev_hash, ps, scans_sha256, scan_count, outcome=outcome))


RS, RI = m.ReturnScan, m.ReturnItem
# what a return link covers of each scan, read as plain rows: the scan, and the item line it is (or marks) as the
# inspection ended (``sent``/``final``: None for a scan of no line)
RETURN_SCAN_COLUMNS = (RS.id, RS.scanned_at, RS.code, RS.source, RS.kind, RS.accepted, RS.reason, RS.item_id,
                       RS.line_no, RS.condition, RI.expected.label("sent"), RI.condition.label("final"), RS.station,
                       RS.packer_name)


def return_scans_query() -> Select[*tuple[Any, ...]]:
    """Every return scan with its item line (``RETURN_SCAN_COLUMNS``, and its inspection's id first), in id
    order per inspection: the caller picks the inspections."""
    return (select(RS.inspection_id, *RETURN_SCAN_COLUMNS)
            .outerjoin(RI, (RI.inspection_id == RS.inspection_id) & (RI.line_no == RS.line_no) & (RS.line_no > 0))
            .order_by(RS.inspection_id, RS.id, RI.id))


def return_scan_line(sc: Any) -> bytes:
    """One return scan (a row of ``RETURN_SCAN_COLUMNS``) as the chain sees it: JSON, as ``scan_line``."""
    fields = [sc.id, _iso(sc.scanned_at), sc.code, str(sc.source), sc.kind, bool(sc.accepted), sc.reason,
              sc.item_id, sc.line_no, sc.condition, None if sc.sent is None else bool(sc.sent), sc.final,
              sc.station, sc.packer_name]
    return json.dumps(fields, ensure_ascii=False).encode("utf-8")


def return_scans(s: Session, inspection_id: int) -> list[Any]:
    """The inspection's scans with their item lines (rows of ``RETURN_SCAN_COLUMNS``), in id order."""
    return list(s.execute(return_scans_query().where(RS.inspection_id == inspection_id)))


def return_scans_digest(scans: Iterable[Any]) -> tuple[str, int]:
    """(SHA-256 hex, count) of an inspection's scans, given in id order."""
    h = hashlib.sha256()
    n = 0
    for sc in scans:
        h.update(return_scan_line(sc) + b"\n")
        n += 1
    return h.hexdigest(), n


def return_link_fields(prev_hash: str, ri: m.ReturnInspection, scans_sha256: str, scan_count: int, *,
                       outcome: PackOutcome | None = None) -> list[str]:
    """What a return inspection's link covers (``return_link_hash``), as the text that is hashed."""
    return [prev_hash, scans_sha256, str(scan_count), RETURN, str(ri.id), ri.key, ri.station,
            str(ri.packer_id or ""), ri.packer_name, ri.return_code, str(ri.waybill_id or ""), ri.order_nos,
            str(ri.original_pack_session_id or ""), _iso(ri.started_at), _iso(ri.ended_at),
            str(outcome or ri.outcome)]


def return_link_hash(prev_hash: str, ri: m.ReturnInspection, scans_sha256: str, scan_count: int, *,
                     outcome: PackOutcome | None = None) -> str:
    """A return inspection's link: its scans' digest and count, and the inspection row (``outcome``: as for
    ``link_hash``)."""
    return sha256_of_fields(return_link_fields(prev_hash, ri, scans_sha256, scan_count, outcome=outcome))


def _last(s: Session, station: str) -> tuple[int, str]:
    last = s.connection().execute(_LAST, {"station": station}).first()
    return (last.seq, last.entry_hash) if last else (0, GENESIS)


def append(s: Session, rec: m.Recording | Closed, kind: str = RECORDING) -> int:
    """Chain a closed recording whose ``sha256`` and ``size_bytes`` are set (or, ``DELETED``, its deletion
    by retention, with ``deleted_at`` set): its row, or (``recordings.Closed``) what was just stored in it.
    The (station, seq) unique constraint turns any concurrent append into an error, not a fork (``_insert``
    follows the other link and tries again). Returns the link's seq."""
    def make(seq: int, prev: str) -> dict[str, Any]:
        return dict(station=rec.station, seq=seq + 1, recording_id=rec.id, file_sha256=rec.sha256,
                    size_bytes=rec.size_bytes, prev_hash=prev, version=VERSION, kind=kind,
                    entry_hash=link_hash(prev, rec, rec.sha256, rec.size_bytes, version=VERSION, kind=kind))

    s.flush()
    return _insert(s, rec.station, make)


def append_pack(s: Session, session_id: int) -> int:
    """Chain an ended pack: its scan events and its session row, as stored in this transaction (read from the
    database: the caller closed it with an UPDATE). Returns the link's seq."""
    s.flush()  # anything the caller changed through the ORM is in the database before it is read
    ps = s.connection().execute(_PACK, {"session_id": session_id}).one()
    digest, count = scans_digest(pack_scans(s, session_id))

    def make(seq: int, prev: str) -> dict[str, Any]:
        return dict(station=ps.station, seq=seq + 1, recording_id=ps.id, file_sha256=digest, size_bytes=count,
                    prev_hash=prev, version=PACK_VERSION, kind=PACK, entry_hash=pack_link_hash(prev, ps, digest, count))

    return _insert(s, ps.station, make)


def append_return(s: Session, inspection_id: int) -> int:
    """Chain an ended return inspection: its scans, their item lines and its row, as stored in this
    transaction (read again, as ``append_pack`` does: it was closed with an UPDATE). Returns the link's seq."""
    s.flush()
    ri = s.scalars(select(m.ReturnInspection).where(m.ReturnInspection.id == inspection_id)
                   .execution_options(populate_existing=True)).one()
    digest, count = return_scans_digest(return_scans(s, inspection_id))

    def make(seq: int, prev: str) -> dict[str, Any]:
        return dict(station=ri.station, seq=seq + 1, recording_id=ri.id, file_sha256=digest, size_bytes=count,
                    prev_hash=prev, version=RETURN_VERSION, kind=RETURN,
                    entry_hash=return_link_hash(prev, ri, digest, count))

    return _insert(s, ri.station, make)


def _insert(s: Session, station: str, make: Callable[[int, str], dict[str, Any]], tries: int = 3) -> int:
    """Append after the station's last link, in a savepoint: a link another transaction appended at the same
    moment (retention's deletion link on PostgreSQL) makes the insert fail on (station, seq); it is read
    and followed, instead of failing the pack's end with it. The last failure is raised. Returns the seq."""
    for attempt in range(1, tries + 1):
        try:
            with s.begin_nested():
                link = make(*_last(s, station))
                s.connection().execute(_LINK, link)
            return int(link["seq"])
        except IntegrityError:
            if attempt == tries:
                raise
    raise AssertionError("unreachable")


def head(s: Session, station: str) -> tuple[int, str] | None:
    """The station's last link: (seq, hash)."""
    row = s.execute(select(m.ChainEntry.seq, m.ChainEntry.entry_hash).where(m.ChainEntry.station == station)
                    .order_by(m.ChainEntry.seq.desc()).limit(1)).first()
    return (row.seq, row.entry_hash) if row else None
