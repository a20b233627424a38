"""Help → About: the version, the licence and the third-party notices, and where this PC keeps PackDesk's data
and log — what a supervisor reads out to support, and what the GPL asks a copy to show."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QDesktopServices, QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from packdesk import APP_NAME, __version__, licences
from packdesk.core.errors import KnownError
from packdesk.ui import ops
from packdesk.ui.i18n import both, tr, two_lines

log = logging.getLogger("packdesk.ui")


class AboutDialog(QDialog):
    def __init__(self, data_dir: Path | None, log_file: Path | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("aboutDialog")
        self.setWindowTitle(both(f"{APP_NAME} 정보", f"About {APP_NAME}"))
        self.resize(820, 640)
        self.open_url: Callable[[QUrl], bool] = QDesktopServices.openUrl  # tests swap it for a recorder
        layout = QVBoxLayout(self)

        title = QLabel(f"{APP_NAME} {__version__}", objectName="aboutVersion")
        title.setStyleSheet("font-size: 20px; font-weight: bold;")
        title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(title)
        self.licence_label = QLabel(two_lines(
            f"{APP_NAME}는 자유 소프트웨어입니다. GNU 일반 공중 사용 허가서(GPL) 버전 3 또는 (선택에 따라) 그 이후 "
            "버전(GPL-3.0-or-later)에 따라 재배포하거나 수정할 수 있습니다. 이 프로그램은 어떠한 보증도 없이 "
            "배포됩니다.",
            f"{APP_NAME} is free software: you can redistribute it and/or modify it under the terms of the GNU "
            "General Public License, version 3 or (at your option) any later version (GPL-3.0-or-later). It "
            "comes with ABSOLUTELY NO WARRANTY."), objectName="aboutLicence")
        self.licence_label.setWordWrap(True)
        layout.addWidget(self.licence_label)

        paths = QGridLayout()
        self.data_edit = self._path_row(paths, 0, tr("데이터 폴더 / Data folder"), data_dir, data_dir, "aboutDataDir")
        self.log_edit = self._path_row(paths, 1, tr("로그 파일 / Log file"), log_file,
                                       log_file.parent if log_file else None, "aboutLogFile")
        layout.addLayout(paths)

        self.tabs = QTabWidget(objectName="aboutTabs")
        self.licence_text = self._text_tab(tr("라이선스 (GPL-3.0) / Licence (GPL-3.0)"), "licenceText")
        self.notices_text = self._text_tab(tr("제3자 구성 요소 고지 / Third-party notices"), "noticesText")
        layout.addWidget(self.tabs, 1)
        self.licence_text.setPlainText(licences.licence_text() or tr("LICENSE 파일이 없습니다 / LICENSE is missing"))
        self.notices_text.setPlainText(tr("불러오는 중… / Loading…"))
        self.notices_loaded = False
        # in a source checkout the notices are made from the installed packages: off the UI thread
        ops.run(self, "notices", licences.notices_text, self._show_notices, self._notices_failed)

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def _path_row(self, grid: QGridLayout, row: int, label: str, path: Path | None, folder: Path | None,
                  name: str) -> QLineEdit:
        """A path the person can select and copy, with its folder one click away."""
        edit = QLineEdit(str(path) if path else tr("파일에 기록하지 않음 / Not written to a file"),
                         objectName=name)
        edit.setReadOnly(True)
        edit.setCursorPosition(0)
        copy = QPushButton(tr("복사 / Copy"), objectName=f"{name}Copy")
        copy.clicked.connect(lambda: QGuiApplication.clipboard().setText(edit.text()))
        open_folder = QPushButton(tr("폴더 열기 / Open folder"), objectName=f"{name}Open")
        open_folder.setEnabled(folder is not None)
        open_folder.clicked.connect(lambda: self._open(folder))
        grid.addWidget(QLabel(label), row, 0)
        grid.addWidget(edit, row, 1)
        box = QHBoxLayout()
        box.addWidget(copy)
        box.addWidget(open_folder)
        grid.addLayout(box, row, 2)
        copy.setEnabled(path is not None)
        return edit

    def _text_tab(self, title: str, name: str) -> QPlainTextEdit:
        text = QPlainTextEdit(objectName=name)
        text.setReadOnly(True)
        text.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse
                                     | Qt.TextInteractionFlag.TextSelectableByKeyboard)
        self.tabs.addTab(text, title)
        return text

    def _open(self, folder: Path | None) -> None:
        if folder is not None:
            self.open_url(QUrl.fromLocalFile(str(folder)))

    def _show_notices(self, text: str) -> None:
        self.notices_text.setPlainText(text)
        self.notices_loaded = True

    def _notices_failed(self, error: KnownError) -> None:
        log.warning("third-party notices could not be read: %s", error.detail or error)
        self.notices_text.setPlainText(two_lines(
            "제3자 구성 요소 고지를 읽지 못했습니다. 설치 폴더의 THIRD-PARTY-NOTICES 파일을 보세요.",
            "The third-party notices could not be read: see THIRD-PARTY-NOTICES in the installation folder.")
            + f"\n\n{error.detail or error}")
        self.notices_loaded = True
