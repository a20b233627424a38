"""Scans read right whatever the keyboard's state (issue #12): English keys, a Hangul input method that
composes syllables or commits bare jamo, Hangul key events, Caps Lock — while a person types Hangul in a
text field and keeps it. Driven through the real window and its app-wide filter at scanner speed."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QInputMethodEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from packdesk.channels.demo import BARCODE, Scenario
from packdesk.devices.hangul import hangul_to_keys
from tests.fakes.hangul_ime import LAYOUT, SHIFTED, events
from tests.ui.conftest import Packer, StampedKeys

pytestmark = pytest.mark.gui

BARCODES = [
    # courier tracking numbers, 10 to 13 digits
    "6012345678", "60123456789", "601234567890", "6012345678901", "384712093345", "5500012345678",
    # EAN-13
    "8801234000017", "8801234000024", "4006381333931", "8809000000012", "0012345678905",
    # Code 128 SKUs: letters, dashes, lowercase
    "MUG-WH-01", "TS-BLK-M", "ts-blk-m", "SKU-A1B2-C3", "abc-123", "BOX_S-01", "QWERTY-99", "Kr-Tea.12",
    "hello-WORLD", "X9-y8-Z7", "OPEN-BOX", "pallet-7", "LOT2026-11", "GIFT-SET-RED", "zz-top", "RT-qp-OW",
    # the app's own command and badge barcodes
    "PD-CMD-COMPLETE", "PD-CMD-CANCEL", "PD-CMD-LOGOUT", "PD-PACKER-001", "PD-PACKER-002",
]
assert len(BARCODES) >= 30


def text_only(code: str) -> str:
    """What a text-only reading can know: case survives only on the Shift jamo keys."""
    return "".join(c if c in "QWERTOP" or not c.isalpha() else c.lower() for c in code)


def ime_type(packer: Packer, code: str, composed: bool, delay_ms: int = 2) -> None:
    """The input method's events, delivered to the focused widget at scanner speed, then Enter. Its key events
    are stamped (``StampedKeys``); an input-method event carries no stamp (Qt's QInputMethodEvent has none)."""
    keys = StampedKeys(delay_ms)
    for kind, text in events(code, composed):
        target = packer.target()
        if kind == "key":
            keys.char(target, text)
            continue
        ev = QInputMethodEvent(text if kind == "preedit" else "", [])
        if kind == "commit":
            ev.setCommitString(text)
        keys.tick()
        QApplication.sendEvent(target, ev)
    keys.enter(packer.target())


def hangul_key_events(packer: Packer, code: str, delay_ms: int = 2) -> None:
    """Hangul mode where the platform still gives key events: key code + Shift, Hangul text (stamped)."""
    keys = StampedKeys(delay_ms)
    for ch in code:
        if ch.isascii() and ch.isalpha():
            keys.char(packer.target(), ch, SHIFTED.get(ch.lower(), LAYOUT[ch.lower()]) if ch.isupper() else LAYOUT[ch])
        else:
            keys.char(packer.target(), ch)
    keys.enter(packer.target())


@pytest.fixture
def focused_entry(station, qtbot):  # type: ignore[no-untyped-def]
    entry = station.window.view.entry  # a text field: where an input method is active
    entry.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is entry)
    return entry


MODES = ["english", "caps_lock", "hangul_keys", "ime_composed", "ime_jamo"]


@pytest.mark.parametrize("mode", MODES)
def test_thirty_barcodes_in_each_keyboard_state(station, packer, qtbot, focused_entry, mode) -> None:  # type: ignore[no-untyped-def]
    got: list[str] = []
    station.key_filter.scanned.connect(got.append)
    for code in BARCODES:
        with qtbot.waitSignal(station.key_filter.scanned, timeout=3000):
            if mode == "english":
                packer.type_code(code)
            elif mode == "caps_lock":
                packer.type_code(code, caps_lock=True)
            elif mode == "hangul_keys":
                hangul_key_events(packer, code)
            else:
                ime_type(packer, code, composed=mode == "ime_composed")
        assert focused_entry.text() == "", f"{mode}: {code} leaked into the text field"
        assert not focused_entry.inputMethodQuery(Qt.InputMethodQuery.ImSurroundingText)
    exact = mode in ("english", "caps_lock", "hangul_keys")
    assert got == (BARCODES if exact else [text_only(c) for c in BARCODES])


def test_packing_in_hangul_mode_end_to_end(station, packer, qtbot, focused_entry) -> None:  # type: ignore[no-untyped-def]
    """A whole pack with the input method composing: badge, waybill, lower-case SKUs, a command."""
    for code in ("PD-PACKER-001", Scenario.TSHIRTS):
        with qtbot.waitSignal(packer.view.rendered, timeout=3000):
            ime_type(packer, code, composed=True)
        qtbot.waitUntil(lambda: not station.service.busy)
    assert "작업자" in packer.view.packer_label.text() and Scenario.TSHIRTS in packer.view.waybill_label.text()
    for code in ("ts-blk-s", "ts-blk-m", "ts-blk-m", "TS-BLK-L"):  # the last one loses its case: still found
        with qtbot.waitSignal(packer.view.rendered, timeout=3000):
            ime_type(packer, code, composed=True)
        qtbot.waitUntil(lambda: not station.service.busy)
    assert "포장 완료" in packer.banner() and packer.sounds[-1] == "complete"


def test_a_person_typing_hangul_keeps_it_and_a_scan_in_between_is_decoded(station, packer, qtbot,  # type: ignore[no-untyped-def]
                                                                         focused_entry) -> None:
    """Human typing (100 ms a key) in a text field keeps its Hangul; a scanner burst mid-way is decoded and
    does not touch the field."""
    scans: list[str] = []
    station.key_filter.scanned.connect(scans.append)
    for kind, text in events("ghdrlfehd", composed=True):  # 홍길동, typed by a person
        ev = QInputMethodEvent(text if kind == "preedit" else "", [])
        if kind == "commit":
            ev.setCommitString(text)
        QTest.qWait(100)
        QApplication.sendEvent(focused_entry, ev)
    qtbot.waitUntil(lambda: focused_entry.text() == "홍길동", timeout=3000)
    with qtbot.waitSignal(station.key_filter.scanned, timeout=3000):
        ime_type(packer, BARCODE["TMB-500"], composed=True)
    assert scans == [BARCODE["TMB-500"]] and focused_entry.text() == "홍길동"
    assert hangul_to_keys(focused_entry.text()) == "ghdrlfehd"  # what the entry box would submit


def test_a_dialog_text_field_keeps_a_fast_burst_unless_it_is_a_badge_or_command(station, packer, qtbot) -> None:  # type: ignore[no-untyped-def]
    """Settings takes no scans: with the cursor in one of its text fields, a burst is what the person (or the
    scanner) put there, except the codes nobody types by accident: a badge, a command."""
    dialog = station.window.open_settings()
    field = dialog.fields["station_name"].widget
    field.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is field)
    before = field.text()
    packer.scan("PD-PACKER-002")  # a badge reaches the station
    assert field.text() == before and "이서연" in packer.view.packer_label.text()
    with qtbot.assertNotEmitted(station.key_filter.scanned, wait=100):
        packer.type_code(Scenario.SIMPLE)  # a waybill's number, typed or scanned into the field: stays there
    qtbot.waitUntil(lambda: field.text() == before + Scenario.SIMPLE, timeout=3000)
    assert station.service.state.pack is None
    dialog.reject()


def test_a_pin_typed_fast_is_never_a_station_scan(make_station, qtbot) -> None:  # type: ignore[no-untyped-def]
    """A supervisor PIN at 30 ms a key (a numeric keypad), or even at scanner speed, goes to the PIN field:
    never "unknown barcode: 1234" on the station, never a scan event."""
    from sqlalchemy import func, select

    from packdesk.core import models as m
    from packdesk.services.auth import hash_pin
    from packdesk.services.settings import Settings, SupervisorSettings

    st = make_station(Settings(recorder="off", supervisor=SupervisorSettings(pin_hash=hash_pin("1234", rounds=4))))
    p = Packer(qtbot, st)
    banner = p.banner()
    for delay_ms in (30, 2):
        opened: list[int] = []
        st.window.as_supervisor(lambda opened=opened: opened.append(1))  # type: ignore[misc]
        dialog = st.window.gate.dialog
        qtbot.waitUntil(lambda dialog=dialog: QApplication.focusWidget() is dialog.pin, timeout=3000)
        with qtbot.assertNotEmitted(st.key_filter.scanned, wait=100):
            p.type_code("1234", delay_ms=delay_ms)
        qtbot.waitUntil(lambda opened=opened: opened == [1], timeout=3000)  # the PIN field got it: unlocked
        st.window.gate.lock()
    assert p.banner() == banner
    st.service.worker.wait_idle(5)
    with st.db.session() as s:
        assert s.scalar(select(func.count()).select_from(m.ScanEvent)) == 0


def test_a_file_dialog_never_yields_scans(station, packer, qtbot) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtWidgets import QFileDialog, QLineEdit

    dialog = QFileDialog(station.window, "파일 / File")
    dialog.setOption(QFileDialog.Option.DontUseNativeDialog)
    dialog.setFileMode(QFileDialog.FileMode.AnyFile)
    dialog.open()
    name = dialog.findChild(QLineEdit, "fileNameEdit")
    name.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is name)
    with qtbot.assertNotEmitted(station.key_filter.scanned, wait=100):
        packer.type_code("PD-PACKER-002")  # even a badge: a file name is whatever was typed
    assert station.service.state.packer is None
    dialog.reject()


@pytest.mark.qt_log_ignore("This plugin does not support raise", r"QBackingStore::flush\(\) called for +QVideoWindow",
                           extend=True)  # the review's video widget, offscreen (tests/ui/test_review_view.py)
def test_where_typing_wins(station, qtbot) -> None:  # type: ignore[no-untyped-def]
    """The rule the filter applies, widget by widget: the station's own entry box and a scan-taking window's
    search take scans; a note is free text even in a window that takes scans."""
    from packdesk.ui.keyfilter import free_text, typing_only

    window = station.window
    review = window.open_review()
    assert not free_text(window.view.entry, window) and not typing_only(window.view.entry)
    assert not free_text(review.search_box, window)
    assert free_text(review.note_edit, window) and not typing_only(review.note_edit)
    review.close()


def test_a_scan_between_a_persons_syllables_in_a_search_box(station, packer, qtbot) -> None:  # type: ignore[no-untyped-def]
    """A supervisor typing a name into the product-link search box at human speed; an item's barcode is
    scanned half way, in Hangul mode. The box ends with exactly what the person typed; the scan arrives whole
    and decoded at the link screen (its item picker, ``MappingView.take_scan``), never at the station."""
    view = station.window.open_mapping()
    box = view.search
    box.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is box)

    def person(keys: str) -> None:
        for kind, text in events(keys, composed=True):
            ev = QInputMethodEvent(text if kind == "preedit" else "", [])
            if kind == "commit":
                ev.setCommitString(text)
            QTest.qWait(100)
            QApplication.sendEvent(box, ev)

    person("ghd")                 # 홍
    qtbot.waitUntil(lambda: box.text() == "홍", timeout=3000)
    with qtbot.waitSignal(view.item_scanned, timeout=3000) as scanned:
        ime_type(packer, "ts-blk-m", composed=True)
    person("rlfehd")              # 길동
    qtbot.waitUntil(lambda: box.text() == "홍길동", timeout=3000)
    assert scanned.args[0] == "ts-blk-m" and scanned.args[1] > 0 and view.item_search.text() == "ts-blk-m"
    assert view.item_results.item(0, 0).text() == "TS-BLK-M" and station.service.state.pack is None
    qtbot.waitUntil(lambda: not view.busy, timeout=3000)
    view.close()


def test_scans_while_a_message_box_is_open_reach_the_station(station, packer, qtbot) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtWidgets import QMessageBox

    box = QMessageBox(QMessageBox.Icon.Question, "확인 / Confirm", "계속할까요? / Go on?",
                      QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, station.window)
    box.open()
    # the keys go where the PC sends them: the message box's focused button (Enter would press it)
    qtbot.waitUntil(lambda: QApplication.activeModalWidget() is box and box.isAncestorOf(QApplication.focusWidget()))
    packer.scan("PD-PACKER-001")
    packer.scan(Scenario.SIMPLE)
    assert box.isVisible() and station.service.state.pack is not None
    box.reject()
