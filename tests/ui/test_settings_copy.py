"""Settings export and import in the settings screen: one PC's set-up fills the next PC's fields (its own
station name kept), nothing is saved until Save, and a bad file is explained in both languages."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PySide6.QtWidgets import QPushButton

from packdesk.services.auth import check_pin, hash_pin
from packdesk.services.settings import Settings, SupervisorSettings, load_settings
from packdesk.ui.settings_dialog import SettingsDialog

pytestmark = pytest.mark.gui


def test_export_then_import_on_the_next_pc(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    first = SettingsDialog(Settings(station_name="1번 포장대",
                                    supervisor=SupervisorSettings(pin_hash=hash_pin("2468", rounds=4))))
    qtbot.addWidget(first)
    assert {b.text() for b in first.findChildren(QPushButton)} >= {"설정 내보내기… / Export settings…",
                                                                    "설정 가져오기… / Import settings…"}
    first.fields["recorder"].put("off")
    first.fields["camera.resolution"].put("320x240")
    first.fields["collection.times"].put(["08:00", "14:30"])
    path = tmp_path / "packdesk-settings.json"
    assert first.export_to(path)  # as on screen, unsaved changes included
    assert "내보냈습니다" in first.copy_result.text()
    assert "1번 포장대" not in path.read_text(encoding="utf-8")

    second = SettingsDialog(Settings(station_name="2번 포장대"))
    qtbot.addWidget(second)
    assert second.import_from(path)
    assert second.fields["station_name"].get() == "2번 포장대"
    assert second.fields["recorder"].get() == "off" and second.fields["camera.resolution"].get() == "320x240"
    assert second.fields["collection.times"].get() == ["08:00", "14:30"]
    assert "저장을 누르세요" in second.copy_result.text() and "Save" in second.copy_result.text()
    assert "PIN" in second.pin_state.text()
    assert second.result_settings is None  # nothing saved yet
    second._save()
    saved = second.result_settings
    assert saved is not None and saved.station_name == "2번 포장대" and saved.recorder == "off"
    assert check_pin("2468", saved.supervisor.pin_hash)  # one PIN for every station


def test_a_bad_file_is_explained_and_the_fields_stay(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    d = SettingsDialog(Settings(recorder="opencv"))
    qtbot.addWidget(d)
    newer = tmp_path / "newer.json"
    newer.write_text(json.dumps({"app": "PackDesk", "kind": "packdesk-settings",
                                 "settings": {"version": 99, "recorder": "off"}}), encoding="utf-8")
    assert not d.import_from(newer)
    assert "더 새로운 PackDesk" in d.error.text() and "newer PackDesk" in d.error.text()
    other = tmp_path / "other.json"
    other.write_text('{"name": "some other program"}', encoding="utf-8")
    assert not d.import_from(other)
    assert "PackDesk 설정 내보내기 파일이 아닙니다" in d.error.text() and "not a PackDesk" in d.error.text()
    assert d.fields["recorder"].get() == "opencv"


def test_import_from_the_station_window_saves_with_its_name(station, qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "from-pc1.json"
    donor = SettingsDialog(Settings(station_name="PC1", idle_timeout_min=25))
    qtbot.addWidget(donor)
    assert donor.export_to(path)
    d = station.window.open_settings()
    assert d.import_from(path)
    d._save()
    saved, err = load_settings(station.dirs.settings_file)
    assert err is None and saved.idle_timeout_min == 25 and saved.station_name == station.settings.station_name
