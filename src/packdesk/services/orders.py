"""Orders typed in at PackDesk (수기 주문 개별 등록), and a supervisor's force-cancel and delete of an order.

A sales platform for typed-in orders is a ``ChannelAccount`` of kind MANUAL named after it (made the first
time its name is used). It has no marketplace: nothing is confirmed or dispatched for it (``NO_MARKETPLACE``:
a pack queues no dispatch, scheduled collection skips it); tracking numbers go back by the order export.

A typed-in order is stored the way the station already reads collected ones, so ``core/queries.load_plan``
packs it unchanged: one ``Order``, one CONFIRMED ``OrderLine`` per shipping item (product code
``ITEM:<sku>``, product-order id ``<order no>|<sku>``), one ``Waybill`` for all of them, a history row per
line, and the link ``ITEM:<sku>`` → that item × 1 (made exactly so; a sales product is registered too) —
all in the caller's one transaction. With no tracking number typed, PackDesk makes an internal one the
station can scan: ``PDM`` + the Korean date ``YYMMDD`` + a 4-digit sequence of that day; the database's
unique index on tracking numbers settles two stations making one at the same moment (one is asked to save
again). Internal numbers are never reused: a deleted order's waybill stays, so a printed label can never
come back as another order.

The destination country is checked (a two-letter ISO 3166 code) but only KR is accepted for now: the
schema has no column for it and every courier here is domestic. Adding one needs a migration.

Force-cancel is for typed-in orders only (a collected order is cancelled at its marketplace): irreversible,
refused once anything of the order is packed; every line becomes CANCELLED with claim status
``FORCE_CANCELLED`` and a history row (``force_cancel:<who>``, timestamped), and the station refuses its
waybill saying so. Delete removes an order (typed in or collected) that no station started packing
(``core/order_removal.py``); a collected one comes back with the next collection that still sees it.

Every refusal is an ``OrderRefused`` naming the field and why (``ui/messages.py`` ERROR_TEXT); nothing is
written then. Qt-free: the screen is ``ui/orders_view.py``.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from packdesk.core import models as m
from packdesk.core import parcels, queries
from packdesk.core.catalog import register_sales_products
from packdesk.core.couriers import BY_CODE, DEFAULT_COURIER, UnknownCourier, resolve
from packdesk.core.enums import ChannelKind, LineStatus
from packdesk.core.errors import KnownError, Words, describe_error
from packdesk.core.kst import KST
from packdesk.core.models import utcnow
from packdesk.core.order_removal import delete_orders, packing_started
from packdesk.core.phones import domestic
from packdesk.core.station import FORCE_CANCELLED
from packdesk.core.text import clean_text, contains, search_text
from packdesk.core.tracking import check as check_tracking
from packdesk.services.mapping import ItemRow, find_items
from packdesk.services.station import COMMAND_PREFIX

log = logging.getLogger("packdesk.orders")


DEFAULT_PLATFORM = "수기 주문"
DEFAULT_COUNTRY = "KR"
SUPPORTED_COUNTRIES = frozenset({"KR"})
MAX_PLATFORM = 100        # channel_accounts.name
MAX_ORDER_NO = 64         # orders.order_no (and order_lines.product_order_id = "<order no>|<sku>")
MAX_RECIPIENT = 20
MAX_PHONE = 15
MIN_PHONE_DIGITS = 8
MAX_ADDRESS = 300
MAX_MESSAGE = 300
MAX_TRACKING = 40         # waybills.tracking_number
MAX_CODE = 64             # order_lines.product_code, product_order_id
MAX_QUANTITY = 1_000_000
PRODUCT_PREFIX = "ITEM:"
INTERNAL_PREFIX = "PDM"
INTERNAL_DIGITS = 4
PACKED = (LineStatus.PACKED, LineStatus.DISPATCHED, LineStatus.SHIPPED)

# each field as people see it; refusals name it with these words
FIELDS: dict[str, Words] = {
    "platform": Words("판매처", "Sales platform"),
    "order_no": Words("주문번호", "Order number"),
    "recipient_name": Words("수취인", "Recipient"),
    "phone": Words("연락처", "Phone"),
    "zip_code": Words("우편번호", "Zip code"),
    "address": Words("주소", "Address"),
    "delivery_message": Words("배송 메시지", "Delivery message"),
    "country": Words("배송 국가", "Destination country"),
    "lines": Words("출고상품", "Items"),
    "courier": Words("택배사", "Courier"),
    "tracking_number": Words("송장번호", "Tracking number"),
}

# ISO 3166-1 alpha-2: a typo ("KO") is told apart from a real country this version does not ship to yet
ISO_COUNTRIES = frozenset(re.findall(r"[A-Z]{2}", """
AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ
CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO
FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE
JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO
MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW
PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM
TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW
"""))

_PHONE = re.compile(r"[0-9()+\-]+")
_ZIP = re.compile(r"\d{5}|\d{3}-?\d{3}")
_TRACKING = re.compile(r"[A-Za-z0-9\-]+")


class OrderRefused(KnownError):
    """Bad input for an order, or an order that cannot be changed so: nothing was written. ``field_key``
    names the form's field (a key of ``FIELDS``, "" for none) and ``line`` the item line (or -1)."""

    code = "order_refused"

    def __init__(self, code: str, *, field_key: str = "", line: int = -1, detail: str = "", **params: Any) -> None:
        if field_key:
            params.setdefault("field", FIELDS[field_key])
        super().__init__(code, detail=detail, **params)
        self.field_key = field_key
        self.line = line


# ---------------------------------------------------------------------------------------------- entering


@dataclass(frozen=True)
class ManualLine:
    item_id: int
    quantity: int
    label: str = ""  # the item as the form shows it (for a refusal before the database is read)


@dataclass(frozen=True)
class ManualOrder:
    """One order as typed into the form."""

    order_no: str = ""
    recipient_name: str = ""
    phone: str = ""
    zip_code: str = ""
    address: str = ""
    delivery_message: str = ""
    lines: tuple[ManualLine, ...] = ()
    platform: str = DEFAULT_PLATFORM
    country: str = DEFAULT_COUNTRY
    courier_code: str = DEFAULT_COURIER
    tracking_number: str = ""  # "" = PackDesk makes an internal number


@dataclass(frozen=True)
class CreatedOrder:
    order_id: int
    account_id: int
    platform: str
    order_no: str
    courier_code: str
    tracking_number: str
    internal: bool  # the tracking number is PackDesk's own (print its label)
    line_ids: tuple[int, ...] = ()


def _text(value: str, key: str, limit: int, *, required: bool) -> str:
    """The field as stored: NUL and the other invisible control characters removed as from every order
    (``core/text.clean_text``); a line break or tab left in a one-line field is refused, saying so."""
    value = unicodedata.normalize("NFC", clean_text(value or "")).strip()
    if required and not value:
        raise OrderRefused("order_field_required", field_key=key)
    if any(unicodedata.category(ch) == "Cc" for ch in value):
        raise OrderRefused("order_field_invalid", field_key=key)
    if len(value) > limit:
        raise OrderRefused("order_field_too_long", field_key=key, limit=limit, length=len(value))
    return value


def _line_label(line: ManualLine) -> str:
    return line.label or f"#{line.item_id}"


def validate(order: ManualOrder, check_digit: Mapping[str, str] | None = None) -> ManualOrder:
    """The order as it will be stored (trimmed, normalised), checked field by field in the form's order;
    the first problem is raised as ``OrderRefused``. Pure: what needs the database is checked in
    ``create_manual_order``."""
    platform = " ".join(_text(order.platform, "platform", MAX_PLATFORM, required=True).split())
    order_no = _text(order.order_no, "order_no", MAX_ORDER_NO, required=True)
    recipient = _text(order.recipient_name, "recipient_name", MAX_RECIPIENT, required=True)
    phone = domestic(_text(order.phone, "phone", 200, required=True))  # +82 10-… is 010-…
    if len(phone) > MAX_PHONE or not _PHONE.fullmatch(phone) or sum(c.isdigit() for c in phone) < MIN_PHONE_DIGITS:
        raise OrderRefused("order_phone_invalid", field_key="phone", value=phone)
    zip_code = _text(order.zip_code, "zip_code", 50, required=True)
    if not _ZIP.fullmatch(zip_code):
        raise OrderRefused("order_zip_invalid", field_key="zip_code", value=zip_code)
    address = _text(order.address, "address", MAX_ADDRESS, required=True)
    message = _text(order.delivery_message, "delivery_message", MAX_MESSAGE, required=False)
    country = _text(order.country, "country", 50, required=True).upper()
    if country not in ISO_COUNTRIES:
        raise OrderRefused("order_country_invalid", field_key="country", value=country)
    if country not in SUPPORTED_COUNTRIES:
        raise OrderRefused("order_country_unsupported", field_key="country", value=country)
    if not order.lines:
        raise OrderRefused("order_no_items", field_key="lines")
    seen: set[int] = set()
    for n, line in enumerate(order.lines):
        qty = line.quantity
        if isinstance(qty, bool) or not isinstance(qty, int) or not 1 <= qty <= MAX_QUANTITY:
            raise OrderRefused("order_quantity_invalid", field_key="lines", line=n, item=_line_label(line),
                               value=qty, limit=f"{MAX_QUANTITY:,}")
        if line.item_id in seen:
            raise OrderRefused("order_item_repeated", field_key="lines", line=n, item=_line_label(line))
        seen.add(line.item_id)
    courier = (order.courier_code or "").strip()
    if courier not in BY_CODE:
        try:
            courier = resolve(courier).code
        except UnknownCourier:
            raise OrderRefused("order_courier_unknown", field_key="courier", value=courier) from None
    tracking = _text(order.tracking_number, "tracking_number", MAX_TRACKING, required=False)
    if tracking:
        if not _TRACKING.fullmatch(tracking):
            raise OrderRefused("order_tracking_invalid", field_key="tracking_number", value=tracking)
        if tracking.upper().startswith((INTERNAL_PREFIX, COMMAND_PREFIX)):
            raise OrderRefused("order_tracking_reserved", field_key="tracking_number", value=tracking)
        checked = check_tracking(tracking, courier, check_digit)  # the courier's own rule (a mistyped digit)
        if not checked.ok:
            raise OrderRefused(checked.problem, field_key="tracking_number", **dict(checked.params or {}))
        tracking = checked.number
    return ManualOrder(order_no, recipient, phone, zip_code, address, message, tuple(order.lines), platform, country,
                       courier, tracking)


def manual_account(s: Session, platform: str) -> m.ChannelAccount:
    """The MANUAL account of this platform name, made (or brought back after a removal) on first use."""
    A = m.ChannelAccount
    acc = s.scalar(select(A).where(A.kind == ChannelKind.MANUAL, A.name == platform))
    if acc is None:
        acc = A(kind=ChannelKind.MANUAL, name=platform)
        s.add(acc)
        s.flush()
        log.info("sales platform %r for typed-in orders made (account %s)", platform, acc.id)
    elif not acc.active or acc.removed_at is not None:
        acc.active, acc.removed_at = True, None
    return acc


def list_platforms(s: Session) -> list[str]:
    """The names of the platforms orders were typed in for, the default first."""
    A = m.ChannelAccount
    names = list(s.scalars(select(A.name).where(A.kind == ChannelKind.MANUAL, A.active).order_by(A.name)))
    return [DEFAULT_PLATFORM, *(n for n in names if n != DEFAULT_PLATFORM)]


def next_internal_number(s: Session, now: datetime) -> str:
    """``PDM`` + KST ``YYMMDD`` + the day's next 4-digit sequence (``PDM2611240001``)."""
    prefix = f"{INTERNAL_PREFIX}{now.astimezone(KST):%y%m%d}"
    W = m.Waybill
    last = s.scalar(select(func.max(W.tracking_number)).where(
        W.tracking_number.like(f"{prefix}%"), func.length(W.tracking_number) == len(prefix) + INTERNAL_DIGITS))
    tail = last[len(prefix):] if last else ""
    seq = int(tail) + 1 if tail.isdigit() else 1
    limit = 10 ** INTERNAL_DIGITS - 1
    if seq > limit:
        raise OrderRefused("order_numbers_exhausted", limit=f"{limit:,}")
    return f"{prefix}{seq:0{INTERNAL_DIGITS}d}"


def _waybill(s: Session, o: ManualOrder, now: datetime) -> tuple[m.Waybill, bool]:
    """The order's waybill: the typed number's (a new row, or one left by a deleted order), or a new
    internal one. ``tracking_taken`` when another order's lines ship under the typed number."""
    W, L = m.Waybill, m.OrderLine
    if not o.tracking_number:
        wb = W(courier_code=o.courier_code, tracking_number=next_internal_number(s, now), created_at=now)
        s.add(wb)
        return wb, True
    same = list(s.scalars(select(W).where(func.lower(W.tracking_number) == o.tracking_number.lower())))
    for wb in same:
        other = s.scalar(select(m.Order.order_no).join(L, L.order_id == m.Order.id).where(L.waybill_id == wb.id)
                         .limit(1))
        if other is not None:
            raise OrderRefused("tracking_taken", field_key="tracking_number", value=o.tracking_number,
                               order_no=other)
    exact = next((wb for wb in same if wb.tracking_number == o.tracking_number), None)
    if exact is not None:  # a deleted order's waybill: no lines, no packs
        exact.courier_code = o.courier_code
        return exact, False
    wb = W(courier_code=o.courier_code, tracking_number=o.tracking_number, created_at=now)
    s.add(wb)
    return wb, False


def _link_exactly(s: Session, account_id: int, product_code: str, item_id: int) -> None:
    """``ITEM:<sku>`` of this platform packs that item × 1, whatever the link screen was told since."""
    P = m.ProductMapping
    rows = s.execute(select(P.item_id, P.quantity).where(P.account_id == account_id, P.product_code == product_code,
                                                         P.option_code == "")).all()
    if [(r.item_id, r.quantity) for r in rows] == [(item_id, 1)]:
        return
    if rows:
        log.info("link of %s (account %s) set back to item %s x 1 (was %s)", product_code, account_id, item_id,
                 [tuple(r) for r in rows])
        s.execute(delete(P).where(P.account_id == account_id, P.product_code == product_code, P.option_code == ""))
    s.add(P(account_id=account_id, product_code=product_code, option_code="", item_id=item_id, quantity=1))


def create_manual_order(s: Session, order: ManualOrder, who: str, now: datetime | None = None,
                        check_digit: Mapping[str, str] | None = None) -> CreatedOrder:
    """Check the order completely, then store it ready to pack, in the caller's one transaction (see the
    module's docstring for what is written). Raises ``OrderRefused``; the caller rolls back."""
    now = now or utcnow()
    o = validate(order, check_digit)
    ids = [ln.item_id for ln in o.lines]
    items = {it.id: it for it in s.scalars(select(m.Item).where(m.Item.id.in_(ids)))}
    for n, line in enumerate(o.lines):
        item = items.get(line.item_id)
        if item is None:
            raise OrderRefused("order_item_unknown", field_key="lines", line=n, item=_line_label(line))
        if len(PRODUCT_PREFIX) + len(item.sku) > MAX_CODE:
            raise OrderRefused("order_item_code_too_long", field_key="lines", line=n, item=item.sku,
                               limit=MAX_CODE - len(PRODUCT_PREFIX))
    longest = max(len(items[i].sku) for i in ids)
    if len(o.order_no) + 1 + longest > MAX_CODE:  # "<order no>|<sku>" is each line's product-order id
        raise OrderRefused("order_field_too_long", field_key="order_no", limit=MAX_CODE - 1 - longest,
                           length=len(o.order_no))
    acc = manual_account(s, o.platform)
    if s.scalar(select(m.Order.id).where(m.Order.account_id == acc.id, m.Order.order_no == o.order_no)) is not None:
        raise OrderRefused("order_no_taken", field_key="order_no", value=o.order_no, platform=o.platform)
    wb, internal = _waybill(s, o, now)
    try:
        s.flush()
        row = m.Order(account_id=acc.id, order_no=o.order_no, recipient_name=o.recipient_name,
                      recipient_phone=o.phone, zip_code=o.zip_code, address=o.address,
                      delivery_message=o.delivery_message, ordered_at=now, created_at=now, updated_at=now)
        s.add(row)
        s.flush()
        lines = [m.OrderLine(order_id=row.id, account_id=acc.id, product_order_id=f"{o.order_no}|{it.sku}",
                             product_code=f"{PRODUCT_PREFIX}{it.sku}", option_code="", product_name=it.name,
                             option_name=it.option_name, quantity=ln.quantity, status=LineStatus.CONFIRMED,
                             waybill_id=wb.id, created_at=now, updated_at=now)
                 for ln, it in ((ln, items[ln.item_id]) for ln in o.lines)]
        s.add_all(lines)
        s.flush()
    except IntegrityError as e:  # another station saved the same order or number at this moment
        raise OrderRefused("order_save_conflict", detail=describe_error(e)) from e
    source = f"manual:{who}"[:80]
    s.execute(insert(m.LineStatusChange), [
        {"line_id": ln.id, "status": LineStatus.CONFIRMED, "source": source, "changed_at": now} for ln in lines])
    codes = [f"{PRODUCT_PREFIX}{items[i].sku}" for i in ids]
    for code, item_id in zip(codes, ids, strict=True):
        _link_exactly(s, acc.id, code, item_id)
    register_sales_products(s, acc.id, [(code, "", items[i].name, items[i].option_name)
                                        for code, i in zip(codes, ids, strict=True)], now)
    SP = m.SalesProduct  # linked from the start: nothing for a person to look at
    s.execute(update(SP).where(SP.account_id == acc.id, SP.product_code.in_(codes), SP.option_code == "")
              .values(is_new=False))
    s.flush()
    log.info("%s typed in order %s for %r: %d line(s), waybill %s %s%s", who or "someone", o.order_no, o.platform,
             len(lines), o.courier_code, wb.tracking_number, " (internal)" if internal else "")
    return CreatedOrder(row.id, acc.id, o.platform, o.order_no, o.courier_code, wb.tracking_number, internal,
                        tuple(ln.id for ln in lines))


def item_for_code(s: Session, code: str) -> ItemRow | None:
    """The item a scanned code means: its barcode exactly, else its SKU or a barcode in any case (a scan
    read in Hangul mode loses case) when only one item has it."""
    code = code.strip()
    if not code:
        return None
    folded = code.lower()
    rows = find_items(s, code, limit=20)
    exact = [r for r in rows if code in r.barcodes]
    if len(exact) == 1:
        return exact[0]
    loose = [r for r in rows if r.sku.lower() == folded or any(b.lower() == folded for b in r.barcodes)]
    return loose[0] if len(loose) == 1 else None


# ---------------------------------------------------------------------------------------------- reading


@dataclass(frozen=True)
class OrderRow:
    """One order in the screen's list."""

    id: int
    account_id: int
    platform: str
    kind: str                                    # its account's (a ChannelKind for the built-in sources)
    order_no: str
    recipient_name: str
    created_at: datetime
    lines: int
    units: int
    statuses: tuple[LineStatus, ...]             # the lines' statuses, each once
    waybills: tuple[tuple[str, str], ...]        # (courier code, tracking number)
    force_cancelled: bool
    packing_started: bool
    packed_at: datetime | None = None

    @property
    def manual(self) -> bool:
        return self.kind is ChannelKind.MANUAL

    @property
    def packed(self) -> bool:
        return any(st in PACKED for st in self.statuses)

    @property
    def can_force_cancel(self) -> bool:
        return self.manual and not self.packed and not self.force_cancelled

    @property
    def can_delete(self) -> bool:
        return not self.packing_started

    @property
    def tracking_numbers(self) -> str:
        return ", ".join(t for _, t in self.waybills)


@dataclass(frozen=True)
class LineRow:
    id: int
    product_order_id: str
    product_code: str
    product_name: str
    option_name: str
    quantity: int
    status: LineStatus
    claim_status: str
    tracking_number: str


@dataclass(frozen=True)
class HistoryRow:
    line_id: int
    product_name: str
    option_name: str
    status: LineStatus
    claim_status: str
    source: str
    changed_at: datetime


@dataclass(frozen=True)
class OrderDetail:
    row: OrderRow
    phone: str
    zip_code: str
    address: str
    delivery_message: str
    lines: tuple[LineRow, ...]
    history: tuple[HistoryRow, ...]
    parcel_key: str = ""        # the parcel its lines without a waybill wait in (core/parcels.py); "" = none
    parcel_courier: str = ""    # the courier its order sheet named for that parcel (no number yet); "" = none

    @property
    def needs_waybill(self) -> bool:
        """A supervisor may attach a tracking number: lines wait in a parcel and none is packed or force-cancelled."""
        return bool(self.parcel_key) and not self.row.packed and not self.row.force_cancelled


def _rows(s: Session, order_ids: Sequence[int]) -> list[OrderRow]:
    if not order_ids:
        return []
    Ord, A, L, W = m.Order, m.ChannelAccount, m.OrderLine, m.Waybill
    lines: dict[int, list[Any]] = defaultdict(list)
    for r in s.execute(select(L.order_id, L.quantity, L.status, L.claim_status, L.packed_at, W.courier_code,
                              W.tracking_number)
                       .outerjoin(W, W.id == L.waybill_id).where(L.order_id.in_(order_ids)).order_by(L.id)):
        lines[r.order_id].append(r)
    started = set(s.scalars(select(Ord.id).where(Ord.id.in_(order_ids), packing_started())))
    out: dict[int, OrderRow] = {}
    for o in s.execute(select(Ord.id, Ord.account_id, Ord.order_no, Ord.recipient_name, Ord.created_at, A.name,
                              A.kind).join(A, A.id == Ord.account_id).where(Ord.id.in_(order_ids))):
        ls = lines.get(o.id, [])
        waybills = tuple(dict.fromkeys((r.courier_code, r.tracking_number) for r in ls if r.tracking_number))
        cancelled = [r for r in ls if r.status is LineStatus.CANCELLED]
        out[o.id] = OrderRow(
            o.id, o.account_id, o.name, o.kind, o.order_no, o.recipient_name, o.created_at, len(ls),
            sum(r.quantity for r in ls), tuple(dict.fromkeys(r.status for r in ls)), waybills,
            bool(cancelled) and all(r.claim_status == FORCE_CANCELLED for r in cancelled), o.id in started,
            max((r.packed_at for r in ls if r.packed_at), default=None))
    return [out[i] for i in order_ids if i in out]


def search_orders(s: Session, text: str = "", limit: int = 300) -> list[OrderRow]:
    """Orders whose number, recipient or a waybill's tracking number contains ``text`` (any case), newest
    first; every order (newest first) when ``text`` is empty."""
    Ord, L, W = m.Order, m.OrderLine, m.Waybill
    q = select(Ord.id)
    needle = search_text(text)
    if needle:
        dialect = s.get_bind().dialect.name
        by_waybill = (select(L.order_id).join(W, W.id == L.waybill_id)
                      .where(contains(W.tracking_number, needle, dialect)))
        by_parcel = (select(L.order_id).join(m.Parcel, m.Parcel.id == L.parcel_id)
                     .where(m.Parcel.key == needle.upper()))  # a packing slip scanned here
        q = q.where(or_(contains(Ord.order_no, needle, dialect), contains(Ord.recipient_name, needle, dialect),
                        Ord.id.in_(by_waybill), Ord.id.in_(by_parcel)))
    ids = list(s.scalars(q.order_by(Ord.created_at.desc(), Ord.id.desc()).limit(limit)))
    return _rows(s, ids)


def get_order(s: Session, order_id: int) -> OrderRow:
    rows = _rows(s, [order_id])
    if not rows:
        raise OrderRefused("order_not_found", detail=f"order {order_id}")
    return rows[0]


def order_detail(s: Session, order_id: int) -> OrderDetail:
    """The order with its lines and every status its lines have had (oldest first)."""
    row = get_order(s, order_id)
    o = s.get_one(m.Order, order_id)
    L, W, H = m.OrderLine, m.Waybill, m.LineStatusChange
    lines = tuple(LineRow(r.id, r.product_order_id, r.product_code, r.product_name, r.option_name, r.quantity,
                          r.status, r.claim_status, r.tracking_number or "")
                  for r in s.execute(select(L.id, L.product_order_id, L.product_code, L.product_name, L.option_name,
                                            L.quantity, L.status, L.claim_status, W.tracking_number)
                                     .outerjoin(W, W.id == L.waybill_id).where(L.order_id == order_id)
                                     .order_by(L.id)))
    names = {ln.id: ln for ln in lines}
    history = tuple(HistoryRow(h.line_id, names[h.line_id].product_name, names[h.line_id].option_name, h.status,
                               h.claim_status, h.source, h.changed_at)
                    for h in s.scalars(select(H).where(H.line_id.in_(list(names))).order_by(H.changed_at, H.id)))
    parcel_id, parcel_key = _waiting_parcel(s, order_id)
    return OrderDetail(row, o.recipient_phone, o.zip_code, o.address, o.delivery_message, lines, history,
                       parcel_key, parcels.named_courier(s, parcel_id) if parcel_id is not None else "")


def _waiting_parcel(s: Session, order_id: int) -> tuple[int | None, str]:
    """(id, key) of the parcel whose waybill the order's lines are waiting for: a ready line without one."""
    L, P = m.OrderLine, m.Parcel
    row = s.execute(select(P.id, P.key).join(L, L.parcel_id == P.id)
                    .where(L.order_id == order_id, L.waybill_id.is_(None), P.waybill_id.is_(None),
                           L.status.in_(parcels.READY)).order_by(L.id).limit(1)).first()
    return (row.id, row.key) if row else (None, "")


def attach_tracking(s: Session, order_id: int, courier_code: str, number: str, who: str,
                    check_digit: Mapping[str, str] | None = None, now: datetime | None = None) -> parcels.Bound:
    """A number typed or scanned by a supervisor for an order waiting for its waybill (a label printed at the
    courier's site, a reprint): the same check and binding as a courier sheet's or the station's
    (``core/parcels.bind``), to the order's whole parcel (합포장: the other orders in that box get it too)."""
    parcel_id, key = _waiting_parcel(s, order_id)
    if parcel_id is None:
        row = get_order(s, order_id)
        raise OrderRefused("order_no_parcel", detail=f"order {order_id} waits for no waybill", order_no=row.order_no)
    bound = parcels.bind(s, parcel_id, courier_code, number, now=now or utcnow(), source=f"typed:{who}"[:80],
                         check_digit=check_digit)
    log.info("%s attached %s %s to parcel %s (order id %s)%s", who or "someone", courier_code,
             bound.tracking_number, key, order_id, " (already had it)" if bound.already else "")
    return bound


@dataclass(frozen=True)
class LabelItem:
    name: str
    option_name: str
    quantity: int
    barcode: str  # "" when the item has none


@dataclass(frozen=True)
class LabelData:
    """What a label shows: the waybill as a barcode, the recipient, and what goes in the box."""

    order_no: str
    platform: str
    recipient_name: str
    courier_code: str
    tracking_number: str
    items: tuple[LabelItem, ...] = field(default=())


def label_data(s: Session, order_id: int) -> LabelData:
    """The label of the order's waybill, from the plan the station will pack by (so it lists exactly what
    goes in the box). ``order_not_found`` when the order has no waybill."""
    row = get_order(s, order_id)
    if not row.waybills:
        raise OrderRefused("order_not_found", detail=f"order {order_id} has no waybill")
    courier, tracking = row.waybills[0]
    plan = queries.load_plan(s, tracking)
    items: list[LabelItem] = []
    if plan is not None:
        for item_id, qty in plan.expected().items():
            it = plan.items[item_id]
            items.append(LabelItem(it.name, it.option_name, qty, it.barcodes[0] if it.barcodes else ""))
    return LabelData(row.order_no, row.platform, row.recipient_name, courier, tracking, tuple(items))


# ---------------------------------------------------------------------------------------------- changing


def force_cancel(s: Session, order_id: int, who: str, now: datetime | None = None) -> int:
    """Cancel a typed-in order for good (a supervisor's act): every line CANCELLED with claim status
    ``FORCE_CANCELLED`` and a history row ``force_cancel:<who>`` at ``now``. Refused for a collected order,
    once anything of it is packed, and when it is force-cancelled already. Returns the lines cancelled."""
    now = now or utcnow()
    row = get_order(s, order_id)
    if not row.manual:
        raise OrderRefused("order_not_manual", order_no=row.order_no)
    if row.packed:
        raise OrderRefused("order_already_packed", order_no=row.order_no, packed_at=row.packed_at)
    if row.force_cancelled and row.statuses == (LineStatus.CANCELLED,):
        raise OrderRefused("order_already_cancelled", order_no=row.order_no)
    L = m.OrderLine
    # only lines not packed: a station completing this order at the same moment wins, and this is refused
    cancelled = s.execute(update(L).where(L.order_id == order_id, L.status.not_in(PACKED),
                                          ~((L.status == LineStatus.CANCELLED) & (L.claim_status == FORCE_CANCELLED)))
                          .values(status=LineStatus.CANCELLED, claim_status=FORCE_CANCELLED, updated_at=now)
                          .returning(L.id)).scalars().all()
    again = get_order(s, order_id)
    if again.packed:
        raise OrderRefused("order_already_packed", order_no=row.order_no, packed_at=again.packed_at)
    source = f"force_cancel:{who}"[:80]
    if cancelled:
        s.execute(insert(m.LineStatusChange), [
            {"line_id": lid, "status": LineStatus.CANCELLED, "claim_status": FORCE_CANCELLED, "source": source,
             "changed_at": now} for lid in cancelled])
    s.execute(update(m.Order).where(m.Order.id == order_id).values(updated_at=now))
    log.info("%s force-cancelled order %s (%s): %d line(s)", who or "someone", row.order_no, row.platform,
             len(cancelled))
    return len(cancelled)


def delete_order(s: Session, order_id: int, who: str) -> OrderRow:
    """Delete an order no station started packing, with its lines and their history (its waybill stays).
    Refused once packing started: then it can only be cancelled. Returns the order as it was."""
    row = get_order(s, order_id)
    started = s.scalar(select(m.Order.id).where(m.Order.id == order_id, packing_started()))
    if started is not None:
        raise OrderRefused("order_packing_started", order_no=row.order_no)
    delete_orders(s, [order_id])
    log.info("%s deleted order %s of %r (%s, %d line(s))", who or "someone", row.order_no, row.platform,
             row.kind, row.lines)
    return row
