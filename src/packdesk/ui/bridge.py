"""Runs callables on the Qt main thread: the one door by which worker threads talk back to the UI."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QCoreApplication, QObject, Qt, Signal, Slot


class MainThreadPoster(QObject):
    _call = Signal(object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._closed = False
        self._call.connect(self._run, Qt.ConnectionType.QueuedConnection)

    def close(self) -> None:
        """After this, callbacks still in flight are dropped: what they report on is gone."""
        self._closed = True

    def drain(self) -> None:
        """Run now what threads posted and the event loop has not delivered (at shutdown the loop has ended:
        a recorder's last "file closed" must still reach the index, or the next start takes it for a crash)."""
        if not self._closed:  # closed: what they report on is gone (and this object may be too)
            QCoreApplication.sendPostedEvents(self, 0)

    def post(self, fn: Callable[[], None]) -> None:
        """Thread-safe: ``fn`` runs on the thread that owns this object (the main thread)."""
        self._call.emit(fn)

    @Slot(object)
    def _run(self, fn: Callable[[], None]) -> None:
        if not self._closed:
            fn()
