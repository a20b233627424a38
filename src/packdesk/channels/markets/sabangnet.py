"""Sabangnet's legacy RTL_API (``channels/sabangnet.py``, docs/marketplaces/sabangnet.md): Sabangnet fetches each
request XML from a URL, so an account names how (``channels/xml_relay.py``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from packdesk.channels.base import Channel
from packdesk.channels.registry import (
    COURIER_CODES_FIELD,
    AccountInvalid,
    AccountSettings,
    Capability,
    FieldSpec,
    Market,
)
from packdesk.core.enums import ChannelKind

DEFAULT_ADDRESS = "https://sbadmin13.sabangnet.co.kr"


def _build(settings: AccountSettings) -> Channel:
    from packdesk.channels.sabangnet import SabangnetChannel
    from packdesk.channels.xml_relay import publisher_for

    options = settings.options
    return SabangnetChannel(settings.external_id, settings.secret, api_url=str(options.get("api_url", "")),
                            publisher=publisher_for(options), courier_overrides=options.get("courier_codes"))


def _check(options: Mapping[str, Any]) -> None:
    """Sabangnet fetches the request XML: it must be reachable somehow."""
    local = "relay_public_url" in options and "relay_port" in options
    put = "relay_put_url" in options and "relay_get_url" in options
    if not (local or put):
        raise AccountInvalid("account_field_required", detail="no relay for the request XML",
                             keys=("relay_public_url", "relay_port", "relay_put_url", "relay_get_url"),
                             field="요청 XML 공개 주소+포트, 또는 업로드 주소+공개 주소 / public address+port, or "
                                   "upload+public address")


MARKET = Market(
    ChannelKind.SABANGNET, "사방넷 / Sabangnet",
    # CONFIRM: its collection itself confirms (001 → 002), so confirming reports each line done; the form offers
    # no "confirm after collecting"
    frozenset({Capability.COLLECT, Capability.CONFIRM, Capability.DISPATCH, Capability.LOOK_UP,
               Capability.CONNECTION_TEST}),
    _build,
    fields=(
        FieldSpec("external_id", "사방넷 아이디 / Sabangnet ID"),
        FieldSpec("secret", "연동 키 / API key", secret=True),
        FieldSpec("api_url", "API 주소 / API address", placeholder="https://sbadmin13.sabangnet.co.kr/RTL_API",
                  pattern=r"https?://\S+"),
        FieldSpec("relay_public_url", "요청 XML 공개 주소 (이 PC의 외부 주소:포트) / Public address of this PC "
                  "for request XML", required=False, placeholder="http://203.0.113.5:8765", pattern=r"https?://\S+"),
        FieldSpec("relay_port", "요청 XML 포트 / Port for request XML", required=False, placeholder="8765",
                  pattern=r"\d{2,5}", integer=True),
        FieldSpec("relay_put_url", "또는 업로드 주소 (PUT, {name}) / or upload address (PUT, {name})", required=False,
                  placeholder="https://my.web.host/dav/{name}.xml", pattern=r"https?://\S*\{name\}\S*"),
        FieldSpec("relay_get_url", "그 공개 주소 (GET, {name}) / its public address (GET, {name})", required=False,
                  placeholder="https://my.web.host/px/{name}.xml", pattern=r"https?://\S*\{name\}\S*"),
        FieldSpec("logistics_place_id", "물류처 ID (선택) / Logistics place ID (optional)", required=False),
        COURIER_CODES_FIELD,
    ),
    default_address=DEFAULT_ADDRESS, address_option="api_url", can_confirm=False, check=_check)
