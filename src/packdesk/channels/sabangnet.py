"""Sabangnet (사방넷) through its legacy RTL_API, per ``docs/marketplaces/sabangnet.md``
(the A.1-A.7 cited below are its sections).

How a call works (A.1): the request XML (EUC-KR, values in CDATA) is published at a public URL by an
``XmlPublisher`` (``channels/xml_relay.py``), then ``GET <api_url>/RTL_API/<endpoint>.html?xml_url=<URL,
encoded>``; Sabangnet fetches the XML and answers the GET. The XML holds ``SEND_AUTH_KEY``: it is never
logged, the key is redacted from anything an error carries, and the publisher serves it only for the call.

- ``collect``  — ``xml_order_info`` (A.2). **Side effect: Sabangnet turns every returned 신규주문 (001) into
  주문확인 (002).** So there is no separate 발주확인 call: ``confirm`` just reports every id done.
- ``dispatch`` — ``xml_order_invoice`` with ``RESULT_TYPE=XML`` (A.3), exactly once (see its docstring).
- ``lookup``   — the current status of order lines. The legacy API has no per-order read: this is one
  ``xml_order_info`` call over the last ``lookback_days`` with a short field list, filtered here — and,
  like collection, it turns 001 into 002.
- ``test_connection`` — ``xml_mall_info`` (A.4), the connection test public clients use.

Replies (A.2, A.6) are decoded by their declaration, falling back euc-kr → cp949 → utf-8, and the
declaration is stripped before parsing the text (a ``str`` still declaring EUC-KR trips the parser). A
body that is not XML, or an XML with ``ERR_MSG``/``MSG``/``RESULT_MSG`` in HEADER (the exact tags are [?]),
is Sabangnet refusing the call: its text is the message for people (``ChannelAuthError`` when it speaks of
the key, id, IP or rights; ``ChannelRejected`` otherwise; "점검" maintenance is ``ChannelTransientError``; a
failed ``xml_url`` fetch is ``ChannelRejected`` with ``reason="xml_unreachable"``: check the relay).
Malformed, cut or inconsistent XML (``TOTAL_COUNT`` ≠ rows) is ``ChannelBadReply`` and nothing of it is used.

Rate: one bucket per admin server × company id, 1 request/s with a burst of 2 (no limit is documented; a
collection returns every row of the window, so there is no reason to hurry).
"""

from __future__ import annotations

import codecs
import contextlib
import html
import logging
import re
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

import httpx

from packdesk.channels.base import (
    ChannelAuthError,
    ChannelError,
    ChannelRateLimited,
    ChannelRejected,
    ChannelTransientError,
    Closing,
    DispatchItem,
    ItemResult,
    LineRecord,
    OrderRecord,
    WriteResult,
)
from packdesk.channels.http import ApiProblem, ChannelBadReply, HttpClient, redacted, shortened
from packdesk.channels.xml_relay import XmlPublisher, XmlRelayError
from packdesk.core.couriers import UnknownCourier, from_channel, to_channel
from packdesk.core.enums import ChannelKind, LineStatus
from packdesk.core.kst import KST
from packdesk.core.phones import domestic

log = logging.getLogger("packdesk.channels.sabangnet")

DEFAULT_TIMEOUT = httpx.Timeout(60.0, connect=5.0, pool=10.0)  # Sabangnet first fetches our XML, then answers

ORDERS, INVOICE, MALLS = "xml_order_info", "xml_order_invoice", "xml_mall_info"
ROOTS = {ORDERS: "SABANG_ORDER_LIST", INVOICE: "SABANG_INV_REGI", MALLS: "SABANG_MALL_LIST"}

MAX_INVOICE_ROWS = 100   # rows per upload (many rows per file are fine, A.3 [K]; we stay modest)
MAX_INVOICE_LEN = 15     # A.3 [1]: a longer waybill is refused

# exactly the fields collection maps (A.2 table)
COLLECT_FIELDS = ("IDX", "ORDER_ID", "MALL_ID", "ORDER_STATUS", "PRODUCT_ID", "SKU_ID", "PRODUCT_NAME",
                  "P_PRODUCT_NAME", "SKU_VALUE", "P_SKU_VALUE", "SALE_CNT", "DELIVERY_ID", "INVOICE_NO",
                  "RECEIVE_NAME", "RECEIVE_CEL", "RECEIVE_TEL", "RECEIVE_ZIPCODE", "RECEIVE_ADDR", "DELV_MSG",
                  "USER_NAME", "ORDER_DATE")
# what a LineRecord needs, for lookup
LOOKUP_FIELDS = ("IDX", "ORDER_STATUS", "DELIVERY_ID", "INVOICE_NO", "PRODUCT_ID", "SKU_ID", "PRODUCT_NAME",
                 "P_PRODUCT_NAME", "SKU_VALUE", "P_SKU_VALUE", "SALE_CNT")

# A.2 status codes [K] -> (label, our status). In replies ORDER_STATUS is the label [1]; the code is taken too.
STATUSES: dict[str, tuple[str, LineStatus]] = {
    "001": ("신규주문", LineStatus.NEW),
    "002": ("주문확인", LineStatus.CONFIRMED),
    "003": ("출고대기", LineStatus.CONFIRMED),
    "004": ("출고완료", LineStatus.SHIPPED),
    "006": ("배송보류", LineStatus.CANCEL_REQUESTED),
    "007": ("취소접수", LineStatus.CANCEL_REQUESTED),
    "008": ("교환접수", LineStatus.SHIPPED),
    "009": ("반품접수", LineStatus.SHIPPED),
    "010": ("취소완료", LineStatus.CANCELLED),
    "011": ("교환완료", LineStatus.SHIPPED),
    "012": ("반품완료", LineStatus.SHIPPED),
    "021": ("교환발송준비", LineStatus.SHIPPED),
    "022": ("교환발송완료", LineStatus.SHIPPED),
    "023": ("교환회수준비", LineStatus.SHIPPED),
    "024": ("교환회수완료", LineStatus.SHIPPED),
    "025": ("반품회수준비", LineStatus.SHIPPED),
    "026": ("반품회수완료", LineStatus.SHIPPED),
    "999": ("폐기", LineStatus.CANCELLED),
}
_BY_LABEL = {label: (label, status) for label, status in STATUSES.values()}

# How Sabangnet says no ([?] in the spec: kept here, in one place)
ERROR_TAGS = ("ERR_MSG", "MSG", "RESULT_MSG")
FETCH_FAILED_HINTS = ("XML 파일을 읽을 수 없", "접근 가능한 URL", "xml_url")
MAINTENANCE_HINTS = ("점검",)
AUTH_HINTS = re.compile(r"인증|연동키|아이디|권한|로그인|\bIP\b|auth|key|login", re.I)
LEGACY_INVOICE_OK = re.compile(r"성공\s*:\s*(\d+)")   # A.3 [1]: the HTML result without RESULT_TYPE=XML

# our codes for per-item results that did not come from Sabangnet
ITEM_MISSING_COURIER = "dispatch_missing_courier"
ITEM_MISSING_TRACKING = "dispatch_missing_tracking"
ITEM_COURIER_UNKNOWN = "courier_unknown"
ITEM_INVOICE_TOO_LONG = "invoice_too_long"
ITEM_REFUSED = "channel_rejected"    # a row Sabangnet refused; its words are the message

_DECL = re.compile(rb"""^\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._:-]+)["']""", re.I)
_DECL_TEXT = re.compile(r"^\s*<\?xml[^>]*\?>")
_TAGS = re.compile(r"<[^>]*>")


# --- small pure helpers ------------------------------------------------------------------------------------
def kst_dates(since: datetime, until: datetime) -> tuple[str, str]:
    """``ORD_ST_DATE``/``ORD_ED_DATE`` (inclusive, YYYYMMDD in KST) covering the half-open ``[since, until)``."""
    if since.tzinfo is None or until.tzinfo is None:
        raise ValueError("collection windows need timezone-aware datetimes")
    first = since.astimezone(KST).date()
    last = (until - timedelta(microseconds=1)).astimezone(KST).date()
    return f"{first:%Y%m%d}", f"{max(first, last):%Y%m%d}"


def parse_kst(value: str) -> datetime | None:
    """``YYYYMMDD`` or ``YYYYMMDDhhmm[ss]`` (separators tolerated), Korean time -> aware UTC; "" -> None."""
    digits = re.sub(r"[\s\-:./T]", "", value)
    if not digits:
        return None
    formats = {8: "%Y%m%d", 12: "%Y%m%d%H%M", 14: "%Y%m%d%H%M%S"}
    if not digits.isdigit() or len(digits) not in formats:
        raise ValueError(f"not a Sabangnet date: {value!r}")
    return datetime.strptime(digits, formats[len(digits)]).replace(tzinfo=KST).astimezone(UTC)


def normalize_invoice(tracking_number: str) -> str:
    """``TAK_INVOICE``: the waybill number without hyphens and spaces (A.3: clients strip them)."""
    return re.sub(r"[\s\-]", "", tracking_number)


def product_code(product_id: str, sku_id: str) -> str:
    """품번코드-단품코드: ``SKU_ID`` as is when it already holds both (``123456-0001``), ``PRODUCT_ID-SKU_ID``
    when it is a bare 단품코드, ``PRODUCT_ID`` alone for a product without options."""
    product_id, sku_id = product_id.strip(), sku_id.strip()
    if "-" in sku_id:
        return sku_id
    if sku_id:
        return f"{product_id}-{sku_id}" if product_id else ""
    return product_id


def line_status(value: str) -> tuple[str, LineStatus]:
    """(label, our status) from ``ORDER_STATUS`` as a label (replies) or a code. Unknown: ``ChannelBadReply``."""
    text = value.strip().lstrip("'")
    found = STATUSES.get(text) or _BY_LABEL.get(text)
    if found is None:
        raise ChannelBadReply(reason="unknown_status", value=text[:40],
                              detail=f"unknown Sabangnet ORDER_STATUS {text[:40]!r}")
    return found


def _cdata(value: str) -> str:
    return "<![CDATA[" + value.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def build_request(root: str, header: Sequence[tuple[str, str]], rows: Sequence[Sequence[tuple[str, str]]] = (),
                  ) -> bytes:
    """A request XML: EUC-KR with that declaration, every value in CDATA, fields directly under DATA."""
    parts = ['<?xml version="1.0" encoding="EUC-KR"?>', f"<{root}>", "<HEADER>"]
    parts += [f"\t<{tag}>{_cdata(value)}</{tag}>" for tag, value in header]
    parts.append("</HEADER>")
    for row in rows:
        parts.append("<DATA>")
        parts += [f"\t<{tag}>{_cdata(value)}</{tag}>" for tag, value in row]
        parts.append("</DATA>")
    parts.append(f"</{root}>")
    text = "\n".join(parts) + "\n"
    try:
        return text.encode("euc-kr")
    except UnicodeEncodeError as exc:
        bad = exc.object[exc.start:exc.end]
        raise ChannelError(reason="not_euc_kr",
                           detail=f"a request value holds {bad!r}, which EUC-KR cannot carry") from None


# --- reading replies ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Reply:
    """A reply that passed the checks: HEADER values and one dict per DATA (values stripped)."""

    header: Mapping[str, str]
    rows: Sequence[Mapping[str, str]]


def decode_reply(content: bytes, http_charset: str | None = None) -> str:
    """Bytes -> text: the XML declaration's encoding (else the HTTP charset), then euc-kr, cp949, utf-8."""
    if content.startswith(codecs.BOM_UTF8):
        content, declared = content[3:], "utf-8"
    else:
        match = _DECL.match(content)
        declared = match.group(1).decode("ascii") if match else (http_charset or "")
    tried: list[str] = []
    for name in (declared, "euc-kr", "cp949", "utf-8"):
        try:
            codec = codecs.lookup(name).name if name else ""
        except LookupError:
            continue
        if not codec or codec in tried:
            continue
        tried.append(codec)
        try:
            return content.decode(codec)
        except UnicodeDecodeError:
            continue
    raise ChannelBadReply(reason="undecodable", detail=f"reply is neither {', '.join(tried)} "
                                                       f"({len(content)} bytes)")


def refusal(text: str, where: str, redact: Iterable[str] = ()) -> ChannelError:
    """Sabangnet's own words refusing a call, as the typed error people will read."""
    message = shortened(redacted(text, redact))
    detail = f"{where}: Sabangnet refused the call: {message!r}"
    if any(hint in text for hint in FETCH_FAILED_HINTS):
        return ChannelRejected(reason="xml_unreachable", message=message, detail=detail)
    if any(hint in text for hint in MAINTENANCE_HINTS):
        return ChannelTransientError(reason="maintenance", message=message, detail=detail)
    if AUTH_HINTS.search(text):
        return ChannelAuthError(reason="refused", message=message, detail=detail)
    return ChannelRejected(reason="refused", message=message, detail=detail)


_HEAD = re.compile(r"<(head|script|style)\b.*?</\1\s*>", re.I | re.S)


def read_sabangnet_problem(response: httpx.Response) -> ApiProblem:
    """An HTTP error answer's words: Sabangnet's pages are EUC-KR text or HTML, never JSON, so the generic
    JSON reader would drop them and the person would read "login failed" without Sabangnet's reason."""
    try:
        text = decode_reply(response.content, response.charset_encoding)
    except ChannelBadReply:
        return ApiProblem()
    return ApiProblem(message=shortened(html.unescape(_TAGS.sub(" ", _HEAD.sub(" ", text)))))


def read_reply(content: bytes, root_tag: str, *, http_charset: str | None = None, where: str = "",
               redact: Iterable[str] = ()) -> Reply:
    """Check and read one reply of the endpoint whose root is ``root_tag``. Raises ``refusal(...)`` for
    Sabangnet's error texts and ``ChannelBadReply`` for anything malformed; never returns part of a reply."""
    redact = tuple(redact)
    where = where or root_tag
    text = decode_reply(content, http_charset).lstrip("\ufeff \t\r\n")
    if not text:
        raise ChannelBadReply(reason="empty", detail=f"{where}: empty reply")
    if not text.startswith("<"):  # the legacy error style: plain text (A.2 [1])
        raise refusal(text, where, redact)
    head = text[:200].upper()
    root_at = text.find(f"<{root_tag}")
    if "<!DOCTYPE" in (text[:root_at] if root_at >= 0 else text[:4096]).upper():
        words = shortened(_TAGS.sub(" ", text)) if root_at < 0 else ""
        if words:  # an HTML error page (<!DOCTYPE html>...): its words, never parsed
            raise refusal(words, where, redact)
        raise ChannelBadReply(reason="doctype", detail=f"{where}: reply declares a DOCTYPE; not parsed")
    body = _DECL_TEXT.sub("", text, count=1)
    looks_xml = head.startswith("<?XML") or head.startswith(f"<{root_tag.upper()}")
    try:
        root = ET.fromstring(body)
    except ET.ParseError as exc:
        if not looks_xml:  # an HTML-ish error page, e.g. <script>alert('...')</script>
            words = shortened(_TAGS.sub(" ", text))
            if words:
                raise refusal(words, where, redact) from None
        raise ChannelBadReply(reason="malformed", detail=f"{where}: not well-formed XML ({exc})") from None
    if root.tag != root_tag:
        words = shortened(" ".join(root.itertext()))
        if root.find("HEADER") is None and words:
            raise refusal(words, where, redact)
        raise ChannelBadReply(reason="unexpected_root", detail=f"{where}: root <{root.tag[:40]}>, not <{root_tag}>")
    header_el = root.find("HEADER")
    for tag in ERROR_TAGS:
        for holder in (header_el, root):
            message = (holder.findtext(tag) or "").strip() if holder is not None else ""
            if message:
                raise refusal(message, where, redact)
    if header_el is None:
        raise ChannelBadReply(reason="no_header", detail=f"{where}: reply without HEADER")
    header = {child.tag: (child.text or "").strip() for child in header_el}
    rows = [{child.tag: (child.text or "").strip() for child in data} for data in root.findall("DATA")]
    total = header.get("TOTAL_COUNT", "")
    if total:
        if not total.isdigit():
            raise ChannelBadReply(reason="bad_field", field="HEADER.TOTAL_COUNT",
                                  detail=f"{where}: TOTAL_COUNT {total[:20]!r} is not a number")
        if int(total) != len(rows):
            raise ChannelBadReply(reason="count_mismatch", detail=f"{where}: TOTAL_COUNT {total} but {len(rows)} "
                                                                  "DATA rows (cut short?)")
    return Reply(header, rows)


class _Row:
    """One DATA row, with its position for error messages."""

    def __init__(self, values: Mapping[str, str], index: int) -> None:
        self.values = values
        self.index = index

    def text(self, name: str) -> str:
        return self.values.get(name, "")

    def required(self, name: str) -> str:
        value = self.values.get(name, "")
        if not value:
            raise self.bad(name, "a value", value)
        return value

    def bad(self, name: str, expected: str, got: str) -> ChannelBadReply:
        shown = "nothing" if not got else repr(got[:60])
        return ChannelBadReply(reason="bad_field", field=f"DATA[{self.index}].{name}",
                               detail=f"DATA[{self.index}].{name}: expected {expected}, got {shown}")


def _line(row: _Row, overrides: Mapping[str, str] | None) -> LineRecord:
    idx = row.required("IDX")
    label, status = line_status(row.required("ORDER_STATUS"))
    code = product_code(row.text("PRODUCT_ID"), row.text("SKU_ID"))
    if not code:
        raise row.bad("PRODUCT_ID", "a 품번코드 (with SKU_ID)", row.text("PRODUCT_ID"))
    count = row.required("SALE_CNT")
    if not count.isdigit() or int(count) <= 0:
        raise row.bad("SALE_CNT", "a positive whole number", count)
    tracking = row.text("INVOICE_NO")
    return LineRecord(
        product_order_id=idx,
        product_code=code,
        option_code="",
        product_name=row.text("P_PRODUCT_NAME") or row.text("PRODUCT_NAME"),
        option_name=row.text("P_SKU_VALUE") or row.text("SKU_VALUE"),
        quantity=int(count),
        status=status,
        channel_status=label,
        courier_code=from_channel(row.text("DELIVERY_ID"), ChannelKind.SABANGNET, overrides) if tracking else "",
        tracking_number=tracking,
    )


def _idx_key(idx: str) -> tuple[int, str]:
    return (len(idx), idx) if idx.isdigit() else (1 << 30, idx)


def orders_from_rows(rows: Iterable[Mapping[str, str]], overrides: Mapping[str, str] | None = None,
                     ) -> list[OrderRecord]:
    """Collection rows -> one ``OrderRecord`` per order number, in first-seen order (Sabangnet sorts rows by
    recipient, so orders for one address sit together).

    - rows are de-duplicated by ``IDX`` (every call returns every matching row again; the first one counts);
    - ``order_no`` = ``ORDER_ID``, or ``ORDER_ID@MALL_ID`` when the mall is named (the same mall order number
      can exist in two malls; a prefix search by the mall's number still finds it);
    - order fields come from the order's first row: recipient ``RECEIVE_NAME``, phone ``RECEIVE_CEL`` else
      ``RECEIVE_TEL``, ``RECEIVE_ZIPCODE``, ``RECEIVE_ADDR``, message ``DELV_MSG``, buyer ``USER_NAME``,
      ``ordered_at`` from ``ORDER_DATE`` (KST). Sabangnet has no payment time: ``paid_at`` is None;
    - lines: see ``_line`` (product code 품번-단품, option code empty, status from the label or code).
    Anything off (unknown status, no quantity, a bad date) raises ``ChannelBadReply``: nothing is returned.
    """
    seen: set[str] = set()
    grouped: dict[str, list[tuple[_Row, LineRecord, datetime | None]]] = {}
    for i, values in enumerate(rows):
        row = _Row(values, i)
        idx = row.required("IDX")
        if idx in seen:
            continue
        seen.add(idx)
        line = _line(row, overrides)
        try:
            ordered_at = parse_kst(row.text("ORDER_DATE"))
        except ValueError:
            raise row.bad("ORDER_DATE", "YYYYMMDD[hhmmss]", row.text("ORDER_DATE")) from None
        order_id, mall = row.required("ORDER_ID"), row.text("MALL_ID")
        grouped.setdefault(f"{order_id}@{mall}" if mall else order_id, []).append((row, line, ordered_at))
    records = []
    for order_no, entries in grouped.items():
        first, _, ordered_at = entries[0]
        records.append(OrderRecord(
            order_no=order_no,
            buyer_name=first.text("USER_NAME"),
            recipient_name=first.text("RECEIVE_NAME"),
            recipient_phone=domestic(first.text("RECEIVE_CEL") or first.text("RECEIVE_TEL")),
            zip_code=first.text("RECEIVE_ZIPCODE"),
            address=first.text("RECEIVE_ADDR"),
            delivery_message=first.text("DELV_MSG"),
            ordered_at=ordered_at,
            paid_at=None,
            lines=tuple(sorted((line for _, line, _ in entries), key=lambda ln: _idx_key(ln.product_order_id))),
        ))
    return records


# --- the channel --------------------------------------------------------------------------------------------
class _Send(NamedTuple):
    pid: str
    tak_code: str
    tak_invoice: str


@dataclass(frozen=True)
class _Current:
    line: LineRecord
    delivery_id: str
    invoice: str   # normalised

    def shows(self, send: _Send) -> bool:
        return bool(self.invoice) and self.invoice == send.tak_invoice and self.delivery_id == send.tak_code


class SabangnetChannel(Closing):
    """A Sabangnet account (admin login id + 연동키) as an order source, over the legacy RTL_API."""

    kind = ChannelKind.SABANGNET
    utf8_replies = True   # <LANG>UTF-8</LANG> on order reads (A.1 [C]); False: EUC-KR answers

    def __init__(self, company_id: str, auth_key: str, *, api_url: str, publisher: XmlPublisher,
                 courier_overrides: Mapping[str, str] | None = None, lookback_days: int = 30,
                 **client_options: Any) -> None:
        """``api_url`` is the account's admin server (``https://sbadmin13.sabangnet.co.kr``, with or without
        ``/RTL_API``). ``publisher`` makes the request XML reachable (it is not closed by ``close``: one host
        may serve several accounts). ``courier_overrides`` (our code -> Sabangnet code) win over the table.
        ``client_options`` go to ``HttpClient`` (timeout, retry, limiters, sleep, clock, wall, rng,
        transport; rate/burst default to 1/s, 2)."""
        if lookback_days < 1:
            raise ValueError("lookback_days must be at least 1")
        self.company_id = company_id.strip()
        self.__key = auth_key.strip()
        self.publisher = publisher
        self.courier_overrides = dict(courier_overrides or {})
        self.lookback_days = lookback_days
        base = api_url.strip().rstrip("/")
        if not base.lower().endswith("/rtl_api"):
            base += "/RTL_API"
        self._wall: Callable[[], float] = client_options.get("wall", time.time)
        options: dict[str, Any] = {"timeout": DEFAULT_TIMEOUT, "rate": 1.0, "burst": 2.0,
                                   "problem_reader": read_sabangnet_problem,
                                   "limit_key": f"{httpx.URL(base).host}#sabangnet#{self.company_id}",
                                   "headers": {"Accept": "application/xml, text/xml, text/html;q=0.5"}}
        options.update(client_options)
        self._http = HttpClient(base, **options)
        self._warned_private_url = False

    def __repr__(self) -> str:
        return f"SabangnetChannel(company_id={self.company_id!r}, api_url={self._http.base_url!r})"

    def close(self) -> None:
        self._http.close()

    # the wire ------------------------------------------------------------------------------------------------
    def _header(self, *extra: tuple[str, str]) -> list[tuple[str, str]]:
        if not self.company_id or not self.__key:
            raise ChannelAuthError(reason="missing_credentials",
                                   detail="Sabangnet needs the admin login id and the 연동키 (auth key)")
        today = datetime.fromtimestamp(self._wall(), KST)
        return [("SEND_COMPAYNY_ID", self.company_id), ("SEND_AUTH_KEY", self.__key),
                ("SEND_DATE", f"{today:%Y%m%d}"), *extra]

    def _exchange(self, endpoint: str, xml: bytes, *, idempotent: bool) -> httpx.Response:
        """Publish, GET, unpublish. A ``ChannelError`` of the GET carries ``xml_fetched`` (True/False when
        the publisher can tell whether Sabangnet read the XML, else None)."""
        with contextlib.ExitStack() as stack:
            try:
                url = stack.enter_context(self.publisher.publish(xml))
            except XmlRelayError:
                raise
            except (ChannelError, OSError, httpx.HTTPError, RuntimeError, ValueError) as exc:
                raise XmlRelayError(reason="xml_relay", detail=f"publishing the request XML failed: "
                                                               f"{type(exc).__name__}") from None
            self._warn_if_private(url)
            try:
                return self._http.request("GET", f"{endpoint}.html", params={"xml_url": url},
                                          idempotent=idempotent, redact=(self.__key,))
            except ChannelError as exc:
                probe = getattr(self.publisher, "fetched", None)
                fetched: bool | None = None
                if callable(probe):
                    with contextlib.suppress(Exception):
                        fetched = probe(url)
                exc.xml_fetched = fetched  # type: ignore[attr-defined]
                raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _call(self, endpoint: str, header: Sequence[tuple[str, str]], rows: Sequence[Sequence[tuple[str, str]]] = (),
              *, idempotent: bool = True) -> Reply:
        xml = build_request(ROOTS[endpoint], header, rows)
        response = self._exchange(endpoint, xml, idempotent=idempotent)
        return read_reply(response.content, ROOTS[endpoint], http_charset=response.charset_encoding,
                          where=f"{endpoint}.html", redact=(self.__key,))

    def _warn_if_private(self, url: str) -> None:
        host = httpx.URL(url).host
        if not self._warned_private_url and (host in ("localhost", "") or host.startswith(("127.", "10.", "192.168."))):
            self._warned_private_url = True
            # info, not a warning: Sabangnet's own refusal ("XML 파일을 읽을 수 없습니다") tells people
            log.info("sabangnet %s: the request XML is published at a private address (%s); the real "
                     "Sabangnet cannot fetch it from there", self.company_id, host)

    def _orders(self, start: str, end: str, fields: Sequence[str]) -> Reply:
        data = [("ORD_ST_DATE", start), ("ORD_ED_DATE", end), ("ORD_FIELD", "|".join(fields))]
        if self.utf8_replies:
            data.append(("LANG", "UTF-8"))
        return self._call(ORDERS, self._header(), [data])

    # connection test ---------------------------------------------------------------------------------------
    def test_connection(self) -> None:
        """``xml_mall_info``: proves the id, the key, the relay (Sabangnet fetched our XML) and the server.
        Raises ``ChannelAuthError`` (refused), ``ChannelRejected`` (``reason="xml_unreachable"``: Sabangnet
        could not read the published XML), ``XmlRelayError`` / ``ChannelTransientError`` … ."""
        reply = self._call(MALLS, self._header())
        log.info("sabangnet %s: connection ok, %d mall(s)", self.company_id, len(reply.rows))

    # collection ----------------------------------------------------------------------------------------------
    def collect(self, since: datetime, until: datetime) -> list[OrderRecord]:
        """Order lines *collected into Sabangnet* on the KST dates covering ``[since, until)`` (the date filter
        of A.2 is that date, not the mall's order date), every status included (cancellations too). Only
        orders confirmed in Sabangnet's 주문서확정관리 come back.

        **Side effect**: Sabangnet turns every returned 신규주문 (001) into 주문확인 (002). All or nothing: a
        refusal or a bad reply raises and nothing is returned. Mapping: ``orders_from_rows``."""
        if since.tzinfo is None or until.tzinfo is None:
            raise ValueError("collection windows need timezone-aware datetimes")
        if until <= since:
            return []
        start, end = kst_dates(since, until)
        reply = self._orders(start, end, COLLECT_FIELDS)
        records = orders_from_rows(reply.rows, self.courier_overrides)
        log.info("sabangnet %s: %s..%s -> %d row(s), %d order(s), %d line(s)", self.company_id, start, end,
                 len(reply.rows), len(records), sum(len(r.lines) for r in records))
        return records

    def confirm(self, product_order_ids: Iterable[str]) -> WriteResult:
        """There is no 발주확인 call: collection itself turned 001 into 002. Every id is reported done."""
        ids = list(dict.fromkeys(product_order_ids))
        return WriteResult({pid: ItemResult(pid, True, already_done=True) for pid in ids})

    # reading current state ---------------------------------------------------------------------------------
    def lookup(self, product_order_ids: Iterable[str]) -> dict[str, LineRecord]:
        """The current state of these order lines (IDX), for the outbox's read-before-send.

        The legacy API has no per-order read: this is one ``xml_order_info`` call over the last
        ``lookback_days`` (collected dates, KST) with a short field list, keeping the asked IDX only; lines
        collected earlier than that are absent. Like collection, **it turns 신규주문 (001) into 주문확인 (002)**
        for every line of that window."""
        return {pid: cur.line for pid, cur in self._current(product_order_ids).items()}

    def _current(self, product_order_ids: Iterable[str]) -> dict[str, _Current]:
        wanted = set(product_order_ids)
        if not wanted:
            return {}
        today = datetime.fromtimestamp(self._wall(), KST).date()
        reply = self._orders(f"{today - timedelta(days=self.lookback_days):%Y%m%d}", f"{today:%Y%m%d}",
                             LOOKUP_FIELDS)
        found: dict[str, _Current] = {}
        for i, values in enumerate(reply.rows):
            row = _Row(values, i)
            idx = row.required("IDX")
            if idx in wanted and idx not in found:
                found[idx] = _Current(_line(row, self.courier_overrides), row.text("DELIVERY_ID"),
                                      normalize_invoice(row.text("INVOICE_NO")))
        return found

    # dispatch ------------------------------------------------------------------------------------------------
    def dispatch(self, items: Iterable[DispatchItem | tuple[str, str, str, datetime]], *,
                 checked: bool = False) -> WriteResult:
        """송장등록 (``xml_order_invoice``, ``RESULT_TYPE=XML``, never ``SEND_INV_EDIT_YN=Y``): a result per
        item, in the order given. ``courier_code`` is ours, translated (a courier Sabangnet has no code for
        fails ``courier_unknown``); the waybill goes without hyphens and spaces and may have at most 15
        characters (``invoice_too_long``). One upload per 100 rows; a row Sabangnet refuses fails with its
        words (``channel_rejected``, not retryable).

        Exactly once: unless ``checked`` (the caller has just read them), lines already showing our courier
        and waybill are reported done without being sent. An upload whose answer is lost (timeout, 5xx, a
        cut or unreadable reply, a row missing) is not sent again blind: when the publisher shows Sabangnet
        never fetched the XML its items are simply retryable; otherwise the lines are read back (``lookup``)
        and those showing our waybill are done, the rest retryable.

        Raises ``ChannelAuthError`` at any point and any ``ChannelError`` of the read-ahead (nothing sent)."""
        wanted = [DispatchItem(*it) for it in items]
        seen: set[str] = set()
        for it in wanted:
            if it.product_order_id in seen:
                raise ValueError(f"order line {it.product_order_id} given twice")
            seen.add(it.product_order_id)
        results: dict[str, ItemResult] = {}
        sendable: list[_Send] = []
        for it in wanted:
            pid, invoice = it.product_order_id, normalize_invoice(it.tracking_number)
            if not it.courier_code.strip():
                results[pid] = ItemResult(pid, False, ITEM_MISSING_COURIER)
            elif not invoice:
                results[pid] = ItemResult(pid, False, ITEM_MISSING_TRACKING)
            elif len(invoice) > MAX_INVOICE_LEN:
                results[pid] = ItemResult(pid, False, ITEM_INVOICE_TOO_LONG, message=invoice)
            else:
                try:
                    code = to_channel(it.courier_code.strip(), ChannelKind.SABANGNET, self.courier_overrides)
                except UnknownCourier:
                    results[pid] = ItemResult(pid, False, ITEM_COURIER_UNKNOWN, message=it.courier_code.strip())
                    continue
                sendable.append(_Send(pid, code, invoice))
        to_send = sendable
        if sendable and not checked:
            current = self._current(s.pid for s in sendable)
            to_send = []
            for s in sendable:
                if s.pid in current and current[s.pid].shows(s):
                    results[s.pid] = ItemResult(s.pid, True, already_done=True)
                else:
                    to_send.append(s)
        stop: ChannelError | None = None
        uncertain: list[tuple[_Send, ChannelError]] = []
        for start in range(0, len(to_send), MAX_INVOICE_ROWS):
            batch = to_send[start:start + MAX_INVOICE_ROWS]
            if stop is None:
                try:
                    results.update(self._upload(batch, uncertain))
                    continue
                except ChannelAuthError:
                    raise
                except ChannelRejected as exc:
                    if exc.params.get("reason") != "xml_unreachable":  # the upload itself refused
                        results.update(_batch_failed(batch, exc, retryable=False))
                        continue
                    stop = exc  # Sabangnet could not read our XML: nothing applied; the relay needs a look
                except (XmlRelayError, ChannelRateLimited) as exc:  # nothing reached Sabangnet
                    stop = exc
                except (ChannelTransientError, ChannelBadReply) as exc:
                    if exc.params.get("reason") == "maintenance" or getattr(exc, "xml_fetched", None) is False:
                        stop = exc  # Sabangnet did not take it (down for maintenance / never read our XML)
                    else:
                        uncertain.extend((s, exc) for s in batch)
                        stop = exc if isinstance(exc, ChannelTransientError) else None
                        continue
                except ChannelError as exc:  # our request could not be built or sent (settings): nothing sent
                    stop = exc
            results.update(_batch_failed(batch, stop, retryable=True))
        if uncertain:
            results.update(self._settle(uncertain))
        return WriteResult({it.product_order_id: results[it.product_order_id] for it in wanted})

    def _upload(self, batch: Sequence[_Send], uncertain: list[tuple[_Send, ChannelError]]) -> dict[str, ItemResult]:
        header = self._header(("SEND_INV_EDIT_YN", "N"), ("RESULT_TYPE", "XML"))
        rows = [[("SABANGNET_IDX", s.pid), ("TAK_CODE", s.tak_code), ("TAK_INVOICE", s.tak_invoice)] for s in batch]
        xml = build_request(ROOTS[INVOICE], header, rows)
        response = self._exchange(INVOICE, xml, idempotent=False)   # never repeated blind
        where = f"{INVOICE}.html"
        try:
            reply = read_reply(response.content, ROOTS[INVOICE], http_charset=response.charset_encoding,
                               where=where, redact=(self.__key,))
        except ChannelRejected as exc:
            legacy = self._legacy_result(response, batch)
            if legacy is None:
                raise
            log.info("sabangnet %s: invoice result came as legacy text (%s)", self.company_id, exc.code)
            results, unknown = legacy
            missing = ChannelBadReply(reason="legacy_result", detail=f"{where}: legacy text without a verdict")
            uncertain.extend((s, missing) for s in unknown)
            return results
        verdicts: dict[str, str] = {}
        for i, values in enumerate(reply.rows):
            row = _Row(values, i)
            verdicts.setdefault(row.required("SABANGNET_IDX"), row.text("RESULT"))
        results = {}
        no_verdict = ChannelBadReply(reason="no_result", detail=f"{where}: no RESULT for the row")
        for s in batch:
            verdict = verdicts.get(s.pid, "")
            if verdict.upper() == "SUCCESS":
                results[s.pid] = ItemResult(s.pid, True)
            elif verdict:
                results[s.pid] = ItemResult(s.pid, False, ITEM_REFUSED, message=shortened(redacted(verdict,
                                                                                            (self.__key,))))
            else:
                uncertain.append((s, no_verdict))
        return results

    def _legacy_result(self, response: httpx.Response, batch: Sequence[_Send],
                       ) -> tuple[dict[str, ItemResult], list[_Send]] | None:
        """The HTML result Sabangnet gives without ``RESULT_TYPE=XML`` (A.3 [1]): ``성공 : <IDX>`` lines. Rows
        it does not name as successes are read back rather than guessed."""
        try:
            text = decode_reply(response.content, response.charset_encoding)
        except ChannelBadReply:
            return None
        succeeded = set(LEGACY_INVOICE_OK.findall(text))
        if not succeeded and "송장" not in text:
            return None
        return ({s.pid: ItemResult(s.pid, True) for s in batch if s.pid in succeeded},
                [s for s in batch if s.pid not in succeeded])

    def _settle(self, uncertain: Sequence[tuple[_Send, ChannelError]]) -> dict[str, ItemResult]:
        log.info("sabangnet %s: outcome of %d invoice row(s) unknown (%s); reading them back", self.company_id,
                 len(uncertain), uncertain[0][1].code)
        try:
            current = self._current(s.pid for s, _ in uncertain)
        except ChannelAuthError:
            raise
        except ChannelError as exc:
            log.info("sabangnet %s: could not read them back either (%s)", self.company_id, exc.code)
            current = {}
        return {s.pid: ItemResult(s.pid, True, already_done=True) if s.pid in current and current[s.pid].shows(s)
                else _failed(s.pid, error, retryable=True) for s, error in uncertain}


def _failed(pid: str, error: ChannelError, *, retryable: bool) -> ItemResult:
    message = error.params.get("message", "")
    return ItemResult(pid, False, code=error.code, message=message if isinstance(message, str) else "",
                      retryable=retryable)


def _batch_failed(batch: Sequence[_Send], error: ChannelError | None, *, retryable: bool) -> dict[str, ItemResult]:
    assert error is not None
    return {s.pid: _failed(s.pid, error, retryable=retryable) for s in batch}

