"""Leases: one station at a time runs a warehouse-wide job. Same atomic pattern as waybill claims: insert
if absent, else take over only if it is ours or has lapsed — decided by the database."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from packdesk.core import models as m
from packdesk.core.db import insert_new


def acquire(s: Session, name: str, holder: str, now: datetime, ttl: timedelta) -> bool:
    """Hold (or keep holding) the lease for ``ttl``; False while another station holds it."""
    values = {"name": name, "holder": holder, "acquired_at": now, "expires_at": now + ttl}
    if insert_new(s, m.Lease, values, "name"):
        return True
    L = m.Lease
    took = s.execute(update(L).where(L.name == name, or_(L.holder == holder, L.expires_at < now))
                     .values(holder=holder, expires_at=now + ttl,
                             acquired_at=now)).rowcount
    return took == 1


def holder(s: Session, name: str, now: datetime) -> str | None:
    row = s.execute(select(m.Lease.holder, m.Lease.expires_at).where(m.Lease.name == name)).first()
    return row.holder if row and row.expires_at >= now else None


def release(s: Session, name: str, holder_name: str) -> None:
    s.execute(delete(m.Lease).where(m.Lease.name == name, m.Lease.holder == holder_name))
