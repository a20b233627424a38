"""The built-in demo shop as a market: no fields, no secret, no network; made at first start
(``services/demo_setup.py``), not from the account form."""

from __future__ import annotations

from datetime import UTC, datetime

from packdesk.channels.base import Channel
from packdesk.channels.registry import AccountSettings, Capability, Market
from packdesk.core.enums import ChannelKind


def _build(settings: AccountSettings) -> Channel:
    from packdesk.channels.demo import DemoChannel

    return DemoChannel(datetime.now(UTC))


MARKET = Market(ChannelKind.DEMO, "데모 상점 / Demo shop",
                frozenset({Capability.COLLECT, Capability.DISPATCH}), _build,
                addable=False, needs_secret=False, can_confirm=False)
