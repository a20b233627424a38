"""Returns inspection at the station window, driven at scanner speed in both languages (ui/returns_panel.py)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QMessageBox
from sqlalchemy import select

from packdesk.channels.demo import BARCODE, Scenario
from packdesk.core import models as m
from packdesk.core.enums import PackOutcome
from packdesk.services.returns import CONDITION_CODES, RETURNS_OFF, RETURNS_ON
from packdesk.services.settings import Settings
from packdesk.services.station import COMMAND_PREFIX
from packdesk.ui.sheets import starter_sheet
from tests.ui.conftest import Packer
from tests.ui.test_close_mid_pack import answer_close_question

pytestmark = pytest.mark.gui

MUG, TUMBLER, TEA = BARCODE["MUG-WH-01"], BARCODE["TMB-500"], BARCODE["TEA-GR"]
PACK_SIMPLE = ("PD-PACKER-001", Scenario.SIMPLE, MUG, TUMBLER, MUG)


def panel(packer: Packer):  # type: ignore[no-untyped-def]
    return packer.station.window.returns_panel  # type: ignore[attr-defined]


def scan(packer: Packer, code: str) -> None:
    """A scan at scanner speed, then the screen laid out and painted before the next scan's keys. The returns
    screen (two tables, a word-wrapped heading beside the camera picture) takes longer to paint than the pack's;
    on a loaded test box that paint, run while this test waits between its first and second synthetic key, can
    outlast the key filter's gap and release the first key as typing. A real scanner's keys queue up meanwhile
    and the filter lets them in (ui/keyfilter.py); these synthetic keys are only sent after the wait, so the test
    lets the paint finish first, as a packer looks at the screen before the next scan."""
    packer.scan(code)
    QApplication.sendPostedEvents()
    QApplication.processEvents()


def test_a_return_is_inspected_at_scanner_speed_and_the_mode_is_unmistakable(station, packer) -> None:  # type: ignore[no-untyped-def]
    for code in PACK_SIMPLE:
        scan(packer, code)
    p = panel(packer)
    assert p.isHidden() and packer.view.table.isVisible()
    scan(packer, RETURNS_ON)
    assert p.isVisible() and not packer.view.table.isVisible() and not packer.view._banner_box.isVisible()
    assert p.mode_bar.text() == "반품 검수 / Returns inspection" and "#6a1b9a" in p.styleSheet()
    assert "반품 송장" in p.banner.text() and p.banner_en.text()
    assert station.window.returns_action.isChecked()
    scan(packer, Scenario.SIMPLE)
    assert "녹화 중" in p.heading.text() and Scenario.SIMPLE in p.heading.text()
    assert p.sent_texts() == [("세라믹 머그컵", "0 / 2"), ("스텐 텀블러 500ml", "0 / 1")]
    scan(packer, MUG)
    assert p.sent_texts()[0] == ("세라믹 머그컵", "1 / 2") and packer.sounds[-1] == "item"
    assert "상태 바코드" in p.banner.text()
    scan(packer, "PD-RET-OK")
    scan(packer, TEA)  # not what was sent
    assert "보낸 상품이 아닙니다" in p.banner.text() and p.level() == "warning"
    scan(packer, "PD-RET-OTHER")
    assert [r[3:] for r in p.out_texts()] == [("예 / Yes", "정상 / Good"),
                                              ("아님 / Not ours", "다른 상품 / Other product")]
    scan(packer, f"{COMMAND_PREFIX}COMPLETE")
    assert "반품 검수 완료" in p.banner.text() and packer.sounds[-1] == "complete" and p.level() == "success"
    assert "다음 반품" in p.heading.text()
    scan(packer, RETURNS_OFF)
    assert p.isHidden() and packer.view.table.isVisible() and not station.window.returns_action.isChecked()
    station.service.worker.wait_idle(5)
    with station.db.session() as s:
        insp = s.scalars(select(m.ReturnInspection)).one()
        assert insp.outcome is PackOutcome.COMPLETED and insp.original_pack_session_id is not None


def test_refusals_in_returns_mode_are_loud_and_the_pack_is_not_left(station, packer) -> None:  # type: ignore[no-untyped-def]
    scan(packer, "PD-PACKER-001")
    scan(packer, Scenario.SIMPLE)
    scan(packer, RETURNS_ON)  # a pack is open: it must be finished first
    assert panel(packer).isHidden() and packer.sounds[-1] == "error"
    scan(packer, f"{COMMAND_PREFIX}CANCEL")
    scan(packer, RETURNS_ON)
    p = panel(packer)
    scan(packer, "PD-RET-DAMAGED")  # a condition with no return open
    assert p.level() == "error" and "반품 송장을 먼저" in p.banner.text()
    scan(packer, "PD-RET-DAMAGED")
    assert p.repeat.isVisible() and p.repeat.text() == "×2"
    scan(packer, "RT-0000111")  # a courier's return label PackDesk does not know: recording, then the original
    assert "모르는 반품 송장" in p.banner.text() and "원 주문 미확인" in p.heading.text()
    scan(packer, RETURNS_OFF)  # not with a return open
    assert p.isVisible() and p.level() == "error"
    scan(packer, f"{COMMAND_PREFIX}CANCEL")
    assert "반품 검수 취소" in p.banner.text()


def test_returns_mode_in_english_by_menu_and_buttons(make_station, qtbot, english_screens) -> None:  # type: ignore[no-untyped-def]
    st = make_station(Settings(recorder="off", language="en"))
    packer = Packer(qtbot, st)
    for code in PACK_SIMPLE:
        scan(packer, code)
    with qtbot.waitSignal(packer.view.rendered):
        st.window.returns_action.trigger()  # the menu's switch
    QApplication.sendPostedEvents()
    QApplication.processEvents()  # painted before the next scan (``switch``)
    p = panel(packer)
    assert p.isVisible() and p.mode_bar.text() == "Returns inspection"
    assert p.banner.text().startswith("Returns inspection — scan the return label") and not p.banner_en.isVisible()
    scan(packer, Scenario.SIMPLE)
    scan(packer, TUMBLER)
    with qtbot.waitSignal(packer.view.rendered):
        p.buttons["PD-RET-DAMAGED"].click()  # pressed instead of scanned
    assert p.out_texts()[0][3:] == ("Yes", "Damaged") and p.level() == "warning"
    scan(packer, f"{COMMAND_PREFIX}COMPLETE")
    assert p.banner.text().startswith("Return inspected:") and "1 with a problem" in p.banner.text()
    with qtbot.waitSignal(packer.view.rendered):
        st.window.returns_action.trigger()
    assert p.isHidden()


def test_the_command_sheet_carries_the_returns_barcodes(station, packer) -> None:  # type: ignore[no-untyped-def]
    entries = {e.code: e.label for sec in starter_sheet([]) for e in sec.entries}
    assert {RETURNS_ON, RETURNS_OFF, *CONDITION_CODES} <= set(entries)
    assert entries["PD-RET-MISSING"] == "구성품 누락 / Missing part"
    assert all(station.service.is_known_code(c) for c in (RETURNS_ON, RETURNS_OFF, *CONDITION_CODES))


def test_closing_mid_inspection_asks_and_yes_ends_it_as_closed(make_station, qtbot) -> None:  # type: ignore[no-untyped-def]
    """A return being inspected is work in progress, as a pack is: Ctrl+Q asks (naming the return) and No keeps
    it open; the window's X then Yes stores it as closed, with what was scanned."""
    st = make_station()
    packer = Packer(qtbot, st)
    for code in PACK_SIMPLE:
        scan(packer, code)
    scan(packer, RETURNS_ON)
    scan(packer, Scenario.SIMPLE)
    scan(packer, MUG)
    seen: list[str] = []
    answer_close_question(qtbot, QMessageBox.StandardButton.No, seen)
    QTest.keyClick(st.window.windowHandle(), Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: bool(seen), timeout=5000)
    assert Scenario.SIMPLE in seen[0] and "검수" in seen[0] and "inspected" in seen[0]  # both languages
    assert st.window.isVisible() and st.service.returns.open  # still inspecting

    answer_close_question(qtbot, QMessageBox.StandardButton.Yes, seen)
    assert st.window.close()  # the window's X
    assert len(seen) == 2 and not st.window.isVisible()
    st.service.worker.wait_idle(5)
    with st.db.session() as s:
        insp = s.scalars(select(m.ReturnInspection)).one()
        assert insp.outcome is PackOutcome.CLOSED and insp.ended_at is not None
        assert s.scalars(select(m.ReturnItem.expected)).all() == [True]


def test_the_returns_screen_can_be_read_at_1280x800(station, packer) -> None:  # type: ignore[no-untyped-def]
    """The item's name keeps its room in the table of what came out (the condition's words end in "…" first),
    and every button's title is whole."""
    station.window.resize(1280, 800)
    for code in (*PACK_SIMPLE, RETURNS_ON, Scenario.SIMPLE, MUG):
        scan(packer, code)
    out = panel(packer).out
    QApplication.processEvents()
    name = out.fontMetrics().horizontalAdvance("세라믹 머그컵")
    assert out.columnWidth(1) >= name and not out.horizontalScrollBar().isVisible()
    for button in panel(packer).buttons.values():  # each title whole, its Korean over its English
        title = button.title
        needed = max(title.fontMetrics().horizontalAdvance(line) for line in title.text().split("\n"))
        assert title.width() >= needed and title.height() >= title.sizeHint().height(), title.text()
