"""The built-in markets' declarations, one module each (``channels/registry.py`` registers them in this order,
which is the account form's order). Each is light: its client (``channels/<market>.py``, with httpx) is
imported only when an account's channel is built."""

from __future__ import annotations

from packdesk.channels.markets import coupang, demo, naver, sabangnet

BUILT_IN = (naver.MARKET, coupang.MARKET, sabangnet.MARKET, demo.MARKET)
