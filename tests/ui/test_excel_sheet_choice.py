"""A seller's workbook with its orders on the second sheet, behind an instruction sheet, imported through the
real Excel import window in both languages: the orders' sheet is chosen by itself, the person can switch to
the instructions (and is told why they are no order sheet) and back, then imports; the postcode saved as a
number and the +82 phone arrive as Korea writes them."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import Workbook
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFileDialog, QLabel
from sqlalchemy import select

from packdesk.core import models as m
from packdesk.services.settings import Settings
from packdesk.ui.excel_orders_view import ExcelOrdersView
from tests.ui.test_excel_orders_view import TIMEOUT, add_platform, click, close

pytestmark = pytest.mark.gui


def workbook(path: Path) -> Path:
    wb = Workbook()
    guide = wb.active
    assert guide is not None
    guide.title = "작성 안내"
    for r in (("주문 엑셀 작성 안내",), ("한 행에 상품 하나",), ("열", "설명"), ("주문번호", "같은 주문은 같은 번호")):
        guide.append(r)
    orders = wb.create_sheet("주문")
    orders.append(("주문번호", "상품코드", "상품명", "수량", "수취인", "연락처", "우편번호", "주소", "택배사"))
    orders.append(("W-1", "P1", "머그컵", 1, "홍길동", "+82 10-2345-6780", 4524, "서울시 강남구", "CJ대한통운"))
    orders.append(("W-2", "P2", "코스터", 2, "김민지", "+82 2-123-4567", 6236, "서울시 서초구", ""))
    wb.save(path)
    return path


def open_window(qtbot, station) -> ExcelOrdersView:  # type: ignore[no-untyped-def]
    action = next(a for a in station.window.findChildren(QAction) if "Import orders from Excel" in a.text())
    action.trigger()
    view = station.window._excel_orders_view
    assert isinstance(view, ExcelOrdersView) and view.isVisible()
    qtbot.waitUntil(lambda: not view.busy, timeout=TIMEOUT)
    return view


def import_second_sheet(qtbot, station, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
                        english: bool) -> None:
    view = open_window(qtbot, station)
    add_platform(qtbot, view, "자사몰 수기")
    path = workbook(tmp_path / "12월 주문.xlsx")
    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(lambda *a, **k: (str(path), "Excel (*.xlsx)")))
    labels = [w.text() for w in view.findChildren(QLabel)]
    assert ("Sheet" if english else "시트 / Sheet") in labels
    assert not view.sheet_combo.isEnabled()  # no workbook yet

    with qtbot.waitSignal(view.previewed, timeout=TIMEOUT) as blocker:
        click(qtbot, view.choose_button)
    assert blocker.args[0] is not None and blocker.args[0].new_rows == 2  # the orders' sheet, by itself
    combo = view.sheet_combo
    assert combo.isEnabled() and [combo.itemText(i) for i in range(combo.count())] == ["작성 안내", "주문"]
    assert combo.currentText() == "주문" and "· 주문 ·" in view.file_label.text()
    assert view.combos["order_no"].currentText() == "주문번호" and view.combos["zip_code"].currentText() == "우편번호"

    # the person looks at the instruction sheet: no order columns there, and the window says so
    combo.setFocus()
    with qtbot.waitSignal(view.previewed, timeout=TIMEOUT) as blocker:
        qtbot.keyClick(combo, Qt.Key.Key_Up)
    assert blocker.args == [None] and combo.currentText() == "작성 안내"
    summary = view.summary.text()
    if english:
        assert "Choose a column for the required fields" in summary and "필수" not in summary
    else:
        assert "필수 항목의 열을 고르세요" in summary and "Choose a column for the required fields" in summary
    assert not view.import_button.isEnabled()

    # back to the orders, and import
    with qtbot.waitSignal(view.previewed, timeout=TIMEOUT, check_params_cb=lambda p: p is not None):
        qtbot.keyClick(combo, Qt.Key.Key_Down)
    assert combo.currentText() == "주문"
    assert view.import_button.text() == ("Import (2 rows)" if english else "가져오기 (2행) / Import (2 rows)")
    with qtbot.waitSignal(view.imported, timeout=TIMEOUT) as blocker:
        click(qtbot, view.import_button)
    assert blocker.args[0].new_rows == 2
    assert ("Imported: 2 new rows" in view.message.text()) and (english or "가져왔습니다" in view.message.text())
    with station.db.session() as s:
        stored = {o.order_no: (o.recipient_phone, o.zip_code) for o in s.scalars(select(m.Order).where(
            m.Order.order_no.in_(["W-1", "W-2"])))}
    assert stored == {"W-1": ("010-2345-6780", "04524"), "W-2": ("02-123-4567", "06236")}
    close(qtbot, station, view)


def test_orders_on_the_second_sheet_in_korean(qtbot, station, tmp_path: Path,  # type: ignore[no-untyped-def]
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    import_second_sheet(qtbot, station, tmp_path, monkeypatch, english=False)


def test_orders_on_the_second_sheet_in_english(qtbot, make_station, english_screens,  # type: ignore[no-untyped-def]
                                               tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    station = make_station(Settings(recorder="off", language="en"))
    import_second_sheet(qtbot, station, tmp_path, monkeypatch, english=True)
