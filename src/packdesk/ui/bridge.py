"""Runs callables on the Qt main thread: the one door by which worker threads talk back to the UI."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Qt, Signal, Slot


class MainThreadPoster(QObject):
    _call = Signal(object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._closed = False
        self._call.connect(self._run, Qt.ConnectionType.QueuedConnection)

    def close(self) -> None:
        """After this, callbacks still in flight are dropped: what they report on is gone."""
        self._closed = True

    def post(self, fn: Callable[[], None]) -> None:
        """Thread-safe: ``fn`` runs on the thread that owns this object (the main thread)."""
        self._call.emit(fn)

    @Slot(object)
    def _run(self, fn: Callable[[], None]) -> None:
        if not self._closed:
            fn()
