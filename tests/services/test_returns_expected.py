"""Expected returns end to end over real HTTP: a SmartStore and a Coupang account set up as a seller sets them up,
orders collected and sent out under a waybill, then a buyer's return (and an exchange) collected by the next
runs, counted in them, and found by each kind of code the returns desk may hold: the pickup label, the original
label, the order number, a product-order id."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from packdesk.channels.base import ChannelTransientError, OrderRecord, ReturnLine, ReturnRecord
from packdesk.channels.demo import DemoChannel
from packdesk.core import models as m
from packdesk.core.db import Database
from packdesk.core.enums import ChannelKind, LineStatus, RunStatus
from packdesk.core.tracking import with_check_digit
from packdesk.services import orders as so
from packdesk.services.accounts import AccountSpec, add_account
from packdesk.services.collect import Collector, run_collection, run_error_words
from packdesk.services.returns_expected import (
    collect_expected_returns,
    find_expected_return,
    list_expected_returns,
    store_expected_returns,
)
from tests.fakes.coupang import FakeCoupang
from tests.fakes.naver import FakeNaver


@pytest.fixture
def naver() -> Iterator[FakeNaver]:
    with FakeNaver(rate_limit=None) as fake:
        yield fake


@pytest.fixture
def coupang() -> Iterator[FakeCoupang]:
    with FakeCoupang(rate_limit=None, forbidden_threshold=None) as fake:
        yield fake


def collect(db: Database, account_id: int, hours: float = 2) -> m.CollectionRun:
    now = datetime.now(UTC)
    run = Collector(db).run_manual(account_id, now - timedelta(hours=hours), now + timedelta(minutes=5), "t")
    assert run.status is RunStatus.SUCCEEDED, (run.error_code, run.error_detail)
    return run


def order_id_of(db: Database, order_no: str) -> int:
    with db.session() as s:
        return s.scalars(select(m.Order.id).where(m.Order.order_no == order_no)).one()


def test_a_smartstore_return_and_exchange_are_expected_and_found_by_every_code(db: Database,
                                                                                naver: FakeNaver) -> None:
    account_id = add_account(db, AccountSpec(ChannelKind.NAVER, "스토어", {
        "external_id": naver.client_id, "secret": naver.client_secret, "base_url": naver.base_url}))
    order = naver.add_order(2, paid_at=naver.now() - timedelta(minutes=30))
    ret, exch = order.product_order_ids
    assert collect(db, account_id).returns == 0
    sent = with_check_digit("24561234567")
    with db.session() as s:  # the label typed in for the order's parcel, as a supervisor does
        so.attach_tracking(s, order_id_of(db, order.order_id), "CJGLS", sent, "관리자")
    for pid in (ret, exch):  # Naver: it shipped and arrived
        naver.update(pid, productOrderStatus="DELIVERED", event="DISPATCHED")
    pickup = with_check_digit("51234567890")
    naver.request_return(ret, reason="BROKEN", detail="모서리가 깨져 왔어요")
    naver.request_exchange(exch, collect_company="HANJIN", collect_tracking="4123-4567-8905")
    run = collect(db, account_id)
    assert run.returns == 2
    with db.session() as s:
        found = find_expected_return(s, order.order_id)
    assert found is not None and found.matched_by == "order_no"
    assert {found.claim_type} <= {"return", "exchange"} and found.original_tracking == (sent,)
    naver.start_collect(ret, tracking=pickup)
    naver.complete_collect(ret)
    assert collect(db, account_id).returns == 1            # only the return moved on
    assert collect(db, account_id).returns == 0            # nothing new: nothing counted
    with db.session() as s:
        by_pickup = find_expected_return(s, f"{pickup[:4]}-{pickup[4:8]}-{pickup[8:]}")  # as the label prints it
        by_sent = find_expected_return(s, sent)
        by_pid = find_expected_return(s, exch)
        assert find_expected_return(s, "999999999999") is None and find_expected_return(s, "  ") is None
        listed = list_expected_returns(s)
    assert by_pickup is not None and by_pickup.matched_by == "return_waybill"
    assert (by_pickup.claim_type, by_pickup.status, by_pickup.courier_code, by_pickup.tracking_number) == (
        "return", "COLLECT_DONE", "CJGLS", pickup)
    assert (by_pickup.reason_code, by_pickup.reason_text, by_pickup.market) == (
        "BROKEN", "모서리가 깨져 왔어요", "naver")
    (line,) = by_pickup.lines
    assert (line.product_order_id, line.line_id is not None, line.product_name) == (
        ret, True, naver.product_order(ret)["productOrder"]["productName"])
    assert by_pickup.account == "스토어" and by_pickup.order_no == order.order_id and by_pickup.open
    assert by_sent is not None and by_sent.matched_by == "original_waybill"
    assert by_pid is not None and (by_pid.matched_by, by_pid.claim_type, by_pid.tracking_number) == (
        "product_order_id", "exchange", "412345678905")
    assert {v.claim_id for v in listed} == {by_pickup.claim_id, by_pid.claim_id}
    naver.complete_return(ret)
    collect(db, account_id)
    with db.session() as s:
        done = find_expected_return(s, pickup)
        assert done is not None and not done.open and done.status == "RETURN_DONE"
        assert [v.claim_id for v in list_expected_returns(s, open_only=True)] == [by_pid.claim_id]
        assert s.scalar(select(m.OrderLine.status).where(m.OrderLine.product_order_id == ret)) is LineStatus.SHIPPED


def test_a_coupang_return_is_expected_and_found_by_every_code(db: Database, coupang: FakeCoupang) -> None:
    account_id = add_account(db, AccountSpec(ChannelKind.COUPANG, "쿠팡", {
        "external_id": coupang.vendor_id, "access_key": coupang.access_key, "secret": coupang.secret_key,
        "base_url": coupang.base_url}))
    box = coupang.add_sheet(2, status="DEPARTURE")            # it went out under Coupang's invoice
    sent = coupang.sheet(box.shipment_box_id)["invoiceNumber"]
    assert (collect(db, account_id).orders, collect(db, account_id).returns) == (1, 0)
    coupang.set_status(box.shipment_box_id, "FINAL_DELIVERY")  # it arrived, and the buyer sends one item back
    receipt = coupang.request_return(box.shipment_box_id, box.vendor_item_ids[0], courier="HYUNDAI")
    assert collect(db, account_id).returns == 1
    with db.session() as s:
        first = find_expected_return(s, sent)
    assert first is not None and first.matched_by == "original_waybill"
    assert (first.status, first.courier_code, first.tracking_number) == ("RETURNS_UNCHECKED", "HYUNDAI", "")
    pickup = with_check_digit("24567654321")
    coupang.update_return(receipt, invoice=pickup)
    assert collect(db, account_id).returns == 1
    with db.session() as s:
        by_pickup = find_expected_return(s, pickup)
        by_order = find_expected_return(s, str(box.order_id))
        pid = f"{box.shipment_box_id}-{box.vendor_item_ids[0]}"
        by_pid = find_expected_return(s, pid)
    for view, how in ((by_pickup, "return_waybill"), (by_order, "order_no"), (by_pid, "product_order_id")):
        assert view is not None and view.matched_by == how and view.claim_id == str(receipt), how
    assert by_pickup is not None
    assert (by_pickup.market, by_pickup.claim_type, by_pickup.reason_code) == ("coupang", "return",
                                                                              "고객변심 > 단순변심(사유없음)")
    assert [(ln.product_order_id, ln.quantity) for ln in by_pickup.lines] == [(pid, 1)]
    assert by_pickup.original_tracking == (sent,) and by_pickup.requested_at is not None
    coupang.update_return(receipt, invoice="")                # the pickup label is no longer shown: it is kept
    collect(db, account_id)
    with db.session() as s:
        kept = find_expected_return(s, pickup)
        assert kept is not None and kept.tracking_number == pickup
        assert s.scalar(select(m.ExpectedReturn.id).where(m.ExpectedReturn.claim_id == str(receipt))) == kept.id
        assert len(list(s.scalars(select(m.ExpectedReturn)))) == 1   # unique per (account, claim)


class _Broken:
    """A marketplace whose orders read fine but whose returns answer 500."""

    kind = "naver"

    def collect(self, since: datetime, until: datetime) -> list[OrderRecord]:
        return []

    def returns(self, since: datetime, until: datetime) -> list[ReturnRecord]:
        raise ChannelTransientError(status=500, detail="returns: HTTP 500")


def test_returns_that_cannot_be_read_leave_the_run_succeeded_and_saying_so(
        db: Database, expect_warnings: pytest.LogCaptureFixture) -> None:
    with db.session() as s:
        acc = m.ChannelAccount(kind=ChannelKind.NAVER, name="스토어", external_id="x")
        s.add(acc)
        s.flush()
        account_id = acc.id
    now = datetime.now(UTC)
    run = run_collection(db, account_id, _Broken(), now - timedelta(hours=1), now, "manual")
    assert (run.status, run.error_code) == (RunStatus.SUCCEEDED, "returns_not_collected")
    ko, en = run_error_words(run, "스토어")
    assert "반품" in ko and "returns" in en and "{" not in ko + en
    assert "returns not read: channel_transient" in expect_warnings.text
    # a market without the ability is skipped without a call
    assert collect_expected_returns(db, account_id, DemoChannel(now), now - timedelta(hours=1), now) == 0


def test_a_claim_that_cannot_be_stored_is_left_out_and_the_others_kept(
        db: Database, expect_warnings: pytest.LogCaptureFixture) -> None:
    with db.session() as s:
        acc = m.ChannelAccount(kind=ChannelKind.COUPANG, name="쿠팡", external_id="x")
        s.add(acc)
        s.flush()
        good = ReturnRecord("1", "return", "RETURNS_UNCHECKED", "100", (ReturnLine("9-1", 1),),
                            reason_text="\x00깨짐 " + "가" * 5000, tracking_number="2456 1234 5672")
        bad = ReturnRecord("2" * 65, "return", "RETURNS_UNCHECKED", "100", (ReturnLine("9-2", 1),))
        ctrl = ReturnRecord("3", "return", "RETURNS_UNCHECKED", "10\x070", ())
        assert store_expected_returns(s, acc.id, "coupang", [good, bad, ctrl]) == 1
        (row,) = s.scalars(select(m.ExpectedReturn))
        assert row.tracking_number == "245612345672" and row.reason_text.startswith("깨짐")
        assert row.order_id is None and [ln.line_id for ln in row.lines] == [None]   # not collected here
    assert expect_warnings.text.count("left out (an identifier that cannot be stored)") == 2
