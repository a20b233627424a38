"""Makes the app icon and the station-state images (resources/icons/, resources/images/) with QPainter.

Each state has its own outline and its own sign (ready: a square with a parcel box, complete: a circle with a
check, warning: a triangle with "!", error: an octagon with a cross), so they tell apart at a glance and
without colour too; a white rim keeps them visible on the banner of the same colour. Re-run after changing
a drawing: ``QT_QPA_PLATFORM=offscreen .venv/bin/python scripts/make_images.py``.
"""

from __future__ import annotations

import math
import os
import struct
import sys
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QGuiApplication, QImage, QPainter, QPainterPath, QPen, QPolygonF

ROOT = Path(__file__).resolve().parents[1] / "resources"
ICON_SIZE = 256
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)  # what Windows asks of an exe icon, from the taskbar to Explorer
STATE_SIZE = 256

WHITE = QColor("#ffffff")
BLACK = QColor("#000000")

Draw = Callable[[QPainter], None]  # draws into a 100 x 100 square


def render(draw: Draw, size: int) -> QImage:
    img = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    img.fill(Qt.GlobalColor.transparent)
    p = QPainter(img)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.scale(size / 100.0, size / 100.0)
    draw(p)
    p.end()
    return img


def pen(color: QColor, width: float) -> QPen:
    return QPen(color, width, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap, Qt.PenJoinStyle.RoundJoin)


def poly(*points: tuple[float, float]) -> QPolygonF:
    return QPolygonF([QPointF(x, y) for x, y in points])


# ------------------------------------------------------------------ the app icon: a parcel with a check


def draw_icon(p: QPainter) -> None:
    edge = pen(QColor("#5d3a17"), 2.5)
    p.setPen(edge)
    p.setBrush(QColor("#d9a066"))  # top
    p.drawPolygon(poly((8, 34), (26, 20), (92, 20), (74, 34)))
    p.setBrush(QColor("#a86b32"))  # side
    p.drawPolygon(poly((74, 34), (92, 20), (92, 76), (74, 92)))
    p.setBrush(QColor("#c68642"))  # front
    p.drawPolygon(poly((8, 34), (74, 34), (74, 92), (8, 92)))
    p.setPen(pen(QColor("#f3d9a4"), 7))  # packing tape over the top and down the front
    p.drawLine(QPointF(17, 27), QPointF(83, 27))
    p.setPen(pen(QColor("#f3d9a4"), 7))
    p.drawLine(QPointF(41, 36), QPointF(41, 58))
    # the check badge: packed and checked
    p.setPen(pen(WHITE, 5))
    p.setBrush(QColor("#2e7d32"))
    p.drawEllipse(QPointF(70, 70), 25, 25)
    p.setPen(pen(WHITE, 8))
    p.setBrush(Qt.BrushStyle.NoBrush)
    p.drawPolyline(poly((58, 70), (67, 79), (83, 61)))


# ------------------------------------------------------------------ the four station states


def _outline(p: QPainter, shape: QPainterPath, fill: QColor) -> None:
    p.setPen(pen(WHITE, 6))
    p.setBrush(QBrush(fill))
    p.drawPath(shape)


def draw_ready(p: QPainter) -> None:  # Level.INFO: waiting for a waybill
    shape = QPainterPath()
    shape.addRoundedRect(QRectF(6, 6, 88, 88), 14, 14)
    _outline(p, shape, QColor("#0d47a1"))
    p.setPen(pen(WHITE, 5.5))
    p.setBrush(Qt.BrushStyle.NoBrush)
    p.drawPolygon(poly((24, 40), (36, 28), (76, 28), (64, 40)))  # lid
    p.drawPolygon(poly((64, 40), (76, 28), (76, 64), (64, 76)))  # side
    p.drawRect(QRectF(24, 40, 40, 36))                           # front
    p.drawLine(QPointF(44, 40), QPointF(44, 52))                 # tape


def draw_ok(p: QPainter) -> None:  # Level.SUCCESS: complete
    shape = QPainterPath()
    shape.addEllipse(QPointF(50, 50), 45, 45)
    _outline(p, shape, QColor("#1b5e20"))
    p.setPen(pen(WHITE, 13))
    p.setBrush(Qt.BrushStyle.NoBrush)
    p.drawPolyline(poly((27, 52), (43, 68), (73, 34)))


def draw_warning(p: QPainter) -> None:  # Level.WARNING: look, nothing refused
    shape = QPainterPath()
    shape.addPolygon(poly((50, 5), (96, 88), (4, 88)))
    shape.closeSubpath()
    _outline(p, shape, QColor("#ff8f00"))
    p.setPen(pen(BLACK, 12))
    p.drawLine(QPointF(50, 34), QPointF(50, 60))
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(BLACK)
    p.drawEllipse(QPointF(50, 75), 6.5, 6.5)


def draw_error(p: QPainter) -> None:  # Level.ERROR: refused, stop
    r = 46.0
    shape = QPainterPath()
    shape.addPolygon(poly(*[(50 + r * math.cos(math.radians(22.5 + 45 * i)),
                             50 + r * math.sin(math.radians(22.5 + 45 * i))) for i in range(8)]))
    shape.closeSubpath()
    _outline(p, shape, QColor("#b71c1c"))
    p.setPen(pen(WHITE, 13))
    p.drawLine(QPointF(32, 32), QPointF(68, 68))
    p.drawLine(QPointF(68, 32), QPointF(32, 68))


STATES: dict[str, Draw] = {"ready": draw_ready, "ok": draw_ok, "warning": draw_warning, "error": draw_error}


# ------------------------------------------------------------------ files


def _encoded(img: QImage, fmt: str) -> bytes:
    data = QByteArray()
    buf = QBuffer(data)
    buf.open(QIODevice.OpenModeFlag.WriteOnly)
    if not img.save(buf, fmt):
        raise RuntimeError(f"Qt cannot write {fmt}")
    buf.close()
    return bytes(data.data())


def ico_bytes(images: list[QImage]) -> bytes:
    """One .ico with every size: Qt writes an .ico of one image, so each size is encoded by Qt (bitmap up to
    64 px, where old Windows tools expect it; PNG above) and the directory is put together here."""
    blobs = []
    for img in images:
        if img.width() <= 64:
            one = _encoded(img, "ICO")
            _, _, count = struct.unpack_from("<HHH", one, 0)
            assert count == 1
            size, offset = struct.unpack_from("<II", one, 6 + 8)
            blobs.append((img.width(), 32, one[offset:offset + size]))
        else:
            blobs.append((img.width(), 32, _encoded(img, "PNG")))
    out = bytearray(struct.pack("<HHH", 0, 1, len(blobs)))
    offset = 6 + 16 * len(blobs)
    for w, bpp, blob in blobs:
        dim = 0 if w >= 256 else w  # 0 means 256
        out += struct.pack("<BBBBHHII", dim, dim, 0, 0, 1, bpp, len(blob), offset)
        offset += len(blob)
    for _, _, blob in blobs:
        out += blob
    return bytes(out)


def main() -> int:
    app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])
    icons, images = ROOT / "icons", ROOT / "images"
    icons.mkdir(parents=True, exist_ok=True)
    images.mkdir(parents=True, exist_ok=True)
    render(draw_icon, ICON_SIZE).save(str(icons / "packdesk.png"))
    (icons / "packdesk.ico").write_bytes(ico_bytes([render(draw_icon, s) for s in ICO_SIZES]))
    written = [icons / "packdesk.png", icons / "packdesk.ico"]
    for name, draw in STATES.items():
        path = images / f"state-{name}.png"
        render(draw, STATE_SIZE).save(str(path))
        written.append(path)
    for path in written:
        print(path, path.stat().st_size, "bytes")
    del app
    return 0


if __name__ == "__main__":
    sys.exit(main())
