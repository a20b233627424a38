"""Help → About, opened from the menu as a person does: the version, the licence with its no-warranty sentence,
LICENSE and the third-party notices, and the data folder and log file this PC uses, each copyable and with its
folder one click away; in Korean first, and in English only."""

from __future__ import annotations

import logging
import logging.handlers
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QAction, QGuiApplication
from PySide6.QtWidgets import QApplication, QLabel, QPushButton, QTabWidget

from packdesk import __version__
from packdesk.log import setup_logging
from packdesk.paths import AppDirs
from packdesk.services.settings import Settings
from packdesk.ui.about import AboutDialog
from packdesk.ui.i18n import HANGUL

pytestmark = pytest.mark.gui


@pytest.fixture
def logging_to_file(dirs: AppDirs) -> Iterator[Path]:
    """The app's logging set up as at start (a file in the data's log folder); undone after the test."""
    logger = logging.getLogger("packdesk")
    level = logger.level
    path = setup_logging(dirs.logs)
    assert path is not None
    yield path
    for h in list(logger.handlers):
        if isinstance(h, logging.handlers.RotatingFileHandler):
            logger.removeHandler(h)
            h.close()
    logger.setLevel(level)


def open_about(qtbot, window, help_text: str, about_text: str) -> AboutDialog:  # type: ignore[no-untyped-def]
    """Help → About from the menu bar, by the menus' own texts; returns once the notices are on screen."""
    help_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == help_text)
    next(a for a in help_menu.actions() if isinstance(a, QAction) and a.text() == about_text).trigger()
    qtbot.waitUntil(lambda: isinstance(QApplication.activeModalWidget(), AboutDialog), timeout=3000)
    dialog = QApplication.activeModalWidget()
    qtbot.waitUntil(lambda: dialog.notices_loaded, timeout=10000)
    return dialog  # type: ignore[return-value]


def test_about_in_korean(qtbot, make_station, dirs: AppDirs, logging_to_file: Path) -> None:  # type: ignore[no-untyped-def]
    st = make_station()
    dialog = open_about(qtbot, st.window, "도움말 / Help", "정보 / About")
    assert dialog.windowTitle() == "PackDesk 정보 / About PackDesk"
    assert dialog.findChild(QLabel, "aboutVersion").text() == f"PackDesk {__version__}"
    licence = dialog.findChild(QLabel, "aboutLicence").text()
    assert "GPL-3.0-or-later" in licence and "어떠한 보증도 없이" in licence and "ABSOLUTELY NO WARRANTY" in licence
    assert licence.index("어떠한 보증도") < licence.index("ABSOLUTELY")  # Korean first

    assert dialog.data_edit.text() == str(dirs.data) and dialog.data_edit.isReadOnly()
    assert dialog.log_edit.text() == str(logging_to_file) == str(dirs.logs / "packdesk.log")
    opened: list[QUrl] = []
    dialog.open_url = lambda url: opened.append(url) or True
    qtbot.mouseClick(dialog.findChild(QPushButton, "aboutDataDirOpen"), Qt.MouseButton.LeftButton)
    qtbot.mouseClick(dialog.findChild(QPushButton, "aboutLogFileOpen"), Qt.MouseButton.LeftButton)
    assert [u.toLocalFile() for u in opened] == [str(dirs.data), str(dirs.logs)]
    qtbot.mouseClick(dialog.findChild(QPushButton, "aboutLogFileCopy"), Qt.MouseButton.LeftButton)
    assert QGuiApplication.clipboard().text() == str(logging_to_file)

    tabs = dialog.findChild(QTabWidget, "aboutTabs")
    assert [tabs.tabText(i) for i in range(tabs.count())] == [
        "라이선스 (GPL-3.0) / Licence (GPL-3.0)", "제3자 구성 요소 고지 / Third-party notices"]
    assert dialog.licence_text.toPlainText().split()[:4] == ["GNU", "GENERAL", "PUBLIC", "LICENSE"]
    notices = dialog.notices_text.toPlainText()
    assert notices.startswith(f"PackDesk {__version__} — third-party notices")
    for piece in ("\nPySide6_Essentials ", "GNU LESSER GENERAL PUBLIC LICENSE", "x264, GPL-2.0-or-later",
                  "\nopencv-python-headless ", "\nav "):
        assert piece in notices
    tabs.setCurrentIndex(1)
    qtbot.waitUntil(dialog.notices_text.isVisible)
    dialog.reject()
    qtbot.waitUntil(lambda: QApplication.activeModalWidget() is None)


def test_about_in_english(qtbot, any_language, make_station, dirs: AppDirs) -> None:  # type: ignore[no-untyped-def]
    st = make_station(Settings(recorder="off", language="en"))
    dialog = open_about(qtbot, st.window, "Help", "About")
    assert dialog.windowTitle() == "About PackDesk"
    assert dialog.findChild(QLabel, "aboutVersion").text() == f"PackDesk {__version__}"
    assert dialog.findChild(QLabel, "aboutLicence").text().endswith("It comes with ABSOLUTELY NO WARRANTY.")
    assert dialog.data_edit.text() == str(dirs.data)
    # the station's own logging goes to no file in the tests: said so, and nothing to open or copy
    assert dialog.log_edit.text() == "Not written to a file"
    assert not dialog.findChild(QPushButton, "aboutLogFileOpen").isEnabled()
    shown = [w.text() for w in dialog.findChildren(QLabel) + dialog.findChildren(QPushButton)]
    tabs = dialog.findChild(QTabWidget, "aboutTabs")
    shown += [tabs.tabText(i) for i in range(tabs.count())]
    assert shown and not [t for t in shown if HANGUL.search(t)]
    assert "GNU GENERAL PUBLIC LICENSE" in dialog.licence_text.toPlainText()
    assert "\nPySide6_Essentials " in dialog.notices_text.toPlainText()
    dialog.reject()
    qtbot.waitUntil(lambda: QApplication.activeModalWidget() is None)
