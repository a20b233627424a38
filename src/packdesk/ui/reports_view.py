"""Reports for supervisors: packs per hour (per packer and station), refusals by reason, recording storage; a
simple bar chart beside each table, and the whole report to Excel.

The numbers come from ``services/reports.py`` on a background op (``ui/ops.py``); this window only shows
them. The chart is drawn with QPainter: two kinds of bars need no chart library in the installer.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from pathlib import Path

from PySide6.QtCore import QDate, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QPainter, QPaintEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDateEdit,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMainWindow,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from packdesk.core.db import Database
from packdesk.core.errors import KnownError
from packdesk.core.kst import kst_text
from packdesk.services.reports import (
    KST,
    PULL_CANCELLED,
    PULL_HELD,
    BacklogRow,
    PullRow,
    Report,
    backlog,
    build_report,
    export_report,
    parcels_to_pull,
)
from packdesk.ui import files, ops
from packdesk.ui.i18n import both, plural, tr
from packdesk.ui.messages import error_message, reason_text


class BarChart(QWidget):
    """Bars with their labels and values; vertical (hours) or horizontal (reasons)."""

    def __init__(self, horizontal: bool = False, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.horizontal = horizontal
        self.bars: list[tuple[str, float]] = []
        self.setMinimumSize(360, 220)

    def set_bars(self, bars: list[tuple[str, float]]) -> None:
        self.bars = bars
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.fillRect(self.rect(), QColor("#ffffff"))
        if not self.bars:
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, tr("자료 없음 / No data"))
            p.end()
            return
        top = max(v for _, v in self.bars) or 1
        font = QFont(self.font())
        font.setPointSize(9)
        p.setFont(font)
        w, h, n = self.width(), self.height(), len(self.bars)
        if self.horizontal:  # labels as wide as the longest needs (two languages side by side), up to 60 %
            longest = max(p.fontMetrics().horizontalAdvance(label) for label, _ in self.bars) + 8
            label_w, row_h = min(longest, int(w * 0.6)), (h - 10) / n
            for i, (label, v) in enumerate(self.bars):
                y = 5 + i * row_h
                bar = QRectF(label_w + 5, y + row_h * 0.15, (w - label_w - 60) * v / top, row_h * 0.7)
                p.fillRect(bar, QColor("#c62828"))
                p.drawText(QRectF(0, y, label_w, row_h), Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                           label)
                p.drawText(QRectF(bar.right() + 4, y, 60, row_h), Qt.AlignmentFlag.AlignVCenter, f"{v:g}")
        else:
            base, col_w = h - 22, min(72.0, (w - 10) / n)  # a lone bar does not fill the whole width
            for i, (label, v) in enumerate(self.bars):
                x = 5 + i * col_w
                bar_h = (base - 18) * v / top
                p.fillRect(QRectF(x + col_w * 0.15, base - bar_h, col_w * 0.7, bar_h), QColor("#1565c0"))
                if v:
                    p.drawText(QRectF(x, base - bar_h - 16, col_w, 16), Qt.AlignmentFlag.AlignCenter, f"{v:g}")
                p.drawText(QRectF(x, base + 2, col_w, 18), Qt.AlignmentFlag.AlignCenter, label)
        p.end()


HOUR_COLUMNS = ("시간 / Hour", "스테이션 / Station", "작업자 / Packer", "포장 / Packs")
PACKER_COLUMNS = ("스테이션 / Station", "작업자 / Packer", "포장 / Packs", "시간당 / Per hour")
REASON_COLUMNS = ("사유 / Reason", "건수 / Count", "비율 / Share %")
STORAGE_COLUMNS = ("스테이션 / Station", "영상 / Recordings", "MB", "보관 / Kept")
BACKLOG_COLUMNS = ("계정 / Account", "오늘 / Today", "1일 / 1 day", "2–3일 / 2–3 days", "그 전 / Older",
                   "합계 / Total")
PULL_COLUMNS = ("왜 / Why", "송장 / Waybill", "계정 / Account", "주문번호 / Order no.", "수취인 / Recipient",
                "포장 / Packed", "바뀐 때 / Changed")
PULL_TEXT = {PULL_HELD: "보류 — 취소 요청, 판매자 답 대기 / Held — cancel requested, awaiting the seller",
             PULL_CANCELLED: "취소됨 — 포장 뒤 취소, 출고 금지 / Cancelled after packing — do not ship"}
PULL_DAYS = 14  # cancelled boxes listed for two weeks after the cancellation (held ones until answered)


def _table(headers: tuple[str, ...]) -> QTableWidget:
    t = QTableWidget(0, len(headers))
    t.setHorizontalHeaderLabels([tr(h) for h in headers])
    t.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    t.setSortingEnabled(True)
    t.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    t.verticalHeader().setVisible(False)
    return t


def _fill(table: QTableWidget, rows: list[list[object]]) -> None:
    table.setSortingEnabled(False)
    table.setRowCount(len(rows))
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            item = QTableWidgetItem()
            item.setData(Qt.ItemDataRole.DisplayRole, value)
            if isinstance(value, int | float):
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            table.setItem(r, c, item)
    table.setSortingEnabled(True)


class ReportsWindow(QMainWindow):
    report_ready = Signal(object)   # the Report shown
    exported = Signal(str)          # the file written
    floor_ready = Signal(object)    # (backlog rows, parcels to pull) shown

    def __init__(self, db: Database, video_root: Path | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.db, self.video_root = db, video_root
        self.report: Report | None = None
        self.busy = False
        self.setWindowTitle(tr("보고서 / Reports"))
        self.resize(1100, 720)
        today = _korea_today()  # the report's days are Korea's, not the PC's zone
        self.from_date = QDateEdit(today, objectName="reportFrom", calendarPopup=True)
        self.to_date = QDateEdit(today, objectName="reportTo", calendarPopup=True)
        for d in (self.from_date, self.to_date):
            d.setDisplayFormat("yyyy-MM-dd")
        buttons = []
        for text, days in ((tr("오늘 / Today"), 0), (tr("7일 / 7 days"), 6), (tr("30일 / 30 days"), 29)):
            b = QPushButton(text)
            b.clicked.connect(lambda _=False, d=days: self.set_days(d))
            buttons.append(b)
        self.refresh_button = QPushButton(tr("조회 / Show"), objectName="reportRefresh")
        self.refresh_button.clicked.connect(self.refresh)
        self.export_button = QPushButton(tr("엑셀로 저장… / Export to Excel…"), objectName="reportExport")
        self.export_button.clicked.connect(self._export_dialog)
        top = QHBoxLayout()
        period = QLabel(tr("기간 / Period"))
        for w in (period, self.from_date, QLabel("~"), self.to_date, *buttons, self.refresh_button):
            top.addWidget(w)
        top.addStretch(1)
        top.addWidget(self.export_button)
        self.summary = QLabel(objectName="reportSummary")
        self.summary.setStyleSheet("font-size: 16px;")
        self.message = QLabel(objectName="reportMessage")

        self.hour_chart = BarChart()
        self.hour_table = _table(HOUR_COLUMNS)
        self.packer_table = _table(PACKER_COLUMNS)
        self.reason_chart = BarChart(horizontal=True)
        self.reason_table = _table(REASON_COLUMNS)
        self.storage_table = _table(STORAGE_COLUMNS)
        self.backlog_table = _table(BACKLOG_COLUMNS)
        self.backlog_table.setObjectName("backlogTable")
        self.pull_table = _table(PULL_COLUMNS)
        self.pull_table.setObjectName("pullTable")
        self.backlog: list[BacklogRow] = []
        self.to_pull: list[PullRow] = []
        self.tabs = QTabWidget(objectName="reportTabs")
        self.tabs.addTab(self._split(self.hour_chart, self.hour_table), tr("시간대별 / Per hour"))
        self.tabs.addTab(self.packer_table, tr("작업자별 / Per packer"))
        self.tabs.addTab(self._split(self.reason_chart, self.reason_table), tr("거절 사유 / Refusals"))
        self.tabs.addTab(self.storage_table, tr("저장 공간 / Storage"))
        # what is left on the floor now, whatever the period: orders to pack by age, parcels to pull
        self.backlog_tab = self.tabs.addTab(self.backlog_table, tr("남은 주문 / Backlog"))
        self.pull_tab = self.tabs.addTab(self.pull_table, tr("빼낼 택배 / Parcels to pull"))

        body = QWidget()
        lay = QVBoxLayout(body)
        lay.addLayout(top)
        lay.addWidget(self.summary)
        lay.addWidget(self.tabs, 1)
        lay.addWidget(self.message)
        self.setCentralWidget(body)

    @staticmethod
    def _split(chart: QWidget, table: QWidget) -> QSplitter:
        s = QSplitter(Qt.Orientation.Vertical)
        s.addWidget(chart)
        s.addWidget(table)
        return s

    def set_days(self, days: int) -> None:
        today = _korea_today()
        self.from_date.setDate(today.addDays(-days))
        self.to_date.setDate(today)
        self.refresh()

    def period(self) -> tuple[datetime, datetime]:
        """The chosen days, whole, in the warehouse's time zone."""
        def start(d: QDate) -> datetime:
            return datetime.combine(d.toPython(), time(), tzinfo=KST).astimezone(UTC)

        since, until = start(self.from_date.date()), start(self.to_date.date()) + timedelta(days=1)
        return (since, until) if since < until else (until - timedelta(days=1), since + timedelta(days=1))

    def refresh(self) -> None:
        if self.busy:
            return
        self.busy = True
        self.message.setText(tr("조회 중… / Loading…"))
        since, until = self.period()
        ops.run(self, "report", lambda: build_report(self.db, since, until, self.video_root), self._show,
                self._failed)
        pull_since = datetime.now(UTC) - timedelta(days=PULL_DAYS)
        ops.read(self, "report-floor", self.db, lambda s: (backlog(s), parcels_to_pull(s, since=pull_since)),
                 self._show_floor, self._failed)

    def _show_floor(self, found: tuple[list[BacklogRow], list[PullRow]]) -> None:
        self.backlog, self.to_pull = found
        _fill(self.backlog_table, [[r.account, *r.counts(), r.total] for r in self.backlog])
        _fill(self.pull_table, [[tr(PULL_TEXT[r.why]), r.tracking_number, r.account, r.order_no, r.recipient_name,
                                 kst_text(r.packed_at, "%m-%d %H:%M"), kst_text(r.changed_at, "%m-%d %H:%M")]
                                for r in self.to_pull])
        left = sum(r.total for r in self.backlog)
        self.tabs.setTabText(self.backlog_tab, both(f"남은 주문 {left:,}건", f"Backlog: {plural(left, 'order')}"))
        self.tabs.setTabText(self.pull_tab, both(f"빼낼 택배 {len(self.to_pull):,}개",
                                                 f"To pull: {plural(len(self.to_pull), 'parcel')}"))
        self.floor_ready.emit(found)

    def _failed(self, e: KnownError) -> None:
        self.busy = False
        self.message.setText(error_message(e))

    def _show(self, report: Report) -> None:
        self.busy = False
        self.report = report
        refused = sum(n for _, n in report.refusals)
        free = f"{report.disk_free / 1e9:.1f} GB" if report.disk_free is not None else "-"
        self.summary.setText(both(f"포장 {report.packs}건 · 스캔 {report.scans}건 · 거절 {refused}건 · "
                                  f"영상 여유 공간 {free}",
                                  f"{plural(report.packs, 'pack')} · {plural(report.scans, 'scan')} · "
                                  f"{refused:,} refused · {free} free"))
        per_hour = report.per_hour()
        many_days = len({h.date() for h, _ in per_hour}) > 1
        if per_hour and not many_days:  # one day: every hour of the working day, the quiet ones too
            counts = dict(per_hour)
            first, last = min(8, per_hour[0][0].hour), max(19, per_hour[-1][0].hour)
            day = per_hour[0][0].replace(hour=0)
            per_hour = [(day.replace(hour=hh), counts.get(day.replace(hour=hh), 0)) for hh in range(first, last + 1)]
        hour_format = "%m-%d %H:00" if many_days else "%H:00"  # read alike in both languages
        self.hour_chart.set_bars([(h.strftime(hour_format), n) for h, n in per_hour])
        _fill(self.hour_table, [[r.hour.strftime("%Y-%m-%d %H:00"), r.station, r.packer, r.packs]
                                for r in report.hours])
        _fill(self.packer_table, [[st, p, n, round(rate, 1)] for st, p, n, rate in report.per_packer()])
        self.reason_chart.set_bars([(both(*reason_text(code)), n) for code, n in report.refusals[:12]])
        _fill(self.reason_table, [[both(*reason_text(code)), n, round(100 * n / refused, 1)]
                                  for code, n in report.refusals])
        _fill(self.storage_table, [[r.station, r.recordings, round(r.bytes / 1e6, 1), r.kept]
                                   for r in report.storage])
        self.message.setText("")
        self.report_ready.emit(report)

    def _export_dialog(self) -> None:
        if self.report is None:
            return
        since = self.report.since.astimezone(KST)
        chosen = files.save_file(self, "report", tr("보고서 저장 / Save report"),
                                 f"packdesk-report-{since:%Y%m%d}.xlsx", "Excel (*.xlsx)")
        if chosen:
            self.export_to(chosen)

    def export_to(self, path: Path) -> None:
        report = self.report
        if report is None:
            return
        def saved(p: Path) -> None:
            self.message.setText(both("저장됨", f"Saved: {p}"))
            self.exported.emit(str(p))

        ops.run(self, "report-export", lambda: export_report(report, path, reason_text), saved, self._failed)


def _korea_today() -> QDate:
    return QDate(datetime.now(KST).date())  # type: ignore[call-overload]
