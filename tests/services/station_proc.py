"""A headless station process: the real StationService on a database URL, fed scans from a list.

Used by the multi-station tests (two processes racing for one waybill) and by bench/stations.py
(8 processes packing from a shared pool). Prints one JSON line of results at the end.

    python -m tests.services.station_proc URL STATION --waybills W1,W2,... [--start-at EPOCH] [--pack]
                                          [--pace-ms MS] [--retry-s S]

``--retry-s``: a pack that could not be stored (the server went away: a lookup or a write failed) is
scanned again, as a packer told "not saved" would, until it is stored or another answer comes, for at most
S seconds per waybill. The results then list ``stored`` (waybills this station saw complete with no error)
and ``retries``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import queue
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

from packdesk.core.db import Database
from packdesk.core.enums import ScanSource
from packdesk.core.errors import KnownError
from packdesk.core.station import Msg, Sound, StationConfig, StationState
from packdesk.devices.recorder import NullRecorder
from packdesk.services.dbworker import DbWorker
from packdesk.services.station import StationService


class _Listener:
    def __init__(self) -> None:
        self.errors: list[str] = []

    def on_state(self, state: StationState) -> None:
        pass

    def on_sound(self, sound: Sound) -> None:
        pass

    def on_error(self, error: KnownError) -> None:
        self.errors.append(error.code)

    def on_notice(self, notice: KnownError) -> None:
        pass


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("url")
    ap.add_argument("station")
    ap.add_argument("--waybills", required=True)
    ap.add_argument("--badge", default="PD-PACKER-001")
    ap.add_argument("--start-at", type=float, default=0.0, help="epoch seconds: all processes scan together")
    ap.add_argument("--pack", action="store_true", help="scan the items of every pack that starts")
    ap.add_argument("--pace-ms", type=float, default=0.0, help="at most one scan this often (0: flat out)")
    ap.add_argument("--retry-s", type=float, default=0.0, help="scan a pack that was not stored again, this long")
    a = ap.parse_args(argv)
    if a.waybills.startswith("@"):  # a file of waybills, one a line (long lists do not fit a command line)
        a.waybills = ",".join(Path(a.waybills[1:]).read_text().split())

    db = Database.open(a.url)
    posted: queue.Queue[Callable[[], None]] = queue.Queue()
    worker = DbWorker(db, posted.put)
    listener = _Listener()
    svc = StationService(worker, NullRecorder(), listener, station=a.station, config=StationConfig())
    svc.start()

    def settle() -> None:
        while True:
            worker.wait_idle(10)
            try:
                posted.get(timeout=0.001)()
            except queue.Empty:
                if worker.wait_idle(0) and posted.empty() and not svc.busy:
                    return

    next_at = [0.0]

    def scan(code: str) -> float:
        """Scan-to-result: until the station's state shows the outcome (what the screen draws); the
        writes that follow on the DB thread are then let finish, untimed."""
        if a.pace_ms:
            time.sleep(max(0.0, next_at[0] - time.perf_counter()))
            next_at[0] = time.perf_counter() + a.pace_ms / 1000
        t0 = time.perf_counter()
        svc.scan(code, ScanSource.WEDGE)
        while svc.busy:  # the result is posted here (as Qt posts it to the UI thread): wait for it, no polling
            with contextlib.suppress(queue.Empty):
                posted.get(timeout=1.0)()
        took = (time.perf_counter() - t0) * 1000
        settle()
        return took

    scan(a.badge)
    if a.start_at:
        time.sleep(max(0.0, a.start_at - time.time()))
    outcomes: dict[str, str] = {}
    latency: list[float] = []
    waybill_latency: list[float] = []
    started = time.perf_counter()
    packed = 0
    stored: list[str] = []
    retries = 0

    def attempt(wb: str) -> bool:
        """One go at a waybill: scan it, then its items. True when it ended without an error."""
        nonlocal packed
        errors = len(listener.errors)
        waybill_latency.append(scan(wb))
        latency.append(waybill_latency[-1])
        outcomes[wb] = svc.state.message.code.value
        if a.pack and svc.state.message.code in (Msg.PACK_STARTED, Msg.PACK_STARTED_PARTLY_CANCELLED):
            pack = svc.state.pack
            assert pack is not None
            for item_id, n in pack.plan.expected().items():
                barcode = pack.plan.items[item_id].barcodes[0]
                for _ in range(n):
                    latency.append(scan(barcode))
            if svc.state.message.code is Msg.PACK_COMPLETE:
                packed += 1
                if len(listener.errors) == errors:
                    stored.append(wb)
        return len(listener.errors) == errors

    for wb in a.waybills.split(","):
        deadline = time.monotonic() + a.retry_s
        while not attempt(wb) and time.monotonic() < deadline:
            retries += 1
            while svc.state.pack is not None:  # a pack left open by a failed write: the packer cancels it
                scan("PD-CMD-CANCEL")  # (twice, when items were scanned)
            time.sleep(0.2)
    elapsed = time.perf_counter() - started
    worker.close()
    db.close()
    def p99(values: list[float]) -> float:
        return statistics.quantiles(values, n=100, method="inclusive")[98] if len(values) > 1 else values[0]

    print(json.dumps({"station": a.station, "outcomes": outcomes, "packed": packed, "errors": listener.errors,
                      "stored": stored, "retries": retries,
                      "scans": len(latency), "seconds": elapsed, "p50_ms": statistics.median(latency),
                      "p99_ms": p99(latency), "waybill_p50_ms": statistics.median(waybill_latency),
                      "waybill_p99_ms": p99(waybill_latency)}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
