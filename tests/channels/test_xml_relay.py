"""The two ways a desktop publishes Sabangnet request XMLs (``channels/xml_relay.py``): its own small HTTP
host (``LocalXmlHost``) and an HTTP PUT to the owner's web space (``PutRelay``), each over real sockets on
127.0.0.1; the PUT relay also end to end with the fake Sabangnet, which fetches from it."""

from __future__ import annotations

import logging
import re
import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from packdesk.channels.http import RateLimiters
from packdesk.channels.sabangnet import SabangnetChannel
from packdesk.channels.xml_relay import XML_CONTENT_TYPE, LocalXmlHost, PutRelay, XmlPublisher, XmlRelayError
from tests.fakes.sabangnet import FakeSabangnet

XML = '<?xml version="1.0" encoding="EUC-KR"?>\n<X><SEND_AUTH_KEY>S3cr3tKey</SEND_AUTH_KEY><N>똠방</N></X>'.encode(
    "cp949")
TOKEN = r"[A-Za-z0-9_-]{43}"


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=5.0) as client:
        yield client


# --- LocalXmlHost -----------------------------------------------------------------------------------------
def test_serves_while_published_and_404_after(http: httpx.Client) -> None:
    with LocalXmlHost("127.0.0.1", 0, "") as host:
        with host.publish(XML) as url:
            assert re.fullmatch(rf"http://127\.0\.0\.1:{host.port}/sabangnet/{TOKEN}\.xml", url)
            assert host.fetched(url) is False
            head = http.head(url)
            assert head.status_code == 200 and head.content == b"" and host.fetched(url) is False
            r = http.get(url)
            assert r.status_code == 200 and r.content == XML
            assert r.headers["content-type"] == "application/xml; charset=EUC-KR" == XML_CONTENT_TYPE
            assert r.headers["cache-control"] == "no-store"
            assert host.fetched(url) is True
            assert http.get(url + "?x=1").status_code == 200           # a query does not matter
        assert http.get(url).status_code == 404
        assert host.fetched(url) is None


def test_anything_else_is_404(http: httpx.Client) -> None:
    with LocalXmlHost("127.0.0.1", 0, "") as host, host.publish(XML) as url:
        token = re.search(rf"/({TOKEN})\.xml$", url).group(1)  # type: ignore[union-attr]
        base = url.split("/sabangnet/")[0]
        wrong = "B" if token[-1] == "A" else "A"
        for path in (f"/sabangnet/{token[:-1]}{wrong}.xml", f"/sabangnet/{token}", f"/other/{token}.xml",
                     f"/sabangnet/{token}.xml.bak", "/", "/sabangnet/"):
            assert http.get(base + path).status_code == 404, path
        assert http.post(url, content=b"x").status_code == 501      # only GET and HEAD
        assert host.fetched(base + "/nothing") is None


def test_tokens_are_unguessable_and_the_public_base_is_used() -> None:
    with LocalXmlHost("127.0.0.1", 0, "http://203.0.113.7:18080/") as host:
        urls = []
        for _ in range(50):
            with host.publish(XML) as url:
                urls.append(url)
    assert len(set(urls)) == 50
    assert all(re.fullmatch(rf"http://203\.0\.113\.7:18080/sabangnet/{TOKEN}\.xml", u) for u in urls)


def test_ttl_ends_serving_inside_the_context(http: httpx.Client) -> None:
    clock = Clock()
    with LocalXmlHost("127.0.0.1", 0, "", ttl_s=5, clock=clock) as host, host.publish(XML) as url:
        clock.now += 4.9
        assert http.get(url).status_code == 200
        clock.now += 0.2
        assert http.get(url).status_code == 404
        with host.publish(b"<second/>") as second:               # publishing again purges the stale one
            assert http.get(second).content == b"<second/>"
            assert len(host._docs) == 1


def test_starts_lazily_closes_cleanly_and_joins_its_threads(http: httpx.Client) -> None:
    before = threading.active_count()
    host = LocalXmlHost("127.0.0.1", 0, "")
    assert not host.running
    with host.publish(XML) as url:
        assert host.running and http.get(url).status_code == 200
        # a client that connects and never sends a byte must not hold close() up
        idle = socket.create_connection(("127.0.0.1", host.port))
        host.close()
        idle.close()
    assert not host.running and threading.active_count() == before
    with pytest.raises(httpx.ConnectError):
        http.get(url)
    host.close()                                                  # twice is fine


def test_a_connection_flood_is_capped(http: httpx.Client) -> None:
    with LocalXmlHost("127.0.0.1", 0, "", max_connections=2) as host, host.publish(XML) as url:
        idle = [socket.create_connection(("127.0.0.1", host.port)) for _ in range(2)]
        try:
            deadline = time.monotonic() + 5
            while len(host._server._conns) < 2 and time.monotonic() < deadline:  # type: ignore[union-attr]
                time.sleep(0.01)
            with pytest.raises(httpx.TransportError):
                http.get(url)                                     # closed unanswered
        finally:
            for sock in idle:
                sock.close()
        deadline = time.monotonic() + 5
        while host._server._conns and time.monotonic() < deadline:  # type: ignore[union-attr]
            time.sleep(0.01)
        assert http.get(url).status_code == 200


def test_bind_failures_and_missing_public_url_are_relay_errors() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        host = LocalXmlHost("127.0.0.1", taken.getsockname()[1], "http://example.com:1")
        with pytest.raises(XmlRelayError) as ei:
            host.start()
        assert ei.value.params["reason"] == "xml_host_bind" and not host.running
    everywhere = LocalXmlHost("0.0.0.0", 0, "")
    try:
        with pytest.raises(XmlRelayError) as ei, everywhere.publish(XML):
            pass
        assert ei.value.params["reason"] == "xml_host_public_url"
    finally:
        everywhere.close()
    with pytest.raises(ValueError):
        LocalXmlHost("127.0.0.1", 0, "ftp://example.com")
    with pytest.raises(ValueError):
        LocalXmlHost("127.0.0.1", 0, "", ttl_s=0)


def test_logs_hold_neither_xml_nor_token(http: httpx.Client, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="packdesk")
    with LocalXmlHost("127.0.0.1", 0, "") as host, host.publish(XML) as url:
        http.get(url)
        http.get(url + "x")
        with socket.create_connection(("127.0.0.1", host.port)) as raw:
            raw.sendall(b"NONSENSE " + urlsplit(url).path.encode() + b" HTTP/9.9\r\n\r\n")
            raw.recv(1000)
    token = urlsplit(url).path.split("/")[-1][:-4]
    text = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("packdesk"))
    assert "xml host" in text and token not in text and "S3cr3tKey" not in text and "똠방" not in text


def test_is_an_xml_publisher() -> None:
    host: XmlPublisher = LocalXmlHost("127.0.0.1", 0, "")
    relay: XmlPublisher = PutRelay("http://h/{name}", "http://h/{name}")
    assert callable(host.publish) and callable(relay.publish)
    relay.close()  # type: ignore[attr-defined]


# --- PutRelay ---------------------------------------------------------------------------------------------
class WebSpace:
    """A tiny WebDAV-ish space: PUT stores, GET serves, DELETE removes; can refuse PUT or DELETE."""

    def __init__(self) -> None:
        self.files: dict[str, tuple[bytes, str]] = {}
        self.log: list[tuple[str, str, str]] = []      # (method, path, Authorization)
        self.put_status = 201
        self.delete_status = 204
        space = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"

            def _key(self) -> str:
                parts = urlsplit(self.path)
                return parts.path + ("?" + parts.query if parts.query else "")

            def do_PUT(self) -> None:
                space.log.append(("PUT", self._key(), self.headers.get("Authorization", "")))
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if space.put_status < 300:
                    space.files[urlsplit(self.path).path] = (body, self.headers.get("Content-Type", ""))
                self.send_response(space.put_status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_GET(self) -> None:
                space.log.append(("GET", self._key(), ""))
                parts = urlsplit(self.path)
                name = re.search(r"name=([^&]+)", parts.query)
                path = f"/dav/{name.group(1)}.xml" if parts.path == "/public" and name else parts.path
                if path not in space.files:
                    self.send_error(404)
                    return
                body, ctype = space.files[path]
                self.send_response(200)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_DELETE(self) -> None:
                space.log.append(("DELETE", self._key(), self.headers.get("Authorization", "")))
                if space.delete_status < 300:
                    space.files.pop(urlsplit(self.path).path, None)
                self.send_response(space.delete_status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                pass

        class Server(ThreadingHTTPServer):
            daemon_threads = False
            block_on_close = True

            def handle_error(self, request: Any, client_address: Any) -> None:
                pass

        self.server = Server(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.01})
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


@pytest.fixture
def space() -> Iterator[WebSpace]:
    s = WebSpace()
    try:
        yield s
    finally:
        s.close()


@pytest.fixture
def relay(space: WebSpace) -> Iterator[PutRelay]:
    with PutRelay(space.base + "/dav/{name}.xml", space.base + "/dav/{name}.xml",
                  headers={"Authorization": "Bearer relay-secret"}) as r:
        yield r


def test_put_relay_uploads_serves_and_deletes(space: WebSpace, relay: PutRelay, http: httpx.Client) -> None:
    with relay.publish(XML) as url:
        assert re.fullmatch(rf"{space.base}/dav/{TOKEN}\.xml", url)
        r = http.get(url)
        assert r.status_code == 200 and r.content == XML
        assert r.headers["content-type"] == XML_CONTENT_TYPE
    assert http.get(url).status_code == 404 and space.files == {}
    path = urlsplit(url).path
    assert [(m, p) for m, p, _ in space.log] == [("PUT", path), ("GET", path), ("DELETE", path), ("GET", path)]
    assert all(auth == "Bearer relay-secret" for m, _, auth in space.log if m != "GET")
    with relay.publish(XML) as again:
        assert again != url


def test_put_relay_deletes_even_when_the_call_fails(space: WebSpace, relay: PutRelay) -> None:
    with pytest.raises(RuntimeError), relay.publish(XML):
        raise RuntimeError("Sabangnet call failed")
    assert space.files == {} and [m for m, _, _ in space.log] == ["PUT", "DELETE"]


def test_put_relay_refusals_are_relay_errors(space: WebSpace, relay: PutRelay,
                                             expect_warnings: pytest.LogCaptureFixture) -> None:
    space.put_status = 403
    with pytest.raises(XmlRelayError) as ei, relay.publish(XML):
        pass
    assert (ei.value.params["reason"], ei.value.params["status"]) == ("xml_relay_refused", 403)
    assert "relay-secret" not in f"{ei.value} {ei.value.detail}"
    space.put_status, space.delete_status = 201, 500
    with relay.publish(XML) as url:
        pass
    assert len(space.files) == 1                                  # left behind: said so in the log
    (warning,) = [r for r in expect_warnings.records if r.levelno >= logging.WARNING]
    name = urlsplit(url).path.split("/")[-1][:-4]
    assert "HTTP 500" in warning.getMessage() and name not in warning.getMessage()


def test_put_relay_unreachable(expect_warnings: pytest.LogCaptureFixture) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]                                 # closed again: nothing listens there
    relay = PutRelay(f"http://127.0.0.1:{port}/{{name}}", f"http://127.0.0.1:{port}/{{name}}", timeout=2.0)
    with relay, pytest.raises(XmlRelayError) as ei, relay.publish(XML):
        pass
    assert ei.value.params["reason"] == "xml_relay_unreachable"
    assert [r.levelno for r in expect_warnings.records if r.name.startswith("packdesk")] == [logging.WARNING]
    with pytest.raises(ValueError):
        PutRelay("http://h/fixed.xml", "http://h/{name}")
    with pytest.raises(ValueError):
        PutRelay("file:///{name}", "http://h/{name}")


def test_put_relay_end_to_end_with_a_query_string_url(space: WebSpace) -> None:
    """A read URL with its own query (``?name=…&ext=.xml``, like presigned or script URLs) only survives if
    the channel URL-encodes it into ``xml_url`` (A.1)."""
    relay = PutRelay(space.base + "/dav/{name}.xml", space.base + "/public?name={name}&ext=.xml")
    with FakeSabangnet() as fake, relay, SabangnetChannel(fake.company_id, fake.auth_key, api_url=fake.base_url,
                                                          publisher=relay, limiters=RateLimiters(),
                                                          sleep=lambda s: None) as ch:
        fake.add_order(RECEIVE_NAME="김똠뷁")
        ch.test_connection()
        now = datetime.now(UTC)
        (order,) = ch.collect(now - timedelta(days=1), now + timedelta(seconds=1))
        assert order.recipient_name == "김똠뷁"
        urls = [rec.xml_url for rec in fake.requests]
        assert all(u and "&ext=.xml" in u and rec.fetch_status == 200 for u, rec in zip(urls, fake.requests,
                                                                                        strict=True))
    assert space.files == {}                                      # both deleted
    assert [m for m, _, _ in space.log] == ["PUT", "GET", "DELETE"] * 2
