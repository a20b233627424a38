"""Naver SmartStore through the Naver Commerce API (네이버 커머스API), per
``docs/marketplaces/smartstore.md`` (the §1-§8 cited below are its sections).

Two layers:
- ``NaverClient`` speaks the wire: the token (§1), one method per endpoint, each reply checked against the
  contract before anything is taken from it.
- ``NaverChannel`` is the ``Channel``: collection (changed product orders in ≤24 h windows, then their
  details), 발주확인 and 발송처리 with a result per product order, and the connection test.

Credentials: the client secret is given to the constructor and kept only to sign token requests. It and
the signature never reach a log line, an error (they are redacted from anything an error carries) or a
repr. The token is fetched once and reused until shortly before it expires (the vendor penalises token
storms and non-standard token calls, §1.1): form body only, ``type=SELF``, never query parameters.
"""

from __future__ import annotations

import base64
import logging
import random
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

import bcrypt
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
    ProductPage,
    ProductRecord,
    ReturnLine,
    ReturnRecord,
    WriteResult,
)
from packdesk.channels.http import (
    DEFAULT_TIMEOUT,
    ApiProblem,
    ChannelBadReply,
    HttpClient,
    RateLimiters,
    RetryPolicy,
    json_body,
)
from packdesk.channels.markets.naver import DEFAULT_BASE_URL
from packdesk.channels.replies import JsonNode, bad_field
from packdesk.core.couriers import from_channel
from packdesk.core.enums import ChannelKind, LineStatus
from packdesk.core.kst import KST
from packdesk.core.phones import domestic
from packdesk.core.tracking import normalize

log = logging.getLogger("packdesk.channels.naver")


TOKEN_PATH = "/v1/oauth2/token"
LAST_CHANGED_PATH = "/v1/pay-order/seller/product-orders/last-changed-statuses"
QUERY_PATH = "/v1/pay-order/seller/product-orders/query"
CONFIRM_PATH = "/v1/pay-order/seller/product-orders/confirm"
DISPATCH_PATH = "/v1/pay-order/seller/product-orders/dispatch"
PRODUCT_SEARCH_PATH = "/v1/products/search"
ORIGIN_PRODUCT_PATH = "/v2/products/origin-products/{}"
MAX_PRODUCT_PAGE = 500            # products/search page size (§8)
CODE_RULES = ("product_option", "seller_code")  # how a sales product is named: see ``sales_codes``

MAX_WINDOW = timedelta(hours=24)  # last-changed: wider ranges are refused (§3.1)
MAX_PAGE = 300                    # last-changed page size (§3.1)
MAX_QUERY_IDS = 300               # product-order details per request (§3.2)
MAX_CONFIRM_IDS = 30              # 발주확인 per request (§5)
MAX_DISPATCH_ITEMS = 30           # 발송처리 per request (§6)
MAX_PAGES_PER_WINDOW = 10_000     # a cursor that never ends is a broken reply, not a busy shop
TIMESTAMP_SKEW_MS = 3_000         # sign with "now - 3 s": a fast PC clock must not make the stamp future
TOKEN_MARGIN = 600.0              # refresh this many seconds before expiry (at most 10 % of the token life)
RATE_HEADERS = ("GNCP-GW-RateLimit-Replenish-Rate", "GNCP-GW-RateLimit-Burst-Capacity")
STATE_UNCHANGED = "105306"        # "requested state equals current state"
RETURN_CLAIMS = {"RETURN": "return", "EXCHANGE": "exchange"}  # claimType -> ours, and the claim object's key

# our codes for per-item results that did not come from the API (the UI renders them like error codes)
ITEM_NOT_IN_REPLY = "channel_no_result"
ITEM_MISSING_COURIER = "dispatch_missing_courier"
ITEM_MISSING_TRACKING = "dispatch_missing_tracking"


# --- small pure helpers ------------------------------------------------------------------------------------
def client_secret_sign(client_id: str, client_secret: str, timestamp_ms: int) -> str:
    """§1.2: ``base64(bcrypt.hashpw(f"{client_id}_{timestamp_ms}", salt=client_secret))``.

    The application secret *is* a bcrypt salt (``$2a$04$`` + 22 chars). A secret bcrypt will not take as a
    salt is an account problem (mistyped or pasted wrong), reported without echoing it."""
    try:
        hashed = bcrypt.hashpw(f"{client_id}_{timestamp_ms}".encode(), client_secret.encode())
    except ValueError:
        raise ChannelAuthError(reason="secret_format",
                               detail="the client secret is not a bcrypt salt ($2a$NN$ + 22 characters)") from None
    return base64.b64encode(hashed).decode("ascii")


def format_datetime(value: datetime) -> str:
    """``yyyy-MM-dd'T'HH:mm:ss.SSS+09:00``: the one shape the API accepts (no millis or offset -> 400)."""
    if value.tzinfo is None:
        raise ValueError(f"naive datetime {value!r}: give a timezone")
    k = value.astimezone(KST)
    return k.strftime("%Y-%m-%dT%H:%M:%S.") + f"{k.microsecond // 1000:03d}+09:00"


def windows(since: datetime, until: datetime, size: timedelta = MAX_WINDOW) -> Iterator[tuple[datetime, datetime]]:
    """``[since, until)`` cut into consecutive half-open windows of at most ``size``."""
    if since.tzinfo is None or until.tzinfo is None:
        raise ValueError("collection windows need timezone-aware datetimes")
    start = since
    while start < until:
        end = min(start + size, until)
        yield start, end
        start = end


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


_CANCEL_IN_PROGRESS = frozenset({"CANCEL_REQUEST", "CANCELING", "ADMIN_CANCELING"})
_CANCEL_DONE = frozenset({"CANCEL_DONE", "ADMIN_CANCEL_DONE"})
_SHIPPED = frozenset({"DELIVERING", "DELIVERED", "PURCHASE_DECIDED", "EXCHANGED", "RETURNED"})
_CANCELLED = frozenset({"CANCELED", "CANCELED_BY_NOPAYMENT"})


def line_status(product_order_status: str, place_order_status: str = "", claim_status: str = "",
                remain_quantity: int | None = None) -> LineStatus | None:
    """Our line status from Naver's (spec §4). ``None``: not an order to handle yet (unpaid).

    First match wins:

    ====================================================  ====================  ===================================
    Naver                                                 ours                  why
    ====================================================  ====================  ===================================
    productOrderStatus PAYMENT_WAITING                    (left out)            not paid: nothing to pack yet; the
                                                                                PAYED change brings it in later
    productOrderStatus CANCELED, CANCELED_BY_NOPAYMENT    CANCELLED
    claimStatus CANCEL_DONE, ADMIN_CANCEL_DONE            CANCELLED             unless remainQuantity > 0: a
                                                                                partial-quantity cancel, the rest
                                                                                ships (then as by status below)
    claimStatus CANCEL_REQUEST, CANCELING,                CANCEL_REQUESTED      hold the parcel, whatever the
    ADMIN_CANCELING                                                             product-order status says
    PAYED + placeOrderStatus OK                           CONFIRMED             발주확인 done: pack
    PAYED + NOT_YET, CANCEL (발주확인 해제) or absent     NEW
    DELIVERING, DELIVERED, PURCHASE_DECIDED,              SHIPPED               the parcel left (return/exchange
    EXCHANGED, RETURNED                                                         claims ride along as claim_status)
    anything else                                         ChannelBadReply       an unknown state is not guessed
                                                                                packable
    ====================================================  ====================  ===================================

    CANCEL_REJECT / ADMIN_CANCEL_REJECT and return/exchange/holdback claims do not change the outcome: the
    product-order status decides. PACKED and DISPATCHED are ours alone and never come from here.
    """
    pos, place, claim = product_order_status, place_order_status, claim_status
    if pos == "PAYMENT_WAITING":
        return None
    if pos in _CANCELLED:
        return LineStatus.CANCELLED
    if claim in _CANCEL_DONE and not (remain_quantity is not None and remain_quantity > 0):
        return LineStatus.CANCELLED
    if claim in _CANCEL_IN_PROGRESS:
        return LineStatus.CANCEL_REQUESTED
    if pos == "PAYED":
        return LineStatus.CONFIRMED if place == "OK" else LineStatus.NEW
    if pos in _SHIPPED:
        return LineStatus.SHIPPED
    raise ChannelBadReply(reason="unknown_status", value=pos,
                          detail=f"unknown productOrderStatus {pos!r} (placeOrderStatus {place!r}, claim {claim!r})")


# --- reading replies ----------------------------------------------------------------------------------------
class _Node(JsonNode):
    """Naver's replies: ids are strings in the contract; a JSON integer means the same id and is taken."""

    def ident(self, key: str) -> str:
        value = self.value.get(key)
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        return self.text(key)

    def opt_ident(self, key: str) -> str:
        return self.ident(key) if self.has(key) else ""

    def opt_integer(self, key: str) -> int | None:
        return self.integer(key) if self.has(key) else None


_bad = bad_field


def _data(body: Any, what: str, *, may_be_empty: bool = False) -> Any:
    """The ``data`` of the order API's envelope ``{timestamp, traceId, data}``. ``may_be_empty``: an envelope
    without ``data`` means "nothing" (optional fields are omitted when empty, §3.1); a body that is not
    even an envelope is still refused."""
    root = _Node(body, what)
    if root.value.get("data") is None:
        if may_be_empty and ("timestamp" in root.value or "traceId" in root.value):
            return {}
        raise _bad(f"{what}.data", "present", None)
    return root.value["data"]


def read_naver_problem(response: httpx.Response) -> ApiProblem:
    """Naver's three error-body families (§2.2) share ``code``/``message``/``traceId``; the trace id is also
    a header. An hourly (or longer) quota is not worth retrying: it lasts until tomorrow (§1.1, §2.3)."""
    code = message = trace = ""
    try:
        body = response.json()
    except (ValueError, RecursionError):  # RecursionError: JSON nested deeper than Python parses
        body = None
    if isinstance(body, dict):
        raw_code = body.get("code")
        code = str(raw_code) if isinstance(raw_code, str | int) and not isinstance(raw_code, bool) else ""
        message = raw if isinstance(raw := body.get("message"), str) else ""
        trace = raw if isinstance(raw := body.get("traceId"), str) else ""
        inputs = body.get("invalidInputs")
        if isinstance(inputs, list):
            extra = [f"{i.get('name')}: {i.get('message')}" for i in inputs
                     if isinstance(i, dict) and i.get("message")]
            if extra:
                message = "; ".join([m for m in (message, *extra) if m])
    trace = trace or response.headers.get("GNCP-GW-Trace-ID", "")
    retryable: bool | None = None
    if code == "GW.QUOTA_LIMIT":
        period = response.headers.get("GNCP-GW-Quota-Period", "").upper()
        retryable = period in ("", "SECONDS")
    return ApiProblem(code=code, message=message, trace_id=trace, retryable=retryable)


# --- records of the wire ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ChangedProductOrder:
    """One entry of last-changed-statuses (§3.1): what changed, not yet the details."""

    order_id: str
    product_order_id: str
    product_order_status: str
    last_changed_type: str
    last_changed_at: datetime | None
    claim_status: str = ""
    claim_type: str = ""


@dataclass(frozen=True)
class ConnectionOk:
    channel: ChannelKind
    token_expires_in: int  # seconds


# --- the wire -----------------------------------------------------------------------------------------------
class NaverClient(Closing):
    """The Naver Commerce API as called by one application (one seller's "내 스토어 애플리케이션")."""

    def __init__(
        self,
        client_id: str,
        client_secret: str,
        *,
        base_url: str = DEFAULT_BASE_URL,
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        limiters: RateLimiters | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
        rng: Callable[[], float] = random.random,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.client_id = client_id.strip()
        self.__secret = client_secret.strip()
        self._clock, self._wall = clock, wall
        host = httpx.URL(base_url).host
        # Naver meters per (API, application): buckets keyed by application here, by API in ``call``
        self._http = HttpClient(base_url, timeout=timeout, retry=retry, rate=2.0, burst=4.0, limiters=limiters,
                                limit_key=f"{host}#{self.client_id}", rate_headers=RATE_HEADERS,
                                problem_reader=read_naver_problem, headers={"Accept": "application/json"},
                                sleep=sleep, clock=clock, wall=wall, rng=rng, transport=transport)
        self._token_lock = threading.Lock()
        self._token = ""
        self._token_expires_at = 0.0

    def __repr__(self) -> str:
        return f"NaverClient(client_id={self.client_id!r}, base_url={self._http.base_url!r})"

    def close(self) -> None:
        self._http.close()

    # token (§1) -----------------------------------------------------------------------------------------
    def fetch_token(self) -> tuple[str, int]:
        """A token straight from the server (no cache): ``(access_token, expires_in)``."""
        timestamp = int(self._wall() * 1000) - TIMESTAMP_SKEW_MS
        sign = client_secret_sign(self.client_id, self.__secret, timestamp)
        form = {"client_id": self.client_id, "timestamp": str(timestamp), "grant_type": "client_credentials",
                "client_secret_sign": sign, "type": "SELF"}
        redact = (sign, self.__secret)
        try:
            response = self._http.request("POST", TOKEN_PATH, data=form, idempotent=True, redact=redact)
        except ChannelRejected as exc:  # 400 and the like from the token endpoint: the credentials were refused
            raise ChannelAuthError(detail=exc.detail, **exc.params) from None
        token_node = _Node(json_body(response, redact), "token")
        token = token_node.text("access_token")
        expires_in = token_node.integer("expires_in")
        if expires_in <= 0:
            raise _bad("token.expires_in", "a positive number of seconds", expires_in)
        return token, expires_in

    def token(self) -> str:
        """The cached token, fetched when missing or about to expire."""
        with self._token_lock:
            now = self._clock()
            if self._token and now < self._token_expires_at:
                return self._token
            token, expires_in = self.fetch_token()
            margin = min(TOKEN_MARGIN, expires_in * 0.1)
            self._token, self._token_expires_at = token, now + expires_in - margin
            log.info("naver %s: new access token, valid %d s", self.client_id, expires_in)
            return token

    def _forget_token(self, token: str) -> None:
        with self._token_lock:
            if self._token == token:  # another thread may already have fetched a fresh one
                self._token, self._token_expires_at = "", 0.0

    def call(self, method: str, path: str, *, params: Mapping[str, Any] | None = None, json: Any = None,
             idempotent: bool | None = None, api: str | None = None) -> Any:
        """An authorised call; its JSON. On 401 the token is fetched anew and the call made once more
        (the vendor's guidance, §1.4)."""
        for second_try in (False, True):
            token = self.token()
            try:
                # Naver meters each API on its own (§2.3): one bucket per API (the path unless named)
                response = self._http.request(method, path, params=params, json=json, idempotent=idempotent,
                                              api=api or f"{method} {path}",
                                              headers={"Authorization": f"Bearer {token}"}, redact=(token,))
            except ChannelAuthError as exc:
                if second_try or exc.params.get("status") != 401:
                    raise
                log.info("naver %s: token refused (%s), fetching a new one", self.client_id,
                         exc.params.get("api_code", "401"))
                self._forget_token(token)
                continue
            return json_body(response)
        raise AssertionError("unreachable")  # pragma: no cover

    # endpoints ---------------------------------------------------------------------------------------------
    def last_changed(self, since: datetime, until: datetime, *, page_size: int = MAX_PAGE,
                     window: timedelta = MAX_WINDOW) -> list[ChangedProductOrder]:
        """Product orders changed in ``[since, until)``, window by window, page by page (§3.1)."""
        return [c for page in self.last_changed_pages(since, until, page_size=page_size, window=window) for c in page]

    def last_changed_pages(self, since: datetime, until: datetime, *, page_size: int = MAX_PAGE,
                           window: timedelta = MAX_WINDOW) -> Iterator[list[ChangedProductOrder]]:
        """``last_changed`` a page at a time, so a caller can fetch details while the next page is due."""
        for start, end in windows(since, until, min(window, MAX_WINDOW)):
            # Naver's times are whole milliseconds and its window is closed: [start, end) ends a millisecond
            # before ``end``, but never before it starts (a last window under a millisecond, the rest of a span
            # of whole days to "now": refused as 104140, "조회 날짜가 유효하지 않습니다", before this)
            params: dict[str, Any] = {"lastChangedFrom": format_datetime(start),
                                      "lastChangedTo": format_datetime(max(start, end - timedelta(milliseconds=1)))}
            if page_size < MAX_PAGE:
                params["limitCount"] = page_size
            cursors: set[tuple[str, str]] = set()
            for page in range(MAX_PAGES_PER_WINDOW):
                what = f"last-changed[{params['lastChangedFrom']}#{page}]"
                body = self.call("GET", LAST_CHANGED_PATH, params=params)
                data = _Node(_data(body, what, may_be_empty=True), f"{what}.data")
                yield [_changed(item, f"{data.path}.lastChangeStatuses[{i}]")
                       for i, item in enumerate(_change_list(data))]
                more = data.opt_obj("more")
                if more is None:
                    break
                cursor = (more.text("moreFrom"), more.ident("moreSequence"))
                if cursor in cursors:
                    raise ChannelBadReply(reason="pagination_loop",
                                          detail=f"{what}: the 'more' cursor {cursor} came back again")
                cursors.add(cursor)
                params = {**params, "lastChangedFrom": cursor[0], "moreSequence": cursor[1]}
            else:
                raise ChannelBadReply(reason="pagination_loop",
                                      detail=f"more than {MAX_PAGES_PER_WINDOW} pages in one window")

    def product_orders(self, product_order_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        """Details (§3.2) by product-order id, in batches of 300. Ids Naver does not return are absent."""
        ids = list(dict.fromkeys(product_order_ids))
        found: dict[str, dict[str, Any]] = {}
        for batch in _chunks(ids, MAX_QUERY_IDS):
            body = self.call("POST", QUERY_PATH, json={"productOrderIds": list(batch),
                                                        "quantityClaimCompatibility": True}, idempotent=True)
            data = _data(body, "query")
            if not isinstance(data, list):
                raise _bad("query.data", "a list", data)
            asked = set(batch)
            for i, item in enumerate(data):
                node = _Node(item, f"query.data[{i}]")
                pid = node.obj("productOrder").ident("productOrderId")
                if pid in asked:
                    found[pid] = node.value
        return found

    def search_products(self, page: int, size: int = MAX_PRODUCT_PAGE) -> Any:
        """One page (1-based) of the store's products (§8): origin products with their channel products."""
        return self.call("POST", PRODUCT_SEARCH_PATH, json={"page": page, "size": size}, idempotent=True)

    def origin_product(self, origin_product_no: str) -> Any:
        """An origin product with its option combinations (§8); no ``data`` envelope."""
        return self.call("GET", ORIGIN_PRODUCT_PATH.format(origin_product_no), api="GET origin-product")

    def confirm_batch(self, product_order_ids: Sequence[str]) -> dict[str, ItemResult]:
        """발주확인 of at most 30 (§5). Its reply lists ``successProductOrderInfos`` objects, unlike the other
        writes; ``successProductOrderIds`` is accepted too."""
        if len(product_order_ids) > MAX_CONFIRM_IDS:
            raise ValueError(f"at most {MAX_CONFIRM_IDS} product orders per confirm")
        body = self.call("POST", CONFIRM_PATH, json={"productOrderIds": list(product_order_ids)},
                         idempotent=True)  # confirming twice leaves it confirmed
        data = _Node(_data(body, "confirm"), "confirm.data")
        results: dict[str, ItemResult] = {}
        if data.has("successProductOrderInfos"):
            for i, info in enumerate(data.array("successProductOrderInfos")):
                node = _Node(info, f"confirm.data.successProductOrderInfos[{i}]")
                pid = node.ident("productOrderId")
                results[pid] = ItemResult(pid, True, address_changed=node.opt_bool("isReceiverAddressChanged"))
        if data.has("successProductOrderIds"):
            results.update((pid, ItemResult(pid, True)) for pid in _id_list(data, "successProductOrderIds"))
        results.update(_failures(data, "confirm.data", confirm=True))
        return results

    def dispatch_batch(self, items: Sequence[DispatchItem]) -> dict[str, ItemResult]:
        """발송처리 of at most 30 by parcel delivery (§6). HTTP 200 even when items fail: the reply says which."""
        if len(items) > MAX_DISPATCH_ITEMS:
            raise ValueError(f"at most {MAX_DISPATCH_ITEMS} product orders per dispatch")
        payload = {"dispatchProductOrders": [
            {"productOrderId": it.product_order_id, "deliveryMethod": "DELIVERY",
             "deliveryCompanyCode": it.courier_code, "trackingNumber": it.tracking_number,
             "dispatchDate": format_datetime(it.dispatch_date)} for it in items]}
        body = self.call("POST", DISPATCH_PATH, json=payload, idempotent=False)
        data = _Node(_data(body, "dispatch"), "dispatch.data")
        results = {pid: ItemResult(pid, True) for pid in _id_list(data, "successProductOrderIds", optional=True)}
        results.update(_failures(data, "dispatch.data", confirm=False))
        return results


def _change_list(data: _Node) -> list[Any]:
    """``lastChangeStatuses`` (the contract's spelling; ``lastChangedStatuses`` tolerated). Optional fields
    are omitted when empty, so an empty page may carry no list, but then it must not claim a count."""
    for key in ("lastChangeStatuses", "lastChangedStatuses"):
        if data.has(key):
            return data.array(key)
    count = data.opt_integer("count")
    if count:
        raise _bad(f"{data.path}.lastChangeStatuses", f"a list of {count}", None)
    return []


def _changed(item: Any, path: str) -> ChangedProductOrder:
    node = _Node(item, path)
    return ChangedProductOrder(order_id=node.ident("orderId"), product_order_id=node.ident("productOrderId"),
                               product_order_status=node.opt_text("productOrderStatus"),
                               last_changed_type=node.opt_text("lastChangedType"),
                               last_changed_at=node.opt_datetime("lastChangedDate"),
                               claim_status=node.opt_text("claimStatus"), claim_type=node.opt_text("claimType"))


def _id_list(data: _Node, key: str, *, optional: bool = False) -> list[str]:
    if optional and not data.has(key):
        return []
    out = []
    for i, value in enumerate(data.array(key)):
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str) or not value:
            raise _bad(f"{data.path}.{key}[{i}]", "a product-order id", value)
        out.append(value)
    return out


def _failures(data: _Node, path: str, *, confirm: bool) -> dict[str, ItemResult]:
    results: dict[str, ItemResult] = {}
    if not data.has("failProductOrderInfos"):
        return results
    for i, info in enumerate(data.array("failProductOrderInfos")):
        node = _Node(info, f"{path}.failProductOrderInfos[{i}]")
        pid = node.ident("productOrderId")
        code, message = node.opt_ident("code"), node.opt_text("message")
        if confirm and code == STATE_UNCHANGED:  # already confirmed: what we wanted
            results[pid] = ItemResult(pid, True, code=code, message=message, already_done=True)
        else:
            results[pid] = ItemResult(pid, False, code=code, message=message)
    return results


# --- the channel --------------------------------------------------------------------------------------------
class NaverChannel:
    """A SmartStore seller account as an order source: collect, 발주확인, 발송처리, connection test."""

    kind = ChannelKind.NAVER

    def __init__(self, client_id: str, client_secret: str, *, page_size: int = MAX_PAGE,
                 code_rule: str = "product_option", product_page_size: int = 100, **client_options: Any) -> None:
        """``client_options`` go to ``NaverClient`` (base_url, timeout, retry, sleep, clock, …). ``code_rule``
        names sales products (``sales_codes``); ``product_page_size``: products per catalogue page (each
        product is one more call for its options, so a page is a few seconds of work at Naver's rate)."""
        if not 1 <= page_size <= MAX_PAGE:
            raise ValueError(f"page_size must be 1..{MAX_PAGE}")
        if code_rule not in CODE_RULES:
            raise ValueError(f"code_rule must be one of {CODE_RULES}")
        self.client = NaverClient(client_id, client_secret, **client_options)
        self.page_size = page_size
        self.code_rule = code_rule
        self.product_page_size = max(1, min(MAX_PRODUCT_PAGE, product_page_size))
        # the return/exchange details the last ``collect`` read (its window, the details, when each changed), for
        # ``returns`` of the same window
        self._seen_returns: tuple[datetime, datetime, list[dict[str, Any]], dict[str, datetime | None]] | None = None

    def __repr__(self) -> str:
        return f"NaverChannel({self.client!r})"

    def close(self) -> None:
        self.client.close()

    def test_connection(self) -> ConnectionOk:
        """Only asks for a token: proves the id, the secret, the IP allow-list for the token call and the
        clock. Raises ``ChannelAuthError`` (refused), ``ChannelTransientError`` (unreachable), … ."""
        _, expires_in = self.client.fetch_token()
        return ConnectionOk(ChannelKind.NAVER, expires_in)

    # collection ------------------------------------------------------------------------------------------
    def collect(self, since: datetime, until: datetime) -> list[OrderRecord]:
        """Orders with a product order changed in ``[since, until)``, with the details Naver holds now.

        All or nothing: a failed call or a reply that breaks the contract raises, and nothing is returned.
        Details are authoritative (the change list can be stale, §3.1): statuses come from them. They are
        fetched page by page as the change list comes in: Naver meters each API on its own, so the two
        kinds of call share the time instead of queueing one behind the other."""
        ids: list[str] = []
        seen: set[str] = set()
        details: dict[str, dict[str, Any]] = {}
        changed_at: dict[str, datetime | None] = {}
        changes = 0
        self._seen_returns = None
        for page in self.client.last_changed_pages(since, until, page_size=self.page_size):
            changes += len(page)
            changed_at.update((c.product_order_id, c.last_changed_at) for c in page)
            new = [pid for pid in dict.fromkeys(c.product_order_id for c in page) if pid not in seen]
            seen.update(new)
            ids.extend(new)
            if new:
                details.update(self.client.product_orders(new))
        if not ids:
            self._seen_returns = (since, until, [], {})
            return []
        missing = [pid for pid in ids if pid not in details]
        if missing:
            raise ChannelBadReply(reason="details_missing", count=len(missing),
                                  detail=f"no details for {len(missing)} changed product order(s): "
                                         f"{', '.join(missing[:10])}")
        records = orders_from_details((details[pid] for pid in ids), self.code_rule)
        log.info("naver %s: %d change(s) -> %d order(s), %d line(s)", self.client.client_id, changes,
                 len(records), sum(len(r.lines) for r in records))
        # the claims' details, kept for ``returns`` (read there: a claim Naver describes wrongly fails the
        # returns, never the orders)
        claims = [details[pid] for pid in ids if _claim_type(details[pid]) in RETURN_CLAIMS]
        self._seen_returns = (since, until, claims, changed_at)
        return records

    def returns(self, since: datetime, until: datetime) -> list[ReturnRecord]:
        """Return and exchange claims (§3.5) of the product orders changed in ``[since, until)``. They come with
        the same changes and details a collection reads, so right after ``collect`` of the same window they
        are what it saw (no call); otherwise the change list is read again and only the claims' details are
        asked. All or nothing, like ``collect``."""
        seen, self._seen_returns = self._seen_returns, None
        if seen is not None and seen[:2] == (since, until):
            return returns_from_details(seen[2], seen[3])
        changed_at: dict[str, datetime | None] = {}
        for page in self.client.last_changed_pages(since, until, page_size=self.page_size):
            changed_at.update((c.product_order_id, c.last_changed_at) for c in page
                              if c.claim_type in RETURN_CLAIMS)
        if not changed_at:
            return []
        details = self.client.product_orders(list(changed_at))
        return returns_from_details((details[pid] for pid in changed_at if pid in details), changed_at)

    # catalogue -------------------------------------------------------------------------------------------
    def products(self, cursor: str | None) -> ProductPage:
        """One page of the store's catalogue as sales products: each product, or each option combination of
        an optioned product, named by the account's code rule. ``cursor`` is the page number; the next
        page's is returned (``None`` after the last). A deleted product is listed as deleted (its options
        are not read: what a sync no longer sees is marked deleted by the sync)."""
        page = int(cursor or 1)
        body = _Node(self.client.search_products(page, self.product_page_size), "products.search")
        records: list[ProductRecord] = []
        for i, content in enumerate(body.array("contents")):
            node = _Node(content, f"products.search.contents[{i}]")
            origin_no = node.ident("originProductNo")
            channels = node.array("channelProducts")
            if not channels:
                continue
            ch = _Node(channels[0], f"{node.path}.channelProducts[0]")
            product_no, status = ch.ident("channelProductNo"), ch.opt_text("statusType")
            name, seller = ch.opt_text("name"), ch.opt_text("sellerManagementCode")
            picture = ch.opt_obj("representativeImage")
            image = picture.opt_text("url") if picture is not None else ""
            if status == "DELETE":
                records.append(ProductRecord(*sales_codes(self.code_rule, product_no, "", seller), name, "",
                                             status, seller, deleted=True))
                continue
            records.extend(replace(r, image_url=image)
                           for r in self._combinations(origin_no, product_no, name, status, seller))
        last = body.opt_bool("last") or not body.array("contents")
        total = body.opt_integer("totalElements")
        return ProductPage(records, None if last else str(page + 1), total)

    def _combinations(self, origin_no: str, product_no: str, name: str, status: str,
                      seller: str) -> list[ProductRecord]:
        root = _Node(self.client.origin_product(origin_no), f"origin-product[{origin_no}]")
        detail = root.obj("originProduct").opt_obj("detailAttribute")
        info = detail.opt_obj("optionInfo") if detail else None
        combos = info.array("optionCombinations") if info is not None and info.has("optionCombinations") else []
        codes = detail.opt_obj("sellerCodeInfo") if detail else None
        seller = seller or (codes.opt_text("sellerManagementCode") if codes else "")
        if not combos:
            return [ProductRecord(*sales_codes(self.code_rule, product_no, "", seller), name, "", status,
                                  seller)]
        groups = info.opt_obj("optionCombinationGroupNames") if info is not None else None
        out = []
        for j, raw in enumerate(combos):
            c = _Node(raw, f"{root.path}.optionCombinations[{j}]")
            values = [c.opt_text(f"optionName{k}") for k in range(1, 5)]
            labels = [groups.opt_text(f"optionGroupName{k}") if groups else "" for k in range(1, 5)]
            option_name = " / ".join(f"{g}: {v}" if g else v
                                     for g, v in zip(labels, values, strict=True) if v)
            option_seller = c.opt_text("sellerManagerCode")  # option level: "Manager", not "Management" (§8)
            usable = c.value.get("usable") is not False
            out.append(ProductRecord(*sales_codes(self.code_rule, product_no, c.ident("id"), option_seller),
                                     name, option_name, status if usable else "UNUSABLE", option_seller))
        return out

    # reading current state ---------------------------------------------------------------------------------
    def lookup(self, product_order_ids: Sequence[str]) -> dict[str, LineRecord]:
        """The current state of these product orders, for the outbox's read-before-send: the query endpoint's
        product-order details, mapped as collection maps them."""
        details = self.client.product_orders(product_order_ids)
        return {ln.product_order_id: ln for rec in orders_from_details(details.values()) for ln in rec.lines}

    # writes ------------------------------------------------------------------------------------------------
    def confirm(self, product_order_ids: Iterable[str]) -> WriteResult:
        """발주확인 in batches of 30, a result for each id. An item Naver already had confirmed (105306)
        counts as done. A batch refused whole fails each of its items with the API's code and words; once
        Naver stays down or rate-limited after the retries, the remaining batches are not tried and come
        back ``retryable``. Raises only ``ChannelAuthError`` (the account itself is refused)."""
        ids = list(dict.fromkeys(product_order_ids))
        results: dict[str, ItemResult] = {}
        stop: ChannelError | None = None
        for batch in _chunks(ids, MAX_CONFIRM_IDS):
            if stop is None:
                try:
                    results.update(_for_batch(batch, self.client.confirm_batch(batch)))
                    continue
                except ChannelRejected as exc:
                    results.update(_batch_failed(batch, exc, retryable=False))
                    continue
                except ChannelBadReply as exc:  # outcome unknown; confirming again is harmless
                    results.update(_batch_failed(batch, exc, retryable=True))
                    continue
                except (ChannelTransientError, ChannelRateLimited) as exc:
                    stop = exc  # retries are spent: leave the rest for the next run rather than hammer
            results.update(_batch_failed(batch, stop, retryable=True))
        return WriteResult(results)

    def dispatch(self, items: Iterable[DispatchItem | tuple[str, str, str, datetime]], *,
                 checked: bool = False) -> WriteResult:
        """발송처리: tracking numbers for product orders, in batches of 30, a result for each.

        Safe to repeat: product orders Naver already shows as dispatched with the same carrier and
        tracking number are reported done (``already_done``) without being sent (``checked``: the caller
        has just read them and found them not dispatched, so that read is not made twice). After a timeout or 5xx
        the batch is not posted again blind (a repeat could fail what actually succeeded): its product
        orders are re-read, and those not shown dispatched come back ``retryable``.

        Raises ``ChannelAuthError`` at any point (a re-run is safe, see above) and any ``ChannelError`` of
        the read-ahead, when nothing has been sent yet."""
        wanted = [DispatchItem(*it) for it in items]
        seen: set[str] = set()
        for it in wanted:
            if it.product_order_id in seen:
                raise ValueError(f"product order {it.product_order_id} given twice")
            seen.add(it.product_order_id)
            format_datetime(it.dispatch_date)  # naive dates are our bug: fail before sending anything
        results: dict[str, ItemResult] = {}
        sendable: list[DispatchItem] = []
        for it in wanted:
            if not it.courier_code.strip():
                results[it.product_order_id] = ItemResult(it.product_order_id, False, ITEM_MISSING_COURIER)
            elif not it.tracking_number.strip():
                results[it.product_order_id] = ItemResult(it.product_order_id, False, ITEM_MISSING_TRACKING)
            else:
                sendable.append(it)
        current = self.client.product_orders(it.product_order_id for it in sendable) if sendable and not checked \
            else {}
        to_send: list[DispatchItem] = []
        for it in sendable:
            if _shows_dispatched(current.get(it.product_order_id), it):
                results[it.product_order_id] = ItemResult(it.product_order_id, True, already_done=True)
            else:
                to_send.append(it)
        stop: ChannelError | None = None
        for batch in _chunks(to_send, MAX_DISPATCH_ITEMS):
            ids = [it.product_order_id for it in batch]
            if stop is None:
                try:
                    results.update(_for_batch(ids, self.client.dispatch_batch(batch)))
                    continue
                except ChannelRejected as exc:  # the whole request refused (e.g. 400 000400)
                    results.update(_batch_failed(ids, exc, retryable=False))
                    continue
                except ChannelRateLimited as exc:  # refused at the gate: nothing was applied
                    stop = exc
                except (ChannelTransientError, ChannelBadReply) as exc:  # may have been applied
                    results.update(self._settle_uncertain(batch, exc))
                    stop = exc if isinstance(exc, ChannelTransientError) else None
                    continue
            results.update(_batch_failed(ids, stop, retryable=True))
        return WriteResult({it.product_order_id: results[it.product_order_id] for it in wanted})

    def _settle_uncertain(self, batch: Sequence[DispatchItem], error: ChannelError) -> dict[str, ItemResult]:
        log.info("naver %s: dispatch of %d item(s) uncertain (%s); reading them back", self.client.client_id,
                 len(batch), error.code)
        try:
            current = self.client.product_orders(it.product_order_id for it in batch)
        except ChannelAuthError:
            raise
        except ChannelError as exc:
            log.info("naver %s: could not read them back either (%s)", self.client.client_id, exc.code)
            current = {}
        return {it.product_order_id: ItemResult(it.product_order_id, True, already_done=True)
                if _shows_dispatched(current.get(it.product_order_id), it)
                else _failed(it.product_order_id, error, retryable=True) for it in batch}


def _for_batch(ids: Sequence[str], reply: dict[str, ItemResult]) -> dict[str, ItemResult]:
    """The reply's result for each id asked; an id the reply does not mention is not assumed done."""
    return {pid: reply.get(pid) or ItemResult(pid, False, ITEM_NOT_IN_REPLY, retryable=True) for pid in ids}


def _failed(pid: str, error: ChannelError, *, retryable: bool) -> ItemResult:
    message = error.params.get("message", "")
    return ItemResult(pid, False, code=str(error.params.get("api_code") or error.code),
                      message=message if isinstance(message, str) else "", retryable=retryable)


def _batch_failed(ids: Sequence[str], error: ChannelError, *, retryable: bool) -> dict[str, ItemResult]:
    return {pid: _failed(pid, error, retryable=retryable) for pid in ids}


def _shows_dispatched(detail: dict[str, Any] | None, item: DispatchItem) -> bool:
    """Naver already has this carrier and tracking number on the product order."""
    if not detail or not isinstance(detail.get("delivery"), dict):
        return False
    delivery = detail["delivery"]
    return (delivery.get("trackingNumber") == item.tracking_number
            and delivery.get("deliveryCompany") == item.courier_code)


# --- mapping details to records -----------------------------------------------------------------------------
def orders_from_details(details: Iterable[Mapping[str, Any]], code_rule: str = "product_option") -> list[OrderRecord]:
    """Product-order details (§3.2) -> one ``OrderRecord`` per ``orderId``, in first-seen order.

    Field choices (§3.2, §8):
    - product code = ``productId`` (the channel product no., what the seller sees in the store), else
      ``originalProductId``;
    - option code = ``optionCode`` (= ``itemNo``), else ``optionManageCode`` (the seller's option code);
    - quantity = ``remainQuantity`` when positive (after a partial-quantity claim), else ``quantity``;
    - recipient from ``productOrder.shippingAddress``; address = ``baseAddress`` + " " + ``detailedAddress``;
    - claim status from ``productOrder.claimStatus``, else ``currentClaim``, else the legacy claim keys;
    - courier and tracking number from ``delivery`` when Naver has them.
    Unpaid product orders (PAYMENT_WAITING) are left out; an order with only those is left out.
    """
    grouped: dict[str, list[tuple[_Node, LineRecord]]] = {}
    for i, raw in enumerate(details):
        root = _Node(raw, f"details[{i}]")
        order = root.obj("order")
        line = _line(root, code_rule)
        if line is not None:
            grouped.setdefault(order.ident("orderId"), []).append((root, line))
    records = []
    for order_no, entries in grouped.items():
        root = entries[0][0]
        order, po = root.obj("order"), root.obj("productOrder")
        address = po.opt_obj("shippingAddress")
        records.append(OrderRecord(
            order_no=order_no,
            buyer_name=order.opt_text("ordererName"),
            recipient_name=address.opt_text("name") if address else "",
            recipient_phone=domestic(address.opt_text("tel1") or address.opt_text("tel2")) if address else "",
            zip_code=address.opt_text("zipCode") if address else "",
            address=" ".join(p for p in (address.opt_text("baseAddress").strip(),
                                         address.opt_text("detailedAddress").strip()) if p) if address else "",
            delivery_message=po.opt_text("shippingMemo"),
            ordered_at=order.opt_datetime("orderDate"),
            paid_at=order.opt_datetime("paymentDate"),
            lines=tuple(sorted((line for _, line in entries), key=lambda ln: ln.product_order_id)),
        ))
    return records


def _claim_status(root: _Node, po: _Node) -> str:
    if po.has("claimStatus"):
        return po.opt_text("claimStatus")
    holders = [c for c in (root.opt_obj("currentClaim"),) if c is not None] + [root]
    for holder in holders:
        for key in ("cancel", "adminCancel", "return", "exchange"):
            claim = holder.opt_obj(key)
            if claim is not None and claim.has("claimStatus"):
                return claim.opt_text("claimStatus")
    return ""


def _claim_type(detail: Mapping[str, Any]) -> object:
    po = detail.get("productOrder")
    return po.get("claimType") if isinstance(po, dict) else None


def returns_from_details(details: Iterable[Mapping[str, Any]],
                         changed_at: Mapping[str, datetime | None] | None = None) -> list[ReturnRecord]:
    """The return and exchange claims (§3.5) among product-order details: one record per ``claimId`` (product
    orders of one claim are its lines), in first-seen order. The claim object is ``currentClaim.return`` /
    ``.exchange``, else the legacy top-level one; ``updated_at`` is the product order's last change (``changed_at``),
    else the pickup's completion, else the request."""
    found: dict[str, ReturnRecord] = {}
    for i, raw in enumerate(details):
        root = _Node(raw, f"details[{i}]")
        po = root.obj("productOrder")
        kind = RETURN_CLAIMS.get(po.opt_text("claimType"))
        if kind is None:
            continue
        current = root.opt_obj("currentClaim")
        claim = (current.opt_obj(kind) if current else None) or root.opt_obj(kind)
        if claim is None:
            raise _bad(f"{root.path}.currentClaim.{kind}", f"the {kind} claim", None)
        pid = po.ident("productOrderId")
        claim_id = claim.opt_ident("claimId") or po.ident("claimId")
        quantity = claim.opt_integer("requestQuantity") or po.integer("quantity")
        company = claim.opt_text("collectDeliveryCompany").strip()
        requested = claim.opt_datetime("claimRequestDate")
        updated = (changed_at or {}).get(pid) or claim.opt_datetime("collectCompletedDate") or requested
        record = found.get(claim_id)
        if record is not None:  # another product order of the same claim
            found[claim_id] = replace(record, lines=(*record.lines, ReturnLine(pid, quantity)),
                                      updated_at=max((t for t in (record.updated_at, updated) if t), default=None))
            continue
        found[claim_id] = ReturnRecord(
            claim_id=claim_id, claim_type=kind, status=claim.opt_text("claimStatus") or po.text("claimStatus"),
            order_no=root.obj("order").ident("orderId"), lines=(ReturnLine(pid, quantity),),
            reason_code=claim.opt_text(f"{kind}Reason"), reason_text=claim.opt_text(f"{kind}DetailedReason").strip(),
            courier_code=from_channel(company, ChannelKind.NAVER) or company,
            tracking_number=normalize(claim.opt_text("collectTrackingNumber")),
            requested_at=requested, updated_at=updated)
    return list(found.values())


def sales_codes(rule: str, product_no: str, option_code: str, seller_code: str) -> tuple[str, str]:
    """(product code, option code) of a sales product under the account's rule: "product_option" (default:
    the channel product number and the option combination id, as Naver's orders carry them) or
    "seller_code" (the seller's own management code, when set; else the default). Orders and catalogue
    sync use this one function, so both name a product the same way."""
    if rule == "seller_code" and seller_code:
        return seller_code, ""
    return product_no, option_code


def _line(root: _Node, code_rule: str = "product_option") -> LineRecord | None:
    po = root.obj("productOrder")
    pid = po.ident("productOrderId")
    pos = po.text("productOrderStatus")
    place = po.opt_text("placeOrderStatus")
    claim = _claim_status(root, po)
    quantity = po.integer("quantity")
    remain = po.opt_integer("remainQuantity")
    status = line_status(pos, place, claim, remain)
    if status is None:
        return None
    product_code = po.opt_ident("productId") or po.opt_ident("originalProductId")
    if not product_code:
        raise _bad(f"{po.path}.productId", "a product number", None)
    delivery = root.opt_obj("delivery")
    tracking = delivery.opt_text("trackingNumber") if delivery else ""
    courier = delivery.opt_text("deliveryCompany") if delivery and tracking else ""
    option_code = po.opt_ident("optionCode") or po.opt_ident("itemNo") or po.opt_text("optionManageCode")
    product_code, option_code = sales_codes(
        code_rule, product_code, option_code, po.opt_text("optionManageCode") or po.opt_text("sellerProductCode"))
    return LineRecord(
        product_order_id=pid,
        product_code=product_code,
        option_code=option_code,
        product_name=po.opt_text("productName"),
        option_name=po.opt_text("productOption"),
        quantity=remain if remain is not None and remain > 0 else quantity,
        status=status,
        channel_status=pos,
        claim_status=claim,
        courier_code=courier,
        tracking_number=tracking,
    )
