"""A start prints nothing a newcomer would take for breakage: Qt Multimedia's probing of optional libraries and
the sound server, OpenCV's webcam probe and the offscreen platform's notes go to the log file (native_logs.py).
The start is the real demo station in its own process, offscreen, on a machine with no webcam."""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from packdesk.native_logs import qt_level

LOG_LINE = re.compile(r"^\S+ \S+ (?P<level>[A-Z]+)\s+(?P<name>\S+): (?P<text>.*)$")


def test_a_demo_start_prints_nothing_and_logs_what_the_libraries_said(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items()
           if k not in ("OPENCV_LOG_LEVEL", "QT_LOGGING_RULES", "PACKDESK_HOME")}  # tests' conftest quiets OpenCV
    env["QT_QPA_PLATFORM"] = "offscreen"
    data = tmp_path / "data"
    r = subprocess.run([sys.executable, "-m", "packdesk", "--data-dir", str(data), "--no-first-run",
                        "--screenshot", str(tmp_path / "shot.png"), "--scans", "PD-PACKER-001"],
                       capture_output=True, text=True, timeout=180, cwd=tmp_path, env=env)
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""  # before: a dozen lines of qt.multimedia, PulseAudio, VIDEOIO and plugin notes

    lines = [m.groupdict() for m in map(LOG_LINE.match, (data / "logs" / "packdesk.log").read_text(
        encoding="utf-8").splitlines()) if m]
    qt = [ln for ln in lines if ln["name"] == "packdesk.qt"]
    # Qt Multimedia's FFmpeg backend says which FFmpeg it loaded on every start: proof the handler is in place
    assert any(ln["text"].startswith("qt.multimedia.ffmpeg: Using Qt multimedia with FFmpeg") for ln in qt), qt
    assert all(ln["level"] in ("DEBUG", "INFO") for ln in qt), qt  # this PC's missing libraries are no warning
    camera = [ln["text"] for ln in lines if ln["name"] == "packdesk.camera"]
    assert any(t.startswith(("no webcam at index 0", "webcam found at index 0")) for t in camera), camera


@pytest.mark.parametrize(("kind", "category", "text", "level"), [
    ("QtWarningMsg", "qt.multimedia.symbolsresolver", "Couldn't load pipewire-0.3 library", logging.INFO),
    ("QtWarningMsg", "default", "PulseAudioService: pa_context_connect() failed", logging.INFO),
    ("QtWarningMsg", "default", "This plugin does not support propagateSizeHints()", logging.INFO),
    ("QtInfoMsg", "qt.multimedia.ffmpeg", "Using Qt multimedia with FFmpeg version 7.1.5", logging.INFO),
    ("QtDebugMsg", "qt.widgets", "anything", logging.DEBUG),
    # anything else Qt warns about is still a warning in the log
    ("QtWarningMsg", "default", "QWidget::setLayout: Attempting to set QLayout twice", logging.WARNING),
    ("QtCriticalMsg", "qt.sql", "a failure", logging.ERROR),
    ("QtFatalMsg", "default", "abort", logging.CRITICAL),
])
def test_qt_message_levels(kind: str, category: str, text: str, level: int) -> None:
    assert qt_level(kind, category, text) == level
