"""Coupang Wing Open API (쿠팡 윙), per ``docs/marketplaces/coupang.md``
(the B.1-B.7 cited below are its sections).

Two layers, as for Naver:
- ``CoupangClient`` speaks the wire: the CEA HMAC signature (B.2), one method per endpoint (order sheets B.3,
  acknowledgement B.4, invoice upload B.5), each reply checked against the contract before anything is taken
  from it.
- ``CoupangChannel`` is the ``Channel``: collection by day, 발주확인 and 송장업로드 with a result per product
  order, the status read the outbox reconciles with, and the connection test.

What Coupang does that the contract tables alone do not say (issue #22, seen against a Wing server written from
Coupang's docs):
- A box whose every item was cancelled (or returned) leaves the order-sheet lists, and its single lookup answers
  400 "해당 주문이 취소 또는 반품되었습니다.": that reply is a cancellation, not "no such box". Cancels are also
  read from the 반품/취소 요청 목록 (``follow_up``) so a collection notices them.
- A box still ACCEPT refuses an invoice (``INVALID_STATUS``): ``dispatch`` acknowledges it first (발주확인), says
  so in the log and in the item's result (``acknowledged``).
- A box split in WING (``splitShipping`` on the sheet) takes the rest only as a split shipment: the DTOs carry
  ``splitShipping`` and ``preSplitShipped`` true, for the items without an ``invoiceNumberUploadDate``.
- An unknown courier code fails the whole invoice request with HTTP 500, nothing applied: after such a 500 the
  boxes are read back and, if none was applied, sent one by one, so the bad one is named
  (``coupang_courier_rejected``) and the others go.
- ``etcInfoValues`` (engraving text and other per-item inputs) come with the line (``instructions``).

Ids. Coupang ships by *shipment box* (배송번호); a box holds order items (one per ``vendorItemId``) and an
order (``orderId``) may span several boxes. A PackDesk product order is one item of one box:
``f"{shipmentBoxId}-{vendorItemId}"``. Box ids exceed 2**53 and are kept as exact integers (Python's json
keeps them; they are never floats here).

Signing (B.2). Every request carries ``CEA algorithm=HmacSHA256, access-key, signed-date, signature`` where
the signature covers signed-date (UTC, ``yyMMdd'T'HHmmss'Z'``) + method + path + query, the query byte for
byte as sent: we encode it ourselves (``urlencode``) and put it in the URL, which httpx sends as is. The
secret key is used only for the HMAC: it never reaches a log line, an error or a repr.

Limits (B.7). Coupang blocks vendors over ~10 calls/s (429, then minutes of blocking) and shows an HTML
"Access Denied" page (403) after bursts of failed calls. Every call of a vendor takes a token from one
bucket at 5/s (burst 5), and both answers are treated as "refused at the gate": nothing was applied, stop,
try again later (``ChannelRateLimited``).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import random
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any, cast
from urllib.parse import quote, urlencode, urlsplit

import httpx

from packdesk.channels.base import (
    ChannelAuthError,
    ChannelError,
    ChannelRateLimited,
    ChannelRejected,
    ChannelTransientError,
    DispatchItem,
    ItemResult,
    LineRecord,
    OrderRecord,
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
from packdesk.channels.markets.coupang import DEFAULT_BASE_URL
from packdesk.channels.replies import JsonNode, bad_field
from packdesk.core.couriers import UnknownCourier, from_channel, to_channel
from packdesk.core.enums import ChannelKind, LineStatus
from packdesk.core.errors import Words
from packdesk.core.kst import KST
from packdesk.core.phones import domestic

log = logging.getLogger("packdesk.channels.coupang")

API_ROOT = "/v2/providers/openapi/apis/api/v4/vendors"

RATE, BURST = 5.0, 5.0            # calls/s per vendor; Coupang blocks at ~10/s (B.7)
PAGE_SIZE = 50                    # maxPerPage, the API's default and our choice (B.3)
MAX_DAYS_PER_CALL = 7             # days one list call covers [?]: the spec names no limit; longer ranges are split
MAX_BOXES_PER_CALL = 50           # acknowledgement: ≤ 50 ids (B.4); invoices: no limit in the spec, same cap
MAX_PAGES = 10_000                # a cursor that never ends is a broken reply, not a busy shop
CACHE_SECONDS = 120.0             # a sheet read by ``lookup`` serves a following ``dispatch(checked=True)``
COLLECT_STATUSES = ("ACCEPT", "INSTRUCT", "DEPARTURE")
ACCESS_DENIED = "ACCESS_DENIED"   # our api_code for the gateway's HTML 403 page

_STATUS = {"ACCEPT": LineStatus.NEW, "INSTRUCT": LineStatus.CONFIRMED, "DEPARTURE": LineStatus.SHIPPED,
           "DELIVERING": LineStatus.SHIPPED, "FINAL_DELIVERY": LineStatus.SHIPPED,
           "NONE_TRACKING": LineStatus.SHIPPED}
ACKNOWLEDGED = frozenset(s for s, ours in _STATUS.items() if ours is not LineStatus.NEW)  # past 발주확인

# B.5 result codes and whether sending again later can help
NO_RETRY_CODES = frozenset({
    "NOT_FOUND_SHIPMENT_BOX", "INVALID_STATUS", "ORDER_DELIVERY_CANCELED", "NOT_ALLOW_INVOICE_NUMBER_RE_UPLOAD",
    "NOT_FOUND_INVOICE_NUMBER", "NOT_FOUND_VENDOR_ITEM", "NOT_ALLOW_VENDOR_DIRECT", "PSD_NOT_ALLOW_TO_CHANGE",
    "NOT_ALLOW_SEPARATE_AFTER_NORMAL_DELIVERY", "IS_SEPARATE_MUST_BE_TRUE_WHEN_SEPARATE_DELIVERY",
    "NOT_ALLOW_SEPARATE_WHEN_ONE_VENDOR_ITEM"})
RETRY_CODES = frozenset({
    "PERMISSION_DENIED", "DUPLICATE_INVOICE_NUMBER", "INVALID_INVOICE_NUMBER",
    "ORDER_DELIVERY_PARTIAL_STOP_REQUESTED", "ORDER_DELIVERY_CANCELED_HOLDING_FOR_CANCEL", "UNDEFINED_ERROR_OCCUR"})
# failures that may only mean "already done" (a re-upload, a box no longer INSTRUCT): the box is read to see
_MAYBE_DONE = frozenset({"NOT_ALLOW_INVOICE_NUMBER_RE_UPLOAD", "INVALID_STATUS"})

# our codes for per-item results that did not come from the API (the UI renders them like error codes)
ITEM_BAD_ID = "coupang_bad_id"
ITEM_BOX_INCOMPLETE = "coupang_box_incomplete"
ITEM_MIXED_TRACKING = "coupang_box_mixed_tracking"
ITEM_COURIER_UNKNOWN = "courier_unknown"
ITEM_MISSING_COURIER = "dispatch_missing_courier"
ITEM_MISSING_TRACKING = "dispatch_missing_tracking"
ITEM_NOT_IN_REPLY = "channel_no_result"
ITEM_OTHER_TRACKING = "dispatched_other_tracking"
ITEM_COURIER_REJECTED = "coupang_courier_rejected"  # the box alone was answered 500 with nothing applied
NOT_FOUND_BOX = "NOT_FOUND_SHIPMENT_BOX"
NOT_FOUND_ITEM = "NOT_FOUND_VENDOR_ITEM"
ITEM_CANCELED = "ORDER_DELIVERY_CANCELED"
CANCELLED_WORDS = "취소된 주문입니다 / the order was cancelled"

# the single-sheet lookup's 400 for a box whose every item was cancelled or returned (B.3 Error Spec):
# "해당 주문이 취소 또는 반품되었습니다." — matched on its words, any other 400 still means "no such box"
CANCELLED_REPLY_MARKERS = ("취소 또는 반품", "canceled or returned", "cancelled or returned")
CANCELLED_STATUS = "CANCELED"      # channel_status of the lines of such a box (the item flag's word)
RELEASE_STOP = "RELEASE_STOP_UNCHECKED"  # a 출고중지요청 waits: claim_status of a line held for it
MAX_FOLLOW_UP_BOXES = 200          # single reads one collection spends on boxes missing from the lists
# B.8 returns: the searches that list receipts of parcels coming back (UC 반품접수, PR 쿠팡확인요청, CC 반품완료), how
# far back each collection looks (the search goes by createdAt; a receipt moves on for days after), and the
# releaseStopStatus of a receipt whose box never left (a cancel, B.3: nothing comes back)
RETURN_SEARCHES = ("UC", "PR", "CC")
RETURN_LOOKBACK = timedelta(days=13)  # with the day of ``until``: 14 KST days, two list calls per search
NOT_SHIPPED_STOPS = frozenset({"미처리", "처리(출고중지)"})

# our words in an auth error, in each language (a "한국어 / English" text in the message would be shown whole):
# in place of an API message when no call was made, or after the API's own message
MISSING_KEY = Words("— 업체 코드, 액세스 키, 시크릿 키를 모두 입력하세요",
                    "— enter the vendor id, access key and secret key")
CLOCK_HINT = Words(" — PC 시계가 맞지 않을 수 있습니다, 시간 동기화를 확인하세요",
                   " — the PC clock may be wrong, check time sync")


# --- small pure helpers ------------------------------------------------------------------------------------
def product_order_id(shipment_box_id: int, vendor_item_id: int) -> str:
    return f"{shipment_box_id}-{vendor_item_id}"


def split_product_order_id(pid: str) -> tuple[int, int] | None:
    """``"642538970006401429-70000000101"`` -> (box, vendor item); None if it is not a Coupang id."""
    box, sep, item = pid.strip().partition("-")
    if not sep or not box.isdigit() or not item.isdigit() or not box.isascii() or not item.isascii():
        return None
    return int(box), int(item)


def signed_date(epoch: float) -> str:
    """B.2: UTC, ``yyMMdd'T'HHmmss'Z'`` (from epoch seconds: never the PC's local time or zone)."""
    return datetime.fromtimestamp(epoch, UTC).strftime("%y%m%dT%H%M%SZ")


def signature(secret_key: str, date_text: str, method: str, path: str, query: str) -> str:
    """Lowercase hex HMAC-SHA256 over signed-date + method + path + query (query without ``?``)."""
    message = f"{date_text}{method}{path}{query}".encode()
    return hmac.new(secret_key.encode(), message, hashlib.sha256).hexdigest()


def day_windows(since: datetime, until: datetime, max_days: int = MAX_DAYS_PER_CALL) -> Iterator[tuple[date, date]]:
    """The KST days covering ``[since, until)``, as inclusive (first, last) ranges of at most ``max_days``."""
    if since.tzinfo is None or until.tzinfo is None:
        raise ValueError("collection windows need timezone-aware datetimes")
    if until <= since:
        return
    first = since.astimezone(KST).date()
    last = (until - timedelta(microseconds=1)).astimezone(KST).date()
    while first <= last:
        end = min(first + timedelta(days=max_days - 1), last)
        yield first, end
        first = end + timedelta(days=1)


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def _retryable(code: str, retry_required: bool) -> bool:
    """B.5's two lists decide; a code in neither goes by the reply's ``retryRequired``."""
    if code in RETRY_CODES:
        return True
    if code in NO_RETRY_CODES:
        return False
    return retry_required


def _norm_number(number: str) -> str:
    return "".join(ch for ch in number if ch not in " -").upper()


# --- reading replies ----------------------------------------------------------------------------------------
class _Node(JsonNode):
    """Coupang's replies: ids are integers, exact however big (a shipment box id can exceed 2**53)."""

    def ident(self, key: str) -> int:
        """An id: a JSON integer (exact, however big) or a string of digits. Never a float."""
        value = self.value.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            return value
        if isinstance(value, str) and value.isascii() and value.isdigit():
            return int(value)
        raise _bad(self._at(key), "an integer id", value)

    def opt_integer(self, key: str, default: int = 0) -> int:
        return self.integer(key) if self.has(key) else default


_bad = bad_field


def _envelope(body: Any, what: str) -> _Node:
    """``{code: 200, message, data, …}``; ``code`` is a Number in the spec and a string in samples (B.5)."""
    root = _Node(body, what)
    code = root.value.get("code")
    if isinstance(code, bool) or code not in (200, "200"):
        message = root.value.get("message")
        raise ChannelBadReply(reason="bad_code", field=f"{what}.code",
                              detail=f"{what}.code: expected 200, got {code!r} (message {str(message)[:80]!r})")
    return root


def read_coupang_problem(response: httpx.Response) -> ApiProblem:
    """Error bodies are ``{"code": "ERROR", "message": …}`` (B.2). A 403 that is not JSON is the gateway's
    "Access Denied" page after a burst of failed calls (B.7): a block, not a refusal of the keys."""
    try:
        body = response.json()
    except (ValueError, RecursionError):  # RecursionError: JSON nested deeper than Python parses
        body = None
    if not isinstance(body, dict):
        if response.status_code == 403:
            return ApiProblem(code=ACCESS_DENIED, retryable=False)
        return ApiProblem()
    code, message = body.get("code"), body.get("message")
    return ApiProblem(code=str(code) if isinstance(code, str | int) and not isinstance(code, bool) else "",
                      message=message if isinstance(message, str) else "")


# --- records of the wire ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class BoxResult:
    """One ``responseList`` entry of an acknowledgement or an invoice upload."""

    shipment_box_id: int
    succeed: bool
    code: str
    message: str
    retry_required: bool


@dataclass(frozen=True)
class SheetItem:
    vendor_item_id: int
    shippable: bool          # not cancelled: an invoice upload must name it (B.5, one DTO per item)
    line: LineRecord
    uploaded: bool = False   # has an invoiceNumberUploadDate: shipped (what tells the items of a split box apart)


@dataclass(frozen=True)
class Sheet:
    """One order sheet (발주서 = one shipment box) read against the contract."""

    shipment_box_id: int
    order_id: int
    status: str
    invoice_number: str
    courier_name: str        # deliveryCompanyName as Coupang shows it
    courier_code: str        # ours, "" when the name is unknown
    items: tuple[SheetItem, ...]
    order: OrderRecord       # the order's header with this box's lines
    split: bool = False      # splitShipping: the box was split (in WING): the rest goes as a split shipment
    cancelled: bool = False  # the lookup said "해당 주문이 취소 또는 반품되었습니다.": no sheet, every item cancelled

    @classmethod
    def gone(cls, shipment_box_id: int) -> Sheet:
        """A box Coupang answers only "cancelled or returned" for: nothing of it is known but that."""
        return cls(shipment_box_id, 0, CANCELLED_STATUS, "", "", "", (),
                   OrderRecord("", "", "", "", "", "", "", None, None), cancelled=True)

    def item(self, vendor_item_id: int) -> SheetItem | None:
        return next((it for it in self.items if it.vendor_item_id == vendor_item_id), None)

    def shows(self, courier_code: str, tracking_number: str) -> bool:
        """Coupang already has this tracking number on the box (with this courier, or one we cannot name)."""
        return bool(self.invoice_number) and _norm_number(self.invoice_number) == _norm_number(tracking_number) \
            and self.courier_code in ("", courier_code)

    def pending(self) -> list[SheetItem]:
        """Items still to ship: not cancelled and, in a split box, without an invoice yet."""
        return [it for it in self.items if it.shippable and not (self.split and it.uploaded)]

    def line_for(self, pid: str, vendor_item_id: int) -> LineRecord | None:
        """This product order as Coupang shows it now (a cancelled box: cancelled, whatever it was)."""
        if self.cancelled:
            return cancelled_line(pid, vendor_item_id)
        item = self.item(vendor_item_id)
        return item.line if item else None


def cancelled_line(pid: str, vendor_item_id: int) -> LineRecord:
    """The line of a box Coupang answers "cancelled or returned" for (no sheet: names and counts unknown)."""
    return LineRecord(product_order_id=pid, product_code="", option_code=str(vendor_item_id), product_name="",
                      option_name="", quantity=0, status=LineStatus.CANCELLED, channel_status=CANCELLED_STATUS,
                      claim_status="CANCEL")


def says_cancelled(message: object) -> bool:
    """Coupang's 400 words for a box that was cancelled or returned (B.3 single sheet, Error Spec)."""
    text = str(message or "").lower()
    return any(marker in text for marker in CANCELLED_REPLY_MARKERS)


def instructions(node: JsonNode) -> str:
    """An item's ``etcInfoValues`` (B.3: what the buyer typed for it — engraving text, …) with ``etcInfoValue``,
    one per line, in order, each once."""
    values: list[str] = []
    raw = node.value.get("etcInfoValues")
    if raw is not None and not (isinstance(raw, list) and all(isinstance(v, str | None) for v in raw)):
        raise _bad(f"{node.path}.etcInfoValues", "a list of strings", raw)
    for text in [*(raw or []), node.opt_text("etcInfoValue")]:
        text = (text or "").strip()
        if text and text not in values:
            values.append(text)
    return "\n".join(values)


def line_status(sheet_status: str, *, canceled: bool, shipping_count: int, cancel_count: int,
                hold_count: int) -> tuple[LineStatus, str]:
    """(our status, claim status) of one order item. First match wins:

    ==============================================  ==================  =================
    Coupang                                         ours                claim_status
    ==============================================  ==================  =================
    ``canceled`` or shippingCount 0, cancelCount>0  CANCELLED           CANCEL
    holdCountForCancel > 0                          CANCEL_REQUESTED    HOLD_FOR_CANCEL
    ACCEPT                                          NEW
    INSTRUCT                                        CONFIRMED
    DEPARTURE, DELIVERING, FINAL_DELIVERY,          SHIPPED
    NONE_TRACKING
    anything else                                   ChannelBadReply     (not guessed packable)
    ==============================================  ==================  =================

    A partly cancelled item (cancelCount > 0, some still to ship) keeps its status, with claim PARTIAL_CANCEL.
    """
    ours = _STATUS.get(sheet_status)
    if ours is None:
        raise ChannelBadReply(reason="unknown_status", value=sheet_status,
                              detail=f"unknown order sheet status {sheet_status!r}")
    if canceled or (shipping_count == 0 and cancel_count > 0):
        return LineStatus.CANCELLED, "CANCEL"
    if hold_count > 0:
        return LineStatus.CANCEL_REQUESTED, "HOLD_FOR_CANCEL"
    return ours, "PARTIAL_CANCEL" if cancel_count > 0 else ""


def parse_sheet(raw: Any, path: str, courier_overrides: Mapping[str, str] | None = None) -> Sheet:
    """An order sheet (B.3) as a ``Sheet``; ``ChannelBadReply`` when it breaks the contract."""
    node = _Node(raw, path)
    box, order_id, status = node.ident("shipmentBoxId"), node.ident("orderId"), node.text("status")
    invoice = node.value.get("invoiceNumber")
    invoice = str(invoice) if isinstance(invoice, int) and not isinstance(invoice, bool) else \
        node.opt_text("invoiceNumber")
    invoice = invoice.strip()
    courier_name = node.opt_text("deliveryCompanyName").strip()
    courier = from_channel(courier_name, ChannelKind.COUPANG, courier_overrides) if invoice else ""
    split = node.opt_bool("splitShipping")
    items = []
    for i, raw_item in enumerate(node.array("orderItems")):
        it = _Node(raw_item, f"{path}.orderItems[{i}]")
        vid = it.ident("vendorItemId")
        shipping, cancel = it.integer("shippingCount"), it.opt_integer("cancelCount")
        hold, canceled = it.opt_integer("holdCountForCancel"), it.opt_bool("canceled")
        uploaded = bool(it.opt_text("invoiceNumberUploadDate").strip())
        # a split box (B.5) is shipped item by item: one without an invoice yet is still to pack, whatever the
        # box's status; the sheet names one invoice for the box, so no item of it is given that number
        item_status = "INSTRUCT" if split and not uploaded and status in ACKNOWLEDGED else status
        ours, claim = line_status(item_status, canceled=canceled, shipping_count=shipping, cancel_count=cancel,
                                  hold_count=hold)
        items.append(SheetItem(vid, ours is not LineStatus.CANCELLED and shipping > 0, LineRecord(
            product_order_id=product_order_id(box, vid),
            product_code=str(it.ident("sellerProductId")),
            option_code=str(vid),
            product_name=it.opt_text("sellerProductName"),
            option_name=it.opt_text("sellerProductItemName"),
            quantity=shipping if shipping > 0 or cancel <= 0 else cancel,
            status=ours,
            channel_status=status,
            claim_status=claim,
            courier_code="" if split else courier,
            tracking_number="" if split else invoice,
            instructions=instructions(it),
        ), uploaded))
    orderer, receiver = node.opt_obj("orderer"), node.opt_obj("receiver")
    address = " ".join(p for p in (receiver.opt_text("addr1").strip(), receiver.opt_text("addr2").strip()) if p) \
        if receiver else ""
    order = OrderRecord(
        order_no=str(order_id),
        buyer_name=orderer.opt_text("name") if orderer else "",
        recipient_name=receiver.opt_text("name") if receiver else "",
        recipient_phone=domestic(receiver.opt_text("safeNumber")) if receiver else "",
        zip_code=receiver.opt_text("postCode") if receiver else "",
        address=address,
        delivery_message=node.opt_text("parcelPrintMessage"),
        ordered_at=node.opt_datetime("orderedAt"),
        paid_at=node.opt_datetime("paidAt"),
        lines=tuple(it.line for it in items),
    )
    return Sheet(box, order_id, status, invoice, courier_name, courier, tuple(items), order, split=split)


def orders_from_sheets(sheets: Iterable[Sheet]) -> list[OrderRecord]:
    """One ``OrderRecord`` per ``orderId`` in first-seen order, its boxes' lines merged (sorted by box, item);
    the header (buyer, recipient, dates) is the first box's."""
    grouped: dict[int, list[Sheet]] = {}
    for sheet in sheets:
        if not sheet.cancelled:  # nothing of it is known to store
            grouped.setdefault(sheet.order_id, []).append(sheet)
    records = []
    for boxes in grouped.values():
        items = sorted(((s.shipment_box_id, it.vendor_item_id, it.line) for s in boxes for it in s.items),
                       key=lambda t: (t[0], t[1]))
        head = boxes[0].order
        records.append(OrderRecord(head.order_no, head.buyer_name, head.recipient_name, head.recipient_phone,
                                   head.zip_code, head.address, head.delivery_message, head.ordered_at,
                                   head.paid_at, tuple(line for _, _, line in items)))
    return records


def _box_results(root: _Node, what: str) -> dict[int, BoxResult]:
    """``data{responseCode, responseMessage, responseList[…]}`` of B.4/B.5, checked for consistency: a reply
    that says "all ok" with a failed box (or "all failed" with a success) is not trusted."""
    data = _Node(root.value.get("data"), f"{what}.data")
    raw_code: Any = data.value.get("responseCode")  # JSON: int() refuses what is no number
    try:
        response_code = int(raw_code) if not isinstance(raw_code, bool | float) else None
    except (TypeError, ValueError):
        response_code = None
    if response_code not in (0, 1, 99, -1):
        raise _bad(f"{what}.data.responseCode", "0, 1, 99 or -1", raw_code)
    entries = [] if response_code == -1 and not data.has("responseList") else data.array("responseList")
    results: dict[int, BoxResult] = {}
    for i, raw in enumerate(entries):
        node = _Node(raw, f"{what}.data.responseList[{i}]")
        if not isinstance(node.value.get("succeed"), bool):
            raise _bad(f"{node.path}.succeed", "true or false", node.value.get("succeed"))
        box = node.ident("shipmentBoxId")
        results[box] = BoxResult(box, node.value["succeed"], node.opt_text("resultCode"),
                                 node.opt_text("resultMessage"), node.opt_bool("retryRequired"))
    oks = [r.succeed for r in results.values()]
    if (response_code == 0 and not all(oks)) or (response_code == 99 and any(oks)):
        raise ChannelBadReply(reason="inconsistent", field=f"{what}.data.responseCode",
                              detail=f"{what}: responseCode {response_code} but per-box succeed {oks}")
    return results


# --- the wire -----------------------------------------------------------------------------------------------
class BoxCancelled(ChannelRejected):
    """The single-sheet lookup said "해당 주문이 취소 또는 반품되었습니다.": every item of the box is cancelled."""

    code = "coupang_box_cancelled"


class CoupangClient:
    """The Wing Open API as called with one vendor's key."""

    def __init__(
        self,
        vendor_id: str,
        access_key: str,
        secret_key: str,
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
        self.vendor_id = vendor_id.strip()
        self.access_key = access_key.strip()
        self.__secret = secret_key.strip()
        self.clock, self.wall = clock, wall
        self._prefix = urlsplit(base_url.rstrip("/")).path  # signed too: it is part of the path sent
        host = httpx.URL(base_url).host
        self._http = HttpClient(base_url, timeout=timeout, retry=retry, rate=RATE, burst=BURST, limiters=limiters,
                                limit_key=f"{host}#{self.vendor_id}", problem_reader=read_coupang_problem,
                                headers={"Accept": "application/json"}, sleep=sleep, clock=clock, wall=wall,
                                rng=rng, transport=transport)
        self.vendor_path = f"{API_ROOT}/{quote(self.vendor_id, safe='')}"

    def __repr__(self) -> str:
        return f"CoupangClient(vendor_id={self.vendor_id!r}, base_url={self._http.base_url!r})"

    def close(self) -> None:
        self._http.close()

    def authorization(self, method: str, path: str, query: str) -> str:
        """The B.2 header for ``path`` and ``query`` exactly as they go on the wire."""
        when = signed_date(self.wall())
        sig = signature(self.__secret, when, method, path, query)
        return f"CEA algorithm=HmacSHA256, access-key={self.access_key}, signed-date={when}, signature={sig}"

    def call(self, method: str, path: str, *, params: Sequence[tuple[str, str]] | Mapping[str, str] | None = None,
             json: Any = None, idempotent: bool | None = None, what: str = "reply") -> _Node:
        """A signed call; its envelope (``code`` 200 checked). ``path`` starts with ``/``; ``params`` are
        encoded here, once, and that exact text is both signed and sent."""
        if not self.vendor_id or not self.access_key or not self.__secret:
            raise ChannelAuthError(reason="missing_key", message=MISSING_KEY)
        method = method.upper()
        pairs = list(params.items()) if isinstance(params, Mapping) else list(params or ())
        query = urlencode(pairs)
        target = path + (f"?{query}" if query else "")
        auth = self.authorization(method, self._prefix + path, query)
        headers = {"Authorization": auth, "Content-Type": "application/json;charset=UTF-8",
                   "X-Requested-By": self.vendor_id}
        redact = (self.__secret, auth.rpartition("signature=")[2])
        try:
            response = self._http.request(method, target, json=json, headers=headers, idempotent=idempotent,
                                          redact=redact)
        except ChannelAuthError as exc:
            raise self._auth_problem(exc) from None
        return _envelope(json_body(response, redact), what)

    def _auth_problem(self, exc: ChannelAuthError) -> ChannelError:
        status, code = exc.params.get("status"), exc.params.get("api_code")
        message = str(exc.params.get("message") or "")
        if status == 403 and code == ACCESS_DENIED:  # B.7: the gateway's block after failed calls, not the keys
            self._http.bucket.drain(self.clock())
            return ChannelRateLimited(reason="access_denied", status=403, detail=exc.detail)
        if status == 401 and "expired" in message.lower():
            return ChannelAuthError(reason="clock", status=401, api_code=code or "",
                                    message=message, hint=CLOCK_HINT, detail=exc.detail)
        return exc

    # endpoints ---------------------------------------------------------------------------------------------
    def list_page(self, day_from: date, day_to: date, status: str, next_token: str = "",
                  per_page: int = PAGE_SIZE) -> tuple[list[Any], str]:
        """One page of the order sheets created on the KST days ``day_from..day_to`` (inclusive) now in
        ``status`` (B.3): (raw sheets, the next page's token or "" after the last)."""
        params = [("createdAtFrom", day_from.isoformat()), ("createdAtTo", day_to.isoformat()),
                  ("maxPerPage", str(per_page)), ("status", status)]
        if next_token:
            params.append(("nextToken", next_token))
        what = f"ordersheets[{day_from}..{day_to} {status}]"
        root = self.call("GET", f"{self.vendor_path}/ordersheets", params=params, what=what)
        return root.array("data"), root.opt_text("nextToken")

    def sheet(self, shipment_box_id: int) -> dict[str, Any] | None:
        """One order sheet (B.3 single), or None when Coupang has no such box (answered 400/404 or no data).
        Raises ``BoxCancelled`` for the 400 that says the box was cancelled or returned."""
        what = f"ordersheet[{shipment_box_id}]"
        try:
            root = self.call("GET", f"{self.vendor_path}/ordersheets/{int(shipment_box_id)}", what=what)
        except ChannelRejected as exc:
            if exc.params.get("status") == 400 and says_cancelled(exc.params.get("message")):
                raise BoxCancelled(detail=exc.detail, message=str(exc.params.get("message", ""))) from None
            if exc.params.get("status") in (400, 404):
                return None
            raise
        data = root.value.get("data")
        if isinstance(data, list):  # tolerated: a one-element list
            if not data:
                return None
            if len(data) != 1:
                raise _bad(f"{what}.data", "one order sheet", data)
            data = data[0]
        if data is None:
            return None
        node = _Node(data, f"{what}.data")
        if node.ident("shipmentBoxId") != shipment_box_id:
            raise _bad(f"{what}.data.shipmentBoxId", f"{shipment_box_id}", node.value.get("shipmentBoxId"))
        return node.value

    def return_requests(self, day_from: date, day_to: date, *, cancel_type: str = "", status: str = "",
                        next_token: str = "", per_page: int = PAGE_SIZE) -> tuple[list[Any], str]:
        """One page of the 반품/취소 요청 목록 created on the KST days ``day_from..day_to``: ``cancel_type="CANCEL"``
        (결제완료 cancels, searched without a status) or a ``status`` (``RU`` 출고중지요청, ``UC``, ``CC``, ``PR``)."""
        params = [("createdAtFrom", day_from.isoformat()), ("createdAtTo", day_to.isoformat()),
                  ("maxPerPage", str(per_page))]
        params += [("cancelType", cancel_type)] if cancel_type else [("status", status)]
        if next_token:
            params.append(("nextToken", next_token))
        what = f"returnRequests[{day_from}..{day_to} {cancel_type or status}]"
        root = self.call("GET", f"{self.vendor_path}/returnRequests", params=params, what=what)
        return root.array("data"), root.opt_text("nextToken")

    def acknowledge(self, shipment_box_ids: Sequence[int]) -> dict[int, BoxResult]:
        """발주확인 of at most 50 boxes (B.4). Not repeated blind after a timeout: the caller reads the sheets."""
        if len(shipment_box_ids) > MAX_BOXES_PER_CALL:
            raise ValueError(f"at most {MAX_BOXES_PER_CALL} boxes per acknowledgement")
        body = {"vendorId": self.vendor_id, "shipmentBoxIds": [int(b) for b in shipment_box_ids]}
        root = self.call("PATCH", f"{self.vendor_path}/ordersheets/acknowledgement", json=body, idempotent=False,
                         what="acknowledgement")
        return _box_results(root, "acknowledgement")

    def upload_invoices(self, dtos: Sequence[Mapping[str, Any]]) -> dict[int, BoxResult]:
        """송장업로드 (B.5): one DTO per vendorItemId; the result per box."""
        body = {"vendorId": self.vendor_id, "orderSheetInvoiceApplyDtos": [dict(d) for d in dtos]}
        root = self.call("POST", f"{self.vendor_path}/orders/invoices", json=body, idempotent=False,
                         what="invoices")
        return _box_results(root, "invoices")


# --- the channel --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Want:
    """One dispatch item, checked and translated."""

    pid: str
    vendor_item_id: int
    courier: str         # ours
    theirs: str          # Coupang's deliveryCompanyCode
    tracking: str


def _fail(pid: str, code: str, message: str = "", *, retryable: bool = False, cancelled: bool = False
          ) -> ItemResult:
    return ItemResult(pid, False, code=code, message=message, retryable=retryable, cancelled=cancelled)


def _error_result(pid: str, error: ChannelError, *, retryable: bool) -> ItemResult:
    message = error.params.get("message", "")
    return ItemResult(pid, False, code=error.code, message=message if isinstance(message, str) else "",
                      retryable=retryable)


def _box_result(pid: str, r: BoxResult) -> ItemResult:
    if r.succeed:
        return ItemResult(pid, True)
    return ItemResult(pid, False, code=r.code or "channel_rejected", message=r.message,
                      retryable=_retryable(r.code, r.retry_required), cancelled=r.code == ITEM_CANCELED)


def _server_error(exc: ChannelError) -> bool:
    """HTTP 500 itself (not 502/503/504, not a timeout): Coupang's answer to a request it failed inside, which
    for invoices is what an unknown courier code gets, nothing applied (issue #22)."""
    return isinstance(exc, ChannelTransientError) and exc.params.get("status") == 500


class CoupangChannel:
    """A Coupang Wing vendor as an order source: collect, 발주확인, 송장업로드, status lookup, connection test."""

    kind = ChannelKind.COUPANG

    def __init__(self, vendor_id: str, access_key: str, secret_key: str, *, base_url: str = DEFAULT_BASE_URL,
                 courier_overrides: Mapping[str, str] | None = None, **client_options: Any) -> None:
        """``client_options`` go to ``CoupangClient`` and its ``HttpClient`` (timeout, retry, limiters, sleep,
        clock, wall, rng, transport). ``courier_overrides``: the account's own courier codes (ours -> theirs)."""
        self.client = CoupangClient(vendor_id, access_key, secret_key, base_url=base_url, **client_options)
        self.courier_overrides = dict(courier_overrides or {})
        self._cache_lock = threading.Lock()
        self._cache: dict[int, tuple[float, Sheet]] = {}

    def __repr__(self) -> str:
        return f"CoupangChannel({self.client!r})"

    def close(self) -> None:
        self.client.close()

    def test_connection(self) -> None:
        """One cheap signed call (today's ACCEPT sheets, one per page): proves the vendor id, the keys, the IP
        allow-list and the clock. Raises ``ChannelAuthError`` (refused; ``reason="clock"`` for an expired
        signature), ``ChannelTransientError`` (unreachable), ``ChannelRateLimited`` (blocked), … ."""
        today = datetime.fromtimestamp(self.client.wall(), KST).date()
        self.client.list_page(today, today, "ACCEPT", per_page=1)
        log.info("coupang %s: connection ok", self.client.vendor_id)

    def _parse(self, raw: Any, path: str) -> Sheet:
        return parse_sheet(raw, path, self.courier_overrides)

    # collection ------------------------------------------------------------------------------------------
    def collect(self, since: datetime, until: datetime) -> list[OrderRecord]:
        """Orders whose sheets were created on the KST days covering ``[since, until)`` and are now ACCEPT,
        INSTRUCT or DEPARTURE, every page; days are split into ranges one list call takes. A box listed twice
        (it moved on between two calls) counts once, as last read.

        All or nothing: a failed call or a reply that breaks the contract raises, and nothing is returned."""
        sheets: dict[int, Sheet] = {}
        for first, last in day_windows(since, until):
            for status in COLLECT_STATUSES:
                for sheet in self._list(first, last, status):
                    sheets.pop(sheet.shipment_box_id, None)  # re-inserted: the latest read, in read order
                    sheets[sheet.shipment_box_id] = sheet
        records = orders_from_sheets(sheets.values())
        log.info("coupang %s: %d box(es) -> %d order(s), %d line(s)", self.client.vendor_id, len(sheets),
                 len(records), sum(len(r.lines) for r in records))
        return records

    def _list(self, first: date, last: date, status: str) -> Iterator[Sheet]:
        token, seen = "", set()
        for page in range(MAX_PAGES):
            data, token = self.client.list_page(first, last, status, token)
            for i, raw in enumerate(data):
                yield self._parse(raw, f"ordersheets[{first}..{last} {status} #{page}].data[{i}]")
            if not token:
                return
            if token in seen:
                raise ChannelBadReply(reason="pagination_loop",
                                      detail=f"ordersheets {first}..{last} {status}: nextToken {token!r} came back")
            seen.add(token)
        raise ChannelBadReply(reason="pagination_loop", detail=f"more than {MAX_PAGES} pages of {status} sheets")

    # reading current state ---------------------------------------------------------------------------------
    def _read(self, box: int) -> Sheet | None:
        """The box's sheet; ``Sheet.gone`` for a box Coupang says was cancelled or returned; None: no such box."""
        try:
            raw = self.client.sheet(box)
        except BoxCancelled:
            sheet: Sheet | None = Sheet.gone(box)
        else:
            sheet = None if raw is None else self._parse(raw, f"ordersheet[{box}]")
        with self._cache_lock:
            if sheet is None:
                self._cache.pop(box, None)
            else:
                self._cache[box] = (self.client.clock(), sheet)
        return sheet

    def _cached(self, box: int) -> tuple[bool, Sheet | None]:
        with self._cache_lock:
            hit = self._cache.get(box)
        if hit is None or self.client.clock() - hit[0] > CACHE_SECONDS:
            return False, None
        return True, hit[1]

    def _forget(self, boxes: Iterable[int]) -> None:
        with self._cache_lock:
            for box in boxes:
                self._cache.pop(box, None)

    def lookup(self, product_order_ids: Sequence[str]) -> dict[str, LineRecord]:
        """Coupang's current view of these product orders (one sheet read per box), for the outbox's
        read-before-send. An id whose box (or item) Coupang does not have is absent; one whose box Coupang
        answers "cancelled or returned" for is cancelled. Raises on failure."""
        wanted: dict[int, list[tuple[str, int]]] = {}
        for pid in dict.fromkeys(product_order_ids):
            ids = split_product_order_id(pid)
            if ids is not None:
                wanted.setdefault(ids[0], []).append((pid, ids[1]))
        found: dict[str, LineRecord] = {}
        for box, items in wanted.items():
            sheet = self._read(box)
            for pid, vid in items:
                line = sheet.line_for(pid, vid) if sheet else None
                if line is not None:
                    found[pid] = line
        return found

    # cancels the lists do not show -------------------------------------------------------------------------
    def follow_up(self, since: datetime, until: datetime, missing: Sequence[str] = ()) -> dict[str, LineRecord]:
        """What became of product orders the order-sheet lists cannot show: a box whose every item was cancelled
        leaves them. The 반품/취소 요청 목록 of the KST days covering ``[since, until)`` names boxes (결제완료
        cancels, ``cancelType=CANCEL``; 출고중지요청s, ``status=RU``), and ``missing`` adds the boxes of product
        orders the caller holds open that the lists did not show (at most MAX_FOLLOW_UP_BOXES of those). Each
        box is read once: the current line of each of its product orders comes back — cancelled for a box
        Coupang answers "cancelled or returned" for, ``CANCEL_REQUESTED`` (claim ``RELEASE_STOP_UNCHECKED``)
        for a packable item with a 출고중지요청 waiting. All or nothing, like ``collect``."""
        named: dict[int, set[int]] = {}
        stops: set[tuple[int, int]] = set()
        for first, last in day_windows(since, until):
            for items in self._receipts(first, last, cancel_type="CANCEL"):
                for box, vid in items:
                    named.setdefault(box, set()).add(vid)
            for items in self._receipts(first, last, status="RU"):
                for box, vid in items:
                    named.setdefault(box, set()).add(vid)
                    stops.add((box, vid))
        listed, extra = len(named), 0
        for pid in missing:
            ids = split_product_order_id(pid)
            if ids is None:
                continue
            if ids[0] not in named:
                if extra >= MAX_FOLLOW_UP_BOXES:
                    continue
                extra += 1
            named.setdefault(ids[0], set()).add(ids[1])
        found: dict[str, LineRecord] = {}
        for box, vids in named.items():
            sheet = self._read(box)
            if sheet is None:
                continue
            if sheet.cancelled:
                found.update((pid, cancelled_line(pid, vid)) for vid in vids
                             for pid in [product_order_id(box, vid)])
                continue
            for it in sheet.items:
                line = it.line
                if (box, it.vendor_item_id) in stops and line.status.packable:
                    line = replace(line, status=LineStatus.CANCEL_REQUESTED, claim_status=RELEASE_STOP)
                found[line.product_order_id] = line
        gone = sum(1 for ln in found.values() if ln.status is LineStatus.CANCELLED)
        log.info("coupang %s: follow-up of %d box(es) (%d from the cancel lists, %d unlisted): %d cancelled line(s)",
                 self.client.vendor_id, len(named), listed, extra, gone)
        return found

    def _receipts(self, first: date, last: date, *, cancel_type: str = "", status: str = ""
                  ) -> Iterator[list[tuple[int, int]]]:
        """(shipment box, vendor item) of each entry of the 반품/취소 요청 목록, every page."""
        for node in self._receipt_nodes(first, last, cancel_type=cancel_type, status=status):
            items = []
            for j, raw_item in enumerate(node.array("returnItems")):
                it = _Node(raw_item, f"{node.path}.returnItems[{j}]")
                items.append((it.ident("shipmentBoxId"), it.ident("vendorItemId")))
            yield items

    def _receipt_nodes(self, first: date, last: date, *, cancel_type: str = "", status: str = ""
                       ) -> Iterator[_Node]:
        """Each entry of the 반품/취소 요청 목록 of one search, every page."""
        token, seen = "", set()
        what = f"returnRequests[{first}..{last} {cancel_type or status}]"
        for page in range(MAX_PAGES):
            data, token = self.client.return_requests(first, last, cancel_type=cancel_type, status=status,
                                                      next_token=token)
            for i, raw in enumerate(data):
                yield _Node(raw, f"{what} #{page}.data[{i}]")
            if not token:
                return
            if token in seen:
                raise ChannelBadReply(reason="pagination_loop", detail=f"{what}: nextToken {token!r} came back")
            seen.add(token)
        raise ChannelBadReply(reason="pagination_loop", detail=f"more than {MAX_PAGES} pages of {what}")

    # returns (B.8) -------------------------------------------------------------------------------------------
    def returns(self, since: datetime, until: datetime) -> list[ReturnRecord]:
        """The return receipts of parcels that left (B.8): those created on the KST days from RETURN_LOOKBACK
        before ``until`` (or ``since``, if earlier) through ``until``, as each of the UC, PR and CC searches
        lists them now; a receipt listed twice counts once, as last read. Receipts of boxes that never left
        are cancels (``follow_up``), not returns. All or nothing, like ``collect``."""
        found: dict[str, ReturnRecord] = {}
        for first, last in day_windows(min(since, until - RETURN_LOOKBACK), until):
            for status in RETURN_SEARCHES:
                for node in self._receipt_nodes(first, last, status=status):
                    record = self._return_record(node)
                    if record is not None:
                        found.pop(record.claim_id, None)
                        found[record.claim_id] = record
        log.info("coupang %s: %d return receipt(s)", self.client.vendor_id, len(found))
        return list(found.values())

    def _return_record(self, node: _Node) -> ReturnRecord | None:
        if node.opt_text("receiptType") != "RETURN" or node.opt_text("releaseStopStatus") in NOT_SHIPPED_STOPS:
            return None
        lines = []
        for j, raw_item in enumerate(node.array("returnItems")):
            it = _Node(raw_item, f"{node.path}.returnItems[{j}]")
            lines.append(ReturnLine(product_order_id(it.ident("shipmentBoxId"), it.ident("vendorItemId")),
                                    it.opt_integer("cancelCount")))
        courier = number = ""
        dtos = node.value.get("returnDeliveryDtos") or []
        if not isinstance(dtos, list):
            raise _bad(f"{node.path}.returnDeliveryDtos", "a list", dtos)
        for j, raw_dto in enumerate(dtos):  # the last one with a number is the pickup's waybill (B.8)
            dto = _Node(raw_dto, f"{node.path}.returnDeliveryDtos[{j}]")
            code = dto.opt_text("deliveryCompanyCode").strip()
            invoice = _norm_number(dto.opt_text("deliveryInvoiceNo"))
            if invoice or not number:
                courier = from_channel(code, ChannelKind.COUPANG, self.courier_overrides) or code
                number = invoice or number
        reason = " > ".join(r for r in (node.opt_text("cancelReasonCategory1").strip(),
                                        node.opt_text("cancelReasonCategory2").strip()) if r)
        return ReturnRecord(
            claim_id=str(node.ident("receiptId")), claim_type="return", status=node.text("receiptStatus"),
            order_no=str(node.ident("orderId")), lines=tuple(lines), reason_code=reason,
            reason_text=node.opt_text("cancelReason").strip(), courier_code=courier,
            tracking_number=number, requested_at=node.opt_datetime("createdAt"),
            updated_at=node.opt_datetime("modifiedAt"))

    # 발주확인 ------------------------------------------------------------------------------------------------
    def confirm(self, product_order_ids: Iterable[str]) -> WriteResult:
        """발주확인 (B.4) of the boxes of these product orders, ≤ 50 boxes a call; each box's result applies to
        every line of it. Afterwards every box is read again: the sheets come back in ``refreshed`` (the buyer
        may have changed the address until now), and a box already past ACCEPT (acknowledged before, e.g. by
        another station or in WING) counts as done (``already_done``). A timeout or 5xx is settled the same
        way: by what the sheets show. Once Coupang stays down or blocks us, the remaining batches are not tried
        and come back ``retryable``. Raises only ``ChannelAuthError``."""
        ids = list(dict.fromkeys(product_order_ids))
        results: dict[str, ItemResult] = {}
        by_box: dict[int, list[str]] = {}
        for pid in ids:
            parsed = split_product_order_id(pid)
            if parsed is None:
                results[pid] = _fail(pid, ITEM_BAD_ID, f"not a Coupang product order id: {pid!r}")
            else:
                by_box.setdefault(parsed[0], []).append(pid)
        refreshed: dict[int, Sheet] = {}
        stop: ChannelError | None = None
        for batch in _chunks(list(by_box), MAX_BOXES_PER_CALL):
            if stop is not None:
                results.update((pid, _error_result(pid, stop, retryable=True)) for b in batch for pid in by_box[b])
                continue
            reply: dict[int, BoxResult] = {}
            uncertain: ChannelError | None = None
            try:
                reply = self.client.acknowledge(batch)
            except ChannelAuthError:
                raise
            except ChannelRejected as exc:  # the request refused whole: nothing applied
                results.update((pid, _error_result(pid, exc, retryable=False)) for b in batch for pid in by_box[b])
                continue
            except ChannelRateLimited as exc:  # refused at the gate: nothing applied
                stop = exc
                results.update((pid, _error_result(pid, exc, retryable=True)) for b in batch for pid in by_box[b])
                continue
            except (ChannelTransientError, ChannelBadReply) as exc:  # may have been applied (B.4: 504/521)
                log.info("coupang %s: 발주확인 of %d box(es) uncertain (%s); reading them", self.client.vendor_id,
                         len(batch), exc.code)
                uncertain = exc
                stop = exc if isinstance(exc, ChannelTransientError) else None
            sheets = self._read_many(batch)
            refreshed.update((b, s) for b, s in sheets.items() if s is not None)
            for box in batch:
                r, sheet = reply.get(box), sheets.get(box)
                results.update((pid, self._ack_result(pid, r, sheet, uncertain)) for pid in by_box[box])
        done = sum(1 for r in results.values() if r.ok)
        log.info("coupang %s: 발주확인 %d of %d product order(s)", self.client.vendor_id, done, len(ids))
        return WriteResult({pid: results[pid] for pid in ids}, refreshed=orders_from_sheets(refreshed.values()))

    @staticmethod
    def _ack_result(pid: str, r: BoxResult | None, sheet: Sheet | None, uncertain: ChannelError | None) -> ItemResult:
        if r is not None and r.succeed:
            return ItemResult(pid, True)
        if sheet is not None and sheet.status in ACKNOWLEDGED:  # B.4: acknowledging twice is an error
            return ItemResult(pid, True, already_done=True)
        if r is not None:
            return _box_result(pid, r)
        if uncertain is not None:
            return _error_result(pid, uncertain, retryable=True)
        return _fail(pid, ITEM_NOT_IN_REPLY, retryable=True)

    def _read_many(self, boxes: Iterable[int]) -> dict[int, Sheet | None]:
        """Sheets of these boxes (None: Coupang has no such box); boxes after a failed read are left out.
        Raises only ``ChannelAuthError``."""
        out: dict[int, Sheet | None] = {}
        for box in boxes:
            try:
                out[box] = self._read(box)
            except ChannelAuthError:
                raise
            except ChannelError as exc:
                log.warning("coupang %s: could not read box %s back (%s)", self.client.vendor_id, box, exc.code)
                break
        return out

    # 송장업로드 ----------------------------------------------------------------------------------------------
    def dispatch(self, items: Iterable[DispatchItem | tuple[str, str, str, datetime]], *,
                 checked: bool = False) -> WriteResult:
        """송장업로드 (B.5): a tracking number per product order, sent per box (one DTO per item of the box), a
        result for each item in the order given. ``courier_code`` is ours, translated.

        - A box is sent whole or not at all: when another item of it that is still to ship is not in this
          request, its items fail ``coupang_box_incomplete``. A box split in WING (``splitShipping`` on its
          sheet) goes as a split shipment: its items without an invoice, ``splitShipping`` and
          ``preSplitShipped`` true.
        - A box still ACCEPT is acknowledged first (발주확인: Coupang takes no invoice before it); its items come
          back ``acknowledged``. One that cannot be acknowledged fails with the acknowledgement's reason.
        - A cancelled box or item fails ``ORDER_DELIVERY_CANCELED`` with ``cancelled`` set (hold the parcel).
        - Safe to repeat: a box Coupang already shows with this tracking number (an item of a split box with an
          invoice) is reported done (``already_done``) without being sent. Boxes are read first, unless
          ``checked`` and this channel's ``lookup`` has just read them.
        - After a timeout, 5xx or unreadable reply the upload is not sent again blind: the boxes are read and
          only those showing our number are ok; the rest come back ``retryable``. After an HTTP 500 with
          nothing applied, each box is sent alone once: a box that still gets 500 alone is named
          ``coupang_courier_rejected`` (Coupang's answer to a courier code it does not know), the others go.
          A 429 or the gateway's 403 page (nothing applied) stops the run: the rest come back ``retryable``.

        Raises ``ChannelAuthError`` at any point (a re-run is safe, see above), and any ``ChannelError`` of
        reading the boxes first, when nothing has been sent yet."""
        wanted = [DispatchItem(*it) for it in items]
        seen: set[str] = set()
        for it in wanted:
            if it.product_order_id in seen:
                raise ValueError(f"product order {it.product_order_id} given twice")
            seen.add(it.product_order_id)
        results: dict[str, ItemResult] = {}
        by_box: dict[int, list[_Want]] = {}
        for it in wanted:
            want = self._want(it, results)
            if want is not None:
                by_box.setdefault(want[0], []).append(want[1])
        acknowledged: set[int] = set()
        try:
            sheets: dict[int, Sheet | None] = {}
            for box in by_box:
                hit, sheet = self._cached(box) if checked else (False, None)
                sheets[box] = sheet if hit else self._read(box)
            acknowledged = self._acknowledge_first(sheets, by_box, results)
            to_send = []
            for box, wants in by_box.items():
                left = [w for w in wants if w.pid not in results]
                if left and (ready := self._check_box(box, sheets[box], left, results)):
                    to_send.append((cast(Sheet, sheets[box]), ready))
            self._send(to_send, results)
        finally:
            self._forget(by_box)
        out = {}
        for it in wanted:
            r = results[it.product_order_id]
            ids = split_product_order_id(it.product_order_id)
            if r.ok and ids is not None and ids[0] in acknowledged:
                r = replace(r, acknowledged=True)
            out[it.product_order_id] = r
        return WriteResult(out)

    def _acknowledge_first(self, sheets: dict[int, Sheet | None], by_box: Mapping[int, list[_Want]],
                           results: dict[str, ItemResult]) -> set[int]:
        """발주확인 (B.4) of the boxes still ACCEPT: Coupang takes no invoice for them (``INVALID_STATUS``), and a
        box that was packed is a box the seller ships. Each is read again after it (the buyer may have changed
        the address until now: the parcel is already labelled, so that is only logged). A box that stays
        unacknowledged fails with the acknowledgement's reason. Returns the boxes acknowledged here."""
        waiting = [box for box, sheet in sheets.items() if sheet is not None and sheet.status == "ACCEPT"]
        done: set[int] = set()
        for batch in _chunks(waiting, MAX_BOXES_PER_CALL):
            reply: dict[int, BoxResult] = {}
            problem: ChannelError | None = None
            try:
                reply = self.client.acknowledge(batch)
            except ChannelAuthError:
                raise
            except ChannelError as exc:  # a 504/521 may have been applied: the sheets say
                problem = exc
            now = self._read_many(batch)
            for box in batch:
                before, sheet, r = sheets[box], now.get(box), reply.get(box)
                if sheet is not None:
                    sheets[box] = sheet
                if (sheet is not None and sheet.status in ACKNOWLEDGED) or (sheet is None and r and r.succeed):
                    done.add(box)
                    moved = sheet is not None and before is not None and sheet.order.address != before.order.address
                    log.info("coupang %s: box %s was still ACCEPT (결제완료): 발주확인 before its invoice%s",
                             self.client.vendor_id, box, " — the buyer changed the address meanwhile" if moved else "")
                    continue
                for w in by_box[box]:
                    if sheet is not None and sheet.cancelled:
                        results[w.pid] = _fail(w.pid, ITEM_CANCELED, CANCELLED_WORDS, cancelled=True)
                    elif r is not None:
                        results[w.pid] = _box_result(w.pid, r)
                    elif problem is not None:
                        results[w.pid] = _error_result(w.pid, problem,
                                                       retryable=not isinstance(problem, ChannelRejected))
                    else:
                        results[w.pid] = _fail(w.pid, ITEM_NOT_IN_REPLY, retryable=True)
        return done

    def _want(self, it: DispatchItem, results: dict[str, ItemResult]) -> tuple[int, _Want] | None:
        pid = it.product_order_id
        ids = split_product_order_id(pid)
        courier, tracking = it.courier_code.strip(), it.tracking_number.strip()
        if ids is None:
            results[pid] = _fail(pid, ITEM_BAD_ID, f"not a Coupang product order id: {pid!r}")
        elif not courier:
            results[pid] = _fail(pid, ITEM_MISSING_COURIER)
        elif not tracking:
            results[pid] = _fail(pid, ITEM_MISSING_TRACKING)
        else:
            try:
                theirs = to_channel(courier, ChannelKind.COUPANG, self.courier_overrides)
            except UnknownCourier:
                results[pid] = _fail(pid, ITEM_COURIER_UNKNOWN, courier)
                return None
            return ids[0], _Want(pid, ids[1], courier, theirs, tracking)
        return None

    @staticmethod
    def _check_box(box: int, sheet: Sheet | None, wants: list[_Want],
                   results: dict[str, ItemResult]) -> list[_Want]:
        """The items of one box that may be sent now; the others get their result here."""
        def fail_all(batch: Iterable[_Want], code: str, message: str, *, cancelled: bool = False) -> list[_Want]:
            results.update((w.pid, _fail(w.pid, code, message, cancelled=cancelled)) for w in batch)
            return []

        if sheet is None:
            return fail_all(wants, NOT_FOUND_BOX, f"쿠팡에 없는 배송번호입니다 / Coupang has no shipment box {box}")
        if sheet.cancelled:
            return fail_all(wants, ITEM_CANCELED, CANCELLED_WORDS, cancelled=True)
        if len({(w.theirs, w.tracking) for w in wants}) > 1:
            return fail_all(wants, ITEM_MIXED_TRACKING,
                            "한 박스의 상품에 송장이 여러 개입니다 — 분리배송은 윙에서 하세요 / items of one box carry "
                            "different waybills — split shipments are done in WING")
        first = wants[0]
        if not sheet.split:  # a split box names one invoice for all its items: each item is judged alone
            if sheet.shows(first.courier, first.tracking):
                results.update((w.pid, ItemResult(w.pid, True, already_done=True)) for w in wants)
                return []
            if sheet.invoice_number:
                return fail_all(wants, ITEM_OTHER_TRACKING, f"{sheet.courier_code or sheet.courier_name} "
                                                            f"{sheet.invoice_number}".strip())
        ready = []
        for w in wants:
            item = sheet.item(w.vendor_item_id)
            if item is None:
                results[w.pid] = _fail(w.pid, NOT_FOUND_ITEM, f"배송번호 {box}에 없는 상품입니다 / "
                                                              f"box {box} has no item {w.vendor_item_id}")
            elif not item.shippable:
                results[w.pid] = _fail(w.pid, ITEM_CANCELED, "취소된 상품입니다 / the item was cancelled",
                                       cancelled=True)
            elif sheet.split and item.uploaded:  # it has its invoice: ours, sent before (a lost reply)
                results[w.pid] = ItemResult(w.pid, True, already_done=True)
            else:
                ready.append(w)
        asked = {w.vendor_item_id for w in ready}
        missing = [it for it in sheet.pending() if it.vendor_item_id not in asked]
        if ready and missing:
            names = ", ".join(" ".join(p for p in (it.line.product_name, it.line.option_name) if p)
                              or str(it.vendor_item_id) for it in missing[:3])
            return fail_all(ready, ITEM_BOX_INCOMPLETE,
                            f"같은 박스의 다른 상품 {len(missing)}개가 아직 포장되지 않았습니다 ({names}) — 분리배송은 "
                            f"윙에서 하세요 / {len(missing)} other item(s) of this box are not packed ({names}) — "
                            f"split shipments are done in WING")
        return ready

    @staticmethod
    def _dtos(batch: Sequence[tuple[Sheet, list[_Want]]]) -> list[dict[str, Any]]:
        """One DTO per item (B.5); a box split in WING takes the rest as a split shipment (both flags true:
        "true if there is already a split-shipped item"), any other as a normal one."""
        return [{"shipmentBoxId": sheet.shipment_box_id, "orderId": sheet.order_id,
                 "vendorItemId": w.vendor_item_id, "deliveryCompanyCode": w.theirs, "invoiceNumber": w.tracking,
                 "splitShipping": sheet.split, "preSplitShipped": sheet.split, "estimatedShippingDate": ""}
                for sheet, ws in batch for w in ws]

    def _send(self, to_send: list[tuple[Sheet, list[_Want]]], results: dict[str, ItemResult]) -> None:
        stop: ChannelError | None = None
        for batch in _chunks(to_send, MAX_BOXES_PER_CALL):
            if stop is not None:
                results.update((w.pid, _error_result(w.pid, stop, retryable=True)) for _, ws in batch for w in ws)
                continue
            stop = self._upload(batch, results, isolate=True)

    def _upload(self, batch: Sequence[tuple[Sheet, list[_Want]]], results: dict[str, ItemResult], *,
                isolate: bool) -> ChannelError | None:
        """One invoice request; every item of ``batch`` gets its result. Returns the error that should stop the
        run (Coupang down or blocking us), else None."""
        try:
            reply = self.client.upload_invoices(self._dtos(batch))
        except ChannelAuthError:
            raise
        except ChannelRejected as exc:  # the request refused whole (400): nothing applied
            results.update((w.pid, _error_result(w.pid, exc, retryable=False)) for _, ws in batch for w in ws)
            return None
        except ChannelRateLimited as exc:  # refused at the gate: nothing applied
            results.update((w.pid, _error_result(w.pid, exc, retryable=True)) for _, ws in batch for w in ws)
            return exc
        except (ChannelTransientError, ChannelBadReply) as exc:  # may have been applied
            log.info("coupang %s: invoice upload of %d box(es) uncertain (%s); reading them back",
                     self.client.vendor_id, len(batch), exc.code)
            if isolate and _server_error(exc):
                return self._isolate(batch, results, exc)
            failed = exc  # a name the lambda can keep: the except's own is gone once it ends
            self._settle(batch, results, lambda pid: _error_result(pid, failed, retryable=True))
            return exc if isinstance(exc, ChannelTransientError) else None
        recheck: list[tuple[Sheet, list[_Want]]] = []
        for sheet, ws in batch:
            r = reply.get(sheet.shipment_box_id)
            if r is None:
                recheck.append((sheet, ws))
                results.update((w.pid, _fail(w.pid, ITEM_NOT_IN_REPLY, retryable=True)) for w in ws)
            else:
                results.update((w.pid, _box_result(w.pid, r)) for w in ws)
                if not r.succeed and r.code in _MAYBE_DONE:
                    recheck.append((sheet, ws))
        if recheck:
            self._settle(recheck, results, lambda pid: results[pid])
        return None

    def _isolate(self, batch: Sequence[tuple[Sheet, list[_Want]]], results: dict[str, ItemResult],
                 exc: ChannelError) -> ChannelError | None:
        """After an HTTP 500 for the whole request: read the boxes back; if none shows our number (nothing was
        applied), send each box alone, so one bad box (a courier code Coupang does not know) no longer holds
        the others back. A box answered 500 alone, still with nothing applied, is named for a supervisor —
        unless every box was, under more than one courier code: that is Coupang failing, to retry later."""
        sheets = self._read_many(sheet.shipment_box_id for sheet, _ in batch)
        applied = [(now := sheets.get(sheet.shipment_box_id)) is not None and self._shows(now, ws)
                   for sheet, ws in batch]
        if len(sheets) < len(batch) or any(applied):  # unreadable, or part of it went: not a refusal of it all
            self._settle(batch, results, lambda pid: _error_result(pid, exc, retryable=True))
            return exc
        log.info("coupang %s: invoice request of %d box(es) answered HTTP 500 with nothing applied; sending each "
                 "box alone", self.client.vendor_id, len(batch))
        refused: list[tuple[Sheet, list[_Want]]] = []
        for n, (sheet, ws) in enumerate(batch):
            alone: dict[str, ItemResult] = {}
            stop = self._upload([(sheet, ws)], alone, isolate=False)
            if stop is not None and not _server_error(stop):  # down or blocking us: the rest waits
                results.update(alone)
                results.update((w.pid, _error_result(w.pid, stop, retryable=True))
                               for _, later in batch[n + 1:] for w in later)
                return stop
            if stop is not None and not any(alone[w.pid].ok for w in ws):
                refused.append((sheet, ws))
            results.update(alone)
        codes = {ws[0].theirs for _, ws in refused}
        if len(refused) == len(batch) and len(codes) > 1:
            return exc  # every box failed alone, whatever its courier: Coupang is failing (results: retryable)
        for sheet, ws in refused:
            log.warning("coupang %s: box %s alone was answered HTTP 500 with nothing applied: courier code %s "
                        "(ours %s) is probably unknown to Coupang", self.client.vendor_id, sheet.shipment_box_id,
                        ws[0].theirs, ws[0].courier)
            results.update((w.pid, _fail(w.pid, ITEM_COURIER_REJECTED, f"{w.courier} → {w.theirs}")) for w in ws)
        return None

    @staticmethod
    def _shows(sheet: Sheet, ws: Sequence[_Want]) -> bool:
        """Coupang shows these items sent with our number (a split box: each item has its invoice)."""
        if sheet.split:
            return all((it := sheet.item(w.vendor_item_id)) is not None and it.uploaded for w in ws)
        return sheet.shows(ws[0].courier, ws[0].tracking)

    def _settle(self, batch: Sequence[tuple[Sheet, list[_Want]]], results: dict[str, ItemResult],
                otherwise: Callable[[str], ItemResult]) -> None:
        """Read the boxes back: what shows our tracking number is ok; the rest gets ``otherwise``."""
        sheets = self._read_many(sheet.shipment_box_id for sheet, _ in batch)
        for sheet, ws in batch:
            now = sheets.get(sheet.shipment_box_id)
            shown = now is not None and self._shows(now, ws)
            results.update((w.pid, ItemResult(w.pid, True, already_done=True) if shown else otherwise(w.pid))
                           for w in ws)
