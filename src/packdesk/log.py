"""Logging: named loggers, a capped rotating file in the log dir, and a RAM ring buffer.

Secrets never reach the log: adapters log account ids, not keys (see services/secrets). Nor do buyers' names,
phones, addresses or delivery messages: engines hide statement parameters (``core/db.py``), and
``PrivateFormatter`` writes every exception (in a message or a traceback) through
``core.errors.describe_error``, which keeps a database error's first line only (PostgreSQL's ``DETAIL`` lists
the refused row whole).
"""

from __future__ import annotations

import collections
import logging
import logging.handlers
import re
import traceback
from pathlib import Path
from types import TracebackType

from packdesk.core.errors import describe_error

LOG_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"

# the last net, for exception text that was made into a string before it reached the log
_DATA = re.compile(r"(DETAIL:|\[parameters:).*", re.DOTALL)

ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None] | tuple[None, None, None]


class PrivateFormatter(logging.Formatter):
    """Formats records without the data a database error carries (see the module's docstring)."""

    def format(self, record: logging.LogRecord) -> str:
        if isinstance(record.args, tuple) and any(isinstance(a, BaseException) for a in record.args):
            record.args = tuple(describe_error(a) if isinstance(a, BaseException) else a for a in record.args)
        record.exc_text = None  # another formatter's rendering of the traceback is not used
        return _DATA.sub(r"\1 (hidden)", super().format(record))

    def formatException(self, ei: ExcInfo) -> str:
        """The traceback as Python prints it, chained causes included, each exception's own line written by
        ``describe_error``."""
        chain: list[BaseException] = []
        exc = ei[1]
        while exc is not None and exc not in chain:
            chain.append(exc)
            exc = exc.__cause__ or (None if exc.__suppress_context__ else exc.__context__)
        parts: list[str] = []
        for i, exc in enumerate(reversed(chain)):
            if i:
                parts.append("\nThe above exception was the direct cause of the following exception:\n\n"
                             if exc.__cause__ is not None else
                             "\nDuring handling of the above exception, another exception occurred:\n\n")
            parts.append("Traceback (most recent call last):\n")
            parts.extend(traceback.format_tb(exc.__traceback__))
            parts.append(f"{describe_error(exc)}\n")
        return "".join(parts).rstrip("\n")


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
    fmt = PrivateFormatter(LOG_FORMAT)
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


def log_file() -> Path | None:
    """The file ``setup_logging`` writes to (``None`` when logging goes to no file, as in tests), for the screens
    that show it: asked of the handler, so it is the file really written."""
    for h in logging.getLogger("packdesk").handlers:
        if isinstance(h, logging.handlers.RotatingFileHandler):
            return Path(h.baseFilename)
    return None
