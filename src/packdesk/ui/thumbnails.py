"""The station's product pictures, ready in memory before a scan needs them.

A scan redraws the table at once (``ui/station_view.py``): reading a file there would put a disk read, and a
JPEG decode, between the scanner's Enter and the packer's feedback. So a box's pictures are asked for when
its pack opens (``prepare``), read and scaled one after another on one thread (an ops lane, ``ui/ops.py``;
``QImageReader`` decodes at the size asked, off the UI thread; a ``QImage`` may cross threads, a ``QPixmap`` may
not), and kept by (item photo,
marketplace URL, size). Until a picture is in, the row shows its letter placeholder; when it arrives,
``ready`` fires and the view redraws. A missing or broken file is remembered as "none" (the placeholder),
and logged once.
"""

from __future__ import annotations

import logging
from functools import partial
from pathlib import Path

from PySide6.QtCore import QObject, QPoint, QSize, Qt, Signal
from PySide6.QtGui import QIcon, QImage, QImageReader, QPainter, QPixmap

from packdesk.services.pictures import PictureCache
from packdesk.ui import ops

log = logging.getLogger("packdesk.thumbnails")

Key = tuple[str, str, int]  # (the item's own photo, the marketplace's image URL, the square's side in pixels)


def read_square(path: Path, size: int) -> QImage | None:
    """The picture scaled to fit a ``size`` square (centred on a white one), decoded at that size."""
    reader = QImageReader(str(path))
    reader.setAutoTransform(True)
    full = reader.size()
    if full.isValid() and full.width() > 0 and full.height() > 0:
        reader.setScaledSize(full.scaled(QSize(size, size), Qt.AspectRatioMode.KeepAspectRatio))
    image = reader.read()
    if image.isNull():
        return None
    if image.width() > size or image.height() > size:  # a reader that ignores the scaled size
        image = image.scaled(size, size, Qt.AspectRatioMode.KeepAspectRatio,
                             Qt.TransformationMode.SmoothTransformation)
    square = QImage(size, size, QImage.Format.Format_RGB32)  # opaque: Qt draws it as fast as a letter tile
    square.fill(Qt.GlobalColor.white)
    p = QPainter(square)
    p.drawImage(QPoint((size - image.width()) // 2, (size - image.height()) // 2), image)
    p.end()
    return square


class Thumbnails(QObject):
    ready = Signal()                      # a picture came in: the rows that show it can be drawn again

    def __init__(self, pictures: PictureCache | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.pictures = pictures
        self._cache: dict[Key, QIcon | None] = {}  # icons made once: a redraw per scan only hands them over
        self._asked: set[Key] = set()
        self._closed = False

    def set_pictures(self, pictures: PictureCache | None) -> None:
        self.pictures = pictures
        self._cache.clear()
        self._asked.clear()

    def get(self, own: str, url: str, size: int) -> QIcon | None:
        """The picture if it is in memory (never reads a file): None while it loads, or when there is none."""
        if not own and not url:
            return None
        return self._cache.get((own, url, size))

    def get_small(self, own: str, url: str, size: int, side: int) -> QIcon | None:
        """The picture read at ``size``, as a ``side`` square (a header's), scaled once and kept."""
        small = (own, url, -side)
        if small not in self._cache:
            icon = self.get(own, url, size)
            if icon is None:
                return None
            pixmap = icon.pixmap(size, size).scaled(side, side, Qt.AspectRatioMode.KeepAspectRatio,
                                                    Qt.TransformationMode.SmoothTransformation)
            self._cache[small] = QIcon(pixmap)
        return self._cache[small]

    def prepare(self, wanted: list[tuple[str, str]], size: int) -> None:
        """Read these (own photo, URL) pictures at ``size`` off this thread, unless read or being read."""
        if self.pictures is None or self._closed:
            return
        for own, url in wanted:
            key = (own, url, size)
            # "none" is asked again with each pack: a picture the sync fetched since, or a photo set, shows up
            if (own or url) and self._cache.get(key) is None and key not in self._asked:
                self._asked.add(key)
                ops.run(self, "thumbnails", partial(self._read, key, self.pictures), partial(self._arrived, key),
                        lane=True)

    @staticmethod
    def _read(key: Key, pictures: PictureCache) -> QImage | None:  # the lane's thread
        own, url, size = key
        image: QImage | None = None
        try:
            path = pictures.picture_for(own, url)
            if path is not None:
                image = read_square(path, size)
                if image is None:
                    log.warning("product picture unreadable, letter shown instead: %s", path.name)
        except Exception as e:  # a picture must never break the station
            log.warning("product picture not read (%s): %s", type(e).__name__, own or "catalogue picture")
        return image

    def _arrived(self, key: Key, image: QImage | None) -> None:
        self._asked.discard(key)
        if self._closed:
            return
        self._cache[key] = QIcon(QPixmap.fromImage(image)) if image is not None else None
        if image is not None:
            self.ready.emit()

    @property
    def pending(self) -> bool:
        """Pictures asked for and not in yet (tests wait on it)."""
        return bool(self._asked)

    def close(self) -> None:
        """The station stopped: no picture is asked for any more, and one still being read is not kept."""
        self._closed = True
