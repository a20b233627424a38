"""channels/http.py: the token bucket, backoff, Retry-After and the mapping of failures to typed errors, over
real HTTP against a tiny scripted server (http.py is generic, so no marketplace fake is needed). Backoff
sleeps go to an injected clock: nothing here waits except the read-timeout cases (a fraction of a second)."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from packdesk.channels.base import (
    ChannelAuthError,
    ChannelError,
    ChannelRateLimited,
    ChannelRejected,
    ChannelTransientError,
)
from packdesk.channels.http import (
    ApiProblem,
    ChannelBadReply,
    HttpClient,
    RateLimiters,
    RetryPolicy,
    TokenBucket,
    json_body,
    read_problem,
    retry_after_seconds,
)


# --- helpers --------------------------------------------------------------------------------------------
class Clock:
    """Monotonic time that moves only when someone sleeps; records every sleep."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@dataclass
class Reply:
    status: int = 200
    body: Any = field(default_factory=lambda: {"ok": True})  # dict/list -> JSON, str/bytes as is
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0   # answer this late (for read timeouts)
    drop: bool = False   # close the connection without a byte


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


class ScriptedServer:
    """Answers requests with the scripted replies in order; after the script, 200 ``{"ok": true}``."""

    def __init__(self) -> None:
        self.script: list[Reply] = []
        self.seen: list[Seen] = []
        self.stopping = threading.Event()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                outer.seen.append(Seen(self.command, self.path, {k.lower(): v for k, v in self.headers.items()},
                                       body))
                reply = outer.script.pop(0) if outer.script else Reply()
                if reply.delay and outer.stopping.wait(reply.delay):
                    return
                if reply.drop:
                    self.close_connection = True
                    return
                raw = reply.body if isinstance(reply.body, bytes) else (
                    reply.body.encode() if isinstance(reply.body, str) else json.dumps(reply.body).encode())
                self.send_response(reply.status)
                for k, v in reply.headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            do_GET = do_POST = _serve

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/api"

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.stopping.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join()


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    s = ScriptedServer()
    s.start()
    yield s
    s.stop()


@pytest.fixture
def clock() -> Clock:
    return Clock()


def make_client(server: ScriptedServer, clock: Clock, **kw: Any) -> HttpClient:
    opts: dict[str, Any] = {"retry": RetryPolicy(attempts=4, base_delay=0.5, max_delay=8.0), "rate": 100.0,
                            "burst": 100.0, "limiters": RateLimiters(), "sleep": clock.sleep, "clock": clock,
                            "wall": lambda: 1_800_000_000.0, "rng": lambda: 1.0, "timeout": 2.0}
    opts.update(kw)
    return HttpClient(server.url, **opts)


# --- token bucket ---------------------------------------------------------------------------------------
def test_bucket_lets_a_burst_through_then_spaces_requests_at_the_rate() -> None:
    b = TokenBucket(rate=2, burst=4)
    assert [b.reserve(0.0) for _ in range(6)] == [0, 0, 0, 0, 0.5, 1.0]


def test_bucket_refills_with_time_but_never_above_burst() -> None:
    b = TokenBucket(rate=2, burst=4)
    for _ in range(4):
        b.reserve(0.0)
    assert b.reserve(1.0) == 0 and b.reserve(1.0) == 0 and b.reserve(1.0) == 0.5
    b2 = TokenBucket(rate=2, burst=4)
    b2.reserve(0.0)
    assert [b2.reserve(1000.0) for _ in range(5)] == [0, 0, 0, 0, 0.5]


def test_drain_after_a_429_makes_the_next_request_wait() -> None:
    b = TokenBucket(rate=2, burst=4)
    b.drain(0.0)
    assert b.reserve(0.0) == 0.5


def test_configure_adopts_the_servers_numbers() -> None:
    b = TokenBucket(rate=2, burst=4)
    b.configure(10, 1)
    assert (b.rate, b.burst) == (10, 1)
    assert b.reserve(0.0) == 0 and b.reserve(0.0) == pytest.approx(0.1)
    b.configure(0, 0)  # nonsense is ignored
    assert (b.rate, b.burst) == (10, 1)
    with pytest.raises(ValueError):
        TokenBucket(0, 1)


def test_bucket_is_thread_safe_every_thread_gets_its_own_slot() -> None:
    b = TokenBucket(rate=10, burst=5)
    waits: list[float] = []
    lock = threading.Lock()
    start = threading.Barrier(50)

    def take() -> None:
        start.wait()
        w = b.reserve(0.0)
        with lock:
            waits.append(w)

    threads = [threading.Thread(target=take) for _ in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(waits) == pytest.approx([0.0] * 5 + [0.1 * k for k in range(1, 46)])


def test_limiters_share_one_bucket_per_key() -> None:
    reg = RateLimiters()
    assert reg.bucket("a.example", 2, 4) is reg.bucket("a.example", 9, 9)
    assert reg.bucket("a.example", 2, 4) is not reg.bucket("b.example", 2, 4)


def test_two_clients_of_one_host_share_its_limit(server: ScriptedServer, clock: Clock) -> None:
    reg = RateLimiters()
    with make_client(server, clock, rate=1.0, burst=2.0, limiters=reg) as a, \
            make_client(server, clock, rate=1.0, burst=2.0, limiters=reg) as b:
        for client in (a, b, a, b):
            client.request("GET", "/x")
    assert clock.sleeps == [1.0, 1.0]


def test_apis_metered_on_their_own_each_have_a_bucket(server: ScriptedServer, clock: Clock) -> None:
    """Naver meters per (API, application): alternating two APIs is not throttled like one API."""
    reg = RateLimiters()
    with make_client(server, clock, rate=1.0, burst=2.0, limiters=reg) as c:
        for api in ("read", "write", "read", "write"):
            c.request("GET", "/x", api=api)
        assert clock.sleeps == []            # two full buckets: two calls each without waiting
        c.request("GET", "/x", api="read")   # the third call of one API waits for its own token
        assert clock.sleeps == [1.0]
        c.request("GET", "/x")               # the client-wide bucket is another one, still full
        assert clock.sleeps == [1.0]


# --- backoff and Retry-After ----------------------------------------------------------------------------
def test_full_jitter_backoff_is_bounded_by_the_exponential_cap() -> None:
    p = RetryPolicy(base_delay=0.5, max_delay=8.0)
    assert [p.backoff(n, lambda: 1.0) for n in range(1, 7)] == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0]
    assert p.backoff(5, lambda: 0.0) == 0.0
    assert p.backoff(3, lambda: 0.25) == 0.5


def test_retry_after_reads_seconds_and_http_dates() -> None:
    def resp(value: str | None) -> httpx.Response:
        return httpx.Response(429, headers={} if value is None else {"Retry-After": value})

    wall = datetime(2026, 11, 24, 1, 0, 0, tzinfo=UTC).timestamp()
    assert retry_after_seconds(resp("7"), lambda: wall) == 7.0
    later = format_datetime(datetime(2026, 11, 24, 1, 0, 30, tzinfo=UTC), usegmt=True)
    assert retry_after_seconds(resp(later), lambda: wall) == 30.0
    assert retry_after_seconds(resp("soon"), lambda: wall) is None
    assert retry_after_seconds(resp(None), lambda: wall) is None
    assert retry_after_seconds(resp("-5"), lambda: wall) == 0.0


# --- retries over HTTP ----------------------------------------------------------------------------------
def test_5xx_is_retried_with_backoff_then_succeeds(server: ScriptedServer, clock: Clock) -> None:
    server.script = [Reply(503), Reply(500), Reply(200, {"n": 1})]
    with make_client(server, clock) as c:
        assert c.request("GET", "/orders", params={"a": "b"}).json() == {"n": 1}
    assert [s.path for s in server.seen] == ["/api/orders?a=b"] * 3
    assert clock.sleeps == [0.5, 1.0]


def test_persistent_5xx_becomes_a_transient_error_after_the_last_attempt(server: ScriptedServer,
                                                                         clock: Clock) -> None:
    server.script = [Reply(502, "<html>Bad Gateway</html>")] * 4
    with make_client(server, clock) as c, pytest.raises(ChannelTransientError) as ei:
        c.request("GET", "/orders")
    assert len(server.seen) == 4 and clock.sleeps == [0.5, 1.0, 2.0]
    e = ei.value
    assert e.code == "channel_transient" and e.params["status"] == 502 and "message" not in e.params
    assert "GET /orders -> HTTP 502" in e.detail and "Bad Gateway" in e.detail and "4/4" in e.detail


def test_429_honours_retry_after_then_succeeds(server: ScriptedServer, clock: Clock) -> None:
    server.script = [Reply(429, {"code": "RATE", "message": "slow down"}, {"Retry-After": "3"}), Reply(200)]
    with make_client(server, clock) as c:
        c.request("GET", "/x")
    assert 3.0 in clock.sleeps and len(server.seen) == 2


def test_429_without_retry_after_backs_off_and_drains_the_bucket(server: ScriptedServer, clock: Clock) -> None:
    server.script = [Reply(429), Reply(429), Reply(200)]
    with make_client(server, clock, rate=2.0, burst=4.0) as c:
        c.request("GET", "/x")
    assert clock.sleeps == [0.5, 1.0]  # full-jitter backoff (rng = 1.0: the cap)
    # with a zero backoff, the emptied bucket alone makes each retry wait one token (0.5 s at 2/s)
    server.script, clock.sleeps = [Reply(429), Reply(429), Reply(200)], []
    with make_client(server, clock, rate=2.0, burst=4.0, rng=lambda: 0.0) as c:
        c.request("GET", "/x")
    assert clock.sleeps == [0.0, 0.5, 0.0, 0.5]


def test_429_after_the_last_attempt_is_rate_limited(server: ScriptedServer, clock: Clock) -> None:
    server.script = [Reply(429, {"code": "RATE", "message": "많아요"})] * 4
    with make_client(server, clock) as c, pytest.raises(ChannelRateLimited) as ei:
        c.request("GET", "/x")
    assert ei.value.params == {"status": 429, "api_code": "RATE", "message": "많아요", "retry_after": None}
    assert len(server.seen) == 4


def test_a_retry_after_longer_than_we_wait_gives_up_at_once(server: ScriptedServer, clock: Clock) -> None:
    server.script = [Reply(429, {}, {"Retry-After": "3600"})]
    with make_client(server, clock) as c, pytest.raises(ChannelRateLimited) as ei:
        c.request("GET", "/x")
    assert ei.value.params["retry_after"] == 3600.0 and len(server.seen) == 1 and clock.sleeps == []


def test_a_problem_the_reader_marks_not_retryable_is_not_retried(server: ScriptedServer, clock: Clock) -> None:
    server.script = [Reply(429, {"code": "QUOTA"})]

    def reader(r: httpx.Response) -> ApiProblem:
        return ApiProblem(code="QUOTA", retryable=False)

    with make_client(server, clock, problem_reader=reader) as c, pytest.raises(ChannelRateLimited):
        c.request("GET", "/x")
    assert len(server.seen) == 1


def test_a_post_that_may_have_been_processed_is_not_sent_again(server: ScriptedServer, clock: Clock) -> None:
    server.script = [Reply(503)]
    with make_client(server, clock) as c, pytest.raises(ChannelTransientError):
        c.request("POST", "/dispatch", json={"a": 1})
    assert len(server.seen) == 1 and clock.sleeps == []


def test_a_post_refused_with_429_is_sent_again(server: ScriptedServer, clock: Clock) -> None:
    server.script = [Reply(429), Reply(200)]
    with make_client(server, clock) as c:
        c.request("POST", "/dispatch", json={"a": 1})
    assert [json.loads(s.body) for s in server.seen] == [{"a": 1}, {"a": 1}]


def test_a_post_declared_idempotent_is_retried_on_5xx(server: ScriptedServer, clock: Clock) -> None:
    server.script = [Reply(500), Reply(200)]
    with make_client(server, clock) as c:
        c.request("POST", "/query", json={"ids": [1]}, idempotent=True)
    assert len(server.seen) == 2


def test_read_timeout_is_retried_for_a_get(server: ScriptedServer, clock: Clock) -> None:
    server.script = [Reply(200, {"late": True}, delay=3.0), Reply(200, {"late": False})]
    with make_client(server, clock, timeout=0.2) as c:
        assert c.request("GET", "/x").json() == {"late": False}
    assert clock.sleeps == [0.5]


def test_read_timeouts_to_the_end_are_a_transient_timeout(server: ScriptedServer, clock: Clock) -> None:
    server.script = [Reply(200, delay=3.0)] * 2
    with make_client(server, clock, timeout=0.2, retry=RetryPolicy(attempts=2)) as c, \
            pytest.raises(ChannelTransientError) as ei:
        c.request("GET", "/x")
    assert ei.value.params == {"reason": "timeout"} and "ReadTimeout" in ei.value.detail


def test_a_read_timeout_on_a_post_is_not_retried(server: ScriptedServer, clock: Clock) -> None:
    server.script = [Reply(200, delay=3.0)]
    with make_client(server, clock, timeout=0.2) as c, pytest.raises(ChannelTransientError):
        c.request("POST", "/dispatch", json={})
    assert len(server.seen) == 1


def test_a_dropped_connection_is_retried_for_a_get(server: ScriptedServer, clock: Clock) -> None:
    server.script = [Reply(drop=True), Reply(200, {"n": 2})]
    with make_client(server, clock) as c:
        assert c.request("GET", "/x").json() == {"n": 2}


def test_connection_refused_is_retried_even_for_a_post_then_transient(clock: Clock) -> None:
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    c = HttpClient(f"http://127.0.0.1:{port}", retry=RetryPolicy(attempts=3), limiters=RateLimiters(),
                   sleep=clock.sleep, clock=clock, rng=lambda: 1.0, timeout=2.0)
    with c, pytest.raises(ChannelTransientError) as ei:
        c.request("POST", "/dispatch", json={})
    assert ei.value.params == {"reason": "connect"} and clock.sleeps == [0.5, 1.0]


# --- error mapping --------------------------------------------------------------------------------------
@pytest.mark.parametrize(("status", "error"), [(401, ChannelAuthError), (403, ChannelAuthError),
                                               (400, ChannelRejected), (404, ChannelRejected),
                                               (409, ChannelRejected), (422, ChannelRejected)])
def test_4xx_map_to_typed_errors_without_retry(server: ScriptedServer, clock: Clock, status: int,
                                               error: type[ChannelError]) -> None:
    server.script = [Reply(status, {"code": "E1", "message": "주문을 찾을 수 없습니다.", "traceId": "t-1"})]
    with make_client(server, clock) as c, pytest.raises(error) as ei:
        c.request("GET", "/x")
    assert type(ei.value) is error and len(server.seen) == 1
    assert ei.value.params == {"status": status, "api_code": "E1", "message": "주문을 찾을 수 없습니다."}
    assert "trace=t-1" in ei.value.detail


def test_a_redirect_is_not_followed_and_is_a_bad_reply(server: ScriptedServer, clock: Clock) -> None:
    server.script = [Reply(302, "", {"Location": "http://elsewhere.invalid/"})]
    with make_client(server, clock) as c, pytest.raises(ChannelBadReply):
        c.request("GET", "/x")


def test_secrets_are_redacted_from_errors(server: ScriptedServer, clock: Clock) -> None:
    secret = "JDJhJDA0JHNpZ25hdHVyZQ=="
    server.script = [Reply(400, {"code": "BAD_REQUEST", "message": f"bad signature {secret}"})]
    with make_client(server, clock) as c, pytest.raises(ChannelRejected) as ei:
        c.request("POST", "/token", data={"sign": secret}, redact=[secret])
    e = ei.value
    assert secret not in str(e) and secret not in e.detail and secret not in repr(e.params)
    assert e.params["message"] == "bad signature ***"


def test_the_authorization_header_is_never_logged(server: ScriptedServer, clock: Clock,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    server.script = [Reply(503), Reply(200)]
    with make_client(server, clock) as c:
        c.request("GET", "/x", headers={"Authorization": "Bearer tok-SECRET-123"})
    assert server.seen[0].headers["authorization"] == "Bearer tok-SECRET-123"
    assert "retry 1/3" in caplog.text
    assert "tok-SECRET-123" not in caplog.text


def test_rate_headers_teach_the_bucket(server: ScriptedServer, clock: Clock) -> None:
    server.script = [Reply(200, {}, {"X-Rate": "5", "X-Burst": "10"})]
    with make_client(server, clock, rate=2.0, burst=4.0, rate_headers=("X-Rate", "X-Burst")) as c:
        c.request("GET", "/x")
        assert (c.bucket.rate, c.bucket.burst) == (5.0, 10.0)


def test_json_body_refuses_what_is_not_json(server: ScriptedServer, clock: Clock) -> None:
    server.script = [Reply(200, '{"data": [1, 2'), Reply(200, {"data": [1]})]
    with make_client(server, clock) as c:
        with pytest.raises(ChannelBadReply) as ei:
            json_body(c.request("GET", "/x"))
        assert ei.value.params == {"reason": "not_json", "status": 200}
        assert json_body(c.request("GET", "/x")) == {"data": [1]}


def test_generic_problem_reader() -> None:
    assert read_problem(httpx.Response(400, json={"code": 17, "message": "m", "traceId": "t"})) == \
        ApiProblem("17", "m", "t")
    assert read_problem(httpx.Response(400, json={"error": "invalid_client", "error_description": "d"})) == \
        ApiProblem("invalid_client", "d")
    assert read_problem(httpx.Response(500, text="<html>")) == ApiProblem()
    assert read_problem(httpx.Response(500, json=[1])) == ApiProblem()


def test_a_misconfigured_url_is_a_channel_error_not_a_crash(clock: Clock) -> None:
    c = HttpClient("ftp://127.0.0.1:1", limiters=RateLimiters(), sleep=clock.sleep, clock=clock)
    with c, pytest.raises(ChannelError) as ei:
        c.request("GET", "/x")
    assert ei.value.params == {"reason": "request_failed"}
