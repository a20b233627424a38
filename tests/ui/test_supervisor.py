"""Packer mode and supervisor mode in the real window: supervisor screens ask for the PIN (typed at human
speed, so the scanner filter leaves it alone), a wrong PIN is refused, five lock the dialog out, supervisor
mode locks itself after being left alone and when a packer badge is scanned; the PIN is set in Settings and
only its hash is stored."""

from __future__ import annotations

import json

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QApplication

from packdesk.services.auth import PinInvalid, check_pin, hash_pin, validate_pin
from packdesk.services.settings import Settings, SupervisorSettings
from packdesk.ui.supervisor import LOCKOUT_S, MAX_TRIES, PinDialog
from tests.ui.conftest import Packer

pytestmark = pytest.mark.gui
HUMAN_KEY_DELAY_MS = 120  # people type slower than the wedge filter's gap (40 ms; 70 ms in the GUI tests)


def test_pin_rules_and_hash() -> None:
    h = hash_pin("4821", rounds=4)
    assert h.startswith("$2") and "4821" not in h
    assert check_pin("4821", h) and not check_pin("4822", h) and not check_pin("", h)
    assert not check_pin("4821", "") and not check_pin("4821", "not a hash")
    for bad in ("123", "1234567890123", "12a4", "", "１２３４"):
        with pytest.raises(PinInvalid):
            validate_pin(bad)


def action(st, text: str) -> QAction:  # type: ignore[no-untyped-def]
    return next(a for a in st.window.findChildren(QAction) if a.text().startswith(text))


def type_pin(qtbot, dialog: PinDialog, pin: str) -> None:  # type: ignore[no-untyped-def]
    dialog.pin.setFocus()
    qtbot.waitUntil(dialog.pin.hasFocus)
    for ch in pin:
        qtbot.keyClick(dialog.pin, ch, delay=HUMAN_KEY_DELAY_MS)
    qtbot.keyClick(dialog.pin, Qt.Key.Key_Return, delay=HUMAN_KEY_DELAY_MS)


def with_pin(pin: str = "4821", auto_lock_min: int = 5) -> Settings:
    return Settings(recorder="off", supervisor=SupervisorSettings(pin_hash=hash_pin(pin, rounds=4),
                                                                  auto_lock_min=auto_lock_min))


def test_without_a_pin_everything_opens_and_the_status_bar_says_so(make_station, qtbot) -> None:  # type: ignore[no-untyped-def]
    st = make_station()
    assert "PIN 없음" in st.window.mode_label.text()
    action(st, "발송 대기함").trigger()
    qtbot.waitUntil(lambda: st.window._outbox_view is not None and st.window._outbox_view.isVisible())
    assert st.window.gate.dialog is None
    st.window._outbox_view.close()


def test_a_supervisor_screen_asks_for_the_pin(make_station, qtbot) -> None:  # type: ignore[no-untyped-def]
    st = make_station(with_pin())
    gate = st.window.gate
    assert "작업자 모드" in st.window.mode_label.text() and not st.window.lock_action.isEnabled()
    action(st, "상품 연결").trigger()
    qtbot.waitUntil(lambda: gate.dialog is not None and gate.dialog.isVisible())
    dialog = gate.dialog
    assert st.window._mapping_view is None  # nothing opened yet

    type_pin(qtbot, dialog, "1111")
    qtbot.waitUntil(lambda: "틀렸습니다" in dialog.message.text())
    assert dialog.isVisible() and st.window._mapping_view is None and not gate.is_supervisor()

    type_pin(qtbot, dialog, "4821")
    qtbot.waitUntil(lambda: st.window._mapping_view is not None and st.window._mapping_view.isVisible())
    assert gate.is_supervisor() and "관리자 모드" in st.window.mode_label.text()
    st.window._mapping_view.close()

    # in supervisor mode the next screen opens without asking
    action(st, "발송 대기함").trigger()
    assert gate.dialog is None and st.window._outbox_view is not None
    st.window._outbox_view.close()

    st.window.lock_action.trigger()
    assert not gate.is_supervisor() and "작업자 모드" in st.window.mode_label.text()


def test_five_wrong_pins_lock_the_dialog_out(make_station, qtbot) -> None:  # type: ignore[no-untyped-def]
    st = make_station(with_pin())
    gate = st.window.gate
    now = [1000.0]
    gate._clock = lambda: now[0]
    action(st, "설정").trigger()
    qtbot.waitUntil(lambda: gate.dialog is not None)
    dialog = gate.dialog
    for _ in range(MAX_TRIES):
        dialog.pin.setText("0000")
        dialog.submit()
    assert "다시 시도" in dialog.message.text()
    dialog.pin.setText("4821")  # even the right PIN waits out the lockout
    dialog.submit()
    assert dialog.isVisible() and not gate.is_supervisor()
    now[0] += LOCKOUT_S + 1
    dialog.pin.setText("4821")
    dialog.submit()
    assert gate.is_supervisor() and not dialog.isVisible()
    qtbot.waitUntil(lambda: QApplication.activeModalWidget() is not None)  # the settings dialog opened
    QApplication.activeModalWidget().reject()


def test_supervisor_mode_locks_when_left_alone_and_when_a_packer_scans_a_badge(make_station, qtbot) -> None:  # type: ignore[no-untyped-def]
    st = make_station(with_pin(auto_lock_min=2))
    gate = st.window.gate
    now = [1000.0]
    gate._clock = lambda: now[0]
    assert gate.try_pin("4821") and gate.is_supervisor()
    now[0] += 119
    gate.check_idle()
    assert gate.is_supervisor()
    gate.touch()
    now[0] += 120
    qtbot.waitUntil(lambda: not gate.is_supervisor(), timeout=3000)  # the window's one-second tick
    assert "작업자 모드" in st.window.mode_label.text()

    assert gate.try_pin("4821")
    Packer(qtbot, st).scan("PD-PACKER-002")  # a packer takes over the station
    assert not gate.is_supervisor()


def test_the_pin_is_set_in_settings_and_only_its_hash_is_saved(make_station, qtbot, dirs) -> None:  # type: ignore[no-untyped-def]
    st = make_station()
    dialog = st.window.open_settings()
    dialog.pin_new.setText("12")
    dialog.pin_again.setText("12")
    dialog._save()
    assert "4-12" in dialog.error.text() and dialog.isVisible()
    dialog.pin_new.setText("20261128")
    dialog.pin_again.setText("20261129")
    dialog._save()
    assert "다릅니다" in dialog.error.text()
    dialog.pin_again.setText("20261128")
    dialog._save()
    qtbot.waitUntil(lambda: not dialog.isVisible())
    saved = json.loads(dirs.settings_file.read_text(encoding="utf-8"))
    assert "20261128" not in dirs.settings_file.read_text(encoding="utf-8")
    assert check_pin("20261128", saved["supervisor"]["pin_hash"])
    gate = st.window.gate
    assert gate.has_pin and "작업자 모드" in st.window.mode_label.text()  # the new PIN counts at once
    action(st, "상품 연결").trigger()
    qtbot.waitUntil(lambda: gate.dialog is not None)
    type_pin(qtbot, gate.dialog, "20261128")
    qtbot.waitUntil(lambda: st.window._mapping_view is not None)
    st.window._mapping_view.close()
