"""The product-link screen (상품 연결): a supervisor links each marketplace product to the items that go in
the box, so the station can pack it. Unlinked products are listed first and marked red.

All rules live in ``services/mapping.py``; this screen only shows and asks. Database work runs on the
station's database thread (the one writer, in order with the scans); reading and writing Excel files runs
on a thread of its own, so a big file never freezes the window; results come back as queued calls.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QItemSelectionModel,
    QModelIndex,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QFileDialog,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTableView,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.orm import Session

from packdesk.core.db import Database
from packdesk.core.errors import KnownError
from packdesk.services import mapping as mp
from packdesk.services.dbworker import DbWorker
from packdesk.ui.bridge import MainThreadPoster
from packdesk.ui.messages import error_text

log = logging.getLogger("packdesk.ui.mapping")

ID_ROLE = Qt.ItemDataRole.UserRole
SORT_ROLE = Qt.ItemDataRole.UserRole + 1
UNLINKED_BG = QColor("#ffebee")
UNLINKED_FG = QColor("#b71c1c")
NEW_BG = QColor("#fff8e1")

STYLE = """
QWidget { font-size: 16px; }
QLabel#mappingTitle { font-size: 24px; font-weight: bold; }
QLabel#detailTitle { font-size: 21px; font-weight: bold; }
QLabel#detailSub { color: #455a64; }
QLabel#dirtyLabel { color: #e65100; font-weight: bold; }
QGroupBox { font-weight: bold; margin-top: 12px; }
QGroupBox::title { subcontrol-origin: margin; left: 8px; padding: 0 4px; }
QHeaderView::section { font-weight: bold; padding: 6px; }
QPushButton { padding: 7px 16px; }
QPushButton#saveLink { background: #1565c0; color: white; font-weight: bold; }
QPushButton#saveLink:disabled { background: #90a4ae; }
QLineEdit, QComboBox, QSpinBox { min-height: 32px; }
"""

LEVEL_STYLE = {
    "info": "color: #0d47a1;",
    "success": "color: #1b5e20; font-weight: bold;",
    "error": "color: #b71c1c; font-weight: bold;",
}

STATES = (("전체 / All", mp.LinkState.ALL), ("미연결 / Not linked", mp.LinkState.UNLINKED),
          ("연결됨 / Linked", mp.LinkState.LINKED))


def _state_text(row: mp.SalesProductRow, with_new: bool = True) -> str:
    text = "연결됨 / Linked" if row.linked else "미연결 / Not linked"
    if row.is_new and with_new:
        text += " · 신규 / New"
    if row.deleted:
        text += " · 판매 종료 / Removed"
    return text


def _components_text(components: tuple[mp.Component, ...]) -> str:
    return ", ".join(f"{c.sku} ×{c.quantity}" for c in components)


class ProductTableModel(QAbstractTableModel):
    HEADERS = ("상태 / State", "신규 / New", "상품코드 / Product code", "옵션코드 / Option code",
               "상품명 / Product name", "옵션명 / Option name", "연결된 출고상품 / Linked items", "계정 / Account")
    ACCOUNT_COLUMN = 7

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[mp.SalesProductRow] = []

    def set_rows(self, rows: list[mp.SalesProductRow]) -> None:
        self.beginResetModel()
        self.rows = rows
        self.endResetModel()

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.HEADERS)

    def _cells(self, r: mp.SalesProductRow) -> tuple[str, ...]:
        return (_state_text(r, with_new=False), "신규 / New" if r.is_new else "", r.product_code, r.option_code,
                r.product_name, r.option_name, _components_text(r.components), r.account_name)

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        r, col = self.rows[index.row()], index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._cells(r)[col]
        if role == ID_ROLE:
            return r.id
        if role == SORT_ROLE:
            # state: unlinked before linked, new before seen; the rest by their text
            if col == 0:
                return str(int(r.linked) * 2 + int(not r.is_new))
            return str(int(not r.is_new)) if col == 1 else self._cells(r)[col].lower()
        if role == Qt.ItemDataRole.BackgroundRole:
            if not r.linked:
                return QBrush(UNLINKED_BG)
            return QBrush(NEW_BG) if r.is_new else None
        if role == Qt.ItemDataRole.ForegroundRole and col == 0 and not r.linked:
            return QBrush(UNLINKED_FG)
        if role == Qt.ItemDataRole.ForegroundRole and col == 1:
            return QBrush(QColor("#e65100"))
        if role == Qt.ItemDataRole.FontRole and col in (0, 1) and (not r.linked or col == 1):
            f = QFont()
            f.setBold(True)
            return f
        if role == Qt.ItemDataRole.ToolTipRole:
            return "\n".join(f"{c.sku}  {c.label}  ×{c.quantity}" for c in r.components) or _state_text(r)
        return None

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.HEADERS[section]
        return None


@dataclass
class DraftComponent:
    item_id: int
    sku: str
    label: str
    quantity: int


@dataclass(frozen=True)
class _Refused:
    error: KnownError


def refusal_text(error: KnownError) -> tuple[str, str]:
    if isinstance(error, mp.MappingError):
        return error.ko, error.en
    return error_text(error)


class ImportPreviewDialog(QDialog):
    """What an import would do: how many rows are good, which rows are not and why; apply or cancel."""

    def __init__(self, preview: mp.ImportPreview, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.preview = preview
        self.setWindowTitle("엑셀 가져오기 미리보기 / Import preview")
        self.resize(1000, 620)
        p = preview
        changed_rows = sum(len(c.components) for c in p.changes)
        lines = [
            f"<b>{p.file_name}</b>",
            f"읽은 행 {p.rows_read}개 / {p.rows_read} rows read",
            f"가져올 수 있는 행 {len(p.valid)}개 / {len(p.valid)} valid rows",
            f"바뀌는 상품 {len(p.changes)}개 ({changed_rows}행) · 이미 같은 상품 {p.unchanged}개 / "
            f"{len(p.changes)} products change ({changed_rows} rows) · {p.unchanged} already the same",
        ]
        if p.skipped_unlinked:
            lines.append(f"SKU와 수량이 빈 행 {p.skipped_unlinked}개는 건너뜁니다 / "
                         f"{p.skipped_unlinked} rows without SKU and quantity are skipped")
        self.summary = QLabel("<br>".join(lines), objectName="importSummary")
        self.summary.setTextFormat(Qt.TextFormat.RichText)
        self.summary.setWordWrap(True)
        n_err = len(p.error_rows)
        self.error_title = QLabel(
            f"오류가 있는 행 {n_err}개 — 이 행들은 가져오지 않습니다 / {n_err} rows with errors — not imported"
            if n_err else "오류 없음 / No errors", objectName="importErrorTitle")
        self.error_title.setStyleSheet(LEVEL_STYLE["error" if n_err else "success"])
        self.errors = QTableWidget(len(p.errors), 3)
        self.errors.setHorizontalHeaderLabels(["행 / Row", "사유", "Reason"])
        self.errors.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.errors.verticalHeader().setVisible(False)
        for i, e in enumerate(p.errors):
            for col, text in enumerate((str(e.row), e.ko, e.en)):
                self.errors.setItem(i, col, QTableWidgetItem(text))
        head = self.errors.horizontalHeader()
        head.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        head.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        head.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.errors.setVisible(bool(p.errors))
        self.apply_button = QPushButton(f"가져오기 적용 ({len(p.changes)}개 상품) / Apply ({len(p.changes)} products)",
                                        objectName="applyImport")
        self.apply_button.setEnabled(bool(p.changes))
        self.apply_button.clicked.connect(self.accept)
        self.cancel_button = QPushButton("취소 / Cancel", objectName="cancelImport")
        self.cancel_button.clicked.connect(self.reject)
        for b in (self.apply_button, self.cancel_button):
            b.setAutoDefault(False)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.apply_button)
        buttons.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.error_title)
        layout.addWidget(self.errors, 1)
        layout.addLayout(buttons)
        self.setStyleSheet(STYLE)


class MappingView(QDialog):
    """상품 연결 / Product links."""

    products_loaded = Signal(int)        # rows now in the table
    items_found = Signal(int)            # rows in the item picker
    link_saved = Signal(int)             # sales product id
    link_removed = Signal(int)
    marked_seen = Signal(int)
    exported = Signal(str, int)          # path, rows
    import_previewed = Signal(object)    # mp.ImportPreview
    import_applied = Signal(int)         # products relinked
    refused = Signal(str)                # an error code, after it is on screen
    _from_thread = Signal(object)

    def __init__(self, db: Database, worker: DbWorker | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.db = db
        self._poster: MainThreadPoster | None = None
        if worker is None:  # standalone (tests, a tool): a database thread of our own
            self._poster = MainThreadPoster(self)
            worker = DbWorker(db, self._poster.post)
            self._own_worker = True
        else:
            self._own_worker = False
        self.worker = worker
        self._closed = False
        self._pending = 0
        self._generation = 0
        self._current: mp.SalesProductRow | None = None
        self.draft: list[DraftComponent] = []
        self._dirty = False
        self._found: list[mp.ItemRow] = []
        self.preview_dialog: ImportPreviewDialog | None = None
        self._from_thread.connect(lambda fn: fn(), Qt.ConnectionType.QueuedConnection)

        self.setWindowTitle("상품 연결 / Product links")
        avail = self.screen().availableGeometry()  # a station PC may have a 1366x768 screen
        self.resize(min(1560, int(avail.width() * 0.95)), min(920, int(avail.height() * 0.92)))
        self.setStyleSheet(STYLE)
        self._build()
        self._refresh_detail()
        self._load_accounts_and_products()

    # ------------------------------------------------------------------ layout

    def _build(self) -> None:
        title = QLabel("상품 연결 / Product links", objectName="mappingTitle")
        hint = QLabel("판매상품마다 포장할 출고상품과 수량을 연결하세요. 연결이 없는 상품은 포장할 수 없습니다. / "
                      "Link each sales product to the items packed for it; unlinked products cannot be packed.")
        hint.setWordWrap(True)

        self.account_combo = QComboBox(objectName="accountFilter")
        self.account_combo.addItem("전체 계정 / All accounts", None)
        self.state_combo = QComboBox(objectName="stateFilter")
        for text, state in STATES:
            self.state_combo.addItem(text, state.value)
        self.new_only = QCheckBox("신규만 / New only", objectName="newOnly")
        self.search = QLineEdit(objectName="productSearch")
        self.search.setPlaceholderText("상품명 · 상품코드 검색 / Search name or code")
        self.search.setClearButtonEnabled(True)
        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(250)
        self._search_timer.timeout.connect(self.reload)
        self.account_combo.currentIndexChanged.connect(lambda _: self.reload())
        self.state_combo.currentIndexChanged.connect(lambda _: self.reload())
        self.new_only.toggled.connect(lambda _: self.reload())
        self.search.textChanged.connect(lambda _: self._search_timer.start())
        self.search.returnPressed.connect(self.reload)
        filters = QHBoxLayout()
        for label, w in (("계정 / Account", self.account_combo), ("상태 / State", self.state_combo)):
            filters.addWidget(QLabel(label))
            filters.addWidget(w)
        filters.addWidget(self.new_only)
        filters.addStretch(1)
        self.counts = QLabel(objectName="productCounts")

        self.model = ProductTableModel()
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setSortRole(SORT_ROLE)
        self.table = QTableView(objectName="productTable")
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setWordWrap(False)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(36)
        head = self.table.horizontalHeader()
        head.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        for col, width in enumerate((170, 96, 190, 150, 260, 150, 260, 200)):
            self.table.setColumnWidth(col, width)
        head.setStretchLastSection(True)
        self.table.selectionModel().currentRowChanged.connect(self._current_row_changed)

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
        splitter.setSizes([960, 560])

        self.message = QLabel(objectName="mappingMessage")
        self.message.setWordWrap(True)
        self.busy_label = QLabel("", objectName="busyLabel")
        self.include_unlinked = QCheckBox("미연결 상품도 내보내기 / Include unlinked products",
                                          objectName="includeUnlinked")
        self.include_unlinked.setChecked(True)
        self.export_button = QPushButton("엑셀 내보내기 / Export to Excel", objectName="exportExcel")
        self.import_button = QPushButton("엑셀 가져오기 / Import from Excel", objectName="importExcel")
        self.close_button = QPushButton("닫기 / Close", objectName="closeMapping")
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
        self.detail_sub = QLabel(objectName="detailSub")
        self.detail_sub.setWordWrap(True)
        self.detail_state = QLabel(objectName="detailState")
        v.addWidget(self.detail_title)
        v.addWidget(self.detail_sub)
        v.addWidget(self.detail_state)

        comp_box = QGroupBox("판매 1개당 포장할 출고상품 / Items packed per unit sold")
        cv = QVBoxLayout(comp_box)
        self.components = QTableWidget(0, 3, objectName="componentTable")
        self.components.setHorizontalHeaderLabels(["SKU", "출고상품 / Item", "수량 / Qty"])
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
        self.remove_button = QPushButton("선택 항목 빼기 / Remove item", objectName="removeComponent")
        self.remove_button.clicked.connect(self.remove_selected_component)
        self.dirty_label = QLabel("", objectName="dirtyLabel")
        row = QHBoxLayout()
        row.addWidget(self.remove_button)
        row.addWidget(self.dirty_label, 1)
        cv.addWidget(self.components, 1)
        cv.addLayout(row)
        v.addWidget(comp_box, 2)

        pick_box = QGroupBox("출고상품 찾기 / Find an item")
        pv = QVBoxLayout(pick_box)
        self.item_search = QLineEdit(objectName="itemSearch")
        self.item_search.setPlaceholderText("SKU · 상품명 · 바코드 / SKU, name or barcode")
        self.item_search.setClearButtonEnabled(True)
        self._item_timer = QTimer(self)
        self._item_timer.setSingleShot(True)
        self._item_timer.setInterval(200)
        self._item_timer.timeout.connect(self.search_items)
        self.item_search.textChanged.connect(lambda _: self._item_timer.start())
        self.item_search.returnPressed.connect(self.search_items)
        self.item_results = QTableWidget(0, 4, objectName="itemResults")
        self.item_results.setHorizontalHeaderLabels(["SKU", "상품명 / Name", "옵션 / Option", "바코드 / Barcode"])
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
        self.add_button = QPushButton("추가 / Add", objectName="addComponent")
        self.add_button.clicked.connect(self.add_selected_item)
        add_row = QHBoxLayout()
        add_row.addWidget(QLabel("수량 / Qty"))
        add_row.addWidget(self.quantity)
        add_row.addWidget(self.add_button)
        add_row.addStretch(1)
        pv.addWidget(self.item_search)
        pv.addWidget(self.item_results, 1)
        pv.addLayout(add_row)
        v.addWidget(pick_box, 2)

        self.save_button = QPushButton("연결 저장 / Save link", objectName="saveLink")
        self.unlink_button = QPushButton("연결 해제 / Unlink", objectName="unlink")
        self.seen_button = QPushButton("확인함 표시 / Mark as seen", objectName="markSeen")
        self.save_button.clicked.connect(self.save_link)
        self.unlink_button.clicked.connect(self.unlink_current)
        self.seen_button.clicked.connect(self.mark_selected_seen)
        actions = QHBoxLayout()
        actions.addWidget(self.save_button)
        actions.addWidget(self.unlink_button)
        actions.addStretch(1)
        actions.addWidget(self.seen_button)
        v.addLayout(actions)
        return box

    # ------------------------------------------------------------------ background work

    @property
    def busy(self) -> bool:
        return self._pending > 0

    def _started(self) -> None:
        self._pending += 1
        self.busy_label.setText("작업 중… / Working…")

    def _finish(self, done: Callable[[Any], None], result: Any) -> None:
        self._pending -= 1
        if self._closed:
            return
        if self._pending == 0:
            self.busy_label.setText("")
        if isinstance(result, _Refused):
            self._show_refusal(result.error)
        else:
            done(result)
        self._update_buttons()

    def _db(self, job: Callable[[Session], Any], done: Callable[[Any], None]) -> None:
        """On the database thread, in order with everything else written there. Bad input comes back as
        a refusal (rolled back, nothing written); anything else is a bug the worker logs."""
        def guarded(s: Session) -> Any:
            try:
                return job(s)
            except KnownError as e:
                s.rollback()
                return _Refused(e)

        self._started()
        self.worker.submit(guarded, on_done=lambda r: self._finish(done, r),
                           on_error=lambda e: self._finish(done, _Refused(KnownError("error", detail=repr(e)))))

    def _in_thread(self, name: str, job: Callable[[], Any], done: Callable[[Any], None]) -> None:
        """File work (openpyxl) off the UI thread; it opens its own short read session when it needs one."""
        self._started()

        def run() -> None:
            try:
                result = job()
            except KnownError as e:
                result = _Refused(e)
            except Exception as e:
                log.exception("%s failed", name)
                result = _Refused(KnownError("error", detail=repr(e)))
            with contextlib.suppress(RuntimeError):  # the screen was closed and deleted meanwhile
                self._from_thread.emit(lambda: self._finish(done, result))

        threading.Thread(target=run, name=f"packdesk-{name}", daemon=True).start()

    # ------------------------------------------------------------------ list

    def product_filter(self) -> mp.ProductFilter:
        return mp.ProductFilter(account_id=self.account_combo.currentData(),
                                state=mp.LinkState(self.state_combo.currentData()),
                                text=self.search.text(), new_only=self.new_only.isChecked())

    def _load_accounts_and_products(self) -> None:
        f = self.product_filter()
        self._generation += 1
        gen = self._generation
        self._db(lambda s: (mp.list_accounts(s), mp.list_sales_products(s, f)),
                 lambda res: self._accounts_and_products_loaded(gen, *res))

    def _accounts_and_products_loaded(self, gen: int, accounts: list[mp.Account],
                                      rows: list[mp.SalesProductRow]) -> None:
        current = self.account_combo.currentData()
        self.account_combo.blockSignals(True)
        self.account_combo.clear()
        self.account_combo.addItem("전체 계정 / All accounts", None)
        for a in accounts:
            self.account_combo.addItem(a.name, a.id)
        self.account_combo.setCurrentIndex(max(0, self.account_combo.findData(current)))
        self.account_combo.blockSignals(False)
        self.table.setColumnHidden(ProductTableModel.ACCOUNT_COLUMN, len(accounts) <= 1)  # one shop: say it once
        self._products_loaded(gen, rows)

    def reload(self) -> None:
        """Ask for the list again with the filters as they are now; older answers are dropped."""
        self._search_timer.stop()
        f = self.product_filter()
        self._generation += 1
        gen = self._generation
        self._db(lambda s: mp.list_sales_products(s, f), lambda rows: self._products_loaded(gen, rows))

    def _products_loaded(self, gen: int, rows: list[mp.SalesProductRow]) -> None:
        if gen != self._generation:
            return
        keep = self._current.id if self._current is not None else None
        self.model.set_rows(rows)
        unlinked = sum(not r.linked for r in rows)
        new = sum(r.is_new for r in rows)
        self.counts.setText(f"{len(rows)}개 · 미연결 {unlinked}개 · 신규 {new}개 / "
                            f"{len(rows)} shown · {unlinked} not linked · {new} new")
        self.counts.setStyleSheet(LEVEL_STYLE["error"] if unlinked else "")
        if keep is not None:
            fresh = next((r for r in rows if r.id == keep), None)
            if fresh is not None:
                self._select_id(keep)
                if not self._dirty:
                    self._show_product(fresh)
        self.products_loaded.emit(len(rows))

    def _select_id(self, product_id: int) -> None:
        for row in range(self.proxy.rowCount()):
            idx = self.proxy.index(row, 0)
            if idx.data(ID_ROLE) == product_id:
                self.table.selectionModel().blockSignals(True)
                self.table.selectionModel().setCurrentIndex(
                    idx, QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows)
                self.table.selectionModel().blockSignals(False)
                self.table.scrollTo(idx)
                return

    def _current_row_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if not current.isValid():
            return
        row = self.model.rows[self.proxy.mapToSource(current).row()]
        if self._current is None or row.id != self._current.id:
            if self._dirty and self._current is not None:
                self.show_message("info", f"저장하지 않은 변경을 버렸습니다: {self._current.product_name} / "
                                          f"Unsaved changes discarded: {self._current.product_name}")
            self._show_product(row)

    def row_for(self, product_code: str, option_code: str = "") -> int | None:
        """The table row (as shown, after sorting) of a product; for tests and the keyboard."""
        for row in range(self.proxy.rowCount()):
            r = self.model.rows[self.proxy.mapToSource(self.proxy.index(row, 0)).row()]
            if (r.product_code, r.option_code) == (product_code, option_code):
                return row
        return None

    def selected_ids(self) -> list[int]:
        rows = {i.row() for i in self.table.selectionModel().selectedRows()}
        return [self.proxy.index(r, 0).data(ID_ROLE) for r in sorted(rows)]

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
            self.detail_title.setText("왼쪽 목록에서 상품을 고르세요 / Pick a product on the left")
            self.detail_sub.setText("")
            self.detail_state.setText("")
        else:
            self.detail_title.setText(f"{r.product_name} {r.option_name}".strip() or r.product_code)
            self.detail_sub.setText(f"{r.account_name} · 상품코드 / Product code {r.product_code}"
                                    + (f" · 옵션코드 / Option code {r.option_code}" if r.option_code else ""))
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
        self.dirty_label.setText("저장하지 않은 변경이 있습니다 / Unsaved changes" if self._dirty else "")
        self._update_buttons()

    def draft_texts(self) -> list[tuple[str, int]]:
        return [(d.sku, d.quantity) for d in self.draft]

    def _set_dirty(self) -> None:
        self._dirty = True
        self.dirty_label.setText("저장하지 않은 변경이 있습니다 / Unsaved changes")
        self._update_buttons()

    def _quantity_changed(self, d: DraftComponent, value: int) -> None:
        d.quantity = value
        self._set_dirty()

    def _update_buttons(self) -> None:
        has = self._current is not None
        self.save_button.setEnabled(has and self._dirty)
        self.unlink_button.setEnabled(has and self._current is not None and self._current.linked)
        self.remove_button.setEnabled(has and bool(self.components.selectedItems()))
        self.add_button.setEnabled(has and bool(self.item_results.selectedItems()))
        self.seen_button.setEnabled(bool(self.selected_ids()) or has)
        files_busy = self._pending > 0
        self.export_button.setEnabled(not files_busy)
        self.import_button.setEnabled(not files_busy)

    def remove_selected_component(self) -> None:
        rows = sorted({i.row() for i in self.components.selectedIndexes()}, reverse=True)
        for r in rows:
            del self.draft[r]
        if rows:
            self._set_dirty()
            self._render_draft()

    # ------------------------------------------------------------------ item picker

    def search_items(self) -> None:
        self._item_timer.stop()
        text = self.item_search.text()
        self._db(lambda s: mp.find_items(s, text), lambda items: self._items_found(text, items))

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
        self.show_message("info", f"추가: {it.sku} ×{qty} — 저장을 누르세요 / Added {it.sku} ×{qty} — press Save")

    # ------------------------------------------------------------------ writes

    def save_link(self) -> None:
        r = self._current
        if r is None:
            return
        components = [(d.item_id, d.quantity) for d in self.draft]
        self._db(lambda s: mp.link(s, r.id, components), self._saved)

    def _saved(self, row: mp.SalesProductRow) -> None:
        self._show_product(row)
        self.show_message("success", f"연결 저장됨: {row.product_name} → {_components_text(row.components)} / "
                                     f"Link saved")
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
        self.show_message("info", "연결을 해제했습니다 — 저장을 누르면 되돌립니다 / "
                                  "Link removed — press Save to put it back")
        self.link_removed.emit(row.id)
        self.reload()

    def mark_selected_seen(self) -> None:
        ids = self.selected_ids() or ([self._current.id] if self._current else [])
        self._db(lambda s: mp.mark_seen(s, ids), self._seen)

    def _seen(self, n: int) -> None:
        self.show_message("info", f"{n}개 상품을 확인함으로 표시했습니다 / Marked {n} product(s) as seen")
        self.marked_seen.emit(n)
        self.reload()

    # ------------------------------------------------------------------ Excel

    def _export_clicked(self) -> None:
        name = f"packdesk-상품연결-{datetime.now():%Y%m%d}.xlsx"
        path, _ = QFileDialog.getSaveFileName(self, "엑셀 내보내기 / Export to Excel", name, "Excel (*.xlsx)")
        if path:
            self.export_to(Path(path))

    def export_to(self, path: Path) -> None:
        if path.suffix.lower() != ".xlsx":
            path = path.with_name(path.name + ".xlsx")
        include = self.include_unlinked.isChecked()

        def job() -> int:
            with self.db.session() as s:
                return mp.export_mappings(s, path, include_unlinked=include)

        self._in_thread("mapping-export", job, lambda n: self._exported(path, n))

    def _exported(self, path: Path, rows: int) -> None:
        self.show_message("success", f"{rows}행을 저장했습니다 / Saved {rows} rows: {path}")
        self.exported.emit(str(path), rows)

    def _import_clicked(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "엑셀 가져오기 / Import from Excel", "",
                                              "Excel (*.xlsx);;모든 파일 / All files (*)")
        if path:
            self.import_from(Path(path))

    def import_from(self, path: Path) -> None:
        """Read and check the file off the UI thread, then show the preview; nothing is written yet."""
        def job() -> mp.ImportPreview:
            with self.db.session() as s:
                return mp.preview_import(s, path)

        self.show_message("info", f"읽는 중: {path.name} / Reading {path.name}…")
        self._in_thread("mapping-import", job, self._show_preview)

    def _show_preview(self, preview: mp.ImportPreview) -> None:
        self.show_message("info", f"미리보기: {preview.file_name} — 적용하거나 취소하세요 / "
                                  f"Preview of {preview.file_name} — apply or cancel")
        dialog = ImportPreviewDialog(preview, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: self.apply_preview(preview))
        dialog.rejected.connect(lambda: self.show_message("info", "가져오기를 취소했습니다 / Import cancelled"))
        dialog.destroyed.connect(lambda *_: setattr(self, "preview_dialog", None))
        self.preview_dialog = dialog
        dialog.open()
        self.import_previewed.emit(preview)

    def apply_preview(self, preview: mp.ImportPreview) -> None:
        self._db(lambda s: mp.apply_import(s, preview), self._import_done)

    def _import_done(self, result: mp.ImportResult) -> None:
        self.show_message("success", f"{result.products}개 상품의 연결을 가져왔습니다 ({result.rows}행) / "
                                     f"Imported the links of {result.products} product(s) ({result.rows} rows)")
        self.import_applied.emit(result.products)
        self._load_accounts_and_products()

    # ------------------------------------------------------------------ messages, closing

    def show_message(self, level: str, text: str) -> None:
        self.message.setText(text)
        self.message.setProperty("level", level)
        self.message.setStyleSheet(LEVEL_STYLE[level])

    def _show_refusal(self, error: KnownError) -> None:
        ko, en = refusal_text(error)
        self.show_message("error", f"{ko} / {en}")
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
