"""Keyboard-wedge scan detection by key timing: pure, no Qt.

A wedge scanner is a keyboard that types very fast (2-10 ms a key) and ends with Enter. People type at
80 ms a key or slower. So printable keys are held back for at most ``max_gap_ms``: if the next key comes
sooner they form a burst; a burst of at least ``min_length`` characters ended by Enter is a scan and is
swallowed whole; anything else is released, in order, to the widget it was meant for (a person typing
sees their text ``max_gap_ms`` late, which nobody notices).

Each key keeps its key code and Shift state next to its text, so a scan is read from the keys pressed,
not from the text Hangul mode or Caps Lock made of them (``devices/hangul.py``). Input-method events
(Hangul composition) come in as keys with text and no key code: commits carry text, preedit updates
carry none but keep the burst's timing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from packdesk.devices.hangul import decode


@dataclass(frozen=True)
class WedgeConfig:
    max_gap_ms: float = 40.0
    min_length: int = 4
    prefix: str = ""   # stripped from a scan when present (scanner programmed to send one)
    suffix: str = ""   # likewise, before the Enter
    tab_ends_scan: bool = False  # some scanners are set to end with Tab instead of Enter

    def __post_init__(self) -> None:
        if not 5 <= self.max_gap_ms <= 200:
            raise ValueError("max_gap_ms must be between 5 and 200")
        if not 1 <= self.min_length <= 64:
            raise ValueError("min_length must be between 1 and 64")


@dataclass(frozen=True)
class Key:
    text: str            # what the key typed ("" for keys that type nothing)
    key: int             # the platform-independent key code (Qt.Key value)
    t_ms: float          # monotonic time of the press
    enter: bool = False  # Enter / Return
    tab: bool = False
    modifier: bool = False  # Shift, Ctrl, ... pressed alone: scanners press Shift for capitals
    shift: bool = False     # Shift held with this key: the scanner meant a capital, whatever Caps Lock says
    preedit: bool = False   # an input-method composition update: no text of its own yet
    token: object = field(default=None, compare=False)  # the caller's copy of the event, for replay


@dataclass(frozen=True)
class Decision:
    consume: bool                     # swallow this key
    release: tuple[Key, ...] = ()     # held keys to deliver first: they were typing after all
    scan: str | None = None           # a complete scan (this key ended it)
    keys: tuple[Key, ...] = ()        # the keys of that scan


class WedgeDetector:
    def __init__(self, config: WedgeConfig | None = None) -> None:
        self.config = config or WedgeConfig()
        self._held: list[Key] = []

    @property
    def holding(self) -> bool:
        return bool(self._held)

    @property
    def deadline_ms(self) -> float | None:
        """When the held keys stop being a possible scan; call ``expire`` then."""
        return self._held[-1].t_ms + self.config.max_gap_ms if self._held else None

    def expire(self, now_ms: float) -> tuple[Key, ...]:
        """Release the held keys if the burst is over (no key for ``max_gap_ms``)."""
        deadline = self.deadline_ms
        if deadline is None or now_ms < deadline:
            return ()
        return self._take()

    def flush(self) -> tuple[Key, ...]:
        """Release everything now (focus moved, window closing)."""
        return self._take()

    def feed(self, k: Key) -> Decision:
        release: tuple[Key, ...] = ()
        if self._held and k.t_ms - self._held[-1].t_ms > self.config.max_gap_ms:
            release = self._take()
        if k.modifier:
            return Decision(False, release)
        if k.preedit:
            if not self._held:
                return Decision(False, release)  # a person composing Hangul: let the widget show it
            self._held.append(k)  # inside a burst: part of the scan's timing, no text
            return Decision(True, release)
        ends = k.enter or (k.tab and self.config.tab_ends_scan)
        if ends:
            if self._held:
                code = self._clean(decode((h.key, h.shift, h.text) for h in self._held))
                if len(code) >= self.config.min_length:
                    keys = self._take()
                    return Decision(True, release, code, keys)
                release = (*release, *self._take())
            return Decision(False, release)
        if k.text and k.text.isprintable():
            self._held.append(k)
            return Decision(True, release)
        # Backspace, arrows, function keys: a person is typing
        return Decision(False, (*release, *self._take()))

    def _take(self) -> tuple[Key, ...]:
        held, self._held = tuple(self._held), []
        return held

    def _clean(self, code: str) -> str:
        c = self.config
        if c.prefix and code.startswith(c.prefix):
            code = code[len(c.prefix):]
        if c.suffix and code.endswith(c.suffix):
            code = code[: -len(c.suffix)]
        return code.strip()
