"""Start-up checks: a missing, empty, damaged or foreign database is refused by name, never made into a new
station; only ``create=True`` (a new PC's first start, tests) makes one."""

from __future__ import annotations

import random
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text

from packdesk.core.db import Database, sqlite_url
from packdesk.core.errors import DatabaseDamaged, DatabaseEmpty, DatabaseForeign, DatabaseMissing
from packdesk.paths import AppDirs
from packdesk.services.demo_setup import ensure_demo
from tests.conftest import TEST_DATABASE_URL, fresh_database_url

PAGE = 4096


def corrupt(path: Path, tables: tuple[str, ...] = ("order_lines", "items")) -> None:
    """Garbage over the root pages of some tables (and the page after each), as a failing disk leaves them.
    The file keeps its size and its first page, so it still opens as a SQLite database."""
    conn = sqlite3.connect(path)
    roots = [conn.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", (t,)).fetchone()[0] for t in tables]
    conn.close()
    rnd = random.Random(7)
    with path.open("r+b") as f:
        for root in roots:
            for page in (root, root + 1):
                f.seek((page - 1) * PAGE)
                f.write(rnd.randbytes(PAGE))


def demo_station_file(path: Path) -> Path:
    db = Database.open(sqlite_url(path), create=True)
    ensure_demo(db, datetime.now(UTC))
    db.close()
    return path


def test_a_missing_file_is_created_only_when_asked(tmp_path: Path) -> None:
    path = tmp_path / "packdesk.sqlite3"
    with pytest.raises(DatabaseMissing) as refused:
        Database.open(sqlite_url(path))
    assert refused.value.params["path"] == str(path) and not path.exists()
    Database.open(sqlite_url(path), create=True).close()
    Database.open(sqlite_url(path)).close()  # made once: an ordinary open from then on


def test_a_zero_length_file_is_refused_even_when_creating(tmp_path: Path) -> None:
    path = tmp_path / "packdesk.sqlite3"
    path.touch()
    for create in (False, True):
        with pytest.raises(DatabaseEmpty) as refused:
            Database.open(sqlite_url(path), create=create)
        assert refused.value.params["path"] == str(path)
    assert path.stat().st_size == 0  # nothing written into it


def test_a_file_with_corrupted_pages_is_refused_and_left_as_it_is(tmp_path: Path) -> None:
    path = demo_station_file(tmp_path / "packdesk.sqlite3")
    Database.open(sqlite_url(path)).close()  # sound before
    corrupt(path)
    damaged = path.read_bytes()
    with pytest.raises(DatabaseDamaged) as refused:
        Database.open(sqlite_url(path))
    assert refused.value.params["path"] == str(path) and "quick_check" in refused.value.detail
    assert path.read_bytes() == damaged


def test_a_file_that_is_not_sqlite_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "packdesk.sqlite3"
    path.write_bytes(b"PK\x03\x04 a zip file, saved over the database" * 100)
    with pytest.raises(DatabaseDamaged):
        Database.open(sqlite_url(path), create=True)


def test_another_programs_database_is_never_written_to(tmp_path: Path) -> None:
    path = tmp_path / "packdesk.sqlite3"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE contacts (name TEXT)")
    conn.commit()
    conn.close()
    for create in (False, True):
        with pytest.raises(DatabaseForeign):
            Database.open(sqlite_url(path), create=create)
    conn = sqlite3.connect(path)
    assert [r[0] for r in conn.execute("SELECT name FROM sqlite_master")] == ["contacts"]
    conn.close()


def test_a_database_without_tables_is_a_new_station_only_when_creating(dirs: AppDirs) -> None:
    """On PostgreSQL: an emptied server database. On SQLite: a valid file with no tables."""
    url = fresh_database_url(dirs)
    if not TEST_DATABASE_URL:
        conn = sqlite3.connect(dirs.database)
        conn.execute("PRAGMA user_version = 1")  # writes the header: a SQLite file with no tables
        conn.commit()
        conn.close()
    with pytest.raises(DatabaseEmpty) as refused:
        Database.open(url)
    assert refused.value.params["path"]
    if TEST_DATABASE_URL:
        assert "password" not in refused.value.params["path"]
    Database.open(url, create=True).close()


def test_a_dropped_packdesk_table_is_damage(dirs: AppDirs) -> None:
    url = fresh_database_url(dirs)
    Database.open(url, create=True).close()
    eng = create_engine(url)
    with eng.begin() as conn:
        conn.execute(text("DROP TABLE scan_events"))
    eng.dispose()
    with pytest.raises(DatabaseDamaged) as refused:
        Database.open(url)
    assert "scan_events" in refused.value.detail
    eng = create_engine(url)
    assert "scan_events" not in inspect(eng).get_table_names()  # not silently re-made empty
    eng.dispose()
