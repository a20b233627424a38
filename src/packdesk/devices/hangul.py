"""Reading a barcode back from what a Korean keyboard state made of it (pure, no Qt).

A wedge scanner presses keys. In Hangul mode (2-beolsik, the standard Korean layout) those keys become
jamo, which the input method may compose into syllables: ``MUG-WH-01`` arrives as ``ㅡㅕㅎ-쪼-01``. With
Caps Lock on, the scanner's Shift inverts case. This module turns both back into the keys pressed:

- from key events, the key code plus the Shift flag are the truth (text is not);
- from text only (input-method commits), each syllable is decomposed into its jamo and each jamo mapped
  to its 2-beolsik key; order is preserved, so syllable boundaries do not matter.

Text alone cannot tell ``M`` from ``m`` (Shift+M and M both type ㅡ); only the doubled consonants and
ㅒ/ㅖ carry Shift. Such codes are resolved case-insensitively by the station when no exact match exists.
"""

from __future__ import annotations

from collections.abc import Iterable

# 2-beolsik: key -> compatibility jamo
KEY_TO_JAMO = {
    "q": "ㅂ", "w": "ㅈ", "e": "ㄷ", "r": "ㄱ", "t": "ㅅ", "y": "ㅛ", "u": "ㅕ", "i": "ㅑ", "o": "ㅐ", "p": "ㅔ",
    "a": "ㅁ", "s": "ㄴ", "d": "ㅇ", "f": "ㄹ", "g": "ㅎ", "h": "ㅗ", "j": "ㅓ", "k": "ㅏ", "l": "ㅣ",
    "z": "ㅋ", "x": "ㅌ", "c": "ㅊ", "v": "ㅍ", "b": "ㅠ", "n": "ㅜ", "m": "ㅡ",
    "Q": "ㅃ", "W": "ㅉ", "E": "ㄸ", "R": "ㄲ", "T": "ㅆ", "O": "ㅒ", "P": "ㅖ",
}
JAMO_TO_KEYS: dict[str, str] = {j: k for k, j in KEY_TO_JAMO.items()}
# jamo that are typed as two keys
JAMO_TO_KEYS.update({
    "ㅘ": "hk", "ㅙ": "ho", "ㅚ": "hl", "ㅝ": "nj", "ㅞ": "np", "ㅟ": "nl", "ㅢ": "ml",
    "ㄳ": "rt", "ㄵ": "sw", "ㄶ": "sg", "ㄺ": "fr", "ㄻ": "fa", "ㄼ": "fq", "ㄽ": "ft", "ㄾ": "fx", "ㄿ": "fv",
    "ㅀ": "fg", "ㅄ": "qt",
})

INITIALS = "ㄱㄲㄴㄷㄸㄹㅁㅂㅃㅅㅆㅇㅈㅉㅊㅋㅌㅍㅎ"
MEDIALS = "ㅏㅐㅑㅒㅓㅔㅕㅖㅗㅘㅙㅚㅛㅜㅝㅞㅟㅠㅡㅢㅣ"
FINALS = ("", "ㄱ", "ㄲ", "ㄳ", "ㄴ", "ㄵ", "ㄶ", "ㄷ", "ㄹ", "ㄺ", "ㄻ", "ㄼ", "ㄽ", "ㄾ", "ㄿ", "ㅀ", "ㅁ", "ㅂ",
          "ㅄ", "ㅅ", "ㅆ", "ㅇ", "ㅈ", "ㅊ", "ㅋ", "ㅌ", "ㅍ", "ㅎ")
SYLLABLE_FIRST, SYLLABLE_LAST = 0xAC00, 0xD7A3
# conjoining jamo (some input methods put these in preedit text)
CONJOINING = {**{chr(0x1100 + i): j for i, j in enumerate(INITIALS)},
              **{chr(0x1161 + i): j for i, j in enumerate(MEDIALS)},
              **{chr(0x11A8 + i): j for i, j in enumerate(FINALS[1:])}}

# Qt key codes for A-Z are their upper-case ASCII codes
KEY_A, KEY_Z = 0x41, 0x5A


def is_hangul(ch: str) -> bool:
    return SYLLABLE_FIRST <= ord(ch) <= SYLLABLE_LAST or ch in JAMO_TO_KEYS or ch in CONJOINING


def decompose(text: str) -> str:
    """Syllables and conjoining jamo to compatibility jamo, in typing order; other characters unchanged."""
    out: list[str] = []
    for ch in text:
        code = ord(ch)
        if SYLLABLE_FIRST <= code <= SYLLABLE_LAST:
            s = code - SYLLABLE_FIRST
            out.append(INITIALS[s // 588])
            out.append(MEDIALS[(s % 588) // 28])
            out.append(FINALS[s % 28])
        else:
            out.append(CONJOINING.get(ch, ch))
    return "".join(out)


def hangul_to_keys(text: str) -> str:
    """The 2-beolsik keys that typed ``text`` (non-Hangul characters pass through)."""
    return "".join(JAMO_TO_KEYS.get(j, j) for j in decompose(text))


def key_char(key: int, shift: bool, text: str) -> str:
    """One key event to the character the scanner meant: letters by key code and Shift (immune to Caps
    Lock and to Hangul mode), everything else by its text, Hangul text mapped back to keys."""
    if KEY_A <= key <= KEY_Z:
        ch = chr(key)
        return ch if shift else ch.lower()
    if any(is_hangul(c) for c in text):
        return hangul_to_keys(text)
    return text


def decode(parts: Iterable[tuple[int, bool, str]]) -> str:
    """A scan from its keys: (key code or 0 when only text is known, Shift held, text)."""
    return "".join(key_char(key, shift, text) for key, shift, text in parts)
