"""A fake 2-beolsik Hangul input method: what Windows' Korean IME makes of a scanner's key presses.

Letters become jamo (Shift only matters for ㅃㅉㄸㄲㅆㅒㅖ); jamo compose into syllables with the standard
automaton (a final consonant moves to the next syllable when a vowel follows, compound vowels and
finals combine); digits and punctuation are not composed: they commit what is pending and arrive as
key presses. ``events(code)`` gives that stream: ("preedit", text) / ("commit", text) / ("key", ch).
Written from the layout, independently of ``packdesk.devices.hangul`` (which reads it back).
"""

from __future__ import annotations

LAYOUT = {
    "q": "ㅂ", "w": "ㅈ", "e": "ㄷ", "r": "ㄱ", "t": "ㅅ", "y": "ㅛ", "u": "ㅕ", "i": "ㅑ", "o": "ㅐ", "p": "ㅔ",
    "a": "ㅁ", "s": "ㄴ", "d": "ㅇ", "f": "ㄹ", "g": "ㅎ", "h": "ㅗ", "j": "ㅓ", "k": "ㅏ", "l": "ㅣ",
    "z": "ㅋ", "x": "ㅌ", "c": "ㅊ", "v": "ㅍ", "b": "ㅠ", "n": "ㅜ", "m": "ㅡ",
}
SHIFTED = {"q": "ㅃ", "w": "ㅉ", "e": "ㄸ", "r": "ㄲ", "t": "ㅆ", "o": "ㅒ", "p": "ㅖ"}
CHO = "ㄱㄲㄴㄷㄸㄹㅁㅂㅃㅅㅆㅇㅈㅉㅊㅋㅌㅍㅎ"
JUNG = "ㅏㅐㅑㅒㅓㅔㅕㅖㅗㅘㅙㅚㅛㅜㅝㅞㅟㅠㅡㅢㅣ"
JONG = ["", "ㄱ", "ㄲ", "ㄳ", "ㄴ", "ㄵ", "ㄶ", "ㄷ", "ㄹ", "ㄺ", "ㄻ", "ㄼ", "ㄽ", "ㄾ", "ㄿ", "ㅀ", "ㅁ", "ㅂ", "ㅄ",
        "ㅅ", "ㅆ", "ㅇ", "ㅈ", "ㅊ", "ㅋ", "ㅌ", "ㅍ", "ㅎ"]
VOWEL_PAIRS = {("ㅗ", "ㅏ"): "ㅘ", ("ㅗ", "ㅐ"): "ㅙ", ("ㅗ", "ㅣ"): "ㅚ", ("ㅜ", "ㅓ"): "ㅝ", ("ㅜ", "ㅔ"): "ㅞ",
               ("ㅜ", "ㅣ"): "ㅟ", ("ㅡ", "ㅣ"): "ㅢ"}
FINAL_PAIRS = {("ㄱ", "ㅅ"): "ㄳ", ("ㄴ", "ㅈ"): "ㄵ", ("ㄴ", "ㅎ"): "ㄶ", ("ㄹ", "ㄱ"): "ㄺ", ("ㄹ", "ㅁ"): "ㄻ",
               ("ㄹ", "ㅂ"): "ㄼ", ("ㄹ", "ㅅ"): "ㄽ", ("ㄹ", "ㅌ"): "ㄾ", ("ㄹ", "ㅍ"): "ㄿ", ("ㄹ", "ㅎ"): "ㅀ",
               ("ㅂ", "ㅅ"): "ㅄ"}
SPLIT_FINAL = {v: k for k, v in FINAL_PAIRS.items()}


def jamo_of(ch: str) -> str | None:
    if ch.isascii() and ch.isalpha():
        return SHIFTED.get(ch.lower(), LAYOUT[ch.lower()]) if ch.isupper() else LAYOUT[ch]
    return None


class Ime:
    def __init__(self) -> None:
        self.cho = self.jung = self.jong = ""
        self.out: list[tuple[str, str]] = []

    def text(self) -> str:
        if self.cho and self.jung:
            return chr(0xAC00 + (CHO.index(self.cho) * 21 + JUNG.index(self.jung)) * 28 + JONG.index(self.jong))
        return self.cho or self.jung

    def commit(self) -> None:
        t = self.text()
        if t:
            self.out.append(("commit", t))
        self.cho = self.jung = self.jong = ""

    def consonant(self, j: str) -> None:
        if self.cho and self.jung and not self.jong and j in JONG:
            self.jong = j
        elif self.jong and (self.jong, j) in FINAL_PAIRS:
            self.jong = FINAL_PAIRS[(self.jong, j)]
        else:
            self.commit()
            self.cho = j

    def vowel(self, j: str) -> None:
        if self.jong:
            keep, move = SPLIT_FINAL.get(self.jong, ("", self.jong))
            self.jong = keep
            self.commit()
            self.cho, self.jung = move, j
        elif self.jung and (self.jung, j) in VOWEL_PAIRS:
            self.jung = VOWEL_PAIRS[(self.jung, j)]
        elif self.cho and not self.jung:
            self.jung = j
        else:
            self.commit()
            self.jung = j

    def feed(self, ch: str) -> None:
        j = jamo_of(ch)
        if j is None:
            self.commit()
            self.out.append(("key", ch))
            return
        (self.vowel if j in JUNG else self.consonant)(j)
        self.out.append(("preedit", self.text()))


def events(code: str, composed: bool = True) -> list[tuple[str, str]]:
    """The input-method stream for ``code`` typed in Hangul mode. ``composed=False``: an input method that
    commits every jamo as it comes (no syllables)."""
    ime = Ime()
    if not composed:
        for ch in code:
            j = jamo_of(ch)
            ime.out += [("preedit", j), ("commit", j)] if j else [("key", ch)]
        return ime.out
    for ch in code:
        ime.feed(ch)
    ime.commit()  # Enter commits the last syllable
    return ime.out
