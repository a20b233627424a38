"""Claims: one station packs a waybill, or a parcel opened from its packing slip, at a time, decided by the
database, not by Python.

Claiming is one atomic statement: ``INSERT … ON CONFLICT DO NOTHING`` (SQLite and PostgreSQL both have it)
and, when a claim exists, a conditional ``UPDATE`` that only takes it over if it is this station's own or
has expired. Two stations racing for the same waybill cannot both win: PostgreSQL re-checks the UPDATE's
condition under the row lock, SQLite serialises writers.

A parcel with no waybill yet is claimed in its own table (``ParcelClaim``, the same shape): the same rules,
the same statements, only the table and its key column differ (``Claimable``). Renewing and releasing go by
the pack's key, so they cover both tables whatever the pack was of.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, delete, or_, select, update
from sqlalchemy.orm import Session

from packdesk.core import models as m
from packdesk.core import parcels
from packdesk.core.db import changed_rows, insert_new, table
from packdesk.core.station import ClaimHolder

DEFAULT_EXPIRY = timedelta(minutes=10)


@dataclass(frozen=True)
class Claimable:
    """What a station can claim: the claim table and the column holding the claimed row's id."""

    table: type[m.WaybillClaim] | type[m.ParcelClaim]
    key: str

    @property
    def column(self) -> Any:
        return getattr(self.table, self.key)


WAYBILL = Claimable(m.WaybillClaim, "waybill_id")
PARCEL = Claimable(m.ParcelClaim, "parcel_id")
KINDS = (WAYBILL, PARCEL)


def claim(s: Session, target_id: int, *, station: str, packer_name: str, pack_key: str, now: datetime,
          expiry: timedelta = DEFAULT_EXPIRY, kind: Claimable = WAYBILL) -> ClaimHolder | None:
    """Take the waybill (or, ``kind=PARCEL``, the parcel) for this station. ``None`` means taken; otherwise
    who holds it."""
    values = {kind.key: target_id, "station": station, "packer_name": packer_name, "pack_key": pack_key,
              "claimed_at": now, "renewed_at": now}
    if insert_new(s, kind.table, values, kind.key):
        return None
    C = kind.table
    taken = changed_rows(s.execute(update(C).where(kind.column == target_id,
                                                   or_(C.station == station, C.renewed_at < now - expiry))
                                   .values({k: v for k, v in values.items() if k != kind.key})))
    if taken == 1:
        return None
    row = s.execute(select(C.station, C.packer_name, C.claimed_at).where(kind.column == target_id)).first()
    if row is None:  # released between our two statements: try once more
        return claim(s, target_id, station=station, packer_name=packer_name, pack_key=pack_key, now=now,
                     expiry=expiry, kind=kind)
    return ClaimHolder(row.station, row.packer_name, row.claimed_at)


# every scan renews and every pack's end releases: the plain tables, not the ORM's bulk path (core/db.table),
# with statements built once (core/packing.py says what that saves)
_RENEW = tuple(update(table(k.table)).where(table(k.table).c.pack_key == bindparam("key")) for k in KINDS)
_RELEASE = tuple(delete(table(k.table)).where(table(k.table).c.pack_key == bindparam("key")) for k in KINDS)


def renew(s: Session, pack_key: str, now: datetime) -> None:
    """Activity on the pack keeps its claim alive (expiry counts from the last scan)."""
    c = s.connection()
    for stmt in _RENEW:
        c.execute(stmt, {"key": pack_key, "renewed_at": now})


def release(s: Session, pack_key: str) -> None:
    c = s.connection()
    for stmt in _RELEASE:
        c.execute(stmt, {"key": pack_key})


def release_station(s: Session, station: str) -> int:
    """At start: this station holds nothing (its packs were closed as abandoned)."""
    return sum(changed_rows(s.execute(delete(kind.table).where(kind.table.station == station))) or 0 for kind in KINDS)


def release_by_supervisor(s: Session, code: str) -> ClaimHolder | None:
    """A supervisor frees a waybill (its tracking number) or a parcel (its key, from the packing slip) held by
    a station that is gone; returns who held it. A parcel that has its waybill is held as that waybill."""
    targets: list[tuple[Claimable, int]] = []
    if parcels.looks_like_key(code):
        parcel = s.execute(select(m.Parcel.id, m.Parcel.waybill_id)
                           .where(m.Parcel.key == code.strip().upper())).first()
        if parcel is not None:
            targets.append((PARCEL, parcel.id))
            if parcel.waybill_id is not None:
                targets.append((WAYBILL, parcel.waybill_id))
    else:
        waybill_id = s.scalar(select(m.Waybill.id).where(m.Waybill.tracking_number == code))
        if waybill_id is not None:
            targets.append((WAYBILL, waybill_id))
    for kind, target_id in targets:
        C = kind.table
        row = s.execute(select(C.station, C.packer_name, C.claimed_at).where(kind.column == target_id)).first()
        if row is not None:
            s.execute(delete(C).where(kind.column == target_id))
            return ClaimHolder(row.station, row.packer_name, row.claimed_at)
    return None
