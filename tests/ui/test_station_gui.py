"""The station window driven the way a packer uses it: a wedge scanner typing into whatever has focus."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from sqlalchemy import select

from packdesk.channels.demo import BARCODE, Scenario
from packdesk.core import models as m
from packdesk.core.enums import PackOutcome, ScanSource
from packdesk.core.station import CompleteMode
from packdesk.services.settings import Settings

pytestmark = pytest.mark.gui

MUG, TUMBLER, TEA = BARCODE["MUG-WH-01"], BARCODE["TMB-500"], BARCODE["TEA-GR"]


def test_key_events_reach_the_app_wide_filter(qtbot, station, packer) -> None:  # type: ignore[no-untyped-def]
    """House rule: prove qtbot's keys go through the app filter (not straight into a widget)."""
    with qtbot.waitSignal(station.key_filter.scanned) as blocker:
        packer.type_code("PD-PACKER-001")
    assert blocker.args == ["PD-PACKER-001"]
    assert station.window.view.entry.text() == ""  # swallowed, not typed into the focused box


def test_happy_path_scanner_only(station, packer) -> None:  # type: ignore[no-untyped-def]
    packer.scan("PD-PACKER-001")
    assert "김민수" in packer.banner() and packer.sounds[-1] == "ok"
    packer.scan(Scenario.SIMPLE)
    assert Scenario.SIMPLE in packer.view.waybill_label.text()
    assert packer.view.row_texts() == [("세라믹 머그컵", "0 / 2"), ("스텐 텀블러 500ml", "0 / 1")]
    assert packer.sounds[-1] == "ok" and packer.level() == "info"
    packer.scan(MUG)
    assert packer.view.row_texts()[0] == ("세라믹 머그컵", "1 / 2") and packer.sounds[-1] == "item"
    packer.scan(TUMBLER)
    packer.scan(MUG)
    assert packer.banner() == f"포장 완료: {Scenario.SIMPLE}" and packer.sounds[-1] == "complete"
    assert packer.level() == "success"
    # the completed box stays on screen, all in, until the next waybill; the heading says what comes next
    assert packer.view.row_texts() == [("세라믹 머그컵", "2 / 2"), ("스텐 텀블러 500ml", "1 / 1")]
    assert "다음 송장을 스캔하세요" in packer.view.waybill_label.text()
    station.service.worker.wait_idle(5)
    with station.db.session() as s:
        ps = s.scalars(select(m.PackSession)).one()
        assert ps.outcome is PackOutcome.COMPLETED and ps.packer_name == "김민수"
        sources = set(s.scalars(select(m.ScanEvent.source)))
        assert sources == {ScanSource.WEDGE}


@pytest.mark.parametrize(("setup", "code", "expect_ko"), [
    ([Scenario.SIMPLE], TEA, "다른 상품입니다"),                       # wrong item
    ([Scenario.SIMPLE, TUMBLER], TUMBLER, "수량 초과"),                # one too many
    ([Scenario.SIMPLE], "UNKNOWN-0001", "알 수 없는 바코드"),          # unknown barcode
    ([Scenario.PARTLY_CANCELLED], TUMBLER, "취소된 상품입니다"),       # item of a cancelled line
    ([], Scenario.CANCELLED, "취소된 주문입니다"),                     # cancelled order
    ([], Scenario.CANCEL_REQUESTED, "취소 요청된 주문"),               # cancel requested: hold
    ([], Scenario.UNMAPPED, "관리자에게 요청하세요"),                  # not linked to a shipping item
    ([], MUG, "송장을 먼저 스캔하세요"),                               # item with no waybill
    ([Scenario.SIMPLE], Scenario.TEA_SET, "먼저 완료하거나 취소하세요"),  # another waybill mid-pack
    ([], "PD-CMD-COMPLETE", "포장 중인 송장이 없습니다"),              # command with nothing to do
])
def test_every_refusal_is_loud_and_clear(station, packer, setup, code, expect_ko) -> None:  # type: ignore[no-untyped-def]
    packer.scan("PD-PACKER-001")
    for c in setup:
        packer.scan(c)
    before = (packer.view.row_texts(), packer.view.progress_label.text())
    packer.scan(code)
    assert expect_ko in packer.banner()
    assert packer.view.banner_en.text()  # English under the Korean
    assert packer.level() == "error" and packer.sounds[-1] == "error"
    assert (packer.view.row_texts(), packer.view.progress_label.text()) == before  # nothing counted


def test_already_packed_waybill_is_refused(station, packer) -> None:  # type: ignore[no-untyped-def]
    for code in ("PD-PACKER-002", Scenario.SIMPLE, MUG, MUG, TUMBLER):
        packer.scan(code)
    packer.scan(Scenario.SIMPLE)
    assert "이미 포장된 송장" in packer.banner() and packer.sounds[-1] == "error"


def test_waybill_without_packer_asks_for_badge(station, packer) -> None:  # type: ignore[no-untyped-def]
    packer.scan(Scenario.SIMPLE)
    assert "작업자 바코드를 먼저" in packer.banner() and packer.sounds[-1] == "error"


def test_twelve_pack_and_partly_cancelled_notice(station, packer) -> None:  # type: ignore[no-untyped-def]
    packer.scan("PD-PACKER-001")
    packer.scan(Scenario.TEA_SET)
    assert packer.view.row_texts() == [("녹차 티백", "0 / 12")]
    for _ in range(11):
        packer.scan(TEA)
    assert packer.view.progress_label.text() == "11 / 12"
    packer.scan(TEA)
    assert "포장 완료" in packer.banner()
    packer.scan(Scenario.PARTLY_CANCELLED)
    assert packer.sounds[-1] == "warning" and packer.level() == "warning"
    assert packer.view.notice.isVisible() and "텀블러" in packer.view.notice.text()


def test_cancel_command_resets(station, packer) -> None:  # type: ignore[no-untyped-def]
    packer.scan("PD-PACKER-001")
    packer.scan(Scenario.GIFT_SET)
    packer.scan(MUG)
    packer.scan("PD-CMD-CANCEL")  # an item is in: asked again, nothing thrown away yet
    assert "한 번 더" in packer.banner() and "1개" in packer.banner() and packer.level() == "warning"
    assert packer.view.progress_label.text() == "1 / 8"
    packer.scan("PD-CMD-CANCEL")
    assert "포장 취소" in packer.banner() and packer.view.row_texts() == []
    packer.scan(Scenario.GIFT_SET)  # can start again after a cancel
    assert packer.view.progress_label.text() == "0 / 8"


def test_complete_on_command_mode(make_station, qtbot) -> None:  # type: ignore[no-untyped-def]
    from tests.ui.conftest import Packer

    st = make_station(Settings(complete_mode=CompleteMode.COMMAND, recorder="off"))
    p = Packer(qtbot, st)
    for code in ("PD-PACKER-001", Scenario.SIMPLE, MUG, MUG, TUMBLER):
        p.scan(code)
    assert "완료 바코드를 스캔하세요" in p.banner() and p.view.row_texts()
    p.scan("PD-CMD-COMPLETE")
    assert "포장 완료" in p.banner() and p.sounds[-1] == "complete"


def test_scans_work_whatever_widget_has_focus(station, packer, qtbot) -> None:  # type: ignore[no-untyped-def]
    station.window.view.packer_combo.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is station.window.view.packer_combo)
    packer.scan("PD-PACKER-001")
    packer.scan(Scenario.SIMPLE)
    assert packer.view.row_texts()[0][1] == "0 / 2"


def test_human_typing_in_entry_box_is_kept_and_submits_as_manual(station, packer, qtbot) -> None:  # type: ignore[no-untyped-def]
    entry = station.window.view.entry
    entry.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is entry)
    packer.scan("PD-PACKER-001")
    qtbot.keyClicks(entry, Scenario.SIMPLE, delay=90)  # a person typing a damaged label's number
    qtbot.waitUntil(lambda: entry.text() == Scenario.SIMPLE, timeout=3000)
    with qtbot.waitSignal(packer.view.rendered, timeout=3000):
        qtbot.keyClick(entry, Qt.Key.Key_Return, delay=90)
    qtbot.waitUntil(lambda: not station.service.busy)
    assert Scenario.SIMPLE in packer.view.waybill_label.text()
    station.service.worker.wait_idle(5)
    with station.db.session() as s:
        assert s.scalars(select(m.ScanEvent.source).order_by(m.ScanEvent.id.desc())).first() is ScanSource.MANUAL


def test_choosing_packer_by_name(station, packer, qtbot) -> None:  # type: ignore[no-untyped-def]
    combo = station.window.view.packer_combo
    idx = combo.findText("이서연")
    with qtbot.waitSignal(packer.view.rendered):
        combo.activated.emit(idx)
    assert "이서연" in packer.view.packer_label.text()
    packer.scan(Scenario.SIMPLE)
    assert "포장 시작" in packer.banner()


def test_barcode_sheet_from_the_window(station, tmp_path) -> None:  # type: ignore[no-untyped-def]
    written = station.window.save_sheet(tmp_path / "sheet.png")
    assert written and all(p.stat().st_size > 10_000 for p in written)
