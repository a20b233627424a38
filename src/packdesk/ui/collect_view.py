"""Order collection: the runs table, "collect now" for an account and a date range, and the accounts.

Every network call, database read and account change runs as a background op (``ui/ops.py``): the tables
are plain records re-read every 2 s (``services/collect.overview``); the progress bar shows while a run is
going and the table refreshes when it ends. Secrets typed here go straight to the OS keyring.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from PySide6.QtCore import QDateTime, Qt, QTimer, QTimeZone, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDateTimeEdit,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from packdesk.channels import registry
from packdesk.channels.registry import COURIER_CODES_HELP, AccountInvalid, FieldSpec
from packdesk.core import models as m
from packdesk.core.enums import NO_MARKETPLACE, ChannelKind, RunStatus
from packdesk.core.errors import KnownError
from packdesk.core.kst import KST
from packdesk.services.accounts import (
    KINDS,
    NAME_LABEL,
    AccountSpec,
    Removal,
    add_account,
    courier_codes,
    courier_codes_text,
    flip_auto_confirm,
    remove_account,
    set_code_rule,
    set_courier_codes,
    set_paused,
    test_connection,
)
from packdesk.services.catalogue import Cancel, CatalogueSyncer, SyncResult
from packdesk.services.collect import Collector, Overview, RunRow, overview, run_error_words
from packdesk.ui import collect_runs as runs_table
from packdesk.ui import ops
from packdesk.ui.cells import item_at
from packdesk.ui.i18n import both, one, plural, split, tr, two_lines
from packdesk.ui.messages import error_message, error_text

SYNC_FAILED = ("동기화 실패", "Sync failed")  # (Korean, English): a sync that failed for no known reason
ACCOUNT_COLUMNS = ("이름 / Name", "마켓 / Market", "아이디 / ID", "자동 발주확인 / Auto-confirm", "상태 / State")


KST_ZONE = QTimeZone(int(KST.utcoffset(None).total_seconds()))  # core/kst.py's fixed +09:00, as Qt's zone


def instant(edit: QDateTimeEdit) -> datetime:
    """The moment a picker means (it shows Korea time), in UTC: read from its epoch milliseconds, never from its
    wall-clock fields, which Python would take for this PC's zone."""
    return datetime.fromtimestamp(edit.dateTime().toMSecsSinceEpoch() / 1000, UTC)


def run_error(run: m.CollectionRun, account: str) -> str:
    """A run's error in words, in the screen's language (``services/collect.run_error_words``)."""
    return both(*run_error_words(run, account)) if run.error_code else ""


class CollectWindow(QDialog):
    run_finished = Signal(object)  # the CollectionRun, or the error
    sync_progressed = Signal(int, int)  # products so far, total (0: unknown); from the sync's thread
    sync_finished = Signal(object)      # the SyncResult, or the error

    def __init__(self, collector: Collector, operator: str, parent: QWidget | None = None,
                 syncer: CatalogueSyncer | None = None) -> None:
        super().__init__(parent)
        self.syncer = syncer
        self._sync_cancel: Cancel | None = None
        self._reads = 0      # refreshes asked for; an answer older than the newest is not shown
        self._reading = 0    # refreshes in flight: the 2-second timer does not pile them up
        self._account_state: dict[int, tuple[str, bool, bool]] = {}
        self.setWindowTitle(tr("주문 수집 / Order collection"))
        self.resize(1240, 760)  # inside a 1280×800 screen with its taskbar
        self.collector = collector
        self.db = collector.db
        self.operator = operator
        self.setStyleSheet("QWidget { font-size: 15px; }")

        # runs tab
        self.account_combo = QComboBox(objectName="collectAccount")
        self.account_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)  # names read whole
        self.account_combo.setMinimumWidth(200)
        self.account_combo.setMaximumWidth(420)
        # the pickers show and mean Korea time, like every table, whatever zone this PC's clock is set to
        self.from_edit = QDateTimeEdit(objectName="collectFrom")
        self.to_edit = QDateTimeEdit(objectName="collectTo")
        for e in (self.from_edit, self.to_edit):
            e.setTimeZone(KST_ZONE)
            e.setDisplayFormat("yyyy-MM-dd HH:mm")
            e.setCalendarPopup(True)
            e.setToolTip(tr("한국 시간 / Korea time"))
        now = self._now()
        self.from_edit.setDateTime(self._now(minute=True).addDays(-1))
        self.to_edit.setDateTime(now)
        # "up to now" by default: a window left open for hours still collects up to the moment of the click
        self.until_now = QCheckBox(tr("지금까지 / up to now"), objectName="collectUntilNow")
        self.until_now.setChecked(True)
        self.until_now.toggled.connect(self._until_now_toggled)
        self.to_edit.setEnabled(False)
        self.collect_button = QPushButton(tr("지금 수집 / Collect now"), objectName="collectNow")
        self.collect_button.clicked.connect(self.collect_now)
        self.confirm_button = QPushButton(tr("발주확인 / Confirm new orders"), objectName="confirmNow")
        self.confirm_button.clicked.connect(self.confirm_now)
        self.sync_button = QPushButton(tr("상품 동기화 / Sync products"), objectName="syncProducts")
        self.sync_button.clicked.connect(self.sync_products)
        self.sync_button.setEnabled(syncer is not None)
        self.sync_cancel_button = QPushButton(tr("동기화 중단 / Stop sync"), objectName="syncCancel")
        self.sync_cancel_button.clicked.connect(self.cancel_sync)
        self.sync_cancel_button.hide()
        self.sync_progress = QProgressBar(objectName="syncProgress")
        self.sync_progress.hide()
        self.sync_progressed.connect(self._sync_step)
        self.progress = QProgressBar(objectName="collectProgress")
        self.progress.setRange(0, 0)  # busy: the marketplace does not say how much is left
        self.progress.hide()
        self.message = QLabel(objectName="collectMessage")
        self.message.setWordWrap(True)
        bar = QHBoxLayout()
        # the account and what acts on it alone on one row; the window and "Collect now" under it (one row would
        # be wider than a 1280-wide screen in Korean with English)
        top: tuple[QWidget, ...] = (QLabel(tr("계정 / Account")), self.account_combo, self.confirm_button,
                                    self.sync_button, self.sync_cancel_button)
        for w in top:
            bar.addWidget(w)
        bar.addStretch(1)
        more = QHBoxLayout()
        window: tuple[QWidget, ...] = (QLabel(tr("부터 / from")), self.from_edit, QLabel(tr("까지 / to")), self.to_edit,
                                       self.until_now, QLabel(tr("(한국 시간) / (Korea time)")), self.collect_button)
        for w in window:
            more.addWidget(w)
        more.addStretch(1)
        self.runs = QTableWidget(0, len(runs_table.RUN_COLUMNS), objectName="runsTable")
        self.runs.setHorizontalHeaderLabels([tr(c) for c in runs_table.RUN_COLUMNS])
        self.runs.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.runs.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.runs.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.runs.setWordWrap(False)
        self.runs.setTextElideMode(Qt.TextElideMode.ElideRight)  # a long error ends in "…"; all of it below
        header = self.runs.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(runs_table.ERROR, QHeaderView.ResizeMode.Stretch)  # the rest of the width
        for c in runs_table.WIDEST:
            header.setSectionResizeMode(c, QHeaderView.ResizeMode.Interactive)  # to its contents, up to a limit
        self.runs.verticalHeader().setVisible(False)
        self.runs.itemSelectionChanged.connect(self._run_chosen)
        self._shown_runs: list[RunRow] = []
        self._chosen_run: int | None = None  # kept chosen across the 2-second re-reads
        self.run_detail = QPlainTextEdit(objectName="runDetail")
        self.run_detail.setReadOnly(True)  # selectable: a supervisor copies the code and the detail into a report
        self.run_detail.setPlaceholderText(tr("수집 기록을 고르면 자세한 내용이 여기 나옵니다 / "
                                              "Choose a run to see all of it here"))
        self.run_detail.setMaximumHeight(130)
        runs_page = QWidget()
        rl = QVBoxLayout(runs_page)
        rl.addLayout(bar)
        rl.addLayout(more)
        rl.addWidget(self.progress)
        rl.addWidget(self.sync_progress)
        rl.addWidget(self.message)
        rl.addWidget(self.runs, 1)
        rl.addWidget(self.run_detail)

        # accounts tab: the form of each kind of account is built from its market (services/accounts.KINDS)
        self.accounts = QTableWidget(0, len(ACCOUNT_COLUMNS), objectName="accountsTable")
        self.accounts.setHorizontalHeaderLabels([tr(c) for c in ACCOUNT_COLUMNS])
        self.accounts.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.accounts.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.accounts.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.accounts.itemSelectionChanged.connect(self._selection_changed)
        self.kind_combo = QComboBox(objectName="accountKind")
        for spec in KINDS.values():
            self.kind_combo.addItem(tr(spec.label), spec.kind)
        self.name_edit = QLineEdit(objectName="accountName")
        self.kind_forms: dict[str, dict[str, QLineEdit]] = {}       # typed fields
        self.kind_choices: dict[str, dict[str, QComboBox]] = {}     # fields chosen from words (FieldSpec.choices)
        self._field_labels: dict[tuple[str, str], QLabel] = {}      # (kind, key): marked with its field
        self.kind_pages = QStackedWidget(objectName="accountKindPages")
        for spec in KINDS.values():
            page = QWidget()
            f = QFormLayout(page)
            f.setContentsMargins(0, 0, 0, 0)
            f.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)  # a long label puts its field under it
            edits: dict[str, QLineEdit] = {}
            choices: dict[str, QComboBox] = {}
            for field_spec in spec.fields:
                widget: QWidget
                if field_spec.choices:
                    combo = QComboBox(objectName=f"account_{spec.kind}_{field_spec.key}")
                    for value, text in field_spec.choices:
                        combo.addItem(tr(text), value)
                    choices[field_spec.key] = widget = combo
                else:
                    edit = QLineEdit(objectName=f"account_{spec.kind}_{field_spec.key}")
                    edit.setPlaceholderText(tr(field_spec.placeholder))
                    if field_spec.secret:
                        edit.setEchoMode(QLineEdit.EchoMode.Password)
                    edit.textEdited.connect(lambda _text, e=edit: self._mark(e, False))
                    edits[field_spec.key] = widget = edit
                label = QLabel(tr(field_spec.label))
                label.setBuddy(widget)
                self._field_labels[(spec.kind, field_spec.key)] = label
                f.addRow(label, widget)
                if field_spec.help:
                    note = QLabel(tr(field_spec.help), objectName=f"help_{spec.kind}_{field_spec.key}")
                    note.setWordWrap(True)
                    note.setStyleSheet("color: #555; font-size: 13px;")
                    f.addRow("", note)
            self.kind_forms[spec.kind] = edits
            self.kind_choices[spec.kind] = choices
            self.kind_pages.addWidget(page)
        naver = self.kind_forms[ChannelKind.NAVER]  # the SmartStore form's fields, by their old names
        self.app_id_edit, self.secret_edit = naver["external_id"], naver["secret"]
        self.base_url_edit = naver["base_url"]
        self.auto_confirm = QCheckBox(tr("수집 후 자동 발주확인 / Confirm new orders after collecting"))
        self.kind_combo.currentIndexChanged.connect(self._kind_changed)
        self.name_edit.textEdited.connect(lambda _text: self._mark(self.name_edit, False))
        form = QFormLayout()
        form.addRow(tr("마켓 / Market"), self.kind_combo)
        self._name_label = QLabel(tr(NAME_LABEL))
        form.addRow(self._name_label, self.name_edit)
        form.addRow(self.kind_pages)
        form.addRow(self.auto_confirm)
        self.add_button = QPushButton(tr("계정 추가 / Add account"), objectName="addAccount")
        self.add_button.clicked.connect(self.add_account)
        self.test_button = QPushButton(tr("연결 테스트 / Connection test"), objectName="testAccount")
        self.test_button.clicked.connect(self.test_selected)
        self.pause_button = QPushButton(tr("일시 중지 / Pause"), objectName="pauseAccount")
        self.pause_button.clicked.connect(self.toggle_pause)
        self.confirm_mode_button = QPushButton(tr("자동 발주확인 켜기/끄기 / Auto-confirm on/off"),
                                               objectName="confirmModeAccount")
        self.confirm_mode_button.clicked.connect(self.toggle_auto_confirm)
        self.code_rule_button = QPushButton(tr("코드 규칙… / Code rule…"), objectName="codeRuleAccount")
        self.code_rule_button.clicked.connect(lambda: self.change_code_rule())
        self.courier_codes_button = QPushButton(tr("택배사 코드… / Courier codes…"), objectName="courierCodesAccount")
        self.courier_codes_button.clicked.connect(lambda: self.change_courier_codes())
        self.remove_button = QPushButton(tr("계정 삭제 / Remove account"), objectName="removeAccount")
        self.remove_button.clicked.connect(self.remove_selected)
        self.account_message = QLabel(objectName="accountMessage")
        self.account_message.setWordWrap(True)
        # "Add account" under the form; the chosen account's actions in two rows (one row would be wider than a
        # 1280-wide screen in Korean with English)
        buttons = QVBoxLayout()
        for row in ((self.add_button,), (self.test_button, self.pause_button, self.remove_button),
                    (self.confirm_mode_button, self.code_rule_button, self.courier_codes_button)):
            line = QHBoxLayout()
            for b in row:
                line.addWidget(b)
            line.addStretch(1)
            buttons.addLayout(line)
        acc_page = QWidget()
        al = QVBoxLayout(acc_page)
        al.addWidget(self.accounts, 1)
        al.addLayout(form)
        al.addLayout(buttons)
        al.addWidget(self.account_message)

        tabs = QTabWidget()
        tabs.addTab(runs_page, tr("수집 기록 / Runs"))
        tabs.addTab(acc_page, tr("계정 / Accounts"))
        QVBoxLayout(self).addWidget(tabs)
        self._refresh_timer = QTimer(self)
        self._refresh_timer.setInterval(2000)
        self._refresh_timer.timeout.connect(self._tick)
        self._refresh_timer.start()
        self.refresh()

    # ------------------------------------------------------------------ reading

    @property
    def busy(self) -> bool:
        """Work of this window in flight (reads, account changes, runs); tests wait on it."""
        return ops.pending(self) > 0

    def _tick(self) -> None:
        self._follow_now()
        if not self._reading:
            self.refresh()

    def _now(self, *, minute: bool = False) -> QDateTime:
        """The collector's clock (tests move it) as a Korea-time QDateTime; ``minute``: its seconds dropped, for
        a picker a person edits (it shows minutes: seconds it kept would move the typed time, 02:30 → 02:30:25)."""
        ms = int(self.collector.clock().timestamp() * 1000)
        return QDateTime.fromMSecsSinceEpoch(ms - ms % 60_000 if minute else ms, KST_ZONE)

    def _follow_now(self) -> None:
        if self.until_now.isChecked():
            self.to_edit.setDateTime(self._now())

    def _until_now_toggled(self, on: bool) -> None:
        self.to_edit.setEnabled(not on)
        self.to_edit.setDateTime(self._now(minute=not on))

    def refresh(self, then: Callable[[], None] | None = None) -> None:
        """Re-read the accounts and runs off the UI thread; ``then`` once the answer is shown (or failed)."""
        self._reads += 1
        self._reading += 1
        asked = self._reads

        def show(found: Overview) -> None:
            self._reading -= 1
            if asked == self._reads:  # a slower, older read never paints over a newer one
                self._show(found)
            if then is not None:
                then()

        def failed(_: KnownError) -> None:  # ops logged it; the tables keep what they showed, the next tick retries
            self._reading -= 1
            if then is not None:
                then()

        ops.read(self, "collect-refresh", self.db, overview, show, failed)

    def _show(self, found: Overview) -> None:
        accounts, runs = found.accounts, found.runs
        current = self.account_combo.currentData()
        self.account_combo.clear()
        for a in accounts:
            if a.active and a.kind not in NO_MARKETPLACE:
                self.account_combo.addItem(a.name + (f" ({tr('일시 중지 / paused')})" if a.paused else ""), a.id)
        if current is not None:
            self.account_combo.setCurrentIndex(max(0, self.account_combo.findData(current)))
        shown = [a for a in accounts if registry.market(a.kind) is not None]  # marketplaces, the demo shop too
        selected = self._selected_account()
        self._account_state = {a.id: (a.kind, a.active, a.paused) for a in shown}
        self.accounts.setRowCount(len(shown))
        for r, a in enumerate(shown):
            state = tr("삭제됨 / removed" if not a.active else "일시 중지 / paused" if a.paused else "사용 중 / active")
            market = tr(KINDS[a.kind].label) if a.kind in KINDS else a.kind
            for c, text in enumerate((a.name, market, a.external_id, tr("예 / yes") if a.auto_confirm else "", state)):
                item = QTableWidgetItem(text)
                item.setData(Qt.ItemDataRole.UserRole, a.id)
                self.accounts.setItem(r, c, item)
        if selected is not None:
            rows = [r for r, a in enumerate(shown) if a.id == selected]
            if rows:
                self.accounts.selectRow(rows[0])
        self._selection_changed()
        self._show_runs(runs)
        running = any(run.status is RunStatus.RUNNING for run in runs)
        self.progress.setVisible(running or not self.collect_button.isEnabled())

    def _show_runs(self, runs: list[RunRow]) -> None:
        chosen = self._chosen_run
        self._shown_runs = runs
        self.runs.blockSignals(True)  # the rows are rewritten: the chosen run is chosen again below, by its id
        self.runs.clearSelection()
        self.runs.setRowCount(len(runs))
        for r, run in enumerate(runs):
            tip = runs_table.detail(run)
            for c, text in enumerate(runs_table.cells(run)):
                item = QTableWidgetItem(text)
                item.setToolTip(tip)
                if c == runs_table.STATUS and run.status in runs_table.FAILED:
                    item.setForeground(QColor("#b71c1c"))
                self.runs.setItem(r, c, item)
        self.runs.blockSignals(False)
        header = self.runs.horizontalHeader()
        for c, widest in runs_table.WIDEST.items():
            self.runs.setColumnWidth(c, min(widest, max(self.runs.sizeHintForColumn(c), header.sectionSizeHint(c))))
        rows = [r for r, run in enumerate(runs) if run.id == chosen]
        if rows:
            self.runs.selectRow(rows[0])
        else:
            self._chosen_run = None
        self._run_chosen()

    def _run_chosen(self) -> None:
        rows = self.runs.selectionModel().selectedRows()
        run = self._shown_runs[rows[0].row()] if rows and rows[0].row() < len(self._shown_runs) else None
        self._chosen_run = run.id if run is not None else None
        text = runs_table.detail(run) if run is not None else ""
        if self.run_detail.toPlainText() != text:  # unchanged on a re-read: a selection in it is kept
            self.run_detail.setPlainText(text)

    # ------------------------------------------------------------------ collecting

    def collect_now(self) -> None:
        account_id = self.account_combo.currentData()
        if account_id is None:
            self._say(tr("수집할 계정이 없습니다 / No account to collect"), error=True)
            return
        since = instant(self.from_edit)
        if self.until_now.isChecked():
            until = self.collector.clock()
            self.to_edit.setDateTime(self._now())
        else:
            until = instant(self.to_edit)
        self.collect_button.setEnabled(False)
        self.progress.show()
        self._say(tr("수집 중… / Collecting…"))
        ops.run(self, "collect", lambda: self.collector.run_manual(account_id, since, until, started_by=self.operator),
                self._collected, self._collect_failed)

    def _collected(self, run: m.CollectionRun) -> None:
        self.collect_button.setEnabled(True)
        if run.status is RunStatus.SUCCEEDED and not run.set_aside:
            self._say(both(f"완료: 주문 {run.orders}건, 신규 {run.registered}건",
                           f"Done: {plural(run.orders, 'order')}, {run.registered:,} new"))
        elif run.status is RunStatus.SUCCEEDED:
            self._say(both(f"완료: 주문 {run.orders}건, 신규 {run.registered}건 — 보류 {run.set_aside}건 "
                           f"(표의 오류 참조)",
                           f"Done: {plural(run.orders, 'order')}, {run.registered:,} new — {run.set_aside:,} set "
                           f"aside (see the run's error)"), error=True)
        else:
            self._say(run_error(run, self.account_combo.currentText()), error=True)
        self.refresh(then=lambda: self.run_finished.emit(run))  # finished: the run is in the table

    def _collect_failed(self, e: KnownError) -> None:
        self.collect_button.setEnabled(True)
        self.confirm_button.setEnabled(True)
        self._say(both("수집 실패", "Collection failed") if isinstance(e, ops.Bug) else error_message(e),
                  error=True)
        self.refresh(then=lambda: self.run_finished.emit(e))

    def confirm_now(self) -> None:
        account_id = self.account_combo.currentData()
        if account_id is None:
            return
        self.confirm_button.setEnabled(False)
        self._say(tr("발주확인 중… / Confirming…"))

        def done(n: int) -> None:
            self.confirm_button.setEnabled(True)
            self._say(both(f"발주확인 {n}건", f"{n} confirmed"))
            self.run_finished.emit(n)

        ops.run(self, "confirm", lambda: self.collector.confirm_now(account_id), done, self._collect_failed)

    # ------------------------------------------------------------------ catalogue sync

    def sync_products(self) -> None:
        """The chosen account's products and options, page by page, in the background; it can be stopped
        and resumes where it stopped (``services/catalogue.py``)."""
        account_id = self.account_combo.currentData()
        if account_id is None or self.syncer is None:
            return
        self._sync_cancel = Cancel()  # looked at between pages on the sync's thread
        cancel, syncer = self._sync_cancel, self.syncer
        self.sync_button.setEnabled(False)
        self.sync_cancel_button.show()
        self.sync_progress.setRange(0, 0)
        self.sync_progress.show()
        self._say(tr("상품 동기화 중… / Syncing products…"))
        tell = ops.progress(self, self.sync_progressed.emit)  # only while this window exists
        ops.run(self, "catalogue-sync", lambda: syncer.sync(account_id, cancel=cancel,
                                                            progress=lambda n, t: tell(n, t or 0)),
                self._synced, self._sync_failed)

    def cancel_sync(self) -> None:
        if self._sync_cancel is not None:
            self._sync_cancel.set()
            self._say(tr("동기화를 멈추는 중 — 다음에 이어서 합니다 / Stopping — the next sync goes on from here"))

    def _sync_step(self, done: int, total: int) -> None:
        if total:
            self.sync_progress.setRange(0, total)
        self.sync_progress.setValue(done)
        self.sync_progress.setFormat(f"{done} / {total}" if total else f"{done}")

    def _sync_done(self) -> None:
        self.sync_button.setEnabled(True)
        self.sync_cancel_button.hide()
        self.sync_progress.hide()
        self._sync_cancel = None

    def _synced(self, result: SyncResult) -> None:
        self._sync_done()
        if result.complete:
            self._say(both(f"상품 동기화 완료: {result.products}개, 신규 {result.new}개, 삭제됨 {result.deleted}개",
                           f"Products synced: {result.products}, {result.new} new, {result.deleted} gone"))
        else:
            self._say(both(f"동기화 중단: {result.products}개 저장 — 다음 동기화가 이어서 합니다",
                           f"Sync stopped: {result.products} stored — the next sync goes on from there"))
        self.sync_finished.emit(result)

    def _sync_failed(self, e: KnownError) -> None:
        self._sync_done()
        ko, en = SYNC_FAILED if isinstance(e, ops.Bug) else error_text(e)
        self._say(one(f"{ko} / {en} — 다음 동기화가 멈춘 곳부터 이어서 합니다 / the next sync resumes there",
                      f"{en} — the next sync resumes there"), error=True)
        self.sync_finished.emit(e)

    def _say(self, text: str, *, error: bool = False) -> None:
        self.message.setText(text)
        self.message.setProperty("error", error)
        self.message.setStyleSheet("color: #b71c1c; font-weight: bold;" if error else "color: #1b5e20;")

    # ------------------------------------------------------------------ accounts

    def _kind_changed(self) -> None:
        kind = str(self.kind_combo.currentData())  # Qt hands enum members back as their str
        for w in [self.name_edit, *(lb.buddy() for lb in self._field_labels.values())]:
            if w is not None and w.property("invalid"):
                self._mark(w, False)  # another market's form: the last refusal's marks go
        self.kind_pages.setCurrentIndex(self.kind_combo.currentIndex())
        self.auto_confirm.setEnabled(KINDS[kind].can_confirm)
        self.auto_confirm.setChecked(KINDS[kind].can_confirm and KINDS[kind].confirm_default)

    def _account_op(self, name: str, fn: Callable[[], Any], done: Callable[[Any], None],
                    failed: Callable[[KnownError], None] | None = None) -> None:
        """An account change or look-up off the UI thread. ``ops.run``, not ``ops.write``: the accounts service
        opens its own short transactions on the database (and adding or removing touches the OS keyring, a
        removal deletes orders in batches), and this window has no place in the station's DB worker queue."""
        ops.run(self, f"account-{name}", fn, done,
                failed or (lambda e: self._say_account(error_message(e), error=True)))

    def _mark(self, widget: QWidget, bad: bool) -> None:
        """A field the last "Add account" refused, marked (and its label) until it is typed in again."""
        widget.setProperty("invalid", bad)
        widget.setStyleSheet("border: 2px solid #b71c1c;" if bad else "")
        label = self._name_label if widget is self.name_edit else next(
            (lb for lb in self._field_labels.values() if lb.buddy() is widget), None)
        if label is not None:
            label.setStyleSheet("color: #b71c1c; font-weight: bold;" if bad else "")

    def _form_widgets(self, kind: str) -> dict[str, QWidget]:
        """The form of ``kind`` by field key, the name included."""
        return {"name": self.name_edit, **self.kind_forms[kind], **self.kind_choices[kind]}

    def add_account(self) -> None:
        kind = str(self.kind_combo.currentData())
        edits = self.kind_forms[kind]
        widgets = self._form_widgets(kind)
        for w in widgets.values():
            self._mark(w, False)
        values = {k: e.text() for k, e in edits.items()}
        values.update({k: str(c.currentData()) for k, c in self.kind_choices[kind].items()})
        spec = AccountSpec(kind, self.name_edit.text(), values, auto_confirm=self.auto_confirm.isChecked())

        def added(_: int) -> None:
            for key, edit in edits.items():
                if key == "secret":
                    edit.clear()
            name = spec.name.strip()
            self._say_account(both(f"추가됨: {name} (시크릿은 OS 키링에 저장)",
                                   f"Added: {name} (secret in the OS keyring)"))
            self.refresh()

        def refused(e: KnownError) -> None:
            self._say_account(error_message(e), error=True)
            for key in e.keys if isinstance(e, AccountInvalid) else ():
                if key in widgets:
                    self._mark(widgets[key], True)

        db = self.db
        self._account_op("add", lambda: add_account(db, spec), added, refused)

    def _selection_changed(self) -> None:
        account_id = self._selected_account()
        kind, active, paused = (self._account_state.get(account_id, ("", False, False)) if account_id is not None
                                else ("", False, False))
        marketplace = kind in KINDS
        self.test_button.setEnabled(marketplace and active)
        self.pause_button.setEnabled(marketplace and active)
        self.pause_button.setText(tr("다시 시작 / Resume" if paused else "일시 중지 / Pause"))
        self.confirm_mode_button.setEnabled(marketplace and active and KINDS[kind].can_confirm if kind in KINDS
                                            else False)
        self.remove_button.setEnabled(marketplace and active)
        self.code_rule_button.setEnabled(active and kind in KINDS and any(
            f.key == "code_rule" for f in KINDS[kind].fields))
        self.courier_codes_button.setEnabled(active and kind in KINDS and any(
            f.key == "courier_codes" for f in KINDS[kind].fields))

    def toggle_pause(self) -> None:
        account_id = self._selected_account()
        if account_id is None:
            return
        paused, db = not self._account_state[account_id][2], self.db

        def done(_: None) -> None:
            self._say_account(tr("일시 중지: 수집과 송장 전송을 멈춥니다 (대기 중인 전송은 남습니다) / "
                                 "Paused: no collection or dispatch; waiting dispatches stay" if paused
                                 else "다시 시작 / Resumed"))
            self.refresh()

        self._account_op("pause", lambda: set_paused(db, account_id, paused), done)

    def _code_rule_field(self, account_id: int) -> FieldSpec | None:
        kind = self._account_state.get(account_id, ("", False, False))[0]
        return next((f for f in KINDS[kind].fields if f.key == "code_rule"), None) if kind in KINDS else None

    def change_code_rule(self, rule: str | None = None) -> None:
        """How this account names its sales products, chosen by its words; what a change does is said before
        it is made."""
        account_id = self._selected_account()
        field_spec = self._code_rule_field(account_id) if account_id is not None else None
        if account_id is None or field_spec is None:
            return
        shown = {value: tr(text) for value, text in field_spec.choices}
        if rule is None:
            picked, ok = QInputDialog.getItem(self, tr("코드 규칙 / Code rule"), tr(field_spec.help),
                                              list(shown.values()), 0, False)
            if not ok:
                return
            rule = next((value for value, text in shown.items() if text == picked), picked)
            if QMessageBox.question(self, tr("코드 규칙 / Code rule"), two_lines(
                    "바꾸면 다음 수집·동기화부터 새 코드로 상품이 나타나고 다시 연결해야 합니다. 기존 연결은 이미 "
                    "수집된 주문을 위해 옛 코드에 남습니다.",
                    "From the next collection and sync, products appear under the new codes and need linking "
                    "again; the old links stay for the orders already collected.")) \
                    != QMessageBox.StandardButton.Yes:
                return
        chosen, db = rule, self.db
        ko, en = split(dict(field_spec.choices).get(chosen, "")) or (chosen, chosen)
        self._account_op("code-rule", lambda: set_code_rule(db, account_id, chosen), lambda links: self._say_account(
            both(f"코드 규칙: {ko} (옛 코드의 연결 {links}개는 남음)",
                 f"Code rule: {en} ({plural(links, 'link')} kept under the old codes)")))

    def change_courier_codes(self, text: str | None = None) -> None:
        """The account's own courier codes (ours=theirs): where a market refuses a courier code, fix it here and
        resend from the dispatch outbox (the next send uses the new codes)."""
        account_id = self._selected_account()
        if account_id is None:
            return
        db = self.db
        if text is None:  # the codes stored now are read first, to start the question from them

            def ask(codes: dict[str, str]) -> None:
                typed, ok = QInputDialog.getText(self, tr("택배사 코드 / Courier codes"), tr(COURIER_CODES_HELP),
                                                 QLineEdit.EchoMode.Normal, courier_codes_text(codes))
                if ok:
                    self.change_courier_codes(typed)

            self._account_op("courier-codes", lambda: courier_codes(db, account_id), ask)
            return
        given = text

        def done(codes: dict[str, str]) -> None:
            shown = courier_codes_text(codes)
            self._say_account(both(f"택배사 코드: {shown or '없음 (기본 표)'}",
                                   f"Courier codes: {shown or 'none (the default table)'}"))

        self._account_op("courier-codes", lambda: set_courier_codes(db, account_id, given), done)

    def toggle_auto_confirm(self) -> None:
        account_id = self._selected_account()
        if account_id is None:
            return
        db = self.db

        def done(on: bool) -> None:
            self._say_account(tr("자동 발주확인 켬 / Auto-confirm on" if on else "자동 발주확인 끔 / Auto-confirm off"))
            self.refresh()

        self._account_op("auto-confirm", lambda: flip_auto_confirm(db, account_id), done)

    def _selected_account(self) -> int | None:
        rows = self.accounts.selectionModel().selectedRows()
        return item_at(self.accounts, rows[0].row(), 0).data(Qt.ItemDataRole.UserRole) if rows else None

    def test_selected(self) -> None:
        account_id = self._selected_account()
        if account_id is None:
            self._say_account(tr("계정을 선택하세요 / Select an account"), error=True)
            return
        db = self.db
        self._say_account(tr("연결 중… / Connecting…"))
        ops.run(self, "test-account", lambda: test_connection(db, account_id),
                lambda _: self._say_account(tr("연결 성공 / Connected")),
                lambda e: self._say_account(both("연결 실패", f"Connection failed: {ops.kind(e)}")
                                            if isinstance(e, ops.Bug) else error_message(e), error=True))

    def remove_selected(self) -> None:
        account_id = self._selected_account()
        if account_id is None:
            return
        if QMessageBox.question(self, tr("계정 삭제 / Remove account"), two_lines(
                "이 계정의 상품과, 포장을 시작하지 않은 주문을 지우고 시크릿을 삭제합니다. 포장한 주문, 스캔 기록과 "
                "녹화 영상은 남습니다. 마켓에는 아무것도 바뀌지 않습니다.",
                "Removes this account's products and the orders no station started packing, and erases its "
                "secret. Packed orders, their scans and recordings stay. Nothing changes at the marketplace.")) \
                != QMessageBox.StandardButton.Yes:
            return
        self.deactivate(account_id)

    def deactivate(self, account_id: int) -> None:
        db, by = self.db, self.operator
        self._account_op("remove", lambda: remove_account(db, account_id, by=by),
                         lambda result: self._removed(account_id, result))

    def _removed(self, account_id: int, result: Removal) -> None:
        if result.secret_left:
            self._say_account(both(f"삭제됨: 주문 {result.orders_removed}건 삭제, {result.orders_kept}건 보존 — "
                                   f"OS 키링을 쓸 수 없어 시크릿은 지우지 못했습니다 ({result.secret_left}): "
                                   f"키링이 돌아오면 'PackDesk / channel-account-{account_id}'를 지우세요",
                                   f"Removed: {result.orders_removed} orders removed, {result.orders_kept} kept — "
                                   f"the OS keyring was not available, so its secret could not be erased "
                                   f"({result.secret_left}): once it is back, delete 'PackDesk / "
                                   f"channel-account-{account_id}'"), error=True)
        else:
            self._say_account(both(f"삭제됨: 주문 {result.orders_removed}건 삭제, {result.orders_kept}건 보존",
                                   f"Removed: {result.orders_removed} orders removed, {result.orders_kept} kept"))
        self.refresh()

    def _say_account(self, text: str, *, error: bool = False) -> None:
        self.account_message.setText(text)
        self.account_message.setProperty("error", error)
        self.account_message.setStyleSheet("color: #b71c1c; font-weight: bold;" if error else "color: #1b5e20;")

    def done(self, result: int) -> None:
        self._refresh_timer.stop()
        super().done(result)
