"""The check every tracking number passes before it binds to a parcel: at import, at the station, when typed.

A misread label (a smudged bar, a scanner that dropped a digit) must be refused before it binds: the buyer
would get another parcel's tracking and the marketplace a number that never moves. What the couriers'
numbers follow, as measured on public numbers:

- CJ대한통운, 한진, 롯데 (12 digits) and 로젠 (11 digits): the last digit is the number without it, mod 7
  (11 of 11 public samples). CJ and 한진 also issued 10-digit numbers, which follow the same rule.
- 우체국: 13 digits, no check digit that we know of.
- other Korean couriers: digits only, 8 to 20 of them (no rule we could verify);
- international couriers (EMS, DHL, FedEx, UPS) and registered mail: letters and digits, 8 to 30.

Hyphens and spaces (as labels print them) are removed first. The check digit is set per courier to
``refuse`` (the default) or ``warn`` (a seller whose courier issues numbers outside the rule can still
bind them, and is told each time). Pure: no database, so the same check runs everywhere a number enters.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

REFUSE = "refuse"
WARN = "warn"

_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015\u2212]")  # spaces, hyphens and the dashes a sheet may hold


@dataclass(frozen=True)
class Rule:
    lengths: tuple[int, ...]
    mod7: bool = False           # last digit = the number without it, mod 7
    digits_only: bool = True


MOD7_LENGTHS = {"CJGLS": (10, 12), "HANJIN": (10, 12), "HYUNDAI": (12,), "KGB": (11,)}
RULES: Mapping[str, Rule] = {
    **{code: Rule(lengths, mod7=True) for code, lengths in MOD7_LENGTHS.items()},
    "EPOST": Rule((13,)),
    "REGISTPOST": Rule((13,)),
}
_DOMESTIC = Rule(tuple(range(8, 21)))
_INTERNATIONAL = Rule(tuple(range(8, 31)), digits_only=False)
INTERNATIONAL = frozenset({"EMS", "DHL", "FEDEX", "UPS"})

DEFAULT_CHECK_DIGIT: Mapping[str, str] = {code: REFUSE for code in MOD7_LENGTHS}

# why a number is refused, in words people read (Korean, English): ui/messages.py renders them, and the Excel
# importers put them in their failure files
def rule_for(courier_code: str) -> Rule:
    if courier_code in RULES:
        return RULES[courier_code]
    return _INTERNATIONAL if courier_code in INTERNATIONAL else _DOMESTIC


@dataclass(frozen=True)
class TrackingCheck:
    """``number``: the number as it will be stored (separators removed, upper case). ``problem``: why it is
    refused ("" = accepted). ``warning``: accepted, but a person should look (a check digit set to warn)."""

    number: str
    problem: str = ""
    warning: str = ""
    params: Mapping[str, Any] | None = None  # the message's placeholders, as KnownError takes them

    @property
    def ok(self) -> bool:
        return not self.problem


def normalize(raw: str) -> str:
    """What a label, a sheet or a person gives, as stored: separators removed, upper case."""
    return _SEPARATORS.sub("", unicodedata.normalize("NFKC", raw or "")).upper()  # NFKC: full-width digits


def mod7_ok(number: str) -> bool:
    return len(number) >= 2 and number.isdigit() and int(number[:-1]) % 7 == int(number[-1])


def check(raw: str, courier_code: str, check_digit: Mapping[str, str] | None = None) -> TrackingCheck:
    """Is ``raw`` a tracking number ``courier_code`` can have issued? ``check_digit``: courier -> ``refuse``
    or ``warn`` (missing couriers: :data:`DEFAULT_CHECK_DIGIT`)."""
    number = normalize(raw)
    rule = rule_for(courier_code)
    lengths = f"{rule.lengths[0]}" if len(rule.lengths) == 1 else (
        f"{rule.lengths[0]}~{rule.lengths[-1]}" if rule.lengths == tuple(range(rule.lengths[0], rule.lengths[-1] + 1))
        else ", ".join(str(n) for n in rule.lengths))
    params = {"number": number, "courier": courier_code, "lengths": lengths}
    if not number:
        return TrackingCheck(number, "tracking_empty", params=params)
    if rule.digits_only and not number.isdigit():
        return TrackingCheck(number, "tracking_not_digits", params=params)
    if not rule.digits_only and not number.isalnum():
        return TrackingCheck(number, "tracking_bad_characters", params=params)
    if not number.isascii():
        return TrackingCheck(number, "tracking_bad_characters", params=params)
    if len(number) not in rule.lengths:
        return TrackingCheck(number, "tracking_length", params={**params, "length": len(number)})
    if rule.mod7 and not mod7_ok(number):
        mode = {**DEFAULT_CHECK_DIGIT, **(check_digit or {})}.get(courier_code, REFUSE)
        if mode == WARN:
            return TrackingCheck(number, warning="tracking_check_digit", params=params)
        return TrackingCheck(number, "tracking_check_digit", params=params)
    return TrackingCheck(number, params=params)


def with_check_digit(body: str) -> str:
    """``body`` + its mod-7 check digit: makes valid numbers for tests, fakes and the demo shop."""
    return f"{body}{int(body) % 7}"
