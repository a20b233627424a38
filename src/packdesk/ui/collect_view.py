"""Order collection: the runs table, "collect now" for an account and a date range, and the accounts.

Every network call runs as a background op (``ui/tasks.py``); the progress bar shows while a run is
going and the table refreshes when it ends. Secrets typed here go straight to the OS keyring.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from PySide6.QtCore import QDateTime, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDateTimeEdit,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy import select

from packdesk.core import models as m
from packdesk.core.enums import ChannelKind, RunStatus
from packdesk.core.errors import KnownError
from packdesk.services.collect import Collector, make_channel
from packdesk.services.secrets import delete_secret, set_secret
from packdesk.ui.messages import error_text
from packdesk.ui.tasks import run_op

try:
    KST = ZoneInfo("Asia/Seoul")
except Exception:  # pragma: no cover
    KST = UTC  # type: ignore[assignment]

RUN_COLUMNS = ("시작 / Started", "계정 / Account", "방식 / Method", "실행자 / By", "기간 / Window", "상태 / Status",
               "주문 / Orders", "상품 / Lines", "등록 / New", "취소요청 / Cancel req.", "취소 / Cancelled",
               "송장등록 / Tracking reg.", "송장전송 / Tracking sent", "오류 / Error")
TRIGGER_TEXT = {"manual": "수동 / manual", "schedule": "자동 / auto", "startup": "시작 / startup",
                "excel": "엑셀 / Excel"}
STATUS_TEXT = {RunStatus.RUNNING: "진행 중 / running", RunStatus.SUCCEEDED: "완료 / done",
               RunStatus.FAILED: "실패 / failed"}


def _kst(at: datetime | None) -> str:
    return at.astimezone(KST).strftime("%m-%d %H:%M") if at else ""


class CollectWindow(QDialog):
    run_finished = Signal(object)  # the CollectionRun, or the error

    def __init__(self, collector: Collector, operator: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("주문 수집 / Order collection")
        self.resize(1200, 640)
        self.collector = collector
        self.db = collector.db
        self.operator = operator
        self.setStyleSheet("QWidget { font-size: 15px; }")

        # runs tab
        self.account_combo = QComboBox(objectName="collectAccount")
        now = QDateTime.currentDateTime()
        self.from_edit = QDateTimeEdit(now.addDays(-1), objectName="collectFrom")
        self.to_edit = QDateTimeEdit(now, objectName="collectTo")
        for e in (self.from_edit, self.to_edit):
            e.setDisplayFormat("yyyy-MM-dd HH:mm")
            e.setCalendarPopup(True)
        self.collect_button = QPushButton("지금 수집 / Collect now", objectName="collectNow")
        self.collect_button.clicked.connect(self.collect_now)
        self.confirm_button = QPushButton("발주확인 / Confirm new orders", objectName="confirmNow")
        self.confirm_button.clicked.connect(self.confirm_now)
        self.progress = QProgressBar(objectName="collectProgress")
        self.progress.setRange(0, 0)  # busy: the marketplace does not say how much is left
        self.progress.hide()
        self.message = QLabel(objectName="collectMessage")
        self.message.setWordWrap(True)
        bar = QHBoxLayout()
        for w in (QLabel("계정 / Account"), self.account_combo, QLabel("부터 / from"), self.from_edit,
                  QLabel("까지 / to"), self.to_edit, self.collect_button, self.confirm_button):
            bar.addWidget(w)
        self.runs = QTableWidget(0, len(RUN_COLUMNS), objectName="runsTable")
        self.runs.setHorizontalHeaderLabels(RUN_COLUMNS)
        self.runs.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.runs.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.runs.verticalHeader().setVisible(False)
        runs_page = QWidget()
        rl = QVBoxLayout(runs_page)
        rl.addLayout(bar)
        rl.addWidget(self.progress)
        rl.addWidget(self.message)
        rl.addWidget(self.runs, 1)

        # accounts tab
        self.accounts = QTableWidget(0, 4, objectName="accountsTable")
        self.accounts.setHorizontalHeaderLabels(("이름 / Name", "마켓 / Market", "애플리케이션 ID / Application ID",
                                                 "자동 발주확인 / Auto-confirm"))
        self.accounts.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.accounts.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.accounts.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.name_edit = QLineEdit(objectName="accountName")
        self.app_id_edit = QLineEdit(objectName="accountAppId")
        self.secret_edit = QLineEdit(objectName="accountSecret")
        self.secret_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.base_url_edit = QLineEdit(objectName="accountBaseUrl")
        self.base_url_edit.setPlaceholderText("https://api.commerce.naver.com/external")
        self.auto_confirm = QCheckBox("수집 후 자동 발주확인 / Confirm new orders after collecting")
        form = QFormLayout()
        form.addRow("이름 / Name", self.name_edit)
        form.addRow("애플리케이션 ID / Application ID", self.app_id_edit)
        form.addRow("애플리케이션 시크릿 / Secret", self.secret_edit)
        form.addRow("API 주소(선택) / API address (optional)", self.base_url_edit)
        form.addRow(self.auto_confirm)
        self.add_button = QPushButton("스마트스토어 계정 추가 / Add SmartStore account", objectName="addAccount")
        self.add_button.clicked.connect(self.add_account)
        self.test_button = QPushButton("연결 테스트 / Connection test", objectName="testAccount")
        self.test_button.clicked.connect(self.test_selected)
        self.remove_button = QPushButton("계정 삭제 / Remove account", objectName="removeAccount")
        self.remove_button.clicked.connect(self.remove_selected)
        self.account_message = QLabel(objectName="accountMessage")
        self.account_message.setWordWrap(True)
        buttons = QHBoxLayout()
        for b in (self.add_button, self.test_button, self.remove_button):
            buttons.addWidget(b)
        acc_page = QWidget()
        al = QVBoxLayout(acc_page)
        al.addWidget(self.accounts, 1)
        al.addLayout(form)
        al.addLayout(buttons)
        al.addWidget(self.account_message)

        tabs = QTabWidget()
        tabs.addTab(runs_page, "수집 기록 / Runs")
        tabs.addTab(acc_page, "계정 / Accounts")
        QVBoxLayout(self).addWidget(tabs)
        self._refresh_timer = QTimer(self)
        self._refresh_timer.setInterval(2000)
        self._refresh_timer.timeout.connect(self.refresh)
        self._refresh_timer.start()
        self.refresh()

    # ------------------------------------------------------------------ reading

    def refresh(self) -> None:
        with self.db.session() as s:
            accounts = list(s.scalars(select(m.ChannelAccount).order_by(m.ChannelAccount.id)))
            runs = list(s.scalars(select(m.CollectionRun).order_by(m.CollectionRun.id.desc()).limit(200)))
        names = {a.id: a.name for a in accounts}
        current = self.account_combo.currentData()
        self.account_combo.clear()
        for a in accounts:
            if a.active:
                self.account_combo.addItem(a.name, a.id)
        if current is not None:
            self.account_combo.setCurrentIndex(max(0, self.account_combo.findData(current)))
        self.accounts.setRowCount(len(accounts))
        for r, a in enumerate(accounts):
            for c, text in enumerate((a.name, a.kind.value, a.external_id, "예 / yes" if a.auto_confirm else "")):
                item = QTableWidgetItem(text)
                item.setData(Qt.ItemDataRole.UserRole, a.id)
                self.accounts.setItem(r, c, item)
        self.runs.setRowCount(len(runs))
        for r, run in enumerate(runs):
            cells = (_kst(run.started_at), names.get(run.account_id, "?"), TRIGGER_TEXT.get(run.trigger, run.trigger),
                     run.started_by, f"{_kst(run.window_from)} ~ {_kst(run.window_to)}", STATUS_TEXT[run.status],
                     run.orders, run.lines, run.registered, run.cancel_requested, run.cancelled,
                     run.tracking_registered, run.tracking_sent, run.error_code)
            for c, v in enumerate(cells):
                self.runs.setItem(r, c, QTableWidgetItem(str(v)))
        running = any(run.status is RunStatus.RUNNING for run in runs)
        self.progress.setVisible(running or not self.collect_button.isEnabled())

    # ------------------------------------------------------------------ collecting

    def collect_now(self) -> None:
        account_id = self.account_combo.currentData()
        if account_id is None:
            self._say("수집할 계정이 없습니다 / No account to collect", error=True)
            return
        since = self.from_edit.dateTime().toPython().astimezone(UTC)
        until = self.to_edit.dateTime().toPython().astimezone(UTC)
        self.collect_button.setEnabled(False)
        self.progress.show()
        self._say("수집 중… / Collecting…")
        run_op(self, lambda: self.collector.run_manual(account_id, since, until, started_by=self.operator),
               self._collected, self._collect_failed, name="collect")

    def _collected(self, run: m.CollectionRun) -> None:
        self.collect_button.setEnabled(True)
        self.refresh()
        if run.status is RunStatus.SUCCEEDED:
            self._say(f"완료: 주문 {run.orders}건, 신규 {run.registered}건 / Done: {run.orders} orders, "
                      f"{run.registered} new")
        else:
            ko, en = error_text(KnownError(run.error_code))
            self._say(f"{ko} / {en}", error=True)
        self.run_finished.emit(run)

    def _collect_failed(self, e: BaseException) -> None:
        self.collect_button.setEnabled(True)
        self.confirm_button.setEnabled(True)
        self.refresh()
        ko, en = error_text(e) if isinstance(e, KnownError) else ("수집 실패", "Collection failed")
        self._say(f"{ko} / {en}", error=True)
        self.run_finished.emit(e)

    def confirm_now(self) -> None:
        account_id = self.account_combo.currentData()
        if account_id is None:
            return
        self.confirm_button.setEnabled(False)
        self._say("발주확인 중… / Confirming…")

        def done(n: int) -> None:
            self.confirm_button.setEnabled(True)
            self._say(f"발주확인 {n}건 / {n} confirmed")
            self.run_finished.emit(n)

        run_op(self, lambda: self.collector.confirm_now(account_id), done, self._collect_failed, name="confirm")

    def _say(self, text: str, *, error: bool = False) -> None:
        self.message.setText(text)
        self.message.setProperty("error", error)
        self.message.setStyleSheet("color: #b71c1c; font-weight: bold;" if error else "color: #1b5e20;")

    # ------------------------------------------------------------------ accounts

    def add_account(self) -> None:
        name, app_id, secret = self.name_edit.text().strip(), self.app_id_edit.text().strip(), self.secret_edit.text()
        if not (name and app_id and secret):
            self._say_account("이름, 애플리케이션 ID, 시크릿을 모두 입력하세요 / Enter name, application ID and secret",
                              error=True)
            return
        options = {"base_url": self.base_url_edit.text().strip()} if self.base_url_edit.text().strip() else {}
        with self.db.session() as s:
            acc = m.ChannelAccount(kind=ChannelKind.NAVER, name=name, external_id=app_id,
                                   auto_confirm=self.auto_confirm.isChecked(), options=json.dumps(options))
            s.add(acc)
            s.flush()
            account_id = acc.id
        set_secret(account_id, secret)
        self.secret_edit.clear()
        self._say_account(f"추가됨: {name} (시크릿은 OS 키링에 저장) / Added: {name} (secret in the OS keyring)")
        self.refresh()

    def _selected_account(self) -> int | None:
        rows = self.accounts.selectionModel().selectedRows()
        return self.accounts.item(rows[0].row(), 0).data(Qt.ItemDataRole.UserRole) if rows else None

    def test_selected(self) -> None:
        account_id = self._selected_account()
        if account_id is None:
            self._say_account("계정을 선택하세요 / Select an account", error=True)
            return
        with self.db.session() as s:
            account = s.get_one(m.ChannelAccount, account_id)

        def test() -> object:
            channel = make_channel(account)
            try:
                return channel.test_connection() if hasattr(channel, "test_connection") else True
            finally:
                getattr(channel, "close", lambda: None)()

        self._say_account("연결 중… / Connecting…")
        run_op(self, test, lambda _: self._say_account("연결 성공 / Connected"),
               lambda e: self._say_account("{} / {}".format(*error_text(e)) if isinstance(e, KnownError)
                                           else f"연결 실패 / Connection failed: {type(e).__name__}", error=True),
               name="test-account")

    def remove_selected(self) -> None:
        account_id = self._selected_account()
        if account_id is None:
            return
        if QMessageBox.question(self, "계정 삭제 / Remove account",
                                "수집을 멈추고 시크릿을 지웁니다. 주문 기록은 남습니다.\n"
                                "Collection stops and the secret is erased; collected orders stay.") \
                != QMessageBox.StandardButton.Yes:
            return
        self.deactivate(account_id)

    def deactivate(self, account_id: int) -> None:
        with self.db.session() as s:
            s.get_one(m.ChannelAccount, account_id).active = False
        delete_secret(account_id)
        self._say_account("삭제됨 / Removed")
        self.refresh()

    def _say_account(self, text: str, *, error: bool = False) -> None:
        self.account_message.setText(text)
        self.account_message.setProperty("error", error)
        self.account_message.setStyleSheet("color: #b71c1c; font-weight: bold;" if error else "color: #1b5e20;")

    def done(self, result: int) -> None:
        self._refresh_timer.stop()
        super().done(result)
