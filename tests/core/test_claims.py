"""Claims on both tables: a waybill, or a parcel opened from its packing slip, is packed by one station at a
time. The same statements serve both (``core/claims.py``); renewing and releasing cover both. Runs on SQLite
and, with PACKDESK_TEST_DATABASE_URL, on PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from packdesk.channels.base import LineRecord, OrderRecord
from packdesk.core import claims, parcels
from packdesk.core import models as m
from packdesk.core.db import Database
from packdesk.core.enums import LineStatus
from packdesk.core.tracking import with_check_digit
from packdesk.services.collect import store_orders
from packdesk.services.excel_orders import create_platform

T0 = datetime(2026, 12, 6, 1, 0, tzinfo=UTC)
NUMBER = with_check_digit("56123456789")


def record(no: str, recipient: str) -> OrderRecord:
    return OrderRecord(no, recipient, recipient, "010-1234-5678", "06236", f"서울 {no}", "", T0, T0,
                       (LineRecord(f"{no}-1", "P1", "", "원목 코스터", "", 1, LineStatus.CONFIRMED),))


@pytest.fixture
def ids(db: Database) -> dict[str, int]:
    """Two parcels made by a collection; the second bound to a waybill, as an import would."""
    with db.session() as s:
        account = create_platform(s, "자사몰").id
        store_orders(s, account, [record("A", "김민지"), record("B", "박서준")], "test")
    with db.session() as s:
        keys = {r.order_no: r.key for r in s.execute(
            select(m.Order.order_no, m.Parcel.key).join(m.OrderLine, m.OrderLine.order_id == m.Order.id)
            .join(m.Parcel, m.Parcel.id == m.OrderLine.parcel_id))}
        a, b = parcels.find_by_key(s, keys["A"]), parcels.find_by_key(s, keys["B"])
        assert a is not None and b is not None
        waybill = parcels.bind(s, b, "CJGLS", NUMBER, now=T0, source="import:t.xlsx").waybill_id
    return {"a": a, "b": b, "waybill": waybill}


def take(db: Database, target: int, kind: claims.Claimable, station: str, key: str, at: datetime = T0
         ) -> claims.ClaimHolder | None:
    with db.session() as s:
        return claims.claim(s, target, station=station, packer_name=f"{station}-packer", pack_key=key, now=at,
                            kind=kind)


def held(db: Database) -> dict[str, list[str]]:
    with db.session() as s:
        return {"waybill": sorted(s.scalars(select(m.WaybillClaim.pack_key))),
                "parcel": sorted(s.scalars(select(m.ParcelClaim.pack_key)))}


def test_a_parcel_is_claimed_like_a_waybill_and_in_its_own_table(db: Database, ids: dict[str, int]) -> None:
    assert take(db, ids["a"], claims.PARCEL, "S1", "k1") is None
    # the same id in the other table is another thing: a waybill with that id is not the parcel
    assert take(db, ids["waybill"], claims.WAYBILL, "S2", "k2") is None
    holder = take(db, ids["a"], claims.PARCEL, "S2", "k3")
    assert holder is not None and (holder.station, holder.packer_name, holder.since) == ("S1", "S1-packer", T0)
    assert take(db, ids["a"], claims.PARCEL, "S1", "k4") is None      # its own station takes it back
    late = T0 + claims.DEFAULT_EXPIRY + timedelta(seconds=1)
    assert take(db, ids["a"], claims.PARCEL, "S2", "k5", late) is None  # a gone station's claim lapses
    assert held(db) == {"waybill": ["k2"], "parcel": ["k5"]}


def test_renew_and_release_go_by_the_pack_whatever_it_was_of(db: Database, ids: dict[str, int]) -> None:
    take(db, ids["a"], claims.PARCEL, "S1", "kp")
    take(db, ids["waybill"], claims.WAYBILL, "S1", "kw")
    later = T0 + timedelta(minutes=9)
    with db.session() as s:
        claims.renew(s, "kp", later)
        claims.renew(s, "kw", later)
    assert take(db, ids["a"], claims.PARCEL, "S2", "x", later + timedelta(minutes=5)) is not None  # kept alive
    with db.session() as s:
        claims.release(s, "kp")
    assert held(db) == {"waybill": ["kw"], "parcel": []}
    take(db, ids["a"], claims.PARCEL, "S1", "kp2")
    with db.session() as s:
        assert claims.release_station(s, "S1") == 2
    assert held(db) == {"waybill": [], "parcel": []}


def test_a_supervisor_frees_a_parcel_by_its_key_or_its_waybill(db: Database, ids: dict[str, int]) -> None:
    with db.session() as s:
        key_a = s.scalar(select(m.Parcel.key).where(m.Parcel.id == ids["a"]))
        key_b = s.scalar(select(m.Parcel.key).where(m.Parcel.id == ids["b"]))
    assert key_a and key_b
    take(db, ids["a"], claims.PARCEL, "S1", "k1")
    take(db, ids["waybill"], claims.WAYBILL, "S2", "k2")  # parcel B, opened by its slip, is packed as its waybill
    with db.session() as s:
        assert claims.release_by_supervisor(s, "PD-P-NOSUCH22") is None
        assert claims.release_by_supervisor(s, "000000000000") is None
        holder = claims.release_by_supervisor(s, key_a.lower())
        assert holder is not None and holder.station == "S1"
        holder = claims.release_by_supervisor(s, key_b)
        assert holder is not None and holder.station == "S2"
        assert claims.release_by_supervisor(s, key_b) is None  # nothing held any more
    take(db, ids["waybill"], claims.WAYBILL, "S3", "k3")
    with db.session() as s:
        holder = claims.release_by_supervisor(s, NUMBER)
        assert holder is not None and holder.station == "S3"
        assert s.scalar(select(func.count()).select_from(m.WaybillClaim)) == 0
