"""The settings screen, built from the typed settings model: every field gets the widget its type asks for
(check box, choice, number with its bounds, text), so a setting declared once in ``services/settings.py``
shows up here with the same limits, and a bad value is explained before anything is saved.

Every choice is in words, in Korean and English, storing the same values; the camera is a list of the cameras
found, the video folder the folder in use (``ui/settings_fields.py``). The camera page has a live preview of the
source chosen, and RealPacking a connection test. The sections are pages listed on the left (ten tabs needed
scroll arrows at 1280x800); ``add_page`` adds one. Settings marked ↻ apply at the next start: once a change to
one is saved, the station offers to restart PackDesk now (``changed_for_next_start``, ``ui/restart.py``).
"""

from __future__ import annotations

import enum
import types
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ValidationError
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSpinBox,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from packdesk.core import words
from packdesk.core.errors import KnownError
from packdesk.services.settings import Settings
from packdesk.ui import files, ops, storage_settings
from packdesk.ui.i18n import both, tr, two_lines
from packdesk.ui.messages import error_text
from packdesk.ui.preview import show_latest_frame
from packdesk.ui.settings_fields import (
    CameraChoice,
    SettingField,
    camera_field,
    choice_field,
    courier_field,
    folder_field,
)

LABELS: dict[str, str] = {
    "station_name": "스테이션 이름 / Station name",
    "complete_mode": "포장 완료 방식 / Complete a pack",
    "idle_timeout_min": "무작업 제한(분) / Idle timeout (min)",
    "count_hint_at": "수량 바코드 안내 (남은 수량, 0: 안 함) / Suggest a count barcode from (units left, 0: never)",
    "claim_expiry_min": "다른 스테이션 점유 만료(분) / A silent station's waybill is free after (min)",
    "recorder": "녹화 방식 / Recorder",
    "language": "화면 언어 / Screen language",
    "full_screen": "전체 화면으로 시작 (F11로 전환) / Start full screen (F11 switches)",
    "demo_channel": "데모 상점 사용 / Use the demo shop",
    "scanner.max_gap_ms": "키 간격(ms) / Max key gap (ms)",
    "scanner.min_length": "최소 길이 / Min length",
    "scanner.prefix": "접두어 / Prefix",
    "scanner.suffix": "접미어 / Suffix",
    "scanner.tab_ends_scan": "Tab으로 끝남 / Tab ends a scan",
    "serial.enabled": "시리얼 스캐너 사용 / Use a serial scanner",
    "serial.port": "포트 / Port",
    "serial.baudrate": "속도 / Baud rate",
    "serial.terminator": "종료 문자 / Terminator",
    "camera.source": "카메라 / Camera",
    "camera.resolution": "해상도 / Resolution",
    "camera.fps": "초당 프레임 / Frame rate",
    "camera.pre_roll_s": "사전 녹화(초) / Pre-roll (s)",
    "recording.video_root": "영상 폴더 / Video folder",
    "recording.min_free_gb": "최소 여유 공간(GB) / Min free space (GB)",
    "recording.retention_days": "보관 기간(일) / Keep videos (days)",
    "recording.require_recording": "녹화 불가 시 포장 막기 / Block packs that cannot be filmed",
    "recording.encoder": "H.264 인코더 / H.264 encoder",
    "realpacking.host": "리얼패킹 IP / RealPacking IP",
    "realpacking.port": "리얼패킹 포트 / RealPacking port",
    "realpacking.timeout_s": "응답 제한(초) / Timeout (s)",
    "realpacking.start_request": "녹화 시작 요청 / Start request",
    "realpacking.stop_request": "녹화 종료 요청 / Stop request",
    "realpacking.cancel_request": "취소 요청(선택) / Cancel request (optional)",
    "realpacking.charset": "문자 인코딩 / Charset",
    "database.mode": "데이터베이스 / Database",
    "database.host": "서버 주소 / Server host",
    "database.port": "포트 / Port",
    "database.name": "데이터베이스 이름 / Database name",
    "database.user": "사용자 / User",
    "collection.enabled": "자동 수집 / Collect automatically",
    "collection.times": "수집 시각(최대 5개) / Times (up to 5, HH:MM, comma-separated)",
    "collection.weekdays_only": "평일만(월-금) / Mon-Fri only",
    "collection.catalogue_hour": "상품 동기화 시각(매일, 시) / Daily product sync (hour)",
    "supervisor.auto_lock_min": "관리자 모드 자동 잠금(분) / Supervisor mode locks after (min)",
    "waybill.courier": "계약 택배사(라벨·직접 입력) / Contracted courier (labels, typed numbers)",
    "waybill.warn_check_digit": "검증 숫자는 경고만 할 택배사(쉼표로) / Couriers whose check digit only warns "
                                "(comma-separated)",
    "video_link.endpoint": "저장소 주소 (https://…) / Storage address (https://…)",
    "video_link.bucket": "버킷 / Bucket",
    "video_link.region": "리전 (비우면 us-east-1; R2: auto, 네이버: kr-standard) / "
                         "Region (empty: us-east-1; R2: auto, Naver: kr-standard)",
    "video_link.prefix": "폴더 / Folder",
    "video_link.link_days": "링크 유효 기간(일, 최대 7) / A link lasts (days, at most 7)",
    "video_link.max_upload_kb_per_s": "올리기 속도 제한(KB/s, 0: 없음) / Upload limit (KB/s, 0: none)",
    "video_link.auto_upload": "포장을 마칠 때마다 영상 자동 올리기 / Upload every completed pack's video",
}
PAGES = (("", "스테이션 / Station"), ("scanner", "스캐너 / Scanner"), ("serial", "시리얼 / Serial"),
        ("camera", "카메라 / Camera"), ("recording", "녹화 / Recording"), ("realpacking", "리얼패킹 / RealPacking"),
        ("collection", "주문 수집 / Collection"), ("database", "데이터베이스 / Database"),
        ("supervisor", "관리자 / Supervisor"), ("waybill", "송장 / Waybills"))
# database_url: an override for tests and experts, not a field; pin_hash: set with its own button
HIDDEN = {"version", "database_url", "pin_hash"}
# settings read while the station runs (none yet: the supervisor PIN, which applies at once, has its own fields);
# every other one is read at start, marked ↻, and a change to it offers a restart
# read where they are used, each time (the review's video link reads its storage when asked)
APPLIES_AT_ONCE: frozenset[str] = frozenset({
    "video_link.endpoint", "video_link.bucket", "video_link.region", "video_link.prefix", "video_link.link_days",
    "video_link.max_upload_kb_per_s"})
NEXT_START = "↻"
NEXT_START_NOTE = "다시 시작하면 적용되는 설정에는 ↻ 표시가 있습니다 / Settings marked ↻ apply at the next start"



def _choices(annotation: Any) -> list[Any] | None:
    if typing.get_origin(annotation) is Literal:
        return list(typing.get_args(annotation))
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return [m.value for m in annotation]
    return None


def _bounds(field: Any) -> tuple[float, float]:
    lo, hi = -1e9, 1e9
    for meta in field.metadata:
        lo = getattr(meta, "ge", lo) if getattr(meta, "ge", None) is not None else lo
        hi = getattr(meta, "le", hi) if getattr(meta, "le", None) is not None else hi
    return lo, hi


def _make_field(path: str, field: Any, video_folder: Path | None) -> SettingField:
    if path == "camera.source":
        return camera_field(path)
    if path == "recording.video_root":
        return folder_field(path, "video", tr("영상 폴더 / Video folder"), video_folder)
    if path == "waybill.courier":
        return courier_field(path)
    ann = field.annotation
    if isinstance(ann, types.UnionType):
        ann = next(a for a in typing.get_args(ann) if a is not type(None))
    choices = _choices(ann)
    if typing.get_origin(ann) is list:  # a short list of words: comma-separated text
        lst = QLineEdit()
        return SettingField(path, lst, lambda: [p.strip() for p in lst.text().split(",") if p.strip()],
                      lambda v: lst.setText(", ".join(v)))
    if ann is bool:
        box = QCheckBox()
        return SettingField(path, box, box.isChecked, box.setChecked)
    if choices is not None:
        return choice_field(path, choices)
    if ann is int:
        spin = QSpinBox()
        lo, hi = _bounds(field)
        spin.setRange(int(max(lo, -2**31)), int(min(hi, 2**31 - 1)))
        return SettingField(path, spin, spin.value, spin.setValue)
    if ann is float:
        dspin = QDoubleSpinBox()
        lo, hi = _bounds(field)
        dspin.setRange(lo, hi)
        dspin.setDecimals(1)
        return SettingField(path, dspin, dspin.value, dspin.setValue)
    line = QLineEdit()
    return SettingField(path, line, line.text, lambda v: line.setText(str(v)))


class SettingsDialog(QDialog):
    realpacking_tested = Signal(bool, str)  # the test's answer (ui/ops.py brings it to the UI thread)
    database_tested = Signal(object)        # a ConnectionCheck

    def __init__(self, settings: Settings, parent: QWidget | None = None,
                 realpacking_test: Callable[[Settings], tuple[bool, str]] | None = None,
                 encoder_in_use: str = "", video_folder: Path | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(tr("설정 / Settings"))
        self.resize(1180, 720)  # fits a 1280x800 screen with the taskbar
        self._original = settings
        self.result_settings: Settings | None = None
        self.fields: dict[str, SettingField] = {}
        self._realpacking_test = realpacking_test
        self._video_folder = video_folder
        self.page_list = QListWidget(objectName="settingsPages")
        # as wide as its longest title (a fixed 200 px cut "영상 저장소 / Video storage")
        self.page_list.setSizeAdjustPolicy(QListWidget.SizeAdjustPolicy.AdjustToContents)
        self.page_list.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Expanding)
        self.page_list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.stack = QStackedWidget(objectName="settingsStack")
        self.page_list.currentRowChanged.connect(self.stack.setCurrentIndex)
        self.page_keys: list[str] = []
        forms: dict[str, QFormLayout] = {}
        for section, title in PAGES:
            forms[section] = self.add_form_page(section, tr(title))
        self.storage = storage_settings.add_page(self, self.add_page, forms)  # the buyer's video link (its module)
        self._add_fields(settings, "", forms)
        self.page_list.setCurrentRow(0)
        self._add_camera_preview(forms["camera"])
        if encoder_in_use:  # read-only: what the recorder found working at this start
            forms["recording"].addRow(tr("사용 중인 인코더 / Encoder in use"),
                                      QLabel(encoder_in_use, objectName="encoderInUse"))
        self._add_realpacking_test(forms["realpacking"])
        self.realpacking_tested.connect(self._show_realpacking_result)
        self._add_database_test(forms["database"])
        self.database_tested.connect(self._show_database_result)
        self._pin_hash = settings.supervisor.pin_hash
        self._add_pin(forms["supervisor"])
        self.error = QLabel(objectName="settingsError")
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #b71c1c; font-weight: bold;")
        note = QLabel(tr(NEXT_START_NOTE), objectName="nextStartNote")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self._save)
        buttons.rejected.connect(self.reject)
        self._add_copy_buttons(buttons)
        pages = QHBoxLayout()
        pages.addWidget(self.page_list)
        pages.addWidget(self.stack, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(pages, 1)
        layout.addWidget(self.error)
        layout.addWidget(self.copy_result)
        layout.addWidget(note)
        layout.addWidget(buttons)
        self.setStyleSheet("QLabel, QLineEdit, QComboBox, QSpinBox, QDoubleSpinBox, QCheckBox, QListWidget "
                           "{ font-size: 15px; } QListWidget::item { padding: 6px; }")
        camera = self.fields["camera.source"].widget
        if isinstance(camera, CameraChoice):
            camera.look_for_webcams()

    # ------------------------------------------------------------------ pages

    def add_page(self, key: str, title: str, page: QWidget) -> None:
        """A page of its own, listed on the left as ``title`` (already in the screen's language), scrolling when
        taller than the window. A module with settings of its own adds its page here."""
        scroll = QScrollArea(objectName=f"settingsPage_{key or 'station'}")
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setWidget(page)
        self.stack.addWidget(scroll)
        self.page_list.addItem(title)
        self.page_keys.append(key)

    def add_form_page(self, key: str, title: str) -> QFormLayout:
        """A new page holding a form; its rows are added to what is returned."""
        page = QWidget()
        form = QFormLayout(page)
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)  # a long label puts its field under it
        self.add_page(key, title, page)
        return form

    def show_page(self, key: str) -> None:
        self.page_list.setCurrentRow(self.page_keys.index(key))

    def _add_fields(self, model: BaseModel, prefix: str, forms: dict[str, QFormLayout]) -> None:
        for name, field in type(model).model_fields.items():
            if name in HIDDEN:
                continue
            value = getattr(model, name)
            path = f"{prefix}{name}"
            if isinstance(value, BaseModel):
                self._add_fields(value, f"{path}.", forms)
                continue
            f = _make_field(path, field, self._video_folder)
            f.put(value.value if isinstance(value, enum.Enum) else value)
            self.fields[path] = f
            section = path.split(".")[0] if "." in path else ""
            if section not in forms:  # a section added to the settings model: a page of its own
                forms[section] = self.add_form_page(section, section)
            label = tr(LABELS.get(path, path))
            forms[section].addRow(label if path in APPLIES_AT_ONCE else f"{label} {NEXT_START}", f.widget)

    # ------------------------------------------------------------------ camera preview

    def _add_camera_preview(self, form: QFormLayout) -> None:
        self.preview = QLabel(tr("미리보기 / Preview"), objectName="settingsPreview")
        self.preview.setFixedSize(320, 240)
        self.preview.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.preview.setStyleSheet("background: #222; color: #ddd;")
        button = QPushButton(tr("미리보기 / Preview"), objectName="settingsPreviewButton")
        button.setAutoDefault(False)
        button.clicked.connect(self.start_preview)
        row = QHBoxLayout()
        row.addWidget(self.preview)
        row.addWidget(button, 0, Qt.AlignmentFlag.AlignTop)
        form.addRow(row)
        self._camera: Any = None
        self._preview_timer = QTimer(self)
        self._preview_timer.setInterval(100)
        self._preview_timer.timeout.connect(self._show_preview_frame)

    def start_preview(self) -> None:
        from packdesk.devices.camera import RESOLUTIONS, Camera, first_available_source

        self.stop_preview()
        source = str(self.fields["camera.source"].get()).strip()
        if not source:
            return  # a video file or a camera address chosen, not typed yet
        spec = first_available_source() if source == "auto" else source
        size = RESOLUTIONS[self.fields["camera.resolution"].get()]
        self._camera = Camera(spec, size, float(self.fields["camera.fps"].get()), pre_roll_s=0)
        self._camera.start()
        self._preview_timer.start()

    def _show_preview_frame(self) -> None:
        if self._camera is not None:
            show_latest_frame(self._camera, self.preview)

    def stop_preview(self) -> None:
        self._preview_timer.stop()
        if self._camera is not None:
            self._camera.stop()
            self._camera = None

    # ------------------------------------------------------------------ RealPacking

    def _add_realpacking_test(self, form: QFormLayout) -> None:
        self.rp_result = QLabel(objectName="realpackingResult")
        self.rp_result.setWordWrap(True)
        button = QPushButton(tr("연결 테스트 / Connection test"))
        button.clicked.connect(self.test_realpacking)
        button.setEnabled(self._realpacking_test is not None)
        form.addRow(button, self.rp_result)

    def test_realpacking(self) -> None:
        """An op (it may wait for a timeout); the answer comes back as a signal."""
        candidate = self.candidate()
        if candidate is None or self._realpacking_test is None:
            return
        self.rp_result.setText(tr("연결 중… / connecting…"))
        self.rp_result.setStyleSheet("")
        test = self._realpacking_test
        ops.run(self, "realpacking-test", lambda: test(candidate), lambda r: self.realpacking_tested.emit(*r),
                lambda e: self.realpacking_tested.emit(False, two_lines(*error_text(e))))

    def _show_realpacking_result(self, ok: bool, detail: str) -> None:
        self.rp_result.setText(detail)
        self.rp_result.setProperty("ok", ok)
        self.rp_result.setStyleSheet("color: #1b5e20;" if ok else "color: #b71c1c; font-weight: bold;")

    # ------------------------------------------------------------------ database

    def _add_database_test(self, form: QFormLayout) -> None:
        self.db_password = QLineEdit(objectName="dbPassword")
        self.db_password.setEchoMode(QLineEdit.EchoMode.Password)
        self.db_password.setPlaceholderText(tr("변경할 때만 입력 / only to change it"))
        form.addRow(tr("비밀번호 (OS 키링에 저장) / Password (kept in the OS keyring)"), self.db_password)
        self.db_result = QLabel(objectName="dbResult")
        self.db_result.setWordWrap(True)
        button = QPushButton(tr("서버 연결 테스트 / Test the server"), objectName="dbTest")
        button.clicked.connect(self.test_database)
        form.addRow(button, self.db_result)

    def test_database(self) -> None:
        from packdesk.core.db import check_connection
        from packdesk.services.secrets import get_named_secret
        from packdesk.services.settings import DB_SECRET

        candidate = self.candidate()
        if candidate is None:
            return
        url = candidate.database.server_url(self.db_password.text() or get_named_secret(DB_SECRET))
        self.db_result.setText(tr("연결 중… / connecting…"))
        ops.run(self, "db-test", lambda: check_connection(url), self.database_tested.emit)

    def _show_database_result(self, check: Any) -> None:
        ko, en = words.label(words.DB_CHECK_NS, check.code)
        self.db_result.setText(f"{both(ko, en)}\n{check.detail}")
        self.db_result.setProperty("code", check.code)
        self.db_result.setStyleSheet("color: #1b5e20;" if check.ok else "color: #b71c1c; font-weight: bold;")

    # ------------------------------------------------------------------ supervisor PIN

    def _add_pin(self, form: QFormLayout) -> None:
        self.pin_new = QLineEdit(objectName="pinNew")
        self.pin_again = QLineEdit(objectName="pinAgain")
        for w in (self.pin_new, self.pin_again):
            w.setEchoMode(QLineEdit.EchoMode.Password)
            w.setMaxLength(12)
        self.pin_new.setPlaceholderText(tr("4-12자리 숫자 / 4-12 digits"))
        self.pin_state = QLabel(objectName="pinState")
        self._show_pin_state()
        form.addRow(tr("새 관리자 PIN / New supervisor PIN"), self.pin_new)
        form.addRow(tr("PIN 확인 / PIN again"), self.pin_again)
        form.addRow("", self.pin_state)

    def _show_pin_state(self, changed: bool = False) -> None:
        if changed:
            text = tr("저장하면 새 PIN이 적용됩니다 / The new PIN applies when saved")
        elif self._pin_hash:
            text = tr("PIN 설정됨 — 바꿀 때만 입력하세요 / A PIN is set — type only to change it")
        else:
            text = tr("PIN 없음: 누구나 관리자 화면을 열 수 있습니다 / No PIN: anyone can open supervisor screens")
        self.pin_state.setText(text)

    def _pin_candidate(self) -> str | None:
        """The hash to save: unchanged when both fields are empty; None (and the reason shown) when wrong."""
        from packdesk.services.auth import PinInvalid, hash_pin

        new, again = self.pin_new.text(), self.pin_again.text()
        if not new and not again:
            return self._pin_hash
        if new != again:
            self.error.setText(tr("두 PIN이 다릅니다 / The two PINs differ"))
            return None
        try:
            return hash_pin(new)
        except PinInvalid:
            self.error.setText(tr("PIN은 4-12자리 숫자입니다 / A PIN is 4 to 12 digits"))
            return None

    # ------------------------------------------------------------------ export / import (the next PC's set-up)

    def _add_copy_buttons(self, buttons: QDialogButtonBox) -> None:
        self.copy_result = QLabel(objectName="settingsCopyResult")
        self.copy_result.setWordWrap(True)
        role = QDialogButtonBox.ButtonRole.ActionRole
        export = buttons.addButton(tr("설정 내보내기… / Export settings…"), role)
        export.setObjectName("exportSettings")
        export.clicked.connect(self._choose_export_file)
        imp = buttons.addButton(tr("설정 가져오기… / Import settings…"), role)
        imp.setObjectName("importSettings")
        imp.clicked.connect(self._choose_import_file)

    def _choose_export_file(self) -> None:
        chosen = files.save_file(self, "settings-file", tr("설정 내보내기 / Export settings"),
                                 "packdesk-settings.json", "JSON (*.json)")
        if chosen:
            self.export_to(chosen)

    def _choose_import_file(self) -> None:
        chosen = files.open_file(self, "settings-file", tr("설정 가져오기 / Import settings"), "JSON (*.json)")
        if chosen:
            self.import_from(chosen)

    def export_to(self, path: Path) -> bool:
        """The settings as on screen (with the saved PIN), less what belongs to this PC only."""
        from packdesk.core.errors import SettingsError
        from packdesk.services.settings import export_settings

        candidate = self.candidate()
        if candidate is None:
            return False
        candidate = candidate.model_copy(update={"supervisor": candidate.supervisor.model_copy(
            update={"pin_hash": self._pin_hash})})
        try:
            export_settings(candidate, path)
        except SettingsError as e:
            self._show_copy_error(e)
            return False
        self.copy_result.setText(both("내보냈습니다", f"Exported: {path}") + "\n"
                                 + tr("스테이션 이름과 비밀번호는 들어 있지 않습니다 / "
                                      "The station name and passwords are not in the file"))
        return True

    def import_from(self, path: Path) -> bool:
        """Fills the fields from an exported file, this PC's station name kept; nothing is saved until Save."""
        from packdesk.core.errors import SettingsError
        from packdesk.services.settings import import_settings

        current = self.candidate() or self._original
        try:
            imported = import_settings(path, current)
        except SettingsError as e:
            self._show_copy_error(e)
            return False
        for field_path, f in self.fields.items():
            value: Any = imported
            for part in field_path.split("."):
                value = getattr(value, part)
            f.put(value.value if isinstance(value, enum.Enum) else value)
        pin_changed = imported.supervisor.pin_hash != self._pin_hash
        self._pin_hash = imported.supervisor.pin_hash
        self._show_pin_state(changed=pin_changed)
        self.error.setText("")
        done = tr("가져왔습니다 — 확인 후 저장을 누르세요 / Imported — check, then press Save")
        self.copy_result.setText(f"{done}\n{path}")
        return True

    def _show_copy_error(self, error: KnownError) -> None:

        self.copy_result.setText("")
        self.error.setText(two_lines(*error_text(error)))

    # ------------------------------------------------------------------ saving

    def candidate(self) -> Settings | None:
        """The settings as typed, validated; on error the reason is shown and None returned."""
        data: dict[str, Any] = self._original.model_dump(mode="json")
        for path, f in self.fields.items():
            node = data
            *parents, leaf = path.split(".")
            for p in parents:
                node = node[p]
            node[leaf] = f.get()
        try:
            settings = Settings.model_validate(data)
        except ValidationError as e:
            lines = [f"{tr(str(LABELS.get('.'.join(str(p) for p in err['loc']), err['loc'])))}: {err['msg']}"
                     for err in e.errors()]
            self.error.setText(tr("잘못된 값 / Invalid value") + ":\n" + "\n".join(lines))
            return None
        self.error.setText("")
        return settings

    def _save(self) -> None:
        settings = self.candidate()
        pin_hash = self._pin_candidate() if settings is not None else None
        if settings is not None and pin_hash is not None:
            settings = settings.model_copy(update={"supervisor": settings.supervisor.model_copy(
                update={"pin_hash": pin_hash})})
            if self.db_password.text():
                from packdesk.services.secrets import set_named_secret
                from packdesk.services.settings import DB_SECRET

                set_named_secret(DB_SECRET, self.db_password.text())  # never into settings.json
                self.db_password.clear()
            self.result_settings = settings
            self.accept()

    def changed_for_next_start(self, settings: Settings) -> list[str]:
        """The settings marked ↻ whose value differs from the one this start read."""
        new, old = settings.model_dump(mode="json"), self._original.model_dump(mode="json")

        def at(data: dict[str, Any], path: str) -> Any:
            for part in path.split("."):
                data = data[part]
            return data

        return [p for p in self.fields if p not in APPLIES_AT_ONCE and at(new, p) != at(old, p)]

    def done(self, result: int) -> None:
        self.stop_preview()
        super().done(result)
