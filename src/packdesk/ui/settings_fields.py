"""The settings screen's fields that are more than a plain widget (issue #20): every choice in words, in Korean
and English, storing the same values; the camera as a list of the cameras found; the video folder as the
folder in use, with a browse button; the contracted courier from the courier list.

Each is a ``SettingField``: its widget, and how to read and write the stored value, so the dialog
(``ui/settings_dialog.py``) saves, exports and imports them like any other field.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget

from packdesk.core import couriers
from packdesk.ui import files, ops
from packdesk.ui.first_run import CAMERA_CHOICES
from packdesk.ui.i18n import both, tr
from packdesk.ui.orders_view import courier_text

# setting -> stored value -> "한국어 / English" (numbers and sizes are their own words: baud rate, resolution)
CHOICE_WORDS: dict[str, dict[Any, str]] = {
    "complete_mode": {"auto": "마지막 상품을 스캔하면 완료 / The last item completes the pack",
                      "command": "완료 바코드를 스캔해야 완료 / Scan COMPLETE to finish"},
    "recorder": {"opencv": "PackDesk가 카메라로 녹화 / PackDesk records with the camera",
                 "realpacking": "리얼패킹 프로그램이 녹화 / The RealPacking program records",
                 "off": "녹화하지 않음 / No recording"},
    "language": {"ko": "한국어와 영어 / Korean with English", "en": "영어만 / English only"},
    "serial.terminator": {"CR": "CR (캐리지 리턴) / CR (carriage return)", "LF": "LF (줄바꿈) / LF (line feed)",
                          "CRLF": "CR+LF (둘 다) / CR+LF (both)", "TAB": "Tab (탭) / Tab"},
    "recording.encoder": {"auto": "자동 (하드웨어 인코더 우선) / Automatic (a hardware encoder first)",
                          "libx264": "소프트웨어 (libx264) / Software (libx264)"},
    "realpacking.charset": {"utf-8": "UTF-8 (유니코드) / UTF-8 (Unicode)",
                            "cp949": "CP949 (한글 Windows) / CP949 (Korean Windows)"},
    "database.mode": {"local": "이 PC만 (SQLite) / This PC only (SQLite)",
                      "server": "창고 서버, 여러 스테이션 (PostgreSQL) / Warehouse server, several stations "
                                "(PostgreSQL)"},
}
AUTO_CAMERA = "자동 / Automatic"
CAMERA_LABELS = dict(CAMERA_CHOICES)  # the set-up's words for a webcam, a video file, an IP camera, the synthetic one
NOT_CONNECTED = "연결 안 됨 / not connected"


class SettingField:
    """One setting's widget, with how to read and write its stored value."""

    def __init__(self, path: str, widget: QWidget, get: Callable[[], Any], put: Callable[[Any], None]) -> None:
        self.path, self.widget, self.get, self.put = path, widget, get, put


def choice_field(path: str, choices: Sequence[Any]) -> SettingField:
    """A list of the setting's values, each in words (``CHOICE_WORDS``), or as it is (a number, a size)."""
    combo = QComboBox()
    words = CHOICE_WORDS.get(path, {})
    for c in choices:
        combo.addItem(tr(words[c]) if c in words else str(c), c)
    return SettingField(path, combo, combo.currentData, lambda v: combo.setCurrentIndex(max(0, combo.findData(v))))


def courier_field(path: str) -> SettingField:
    """The courier list by name (``CJ대한통운 (CJGLS)``), storing the courier's code."""
    combo = QComboBox()
    for c in couriers.COURIERS:
        combo.addItem(courier_text(c.code), c.code)
    return SettingField(path, combo, combo.currentData, lambda v: combo.setCurrentIndex(max(0, combo.findData(v))))


class CameraChoice(QWidget):
    """The camera: automatic, each webcam found on this PC (looked for off the UI thread when the screen opens),
    a video file (typed or browsed), an IP camera address, or the synthetic scene — what the first-run set-up
    offers, stored as the same ``camera.source`` values. A webcam set before but not found now stays listed, said
    not connected, so opening and saving the screen never changes the camera."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.choice = QComboBox(objectName="cameraSource")
        self.path_edit = QLineEdit(objectName="cameraSourcePath")
        self.path_edit.setPlaceholderText("C:\\videos\\table.mp4 · rtsp://192.168.0.10/stream")
        self.browse = QPushButton(tr("찾아보기… / Browse…"), objectName="cameraSourceBrowse")
        self.browse.setAutoDefault(False)
        self.browse.clicked.connect(self._browse)
        self.found_label = QLabel(tr("웹캠 찾는 중… / Looking for webcams…"), objectName="camerasFound")
        self.found: list[str] | None = None  # None: not looked yet
        self._value = "auto"
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.path_edit, 1)
        row.addWidget(self.browse)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.choice)
        layout.addLayout(row)
        layout.addWidget(self.found_label)
        self._fill()
        self.choice.currentIndexChanged.connect(lambda _: self._choice_changed())

    def look_for_webcams(self) -> None:
        """Which webcams open on this PC, in the background (opening one can take a second)."""
        def probe() -> list[str]:
            from packdesk.devices import camera

            return camera.webcams()

        ops.run(self, "camera-probe", probe, self.show_found,
                lambda e: self.found_label.setText(both("웹캠을 찾지 못했습니다", f"Could not look for webcams: "
                                                                               f"{ops.kind(e)}")))

    def show_found(self, found: list[str]) -> None:
        current = self.value()
        self.found = list(found)
        self._fill()
        self.set_value(current)
        n = len(found)
        self.found_label.setText(both(f"웹캠 {n}대 찾음", f"{n} webcam{'' if n == 1 else 's'} found") if n
                                 else tr("이 PC에서 웹캠을 찾지 못했습니다 / No webcam found on this PC"))

    def _fill(self) -> None:
        self.choice.blockSignals(True)
        self.choice.clear()
        self.choice.addItem(tr(AUTO_CAMERA), "auto")
        webcams = list(self.found or [])
        if self._value.isdigit() and self._value not in webcams:
            webcams.append(self._value)
        for index in sorted(webcams, key=int):
            words = tr(CAMERA_LABELS.get(index, f"웹캠 {index} / Webcam {index}"))
            if self.found is not None and index not in self.found:
                words = f"{words} — {tr(NOT_CONNECTED)}"
            self.choice.addItem(words, index)
        for key in ("file", "url", "synthetic"):
            self.choice.addItem(tr(CAMERA_LABELS[key]), key)
        self.choice.blockSignals(False)

    def _choice_changed(self) -> None:
        key = self.choice.currentData()
        self.path_edit.setEnabled(key in ("file", "url"))
        self.browse.setEnabled(key == "file")

    def _browse(self) -> None:
        chosen = files.open_file(self, "camera-video", tr("동영상 파일 / Video file"),
                                 "Video (*.mp4 *.avi *.mkv *.mov);;*")
        if chosen:
            self.choice.setCurrentIndex(self.choice.findData("file"))
            self.path_edit.setText(str(chosen))

    def value(self) -> str:
        key = str(self.choice.currentData())
        return self.path_edit.text().strip() if key in ("file", "url") else key

    def set_value(self, value: str) -> None:
        self._value = value = str(value).strip() or "auto"
        if value.isdigit() and self.choice.findData(value) < 0:
            self._fill()
        key = value if self.choice.findData(value) >= 0 and value not in ("file", "url") else \
            "url" if "://" in value else "file"
        self.choice.setCurrentIndex(self.choice.findData(key))
        self.path_edit.setText(value if key in ("file", "url") else "")
        self._choice_changed()


def camera_field(path: str) -> SettingField:
    camera = CameraChoice()
    return SettingField(path, camera, camera.value, camera.set_value)


class FolderChoice(QWidget):
    """A folder setting shown as the folder in use: the one set, or ``in_use`` (the default) when none is; a
    browse button. Left at the default, it stores "" as before, so the default still follows the data folder."""

    def __init__(self, purpose: str, title: str, in_use: Path | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.purpose, self.title, self.in_use = purpose, title, in_use
        self.edit = QLineEdit(objectName=f"{purpose}Folder")
        self.browse = QPushButton(tr("찾아보기… / Browse…"), objectName=f"{purpose}Browse")
        self.browse.setAutoDefault(False)
        self.browse.clicked.connect(self._browse)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.edit, 1)
        row.addWidget(self.browse)
        self._unset = False

    def _browse(self) -> None:
        current = Path(self.edit.text().strip()) if self.edit.text().strip() else None
        chosen = files.folder(self, self.purpose, self.title, current if current and current.is_dir() else None)
        if chosen:
            self.edit.setText(str(chosen))

    def value(self) -> str:
        text = self.edit.text().strip()
        if self._unset and self.in_use is not None and text == str(self.in_use):
            return ""  # still the default
        return text

    def set_value(self, value: str) -> None:
        self._unset = not value
        self.edit.setText(value or (str(self.in_use) if self.in_use is not None else ""))


def folder_field(path: str, purpose: str, title: str, in_use: Path | None) -> SettingField:
    chooser = FolderChoice(purpose, title, in_use)
    return SettingField(path, chooser, chooser.value, chooser.set_value)
