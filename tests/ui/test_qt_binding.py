"""Guards against a broken Qt binding: PySide6 6.12.0 on CPython 3.11 lost a reference to None on every
void call, which aborts a long-running station. Fails loudly if such a build is installed again."""

import sys

from PySide6.QtGui import QColor, QImage, QPainter, QPen


def test_void_qt_calls_keep_none_refcount(qapp) -> None:  # type: ignore[no-untyped-def]
    img = QImage(8, 8, QImage.Format.Format_RGB32)
    painter = QPainter(img)
    pen = QPen(QColor("black"))
    before = sys.getrefcount(None)
    for _ in range(2000):
        painter.setPen(pen)
    after = sys.getrefcount(None)
    painter.end()
    assert after - before > -100, f"None lost {before - after} references in 2000 void Qt calls"
