"""First-run set-up: a guided wizard, shown by ``app.main`` when this PC has no settings file yet.

It asks, one page at a time and in big type, what a new station needs: its name, where videos go, which
camera (with a live picture), whether the scanner reads ("scan this barcode"), who records (PackDesk, the
RealPacking program, or nobody), the supervisor PIN, and whether a marketplace account is added now or
later. Without the demo shop (an account now) there are no packers yet, so it asks for their names, one a
line: the station makes them (``services/staff.py``, through ``app.build_station``) once its database is open,
before it starts, so the first badge scanned signs in. Finishing writes ``settings.json`` and the station
starts with it; cancelling writes nothing.

Its texts follow the screen language (``ui/i18n.py``): bilingual on a new PC; on a PC set up before
(``--first-run``), the language of its settings (``run_first_run`` sets it before building the wizard). The
first page also chooses the station's language (``Settings.language``): saved with the rest, it applies
from the station's start, right after Finish (the wizard keeps the language it opened in).

Before the station runs there is no app-wide key filter yet, so the wizard installs one of its own while
it is open (the same ``WedgeKeyFilter``): a scan reaches ``take_scan`` like the station's, whatever has
focus and in Hangul mode too. A serial scanner can be tried on the same page.
"""

from __future__ import annotations

import html
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QColor, QPainter, QPixmap, QShowEvent
from PySide6.QtWidgets import (
    QApplication,
    QButtonGroup,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
    QWizard,
    QWizardPage,
)

from packdesk import APP_NAME
from packdesk.paths import AppDirs
from packdesk.services import staff
from packdesk.services.settings import Settings, save_settings
from packdesk.ui import files, ops
from packdesk.ui.barcode_sheet import code128_modules
from packdesk.ui.i18n import both, one, pair, set_language, tr, two_lines
from packdesk.ui.messages import error_text
from packdesk.ui.preview import show_latest_frame
from packdesk.ui.resources import icon
from packdesk.ui.scans import ScanTaker

log = logging.getLogger("packdesk.first_run")

SCAN_TEST_CODE = "PD-TEST-2580"  # no waybill, item, badge or command looks like it
CAMERA_CHOICES: tuple[tuple[str, str], ...] = (
    ("auto", "자동 (웹캠, 없으면 가상 카메라) / Auto (a webcam, else synthetic)"),
    ("0", "웹캠 0 / Webcam 0"),
    ("1", "웹캠 1 / Webcam 1"),
    ("2", "웹캠 2 / Webcam 2"),
    ("3", "웹캠 3 / Webcam 3"),
    ("file", "동영상 파일 / Video file"),
    ("url", "IP 카메라 주소 (rtsp://, http://) / IP camera URL"),
    ("synthetic", "가상 카메라 (시험용) / Synthetic camera (for trying)"),
)
RECORDER_CHOICES: tuple[tuple[str, str], ...] = (
    ("opencv", "PackDesk가 녹화 (위에서 고른 카메라) / PackDesk records (the camera chosen before)"),
    ("realpacking", "리얼패킹 프로그램이 녹화 / The RealPacking program records"),
    ("off", "녹화하지 않음 / No recording"),
)
BAUD_RATES = (9600, 19200, 38400, 57600, 115200)
STYLE = """
    QWizard QLabel, QWizard QLineEdit, QWizard QComboBox, QWizard QRadioButton, QWizard QPushButton,
    QWizard QSpinBox { font-size: 18px; }
    QWizard QLineEdit, QWizard QComboBox, QWizard QPushButton, QWizard QSpinBox { min-height: 36px; }
    QWizard QRadioButton { min-height: 34px; }
    #pageMessage { color: #b71c1c; font-weight: bold; }
    #scanResult { font-size: 26px; font-weight: bold; }
    #testCode { font-size: 24px; font-family: monospace; }
    #summary { font-size: 20px; }
"""
RED, GREEN = "#b71c1c", "#1b5e20"


def barcode_pixmap(code: str, module_px: int = 3, height: int = 110) -> QPixmap:
    """``code`` as Code 128 on screen, every bar on whole pixels (``barcode_sheet.code128_modules``), quiet
    zones included, so a scanner pointed at the monitor reads it."""
    modules = code128_modules(code)
    pix = QPixmap(len(modules) * module_px, height)
    pix.fill(QColor("#ffffff"))
    p = QPainter(pix)
    black = QColor("#000000")
    for i, m in enumerate(modules):
        if m == "1":
            p.fillRect(i * module_px, 0, module_px, height, black)
    p.end()
    return pix


def _text(ko_en: str) -> QLabel:
    label = QLabel(ko_en)
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


class _Page(QWizardPage):
    """A page with a red line for what is wrong on it."""

    def __init__(self, title: str, subtitle: str = "") -> None:
        super().__init__()
        self.setTitle(f"<span style='font-size: 26px; font-weight: bold;'>{html.escape(title)}</span>")
        if subtitle:
            self.setSubTitle(subtitle)
        self.message = QLabel(objectName="pageMessage")
        self.message.setWordWrap(True)
        self.body = QVBoxLayout(self)

    def finish_layout(self) -> None:
        self.body.addStretch(1)
        self.body.addWidget(self.message)

    def say(self, text: str) -> None:
        self.message.setText(text)


# ------------------------------------------------------------------ pages


class NamePage(_Page):
    def __init__(self, name: str, language: str = "ko") -> None:
        super().__init__(tr("어서 오세요 — 스테이션 이름 / Welcome — name this station"),
                         tr("몇 가지만 정하면 포장을 시작할 수 있습니다 / A few choices, then this PC packs"))
        self.body.addWidget(_text(two_lines(
            "이 PC의 이름입니다. 모든 포장 기록과 녹화에 남고, 여러 스테이션이 한 서버를 쓸 때 서로 구별합니다.",
            "This PC's name: it is on every pack and video, and tells stations apart on a shared server.")))
        self.name_edit = QLineEdit(name, objectName="stationName")
        self.name_edit.setMaxLength(64)
        self.name_edit.setPlaceholderText(tr("예: 포장대-1 / e.g. PACK-1"))
        self.name_edit.textChanged.connect(self._name_changed)
        self.language_choice = QComboBox(objectName="languageChoice")
        self.language_choice.addItem(one("한국어 + English", "Korean + English"), "ko")  # Settings.language
        self.language_choice.addItem("English only", "en")
        self.language_choice.setCurrentIndex(max(0, self.language_choice.findData(language)))
        form = QFormLayout()
        form.addRow(tr("스테이션 이름 / Station name"), self.name_edit)
        form.addRow(tr("화면 언어 / Screen language"), self.language_choice)
        self.body.addLayout(form)
        self.body.addWidget(_text(tr("포장 화면의 언어: 한국어와 영어를 함께, 또는 영어만 — 설정을 마치면 적용됩니다 / "
                                     "The station's language: Korean with English, or English only — it applies "
                                     "when set-up ends")))
        self.finish_layout()

    def name(self) -> str:
        return self.name_edit.text().strip()

    def _name_changed(self, _: str) -> None:
        """Next waits for a name; a name rubbed out (or only spaces) says why."""
        self.say("" if self.name() else tr("스테이션 이름을 입력하세요 / Type a name for this station"))
        self.completeChanged.emit()

    def language(self) -> str:
        return str(self.language_choice.currentData())

    def isComplete(self) -> bool:
        return bool(self.name())


class FoldersPage(_Page):
    def __init__(self, dirs: AppDirs, video_root: str) -> None:
        super().__init__(tr("데이터와 영상 폴더 / Data and video folders"))
        self.dirs = dirs
        self.data_edit = QLineEdit(str(dirs.data), objectName="dataFolder")
        self.data_edit.setReadOnly(True)
        self.body.addWidget(_text(tr("데이터 폴더 (데이터베이스, 설정, 로그) / "
                                     "Data folder (database, settings, logs)")))
        self.body.addWidget(self.data_edit)
        self.body.addWidget(_text(two_lines(
            "다른 폴더를 쓰려면 PackDesk를 --data-dir 폴더 옵션으로 시작하세요 (바로가기 속성의 '대상' 끝에 추가). "
            "USB 등 한 폴더에 모두 두는 휴대용 설치도 같은 방법입니다.",
            "To use another folder, start PackDesk with --data-dir FOLDER (add it at the end of the shortcut's "
            "'Target'); a portable install in one folder works the same way.")))
        self.body.addSpacing(12)
        self.body.addWidget(_text(tr("영상 폴더 (녹화 파일, 날짜별) / Video folder (recordings, one folder a day)")))
        self.video_edit = QLineEdit(video_root or str(dirs.videos), objectName="videoFolder")
        browse = QPushButton(tr("찾아보기… / Browse…"))
        browse.clicked.connect(self._browse)
        row = QHBoxLayout()
        row.addWidget(self.video_edit, 1)
        row.addWidget(browse)
        self.body.addLayout(row)
        self.body.addWidget(_text(tr("영상이 많으면 큰 디스크(예: D:\\)를 고르세요 / Videos take room: choose a big "
                                     "disk (e.g. D:\\)")))
        self.finish_layout()

    def _browse(self) -> None:
        chosen = files.folder(self, "video-folder", tr("영상 폴더 / Video folder"),
                              Path(self.video_edit.text()) if self.video_edit.text() else None)
        if chosen:
            self.video_edit.setText(str(chosen))

    def video_root(self) -> str:
        """The setting: empty for the data folder's default (so it follows ``--data-dir``), else the path."""
        text = self.video_edit.text().strip()
        if not text or Path(text).expanduser().resolve() == self.dirs.videos.resolve():
            return ""
        return str(Path(text).expanduser())

    def validatePage(self) -> bool:
        """The folder must be creatable and writable; it is made only when the set-up is finished."""
        path = Path(self.video_edit.text().strip() or self.dirs.videos).expanduser()
        if not path.is_absolute():
            self.say(tr("전체 경로를 입력하세요 (예: D:\\PackDesk\\videos) / "
                        "Type a full path (e.g. D:\\PackDesk\\videos)"))
            return False
        existing = path
        while not existing.exists() and existing.parent != existing:
            existing = existing.parent
        if not existing.is_dir() or not os.access(existing, os.W_OK):
            self.say(both(f"이 폴더에 쓸 수 없습니다: {path}", f"This folder cannot be written: {path}"))
            return False
        self.say("")
        return True


class CameraPage(_Page):
    def __init__(self, source: str, resolution: str) -> None:
        super().__init__(tr("카메라 / Camera"),
                         tr("PackDesk가 녹화할 때 쓰는 카메라입니다 / The camera PackDesk records with"))
        from packdesk.devices.camera import RESOLUTIONS

        self.choice = QComboBox(objectName="cameraChoice")
        for key, label in CAMERA_CHOICES:
            self.choice.addItem(tr(label), key)
        self.path_edit = QLineEdit(objectName="cameraPath")
        self.path_edit.setPlaceholderText("C:\\videos\\table.mp4 · rtsp://192.168.0.10/stream")
        self.path_browse = QPushButton(tr("찾아보기… / Browse…"))
        self.path_browse.clicked.connect(self._browse)
        self.resolution = QComboBox(objectName="cameraResolution")
        for r in RESOLUTIONS:
            self.resolution.addItem(r, r)
        self.resolution.setCurrentIndex(max(0, self.resolution.findData(resolution)))
        if source in {k for k, _ in CAMERA_CHOICES} - {"file", "url"}:
            self.choice.setCurrentIndex(self.choice.findData(source))
        else:
            self.choice.setCurrentIndex(self.choice.findData("url" if "://" in source else "file"))
            self.path_edit.setText(source)
        form = QFormLayout()
        form.addRow(tr("카메라 / Camera"), self.choice)
        path_row = QHBoxLayout()
        path_row.addWidget(self.path_edit, 1)
        path_row.addWidget(self.path_browse)
        form.addRow(tr("파일 또는 주소 / File or URL"), path_row)
        form.addRow(tr("해상도 / Resolution"), self.resolution)
        self.body.addLayout(form)
        self.preview = QLabel(tr("미리보기 / Preview"), objectName="wizardPreview")
        self.preview.setFixedSize(400, 300)
        self.preview.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.preview.setStyleSheet("background: #222; color: #ddd;")
        again = QPushButton(tr("미리보기 다시 / Preview again"), objectName="previewAgain")
        again.clicked.connect(self.start_preview)
        row = QHBoxLayout()
        row.addWidget(self.preview)
        row.addWidget(again, 0, Qt.AlignmentFlag.AlignTop)
        row.addStretch(1)
        self.body.addLayout(row)
        self.finish_layout()
        self.camera: Any = None
        self._timer = QTimer(self)
        self._timer.setInterval(100)
        self._timer.timeout.connect(self._show_frame)
        self.choice.currentIndexChanged.connect(self._choice_changed)
        self.resolution.currentIndexChanged.connect(lambda _: self.start_preview())
        self.path_edit.editingFinished.connect(self.start_preview)
        self._choice_changed()

    def _choice_changed(self, *_: object) -> None:
        needs_path = self.choice.currentData() in ("file", "url")
        self.path_edit.setEnabled(needs_path)
        self.path_browse.setEnabled(self.choice.currentData() == "file")
        if self.isVisible():
            self.start_preview()

    def _browse(self) -> None:
        chosen = files.open_file(self, "camera-video", tr("동영상 파일 / Video file"),
                                 "Video (*.mp4 *.avi *.mkv *.mov);;*")
        if chosen:
            self.path_edit.setText(str(chosen))
            self.start_preview()

    def source(self) -> str:
        key = str(self.choice.currentData())
        return self.path_edit.text().strip() if key in ("file", "url") else key

    def _source_problem(self) -> tuple[str, str]:
        """What is wrong with the source as (Korean, English) in the screen's language (``pair``), or two
        empty texts."""
        key, text = self.choice.currentData(), self.path_edit.text().strip()
        if key == "file" and not Path(text).is_file():
            return pair(f"동영상 파일이 없습니다: {text}", f"No such video file: {text}")
        if key == "url" and "://" not in text:
            return pair("주소는 rtsp:// 또는 http:// 로 시작합니다", "A URL starts with rtsp:// or http://")
        return "", ""

    def start_preview(self) -> None:
        """The source as chosen, live (``SettingsDialog.start_preview``'s way)."""
        from packdesk.devices.camera import RESOLUTIONS, Camera, first_available_source

        self.stop_preview()
        problem = self._source_problem()
        if problem[0]:
            self.preview.setPixmap(QPixmap())
            self.preview.setText("\n".join(t for t in problem if t))
            return
        source = self.source()
        spec = first_available_source() if source == "auto" else source
        self.preview.setText("…")
        self.camera = Camera(spec, RESOLUTIONS[self.resolution.currentData()], 15.0, pre_roll_s=0)
        self.camera.start()
        self._timer.start()

    def _show_frame(self) -> None:
        if self.camera is not None:
            show_latest_frame(self.camera, self.preview)

    def stop_preview(self) -> None:
        self._timer.stop()
        if self.camera is not None:
            self.camera.stop()
            self.camera = None

    def initializePage(self) -> None:
        self.start_preview()

    def cleanupPage(self) -> None:  # Back
        self.stop_preview()

    def validatePage(self) -> bool:
        problem = self._source_problem()
        self.say(" / ".join(t for t in problem if t))
        if problem[0]:
            return False
        self.stop_preview()
        return True


class ScannerPage(_Page):
    """Scan the barcode on screen: a keyboard-wedge scan arrives through the wizard's key filter, a serial
    scanner's through ``serial_scanned``; both end in ``take_scan``."""

    serial_scanned = Signal(str)   # from the serial reader thread
    serial_status = Signal(object)  # a ScannerStatus, from the reader thread

    def __init__(self, port: str, baudrate: int) -> None:
        super().__init__(tr("스캐너 시험 / Scanner test"), tr("아래 바코드를 스캔하세요 / Scan this barcode"))
        self.code = SCAN_TEST_CODE
        self.scanned_ok = False
        picture = QLabel(objectName="testBarcode")
        picture.setPixmap(barcode_pixmap(self.code))
        picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
        picture.setStyleSheet("background: white; padding: 16px;")
        code_label = QLabel(self.code, objectName="testCode")
        code_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.result = QLabel(tr("스캔을 기다리는 중… / Waiting for a scan…"), objectName="scanResult")
        self.result.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.result.setWordWrap(True)
        self.body.addWidget(picture)
        self.body.addWidget(code_label)
        self.body.addWidget(self.result)
        self.body.addWidget(_text(two_lines(
            "USB 스캐너는 키보드처럼 입력합니다 — 한/영 상태와 관계없이 읽습니다. "
            "스캐너가 아직 없으면 '다음'을 누르세요.",
            "A USB scanner types like a keyboard, read right in Hangul mode too. No scanner yet? Press Next.")))
        self.port_edit = QLineEdit(port, objectName="serialPort")
        self.port_edit.setPlaceholderText("COM3 · /dev/ttyACM0")
        self.baud = QComboBox(objectName="serialBaud")
        for b in BAUD_RATES:
            self.baud.addItem(str(b), b)
        self.baud.setCurrentIndex(max(0, self.baud.findData(baudrate)))
        connect = QPushButton(tr("연결 / Connect"), objectName="serialConnect")
        connect.clicked.connect(self.connect_serial)
        self.serial_state = QLabel(objectName="serialState")
        self.serial_state.setWordWrap(True)
        row = QHBoxLayout()
        row.addWidget(QLabel(tr("시리얼 스캐너 (선택) / Serial scanner (optional)")))
        row.addWidget(self.port_edit, 1)
        row.addWidget(self.baud)
        row.addWidget(connect)
        self.body.addLayout(row)
        self.body.addWidget(self.serial_state)
        self.finish_layout()
        self.scanner: Any = None
        self.serial_port = ""  # the port that connected: saved as the station's serial scanner
        self.serial_scanned.connect(self.take_scan)
        self.serial_status.connect(self._show_serial_status)

    def take_scan(self, code: str) -> None:
        if code == self.code:
            self.scanned_ok = True
            self.result.setText(tr("✔ 스캔 성공 — 스캐너가 잘 읽습니다 / Scan OK — the scanner reads right"))
            self.result.setStyleSheet(f"color: {GREEN};")
        else:
            en = f"Another barcode: {code} — scan the one on screen"
            self.result.setText(one(f"✘ 다른 바코드입니다: {code} — 화면의 바코드를 스캔하세요 / {en}", f"✘ {en}"))
            self.result.setStyleSheet(f"color: {RED};")
        self.result.setProperty("ok", self.scanned_ok)

    def connect_serial(self) -> None:
        from packdesk.devices.serial_scanner import SerialConfig, SerialScanner

        self.stop_serial()
        port = self.port_edit.text().strip()
        if not port:
            self.serial_state.setText(tr("포트를 입력하세요 / Type the port"))
            return
        self.scanner = SerialScanner(SerialConfig(port, int(self.baud.currentData())),
                                     on_scan=self.serial_scanned.emit, on_status=self.serial_status.emit)
        self.scanner.start()

    def _show_serial_status(self, status: Any) -> None:
        from packdesk.devices.serial_scanner import ScannerState

        ok = status.state is ScannerState.CONNECTED
        if ok and self.scanner is not None:
            self.serial_port = self.scanner.config.port
        self.serial_state.setText(tr(status.detail or status.state.value))
        self.serial_state.setStyleSheet(f"color: {GREEN};" if ok else f"color: {RED};")
        self.serial_state.setProperty("state", status.state.value)

    def stop_serial(self) -> None:
        if self.scanner is not None:
            self.scanner.stop()
            self.scanner = None


class RecorderPage(_Page):
    realpacking_tested = Signal(bool, str)  # the test's answer (ui/ops.py brings it to the UI thread)

    def __init__(self, settings: Settings, realpacking_test: Callable[[Settings], tuple[bool, str]] | None) -> None:
        super().__init__(tr("녹화 방식 / Recording"), tr("포장 영상을 누가 녹화합니까? / Who films the packs?"))
        self.group = QButtonGroup(self)
        self.buttons: dict[str, QRadioButton] = {}
        for key, label in RECORDER_CHOICES:
            b = QRadioButton(tr(label), objectName=f"recorder-{key}")
            self.group.addButton(b)
            self.buttons[key] = b
            self.body.addWidget(b)
        self.buttons[settings.recorder].setChecked(True)
        self.host = QLineEdit(settings.realpacking.host, objectName="realpackingHost")
        self.port = QSpinBox(objectName="realpackingPort")
        self.port.setRange(1, 65535)
        self.port.setValue(settings.realpacking.port)
        self.test_button = QPushButton(tr("연결 테스트 / Connection test"), objectName="realpackingTest")
        self.test_button.clicked.connect(self.test_realpacking)
        self.test_result = QLabel(objectName="realpackingResult")
        self.test_result.setWordWrap(True)
        self.rp_box = QWidget()
        form = QFormLayout(self.rp_box)
        form.addRow(tr("리얼패킹 IP / RealPacking IP"), self.host)
        form.addRow(tr("웹수신 포트 / Web reception port"), self.port)
        form.addRow(self.test_button, self.test_result)
        self.body.addWidget(self.rp_box)
        self.finish_layout()
        self._settings = settings
        self._test = realpacking_test
        self.test_button.setEnabled(realpacking_test is not None)
        self.realpacking_tested.connect(self._show_test)
        self.group.buttonToggled.connect(lambda *_: self.rp_box.setEnabled(self.recorder() == "realpacking"))
        self.rp_box.setEnabled(self.recorder() == "realpacking")

    def recorder(self) -> str:
        return next(k for k, b in self.buttons.items() if b.isChecked())

    def realpacking(self) -> dict[str, Any]:
        return {"host": self.host.text().strip(), "port": self.port.value()}

    def test_realpacking(self) -> None:
        """An op (it may wait for a timeout); the answer comes back as a signal."""
        if self._test is None or not self.validatePage():
            return
        candidate = self._settings.model_copy(update={"realpacking": self._settings.realpacking.model_copy(
            update=self.realpacking())})
        self.test_result.setText(tr("연결 중… / connecting…"))
        self.test_result.setStyleSheet("")
        test = self._test
        ops.run(self, "realpacking-test", lambda: test(candidate), lambda r: self.realpacking_tested.emit(*r),
                lambda e: self.realpacking_tested.emit(False, two_lines(*error_text(e))))

    def _show_test(self, ok: bool, detail: str) -> None:
        self.test_result.setText(tr(detail))
        self.test_result.setProperty("ok", ok)
        self.test_result.setStyleSheet(f"color: {GREEN};" if ok else f"color: {RED}; font-weight: bold;")

    def validatePage(self) -> bool:
        from packdesk.services.settings import RealPackingSettings

        if self.recorder() == "realpacking":
            try:
                RealPackingSettings(**self.realpacking())
            except ValidationError:
                self.say(tr("리얼패킹 IP를 입력하세요 / Type RealPacking's IP address"))
                return False
        self.say("")
        return True


class PinPage(_Page):
    def __init__(self) -> None:
        super().__init__(tr("관리자 PIN / Supervisor PIN"),
                         tr("설정, 상품 연결, 주문 수집, 녹화 검토는 PIN으로 엽니다 / Settings, links, collection and "
                            "reviews open with this PIN"))
        self.pin = QLineEdit(objectName="pinNew")
        self.pin_again = QLineEdit(objectName="pinAgain")
        for w in (self.pin, self.pin_again):
            w.setEchoMode(QLineEdit.EchoMode.Password)
            w.setMaxLength(12)
            w.textChanged.connect(lambda _: self.completeChanged.emit())
        self.pin.setPlaceholderText(tr("4-12자리 숫자 / 4-12 digits"))
        form = QFormLayout()
        form.addRow(tr("관리자 PIN / Supervisor PIN"), self.pin)
        form.addRow(tr("PIN 확인 / PIN again"), self.pin_again)
        self.body.addLayout(form)
        self.body.addWidget(_text(tr("작업자는 PIN 없이 포장만 합니다 / Packers pack without a PIN")))
        self.finish_layout()
        self.pin_hash = ""

    def isComplete(self) -> bool:
        return bool(self.pin.text() and self.pin_again.text())

    def validatePage(self) -> bool:
        from packdesk.services.auth import PinInvalid, hash_pin

        if self.pin.text() != self.pin_again.text():
            self.say(tr("두 PIN이 다릅니다 — 다시 입력하세요 / The two PINs differ — type them again"))
            self.pin_again.clear()
            self.pin_again.setFocus()
            return False
        try:
            self.pin_hash = hash_pin(self.pin.text())
        except PinInvalid:
            self.say(tr("PIN은 4-12자리 숫자입니다 / A PIN is 4 to 12 digits"))
            return False
        self.say("")
        return True


class AccountPage(_Page):
    def __init__(self) -> None:
        super().__init__(tr("마켓 계정 (선택) / Marketplace account (optional)"))
        self.body.addWidget(_text(two_lines(
            "주문은 스마트스토어·사방넷 등 마켓 계정에서 가져옵니다. "
            "계정이 없으면 데모 상점으로 바로 시험할 수 있습니다.",
            "Orders come from marketplace accounts (SmartStore, Sabangnet, …). Without one, the demo shop lets "
            "you try the station at once.")))
        self.later = QRadioButton(tr("나중에 — 데모 상점으로 시작 / Later — start with the demo shop"),
                                  objectName="accountLater")
        self.now = QRadioButton(tr("설정이 끝나면 계정 추가 화면 열기 / Open the accounts screen when set-up ends"),
                                objectName="accountNow")
        self.later.setChecked(True)
        self.body.addWidget(self.later)
        self.body.addWidget(self.now)
        self.finish_layout()


class StaffPage(_Page):
    """The packers' names, one a line (only without the demo shop, which brings its own three)."""

    def __init__(self) -> None:
        super().__init__(tr("작업자 / Packers"), tr("누가 포장합니까? / Who packs?"))
        self.body.addWidget(_text(two_lines(
            "작업자 이름을 한 줄에 한 명씩 입력하세요 (한 명 이상). 작업자마다 바코드 카드가 만들어집니다 — 설정이 "
            "끝나면 파일 → 작업자…에서 인쇄하고, 작업자를 더 추가할 수도 있습니다.",
            "Type the packers' names, one a line (at least one). Each gets a badge — print them in File → Staff… "
            "once set-up ends; more packers can be added there too.")))
        self.names_edit = QPlainTextEdit(objectName="packerNames")
        self.names_edit.setPlaceholderText(tr("예: 김민수 / e.g. Kim Minsu"))
        self.names_edit.setTabChangesFocus(True)
        self.names_edit.textChanged.connect(self.completeChanged.emit)
        self.body.addWidget(self.names_edit, 1)
        self.finish_layout()
        self.names: list[str] = []

    def lines(self) -> list[str]:
        return self.names_edit.toPlainText().splitlines()

    def isComplete(self) -> bool:
        return any(line.strip() for line in self.lines())

    def validatePage(self) -> bool:
        try:
            self.names = staff.clean_names(self.lines())
        except staff.StaffError as e:
            ko, en = error_text(e)
            line = e.params.get("line")
            self.say(both(f"{line}번째 줄: {ko}", f"Line {line}: {en}") if line else both(ko, en))
            return False
        self.say("")
        return True


class DonePage(_Page):
    def __init__(self, wizard: FirstRunWizard) -> None:
        super().__init__(tr("준비 완료 / Ready"),
                         tr("'완료'를 누르면 저장하고 스테이션을 시작합니다 / Finish saves and starts the station"))
        self._wizard = wizard
        self.summary = QLabel(objectName="summary")
        self.summary.setWordWrap(True)
        self.body.addWidget(self.summary)
        self.body.addWidget(_text(tr("모든 설정은 나중에 파일 → 설정에서 바꿀 수 있습니다 / Everything can be changed "
                                     "later in File → Settings")))
        self.finish_layout()
        self.setFinalPage(True)

    def initializePage(self) -> None:
        w = self._wizard
        rec = tr(dict(RECORDER_CHOICES)[w.recorder_page.recorder()])
        lines = [
            both("스테이션", f"Station: {w.name_page.name()}"),
            both("영상 폴더", f"Videos: {w.folders_page.video_root() or w.dirs.videos}"),
            both("카메라", f"Camera: {w.camera_page.source()} ({w.camera_page.resolution.currentData()})"),
            tr("스캐너 / Scanner: ") + (tr("확인됨 / tested OK") if w.scanner_page.scanned_ok else
                                       tr("시험 안 함 / not tested")),
            both("녹화", f"Recording: {rec}"),
            one("관리자 PIN / Supervisor PIN: 설정됨 / set", "Supervisor PIN: set"),
            tr("마켓 계정 / Marketplace: ") + (tr("설정 후 추가 / add after set-up") if w.account_page.now.isChecked()
                                             else tr("데모 상점 / demo shop")),
            tr("작업자 / Packers: ") + (", ".join(w.staff_page.names) if w.account_page.now.isChecked()
                                       else tr("데모 작업자 3명 / the demo's three")),
            both("화면 언어", f"Screen language: {w.name_page.language_choice.currentText()}"),
        ]
        self.summary.setText("\n".join(lines))


# ------------------------------------------------------------------ the wizard


class FirstRunWizard(QWizard):
    """``result_settings`` holds what was saved (after Finish); ``add_account_after`` asks ``app.main`` to open
    the accounts screen once the station runs; ``packer_names`` are the packers the station makes at its start
    (none with the demo shop)."""

    def __init__(self, dirs: AppDirs, settings: Settings | None = None, *,
                 realpacking_test: Callable[[Settings], tuple[bool, str]] | None = None,
                 scan_filter: bool = True, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.dirs = dirs
        self._base = settings or Settings()
        self.result_settings: Settings | None = None
        self.add_account_after = False
        self.packer_names: tuple[str, ...] = ()
        self.setWindowTitle(one(f"{APP_NAME} 처음 설정 / First-time set-up", f"{APP_NAME} first-time set-up"))
        self.setWindowIcon(icon())
        self.setMinimumSize(900, 680)  # fits a 1366 x 768 screen
        self.setOption(QWizard.WizardOption.NoBackButtonOnStartPage)
        self.setTitleFormat(Qt.TextFormat.RichText)  # the page titles, big (_Page)
        for button, text in ((QWizard.WizardButton.NextButton, one("다음 / Next >", "Next >")),
                             (QWizard.WizardButton.BackButton, one("< 이전 / Back", "< Back")),
                             (QWizard.WizardButton.FinishButton, tr("완료 / Finish")),
                             (QWizard.WizardButton.CancelButton, tr("취소 / Cancel"))):
            self.setButtonText(button, text)
        self.setStyleSheet(STYLE)
        b = self._base
        self.name_page = NamePage(b.station_name if settings is not None else "", b.language)
        self.folders_page = FoldersPage(dirs, b.recording.video_root)
        self.camera_page = CameraPage(b.camera.source, b.camera.resolution)
        self.scanner_page = ScannerPage(b.serial.port, b.serial.baudrate)
        self.recorder_page = RecorderPage(b, realpacking_test)
        self.pin_page = PinPage()
        self.account_page = AccountPage()
        self.staff_page = StaffPage()
        self.done_page = DonePage(self)
        self._page_ids = {id(page): self.addPage(page) for page in (
            self.name_page, self.folders_page, self.camera_page, self.scanner_page, self.recorder_page,
            self.pin_page, self.account_page, self.staff_page, self.done_page)}
        self._key_filter: Any = None
        if scan_filter:
            from packdesk.ui.keyfilter import WedgeKeyFilter

            self._key_filter = WedgeKeyFilter(b.scanner.wedge_config(), self)
            self._key_filter.scanned.connect(self.take_scan)

    def nextId(self) -> int:
        """The packers' page only without the demo shop (it brings its own packers)."""
        if self.currentPage() is self.account_page and not self.account_page.now.isChecked():
            return self._page_ids[id(self.done_page)]
        return super().nextId()

    def showEvent(self, event: QShowEvent) -> None:
        if self._key_filter is not None:
            QApplication.instance().installEventFilter(self._key_filter)  # type: ignore[union-attr]
        super().showEvent(event)

    def take_scan(self, code: str) -> None:
        """A scan while the wizard is open (its own key filter, or the app's ``ui/scans.py`` routing): the page
        that waits for one gets it; other pages ignore it."""
        page = self.currentPage()
        if isinstance(page, ScanTaker):
            page.take_scan(code)
        else:
            log.info("scan %r ignored on the set-up page %s", code, type(page).__name__)

    def build_settings(self) -> Settings:
        data = self._base.model_dump(mode="json")
        data["station_name"] = self.name_page.name()
        data["language"] = self.name_page.language()
        data["recording"]["video_root"] = self.folders_page.video_root()
        data["camera"].update(source=self.camera_page.source(), resolution=self.camera_page.resolution.currentData())
        if self.scanner_page.serial_port:
            data["serial"].update(enabled=True, port=self.scanner_page.serial_port,
                                  baudrate=self.scanner_page.baud.currentData())
        data["recorder"] = self.recorder_page.recorder()
        if data["recorder"] == "realpacking":  # checked by its page; left as it was for another recorder
            data["realpacking"].update(self.recorder_page.realpacking())
        data["supervisor"]["pin_hash"] = self.pin_page.pin_hash
        data["demo_channel"] = not self.account_page.now.isChecked()
        return Settings.model_validate(data)

    def accept(self) -> None:
        settings = self.build_settings()
        try:
            if settings.recording.video_root:
                Path(settings.recording.video_root).mkdir(parents=True, exist_ok=True)
            save_settings(settings, self.dirs.settings_file)
        except OSError as e:
            self.done_page.say(both("저장하지 못했습니다", f"Could not save: {e}"))
            return
        log.info("first-run set-up saved to %s (station %s, recorder %s)", self.dirs.settings_file,
                 settings.station_name, settings.recorder)
        self.result_settings = settings
        self.add_account_after = self.account_page.now.isChecked()
        self.packer_names = tuple(self.staff_page.names) if self.add_account_after else ()
        super().accept()

    def done(self, result: int) -> None:
        self.camera_page.stop_preview()
        self.scanner_page.stop_serial()  # the station opens the port next: free it first
        if self._key_filter is not None:
            QApplication.instance().removeEventFilter(self._key_filter)  # type: ignore[union-attr]
        super().done(result)


@dataclass(frozen=True)
class FirstRun:
    settings: Settings
    add_account: bool
    packers: tuple[str, ...] = ()  # names to make packers of (``app.build_station``)


def run_first_run(dirs: AppDirs, settings: Settings | None,
                  realpacking_test: Callable[[Settings], tuple[bool, str]] | None = None) -> FirstRun | None:
    """Shows the wizard and waits; the saved settings, or None if it was cancelled (nothing written).

    The wizard comes before ``app.build_station`` sets the screen language: it is set here from the settings
    this PC already has (``--first-run`` over a set-up station); a new PC's wizard is bilingual (the default).
    """
    set_language(settings.language if settings is not None else "ko")
    wizard = FirstRunWizard(dirs, settings, realpacking_test=realpacking_test)
    accepted = wizard.exec() == QWizard.DialogCode.Accepted and wizard.result_settings is not None
    result = (FirstRun(wizard.result_settings, wizard.add_account_after, wizard.packer_names)  # type: ignore[arg-type]
              if accepted else None)
    wizard.deleteLater()
    return result
