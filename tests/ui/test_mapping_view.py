"""The product-link screen driven like a supervisor: filters, picking rows, the item picker, saving, Excel
export and import through the buttons; and the reason it exists: an unlinked waybill becomes packable."""

from __future__ import annotations

import time
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
from packdesk.ui.mapping_view import UNLINKED_BG, CreateItemsDialog, MappingView

pytestmark = pytest.mark.gui

ACCOUNT = "데모 상점 / Demo shop"
LOAD_TIMEOUT = 5000


def links(db: Database, code: str, option: str = "") -> list[tuple[str, int]]:
    P = m.ProductMapping
    with db.session() as s:
        return [(r.sku, r.quantity) for r in s.execute(
            select(m.Item.sku, P.quantity).join(m.Item, m.Item.id == P.item_id)
            .where(P.product_code == code, P.option_code == option).order_by(P.id))]


def codes_shown(v: MappingView) -> list[str]:
    return [r.product_code + r.option_code for r in v.shown_rows()]


def product_codes(v: MappingView) -> list[str]:
    return [r.product_code for r in v.shown_rows()]


def cell(v: MappingView, row: int, col: int) -> tuple[str, str]:
    """(first line, second line) of a table cell as shown."""
    first, _, second = v.proxy.index(row, col).data().partition("\n")
    return first, second


def click_product(qtbot, v: MappingView, code: str, option: str = "") -> None:  # type: ignore[no-untyped-def]
    row = v.row_for(code, option)
    assert row is not None, f"{code} {option} not in the table"
    idx = v.proxy.index(row, 1)
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
    assert [view.model.headerData(c, Qt.Orientation.Horizontal) for c in range(3)] == [
        "마켓 상품 / Marketplace product", "판매상품 / Sales product", "출고상품 × 수량 / Shipping items × qty"]
    assert codes_shown(view)[0] == "5000000006"
    assert cell(view, 0, 2) == ("미연결 / Not linked", "출고상품을 연결하거나 만드세요 / Link or create an item")
    assert view.proxy.index(0, 2).data(Qt.ItemDataRole.BackgroundRole).color() == UNLINKED_BG
    assert not cell(view, 1, 2)[0].startswith("미연결")
    gift = view.row_for("5000000005")
    assert gift is not None
    assert cell(view, gift, 2) == ("MUG-WH-01 ×1, COASTER-01 ×2, GIFTBOX-S ×1",
                                   "세라믹 머그컵 화이트 ×1, 원목 코스터 ×2, 선물 상자 소 ×1")
    mug = view.row_for("5000000001", "OPT-BK")
    assert mug is not None
    assert cell(view, mug, 0) == ("세라믹 머그컵 350ml · 색상: 블랙",
                                  "주문에서 확인 / Seen in orders · 상품 / Product 5000000001 · 옵션 / Option OPT-BK")
    assert cell(view, mug, 1) == ("5000000001 / OPT-BK", "신규 / New")
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
    code_header = QPoint(head.sectionViewportPosition(1) + head.sectionSize(1) // 2, head.height() // 2)
    qtbot.mouseClick(head.viewport(), Qt.MouseButton.LeftButton, pos=code_header)
    qtbot.waitUntil(lambda: head.sortIndicatorSection() == 1)
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
    assert row is not None and cell(view, row, 2)[0] == "MUG-BK-01 ×1, COASTER-01 ×2, GIFTBOX-S ×1"
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
          f"checked {preview.check_ms:.0f} ms")  # figures only: speed is bench/'s business, not a test's
    with qtbot.waitSignal(view.import_applied, timeout=20000):
        click(qtbot, view.preview_dialog.apply_button)  # type: ignore[union-attr]
    assert links(demo_db, "B00999") == [("MUG-WH-01", 1), ("COASTER-01", 2), ("GIFTBOX-S", 3)]


def test_a_full_page_shows_first_and_is_counted_after(qtbot, view: MappingView, demo_db: Database) -> None:  # type: ignore[no-untyped-def]
    """More matches than a page: the rows come first ("counting…"), the counts of all follow."""
    with demo_db.session() as s:
        acc = s.scalar(select(m.ChannelAccount.id))
        s.add_all(m.SalesProduct(account_id=acc, product_code=f"C{n:05d}", product_name=f"많은 상품 {n}")
                  for n in range(mp.PAGE_SIZE + 20))
    with qtbot.waitSignal(view.counts_loaded, timeout=LOAD_TIMEOUT) as counted:
        with qtbot.waitSignal(view.products_loaded, timeout=LOAD_TIMEOUT) as shown:
            type_into(qtbot, view.search, "많은")
        assert shown.args == [mp.PAGE_SIZE] and "counting" in view.counts.text()
    assert counted.args == [mp.PAGE_SIZE + 20]
    assert f"전체 {counted.args[0]}개" in view.counts.text() and "Only the first" in view.counts.text()
    assert view.page is not None and view.page.truncated


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


# ------------------------------------------------------------------------------------------------ catalogue


def add_products(db: Database, *products: tuple[str, str, str, str], status: str = "SALE", seller_code: str = "",
                 deleted: bool = False) -> None:
    """(code, option code, name, option name) sales products of the demo shop, as a catalogue sync stores them."""
    with db.session() as s:
        acc = s.scalar(select(m.ChannelAccount.id))
        s.add_all(m.SalesProduct(account_id=acc, product_code=c, option_code=o, product_name=n, option_name=on,
                                 status=status, seller_code=seller_code, deleted=deleted) for c, o, n, on in products)


def items(db: Database, *skus: str) -> list[tuple[str, str, str, tuple[str, ...]]]:
    with db.session() as s:
        found = s.scalars(select(m.Item).where(m.Item.sku.in_(skus)).order_by(m.Item.sku)).all()
        return [(it.sku, it.name, it.option_name, tuple(b.barcode for b in it.barcodes)) for it in found]


def test_deleted_products_are_hidden_until_asked_for(qtbot, view: MappingView,  # type: ignore[no-untyped-def]
                                                     demo_db: Database) -> None:
    add_products(demo_db, ("7000000001", "", "단종 머그", ""), status="OUTOFSTOCK", seller_code="MUG-OLD")
    add_products(demo_db, ("7000000002", "", "단종 텀블러", ""), status="DELETE", deleted=True)
    assert not view.include_deleted.isChecked()
    search_products(qtbot, view, "단종")
    assert codes_shown(view) == ["7000000001"]
    assert cell(view, 0, 0) == ("단종 머그", "품절 / Out of stock · 상품 / Product 7000000001 · "
                                           "판매자코드 / Seller code MUG-OLD")
    with qtbot.waitSignal(view.products_loaded, timeout=LOAD_TIMEOUT):
        qtbot.mouseClick(view.include_deleted, Qt.MouseButton.LeftButton)
    assert view.include_deleted.isChecked() and codes_shown(view) == ["7000000001", "7000000002"]
    assert cell(view, 1, 1) == ("7000000002", "신규 / New · 삭제됨 / Deleted")
    assert cell(view, 1, 0)[1].startswith("삭제됨 / Deleted")
    click_product(qtbot, view, "7000000002")
    assert "마켓에서 삭제됨" in view.detail_state.text() and "삭제됨 / Deleted" in view.detail_market.text()
    with qtbot.waitSignal(view.products_loaded, timeout=LOAD_TIMEOUT):
        qtbot.mouseClick(view.include_deleted, Qt.MouseButton.LeftButton)
    assert codes_shown(view) == ["7000000001"]


def test_the_screen_reads_while_the_database_thread_is_busy(qtbot, view: MappingView) -> None:  # type: ignore[no-untyped-def]
    """Its reads never queue behind the station's database thread (which resolves scans): with that thread
    held, the list and the item picker still answer."""
    import threading

    gate = threading.Event()
    view.worker.submit(lambda s: gate.wait(10))
    try:
        search_products(qtbot, view, "티셔츠")
        assert codes_shown(view) == ["5000000007OPT-L", "5000000007OPT-M", "5000000007OPT-S"]
        with qtbot.waitSignal(view.items_found, timeout=LOAD_TIMEOUT, check_params_cb=lambda n: n == 1):
            type_into(qtbot, view.item_search, "tea-gr")
        assert gate.is_set() is False
    finally:
        gate.set()
    view.worker.wait_idle(5)


# ------------------------------------------------------------------------------------------------ new items

LINEN = (("8000000001", "101", "린넨 셔츠", "색상: 화이트 / 사이즈: M"),
         ("8000000001", "102", "린넨 셔츠", "색상: 블루 / 사이즈: M"),
         ("8000000001", "103", "린넨 셔츠", "색상: 블랙 / 사이즈: L"))


def open_create(qtbot, v: MappingView) -> CreateItemsDialog:  # type: ignore[no-untyped-def]
    click(qtbot, v.create_button)
    qtbot.waitUntil(lambda: v.create_dialog is not None and v.create_dialog.isVisible())
    assert v.create_dialog is not None
    return v.create_dialog


def retype(qtbot, field: Any, text: str) -> None:  # type: ignore[no-untyped-def]
    field.setFocus()
    field.selectAll()
    qtbot.keyClick(field, Qt.Key.Key_Delete)
    type_into(qtbot, field, text)


def click_line(qtbot, d: CreateItemsDialog, line: int) -> None:  # type: ignore[no-untyped-def]
    rect = d.table.visualItemRect(d.table.item(line, d.COL_PRODUCT))
    qtbot.mouseClick(d.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.waitUntil(lambda: d.current_line == line)


def type_barcode(qtbot, d: CreateItemsDialog, code: str) -> None:  # type: ignore[no-untyped-def]
    with qtbot.waitSignal(d.barcode_added, timeout=LOAD_TIMEOUT):
        type_into(qtbot, d.barcode_input, code)
        qtbot.keyClick(d.barcode_input, Qt.Key.Key_Return)


def test_one_item_for_each_option_in_one_step(qtbot, view: MappingView,  # type: ignore[no-untyped-def]
                                              demo_db: Database) -> None:
    add_products(demo_db, *LINEN)
    search_products(qtbot, view, "린넨")
    click_product(qtbot, view, "8000000001", "102")
    click(qtbot, view.options_button)  # 이 상품의 옵션 모두 선택 / Select all its options
    assert [r.option_code for r in view.selected_rows()] == ["101", "102", "103"]
    d = open_create(qtbot, view)
    assert [line.sku for line in d.lines] == ["8000000001-101", "8000000001-102", "8000000001-103"]
    assert d.table.item(0, d.COL_NAME).text() == "린넨 셔츠 색상: 화이트 / 사이즈: M"  # the default rule
    assert not d.rule_buttons[mp.NameRule.TYPED].isEnabled()  # typed by hand: one product at a time
    qtbot.mouseClick(d.rule_buttons[mp.NameRule.OPTION_ONLY], Qt.MouseButton.LeftButton)
    assert [d.table.item(i, d.COL_NAME).text() for i in range(3)] == [
        "색상: 화이트 / 사이즈: M", "색상: 블루 / 사이즈: M", "색상: 블랙 / 사이즈: L"]
    retype(qtbot, d.sku_edits[2], "LINEN-BK-L")
    click_line(qtbot, d, 0)
    type_barcode(qtbot, d, "8805550000")   # two barcodes for the white shirt (old and new label)
    type_barcode(qtbot, d, "8805550009")
    click_line(qtbot, d, 2)
    type_barcode(qtbot, d, "8805550002")
    assert d.table.item(0, d.COL_BARCODES).text() == "8805550000, 8805550009"
    with qtbot.waitSignal(view.items_created, timeout=LOAD_TIMEOUT) as blocker:
        click(qtbot, d.create_button)
    assert blocker.args == [3]
    qtbot.waitUntil(lambda: view.create_dialog is None and not view.busy, timeout=LOAD_TIMEOUT)
    assert items(demo_db, "8000000001-101", "8000000001-102", "LINEN-BK-L") == [
        ("8000000001-101", "색상: 화이트 / 사이즈: M", "", ("8805550000", "8805550009")),
        ("8000000001-102", "색상: 블루 / 사이즈: M", "", ()),
        ("LINEN-BK-L", "색상: 블랙 / 사이즈: L", "", ("8805550002",))]
    assert [links(demo_db, "8000000001", o) for o in ("101", "102", "103")] == [
        [("8000000001-101", 1)], [("8000000001-102", 1)], [("LINEN-BK-L", 1)]]
    assert "출고상품 3개를 만들고 연결했습니다" in view.message.text() and "Created and linked 3" in view.message.text()
    assert [cell(view, view.row_for("8000000001", o), 2)[0] for o in ("101", "103")] == [  # type: ignore[arg-type]
        "8000000001-101 ×1", "LINEN-BK-L ×1"]


def test_a_typed_korean_name_and_a_twelve_pack(qtbot, view: MappingView,  # type: ignore[no-untyped-def]
                                              demo_db: Database) -> None:
    click_product(qtbot, view, "5000000006")
    d = open_create(qtbot, view)
    assert not d.typed_name.isEnabled() and d.lines[0].sku == "5000000006"
    qtbot.mouseClick(d.rule_buttons[mp.NameRule.TYPED], Qt.MouseButton.LeftButton)
    assert d.typed_name.isEnabled() and d.typed_name.text() == "신상품 캔들 (미등록)"
    retype(qtbot, d.typed_name, "소이 캔들 12입 세트")
    assert d.table.item(0, d.COL_NAME).text() == "소이 캔들 12입 세트"
    retype(qtbot, d.sku_edits[0], "CANDLE-12")
    set_spin(qtbot, d.qty_spins[0], 12)
    with qtbot.waitSignal(view.items_created, timeout=LOAD_TIMEOUT):
        click(qtbot, d.create_button)
    assert items(demo_db, "CANDLE-12") == [("CANDLE-12", "소이 캔들 12입 세트", "", ())]
    assert links(demo_db, "5000000006") == [("CANDLE-12", 12)]
    qtbot.waitUntil(lambda: not view.busy and "미연결 0개" in view.counts.text(), timeout=LOAD_TIMEOUT)
    assert view.draft_texts() == [("CANDLE-12", 12)] and "연결됨" in view.detail_state.text()


def test_sku_and_barcode_clashes_are_explained_and_nothing_is_made(qtbot, view: MappingView,  # type: ignore[no-untyped-def]
                                                                  demo_db: Database) -> None:
    click_product(qtbot, view, "5000000006")
    d = open_create(qtbot, view)
    with qtbot.waitSignal(d.barcode_refused, timeout=LOAD_TIMEOUT) as blocker:
        type_into(qtbot, d.barcode_input, BARCODE["MUG-WH-01"])
        qtbot.keyClick(d.barcode_input, Qt.Key.Key_Return)
    assert blocker.args == [BARCODE["MUG-WH-01"], "item_barcode_taken"]
    text = d.barcode_message.text()
    assert "이미 다른 출고상품의 바코드입니다: MUG-WH-01 (세라믹 머그컵 화이트)" in text and "already belongs" in text
    with qtbot.waitSignal(d.barcode_refused, timeout=LOAD_TIMEOUT) as blocker:
        type_into(qtbot, d.barcode_input, "캔들")  # typed in Hangul mode: not a barcode
        qtbot.keyClick(d.barcode_input, Qt.Key.Key_Return)
    assert blocker.args == ["캔들", "item_barcode_bad"] and "공백 없이" in d.barcode_message.text()
    type_barcode(qtbot, d, "8801234999991")
    with qtbot.waitSignal(d.barcode_refused, timeout=LOAD_TIMEOUT) as blocker:
        type_into(qtbot, d.barcode_input, "8801234999991")
        qtbot.keyClick(d.barcode_input, Qt.Key.Key_Return)
    assert blocker.args == ["8801234999991", "item_barcode_repeated"] and d.lines[0].barcodes == ["8801234999991"]

    retype(qtbot, d.sku_edits[0], "tea-gr")  # the demo's tea, in other case
    before = items(demo_db, "TEA-GR", "tea-gr")
    with qtbot.waitSignal(view.refused, timeout=LOAD_TIMEOUT) as refused:
        click(qtbot, d.create_button)
    assert refused.args == ["items_refused"]
    assert d.isVisible() and d.create_button.isEnabled()
    assert d.problems.text() == (
        "1번째 줄 / line 1: SKU tea-gr는 이미 다른 출고상품의 SKU입니다: TEA-GR (녹차 티백 낱개) — "
        "다른 SKU를 쓰거나 그 출고상품에 연결하세요 / SKU tea-gr already belongs to another "
        "item: TEA-GR (녹차 티백 낱개) — choose another SKU, or link to that item")
    assert "출고상품을 만들지 않았습니다" in view.message.text()
    assert items(demo_db, "TEA-GR", "tea-gr") == before and links(demo_db, "5000000006") == []

    retype(qtbot, d.sku_edits[0], "CANDLE-1")
    with qtbot.waitSignal(view.items_created, timeout=LOAD_TIMEOUT):
        click(qtbot, d.create_button)
    assert links(demo_db, "5000000006") == [("CANDLE-1", 1)]
    assert items(demo_db, "CANDLE-1") == [("CANDLE-1", "신상품 캔들 (미등록)", "", ("8801234999991",))]


# ------------------------------------------------------------------------------------------------ failure file


def test_failure_file_from_the_preview_then_its_fixed_reimport(  # type: ignore[no-untyped-def]
        qtbot, view: MappingView, demo_db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from openpyxl import load_workbook

    path = write_sheet(tmp_path / "links.xlsx", [
        (ACCOUNT, "5000000006", "", "캔들", "", "GIFTBOX-S", 2),     # row 2: good
        (ACCOUNT, "5000000002", "", "텀블러", "", "NO-SUCH", 1),     # row 3: unknown SKU
        (ACCOUNT, "5000000004", "", "코스터", "", "COASTER-01", 0),  # row 4: bad quantity
    ])
    choose_file(monkeypatch, path)
    with qtbot.waitSignal(view.import_previewed, timeout=LOAD_TIMEOUT):
        click(qtbot, view.import_button)
    d = view.preview_dialog
    assert d is not None and d.failure_button.isVisible() and d.failure_button.isEnabled()
    failures = tmp_path / "links-실패.xlsx"
    choose_file(monkeypatch, failures)
    with qtbot.waitSignal(view.failure_file_saved, timeout=LOAD_TIMEOUT) as blocker:
        click(qtbot, d.failure_button)
    assert blocker.args == [str(failures), 2]
    assert "실패 파일에 2행을 저장했습니다" in view.message.text() and "Saved 2 rows" in d.failure_hint.text()
    wb = load_workbook(failures)
    ws = wb.active
    assert ws is not None
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0] == (*HEADERS, "오류 사유 / Reason")
    assert rows[1][:7] == (ACCOUNT, "5000000002", None, "텀블러", None, "NO-SUCH", 1)
    assert rows[1][7] == "3행: 없는 출고상품 SKU입니다: NO-SUCH / Row 3: Unknown item SKU: NO-SUCH"
    assert rows[2][:7] == (ACCOUNT, "5000000004", None, "코스터", None, "COASTER-01", 0) and "4행: 수량" in rows[2][7]
    with qtbot.waitSignal(view.import_applied, timeout=LOAD_TIMEOUT):
        click(qtbot, d.apply_button)  # the good row goes in now
    assert links(demo_db, "5000000006") == [("GIFTBOX-S", 2)]

    ws["F2"], ws["G3"] = "TMB-500", 6  # fixed in Excel
    wb.save(failures)
    wb.close()
    choose_file(monkeypatch, failures)
    qtbot.waitUntil(lambda: not view.busy and view.preview_dialog is None, timeout=LOAD_TIMEOUT)
    with qtbot.waitSignal(view.import_previewed, timeout=LOAD_TIMEOUT) as blocker:
        click(qtbot, view.import_button)
    again: mp.ImportPreview = blocker.args[0]
    assert again.errors == () and again.rows_read == 2 and len(again.changes) == 1  # the tumbler was TMB-500 ×1
    assert not view.preview_dialog.failure_button.isVisible()  # type: ignore[union-attr]
    with qtbot.waitSignal(view.import_applied, timeout=LOAD_TIMEOUT):
        click(qtbot, view.preview_dialog.apply_button)  # type: ignore[union-attr]
    assert links(demo_db, "5000000004") == [("COASTER-01", 6)] and links(demo_db, "5000000002") == [("TMB-500", 1)]


# ------------------------------------------------------------------------------------------------ scans


def open_links(qtbot, station) -> MappingView:  # type: ignore[no-untyped-def]
    v = station.window.open_mapping()
    assert isinstance(v, MappingView)
    qtbot.waitUntil(lambda: not v.busy and v.model.rowCount() == 10, timeout=LOAD_TIMEOUT)
    v.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is v)
    return v


def close_links(qtbot, station, v: MappingView) -> None:  # type: ignore[no-untyped-def]
    qtbot.waitUntil(lambda: not v.busy, timeout=LOAD_TIMEOUT)
    click(qtbot, v.close_button)
    qtbot.waitUntil(lambda: station.window._mapping_view is None)
    station.window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is not None
                    and QApplication.focusWidget().window() is station.window)


def scan_events(station) -> int:  # type: ignore[no-untyped-def]
    from sqlalchemy import func

    with station.db.session() as s:
        return s.scalar(select(func.count()).select_from(m.ScanEvent))  # type: ignore[no-any-return]


def test_a_barcode_scanned_into_the_link_field_picks_its_item(qtbot, station, demo_db: Database) -> None:  # type: ignore[no-untyped-def]
    from tests.ui.conftest import Packer

    packer = Packer(qtbot, station)
    v = open_links(qtbot, station)
    click_product(qtbot, v, "5000000006")
    qtbot.mouseClick(v.item_search, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(v.item_search.hasFocus)
    before = scan_events(station)
    with qtbot.waitSignal(v.item_scanned, timeout=LOAD_TIMEOUT) as blocker:
        packer.type_code(BARCODE["TEA-GR"])  # at scanner speed, Enter last: the key filter takes it whole
    tea = next(r for r in v._found if r.sku == "TEA-GR")
    assert blocker.args == [BARCODE["TEA-GR"], tea.id]
    assert v.item_search.text() == BARCODE["TEA-GR"]  # once, not typed into the field as well
    assert v.item_results.item(v.item_results.currentRow(), 0).text() == "TEA-GR"
    assert "수량을 정하고" in v.message.text() and v.quantity.hasFocus()
    assert scan_events(station) == before and station.service.state.pack is None  # the station never saw it
    set_spin(qtbot, v.quantity, 12)
    click(qtbot, v.add_button)
    with qtbot.waitSignal(v.link_saved, timeout=LOAD_TIMEOUT):
        click(qtbot, v.save_button)
    assert links(demo_db, "5000000006") == [("TEA-GR", 12)]

    with qtbot.waitSignal(v.item_scanned, timeout=LOAD_TIMEOUT) as blocker:
        packer.type_code("8809999999999")
    assert blocker.args == ["8809999999999", 0] and "8809999999999인 출고상품이 없습니다" in v.message.text()
    assert v.message.property("level") == "error" and not v.add_button.isEnabled()
    close_links(qtbot, station, v)


def test_an_item_made_with_a_scanned_barcode_is_packed_at_once(qtbot, station, demo_db: Database) -> None:  # type: ignore[no-untyped-def]
    """The reason for it all: the new product's waybill is refused, a supervisor makes its item from the
    product (scanning the barcode on the candle's box into the dialog), and the packer packs it right away."""
    from tests.ui.conftest import Packer

    packer = Packer(qtbot, station)
    packer.scan("PD-PACKER-001")
    packer.scan(Scenario.UNMAPPED)
    assert "출고상품에 연결되지 않은" in packer.banner() and packer.sounds[-1] == "error"

    v = open_links(qtbot, station)
    click_product(qtbot, v, "5000000006")
    d = open_create(qtbot, v)
    qtbot.waitUntil(lambda: QApplication.activeWindow() is d)
    d.barcode_input.setFocus()
    with qtbot.waitSignal(d.barcode_added, timeout=LOAD_TIMEOUT) as blocker:
        packer.type_code("8801234500017")  # the scan goes to the dialog, not to the station
    assert blocker.args == [0, "8801234500017"] and d.barcode_input.text() == ""
    assert d.lines[0].barcodes == ["8801234500017"]
    with qtbot.waitSignal(v.items_created, timeout=LOAD_TIMEOUT):
        click(qtbot, d.create_button)
    assert links(demo_db, "5000000006") == [("5000000006", 1)]
    close_links(qtbot, station, v)

    packer.scan(Scenario.UNMAPPED)
    assert "포장 시작" in packer.banner() and packer.sounds[-1] == "ok"
    assert sorted(packer.view.row_texts()) == [("세라믹 머그컵", "0 / 1"), ("신상품 캔들 (미등록)", "0 / 1")]
    packer.scan("8801234500017")
    packer.scan(BARCODE["MUG-WH-01"])
    assert packer.banner() == f"포장 완료: {Scenario.UNMAPPED}" and packer.sounds[-1] == "complete"
