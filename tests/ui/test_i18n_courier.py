"""The courier waybills screen in English (``language: en``), driven as a supervisor uses it: the export with
its count and message, a result file whose preview holds bound, unknown and invalid rows, a column left out,
the import, the failure file, and the template editor with a refusal and a reset. Every text read on it must
hold no Korean but the shop's own words and the courier program's (its column headers and sheet name, which
PackDesk writes and reads as the program has them)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMessageBox

from packdesk.services import courier_sheets as cs
from packdesk.services.settings import Settings
from packdesk.ui.courier_view import CourierView
from tests.fakes.courier_program import CourierProgram
from tests.ui.test_courier_view import TIMEOUT, answer_dialogs, click, click_tab, collect_orders
from tests.ui.texts import korean_left, shop_words, visible_texts

pytestmark = pytest.mark.gui


def seen_on(view: CourierView) -> list[str]:
    return [view.message.text(), view.summary.text(), view.count_label.text(), view.file_label.text(),
            view.first_values.text(), *(view.tabs.tabText(i) for i in range(view.tabs.count())),
            *visible_texts(view)]


def test_the_courier_screen_in_english(  # type: ignore[no-untyped-def]
        make_station, qtbot, tmp_path: Path, monkeypatch, english_screens) -> None:
    st = make_station(Settings(recorder="off", language="en"))
    account = collect_orders(st)
    export_path, result_path = tmp_path / "cj.xlsx", tmp_path / "result.xlsx"
    asked = answer_dialogs(monkeypatch, [export_path], [result_path])
    questions: list[str] = []

    def yes(*args: Any, **kwargs: Any) -> QMessageBox.StandardButton:
        questions.extend(args[1:3])
        return QMessageBox.StandardButton.Yes

    monkeypatch.setattr(QMessageBox, "question", yes)

    next(a for a in st.window.findChildren(QAction) if a.text() == "Courier waybills…").trigger()
    view = st.window._courier_view
    assert isinstance(view, CourierView)
    qtbot.waitUntil(lambda: not view.busy and view.last_count is not None, timeout=TIMEOUT)
    assert view.windowTitle() == "Courier waybills"
    assert [view.tabs.tabText(i) for i in range(3)] == ["Export", "Import", "Templates"]
    assert view.template_combo.currentText() == "CJ Logistics" and view.period_combo.currentText() == "All"
    assert view.account_combo.itemText(0) == "All accounts"
    with qtbot.waitSignal(view.counted, timeout=TIMEOUT):
        view.account_combo.setCurrentIndex(view.account_combo.findData(account))
    qtbot.waitUntil(lambda: not view.busy, timeout=TIMEOUT)
    assert view.count_label.text() == "3 parcels to export (4 lines)"
    assert view.summary.text() == "Choose a result file to see what each row would do"
    seen = seen_on(view)

    with qtbot.waitSignal(view.exported, timeout=TIMEOUT):
        click(qtbot, view.export_button)
    assert view.message.text().startswith("Exported 3 parcels (3 rows) — upload it to the courier program: ")
    assert asked[0] == "Save for the courier program" and Path(asked[1]).name.startswith("courier-CJGLS-")
    qtbot.waitUntil(lambda: not view.busy and view.last_count is not None and view.last_count.parcels == 0,
                    timeout=TIMEOUT)
    seen += seen_on(view)

    # the program's result, one number misread into it and a row nobody exported
    program = CourierProgram()
    program.run(export_path, result_path, "xlsx")
    wb = load_workbook(result_path)
    ws = wb.active
    assert ws is not None
    ws.cell(4, 2).value = "61234"
    ws.append([4, "6123-4567-0000", *([None] * 9), "PD-P-ZZZZZZZZ"])
    wb.save(result_path)
    data = shop_words(st.db) | {h for t in cs.STARTING_TEMPLATES for h in (c.header for c in t.columns)} \
        | {"출력결과", "운송장 출력 결과", "순번", "운송장번호"}

    click_tab(qtbot, view.tabs, 1)
    with qtbot.waitSignal(view.previewed, timeout=TIMEOUT, check_params_cb=lambda p: p is not None):
        click(qtbot, view.choose_button)
    qtbot.waitUntil(lambda: not view.busy, timeout=TIMEOUT)
    assert view.file_label.text() == "result.xlsx · 출력결과 · header row 3 · 4 rows"
    assert view.summary.text() == "Will bind 2 · Unknown reference 1 · Invalid number 1"
    assert [view.table.horizontalHeaderItem(c).text() for c in range(6)] == [
        "Row", "Result", "Reference", "Parcel key", "Tracking no.", "Reason"]
    reasons = {view.table.item(r, 1).text(): view.table.item(r, 5).text() for r in range(view.table.rowCount())}
    assert reasons["Invalid number"] == "CJGLS tracking numbers have 10, 12 digits (this one: 5, 61234)"
    assert reasons["Unknown reference"] == "Not a parcel PackDesk knows: PD-P-ZZZZZZZZ"
    assert view.first_values.text().startswith("First row — Parcel key (customer reference): PD-P-")
    assert view.import_button.text() == "Bind 2 waybills"
    seen += seen_on(view)

    # the tracking column left out: asked for
    with qtbot.waitSignal(view.previewed, timeout=TIMEOUT, check_params_cb=lambda p: p is None):
        view.set_column("tracking", "")
    assert view.summary.text() == "<b>Choose the columns: tracking number</b>"
    seen += seen_on(view)
    with qtbot.waitSignal(view.previewed, timeout=TIMEOUT, check_params_cb=lambda p: p is not None):
        view.set_column("tracking", "운송장번호")
    qtbot.waitUntil(lambda: not view.busy, timeout=TIMEOUT)

    with qtbot.waitSignal(view.imported, timeout=TIMEOUT):
        click(qtbot, view.import_button)
    qtbot.waitUntil(lambda: not view.busy, timeout=TIMEOUT)
    assert view.message.text() == ("Waybills bound: 2 · unchanged 0 · not bound 2 (save the failure file to see "
                                   "why)")
    seen += seen_on(view)
    answer_dialogs(monkeypatch, [tmp_path / "failed.xlsx"], [result_path])
    with qtbot.waitSignal(view.failure_saved, timeout=TIMEOUT):
        click(qtbot, view.failure_button)
    assert view.message.text() == f"Saved 2 rows not bound: {tmp_path / 'failed.xlsx'}"
    qtbot.waitUntil(lambda: not view.busy, timeout=TIMEOUT)
    seen += seen_on(view)

    # the editor: a refusal, then back to the starting template
    click_tab(qtbot, view.tabs, 2)
    assert view.rows_combo.currentText() == "One row per parcel"
    assert view.courier_combo.currentText() == "CJ Logistics (CJGLS)"
    seen += seen_on(view)
    view.columns_table.selectRow(len(cs.STARTER_BY_ID["cj"].columns) - 1)  # 고객주문번호: the parcel key
    click(qtbot, view.remove_column_button)
    with qtbot.waitSignal(view.refused, timeout=TIMEOUT):
        click(qtbot, view.save_template_button)
    assert view.message.text() == "A parcel key (customer reference) column is needed to match the result back"
    qtbot.waitUntil(lambda: not view.busy, timeout=TIMEOUT)
    seen += seen_on(view)
    with qtbot.waitSignal(view.template_saved, timeout=TIMEOUT):
        click(qtbot, view.reset_template_button)
    assert questions == ["Reset template",
                         "Put this template's columns and result-file columns back to the starting template?"]
    qtbot.waitUntil(lambda: not view.busy, timeout=TIMEOUT)
    seen += [*seen_on(view), *asked, *questions]
    view.close()

    assert korean_left(seen, data) == []
