"""The markets PackDesk knows, declared once each: what an account of it needs, where its API lives, how to
build its client, and what that client can do.

A market is a ``Market`` entry (the built-in ones: ``channels/markets/<market>.py``, next to their clients in
``channels/<market>.py``), registered here. The services and the account form read only this registry: adding
an account (``services/accounts.py``), building its channel (``services/collect.make_channel``), the
connectivity probe's hosts, whether it drains while offline, whether it has a catalogue. A market registered
from outside — a test's fake one — is used by all of them without any of them naming it (the model:
Electrum's hardware-wallet plugins, one folder per device).

Abilities are declared as ``Capability`` members and are the ``runtime_checkable`` protocols of
``channels/base.py``; ``build`` refuses a client whose abilities differ from its market's declaration, so a
service may decide before building (the catalogue's daily sync) or after (``isinstance``) and get one answer.

Kinds are stored in ``channel_accounts.kind`` as text: the built-in ones are ``ChannelKind`` values (never
renamed), a registered market brings its own name (at most 24 characters).
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from packdesk.channels.base import (
    Channel,
    ChecksConnection,
    Collects,
    CollectsReturns,
    Confirms,
    Dispatches,
    FollowsUp,
    ListsProducts,
    LooksUp,
    close_channel,
)
from packdesk.core.errors import KnownError

KIND_MAX = 24  # channel_accounts.kind is a VARCHAR(24)


class Capability(enum.Enum):
    """What a market's client can do; each is a protocol of ``channels/base.py``."""

    COLLECT = Collects
    CONFIRM = Confirms
    DISPATCH = Dispatches
    LOOK_UP = LooksUp
    FOLLOW_UP = FollowsUp
    CATALOGUE = ListsProducts
    CONNECTION_TEST = ChecksConnection
    RETURNS = CollectsReturns  # returns and exchanges, kept as expected returns (services/returns_expected.py)


class AccountInvalid(KnownError):
    """What was typed for an account cannot be stored: ``params["field"]`` names the field for people."""

    code = "account_invalid"

    def __init__(self, code: str | None = None, *, detail: str = "", keys: tuple[str, ...] = (),
                 **params: Any) -> None:
        super().__init__(code, detail=detail, **params)
        self.keys = keys  # the form's fields at fault (``FieldSpec.key``, "name"): the account form marks them


@dataclass(frozen=True)
class FieldSpec:
    """One field of a market's account form."""

    key: str                 # "external_id", "secret", or an options key
    label: str               # Korean / English
    required: bool = True
    secret: bool = False     # to the OS keyring only, typed hidden
    placeholder: str = ""
    pattern: str = ""        # a regular expression the value must match
    help: str = ""           # shown under the field when the account is set up
    integer: bool = False    # kept in the options as a number
    # a choice instead of typing: (value stored, "한국어 / English" words shown); the first is the default
    choices: tuple[tuple[str, str], ...] = ()


COURIER_CODES_HELP = (
    "이 마켓이 우리 택배사 코드와 다른 코드를 쓸 때만: 우리코드=마켓코드, 쉼표로 구분 (예: KGB=KGBPS). 마켓이 "
    "모르는 코드로 송장 전송이 거부되면 여기서 고친 뒤 발송 대기함에서 다시 전송하세요 / Only where this market's "
    "code differs from ours: ours=theirs, comma-separated (e.g. KGB=KGBPS). When the market refuses a courier code, "
    "fix it here, then resend from the dispatch outbox.")
# the account's own courier codes (ours=theirs); ``services/accounts.parse_courier_codes`` reads what is typed
COURIER_CODES_FIELD = FieldSpec("courier_codes", "택배사 코드 (선택) / Courier codes (optional)", required=False,
                                placeholder="예 / e.g. KGB=KGBPS", help=COURIER_CODES_HELP)
API_ADDRESS_LABEL = "API 주소 (비우면 기본값) / API address (empty: default)"


@dataclass(frozen=True)
class AccountSettings:
    """What a market's factory builds a client from: the account as stored, with its secret from the keyring
    (never from the database)."""

    account_id: int
    name: str
    external_id: str
    options: Mapping[str, Any]
    secret: str = field(default="", repr=False)


@dataclass(frozen=True)
class Market:
    """One market. ``label`` is "한국어 / English", as the screens show it."""

    kind: str
    label: str
    capabilities: frozenset[Capability]
    factory: Callable[[AccountSettings], Channel]
    fields: tuple[FieldSpec, ...] = ()
    addable: bool = True          # offered in the account form (the demo shop is made at first start instead)
    needs_secret: bool = True     # an account without its secret in the keyring is not ready
    default_address: str = ""     # the API's address when the account gives none ("": needs no network)
    address_option: str = "base_url"  # the option holding the account's own address
    can_confirm: bool = True      # the form offers "confirm after collecting" (needs CONFIRM)
    confirm_default: bool = False  # ... and starts ticked
    # checks across fields of what was typed (options as stored), raising AccountInvalid
    check: Callable[[Mapping[str, Any]], None] | None = None

    def __post_init__(self) -> None:
        if not self.kind or len(self.kind) > KIND_MAX:
            raise ValueError(f"a market's kind is 1..{KIND_MAX} characters: {self.kind!r}")
        if Capability.COLLECT not in self.capabilities:
            raise ValueError(f"market {self.kind} declares no COLLECT: every market is an order source")
        if self.can_confirm and Capability.CONFIRM not in self.capabilities:
            raise ValueError(f"market {self.kind} offers confirming without the CONFIRM capability")

    @property
    def network(self) -> bool:
        """Its client talks to a server (the demo shop does not: it works, and drains, while offline)."""
        return bool(self.default_address)

    def can(self, capability: Capability) -> bool:
        return capability in self.capabilities


_markets: dict[str, Market] = {}
_built_in_loaded = False


def _load_built_ins() -> None:
    global _built_in_loaded
    if _built_in_loaded:
        return
    _built_in_loaded = True
    from packdesk.channels.markets import BUILT_IN

    for market in BUILT_IN:
        register(market)


def register(market: Market) -> Market:
    """Make ``market`` known to every service and to the account form; its kind must be new."""
    _load_built_ins()
    if market.kind in _markets:
        raise ValueError(f"a market {market.kind!r} is registered already")
    _markets[market.kind] = market
    return market


def unregister(kind: str) -> None:
    """Forget a registered market (its accounts stay stored; their channels cannot be built until it is back)."""
    _load_built_ins()
    _markets.pop(kind, None)


def market(kind: str) -> Market | None:
    """The market of this kind, or ``None`` (an order source with no marketplace: Excel sheets, typed orders)."""
    _load_built_ins()
    return _markets.get(kind)


def markets() -> list[Market]:
    """Every registered market, in the order registered (the account form lists them so)."""
    _load_built_ins()
    return list(_markets.values())


def abilities(channel: object) -> frozenset[Capability]:
    """The capabilities a client has, by its protocols."""
    return frozenset(c for c in Capability if isinstance(channel, c.value))


def build(market: Market, settings: AccountSettings) -> Channel:
    """The market's client for an account. A client whose abilities differ from the market's declaration is
    a bug in the declaration: ``TypeError``, naming the difference."""
    channel = market.factory(settings)
    found = abilities(channel)
    if found != market.capabilities:
        close_channel(channel)  # release what it opened, then fail
        missing = sorted(c.name for c in market.capabilities - found)
        extra = sorted(c.name for c in found - market.capabilities)
        raise TypeError(f"market {market.kind}: its client {type(channel).__name__} lacks {missing}, "
                        f"has undeclared {extra}")
    return channel
