"""Barcode scanner on a USB-COM / serial port, read in its own thread.

Packing stations get scanners unplugged and replugged all day (cable snags, swapping a dead
scanner), so the reader never gives up: every failure turns into a DISCONNECTED status and a retry
loop, and the station keeps working as soon as the device comes back. The UI bridges the callbacks
into Qt signals; this module stays Qt-free so it can be tested against a real pseudo-terminal.
"""

from __future__ import annotations

import codecs
import enum
import logging
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass

import serial

logger = logging.getLogger("packdesk.devices.serial")

#: Short read timeout so the reader thread notices stop() within ~0.1 s without cancel_read() races.
READ_TIMEOUT_S = 0.1
#: A scanner code is a few dozen bytes; anything this long without a terminator is line noise or a
#: misconfigured terminator, and must not grow memory forever.
MAX_CODE_BYTES = 4096


class Terminator(enum.StrEnum):
    """Suffix the scanner is configured to send after each code."""

    CR = "CR"
    LF = "LF"
    CRLF = "CRLF"
    TAB = "TAB"

    @property
    def suffix(self) -> bytes:
        return _TERMINATOR_BYTES[self]


_TERMINATOR_BYTES: dict[Terminator, bytes] = {
    Terminator.CR: b"\r",
    Terminator.LF: b"\n",
    Terminator.CRLF: b"\r\n",
    Terminator.TAB: b"\t",
}


@dataclass(frozen=True)
class SerialConfig:
    """Where the scanner is and how it frames codes.

    ``port`` is ``"COM3"`` on Windows, ``"/dev/ttyACM0"`` or a stable udev symlink such as
    ``/dev/serial/by-id/...`` on Linux (the symlink survives re-enumeration as ttyACM1).
    ``encoding`` must be ASCII-compatible (utf-8, cp949, ...) because framing happens on bytes.
    """

    port: str
    baudrate: int = 9600
    terminator: Terminator = Terminator.CR
    reconnect_interval_s: float = 1.0
    encoding: str = "utf-8"

    def __post_init__(self) -> None:
        # Settings files hand us plain strings; fail here, not later inside the reader thread.
        object.__setattr__(self, "terminator", Terminator(self.terminator))
        if not self.port:
            raise ValueError("port must not be empty")
        if self.baudrate <= 0:
            raise ValueError(f"baudrate must be positive, got {self.baudrate}")
        if self.reconnect_interval_s <= 0:
            raise ValueError(f"reconnect_interval_s must be positive, got {self.reconnect_interval_s}")
        try:
            codecs.lookup(self.encoding)
        except LookupError as exc:
            raise ValueError(f"unknown encoding {self.encoding!r}") from exc


class ScannerState(enum.StrEnum):
    STOPPED = "stopped"
    CONNECTING = "connecting"        # first attempt after start()
    CONNECTED = "connected"
    DISCONNECTED = "disconnected"    # cannot open or lost; retrying every reconnect_interval_s


@dataclass(frozen=True)
class ScannerStatus:
    state: ScannerState
    detail: str = ""  # shown to the packer as-is, hence Korean + English


_STOPPED = ScannerStatus(ScannerState.STOPPED, "중지됨 / stopped")


class _CodeFramer:
    """Turns an arbitrary chunking of the byte stream into whole codes.

    Any of CR/LF ends a code in the line-based modes because scanners are often reconfigured
    (or replaced) without anyone updating the app's setting; TAB mode only splits on TAB because
    there a stray CR may legitimately be part of the payload.
    """

    def __init__(self, terminator: Terminator) -> None:
        self._splitter = re.compile(rb"\t" if terminator is Terminator.TAB else rb"[\r\n]")
        self._pending = b""
        self._discarding = False  # inside an over-long run: drop bytes up to the next terminator

    def reset(self) -> None:
        """Forget half a code; used after a disconnect so it is never glued to the next scan."""
        self._pending = b""
        self._discarding = False

    def feed(self, data: bytes) -> list[bytes]:
        *complete, self._pending = self._splitter.split(self._pending + data)
        if self._discarding and complete:
            # The tail of an over-long run that we already reported: not a code.
            complete.pop(0)
            self._discarding = False
        codes: list[bytes] = []
        for raw in complete:
            if len(raw) > MAX_CODE_BYTES:
                logger.warning("폐기: 너무 긴 입력 / dropped %d bytes without a terminator", len(raw))
                continue
            codes.append(raw)
        if len(self._pending) > MAX_CODE_BYTES:
            logger.warning(
                "폐기: 종료 문자 없는 입력 / dropped %d bytes without a terminator (terminator setting?)",
                len(self._pending),
            )
            self._pending = b""
            self._discarding = True
        return codes


class SerialScanner:
    """Reads codes from a serial scanner in a daemon thread, reconnecting until stop().

    Callbacks run on the reader thread. A callback that raises is logged and ignored: a bug in
    the UI must not silently stop scanning.
    """

    def __init__(
        self,
        config: SerialConfig,
        on_scan: Callable[[str], None],
        on_status: Callable[[ScannerStatus], None],
    ) -> None:
        self._config = config
        self._on_scan = on_scan
        self._on_status = on_status
        self._lock = threading.Lock()
        self._status = _STOPPED
        self._thread: threading.Thread | None = None
        # One event per start(): a reader thread that outlives stop()'s join timeout keeps seeing
        # its own (set) event and cannot report into a later run.
        self._stop_event = threading.Event()

    @property
    def config(self) -> SerialConfig:
        return self._config

    @property
    def status(self) -> ScannerStatus:
        with self._lock:
            return self._status

    def start(self) -> None:
        """Start reading; a no-op if already running, so the UI may call it on every settings apply."""
        with self._lock:
            if self._thread is not None:
                return
            stop_event = threading.Event()
            thread = threading.Thread(
                target=self._run,
                args=(stop_event,),
                name=f"SerialScanner({self._config.port})",
                daemon=True,  # never keep the app alive on exit because a port read hangs
            )
            self._stop_event = stop_event
            self._thread = thread
        thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        """Ask the reader to close the port and wait for it, so the port is free on return.

        When called from a callback (i.e. on the reader thread) it cannot wait for itself; the
        thread then finishes right after the callback returns.
        """
        with self._lock:
            thread, self._thread = self._thread, None
            stop_event = self._stop_event
        if thread is None:
            return
        stop_event.set()
        if thread is threading.current_thread():
            return
        thread.join(timeout)
        if thread.is_alive():
            logger.warning("스캐너 스레드가 끝나지 않음 / reader thread still running after %.1f s", timeout)

    # --- reader thread -------------------------------------------------------------------------

    def _run(self, stop_event: threading.Event) -> None:
        cfg = self._config
        framer = _CodeFramer(cfg.terminator)
        connecting = ScannerStatus(ScannerState.CONNECTING, f"연결 중 / connecting: {cfg.port}")
        self._set_status(stop_event, connecting)
        try:
            while not stop_event.is_set():
                port = self._open(stop_event)
                if port is not None:
                    try:
                        self._set_status(
                            stop_event,
                            ScannerStatus(ScannerState.CONNECTED,
                                          f"연결됨 / connected: {cfg.port} @ {cfg.baudrate}"),
                        )
                        self._pump(port, framer, stop_event)
                    except Exception as exc:  # SerialException/OSError on unplug; anything else is a bug
                        if not isinstance(exc, OSError):
                            logger.exception("unexpected error while reading %s", cfg.port)
                        self._lost(stop_event, exc)
                    finally:
                        framer.reset()
                        _close_quietly(port)
                stop_event.wait(cfg.reconnect_interval_s)
        finally:
            # Only the newest run may claim STOPPED; an orphan from a timed-out stop() stays quiet.
            with self._lock:
                is_current = self._stop_event is stop_event
            if is_current:
                self._set_status(None, _STOPPED)

    def _open(self, stop_event: threading.Event) -> serial.Serial | None:
        cfg = self._config
        try:
            # exclusive: a second PackDesk instance on the same port would steal half the bytes
            # and corrupt codes; better it fails loudly with "cannot open".
            return serial.Serial(
                port=cfg.port, baudrate=cfg.baudrate, timeout=READ_TIMEOUT_S, exclusive=True
            )
        except (serial.SerialException, OSError, ValueError) as exc:
            detail = f"포트를 열 수 없음 / cannot open port {cfg.port}: {exc}"
            logger.debug("open failed, retrying in %.1f s: %s", cfg.reconnect_interval_s, detail)
            self._set_status(stop_event, ScannerStatus(ScannerState.DISCONNECTED, detail))
            return None

    def _lost(self, stop_event: threading.Event, exc: BaseException) -> None:
        detail = f"연결 끊김 / connection lost on {self._config.port}: {exc}"
        self._set_status(stop_event, ScannerStatus(ScannerState.DISCONNECTED, detail))

    def _pump(self, port: serial.Serial, framer: _CodeFramer, stop_event: threading.Event) -> None:
        """Read until stop or an error; read(1) then in_waiting so a code is handed on immediately
        instead of after the read timeout (pyserial's read(n) waits for all n bytes)."""
        while not stop_event.is_set():
            data = port.read(1)
            if not data:
                continue
            waiting = port.in_waiting
            if waiting:
                data += port.read(waiting)
            for raw in framer.feed(data):
                self._deliver(raw)

    def _deliver(self, raw: bytes) -> None:
        encoding = self._config.encoding
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError:
            text = raw.decode(encoding, errors="replace")
            logger.warning("디코딩 불가 바이트를 대체함 / undecodable bytes replaced (%s): %r", encoding, raw)
        code = text.strip()
        if not code:
            return
        logger.debug("scan %r", code)
        try:
            self._on_scan(code)
        except Exception:
            logger.exception("on_scan callback failed for %r", code)

    def _set_status(self, stop_event: threading.Event | None, status: ScannerStatus) -> None:
        """Report only state changes, and nothing but STOPPED once stop() was requested."""
        with self._lock:
            if stop_event is not None and stop_event.is_set():
                return
            if status.state == self._status.state:
                return
            self._status = status
        log = logger.warning if status.state is ScannerState.DISCONNECTED else logger.info
        log("scanner %s: %s", status.state, status.detail)
        try:
            self._on_status(status)
        except Exception:
            logger.exception("on_status callback failed for %s", status)


def _close_quietly(port: serial.Serial) -> None:
    """Closing an unplugged device can itself fail; the port is gone either way."""
    try:
        port.close()
    except (serial.SerialException, OSError) as exc:
        logger.debug("ignoring error while closing port: %s", exc)
