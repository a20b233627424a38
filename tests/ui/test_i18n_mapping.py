"""The product-link screen in English only (``language: en``), the way a supervisor links products: the list
with its filters (deleted products included), a link saved and a link refused, items made from sales products
(their name rule, barcodes typed and refused, an SKU clash), an item picked by scanning its barcode, an Excel
import whose preview has failed rows and their failure file. Every text on it holds no Korean but the shop's
own (product, option, item and account names come from the shop as they are)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QFileDialog, QTableView

from packdesk.channels.demo import BARCODE
from packdesk.core.db import Database
from packdesk.services import mapping as mp
from packdesk.services.settings import Settings
from packdesk.ui.mapping_view import MappingView
from tests.ui.test_mapping_view import (
    ACCOUNT,
    LINEN,
    LOAD_TIMEOUT,
    add_products,
    click,
    click_line,
    click_product,
    close_links,
    open_create,
    open_links,
    pick_item,
    retype,
    search_products,
    type_barcode,
    type_into,
    write_sheet,
)
from tests.ui.texts import korean_left, shop_words, visible_texts

# the link screen as its own tests build it (``view``, tests/ui/conftest.py), in English: set before it is built
pytestmark = [pytest.mark.gui, pytest.mark.usefixtures("english_screens")]


def table_texts(table: QTableView) -> list[str]:
    """A model view's header, cells and tooltips."""
    model = table.model()
    out = [str(model.headerData(c, Qt.Orientation.Horizontal) or "") for c in range(model.columnCount())]
    for r in range(model.rowCount()):
        for c in range(model.columnCount()):
            idx = model.index(r, c)
            out += [str(idx.data() or ""), str(idx.data(Qt.ItemDataRole.ToolTipRole) or "")]
    return [t for t in out if t]


def screen_texts(v: MappingView) -> list[str]:
    return [*visible_texts(v), *table_texts(v.table)]


def file_dialogs(monkeypatch: pytest.MonkeyPatch, path: Path) -> list[str]:
    """Answer the OS's file dialogs with ``path``; what they were asked to show (title, file name, filter)."""
    asked: list[str] = []

    def answer(_parent: Any, title: str, name: str = "", filters: str = "", *a: Any, **k: Any) -> tuple[str, str]:
        asked.extend((title, name, filters))
        return str(path), "Excel (*.xlsx)"

    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(answer))
    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(answer))
    return asked


def test_the_link_list_its_filters_and_a_link_in_english(qtbot, view: MappingView,  # type: ignore[no-untyped-def]
                                                         demo_db: Database) -> None:
    add_products(demo_db, ("7000000001", "", "단종 머그", ""), status="OUTOFSTOCK", seller_code="MUG-OLD")
    add_products(demo_db, ("7000000002", "", "단종 텀블러", ""), status="DELETE", deleted=True)
    v = view
    seen = screen_texts(v)
    assert v.windowTitle() == "Product links" and v.account_combo.itemText(0) == "All accounts"
    assert [v.model.headerData(c, Qt.Orientation.Horizontal) for c in range(3)] == [
        "Marketplace product", "Sales product", "Shipping items × qty"]
    assert v.proxy.index(0, 2).data() == "Not linked\nLink or create an item"
    assert "1 not linked" in v.counts.text() and v.detail_title.text() == "Pick a product on the left"

    # the link filter, then deleted products
    v.state_combo.setFocus()
    with qtbot.waitSignal(v.products_loaded, timeout=LOAD_TIMEOUT):
        qtbot.keyClick(v.state_combo, Qt.Key.Key_Down)
    assert v.state_combo.currentText() == "Not linked" and v.proxy.rowCount() == 2  # the candle, the old mug
    seen += screen_texts(v)
    with qtbot.waitSignal(v.products_loaded, timeout=LOAD_TIMEOUT):
        qtbot.keyClick(v.state_combo, Qt.Key.Key_Home)
    search_products(qtbot, v, "단종")
    with qtbot.waitSignal(v.products_loaded, timeout=LOAD_TIMEOUT):
        qtbot.mouseClick(v.include_deleted, Qt.MouseButton.LeftButton)
    assert v.proxy.rowCount() == 2
    assert v.proxy.index(0, 0).data().endswith("Out of stock · Product 7000000001 · Seller code MUG-OLD")
    assert v.proxy.index(1, 1).data() == "7000000002\nNew · Deleted"
    click_product(qtbot, v, "7000000002")
    assert v.detail_state.text() == "Not linked · New · Deleted on the marketplace"
    assert v.detail_market.text().startswith("Marketplace: Deleted · Product 7000000002")
    seen += screen_texts(v)
    with qtbot.waitSignal(v.products_loaded, timeout=LOAD_TIMEOUT):
        qtbot.mouseClick(v.new_only, Qt.MouseButton.LeftButton)
    with qtbot.waitSignal(v.products_loaded, timeout=LOAD_TIMEOUT):
        qtbot.mouseClick(v.new_only, Qt.MouseButton.LeftButton)
    v.search.clear()
    qtbot.waitUntil(lambda: v.proxy.rowCount() == 12 and not v.busy, timeout=LOAD_TIMEOUT)

    # a link saved with the picker, then one refused (no items)
    click_product(qtbot, v, "5000000006")
    assert v.detail_sub.text().startswith("Sales product: ")
    pick_item(qtbot, v, "코스터", "COASTER-01", qty=2)
    assert v.message.text() == "Added COASTER-01 ×2 — press Save" and v.dirty_label.text() == "Unsaved changes"
    seen += screen_texts(v)
    with qtbot.waitSignal(v.link_saved, timeout=LOAD_TIMEOUT):
        click(qtbot, v.save_button)
    assert v.message.text() == "Link saved"
    qtbot.waitUntil(lambda: not v.busy and "· 2 not linked" in v.counts.text(), timeout=LOAD_TIMEOUT)
    seen += screen_texts(v)
    rect = v.components.visualItemRect(v.components.item(0, 1))
    qtbot.mouseClick(v.components.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    click(qtbot, v.remove_button)
    with qtbot.waitSignal(v.refused, timeout=LOAD_TIMEOUT):
        click(qtbot, v.save_button)
    assert v.message.text() == "Add at least one item" and v.message.property("level") == "error"
    seen += screen_texts(v)
    with qtbot.waitSignal(v.link_removed, timeout=LOAD_TIMEOUT):
        click(qtbot, v.unlink_button)
    assert v.message.text() == "Link removed — press Save to put it back"
    with qtbot.waitSignal(v.marked_seen, timeout=LOAD_TIMEOUT):
        click(qtbot, v.seen_button)
    assert re.fullmatch(r"Marked (1 product|\d+ products) as seen", v.message.text())  # never "product(s)"
    qtbot.waitUntil(lambda: not v.busy, timeout=LOAD_TIMEOUT)
    seen += screen_texts(v)

    assert "Include deleted" in seen and "Find an item — search or scan its barcode" in seen
    assert korean_left(seen, shop_words(demo_db)) == []


def test_items_made_from_sales_products_in_english(qtbot, view: MappingView,  # type: ignore[no-untyped-def]
                                                   demo_db: Database) -> None:
    v = view
    add_products(demo_db, *LINEN)
    search_products(qtbot, v, "린넨")
    click_product(qtbot, v, "8000000001", "102")
    click(qtbot, v.options_button)
    assert v.message.text() == "3 options selected"
    d = open_create(qtbot, v)
    seen = visible_texts(d)
    assert d.windowTitle() == "Create shipping items" and d.create_button.text() == "Create and link (3)"
    assert [d.table.horizontalHeaderItem(c).text() for c in range(5)] == [
        "Sales product", "Item name", "SKU", "Set qty", "Barcodes"]
    # the name rule: product and option (the default), the option alone, typed (one product only)
    assert [b.text() for b in d.rule_buttons.values()] == [
        "Product name + option name", "Option name only", "Typed by hand"]
    assert d.rule_buttons[mp.NameRule.TYPED].toolTip() == "Only for one sales product"
    qtbot.mouseClick(d.rule_buttons[mp.NameRule.OPTION_ONLY], Qt.MouseButton.LeftButton)
    assert d.table.item(0, d.COL_NAME).text() == "색상: 화이트 / 사이즈: M"  # the shop's option name, as it is

    # barcodes: one taken by another item, one typed in Hangul mode, one twice, then a good one
    with qtbot.waitSignal(d.barcode_refused, timeout=LOAD_TIMEOUT):
        type_into(qtbot, d.barcode_input, BARCODE["MUG-WH-01"])
        qtbot.keyClick(d.barcode_input, Qt.Key.Key_Return)
    assert d.barcode_message.text().startswith(f"Barcode {BARCODE['MUG-WH-01']} already belongs to another item: ")
    seen += visible_texts(d)
    with qtbot.waitSignal(d.barcode_refused, timeout=LOAD_TIMEOUT):
        type_into(qtbot, d.barcode_input, "캔들")
        qtbot.keyClick(d.barcode_input, Qt.Key.Key_Return)
    assert d.barcode_message.text().startswith("A barcode is up to 64 letters")
    seen += [t for t in visible_texts(d) if "캔들" not in t]  # the refused Hangul itself, as typed
    click_line(qtbot, d, 1)
    type_barcode(qtbot, d, "8805550001")
    assert d.barcode_message.text() == "Barcode 8805550001 added to line 2"
    assert d.barcode_for.text().startswith("Barcodes of line 2: ")
    with qtbot.waitSignal(d.barcode_refused, timeout=LOAD_TIMEOUT):
        type_into(qtbot, d.barcode_input, "8805550001")
        qtbot.keyClick(d.barcode_input, Qt.Key.Key_Return)
    assert d.barcode_message.text() == "Barcode 8805550001 is listed twice (line 2)"
    seen += visible_texts(d)

    # an SKU clash: nothing is made, every problem said by line
    retype(qtbot, d.sku_edits[0], "tea-gr")
    with qtbot.waitSignal(v.refused, timeout=LOAD_TIMEOUT):
        click(qtbot, d.create_button)
    assert d.problems.text().startswith("Line 1: SKU tea-gr already belongs to another item: TEA-GR (")
    assert v.message.text().startswith("No item was created — 1 problem: line 1: SKU tea-gr")
    seen += visible_texts(d) + screen_texts(v)
    retype(qtbot, d.sku_edits[0], "LINEN-WH-M")
    with qtbot.waitSignal(v.items_created, timeout=LOAD_TIMEOUT):
        click(qtbot, d.create_button)
    qtbot.waitUntil(lambda: v.create_dialog is None and not v.busy, timeout=LOAD_TIMEOUT)
    assert v.message.text().startswith("Created and linked 3 items: LINEN-WH-M ×1")
    seen += screen_texts(v)

    # one product: the typed name
    click_product(qtbot, v, "8000000001", "101")
    d = open_create(qtbot, v)
    assert d.create_button.text() == "Create and link (1)"
    assert d.relink_note.text() == "1 of them already linked: their link becomes the new item."
    qtbot.mouseClick(d.rule_buttons[mp.NameRule.TYPED], Qt.MouseButton.LeftButton)
    assert d.typed_name.isEnabled() and d.typed_name.placeholderText() == "Type the item name"
    seen += visible_texts(d)
    click(qtbot, d.cancel_button)
    qtbot.waitUntil(lambda: v.create_dialog is None)

    assert "Item name rule" in seen and "Next line after each scan" in seen
    assert korean_left(seen, shop_words(demo_db)) == []


def test_an_import_with_failed_rows_and_an_export_in_english(  # type: ignore[no-untyped-def]
        qtbot, view: MappingView, demo_db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    v = view
    path = write_sheet(tmp_path / "edit.xlsx", [
        (ACCOUNT, "5000000006", "", "", "", "GIFTBOX-S", 2),     # row 2: good
        (ACCOUNT, "5000000002", "", "", "", "NO-SUCH", 1),       # row 3: unknown SKU
        (ACCOUNT, "5000000004", "", "", "", "COASTER-01", -1),   # row 4: bad quantity
    ])
    asked = file_dialogs(monkeypatch, path)
    with qtbot.waitSignal(v.import_previewed, timeout=LOAD_TIMEOUT):
        click(qtbot, v.import_button)
    d = v.preview_dialog
    assert d is not None
    assert asked[::2] == ["Import from Excel", "Excel (*.xlsx);;All files (*)"]  # (opens where ui/files.py says)
    assert v.message.text() == "Preview of edit.xlsx — apply or cancel"
    assert d.windowTitle() == "Import preview" and d.error_title.text() == "2 rows with errors — not imported"
    assert "1 valid rows" in d.summary.text() and d.apply_button.text() == "Apply (1 products)"
    assert [d.errors.horizontalHeaderItem(c).text() for c in range(d.errors.columnCount())] == ["Row", "Reason"]
    assert [d.errors.item(r, 1).text() for r in range(2)] == [
        "Unknown item SKU: NO-SUCH", "Quantity must be a whole number from 1 to 9999: -1"]
    seen = visible_texts(d)
    failures = tmp_path / "edit-failures.xlsx"
    asked = file_dialogs(monkeypatch, failures)
    with qtbot.waitSignal(v.failure_file_saved, timeout=LOAD_TIMEOUT):
        click(qtbot, d.failure_button)
    assert asked[:2] == ["Save failure file", str(failures)]  # the name offered: the file's, "-failures"
    assert d.failure_hint.text().startswith("Saved 2 rows to the failure file — fix them and import that file: ")
    seen += visible_texts(d) + screen_texts(v)
    with qtbot.waitSignal(v.import_applied, timeout=LOAD_TIMEOUT):
        click(qtbot, d.apply_button)
    assert v.message.text() == "Imported the links of 1 product (1 row)"
    qtbot.waitUntil(lambda: not v.busy and v.preview_dialog is None, timeout=LOAD_TIMEOUT)
    seen += screen_texts(v)

    # a file that is not Excel at all, a cancelled preview, then an export
    bad = tmp_path / "orders.xlsx"
    bad.write_text("주문번호,상품명\n1,머그\n", encoding="utf-8")
    file_dialogs(monkeypatch, bad)
    with qtbot.waitSignal(v.refused, timeout=LOAD_TIMEOUT):
        click(qtbot, v.import_button)
    assert v.message.text() == "Cannot read this as an Excel file (.xlsx): orders.xlsx"
    seen += screen_texts(v)
    file_dialogs(monkeypatch, path)
    with qtbot.waitSignal(v.import_previewed, timeout=LOAD_TIMEOUT):
        click(qtbot, v.import_button)
    assert v.preview_dialog is not None
    click(qtbot, v.preview_dialog.cancel_button)
    qtbot.waitUntil(lambda: v.preview_dialog is None)
    assert v.message.text() == "Import cancelled"
    out = tmp_path / "links.xlsx"
    asked = file_dialogs(monkeypatch, out)
    with qtbot.waitSignal(v.exported, timeout=LOAD_TIMEOUT):
        click(qtbot, v.export_button)
    assert asked[0] == "Export to Excel" and Path(asked[1]).name.startswith("packdesk-product-links-")
    assert v.message.text() == f"Saved 12 rows: {out}"
    qtbot.waitUntil(lambda: not v.busy, timeout=LOAD_TIMEOUT)
    seen += screen_texts(v) + asked

    assert "Save failure file" in seen and "Include unlinked products" in seen
    assert korean_left(seen, shop_words(demo_db)) == []


def test_linking_by_a_scanned_barcode_in_english(qtbot, make_station, english_screens,  # type: ignore[no-untyped-def]
                                                 demo_db: Database) -> None:
    from tests.ui.conftest import Packer

    station = make_station(Settings(recorder="off", language="en"))
    packer = Packer(qtbot, station)
    v = open_links(qtbot, station)
    assert v.windowTitle() == "Product links"
    with qtbot.waitSignal(v.item_scanned, timeout=LOAD_TIMEOUT):
        packer.type_code(BARCODE["TEA-GR"])  # no product picked yet: which one is it for?
    assert v.message.text() == "Scanned item TEA-GR — pick the sales product to link it to"
    seen = screen_texts(v)
    click_product(qtbot, v, "5000000006")
    qtbot.mouseClick(v.item_search, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(v.item_search.hasFocus)
    with qtbot.waitSignal(v.item_scanned, timeout=LOAD_TIMEOUT):
        packer.type_code(BARCODE["TEA-GR"])
    assert v.message.text() == "Scanned item TEA-GR — set the quantity and press Add" and v.quantity.hasFocus()
    seen += screen_texts(v)
    click(qtbot, v.add_button)
    with qtbot.waitSignal(v.link_saved, timeout=LOAD_TIMEOUT):
        click(qtbot, v.save_button)
    with qtbot.waitSignal(v.item_scanned, timeout=LOAD_TIMEOUT):
        packer.type_code("8809999999999")
    assert v.message.text() == "No item has barcode 8809999999999 — to make one, use 'Create items'"
    seen += screen_texts(v)

    # a scan into the item dialog: a barcode for its line
    d = open_create(qtbot, v)
    qtbot.waitUntil(lambda: QApplication.activeWindow() is d)
    d.barcode_input.setFocus()
    with qtbot.waitSignal(d.barcode_added, timeout=LOAD_TIMEOUT):
        packer.type_code("8801234500017")
    assert d.barcode_message.text() == "Barcode 8801234500017 added to line 1"
    seen += visible_texts(d)
    click(qtbot, d.cancel_button)
    qtbot.waitUntil(lambda: v.create_dialog is None)
    close_links(qtbot, station, v)

    assert "Scan a barcode, or type it and press Enter" in seen
    assert korean_left(seen, shop_words(station.db)) == []
