"""The courier waybills screen driven like a supervisor from the real main window: export the parcels waiting
for a label, let the courier program (tests/fakes/courier_program.py) print and write its result sheet, import
it through the screen (preview counts, bind, failure file), and edit a template (add, reorder, a refusal,
save, reset)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFileDialog, QLineEdit, QMessageBox, QTabWidget, QWidget
from sqlalchemy import select

from packdesk.channels.base import LineRecord, OrderRecord
from packdesk.core import models as m
from packdesk.core.enums import LineStatus
from packdesk.services import courier_sheets as cs
from packdesk.services.collect import store_orders
from packdesk.services.excel_orders import create_platform
from packdesk.ui.courier_view import PREVIEW_COLUMNS, CourierView
from tests.fakes.courier_program import CourierProgram

pytestmark = pytest.mark.gui
TIMEOUT = 10_000
PERSON_KEY_DELAY_MS = 120  # a person types slower than the station's scanner detector's gap


def click(qtbot, button: QWidget) -> None:  # type: ignore[no-untyped-def]
    assert button.isEnabled(), f"{button.objectName()} is disabled"
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def click_tab(qtbot, tabs: QTabWidget, index: int) -> None:  # type: ignore[no-untyped-def]
    bar = tabs.tabBar()
    qtbot.mouseClick(bar, Qt.MouseButton.LeftButton, pos=bar.tabRect(index).center())
    qtbot.waitUntil(lambda: tabs.currentIndex() == index, timeout=TIMEOUT)


def answer_dialogs(monkeypatch: pytest.MonkeyPatch, save: list[Path], open_: list[Path]) -> list[str]:
    """The OS file dialogs, answered with the last path of each list; returns what they were asked."""
    asked: list[str] = []

    def save_dialog(*args: Any, **kwargs: Any) -> tuple[str, str]:
        asked.extend(args[1:3])
        return str(save[-1]), "Excel (*.xlsx)"

    def open_dialog(*args: Any, **kwargs: Any) -> tuple[str, str]:
        asked.append(args[1])
        return str(open_[-1]), ""

    monkeypatch.setattr(QFileDialog, "getSaveFileName", save_dialog)
    monkeypatch.setattr(QFileDialog, "getOpenFileName", open_dialog)
    return asked


def collect_orders(station) -> int:  # type: ignore[no-untyped-def]
    """Three buyers' orders from a shop, stored as a collection stores them: no waybill, so three parcels."""
    def rec(no: str, recipient: str, *lines: tuple[str, str, int]) -> OrderRecord:
        return OrderRecord(no, recipient, recipient, "010-2222-3333", "06236", "서울 강남구 테헤란로 1", "", None, None,
                           tuple(LineRecord(f"{no}-{i}", f"P{i}", "", name, option, qty, LineStatus.CONFIRMED)
                                 for i, (name, option, qty) in enumerate(lines, start=1)))

    with station.db.session() as s:
        account = create_platform(s, "자사몰").id
        store_orders(s, account, [rec("W-1", "김민지", ("원목 코스터", "", 2), ("머그컵", "화이트", 1)),
                                  rec("W-2", "박서준", ("머그컵", "블랙", 1)),
                                  rec("W-3", "이도윤", ("원목 코스터", "", 1))], "collect:test")
    return account


def open_screen(qtbot, station) -> CourierView:  # type: ignore[no-untyped-def]
    action = next(a for a in station.window.findChildren(QAction) if a.text() == "택배 송장… / Courier waybills…")
    action.trigger()  # File → 택배 송장…
    view = station.window._courier_view
    assert isinstance(view, CourierView) and view.isVisible()
    qtbot.waitUntil(lambda: not view.busy and view.template_combo.count() == len(cs.STARTING_TEMPLATES),
                    timeout=TIMEOUT)
    return view


def editor(table: QWidget) -> QLineEdit | None:
    """The cell editor a double click opened (it has the focus once the window is active)."""
    return next((e for e in table.findChildren(QLineEdit) if e.isVisible()), None)


def waybills(station) -> dict[str, str]:  # type: ignore[no-untyped-def]
    with station.db.session() as s:
        return dict(s.execute(select(m.OrderLine.product_order_id, m.Waybill.tracking_number)
                              .join(m.Waybill, m.Waybill.id == m.OrderLine.waybill_id)
                              .where(m.OrderLine.product_order_id.like("W-%"))).all())


def test_export_the_parcels_and_import_the_courier_programs_result(  # type: ignore[no-untyped-def]
        station, qtbot, tmp_path: Path, monkeypatch) -> None:
    account = collect_orders(station)
    export_path, result_path, failed_path = tmp_path / "cj.xlsx", tmp_path / "result.xlsx", tmp_path / "failed.xlsx"
    asked = answer_dialogs(monkeypatch, [export_path], [result_path])
    view = open_screen(qtbot, station)
    assert view.current_template() is not None and view.current_template().id == "cj"  # the contracted courier

    # Export: the shop's account, everything not exported yet
    with qtbot.waitSignal(view.counted, timeout=TIMEOUT):
        view.account_combo.setCurrentIndex(view.account_combo.findData(account))
    qtbot.waitUntil(lambda: not view.busy, timeout=TIMEOUT)
    assert view.count_label.text() == "내보낼 택배 3개 (상품 4줄) / 3 parcels to export (4 lines)"
    with qtbot.waitSignal(view.exported, timeout=TIMEOUT) as exported:
        click(qtbot, view.export_button)
    assert exported.args[0].parcels == 3 and asked[0] == "택배사 프로그램용 파일 저장 / Save for the courier program"
    assert Path(asked[1]).name.startswith("CJ대한통운-")
    assert view.message.text().startswith("택배 3개를 내보냈습니다 (3행)")
    qtbot.waitUntil(lambda: view.last_count is not None and view.last_count.parcels == 0, timeout=TIMEOUT)

    # the courier program prints the labels; its result sheet has a title row, numbers with dashes, as numbers;
    # a stray row with a reference PackDesk never made is added by hand
    issued = CourierProgram().run(export_path, result_path, "xlsx", numbers="mixed")
    wb = load_workbook(result_path)
    ws = wb.active
    assert ws is not None
    ws.append([4, "6123-4567-0000", None, None, None, None, None, None, None, None, None, "PD-P-ZZZZZZZZ"])
    wb.save(result_path)

    # Import: choose the file, see the preview, bind
    click_tab(qtbot, view.tabs, 1)
    with qtbot.waitSignal(view.previewed, timeout=TIMEOUT, check_params_cb=lambda p: p is not None) as shown:
        click(qtbot, view.choose_button)
    qtbot.waitUntil(lambda: not view.busy, timeout=TIMEOUT)
    p = shown.args[0]
    assert view.file_label.text().startswith("result.xlsx · 출력결과 · 머리글 3행 · 4행")
    assert view.column_combos["reference"].currentData() == "고객주문번호"
    assert view.column_combos["tracking"].currentData() == "운송장번호"
    assert view.summary.text() == "송장 등록 3 · 알 수 없는 참조 1 / Will bind 3 · Unknown reference 1"
    assert view.table.rowCount() == 4 and view.table.item(3, 1).text() == "알 수 없는 참조 / Unknown reference"
    assert view.import_button.text() == "송장 등록 (3개) / Bind 3 waybills" and p.to_bind == 3
    assert waybills(station) == {}
    with qtbot.waitSignal(view.imported, timeout=TIMEOUT):
        click(qtbot, view.import_button)
    qtbot.waitUntil(lambda: not view.busy, timeout=TIMEOUT)
    assert view.message.text().startswith("송장을 등록했습니다: 3개 · 변경 없음 0개 · 등록 안 됨 1개")
    number = {it.reference: it.number for it in issued if it.reference}
    with station.db.session() as s:
        key_of = dict(s.execute(select(m.OrderLine.product_order_id, m.Parcel.key)
                                .join(m.Parcel, m.Parcel.id == m.OrderLine.parcel_id)).all())
    assert waybills(station) == {pid: number[key_of[pid]] for pid in ("W-1-1", "W-1-2", "W-2-1", "W-3-1")}
    assert not view.import_button.isEnabled()

    # the row that was not bound, with why
    with qtbot.waitSignal(view.failure_saved, timeout=TIMEOUT):
        answer_dialogs(monkeypatch, [failed_path], [result_path])
        click(qtbot, view.failure_button)
    rows = list(load_workbook(failed_path).worksheets[0].iter_rows(values_only=True))
    assert rows[0][0] == "운송장 출력 결과" and rows[2][0] == "순번" and len(rows) == 4
    assert rows[3][-1].startswith("7행: 알 수 없는 참조 — PackDesk에 없는 참조입니다: PD-P-ZZZZZZZZ / Row 7:")

    # the same file again: nothing changes
    with qtbot.waitSignal(view.previewed, timeout=TIMEOUT, check_params_cb=lambda p: p is not None):
        click(qtbot, view.choose_button)
    qtbot.waitUntil(lambda: not view.busy, timeout=TIMEOUT)
    assert view.summary.text() == ("송장 등록 0 · 이미 같은 번호 3 · 알 수 없는 참조 1 / "
                                   "Will bind 0 · Already has this number 3 · Unknown reference 1")
    assert not view.import_button.isEnabled()
    view.close()


def test_the_export_counts_the_parcels_left_for_another_courier(  # type: ignore[no-untyped-def]
        station, qtbot, tmp_path: Path, monkeypatch) -> None:
    """An order sheet named 한진 for one buyer's order (no number yet): the CJ template's count says it is left
    out, in both languages; the 한진 template's takes it (and those naming no courier); the CJ export writes the
    others only."""
    account = collect_orders(station)
    with station.db.session() as s:
        store_orders(s, account, [OrderRecord(
            "W-4", "최하은", "최하은", "010-4444-5555", "04524", "서울 중구 세종대로 110", "", None, None,
            (LineRecord("W-4-1", "P1", "", "원목 코스터", "", 1, LineStatus.CONFIRMED, courier_code="HANJIN"),))],
            "excel:test")
    export_path = tmp_path / "cj.xlsx"
    answer_dialogs(monkeypatch, [export_path], [export_path])
    view = open_screen(qtbot, station)
    assert view.current_template() is not None and view.current_template().id == "cj"
    qtbot.waitUntil(lambda: view.last_count is not None and view.last_count.other_courier == 1, timeout=TIMEOUT)
    assert view.count_label.text() == ("내보낼 택배 3개 (상품 4줄) · 다른 택배사용 1개 (제외) / "
                                       "3 parcels to export (4 lines) · 1 for another courier (left out)")
    with qtbot.waitSignal(view.counted, timeout=TIMEOUT, check_params_cb=lambda n: n == 4):
        view.template_combo.setCurrentIndex(view.template_combo.findData("hanjin"))  # the parcels naming none too
    qtbot.waitUntil(lambda: not view.busy, timeout=TIMEOUT)
    assert view.count_label.text() == "내보낼 택배 4개 (상품 5줄) / 4 parcels to export (5 lines)"
    with qtbot.waitSignal(view.counted, timeout=TIMEOUT, check_params_cb=lambda n: n == 3):
        view.template_combo.setCurrentIndex(view.template_combo.findData("cj"))
    with qtbot.waitSignal(view.exported, timeout=TIMEOUT) as exported:
        click(qtbot, view.export_button)
    assert exported.args[0].parcels == 3
    qtbot.waitUntil(lambda: view.last_count is not None and view.last_count.parcels == 0, timeout=TIMEOUT)
    assert view.count_label.text().endswith("· 1 for another courier (left out)")
    view.close()


def test_the_screen_fits_a_1280_by_800_screen_with_the_reason_in_sight(  # type: ignore[no-untyped-def]
        station, qtbot, tmp_path: Path, monkeypatch) -> None:
    """A common office screen: the window fits it (a long file name wraps instead of widening it), and the preview
    shows why a row will not bind without scrolling sideways (the columns sit above it, not beside it)."""
    collect_orders(station)
    export_path, result_path = tmp_path / "cj.xlsx", tmp_path / "a-rather-long-result-file-name-from-the-program.xlsx"
    answer_dialogs(monkeypatch, [export_path], [result_path])
    view = open_screen(qtbot, station)
    with qtbot.waitSignal(view.exported, timeout=TIMEOUT):
        click(qtbot, view.export_button)
    CourierProgram().run(export_path, result_path, "xlsx", numbers="dashes")
    wb = load_workbook(result_path)
    ws = wb.active
    assert ws is not None
    ws.append([4, "6123-4567-0000", None, None, None, None, None, None, None, None, None, "PD-P-ZZZZZZZZ"])
    wb.save(result_path)
    click_tab(qtbot, view.tabs, 1)
    with qtbot.waitSignal(view.previewed, timeout=TIMEOUT, check_params_cb=lambda p: p is not None):
        click(qtbot, view.choose_button)
    qtbot.waitUntil(lambda: not view.busy, timeout=TIMEOUT)

    view.resize(1280, 800)
    qtbot.waitUntil(lambda: (view.width(), view.height()) == (1280, 800), timeout=TIMEOUT)
    table, reason = view.table, len(PREVIEW_COLUMNS) - 1
    assert table.item(3, 1).text() == "알 수 없는 참조 / Unknown reference" and table.item(3, reason).text()
    qtbot.waitUntil(lambda: table.horizontalScrollBar().maximum() == 0, timeout=TIMEOUT)  # nothing off to the side
    assert table.columnViewportPosition(reason) + table.columnWidth(reason) <= table.viewport().width()
    assert table.columnWidth(reason) >= 250
    view.close()


def test_a_template_edited_saved_and_reset(station, qtbot, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    view = open_screen(qtbot, station)
    click_tab(qtbot, view.tabs, 2)
    view.select_template("lotte")
    qtbot.waitUntil(lambda: view.name_edit.text() == "롯데택배", timeout=TIMEOUT)
    table = view.columns_table
    n = table.rowCount()
    assert [table.item(r, 0).text() for r in range(2)] == ["수하인명", "수하인전화번호"]

    # a fixed column at the end: FARE = CREDIT, typed into its cells; then moved up one
    table.setCurrentCell(n - 1, 0)
    click(qtbot, view.add_column_button)
    assert table.rowCount() == n + 1 and table.currentRow() == n
    for col, text in ((0, "FARE"), (2, "CREDIT")):
        table.scrollToItem(table.item(n, col))
        rect = table.visualItemRect(table.item(n, col))
        qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())  # a double click's
        qtbot.mouseDClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())  # press, then the double
        qtbot.waitUntil(lambda: editor(table) is not None, timeout=TIMEOUT)
        qtbot.keyClicks(editor(table), text, delay=PERSON_KEY_DELAY_MS)  # typed: not a scan
        qtbot.keyClick(editor(table), Qt.Key.Key_Return)  # (a delay would outlive the closed editor)
        qtbot.waitUntil(lambda c=col, t=text: table.item(n, c).text() == t, timeout=TIMEOUT)
    table.selectRow(n)
    click(qtbot, view.up_button)
    assert [c.header for c in view.edited_columns()][-2:] == ["FARE", "고객주문번호"]
    rows_combo = view.rows_combo
    rows_combo.setCurrentIndex(rows_combo.findData("line"))
    with qtbot.waitSignal(view.template_saved, timeout=TIMEOUT):
        click(qtbot, view.save_template_button)
    saved = json.loads(cs.templates_file(station.window.deps.settings_path.parent).read_text(encoding="utf-8"))
    lotte = next(t for t in saved["templates"] if t["id"] == "lotte")
    assert lotte["rows"] == "line" and lotte["columns"][-2] == {"header": "FARE", "field": "fixed", "value": "CREDIT"}

    # the parcel key's column removed: refused, nothing saved
    key_row = next(r for r in range(table.rowCount()) if table.item(r, 0).text() == "고객주문번호")
    table.selectRow(key_row)
    click(qtbot, view.remove_column_button)
    with qtbot.waitSignal(view.refused, timeout=TIMEOUT) as refused:
        click(qtbot, view.save_template_button)
    assert refused.args == ["courier_template_no_key"]
    assert view.message.text().startswith("택배 키(고객 참조) 열이 있어야")
    qtbot.waitUntil(lambda: not view.busy, timeout=TIMEOUT)

    # back to the starting template, after a yes
    monkeypatch.setattr(QMessageBox, "question", staticmethod(lambda *a, **k: QMessageBox.StandardButton.Yes))
    with qtbot.waitSignal(view.template_saved, timeout=TIMEOUT):
        click(qtbot, view.reset_template_button)
    assert view.edited_columns() == list(cs.STARTER_BY_ID["lotte"].columns)
    assert view.rows_combo.currentData() == "parcel"
    qtbot.waitUntil(lambda: not view.busy, timeout=TIMEOUT)
    view.close()
