"""The wedge detector, fed key streams with scanner and human timing."""

import pytest

from packdesk.devices.wedge import Decision, Key, WedgeConfig, WedgeDetector

ENTER = 0x01000004


def keys(text: str, start: float = 0.0, gap: float = 3.0) -> list[Key]:
    return [Key(ch, ord(ch.upper()), start + i * gap, shift=ch.isupper()) for i, ch in enumerate(text)]


def run(det: WedgeDetector, stream: list[Key]) -> tuple[list[str], list[str]]:
    """Feed keys (with expiry between them like the Qt timer does); return (scans, text released/passed)."""
    scans: list[str] = []
    typed: list[str] = []
    for k in stream:
        typed.extend(h.text for h in det.expire(k.t_ms))
        d = det.feed(k)
        typed.extend(h.text for h in d.release)
        if d.scan is not None:
            scans.append(d.scan)
        elif not d.consume and not k.preedit:  # a passed preedit update shows composition, types nothing
            typed.append("⏎" if k.enter else k.text)
    typed.extend(h.text for h in det.flush())
    return scans, typed


def enter(t: float) -> Key:
    return Key("\r", ENTER, t, enter=True)


def test_scanner_burst_with_enter_is_a_scan_and_swallowed() -> None:
    stream = keys("601000000011")
    scans, typed = run(WedgeDetector(), [*stream, enter(stream[-1].t_ms + 3)])
    assert scans == ["601000000011"] and typed == []


def test_human_typing_is_released_in_order() -> None:
    stream = keys("abc12", gap=120)
    scans, typed = run(WedgeDetector(), [*stream, enter(stream[-1].t_ms + 150)])
    assert scans == [] and typed == ["a", "b", "c", "1", "2", "⏎"]


def test_fast_human_burst_without_enter_is_released() -> None:
    det = WedgeDetector()
    for k in keys("hel", gap=20):
        assert det.feed(k).consume
    assert det.deadline_ms == 40 + 40
    assert det.expire(79) == ()
    assert [k.text for k in det.expire(80)] == ["h", "e", "l"] and not det.holding


def test_short_burst_with_enter_is_not_a_scan() -> None:
    stream = keys("ok")
    scans, typed = run(WedgeDetector(), [*stream, enter(6)])
    assert scans == [] and typed == ["o", "k", "⏎"]


def test_shift_between_keys_does_not_break_a_scan() -> None:
    stream = [Key("M", 77, 0, shift=True), Key("", 0x01000020, 1, modifier=True), Key("U", 85, 2, shift=True),
              Key("G", 71, 4, shift=True),
              Key("-", 45, 6), Key("1", 49, 8), enter(10)]
    scans, _ = run(WedgeDetector(), stream)
    assert scans == ["MUG-1"]


def test_slow_gap_splits_typing_from_following_scan() -> None:
    stream = [Key("x", 88, 0), *keys("8801234000017", start=500), enter(500 + 13 * 3)]
    scans, typed = run(WedgeDetector(), stream)
    assert scans == ["8801234000017"] and typed == ["x"]


def test_backspace_releases_held_keys_and_passes() -> None:
    det = WedgeDetector()
    det.feed(Key("a", 65, 0))
    d = det.feed(Key("", 0x01000003, 5))
    assert d == Decision(False, (Key("a", 65, 0),))


def test_prefix_suffix_and_tab_terminator() -> None:
    det = WedgeDetector(WedgeConfig(prefix="]C1", suffix="#", tab_ends_scan=True))
    stream = [*keys("]C1ABC-123#"), Key("\t", 0x01000001, 40, tab=True)]
    scans, _ = run(det, stream)
    assert scans == ["ABC-123"]
    plain = WedgeDetector()  # Tab is an ordinary key unless configured
    scans, typed = run(plain, [*keys("ABCD"), Key("\t", 0x01000001, 12, tab=True)])
    assert scans == [] and typed == ["A", "B", "C", "D", "\t"]


def test_enter_alone_passes() -> None:
    assert WedgeDetector().feed(enter(0)) == Decision(False)


def test_scan_keeps_its_keys_for_decoding() -> None:
    det = WedgeDetector()
    for k in keys("ABCD"):
        det.feed(k)
    d = det.feed(enter(20))
    assert d.scan == "ABCD" and [k.key for k in d.keys] == [65, 66, 67, 68]


@pytest.mark.parametrize("kw", [{"max_gap_ms": 1}, {"max_gap_ms": 500}, {"min_length": 0}])
def test_bad_config_is_refused(kw: dict) -> None:  # type: ignore[type-arg]
    with pytest.raises(ValueError):
        WedgeConfig(**kw)


def test_hangul_mode_input_method_commits_decode_to_the_barcode() -> None:
    """MUG-WH-01 through a Hangul IME: preedit updates and syllable commits at scanner speed."""
    t = iter(range(0, 1000, 3))
    stream = [
        Key("", 0, next(t), preedit=True), Key("ㅡ", 0, next(t)), Key("", 0, next(t), preedit=True),
        Key("ㅕ", 0, next(t)), Key("", 0, next(t), preedit=True), Key("ㅎ", 0, next(t)),
        Key("-", 0x2D, next(t)), Key("", 0, next(t), preedit=True), Key("쪼", 0, next(t)),
        Key("-", 0x2D, next(t)), Key("0", 0x30, next(t)), Key("1", 0x31, next(t)), enter(next(t)),
    ]
    scans, typed = run(WedgeDetector(), stream)
    assert scans == ["mug-Wh-01"] and typed == []  # case resolved later, case-insensitively


def test_hangul_key_events_decode_by_key_code() -> None:
    # Hangul mode delivering key events (key code known): exact, capitals included
    stream = [Key("ㅡ", 0x4D, 0, shift=True), Key("ㅕ", 0x55, 3, shift=True), Key("ㅎ", 0x47, 6, shift=True),
              Key("-", 0x2D, 9), Key("ㅉ", 0x57, 12, shift=True), Key("ㅗ", 0x48, 15, shift=True), enter(18)]
    assert run(WedgeDetector(), stream)[0] == ["MUG-WH"]


def test_caps_lock_inverted_text_decodes_by_shift() -> None:
    # Caps Lock on: the scanner presses Shift for capitals, the OS types them lower-case
    stream = [Key("m", 0x4D, 0, shift=True), Key("U", 0x55, 3), Key("G", 0x47, 6), Key("-", 0x2D, 9),
              Key("1", 0x31, 12), enter(15)]
    assert run(WedgeDetector(), stream)[0] == ["Mug-1"]


def test_a_person_composing_hangul_is_left_alone() -> None:
    det = WedgeDetector()
    assert det.feed(Key("", 0, 0, preedit=True)) == Decision(False)  # preedit shows at once
    assert det.feed(Key("한", 0, 200)).consume                      # a commit is held 40 ms ...
    assert [k.text for k in det.expire(241)] == ["한"]              # ... then given back
