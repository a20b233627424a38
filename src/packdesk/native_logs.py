"""The native libraries' messages go to PackDesk's log, not to the terminal.

On a PC without a webcam, a sound server or VA-API, Qt Multimedia and OpenCV print lines such as "Couldn't
load pipewire-0.3 library", "PulseAudioService: pa_context_connect() failed" and "VIDEOIO(V4L2:/dev/video0):
can't open camera by index" at every start. They describe the machine, not a fault, yet a newcomer reads them
as breakage; whoever looks into a problem wants them in the log file with everything else.

- Qt: a message handler writes every Qt message to the ``packdesk.qt`` logger with its category, at the level
  Qt gave it, except the known machine descriptions below, which are INFO (in the file, never a warning).
- OpenCV has no hook for its log lines: its level is lowered to errors, and ``devices/camera.py`` logs what
  the webcam probe found. ``OPENCV_LOG_LEVEL`` set by a person debugging is left as it is.
- PyAV: FFmpeg's own messages stay off (``av.logging`` level ``None``); a failing encode or decode raises an
  exception carrying FFmpeg's error text, which is logged where it is caught. Routing them through PyAV's
  Python callback is what PyAV's documentation warns can deadlock with threads, and the recorder encodes on one.

Only the process entry points (``app.main``, ``self-test``, and the recorder process, whose log records reach
the station's log through its pipe) install this: under pytest, pytest-qt's handler
reports Qt warnings (``pyproject.toml``'s ``qt_log_ignore`` lists the same machine descriptions).
"""

from __future__ import annotations

import atexit
import logging
import os
import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PySide6.QtCore import QMessageLogContext, QtMsgType

log = logging.getLogger("packdesk.qt")

# Qt messages that describe this PC (optional system libraries absent, no sound server, the offscreen platform
# of a headless run), not a fault in PackDesk
MACHINE_DESCRIPTIONS = re.compile(
    r"Couldn't load .* library|Couldn't resolve .* symbols|PulseAudioService: |"
    r"This plugin does not support (propagateSizeHints|raise)\(\)|No RHI backend"
)
QUIET_CATEGORIES = frozenset({"qt.multimedia.symbolsresolver"})

_installed = False


def qt_level(kind: str, category: str | None, text: str) -> int:
    """The logging level for one Qt message; ``kind`` is the QtMsgType's name (QtWarningMsg, ...)."""
    level = {"QtDebugMsg": logging.DEBUG, "QtInfoMsg": logging.INFO, "QtWarningMsg": logging.WARNING,
             "QtCriticalMsg": logging.ERROR, "QtFatalMsg": logging.CRITICAL}.get(kind, logging.WARNING)
    if level in (logging.WARNING, logging.ERROR) and (category in QUIET_CATEGORIES
                                                      or MACHINE_DESCRIPTIONS.match(text)):
        return logging.INFO
    return level


def _qt_message(kind: QtMsgType, context: QMessageLogContext, text: str) -> None:
    category = context.category if context is not None else None
    level = qt_level(getattr(kind, "name", str(kind)), category, text)
    if category and category != "default":
        log.log(level, "%s: %s", category, text)
    else:
        log.log(level, "%s", text)


def route_native_logs() -> None:
    """Install the Qt message handler and quiet OpenCV and FFmpeg (see the module's docstring). Call it after
    ``log.setup_logging`` and before Qt Multimedia loads; the previous Qt handler is back at exit, so a Qt
    message printed while Python shuts down does not call into a half-finalised interpreter."""
    global _installed
    if _installed:
        return
    _installed = True
    from PySide6.QtCore import qInstallMessageHandler

    previous = qInstallMessageHandler(_qt_message)
    atexit.register(qInstallMessageHandler, previous)
    quiet_video_libraries()


def quiet_video_libraries() -> None:
    """OpenCV's log down to errors (unless ``OPENCV_LOG_LEVEL`` is set) and FFmpeg's off: no Qt needed, so the
    recorder process calls it first thing, before it probes for a webcam."""
    if "OPENCV_LOG_LEVEL" not in os.environ:
        import cv2

        cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)

    import av.logging

    av.logging.set_level(None)
