import json
from pathlib import Path

from packdesk.core.station import CompleteMode
from packdesk.services.settings import Settings, load_settings, save_settings


def test_missing_file_gives_defaults(tmp_path: Path) -> None:
    s, err = load_settings(tmp_path / "settings.json")
    assert err is None and s == Settings() and s.scanner.max_gap_ms == 40


def test_round_trip(tmp_path: Path) -> None:
    p = tmp_path / "settings.json"
    s = Settings(station_name="3번 스테이션", complete_mode=CompleteMode.COMMAND)
    s.serial.port = "COM3"
    save_settings(s, p)
    again, err = load_settings(p)
    assert err is None and again == s and again.serial.port == "COM3"


def test_bad_values_are_explained_and_file_kept(tmp_path: Path, expect_warnings) -> None:  # type: ignore[no-untyped-def]
    p = tmp_path / "settings.json"
    p.write_text(json.dumps({"station_name": "", "scanner": {"max_gap_ms": 1000}, "serial": {"baudrate": 1234}}))
    s, err = load_settings(p)
    assert s == Settings() and err is not None
    assert "station_name" in err.detail and "scanner.max_gap_ms" in err.detail and "serial.baudrate" in err.detail
    assert (tmp_path / "settings.json.bad").exists() and not p.exists()


def test_broken_json_is_explained(tmp_path: Path, expect_warnings) -> None:  # type: ignore[no-untyped-def]
    p = tmp_path / "settings.json"
    p.write_text("{not json")
    s, err = load_settings(p)
    assert s == Settings() and err is not None and err.code == "settings_invalid"


def test_wedge_config_from_settings() -> None:
    w = Settings().scanner.wedge_config()
    assert w.max_gap_ms == 40 and w.min_length == 4


def test_collection_times_are_validated_and_normalised() -> None:
    import pytest
    from pydantic import ValidationError

    from packdesk.services.settings import CollectionSettings

    assert CollectionSettings(times=["9:00", "13:30", "09:00"]).times == ["09:00", "13:30"]
    with pytest.raises(ValidationError):
        CollectionSettings(times=["25:00"])
    with pytest.raises(ValidationError):
        CollectionSettings(times=["01:00", "02:00", "03:00", "04:00", "05:00", "06:00"])  # at most 5
