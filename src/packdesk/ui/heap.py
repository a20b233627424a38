"""The station process's garbage collector kept out of a scan's way.

Python's full collection walks every object the process holds. The station's UI process holds ~150,000 of them
once started (Qt wrappers, SQLAlchemy's mappers, the words catalogue), and a full collection over them took 76 to
108 ms on the 2-core test machine, 250 ms on a busy one (``bench/scan_latency.py`` reports it every run as
``gc_full_pause_ms``): long enough to turn one scan into a visible stall whenever the collector's own counters
happened to fire in the middle of a redraw. Kept as here, the same collection takes about 1 ms.

So, as long-running Python servers do, the objects that live as long as the station are moved out of the
collector's sight (``gc.freeze``) once it has started, and again whenever the station has been idle for a
while: what a day's work adds is collected then (cheap: only the young objects are walked) and what survives
is frozen with the rest. Reference cycles among frozen objects are not freed until the station closes (then
everything is unfrozen); the station's long-lived objects are made once, so that costs nothing that grows.
"""

from __future__ import annotations

import gc
import logging
import time
from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer

log = logging.getLogger("packdesk.heap")

IDLE_CHECK_MS = 30_000   # how often the station looks for a quiet moment
QUIET_S = 10.0           # no scan for this long: a quiet moment


class HeapKeeper(QObject):
    """Freezes the started station's heap, and collects + freezes again in quiet moments.

    ``quiet``: True when no scan is being handled and none came for a while (the station service knows)."""

    def __init__(self, quiet: Callable[[], bool], parent: QObject | None = None,
                 *, every_ms: int = IDLE_CHECK_MS) -> None:
        super().__init__(parent)
        self._quiet = quiet
        self.passes = 0
        self._timer = QTimer(self, interval=every_ms)
        self._timer.timeout.connect(self.tidy_if_quiet)

    def start(self) -> None:
        self.tidy()
        self._timer.start()

    def stop(self) -> None:
        """The station closes: what was frozen is the collector's again (a process that builds stations one
        after another, as the tests do, gives their objects back)."""
        self._timer.stop()
        gc.unfreeze()

    def tidy_if_quiet(self) -> bool:
        if not self._quiet():
            return False
        self.tidy()
        return True

    def tidy(self) -> None:
        """Collect what is garbage among the objects not frozen yet, then freeze the survivors."""
        t0 = time.perf_counter()
        found = gc.collect()
        gc.freeze()
        self.passes += 1
        log.debug("heap: %d unreachable collected, %d frozen, %.1f ms", found, gc.get_freeze_count(),
                  (time.perf_counter() - t0) * 1000)


def quiet_station(busy: Callable[[], bool], last_scan: Callable[[], float | None],
                  quiet_s: float = QUIET_S, clock: Callable[[], float] = time.monotonic) -> Callable[[], bool]:
    """The station is quiet: no scan in hand, and the last one (monotonic seconds) ``quiet_s`` ago or more."""
    def quiet() -> bool:
        last = last_scan()
        return not busy() and (last is None or clock() - last >= quiet_s)
    return quiet
