"""반품 예정 / Expected returns: the returns and exchanges the marketplaces told of, for a supervisor to see what
is coming back (read-only; collected with each order collection, ``services/returns_expected.py``).

Opened from the orders window. The list is read on a thread of its own; the search box (or a scan while the
dialog is active) finds one by what the returns desk holds: the pickup label, the original label, the order
number, a product order. Statuses are the marketplace's, in words (``core/words/expected_returns.py``); times
in Korea time.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from packdesk.core import words
from packdesk.core.db import Database
from packdesk.core.errors import KnownError
from packdesk.core.kst import kst_text
from packdesk.services.returns_expected import ExpectedReturnView, find_expected_return, list_expected_returns
from packdesk.ui import ops
from packdesk.ui.i18n import both, plural, tr
from packdesk.ui.levels import show_level
from packdesk.ui.messages import error_message

COLUMNS = ("요청 / Requested", "계정 / Account", "유형 / Type", "상태 / Status", "주문번호 / Order no.",
           "상품 / Items", "회수 송장 / Return waybill", "원 송장 / Original waybill", "사유 / Reason",
           "수집 / Collected")
MINUTE = "%Y-%m-%d %H:%M"
MATCHED = {"return_waybill": "회수 송장 / return waybill", "original_waybill": "원 송장 / original waybill",
           "order_no": "주문번호 / order number", "product_order_id": "상품주문번호 / product order"}


def status_text(value: str) -> str:
    """A marketplace's return status (or claim type) in words; a word we have none for as it came."""
    ko, en = words.label(words.MARKET, value)
    return value if ko == en else both(ko, en)


def items_text(view: ExpectedReturnView) -> str:
    """What comes back: each line's product (its option) × quantity; a line not collected here by its id."""
    parts = []
    for ln in view.lines:
        name = words.item_words(ln.product_name, ln.option_name) if ln.product_name else ln.product_order_id
        parts.append(f"{name} × {ln.quantity}")
    return ", ".join(parts)


class ExpectedReturnsDialog(QDialog):
    """반품 예정 / Expected returns (read-only)."""

    loaded = Signal(int)          # rows shown
    found = Signal(object)        # the ExpectedReturnView a search found, or None
    refused = Signal(str)

    def __init__(self, db: Database, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.db = db
        self.rows: list[ExpectedReturnView] = []
        self._closed = False
        self.setWindowTitle(tr("반품 예정 / Expected returns"))
        self.resize(1300, 640)
        self._build()
        self.refresh()

    def _build(self) -> None:
        intro = QLabel(tr("마켓에서 수집한 반품·교환입니다 (주문 수집 때 함께 수집) / Returns and exchanges "
                          "collected from the marketplaces (with each order collection)"))
        intro.setWordWrap(True)
        self.search_edit = QLineEdit(objectName="returnSearch")
        self.search_edit.setPlaceholderText(tr("회수 송장·원 송장·주문번호 (스캔해도 됩니다) / return waybill, "
                                               "original waybill or order no. (or scan it)"))
        self.search_edit.returnPressed.connect(self.find_code)
        self.find_button = QPushButton(tr("찾기 / Find"), objectName="findReturn")
        self.find_button.clicked.connect(self.find_code)
        self.open_only = QCheckBox(tr("진행 중인 것만 / Only those still open"), objectName="returnsOpenOnly")
        self.open_only.setChecked(True)
        self.open_only.toggled.connect(lambda _: self.refresh())
        self.refresh_button = QPushButton(tr("새로 고침 / Refresh"), objectName="refreshReturns")
        self.refresh_button.clicked.connect(self.refresh)
        top = QHBoxLayout()
        top.addWidget(self.search_edit, 1)
        top.addWidget(self.find_button)
        top.addSpacing(16)
        top.addWidget(self.open_only)
        top.addWidget(self.refresh_button)
        self.table = QTableWidget(0, len(COLUMNS), objectName="returnsTable")
        self.table.setHorizontalHeaderLabels([tr(c) for c in COLUMNS])
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.setTextElideMode(Qt.TextElideMode.ElideNone)
        self.message = QLabel("", objectName="returnsMessage")
        self.message.setWordWrap(True)
        self.close_button = QPushButton(tr("닫기 / Close"), objectName="closeReturns")
        self.close_button.clicked.connect(self.close)
        bottom = QHBoxLayout()
        bottom.addWidget(self.message, 1)
        bottom.addWidget(self.close_button)
        lay = QVBoxLayout(self)
        lay.addWidget(intro)
        lay.addLayout(top)
        lay.addWidget(self.table, 1)
        lay.addLayout(bottom)

    def refresh(self) -> None:
        open_only = self.open_only.isChecked()
        ops.read(self, "expected-returns", self.db, lambda s: list_expected_returns(s, open_only=open_only),
                 self._loaded, self._refused)

    def take_scan(self, code: str) -> None:
        """A scan while this dialog is active (``app.py`` routes it here, not to the orders window behind it): a
        pickup label, an original label or an order number is looked up, as Enter in the search box would."""
        self.search_edit.setText(code)
        self.find_code()

    def find_code(self) -> None:
        """The expected return the typed or scanned code names, selected in the list (shown alone if the list
        does not hold it)."""
        code = self.search_edit.text()
        if not code.strip():
            return
        ops.read(self, "expected-return-find", self.db, lambda s: find_expected_return(s, code),
                 self._found, self._refused)

    def _loaded(self, rows: list[ExpectedReturnView]) -> None:
        if self._closed:
            return
        self._show(rows)
        show_level(self.message, "info", both(f"반품·교환 {len(rows)}건", plural(len(rows), "return or exchange",
                                                                                "returns and exchanges")))
        self.loaded.emit(len(rows))

    def _found(self, view: ExpectedReturnView | None) -> None:
        if self._closed:
            return
        code = self.search_edit.text().strip()
        if view is None:
            show_level(self.message, "error", both(f"반품 예정에 없습니다: {code}", f"No expected return: {code}"))
        else:
            if all(r.id != view.id for r in self.rows):
                self._show([view])
            row = next(i for i, r in enumerate(self.rows) if r.id == view.id)
            self.table.selectRow(row)
            how = tr(MATCHED.get(view.matched_by, view.matched_by))
            show_level(self.message, "success", both(f"찾음 ({how}): {view.order_no}",
                                                     f"Found by {how}: {view.order_no}"))
        self.found.emit(view)

    def _refused(self, error: KnownError) -> None:
        if self._closed:
            return
        show_level(self.message, "error", error_message(error))
        self.refused.emit(error.code)

    def _show(self, rows: list[ExpectedReturnView]) -> None:
        self.rows = rows
        self.table.setRowCount(len(rows))
        for i, r in enumerate(rows):
            reason = " — ".join(p for p in (r.reason_code, r.reason_text) if p)
            courier = f" ({r.courier_code})" if r.courier_code and r.tracking_number else ""
            cells = (kst_text(r.requested_at, MINUTE), r.account, status_text(r.claim_type.upper()),
                     status_text(r.status), r.order_no, items_text(r), r.tracking_number + courier,
                     ", ".join(r.original_tracking), reason, kst_text(r.collected_at, MINUTE))
            for col, text in enumerate(cells):
                self.table.setItem(i, col, QTableWidgetItem(text))

    def done(self, result: int) -> None:
        self._closed = True
        super().done(result)

    def closeEvent(self, event: QCloseEvent) -> None:
        self._closed = True
        super().closeEvent(event)
