"""Scanner keys are timed by when they were pressed (the window system's stamp), not when the UI thread got
round to them: a stall between two keys of a scan must not release the scan as typing into a text field."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QApplication, QLineEdit

from packdesk.devices.wedge import WedgeConfig
from packdesk.ui.keyfilter import WedgeKeyFilter

T0 = 5_000_000.0  # the window system's milliseconds: a clock of its own, far from ours


class Clock:
    def __init__(self) -> None:
        self.ms = 1_000.0

    def __call__(self) -> float:
        return self.ms / 1000.0


@pytest.fixture
def rig(qtbot) -> Iterator[tuple[QLineEdit, WedgeKeyFilter, Clock, list[str]]]:  # type: ignore[no-untyped-def]
    edit = QLineEdit()
    qtbot.addWidget(edit)
    edit.show()
    edit.activateWindow()
    edit.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is edit)
    clock = Clock()
    f = WedgeKeyFilter(WedgeConfig(max_gap_ms=40), clock=clock)
    scans: list[str] = []
    f.scanned.connect(scans.append)
    QApplication.instance().installEventFilter(f)
    yield edit, f, clock, scans
    QApplication.instance().removeEventFilter(f)


def press(edit: QLineEdit, ch: str, stamp: float) -> None:
    key = Qt.Key.Key_Return if ch == "\n" else Qt.Key(ord(ch.upper()))
    for etype in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
        ev = QKeyEvent(etype, key, Qt.KeyboardModifier.NoModifier, "\r" if ch == "\n" else ch)
        ev.setTimestamp(int(stamp))
        QApplication.sendEvent(edit, ev)


def test_a_stall_between_a_scans_keys_does_not_make_it_typing(rig) -> None:  # type: ignore[no-untyped-def]
    edit, _, clock, scans = rig
    for n, ch in enumerate("pd7731\n"):
        press(edit, ch, T0 + 5 * n)  # pressed 5 ms apart by the scanner
        clock.ms += 100               # ... handled 100 ms apart by a stalled UI thread
    assert scans == ["pd7731"] and edit.text() == ""


def test_without_stamps_the_same_stall_reads_as_typing(rig) -> None:  # type: ignore[no-untyped-def]
    """What the stamps prevent (and what synthetic, unstamped keys still get: timed on arrival)."""
    edit, _, clock, scans = rig
    for ch in "pd7731\n":
        press(edit, ch, 0)
        clock.ms += 100
    assert scans == [] and edit.text() == "pd7731"


def test_a_person_typing_is_typing_whatever_the_stamps_clock(rig) -> None:  # type: ignore[no-untyped-def]
    edit, _, clock, scans = rig
    for n, ch in enumerate("memo\n"):
        clock.ms += 2   # handled promptly
        press(edit, ch, T0 + 150 * n)  # pressed 150 ms apart
        clock.ms += 148
    assert scans == [] and edit.text() == "memo"


def test_a_late_release_timer_lets_the_queued_keys_in_first(rig, qtbot) -> None:  # type: ignore[no-untyped-def]
    edit, f, clock, scans = rig
    press(edit, "p", T0)
    clock.ms += 120  # the thread stalled; the timer fires late, the scanner's next keys wait in the queue
    f._expire()
    assert edit.text() == "" and f.detector.holding  # not released on a late timer's word alone
    for n, ch in enumerate("d7731\n", start=1):
        press(edit, ch, T0 + 5 * n)
    assert scans == ["pd7731"] and edit.text() == ""
    press(edit, "x", T0 + 10_000)  # a person, much later: released once the timer has looked twice
    clock.ms += 10_000
    qtbot.waitUntil(lambda: edit.text() == "x", timeout=2000)


class Seen(QObject):
    """The key events that reach the field itself (after the app's filter)."""

    def __init__(self) -> None:
        super().__init__()
        self.events: list[tuple[QEvent.Type, str]] = []

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if event.type() in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
            self.events.append((event.type(), event.text()))  # type: ignore[attr-defined]
        return False


def test_a_scans_key_releases_stay_out_of_the_focused_field(rig) -> None:  # type: ignore[no-untyped-def]
    """A release that reaches a text field restarts its cursor's blink and repaints it (and the window behind
    it): once for every key of a scan. The filter that took a key's press takes its release too."""
    edit, _, clock, scans = rig
    seen = Seen()
    edit.installEventFilter(seen)
    for n, ch in enumerate("pd7731\n"):
        press(edit, ch, T0 + 5 * n)
        clock.ms += 5
    assert scans == ["pd7731"] and edit.text() == "" and seen.events == []


def test_typing_reaches_the_field_pressed_and_released_once_each(rig) -> None:  # type: ignore[no-untyped-def]
    edit, _, clock, scans = rig
    seen = Seen()
    edit.installEventFilter(seen)
    for n, ch in enumerate("memo"):
        clock.ms += 2
        press(edit, ch, T0 + 150 * n)
        clock.ms += 148
    press(edit, "\n", T0 + 600)
    press_, release = QEvent.Type.KeyPress, QEvent.Type.KeyRelease
    assert scans == [] and edit.text() == "memo"
    assert [e for e in seen.events if e[1] != "\r"] == [(t, ch) for ch in "memo" for t in (press_, release)]
