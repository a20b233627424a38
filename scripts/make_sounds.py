"""Makes the station's feedback sounds (resources/sounds/*.wav): short, loud, and unlike each other,
so a packer knows by ear what happened without looking. Re-run after changing a recipe."""

from __future__ import annotations

import math
import struct
import wave
from pathlib import Path

RATE = 22050
OUT = Path(__file__).resolve().parents[1] / "resources" / "sounds"


def tone(freq: float, ms: int, *, square: bool = False, volume: float = 0.6) -> list[float]:
    n = int(RATE * ms / 1000)
    fade = min(n // 2, int(RATE * 0.008))  # 8 ms fades: no clicks
    out = []
    for i in range(n):
        s = math.sin(2 * math.pi * freq * i / RATE)
        if square:
            s = 0.6 if s >= 0 else -0.6
        env = min(1.0, i / fade if fade else 1.0, (n - i) / fade if fade else 1.0)
        out.append(volume * s * env)
    return out


def silence(ms: int) -> list[float]:
    return [0.0] * int(RATE * ms / 1000)


RECIPES = {
    "ok": tone(880, 90) + tone(1320, 120),                                   # rising two-note: accepted
    "item": tone(1600, 70),                                                  # one short high blip per item
    "complete": tone(1047, 110) + tone(1319, 110) + tone(1568, 110) + tone(2093, 260),  # arpeggio: done
    "error": tone(180, 260, square=True, volume=0.8) + silence(60) + tone(180, 260, square=True, volume=0.8),
    "warning": tone(988, 150) + silence(40) + tone(740, 220),                # falling two-note: look
    # three quick rising notes, twice: the items are in, the label is wanted (unlike "all done")
    "label": (tone(659, 80) + tone(880, 80) + tone(1175, 120) + silence(90)) * 2,
}


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for name, samples in RECIPES.items():
        with wave.open(str(OUT / f"{name}.wav"), "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(RATE)
            w.writeframes(b"".join(struct.pack("<h", int(max(-1, min(1, s)) * 32000)) for s in samples))
        print(OUT / f"{name}.wav", len(samples) / RATE, "s")


if __name__ == "__main__":
    main()
