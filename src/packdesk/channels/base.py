"""What every order source returns, and how it fails.

Channels never touch the database: they return plain records, and ``services/collect.py`` stores them.
Errors are typed so the collection service can decide: retry later (transient, rate limited), ask for
new credentials (auth), or show the marketplace's words to a person (rejected).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple, Protocol, Self, runtime_checkable

from packdesk.core.enums import LineStatus
from packdesk.core.errors import KnownError


@dataclass(frozen=True)
class LineRecord:
    product_order_id: str
    product_code: str
    option_code: str
    product_name: str
    option_name: str
    quantity: int
    status: LineStatus
    channel_status: str = ""
    claim_status: str = ""
    courier_code: str = ""
    tracking_number: str = ""
    instructions: str = ""  # what the buyer asked of this item (engraving text, …), one per line; "" = none


@dataclass(frozen=True)
class OrderRecord:
    """One order as a channel gives it. Its repr leaves out the buyer (name, phone, address, message): a record
    that reaches a log line or an error says which order, not whose."""

    order_no: str
    buyer_name: str = field(repr=False)
    recipient_name: str = field(repr=False)
    recipient_phone: str = field(repr=False)
    zip_code: str = field(repr=False)
    address: str = field(repr=False)
    delivery_message: str = field(repr=False)
    ordered_at: datetime | None
    paid_at: datetime | None
    lines: Sequence[LineRecord] = field(default_factory=tuple)


@dataclass(frozen=True)
class ItemRecord:
    """A physical good and its barcodes (the demo ships a catalogue; real channels do not)."""

    sku: str
    name: str
    option_name: str
    barcodes: tuple[str, ...]


@dataclass(frozen=True)
class MappingRecord:
    product_code: str
    option_code: str
    sku: str
    quantity: int


class DispatchItem(NamedTuple):
    """One parcel's tracking number for one product order (a plain 4-tuple works too)."""

    product_order_id: str
    courier_code: str       # the marketplace's courier code (Naver: deliveryCompanyCode, e.g. CJGLS)
    tracking_number: str
    dispatch_date: datetime


@dataclass(frozen=True)
class ItemResult:
    """What became of one product order in a write. ``code``/``message`` are the API's for its failures
    (e.g. ``104121`` 기사용 송장) or ours (``channel_no_result``, ``channel_transient``, …)."""

    product_order_id: str
    ok: bool
    code: str = ""
    message: str = ""
    retryable: bool = False        # worth sending again later (the API did not decide about it)
    already_done: bool = False     # the marketplace already had it (confirmed before; dispatched with this tracking)
    address_changed: bool = False  # 발주확인: the buyer changed the address, re-read it before printing
    acknowledged: bool = False     # dispatch: 발주확인 was done by this write, just before the tracking number
    cancelled: bool = False        # dispatch: refused because the line is cancelled there: hold, pull the parcel


@dataclass(frozen=True)
class WriteResult:
    """Per-product-order results of a confirm or dispatch, in the order asked."""

    items: Mapping[str, ItemResult]
    # orders the marketplace showed again after the write (Coupang: a buyer may change the address until
    # 발주확인, so the sheets are re-read after it); the caller stores them like collected orders
    refreshed: Sequence[OrderRecord] = ()

    def __getitem__(self, product_order_id: str) -> ItemResult:
        return self.items[product_order_id]

    @property
    def succeeded(self) -> list[str]:
        return [pid for pid, r in self.items.items() if r.ok]

    @property
    def failed(self) -> list[ItemResult]:
        return [r for r in self.items.values() if not r.ok]


@dataclass(frozen=True)
class ProductRecord:
    """One sales product as a marketplace's catalogue lists it: a product, or one option combination of an
    optioned product. Codes follow the account's code rule, as collected order lines do."""

    product_code: str
    option_code: str
    product_name: str
    option_name: str
    status: str = ""          # the marketplace's word (SALE, OUTOFSTOCK, SUSPENSION, DELETE, ...)
    seller_code: str = ""     # the seller's own management code, when set
    deleted: bool = False
    image_url: str = ""       # the product's representative image, when the marketplace gives one


@dataclass(frozen=True)
class ProductPage:
    """A page of a catalogue and where the next one starts (``None``: that was the last)."""

    records: Sequence[ProductRecord]
    next_cursor: str | None
    total: int | None = None  # products in the catalogue, when the marketplace says


class ReturnLine(NamedTuple):
    """One product order a return or exchange brings back, and how many of it."""

    product_order_id: str
    quantity: int


@dataclass(frozen=True)
class ReturnRecord:
    """A return or an exchange as a marketplace tells it (SmartStore's RETURN/EXCHANGE claims, Coupang's return
    receipts): the parcel a buyer sends back, so the station knows it when it arrives. Its words are the
    marketplace's (``status``, ``reason_code``); it names the order and the lines, never the buyer."""

    claim_id: str                   # the marketplace's claim (SmartStore claimId, Coupang receiptId)
    claim_type: str                 # "return" or "exchange"
    status: str                     # the marketplace's word (RETURN_REQUEST, COLLECTING, RETURNS_UNCHECKED, …)
    order_no: str
    lines: tuple[ReturnLine, ...]
    reason_code: str = ""           # the marketplace's reason (a code, or its category words)
    reason_text: str = ""           # the buyer's own words, when given
    courier_code: str = ""          # the pickup's courier, our code ("" until one is named)
    tracking_number: str = ""       # the pickup waybill ("" until one is booked)
    requested_at: datetime | None = None
    updated_at: datetime | None = None


class Channel(Protocol):
    """An order source as the collection service drives it. ``kind`` is its market's
    (``channels/registry.py``): a ``ChannelKind`` for the built-in ones."""

    @property
    def kind(self) -> str: ...

    def collect(self, since: datetime, until: datetime) -> list[OrderRecord]:
        """Orders changed in ``[since, until)``; may raise the errors below."""
        ...


# What a channel can do beyond collecting, one protocol per ability. The services ask ``isinstance(channel,
# Confirms)`` — never ``hasattr`` — and a market declares the same abilities (``channels/registry.py``), checked
# against its client whenever one is built, so the declaration and the client cannot drift apart.

@runtime_checkable
class Collects(Protocol):
    def collect(self, since: datetime, until: datetime) -> list[OrderRecord]: ...


@runtime_checkable
class Confirms(Protocol):
    def confirm(self, product_order_ids: Iterable[str]) -> WriteResult:
        """발주확인 of these product orders: a result per id."""
        ...


@runtime_checkable
class Dispatches(Protocol):
    def dispatch(self, items: Iterable[DispatchItem | tuple[str, str, str, datetime]], *,
                 checked: bool = False) -> WriteResult:
        """Tracking numbers to the marketplace; ``checked``: the caller read the current statuses first."""
        ...


@runtime_checkable
class LooksUp(Protocol):
    def lookup(self, product_order_ids: Sequence[str]) -> Mapping[str, LineRecord]:
        """The marketplace's current view of these product orders (the outbox reads it before it sends)."""
        ...


@runtime_checkable
class FollowsUp(Protocol):
    def follow_up(self, since: datetime, until: datetime, missing: Sequence[str] = ()) -> Mapping[str, LineRecord]:
        """For a marketplace whose lists leave out fully cancelled orders: the cancels it can list, and the
        status of ``missing`` (open lines its lists did not show)."""
        ...


@runtime_checkable
class CollectsReturns(Protocol):
    def returns(self, since: datetime, until: datetime) -> list[ReturnRecord]:
        """Returns and exchanges the marketplace shows as requested or changed in ``[since, until)`` (a
        marketplace may look further back to see them move on); may raise the errors below."""
        ...


@runtime_checkable
class ListsProducts(Protocol):
    def products(self, cursor: str | None) -> ProductPage:
        """One page of the catalogue from ``cursor`` (``None``: the first)."""
        ...


@runtime_checkable
class ChecksConnection(Protocol):
    def test_connection(self) -> object:
        """One cheap call that proves the credentials, the address and the clock; raises a ``ChannelError``."""
        ...


@runtime_checkable
class Closes(Protocol):
    def close(self) -> None: ...


def close_channel(channel: object) -> None:
    """Close a channel that holds connections; one that holds none has no ``close``."""
    if isinstance(channel, Closes):
        channel.close()


class ChannelError(KnownError):
    code = "channel_error"


class ChannelAuthError(ChannelError):
    code = "channel_auth"


class ChannelRateLimited(ChannelError):
    code = "channel_rate_limited"


class ChannelTransientError(ChannelError):
    code = "channel_transient"


class ChannelRejected(ChannelError):
    code = "channel_rejected"


class Closing:
    """``close()`` when a ``with`` block ends: for the clients and channels that hold connections."""

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
