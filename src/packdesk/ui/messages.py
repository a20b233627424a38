"""Station messages and errors in the screen's language.

The words of every code are in the one catalogue, ``core/words`` (no Qt: exports and the evidence sheet use it
too); this module gives the screens its (Korean, English) pairs and one line in the screen language
(``ui/i18n.py``).
"""

from __future__ import annotations

from packdesk.core import words
from packdesk.core.enums import ScanKind
from packdesk.core.errors import KnownError
from packdesk.core.station import Message
from packdesk.ui.i18n import both

# what was scanned, as the review names it ("송장 / waybill"; shown through ``tr``)
KIND_TEXT: dict[ScanKind, str] = {kind: " / ".join(words.label(words.KIND, kind)) for kind in ScanKind}
# parcel-level stops look unlike an item refusal (ui/station_view.py) and say where the parcel goes
HOLD_CODES = words.HOLD_CODES
HOLD_TEXT = words.HOLD
# an item scan that confirmed a count barcode (a multi-pack's units counted at once): "×12 (수량 확인)"
COUNTED_TEXT = " / ".join(words.COUNTED)


def reason_text(code: str) -> tuple[str, str]:
    """A refusal reason's short name; an unknown code shows as itself."""
    return words.reason(code)


def station_text(message: Message) -> tuple[str, str]:
    return words.station_words(message.code, message.params)


def error_text(error: KnownError) -> tuple[str, str]:
    return words.words(error.code, error.params)


def error_message(error: KnownError) -> str:
    """The error as one line in the screen's language."""
    return both(*error_text(error))
