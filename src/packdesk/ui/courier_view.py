"""택배 송장 / Courier waybills: the courier program's Excel round trip for a supervisor.

Export the parcels waiting for a label as the courier program's upload sheet, import the program's result
sheet of issued tracking numbers (its columns mapped and remembered per template, every row classified in a
preview before anything is written), and edit the column templates. The rules live in
``services/courier_sheets.py``; this screen shows and asks. Reading files, the database and writing files run
as background ops (``ui/ops.py``; the export's marks on the station's DB worker), so a long sheet never freezes
the window; an answer that arrives after the person changed the mapping or the file is dropped.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from PySide6.QtCore import QDate, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from packdesk.channels import excel as xl
from packdesk.core import couriers
from packdesk.core.errors import KnownError
from packdesk.core.filenames import safe_file_part
from packdesk.core.kst import KST
from packdesk.services import courier_sheets as cs
from packdesk.services.dbworker import DbWorker, Job
from packdesk.ui import files, ops
from packdesk.ui.i18n import both, one, plural, tr, two_lines
from packdesk.ui.levels import show_level
from packdesk.ui.messages import error_text
from packdesk.ui.orders_view import courier_text

log = logging.getLogger("packdesk.ui.courier")

STYLE = """
QWidget { font-size: 15px; }
QLabel#courierTitle { font-size: 22px; font-weight: bold; }
QGroupBox { font-weight: bold; margin-top: 12px; }
QGroupBox::title { subcontrol-origin: margin; left: 8px; padding: 0 4px; }
QHeaderView::section { font-weight: bold; padding: 5px; }
QPushButton { padding: 6px 14px; }
QPushButton#courierExport, QPushButton#courierImport { background: #1565c0; color: white; font-weight: bold; }
QPushButton#courierExport:disabled, QPushButton#courierImport:disabled { background: #90a4ae; }
QLineEdit, QComboBox, QSpinBox, QDateEdit { min-height: 30px; }
"""
PERIODS = (("오늘 / Today", 1), ("최근 7일 / Last 7 days", 7), ("전체 / All", 0), ("기간 지정 / Dates", -1))
ROWS_PER = (("택배마다 한 행 / One row per parcel", "parcel"), ("상품마다 한 행 / One row per line", "line"))
PREVIEW_COLUMNS = ("행 / Row", "결과 / Result", "참조 / Reference", "택배 키 / Parcel key",
                   "송장번호 / Tracking no.", "사유 / Reason")
EDITOR_COLUMNS = ("머리글 / Header", "항목 / Field", "고정 값 / Fixed text")
CLASS_COLOUR: Mapping[cs.RowClass, str] = {
    cs.RowClass.MATCHED: "#e8f5e9", cs.RowClass.ALREADY: "#eceff1", cs.RowClass.REPEAT: "#eceff1",
}
WARNING_COLOUR, FAILED_COLOUR = "#fff3e0", "#ffebee"
MAX_ROWS_SHOWN = 2000


def no_column() -> str:
    return tr("(없음 / none)")


def class_text(status: cs.RowClass) -> str:
    return both(*cs.CLASS_TEXT[status])


def refusal_text(error: KnownError) -> tuple[str, str]:
    """A refusal of this screen's services in both languages (theirs first, the station's as a fallback)."""
    if isinstance(error, cs.CourierSheetError | xl.ExcelError):
        return cs.error_texts(error)
    return error_text(error)


def template_label(t: cs.Template) -> str:
    """A starting template is named after its courier: in English, the courier's English name."""
    c = couriers.BY_CODE.get(t.courier)
    if c is not None and t.name == c.name:
        return one(t.name, c.name_en)
    return t.name


class CourierView(QDialog):
    """택배 송장 / Courier waybills."""

    loaded = Signal()                 # templates and accounts are on screen
    counted = Signal(int)             # parcels the export would write
    exported = Signal(object)         # cs.ExportResult
    file_loaded = Signal(object)      # cs.ResultFile
    previewed = Signal(object)        # cs.ImportPreview, or None (the columns are not chosen, the file failed)
    imported = Signal(object)         # cs.ImportResult
    failure_saved = Signal(str, int)  # path, rows
    template_saved = Signal(str)      # template id
    refused = Signal(str)             # an error code, once it is on screen

    def __init__(self, worker: DbWorker, templates_path: Path, *, check_digit: Mapping[str, str] | None = None,
                 contracted_courier: str = "", operator: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.worker = worker
        self.db = worker.db
        self.templates_path = Path(templates_path)
        self.check_digit = dict(check_digit or {})
        self.contracted_courier = contracted_courier
        self.operator = operator
        self.templates: list[cs.Template] = []
        self.result_file: cs.ResultFile | None = None
        self.path: Path | None = None
        self.preview: cs.ImportPreview | None = None
        self.last_result: cs.ImportResult | None = None
        self.last_count: cs.ExportCount | None = None
        self._importing = False
        self._generation = 0
        self._count_generation = 0
        self._filling = False

        self.setObjectName("courierView")
        self.setWindowTitle(tr("택배 송장 / Courier waybills"))
        avail = self.screen().availableGeometry()
        self.resize(min(1380, int(avail.width() * 0.95)), min(860, int(avail.height() * 0.92)))
        self.setStyleSheet(STYLE)
        self._build()
        self._show_preview()

    # ------------------------------------------------------------------ layout

    def _build(self) -> None:
        title = QLabel(tr("택배 송장 / Courier waybills"), objectName="courierTitle")
        hint = QLabel(two_lines(
            "택배를 내보내 택배사 프로그램에 올리고, 라벨을 출력한 뒤 프로그램의 결과 파일(송장번호)을 가져오세요.",
            "Export the parcels for the courier program, print the labels there, then import the program's "
            "result file of tracking numbers."))
        hint.setWordWrap(True)
        self.template_combo = QComboBox(objectName="courierTemplate")
        self.template_combo.setMinimumWidth(220)
        self.template_combo.currentIndexChanged.connect(lambda _: self._template_changed())
        self.account_combo = QComboBox(objectName="courierAccount")
        self.account_combo.setMinimumWidth(200)
        self.account_combo.addItem(tr("모든 계정 / All accounts"), 0)
        self.account_combo.currentIndexChanged.connect(lambda _: self._account_changed())
        top = QHBoxLayout()
        top.addWidget(QLabel(tr("양식 / Template")))
        top.addWidget(self.template_combo)
        top.addSpacing(16)
        top.addWidget(QLabel(tr("판매처·계정 / Account")))
        top.addWidget(self.account_combo)
        top.addStretch(1)

        self.tabs = QTabWidget(objectName="courierTabs")
        self.tabs.addTab(self._build_export(), tr("내보내기 / Export"))
        self.tabs.addTab(self._build_import(), tr("송장 가져오기 / Import"))
        self.tabs.addTab(self._build_editor(), tr("양식 편집 / Templates"))

        self.message = QLabel(objectName="courierMessage")
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.close_button = QPushButton(tr("닫기 / Close"), objectName="courierClose")
        self.close_button.clicked.connect(self.accept)
        bottom = QHBoxLayout()
        bottom.addWidget(self.message, 1)
        bottom.addWidget(self.close_button)

        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addWidget(hint)
        layout.addLayout(top)
        layout.addWidget(self.tabs, 1)
        layout.addLayout(bottom)
        for b in self.findChildren(QPushButton):
            b.setAutoDefault(False)
            b.setDefault(False)

    def _build_export(self) -> QWidget:
        page = QWidget()
        self.period_combo = QComboBox(objectName="courierPeriod")
        for text, days in PERIODS:
            self.period_combo.addItem(tr(text), days)
        self.period_combo.setCurrentIndex(2)  # everything not exported yet: yesterday's leftovers are not missed
        self.period_combo.currentIndexChanged.connect(lambda _: self._period_changed())
        today = QDate.currentDate()
        self.date_from = QDateEdit(today, objectName="courierFrom")
        self.date_to = QDateEdit(today, objectName="courierTo")
        for d in (self.date_from, self.date_to):
            d.setCalendarPopup(True)
            d.setDisplayFormat("yyyy-MM-dd")
            d.dateChanged.connect(lambda _: self.recount())
        self.include_exported = QCheckBox(tr("이미 내보낸 택배도 포함 / Include parcels exported before"),
                                          objectName="courierIncludeExported")
        self.include_exported.toggled.connect(lambda _: self.recount())
        form = QFormLayout()
        dates = QHBoxLayout()
        dates.addWidget(self.period_combo)
        dates.addWidget(self.date_from)
        dates.addWidget(QLabel("~"))
        dates.addWidget(self.date_to)
        dates.addStretch(1)
        form.addRow(QLabel(tr("수집일 / Collected")), dates)
        form.addRow(QLabel(""), self.include_exported)
        self.count_label = QLabel(objectName="courierCount")
        self.count_label.setStyleSheet("font-size: 18px; font-weight: bold;")
        explain = QLabel(two_lines(
            "송장이 없고 포장할 상품이 남은 택배만 나갑니다. 택배 키(PD-P-…)가 고객 참조 열에 들어가 결과 파일이 "
            "택배에 맞춰 돌아옵니다.",
            "Only parcels with no waybill and something left to pack go out. The parcel key (PD-P-…) goes in the "
            "customer-reference column, so the result file comes back matched."))
        explain.setWordWrap(True)
        self.export_button = QPushButton(tr("내보내기… / Export…"), objectName="courierExport")
        self.export_button.clicked.connect(self._export_clicked)
        buttons = QHBoxLayout()
        buttons.addWidget(self.export_button)
        buttons.addStretch(1)
        lay = QVBoxLayout(page)
        lay.addLayout(form)
        lay.addWidget(self.count_label)
        lay.addWidget(explain)
        lay.addLayout(buttons)
        lay.addStretch(1)
        self._period_changed(recount=False)
        return page

    def _build_import(self) -> QWidget:
        page = QWidget()
        self.choose_button = QPushButton(tr("결과 파일 선택… / Choose result file…"), objectName="courierChoose")
        self.choose_button.clicked.connect(self._choose_clicked)
        self.file_label = QLabel(tr("택배사 프로그램의 결과 파일 (.xlsx, .xls, .csv) / "
                                    "The courier program's result file (.xlsx, .xls, .csv)"), objectName="courierFile")
        self.file_label.setWordWrap(True)  # a long file name wraps instead of widening the window
        self.sheet_combo = QComboBox(objectName="courierSheet")
        self.sheet_combo.currentIndexChanged.connect(lambda _: self._sheet_changed())
        self.header_spin = QSpinBox(objectName="courierHeaderRow")
        self.header_spin.setRange(0, xl.HEADER_SCAN_ROWS)
        self.header_spin.setSpecialValueText(tr("자동 / auto"))
        self.header_spin.valueChanged.connect(lambda _: self._reload_file())
        file_row = QHBoxLayout()
        file_row.addWidget(self.choose_button)
        file_row.addWidget(self.file_label, 1)
        file_row.addWidget(QLabel(tr("시트 / Sheet")))
        file_row.addWidget(self.sheet_combo)
        file_row.addWidget(QLabel(tr("머리글 행 / Header row")))
        file_row.addWidget(self.header_spin)

        # the four columns side by side above the preview (each label over its choice), so the preview has the
        # window's whole width: its reason column stays in sight on a 1280-pixel screen
        map_box = QGroupBox(tr("결과 파일의 열 / Result file columns"))
        mv = QGridLayout(map_box)
        self.column_combos: dict[str, QComboBox] = {}
        for n, (key, ko, en, _) in enumerate(cs.RESULT_FIELDS):
            combo = QComboBox(objectName=f"courierColumn_{key}")
            combo.addItem(no_column(), "")
            combo.setMinimumWidth(200)
            combo.currentIndexChanged.connect(lambda _: self._columns_changed())
            self.column_combos[key] = combo
            mv.addWidget(QLabel(two_lines(ko, en)), 0, n)
            mv.addWidget(combo, 1, n)
            mv.setColumnStretch(n, 1)
        self.first_values = QLabel(objectName="courierFirstValues")
        self.first_values.setWordWrap(True)
        mv.addWidget(self.first_values, 2, 0, 1, len(cs.RESULT_FIELDS))

        prev_box = QGroupBox(tr("미리보기 / Preview"))
        pv = QVBoxLayout(prev_box)
        self.summary = QLabel(objectName="courierSummary")
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(Qt.TextFormat.RichText)
        self.table = QTableWidget(0, len(PREVIEW_COLUMNS), objectName="courierPreview")
        self.table.setHorizontalHeaderLabels([tr(c) for c in PREVIEW_COLUMNS])
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().setVisible(False)
        h = self.table.horizontalHeader()
        for col in range(len(PREVIEW_COLUMNS) - 1):
            h.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        h.setSectionResizeMode(len(PREVIEW_COLUMNS) - 1, QHeaderView.ResizeMode.Stretch)
        self.import_button = QPushButton(tr("송장 등록 / Bind waybills"), objectName="courierImport")
        self.import_button.setMinimumWidth(260)
        self.import_button.clicked.connect(lambda: self.import_now())
        self.failure_button = QPushButton(tr("실패 행 저장… / Save failure file…"), objectName="courierFailures")
        self.failure_button.clicked.connect(self._failure_clicked)
        actions = QHBoxLayout()
        actions.addWidget(self.import_button)
        actions.addWidget(self.failure_button)
        actions.addStretch(1)
        pv.addWidget(self.summary)
        pv.addWidget(self.table, 1)
        pv.addLayout(actions)

        lay = QVBoxLayout(page)
        lay.addLayout(file_row)
        lay.addWidget(map_box)
        lay.addWidget(prev_box, 1)
        return page

    def _build_editor(self) -> QWidget:
        page = QWidget()
        self.name_edit = QLineEdit(objectName="templateName")
        self.name_edit.setMaxLength(60)
        self.courier_combo = QComboBox(objectName="templateCourier")
        for c in couriers.COURIERS:
            self.courier_combo.addItem(courier_text(c.code), c.code)
        self.rows_combo = QComboBox(objectName="templateRows")
        for text, value in ROWS_PER:
            self.rows_combo.addItem(tr(text), value)
        form = QFormLayout()
        form.addRow(QLabel(tr("이름 / Name")), self.name_edit)
        form.addRow(QLabel(tr("택배사 / Courier")), self.courier_combo)
        form.addRow(QLabel(tr("행 / Rows")), self.rows_combo)

        self.columns_table = QTableWidget(0, len(EDITOR_COLUMNS), objectName="templateColumns")
        self.columns_table.setHorizontalHeaderLabels([tr(c) for c in EDITOR_COLUMNS])
        self.columns_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.columns_table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.columns_table.verticalHeader().setDefaultSectionSize(34)
        eh = self.columns_table.horizontalHeader()
        eh.setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        eh.setSectionResizeMode(1, QHeaderView.ResizeMode.Interactive)
        eh.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.columns_table.setColumnWidth(0, 240)
        self.columns_table.setColumnWidth(1, 300)
        self.add_column_button = QPushButton(tr("열 추가 / Add column"), objectName="templateAdd")
        self.add_column_button.clicked.connect(lambda: self.add_column())
        self.remove_column_button = QPushButton(tr("열 삭제 / Remove"), objectName="templateRemove")
        self.remove_column_button.clicked.connect(lambda: self.remove_column())
        self.up_button = QPushButton(tr("위로 / Up"), objectName="templateUp")
        self.up_button.clicked.connect(lambda: self.move_column(-1))
        self.down_button = QPushButton(tr("아래로 / Down"), objectName="templateDown")
        self.down_button.clicked.connect(lambda: self.move_column(1))
        self.save_template_button = QPushButton(tr("양식 저장 / Save template"), objectName="templateSave")
        self.save_template_button.clicked.connect(lambda: self.save_template())
        self.reset_template_button = QPushButton(tr("처음 양식으로 / Reset to the starting template"),
                                                 objectName="templateReset")
        self.reset_template_button.clicked.connect(self._reset_clicked)
        edit_row = QHBoxLayout()
        for b in (self.add_column_button, self.remove_column_button, self.up_button, self.down_button):
            edit_row.addWidget(b)
        edit_row.addStretch(1)
        edit_row.addWidget(self.reset_template_button)
        edit_row.addWidget(self.save_template_button)
        note = QLabel(two_lines(
            "처음 양식은 흔히 쓰이는 열 이름으로 만든 출발점입니다 — 택배사가 정한 규격이 아닙니다. 택배사 프로그램의 "
            "업로드 양식에 맞게 고치세요.",
            "The starting templates use column names commonly seen — a starting point, not the courier's "
            "specification. Adjust them to your courier program's upload sheet."))
        note.setWordWrap(True)
        lay = QVBoxLayout(page)
        lay.addLayout(form)
        lay.addWidget(self.columns_table, 1)
        lay.addLayout(edit_row)
        lay.addWidget(note)
        return page

    # ------------------------------------------------------------------ background work

    @property
    def busy(self) -> bool:
        return ops.pending(self) > 0

    @property
    def importing(self) -> bool:
        return self._importing

    def _op(self, name: str, fn: Callable[[], Any], done: Callable[[Any], None],
            refused: Callable[[KnownError], None] | None = None) -> None:
        """``fn`` off the UI thread; ``done`` (or the refusal shown, then ``refused``) back on it."""
        ops.run(self, f"courier-{name}", fn, *self._answers(done, refused))
        self._update_buttons()

    def _db(self, name: str, job: Job[Any], done: Callable[[Any], None], *, write: bool = False) -> None:
        """``job`` on a read session of its own, or (``write``) on the station's DB worker (one writer)."""
        if write:
            ops.write(self, f"courier-{name}", self.worker, job, *self._answers(done, None))
        else:
            ops.read(self, f"courier-{name}", self.db, job, *self._answers(done, None))
        self._update_buttons()

    def _answers(self, done: Callable[[Any], None], refused: Callable[[KnownError], None] | None
                 ) -> tuple[Callable[[Any], None], Callable[[KnownError], None]]:
        def ok(result: Any) -> None:
            done(result)
            self._update_buttons()

        def failed(error: KnownError) -> None:
            self._show_refusal(error)
            if refused is not None:
                refused(error)
            self._update_buttons()

        return ok, failed

    # ------------------------------------------------------------------ templates and accounts

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.reload()

    def reload(self) -> None:
        """Templates (from their file) and accounts (from the database), then the export's count."""
        path = self.templates_path

        self._db("load", lambda s: (cs.load_templates(path), cs.list_accounts(s)), self._loaded)

    def _loaded(self, result: tuple[cs.TemplateSet, list[cs.Account]]) -> None:
        found, accounts = result
        keep = self.template_combo.currentData()
        if keep is None:  # first time: the contracted courier's template
            keep = next((t.id for t in found.templates if t.courier == self.contracted_courier), None)
        self._fill_templates(list(found.templates), keep)
        account = self.account_combo.currentData()
        self._filling = True
        self.account_combo.clear()
        self.account_combo.addItem(tr("모든 계정 / All accounts"), 0)
        for a in accounts:
            self.account_combo.addItem(a.name, a.id)
        self.account_combo.setCurrentIndex(max(0, self.account_combo.findData(account)))
        self._filling = False
        if found.problem is not None:
            self._show_refusal(found.problem)
        self.recount()
        self.loaded.emit()

    def _fill_templates(self, templates: list[cs.Template], select_id: str | None) -> None:
        self.templates = templates
        self._filling = True
        self.template_combo.clear()
        for t in templates:
            self.template_combo.addItem(template_label(t), t.id)
        self.template_combo.setCurrentIndex(max(0, self.template_combo.findData(select_id)))
        self._filling = False
        self._template_changed()

    def current_template(self) -> cs.Template | None:
        tid = self.template_combo.currentData()
        return next((t for t in self.templates if t.id == tid), None)

    def select_template(self, template_id: str) -> None:
        self.template_combo.setCurrentIndex(max(0, self.template_combo.findData(template_id)))

    def account_ids(self) -> tuple[int, ...]:
        aid = self.account_combo.currentData()
        return (aid,) if aid else ()

    def _template_changed(self) -> None:
        if self._filling:
            return
        t = self.current_template()
        if t is not None:
            self._edit(t)
            if self.result_file is not None:
                self._apply_columns(cs.guess_columns(self.result_file.sheet, t))
                self.refresh_preview()
        self._update_buttons()
        self.recount()  # parcels whose lines name another courier are not this template's

    def _account_changed(self) -> None:
        if self._filling:
            return
        self.recount()
        if self.result_file is not None:
            self.refresh_preview()

    # ------------------------------------------------------------------ export

    def _period_changed(self, recount: bool = True) -> None:
        custom = self.period_combo.currentData() == -1
        self.date_from.setEnabled(custom)
        self.date_to.setEnabled(custom)
        if recount:
            self.recount()

    def export_filter(self) -> cs.ExportFilter:
        days = self.period_combo.currentData()
        since = until = None
        if days == -1:
            first, last = self.date_from.date().toPython(), self.date_to.date().toPython()
            since, until = cs.day_range(min(first, last), max(first, last))
        elif days:
            today = cs.today()
            since, until = cs.day_range(today - timedelta(days=days - 1), today)
        return cs.ExportFilter(since, until, self.account_ids(), self.include_exported.isChecked())

    def recount(self) -> None:
        flt = self.export_filter()
        t = self.current_template()
        courier = t.courier if t is not None else None  # the template's courier decides which parcels go
        self._count_generation += 1
        gen = self._count_generation

        self._db("count", lambda s: cs.count_export(s, flt, courier), lambda n: self._counted(gen, n))

    def _counted(self, gen: int, count: cs.ExportCount) -> None:
        if gen != self._count_generation:
            return
        self.last_count = count
        if count.other_courier:  # their order sheet named another courier: that courier's template takes them
            text = both(f"내보낼 택배 {count.parcels:,}개 (상품 {count.lines:,}줄) · 다른 택배사용 "
                        f"{count.other_courier:,}개 (제외)",
                        f"{plural(count.parcels, 'parcel')} to export ({plural(count.lines, 'line')}) · "
                        f"{count.other_courier:,} "
                        "for another courier (left out)")
        else:
            text = both(f"내보낼 택배 {count.parcels:,}개 (상품 {count.lines:,}줄)",
                        f"{plural(count.parcels, 'parcel')} to export ({plural(count.lines, 'line')})")
        self.count_label.setText(text)
        self.counted.emit(count.parcels)

    def _export_clicked(self) -> None:
        t = self.current_template()
        if t is None:
            return
        stamp = f"{datetime.now(KST):%Y%m%d-%H%M}"
        chosen = files.save_file(self, "courier-export",
                                 tr("택배사 프로그램용 파일 저장 / Save for the courier program"),
                                 one(f"{safe_file_part(t.name, 'courier')}-{stamp}.xlsx",
                                     f"courier-{safe_file_part(t.courier, 'courier')}-{stamp}.xlsx"),
                                 "Excel (*.xlsx)")
        if chosen:
            p = chosen
            self.export_to(p if p.suffix.lower() == ".xlsx" else p.with_name(p.name + ".xlsx"))

    def export_to(self, path: Path) -> None:
        t, flt = self.current_template(), self.export_filter()
        if t is None:
            return

        self._db("export", lambda s: cs.export_parcels(s, t, path, flt, now=datetime.now(UTC)), self._exported,
                 write=True)

    def _exported(self, result: cs.ExportResult) -> None:
        if result.parcels:
            self.show_message("success", both(
                f"택배 {result.parcels:,}개를 내보냈습니다 ({result.rows:,}행) — 택배사 프로그램에 올리세요: "
                f"{result.path.name}",
                f"Exported {plural(result.parcels, 'parcel')} ({plural(result.rows, 'row')}) — upload it to the "
                f"courier program: {result.path}"))
        else:
            self.show_message("info", both(f"내보낼 택배가 없습니다 (머리글만 저장): {result.path.name}",
                                           f"No parcel to export (headers only saved): {result.path}"))
        self.exported.emit(result)
        self.recount()

    # ------------------------------------------------------------------ import: the file

    def _choose_clicked(self) -> None:
        chosen = files.open_file(
            self, "courier-result", tr("결과 파일 선택 / Choose the result file"),
            tr("결과 파일 / Result files (*.xlsx *.xls *.csv *.txt)") + ";;" + tr("모든 파일 / All files (*)"))
        if chosen:
            self.load_file(chosen)

    def load_file(self, path: Path) -> None:
        """Read the result file off the UI thread, map its columns, preview; nothing is written."""
        self.path = Path(path)
        self.header_spin.blockSignals(True)
        self.header_spin.setValue(0)
        self.header_spin.blockSignals(False)
        self._read(self.path, None)

    def _reload_file(self) -> None:
        if self.path is not None and not self._filling:
            self._read(self.path, self.sheet_combo.currentData() or None)

    def _sheet_changed(self) -> None:
        if not self._filling and self.path is not None:
            self._read(self.path, self.sheet_combo.currentData() or None)

    def _read(self, path: Path, sheet_name: str | None) -> None:
        t = self.current_template()
        header_row = self.header_spin.value() or None
        self._generation += 1
        gen = self._generation
        self.result_file = None
        self.preview = None
        self.last_result = None
        self.file_label.setText(both("읽는 중", f"Reading: {path.name}"))
        self._show_preview()

        def failed(_: BaseException) -> None:
            if gen == self._generation:
                self.file_label.setText(path.name)
                self.previewed.emit(None)

        self._op("read", lambda: cs.read_result_file(path, template=t, sheet_name=sheet_name,
                                                     header_row=header_row),
                 lambda r: self._file_read(gen, r), failed)

    def _file_read(self, gen: int, result: cs.ResultFile) -> None:
        if gen != self._generation:
            return
        self.result_file = result
        sheet = result.sheet
        self._filling = True
        self.sheet_combo.clear()
        for name in result.sheets:
            self.sheet_combo.addItem(name, name)
        self.sheet_combo.setCurrentIndex(max(0, self.sheet_combo.findData(sheet.title)))
        self.sheet_combo.setEnabled(len(result.sheets) > 1)
        self._filling = False
        self.file_label.setText(both(
            f"{sheet.file_name} · {sheet.title} · 머리글 {sheet.header_row}행 · {len(sheet.rows):,}행",
            f"{sheet.file_name} · {sheet.title} · header row {sheet.header_row} · {plural(len(sheet.rows), 'row')}"))
        t = self.current_template()
        if t is not None:
            self._apply_columns(cs.guess_columns(sheet, t))
        self.file_loaded.emit(result)
        self.refresh_preview()

    def _apply_columns(self, columns: cs.ResultColumns) -> None:
        sheet = self.result_file.sheet if self.result_file else None
        self._filling = True
        for key, combo in self.column_combos.items():
            combo.clear()
            combo.addItem(no_column(), "")
            for h in sheet.headers if sheet else ():
                combo.addItem(h, h)
            combo.setCurrentIndex(max(0, combo.findData(getattr(columns, key))))
        self._filling = False
        self._show_first_values()

    def columns(self) -> cs.ResultColumns:
        """The result columns as the combos show them."""
        chosen = {key: combo.currentData() or "" for key, combo in self.column_combos.items()}
        header_row = self.result_file.sheet.header_row if self.result_file else None
        return cs.ResultColumns(**chosen, header_row=header_row)

    def set_column(self, key: str, header: str) -> None:
        """Choose a result column (what picking it in its list does)."""
        combo = self.column_combos[key]
        combo.setCurrentIndex(max(0, combo.findData(header)))

    def _columns_changed(self) -> None:
        if self._filling:
            return
        self._show_first_values()
        self.refresh_preview()

    def _show_first_values(self) -> None:
        first = self.result_file.sheet.first_values() if self.result_file else {}
        shown = []
        for key, ko, en, _ in cs.RESULT_FIELDS:
            header = self.column_combos[key].currentData() or ""
            if header:
                shown.append(f"{one(ko, en)}: {first.get(header, '')}")
        self.first_values.setText(both("첫 행", "First row") + " — " + " · ".join(shown) if shown else "")

    # ------------------------------------------------------------------ import: preview and import

    def refresh_preview(self) -> None:
        """Classify the rows with the columns as chosen now; an older answer is dropped."""
        result, t = self.result_file, self.current_template()
        self._generation += 1
        gen = self._generation
        self.last_result = None
        if result is None or t is None:
            self.preview = None
            self._show_preview()
            return
        columns, accounts, digits = self.columns(), self.account_ids(), self.check_digit

        def failed(error: BaseException) -> None:
            if gen == self._generation:
                self.preview = None
                self._show_preview(error if isinstance(error, KnownError) else None)
                self.previewed.emit(None)

        self._op("preview", lambda: cs.preview_file(self.db, t, result, columns, check_digit=digits,
                                                    account_ids=accounts),
                 lambda p: self._previewed(gen, p), failed)

    def _previewed(self, gen: int, p: cs.ImportPreview) -> None:
        if gen != self._generation:
            return
        self.preview = p
        self._show_preview()
        self.previewed.emit(p)

    def summary_text(self, rows: tuple[cs.PreviewRow, ...]) -> str:
        counts = {c: sum(1 for r in rows if r.status is c) for c in cs.RowClass}
        warnings = sum(1 for r in rows if r.warning)
        shown = [c for c in cs.RowClass if counts[c] or c is cs.RowClass.MATCHED]
        return both(" · ".join(f"{cs.CLASS_TEXT[c][0]} {counts[c]:,}" for c in shown)
                    + (f" (경고 {warnings:,})" if warnings else ""),
                    " · ".join(f"{cs.CLASS_TEXT[c][1]} {counts[c]:,}" for c in shown)
                    + (f" ({warnings:,} with a warning)" if warnings else ""))

    def _show_preview(self, problem: KnownError | None = None) -> None:
        p = self.preview
        if p is None:
            if problem is not None:
                ko, en = refusal_text(problem)
                self.summary.setText(one(f"<b>{ko}</b><br>{en}", f"<b>{en}</b>"))
                self.summary.setStyleSheet("color: #b71c1c;")
            else:
                self.summary.setText(tr("결과 파일을 선택하면 여기에 행마다 결과가 나옵니다 / "
                                        "Choose a result file to see what each row would do"))
                self.summary.setStyleSheet("")
            self.table.setRowCount(0)
            self._update_buttons()
            return
        self.summary.setStyleSheet("")
        rows = self.last_result.rows if self.last_result is not None else p.rows
        self.summary.setText(self.summary_text(rows))
        self._fill_table(rows)
        self._update_buttons()

    def _fill_table(self, rows: tuple[cs.PreviewRow, ...]) -> None:
        shown = rows[:MAX_ROWS_SHOWN]
        self.table.setUpdatesEnabled(False)
        self.table.setRowCount(len(shown))
        for i, r in enumerate(shown):
            colour = WARNING_COLOUR if r.warning else CLASS_COLOUR.get(r.status, FAILED_COLOUR)
            reason = both(*r.reason) if r.code else ""
            for col, text in enumerate((str(r.row), class_text(r.status), r.reference, r.parcel_key, r.number,
                                        reason)):
                item = QTableWidgetItem(text)
                item.setBackground(QBrush(QColor(colour)))
                if col == len(PREVIEW_COLUMNS) - 1:
                    item.setToolTip(text)
                self.table.setItem(i, col, item)
        self.table.setUpdatesEnabled(True)

    def import_now(self) -> None:
        """Bind the matched rows' numbers in one transaction; the result columns are remembered."""
        p, t = self.preview, self.current_template()
        if p is None or t is None or not p.to_bind or self._importing:
            return
        columns, path, operator = self.columns(), self.templates_path, self.operator

        def job() -> tuple[cs.ImportResult, cs.Template]:
            result = cs.import_preview(self.db, p, by=operator)
            return result, cs.remember_columns(path, t.id, columns)

        self._importing = True
        self.show_message("info", both(f"송장 등록 중: {p.to_bind:,}개", f"Binding {plural(p.to_bind, 'waybill')}…"))
        self._op("import", job, self._imported, refused=lambda _: setattr(self, "_importing", False))

    def _imported(self, answer: tuple[cs.ImportResult, cs.Template]) -> None:
        result, template = answer
        self._importing = False
        self.last_result = result
        self.templates = [template if t.id == template.id else t for t in self.templates]
        r = result
        text = both(
            f"송장을 등록했습니다: {r.bound:,}개 · 변경 없음 {r.unchanged:,}개"
            + (f" · 등록 안 됨 {r.not_bound:,}개 (실패 행 저장으로 확인하세요)" if r.not_bound else "")
            + (f" · 미리보기 뒤 바뀐 행 {r.changed_since_preview:,}개" if r.changed_since_preview else ""),
            f"Waybills bound: {r.bound:,} · unchanged {r.unchanged:,}"
            + (f" · not bound {r.not_bound:,} (save the failure file to see why)" if r.not_bound else "")
            + (f" · {plural(r.changed_since_preview, 'row')} changed since the preview"
               if r.changed_since_preview else ""))
        self.show_message("success" if not r.not_bound else "info", text)
        self._show_preview()
        self.imported.emit(result)

    def _failure_rows(self) -> tuple[cs.PreviewRow, ...]:
        if self.last_result is not None:
            return self.last_result.failures
        return self.preview.failures if self.preview is not None else ()

    def _failure_clicked(self) -> None:
        stem = self.path.stem if self.path else "result"
        chosen = files.save_file(self, "courier-failures", tr("실패 행 저장 / Save failure file"),
                                 one(f"{stem}-등록안됨.xlsx", f"{stem}-not-bound.xlsx"), "Excel (*.xlsx)")
        if chosen:
            p = chosen
            self.save_failure_file_to(p if p.suffix.lower() == ".xlsx" else p.with_name(p.name + ".xlsx"))

    def save_failure_file_to(self, path: Path) -> None:
        """The rows not bound, as they were, with the reason (Korean and English) in a last column."""
        result, rows = self.result_file, self._failure_rows()
        if result is None or not rows:
            return
        self._op("failures", lambda: cs.write_failure_file(path, result, rows),
                 lambda n: self._failure_saved(path, n))

    def _failure_saved(self, path: Path, rows: int) -> None:
        self.show_message("success", both(f"등록 안 된 행 {rows:,}개를 저장했습니다: {path.name}",
                                          f"Saved {plural(rows, 'row')} not bound: {path}"))
        self.failure_saved.emit(str(path), rows)

    # ------------------------------------------------------------------ the template editor

    def _edit(self, t: cs.Template) -> None:
        self.name_edit.setText(t.name)
        self.courier_combo.setCurrentIndex(max(0, self.courier_combo.findData(t.courier)))
        self.rows_combo.setCurrentIndex(max(0, self.rows_combo.findData(t.rows)))
        self._set_columns(list(t.columns))
        self.reset_template_button.setEnabled(bool(t.starter))

    def _set_columns(self, columns: list[cs.Column], select: int | None = None) -> None:
        table = self.columns_table
        table.setRowCount(len(columns))
        for row, c in enumerate(columns):
            table.setItem(row, 0, QTableWidgetItem(c.header))
            combo = QComboBox(objectName=f"templateField_{row}")
            for f in cs.EXPORT_FIELDS:
                combo.addItem(both(f.ko, f.en), f.key)
            combo.setCurrentIndex(max(0, combo.findData(c.field)))
            combo.currentIndexChanged.connect(lambda _, r=row: self._field_changed(r))
            table.setCellWidget(row, 1, combo)
            value = QTableWidgetItem(c.value)
            table.setItem(row, 2, value)
            self._field_changed(row)
        if select is not None and 0 <= select < len(columns):
            table.selectRow(select)

    def _field_changed(self, row: int) -> None:
        combo = self.columns_table.cellWidget(row, 1)
        item = self.columns_table.item(row, 2)
        if not isinstance(combo, QComboBox) or item is None:
            return
        fixed = combo.currentData() == "fixed"
        flags = item.flags()
        item.setFlags(flags | Qt.ItemFlag.ItemIsEditable if fixed else flags & ~Qt.ItemFlag.ItemIsEditable)
        item.setBackground(QBrush(QColor("#ffffff" if fixed else "#eceff1")))

    def edited_columns(self) -> list[cs.Column]:
        """The columns as the editor shows them now."""
        out = []
        for row in range(self.columns_table.rowCount()):
            header = self.columns_table.item(row, 0)
            combo = self.columns_table.cellWidget(row, 1)
            value = self.columns_table.item(row, 2)
            field = combo.currentData() if isinstance(combo, QComboBox) else "fixed"
            out.append(cs.Column(header=header.text() if header else "", field=field,
                                 value=value.text() if value is not None and field == "fixed" else ""))
        return out

    def edited_template(self) -> cs.Template | None:
        t = self.current_template()
        if t is None:
            return None
        return t.model_copy(update={"name": self.name_edit.text(), "courier": self.courier_combo.currentData(),
                                    "rows": self.rows_combo.currentData(), "columns": tuple(self.edited_columns())})

    def _selected_row(self) -> int:
        rows = self.columns_table.selectionModel().selectedRows()
        return rows[0].row() if rows else self.columns_table.currentRow()

    def add_column(self, header: str = "", field: str = "fixed") -> None:
        columns = self.edited_columns()
        at = self._selected_row()
        at = at + 1 if 0 <= at < len(columns) else len(columns)
        columns.insert(at, cs.Column(header=header, field=field))
        self._set_columns(columns, select=at)
        self.columns_table.setCurrentCell(at, 0)

    def remove_column(self) -> None:
        columns = self.edited_columns()
        at = self._selected_row()
        if 0 <= at < len(columns):
            del columns[at]
            self._set_columns(columns, select=min(at, len(columns) - 1))

    def move_column(self, step: int) -> None:
        columns = self.edited_columns()
        at = self._selected_row()
        to = at + step
        if 0 <= at < len(columns) and 0 <= to < len(columns):
            columns[at], columns[to] = columns[to], columns[at]
            self._set_columns(columns, select=to)

    def save_template(self) -> None:
        t = self.edited_template()
        if t is None:
            return
        path = self.templates_path
        self._op("template-save", lambda: cs.save_template(path, t), self._template_stored)

    def _reset_clicked(self) -> None:
        t = self.current_template()
        if t is None:
            return
        answer = QMessageBox.question(self, tr("처음 양식으로 / Reset template"), two_lines(
            "이 양식의 열과 결과 파일 열 설정을 처음 양식으로 되돌릴까요?",
            "Put this template's columns and result-file columns back to the starting template?"))
        if answer == QMessageBox.StandardButton.Yes:
            self.reset_template()

    def reset_template(self) -> None:
        t = self.current_template()
        if t is None:
            return
        path = self.templates_path
        self._op("template-reset", lambda: cs.reset_template(path, t.id), self._template_stored)

    def _template_stored(self, t: cs.Template) -> None:
        self.templates = [t if x.id == t.id else x for x in self.templates]
        self.template_combo.setItemText(max(0, self.template_combo.findData(t.id)), template_label(t))
        self._edit(t)
        self.show_message("success", both(f"양식을 저장했습니다: {t.name}", f"Template saved: {template_label(t)}"))
        self.template_saved.emit(t.id)
        if self.result_file is not None:
            self.refresh_preview()

    # ------------------------------------------------------------------ buttons, messages, closing

    def _update_buttons(self) -> None:
        p = self.preview
        can_bind = p is not None and p.to_bind > 0 and self.last_result is None and not self._importing
        self.import_button.setEnabled(can_bind)
        self.import_button.setText(both(f"송장 등록 ({p.to_bind:,}개)", f"Bind {plural(p.to_bind, 'waybill')}")
                                   if can_bind and p is not None else tr("송장 등록 / Bind waybills"))
        self.failure_button.setEnabled(bool(self._failure_rows()) and not self._importing)
        self.export_button.setEnabled(self.current_template() is not None and not self._importing)
        for w in (self.choose_button, self.template_combo, self.account_combo, self.save_template_button):
            w.setEnabled(not self._importing)
        for combo in self.column_combos.values():
            combo.setEnabled(self.result_file is not None and not self._importing)

    def show_message(self, level: str, text: str) -> None:
        show_level(self.message, level, text)

    def _show_refusal(self, error: KnownError) -> None:
        ko, en = refusal_text(error)
        self.show_message("error", both(ko, en))
        log.info("courier screen refused: %s (%s)", error.code, error.detail)
        self.refused.emit(error.code)

    def done(self, result: int) -> None:
        if self._importing:  # the binding goes on; closing now would hide how it ended
            self.show_message("info", tr("송장 등록 중입니다 — 끝나면 닫을 수 있습니다 / "
                                         "Binding waybills — close when it is done"))
            return
        super().done(result)
