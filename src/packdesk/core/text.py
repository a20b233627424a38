"""Text from outside (a marketplace, a sheet, a form, a search box) made safe for both database engines.

PostgreSQL refuses a NUL character in any text and a lone surrogate cannot be encoded at all, while SQLite
stores the first and chokes on the second: the same order must give the same result on both, so such
characters never reach a statement. Tab and line breaks are text (a delivery message may have several lines);
every other control character is noise a person cannot see and is removed too.

Searching: ``LIKE`` takes ``%`` and ``_`` as wildcards on both engines, and ``\\`` as its escape character on
PostgreSQL only (SQLite has none unless told): ``contains`` always names its escape character, so what a person
types is matched as plain text the same way on both.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import ColumnElement

# C0 controls but tab and line feed, DEL, C1 controls, and surrogates (never valid alone in UTF-8)
_REMOVED = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")


def clean_text(value: str) -> str:
    """``value`` without NUL and the other control characters but tab and line feed; a CR LF or lone CR
    line break becomes a line feed. Text that needs nothing (nearly all) is returned as it is, fast."""
    if value.isprintable() or not value:
        return value
    if "\r" in value:
        value = value.replace("\r\n", "\n").replace("\r", "\n")
    return _REMOVED.sub("", value)


def search_text(value: str) -> str:
    """What a person typed into a search box, as it is searched: cleaned, one line, trimmed."""
    return " ".join(clean_text(value).split())


LIKE_ESCAPE = "/"  # not "\\": on PostgreSQL a backslash in a pattern means something unless ESCAPE says otherwise
_LIKE_SPECIAL = ("%", "_", "\\", LIKE_ESCAPE)


def contains(col: Any, text: str, dialect: str) -> ColumnElement[bool]:
    """``col`` holds ``text`` in any letter case, every character of it taken as plain text on both engines.
    SQLite's ``LIKE`` already ignores the case of ASCII letters (Hangul has none), so there the column is
    compared as it is; PostgreSQL gets ``ILIKE``. Without a special character the pattern needs no ``ESCAPE``
    clause (SQLite matches faster without one); with one, each is escaped."""
    if any(c in text for c in _LIKE_SPECIAL):
        escaped = "".join(LIKE_ESCAPE + c if c in ("%", "_", LIKE_ESCAPE) else c for c in text)
        pattern = f"%{escaped}%"
        return col.like(pattern, escape=LIKE_ESCAPE) if dialect == "sqlite" else col.ilike(pattern, escape=LIKE_ESCAPE)
    return col.like(f"%{text}%") if dialect == "sqlite" else col.ilike(f"%{text}%")
