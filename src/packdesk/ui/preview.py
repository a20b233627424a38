"""The small live camera picture and the REC indicator on the station screen.

Pulls the camera's latest frame ten times a second (the capture thread never waits on the UI), and
shows plainly whether this pack is being filmed: red REC with the running time, grey standby, or a red
fault when the camera or disk is not usable.
"""

from __future__ import annotations

import time

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from packdesk.devices.camera import Camera
from packdesk.devices.recorder import Recorder, RecorderState
from packdesk.ui.i18n import tr, two_lines

REC_STYLE = {
    "recording": "background: #d50000; color: white;",
    "idle": "background: #616161; color: white;",
    "off": "background: #9e9e9e; color: white;",
    "failed": "background: #b71c1c; color: #ffeb3b;",
}


def show_latest_frame(camera: Camera, label: QLabel) -> None:
    """The camera's latest frame, scaled into ``label`` (or why there is none)."""
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
    def __init__(self, recorder: Recorder, camera: Camera | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.recorder = recorder
        self.camera = camera
        self.picture = QLabel(objectName="preview")
        self.picture.setFixedSize(240, 180)
        self.picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.picture.setStyleSheet("background: #222; color: #ddd;")
        self.rec = QLabel(objectName="recIndicator")
        self.rec.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.rec.setFixedWidth(240)
        self.rec.setStyleSheet("font-size: 20px; font-weight: bold;")
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
            show_latest_frame(self.camera, self.picture)

    def _show_rec(self, key: str, text: str) -> None:
        if self.rec.text() != text:
            self.rec.setText(text)
            self.rec.setStyleSheet(f"font-size: 20px; font-weight: bold; padding: 4px; {REC_STYLE[key]}")
            self.rec.setProperty("state", key)

    def stop(self) -> None:
        self._timer.stop()
