"""A fake RealPacking program in web-reception mode: real HTTP on 127.0.0.1, any path, answers "OK".

It accepts whatever request arrives (the real contract is unknown), records it, and can be told to
fail, to answer late, or to stop listening, so the driver is tested over a real socket.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from urllib.parse import parse_qsl, unquote_to_bytes, urlsplit


@dataclass(frozen=True)
class Received:
    method: str
    target: str                    # the raw request target, still percent-encoded
    path: str                      # decoded with the fake's charset
    query: dict[str, str]          # decoded with the fake's charset
    body: bytes
    headers: dict[str, str]
    at: float                      # time.monotonic() on arrival

    def form(self, charset: str = "utf-8") -> dict[str, str]:
        return dict(parse_qsl(self.body.decode("ascii"), keep_blank_values=True, encoding=charset))

    def text(self, charset: str = "utf-8") -> str:
        return self.body.decode(charset)


class _Server(ThreadingHTTPServer):
    # Join handler threads on close (no thread outlives the fake); delays wake on the fake's stop event.
    daemon_threads = False
    block_on_close = True

    def __init__(self, fake: FakeRealPacking, port: int) -> None:
        self.fake = fake
        super().__init__(("127.0.0.1", port), _Handler)

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a client that gave up (timeout) and closed its socket is expected here, not a failure


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def _serve(self) -> None:
        fake = self.server.fake
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        parts = urlsplit(self.path)
        got = Received(self.command, self.path, unquote_to_bytes(parts.path).decode(fake.charset, "replace"),
                       dict(parse_qsl(parts.query, keep_blank_values=True, encoding=fake.charset)), body,
                       {k.lower(): v for k, v in self.headers.items()}, time.monotonic())
        status, delay, answer = fake._next_answer(got)
        if delay and fake._stopping.wait(delay):
            return  # shutting down: give up the answer rather than hold up close()
        data = answer.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = _serve

    def log_message(self, format: str, *args: object) -> None:
        pass


class FakeRealPacking:
    """Context manager; ``url``/``port`` are where it listens. Knobs: ``fail_next``, ``delay_next``,
    ``go_down``/``come_up``. ``received`` lists every request in arrival order."""

    def __init__(self, charset: str = "utf-8") -> None:
        self.charset = charset
        self.port = 0
        self._lock = threading.Lock()
        self._received: list[Received] = []
        self._failures: list[tuple[int, str]] = []
        self._delays: list[float] = []
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def __enter__(self) -> FakeRealPacking:
        self.come_up()
        return self

    def __exit__(self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None) -> None:
        self.go_down()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def received(self) -> list[Received]:
        with self._lock:
            return list(self._received)

    def paths(self) -> list[str]:
        return [r.path for r in self.received]

    def fail_next(self, count: int = 1, status: int = 500, body: str = "error") -> None:
        """The next ``count`` requests get ``status`` with ``body``."""
        with self._lock:
            self._failures += [(status, body)] * count

    def delay_next(self, seconds: float, count: int = 1) -> None:
        """The next ``count`` requests are answered ``seconds`` late (cut short when the fake stops)."""
        with self._lock:
            self._delays += [seconds] * count

    def come_up(self) -> None:
        """Listen (again, on the same port once one was chosen), like the program being started."""
        assert self._server is None, "already listening"
        self._stopping.clear()
        self._server = _Server(self, self.port)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="fake-realpacking", daemon=True)
        self._thread.start()

    def go_down(self) -> None:
        """Stop listening (nothing on the port any more), like the program being closed."""
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return
        self._stopping.set()
        server.shutdown()
        server.server_close()  # joins the handler threads
        thread.join()
        self._server = self._thread = None

    def _next_answer(self, got: Received) -> tuple[int, float, str]:
        with self._lock:
            self._received.append(got)
            status, body = self._failures.pop(0) if self._failures else (200, "OK")
            delay = self._delays.pop(0) if self._delays else 0.0
        return status, delay, body
