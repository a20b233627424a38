"""The small live camera picture and the REC indicator on the station screen.

The picture comes from the recorder process already at this size (``devices/preview_share.py``): ten
times a second the window copies it out if it is new, and shows it as it is (no decoding, no scaling of a
camera frame in this process). The indicator shows plainly whether this pack is being filmed: red REC with
the running time, grey standby, or a red fault when the camera, the disk or the recorder is not usable.
"""

from __future__ import annotations

import time
from typing import Protocol

import numpy as np
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from packdesk.devices.camera import Camera
from packdesk.devices.recorder import Recorder, RecorderState
from packdesk.ui.i18n import tr, two_lines

# the recorder process scales the live picture to fit this: the largest the station shows it (a share of the
# window's width, ``ui/station_view.station_metrics``); a smaller window scales it down here
PICTURE_SIZE = (640, 480)

REC_STYLE = {
    "recording": "background: #d50000; color: white;",
    "idle": "background: #616161; color: white;",
    "off": "background: #9e9e9e; color: white;",
    "failed": "background: #b71c1c; color: #ffeb3b;",
}


class PreviewSource(Protocol):
    """Where the station's live picture comes from (``devices/recorder_process.ProcessRecorder``)."""

    camera_detail: str

    def preview_frame(self, after: int = 0) -> tuple[int, np.ndarray] | None: ...

    def set_preview_box(self, size: tuple[int, int]) -> None: ...


def _show(label: QLabel, img: np.ndarray) -> None:
    h, w = img.shape[:2]
    qimg = QImage(img.data, w, h, img.strides[0], QImage.Format.Format_BGR888)
    box = label.size()
    # the recorder process made it to fit (``set_preview_box``); only the first picture after a resize can be
    # bigger: fitted here, keeping the camera's aspect (scaled() copies the pixels)
    if w > box.width() or h > box.height():
        qimg = qimg.scaled(box, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation)
        label.setPixmap(QPixmap.fromImage(qimg))
        return
    label.setPixmap(QPixmap.fromImage(qimg))  # QPixmap copies: ``img`` may go


def show_latest_frame(camera: Camera, label: QLabel) -> None:
    """A camera of this process (the set-up screens' try-out, not the station): its latest frame, scaled
    into ``label`` (or why there is none)."""
    frame = camera.latest()
    if frame is None:
        label.setText(camera.detail or "…")
        return
    img = frame.image
    h, w = img.shape[:2]
    qimg = QImage(img.data, w, h, img.strides[0], QImage.Format.Format_BGR888)
    label.setPixmap(QPixmap.fromImage(qimg).scaled(label.size(), Qt.AspectRatioMode.KeepAspectRatio,
                                                   Qt.TransformationMode.FastTransformation))


class CameraPreview(QWidget):
    def __init__(self, recorder: Recorder, camera: PreviewSource | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.recorder = recorder
        self.camera = camera
        self.shown = 0  # the number of the picture on screen (``preview_frame``)
        self.picture = QLabel(objectName="preview")
        self.picture.setFixedSize(240, 180)  # until the window says (``set_picture_width``)
        self.picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.picture.setStyleSheet("background: #222; color: #ddd;")
        self.rec = QLabel(objectName="recIndicator")
        self.rec.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.rec.setFixedWidth(240)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.picture)
        layout.addWidget(self.rec)
        self._rec_since: float | None = None
        self._timer = QTimer(self)
        self._timer.setInterval(100)
        self._timer.timeout.connect(self.refresh)
        self._timer.start()
        if camera is None:
            self.picture.setText(two_lines("카메라 없음", "no camera"))
        self.refresh()

    def set_picture_width(self, width: int) -> None:
        """The picture's width (a share of the window's, ``ui/station_view.py``), 4:3; the camera's own aspect is
        kept inside it. The recorder process scales the picture to this box (this process only copies it)."""
        width = min(width, PICTURE_SIZE[0])
        self.picture.setFixedSize(width, width * 3 // 4)
        self.rec.setFixedWidth(width)
        if self.camera is not None:
            self.camera.set_preview_box((width, width * 3 // 4))
        self.shown = 0  # the next picture is drawn at the new size, even if the camera has not moved on

    def refresh(self) -> None:
        state = self.recorder.state
        if state is RecorderState.RECORDING:
            if self._rec_since is None:
                self._rec_since = time.monotonic()
            secs = int(time.monotonic() - self._rec_since)
            self._show_rec("recording", f"● REC  {secs // 60:02d}:{secs % 60:02d}")
        else:
            self._rec_since = None
            text = tr({RecorderState.OFF: "녹화 꺼짐 / recording off",
                       RecorderState.FAILED: "⚠ 녹화 불가 / cannot record",
                       RecorderState.IDLE: "녹화 대기 / standby"}[state])
            self._show_rec(state.value, text)
        if self.camera is not None:
            got = self.camera.preview_frame(self.shown)
            if got is not None:
                self.shown, img = got
                _show(self.picture, img)
            elif not self.shown:
                self.picture.setText(tr(self.camera.camera_detail) or "…")

    def _show_rec(self, key: str, text: str) -> None:
        if self.rec.text() != text:  # the REC clock: every second
            self.rec.setText(text)
        if self.rec.property("state") != key:  # a style sheet re-polishes the label: only when the state changes
            self.rec.setStyleSheet(f"font-weight: bold; padding: 4px; {REC_STYLE[key]}")
            self.rec.setProperty("state", key)

    def stop(self) -> None:
        self._timer.stop()
