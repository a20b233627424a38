"""What the station packs for a parcel's slip and for a waybill, now that lines without a waybill wait in
parcels: a parcel's plan is its lines; a waybill's plan takes the unlabelled lines of its orders only when
they wait in no parcel of their own (a line in another parcel gets its own slip and label)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from packdesk.channels.base import LineRecord, OrderRecord
from packdesk.core import models as m
from packdesk.core import queries
from packdesk.core.db import Database
from packdesk.core.enums import LineStatus
from packdesk.core.tracking import with_check_digit
from packdesk.services import mapping
from packdesk.services.collect import store_orders
from packdesk.services.excel_orders import create_platform

T0 = datetime(2026, 12, 6, 1, 0, tzinfo=UTC)
WB = with_check_digit("56123456789")


def line(pid: str, code: str, qty: int = 1, status: LineStatus = LineStatus.CONFIRMED,
         tracking: str = "") -> LineRecord:
    return LineRecord(pid, code, "", f"상품 {code}", "", qty, status, courier_code="CJGLS" if tracking else "",
                      tracking_number=tracking)


def order(no: str, *lines: LineRecord) -> OrderRecord:
    return OrderRecord(no, "김민지", "김민지", "010-1234-5678", "06236", "서울 강남구 테헤란로 1", "", T0, T0, lines)


@pytest.fixture
def account(db: Database) -> int:
    with db.session() as s:
        return create_platform(s, "자사몰").id


def store(db: Database, account: int, *records: OrderRecord) -> None:
    with db.session() as s:
        store_orders(s, account, list(records), "test")


def parcel_of(db: Database, pid: str) -> int | None:
    with db.session() as s:
        return s.scalar(select(m.OrderLine.parcel_id).where(m.OrderLine.product_order_id == pid))


def test_a_parcels_plan_is_its_lines_with_their_items_and_barcodes(db: Database, account: int) -> None:
    store(db, account, order("A", line("A-1", "MUG", 2), line("A-2", "SET")), order("B", line("B-1", "MUG")))
    with db.session() as s:
        products = {r.product_code: r.id for r in mapping.list_sales_products(s)}
        mapping.create_items(s, [mapping.NewItem(products["MUG"], "MUG-1", "머그컵", barcodes=("8800000000011",))])
        cup = mapping.create_items(s, [mapping.NewItem(products["SET"], "CUP-1", "컵", barcodes=("cup-1",))])
        mug_id = mapping.find_items(s, "MUG-1")[0].id
        mapping.link(s, cup[0].id, [(mapping.find_items(s, "CUP-1")[0].id, 3), (mug_id, 1)])  # a set: 3 cups + 1 mug
    pid = parcel_of(db, "A-1")
    assert pid is not None and parcel_of(db, "B-1") == pid  # 합포장: one buyer, one address, one box
    with db.session() as s:
        key = s.scalar(select(m.Parcel.key).where(m.Parcel.id == pid))
        assert key is not None
        row = queries.find_parcel(s, key.lower())  # a scan read in Hangul mode loses the case
        assert row is not None and (row.id, row.key, row.waybill_id) == (pid, key, None)
        assert queries.find_parcel(s, "PD-P-NOSUCH22") is None and queries.find_parcel(s, "A-1") is None
        plan = queries.load_parcel_plan(s, row)
    assert (plan.waybill_id, plan.parcel_id, plan.tracking_number, plan.courier_code) == (None, pid, key, "")
    assert plan.awaits_label and plan.recipient_name == "김민지"
    assert sorted(ln.product_order_id for ln in plan.lines) == ["A-1", "A-2", "B-1"]
    by_sku = {plan.items[i].sku: n for i, n in plan.expected().items()}
    assert by_sku == {"MUG-1": 2 + 1 + 1, "CUP-1": 3}  # items x set quantity, over the lines
    assert plan.item_for_barcode("8800000000011") is not None and plan.item_for_barcode("CUP-1") is not None


def test_an_unlabelled_line_of_a_labelled_order_rides_with_its_waybill(db: Database, account: int) -> None:
    store(db, account, order("A", line("A-1", "MUG", tracking=WB), line("A-2", "CUP")))
    assert parcel_of(db, "A-2") is None  # no slip of its own: it is in the waybill's box
    with db.session() as s:
        plan = queries.load_plan(s, WB)
    assert plan is not None and sorted(ln.product_order_id for ln in plan.lines) == ["A-1", "A-2"]


def test_a_line_waiting_in_a_parcel_is_not_packed_under_another_waybill(db: Database, account: int) -> None:
    # the labelled line was cancelled: the other one has no box to ride in, and waits in a parcel of its own
    store(db, account, order("A", line("A-1", "MUG", status=LineStatus.CANCELLED, tracking=WB), line("A-2", "CUP")))
    pid = parcel_of(db, "A-2")
    assert pid is not None
    with db.session() as s:
        plan = queries.load_plan(s, WB)
        row = s.execute(select(m.Parcel.id, m.Parcel.key, m.Parcel.waybill_id).where(m.Parcel.id == pid)).one()
        parcel_plan = queries.load_parcel_plan(s, row)
    assert plan is not None and [ln.product_order_id for ln in plan.lines] == ["A-1"]  # only the cancelled one
    assert not plan.active_lines
    assert [ln.product_order_id for ln in parcel_plan.lines] == ["A-2"]  # A-1 is its waybill's, not the parcel's
