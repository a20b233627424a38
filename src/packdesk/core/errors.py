"""Typed errors.

Two families, as in qutebrowser/Anki: ``KnownError`` is the environment's or the input's fault and is told
to people (it carries a stable ``code`` and ``params`` that ``ui/messages.py`` renders in Korean and English,
plus ``detail`` for the log); anything else is our bug and is reported as such.
"""

from __future__ import annotations

from typing import Any, NamedTuple


class Words(NamedTuple):
    """A parameter said differently in each language (a field's name): ``ui/messages.py`` puts ``ko`` into
    the Korean text and ``en`` into the English one, so one placeholder serves both."""

    ko: str
    en: str

    def __str__(self) -> str:
        return f"{self.ko} / {self.en}"


class KnownError(Exception):
    """A failure a person can act on. ``code`` selects the message; ``detail`` goes only to the log."""

    code: str = "error"

    def __init__(self, code: str | None = None, *, detail: str = "", **params: Any) -> None:
        self.code = code or self.code
        self.params = params
        self.detail = detail
        super().__init__(f"{self.code}: {params} {detail}".strip())


class DatabaseError(KnownError):
    code = "db_error"


class SchemaTooNew(DatabaseError):
    code = "db_schema_too_new"


class DatabaseMissing(DatabaseError):
    """The station's database is not where its settings say; only a new PC's first start creates one."""

    code = "db_file_missing"


class DatabaseEmpty(DatabaseError):
    """A zero-length file, or a database with no tables at all: never silently made into a new station."""

    code = "db_empty"


class DatabaseDamaged(DatabaseError):
    """SQLite's own check found broken pages, or PackDesk's tables are gone from its schema."""

    code = "db_damaged"


class DatabaseForeign(DatabaseError):
    """Tables, but not PackDesk's (no Alembic version): another program's database, or the wrong file."""

    code = "db_foreign"


class SettingsError(KnownError):
    code = "settings_invalid"


def describe_error(e: BaseException) -> str:
    """``e`` in one line for a log or a stored error detail, without the data it was about. A database error
    gives its kind, SQLSTATE and the server's first line only: SQLAlchemy's text of it adds the statement's
    parameters (every order of a batch), and PostgreSQL's adds ``DETAIL: Failing row contains (...)``, a whole
    row with a buyer's name, phone and address."""
    orig = getattr(e, "orig", None) if _from(e, "sqlalchemy") else None
    db = orig if orig is not None and _is_dbapi(orig) else e if _is_dbapi(e) else None
    if db is not None:
        primary = getattr(getattr(db, "diag", None), "message_primary", None) or _first_line(str(db))
        state = getattr(db, "sqlstate", None)
        outer = f"{type(e).__name__}: " if db is not e else ""
        return f"{outer}{type(db).__module__}.{type(db).__name__}{f' [{state}]' if state else ''}: {primary}"
    if orig is not None:  # SQLAlchemy's words around something else (a value its type refused)
        return f"{type(e).__name__} ({type(orig).__name__}): {_first_line(str(orig))}"
    return f"{type(e).__name__}: {_first_line(str(e))}"


def _from(e: BaseException, package: str) -> bool:
    return type(e).__module__.split(".")[0] == package


def _is_dbapi(e: BaseException) -> bool:
    return type(e).__module__.split(".")[0] in ("psycopg", "psycopg2", "sqlite3")


def _first_line(text: str) -> str:
    lines = text.strip().splitlines()
    return lines[0][:300] if lines else ""
