"""A set-up station whose database is missing, empty or damaged stops with the reason and the path, and
``verify`` names a damaged database; only a new PC's first start makes a database. Real processes."""

from __future__ import annotations

from pathlib import Path

import pytest

from packdesk.core.errors import DatabaseEmpty
from packdesk.paths import AppDirs, app_dirs
from packdesk.services.settings import Settings, save_settings
from tests.core.test_db_checks import corrupt, demo_station_file
from tests.test_cli import run


def set_up_station(tmp_path: Path) -> AppDirs:
    """A PC that has been set up: a settings file (its database is whatever the test leaves)."""
    dirs = app_dirs(tmp_path / "d").ensure()
    save_settings(Settings(recorder="off"), dirs.settings_file)
    return dirs


def test_build_station_refuses_a_zero_length_database(tmp_path: Path, qapp) -> None:  # type: ignore[no-untyped-def]
    from packdesk.app import build_station

    dirs = set_up_station(tmp_path)
    dirs.database.touch()
    with pytest.raises(DatabaseEmpty):
        build_station(dirs, Settings(recorder="off"), sounds=False)
    assert dirs.database.stat().st_size == 0  # no new, empty station with the demo shop in it


@pytest.mark.parametrize("state", ["zero-length", "missing"])
def test_a_set_up_station_without_its_database_stops_and_says_where(tmp_path: Path, state: str) -> None:
    dirs = set_up_station(tmp_path)
    if state == "zero-length":
        dirs.database.touch()
    r = run("--data-dir", str(dirs.data), "--barcode-sheet", str(tmp_path / "s.pdf"), cwd=tmp_path)
    assert r.returncode == 2 and not (tmp_path / "s.pdf").exists()
    assert str(dirs.database) in r.stderr
    said = {"zero-length": ("비어 있습니다", "is empty"), "missing": ("파일이 없습니다", "is missing")}[state]
    assert said[0] in r.stderr and said[1] in r.stderr
    assert (dirs.database.stat().st_size == 0) if state == "zero-length" else not dirs.database.exists()


def test_a_damaged_database_stops_the_station_and_fails_verify(tmp_path: Path) -> None:
    dirs = set_up_station(tmp_path)
    demo_station_file(dirs.database)
    assert run("verify", "--data-dir", str(dirs.data), cwd=tmp_path).returncode == 0
    corrupt(dirs.database)
    checked = run("verify", "--data-dir", str(dirs.data), cwd=tmp_path)
    assert checked.returncode == 1 and "db_damaged" in checked.stdout and str(dirs.database) in checked.stdout
    assert "손상" in checked.stdout and "damaged" in checked.stdout
    started = run("--data-dir", str(dirs.data), "--barcode-sheet", str(tmp_path / "s.pdf"), cwd=tmp_path)
    assert started.returncode == 2 and "damaged" in started.stderr and str(dirs.database) in started.stderr


def test_a_new_pc_with_no_first_run_gets_its_database(tmp_path: Path) -> None:
    """No settings file yet: a new PC. ``--no-first-run`` skips the set-up, and the database is made."""
    data = tmp_path / "new"
    r = run("--data-dir", str(data), "--no-first-run", "--barcode-sheet", str(tmp_path / "s.pdf"), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert (data / "packdesk.sqlite3").stat().st_size > 0


def _stations(dirs: AppDirs) -> list[str]:
    from sqlalchemy import select

    from packdesk.core import models as m
    from packdesk.core.db import Database, sqlite_url

    db = Database.open(sqlite_url(dirs.database))
    try:
        with db.session() as s:
            return list(s.scalars(select(m.StationRow.name)))
    finally:
        db.close()


def test_a_notepad_settings_file_with_one_bad_value_starts_and_names_it_on_screen(tmp_path: Path) -> None:
    dirs = app_dirs(tmp_path / "d").ensure()
    demo_station_file(dirs.database)
    text = '{\r\n  "station_name": "포장대-2",\r\n  "recorder": "off",\r\n  "scanner": {"max_gap_ms": 1000}\r\n}\r\n'
    dirs.settings_file.write_bytes(text.encode("utf-8-sig"))  # Notepad: BOM and CRLF
    before = dirs.settings_file.read_bytes()
    r = run("--data-dir", str(dirs.data), "--screenshot", str(tmp_path / "shot.png"), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    log = (dirs.logs / "packdesk.log").read_text(encoding="utf-8")
    assert "shown to packer: settings_invalid" in log and "scanner.max_gap_ms" in log  # the banner names it
    assert _stations(dirs) == ["포장대-2"]  # the station's own name, not STATION-1
    assert dirs.settings_file.read_bytes() == before and not dirs.settings_file.with_suffix(".json.bad").exists()


def test_a_bad_station_name_stops_with_the_reason_and_touches_nothing(tmp_path: Path) -> None:
    dirs = app_dirs(tmp_path / "d").ensure()
    demo_station_file(dirs.database)
    dirs.settings_file.write_text('{"station_name": "", "recorder": "off"}', encoding="utf-8")
    r = run("--data-dir", str(dirs.data), "--barcode-sheet", str(tmp_path / "s.pdf"), cwd=tmp_path)
    assert r.returncode == 2 and str(dirs.settings_file) in r.stderr
    assert "스테이션 이름" in r.stderr and "station name" in r.stderr
    assert _stations(dirs) == []  # not started as STATION-1
    assert dirs.settings_file.read_text(encoding="utf-8") == '{"station_name": "", "recorder": "off"}'
