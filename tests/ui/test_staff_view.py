"""Staff at the station, driven as people do: a supervisor adds a packer on the staff screen (File → Staff…),
the packer scans the new badge at scanner speed and packs; deactivated, the badge is refused; a lost badge
is replaced and printed. And the station's badge rule: nobody signs in over an open pack."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import zxingcpp
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication, QFileDialog, QMessageBox, QPushButton
from sqlalchemy import select

from packdesk.channels.demo import BARCODE, Scenario
from packdesk.core import models as m
from packdesk.core.enums import PackOutcome
from packdesk.services.staff import StaffMember
from packdesk.ui import barcode_sheet
from packdesk.ui.staff_view import StaffView
from tests.ui.conftest import Packer
from tests.ui.test_i18n_orders import click, commit, menu_action

pytestmark = pytest.mark.gui
TIMEOUT = 10_000
MUG, TUMBLER = BARCODE["MUG-WH-01"], BARCODE["TMB-500"]


def open_staff(qtbot, st, title: str = "작업자… / Staff…") -> StaffView:  # type: ignore[no-untyped-def]
    st.service.worker.wait_idle(5)  # the station's last pack is stored (a person is never that quick)
    menu_action(st, title).trigger()
    view = st.window._staff_view
    assert isinstance(view, StaffView)
    qtbot.waitUntil(lambda: view.isVisible() and not view.busy and bool(view.members), timeout=TIMEOUT)
    return view


def close_staff(qtbot, st, view: StaffView) -> None:  # type: ignore[no-untyped-def]
    click(qtbot, view.findChild(QPushButton, "staffClose"))
    assert not view.isVisible()
    st.window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is st.window and QApplication.focusWidget() is not None)


def member(view: StaffView, name: str) -> StaffMember:
    return next(mb for mb in view.members if mb.name == name)


def click_row(qtbot, view: StaffView, name: str) -> None:  # type: ignore[no-untyped-def]
    table = view.table
    row = next(r for r in range(table.rowCount()) if table.item(r, 0).text() == name)
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=table.visualItemRect(table.item(row, 1)).center())
    assert view.selected_member() is not None and view.selected_member().name == name  # type: ignore[union-attr]


def row_texts(view: StaffView, name: str) -> list[str]:
    table = view.table
    row = next(r for r in range(table.rowCount()) if table.item(r, 0).text() == name)
    return [table.item(row, c).text() for c in range(table.columnCount())]


def act(qtbot, view: StaffView, button: QPushButton) -> None:  # type: ignore[no-untyped-def]
    """A click that changes a packer: the list read again afterwards."""
    with qtbot.waitSignal(view.changed, timeout=TIMEOUT), qtbot.waitSignal(view.refreshed, timeout=TIMEOUT):
        click(qtbot, button)
    qtbot.waitUntil(lambda: not view.busy, timeout=TIMEOUT)


@pytest.fixture
def yes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    asked: list[str] = []

    def answer(*args: Any, **kwargs: Any) -> QMessageBox.StandardButton:
        asked.extend(args[1:3])  # title, text
        return QMessageBox.StandardButton.Yes

    monkeypatch.setattr(QMessageBox, "question", answer)
    return asked


def test_a_packer_added_on_the_staff_screen_signs_in_packs_and_once_deactivated_is_refused(  # type: ignore[no-untyped-def]
        qtbot, station, packer: Packer, yes) -> None:
    view = open_staff(qtbot, station)
    assert [mb.name for mb in view.members] == ["김민수", "박지훈", "이서연"]  # the demo shop's
    assert not view.add_button.isEnabled()  # nothing typed
    commit(qtbot, view.name_edit, "김민수")
    with qtbot.waitSignal(view.refused, timeout=TIMEOUT) as refusal:
        click(qtbot, view.add_button)
    assert refusal.args == ["staff_name_taken"] and "같은 이름의 작업자가 이미 있습니다" in view.message.text()
    assert "already called 김민수" in view.message.text() and len(view.members) == 3

    commit(qtbot, view.name_edit, "박새롬")
    act(qtbot, view, view.add_button)
    new = member(view, "박새롬")
    assert row_texts(view, "박새롬") == ["박새롬", new.badge_code, "사용 중 / Active", "0"]
    assert new.badge_code in view.message.text() and view.name_edit.text() == ""
    assert view.selected_member() == new
    # the station read its packers again at once: the name box has the new packer, the badge signs in
    combo = station.window.view.packer_combo
    qtbot.waitUntil(lambda: "박새롬" in [combo.itemText(i) for i in range(combo.count())], timeout=TIMEOUT)
    close_staff(qtbot, station, view)
    packer.scan(new.badge_code)
    assert "작업자: 박새롬" in packer.banner() and packer.sounds[-1] == "ok"
    for code in (Scenario.SIMPLE, MUG, TUMBLER, MUG):
        packer.scan(code)
    assert packer.banner() == f"포장 완료: {Scenario.SIMPLE}"

    view = open_staff(qtbot, station)
    assert row_texts(view, "박새롬")[3] == "1"
    click_row(qtbot, view, "박새롬")
    assert view.active_button.text() == "사용 중지 / Deactivate"
    with qtbot.waitSignal(packer.view.rendered, timeout=TIMEOUT):  # signed out at once: no pack is open
        act(qtbot, view, view.active_button)
    assert "박새롬" in yes[1] and "Deactivate 박새롬?" in yes[1]
    assert row_texts(view, "박새롬")[2:] == ["사용 중지 / Deactivated", "1"]
    assert view.active_button.text() == "다시 사용 / Reactivate" and not view.badge_button.isEnabled()
    assert station.service.state.packer is None
    assert "박새롬이(가) 사용 중지되어 작업이 종료되었습니다" in packer.banner() and packer.level() == "warning"
    assert "작업자 바코드를 스캔하세요" in packer.view.waybill_label.text()
    close_staff(qtbot, station, view)
    packer.scan(new.badge_code)
    assert packer.banner() == "사용 중지된 작업자입니다: 박새롬 — 관리자에게 문의하세요"
    assert packer.level() == "error" and packer.sounds[-1] == "error" and station.service.state.packer is None
    station.service.worker.wait_idle(5)
    with station.db.session() as s:  # the pack keeps who packed it
        ps = s.scalars(select(m.PackSession)).one()
        assert (ps.packer_id, ps.packer_name, ps.outcome) == (new.id, "박새롬", PackOutcome.COMPLETED)


def test_a_badge_scanned_mid_pack_never_changes_the_packer(station, packer: Packer) -> None:  # type: ignore[no-untyped-def]
    packer.scan("PD-PACKER-001")
    packer.scan(Scenario.SIMPLE)
    packer.scan(MUG)
    before = packer.view.row_texts()
    packer.scan("PD-PACKER-002")
    assert packer.banner() == "포장 중에는 작업자를 바꿀 수 없습니다 — 완료하거나 취소한 뒤 스캔하세요"
    assert packer.view.banner_en.text() == "Finish or cancel this pack before changing packer"
    assert packer.level() == "error" and packer.sounds[-1] == "error"
    assert packer.view.row_texts() == before and "김민수" in packer.view.packer_label.text()
    packer.scan("pd-packer-001")  # their own badge again (case lost in Hangul mode): nothing changes
    assert "김민수" in packer.banner() and "포장을 계속하세요" in packer.banner() and packer.level() == "info"
    packer.scan(TUMBLER)
    packer.scan(MUG)
    assert packer.banner() == f"포장 완료: {Scenario.SIMPLE}"
    packer.scan("PD-PACKER-002")  # between packs it does
    assert "작업자: 이서연" in packer.banner()
    station.service.worker.wait_idle(5)
    with station.db.session() as s:
        ps = s.scalars(select(m.PackSession)).one()
        assert ps.packer_name == "김민수" and ps.outcome is PackOutcome.COMPLETED
        refused = s.scalars(select(m.ScanEvent).where(~m.ScanEvent.accepted)).one()
        assert (refused.code, refused.reason, refused.pack_session_id) == \
            ("PD-PACKER-002", "packer_change_during_pack", ps.id)


def test_the_idle_station_asks_for_a_badge_until_someone_signs_in(station, packer: Packer) -> None:  # type: ignore[no-untyped-def]
    assert packer.banner() == "작업자 바코드를 스캔하세요" and packer.view.banner_en.text() == "Scan your packer badge"
    assert packer.view.waybill_label.text() == "▶ 작업자 바코드를 스캔하세요 / Scan a packer badge"
    packer.scan(Scenario.SIMPLE)
    assert "작업자 바코드를 먼저 스캔하세요" in packer.banner()
    packer.scan("PD-PACKER-001")
    assert packer.view.waybill_label.text() == "▶ 송장을 스캔하세요 / Scan a waybill"
    assert "송장을 스캔하세요" in packer.banner()
    packer.scan("PD-CMD-LOGOUT")
    assert "작업자 바코드를 스캔하세요" in packer.banner()
    assert "작업자 바코드를 스캔하세요" in packer.view.waybill_label.text()


def test_a_lost_badge_is_replaced_and_badges_print_big_and_scan(  # type: ignore[no-untyped-def]
        qtbot, station, packer: Packer, yes, monkeypatch, tmp_path: Path) -> None:
    view = open_staff(qtbot, station)
    old = member(view, "이서연")
    click_row(qtbot, view, "이서연")
    act(qtbot, view, view.badge_button)
    assert old.badge_code in yes[1]  # the confirmation names the badge that stops working
    new = member(view, "이서연")
    assert new.badge_code != old.badge_code and new.badge_code.startswith("PD-STAFF-")
    assert row_texts(view, "이서연")[1] == new.badge_code

    # badges: the selected one; with nobody selected, every active packer
    painted: list[Any] = []
    paint = barcode_sheet.paint_page
    monkeypatch.setattr(barcode_sheet, "paint_page", lambda p, ops, dpi: (painted.extend(ops), paint(p, ops, dpi)))
    sheet = tmp_path / "badge.png"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(sheet), "PNG (*.png)"))
    with qtbot.waitSignal(view.printed, timeout=TIMEOUT):
        click(qtbot, view.print_button)
    image = QImage(str(sheet)).convertToFormat(QImage.Format.Format_Grayscale8)
    assert [b.text for b in zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.Code128)] == \
        [new.badge_code]
    (name,) = [op for op in painted if isinstance(op, barcode_sheet.TextOp) and op.text == "이서연"]
    assert name.font.pointSizeF() == barcode_sheet.BADGE_STYLE.label_points and name.font.bold()
    (bars,) = [op for op in painted if isinstance(op, barcode_sheet.BarsOp)]
    assert bars.height == round(barcode_sheet.BADGE_STYLE.bar_height_mm * barcode_sheet.PNG_DPI / 25.4)
    assert "1장 저장됨" in view.message.text()
    view.table.clearSelection()
    every = tmp_path / "all.pdf"
    assert view.print_badges(every) == [every] and every.read_bytes().startswith(b"%PDF")
    assert "3장 저장됨" in view.message.text()
    close_staff(qtbot, station, view)

    packer.scan(old.badge_code)  # the lost badge is worthless now
    assert "알 수 없는 바코드" in packer.banner() and station.service.state.packer is None
    packer.scan(new.badge_code)
    assert "작업자: 이서연" in packer.banner()


def test_a_packer_deactivated_mid_pack_finishes_it_then_is_signed_out(  # type: ignore[no-untyped-def]
        qtbot, station, packer: Packer, yes) -> None:
    packer.scan("PD-PACKER-003")
    packer.scan(Scenario.SIMPLE)
    view = open_staff(qtbot, station)
    click_row(qtbot, view, "박지훈")
    with qtbot.waitSignal(packer.view.rendered, timeout=TIMEOUT):
        act(qtbot, view, view.active_button)
    assert "이 포장을 마치면 작업이 종료됩니다" in packer.banner() and packer.level() == "warning"
    assert "박지훈" in packer.view.packer_label.text()  # still packing
    close_staff(qtbot, station, view)
    for code in (MUG, TUMBLER, MUG):
        packer.scan(code)
    assert packer.banner().startswith(f"포장 완료: {Scenario.SIMPLE} — 작업자 박지훈 사용 중지로 작업 종료")
    assert packer.sounds[-1] == "complete" and station.service.state.packer is None
    assert "작업자 바코드를 스캔하세요" in packer.view.waybill_label.text()


def test_a_packer_added_at_another_station_signs_in_here_after_the_minutes_reload(  # type: ignore[no-untyped-def]
        qtbot, station, packer: Packer) -> None:
    from packdesk.services import staff

    with station.db.session() as s:  # another PC's staff screen, on the same server
        other = staff.add_packer(s, "최다른")
    packer.scan(other.badge_code)
    assert "알 수 없는 바코드" in packer.banner()  # this station has not read it yet
    job = station.jobs.scheduler.get_job("packers")
    assert job is not None and job.trigger.interval.total_seconds() == 60
    combo = packer.view.packer_combo
    job.func()  # what the scheduler runs every minute (on its thread): the reload is posted to this one
    qtbot.waitUntil(lambda: "최다른" in [combo.itemText(i) for i in range(combo.count())], timeout=TIMEOUT)
    packer.scan(other.badge_code)
    assert "작업자: 최다른" in packer.banner()


def test_the_staff_screen_behind_the_pin_and_a_rename_keeps_supervisor_mode(  # type: ignore[no-untyped-def]
        qtbot, make_station, yes) -> None:
    from packdesk.services.auth import hash_pin
    from packdesk.services.settings import Settings, SupervisorSettings
    from packdesk.ui.supervisor import PinDialog

    st = make_station(Settings(recorder="off", supervisor=SupervisorSettings(pin_hash=hash_pin("4821", rounds=4))))
    packer = Packer(qtbot, st)
    packer.scan("PD-PACKER-001")
    gate = st.window.gate
    menu_action(st, "작업자… / Staff…").trigger()  # packer mode: the PIN first
    assert st.window._staff_view is None
    dialog = next(w for w in QApplication.topLevelWidgets() if isinstance(w, PinDialog) and w.isVisible())
    dialog.reject()
    assert gate.try_pin("4821") and gate.is_supervisor()
    view = open_staff(qtbot, st)
    click_row(qtbot, view, "김민수")
    commit(qtbot, view.name_edit, "김민수A")
    with qtbot.waitSignal(packer.view.rendered, timeout=TIMEOUT):  # the signed-in packer follows the new name
        act(qtbot, view, view.rename_button)
    assert "김민수A" in packer.view.packer_label.text() and gate.is_supervisor()  # a rename is not a new packer
    with qtbot.waitSignal(packer.view.rendered, timeout=TIMEOUT):
        act(qtbot, view, view.active_button)
    assert st.service.state.packer is None and not gate.is_supervisor()  # signed out: packer mode, as on sign-out
    view.reject()
