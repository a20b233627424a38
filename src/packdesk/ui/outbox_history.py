"""The outbox's history tab: what was sent to the marketplaces — when (Korea time), which tracking number with
which courier, for which market, account and order, what the marketplace's answer was as far as it is kept,
and after how many tries — searchable by tracking or order number, a page at a time (``services/
dispatch_history.py``). A supervisor asked "did 6888… reach the marketplace?" types the number and sees it.

Reads run as background ops (``ui/ops.py``) on a read session of their own: the station never waits on it.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
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

from packdesk.channels import registry
from packdesk.core.db import Database
from packdesk.core.errors import KnownError
from packdesk.core.kst import kst_text
from packdesk.services.dispatch_history import PAGE, SentEntry, sent_history
from packdesk.ui import ops
from packdesk.ui.i18n import both, tr
from packdesk.ui.orders_view import courier_text

COLUMNS = ("전송 시각 (한국 시간) / Sent (Korea time)", "송장번호 / Tracking no.", "택배사 / Courier",
           "마켓 / Market", "계정 / Account", "주문번호 / Order", "상품주문번호 / Product order", "상품 / Product",
           "마켓 응답 / Marketplace reply", "시도 / Tries")
ACCEPTED = "접수됨 / Accepted"
CONFIRMED_FIRST = "접수됨 (발주확인 먼저 처리) / Accepted (order confirmed first)"


def market_text(kind: str) -> str:
    """The market's name in the screen's language (its registry label); an unregistered kind as stored."""
    market = registry.market(kind)
    return tr(market.label) if market is not None else kind


class SentHistory(QWidget):
    loaded = Signal()  # a page is on screen (or its read failed, said under the table)

    def __init__(self, db: Database, parent: QWidget | None = None, *, page_size: int = PAGE) -> None:
        super().__init__(parent)
        self.db = db
        self.page_size = page_size
        self.offset = 0
        self.rows: list[SentEntry] = []
        self._query = ""
        self._has_more = False
        self._latest = 0  # the read whose answer is shown; an earlier one answering late is dropped
        self.search_edit = QLineEdit(objectName="historySearch")
        self.search_edit.setPlaceholderText(tr("송장번호 또는 주문번호 / Tracking or order number"))
        self.search_edit.setMaxLength(60)
        self.search_edit.returnPressed.connect(self.search)
        search_button = QPushButton(tr("찾기 / Search"), objectName="historyFind")
        search_button.clicked.connect(self.search)
        search_button.setAutoDefault(False)  # Enter in the box searches once, not again through the dialog
        self.table = QTableWidget(0, len(COLUMNS), objectName="historyTable")
        self.table.setHorizontalHeaderLabels([tr(c) for c in COLUMNS])
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.verticalHeader().setVisible(False)
        self.newer_button = QPushButton(tr("◀ 최근 / Newer"), objectName="historyNewer")
        self.newer_button.clicked.connect(lambda: self._read(max(0, self.offset - self.page_size)))
        self.older_button = QPushButton(tr("이전 기록 ▶ / Older ▶"), objectName="historyOlder")
        self.older_button.clicked.connect(lambda: self._read(self.offset + self.page_size))
        for b in (self.newer_button, self.older_button):
            b.setAutoDefault(False)
        self.page_label = QLabel(objectName="historyPage")
        self.message = QLabel(objectName="historyMessage")
        self.message.setWordWrap(True)
        top = QHBoxLayout()
        top.addWidget(self.search_edit, 1)
        top.addWidget(search_button)
        pages = QHBoxLayout()
        pages.addWidget(self.newer_button)
        pages.addWidget(self.page_label)
        pages.addWidget(self.older_button)
        pages.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)
        layout.addLayout(pages)
        layout.addWidget(self.message)
        self._show_paging()

    def search(self) -> None:
        """The first page of what matches the search box (everything sent, when it is empty)."""
        self._query = self.search_edit.text()
        self._read(0)

    def reload(self) -> None:
        self._read(self.offset)

    def _read(self, offset: int) -> None:
        query, size = self._query, self.page_size
        for b in (self.newer_button, self.older_button):
            b.setEnabled(False)
        self._latest += 1
        this = self._latest
        ops.read(self, "outbox-history", self.db, lambda s: sent_history(s, query, limit=size + 1, offset=offset),
                 lambda rows: self._show(offset, rows) if this == self._latest else None,
                 lambda e: self._failed(e) if this == self._latest else None)

    def _show(self, offset: int, rows: list[SentEntry]) -> None:
        self.offset = offset
        self._has_more = len(rows) > self.page_size
        self.rows = rows[:self.page_size]
        self.table.setRowCount(len(self.rows))
        for row, e in enumerate(self.rows):
            cells = (kst_text(e.sent_at), e.tracking_number, courier_text(e.courier_code), market_text(e.account_kind),
                     e.account, e.order_no, e.product_order_id, e.product_name,
                     tr(CONFIRMED_FIRST if e.confirmed_first else ACCEPTED), str(e.attempts))
            for col, text in enumerate(cells):
                self.table.setItem(row, col, QTableWidgetItem(text))
        if self.rows:
            self.message.setText("")
        elif self._query.strip():
            q = self._query.strip()
            self.message.setText(both(f"'{q}'(으)로 전송된 기록이 없습니다", f"Nothing sent matches '{q}'"))
        else:
            self.message.setText(tr("아직 전송된 송장이 없습니다 / Nothing has been sent yet"))
        self._show_paging()
        self.loaded.emit()

    def _failed(self, e: KnownError) -> None:
        self.message.setText(both("기록을 읽지 못했습니다", f"Could not read the history: {ops.kind(e)}"))
        self._show_paging()
        self.loaded.emit()

    def _show_paging(self) -> None:
        first, last = self.offset + 1, self.offset + len(self.rows)
        self.page_label.setText(f"{first}–{last}" if self.rows else "")
        self.newer_button.setEnabled(self.offset > 0)
        self.older_button.setEnabled(self._has_more)
