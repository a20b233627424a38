"""The Orders window, its manual-order form and the Excel orders screen in English (``language: en``).

Driven the way a supervisor uses them: the order list (a search that finds nothing, a collected order, a
typed-in one, a force-cancelled one), the form with a refusal and a saved order, the confirmations; the Excel
screen with a sheet whose required column is missing, its preview with a bad row, the import, a refused
platform name and the failure file. Every text read on them must hold no Korean other than the shop's own
(item, product, recipient, platform names; addresses and delivery messages as the shop typed them)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QInputMethodEvent
from PySide6.QtWidgets import QApplication, QFileDialog, QMessageBox, QWidget

from packdesk.channels.demo import BARCODE, Scenario
from packdesk.services.settings import Settings
from packdesk.ui.excel_orders_view import ExcelOrdersView
from packdesk.ui.orders_view import ManualOrderForm, OrdersWindow, label_sections
from tests.ui.texts import korean_left, shop_words, visible_texts

pytestmark = pytest.mark.gui
TIMEOUT = 10_000


def click(qtbot, button: QWidget) -> None:  # type: ignore[no-untyped-def]
    assert button.isEnabled(), f"{button.objectName()} is disabled"
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def commit(qtbot, edit: Any, text: str) -> None:  # type: ignore[no-untyped-def]
    """Hangul arrives through the input method (QTest cannot press keys for it)."""
    edit.setFocus()
    edit.clear()
    ime = QInputMethodEvent("", [])
    ime.setCommitString(text)
    QApplication.sendEvent(edit, ime)
    qtbot.waitUntil(lambda: edit.text() == text, timeout=TIMEOUT)


def menu_action(station, text: str) -> QAction:  # type: ignore[no-untyped-def]
    return next(a for a in station.window.findChildren(QAction) if a.text() == text)


def table_texts(window: OrdersWindow) -> list[str]:
    return [window.message.text(), window.info.text(), *visible_texts(window)]


def test_the_orders_window_and_its_form_in_english(  # type: ignore[no-untyped-def]
        make_station, qtbot, tmp_path: Path, monkeypatch, english_screens) -> None:
    st = make_station(Settings(recorder="off", language="en"))
    asked: list[str] = []

    def yes(*args: Any, **kwargs: Any) -> QMessageBox.StandardButton:
        asked.extend(args[1:3])  # title, text
        return QMessageBox.StandardButton.Yes

    monkeypatch.setattr(QMessageBox, "question", yes)
    saved_as: list[str] = []
    label_png = tmp_path / "label.png"

    def save_dialog(*args: Any, **kwargs: Any) -> tuple[str, str]:
        saved_as.extend(args[1:3])  # title, suggested name
        return str(label_png), "PNG (*.png)"

    monkeypatch.setattr(QFileDialog, "getSaveFileName", save_dialog)

    menu_action(st, "Orders…").trigger()
    w = st.window._orders
    assert isinstance(w, OrdersWindow)
    qtbot.waitUntil(lambda: not w.busy and len(w.rows) > 0, timeout=TIMEOUT)
    seen = table_texts(w)
    assert w.windowTitle() == "Orders" and "Pick an order" in w.info.text()
    assert [w.table.horizontalHeaderItem(c).text() for c in range(3)] == ["Created", "Platform", "Order no."]
    assert w.message.text() == (f"{len(w.rows)} orders" if len(w.rows) != 1 else "1 order")
    assert any(w.table.item(r, 5).text() == "Ready to pack" for r in range(w.table.rowCount()))

    # a search that finds nothing, then a collected order with its line history
    w.search_edit.setText("no-such-order")
    with qtbot.waitSignal(w.searched, timeout=TIMEOUT):
        click(qtbot, w.search_button)
    assert w.message.text() == "No order found"
    seen += table_texts(w)
    w.search_edit.setText(Scenario.PARTLY_CANCELLED)
    with qtbot.waitSignal(w.detail_loaded, timeout=TIMEOUT):
        click(qtbot, w.search_button)
    assert w.table.item(0, 5).text() == "Ready to pack, Cancelled"
    assert "CJ Logistics" in w.table.item(0, 6).text() and w.table.item(0, 4).text() == "2 lines, 2 units"
    assert w.history.rowCount() > 0 and w.history.item(0, 4).text() == "collected"
    seen += table_texts(w)

    # the form: a scan nobody knows, an item scanned, a bad phone number refused, then saved
    with qtbot.waitSignal(w.form_opened, timeout=TIMEOUT) as opened:
        click(qtbot, w.new_button)
    form: ManualOrderForm = opened.args[0]
    qtbot.waitUntil(lambda: not form.busy, timeout=TIMEOUT)
    assert form.windowTitle() == "New manual order" and form.courier_combo.currentText() == "CJ Logistics (CJGLS)"
    assert form.message.text() == "* required"
    seen += visible_texts(form)
    with qtbot.waitSignal(form.scan_unknown, timeout=TIMEOUT):
        form.take_scan("NO-SUCH-CODE-1")
    assert form.message.text() == "No item has this barcode: NO-SUCH-CODE-1"
    seen.append(form.message.text())
    for _ in range(2):
        with qtbot.waitSignal(form.item_added, timeout=TIMEOUT):
            form.take_scan(BARCODE["MUG-WH-01"])
        seen += [form.message.text(), *visible_texts(form)]
    assert form.message.text().endswith("× 2")
    form.order_no_edit.setText("WEB-EN-1")
    commit(qtbot, form.recipient_edit, "김하늘")
    form.phone_edit.setText("010-12")
    form.zip_edit.setText("06236")
    commit(qtbot, form.address_edit, "서울특별시 강남구 테헤란로 1")
    with qtbot.waitSignal(form.refused, timeout=TIMEOUT) as refused:
        click(qtbot, form.save_button)
    assert refused.args == ["order_phone_invalid"] and form.message.text().startswith("Phone: ")
    seen.append(form.message.text())
    form.phone_edit.setText("010-1234-5678")
    with qtbot.waitSignal(form.saved, timeout=TIMEOUT) as saved:
        click(qtbot, form.save_button)
    created = saved.args[0]
    assert form.message.text().startswith("Saved — ready to pack: WEB-EN-1, waybill PDM")
    assert form.message.text().endswith("(internal — save and stick its label)")
    seen += [form.message.text(), *visible_texts(form)]
    with qtbot.waitSignal(form.label_saved, timeout=TIMEOUT):
        click(qtbot, form.label_button)
    assert form.message.text().startswith("Label saved: ") and saved_as[:1] == ["Save label"]
    sections = label_sections(form.label())
    assert sections[0].title == "Waybill — CJ Logistics (CJGLS)" and sections[1].title == "Items"
    seen += [form.message.text(), *saved_as, *(s.title for s in sections)]
    click(qtbot, form.close_button)

    # back in the list: the saved order, typed in; force-cancelled after the confirmation
    qtbot.waitUntil(lambda: w.form is None and w.detail is not None and w.detail.row.order_no == "WEB-EN-1",
                    timeout=TIMEOUT)
    assert w.message.text() == f"Order saved: WEB-EN-1 ({created.tracking_number})"
    assert w.history.item(0, 4).text().startswith("typed in · ")
    seen += table_texts(w)
    with qtbot.waitSignal(w.force_cancelled, timeout=TIMEOUT):
        click(qtbot, w.cancel_button)
    qtbot.waitUntil(lambda: w.detail is not None and w.detail.row.force_cancelled and not w.busy, timeout=TIMEOUT)
    assert asked[0] == "Force-cancel" and asked[1].startswith("Force-cancel order WEB-EN-1 (김하늘)? This cannot")
    assert w.table.item(0, 5).text() == "Force-cancelled" and w.message.text().startswith("Force-cancelled: ")
    seen += table_texts(w)

    # a collected order deleted, told that the next collection may bring it back
    w.search_edit.setText(Scenario.GIFT_SET)
    with qtbot.waitSignal(w.detail_loaded, timeout=TIMEOUT):
        click(qtbot, w.search_button)
    seen += table_texts(w)
    data = shop_words(st.db)  # before the delete takes the order's own words away
    with qtbot.waitSignal(w.deleted, timeout=TIMEOUT):
        click(qtbot, w.delete_button)
    qtbot.waitUntil(lambda: not w.busy and w.table.rowCount() == 0, timeout=TIMEOUT)
    assert asked[2] == "Delete order" and "the next collection brings it back" in asked[3]
    assert w.message.text().startswith("Deleted: ")
    seen += [*table_texts(w), *asked]
    w.close()

    assert korean_left(seen, data | shop_words(st.db)) == []


HEADERS = ("Order No", "SKU", "Option", "Product Name", "Qty", "Recipient", "HP", "Address", "Courier",
           "Tracking No", "Memo")


def sheet_row(order: str, code: str = "P1", qty: Any = 1) -> tuple[Any, ...]:
    return (order, code, "", "Ceramic mug", qty, "홍길동", "010-1234-5678", "1 Teheran-ro, Gangnam-gu, Seoul", "",
            "", "")


def test_the_excel_orders_screen_in_english(  # type: ignore[no-untyped-def]
        make_station, qtbot, tmp_path: Path, monkeypatch, english_screens) -> None:
    st = make_station(Settings(recorder="off", language="en"))
    asked: list[str] = []
    target: list[Path] = []

    def save_dialog(*args: Any, **kwargs: Any) -> tuple[str, str]:
        asked.extend(args[1:3])  # title, suggested name
        return str(target[-1]), "Excel (*.xlsx)"

    monkeypatch.setattr(QFileDialog, "getSaveFileName", save_dialog)

    menu_action(st, "Import orders from Excel…").trigger()
    view = st.window._excel_orders_view
    assert isinstance(view, ExcelOrdersView)
    qtbot.waitUntil(lambda: not view.busy, timeout=TIMEOUT)
    assert view.message.text() == "Add a sales platform first (e.g. the shop the sheet comes from)"
    assert view.summary.text() == "Choose an order sheet to see what would be imported"
    assert [view.errors.horizontalHeaderItem(c).text() for c in range(view.errors.columnCount())] == [
        "Row", "Field", "Reason"]
    assert view.combos["phone"].itemText(0) == "(none)" and view.period_combo.currentText() == "Last 7 days"
    seen = [view.message.text(), view.summary.text(), *visible_texts(view)]

    commit(qtbot, view.new_platform, "자사몰")
    with qtbot.waitSignal(view.platforms_loaded, timeout=TIMEOUT):
        click(qtbot, view.add_platform_button)
    assert view.message.text() == "Sales platform added: 자사몰"
    seen.append(view.message.text())
    commit(qtbot, view.new_platform, "자사몰")  # the same name again: refused
    with qtbot.waitSignal(view.refused, timeout=TIMEOUT):
        click(qtbot, view.add_platform_button)
    qtbot.waitUntil(lambda: not view.busy, timeout=TIMEOUT)
    assert view.message.text() == "A sales platform has this name: 자사몰"
    seen.append(view.message.text())

    # a sheet whose phone column the guess does not know: the required column is asked for
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Orders"
    for r in (HEADERS, sheet_row("A-1"), sheet_row("A-1", "P2", qty=2), sheet_row("B-7"),
              sheet_row("C-3", "P3", qty=0)):
        ws.append(r)
    path = tmp_path / "orders.xlsx"
    wb.save(path)
    progress: list[str] = []
    view.progress_changed.connect(lambda *_: progress.append(view.progress_label.text()))
    with qtbot.waitSignal(view.previewed, timeout=TIMEOUT) as blocker:
        view.load_file(path)
    assert blocker.args == [None]
    assert view.file_label.text() == "orders.xlsx · Orders · header row 1 · 4 rows"
    assert view.summary.text() == "<b>Choose a column for the required fields: Phone</b>"
    seen += [view.file_label.text(), view.summary.text(), *visible_texts(view)]

    # the phone column chosen: the preview, with the bad row and why
    with qtbot.waitSignal(view.previewed, timeout=TIMEOUT, check_params_cb=lambda p: p is not None):
        view.set_column("phone", "HP")
    qtbot.waitUntil(lambda: not view.busy, timeout=TIMEOUT)
    assert "3 new rows to import" in view.summary.text() and "not linked yet" in view.summary.text()
    assert view.error_title.text() == "1 rows with errors — not imported"
    assert [view.errors.item(0, c).text() for c in range(3)] == [
        "5", "Quantity", "Quantity must be a whole number from 1 to 1,000,000: 0"]
    assert view.import_button.text() == "Import (3 rows)"
    seen += [view.summary.text(), view.error_title.text(), *visible_texts(view)]

    with qtbot.waitSignal(view.imported, timeout=TIMEOUT):
        click(qtbot, view.import_button)
    assert view.message.text().startswith("Imported: 3 new rows, 0 already there, 1 rows with errors")
    seen.append(view.message.text())
    qtbot.waitUntil(lambda: not view.busy and view.preview is not None and view.preview.duplicates == 3,
                    timeout=TIMEOUT)
    assert "3 already imported (skipped)" in view.summary.text()
    seen += [view.summary.text(), view.error_title.text(), *visible_texts(view)]

    # the failure file, the template and an export: dialogs and messages
    target.append(tmp_path / "failures.xlsx")
    with qtbot.waitSignal(view.failure_saved, timeout=TIMEOUT):
        click(qtbot, view.failure_button)
    assert view.message.text() == (f"Saved 1 failed rows — fix them and import the file again: "
                                   f"{tmp_path / 'failures.xlsx'}")
    assert asked[:2] == ["Save failure file", "orders-failed-rows.xlsx"]
    seen.append(view.message.text())
    qtbot.waitUntil(lambda: not view.busy, timeout=TIMEOUT)
    target.append(tmp_path / "template.xlsx")
    with qtbot.waitSignal(view.template_saved, timeout=TIMEOUT):
        click(qtbot, view.template_button)
    seen.append(view.message.text())
    qtbot.waitUntil(lambda: not view.busy, timeout=TIMEOUT)
    target.append(tmp_path / "export.xlsx")
    with qtbot.waitSignal(view.exported, timeout=TIMEOUT):
        click(qtbot, view.export_orders_button)
    assert view.message.text().startswith("Saved 3 rows: ")
    seen += [view.message.text(), *asked, *progress]
    assert "Storing" in progress and "Writing the file" in progress
    qtbot.waitUntil(lambda: not view.busy, timeout=TIMEOUT)
    click(qtbot, view.close_button)

    assert korean_left(seen, shop_words(st.db)) == []
