"""HTTP plumbing shared by the marketplace channels: one ``httpx.Client`` with timeouts, a client-side rate
limiter per host, retries for what is worth retrying, and the mapping of failures to the typed errors of
``channels/base.py``.

Why the shape:
- Marketplaces meter requests with token buckets (Naver: per API x application, typically 2/s, burst 2x).
  Waiting a little on our side is cheaper than a 429 and its backoff, so every request first takes a
  token from a bucket shared by all clients of the same host (``RateLimiters``). The bucket reserves
  tokens (it may go negative) so threads queue fairly without holding a lock while they sleep.
- Retries use exponential backoff with *full jitter* (sleep a random time in ``[0, min(cap, base*2^n)]``):
  stations restarting together must not retry in step. A ``Retry-After`` header wins when present.
- A request that may have reached the server (read timeout, 5xx, dropped connection) is retried only if
  it is idempotent. A dispatch that timed out may have been applied; sending it again blind could turn a
  success into a "state already changed" failure. Failures that cannot have been processed (connect
  errors, a pool timeout, 429 from the gateway) are retried for every request.
- Errors carry a stable code plus params for people (``status``, ``api_code``, ``message`` in the API's
  own words) and a ``detail`` for the log: method, path, status, the API's code, its trace id. Never
  headers (the Authorization header holds a bearer token), never request bodies (a token request holds a
  signature); values listed in ``redact`` are blanked from anything the error carries.
- ``sleep``, ``clock`` (monotonic), ``wall`` (epoch, for HTTP-date ``Retry-After``) and ``rng`` are
  injectable so tests run the whole retry schedule without waiting.
"""

from __future__ import annotations

import email.utils
import json as jsonlib
import logging
import random
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, NoReturn
from urllib.parse import urlsplit

import httpx

from packdesk import __version__
from packdesk.channels.base import (
    ChannelAuthError,
    ChannelError,
    ChannelRateLimited,
    ChannelRejected,
    ChannelTransientError,
    Closing,
)

log = logging.getLogger("packdesk.channels.http")

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=5.0, pool=10.0)
REDACTED = "***"
MAX_TEXT = 300  # longest API message or body excerpt carried by an error


class ChannelBadReply(ChannelError):
    """The marketplace answered 2xx, but not in the shape its contract promises (not JSON, a field missing
    or of the wrong type, a pagination cursor that loops). Nothing from such a reply is used.

    Lives here until ``base.py`` grows it: every channel parses replies, and a collection run must fail
    loudly rather than import part of a reply."""

    code = "channel_bad_reply"


# --- rate limiting ----------------------------------------------------------------------------------------
class TokenBucket:
    """``rate`` tokens per second up to ``burst``; thread-safe. Time comes from the caller (``now``) so one
    bucket can serve clients with an injected clock."""

    def __init__(self, rate: float, burst: float) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError(f"rate must be > 0 and burst >= 1 (got {rate}, {burst})")
        self._lock = threading.Lock()
        self._rate = float(rate)
        self._burst = float(burst)
        self._tokens = float(burst)
        self._stamp: float | None = None

    @property
    def rate(self) -> float:
        return self._rate

    @property
    def burst(self) -> float:
        return self._burst

    def _refill(self, now: float) -> None:
        if self._stamp is None:
            self._stamp = now
        elapsed = max(0.0, now - self._stamp)
        self._tokens = min(self._burst, self._tokens + elapsed * self._rate)
        self._stamp = max(self._stamp, now)

    def reserve(self, now: float) -> float:
        """Take one token; return how many seconds the caller must wait before using it (0 = go now)."""
        with self._lock:
            self._refill(now)
            self._tokens -= 1.0
            return 0.0 if self._tokens >= 0 else -self._tokens / self._rate

    def drain(self, now: float) -> None:
        """The server said 429: whatever we thought we had, we have nothing now."""
        with self._lock:
            self._refill(now)
            self._tokens = min(self._tokens, 0.0)

    def configure(self, rate: float, burst: float) -> None:
        """Adopt the server's advertised numbers (e.g. from rate-limit headers)."""
        if rate <= 0 or burst < 1:
            return
        with self._lock:
            self._rate, self._burst = float(rate), float(burst)
            self._tokens = min(self._tokens, self._burst)


class RateLimiters:
    """One bucket per key (a host, or host + account when the marketplace meters per application)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._buckets: dict[str, TokenBucket] = {}

    def bucket(self, key: str, rate: float, burst: float) -> TokenBucket:
        with self._lock:
            if key not in self._buckets:
                self._buckets[key] = TokenBucket(rate, burst)
            return self._buckets[key]


SHARED_LIMITERS = RateLimiters()


# --- retry policy and API problems ------------------------------------------------------------------------
@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 4              # tries in all, the first included
    base_delay: float = 0.5        # seconds; the n-th retry waits up to base * 2**(n-1)
    max_delay: float = 8.0         # cap of one backoff
    max_retry_after: float = 60.0  # a longer Retry-After is not waited out: give up and report it

    def backoff(self, retry_no: int, rng: Callable[[], float]) -> float:
        """Full jitter: uniform in [0, min(cap, base * 2**(retry_no-1))]."""
        return rng() * min(self.max_delay, self.base_delay * 2 ** max(0, retry_no - 1))


@dataclass(frozen=True)
class ApiProblem:
    """What an error reply says, read by a channel-specific reader."""

    code: str = ""                # the API's own code, e.g. "GW.RATE_LIMIT", "104121"
    message: str = ""             # the API's words for people
    trace_id: str = ""            # for the log and for the marketplace's support
    retryable: bool | None = None  # None: decided by the HTTP status; False: never retry (e.g. hourly quota)


def read_problem(response: httpx.Response) -> ApiProblem:
    """Generic reader: a JSON object with ``code``/``message`` (or ``error``/``error_description``)."""
    try:
        body = response.json()
    except (ValueError, RecursionError):  # an HTML error page (or JSON nested too deep) is no message for people
        return ApiProblem()
    if not isinstance(body, dict):
        return ApiProblem()
    code = body.get("code", body.get("error", ""))
    message = body.get("message", body.get("error_description", ""))
    trace = body.get("traceId", "")
    return ApiProblem(code=str(code) if isinstance(code, str | int) else "",
                      message=message if isinstance(message, str) else "",
                      trace_id=trace if isinstance(trace, str) else "")


def retry_after_seconds(response: httpx.Response, wall: Callable[[], float]) -> float | None:
    """``Retry-After`` as seconds (delta-seconds or an HTTP-date), or None when absent or unreadable."""
    value = response.headers.get("retry-after", "").strip()
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - wall())


def json_body(response: httpx.Response, redact: Iterable[str] = ()) -> Any:
    """The reply's JSON, or ``ChannelBadReply`` saying why not. JSON nested deeper than Python's parser goes
    (``RecursionError``) is refused the same way. The detail shows where the body broke, not its text: an order
    reply is buyers' names and addresses."""
    try:
        return jsonlib.loads(response.content)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        where = f"{response.request.method} {response.request.url.path}"
        why = "nested too deep" if isinstance(exc, RecursionError) else \
            f"{type(exc).__name__} at character {getattr(exc, 'pos', getattr(exc, 'start', '?'))}"
        raise ChannelBadReply(reason="not_json", status=response.status_code,
                              detail=redacted(f"{where} -> HTTP {response.status_code}: not JSON ({why}); "
                                             f"{len(response.content)} bytes of "
                                             f"{response.headers.get('content-type', '')!r}", redact)) from None


def shortened(text: str, limit: int = MAX_TEXT) -> str:
    """``text`` on one line, at most ``limit`` characters (then "…"): what an error carries of a reply."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "…"


def redacted(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every secret in it replaced by REDACTED."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, REDACTED)
    return text


def _transport_failure(exc: httpx.TransportError) -> tuple[str, bool] | None:
    """(reason, may the server have processed it?) for a transient transport failure; None otherwise."""
    if isinstance(exc, httpx.ConnectTimeout | httpx.PoolTimeout):
        return "timeout", False
    if isinstance(exc, httpx.ConnectError | httpx.ProxyError):
        return "connect", False
    if isinstance(exc, httpx.TimeoutException):  # read/write timeout: it may have been processed
        return "timeout", True
    if isinstance(exc, httpx.NetworkError | httpx.RemoteProtocolError):
        return "network", True
    return None  # UnsupportedProtocol, LocalProtocolError: our request or our settings are wrong


# --- the client -------------------------------------------------------------------------------------------
class HttpClient(Closing):
    """A marketplace's HTTP endpoint. ``request`` returns a 2xx response or raises a ``ChannelError``."""

    def __init__(
        self,
        base_url: str,
        *,
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        rate: float = 2.0,
        burst: float = 4.0,
        limiters: RateLimiters | None = None,
        limit_key: str | None = None,
        rate_headers: tuple[str, str] | None = None,
        problem_reader: Callable[[httpx.Response], ApiProblem] = read_problem,
        headers: Mapping[str, str] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
        rng: Callable[[], float] = random.random,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.retry = retry or RetryPolicy()
        host = urlsplit(self.base_url).netloc
        self._limiters = limiters or SHARED_LIMITERS
        self._limit_key, self._rate, self._burst = limit_key or host, rate, burst
        self._bucket = self._limiters.bucket(self._limit_key, rate, burst)
        self._rate_headers = rate_headers
        self._read_problem = problem_reader
        self._sleep, self._clock, self._wall, self._rng = sleep, clock, wall, rng
        self._client = httpx.Client(base_url=self.base_url + "/", timeout=timeout,
                                    headers={"User-Agent": f"PackDesk/{__version__}", **(headers or {})},
                                    transport=transport, follow_redirects=False)

    def __repr__(self) -> str:
        return f"HttpClient({self.base_url!r})"

    @property
    def bucket(self) -> TokenBucket:
        return self._bucket

    def close(self) -> None:
        self._client.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        data: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        idempotent: bool | None = None,
        redact: Iterable[str] = (),
        api: str | None = None,
    ) -> httpx.Response:
        """Send with rate limiting and retries. ``path`` is relative to the base URL. ``idempotent``
        defaults by method (POST is not); say True for a POST that only reads or is safe to repeat. ``api``
        names the bucket when the marketplace meters each API on its own (Naver: per API x application)."""
        bucket = self._bucket if api is None else self._limiters.bucket(f"{self._limit_key}|{api}", self._rate,
                                                                         self._burst)
        method = method.upper()
        safe = method in IDEMPOTENT_METHODS if idempotent is None else idempotent
        redact = tuple(redact)
        where = f"{method} /{path.lstrip('/')}"
        attempts = max(1, self.retry.attempts)
        for attempt in range(1, attempts + 1):
            last = attempt == attempts
            self._take_token(bucket)
            try:
                response = self._client.request(method, path.lstrip("/"), params=params, json=json, data=data,
                                                headers=headers)
            except httpx.TransportError as exc:
                failure = _transport_failure(exc)
                if failure is None:
                    raise ChannelError(reason="request_failed",
                                       detail=redacted(f"{where}: {type(exc).__name__}: {exc}", redact)) from None
                reason, maybe_processed = failure
                if last or (maybe_processed and not safe):
                    raise ChannelTransientError(
                        reason=reason, detail=redacted(f"{where}: {type(exc).__name__}: {exc} "
                                                      f"(attempt {attempt}/{attempts})", redact)) from None
                delay = self.retry.backoff(attempt, self._rng)
                log.info("%s: %s (%s), retry %d/%d in %.2f s", where, reason, type(exc).__name__, attempt,
                         attempts - 1, delay)
                self._sleep(delay)
                continue

            status = response.status_code
            if 200 <= status < 300:
                self._learn_rate(response, bucket)
                return response
            problem = self._problem(response)
            if status == 429:
                bucket.drain(self._clock())
            wait = retry_after_seconds(response, self._wall) if status in (429, 503) else None
            # a 429 was refused at the gate, so any request may be repeated; a 5xx may have been processed
            retryable = (status == 429 or ((status == 408 or status >= 500) and safe)) \
                and problem.retryable is not False \
                and (wait is None or wait <= self.retry.max_retry_after)
            if last or not retryable:
                self._raise_for(where, response, problem, attempt, wait, redact)
            delay = wait if wait is not None else self.retry.backoff(attempt, self._rng)
            log.info("%s: HTTP %d%s, retry %d/%d in %.2f s", where, status, f" {problem.code}" if problem.code else "",
                     attempt, attempts - 1, delay)
            self._sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover

    def _take_token(self, bucket: TokenBucket) -> None:
        wait = bucket.reserve(self._clock())
        if wait > 0:
            self._sleep(wait)

    def _learn_rate(self, response: httpx.Response, bucket: TokenBucket) -> None:
        if self._rate_headers is None:
            return
        rate_name, burst_name = self._rate_headers
        try:
            rate = float(response.headers[rate_name])
            burst = float(response.headers.get(burst_name, 2 * rate))
        except (KeyError, ValueError):
            return
        if rate != bucket.rate or burst != bucket.burst:
            log.debug("rate limit of %s: %s/s, burst %s", self.base_url, rate, burst)
            bucket.configure(rate, burst)

    def _problem(self, response: httpx.Response) -> ApiProblem:
        try:
            return self._read_problem(response)
        except Exception:  # a reader must not turn an error reply into a crash
            log.debug("problem reader failed on HTTP %d", response.status_code, exc_info=True)
            return ApiProblem()

    def _raise_for(self, where: str, response: httpx.Response, problem: ApiProblem, attempts: int,
                   retry_after: float | None, redact: tuple[str, ...]) -> NoReturn:
        status = response.status_code
        message = shortened(redacted(problem.message, redact))
        params: dict[str, Any] = {"status": status}
        if problem.code:
            params["api_code"] = redacted(problem.code, redact)
        if message:
            params["message"] = message
        detail = f"{where} -> HTTP {status}"
        if problem.code:
            detail += f" code={params['api_code']}"
        if message:
            detail += f" message={message!r}"
        if problem.trace_id:
            detail += f" trace={problem.trace_id}"
        if not problem.code and not message and response.content:
            detail += f" body={redacted(shortened(response.text)[:120], redact)!r}"
        detail += f" (attempt {attempts}/{max(1, self.retry.attempts)})"
        if status in (401, 403):
            raise ChannelAuthError(detail=detail, **params)
        if status == 429:
            raise ChannelRateLimited(detail=detail, retry_after=retry_after, **params)
        if status == 408 or status >= 500:
            raise ChannelTransientError(reason="server_error", detail=detail, **params)
        if 400 <= status < 500:
            raise ChannelRejected(detail=detail, **params)
        raise ChannelBadReply(reason="unexpected_status", detail=detail, **params)
