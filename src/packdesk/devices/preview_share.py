"""The live preview's pictures, from the recorder process to the station window, through shared memory.

The recorder process owns the camera. Ten times a second it scales the latest frame down to the
preview's size (there, not in the station's process) and writes it here; the window copies the small
picture out when its number has changed. So the station's process never decodes, scales or encodes a full
frame, and neither side ever waits for the other: no lock, a ring of three slots. The writer fills the slot
after the published one, then publishes its number. A reader copies the published slot and looks at the
number again: if it moved on by two or more, the writer may have started over that slot, and the reader
takes the newer one instead.

The header also carries the camera's frame count (tests and benchmarks wait on it), and the size the station
shows the picture at (its window sets it when it is resized): the recorder process scales to it, so the
station only copies the picture onto the screen.
"""

from __future__ import annotations

from multiprocessing import shared_memory

import numpy as np

SLOTS = 3
_HEADER = 8  # uint64 words: published number, frames captured, wanted width, wanted height, spare
_SLOT_HEADER = 2  # uint64 words: width, height


class PreviewShare:
    """One shared-memory block: a header and ``SLOTS`` pictures of at most ``max_size`` (BGR)."""

    def __init__(self, shm: shared_memory.SharedMemory, max_size: tuple[int, int], owner: bool) -> None:
        self._shm = shm
        self.max_size = max_size
        self._owner = owner
        w, h = max_size
        self._slot_bytes = _SLOT_HEADER * 8 + w * h * 3
        self._header = np.ndarray((_HEADER,), np.uint64, shm.buf, 0)

    @property
    def name(self) -> str:
        return self._shm.name

    @classmethod
    def create(cls, max_size: tuple[int, int]) -> PreviewShare:
        """Made by the station (it outlives recorder processes that die and are started again)."""
        w, h = max_size
        shm = shared_memory.SharedMemory(create=True, size=_HEADER * 8 + SLOTS * (_SLOT_HEADER * 8 + w * h * 3))
        share = cls(shm, max_size, owner=True)
        share._header[:] = 0
        return share

    @classmethod
    def attach(cls, name: str, max_size: tuple[int, int]) -> PreviewShare:
        return cls(shared_memory.SharedMemory(name=name), max_size, owner=False)

    def _slot(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        offset = _HEADER * 8 + (n % SLOTS) * self._slot_bytes
        dims = np.ndarray((_SLOT_HEADER,), np.uint64, self._shm.buf, offset)
        w, h = self.max_size
        pixels = np.ndarray((h * w * 3,), np.uint8, self._shm.buf, offset + _SLOT_HEADER * 8)
        return dims, pixels

    # ------------------------------------------------------------------ the recorder process

    def write(self, picture: np.ndarray) -> None:
        """Publish ``picture`` (BGR, at most ``max_size``). One writer only."""
        h, w = picture.shape[:2]
        n = int(self._header[0]) + 1
        dims, pixels = self._slot(n)
        pixels[: h * w * 3] = picture.reshape(-1)
        dims[0], dims[1] = w, h
        self._header[0] = n  # published last: the slot is whole before anyone reads it

    def set_frames_captured(self, n: int) -> None:
        self._header[1] = n

    @property
    def wanted(self) -> tuple[int, int] | None:
        """The box the station shows the picture in (at most ``max_size``), or None before it said."""
        w, h = int(self._header[2]), int(self._header[3])
        return (min(w, self.max_size[0]), min(h, self.max_size[1])) if w and h else None

    # ------------------------------------------------------------------ the station

    def want(self, size: tuple[int, int]) -> None:
        """Show the pictures in a box of ``size`` from now on (the window was resized)."""
        self._header[2], self._header[3] = max(1, size[0]), max(1, size[1])

    @property
    def published(self) -> int:
        return int(self._header[0])

    @property
    def frames_captured(self) -> int:
        return int(self._header[1])

    def read(self, after: int = 0) -> tuple[int, np.ndarray] | None:
        """(number, a copy of the picture) when one newer than ``after`` is published, else None."""
        for _ in range(5):
            n = int(self._header[0])
            if n == 0 or n == after:
                return None
            dims, pixels = self._slot(n)
            w, h = int(dims[0]), int(dims[1])
            picture = pixels[: h * w * 3].copy().reshape(h, w, 3)
            if int(self._header[0]) - n < 2:  # the writer has not come round to this slot meanwhile
                return n, picture
        return None

    def close(self) -> None:
        """Detach; the station also removes the block (its owner)."""
        del self._header
        self._shm.close()
        if self._owner:
            self._shm.unlink()
