"""A fake Coupang Wing Open API (order sheets, 발주확인, 송장업로드): real HTTP on 127.0.0.1, built from section B of
``docs/marketplaces/coupang.md`` (not from PackDesk's client).

It checks the CEA HMAC-SHA256 signature byte for byte, serves seeded order sheets (발주서) with the day and
timeFrame searches, takes acknowledgements (ACCEPT → INSTRUCT) and invoice uploads (INSTRUCT → DEPARTURE) with
their per-box result codes, enforces the ~10 calls/s limit (429) and the "Access Denied" page after a burst of
failed calls (403 HTML), and can be told to fail the way the real gateway fails (5xx, 504 on an applied
acknowledgement, late answers, broken JSON, dropped connections, per-box failure codes). Fully cancelled boxes
leave the lists and answer 400 "해당 주문이 취소 또는 반품되었습니다."; every cancel leaves a receipt in the
반품/취소 요청 목록 (``returnRequests``); a box split in WING wants ``splitShipping``/``preSplitShipped`` for the rest.
Every request is logged in ``requests`` and every accepted invoice line in ``invoices``.

Usage::

    with FakeCoupang(rate_limit=None) as fake:
        sheet = fake.add_sheet(2)                  # one box, two items, status ACCEPT
        sheet.shipment_box_id                      # 642538970006401429 (> 2**53)
        fake.base_url                              # "http://127.0.0.1:54321" (stands for https://api-gateway.coupang.com)
        fake.vendor_id, fake.access_key, fake.secret_key

See COUPANG_FAKE.md next to this file for the knobs and for the choices made where the spec says [?].
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import copy
import hashlib
import hmac
import itertools
import json
import re
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, unquote

KST = timezone(timedelta(hours=9), "KST")

API_ROOT = "/v2/providers/openapi/apis/api/v4/vendors"

DEFAULT_VENDOR_ID = "A00012345"
DEFAULT_ACCESS_KEY = "9f3c2a1e-7b5d-4c8e-a6f0-2d4b8e1c3a57"          # UUID-shaped, like WING's keys
DEFAULT_SECRET_KEY = "5b0e8d2f4a6c1e3b7d9f0a2c4e6b8d1f3a5c7e9b"      # 40 hex chars
FIRST_SHIPMENT_BOX_ID = 642538970006401429                            # the docs' example, > 2**53

# B.3 statuses
STATUSES = ("ACCEPT", "INSTRUCT", "DEPARTURE", "DELIVERING", "FINAL_DELIVERY", "NONE_TRACKING")
SHIPPED_STATUSES = frozenset({"DEPARTURE", "DELIVERING", "FINAL_DELIVERY", "NONE_TRACKING"})

# B.6 courier codes → display name (deliveryCompanyName). KGBPS/KGBLS: the spec's [?] conflict, both accepted.
COURIERS: dict[str, str] = {
    "CJGLS": "CJ대한통운", "HANJIN": "한진택배", "HYUNDAI": "롯데택배", "LOTTEGLOBAL": "롯데글로벌로지스",
    "KGB": "로젠택배", "EPOST": "우체국택배", "KDEXP": "경동택배", "ILYANG": "일양로지스", "CHUNIL": "천일택배",
    "DAESIN": "대신택배", "HDEXP": "합동택배", "CVS": "CVS택배", "NHLOGIS": "농협택배", "SLX": "SLX택배",
    "HONAM": "호남택배", "KUNYOUNG": "건영택배", "REGISTPOST": "우편등기", "EMS": "EMS", "DHL": "DHL",
    "UPS": "UPS", "FEDEX": "FEDEX", "DIRECT": "업체직송", "COUPANG": "쿠팡자체배송",
    "KGBPS": "KGB택배", "KGBLS": "KGB택배",
}

# B.5 result codes
NO_RETRY_CODES = frozenset({
    "NOT_FOUND_SHIPMENT_BOX", "INVALID_STATUS", "ORDER_DELIVERY_CANCELED", "NOT_ALLOW_INVOICE_NUMBER_RE_UPLOAD",
    "NOT_FOUND_INVOICE_NUMBER", "NOT_FOUND_VENDOR_ITEM", "NOT_ALLOW_VENDOR_DIRECT", "PSD_NOT_ALLOW_TO_CHANGE",
    "NOT_ALLOW_SEPARATE_AFTER_NORMAL_DELIVERY", "IS_SEPARATE_MUST_BE_TRUE_WHEN_SEPARATE_DELIVERY",
    "NOT_ALLOW_SEPARATE_WHEN_ONE_VENDOR_ITEM"})
RETRY_CODES = frozenset({
    "PERMISSION_DENIED", "DUPLICATE_INVOICE_NUMBER", "INVALID_INVOICE_NUMBER", "ORDER_DELIVERY_PARTIAL_STOP_REQUESTED",
    "ORDER_DELIVERY_CANCELED_HOLDING_FOR_CANCEL", "UNDEFINED_ERROR_OCCUR"})

MSG_CANNOT_CHANGE = "배송상태를 변경할 수 없습니다"           # B.4: responseCode 99
RESULT_MESSAGES: dict[str, str] = {           # wording invented except the B.4 one; only the codes are contract
    "OK": "OK",
    "NOT_FOUND_SHIPMENT_BOX": "배송번호를 찾을 수 없습니다.",
    "INVALID_STATUS": "송장을 등록할 수 없는 주문 상태입니다.",
    "ORDER_DELIVERY_CANCELED": "취소된 주문입니다.",
    "NOT_ALLOW_INVOICE_NUMBER_RE_UPLOAD": "이미 송장이 등록되었습니다. 송장 수정을 이용해 주세요.",
    "NOT_FOUND_INVOICE_NUMBER": "송장번호가 없습니다.",
    "NOT_FOUND_VENDOR_ITEM": "묶음배송 상품 중 누락되었거나 존재하지 않는 옵션이 있습니다.",
    "NOT_ALLOW_VENDOR_DIRECT": "업체직송을 사용할 수 없는 업체입니다.",
    "PSD_NOT_ALLOW_TO_CHANGE": "분리배송 정보를 변경할 수 없습니다.",
    "NOT_ALLOW_SEPARATE_AFTER_NORMAL_DELIVERY": "일반배송 후에는 분리배송할 수 없습니다.",
    "IS_SEPARATE_MUST_BE_TRUE_WHEN_SEPARATE_DELIVERY": "분리배송인 경우 splitShipping 은 true 여야 합니다.",
    "NOT_ALLOW_SEPARATE_WHEN_ONE_VENDOR_ITEM": "옵션이 하나인 주문은 분리배송할 수 없습니다.",
    "PERMISSION_DENIED": "권한이 없습니다.",
    "DUPLICATE_INVOICE_NUMBER": "이미 사용된 송장번호입니다.",
    "INVALID_INVOICE_NUMBER": "유효하지 않은 송장번호입니다.",
    "ORDER_DELIVERY_PARTIAL_STOP_REQUESTED": "출고중지 요청된 주문입니다.",
    "ORDER_DELIVERY_CANCELED_HOLDING_FOR_CANCEL": "취소 요청(보류) 중인 주문입니다.",
    "UNDEFINED_ERROR_OCCUR": "일시적인 오류가 발생했습니다. 잠시 후 다시 시도해 주세요.",
}

MAX_ACK_IDS = 50
# B.3 single sheet, Error Spec: a box whose every item was cancelled or returned is answered 400 with these words
MSG_CANCELED_OR_RETURNED = "해당 주문이 취소 또는 반품되었습니다."
MSG_SERVER_ERROR = "Internal Server Error"
# 반품/취소 요청 목록 조회: the ``status`` query codes and the receiptStatus each one lists
RETURN_STATUS_CODES: dict[str, str] = {"RU": "RELEASE_STOP_UNCHECKED", "UC": "RETURNS_UNCHECKED",
                                       "CC": "RETURNS_COMPLETED", "PR": "REQUEST_COUPANG_CHECK"}
MSG_BAD_SIGNATURE = "Invalid signature."
MSG_EXPIRED = "Specified signature is expired"
MSG_UNKNOWN_KEY = "Invalid access key."
MSG_NO_AUTH = "Authorization header is missing or not a CEA HmacSHA256 header."

_SIGNED_DATE_RE = re.compile(r"^\d{6}T\d{6}Z$")
_DAY_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_MINUTE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$")
_SECOND_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$")


# --- helpers --------------------------------------------------------------------------------------------
def fmt_dt(dt: datetime) -> str:
    """``yyyy-MM-dd'T'HH:mm:ss`` in KST, no offset: the shape of orderedAt/paidAt in the fake's answers."""
    return dt.astimezone(KST).strftime("%Y-%m-%dT%H:%M:%S")


def signed_date(when: datetime | float) -> str:
    """B.2 ``yyMMdd'T'HHmmss'Z'`` in UTC."""
    dt = datetime.fromtimestamp(when, UTC) if isinstance(when, int | float) else when.astimezone(UTC)
    return dt.strftime("%y%m%dT%H%M%SZ")


def cea_authorization(access_key: str, secret_key: str, method: str, path: str, query: str = "",
                      when: datetime | float | None = None) -> str:
    """The B.2 header value. ``path``/``query`` exactly as sent (query without ``?``). For the fake's own
    helpers and tests of other fakes, not for PackDesk client tests (the client must sign by itself)."""
    dt = signed_date(time.time() if when is None else when)
    sig = hmac.new(secret_key.encode(), f"{dt}{method}{path}{query}".encode(), hashlib.sha256).hexdigest()
    return f"CEA algorithm=HmacSHA256, access-key={access_key}, signed-date={dt}, signature={sig}"


def _as_dt(value: datetime | str) -> datetime:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("naive datetime; give a timezone (e.g. tests.fakes.coupang.KST)")
        return value.astimezone(KST).replace(microsecond=0)
    if isinstance(value, str) and _SECOND_RE.match(value):
        return datetime.fromisoformat(value).replace(tzinfo=KST)
    raise ValueError(f"not an aware datetime or a yyyy-MM-dd'T'HH:mm:ss (KST) string: {value!r}")


def _dump(obj: Any) -> bytes:
    return json.dumps(obj, ensure_ascii=False).encode("utf-8")


def _as_id(value: Any) -> int | None:
    """A JSON number or a digit string (Jackson coerces both into a Long); anything else is None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


class FakeClock:
    """A wall clock (epoch seconds) that only moves when told. Starts at real time unless given ``start``,
    so a client signing with the real clock still passes the signed-date check."""

    def __init__(self, start: float | datetime | None = None) -> None:
        if isinstance(start, datetime):
            start = start.timestamp()
        self._now = time.time() if start is None else float(start)
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> float:
        with self._lock:
            self._now += seconds
            return self._now

    def set(self, when: float | datetime) -> None:
        with self._lock:
            self._now = when.timestamp() if isinstance(when, datetime) else float(when)


@dataclass
class RequestRecord:
    """One request as the fake saw it. ``status`` is None for a dropped connection."""
    method: str
    path: str                              # URL path as sent (still percent-encoded)
    raw_query: str                         # query string as sent, without "?"
    query: dict[str, str]                  # decoded, first value of each key
    query_all: dict[str, list[str]]
    headers: dict[str, str]                # lower-cased names
    body: bytes
    at: datetime                           # fake clock, KST
    status: int | None = None
    injected: str | None = None            # the fail_next kind applied, if any
    blocked: bool = False                  # answered with the 403 Access Denied page
    access_key: str | None = None          # set once the signature checked out
    vendor_id: str | None = None

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8"))


@dataclass(frozen=True)
class SeededSheet:
    shipment_box_id: int
    order_id: int
    vendor_item_ids: tuple[int, ...]


@dataclass
class _Injection:
    path: str | None
    method: str | None
    kind: str | int
    remaining: int
    delay: float
    process: bool
    code: str | None
    message: str | None


@dataclass
class _BoxFailure:
    code: str
    message: str
    retry: bool
    remaining: int | None   # None = every time


@dataclass
class _Reply:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json;charset=UTF-8"


class _ApiError(Exception):
    def __init__(self, status: int, message: str, headers: Mapping[str, str] | None = None,
                 body: Any = None) -> None:
        super().__init__(status, message)
        self.status = status
        self.body = {"code": "ERROR", "message": message} if body is None else body
        self.headers = dict(headers or {})


@dataclass
class _Box:
    vendor_id: str
    created_at: datetime                   # what createdAtFrom/To filter on (default: paidAt)
    sheet: dict[str, Any]                  # the JSON object exactly as served
    item_invoices: dict[int, tuple[str, str]] = field(default_factory=dict)   # vendorItemId → (courier, number)

    @property
    def box_id(self) -> int:
        return self.sheet["shipmentBoxId"]

    def items(self) -> dict[int, dict[str, Any]]:
        return {it["vendorItemId"]: it for it in self.sheet["orderItems"]}

    def live_item_ids(self) -> list[int]:
        return [it["vendorItemId"] for it in self.sheet["orderItems"] if not it["canceled"]]

    def all_canceled(self) -> bool:
        return all(it["canceled"] for it in self.sheet["orderItems"])


@dataclass
class _Receipt:
    """One entry of the 반품/취소 요청 목록: ``data`` exactly as served, plus what the searches filter on."""
    vendor_id: str
    shipment_box_id: int
    created_at: datetime
    data: dict[str, Any]

    @property
    def key(self) -> tuple[float, int]:
        return (self.created_at.timestamp(), self.data["receiptId"])


@dataclass
class _Line:
    shipment_box_id: int
    order_id: int
    vendor_item_id: int
    courier: str
    invoice: str
    split: bool
    pre_split: bool
    estimated: str
    raw: dict[str, Any]


@dataclass
class _Ctx:
    vendor_id: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    groups: tuple[str, ...]


class _Bucket:
    def __init__(self, rate: float, capacity: float, now: float) -> None:
        self.rate, self.capacity, self.tokens, self.last = rate, capacity, capacity, now

    def take(self, now: float) -> bool:
        self.tokens = min(self.capacity, self.tokens + max(0.0, now - self.last) * self.rate)
        self.last = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False


_CATALOGUE: tuple[dict[str, Any], ...] = (
    {"vendorItemId": 70_000_000_101, "sellerProductId": 13_000_000_101, "productId": 7_100_000_101,
     "sellerProductName": "도자기 머그컵", "sellerProductItemName": "화이트 350ml",
     "externalVendorSkuCode": "MUG-WH-350", "salesPrice": 9000},
    {"vendorItemId": 70_000_000_202, "sellerProductId": 13_000_000_202, "productId": 7_100_000_202,
     "sellerProductName": "스테인리스 텀블러", "sellerProductItemName": "블랙 500ml",
     "externalVendorSkuCode": "TUM-BK-500", "salesPrice": 15000},
    {"vendorItemId": 70_000_000_303, "sellerProductId": 13_000_000_303, "productId": 7_100_000_303,
     "sellerProductName": "캔버스 에코백", "sellerProductItemName": "단일상품",
     "externalVendorSkuCode": "BAG-01", "salesPrice": 12000},
)

_DEFAULT_ORDERER: dict[str, Any] = {"name": "홍*동", "email": "hon***@coupang.com", "safeNumber": "0504-1234-5678",
                                    "ordererNumber": None}
_DEFAULT_RECEIVER: dict[str, Any] = {"name": "김*희", "safeNumber": "0503-5123-4567", "receiverNumber": None,
                                     "addr1": "서울특별시 송파구 송파대로 570", "addr2": "101동 1001호",
                                     "postCode": "05510"}

_ACCESS_DENIED_HTML = (
    "<HTML><HEAD>\n<TITLE>Access Denied</TITLE>\n</HEAD><BODY>\n<H1>Access Denied</H1>\n \n"
    "You don't have permission to access \"http&#58;&#47;&#47;api&#45;gateway&#46;coupang&#46;com{path}\" "
    "on this server.<P>\nReference&#32;&#35;18&#46;{ref}\n</BODY>\n</HTML>\n")


# --- the fake -------------------------------------------------------------------------------------------
class FakeCoupang:
    """Context manager. ``base_url`` stands for ``https://api-gateway.coupang.com``; ``access_key``,
    ``secret_key`` and ``vendor_id`` are the default key. See COUPANG_FAKE.md for every knob."""

    def __init__(
        self,
        *,
        vendor_id: str = DEFAULT_VENDOR_ID,
        access_key: str = DEFAULT_ACCESS_KEY,
        secret_key: str = DEFAULT_SECRET_KEY,
        clock: Callable[[], float] | None = None,
        rate_clock: Callable[[], float] | None = None,
        signature_max_skew: float = 300.0,
        rate_limit: float | None = 10.0,
        burst: float | None = None,
        rate_block_seconds: float = 0.0,
        retry_after: int | None = None,
        forbidden_threshold: int | None = 20,
        forbidden_window: float = 10.0,
        forbidden_seconds: float = 60.0,
        max_per_page: int = 50,
        default_per_page: int = 50,
        max_day_range: int = 31,
        max_time_frame: timedelta = timedelta(hours=24),
        empty_next_token: str | None = "",
        single_sheet_as_list: bool = False,
        reack_succeeds: bool = False,
        invoice_requires_instruct: bool = True,
        invoice_code_as_string: bool = True,
        invoice_number_pattern: str = r"[0-9A-Za-z-]{8,30}",
        reject_duplicate_invoice_number: bool = False,
        allow_direct: bool = True,
        direct_sets_none_tracking: bool = False,
        courier_codes: Mapping[str, str] | Iterable[str] = COURIERS,
        require_json_content_type: bool = True,
        vendor_mismatch_status: int = 403,
        timeout_delay: float = 5.0,
        raise_server_errors: bool = True,
        list_cancelled_boxes: bool = False,
        unknown_courier_status: int = 500,
    ) -> None:
        self.vendor_id = vendor_id
        self.access_key = access_key
        self.secret_key = secret_key
        self.clock: Callable[[], float] = clock or time.time
        self.rate_clock: Callable[[], float] = rate_clock or time.monotonic
        self.signature_max_skew = signature_max_skew
        self.rate_block_seconds = rate_block_seconds
        self.retry_after = retry_after
        self.forbidden_threshold = forbidden_threshold
        self.forbidden_window = forbidden_window
        self.forbidden_seconds = forbidden_seconds
        self.max_per_page = max_per_page
        self.default_per_page = default_per_page
        self.max_day_range = max_day_range
        self.max_time_frame = max_time_frame
        self.empty_next_token = empty_next_token
        self.single_sheet_as_list = single_sheet_as_list
        self.reack_succeeds = reack_succeeds
        self.invoice_requires_instruct = invoice_requires_instruct
        self.invoice_code_as_string = invoice_code_as_string
        self.invoice_number_re = re.compile(invoice_number_pattern)
        self.reject_duplicate_invoice_number = reject_duplicate_invoice_number
        self.allow_direct = allow_direct
        self.direct_sets_none_tracking = direct_sets_none_tracking
        self.couriers: dict[str, str] = (dict(courier_codes) if isinstance(courier_codes, Mapping)
                                         else {c: COURIERS.get(c, c) for c in courier_codes})
        self.require_json_content_type = require_json_content_type
        self.vendor_mismatch_status = vendor_mismatch_status
        self.timeout_delay = timeout_delay
        self.raise_server_errors = raise_server_errors
        self.list_cancelled_boxes = list_cancelled_boxes
        self.unknown_courier_status = unknown_courier_status
        self.port = 0

        self._lock = threading.RLock()
        self._keys: dict[str, tuple[str, str]] = {access_key: (secret_key, vendor_id)}
        self._rate: float | None = None
        self._burst: float = 0.0
        self.set_rate_limit(rate_limit, burst)
        self._buckets: dict[str, _Bucket] = {}
        self._rate_blocked_until: dict[str, float] = {}
        self._failures: deque[float] = deque()
        self._denied_until: float | None = None
        self._requests: list[RequestRecord] = []
        self._invoices: list[dict[str, Any]] = []
        self._invoice_updates: list[dict[str, Any]] = []
        self._acks: list[dict[str, Any]] = []
        self._receipts: list[_Receipt] = []
        self._receipt_seq = itertools.count(50_229_613)
        self._server_errors: list[BaseException] = []
        self._injections: list[_Injection] = []
        self._box_failures: dict[tuple[str, int], _BoxFailure] = {}
        self._boxes: dict[int, _Box] = {}
        self._used_invoices: dict[tuple[str, str], int] = {}
        self._box_seq = itertools.count(0)
        self._order_seq = itertools.count(1)
        self._response_key = itertools.count(1001)
        self._ref_seq = itertools.count(1)
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle --------------------------------------------------------------------------------------
    def __enter__(self) -> FakeCoupang:
        self.start()
        return self

    def __exit__(self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()
        if e is None and self.raise_server_errors and self._server_errors:
            raise AssertionError(f"the fake Coupang server crashed: {self._server_errors[0]!r}") \
                from self._server_errors[0]

    def start(self) -> None:
        assert self._server is None, "already running"
        self._stopping.clear()
        self._server = _Server(self, self.port)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.01},
                                        name="fake-coupang", daemon=True)
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
        return f"http://127.0.0.1:{self.port}"

    def vendor_path(self, vendor_id: str | None = None) -> str:
        """``/v2/providers/openapi/apis/api/v4/vendors/{vendorId}``"""
        return f"{API_ROOT}/{vendor_id or self.vendor_id}"

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.clock(), KST).replace(microsecond=0)

    # -- keys and limits --------------------------------------------------------------------------------
    def add_key(self, access_key: str, secret_key: str, vendor_id: str) -> None:
        """Another WING key (another vendor, or a reissued key of the same one)."""
        with self._lock:
            self._keys[access_key] = (secret_key, vendor_id)

    def remove_key(self, access_key: str) -> None:
        """The key stops working (expired after 180 days, or replaced): 401 "Invalid access key."."""
        with self._lock:
            self._keys.pop(access_key, None)

    def set_rate_limit(self, rate: float | None, burst: float | None = None) -> None:
        """Calls/s per vendor; None = unlimited. Burst defaults to ``rate`` (a full second's worth)."""
        with self._lock:
            self._rate = rate
            self._burst = burst if burst is not None else (rate or 0.0)
            self._buckets = {}
            self._rate_blocked_until = {}

    def deny_access(self, seconds: float | None = None) -> None:
        """Start the 403 "Access Denied" block now, for ``seconds`` (default ``forbidden_seconds``)."""
        with self._lock:
            self._denied_until = self.rate_clock() + (self.forbidden_seconds if seconds is None else seconds)

    def allow_access(self) -> None:
        """End a 403 block and a 429 block, forget counted failures."""
        with self._lock:
            self._denied_until = None
            self._failures.clear()
            self._rate_blocked_until = {}

    @property
    def access_denied(self) -> bool:
        with self._lock:
            return self._denied_until is not None and self.rate_clock() < self._denied_until

    # -- failure injection ------------------------------------------------------------------------------
    def fail_next(self, path: str | None, kind: int | str, count: int = 1, *, method: str | None = None,
                  delay: float | None = None, process: bool = False, code: str | None = None,
                  message: str | None = None) -> None:
        """The next ``count`` requests whose (decoded) URL path contains ``path`` (None: any) fail with
        ``kind``: an HTTP status (JSON ``{"code":"ERROR","message":…}``; 403 is the HTML Access Denied page,
        429 the rate-limit answer), "timeout" (answer ``delay`` s late, default ``timeout_delay``: 504 unless
        ``process``), "malformed" (200 with broken JSON) or "disconnect" (close without a byte).
        ``process=True`` applies the request first (e.g. the acknowledgement happens) and then replaces the
        answer; by default nothing is checked or applied. ``code``/``message`` override the JSON body."""
        if isinstance(kind, str) and kind.isdigit():
            kind = int(kind)
        if not (isinstance(kind, int) or kind in {"timeout", "malformed", "disconnect"}):
            raise ValueError(f"unknown failure kind {kind!r}")
        with self._lock:
            self._injections.append(_Injection(path, method.upper() if method else None, kind, count,
                                               self.timeout_delay if delay is None else delay, process,
                                               code, message))

    def fail_box(self, *shipment_box_ids: int, op: str = "invoice", code: str = "UNDEFINED_ERROR_OCCUR",
                 message: str | None = None, retry_required: bool | None = None, times: int | None = 1) -> None:
        """These boxes fail inside an otherwise normal answer of the next ``times`` ``op`` calls that contain
        them (None: always). ``op``: "ack", "invoice" or "update". ``retry_required`` defaults to the B.5
        class of ``code`` (retry codes → true)."""
        if op not in {"ack", "invoice", "update"}:
            raise ValueError("op is 'ack', 'invoice' or 'update'")
        retry = code in RETRY_CODES if retry_required is None else retry_required
        msg = message or RESULT_MESSAGES.get(code, code)
        with self._lock:
            for box_id in shipment_box_ids:
                self._box_failures[(op, int(box_id))] = _BoxFailure(code, msg, retry, times)

    def clear_failures(self) -> None:
        with self._lock:
            self._injections.clear()
            self._box_failures.clear()

    # -- what happened ----------------------------------------------------------------------------------
    @property
    def requests(self) -> list[RequestRecord]:
        with self._lock:
            return list(self._requests)

    def calls(self, path: str | None = None, method: str | None = None) -> list[RequestRecord]:
        """Logged requests whose path contains ``path`` (and with that method)."""
        return [r for r in self.requests
                if (path is None or path in r.path) and (method is None or r.method == method.upper())]

    @property
    def invoices(self) -> list[dict[str, Any]]:
        """Every accepted invoice-upload line (one per vendorItemId), the DTO's fields as sent plus
        ``time`` (fake clock, KST). Assert exactly-once on it."""
        with self._lock:
            return copy.deepcopy(self._invoices)

    @property
    def invoice_updates(self) -> list[dict[str, Any]]:
        """Every accepted ``updateInvoices`` line, same shape as ``invoices``."""
        with self._lock:
            return copy.deepcopy(self._invoice_updates)

    @property
    def acknowledgements(self) -> list[dict[str, Any]]:
        """Every box moved ACCEPT → INSTRUCT: ``{shipmentBoxId, time}``."""
        with self._lock:
            return copy.deepcopy(self._acks)

    @property
    def server_errors(self) -> list[BaseException]:
        with self._lock:
            return list(self._server_errors)

    def sheet(self, shipment_box_id: int) -> dict[str, Any]:
        """The order sheet exactly as the API serves it."""
        with self._lock:
            return copy.deepcopy(self._get(shipment_box_id).sheet)

    def status(self, shipment_box_id: int) -> str:
        with self._lock:
            return self._get(shipment_box_id).sheet["status"]

    def shipment_box_ids(self, vendor_id: str | None = None) -> list[int]:
        with self._lock:
            return [b for b, rec in self._boxes.items() if vendor_id is None or rec.vendor_id == vendor_id]

    # -- seeding ----------------------------------------------------------------------------------------
    def add_sheet(
        self,
        items: int | Sequence[Mapping[str, Any]] = 1,
        *,
        shipment_box_id: int | None = None,
        order_id: int | None = None,
        status: str = "ACCEPT",
        vendor_id: str | None = None,
        paid_at: datetime | str | None = None,
        ordered_at: datetime | str | None = None,
        created_at: datetime | str | None = None,
        orderer: Mapping[str, Any] | None = None,
        receiver: Mapping[str, Any] | None = None,
        canceled: bool = False,
        **sheet_fields: Any,
    ) -> SeededSheet:
        """Seed one order sheet (one shipment box). ``items``: a count, or one mapping per order item in
        spec names (``vendorItemId``, ``sellerProductName``, ``sellerProductItemName``, ``vendorItemName``,
        ``externalVendorSkuCode``, ``shippingCount``, ``cancelCount``, ``holdCountForCancel``, …) over a
        catalogue default. ``order_id`` may repeat (one order split into several boxes). ``orderer`` /
        ``receiver`` are merged over masked defaults. Other keyword arguments are sheet fields in spec names
        (``parcelPrintMessage``, ``deliveryCompanyName``, ``invoiceNumber``, ``shippingPrice``, …).
        Times default to now (fake clock): paidAt = ``paid_at``, orderedAt 30 s earlier, and the day/timeFrame
        searches filter on ``created_at`` (default paidAt). ``canceled=True`` cancels every item."""
        if status not in STATUSES:
            raise ValueError(f"status {status!r} is not one of {STATUSES}")
        specs: list[Mapping[str, Any]] = [{} for _ in range(items)] if isinstance(items, int) else list(items)
        if not specs:
            raise ValueError("a sheet needs at least one order item")
        with self._lock:
            vendor = vendor_id or self.vendor_id
            paid = _as_dt(paid_at) if paid_at is not None else self.now()
            ordered = _as_dt(ordered_at) if ordered_at is not None else paid - timedelta(seconds=30)
            created = _as_dt(created_at) if created_at is not None else paid
            n = next(self._box_seq)
            box_id = shipment_box_id if shipment_box_id is not None else FIRST_SHIPMENT_BOX_ID + n * 1_000_003
            if box_id in self._boxes:
                raise ValueError(f"shipment box {box_id} already seeded")
            oid = order_id if order_id is not None else 25_000_012_345_000 + next(self._order_seq) * 101
            order_items = [self._new_item(n, i, ordered, {**spec}) for i, spec in enumerate(specs)]
            vids = [it["vendorItemId"] for it in order_items]
            if len(set(vids)) != len(vids):
                raise ValueError(f"vendorItemIds repeat within one box: {vids}")
            if canceled:
                for it in order_items:
                    it["cancelCount"] += it["shippingCount"]
                    it["shippingCount"] = 0
                    it["canceled"] = True
            shipped = status in SHIPPED_STATUSES
            sheet: dict[str, Any] = {
                "shipmentBoxId": box_id, "orderId": oid, "orderedAt": fmt_dt(ordered), "paidAt": fmt_dt(paid),
                "orderer": {**_DEFAULT_ORDERER, **(orderer or {})}, "status": status,
                "shippingPrice": 0, "remotePrice": 0, "remoteArea": False,
                "parcelPrintMessage": "문 앞에 놓아주세요", "splitShipping": False,
                "ableSplitShipping": len(order_items) > 1,
                "receiver": {**_DEFAULT_RECEIVER, **(receiver or {})},
                "orderItems": order_items,
                "deliveryCompanyName": "", "invoiceNumber": "",
                "inTrasitDateTime": None, "deliveredDate": None, "refer": "안드로이드앱",
                "shipmentType": "THIRD_PARTY",
            }
            if shipped:
                if status in {"DELIVERING", "FINAL_DELIVERY"}:
                    sheet["inTrasitDateTime"] = fmt_dt(paid + timedelta(hours=6))
                if status == "FINAL_DELIVERY":
                    sheet["deliveredDate"] = fmt_dt(paid + timedelta(days=1))
            sheet.update(sheet_fields)
            rec = _Box(vendor, created, sheet)
            if shipped:
                self._seed_invoice(rec)
            self._boxes[box_id] = rec
            return SeededSheet(box_id, oid, tuple(it["vendorItemId"] for it in order_items))

    def _seed_invoice(self, rec: _Box) -> None:
        """A box seeded (or moved) into a shipped status has an invoice: CJGLS (DIRECT for NONE_TRACKING) and a
        number derived from the box id, unless the sheet already names one."""
        sheet = rec.sheet
        if not sheet["invoiceNumber"]:
            direct = sheet["status"] == "NONE_TRACKING"
            sheet.update(deliveryCompanyName=self.couriers.get("DIRECT" if direct else "CJGLS", ""),
                         invoiceNumber=f"6{rec.box_id % 10**11:011d}")
        code = next((c for c, name in self.couriers.items() if name == sheet["deliveryCompanyName"]), "CJGLS")
        for vid in rec.live_item_ids():
            rec.item_invoices.setdefault(vid, (code, sheet["invoiceNumber"]))
        self._used_invoices[(code, sheet["invoiceNumber"])] = rec.box_id

    def _new_item(self, n: int, i: int, ordered: datetime, spec: dict[str, Any]) -> dict[str, Any]:
        base = dict(_CATALOGUE[(n + i) % len(_CATALOGUE)])
        variant = i // len(_CATALOGUE)          # a 4th+ item in one box: another option of a catalogue product
        if variant:
            base.update(vendorItemId=base["vendorItemId"] + 1000 * variant,
                        sellerProductItemName=f"{base['sellerProductItemName']} #{variant + 1}",
                        externalVendorSkuCode=f"{base['externalVendorSkuCode']}-{variant + 1}")
        base.update(spec)
        count = base.get("shippingCount", 1)
        item: dict[str, Any] = {
            "vendorItemPackageId": 0, "vendorItemPackageName": base["sellerProductName"],
            "productId": base["productId"], "vendorItemId": base["vendorItemId"],
            "vendorItemName": f"{base['sellerProductName']}, {base['sellerProductItemName']}",
            "shippingCount": count, "salesPrice": base["salesPrice"], "orderPrice": base["salesPrice"] * count,
            "discountPrice": 0, "instantCouponDiscount": 0, "downloadableCouponDiscount": 0,
            "coupangDiscount": 0, "externalVendorSkuCode": base["externalVendorSkuCode"],
            "etcInfoHeader": None, "etcInfoValue": None, "etcInfoValues": [],
            "sellerProductId": base["sellerProductId"], "sellerProductName": base["sellerProductName"],
            "sellerProductItemName": base["sellerProductItemName"],
            "firstSellerProductItemName": base["sellerProductItemName"],
            "cancelCount": 0, "holdCountForCancel": 0,
            "estimatedShippingDate": (ordered + timedelta(days=2)).strftime("%Y-%m-%d"),
            "plannedShippingDate": "", "invoiceNumberUploadDate": None,
            "extraMessage": "", "deliveryChargeTypeName": "무료", "pricingBadge": False,
            "usedProduct": False, "confirmDate": None, "canceled": False,
        }
        item.update(spec)
        item["canceled"] = spec.get("canceled", item["shippingCount"] == 0 and item["cancelCount"] > 0)
        return item

    # -- changing seeded sheets -------------------------------------------------------------------------
    def update_sheet(self, shipment_box_id: int, **sheet_fields: Any) -> None:
        """Set sheet fields (spec names); ``orderer``/``receiver`` mappings are merged."""
        with self._lock:
            sheet = self._get(shipment_box_id).sheet
            for key in ("orderer", "receiver"):
                if key in sheet_fields:
                    sheet[key] = {**sheet[key], **sheet_fields.pop(key)}
            if "status" in sheet_fields and sheet_fields["status"] not in STATUSES:
                raise ValueError(f"status {sheet_fields['status']!r} is not one of {STATUSES}")
            sheet.update(sheet_fields)

    def change_receiver(self, shipment_box_id: int, **receiver_fields: Any) -> None:
        """The customer changes the address (possible while ACCEPT, B.4)."""
        self.update_sheet(shipment_box_id, receiver=receiver_fields)

    def set_status(self, shipment_box_id: int, status: str) -> None:
        """Move a box (e.g. DEPARTURE → DELIVERING → FINAL_DELIVERY); fills inTrasitDateTime/deliveredDate, and
        a default invoice when a box without one is moved into a shipped status."""
        with self._lock:
            rec = self._get(shipment_box_id)
            sheet = rec.sheet
            self.update_sheet(shipment_box_id, status=status)
            if status in SHIPPED_STATUSES:
                self._seed_invoice(rec)
            now = fmt_dt(self.now())
            if status in {"DELIVERING", "FINAL_DELIVERY"} and not sheet["inTrasitDateTime"]:
                sheet["inTrasitDateTime"] = now
            if status == "FINAL_DELIVERY":
                sheet["deliveredDate"] = now

    def update_item(self, shipment_box_id: int, vendor_item_id: int, **item_fields: Any) -> None:
        with self._lock:
            self._item(shipment_box_id, vendor_item_id).update(item_fields)

    def cancel(self, shipment_box_id: int, vendor_item_id: int | None = None, count: int | None = None) -> None:
        """Cancel ``count`` units (default all) of one item (default every item): shippingCount goes down,
        cancelCount up, ``canceled`` once nothing is left to ship; a hold for cancel is released. The cancel is
        listed in the 반품/취소 요청 목록: a box still ACCEPT as a ``CANCEL`` receipt (결제완료 cancels at once), a
        box past it as a ``RETURN`` receipt (출고중지 done before shipping, 반품접수 after); a pending 출고중지요청
        of the box (``hold_for_cancel``) is completed instead. A box with every item cancelled leaves the
        sheet lists and its single lookup answers 400 (``list_cancelled_boxes`` keeps it listed)."""
        with self._lock:
            rec = self._get(shipment_box_id)
            status = rec.sheet["status"]
            targets = [self._item(shipment_box_id, vendor_item_id)] if vendor_item_id else rec.sheet["orderItems"]
            done: list[tuple[dict[str, Any], int, int]] = []
            for it in targets:
                n = it["shippingCount"] if count is None else min(count, it["shippingCount"])
                if n:
                    done.append((it, it["shippingCount"] + it["cancelCount"], n))
                it["shippingCount"] -= n
                it["cancelCount"] += n
                it["holdCountForCancel"] = max(0, it["holdCountForCancel"] - n)
                it["canceled"] = it["shippingCount"] == 0
            if not done:
                return
            pending = self._pending_stop(rec)
            if pending is not None:
                self._settle_receipt(pending, "RETURNS_COMPLETED", "처리(출고중지)", done)
            elif status == "ACCEPT":
                self._new_receipt(rec, "CANCEL", "RETURNS_COMPLETED", "비대상", done)
            elif status in SHIPPED_STATUSES:
                self._new_receipt(rec, "RETURN", "RETURNS_UNCHECKED", "비대상", done)
            else:
                self._new_receipt(rec, "RETURN", "RETURNS_COMPLETED", "처리(출고중지)", done)

    def hold_for_cancel(self, shipment_box_id: int, vendor_item_id: int | None = None,
                        count: int | None = None) -> None:
        """A cancel/refund request is pending (holdCountForCancel > 0): ack fails, invoice fails with the
        retryable ORDER_DELIVERY_CANCELED_HOLDING_FOR_CANCEL, and a 출고중지요청 (``RU``,
        RELEASE_STOP_UNCHECKED) is listed. ``count=0`` releases the hold (the request is withdrawn)."""
        with self._lock:
            rec = self._get(shipment_box_id)
            targets = [self._item(shipment_box_id, vendor_item_id)] if vendor_item_id else rec.sheet["orderItems"]
            held: list[tuple[dict[str, Any], int, int]] = []
            for it in targets:
                it["holdCountForCancel"] = it["shippingCount"] if count is None else count
                if it["holdCountForCancel"]:
                    held.append((it, it["shippingCount"] + it["cancelCount"], it["holdCountForCancel"]))
            pending = self._pending_stop(rec)
            if held and pending is None:
                self._new_receipt(rec, "RETURN", "RELEASE_STOP_UNCHECKED", "미처리", held)
            elif not held and pending is not None:
                self._settle_receipt(pending, "CANCEL_WITHDRAWN", "비대상", [])

    def ship_split(self, shipment_box_id: int, vendor_item_ids: Sequence[int], invoice_number: str,
                   courier: str = "CJGLS", estimated_shipping_date: str | None = None) -> None:
        """The seller splits the box in WING (B.5 split shipment): these items ship now under one number, the
        other live items get an ``estimatedShippingDate`` (default two days on). The box becomes DEPARTURE with
        ``splitShipping: true``; the rest must follow with ``splitShipping`` and ``preSplitShipped`` true."""
        with self._lock:
            rec = self._get(shipment_box_id)
            live = rec.live_item_ids()
            if len(live) < 2 or not set(vendor_item_ids) < set(live):
                raise ValueError("a split needs two or more live items, and some left over")
            later = estimated_shipping_date or (self.now() + timedelta(days=2)).strftime("%Y-%m-%d")
            oid = rec.sheet["orderId"]
            lines = [_Line(rec.box_id, oid, vid, courier, invoice_number if vid in vendor_item_ids else "", True,
                           False, "" if vid in vendor_item_ids else later, {}) for vid in live]
            self._apply_lines(rec, lines, update=False)

    def request_return(self, shipment_box_id: int, vendor_item_id: int | None = None, count: int | None = None, *,
                       reason: tuple[str, str] = ("고객변심", "단순변심(사유없음)"), detail: str = "",
                       courier: str = "CJGLS", invoice: str = "", fault_by: str = "CUSTOMER",
                       release_stop_status: str = "비대상") -> int:
        """The buyer asks to return ``count`` units (default all) of one item (default every item) of a box that
        shipped (B.8): a ``RETURN`` receipt, 반품접수 (``RETURNS_UNCHECKED``), with the pickup courier and, when
        given, its waybill in ``returnDeliveryDtos``. The sheet itself is left as it is. Returns the receiptId."""
        with self._lock:
            rec = self._get(shipment_box_id)
            if rec.sheet["status"] not in SHIPPED_STATUSES:
                raise ValueError(f"box {shipment_box_id} has not shipped ({rec.sheet['status']}): cancel it instead")
            targets = [self._item(shipment_box_id, vendor_item_id)] if vendor_item_id else rec.sheet["orderItems"]
            items = [(it, it["shippingCount"] + it["cancelCount"],
                      it["shippingCount"] if count is None else min(count, it["shippingCount"])) for it in targets]
            self._new_receipt(rec, "RETURN", "RETURNS_UNCHECKED", release_stop_status, items)
            receipt = self._receipts[-1]
            receipt.data.update(cancelReasonCategory1=reason[0], cancelReasonCategory2=reason[1], cancelReason=detail,
                                faultByType=fault_by, returnDeliveryId=receipt.data["receiptId"] + 20_000_000,
                                returnDeliveryDtos=[{"deliveryCompanyCode": courier, "deliveryInvoiceNo": invoice}])
            return int(receipt.data["receiptId"])

    def update_return(self, receipt_id: int, *, status: str | None = None, courier: str | None = None,
                      invoice: str | None = None, add_invoice: bool = False) -> None:
        """A return moves on (B.8): its ``receiptStatus`` (``VENDOR_WAREHOUSE_CONFIRM`` 입고완료,
        ``REQUEST_COUPANG_CHECK``, ``RETURNS_COMPLETED`` …) and/or its pickup waybill; ``add_invoice`` adds a
        second pickup waybill instead of replacing the first (a receipt may have several). ``modifiedAt`` = now."""
        with self._lock:
            receipt = next((r for r in self._receipts if r.data["receiptId"] == receipt_id), None)
            if receipt is None:
                raise KeyError(f"no receipt {receipt_id}")
            data = receipt.data
            if status is not None:
                data["receiptStatus"] = status
            if courier is not None or invoice is not None:
                dtos = data["returnDeliveryDtos"]
                last = dtos[-1] if dtos else {"deliveryCompanyCode": "CJGLS", "deliveryInvoiceNo": ""}
                dto = {"deliveryCompanyCode": courier if courier is not None else last["deliveryCompanyCode"],
                       "deliveryInvoiceNo": invoice if invoice is not None else last["deliveryInvoiceNo"]}
                if add_invoice or not dtos:
                    dtos.append(dto)
                else:
                    dtos[-1] = dto
            data["modifiedAt"] = fmt_dt(self.now())

    @property
    def receipts(self) -> list[dict[str, Any]]:
        """Every entry of the 반품/취소 요청 목록, as the API serves it, oldest first."""
        with self._lock:
            return [copy.deepcopy(r.data) for r in sorted(self._receipts, key=lambda r: r.key)]

    def _pending_stop(self, rec: _Box) -> _Receipt | None:
        return next((r for r in self._receipts if r.shipment_box_id == rec.box_id
                     and r.data["receiptStatus"] == "RELEASE_STOP_UNCHECKED"), None)

    def _new_receipt(self, rec: _Box, kind: str, status: str, release: str,
                     items: list[tuple[dict[str, Any], int, int]]) -> None:
        now = self.now()
        sheet = rec.sheet
        data: dict[str, Any] = {
            "receiptId": next(self._receipt_seq), "orderId": sheet["orderId"],
            "paymentId": sheet["orderId"] + 779_000, "receiptType": kind, "receiptStatus": status,
            "createdAt": fmt_dt(now), "modifiedAt": fmt_dt(now), "requesterName": sheet["orderer"]["name"],
            "requesterPhoneNumber": "0503-****-3560", "cancelReasonCategory1": "고객변심",
            "cancelReasonCategory2": "단순변심(사유없음)", "cancelReason": "", "cancelCountSum": 0,
            "returnDeliveryId": 0, "returnDeliveryType": "연동택배", "releaseStopStatus": release,
            "enclosePrice": 0, "faultByType": "CUSTOMER", "preRefund": False, "completeConfirmDate": "",
            "completeConfirmType": "UNDEFINED", "returnItems": [], "returnDeliveryDtos": [],
        }
        self._receipts.append(_Receipt(rec.vendor_id, rec.box_id, now, data))
        self._add_receipt_items(data, rec.box_id, items)

    def _settle_receipt(self, receipt: _Receipt, status: str, release: str,
                        items: list[tuple[dict[str, Any], int, int]]) -> None:
        receipt.data.update(receiptStatus=status, releaseStopStatus=release, modifiedAt=fmt_dt(self.now()))
        if items:
            receipt.data["returnItems"] = []
            self._add_receipt_items(receipt.data, receipt.shipment_box_id, items)

    @staticmethod
    def _add_receipt_items(data: dict[str, Any], box_id: int, items: list[tuple[dict[str, Any], int, int]]) -> None:
        for it, purchased, n in items:
            data["returnItems"].append({
                "vendorItemPackageId": 0, "vendorItemPackageName": it["vendorItemPackageName"],
                "vendorItemId": it["vendorItemId"], "vendorItemName": it["vendorItemName"],
                "purchaseCount": purchased, "cancelCount": n, "shipmentBoxId": box_id,
                "sellerProductId": it["sellerProductId"], "sellerProductName": it["sellerProductName"]})
        data["cancelCountSum"] = sum(x["cancelCount"] for x in data["returnItems"])

    def _get(self, box_id: int) -> _Box:
        try:
            return self._boxes[int(box_id)]
        except KeyError:
            raise KeyError(f"no seeded shipment box {box_id}") from None

    def _item(self, box_id: int, vendor_item_id: int) -> dict[str, Any]:
        try:
            return self._get(box_id).items()[int(vendor_item_id)]
        except KeyError:
            raise KeyError(f"box {box_id} has no vendorItemId {vendor_item_id}") from None

    # -- request handling (called from handler threads) -------------------------------------------------
    def _handle(self, method: str, target: str, headers: dict[str, str], body: bytes
                ) -> tuple[_Reply | None, float]:
        """Returns (reply or None = drop the connection, seconds to wait before answering)."""
        raw_path, _, raw_query = target.partition("?")
        raw_query = raw_query.partition("#")[0]
        path = unquote(raw_path)
        query_all = parse_qs(raw_query, keep_blank_values=True)
        with self._lock:
            rec = RequestRecord(method, raw_path, raw_query, {k: v[0] for k, v in query_all.items()}, query_all,
                                headers, body, self.now())
            self._requests.append(rec)
            now_r = self.rate_clock()
            if self._denied_until is not None:
                if now_r < self._denied_until:
                    rec.blocked = True
                    rec.status = 403
                    return self._access_denied(raw_path), 0.0
                self._denied_until = None
            inj = self._take_injection(method, path)
            reply: _Reply | None = None
            if inj is None or inj.process:
                try:
                    reply = self._route(rec, method, raw_path, path, raw_query, query_all, headers, body)
                except _ApiError as err:
                    reply = _Reply(err.status, _dump(err.body), err.headers)
                except Exception as exc:   # a bug in the fake: answer 500, surface it at exit
                    self._server_errors.append(exc)
                    reply = _Reply(500, _dump({"code": "ERROR", "message": f"fake crashed: {exc!r}"}))
            delay = 0.0
            if inj is not None:
                rec.injected = str(inj.kind)
                if inj.kind == "timeout":
                    delay = inj.delay
                    if not inj.process:
                        reply = _Reply(504, _dump({"code": "ERROR", "message": inj.message or "Gateway Timeout"}))
                else:
                    reply = self._injected_reply(inj, raw_path)
            rec.status = reply.status if reply is not None else None
            if reply is not None and reply.status >= 400:
                self._count_failure(now_r)
            return reply, delay

    def _count_failure(self, now: float) -> None:
        if self.forbidden_threshold is None:
            return
        self._failures.append(now)
        while self._failures and self._failures[0] <= now - self.forbidden_window:
            self._failures.popleft()
        if len(self._failures) >= self.forbidden_threshold:
            self._denied_until = now + self.forbidden_seconds
            self._failures.clear()

    def _access_denied(self, raw_path: str) -> _Reply:
        ref = f"{next(self._ref_seq):x}a3d2f17&#46;{int(self.clock())}&#46;5c0e{next(self._ref_seq):04x}"
        path = "".join(c if c.isalnum() else f"&#{ord(c)};" for c in raw_path)
        html = _ACCESS_DENIED_HTML.format(path=path, ref=ref).encode("utf-8")
        return _Reply(403, html, {"Mime-Version": "1.0"}, content_type="text/html")

    def _take_injection(self, method: str, path: str) -> _Injection | None:
        for inj in self._injections:
            if (inj.path is None or inj.path in path) and (inj.method is None or inj.method == method):
                inj.remaining -= 1
                if inj.remaining <= 0:
                    self._injections.remove(inj)
                return inj
        return None

    def _injected_reply(self, inj: _Injection, raw_path: str) -> _Reply | None:
        kind = inj.kind
        if kind == "disconnect":
            return None
        if kind == "malformed":
            return _Reply(200, b'{"code":200,"message":"OK","data":[{"shipmentBoxId":6425389700064')
        assert isinstance(kind, int)
        if kind == 403 and inj.code is None and inj.message is None:
            return self._access_denied(raw_path)
        headers: dict[str, str] = {}
        default = {400: "Bad Request", 401: MSG_BAD_SIGNATURE, 403: "Forbidden", 404: "Not Found",
                   429: "Too Many Requests", 500: "Internal Server Error", 502: "Bad Gateway",
                   503: "Service Unavailable", 504: "Gateway Timeout",
                   521: "Web Server Is Down"}.get(kind, "Error")
        if kind == 429 and self.retry_after is not None:
            headers["Retry-After"] = str(self.retry_after)
        return _Reply(kind, _dump({"code": inj.code or "ERROR", "message": inj.message or default}), headers)

    def _route(self, rec: RequestRecord, method: str, raw_path: str, path: str, raw_query: str,
               query: dict[str, list[str]], headers: dict[str, str], body: bytes) -> _Reply:
        access_key, vendor = self._authenticate(method, raw_path, raw_query, headers)
        rec.access_key, rec.vendor_id = access_key, vendor
        self._take_rate(vendor)
        found = None
        wrong_method = False
        for methods, pattern, handler in _ROUTES:
            m = pattern.fullmatch(path)
            if m:
                if method in methods:
                    found = (handler, m)
                    break
                wrong_method = True
        if found is None:
            if wrong_method:
                raise _ApiError(405, f"Request method '{method}' not supported")
            raise _ApiError(404, f"No API matches {method} {path}")
        handler, m = found
        path_vendor, *groups = m.groups()
        if path_vendor != vendor:
            raise _ApiError(self.vendor_mismatch_status,
                            f"vendorId {path_vendor} does not belong to the access key (vendor {vendor}).")
        data = handler(self, _Ctx(vendor, query, headers, body, tuple(groups)))
        return _Reply(200, _dump(data))

    # -- gateway ----------------------------------------------------------------------------------------
    def _authenticate(self, method: str, raw_path: str, raw_query: str, headers: dict[str, str]
                      ) -> tuple[str, str]:
        auth = headers.get("authorization", "").strip()
        scheme, _, rest = auth.partition(" ")
        parts: dict[str, str] = {}
        for part in rest.split(","):
            k, sep, v = part.strip().partition("=")
            if sep:
                parts[k.strip().lower()] = v.strip()
        if scheme != "CEA" or parts.get("algorithm") != "HmacSHA256" or \
                not {"access-key", "signed-date", "signature"} <= set(parts):
            raise _ApiError(401, MSG_NO_AUTH)
        key = self._keys.get(parts["access-key"])
        if key is None:
            raise _ApiError(401, MSG_UNKNOWN_KEY)
        secret, vendor = key
        dt = parts["signed-date"]
        message = f"{dt}{method}{raw_path}{raw_query}".encode()
        expected = hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(parts["signature"].encode(), expected.encode()):
            raise _ApiError(401, MSG_BAD_SIGNATURE)
        if not _SIGNED_DATE_RE.match(dt):
            raise _ApiError(401, MSG_EXPIRED)
        try:
            signed = datetime.strptime(dt, "%y%m%dT%H%M%SZ").replace(tzinfo=UTC).timestamp()
        except ValueError:
            raise _ApiError(401, MSG_EXPIRED) from None
        if abs(self.clock() - signed) > self.signature_max_skew:
            raise _ApiError(401, MSG_EXPIRED)
        return parts["access-key"], vendor

    def _take_rate(self, vendor: str) -> None:
        rate = self._rate
        if not rate:
            return
        now = self.rate_clock()
        headers = {"Retry-After": str(self.retry_after)} if self.retry_after is not None else {}
        until = self._rate_blocked_until.get(vendor)
        if until is not None and now < until:
            raise _ApiError(429, "Too Many Requests", headers)
        bucket = self._buckets.get(vendor)
        if bucket is None:
            bucket = self._buckets[vendor] = _Bucket(rate, max(self._burst, 1.0), now)
        if not bucket.take(now):
            if self.rate_block_seconds > 0:
                self._rate_blocked_until[vendor] = now + self.rate_block_seconds
            raise _ApiError(429, "Too Many Requests", headers)

    # -- bodies and params ------------------------------------------------------------------------------
    def _json_body(self, ctx: _Ctx) -> dict[str, Any]:
        mime = ctx.headers.get("content-type", "").split(";")[0].strip().lower()
        if self.require_json_content_type and mime != "application/json":
            raise _ApiError(400, f"Content type '{ctx.headers.get('content-type', '')}' not supported; "
                                 "use application/json;charset=UTF-8")
        try:
            req = json.loads(ctx.body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise _ApiError(400, "Required request body is missing or not readable JSON") from None
        if not isinstance(req, dict):
            raise _ApiError(400, "Request body must be a JSON object")
        if req.get("vendorId") != ctx.vendor_id:
            raise _ApiError(400, f"vendorId in the body ({req.get('vendorId')!r}) must equal the path's "
                                 f"vendorId ({ctx.vendor_id})")
        return req

    @staticmethod
    def _param(ctx: _Ctx, name: str) -> str | None:
        values = ctx.query.get(name)
        return values[0] if values else None

    # -- B.3 order sheets ---------------------------------------------------------------------------------
    def _list_sheets(self, ctx: _Ctx) -> dict[str, Any]:
        status = self._param(ctx, "status")
        if not status:
            raise _ApiError(400, "status is required (ACCEPT, INSTRUCT, DEPARTURE, DELIVERING, FINAL_DELIVERY, "
                                 "NONE_TRACKING)")
        if status not in STATUSES:
            raise _ApiError(400, f"status {status!r} is not valid")
        search_type = self._param(ctx, "searchType") or ""
        if search_type not in {"", "timeFrame"}:
            raise _ApiError(400, f"searchType {search_type!r} is not valid")
        frm_s, to_s = self._param(ctx, "createdAtFrom"), self._param(ctx, "createdAtTo")
        if not frm_s or not to_s:
            raise _ApiError(400, "createdAtFrom and createdAtTo are required")
        if search_type == "timeFrame":
            start, end = self._parse_minute(frm_s, "createdAtFrom"), self._parse_minute(to_s, "createdAtTo")
            if end < start:
                raise _ApiError(400, "createdAtTo is before createdAtFrom")
            if end - start > self.max_time_frame:
                raise _ApiError(400, "timeFrame search covers at most 24 hours")
            end += timedelta(minutes=1)                  # the To minute is included
            boxes = self._matching(ctx.vendor_id, status, start, end)
            return {"code": 200, "message": "OK", "data": [copy.deepcopy(b.sheet) for b in boxes],
                    "nextToken": self.empty_next_token}
        d_from, d_to = self._parse_day(frm_s, "createdAtFrom"), self._parse_day(to_s, "createdAtTo")
        if d_to < d_from:
            raise _ApiError(400, "createdAtTo is before createdAtFrom")
        if (d_to - d_from).days + 1 > self.max_day_range:
            raise _ApiError(400, f"the search covers at most {self.max_day_range} days")
        per_page_s = self._param(ctx, "maxPerPage")
        per_page = self.default_per_page
        if per_page_s:
            if not per_page_s.isdigit() or not 1 <= int(per_page_s) <= self.max_per_page:
                raise _ApiError(400, f"maxPerPage must be 1..{self.max_per_page}")
            per_page = int(per_page_s)
        start = datetime(d_from.year, d_from.month, d_from.day, tzinfo=KST)
        end = datetime(d_to.year, d_to.month, d_to.day, tzinfo=KST) + timedelta(days=1)
        boxes = self._matching(ctx.vendor_id, status, start, end)
        token = self._param(ctx, "nextToken")
        if token:
            after = self._decode_token(token)
            boxes = [b for b in boxes if _sort_key(b) > after]
        page, rest = boxes[:per_page], boxes[per_page:]
        next_token = _encode_token(_sort_key(page[-1])) if rest else self.empty_next_token
        return {"code": 200, "message": "OK", "data": [copy.deepcopy(b.sheet) for b in page],
                "nextToken": next_token}

    def _matching(self, vendor: str, status: str, start: datetime, end: datetime) -> list[_Box]:
        return sorted((b for b in self._boxes.values()
                       if b.vendor_id == vendor and b.sheet["status"] == status and start <= b.created_at < end
                       and (self.list_cancelled_boxes or not b.all_canceled())),
                      key=_sort_key)

    @staticmethod
    def _parse_day(text: str, name: str) -> date:
        if not _DAY_RE.match(text):
            raise _ApiError(400, f"{name} must be yyyy-MM-dd, got {text!r}")
        try:
            return date.fromisoformat(text)
        except ValueError:
            raise _ApiError(400, f"{name} is not a valid date: {text!r}") from None

    @staticmethod
    def _parse_minute(text: str, name: str) -> datetime:
        if not _MINUTE_RE.match(text):
            raise _ApiError(400, f"{name} must be yyyy-MM-dd'T'HH:mm for searchType=timeFrame, got {text!r}")
        try:
            return datetime.fromisoformat(text).replace(tzinfo=KST)
        except ValueError:
            raise _ApiError(400, f"{name} is not a valid date-time: {text!r}") from None

    @staticmethod
    def _decode_token(token: str) -> tuple[float, int]:
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode("ascii")
            ts, box = raw.split(":")
            return (int(ts) / 1000, int(box))
        except (ValueError, binascii.Error, UnicodeDecodeError):
            raise _ApiError(400, f"nextToken {token!r} is not valid") from None

    def _single_sheet(self, ctx: _Ctx) -> dict[str, Any]:
        box_id = int(ctx.groups[0])
        rec = self._boxes.get(box_id)
        if rec is None or rec.vendor_id != ctx.vendor_id:
            raise _ApiError(400, f"shipmentBoxId {box_id} not found")
        if rec.all_canceled():
            raise _ApiError(400, MSG_CANCELED_OR_RETURNED)
        sheet = copy.deepcopy(rec.sheet)
        return {"code": 200, "message": "OK", "data": [sheet] if self.single_sheet_as_list else sheet}

    # -- 반품/취소 요청 목록 조회 (GET …/returnRequests) -------------------------------------------------
    def _list_returns(self, ctx: _Ctx) -> dict[str, Any]:
        """Receipts created in the window: ``cancelType=CANCEL`` (without ``status`` and ``orderId``) lists the
        결제완료 cancels; otherwise ``status`` (RU, UC, CC, PR) or ``orderId`` picks the RETURN receipts."""
        cancel_type = self._param(ctx, "cancelType") or "RETURN"
        status, order_id = self._param(ctx, "status"), self._param(ctx, "orderId")
        if cancel_type not in {"RETURN", "CANCEL"}:
            raise _ApiError(400, f"cancelType {cancel_type!r} is not valid (RETURN, CANCEL)")
        if cancel_type == "CANCEL" and (status or order_id):
            raise _ApiError(400, "cancelType=CANCEL is searched without status and orderId")
        if cancel_type == "RETURN" and not status and not order_id:
            raise _ApiError(400, "status is required when orderId is not given (RU, UC, CC, PR)")
        if status and status not in RETURN_STATUS_CODES:
            raise _ApiError(400, f"status {status!r} is not valid (RU, UC, CC, PR)")
        if order_id is not None and not order_id.isdigit():
            raise _ApiError(400, f"orderId {order_id!r} is not a number")
        frm_s, to_s = self._param(ctx, "createdAtFrom"), self._param(ctx, "createdAtTo")
        if not frm_s or not to_s:
            raise _ApiError(400, "createdAtFrom and createdAtTo are required")
        timeframe = (self._param(ctx, "searchType") or "") == "timeFrame"
        if timeframe:
            start, end = self._parse_minute(frm_s, "createdAtFrom"), self._parse_minute(to_s, "createdAtTo")
            end += timedelta(minutes=1)
        else:
            d_from, d_to = self._parse_day(frm_s, "createdAtFrom"), self._parse_day(to_s, "createdAtTo")
            start = datetime(d_from.year, d_from.month, d_from.day, tzinfo=KST)
            end = datetime(d_to.year, d_to.month, d_to.day, tzinfo=KST) + timedelta(days=1)
        if end <= start:
            raise _ApiError(400, "createdAtTo is before createdAtFrom")
        if end - start > timedelta(days=self.max_day_range):
            raise _ApiError(400, f"the search covers at most {self.max_day_range} days")
        found = sorted((r for r in self._receipts
                        if r.vendor_id == ctx.vendor_id and start <= r.created_at < end
                        and r.data["receiptType"] == cancel_type
                        and (not status or r.data["receiptStatus"] == RETURN_STATUS_CODES[status])
                        and (order_id is None or r.data["orderId"] == int(order_id))), key=lambda r: r.key)
        if timeframe:
            return {"code": 200, "message": "OK", "data": [copy.deepcopy(r.data) for r in found],
                    "nextToken": self.empty_next_token}
        per_page_s = self._param(ctx, "maxPerPage")
        per_page = self.default_per_page
        if per_page_s:
            if not per_page_s.isdigit() or not 1 <= int(per_page_s) <= self.max_per_page:
                raise _ApiError(400, f"maxPerPage must be 1..{self.max_per_page}")
            per_page = int(per_page_s)
        token = self._param(ctx, "nextToken")
        if token:
            after = self._decode_token(token)
            found = [r for r in found if r.key > after]
        page, rest = found[:per_page], found[per_page:]
        return {"code": 200, "message": "OK", "data": [copy.deepcopy(r.data) for r in page],
                "nextToken": _encode_token(page[-1].key) if rest else self.empty_next_token}

    # -- B.4 acknowledgement --------------------------------------------------------------------------
    def _acknowledge(self, ctx: _Ctx) -> dict[str, Any]:
        req = self._json_body(ctx)
        ids = req.get("shipmentBoxIds")
        if not isinstance(ids, list):
            raise _ApiError(400, "shipmentBoxIds must be a list of numbers")
        parsed = [_as_id(i) for i in ids]
        if any(p is None for p in parsed):
            raise _ApiError(400, "shipmentBoxIds must be a list of numbers")
        if len(parsed) > MAX_ACK_IDS:
            raise _ApiError(400, f"at most {MAX_ACK_IDS} shipmentBoxIds per call")
        results: list[dict[str, Any]] = []
        now = self.now()
        for box_id in dict.fromkeys(p for p in parsed if p is not None):
            problem = self._ack_problem(ctx.vendor_id, box_id)
            if problem is not None:
                results.append(_result(box_id, *problem))
                continue
            rec = self._boxes[box_id]
            if rec.sheet["status"] == "ACCEPT":
                rec.sheet["status"] = "INSTRUCT"
                self._acks.append({"shipmentBoxId": box_id, "time": now})
            results.append(_result(box_id, "OK", "OK", False))
        code, msg = _summary(results, failed_message=MSG_CANNOT_CHANGE)
        return {"code": 200, "message": "OK",
                "data": {"responseKey": next(self._response_key), "responseCode": code, "responseMessage": msg,
                         "responseList": results}}

    def _ack_problem(self, vendor: str, box_id: int) -> tuple[str, str, bool] | None:
        injected = self._take_box_failure("ack", box_id)
        if injected:
            return injected
        rec = self._boxes.get(box_id)
        if rec is None or rec.vendor_id != vendor:
            return ("NOT_FOUND_SHIPMENT_BOX", RESULT_MESSAGES["NOT_FOUND_SHIPMENT_BOX"], False)
        if rec.all_canceled():
            return ("ORDER_DELIVERY_CANCELED", MSG_CANNOT_CHANGE, False)
        if any(it["holdCountForCancel"] > 0 for it in rec.sheet["orderItems"]):
            return ("ORDER_DELIVERY_CANCELED_HOLDING_FOR_CANCEL", MSG_CANNOT_CHANGE, False)
        if rec.sheet["status"] == "INSTRUCT" and self.reack_succeeds:
            return None
        if rec.sheet["status"] != "ACCEPT":
            return ("INVALID_STATUS", MSG_CANNOT_CHANGE, False)
        return None

    # -- B.5 invoices ---------------------------------------------------------------------------------
    def _upload_invoices(self, ctx: _Ctx) -> dict[str, Any]:
        return self._invoices_call(ctx, update=False)

    def _update_invoices(self, ctx: _Ctx) -> dict[str, Any]:
        return self._invoices_call(ctx, update=True)

    def _invoices_call(self, ctx: _Ctx, *, update: bool) -> dict[str, Any]:
        req = self._json_body(ctx)
        dtos = req.get("orderSheetInvoiceApplyDtos")
        if not isinstance(dtos, list) or not all(isinstance(d, dict) for d in dtos):
            raise _ApiError(400, "orderSheetInvoiceApplyDtos must be a list of objects")
        groups: dict[int, list[_Line]] = {}
        for n, dto in enumerate(dtos):
            line = self._parse_line(dto, n)
            box_lines = groups.setdefault(line.shipment_box_id, [])
            if any(x.vendor_item_id == line.vendor_item_id for x in box_lines):
                raise _ApiError(400, f"orderSheetInvoiceApplyDtos[{n}]: vendorItemId {line.vendor_item_id} "
                                     f"appears twice for shipmentBoxId {line.shipment_box_id}")
            box_lines.append(line)
        results: list[dict[str, Any]] = []
        for box_id, lines in groups.items():
            op = "update" if update else "invoice"
            problem = self._take_box_failure(op, box_id) or self._invoice_problem(ctx.vendor_id, box_id, lines, update)
            if problem is not None:
                results.append(_result(box_id, *problem))
                continue
            self._apply_lines(self._boxes[box_id], lines, update)
            results.append(_result(box_id, "OK", "OK", False))
        code, msg = _summary(results, failed_message="FAILED")
        return {"code": "200" if self.invoice_code_as_string else 200, "message": "OK",
                "data": {"responseCode": code, "responseMessage": msg, "responseList": results}}

    def _parse_line(self, dto: dict[str, Any], n: int) -> _Line:
        where = f"orderSheetInvoiceApplyDtos[{n}]"
        ids = {}
        for name in ("shipmentBoxId", "orderId", "vendorItemId"):
            value = _as_id(dto.get(name))
            if value is None:
                raise _ApiError(400, f"{where}.{name} is required (a number)")
            ids[name] = value
        courier = dto.get("deliveryCompanyCode")
        if not isinstance(courier, str) or not courier:
            raise _ApiError(400, f"{where}.deliveryCompanyCode is required")
        if courier not in self.couriers:  # not validated up front: the whole request fails inside, nothing applied
            raise _ApiError(self.unknown_courier_status, MSG_SERVER_ERROR)
        invoice = dto.get("invoiceNumber")
        if invoice is None:
            invoice = ""
        if isinstance(invoice, int) and not isinstance(invoice, bool):
            invoice = str(invoice)
        if not isinstance(invoice, str):
            raise _ApiError(400, f"{where}.invoiceNumber must be a string")
        flags = {}
        for name in ("splitShipping", "preSplitShipped"):
            value = dto.get(name, False)
            if not isinstance(value, bool):
                raise _ApiError(400, f"{where}.{name} must be true or false")
            flags[name] = value
        estimated = dto.get("estimatedShippingDate") or ""
        if not isinstance(estimated, str) or (estimated and not _DAY_RE.match(estimated)):
            raise _ApiError(400, f"{where}.estimatedShippingDate must be yyyy-MM-dd or empty")
        return _Line(ids["shipmentBoxId"], ids["orderId"], ids["vendorItemId"], courier, invoice.strip(),
                     flags["splitShipping"], flags["preSplitShipped"], estimated, dict(dto))

    def _invoice_problem(self, vendor: str, box_id: int, lines: list[_Line], update: bool
                         ) -> tuple[str, str, bool] | None:
        def fail(code: str) -> tuple[str, str, bool]:
            return (code, RESULT_MESSAGES[code], code in RETRY_CODES)

        rec = self._boxes.get(box_id)
        if rec is None or rec.vendor_id != vendor:
            return fail("NOT_FOUND_SHIPMENT_BOX")
        sheet = rec.sheet
        if any(line.order_id != sheet["orderId"] for line in lines):
            return ("NOT_FOUND_SHIPMENT_BOX", "주문번호와 배송번호가 일치하지 않습니다.", False)
        items = rec.items()
        if rec.all_canceled():
            return fail("ORDER_DELIVERY_CANCELED")
        if any(it["holdCountForCancel"] > 0 for it in sheet["orderItems"]):
            return fail("ORDER_DELIVERY_CANCELED_HOLDING_FOR_CANCEL")
        for line in lines:
            if line.vendor_item_id not in items:
                return fail("NOT_FOUND_VENDOR_ITEM")
            if items[line.vendor_item_id]["canceled"]:
                return fail("ORDER_DELIVERY_CANCELED")
        if any(line.courier == "DIRECT" for line in lines) and not self.allow_direct:
            return fail("NOT_ALLOW_VENDOR_DIRECT")
        split = any(line.split for line in lines)
        if split and not all(line.split for line in lines):
            return fail("IS_SEPARATE_MUST_BE_TRUE_WHEN_SEPARATE_DELIVERY")
        status = sheet["status"]
        live = rec.live_item_ids()
        sent = {line.vendor_item_id for line in lines}
        if update:
            if status not in SHIPPED_STATUSES:
                return fail("INVALID_STATUS")
            invoiced = [vid for vid in live if vid in rec.item_invoices]
            if any(vid not in invoiced for vid in sent):
                return fail("NOT_FOUND_INVOICE_NUMBER")
            required = invoiced if not sheet["splitShipping"] else list(sent)
        elif split:
            if status in SHIPPED_STATUSES:
                if not sheet["splitShipping"]:
                    return fail("NOT_ALLOW_SEPARATE_AFTER_NORMAL_DELIVERY")
                pending = [vid for vid in live if vid not in rec.item_invoices]
                if not all(line.pre_split for line in lines) or any(vid not in pending for vid in sent):
                    return fail("NOT_ALLOW_INVOICE_NUMBER_RE_UPLOAD")
                required = pending
            elif self._may_ship(status):
                if any(line.pre_split for line in lines) and not sheet["splitShipping"]:
                    return fail("PSD_NOT_ALLOW_TO_CHANGE")
                if len(live) < 2:
                    return fail("NOT_ALLOW_SEPARATE_WHEN_ONE_VENDOR_ITEM")
                required = [vid for vid in live if vid not in rec.item_invoices]
            else:
                return fail("INVALID_STATUS")
        else:
            if sheet["splitShipping"]:  # split in WING (or before): the rest cannot go as a normal shipment
                return fail("IS_SEPARATE_MUST_BE_TRUE_WHEN_SEPARATE_DELIVERY")
            if status in SHIPPED_STATUSES:
                return fail("NOT_ALLOW_INVOICE_NUMBER_RE_UPLOAD")
            if not self._may_ship(status):
                return fail("INVALID_STATUS")
            required = live
        if set(required) - sent:
            return fail("NOT_FOUND_VENDOR_ITEM")
        if not split and len({(line.courier, line.invoice) for line in lines}) > 1:
            return fail("IS_SEPARATE_MUST_BE_TRUE_WHEN_SEPARATE_DELIVERY")
        for line in lines:
            if not line.invoice:
                if split and line.estimated and not update:
                    continue
                return fail("NOT_FOUND_INVOICE_NUMBER")
            if line.courier != "DIRECT" and not self.invoice_number_re.fullmatch(line.invoice):
                return fail("INVALID_INVOICE_NUMBER")
            if self.reject_duplicate_invoice_number and line.courier != "DIRECT":
                owner = self._used_invoices.get((line.courier, line.invoice))
                if owner is not None and owner != box_id:
                    return fail("DUPLICATE_INVOICE_NUMBER")
        return None

    def _may_ship(self, status: str) -> bool:
        return status == "INSTRUCT" or (status == "ACCEPT" and not self.invoice_requires_instruct)

    def _apply_lines(self, rec: _Box, lines: list[_Line], update: bool) -> None:
        now = self.now()
        sheet = rec.sheet
        items = rec.items()
        shipped = [line for line in lines if line.invoice]
        for line in lines:
            it = items[line.vendor_item_id]
            if line.invoice:
                rec.item_invoices[line.vendor_item_id] = (line.courier, line.invoice)
                it["invoiceNumberUploadDate"] = fmt_dt(now)
                if line.courier != "DIRECT":
                    self._used_invoices[(line.courier, line.invoice)] = rec.box_id
            elif line.estimated:
                it["estimatedShippingDate"] = line.estimated
            entry = {"shipmentBoxId": line.shipment_box_id, "orderId": line.order_id,
                     "vendorItemId": line.vendor_item_id, "deliveryCompanyCode": line.courier,
                     "invoiceNumber": line.invoice, "splitShipping": line.split, "preSplitShipped": line.pre_split,
                     "estimatedShippingDate": line.estimated, "time": now}
            (self._invoice_updates if update else self._invoices).append(entry)
        if any(line.split for line in lines) and not update:
            sheet["splitShipping"] = True
        if shipped and (update or not sheet["invoiceNumber"]):
            first = shipped[0]
            sheet["deliveryCompanyName"] = self.couriers[first.courier]
            sheet["invoiceNumber"] = first.invoice
        if shipped and not update and sheet["status"] not in SHIPPED_STATUSES:
            direct = all(line.courier == "DIRECT" for line in shipped)
            sheet["status"] = "NONE_TRACKING" if direct and self.direct_sets_none_tracking else "DEPARTURE"

    def _take_box_failure(self, op: str, box_id: int) -> tuple[str, str, bool] | None:
        f = self._box_failures.get((op, box_id))
        if f is None:
            return None
        if f.remaining is not None:
            f.remaining -= 1
            if f.remaining <= 0:
                del self._box_failures[(op, box_id)]
        return (f.code, f.message, f.retry)


def _sort_key(b: _Box) -> tuple[float, int]:
    return (b.created_at.timestamp(), b.box_id)


def _encode_token(key: tuple[float, int]) -> str:
    raw = f"{round(key[0] * 1000)}:{key[1]}".encode("ascii")
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def _result(box_id: int, code: str, message: str, retry: bool) -> dict[str, Any]:
    return {"shipmentBoxId": box_id, "succeed": code == "OK", "resultCode": code, "resultMessage": message,
            "retryRequired": retry}


def _summary(results: list[dict[str, Any]], *, failed_message: str) -> tuple[int, str]:
    """B.4/B.5 responseCode: 0 all ok, 1 partial, 99 all failed, -1 nothing to do."""
    if not results:
        return -1, "NO_TARGET"
    ok = sum(1 for r in results if r["succeed"])
    if ok == len(results):
        return 0, "SUCCESS"
    if ok:
        return 1, "PARTIAL_SUCCESS"
    return 99, failed_message


_Handler_t = Callable[..., dict[str, Any]]
_V = r"/v2/providers/openapi/apis/api/v4/vendors/([^/]+)"
_ROUTES: list[tuple[frozenset[str], re.Pattern[str], _Handler_t]] = [
    (frozenset({"GET"}), re.compile(_V + r"/ordersheets"), FakeCoupang._list_sheets),
    (frozenset({"PATCH", "PUT"}), re.compile(_V + r"/ordersheets/acknowledgement"), FakeCoupang._acknowledge),
    (frozenset({"GET"}), re.compile(_V + r"/ordersheets/(\d+)"), FakeCoupang._single_sheet),
    (frozenset({"POST"}), re.compile(_V + r"/orders/invoices"), FakeCoupang._upload_invoices),
    (frozenset({"POST"}), re.compile(_V + r"/orders/updateInvoices"), FakeCoupang._update_invoices),
    (frozenset({"GET"}), re.compile(_V + r"/returnRequests"), FakeCoupang._list_returns),
]


# --- HTTP plumbing --------------------------------------------------------------------------------------
class _Server(ThreadingHTTPServer):
    # Handler threads are joined on close; idle keep-alive sockets are shut down first so the join is quick.
    daemon_threads = False
    block_on_close = True

    def __init__(self, fake: FakeCoupang, port: int) -> None:
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
    protocol_version = "HTTP/1.1"     # keep-alive, like the real gateway
    disable_nagle_algorithm = True    # headers and body are separate writes: no 40 ms delayed-ACK stall

    def _serve(self) -> None:
        fake = self.server.fake
        if fake._stopping.is_set():
            self.close_connection = True
            return
        body = self._read_body()
        headers = {k.lower(): v for k, v in self.headers.items()}
        reply, delay = fake._handle(self.command, self.path, headers, body)
        if delay and fake._stopping.wait(delay):
            self.close_connection = True     # shutting down: give up the late answer
            return
        if reply is None:                    # "disconnect": close without a byte
            self.close_connection = True
            return
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(reply.body)))
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(reply.body)

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _serve

    def log_message(self, format: str, *args: object) -> None:
        pass
