"""Database setup: engine with the right pragmas, start-up checks, Alembic upgrade at start, sessions.

The database is a setting: a SQLite file in the data dir by default, or a PostgreSQL URL for a
warehouse with several stations. Nothing here is SQLite-only except the pragmas and SQLite's own page
check, applied only there.

Opening is not creating. ``Database.open`` refuses a database that is missing, empty (a zero-length file,
or no tables at all), damaged (SQLite's ``quick_check``, or PackDesk tables gone) or another program's,
each with its own typed error naming where it is; SQLite would otherwise turn a missing or zero-length
file into a new, empty station without a word. ``create=True`` is the deliberate path that may make a new
one: a new PC's first start, ``move-to-server``'s target, tests and benchmarks.
"""

from __future__ import annotations

import functools
import logging
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from filelock import FileLock
from sqlalchemy import CursorResult, Engine, Result, Table, bindparam, create_engine, event, inspect, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

from packdesk.core.errors import (
    DatabaseDamaged,
    DatabaseEmpty,
    DatabaseError,
    DatabaseForeign,
    DatabaseMissing,
    SchemaTooNew,
)

log = logging.getLogger("packdesk.db")

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=5000")
    cur.close()


# SQLite copies the write-ahead log into the database file (a checkpoint, with its fsync) inside whichever commit
# crosses 1,000 pages. On the station that is a scan's commit: measured on this project's 2-core test machine,
# commits of a scan's size had p99 13 ms and p99.9 52 ms with that, 1.1 ms and 4.2 ms without. So a station's
# database (``Database.checkpoint_in_background``) checkpoints on a thread of its own, and a commit does so only
# as a backstop, at ten times the size, should that thread ever fall behind.
BACKSTOP_CHECKPOINT_PAGES = 10_000
CHECKPOINT_EVERY_S = 2.0


class WalCheckpointer:
    """Checkpoints a SQLite database's write-ahead log from its own thread and connection, every few seconds.

    PASSIVE checkpoints never wait for readers or writers: the station's writes go on beside it (SQLite lets a
    writer append to the log while a checkpointer copies the earlier part), and the file copying and its fsync
    run with Python's interpreter lock released. On ``stop`` one last TRUNCATE checkpoint leaves a short log."""

    def __init__(self, path: str, every_s: float = CHECKPOINT_EVERY_S) -> None:
        self.path = path
        self.every_s = every_s
        self.passes = 0
        self.copied = 0  # pages copied into the database file, all passes
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="packdesk-checkpoint", daemon=True)

    def start(self) -> WalCheckpointer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=30)

    def _run(self) -> None:
        try:
            conn = sqlite3.connect(self.path, timeout=5, isolation_level=None)
        except sqlite3.Error as e:
            log.warning("background checkpoints off (%s): commits checkpoint at %d pages", e,
                        BACKSTOP_CHECKPOINT_PAGES)
            return
        try:
            while not self._stop.wait(self.every_s):
                self._checkpoint(conn, "PASSIVE")
            self._checkpoint(conn, "TRUNCATE")
        finally:
            conn.close()

    def _checkpoint(self, conn: sqlite3.Connection, mode: str) -> None:
        try:
            row = conn.execute(f"PRAGMA wal_checkpoint({mode})").fetchone()
        except sqlite3.Error as e:  # busy, or the disk: the next pass tries again; the backstop remains
            log.info("checkpoint %s: %s", mode, e)
            return
        self.passes += 1
        if row is not None and row[2] > 0:
            self.copied += row[2]


def _backstop_checkpoints(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute(f"PRAGMA wal_autocheckpoint={BACKSTOP_CHECKPOINT_PAGES}")
    cur.close()


def make_engine(url: str, **kwargs: Any) -> Engine:
    # a statement's parameters are buyers' names, phones and addresses: never in an error's text (and so
    # never in a log line or a run's error detail; core/errors.describe_error drops the server's DETAIL)
    kwargs.setdefault("hide_parameters", True)
    if url.startswith("postgresql"):
        # a server restarted or a cable replugged: test each pooled connection before use, so stations
        # resume by themselves instead of failing the next scan
        kwargs.setdefault("pool_pre_ping", True)
        kwargs.setdefault("connect_args", {"connect_timeout": 5})
    engine = create_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def alembic_config(engine: Engine | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if engine is not None:
        cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    return cfg


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


MIGRATION_LOCK = 0x5041434B  # "PACK": the advisory lock stations take to migrate one at a time


_MIGRATE_IN_PROCESS = threading.Lock()  # Alembic's context is process-global: one migration at a time


def migrate(engine: Engine) -> None:
    """Bring the schema to this app's head. Refuses a schema from a newer app instead of writing to it.
    On PostgreSQL the upgrade runs under an advisory lock, on a SQLite file under a lock file next to it;
    the revision is read again once the lock is held, so stations starting together migrate once."""
    with _migration_lock(engine.url.render_as_string(hide_password=False)):
        _migrate_locked(engine)


@contextmanager
def _migration_lock(url: str) -> Iterator[None]:
    """One process and thread at a time opens (checks, creates, migrates) a SQLite file: a file another
    opener is creating would otherwise look zero-length. PostgreSQL's is an advisory lock, in the migration."""
    path = sqlite_file(url)
    file_lock = FileLock(f"{path}.migrate.lock") if path is not None else nullcontext()
    with _MIGRATE_IN_PROCESS, file_lock:
        yield


def _migrate_locked(engine: Engine) -> None:
    _known_revision_guard(engine)
    script = ScriptDirectory.from_config(alembic_config())
    if current_revision(engine) == script.get_current_head():
        return
    cfg = alembic_config(engine)
    sqlite = engine.dialect.name == "sqlite"
    with engine.connect() as conn:
        if sqlite:
            # Alembic changes a SQLite table by copying it and dropping the old one, which SQLite refuses while
            # other rows point at it and foreign keys are enforced: SQLite's own procedure turns them off (only
            # possible outside a transaction), changes the tables, checks every key, and turns them on again
            conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
            conn.commit()
        try:
            with conn.begin():
                if engine.dialect.name == "postgresql":
                    conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": MIGRATION_LOCK})
                current = MigrationContext.configure(conn).get_current_revision()
                if current == script.get_current_head():
                    return
                log.info("migrating database from %s to %s", current, script.get_current_head())
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, "head")
                broken = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall() if sqlite else []
                if broken:
                    raise DatabaseError(detail=f"the migration broke {len(broken)} foreign key(s): {broken[:5]}")
        finally:
            if sqlite:  # the pooled connection goes back as every other one is: with foreign keys on
                conn.exec_driver_sql("PRAGMA foreign_keys=ON")
                conn.commit()


@dataclass(frozen=True)
class ConnectionCheck:
    ok: bool
    code: str      # "db_ok", "db_unreachable", "db_bad_login", "db_missing", "db_schema_older", "db_schema_too_new"
    detail: str


def check_connection(url: str, timeout_s: float = 5.0) -> ConnectionCheck:
    """What a "connection test" button says: reachable? login right? database there? schema version?"""
    kwargs: dict[str, Any] = {"connect_args": {"connect_timeout": int(timeout_s)}} if url.startswith("postgresql") \
        else {}
    engine = create_engine(url, hide_parameters=True, **kwargs)
    try:
        with engine.connect() as conn:
            current = MigrationContext.configure(conn).get_current_revision()
    except Exception as e:
        msg = str(getattr(e, "orig", e)).lower()
        if "password" in msg or "authentication" in msg or ("role" in msg and "does not exist" in msg):
            code = "db_bad_login"
        elif "database" in msg and "does not exist" in msg:
            code = "db_missing"
        else:
            code = "db_unreachable"
        return ConnectionCheck(False, code, str(getattr(e, "orig", e)).strip().splitlines()[0][:300])
    finally:
        engine.dispose()
    script = ScriptDirectory.from_config(alembic_config())
    head = script.get_current_head()
    if current == head:
        return ConnectionCheck(True, "db_ok", f"revision {current}")
    try:
        known = current is None or script.get_revision(current) is not None
    except Exception:
        known = False
    if not known:
        return ConnectionCheck(False, "db_schema_too_new", f"revision {current} is newer than this app ({head})")
    return ConnectionCheck(True, "db_schema_older", f"revision {current or 'empty'} will be upgraded to {head}")


def _known_revision_guard(engine: Engine) -> None:
    script = ScriptDirectory.from_config(alembic_config())
    current = current_revision(engine)
    if current is None:
        return
    try:
        known = script.get_revision(current) is not None
    except Exception:  # alembic raises ResolutionError/CommandError for unknown ids
        known = False
    if not known:
        raise SchemaTooNew(detail=f"database revision {current} unknown to this app")


def insert_new(s: Session, model: type[DeclarativeBase], values: dict[str, Any], key: str) -> bool:
    """Insert the row unless one with the same ``key`` exists; True when this call inserted it.

    One statement on either engine (``INSERT … ON CONFLICT DO NOTHING RETURNING``). Not ``rowcount``: through
    psycopg 3 it reads -1 for this statement, which sent every claim, lease and station registration on to its
    "already there" path — a second round trip to the server on each (seen in the server's statement log).
    The statement is built once per table and columns (building it cost more CPU than running it)."""
    stmt = _insert_new(s.get_bind().dialect.name, model, key, tuple(sorted(values)))
    return s.connection().execute(stmt, values).first() is not None  # Core: the ORM insert path costs more CPU


@functools.cache
def _insert_new(dialect: str, model: type[DeclarativeBase], key: str, columns: tuple[str, ...]) -> Any:
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return (insert(model).values({c: bindparam(c) for c in columns})
            .on_conflict_do_nothing(index_elements=[key]).returning(getattr(model, key)))


def table(model: type[DeclarativeBase]) -> Table:
    """The Core table of a mapped class, for the statements on a scan's path (the station's DB thread writes
    each scan, pack start and end). An ORM-enabled INSERT or UPDATE goes through SQLAlchemy's bulk-persistence
    path: measured on this project's 2-core machine while it was busy, a scan's write (claim renewal, pack
    lookup, the scan's row) took 9 ms at p50 that way and 2 ms through the tables, and a pack's writes (begin,
    four scans, end) 18 ms of CPU against 11 ms. These short transactions hold no loaded objects for the ORM to
    keep in step."""
    return cast(Table, model.__table__)


def changed_rows(result: Result[*tuple[Any, ...]]) -> int:
    """The rows an UPDATE or DELETE changed. ``Session.execute`` is typed to return a plain ``Result``, but for
    these statements it is always a ``CursorResult``, which has the count (``insert_new`` says why inserts
    do not use it)."""
    return cast("CursorResult[Any]", result).rowcount


# ------------------------------------------------------------------ start-up checks

SQLITE_HEADER = b"SQLite format 3\x00"
QUICK_CHECK_LINES = 5  # of SQLite's list of problems, kept for the log


def sqlite_file(url: str) -> Path | None:
    """The file behind a SQLite URL (None for other engines and in-memory databases)."""
    from sqlalchemy.engine import make_url

    u = make_url(url)
    if u.get_backend_name() != "sqlite" or not u.database or u.database == ":memory:":
        return None
    return Path(u.database)


def describe_location(url: str) -> str:
    """Where the database is, for people: the file, or the server and database name (never a password)."""
    from sqlalchemy.engine import make_url

    path = sqlite_file(url)
    if path is not None:
        return str(path)
    u = make_url(url)
    return f"{u.host or 'localhost'}:{u.port or 5432}/{u.database or ''}"


def check_sqlite_file(path: Path, *, create: bool) -> None:
    """Before SQLite touches the file: there (unless creating), not zero-length, a SQLite file, and every
    page readable by ``PRAGMA quick_check``. Read-only: nothing is written into a file found wrong.

    Measured: quick_check reads the whole file, 1.1 s for a 309 MB database of 1,000,000 order lines."""
    where = str(path)
    if not path.exists():
        if create:
            return
        raise DatabaseMissing(detail=f"{where} does not exist", path=where)
    size = path.stat().st_size
    if size == 0:
        raise DatabaseEmpty(detail=f"{where} is zero bytes long", path=where)
    with path.open("rb") as f:
        header = f.read(len(SQLITE_HEADER))
    if header != SQLITE_HEADER:
        raise DatabaseDamaged(detail=f"{where} ({size} bytes) has no SQLite header", path=where)
    problems = quick_check(path)
    if problems:
        raise DatabaseDamaged(detail=f"{where}: quick_check: {'; '.join(problems)}", path=where)


def quick_check(path: Path) -> list[str]:
    """SQLite's own check of every page and index of the file; [] when it says "ok". A file SQLite cannot
    open or read now (locked, no permission, an I/O error) raises ``DatabaseError``: that says nothing
    about its pages."""
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            conn.execute("PRAGMA busy_timeout=5000")
            rows = conn.execute(f"PRAGMA quick_check({QUICK_CHECK_LINES})").fetchall()
        finally:
            conn.close()
    except sqlite3.OperationalError as e:  # busy, locked, cannot open, I/O: the file may be fine
        raise DatabaseError(detail=f"{path}: {e}", path=str(path)) from e
    except sqlite3.DatabaseError as e:  # "file is not a database", "database disk image is malformed"
        return [f"{type(e).__name__}: {e}"]
    found = [str(r[0]) for r in rows]
    return [] if found == ["ok"] else found


def check_schema(engine: Engine, *, create: bool) -> None:
    """Before migrating: a database with no tables is new only when creating; tables without an Alembic
    version are not PackDesk's (or lost it) and are never written to."""
    where = describe_location(engine.url.render_as_string(hide_password=False))
    tables = set(inspect(engine).get_table_names())
    if not tables:
        if create:
            return
        raise DatabaseEmpty(detail=f"{where}: no tables", path=where)
    if "alembic_version" not in tables or current_revision(engine) is None:
        raise DatabaseForeign(detail=f"{where}: no PackDesk version; tables: {sorted(tables)[:10]}", path=where)


def missing_tables(engine: Engine) -> list[str]:
    """PackDesk's tables absent from the migrated database (dropped by hand, or a broken copy)."""
    from packdesk.core.models import Base

    present = set(inspect(engine).get_table_names())
    return sorted(set(Base.metadata.tables) - present)


class Database:
    """One engine and its session factory; the composition root builds one and hands it out."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        self.engine = make_engine(url, echo=echo)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        self.checkpointer: WalCheckpointer | None = None

    def checkpoint_in_background(self, every_s: float = CHECKPOINT_EVERY_S) -> WalCheckpointer | None:
        """A SQLite file's log checkpointed on a thread of its own, not inside a scan's commit (the note at
        ``WalCheckpointer``); commits keep a backstop at ``BACKSTOP_CHECKPOINT_PAGES``. PostgreSQL, or a
        database in memory: nothing to do (None). Stopped by ``close``."""
        path = self.engine.url.database if self.engine.dialect.name == "sqlite" else None
        if not path or path == ":memory:" or self.checkpointer is not None:
            return self.checkpointer
        event.listen(self.engine, "connect", _backstop_checkpoints)
        self.engine.dispose()  # connections made before keep SQLite's default: none are kept
        self.checkpointer = WalCheckpointer(path, every_s).start()
        return self.checkpointer

    @property
    def location(self) -> str:
        return describe_location(self.url)

    @classmethod
    def open(cls, url: str, *, create: bool = False) -> Database:
        """Check, migrate and open PackDesk's database. Raises a ``DatabaseError`` naming the problem and the
        path; ``create``: a database that does not exist yet (no file, or no tables) is made."""
        path = sqlite_file(url)
        if path is not None and not create and not path.exists():  # said before a lock file is made beside it
            raise DatabaseMissing(detail=f"{path} does not exist", path=str(path))
        db = cls(url)
        try:
            with _migration_lock(url):
                if path is not None:
                    check_sqlite_file(path, create=create)
                check_schema(db.engine, create=create)
                _migrate_locked(db.engine)
                gone = missing_tables(db.engine)
            if gone:
                raise DatabaseDamaged(detail=f"{db.location}: tables missing: {gone}", path=db.location)
        except DatabaseError:
            db.engine.dispose()
            raise
        except Exception as e:
            db.engine.dispose()
            raise DatabaseError(detail=f"{type(e).__name__}: {e}", path=db.location) from e
        return db

    @contextmanager
    def session(self) -> Iterator[Session]:
        """One short transaction: committed on success, rolled back on error."""
        with self.sessions.begin() as s:
            yield s

    def close(self) -> None:
        if self.checkpointer is not None:
            self.checkpointer.stop()
            self.checkpointer = None
        self.engine.dispose()
