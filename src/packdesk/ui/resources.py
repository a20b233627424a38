"""Every file under ``resources/`` that the app shows or plays goes through here: one place that knows the
names and the folder (next to the sources, or inside the PyInstaller bundle, ``paths.resources_dir``).

The images are made by ``scripts/make_images.py`` and the sounds by ``scripts/make_sounds.py``. A missing
image is a broken install, not a reason to stop a packing station: it is logged and drawn as nothing.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QIcon, QPixmap, QPixmapCache

from packdesk.core.station import Level, Sound
from packdesk.paths import resources_dir

log = logging.getLogger("packdesk.resources")

ICON_FILE = "packdesk.png"
ICO_FILE = "packdesk.ico"  # Windows: the exe's icon (installer/packdesk.spec)
STATE_FILE: dict[Level, str] = {
    Level.INFO: "state-ready.png",      # a parcel box: ready, scan a waybill
    Level.SUCCESS: "state-ok.png",      # a check: complete
    Level.WARNING: "state-warning.png",  # "!" in a triangle: look
    Level.ERROR: "state-error.png",     # a cross in an octagon: refused, stop
}
SOUND_NAMES = frozenset(s.value for s in Sound)


def icon_path() -> Path:
    return resources_dir() / "icons" / ICON_FILE


def ico_path() -> Path:
    return resources_dir() / "icons" / ICO_FILE


def state_image_path(level: Level) -> Path:
    return resources_dir() / "images" / STATE_FILE[level]


def sound_path(name: str) -> Path:
    """One of the feedback sounds (``Sound`` values: ok, item, complete, error, warning, label)."""
    if name not in SOUND_NAMES:
        raise ValueError(f"no such sound: {name!r} (one of {sorted(SOUND_NAMES)})")
    return resources_dir() / "sounds" / f"{name}.wav"


def icon() -> QIcon:
    """The app icon (window title bars, the task bar)."""
    path = icon_path()
    if not path.exists():
        log.warning("app icon missing: %s", path)
        return QIcon()
    return QIcon(str(path))


def state_pixmap(level: Level, size: int = 128) -> QPixmap:
    """The station state's image, ``size`` pixels square (sharp on a high-DPI screen too). Scaled once per
    size and kept in Qt's pixmap cache: a scan redraws the banner without touching the disk."""
    app = QGuiApplication.instance()
    ratio = app.devicePixelRatio() if isinstance(app, QGuiApplication) else 1.0
    key = f"packdesk-state-{level.value}-{size}-{ratio}"
    cached = QPixmapCache.find(key)
    if cached is not None and not cached.isNull():
        return cached
    path = state_image_path(level)
    source = QPixmap(str(path))
    if source.isNull():
        log.warning("state image missing or unreadable: %s", path)
        blank = QPixmap(size, size)
        blank.fill(Qt.GlobalColor.transparent)
        return blank
    pix = source.scaled(round(size * ratio), round(size * ratio), Qt.AspectRatioMode.KeepAspectRatio,
                        Qt.TransformationMode.SmoothTransformation)
    pix.setDevicePixelRatio(ratio)
    QPixmapCache.insert(key, pix)
    return pix
