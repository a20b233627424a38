"""Staff (작업자) for a supervisor: the packers, their badge codes and how many packs each completed; add one,
rename, deactivate or reactivate, give a new badge code (a lost badge), and print badges.

All rules live in ``services/staff.py``; this screen only shows and asks. Its reads and writes run as
background ops (``ui/ops.py``): reads on a session of their own, each change a short write on the station's DB
worker (one writer); after each change it says ``changed`` and the main window has the station read its packers
again at once. Badges
are drawn with the barcode sheet (``ui/barcode_sheet.py``, ``BADGE_STYLE``) on this (the Qt) thread.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from packdesk.core.errors import KnownError
from packdesk.services import staff
from packdesk.services.dbworker import DbWorker, Job
from packdesk.services.staff import StaffMember
from packdesk.ui import files, ops
from packdesk.ui.barcode_sheet import BADGE_STYLE, render_sheet
from packdesk.ui.cells import item_at
from packdesk.ui.i18n import both, one, plural, tr, two_lines
from packdesk.ui.levels import show_level
from packdesk.ui.messages import error_text
from packdesk.ui.sheets import badge_section

log = logging.getLogger("packdesk.ui.staff")

COLUMNS = ("이름 / Name", "작업자 바코드 / Badge code", "상태 / State", "포장 완료 / Packs done")
STATE_TEXT = {True: "사용 중 / Active", False: "사용 중지 / Deactivated"}
INACTIVE_FG = QColor("#9e9e9e")
ID_ROLE = Qt.ItemDataRole.UserRole
STYLE = """
QWidget { font-size: 16px; }
QLabel#staffTitle { font-size: 24px; font-weight: bold; }
QPushButton { padding: 7px 16px; }
QPushButton#staffAdd { background: #1565c0; color: white; font-weight: bold; }
QPushButton#staffAdd:disabled { background: #90a4ae; }
QLineEdit { min-height: 32px; }
"""


class StaffView(QDialog):
    """작업자 / Staff."""

    refreshed = Signal()       # the list was read anew and is on screen
    changed = Signal()         # a packer was added or changed (the station reloads its packers)
    refused = Signal(str)      # the error code, after it is on screen
    printed = Signal(str)      # the badge sheet's first file

    def __init__(self, worker: DbWorker, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.worker = worker
        self.members: list[StaffMember] = []
        self._select_after: int | None = None
        self._selecting = False  # rows selected by the screen itself (after a change): the name box is left alone
        self.setWindowTitle(tr("작업자 / Staff"))
        self.resize(900, 600)
        self.setStyleSheet(STYLE)

        title = QLabel(tr("작업자 / Staff"), objectName="staffTitle")
        about = QLabel(two_lines(
            "작업자는 자기 바코드 카드를 스캔해 작업을 시작합니다. 사용 중지된 작업자는 로그인할 수 없지만, 그동안의 "
            "포장 기록과 영상은 그대로 남습니다.",
            "A packer signs in by scanning their badge. A deactivated packer cannot sign in; what they packed and "
            "its videos stay as they are."))
        about.setWordWrap(True)
        self.table = QTableWidget(0, len(COLUMNS), objectName="staffTable")
        self.table.setHorizontalHeaderLabels([tr(c) for c in COLUMNS])
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.verticalHeader().setVisible(False)
        hh = self.table.horizontalHeader()
        hh.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        hh.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.itemSelectionChanged.connect(self._selection_changed)

        self.name_edit = QLineEdit(objectName="staffName")
        self.name_edit.setPlaceholderText(tr("작업자 이름 / Packer's name"))
        self.name_edit.setMaxLength(staff.MAX_NAME)
        self.name_edit.returnPressed.connect(self.add)
        self.name_edit.textChanged.connect(lambda _: self._update_buttons())
        self.add_button = QPushButton(tr("추가 / Add"), objectName="staffAdd")
        self.add_button.clicked.connect(self.add)
        self.rename_button = QPushButton(tr("이름 바꾸기 / Rename"), objectName="staffRename")
        self.rename_button.clicked.connect(self.rename_selected)
        self.active_button = QPushButton(tr("사용 중지 / Deactivate"), objectName="staffActive")
        self.active_button.clicked.connect(self.toggle_selected)
        self.badge_button = QPushButton(tr("새 바코드 만들기 / New badge code"), objectName="staffNewBadge")
        self.badge_button.clicked.connect(self.new_badge_selected)
        self.print_button = QPushButton(tr("카드 인쇄… / Print badges…"), objectName="staffPrint")
        self.print_button.clicked.connect(self._print_clicked)
        close = QPushButton(tr("닫기 / Close"), objectName="staffClose")
        close.clicked.connect(self.accept)
        self.message = QLabel(objectName="staffMessage")
        self.message.setWordWrap(True)

        name_row = QHBoxLayout()
        name_row.addWidget(self.name_edit, 1)
        name_row.addWidget(self.add_button)
        name_row.addWidget(self.rename_button)
        buttons = QHBoxLayout()
        for b in (self.active_button, self.badge_button, self.print_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        buttons.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addWidget(about)
        layout.addWidget(self.table, 1)
        layout.addLayout(name_row)
        layout.addLayout(buttons)
        layout.addWidget(self.message)
        self._update_buttons()

    # ------------------------------------------------------------------ background work

    @property
    def busy(self) -> bool:
        return ops.pending(self) > 0

    def _run(self, name: str, job: Job[Any], done: Callable[[Any], None], *, write: bool = True) -> None:
        """``job`` off the UI thread (a write on the station's DB worker, in order with its packs); ``done`` with
        its result here, or the refusal shown (a ``KnownError`` rolled back: nothing written)."""
        if write:
            ops.write(self, f"staff-{name}", self.worker, job, lambda r: self._finish(done, r), self._failed,
                      bug_code="staff_error")
        else:
            ops.read(self, f"staff-{name}", self.worker.db, job, lambda r: self._finish(done, r), self._failed,
                     bug_code="staff_error")
        self._update_buttons()

    def _finish(self, done: Callable[[Any], None], result: Any) -> None:
        done(result)
        self._update_buttons()

    def _failed(self, e: KnownError) -> None:
        self._refuse(e)
        self._update_buttons()

    def _refuse(self, e: KnownError) -> None:
        self.show_message("error", two_lines(*error_text(e)))
        log.info("staff screen refused: %s %s (%s)", e.code, e.params, e.detail)
        self.refused.emit(e.code)

    def show_message(self, level: str, text: str) -> None:
        show_level(self.message, level, text)

    # ------------------------------------------------------------------ the list

    def refresh(self) -> None:
        self._run("list", staff.list_staff, self._show, write=False)

    def _show(self, members: list[StaffMember]) -> None:
        keep = self._select_after
        selected = {keep} if keep is not None else set(self.selected_ids())
        self._select_after = None
        self.members = members
        self.table.setRowCount(len(members))
        for row, mb in enumerate(members):
            cells = (mb.name, mb.badge_code, tr(STATE_TEXT[mb.active]), str(mb.packs))
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setData(ID_ROLE, mb.id)
                if col == 3:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                if not mb.active:
                    item.setForeground(QBrush(INACTIVE_FG))
                self.table.setItem(row, col, item)
        self.select(sorted(selected))
        self._update_buttons()
        self.refreshed.emit()

    def select(self, packer_ids: Sequence[int]) -> None:
        """These packers' rows selected (what a click does; tests use it too)."""
        self._selecting = True
        self.table.clearSelection()
        mode = self.table.selectionMode()
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.MultiSelection)
        for row in range(self.table.rowCount()):
            if item_at(self.table, row, 0).data(ID_ROLE) in packer_ids:
                self.table.selectRow(row)
        self.table.setSelectionMode(mode)
        self._selecting = False
        self._update_buttons()

    def selected_ids(self) -> list[int]:
        return [item_at(self.table, i.row(), 0).data(ID_ROLE) for i in self.table.selectionModel().selectedRows()]

    def selected_member(self) -> StaffMember | None:
        """The one packer selected (rename, (de)activate and a new badge act on one)."""
        ids = self.selected_ids()
        return next((mb for mb in self.members if mb.id == ids[0]), None) if len(ids) == 1 else None

    def _selection_changed(self) -> None:
        mb = self.selected_member()
        if mb is not None and not self._selecting:
            self.name_edit.setText(mb.name)  # to rename it, or to see it whole
        self._update_buttons()

    def _update_buttons(self) -> None:
        mb = self.selected_member()
        idle = not self.busy
        typed = bool(self.name_edit.text().strip())
        self.add_button.setEnabled(idle and typed)
        self.rename_button.setEnabled(idle and typed and mb is not None and self.name_edit.text().strip() != mb.name)
        self.active_button.setEnabled(idle and mb is not None)
        self.active_button.setText(tr("다시 사용 / Reactivate") if mb is not None and not mb.active
                                   else tr("사용 중지 / Deactivate"))
        self.badge_button.setEnabled(idle and mb is not None and mb.active)
        self.print_button.setEnabled(any(mb.active for mb in self.members))

    # ------------------------------------------------------------------ changes

    def _changed(self, member: StaffMember, text: str) -> None:
        self.show_message("success", text)
        self._select_after = member.id
        self.changed.emit()
        self.refresh()

    def add(self) -> None:
        name = self.name_edit.text()
        if not self.add_button.isEnabled():
            return

        def done(mb: StaffMember) -> None:
            self.name_edit.clear()
            self._changed(mb, both(f"작업자 추가됨: {mb.name} ({mb.badge_code}) — 카드를 인쇄하세요",
                                   f"Packer added: {mb.name} ({mb.badge_code}) — print their badge"))

        self._run("add", lambda s: staff.add_packer(s, name), done)

    def rename_selected(self) -> None:
        mb, name = self.selected_member(), self.name_edit.text()
        if mb is None or not self.rename_button.isEnabled():
            return
        old = mb.name
        self._run("rename", lambda s: staff.rename_packer(s, mb.id, name), lambda new: self._changed(
            new, both(f"이름 바뀜: {old} → {new.name}", f"Renamed: {old} → {new.name}")))

    def toggle_selected(self) -> None:
        mb = self.selected_member()
        if mb is None:
            return
        if mb.active:
            text = two_lines(f"{mb.name}을(를) 사용 중지합니다. 카드로 로그인할 수 없게 되고, 지금 포장 중이면 "
                             "그 포장을 마친 뒤 로그아웃됩니다. 포장 기록은 남고, 나중에 다시 사용할 수 있습니다.",
                             f"Deactivate {mb.name}? Their badge stops signing in; if they are packing now, they are "
                             "signed out when that pack ends. Their packs stay on record; they can be reactivated.")
            if not self._confirm(tr("사용 중지 / Deactivate"), text):
                return
            self._run("deactivate", lambda s: staff.deactivate_packer(s, mb.id),
                      lambda new: self._changed(new, both(f"사용 중지됨: {new.name}", f"Deactivated: {new.name}")))
        else:
            self._run("reactivate", lambda s: staff.reactivate_packer(s, mb.id),
                      lambda new: self._changed(new, both(f"다시 사용: {new.name} — 같은 카드로 로그인합니다",
                                                          f"Reactivated: {new.name} — the same badge signs in")))

    def new_badge_selected(self) -> None:
        mb = self.selected_member()
        if mb is None or not mb.active:
            return
        text = two_lines(f"{mb.name}의 새 바코드를 만듭니다. 지금 카드({mb.badge_code})는 더 이상 쓸 수 없습니다 — "
                         "새 카드를 인쇄하세요.",
                         f"Make a new badge code for {mb.name}? The badge they have ({mb.badge_code}) stops working "
                         "— print the new one.")
        if not self._confirm(tr("새 바코드 만들기 / New badge code"), text):
            return
        self._run("badge", lambda s: staff.new_badge(s, mb.id),
                  lambda new: self._changed(new, both(f"새 바코드: {new.name} {new.badge_code} — 카드를 인쇄하세요",
                                                      f"New badge code: {new.name} {new.badge_code} — print it")))

    def _confirm(self, title: str, text: str) -> bool:
        return QMessageBox.question(self, title, text) == QMessageBox.StandardButton.Yes

    # ------------------------------------------------------------------ badges

    def badges_to_print(self) -> list[StaffMember]:
        """The selected active packers; with none of them selected, every active one."""
        ids = set(self.selected_ids())
        chosen = [mb for mb in self.members if mb.active and mb.id in ids]
        return chosen or [mb for mb in self.members if mb.active]

    def _print_clicked(self) -> None:
        chosen = files.save_file(self, "badges", tr("작업자 카드 저장 / Save badges"), "packdesk-badges.pdf",
                                 "PDF (*.pdf);;PNG (*.png)")
        if chosen:
            self.print_badges(chosen)

    def print_badges(self, path: Path) -> list[Path]:
        """A sheet of big badges (the barcode and the name) to print and cut out."""
        members = self.badges_to_print()
        if not members:
            return []
        try:
            written = render_sheet([badge_section((mb.name, mb.badge_code) for mb in members)], path,
                                   title=one("PackDesk 작업자 카드 / Packer badges", "PackDesk packer badges"),
                                   style=BADGE_STYLE)
        except (OSError, ValueError) as e:
            self._refuse(KnownError("staff_print_failed", detail=repr(e), path=str(path)))
            return []
        self.show_message("success", both(f"작업자 카드 {len(members)}장 저장됨: {', '.join(map(str, written))}",
                                          f"{plural(len(members), 'badge')} saved: {', '.join(map(str, written))}"))
        self.printed.emit(str(written[0]))
        return written

    # ------------------------------------------------------------------ lifecycle

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.refresh()
