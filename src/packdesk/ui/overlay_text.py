"""Renders overlay labels with Qt's fonts (Hangul included) for the recorder, whose cv2 text has no Hangul.

It runs in the recorder process (``devices/recorder_process.py``), which has no window and no
QApplication: QtGui alone draws text into a QImage, but Qt's fonts need a QGuiApplication, so the first
call there makes one on the "offscreen" platform (no display, no widgets; ~7 ms). Called when a recording
starts: once per recording, not per frame. Without Qt's fonts cv2 would show a packer's Korean name as "???".
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QGuiApplication, QImage, QPainter

_app: QGuiApplication | None = None  # the recorder process's own, kept for its lifetime


def _fonts_ready() -> None:
    global _app
    if QGuiApplication.instance() is None:
        _app = QGuiApplication(["packdesk-recorder", "-platform", "offscreen"])


def render_label(text: str, height: int) -> np.ndarray:
    _fonts_ready()
    font = QFont()
    font.setPixelSize(max(8, int(height * 0.8)))
    font.setBold(True)
    width = QFontMetrics(font).horizontalAdvance(text) + 8
    img = QImage(width, height, QImage.Format.Format_RGB888)
    img.fill(QColor(0, 0, 0))
    p = QPainter(img)
    p.setFont(font)
    p.setPen(QColor(255, 255, 255))
    p.drawText(img.rect().adjusted(4, 0, 0, 0), Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, text)
    p.end()
    ptr = img.constBits()
    rgb = np.frombuffer(ptr, np.uint8, img.sizeInBytes()).reshape(height, img.bytesPerLine())[:, : width * 3]
    return rgb.reshape(height, width, 3)[:, :, ::-1].copy()  # RGB -> BGR
