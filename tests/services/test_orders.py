"""Orders typed in (수기 주문) against the demo database: every refusal names its field in Korean and English and
writes nothing; a stored order is packed by the station as it is; internal waybill numbers count per Korean
day; a force-cancel is refused at the station and kept in history, and refused once packed; delete is allowed
before packing and refused after; a manual pack queues no dispatch."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from packdesk.channels.demo import BARCODE, Scenario
from packdesk.core import models as m
from packdesk.core.db import Database
from packdesk.core.enums import ChannelKind, LineStatus, PackOutcome
from packdesk.core.station import FORCE_CANCELLED, Msg
from packdesk.core.words import CATALOGUE as ERROR_TEXT
from packdesk.services import orders as so
from packdesk.services.accounts import remove_account
from packdesk.services.orders import ManualLine, ManualOrder, OrderRefused
from packdesk.ui.messages import error_text
from tests.services.test_station_service import Rig

WHO = "김관리"


def item_id(db: Database, sku: str) -> int:
    with db.session() as s:
        return s.scalars(select(m.Item.id).where(m.Item.sku == sku)).one()


def order(db: Database, **changes: Any) -> ManualOrder:
    base = ManualOrder(order_no="M-1001", recipient_name="홍길동", phone="010-1234-5678", zip_code="06236",
                       address="서울특별시 강남구 테헤란로 1", delivery_message="문 앞에 놓아주세요",
                       lines=(ManualLine(item_id(db, "MUG-WH-01"), 2, "세라믹 머그컵 화이트"),
                              ManualLine(item_id(db, "TMB-500"), 1, "스텐 텀블러 500ml")))
    return ManualOrder(**{**base.__dict__, **changes})


def create(db: Database, o: ManualOrder, now: datetime | None = None) -> so.CreatedOrder:
    with db.session() as s:
        return so.create_manual_order(s, o, WHO, now)


def counts(db: Database) -> tuple[int, ...]:
    with db.session() as s:
        return tuple(s.scalar(select(func.count()).select_from(t)) or 0
                     for t in (m.Order, m.OrderLine, m.Waybill, m.LineStatusChange, m.ProductMapping,
                               m.SalesProduct, m.ChannelAccount))


@pytest.fixture
def rig(demo_db: Database) -> Iterator[Rig]:
    r = Rig(demo_db)
    yield r
    r.worker.close()


# ------------------------------------------------------------------------------------------------ refusals

LONG = "가" * 21


@pytest.mark.parametrize(("changes", "code", "field_key", "params"), [
    ({"platform": "  "}, "order_field_required", "platform", {}),
    ({"platform": "가" * 101}, "order_field_too_long", "platform", {"limit": 100, "length": 101}),
    ({"order_no": ""}, "order_field_required", "order_no", {}),
    ({"order_no": "M" * 65}, "order_field_too_long", "order_no", {"limit": 64}),
    ({"order_no": "M" * 60}, "order_field_too_long", "order_no", {"limit": 54, "length": 60}),  # "|MUG-WH-01"
    ({"recipient_name": " "}, "order_field_required", "recipient_name", {}),
    ({"recipient_name": LONG}, "order_field_too_long", "recipient_name", {"limit": 20, "length": 21}),
    ({"recipient_name": "홍\n길동"}, "order_field_invalid", "recipient_name", {}),
    ({"phone": ""}, "order_field_required", "phone", {}),
    ({"phone": "010-1234-567a"}, "order_phone_invalid", "phone", {"value": "010-1234-567a"}),
    ({"phone": "010 1234 5678"}, "order_phone_invalid", "phone", {}),
    ({"phone": "0101234567890123"}, "order_phone_invalid", "phone", {}),  # 16 characters
    ({"phone": "(02)123-45"}, "order_phone_invalid", "phone", {}),        # 7 digits
    ({"zip_code": ""}, "order_field_required", "zip_code", {}),
    ({"zip_code": "0623"}, "order_zip_invalid", "zip_code", {"value": "0623"}),
    ({"address": ""}, "order_field_required", "address", {}),
    ({"address": "가" * 301}, "order_field_too_long", "address", {"limit": 300}),
    ({"delivery_message": "가" * 301}, "order_field_too_long", "delivery_message", {"limit": 300}),
    ({"country": ""}, "order_field_required", "country", {}),
    ({"country": "KOR"}, "order_country_invalid", "country", {"value": "KOR"}),
    ({"country": "XX"}, "order_country_invalid", "country", {}),
    ({"country": "us"}, "order_country_unsupported", "country", {"value": "US"}),
    ({"lines": ()}, "order_no_items", "lines", {}),
    ({"courier_code": "NOPE"}, "order_courier_unknown", "courier", {"value": "NOPE"}),
    ({"tracking_number": "1234 5678"}, "order_tracking_invalid", "tracking_number", {}),
    ({"tracking_number": "1" * 41}, "order_field_too_long", "tracking_number", {"limit": 40}),
    ({"tracking_number": "PDM2611240001"}, "order_tracking_reserved", "tracking_number", {}),
    ({"tracking_number": "pd-cmd-complete"}, "order_tracking_reserved", "tracking_number", {}),
])
def test_every_field_refusal_names_the_field_and_why(demo_db: Database, changes: dict[str, Any], code: str,
                                                     field_key: str, params: dict[str, Any]) -> None:
    before = counts(demo_db)
    with pytest.raises(OrderRefused) as got:
        create(demo_db, order(demo_db, **changes))
    e = got.value
    assert (e.code, e.field_key) == (code, field_key)
    assert {k: e.params[k] for k in params} == params
    ko, en = error_text(e)
    assert code in ERROR_TEXT and ko.startswith(so.FIELDS[field_key].ko) and en.startswith(so.FIELDS[field_key].en)
    assert re.search("[가-힣]", ko) and not re.search("[가-힣]", en.replace(str(e.params.get("value", "")), ""))
    assert counts(demo_db) == before  # nothing written, not even the platform


def test_invisible_control_characters_typed_or_pasted_are_removed_not_stored(demo_db: Database) -> None:
    """NUL (which PostgreSQL refuses) and the like are removed as from every order; a line break in a one-line
    field is still refused, saying so (the test above)."""
    created = create(demo_db, order(demo_db, recipient_name="홍\x00길동",
                                    address="서울\x00특별시 강남구 \x1b테헤란로 1", delivery_message="문 앞\x07에"))
    with demo_db.session() as s:
        row = s.get_one(m.Order, created.order_id)
        assert (row.recipient_name, row.address, row.delivery_message) == ("홍길동", "서울특별시 강남구 테헤란로 1",
                                                                            "문 앞에")


def test_item_refusals_name_the_item_and_its_line(demo_db: Database) -> None:
    mug, tumbler = item_id(demo_db, "MUG-WH-01"), item_id(demo_db, "TMB-500")
    cases = [
        ((ManualLine(mug, 1), ManualLine(tumbler, 0, "텀블러")), "order_quantity_invalid", 1, "텀블러"),
        ((ManualLine(mug, 1_000_001, "머그컵"),), "order_quantity_invalid", 0, "머그컵"),
        ((ManualLine(mug, True, "머그컵"),), "order_quantity_invalid", 0, "머그컵"),  # type: ignore[arg-type]
        ((ManualLine(mug, 1, "머그컵"), ManualLine(mug, 2, "머그컵")), "order_item_repeated", 1, "머그컵"),
        ((ManualLine(mug, 1), ManualLine(999_999, 1)), "order_item_unknown", 1, "#999999"),
    ]
    before = counts(demo_db)
    for lines, code, line, item in cases:
        with pytest.raises(OrderRefused) as got:
            create(demo_db, order(demo_db, lines=lines))
        assert (got.value.code, got.value.field_key, got.value.line) == (code, "lines", line)
        ko, en = error_text(got.value)
        assert item in ko and item in en and ko.startswith("출고상품") and en.startswith("Items"), (ko, en)
    with demo_db.session() as s:  # an SKU too long to become a product code "ITEM:<sku>"
        s.add(m.Item(sku="L" * 60, name="긴 SKU 상품"))
    with pytest.raises(OrderRefused) as got:
        create(demo_db, order(demo_db, lines=(ManualLine(item_id(demo_db, "L" * 60), 1),)))
    assert (got.value.code, got.value.params["limit"]) == ("order_item_code_too_long", 59)
    # the most a line can hold is accepted
    create(demo_db, order(demo_db, lines=(ManualLine(mug, 1_000_000),)))
    assert counts(demo_db) != before
    ko, _ = error_text(OrderRefused("order_quantity_invalid", field_key="lines", item="머그컵", value=0,
                                    limit=f"{so.MAX_QUANTITY:,}"))
    assert "1~1,000,000" in ko


def test_a_taken_order_number_or_tracking_number_is_refused(demo_db: Database) -> None:
    first = create(demo_db, order(demo_db, tracking_number="555123456786", courier_code="HANJIN"))
    assert (first.tracking_number, first.courier_code, first.internal) == ("555123456786", "HANJIN", False)
    with pytest.raises(OrderRefused) as got:
        create(demo_db, order(demo_db))
    assert (got.value.code, got.value.field_key) == ("order_no_taken", "order_no")
    assert error_text(got.value) == ("주문번호: 판매처 '수기 주문'에 같은 주문번호가 이미 있습니다: M-1001",
                                     "Order number: platform '수기 주문' already has this order number: M-1001")
    with pytest.raises(OrderRefused) as got:
        create(demo_db, order(demo_db, order_no="M-1002", tracking_number="555123456786"))
    assert (got.value.code, got.value.field_key, got.value.params["order_no"]) == ("tracking_taken",
                                                                                   "tracking_number", "M-1001")
    with pytest.raises(OrderRefused) as got:  # a collected order's waybill too
        create(demo_db, order(demo_db, order_no="M-1002", tracking_number=Scenario.SIMPLE,
                                 courier_code="KDEXP"))  # (its courier has no check digit)
    assert got.value.code == "tracking_taken" and "다른 주문" in error_text(got.value)[0]
    # the same order number on another platform is another order
    other = create(demo_db, order(demo_db, platform="  자사몰   전화 ", tracking_number=""))
    assert other.platform == "자사몰 전화" and other.account_id != first.account_id


# ------------------------------------------------------------------------------------------------ storing


def test_a_typed_order_is_stored_ready_to_pack_and_the_station_packs_it(demo_db: Database, rig: Rig) -> None:
    now = datetime(2026, 11, 24, 1, 0, tzinfo=UTC)
    made = create(demo_db, order(demo_db), now)
    assert made.internal and made.tracking_number == "PDM2611240001" and made.courier_code == "CJGLS"
    with demo_db.session() as s:
        acc = s.get_one(m.ChannelAccount, made.account_id)
        assert (acc.kind, acc.name) == (ChannelKind.MANUAL, so.DEFAULT_PLATFORM)
        o = s.get_one(m.Order, made.order_id)
        assert (o.order_no, o.recipient_name, o.recipient_phone, o.zip_code, o.delivery_message) == (
            "M-1001", "홍길동", "010-1234-5678", "06236", "문 앞에 놓아주세요")
        lines = s.scalars(select(m.OrderLine).where(m.OrderLine.order_id == o.id).order_by(m.OrderLine.id)).all()
        assert [(ln.product_code, ln.option_code, ln.product_order_id, ln.product_name, ln.option_name, ln.quantity,
                 ln.status) for ln in lines] == [
            ("ITEM:MUG-WH-01", "", "M-1001|MUG-WH-01", "세라믹 머그컵", "화이트", 2, LineStatus.CONFIRMED),
            ("ITEM:TMB-500", "", "M-1001|TMB-500", "스텐 텀블러 500ml", "", 1, LineStatus.CONFIRMED)]
        assert {ln.waybill_id for ln in lines} == {s.scalars(select(m.Waybill.id).where(
            m.Waybill.tracking_number == "PDM2611240001")).one()}
        history = s.scalars(select(m.LineStatusChange).where(
            m.LineStatusChange.line_id.in_([ln.id for ln in lines]))).all()
        assert sorted((h.status, h.source, h.changed_at) for h in history) == [
            (LineStatus.CONFIRMED, f"manual:{WHO}", now)] * 2
        links = s.execute(select(m.ProductMapping.product_code, m.ProductMapping.option_code, m.Item.sku,
                                 m.ProductMapping.quantity).join(m.Item, m.Item.id == m.ProductMapping.item_id)
                          .where(m.ProductMapping.account_id == acc.id).order_by(m.ProductMapping.product_code)).all()
        assert [tuple(r) for r in links] == [("ITEM:MUG-WH-01", "", "MUG-WH-01", 1), ("ITEM:TMB-500", "", "TMB-500", 1)]
        products = s.scalars(select(m.SalesProduct).where(m.SalesProduct.account_id == acc.id)).all()
        assert sorted((p.product_code, p.product_name, p.is_new) for p in products) == [
            ("ITEM:MUG-WH-01", "세라믹 머그컵", False), ("ITEM:TMB-500", "스텐 텀블러 500ml", False)]

    rig.scan("PD-PACKER-001", "PDM2611240001")
    assert rig.message is Msg.PACK_STARTED
    rig.scan(BARCODE["MUG-WH-01"], BARCODE["TMB-500"], BARCODE["MUG-WH-01"])
    assert rig.message is Msg.PACK_COMPLETE
    with demo_db.session() as s:
        assert set(s.scalars(select(m.OrderLine.status).where(m.OrderLine.order_id == made.order_id))) == {
            LineStatus.PACKED}
        assert s.scalar(select(func.count()).select_from(m.DispatchEntry)) == 0  # no marketplace to tell
        row = so.get_order(s, made.order_id)
        assert row.packed and row.packing_started and not row.can_force_cancel and not row.can_delete


def test_internal_numbers_count_up_per_korean_day(demo_db: Database) -> None:
    late = datetime(2026, 11, 24, 14, 59, tzinfo=UTC)   # 23:59 in Korea
    numbers = [create(demo_db, order(demo_db, order_no=f"N-{i}"), late + timedelta(seconds=i)).tracking_number
               for i in range(3)]
    numbers.append(create(demo_db, order(demo_db, order_no="N-3"), late + timedelta(minutes=1)).tracking_number)
    numbers.append(create(demo_db, order(demo_db, order_no="N-4", platform="전화 주문"),
                          late + timedelta(minutes=2)).tracking_number)
    assert numbers == ["PDM2611240001", "PDM2611240002", "PDM2611240003", "PDM2611250001", "PDM2611250002"]
    with demo_db.session() as s:
        s.add(m.Waybill(courier_code="CJGLS", tracking_number="PDM2611259999"))
    with pytest.raises(OrderRefused) as got:
        create(demo_db, order(demo_db, order_no="N-5"), late + timedelta(minutes=3))
    assert got.value.code == "order_numbers_exhausted" and "9,999" in error_text(got.value)[0]


def test_the_link_of_a_typed_product_is_set_back_to_its_item(demo_db: Database) -> None:
    made = create(demo_db, order(demo_db))
    with demo_db.session() as s:  # someone relinked ITEM:TMB-500 to the black mug in the link screen
        p = s.scalars(select(m.ProductMapping).where(m.ProductMapping.account_id == made.account_id,
                                                     m.ProductMapping.product_code == "ITEM:TMB-500")).one()
        p.item_id, p.quantity = item_id(demo_db, "MUG-BK-01"), 3
    create(demo_db, order(demo_db, order_no="M-1002"))
    with demo_db.session() as s:
        rows = s.execute(select(m.ProductMapping.item_id, m.ProductMapping.quantity).where(
            m.ProductMapping.account_id == made.account_id, m.ProductMapping.product_code == "ITEM:TMB-500")).all()
    assert [tuple(r) for r in rows] == [(item_id(demo_db, "TMB-500"), 1)]


def test_platforms_are_made_on_first_use_and_listed_default_first(demo_db: Database) -> None:
    with demo_db.session() as s:
        assert so.list_platforms(s) == [so.DEFAULT_PLATFORM]
    made = create(demo_db, order(demo_db, platform="카카오 선물하기"))
    create(demo_db, order(demo_db, order_no="M-2"))
    with demo_db.session() as s:
        assert so.list_platforms(s) == [so.DEFAULT_PLATFORM, "카카오 선물하기"]
    remove_account(demo_db, made.account_id, by=WHO)  # the order was not packed: it goes with the platform
    with demo_db.session() as s:
        assert so.list_platforms(s) == [so.DEFAULT_PLATFORM]
    again = create(demo_db, order(demo_db, platform="카카오 선물하기"))  # named again: the same platform back
    assert again.account_id == made.account_id


def test_an_item_is_found_by_a_scan_in_any_case(demo_db: Database) -> None:
    with demo_db.session() as s:
        assert so.item_for_code(s, BARCODE["TMB-500"]).sku == "TMB-500"  # type: ignore[union-attr]
        assert so.item_for_code(s, "TS-BLK-M").sku == "TS-BLK-M"  # type: ignore[union-attr]  # Hangul-mode case
        assert so.item_for_code(s, "880") is None and so.item_for_code(s, " ") is None


# ------------------------------------------------------------------------------------------------ force-cancel


def test_force_cancel_is_refused_at_the_station_and_kept_in_history(demo_db: Database, rig: Rig) -> None:
    made = create(demo_db, order(demo_db), datetime(2026, 11, 24, 1, 0, tzinfo=UTC))
    at = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)
    with demo_db.session() as s:
        assert so.force_cancel(s, made.order_id, WHO, at) == 2
    with demo_db.session() as s:
        lines = s.scalars(select(m.OrderLine).where(m.OrderLine.order_id == made.order_id)).all()
        assert {(ln.status, ln.claim_status) for ln in lines} == {(LineStatus.CANCELLED, FORCE_CANCELLED)}
        detail = so.order_detail(s, made.order_id)
    assert detail.row.force_cancelled and not detail.row.can_force_cancel and detail.row.can_delete
    assert [(h.status, h.claim_status, h.source) for h in detail.history] == [
        (LineStatus.CONFIRMED, "", f"manual:{WHO}")] * 2 + [
        (LineStatus.CANCELLED, FORCE_CANCELLED, f"force_cancel:{WHO}")] * 2
    assert detail.history[-1].changed_at == at

    rig.scan("PD-PACKER-001", made.tracking_number)
    assert rig.message is Msg.WAYBILL_FORCE_CANCELLED and rig.svc.state.pack is None
    with demo_db.session() as s:
        ev = s.scalars(select(m.ScanEvent).order_by(m.ScanEvent.id.desc()).limit(1)).one()
        assert (ev.code, ev.accepted, ev.reason) == (made.tracking_number, False, "waybill_force_cancelled")

    with demo_db.session() as s, pytest.raises(OrderRefused) as got:  # irreversible, said once
        so.force_cancel(s, made.order_id, WHO)
    assert got.value.code == "order_already_cancelled"


def test_force_cancel_is_refused_once_packed_and_for_collected_orders(demo_db: Database, rig: Rig) -> None:
    made = create(demo_db, order(demo_db))
    rig.scan("PD-PACKER-001", made.tracking_number, BARCODE["MUG-WH-01"], BARCODE["MUG-WH-01"], BARCODE["TMB-500"])
    assert rig.message is Msg.PACK_COMPLETE
    with demo_db.session() as s, pytest.raises(OrderRefused) as got:
        so.force_cancel(s, made.order_id, WHO)
    assert got.value.code == "order_already_packed"
    ko, en = error_text(got.value)
    assert "M-1001" in ko and "포장된" in ko and "cannot be force-cancelled" in en
    with demo_db.session() as s:
        assert {st for st, in s.execute(select(m.OrderLine.status).where(
            m.OrderLine.order_id == made.order_id))} == {LineStatus.PACKED}
        collected = so.search_orders(s, Scenario.TEA_SET)[0]
    assert not collected.manual and not collected.can_force_cancel
    with demo_db.session() as s, pytest.raises(OrderRefused) as got:
        so.force_cancel(s, collected.id, WHO)
    assert got.value.code == "order_not_manual"


def test_force_cancel_while_a_station_packs_it_is_said_there(demo_db: Database, rig: Rig) -> None:
    made = create(demo_db, order(demo_db))
    rig.scan("PD-PACKER-001", made.tracking_number, BARCODE["MUG-WH-01"])
    with demo_db.session() as s:
        so.force_cancel(s, made.order_id, WHO)
        statuses = dict(s.execute(select(m.OrderLine.id, m.OrderLine.status).where(
            m.OrderLine.order_id == made.order_id)).all())
    rig.svc.on_lines_changed(statuses)  # what the change feed hands the station
    assert rig.message is Msg.LINE_CANCELLED_MEANWHILE


# ------------------------------------------------------------------------------------------------ delete


def test_delete_before_packing_only(demo_db: Database, rig: Rig) -> None:
    typed = create(demo_db, order(demo_db))
    with demo_db.session() as s:
        collected = so.search_orders(s, Scenario.GIFT_SET)[0]
        started = so.search_orders(s, Scenario.SIMPLE)[0]
    assert typed.order_id and collected.can_delete
    rig.scan("PD-PACKER-001", Scenario.SIMPLE, "PD-CMD-CANCEL")  # a pack started, then cancelled: evidence
    with demo_db.session() as s:
        assert so.delete_order(s, typed.order_id, WHO).order_no == "M-1001"
        assert so.delete_order(s, collected.id, WHO).order_no == collected.order_no
    with demo_db.session() as s:
        assert s.get(m.Order, typed.order_id) is None and s.get(m.Order, collected.id) is None
        assert s.scalar(select(func.count()).select_from(m.OrderLine).where(
            m.OrderLine.order_id.in_([typed.order_id, collected.id]))) == 0
        assert so.search_orders(s, "M-1001") == []
        # the waybill stays: its printed number is never given to another order
        assert s.scalar(select(m.Waybill.id).where(m.Waybill.tracking_number == typed.tracking_number))
        assert not so.get_order(s, started.id).can_delete
    with demo_db.session() as s, pytest.raises(OrderRefused) as got:
        so.delete_order(s, started.id, WHO)
    assert got.value.code == "order_packing_started"
    assert "취소만" in error_text(got.value)[0] and "only cancelled" in error_text(got.value)[1]
    with demo_db.session() as s:
        assert so.get_order(s, started.id).lines == 2
    rig.scan(typed.tracking_number)  # the deleted order's label: nothing to pack
    assert rig.message is Msg.WAYBILL_EMPTY
    again = create(demo_db, order(demo_db))  # typed in again, it gets a new number
    assert again.tracking_number != typed.tracking_number


def test_a_courier_number_typed_again_after_a_delete_is_the_same_waybill(demo_db: Database) -> None:
    first = create(demo_db, order(demo_db, tracking_number="5551112223334", courier_code="KDEXP"))
    with demo_db.session() as s:
        so.delete_order(s, first.order_id, WHO)
    again = create(demo_db, order(demo_db, tracking_number="5551112223334", courier_code="EPOST"))
    with demo_db.session() as s:
        (wb,) = s.scalars(select(m.Waybill).where(m.Waybill.tracking_number == "5551112223334")).all()
        assert wb.courier_code == "EPOST" and {ln.order_id for ln in wb.lines} == {again.order_id}


def test_an_open_pack_counts_as_started(demo_db: Database, rig: Rig) -> None:
    made = create(demo_db, order(demo_db))
    rig.scan("PD-PACKER-001", made.tracking_number)
    with demo_db.session() as s, pytest.raises(OrderRefused) as got:
        so.delete_order(s, made.order_id, WHO)
    assert got.value.code == "order_packing_started"


# ------------------------------------------------------------------------------------------------ reading


def test_search_by_order_number_recipient_or_waybill(demo_db: Database) -> None:
    made = create(demo_db, order(demo_db, recipient_name="남궁민수", tracking_number="999000111222"))
    with demo_db.session() as s:
        for text in ("m-10", "남궁", "0001112"):
            assert [r.id for r in so.search_orders(s, text)] == [made.order_id], text
        every = so.search_orders(s)
        assert every[0].id == made.order_id and len(every) > 10
        row = every[0]
        assert (row.platform, row.kind, row.lines, row.units, row.statuses, row.waybills) == (
            so.DEFAULT_PLATFORM, ChannelKind.MANUAL, 2, 3, (LineStatus.CONFIRMED,), (("CJGLS", "999000111222"),))
        assert row.manual and row.can_force_cancel and row.can_delete and not row.packed
        label = so.label_data(s, made.order_id)
    assert (label.tracking_number, label.recipient_name, label.courier_code) == ("999000111222", "남궁민수", "CJGLS")
    assert sorted((i.name, i.quantity, i.barcode) for i in label.items) == [
        ("세라믹 머그컵", 2, BARCODE["MUG-WH-01"]), ("스텐 텀블러 500ml", 1, BARCODE["TMB-500"])]
    with demo_db.session() as s, pytest.raises(OrderRefused) as got:
        so.order_detail(s, 999_999)
    assert got.value.code == "order_not_found"


def test_a_packed_manual_order_keeps_its_pack_after_its_platform_is_removed(demo_db: Database, rig: Rig) -> None:
    made = create(demo_db, order(demo_db))
    rig.scan("PD-PACKER-001", made.tracking_number, BARCODE["MUG-WH-01"], BARCODE["MUG-WH-01"], BARCODE["TMB-500"])
    removal = remove_account(demo_db, made.account_id, by=WHO)
    assert (removal.orders_removed, removal.orders_kept) == (0, 1)
    with demo_db.session() as s:
        assert s.scalars(select(m.PackSession.outcome)).all() == [PackOutcome.COMPLETED]


# ------------------------------------------------------------------------------------------------ waybills


def test_the_courier_an_order_sheet_named_is_shown_with_the_waiting_parcel(db: Database) -> None:
    from packdesk.channels.base import LineRecord, OrderRecord
    from packdesk.services.collect import store_orders
    from packdesk.services.excel_orders import create_platform

    now = datetime(2026, 12, 6, 1, tzinfo=UTC)
    with db.session() as s:
        account = create_platform(s, "자사몰").id
        store_orders(s, account, [OrderRecord("H", "김민지", "김민지", "010-1234-5678", "06236", "서울 강남구 1", "",
                                              now, now, (LineRecord("H-1", "P1", "", "코스터", "", 1,
                                                                    LineStatus.CONFIRMED, courier_code="HANJIN"),))],
                     "test")
    with db.session() as s:
        detail = so.order_detail(s, so.search_orders(s, "H")[0].id)
    assert detail.needs_waybill and detail.parcel_courier == "HANJIN"


def test_a_number_typed_for_a_collected_order_binds_to_its_parcel(db: Database) -> None:
    from packdesk.channels.base import LineRecord, OrderRecord
    from packdesk.core.parcels import BindRefused
    from packdesk.core.tracking import with_check_digit
    from packdesk.services.collect import store_orders
    from packdesk.services.excel_orders import create_platform

    now = datetime(2026, 12, 6, 1, tzinfo=UTC)
    with db.session() as s:
        account = create_platform(s, "자사몰").id
        store_orders(s, account, [OrderRecord(no, "김민지", "김민지", "010-1234-5678", "06236", "서울 강남구 1", "",
                                              now, now, (LineRecord(f"{no}-1", "P1", "", "코스터", "", 1,
                                                                    LineStatus.CONFIRMED),))
                                  for no in ("A", "B")], "test")
    with db.session() as s:
        a = so.search_orders(s, "A")[0]
        detail = so.order_detail(s, a.id)
        assert detail.needs_waybill and detail.parcel_key.startswith("PD-P-")
        assert detail.parcel_courier == ""   # no order sheet named a courier
        assert {r.order_no for r in so.search_orders(s, detail.parcel_key.lower())} == {"A", "B"}  # slip scanned
        good = with_check_digit("56123456789")
        with pytest.raises(BindRefused) as refused:
            so.attach_tracking(s, a.id, "CJGLS", good[:-1] + str((int(good[-1]) + 3) % 10), WHO)
        assert refused.value.code == "tracking_check_digit"
    with db.session() as s:
        bound = so.attach_tracking(s, a.id, "CJGLS", f"{good[:4]}-{good[4:]}", WHO)
    assert (bound.tracking_number, bound.already) == (good, False)
    with db.session() as s:
        for r in so.search_orders(s, good):  # 합포장: the other order in that box has it too
            assert r.waybills == (("CJGLS", good),)
            assert not so.order_detail(s, r.id).needs_waybill
        with pytest.raises(OrderRefused) as refused2:
            so.attach_tracking(s, a.id, "CJGLS", good, WHO)
        assert refused2.value.code == "order_no_parcel"
        history = s.scalar(select(m.Parcel.waybill_source))
    assert history == f"typed:{WHO}"


def test_a_typed_in_orders_tracking_number_follows_its_couriers_rule(demo_db: Database) -> None:
    with pytest.raises(OrderRefused) as got:
        create(demo_db, order(demo_db, tracking_number="5551234567890", courier_code="HANJIN"))  # 13 digits
    assert (got.value.code, got.value.field_key) == ("tracking_length", "tracking_number")
    with pytest.raises(OrderRefused) as got:
        create(demo_db, order(demo_db, tracking_number="555123456780", courier_code="HANJIN"))  # check digit 6
    assert got.value.code == "tracking_check_digit" and "검증 숫자" in error_text(got.value)[0]
    with demo_db.session() as s:
        made = so.create_manual_order(s, order(demo_db, tracking_number="555123456780", courier_code="HANJIN"), WHO,
                                      check_digit={"HANJIN": "warn"})
    assert made.tracking_number == "555123456780"
