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
