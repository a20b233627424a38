"""The dispatch outbox for a supervisor: what waits to be sent, what the marketplace refused (in its own
words), what is held because the line was cancelled after packing (pull that parcel), and what was
marked handled elsewhere; and the history of what was sent (``ui/outbox_history.py``). A refused entry can be
fixed (a courier chosen from the list, stored as its code) and resent; any open entry can be marked handled
elsewhere.

Reads and writes run as background ops (``ui/ops.py``): the station never waits on this screen.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QBrush, QColor, QHideEvent, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from packdesk.core import couriers, words
from packdesk.core.enums import OutboxState
from packdesk.core.errors import KnownError
from packdesk.core.kst import kst_text
from packdesk.services.dispatch import OutboxEntry, Uploader
from packdesk.ui import ops
from packdesk.ui.cells import item_at
from packdesk.ui.i18n import both, tr, two_lines
from packdesk.ui.messages import error_message
from packdesk.ui.orders_view import courier_text
from packdesk.ui.outbox_history import SentHistory

# (key, tab title, states shown)
TABS: tuple[tuple[str, str, tuple[OutboxState, ...]], ...] = (
    ("waiting", "전송 대기 / Waiting", (OutboxState.PENDING, OutboxState.SENDING)),
    ("rejected", "거부됨 / Rejected", (OutboxState.REJECTED,)),
    ("held", "보류 — 취소된 주문 / Held — cancelled", (OutboxState.HELD,)),
    ("handled", "다른 곳에서 처리됨 / Handled elsewhere", (OutboxState.HANDLED,)),
)
COLUMNS = ("주문번호 / Order", "상품주문번호 / Product order", "상품 / Product", "택배사 / Courier",
           "송장번호 / Tracking no.", "상태 / State", "시도 / Tries", "다음 시도 / Next try",
           "마켓 메시지 / Marketplace says", "계정 / Account", "갱신 / Updated")
STATE_TEXT = {
    OutboxState.PENDING: "대기 / waiting",
    OutboxState.SENDING: "전송 중 / sending",
    OutboxState.SENT: "전송됨 / sent",
    OutboxState.REJECTED: "거부됨 / rejected",
    OutboxState.HELD: "보류 / held",
    OutboxState.HANDLED: "처리됨 / handled",
}
SHORT_TIME = "%m-%d %H:%M:%S"
REJECTED_BG, HELD_BG = QColor("#ffebee"), QColor("#fff3e0")


def reason_text(code: str, message: str) -> str:
    """Korean first, then English; a marketplace's code with its message as it gave it."""
    if not code:
        return message
    if words.known(code):  # ours (core/words); a marketplace's code comes with its own words
        return error_message(KnownError(code, message=message))
    return f"[{code}] {message}".strip()


class OutboxView(QDialog):
    refreshed = Signal()        # the lists were read anew
    action_done = Signal(str)   # "resend" / "handled", after it is stored and the lists re-read
    action_failed = Signal(str)

    def __init__(self, uploader: Uploader, operator: str, parent: QWidget | None = None, *,
                 refresh_ms: int = 3000) -> None:
        super().__init__(parent)
        self.setWindowTitle(tr("발송 대기함 / Dispatch outbox"))
        self.resize(1280, 640)
        self.setStyleSheet("QWidget { font-size: 15px; }")
        self.uploader = uploader
        self.operator = operator
        self.entries: dict[str, list[OutboxEntry]] = {key: [] for key, _, _ in TABS}

        self.tabs = QTabWidget(objectName="outboxTabs")
        self.tables: dict[str, QTableWidget] = {}
        for key, title, _ in TABS:
            table = QTableWidget(0, len(COLUMNS), objectName=f"outbox_{key}")
            table.setHorizontalHeaderLabels([tr(c) for c in COLUMNS])
            table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
            table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
            table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
            table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
            table.horizontalHeader().setStretchLastSection(True)
            table.verticalHeader().setVisible(False)
            table.itemSelectionChanged.connect(self._selection_changed)
            self.tables[key] = table
            self.tabs.addTab(table, tr(title))
        self.history = SentHistory(uploader.db)
        self.tabs.addTab(self.history, tr("전송 기록 / Sent"))
        self.tabs.currentChanged.connect(self._tab_changed)

        self.summary = QLabel(objectName="outboxSummary")
        self.courier_combo = QComboBox(objectName="outboxCourier")
        self.courier_combo.addItem(tr("택배사 선택 / Choose a courier"), "")
        for c in couriers.COURIERS:
            self.courier_combo.addItem(courier_text(c.code), c.code)
        self.note_edit = QLineEdit(objectName="outboxNote")
        self.note_edit.setPlaceholderText(tr("메모 (선택) / note (optional)"))
        self.note_edit.setMaxLength(40)
        self.resend_button = QPushButton(tr("이 택배사로 다시 전송 / Resend with this courier"),
                                         objectName="outboxResend")
        self.resend_button.clicked.connect(self.resend_selected)
        self.handled_button = QPushButton(tr("다른 곳에서 처리됨 / Handled elsewhere"), objectName="outboxHandled")
        self.handled_button.clicked.connect(self.handled_selected)
        self.message = QLabel(objectName="outboxMessage")
        self.message.setWordWrap(True)

        self.action_bar = QWidget()
        bar = QHBoxLayout(self.action_bar)
        bar.setContentsMargins(0, 0, 0, 0)
        for w in (QLabel(tr("택배사 / Courier")), self.courier_combo, self.resend_button,
                  self.note_edit, self.handled_button):
            bar.addWidget(w)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.action_bar)
        layout.addWidget(self.message)

        self._reading = False
        self._reread = False
        self._announce: list[str] = []  # actions to report once the lists show their result
        self._timer = QTimer(self)
        self._timer.setInterval(refresh_ms)
        self._timer.timeout.connect(self.refresh)
        self._selection_changed()

    # ------------------------------------------------------------------ reading

    def refresh(self) -> None:
        """Re-read the lists in the background; ``refreshed`` when they are on screen."""
        if self._reading:
            self._reread = True  # what is being read may predate a change: read once more after it
            return
        self._reading = True

        def read() -> tuple[dict[str, list[OutboxEntry]], object]:
            return ({key: self.uploader.entries(states, 200, newest_first=True) if key == "handled"
                     else self.uploader.entries(states) for key, _, states in TABS}, self.uploader.counts())

        ops.run(self, "outbox-read", read, self._show, self._read_failed)

    def _show(self, result: tuple[dict[str, list[OutboxEntry]], object]) -> None:
        self._reading = False
        if self._reread:
            self._reread = False
            self.refresh()
            return
        self.entries, counts = result
        for key, title, _ in TABS:
            self._fill(self.tables[key], self.entries[key])
            self.tabs.setTabText(self.tabs.indexOf(self.tables[key]), f"{tr(title)} ({len(self.entries[key])})")
        w, r, h = counts.waiting, counts.rejected, counts.held  # type: ignore[attr-defined]
        self.summary.setText(both(f"전송 대기 {w} · 거부 {r} · 보류 {h} ", f" {w} waiting · {r} rejected · {h} held"))
        self._selection_changed()
        self.refreshed.emit()
        done, self._announce = self._announce, []
        for action in done:
            self.action_done.emit(action)

    def _read_failed(self, e: KnownError) -> None:
        self._reading = False
        self._reread = False
        self._say(both("목록을 읽지 못했습니다", f"Could not read the outbox: {ops.kind(e)}"),
                  error=True)
        self.refreshed.emit()

    def _fill(self, table: QTableWidget, entries: Sequence[OutboxEntry]) -> None:
        selected = set(self._ids(table))
        table.setRowCount(len(entries))
        for row, e in enumerate(entries):
            cells = (e.order_no, e.product_order_id, e.product_name, courier_text(e.courier_code), e.tracking_number,
                     tr(STATE_TEXT[e.state]), str(e.attempts),
                     kst_text(e.next_attempt_at, SHORT_TIME) if e.state is OutboxState.PENDING else "",
                     reason_text(e.error_code, e.error_message), e.account, kst_text(e.updated_at, SHORT_TIME))
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setData(Qt.ItemDataRole.UserRole, e.id)
                if e.state is OutboxState.REJECTED:
                    item.setBackground(QBrush(REJECTED_BG))
                elif e.state is OutboxState.HELD:
                    item.setBackground(QBrush(HELD_BG))
                table.setItem(row, col, item)
        table.clearSelection()
        for row, e in enumerate(entries):
            if e.id in selected:
                table.selectRow(row)

    # ------------------------------------------------------------------ selection

    def current_key(self) -> str:
        """The current tab's key; "history" for the sent history (no actions there)."""
        index = self.tabs.currentIndex()
        return TABS[index][0] if index < len(TABS) else "history"

    def _tab_changed(self, _: int) -> None:
        history = self.current_key() == "history"
        self.action_bar.setVisible(not history)
        if history:
            self.history.reload()  # what was sent meanwhile
        self._selection_changed()

    def select(self, key: str, entry_ids: Sequence[int]) -> None:
        """Show that tab with these entries selected (what a click does; tests use it too)."""
        table = self.tables[key]
        self.tabs.setCurrentWidget(table)
        table.clearSelection()
        mode = table.selectionMode()
        table.setSelectionMode(QAbstractItemView.SelectionMode.MultiSelection)
        for row in range(table.rowCount()):
            if item_at(table, row, 0).data(Qt.ItemDataRole.UserRole) in entry_ids:
                table.selectRow(row)
        table.setSelectionMode(mode)

    @staticmethod
    def _ids(table: QTableWidget) -> list[int]:
        return [item_at(table, i.row(), 0).data(Qt.ItemDataRole.UserRole)
                for i in table.selectionModel().selectedRows()]

    def selected_ids(self) -> list[int]:
        table = self.tables.get(self.current_key())  # none on the history tab
        return self._ids(table) if table is not None else []

    def _selection_changed(self) -> None:
        key = self.current_key()
        ids = self.selected_ids()
        self.resend_button.setEnabled(bool(ids) and key in ("rejected", "held"))
        self.handled_button.setEnabled(bool(ids) and key in ("waiting", "rejected", "held"))
        chosen = [e for e in self.entries.get(key, []) if e.id in ids]
        codes = {e.courier_code for e in chosen}
        if len(codes) == 1:
            self.choose_courier(codes.pop())

    def choose_courier(self, code: str) -> None:
        """The courier stored with the entry, chosen in the list; a code the table has no courier for is named
        as it is (it may be what the marketplace refused), or as the courier it spells (``CJ`` is CJGLS)."""
        if self.courier_combo.findData(code) < 0:
            try:
                code = couriers.resolve(code).code
            except couriers.UnknownCourier:
                self.courier_combo.addItem(both(f"{code} (목록에 없음)", f"{code} (not in the list)"), code)
        self.courier_combo.setCurrentIndex(self.courier_combo.findData(code))

    # ------------------------------------------------------------------ supervisor actions

    def resend_selected(self) -> None:
        ids = self.selected_ids()
        if not ids:
            return
        courier = str(self.courier_combo.currentData() or "")
        if not courier:
            self._say(error_message(KnownError("dispatch_courier_required")), error=True)
            return
        self._busy(True)
        ops.run(self, "outbox-resend", lambda: self.uploader.resend(ids, courier_code=courier, by=self.operator),
                lambda n: self._done("resend", both(f"다시 전송합니다: {n}건", f"Sending again: {n}"), kick=True),
                lambda e: self._failed("resend", e))

    def handled_selected(self) -> None:
        ids = self.selected_ids()
        if not ids:
            return
        text = two_lines(f"선택한 {len(ids)}건은 PackDesk가 더 이상 전송하지 않습니다 (셀러센터에서 입력했거나 택배를 "
                         "뺐을 때).", f"PackDesk will never send the {len(ids)} selected entries (entered in the "
                         "seller centre, or the parcel was pulled).")
        answer = QMessageBox.question(self, tr("다른 곳에서 처리됨 / Handled elsewhere"), text)
        if answer != QMessageBox.StandardButton.Yes:
            return
        note = self.note_edit.text().strip()
        self._busy(True)
        ops.run(self, "outbox-handled", lambda: self.uploader.mark_handled(ids, by=self.operator, note=note),
                lambda n: self._done("handled", both(f"처리됨으로 표시: {n}건", f"Marked handled: {n}")),
                lambda e: self._failed("handled", e))

    def _done(self, action: str, text: str, *, kick: bool = False) -> None:
        self._busy(False)
        self._say(text)
        self.note_edit.clear()
        if kick:
            self.uploader.kick()  # send now rather than at the next scheduled pass
        self._announce.append(action)
        self.refresh()

    def _failed(self, action: str, e: KnownError) -> None:
        self._busy(False)
        if e.code == "dispatch_courier_required":
            self._say(error_message(e), error=True)
        else:
            self._say(both("저장하지 못했습니다", f"Could not save: {ops.kind(e)}"), error=True)
        self.action_failed.emit(action)

    def _busy(self, busy: bool) -> None:
        for b in (self.resend_button, self.handled_button):
            b.setEnabled(not busy)
        if not busy:
            self._selection_changed()

    def _say(self, text: str, *, error: bool = False) -> None:
        self.message.setText(text)
        self.message.setStyleSheet("color: #b71c1c; font-weight: bold;" if error else "color: #1b5e20;")

    # ------------------------------------------------------------------ lifecycle

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.refresh()
        self._timer.start()

    def hideEvent(self, event: QHideEvent) -> None:
        self._timer.stop()
        super().hideEvent(event)
