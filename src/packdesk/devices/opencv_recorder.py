"""The built-in recorder: camera frames -> overlay -> H.264 (libx264, PyAV) in MPEG-TS, flushed per packet.

Why this format (measured in shared/FINDINGS.md and again by bench/recording.py and the SIGKILL test):
- MPEG-TS with ``flush_packets=1`` is readable up to the last packet after a kill or power cut; what is
  lost is bounded by x264's lookahead (~0.4 s). A plain .mp4 loses everything (no moov atom).
- H.264 veryfast/crf 28 costs ~50-60 MB an hour at 640x480 (the opencv-python wheel's own writer has no
  H.264: its MPEG-4 Part 2 costs ~1 GB an hour).
- QtMultimedia, VLC, PotPlayer and the Windows "Movies & TV" player play H.264 in .ts.

Threads: the camera's capture thread hands frames to a bounded queue (never blocking capture: a full
queue drops and counts); one encoder thread per recording draws the overlay and encodes. The UI thread
only calls ``start``/``stop``, which return at once.
"""

from __future__ import annotations

import logging
import queue
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

from packdesk.core.chain import file_digest
from packdesk.core.enums import PackOutcome
from packdesk.core.filenames import safe_file_part
from packdesk.core.kst import kst
from packdesk.devices.camera import Camera, CameraState, Frame
from packdesk.devices.recorder import (
    RecorderEvent,
    RecorderState,
    RecordingFailed,
    RecordingFinished,
    RecordingJob,
    RecordingStarted,
)

log = logging.getLogger("packdesk.recorder.opencv")

VIDEO_SUFFIX = ".ts"
# Renders a line of text (Korean allowed) as a BGR image of the given height; cv2.putText has no Hangul.
LabelRenderer = Callable[[str, int], np.ndarray]


@dataclass(frozen=True)
class EncoderSettings:
    preset: str = "veryfast"
    crf: int = 28
    threads: int = 1


def ascii_label(text: str, height: int) -> np.ndarray:
    """Fallback label renderer: cv2 text, non-ASCII shown as '?'."""
    safe = text.encode("ascii", "replace").decode()
    scale = height / 40
    (w, _), _ = cv2.getTextSize(safe, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)
    img = np.zeros((height, w + 8, 3), np.uint8)
    cv2.putText(img, safe, (4, int(height * 0.72)), cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), 1,
                cv2.LINE_AA)
    return img


def video_path(root: Path, job: RecordingJob) -> Path:
    """``root/YYYY-MM-DD/<waybill>_<HHMMSS>.ts`` in Korea time (``core.kst``); never overwrites."""
    local = kst(job.started_at)
    safe = safe_file_part(job.tracking_number)
    folder = root / local.strftime("%Y-%m-%d")
    path = folder / f"{safe}_{local.strftime('%H%M%S')}{VIDEO_SUFFIX}"
    n = 2
    while path.exists():
        path = folder / f"{safe}_{local.strftime('%H%M%S')}_{n}{VIDEO_SUFFIX}"
        n += 1
    return path


class Overlay:
    """Waybill, date-time to the second (station local time), station and packer, burned into each frame."""

    BAR = 30

    def __init__(self, job: RecordingJob, size: tuple[int, int], render: LabelRenderer) -> None:
        w, _ = size
        self.bar = max(22, int(self.BAR * w / 640))
        label = render(f"{job.station} · {job.packer_name} · {job.tracking_number}", self.bar - 6)
        self._label = label[:, : w - 8]
        self._waybill = job.tracking_number.encode("ascii", "replace").decode()
        self._scale = self.bar / 48
        self._last_second: int | None = None
        self._clock_text = ""

    def draw(self, img: np.ndarray, at: datetime) -> np.ndarray:
        out = img.copy()
        h, w = out.shape[:2]
        out[: self.bar] = 0
        out[h - self.bar:] = 0
        second = int(at.timestamp())
        if second != self._last_second:
            self._last_second = second
            self._clock_text = kst(at).strftime("%Y-%m-%d %H:%M:%S")
        cv2.putText(out, self._waybill, (6, int(self.bar * 0.75)), cv2.FONT_HERSHEY_SIMPLEX, self._scale * 1.2,
                    (255, 255, 255), 2, cv2.LINE_AA)
        (tw, _), _ = cv2.getTextSize(self._clock_text, cv2.FONT_HERSHEY_SIMPLEX, self._scale * 1.2, 2)
        cv2.putText(out, self._clock_text, (w - tw - 26, int(self.bar * 0.75)), cv2.FONT_HERSHEY_SIMPLEX,
                    self._scale * 1.2, (255, 255, 255), 2, cv2.LINE_AA)
        cv2.circle(out, (w - 12, self.bar // 2), max(4, self.bar // 5), (0, 0, 255), -1)  # REC dot
        lh, lw = self._label.shape[:2]
        y = h - self.bar + (self.bar - lh) // 2
        out[y:y + lh, 4:4 + lw] = np.maximum(out[y:y + lh, 4:4 + lw], self._label)
        return out


class _Session:
    """One recording: a queue, an encoder thread, a file."""

    def __init__(self, job: RecordingJob, path: Path, camera: Camera, encoder: EncoderSettings,
                 render: LabelRenderer, emit: Callable[[RecorderEvent], None]) -> None:
        self.job, self.path, self.camera, self.emit = job, path, camera, emit
        self.encoder = encoder
        self.overlay = Overlay(job, camera.size, render)
        self.queue: queue.Queue[Frame | None] = queue.Queue(maxsize=int(camera.fps * 10))
        self.dropped = 0
        self.frames = 0
        self.outcome = PackOutcome.OPEN
        self.first_live_mono: float | None = None  # first frame captured after start (latency)
        self.first_frame_at: datetime | None = None
        self.last_frame_at: datetime | None = None
        self.thread = threading.Thread(target=self._run, name=f"packdesk-encoder-{job.pack_key[:8]}", daemon=True)

    def feed(self, frame: Frame) -> None:
        try:
            self.queue.put_nowait(frame)
        except queue.Full:
            self.dropped += 1

    def _run(self) -> None:
        try:
            self._encode()
        except Exception as e:
            log.exception("encoder failed for %s", self.path)
            self.emit(RecordingFailed(self.job.pack_key, "recording_failed", f"{type(e).__name__}: {e}"))
            return
        digest, size = file_digest(self.path) if self.path.exists() else ("", 0)  # sealed as it closes
        self.emit(RecordingFinished(self.job.pack_key, self.path, self.first_frame_at or self.job.started_at,
                                    self.last_frame_at or self.job.started_at, self.frames, self.dropped, size,
                                    self.outcome, digest))

    def _encode(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        w, h = self.camera.size
        with av.open(str(self.path), "w", format="mpegts", options={"flush_packets": "1"}) as out:
            stream = out.add_stream("libx264", rate=int(self.camera.fps), options={
                "preset": self.encoder.preset, "crf": str(self.encoder.crf), "threads": str(self.encoder.threads)})
            stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
            stream.codec_context.time_base = Fraction(1, 1000)
            t0: float | None = None
            last_pts = -1
            while True:
                frame = self.queue.get()
                if frame is None:
                    break
                if t0 is None:
                    t0 = frame.mono
                    self.first_frame_at = frame.at
                pts = round((frame.mono - t0) * 1000)
                if pts <= last_pts:
                    continue  # the pre-roll and the live stream can meet on the same frame
                last_pts = pts
                vf = av.VideoFrame.from_ndarray(self.overlay.draw(frame.image, frame.at), format="bgr24")
                vf.pts, vf.time_base = pts, Fraction(1, 1000)
                for packet in stream.encode(vf):
                    out.mux(packet)
                self.frames += 1
                self.last_frame_at = frame.at
            for packet in stream.encode():
                out.mux(packet)


class OpenCvRecorder:
    """Implements ``Recorder`` with the station's own camera."""

    name = "opencv"

    def __init__(self, camera: Camera, root: Path, *, emit: Callable[[RecorderEvent], None],
                 min_free_bytes: int = 2 * 1024**3, encoder: EncoderSettings | None = None,
                 label_renderer: LabelRenderer = ascii_label,
                 disk_free: Callable[[Path], int] = lambda p: shutil.disk_usage(p).free) -> None:
        self.camera = camera
        self.root = root
        self.emit = emit
        self.min_free_bytes = min_free_bytes
        self.encoder = encoder or EncoderSettings()
        self.label_renderer = label_renderer
        self._disk_free = disk_free
        self._session: _Session | None = None
        self._finishing: list[_Session] = []

    @property
    def state(self) -> RecorderState:
        if self.camera.state == CameraState.FAILED:
            return RecorderState.FAILED
        return RecorderState.RECORDING if self._session is not None else RecorderState.IDLE

    def ready(self) -> tuple[bool, str]:
        """Can a recording start now? (camera running, enough disk) — and if not, why, for people."""
        if self.camera.state != CameraState.RUNNING:
            return False, "camera_unavailable"
        self.root.mkdir(parents=True, exist_ok=True)
        if self._disk_free(self.root) < self.min_free_bytes:
            return False, "disk_low"
        return True, ""

    def start(self, job: RecordingJob) -> None:
        if self._session is not None:  # a pack never overlaps another; close the old one first
            self.stop(self._session.job.pack_key, PackOutcome.ABANDONED)
        ok, why = self.ready()
        if not ok:
            self.emit(RecordingFailed(job.pack_key, why, f"free={self._free_text()} camera={self.camera.detail}"))
            return
        path = video_path(self.root, job)
        session = _Session(job, path, self.camera, self.encoder, self.label_renderer, self.emit)
        session.thread.start()
        self.start_mono = time.monotonic()
        pre_roll = self.camera.attach(lambda f, s=session: self._feed(s, f))
        for f in pre_roll:
            session.feed(f)
        self._session = session
        self.emit(RecordingStarted(job.pack_key, path, job.started_at))

    def _feed(self, session: _Session, frame: Frame) -> None:
        if session.first_live_mono is None:
            session.first_live_mono = frame.mono
        session.feed(frame)

    def stop(self, pack_key: str, outcome: PackOutcome) -> None:
        session = self._session
        if session is None or session.job.pack_key != pack_key:
            return
        self.camera.detach()
        self._session = None
        session.outcome = outcome
        session.queue.put(None)  # the encoder drains what it has, then closes the file
        self._finishing = [s for s in self._finishing if s.thread.is_alive()] + [session]

    def close(self, timeout: float = 10.0) -> None:
        if self._session is not None:
            self.stop(self._session.job.pack_key, PackOutcome.ABANDONED)
        for s in self._finishing:
            s.thread.join(timeout)
        self.camera.stop()

    def _free_text(self) -> str:
        try:
            return f"{self._disk_free(self.root) / 1e9:.1f} GB"
        except OSError:
            return "?"
