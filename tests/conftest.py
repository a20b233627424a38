"""Test set-up: offscreen Qt, every dir redirected into tmp_path, an in-memory keyring, no stray warnings."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("OPENCV_LOG_LEVEL", "OFF")

import logging
import shutil
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import keyring
import pytest
from sqlalchemy import Engine, create_engine, inspect

from packdesk.core import db as dbmodule
from packdesk.core.db import Database, sqlite_url
from packdesk.paths import AppDirs, app_dirs
from tests.fakes.memory_keyring import MemoryKeyring


def _order_seed(config: pytest.Config) -> str | None:
    """pytest-randomly's seed, or None when it is off (``-p no:randomly``: file order) or not installed."""
    if not config.pluginmanager.has_plugin("randomly"):
        return None
    return str(config.getoption("randomly_seed"))


def pytest_sessionstart(session: pytest.Session) -> None:
    """The seed of the random order at the start of quiet runs too (``-q`` hides pytest-randomly's header): a
    run that dies on the way (a Qt abort, the faulthandler timeout) still said which order it was in."""
    seed = _order_seed(session.config)
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if seed is not None and reporter is not None and session.config.option.verbose < 0:
        reporter.write_line(f"Using --randomly-seed={seed}")


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    seed = _order_seed(config)
    if seed is not None:
        terminalreporter.write_line(f"random order: the same again with --randomly-seed={seed}; "
                                    "file order with -p no:randomly")


@pytest.fixture(scope="session", autouse=True)
def _schema_made_once(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """A new, empty SQLite database gets the schema copied from one that the real migrations made from nothing
    at the start of this test process (SQLite's backup API), instead of running the 21 migrations again: half a
    second of each station a test builds. Everything else runs the migrations: a database that has tables (the
    migration tests' older schemas), PostgreSQL, and every subprocess (the command line, the app started as a
    user starts it)."""
    migrate = dbmodule._migrate_locked
    template = tmp_path_factory.mktemp("schema") / "migrated.db"
    engine = create_engine(sqlite_url(template))
    migrate(engine)  # 0001 → head, as on a new PC: a failing migration fails every test that needs a database
    engine.dispose()

    def copy_or_migrate(engine: Engine) -> None:
        path = dbmodule.sqlite_file(engine.url.render_as_string(hide_password=False))
        if path is None or inspect(engine).get_table_names():
            migrate(engine)
            return
        with closing(sqlite3.connect(template)) as source, engine.connect() as conn:
            source.backup(conn.connection.driver_connection)  # type: ignore[arg-type]

    patch = pytest.MonkeyPatch()
    patch.setattr(dbmodule, "_migrate_locked", copy_or_migrate)
    yield
    patch.undo()


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    monkeypatch.setenv("PACKDESK_HOME", str(home))
    return home


@pytest.fixture(autouse=True)
def memory_keyring() -> Iterator[MemoryKeyring]:
    previous = keyring.get_keyring()
    kr = MemoryKeyring()
    keyring.set_keyring(kr)
    yield kr
    keyring.set_keyring(previous)


@pytest.fixture(autouse=True)
def _fail_on_unexpected_warning_logs(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """A WARNING from packdesk.* that a test did not ask for is a bug (qutebrowser's logfail idea).
    Tests that expect one mark it with ``caplog_expected`` below."""
    caplog.set_level(logging.INFO, logger="packdesk")
    yield
    if getattr(caplog, "_packdesk_expected", False):
        return
    bad = [r for r in caplog.get_records("call")
           if r.name.startswith("packdesk") and r.levelno >= logging.WARNING]
    if bad:
        pytest.fail("unexpected warning logs:\n" + "\n".join(f"{r.name}: {r.getMessage()}" for r in bad))


@pytest.fixture
def expect_warnings(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog._packdesk_expected = True  # type: ignore[attr-defined]
    return caplog


@pytest.fixture
def dirs(_isolated_home: Path) -> AppDirs:
    return app_dirs().ensure()


TEST_DATABASE_URL = os.environ.get("PACKDESK_TEST_DATABASE_URL", "")


def fresh_database_url(dirs: AppDirs) -> str:
    """SQLite in the test's folder, or (PACKDESK_TEST_DATABASE_URL set) an emptied PostgreSQL database:
    the same tests prove the data layer on both engines."""
    if not TEST_DATABASE_URL:
        return sqlite_url(dirs.database)
    from tests.pg import emptied

    return emptied(TEST_DATABASE_URL)


@pytest.fixture(scope="session")
def _migrated_template(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A database migrated to the newest revision once per run, for the ``db`` fixture to start from: a copy
    (SQLite) or a clone (PostgreSQL) instead of running every migration again for each test (~0.3 s each).
    The migrations themselves are tested from an empty database in tests/core/test_migrations*.py."""
    if TEST_DATABASE_URL:
        from tests.pg import make_template

        return make_template(TEST_DATABASE_URL)
    path = tmp_path_factory.mktemp("template") / "packdesk.sqlite3"
    Database.open(sqlite_url(path), create=True).close()  # closed: the write-ahead log is checkpointed away
    return str(path)


def migrated_database_url(dirs: AppDirs, template: str) -> str:
    """A new database at the newest revision, from the run's template: SQLite in the test's folder, or the
    PostgreSQL test database made again from the template."""
    if TEST_DATABASE_URL:
        from tests.pg import from_template

        return from_template(TEST_DATABASE_URL, template)
    dirs.database.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(template, dirs.database)
    return sqlite_url(dirs.database)


@pytest.fixture
def db(dirs: AppDirs, _migrated_template: str) -> Iterator[Database]:
    database = Database.open(migrated_database_url(dirs, _migrated_template), create=True)
    yield database
    database.close()


@pytest.fixture
def demo_db(db: Database) -> Database:
    """A database holding the demo shop (catalogue, packers, collected orders)."""
    from datetime import UTC, datetime

    from packdesk.services.demo_setup import ensure_demo

    ensure_demo(db, datetime.now(UTC))
    return db
