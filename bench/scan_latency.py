"""Scan latency: from the scanner's Enter key to the station view showing the result, as the station runs.

Builds (once, cached in bench/out/) a SQLite database with 1,000,000 order lines on 500,000 waybills,
starts the real station window offscreen through the app's own composition root — recorder on, as every
station runs it (``--recorder off`` to compare) — and scans: a packer's badge, then over and over a waybill, one
of its items, and CANCEL twice. Reports p50/p99/max for:
- waybill scans (looked up on the DB thread, then drawn; each starts a recording), and
- item scans (recognised from the open pack in memory, then drawn).
Target: p99 <= 16 ms (one frame at 60 Hz). The next scan starts once the last one's result is on screen (or,
``--pace``, that long after). How a scan's keys reach the window (``--keys``):
- ``burst`` (the default): all of them handed to the app-wide key filter at once, as the window system hands over
  a scanner's keys queued while the UI thread was busy (each stamped with when it was pressed, 2 ms apart),
  timed from when the Enter key is handed over;
- ``stamped``: as a scanner sends them, from the scanner process below (a key every 2 ms; the UI thread takes
  each when it gets to its event loop), timed from when the Enter key was pressed. A scanner cannot send the
  next code faster: back to back, its Enter comes some 25 ms after the last result was on screen.

``--hog``: the same station with two busy processes hogging both cores beside it, and a text field focused
(the manual entry box: where a slow machine would let a scanner's keys leak as typing). 1,000 scans at
scanner speed (a key every 2 ms, Shift for capitals), counted: scans that leaked into the text field, scans
read wrong, scans lost; latencies too. Target: 0 of 1,000 leaked or wrong. Two ways the keys arrive:
- ``qtest``: as tests/ui type them (QTest key clicks, unstamped: the filter times them on arrival, so a stall
  of the UI thread between two keys looks like typing; the harsher case);
- ``stamped``: as the window system delivers a real scanner's keys: a scanner process (its own interpreter, at a
  raised priority where allowed, as the kernel's input path) writes each key to a pipe when it is pressed, 2 ms
  apart, and the UI thread hands the keys waiting there to the focused widget whenever it gets to its event
  loop, each stamped with when it was pressed.

    .venv/bin/python bench/scan_latency.py [--lines 1000000] [--scans 300] [--recorder opencv|off]
                                           [--camera synthetic|clip|SPEC] [--resolution 640x480] [--rebuild]
                                           [--keys burst|stamped] [--pace SECONDS]
    .venv/bin/python bench/scan_latency.py --hog [--scans 1000] [--keys qtest,stamped]
"""

from __future__ import annotations

import argparse
import gc
import itertools
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import _result
from _footage import FETCH_HINT, real_clip, stand_in_clip
from sqlalchemy import insert

from packdesk.core import models as m
from packdesk.core.db import Database, sqlite_url
from packdesk.core.enums import ChannelKind, LineStatus
from packdesk.devices.camera import RESOLUTIONS, SYNTHETIC

OUT = Path(__file__).resolve().parent / "out"
N_ITEMS = 5000
TARGET_P99_MS = 16
SCANNER_KEY_MS = 2  # a wedge scanner types a key every 2-10 ms
KEY_MODES = ("qtest", "stamped")  # --hog
LATENCY_KEYS = ("burst", "stamped")  # the latency run
# a busy loop that ends by itself when the bench is gone (killed, it cannot stop its hogs): orphans would burn CPU
HOG = ("import os\nparent = os.getppid()\nwhile os.getppid() == parent:\n"
       "    for _ in range(100_000):\n        pass\n")


def tracking(i: int) -> str:
    return f"7{i:011d}"


def barcode(i: int) -> str:
    return f"BC{i:08d}"


def build(path: Path, lines: int) -> None:
    if path.exists():
        path.unlink()
    db = Database.open(sqlite_url(path), create=True)
    now = datetime.now(UTC)
    t0 = time.perf_counter()
    items = min(N_ITEMS, max(10, lines // 4))
    with db.engine.begin() as c:
        c.execute(insert(m.ChannelAccount), [{"id": 1, "kind": ChannelKind.DEMO, "name": "bench",
                                               "external_id": "", "active": True, "created_at": now}])
        c.execute(insert(m.Item), [{"id": i, "sku": f"SKU-{i}", "name": f"상품 {i}", "option_name": "",
                                    "image_path": "", "created_at": now} for i in range(1, items + 1)])
        c.execute(insert(m.ItemBarcode), [{"id": i, "item_id": i, "barcode": barcode(i)}
                                          for i in range(1, items + 1)])
        c.execute(insert(m.ProductMapping), [{"id": i, "account_id": 1, "product_code": f"P{i}", "option_code": "",
                                              "item_id": i, "quantity": 1 + (i % 3 == 0)}
                                             for i in range(1, items + 1)])
        c.execute(insert(m.Packer), [{"id": 1, "name": "벤치", "badge_code": "PD-PACKER-001", "active": True}])
    orders = lines // 2
    rnd = random.Random(1)
    batch = 20_000
    for start in range(1, orders + 1, batch):
        ids = range(start, min(start + batch, orders + 1))
        with db.engine.begin() as c:
            c.execute(insert(m.Waybill), [{"id": i, "courier_code": "CJGLS", "tracking_number": tracking(i),
                                           "created_at": now} for i in ids])
            c.execute(insert(m.Order), [
                {"id": i, "account_id": 1, "order_no": f"O{i}", "buyer_name": "구매자", "recipient_name": "수령인",
                 "recipient_phone": "", "zip_code": "", "address": "", "delivery_message": "", "ordered_at": now,
                 "paid_at": now, "created_at": now, "updated_at": now} for i in ids])
            rows = []
            for i in ids:
                for k in (0, 1):
                    p = rnd.randint(1, items)
                    rows.append({"id": 2 * i - 1 + k, "order_id": i, "account_id": 1, "product_order_id": f"PO{i}-{k}",
                                 "product_code": f"P{p}", "option_code": "", "product_name": f"상품 {p}",
                                 "option_name": "", "quantity": 1, "status": LineStatus.CONFIRMED,
                                 "channel_status": "PAYED", "claim_status": "", "waybill_id": i,
                                 "created_at": now, "updated_at": now})
            c.execute(insert(m.OrderLine), rows)
        print(f"\r  {min(start + batch - 1, orders):,} / {orders:,} orders", end="", flush=True, file=sys.stderr)
    db.close()
    print(f"\n  built {lines:,} lines in {time.perf_counter() - t0:.1f} s, {path.stat().st_size / 1e6:.0f} MB",
          file=sys.stderr)


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1] if len(values) > 1 else values[0]


def summary(ms: list[float]) -> dict[str, float]:
    if not ms:
        return {"n": 0}
    # which scan was slowest (0: the first, on cold caches) and the slowest five: one stall, or a pattern
    return {"n": len(ms), "p50_ms": round(statistics.median(ms), 3), "p99_ms": round(pct(ms, 99), 3),
            "max_ms": round(max(ms), 3), "max_at": ms.index(max(ms)),
            "slowest_ms": [round(v, 1) for v in sorted(ms)[-5:]]}


PHASES = ("keys", "queued", "lookup", "back", "draw")


def phase_summary(rows: list[dict[str, float]]) -> dict[str, Any]:
    """Where the waybill scans' time went: each phase's median and p99 over all of them (ms), how often the last
    pack's writes were still on the DB thread when the lookup was submitted, and the slowest scans' phases."""
    if not rows:
        return {"n": 0}
    slowest = sorted(rows, key=lambda r: r["total"])[-5:]
    return {"n": len(rows),
            **{p: {"p50_ms": round(statistics.median(r[p] for r in rows), 2),
                   "p99_ms": round(pct([r[p] for r in rows], 99), 2)} for p in PHASES},
            "writes_queued_share": round(sum(1 for r in rows if r["writes_queued"]) / len(rows), 3),
            "slowest": slowest}


@dataclass
class Tally:
    """What became of the scans of one run (``--hog``)."""

    scans: int = 0
    leaked: int = 0       # some of its keys reached the focused text field (typed text, or Enter as a manual entry)
    read_wrong: int = 0   # read as a scan, but not the code the scanner sent
    lost: int = 0         # neither read nor leaked: the screen showed nothing within the time allowed
    examples: list[str] = field(default_factory=list)
    waybill_ms: list[float] = field(default_factory=list)
    item_ms: list[float] = field(default_factory=list)

    def figures(self) -> dict[str, Any]:
        return {"scans": self.scans, "leaked_into_text_field": self.leaked, "read_wrong": self.read_wrong,
                "lost": self.lost, "examples": self.examples[:10], "waybill_scan": summary(self.waybill_ms),
                "item_scan": summary(self.item_ms)}


# The stamped scanner: a process of its own (its own interpreter, so our threads cannot hold it back), at a raised
# priority where allowed, as the kernel's input path runs. For each code read from stdin it writes one line per
# key to the pipe given as argv[1], when the key is due, 2 ms apart: "<pressed, monotonic ms> <character code>".
SCANNER = """
import os, sys, time
raised = True
try:
    os.nice(-10)
except OSError:
    raised = False
out, gap = int(sys.argv[1]), float(sys.argv[2]) / 1000
os.write(out, b"ready %d\\n" % raised)
for line in sys.stdin:
    t0 = time.monotonic()
    for n, ch in enumerate(line.rstrip("\\n") + "\\r"):
        due = t0 + n * gap
        if (delay := due - time.monotonic()) > 0:
            time.sleep(delay)
        os.write(out, b"%.3f %d\\n" % (due * 1000, ord(ch)))
"""


def full_collection_pause() -> dict[str, float]:
    """How long one full garbage collection stops the started station's UI thread: with its heap kept as the app
    keeps it (ui/heap.py: the started station's objects frozen out of the walk), and the same heap unfrozen (what
    every full collection cost before). Median of three each."""
    def pause() -> float:
        t0 = time.perf_counter()
        gc.collect()
        return (time.perf_counter() - t0) * 1000

    kept = statistics.median(pause() for _ in range(3))
    frozen = gc.get_freeze_count()
    gc.unfreeze()
    try:
        unfrozen = statistics.median(pause() for _ in range(3))
    finally:
        gc.freeze()
    return {"heap_kept": round(kept, 2), "unfrozen": round(unfrozen, 2), "frozen_objects": frozen}


def start_hogs(n: int) -> list[subprocess.Popen[bytes]]:
    """Busy processes, one a core: the machine is busy with something else while the packer scans."""
    return [subprocess.Popen([sys.executable, "-c", HOG]) for _ in range(n)]


def stop_hogs(hogs: list[subprocess.Popen[bytes]]) -> None:
    for p in hogs:
        p.kill()
    for p in hogs:
        p.wait()


def measure(db_path: Path, scans: int, orders: int, settings_update: dict[str, Any], hog: int = 0,
            keys: tuple[str, ...] = KEY_MODES, pace_s: float = 0.0) -> dict[str, Any]:
    from PySide6.QtCore import QEvent, QEventLoop, QSocketNotifier, Qt, QTimer
    from PySide6.QtGui import QKeyEvent
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication, QWidget

    from packdesk.app import build_station
    from packdesk.core.enums import ScanSource
    from packdesk.paths import app_dirs
    from packdesk.services.settings import Settings

    app = QApplication.instance() or QApplication([])
    # the station's home sits beside its database: the same PC (host id) every run, so the station name it
    # registered in the kept database is its own next time; the videos of a run go with the run
    dirs = app_dirs(db_path.parent / "home").ensure()
    videos = tempfile.TemporaryDirectory(prefix="packdesk-bench-")
    settings = Settings(database_url=sqlite_url(db_path), demo_channel=False).model_copy(update=settings_update)
    settings = settings.model_copy(update={"recording": settings.recording.model_copy(
        update={"video_root": videos.name})})
    station = build_station(dirs, settings, demo=False, sounds=False)
    window, view, service = station.window, station.window.view, station.service  # type: ignore[attr-defined]
    key_filter = station.key_filter
    deadline = time.monotonic() + 60
    while settings.recorder != "off" and not service.recorder.ready()[0]:  # its process is up and filming
        if time.monotonic() > deadline:
            raise RuntimeError(f"the recorder did not get ready: {service.recorder.ready()[1]}")
        app.processEvents()
        time.sleep(0.01)
    window.show()
    QTest.qWaitForWindowExposed(window)
    window.activateWindow()
    while QApplication.focusWidget() is None:
        app.processEvents()

    # a redraw counts once the scan's result is in (not busy): a recorder event drawn while a waybill is still
    # being looked up is not the scan's result
    stamps: list[float] = []
    view.rendered.connect(lambda: None if service.busy else stamps.append(time.perf_counter()))

    # where a waybill scan's time goes: the scan's lookup is the DB thread's one ``first`` job, so wrapping the
    # worker's submit sees when the keys became a scan (submitted), when the DB thread began and ended the
    # lookup, and when the UI thread took its answer; the screen's stamp ends it (``phases``)
    marks: dict[str, float] = {}
    submit = service.worker.submit

    def timed_submit(job: Callable[..., Any], on_done: Callable[[Any], None] | None = None, *args: Any,
                     **kw: Any) -> Any:
        if not kw.get("first") or on_done is None:
            return submit(job, on_done, *args, **kw)
        marks.clear()
        marks["submitted"] = time.perf_counter()
        marks["writes_queued"] = service.worker._pending  # jobs not yet done: the last pack's writes

        def timed_job(s: Any) -> Any:
            marks["began"] = time.perf_counter()
            try:
                return job(s)
            finally:
                marks["looked_up"] = time.perf_counter()

        def timed_done(result: Any) -> None:
            marks["answered"] = time.perf_counter()
            on_done(result)

        return submit(timed_job, timed_done, *args, **kw)

    service.worker.submit = timed_submit  # type: ignore[method-assign]
    phases: list[dict[str, float]] = []

    def note_phases(t0: float, shown_at: float | None) -> None:
        """The last waybill scan's phases, in ms: keys (Enter to the scan's lookup submitted), queued (to the DB
        thread beginning it), lookup (on the DB thread), back (to the UI thread taking the answer), draw (to the
        screen)."""
        if shown_at is None or not {"submitted", "began", "looked_up", "answered"} <= marks.keys():
            return
        points = [t0, marks["submitted"], marks["began"], marks["looked_up"], marks["answered"], shown_at]
        spans = [round((b - a) * 1000, 2) for a, b in itertools.pairwise(points)]
        phases.append(dict(zip(PHASES, spans, strict=True)) | {"total": round((shown_at - t0) * 1000, 2),
                                                                "writes_queued": marks["writes_queued"]})

    def wait_for(predicate: Callable[[], bool], timeout_s: float) -> bool:
        """Run the event loop (the app's, not a busy spin) until ``predicate`` holds or the time is up."""
        if predicate():
            return True
        loop = QEventLoop()
        timer = QTimer()
        timer.timeout.connect(lambda: loop.quit() if predicate() else None)
        timer.start(2)
        QTimer.singleShot(int(timeout_s * 1000), loop.quit)
        loop.exec()
        timer.stop()
        return predicate()

    def key_events(ch: str, stamp_ms: float) -> list[QKeyEvent]:
        """One key as the window system hands it over: pressed and released (Shift held for a capital), stamped
        with when it was pressed."""
        if ch == "\r":
            key, mods = Qt.Key.Key_Return, Qt.KeyboardModifier.NoModifier
        else:
            key = Qt.Key(ord(ch.upper()))
            mods = Qt.KeyboardModifier.ShiftModifier if ch.isupper() else Qt.KeyboardModifier.NoModifier
        events = [QKeyEvent(etype, key, mods, ch) for etype in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease)]
        for ev in events:
            ev.setTimestamp(int(stamp_ms))
        return events

    def send_stamped(target: QWidget, ch: str, stamp_ms: float) -> None:
        for ev in key_events(ch, stamp_ms):
            QApplication.sendEvent(target, ev)

    missed: list[str] = []

    def burst_scan(code: str) -> float | None:
        """The latency run: the code's keys handed over at once, stamped 2 ms apart (a scanner's keys queued while
        the UI thread was busy: a stall of this thread cannot split them), then Enter timed to the screen. A scan
        that shows nothing within 2 s is noted, not timed."""
        target = QApplication.focusWidget() or window
        t_ms = time.monotonic() * 1000
        for n, ch in enumerate(code):
            send_stamped(target, ch, t_ms + n * SCANNER_KEY_MS)
        stamps.clear()
        t0 = time.perf_counter()
        send_stamped(target, "\r", t_ms + len(code) * SCANNER_KEY_MS)
        shown = wait_for(lambda: bool(stamps), 2.0)
        wait_for(lambda: not service.busy, 10.0)
        if pace_s:  # a packer's pace: the event loop runs on (previews, recorder events) until the next scan
            wait_for(lambda: False, pace_s)
        if not shown:
            missed.append(f"{code!r} showed nothing: {view.banner.text()}")
            return None
        note_phases(t0, stamps[0])
        return (stamps[0] - t0) * 1000

    def shown_after(t0: float) -> float | None:
        return next((s for s in stamps if s >= t0), None)

    def typed_scan(code: str) -> float | None:
        """The latency run with a scanner's keys as a scanner sends them (``--keys stamped``): the scanner process
        starts typing the code now, a key every 2 ms, and the UI thread takes each key when it gets to its event
        loop; timed from when the Enter key was pressed to the screen. A scan that shows nothing within 2 s is
        noted, not timed."""
        assert scanner is not None
        stamps.clear()
        enter = scanner.type(QApplication.focusWidget() or window, code)
        shown = wait_for(lambda: shown_after(enter) is not None, 2.0)
        wait_for(lambda: not service.busy, 10.0)
        at = shown_after(enter)
        if pace_s:
            wait_for(lambda: False, pace_s)
        if not shown or at is None:
            missed.append(f"{code!r} showed nothing: {view.banner.text()}")
            return None
        note_phases(enter, at)
        return (at - enter) * 1000

    def qtest_keys(target: QWidget, code: str) -> float:
        """As tests/ui/conftest.Packer.type_code: a key every 2 ms, Shift held for capitals."""
        for ch in code:
            shift = Qt.KeyboardModifier.ShiftModifier if ch.isupper() else Qt.KeyboardModifier.NoModifier
            QTest.keyClick(target, ch, shift, SCANNER_KEY_MS)
        QTest.qWait(SCANNER_KEY_MS)
        t0 = time.perf_counter()
        QTest.keyClick(target, Qt.Key.Key_Return)
        return t0

    class StampedScanner:
        """Keys from the scanner process, handed to the focused widget as the window system hands over a
        keyboard's: when the UI thread gets to its event loop, each stamped with when it was pressed."""

        def __init__(self) -> None:
            self.read_fd, write_fd = os.pipe()
            os.set_blocking(self.read_fd, False)
            self.proc = subprocess.Popen([sys.executable, "-c", SCANNER, str(write_fd), str(SCANNER_KEY_MS)],
                                         stdin=subprocess.PIPE, pass_fds=(write_fd,), text=True)
            os.close(write_fd)
            self.buffer = b""
            self.target: QWidget | None = None
            self.enter_at: float | None = None
            self.raised: bool | None = None
            self.notifier = QSocketNotifier(self.read_fd, QSocketNotifier.Type.Read)
            self.notifier.activated.connect(self._keys)
            if not wait_for(lambda: self.raised is not None, 30.0):
                raise RuntimeError("the scanner process did not start")

        def _keys(self) -> None:
            try:
                self.buffer += os.read(self.read_fd, 65536)
            except BlockingIOError:
                return
            *lines, self.buffer = self.buffer.split(b"\n")
            for line in lines:
                first, second = line.split()
                if first == b"ready":
                    self.raised = second == b"1"
                    continue
                stamp_ms, ch = float(first), chr(int(second))
                if ch == "\r":  # pressed then, on this process's clock
                    self.enter_at = time.perf_counter() - (time.monotonic() - stamp_ms / 1000)
                for ev in key_events(ch, stamp_ms):
                    QApplication.sendEvent(self.target, ev)

        def type(self, target: QWidget, code: str) -> float:
            self.target, self.enter_at = target, None
            assert self.proc.stdin is not None
            self.proc.stdin.write(code + "\n")
            self.proc.stdin.flush()
            if not wait_for(lambda: self.enter_at is not None, 10.0):
                raise RuntimeError(f"the scanner process did not deliver {code!r}")
            assert self.enter_at is not None
            return self.enter_at

        def close(self) -> None:
            self.notifier.setEnabled(False)
            if self.proc.stdin is not None:
                self.proc.stdin.close()
            self.proc.wait(10)
            os.close(self.read_fd)

    def counted_scan(code: str, typer: Callable[[QWidget, str], float], entry: QWidget, tally: Tally,
                     manual: list[str], got: list[str]) -> float | None:
        """One scan at scanner speed into the focused text field; tallies what became of it."""
        stamps.clear()
        manual.clear()
        got.clear()
        t0 = typer(entry, code)
        shown = wait_for(lambda: bool(stamps) and not key_filter.detector.holding, 3.0)
        wait_for(lambda: not service.busy and not key_filter.detector.holding, 10.0)
        tally.scans += 1
        typed = entry.text()  # type: ignore[attr-defined]
        if typed or manual:
            tally.leaked += 1
            tally.examples.append(f"leaked {code!r}: field {typed!r}, entered {manual!r}, read {got!r}")
            entry.clear()  # type: ignore[attr-defined]
        if got and got != [code]:
            tally.read_wrong += 1
            tally.examples.append(f"read wrong {code!r}: {got!r}")
        if not got and not (typed or manual):
            tally.lost += 1
            tally.examples.append(f"lost {code!r}")
        at = shown_after(t0)
        return (at - t0) * 1000 if shown and at is not None and got == [code] and not typed and not manual else None

    rnd = random.Random(7)
    out: dict[str, Any] = {}
    hogs: list[subprocess.Popen[bytes]] = []
    scanner: StampedScanner | None = None
    try:
        if not hog:
            gc_pause = full_collection_pause()
            if keys == ("stamped",):
                scanner = StampedScanner()
            scan = typed_scan if scanner is not None else burst_scan
            scan("PD-PACKER-001")
            waybill_ms: list[float] = []
            item_ms: list[float] = []
            waybill_phases: list[dict[str, float]] = []
            for _ in range(scans):
                w = rnd.randint(1, orders)
                phases.clear()
                if (ms := scan(tracking(w))) is not None:
                    waybill_ms.append(ms)
                    waybill_phases.extend(phases)
                pack = service.state.pack
                if pack is None:
                    missed.append(f"{tracking(w)!r} did not start a pack: {view.banner.text()}")
                    continue
                first = pack.plan.items[next(iter(pack.plan.expected()))]
                if (ms := scan(first.barcodes[0])) is not None:
                    item_ms.append(ms)
                scan("PD-CMD-CANCEL")
                scan("PD-CMD-CANCEL")  # a pack with an item in it is cancelled by a second CANCEL
            out = {"waybill_scan": summary(waybill_ms), "item_scan": summary(item_ms), "scans_missed": len(missed),
                   "missed_examples": missed[:10], "gc_full_pause_ms": gc_pause,
                   "waybill_phases": phase_summary(waybill_phases)}
        else:
            entry = view.entry
            entry.setFocus()
            if not wait_for(lambda: QApplication.focusWidget() is entry, 5.0):
                raise RuntimeError("the manual entry field did not take the focus")
            manual: list[str] = []
            got: list[str] = []
            view.manual_entry.connect(manual.append)
            key_filter.scanned.connect(got.append)
            hogs = start_hogs(hog)
            scanner = StampedScanner() if "stamped" in keys else None
            for mode in keys:
                typer = qtest_keys if scanner is None or mode == "qtest" else scanner.type
                tally = Tally()
                counted_scan("PD-PACKER-001", typer, entry, tally, manual, got)
                while tally.scans < scans:
                    # every waybill from the same start (signed in, no pack open), whatever the last scans
                    # became: set straight through the service, not counted
                    if service.state.packer is None:
                        service.scan("PD-PACKER-001", ScanSource.MANUAL)
                    while service.state.pack is not None:  # a pack with progress asks for CANCEL twice
                        service.scan("PD-CMD-CANCEL", ScanSource.MANUAL)
                    wait_for(lambda: not service.busy and service.state.pack is None, 10.0)
                    w = tracking(rnd.randint(1, orders))
                    ms = counted_scan(w, typer, entry, tally, manual, got)
                    pack = service.state.pack
                    if ms is not None and pack is not None:  # a pack started: the scan's result on screen
                        tally.waybill_ms.append(ms)
                    if pack is not None and tally.scans < scans:
                        first = pack.plan.items[next(iter(pack.plan.expected()))]
                        ms = counted_scan(first.barcodes[0], typer, entry, tally, manual, got)
                        if ms is not None:
                            tally.item_ms.append(ms)
                    if tally.scans < scans:
                        counted_scan("PD-CMD-CANCEL", typer, entry, tally, manual, got)
                    if QApplication.focusWidget() is not entry:
                        raise RuntimeError(f"the text field lost the focus to {QApplication.focusWidget()}")
                out[mode] = tally.figures()
                if scanner is not None and mode == "stamped":
                    out[mode]["scanner_priority_raised"] = scanner.raised
                print(f"  {mode}: {json.dumps(out[mode], ensure_ascii=False)}", file=sys.stderr, flush=True)
    finally:
        stop_hogs(hogs)
        if scanner is not None:
            scanner.close()
        wait_for(lambda: not service.busy, 10.0)
        service.worker.wait_idle(10)
        station.close()
        window.close()
        videos.cleanup()
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lines", type=int, default=1_000_000)
    ap.add_argument("--scans", type=int, default=None, help="waybill+item pairs (default 300); with --hog, scans "
                                                            "counted in each key mode (default 1,000)")
    ap.add_argument("--recorder", choices=("opencv", "off"), default="opencv", help="opencv: as stations run")
    ap.add_argument("--camera", default="synthetic", help="synthetic, clip (real footage, bench/_footage.py), "
                                                          "or a camera source as the settings take it")
    ap.add_argument("--resolution", default="640x480", choices=sorted(RESOLUTIONS))
    ap.add_argument("--hog", action="store_true", help="two busy processes beside the station; counts leaks")
    ap.add_argument("--hogs", type=int, default=2, help="busy processes with --hog (this machine has "
                                                        f"{os.cpu_count()} cores)")
    ap.add_argument("--keys", default=None, help=f"with --hog: {', '.join(KEY_MODES)} (both by default); the "
                                                 f"latency run: {' or '.join(LATENCY_KEYS)} (the first by default)")
    ap.add_argument("--rebuild", action="store_true")
    # scans back to back start a pack (and its pre-roll's encoding) every ~0.1 s, a hundred times a packer's
    # rate; --pace 1 leaves a second after each scan, as at a station
    ap.add_argument("--pace", type=float, default=0.0, metavar="SECONDS", help="wait after each scan (latency run)")
    _result.add_arguments(ap)
    a = ap.parse_args()
    if a.hog:
        keys = tuple(k for k in (a.keys or ",".join(KEY_MODES)).split(",") if k)
        if set(keys) - set(KEY_MODES):
            ap.error(f"--keys with --hog: {', '.join(KEY_MODES)}")
    else:
        keys = (a.keys or LATENCY_KEYS[0],)
        if keys[0] not in LATENCY_KEYS:
            ap.error(f"--keys: {' or '.join(LATENCY_KEYS)}")
    scans = a.scans if a.scans is not None else (1000 if a.hog else 300)
    lines = a.lines
    if a.quick:
        lines, scans = min(lines, 2000), min(scans, 12 if a.hog else 10)
    camera = a.camera
    with tempfile.TemporaryDirectory(prefix="packdesk-bench-") as tmp:
        # the full database is built once and kept; a quick run's is made afresh (nothing left from another run)
        folder = Path(tmp) if a.quick else OUT
        folder.mkdir(exist_ok=True)
        db_path = folder / f"scan_latency_{lines}.sqlite3"
        if a.rebuild or not db_path.exists():
            print(f"building {lines:,} order lines ...", file=sys.stderr)
            build(db_path, lines)
        spec = SYNTHETIC if camera == "synthetic" else camera
        if camera == "clip":
            clip = real_clip()
            if clip is None and not a.quick:
                raise SystemExit(f"no real webcam clip on this PC: {FETCH_HINT}")
            spec = str(clip or stand_in_clip(Path(tmp)))
        from packdesk.services.settings import Settings

        base = Settings()
        update: dict[str, Any] = {"recorder": a.recorder, "camera": base.camera.model_copy(
            update={"source": spec, "resolution": a.resolution})}
        params = {"lines": lines, "scans": scans, "recorder": a.recorder,
                  "camera": camera if a.recorder != "off" else None,
                  "resolution": a.resolution if a.recorder != "off" else None, "fps": base.camera.fps,
                  "key_gap_ms": base.scanner.max_gap_ms, "target_p99_ms": TARGET_P99_MS, "pace_s": a.pace}
        params |= {"keys": list(keys), "scanner_key_ms": SCANNER_KEY_MS}
        if a.hog:
            params |= {"hog_processes": a.hogs}
        run = _result.start("scan_latency", a, params,
                            _result.CORE_PACKAGES + _result.QT_PACKAGES + _result.VIDEO_PACKAGES)
        figures = measure(db_path, scans, lines // 2, update, hog=a.hogs if a.hog else 0, keys=keys,
                          pace_s=a.pace)
    if a.hog:
        figures["meets_target"] = all(f["leaked_into_text_field"] == 0 and f["read_wrong"] == 0 and f["lost"] == 0
                                      for f in figures.values())
    else:
        figures["meets_target"] = (figures["scans_missed"] == 0 and figures["waybill_scan"]["n"] > 0
                                   and figures["waybill_scan"]["p99_ms"] <= TARGET_P99_MS
                                   and figures["item_scan"]["p99_ms"] <= TARGET_P99_MS)
    source = camera if camera in ("synthetic", "clip") else "file"
    variant = "off" if a.recorder == "off" else f"{a.recorder}_{source}_{a.resolution}"
    if not a.hog and keys != (LATENCY_KEYS[0],):
        variant += f"_{keys[0]}"
    if a.pace:
        variant += f"_pace{a.pace:g}s"
    run.write(figures, ("hog_" if a.hog else "") + variant)
    print(json.dumps(figures, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
