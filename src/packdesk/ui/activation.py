"""A second start brings the running PackDesk to the front instead of starting twice.

The running copy (it holds the data folder's lock, ``services/instance.py``) listens on a local socket
named after its data folder; a second start on that folder sends ``activate`` and, once the first copy
answers ``ok``, exits. No answer (the holder is a headless run, or still starting) and the second start
says which process holds the folder instead.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtNetwork import QLocalServer, QLocalSocket

log = logging.getLogger("packdesk.ui.activation")

REQUEST = b"activate\n"
ANSWER = b"ok\n"


def server_name(data_dir: Path) -> str:
    """One name per data folder (the same folder, however written, gives the same name)."""
    key = str(data_dir.expanduser().resolve()).encode("utf-8")
    return f"packdesk-{hashlib.sha256(key).hexdigest()[:20]}"


class ActivationServer(QObject):
    """Answers a second start's ``activate`` by bringing ``window`` (or the set-up or question on top of it)
    to the front; run it only while holding the data folder's lock."""

    activated = Signal()

    def __init__(self, data_dir: Path, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.window: object | None = None  # the station's, once built
        self.server = QLocalServer(self)
        name = server_name(data_dir)
        # a socket file a crashed holder left behind: ours to remove, since we hold the folder's lock
        QLocalServer.removeServer(name)
        if not self.server.listen(name):
            log.warning("a second start cannot bring this window forward: %s", self.server.errorString())
        self.server.newConnection.connect(self._connected)

    def _connected(self) -> None:
        while self.server.hasPendingConnections():
            sock = self.server.nextPendingConnection()
            sock.readyRead.connect(lambda s=sock: self._read(s))
            sock.disconnected.connect(sock.deleteLater)
            if sock.bytesAvailable():
                self._read(sock)

    def _read(self, sock: QLocalSocket) -> None:
        if not sock.canReadLine():
            return
        if bytes(sock.readLine().data()) == REQUEST:
            log.info("a second start on this data folder: this window comes to the front")
            bring_to_front(self.window)
            self.activated.emit()
            sock.write(ANSWER)
            sock.flush()
        sock.disconnectFromServer()

    def close(self) -> None:
        self.server.close()


def activate_running(data_dir: Path, timeout_ms: int = 3000) -> bool:
    """Ask the copy holding ``data_dir`` to come to the front; True when it said it did."""
    sock = QLocalSocket()
    sock.connectToServer(server_name(data_dir))
    if not sock.waitForConnected(timeout_ms):
        return False
    sock.write(REQUEST)
    sock.flush()
    answered = False
    while sock.waitForReadyRead(timeout_ms):
        if sock.canReadLine():
            answered = bytes(sock.readLine().data()) == ANSWER
            break
    sock.abort()
    return answered


def bring_to_front(window: object | None) -> None:
    """What a window can do to be seen: un-minimise, raise, ask for focus (the window manager decides)."""
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QApplication, QWidget

    target = QApplication.activeModalWidget() or window  # the first-run set-up, a question, else the station
    if not isinstance(target, QWidget):
        return
    target.setWindowState(target.windowState() & ~Qt.WindowState.WindowMinimized)
    target.show()
    target.raise_()
    target.activateWindow()
