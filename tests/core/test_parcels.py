"""Parcels: collected lines without a waybill wait in one per box; a checked number binds to it once."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from packdesk.channels.base import LineRecord, OrderRecord
from packdesk.core import models as m
from packdesk.core import parcels
from packdesk.core.db import Database
from packdesk.core.enums import LineStatus
from packdesk.core.tracking import with_check_digit
from packdesk.services.collect import store_orders
from packdesk.services.excel_orders import create_platform

NOW = datetime(2026, 12, 6, 1, 0, tzinfo=UTC)
CJ_1 = with_check_digit("56123456789")
CJ_2 = with_check_digit("56123456790")


def order(no: str, recipient: str = "김민지", address: str = "서울 강남구 테헤란로 1", pids: tuple[str, ...] = (),
          status: LineStatus = LineStatus.CONFIRMED, tracking: str = "") -> OrderRecord:
    lines = tuple(LineRecord(pid, "P1", "", "원목 코스터", "", 1, status, courier_code="CJGLS" if tracking else "",
                             tracking_number=tracking) for pid in (pids or (f"{no}-1",)))
    return OrderRecord(no, recipient, recipient, "010-1234-5678", "06236", address, "", NOW, NOW, lines)


@pytest.fixture
def account(db: Database) -> int:
    with db.session() as s:
        return create_platform(s, "자사몰").id


def store(db: Database, account: int, *records: OrderRecord) -> None:
    with db.session() as s:
        store_orders(s, account, list(records), "test")


def parcel_of(db: Database) -> dict[str, int | None]:
    with db.session() as s:
        return {r[0]: r[1] for r in s.execute(select(m.OrderLine.product_order_id, m.OrderLine.parcel_id))}


def test_collected_lines_without_waybill_get_parcels_one_per_recipient(db: Database, account: int) -> None:
    store(db, account, order("A", pids=("A-1", "A-2")), order("B", recipient="김 민지 "),  # same buyer, spaces
          order("C", recipient="박서준"), order("D", tracking=CJ_1))
    got = parcel_of(db)
    assert got["A-1"] == got["A-2"] == got["B-1"] is not None   # 합포장: one box for one buyer and address
    assert got["C-1"] not in (None, got["A-1"])
    assert got["D-1"] is None                                    # it came with its waybill
    store(db, account, OrderRecord("D", "이도윤", "이도윤", "010", "1", "부산", "", NOW, NOW, (
        LineRecord("D-1", "P1", "", "원목 코스터", "", 1, LineStatus.CONFIRMED, courier_code="CJGLS",
                   tracking_number=CJ_1),
        LineRecord("D-2", "P2", "", "컵", "", 1, LineStatus.CONFIRMED))))
    assert parcel_of(db)["D-2"] is None                         # it ships in its order's labelled box
    with db.session() as s:
        keys = s.scalars(select(m.Parcel.key)).all()
    assert len(keys) == 2 and all(parcels.looks_like_key(k) for k in keys)
    assert all(parcels.looks_like_key(k.lower()) for k in keys)  # a scan read from Hangul text loses case


def test_assign_is_idempotent_and_later_lines_join_the_open_parcel(db: Database, account: int) -> None:
    store(db, account, order("A"))
    store(db, account, order("A"))  # collected again
    with db.session() as s:
        assert parcels.assign(s, NOW) == 0
    store(db, account, order("B"))  # the same buyer's next order, before the label came back
    got = parcel_of(db)
    assert got["A-1"] == got["B-1"]


def test_lines_that_name_different_couriers_never_share_a_parcel(db: Database, account: int) -> None:
    """One buyer's orders, one sheet naming CJ대한통운 for some and 한진 for another (no numbers yet): a box per
    courier, so each courier's export takes its own; a line naming none joins the buyer's box, also later."""
    def named(no: str, courier: str) -> OrderRecord:
        return OrderRecord(no, "김민지", "김민지", "010-1234-5678", "06236", "서울 강남구 테헤란로 1", "", NOW, NOW,
                           (LineRecord(f"{no}-1", "P1", "", "원목 코스터", "", 1, LineStatus.CONFIRMED,
                                       courier_code=courier),))

    store(db, account, named("A", "CJGLS"), named("B", "HANJIN"), named("C", ""), named("D", "CJGLS"))
    got = parcel_of(db)
    assert got["A-1"] == got["D-1"] and got["A-1"] != got["B-1"]
    assert got["C-1"] in (got["A-1"], got["B-1"])
    store(db, account, named("E", "HANJIN"), named("F", ""))     # the next day's sheet, before any label
    got = parcel_of(db)
    assert got["E-1"] == got["B-1"] and got["F-1"] in (got["A-1"], got["B-1"])
    with db.session() as s:
        couriers = {r[0]: r[1] for r in s.execute(select(m.OrderLine.product_order_id, m.OrderLine.courier_code))}
    assert couriers == {"A-1": "CJGLS", "B-1": "HANJIN", "C-1": None, "D-1": "CJGLS", "E-1": "HANJIN", "F-1": None}


def test_bind_sets_the_waybill_on_the_parcel_and_its_lines_and_rebinding_is_harmless(db: Database,
                                                                                      account: int) -> None:
    store(db, account, order("A", pids=("A-1", "A-2")))
    pid = parcel_of(db)["A-1"]
    assert pid is not None
    with db.session() as s:
        bound = parcels.bind(s, pid, "CJGLS", f"{CJ_1[:4]}-{CJ_1[4:8]}-{CJ_1[8:]}", now=NOW, source="import:x.xlsx")
    assert (bound.tracking_number, bound.already) == (CJ_1, False)
    with db.session() as s:
        tracking = s.execute(select(m.OrderLine.product_order_id, m.Waybill.tracking_number)
                             .join(m.Waybill, m.Waybill.id == m.OrderLine.waybill_id)).all()
        assert sorted(tracking) == [("A-1", CJ_1), ("A-2", CJ_1)]
        again = parcels.bind(s, pid, "CJGLS", CJ_1, now=NOW, source="import:x.xlsx")
    assert again.already
    store(db, account, order("B"))  # the same buyer's next order: that box has its label, a new parcel
    assert parcel_of(db)["B-1"] not in (None, pid)


def test_bind_refuses_misreads_numbers_in_use_and_a_second_number(db: Database, account: int) -> None:
    store(db, account, order("A"), order("B", recipient="박서준"), order("C", recipient="이도윤", tracking=CJ_2))
    got = parcel_of(db)
    a, b = got["A-1"], got["B-1"]
    assert a is not None and b is not None
    with db.session() as s:
        with pytest.raises(parcels.BindRefused) as e:
            parcels.bind(s, a, "CJGLS", CJ_1[:-1] + str((int(CJ_1[-1]) + 1) % 10), now=NOW, source="t")
        assert e.value.code == "tracking_check_digit"
        parcels.bind(s, a, "CJGLS", CJ_1, now=NOW, source="t")
    with db.session() as s:
        with pytest.raises(parcels.BindRefused) as e:
            parcels.bind(s, b, "CJGLS", CJ_1, now=NOW, source="t")
        assert (e.value.code, e.value.params["used_by"]) == ("tracking_used", s.scalar(
            select(m.Parcel.key).where(m.Parcel.id == a)))
        with pytest.raises(parcels.BindRefused) as e:
            parcels.bind(s, b, "CJGLS", CJ_2, now=NOW, source="t")  # order C's own waybill
        assert (e.value.code, e.value.params["used_by"]) == ("tracking_used", "C")
        with pytest.raises(parcels.BindRefused) as e:
            parcels.bind(s, a, "CJGLS", with_check_digit("56123456791"), now=NOW, source="t")
        assert e.value.code == "parcel_has_waybill"
        with pytest.raises(parcels.BindRefused) as e:
            parcels.bind(s, b, "NOPE", CJ_1, now=NOW, source="t")
        assert e.value.code == "bind_courier_unknown"
