"""Getting a request XML to Sabangnet from a desktop: the legacy RTL_API does not take a request body, it
fetches the request XML from a URL the caller gives (``xml_url``,
docs/marketplaces/sabangnet.md A.1/A.5). A packing-station PC sits behind NAT, so "publish" means one of:

- ``LocalXmlHost``: PackDesk serves the XML itself on a port the owner forwards on the router (or a PC with
  a public IP). ``public_base_url`` is how Sabangnet reaches that port (e.g. ``http://203.0.113.7:18080``).
  Plain HTTP: the XML holds the account's auth key, so the URL is an unguessable token (256 bits), lives
  only for the call (at most ``ttl_s``) and is gone (404) as soon as the call returns.
- ``PutRelay``: the owner's own web space (WebDAV folder, object storage bucket with public read) takes the
  XML by HTTP PUT under a random name, Sabangnet reads it there, and it is deleted right after the call.
  Prefer an HTTPS space: the key then never crosses the internet in clear text (spec A.5 option 1).

Either way ``publish(xml)`` is a context manager yielding the public URL; the XML stops being served when
the context exits. Neither logs the XML, the token or the relay's credentials.

A publisher that can tell whether anyone fetched a published URL offers ``fetched(url) -> bool | None``
(``LocalXmlHost`` does): a call whose XML was never fetched cannot have been applied by Sabangnet, so the
channel can retry it without first reading back what happened.
"""

from __future__ import annotations

import contextlib
import logging
import re
import secrets
import socket
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import urlsplit

import httpx

from packdesk.channels.base import ChannelTransientError, Closing

log = logging.getLogger("packdesk.channels.xml_relay")

XML_CONTENT_TYPE = "application/xml; charset=EUC-KR"
PATH_PREFIX = "/sabangnet/"
_TOKEN_PATH = re.compile(r"^/sabangnet/([A-Za-z0-9_-]{32,128})\.xml$")


class XmlRelayError(ChannelTransientError):
    """The request XML could not be published (port taken, relay refused or unreachable). Nothing reached
    Sabangnet, so whatever was to be sent may be sent again later; ``reason`` and ``message`` say what to fix."""


class XmlPublisher(Protocol):
    def publish(self, xml: bytes) -> AbstractContextManager[str]:
        """Make ``xml`` readable at a public URL for the duration of the context; yields that URL."""
        ...


def new_token() -> str:
    """256 random bits, URL-safe (43 characters)."""
    return secrets.token_urlsafe(32)


# --- LocalXmlHost -------------------------------------------------------------------------------------------
@dataclass
class _Doc:
    body: bytes
    expires_at: float
    fetches: int = 0


class _Server(ThreadingHTTPServer):
    daemon_threads = False   # handler threads are joined by server_close()
    block_on_close = True

    def __init__(self, host: LocalXmlHost, address: tuple[str, int]) -> None:
        self.host = host
        self._conns: set[socket.socket] = set()
        self._conns_lock = threading.Lock()
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._conns_lock:
            busy = len(self._conns) >= self.host.max_connections
            if not busy:
                self._conns.add(request)
        if busy:  # the port faces the internet: a flood gets closed sockets, not a thread each
            log.debug("xml host: too many connections, dropping one from %s", client_address[0])
            self.shutdown_request(request)
            return
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._conns_lock:
            self._conns.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        with self._conns_lock:
            conns = list(self._conns)
        for sock in conns:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.debug("xml host: a connection from %s failed", client_address[0] if client_address else "?",
                  exc_info=True)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.0"   # one request per connection: nothing idles, close() joins quickly
    timeout = 10                    # a client that connects and says nothing is dropped after this
    server_version = "PackDesk"
    sys_version = ""

    def do_GET(self) -> None:
        self._serve(with_body=True)

    def do_HEAD(self) -> None:
        self._serve(with_body=False)

    def _serve(self, *, with_body: bool) -> None:
        body = self.server.host._take(urlsplit(self.path).path, count=with_body)
        if body is None:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", XML_CONTENT_TYPE)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        if with_body:
            self.wfile.write(body)

    # the request line holds the token: never log it
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        log.debug("xml host: %s -> %s for %s", self.command, code, self.client_address[0])

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("xml host: %s", format.split("%", 1)[0].strip() or "message")


class LocalXmlHost:
    """Serves published request XMLs at ``GET /sabangnet/<token>.xml`` on ``bind_host:port``.

    ``public_base_url`` is what Sabangnet can reach (the router's forwarded port, from the account
    settings); empty means ``http://<bind_host>:<port>`` (only useful on 127.0.0.1, i.e. in tests: the real
    Sabangnet cannot reach a private or loopback address, spec A.1). ``port`` 0 takes a free port
    (``.port`` tells which, after ``start``). A document is served only while its ``publish`` context is
    open and for at most ``ttl_s`` seconds; anything else is 404. The server starts on the first
    ``publish`` if ``start`` was not called; ``close`` stops it and joins its threads. At most
    ``max_connections`` connections are served at once (others are closed unanswered). One host may serve
    several accounts: channels do not close it."""

    def __init__(self, bind_host: str, port: int, public_base_url: str, ttl_s: float = 600, *,
                 clock: Callable[[], float] = time.monotonic, max_connections: int = 16) -> None:
        if ttl_s <= 0 or max_connections < 1:
            raise ValueError("ttl_s and max_connections must be positive")
        self.max_connections = max_connections
        self.bind_host = bind_host
        self._port = port
        self._public = public_base_url.strip().rstrip("/")
        if self._public and urlsplit(self._public).scheme not in ("http", "https"):
            raise ValueError("public_base_url must be an http(s) URL")
        self.ttl_s = float(ttl_s)
        self._clock = clock
        self._lock = threading.Lock()
        self._docs: dict[str, _Doc] = {}
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def __repr__(self) -> str:
        return f"LocalXmlHost({self.bind_host!r}, {self._port}, public={self._public!r})"

    @property
    def port(self) -> int:
        return self._port

    @property
    def running(self) -> bool:
        return self._server is not None

    @property
    def public_base_url(self) -> str:
        if self._public:
            return self._public
        if self.bind_host in ("", "0.0.0.0", "::"):
            raise XmlRelayError(reason="xml_host_public_url",
                                detail="LocalXmlHost bound to all interfaces needs a public_base_url")
        host = f"[{self.bind_host}]" if ":" in self.bind_host else self.bind_host
        return f"http://{host}:{self._port}"

    def start(self) -> None:
        """Bind and serve. Raises ``XmlRelayError`` when the port cannot be bound."""
        with self._lock:
            if self._server is not None:
                return
            try:
                server = _Server(self, (self.bind_host, self._port))
            except OSError as exc:
                raise XmlRelayError(reason="xml_host_bind", port=self._port,
                                    detail=f"cannot listen on {self.bind_host}:{self._port}: {exc}") from None
            self._port = server.server_address[1]
            self._server = server
            self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                                            name="packdesk-xml-host", daemon=True)
            self._thread.start()
        log.info("xml host listening on %s:%d", self.bind_host, self._port)

    def close(self) -> None:
        """Stop serving, cut open connections, join every thread, forget every document."""
        with self._lock:
            server, thread = self._server, self._thread
            self._server = self._thread = None
            self._docs.clear()
        if server is None:
            return
        server.shutdown()
        server.close_connections()
        server.server_close()    # joins the handler threads
        if thread is not None:
            thread.join()

    def __enter__(self) -> LocalXmlHost:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextlib.contextmanager
    def publish(self, xml: bytes) -> Iterator[str]:
        if not isinstance(xml, bytes | bytearray):
            raise TypeError("publish takes the encoded XML (bytes)")
        self.start()
        base = self.public_base_url
        token = new_token()
        with self._lock:
            now = self._clock()
            for stale in [t for t, d in self._docs.items() if d.expires_at <= now]:
                del self._docs[stale]
            self._docs[token] = _Doc(bytes(xml), now + self.ttl_s)
        try:
            yield f"{base}{PATH_PREFIX}{token}.xml"
        finally:
            with self._lock:
                self._docs.pop(token, None)

    def fetched(self, url: str) -> bool | None:
        """Whether the document published at ``url`` was fetched (GET) so far; None if it is not published
        here (any more)."""
        match = _TOKEN_PATH.match(urlsplit(url).path)
        if match is None:
            return None
        with self._lock:
            doc = self._docs.get(match.group(1))
            return None if doc is None else doc.fetches > 0

    def _take(self, path: str, *, count: bool) -> bytes | None:
        match = _TOKEN_PATH.match(path)
        if match is None:
            return None
        with self._lock:
            doc = self._docs.get(match.group(1))
            if doc is None or doc.expires_at <= self._clock():
                return None
            if count:
                doc.fetches += 1
            return doc.body


# --- PutRelay -----------------------------------------------------------------------------------------------
class PutRelay(Closing):
    """Publishes by HTTP PUT to the owner's web space: ``put_url_template.format(name=...)`` takes the XML,
    ``get_url_template.format(name=...)`` is where Sabangnet reads it (a public read URL; it may carry a
    query, the channel URL-encodes it), and the file is deleted (HTTP DELETE on the PUT URL, best effort)
    when the context exits. ``name`` is 43 random URL-safe characters; give the extension in the templates
    (``https://dav.example.com/packdesk/{name}.xml``). ``headers``/``auth`` authenticate the PUT and DELETE
    (never logged)."""

    def __init__(self, put_url_template: str, get_url_template: str, *,
                 headers: Mapping[str, str] | None = None, auth: httpx.Auth | tuple[str, str] | None = None,
                 timeout: httpx.Timeout | float = 15.0, transport: httpx.BaseTransport | None = None) -> None:
        for template in (put_url_template, get_url_template):
            if "{name}" not in template:
                raise ValueError("URL templates need a {name} placeholder")
            if urlsplit(template.replace("{name}", "x")).scheme not in ("http", "https"):
                raise ValueError("URL templates must be http(s) URLs")
        self.put_url_template = put_url_template
        self.get_url_template = get_url_template
        self._client = httpx.Client(timeout=timeout, headers=dict(headers or {}), auth=auth, transport=transport,
                                    follow_redirects=False)

    def __repr__(self) -> str:
        return f"PutRelay(get={urlsplit(self.get_url_template).netloc!r})"

    def close(self) -> None:
        self._client.close()

    @contextlib.contextmanager
    def publish(self, xml: bytes) -> Iterator[str]:
        if not isinstance(xml, bytes | bytearray):
            raise TypeError("publish takes the encoded XML (bytes)")
        name = new_token()
        put_url = self.put_url_template.format(name=name)
        try:
            response = self._client.put(put_url, content=bytes(xml), headers={"Content-Type": XML_CONTENT_TYPE})
        except httpx.HTTPError as exc:
            self._delete(put_url, name)   # a PUT that timed out may have been stored
            raise XmlRelayError(reason="xml_relay_unreachable", message=type(exc).__name__,
                                detail=f"PUT to the XML relay {urlsplit(put_url).netloc} failed: "
                                       f"{type(exc).__name__}") from None
        if not response.is_success:
            raise XmlRelayError(reason="xml_relay_refused", status=response.status_code,
                                message=f"HTTP {response.status_code}",
                                detail=f"the XML relay {urlsplit(put_url).netloc} refused the PUT: "
                                       f"HTTP {response.status_code}")
        try:
            yield self.get_url_template.format(name=name)
        finally:
            self._delete(put_url, name)

    def _delete(self, put_url: str, name: str) -> None:
        try:
            response = self._client.delete(put_url)
        except httpx.HTTPError as exc:
            log.warning("xml relay: could not delete the request XML %s… (%s); delete it on the relay",
                        name[:6], type(exc).__name__)
            return
        if not response.is_success and response.status_code != 404:
            log.warning("xml relay: could not delete the request XML %s… (HTTP %d); delete it on the relay",
                        name[:6], response.status_code)


# ---------------------------------------------------------------- the app's hosts, one per port
# The built-in host listens on a port the owner forwards to this PC; collection and the dispatch uploader of
# every Sabangnet account share it, so it is made once per port and closed when the app stops. A PUT relay
# (the owner's web space) needs no listening port and is made per channel.

_hosts_lock = threading.Lock()
_hosts: dict[int, LocalXmlHost] = {}


def publisher_for(options: Mapping[str, Any]) -> XmlPublisher:
    """The publisher an account's options ask for: ``relay_put_url`` + ``relay_get_url`` (the owner's web
    space), else the built-in host on ``relay_port`` reachable at ``relay_public_url``."""
    if options.get("relay_put_url") and options.get("relay_get_url"):
        return PutRelay(str(options["relay_put_url"]), str(options["relay_get_url"]))
    port = int(options.get("relay_port") or 0)
    with _hosts_lock:
        host = _hosts.get(port) if port else None
        if host is None:
            host = LocalXmlHost(str(options.get("relay_bind") or "0.0.0.0"), port,
                                str(options.get("relay_public_url") or ""))
            host.start()
            _hosts[host.port] = host
        return host


def close_all() -> None:
    """Stop the app's hosts (at exit, after the jobs that use them stopped)."""
    with _hosts_lock:
        hosts = list(_hosts.values())
        _hosts.clear()
    for host in hosts:
        host.close()
