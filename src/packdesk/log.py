"""Logging: named loggers, a capped rotating file in the log dir, and a RAM ring buffer.

Secrets never reach the log: adapters log account ids, not keys (see services/secrets).
"""

from __future__ import annotations

import collections
import logging
import logging.handlers
from pathlib import Path

LOG_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"


class RingBufferHandler(logging.Handler):
    """Keeps the last N formatted records in memory for a log view or a crash report."""

    def __init__(self, capacity: int = 2000) -> None:
        super().__init__()
        self.records: collections.deque[str] = collections.deque(maxlen=capacity)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.records.append(self.format(record))
        except Exception:  # pragma: no cover - logging must never raise
            self.handleError(record)


ring = RingBufferHandler()


def setup_logging(log_dir: Path, level: int = logging.INFO, *, to_file: bool = True) -> Path | None:
    """Send packdesk.* logs to ``log_dir/packdesk.log`` (5 x 2 MB) and to the ring buffer."""
    root = logging.getLogger("packdesk")
    root.setLevel(level)
    fmt = logging.Formatter(LOG_FORMAT)
    ring.setFormatter(fmt)
    if ring not in root.handlers:
        root.addHandler(ring)
    path: Path | None = None
    if to_file:
        log_dir.mkdir(parents=True, exist_ok=True)
        path = log_dir / "packdesk.log"
        for h in list(root.handlers):
            if isinstance(h, logging.handlers.RotatingFileHandler):
                root.removeHandler(h)
                h.close()
        fh = logging.handlers.RotatingFileHandler(path, maxBytes=2_000_000, backupCount=5, encoding="utf-8")
        fh.setFormatter(fmt)
        root.addHandler(fh)
    return path
