"""Where a scan goes: to the window that takes scans itself, else to the station.

A scan goes to the station unless the active window (or a window it belongs to, e.g. the review's full-screen
player) takes scans itself: a waybill scanned into the recordings review is searched there, never packed. A
window takes scans by having ``take_scan(code)`` (``ScanTaker``); dialogs without it (settings, collection, ...)
leave scans to the station.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, runtime_checkable

from PySide6.QtWidgets import QApplication, QWidget

from packdesk.core.enums import ScanSource


@runtime_checkable
class ScanTaker(Protocol):
    """A window that handles scanned codes itself while it is active (review, orders, product links, set-up)."""

    def take_scan(self, code: str) -> None: ...


def scan_taker(widget: QWidget | None) -> ScanTaker | None:
    """``widget`` or the nearest window it belongs to that takes scans; None: the scan is the station's."""
    while widget is not None and not isinstance(widget, ScanTaker):
        widget = widget.parentWidget()
    return widget


def scan_router(station_scan: Callable[[str, ScanSource], None]) -> Callable[[str, ScanSource], None]:
    """What the key filter and the serial scanner call with each scan (UI thread)."""
    def route(code: str, source: ScanSource) -> None:
        taker = scan_taker(QApplication.activeWindow())
        if taker is not None:
            taker.take_scan(code)
        else:
            station_scan(code, source)
    return route
