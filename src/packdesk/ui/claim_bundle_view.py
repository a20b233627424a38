"""클레임 자료 내보내기 / Export claim bundle: the dialog the review window (the selected recording's order),
the orders window (the selected order) and the returns review (the selected return inspection) open. It says
what the bundle will hold, lets the person pick a folder and "folder or zip", and shows the progress and where
it went; the bundle itself is
``services/claim_bundle.py``, run off the UI thread (``ui/ops.py``). Only the evidence sheets are drawn here, on
the UI thread (``ops.on_ui_thread``), in the middle of that run.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from packdesk.core.db import Database
from packdesk.core.errors import KnownError
from packdesk.services import claim_bundle as cb
from packdesk.services.dbworker import Job
from packdesk.ui import files, ops
from packdesk.ui.evidence_sheet import write_evidence_sheet
from packdesk.ui.i18n import both, plural, tr, two_lines
from packdesk.ui.levels import show_level
from packdesk.ui.messages import error_text

log = logging.getLogger("packdesk.ui.claim_bundle")

BUTTON_TEXT = "클레임 자료 내보내기 / Export claim bundle"
PURPOSE = "claim-bundle"  # the file dialogs' remembered folder (``ui/files.py``)
SUBJECT_TEXT = {"order": ("주문", "Order"), "waybill": ("송장", "Waybill"),  # what a bundle is for (through both)
                "return": ("반품", "Return")}


class ClaimBundleDialog(QDialog):
    """One bundle for one subject; closes itself when the person is done (an answer after that is dropped)."""

    loaded = Signal(object)        # the Subject
    progressed = Signal(int, int)  # (done, total): emitted on the building thread, shown on the UI thread
    exported = Signal(object)      # the BundleResult
    refused = Signal(str)          # an error code, once on screen

    def __init__(self, db: Database, subject: Job[cb.Subject], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("claimBundleDialog")
        self.setWindowTitle(tr(BUTTON_TEXT))
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.db = db
        self.subject: cb.Subject | None = None
        self.folder: Path | None = None
        self.bundle: cb.BundleResult | None = None
        self.open_url: Callable[[QUrl], bool] = QDesktopServices.openUrl  # tests swap it for a recorder

        self.info = QLabel(tr("불러오는 중… / Loading…"), objectName="claimInfo")
        self.info.setWordWrap(True)
        self.as_folder = QRadioButton(tr("폴더로 / As a folder"), objectName="claimAsFolder")
        self.as_zip = QRadioButton(tr("ZIP 파일 하나로 / As one ZIP file"), objectName="claimAsZip")
        self.as_zip.setChecked(True)
        self.folder_label = QLabel("", objectName="claimFolder")
        self.folder_label.setWordWrap(True)
        self.choose_button = QPushButton(tr("저장할 폴더… / Save in folder…"), objectName="claimChoose")
        self.export_button = QPushButton(tr("내보내기 / Export"), objectName="claimExport")
        self.export_button.setEnabled(False)
        self.progress = QProgressBar(objectName="claimProgress")
        self.progress.hide()
        self.message = QLabel("", objectName="claimMessage")
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.open_button = QPushButton(tr("내보낸 위치 열기 / Open where it went"), objectName="claimOpen")
        self.open_button.setEnabled(False)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)

        how = QHBoxLayout()
        how.addWidget(self.as_zip)
        how.addWidget(self.as_folder)
        how.addStretch(1)
        where = QHBoxLayout()
        where.addWidget(self.folder_label, 1)
        where.addWidget(self.choose_button)
        lay = QVBoxLayout(self)
        lay.addWidget(self.info)
        lay.addLayout(how)
        lay.addLayout(where)
        lay.addWidget(self.export_button)
        lay.addWidget(self.progress)
        lay.addWidget(self.message)
        row = QHBoxLayout()
        row.addWidget(self.open_button)
        row.addStretch(1)
        row.addWidget(close)
        lay.addLayout(row)
        self.resize(640, 320)

        self.choose_button.clicked.connect(self.choose_folder)
        self.export_button.clicked.connect(self.export)
        self.open_button.clicked.connect(self.open_result)
        close.rejected.connect(self.reject)
        self.progressed.connect(self._step)
        self._show_folder(files.start_folder(PURPOSE))
        ops.read(self, "claim-subject", db, subject, self._loaded, self._refused)

    @property
    def busy(self) -> bool:
        return ops.pending(self) > 0

    def _loaded(self, subject: cb.Subject) -> None:
        self.subject = subject
        what = SUBJECT_TEXT.get(subject.kind, (subject.kind, subject.kind))
        n, p = len(subject.recording_ids), len(subject.pack_session_ids)
        self.info.setText(both(f"{what[0]} {subject.label}: 녹화 {n}개, 포장 {p}회",
                               f"{what[1]} {subject.label}: {plural(n, 'recording')}, {plural(p, 'pack')}")
                          + "\n" + tr("원본 영상(.ts)과 MP4 사본, 스캔 기록, 증거 자료 PDF, 해시와 체인 링크, "
                                      "검증 방법 — 구매자 개인정보 제외 / the original videos (.ts) and MP4 copies, "
                                      "the scans, the evidence sheets, the hashes and chain links, how to verify "
                                      "— no buyer personal data"))
        if subject.kind == "return":
            self.info.setText(self.info.text() + "\n" + tr(
                "반품 영상과 원래 출고 영상, 반품 검수 스캔(return_scans.csv, 상품마다 상태) / the return's video and "
                "the original outbound video, the return's scans (return_scans.csv, each item's condition)"))
        self.export_button.setEnabled(not subject.empty)
        if subject.empty:
            self._refused(cb.ClaimBundleError("claim_bundle_empty", subject=subject.label))
        self.loaded.emit(subject)

    def _show_folder(self, folder: Path) -> None:
        self.folder = folder
        self.folder_label.setText(both("저장 위치", f"Save in: {folder}"))

    def choose_folder(self) -> None:
        chosen = files.folder(self, PURPOSE, tr("클레임 자료를 저장할 폴더 / Folder for the claim bundle"), self.folder)
        if chosen:
            self._show_folder(chosen)

    def export(self) -> None:
        subject, folder = self.subject, self.folder
        if subject is None or folder is None or self.busy:
            return
        files.remember(PURPOSE, folder)
        as_zip = self.as_zip.isChecked()
        sheet = ops.on_ui_thread(write_evidence_sheet)
        self.export_button.setEnabled(False)
        self.open_button.setEnabled(False)
        self.progress.setRange(0, 0)
        self.progress.show()
        show_level(self.message, "info", tr("클레임 자료를 만드는 중… / Making the claim bundle…"))
        tell = ops.progress(self, self.progressed.emit)  # the dialog closed meanwhile: the bundle is still made
        ops.run(self, "claim-bundle", lambda: cb.build(self.db, subject, folder, as_zip=as_zip, write_sheet=sheet,
                                                       progress=tell),
                self._done, self._refused)

    def _step(self, done: int, total: int) -> None:
        self.progress.setRange(0, total)
        self.progress.setValue(done)

    def _done(self, result: cb.BundleResult) -> None:
        self.bundle = result
        self.progress.hide()
        self.export_button.setEnabled(True)
        self.open_button.setEnabled(True)
        text = both("클레임 자료를 저장했습니다", f"Claim bundle saved: {result.path}")
        missing, altered = result.missing, [e for e in result.attention if e.original]
        if missing:
            ids = ", ".join(str(e.recording_id) for e in missing)
            text += "\n" + both(f"원본이 없는 녹화 {len(missing)}개 (자료에 이유와 함께 표시함): {ids}",
                                f"{plural(len(missing), 'recording')} without its original, listed with why: {ids}")
        if altered:
            ids = ", ".join(str(e.recording_id) for e in altered)
            text += "\n" + both(f"해시가 색인과 다른 녹화 {len(altered)}개 — 무결성 검사를 하세요: {ids}",
                                f"{plural(len(altered), 'recording')} whose hash differs from the index — run "
                                f"Verify recordings: {ids}")
        show_level(self.message, "warning" if result.attention else "success", text)
        self.exported.emit(result)

    def _refused(self, error: KnownError) -> None:
        self.progress.hide()
        self.export_button.setEnabled(self.subject is not None and not self.subject.empty)
        show_level(self.message, "error", two_lines(*error_text(error)))
        log.info("claim bundle refused: %s %s (%s)", error.code, error.params, error.detail)
        self.refused.emit(error.code)

    def open_result(self) -> None:
        """The folder holding the bundle (a zip's folder), in the PC's file manager."""
        if self.bundle is not None:
            target = self.bundle.path if self.bundle.path.is_dir() else self.bundle.path.parent
            self.open_url(QUrl.fromLocalFile(str(target)))


def open_claim_bundle(parent: QWidget, db: Database, subject: Job[cb.Subject]) -> ClaimBundleDialog:
    """The dialog for ``subject`` (read on a session of its own), shown beside ``parent``."""
    dialog = ClaimBundleDialog(db, subject, parent)
    dialog.open()
    return dialog
