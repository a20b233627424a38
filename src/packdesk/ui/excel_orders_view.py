"""Orders from Excel (엑셀 주문 가져오기): pick the sales platform and a sheet, check the column mapping, see the
preview, import; save the rows that failed, download a template, export orders and collection runs.

All rules live in ``channels/excel.py`` and ``services/excel_orders.py``; this screen only shows and asks.
Reading the sheet, checking it against the database, importing and writing files run as background ops
(``ui/ops.py``), so a 5,000-row sheet never freezes the window: progress comes back as queued signals and the
window keeps drawing. Platforms and column mappings are short writes on the station's DB worker; the import is
a service that commits in batches of its own.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QFont
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
    QProgressBar,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from packdesk.channels import excel as xl
from packdesk.core.errors import KnownError
from packdesk.core.kst import KST
from packdesk.services import excel_orders as eo
from packdesk.services.dbworker import DbWorker, Job
from packdesk.ui import ops
from packdesk.ui.cells import item_at
from packdesk.ui.i18n import both, language, one, pair, tr
from packdesk.ui.levels import LEVEL_STYLE, show_level
from packdesk.ui.messages import error_text

log = logging.getLogger("packdesk.ui.excel_orders")

STYLE = """
QWidget { font-size: 16px; }
QLabel#excelTitle { font-size: 24px; font-weight: bold; }
QGroupBox { font-weight: bold; margin-top: 12px; }
QGroupBox::title { subcontrol-origin: margin; left: 8px; padding: 0 4px; }
QHeaderView::section { font-weight: bold; padding: 6px; }
QPushButton { padding: 7px 16px; }
QPushButton#importOrders { background: #1565c0; color: white; font-weight: bold; }
QPushButton#importOrders:disabled { background: #90a4ae; }
QLineEdit, QComboBox, QSpinBox { min-height: 32px; }
"""

REQUIRED_FG = QColor("#b71c1c")
PERIODS = (("오늘 / Today", 1), ("최근 7일 / Last 7 days", 7), ("최근 30일 / Last 30 days", 30), ("전체 / All", 0))
PHASES = {"read": "파일 읽는 중 / Reading the file", "check": "확인 중 / Checking",
          "store": "저장 중 / Storing", "write": "파일 쓰는 중 / Writing the file"}
MAX_ERRORS_SHOWN = 1000


def no_column() -> str:
    """The combo entry for a field the sheet has no column for."""
    return tr("(없음 / none)")


def refusal_text(error: KnownError) -> tuple[str, str]:
    if isinstance(error, xl.ExcelError):
        return eo.error_texts(error)
    return error_text(error)


class ExcelOrdersView(QDialog):
    """엑셀 주문 가져오기 / Import orders from Excel."""

    platforms_loaded = Signal(int)       # platforms in the combo
    file_loaded = Signal(int)            # data rows read
    previewed = Signal(object)           # eo.Preview, or None when the mapping lacks a required column
    progress_changed = Signal(int, int)  # done, total (0, 0: busy without a count)
    imported = Signal(object)            # eo.ImportResult
    mapping_saved = Signal(int)          # platform id
    failure_saved = Signal(str, int)     # path, rows
    template_saved = Signal(str)
    exported = Signal(str, int)          # path, rows
    refused = Signal(str)                # an error code, after it is on screen

    def __init__(self, worker: DbWorker, operator: str = "", parent: QWidget | None = None,
                 check_digit: dict[str, str] | None = None) -> None:
        super().__init__(parent)
        self.check_digit = dict(check_digit or {})  # couriers whose wrong check digit only warns
        self.worker = worker  # the station's DB worker: platforms and mappings are written in order with its packs
        self.db = worker.db
        self.operator = operator
        self.platforms: list[eo.Platform] = []
        self.path: Path | None = None
        self.sheet: xl.Sheet | None = None
        self.preview: eo.Preview | None = None
        self.last_result: eo.ImportResult | None = None
        self._importing = False
        self._closed = False
        self._generation = 0

        self.setWindowTitle(tr("엑셀 주문 가져오기 / Import orders from Excel"))
        avail = self.screen().availableGeometry()  # a station PC may have a 1366x768 screen
        self.resize(min(1480, int(avail.width() * 0.95)), min(900, int(avail.height() * 0.92)))
        self.setStyleSheet(STYLE)
        self._build()
        self._show_preview()
        self.reload_platforms()

    # ------------------------------------------------------------------ layout

    def _build(self) -> None:
        title = QLabel(tr("엑셀 주문 가져오기 / Import orders from Excel"), objectName="excelTitle")
        hint = QLabel(tr("판매처를 고르고 주문 엑셀(.xlsx)을 선택하세요. 열 설정은 판매처마다 저장됩니다. / "
                         "Pick the sales platform and an order sheet (.xlsx); the columns are remembered per "
                         "platform."))
        hint.setWordWrap(True)

        self.platform_combo = QComboBox(objectName="platformCombo")
        self.platform_combo.setMinimumWidth(220)
        self.platform_combo.currentIndexChanged.connect(lambda _: self._platform_changed())
        self.new_platform = QLineEdit(objectName="newPlatformName")
        self.new_platform.setPlaceholderText(tr("새 판매처 이름 / New platform name"))
        self.new_platform.returnPressed.connect(self._add_platform_clicked)
        self.add_platform_button = QPushButton(tr("판매처 추가 / Add platform"), objectName="addPlatform")
        self.add_platform_button.clicked.connect(self._add_platform_clicked)
        top = QHBoxLayout()
        top.addWidget(QLabel(tr("판매처 / Sales platform")))
        top.addWidget(self.platform_combo)
        top.addSpacing(16)
        top.addWidget(self.new_platform, 1)
        top.addWidget(self.add_platform_button)

        self.file_label = QLabel(tr("파일을 선택하세요 / Choose a file"), objectName="fileLabel")
        self.choose_button = QPushButton(tr("파일 선택… / Choose file…"), objectName="chooseFile")
        self.choose_button.clicked.connect(self._choose_file_clicked)
        # a workbook's orders may sit behind an instruction sheet: the likeliest is chosen, any can be
        self.sheet_combo = QComboBox(objectName="excelSheet")
        self.sheet_combo.setMinimumWidth(140)
        self.sheet_combo.setEnabled(False)
        self.sheet_combo.setToolTip(tr("주문이 있는 시트 / The sheet with the orders"))
        self.sheet_combo.currentIndexChanged.connect(lambda _: self._sheet_chosen())
        self.header_spin = QSpinBox(objectName="headerRow")
        self.header_spin.setRange(0, xl.HEADER_SCAN_ROWS)
        self.header_spin.setSpecialValueText(tr("자동 / auto"))
        self.header_spin.valueChanged.connect(lambda _: self._reload_file())
        self.template_button = QPushButton(tr("양식 다운로드 / Download template"), objectName="downloadTemplate")
        self.template_button.clicked.connect(self._template_clicked)
        file_row = QHBoxLayout()
        file_row.addWidget(self.choose_button)
        file_row.addWidget(self.file_label, 1)
        file_row.addWidget(QLabel(tr("시트 / Sheet")))
        file_row.addWidget(self.sheet_combo)
        file_row.addWidget(QLabel(tr("머리글 행 / Header row")))
        file_row.addWidget(self.header_spin)
        file_row.addWidget(self.template_button)

        # the mapping: one combo per field listing the sheet's headers
        map_box = QGroupBox(tr("열 설정 / Columns"))
        mv = QVBoxLayout(map_box)
        self.mapping = QTableWidget(len(xl.FIELDS), 3, objectName="mappingTable")
        self.mapping.setHorizontalHeaderLabels([tr("항목 / Field"), tr("엑셀 열 / Sheet column"),
                                                tr("첫 행 / First row")])
        self.mapping.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.mapping.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.mapping.verticalHeader().setVisible(False)
        self.mapping.verticalHeader().setDefaultSectionSize(36)
        self.combos: dict[str, QComboBox] = {}
        bold = QFont()
        bold.setBold(True)
        for row, f in enumerate(xl.FIELDS):
            item = QTableWidgetItem(both(f.ko, f.en) + (" *" if f.required else ""))
            if f.required:
                item.setForeground(REQUIRED_FG)
                item.setFont(bold)
                item.setToolTip(tr("필수 / Required"))
            self.mapping.setItem(row, 0, item)
            combo = QComboBox(objectName=f"column_{f.key}")
            combo.addItem(no_column(), "")
            combo.currentIndexChanged.connect(lambda _, key=f.key: self._mapping_changed(key))
            self.combos[f.key] = combo
            self.mapping.setCellWidget(row, 1, combo)
            self.mapping.setItem(row, 2, QTableWidgetItem(""))
        mh = self.mapping.horizontalHeader()
        mh.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        mh.setSectionResizeMode(1, QHeaderView.ResizeMode.Interactive)
        mh.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.mapping.setColumnWidth(1, 200)
        self.save_mapping_button = QPushButton(tr("열 설정 저장 / Save columns"), objectName="saveColumns")
        self.save_mapping_button.clicked.connect(self.save_mapping)
        mv.addWidget(self.mapping, 1)
        mv.addWidget(QLabel(tr("* 필수 / required")))
        mv.addWidget(self.save_mapping_button)

        # the preview: counts and the rows that will not be imported
        prev_box = QGroupBox(tr("미리보기 / Preview"))
        pv = QVBoxLayout(prev_box)
        self.summary = QLabel(objectName="previewSummary")
        self.summary.setTextFormat(Qt.TextFormat.RichText)
        self.summary.setWordWrap(True)
        self.error_title = QLabel(objectName="previewErrorTitle")
        # the reason in Korean and in English, each a column of its own; in English, the English one only
        self.reason_columns = 2 if language() == "ko" else 1
        self.errors = QTableWidget(0, 2 + self.reason_columns, objectName="errorTable")
        self.errors.setHorizontalHeaderLabels(
            [tr("행 / Row"), tr("항목 / Field"), *pair("사유", "Reason")][:2 + self.reason_columns])
        self.errors.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.errors.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.errors.verticalHeader().setVisible(False)
        self.errors.setWordWrap(True)
        eh = self.errors.horizontalHeader()
        eh.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        eh.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        for col in range(2, 2 + self.reason_columns):
            eh.setSectionResizeMode(col, QHeaderView.ResizeMode.Stretch)
        pv.addWidget(self.summary)
        pv.addWidget(self.error_title)
        pv.addWidget(self.errors, 1)
        self.import_button = QPushButton(tr("가져오기 / Import"), objectName="importOrders")
        self.import_button.setMinimumWidth(300)
        self.import_button.clicked.connect(self.import_now)
        self.failure_button = QPushButton(tr("실패 행 저장… / Save failure file…"), objectName="saveFailures")
        self.failure_button.clicked.connect(self._failure_clicked)
        actions = QHBoxLayout()
        actions.addWidget(self.import_button)
        actions.addWidget(self.failure_button)
        actions.addStretch(1)
        pv.addLayout(actions)

        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(map_box)
        splitter.addWidget(prev_box)
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([660, 800])

        self.progress = QProgressBar(objectName="importProgress")
        self.progress.setTextVisible(True)
        self.progress.hide()
        self.progress_label = QLabel("", objectName="progressLabel")
        self.message = QLabel(objectName="excelMessage")
        self.message.setWordWrap(True)
        progress_row = QHBoxLayout()
        progress_row.addWidget(self.progress_label)
        progress_row.addWidget(self.progress, 1)

        self.period_combo = QComboBox(objectName="exportPeriod")
        for text, days in PERIODS:
            self.period_combo.addItem(tr(text), days)
        self.period_combo.setCurrentIndex(1)
        self.only_platform = QCheckBox(tr("선택한 판매처만 / Selected platform only"), objectName="exportOnlyPlatform")
        self.only_platform.setChecked(True)
        self.export_orders_button = QPushButton(tr("주문 내보내기… / Export orders…"), objectName="exportOrders")
        self.export_orders_button.clicked.connect(self._export_orders_clicked)
        self.export_runs_button = QPushButton(tr("수집 기록 내보내기… / Export runs…"), objectName="exportRuns")
        self.export_runs_button.clicked.connect(self._export_runs_clicked)
        self.close_button = QPushButton(tr("닫기 / Close"), objectName="closeExcel")
        self.close_button.clicked.connect(self.accept)
        bottom = QHBoxLayout()
        bottom.addWidget(self.export_orders_button)
        bottom.addWidget(self.export_runs_button)
        bottom.addWidget(self.period_combo)
        bottom.addWidget(self.only_platform)
        bottom.addStretch(1)
        bottom.addWidget(self.close_button)

        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addWidget(hint)
        layout.addLayout(top)
        layout.addLayout(file_row)
        layout.addWidget(splitter, 1)
        layout.addLayout(progress_row)
        layout.addWidget(self.message)
        layout.addLayout(bottom)
        for b in self.findChildren(QPushButton):  # Enter in the name box must add, never press another button
            b.setAutoDefault(False)
            b.setDefault(False)
        self._update_buttons()

    # ------------------------------------------------------------------ background work

    @property
    def busy(self) -> bool:
        return ops.pending(self) > 0

    @property
    def importing(self) -> bool:
        return self._importing

    def _run(self, name: str, fn: Callable[[], Any], done: Callable[[Any], None],
             refused: Callable[[KnownError], None] | None = None, phase: str = "") -> None:
        """A file read or written, or a service that opens its own transactions (``ops.run``)."""
        self._op(lambda answered, failed: ops.run(self, name, fn, answered, failed), done, refused, phase)

    def _read_db(self, name: str, job: Job[Any], done: Callable[[Any], None], phase: str = "") -> None:
        """A read on a session of its own (``ops.read``)."""
        self._op(lambda answered, failed: ops.read(self, name, self.db, job, answered, failed), done, None, phase)

    def _write(self, name: str, job: Job[Any], done: Callable[[Any], None]) -> None:
        """A short write on the station's DB worker, in order with its packs (``ops.write``)."""
        self._op(lambda answered, failed: ops.write(self, name, self.worker, job, answered, failed), done)

    def _op(self, start: Callable[[Callable[[Any], None], Callable[[KnownError], None]], None],
            done: Callable[[Any], None], refused: Callable[[KnownError], None] | None = None,
            phase: str = "") -> None:
        """Start an op with the progress bar shown; ``done`` back on the UI thread. A ``KnownError`` is shown to
        the person; anything else is our bug, logged by ``ui/ops.py`` and shown as an error."""
        self._on_progress(phase or "check", 0, 0)

        def answered(result: Any) -> None:
            self._ended()
            done(result)
            self._update_buttons()

        def failed(error: KnownError) -> None:
            self._ended()
            if refused is not None:
                refused(error)
            self._show_refusal(error)
            self._update_buttons()

        start(answered, failed)
        self._update_buttons()

    def _ended(self) -> None:
        if not self.busy:
            self.progress.hide()
            self.progress_label.setText("")

    def _thread_progress(self, phase: str) -> Callable[[int, int], None]:
        """A progress callback for a worker thread: at most about a hundred updates reach the window."""
        last = [-1]
        tell = ops.progress(self, self._on_progress)  # on the UI thread, only while this window exists

        def report(done: int, total: int) -> None:
            step = done * 100 // total if total else -1
            if step == last[0] and done != total:
                return
            last[0] = step
            tell(phase, done, total)

        return report

    def _on_progress(self, phase: str, done: int, total: int) -> None:
        if self._closed:
            return
        self.progress.setRange(0, max(total, 0))
        self.progress.setValue(min(done, total) if total else 0)
        self.progress.setFormat(f"{done:,} / {total:,}" if total else "")
        self.progress.show()
        # a sheet that does not say its size
        counted = one(f" — {done:,}행 / rows", f" — {done:,} rows") if done and not total else ""
        self.progress_label.setText(tr(PHASES.get(phase, phase)) + counted)
        self.progress_changed.emit(done, total)

    # ------------------------------------------------------------------ platforms

    def current_platform(self) -> eo.Platform | None:
        pid = self.platform_combo.currentData()
        return next((p for p in self.platforms if p.id == pid), None)

    def reload_platforms(self, select_id: int | None = None) -> None:
        self._read_db("excel-platforms", eo.list_platforms, lambda ps: self._platforms_loaded(ps, select_id))

    def _platforms_loaded(self, platforms: list[eo.Platform], select_id: int | None) -> None:
        keep = select_id if select_id is not None else self.platform_combo.currentData()
        self.platforms = platforms
        self.platform_combo.blockSignals(True)
        self.platform_combo.clear()
        for p in platforms:
            self.platform_combo.addItem(p.name, p.id)
        index = self.platform_combo.findData(keep) if keep is not None else 0
        self.platform_combo.setCurrentIndex(max(0, index))
        self.platform_combo.blockSignals(False)
        if not platforms:
            self.show_message("info", tr("판매처를 먼저 추가하세요 (예: 쿠팡 수기, 자사몰) / "
                                         "Add a sales platform first (e.g. the shop the sheet comes from)"))
            self.new_platform.setFocus()
        self.platforms_loaded.emit(len(platforms))
        self._platform_changed()

    def _add_platform_clicked(self) -> None:
        self.add_platform(self.new_platform.text())

    def add_platform(self, name: str) -> None:
        self._write("excel-platform-add", lambda s: eo.create_platform(s, name), self._platform_added)

    def _platform_added(self, platform: eo.Platform) -> None:
        self.new_platform.clear()
        self.show_message("success", both(f"판매처를 추가했습니다: {platform.name}",
                                          f"Sales platform added: {platform.name}"))
        self.reload_platforms(select_id=platform.id)

    def _platform_changed(self) -> None:
        if self.sheet is not None:
            self._apply_columns(self.sheet)
            self.refresh_preview()
        self._update_buttons()

    # ------------------------------------------------------------------ the file

    def _choose_file_clicked(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, tr("주문 엑셀 선택 / Choose an order sheet"), "",
                                              "Excel (*.xlsx);;" + tr("모든 파일 / All files (*)"))
        if path:
            self.load_file(Path(path))

    def load_file(self, path: Path) -> None:
        """Read the likeliest sheet off the UI thread (the one whose header names the most known columns),
        then map its columns and show the preview; nothing is written."""
        self.path = Path(path)
        self.sheet_combo.blockSignals(True)
        self.sheet_combo.clear()  # the last file's sheets are not this one's
        self.sheet_combo.blockSignals(False)
        self._read(self.path)

    def _reload_file(self) -> None:
        if self.path is not None:
            self._read(self.path, self.sheet_combo.currentData() or None)

    def _sheet_chosen(self) -> None:
        """Another sheet of the same workbook: its own header row is found again."""
        name = self.sheet_combo.currentData()
        if self.path is None or not name or (self.sheet is not None and self.sheet.title == name):
            return
        self.header_spin.blockSignals(True)
        self.header_spin.setValue(0)
        self.header_spin.blockSignals(False)
        self._read(self.path, name)

    def _read(self, path: Path, sheet_name: str | None = None) -> None:
        platform = self.current_platform()
        hints = tuple(h for h in platform.columns.values() if h) if platform else ()
        prefer = platform.header_row if platform else None
        header_row = self.header_spin.value() or None
        self.file_label.setText(both("읽는 중", f"Reading: {path.name}"))
        self._generation += 1  # a preview of the previous file is of no use any more
        self.sheet = None
        self.preview = None
        self._show_preview()
        progress = self._thread_progress("read")
        self._run("excel-read", lambda: xl.read_sheet(path, header_row, hints=hints, prefer_row=prefer,
                                                            progress=progress, sheet_name=sheet_name),
                        self._sheet_loaded, refused=lambda _: self.file_label.setText(path.name), phase="read")

    def _sheet_loaded(self, sheet: xl.Sheet) -> None:
        self.sheet = sheet
        self.sheet_combo.blockSignals(True)
        self.sheet_combo.clear()
        for name in sheet.sheets or (sheet.title,):
            self.sheet_combo.addItem(name, name)
        self.sheet_combo.setCurrentIndex(max(0, self.sheet_combo.findData(sheet.title)))
        self.sheet_combo.blockSignals(False)
        self.file_label.setText(one(f"{sheet.file_name} · {sheet.title} · 머리글 {sheet.header_row}행 / header row "
                                    f"{sheet.header_row} · {len(sheet.rows):,}행 / rows",
                                    f"{sheet.file_name} · {sheet.title} · header row {sheet.header_row} · "
                                    f"{len(sheet.rows):,} rows"))
        self._apply_columns(sheet)
        self.file_loaded.emit(len(sheet.rows))
        self.refresh_preview()

    def _apply_columns(self, sheet: xl.Sheet) -> None:
        columns = eo.columns_for(sheet, self.current_platform(), xl.guess_columns(sheet.headers))
        first = sheet.first_values()
        for row, f in enumerate(xl.FIELDS):
            combo = self.combos[f.key]
            combo.blockSignals(True)
            combo.clear()
            combo.addItem(no_column(), "")
            for h in sheet.headers:
                combo.addItem(h, h)
            combo.setCurrentIndex(max(0, combo.findData(columns.get(f.key, ""))))
            combo.blockSignals(False)
            item_at(self.mapping, row, 2).setText(first.get(columns.get(f.key, ""), ""))

    def columns(self) -> dict[str, str]:
        """The mapping as the combos show it: field key -> header ("" for no column)."""
        return {key: combo.currentData() or "" for key, combo in self.combos.items()}

    def set_column(self, key: str, header: str) -> None:
        """Choose a column for a field (what picking it in the combo does)."""
        combo = self.combos[key]
        combo.setCurrentIndex(max(0, combo.findData(header)))

    def _mapping_changed(self, key: str) -> None:
        if self.sheet is None:
            return
        row = next(i for i, f in enumerate(xl.FIELDS) if f.key == key)
        item_at(self.mapping, row, 2).setText(self.sheet.first_values().get(self.combos[key].currentData() or "", ""))
        self.refresh_preview()

    def save_mapping(self) -> None:
        platform, sheet = self.current_platform(), self.sheet
        if platform is None:
            return
        columns = self.columns()
        header_row = sheet.header_row if sheet is not None else None

        self._write("excel-mapping", lambda s: eo.save_mapping(s, platform.id, columns, header_row),
                 self._mapping_saved)

    def _mapping_saved(self, platform: eo.Platform) -> None:
        self.platforms = [platform if p.id == platform.id else p for p in self.platforms]
        self.show_message("success", both(f"열 설정을 저장했습니다: {platform.name}",
                                          f"Columns saved for {platform.name}"))
        self.mapping_saved.emit(platform.id)

    # ------------------------------------------------------------------ preview

    def refresh_preview(self) -> None:
        """Check the sheet with the columns as chosen now, against the database; older answers are dropped."""
        sheet, platform = self.sheet, self.current_platform()
        self._generation += 1
        gen = self._generation
        if sheet is None or platform is None:
            self.preview = None
            self._show_preview()
            return
        columns = {k: v for k, v in self.columns().items() if v}

        def refused(error: KnownError) -> None:
            if gen == self._generation:
                self.preview = None
                self._show_preview(error)
                self.previewed.emit(None)

        db, check_digit = self.db, self.check_digit
        # a run: the preview reads in short sessions of its own as it checks the rows
        self._run("excel-preview", lambda: eo.preview_sheet(db, platform.id, sheet, columns, check_digit),
                 lambda p: self._previewed(gen, p), refused=refused)

    def _previewed(self, gen: int, preview: eo.Preview) -> None:
        if gen != self._generation:
            return
        self.preview = preview
        self._show_preview()
        self.previewed.emit(preview)

    def _show_preview(self, problem: KnownError | None = None) -> None:
        p = self.preview
        if p is None:
            if problem is not None:
                ko, en = refusal_text(problem)
                self.summary.setText(one(f"<b>{ko}</b><br>{en}", f"<b>{en}</b>"))
            elif self.sheet is not None and self.current_platform() is None:
                self.summary.setText(tr("판매처를 고르거나 추가하세요 / Pick or add a sales platform"))
            else:
                self.summary.setText(tr("주문 엑셀을 선택하면 여기에 미리보기가 나옵니다 / "
                                        "Choose an order sheet to see what would be imported"))
            self.summary.setStyleSheet(LEVEL_STYLE["error"] if problem is not None else "")
            self.error_title.setText("")
            self.errors.setRowCount(0)
            self.errors.hide()
            self._update_buttons()
            return
        self.summary.setStyleSheet("")
        platform = self.current_platform()
        lines = [
            f"<b>{p.file_name}</b> → {platform.name if platform else ''}",
            both(f"읽은 행 {p.rows_read:,}개", f"{p.rows_read:,} rows read"),
            both(f"새로 가져올 행 {p.new_rows:,}개", f"{p.new_rows:,} new rows to import"),
        ]
        if p.waybill_added:
            lines.append(both(f"송장번호 추가 {p.waybill_added:,}개", f"{p.waybill_added:,} tracking numbers added"))
        lines.append(both(f"이미 가져온 행 {p.duplicates:,}개 (건너뜀)",
                          f"{p.duplicates:,} already imported (skipped)"))
        if p.not_linked_products:
            lines.append("<span style='color:#e65100'>"
                         + both(f"상품 연결이 없는 상품 {p.not_linked_products:,}개 ({p.not_linked_rows:,}행) — "
                                "가져온 뒤 상품 연결에서 연결하세요",
                                f"{p.not_linked_products:,} products ({p.not_linked_rows:,} rows) not linked yet — "
                                "link them in Product links")
                         + "</span>")
        self.summary.setText("<br>".join(lines))
        n_err = len(p.error_rows)
        self.error_title.setText(
            both(f"오류가 있는 행 {n_err:,}개 — 이 행들은 가져오지 않습니다",
                 f"{n_err:,} rows with errors — not imported")
            if n_err else tr("오류 없음 / No errors"))
        self.error_title.setStyleSheet(LEVEL_STYLE["error" if n_err else "success"])
        shown = p.errors[:MAX_ERRORS_SHOWN]
        self.errors.setUpdatesEnabled(False)
        self.errors.setRowCount(len(shown))
        for i, e in enumerate(shown):
            f = xl.BY_KEY.get(e.field)
            reasons = (e.ko, e.en)[2 - self.reason_columns:]
            for col, text in enumerate((str(e.row), both(f.ko, f.en) if f else "", *reasons)):
                item = QTableWidgetItem(text)
                item.setToolTip(text)
                self.errors.setItem(i, col, item)
        if len(shown) <= 200:  # longer lists stay one line a row: fitting thousands of rows takes seconds
            self.errors.resizeRowsToContents()
        self.errors.setUpdatesEnabled(True)
        self.errors.setVisible(bool(shown))
        if len(p.errors) > len(shown):
            more = one(f" · 처음 {len(shown):,}개만 표시 — 전체는 실패 행 저장으로 / "
                       f"first {len(shown):,} shown — save the failure file",
                       f" · first {len(shown):,} shown — save the failure file")
            self.error_title.setText(self.error_title.text() + more)
        self._update_buttons()

    # ------------------------------------------------------------------ import

    def import_now(self) -> None:
        """Store the preview's new lines (and tracking numbers) as one collection run; the columns are saved."""
        p, sheet, platform = self.preview, self.sheet, self.current_platform()
        if p is None or sheet is None or platform is None or not p.importable or self._importing:
            return
        columns, header_row, operator = self.columns(), sheet.header_row, self.operator
        progress = self._thread_progress("store")

        db = self.db

        def job() -> eo.ImportResult:
            # a run, not a write on the station's DB worker: the import commits in batches of its own (a long
            # job would hold the station's scans behind it); the columns go first, in a short transaction
            return eo.import_with_columns(db, p, operator, columns, header_row, progress=progress)

        self._importing = True
        self.show_message("info", both(f"가져오는 중: {p.importable:,}행", f"Importing {p.importable:,} rows…"))
        self._run("excel-import", job, self._imported, refused=lambda _: self._import_ended(), phase="store")

    def _import_ended(self) -> None:
        self._importing = False

    def _imported(self, result: eo.ImportResult) -> None:
        self._importing = False
        self.last_result = result
        r = result
        self.show_message("success", both(
            f"가져왔습니다: 새 행 {r.new_rows:,}개"
            + (f", 송장번호 추가 {r.waybill_added:,}개" if r.waybill_added else "")
            + f", 건너뜀 {r.duplicates:,}개"
            + (f", 오류 {r.error_rows:,}행 (실패 행 저장으로 고쳐서 다시 가져오세요)" if r.error_rows else "")
            + (f" · 상품 연결 필요 {r.not_linked_products:,}개" if r.not_linked_products else "")
            + (f" · 보류 주문 {r.counts.set_aside:,}건 (수집 기록의 오류 참조)" if r.counts.set_aside else ""),
            f"Imported: {r.new_rows:,} new rows"
            + (f", {r.waybill_added:,} tracking numbers added" if r.waybill_added else "")
            + f", {r.duplicates:,} already there"
            + (f", {r.error_rows:,} rows with errors (save the failure file, fix, import it again)"
               if r.error_rows else "")
            + (f" · {r.not_linked_products:,} products to link" if r.not_linked_products else "")
            + (f" · {r.counts.set_aside:,} orders set aside (see the run's error)" if r.counts.set_aside else "")))
        if self.sheet is not None:
            plat = self.current_platform()
            if plat is not None:  # the columns were saved with the import
                saved = eo.Platform(plat.id, plat.name, self.columns(), self.sheet.header_row)
                self.platforms = [saved if q.id == plat.id else q for q in self.platforms]
        self.imported.emit(result)
        self.refresh_preview()  # what is left: duplicates now, and the rows with errors

    # ------------------------------------------------------------------ files we write

    def _save_path(self, title: str, name: str) -> Path | None:
        path, _ = QFileDialog.getSaveFileName(self, title, name, "Excel (*.xlsx)")
        if not path:
            return None
        p = Path(path)
        return p if p.suffix.lower() == ".xlsx" else p.with_name(p.name + ".xlsx")

    def _failure_clicked(self) -> None:
        stem = Path(self.sheet.file_name).stem if self.sheet else "orders"
        path = self._save_path(tr("실패 행 저장 / Save failure file"),
                               one(f"{stem}-오류행.xlsx", f"{stem}-failed-rows.xlsx"))
        if path is not None:
            self.save_failure_file_to(path)

    def save_failure_file_to(self, path: Path) -> None:
        """The rows not imported, as they were, with the reason in a last column."""
        sheet, p = self.sheet, self.preview
        if sheet is None or p is None or not p.errors:
            return
        errors = p.errors
        self._run("excel-failures", lambda: xl.write_failure_file(path, sheet, errors),
                 lambda n: self._failure_saved(path, n), phase="write")

    def _failure_saved(self, path: Path, rows: int) -> None:
        self.show_message("success", both(f"실패 행 {rows:,}개를 저장했습니다 — 고쳐서 다시 가져오세요",
                                          f"Saved {rows:,} failed rows — fix them and import the file again: {path}"))
        self.failure_saved.emit(str(path), rows)

    def _template_clicked(self) -> None:
        path = self._save_path(tr("양식 저장 / Save template"),
                               one("packdesk-주문양식.xlsx", "packdesk-order-template.xlsx"))
        if path is not None:
            self.save_template_to(path)

    def save_template_to(self, path: Path) -> None:
        self._run("excel-template", lambda: xl.write_template(path), lambda _: self._template_saved(path),
                 phase="write")

    def _template_saved(self, path: Path) -> None:
        self.show_message("success", both("양식을 저장했습니다", f"Template saved: {path}"))
        self.template_saved.emit(str(path))

    def _export_scope(self) -> tuple[int | None, datetime | None]:
        platform = self.current_platform()
        account_id = platform.id if platform is not None and self.only_platform.isChecked() else None
        return account_id, eo.days_ago(self.period_combo.currentData())

    def _export_orders_clicked(self) -> None:
        today = f"{datetime.now(KST):%Y%m%d}"
        path = self._save_path(tr("주문 내보내기 / Export orders"),
                               one(f"packdesk-주문-{today}.xlsx", f"packdesk-orders-{today}.xlsx"))
        if path is not None:
            self.export_orders_to(path)

    def export_orders_to(self, path: Path) -> None:
        account_id, since = self._export_scope()

        self._read_db("excel-export-orders", lambda s: eo.export_orders(s, path, account_id, since),
                 lambda n: self._exported(path, n), phase="write")

    def _export_runs_clicked(self) -> None:
        today = f"{datetime.now(KST):%Y%m%d}"
        path = self._save_path(tr("수집 기록 내보내기 / Export runs"),
                               one(f"packdesk-수집기록-{today}.xlsx", f"packdesk-collection-runs-{today}.xlsx"))
        if path is not None:
            self.export_runs_to(path)

    def export_runs_to(self, path: Path) -> None:
        account_id, since = self._export_scope()

        self._read_db("excel-export-runs", lambda s: eo.export_runs(s, path, account_id, since),
                 lambda n: self._exported(path, n), phase="write")

    def _exported(self, path: Path, rows: int) -> None:
        self.show_message("success", both(f"{rows:,}행을 저장했습니다", f"Saved {rows:,} rows: {path}"))
        self.exported.emit(str(path), rows)

    # ------------------------------------------------------------------ buttons, messages, closing

    def _update_buttons(self) -> None:
        p = self.preview
        has_platform = self.current_platform() is not None
        self.import_button.setEnabled(p is not None and p.importable > 0 and has_platform and not self._importing)
        self.import_button.setText(both(f"가져오기 ({p.importable:,}행)", f"Import ({p.importable:,} rows)")
                                   if p is not None and p.importable else tr("가져오기 / Import"))
        self.failure_button.setEnabled(p is not None and bool(p.errors) and not self._importing)
        self.save_mapping_button.setEnabled(has_platform and self.sheet is not None and not self._importing)
        for w in (self.choose_button, self.header_spin, self.platform_combo, self.add_platform_button):
            w.setEnabled(not self._importing)
        self.sheet_combo.setEnabled(self.sheet_combo.count() > 1 and not self._importing)
        for combo in self.combos.values():
            combo.setEnabled(self.sheet is not None and not self._importing)

    def show_message(self, level: str, text: str) -> None:
        show_level(self.message, level, text)

    def _show_refusal(self, error: KnownError) -> None:
        ko, en = refusal_text(error)
        self.show_message("error", both(ko, en))
        log.info("Excel orders screen refused: %s %s (%s)", error.code, error.params, error.detail)
        self.refused.emit(error.code)

    def done(self, result: int) -> None:
        if self._importing:  # the import goes on in its thread; leaving now would hide how it ended
            self.show_message("info", tr("가져오는 중입니다 — 끝나면 닫을 수 있습니다 / "
                                         "Importing — close when it is done"))
            return
        self._closed = True
        super().done(result)
