"""The app-wide key filter: sees every key press whatever widget has focus and hands it to the pure
wedge detector; scans are swallowed and emitted as ``scanned``, typing is released to its widget.

In Hangul mode the keys of a text field reach Qt as input-method events (preedit and commit strings),
not key presses; those are fed to the detector too, and the scan is decoded back to the keys pressed.

Qt delivers a key press first to the window (QWidgetWindow) and then to the focus widget, so an app
filter sees it twice; we act on the widget delivery only (the focus widget, or the window itself when
nothing has focus). That is also where QTest's key clicks arrive, so tests type the way a scanner does.

Keys are timed by when they were pressed, not when Python got round to them: the window system stamps each
key event (``QInputEvent.timestamp``, in its own milliseconds), and a scanner's keys 5 ms apart stay 5 ms
apart even when the UI thread stalled 100 ms between handling them (a garbage-collector pause, a slow
repaint) — timed on arrival, that stall would have released the scan as typing into whatever field has
focus. The stamp is mapped onto our clock by the smallest (arrival - stamp) seen, i.e. the least delayed
key; a key with no stamp (0: synthetic events, QTest) is timed on arrival. When the release timer itself
fires late (the thread was stalled), the keys already waiting in the queue are let in before deciding.

Timing alone cannot tell a scanner from a fast typist on a numeric keypad, so where typing matters more than
scanning the focused widget decides too (``typing_only``, ``free_text``): a password or PIN field and a
file dialog never yield a scan (their keys go straight to them); a free-text field — a note, or a text field
of a window that takes no scans (settings, collection, a message box's input…) — keeps a fast burst as
typing unless it is a code the station knows by heart (a command or a packer badge: ``known_code``). So a
PIN typed at 30 ms a key is never shown or stored as a station scan.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QInputEvent, QInputMethodEvent, QKeyEvent
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QFileDialog,
    QLineEdit,
    QPlainTextEdit,
    QTextEdit,
    QWidget,
)

from packdesk.devices.wedge import Key, WedgeConfig, WedgeDetector
from packdesk.ui.scans import scan_taker

log = logging.getLogger("packdesk.wedge")

_MODIFIER_KEYS = {Qt.Key.Key_Shift, Qt.Key.Key_Control, Qt.Key.Key_Alt, Qt.Key.Key_Meta, Qt.Key.Key_AltGr,
                  Qt.Key.Key_CapsLock}


RESYNC_MS = 10_000  # an offset this far above the best one: the stamps' clock wrapped or was reset
LATE_MS = 15  # the release timer fired this late: the UI thread was stalled


_KEY_EVENTS = frozenset({QEvent.Type.KeyPress, QEvent.Type.InputMethod})

class _HeldKey:
    """What we need to deliver a held key later: a copy of the event (Qt reuses the original)."""

    __slots__ = ("key", "modifiers", "target", "text")

    def __init__(self, target: QObject, ev: QKeyEvent) -> None:
        self.target = target
        self.key = ev.key()
        self.modifiers = ev.modifiers()
        self.text = ev.text()

    def send(self, to: QObject) -> None:
        for etype in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
            QApplication.sendEvent(to, QKeyEvent(etype, self.key, self.modifiers, self.text))


class _HeldIme:
    """A held input-method event (Hangul composition): its commit and preedit strings."""

    __slots__ = ("commit", "preedit", "target")

    def __init__(self, target: QObject, ev: QInputMethodEvent) -> None:
        self.target = target
        self.commit = ev.commitString()
        self.preedit = ev.preeditString()

    def send(self, to: QObject) -> None:
        ev = QInputMethodEvent(self.preedit, [])
        ev.setCommitString(self.commit)
        QApplication.sendEvent(to, ev)


def _meant_for(obj: QWidget, focus: QWidget | None) -> bool:
    """The delivery of a key event to the widget it is meant for: the focus widget, or the window when nothing
    has focus (not the delivery to the window before the widget, nor a propagation to a parent)."""
    return obj is focus or (focus is None and obj.isWindow())


def typing_only(widget: QWidget | None) -> bool:
    """A password or PIN field, or anything in a file dialog: what is typed there is never a scan."""
    if isinstance(widget, QLineEdit) and widget.echoMode() != QLineEdit.EchoMode.Normal:
        return True
    w = widget
    while w is not None:
        if isinstance(w, QFileDialog):
            return True
        w = w.parentWidget()
    return False


def _takes_scans(window: QWidget) -> bool:
    return scan_taker(window) is not None


def free_text(widget: QWidget | None, home: QObject | None) -> bool:
    """A field where a person writes: a multi-line note anywhere, or a text field of a window other than
    ``home`` (the station) that takes no scans itself. A burst there is typing unless it is a known code."""
    if isinstance(widget, QPlainTextEdit | QTextEdit):
        return not widget.isReadOnly()
    editable = isinstance(widget, QLineEdit | QAbstractSpinBox) or (isinstance(widget, QComboBox)
                                                                     and widget.isEditable())
    if not editable or widget is None:
        return False
    window = widget.window()
    if home is None or window is home:  # a filter with no station window of its own serves every window
        return False
    return not _takes_scans(window)


class WedgeKeyFilter(QObject):
    scanned = Signal(str)

    def __init__(self, config: WedgeConfig, parent: QObject | None = None,
                 clock: Callable[[], float] = time.monotonic,
                 known_code: Callable[[str], bool] = lambda code: False) -> None:
        """``parent``: the window scans belong to (the station); ``known_code``: a command or a badge, a scan
        even in a free-text field."""
        super().__init__(parent)
        self.known_code = known_code
        self.detector = WedgeDetector(config)
        self._clock = clock
        self._offset_ms: float | None = None  # our clock minus the window system's stamps (least delayed key)
        self._replaying = False
        self._waited = False  # the late timer already let the queued keys in once
        self._taken: set[int] = set()  # keys whose press this filter took: their releases are taken too
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._expire)

    def set_config(self, config: WedgeConfig) -> None:
        self._release(self.detector.flush())
        self.detector = WedgeDetector(config)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        etype = event.type()  # every event of the app passes here (paints, timers): the test for keys is first
        if etype == QEvent.Type.KeyRelease and self._taken:
            return self._take_release(obj, event)  # type: ignore[arg-type]
        if etype not in _KEY_EVENTS or self._replaying or not isinstance(obj, QWidget):
            return False
        focus = QApplication.focusWidget()
        if not _meant_for(obj, focus):
            return False
        if typing_only(focus):
            self._release(self.detector.flush())
            return False  # a PIN or a file name: the field's, whatever the speed
        now_ms = self._pressed_ms(event)
        if etype == QEvent.Type.InputMethod:
            ime: QInputMethodEvent = event  # type: ignore[assignment]
            if not ime.commitString() and not ime.preeditString() and not self.detector.holding:
                return False
            k = Key(text=ime.commitString(), key=0, t_ms=now_ms, preedit=not ime.commitString(),
                    token=_HeldIme(obj, ime))
        else:
            ev: QKeyEvent = event  # type: ignore[assignment]
            if ev.modifiers() & (Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier):
                self._release(self.detector.flush())
                return False  # shortcuts are never part of a scan
            qkey = Qt.Key(ev.key())
            k = Key(
                text=ev.text(),
                key=int(ev.key()),
                t_ms=now_ms,
                enter=qkey in (Qt.Key.Key_Return, Qt.Key.Key_Enter),
                tab=qkey == Qt.Key.Key_Tab,
                modifier=qkey in _MODIFIER_KEYS,
                shift=bool(ev.modifiers() & Qt.KeyboardModifier.ShiftModifier),
                token=_HeldKey(obj, ev),
            )
        d = self.detector.feed(k)
        self._release(d.release)
        if d.scan is not None and free_text(focus, self.parent()) and not self.known_code(d.scan):
            self._timer.stop()
            log.debug("fast typing kept in %s (%d keys)", type(focus).__name__, len(d.keys))
            self._release(d.keys)
            return False  # the Enter follows the text, as typed
        if d.scan is not None:
            self._timer.stop()
            log.debug("wedge scan %r (%d keys)", d.scan, len(d.keys))
            if any(isinstance(h.token, _HeldIme) for h in d.keys):
                self._clear_composition(obj)
            self.scanned.emit(d.scan)
            self._took(event)
            return True
        deadline = self.detector.deadline_ms
        if deadline is not None:
            self._waited = False
            self._timer.start(max(1, int(deadline - self._clock() * 1000.0) + 1))
        if d.consume:
            self._took(event)
        return d.consume

    def _took(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.KeyPress:
            self._taken.add(event.key())  # type: ignore[attr-defined]

    def _take_release(self, obj: QObject, event: QKeyEvent) -> bool:
        """The release of a key whose press this filter took (held, or a scan's) is the filter's too. Let through
        to a text field, each release restarted its cursor's blink and repainted it and the window behind it:
        one repaint of the station window for every key of a scan (13 for a waybill, measured in
        ``bench/scan_latency.py``), beside the scan's lookup. A key let in as typing is replayed to its widget
        pressed and released (``_HeldKey.send``)."""
        if self._replaying or not isinstance(obj, QWidget) or not _meant_for(obj, QApplication.focusWidget()):
            return False
        key = event.key()
        if key not in self._taken:
            return False
        self._taken.discard(key)
        return True

    def _pressed_ms(self, event: QEvent) -> float:
        """When the key was pressed, on our clock (see the module's note). Input-method events carry no
        stamp (QInputMethodEvent is not a QInputEvent): timed on arrival."""
        now_ms = self._clock() * 1000.0
        stamp = event.timestamp() if isinstance(event, QInputEvent) else 0
        if not stamp:
            return now_ms
        offset = now_ms - stamp
        # a smaller offset is a less delayed key; a jump of seconds is the stamp's clock wrapping or reset
        if self._offset_ms is None or offset < self._offset_ms or offset - self._offset_ms > RESYNC_MS:
            self._offset_ms = offset
        return stamp + self._offset_ms

    def _expire(self) -> None:
        now_ms = self._clock() * 1000.0
        deadline = self.detector.deadline_ms
        if deadline is not None and now_ms - deadline > LATE_MS and not self._waited:
            # the timer is late: the thread was busy, and the burst's next keys may be queued behind us
            self._waited = True
            self._timer.start(0)
            return
        self._waited = False
        self._release(self.detector.expire(now_ms))
        deadline = self.detector.deadline_ms
        if deadline is not None:  # clock granularity: not yet, look again
            self._timer.start(max(1, int(deadline - self._clock() * 1000.0) + 1))

    def _release(self, keys: tuple[Key, ...]) -> None:
        """Deliver held keys as a person typed them, to the widget that has focus now."""
        if not keys:
            return
        self._replaying = True
        try:
            for k in keys:
                held: _HeldKey | _HeldIme = k.token  # type: ignore[assignment]
                held.send(QApplication.focusWidget() or held.target)
        finally:
            self._replaying = False

    def _clear_composition(self, target: QObject) -> None:
        """The input method's last preedit may still show in the field: an empty event clears it."""
        self._replaying = True
        try:
            QApplication.sendEvent(target, QInputMethodEvent())
        finally:
            self._replaying = False
