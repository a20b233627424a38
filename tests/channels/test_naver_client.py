"""The Naver Commerce API client: pure parts (signature, dates, status table, mapping) directly, and the
rest over real HTTP against the fake in ``tests/fakes/naver.py`` (built from the spec, not from this client).
Backoff and limiter waits go to an injected clock; only read-timeout cases wait, a fraction of a second."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from packdesk.channels.base import (
    ChannelAuthError,
    ChannelRateLimited,
    ChannelTransientError,
    LineRecord,
    OrderRecord,
)
from packdesk.channels.http import ChannelBadReply, RateLimiters, RetryPolicy
from packdesk.channels.naver import (
    ITEM_MISSING_COURIER,
    ITEM_MISSING_TRACKING,
    ITEM_NOT_IN_REPLY,
    KST,
    ConnectionOk,
    DispatchItem,
    ItemResult,
    NaverChannel,
    _for_batch,
    client_secret_sign,
    format_datetime,
    line_status,
    orders_from_details,
    read_naver_problem,
    windows,
)
from packdesk.core.enums import ChannelKind, LineStatus
from tests.fakes.naver import FakeClock, FakeNaver, new_client_secret

LAST_CHANGED = "last-changed-statuses"
QUERY = "product-orders/query"
CONFIRM = "product-orders/confirm"
DISPATCH = "product-orders/dispatch"
TOKEN = "oauth2/token"


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
def fake() -> Iterator[FakeNaver]:
    with FakeNaver(rate_limit=None) as f:
        yield f


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def make_channel(clock: Clock) -> Iterator[Callable[..., NaverChannel]]:
    made: list[NaverChannel] = []

    def make(fake: FakeNaver, *, secret: str | None = None, **kw: Any) -> NaverChannel:
        opts: dict[str, Any] = {"base_url": fake.base_url, "sleep": clock.sleep, "clock": clock,
                                "rng": lambda: 1.0, "limiters": RateLimiters(), "timeout": 5.0}
        opts.update(kw)
        ch = NaverChannel(fake.client_id, fake.client_secret if secret is None else secret, **opts)
        made.append(ch)
        return ch

    yield make
    for ch in made:
        ch.close()


def window(fake: FakeNaver, hours: float = 1) -> tuple[datetime, datetime]:
    now = fake.now()
    return now - timedelta(hours=hours), now + timedelta(seconds=1)


def by_pid(records: list[OrderRecord]) -> dict[str, LineRecord]:
    return {ln.product_order_id: ln for r in records for ln in r.lines}


def statuses(fake: FakeNaver, path: str | None = None) -> list[int | None]:
    return [r.status for r in fake.calls(path)]


# --- pure: signature, dates, windows --------------------------------------------------------------------
def test_signature_matches_the_official_example() -> None:
    assert client_secret_sign("aaaabbbbcccc", "$2a$10$abcdefghijklmnopqrstuu", 1643961623299) == (
        "JDJhJDEwJGFiY2RlZmdoaWprbG1ub3BxcnN0dXVCVldZSk42T0VPdEx1OFY0cDQxa2IuTnpVaUEzbmsy")


def test_a_secret_that_is_no_bcrypt_salt_is_an_auth_error_that_does_not_echo_it() -> None:
    secret = "my-pasted-secret-oops"
    with pytest.raises(ChannelAuthError) as ei:
        client_secret_sign("id", secret, 1)
    assert ei.value.params == {"reason": "secret_format"}
    assert secret not in str(ei.value) and secret not in ei.value.detail
    assert ei.value.__cause__ is None and ei.value.__suppress_context__


def test_dates_go_out_in_kst_with_milliseconds() -> None:
    assert format_datetime(datetime(2026, 11, 22, 0, 30, 0, 123456, tzinfo=UTC)) == "2026-11-22T09:30:00.123+09:00"
    with pytest.raises(ValueError):
        format_datetime(datetime(2026, 11, 22))


def test_windows_are_half_open_and_at_most_24_hours() -> None:
    t0 = datetime(2026, 11, 20, tzinfo=KST)
    got = list(windows(t0, t0 + timedelta(hours=50)))
    assert got == [(t0, t0 + timedelta(hours=24)), (t0 + timedelta(hours=24), t0 + timedelta(hours=48)),
                   (t0 + timedelta(hours=48), t0 + timedelta(hours=50))]
    assert list(windows(t0, t0)) == []


# --- pure: the status table -----------------------------------------------------------------------------
@pytest.mark.parametrize(("pos", "place", "claim", "remain", "expected"), [
    ("PAYED", "NOT_YET", "", None, LineStatus.NEW),
    ("PAYED", "", "", None, LineStatus.NEW),
    ("PAYED", "OK", "", None, LineStatus.CONFIRMED),
    ("PAYED", "CANCEL", "", None, LineStatus.NEW),                   # 발주확인 해제
    ("PAYED", "NOT_YET", "CANCEL_REQUEST", None, LineStatus.CANCEL_REQUESTED),
    ("PAYED", "OK", "CANCELING", None, LineStatus.CANCEL_REQUESTED),
    ("PAYED", "OK", "ADMIN_CANCELING", None, LineStatus.CANCEL_REQUESTED),
    ("DELIVERING", "OK", "ADMIN_CANCELING", None, LineStatus.CANCEL_REQUESTED),  # pull it if still here
    ("PAYED", "OK", "CANCEL_REJECT", None, LineStatus.CONFIRMED),     # refused: ship it
    ("PAYED", "OK", "CANCEL_DONE", 0, LineStatus.CANCELLED),
    ("PAYED", "OK", "CANCEL_DONE", None, LineStatus.CANCELLED),
    ("PAYED", "OK", "CANCEL_DONE", 2, LineStatus.CONFIRMED),         # partial-quantity cancel: the rest ships
    ("CANCELED", "OK", "CANCEL_DONE", None, LineStatus.CANCELLED),
    ("CANCELED", "NOT_YET", "ADMIN_CANCEL_DONE", None, LineStatus.CANCELLED),
    ("CANCELED_BY_NOPAYMENT", "", "", None, LineStatus.CANCELLED),
    ("DELIVERING", "OK", "", None, LineStatus.SHIPPED),
    ("DELIVERED", "OK", "RETURN_REQUEST", None, LineStatus.SHIPPED),
    ("PURCHASE_DECIDED", "OK", "", None, LineStatus.SHIPPED),
    ("EXCHANGED", "OK", "EXCHANGE_DONE", None, LineStatus.SHIPPED),
    ("RETURNED", "OK", "RETURN_DONE", None, LineStatus.SHIPPED),
    ("PAYMENT_WAITING", "", "", None, None),
    ("PAYMENT_WAITING", "", "CANCELING", None, None),
])
def test_status_table(pos: str, place: str, claim: str, remain: int | None, expected: LineStatus | None) -> None:
    assert line_status(pos, place, claim, remain) is expected


def test_an_unknown_status_is_not_guessed() -> None:
    with pytest.raises(ChannelBadReply) as ei:
        line_status("TELEPORTED", "OK")
    assert ei.value.params == {"reason": "unknown_status", "value": "TELEPORTED"}


# --- pure: mapping details ------------------------------------------------------------------------------
def detail(pid: str = "2026112210000011", order_id: str = "2026112210000001", **po: Any) -> dict[str, Any]:
    """The spec's minimal example (§3.2)."""
    product_order = {
        "productOrderId": pid, "productOrderStatus": "PAYED", "placeOrderStatus": "NOT_YET", "productId": "11111",
        "originalProductId": "22222", "productName": "머그컵", "productOption": "색상: 화이트",
        "optionManageCode": "MUG-WH", "sellerProductCode": "MUG", "quantity": 2, "unitPrice": 9000,
        "shippingMemo": "문 앞",
        "shippingAddress": {"name": "홍길동", "tel1": "010-1234-5678", "baseAddress": "서울 중구 세종대로 110",
                            "detailedAddress": "101호", "zipCode": "04524", "addressType": "DOMESTIC"}}
    product_order.update(po)
    return {"order": {"orderId": order_id, "orderDate": "2026-11-22T09:58:00.000+09:00", "ordererName": "김구매",
                      "paymentDate": "2026-11-22T09:58:10.000+09:00"},
            "productOrder": {k: v for k, v in product_order.items() if v is not None}}


def test_details_become_orders_grouped_by_order_id() -> None:
    records = orders_from_details([
        detail("P2", optionCode="OPT-2"),
        detail("P9", order_id="O-OTHER"),
        detail("P1", remainQuantity=1),
    ])
    assert [r.order_no for r in records] == ["2026112210000001", "O-OTHER"]
    first = records[0]
    assert (first.buyer_name, first.recipient_name, first.recipient_phone, first.zip_code) == (
        "김구매", "홍길동", "010-1234-5678", "04524")
    assert first.address == "서울 중구 세종대로 110 101호" and first.delivery_message == "문 앞"
    assert first.ordered_at == datetime(2026, 11, 22, 0, 58, tzinfo=UTC)
    assert first.paid_at is not None and first.paid_at.utcoffset() == timedelta(hours=9)
    p1, p2 = first.lines
    assert (p1.product_order_id, p1.quantity, p1.option_code) == ("P1", 1, "MUG-WH")  # remainQuantity; fallback
    assert (p2.product_order_id, p2.quantity, p2.option_code) == ("P2", 2, "OPT-2")   # optionCode first
    assert (p1.product_code, p1.product_name, p1.option_name) == ("11111", "머그컵", "색상: 화이트")
    assert (p1.status, p1.channel_status, p1.claim_status) == (LineStatus.NEW, "PAYED", "")


def test_claim_status_falls_back_to_current_claim_and_tracking_comes_from_delivery() -> None:
    d = detail(productOrderStatus="PAYED", placeOrderStatus="OK")
    d["currentClaim"] = {"cancel": {"claimId": "C1", "claimStatus": "CANCEL_REQUEST"}}
    shipped = detail("P-SHIP", productOrderStatus="DELIVERING", productId=None)
    shipped["delivery"] = {"deliveryMethod": "DELIVERY", "deliveryCompany": "CJGLS", "trackingNumber": "6123"}
    lines = by_pid(orders_from_details([d, shipped]))
    assert (lines["2026112210000011"].status, lines["2026112210000011"].claim_status) == (
        LineStatus.CANCEL_REQUESTED, "CANCEL_REQUEST")
    ship = lines["P-SHIP"]
    assert (ship.status, ship.courier_code, ship.tracking_number, ship.product_code) == (
        LineStatus.SHIPPED, "CJGLS", "6123", "22222")  # no productId: the origin product no.


def test_unpaid_product_orders_are_left_out() -> None:
    records = orders_from_details([detail("P1", productOrderStatus="PAYMENT_WAITING"),
                                   detail("P2", order_id="O2")])
    assert [r.order_no for r in records] == ["O2"]


def test_ids_sent_as_json_numbers_are_taken() -> None:
    records = orders_from_details([detail(pid=2026112210000011, order_id=2026112210000001)])  # type: ignore[arg-type]
    assert records[0].order_no == "2026112210000001" and records[0].lines[0].product_order_id == "2026112210000011"


@pytest.mark.parametrize(("change", "field"), [
    ({"productOrderId": None}, "details[0].productOrder.productOrderId"),
    ({"quantity": "2"}, "details[0].productOrder.quantity"),
    ({"quantity": True}, "details[0].productOrder.quantity"),
    ({"productName": 7}, "details[0].productOrder.productName"),
    ({"productOrderStatus": None}, "details[0].productOrder.productOrderStatus"),
    ({"productId": None, "originalProductId": None}, "details[0].productOrder.productId"),
    ({"shippingAddress": "서울"}, "details[0].productOrder.shippingAddress"),
])
def test_a_broken_detail_is_refused_with_where(change: dict[str, Any], field: str) -> None:
    d = detail()
    d["productOrder"].update(change)
    d["productOrder"] = {k: v for k, v in d["productOrder"].items() if v is not None}
    with pytest.raises(ChannelBadReply) as ei:
        orders_from_details([d])
    assert ei.value.params == {"reason": "bad_field", "field": field}


def test_a_bad_date_is_refused() -> None:
    d = detail()
    d["order"]["paymentDate"] = "어제"
    with pytest.raises(ChannelBadReply, match="paymentDate"):
        orders_from_details([d])


def test_an_id_missing_from_a_write_reply_is_not_assumed_done() -> None:
    got = _for_batch(["A", "B"], {"A": ItemResult("A", True)})
    assert got["A"].ok and not got["B"].ok
    assert (got["B"].code, got["B"].retryable) == (ITEM_NOT_IN_REPLY, True)


def test_an_hourly_quota_is_not_worth_retrying() -> None:
    def resp(period: str | None) -> httpx.Response:
        headers = {"GNCP-GW-Trace-ID": "tr-1"} | ({"GNCP-GW-Quota-Period": period} if period else {})
        return httpx.Response(429, headers=headers, json={"code": "GW.QUOTA_LIMIT", "message": "m"})

    assert read_naver_problem(resp("HOURS")).retryable is False
    assert read_naver_problem(resp("SECONDS")).retryable is True
    p = read_naver_problem(httpx.Response(400, json={"code": "BAD_REQUEST", "message": "잘못된 요청",
                                                     "invalidInputs": [{"name": "from", "message": "필수"}]}))
    assert (p.code, p.message, p.retryable) == ("BAD_REQUEST", "잘못된 요청; from: 필수", None)


def test_credentials_never_show_in_repr() -> None:
    ch = NaverChannel("my-app-id", "$2a$04$QKLnou1D2cSH19Pia30bcu", limiters=RateLimiters())
    try:
        assert "QKLnou1D2cSH19Pia30bcu" not in repr(ch) and "QKLnou1D2cSH19Pia30bcu" not in repr(ch.client)
        assert "my-app-id" in repr(ch)
    finally:
        ch.close()


# --- token ----------------------------------------------------------------------------------------------
def test_connection_test_fetches_a_token_by_the_book(fake: FakeNaver,
                                                     make_channel: Callable[..., NaverChannel]) -> None:
    ch = make_channel(fake)
    before = int(fake.clock() * 1000)
    assert ch.test_connection() == ConnectionOk(ChannelKind.NAVER, 10_800)
    (call,) = fake.requests
    assert (call.method, call.path, call.query) == ("POST", "/external/v1/oauth2/token", {})
    assert call.headers["content-type"] == "application/x-www-form-urlencoded"
    form = call.form()
    assert set(form) == {"client_id", "timestamp", "grant_type", "client_secret_sign", "type"}
    assert (form["client_id"], form["grant_type"], form["type"]) == (fake.client_id, "client_credentials", "SELF")
    assert before - 10_000 < int(form["timestamp"]) <= before  # "now - 3 s" against clock skew
    assert fake.nonstandard_token_calls == [] and not fake.penalized


def test_token_is_reused_across_calls(fake: FakeNaver, make_channel: Callable[..., NaverChannel]) -> None:
    fake.add_order(1)
    ch = make_channel(fake)
    ch.collect(*window(fake))
    ch.collect(*window(fake))
    assert len(fake.calls(TOKEN)) == 1
    auth = {r.headers["authorization"] for r in fake.calls(LAST_CHANGED) + fake.calls(QUERY)}
    assert auth == {f"Bearer {fake.tokens_issued[0]['access_token']}"}


def test_token_is_renewed_shortly_before_it_expires(make_channel: Callable[..., NaverChannel]) -> None:
    wall = FakeClock()
    with FakeNaver(rate_limit=None, clock=wall) as fake:
        fake.add_order(1)
        ch = make_channel(fake, clock=wall, wall=wall, sleep=wall.advance)
        ch.collect(*window(fake))
        wall.advance(10_000)               # 2 h 46 min of the 3 h used: 14 min left
        ch.collect(*window(fake, hours=4))
        assert len(fake.calls(TOKEN)) == 1  # still more than the 10 min margin left
        wall.advance(250)                  # under 10 min left: fetch anew before the server refuses it
        ch.collect(*window(fake, hours=4))
        assert len(fake.calls(TOKEN)) == 2 and len(fake.tokens_issued) == 2
        assert 401 not in statuses(fake)


def test_a_401_fetches_a_new_token_and_retries_once(fake: FakeNaver,
                                                    make_channel: Callable[..., NaverChannel]) -> None:
    o = fake.add_order(1)
    ch = make_channel(fake)
    ch.collect(*window(fake))
    fake.expire_tokens()
    records = ch.collect(*window(fake))
    assert [r.order_no for r in records] == [o.order_id]
    assert statuses(fake, LAST_CHANGED) == [200, 401, 200]
    assert len(fake.calls(TOKEN)) == 2 and len(fake.tokens_issued) == 2


def test_a_second_401_is_an_auth_error(fake: FakeNaver, make_channel: Callable[..., NaverChannel]) -> None:
    fake.fail_next(LAST_CHANGED, 401, count=2)
    ch = make_channel(fake)
    with pytest.raises(ChannelAuthError) as ei:
        ch.collect(*window(fake))
    assert ei.value.params["api_code"] == "GW.AUTHN" and ei.value.params["message"] == "요청을 보낼 권한이 없습니다."
    assert len(fake.calls(LAST_CHANGED)) == 2 and len(fake.calls(TOKEN)) == 2


def test_bad_credentials_are_an_auth_error_without_the_signature(make_channel: Callable[..., NaverChannel],
                                                                caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with FakeNaver(rate_limit=None, client_secret=new_client_secret()) as fake:
        ch = make_channel(fake, secret="$2a$04$QKLnou1D2cSH19Pia30bcu")  # a real-looking, wrong secret
        with pytest.raises(ChannelAuthError) as ei:
            ch.test_connection()
        sign = fake.requests[0].form()["client_secret_sign"]
    e = ei.value
    assert e.params["status"] == 400 and e.params["api_code"] == "BAD_REQUEST"
    for text in (str(e), e.detail, repr(e.params), caplog.text):
        assert sign not in text and "QKLnou1D2cSH19Pia30bcu" not in text
    assert len(fake.requests) == 1  # an auth refusal is not retried


def test_a_malformed_secret_fails_before_anything_is_sent(fake: FakeNaver,
                                                          make_channel: Callable[..., NaverChannel]) -> None:
    ch = make_channel(fake, secret="  paste-error  ")
    with pytest.raises(ChannelAuthError) as ei:
        ch.test_connection()
    assert ei.value.params == {"reason": "secret_format"} and fake.requests == []


def test_an_ip_not_on_the_allow_list_is_an_auth_error(fake: FakeNaver,
                                                      make_channel: Callable[..., NaverChannel]) -> None:
    fake.fail_next(None, 403)
    with pytest.raises(ChannelAuthError) as ei:
        make_channel(fake).test_connection()
    assert ei.value.params == {"status": 403, "api_code": "GW.IP_NOT_ALLOWED",
                               "message": "호출이 허용되지 않은 IP입니다."}
    assert "trace=" in ei.value.detail


# --- collection -----------------------------------------------------------------------------------------
def test_collect_walks_24h_windows_and_every_page(make_channel: Callable[..., NaverChannel]) -> None:
    with FakeNaver(rate_limit=None, page_size=2) as fake:
        now = fake.now()
        since = now - timedelta(hours=60)
        seeded = [fake.add_order(1, paid_at=now - timedelta(hours=h)).order_id
                  for h in (59, 50, 47, 40, 30, 30, 30, 26, 20, 5, 1)]
        boundary = fake.add_order(2, paid_at=since + timedelta(hours=24)).order_id  # exactly on a window edge
        records = make_channel(fake).collect(since, now)
        calls = fake.calls(LAST_CHANGED)
    assert sorted(r.order_no for r in records) == sorted([*seeded, boundary])
    assert len(by_pid(records)) == len(seeded) + 2  # each product order once, the edge one included
    spans = {(c.query["lastChangedFrom"], c.query["lastChangedTo"]) for c in calls if "moreSequence" not in c.query}
    assert len(spans) == 3
    for frm, to in spans:
        assert timedelta(0) < datetime.fromisoformat(to) - datetime.fromisoformat(frm) < timedelta(hours=24)
    assert any("moreSequence" in c.query for c in calls)
    assert len(calls) >= 7  # 13 changes at 2 per page, over 3 windows
    assert all(c.status == 200 for c in calls)


def test_a_last_window_under_a_millisecond_is_asked_for_not_refused(
        make_channel: Callable[..., NaverChannel]) -> None:
    """Two days to "now", from a time a person set a moment before: the last window is what is left over, under a
    millisecond. It still ends no earlier than it starts (the fake refuses that as Naver does: 104140)."""
    with FakeNaver(rate_limit=None) as fake:
        now = fake.now()
        until = now.replace(microsecond=700) - timedelta(seconds=1)  # 0.7 ms into a millisecond
        since = until - timedelta(hours=48, microseconds=400)  # the last window: 0.3 to 0.7 ms of that one
        order = fake.add_order(1, paid_at=now - timedelta(hours=3)).order_id
        records = make_channel(fake).collect(since, until)
        calls = fake.calls(LAST_CHANGED)
    assert [r.order_no for r in records] == [order] and all(c.status == 200 for c in calls)
    assert len(calls) == 3


def test_collect_asks_for_smaller_pages_when_told(fake: FakeNaver,
                                                  make_channel: Callable[..., NaverChannel]) -> None:
    for _ in range(5):
        fake.add_order(1)
    records = make_channel(fake, page_size=2).collect(*window(fake))
    calls = fake.calls(LAST_CHANGED)
    assert len(records) == 5 and len(calls) == 3 and {c.query["limitCount"] for c in calls} == {"2"}


def test_details_are_fetched_in_batches_of_300(fake: FakeNaver, make_channel: Callable[..., NaverChannel]) -> None:
    orders = [fake.add_order(5) for _ in range(130)]  # 650 product orders changed at the same instant
    records = make_channel(fake).collect(*window(fake))
    assert [len(c.json()["productOrderIds"]) for c in fake.calls(QUERY)] == [300, 300, 50]
    assert all(c.json()["quantityClaimCompatibility"] is True for c in fake.calls(QUERY))
    assert len(fake.calls(LAST_CHANGED)) == 3  # 300 + 300 + 50, tied dates paged by moreSequence
    assert {r.order_no for r in records} == {o.order_id for o in orders}
    assert sum(len(r.lines) for r in records) == 650


def test_a_realistic_order_maps_with_a_cancel_request(fake: FakeNaver,
                                                      make_channel: Callable[..., NaverChannel]) -> None:
    paid = fake.now() - timedelta(minutes=20)
    ordered = paid - timedelta(minutes=1)
    o = fake.add_order(
        [{"productName": "머그컵", "productOption": "색상: 화이트", "optionManageCode": "MUG-WH", "quantity": 2},
         {"productName": "캔버스 에코백", "productOption": None, "optionManageCode": None, "optionCode": None}],
        order={"ordererName": "김철수"},
        shippingAddress={"name": "이영희", "tel1": "010-9876-5432", "zipCode": "06236",
                         "baseAddress": "서울특별시 강남구 테헤란로 152", "detailedAddress": "강남파이낸스센터 12층"},
        shippingMemo="경비실에 맡겨주세요", paid_at=paid, ordered_at=ordered)
    mug, bag = o.product_order_ids
    fake.request_cancel(bag)
    confirmed = fake.add_order(1, placeOrderStatus="OK").product_order_ids[0]
    shipped = fake.add_order(1, productOrderStatus="DELIVERING").product_order_ids[0]
    cancelled = fake.add_order(1).product_order_ids[0]
    fake.complete_cancel(cancelled)
    unpaid = fake.add_order(1, productOrderStatus="PAYMENT_WAITING").order_id

    records = make_channel(fake).collect(*window(fake))
    rec = next(r for r in records if r.order_no == o.order_id)
    assert (rec.buyer_name, rec.recipient_name, rec.recipient_phone, rec.zip_code) == (
        "김철수", "이영희", "010-9876-5432", "06236")
    assert rec.address == "서울특별시 강남구 테헤란로 152 강남파이낸스센터 12층"
    assert rec.delivery_message == "경비실에 맡겨주세요"
    assert rec.ordered_at == ordered and rec.paid_at == paid and rec.paid_at.tzinfo is not None
    detail_mug = fake.product_order(mug)["productOrder"]
    assert rec.lines[0] == LineRecord(
        product_order_id=mug, product_code=detail_mug["productId"], option_code=detail_mug["optionCode"],
        product_name="머그컵", option_name="색상: 화이트", quantity=2, status=LineStatus.NEW, channel_status="PAYED")
    bag_line = rec.lines[1]
    assert (bag_line.product_order_id, bag_line.option_code, bag_line.option_name) == (bag, "", "")
    assert (bag_line.status, bag_line.channel_status, bag_line.claim_status) == (
        LineStatus.CANCEL_REQUESTED, "PAYED", "CANCEL_REQUEST")
    lines = by_pid(records)
    assert lines[confirmed].status is LineStatus.CONFIRMED
    assert (lines[cancelled].status, lines[cancelled].channel_status, lines[cancelled].claim_status) == (
        LineStatus.CANCELLED, "CANCELED", "CANCEL_DONE")
    delivery = fake.product_order(shipped)["delivery"]
    assert (lines[shipped].status, lines[shipped].courier_code, lines[shipped].tracking_number) == (
        LineStatus.SHIPPED, "CJGLS", delivery["trackingNumber"])
    assert unpaid not in {r.order_no for r in records}


def test_nothing_changed_is_an_empty_list(fake: FakeNaver, make_channel: Callable[..., NaverChannel]) -> None:
    assert make_channel(fake).collect(*window(fake)) == []
    assert fake.calls(QUERY) == []


def test_an_empty_answer_without_data_is_nothing_changed(make_channel: Callable[..., NaverChannel]) -> None:
    with FakeNaver(rate_limit=None, empty_last_changed_omits_data=True) as fake:
        assert make_channel(fake).collect(*window(fake)) == []


# --- writes ---------------------------------------------------------------------------------------------
def test_confirm_reports_each_product_order(fake: FakeNaver, make_channel: Callable[..., NaverChannel]) -> None:
    p0, p2 = fake.add_order(2).product_order_ids
    p1 = fake.add_order(1).product_order_ids[0]
    fake.change_address(p1, detailedAddress="202호")  # the buyer moved: re-read before printing
    fake.fail_confirm(p2, code="101011", message="직배송 상품은 물류사만 발주확인할 수 있습니다.")
    unknown = "2026112499999999"
    ch = make_channel(fake)
    result = ch.confirm([p0, p1, p2, unknown])
    assert list(result.items) == [p0, p1, p2, unknown]
    assert result.succeeded == [p0, p1]
    assert result[p0] == ItemResult(p0, True) and result[p1].address_changed
    assert (result[p2].code, result[p2].message, result[p2].retryable) == (
        "101011", "직배송 상품은 물류사만 발주확인할 수 있습니다.", False)
    assert result[unknown].code == "100001" and not result[unknown].ok
    assert {c["productOrderId"] for c in fake.confirmations} == {p0, p1}
    lines = by_pid(ch.collect(*window(fake)))
    assert [lines[p].status for p in (p0, p1, p2)] == [LineStatus.CONFIRMED, LineStatus.CONFIRMED, LineStatus.NEW]


def test_confirm_goes_in_batches_of_30(fake: FakeNaver, make_channel: Callable[..., NaverChannel]) -> None:
    ids = [pid for _ in range(13) for pid in fake.add_order(5).product_order_ids]
    result = make_channel(fake).confirm(ids)
    assert [len(c.json()["productOrderIds"]) for c in fake.calls(CONFIRM)] == [30, 30, 5]
    assert result.succeeded == ids


def test_confirm_stops_when_naver_is_down_and_says_which_to_retry(fake: FakeNaver,
                                                                  make_channel: Callable[..., NaverChannel]) -> None:
    ids = [pid for _ in range(7) for pid in fake.add_order(5).product_order_ids]
    fake.fail_next(CONFIRM, 503, count=4)
    result = make_channel(fake).confirm(ids)
    assert len(fake.calls(CONFIRM)) == 4  # the first batch's four attempts; the second batch is not tried
    assert result.succeeded == [] and all(r.retryable and r.code == "GW.BLOCK.01" for r in result.failed)


def items_for(fake: FakeNaver, pids: list[str], courier: str = "CJGLS") -> list[DispatchItem]:
    when = fake.now()
    return [DispatchItem(pid, courier, f"61234567{n:04d}", when) for n, pid in enumerate(pids)]


def test_dispatch_reads_per_item_results_from_the_reply(fake: FakeNaver,
                                                        make_channel: Callable[..., NaverChannel]) -> None:
    p0, p1, p2 = fake.add_order(3).product_order_ids
    cancel_requested = fake.add_order(1).product_order_ids[0]
    fake.request_cancel(cancel_requested)
    fake.fail_dispatch(p2, code="104121", message="이미 사용된 송장번호입니다.")
    unknown = "2026112499999999"
    items = items_for(fake, [p0, p1, p2, cancel_requested, unknown])
    result = make_channel(fake).dispatch(items)
    assert result.succeeded == [p0, p1] and not result[p0].already_done
    assert (result[p2].code, result[p2].message, result[p2].retryable) == (
        "104121", "이미 사용된 송장번호입니다.", False)
    assert result[cancel_requested].code == "104442" and result[unknown].code == "100001"
    assert [(d["productOrderId"], d["deliveryCompanyCode"], d["trackingNumber"]) for d in fake.dispatches] == [
        (p0, "CJGLS", items[0].tracking_number), (p1, "CJGLS", items[1].tracking_number)]
    sent = fake.calls(DISPATCH)[0].json()["dispatchProductOrders"][0]
    assert sent == {"productOrderId": p0, "deliveryMethod": "DELIVERY", "deliveryCompanyCode": "CJGLS",
                    "trackingNumber": items[0].tracking_number, "dispatchDate": format_datetime(items[0].dispatch_date)}
    assert fake.status(p0) == "DELIVERING" and fake.status(p2) == "PAYED"


def test_dispatch_again_sends_only_what_naver_does_not_have(fake: FakeNaver,
                                                            make_channel: Callable[..., NaverChannel]) -> None:
    p0, p1 = fake.add_order(2).product_order_ids
    fake.fail_dispatch(p1, code="9999", message="일시적 오류")
    ch = make_channel(fake)
    items = items_for(fake, [p0, p1])
    assert ch.dispatch(items).succeeded == [p0]
    again = ch.dispatch(items)
    assert again.succeeded == [p0, p1] and again[p0].already_done and not again[p1].already_done
    assert [d["productOrderId"] for d in fake.dispatches] == [p0, p1]  # each exactly once
    assert [len(c.json()["dispatchProductOrders"]) for c in fake.calls(DISPATCH)] == [2, 1]


def test_dispatch_refuses_locally_what_would_sink_the_batch(fake: FakeNaver,
                                                            make_channel: Callable[..., NaverChannel]) -> None:
    p0, p1, p2 = fake.add_order(3).product_order_ids
    when = fake.now()
    result = make_channel(fake).dispatch([(p0, "", "612345678901", when), (p1, "CJGLS", " ", when),
                                          (p2, "CJGLS", "612345678903", when)])
    assert (result[p0].code, result[p1].code) == (ITEM_MISSING_COURIER, ITEM_MISSING_TRACKING)
    assert result.succeeded == [p2]
    assert [i["productOrderId"] for i in fake.calls(DISPATCH)[0].json()["dispatchProductOrders"]] == [p2]


def test_dispatch_goes_in_batches_of_30(fake: FakeNaver, make_channel: Callable[..., NaverChannel]) -> None:
    ids = [pid for _ in range(13) for pid in fake.add_order(5).product_order_ids]
    result = make_channel(fake).dispatch(items_for(fake, ids))
    assert [len(c.json()["dispatchProductOrders"]) for c in fake.calls(DISPATCH)] == [30, 30, 5]
    assert [len(c.json()["productOrderIds"]) for c in fake.calls(QUERY)] == [65]  # one read-ahead
    assert result.succeeded == ids and len(fake.dispatches) == 65


def test_a_whole_batch_refused_fails_each_of_its_items(fake: FakeNaver,
                                                       make_channel: Callable[..., NaverChannel]) -> None:
    p0, p1 = fake.add_order(2).product_order_ids
    result = make_channel(fake).dispatch(items_for(fake, [p0, p1], courier="LOTTE"))  # Naver says HYUNDAI
    assert result.succeeded == [] and {r.code for r in result.failed} == {"000400"}
    assert not any(r.retryable for r in result.failed) and "HttpMessageNotReadableException" in result[p0].message
    assert fake.dispatches == []


def test_a_lost_dispatch_answer_is_settled_by_reading_back_not_by_resending(
        fake: FakeNaver, make_channel: Callable[..., NaverChannel]) -> None:
    p0, p1 = fake.add_order(2).product_order_ids
    fake.fail_next(DISPATCH, "timeout", delay=5, process=True)  # applied, but the answer never comes
    result = make_channel(fake, timeout=0.3).dispatch(items_for(fake, [p0, p1]))
    assert result.succeeded == [p0, p1] and all(result[p].already_done for p in (p0, p1))
    assert len(fake.calls(DISPATCH)) == 1 and [d["productOrderId"] for d in fake.dispatches] == [p0, p1]


def test_a_dispatch_that_failed_at_the_gateway_is_retryable_and_goes_later(
        fake: FakeNaver, make_channel: Callable[..., NaverChannel]) -> None:
    p0, p1 = fake.add_order(2).product_order_ids
    fake.fail_next(DISPATCH, 503)
    ch = make_channel(fake)
    first = ch.dispatch(items_for(fake, [p0, p1]))
    assert first.succeeded == [] and all(r.retryable and r.code == "GW.BLOCK.01" for r in first.failed)
    assert len(fake.calls(DISPATCH)) == 1  # a POST that may have been applied is not re-sent blind
    assert ch.dispatch(items_for(fake, [p0, p1])).succeeded == [p0, p1]
    assert [d["productOrderId"] for d in fake.dispatches] == [p0, p1]


def test_a_dispatch_refused_with_429_is_retried(fake: FakeNaver, make_channel: Callable[..., NaverChannel],
                                                clock: Clock) -> None:
    p0 = fake.add_order(1).product_order_ids[0]
    fake.fail_next(DISPATCH, 429)
    assert make_channel(fake).dispatch(items_for(fake, [p0])).succeeded == [p0]
    assert statuses(fake, DISPATCH) == [429, 200] and len(fake.dispatches) == 1


def test_dispatch_rejects_naive_dates_before_sending(fake: FakeNaver,
                                                     make_channel: Callable[..., NaverChannel]) -> None:
    p0 = fake.add_order(1).product_order_ids[0]
    with pytest.raises(ValueError):
        make_channel(fake).dispatch([(p0, "CJGLS", "612345678901", datetime(2026, 11, 24, 10))])
    assert fake.requests == []


# --- failures -------------------------------------------------------------------------------------------
def test_429_backs_off_then_succeeds(fake: FakeNaver, make_channel: Callable[..., NaverChannel],
                                     clock: Clock) -> None:
    fake.add_order(1)
    fake.fail_next(LAST_CHANGED, 429, count=2)
    assert len(make_channel(fake).collect(*window(fake))) == 1
    assert statuses(fake, LAST_CHANGED) == [429, 429, 200]
    assert 0.5 in clock.sleeps and 1.0 in clock.sleeps  # full-jitter caps at rng = 1.0


def test_a_429_from_the_gateways_bucket_waits_its_retry_after(make_channel: Callable[..., NaverChannel],
                                                               clock: Clock) -> None:
    """Two stations on one application: each limits itself, together they exceed the gateway's bucket."""
    with FakeNaver(rate_limit=0.5, rate_clock=clock, retry_after=3) as fake:  # burst 1, refills on our clock
        fake.add_order(1)
        station_a, station_b = make_channel(fake), make_channel(fake)
        assert len(station_a.collect(*window(fake))) == 1  # takes the last-changed token
        assert len(station_b.collect(*window(fake))) == 1
        assert statuses(fake, LAST_CHANGED) == [200, 429, 200]
    assert clock.sleeps == [3.0]


def test_persistent_429_is_rate_limited(fake: FakeNaver, make_channel: Callable[..., NaverChannel]) -> None:
    fake.fail_next(LAST_CHANGED, 429, count=4)
    with pytest.raises(ChannelRateLimited) as ei:
        make_channel(fake).collect(*window(fake))
    assert ei.value.params["api_code"] == "GW.RATE_LIMIT" and len(fake.calls(LAST_CHANGED)) == 4


def test_an_hourly_quota_is_reported_at_once(fake: FakeNaver, make_channel: Callable[..., NaverChannel]) -> None:
    fake.fail_next(LAST_CHANGED, "quota")
    with pytest.raises(ChannelRateLimited) as ei:
        make_channel(fake).collect(*window(fake))
    assert ei.value.params["api_code"] == "GW.QUOTA_LIMIT" and len(fake.calls(LAST_CHANGED)) == 1


def test_the_client_keeps_under_the_gateways_rate(make_channel: Callable[..., NaverChannel], clock: Clock) -> None:
    with FakeNaver(rate_limit=2.0, rate_clock=clock, page_size=1) as fake:  # the gateway's bucket on our clock
        for _ in range(12):
            fake.add_order(1)
        assert len(make_channel(fake).collect(*window(fake))) == 12
        assert 429 not in statuses(fake) and len(fake.calls(LAST_CHANGED)) == 12
    assert sum(clock.sleeps) >= 4.0  # 13 metered calls at 2/s after a burst of 4


def test_5xx_is_retried_then_succeeds(fake: FakeNaver, make_channel: Callable[..., NaverChannel]) -> None:
    fake.add_order(1)
    fake.fail_next(QUERY, 500, count=1)
    fake.fail_next(QUERY, 502, count=1)
    assert len(make_channel(fake).collect(*window(fake))) == 1
    assert statuses(fake, QUERY) == [500, 502, 200]


def test_persistent_5xx_is_a_transient_error(fake: FakeNaver, make_channel: Callable[..., NaverChannel]) -> None:
    fake.fail_next(LAST_CHANGED, 503, count=10)
    with pytest.raises(ChannelTransientError) as ei:
        make_channel(fake).collect(*window(fake))
    assert ei.value.params["api_code"] == "GW.BLOCK.01" and len(fake.calls(LAST_CHANGED)) == 4


def test_a_late_answer_is_a_timeout_retried(fake: FakeNaver, make_channel: Callable[..., NaverChannel]) -> None:
    fake.add_order(1)
    fake.fail_next(LAST_CHANGED, "timeout", delay=5)
    assert len(make_channel(fake, timeout=0.3).collect(*window(fake))) == 1
    assert len(fake.calls(LAST_CHANGED)) == 2


def test_timeouts_to_the_end_are_transient(fake: FakeNaver, make_channel: Callable[..., NaverChannel]) -> None:
    fake.fail_next(LAST_CHANGED, "timeout", count=2, delay=5)
    ch = make_channel(fake, timeout=0.3, retry=RetryPolicy(attempts=2))
    with pytest.raises(ChannelTransientError) as ei:
        ch.collect(*window(fake))
    assert ei.value.params == {"reason": "timeout"}


def test_a_dropped_connection_is_retried(fake: FakeNaver, make_channel: Callable[..., NaverChannel]) -> None:
    fake.add_order(1)
    fake.fail_next(QUERY, "disconnect")
    assert len(make_channel(fake).collect(*window(fake))) == 1


@pytest.mark.parametrize("path", [LAST_CHANGED, QUERY])
def test_malformed_json_fails_the_collection_and_returns_nothing(
        fake: FakeNaver, make_channel: Callable[..., NaverChannel], path: str) -> None:
    fake.add_order(2)
    fake.fail_next(path, "malformed")
    ch = make_channel(fake)
    with pytest.raises(ChannelBadReply) as ei:
        ch.collect(*window(fake))
    assert ei.value.params["reason"] == "not_json" and len(fake.calls(path)) == 1  # not retried
    assert len(by_pid(ch.collect(*window(fake)))) == 2  # the next run takes everything


def test_a_field_of_the_wrong_type_fails_the_collection(fake: FakeNaver,
                                                        make_channel: Callable[..., NaverChannel]) -> None:
    good = fake.add_order(1).product_order_ids[0]
    bad = fake.add_order(1).product_order_ids[0]
    fake.update(bad, event=None, quantity="two")
    with pytest.raises(ChannelBadReply) as ei:
        make_channel(fake).collect(*window(fake))
    assert ei.value.params["field"].endswith("productOrder.quantity") and good not in ei.value.detail


def test_no_secret_token_or_signature_reaches_the_log(fake: FakeNaver, make_channel: Callable[..., NaverChannel],
                                                      caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)  # every logger: ours, httpx, httpcore
    p0 = fake.add_order(1).product_order_ids[0]
    fake.fail_next(QUERY, 500)
    ch = make_channel(fake)
    ch.collect(*window(fake))
    ch.confirm([p0])
    ch.dispatch(items_for(fake, [p0]))
    fake.expire_tokens()
    ch.collect(*window(fake))
    secrets = [fake.client_secret, *(t["access_token"] for t in fake.tokens_issued),
               *(r.form()["client_secret_sign"] for r in fake.calls(TOKEN))]
    assert len(secrets) == 1 + 2 + 2
    assert "retry 1/3" in caplog.text  # the log did see the traffic
    for s in secrets:
        assert s not in caplog.text


def test_query_params_are_sent_in_the_apis_date_format(fake: FakeNaver,
                                                       make_channel: Callable[..., NaverChannel]) -> None:
    since = datetime(2026, 11, 24, 0, 0, tzinfo=UTC)
    make_channel(fake).collect(since, since + timedelta(hours=1))
    call = fake.calls(LAST_CHANGED)[0]
    assert call.query == {"lastChangedFrom": "2026-11-24T09:00:00.000+09:00",
                          "lastChangedTo": "2026-11-24T09:59:59.999+09:00"}


# --- §3.5 returns and exchanges --------------------------------------------------------------------------
def test_returns_and_exchanges_come_with_the_collection_and_alone(
        fake: FakeNaver, make_channel: Callable[..., NaverChannel]) -> None:
    order = fake.add_order(3, paid_at=fake.now() - timedelta(minutes=30))
    ret, exch, plain = order.product_order_ids
    for pid in (ret, exch):
        fake.update(pid, productOrderStatus="DELIVERED", event="DISPATCHED")
    fake.request_return(ret, reason="BROKEN", detail=" 깨져서 왔어요 ")
    fake.request_exchange(exch, collect_company="HANJIN", collect_tracking="4123-4567-8905")
    ch = make_channel(fake)
    since, until = window(fake)
    ch.collect(since, until)
    calls = len(fake.requests)
    got = {r.claim_type: r for r in ch.returns(since, until)}
    assert len(fake.requests) == calls                           # what the collection saw: no call
    r, e = got["return"], got["exchange"]
    detail = fake.product_order(ret)
    assert (r.claim_id, r.status, r.order_no) == (detail["productOrder"]["claimId"], "RETURN_REQUEST", order.order_id)
    assert r.lines == ((ret, detail["productOrder"]["quantity"]),)
    assert (r.reason_code, r.reason_text, r.courier_code, r.tracking_number) == ("BROKEN", "깨져서 왔어요", "", "")
    assert r.requested_at is not None and r.updated_at is not None
    assert (e.status, e.reason_code, e.courier_code, e.tracking_number) == (
        "EXCHANGE_REQUEST", "COLOR_AND_SIZE", "HANJIN", "412345678905")
    assert plain not in {ln.product_order_id for rec in got.values() for ln in rec.lines}
    # alone (another window, or a fresh channel): the change list, then the details of the claims only
    fake.start_collect(ret, tracking="512345678904")
    fake.complete_collect(ret)
    fresh = make_channel(fake)
    before = len(fake.calls("/query"))
    (moved,) = [x for x in fresh.returns(since, window(fake)[1]) if x.claim_type == "return"]
    assert (moved.status, moved.courier_code, moved.tracking_number) == ("COLLECT_DONE", "CJGLS", "512345678904")
    queried = [q.json()["productOrderIds"] for q in fake.calls("/query")[before:]]
    assert [sorted(q) for q in queried] == [sorted([ret, exch])]   # the plain line is not asked about
    assert fresh.returns(until + timedelta(hours=1), until + timedelta(hours=2)) == []


def test_a_claim_naver_describes_wrongly_fails_the_returns_not_the_orders(
        fake: FakeNaver, make_channel: Callable[..., NaverChannel]) -> None:
    (pid,) = fake.add_order(1).product_order_ids
    fake.update(pid, productOrderStatus="DELIVERED", claimType="RETURN", claimStatus="RETURN_REQUEST",
                event="CLAIM_REQUESTED")                        # a RETURN claim without its claim object
    ch = make_channel(fake)
    since, until = window(fake)
    assert [ln.status for ln in by_pid(ch.collect(since, until)).values()] == [LineStatus.SHIPPED]
    with pytest.raises(ChannelBadReply) as ei:
        ch.returns(since, until)
    assert "currentClaim.return" in ei.value.detail
