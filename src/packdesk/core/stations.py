"""One PC per station name. Same atomic pattern as leases: insert if absent, else take the name only if it
is ours or its PC has not been seen for ``STALE`` (crashed, switched off, renamed) — decided by the
database, so two PCs starting at once cannot both have it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from packdesk.core import models as m
from packdesk.core.db import changed_rows, insert_new
from packdesk.core.errors import KnownError

STALE = timedelta(minutes=2)      # a running station says it is alive every 30 s
HEARTBEAT_S = 30


class StationNameTaken(KnownError):
    code = "station_name_taken"


def register(s: Session, name: str, host_id: str, host_name: str, now: datetime) -> None:
    """Take ``name`` for this PC; raises ``StationNameTaken`` while another live PC has it."""
    values = {"name": name, "host_id": host_id, "host_name": host_name[:100], "started_at": now,
              "last_seen_at": now}
    if insert_new(s, m.StationRow, values, "name"):
        return
    S = m.StationRow
    took = changed_rows(s.execute(
        update(S).where(S.name == name, or_(S.host_id == host_id, S.last_seen_at < now - STALE))
        .values(host_id=host_id, host_name=host_name[:100], started_at=now, last_seen_at=now)))
    if took != 1:
        other = s.execute(select(S.host_name, S.last_seen_at).where(S.name == name)).one()
        raise StationNameTaken(detail=f"station {name!r} is in use by {other.host_name} (seen {other.last_seen_at})",
                               station=name, host=other.host_name, since=other.last_seen_at)


def heartbeat(s: Session, name: str, host_id: str, now: datetime) -> bool:
    """Still ours? False if another PC took the name meanwhile (this one was unseen too long)."""
    S = m.StationRow
    return changed_rows(s.execute(update(S).where(S.name == name, S.host_id == host_id)
                                  .values(last_seen_at=now))) == 1


def release(s: Session, name: str, host_id: str) -> None:
    """A clean shutdown frees the name at once (another PC may start under it)."""
    S = m.StationRow
    s.execute(update(S).where(S.name == name, S.host_id == host_id)
              .values(last_seen_at=datetime(2000, 1, 1, tzinfo=UTC)))
