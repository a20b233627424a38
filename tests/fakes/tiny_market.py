"""A fourth market that exists only in the tests: a tiny HTTP shop and its client, declared as a ``Market``
and registered from the test (``registered``), so the tests can show that a market plugs into the
collector, the uploader, the accounts and the account form without any service module naming it.

The shop's API, all JSON, the key in ``X-Key``:

- ``GET /ping`` — 200, or 401 for a wrong key;
- ``GET /orders?since=ISO&until=ISO`` — orders paid in the window: ``[{"no", "buyer", "phone", "address",
  "paid", "lines": [{"id", "code", "name", "qty", "status"}]}]``, status ``PAID`` or ``CANCELLED``;
- ``GET /lines?id=…&id=…`` — ``{id: {"status", "courier", "tracking"}}`` for the lines it has;
- ``POST /dispatch`` ``[{"id", "courier", "tracking"}]`` — ``{id: "ok" | "unknown"}``; a dispatched line is
  ``SHIPPED`` with that courier and number.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from packdesk.channels import registry
from packdesk.channels.base import (
    ChannelAuthError,
    DispatchItem,
    ItemResult,
    LineRecord,
    OrderRecord,
    WriteResult,
)
from packdesk.channels.registry import AccountSettings, Capability, FieldSpec, Market
from packdesk.core.enums import LineStatus

KIND = "tinymarket"
KEY = "tiny-key-0001"


@dataclass
class TinyShop:
    """The shop's server side: its orders, and what was asked of it."""

    orders: list[dict[str, Any]] = field(default_factory=list)
    dispatched: list[dict[str, str]] = field(default_factory=list)
    pings: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add_order(self, no: str, lines: Sequence[tuple[str, str, str, int]], paid: datetime) -> None:
        """``lines``: (line id, product code, product name, quantity)."""
        with self.lock:
            self.orders.append({"no": no, "buyer": "김구매", "phone": "010-1234-5678", "address": "서울시 중구 1",
                                "paid": paid.isoformat(),
                                "lines": [{"id": i, "code": c, "name": n, "qty": q, "status": "PAID",
                                           "courier": "", "tracking": ""} for i, c, n, q in lines]})

    def line(self, line_id: str) -> dict[str, Any] | None:
        return next((ln for o in self.orders for ln in o["lines"] if ln["id"] == line_id), None)


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def _reply(self, status: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _authorised(self) -> bool:
        if self.headers.get("X-Key") != KEY:
            self._reply(401, {"error": "bad key"})
            return False
        return True

    def do_GET(self) -> None:
        if not self._authorised():
            return
        shop = self.server.shop
        url = urlsplit(self.path)
        query = parse_qs(url.query)
        with shop.lock:
            if url.path == "/ping":
                shop.pings += 1
                self._reply(200, {"ok": True})
            elif url.path == "/orders":
                since, until = (datetime.fromisoformat(query[k][0]) for k in ("since", "until"))
                self._reply(200, [o for o in shop.orders if since <= datetime.fromisoformat(o["paid"]) < until])
            elif url.path == "/lines":
                found = {i: shop.line(i) for i in query.get("id", [])}
                self._reply(200, {i: {k: ln[k] for k in ("status", "courier", "tracking")}
                                  for i, ln in found.items() if ln is not None})
            else:
                self._reply(404, {})

    def do_POST(self) -> None:
        if not self._authorised():
            return
        shop = self.server.shop
        items = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        result = {}
        with shop.lock:
            for it in items:
                ln = shop.line(it["id"])
                if ln is None:
                    result[it["id"]] = "unknown"
                    continue
                ln.update(status="SHIPPED", courier=it["courier"], tracking=it["tracking"])
                shop.dispatched.append(it)
                result[it["id"]] = "ok"
        self._reply(200, result)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, shop: TinyShop) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.shop = shop


@contextmanager
def serving() -> Iterator[tuple[TinyShop, str]]:
    """The shop on a free local port: (shop, base URL)."""
    shop = TinyShop()
    server = _Server(shop)
    thread = threading.Thread(target=server.serve_forever, name="tiny-market", daemon=True)
    thread.start()
    try:
        yield shop, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


_STATUS = {"PAID": LineStatus.CONFIRMED, "CANCELLED": LineStatus.CANCELLED, "SHIPPED": LineStatus.DISPATCHED}


def _line(raw: Mapping[str, Any], line_id: str, code: str = "", name: str = "", qty: int = 1) -> LineRecord:
    return LineRecord(line_id, code, "", name, "", qty, _STATUS[raw["status"]], channel_status=raw["status"],
                      courier_code=raw.get("courier", ""), tracking_number=raw.get("tracking", ""))


class TinyClient:
    """The tiny shop's client: collect, look up, dispatch, connection test."""

    kind = KIND

    def __init__(self, base_url: str, key: str) -> None:
        self._http = httpx.Client(base_url=base_url, headers={"X-Key": key}, timeout=5.0)

    def close(self) -> None:
        self._http.close()

    def _get(self, path: str, params: Any = None) -> Any:
        reply = self._http.get(path, params=params)
        if reply.status_code == 401:
            raise ChannelAuthError(detail="tiny market refused the key")
        reply.raise_for_status()
        return reply.json()

    def test_connection(self) -> None:
        self._get("/ping")

    def collect(self, since: datetime, until: datetime) -> list[OrderRecord]:
        orders = self._get("/orders", {"since": since.isoformat(), "until": until.isoformat()})
        return [OrderRecord(o["no"], o["buyer"], o["buyer"], o["phone"], "04500", o["address"], "",
                            datetime.fromisoformat(o["paid"]), datetime.fromisoformat(o["paid"]),
                            tuple(_line(ln, ln["id"], ln["code"], ln["name"], ln["qty"]) for ln in o["lines"]))
                for o in orders]

    def lookup(self, product_order_ids: Sequence[str]) -> dict[str, LineRecord]:
        found = self._get("/lines", [("id", i) for i in product_order_ids])
        return {i: _line(raw, i) for i, raw in found.items()}

    def dispatch(self, items: Iterable[DispatchItem | tuple[str, str, str, datetime]], *,
                 checked: bool = False) -> WriteResult:
        sent = [DispatchItem(*it) for it in items]
        reply = self._http.post("/dispatch", json=[{"id": it.product_order_id, "courier": it.courier_code,
                                                    "tracking": it.tracking_number} for it in sent])
        reply.raise_for_status()
        answers = reply.json()
        results = {}
        for it in sent:
            ok = answers.get(it.product_order_id) == "ok"
            results[it.product_order_id] = ItemResult(it.product_order_id, ok, code="" if ok else "unknown_line")
        return WriteResult(results)


def _build(settings: AccountSettings) -> TinyClient:
    return TinyClient(str(settings.options.get("base_url") or "http://127.0.0.1:9"), settings.secret)


MARKET = Market(
    KIND, "작은 마켓 / Tiny Market",
    frozenset({Capability.COLLECT, Capability.DISPATCH, Capability.LOOK_UP, Capability.CONNECTION_TEST}),
    _build,
    fields=(FieldSpec("external_id", "상점 ID / Shop ID"),
            FieldSpec("secret", "API 키 / API key", secret=True),
            FieldSpec("base_url", "API 주소 / API address", pattern=r"https?://\S+")),
    default_address="http://127.0.0.1:9", can_confirm=False)


@contextmanager
def registered() -> Iterator[Market]:
    """The tiny market known to PackDesk for the time of a test."""
    registry.register(MARKET)
    try:
        yield MARKET
    finally:
        registry.unregister(KIND)
