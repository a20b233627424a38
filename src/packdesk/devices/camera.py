"""The camera: one capture thread that stays open between packs.

It keeps the latest frame (for the live preview), a pre-roll ring of the last few seconds (so the
seconds before the waybill scan are in the video), and hands every frame to whoever is recording.
Sources go through one code path: a webcam index, a video file (looped: the demo and the tests), an IP
camera URL, or ``synthetic`` (a generated table scene, for a PC with no camera at all).
"""

from __future__ import annotations

import collections
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

import cv2
import numpy as np

log = logging.getLogger("packdesk.camera")

# HD: modern webcams give 1280x720 or 1920x1080, and a packer's label must be readable in a claim
RESOLUTIONS: dict[str, tuple[int, int]] = {"320x240": (320, 240), "640x480": (640, 480), "800x600": (800, 600),
                                           "1280x720": (1280, 720), "1920x1080": (1920, 1080)}
SYNTHETIC = "synthetic"
AUTO = "auto"  # the first webcam, looked for again at every (re)open: none is "No camera", never a cartoon
NO_CAMERA = "카메라 없음 / No camera"
SYNTHETIC_NOISY = "synthetic-noisy"  # with sensor-like noise: what the benchmark encodes


@dataclass(frozen=True)
class Frame:
    image: np.ndarray  # BGR, the configured size
    at: datetime       # wall clock (UTC) when captured: burned into the overlay
    mono: float        # monotonic seconds: for pre-roll and latency


class FrameSource(Protocol):
    def read(self) -> np.ndarray | None: ...

    def close(self) -> None: ...


class SyntheticSource:
    """A packing table seen from above: a textured board, a box being filled, a moving hand. Cheap to make,
    and changes every frame so an encoder has real work to do."""

    def __init__(self, size: tuple[int, int], noise: float = 0.0) -> None:
        w, h = size
        rnd = np.random.default_rng(7)
        # sensor-like noise from a small bank made once (making it per frame would cost more than encoding)
        self._noise = [np.clip(rnd.normal(0, noise, (h, w, 3)), -128, 127).astype(np.int16) for _ in range(8)] \
            if noise > 0 else []
        board: np.ndarray = rnd.integers(90, 140, size=(h, w, 3), dtype=np.uint8)
        board = cv2.GaussianBlur(board, (0, 0), 3)
        cv2.rectangle(board, (w // 4, h // 4), (3 * w // 4, 3 * h // 4), (60, 110, 170), -1)  # the box
        self._board = board
        self._size = size
        self._n = 0

    def read(self) -> np.ndarray | None:
        w, h = self._size
        f = self._board.copy()
        t = self._n / 30.0
        cx = int(w / 2 + w / 3 * np.sin(t * 1.3))
        cy = int(h / 2 + h / 4 * np.cos(t * 0.9))
        cv2.circle(f, (cx, cy), max(8, w // 16), (190, 200, 230), -1)  # a hand
        cv2.rectangle(f, (cx - w // 20, cy + w // 30), (cx + w // 20, cy + w // 10), (30, 160, 60), -1)  # an item
        if self._noise:
            f = cv2.add(f, self._noise[self._n % len(self._noise)], dtype=cv2.CV_8U)
        self._n += 1
        return f

    def close(self) -> None:
        pass


class OpenCvSource:
    """Webcam index, file or URL through cv2.VideoCapture. Files loop, so a short clip can stand in for a
    camera that never stops."""

    def __init__(self, spec: str, size: tuple[int, int], fps: float) -> None:
        self.spec = spec
        self._is_file = not spec.isdigit() and "://" not in spec
        target: int | str = int(spec) if spec.isdigit() else spec
        if self._is_file:
            # decoded on this thread alone: FFmpeg's frame threads (one per core) cost ~25 % more CPU per frame
            # on a two-core PC, waking each other 30 times a second (2026-12-07: 1.18 against 1.47 ms a frame at
            # 640x480), and the recorder has the other core's work to do
            self._cap = cv2.VideoCapture(target, cv2.CAP_FFMPEG, [cv2.CAP_PROP_N_THREADS, 1])
        else:
            self._cap = cv2.VideoCapture(target)
        if not self._cap.isOpened():
            raise CameraError(f"cannot open camera source {spec!r}")
        if not self._is_file:
            self._cap.set(cv2.CAP_PROP_FRAME_WIDTH, size[0])
            self._cap.set(cv2.CAP_PROP_FRAME_HEIGHT, size[1])
            self._cap.set(cv2.CAP_PROP_FPS, fps)

    @property
    def decoder_threads(self) -> int:
        return int(self._cap.get(cv2.CAP_PROP_N_THREADS))

    def read(self) -> np.ndarray | None:
        ok, frame = self._cap.read()
        if not ok and self._is_file:
            self._cap.set(cv2.CAP_PROP_POS_FRAMES, 0)
            ok, frame = self._cap.read()
        return frame if ok else None

    def close(self) -> None:
        self._cap.release()


class CameraError(Exception):
    pass


class NoCamera(CameraError):
    """No webcam answered. Said as it is: a proof-of-packing video of the synthetic scene would be a lie."""


def open_source(spec: str, size: tuple[int, int], fps: float) -> FrameSource:
    spec = spec.strip()
    if spec == AUTO:
        found = first_webcam()
        if found is None:
            raise NoCamera(NO_CAMERA)
        return OpenCvSource(found, size, fps)
    if spec == SYNTHETIC:
        return SyntheticSource(size)
    if spec == SYNTHETIC_NOISY:
        return SyntheticSource(size, noise=3.0)
    if not spec.isdigit() and "://" not in spec and not Path(spec).exists():
        raise CameraError(f"video file not found: {spec}")
    return OpenCvSource(spec, size, fps)


def first_webcam(candidates: tuple[str, ...] = ("0",)) -> str | None:
    """The first webcam index that opens (about 2 ms when there is none)."""
    for spec in candidates:
        cap = cv2.VideoCapture(int(spec))
        ok = cap.isOpened()
        cap.release()
        if ok:
            return spec
    return None


WEBCAM_INDEXES = ("0", "1", "2", "3")  # what the set-up offers; a station has one or two


def webcams(candidates: tuple[str, ...] = WEBCAM_INDEXES) -> list[str]:
    """The webcam indexes that open now (the settings screen lists these). Slow where a camera is found (a
    real one takes up to a second or two to open on Windows): call it off the UI thread."""
    return [spec for spec in candidates if first_webcam((spec,)) is not None]


def first_available_source(candidates: tuple[str, ...] = ("0",), *, demo: bool = False) -> str:
    """``camera.source = auto``: the first webcam; without one, the synthetic scene only in demo mode (the
    demo shop, so a PC without a camera still shows how packing is filmed), otherwise ``AUTO``: the camera
    says "No camera" and keeps looking, so a webcam plugged in later is used."""
    found = first_webcam(candidates)
    if found is None:  # OpenCV's own lines about it are quieted (native_logs.py): said here, in the log
        log.info("no webcam at index %s: %s", ", ".join(candidates),
                 "the demo films the synthetic scene" if demo else "No camera until one is plugged in")
    else:
        log.info("webcam found at index %s", found)
    return found or (SYNTHETIC if demo else AUTO)


class CameraState:
    STOPPED = "stopped"
    RUNNING = "running"
    FAILED = "failed"


class Camera:
    """Owns the capture thread. ``sink`` (set while recording) gets every frame, on the capture thread."""

    def __init__(self, spec: str, size: tuple[int, int] = (640, 480), fps: float = 30.0, pre_roll_s: float = 3.0,
                 on_status: Callable[[str, str], None] | None = None,
                 source_factory: Callable[[str, tuple[int, int], float], FrameSource] = open_source) -> None:
        self.spec, self.size, self.fps, self.pre_roll_s = spec, size, fps, pre_roll_s
        self._factory = source_factory
        self._on_status = on_status or (lambda state, detail: None)
        self._ring: collections.deque[Frame] = collections.deque(maxlen=max(1, int(pre_roll_s * fps)))
        self._lock = threading.Lock()
        self._latest: Frame | None = None
        self._sink: Callable[[Frame], None] | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.state = CameraState.STOPPED
        self.detail = ""
        self.frames_captured = 0

    # ------------------------------------------------------------------ control

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="packdesk-camera", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 3.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        self._set_state(CameraState.STOPPED, "")

    def latest(self) -> Frame | None:
        with self._lock:
            return self._latest

    def attach(self, sink: Callable[[Frame], None]) -> list[Frame]:
        """Start sending frames to ``sink``; returns the pre-roll (the seconds before this call), oldest
        first, atomically with the attach so no frame is lost or doubled between the two."""
        with self._lock:
            self._sink = sink
            return list(self._ring)

    def detach(self) -> None:
        with self._lock:
            self._sink = None

    # ------------------------------------------------------------------ thread

    def _set_state(self, state: str, detail: str) -> None:
        if (state, detail) != (self.state, self.detail):
            self.state, self.detail = state, detail
            self._on_status(state, detail)

    def _open(self) -> FrameSource | None:
        try:
            src = self._factory(self.spec, self.size, self.fps)
        except NoCamera as e:
            self._set_state(CameraState.FAILED, str(e))
            return None
        except Exception as e:
            self._set_state(CameraState.FAILED, f"카메라를 열 수 없음 / cannot open camera: {e}")
            return None
        self._set_state(CameraState.RUNNING, f"카메라 / camera: {self.spec}")
        return src

    def _run(self) -> None:
        period = 1.0 / self.fps
        src: FrameSource | None = None
        failures = 0
        next_t = time.monotonic()
        while not self._stop.is_set():
            if src is None:
                src = self._open()
                if src is None:
                    self._stop.wait(2.0)  # retry: a camera plugged back in comes back by itself
                    continue
                next_t = time.monotonic()
            img = src.read()
            if img is None:
                failures += 1
                if failures >= 10:
                    log.warning("camera %s stopped delivering frames", self.spec)
                    self._set_state(CameraState.FAILED, "카메라 연결 끊김 / camera disconnected")
                    src.close()
                    src = None
                    failures = 0
                continue
            failures = 0
            if (img.shape[1], img.shape[0]) != self.size:
                img = cv2.resize(img, self.size, interpolation=cv2.INTER_AREA)
            frame = Frame(img, datetime.now(UTC), time.monotonic())
            with self._lock:
                self._latest = frame
                self._ring.append(frame)
                sink = self._sink
                self.frames_captured += 1
            if sink is not None:
                sink(frame)
            # pace to the frame rate (files and the synthetic source would otherwise run flat out)
            next_t += period
            delay = next_t - time.monotonic()
            if delay > 0:
                self._stop.wait(delay)
            elif delay < -1.0:
                next_t = time.monotonic()  # fell far behind (machine busy): do not try to catch up
        if src is not None:
            src.close()
