"""The Sabangnet RTL_API channel: pure parts (codes, dates, statuses, reply reading) directly, the rest over
real HTTP against ``tests/fakes/sabangnet.py`` (built from the spec, not from this client), which fetches
each request XML from a ``LocalXmlHost`` on 127.0.0.1. Backoff and limiter waits go to an injected clock;
only the read-timeout cases wait, a fraction of a second."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from packdesk.channels.base import (
    ChannelAuthError,
    ChannelError,
    ChannelRejected,
    ChannelTransientError,
    DispatchItem,
    LineRecord,
    OrderRecord,
)
from packdesk.channels.http import ChannelBadReply, RateLimiters
from packdesk.channels.sabangnet import (
    COLLECT_FIELDS,
    KST,
    LOOKUP_FIELDS,
    SabangnetChannel,
    build_request,
    decode_reply,
    kst_dates,
    line_status,
    normalize_invoice,
    orders_from_rows,
    parse_kst,
    product_code,
    read_reply,
)
from packdesk.channels.xml_relay import LocalXmlHost, XmlRelayError
from packdesk.core.enums import ChannelKind, LineStatus, OutboxState
from packdesk.services.dispatch import _classify, _Entry, status_reader
from tests.fakes.sabangnet import FakeSabangnet

ORDERS, INVOICE, MALLS = "xml_order_info", "xml_order_invoice", "xml_mall_info"
TOKEN_URL = re.compile(r"^http://127\.0\.0\.1:\d+/sabangnet/[A-Za-z0-9_-]{43}\.xml$")
NOW = datetime(2026, 11, 22, 3, 0, tzinfo=UTC)   # only a dispatch_date: Sabangnet has no such field


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
def fake() -> Iterator[FakeSabangnet]:
    with FakeSabangnet() as f:
        yield f


@pytest.fixture
def host() -> Iterator[LocalXmlHost]:
    with LocalXmlHost("127.0.0.1", 0, "") as h:
        yield h


@pytest.fixture
def clock() -> Clock:
    return Clock()


MakeChannel = Callable[..., SabangnetChannel]


@pytest.fixture
def make(fake: FakeSabangnet, host: LocalXmlHost, clock: Clock) -> Iterator[MakeChannel]:
    made: list[SabangnetChannel] = []

    def build(*, key: str | None = None, company: str | None = None, **kw: Any) -> SabangnetChannel:
        opts: dict[str, Any] = {"api_url": fake.base_url, "publisher": host, "sleep": clock.sleep, "clock": clock,
                                "rng": lambda: 1.0, "limiters": RateLimiters(), "timeout": 5.0}
        opts.update(kw)
        ch = SabangnetChannel(fake.company_id if company is None else company,
                              fake.auth_key if key is None else key, **opts)
        made.append(ch)
        return ch

    yield build
    for ch in made:
        ch.close()


@pytest.fixture
def ch(make: MakeChannel) -> SabangnetChannel:
    return make()


def window(days: float = 1) -> tuple[datetime, datetime]:
    now = datetime.now(UTC)
    return now - timedelta(days=days), now + timedelta(seconds=1)


def lines_by_idx(records: list[OrderRecord]) -> dict[str, LineRecord]:
    return {ln.product_order_id: ln for r in records for ln in r.lines}


def request_data(fake: FakeSabangnet, endpoint: str) -> list[dict[str, str]]:
    return fake.calls(endpoint)[-1].data()


def item(idx: str, courier: str = "CJGLS", tracking: str = "655012345678") -> DispatchItem:
    return DispatchItem(idx, courier, tracking, NOW)


# --- pure helpers -----------------------------------------------------------------------------------------
@pytest.mark.parametrize(("product_id", "sku_id", "expected"), [
    ("123456", "123456-0001", "123456-0001"),   # SKU_ID already 품번-단품
    ("123456", "0001", "123456-0001"),          # a bare 단품코드
    ("123456", "", "123456"),                   # no option
    (" 123456 ", " 0001 ", "123456-0001"),
    ("", "0001", ""),                           # nothing to build it from: refused by the mapping
])
def test_product_code(product_id: str, sku_id: str, expected: str) -> None:
    assert product_code(product_id, sku_id) == expected


@pytest.mark.parametrize(("value", "label", "status"), [
    ("신규주문", "신규주문", LineStatus.NEW), ("001", "신규주문", LineStatus.NEW),
    ("주문확인", "주문확인", LineStatus.CONFIRMED), ("'002", "주문확인", LineStatus.CONFIRMED),
    ("출고대기", "출고대기", LineStatus.CONFIRMED), ("003", "출고대기", LineStatus.CONFIRMED),
    ("출고완료", "출고완료", LineStatus.SHIPPED),
    ("배송보류", "배송보류", LineStatus.CANCEL_REQUESTED), ("007", "취소접수", LineStatus.CANCEL_REQUESTED),
    ("취소완료", "취소완료", LineStatus.CANCELLED), ("999", "폐기", LineStatus.CANCELLED),
    *[(code, label, LineStatus.SHIPPED) for code, label in (
        ("008", "교환접수"), ("009", "반품접수"), ("011", "교환완료"), ("012", "반품완료"), ("021", "교환발송준비"),
        ("022", "교환발송완료"), ("023", "교환회수준비"), ("024", "교환회수완료"), ("025", "반품회수준비"),
        ("026", "반품회수완료"))],
])
def test_status_table(value: str, label: str, status: LineStatus) -> None:
    assert line_status(value) == (label, status)
    assert line_status(label) == (label, status)


@pytest.mark.parametrize("value", ["", "005", "배송중", "PAYED"])
def test_unknown_status_is_a_bad_reply(value: str) -> None:
    with pytest.raises(ChannelBadReply) as ei:
        line_status(value)
    assert ei.value.params["reason"] == "unknown_status"


def test_kst_dates_cover_the_half_open_window() -> None:
    since = datetime(2026, 11, 20, 15, 30, tzinfo=UTC)      # 2026-11-21 00:30 KST
    until = datetime(2026, 11, 22, 15, 0, tzinfo=UTC)       # 2026-11-23 00:00 KST, excluded
    assert kst_dates(since, until) == ("20261121", "20261122")
    assert kst_dates(since, since + timedelta(minutes=1)) == ("20261121", "20261121")
    with pytest.raises(ValueError):
        kst_dates(datetime(2026, 11, 20), until)


def test_order_dates_are_kst_and_come_out_utc() -> None:
    assert parse_kst("20261122") == datetime(2026, 11, 21, 15, 0, tzinfo=UTC)
    assert parse_kst("20261122093015") == datetime(2026, 11, 22, 0, 30, 15, tzinfo=UTC)
    assert parse_kst("2026-11-22 09:30:15") == datetime(2026, 11, 22, 0, 30, 15, tzinfo=UTC)
    assert parse_kst("") is None
    for bad in ("2026112", "20261322", "yesterday"):
        with pytest.raises(ValueError):
            parse_kst(bad)


def test_invoice_numbers_lose_hyphens_and_spaces() -> None:
    assert normalize_invoice(" 6550-1234 5678 ") == "655012345678"


def test_request_xml_is_euc_kr_with_cdata() -> None:
    xml = build_request("SABANG_ORDER_LIST", [("SEND_COMPAYNY_ID", "상점]]>x")], [[("ORD_FIELD", "IDX|ORDER_ID")]])
    assert xml.startswith(b'<?xml version="1.0" encoding="EUC-KR"?>\n<SABANG_ORDER_LIST>')
    assert read_reply(xml.replace(b"</HEADER>", b"<TOTAL_COUNT>1</TOTAL_COUNT></HEADER>"),
                      "SABANG_ORDER_LIST").rows == [{"ORD_FIELD": "IDX|ORDER_ID"}]
    assert "<![CDATA[상점]]]]><![CDATA[>x]]>" in xml.decode("euc-kr")
    with pytest.raises(ChannelError) as ei:
        build_request("R", [("SEND_AUTH_KEY", "secret-key"), ("X", "😀")])
    assert ei.value.params == {"reason": "not_euc_kr"} and "secret-key" not in str(ei.value)


# --- pure: reading replies --------------------------------------------------------------------------------
def reply_xml(rows: list[dict[str, str]], *, encoding: str = "EUC-KR", codec: str = "cp949",
              total: int | None = None, root: str = "SABANG_ORDER_LIST", header_extra: str = "") -> bytes:
    parts = [f'<?xml version="1.0" encoding="{encoding}"?>', f"<{root}><HEADER><SEND_COMPAYNY_ID>x</SEND_COMPAYNY_ID>",
             f"<TOTAL_COUNT>{len(rows) if total is None else total}</TOTAL_COUNT>{header_extra}</HEADER>"]
    for row in rows:
        parts.append("<DATA>" + "".join(f"<{k}><![CDATA[{v}]]></{k}>" for k, v in row.items()) + "</DATA>")
    parts.append(f"</{root}>")
    return "\n".join(parts).encode(codec)


def test_cp949_only_syllables_under_an_euc_kr_declaration_are_read() -> None:
    raw = reply_xml([{"RECEIVE_NAME": "김똠뷁", "RECEIVE_ADDR": "서울 중구"}])
    with pytest.raises(UnicodeDecodeError):
        raw.decode("euc-kr")                                      # what strict EUC-KR would do
    assert read_reply(raw, "SABANG_ORDER_LIST").rows == [{"RECEIVE_NAME": "김똠뷁", "RECEIVE_ADDR": "서울 중구"}]
    utf8_lying = reply_xml([{"RECEIVE_NAME": "김똠뷁"}], codec="utf-8")   # declares EUC-KR, is UTF-8
    assert read_reply(utf8_lying, "SABANG_ORDER_LIST").rows == [{"RECEIVE_NAME": "김똠뷁"}]
    assert decode_reply("\ufeff<a>한</a>".encode()) == "<a>한</a>"
    assert decode_reply("인증키 오류".encode("euc-kr"), "EUC-KR") == "인증키 오류"


@pytest.mark.parametrize(("body", "error", "reason"), [
    ("인증키가 올바르지 않습니다. 마이페이지 > 서비스 관리 > 연동키 관리에서 확인하세요.", ChannelAuthError, "refused"),
    ("등록되지 않은 사방넷 아이디입니다. (SEND_COMPAYNY_ID)", ChannelAuthError, "refused"),
    ("허용되지 않은 IP 입니다.", ChannelAuthError, "refused"),
    ("XML 파일을 읽을 수 없습니다. 웹에서 접근 가능한 URL 또는 IP 주소가 존재해야 합니다. (http://x)", ChannelRejected,
     "xml_unreachable"),
    ("사방넷 서버 점검 중입니다. 잠시 후 다시 이용해 주세요.", ChannelTransientError, "maintenance"),
    ("XML 형식이 올바르지 않습니다. (parse error)", ChannelRejected, "refused"),
    ("<script>alert('인증키 오류');</script>", ChannelAuthError, "refused"),
    ("<html><body><p>필수 항목이 없습니다.</p></body></html>", ChannelRejected, "refused"),
    ("<!DOCTYPE html><html><body>등록되지 않은 아이디입니다</body></html>", ChannelAuthError, "refused"),
])
def test_error_texts_carry_sabangnets_words(body: str, error: type[ChannelError], reason: str) -> None:
    with pytest.raises(error) as ei:
        read_reply(body.encode("cp949"), "SABANG_ORDER_LIST", http_charset="EUC-KR")
    assert type(ei.value) is error and ei.value.params["reason"] == reason
    assert ei.value.params["message"] and ei.value.params["message"] in re.sub(r"<[^>]*>", " ", body)


@pytest.mark.parametrize("tag", ["ERR_MSG", "MSG", "RESULT_MSG"])
def test_error_tag_in_header(tag: str) -> None:
    raw = reply_xml([], header_extra=f"<{tag}><![CDATA[인증키가 올바르지 않습니다.]]></{tag}>")
    with pytest.raises(ChannelAuthError) as ei:
        read_reply(raw, "SABANG_ORDER_LIST")
    assert ei.value.params["message"] == "인증키가 올바르지 않습니다."
    with pytest.raises(ChannelRejected):
        read_reply(reply_xml([], header_extra=f"<{tag}>처리할 수 없습니다</{tag}>"), "SABANG_ORDER_LIST")


@pytest.mark.parametrize(("body", "reason"), [
    (reply_xml([{"IDX": "1"}, {"IDX": "2"}])[:-40], "malformed"),              # cut short
    (reply_xml([{"IDX": "1"}], total=3), "count_mismatch"),                    # well-formed, rows missing
    (reply_xml([], total=None).replace(b"<TOTAL_COUNT>0", b"<TOTAL_COUNT>x"), "bad_field"),
    (reply_xml([], root="SABANG_INV_REGI"), "unexpected_root"),
    (b'<?xml version="1.0"?><SABANG_ORDER_LIST><DATA><IDX>1</IDX></DATA></SABANG_ORDER_LIST>', "no_header"),
    (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><SABANG_ORDER_LIST/>', "doctype"),
    (b"  \r\n", "empty"),
])
def test_malformed_replies_are_bad_replies(body: bytes, reason: str) -> None:
    with pytest.raises(ChannelBadReply) as ei:
        read_reply(body, "SABANG_ORDER_LIST")
    assert ei.value.params["reason"] == reason


def row(**fields: str) -> dict[str, str]:
    base = {"IDX": "1", "ORDER_ID": "A1", "MALL_ID": "", "ORDER_STATUS": "주문확인", "PRODUCT_ID": "100",
            "SKU_ID": "", "PRODUCT_NAME": "수집명", "SALE_CNT": "1"}
    return {**base, **fields}


def test_rows_are_deduplicated_by_idx_and_grouped_by_order_no() -> None:
    rows = [row(IDX="7", RECEIVE_CEL="", RECEIVE_TEL="02-111"), row(IDX="7", PRODUCT_NAME="later copy"),
            row(IDX="10", P_PRODUCT_NAME="확정명", SKU_VALUE="수집옵션", P_SKU_VALUE=""),
            row(IDX="8", ORDER_ID="A1", MALL_ID="coupang")]
    records = orders_from_rows(rows)
    assert [r.order_no for r in records] == ["A1", "A1@coupang"]
    first = records[0]
    assert [ln.product_order_id for ln in first.lines] == ["7", "10"]       # numeric order, 7 once
    assert first.lines[0].product_name == "수집명" and first.recipient_phone == "02-111"
    assert (first.lines[1].product_name, first.lines[1].option_name) == ("확정명", "수집옵션")
    assert first.ordered_at is None and first.paid_at is None


@pytest.mark.parametrize("bad", [{"SALE_CNT": "0"}, {"SALE_CNT": "2.5"}, {"SALE_CNT": ""}, {"ORDER_STATUS": "배송중"},
                                 {"IDX": ""}, {"ORDER_ID": ""}, {"PRODUCT_ID": "", "SKU_ID": ""},
                                 {"ORDER_DATE": "22/11/2026"}])
def test_one_bad_row_spoils_the_whole_reply(bad: dict[str, str]) -> None:
    with pytest.raises(ChannelBadReply):
        orders_from_rows([row(IDX="1"), row(**{"IDX": "2", **bad})])


# --- connection test, auth, relay -------------------------------------------------------------------------
def test_connection_test_sends_an_euc_kr_request_through_a_token_url(fake: FakeSabangnet, ch: SabangnetChannel,
                                                                     host: LocalXmlHost) -> None:
    assert ch.test_connection() is None
    rec = fake.calls(MALLS)[-1]
    assert rec.error is None and rec.fetch_status == 200
    assert rec.xml_bytes is not None and rec.xml_bytes.startswith(b'<?xml version="1.0" encoding="EUC-KR"?>')
    assert b"<SEND_COMPAYNY_ID><![CDATA[packdesk]]></SEND_COMPAYNY_ID>" in rec.xml_bytes
    assert rec.header("SEND_DATE") == datetime.now(KST).strftime("%Y%m%d")
    assert rec.xml_url is not None and TOKEN_URL.match(rec.xml_url)
    assert "xml_url=http%3A%2F%2F127.0.0.1%3A" in rec.raw_query                 # URL-encoded (A.1)
    assert httpx.get(rec.xml_url).status_code == 404                            # gone after the call
    assert host.fetched(rec.xml_url) is None


@pytest.mark.parametrize("what", ["key", "company"])
def test_wrong_credentials_are_auth_errors_that_do_not_echo_the_key(fake: FakeSabangnet, make: MakeChannel,
                                                                    what: str) -> None:
    key = "WrOnGkEy-9876543210"
    ch = make(key=key) if what == "key" else make(key=key, company="someone")
    fake.auth_key = key if what == "company" else fake.auth_key
    for call in (ch.test_connection, lambda: ch.collect(*window())):
        with pytest.raises(ChannelAuthError) as ei:
            call()
        text = f"{ei.value} {ei.value.detail} {ei.value.params}"
        assert key not in text and ("인증키" in text if what == "key" else "아이디" in text)


def test_error_style_xml_is_read_too(host: LocalXmlHost) -> None:
    with FakeSabangnet(error_style="xml", error_tag="RESULT_MSG") as fake:
        ch = SabangnetChannel(fake.company_id, "bad", api_url=fake.base_url + "/RTL_API/", publisher=host,
                              limiters=RateLimiters(), sleep=lambda s: None)
        with ch, pytest.raises(ChannelAuthError) as ei:
            ch.test_connection()
    assert ei.value.params["message"].startswith("인증키가 올바르지 않습니다")


def test_unreachable_xml_and_a_failing_relay(fake: FakeSabangnet, ch: SabangnetChannel, make: MakeChannel) -> None:
    fake.fail_next("unreachable")
    with pytest.raises(ChannelRejected) as ei:
        ch.test_connection()
    assert ei.value.params["reason"] == "xml_unreachable" and "접근 가능한 URL" in ei.value.params["message"]

    class Broken:
        def publish(self, xml: bytes) -> Any:
            raise OSError("disk full")

    with pytest.raises(XmlRelayError) as relay_error:
        make(publisher=Broken()).test_connection()
    assert relay_error.value.params["reason"] == "xml_relay"
    assert fake.calls(MALLS)[-1].injected == "unreachable"          # the broken relay never called Sabangnet


def test_requests_share_a_gentle_bucket_per_company(make: MakeChannel, clock: Clock) -> None:
    limiters = RateLimiters()
    a, b, other = make(limiters=limiters), make(limiters=limiters), make(limiters=limiters, company="other")
    assert a._http.bucket is b._http.bucket and a._http.bucket is not other._http.bucket
    assert (a._http.bucket.rate, a._http.bucket.burst) == (1.0, 2.0)
    for _ in range(3):
        a.test_connection()
    assert clock.sleeps == [pytest.approx(1.0)]                     # burst 2, then one per second


# --- collection -------------------------------------------------------------------------------------------
def test_collection_maps_every_field(fake: FakeSabangnet, ch: SabangnetChannel) -> None:
    a = fake.add_order([
        {"PRODUCT_ID": "123456", "SKU_ID": "123456-0001", "PRODUCT_NAME": "머그컵(수집)",
         "P_PRODUCT_NAME": "머그컵 350ml", "SKU_VALUE": "white", "P_SKU_VALUE": "색상=화이트", "SALE_CNT": 3},
        {"PRODUCT_ID": "200100", "SKU_ID": "0002", "PRODUCT_NAME": "텀블러", "P_PRODUCT_NAME": "", "SKU_VALUE": "블랙",
         "P_SKU_VALUE": ""},
        {"PRODUCT_ID": "300300", "SKU_ID": "", "SKU_VALUE": "", "ORDER_STATUS": "004", "DELIVERY_ID": "007",
         "INVOICE_NO": "4012345678"},
    ], order_id="2026112200001", mall_id="shop0055", ORDER_DATE="20261120093015", RECEIVE_NAME="김철수",
        RECEIVE_CEL="010-9999-8888", RECEIVE_ZIPCODE="06236", RECEIVE_ADDR="서울 강남구 테헤란로 1",
        DELV_MSG="경비실에 맡겨주세요", USER_NAME="이영희")
    b = fake.add_order(1, order_id="B-77", RECEIVE_CEL="", RECEIVE_TEL="031-111-2222", ORDER_DATE="20261121")
    fake.update(b[0].idx, MALL_ID="")                               # a line without a mall name
    records = ch.collect(*window())
    by_no = {r.order_no: r for r in records}
    assert set(by_no) == {"2026112200001@스마트스토어", "B-77"}
    order = by_no["2026112200001@스마트스토어"]
    assert (order.buyer_name, order.recipient_name, order.recipient_phone, order.zip_code, order.address,
            order.delivery_message) == ("이영희", "김철수", "010-9999-8888", "06236", "서울 강남구 테헤란로 1",
                                        "경비실에 맡겨주세요")
    assert order.ordered_at == datetime(2026, 11, 20, 0, 30, 15, tzinfo=UTC) and order.paid_at is None
    l1, l2, l3 = order.lines
    assert [ln.product_order_id for ln in order.lines] == [ln.idx for ln in a]
    assert (l1.product_code, l1.option_code, l1.product_name, l1.option_name, l1.quantity) == (
        "123456-0001", "", "머그컵 350ml", "색상=화이트", 3)
    assert (l1.status, l1.channel_status, l1.courier_code, l1.tracking_number) == (
        LineStatus.CONFIRMED, "주문확인", "", "")                       # 001 confirmed by this very call
    assert (l2.product_code, l2.product_name, l2.option_name) == ("200100-0002", "텀블러", "블랙")
    assert (l3.product_code, l3.option_name, l3.status, l3.channel_status) == (
        "300300", "", LineStatus.SHIPPED, "출고완료")
    assert (l3.courier_code, l3.tracking_number) == ("KGB", "4012345678")  # 로젠 007
    other = by_no["B-77"]
    assert other.recipient_phone == "031-111-2222"
    assert other.ordered_at == datetime(2026, 11, 20, 15, 0, tzinfo=UTC)

    data = request_data(fake, ORDERS)[0]
    assert data["ORD_FIELD"] == "|".join(COLLECT_FIELDS) and data["LANG"] == "UTF-8"
    assert "ORDER_STATUS" not in data                                # cancellations come too
    today = datetime.now(KST).strftime("%Y%m%d")
    assert data["ORD_ED_DATE"] == today and data["ORD_ST_DATE"] < today


def test_cancellations_and_other_states(fake: FakeSabangnet, ch: SabangnetChannel) -> None:
    lines = fake.add_order(6, status="002")
    for ln, code in zip(lines, ("006", "007", "010", "999", "008", "003"), strict=True):
        fake.set_status(ln.idx, code)
    got = lines_by_idx(ch.collect(*window()))
    assert [(got[ln.idx].status, got[ln.idx].channel_status) for ln in lines] == [
        (LineStatus.CANCEL_REQUESTED, "배송보류"), (LineStatus.CANCEL_REQUESTED, "취소접수"),
        (LineStatus.CANCELLED, "취소완료"), (LineStatus.CANCELLED, "폐기"), (LineStatus.SHIPPED, "교환접수"),
        (LineStatus.CONFIRMED, "출고대기")]


def test_korean_through_euc_kr_with_cp949_only_syllables(fake: FakeSabangnet, ch: SabangnetChannel) -> None:
    fake.add_order(RECEIVE_NAME="김똠뷁", USER_NAME="쀍똠", RECEIVE_ADDR="서울특별시 똠방각하로 1",
                   PRODUCT_NAME="뷁 머그")
    for utf8 in (False, True):
        ch.utf8_replies = utf8
        (order,) = ch.collect(*window())
        assert (order.recipient_name, order.buyer_name, order.address) == ("김똠뷁", "쀍똠", "서울특별시 똠방각하로 1")
        assert order.lines[0].product_name == "뷁 머그"
        assert ("LANG" in request_data(fake, ORDERS)[0]) is utf8


def test_collection_confirms_new_orders_and_is_idempotent(fake: FakeSabangnet, ch: SabangnetChannel) -> None:
    lines = fake.add_order(2)
    first = ch.collect(*window())
    assert [c["by"] for c in fake.status_changes] == ["collect", "collect"]   # the 001 -> 002 side effect
    assert all(fake.status(ln.idx) == "002" for ln in lines)
    assert ch.collect(*window()) == first                                     # returned again, same records
    assert len(fake.status_changes) == 2
    confirmed = ch.confirm([ln.idx for ln in lines] * 2)                      # nothing to call: done
    assert list(confirmed.items) == [ln.idx for ln in lines]
    assert all(r.ok and r.already_done for r in confirmed.items.values()) and len(fake.requests) == 2


def test_collection_filters_on_the_collected_date(fake: FakeSabangnet, ch: SabangnetChannel) -> None:
    old = fake.add_order(reg_date=datetime.now(KST) - timedelta(days=5))[0]
    new = fake.add_order()[0]
    assert set(lines_by_idx(ch.collect(*window(days=1)))) == {new.idx}
    assert fake.status(old.idx) == "001"                                      # outside: untouched
    assert set(lines_by_idx(ch.collect(*window(days=6)))) == {old.idx, new.idx}
    t = datetime.now(UTC)
    assert ch.collect(t, t) == [] and ch.collect(t, t - timedelta(days=1)) == []
    with pytest.raises(ValueError):
        ch.collect(datetime(2026, 11, 1), datetime(2026, 11, 2))


def test_malformed_reply_imports_nothing(fake: FakeSabangnet, ch: SabangnetChannel) -> None:
    fake.add_order(2)
    fake.fail_next("malformed", endpoint=ORDERS, process=True)
    with pytest.raises(ChannelBadReply) as ei:
        ch.collect(*window())
    assert ei.value.params["reason"] == "malformed"
    assert len(fake.calls(ORDERS)) == 1                                       # a 200 is not retried


def test_truncated_reply_is_retried_then_reported(fake: FakeSabangnet, ch: SabangnetChannel) -> None:
    fake.add_order()
    fake.fail_next("truncated", endpoint=ORDERS)
    assert len(ch.collect(*window())) == 1                                    # one cut answer: retried
    fake.fail_next("truncated", count=4, endpoint=ORDERS, process=True)
    with pytest.raises(ChannelTransientError) as ei:
        ch.collect(*window())
    assert ei.value.params["reason"] == "network" and len(fake.calls(ORDERS)) == 2 + 4


@pytest.mark.parametrize(("message", "error"), [
    (None, ChannelTransientError), ("허용되지 않은 IP 입니다.", ChannelAuthError), ("일시적인 오류", ChannelRejected)])
def test_non_xml_error_text_imports_nothing(fake: FakeSabangnet, ch: SabangnetChannel, message: str | None,
                                            error: type[ChannelError]) -> None:
    fake.add_order()
    fake.fail_next("text_error", endpoint=ORDERS, message=message)
    with pytest.raises(error) as ei:
        ch.collect(*window())
    assert ei.value.params["message"] == (message or "사방넷 서버 점검 중입니다. 잠시 후 다시 이용해 주세요.")


# --- dispatch ---------------------------------------------------------------------------------------------
def test_dispatch_happy_path(fake: FakeSabangnet, ch: SabangnetChannel) -> None:
    a, b = fake.add_order(2, status="002")
    result = ch.dispatch([item(a.idx, "CJGLS", "6550-1234 5678"), item(b.idx, "KGB", "40123456789")], checked=True)
    assert all(r.ok and not r.already_done for r in result.items.values())
    assert list(result.items) == [a.idx, b.idx]
    assert [(i["idx"], i["tak_code"], i["tak_invoice"], i["status_after"]) for i in fake.invoices] == [
        (a.idx, "001", "655012345678", "003"), (b.idx, "007", "40123456789", "003")]
    rec = fake.calls(INVOICE)[-1]
    assert (rec.header("RESULT_TYPE"), rec.header("SEND_INV_EDIT_YN")) == ("XML", "N")
    assert rec.data() == [{"SABANGNET_IDX": a.idx, "TAK_CODE": "001", "TAK_INVOICE": "655012345678"},
                          {"SABANGNET_IDX": b.idx, "TAK_CODE": "007", "TAK_INVOICE": "40123456789"}]
    assert fake.calls(ORDERS) == []                                             # checked: no read-ahead


def test_dispatch_reads_ahead_and_skips_what_is_already_there(fake: FakeSabangnet, ch: SabangnetChannel) -> None:
    a, b = fake.add_order(2, status="002")
    fake.update(a.idx, DELIVERY_ID="001", INVOICE_NO="655012345678")
    fake.set_status(a.idx, "003")
    result = ch.dispatch([item(a.idx, tracking="6550-1234-5678"), item(b.idx)])
    assert result[a.idx].ok and result[a.idx].already_done
    assert result[b.idx].ok and not result[b.idx].already_done
    assert [i["idx"] for i in fake.invoices] == [b.idx]
    assert len(fake.calls(ORDERS)) == 1 and fake.calls(INVOICE)[-1].data()[0]["SABANGNET_IDX"] == b.idx


def test_per_item_failures(fake: FakeSabangnet, make: MakeChannel) -> None:
    ch = make(courier_overrides={"HOMEPICK": "999"})
    ok, refused, cancelled, exact, too_long, unknown, no_tracking, other = fake.add_order(8, status="002")
    fake.set_status(cancelled.idx, "007")
    fake.fail_invoice(refused.idx, message="송장등록에 실패했습니다.")
    result = ch.dispatch([
        item(ok.idx, "HOMEPICK"), item(refused.idx), item(cancelled.idx),
        item(exact.idx, tracking="1234-5678-9012-345"), item(too_long.idx, tracking="1234-5678-9012-3456"),
        item(unknown.idx, "CUPARCEL"), item(no_tracking.idx, tracking=" - "), item(other.idx, "", "1")],
        checked=True)
    assert result[ok.idx].ok and result[exact.idx].ok
    assert (result[refused.idx].code, result[refused.idx].message, result[refused.idx].retryable) == (
        "channel_rejected", "송장등록에 실패했습니다.", False)
    assert result[cancelled.idx].message.startswith("취소된 주문입니다") and not result[cancelled.idx].retryable
    assert (result[too_long.idx].code, result[too_long.idx].message) == ("invoice_too_long", "1234567890123456")
    assert (result[unknown.idx].code, result[unknown.idx].message) == ("courier_unknown", "CUPARCEL")
    assert result[no_tracking.idx].code == "dispatch_missing_tracking"
    assert result[other.idx].code == "dispatch_missing_courier"
    assert not any(result[i.idx].retryable for i in (too_long, unknown, no_tracking, other))
    assert [(i["idx"], i["tak_code"], i["tak_invoice"]) for i in fake.invoices] == [
        (ok.idx, "999", "655012345678"), (exact.idx, "001", "123456789012345")]
    assert [d["SABANGNET_IDX"] for d in fake.calls(INVOICE)[-1].data()] == [
        ok.idx, refused.idx, cancelled.idx, exact.idx]
    assert ch.lookup([ok.idx])[ok.idx].courier_code == "HOMEPICK"           # the override maps back
    with pytest.raises(ValueError):
        ch.dispatch([item(ok.idx), item(ok.idx)])


def test_uploads_are_split_at_100_rows(fake: FakeSabangnet, ch: SabangnetChannel) -> None:
    lines = fake.add_order(101, status="002")
    result = ch.dispatch([item(ln.idx, tracking=f"6550{i:08d}") for i, ln in enumerate(lines)], checked=True)
    assert len(result.succeeded) == 101
    assert [len(r.data()) for r in fake.calls(INVOICE)] == [100, 1]


@pytest.mark.parametrize("failure", ["timeout", 502])
def test_lost_answer_after_apply_settles_ok_and_is_never_sent_twice(fake: FakeSabangnet, make: MakeChannel,
                                                                    failure: str | int) -> None:
    ch = make(timeout=0.3)
    a, b = fake.add_order(2, status="002")
    fake.fail_next(failure, endpoint=INVOICE, delay=1.0, process=True)
    result = ch.dispatch([item(a.idx), item(b.idx, "KGB", "4011")], checked=True)
    assert all(r.ok and r.already_done for r in result.items.values())
    assert len(fake.calls(INVOICE)) == 1 and len(fake.calls(ORDERS)) == 1   # not resent: read back
    again = ch.dispatch([item(a.idx), item(b.idx, "KGB", "4011")])
    assert all(r.ok and r.already_done for r in again.items.values())
    assert [i["idx"] for i in fake.invoices] == [a.idx, b.idx] and len(fake.calls(INVOICE)) == 1


def test_5xx_storm_leaves_items_retryable(fake: FakeSabangnet, ch: SabangnetChannel, clock: Clock) -> None:
    a, b = fake.add_order(2, status="002")
    items = [item(a.idx), item(b.idx)]
    fake.fail_next(503, count=50)
    result = ch.dispatch(items, checked=True)
    assert all(not r.ok and r.retryable and r.code == "channel_transient" for r in result.items.values())
    assert fake.invoices == [] and len(fake.calls(INVOICE)) == 1            # a write is not repeated blind
    assert fake.calls(ORDERS) == []           # the XML was never fetched: nothing to read back
    with pytest.raises(ChannelTransientError):
        ch.dispatch(items)                                                  # the read-ahead fails: nothing sent
    fake.clear_failures()
    # applied, then the answer and every read-back lost: still retryable, and the next pass settles it
    fake.fail_next(503, endpoint=INVOICE, process=True)
    fake.fail_next(500, count=4, endpoint=ORDERS)
    result = ch.dispatch(items, checked=True)
    assert all(not r.ok and r.retryable for r in result.items.values())
    assert len(fake.invoices) == 2
    settled = ch.dispatch(items)
    assert all(r.ok and r.already_done for r in settled.items.values()) and len(fake.invoices) == 2


def test_relay_or_maintenance_failure_sends_nothing_and_is_retryable(fake: FakeSabangnet, make: MakeChannel) -> None:
    (a,) = fake.add_order(status="002")

    class Broken:
        def publish(self, xml: bytes) -> Any:
            raise XmlRelayError(reason="xml_relay_refused", message="HTTP 403")

    result = make(publisher=Broken()).dispatch([item(a.idx)], checked=True)
    assert result[a.idx].retryable and result[a.idx].message == "HTTP 403"
    for kind in ("text_error", "unreachable"):
        fake.fail_next(kind, endpoint=INVOICE)
        result = make().dispatch([item(a.idx)], checked=True)
        assert result[a.idx].retryable and not result[a.idx].ok and result[a.idx].message
    assert fake.invoices == [] and fake.calls(ORDERS) == []


# --- lookup -------------------------------------------------------------------------------------------------
def test_lookup_shows_our_invoice(fake: FakeSabangnet, ch: SabangnetChannel) -> None:
    a, b = fake.add_order(2, status="002")
    ch.dispatch([item(a.idx, tracking="6550-1234-5678")], checked=True)
    got = ch.lookup([a.idx, b.idx, "99999999"])
    assert set(got) == {a.idx, b.idx}
    assert (got[a.idx].courier_code, got[a.idx].tracking_number, got[a.idx].status, got[a.idx].channel_status) == (
        "CJGLS", "655012345678", LineStatus.CONFIRMED, "출고대기")
    assert (got[b.idx].tracking_number, got[b.idx].courier_code) == ("", "")
    data = request_data(fake, ORDERS)[0]
    assert data["ORD_FIELD"] == "|".join(LOOKUP_FIELDS)
    assert data["ORD_ST_DATE"] == (datetime.now(KST) - timedelta(days=30)).strftime("%Y%m%d")
    assert ch.lookup([]) == {} and len(fake.calls(ORDERS)) == 1

    assert status_reader(ch) == ch.lookup                                   # the outbox uses it ...
    entry = _Entry(1, 1, a.idx, "CJGLS", "655012345678", 1, NOW, LineStatus.PACKED)
    assert _classify(entry, got[a.idx]).state is OutboxState.SENT            # ... and sees it sent
    assert ChannelKind(ch.kind) is ChannelKind.SABANGNET


# --- secrets ------------------------------------------------------------------------------------------------
def test_no_auth_key_in_errors_or_logs(fake: FakeSabangnet, make: MakeChannel, caplog: pytest.LogCaptureFixture,
                                       ) -> None:
    caplog.set_level(logging.DEBUG)
    key = fake.auth_key
    ch = make(timeout=0.3)
    assert key not in repr(ch)
    (a,) = fake.add_order(status="002")
    errors: list[ChannelError] = []
    fake.fail_next("text_error", message=f"인증키 {key} 가 올바르지 않습니다.")
    fake.fail_next(503, count=4, endpoint=ORDERS)
    fake.fail_next("malformed", endpoint=MALLS)
    for call in (ch.test_connection, lambda: ch.collect(*window()), ch.test_connection):
        with pytest.raises(ChannelError) as ei:
            call()
        errors.append(ei.value)
    fake.fail_invoice(a.idx, message=f"키 {key} 오류")
    fake.fail_next("timeout", endpoint=INVOICE, delay=1.0)
    assert ch.dispatch([item(a.idx)], checked=True)[a.idx].retryable
    row_result = ch.dispatch([item(a.idx)], checked=True)[a.idx]
    assert row_result.code == "channel_rejected" and key not in row_result.message and "***" in row_result.message
    assert errors[0].params["message"] == "인증키 *** 가 올바르지 않습니다."
    for err in errors:
        assert key not in f"{err} {err.detail} {err.params!r}"
    logged = [r.getMessage() + (r.exc_text or "") for r in caplog.records]
    assert logged and not [m for m in logged if key in m]
