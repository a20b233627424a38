"""Packer mode and supervisor mode.

Packers only pack; settings, product links, order collection, the outbox, recordings review and reports
are a supervisor's, behind the supervisor PIN (``services/auth.py``; its hash is in the settings). Asking
is done where a person opens such a screen (the menu), so a screen opened by the program itself (tests,
a scan routed to the review) is not asked twice. Once unlocked, supervisor mode lasts until it has been
untouched for ``auto_lock_min``, until *Lock* is chosen, or until a packer badge is scanned.

Five wrong PINs in a row lock the dialog for a minute: a PIN has few digits, so guessing must be slow.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QLineEdit, QVBoxLayout, QWidget

from packdesk.services.auth import check_pin
from packdesk.ui.i18n import both, tr

MAX_TRIES = 5
LOCKOUT_S = 60.0


class SupervisorGate(QObject):
    changed = Signal(bool)  # supervisor mode on / off

    def __init__(self, pin_hash: str, auto_lock_min: int = 5, clock: Callable[[], float] = time.monotonic,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.pin_hash = pin_hash
        self.auto_lock_s = auto_lock_min * 60.0
        self._clock = clock
        self._unlocked = False
        self._last_touch = 0.0
        self._wrong = 0
        self._locked_out_until = 0.0
        self.dialog: PinDialog | None = None

    @property
    def has_pin(self) -> bool:
        return bool(self.pin_hash)

    def is_supervisor(self) -> bool:
        return not self.has_pin or self._unlocked

    def touch(self) -> None:
        """A supervisor action: the idle clock starts again."""
        self._last_touch = self._clock()

    def check_idle(self) -> None:
        """Called every second (the main window's tick)."""
        if self._unlocked and self._clock() - self._last_touch >= self.auto_lock_s:
            self.lock()

    def lock(self) -> None:
        if self._unlocked:
            self._unlocked = False
            self.changed.emit(False)

    def try_pin(self, pin: str) -> bool:
        """Unlock with ``pin``. False when wrong or while locked out after too many wrong PINs."""
        now = self._clock()
        if now < self._locked_out_until:
            return False
        if check_pin(pin, self.pin_hash):
            self._wrong = 0
            self._unlocked = True
            self.touch()
            self.changed.emit(True)
            return True
        self._wrong += 1
        if self._wrong >= MAX_TRIES:
            self._wrong = 0
            self._locked_out_until = now + LOCKOUT_S
        return False

    def locked_out_for(self) -> float:
        return max(0.0, self._locked_out_until - self._clock())

    def require(self, parent: QWidget, then: Callable[[], object]) -> None:
        """Run ``then`` as a supervisor: at once in supervisor mode, else after the right PIN."""
        if self.is_supervisor():
            self.touch()
            then()
            return
        if self.dialog is not None:
            self.dialog.raise_()
            return
        dialog = PinDialog(self, parent)
        self.dialog = dialog

        def closed(result: int) -> None:
            self.dialog = None
            if result == QDialog.DialogCode.Accepted:
                then()

        dialog.finished.connect(closed)
        dialog.open()


class PinDialog(QDialog):
    def __init__(self, gate: SupervisorGate, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.gate = gate
        self.setWindowTitle(tr("관리자 확인 / Supervisor"))
        self.setObjectName("pinDialog")
        title = QLabel(tr("관리자 PIN을 입력하세요 / Enter the supervisor PIN"))
        title.setStyleSheet("font-size: 20px; font-weight: bold;")
        self.pin = QLineEdit(objectName="pinInput")
        self.pin.setEchoMode(QLineEdit.EchoMode.Password)
        self.pin.setMaxLength(12)
        self.pin.setStyleSheet("font-size: 28px;")
        self.pin.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message = QLabel(objectName="pinMessage")
        self.message.setStyleSheet("color: #b71c1c; font-weight: bold; font-size: 16px;")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.submit)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        for w in (title, self.pin, self.message, buttons):
            lay.addWidget(w)
        self.pin.setFocus()

    def submit(self) -> None:
        if self.gate.try_pin(self.pin.text()):
            self.accept()
            return
        self.pin.clear()
        wait = self.gate.locked_out_for()
        if wait > 0:
            self.message.setText(both(f"잠시 후 다시 시도하세요 ({wait:.0f}초)", f"Try again in {wait:.0f} s"))
        else:
            self.message.setText(tr("PIN이 틀렸습니다 / Wrong PIN"))
