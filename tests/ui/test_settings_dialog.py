"""The settings screen: every setting has a widget with the model's limits, bad values are explained and
not saved, the camera preview shows the source, and saving writes the file."""

from __future__ import annotations

import pytest
from pydantic import BaseModel
from PySide6.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QLineEdit, QSpinBox

from packdesk.services.settings import Settings, load_settings
from packdesk.ui.settings_dialog import LABELS, SettingsDialog

pytestmark = pytest.mark.gui


def leaf_paths(model, prefix: str = "") -> list[str]:  # type: ignore[no-untyped-def]
    out = []
    for name in type(model).model_fields:
        value = getattr(model, name)
        if isinstance(value, BaseModel):
            out += leaf_paths(value, f"{prefix}{name}.")
        elif name != "version":
            out.append(f"{prefix}{name}")
    return out


def test_every_setting_has_a_labelled_widget_of_its_type(qtbot) -> None:  # type: ignore[no-untyped-def]
    d = SettingsDialog(Settings())
    qtbot.addWidget(d)
    # the PIN's hash has its own two fields (new PIN, again) instead of a text box
    assert set(d.fields) == set(leaf_paths(Settings())) - {"database_url", "supervisor.pin_hash"} == set(LABELS)
    assert isinstance(d.fields["demo_channel"].widget, QCheckBox)
    assert isinstance(d.fields["complete_mode"].widget, QComboBox)
    assert isinstance(d.fields["serial.baudrate"].widget, QComboBox)
    spin = d.fields["scanner.min_length"].widget
    assert isinstance(spin, QSpinBox) and (spin.minimum(), spin.maximum()) == (1, 64)
    assert isinstance(d.fields["camera.pre_roll_s"].widget, QDoubleSpinBox)
    assert isinstance(d.fields["station_name"].widget, QLineEdit)


def test_bad_value_is_explained_and_nothing_returned(qtbot) -> None:  # type: ignore[no-untyped-def]
    d = SettingsDialog(Settings())
    qtbot.addWidget(d)
    d.fields["station_name"].put("")
    assert d.candidate() is None
    assert "스테이션 이름 / Station name" in d.error.text() and "Invalid" in d.error.text()


def test_saving_from_the_window_writes_the_file(station, qtbot) -> None:  # type: ignore[no-untyped-def]
    d = station.window.open_settings()
    d.fields["station_name"].put("3번 포장대")
    d.fields["recorder"].put("opencv")
    d.fields["camera.resolution"].put("800x600")
    d._save()
    saved, err = load_settings(station.dirs.settings_file)
    assert err is None and saved.station_name == "3번 포장대" and saved.camera.resolution == "800x600"
    assert "다시 시작" in station.window.statusBar().currentMessage()


def test_camera_preview_shows_the_source_as_typed(qtbot) -> None:  # type: ignore[no-untyped-def]
    d = SettingsDialog(Settings())
    qtbot.addWidget(d)
    d.fields["camera.source"].put("synthetic")
    d.fields["camera.resolution"].put("320x240")
    d.start_preview()
    qtbot.waitUntil(lambda: d.preview.pixmap() is not None and not d.preview.pixmap().isNull(), timeout=5000)
    assert d._camera.size == (320, 240)
    d.reject()
    assert d._camera is None


def test_database_password_goes_to_the_keyring_and_the_test_names_the_problem(station, qtbot, memory_keyring) -> None:  # type: ignore[no-untyped-def]
    d = station.window.open_settings()
    d.fields["database.mode"].put("server")
    d.fields["database.host"].put("127.0.0.1")
    d.fields["database.port"].put(1)  # nothing listens there
    qtbot.keyClicks(d.db_password, "s3cret-pw")
    d.test_database()
    qtbot.waitUntil(lambda: d.db_result.property("code") == "db_unreachable", timeout=10_000)
    assert "서버에 연결할 수 없습니다" in d.db_result.text()
    d._save()
    assert memory_keyring.store[("PackDesk", "database-server")] == "s3cret-pw"
    assert "s3cret-pw" not in station.dirs.settings_file.read_text()
    saved, _ = load_settings(station.dirs.settings_file)
    assert saved.database.mode == "server" and saved.database.host == "127.0.0.1"


def test_no_preview_of_a_video_file_not_chosen_yet(qtbot) -> None:  # type: ignore[no-untyped-def]
    d = SettingsDialog(Settings())
    qtbot.addWidget(d)
    cam = d.fields["camera.source"].widget
    cam.choice.setCurrentIndex(cam.choice.findData("file"))
    d.start_preview()
    assert d._camera is None  # not "auto" in its place
