"""A fake Naver Commerce API (SmartStore seller API): real HTTP on 127.0.0.1, built from the contract in
``docs/marketplaces/smartstore.md`` (not from PackDesk's client).

It issues bcrypt-signed tokens, serves seeded product orders through the order-collection endpoints,
takes 발주확인 / 발송처리, serves a seeded product catalogue (product search, origin/channel product detail),
enforces the gateway's token bucket, and can be told to fail in the ways a real network and gateway fail
(5xx, late answers, garbage, dropped connections, per-item dispatch failures).
Every request is logged in ``requests`` and every accepted dispatch in ``dispatches``.

Usage::

    with FakeNaver(rate_limit=None) as fake:
        order = fake.add_order(2)                  # one order, two product orders, status PAYED
        product = fake.add_product("티셔츠", [{"optionName1": "블랙", "optionName2": "M",
                                               "sellerManagerCode": "TS-BLK-M", "stockQuantity": 5}])
        fake.base_url                              # "http://127.0.0.1:54321/external"
        fake.client_id, fake.client_secret         # what the client signs with

See NAVER_FAKE.md next to this file for the knobs and for the choices made where the spec says [?].
"""

from __future__ import annotations

import base64
import contextlib
import hmac
import itertools
import json
import re
import secrets
import socket
import struct
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import bcrypt

KST = timezone(timedelta(hours=9), "KST")

DEFAULT_CLIENT_ID = "4fAkeNaverC0mmerceAp01"                 # 22 chars, like a real application ID
DEFAULT_CLIENT_SECRET = "$2a$04$QKLnou1D2cSH19Pia30bcu"      # the spec's example secret; cost 04 = fast

# --- enums from the spec (§3.1, §4) -------------------------------------------------------------------
PRODUCT_ORDER_STATUSES = frozenset({
    "PAYMENT_WAITING", "PAYED", "DELIVERING", "DELIVERED", "PURCHASE_DECIDED", "EXCHANGED", "CANCELED",
    "RETURNED", "CANCELED_BY_NOPAYMENT"})
PLACE_ORDER_STATUSES = frozenset({"NOT_YET", "OK", "CANCEL"})
CLAIM_TYPES = frozenset({"CANCEL", "RETURN", "EXCHANGE", "PURCHASE_DECISION_HOLDBACK", "ADMIN_CANCEL"})
CLAIM_STATUSES = frozenset({
    "CANCEL_REQUEST", "CANCELING", "CANCEL_DONE", "CANCEL_REJECT", "RETURN_REQUEST", "EXCHANGE_REQUEST",
    "COLLECTING", "COLLECT_DONE", "EXCHANGE_REDELIVERING", "RETURN_DONE", "EXCHANGE_DONE", "RETURN_REJECT",
    "EXCHANGE_REJECT", "PURCHASE_DECISION_HOLDBACK", "PURCHASE_DECISION_REQUEST",
    "PURCHASE_DECISION_HOLDBACK_RELEASE", "ADMIN_CANCELING", "ADMIN_CANCEL_DONE", "ADMIN_CANCEL_REJECT"})
LAST_CHANGED_TYPES = frozenset({
    "PAY_WAITING", "PAYED", "EXCHANGE_OPTION", "DELIVERY_ADDRESS_CHANGED", "GIFT_RECEIVED", "CLAIM_REJECTED",
    "DISPATCHED", "CLAIM_REQUESTED", "COLLECT_DONE", "CLAIM_COMPLETED", "PURCHASE_DECIDED",
    "HOPE_DELIVERY_INFO_CHANGED", "CLAIM_REDELIVERING"})
DELIVERY_METHODS = frozenset({
    "DELIVERY", "GDFW_ISSUE_SVC", "VISIT_RECEIPT", "DIRECT_DELIVERY", "QUICK_SVC", "NOTHING",
    "RETURN_DESIGNATED", "RETURN_DELIVERY", "RETURN_INDIVIDUAL", "RETURN_MERCHANT", "UNKNOWN"})
# methods a seller may dispatch with; carrier + tracking number are only for DELIVERY
DISPATCH_METHODS = frozenset({"DELIVERY", "GDFW_ISSUE_SVC", "VISIT_RECEIPT", "DIRECT_DELIVERY", "QUICK_SVC",
                              "NOTHING"})
# §6.1: the listed part of the 203-entry deliveryCompanyCode table
CARRIER_CODES = frozenset({
    "CJGLS", "HYUNDAI", "HANJIN", "KGB", "EPOST", "KDEXP", "DAESIN", "ILYANG", "HDEXP", "CHUNIL", "KUNYOUNG",
    "CVSNET", "CUPARCEL", "REGISTPOST", "GENERALPOST", "NONGHYUP", "HOMEPICK", "KOREXG", "HLCGLOBAL", "CH1",
    "EMS", "DHL", "FEDEX", "UPS", "TNT", "USPS", "GS더프레시"})
RANGE_TYPES = frozenset({
    "PAYED_DATETIME", "ORDERED_DATETIME", "DISPATCHED_DATETIME", "PURCHASE_DECIDED_DATETIME",
    "CLAIM_REQUESTED_DATETIME", "CLAIM_COMPLETED_DATETIME", "COLLECT_COMPLETED_DATETIME",
    "GIFT_RECEIVED_DATETIME", "HOPE_DELIVERY_INFO_CHANGED_DATETIME"})

# §8 products. The spec note lists no product status values; these are the official doc's (S1o, S1l), a
# superset of SALE/OUTOFSTOCK/SUSPENSION/CLOSE/PROHIBITION/DELETE.
PRODUCT_STATUS_TYPES = frozenset({
    "WAIT", "SALE", "OUTOFSTOCK", "UNADMISSION", "REJECTION", "SUSPENSION", "CLOSE", "PROHIBITION", "DELETE"})
# searchKeywordType -> the request field it selects
SEARCH_KEYWORD_TYPES: Mapping[str, str] = {
    "CHANNEL_PRODUCT_NO": "channelProductNos", "PRODUCT_NO": "originProductNos",
    "GROUP_PRODUCT_NO": "groupProductNos", "SELLER_CODE": "sellerManagementCode"}
PRODUCT_ORDER_TYPES = frozenset({
    "NO", "NAME", "SELLER_CODE", "LOW_PRICE", "HIGH_PRICE", "REG_DATE", "MOD_DATE", "SALE_START", "SALE_END",
    "POPULARITY", "ACCUMULATE_SALE", "LOW_DISCOUNT_PRICE", "TOTAL_REVIEW_COUNT", "AVERAGE_REVIEW_SCORE"})
PRODUCT_PERIOD_TYPES = frozenset({"PROD_REG_DAY", "SALE_START_DAY", "SALE_END_DAY", "PROD_MOD_DAY"})
OPTION_COMBINATION_KEYS = ("id", "stockQuantity", "price", "usable", "optionName1", "optionName2", "optionName3",
                           "optionName4", "sellerManagerCode", "skuYn")     # the spec's order
MAX_PRODUCT_PAGE = 500
DEFAULT_PRODUCT_PAGE = 50
# realistic, stable numbers: origin/channel 10 digits, option combination ids 11 digits, all by seeding order
ORIGIN_NO_BASE, CHANNEL_NO_BASE, OPTION_ID_BASE, NO_STEP = 4_812_300_000, 4_869_700_000, 38_472_100_000, 7

MAX_PAGE = 300          # last-changed page, query ids, conditional-list pageSize
MAX_WRITE_IDS = 30      # confirm, dispatch

# gateway messages (§1.4, §2.2)
MSG_AUTHN = "요청을 보낼 권한이 없습니다."
MSG_RATE = "요청이 많아 서비스를 일시적으로 사용할 수 없습니다."
MSG_QUOTA = "할당된 시간당 요청량을 초과하였습니다."
MSG_NOT_FOUND = "요청한 API를 찾을 수 없습니다."
MSG_IP = "호출이 허용되지 않은 IP입니다."
MSG_TIMEOUT = "요청 대기 시간이 초과되었습니다."
MSG_INTERNAL = "서버 내부 오류가 발생했습니다."
MSG_BLOCK = "서비스를 일시적으로 사용할 수 없습니다."
MSG_STATUS = "상품주문 상태를 확인해 주세요."

_DT_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\.(\d{3})(Z|[+-]\d{2}:\d{2})$")


# --- helpers --------------------------------------------------------------------------------------------
def fmt_dt(dt: datetime) -> str:
    """``yyyy-MM-dd'T'HH:mm:ss.SSSXXX`` in KST, the only date-time shape the API speaks."""
    k = dt.astimezone(KST)
    return k.strftime("%Y-%m-%dT%H:%M:%S.") + f"{k.microsecond // 1000:03d}+09:00"


def parse_dt(text: str) -> datetime | None:
    """Strict: milliseconds and an offset are required (the real API answers 400 without them)."""
    if not isinstance(text, str) or not _DT_RE.match(text):
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def _ms(dt: datetime) -> datetime:
    return dt.replace(microsecond=dt.microsecond // 1000 * 1000)


def _as_dt(value: datetime | str) -> datetime:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("naive datetime; give a timezone (e.g. tests.fakes.naver.KST)")
        return _ms(value.astimezone(KST))
    dt = parse_dt(value)
    if dt is None:
        raise ValueError(f"not a yyyy-MM-dd'T'HH:mm:ss.SSS+09:00 date-time: {value!r}")
    return dt.astimezone(KST)


def make_signature(client_id: str, client_secret: str, timestamp_ms: int | str) -> str:
    """§1.2: base64(bcrypt.hashpw(f"{client_id}_{timestamp}", salt=client_secret))."""
    hashed = bcrypt.hashpw(f"{client_id}_{timestamp_ms}".encode(), client_secret.encode())
    return base64.b64encode(hashed).decode("ascii")


def new_client_secret(cost: int = 4) -> str:
    """A fresh application secret (a bcrypt salt string); low cost keeps tests fast."""
    return bcrypt.gensalt(rounds=cost, prefix=b"2a").decode("ascii")


def _pid_key(pid: str) -> tuple[int, str]:
    return (len(pid), pid)


class FakeClock:
    """A wall clock (epoch seconds) that only moves when told. Starts at real time unless given ``start``,
    so a client signing with the real clock still passes the 5-minute timestamp check."""

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
    path: str                              # full URL path, e.g. /external/v1/pay-order/seller/...
    query: dict[str, str]                  # first value of each query key
    query_all: dict[str, list[str]]
    headers: dict[str, str]                # lower-cased names
    body: bytes
    at: datetime                           # fake clock, KST
    status: int | None = None
    injected: str | None = None            # the fail_next kind applied, if any
    trace_id: str = ""

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8"))

    def form(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(self.body.decode("utf-8"), keep_blank_values=True).items()}


@dataclass(frozen=True)
class SeededOrder:
    order_id: str
    product_order_ids: tuple[str, ...]


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
class _ItemFailure:
    code: str
    message: str
    remaining: int | None   # None = every time


@dataclass
class _Reply:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json;charset=UTF-8"


class _ApiError(Exception):
    def __init__(self, status: int, body: dict[str, Any], headers: Mapping[str, str] | None = None) -> None:
        super().__init__(status, body)
        self.status = status
        self.body = body
        self.headers = dict(headers or {})


@dataclass
class _ProductOrder:
    order: dict[str, Any]          # shared by every product order of one order
    po: dict[str, Any]             # the productOrder object
    delivery: dict[str, Any] | None = None
    claims: list[dict[str, Any]] = field(default_factory=list)   # {"claimType", "fields": {...}}
    completed_claims: list[dict[str, Any]] = field(default_factory=list)
    receiver_address_changed: bool = False
    lc: dict[str, Any] = field(default_factory=dict)   # the last-changed record, rewritten only on events
    lc_date: datetime | None = None

    @property
    def pid(self) -> str:
        return self.po["productOrderId"]


@dataclass(frozen=True)
class SeededProduct:
    origin_product_no: int
    channel_product_no: int
    option_ids: tuple[int, ...]       # optionCombinations ids, in seeding order (empty: no options)


@dataclass(eq=False)
class _Product:
    origin_no: int
    channel_no: int
    name: str
    status: str
    sale_price: int
    stock: int | None                       # None: sum of the usable options' stock
    seller_code: str | None
    options: list[dict[str, Any]] | None    # optionCombinations in spec names; None: a product without options
    group_names: dict[str, str] | None
    group: dict[str, Any] | None            # groupProduct
    origin_fields: dict[str, Any]           # more originProduct fields (spec names) over the defaults
    detail_fields: dict[str, Any]           # more detailAttribute fields
    smartstore: dict[str, Any]              # smartstoreChannelProduct fields over the defaults
    window: dict[str, Any] | None           # windowChannelProduct (None: not on a window channel)
    reg: datetime
    mod: datetime
    image_version: int = 1                  # a new representative image is a new URL (the CDN's way)
    image_missing: bool = False             # the CDN answers 404 for its picture

    @property
    def group_no(self) -> int | None:
        return self.group["groupProductNo"] if self.group else None

    def current_stock(self) -> int:
        if self.stock is not None:
            return self.stock
        return sum(o.get("stockQuantity", 0) for o in self.options or () if o.get("usable", True))


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
    {"productName": "머그컵", "productOption": "색상: 화이트", "optionManageCode": "MUG-WH",
     "sellerProductCode": "MUG", "unitPrice": 9000},
    {"productName": "스테인리스 텀블러", "productOption": "용량: 500ml / 색상: 블랙", "optionManageCode": "TUM-500-BK",
     "sellerProductCode": "TUM", "unitPrice": 15000},
    {"productName": "캔버스 에코백", "productOption": None, "optionManageCode": None,   # a product without options
     "sellerProductCode": "BAG-01", "unitPrice": 12000},
)

_DEFAULT_ADDRESS: dict[str, Any] = {
    "addressType": "DOMESTIC", "name": "홍길동", "tel1": "010-1234-5678", "tel2": "",
    "baseAddress": "서울특별시 중구 세종대로 110", "detailedAddress": "101동 1001호", "zipCode": "04524",
    "city": "", "state": "", "country": "한국", "isRoadNameAddress": True,
}
_TAKING_ADDRESS: dict[str, Any] = {
    "addressType": "DOMESTIC", "name": "팩데스크 물류센터", "tel1": "031-000-0000",
    "baseAddress": "경기도 이천시 마장면 물류로 1",
    "detailedAddress": "A동", "zipCode": "17385", "city": "", "state": "", "country": "한국", "isRoadNameAddress": True,
}


DEEP_NESTING = 100_000  # "deep" replies: lists in lists, far past Python's recursion limit


# --- the fake -------------------------------------------------------------------------------------------
class FakeNaver:
    """Context manager. ``base_url`` is where the client points (``.../external``); ``client_id`` and
    ``client_secret`` are what it signs with. See NAVER_FAKE.md for every knob."""

    def __init__(
        self,
        *,
        client_id: str = DEFAULT_CLIENT_ID,
        client_secret: str = DEFAULT_CLIENT_SECRET,
        clock: Callable[[], float] | None = None,
        rate_clock: Callable[[], float] | None = None,
        base_path: str = "/external",
        token_ttl: float = 10_800,
        token_reuse_min_left: float = 1_800,
        token_type: str = "Bearer",
        reused_token_reports_remaining: bool = True,
        timestamp_max_age: float = 300,
        timestamp_max_ahead: float = 300,
        seller_accounts: Iterable[str] = (),
        rate_limit: float | None = 2.0,
        burst: float | None = None,
        rate_limit_per_api: Mapping[str, float | None] | None = None,
        retry_after: int | None = None,
        quota_penalty_on_nonstandard_token: bool = False,
        page_size: int = MAX_PAGE,
        max_window: timedelta | None = timedelta(hours=24),
        max_lookback: timedelta | None = None,
        empty_last_changed_omits_data: bool = False,
        reconfirm_fails: bool = False,
        dispatch_requires_confirm: bool = False,
        dispatch_cancel_requested_fails: bool = True,
        reject_reused_tracking_number: bool = False,
        tracking_number_pattern: str = r"[0-9A-Za-z-]{6,30}",
        dispatch_date_max_ahead: timedelta = timedelta(hours=1),
        carrier_codes: Iterable[str] = CARRIER_CODES,
        timeout_delay: float = 5.0,
        raise_server_errors: bool = True,
        search_hides_deleted: bool = False,
        deleted_product_not_found: bool = False,
        product_absent_parts_as_null: bool = False,
    ) -> None:
        if base_path and (not base_path.startswith("/") or base_path.endswith("/")):
            raise ValueError("base_path looks like '/external'")
        self.client_id = client_id
        self.client_secret = client_secret
        self.clock: Callable[[], float] = clock or time.time
        self.rate_clock: Callable[[], float] = rate_clock or time.monotonic
        self.base_path = base_path
        self.token_ttl = token_ttl
        self.token_reuse_min_left = token_reuse_min_left
        self.token_type = token_type
        self.reused_token_reports_remaining = reused_token_reports_remaining
        self.timestamp_max_age = timestamp_max_age
        self.timestamp_max_ahead = timestamp_max_ahead
        self.seller_accounts = set(seller_accounts)
        self.retry_after = retry_after
        self.quota_penalty_on_nonstandard_token = quota_penalty_on_nonstandard_token
        self.page_size = page_size
        self.max_window = max_window
        self.max_lookback = max_lookback
        self.empty_last_changed_omits_data = empty_last_changed_omits_data
        self.reconfirm_fails = reconfirm_fails
        self.dispatch_requires_confirm = dispatch_requires_confirm
        self.dispatch_cancel_requested_fails = dispatch_cancel_requested_fails
        self.reject_reused_tracking_number = reject_reused_tracking_number
        self.tracking_number_re = re.compile(tracking_number_pattern)
        self.dispatch_date_max_ahead = dispatch_date_max_ahead
        self.carrier_codes = frozenset(carrier_codes)
        self.timeout_delay = timeout_delay
        self.raise_server_errors = raise_server_errors
        self.search_hides_deleted = search_hides_deleted
        self.deleted_product_not_found = deleted_product_not_found
        self.product_absent_parts_as_null = product_absent_parts_as_null
        self.port = 0
        self.image_requests: list[str] = []  # picture downloads (the CDN's), not in ``requests``

        self._lock = threading.RLock()
        self._rate: float | None = None
        self._burst: float = 0
        self._rate_per_api: dict[str, float | None] = dict(rate_limit_per_api or {})
        self.set_rate_limit(rate_limit, burst)
        self._buckets: dict[str, _Bucket] = {}
        self._tokens: dict[str, dict[str, Any]] = {}
        self._tokens_issued: list[dict[str, Any]] = []
        self._nonstandard: list[str] = []
        self._penalized = False
        self._quota_used: dict[int, int] = {}
        self._requests: list[RequestRecord] = []
        self._dispatches: list[dict[str, Any]] = []
        self._confirmations: list[dict[str, Any]] = []
        self._server_errors: list[BaseException] = []
        self._injections: list[_Injection] = []
        self._item_failures: dict[tuple[str, str], _ItemFailure] = {}
        self._pos: dict[str, _ProductOrder] = {}
        self._orders: dict[str, list[str]] = {}
        self._order_seq = itertools.count(1)
        self._po_seq = itertools.count(1)
        self._claim_seq = itertools.count(1)
        self._trace_seq = itertools.count(1)
        self._products: dict[int, _Product] = {}        # by originProductNo
        self._by_channel: dict[int, int] = {}           # channelProductNo -> originProductNo
        self._option_ids: set[int] = set()
        self._product_seq = itertools.count(1)
        self._option_seq = itertools.count(1)
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle --------------------------------------------------------------------------------------
    def __enter__(self) -> FakeNaver:
        self.start()
        return self

    def __exit__(self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()
        if e is None and self.raise_server_errors and self._server_errors:
            raise AssertionError(f"the fake Naver server crashed: {self._server_errors[0]!r}") \
                from self._server_errors[0]

    def start(self) -> None:
        assert self._server is None, "already running"
        self._stopping.clear()
        self._server = _Server(self, self.port)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="fake-naver", daemon=True)
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
        return f"http://127.0.0.1:{self.port}{self.base_path}"

    @property
    def token_url(self) -> str:
        return f"{self.base_url}/v1/oauth2/token"

    # -- configuration at run time ----------------------------------------------------------------------
    def set_rate_limit(self, rate: float | None, burst: float | None = None, *, api: str | None = None) -> None:
        """Replenish rate (req/s) of every API's bucket, or of one API (route name, see NAVER_FAKE.md).
        None = unlimited. Burst defaults to 2 x rate (§2.3). Buckets restart full."""
        with self._lock:
            if api is not None:
                self._rate_per_api[api] = rate
            else:
                self._rate = rate
                self._burst = burst if burst is not None else (2 * rate if rate else 0)
            self._buckets = {}

    def set_quota_penalty(self, on: bool = True) -> None:
        """The §1.1 penalty: every API limited to 1 call per (fake-clock) hour, 429 GW.QUOTA_LIMIT after."""
        with self._lock:
            self._penalized = on
            self._quota_used.clear()

    def expire_tokens(self) -> None:
        """Every issued token stops working now (next API call answers 401 GW.AUTHN)."""
        with self._lock:
            now = self.clock()
            for tok in self._tokens.values():
                tok["expires_at"] = min(tok["expires_at"], now)

    def sign(self, timestamp_ms: int | str) -> str:
        return make_signature(self.client_id, self.client_secret, timestamp_ms)

    # -- failure injection ------------------------------------------------------------------------------
    def fail_next(self, path: str | None, kind: int | str, count: int = 1, *, method: str | None = None,
                  delay: float | None = None, process: bool = False, code: str | None = None,
                  message: str | None = None) -> None:
        """The next ``count`` requests whose URL path contains ``path`` (None: any request, token calls
        included) fail with ``kind``: an HTTP status (401, 403, 429, 500, 502, 503, 504 get the gateway's
        bodies; 502 an HTML page), "quota" (429 GW.QUOTA_LIMIT), "timeout" (answer ``delay`` seconds
        late, default ``timeout_delay``), "malformed" (200 with broken JSON), "deep" (200 with well-formed
        JSON nested 100,000 deep, deeper than Python's parser goes) or "disconnect" (close the
        socket without answering). ``process=True`` applies the request first (e.g. the dispatch really
        happens) and then fails the answer; by default nothing is applied. Injections queue in order."""
        if isinstance(kind, str) and kind.isdigit():
            kind = int(kind)
        if not (isinstance(kind, int) or kind in {"timeout", "malformed", "deep", "disconnect", "quota"}):
            raise ValueError(f"unknown failure kind {kind!r}")
        with self._lock:
            self._injections.append(_Injection(path, method.upper() if method else None, kind, count,
                                               self.timeout_delay if delay is None else delay, process,
                                               code, message))

    def fail_dispatch(self, *product_order_ids: str, code: str = "104122",
                      message: str = "송장번호가 유효하지 않습니다.", times: int | None = 1) -> None:
        """These product orders fail in the next ``times`` dispatch requests that contain them (None:
        always) with a per-item ``failProductOrderInfos`` entry; the rest of the batch goes through."""
        self._fail_items("dispatch", product_order_ids, code, message, times)

    def fail_confirm(self, *product_order_ids: str, code: str = "9999", message: str = "처리 중 오류가 발생했습니다.",
                     times: int | None = 1) -> None:
        self._fail_items("confirm", product_order_ids, code, message, times)

    def clear_failures(self) -> None:
        with self._lock:
            self._injections.clear()
            self._item_failures.clear()

    def _fail_items(self, op: str, ids: Iterable[str], code: str, message: str, times: int | None) -> None:
        with self._lock:
            for pid in ids:
                self._item_failures[(op, pid)] = _ItemFailure(code, message, times)

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
    def dispatches(self) -> list[dict[str, Any]]:
        """Every accepted dispatch item: productOrderId, orderId, deliveryMethod, deliveryCompanyCode,
        trackingNumber, dispatchDate (as sent), time (fake clock, KST datetime)."""
        with self._lock:
            return [dict(d) for d in self._dispatches]

    @property
    def confirmations(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(c) for c in self._confirmations]

    @property
    def tokens_issued(self) -> list[dict[str, Any]]:
        """Newly issued tokens (a re-returned token is not listed again)."""
        with self._lock:
            return [dict(t) for t in self._tokens_issued]

    @property
    def nonstandard_token_calls(self) -> list[str]:
        """Why each token call was "non-standard" (§1.1 penalty material), e.g. params in the query string."""
        with self._lock:
            return list(self._nonstandard)

    @property
    def penalized(self) -> bool:
        with self._lock:
            return self._penalized

    @property
    def server_errors(self) -> list[BaseException]:
        with self._lock:
            return list(self._server_errors)

    def product_order(self, product_order_id: str) -> dict[str, Any]:
        """The detail object the query API would return for it (order, productOrder, delivery, claims)."""
        with self._lock:
            return json.loads(json.dumps(self._detail(self._get(product_order_id)), ensure_ascii=False))

    def status(self, product_order_id: str) -> str:
        with self._lock:
            return self._get(product_order_id).po["productOrderStatus"]

    def product_order_ids(self, order_id: str | None = None) -> list[str]:
        with self._lock:
            return list(self._orders[order_id]) if order_id else list(self._pos)

    def now(self) -> datetime:
        return _ms(datetime.fromtimestamp(self.clock(), KST))

    # -- seeding ----------------------------------------------------------------------------------------
    def add_order(
        self,
        items: int | Sequence[Mapping[str, Any]] = 1,
        *,
        order_id: str | None = None,
        paid_at: datetime | str | None = None,
        ordered_at: datetime | str | None = None,
        last_changed_at: datetime | str | None = None,
        last_changed_type: str | None = None,
        order: Mapping[str, Any] | None = None,
        **product_order_fields: Any,
    ) -> SeededOrder:
        """Seed one order with product orders. ``items``: a count, or one mapping per product order of
        ``productOrder`` fields (spec names; a ``delivery`` key becomes the delivery object). Keyword
        arguments in spec names (``shippingAddress=`` merged over the default, ``shippingMemo=``,
        ``productOrderStatus=``, ``placeOrderStatus=``, ``packageNumber=`` …) apply to every product order;
        ``order=`` overrides order fields (``ordererName``, ``ordererTel`` …). Times default to now (fake
        clock): paymentDate = ``paid_at``, lastChangedDate = ``last_changed_at`` or paymentDate."""
        specs: list[Mapping[str, Any]] = [{} for _ in range(items)] if isinstance(items, int) else list(items)
        if not specs:
            raise ValueError("an order needs at least one product order")
        with self._lock:
            now = self.now()
            paid = _as_dt(paid_at) if paid_at is not None else now
            ordered = _as_dt(ordered_at) if ordered_at is not None else paid - timedelta(seconds=40)
            changed = _as_dt(last_changed_at) if last_changed_at is not None else paid
            n = next(self._order_seq)
            oid = order_id or f"{ordered:%Y%m%d}{10_000_000 + n:08d}"
            if oid in self._orders:
                raise ValueError(f"order {oid} already seeded")
            order_obj: dict[str, Any] = {
                "orderId": oid, "orderDate": fmt_dt(ordered), "ordererId": f"buyer{n:04d}",
                "ordererNo": f"{300_000_000 + n}", "ordererName": "홍길동", "ordererTel": "010-1234-5678",
                "paymentDate": fmt_dt(paid), "paymentDueDate": fmt_dt(ordered + timedelta(days=3)),
                "paymentMeans": "신용카드", "payLocationType": "MOBILE", "orderDiscountAmount": 0,
                "naverMileagePaymentAmount": 0, "chargeAmountPaymentAmount": 0,
                "checkoutAccumulationPaymentAmount": 0, "payLaterPaymentAmount": 0,
                "isDeliveryMemoParticularInput": False, "isMembershipSubscribed": False,
            }
            order_obj.update(order or {})
            package = product_order_fields.pop("packageNumber", None) or f"{ordered:%Y%m%d}{n:05d}"
            pids: list[str] = []
            total = 0
            for i, spec in enumerate(specs):
                po, delivery = self._new_product_order(oid, ordered, package, i, {**product_order_fields, **spec})
                total += po["totalPaymentAmount"]
                rec = _ProductOrder(order_obj, po, delivery)
                if po["productOrderStatus"] == "PAYMENT_WAITING":
                    order_obj.pop("paymentDate", None)
                lct = last_changed_type or _seed_event(po["productOrderStatus"])
                self._event(rec, lct, changed)
                self._pos[po["productOrderId"]] = rec
                pids.append(po["productOrderId"])
            order_obj.setdefault("generalPaymentAmount", total)
            self._orders[oid] = pids
            return SeededOrder(oid, tuple(pids))

    def _new_product_order(self, oid: str, ordered: datetime, package: str, i: int,
                           fields: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any] | None]:
        m = next(self._po_seq)
        base = dict(_CATALOGUE[(m - 1) % len(_CATALOGUE)])
        pid = fields.pop("productOrderId", None) or f"{ordered:%Y%m%d}{50_000_000 + m:08d}"
        if pid in self._pos:
            raise ValueError(f"product order {pid} already seeded")
        delivery = fields.pop("delivery", None)
        address = {**_DEFAULT_ADDRESS, **fields.pop("shippingAddress", {})}
        product_no = 9_000_000_000 + (m - 1) % len(_CATALOGUE) * 1111
        po: dict[str, Any] = {
            "productOrderId": pid, "productOrderStatus": "PAYED", "placeOrderStatus": "NOT_YET",
            "productId": str(product_no), "originalProductId": str(product_no - 800_000_000),
            "merchantChannelId": "500123456", "productClass": "조합형옵션상품" if base["productOption"] else "단일상품",
            "optionCode": str(40_000_000_000 + m) if base["productOption"] else None,
            "quantity": 1, "optionPrice": 0, "productDiscountAmount": 0, "deliveryFeeAmount": 0,
            "deliveryPolicyType": "무료", "shippingFeeType": "무료", "sectionDeliveryFee": 0,
            "packageNumber": package, "expectedDeliveryMethod": "DELIVERY", "expectedDeliveryCompany": "CJGLS",
            "deliveryAttributeType": "NORMAL", "shippingDueDate": fmt_dt(
                (ordered + timedelta(days=3)).replace(hour=23, minute=59, second=59, microsecond=0)),
            "shippingMemo": "문 앞에 놓아주세요", "shippingAddress": address, "takingAddress": dict(_TAKING_ADDRESS),
            "taxType": "TAX", "sellerCustomCode1": "", "sellerCustomCode2": "",
            **base,
        }
        po.update(fields)
        po.setdefault("itemNo", po.get("optionCode"))
        qty = po["quantity"]
        po.setdefault("initialQuantity", qty)
        po.setdefault("remainQuantity", qty)
        po.setdefault("totalProductAmount", (po["unitPrice"] + po["optionPrice"]) * qty)
        po.setdefault("totalPaymentAmount", po["totalProductAmount"] - po["productDiscountAmount"])
        po.setdefault("expectedSettlementAmount", int(po["totalPaymentAmount"] * 0.95))
        po.setdefault("paymentCommission", int(po["totalPaymentAmount"] * 0.0363))
        po.setdefault("saleCommission", int(po["totalPaymentAmount"] * 0.02))
        _check_enum(po["productOrderStatus"], PRODUCT_ORDER_STATUSES, "productOrderStatus")
        _check_enum(po["placeOrderStatus"], PLACE_ORDER_STATUSES, "placeOrderStatus")
        if po.get("claimType") is not None:
            _check_enum(po["claimType"], CLAIM_TYPES, "claimType")
        if po.get("claimStatus") is not None:
            _check_enum(po["claimStatus"], CLAIM_STATUSES, "claimStatus")
        if po["productOrderStatus"] in {"DELIVERING", "DELIVERED", "PURCHASE_DECIDED"} and delivery is None:
            delivery = {"deliveryMethod": "DELIVERY", "deliveryCompany": "CJGLS",
                        "trackingNumber": f"6{m:011d}", "sendDate": fmt_dt(ordered + timedelta(hours=2)),
                        "deliveryStatus": "DELIVERING", "isWrongTrackingNumber": False}
        return po, delivery

    # -- changing seeded orders (each event rewrites the last-changed record, §3.1) ---------------------
    def update(self, product_order_id: str, *, event: str | None, at: datetime | str | None = None,
               **product_order_fields: Any) -> None:
        """Set productOrder fields; ``event`` (a lastChangedType) rewrites its last-changed record at
        ``at`` (default now); ``event=None`` changes the detail only (like 발주확인 or 배송완료)."""
        with self._lock:
            rec = self._get(product_order_id)
            for key, enum in (("productOrderStatus", PRODUCT_ORDER_STATUSES), ("claimType", CLAIM_TYPES),
                              ("claimStatus", CLAIM_STATUSES), ("placeOrderStatus", PLACE_ORDER_STATUSES)):
                if product_order_fields.get(key) is not None:
                    _check_enum(product_order_fields[key], enum, key)
            rec.po.update(product_order_fields)
            if event is not None:
                self._event(rec, event, _as_dt(at) if at is not None else self.now())

    def request_cancel(self, product_order_id: str, *, reason: str = "INTENT_CHANGED",
                       at: datetime | str | None = None) -> None:
        """The buyer asks to cancel: status stays (e.g. PAYED), claim CANCEL/CANCEL_REQUEST, event
        CLAIM_REQUESTED."""
        self._claim(product_order_id, "CANCEL", "CANCEL_REQUEST", "CLAIM_REQUESTED", at,
                    cancelReason=reason, cancelDetailedReason="", requestChannel="구매회원")

    def complete_cancel(self, product_order_id: str, *, at: datetime | str | None = None) -> None:
        """The cancel is done: CANCELED, claim CANCEL_DONE, event CLAIM_COMPLETED."""
        with self._lock:
            rec = self._get(product_order_id)
            if rec.po.get("claimType") != "CANCEL":
                self._claim(product_order_id, "CANCEL", "CANCEL_REQUEST", None, at,
                            cancelReason="INTENT_CHANGED", requestChannel="구매회원")
            when = _as_dt(at) if at is not None else self.now()
            claim = rec.claims[-1]["fields"]
            claim.update(claimStatus="CANCEL_DONE", cancelApprovalDate=fmt_dt(when), cancelCompletedDate=fmt_dt(when))
            rec.completed_claims.append({"claimType": "CANCEL", "claimId": claim["claimId"],
                                         "claimStatus": "CANCEL_DONE",
                                         "claimRequestDate": claim["claimRequestDate"],
                                         "claimRequestReason": claim.get("cancelReason"),
                                         "requestQuantity": claim["requestQuantity"]})
            rec.po.update(productOrderStatus="CANCELED", claimStatus="CANCEL_DONE")
            self._event(rec, "CLAIM_COMPLETED", when)

    def request_return(self, product_order_id: str, *, reason: str = "PRODUCT_UNSATISFIED", detail: str = "",
                       collect_company: str | None = None, collect_tracking: str | None = None,
                       at: datetime | str | None = None) -> None:
        """The buyer asks to return (§3.5): claim RETURN/RETURN_REQUEST, status unchanged, event
        CLAIM_REQUESTED. ``collect_company``/``collect_tracking``: a pickup booked with the request (the
        buyer sends it back himself); otherwise the claim has no pickup fields yet."""
        self._claim(product_order_id, "RETURN", "RETURN_REQUEST", "CLAIM_REQUESTED", at,
                    returnReason=reason, returnDetailedReason=detail, requestChannel="구매회원",
                    **_pickup(collect_company, collect_tracking))

    def request_exchange(self, product_order_id: str, *, reason: str = "COLOR_AND_SIZE", detail: str = "",
                         collect_company: str | None = None, collect_tracking: str | None = None,
                         at: datetime | str | None = None) -> None:
        """The buyer asks to exchange (§3.5): claim EXCHANGE/EXCHANGE_REQUEST, event CLAIM_REQUESTED."""
        self._claim(product_order_id, "EXCHANGE", "EXCHANGE_REQUEST", "CLAIM_REQUESTED", at,
                    exchangeReason=reason, exchangeDetailedReason=detail, requestChannel="구매회원",
                    **_pickup(collect_company, collect_tracking))

    def start_collect(self, product_order_id: str, *, company: str = "CJGLS", tracking: str,
                      event: str | None = None, at: datetime | str | None = None) -> None:
        """A pickup is booked for the current return/exchange claim: COLLECTING with its courier and waybill.
        §3.1 names no change event for it, so none is written unless ``event`` says one."""
        self._claim_moves(product_order_id, "COLLECTING", event, at, **_pickup(company, tracking),
                          collectStatus="COLLECT_REQUEST")

    def complete_collect(self, product_order_id: str, *, at: datetime | str | None = None) -> None:
        """The pickup is done (on its way to the seller): COLLECT_DONE, event COLLECT_DONE."""
        when = _as_dt(at) if at is not None else self.now()
        self._claim_moves(product_order_id, "COLLECT_DONE", "COLLECT_DONE", when, collectStatus="COLLECT_CARGO",
                          collectCompletedDate=fmt_dt(when))

    def complete_return(self, product_order_id: str, *, at: datetime | str | None = None) -> None:
        """The return is done: RETURN_DONE, the product order RETURNED, completedClaims, event CLAIM_COMPLETED."""
        self._claim_moves(product_order_id, "RETURN_DONE", "CLAIM_COMPLETED", at, product_order_status="RETURNED")

    def reject_claim(self, product_order_id: str, *, at: datetime | str | None = None) -> None:
        """The seller refuses the return/exchange: RETURN_REJECT / EXCHANGE_REJECT, event CLAIM_REJECTED."""
        with self._lock:
            kind = self._get(product_order_id).po.get("claimType")
        if kind not in ("RETURN", "EXCHANGE"):
            raise ValueError(f"{product_order_id} has no return or exchange claim")
        self._claim_moves(product_order_id, f"{kind}_REJECT", "CLAIM_REJECTED", at)

    def _claim_moves(self, pid: str, claim_status: str, event: str | None, at: datetime | str | None,
                     product_order_status: str | None = None, **fields: Any) -> None:
        with self._lock:
            rec = self._get(pid)
            if rec.po.get("claimType") not in ("RETURN", "EXCHANGE") or not rec.claims:
                raise ValueError(f"{pid} has no return or exchange claim")
            when = _as_dt(at) if at is not None else self.now()
            claim = rec.claims[-1]["fields"]
            claim.update(claimStatus=claim_status, **fields)
            rec.po["claimStatus"] = claim_status
            if product_order_status is not None:
                rec.po["productOrderStatus"] = product_order_status
            if claim_status.endswith("_DONE") and claim_status != "COLLECT_DONE":
                rec.completed_claims.append({"claimType": rec.po["claimType"], "claimId": claim["claimId"],
                                             "claimStatus": claim_status,
                                             "claimRequestDate": claim["claimRequestDate"],
                                             "requestQuantity": claim["requestQuantity"]})
            if event is not None:
                self._event(rec, event, when)

    def change_address(self, product_order_id: str, *, at: datetime | str | None = None, **address: Any) -> None:
        """The buyer changes the shipping address of the whole order: event DELIVERY_ADDRESS_CHANGED,
        receiverAddressChanged=true (and isReceiverAddressChanged on a later confirm)."""
        with self._lock:
            rec = self._get(product_order_id)
            when = _as_dt(at) if at is not None else self.now()
            for pid in self._orders[rec.order["orderId"]]:
                other = self._pos[pid]
                other.po["shippingAddress"] = {**other.po["shippingAddress"], **address}
                other.receiver_address_changed = True
                self._event(other, "DELIVERY_ADDRESS_CHANGED", when)

    def mark_delivered(self, product_order_id: str, *, at: datetime | str | None = None) -> None:
        """배송완료 by the system: DELIVERED, and — per §3.1 — no last-changed event."""
        with self._lock:
            rec = self._get(product_order_id)
            when = _as_dt(at) if at is not None else self.now()
            rec.po["productOrderStatus"] = "DELIVERED"
            if rec.delivery is not None:
                rec.delivery.update(deliveredDate=fmt_dt(when), deliveryStatus="DELIVERY_COMPLETION")

    def purchase_decide(self, product_order_id: str, *, at: datetime | str | None = None) -> None:
        with self._lock:
            rec = self._get(product_order_id)
            when = _as_dt(at) if at is not None else self.now()
            rec.po.update(productOrderStatus="PURCHASE_DECIDED", decisionDate=fmt_dt(when))
            self._event(rec, "PURCHASE_DECIDED", when)

    def _claim(self, pid: str, claim_type: str, claim_status: str, event: str | None,
               at: datetime | str | None, **fields: Any) -> None:
        with self._lock:
            rec = self._get(pid)
            when = _as_dt(at) if at is not None else self.now()
            claim_id = f"{when:%Y%m%d}{70_000_000 + next(self._claim_seq):08d}"
            body = {"claimId": claim_id, "claimStatus": claim_status, "claimRequestDate": fmt_dt(when),
                    "requestQuantity": rec.po["quantity"], **fields}
            rec.claims.append({"claimType": claim_type, "fields": body})
            rec.po.update(claimType=claim_type, claimStatus=claim_status, claimId=claim_id)
            if event is not None:
                self._event(rec, event, when)

    def _event(self, rec: _ProductOrder, last_changed_type: str, when: datetime) -> None:
        _check_enum(last_changed_type, LAST_CHANGED_TYPES, "lastChangedType")
        lc: dict[str, Any] = {"orderId": rec.order["orderId"], "productOrderId": rec.pid,
                              "productOrderStatus": rec.po["productOrderStatus"],
                              "lastChangedType": last_changed_type}
        if rec.po.get("claimType"):
            lc["claimType"] = rec.po["claimType"]
        if rec.po.get("claimStatus"):
            lc["claimStatus"] = rec.po["claimStatus"]
        if rec.order.get("paymentDate"):
            lc["paymentDate"] = rec.order["paymentDate"]
        lc["lastChangedDate"] = fmt_dt(when)
        lc["receiverAddressChanged"] = rec.receiver_address_changed
        rec.lc, rec.lc_date = lc, _ms(when)

    def _get(self, pid: str) -> _ProductOrder:
        try:
            return self._pos[pid]
        except KeyError:
            raise KeyError(f"no seeded product order {pid}") from None

    # -- seeding products (§8) ----------------------------------------------------------------------------
    def add_product(
        self,
        name: str | None = None,
        options: int | Sequence[Mapping[str, Any]] | None = None,
        *,
        seller_code: str | None = None,
        status: str = "SALE",
        option_group_names: Sequence[str] | None = None,
        origin_product_no: int | str | None = None,
        channel_product_no: int | str | None = None,
        group_product_no: int | str | None = None,
        registered_at: datetime | str | None = None,
        **fields: Any,
    ) -> SeededProduct:
        """Seed one product: an origin product with its smartstore channel product. ``options``: None (no
        options: no ``optionInfo``), a count (generated combinations), or one mapping per option combination in
        spec names — ``optionName1..4``, ``stockQuantity`` (default 0), ``price`` (default 0), ``usable``
        (default true), ``sellerManagerCode`` (option level spelling!), ``skuYn``, ``id`` (default: the next
        11-digit id). ``seller_code`` is the product-level ``sellerManagementCode``. ``**fields`` are
        originProduct fields in spec names (``salePrice``, ``stockQuantity`` — default: the sum over the usable
        options —, ``leafCategoryId``, ``saleStartDate`` …); ``detailAttribute=``, ``smartstoreChannelProduct=``
        and ``windowChannelProduct=`` are merged into those parts."""
        with self._lock:
            return self._add_product(name, options, seller_code, status, option_group_names, origin_product_no,
                                     channel_product_no, group_product_no,
                                     _as_dt(registered_at) if registered_at is not None else self.now(), fields)

    def add_products(self, n: int, options_per_product: int = 3, *, status: str = "SALE",
                     registered_at: datetime | str | None = None, **fields: Any) -> list[SeededProduct]:
        """Bulk seeding: ``n`` products named "테스트 상품 00001"…, seller codes ``P000001``…, each with
        ``options_per_product`` combinations (색상 × 사이즈, codes ``P000001-01``…, varied stock; 0 = no
        options). ``**fields`` as in ``add_product``, for every product. 10 000 × 3 takes well under a second."""
        with self._lock:
            when = _as_dt(registered_at) if registered_at is not None else self.now()
            return [self._add_product(None, options_per_product if options_per_product else None, None, status,
                                      None, None, None, None, when, dict(fields), auto=True) for _ in range(n)]

    def delete_product(self, no: int | str, *, purge: bool = False) -> None:
        """The seller deletes the product (origin or channel number): ``statusType`` DELETE everywhere, still
        readable and still listed. ``purge=True``: gone altogether (404, not in search results)."""
        with self._lock:
            p = self._resolve(no)
            if purge:
                del self._products[p.origin_no]
                del self._by_channel[p.channel_no]       # its option ids stay taken: never reused
            else:
                p.status = "DELETE"
                p.mod = self.now()

    def set_product_status(self, no: int | str, status: str) -> None:
        """Set ``statusType`` (origin and channel product alike), e.g. OUTOFSTOCK, SUSPENSION, CLOSE."""
        self.update_product(no, statusType=status)

    def update_product(self, no: int | str, **fields: Any) -> None:
        """Change originProduct fields in spec names (``name``, ``statusType``, ``salePrice``,
        ``stockQuantity``, ``sellerManagementCode``, …; ``detailAttribute``/``smartstoreChannelProduct``/
        ``windowChannelProduct`` are merged). ``modifiedDate`` becomes now."""
        with self._lock:
            p = self._resolve(no)
            self._apply_product_fields(p, dict(fields))
            p.mod = self.now()

    def remove_option(self, no: int | str, option_id: int | str, *, drop: bool = False) -> None:
        """The seller stops selling one option combination: ``usable: false`` (default), or — ``drop=True`` —
        the combination disappears from ``optionCombinations``."""
        with self._lock:
            p = self._resolve(no)
            opt = self._option(p, option_id)
            if drop:
                assert p.options is not None
                p.options.remove(opt)                     # the id stays taken: never reused
            else:
                opt["usable"] = False
            p.mod = self.now()

    def update_option(self, no: int | str, option_id: int | str, **fields: Any) -> None:
        """Change one option combination (``stockQuantity``, ``price``, ``usable``, ``optionName1..4``,
        ``sellerManagerCode``, ``skuYn``)."""
        with self._lock:
            p = self._resolve(no)
            opt = self._option(p, option_id)
            _check_option_keys(fields, allow_id=False)
            merged = {**opt, **fields}
            opt.clear()
            opt.update((k, merged[k]) for k in OPTION_COMBINATION_KEYS if merged.get(k) is not None)
            p.mod = self.now()

    @property
    def products(self) -> list[dict[str, Any]]:
        """Every product (purged ones aside) in originProductNo order, as the search lists its channel product
        (``originProductNo``, ``channelProductNo``, ``name``, ``sellerManagementCode``, ``statusType``,
        ``salePrice``, ``stockQuantity`` …) plus ``optionCombinations`` (None for a product without options)."""
        with self._lock:
            out = []
            for no in sorted(self._products):
                p = self._products[no]
                item = self._channel_summary(p)
                item["optionCombinations"] = [dict(o) for o in p.options] if p.options is not None else None
                out.append(item)
            return json.loads(json.dumps(out, ensure_ascii=False))

    def product(self, no: int | str) -> dict[str, Any]:
        """What ``GET /v2/products/origin-products/{no}`` answers (origin or channel number; KeyError if unknown)."""
        with self._lock:
            return json.loads(json.dumps(self._product_body(self._resolve(no)), ensure_ascii=False))

    def order_item(self, no: int | str, option_id: int | str | None = None) -> dict[str, Any]:
        """productOrder fields for ``add_order`` that point at this product (and option combination; default:
        the first one): productId = channel no., originalProductId = origin no., optionCode = option id,
        optionManageCode = its sellerManagerCode, sellerProductCode = the product's sellerManagementCode."""
        with self._lock:
            p = self._resolve(no)
            item: dict[str, Any] = {
                "productId": str(p.channel_no), "originalProductId": str(p.origin_no), "productName": p.name,
                "sellerProductCode": p.seller_code, "unitPrice": p.sale_price, "productClass": "단일상품",
                "optionCode": None, "productOption": None, "optionManageCode": None, "optionPrice": 0}
            if p.options:
                opt = self._option(p, option_id) if option_id is not None else p.options[0]
                names = p.group_names or {}
                label = " / ".join(f"{names.get(f'optionGroupName{i}', f'옵션{i}')}: {opt[f'optionName{i}']}"
                                   for i in range(1, 5) if opt.get(f"optionName{i}"))
                item.update(productClass="조합형옵션상품", optionCode=str(opt["id"]), productOption=label,
                            optionManageCode=opt.get("sellerManagerCode"), optionPrice=opt.get("price", 0))
            elif option_id is not None:
                raise KeyError(f"product {p.origin_no} has no options")
            return item

    def _add_product(self, name: str | None, options: int | Sequence[Mapping[str, Any]] | None,
                     seller_code: str | None, status: str, group_names: Sequence[str] | None,
                     origin_no: int | str | None, channel_no: int | str | None, group_no: int | str | None,
                     when: datetime, fields: dict[str, Any], *, auto: bool = False) -> SeededProduct:
        while True:   # automatic numbers skip any taken by explicitly numbered products
            n = next(self._product_seq)
            auto_origin, auto_channel = ORIGIN_NO_BASE + NO_STEP * n, CHANNEL_NO_BASE + NO_STEP * n
            if auto_origin not in self._products and auto_channel not in self._by_channel:
                break
        origin = int(origin_no) if origin_no is not None else auto_origin
        channel = int(channel_no) if channel_no is not None else auto_channel
        if origin in self._products:
            raise ValueError(f"originProductNo {origin} already seeded")
        if channel in self._by_channel:
            raise ValueError(f"channelProductNo {channel} already seeded")
        if auto:
            name, seller_code = f"테스트 상품 {n:05d}", f"P{n:06d}"
            count = options if isinstance(options, int) else 0
            opts: list[dict[str, Any]] | None = self._new_options(
                [_generated_option(k, n, f"P{n:06d}-{k + 1:02d}") for k in range(count)]) if count else None
        elif options is None:
            opts = None
        elif isinstance(options, int):
            opts = self._new_options([_generated_option(k, n, None) for k in range(options)])
        else:
            opts = self._new_options(options)
        _check_enum(status, PRODUCT_STATUS_TYPES, "statusType")
        width = max((i for o in opts or () for i in range(1, 5) if o.get(f"optionName{i}")), default=0)
        labels = list(group_names) if group_names is not None else list(_OPTION_GROUP_NAMES[:width])
        p = _Product(
            origin_no=origin, channel_no=channel, name=name or f"테스트 상품 {n:05d}", status=status,
            sale_price=9_900 + n % 20 * 1_000, stock=None, seller_code=seller_code, options=opts,
            group_names={f"optionGroupName{i}": g for i, g in enumerate(labels, 1)} if opts is not None else None,
            group=None, origin_fields={}, detail_fields={}, smartstore={}, window=None, reg=when, mod=when)
        if group_no is not None:
            p.group = {"groupProductNo": int(group_no), "leafCategoryId": _LEAF_CATEGORY, "groupProductName": p.name}
        self._apply_product_fields(p, fields)
        self._products[origin] = p
        self._by_channel[channel] = origin
        self._option_ids.update(o["id"] for o in opts or ())
        return SeededProduct(origin, channel, tuple(o["id"] for o in opts or ()))

    def _new_options(self, specs: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        taken: set[int] = set()
        for spec in specs:
            _check_option_keys(spec, allow_id=True)
            if not spec.get("optionName1"):
                raise ValueError("an option combination needs optionName1")
            if spec.get("id") is not None:
                oid = int(spec["id"])
                if oid in self._option_ids or oid in taken:
                    raise ValueError(f"option combination id {oid} already seeded")
            else:
                while True:
                    oid = OPTION_ID_BASE + 3 * next(self._option_seq)
                    if oid not in self._option_ids and oid not in taken:
                        break
            taken.add(oid)
            merged = {"stockQuantity": 0, "price": 0, "usable": True, "skuYn": False, **spec, "id": oid}
            out.append({k: merged[k] for k in OPTION_COMBINATION_KEYS if merged.get(k) is not None})
        return out

    def _apply_product_fields(self, p: _Product, fields: dict[str, Any]) -> None:
        for key, value in fields.items():
            if key == "name":
                p.name = value
            elif key == "statusType":
                _check_enum(value, PRODUCT_STATUS_TYPES, "statusType")
                p.status = value
            elif key == "salePrice":
                p.sale_price = int(value)
            elif key == "stockQuantity":
                p.stock = None if value is None else int(value)
            elif key == "sellerManagementCode":
                p.seller_code = value
            elif key == "smartstoreChannelProduct":
                p.smartstore.update(value)
            elif key == "windowChannelProduct":
                p.window = None if value is None else {**(p.window or {}), **value}
            elif key == "detailAttribute":
                detail = dict(value)
                code_info = dict(detail.pop("sellerCodeInfo", None) or {})
                if "sellerManagementCode" in code_info:
                    p.seller_code = code_info.pop("sellerManagementCode")
                if code_info:
                    p.detail_fields["sellerCodeInfo"] = {**p.detail_fields.get("sellerCodeInfo", {}), **code_info}
                if "optionInfo" in detail and "optionCombinations" in detail["optionInfo"]:
                    raise ValueError("seed option combinations with options=, not detailAttribute.optionInfo")
                p.detail_fields.update(detail)
            elif key in {"originProductNo", "channelProductNo", "groupProduct"}:
                raise ValueError(f"{key} is not a field to set")
            else:
                p.origin_fields[key] = value

    def _resolve(self, no: int | str) -> _Product:
        n = int(no)
        p = self._products.get(n)
        if p is None and n in self._by_channel:
            p = self._products[self._by_channel[n]]
        if p is None:
            raise KeyError(f"no seeded product {no}")
        return p

    @staticmethod
    def _option(p: _Product, option_id: int | str) -> dict[str, Any]:
        oid = int(option_id)
        for opt in p.options or ():
            if opt["id"] == oid:
                return opt
        raise KeyError(f"product {p.origin_no} has no option combination {option_id}")

    # -- request handling (called from handler threads) -------------------------------------------------
    # -- product pictures: the real ones are on a CDN (shop-phinf.pstatic.net), with no token; here they are
    # served by the same server, outside the API's base path, so a test needs one fake
    IMAGE_PATH = "/fake-cdn/"

    def image_url(self, origin_no: int | str) -> str:
        p = self._products[int(origin_no)]
        return f"http://127.0.0.1:{self.port}{self.IMAGE_PATH}{p.origin_no}/main-v{p.image_version}.png"

    def set_product_image(self, origin_no: int | str, *, new: bool = False, missing: bool = False) -> str:
        """``new``: the seller uploaded another picture (a new URL); ``missing``: the CDN answers 404 for it.
        Returns the product's image URL now."""
        with self._lock:
            p = self._products[int(origin_no)]
            p.image_version += 1 if new else 0
            p.image_missing = missing
            return self.image_url(origin_no)

    def _image(self, path: str) -> _Reply:
        m = re.fullmatch(re.escape(self.IMAGE_PATH) + r"(\d+)/main-v(\d+)\.png", path)
        p = self._products.get(int(m.group(1))) if m else None
        if m is None or p is None or p.image_missing or int(m.group(2)) != p.image_version:
            return _Reply(404, b"not found", content_type="text/plain")
        return _Reply(200, product_png(p.origin_no, p.image_version), content_type="image/png")

    def _handle(self, method: str, target: str, headers: dict[str, str], body: bytes
                ) -> tuple[_Reply | None, float]:
        """Returns (reply or None = drop the connection, seconds to wait before answering)."""
        parts = urlsplit(target)
        path = unquote(parts.path)
        if method == "GET" and path.startswith(self.IMAGE_PATH):
            with self._lock:
                self.image_requests.append(path)
                return self._image(path), 0.0
        query_all = parse_qs(parts.query, keep_blank_values=True)
        with self._lock:
            trace = self._trace_id()
            rec = RequestRecord(method, path, {k: v[0] for k, v in query_all.items()}, query_all, headers, body,
                                self.now(), trace_id=trace)
            self._requests.append(rec)
            inj = self._take_injection(method, path)
            reply: _Reply | None = None
            if inj is None or inj.process:
                try:
                    reply = self._route(method, path, query_all, headers, body)
                except _ApiError as err:
                    reply = _Reply(err.status, _dump(err.body), err.headers)
                except Exception as exc:   # a bug in the fake: answer like the gateway, surface it at exit
                    self._server_errors.append(exc)
                    reply = _Reply(500, _dump(self._gw("GW.INTERNAL_SERVER_ERROR", repr(exc))))
            delay = 0.0
            if inj is not None:
                rec.injected = str(inj.kind)
                if inj.kind == "timeout":
                    delay = inj.delay
                    if reply is None:
                        reply = _Reply(504, _dump(self._gw("GW.TIMEOUT.01", MSG_TIMEOUT)))
                else:
                    reply = self._injected_reply(inj)
            if reply is not None:
                reply.headers.setdefault("GNCP-GW-Trace-ID", trace)
                reply.body = reply.body.replace(b"@@TRACE@@", trace.encode())
            rec.status = reply.status if reply is not None else None
            return reply, delay

    def _take_injection(self, method: str, path: str) -> _Injection | None:
        for inj in self._injections:
            if (inj.path is None or inj.path in path) and (inj.method is None or inj.method == method):
                inj.remaining -= 1
                if inj.remaining <= 0:
                    self._injections.remove(inj)
                return inj
        return None

    def _injected_reply(self, inj: _Injection) -> _Reply | None:
        kind = inj.kind
        if kind == "disconnect":
            return None
        if kind == "malformed":
            return _Reply(200, b'{"timestamp": "' + fmt_dt(self.now()).encode() + b'", "data": {"count": 1, "lastC')
        if kind == "deep":
            return _Reply(200, b'{"timestamp": "' + fmt_dt(self.now()).encode() + b'", "data": '
                          + b"[" * DEEP_NESTING + b"]" * DEEP_NESTING + b"}")
        if kind == "quota":
            return _Reply(429, _dump(self._gw(inj.code or "GW.QUOTA_LIMIT", inj.message or MSG_QUOTA)),
                          {"GNCP-GW-Quota-Period": "HOURS", "GNCP-GW-Quota-Limit": "1",
                           "GNCP-GW-Quota-Remaining": "0"})
        assert isinstance(kind, int)
        if kind == 502 and inj.code is None:
            html = (b"<html><head><title>502 Bad Gateway</title></head>"
                    b"<body><center><h1>502 Bad Gateway</h1></center></body></html>")
            return _Reply(502, html, content_type="text/html")
        code, msg = {401: ("GW.AUTHN", MSG_AUTHN), 403: ("GW.IP_NOT_ALLOWED", MSG_IP),
                     404: ("GW.NOT_FOUND", MSG_NOT_FOUND), 429: ("GW.RATE_LIMIT", MSG_RATE),
                     500: ("GW.INTERNAL_SERVER_ERROR", MSG_INTERNAL),
                     502: ("GW.PROXY.01", MSG_INTERNAL), 503: ("GW.BLOCK.01", MSG_BLOCK),
                     504: ("GW.TIMEOUT.01", MSG_TIMEOUT)}.get(kind, ("9999", "오류가 발생했습니다."))
        headers = {}
        if kind == 429:
            headers = self._rate_headers(self._rate or 2.0, self._burst or 4.0, 0)
        return _Reply(kind, _dump(self._gw(inj.code or code, inj.message or msg)), headers)

    def _trace_id(self) -> str:
        n = next(self._trace_seq)
        return f"fake-{n:06d}-{secrets.token_hex(3)}^{int(self.clock() * 1000)}^{n}"

    def _gw(self, code: str, message: str) -> dict[str, Any]:
        return {"code": code, "message": message, "timestamp": fmt_dt(self.now()), "traceId": "@@TRACE@@"}

    def _order_error(self, status: int, code: str, message: str) -> _ApiError:
        return _ApiError(status, self._gw(code, message))

    def _bad_param(self, kind: str, field_name: str, detail: str = "") -> _ApiError:
        msg = f"{kind}.request.{field_name}" + (f" ({detail})" if detail else "")
        return self._order_error(400, "4000", msg)

    def _route(self, method: str, path: str, query: dict[str, list[str]], headers: dict[str, str],
               body: bytes) -> _Reply:
        if not path.startswith(self.base_path + "/"):
            raise _ApiError(404, self._gw("GW.NOT_FOUND", MSG_NOT_FOUND))
        rel = path[len(self.base_path):]
        if rel == "/v1/oauth2/token":
            if method != "POST":
                raise _ApiError(404, self._gw("GW.NOT_FOUND", MSG_NOT_FOUND))
            return self._token(query, headers, body)
        found = next(((api, handler, m) for route_method, pattern, api, handler in _ROUTES
                      if route_method == method and (m := pattern.fullmatch(rel))), None)
        if found is None:
            raise _ApiError(404, self._gw("GW.NOT_FOUND", MSG_NOT_FOUND))
        api, handler, m = found
        self._authenticate(headers)
        self._check_quota()
        rate_headers = self._take_rate(api)
        start = time.monotonic()
        try:
            data = handler(self, query, headers, body, *m.groups())
        except _ApiError as err:
            err.headers = {**rate_headers, **err.headers}
            raise
        rate_headers["GNCP-GW-HttpClient-ResponseTime"] = str(int((time.monotonic() - start) * 1000))
        return _Reply(200, _dump(data), rate_headers)

    # -- gateway ----------------------------------------------------------------------------------------
    def _authenticate(self, headers: dict[str, str]) -> None:
        auth = headers.get("authorization", "")
        scheme, _, token = auth.partition(" ")
        tok = self._tokens.get(token.strip()) if scheme.lower() == "bearer" else None
        if tok is None or self.clock() >= tok["expires_at"]:
            raise _ApiError(401, self._gw("GW.AUTHN", MSG_AUTHN))

    def _check_quota(self) -> None:
        if not self._penalized:
            return
        hour = int(self.clock() // 3600)
        used = self._quota_used.get(hour, 0)
        if used >= 1:
            raise _ApiError(429, self._gw("GW.QUOTA_LIMIT", MSG_QUOTA), {
                "GNCP-GW-Quota-Period": "HOURS", "GNCP-GW-Quota-Limit": "1", "GNCP-GW-Quota-Remaining": "0"})
        self._quota_used[hour] = used + 1

    def _take_rate(self, api: str) -> dict[str, str]:
        rate = self._rate_per_api.get(api, self._rate)
        if not rate:
            return {}
        burst = self._burst if api not in self._rate_per_api else 2 * rate
        now = self.rate_clock()
        bucket = self._buckets.get(api)
        if bucket is None:
            bucket = self._buckets[api] = _Bucket(rate, burst, now)
        ok = bucket.take(now)
        headers = self._rate_headers(rate, burst, int(bucket.tokens))
        if not ok:
            if self.retry_after is not None:
                headers["Retry-After"] = str(self.retry_after)
            raise _ApiError(429, self._gw("GW.RATE_LIMIT", MSG_RATE), headers)
        return headers

    @staticmethod
    def _rate_headers(rate: float, burst: float, remaining: int) -> dict[str, str]:
        return {"GNCP-GW-RateLimit-Replenish-Rate": _num(rate), "GNCP-GW-RateLimit-Burst-Capacity": _num(burst),
                "GNCP-GW-RateLimit-Remaining": str(remaining)}

    # -- §1 token -----------------------------------------------------------------------------------------
    def _token(self, query: dict[str, list[str]], headers: dict[str, str], body: bytes) -> _Reply:
        now = self.clock()
        ctype = headers.get("content-type", "")
        mime = ctype.split(";")[0].strip().lower()
        form: dict[str, str] = {}
        if body:
            if mime != "application/x-www-form-urlencoded":
                raise self._token_error(400, [("Content-Type", "Invalid",
                                               f"Content-Type must be application/x-www-form-urlencoded, got "
                                               f"{ctype or '(none)'}")])
            try:
                form = {k: v[0] for k, v in parse_qs(body.decode("utf-8"), keep_blank_values=True).items()}
            except UnicodeDecodeError:
                raise self._token_error(400, [("body", "Invalid", "body is not UTF-8")]) from None
        in_query = sorted(k for k in query if k in _TOKEN_FIELDS)
        fields = {**{k: query[k][0] for k in in_query}, **form}
        nonstandard = []
        if in_query:
            nonstandard.append(f"token parameters in the URL query string: {', '.join(in_query)}")

        problems = [(name, "NotBlank", f"{name} 은(는) 필수값입니다.")
                    for name in ("client_id", "timestamp", "grant_type", "client_secret_sign", "type")
                    if not fields.get(name)]
        if problems:
            raise self._token_error(400, problems)
        if fields["grant_type"] != "client_credentials":
            raise self._token_error(400, [("grant_type", "Invalid", "grant_type 은 client_credentials 이어야 합니다.")])
        typ, account = fields["type"], fields.get("account_id")
        if typ not in {"SELF", "SELLER"}:
            raise self._token_error(400, [("type", "Invalid", "type 은 SELF 또는 SELLER 이어야 합니다.")])
        if typ == "SELF" and account is not None:
            raise self._token_error(400, [("account_id", "Invalid", "type=SELF 에는 account_id 를 보내지 않습니다.")])
        if typ == "SELLER" and not account:
            raise self._token_error(400, [("account_id", "NotBlank", "type=SELLER 에는 account_id 가 필요합니다.")])
        ts = fields["timestamp"]
        if not ts.isdigit():
            raise self._token_error(400, [("timestamp", "Invalid", "timestamp 는 밀리초 단위 Unix 시각이어야 합니다.")])
        age = now - int(ts) / 1000
        if age > self.timestamp_max_age:
            raise self._token_error(400, [("timestamp", "Expired", "timestamp 가 만료되었습니다. (5분간 유효)")])
        if -age > self.timestamp_max_ahead:
            raise self._token_error(400, [("timestamp", "Invalid", "timestamp 가 미래 시각입니다.")])
        if fields["client_id"] != self.client_id:
            raise self._token_error(400, [("client_id", "Invalid", "client_id 가 유효하지 않습니다.")])
        sign = fields["client_secret_sign"]
        expected = self.sign(ts)
        given = sign.replace("-", "+").replace("_", "/")   # URL-safe base64 is accepted too (identical here)
        if not hmac.compare_digest(given.encode(), expected.encode()):
            # a field note (§1.2) says the real body echoes the signature back: so does this one
            raise self._token_error(400, [("client_secret_sign", "Invalid",
                                           f"client_secret_sign 이 유효하지 않습니다: {sign}")])
        if typ == "SELLER" and account not in self.seller_accounts:
            raise self._token_error(403, [("account_id", "Forbidden", "해당 판매자에 대한 권한이 없습니다.")],
                                    code="FORBIDDEN", message="접근 권한 오류")
        if nonstandard:
            self._nonstandard.extend(nonstandard)
            if self.quota_penalty_on_nonstandard_token:
                self._penalized = True

        resource = (typ, account or "")
        live = [t for t in self._tokens.values() if t["resource"] == resource and t["expires_at"] > now]
        newest = max(live, key=lambda t: t["expires_at"], default=None)
        if newest is not None and newest["expires_at"] - now >= self.token_reuse_min_left:
            token = newest["access_token"]
            expires_in = int(newest["expires_at"] - now) if self.reused_token_reports_remaining else int(self.token_ttl)
        else:
            token = secrets.token_urlsafe(32)
            tok = {"access_token": token, "resource": resource, "type": typ, "account_id": account,
                   "issued_at": now, "expires_at": now + self.token_ttl}
            self._tokens[token] = tok
            self._tokens_issued.append(dict(tok))
            expires_in = int(self.token_ttl)
        return _Reply(200, _dump({"access_token": token, "expires_in": expires_in, "token_type": self.token_type}))

    def _token_error(self, status: int, invalid: list[tuple[str, str, str]], *, code: str = "BAD_REQUEST",
                     message: str = "유효성 검사 오류") -> _ApiError:
        return _ApiError(status, {"code": code, "message": message, "timestamp": fmt_dt(self.now()),
                                  "invalidInputs": [{"name": n, "type": t, "message": m} for n, t, m in invalid]})

    # -- §3.1 last-changed-statuses -------------------------------------------------------------------------
    def _last_changed(self, query: dict[str, list[str]], headers: dict[str, str], body: bytes) -> dict[str, Any]:
        q = {k: v[0] for k, v in query.items()}
        start = self._query_dt(q, "lastChangedFrom", required=True)
        assert start is not None
        end = self._query_dt(q, "lastChangedTo") or start + timedelta(hours=24)
        self._check_window(start, end)
        types = _multi(query, "lastChangedType")
        for t in types:
            if t not in LAST_CHANGED_TYPES:
                raise self._bad_param("Invalid", "lastChangedType", t)
        limit = MAX_PAGE
        if q.get("limitCount"):
            try:
                limit = int(q["limitCount"])
            except ValueError:
                raise self._bad_param("TypeMismatch", "limitCount") from None
            if limit < 1:
                raise self._bad_param("Min", "limitCount")
            limit = min(limit, MAX_PAGE)
        limit = min(limit, self.page_size)
        cursor = (start, _pid_key(q["moreSequence"]) if q.get("moreSequence") else (0, ""))
        rows = sorted((r for r in self._pos.values()
                       if r.lc_date is not None and start <= r.lc_date <= end
                       and (not types or r.lc["lastChangedType"] in types)
                       and (r.lc_date, _pid_key(r.pid)) >= cursor),
                      key=lambda r: (r.lc_date, _pid_key(r.pid)))
        page = rows[:limit]
        data: dict[str, Any] = {"count": len(page), "lastChangeStatuses": [dict(r.lc) for r in page]}
        if len(rows) > limit:
            nxt = rows[limit]
            data["more"] = {"moreFrom": nxt.lc["lastChangedDate"], "moreSequence": nxt.pid}
        envelope: dict[str, Any] = {"timestamp": fmt_dt(self.now()), "traceId": "@@TRACE@@"}
        if page or not self.empty_last_changed_omits_data:
            envelope["data"] = data
        return envelope

    def _query_dt(self, q: Mapping[str, str], name: str, *, required: bool = False) -> datetime | None:
        text = q.get(name)
        if not text:
            if required:
                raise self._order_error(400, "4000", f"NotNull.request.{name} ({name} 필드는 필수값 입니다)")
            return None
        dt = parse_dt(text)
        if dt is None:
            raise self._bad_param("TypeMismatch", name, f"yyyy-MM-dd'T'HH:mm:ss.SSSXXX: {text}")
        return dt

    def _check_window(self, start: datetime, end: datetime) -> None:
        if end < start:
            raise self._order_error(400, "104140", "조회 날짜가 유효하지 않습니다.")
        if self.max_window is not None and end - start > self.max_window:
            raise self._order_error(400, "104139", "조회 가능한 날짜 범위를 초과하였습니다.")
        if self.max_lookback is not None and start < self.now() - self.max_lookback:
            raise self._order_error(400, "104139", "조회 가능한 날짜 범위를 초과하였습니다.")

    # -- §3.2 query ---------------------------------------------------------------------------------------
    def _query(self, query: dict[str, list[str]], headers: dict[str, str], body: bytes) -> dict[str, Any]:
        req = self._json_body(headers, body)
        ids = self._id_list(req, "productOrderIds", MAX_PAGE)
        qcc = req.get("quantityClaimCompatibility")
        if qcc is not None and not isinstance(qcc, bool):
            raise self._unreadable()
        seen: set[str] = set()
        data = []
        for pid in ids:
            if pid in self._pos and pid not in seen:   # unknown ids are left out, duplicates answered once
                seen.add(pid)
                data.append(self._detail(self._pos[pid]))
        return {"timestamp": fmt_dt(self.now()), "traceId": "@@TRACE@@", "data": data}

    def _detail(self, rec: _ProductOrder) -> dict[str, Any]:
        po = {k: v for k, v in rec.po.items() if v is not None}
        po["shippingAddress"] = dict(po["shippingAddress"])
        out: dict[str, Any] = {"order": dict(rec.order), "productOrder": po}
        if rec.delivery is not None:
            out["delivery"] = dict(rec.delivery)
        if rec.claims:
            first, last = rec.claims[0], rec.claims[-1]
            key = {"CANCEL": "cancel", "ADMIN_CANCEL": "cancel", "RETURN": "return", "EXCHANGE": "exchange"}
            out["beforeClaim"] = {key.get(first["claimType"], "cancel"): dict(first["fields"])}
            out["currentClaim"] = {key.get(last["claimType"], "cancel"): dict(last["fields"])}
            out[key.get(last["claimType"], "cancel")] = dict(last["fields"])   # deprecated top-level copy
        if rec.completed_claims:
            out["completedClaims"] = [dict(c) for c in rec.completed_claims]
        return out

    # -- §3.3 conditional list, §3.4 product-order ids ------------------------------------------------------
    def _conditional(self, query: dict[str, list[str]], headers: dict[str, str], body: bytes) -> dict[str, Any]:
        q = {k: v[0] for k, v in query.items()}
        start = self._query_dt(q, "from", required=True)
        assert start is not None
        end = self._query_dt(q, "to") or start + timedelta(hours=24)
        self._check_window(start, end)
        range_type = q.get("rangeType") or "PAYED_DATETIME"
        if range_type not in RANGE_TYPES:
            raise self._bad_param("Invalid", "rangeType", range_type)
        page = self._int_param(q, "page", 1, 1, None)
        size = self._int_param(q, "pageSize", min(MAX_PAGE, self.page_size), 1, MAX_PAGE)
        statuses, claims = set(_multi(query, "productOrderStatuses")), set(_multi(query, "claimStatuses"))
        place = q.get("placeOrderStatusType")

        def when(r: _ProductOrder) -> datetime | None:
            text = {"PAYED_DATETIME": r.order.get("paymentDate"), "ORDERED_DATETIME": r.order.get("orderDate"),
                    "DISPATCHED_DATETIME": (r.delivery or {}).get("sendDate"),
                    "PURCHASE_DECIDED_DATETIME": r.po.get("decisionDate"),
                    "CLAIM_REQUESTED_DATETIME": r.claims[-1]["fields"]["claimRequestDate"] if r.claims else None,
                    }.get(range_type)
            return parse_dt(text) if text else None

        rows = []
        for r in self._pos.values():
            w = when(r)
            if w is None or not start <= w <= end:
                continue
            if (statuses and r.po["productOrderStatus"] not in statuses) or \
               (claims and r.po.get("claimStatus") not in claims) or \
               (place and r.po["placeOrderStatus"] != place):
                continue
            rows.append((w, _pid_key(r.pid), r))
        rows.sort(key=lambda t: t[:2])
        chunk = rows[(page - 1) * size: page * size]
        contents = []
        for _, _, r in chunk:
            detail = self._detail(r)
            content = {k: detail[k] for k in ("order", "productOrder", "delivery", "beforeClaim", "currentClaim",
                                               "completedClaims") if k in detail}
            contents.append({"productOrderId": r.pid, "content": content})
        return {"timestamp": fmt_dt(self.now()), "traceId": "@@TRACE@@",
                "data": {"contents": contents, "pagination": {"page": page, "size": size,
                                                              "hasNext": len(rows) > page * size}}}

    def _int_param(self, q: Mapping[str, str], name: str, default: int, lo: int, hi: int | None) -> int:
        if not q.get(name):
            return default
        try:
            value = int(q[name])
        except ValueError:
            raise self._bad_param("TypeMismatch", name) from None
        if value < lo or (hi is not None and value > hi):
            raise self._bad_param("Range", name)
        return value

    def _order_ids(self, query: dict[str, list[str]], headers: dict[str, str], body: bytes,
                   order_id: str) -> dict[str, Any]:
        if order_id not in self._orders:
            raise self._order_error(400, "100003", "주문 정보가 존재하지 않습니다.")
        return {"timestamp": fmt_dt(self.now()), "traceId": "@@TRACE@@", "data": list(self._orders[order_id])}

    def _seller_account(self, query: dict[str, list[str]], headers: dict[str, str], body: bytes) -> dict[str, Any]:
        return {"accountId": "packdesk_test", "accountUid": "ncp_1abcde_01", "grade": "BIG_POWER"}

    # -- §8 products ----------------------------------------------------------------------------------------
    def _product_search(self, query: dict[str, list[str]], headers: dict[str, str], body: bytes) -> dict[str, Any]:
        req = self._product_json(headers, body)
        page = self._p_int(req, "page", 1, 1, None)
        size = self._p_int(req, "size", DEFAULT_PRODUCT_PAGE, 1, MAX_PRODUCT_PAGE)
        nos = {name: set(self._p_nos(req, name)) for name in ("channelProductNos", "originProductNos",
                                                                "groupProductNos")}
        code = req.get("sellerManagementCode")
        if code is not None and not isinstance(code, str):
            raise self._product_invalid("sellerManagementCode", "typeMismatch", "문자열이어야 합니다.")
        keyword_type = req.get("searchKeywordType")
        keyword: Callable[[_Product], bool] | None = None
        if keyword_type is not None:
            self._p_enum(keyword_type, SEARCH_KEYWORD_TYPES, "searchKeywordType")
            field_name = SEARCH_KEYWORD_TYPES[keyword_type]
            if keyword_type == "SELLER_CODE":
                if not code or not code.strip():
                    raise self._product_invalid(field_name, "NotBlank", f"{field_name} 은(는) 필수값입니다.")
                keyword = lambda p: p.seller_code == code   # noqa: E731
            else:
                wanted = nos[field_name]
                if not wanted:
                    raise self._product_invalid(field_name, "NotEmpty", f"{field_name} 은(는) 필수값입니다.")
                attr = {"CHANNEL_PRODUCT_NO": "channel_no", "PRODUCT_NO": "origin_no",
                        "GROUP_PRODUCT_NO": "group_no"}[keyword_type]
                keyword = lambda p: getattr(p, attr) in wanted   # noqa: E731
        statuses = req.get("productStatusTypes")
        if statuses is None:
            statuses = []
        if not isinstance(statuses, list):
            raise self._product_invalid("productStatusTypes", "typeMismatch", "배열이어야 합니다.")
        for st in statuses:
            self._p_enum(st, PRODUCT_STATUS_TYPES, "productStatusTypes")
        wanted_status = set(statuses)
        order_type = req.get("orderType")
        if order_type is not None:
            self._p_enum(order_type, PRODUCT_ORDER_TYPES, "orderType")
        period = req.get("periodType")
        if period is not None:
            self._p_enum(period, PRODUCT_PERIOD_TYPES, "periodType")
        start, end = self._p_date(req, "fromDate"), self._p_date(req, "toDate")
        if (start or end) and period is None:
            raise self._product_invalid("periodType", "NotNull", "fromDate/toDate 에는 periodType 이 필요합니다.")
        if start and end and start > end:
            raise self._product_invalid("fromDate", "Invalid", "fromDate 가 toDate 보다 늦습니다.")

        def period_day(p: _Product) -> date | None:
            if period == "PROD_REG_DAY":
                return p.reg.astimezone(KST).date()
            if period == "PROD_MOD_DAY":
                return p.mod.astimezone(KST).date()
            text = p.origin_fields.get("saleStartDate" if period == "SALE_START_DAY" else "saleEndDate")
            dt = parse_dt(text) if text else None
            return dt.astimezone(KST).date() if dt else None

        rows = []
        for p in self._products.values():
            if keyword is not None and not keyword(p):
                continue
            if wanted_status:
                if p.status not in wanted_status:
                    continue
            elif self.search_hides_deleted and p.status == "DELETE":
                continue
            if start or end:
                day = period_day(p)
                if day is None or (start and day < start) or (end and day > end):
                    continue
            rows.append(p)
        sort_key, direction = _PRODUCT_SORTS.get(order_type or "NO", _PRODUCT_SORTS["NO"])
        rows.sort(key=sort_key)
        total = len(rows)
        pages = -(-total // size)
        chunk = rows[(page - 1) * size: page * size]
        contents = []
        for p in chunk:
            item: dict[str, Any] = {"groupProductNo": p.group_no} if p.group else {}
            item["originProductNo"] = p.origin_no
            item["channelProducts"] = [self._channel_summary(p)]
            contents.append(item)
        return {"contents": contents, "page": page, "size": size, "totalElements": total, "totalPages": pages,
                "sort": {"sorted": True, "fields": [{"name": order_type or "NO", "direction": direction}]},
                "first": page == 1, "last": page >= pages}

    def _origin_product_get(self, query: dict[str, list[str]], headers: dict[str, str], body: bytes,
                            no: str) -> dict[str, Any]:
        return self._product_body(self._found(self._products.get(self._path_no(no, "originProductNo"))))

    def _channel_product_get(self, query: dict[str, list[str]], headers: dict[str, str], body: bytes,
                             no: str) -> dict[str, Any]:
        origin = self._by_channel.get(self._path_no(no, "channelProductNo"))
        return self._product_body(self._found(self._products.get(origin) if origin is not None else None))

    def _found(self, p: _Product | None) -> _Product:
        if p is None or (self.deleted_product_not_found and p.status == "DELETE"):
            raise self._product_error(404, "NOT_FOUND", "상품 정보가 존재하지 않습니다.")
        return p

    def _product_body(self, p: _Product) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if p.group is not None or self.product_absent_parts_as_null:
            out["groupProduct"] = dict(p.group) if p.group is not None else None
        out["originProduct"] = self._origin_product(p)
        if p.window is not None or self.product_absent_parts_as_null:
            out["windowChannelProduct"] = (
                {"naverShoppingRegistration": False, "channelNo": 100_000_001, "best": False,
                 "channelProductDisplayStatusType": _display_status(p.status), **p.window}
                if p.window is not None else None)
        out["smartstoreChannelProduct"] = {
            "storeKeepExclusiveProduct": False, "naverShoppingRegistration": False,
            "channelProductDisplayStatusType": _display_status(p.status), **p.smartstore}
        return out

    def _origin_product(self, p: _Product) -> dict[str, Any]:
        origin: dict[str, Any] = {
            "statusType": p.status, "saleType": "NEW", "leafCategoryId": _LEAF_CATEGORY, "name": p.name,
            "detailContent": f"<p>{p.name}</p>",
            "images": {"representativeImage": {"url": self.image_url(p.origin_no)}},
            "salePrice": p.sale_price, "stockQuantity": p.current_stock(), "deliveryInfo": _DELIVERY_INFO}
        origin.update(p.origin_fields)
        detail: dict[str, Any] = {
            "afterServiceInfo": {"afterServiceTelephoneNumber": "1588-0000", "afterServiceGuideContent": "고객센터"},
            "originAreaInfo": {"originAreaCode": "00", "content": "국산"}, "minorPurchasable": True}
        code_info = {**({"sellerManagementCode": p.seller_code} if p.seller_code else {}),
                     **p.detail_fields.get("sellerCodeInfo", {})}
        if code_info:
            detail["sellerCodeInfo"] = code_info
        extra = {k: v for k, v in p.detail_fields.items() if k != "sellerCodeInfo"}
        if p.options is not None:
            detail["optionInfo"] = {
                "optionCombinationSortType": "CREATE", "optionCombinationGroupNames": dict(p.group_names or {}),
                "optionCombinations": [dict(o) for o in p.options], "useStockManagement": True,
                **extra.pop("optionInfo", {})}
        detail.update(extra)
        origin["detailAttribute"] = detail
        return origin

    def _channel_summary(self, p: _Product) -> dict[str, Any]:
        item: dict[str, Any] = {"groupProductNo": p.group_no} if p.group else {}
        item.update({
            "originProductNo": p.origin_no, "channelProductNo": p.channel_no, "channelServiceType": "STOREFARM",
            "categoryId": p.origin_fields.get("leafCategoryId", _LEAF_CATEGORY),
            "name": p.smartstore.get("channelProductName") or p.name})
        if p.seller_code:
            item["sellerManagementCode"] = p.seller_code
        item.update({
            "statusType": p.status,
            "channelProductDisplayStatusType": p.smartstore.get("channelProductDisplayStatusType",
                                                                _display_status(p.status)),
            "salePrice": p.sale_price, "discountedPrice": p.sale_price, "stockQuantity": p.current_stock(),
            "knowledgeShoppingProductRegistration": False, "deliveryAttributeType": "NORMAL", "deliveryFee": 0,
            "returnFee": 3_000, "exchangeFee": 6_000, "wholeCategoryName": _WHOLE_CATEGORY_NAME,
            "wholeCategoryId": _WHOLE_CATEGORY_ID, "representativeImage": {"url": self.image_url(p.origin_no)},
            "regDate": fmt_dt(p.reg), "modifiedDate": fmt_dt(p.mod)})
        for key in ("saleStartDate", "saleEndDate"):
            if key in p.origin_fields:
                item[key] = p.origin_fields[key]
        return item

    # product-API errors: {code, message, invalidInputs?, timestamp, traceId} (§2.2 family 3)
    def _product_error(self, status: int, code: str, message: str,
                       invalid: Sequence[tuple[str, str, str]] | None = None) -> _ApiError:
        body: dict[str, Any] = {"code": code, "message": message}
        if invalid:
            body["invalidInputs"] = [{"name": n, "type": t, "message": m} for n, t, m in invalid]
        body.update(timestamp=fmt_dt(self.now()), traceId="@@TRACE@@")
        return _ApiError(status, body)

    def _product_invalid(self, name: str, kind: str, message: str) -> _ApiError:
        return self._product_error(400, "BAD_REQUEST", "유효성 검사 오류", [(name, kind, message)])

    def _product_json(self, headers: dict[str, str], body: bytes) -> dict[str, Any]:
        mime = headers.get("content-type", "").split(";")[0].strip().lower()
        if mime != "application/json":
            raise self._product_error(400, "BAD_REQUEST", "지원하지 않는 Content-Type 입니다.")
        try:
            req = json.loads(body.decode("utf-8")) if body else None
        except (UnicodeDecodeError, ValueError):
            req = None
        if not isinstance(req, dict):
            raise self._product_error(400, "BAD_REQUEST", "요청 본문을 읽을 수 없습니다.")   # no invalidInputs
        return req

    def _p_int(self, req: Mapping[str, Any], name: str, default: int, lo: int, hi: int | None) -> int:
        value = req.get(name)
        if value is None:
            return default
        if isinstance(value, str) and re.fullmatch(r"-?[0-9]{1,9}", value.strip()):
            value = int(value)
        if not isinstance(value, int) or isinstance(value, bool):
            raise self._product_invalid(name, "typeMismatch", f"{name} 은(는) 숫자여야 합니다.")
        if value < lo:
            raise self._product_invalid(name, "Min", f"{name} 은(는) {lo} 이상이어야 합니다.")
        if hi is not None and value > hi:
            raise self._product_invalid(name, "Max", f"{name} 은(는) {hi} 이하여야 합니다.")
        return value

    def _p_nos(self, req: Mapping[str, Any], name: str) -> list[int]:
        value = req.get(name)
        if value is None:
            return []
        if not isinstance(value, list):
            raise self._product_invalid(name, "typeMismatch", f"{name} 은(는) 배열이어야 합니다.")
        out = []
        for v in value:
            if isinstance(v, str) and re.fullmatch(r"[0-9]{1,18}", v):
                v = int(v)
            if not isinstance(v, int) or isinstance(v, bool):
                raise self._product_invalid(name, "typeMismatch", f"{name} 의 값은 숫자여야 합니다: {v!r}")
            out.append(v)
        return out

    def _p_enum(self, value: Any, allowed: Iterable[str], name: str) -> None:
        if not isinstance(value, str) or value not in allowed:
            raise self._product_invalid(name, "typeMismatch", f"{name} 값이 올바르지 않습니다: {value!r}")

    def _p_date(self, req: Mapping[str, Any], name: str) -> date | None:
        value = req.get(name)
        if value is None or value == "":
            return None
        try:
            if not isinstance(value, str) or not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
                raise ValueError(value)
            return date.fromisoformat(value)
        except ValueError:
            raise self._product_invalid(name, "typeMismatch", f"{name} 은(는) yyyy-MM-dd 형식이어야 합니다.") from None

    def _path_no(self, text: str, name: str) -> int:
        if not re.fullmatch(r"[0-9]{1,18}", text):
            raise self._product_invalid(name, "typeMismatch", f"{name} 은(는) 숫자여야 합니다: {text}")
        return int(text)

    # -- §5 confirm ---------------------------------------------------------------------------------------
    def _confirm(self, query: dict[str, list[str]], headers: dict[str, str], body: bytes) -> dict[str, Any]:
        req = self._json_body(headers, body)
        ids = self._id_list(req, "productOrderIds", MAX_WRITE_IDS)
        now = self.now()
        ok: list[dict[str, Any]] = []
        fail: list[dict[str, Any]] = []
        seen: set[str] = set()
        for pid in ids:
            problem = self._confirm_problem(pid, seen)
            seen.add(pid)
            if problem:
                fail.append({"productOrderId": pid, "code": problem[0], "message": problem[1]})
                continue
            rec = self._pos[pid]
            if rec.po["placeOrderStatus"] != "OK":
                rec.po.update(placeOrderStatus="OK", placeOrderDate=fmt_dt(now))   # no last-changed event
            ok.append({"productOrderId": pid, "isReceiverAddressChanged": rec.receiver_address_changed})
            self._confirmations.append({"productOrderId": pid, "time": now})
        return {"timestamp": fmt_dt(now), "traceId": "@@TRACE@@",
                "data": {"successProductOrderInfos": ok, "failProductOrderInfos": fail}}

    def _confirm_problem(self, pid: str, seen: set[str]) -> tuple[str, str] | None:
        if pid in seen:
            return ("104131", "중복된 상품주문번호입니다.")
        injected = self._take_item_failure("confirm", pid)
        if injected:
            return injected
        rec = self._pos.get(pid)
        if rec is None:
            return ("100001", "상품주문 정보가 존재하지 않습니다.")
        if rec.po["productOrderStatus"] != "PAYED" or _cancel_pending(rec):
            return ("104442", MSG_STATUS)
        if rec.po["placeOrderStatus"] == "OK" and self.reconfirm_fails:
            return ("105306", "요청한 상태가 현재 상태와 같습니다.")
        return None

    # -- §6 dispatch --------------------------------------------------------------------------------------
    def _dispatch(self, query: dict[str, list[str]], headers: dict[str, str], body: bytes) -> dict[str, Any]:
        req = self._json_body(headers, body)
        items = req.get("dispatchProductOrders")
        if items is None:
            raise self._bad_param("NotNull", "dispatchProductOrders")
        if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
            raise self._unreadable()
        if not items:
            raise self._bad_param("NotEmpty", "dispatchProductOrders")
        if len(items) > MAX_WRITE_IDS:
            raise self._bad_param("Size", "dispatchProductOrders", f"최대 {MAX_WRITE_IDS}건")
        # whole-request checks first: a malformed/unknown enum or a missing required field fails everything
        parsed = []
        for n, item in enumerate(items):
            where = f"dispatchProductOrders[{n}]"
            pid = item.get("productOrderId")
            if isinstance(pid, int) and not isinstance(pid, bool):
                pid = str(pid)
            if not pid or not isinstance(pid, str):
                raise self._bad_param("NotBlank", f"{where}.productOrderId")
            method = item.get("deliveryMethod")
            if method is None:
                raise self._bad_param("NotNull", f"{where}.deliveryMethod")
            if method not in DELIVERY_METHODS:
                raise self._unreadable()
            carrier = item.get("deliveryCompanyCode")
            if carrier is not None and carrier not in self.carrier_codes:
                raise self._unreadable()    # "" or an unknown code: the enum does not parse (§2.2, §6)
            tracking = item.get("trackingNumber")
            if tracking is not None and not isinstance(tracking, str):
                raise self._unreadable()
            date_text = item.get("dispatchDate")
            if date_text is None:
                raise self._bad_param("NotNull", f"{where}.dispatchDate")
            dispatch_date = parse_dt(date_text)
            if dispatch_date is None:
                raise self._bad_param("TypeMismatch", f"{where}.dispatchDate", str(date_text))
            parsed.append((pid, method, carrier, tracking, date_text, dispatch_date))

        now = self.now()
        ok: list[str] = []
        fail: list[dict[str, Any]] = []
        seen: set[str] = set()
        for pid, method, carrier, tracking, date_text, dispatch_date in parsed:
            problem = self._dispatch_problem(pid, method, carrier, tracking, dispatch_date, seen, now)
            seen.add(pid)
            if problem:
                fail.append({"productOrderId": pid, "code": problem[0], "message": problem[1]})
                continue
            rec = self._pos[pid]
            rec.po["productOrderStatus"] = "DELIVERING"
            rec.delivery = {"deliveryMethod": method, "sendDate": fmt_dt(dispatch_date),
                            "deliveryStatus": "DELIVERING", "isWrongTrackingNumber": False}
            if method == "DELIVERY":
                rec.delivery.update(deliveryCompany=carrier, trackingNumber=tracking)
            self._event(rec, "DISPATCHED", now)
            ok.append(pid)
            self._dispatches.append({"productOrderId": pid, "orderId": rec.order["orderId"],
                                     "deliveryMethod": method, "deliveryCompanyCode": carrier,
                                     "trackingNumber": tracking, "dispatchDate": date_text, "time": now})
        return {"timestamp": fmt_dt(now), "traceId": "@@TRACE@@",
                "data": {"successProductOrderIds": ok, "failProductOrderInfos": fail}}

    def _dispatch_problem(self, pid: str, method: str, carrier: str | None, tracking: str | None,
                          dispatch_date: datetime, seen: set[str], now: datetime) -> tuple[str, str] | None:
        if pid in seen:
            return ("104131", "중복된 상품주문번호입니다.")
        injected = self._take_item_failure("dispatch", pid)
        if injected:
            return injected
        rec = self._pos.get(pid)
        if rec is None:
            return ("100001", "상품주문 정보가 존재하지 않습니다.")
        if method not in DISPATCH_METHODS:
            return ("104117", "배송방법을 확인해 주세요.")
        if rec.po["productOrderStatus"] != "PAYED":
            return ("104442", MSG_STATUS)
        if self.dispatch_cancel_requested_fails and _cancel_pending(rec):
            return ("104442", MSG_STATUS)
        if self.dispatch_requires_confirm and rec.po["placeOrderStatus"] != "OK":
            return ("104443", "발주 상태를 확인해 주세요.")
        if method == "DELIVERY":
            if not carrier:
                return ("104118", "택배사를 입력해 주세요.")
            if not tracking:
                return ("104120", "송장번호를 입력해 주세요.")
            if not self.tracking_number_re.fullmatch(tracking):
                return ("104122", "송장번호가 유효하지 않습니다.")
            if self.reject_reused_tracking_number and self._tracking_used(carrier, tracking, rec):
                return ("104121", "이미 사용된 송장번호입니다.")
        if dispatch_date > now + self.dispatch_date_max_ahead or dispatch_date < parse_dt(rec.order["orderDate"]):
            return ("104133", "발송일이 유효하지 않습니다.")
        return None

    def _tracking_used(self, carrier: str, tracking: str, rec: _ProductOrder) -> bool:
        return any(d["deliveryCompanyCode"] == carrier and d["trackingNumber"] == tracking
                   and self._pos[d["productOrderId"]].po["packageNumber"] != rec.po["packageNumber"]
                   for d in self._dispatches)

    def _take_item_failure(self, op: str, pid: str) -> tuple[str, str] | None:
        f = self._item_failures.get((op, pid))
        if f is None:
            return None
        if f.remaining is not None:
            f.remaining -= 1
            if f.remaining <= 0:
                del self._item_failures[(op, pid)]
        return (f.code, f.message)

    # -- request bodies -----------------------------------------------------------------------------------
    def _unreadable(self, exc: str = "HttpMessageNotReadableException") -> _ApiError:
        return self._order_error(400, "000400", f"요청이 올바르지 않습니다. ({exc})")

    def _json_body(self, headers: dict[str, str], body: bytes) -> dict[str, Any]:
        mime = headers.get("content-type", "").split(";")[0].strip().lower()
        if mime != "application/json":
            raise self._unreadable("HttpMediaTypeNotSupportedException")
        try:
            req = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise self._unreadable() from None
        if not isinstance(req, dict):
            raise self._unreadable()
        return req

    def _id_list(self, req: Mapping[str, Any], name: str, maximum: int) -> list[str]:
        ids = req.get(name)
        if ids is None:
            raise self._bad_param("NotNull", name)
        if not isinstance(ids, list) or not all(isinstance(i, str | int) and not isinstance(i, bool) for i in ids):
            raise self._unreadable()
        if not ids:
            raise self._bad_param("NotEmpty", name)
        if len(ids) > maximum:
            raise self._bad_param("Size", name, f"최대 {maximum}건")
        return [str(i) for i in ids]


_TOKEN_FIELDS = frozenset({"client_id", "timestamp", "grant_type", "client_secret_sign", "type", "account_id"})

_Handler_t = Callable[..., dict[str, Any]]
_ROUTES: list[tuple[str, re.Pattern[str], str, _Handler_t]] = [
    ("GET", re.compile(r"/v1/pay-order/seller/product-orders/last-changed-statuses"), "last-changed-statuses",
     FakeNaver._last_changed),
    ("POST", re.compile(r"/v1/pay-order/seller/product-orders/query"), "query", FakeNaver._query),
    ("GET", re.compile(r"/v1/pay-order/seller/product-orders"), "product-orders", FakeNaver._conditional),
    ("GET", re.compile(r"/v1/pay-order/seller/orders/([^/]+)/product-order-ids"), "product-order-ids",
     FakeNaver._order_ids),
    ("POST", re.compile(r"/v1/pay-order/seller/product-orders/confirm"), "confirm", FakeNaver._confirm),
    ("POST", re.compile(r"/v1/pay-order/seller/product-orders/dispatch"), "dispatch", FakeNaver._dispatch),
    ("GET", re.compile(r"/v1/seller/account"), "seller-account", FakeNaver._seller_account),
    ("POST", re.compile(r"/v1/products/search"), "products-search", FakeNaver._product_search),
    ("GET", re.compile(r"/v2/products/origin-products/([^/]+)"), "origin-product", FakeNaver._origin_product_get),
    ("GET", re.compile(r"/v2/products/channel-products/([^/]+)"), "channel-product", FakeNaver._channel_product_get),
]

_LEAF_CATEGORY = "50000803"
_WHOLE_CATEGORY_ID = "50000000>50000004>50000152>50000803"
_WHOLE_CATEGORY_NAME = "패션의류>남성의류>티셔츠>반팔티셔츠"
_OPTION_GROUP_NAMES = ("색상", "사이즈", "종류", "지점")
_COLORS = ("블랙", "화이트", "네이비", "그레이")
_SIZES = ("S", "M", "L", "XL")
_DELIVERY_INFO: dict[str, Any] = {
    "deliveryType": "DELIVERY", "deliveryAttributeType": "NORMAL", "deliveryCompany": "CJGLS",
    "deliveryFee": {"deliveryFeeType": "FREE", "baseFee": 0},
    "claimDeliveryInfo": {"returnDeliveryFee": 3_000, "exchangeDeliveryFee": 6_000}}
_PRODUCT_SORTS: dict[str, tuple[Callable[[_Product], Any], str]] = {
    "NO": (lambda p: p.origin_no, "ASC"),
    "NAME": (lambda p: (p.name, p.origin_no), "ASC"),
    "SELLER_CODE": (lambda p: (p.seller_code or "", p.origin_no), "ASC"),
    "LOW_PRICE": (lambda p: (p.sale_price, p.origin_no), "ASC"),
    "HIGH_PRICE": (lambda p: (-p.sale_price, p.origin_no), "DESC"),
    "REG_DATE": (lambda p: (p.reg, p.origin_no), "ASC"),
    "MOD_DATE": (lambda p: (p.mod, p.origin_no), "ASC"),
}


def _display_status(status: str) -> str:
    return "WAIT" if status == "WAIT" else "ON" if status in {"SALE", "OUTOFSTOCK"} else "SUSPENSION"


def _png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    """A valid PNG (8-bit RGB) made without an imaging library: ``rgb`` on white, a disc in a frame, so it
    looks like a product shot (and not like the station's letter tile) in a screenshot."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    dark = bytes(max(0, c - 90) for c in rgb)
    rows = []
    for y in range(height):
        row = bytearray(b"\x00")
        for x in range(width):
            edge = min(x, y, width - 1 - x, height - 1 - y) < 3
            disc = (x - width / 2) ** 2 + (y - height / 2) ** 2 < (width / 3) ** 2
            row += dark if edge else bytes(rgb) if disc else b"\xff\xff\xff"
        rows.append(bytes(row))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"".join(rows))) + chunk(b"IEND", b""))


def product_png(origin_no: int, version: int = 1) -> bytes:
    """The picture the fake CDN serves for a product: 64x64, its colour from its number and version."""
    seed = origin_no * 7919 + version * 104729
    return _png(64, 64, (seed % 200 + 30, seed // 200 % 200 + 30, seed // 40000 % 200 + 30))


def _generated_option(k: int, n: int, code: str | None) -> dict[str, Any]:
    opt: dict[str, Any] = {"optionName1": _COLORS[k // len(_SIZES) % len(_COLORS)],
                           "optionName2": _SIZES[k % len(_SIZES)], "stockQuantity": (n * 7 + k * 3) % 20,
                           "price": 0 if k < len(_SIZES) else 1_000}
    if k >= len(_SIZES) * len(_COLORS):
        opt["optionName2"] += f"-{k}"
    if code:
        opt["sellerManagerCode"] = code
    return opt


def _check_option_keys(spec: Mapping[str, Any], *, allow_id: bool) -> None:
    allowed = set(OPTION_COMBINATION_KEYS) if allow_id else set(OPTION_COMBINATION_KEYS) - {"id"}
    unknown = set(spec) - allowed
    if unknown:
        hint = (" (option level is spelled sellerManagerCode; sellerManagementCode is the product level)"
                if "sellerManagementCode" in unknown else "")
        raise ValueError(f"not an optionCombinations field: {sorted(unknown)}{hint}")


def _cancel_pending(rec: _ProductOrder) -> bool:
    return rec.po.get("claimType") in {"CANCEL", "ADMIN_CANCEL"} and \
        rec.po.get("claimStatus") in {"CANCEL_REQUEST", "CANCELING", "ADMIN_CANCELING"}


def _seed_event(status: str) -> str:
    return {"PAYMENT_WAITING": "PAY_WAITING", "DELIVERING": "DISPATCHED", "DELIVERED": "DISPATCHED",
            "PURCHASE_DECIDED": "PURCHASE_DECIDED", "CANCELED": "CLAIM_COMPLETED",
            "RETURNED": "CLAIM_COMPLETED", "EXCHANGED": "CLAIM_COMPLETED"}.get(status, "PAYED")


def _check_enum(value: str, allowed: frozenset[str], name: str) -> None:
    if value not in allowed:
        raise ValueError(f"{name} {value!r} is not one of the spec's values")


def _multi(query: Mapping[str, list[str]], name: str) -> list[str]:
    """Repeated keys (?k=A&k=B) and comma-separated values (?k=A,B) both work."""
    return [part for value in query.get(name, []) for part in value.split(",") if part]


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


def _dump(obj: Any) -> bytes:
    return json.dumps(obj, ensure_ascii=False).encode("utf-8")


# --- HTTP plumbing --------------------------------------------------------------------------------------
class _Server(ThreadingHTTPServer):
    # Handler threads are joined on close; idle keep-alive sockets are shut down first so the join is quick.
    daemon_threads = False
    block_on_close = True

    def __init__(self, fake: FakeNaver, port: int) -> None:
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


def _pickup(company: str | None, tracking: str | None) -> dict[str, Any]:
    """A return/exchange claim's pickup fields (§3.5), none when no pickup is booked."""
    if not company and not tracking:
        return {}
    return {"collectDeliveryMethod": "RETURN_DESIGNATED", "collectDeliveryCompany": company or "CJGLS",
            "collectTrackingNumber": tracking or ""}
