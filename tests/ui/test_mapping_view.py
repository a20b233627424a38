"""The product-link screen driven like a supervisor: filters, picking rows, the item picker, saving, Excel
export and import through the buttons; and the reason it exists: an unlinked waybill becomes packable."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QAction, QInputMethodEvent
from PySide6.QtWidgets import QApplication, QFileDialog, QSpinBox, QWidget
from sqlalchemy import select

from packdesk.channels.demo import BARCODE, Scenario
from packdesk.core import models as m
from packdesk.core.db import Database
from packdesk.services import mapping as mp
from packdesk.services.mapping import HEADERS
from packdesk.ui.mapping_view import UNLINKED_BG, MappingView

pytestmark = pytest.mark.gui

ACCOUNT = "데모 상점 / Demo shop"
LOAD_TIMEOUT = 5000


@pytest.fixture
def view(qtbot, demo_db: Database) -> Iterator[MappingView]:  # type: ignore[no-untyped-def]
    v = MappingView(demo_db)
    qtbot.addWidget(v)
    v.show()
    qtbot.waitExposed(v)
    qtbot.waitUntil(lambda: not v.busy and v.model.rowCount() == 10, timeout=LOAD_TIMEOUT)
    yield v
    if not v._closed:
        v.done(0)


def links(db: Database, code: str, option: str = "") -> list[tuple[str, int]]:
    P = m.ProductMapping
    with db.session() as s:
        return [(r.sku, r.quantity) for r in s.execute(
            select(m.Item.sku, P.quantity).join(m.Item, m.Item.id == P.item_id)
            .where(P.product_code == code, P.option_code == option).order_by(P.id))]


def codes_shown(v: MappingView) -> list[str]:
    return [v.proxy.index(r, 2).data() + v.proxy.index(r, 3).data() for r in range(v.proxy.rowCount())]


def product_codes(v: MappingView) -> list[str]:
    return [v.proxy.index(r, 2).data() for r in range(v.proxy.rowCount())]


def click_product(qtbot, v: MappingView, code: str, option: str = "") -> None:  # type: ignore[no-untyped-def]
    row = v.row_for(code, option)
    assert row is not None, f"{code} {option} not in the table"
    idx = v.proxy.index(row, 2)
    v.table.scrollTo(idx)
    qtbot.mouseClick(v.table.viewport(), Qt.MouseButton.LeftButton, pos=v.table.visualRect(idx).center())
    qtbot.waitUntil(lambda: v.current is not None and v.current.product_code == code
                    and v.current.option_code == option)


def click(qtbot, button: QWidget) -> None:  # type: ignore[no-untyped-def]
    assert button.isEnabled(), f"{button.objectName()} is disabled"
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def type_into(qtbot, widget: Any, text: str) -> None:  # type: ignore[no-untyped-def]
    """Latin letters and digits as key presses; Korean the way it really arrives: committed by the input
    method (QTest cannot press keys for Hangul)."""
    widget.setFocus()
    if text.isascii():
        qtbot.keyClicks(widget, text)
    else:
        ev = QInputMethodEvent("", [])
        ev.setCommitString(text)
        QApplication.sendEvent(widget, ev)
    qtbot.waitUntil(lambda: widget.text().endswith(text))  # a wedge filter may hand keys over ~40 ms later


def search_products(qtbot, v: MappingView, text: str) -> None:  # type: ignore[no-untyped-def]
    with qtbot.waitSignal(v.products_loaded, timeout=LOAD_TIMEOUT):
        type_into(qtbot, v.search, text)


def pick_item(qtbot, v: MappingView, text: str, sku: str, qty: int = 1) -> None:  # type: ignore[no-untyped-def]
    """Search the picker, click the item's row, set the quantity with the arrow keys, press Add."""
    v.item_search.clear()
    with qtbot.waitSignal(v.items_found, timeout=LOAD_TIMEOUT, check_params_cb=lambda n: n > 0):
        type_into(qtbot, v.item_search, text)
    row = next(r for r in range(v.item_results.rowCount()) if v.item_results.item(r, 0).text() == sku)
    rect = v.item_results.visualItemRect(v.item_results.item(row, 1))
    qtbot.mouseClick(v.item_results.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    set_spin(qtbot, v.quantity, qty)
    click(qtbot, v.add_button)


def set_spin(qtbot, spin: QSpinBox, value: int) -> None:  # type: ignore[no-untyped-def]
    spin.setFocus()
    while spin.value() != value:
        key = Qt.Key.Key_Up if spin.value() < value else Qt.Key.Key_Down
        before = spin.value()
        qtbot.keyClick(spin, key)
        qtbot.waitUntil(lambda before=before: spin.value() != before)


def write_sheet(path: Path, rows: list[tuple[Any, ...]]) -> Path:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(HEADERS)
    for r in rows:
        ws.append(r)
    wb.save(path)
    return path


def choose_file(monkeypatch: pytest.MonkeyPatch, path: Path) -> None:
    """The file dialogs are the OS's; answer them with a path."""
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(path), "Excel (*.xlsx)")))
    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(lambda *a, **k: (str(path), "Excel (*.xlsx)")))


# ------------------------------------------------------------------------------------------------ list


def test_unlinked_products_come_first_and_are_marked(view: MappingView) -> None:
    assert codes_shown(view)[0] == "5000000006"
    first = view.proxy.index(0, 0)
    assert first.data().startswith("미연결 / Not linked")
    assert first.data(Qt.ItemDataRole.BackgroundRole).color() == UNLINKED_BG
    assert view.proxy.index(1, 0).data().startswith("연결됨 / Linked")
    gift = view.proxy.index(view.row_for("5000000005"), 6).data()  # type: ignore[arg-type]
    assert gift == "MUG-WH-01 ×1, COASTER-01 ×2, GIFTBOX-S ×1"
    assert "미연결 1개" in view.counts.text() and "1 not linked" in view.counts.text()
    assert view.windowTitle() == "상품 연결 / Product links"
    for w in (view.table, view.search, view.save_button, view.counts, view.components):
        assert w.font().pixelSize() >= 15 or w.font().pointSizeF() >= 11


def test_filters_state_search_and_new_only(qtbot, view: MappingView) -> None:  # type: ignore[no-untyped-def]
    view.state_combo.setFocus()
    with qtbot.waitSignal(view.products_loaded, timeout=LOAD_TIMEOUT):
        qtbot.keyClick(view.state_combo, Qt.Key.Key_Down)        # 미연결 / Not linked
    assert view.state_combo.currentText() == "미연결 / Not linked" and codes_shown(view) == ["5000000006"]
    with qtbot.waitSignal(view.products_loaded, timeout=LOAD_TIMEOUT):
        qtbot.keyClick(view.state_combo, Qt.Key.Key_Down)        # 연결됨 / Linked
    assert view.proxy.rowCount() == 9 and "5000000006" not in codes_shown(view)
    with qtbot.waitSignal(view.products_loaded, timeout=LOAD_TIMEOUT):
        qtbot.keyClick(view.state_combo, Qt.Key.Key_Home)        # 전체 / All
    assert view.proxy.rowCount() == 10

    search_products(qtbot, view, "opt-")  # option codes, any case
    assert sorted(codes_shown(view)) == ["5000000001OPT-BK", "5000000001OPT-WH", "5000000007OPT-L",
                                         "5000000007OPT-M", "5000000007OPT-S"]
    view.search.clear()
    qtbot.waitUntil(lambda: view.proxy.rowCount() == 10 and not view.busy, timeout=LOAD_TIMEOUT)

    click_product(qtbot, view, "5000000003")
    with qtbot.waitSignal(view.marked_seen, timeout=LOAD_TIMEOUT):
        click(qtbot, view.seen_button)
    qtbot.waitUntil(lambda: not view.busy)
    with qtbot.waitSignal(view.products_loaded, timeout=LOAD_TIMEOUT):
        qtbot.mouseClick(view.new_only, Qt.MouseButton.LeftButton)
    assert view.new_only.isChecked() and view.proxy.rowCount() == 9 and "5000000003" not in codes_shown(view)


def test_sorting_by_a_column_header(qtbot, view: MappingView) -> None:  # type: ignore[no-untyped-def]
    head = view.table.horizontalHeader()
    code_header = QPoint(head.sectionViewportPosition(2) + head.sectionSize(2) // 2, head.height() // 2)
    qtbot.mouseClick(head.viewport(), Qt.MouseButton.LeftButton, pos=code_header)
    qtbot.waitUntil(lambda: head.sortIndicatorSection() == 2)
    first = product_codes(view)
    assert first == sorted(first) and first[0] == "5000000001"
    qtbot.mouseClick(head.viewport(), Qt.MouseButton.LeftButton, pos=code_header)
    qtbot.waitUntil(lambda: head.sortIndicatorOrder() == Qt.SortOrder.DescendingOrder)
    assert product_codes(view) == sorted(first, reverse=True)


# ------------------------------------------------------------------------------------------------ link


def test_link_a_gift_set_with_the_picker_then_change_it(qtbot, view: MappingView,  # type: ignore[no-untyped-def]
                                                        demo_db: Database) -> None:
    click_product(qtbot, view, "5000000006")
    assert "신상품 캔들" in view.detail_title.text() and "미연결" in view.detail_state.text()
    assert not view.save_button.isEnabled()
    pick_item(qtbot, view, "mug-bk", "MUG-BK-01")
    pick_item(qtbot, view, "코스터", "COASTER-01", qty=2)
    pick_item(qtbot, view, BARCODE["GIFTBOX-S"], "GIFTBOX-S")  # a barcode finds its item
    assert view.draft_texts() == [("MUG-BK-01", 1), ("COASTER-01", 2), ("GIFTBOX-S", 1)]
    assert "저장하지 않은" in view.dirty_label.text()
    with qtbot.waitSignal(view.link_saved, timeout=LOAD_TIMEOUT):
        click(qtbot, view.save_button)
    assert links(demo_db, "5000000006") == [("MUG-BK-01", 1), ("COASTER-01", 2), ("GIFTBOX-S", 1)]
    qtbot.waitUntil(lambda: not view.busy)
    assert "연결 저장됨" in view.message.text() and view.dirty_label.text() == ""
    row = view.row_for("5000000006")
    assert row is not None and view.proxy.index(row, 0).data().startswith("연결됨")
    assert "미연결 0개" in view.counts.text()

    # take the coaster out, add one more mug to the existing line, save
    comp_row = [d.sku for d in view.draft].index("COASTER-01")
    rect = view.components.visualItemRect(view.components.item(comp_row, 1))
    qtbot.mouseClick(view.components.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    click(qtbot, view.remove_button)
    pick_item(qtbot, view, "MUG-BK", "MUG-BK-01")
    assert view.draft_texts() == [("MUG-BK-01", 2), ("GIFTBOX-S", 1)]
    with qtbot.waitSignal(view.link_saved, timeout=LOAD_TIMEOUT):
        click(qtbot, view.save_button)
    assert links(demo_db, "5000000006") == [("MUG-BK-01", 2), ("GIFTBOX-S", 1)]


def test_quantity_edited_in_the_component_list(qtbot, view: MappingView,  # type: ignore[no-untyped-def]
                                               demo_db: Database) -> None:
    click_product(qtbot, view, "5000000003")
    assert view.draft_texts() == [("TEA-GR", 12)]
    spin = view.components.cellWidget(0, 2)
    assert isinstance(spin, QSpinBox)
    set_spin(qtbot, spin, 10)
    with qtbot.waitSignal(view.link_saved, timeout=LOAD_TIMEOUT):
        click(qtbot, view.save_button)
    assert links(demo_db, "5000000003") == [("TEA-GR", 10)]


def test_saving_no_items_is_refused_and_nothing_is_lost(qtbot, view: MappingView,  # type: ignore[no-untyped-def]
                                                        demo_db: Database) -> None:
    click_product(qtbot, view, "5000000005")
    for _ in range(3):
        rect = view.components.visualItemRect(view.components.item(0, 1))
        qtbot.mouseClick(view.components.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
        click(qtbot, view.remove_button)
    assert view.draft_texts() == []
    with qtbot.waitSignal(view.refused, timeout=LOAD_TIMEOUT) as blocker:
        click(qtbot, view.save_button)
    assert blocker.args == ["mapping_no_components"]
    assert "출고상품을 하나 이상" in view.message.text() and "Add at least one item" in view.message.text()
    assert view.message.property("level") == "error"
    assert links(demo_db, "5000000005") == [("MUG-WH-01", 1), ("COASTER-01", 2), ("GIFTBOX-S", 1)]


def test_unlink_then_save_puts_it_back(qtbot, view: MappingView, demo_db: Database) -> None:  # type: ignore[no-untyped-def]
    click_product(qtbot, view, "5000000004")
    with qtbot.waitSignal(view.link_removed, timeout=LOAD_TIMEOUT):
        click(qtbot, view.unlink_button)
    assert links(demo_db, "5000000004") == []
    assert "미연결" in view.detail_state.text() and view.draft_texts() == [("COASTER-01", 4)]
    qtbot.waitUntil(lambda: not view.busy)
    assert codes_shown(view)[:2] == ["5000000006", "5000000004"]  # both unlinked now: at the top, new first
    with qtbot.waitSignal(view.link_saved, timeout=LOAD_TIMEOUT):
        click(qtbot, view.save_button)
    assert links(demo_db, "5000000004") == [("COASTER-01", 4)]


# ------------------------------------------------------------------------------------------------ Excel


def test_export_then_import_through_the_buttons_changes_nothing(  # type: ignore[no-untyped-def]
        qtbot, view: MappingView, demo_db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "links.xlsx"
    choose_file(monkeypatch, path)
    with qtbot.waitSignal(view.exported, timeout=LOAD_TIMEOUT) as blocker:
        click(qtbot, view.export_button)
    assert blocker.args == [str(path), 12] and path.exists()  # 11 links + the unlinked product to fill in
    assert "12행을 저장했습니다" in view.message.text()
    with demo_db.session() as s:
        before = [tuple(r) for r in s.execute(select(m.ProductMapping.id, m.ProductMapping.item_id,
                                                     m.ProductMapping.quantity))]
    with qtbot.waitSignal(view.import_previewed, timeout=LOAD_TIMEOUT):
        click(qtbot, view.import_button)
    d = view.preview_dialog
    assert d is not None and d.isVisible()
    assert "바뀌는 상품 0개" in d.summary.text() and "이미 같은 상품 9개" in d.summary.text()
    assert d.error_title.text().startswith("오류 없음") and not d.apply_button.isEnabled()
    click(qtbot, d.cancel_button)
    qtbot.waitUntil(lambda: view.preview_dialog is None)
    assert "취소" in view.message.text()
    with demo_db.session() as s:
        assert [tuple(r) for r in s.execute(select(m.ProductMapping.id, m.ProductMapping.item_id,
                                                   m.ProductMapping.quantity))] == before


def test_import_preview_shows_bad_rows_and_applies_only_good_ones(  # type: ignore[no-untyped-def]
        qtbot, view: MappingView, demo_db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_sheet(tmp_path / "edit.xlsx", [
        (ACCOUNT, "5000000006", "", "", "", "GIFTBOX-S", 2),     # row 2: good
        (ACCOUNT, "5000000002", "", "", "", "NO-SUCH", 1),       # row 3: unknown SKU
        (ACCOUNT, "5000000004", "", "", "", "COASTER-01", -1),   # row 4: bad quantity
    ])
    choose_file(monkeypatch, path)
    with qtbot.waitSignal(view.import_previewed, timeout=LOAD_TIMEOUT):
        click(qtbot, view.import_button)
    d = view.preview_dialog
    assert d is not None
    assert "가져올 수 있는 행 1개" in d.summary.text() and "바뀌는 상품 1개" in d.summary.text()
    assert "오류가 있는 행 2개" in d.error_title.text() and "2 rows with errors" in d.error_title.text()
    table = [(d.errors.item(r, 0).text(), d.errors.item(r, 1).text(), d.errors.item(r, 2).text())
             for r in range(d.errors.rowCount())]
    assert table[0][0] == "3" and "NO-SUCH" in table[0][1] and "Unknown item SKU" in table[0][2]
    assert table[1][0] == "4" and "수량" in table[1][1] and "Quantity" in table[1][2]
    with qtbot.waitSignal(view.import_applied, timeout=LOAD_TIMEOUT) as blocker:
        click(qtbot, d.apply_button)
    assert blocker.args == [1]
    assert links(demo_db, "5000000006") == [("GIFTBOX-S", 2)]
    assert links(demo_db, "5000000002") == [("TMB-500", 1)] and links(demo_db, "5000000004") == [("COASTER-01", 4)]
    qtbot.waitUntil(lambda: not view.busy and "미연결 0개" in view.counts.text(), timeout=LOAD_TIMEOUT)
    assert "1개 상품의 연결을 가져왔습니다" in view.message.text()


def test_a_wrong_file_gives_one_clear_error(qtbot, view: MappingView, tmp_path: Path,  # type: ignore[no-untyped-def]
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "orders.xlsx"
    path.write_text("주문번호,상품명\n1,머그\n", encoding="utf-8")
    choose_file(monkeypatch, path)
    with qtbot.waitSignal(view.refused, timeout=LOAD_TIMEOUT) as blocker:
        click(qtbot, view.import_button)
    assert blocker.args == ["mapping_file_unreadable"]
    assert view.preview_dialog is None
    text = view.message.text()
    assert "엑셀 파일(.xlsx)로 읽을 수 없습니다: orders.xlsx" in text and "Cannot read this as an Excel file" in text

    wb = Workbook()
    wb.active.append(("주문번호", "상품명", "수량"))  # type: ignore[union-attr]
    wb.save(path)
    with qtbot.waitSignal(view.refused, timeout=LOAD_TIMEOUT) as blocker:
        click(qtbot, view.import_button)
    assert blocker.args == ["mapping_file_headers"] and "머리글" in view.message.text()
    assert "headers" in view.message.text()


def test_a_big_import_does_not_hold_the_window(qtbot, view: MappingView, demo_db: Database,  # type: ignore[no-untyped-def]
                                               tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """3,000 rows: read and checked on a thread; the click returns at once and the preview follows."""
    skus = ["MUG-WH-01", "COASTER-01", "GIFTBOX-S"]
    with demo_db.session() as s:
        acc = s.scalar(select(m.ChannelAccount.id))
        s.add_all(m.SalesProduct(account_id=acc, product_code=f"B{n:05d}", product_name=f"대량 상품 {n}")
                  for n in range(1000))
    path = write_sheet(tmp_path / "big.xlsx", [(ACCOUNT, f"B{n:05d}", "", f"대량 상품 {n}", "", sku, k + 1)
                                               for n in range(1000) for k, sku in enumerate(skus)])
    choose_file(monkeypatch, path)
    started = time.perf_counter()
    click(qtbot, view.import_button)
    click_ms = (time.perf_counter() - started) * 1000
    assert view.busy and view.preview_dialog is None  # the click did not wait for the file
    with qtbot.waitSignal(view.import_previewed, timeout=20000) as blocker:
        pass
    preview: mp.ImportPreview = blocker.args[0]
    assert len(preview.valid) == 3000 and len(preview.changes) == 1000 and preview.errors == ()
    print(f"\nimport of 3000 rows: click returned in {click_ms:.1f} ms; read {preview.parse_ms:.0f} ms, "
          f"checked {preview.check_ms:.0f} ms")
    assert click_ms < 200
    with qtbot.waitSignal(view.import_applied, timeout=20000):
        click(qtbot, view.preview_dialog.apply_button)  # type: ignore[union-attr]
    assert links(demo_db, "B00999") == [("MUG-WH-01", 1), ("COASTER-01", 2), ("GIFTBOX-S", 3)]


# ------------------------------------------------------------------------------------------------ station


def test_link_through_the_screen_makes_the_unlinked_waybill_packable(qtbot, station) -> None:  # type: ignore[no-untyped-def]
    from tests.ui.conftest import Packer

    packer = Packer(qtbot, station)
    packer.scan("PD-PACKER-001")
    packer.scan(Scenario.UNMAPPED)
    assert "출고상품에 연결되지 않은" in packer.banner() and "신상품 캔들" in packer.banner()
    assert packer.sounds[-1] == "error" and packer.view.row_texts() == []

    window = station.window
    action = next(a for a in window.findChildren(QAction) if a.text() == "상품 연결… / Product links…")
    action.trigger()  # File → 상품 연결… / Product links…
    v = window.findChild(MappingView)
    assert isinstance(v, MappingView) and v.isVisible() and v.worker is station.service.worker
    qtbot.waitUntil(lambda: not v.busy and v.model.rowCount() == 10, timeout=LOAD_TIMEOUT)

    search_products(qtbot, v, "5000000006")
    assert codes_shown(v) == ["5000000006"]
    click_product(qtbot, v, "5000000006")
    pick_item(qtbot, v, "GIFTBOX", "GIFTBOX-S", qty=2)
    with qtbot.waitSignal(v.link_saved, timeout=LOAD_TIMEOUT):
        click(qtbot, v.save_button)
    qtbot.waitUntil(lambda: not v.busy, timeout=LOAD_TIMEOUT)
    click(qtbot, v.close_button)
    qtbot.waitUntil(lambda: window._mapping_view is None)
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is not None
                    and QApplication.focusWidget().window() is window)

    packer.scan(Scenario.UNMAPPED)
    assert "포장 시작" in packer.banner() and packer.sounds[-1] == "ok"
    assert sorted(packer.view.row_texts()) == [("선물 상자", "0 / 2"), ("세라믹 머그컵", "0 / 1")]
    for code in (BARCODE["GIFTBOX-S"], BARCODE["GIFTBOX-S"], BARCODE["MUG-WH-01"]):
        packer.scan(code)
    assert packer.banner() == f"포장 완료: {Scenario.UNMAPPED}" and packer.sounds[-1] == "complete"

    again = window.open_mapping()  # a fresh screen after the first was closed, showing the new link
    assert isinstance(again, MappingView) and again is not v
    qtbot.waitUntil(lambda: not again.busy and again.model.rowCount() == 10, timeout=LOAD_TIMEOUT)
    assert "미연결 0개" in again.counts.text()
    click(qtbot, again.close_button)
    qtbot.waitUntil(lambda: window._mapping_view is None)
