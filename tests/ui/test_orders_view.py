"""The Orders window from the real station window, driven the way a supervisor would: type an order in (Hangul
through the input method), scan an item into the form at scanner speed, be told a bad phone number, save, save
its label (and read the barcode back), then pack it at the station; force-cancel an order and see the station
refuse its waybill; delete a collected order, told it may come back."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import zxingcpp
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QImage, QInputMethodEvent
from PySide6.QtWidgets import QApplication, QFileDialog, QLineEdit, QMessageBox, QWidget
from sqlalchemy import select

from packdesk.channels.demo import BARCODE, Scenario
from packdesk.core import models as m
from packdesk.core.enums import LineStatus
from packdesk.services import orders as so
from packdesk.ui import i18n
from packdesk.ui.i18n import HANGUL
from packdesk.ui.orders_view import BAD_FIELD, FORCE_CANCELLED_TEXT, ORDER_COLUMNS, ManualOrderForm, OrdersWindow
from tests.ui.conftest import Packer

pytestmark = pytest.mark.gui
TIMEOUT = 5000


def click(qtbot, button: QWidget) -> None:  # type: ignore[no-untyped-def]
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def focus(qtbot, widget: QWidget) -> None:  # type: ignore[no-untyped-def]
    widget.setFocus()
    qtbot.waitUntil(widget.hasFocus, timeout=TIMEOUT)


def type_into(qtbot, edit: QLineEdit, text: str) -> None:  # type: ignore[no-untyped-def]
    """Typed key by key; the key filter holds fast keys for a moment (a scan?) then gives them to the field."""
    focus(qtbot, edit)
    edit.clear()
    qtbot.keyClicks(edit, text)
    qtbot.waitUntil(lambda: edit.text() == text, timeout=TIMEOUT)


def commit(qtbot, edit: QLineEdit, text: str) -> None:  # type: ignore[no-untyped-def]
    """Hangul arrives through the input method, not as key presses (keyClicks cannot type it)."""
    focus(qtbot, edit)
    edit.clear()
    ime = QInputMethodEvent("", [])
    ime.setCommitString(text)
    QApplication.sendEvent(edit, ime)
    qtbot.waitUntil(lambda: edit.text() == text, timeout=TIMEOUT)


def red_text(button: QWidget) -> int:
    """How many pixels of the button, as drawn on screen, are strongly red."""
    image = button.grab().toImage()
    return sum(1 for y in range(image.height()) for x in range(image.width())
               if (c := image.pixelColor(x, y)).red() > 150 and c.green() < 90 and c.blue() < 90)


def open_orders(station, qtbot) -> OrdersWindow:  # type: ignore[no-untyped-def]
    action = next(a for a in station.window.findChildren(QAction) if a.text() == "주문… / Orders…")
    action.trigger()  # File → 주문… / Orders…
    w = station.window._orders
    assert isinstance(w, OrdersWindow) and w.isVisible()
    qtbot.waitExposed(w)
    qtbot.waitUntil(lambda: not w.busy and len(w.rows) > 0, timeout=TIMEOUT)
    w.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is w, timeout=TIMEOUT)
    return w


def back_to_station(station, qtbot, w: OrdersWindow) -> None:  # type: ignore[no-untyped-def]
    w.close()
    station.window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is station.window and QApplication.focusWidget() is not None
                    and QApplication.focusWidget().window() is station.window, timeout=TIMEOUT)


def test_type_an_order_in_scan_its_item_save_its_label_and_pack_it(station, qtbot, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                                   monkeypatch) -> None:
    p = Packer(qtbot, station)
    w = open_orders(station, qtbot)
    with qtbot.waitSignal(w.form_opened, timeout=TIMEOUT) as opened:
        click(qtbot, w.new_button)
    form = opened.args[0]
    assert isinstance(form, ManualOrderForm) and form is w.form
    qtbot.waitExposed(form)
    qtbot.waitUntil(lambda: QApplication.activeWindow() is form and not form.busy, timeout=TIMEOUT)
    assert form.platform_combo.currentText() == "수기 주문" and form.country_edit.text() == "KR"
    assert form.courier_combo.currentText() == "CJ대한통운 (CJGLS)" and not form.label_button.isEnabled()

    type_into(qtbot, form.order_no_edit, "WEB-0001")
    commit(qtbot, form.recipient_edit, "김하늘")
    type_into(qtbot, form.phone_edit, "010-12")  # too few digits
    type_into(qtbot, form.zip_edit, "06236")
    commit(qtbot, form.address_edit, "서울특별시 강남구 테헤란로 1")
    commit(qtbot, form.message_edit, "경비실에 맡겨주세요")

    # a scan into the form at scanner speed: the item is added, then counted again; the station sees nothing
    banner = p.banner()
    focus(qtbot, form.item_search)
    with qtbot.waitSignal(form.item_added, timeout=TIMEOUT) as added:
        p.type_code(BARCODE["MUG-WH-01"])
    with qtbot.waitSignal(form.item_added, timeout=TIMEOUT) as again:
        p.type_code(BARCODE["MUG-WH-01"])
    assert added.args[1] == 1 and again.args == [added.args[0], 2]
    assert form.item_search.text() == "" and p.banner() == banner and station.service.state.packer is None
    # the tumbler found by typing its name, then Enter: the top item is added
    commit(qtbot, form.item_search, "텀블러")
    with qtbot.waitSignal(form.item_added, timeout=TIMEOUT):
        qtbot.keyClick(form.item_search, Qt.Key.Key_Return)
    assert [r.sku for r in form.found] == ["TMB-500"]
    assert [(ln.item.sku, ln.spin.value()) for ln in form.lines] == [("MUG-WH-01", 2), ("TMB-500", 1)]

    with qtbot.waitSignal(form.refused, timeout=TIMEOUT) as refused:
        click(qtbot, form.save_button)
    assert refused.args == ["order_phone_invalid"]
    assert "연락처" in form.message.text() and "Phone" in form.message.text() and "010-12" in form.message.text()
    assert form.phone_edit.styleSheet() == BAD_FIELD and form.phone_edit.hasFocus()
    with station.db.session() as s:
        assert so.search_orders(s, "WEB-0001") == []  # nothing written

    type_into(qtbot, form.phone_edit, "010-1234-5678")
    with qtbot.waitSignal(form.saved, timeout=TIMEOUT) as saved:
        click(qtbot, form.save_button)
    created = saved.args[0]
    assert created.internal and created.tracking_number.startswith("PDM") and len(created.tracking_number) == 13
    assert "저장됨" in form.message.text() and created.tracking_number in form.message.text()
    assert form.label_button.isEnabled() and not form.save_button.isEnabled() and not form.order_no_edit.isEnabled()

    target = tmp_path / "label.png"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), "PNG (*.png)"))
    with qtbot.waitSignal(form.label_saved, timeout=TIMEOUT):
        click(qtbot, form.label_button)
    read = {b.text for b in zxingcpp.read_barcodes(QImage(str(target)), formats=zxingcpp.BarcodeFormat.Code128)}
    assert read == {created.tracking_number, BARCODE["MUG-WH-01"], BARCODE["TMB-500"]}

    click(qtbot, form.close_button)
    qtbot.waitUntil(lambda: w.form is None, timeout=TIMEOUT)
    qtbot.waitUntil(lambda: w.detail is not None and w.detail.row.order_no == "WEB-0001", timeout=TIMEOUT)
    assert w.table.rowCount() == 1 and created.tracking_number in w.table.item(0, 6).text()
    assert w.history.rowCount() == 2 and "수기 등록" in w.history.item(0, 4).text()
    assert w.cancel_button.isEnabled() and w.delete_button.isEnabled()

    back_to_station(station, qtbot, w)
    p.scan("PD-PACKER-001")
    p.scan(created.tracking_number)
    assert "포장 시작" in p.banner() and "김하늘" in p.banner()
    for code in (BARCODE["MUG-WH-01"], BARCODE["TMB-500"], BARCODE["MUG-WH-01"]):
        p.scan(code)
    assert p.banner() == f"포장 완료: {created.tracking_number}" and p.sounds[-1] == "complete"
    assert station.service.worker.wait_idle(5)  # the completion is written on the station's database thread
    with station.db.session() as s:
        assert set(s.scalars(select(m.OrderLine.status).where(m.OrderLine.order_id == created.order_id))) == {
            LineStatus.PACKED}
        assert s.scalars(select(m.DispatchEntry)).all() == []  # typed in: no marketplace to tell


def test_force_cancel_is_refused_at_the_station_and_delete_warns_of_the_next_collection(  # type: ignore[no-untyped-def]
        station, qtbot, monkeypatch) -> None:
    item = {r.sku: r.id for r in station.db.sessions().scalars(select(m.Item))}["TEA-GR"]
    with station.db.session() as s:
        created = so.create_manual_order(s, so.ManualOrder(
            order_no="TEL-77", recipient_name="박바다", phone="(051)123-4567", zip_code="48058",
            address="부산광역시 해운대구 센텀중앙로 1", lines=(so.ManualLine(item, 3),), platform="전화 주문"),
            "김관리")
    asked: list[str] = []

    def yes(*args: Any, **kwargs: Any) -> QMessageBox.StandardButton:
        asked.append(args[2])
        return QMessageBox.StandardButton.Yes

    monkeypatch.setattr(QMessageBox, "question", yes)
    p = Packer(qtbot, station)
    w = open_orders(station, qtbot)
    focus(qtbot, w.search_edit)
    with qtbot.waitSignal(w.detail_loaded, timeout=TIMEOUT):
        p.type_code(created.tracking_number)  # scanned into the window: it searches the waybill
    assert w.search_edit.text() == created.tracking_number and w.table.rowCount() == 1
    assert w.detail is not None and w.detail.row.order_no == "TEL-77" and w.cancel_button.isEnabled()
    assert red_text(w.cancel_button)  # the act that cannot be undone, drawn in red while it can be done

    with qtbot.waitSignal(w.force_cancelled, timeout=TIMEOUT):
        click(qtbot, w.cancel_button)
    assert "되돌릴 수 없습니다" in asked[-1] and "cannot be undone" in asked[-1]
    qtbot.waitUntil(lambda: w.detail is not None and w.detail.row.force_cancelled, timeout=TIMEOUT)
    assert w.table.item(0, 5).text() == FORCE_CANCELLED_TEXT and not w.cancel_button.isEnabled()
    assert "이미 강제 취소된" in w.cancel_button.toolTip()  # the greyed button says why
    assert w.history.item(0, 3).text() == FORCE_CANCELLED_TEXT and "강제 취소 / force-cancelled · " in \
        w.history.item(0, 4).text()
    assert "강제 취소됨" in w.message.text()

    # a collected order nobody started packing: deleted, after saying the next collection may bring it back
    w.search_edit.setText(Scenario.GIFT_SET)
    with qtbot.waitSignal(w.detail_loaded, timeout=TIMEOUT):
        click(qtbot, w.search_button)
    order_no = w.detail.row.order_no
    assert not w.cancel_button.isEnabled() and w.delete_button.isEnabled()  # collected: cancel at the marketplace
    assert not red_text(w.cancel_button)  # greyed like any unavailable button, not still red
    tip = w.cancel_button.toolTip()
    assert "마켓 주문은 마켓" in tip and "cancelled on the marketplace" in tip
    with qtbot.waitSignal(w.deleted, timeout=TIMEOUT):
        click(qtbot, w.delete_button)
    assert "다음 주문 수집 때 다시 들어옵니다" in asked[-1] and "next collection brings it back" in asked[-1]
    qtbot.waitUntil(lambda: not w.busy and w.table.rowCount() == 0, timeout=TIMEOUT)
    assert f"삭제됨 / Deleted: {order_no}" in w.message.text()

    back_to_station(station, qtbot, w)
    p.scan("PD-PACKER-002")
    p.scan(created.tracking_number)
    assert "관리자가 강제 취소한 주문입니다" in p.banner() and p.sounds[-1] == "error"
    assert station.service.state.pack is None


def test_a_supervisor_attaches_a_scanned_label_to_a_collected_order_and_a_misread_is_refused(  # type: ignore[no-untyped-def]
        station, qtbot) -> None:
    from datetime import UTC, datetime

    from packdesk.channels.base import LineRecord, OrderRecord
    from packdesk.core.tracking import with_check_digit
    from packdesk.services.collect import store_orders
    from packdesk.services.excel_orders import create_platform

    now = datetime.now(UTC)
    db = station.service.worker.db
    with db.session() as s:  # an order collected without a tracking number, as a marketplace sends it
        account = create_platform(s, "자사몰").id
        store_orders(s, account, [OrderRecord("W-77", "김민지", "김민지", "010-1234-5678", "06236", "서울 강남구 1",
                                              "", now, now, (LineRecord("W-77-1", "P1", "", "코스터", "", 1,
                                                                        LineStatus.CONFIRMED),))], "test")
    p = Packer(qtbot, station)
    w = open_orders(station, qtbot)
    with qtbot.waitSignal(w.searched, timeout=TIMEOUT):
        type_into(qtbot, w.search_edit, "W-77")
        qtbot.keyClick(w.search_edit, Qt.Key.Key_Return)
    with qtbot.waitSignal(w.detail_loaded, timeout=TIMEOUT):
        w.table.selectRow(0)
    qtbot.waitUntil(lambda: w.attach_button.isEnabled(), timeout=TIMEOUT)
    assert "PD-P-" in w.info.text()
    good = with_check_digit("56123456789")
    misread = good[:5] + str((int(good[5]) + 1) % 10) + good[6:]
    focus(qtbot, w.tracking_edit)
    with qtbot.waitSignal(w.refused, timeout=TIMEOUT) as refused:
        p.type_code(misread)  # scanned into the focused field, Enter attaches
    assert refused.args == ["tracking_check_digit"]
    assert "검증 숫자" in w.message.text() and "check digit" in w.message.text()
    focus(qtbot, w.tracking_edit)
    w.tracking_edit.clear()
    with qtbot.waitSignal(w.tracking_attached, timeout=TIMEOUT) as attached:
        p.type_code(f"{good[:4]}-{good[4:8]}-{good[8:]}")
    assert attached.args == [good]
    qtbot.waitUntil(lambda: w.detail is not None and w.detail.row.waybills == (("CJGLS", good),), timeout=TIMEOUT)
    assert not w.attach_button.isEnabled() and good in w.info.text()


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_the_waybill_column_shows_whole_numbers_and_the_selected_order_its_tracking_number(  # type: ignore[no-untyped-def]
        station, qtbot, any_language, lang: str) -> None:
    i18n.set_language(lang)
    w = open_orders(station, qtbot)
    w.resize(1280, 800)
    qtbot.waitUntil(lambda: w.width() == 1280, timeout=TIMEOUT)
    col = ORDER_COLUMNS.index("송장 / Waybill")
    fm = w.table.fontMetrics()
    shown = [w.table.item(r, col).text() for r in range(w.table.rowCount()) if w.table.item(r, col).text()]
    assert shown
    for r in range(w.table.rowCount()):
        text = w.table.item(r, col).text()
        assert w.table.columnWidth(col) >= fm.horizontalAdvance(text), text  # never cut short with "…"
    row = next(r for r in w.rows if r.waybills)
    with qtbot.waitSignal(w.detail_loaded, timeout=TIMEOUT):
        w.select_order(row.id)
    number = row.waybills[0][1]
    assert number in w.info.text() and ("송장 / Tracking" if lang == "ko" else "Tracking") in w.info.text()
    assert not w.cancel_button.isEnabled() or row.manual
    assert ("cancelled on the marketplace" in w.cancel_button.toolTip()) == (not row.manual)
    if lang == "en":
        assert not HANGUL.search(w.cancel_button.toolTip())
    # one order found is "1 order" in English, never "1 order(s)"; its lines "1 line, 1 unit" where it has one
    w.search_edit.setText(row.order_no)
    with qtbot.waitSignal(w.searched, timeout=TIMEOUT):
        qtbot.mouseClick(w.search_button, Qt.MouseButton.LeftButton)
    assert w.message.text() == ("주문 1건 / 1 order" if lang == "ko" else "1 order")
    items = [w.table.item(r, ORDER_COLUMNS.index("상품 / Items")).text() for r in range(w.table.rowCount())]
    assert not [t for t in items if re.search(r"\b1 (lines|units)\b|\(s\)", t)], items
    w.close()
