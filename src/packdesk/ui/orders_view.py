"""Orders (주문): find an order by its number, recipient or waybill, see its lines' history, type one in
(수기 주문 등록), force-cancel a typed-in one, delete one nobody started packing, save a label, and print packing
slips (포장 지시서: the selected order's parcel, or a day's batch; ``ui/slips_view.py``).

All rules live in ``services/orders.py``; this screen only shows and asks. Reads run on threads of their own
(short sessions, never queued behind the station's scans); writes go to the station's database thread, in
order with everything else written there. A refusal comes back as a ``KnownError`` and is shown in Korean and
English, naming the field. While this window or its form is the active window, the app's key filter hands
scans to its ``take_scan`` (``app.py``): the window searches the scanned waybill; the form adds the scanned
item (one more if it is listed), or takes a courier's number when the tracking field has focus.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QComboBox,
    QDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from packdesk.core import couriers
from packdesk.core.db import Database
from packdesk.core.enums import LineStatus
from packdesk.core.errors import KnownError
from packdesk.core.filenames import safe_file_part
from packdesk.core.kst import kst_text
from packdesk.core.station import FORCE_CANCELLED
from packdesk.services import claim_bundle
from packdesk.services import orders as so
from packdesk.services.dbworker import DbWorker, Job
from packdesk.services.excel_orders import LINE_STATUS_TEXT
from packdesk.services.mapping import ItemRow, find_items
from packdesk.ui import files, ops
from packdesk.ui.barcode_sheet import SheetEntry, SheetSection, render_sheet
from packdesk.ui.cells import item_at
from packdesk.ui.claim_bundle_view import BUTTON_TEXT as CLAIM_BUNDLE_TEXT
from packdesk.ui.claim_bundle_view import ClaimBundleDialog, open_claim_bundle
from packdesk.ui.i18n import both, one, plural, tr, two_lines
from packdesk.ui.levels import show_level
from packdesk.ui.messages import error_text

log = logging.getLogger("packdesk.ui.orders")

STYLE = """
QWidget { font-size: 16px; }
QLabel#ordersTitle, QLabel#formTitle { font-size: 24px; font-weight: bold; }
QLabel#orderInfo { color: #37474f; }
QGroupBox { font-weight: bold; margin-top: 12px; }
QGroupBox::title { subcontrol-origin: margin; left: 8px; padding: 0 4px; }
QHeaderView::section { font-weight: bold; padding: 6px; }
QPushButton { padding: 7px 16px; }
QPushButton#saveOrder, QPushButton#newOrder { background: #1565c0; color: white; font-weight: bold; }
QPushButton#saveOrder:disabled { background: #90a4ae; }
QPushButton#forceCancel { color: #b71c1c; font-weight: bold; }
QPushButton#forceCancel:disabled { color: #9e9e9e; font-weight: normal; }
QLineEdit, QComboBox, QSpinBox { min-height: 32px; }
"""
BAD_FIELD = "border: 2px solid #c62828; background: #ffebee;"
REQUIRED_FG = QColor("#b71c1c")
# what an order or a line is in, besides its lines' statuses (services/excel_orders.LINE_STATUS_TEXT)
STATE_TEXT = {"force_cancelled": "강제 취소 / Force-cancelled", "no_lines": "상품 없음 / No lines"}
FORCE_CANCELLED_TEXT = STATE_TEXT["force_cancelled"]
ID_ROLE = Qt.ItemDataRole.UserRole
SEARCH_DELAY_MS = 250
ORDER_COLUMNS = ("등록 / Created", "판매처 / Platform", "주문번호 / Order no.", "수취인 / Recipient",
                 "상품 / Items", "상태 / Status", "송장 / Waybill")
HISTORY_COLUMNS = ("시각 / When", "상품 / Item", "상태 / Status", "사유 / Claim", "처리 / By")
# who changed a line (the part of its source before ":")
SOURCE_TEXT = {"manual": "수기 등록 / typed in", "force_cancel": "강제 취소 / force-cancelled",
               "collect": "수집 / collected", "excel": "엑셀 / Excel", "pack": "포장 / packed",
               "dispatch": "발송 / dispatch"}


MINUTE = "%Y-%m-%d %H:%M"
# why "강제 취소" can or cannot be used on the selected order (its tooltip): it cancels a typed-in order's lines in
# PackDesk (services/orders.force_cancel); a marketplace order is cancelled on the marketplace, and the next
# collection brings the cancellation in — nothing here would reach the marketplace
FORCE_CANCEL_WHY = {
    "manual": "수기 주문만, 포장 전에만 — 되돌릴 수 없습니다 / typed-in orders only, before packing — cannot be undone",
    "none": "주문을 고르세요 / Pick an order",
    "market": "마켓 주문은 마켓(판매자 센터)에서 취소하세요 — 다음 수집 때 취소가 들어와 스테이션이 그 송장을 "
              "거부합니다 / A marketplace order is cancelled on the marketplace (seller centre): the next "
              "collection brings the cancellation in and the station refuses its waybill",
    "packed": "이미 포장된 주문은 취소할 수 없습니다 / An order already packed cannot be cancelled",
    "cancelled": "이미 강제 취소된 주문입니다 / This order is force-cancelled already",
}


def force_cancel_why(row: so.OrderRow | None) -> str:
    """The reason the force-cancel button is (or is not) usable for ``row``, in the screen's language."""
    if row is None:
        key = "none"
    elif not row.manual:
        key = "market"
    elif row.packed:
        key = "packed"
    elif row.force_cancelled:
        key = "cancelled"
    else:
        key = "manual"
    return tr(FORCE_CANCEL_WHY[key])


def status_text(row: so.OrderRow) -> str:
    if row.force_cancelled and row.statuses == (LineStatus.CANCELLED,):
        return tr(FORCE_CANCELLED_TEXT)
    return ", ".join(tr(LINE_STATUS_TEXT.get(st, str(st))) for st in row.statuses) or tr(STATE_TEXT["no_lines"])


def courier_name(code: str) -> str:
    """A courier's name in the screen's language; the bare code when it is not in the table."""
    c = couriers.BY_CODE.get(code)
    return one(c.name, c.name_en) if c else code


def courier_text(code: str) -> str:
    """``CJ대한통운 (CJGLS)``, or ``CJ Logistics (CJGLS)`` in English; the bare code when it is not in the table."""
    c = couriers.BY_CODE.get(code)
    return one(couriers.label(code), f"{c.name_en} ({c.code})") if c else code


def source_text(source: str) -> str:
    """Who changed a line, in words: ``manual:김관리`` → 수기 등록 · 김관리 / typed in."""
    kind, _, who = source.partition(":")
    words = SOURCE_TEXT.get(kind)
    if words is None:
        return source
    return f"{tr(words)} · {who}" if who and kind in ("manual", "force_cancel") else tr(words)


def label_sections(data: so.LabelData) -> list[SheetSection]:
    """The waybill as a Code 128 barcode with the recipient, then what goes in the box (each item's barcode
    with its count; an item without a printable barcode by name)."""
    sections = [SheetSection(both("송장", f"Waybill — {courier_text(data.courier_code)}"),
                             [SheetEntry(data.tracking_number,
                                         f"{data.recipient_name} · {data.platform} {data.order_no}")])]
    scannable = [it for it in data.items if it.barcode and all(" " <= ch <= "~" for ch in it.barcode)]
    if scannable:
        sections.append(SheetSection(tr("상품 / Items"), [
            SheetEntry(it.barcode, f"{it.name} {it.option_name}".strip() + f" × {it.quantity}") for it in scannable]))
    for it in data.items:
        if it not in scannable:
            sections.append(SheetSection(f"{it.name} {it.option_name}".strip()
                                         + f" × {it.quantity}" + tr(" — 바코드 없음 / no barcode"), []))
    return sections


def write_label(data: so.LabelData, path: Path) -> list[Path]:
    """Save the label as PDF (print) or PNG; raises ``KnownError("label_save_failed")``. Qt main thread."""
    try:
        return render_sheet(label_sections(data), Path(path),
                            title=both("PackDesk 주문 라벨", f"Order label — {data.order_no}"))
    except (OSError, ValueError) as e:
        raise KnownError("label_save_failed", detail=repr(e), path=str(path)) from e


class _Worked:
    """The pattern both windows (and the slips dialog) share, on ``ui/ops.py``: reads on sessions of their own,
    writes on the station's database thread; a ``KnownError`` comes back as a refusal (rolled back, nothing
    written). Answers that arrive after the window is done are dropped."""

    db: Database
    worker: DbWorker
    _closed: bool

    @property
    def _owner(self) -> QObject:
        return cast(QObject, self)

    @property
    def busy(self) -> bool:
        return ops.pending(self._owner) > 0

    def _finish(self, done: Callable[[Any], None], result: Any) -> None:
        if self._closed:
            return
        done(result)
        self._update_buttons()

    def _refused(self, error: KnownError) -> None:
        if self._closed:
            return
        self._show_refusal(error)
        self._update_buttons()

    def _write(self, job: Job[Any], done: Callable[[Any], None], name: str = "orders-write") -> None:
        ops.write(self._owner, name, self.worker, job, lambda r: self._finish(done, r), self._refused)

    def _read(self, name: str, job: Job[Any], done: Callable[[Any], None]) -> None:
        ops.read(self._owner, name, self.db, job, lambda r: self._finish(done, r), self._refused)

    def _show_refusal(self, error: KnownError) -> None:
        raise NotImplementedError

    def _update_buttons(self) -> None:
        raise NotImplementedError


# ---------------------------------------------------------------------------------------------- the form


class _Line:
    def __init__(self, item: ItemRow, quantity: int) -> None:
        self.item = item
        self.spin = QSpinBox()
        self.spin.setRange(1, so.MAX_QUANTITY)
        self.spin.setGroupSeparatorShown(True)
        self.spin.setValue(quantity)


class ManualOrderForm(_Worked, QDialog):
    """수기 주문 등록 / New manual order: one order, typed (and scanned) in, stored ready to pack."""

    saved = Signal(object)            # so.CreatedOrder
    refused = Signal(str)             # the error code, after it is on screen
    platforms_loaded = Signal(int)
    items_found = Signal(int)
    item_added = Signal(int, int)     # item id, its quantity now
    scan_unknown = Signal(str)        # a scanned code no item has
    label_saved = Signal(str)

    def __init__(self, db: Database, worker: DbWorker, operator: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.db, self.worker, self.operator = db, worker, operator
        self._closed = False
        self._search_gen = 0
        self._searching = False
        self._add_when_found = False
        self.lines: list[_Line] = []
        self.found: list[ItemRow] = []
        self.created: so.CreatedOrder | None = None
        self.setWindowTitle(tr("수기 주문 등록 / New manual order"))
        avail = self.screen().availableGeometry()
        self.resize(min(1100, int(avail.width() * 0.9)), min(860, int(avail.height() * 0.92)))
        self.setStyleSheet(STYLE)
        self._build()
        self._update_buttons()
        self._read("platforms", so.list_platforms, self._platforms_loaded)

    # ------------------------------------------------------------------ layout

    def _build(self) -> None:
        title = QLabel(tr("수기 주문 등록 / New manual order"), objectName="formTitle")
        self.platform_combo = QComboBox(objectName="platformCombo")
        self.platform_combo.setEditable(True)
        self.platform_combo.setEditText(so.DEFAULT_PLATFORM)
        self.order_no_edit = QLineEdit(objectName="orderNo")
        self.recipient_edit = QLineEdit(objectName="recipient")
        self.recipient_edit.setPlaceholderText(both(f"최대 {so.MAX_RECIPIENT}자",
                                                    f"up to {so.MAX_RECIPIENT} characters"))
        self.phone_edit = QLineEdit(objectName="phone")
        self.phone_edit.setPlaceholderText("010-1234-5678")
        self.zip_edit = QLineEdit(objectName="zipCode")
        self.zip_edit.setPlaceholderText("06236")
        self.address_edit = QLineEdit(objectName="address")
        self.message_edit = QLineEdit(objectName="deliveryMessage")
        self.country_edit = QLineEdit(so.DEFAULT_COUNTRY, objectName="country")
        self.country_edit.setToolTip(tr("두 글자 국가 코드 — 지금은 KR만 / two-letter country code — KR only for now"))
        self.courier_combo = QComboBox(objectName="courierCombo")
        for c in couriers.COURIERS:
            self.courier_combo.addItem(courier_text(c.code), c.code)
        self.courier_combo.setCurrentIndex(self.courier_combo.findData(couriers.DEFAULT_COURIER))
        self.tracking_edit = QLineEdit(objectName="trackingNumber")
        self.tracking_edit.setPlaceholderText(tr("비우면 내부 번호(PDM…)를 만듭니다 / empty: an internal PDM… number"))

        form = QFormLayout()
        self.field_widgets: dict[str, QWidget] = {
            "platform": self.platform_combo, "order_no": self.order_no_edit, "recipient_name": self.recipient_edit,
            "phone": self.phone_edit, "zip_code": self.zip_edit, "address": self.address_edit,
            "delivery_message": self.message_edit, "country": self.country_edit}
        required = {"platform", "order_no", "recipient_name", "phone", "zip_code", "address", "country"}
        for key, widget in self.field_widgets.items():
            words = so.FIELDS[key]
            label = QLabel(both(words.ko, words.en) + (" *" if key in required else ""))
            if key in required:
                label.setStyleSheet(f"color: {REQUIRED_FG.name()}; font-weight: bold;")
            form.addRow(label, widget)

        items_box = QGroupBox(both(so.FIELDS["lines"].ko, so.FIELDS["lines"].en) + " *")
        iv = QVBoxLayout(items_box)
        self.item_search = QLineEdit(objectName="itemSearch")
        self.item_search.setPlaceholderText(tr("상품명·SKU·바코드로 검색하거나 바코드를 스캔 / search by name, SKU or "
                                               "barcode — or scan it"))
        self.item_search.textChanged.connect(lambda _: self._search_timer.start())
        self.item_search.returnPressed.connect(self._add_top_found)
        self._search_timer: QTimer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(SEARCH_DELAY_MS)
        self._search_timer.timeout.connect(self.search_items)
        self.found_list = QListWidget(objectName="foundItems")
        self.found_list.setMaximumHeight(130)
        self.found_list.itemDoubleClicked.connect(lambda _: self._add_selected_found())
        self.add_item_button = QPushButton(tr("추가 / Add"), objectName="addItem")
        self.add_item_button.clicked.connect(self._add_selected_found)
        search_row = QHBoxLayout()
        search_row.addWidget(self.item_search, 1)
        search_row.addWidget(self.add_item_button)
        self.line_table = QTableWidget(0, 4, objectName="lineTable")
        self.line_table.setHorizontalHeaderLabels([tr("출고상품 / Item"), "SKU", tr("수량 / Qty"), ""])
        self.line_table.verticalHeader().setVisible(False)
        self.line_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.line_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        lh = self.line_table.horizontalHeader()
        lh.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for col in (1, 2, 3):
            lh.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        iv.addLayout(search_row)
        iv.addWidget(self.found_list)
        iv.addWidget(self.line_table, 1)

        form.addRow(QLabel(both(*so.FIELDS["courier"])), self.courier_combo)
        form.addRow(QLabel(both(*so.FIELDS["tracking_number"])), self.tracking_edit)
        items_box.setMinimumWidth(420)
        self.field_widgets.update({"lines": self.line_table, "courier": self.courier_combo,
                                   "tracking_number": self.tracking_edit})

        self.message = QLabel(tr("* 필수 / required"), objectName="formMessage")
        self.message.setWordWrap(True)
        self.save_button = QPushButton(tr("저장 / Save"), objectName="saveOrder")
        self.save_button.clicked.connect(self.save)
        self.label_button = QPushButton(tr("라벨 저장… / Save label…"), objectName="saveLabel")
        self.label_button.clicked.connect(self._label_clicked)
        self.close_button = QPushButton(tr("닫기 / Close"), objectName="closeForm")
        self.close_button.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addWidget(self.save_button)
        buttons.addWidget(self.label_button)
        buttons.addStretch(1)
        buttons.addWidget(self.close_button)

        left = QWidget()
        lv = QVBoxLayout(left)
        lv.addLayout(form)
        lv.addStretch(1)
        split = QSplitter()
        split.addWidget(left)
        split.addWidget(items_box)
        split.setStretchFactor(0, 1)
        split.setStretchFactor(1, 1)
        lay = QVBoxLayout(self)
        lay.addWidget(title)
        lay.addWidget(split, 1)
        lay.addWidget(self.message)
        lay.addLayout(buttons)
        self.order_no_edit.setFocus()

    # ------------------------------------------------------------------ items

    def _platforms_loaded(self, names: list[str]) -> None:
        typed = self.platform_combo.currentText()
        self.platform_combo.blockSignals(True)
        self.platform_combo.clear()
        self.platform_combo.addItems(names)
        self.platform_combo.setEditText(typed or so.DEFAULT_PLATFORM)
        self.platform_combo.blockSignals(False)
        self.platforms_loaded.emit(len(names))

    def search_items(self) -> None:
        self._search_timer.stop()
        self._search_gen += 1
        gen, text = self._search_gen, self.item_search.text()
        self._searching = True
        self._read("item-search", lambda s: find_items(s, text, limit=30), lambda rows: self._found(gen, rows))

    def _found(self, gen: int, rows: list[ItemRow]) -> None:
        if gen != self._search_gen:
            return  # an answer to an older question
        self._searching = False
        add_first, self._add_when_found = self._add_when_found, False
        self.found = rows
        self.found_list.clear()
        for r in rows:
            barcodes = ", ".join(r.barcodes[:2])
            item = QListWidgetItem(f"{r.label}  ·  {r.sku}" + (f"  ·  {barcodes}" if barcodes else ""))
            item.setData(ID_ROLE, r.id)
            self.found_list.addItem(item)
        if rows:
            self.found_list.setCurrentRow(0)
        self.items_found.emit(len(rows))
        if add_first and rows:
            self.add_item(rows[0])

    def _add_selected_found(self) -> None:
        row = self.found_list.currentRow()
        if 0 <= row < len(self.found):
            self.add_item(self.found[row])

    def _add_top_found(self) -> None:
        """Enter in the search field: the item at the top (once the search of what was typed is back)."""
        if self._search_timer.isActive() or self._searching:
            self._add_when_found = True
            if self._search_timer.isActive():
                self.search_items()
        else:
            self._add_selected_found()

    def add_item(self, item: ItemRow, quantity: int = 1) -> None:
        """Add the item, or one more of it when it is listed already."""
        if self.created is not None:
            return
        for n, line in enumerate(self.lines):
            if line.item.id == item.id:
                line.spin.setValue(min(so.MAX_QUANTITY, line.spin.value() + quantity))
                self.line_table.selectRow(n)
                self.show_message("info", one(f"{item.label} {line.spin.value()}개 / × {line.spin.value()}",
                                              f"{item.label} × {line.spin.value()}"))
                self.item_added.emit(item.id, line.spin.value())
                return
        line = _Line(item, quantity)
        self.lines.append(line)
        n = self.line_table.rowCount()
        self.line_table.insertRow(n)
        self.line_table.setItem(n, 0, QTableWidgetItem(item.label))
        self.line_table.setItem(n, 1, QTableWidgetItem(item.sku))
        self.line_table.setCellWidget(n, 2, line.spin)
        remove = QPushButton(tr("삭제 / Remove"))
        remove.clicked.connect(lambda _=False, ln=line: self.remove_line(ln))
        self.line_table.setCellWidget(n, 3, remove)
        self.line_table.selectRow(n)
        self.show_message("info", both("추가됨", f"Added: {item.label}"))
        self.item_added.emit(item.id, quantity)

    def remove_line(self, line: _Line) -> None:
        if self.created is not None or line not in self.lines:
            return
        n = self.lines.index(line)
        self.lines.pop(n)
        self.line_table.removeRow(n)

    def take_scan(self, code: str) -> None:
        """A scan while this form is active (routed here by ``app.py``): a courier's label into the tracking
        field when it has focus, else the item with that barcode (one more if listed)."""
        if self.created is not None:
            return
        if QApplication.focusWidget() is self.tracking_edit:
            self.tracking_edit.setText(code)
            return
        self._read("item-scan", lambda s: so.item_for_code(s, code), lambda row: self._scanned(code, row))

    def _scanned(self, code: str, row: ItemRow | None) -> None:
        if row is None:
            self.show_message("error", both("이 바코드의 출고상품이 없습니다", f"No item has this barcode: {code}"))
            self.scan_unknown.emit(code)
            return
        self.add_item(row)

    # ------------------------------------------------------------------ saving

    def order(self) -> so.ManualOrder:
        return so.ManualOrder(
            order_no=self.order_no_edit.text(), recipient_name=self.recipient_edit.text(),
            phone=self.phone_edit.text(), zip_code=self.zip_edit.text(), address=self.address_edit.text(),
            delivery_message=self.message_edit.text(),
            lines=tuple(so.ManualLine(ln.item.id, ln.spin.value(), ln.item.label) for ln in self.lines),
            platform=self.platform_combo.currentText(), country=self.country_edit.text(),
            courier_code=self.courier_combo.currentData() or "", tracking_number=self.tracking_edit.text())

    def save(self) -> None:
        if self.busy or self.created is not None:
            return
        for w in self.field_widgets.values():
            w.setStyleSheet("")
        o, who = self.order(), self.operator
        self.show_message("info", tr("저장 중… / Saving…"))
        check_digit = getattr(self.parent(), "check_digit", None)  # the orders window's, from the settings
        self._write(lambda s: so.create_manual_order(s, o, who, check_digit=check_digit), self._saved)
        self._update_buttons()

    def _saved(self, created: so.CreatedOrder) -> None:
        self.created = created
        for w in (*self.field_widgets.values(), self.item_search, self.found_list, self.add_item_button):
            w.setEnabled(False)
        internal = (tr(" (내부 번호 — 라벨을 저장해 붙이세요 / internal — save and stick its label)")
                    if created.internal else "")
        self.show_message("success", one(f"저장됨 — 포장할 수 있습니다 / Saved — ready to pack: {created.order_no}, "
                                         f"송장 / waybill {created.tracking_number}{internal}",
                                         f"Saved — ready to pack: {created.order_no}, "
                                         f"waybill {created.tracking_number}{internal}"))
        self.saved.emit(created)

    def _show_refusal(self, error: KnownError) -> None:
        self._searching = self._add_when_found = False
        ko, en = error_text(error)
        self.show_message("error", two_lines(ko, en))
        key = getattr(error, "field_key", "")
        widget = self.field_widgets.get(key)
        if widget is not None:
            widget.setStyleSheet(BAD_FIELD)
            widget.setFocus()
        line = getattr(error, "line", -1)
        if key == "lines" and 0 <= line < self.line_table.rowCount():
            self.line_table.selectRow(line)
        log.info("order form refused: %s %s (%s)", error.code, error.params, error.detail)
        self.refused.emit(error.code)

    def show_message(self, level: str, text: str) -> None:
        show_level(self.message, level, text)

    def _update_buttons(self) -> None:
        self.save_button.setEnabled(not self.busy and self.created is None)
        self.label_button.setEnabled(self.created is not None)

    # ------------------------------------------------------------------ label

    def label(self) -> so.LabelData:
        assert self.created is not None
        c = self.created
        items = tuple(so.LabelItem(ln.item.name, ln.item.option_name, ln.spin.value(),
                                   ln.item.barcodes[0] if ln.item.barcodes else "") for ln in self.lines)
        return so.LabelData(c.order_no, c.platform, self.recipient_edit.text().strip(), c.courier_code,
                            c.tracking_number, items)

    def _label_clicked(self) -> None:
        if self.created is None:
            return
        chosen = files.save_file(self, "label", tr("라벨 저장 / Save label"),
                                 f"{safe_file_part(self.created.tracking_number)}.pdf", "PDF (*.pdf);;PNG (*.png)")
        if chosen:
            self.save_label(chosen)

    def save_label(self, path: Path) -> list[Path]:
        try:
            written = write_label(self.label(), path)
        except KnownError as e:
            self._show_refusal(e)
            return []
        self.show_message("success", both("라벨 저장됨", f"Label saved: {', '.join(map(str, written))}"))
        self.label_saved.emit(str(written[0]))
        return written

    def done(self, result: int) -> None:
        self._closed = True
        self._search_timer.stop()
        super().done(result)


# ---------------------------------------------------------------------------------------------- the window


class OrdersWindow(_Worked, QMainWindow):
    """주문 / Orders."""

    searched = Signal(int)            # rows shown
    detail_loaded = Signal(object)    # so.OrderDetail
    force_cancelled = Signal(int)     # order id
    deleted = Signal(int)             # order id
    refused = Signal(str)             # the error code, after it is on screen
    label_saved = Signal(str)
    form_opened = Signal(object)      # ManualOrderForm
    tracking_attached = Signal(str)   # the tracking number, once bound to the order's parcel
    slips_opened = Signal(object)     # ui/slips_view.SlipDialog
    returns_opened = Signal(object)   # ui/returns_view.ExpectedReturnsDialog

    def __init__(self, db: Database, worker: DbWorker, operator: str = "", parent: QWidget | None = None, *,
                 courier: str = couriers.DEFAULT_COURIER, check_digit: dict[str, str] | None = None) -> None:
        super().__init__(parent)
        self.db, self.worker, self.operator = db, worker, operator
        self.default_courier, self.check_digit = courier, dict(check_digit or {})
        self._closed = False
        self._search_gen = 0
        self._detail_gen = 0
        self.rows: list[so.OrderRow] = []
        self.detail: so.OrderDetail | None = None
        self.form: ManualOrderForm | None = None
        self._select_after: int | None = None
        self.setWindowTitle(tr("주문 / Orders"))
        avail = self.screen().availableGeometry()
        self.resize(min(1400, int(avail.width() * 0.95)), min(860, int(avail.height() * 0.92)))
        self.setStyleSheet(STYLE)
        self._build()
        self._update_buttons()

    def _build(self) -> None:
        title = QLabel(tr("주문 / Orders"), objectName="ordersTitle")
        self.search_edit = QLineEdit(objectName="orderSearch")
        self.search_edit.setPlaceholderText(tr("주문번호·수취인·송장번호 (스캔해도 됩니다) / order no., recipient or "
                                               "waybill (or scan it)"))
        self.search_edit.returnPressed.connect(lambda: self.search())
        self.search_button = QPushButton(tr("검색 / Search"), objectName="searchOrders")
        self.search_button.clicked.connect(lambda: self.search())
        self.new_button = QPushButton(tr("수기 주문 등록… / New manual order…"), objectName="newOrder")
        self.new_button.clicked.connect(self.new_order)
        self.slips_button = QPushButton(tr("포장 지시서… / Packing slips…"), objectName="packingSlips")
        self.slips_button.setToolTip(tr("선택한 주문의 택배, 또는 하루치 — 바코드로 포장을 시작하고 "
                                        "끝에 송장 라벨을 스캔 / the selected order's parcel, or a day's batch — its "
                                        "barcode opens the pack, the courier label is scanned last"))
        self.slips_button.clicked.connect(self.open_slips)
        self.returns_button = QPushButton(tr("반품 예정… / Expected returns…"), objectName="expectedReturns")
        self.returns_button.clicked.connect(self.open_returns)
        top = QHBoxLayout()
        top.addWidget(self.search_edit, 1)
        top.addWidget(self.search_button)
        top.addSpacing(16)
        top.addWidget(self.new_button)
        top.addWidget(self.slips_button)
        top.addWidget(self.returns_button)

        self.table = QTableWidget(0, len(ORDER_COLUMNS), objectName="orderTable")
        self.table.setHorizontalHeaderLabels([tr(c) for c in ORDER_COLUMNS])
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().setVisible(False)
        th = self.table.horizontalHeader()
        th.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        # not stretched: a stretched last column takes what room is left, and the waybill in it was cut short
        th.setStretchLastSection(False)
        self.table.setTextElideMode(Qt.TextElideMode.ElideNone)
        self.table.itemSelectionChanged.connect(self._selection_changed)

        self.info = QLabel("", objectName="orderInfo")
        self.info.setWordWrap(True)
        self.info.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.history = QTableWidget(0, len(HISTORY_COLUMNS), objectName="historyTable")
        self.history.setHorizontalHeaderLabels([tr(c) for c in HISTORY_COLUMNS])
        self.history.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.history.verticalHeader().setVisible(False)
        hh = self.history.horizontalHeader()
        hh.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        hh.setStretchLastSection(True)
        self.cancel_button = QPushButton(tr("강제 취소 / Force-cancel"), objectName="forceCancel")
        self.cancel_button.setToolTip(tr(FORCE_CANCEL_WHY["manual"]))
        self.cancel_button.clicked.connect(self.force_cancel_selected)
        self.delete_button = QPushButton(tr("삭제 / Delete"), objectName="deleteOrder")
        self.delete_button.setToolTip(tr("포장을 시작하지 않은 주문만 / only orders no station started packing"))
        self.delete_button.clicked.connect(self.delete_selected)
        self.label_button = QPushButton(tr("라벨 저장… / Save label…"), objectName="orderLabel")
        self.label_button.clicked.connect(self._label_clicked)
        self.claim_bundle_button = QPushButton(tr(CLAIM_BUNDLE_TEXT), objectName="claimBundle")
        self.claim_bundle_button.clicked.connect(self.export_claim_bundle)
        actions = QHBoxLayout()
        for b in (self.cancel_button, self.delete_button, self.label_button, self.claim_bundle_button):
            actions.addWidget(b)
        actions.addStretch(1)
        # a tracking number typed or scanned for an order that waits for one (a label printed at the courier's
        # site, a reprint): checked and bound to its whole parcel as a courier sheet's would be
        self.courier_combo = QComboBox(objectName="attachCourier")
        for c in couriers.COURIERS:
            self.courier_combo.addItem(courier_text(c.code), c.code)
        self.courier_combo.setCurrentIndex(max(0, self.courier_combo.findData(self.default_courier)))
        self.tracking_edit = QLineEdit(objectName="attachTracking")
        self.tracking_edit.setPlaceholderText(tr("송장번호 (입력 또는 스캔) / tracking number (type or scan)"))
        self.tracking_edit.returnPressed.connect(self.attach_tracking)
        self.attach_button = QPushButton(tr("송장 연결 / Attach"), objectName="attachButton")
        self.attach_button.clicked.connect(self.attach_tracking)
        attach = QHBoxLayout()
        attach.addWidget(QLabel(tr("송장번호 / Tracking no.")))
        attach.addWidget(self.courier_combo)
        attach.addWidget(self.tracking_edit, 1)
        attach.addWidget(self.attach_button)

        detail = QGroupBox(tr("선택한 주문 / Selected order"))
        dv = QVBoxLayout(detail)
        dv.addWidget(self.info)
        dv.addLayout(actions)
        dv.addLayout(attach)
        dv.addWidget(QLabel(tr("상품별 처리 이력 / Line history")))
        dv.addWidget(self.history, 1)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.table)
        split.addWidget(detail)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)

        self.message = QLabel("", objectName="ordersMessage")
        self.message.setWordWrap(True)
        central = QWidget()
        lay = QVBoxLayout(central)
        lay.addWidget(title)
        lay.addLayout(top)
        lay.addWidget(split, 1)
        lay.addWidget(self.message)
        self.setCentralWidget(central)
        self.show_message("info", "")

    # ------------------------------------------------------------------ list

    def take_scan(self, code: str) -> None:
        """A scan while this window is active (routed here by ``app.py``): into the tracking-number field while it
        has the focus (a courier label scanned for the selected order: attached, as Enter would), else a search."""
        if self.tracking_edit.hasFocus() and self.tracking_edit.isEnabled():
            self.tracking_edit.setText(code)
            self.attach_tracking()
            return
        self.search_edit.setText(code)
        self.search()

    def refresh(self) -> None:
        self.search()

    def search(self, quiet: bool = False) -> None:
        """Search what the box says; ``quiet``: after an act, whose message stays on screen."""
        self._search_gen += 1
        gen, text = self._search_gen, self.search_edit.text()
        self._read("order-search", lambda s: so.search_orders(s, text),
                   lambda rows: self._searched(gen, rows, quiet))

    def _searched(self, gen: int, rows: list[so.OrderRow], quiet: bool = False) -> None:
        if gen != self._search_gen:
            return
        keep = self._select_after if self._select_after is not None else self.selected_id()
        self._select_after = None
        self.rows = rows
        self.table.blockSignals(True)
        self.table.clearSelection()
        self.table.setRowCount(len(rows))
        for r, row in enumerate(rows):
            waybills = ", ".join(f"{courier_name(c)} {t}" for c, t in row.waybills)
            typed = tr(" (수기 / typed)") if row.manual and "수기" not in row.platform else ""  # i18n: data
            cells = (kst_text(row.created_at, MINUTE), row.platform + typed, row.order_no,
                     row.recipient_name,
                     both(f"{row.lines}종 {row.units:,}개",
                          f"{plural(row.lines, 'line')}, {plural(row.units, 'unit')}"),
                     status_text(row), waybills)
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setData(ID_ROLE, row.id)
                if c == 5 and (row.force_cancelled or LineStatus.CANCELLED in row.statuses):
                    item.setForeground(REQUIRED_FG)
                self.table.setItem(r, c, item)
        self.table.blockSignals(False)
        if not quiet:
            self.show_message("info", both(f"주문 {len(rows)}건", plural(len(rows), "order")) if rows
                              else tr("찾는 주문이 없습니다 / No order found"))
        if keep is not None and any(r.id == keep for r in rows):
            self.select_order(keep)
        elif len(rows) == 1:
            self.select_order(rows[0].id)
        else:
            self._selection_changed()
        self.searched.emit(len(rows))

    def selected_id(self) -> int | None:
        items = self.table.selectedItems()
        return items[0].data(ID_ROLE) if items else None

    def selected_row(self) -> so.OrderRow | None:
        oid = self.selected_id()
        return next((r for r in self.rows if r.id == oid), None)

    def select_order(self, order_id: int) -> None:
        for r, row in enumerate(self.rows):
            if row.id == order_id:
                self.table.selectRow(r)
                self.table.scrollToItem(item_at(self.table, r, 0))
                return

    def _selection_changed(self) -> None:
        oid = self.selected_id()
        self._detail_gen += 1
        gen = self._detail_gen
        if oid is None:
            self._show_detail(gen, None)
            return
        self._read("order-detail", lambda s: so.order_detail(s, oid), lambda d: self._show_detail(gen, d))

    def _show_detail(self, gen: int, detail: so.OrderDetail | None) -> None:
        if gen != self._detail_gen:
            return
        self.detail = detail
        self.history.setRowCount(0)
        if detail is None:
            self.info.setText(tr("주문을 고르세요 / Pick an order"))
        else:
            r = detail.row
            self.info.setText(
                f"{r.platform} · {r.order_no} · {r.recipient_name} · {detail.phone}\n"
                f"[{detail.zip_code}] {detail.address}" + (f" · {detail.delivery_message}" if detail.delivery_message
                                                           else "")
                + f"\n{status_text(r)}" + (tr(" · 포장 시작됨 / packing started") if r.packing_started else "")
                + (f"\n{both('송장', 'Tracking')}: " + ", ".join(f"{courier_name(c)} {t}" for c, t in r.waybills)
                   if r.waybills else "")
                + (f"\n{both('송장 대기 중인 택배', 'Parcel waiting for its waybill')}: {detail.parcel_key}"
                   + (f" · {courier_name(detail.parcel_courier)}" if detail.parcel_courier else "")
                   if detail.needs_waybill else ""))
            if detail.needs_waybill:  # the number to attach is the named courier's (else the station's default)
                self.courier_combo.setCurrentIndex(max(0, self.courier_combo.findData(
                    detail.parcel_courier or self.default_courier)))
            self.history.setRowCount(len(detail.history))
            for n, h in enumerate(reversed(detail.history)):  # newest first
                claim = tr(FORCE_CANCELLED_TEXT) if h.claim_status == FORCE_CANCELLED else h.claim_status
                cells = (kst_text(h.changed_at, MINUTE), f"{h.product_name} {h.option_name}".strip(),
                         tr(LINE_STATUS_TEXT.get(h.status, str(h.status))), claim, source_text(h.source))
                for c, text in enumerate(cells):
                    self.history.setItem(n, c, QTableWidgetItem(text))
        self._update_buttons()
        self.detail_loaded.emit(detail)

    def _update_buttons(self) -> None:
        row = self.detail.row if self.detail is not None else None
        self.cancel_button.setEnabled(row is not None and row.can_force_cancel and not self.busy)
        self.cancel_button.setToolTip(force_cancel_why(row))
        self.delete_button.setEnabled(row is not None and row.can_delete and not self.busy)
        self.label_button.setEnabled(row is not None and bool(row.waybills) and not row.force_cancelled)
        self.claim_bundle_button.setEnabled(row is not None and row.packing_started)
        can_attach = self.detail is not None and self.detail.needs_waybill and not self.busy
        for w in (self.courier_combo, self.tracking_edit, self.attach_button):
            w.setEnabled(can_attach)

    def show_message(self, level: str, text: str) -> None:
        show_level(self.message, level, text)

    def _show_refusal(self, error: KnownError) -> None:
        ko, en = error_text(error)
        self.show_message("error", two_lines(ko, en))
        log.info("orders screen refused: %s %s (%s)", error.code, error.params, error.detail)
        self.refused.emit(error.code)

    # ------------------------------------------------------------------ acts

    def new_order(self) -> ManualOrderForm:
        if self.form is not None:
            self.form.raise_()
            self.form.activateWindow()
            return self.form
        form = ManualOrderForm(self.db, self.worker, self.operator, self)
        form.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        form.saved.connect(self._order_saved)
        form.finished.connect(lambda _: setattr(self, "form", None))
        self.form = form
        form.open()
        self.form_opened.emit(form)
        return form

    def open_slips(self) -> QDialog:
        """Packing slips of the selected order's parcel (or a day's batch)."""
        from packdesk.ui.slips_view import SlipDialog  # it builds on this module's _Worked

        row = self.selected_row()
        dialog = SlipDialog(self.db, [row.id] if row else [], row.order_no if row else "", self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        self.slips_opened.emit(dialog)
        return dialog

    def open_returns(self) -> QDialog:
        """The returns and exchanges collected from the marketplaces (read-only)."""
        from packdesk.ui.returns_view import ExpectedReturnsDialog

        dialog = ExpectedReturnsDialog(self.db, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        self.returns_opened.emit(dialog)
        return dialog

    def _order_saved(self, created: so.CreatedOrder) -> None:
        self.show_message("success", both("주문 등록됨",
                                          f"Order saved: {created.order_no} ({created.tracking_number})"))
        self._select_after = created.order_id
        self.search_edit.setText(created.order_no)
        self.search(quiet=True)

    def _confirm(self, title: str, text: str) -> bool:
        return QMessageBox.question(self, title, text) == QMessageBox.StandardButton.Yes

    def force_cancel_selected(self) -> None:
        row = self.selected_row()
        if row is None or not row.can_force_cancel:
            return
        if not self._confirm(tr("강제 취소 / Force-cancel"), two_lines(
                f"주문 {row.order_no}({row.recipient_name})을(를) 강제 취소합니다. "
                "되돌릴 수 없습니다: 모든 상품이 취소되고 스테이션은 이 송장을 거부합니다.",
                f"Force-cancel order {row.order_no} ({row.recipient_name})? This cannot be undone: every line is "
                "cancelled and the station refuses its waybill.")):
            return
        oid, who = row.id, self.operator

        def done(n: int) -> None:
            self.show_message("success", both("강제 취소됨", f"Force-cancelled: {row.order_no} ({n})"))
            self.force_cancelled.emit(oid)
            self.search(quiet=True)

        self._write(lambda s: so.force_cancel(s, oid, who), done)
        self._update_buttons()

    def delete_selected(self) -> None:
        row = self.selected_row()
        if row is None or not row.can_delete:
            return
        text = two_lines(f"주문 {row.order_no}({row.recipient_name})을(를) 상품과 이력까지 삭제합니다. "
                         "송장번호는 다시 쓰이지 않습니다.",
                         f"Delete order {row.order_no} ({row.recipient_name}) with its lines and history? Its "
                         "waybill number is not used again.")
        if not row.manual:
            text += "\n\n" + two_lines(
                "수집된 주문입니다: 마켓에 아직 있으면 다음 주문 수집 때 다시 들어옵니다.",
                "This order was collected: the next collection brings it back while the marketplace still has it.")
        if not self._confirm(tr("주문 삭제 / Delete order"), text):
            return
        oid, who = row.id, self.operator

        def done(deleted: so.OrderRow) -> None:
            self.show_message("success", both("삭제됨", f"Deleted: {deleted.order_no}"))
            self.deleted.emit(oid)
            self.search(quiet=True)

        self._write(lambda s: so.delete_order(s, oid, who), done)
        self._update_buttons()

    def attach_tracking(self) -> None:
        """Bind the typed or scanned number to the selected order's parcel (``services/orders.attach_tracking``)."""
        detail = self.detail
        if detail is None or not detail.needs_waybill or self.busy:
            return
        oid, who, number = detail.row.id, self.operator, self.tracking_edit.text()
        courier, check_digit = str(self.courier_combo.currentData()), dict(self.check_digit)

        def done(bound: Any) -> None:
            self.tracking_edit.clear()
            warn = bound.warning and both("검증 숫자가 맞지 않지만 설정에 따라 받았습니다",
                                          "check digit wrong, accepted as the settings say")
            self.show_message("warning" if warn else "success",
                              both("송장 연결됨", f"Tracking number attached: {courier_name(bound.courier_code)} "
                                                  f"{bound.tracking_number} → {bound.parcel_key}")
                              + (f"\n{warn}" if warn else ""))
            self.tracking_attached.emit(bound.tracking_number)
            self._select_after = oid
            self.search(quiet=True)

        self._write(lambda s: so.attach_tracking(s, oid, courier, number, who, check_digit), done)
        self._update_buttons()

    def _label_clicked(self) -> None:
        row = self.selected_row()
        if row is None or not row.waybills:
            return
        chosen = files.save_file(self, "label", tr("라벨 저장 / Save label"),
                                 f"{safe_file_part(row.waybills[0][1])}.pdf", "PDF (*.pdf);;PNG (*.png)")
        if chosen:
            self.save_label(row.id, chosen)

    def save_label(self, order_id: int, path: Path) -> None:
        """The order's label from the plan the station packs by; written on this (the Qt) thread."""
        def write(data: so.LabelData) -> None:
            try:
                written = write_label(data, path)
            except KnownError as e:
                self._show_refusal(e)
                return
            self.show_message("success", both("라벨 저장됨", f"Label saved: {', '.join(map(str, written))}"))
            self.label_saved.emit(str(written[0]))

        self._read("order-label", lambda s: so.label_data(s, order_id), write)

    def export_claim_bundle(self) -> ClaimBundleDialog | None:
        """Everything for a claim on the selected order, in one folder or zip (issue #21)."""
        row = self.selected_row()
        if row is None:
            return None
        oid = row.id
        return open_claim_bundle(self, self.db, lambda s: claim_bundle.order_subject(s, oid))

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.form is not None:
            self.form.reject()
        super().closeEvent(event)
