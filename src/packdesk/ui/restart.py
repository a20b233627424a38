"""Restarting PackDesk from the settings: once a setting that applies at the next start is saved, the station
offers "지금 다시 시작 / Restart now" beside "나중에 / Later" (not modal: the station goes on packing while it is
up). Restarting closes the station window as a person closes it (a pack still open asks first, and "no" keeps
everything as it is), then quits; ``app.main`` starts PackDesk again once the data folder is free
(``services/restart.py``)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtWidgets import QMessageBox, QWidget

from packdesk.services import restart
from packdesk.ui.i18n import tr, two_lines

log = logging.getLogger("packdesk.restart")

RESTART_NOW = "지금 다시 시작 / Restart now"
LATER = "나중에 / Later"

quit_app: Callable[[], None] = QCoreApplication.quit  # tests put a stand-in here: quitting ends their event loop


def offer_restart(window: QWidget) -> QMessageBox:
    """The question, shown and left to the person; "Restart now" restarts (``restart_app``)."""
    box = QMessageBox(QMessageBox.Icon.Question, tr("설정 / Settings"), two_lines(
        "설정을 저장했습니다. 바뀐 설정은 PackDesk를 다시 시작하면 적용됩니다. 지금 다시 시작할까요?",
        "Settings saved. The changed settings apply when PackDesk starts again. Restart now?"),
        QMessageBox.StandardButton.NoButton, window)
    box.setObjectName("restartQuestion")
    now = box.addButton(tr(RESTART_NOW), QMessageBox.ButtonRole.AcceptRole)
    later = box.addButton(tr(LATER), QMessageBox.ButtonRole.RejectRole)
    box.setDefaultButton(later)  # an Enter from a scanner must not restart the station
    box.setModal(False)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    now.clicked.connect(lambda: restart_app(window))
    box.show()
    return box


def restart_app(window: QWidget) -> bool:
    """Close ``window`` and quit for a restart; False (nothing changed) when the window stayed open."""
    restart.request()
    if not window.close():
        restart.cancel()
        log.info("restart asked, but the window stayed open: no restart")
        return False
    log.info("restart asked: closing PackDesk")
    quit_app()
    return True
