"""GUI fixtures: the real station (same composition root as the app) on the demo database."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QWidget

from packdesk.app import Station, build_station
from packdesk.core.db import Database
from packdesk.paths import AppDirs
from packdesk.services.settings import Settings
from packdesk.ui import i18n
from packdesk.ui.mapping_view import MappingView

SCANNER_KEY_DELAY_MS = 2  # a wedge scanner types a key every 2-10 ms
# The app's default key gap is 40 ms. On a loaded 2-core CI box the test process itself sometimes stalls for
# more than that between two synthetic key presses (the scanner's keys then look typed, and land in the focused
# field). The GUI tests' stations allow 70 ms: still well below the 100 ms the tests' "person" types at. The
# detector's timing rules are tested with a fake clock in tests/devices/test_wedge.py.
TEST_KEY_GAP_MS = 70.0


@pytest.fixture
def make_station(qtbot, dirs: AppDirs) -> Iterator:  # type: ignore[no-untyped-def]
    made: list[Station] = []

    def make(settings: Settings | None = None, **kwargs: Any) -> Station:
        """``kwargs`` go to ``build_station`` as the app passes them (``packers`` after the first-run set-up)."""
        settings = settings or Settings(recorder="off")
        if settings.scanner.max_gap_ms == Settings().scanner.max_gap_ms:
            settings = settings.model_copy(
                update={"scanner": settings.scanner.model_copy(update={"max_gap_ms": TEST_KEY_GAP_MS})})
        # a test folder: its database is made here
        st = build_station(dirs, settings, sounds=False, create_database=True, **kwargs)
        # not qtbot.addWidget: pytest-qt would delete the window before this fixture shuts the station down
        st.window.show()  # type: ignore[attr-defined]
        qtbot.waitExposed(st.window)
        st.window.activateWindow()  # type: ignore[attr-defined]
        # activation is asynchronous: keys typed before it lands would go to no widget (or to a window that
        # was active before, e.g. a question just answered)
        qtbot.waitUntil(lambda: QApplication.activeWindow() is st.window and QApplication.focusWidget() is not None)
        made.append(st)
        return st

    yield make
    for st in made:
        qtbot.waitUntil(lambda st=st: not st.service.busy, timeout=5000)  # type: ignore[attr-defined]
        st.service.worker.wait_idle(5)  # type: ignore[attr-defined]
        st.close()
        st.window.close()  # type: ignore[attr-defined]
        st.window.deleteLater()  # type: ignore[attr-defined]


@pytest.fixture
def station(make_station) -> Station:  # type: ignore[no-untyped-def]
    return make_station()


BURST_GAP_MS = 10  # keys this close together are one device's burst (a wedge scanner: 2-10 ms)


class StampedKeys:
    """Key presses as the window system hands a keyboard's (or a wedge scanner's) over: each stamped with when it
    was pressed, ``delay_ms`` after the one before, whenever this process gets round to delivering it. A stall
    of the test's process between two keys (a loaded CI box) then delays the keys but does not space them out,
    as on a real PC (the key filter times keys by their stamps: ui/keyfilter.py)."""

    def __init__(self, delay_ms: float) -> None:
        self.delay_ms = delay_ms
        self.first_ms = time.monotonic() * 1000
        self.count = 0

    def tick(self) -> int:
        """The next key's turn; its stamp. Ahead of the scanner's time the app runs until the key is due (as it
        does between a scanner's keys); behind it (this process was stalled) the key goes at once, the overdue
        keys one after another, as a window system hands over the keys that queued up meanwhile."""
        stamp = self.first_ms + self.count * self.delay_ms
        self.count += 1
        due_in = stamp - time.monotonic() * 1000
        if due_in > 0 and self.delay_ms <= BURST_GAP_MS:
            # within a scanner's burst the keys come faster than this process is scheduled on a loaded box: the
            # app's loop is not run between them (run, a stall inside it let the filter's late timer fire before
            # this harness could hand over the keys "queued" meanwhile: a window system queues them; the
            # filter waits for queued keys when its timer is late, ui/keyfilter.py)
            time.sleep(due_in / 1000)
        elif due_in > 0:
            QTest.qWait(max(1, round(due_in)))
        return int(stamp)

    def click(self, target: QWidget, key: int, modifiers: Qt.KeyboardModifier, text: str) -> None:
        stamp = self.tick()
        for kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
            event = QKeyEvent(kind, key, modifiers, text)
            event.setTimestamp(stamp)
            QApplication.sendEvent(target, event)

    def char(self, target: QWidget, ch: str, text: str | None = None) -> None:
        """A printable character's key (Shift held for a capital); ``text``: what the key produces if not ``ch``."""
        shift = Qt.KeyboardModifier.ShiftModifier if ch.isupper() else Qt.KeyboardModifier.NoModifier
        self.click(target, ord(ch.upper()), shift, ch if text is None else text)

    def enter(self, target: QWidget) -> None:
        self.click(target, Qt.Key.Key_Return, Qt.KeyboardModifier.NoModifier, "\r")


class Packer:
    """Types like a scanner (or a person) into whatever widget has focus, and waits for the screen."""

    def __init__(self, qtbot, station: Station) -> None:  # type: ignore[no-untyped-def]
        self.qtbot = qtbot
        self.station = station
        self.view = station.window.view  # type: ignore[attr-defined]
        self.sounds: list[str] = []
        station.window.sounds.requested.connect(self.sounds.append)  # type: ignore[attr-defined]

    def target(self) -> QWidget:
        return QApplication.focusWidget() or self.station.window  # type: ignore[return-value]

    def type_code(self, code: str, delay_ms: int = SCANNER_KEY_DELAY_MS, caps_lock: bool = False) -> None:
        """Key presses the way a wedge scanner makes them: Shift held for capitals. With Caps Lock on, the
        PC inverts the case of the text the keys produce (the key codes and Shift stay what they were). Each key
        is stamped with when it was pressed (``StampedKeys``), as the window system does."""
        keys = StampedKeys(delay_ms)
        for ch in code:
            keys.char(self.target(), ch, ch.swapcase() if caps_lock and ch.isalpha() else ch)
        keys.enter(self.target())

    def scan(self, code: str, delay_ms: int = SCANNER_KEY_DELAY_MS, caps_lock: bool = False) -> None:
        """A scan at scanner speed then Enter; returns when the view has shown the result."""
        with self.qtbot.waitSignal(self.view.rendered, timeout=3000):
            self.type_code(code, delay_ms, caps_lock)
        self.qtbot.waitUntil(lambda: not self.station.service.busy, timeout=3000)  # type: ignore[attr-defined]

    def banner(self) -> str:
        return self.view.banner.text()

    def level(self) -> str:
        return self.view._banner_box.property("level")


@pytest.fixture
def packer(qtbot, station: Station) -> Packer:  # type: ignore[no-untyped-def]
    return Packer(qtbot, station)


@pytest.fixture
def english_screens() -> Iterator[None]:
    """The screens in English only (``language: en``) for one test; Korean first again after it."""
    i18n.set_language("en")
    try:
        yield
    finally:
        i18n.set_language("ko")


@pytest.fixture
def any_language() -> Iterator[None]:
    """For tests that set the language themselves (or let the code under test set it): Korean first after."""
    try:
        yield
    finally:
        i18n.set_language("ko")


@pytest.fixture
def view(qtbot, demo_db: Database) -> Iterator[MappingView]:  # type: ignore[no-untyped-def]
    """The product-link screen on the demo shop, its ten products listed (tests/ui/test_mapping_view.py,
    test_i18n_mapping.py)."""
    v = MappingView(demo_db)
    qtbot.addWidget(v)
    v.show()
    qtbot.waitExposed(v)
    qtbot.waitUntil(lambda: not v.busy and v.model.rowCount() == 10, timeout=5000)
    yield v
    if not v._closed:
        v.done(0)
