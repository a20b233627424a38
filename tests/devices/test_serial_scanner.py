"""SerialScanner against a real pseudo-terminal: the pty master plays the scanner.

A symlink in tmp_path stands in for a udev by-id link, so "unplug" (pty gone, link removed) and
"replug" (new pty, link re-pointed) look to the scanner exactly like a USB scanner re-enumerating.
Every wait is on a condition with a generous timeout; nothing relies on sleeping.
"""

from __future__ import annotations

import logging
import queue
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

if sys.platform == "win32":  # pragma: no cover - ptys are POSIX-only
    pytest.skip("needs POSIX pseudo-terminals", allow_module_level=True)

import serial

from packdesk.devices.serial_scanner import (
    MAX_CODE_BYTES,
    ScannerState,
    ScannerStatus,
    SerialConfig,
    SerialScanner,
    Terminator,
)
from tests.fakes.serial_port import FakeScanner, wait_until

TIMEOUT_S = 5.0
LOGGER_NAME = "packdesk.devices.serial"


class Recorder:
    """Collects callbacks (they arrive on the reader thread) in queues."""

    def __init__(self) -> None:
        self.scans: queue.Queue[str] = queue.Queue()
        self.statuses: queue.Queue[ScannerStatus] = queue.Queue()
        self.seen_states: list[ScannerState] = []

    def on_scan(self, code: str) -> None:
        self.scans.put(code)

    def on_status(self, status: ScannerStatus) -> None:
        self.statuses.put(status)

    def next_scan(self) -> str:
        try:
            return self.scans.get(timeout=TIMEOUT_S)
        except queue.Empty:
            pytest.fail(f"no scan within {TIMEOUT_S} s")

    def next_status(self) -> ScannerStatus:
        try:
            status = self.statuses.get(timeout=TIMEOUT_S)
        except queue.Empty:
            pytest.fail(f"no status within {TIMEOUT_S} s (seen so far: {self.seen_states})")
        self.seen_states.append(status.state)
        return status

    def expect_states(self, *states: ScannerState) -> ScannerStatus:
        """The next reported states must be exactly these, in order; returns the last status."""
        status = ScannerStatus(ScannerState.STOPPED)
        for expected in states:
            status = self.next_status()
            assert status.state is expected, f"expected {expected}, got {status} (seen {self.seen_states})"
        return status

    def assert_no_more_scans(self) -> None:
        assert self.scans.empty(), f"unexpected scans: {list(self.scans.queue)}"


@pytest.fixture
def device(tmp_path: Path) -> Iterator[FakeScanner]:
    fake = FakeScanner(tmp_path / "scanner")
    yield fake
    fake.unplug()


@pytest.fixture
def rec() -> Recorder:
    return Recorder()


@pytest.fixture
def make_scanner(rec: Recorder) -> Iterator[Callable[..., SerialScanner]]:
    created: list[SerialScanner] = []

    def make(port: Path, **kwargs: object) -> SerialScanner:
        kwargs.setdefault("reconnect_interval_s", 0.05)
        scanner = SerialScanner(SerialConfig(port=str(port), **kwargs), rec.on_scan, rec.on_status)  # type: ignore[arg-type]
        created.append(scanner)
        return scanner

    yield make
    for scanner in created:
        scanner.stop()
    assert not [t for t in threading.enumerate() if t.name.startswith("SerialScanner(")], "reader leaked"


def connect(
    device: FakeScanner, rec: Recorder, make: Callable[..., SerialScanner], **kwargs: object
) -> SerialScanner:
    """Plug, start, and wait for CONNECTED: pyserial flushes the input queue on open, so the
    scanner may only 'send' after that."""
    device.plug()
    scanner = make(device.link, **kwargs)
    scanner.start()
    rec.expect_states(ScannerState.CONNECTING, ScannerState.CONNECTED)
    assert scanner.status.state is ScannerState.CONNECTED
    return scanner


# --- framing ---------------------------------------------------------------------------------------


def test_single_code(device: FakeScanner, rec: Recorder, make_scanner: Callable[..., SerialScanner]) -> None:
    connect(device, rec, make_scanner)
    device.write(b"8801234567893\r")
    assert rec.next_scan() == "8801234567893"


def test_code_split_across_writes_is_joined(
    device: FakeScanner, rec: Recorder, make_scanner: Callable[..., SerialScanner]
) -> None:
    connect(device, rec, make_scanner)
    device.write(b"ABC-")
    device.wait_consumed()  # the first half really was a separate read
    device.write(b"123\r")
    assert rec.next_scan() == "ABC-123"
    rec.assert_no_more_scans()


def test_two_codes_in_one_write_arrive_in_order(
    device: FakeScanner, rec: Recorder, make_scanner: Callable[..., SerialScanner]
) -> None:
    connect(device, rec, make_scanner)
    device.write(b"FIRST\rSECOND\r")
    assert rec.next_scan() == "FIRST"
    assert rec.next_scan() == "SECOND"


def test_empty_codes_and_whitespace_are_ignored(
    device: FakeScanner, rec: Recorder, make_scanner: Callable[..., SerialScanner]
) -> None:
    connect(device, rec, make_scanner)
    device.write(b"\r\r   \r  PADDED  \r")
    assert rec.next_scan() == "PADDED"
    device.write(b"NEXT\r")
    assert rec.next_scan() == "NEXT"


@pytest.mark.parametrize("configured", [Terminator.CRLF, Terminator.CR, Terminator.LF])
def test_crlf_endings_give_one_code_each(
    configured: Terminator, device: FakeScanner, rec: Recorder, make_scanner: Callable[..., SerialScanner]
) -> None:
    """Line modes accept CR, LF and CRLF alike, even with CRLF split between reads."""
    connect(device, rec, make_scanner, terminator=configured)
    device.write(b"A1\r\nB2\r\n")
    device.write(b"C3\r")
    device.wait_consumed()
    device.write(b"\nD4\nE5\r\n")
    assert [rec.next_scan() for _ in range(5)] == ["A1", "B2", "C3", "D4", "E5"]
    device.write(b"LAST\r\n")
    assert rec.next_scan() == "LAST"  # no empty code slipped in between


def test_tab_terminator(
    device: FakeScanner, rec: Recorder, make_scanner: Callable[..., SerialScanner]
) -> None:
    connect(device, rec, make_scanner, terminator=Terminator.TAB)
    device.write(b"T1\tT2\t")
    device.write(b"T3")
    device.wait_consumed()
    device.write(b"\t")
    assert [rec.next_scan() for _ in range(3)] == ["T1", "T2", "T3"]
    device.write(b"X\rY\t")  # CR is payload, not a terminator, in TAB mode
    assert rec.next_scan() == "X\rY"


def test_terminator_from_settings_string() -> None:
    assert SerialConfig(port="COM3", terminator="TAB").terminator is Terminator.TAB  # type: ignore[arg-type]
    assert Terminator.CRLF.suffix == b"\r\n"
    with pytest.raises(ValueError):
        SerialConfig(port="COM3", encoding="no-such-codec")
    with pytest.raises(ValueError):
        SerialConfig(port="COM3", reconnect_interval_s=0)


def test_undecodable_bytes_are_replaced_and_reading_continues(
    device: FakeScanner,
    rec: Recorder,
    make_scanner: Callable[..., SerialScanner],
    expect_warnings: pytest.LogCaptureFixture,
) -> None:
    expect_warnings.set_level(logging.WARNING, logger=LOGGER_NAME)
    connect(device, rec, make_scanner)
    device.write(b"\xff\xfeAB\r")
    assert rec.next_scan() == "\ufffd\ufffdAB"
    assert "undecodable" in expect_warnings.text
    device.write("상품-7\r".encode())
    assert rec.next_scan() == "상품-7"


def test_runaway_input_is_dropped(
    device: FakeScanner,
    rec: Recorder,
    make_scanner: Callable[..., SerialScanner],
    expect_warnings: pytest.LogCaptureFixture,
) -> None:
    expect_warnings.set_level(logging.WARNING, logger=LOGGER_NAME)
    connect(device, rec, make_scanner)
    device.write(b"y" * MAX_CODE_BYTES + b"\r")  # at the limit: still a code
    assert rec.next_scan() == "y" * MAX_CODE_BYTES
    device.write(b"x" * (MAX_CODE_BYTES + 1000))
    device.write(b"\rGOOD\r")  # the over-long run, including its tail, is never delivered
    assert rec.next_scan() == "GOOD"
    rec.assert_no_more_scans()
    assert "without a terminator" in expect_warnings.text


def test_failing_callback_does_not_stop_reading(
    device: FakeScanner, expect_warnings: pytest.LogCaptureFixture
) -> None:
    got: queue.Queue[str] = queue.Queue()
    statuses: queue.Queue[ScannerStatus] = queue.Queue()

    def on_scan(code: str) -> None:
        got.put(code)
        if code == "BOOM":
            raise RuntimeError("UI bug")

    device.plug()
    scanner = SerialScanner(SerialConfig(port=str(device.link)), on_scan, statuses.put)
    scanner.start()
    try:
        wait_until(lambda: scanner.status.state is ScannerState.CONNECTED, what="CONNECTED")
        device.write(b"BOOM\rFINE\r")
        assert got.get(timeout=TIMEOUT_S) == "BOOM"
        assert got.get(timeout=TIMEOUT_S) == "FINE"
    finally:
        scanner.stop()


# --- connection lifecycle --------------------------------------------------------------------------


def test_missing_port_reports_disconnected_then_recovers(
    device: FakeScanner,
    rec: Recorder,
    make_scanner: Callable[..., SerialScanner],
    expect_warnings: pytest.LogCaptureFixture,
) -> None:
    expect_warnings.set_level(logging.DEBUG, logger=LOGGER_NAME)
    scanner = make_scanner(device.link)  # the symlink does not exist yet
    scanner.start()
    status = rec.expect_states(ScannerState.CONNECTING, ScannerState.DISCONNECTED)
    assert "cannot open port" in status.detail
    assert "포트를 열 수 없음" in status.detail
    assert str(device.link) in status.detail
    assert scanner.status == status

    def failed_opens() -> int:
        return sum("open failed" in r.getMessage() for r in expect_warnings.records if r.name == LOGGER_NAME)

    wait_until(lambda: failed_opens() >= 3, what="several retries")
    assert rec.statuses.empty(), "a repeated failure must not be re-reported"

    device.plug()
    rec.expect_states(ScannerState.CONNECTED)
    device.write(b"AFTER-PLUG\r")
    assert rec.next_scan() == "AFTER-PLUG"


def test_unplug_and_replug(
    device: FakeScanner,
    rec: Recorder,
    make_scanner: Callable[..., SerialScanner],
    expect_warnings: pytest.LogCaptureFixture,
) -> None:
    scanner = connect(device, rec, make_scanner)
    device.write(b"BEFORE\r")
    assert rec.next_scan() == "BEFORE"

    device.write(b"HALF-")  # half a code when the cable is pulled
    device.wait_consumed()
    device.unplug()
    status = rec.expect_states(ScannerState.DISCONNECTED)
    assert str(device.link) in status.detail
    assert scanner.status.state is ScannerState.DISCONNECTED

    device.plug()
    rec.expect_states(ScannerState.CONNECTED)
    device.write(b"AFTER\r")
    assert rec.next_scan() == "AFTER"  # not "HALF-AFTER"

    # and once more, to prove the loop really keeps going
    device.unplug()
    rec.expect_states(ScannerState.DISCONNECTED)
    device.plug()
    rec.expect_states(ScannerState.CONNECTED)
    device.write(b"AGAIN\r")
    assert rec.next_scan() == "AGAIN"
    rec.assert_no_more_scans()


def test_stop_is_prompt_reports_stopped_and_frees_the_port(
    device: FakeScanner, rec: Recorder, make_scanner: Callable[..., SerialScanner]
) -> None:
    scanner = connect(device, rec, make_scanner)
    started = time.monotonic()
    scanner.stop()
    assert time.monotonic() - started < 5.0  # prompt: not the reader's 1 s poll a few times over, even under load
    rec.expect_states(ScannerState.STOPPED)
    assert scanner.status.state is ScannerState.STOPPED
    assert not [t for t in threading.enumerate() if t.name.startswith("SerialScanner(")]
    # the scanner opens with an exclusive lock; we can only take it if the port was closed
    with serial.Serial(str(device.link), timeout=0, exclusive=True):
        pass
    scanner.stop()  # idempotent
    assert rec.statuses.empty()


def test_stop_while_waiting_to_reconnect_is_prompt(
    device: FakeScanner,
    rec: Recorder,
    make_scanner: Callable[..., SerialScanner],
    expect_warnings: pytest.LogCaptureFixture,
) -> None:
    scanner = make_scanner(device.link, reconnect_interval_s=30.0)
    scanner.start()
    rec.expect_states(ScannerState.CONNECTING, ScannerState.DISCONNECTED)
    started = time.monotonic()
    scanner.stop()
    assert time.monotonic() - started < 10.0  # not the 30 s reconnect wait, even on a loaded machine
    rec.expect_states(ScannerState.STOPPED)


def test_restart_after_stop(
    device: FakeScanner, rec: Recorder, make_scanner: Callable[..., SerialScanner]
) -> None:
    scanner = connect(device, rec, make_scanner)
    scanner.start()  # already running: no second reader
    scanner.stop()
    rec.expect_states(ScannerState.STOPPED)
    scanner.start()
    rec.expect_states(ScannerState.CONNECTING, ScannerState.CONNECTED)
    device.write(b"AGAIN\r")
    assert rec.next_scan() == "AGAIN"
