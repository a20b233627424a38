"""A station's SQLite log is checkpointed on a thread of its own, not inside a scan's commit (core/db.py)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlalchemy import text

from packdesk.core.db import BACKSTOP_CHECKPOINT_PAGES, Database, sqlite_url
from tests.waiting import wait_until


def fill(db: Database, commits: int, rows: int = 40) -> None:
    """Commits of a few dozen pages each (a row a page)."""
    for _ in range(commits):
        with db.engine.begin() as c:
            c.execute(text("INSERT INTO t (b) VALUES (:b)"), [{"b": "y" * 3000}] * rows)


def log_frames(path: Path) -> int:
    """Frames in the write-ahead log (a PASSIVE checkpoint from outside reports them, copying what it may)."""
    with sqlite3.connect(path) as c:
        return int(c.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()[1])


def make(tmp_path: Path) -> tuple[Database, Path]:
    path = tmp_path / "station.sqlite3"
    db = Database(sqlite_url(path))
    with db.engine.begin() as c:
        c.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, b TEXT)"))
    return db, path


def test_commits_leave_the_checkpoint_to_the_thread(tmp_path: Path) -> None:
    db, path = make(tmp_path)
    try:
        cp = db.checkpoint_in_background(every_s=3600)  # the thread's first pass is an hour away
        assert cp is not None and db.checkpoint_in_background() is cp
        with db.engine.connect() as c:
            assert c.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == BACKSTOP_CHECKPOINT_PAGES
        fill(db, commits=40)  # ~1,600 pages: SQLite's own rule would have checkpointed inside a commit at 1,000
        assert log_frames(path) > 1_000
    finally:
        db.close()
    assert path.with_name(path.name + "-wal").stat().st_size == 0  # closing: one TRUNCATE, a short log


def test_the_thread_copies_the_log_into_the_database(tmp_path: Path) -> None:
    db, _ = make(tmp_path)
    try:
        cp = db.checkpoint_in_background(every_s=0.05)
        assert cp is not None
        fill(db, commits=10)
        wait_until(lambda: cp.copied >= 300, timeout=20, what="the background checkpoint copied the log")
    finally:
        db.close()


def test_without_the_thread_sqlite_checkpoints_as_ever(tmp_path: Path) -> None:
    db, path = make(tmp_path)  # a command-line tool or a test: no background thread, SQLite's own rule
    try:
        fill(db, commits=40)
        assert log_frames(path) < 1_100
    finally:
        db.close()


def test_nothing_to_do_in_memory() -> None:
    db = Database("sqlite://")
    assert db.checkpoint_in_background() is None
    db.close()
