"""Test set-up: offscreen Qt, every dir redirected into tmp_path, an in-memory keyring, no stray warnings."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("OPENCV_LOG_LEVEL", "OFF")

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from packdesk.core.db import Database, sqlite_url
from packdesk.paths import AppDirs, app_dirs


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    monkeypatch.setenv("PACKDESK_HOME", str(home))
    return home


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


@pytest.fixture
def db(dirs: AppDirs) -> Iterator[Database]:
    database = Database.open(sqlite_url(dirs.database))
    yield database
    database.close()


@pytest.fixture
def demo_db(db: Database) -> Database:
    """A database holding the demo shop (catalogue, packers, collected orders)."""
    from datetime import UTC, datetime

    from packdesk.services.demo_setup import ensure_demo

    ensure_demo(db, datetime.now(UTC))
    return db
