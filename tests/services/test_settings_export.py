"""Copying one PC's set-up to the next: what goes into the file, what stays this PC's, and every bad file
refused with its reason (in Korean and English, through ``ui/messages.py``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from packdesk.core.errors import SettingsError
from packdesk.core.station import CompleteMode
from packdesk.services.settings import (
    SETTINGS_VERSION,
    CameraSettings,
    CollectionSettings,
    DatabaseSettings,
    Settings,
    SupervisorSettings,
    export_settings,
    import_settings,
)
from packdesk.ui.messages import error_text


def first_pc() -> Settings:
    return Settings(station_name="1번 포장대", database_url="sqlite:////d/pc1/packdesk.sqlite3",
                    complete_mode=CompleteMode.COMMAND, recorder="realpacking",
                    camera=CameraSettings(source="1", resolution="800x600"),
                    collection=CollectionSettings(times=["08:30", "15:00"]),
                    database=DatabaseSettings(mode="server", host="192.168.0.5"),
                    supervisor=SupervisorSettings(pin_hash="$2b$10$abcdefghijklmnopqrstuv", auto_lock_min=15))


def test_round_trip_copies_the_set_up_and_keeps_this_pcs_own(tmp_path: Path) -> None:
    path = tmp_path / "usb" / "packdesk-settings.json"
    export_settings(first_pc(), path)
    second = Settings(station_name="2번 포장대", database_url="sqlite:////d/pc2/x.sqlite3")
    got = import_settings(path, second)
    assert got.station_name == "2번 포장대" and got.database_url == "sqlite:////d/pc2/x.sqlite3"
    expected = first_pc().model_copy(update={"station_name": "2번 포장대", "database_url": second.database_url})
    assert got == expected
    assert got.supervisor.pin_hash == first_pc().supervisor.pin_hash  # one PIN for the warehouse


def test_the_file_holds_no_per_pc_value_and_no_secret(tmp_path: Path, memory_keyring) -> None:  # type: ignore[no-untyped-def]
    from packdesk.services.secrets import set_named_secret
    from packdesk.services.settings import DB_SECRET

    set_named_secret(DB_SECRET, "server-pw-123")
    path = tmp_path / "export.json"
    export_settings(first_pc(), path)
    text = path.read_text(encoding="utf-8")
    doc = json.loads(text)
    assert doc["app"] == "PackDesk" and doc["kind"] == "packdesk-settings"
    assert "station_name" not in doc["settings"] and "database_url" not in doc["settings"]
    assert "1번 포장대" not in text and "/d/pc1/" not in text and "server-pw-123" not in text
    assert doc["settings"]["version"] == SETTINGS_VERSION


def test_an_export_without_a_pin_keeps_this_pcs_pin(tmp_path: Path) -> None:
    path = tmp_path / "export.json"
    export_settings(Settings(), path)
    locked = Settings(supervisor=SupervisorSettings(pin_hash="$2b$10$thispcspinhash"))
    assert import_settings(path, locked).supervisor.pin_hash == "$2b$10$thispcspinhash"


def write(path: Path, doc: object) -> Path:
    path.write_text(json.dumps(doc) if not isinstance(doc, str) else doc, encoding="utf-8")
    return path


def exported(**settings: object) -> dict[str, object]:
    return {"app": "PackDesk", "kind": "packdesk-settings", "settings": {"version": SETTINGS_VERSION, **settings}}


@pytest.mark.parametrize(("doc", "code", "ko", "en"), [
    ("{not json", "settings_import_unreadable", "읽을 수 없습니다", "cannot be read"),
    ({"version": 1, "station_name": "X"}, "settings_import_foreign", "내보내기 파일이 아닙니다", "not a PackDesk"),
    ({"app": "OtherApp", "settings": []}, "settings_import_foreign", "내보내기 파일이 아닙니다", "not a PackDesk"),
    (exported(version=SETTINGS_VERSION + 1), "settings_import_newer", "더 새로운", "newer PackDesk"),
    (exported(version=0), "settings_import_older", "너무 오래된", "too old"),
    (exported(version="one"), "settings_import_invalid", "값이 잘못", "invalid values"),
    (exported(idle_timeout_min=0, scanner={"max_gap_ms": 1000}, colour="red"), "settings_import_invalid",
     "값이 잘못", "invalid values"),
])
def test_a_bad_file_is_refused_and_explained(tmp_path: Path, doc: object, code: str, ko: str, en: str) -> None:
    path = write(tmp_path / "in.json", doc)
    with pytest.raises(SettingsError) as info:
        import_settings(path, Settings())
    assert info.value.code == code
    text_ko, text_en = error_text(info.value)
    assert ko in text_ko and en.lower() in text_en.lower(), (text_ko, text_en)
    if code == "settings_import_invalid" and "colour" in json.dumps(doc):
        assert "idle_timeout_min" in text_en and "scanner.max_gap_ms" in text_en and "colour" in text_en


def test_a_missing_file_is_explained(tmp_path: Path) -> None:
    with pytest.raises(SettingsError) as info:
        import_settings(tmp_path / "nope.json", Settings())
    assert info.value.code == "settings_import_unreadable"


def test_per_pc_keys_in_a_hand_edited_file_are_ignored(tmp_path: Path) -> None:
    path = write(tmp_path / "in.json", exported(station_name="남의 이름", database_url="sqlite:////x", recorder="off"))
    got = import_settings(path, Settings(station_name="내 스테이션"))
    assert got.station_name == "내 스테이션" and got.database_url == "" and got.recorder == "off"


def test_export_to_an_unwritable_place_is_explained(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(SettingsError) as info:
        export_settings(Settings(), blocker / "sub" / "export.json")
    assert info.value.code == "settings_export_failed"
    assert "저장하지 못했습니다" in error_text(info.value)[0]
