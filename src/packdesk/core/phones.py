"""Korean phone numbers written in the international form, brought to the domestic one.

Buyers and sellers' sheets write a Korean number as ``+82 10-2345-6780``, ``+82-10-2345-6780``,
``82 10 2345 6780``, ``0082-2-123-4567`` or ``+82 (0)10…``. Stored as typed, the same recipient on two orders
looks like two people (합포장 groups by the digits: ``core/parcels.group_key``), a courier program refuses
the ``+`` and the label shows a number nobody dials from here. Every way orders come in (Excel sheets, the
marketplace adapters, orders typed in) passes its phone through ``domestic`` so one number is one text:
``010-2345-6780``, ``02-123-4567``.

Only the international form is rewritten: a domestic number stays exactly as written (a seller's own
spacing is not ours to change), and a foreign number (``+1 …``) stays too: it is not Korean.
"""

from __future__ import annotations

import re

_INTERNATIONAL = re.compile(r"^\s*(?:\+\s*|00\s*)?82(?=[\s\-.)(]|\d)")
_ONLY_PHONE_CHARS = re.compile(r"[\d\s\-.()+]+")


def domestic(phone: str) -> str:
    """``phone`` in the domestic form when it is a Korean number written internationally; else as given.
    ``+82 10-2345-6780`` → ``010-2345-6780``, ``+82 2-123-4567`` → ``02-123-4567``."""
    text = phone.strip()
    if not text or not _ONLY_PHONE_CHARS.fullmatch(text):
        return phone
    match = _INTERNATIONAL.match(text)
    if match is None:
        return phone
    national = re.sub(r"\D", "", text[match.end():])
    if national.startswith("0"):  # "+82 (0)10 …", "+82 010-…": the trunk 0 written all the same
        national = national[1:]
    if not _plausible(national):  # no Korean number behind the 82: not ours to rewrite
        return phone
    return hyphenated("0" + national)


def _plausible(national: str) -> bool:
    """A Korean number without its trunk 0: mobile 1x, Seoul 2, an area 3x-6x, 50x/70 and their lengths."""
    if not national.isdigit():
        return False
    if national.startswith("1"):
        return national[:2] in ("10", "11", "16", "17", "18", "19") and len(national) in (9, 10)
    if national.startswith("2"):
        return len(national) in (8, 9)
    if national[:1] in ("3", "4", "5", "6", "7"):
        return len(national) in (9, 10, 11)
    return False


def hyphenated(digits: str) -> str:
    """A domestic number's digits with the hyphens Koreans write: 010-2345-6780, 02-123-4567,
    031-123-4567, 0505-123-4567. Digits of another shape are returned as they are."""
    if not digits.isdigit() or not digits.startswith("0"):
        return digits
    if digits.startswith("02"):
        area, rest = digits[:2], digits[2:]
    elif digits.startswith("050") and len(digits) in (11, 12):  # 안심번호: 0505-123-4567, 0502-1234-5678
        area, rest = digits[:4], digits[4:]
    else:
        area, rest = digits[:3], digits[3:]
    if len(rest) == 7:
        return f"{area}-{rest[:3]}-{rest[3:]}"
    if len(rest) == 8:
        return f"{area}-{rest[:4]}-{rest[4:]}"
    return digits
