"""Self-tests of the fake Sabangnet RTL_API: raw HTTP with httpx, checked against section A of
docs/marketplaces/sabangnet.md, not against any PackDesk client.

The request XML is published on a tiny local host (``XmlHost`` below) and the fake fetches it, as the real
service fetches ``xml_url``."""

from __future__ import annotations

import re
import secrets
import socket
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from tests.fakes.sabangnet import KST, FakeSabangnet

ORDERS = "xml_order_info"
INVOICE = "xml_order_invoice"
MALLS = "xml_mall_info"
ALL_FIELDS = "IDX|ORDER_ID|MALL_ID|PRODUCT_ID|SKU_ID|PRODUCT_NAME|SKU_VALUE|SALE_CNT|RECEIVE_NAME|ORDER_STATUS"


# --- a tiny local "public URL" host for request XMLs ----------------------------------------------------
class XmlHost:
    """Serves published bytes at http://127.0.0.1:<port>/x/<token>.xml (HTTP/1.0, one request per socket)."""

    def __init__(self) -> None:
        self.docs: dict[str, tuple[bytes, str]] = {}
        self.hits: list[str] = []
        self.release = threading.Event()     # "/slow" waits for this (max 2 s)
        host = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                host.hits.append(self.path)
                if self.path.startswith("/slow"):
                    host.release.wait(2.0)
                doc = host.docs.get(self.path)
                if doc is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", doc[1])
                self.send_header("Content-Length", str(len(doc[0])))
                self.end_headers()
                self.wfile.write(doc[0])

            def log_message(self, format: str, *args: object) -> None:
                pass

        class Server(ThreadingHTTPServer):
            daemon_threads = False
            block_on_close = True

            def handle_error(self, request: Any, client_address: Any) -> None:
                pass

        self.server = Server(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.01})
        self.thread.start()

    def publish(self, body: bytes, content_type: str = "application/xml; charset=EUC-KR", *,
                with_query: bool = False) -> str:
        token = secrets.token_hex(8)
        path = f"/x/{token}" + ("?t=1&ext=.xml" if with_query else ".xml")
        self.docs[path] = (body, content_type)
        return self.base + path

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


# --- helpers --------------------------------------------------------------------------------------------
def today() -> str:
    return datetime.now(KST).strftime("%Y%m%d")


def days_ago(n: int) -> str:
    return (datetime.now(KST) - timedelta(days=n)).strftime("%Y%m%d")


def build_xml(root: str, header: Mapping[str, str], rows: list[Mapping[str, str]], *, encoding: str = "EUC-KR",
              cdata: bool = False) -> bytes:
    def val(v: str) -> str:
        return f"<![CDATA[{v}]]>" if cdata else v.replace("&", "&amp;").replace("<", "&lt;")

    parts = [f'<?xml version="1.0" encoding="{encoding}"?>', f"<{root}>", "<HEADER>"]
    parts += [f"<{k}>{val(v)}</{k}>" for k, v in header.items()]
    parts.append("</HEADER>")
    for row in rows:
        parts.append("<DATA>" + "".join(f"<{k}>{val(v)}</{k}>" for k, v in row.items()) + "</DATA>")
    parts.append(f"</{root}>")
    return "\n".join(parts).encode("euc-kr" if encoding.upper() == "EUC-KR" else encoding)


def header(fake: FakeSabangnet, **extra: str) -> dict[str, str]:
    return {"SEND_COMPAYNY_ID": fake.company_id, "SEND_AUTH_KEY": fake.auth_key, "SEND_DATE": today(), **extra}


def order_request(fake: FakeSabangnet, fields: str = ALL_FIELDS, *, start: str | None = None,
                  end: str | None = None, **extra: str) -> bytes:
    row = {"ORD_ST_DATE": start or days_ago(7), "ORD_ED_DATE": end or today(), "ORD_FIELD": fields, **extra}
    return build_xml("SABANG_ORDER_LIST", header(fake), [row], cdata=True)


def invoice_request(fake: FakeSabangnet, rows: list[tuple[str, str, str]], *, result_xml: bool = True,
                    edit: bool = False) -> bytes:
    extra = {"RESULT_TYPE": "XML"} if result_xml else {}
    if edit:
        extra["SEND_INV_EDIT_YN"] = "Y"
    data = [{"SABANGNET_IDX": i, "TAK_CODE": c, "TAK_INVOICE": n} for i, c, n in rows]
    return build_xml("SABANG_INV_REGI", header(fake, **extra), data)


def parse(content: bytes) -> ET.Element:
    """Independent of the fake: honour the declaration (EUC-KR read as its superset CP949), then parse."""
    m = re.match(rb'<\?xml[^>]*encoding="([^"]+)"', content)
    assert m, content[:80]
    enc = m.group(1).decode().lower()
    text = content.decode("cp949" if enc == "euc-kr" else enc)
    return ET.fromstring(re.sub(r"^<\?xml[^>]*\?>", "", text))


def rows_of(root: ET.Element) -> list[dict[str, str]]:
    return [{c.tag: c.text or "" for c in d} for d in root.findall("DATA")]


def text_error(r: httpx.Response) -> str:
    assert r.status_code == 200, r.status_code
    assert not r.content.lstrip().startswith(b"<"), r.content[:80]
    return r.content.decode("euc-kr")


# --- fixtures -------------------------------------------------------------------------------------------
@pytest.fixture
def host() -> Iterator[XmlHost]:
    h = XmlHost()
    try:
        yield h
    finally:
        h.close()


@pytest.fixture
def fake() -> Iterator[FakeSabangnet]:
    with FakeSabangnet() as f:
        yield f


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=5.0) as client:
        yield client


Call = Callable[..., httpx.Response]


@pytest.fixture
def call(http: httpx.Client, fake: FakeSabangnet, host: XmlHost) -> Call:
    def do(endpoint: str, body: bytes, *, client: httpx.Client | None = None, **publish: Any) -> httpx.Response:
        url = host.publish(body, **publish)
        return (client or http).get(fake.api_url(endpoint), params={"xml_url": url})
    return do


def collect(call: Call, fake: FakeSabangnet, fields: str = ALL_FIELDS, **kw: str) -> list[dict[str, str]]:
    r = call(ORDERS, order_request(fake, fields, **kw))
    assert r.status_code == 200
    root = parse(r.content)
    assert root.tag == "SABANG_ORDER_LIST", r.text
    rows = rows_of(root)
    assert root.findtext("HEADER/TOTAL_COUNT") == str(len(rows))
    return rows


# --- transport, header, errors --------------------------------------------------------------------------
def test_connection_test_fetches_the_xml_and_lists_malls(fake: FakeSabangnet, host: XmlHost, call: Call) -> None:
    body = build_xml("SABANG_MALL_LIST", header(fake), [])
    r = call(MALLS, body)
    assert r.status_code == 200
    assert r.headers["content-type"].lower() == "text/xml; charset=euc-kr"
    root = parse(r.content)
    assert root.tag == "SABANG_MALL_LIST"
    assert root.findtext("HEADER/SEND_COMPAYNY_ID") == fake.company_id
    assert root.findtext("HEADER/SEND_DATE") == today()
    assert {"MALL_ID": "shop0075", "MALL_NAME": "coupang"} in rows_of(root)
    assert len(host.hits) == 1
    (rec,) = fake.requests
    assert rec.method == "GET" and rec.endpoint == "xml_mall_info.html" and rec.status == 200
    assert rec.fetch_status == 200 and rec.xml_bytes == body and rec.error is None
    assert rec.header("SEND_AUTH_KEY") == fake.auth_key


def test_cdata_header_values_and_utf8_documents_are_accepted(fake: FakeSabangnet, call: Call) -> None:
    body = build_xml("SABANG_MALL_LIST", header(fake), [], cdata=True)
    assert b"<![CDATA[" + fake.auth_key.encode() in body
    assert parse(call(MALLS, body).content).tag == "SABANG_MALL_LIST"
    fake.add_order(RECEIVE_NAME="김영희")
    row = {"ORD_ST_DATE": days_ago(1), "ORD_ED_DATE": today(), "ORD_FIELD": "RECEIVE_NAME",
           "MALL_USER_ID": "packdesk_seller"}
    body = build_xml("SABANG_ORDER_LIST", header(fake), [row], encoding="UTF-8")
    r = call(ORDERS, body, content_type="application/xml; charset=UTF-8")
    assert rows_of(parse(r.content)) == [{"RECEIVE_NAME": "김영희"}]


def _bad_key(h: dict[str, str]) -> None:
    h["SEND_AUTH_KEY"] = "WRONG"


def _bad_company(h: dict[str, str]) -> None:
    h["SEND_COMPAYNY_ID"] = "someone-else"


def _spelled_right(h: dict[str, str]) -> None:
    h["SEND_COMPANY_ID"] = h.pop("SEND_COMPAYNY_ID")


def _bad_date(h: dict[str, str]) -> None:
    h["SEND_DATE"] = "2026-11-22"


def _no_date(h: dict[str, str]) -> None:
    del h["SEND_DATE"]


@pytest.mark.parametrize(("spoil", "needle"), [
    (_bad_key, "인증키"), (_bad_company, "SEND_COMPAYNY_ID"), (_spelled_right, "SEND_COMPAYNY_ID"),
    (_bad_date, "SEND_DATE"), (_no_date, "SEND_DATE")])
def test_header_errors_are_non_xml_euc_kr_text(fake: FakeSabangnet, call: Call,
                                               spoil: Callable[[dict[str, str]], None], needle: str) -> None:
    fake.add_order()
    h = header(fake)
    spoil(h)
    row = {"ORD_ST_DATE": days_ago(1), "ORD_ED_DATE": today(), "ORD_FIELD": "IDX"}
    r = call(ORDERS, build_xml("SABANG_ORDER_LIST", h, [row]))
    assert needle in text_error(r)
    assert fake.status(fake.idxs()[0]) == "001"          # nothing happened
    assert fake.requests[-1].error is not None


@pytest.mark.parametrize(("body", "needle"), [
    (b"this is not xml", "XML"),
    (b'<?xml version="1.0" encoding="EUC-KR"?><SABANG_ORDER_LIST><HEADER>', "XML"),
    ('<?xml version="1.0" encoding="EUC-KR"?><WRONG_ROOT/>'.encode("euc-kr"), "WRONG_ROOT"),
    ('<?xml version="1.0" encoding="EUC-KR"?><SABANG_ORDER_LIST><x>홍길동</x></SABANG_ORDER_LIST>'.encode(),
     "euc-kr"),                                       # UTF-8 bytes under an EUC-KR declaration
    (b'<?xml version="1.0" encoding="X-NOPE"?><SABANG_ORDER_LIST/>', "X-NOPE"),
])
def test_unparsable_request_xml(fake: FakeSabangnet, call: Call, body: bytes, needle: str) -> None:
    msg = text_error(call(ORDERS, body))
    assert "XML" in msg and needle.lower() in msg.lower()


def test_missing_or_bad_collection_params(fake: FakeSabangnet, call: Call) -> None:
    h = header(fake)
    for row, needle in [({"ORD_ST_DATE": today(), "ORD_ED_DATE": today()}, "ORD_FIELD"),
                        ({"ORD_ED_DATE": today(), "ORD_FIELD": "IDX"}, "ORD_ST_DATE"),
                        ({"ORD_ST_DATE": "2026-11-01", "ORD_ED_DATE": today(), "ORD_FIELD": "IDX"}, "ORD_ST_DATE"),
                        ({"ORD_ST_DATE": today(), "ORD_ED_DATE": today(), "ORD_FIELD": "IDX",
                          "ORDER_STATUS": "2"}, "ORDER_STATUS")]:
        assert needle in text_error(call(ORDERS, build_xml("SABANG_ORDER_LIST", h, [row])))


def test_error_style_xml_puts_the_message_in_header(host: XmlHost, http: httpx.Client) -> None:
    with FakeSabangnet(error_style="xml", error_tag="MSG") as fake:
        bad = build_xml("SABANG_INV_REGI", header(fake, SEND_AUTH_KEY="nope"), [])
        r = http.get(fake.call_url(INVOICE, host.publish(bad)))
        root = parse(r.content)
        assert root.tag == "SABANG_INV_REGI"
        assert root.findtext("HEADER/TOTAL_COUNT") == "0" and root.find("DATA") is None
        assert "인증키" in (root.findtext("HEADER/MSG") or "")


def test_send_date_skew_is_optional(host: XmlHost, http: httpx.Client) -> None:
    old = {"SEND_DATE": days_ago(3)}
    with FakeSabangnet() as fake:
        r = http.get(fake.call_url(MALLS, host.publish(build_xml("SABANG_MALL_LIST", header(fake, **old), []))))
        assert parse(r.content).tag == "SABANG_MALL_LIST"
    with FakeSabangnet(send_date_max_skew_days=1) as fake:
        r = http.get(fake.call_url(MALLS, host.publish(build_xml("SABANG_MALL_LIST", header(fake, **old), []))))
        assert "SEND_DATE" in text_error(r)


def test_xml_url_problems_are_error_texts(fake: FakeSabangnet, host: XmlHost, http: httpx.Client) -> None:
    assert "xml_url" in text_error(http.get(fake.api_url(MALLS)))
    with socket.socket() as s:                           # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}/x.xml"
    msg = text_error(http.get(fake.call_url(MALLS, dead)))
    assert "URL" in msg and dead in msg
    assert text_error(http.get(fake.call_url(MALLS, host.base + "/missing.xml")))
    assert fake.requests[-1].fetch_status == 404
    assert text_error(http.get(fake.call_url(MALLS, "file:///etc/passwd")))


def test_slow_xml_host_hits_the_fetch_timeout(host: XmlHost, http: httpx.Client) -> None:
    with FakeSabangnet(fetch_timeout=0.2) as fake:
        t0 = time.monotonic()
        msg = text_error(http.get(fake.call_url(MALLS, host.base + "/slow.xml")))
        assert "URL" in msg and time.monotonic() - t0 < 1.5
        assert "timed out" in (fake.requests[-1].fetch_error or "")
        host.release.set()


def test_xml_url_must_be_url_encoded(fake: FakeSabangnet, host: XmlHost, http: httpx.Client) -> None:
    url = host.publish(build_xml("SABANG_MALL_LIST", header(fake), []), with_query=True)
    assert "&ext=.xml" in url
    assert parse(http.get(fake.api_url(MALLS) + "?xml_url=" + quote(url, safe="")).content).tag == "SABANG_MALL_LIST"
    raw = http.get(fake.api_url(MALLS) + "?xml_url=" + url)   # '&ext=.xml' becomes a parameter of the API call
    assert text_error(raw)
    assert fake.requests[-1].xml_url == url.split("&")[0]


def test_only_get_and_known_endpoints(fake: FakeSabangnet, http: httpx.Client) -> None:
    assert http.post(fake.api_url(MALLS), params={"xml_url": "http://x/"}).status_code == 405
    assert http.get(fake.api_url("xml_clm_info"), params={"xml_url": "http://x/"}).status_code == 404
    assert http.get(fake.base_url + "/other").status_code == 404


# --- order collection -----------------------------------------------------------------------------------
def test_collection_answers_requested_fields_in_euc_kr_cdata(fake: FakeSabangnet, call: Call) -> None:
    (line,) = fake.add_order([{"PRODUCT_NAME": "한글 머그컵", "SKU_VALUE": "색상=빨강", "SKU_ID": "123456-0001",
                               "PRODUCT_ID": "123456", "SALE_CNT": 3}],
                             RECEIVE_NAME="김철수", order_id="ORD-1", mall_id="shop0055")
    r = call(ORDERS, order_request(fake))
    assert r.headers["content-type"].lower() == "text/xml; charset=euc-kr"
    assert r.content.startswith(b'<?xml version="1.0" encoding="EUC-KR"?>')
    assert "김철수".encode("euc-kr") in r.content and "김철수".encode() not in r.content
    assert b"<IDX><![CDATA[" + line.idx.encode() + b"]]></IDX>" in r.content
    root = parse(r.content)
    assert root.findtext("HEADER/TOTAL_COUNT") == "1"
    assert rows_of(root) == [{"IDX": line.idx, "ORDER_ID": "ORD-1", "MALL_ID": "스마트스토어", "PRODUCT_ID": "123456",
                              "SKU_ID": "123456-0001", "PRODUCT_NAME": "한글 머그컵", "SKU_VALUE": "색상=빨강",
                              "SALE_CNT": "3", "RECEIVE_NAME": "김철수", "ORDER_STATUS": "주문확인"}]
    assert list(rows_of(root)[0]) == ALL_FIELDS.split("|")        # exactly the requested fields, in order


def test_cp949_only_syllables_go_out_as_cp949(fake: FakeSabangnet, call: Call) -> None:
    fake.add_order(PRODUCT_NAME="똠얌꿍 라면", RECEIVE_NAME="뷁")
    r = call(ORDERS, order_request(fake, "PRODUCT_NAME|RECEIVE_NAME"))
    assert "똠얌꿍".encode("cp949") in r.content
    assert rows_of(parse(r.content)) == [{"PRODUCT_NAME": "똠얌꿍 라면", "RECEIVE_NAME": "뷁"}]


def test_rows_sorted_by_receiver_zip_address_idx(fake: FakeSabangnet, call: Call) -> None:
    a = fake.add_order(RECEIVE_NAME="홍길동", RECEIVE_ZIPCODE="06236", RECEIVE_ADDR="서울 강남구")[0].idx
    b = fake.add_order(2, RECEIVE_NAME="김철수", RECEIVE_ZIPCODE="04524", RECEIVE_ADDR="서울 중구")
    c = fake.add_order(RECEIVE_NAME="홍길동", RECEIVE_ZIPCODE="04524", RECEIVE_ADDR="서울 중구")[0].idx
    d = fake.add_order(RECEIVE_NAME="김철수", RECEIVE_ZIPCODE="04524", RECEIVE_ADDR="부산 해운대구")[0].idx
    e = fake.add_order(RECEIVE_NAME="강감찬", RECEIVE_ZIPCODE="63000", RECEIVE_ADDR="제주")[0].idx
    rows = collect(call, fake, "IDX")
    assert [r["IDX"] for r in rows] == [e, d, b[0].idx, b[1].idx, c, a]


def test_dates_filter_on_collected_date_and_unconfirmed_orders_are_hidden(fake: FakeSabangnet, call: Call) -> None:
    old = fake.add_order(reg_date=days_ago(10), ORDER_DATE=days_ago(1) + "120000")[0].idx
    new = fake.add_order(reg_date=datetime.now(KST), ORDER_DATE=days_ago(30) + "120000")[0].idx
    fake.add_order(confirmed=False)
    assert [r["IDX"] for r in collect(call, fake, "IDX", start=days_ago(2))] == [new]
    assert {r["IDX"] for r in collect(call, fake, "IDX", start=days_ago(10), end=days_ago(10))} == {old}
    r = call(ORDERS, order_request(fake, "IDX", start=days_ago(20), end=days_ago(15)))
    root = parse(r.content)
    assert root.findtext("HEADER/TOTAL_COUNT") == "0" and root.find("DATA") is None
    assert fake.status(old) == "002"


def test_collection_confirms_new_orders_and_recollection_returns_them_again(fake: FakeSabangnet, call: Call) -> None:
    lines = fake.add_order(2)
    done = fake.add_order(status="003")[0].idx
    assert [fake.status(ln.idx) for ln in lines] == ["001", "001"]
    first = collect(call, fake, "IDX|ORDER_STATUS|ORD_CONFIRM_DATE")
    assert [fake.status(ln.idx) for ln in lines] == ["002", "002"]
    assert [(c["idx"], c["from"], c["to"], c["by"]) for c in fake.status_changes] == [
        (ln.idx, "001", "002", "collect") for ln in lines]
    assert {r["IDX"]: r["ORDER_STATUS"] for r in first} == {lines[0].idx: "주문확인", lines[1].idx: "주문확인",
                                                            done: "출고대기"}
    assert all(re.fullmatch(r"\d{14}", r["ORD_CONFIRM_DATE"]) for r in first)
    second = collect(call, fake, "IDX|ORDER_STATUS|ORD_CONFIRM_DATE")
    assert second == first                                   # every call answers all matching rows again
    assert len(fake.status_changes) == 2


def test_order_status_filter_and_which_rows_get_confirmed(fake: FakeSabangnet, call: Call) -> None:
    new = fake.add_order()[0].idx
    confirmed = fake.add_order(status="002")[0].idx
    assert [r["IDX"] for r in collect(call, fake, "IDX", ORDER_STATUS="002")] == [confirmed]
    assert fake.status(new) == "001"                          # not matched -> not confirmed
    assert collect(call, fake, "IDX|ORDER_STATUS", ORDER_STATUS="001") == [{"IDX": new, "ORDER_STATUS": "주문확인"}]
    assert fake.status(new) == "002"
    assert collect(call, fake, "IDX", ORDER_STATUS="001") == []
    assert collect(call, fake, "IDX", ORDER_STATUS="999") == []


def test_label_before_confirm_option(host: XmlHost, http: httpx.Client) -> None:
    with FakeSabangnet(label_after_confirm=False, cdata_values=False) as fake:
        idx = fake.add_order()[0].idx
        r = http.get(fake.call_url(ORDERS, host.publish(order_request(fake, "IDX|ORDER_STATUS"))))
        assert b"<![CDATA[" not in r.content
        assert rows_of(parse(r.content)) == [{"IDX": idx, "ORDER_STATUS": "신규주문"}]
        assert fake.status(idx) == "002"


def test_other_filters_item_wrapper_and_lang(fake: FakeSabangnet, call: Call) -> None:
    cp = fake.add_order(mall_id="coupang", order_id="C-1")[0].idx
    ss = fake.add_order(mall_id="shop0055", order_id="S-1", RECEIVE_NAME="이영희")[0].idx
    assert [r["IDX"] for r in collect(call, fake, "IDX", MALL_ID="shop0075")] == [cp]
    assert [r["IDX"] for r in collect(call, fake, "IDX", MALL_ID="스마트스토어")] == [ss]
    assert [r["IDX"] for r in collect(call, fake, "IDX", ORDER_ID="S-1")] == [ss]
    # the converted guide's <DATA><ITEM>…</ITEM></DATA>
    item = (f"<DATA><ITEM><ORD_ST_DATE>{today()}</ORD_ST_DATE><ORD_ED_DATE>{today()}</ORD_ED_DATE>"
            f"<ORD_FIELD>IDX</ORD_FIELD><ORDER_ID>C-1</ORDER_ID></ITEM></DATA>")
    h = "".join(f"<{k}>{v}</{k}>" for k, v in header(fake).items())
    body = f'<?xml version="1.0" encoding="EUC-KR"?><SABANG_ORDER_LIST><HEADER>{h}</HEADER>{item}</SABANG_ORDER_LIST>'
    assert rows_of(parse(call(ORDERS, body.encode()).content)) == [{"IDX": cp}]
    # <LANG>UTF-8</LANG>: the only API that can answer in UTF-8
    r = call(ORDERS, order_request(fake, "RECEIVE_NAME", ORDER_ID="S-1", LANG="UTF-8"))
    assert r.content.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    assert r.headers["content-type"].lower() == "text/xml; charset=utf-8"
    assert "이영희".encode() in r.content
    assert rows_of(parse(r.content)) == [{"RECEIVE_NAME": "이영희"}]


def test_unknown_fields_are_empty_unless_strict(fake: FakeSabangnet, call: Call, host: XmlHost,
                                               http: httpx.Client) -> None:
    fake.add_order(ORDER_ETC_14="P123456789012", CUSTOM_X="x")
    assert collect(call, fake, "ORDER_ETC_14|NO_SUCH_FIELD|CUSTOM_X") == [
        {"ORDER_ETC_14": "P123456789012", "NO_SUCH_FIELD": "", "CUSTOM_X": "x"}]
    with FakeSabangnet(strict_fields=True) as strict:
        strict.add_order()
        r = http.get(strict.call_url(ORDERS, host.publish(order_request(strict, "IDX|NO_SUCH_FIELD"))))
        assert "NO_SUCH_FIELD" in text_error(r)


def test_seeding_defaults_and_python_state(fake: FakeSabangnet) -> None:
    lines = fake.add_order(3)
    assert [ln.idx for ln in lines] == ["17117400", "17117401", "17117402"]
    assert len({ln.order_id for ln in lines}) == 1
    assert [bool(ln.fields["SKU_ID"]) for ln in lines] == [True, True, False]   # one product without options
    assert re.fullmatch(r"\d{6}-\d{4}", lines[0].fields["SKU_ID"])
    assert lines[0].mall_id == "coupang" and lines[0].mall_code == "shop0075"
    assert re.fullmatch(r"\d{14}", lines[0].fields["REG_DATE"])
    st = fake.line(lines[0].idx)
    assert (st.status, st.status_label, st.delivery_id, st.invoice_no) == ("001", "신규주문", "", "")
    fake.update(lines[0].idx, receive_name="박민수")
    fake.set_status(lines[1].idx, "007")
    assert fake.line(lines[0].idx).fields["RECEIVE_NAME"] == "박민수"
    assert fake.line(lines[1].idx).status_label == "취소접수" and fake.line(lines[1].idx).fields["CANCEL_DT"]
    with pytest.raises(ValueError, match="status"):
        fake.add_order(status="005")
    with pytest.raises(KeyError):
        fake.line("1")


# --- invoice upload -------------------------------------------------------------------------------------
def test_invoice_xml_result_moves_to_shipping_wait(fake: FakeSabangnet, call: Call) -> None:
    a, b = (ln.idx for ln in fake.add_order(2, status="002"))
    r = call(INVOICE, invoice_request(fake, [(a, "001", "655012345678"), (b, "007", "301234567890")]))
    root = parse(r.content)
    assert root.tag == "SABANG_INV_REGI" and root.findtext("HEADER/TOTAL_COUNT") == "2"
    assert rows_of(root) == [{"RESULT": "SUCCESS", "SABANGNET_IDX": a}, {"RESULT": "SUCCESS", "SABANGNET_IDX": b}]
    st = fake.line(a)
    assert (st.status, st.status_label, st.delivery_id, st.invoice_no) == ("003", "출고대기", "001", "655012345678")
    assert [(i["idx"], i["tak_code"], i["tak_invoice"], i["status_before"], i["status_after"])
            for i in fake.invoices] == [(a, "001", "655012345678", "002", "003"),
                                        (b, "007", "301234567890", "002", "003")]
    assert [(c["idx"], c["by"]) for c in fake.status_changes] == [(a, "invoice"), (b, "invoice")]
    assert fake.requests[-1].data()[0] == {"SABANGNET_IDX": a, "TAK_CODE": "001", "TAK_INVOICE": "655012345678"}


def test_invoice_overwrite_needs_edit_flag(fake: FakeSabangnet, call: Call) -> None:
    idx = fake.add_order(status="002")[0].idx
    assert rows_of(parse(call(INVOICE, invoice_request(fake, [(idx, "001", "111111111111")])).content))[0][
        "RESULT"] == "SUCCESS"
    for number in ("111111111111", "222222222222"):          # not even the identical waybill again
        res = rows_of(parse(call(INVOICE, invoice_request(fake, [(idx, "001", number)])).content))[0]["RESULT"]
        assert "이미 송장번호" in res
    res = rows_of(parse(call(INVOICE, invoice_request(fake, [(idx, "002", "222222222222")], edit=True)).content))
    assert res == [{"RESULT": "SUCCESS", "SABANGNET_IDX": idx}]
    assert fake.line(idx).delivery_id == "002" and fake.line(idx).invoice_no == "222222222222"
    assert [(i["overwrite"], i["previous_invoice"]) for i in fake.invoices] == [(False, ""), (True, "111111111111")]


def test_identical_resend_ok_option_still_records_the_repeat(host: XmlHost, http: httpx.Client) -> None:
    with FakeSabangnet(identical_resend_ok=True) as fake:
        idx = fake.add_order(status="002")[0].idx
        for _ in range(2):
            r = http.get(fake.call_url(INVOICE, host.publish(invoice_request(fake, [(idx, "001", "123")]))))
            assert rows_of(parse(r.content))[0]["RESULT"] == "SUCCESS"
        assert [i["repeat"] for i in fake.invoices] == [False, True]


@pytest.mark.parametrize(("status", "ok", "after", "needle"), [
    ("001", False, "001", "신규주문"), ("002", True, "003", ""), ("003", True, "003", ""), ("021", True, "021", ""),
    ("004", False, "004", "출고완료"), ("006", False, "006", "배송보류"), ("007", False, "007", "취소"),
    ("010", False, "010", "취소"), ("009", False, "009", "반품접수")])
def test_invoice_state_rules(fake: FakeSabangnet, call: Call, status: str, ok: bool, after: str,
                             needle: str) -> None:
    idx = fake.add_order(status=status)[0].idx
    res = rows_of(parse(call(INVOICE, invoice_request(fake, [(idx, "001", "655012345678")])).content))[0]["RESULT"]
    assert (res == "SUCCESS") is ok and needle in res
    assert fake.status(idx) == after
    assert len(fake.invoices) == int(ok)


def test_invoice_sent_to_mall_or_force_completed_is_final(fake: FakeSabangnet, call: Call) -> None:
    sent, forced = (ln.idx for ln in fake.add_order(2, status="002"))
    call(INVOICE, invoice_request(fake, [(sent, "001", "1"), (forced, "001", "2")]))
    fake.send_invoice_to_mall(sent)
    fake.force_complete(forced)
    assert fake.line(sent).status == "004" and fake.line(sent).invoice_sent and fake.line(sent).fields["INV_SEND_DM"]
    res = rows_of(parse(call(INVOICE, invoice_request(fake, [(sent, "001", "3"), (forced, "001", "4")],
                                                      edit=True)).content))
    assert "쇼핑몰로 송장이 전송" in res[0]["RESULT"] and "강제완료" in res[1]["RESULT"]
    assert len(fake.invoices) == 2


def test_invoice_row_validation(fake: FakeSabangnet, call: Call) -> None:
    a, b, c, d = (ln.idx for ln in fake.add_order(4, status="002"))
    rows = [(a, "001", "1" * 15), (b, "001", "1" * 16), ("99999999", "001", "1"), (c, "055", "1"), (d, "001", "")]
    res = [r["RESULT"] for r in rows_of(parse(call(INVOICE, invoice_request(fake, rows)).content))]
    assert res[0] == "SUCCESS"
    assert "15" in res[1] and "주문번호" in res[2] and "택배사" in res[3] and "TAK_INVOICE" in res[4]
    assert [i["idx"] for i in fake.invoices] == [a]


def test_any_courier_code_when_table_is_off(host: XmlHost, http: httpx.Client) -> None:
    with FakeSabangnet(courier_codes=None, max_invoice_len=20) as fake:
        idx = fake.add_order(status="002")[0].idx
        r = http.get(fake.call_url(INVOICE, host.publish(invoice_request(fake, [(idx, "055", "1" * 20)]))))
        assert rows_of(parse(r.content))[0]["RESULT"] == "SUCCESS"


def test_legacy_text_result_without_result_type(fake: FakeSabangnet, call: Call) -> None:
    ok, bad = (ln.idx for ln in fake.add_order(2, status="002"))
    fake.set_status(bad, "010")
    r = call(INVOICE, invoice_request(fake, [(ok, "001", "655012345678"), (bad, "001", "1")], result_xml=False))
    text = text_error(r)
    assert r.headers["content-type"].lower() == "text/html; charset=euc-kr"
    assert f"성공 : {ok}" in text and f"성공 : {bad}" not in text
    assert re.search(rf"실패 : {bad} : .*취소", text)


def test_per_idx_invoice_failure(fake: FakeSabangnet, call: Call) -> None:
    a, b = (ln.idx for ln in fake.add_order(2, status="002"))
    fake.fail_invoice(b, message="쇼핑몰 연동 오류")
    body = invoice_request(fake, [(a, "001", "1"), (b, "001", "2")])
    res = rows_of(parse(call(INVOICE, body).content))
    assert res == [{"RESULT": "SUCCESS", "SABANGNET_IDX": a}, {"RESULT": "쇼핑몰 연동 오류", "SABANGNET_IDX": b}]
    assert fake.status(b) == "002"
    res = rows_of(parse(call(INVOICE, invoice_request(fake, [(b, "001", "2")])).content))
    assert res == [{"RESULT": "SUCCESS", "SABANGNET_IDX": b}]           # times=1: the retry works
    assert [i["idx"] for i in fake.invoices] == [a, b]


# --- injected failures ----------------------------------------------------------------------------------
@pytest.mark.parametrize("status", [500, 502, 503])
def test_injected_5xx_skips_the_request(fake: FakeSabangnet, host: XmlHost, call: Call, status: int) -> None:
    idx = fake.add_order()[0].idx
    fake.fail_next(status, count=2)
    for _ in range(2):
        r = call(ORDERS, order_request(fake))
        assert r.status_code == status and r.headers["content-type"] == "text/html"
    assert host.hits == [] and fake.status(idx) == "001"
    assert [rec.injected for rec in fake.requests] == [str(status)] * 2
    assert collect(call, fake, "IDX") == [{"IDX": idx}]


def test_injected_timeout_and_processed_late_answer(fake: FakeSabangnet, host: XmlHost, call: Call) -> None:
    idx = fake.add_order(status="002")[0].idx
    fake.fail_next("timeout", endpoint=INVOICE, delay=0.4, process=True)
    with httpx.Client(timeout=0.15) as impatient, pytest.raises(httpx.ReadTimeout):
        call(INVOICE, invoice_request(fake, [(idx, "001", "655012345678")]), client=impatient)
    assert [i["idx"] for i in fake.invoices] == [idx]             # applied although the answer was lost
    fake.fail_next("timeout", delay=0.2)
    r = call(MALLS, build_xml("SABANG_MALL_LIST", header(fake), []))
    assert r.status_code == 504
    fake.fail_next("timeout", delay=30)
    with httpx.Client(timeout=0.1) as impatient, pytest.raises(httpx.ReadTimeout):
        call(MALLS, b"<x/>", client=impatient)
    t0 = time.monotonic()
    fake.stop()                                                   # cuts the 30 s wait short
    assert time.monotonic() - t0 < 2


def test_injected_malformed_body(fake: FakeSabangnet, call: Call) -> None:
    idx = fake.add_order()[0].idx
    fake.fail_next("malformed", endpoint=ORDERS, process=True)
    r = call(ORDERS, order_request(fake))
    assert r.status_code == 200 and r.content.startswith(b"<?xml")
    with pytest.raises(ET.ParseError):
        parse(r.content)
    assert fake.status(idx) == "002"                              # processed: the side effect happened
    fake.fail_next("malformed")
    with pytest.raises(ET.ParseError):
        parse(call(MALLS, b"").content)


def test_injected_truncated_body(fake: FakeSabangnet, call: Call) -> None:
    idx = fake.add_order(status="002")[0].idx
    fake.fail_next("truncated", process=True)
    with pytest.raises(httpx.RemoteProtocolError):
        call(INVOICE, invoice_request(fake, [(idx, "001", "655012345678")]))
    assert len(fake.invoices) == 1
    fake.fail_next("truncated")
    with pytest.raises(httpx.RemoteProtocolError):
        call(ORDERS, order_request(fake))
    assert len(fake.calls(ORDERS)) == 1 and fake.calls(ORDERS)[0].xml_bytes is None


def test_injected_text_error_unreachable_and_disconnect(fake: FakeSabangnet, host: XmlHost, call: Call) -> None:
    fake.fail_next("text_error")
    assert "점검" in text_error(call(MALLS, b""))
    fake.fail_next("text_error", message="허용되지 않은 IP 입니다.")
    assert text_error(call(MALLS, b"")) == "허용되지 않은 IP 입니다."
    fake.fail_next("unreachable")
    url_msg = text_error(call(MALLS, b""))
    assert "URL" in url_msg and host.base in url_msg
    fake.fail_next("disconnect")
    with pytest.raises(httpx.RemoteProtocolError):
        call(MALLS, b"")
    assert host.hits == [] and fake.requests[-1].status is None
    with pytest.raises(ValueError):
        fake.fail_next("nonsense")


def test_endpoint_filter_and_clear_failures(fake: FakeSabangnet, call: Call) -> None:
    idx = fake.add_order(status="002")[0].idx
    fake.fail_next(503, endpoint=INVOICE)
    assert parse(call(MALLS, build_xml("SABANG_MALL_LIST", header(fake), [])).content).tag == "SABANG_MALL_LIST"
    assert call(INVOICE, invoice_request(fake, [(idx, "001", "1")])).status_code == 503
    fake.fail_next(500, count=5)
    fake.fail_invoice(idx, times=None)
    fake.clear_failures()
    assert rows_of(parse(call(INVOICE, invoice_request(fake, [(idx, "001", "1")])).content))[0]["RESULT"] == "SUCCESS"


def test_stop_closes_the_port_and_crashes_surface(host: XmlHost, http: httpx.Client) -> None:
    fake = FakeSabangnet()
    with fake:
        port = fake.port
        fake._mall_info = None                                    # type: ignore[assignment]  # break the fake
        r = http.get(fake.call_url(MALLS, host.publish(build_xml("SABANG_MALL_LIST", header(fake), []))))
        assert r.status_code == 500
        fake.raise_server_errors = False
    assert fake.server_errors
    with pytest.raises(httpx.ConnectError):
        http.get(f"http://127.0.0.1:{port}/RTL_API/xml_mall_info.html")
    with pytest.raises(AssertionError, match="crashed"), FakeSabangnet() as other:
        other._server_errors.append(RuntimeError("boom"))
