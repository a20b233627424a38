"""Storing what the station machine decided: pack sessions, scan events, lines marked packed.

Each function runs inside the caller's short transaction (the station's DB thread). Races with other
writers are settled by the database: a line is marked packed only while it is still packable
(``UPDATE ... WHERE status IN (new, confirmed)``), and a waybill, or a parcel, completes once (partial
unique indexes). A parcel opened from its packing slip gets its waybill from the label scanned at the end:
``bind_label`` then ``end_pack`` in one transaction, so it is bound and completed, or neither.
A pack that ends joins the station's hash chain in that same transaction, with its scan events
(``chain.append_pack``): ended and chained, or neither.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import datetime

from sqlalchemy import Row, bindparam, insert, select, update
from sqlalchemy.orm import Session

from packdesk.core import chain, claims, parcels, recordings
from packdesk.core import models as m
from packdesk.core.db import table
from packdesk.core.enums import NO_MARKETPLACE, LineStatus, OutboxState, PackOutcome
from packdesk.core.station import BeginPack, BindLabel, EndPack, LogScan

log = logging.getLogger("packdesk.packing")


# A scan's writes go to the plain tables, not through the ORM (``core/db.table`` says why and what it saves), as
# statements built once, on the transaction's connection: building a statement for each call cost SQLAlchemy
# about twice the CPU of running it (a pack's end is about ten of them, between one scan and the next). Measured
# on this project's 2-core machine, an indexed one-row SELECT: 0.16 ms built per call through the session,
# 0.05 ms prebuilt on the connection. A pack's end (cancelled, one scan; 1,000,000 order lines) went from 3.3 to
# 1.5 ms at the median, its beginning from 0.86 to 0.42 ms and a scan's row from 1.6 to 0.68 ms.
SESSIONS, SCANS, LINES = table(m.PackSession), table(m.ScanEvent), table(m.OrderLine)
_SESSION_ID = select(SESSIONS.c.id).where(SESSIONS.c.key == bindparam("pack_key"))
_BEGIN = insert(SESSIONS).returning(SESSIONS.c.id)
_SCAN = insert(SCANS)
_END = update(SESSIONS).where(SESSIONS.c.id == bindparam("session_id"))
_MARK_PACKED = (update(LINES).where(LINES.c.id.in_(bindparam("line_ids", expanding=True)),
                                   LINES.c.status.in_([LineStatus.NEW, LineStatus.CONFIRMED]))
                .returning(LINES.c.id))
_STATUS_CHANGE = insert(table(m.LineStatusChange))
_PACK_WAYBILL = (select(m.Waybill.courier_code, m.Waybill.tracking_number)
                 .join(m.PackSession, m.PackSession.waybill_id == m.Waybill.id)
                 .where(m.PackSession.id == bindparam("session_id")))
# orders from a sheet or typed in have no marketplace to tell: nothing to queue (their tracking numbers go back
# by the order export)
_TO_DISPATCH = (select(m.OrderLine.id, m.OrderLine.account_id, m.OrderLine.product_order_id)
                .join(m.ChannelAccount, m.ChannelAccount.id == m.OrderLine.account_id)
                .where(m.OrderLine.id.in_(bindparam("line_ids", expanding=True)),
                       m.ChannelAccount.kind.not_in(NO_MARKETPLACE)))
_DISPATCH = insert(table(m.DispatchEntry))


def _session_id(s: Session, pack_key: str | None) -> int | None:
    if pack_key is None:
        return None
    return s.connection().execute(_SESSION_ID, {"pack_key": pack_key}).scalar()


def begin_pack(s: Session, fx: BeginPack, station: str) -> int:
    return s.connection().execute(_BEGIN, {
        "key": fx.pack_key, "waybill_id": fx.plan.waybill_id, "parcel_id": fx.plan.parcel_id, "station": station,
        "packer_id": fx.packer.packer_id, "packer_name": fx.packer.name, "started_at": fx.at,
        "outcome": PackOutcome.OPEN}).scalar_one()


def log_scan(s: Session, fx: LogScan, station: str) -> None:
    if fx.pack_key is not None:
        claims.renew(s, fx.pack_key, fx.scan.at)
    s.connection().execute(_SCAN, {
        "pack_session_id": _session_id(s, fx.pack_key), "station": station, "packer_name": fx.packer_name,
        "scanned_at": fx.scan.at, "code": fx.scan.code[:128], "source": fx.scan.source, "kind": fx.kind,
        "accepted": fx.accepted, "reason": fx.reason, "item_id": fx.item_id, "quantity": fx.quantity})


def bind_label(s: Session, fx: BindLabel, source: str, check_digit: Mapping[str, str] | None = None
               ) -> parcels.Bound:
    """The courier label scanned at the end of a parcel's pack: bound to the parcel and its lines
    (``parcels.bind``, checked again here: another station or an import may have used the number since the
    scan was looked up; ``BindRefused`` then, and the caller's transaction rolls back), made the pack's
    waybill (``end_pack`` queues the dispatches with it), and the pack's recording indexed under it."""
    bound = parcels.bind(s, fx.parcel_id, fx.courier_code, fx.tracking_number, now=fx.at, source=source,
                         check_digit=check_digit)
    s.execute(update(m.PackSession).where(m.PackSession.key == fx.pack_key).values(waybill_id=bound.waybill_id))
    recordings.label_bound(s, fx.pack_key, bound.tracking_number)
    return bound


def end_pack(s: Session, fx: EndPack) -> int:
    """Close the session; for a completed pack mark its lines packed. Returns the lines marked."""
    s.flush()  # a label bound just before (``bind_label``, through the ORM) is written before the plain statements
    sid = _session_id(s, fx.pack_key)
    if sid is None:
        raise LookupError(f"no pack session {fx.pack_key}")
    c = s.connection()
    c.execute(_END, {"session_id": sid, "ended_at": fx.at, "outcome": fx.outcome})
    chain.append_pack(s, sid)
    claims.release(s, fx.pack_key)
    if fx.outcome is not PackOutcome.COMPLETED or not fx.packed_line_ids:
        return 0
    marked = c.execute(_MARK_PACKED, {"line_ids": list(fx.packed_line_ids), "status": LineStatus.PACKED,
                                      "packed_at": fx.at, "packed_session_id": sid}).scalars().all()
    if marked:
        c.execute(_STATUS_CHANGE, [{"line_id": lid, "status": LineStatus.PACKED, "source": f"pack:{fx.pack_key}",
                                    "changed_at": fx.at} for lid in marked])
    rows: Sequence[Row[int, int, str]] = ()
    if marked:  # the outbox entries, in this same transaction: packed <=> queued for dispatch
        wb = c.execute(_PACK_WAYBILL, {"session_id": sid}).one()
        rows = c.execute(_TO_DISPATCH, {"line_ids": list(marked)}).all()
    if rows:
        c.execute(_DISPATCH, [
            {"line_id": r.id, "account_id": r.account_id, "pack_session_id": sid,
             "product_order_id": r.product_order_id, "courier_code": wb.courier_code,
             "tracking_number": wb.tracking_number, "state": OutboxState.PENDING, "next_attempt_at": fx.at,
             "created_at": fx.at, "updated_at": fx.at} for r in rows])
    if len(marked) != len(fx.packed_line_ids):
        missed = sorted(set(fx.packed_line_ids) - set(marked))
        log.warning("pack %s: lines %s changed status while packing and were not marked packed",
                    fx.pack_key, missed)
    return len(marked)


def abandon_open_packs(s: Session, station: str, at: datetime) -> int:
    """Packs this station left open (the app was killed mid-pack) are closed as abandoned at start, and
    chained with the scans they had (their evidence, like any ended pack's)."""
    ids = sorted(s.execute(
        update(m.PackSession)
        .where(m.PackSession.station == station, m.PackSession.outcome == PackOutcome.OPEN)
        .values(outcome=PackOutcome.ABANDONED, ended_at=at)
        .returning(m.PackSession.id)
    ).scalars().all())
    for sid in ids:
        chain.append_pack(s, sid)
    return len(ids)


INTERRUPTED = (PackOutcome.CLOSED, PackOutcome.ABANDONED)


def interrupted_pack(s: Session, station: str) -> tuple[str, PackOutcome] | None:
    """The station's last pack, if PackDesk closed or stopped while it was open and nobody has completed its
    waybill since: (tracking number, outcome), for the next start to say which parcel to pack again."""
    PS = m.PackSession
    last = s.execute(select(PS.waybill_id, PS.outcome).where(PS.station == station)
                     .order_by(PS.id.desc()).limit(1)).first()
    if last is None or last.outcome not in INTERRUPTED:
        return None
    done = s.scalar(select(PS.id).where(PS.waybill_id == last.waybill_id, PS.outcome == PackOutcome.COMPLETED)
                    .limit(1))
    if done is not None:
        return None
    tracking = s.scalar(select(m.Waybill.tracking_number).where(m.Waybill.id == last.waybill_id))
    return (tracking, last.outcome) if tracking else None
