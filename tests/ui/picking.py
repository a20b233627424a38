"""Choosing from a drop-down list as a person does with the keyboard: the list has the focus, the arrow keys
move to the line that says the text. (Opening the list with a click makes the offscreen platform warn that it
cannot grab the keyboard, which fails a test.)"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox


def pick(qtbot: Any, combo: QComboBox, text: str) -> None:
    """Choose the line of ``combo`` reading ``text`` with the arrow keys."""
    row = combo.findText(text)
    assert row >= 0, f"{text!r} is not in the list: {[combo.itemText(i) for i in range(combo.count())]}"
    assert combo.isEnabled() and combo.isVisible()
    combo.setFocus()
    for _ in range(combo.count()):
        at = combo.currentIndex()
        if at == row:
            break
        qtbot.keyClick(combo, Qt.Key.Key_Down if at < row else Qt.Key.Key_Up)
    assert combo.currentText() == text
