"""One station runs a warehouse-wide job; another takes over once the holder's lease lapses."""

from datetime import UTC, datetime, timedelta

from packdesk.core import leases
from packdesk.core.db import Database

T0 = datetime(2026, 11, 24, 0, 0, tzinfo=UTC)
TTL = timedelta(seconds=60)


def test_one_holder_renewal_and_takeover(db: Database) -> None:
    with db.session() as s:
        assert leases.acquire(s, "collector", "S1", T0, TTL)
    with db.session() as s:
        assert not leases.acquire(s, "collector", "S2", T0 + timedelta(seconds=30), TTL)
        assert leases.acquire(s, "collector", "S1", T0 + timedelta(seconds=30), TTL)  # renewal
    with db.session() as s:  # S1 died after its last renewal at +30 s: S2 takes over within a minute
        assert not leases.acquire(s, "collector", "S2", T0 + timedelta(seconds=89), TTL)
        assert leases.acquire(s, "collector", "S2", T0 + timedelta(seconds=91), TTL)
        assert leases.holder(s, "collector", T0 + timedelta(seconds=92)) == "S2"
    with db.session() as s:
        leases.release(s, "collector", "S2")
        assert leases.holder(s, "collector", T0 + timedelta(seconds=92)) is None
        assert leases.acquire(s, "uploader", "S3", T0, TTL)  # leases are per job
