"""Recording through the RealPacking (리얼패킹) PC program in its "web reception" (웹수신) mode.

RealPacking listens on an IP and port and starts/stops filming when another program sends it the waybill.
Its request format is NOT publicly documented (docs/marketplaces/realpacking.md, C.1), so
everything about the wire is a setting: host, port, and one request template each for start, stop, an
optional cancel and the connection test. The defaults below are PackDesk's guess, not RealPacking's
contract; replace them with what RealPacking support (02-856-8864) gives the customer.

Why the shape:
- ``start``/``stop`` are called on the UI thread and must return at once, so requests go onto a queue
  served by ONE worker thread: they are sent in the order they were asked for, and a stop can never
  overtake its start (a second thread or a pool could reorder them).
- Any 2xx is "accepted"; the body is logged (truncated) because it is the only trace of what the
  program made of the request. Anything else (no connection, timeout, non-2xx) is retried once after a
  short pause, then reported as ``RecordingFailed``; the pack goes on and the UI warns the packer.
- The video lives in RealPacking (its cloud), not here, so ``RecordingStarted``/``RecordingFinished``
  carry a marker path ``realpacking:<waybill>`` (see ``marker_path``) and zero frames/bytes.
"""

from __future__ import annotations

import codecs
import json
import logging
import queue
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qsl, quote, quote_plus, urlencode

import httpx

from packdesk.core.enums import PackOutcome
from packdesk.devices.recorder import (
    RecorderEvent,
    RecorderState,
    RecordingFailed,
    RecordingFinished,
    RecordingJob,
    RecordingStarted,
)

log = logging.getLogger("packdesk.recorder.realpacking")

# The values a template may use. ``outcome`` is empty in a start request.
PLACEHOLDERS = ("waybill", "station", "packer", "pack_key", "order_nos", "outcome")
_PLACEHOLDER = re.compile(r"\{(" + "|".join(PLACEHOLDERS) + r")\}")

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
MARKER_SCHEME = "realpacking:"
BODY_LOG_CHARS = 200

UNREACHABLE = "recorder_unreachable"   # no connection, or no answer within the timeout
REFUSED = "recorder_error"             # the program answered, but not with a 2xx


def marker_path(waybill: str) -> Path:
    """What stands in for a video file: ``realpacking:<waybill>``.

    Not a file: the video is in RealPacking, found there by the waybill. ``realpacking:`` without slashes
    because ``Path`` folds ``//`` differently on Windows and POSIX, and the recordings table matches the
    finished row by the exact path string the started row was stored with.
    """
    safe = waybill.replace("/", "_").replace("\\", "_")
    return Path(f"{MARKER_SCHEME}{safe}")


@dataclass(frozen=True)
class RequestTemplate:
    """One HTTP request with ``{waybill}``, ``{station}``, ``{packer}``, ``{pack_key}``, ``{order_nos}``,
    ``{outcome}`` placeholders in the path, the query values and the body.

    ``body`` is sent with POST only. Values are encoded where they land: percent-encoded in the path and
    query, form-encoded in a form body, JSON-escaped in a JSON body, as is in any other body. Braces that
    are not one of these placeholders are left alone, so a JSON body template needs no escaping.
    ``charset`` is how text becomes bytes before percent-encoding: UTF-8 is the web's default, but a
    Korean Windows program may expect ``cp949`` (unconfirmed for RealPacking, hence a setting).
    """

    method: str = "GET"
    path: str = "/"
    query: Mapping[str, str] = field(default_factory=dict)
    body: str | None = None
    content_type: str = FORM
    charset: str = "utf-8"

    def __post_init__(self) -> None:
        method = self.method.strip().upper()
        if method not in ("GET", "POST"):
            raise ValueError(f"method must be GET or POST, not {self.method!r}")
        if not self.path.startswith("/"):
            raise ValueError(f"path must start with '/': {self.path!r}")
        codecs.lookup(self.charset)  # LookupError now rather than at the first scan
        object.__setattr__(self, "method", method)
        object.__setattr__(self, "query", dict(self.query))

    @classmethod
    def from_line(cls, line: str, body: str | None = None, content_type: str = FORM,
                  charset: str = "utf-8") -> RequestTemplate:
        """``"GET /start?waybill={waybill}&packer={packer}"`` -> template: one text field in the settings."""
        method, _, target = line.strip().partition(" ")
        path, _, qs = target.strip().partition("?")
        return cls(method, path or "/", dict(parse_qsl(qs, keep_blank_values=True)), body, content_type, charset)

    def as_line(self) -> str:
        """The inverse of ``from_line``, unencoded, for showing and editing."""
        qs = "&".join(f"{k}={v}" for k, v in self.query.items())
        return f"{self.method} {self.path}" + (f"?{qs}" if qs else "")

    def build(self, base_url: str, values: Mapping[str, str]) -> httpx.Request:
        """The request with the placeholders filled and encoded. Raises ValueError if the URL is invalid or a
        value cannot be written in ``charset`` (UnicodeEncodeError)."""
        path = _fill(self.path, values, lambda v: quote(v, safe="", encoding=self.charset))
        if self.query:
            pairs = [(_fill(k, values, str), _fill(v, values, str)) for k, v in self.query.items()]
            qs = urlencode(pairs, quote_via=quote, encoding=self.charset)
            path += ("&" if "?" in path else "?") + qs
        headers: dict[str, str] = {}
        content: bytes | None = None
        if self.method == "POST":
            text = self.body or ""
            if self.content_type.startswith(FORM):
                text = _fill(text, values, lambda v: quote_plus(v, encoding=self.charset))
            elif "json" in self.content_type:
                text = _fill(text, values, lambda v: json.dumps(v, ensure_ascii=False)[1:-1])
            else:
                text = _fill(text, values, str)
            content = text.encode(self.charset)
            ctype = self.content_type
            headers["Content-Type"] = ctype if "charset=" in ctype else f"{ctype}; charset={self.charset}"
        try:
            return httpx.Request(self.method, base_url + path, headers=headers, content=content)
        except httpx.InvalidURL as e:  # not an HTTPError: a bad host or port typed in the settings
            raise ValueError(f"invalid URL {base_url + path!r}: {e}") from e


def _fill(template: str, values: Mapping[str, str], encode: Callable[[str], str]) -> str:
    return _PLACEHOLDER.sub(lambda m: encode(values.get(m.group(1), "")), template)


# PackDesk's guess at a simple contract, NOT RealPacking's documented one (there is none in public).
DEFAULT_START = RequestTemplate("GET", "/start", {"waybill": "{waybill}", "station": "{station}",
                                                  "packer": "{packer}"})
DEFAULT_STOP = RequestTemplate("GET", "/stop", {"waybill": "{waybill}"})
# The connection test and the recovery check: a plain GET that should not start anything.
DEFAULT_PROBE = RequestTemplate("GET", "/")


@dataclass(frozen=True)
class RealPackingConfig:
    """Where RealPacking listens and what to send it.

    ``port`` 8090 is the PackDesk settings default, not a known RealPacking port (unconfirmed: set it to
    what the program's web-reception screen shows). ``cancel``, if set, replaces ``stop`` when a pack ends
    other than completed (cancelled, timed out, abandoned); without it the stop is sent, because
    RealPacking must stop filming either way. ``timeout_s`` bounds connect and read of each attempt.
    """

    host: str = "127.0.0.1"
    port: int = 8090
    start: RequestTemplate = DEFAULT_START
    stop: RequestTemplate = DEFAULT_STOP
    cancel: RequestTemplate | None = None
    probe: RequestTemplate = DEFAULT_PROBE
    timeout_s: float = 2.0
    retry_pause_s: float = 0.2

    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host and not self.host.startswith("[") else self.host
        return f"http://{host}:{self.port}"


def _client(config: RealPackingConfig, transport: httpx.BaseTransport | None) -> httpx.Client:
    # trust_env=False: a station PC's proxy settings must not route a LAN/localhost call through a proxy.
    # No keep-alive: an embedded server may drop idle connections; a fresh one per request is cheap here.
    return httpx.Client(timeout=config.timeout_s, trust_env=False, transport=transport,
                        limits=httpx.Limits(max_keepalive_connections=0))


class _Borrowed(httpx.BaseTransport):
    """An injected transport lent to a short-lived client, whose close() must not close it for the owner."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self.inner.handle_request(request)

    def close(self) -> None:
        pass


def _body_text(response: httpx.Response) -> str:
    raw = response.content
    for enc in (response.charset_encoding, "utf-8", "cp949"):
        if enc:
            try:
                return raw.decode(enc)
            except (LookupError, UnicodeDecodeError):
                continue
    return raw.decode("utf-8", "replace")


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= BODY_LOG_CHARS else text[:BODY_LOG_CHARS] + "…"


def _describe_error(e: Exception, timeout_s: float) -> str:
    if isinstance(e, httpx.TimeoutException):
        return f"{timeout_s:g}초 안에 응답 없음 / no answer within {timeout_s:g} s ({type(e).__name__})"
    if isinstance(e, httpx.ConnectError):
        return f"연결 거부 또는 실패 / connection refused or failed ({e})"
    return f"{type(e).__name__}: {e}"


def probe_connection(config: RealPackingConfig, *, transport: httpx.BaseTransport | None = None) -> tuple[bool, str]:
    """Send the probe once (no retry) and say, for people, whether RealPacking is there.

    Blocks for up to ``timeout_s``. Any HTTP answer below 500 counts as "there": a 404 on ``/`` only means
    the program has no page at the probe path, which an API-only listener may well not have.
    """
    url = config.base_url
    try:
        request = config.probe.build(url, {})
        with _client(config, _Borrowed(transport) if transport is not None else None) as client:
            response = client.send(request)
    except httpx.TimeoutException as e:
        return False, (f"응답 없음: {url} 에서 {config.timeout_s:g}초 안에 답이 없습니다 / "
                       f"No answer from {url} within {config.timeout_s:g} s ({type(e).__name__})")
    except httpx.ConnectError as e:
        return False, (f"연결할 수 없습니다: {url} — 리얼패킹이 켜져 있고 웹수신 IP·포트가 맞는지 확인하세요 / "
                       f"Cannot connect to {url} — is RealPacking running with web reception on this "
                       f"IP and port? ({e})")
    except (httpx.HTTPError, ValueError) as e:
        return False, f"요청 실패 / Request failed: {url} ({type(e).__name__}: {e})"
    body = _short(_body_text(response))
    status = response.status_code
    log.info("realpacking probe %s -> HTTP %d %r", request.url, status, body)
    if status >= 500:
        return False, (f"리얼패킹이 오류로 응답했습니다 (HTTP {status}) / RealPacking answered with an error "
                       f"(HTTP {status}): {body}")
    if 200 <= status < 300:
        return True, f"연결됨 (HTTP {status}) / Connected (HTTP {status}): {body}"
    return True, (f"연결됨, 단 확인 경로에 HTTP {status} 응답 — 프로그램은 응답합니다 / Connected, but the probe path "
                  f"answered HTTP {status} — something is listening: {body}")


@dataclass(frozen=True)
class _Send:
    """One queued request. ``job`` is None for a probe."""

    kind: str                         # "start", "stop", "cancel", "probe"
    template: RequestTemplate
    values: Mapping[str, str]
    job: RecordingJob | None = None
    outcome: PackOutcome | None = None
    at: datetime | None = None        # when the pack ended (stop)


class RealPackingRecorder:
    """Implements ``Recorder`` by telling the RealPacking program to start and stop filming.

    ``ready()`` is ``(True, "")`` unless the last request failed; then ``(False, code)`` with that failure's
    code (``recorder_unreachable`` or ``recorder_error``), so a station that requires recording refuses the
    next pack instead of packing unfilmed. A failure must not stick forever (with recording required no
    start would ever be sent again to clear it), so ``ready()`` in the failed state also queues a probe: once
    RealPacking answers again, the next ``ready()`` says True.
    """

    name = "realpacking"

    def __init__(self, config: RealPackingConfig, *, emit: Callable[[RecorderEvent], None],
                 transport: httpx.BaseTransport | None = None) -> None:
        self.config = config
        self.emit = emit
        self._transport = transport
        self._queue: queue.Queue[_Send | None] = queue.Queue()
        self._lock = threading.Lock()
        self._current: RecordingJob | None = None   # UI side: the pack started and not yet stopped
        self._failure: str | None = None            # code of the last failed request; None after a success
        self._probe_pending = False
        self._closed = False
        self._abandon = threading.Event()           # close() gave up waiting: drop what is still queued
        self._start_failed: set[str] = set()        # worker only: packs whose start was reported failed
        self._thread = threading.Thread(target=self._run, name="packdesk-realpacking", daemon=True)
        self._thread.start()

    # ------------------------------------------------------------------ Recorder (UI thread)

    @property
    def state(self) -> RecorderState:
        with self._lock:
            if self._failure is not None:
                return RecorderState.FAILED
            return RecorderState.RECORDING if self._current is not None else RecorderState.IDLE

    def ready(self) -> tuple[bool, str]:
        with self._lock:
            failure = self._failure
            probe = failure is not None and not self._probe_pending and not self._closed
            if probe:
                self._probe_pending = True
        if probe:
            self._queue.put(_Send("probe", self.config.probe, {}))
        return (False, failure) if failure is not None else (True, "")

    def start(self, job: RecordingJob) -> None:
        if self._closed:
            log.debug("closed: start of %s not sent", job.pack_key)
            return
        if self._current is not None:  # a pack never overlaps another; end the old one first
            self.stop(self._current.pack_key, PackOutcome.ABANDONED)
        with self._lock:
            self._current = job
        self._queue.put(_Send("start", self.config.start, _values(job), job))

    def stop(self, pack_key: str, outcome: PackOutcome) -> None:
        job = self._current
        if job is None or job.pack_key != pack_key or self._closed:
            log.debug("stop of %s ignored: not the pack being recorded", pack_key)
            return
        with self._lock:
            self._current = None
        cancel = self.config.cancel
        if cancel is not None and outcome is not PackOutcome.COMPLETED:
            kind, template = "cancel", cancel
        else:
            kind, template = "stop", self.config.stop
        self._queue.put(_Send(kind, template, _values(job, outcome), job, outcome, datetime.now(UTC)))

    def close(self, timeout: float = 5.0) -> None:
        """Stop the pack being filmed, send what is queued (waiting at most ``timeout``), end the thread."""
        if self._closed:
            return
        if self._current is not None:
            self.stop(self._current.pack_key, PackOutcome.ABANDONED)
        self._closed = True
        self._queue.put(None)
        self._thread.join(timeout)
        if self._thread.is_alive():
            self._abandon.set()
            log.warning("RealPacking did not answer within %.1f s of closing; %d queued request(s) not sent",
                        timeout, max(0, self._queue.qsize() - 1))  # - the end-of-queue marker

    def test_connection(self) -> tuple[bool, str]:
        """For the settings "connection test" button: probe once, now (blocks up to ``timeout_s``)."""
        return probe_connection(self.config, transport=self._transport)

    # ------------------------------------------------------------------ worker thread

    def _run(self) -> None:
        client = _client(self.config, self._transport)
        try:
            while (item := self._queue.get()) is not None:
                if self._abandon.is_set():
                    continue
                try:
                    self._handle(client, item)
                except Exception as e:  # a bug here must not silence every later start and stop
                    log.exception("RealPacking worker failed on %s", item.kind)
                    self._failed(item, REFUSED, f"{type(e).__name__}: {e}")
        finally:
            client.close()

    def _handle(self, client: httpx.Client, item: _Send) -> None:
        try:
            request = item.template.build(self.config.base_url, item.values)
        except ValueError as e:  # a value the charset cannot write, e.g. an emoji in cp949
            self._failed(item, REFUSED, f"요청을 만들 수 없음 / cannot build the request: {e}")
            return
        error = self._send(client, request, item.kind)
        if self._abandon.is_set():  # close() stopped waiting: nobody is listening for events any more
            log.info("RealPacking %s of %s ended after close: %s", item.kind, item.job and item.job.pack_key,
                     error or "accepted")
            return
        if error is None:
            self._accepted(item)
        else:
            self._failed(item, *error)

    def _send(self, client: httpx.Client, request: httpx.Request, kind: str) -> tuple[str, str] | None:
        """Send, retrying once; None if accepted, else (code, detail for people and the log)."""
        attempts = 1 if kind == "probe" else 2
        error: tuple[str, str] = (UNREACHABLE, "")
        for attempt in range(1, attempts + 1):
            if attempt > 1 and self._abandon.wait(self.config.retry_pause_s):
                break
            try:
                response = client.send(request)
            except httpx.HTTPError as e:
                error = (UNREACHABLE, f"{request.method} {request.url}: {_describe_error(e, self.config.timeout_s)}")
                log.info("realpacking %s attempt %d: %s", kind, attempt, error[1])
                continue
            body = _short(_body_text(response))
            status = response.status_code
            log.info("realpacking %s %s %s -> HTTP %d %r", kind, request.method, request.url, status, body)
            if 200 <= status < 300 or (kind == "probe" and status < 500):
                return None
            error = (REFUSED, f"{request.method} {request.url}: 리얼패킹이 거부함 / RealPacking refused: "
                              f"HTTP {status} {body!r}")
        return error[0], f"{error[1]} ({attempts}회 시도 / {attempts} attempt{'s' if attempts > 1 else ''})"

    def _accepted(self, item: _Send) -> None:
        with self._lock:
            was = self._failure
            self._failure = None
            if item.kind == "probe":
                self._probe_pending = False
        if was is not None:
            log.info("RealPacking answers again (after %s)", was)
        job = item.job
        if job is None:
            return
        path = marker_path(job.tracking_number)
        if item.kind == "start":
            self._emit(RecordingStarted(job.pack_key, path, job.started_at))
        elif job.pack_key in self._start_failed:
            # the failed start was reported; this stop is a safeguard in case the start did arrive
            self._start_failed.discard(job.pack_key)
            log.info("RealPacking took the %s of %s, whose start had failed", item.kind, job.pack_key)
        else:
            self._emit(RecordingFinished(job.pack_key, path, job.started_at, item.at or datetime.now(UTC),
                                         frames=0, dropped=0, size_bytes=0,
                                         outcome=item.outcome or PackOutcome.ABANDONED))

    def _failed(self, item: _Send, code: str, detail: str) -> None:
        with self._lock:
            self._failure = code
            if item.kind == "probe":
                self._probe_pending = False
        job = item.job
        if job is None:
            log.info("RealPacking still not ready: %s", detail)
            return
        log.warning("RealPacking %s of %s (waybill %s) failed: %s", item.kind, job.pack_key, job.tracking_number,
                    detail)
        if item.kind == "start":
            self._start_failed.add(job.pack_key)
            self._emit(RecordingFailed(job.pack_key, code, detail))
        elif job.pack_key in self._start_failed:  # already reported once for this pack
            self._start_failed.discard(job.pack_key)
        else:
            self._emit(RecordingFailed(job.pack_key, code, detail))

    def _emit(self, event: RecorderEvent) -> None:
        try:
            self.emit(event)
        except Exception:
            log.exception("recorder event handler failed on %s", type(event).__name__)


def _values(job: RecordingJob, outcome: PackOutcome | None = None) -> dict[str, str]:
    return {"waybill": job.tracking_number, "station": job.station, "packer": job.packer_name,
            "pack_key": job.pack_key, "order_nos": ",".join(job.order_nos),
            "outcome": outcome.value if outcome is not None else ""}

