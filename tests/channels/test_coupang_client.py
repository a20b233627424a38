"""The Coupang Wing client: pure parts (signature, ids, day windows, status table) directly, the rest over real
HTTP against the fake in ``tests/fakes/coupang.py`` (built from the spec, not from this client). Backoff and
limiter waits go to an injected clock; only the read-timeout case waits, a fraction of a second."""

from __future__ import annotations

import hashlib
import hmac
import logging
import socket
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest

from packdesk.channels import coupang
from packdesk.channels.base import (
    ChannelAuthError,
    ChannelError,
    ChannelRateLimited,
    ChannelTransientError,
    DispatchItem,
    LineRecord,
    OrderRecord,
)
from packdesk.channels.coupang import (
    KST,
    CoupangChannel,
    day_windows,
    line_status,
    signature,
    signed_date,
    split_product_order_id,
)
from packdesk.channels.http import ChannelBadReply, RateLimiters
from packdesk.core.enums import ChannelKind, LineStatus
from packdesk.ui.messages import error_text
from tests.fakes.coupang import FakeClock, FakeCoupang

PAID = datetime(2026, 11, 22, 10, 15, 30, tzinfo=KST)
DAY = (datetime(2026, 11, 22, tzinfo=KST), datetime(2026, 11, 23, tzinfo=KST))
SENT = datetime(2026, 11, 22, 15, 0, tzinfo=KST)


# --- helpers --------------------------------------------------------------------------------------------
class Clock:
    """Monotonic time that moves only when the client sleeps; records every sleep."""

    def __init__(self, start: float = 5000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def fake() -> Iterator[FakeCoupang]:
    with FakeCoupang(rate_limit=None, forbidden_threshold=None) as f:
        yield f


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def make_channel(clock: Clock) -> Iterator[Callable[..., CoupangChannel]]:
    made: list[CoupangChannel] = []

    def make(fake: FakeCoupang, *, secret: str | None = None, access_key: str | None = None, **kw: Any
             ) -> CoupangChannel:
        opts: dict[str, Any] = {"base_url": fake.base_url, "sleep": clock.sleep, "clock": clock,
                                "rng": lambda: 1.0, "limiters": RateLimiters(), "timeout": 5.0}
        opts.update(kw)
        ch = CoupangChannel(opts.pop("vendor_id", fake.vendor_id), access_key or fake.access_key,
                            fake.secret_key if secret is None else secret, **opts)
        made.append(ch)
        return ch

    yield make
    for ch in made:
        ch.close()


def recent(fake: FakeCoupang) -> tuple[datetime, datetime]:
    now = fake.now()
    return now - timedelta(hours=1), now + timedelta(seconds=1)


def lines(records: list[OrderRecord]) -> dict[str, LineRecord]:
    return {ln.product_order_id: ln for r in records for ln in r.lines}


def pids(fake: FakeCoupang, box: int) -> list[str]:
    return [f"{box}-{it['vendorItemId']}" for it in fake.sheet(box)["orderItems"]]


def list_calls(fake: FakeCoupang) -> list[Any]:
    return [r for r in fake.calls("/ordersheets", "GET") if r.path.endswith("/ordersheets")]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --- pure -----------------------------------------------------------------------------------------------
def test_signature_follows_the_spec_example() -> None:
    when = datetime(2026, 11, 22, 1, 15, 30, tzinfo=UTC).timestamp()
    assert signed_date(when) == "261122T011530Z"
    path = "/v2/providers/openapi/apis/api/v4/vendors/A00012345/ordersheets"
    query = "createdAtFrom=2026-11-21&createdAtTo=2026-11-22&status=ACCEPT"
    expected = hmac.new(b"secret", f"261122T011530ZGET{path}{query}".encode(), hashlib.sha256).hexdigest()
    assert signature("secret", "261122T011530Z", "GET", path, query) == expected


def test_ids_and_day_windows() -> None:
    assert split_product_order_id("642538970006401429-70000000101") == (642538970006401429, 70000000101)
    for bad in ("642538970006401429", "abc-1", "1-2-3", "-1", "１-2", ""):
        assert split_product_order_id(bad) is None
    # [since, until) as KST days: 23:30 UTC is the next day in Korea; a midnight end excludes that day
    since = datetime(2026, 11, 20, 23, 30, tzinfo=UTC)
    assert [(a.isoformat(), b.isoformat()) for a, b in day_windows(since, since + timedelta(days=9, minutes=30))] \
        == [("2026-11-21", "2026-11-27"), ("2026-11-28", "2026-11-30")]
    assert list(day_windows(DAY[0], DAY[1])) == [(DAY[0].date(), DAY[0].date())]
    assert list(day_windows(DAY[1], DAY[0])) == []
    with pytest.raises(ValueError):
        list(day_windows(datetime(2026, 1, 1), datetime(2026, 1, 2)))


@pytest.mark.parametrize(("status", "kw", "expected"), [
    ("ACCEPT", {}, (LineStatus.NEW, "")),
    ("INSTRUCT", {}, (LineStatus.CONFIRMED, "")),
    *[(s, {}, (LineStatus.SHIPPED, "")) for s in ("DEPARTURE", "DELIVERING", "FINAL_DELIVERY", "NONE_TRACKING")],
    ("INSTRUCT", {"canceled": True}, (LineStatus.CANCELLED, "CANCEL")),
    ("ACCEPT", {"shipping_count": 0, "cancel_count": 2}, (LineStatus.CANCELLED, "CANCEL")),
    ("DEPARTURE", {"hold_count": 1}, (LineStatus.CANCEL_REQUESTED, "HOLD_FOR_CANCEL")),
    ("ACCEPT", {"cancel_count": 1}, (LineStatus.NEW, "PARTIAL_CANCEL")),
])
def test_status_table(status: str, kw: dict[str, Any], expected: tuple[LineStatus, str]) -> None:
    args = {"canceled": False, "shipping_count": 1, "cancel_count": 0, "hold_count": 0, **kw}
    assert line_status(status, **args) == expected


def test_an_unknown_sheet_status_is_a_bad_reply_not_a_guess() -> None:
    with pytest.raises(ChannelBadReply):
        line_status("RETURNED", canceled=True, shipping_count=0, cancel_count=1, hold_count=0)


# --- signing and connection -----------------------------------------------------------------------------
def test_signed_calls_are_accepted_with_a_korean_query_sent_and_signed_as_is(
        fake: FakeCoupang, make_channel: Callable[..., CoupangChannel]) -> None:
    ch = make_channel(fake)
    ch.test_connection()
    params = [("createdAtFrom", "2026-11-22"), ("createdAtTo", "2026-11-22"), ("status", "ACCEPT"),
              ("memo", "한글 값 & 기호=+/?*'~")]
    root = ch.client.call("GET", f"{ch.client.vendor_path}/ordersheets", params=params)
    assert root.value["data"] == []
    first, last = fake.requests
    assert first.status == last.status == 200 and first.access_key == fake.access_key
    assert first.query["maxPerPage"] == "1" and first.query["status"] == "ACCEPT"
    assert last.raw_query == urlencode(params) and "%ED%95%9C%EA%B8%80" in last.raw_query
    assert last.query["memo"] == "한글 값 & 기호=+/?*'~"
    auth = last.headers["authorization"]
    assert auth.startswith(f"CEA algorithm=HmacSHA256, access-key={fake.access_key}, signed-date=")
    stamp = auth.split("signed-date=")[1].split(",")[0]
    assert abs(datetime.strptime(stamp, "%y%m%dT%H%M%SZ").replace(tzinfo=UTC).timestamp() - time.time()) < 60
    assert last.headers["content-type"] == "application/json;charset=UTF-8"
    assert last.headers["x-requested-by"] == fake.vendor_id


@pytest.mark.parametrize("skew", [600.0, -600.0])
def test_a_clock_ten_minutes_off_is_an_auth_error_that_mentions_the_clock(
        fake: FakeCoupang, make_channel: Callable[..., CoupangChannel], skew: float) -> None:
    ch = make_channel(fake, wall=lambda: time.time() + skew)
    with pytest.raises(ChannelAuthError) as ei:
        ch.test_connection()
    assert ei.value.params["reason"] == "clock" and ei.value.params["status"] == 401
    assert "Specified signature is expired" in ei.value.params["message"]
    assert "clock" in ei.value.params["hint"].en and "시계" in ei.value.params["hint"].ko
    ko, en = error_text(ei.value)  # the API's words and the hint, in each language
    assert "Specified signature is expired" in en and en.endswith("the PC clock may be wrong, check time sync")
    assert "시계" in ko and "시계" not in en
    assert len(fake.requests) == 1  # not retried


def test_refused_keys_are_auth_errors_in_the_apis_words(fake: FakeCoupang,
                                                        make_channel: Callable[..., CoupangChannel]) -> None:
    with pytest.raises(ChannelAuthError) as ei:
        make_channel(fake, secret="0" * 40).test_connection()
    assert ei.value.params["message"] == "Invalid signature." and ei.value.params["status"] == 401
    fake.remove_key(fake.access_key)
    with pytest.raises(ChannelAuthError) as ei:
        make_channel(fake).test_connection()
    assert ei.value.params["message"] == "Invalid access key."
    fake.add_key("other-key", "other-secret", "C00054321")
    with pytest.raises(ChannelAuthError) as ei:  # a JSON 403 (the key's vendor is another): not a block
        make_channel(fake, access_key="other-key", secret="other-secret").test_connection()
    assert ei.value.params["status"] == 403 and "C00054321" in ei.value.params["message"]
    with pytest.raises(ChannelAuthError) as ei:
        make_channel(fake, secret=" ").test_connection()
    assert ei.value.params["reason"] == "missing_key"
    assert error_text(ei.value)[1].endswith("check the account — enter the vendor id, access key and secret key")
    assert len(fake.requests) == 3


def test_unreachable_is_transient(make_channel: Callable[..., CoupangChannel], clock: Clock) -> None:
    with FakeCoupang(rate_limit=None) as f:
        ch = make_channel(f, base_url=f"http://127.0.0.1:{free_port()}")
        with pytest.raises(ChannelTransientError):
            ch.test_connection()
    assert len(clock.sleeps) == 3  # retried with backoff (a connect error cannot have been processed)


def test_the_client_paces_itself_below_coupangs_limit(make_channel: Callable[..., CoupangChannel],
                                                      clock: Clock) -> None:
    with FakeCoupang(rate_limit=10.0, rate_clock=clock, forbidden_threshold=None) as f:
        boxes = [f.add_sheet(1).shipment_box_id for _ in range(15)]
        ch = make_channel(f)
        found = ch.lookup([f"{b}-{f.sheet(b)['orderItems'][0]['vendorItemId']}" for b in boxes])
        assert len(found) == 15 and all(r.status == 200 for r in f.requests)
    assert sum(clock.sleeps) == pytest.approx((15 - 5) / 5.0)  # 5/s after a burst of 5


# --- collection -----------------------------------------------------------------------------------------
def test_collect_maps_every_field_and_merges_the_boxes_of_an_order(
        fake: FakeCoupang, make_channel: Callable[..., CoupangChannel]) -> None:
    receiver = {"name": "이*희", "safeNumber": "0504-0000-1111", "addr1": "부산광역시 해운대구 센텀로 1",
                "addr2": "2층", "postCode": "48058"}
    a = fake.add_sheet([{"sellerProductName": "머그컵", "sellerProductItemName": "화이트", "shippingCount": 2}, {}],
                       receiver=receiver, orderer={"name": "박*수"}, parcelPrintMessage="경비실에 맡겨주세요",
                       paid_at=PAID, ordered_at=PAID - timedelta(minutes=5))
    b = fake.add_sheet(1, order_id=a.order_id, status="INSTRUCT", paid_at=PAID, receiver=receiver)
    c = fake.add_sheet(1, status="DEPARTURE", paid_at=PAID, deliveryCompanyName="롯데택배",
                       invoiceNumber="245678901234")
    d = fake.add_sheet([{"shippingCount": 0, "cancelCount": 2}, {}], paid_at=PAID)
    e = fake.add_sheet(1, status="INSTRUCT", paid_at=PAID)
    fake.hold_for_cancel(e.shipment_box_id)
    f = fake.add_sheet(2, paid_at=PAID, canceled=True)
    g = fake.add_sheet([{"shippingCount": 3, "cancelCount": 1}], paid_at=PAID)
    fake.add_sheet(1, status="DELIVERING", paid_at=PAID)  # not one of the statuses collected
    fake.add_sheet(1, paid_at=PAID + timedelta(days=1))    # another day

    records = make_channel(fake).collect(*DAY)
    # first-seen order: the ACCEPT list is read first, then INSTRUCT (box b joins a's order), then DEPARTURE
    # (box f, every item cancelled, is in no list: Coupang leaves such boxes out; ``follow_up`` finds them)
    assert [r.order_no for r in records] == [str(s.order_id) for s in (a, d, g, e, c)]
    order = records[0]
    assert order == OrderRecord(
        order_no=str(a.order_id), buyer_name="박*수", recipient_name="이*희", recipient_phone="0504-0000-1111",
        zip_code="48058", address="부산광역시 해운대구 센텀로 1 2층", delivery_message="경비실에 맡겨주세요",
        ordered_at=PAID - timedelta(minutes=5), paid_at=PAID, lines=order.lines)
    assert order.paid_at is not None and order.paid_at.utcoffset() == timedelta(hours=9)
    sheet_a = fake.sheet(a.shipment_box_id)
    mug = sheet_a["orderItems"][0]
    assert a.shipment_box_id == 642538970006401429 > 2**53
    assert order.lines[0] == LineRecord(
        product_order_id=f"642538970006401429-{mug['vendorItemId']}", product_code=str(mug["sellerProductId"]),
        option_code=str(mug["vendorItemId"]), product_name="머그컵", option_name="화이트", quantity=2,
        status=LineStatus.NEW, channel_status="ACCEPT")
    assert [ln.product_order_id for ln in order.lines] == pids(fake, a.shipment_box_id) + pids(fake, b.shipment_box_id)
    assert order.lines[2].status is LineStatus.CONFIRMED and order.lines[2].channel_status == "INSTRUCT"

    got = lines(records)
    shipped = got[pids(fake, c.shipment_box_id)[0]]
    assert (shipped.status, shipped.channel_status, shipped.courier_code, shipped.tracking_number) == (
        LineStatus.SHIPPED, "DEPARTURE", "HYUNDAI", "245678901234")
    cancelled, live = (got[p] for p in pids(fake, d.shipment_box_id))
    assert (cancelled.status, cancelled.claim_status, cancelled.quantity) == (LineStatus.CANCELLED, "CANCEL", 2)
    assert (live.status, live.claim_status, live.quantity) == (LineStatus.NEW, "", 1)
    held = got[pids(fake, e.shipment_box_id)[0]]
    assert (held.status, held.claim_status, held.channel_status) == (LineStatus.CANCEL_REQUESTED, "HOLD_FOR_CANCEL",
                                                                     "INSTRUCT")
    assert not set(pids(fake, f.shipment_box_id)) & set(got)
    partial = got[pids(fake, g.shipment_box_id)[0]]
    assert (partial.status, partial.claim_status, partial.quantity) == (LineStatus.NEW, "PARTIAL_CANCEL", 3)
    assert [r.query["status"] for r in list_calls(fake)] == ["ACCEPT", "INSTRUCT", "DEPARTURE"]
    assert {(r.query["createdAtFrom"], r.query["createdAtTo"]) for r in list_calls(fake)} == {
        ("2026-11-22", "2026-11-22")}


def test_collect_pages_splits_long_ranges_and_is_idempotent(fake: FakeCoupang,
                                                            make_channel: Callable[..., CoupangChannel]) -> None:
    boxes = [fake.add_sheet(1, paid_at=PAID).shipment_box_id for _ in range(53)]
    late = fake.add_sheet(1, status="INSTRUCT", paid_at=PAID + timedelta(days=9)).shipment_box_id
    ch = make_channel(fake)
    first = ch.collect(DAY[0], DAY[0] + timedelta(days=10))
    got = lines(first)
    assert set(got) == {p for b in [*boxes, late] for p in pids(fake, b)}
    assert all(int(p.split("-")[0]) > 2**53 for p in got)
    calls = list_calls(fake)
    accept = [r for r in calls if r.query["status"] == "ACCEPT"]
    assert [r.query.get("nextToken", "") != "" for r in accept] == [False, True, False]
    assert all(r.query["maxPerPage"] == "50" for r in calls)
    assert sorted({(r.query["createdAtFrom"], r.query["createdAtTo"]) for r in calls}) == [
        ("2026-11-22", "2026-11-28"), ("2026-11-29", "2026-12-01")]
    assert ch.collect(DAY[0], DAY[0] + timedelta(days=10)) == first


def test_collect_counts_a_box_that_moved_between_two_lists_once(fake: FakeCoupang,
                                                                make_channel: Callable[..., CoupangChannel]) -> None:
    box = fake.add_sheet(2).shipment_box_id

    class Acknowledging(httpx.HTTPTransport):
        """WING acknowledges the box right after the ACCEPT list was served."""

        def handle_request(self, request: httpx.Request) -> httpx.Response:
            response = super().handle_request(request)
            if request.url.params.get("status") == "ACCEPT":
                fake.set_status(box, "INSTRUCT")
            return response

    records = make_channel(fake, transport=Acknowledging()).collect(*recent(fake))
    assert len(records) == 1 and len(records[0].lines) == 2
    assert {ln.status for ln in records[0].lines} == {LineStatus.CONFIRMED}  # the later read wins


@pytest.mark.parametrize("failure", ["malformed", "bad_field", "server_error", "float_id"])
def test_collect_is_all_or_nothing(fake: FakeCoupang, make_channel: Callable[..., CoupangChannel],
                                   failure: str) -> None:
    for _ in range(3):
        fake.add_sheet(1)
    box = fake.add_sheet(1, status="DEPARTURE").shipment_box_id
    ch = make_channel(fake)
    if failure == "malformed":
        fake.fail_next("ordersheets", "malformed", method="GET")
        expected: type[ChannelError] = ChannelBadReply
    elif failure == "bad_field":
        fake.update_item(box, fake.sheet(box)["orderItems"][0]["vendorItemId"], shippingCount="1")
        expected = ChannelBadReply
    elif failure == "server_error":
        fake.fail_next("ordersheets", 500, count=4, method="GET")
        expected = ChannelTransientError
    else:
        fake.update_sheet(box, shipmentBoxId=float(box))  # a float id would lose digits: refused
        expected = ChannelBadReply
    with pytest.raises(expected):
        ch.collect(*recent(fake))


def test_a_rate_limited_collection_fails_without_hammering(make_channel: Callable[..., CoupangChannel],
                                                           clock: Clock) -> None:
    with FakeCoupang(rate_limit=1.0, burst=1.0, rate_clock=FakeClock(0), rate_block_seconds=600,
                     forbidden_threshold=None) as f:
        f.add_sheet(1)
        with pytest.raises(ChannelRateLimited):
            make_channel(f).collect(*recent(f))
        assert [r.status for r in f.requests] == [200, 429, 429, 429, 429]  # one call, then 4 tries of the next
    assert clock.sleeps == [0.5, 1.0, 2.0]


def test_the_access_denied_page_is_a_block_not_an_auth_failure(fake: FakeCoupang,
                                                               make_channel: Callable[..., CoupangChannel]) -> None:
    fake.deny_access()
    with pytest.raises(ChannelRateLimited) as ei:
        make_channel(fake).collect(*recent(fake))
    assert ei.value.params["reason"] == "access_denied"
    assert len(fake.requests) == 1  # no retry into a block


# --- 발주확인 ---------------------------------------------------------------------------------------------
def test_confirm_partial_failure_reack_and_refreshed_address(fake: FakeCoupang,
                                                             make_channel: Callable[..., CoupangChannel]) -> None:
    ok = fake.add_sheet(2).shipment_box_id
    flaky = fake.add_sheet(1).shipment_box_id
    gone = fake.add_sheet(1, canceled=True).shipment_box_id
    before = fake.add_sheet(1, status="INSTRUCT").shipment_box_id
    ch = make_channel(fake)
    assert len(ch.collect(*recent(fake))) == 3  # the cancelled box is in no list
    fake.change_receiver(ok, addr1="서울특별시 강남구 테헤란로 1", addr2="3층", postCode="06236")
    fake.fail_box(flaky, op="ack")
    asked = [*pids(fake, ok), *pids(fake, flaky), *pids(fake, gone), *pids(fake, before), "nonsense"]

    result = ch.confirm(asked)
    assert list(result.items) == asked
    assert [result[p].ok for p in pids(fake, ok)] == [True, True]
    assert not result[pids(fake, ok)[0]].already_done
    r = result[pids(fake, flaky)[0]]
    assert (r.ok, r.code, r.retryable) == (False, "UNDEFINED_ERROR_OCCUR", True) and r.message
    r = result[pids(fake, gone)[0]]
    assert (r.ok, r.code, r.retryable, r.cancelled) == (False, "ORDER_DELIVERY_CANCELED", False, True)
    assert r.message == "배송상태를 변경할 수 없습니다"
    r = result[pids(fake, before)[0]]
    assert (r.ok, r.already_done) == (True, True)
    assert (result["nonsense"].ok, result["nonsense"].code) == (False, "coupang_bad_id")
    assert [a["shipmentBoxId"] for a in fake.acknowledgements] == [ok]
    assert len(fake.calls("acknowledgement", "PATCH")) == 1
    assert fake.calls("acknowledgement")[0].json() == {"vendorId": fake.vendor_id,
                                                        "shipmentBoxIds": [ok, flaky, gone, before]}

    refreshed = {ln.product_order_id: (rec, ln) for rec in result.refreshed for ln in rec.lines}
    rec, line = refreshed[pids(fake, ok)[0]]
    assert rec.address == "서울특별시 강남구 테헤란로 1 3층" and rec.zip_code == "06236"
    assert line.status is LineStatus.CONFIRMED
    assert pids(fake, gone)[0] not in refreshed  # read back: "해당 주문이 취소 또는 반품되었습니다." (no sheet)

    again = ch.confirm(pids(fake, ok) + pids(fake, flaky))  # the retry: the flaky box goes through now
    assert all(r.ok for r in again.items.values())
    assert [r.already_done for r in again.items.values()] == [True, True, False]


@pytest.mark.parametrize("applied", [True, False])
def test_a_504_on_acknowledgement_is_settled_by_reading_the_sheets(
        fake: FakeCoupang, make_channel: Callable[..., CoupangChannel], applied: bool) -> None:
    box = fake.add_sheet(1).shipment_box_id
    fake.fail_next("acknowledgement", 504, process=applied)
    result = make_channel(fake).confirm(pids(fake, box))
    r = result[pids(fake, box)[0]]
    if applied:
        assert r.ok and fake.status(box) == "INSTRUCT"
    else:
        assert (r.ok, r.retryable, r.code) == (False, True, "channel_transient") and fake.status(box) == "ACCEPT"
    assert len(fake.calls("acknowledgement")) == 1  # never repeated blind
    assert [ln.product_order_id for rec in result.refreshed for ln in rec.lines] == pids(fake, box)


# --- 송장업로드 -------------------------------------------------------------------------------------------
def test_dispatch_translates_couriers_and_sends_one_dto_per_item(fake: FakeCoupang,
                                                                 make_channel: Callable[..., CoupangChannel]) -> None:
    lotte = fake.add_sheet(2, status="INSTRUCT")
    logen = fake.add_sheet(1, status="INSTRUCT").shipment_box_id
    nh = fake.add_sheet(1, status="INSTRUCT").shipment_box_id
    cu = fake.add_sheet(1, status="INSTRUCT").shipment_box_id
    part = fake.add_sheet(2, status="INSTRUCT").shipment_box_id
    fake.cancel(part, fake.sheet(part)["orderItems"][1]["vendorItemId"])  # the rest of the box ships
    box = lotte.shipment_box_id
    items = [DispatchItem(p, "HYUNDAI", "245678901234", SENT) for p in pids(fake, box)] + [
        (pids(fake, logen)[0], "KGB", "31234567890", SENT),
        (pids(fake, nh)[0], "NONGHYUP", "55512345678", SENT),
        (pids(fake, cu)[0], "CUPARCEL", "66612345678", SENT),  # Coupang has no code for CU
        (pids(fake, part)[0], "CJGLS", "77712345678", SENT),
        (pids(fake, part)[1], "CJGLS", "77712345678", SENT),
        ("642538970006401429-1", "CJGLS", " ", SENT)]
    ch = make_channel(fake)
    result = ch.dispatch(items)
    assert list(result.items) == [it[0] for it in items]
    assert result.succeeded == [*pids(fake, box), pids(fake, logen)[0], pids(fake, nh)[0], pids(fake, part)[0]]
    assert (result[pids(fake, cu)[0]].code, result[pids(fake, cu)[0]].retryable) == ("courier_unknown", False)
    assert result[pids(fake, part)[1]].code == "ORDER_DELIVERY_CANCELED"
    assert result["642538970006401429-1"].code == "dispatch_missing_tracking"
    assert [{k: v for k, v in dto.items() if k != "time"} for dto in fake.invoices[:2]] == [
        {"shipmentBoxId": 642538970006401429, "orderId": lotte.order_id, "vendorItemId": vid,
         "deliveryCompanyCode": "HYUNDAI", "invoiceNumber": "245678901234", "splitShipping": False,
         "preSplitShipped": False, "estimatedShippingDate": ""} for vid in lotte.vendor_item_ids]
    assert [(d["shipmentBoxId"], d["deliveryCompanyCode"]) for d in fake.invoices[2:]] == [
        (logen, "KGB"), (nh, "NHLOGIS"), (part, "CJGLS")]
    assert len(fake.calls("invoices")) == 1

    now = ch.lookup([*pids(fake, box), pids(fake, logen)[0], pids(fake, nh)[0]])
    assert {(r.courier_code, r.tracking_number, r.status) for r in now.values()} == {
        ("HYUNDAI", "245678901234", LineStatus.SHIPPED), ("KGB", "31234567890", LineStatus.SHIPPED),
        ("NONGHYUP", "55512345678", LineStatus.SHIPPED)}
    again = ch.dispatch(items[:2])  # safe to repeat: shown with our number, not sent again
    assert [(r.ok, r.already_done) for r in again.items.values()] == [(True, True), (True, True)]
    assert len(fake.calls("invoices")) == 1 and len(fake.invoices) == 5


def test_a_box_with_an_item_not_in_the_request_is_not_sent(fake: FakeCoupang,
                                                           make_channel: Callable[..., CoupangChannel]) -> None:
    box = fake.add_sheet([{"sellerProductName": "머그컵", "sellerProductItemName": "화이트"}, {}],
                         status="INSTRUCT").shipment_box_id
    packed, unpacked = pids(fake, box)
    result = make_channel(fake).dispatch([(packed, "CJGLS", "245678901234", SENT)])
    r = result[packed]
    assert (r.ok, r.code, r.retryable) == (False, "coupang_box_incomplete", False)
    assert "윙" in r.message and "WING" in r.message and "스테인리스 텀블러" in r.message
    assert fake.calls("invoices") == [] and unpacked not in result.items


def test_per_box_failure_codes_are_retryable_or_not(fake: FakeCoupang,
                                                    make_channel: Callable[..., CoupangChannel]) -> None:
    cases = {"UNDEFINED_ERROR_OCCUR": True, "NOT_FOUND_VENDOR_ITEM": False, "PERMISSION_DENIED": True,
             "NOT_FOUND_INVOICE_NUMBER": False, "SOMETHING_NEW": True, "INVALID_STATUS": False}
    boxes = {}
    for code in cases:
        boxes[code] = fake.add_sheet(1, status="INSTRUCT").shipment_box_id
        fake.fail_box(boxes[code], code=code, retry_required=True if code == "SOMETHING_NEW" else None)
    held = fake.add_sheet(1, status="INSTRUCT").shipment_box_id
    fake.hold_for_cancel(held)
    fine = fake.add_sheet(1, status="INSTRUCT").shipment_box_id
    items = [(pids(fake, b)[0], "EPOST", f"6{n:011d}", SENT) for n, b in enumerate([*boxes.values(), held, fine])]
    result = make_channel(fake).dispatch(items)
    for code, retry in cases.items():
        r = result[pids(fake, boxes[code])[0]]
        assert (r.ok, r.code, r.retryable) == (False, code, retry)
        assert r.message  # Coupang's words
    r = result[pids(fake, held)[0]]
    assert (r.ok, r.code, r.retryable) == (False, "ORDER_DELIVERY_CANCELED_HOLDING_FOR_CANCEL", True)
    assert result[pids(fake, fine)[0]].ok
    assert [d["shipmentBoxId"] for d in fake.invoices] == [fine]


def test_a_refused_reupload_of_our_own_number_counts_as_done(fake: FakeCoupang,
                                                             make_channel: Callable[..., CoupangChannel]) -> None:
    box = fake.add_sheet(1, status="INSTRUCT").shipment_box_id
    pid = pids(fake, box)[0]
    ch = make_channel(fake)
    ch.lookup([pid])  # cached: INSTRUCT, no invoice
    fake.set_status(box, "DEPARTURE")  # meanwhile another station's upload went through
    fake.update_sheet(box, invoiceNumber="245678901234", deliveryCompanyName="CJ대한통운")
    r = ch.dispatch([(pid, "CJGLS", "245678901234", SENT)], checked=True)[pid]
    assert (r.ok, r.already_done) == (True, True)
    assert len(fake.calls("invoices")) == 1 and fake.invoices == []  # refused as a re-upload, then read back
    r = ch.dispatch([(pid, "CJGLS", "999999999999", SENT)])[pid]  # another number there: for a person
    assert (r.ok, r.code, r.retryable, r.message) == (False, "dispatched_other_tracking", False,
                                                      "CJGLS 245678901234")
    assert len(fake.calls("invoices")) == 1


def test_the_accounts_courier_overrides_are_used(fake: FakeCoupang,
                                                 make_channel: Callable[..., CoupangChannel]) -> None:
    box = fake.add_sheet(1, status="INSTRUCT").shipment_box_id
    pid = pids(fake, box)[0]
    ch = make_channel(fake, courier_overrides={"KGB": "KGBPS"})
    assert ch.dispatch([(pid, "KGB", "31234567890", SENT)]).succeeded == [pid]
    assert fake.invoices[0]["deliveryCompanyCode"] == "KGBPS"
    shown = ch.lookup([pid])[pid]
    assert (shown.tracking_number, shown.courier_code) == ("31234567890", "")  # a name we cannot map: by number


@pytest.mark.parametrize("failure", ["timeout", "malformed", "disconnect"])
def test_an_upload_applied_but_unanswered_is_ok_and_not_sent_twice(
        fake: FakeCoupang, make_channel: Callable[..., CoupangChannel], failure: str) -> None:
    box = fake.add_sheet(2, status="INSTRUCT").shipment_box_id
    other = fake.add_sheet(1, status="INSTRUCT").shipment_box_id
    if failure == "timeout":
        fake.fail_next("invoices", "timeout", delay=3.0, process=True)
    else:
        fake.fail_next("invoices", failure, process=True)
    ch = make_channel(fake, timeout=httpx.Timeout(0.4, connect=2.0))
    items = [(p, "CJGLS", "245678901234", SENT) for p in pids(fake, box)] + \
            [(pids(fake, other)[0], "CJGLS", "245678901235", SENT)]
    result = ch.dispatch(items)
    assert all(r.ok for r in result.items.values())
    assert len(fake.invoices) == 3 and len(fake.calls("invoices")) == 1
    assert ch.dispatch(items).succeeded == [it[0] for it in items]
    assert len(fake.invoices) == 3 and len(fake.calls("invoices")) == 1


@pytest.mark.parametrize(("failure", "code"), [(503, "channel_transient"), ("malformed", "channel_bad_reply")])
def test_an_upload_that_failed_unapplied_is_retryable(fake: FakeCoupang, make_channel: Callable[..., CoupangChannel],
                                                      failure: int | str, code: str) -> None:
    box = fake.add_sheet(1, status="INSTRUCT").shipment_box_id
    fake.fail_next("invoices", failure)
    r = make_channel(fake).dispatch([(pids(fake, box)[0], "CJGLS", "245678901234", SENT)])[pids(fake, box)[0]]
    assert (r.ok, r.retryable, r.code) == (False, True, code)
    assert fake.invoices == [] and len(fake.calls("invoices")) == 1  # a POST is not repeated blind


@pytest.mark.parametrize("storm", ["429", "403"])
def test_rate_limit_storms_stop_the_run_and_leave_everything_retryable(
        fake: FakeCoupang, make_channel: Callable[..., CoupangChannel], clock: Clock,
        monkeypatch: pytest.MonkeyPatch, storm: str) -> None:
    monkeypatch.setattr(coupang, "MAX_BOXES_PER_CALL", 1)
    boxes = [fake.add_sheet(1, status="INSTRUCT").shipment_box_id for _ in range(3)]
    items = [(pids(fake, b)[0], "CJGLS", f"24567890123{n}", SENT) for n, b in enumerate(boxes)]
    ch = make_channel(fake)
    assert len(ch.lookup([it[0] for it in items])) == 3  # the outbox reads first...
    gets = len(fake.calls(method="GET"))
    if storm == "429":
        fake.fail_next("invoices", 429, count=100)
    else:
        fake.deny_access()
    result = ch.dispatch(items, checked=True)  # ...and the channel need not read again
    assert len(fake.calls(method="GET")) == gets
    assert {(r.ok, r.retryable, r.code) for r in result.items.values()} == {(False, True, "channel_rate_limited")}
    assert fake.invoices == []
    assert len(fake.calls("invoices")) == (4 if storm == "429" else 1)  # first batch only, the rest not tried
    assert clock.sleeps == ([0.5, 1.0, 2.0] if storm == "429" else [])


def test_lookup_reads_each_box_once_and_leaves_out_what_coupang_does_not_have(
        fake: FakeCoupang, make_channel: Callable[..., CoupangChannel], clock: Clock) -> None:
    box = fake.add_sheet(2, status="INSTRUCT").shipment_box_id
    ch = make_channel(fake)
    wanted = [*pids(fake, box), f"{box}-1", "999999999999999999-1", "garbage"]
    found = ch.lookup(wanted)
    assert list(found) == pids(fake, box)
    assert {r.status for r in found.values()} == {LineStatus.CONFIRMED}
    assert len(fake.requests) == 2  # one read per distinct box
    clock.now += 600  # a cached read gets old: dispatch reads the box again
    ch.dispatch([(p, "CJGLS", "245678901234", SENT) for p in pids(fake, box)], checked=True)
    assert len(fake.calls(f"/ordersheets/{box}")) == 2
    fake.fail_next("ordersheets", "malformed", method="GET")
    with pytest.raises(ChannelBadReply):
        ch.lookup(pids(fake, box))


# --- issue #22: Coupang as Coupang behaves ---------------------------------------------------------------
def test_a_fully_cancelled_box_is_a_cancellation_not_a_missing_box(
        fake: FakeCoupang, make_channel: Callable[..., CoupangChannel]) -> None:
    gone = fake.add_sheet(2, status="INSTRUCT")
    box = gone.shipment_box_id
    ch = make_channel(fake)
    assert {ln.status for ln in lines(ch.collect(*recent(fake))).values()} == {LineStatus.CONFIRMED}
    fake.cancel(box)                                   # the buyer's cancel went through: the box leaves the lists
    assert ch.collect(*recent(fake)) == []
    found = ch.lookup([*pids(fake, box), "999999999999999999-1"])   # 400 "해당 주문이 취소 또는 반품되었습니다."
    assert list(found) == pids(fake, box)
    assert {(ln.status, ln.claim_status, ln.channel_status) for ln in found.values()} == {
        (LineStatus.CANCELLED, "CANCEL", "CANCELED")}
    result = ch.dispatch([(p, "CJGLS", "245678901234", SENT) for p in pids(fake, box)])
    assert {(r.ok, r.code, r.retryable, r.cancelled) for r in result.items.values()} == {
        (False, "ORDER_DELIVERY_CANCELED", False, True)}
    assert fake.calls("invoices") == []
    nothing = ch.dispatch([("999999999999999999-1", "CJGLS", "245678901234", SENT)])["999999999999999999-1"]
    assert (nothing.code, nothing.cancelled) == ("NOT_FOUND_SHIPMENT_BOX", False)   # a box Coupang never had


def test_follow_up_reads_the_cancel_lists_and_the_unlisted_boxes(
        fake: FakeCoupang, make_channel: Callable[..., CoupangChannel]) -> None:
    paid = fake.add_sheet(1)                            # cancelled while 결제완료: a CANCEL receipt
    ready = fake.add_sheet(2, status="INSTRUCT")        # a 출고중지요청 waits (RU), the sheet shows no hold
    quiet = fake.add_sheet(1, status="INSTRUCT")        # cancelled, no receipt in the lists read
    fine = fake.add_sheet(1, status="INSTRUCT")
    fake.cancel(paid.shipment_box_id)
    fake.hold_for_cancel(ready.shipment_box_id)
    fake.update_item(ready.shipment_box_id, ready.vendor_item_ids[0], holdCountForCancel=0)
    fake.update_item(ready.shipment_box_id, ready.vendor_item_ids[1], holdCountForCancel=0)
    ch = make_channel(fake)
    since, until = recent(fake)
    fake.update_item(quiet.shipment_box_id, quiet.vendor_item_ids[0], shippingCount=0, cancelCount=1, canceled=True)
    got = ch.follow_up(since, until, missing=[pids(fake, quiet.shipment_box_id)[0], "nonsense"])
    assert got[pids(fake, paid.shipment_box_id)[0]].status is LineStatus.CANCELLED
    assert got[pids(fake, quiet.shipment_box_id)[0]].status is LineStatus.CANCELLED
    held = [got[p] for p in pids(fake, ready.shipment_box_id)]
    assert {(ln.status, ln.claim_status) for ln in held} == {(LineStatus.CANCEL_REQUESTED, "RELEASE_STOP_UNCHECKED")}
    assert not set(pids(fake, fine.shipment_box_id)) & set(got)
    asked = [(r.query.get("cancelType"), r.query.get("status")) for r in fake.calls("/returnRequests")]
    assert asked == [("CANCEL", None), (None, "RU")]
    fake.fail_next("returnRequests", 500, count=4)
    with pytest.raises(ChannelTransientError):         # all or nothing, like a collection
        ch.follow_up(since, until)


def test_returns_are_the_return_receipts_of_boxes_that_left(
        fake: FakeCoupang, make_channel: Callable[..., CoupangChannel]) -> None:
    sent = fake.add_sheet(2, status="FINAL_DELIVERY")
    other = fake.add_sheet(1, status="DELIVERING")
    stopped = fake.add_sheet(1, status="INSTRUCT")               # 출고중지 done: a cancel, nothing comes back
    paid = fake.add_sheet(1)                                     # a 결제완료 cancel
    fake.cancel(stopped.shipment_box_id)
    fake.cancel(paid.shipment_box_id)
    asked_at = fake.now()  # the fake's clock is the wall's: the request and the update fall in this span
    rid = fake.request_return(sent.shipment_box_id, sent.vendor_item_ids[1], reason=("상품불량", "파손"),
                              detail="모서리 깨짐", courier="HYUNDAI")
    fake.update_return(rid, invoice="2456-1234-5672")            # a pickup waybill as a label prints it
    updated_by = fake.now()
    done = fake.request_return(other.shipment_box_id)
    fake.update_return(done, status="RETURNS_COMPLETED")
    ch = make_channel(fake)
    since, until = recent(fake)
    got = {r.claim_id: r for r in ch.returns(since, until)}
    assert set(got) == {str(rid), str(done)}
    r = got[str(rid)]
    assert (r.claim_type, r.status, r.order_no) == ("return", "RETURNS_UNCHECKED", str(sent.order_id))
    assert r.lines == ((f"{sent.shipment_box_id}-{sent.vendor_item_ids[1]}", 1),)
    assert (r.reason_code, r.reason_text) == ("상품불량 > 파손", "모서리 깨짐")
    assert (r.courier_code, r.tracking_number) == ("HYUNDAI", "245612345672")
    assert asked_at <= r.requested_at <= r.updated_at <= updated_by
    assert got[str(done)].status == "RETURNS_COMPLETED" and got[str(done)].tracking_number == ""
    # UC, PR and CC, looking back 14 days whatever the window: two 7-day calls each
    asked = [(r.query.get("status"), r.query["createdAtFrom"], r.query["createdAtTo"])
             for r in fake.calls("/returnRequests")]
    assert [a[0] for a in asked] == ["UC", "PR", "CC"] * 2
    first_day = (until - coupang.RETURN_LOOKBACK).astimezone(KST).date().isoformat()
    assert asked[0][1] == first_day and asked[-1][2] == until.astimezone(KST).date().isoformat()
    fake.fail_next("returnRequests", 500, count=4)
    with pytest.raises(ChannelTransientError):                   # all or nothing, like a collection
        ch.returns(since, until)


def test_engraving_and_other_item_instructions_come_with_the_line(
        fake: FakeCoupang, make_channel: Callable[..., CoupangChannel]) -> None:
    s = fake.add_sheet([{"etcInfoValues": ["각인 문구: 사랑해", " ", "각인 문구: 사랑해", "포장: 선물용"],
                         "etcInfoValue": "리본 색: 빨강"}, {"etcInfoValues": None}, {}])
    got = lines(make_channel(fake).collect(*recent(fake)))
    first, second, third = (got[p] for p in pids(fake, s.shipment_box_id))
    assert first.instructions == "각인 문구: 사랑해\n포장: 선물용\n리본 색: 빨강"
    assert second.instructions == third.instructions == ""
    fake.update_item(s.shipment_box_id, s.vendor_item_ids[1], etcInfoValues="각인")
    with pytest.raises(ChannelBadReply):                # not a list of strings: the reply breaks the contract
        make_channel(fake).collect(*recent(fake))


def test_a_box_split_in_wing_sends_the_rest_as_a_split_shipment(
        fake: FakeCoupang, make_channel: Callable[..., CoupangChannel]) -> None:
    s = fake.add_sheet(3, status="INSTRUCT")
    box, (v1, v2, v3) = s.shipment_box_id, s.vendor_item_ids
    fake.ship_split(box, [v1], "612345678901")
    ch = make_channel(fake)
    got = lines(ch.collect(*recent(fake)))
    shipped, *rest = (got[p] for p in pids(fake, box))
    assert (shipped.status, shipped.tracking_number) == (LineStatus.SHIPPED, "")
    assert {(ln.status, ln.channel_status, ln.tracking_number) for ln in rest} == {
        (LineStatus.CONFIRMED, "DEPARTURE", "")}
    one = ch.dispatch([(pids(fake, box)[1], "CJGLS", "612345678999", SENT)])   # the rest goes together
    assert one[pids(fake, box)[1]].code == "coupang_box_incomplete"
    items = [(p, "CJGLS", "612345678999", SENT) for p in pids(fake, box)[1:]]
    result = ch.dispatch(items)
    assert all(r.ok and not r.already_done for r in result.items.values())
    sent = [d for d in fake.invoices if d["invoiceNumber"] == "612345678999"]
    assert [(d["vendorItemId"], d["splitShipping"], d["preSplitShipped"]) for d in sent] == [
        (v2, True, True), (v3, True, True)]
    again = ch.dispatch(items)                          # each item shows its invoice now: not sent twice
    assert all(r.ok and r.already_done for r in again.items.values())
    assert len(fake.calls("invoices")) == 1


def test_a_box_still_accept_is_acknowledged_before_its_invoice(
        fake: FakeCoupang, make_channel: Callable[..., CoupangChannel]) -> None:
    new, held, ready = fake.add_sheet(2), fake.add_sheet(1), fake.add_sheet(1, status="INSTRUCT")
    fake.hold_for_cancel(held.shipment_box_id)
    ch = make_channel(fake)
    items = [(p, "CJGLS", "245678901234", SENT) for p in pids(fake, new.shipment_box_id)] + [
        (pids(fake, held.shipment_box_id)[0], "CJGLS", "245678901235", SENT),
        (pids(fake, ready.shipment_box_id)[0], "CJGLS", "245678901236", SENT)]
    result = ch.dispatch(items)
    assert [(r.ok, r.acknowledged) for r in result.items.values()] == [
        (True, True), (True, True), (False, False), (True, False)]
    r = result[pids(fake, held.shipment_box_id)[0]]
    assert (r.code, r.retryable) == ("ORDER_DELIVERY_CANCELED_HOLDING_FOR_CANCEL", True)
    assert [a["shipmentBoxId"] for a in fake.acknowledgements] == [new.shipment_box_id]
    assert fake.calls("acknowledgement")[0].json()["shipmentBoxIds"] == [new.shipment_box_id, held.shipment_box_id]
    assert fake.status(new.shipment_box_id) == "DEPARTURE" and fake.status(held.shipment_box_id) == "ACCEPT"
    assert {d["shipmentBoxId"] for d in fake.invoices} == {new.shipment_box_id, ready.shipment_box_id}


def test_a_whole_request_500_sends_each_box_alone_and_names_the_bad_courier(
        fake: FakeCoupang, make_channel: Callable[..., CoupangChannel], expect_warnings: pytest.LogCaptureFixture
) -> None:
    boxes = [fake.add_sheet(n, status="INSTRUCT").shipment_box_id for n in (2, 1, 1)]
    ch = make_channel(fake, courier_overrides={"HANJIN": "HANJIN_OLD"})   # a code Coupang does not know
    items = [(p, "CJGLS", "245678901234", SENT) for p in pids(fake, boxes[0])] + [
        (pids(fake, boxes[1])[0], "HANJIN", "412345678901", SENT),
        (pids(fake, boxes[2])[0], "EPOST", "6012345678901", SENT)]
    result = ch.dispatch(items)
    bad = result[pids(fake, boxes[1])[0]]
    assert (bad.ok, bad.code, bad.retryable, bad.message) == (False, "coupang_courier_rejected", False,
                                                              "HANJIN → HANJIN_OLD")
    assert [pid for pid in result.succeeded] == [*pids(fake, boxes[0]), pids(fake, boxes[2])[0]]
    assert [r.status for r in fake.calls("invoices")] == [500, 200, 500, 200]   # together, then one by one
    assert sorted(d["shipmentBoxId"] for d in fake.invoices) == sorted([boxes[0], boxes[0], boxes[2]])
    assert all(r.json()["vendorId"] for r in fake.calls("invoices"))
    assert "HANJIN_OLD" in expect_warnings.text and "245678901234" not in expect_warnings.text


def test_a_500_that_was_a_hiccup_goes_through_when_the_box_is_sent_alone(
        fake: FakeCoupang, make_channel: Callable[..., CoupangChannel]) -> None:
    box = fake.add_sheet(1, status="INSTRUCT").shipment_box_id
    fake.fail_next("invoices", 500)
    pid = pids(fake, box)[0]
    assert make_channel(fake).dispatch([(pid, "CJGLS", "245678901234", SENT)])[pid].ok
    assert len(fake.invoices) == 1 and [r.status for r in fake.calls("invoices")] == [500, 200]


def test_500s_for_every_box_under_several_couriers_are_coupang_failing(
        fake: FakeCoupang, make_channel: Callable[..., CoupangChannel]) -> None:
    boxes = [fake.add_sheet(1, status="INSTRUCT").shipment_box_id for _ in range(2)]
    fake.fail_next("invoices", 500, count=3)
    items = [(pids(fake, boxes[0])[0], "CJGLS", "245678901234", SENT),
             (pids(fake, boxes[1])[0], "EPOST", "6012345678901", SENT)]
    result = make_channel(fake).dispatch(items)
    assert {(r.ok, r.retryable, r.code) for r in result.items.values()} == {(False, True, "channel_transient")}
    assert fake.invoices == []


def test_a_500_after_which_a_box_shows_our_number_is_not_resent(
        fake: FakeCoupang, make_channel: Callable[..., CoupangChannel]) -> None:
    boxes = [fake.add_sheet(1, status="INSTRUCT").shipment_box_id for _ in range(2)]
    fake.fail_next("invoices", 500, process=True)                  # applied, then answered 500
    items = [(pids(fake, b)[0], "CJGLS", f"24567890123{n}", SENT) for n, b in enumerate(boxes)]
    result = make_channel(fake).dispatch(items)
    assert all(r.ok and r.already_done for r in result.items.values())
    assert len(fake.calls("invoices")) == 1 and len(fake.invoices) == 2


# --- secrets --------------------------------------------------------------------------------------------
def test_no_secret_or_signature_reaches_an_error_or_the_log(fake: FakeCoupang,
                                                            make_channel: Callable[..., CoupangChannel],
                                                            caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)  # every logger: ours, httpx, httpcore
    box = fake.add_sheet(1, status="INSTRUCT").shipment_box_id
    ch = make_channel(fake)
    errors: list[ChannelError] = []
    fake.fail_next("ordersheets", 500, count=4, method="GET")
    for call in (lambda: ch.collect(*recent(fake)), lambda: make_channel(fake, secret="1" * 40).test_connection(),
                 lambda: make_channel(fake, wall=lambda: time.time() - 900).lookup(pids(fake, box))):
        with pytest.raises(ChannelError) as ei:
            call()
        errors.append(ei.value)
    fake.fail_next("invoices", 503)
    ch.dispatch([(pids(fake, box)[0], "CJGLS", "245678901234", SENT)])
    assert "retry 1/3" in caplog.text  # the log did see the traffic
    secrets = [fake.secret_key, *(r.headers["authorization"].split("signature=")[1] for r in fake.requests
                                  if "authorization" in r.headers)]
    assert len(secrets) > 5
    texts = [caplog.text, repr(ch), repr(ch.client), *(f"{e} {e.detail} {e.params!r}" for e in errors)]
    for secret in secrets:
        for text in texts:
            assert secret not in text


def test_the_channel_kind() -> None:
    assert CoupangChannel.kind is ChannelKind.COUPANG
