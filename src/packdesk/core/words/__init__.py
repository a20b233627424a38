"""The one catalogue of words: every code a person can be shown, in Korean and English, and the one renderer.

Code anywhere hands over a stable code and parameters (a ``KnownError``, a station ``Msg``, a refused row's
code); this package turns them into words. ``core/`` has no Qt, so the screens (through ``ui/messages.py``
and the screen language of ``ui/i18n.py``), the exports and the evidence sheet (both languages, Korean first)
all render from here. The data lives in ``station.py``, ``errors.py`` and ``sheets.py``; labels of values
(refusal reasons, scan kinds, pack outcomes, recorder problems, marketplace statuses, an import's words for a
tracking check) are kept under ``<namespace>.<value>`` so they never clash with an error code.

``tests/core/test_words.py`` is the guard: every code raised anywhere in ``src/`` has words here in both
languages with the same ``{placeholders}``, and every entry here is used.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal

from packdesk.core.errors import Words
from packdesk.core.kst import KST
from packdesk.core.words.errors import DB_CHECK, ERRORS, KEYRING_NEEDED, PROBLEMS, TRACKING
from packdesk.core.words.expected_returns import RETURN_STATUS, RETURNS_ERRORS
from packdesk.core.words.returns import CONDITIONS, RETURN_KINDS, RETURNS
from packdesk.core.words.sheets import COURIER, EXCEL, IMPORT_TRACKING, MAPPING, MARKET_STATUS
from packdesk.core.words.station import (
    ALREADY_PACKED_BY,
    COUNTED,
    HOLD,
    HOLD_CODES,
    KINDS,
    OUTCOMES,
    REASONS,
    SIGNED_OUT,
    STATION,
)

__all__ = ["CATALOGUE", "COUNTED", "DATA_PARAMS", "HANGUL", "HOLD", "HOLD_CODES", "KEYRING_NEEDED", "Language",
           "Words", "bilingual", "counted", "english", "item_words", "known", "korean", "label", "plural", "reason",
           "render", "split", "station_words", "words"]

Language = Literal["ko", "en"]

# namespaces of value labels: ``<namespace>.<value>``
REASON, KIND, OUTCOME, PROBLEM, IMPORT, MARKET = "reason", "kind", "outcome", "problem", "import", "market_status"
DB_CHECK_NS = "db_check"
CONDITION, RETURN_KIND = "condition", "return_kind"  # a returned item's condition, a returns scan's kind


def _merge(*tables: tuple[str, Mapping[str, tuple[str, str]]]) -> dict[str, Words]:
    out: dict[str, Words] = {}
    for namespace, table in tables:
        for code, (ko, en) in table.items():
            key = f"{namespace}.{code}" if namespace else str(code)
            if key in out:
                raise ValueError(f"two words for one code: {key}")  # caught at import, by any test
            out[key] = Words(ko, en)
    return out


# code -> Words(ko, en); {names} are filled from the parameters
CATALOGUE: Mapping[str, Words] = _merge(
    ("", STATION), ("", RETURNS), ("", ERRORS), ("", EXCEL), ("", MAPPING), ("", COURIER),
    (REASON, REASONS), (KIND, KINDS), (OUTCOME, OUTCOMES), (PROBLEM, PROBLEMS), (IMPORT, IMPORT_TRACKING),
    (MARKET, MARKET_STATUS), (DB_CHECK_NS, DB_CHECK), (MARKET, RETURN_STATUS), ("", RETURNS_ERRORS),
    (CONDITION, CONDITIONS), (RETURN_KIND, RETURN_KINDS),
)
_TRACKING = frozenset(TRACKING)

# ------------------------------------------------------------------------------------------ "한국어 / English"

_HANGUL_RANGES = "\u1100-\u11ff\u3131-\u318e\uac00-\ud7a3"  # jamo, compatibility jamo, syllables
HANGUL = re.compile(f"[{_HANGUL_RANGES}]")
_LEADING_MARKS = re.compile(f"^[^\\w{_HANGUL_RANGES}]*")
_SEP = " / "


def split(text: str) -> tuple[str, str] | None:
    """("한국어", "English") of a "한국어 / English" text: split at the last " / " that has Korean before it and
    none after; the symbols it starts with ("● ", "— ") stay on both. ``None`` when it is not such a text
    (Korean only, or data with a " / " in it)."""
    at = len(text)
    while (at := text.rfind(_SEP, 0, at)) != -1:
        left, right = text[:at], text[at + len(_SEP):]
        if HANGUL.search(right):
            return None  # Korean after the last split: not a "Korean / English" text
        if HANGUL.search(left) and right.strip():
            m = _LEADING_MARKS.match(left)
            return left, (m.group(0) if m else "") + right
    return None


def english(text: str) -> str:
    """The English half of "한국어 / English"; a text with no such split comes back whole."""
    halves = split(text)
    return halves[1] if halves else text


def korean(text: str) -> str:
    """The Korean half of "한국어 / English"; a text with no such split comes back whole."""
    halves = split(text)
    return halves[0] if halves else text


# ------------------------------------------------------------------------------------------ the renderer

# shown as they came, never split at a " / ": a marketplace's message, the shop's own product words (an option
# is often written "블랙 / L"), and what a sheet's cell or a scan held
DATA_PARAMS = frozenset({"message", "name", "option", "item", "products", "recipient",
                         "value", "reference", "number", "sku", "barcode", "header", "expected", "current",
                         "kept_as", "return_code"})
# times shown with their date even today: "already packed" must say which day (a parcel from last week)
DATED_PARAMS = frozenset({"packed_at"})


class _Params(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return ""  # a parameter the raiser did not give prints as nothing, never as a crash


def _value(key: str, value: Any, side: int) -> Any:
    """One language's side of a parameter: a (Korean, English) pair gives its half; a text written
    "한국어 / English" (an account field's label) its half, so the sentence does not say the label twice; a
    time is Korea time ("10:32" today, "11-23 10:32" before)."""
    if isinstance(value, tuple) and len(value) == 2 and all(isinstance(v, str) for v in value):
        value = value[side]
    elif isinstance(value, str) and key not in DATA_PARAMS:
        value = english(value) if side else korean(value)
    if isinstance(value, datetime):
        local = value.astimezone(KST)
        if key in DATED_PARAMS:
            return local.strftime("%Y-%m-%d %H:%M")
        return local.strftime("%H:%M" if local.date() == datetime.now(KST).date() else "%m-%d %H:%M")
    return "" if value is None else value


def fill(template: str, params: Mapping[str, Any] | None, side: int) -> str:
    """``template`` with ``params`` put in; ``side``: 0 Korean, 1 English (its "{n} item(s)" made "1 item",
    "2 items")."""
    given = _Params({k: _value(k, v, side) for k, v in (params or {}).items()})
    text = template.format_map(given).strip()
    return counted(text) if side else text


def plural(n: int, one: str, many: str = "") -> str:
    """An English count with its noun, "1 line" / "2 lines" / "1,200 lines" (``many`` for an irregular plural:
    "box", "boxes"). Korean counts need none: "3개", "3건"."""
    return f"{n:,} {one if n == 1 else many or one + 's'}"


# "3 item(s)", "1 packing slip(s)": a number, one or two words, then "(s)"
_COUNTED = re.compile(r"(?<![\w.,])(\d[\d,]*)((?: [A-Za-z]+){1,2})\(s\)")


def counted(text: str) -> str:
    """An English text's "{n} word(s)" with the number filled in, said as English says it: "1 item", "2 items"
    (templates in the catalogue are written once for any count)."""
    return _COUNTED.sub(lambda m: m[1] + m[2] + ("" if m[1] == "1" else "s"), text)


def known(code: str) -> bool:
    return code in CATALOGUE


def words(code: str, params: Mapping[str, Any] | None = None) -> Words:
    """The code's words in both languages, filled in; a code with no words says "something went wrong"."""
    ko, en = CATALOGUE.get(code) or CATALOGUE["error"]
    return Words(fill(ko, params, 0), fill(en, params, 1))


def render(code: str, params: Mapping[str, Any] | None = None, language: Language = "ko") -> str:
    """The one renderer: ``(code, params, language) -> text``."""
    return words(code, params)[language == "en"]


def bilingual(code: str, params: Mapping[str, Any] | None = None, sep: str = " / ") -> str:
    """Korean first, then English, for what leaves the warehouse or is read later (exports, the evidence
    sheet, failure files), whatever the screen language."""
    return sep.join(words(code, params))


def label(namespace: str, value: str) -> Words:
    """A value's label (``KIND``, ``OUTCOME``, ``MARKET``…); a value with none as itself."""
    return CATALOGUE.get(f"{namespace}.{value}") or Words(str(value), str(value))


def reason(code: str) -> Words:
    """A refusal reason's short name (a scan's stored reason); an unknown code as itself."""
    return label(REASON, code)


def item_words(name: str, option: str) -> str:
    """An item as the packer tells it from its neighbours: "오버핏 티셔츠 · 블랙 / L"."""
    return f"{name} · {option}" if option else name


def station_words(code: str, params: Mapping[str, Any]) -> Words:
    """A station message: its code's words with the station's own variants — an item named with its option,
    "already packed" with when, where and by whom, a deactivated packer's sign-out, why the recorder cannot
    record (``problem``) and why a label was refused (``check``, in the tracking check's words)."""
    ko, en = CATALOGUE[code]
    p = dict(params)
    if "name" in p:
        p["item"] = item_words(str(p["name"]), str(p.get("option") or ""))
    if "condition" in p:  # a returned item's condition (core/returns.py), in its words
        p["condition"] = tuple(label(CONDITION, str(p["condition"])))
    if code == "waybill_already_packed" and p.get("station"):
        ko, en = ALREADY_PACKED_BY
    if "signed_out" in p:
        ko, en = ko + SIGNED_OUT[0], en + SIGNED_OUT[1]
    problem = CATALOGUE.get(f"{PROBLEM}.{p.pop('problem', '')}", Words("", ""))
    check = str(p.pop("check", ""))
    detail = words(check, p) if check in _TRACKING else Words("", "")
    return Words(fill(ko, {**p, "problem": problem.ko, "detail": detail.ko}, 0),
                 fill(en, {**p, "problem": problem.en, "detail": detail.en}, 1))
