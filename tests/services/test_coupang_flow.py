"""A Coupang account end to end, as the app builds it (``make_channel``: access key in the options, secret key
from the keyring): a collection, 발주확인 with the re-read sheet stored, a packed box through the outbox to
Coupang exactly once (롯데 sent as HYUNDAI), and the connectivity probe's host. Then issue #22, each defect
against the fake (built from Coupang's docs): cancels before and after packing, an unconfirmed box, a courier
code Coupang does not know, a wrong PC clock, engraving text."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from packdesk.core import models as m
from packdesk.core.db import Database
from packdesk.core.enums import ChannelKind, LineStatus, OutboxState, RunStatus
from packdesk.core.station import Msg
from packdesk.services import slips
from packdesk.services.accounts import AccountSpec, add_account, set_courier_codes
from packdesk.services.collect import Collector, failure_of
from packdesk.services.connectivity import account_hosts
from packdesk.services.dispatch import Uploader
from packdesk.ui.messages import error_text
from tests import coupang_shop as shop
from tests.e2e.test_day_one import label_and_link, pack_at_station, upload
from tests.fakes.coupang import FakeClock, FakeCoupang
from tests.services.test_station_service import Rig


@pytest.fixture
def fake() -> Iterator[FakeCoupang]:
    with FakeCoupang(rate_limit=None) as f:
        yield f


def test_collect_confirm_pack_dispatch(db: Database, fake: FakeCoupang) -> None:
    account_id = add_account(db, AccountSpec(ChannelKind.COUPANG, "쿠팡", {
        "external_id": fake.vendor_id, "access_key": fake.access_key, "secret": fake.secret_key,
        "base_url": fake.base_url}, auto_confirm=True))
    sheet = fake.add_sheet(2, receiver={"name": "김*수", "addr1": "서울시 강남구", "addr2": "101호",
                                        "postCode": "06236"})
    host = fake.base_url.split("//", 1)[1]
    assert account_hosts(db) == [(host.split(":")[0], int(host.split(":")[1]))]

    now = datetime.now(UTC)
    run = Collector(db).run_manual(account_id, now - timedelta(days=1), now + timedelta(minutes=5), started_by="t")
    assert run.status.value == "succeeded" and (run.orders, run.lines) == (1, 2)
    with db.session() as s:
        lines = list(s.scalars(select(m.OrderLine).order_by(m.OrderLine.id)))
        assert {ln.status for ln in lines} == {LineStatus.CONFIRMED}  # auto 발주확인 after collecting
        assert lines[0].product_order_id == f"{sheet.shipment_box_id}-{sheet.vendor_item_ids[0]}"
        order = s.get_one(m.Order, lines[0].order_id)
        assert order.recipient_name == "김*수" and "101호" in order.address
    with db.session() as s:  # the 롯데택배 label's number typed in, the products linked, packed at the station
        badge, barcodes = label_and_link(s, order.id, "HYUNDAI", "245612345672")
    pack_at_station(db, badge, barcodes, "245612345672")
    assert fake.status(sheet.shipment_box_id) == "INSTRUCT"
    upload(db, 2)  # then nothing: exactly once
    assert Counter(inv["vendorItemId"] for inv in fake.invoices) == Counter(
        {v: 1 for v in sheet.vendor_item_ids})
    assert {inv["deliveryCompanyCode"] for inv in fake.invoices} == {"HYUNDAI"}
    assert fake.status(sheet.shipment_box_id) == "DEPARTURE"


# --- issue #22: Coupang as Coupang behaves (the account, links, packers and waybills made as a seller makes them)
def _history(db: Database, line_id: int) -> list[tuple[LineStatus, str, str]]:
    with db.session() as s:
        return [(h.status, h.claim_status, h.source) for h in s.scalars(
            select(m.LineStatusChange).where(m.LineStatusChange.line_id == line_id).order_by(m.LineStatusChange.id))]


def _lines_of(db: Database, box: int) -> list[m.OrderLine]:
    with db.session() as s:
        return list(s.scalars(select(m.OrderLine).where(m.OrderLine.product_order_id.like(f"{box}-%"))
                              .order_by(m.OrderLine.id)))


def _pack(db: Database, badge: str, tracking: str, *barcodes: str) -> Msg:
    rig = Rig(db)
    try:
        rig.scan(badge, tracking, *barcodes)
        return rig.message
    finally:
        rig.worker.close()


def test_cancels_before_packing_are_noticed_at_collection_and_refused_at_the_station(
        db: Database, fake: FakeCoupang) -> None:
    account = shop.coupang_account(db, fake)
    gone, held, quiet = (fake.add_sheet(items, receiver=shop.receiver(n)) for n, items in enumerate((2, 1, 1)))
    first = shop.collect(db, account)
    assert first.status is RunStatus.SUCCEEDED and first.registered == 4
    shop.link_products(db, account)
    numbers = [shop.give_waybill(db, account, s.order_id, f"6500{n:07d}") for n, s in enumerate((gone, held, quiet))]
    fake.cancel(gone.shipment_box_id)                   # the buyer cancelled: out of the lists, 400 on lookup
    fake.hold_for_cancel(held.shipment_box_id)          # a 출고중지요청 waits
    fake.update_item(quiet.shipment_box_id, quiet.vendor_item_ids[0], shippingCount=0, cancelCount=1,
                     canceled=True)                     # cancelled with no receipt to read: missing from the lists
    second = shop.collect(db, account)
    assert second.status is RunStatus.SUCCEEDED
    assert (second.cancelled, second.cancel_requested) == (3, 1)
    for line in [*_lines_of(db, gone.shipment_box_id), *_lines_of(db, quiet.shipment_box_id)]:
        assert (line.status, line.claim_status) == (LineStatus.CANCELLED, "CANCEL")
        assert _history(db, line.id)[-1] == (LineStatus.CANCELLED, "CANCEL", f"collect:{second.id}")
    (line,) = _lines_of(db, held.shipment_box_id)
    assert line.status is LineStatus.CANCEL_REQUESTED
    badge = shop.packer_badge(db)
    assert _pack(db, badge, numbers[0]) is Msg.WAYBILL_CANCELLED
    assert _pack(db, badge, numbers[2]) is Msg.WAYBILL_CANCELLED
    assert _pack(db, badge, numbers[1]) is Msg.WAYBILL_CANCEL_REQUESTED
    searched = [r.query.get("cancelType") or r.query.get("status") for r in fake.calls("/returnRequests")]
    # each run: the follow-up's cancel searches, then the returns' (services/returns_expected.py, two 7-day calls)
    assert searched == ["CANCEL", "RU", *["UC", "PR", "CC"] * 2] * 2
    third = shop.collect(db, account)                   # nothing new: nothing changes, no history
    assert (third.cancelled, third.cancel_requested) == (0, 0)
    assert len(_history(db, _lines_of(db, gone.shipment_box_id)[0].id)) == 3  # new, confirmed, cancelled


def test_a_cancel_after_packing_holds_the_outbox_entry_pull_the_parcel(
        db: Database, fake: FakeCoupang, expect_warnings: pytest.LogCaptureFixture) -> None:
    account = shop.coupang_account(db, fake)
    s = fake.add_sheet(1)
    shop.collect(db, account)
    shop.link_products(db, account)
    number = shop.give_waybill(db, account, s.order_id, "65000000101")
    item = fake.sheet(s.shipment_box_id)["orderItems"][0]
    assert _pack(db, shop.packer_badge(db), number, shop.barcode_of(str(item["vendorItemId"]))) is Msg.PACK_COMPLETE
    fake.cancel(s.shipment_box_id)                      # cancelled after packing: the box leaves the lists
    up = Uploader(db)
    try:
        report = up.run_once(retry_now=True)
    finally:
        up.close()
    assert (report.held, report.rejected, report.sent) == (1, 0, 0)
    with db.session() as sess:
        entry = sess.scalars(select(m.DispatchEntry)).one()
        assert (entry.state, entry.last_error_code) == (OutboxState.HELD, "line_cancelled")
    (line,) = _lines_of(db, s.shipment_box_id)
    assert line.status is LineStatus.CANCELLED
    assert _history(db, line.id)[-1] == (LineStatus.CANCELLED, "CANCEL", f"dispatch:{entry.id}")
    assert fake.calls("invoices") == []


def test_an_unconfirmed_box_is_acknowledged_before_its_invoice(db: Database, fake: FakeCoupang) -> None:
    account = shop.coupang_account(db, fake, auto_confirm=False)
    s = fake.add_sheet(1)
    shop.collect(db, account)
    shop.link_products(db, account)
    number = shop.give_waybill(db, account, s.order_id, "65000000202")
    item = fake.sheet(s.shipment_box_id)["orderItems"][0]
    assert _pack(db, shop.packer_badge(db), number, shop.barcode_of(str(item["vendorItemId"]))) is Msg.PACK_COMPLETE
    assert fake.status(s.shipment_box_id) == "ACCEPT"
    up = Uploader(db)
    try:
        assert up.run_once(retry_now=True).sent == 1
    finally:
        up.close()
    assert [a["shipmentBoxId"] for a in fake.acknowledgements] == [s.shipment_box_id]
    assert fake.status(s.shipment_box_id) == "DEPARTURE" and len(fake.invoices) == 1
    (line,) = _lines_of(db, s.shipment_box_id)
    steps = [(status, source.split(":")[0], "발주확인" in source) for status, _, source in _history(db, line.id)]
    assert steps == [(LineStatus.NEW, "collect", False), (LineStatus.PACKED, "pack", False),
                     (LineStatus.CONFIRMED, "dispatch", True), (LineStatus.DISPATCHED, "dispatch", False)]


def test_a_courier_code_coupang_does_not_know_is_isolated_then_fixed_in_the_account(
        db: Database, fake: FakeCoupang, expect_warnings: pytest.LogCaptureFixture) -> None:
    account = shop.coupang_account(db, fake, courier_codes="한진=HANJIN_OLD")
    boxes = [fake.add_sheet(1, receiver=shop.receiver(n)) for n in range(3)]
    shop.collect(db, account)
    shop.link_products(db, account)
    badge = shop.packer_badge(db)
    for n, s in enumerate(boxes):
        courier = "HANJIN" if n == 1 else "CJGLS"
        number = shop.give_waybill(db, account, s.order_id, f"6500000{n}30{n}", courier=courier)
        item = fake.sheet(s.shipment_box_id)["orderItems"][0]
        assert _pack(db, badge, number, shop.barcode_of(str(item["vendorItemId"]))) is Msg.PACK_COMPLETE
    up = Uploader(db)
    try:
        report = up.run_once(retry_now=True)
        assert (report.sent, report.rejected, report.retry) == (2, 1, 0)   # the good boxes did not wait
        with db.session() as sess:
            bad = sess.scalars(select(m.DispatchEntry).where(m.DispatchEntry.state == OutboxState.REJECTED)).one()
        assert (bad.last_error_code, bad.last_error_message) == ("coupang_courier_rejected", "HANJIN → HANJIN_OLD")
        assert bad.product_order_id.startswith(str(boxes[1].shipment_box_id))
        assert set_courier_codes(db, account, "") == {}   # the supervisor fixes the account's codes...
        assert up.resend([bad.id], by="supervisor") == 1  # ...and resends from the outbox
        assert up.run_once(retry_now=True).sent == 1
    finally:
        up.close()
    assert sorted((d["shipmentBoxId"], d["deliveryCompanyCode"]) for d in fake.invoices) == sorted(
        [(boxes[0].shipment_box_id, "CJGLS"), (boxes[1].shipment_box_id, "HANJIN"),
         (boxes[2].shipment_box_id, "CJGLS")])


def test_a_wrong_pc_clock_is_kept_with_the_failed_run(db: Database, expect_warnings: pytest.LogCaptureFixture
                                                      ) -> None:
    with FakeCoupang(rate_limit=None, clock=FakeClock(datetime.now(UTC) + timedelta(minutes=10))) as skewed:
        account = shop.coupang_account(db, skewed)
        skewed.add_sheet(1)
        run = shop.collect(db, account)
    assert run.status is RunStatus.FAILED and run.error_code == "channel_auth"
    error = failure_of(run)
    assert error.params["reason"] == "clock" and error.params["message"] == "Specified signature is expired"
    ko, en = error_text(error)
    assert "PC 시계가 맞지 않을 수 있습니다" in ko and "Specified signature is expired" in ko
    assert en.endswith("the PC clock may be wrong, check time sync")
    with db.session() as s:
        assert failure_of(s.get_one(m.CollectionRun, run.id)).params == error.params   # read back, as a window does


def test_engraving_text_is_kept_with_the_line(db: Database, fake: FakeCoupang) -> None:
    account = shop.coupang_account(db, fake)
    s = fake.add_sheet([{"etcInfoValues": ["각인 문구: 사랑해"]}, {}])
    shop.collect(db, account)
    engraved, plain = _lines_of(db, s.shipment_box_id)
    assert (engraved.instructions, plain.instructions) == ("각인 문구: 사랑해", "")
    fake.update_item(s.shipment_box_id, s.vendor_item_ids[0], etcInfoValues=["각인 문구: 고마워"])
    shop.collect(db, account)                          # the buyer changed it before packing: the line follows
    assert _lines_of(db, s.shipment_box_id)[0].instructions == "각인 문구: 고마워"
    shop.link_products(db, account)
    with db.session() as sess:                         # and the packing slip prints it with its line
        (slip,) = slips.for_orders(sess, [shop.order_id(db, account, s.order_id)])
    assert [ln.instructions for ln in slip.lines] == ["각인 문구: 고마워", ""]
