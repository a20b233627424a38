"""What every order source returns, and how it fails.

Channels never touch the database: they return plain records, and ``services/collect.py`` stores them.
Errors are typed so the collection service can decide: retry later (transient, rate limited), ask for
new credentials (auth), or show the marketplace's words to a person (rejected).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from packdesk.core.enums import ChannelKind, LineStatus
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


@dataclass(frozen=True)
class OrderRecord:
    order_no: str
    buyer_name: str
    recipient_name: str
    recipient_phone: str
    zip_code: str
    address: str
    delivery_message: str
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


class Channel(Protocol):
    kind: ChannelKind

    def collect(self, since: datetime, until: datetime) -> list[OrderRecord]:
        """Orders changed in ``[since, until)``; may raise the errors below."""
        ...


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
