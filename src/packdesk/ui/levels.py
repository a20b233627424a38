"""How a screen's message line looks for its level — info, success, error — in one place."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel

LEVEL_STYLE = {
    "info": "color: #0d47a1;",
    "success": "color: #1b5e20; font-weight: bold;",
    "error": "color: #b71c1c; font-weight: bold;",
}


def show_level(label: QLabel, level: str, text: str) -> None:
    """``text`` in ``label``, coloured for ``level``; the level is kept as the label's ``level`` property."""
    label.setText(text)
    label.setProperty("level", level)
    label.setStyleSheet(LEVEL_STYLE[level])
