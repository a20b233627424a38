"""File names made from text nobody checked (a tracking number, a template's name): one cleaning for all.

A tracking number is whatever a label, a sheet or a marketplace said; used as is in a file name,
``x/../../..`` leaves the chosen folder and ``CON`` or ``a:b`` is no file at all on Windows. Letters and
digits of any script, ``-`` and ``_`` are kept; everything else (separators, dots, spaces, control
characters) becomes ``_``; Windows' reserved device names get a leading ``_``. The result is never empty,
never ``.``/``..``, and has no path separator, so ``folder / name`` stays inside ``folder``.
"""

from __future__ import annotations

# Windows refuses these as a file's name whatever the extension ("CON.pdf" opens the console)
_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(10)), *(f"LPT{i}" for i in range(10))}


def safe_file_part(text: str, fallback: str = "waybill", limit: int = 40) -> str:
    """``text`` as one part of a file name: at most ``limit`` characters, ``fallback`` when nothing is left."""
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in text)[:limit] or fallback
    return f"_{safe}" if safe.upper() in _RESERVED else safe
