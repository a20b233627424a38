"""A fake Sabangnet legacy RTL_API: real HTTP on 127.0.0.1, built from section "A. Sabangnet" of
``docs/marketplaces/sabangnet.md`` (not from PackDesk's client).

Like the real service, every call is a GET ``/RTL_API/<endpoint>.html?xml_url=<url-encoded URL>``; the fake
then FETCHES the request XML from ``xml_url`` (HTTP GET), decodes it as its XML declaration says (EUC-KR,
UTF-8, ...), checks the HEADER (``SEND_COMPAYNY_ID`` - the real, misspelt tag -, ``SEND_AUTH_KEY``,
``SEND_DATE``) and answers in EUC-KR (UTF-8 for order collection with ``<LANG>UTF-8</LANG>``).

Endpoints: ``xml_order_info.html`` (order collection, 001 -> 002 side effect), ``xml_order_invoice.html``
(waybill upload with the A.3 state rules) and ``xml_mall_info.html`` (connection test).

Usage::

    with FakeSabangnet() as fake:
        lines = fake.add_order(2, RECEIVE_NAME="김철수")      # two order lines, status 001 신규주문
        lines[0].idx                                           # "17117400"
        fake.api_url("xml_order_info")                         # "http://127.0.0.1:54321/RTL_API/xml_order_info.html"
        fake.company_id, fake.auth_key                         # what the client puts in HEADER

See SABANGNET_FAKE.md next to this file for the knobs and for the choices made where the spec says [?].
"""

from __future__ import annotations

import codecs
import contextlib
import http.client
import itertools
import re
import socket
import threading
import time
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlsplit

KST = timezone(timedelta(hours=9), "KST")

DEFAULT_COMPANY_ID = "packdesk"
DEFAULT_AUTH_KEY = "FaKeSaBaNgNeTaUtHkEy0123456789"

# --- contract tables (A.2, A.3) -------------------------------------------------------------------------
STATUS_LABELS: dict[str, str] = {
    "001": "신규주문", "002": "주문확인", "003": "출고대기", "004": "출고완료", "006": "배송보류",
    "007": "취소접수", "008": "교환접수", "009": "반품접수", "010": "취소완료", "011": "교환완료",
    "012": "반품완료", "021": "교환발송준비", "022": "교환발송완료", "023": "교환회수준비", "024": "교환회수완료",
    "025": "반품회수준비", "026": "반품회수완료", "999": "폐기",
}
INVOICE_STATUSES = frozenset({"002", "003", "021"})   # 주문확인, 출고대기, 교환발송준비
CANCELLED_STATUSES = frozenset({"007", "010"})

# A.3: [K] 001/002/007/037, [1] the rest. 055 (one PHP client's CJ) is deliberately absent.
COURIER_CODES: dict[str, str] = {
    "001": "CJ대한통운", "002": "롯데택배", "004": "한진택배", "005": "KGB택배", "006": "동부택배", "007": "로젠택배",
    "008": "KG옐로우캡", "009": "우체국택배", "013": "경동택배", "023": "이노지스", "037": "대신택배",
    "104": "KG로지스", "114": "CVSnet", "999": "기타",
}

# mall code (request filter MALL_ID, "shop…"/"chop…") -> mall name (MALL_ID in the response). Codes are
# invented: the spec shows the shape, not the real numbering.
DEFAULT_MALLS: dict[str, str] = {
    "shop0075": "coupang", "shop0055": "스마트스토어", "shop0003": "11번가", "chop0001": "사방넷직송",
}

# A.2 table (+ the request-side ids). Every line carries all of them ("" when unset).
KNOWN_FIELDS: tuple[str, ...] = (
    "IDX", "ORDER_ID", "MALL_ORDER_ID", "MALL_ORDER_SEQ", "MALL_ID", "MALL_USER_ID", "ACNT_REGS_SRNO",
    "PARTNER_ID", "DPARTNER_ID", "PRODUCT_ID", "SKU_ID", "COMPAYNY_GOODS_CD", "PRODUCT_NAME", "SKU_VALUE",
    "P_PRODUCT_NAME", "P_SKU_VALUE", "SKU_ALIAS", "GOODS_KEYWORD", "MODEL_NO", "MODEL_NAME", "BARCODE",
    "SALE_CNT", "P_EA", "BOX_EA", "SET_GUBUN", "RECEIVE_NAME", "RECEIVE_TEL", "RECEIVE_CEL", "RECEIVE_ZIPCODE",
    "RECEIVE_ADDR", "DELV_MSG", "DELV_MSG1", "USER_NAME", "USER_TEL", "USER_CEL", "ORDER_DATE", "REG_DATE",
    "ORD_CONFIRM_DATE", "CANCEL_DT", "RTN_DT", "CHNG_DT", "DELIVERY_ID", "INVOICE_NO", "INV_SEND_DM",
    "INV_SEND_MSG", "DELV_HOPE_DATE", *(f"ORDER_ETC_{i}" for i in range(1, 15)), "TOTAL_COST", "PAY_COST",
    "SALE_COST", "WON_COST", "MALL_WON_COST", "DELV_COST", "DELIVERY_METHOD_STR", "ORDER_STATUS",
)
_KNOWN = frozenset(KNOWN_FIELDS)

ENDPOINT_ROOTS: dict[str, str] = {
    "xml_order_info.html": "SABANG_ORDER_LIST",
    "xml_order_invoice.html": "SABANG_INV_REGI",
    "xml_mall_info.html": "SABANG_MALL_LIST",
}
_ORDER_FILTERS = ("ORDER_ID", "MALL_USER_ID", "PARTNER_ID", "DPARTNER_ID", "ACNT_REGS_SRNO")

# --- messages (the real texts are not public; these are the fake's) --------------------------------------
MSG_NO_URL = "xml_url 값이 없습니다."
MSG_FETCH = "XML 파일을 읽을 수 없습니다. 웹에서 접근 가능한 URL 또는 IP 주소가 존재해야 합니다. ({url})"
MSG_PARSE = "XML 형식이 올바르지 않습니다. ({detail})"
MSG_COMPANY = "등록되지 않은 사방넷 아이디입니다. (SEND_COMPAYNY_ID)"
MSG_KEY = "인증키가 올바르지 않습니다. 마이페이지 > 서비스 관리 > 연동키 관리에서 확인하세요."
MSG_SEND_DATE = "SEND_DATE 값이 올바르지 않습니다. (YYYYMMDD)"
MSG_REQUIRED = "필수 항목이 없습니다. ({name})"
MSG_BAD_VALUE = "{name} 값이 올바르지 않습니다."
MSG_MAINTENANCE = "사방넷 서버 점검 중입니다. 잠시 후 다시 이용해 주세요."
MSG_INTERNAL = "처리 중 오류가 발생했습니다."
# invoice rows
MSG_INV_UNKNOWN = "사방넷 주문번호가 존재하지 않습니다."
MSG_INV_CANCELLED = "취소된 주문입니다. ({label})"
MSG_INV_STATE = "송장을 등록할 수 없는 주문상태입니다. ({label})"
MSG_INV_SENT = "이미 쇼핑몰로 송장이 전송된 주문입니다."
MSG_INV_FORCED = "강제완료된 주문입니다."
MSG_INV_EXISTS = "이미 송장번호가 등록된 주문입니다. (수정은 SEND_INV_EDIT_YN=Y)"
MSG_INV_TOO_LONG = "송장번호는 {n}자리 이하로 입력하세요."
MSG_INV_COURIER = "택배사 코드가 올바르지 않습니다. ({code})"
MSG_INV_FAILED = "송장등록에 실패했습니다."

_DECL_RE = re.compile(rb"""^\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._:-]+)["']""", re.I)
_DECL_STRIP_RE = re.compile(r"^\s*<\?xml[^>]*\?>")
_DATE8 = re.compile(r"^\d{8}$")
_DATE14 = re.compile(r"^\d{14}$")
_MAX_XML = 5 * 1024 * 1024


# --- helpers --------------------------------------------------------------------------------------------
def _ymd(value: str) -> date | None:
    if not _DATE8.match(value):
        return None
    try:
        return datetime.strptime(value, "%Y%m%d").date()
    except ValueError:
        return None


def _fmt14(dt: datetime) -> str:
    return dt.astimezone(KST).strftime("%Y%m%d%H%M%S")


def _as14(value: datetime | date | str) -> str:
    """datetime (aware), date, 'YYYYMMDD' or 'YYYYMMDDhhmmss' -> 14 digits."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("naive datetime; give a timezone (e.g. tests.fakes.sabangnet.KST)")
        return _fmt14(value)
    if isinstance(value, date):
        return value.strftime("%Y%m%d") + "000000"
    text = str(value).strip()
    if _ymd(text[:8]) is None or not (len(text) == 8 or _DATE14.match(text)):
        raise ValueError(f"not a YYYYMMDD[hhmmss] date: {value!r}")
    return text if len(text) == 14 else text + "000000"


def _cdata(value: str) -> str:
    return "<![CDATA[" + value.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def _esc(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _text(el: ET.Element | None, name: str) -> str:
    if el is None:
        return ""
    child = el.find(name)
    return (child.text or "").strip() if child is not None else ""


def _str(value: Any) -> str:
    return "" if value is None else str(value)


def decode_xml(raw: bytes, http_charset: str | None = None, *, euc_kr_codec: str = "euc_kr") -> ET.Element:
    """Decode request/response XML bytes as their declaration says, then parse. (expat refuses multi-byte
    encodings such as EUC-KR on bytes, so the declaration is honoured here and stripped before parsing.)
    Raises ValueError with a short reason."""
    if raw.startswith(codecs.BOM_UTF8):
        raw, encoding = raw[3:], "utf-8"
    else:
        m = _DECL_RE.match(raw)
        encoding = m.group(1).decode("ascii") if m else (http_charset or "utf-8")
    try:
        codec = codecs.lookup(encoding).name
    except LookupError:
        raise ValueError(f"unknown encoding {encoding}") from None
    if codec == "euc_kr":
        codec = euc_kr_codec
    try:
        text = raw.decode(codec)
    except UnicodeDecodeError as exc:
        raise ValueError(f"bytes are not {encoding}: {exc.reason}") from None
    try:
        return ET.fromstring(_DECL_STRIP_RE.sub("", text, count=1))
    except ET.ParseError as exc:
        raise ValueError(f"parse error: {exc}") from None


@dataclass
class RequestRecord:
    """One request to the fake. ``status`` is None for a dropped connection."""
    method: str
    path: str                              # e.g. /RTL_API/xml_order_info.html
    endpoint: str                          # e.g. xml_order_info.html ("" outside /RTL_API/)
    query: dict[str, str]                  # first value of each key (xml_url already decoded)
    raw_query: str
    at: datetime
    xml_url: str | None = None
    fetch_status: int | None = None        # HTTP status of the xml_url fetch (None: not fetched / no answer)
    fetch_error: str | None = None
    xml_bytes: bytes | None = None         # the request XML exactly as fetched
    root: ET.Element | None = None         # parsed request XML
    error: str | None = None               # the request-level error answered, if any
    status: int | None = None
    injected: str | None = None            # fail_next kind applied, if any

    def header(self, name: str) -> str:
        return _text(self.root.find("HEADER") if self.root is not None else None, name)

    def data(self) -> list[dict[str, str]]:
        if self.root is None:
            return []
        return [{c.tag: (c.text or "").strip() for c in d} for d in self.root.findall("DATA")]


@dataclass(frozen=True)
class SeededLine:
    """An order line as seeded (``fields`` is a snapshot; use ``fake.line(idx)`` for the current state)."""
    idx: str
    order_id: str
    mall_code: str
    mall_id: str                           # the mall name, as MALL_ID comes back in collection answers
    fields: dict[str, str]


@dataclass(frozen=True)
class LineState:
    idx: str
    status: str                            # code, e.g. "003"
    status_label: str                      # e.g. "출고대기"
    delivery_id: str                       # courier code (TAK_CODE) or ""
    invoice_no: str                        # waybill (TAK_INVOICE) or ""
    invoice_sent: bool                     # waybill already sent to the mall
    force_completed: bool
    confirmed: bool                        # confirmed in 주문서확정관리 (else never collected)
    mall_code: str
    fields: dict[str, str]


@dataclass
class _Line:
    idx: str
    mall_code: str
    status: str
    fields: dict[str, str]
    confirmed: bool = True
    invoice_sent: bool = False
    force_completed: bool = False


@dataclass
class _Injection:
    endpoint: str | None
    kind: str | int
    remaining: int
    delay: float | None
    process: bool
    message: str | None


@dataclass
class _Reply:
    status: int
    body: bytes
    content_type: str = "text/xml; charset=EUC-KR"
    truncate_at: int | None = None         # send only this many body bytes, then close


class _RequestError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


_CATALOGUE: tuple[dict[str, Any], ...] = (
    {"PRODUCT_ID": "100234", "SKU_ID": "100234-0001", "COMPAYNY_GOODS_CD": "MUG-WH", "PRODUCT_NAME": "머그컵 350ml",
     "SKU_VALUE": "색상=화이트", "BARCODE": "8801234000011", "SALE_COST": 9000},
    {"PRODUCT_ID": "100235", "SKU_ID": "100235-0003", "COMPAYNY_GOODS_CD": "TUM-500-BK",
     "PRODUCT_NAME": "스테인리스 텀블러", "SKU_VALUE": "용량=500ml, 색상=블랙", "BARCODE": "8801234000035",
     "SALE_COST": 15000},
    {"PRODUCT_ID": "100236", "SKU_ID": "", "COMPAYNY_GOODS_CD": "BAG-01", "PRODUCT_NAME": "캔버스 에코백",   # no option
     "SKU_VALUE": "", "BARCODE": "8801234000042", "SALE_COST": 12000},
)
_DEFAULT_PEOPLE: dict[str, str] = {
    "USER_NAME": "홍길동", "USER_TEL": "02-1234-5678", "USER_CEL": "010-1234-5678",
    "RECEIVE_NAME": "홍길동", "RECEIVE_TEL": "02-1234-5678", "RECEIVE_CEL": "010-1234-5678",
    "RECEIVE_ZIPCODE": "04524", "RECEIVE_ADDR": "서울특별시 중구 세종대로 110 101동 1001호",
    "DELV_MSG": "부재 시 문 앞에 놓아주세요", "MALL_USER_ID": "packdesk_seller", "ACNT_REGS_SRNO": "1",
    "DELV_COST": "0", "DELIVERY_METHOD_STR": "선결제",
}


# --- the fake -------------------------------------------------------------------------------------------
class FakeSabangnet:
    """Context manager. ``api_url(endpoint)`` is where the client sends its GET; ``company_id`` and
    ``auth_key`` go in the request XML HEADER. See SABANGNET_FAKE.md for every knob."""

    def __init__(
        self,
        *,
        company_id: str = DEFAULT_COMPANY_ID,
        auth_key: str = DEFAULT_AUTH_KEY,
        clock: Callable[[], float] | None = None,
        first_idx: int = 17117400,
        malls: Mapping[str, str] | None = None,
        courier_codes: Iterable[str] | None = tuple(COURIER_CODES),
        max_invoice_len: int = 15,
        identical_resend_ok: bool = False,
        label_after_confirm: bool = True,
        cdata_values: bool = True,
        strict_fields: bool = False,
        error_style: str = "text",
        error_tag: str = "ERR_MSG",
        send_date_max_skew_days: int | None = None,
        accept_cp949_requests: bool = False,
        response_codec: str = "cp949",
        fetch_timeout: float = 5.0,
        timeout_delay: float = 5.0,
        raise_server_errors: bool = True,
    ) -> None:
        if error_style not in ("text", "xml"):
            raise ValueError("error_style is 'text' or 'xml'")
        self.company_id = company_id
        self.auth_key = auth_key
        self.clock: Callable[[], float] = clock or time.time
        self.malls: dict[str, str] = dict(DEFAULT_MALLS if malls is None else malls)
        self.courier_codes: frozenset[str] | None = None if courier_codes is None else frozenset(courier_codes)
        self.max_invoice_len = max_invoice_len
        self.identical_resend_ok = identical_resend_ok
        self.label_after_confirm = label_after_confirm
        self.cdata_values = cdata_values
        self.strict_fields = strict_fields
        self.error_style = error_style
        self.error_tag = error_tag
        self.send_date_max_skew_days = send_date_max_skew_days
        self.accept_cp949_requests = accept_cp949_requests
        self.response_codec = response_codec
        self.fetch_timeout = fetch_timeout
        self.timeout_delay = timeout_delay
        self.raise_server_errors = raise_server_errors
        self.port = 0

        self._lock = threading.RLock()
        self._idx_seq = itertools.count(first_idx)
        self._order_seq = itertools.count(1)
        self._lines: dict[str, _Line] = {}
        self._requests: list[RequestRecord] = []
        self._invoices: list[dict[str, Any]] = []
        self._status_changes: list[dict[str, Any]] = []
        self._server_errors: list[BaseException] = []
        self._injections: list[_Injection] = []
        self._invoice_failures: dict[str, list[Any]] = {}   # idx -> [message, remaining or None]
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle --------------------------------------------------------------------------------------
    def __enter__(self) -> FakeSabangnet:
        self.start()
        return self

    def __exit__(self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()
        if e is None and self.raise_server_errors and self._server_errors:
            raise AssertionError(f"the fake Sabangnet server crashed: {self._server_errors[0]!r}") \
                from self._server_errors[0]

    def start(self) -> None:
        assert self._server is None, "already running"
        self._stopping.clear()
        self._server = _Server(self, self.port)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02},
                                        name="fake-sabangnet", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop listening, cut idle keep-alive connections and late answers short, join every thread."""
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return
        self._stopping.set()
        server.shutdown()
        server.close_connections()
        server.server_close()   # joins handler threads
        thread.join()
        self._server = self._thread = None

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>`` - stands for ``https://sbadminNN.sabangnet.co.kr``."""
        return f"http://127.0.0.1:{self.port}"

    def api_url(self, endpoint: str) -> str:
        """``api_url("xml_order_info")`` -> ``…/RTL_API/xml_order_info.html``."""
        name = endpoint if endpoint.endswith(".html") else endpoint + ".html"
        return f"{self.base_url}/RTL_API/{name}"

    def call_url(self, endpoint: str, xml_url: str) -> str:
        """The full GET URL with ``xml_url`` URL-encoded (for the fake's own tests)."""
        return f"{self.api_url(endpoint)}?xml_url={quote(xml_url, safe='')}"

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.clock(), KST)

    # -- seeding ----------------------------------------------------------------------------------------
    def add_order(
        self,
        lines: int | Sequence[Mapping[str, Any]] = 1,
        *,
        order_id: str | None = None,
        mall_id: str | None = None,
        status: str = "001",
        reg_date: datetime | date | str | None = None,
        confirmed: bool = True,
        **fields: Any,
    ) -> list[SeededLine]:
        """One mall order with ``lines`` order lines (a count, or one mapping of fields per line).

        Field names are Sabangnet's (case-insensitive: ``RECEIVE_NAME=`` or ``receive_name=``). ``**fields``
        apply to every line, per-line mappings override them. Per line, ``ORDER_STATUS`` is a code and
        ``MALL_ID`` a mall code or name. ``reg_date`` is the date collected into Sabangnet (the date the
        collection filter uses); default now."""
        common = {k.upper(): v for k, v in fields.items()}
        per_line = [{} for _ in range(lines)] if isinstance(lines, int) else [
            {k.upper(): v for k, v in item.items()} for item in lines]
        if not per_line:
            raise ValueError("an order needs at least one line")
        with self._lock:
            n = next(self._order_seq)
            oid = _str(order_id or common.pop("ORDER_ID", None) or f"{self.now():%Y%m%d}{n:06d}")
            common.pop("ORDER_ID", None)
            reg = _as14(reg_date if reg_date is not None else common.pop("REG_DATE", None) or self.now())
            common.pop("REG_DATE", None)
            default_mall = mall_id or common.pop("MALL_ID", None) or "shop0075"
            common.pop("MALL_ID", None)
            default_status = _str(common.pop("ORDER_STATUS", None) or status)
            seeded: list[SeededLine] = []
            for i, item in enumerate(per_line):
                if "IDX" in item or "IDX" in common:
                    raise ValueError("IDX is assigned by the fake")
                code = _str(item.pop("ORDER_STATUS", None) or default_status)
                if code not in STATUS_LABELS:
                    raise ValueError(f"unknown order status code {code!r}")
                mall_code, mall_name = self._mall(_str(item.pop("MALL_ID", None) or default_mall))
                line_reg = _as14(item.pop("REG_DATE")) if "REG_DATE" in item else reg
                product = _CATALOGUE[(n + i - 1) % len(_CATALOGUE)]
                values: dict[str, str] = dict.fromkeys(KNOWN_FIELDS, "")
                values.update({k: _str(v) for k, v in _DEFAULT_PEOPLE.items()})
                values.update({k: _str(v) for k, v in product.items()})
                values.update({"ORDER_ID": oid, "MALL_ORDER_ID": oid, "MALL_ORDER_SEQ": str(i + 1),
                               "SALE_CNT": "1", "P_EA": "1", "BOX_EA": "1", "ORDER_DATE": line_reg})
                values.update({k: _str(v) for k, v in common.items()})
                values.update({k: _str(v) for k, v in item.items()})
                for src, dst in (("PRODUCT_NAME", "P_PRODUCT_NAME"), ("SKU_VALUE", "P_SKU_VALUE")):
                    if dst not in item and dst not in common:
                        values[dst] = values[src]
                if "TOTAL_COST" not in item and "TOTAL_COST" not in common:
                    with contextlib.suppress(ValueError):
                        total = int(values["SALE_COST"]) * int(values["SALE_CNT"])
                        values["TOTAL_COST"] = values["PAY_COST"] = str(total)
                idx = str(next(self._idx_seq))
                values.update({"IDX": idx, "MALL_ID": mall_name, "REG_DATE": line_reg, "ORDER_STATUS": ""})
                if code != "001" and not values["ORD_CONFIRM_DATE"]:
                    values["ORD_CONFIRM_DATE"] = line_reg
                self._lines[idx] = _Line(idx, mall_code, code, values, confirmed=confirmed)
                seeded.append(SeededLine(idx, oid, mall_code, mall_name, dict(values)))
            return seeded

    def _mall(self, value: str) -> tuple[str, str]:
        if value in self.malls:
            return value, self.malls[value]
        for code, name in self.malls.items():
            if name == value:
                return code, name
        code = f"shop{9000 + len(self.malls):04d}"
        self.malls[code] = value
        return code, value

    # -- state from Python ------------------------------------------------------------------------------
    def line(self, idx: str | int) -> LineState:
        with self._lock:
            ln = self._get(idx)
            return LineState(ln.idx, ln.status, STATUS_LABELS[ln.status], ln.fields["DELIVERY_ID"],
                             ln.fields["INVOICE_NO"], ln.invoice_sent, ln.force_completed, ln.confirmed,
                             ln.mall_code, dict(ln.fields))

    def status(self, idx: str | int) -> str:
        with self._lock:
            return self._get(idx).status

    def idxs(self, order_id: str | None = None) -> list[str]:
        with self._lock:
            return [i for i, ln in self._lines.items() if order_id is None or ln.fields["ORDER_ID"] == order_id]

    def set_status(self, idx: str | int, code: str) -> None:
        """E.g. ``set_status(idx, "007")`` (취소접수) or ``"010"`` (취소완료); sets CANCEL_DT for those."""
        if code not in STATUS_LABELS:
            raise ValueError(f"unknown order status code {code!r}")
        with self._lock:
            ln = self._get(idx)
            if code in CANCELLED_STATUSES and not ln.fields["CANCEL_DT"]:
                ln.fields["CANCEL_DT"] = _fmt14(self.now())
            self._change(ln, code, "python")

    def update(self, idx: str | int, **fields: Any) -> None:
        """Overwrite fields of a line (Sabangnet names, case-insensitive). Not IDX/ORDER_STATUS."""
        with self._lock:
            ln = self._get(idx)
            for k, v in fields.items():
                key = k.upper()
                if key in ("IDX", "ORDER_STATUS"):
                    raise ValueError(f"use set_status / cannot change {key}")
                if key == "MALL_ID":
                    ln.mall_code, ln.fields["MALL_ID"] = self._mall(_str(v))
                elif key == "REG_DATE":
                    ln.fields[key] = _as14(v)
                else:
                    ln.fields[key] = _str(v)

    def set_confirmed(self, idx: str | int, confirmed: bool = True) -> None:
        with self._lock:
            self._get(idx).confirmed = confirmed

    def send_invoice_to_mall(self, idx: str | int, message: str = "전송성공") -> None:
        """Sabangnet sent the waybill on to the mall: status 004 출고완료; the waybill can't change any more."""
        with self._lock:
            ln = self._get(idx)
            ln.invoice_sent = True
            ln.fields["INV_SEND_DM"] = _fmt14(self.now())
            ln.fields["INV_SEND_MSG"] = message
            self._change(ln, "004", "python")

    def force_complete(self, idx: str | int) -> None:
        """강제완료: the waybill can't change any more (status unchanged)."""
        with self._lock:
            self._get(idx).force_completed = True

    def _get(self, idx: str | int) -> _Line:
        try:
            return self._lines[str(idx)]
        except KeyError:
            raise KeyError(f"no seeded order line {idx}") from None

    def _change(self, ln: _Line, code: str, by: str) -> None:
        if ln.status != code:
            self._status_changes.append({"idx": ln.idx, "from": ln.status, "to": code, "by": by, "at": self.now()})
            ln.status = code

    # -- failure injection ------------------------------------------------------------------------------
    def fail_next(self, kind: int | str, count: int = 1, *, endpoint: str | None = None,
                  delay: float | None = None, process: bool = False, message: str | None = None) -> None:
        """The next ``count`` requests (whose endpoint contains ``endpoint``, or any) fail with ``kind``:
        an int HTTP status (an error page; with ``message``, a page saying it in EUC-KR), ``"timeout"``
        (answer after ``delay`` s), ``"malformed"`` (200, broken XML), ``"truncated"`` (connection closed
        mid-body), ``"text_error"`` (200, non-XML EUC-KR text), ``"unreachable"`` (the xml_url fetch-failure
        text, without fetching) or ``"disconnect"``. ``process=True`` handles the request for real first
        (fetch, side effects) and only spoils the answer."""
        if kind not in ("timeout", "malformed", "truncated", "text_error", "unreachable", "disconnect") \
                and not (isinstance(kind, int) and 400 <= kind <= 599):
            raise ValueError(f"unknown failure kind {kind!r}")
        with self._lock:
            self._injections.append(_Injection(endpoint, kind, count, delay, process, message))

    def fail_invoice(self, *idxs: str | int, message: str = MSG_INV_FAILED, times: int | None = 1) -> None:
        """The invoice row of each IDX fails with ``message`` for the next ``times`` uploads (None = always);
        other rows of the same upload are processed normally."""
        with self._lock:
            for idx in idxs:
                self._invoice_failures[str(idx)] = [message, times]

    def clear_failures(self) -> None:
        with self._lock:
            self._injections.clear()
            self._invoice_failures.clear()

    # -- what was recorded ------------------------------------------------------------------------------
    @property
    def requests(self) -> list[RequestRecord]:
        with self._lock:
            return list(self._requests)

    def calls(self, endpoint: str | None = None) -> list[RequestRecord]:
        with self._lock:
            return [r for r in self._requests if endpoint is None or endpoint in r.endpoint]

    @property
    def invoices(self) -> list[dict[str, Any]]:
        """Every accepted invoice row: {idx, tak_code, tak_invoice, delv_hope_date, overwrite, repeat,
        previous_code, previous_invoice, status_before, status_after, at}."""
        with self._lock:
            return [dict(i) for i in self._invoices]

    @property
    def status_changes(self) -> list[dict[str, Any]]:
        """{idx, from, to, by: "collect" | "invoice" | "python", at} per status change."""
        with self._lock:
            return [dict(c) for c in self._status_changes]

    @property
    def server_errors(self) -> list[BaseException]:
        with self._lock:
            return list(self._server_errors)

    # -- request handling (handler threads) -------------------------------------------------------------
    def _handle(self, method: str, target: str) -> tuple[_Reply | None, float]:
        """Returns (reply or None = drop the connection, seconds to wait before answering)."""
        parts = urlsplit(target)
        path = unquote(parts.path)
        query_all = parse_qs(parts.query, keep_blank_values=True)
        endpoint = path[len("/RTL_API/"):] if path.startswith("/RTL_API/") else ""
        with self._lock:
            rec = RequestRecord(method, path, endpoint, {k: v[0] for k, v in query_all.items()}, parts.query,
                                self.now())
            self._requests.append(rec)
            inj = self._take_injection(endpoint)
        reply: _Reply | None = None
        if inj is None or inj.process:
            try:
                reply = self._route(rec, method, endpoint)
            except Exception as exc:   # a bug in the fake: 500, surfaced when the `with` exits
                with self._lock:
                    self._server_errors.append(exc)
                reply = _Reply(500, self._encode(f"{MSG_INTERNAL} {exc!r}"), "text/html; charset=EUC-KR")
        delay = 0.0
        if inj is not None:
            rec.injected = str(inj.kind)
            reply, delay = self._injected(inj, rec, reply)
        rec.status = reply.status if reply is not None else None
        return reply, delay

    def _take_injection(self, endpoint: str) -> _Injection | None:
        for inj in self._injections:
            if inj.endpoint is None or inj.endpoint in endpoint:
                inj.remaining -= 1
                if inj.remaining <= 0:
                    self._injections.remove(inj)
                return inj
        return None

    def _injected(self, inj: _Injection, rec: RequestRecord, real: _Reply | None) -> tuple[_Reply | None, float]:
        kind, endpoint = inj.kind, rec.endpoint
        if kind == "disconnect":
            return None, 0.0
        if kind == "timeout":
            delay = self.timeout_delay if inj.delay is None else inj.delay
            return (real if real is not None else _html_status(504)), delay
        if kind == "text_error":
            return _Reply(200, self._encode(inj.message or MSG_MAINTENANCE), "text/html; charset=EUC-KR"), 0.0
        if kind == "unreachable":
            return self._error_reply(endpoint, MSG_FETCH.format(url=rec.query.get("xml_url", ""))), 0.0
        if kind in ("malformed", "truncated"):
            base = real if real is not None and real.status == 200 else self._empty_answer(endpoint)
            cut = max(1, len(base.body) // 2)
            if kind == "malformed":
                return _Reply(200, base.body[:cut], base.content_type), 0.0
            return _Reply(200, base.body, base.content_type, truncate_at=cut), 0.0
        assert isinstance(kind, int)
        return _html_status(kind, inj.message), 0.0

    def _empty_answer(self, endpoint: str) -> _Reply:
        root = ENDPOINT_ROOTS.get(endpoint, "SABANG_ORDER_LIST")
        return _Reply(200, self._xml_doc(root, self.company_id, [], "EUC-KR"))

    def _route(self, rec: RequestRecord, method: str, endpoint: str) -> _Reply:
        if method != "GET":
            return _html_status(405)
        if endpoint not in ENDPOINT_ROOTS:
            return _html_status(404)
        try:
            root = self._fetch_request(rec, ENDPOINT_ROOTS[endpoint])
            company = self._check_header(root)
            with self._lock:
                if endpoint == "xml_order_info.html":
                    return self._order_info(root, company)
                if endpoint == "xml_order_invoice.html":
                    return self._order_invoice(root, company)
                return self._mall_info(company)
        except _RequestError as err:
            rec.error = err.message
            return self._error_reply(endpoint, err.message)

    def _fetch_request(self, rec: RequestRecord, expected_root: str) -> ET.Element:
        xml_url = rec.query.get("xml_url", "").strip()
        if not xml_url:
            raise _RequestError(MSG_NO_URL)
        rec.xml_url = xml_url
        if urlsplit(xml_url).scheme not in ("http", "https"):
            rec.fetch_error = "not an http(s) URL"
            raise _RequestError(MSG_FETCH.format(url=xml_url))
        try:
            with self._opener.open(xml_url, timeout=self.fetch_timeout) as resp:
                rec.fetch_status = resp.status
                raw = resp.read(_MAX_XML + 1)
                charset = resp.headers.get_content_charset()
        except urllib.error.HTTPError as exc:
            rec.fetch_status = exc.code
            rec.fetch_error = f"HTTP {exc.code}"
            exc.close()
            raise _RequestError(MSG_FETCH.format(url=xml_url)) from None
        except (OSError, ValueError, http.client.HTTPException) as exc:   # refused, timeouts, cut bodies, bad URLs
            rec.fetch_error = repr(exc)
            raise _RequestError(MSG_FETCH.format(url=xml_url)) from None
        rec.xml_bytes = raw
        if len(raw) > _MAX_XML:
            raise _RequestError(MSG_PARSE.format(detail="too large"))
        try:
            root = decode_xml(raw, charset, euc_kr_codec="cp949" if self.accept_cp949_requests else "euc_kr")
        except ValueError as exc:
            raise _RequestError(MSG_PARSE.format(detail=str(exc))) from None
        rec.root = root
        if root.tag != expected_root:
            raise _RequestError(MSG_PARSE.format(detail=f"root {root.tag}, expected {expected_root}"))
        return root

    def _check_header(self, root: ET.Element) -> str:
        header = root.find("HEADER")
        company = _text(header, "SEND_COMPAYNY_ID")
        if header is None or company != self.company_id:
            raise _RequestError(MSG_COMPANY)
        if _text(header, "SEND_AUTH_KEY") != self.auth_key:
            raise _RequestError(MSG_KEY)
        sent = _ymd(_text(header, "SEND_DATE"))
        if sent is None:
            raise _RequestError(MSG_SEND_DATE)
        if self.send_date_max_skew_days is not None and \
                abs((sent - self.now().date()).days) > self.send_date_max_skew_days:
            raise _RequestError(MSG_SEND_DATE)
        return company

    # -- endpoints --------------------------------------------------------------------------------------
    def _order_info(self, root: ET.Element, company: str) -> _Reply:
        data = root.find("DATA")
        if data is not None and data.find("ITEM") is not None:   # the converted guide's wrapper [?]
            data = data.find("ITEM")
        params = {c.tag: (c.text or "").strip() for c in data} if data is not None else {}
        for name in ("ORD_ST_DATE", "ORD_ED_DATE", "ORD_FIELD"):
            if not params.get(name):
                raise _RequestError(MSG_REQUIRED.format(name=name))
        start, end = _ymd(params["ORD_ST_DATE"]), _ymd(params["ORD_ED_DATE"])
        if start is None:
            raise _RequestError(MSG_BAD_VALUE.format(name="ORD_ST_DATE"))
        if end is None:
            raise _RequestError(MSG_BAD_VALUE.format(name="ORD_ED_DATE"))
        wanted: list[str] = []
        for name in (f.strip().upper() for f in params["ORD_FIELD"].split("|")):
            if name and name not in wanted:
                wanted.append(name)
        if not wanted:
            raise _RequestError(MSG_REQUIRED.format(name="ORD_FIELD"))
        if self.strict_fields:
            extra = {k for ln in self._lines.values() for k in ln.fields}
            for name in wanted:
                if name not in _KNOWN and name not in extra:
                    raise _RequestError(MSG_BAD_VALUE.format(name=f"ORD_FIELD ({name})"))
        status = params.get("ORDER_STATUS", "").lstrip("'")
        if status and not re.fullmatch(r"\d{3}", status):
            raise _RequestError(MSG_BAD_VALUE.format(name="ORDER_STATUS"))
        utf8 = params.get("LANG", "").upper().replace("-", "") == "UTF8"

        def matches(ln: _Line) -> bool:
            reg = _ymd(ln.fields["REG_DATE"][:8])
            if not ln.confirmed or reg is None or not start <= reg <= end:
                return False
            if status and ln.status != status:
                return False
            mall = params.get("MALL_ID", "")
            if mall and mall not in (ln.mall_code, ln.fields["MALL_ID"]):
                return False
            return all(not params.get(f) or ln.fields.get(f, "") == params[f] for f in _ORDER_FILTERS)

        rows = [ln for ln in self._lines.values() if matches(ln)]
        rows.sort(key=lambda ln: (ln.fields["RECEIVE_NAME"], ln.fields["RECEIVE_ZIPCODE"],
                                  ln.fields["RECEIVE_ADDR"], int(ln.idx)))
        labels_before = {ln.idx: STATUS_LABELS[ln.status] for ln in rows}
        now14 = _fmt14(self.now())
        for ln in rows:   # A.2 side effect: matching 신규주문 -> 주문확인
            if ln.status == "001":
                self._change(ln, "002", "collect")
                ln.fields["ORD_CONFIRM_DATE"] = now14
        out: list[list[tuple[str, str]]] = []
        for ln in rows:
            values = []
            for name in wanted:
                if name == "ORDER_STATUS":
                    value = STATUS_LABELS[ln.status] if self.label_after_confirm else labels_before[ln.idx]
                else:
                    value = ln.fields.get(name, "")
                values.append((name, value))
            out.append(values)
        encoding = "UTF-8" if utf8 else "EUC-KR"
        return _Reply(200, self._xml_doc("SABANG_ORDER_LIST", company, out, encoding),
                      f"text/xml; charset={encoding}")

    def _order_invoice(self, root: ET.Element, company: str) -> _Reply:
        header = root.find("HEADER")
        edit = _text(header, "SEND_INV_EDIT_YN").upper() == "Y"
        as_xml = _text(header, "RESULT_TYPE").upper() == "XML"
        results: list[tuple[str, str]] = []   # (idx as sent, "SUCCESS" or message)
        for data in root.findall("DATA"):
            row = {c.tag: (c.text or "").strip() for c in data}
            idx = row.get("SABANGNET_IDX", "")
            results.append((idx, self._invoice_row(row, edit)))
        if as_xml:
            rows = [[("RESULT", res), ("SABANGNET_IDX", idx)] for idx, res in results]
            return _Reply(200, self._xml_doc("SABANG_INV_REGI", company, rows, "EUC-KR"))
        ok = sum(1 for _, res in results if res == "SUCCESS")
        lines = [f"송장등록 결과 : 총 {len(results)}건 (정상 {ok}건 / 오류 {len(results) - ok}건)<br>"]
        for idx, res in results:
            lines.append(f"성공 : {idx}<br>" if res == "SUCCESS" else f"실패 : {idx} : {res}<br>")
        return _Reply(200, self._encode("\r\n".join(lines) + "\r\n"), "text/html; charset=EUC-KR")

    def _invoice_row(self, row: dict[str, str], edit: bool) -> str:
        for name in ("SABANGNET_IDX", "TAK_CODE", "TAK_INVOICE"):
            if not row.get(name):
                return MSG_REQUIRED.format(name=name)
        idx, code, invoice = row["SABANGNET_IDX"], row["TAK_CODE"], row["TAK_INVOICE"]
        ln = self._lines.get(idx)
        if ln is None:
            return MSG_INV_UNKNOWN
        failure = self._invoice_failures.get(idx)
        if failure is not None:
            if failure[1] is not None:
                failure[1] -= 1
                if failure[1] <= 0:
                    del self._invoice_failures[idx]
            return failure[0]
        label = STATUS_LABELS[ln.status]
        if ln.force_completed:
            return MSG_INV_FORCED
        if ln.invoice_sent:
            return MSG_INV_SENT
        if ln.status in CANCELLED_STATUSES:
            return MSG_INV_CANCELLED.format(label=label)
        if ln.status not in INVOICE_STATUSES:
            return MSG_INV_STATE.format(label=label)
        if self.courier_codes is not None and code not in self.courier_codes:
            return MSG_INV_COURIER.format(code=code)
        if len(invoice) > self.max_invoice_len:
            return MSG_INV_TOO_LONG.format(n=self.max_invoice_len)
        prev_code, prev_invoice = ln.fields["DELIVERY_ID"], ln.fields["INVOICE_NO"]
        repeat = (prev_code, prev_invoice) == (code, invoice)
        if prev_invoice and not edit and not (repeat and self.identical_resend_ok):
            return MSG_INV_EXISTS
        before = ln.status
        ln.fields["DELIVERY_ID"], ln.fields["INVOICE_NO"] = code, invoice
        if row.get("DELV_HOPE_DATE"):
            ln.fields["DELV_HOPE_DATE"] = row["DELV_HOPE_DATE"]
        if ln.status == "002":
            self._change(ln, "003", "invoice")
        self._invoices.append({
            "idx": idx, "tak_code": code, "tak_invoice": invoice, "delv_hope_date": row.get("DELV_HOPE_DATE", ""),
            "overwrite": bool(prev_invoice) and not repeat, "repeat": bool(prev_invoice) and repeat,
            "previous_code": prev_code, "previous_invoice": prev_invoice,
            "status_before": before, "status_after": ln.status, "at": self.now()})
        return "SUCCESS"

    def _mall_info(self, company: str) -> _Reply:
        rows = [[("MALL_ID", code), ("MALL_NAME", name)] for code, name in self.malls.items()]
        return _Reply(200, self._xml_doc("SABANG_MALL_LIST", company, rows, "EUC-KR"))

    # -- answers ----------------------------------------------------------------------------------------
    def _encode(self, text: str, encoding: str = "EUC-KR") -> bytes:
        if encoding == "UTF-8":
            return text.encode("utf-8")
        return text.encode(self.response_codec, errors="replace")

    def _xml_doc(self, root: str, company: str, rows: list[list[tuple[str, str]]], encoding: str,
                 extra_header: Sequence[tuple[str, str]] = ()) -> bytes:
        parts = [f'<?xml version="1.0" encoding="{encoding}"?>', f"<{root}>", "<HEADER>",
                 f"\t<SEND_COMPAYNY_ID>{_esc(company)}</SEND_COMPAYNY_ID>",
                 f"\t<SEND_DATE>{self.now():%Y%m%d}</SEND_DATE>",
                 f"\t<TOTAL_COUNT>{len(rows)}</TOTAL_COUNT>"]
        parts += [f"\t<{tag}>{_cdata(value)}</{tag}>" for tag, value in extra_header]
        parts.append("</HEADER>")
        for row in rows:
            parts.append("<DATA>")
            for tag, value in row:
                shown = _cdata(value) if self.cdata_values else _esc(value)
                parts.append(f"\t<{tag}>{shown}</{tag}>")
            parts.append("</DATA>")
        parts.append(f"</{root}>")
        return self._encode("\n".join(parts) + "\n", encoding)

    def _error_reply(self, endpoint: str, message: str) -> _Reply:
        if self.error_style == "xml":
            root = ENDPOINT_ROOTS.get(endpoint, "SABANG_ORDER_LIST")
            body = self._xml_doc(root, self.company_id, [], "EUC-KR", [(self.error_tag, message)])
            return _Reply(200, body)
        return _Reply(200, self._encode(message), "text/html; charset=EUC-KR")


def _html_status(status: int, message: str | None = None) -> _Reply:
    """A web server's error page; with ``message``, the page says it in EUC-KR (a Korean server's own page,
    e.g. an address not on the allow-list)."""
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "Error"
    if message is not None:
        page = (f"<html><head><meta charset=\"euc-kr\"><title>{status} {phrase}</title></head>"
                f"<body><p>{message}</p></body></html>")
        return _Reply(status, page.encode("cp949"), "text/html; charset=EUC-KR")
    html = (f"<html><head><title>{status} {phrase}</title></head>"
            f"<body><h1>{status} {phrase}</h1></body></html>")
    return _Reply(status, html.encode("ascii"), "text/html")


# --- HTTP plumbing --------------------------------------------------------------------------------------
class _Server(ThreadingHTTPServer):
    # Handler threads are joined on close; idle keep-alive sockets are shut down first so the join is quick.
    daemon_threads = False
    block_on_close = True

    def __init__(self, fake: FakeSabangnet, port: int) -> None:
        self.fake = fake
        self._conns: set[socket.socket] = set()
        self._conns_lock = threading.Lock()
        super().__init__(("127.0.0.1", port), _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._conns_lock:
            self._conns.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._conns_lock:
            self._conns.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        with self._conns_lock:
            conns = list(self._conns)
        for sock in conns:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass   # a client that gave up (timeout) and closed its socket is expected, not a failure


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def _serve(self) -> None:
        fake = self.server.fake
        if fake._stopping.is_set():
            self.close_connection = True
            return
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)          # the RTL_API ignores bodies; drain so keep-alive stays in sync
        reply, delay = fake._handle(self.command, self.path)
        if delay and fake._stopping.wait(delay):
            self.close_connection = True     # shutting down: give up the late answer
            return
        if reply is None:                    # "disconnect": close without a byte
            self.close_connection = True
            return
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(reply.body)))
        if reply.truncate_at is not None:
            self.send_header("Connection", "close")
        self.end_headers()
        if reply.truncate_at is not None:
            self.wfile.write(reply.body[:reply.truncate_at])
            self.close_connection = True
            return
        self.wfile.write(reply.body)

    do_GET = do_POST = do_PUT = do_DELETE = _serve

    def log_message(self, format: str, *args: object) -> None:
        pass
