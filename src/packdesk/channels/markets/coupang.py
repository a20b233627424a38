"""Coupang Wing (``channels/coupang.py``, docs/marketplaces/coupang.md)."""

from __future__ import annotations

from packdesk.channels.base import Channel
from packdesk.channels.registry import (
    API_ADDRESS_LABEL,
    COURIER_CODES_FIELD,
    AccountSettings,
    Capability,
    FieldSpec,
    Market,
)
from packdesk.core.enums import ChannelKind

DEFAULT_BASE_URL = "https://api-gateway.coupang.com"


def _build(settings: AccountSettings) -> Channel:
    from packdesk.channels.coupang import CoupangChannel

    options = settings.options
    extra = {k: v for k, v in options.items() if k in ("base_url",)}
    return CoupangChannel(settings.external_id, str(options.get("access_key", "")), settings.secret,
                          courier_overrides=options.get("courier_codes"), **extra)


MARKET = Market(
    ChannelKind.COUPANG, "쿠팡 윙 / Coupang Wing",
    frozenset({Capability.COLLECT, Capability.CONFIRM, Capability.DISPATCH, Capability.LOOK_UP,
               Capability.FOLLOW_UP, Capability.CONNECTION_TEST, Capability.RETURNS}),
    _build,
    fields=(
        FieldSpec("external_id", "업체 코드 / Vendor ID", placeholder="A00012345", pattern=r"[AC]\d{5,12}"),
        FieldSpec("access_key", "액세스 키 / Access key"),
        FieldSpec("secret", "시크릿 키 / Secret key", secret=True),
        FieldSpec("base_url", API_ADDRESS_LABEL, required=False, pattern=r"https?://\S+"),
        COURIER_CODES_FIELD,
    ),
    default_address=DEFAULT_BASE_URL,
    # ticked: Coupang takes no tracking number for an order still 결제완료, and sellers confirm what they collect
    # (the buyer can then no longer change the address of a parcel being labelled); see docs/user-guide.md, Coupang
    confirm_default=True)
