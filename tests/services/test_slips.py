"""Packing slips read from the database: which parcels (an order's, a day's batch by account, date in Korea
time, without a waybill or all), and what each lists (recipient, orders, items x set quantity per line)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from packdesk.channels.base import LineRecord, OrderRecord
from packdesk.core import models as m
from packdesk.core import parcels
from packdesk.core.db import Database
from packdesk.core.enums import LineStatus
from packdesk.core.tracking import with_check_digit
from packdesk.services import collect, mapping, slips
from packdesk.services.excel_orders import create_platform

# 2026-12-05 23:30 KST and 2026-12-06 00:30 KST: two days in Korea, one in UTC
LATE = datetime(2026, 12, 5, 14, 30, tzinfo=UTC)
EARLY = datetime(2026, 12, 5, 15, 30, tzinfo=UTC)


def order(no: str, recipient: str, *lines: tuple[str, int], status: LineStatus = LineStatus.CONFIRMED) -> OrderRecord:
    return OrderRecord(no, recipient, recipient, "010-1234-5678", "06236", f"서울 강남구 {recipient}로 1", "", LATE,
                       LATE, tuple(LineRecord(f"{no}-{i}", code, "", f"상품 {code}", "옵션", qty, status)
                             for i, (code, qty) in enumerate(lines, 1)))


def store(db: Database, account: int, at: datetime, *records: OrderRecord) -> None:
    """Collected at ``at`` (the collection's clock makes the parcels)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(collect, "utcnow", lambda: at)
        with db.session() as s:
            collect.store_orders(s, account, list(records), "test")


@pytest.fixture
def shop(db: Database) -> dict[str, int]:
    with db.session() as s:
        a, b = create_platform(s, "자사몰").id, create_platform(s, "공구몰").id
    store(db, a, LATE, order("A-1", "김민지", ("SET", 2), ("MUG", 1)), order("A-2", "김민지", ("MUG", 3)))
    store(db, a, EARLY, order("A-3", "박서준", ("NEW", 1)))
    store(db, b, EARLY, order("B-1", "이도윤", ("MUG", 1)))
    with db.session() as s:
        products = {(r.account_id, r.product_code): r.id for r in mapping.list_sales_products(s)}
        mapping.create_items(s, [mapping.NewItem(products[(a, "MUG")], "MUG-1", "머그컵", "화이트", ("8800000000011",)),
                                 mapping.NewItem(products[(b, "MUG")], "MUG-B", "머그컵", "블랙")])
        cup = mapping.create_items(s, [mapping.NewItem(products[(a, "SET")], "CUP-1", "컵", barcodes=("cup-1",))])
        mug = mapping.find_items(s, "MUG-1")[0].id
        mapping.link(s, cup[0].id, [(mapping.find_items(s, "CUP-1")[0].id, 3), (mug, 1)])  # a set: 3 cups + a mug
        ids = {r.order_no: r.id for r in s.execute(select(m.Order.order_no, m.Order.id))}
    return {"a": a, "b": b, **ids}


def read(db: Database, job: Callable[[Session], list[slips.Slip]]) -> list[slips.Slip]:
    with db.session() as s:
        return job(s)


def keys(found: list[slips.Slip]) -> list[tuple[str, ...]]:
    return [s.order_nos for s in found]


def test_a_slip_lists_the_recipient_orders_and_items_per_line(db: Database, shop: dict[str, int]) -> None:
    (slip,) = read(db, lambda s: slips.for_orders(s, [shop["A-2"]]))  # the order's parcel: 합포장 with A-1
    assert parcels.looks_like_key(slip.parcel_key) and slip.platform == "자사몰"
    assert (slip.recipient_name, slip.zip_code, slip.address) == ("김민지", "06236", "서울 강남구 김민지로 1")
    assert slip.order_nos == ("A-1", "A-2") and (slip.courier_code, slip.tracking_number) == ("", "")
    got = [(ln.order_no, ln.product_name, ln.quantity, [(it.sku, it.barcode, it.units) for it in ln.items])
           for ln in slip.lines]
    assert got == [("A-1", "상품 SET", 2, [("CUP-1", "cup-1", 6), ("MUG-1", "8800000000011", 2)]),
                   ("A-1", "상품 MUG", 1, [("MUG-1", "8800000000011", 1)]),
                   ("A-2", "상품 MUG", 3, [("MUG-1", "8800000000011", 3)])]
    assert slip.units == 12 and slip.unlinked == ()
    (new,) = read(db, lambda s: slips.for_orders(s, [shop["A-3"]]))
    assert [ln.product_name for ln in new.unlinked] == ["상품 NEW"]  # printed, said to be unlinked


def test_a_days_batch_by_korea_time_account_and_waybill(db: Database, shop: dict[str, int]) -> None:
    assert keys(read(db, lambda s: slips.for_day(s, date(2026, 12, 5)))) == [("A-1", "A-2")]
    assert keys(read(db, lambda s: slips.for_day(s, date(2026, 12, 6)))) == [("A-3",), ("B-1",)]
    assert keys(read(db, lambda s: slips.for_day(s, date(2026, 12, 6), account_id=shop["b"]))) == [("B-1",)]
    assert keys(read(db, lambda s: slips.for_day(s, None, account_id=shop["a"]))) == [("A-1", "A-2"), ("A-3",)]
    with db.session() as t:
        pid = t.scalar(select(m.OrderLine.parcel_id).where(m.OrderLine.product_order_id == "B-1-1"))
        assert pid is not None
        parcels.bind(t, pid, "CJGLS", with_check_digit("56123456789"), now=EARLY, source="import:x.xlsx")
    assert keys(read(db, lambda s: slips.for_day(s, date(2026, 12, 6)))) == [("A-3",)]  # labelled: not for the station
    with_waybill = read(db, lambda s: slips.for_day(s, date(2026, 12, 6), without_waybill=False))
    assert keys(with_waybill) == [("A-3",), ("B-1",)]
    assert (with_waybill[1].courier_code, with_waybill[1].tracking_number) == ("CJGLS", with_check_digit("56123456789"))


def test_nothing_to_pack_prints_nothing(db: Database, shop: dict[str, int]) -> None:
    store(db, shop["b"], EARLY, order("B-1", "이도윤", ("MUG", 1), status=LineStatus.CANCELLED))
    assert read(db, lambda s: slips.for_orders(s, [shop["B-1"]])) == []          # cancelled: no slip
    assert read(db, lambda s: slips.for_orders(s, [])) == [] and read(db, lambda s: slips.slips(s, [999999])) == []
    assert keys(read(db, lambda s: slips.for_day(s, None, account_id=shop["b"]))) == []
