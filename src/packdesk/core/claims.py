"""Waybill claims: one station packs a waybill at a time, decided by the database, not by Python.

Claiming is one atomic statement: ``INSERT … ON CONFLICT DO NOTHING`` (SQLite and PostgreSQL both have it)
and, when a claim exists, a conditional ``UPDATE`` that only takes it over if it is this station's own or
has expired. Two stations racing for the same waybill cannot both win: PostgreSQL re-checks the UPDATE's
condition under the row lock, SQLite serialises writers.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from packdesk.core import models as m
from packdesk.core.db import insert_new
from packdesk.core.station import ClaimHolder

DEFAULT_EXPIRY = timedelta(minutes=10)


def claim(s: Session, waybill_id: int, *, station: str, packer_name: str, pack_key: str, now: datetime,
          expiry: timedelta = DEFAULT_EXPIRY) -> ClaimHolder | None:
    """Take the waybill for this station. ``None`` means taken; otherwise who holds it."""
    values = {"waybill_id": waybill_id, "station": station, "packer_name": packer_name, "pack_key": pack_key,
              "claimed_at": now, "renewed_at": now}
    if insert_new(s, m.WaybillClaim, values, "waybill_id"):
        return None
    C = m.WaybillClaim
    taken = s.execute(update(C).where(C.waybill_id == waybill_id,
                                      or_(C.station == station, C.renewed_at < now - expiry))
                      .values({k: v for k, v in values.items() if k != "waybill_id"})).rowcount
    if taken == 1:
        return None
    row = s.execute(select(C.station, C.packer_name, C.claimed_at).where(C.waybill_id == waybill_id)).first()
    if row is None:  # released between our two statements: try once more
        return claim(s, waybill_id, station=station, packer_name=packer_name, pack_key=pack_key, now=now,
                     expiry=expiry)
    return ClaimHolder(row.station, row.packer_name, row.claimed_at)


def renew(s: Session, pack_key: str, now: datetime) -> None:
    """Activity on the pack keeps its claim alive (expiry counts from the last scan)."""
    s.execute(update(m.WaybillClaim).where(m.WaybillClaim.pack_key == pack_key).values(renewed_at=now))


def release(s: Session, pack_key: str) -> None:
    s.execute(delete(m.WaybillClaim).where(m.WaybillClaim.pack_key == pack_key))


def release_station(s: Session, station: str) -> int:
    """At start: this station holds nothing (its packs were closed as abandoned)."""
    return s.execute(delete(m.WaybillClaim).where(m.WaybillClaim.station == station)).rowcount


def release_by_supervisor(s: Session, tracking_number: str) -> ClaimHolder | None:
    """A supervisor frees a waybill held by a station that is gone; returns who held it."""
    row = s.execute(select(m.WaybillClaim.waybill_id, m.WaybillClaim.station, m.WaybillClaim.packer_name,
                           m.WaybillClaim.claimed_at)
                    .join(m.Waybill, m.Waybill.id == m.WaybillClaim.waybill_id)
                    .where(m.Waybill.tracking_number == tracking_number)).first()
    if row is None:
        return None
    s.execute(delete(m.WaybillClaim).where(m.WaybillClaim.waybill_id == row.waybill_id))
    return ClaimHolder(row.station, row.packer_name, row.claimed_at)
