"""Background work as small ops (Anki's idea): run a function off the UI thread, get ``success`` or
``failure`` back on the UI thread. A long run never freezes the window."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal

log = logging.getLogger("packdesk.tasks")


class Op(QObject):
    succeeded = Signal(object)
    failed = Signal(object)
    finished = Signal()

    def __init__(self, fn: Callable[[], Any], parent: QObject | None = None, *, name: str = "op") -> None:
        super().__init__(parent)
        self._fn = fn
        self._name = name
        self.running = False

    def start(self) -> Op:
        self.running = True
        threading.Thread(target=self._run, name=f"packdesk-{self._name}", daemon=True).start()
        return self

    def _run(self) -> None:
        try:
            result = self._fn()
        except Exception as e:  # reported to the UI thread, which decides what the person sees
            log.info("%s failed: %s", self._name, e)
            self.running = False
            self.failed.emit(e)
        else:
            self.running = False
            self.succeeded.emit(result)
        self.finished.emit()


def run_op(parent: QObject, fn: Callable[[], Any], success: Callable[[Any], None] | None = None,
           failure: Callable[[BaseException], None] | None = None, *, name: str = "op") -> Op:
    op = Op(fn, parent, name=name)
    if success:
        op.succeeded.connect(success)
    if failure:
        op.failed.connect(failure)
    return op.start()
