"""The product-link screen (상품 연결): a supervisor links each marketplace product to the shipping items
(출고상품) that go in the box, so the station can pack it. Three columns say it in one line each: the
marketplace's product (name, option, codes, status), the sales product as its links know it (code, new,
deleted), and the items linked with their quantities. Unlinked products are listed first and marked red.

Items can be made straight from sales products (one per selected product or option, in one step, named by
a rule, with barcodes typed or scanned into the dialog) and are linked in the same transaction. An existing
item is found by typing or by scanning its barcode: while this screen (or its item dialog) is the active
window, the app's key filter hands scans to its ``take_scan`` instead of the station (``app.py``).

All rules live in ``services/mapping.py``; this screen only shows and asks. Reads (the list, the item
search, a barcode's owner) run on threads of their own, each with its own short session, never on the
station's database thread, which resolves scans; writes (links, new items, imports) go to that one writer
thread, in order with everything else written there. Excel files are read and written on threads of their
own. Results come back as queued calls, and an answer older than the latest question is dropped.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QItemSelection,
    QItemSelectionModel,
    QModelIndex,
    QPersistentModelIndex,
    QRect,
    QSize,
    QSortFilterProxyModel,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetrics, QPainter, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDialog,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QSplitter,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from packdesk.core.db import Database
from packdesk.core.errors import KnownError
from packdesk.core.kst import KST
from packdesk.services import mapping as mp
from packdesk.services.dbworker import DbWorker, Job
from packdesk.services.pictures import PictureCache, set_item_photo
from packdesk.ui import files, ops
from packdesk.ui.bridge import MainThreadPoster
from packdesk.ui.i18n import both, language, one, pair, plural, tr
from packdesk.ui.levels import LEVEL_STYLE, show_level
from packdesk.ui.messages import error_text

log = logging.getLogger("packdesk.ui.mapping")

ID_ROLE = Qt.ItemDataRole.UserRole
SORT_ROLE = Qt.ItemDataRole.UserRole + 1
SECOND_LINE_COLOR_ROLE = Qt.ItemDataRole.UserRole + 2
UNLINKED_BG = QColor("#ffebee")
UNLINKED_FG = QColor("#b71c1c")
NEW_BG = QColor("#fff8e1")
NEW_FG = QColor("#e65100")
DELETED_FG = QColor("#78909c")
SUBTLE_FG = QColor("#455a64")

STYLE = """
QWidget { font-size: 16px; }
QLabel#mappingTitle { font-size: 24px; font-weight: bold; }
QLabel#detailTitle { font-size: 22px; font-weight: bold; }
QLabel#detailMarket, QLabel#detailSub { color: #37474f; }
QLabel#detailState { font-size: 17px; }
QLabel#dirtyLabel { color: #e65100; font-weight: bold; }
QLabel#dialogTitle { font-size: 22px; font-weight: bold; }
QLabel#createProblems { color: #b71c1c; font-weight: bold; }
QTableView#productTable { font-size: 17px; }
QGroupBox { font-weight: bold; margin-top: 12px; }
QGroupBox::title { subcontrol-origin: margin; left: 8px; padding: 0 4px; }
QHeaderView::section { font-weight: bold; padding: 6px; }
QPushButton { padding: 7px 16px; }
QPushButton#saveLink, QPushButton#createAndLink { background: #1565c0; color: white; font-weight: bold; }
QPushButton#saveLink:disabled, QPushButton#createAndLink:disabled { background: #90a4ae; }
QLineEdit, QComboBox, QSpinBox { min-height: 32px; }
"""


STATES = (("전체 / All", mp.LinkState.ALL), ("미연결 / Not linked", mp.LinkState.UNLINKED),
          ("연결됨 / Linked", mp.LinkState.LINKED))

NAME_RULES = ((mp.NameRule.PRODUCT_AND_OPTION, "상품명 + 옵션명 / Product name + option name"),
              (mp.NameRule.OPTION_ONLY, "옵션명만 / Option name only"),
              (mp.NameRule.TYPED, "직접 입력 / Typed by hand"))


def _state_text(row: mp.SalesProductRow, with_new: bool = True) -> str:
    text = tr("연결됨 / Linked") if row.linked else tr("미연결 / Not linked")
    if row.is_new and with_new:
        text += " · " + tr("신규 / New")
    if row.deleted:
        text += " · " + tr("마켓에서 삭제됨 / Deleted on the marketplace")
    return text


def _status_text(row: mp.SalesProductRow) -> str:
    ko, en = mp.status_text(row.status)
    return ko if ko == en else both(ko, en)


def _market_codes(row: mp.SalesProductRow) -> str:
    parts = [both("상품", f"Product {row.product_code}")]
    if row.option_code:
        parts.append(both("옵션", f"Option {row.option_code}"))
    if row.seller_code:
        parts.append(both("판매자코드", f"Seller code {row.seller_code}"))
    return " · ".join(parts)


def _components_text(components: tuple[mp.Component, ...]) -> str:
    return ", ".join(f"{c.sku} ×{c.quantity}" for c in components)


class ProductTableModel(QAbstractTableModel):
    """One row per sales product, in the three columns of the issue; each cell is two lines (the
    ``TwoLineDelegate`` draws the first bold and the second smaller)."""

    HEADERS = ("마켓 상품 / Marketplace product", "판매상품 / Sales product",
               "출고상품 × 수량 / Shipping items × qty")
    MARKET, SALES, ITEMS = 0, 1, 2

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[mp.SalesProductRow] = []
        self.several_accounts = False

    def set_rows(self, rows: list[mp.SalesProductRow]) -> None:
        self.beginResetModel()
        self.rows = rows
        self.endResetModel()

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.HEADERS)

    def cell(self, r: mp.SalesProductRow, col: int) -> tuple[str, str]:
        """(first line, second line) of a cell."""
        if col == self.MARKET:
            name = r.product_name or tr("(이름 없음 / no name)")
            return (f"{name} · {r.option_name}" if r.option_name else name,
                    f"{_status_text(r)} · {_market_codes(r)}")  # the status first: a narrow column cuts codes
        if col == self.SALES:
            marks = [m for m, on in ((tr("신규 / New"), r.is_new), (tr("삭제됨 / Deleted"), r.deleted)) if on]
            if self.several_accounts or not marks:
                marks.append(r.account_name)
            return r.code, " · ".join(marks)
        if not r.linked:
            return tr("미연결 / Not linked"), tr("출고상품을 연결하거나 만드세요 / Link or create an item")
        return (_components_text(r.components),
                ", ".join(f"{c.label} ×{c.quantity}" for c in r.components))

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        r, col = self.rows[index.row()], index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return "\n".join(self.cell(r, col))
        if role == ID_ROLE:
            return r.id
        if role == SORT_ROLE:
            if col == self.ITEMS:  # not linked first, then by the items
                return f"{int(r.linked)}{_components_text(r.components).lower()}"
            if col == self.SALES:
                return f"{r.product_code}\x00{r.option_code}".lower()
            return f"{r.product_name}\x00{r.option_name}".lower()
        if role == Qt.ItemDataRole.BackgroundRole:
            if not r.linked:
                return QBrush(UNLINKED_BG)
            return QBrush(NEW_BG) if r.is_new else None
        if role == Qt.ItemDataRole.ForegroundRole:
            if r.deleted:
                return QBrush(DELETED_FG)
            if col == self.ITEMS and not r.linked:
                return QBrush(UNLINKED_FG)
            return None
        if role == SECOND_LINE_COLOR_ROLE:
            if col == self.ITEMS and not r.linked:
                return UNLINKED_FG
            if col == self.SALES and (r.is_new or r.deleted):
                return DELETED_FG if r.deleted else NEW_FG
            if col == self.MARKET and r.status.upper() not in ("", "SALE"):
                return NEW_FG
            return SUBTLE_FG
        if role == Qt.ItemDataRole.ToolTipRole:
            lines = [f"{c.sku}  {c.label}  ×{c.quantity}" for c in r.components] or [_state_text(r)]
            return "\n".join([f"{r.account_name} · {r.code}", *lines])
        return None

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return tr(self.HEADERS[section])
        return None


class TwoLineDelegate(QStyledItemDelegate):
    """A cell's first line bold, its second smaller and coloured by ``SECOND_LINE_COLOR_ROLE``: the
    product's name and its codes read at a glance, from a distance."""

    def paint(self, painter: QPainter, option: QStyleOptionViewItem,
              index: QModelIndex | QPersistentModelIndex) -> None:
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        # the model's text, not opt.text: the delegate has turned its newline into a line separator there
        first, _, second = str(index.data(Qt.ItemDataRole.DisplayRole) or "").partition("\n")
        opt.text = ""
        widget = opt.widget
        style = widget.style() if widget is not None else QApplication.style()
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, widget)  # background, selection
        rect = opt.rect.adjusted(8, 4, -8, -4)
        selected = bool(opt.state & QStyle.StateFlag.State_Selected)
        active = bool(opt.state & QStyle.StateFlag.State_Active)
        group = QPalette.ColorGroup.Active if active else QPalette.ColorGroup.Inactive
        highlighted = opt.palette.color(group, QPalette.ColorRole.HighlightedText)
        fg = index.data(Qt.ItemDataRole.ForegroundRole)
        main_color = highlighted if selected else (fg.color() if isinstance(fg, QBrush)
                                                   else opt.palette.color(group, QPalette.ColorRole.Text))
        second_color = index.data(SECOND_LINE_COLOR_ROLE)
        painter.save()
        bold, small = _line_fonts(opt.font)
        half = rect.height() // 2
        flags = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter | Qt.TextFlag.TextDontClip
        painter.setFont(bold)
        painter.setPen(main_color)
        painter.drawText(QRect(rect.left(), rect.top(), rect.width(), half), flags,
                         QFontMetrics(bold).elidedText(first, Qt.TextElideMode.ElideRight, rect.width()))
        painter.setFont(small)
        painter.setPen(highlighted if selected else (second_color if isinstance(second_color, QColor) else main_color))
        painter.drawText(QRect(rect.left(), rect.top() + half, rect.width(), rect.height() - half), flags,
                         QFontMetrics(small).elidedText(second, Qt.TextElideMode.ElideRight, rect.width()))
        painter.restore()

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> QSize:
        return QSize(200, row_height(option.font))


def _pixel_size(font: QFont) -> int:
    return font.pixelSize() if font.pixelSize() > 0 else round(font.pointSizeF() * 4 / 3)


def _line_fonts(font: QFont) -> tuple[QFont, QFont]:
    bold = QFont(font)
    bold.setBold(True)
    small = QFont(font)
    small.setPixelSize(max(12, _pixel_size(font) - 2))
    return bold, small


def row_height(font: QFont) -> int:
    """Two lines (bold, then 2 px smaller) and their padding, measured on Hangul: the Korean font that
    draws it is taller than the Latin one."""
    bold, small = _line_fonts(font)
    sample = "한글 상품명 Ag"  # i18n: data (a measuring sample: shop names are Korean in either language)
    return QFontMetrics(bold).boundingRect(sample).height() + QFontMetrics(small).boundingRect(sample).height() + 16


@dataclass
class DraftComponent:
    item_id: int
    sku: str
    label: str
    quantity: int


def refusal_text(error: KnownError) -> tuple[str, str]:
    if isinstance(error, mp.MappingError):
        return error.ko, error.en
    return error_text(error)


class ImportPreviewDialog(QDialog):
    """What an import would do: how many rows are good, which rows are not and why; apply or cancel, and
    save the rows that will not be imported as a failure file to fix and import again."""

    failure_file_requested = Signal()

    def __init__(self, preview: mp.ImportPreview, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.preview = preview
        self.setWindowTitle(tr("엑셀 가져오기 미리보기 / Import preview"))
        self.resize(1000, 620)
        p = preview
        changed_rows = sum(len(c.components) for c in p.changes)
        lines = [
            f"<b>{p.file_name}</b>",
            both(f"읽은 행 {p.rows_read}개", f"{p.rows_read} rows read"),
            both(f"가져올 수 있는 행 {len(p.valid)}개", f"{len(p.valid)} valid rows"),
            both(f"바뀌는 상품 {len(p.changes)}개 ({changed_rows}행) · 이미 같은 상품 {p.unchanged}개",
                 f"{len(p.changes)} products change ({changed_rows} rows) · {p.unchanged} already the same"),
        ]
        if p.skipped_unlinked:
            lines.append(both(f"SKU와 수량이 빈 행 {p.skipped_unlinked}개는 건너뜁니다",
                              f"{p.skipped_unlinked} rows without SKU and quantity are skipped"))
        self.summary = QLabel("<br>".join(lines), objectName="importSummary")
        self.summary.setTextFormat(Qt.TextFormat.RichText)
        self.summary.setWordWrap(True)
        n_err = len(p.error_rows)
        self.error_title = QLabel(
            both(f"오류가 있는 행 {n_err}개 — 이 행들은 가져오지 않습니다", f"{n_err} rows with errors — not imported")
            if n_err else tr("오류 없음 / No errors"), objectName="importErrorTitle")
        self.error_title.setStyleSheet(LEVEL_STYLE["error" if n_err else "success"])
        # the reason in Korean and in English, each a column of its own; in English, the English one only
        reason_columns = 2 if language() == "ko" else 1
        self.errors = QTableWidget(len(p.errors), 1 + reason_columns)
        self.errors.setHorizontalHeaderLabels([tr("행 / Row"), *pair("사유", "Reason")][:1 + reason_columns])
        self.errors.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.errors.verticalHeader().setVisible(False)
        for i, e in enumerate(p.errors):
            for col, text in enumerate((str(e.row), *(e.ko, e.en)[2 - reason_columns:])):
                self.errors.setItem(i, col, QTableWidgetItem(text))
        head = self.errors.horizontalHeader()
        head.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        for col in range(1, 1 + reason_columns):
            head.setSectionResizeMode(col, QHeaderView.ResizeMode.Stretch)
        self.errors.setVisible(bool(p.errors))
        self.failure_hint = QLabel(tr(
            "실패 파일: 가져오지 않는 행을 그대로, 마지막 열에 사유를 붙여 저장합니다. 엑셀에서 고친 뒤 그 파일을 "
            "가져오세요. / Failure file: the rows not imported as they are, with the reason in a last column. Fix "
            "them in Excel and import that file."), objectName="failureHint")
        self.failure_hint.setWordWrap(True)
        self.failure_hint.setVisible(bool(p.errors))
        self.failure_button = QPushButton(tr("실패 파일 저장 / Save failure file"), objectName="saveFailureFile")
        self.failure_button.setEnabled(bool(p.errors) and p.source is not None)
        self.failure_button.setVisible(bool(p.errors))
        self.failure_button.clicked.connect(self.failure_file_requested.emit)
        self.apply_button = QPushButton(both(f"가져오기 적용 ({len(p.changes)}개 상품)",
                                             f"Apply ({len(p.changes)} products)"), objectName="applyImport")
        self.apply_button.setEnabled(bool(p.changes))
        self.apply_button.clicked.connect(self.accept)
        self.cancel_button = QPushButton(tr("취소 / Cancel"), objectName="cancelImport")
        self.cancel_button.clicked.connect(self.reject)
        for b in (self.failure_button, self.apply_button, self.cancel_button):
            b.setAutoDefault(False)
        buttons = QHBoxLayout()
        buttons.addWidget(self.failure_button)
        buttons.addStretch(1)
        buttons.addWidget(self.apply_button)
        buttons.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.error_title)
        layout.addWidget(self.errors, 1)
        layout.addWidget(self.failure_hint)
        layout.addLayout(buttons)
        self.setStyleSheet(STYLE)


@dataclass
class _NewLine:
    """One item to make in the dialog: from which sales product, its SKU, barcodes and set quantity."""

    product: mp.SalesProductRow
    sku: str
    barcodes: list[str] = field(default_factory=list)


class CreateItemsDialog(QDialog):
    """출고상품 만들기 / Create shipping items: one item for each chosen sales product (several options of a
    product in one step), named by a rule, with SKU, barcodes (typed, or scanned: ``take_scan``) and a set
    quantity; created and linked together by the screen, in one transaction. Refusals (an SKU or barcode
    already used, and by which item) are listed line by line and nothing is made until all are fixed."""

    submitted = Signal(object)           # list[mp.NewItem]
    barcode_added = Signal(int, str)     # line (0-based), barcode
    barcode_refused = Signal(str, str)   # barcode, code of the reason

    COL_PRODUCT, COL_NAME, COL_SKU, COL_QTY, COL_BARCODES = range(5)

    def __init__(self, rows: list[mp.SalesProductRow],
                 check_barcode: Callable[[str, Callable[[mp.ItemRow | None], None]], None],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.lines = [_NewLine(r, mp.default_sku(r)) for r in rows]
        self._check_barcode = check_barcode
        self._checking: set[str] = set()
        self.busy = False
        self.setWindowTitle(tr("출고상품 만들기 / Create shipping items"))
        avail = self.screen().availableGeometry()
        self.resize(min(1280, int(avail.width() * 0.9)), min(780, int(avail.height() * 0.9)))
        self.setStyleSheet(STYLE)

        n = len(rows)
        title = QLabel(tr("출고상품 만들기 / Create shipping items"), objectName="dialogTitle")
        intro = QLabel(both(f"판매상품 {n}개 → 출고상품 {n}개를 만들어 바로 연결합니다 (판매 1개당 세트 수량만큼).",
                            f"{plural(n, 'sales product')} → {plural(n, 'new item')}, linked at once "
                            "(set quantity per unit sold)."),
                       objectName="createIntro")
        intro.setWordWrap(True)
        relinked = sum(r.linked for r in rows)
        self.relink_note = QLabel(
            both(f"이미 연결된 판매상품 {relinked}개는 새 출고상품으로 연결이 바뀝니다.",
                 f"{relinked} of them already linked: their link becomes the new item."), objectName="relinkNote")
        self.relink_note.setStyleSheet(LEVEL_STYLE["info"])
        self.relink_note.setVisible(relinked > 0)

        rule_box = QGroupBox(tr("출고상품명 규칙 / Item name rule"))
        rule_layout = QVBoxLayout(rule_box)
        rv = QHBoxLayout()
        rule_layout.addLayout(rv)
        self.rule_group = QButtonGroup(self)
        self.rule_buttons: dict[mp.NameRule, QRadioButton] = {}
        for rule, text in NAME_RULES:
            b = QRadioButton(tr(text), objectName=f"rule_{rule.value}")
            self.rule_group.addButton(b)
            self.rule_buttons[rule] = b
            rv.addWidget(b)
        self.rule_buttons[mp.NameRule.PRODUCT_AND_OPTION].setChecked(True)
        for b in self.rule_buttons.values():
            b.toggled.connect(lambda on: self._rule_changed() if on else None)
        self.rule_buttons[mp.NameRule.TYPED].setEnabled(n == 1)
        if n != 1:
            self.rule_buttons[mp.NameRule.TYPED].setToolTip(tr("판매상품 하나일 때만 / Only for one sales product"))
        self.typed_name = QLineEdit(objectName="typedName")
        self.typed_name.setPlaceholderText(tr("출고상품명 입력 / Type the item name"))
        self.typed_name.setMaxLength(mp.MAX_ITEM_NAME)
        self.typed_name.textChanged.connect(lambda _: self._render_names())
        rv.addStretch(1)
        rule_layout.addWidget(self.typed_name)

        self.table = QTableWidget(n, 5, objectName="newItems")
        self.table.setHorizontalHeaderLabels([tr("판매상품 / Sales product"), tr("출고상품명 / Item name"), "SKU",
                                              tr("세트 수량 / Set qty"), tr("바코드 / Barcodes")])
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().setDefaultSectionSize(42)
        head = self.table.horizontalHeader()
        head.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        for col in (self.COL_PRODUCT, self.COL_NAME):
            head.setSectionResizeMode(col, QHeaderView.ResizeMode.Stretch)
        for col, width in ((self.COL_SKU, 200), (self.COL_QTY, 170), (self.COL_BARCODES, 220)):
            self.table.setColumnWidth(col, width)
        self.sku_edits: list[QLineEdit] = []
        self.qty_spins: list[QSpinBox] = []
        for i, line in enumerate(self.lines):
            r = line.product
            self.table.setItem(i, self.COL_PRODUCT, QTableWidgetItem(f"{r.label}  [{r.code}]"))
            sku = QLineEdit(line.sku, objectName=f"sku_{i}")
            sku.setMaxLength(mp.MAX_SKU)
            sku.textChanged.connect(lambda text, line=line: setattr(line, "sku", text))
            self.table.setCellWidget(i, self.COL_SKU, sku)
            self.sku_edits.append(sku)
            qty = QSpinBox(objectName=f"qty_{i}")
            qty.setRange(1, mp.MAX_QUANTITY)
            qty.setValue(1)
            self.table.setCellWidget(i, self.COL_QTY, qty)
            self.qty_spins.append(qty)
            self.table.setItem(i, self.COL_BARCODES, QTableWidgetItem(""))
        self.table.itemSelectionChanged.connect(self._line_changed)

        code_box = QGroupBox(tr("바코드 / Barcodes"), objectName="barcodeBox")
        cv = QVBoxLayout(code_box)
        self.barcode_for = QLabel(objectName="barcodeFor")
        self.barcode_for.setWordWrap(True)
        self.barcode_input = QLineEdit(objectName="barcodeInput")
        self.barcode_input.setPlaceholderText(tr("바코드를 스캔하거나 입력 후 Enter / Scan a barcode, or type it and "
                                                 "press Enter"))
        self.barcode_input.returnPressed.connect(self._typed_barcode)
        self.add_barcode_button = QPushButton(tr("바코드 추가 / Add barcode"), objectName="addBarcode")
        self.add_barcode_button.clicked.connect(self._typed_barcode)
        self.barcode_list = QListWidget(objectName="barcodeList")
        self.barcode_list.setMaximumHeight(110)
        self.remove_barcode_button = QPushButton(tr("선택 바코드 빼기 / Remove barcode"), objectName="removeBarcode")
        self.remove_barcode_button.clicked.connect(self.remove_selected_barcode)
        self.next_after_scan = QCheckBox(tr("스캔하면 다음 줄로 / Next line after each scan"),
                                         objectName="nextAfterScan")
        self.next_after_scan.setChecked(n > 1)
        self.next_after_scan.setVisible(n > 1)
        row = QHBoxLayout()
        row.addWidget(self.barcode_input, 1)
        row.addWidget(self.add_barcode_button)
        row2 = QHBoxLayout()
        row2.addWidget(self.barcode_list, 1)
        side = QVBoxLayout()
        side.addWidget(self.remove_barcode_button)
        side.addWidget(self.next_after_scan)
        side.addStretch(1)
        row2.addLayout(side)
        cv.addWidget(self.barcode_for)
        cv.addLayout(row)
        cv.addLayout(row2)
        self.barcode_message = QLabel(objectName="barcodeMessage")
        self.barcode_message.setWordWrap(True)
        cv.addWidget(self.barcode_message)

        self.problems = QLabel(objectName="createProblems")
        self.problems.setWordWrap(True)
        self.problems.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.create_button = QPushButton(both(f"만들고 연결 ({n}개)", f"Create and link ({n})"),
                                         objectName="createAndLink")
        self.create_button.clicked.connect(self.submit)
        self.cancel_button = QPushButton(tr("취소 / Cancel"), objectName="cancelCreate")
        self.cancel_button.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.create_button)
        buttons.addWidget(self.cancel_button)

        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addWidget(intro)
        layout.addWidget(self.relink_note)
        layout.addWidget(rule_box)
        layout.addWidget(self.table, 1)
        layout.addWidget(code_box)
        layout.addWidget(self.problems)
        layout.addLayout(buttons)
        for button in self.findChildren(QPushButton):  # Enter in a field adds a barcode, never presses a button
            button.setAutoDefault(False)
            button.setDefault(False)
        self._rule_changed()
        if n:
            self.table.selectRow(0)
        self._line_changed()

    # ---------------------------------------------------------------- names

    def rule(self) -> mp.NameRule:
        return next((r for r, b in self.rule_buttons.items() if b.isChecked()), mp.NameRule.PRODUCT_AND_OPTION)

    def set_rule(self, rule: mp.NameRule) -> None:
        self.rule_buttons[rule].setChecked(True)

    def _rule_changed(self) -> None:
        typed = self.rule() is mp.NameRule.TYPED
        self.typed_name.setEnabled(typed)
        if typed and not self.typed_name.text() and self.lines:
            self.typed_name.setText(mp.item_name(self.lines[0].product, mp.NameRule.PRODUCT_AND_OPTION)[0])
        self._render_names()

    def names(self) -> list[tuple[str, str]]:
        rule, typed = self.rule(), self.typed_name.text()
        return [mp.item_name(line.product, rule, typed) for line in self.lines]

    def _render_names(self) -> None:
        for i, (name, option) in enumerate(self.names()):
            self.table.setItem(i, self.COL_NAME, QTableWidgetItem(f"{name} {option}".strip()))

    # ---------------------------------------------------------------- barcodes

    @property
    def current_line(self) -> int:
        rows = {i.row() for i in self.table.selectionModel().selectedRows()}
        return min(rows) if rows else 0

    def select_line(self, i: int) -> None:
        self.table.selectRow(i)

    def _line_changed(self) -> None:
        if not self.lines:
            return
        i = self.current_line
        line = self.lines[i]
        self.barcode_for.setText(both(f"{i + 1}번째 줄의 바코드", f"Barcodes of line {i + 1}: {line.product.label}"))
        self.barcode_list.clear()
        self.barcode_list.addItems(line.barcodes)

    def _render_barcodes(self, i: int) -> None:
        self.table.setItem(i, self.COL_BARCODES, QTableWidgetItem(", ".join(self.lines[i].barcodes)))
        if i == self.current_line:
            self._line_changed()

    def take_scan(self, code: str) -> None:
        """A scan while this dialog is the active window (``app.py``): a barcode for the selected line."""
        self.add_barcode(code, scanned=True)

    def _typed_barcode(self) -> None:
        code = self.barcode_input.text()
        self.barcode_input.clear()
        self.add_barcode(code)

    def _refuse_barcode(self, code: str, reason: str, **params: Any) -> None:
        ko, en = mp.texts(reason, {"barcode": code, "limit": mp.MAX_BARCODE, **params})
        self.barcode_message.setText(both(ko, en))
        self.barcode_message.setStyleSheet(LEVEL_STYLE["error"])
        self.barcode_refused.emit(code, reason)

    def add_barcode(self, raw: str, scanned: bool = False) -> None:
        """Add a barcode to the selected line, once it is known that no item has it (asked off the UI
        thread; a barcode of another item is refused, naming that item)."""
        code = raw.strip()
        if not code or not self.lines:
            return
        i = self.current_line
        if not mp.barcode_looks_valid(code):
            self._refuse_barcode(code, "item_barcode_bad")
            return
        taken = next((n for n, line in enumerate(self.lines) if code.lower() in (b.lower() for b in line.barcodes)),
                     None)
        if taken is not None or code.lower() in self._checking:
            self._refuse_barcode(code, "item_barcode_repeated", other=(taken if taken is not None else i) + 1)
            return
        self._checking.add(code.lower())
        self.barcode_message.setText(both(f"확인 중: {code}", f"Checking {code}…"))
        self.barcode_message.setStyleSheet(LEVEL_STYLE["info"])
        if scanned and self.next_after_scan.isChecked() and i + 1 < len(self.lines):
            self.select_line(i + 1)  # the next scan is for the next option

        def checked(owner: mp.ItemRow | None) -> None:
            self._checking.discard(code.lower())
            if owner is not None:
                self._refuse_barcode(code, "item_barcode_taken", item=f"{owner.sku} ({owner.label})")
                return
            self.lines[i].barcodes.append(code)
            self._render_barcodes(i)
            self.barcode_message.setText(both(f"{i + 1}번째 줄에 바코드 추가: {code}",
                                              f"Barcode {code} added to line {i + 1}"))
            self.barcode_message.setStyleSheet(LEVEL_STYLE["success"])
            self.barcode_added.emit(i, code)

        self._check_barcode(code, checked)

    def remove_selected_barcode(self) -> None:
        item = self.barcode_list.currentItem()
        if item is None:
            return
        i = self.current_line
        with contextlib.suppress(ValueError):
            self.lines[i].barcodes.remove(item.text())
        self._render_barcodes(i)

    # ---------------------------------------------------------------- create

    def new_items(self) -> list[mp.NewItem]:
        return [mp.NewItem(line.product.id, line.sku, name, option, tuple(line.barcodes), self.qty_spins[i].value())
                for i, (line, (name, option)) in enumerate(zip(self.lines, self.names(), strict=True))]

    def submit(self) -> None:
        if self.busy:
            return
        self._set_busy(True)
        self.problems.setText(tr("만드는 중… / Creating…"))
        self.submitted.emit(self.new_items())

    def _set_busy(self, busy: bool) -> None:
        self.busy = busy
        self.create_button.setEnabled(not busy)
        self.cancel_button.setEnabled(not busy)

    def reject(self) -> None:
        if not self.busy:  # sent is sent: it is created, or refused with the reasons, in a moment
            super().reject()

    def show_problems(self, error: KnownError) -> None:
        """The screen's answer when nothing was created: every problem, by line."""
        self._set_busy(False)
        problems = getattr(error, "problems", ())
        if not problems:
            self.problems.setText(both(*refusal_text(error)))
            return
        out = []
        for p in problems:
            line = p.index + 1
            out.append(one(f"{line}번째 줄 / line {line}: {p.ko} / {p.en}", f"Line {line}: {p.en}") if p.index >= 0
                       else both(p.ko, p.en))
        self.problems.setText("\n".join(out))
        first = next((p.index for p in problems if p.index >= 0), None)
        if first is not None:
            self.select_line(first)


class MappingView(QDialog):
    """상품 연결 / Product links."""

    products_loaded = Signal(int)        # rows now in the table
    counts_loaded = Signal(int)          # every product matching the filter, counted (after the rows)
    items_found = Signal(int)            # rows in the item picker
    item_scanned = Signal(str, int)      # a scanned code, and the item it picked (0: none has it)
    link_saved = Signal(int)             # sales product id
    link_removed = Signal(int)
    marked_seen = Signal(int)
    items_created = Signal(int)          # items made and linked
    exported = Signal(str, int)          # path, rows
    import_previewed = Signal(object)    # mp.ImportPreview
    import_applied = Signal(int)         # products relinked
    failure_file_saved = Signal(str, int)  # path, rows
    refused = Signal(str)                # an error code, after it is on screen
    photo_set = Signal(str)              # an item's own photo was set (its name)

    def __init__(self, db: Database, worker: DbWorker | None = None, parent: QWidget | None = None,
                 pictures: PictureCache | None = None) -> None:
        """``pictures``: this PC's picture folder, where an item's own photo is copied (``services/pictures``)."""
        super().__init__(parent)
        self.db = db
        self.pictures = pictures
        self._poster: MainThreadPoster | None = None
        if worker is None:  # standalone (tests, a tool): a database thread of our own for the writes
            self._poster = MainThreadPoster(self)
            worker = DbWorker(db, self._poster.post)
            self._own_worker = True
        else:
            self._own_worker = False
        self.worker = worker
        self._closed = False
        self._generation = 0
        self._current: mp.SalesProductRow | None = None
        self.draft: list[DraftComponent] = []
        self._dirty = False
        self._found: list[mp.ItemRow] = []
        self._scanned: str | None = None
        self._import_path: Path | None = None
        self.preview_dialog: ImportPreviewDialog | None = None
        self.create_dialog: CreateItemsDialog | None = None
        self.page: mp.ProductPage | None = None

        self.setWindowTitle(tr("상품 연결 / Product links"))
        avail = self.screen().availableGeometry()  # a station PC may have a 1366x768 screen
        self.resize(min(1600, int(avail.width() * 0.95)), min(940, int(avail.height() * 0.92)))
        self.setStyleSheet(STYLE)
        self._build()
        self._refresh_detail()
        self._load_accounts_and_products()

    # ------------------------------------------------------------------ layout

    def _build(self) -> None:
        title = QLabel(tr("상품 연결 / Product links"), objectName="mappingTitle")
        hint = QLabel(tr("판매상품마다 포장할 출고상품과 수량을 연결하세요. 연결이 없는 상품은 포장할 수 없습니다. "
                      "출고상품이 없으면 판매상품에서 바로 만드세요. / Link each sales product to the items packed for "
                      "it; unlinked products cannot be packed. No item yet? Create it from the sales product."))
        hint.setWordWrap(True)

        self.account_combo = QComboBox(objectName="accountFilter")
        self.account_combo.addItem(tr("전체 계정 / All accounts"), None)
        self.state_combo = QComboBox(objectName="stateFilter")
        for text, state in STATES:
            self.state_combo.addItem(tr(text), state.value)
        self.new_only = QCheckBox(tr("신규만 / New only"), objectName="newOnly")
        self.include_deleted = QCheckBox(tr("삭제된 상품 포함 / Include deleted"), objectName="includeDeleted")
        self.include_deleted.setToolTip(tr("마켓에서 삭제된 상품: 보통은 숨깁니다 (연결과 이력은 남아 있습니다) / "
                                        "Products deleted on the marketplace: hidden unless ticked (links and "
                                           "history kept)"))
        self.search = QLineEdit(objectName="productSearch")
        self.search.setPlaceholderText(tr("상품명 · 옵션 · 상품코드 · 판매자코드 검색 (여러 단어 가능) / "
                                          "Search name, option or code (several words)"))
        self.search.setClearButtonEnabled(True)
        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(250)
        self._search_timer.timeout.connect(self.reload)
        self.account_combo.currentIndexChanged.connect(lambda _: self.reload())
        self.state_combo.currentIndexChanged.connect(lambda _: self.reload())
        self.new_only.toggled.connect(lambda _: self.reload())
        self.include_deleted.toggled.connect(lambda _: self.reload())
        self.search.textChanged.connect(lambda _: self._search_timer.start())
        self.search.returnPressed.connect(self.reload)
        filters = QHBoxLayout()
        for label, w in ((tr("계정 / Account"), self.account_combo), (tr("연결 / Link"), self.state_combo)):
            filters.addWidget(QLabel(label))
            filters.addWidget(w)
        filters.addWidget(self.new_only)
        filters.addWidget(self.include_deleted)
        filters.addStretch(1)
        self.counts = QLabel(objectName="productCounts")
        self.counts.setWordWrap(True)

        self.model = ProductTableModel()
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setSortRole(SORT_ROLE)
        self.table = QTableView(objectName="productTable")
        self.table.setModel(self.proxy)
        self.table.setItemDelegate(TwoLineDelegate(self.table))
        head = self.table.horizontalHeader()
        head.setSortIndicatorClearable(True)
        head.setSortIndicator(-1, Qt.SortOrder.AscendingOrder)  # the database's order until a header is clicked
        self.table.setSortingEnabled(True)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setWordWrap(False)
        self.table.setAlternatingRowColors(False)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        table_font = QFont(self.table.font())
        table_font.setPixelSize(17)  # as the style sheet says: big enough to read at arm's length
        self.table.verticalHeader().setDefaultSectionSize(row_height(table_font))
        head.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        for col, width in enumerate((430, 230, 330)):
            self.table.setColumnWidth(col, width)
        head.setStretchLastSection(True)
        self.table.selectionModel().currentRowChanged.connect(self._current_row_changed)
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._update_buttons())

        left = QWidget()
        lv = QVBoxLayout(left)
        lv.setContentsMargins(0, 0, 0, 0)
        lv.addLayout(filters)
        lv.addWidget(self.search)
        lv.addWidget(self.counts)
        lv.addWidget(self.table, 1)

        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(left)
        splitter.addWidget(self._build_detail())
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        splitter.setSizes([1000, 560])

        self.message = QLabel(objectName="mappingMessage")
        self.message.setWordWrap(True)
        self.busy_label = QLabel("", objectName="busyLabel")
        self.include_unlinked = QCheckBox(tr("미연결 상품도 내보내기 / Include unlinked products"),
                                          objectName="includeUnlinked")
        self.include_unlinked.setChecked(True)
        self.export_button = QPushButton(tr("엑셀 내보내기 / Export to Excel"), objectName="exportExcel")
        self.import_button = QPushButton(tr("엑셀 가져오기 / Import from Excel"), objectName="importExcel")
        self.close_button = QPushButton(tr("닫기 / Close"), objectName="closeMapping")
        self.export_button.clicked.connect(self._export_clicked)
        self.import_button.clicked.connect(self._import_clicked)
        self.close_button.clicked.connect(self.accept)
        bottom = QHBoxLayout()
        bottom.addWidget(self.export_button)
        bottom.addWidget(self.include_unlinked)
        bottom.addWidget(self.import_button)
        bottom.addWidget(self.busy_label)
        bottom.addStretch(1)
        bottom.addWidget(self.close_button)

        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addWidget(hint)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.message)
        layout.addLayout(bottom)
        # Enter in a search box must search, never press a dialog button
        for b in self.findChildren(QPushButton):
            b.setAutoDefault(False)
            b.setDefault(False)

    def _build_detail(self) -> QWidget:
        box = QWidget()
        v = QVBoxLayout(box)
        v.setContentsMargins(8, 0, 0, 0)
        self.detail_title = QLabel(objectName="detailTitle")
        self.detail_title.setWordWrap(True)
        self.detail_market = QLabel(objectName="detailMarket")
        self.detail_market.setWordWrap(True)
        self.detail_sub = QLabel(objectName="detailSub")
        self.detail_sub.setWordWrap(True)
        self.detail_state = QLabel(objectName="detailState")
        self.detail_state.setWordWrap(True)
        for w in (self.detail_title, self.detail_market, self.detail_sub, self.detail_state):
            w.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            v.addWidget(w)

        comp_box = QGroupBox(tr("판매 1개당 포장할 출고상품 / Items packed per unit sold"))
        cv = QVBoxLayout(comp_box)
        self.components = QTableWidget(0, 3, objectName="componentTable")
        self.components.setHorizontalHeaderLabels(["SKU", tr("출고상품 / Item"), tr("수량 / Qty")])
        self.components.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.components.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.components.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.components.verticalHeader().setVisible(False)
        self.components.verticalHeader().setDefaultSectionSize(40)
        ch = self.components.horizontalHeader()
        ch.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        ch.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        ch.setSectionResizeMode(2, QHeaderView.ResizeMode.Fixed)
        self.components.setColumnWidth(2, 110)
        self.components.itemSelectionChanged.connect(self._update_buttons)
        self.remove_button = QPushButton(tr("선택 항목 빼기 / Remove item"), objectName="removeComponent")
        self.remove_button.clicked.connect(self.remove_selected_component)
        # the selected item's own photo: shown on the station instead of the marketplace's picture
        self.photo_button = QPushButton(tr("사진 지정… / Set photo…"), objectName="setPhoto")
        self.photo_button.setToolTip(tr("선택한 출고상품의 사진 — 포장 화면에 마켓 사진 대신 보입니다 / "
                                        "The selected item's photo — the station shows it instead of the "
                                        "marketplace's picture"))
        self.photo_button.clicked.connect(self._photo_clicked)
        self.dirty_label = QLabel("", objectName="dirtyLabel")
        row = QHBoxLayout()
        row.addWidget(self.remove_button)
        row.addWidget(self.photo_button)
        row.addWidget(self.dirty_label, 1)
        cv.addWidget(self.components, 1)
        cv.addLayout(row)
        v.addWidget(comp_box, 2)

        pick_box = QGroupBox(tr("출고상품 찾기 — 검색 또는 바코드 스캔 / Find an item — search or scan its barcode"))
        pv = QVBoxLayout(pick_box)
        self.item_search = QLineEdit(objectName="itemSearch")
        self.item_search.setPlaceholderText(tr("SKU · 상품명 · 바코드 (스캔하면 바로 찾습니다) / SKU, name or barcode "
                                               "(a scan finds it at once)"))
        self.item_search.setClearButtonEnabled(True)
        self._item_timer = QTimer(self)
        self._item_timer.setSingleShot(True)
        self._item_timer.setInterval(200)
        self._item_timer.timeout.connect(self.search_items)
        self.item_search.textChanged.connect(lambda _: self._item_timer.start())
        self.item_search.returnPressed.connect(self.search_items)
        self.item_results = QTableWidget(0, 4, objectName="itemResults")
        self.item_results.setHorizontalHeaderLabels(["SKU", tr("상품명 / Name"), tr("옵션 / Option"),
                                                     tr("바코드 / Barcode")])
        self.item_results.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.item_results.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.item_results.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.item_results.verticalHeader().setVisible(False)
        self.item_results.verticalHeader().setDefaultSectionSize(34)
        ih = self.item_results.horizontalHeader()
        ih.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        ih.setStretchLastSection(True)
        self.item_results.itemSelectionChanged.connect(self._update_buttons)
        self.item_results.cellDoubleClicked.connect(lambda *_: self.add_selected_item())
        self.quantity = QSpinBox(objectName="componentQuantity")
        self.quantity.setRange(1, mp.MAX_QUANTITY)
        self.quantity.setValue(1)
        self.quantity.setMinimumWidth(110)
        self.add_button = QPushButton(tr("추가 / Add"), objectName="addComponent")
        self.add_button.clicked.connect(self.add_selected_item)
        add_row = QHBoxLayout()
        add_row.addWidget(QLabel(tr("수량 / Qty")))
        add_row.addWidget(self.quantity)
        add_row.addWidget(self.add_button)
        add_row.addStretch(1)
        pv.addWidget(self.item_search)
        pv.addWidget(self.item_results, 1)
        pv.addLayout(add_row)
        v.addWidget(pick_box, 2)

        self.save_button = QPushButton(tr("연결 저장 / Save link"), objectName="saveLink")
        self.unlink_button = QPushButton(tr("연결 해제 / Unlink"), objectName="unlink")
        self.create_button = QPushButton(tr("출고상품 만들기… / Create items…"), objectName="createItems")
        self.create_button.setToolTip(tr("선택한 판매상품마다 출고상품을 하나씩 만들어 바로 연결합니다 / "
                                         "One new item for each selected sales product, linked at once"))
        self.options_button = QPushButton(tr("이 상품의 옵션 모두 선택 / Select all its options"),
                                          objectName="selectOptions")
        self.seen_button = QPushButton(tr("확인함 표시 / Mark as seen"), objectName="markSeen")
        self.save_button.clicked.connect(self.save_link)
        self.unlink_button.clicked.connect(self.unlink_current)
        self.create_button.clicked.connect(self.open_create_dialog)
        self.options_button.clicked.connect(self.select_all_options)
        self.seen_button.clicked.connect(self.mark_selected_seen)
        actions = QHBoxLayout()
        actions.addWidget(self.save_button)
        actions.addWidget(self.unlink_button)
        actions.addStretch(1)
        actions.addWidget(self.seen_button)
        creating = QHBoxLayout()
        creating.addWidget(self.create_button)
        creating.addWidget(self.options_button)
        creating.addStretch(1)
        v.addLayout(actions)
        v.addLayout(creating)
        return box

    # ------------------------------------------------------------------ background work

    @property
    def busy(self) -> bool:
        return ops.pending(self) > 0

    def _started(self) -> None:
        self.busy_label.setText(tr("작업 중… / Working…"))

    def _answered(self, done: Callable[[Any], None], result: Any) -> None:
        if self._closed:
            return
        self._idle_again()
        done(result)
        self._update_buttons()

    def _refused(self, refused: Callable[[KnownError], None] | None, error: KnownError) -> None:
        if self._closed:
            return
        self._idle_again()
        if refused is not None:
            refused(error)
        self._show_refusal(error)
        self._update_buttons()

    def _idle_again(self) -> None:
        if not ops.pending(self):  # (an answer is no longer counted when it is handled)
            self.busy_label.setText("")

    def _db(self, job: Job[Any], done: Callable[[Any], None],
            refused: Callable[[KnownError], None] | None = None) -> None:
        """A write, on the station's database thread, in order with everything else written there (``ops.write``).
        Bad input comes back as a refusal (rolled back, nothing written); anything else is a bug, logged."""
        self._started()
        ops.write(self, "mapping-write", self.worker, job, partial(self._answered, done),
                  partial(self._refused, refused))

    def _read(self, name: str, job: Job[Any], done: Callable[[Any], None]) -> None:
        """A read in a short session of its own, on a thread of its own (``ops.read``): never queued behind the
        station's scans on its database thread, and never holding them up."""
        self._started()
        ops.read(self, name, self.db, job, partial(self._answered, done), partial(self._refused, None))

    def _in_thread(self, name: str, job: Callable[[], Any], done: Callable[[Any], None]) -> None:
        """Work off the UI thread (a picture copied, a file written) through ``ops.run``."""
        self._started()
        ops.run(self, name, job, partial(self._answered, done), partial(self._refused, None))

    # ------------------------------------------------------------------ list

    def product_filter(self) -> mp.ProductFilter:
        return mp.ProductFilter(account_id=self.account_combo.currentData(),
                                state=mp.LinkState(self.state_combo.currentData()),
                                text=self.search.text(), new_only=self.new_only.isChecked(),
                                include_deleted=self.include_deleted.isChecked())

    def _load_accounts_and_products(self) -> None:
        f = self.product_filter()
        self._generation += 1
        gen = self._generation
        self._read("mapping-list", lambda s: (mp.list_accounts(s), mp.product_page(s, f, count=False)),
                   lambda res: self._accounts_and_products_loaded(gen, *res))

    def _accounts_and_products_loaded(self, gen: int, accounts: list[mp.Account], page: mp.ProductPage) -> None:
        current = self.account_combo.currentData()
        self.account_combo.blockSignals(True)
        self.account_combo.clear()
        self.account_combo.addItem(tr("전체 계정 / All accounts"), None)
        for a in accounts:
            self.account_combo.addItem(a.name, a.id)
        self.account_combo.setCurrentIndex(max(0, self.account_combo.findData(current)))
        self.account_combo.blockSignals(False)
        self.model.several_accounts = len(accounts) > 1  # one shop: its name is said once, in the title bar
        self._products_loaded(gen, page)

    def reload(self) -> None:
        """Ask for the list again with the filters as they are now; older answers are dropped."""
        self._search_timer.stop()
        f = self.product_filter()
        self._generation += 1
        gen = self._generation
        self._read("mapping-list", lambda s: mp.product_page(s, f, count=False),
                   lambda page: self._products_loaded(gen, page))

    def _products_loaded(self, gen: int, page: mp.ProductPage) -> None:
        if gen != self._generation:
            return
        self.page = page
        rows = page.rows
        keep = self._current.id if self._current is not None else None
        self.model.set_rows(rows)
        if page.counts is None:  # a full page: shown now, counted in a second read (a count of 30,000 is slower)
            self.counts.setText(both(f"{len(rows)}개 표시 · 세는 중…", f"{len(rows)} shown · counting…"))
            self.counts.setStyleSheet("")
            f = self.product_filter()
            self._read("mapping-count", lambda s: mp.count_sales_products(s, f),
                       lambda c: self._counts_loaded(gen, len(rows), c))
        else:
            self._counts_loaded(gen, len(rows), page.counts)
        if keep is not None:
            fresh = next((r for r in rows if r.id == keep), None)
            if fresh is not None:
                self._select_id(keep)
                if not self._dirty:
                    self._show_product(fresh)
        self.products_loaded.emit(len(rows))

    def _counts_loaded(self, gen: int, shown: int, c: mp.ProductCounts) -> None:
        if gen != self._generation:
            return
        self.page = mp.ProductPage(self.page.rows, c) if self.page is not None else None
        text = both(f"{shown}개 표시 · 전체 {c.total}개 · 미연결 {c.unlinked}개 · 신규 {c.new}개",
                    f"{shown} shown of {c.total} · {c.unlinked} not linked · {c.new} new")
        if shown < c.total:
            text += "\n" + both(f"처음 {shown}개만 보입니다 — 검색어나 필터로 좁히세요",
                                f"Only the first {shown} are shown — narrow with a search or a filter")
        self.counts.setText(text)
        self.counts.setStyleSheet(LEVEL_STYLE["error"] if c.unlinked else "")
        self.counts_loaded.emit(c.total)

    def _select_id(self, product_id: int) -> None:
        for row in range(self.proxy.rowCount()):
            idx = self.proxy.index(row, 0)
            if idx.data(ID_ROLE) == product_id:
                self.table.selectionModel().blockSignals(True)
                self.table.selectionModel().setCurrentIndex(
                    idx, QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows)
                self.table.selectionModel().blockSignals(False)
                self.table.viewport().update()
                self.table.scrollTo(idx)
                return

    def _current_row_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if not current.isValid():
            return
        row = self.model.rows[self.proxy.mapToSource(current).row()]
        if self._current is None or row.id != self._current.id:
            if self._dirty and self._current is not None:
                self.show_message("info", both(f"저장하지 않은 변경을 버렸습니다: {self._current.product_name}",
                                               f"Unsaved changes discarded: {self._current.product_name}"))
            self._show_product(row)

    def shown_rows(self) -> list[mp.SalesProductRow]:
        """The products as the table shows them (after any header sort); for tests and the keyboard."""
        return [self.model.rows[self.proxy.mapToSource(self.proxy.index(r, 0)).row()]
                for r in range(self.proxy.rowCount())]

    def row_for(self, product_code: str, option_code: str = "") -> int | None:
        """The table row (as shown, after sorting) of a product; for tests and the keyboard."""
        for row, r in enumerate(self.shown_rows()):
            if (r.product_code, r.option_code) == (product_code, option_code):
                return row
        return None

    def selected_rows(self) -> list[mp.SalesProductRow]:
        rows = sorted({i.row() for i in self.table.selectionModel().selectedRows()})
        return [self.model.rows[self.proxy.mapToSource(self.proxy.index(r, 0)).row()] for r in rows]

    def selected_ids(self) -> list[int]:
        return [r.id for r in self.selected_rows()]

    def select_all_options(self) -> None:
        """Select every option of the current product shown in the table (to make an item for each)."""
        r = self._current
        if r is None:
            return
        selection = QItemSelection()
        for row, other in enumerate(self.shown_rows()):
            if (other.account_id, other.product_code) == (r.account_id, r.product_code):
                selection.select(self.proxy.index(row, 0), self.proxy.index(row, self.proxy.columnCount() - 1))
        self.table.selectionModel().select(selection, QItemSelectionModel.SelectionFlag.ClearAndSelect)
        n = len(self.selected_rows())
        self.show_message("info", both(f"옵션 {n}개를 골랐습니다", f"{plural(n, 'option')} selected"))

    # ------------------------------------------------------------------ detail

    @property
    def current(self) -> mp.SalesProductRow | None:
        return self._current

    def _show_product(self, row: mp.SalesProductRow) -> None:
        self._current = row
        self.draft = [DraftComponent(c.item_id, c.sku, c.label, c.quantity) for c in row.components]
        self._dirty = False
        self._refresh_detail()

    def _refresh_detail(self) -> None:
        r = self._current
        if r is None:
            self.detail_title.setText(tr("왼쪽 목록에서 상품을 고르세요 / Pick a product on the left"))
            for w in (self.detail_market, self.detail_sub, self.detail_state):
                w.setText("")
        else:
            self.detail_title.setText(r.label)
            self.detail_market.setText(both("마켓 상품", f"Marketplace: {_status_text(r)} · {_market_codes(r)}"))
            self.detail_sub.setText(both("판매상품", f"Sales product: {r.account_name} · {r.code}"))
            self.detail_state.setText(_state_text(r))
            self.detail_state.setStyleSheet(LEVEL_STYLE["success"] if r.linked else LEVEL_STYLE["error"])
        self._render_draft()

    def _render_draft(self) -> None:
        self.components.setRowCount(len(self.draft))
        for i, d in enumerate(self.draft):
            self.components.setItem(i, 0, QTableWidgetItem(d.sku))
            self.components.setItem(i, 1, QTableWidgetItem(d.label))
            spin = QSpinBox()
            spin.setRange(1, mp.MAX_QUANTITY)
            spin.setValue(d.quantity)
            spin.valueChanged.connect(lambda v, d=d: self._quantity_changed(d, v))
            self.components.setCellWidget(i, 2, spin)
        self.dirty_label.setText(tr("저장하지 않은 변경이 있습니다 / Unsaved changes") if self._dirty else "")
        self._update_buttons()

    def draft_texts(self) -> list[tuple[str, int]]:
        return [(d.sku, d.quantity) for d in self.draft]

    def _set_dirty(self) -> None:
        self._dirty = True
        self.dirty_label.setText(tr("저장하지 않은 변경이 있습니다 / Unsaved changes"))
        self._update_buttons()

    def _quantity_changed(self, d: DraftComponent, value: int) -> None:
        d.quantity = value
        self._set_dirty()

    def _update_buttons(self) -> None:
        has = self._current is not None
        selected = bool(self.table.selectionModel().selectedRows())
        self.save_button.setEnabled(has and self._dirty)
        self.unlink_button.setEnabled(has and self._current is not None and self._current.linked)
        self.remove_button.setEnabled(has and bool(self.components.selectedItems()))
        self.photo_button.setEnabled(self.pictures is not None and has and bool(self.components.selectedItems()))
        self.add_button.setEnabled(has and bool(self.item_results.selectedItems()))
        self.seen_button.setEnabled(selected or has)
        self.create_button.setEnabled(selected or has)
        self.options_button.setEnabled(has and self._current is not None and bool(self._current.option_code))
        files_busy = self.busy
        self.export_button.setEnabled(not files_busy)
        self.import_button.setEnabled(not files_busy)

    def remove_selected_component(self) -> None:
        rows = sorted({i.row() for i in self.components.selectedIndexes()}, reverse=True)
        for r in rows:
            del self.draft[r]
        if rows:
            self._set_dirty()
            self._render_draft()

    # ------------------------------------------------------------------ an item's photo

    def _photo_clicked(self) -> None:
        rows = sorted({i.row() for i in self.components.selectedIndexes()})
        if not rows or self.pictures is None:
            return
        path = files.open_file(self, "product-photo", tr("사진 지정 / Set photo"),
                                f"{tr('사진 / Pictures')} (*.png *.jpg *.jpeg *.gif *.webp *.bmp);;"
                                f"{tr('모든 파일 / All files (*)')}")
        if path:
            self.set_photo(self.draft[rows[0]].item_id, path)

    def set_photo(self, item_id: int, source: Path) -> None:
        """Copy the photo into the picture folder (off the UI thread), then make it the item's (on the database
        thread). A file that is no picture is refused with the reason; the item keeps the photo it had."""
        pictures = self.pictures
        assert pictures is not None

        def copied(name: str) -> None:
            self._db(lambda s: set_item_photo(s, item_id, name), self._photo_set)

        self._in_thread("mapping-photo", lambda: pictures.add_own(source), copied)

    def _photo_set(self, item_name: str) -> None:
        self.show_message("success", both(f"사진을 지정했습니다: {item_name} — 다음 포장부터 보입니다",
                                          f"Photo set for {item_name} — shown from the next pack"))
        self.photo_set.emit(item_name)

    # ------------------------------------------------------------------ item picker

    def search_items(self) -> None:
        self._item_timer.stop()
        text = self.item_search.text()
        self._read("mapping-items", lambda s: mp.find_items(s, text), lambda items: self._items_found(text, items))

    def take_scan(self, code: str) -> None:
        """A scan while this screen is the active window (routed here by ``app.py``, never packed): find the
        item with that barcode and select it in the picker, ready to add with its quantity."""
        self._scanned = code
        self.item_search.blockSignals(True)  # no second search from the typing timer
        self.item_search.setText(code)
        self.item_search.blockSignals(False)
        self.search_items()

    def _items_found(self, text: str, items: list[mp.ItemRow]) -> None:
        if text != self.item_search.text():
            return  # typing went on; a newer search is on its way
        self._found = items
        self.item_results.setRowCount(len(items))
        for i, it in enumerate(items):
            for col, value in enumerate((it.sku, it.name, it.option_name, ", ".join(it.barcodes))):
                self.item_results.setItem(i, col, QTableWidgetItem(value))
        if items:
            self.item_results.selectRow(0)
        if self._scanned is not None and self._scanned == text:
            self._scanned = None
            hit = items[0] if items and items[0].matches_exactly(text) else None
            if hit is None:
                self.item_results.clearSelection()
                self.show_message("error", both(
                    f"바코드 {text}인 출고상품이 없습니다 — 새로 만들려면 '출고상품 만들기'",
                    f"No item has barcode {text} — to make one, use 'Create items'"))
            elif self._current is None:
                self.show_message("info", both(f"스캔한 출고상품: {hit.sku} {hit.label} — 연결할 판매상품을 고르세요",
                                               f"Scanned item {hit.sku} — pick the sales product to link it to"))
            else:
                self.quantity.setFocus()
                self.show_message("info", both(
                    f"스캔한 출고상품: {hit.sku} {hit.label} — 수량을 정하고 '추가'를 누르세요",
                    f"Scanned item {hit.sku} — set the quantity and press Add"))
            self.item_scanned.emit(text, hit.id if hit is not None else 0)
        self.items_found.emit(len(items))

    def add_selected_item(self) -> None:
        rows = {i.row() for i in self.item_results.selectedIndexes()}
        if self._current is None or not rows:
            return
        it = self._found[min(rows)]
        qty = self.quantity.value()
        existing = next((d for d in self.draft if d.item_id == it.id), None)
        if existing is not None:
            existing.quantity = min(mp.MAX_QUANTITY, existing.quantity + qty)
        else:
            self.draft.append(DraftComponent(it.id, it.sku, it.label, qty))
        self._dirty = True
        self._render_draft()
        self.show_message("info", both(f"추가: {it.sku} ×{qty} — 저장을 누르세요",
                                       f"Added {it.sku} ×{qty} — press Save"))

    # ------------------------------------------------------------------ writes

    def save_link(self) -> None:
        r = self._current
        if r is None:
            return
        components = [(d.item_id, d.quantity) for d in self.draft]
        self._db(lambda s: mp.link(s, r.id, components), self._saved)

    def _saved(self, row: mp.SalesProductRow) -> None:
        self._show_product(row)
        self.show_message("success", both(f"연결 저장됨: {row.product_name} → {_components_text(row.components)}",
                                          "Link saved"))
        self.link_saved.emit(row.id)
        self.reload()

    def unlink_current(self) -> None:
        r = self._current
        if r is None:
            return
        self._db(lambda s: (mp.unlink(s, r.id), mp.get_sales_product(s, r.id)), self._unlinked)

    def _unlinked(self, result: tuple[int, mp.SalesProductRow | None]) -> None:
        _, row = result
        if row is None:
            return
        self._current = row
        self._dirty = bool(self.draft)  # the old items stay in the editor: Save puts them back
        self._refresh_detail()
        self.show_message("info", tr("연결을 해제했습니다 — 저장을 누르면 되돌립니다 / "
                                     "Link removed — press Save to put it back"))
        self.link_removed.emit(row.id)
        self.reload()

    def mark_selected_seen(self) -> None:
        ids = self.selected_ids() or ([self._current.id] if self._current else [])
        self._db(lambda s: mp.mark_seen(s, ids), self._seen)

    def _seen(self, n: int) -> None:
        self.show_message("info", both(f"{n}개 상품을 확인함으로 표시했습니다",
                                       f"Marked {plural(n, 'product')} as seen"))
        self.marked_seen.emit(n)
        self.reload()

    # ------------------------------------------------------------------ new items

    def open_create_dialog(self) -> CreateItemsDialog | None:
        """One new item for each selected sales product (or the current one), linked at once."""
        rows = self.selected_rows() or ([self._current] if self._current is not None else [])
        if not rows:
            return None
        if self.create_dialog is not None:
            self.create_dialog.close()
        dialog = CreateItemsDialog(rows, self._check_barcode, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.submitted.connect(lambda specs: self._create_items(dialog, specs))
        dialog.destroyed.connect(lambda *_: setattr(self, "create_dialog", None))
        self.create_dialog = dialog
        dialog.open()
        return dialog

    def _check_barcode(self, code: str, done: Callable[[mp.ItemRow | None], None]) -> None:
        self._read("mapping-barcode", lambda s: mp.barcode_owner(s, code), done)

    def _create_items(self, dialog: CreateItemsDialog, specs: list[mp.NewItem]) -> None:
        def created(rows: list[mp.SalesProductRow]) -> None:
            with contextlib.suppress(RuntimeError):  # the dialog is gone already
                dialog._set_busy(False)
                dialog.accept()
            names = ", ".join(f"{r.components[0].sku} ×{r.components[0].quantity}" for r in rows if r.components)
            self.show_message("success", both(f"출고상품 {len(rows)}개를 만들고 연결했습니다: {names}",
                                              f"Created and linked {plural(len(rows), 'item')}: {names}"))
            if self._current is not None:
                fresh = next((r for r in rows if r.id == self._current.id), None)
                if fresh is not None:
                    self._show_product(fresh)
            self.items_created.emit(len(rows))
            self.reload()

        def refused(error: KnownError) -> None:
            with contextlib.suppress(RuntimeError):  # the dialog was closed meanwhile
                dialog.show_problems(error)

        self._db(lambda s: mp.create_items(s, specs), created, refused)

    # ------------------------------------------------------------------ Excel

    def _export_clicked(self) -> None:
        name = f"packdesk-{one('상품연결', 'product-links')}-{datetime.now(KST):%Y%m%d}.xlsx"
        path = files.save_file(self, "product-links", tr("엑셀 내보내기 / Export to Excel"), name, "Excel (*.xlsx)")
        if path:
            self.export_to(path)

    def export_to(self, path: Path) -> None:
        if path.suffix.lower() != ".xlsx":
            path = path.with_name(path.name + ".xlsx")
        include = self.include_unlinked.isChecked()

        self._read("mapping-export", lambda s: mp.export_mappings(s, path, include_unlinked=include),
                   lambda n: self._exported(path, n))

    def _exported(self, path: Path, rows: int) -> None:
        self.show_message("success", both(f"{rows}행을 저장했습니다", f"Saved {rows} rows: {path}"))
        self.exported.emit(str(path), rows)

    def _import_clicked(self) -> None:
        path = files.open_file(self, "product-links", tr("엑셀 가져오기 / Import from Excel"),
                               f"Excel (*.xlsx);;{tr('모든 파일 / All files (*)')}")
        if path:
            self.import_from(path)

    def import_from(self, path: Path) -> None:
        """Read and check the file off the UI thread, then show the preview; nothing is written yet."""
        self._import_path = path

        self.show_message("info", both(f"읽는 중: {path.name}", f"Reading {path.name}…"))
        self._read("mapping-import", lambda s: mp.preview_import(s, path), self._show_preview)

    def _show_preview(self, preview: mp.ImportPreview) -> None:
        self.show_message("info", both(f"미리보기: {preview.file_name} — 적용하거나 취소하세요",
                                       f"Preview of {preview.file_name} — apply or cancel"))
        dialog = ImportPreviewDialog(preview, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: self.apply_preview(preview))
        dialog.rejected.connect(lambda: self.show_message("info", tr("가져오기를 취소했습니다 / Import cancelled")))
        dialog.failure_file_requested.connect(lambda: self._failure_file_clicked(preview))
        dialog.destroyed.connect(lambda *_: setattr(self, "preview_dialog", None))
        self.preview_dialog = dialog
        dialog.open()
        self.import_previewed.emit(preview)

    def _failure_file_clicked(self, preview: mp.ImportPreview) -> None:
        name = f"{Path(preview.file_name).stem}-{one('실패', 'failures')}.xlsx"  # beside the file imported
        path = files.save_file(self.preview_dialog or self, "product-links", tr("실패 파일 저장 / Save failure file"),
                               name, "Excel (*.xlsx)")
        if path:
            self.save_failure_file(preview, path)

    def save_failure_file(self, preview: mp.ImportPreview, path: Path) -> None:
        """The rows that will not be imported, with their reasons, to fix and import again (off the UI thread)."""
        if path.suffix.lower() != ".xlsx":
            path = path.with_name(path.name + ".xlsx")
        self._in_thread("mapping-failures", lambda: mp.write_failure_file(path, preview),
                        lambda n: self._failure_file_saved(path, n))

    def _failure_file_saved(self, path: Path, rows: int) -> None:
        text = both(f"실패 파일에 {rows}행을 저장했습니다 — 고친 뒤 그 파일을 가져오세요",
                    f"Saved {rows} rows to the failure file — fix them and import that file: {path}")
        self.show_message("success", text)
        if self.preview_dialog is not None:
            self.preview_dialog.failure_hint.setText(text)
        self.failure_file_saved.emit(str(path), rows)

    def apply_preview(self, preview: mp.ImportPreview) -> None:
        self._db(lambda s: mp.apply_import(s, preview), self._import_done)

    def _import_done(self, result: mp.ImportResult) -> None:
        self.show_message("success", both(f"{result.products}개 상품의 연결을 가져왔습니다 ({result.rows}행)",
                                          f"Imported the links of {plural(result.products, 'product')} "
                                          f"({plural(result.rows, 'row')})"))
        self.import_applied.emit(result.products)
        self._load_accounts_and_products()

    # ------------------------------------------------------------------ messages, closing

    def show_message(self, level: str, text: str) -> None:
        show_level(self.message, level, text)

    def _show_refusal(self, error: KnownError) -> None:
        self.show_message("error", both(*refusal_text(error)))
        log.info("mapping screen refused: %s %s (%s)", error.code, error.params, error.detail)
        self.refused.emit(error.code)

    def done(self, result: int) -> None:
        self._closed = True
        self._search_timer.stop()
        self._item_timer.stop()
        if self._own_worker:
            self.worker.close()
            if self._poster is not None:
                self._poster.close()
        super().done(result)
