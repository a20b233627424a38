import json
from pathlib import Path
from typing import Any

import pytest

from packdesk.core.station import CompleteMode
from packdesk.services.settings import Settings, SettingsUnusable, load_settings, save_settings


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


def _write(path: Path, doc: dict[str, Any], encoding: str = "utf-8") -> bytes:
    data = json.dumps(doc, ensure_ascii=False, indent=2).encode(encoding)
    if encoding == "utf-8-sig":
        assert data.startswith(b"\xef\xbb\xbf")
    path.write_bytes(data)
    return data


# a set-up station's file: a Korean station name, the warehouse server, a supervisor PIN, and more
SET_UP: dict[str, Any] = {
    "station_name": "포장대-2", "recorder": "off", "language": "en", "idle_timeout_min": 20,
    "database": {"mode": "server", "host": "192.168.0.10", "port": 5433, "name": "wh", "user": "station"},
    "supervisor": {"pin_hash": "$2b$12$abcdefghijklmnopqrstuuJ0Gm6xzq9ihT1v0cRZQf6Wb3k1J0bCy", "auto_lock_min": 7},
    "scanner": {"max_gap_ms": 35, "min_length": 6},
}


def _is_set_up(s: Settings) -> None:
    assert s.station_name == "포장대-2" and s.recorder == "off" and s.language == "en" and s.idle_timeout_min == 20
    assert (s.database.mode, s.database.host, s.database.port, s.database.name) == ("server", "192.168.0.10",
                                                                                      5433, "wh")
    assert s.supervisor.pin_hash == SET_UP["supervisor"]["pin_hash"]


@pytest.mark.parametrize("encoding", ["utf-8-sig", "cp949", "utf-16"])
def test_a_file_saved_by_windows_notepad_is_read(tmp_path: Path, encoding: str) -> None:
    """Notepad saves UTF-8 with a BOM, "ANSI" (CP949 on a Korean PC) or "Unicode" (UTF-16 with a BOM)."""
    p = tmp_path / "settings.json"
    _write(p, SET_UP, encoding)
    s, err = load_settings(p)
    assert err is None
    _is_set_up(s)
    assert s.scanner.max_gap_ms == 35 and s.supervisor.auto_lock_min == 7


def test_one_bad_value_falls_back_alone_is_named_and_the_file_is_kept(tmp_path: Path, expect_warnings) -> None:  # type: ignore[no-untyped-def]
    p = tmp_path / "settings.json"
    doc = {**SET_UP, "scanner": {"max_gap_ms": 1000, "min_length": 6}, "serial": {"baudrate": 1234},
           "supervisor": {**SET_UP["supervisor"], "auto_lock_min": 0}, "colour": "blue"}
    before = _write(p, doc, "utf-8-sig")
    s, err = load_settings(p)
    _is_set_up(s)  # every other setting kept: name, server, PIN, recorder, language
    assert s.scanner.max_gap_ms == 40 and s.scanner.min_length == 6  # that key alone went back to its default
    assert s.serial.baudrate == 9600 and s.supervisor.auto_lock_min == 5
    assert err is not None and err.code == "settings_invalid"
    for key in ("scanner.max_gap_ms", "serial.baudrate", "supervisor.auto_lock_min", "colour"):
        assert key in err.params["problems"]
    assert "1000" in err.params["problems"]  # the value that was refused
    assert p.read_bytes() == before and sorted(f.name for f in tmp_path.iterdir()) == ["settings.json"]


@pytest.mark.parametrize("bad", [
    {"station_name": ""}, {"station_name": "x" * 65}, {"station_name": 3},
    {"database": {**SET_UP["database"], "port": "fifty"}}, {"database": {**SET_UP["database"], "hots": "h"}},
    {"database": "server"}, {"database_url": 5},
    {"supervisor": {"pin_hash": 1234}}, {"supervisor": {"pin": "1234"}}, {"supervisor": None},
])
def test_a_bad_station_name_database_or_pin_stops_instead_of_a_default(tmp_path: Path, bad: dict[str, Any],
                                                                      expect_warnings) -> None:  # type: ignore[no-untyped-def]
    """A default there would be another station: STATION-1 (a new chain), a local database, no PIN."""
    p = tmp_path / "settings.json"
    before = _write(p, {**SET_UP, **bad})
    with pytest.raises(SettingsUnusable) as stopped:
        load_settings(p)
    assert stopped.value.code == "settings_unsafe" and stopped.value.params["path"] == str(p)
    assert next(iter(bad)) in stopped.value.params["problems"]
    assert "$2b$" not in stopped.value.params["problems"]  # a PIN's hash is never shown
    assert p.read_bytes() == before and sorted(f.name for f in tmp_path.iterdir()) == ["settings.json"]


@pytest.mark.parametrize("content", [b"{not json", b"[1, 2]", b"\x80\xff\xfe\x00garbage{"])
def test_an_unreadable_file_stops_and_is_kept(tmp_path: Path, content: bytes, expect_warnings) -> None:  # type: ignore[no-untyped-def]
    p = tmp_path / "settings.json"
    p.write_bytes(content)
    with pytest.raises(SettingsUnusable) as stopped:
        load_settings(p)
    assert stopped.value.code == "settings_unreadable" and stopped.value.params["path"] == str(p)
    assert p.read_bytes() == content and sorted(f.name for f in tmp_path.iterdir()) == ["settings.json"]


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
