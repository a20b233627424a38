"""Warehouse server set-up: migration under a lock, connection checks that name the problem, and moving
a single station's SQLite data to PostgreSQL (that one needs a server: it runs in the PostgreSQL pass)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select, text

from packdesk.core import models as m
from packdesk.core.db import Database, check_connection, current_revision, head_revision, sqlite_url
from packdesk.services.dbmove import MoveRefused, move_to_server
from packdesk.services.demo_setup import ensure_demo
from tests.conftest import TEST_DATABASE_URL, fresh_database_url


def test_connection_check_on_a_good_and_an_empty_database(db: Database, dirs) -> None:  # type: ignore[no-untyped-def]
    ok = check_connection(db.url)
    assert (ok.ok, ok.code) == (True, "db_ok")
    empty = check_connection(sqlite_url(dirs.data / "empty.sqlite3"))
    assert (empty.ok, empty.code) == (True, "db_schema_older") and "will be upgraded" in empty.detail


def test_connection_check_refuses_a_newer_schema(db: Database) -> None:
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = 'ffff_from_the_future'"))
    c = check_connection(db.url)
    assert (c.ok, c.code) == (False, "db_schema_too_new")


def test_connection_check_names_an_unreachable_server() -> None:
    c = check_connection("postgresql+psycopg://packdesk@127.0.0.1:1/packdesk", timeout_s=2)
    assert (c.ok, c.code) == (False, "db_unreachable") and c.detail


@pytest.mark.skipif(not TEST_DATABASE_URL, reason="needs PostgreSQL (scripts/test.sh runs it)")
def test_connection_check_names_a_missing_database_and_a_bad_login() -> None:
    base = TEST_DATABASE_URL.rsplit("/", 1)[0]
    assert check_connection(f"{base}/no_such_db").code == "db_missing"
    assert check_connection(TEST_DATABASE_URL.replace("packdesk@", "nobody@")).code == "db_bad_login"


def test_two_stations_starting_together_migrate_once(dirs) -> None:  # type: ignore[no-untyped-def]
    url = fresh_database_url(dirs)
    errors: list[BaseException] = []
    opened: list[Database] = []
    barrier = threading.Barrier(2)

    def start() -> None:
        barrier.wait()
        try:
            opened.append(Database.open(url, create=True))
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=start) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == [] and len(opened) == 2
    assert current_revision(opened[0].engine) == head_revision()
    for d in opened:
        d.close()


@pytest.mark.skipif(not TEST_DATABASE_URL, reason="needs PostgreSQL (scripts/test.sh runs it)")
def test_move_a_station_to_the_server(dirs) -> None:  # type: ignore[no-untyped-def]
    local = sqlite_url(dirs.data / "station.sqlite3")
    station = Database.open(local, create=True)
    ensure_demo(station, datetime.now(UTC))
    with station.session() as s:
        lines_before = s.scalar(select(func.count()).select_from(m.OrderLine))
    station.close()
    target = fresh_database_url(dirs)
    report = move_to_server(local, target)
    assert report.counts["order_lines"] == lines_before and report.counts["items"] == 9
    server = Database.open(target)
    with server.session() as s:  # ids continue after the copied ones
        s.add(m.Packer(name="새 작업자", badge_code="PD-PACKER-NEW"))
    with server.session() as s:
        assert s.scalar(select(func.count()).select_from(m.Packer)) == 4
    server.close()
    with pytest.raises(MoveRefused):  # never merges into a server that has data
        move_to_server(local, target)
    again = Database.open(local)  # the SQLite file is untouched and still works
    with again.session() as s:
        assert s.scalar(select(func.count()).select_from(m.OrderLine)) == lines_before
    again.close()
