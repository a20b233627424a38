"""Renders overlay labels with Qt's fonts (Hangul included) for the recorder, which is Qt-free and whose
cv2 text has no Hangul. Called on the UI thread when a recording starts: once per recording, not per frame."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QImage, QPainter


def render_label(text: str, height: int) -> np.ndarray:
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
