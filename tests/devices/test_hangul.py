"""2-beolsik decoding: whatever Hangul an input method made of a scanner's keys, the keys come back."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from packdesk.devices.hangul import KEY_TO_JAMO, decode, decompose, hangul_to_keys, key_char
from tests.fakes.hangul_ime import events

# what a Hangul input method makes of a scanner typing each code (jamo as typed, and composed)
CASES = [
    ("mug-wh-01", "ㅡㅕㅎ-ㅈㅗ-01", "ㅡㅕㅎ-조-01"),
    ("dkssud", "ㅇㅏㄴㄴㅕㅇ", "안녕"),
    ("ts-blk-m", "ㅅㄴ-ㅠㅣㅏ-ㅡ", "ㅅㄴ-ㅠㅣㅏ-ㅡ"),  # no syllable can form: stays jamo
    ("sk-gks", "ㄴㅏ-ㅎㅏㄴ", "나-한"),
    ("rkqt", "ㄱㅏㅂㅅ", "값"),
    ("ghkdlxld", "ㅎㅗㅏㅇㅣㅌㅣㅇ", "화이팅"),
    ("dml", "ㅇㅡㅣ", "의"),
    ("rt", "ㄱㅅ", "ㄳ"),
]


@pytest.mark.parametrize(("keys", "jamo", "composed"), CASES)
def test_jamo_and_composed_syllables_give_back_the_keys(keys: str, jamo: str, composed: str) -> None:
    assert hangul_to_keys(jamo) == keys
    assert hangul_to_keys(composed) == keys


def test_shift_carrying_jamo_keep_their_capitals() -> None:
    # MUG-WH-01 in Hangul mode: M,U,G lose their case (ㅡㅕㅎ), W keeps it (ㅉ)
    assert hangul_to_keys("ㅡㅕㅎ-쪼-01") == "mug-Wh-01"
    assert hangul_to_keys("ㅃㅉㄸㄲㅆㅒㅖ") == "QWERTOP"


def test_every_layout_key_round_trips() -> None:
    for key, jamo in KEY_TO_JAMO.items():
        assert hangul_to_keys(jamo) == key


def test_conjoining_jamo_from_preedit() -> None:
    assert decompose("\u1112\u1161\u11ab") == "ㅎㅏㄴ" and hangul_to_keys("\u1112\u1161\u11ab") == "gks"


def test_non_hangul_passes_through() -> None:
    assert hangul_to_keys("601000000011") == "601000000011"
    assert hangul_to_keys("PD-CMD-COMPLETE") == "PD-CMD-COMPLETE"


def test_key_events_decode_by_key_code_and_shift() -> None:
    A, M = 0x41, 0x4D
    assert key_char(M, True, "m") == "M"      # Caps Lock on: Shift+M typed "m"; the scanner meant "M"
    assert key_char(M, False, "M") == "m"
    assert key_char(M, True, "ㅡ") == "M"     # Hangul mode, but we have the key: case is known
    assert key_char(A, False, "ㅁ") == "a"
    assert key_char(0x2D, False, "-") == "-"
    assert key_char(0, False, "쪼") == "Wh"   # input-method commit: text only
    assert decode([(M, True, "m"), (0x55, True, "u"), (0x47, True, "g"), (0x2D, False, "-"), (0x31, False, "1")]) \
        == "MUG-1"


def _case_text_keeps(code: str) -> str:
    """What survives Hangul text: letters lose case, except the Shift jamo keys QWERTOP."""
    return "".join(c if c in "QWERTOP" or not c.isalpha() else c.lower() for c in code)



@settings(max_examples=400, deadline=None)
@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.", min_size=1,
               max_size=24), st.booleans())
def test_decoding_inverts_the_input_method(code: str, composed: bool) -> None:
    typed = "".join(t for kind, t in events(code, composed) if kind in ("commit", "key"))
    assert hangul_to_keys(typed) == _case_text_keeps(code)
