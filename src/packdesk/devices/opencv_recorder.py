"""The built-in recorder: camera frames -> overlay -> H.264 (PyAV) in MPEG-TS, flushed per packet.

Why this format (measured: docs/architecture.md#measured-facts-behind-the-design, and again by
bench/recording.py and the SIGKILL test):
- MPEG-TS with ``flush_packets=1`` is readable up to the last packet after a kill or power cut; what is
  lost is bounded by x264's lookahead (~0.4 s). A plain .mp4 loses everything (no moov atom).
- H.264 (``EncoderSettings.for_size``, chosen by ``bench/encoder_settings.py``) keeps an hour of real webcam
  footage at 640x480 within 100 MB at 33 dB (the opencv-python wheel's own writer has no H.264: its MPEG-4
  Part 2 costs ~1 GB an hour). HD sizes use superfast: veryfast at 1280x720 takes ~70 % of a core.
- QtMultimedia, VLC, PotPlayer and the Windows "Movies & TV" player play H.264 in .ts.
- A hardware H.264 encoder (Windows: NVIDIA, Intel Quick Sync, AMD, Media Foundation, all in the PyAV
  wheel) is used where one opens and encodes (``choose_encoder``), else libx264.

Threads: the camera's capture thread hands frames to a bounded queue (never blocking capture: a full
queue drops and counts); one encoder thread per recording draws the overlay and encodes. At a station this
all runs in the recorder process (``devices/recorder_process.py``); the classes here know nothing of it.

Each camera frame goes into one file. A recording's pre-roll is the camera's last seconds before its scan, less
the frames the recording before it has: a pack started right after another begins where that one's file ended
(no frame lost between the two files, none in both). Giving each file the whole pre-roll again, packs scanned
back to back (several a second, ``bench/scan_latency.py``) made the recorder encode three seconds of pre-roll for
every pack, far more than real time: its backlog of unencoded frames and encoder threads grew without end (11 GB
of memory after a minute) and took the CPU the station's screen needed. Encoded once each, the frames cost what
the camera's stream costs, however fast the packs come; and a pack's file does not show the parcel packed before
it (another buyer's label) as its pre-roll.
"""

from __future__ import annotations

import io
import logging
import os
import queue
import shutil
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from fractions import Fraction
from pathlib import Path
from typing import Any, cast

import av
import cv2
import numpy as np

from packdesk.core.digest import file_digest
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
# The MPEG-TS muxer's options for a recording file: each packet written out as it comes (what a kill or a power
# cut leaves is readable to its last packet), and the stream's tables (PAT, PMT, SDT) once a second. FFmpeg's
# default repeats PAT and PMT ten times a second, for receivers tuning into a broadcast midway: in a file read
# from its start that was 12 % of a 640x480 recording's bytes (bench/encoder_settings.py, 2026-12-07: 108
# against 95.5 MB an hour).
TS_OPTIONS = {"flush_packets": "1", "pat_period": "1", "sdt_period": "1"}
SOFTWARE_H264 = "libx264"
# Hardware H.264 encoders PyAV's wheels carry, per platform, tried in this order before libx264
# (docs/architecture.md#measured-facts-behind-the-design: the win_amd64 wheel has Media Foundation, NVENC, AMF
# and QSV; Linux has only stubs that fail to open).
HARDWARE_H264: dict[str, tuple[str, ...]] = {
    "win32": ("h264_nvenc", "h264_qsv", "h264_amf", "h264_mf"),
    "darwin": ("h264_videotoolbox",),
}
# Renders a line of text (Korean allowed) as a BGR image of the given height; cv2.putText has no Hangul.
LabelRenderer = Callable[[str, int], np.ndarray]


@dataclass(frozen=True)
class EncoderSettings:
    codec: str = SOFTWARE_H264
    preset: str = "veryfast"
    crf: float = 28
    threads: int = 1
    tune: str = ""  # x264's --tune; "" for none
    x264_params: str = ""  # x264's own options beyond the preset ("key=value:key=value")
    bits_per_pixel: float = 0.025  # hardware encoders' target bitrate (they have no crf): ~230 kbit/s at 640x480@30

    @classmethod
    def for_size(cls, size: tuple[int, int], codec: str = SOFTWARE_H264) -> EncoderSettings:
        """Settings chosen on real webcam footage (``bench/encoder_settings.py``; docs/benchmarks.md, *Encoder
        settings*): at 640x480, the cheapest found that keep an hour within 100 MB at a PSNR of 33 dB against the
        camera's picture; in HD, the same size and fidelity as superfast's defaults for less CPU. ``tune=psnr``
        everywhere: no psycho-visual tricks (a claim needs the label as it was, not a pleasing texture), and
        they cost CPU.
        Up to 800x600: veryfast with the diamond motion search, sub-pixel refinement 1 and trellis quantisation,
        CRF 30.8. (Sub-pixel refinement 3 at CRF 32 was needed while the file's tables took 12 % of its bytes,
        ``TS_OPTIONS``; it cost twice the CPU.) x264's default 10-frame look-ahead: a longer one held ~1 s more
        in x264 when the recorder process is killed (a station closing ends the file whole).
        HD: superfast, CRF 29 (veryfast takes ~70 % of a core at 1280x720)."""
        w, h = size
        if w * h <= 800 * 600:
            return cls(codec=codec, preset="veryfast", crf=30.8, tune="psnr", x264_params="subme=1:me=dia:trellis=1")
        return cls(codec=codec, preset="superfast", crf=29, tune="psnr")

    @property
    def hardware(self) -> bool:
        return self.codec != SOFTWARE_H264

    @property
    def pix_fmt(self) -> str:
        return "nv12" if self.codec in ("h264_qsv", "h264_mf", "h264_videotoolbox") else "yuv420p"

    def options(self) -> dict[str, str]:
        if not self.hardware:
            options = {"preset": self.preset, "crf": f"{self.crf:g}", "threads": str(self.threads)}
            if self.tune:
                options["tune"] = self.tune
            if self.x264_params:
                options["x264-params"] = self.x264_params
            return options
        return {"h264_nvenc": {"preset": "p4", "rc": "vbr"},
                "h264_qsv": {"preset": "veryfast"},
                "h264_amf": {"quality": "speed", "rc": "vbr_peak"},
                "h264_mf": {"hw_encoding": "1", "rate_control": "quality"},
                }.get(self.codec, {})

    def open_stream(self, out: av.container.OutputContainer, size: tuple[int, int], fps: float) -> av.VideoStream:
        """The video stream of ``out``, configured; the codec opens at its first frame."""
        w, h = size
        stream = cast(av.VideoStream, out.add_stream(self.codec, rate=round(fps), options=self.options()))  # H.264
        stream.width, stream.height, stream.pix_fmt = w, h, self.pix_fmt
        stream.codec_context.time_base = Fraction(1, 1000)
        if self.hardware:
            stream.codec_context.bit_rate = int(w * h * fps * self.bits_per_pixel)
            stream.codec_context.gop_size = round(fps * 2)
        return stream


def encoder_candidates(choice: str = "auto", platform: str = sys.platform) -> tuple[str, ...]:
    """The encoders to try, best first: ``auto`` = this platform's hardware ones, then libx264; a named one,
    then libx264; libx264 alone."""
    if choice == "auto":
        return (*HARDWARE_H264.get(platform, ()), SOFTWARE_H264)
    return (choice,) if choice == SOFTWARE_H264 else (choice, SOFTWARE_H264)


def probe_encoder(codec: str, size: tuple[int, int], fps: float) -> str:
    """Open ``codec`` at ``size`` and encode a few frames into memory: "" when it works, else why not. A
    hardware encoder listed by FFmpeg may still fail here (no such GPU, no driver): only a real encode tells."""
    settings = EncoderSettings.for_size(size, codec)
    w, h = size
    try:
        with av.open(io.BytesIO(), "w", format="mpegts") as out:
            stream = settings.open_stream(out, size, fps)
            packets = 0
            for i in range(3):
                vf = av.VideoFrame.from_ndarray(np.full((h * 3 // 2, w), 16 + i * 40, np.uint8), format="yuv420p")
                vf.pts, vf.time_base = i * 33, Fraction(1, 1000)
                packets += len(stream.encode(vf))
            packets += len(stream.encode())
    except Exception as e:  # PyAV raises a different error class per codec and driver
        return f"{type(e).__name__}: {e}"
    return "" if packets else "no packets came out"


_CHOSEN: dict[tuple[tuple[str, ...], tuple[int, int], float], str] = {}
_CHOSEN_LOCK = threading.Lock()


def choose_encoder(candidates: tuple[str, ...], size: tuple[int, int], fps: float) -> str:
    """The first of ``candidates`` that opens and encodes at this size, remembered for the process (a probe of a
    hardware encoder can take a moment). libx264 is the fallback when none does."""
    if candidates == (SOFTWARE_H264,):
        return SOFTWARE_H264  # nothing to choose: no probe (it would cost the recorder's start ~0.1 s)
    key = (candidates, size, fps)
    with _CHOSEN_LOCK:
        if key in _CHOSEN:
            return _CHOSEN[key]
        chosen = SOFTWARE_H264
        for codec in candidates:
            why = probe_encoder(codec, size, fps)
            if not why:
                chosen = codec
                break
            log.info("H.264 encoder %s not usable here (%s)", codec, why)
        _CHOSEN[key] = chosen
    log.info("H.264 encoder: %s at %dx%d", chosen, *size)
    return chosen


ENCODER_NICE = 3  # a thread at nice +3 gets about half the CPU of a normal one when the CPU is short
# One frame is encoded at a time in a process, whatever the number of recordings finishing side by side: the
# recorder never takes both cores of a two-core PC from the station's window (packs started faster than their
# pre-roll encodes, as scans back to back in a benchmark do, otherwise each ran an x264 of its own).
_ENCODE_SLOT = threading.Lock()


def below_normal_priority() -> None:
    """The calling thread (an encoder) yields a little to everything else when the CPU is short: the station's
    window and the camera's capture come first, and the encoder catches up from its 10 s queue. A waybill scan
    starts a burst of encoding (the pre-roll, ~0.6 s of one core) at the very moment the window draws its
    answer. Linux sets a thread's nice value by its id; Windows has thread priorities; elsewhere nothing."""
    try:
        if sys.platform == "win32":
            import ctypes

            kernel32 = ctypes.windll.kernel32  # type: ignore[attr-defined]
            kernel32.SetThreadPriority(kernel32.GetCurrentThread(), -1)  # THREAD_PRIORITY_BELOW_NORMAL
        elif sys.platform.startswith("linux"):
            tid = threading.get_native_id()
            os.setpriority(os.PRIO_PROCESS, tid, os.getpriority(os.PRIO_PROCESS, tid) + ENCODER_NICE)
    except (OSError, AttributeError):
        log.debug("encoder thread priority left as it is")


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


def band_height(picture_height: int) -> int:
    """The overlay band's rows: ~1/15 of the picture, a multiple of 8 (480 -> 32, 720 -> 48, 1080 -> 72: each
    frame a whole number of 16-row macroblocks), at least 24 so the text stays readable."""
    return max(24, (picture_height // 15 + 7) // 8 * 8)


@dataclass
class _Band:
    second: int = -1
    live: bool = False
    image: np.ndarray = field(default_factory=lambda: np.zeros((0, 0, 3), np.uint8))


class Overlay:
    """The burned-in text, in a band ADDED above the camera picture: the encoded frame is taller than the
    camera's by the band, so the text covers none of the picture (two black bars used to hide 60 of 480
    rows). The band: waybill, station and packer on the left; date-time to the second (Korea time) and a red
    REC dot on the right. Frames from before the scan (the pre-roll) carry only the station and the time:
    the waybill had not been scanned yet when they were filmed."""

    def __init__(self, job: RecordingJob, size: tuple[int, int], render: LabelRenderer) -> None:
        w, h = size
        self.band = band_height(h)
        self.out_size = (w, h + self.band)
        self._scan_at = job.started_at
        self._scale = self.band / 44
        (clock_w, _), _ = cv2.getTextSize("0000-00-00 00:00:00", cv2.FONT_HERSHEY_SIMPLEX, self._scale, 2)
        self._clock_x = w - clock_w - self.band
        text_h = self.band - max(4, self.band // 6)
        room = max(8, self._clock_x - 12)
        # the packer before the station: on a narrow picture the end of the line is what gets cut
        self._labels = {live: self._fit(render, text, text_h, room)
                        for live, text in ((False, job.station),
                                           (True, f"{job.tracking_number} · {job.packer_name} · {job.station}"))}
        self._band = _Band()

    @staticmethod
    def _fit(render: LabelRenderer, text: str, height: int, room: int) -> np.ndarray:
        """The label in ``room`` pixels: drawn smaller (down to 2/3) when too wide, then cut."""
        label = render(text, height)
        if label.shape[1] > room:
            label = render(text, max(8, int(height * max(2 / 3, room / label.shape[1]))))
        return label[:, :room]

    def is_live(self, at: datetime) -> bool:
        """Filmed at or after the scan (else: the pre-roll)."""
        return at >= self._scan_at

    def band_image(self, at: datetime) -> np.ndarray:
        """The band for a frame filmed ``at``: drawn once a second (the clock), reused between."""
        second, live = int(at.timestamp()), self.is_live(at)
        b = self._band
        if (second, live) != (b.second, b.live):
            w = self.out_size[0]
            img = np.zeros((self.band, w, 3), np.uint8)
            label = self._labels[live]
            lh, lw = label.shape[:2]
            y = (self.band - lh) // 2
            img[y:y + lh, 6:6 + lw] = label
            baseline = int(self.band * 0.72)
            cv2.putText(img, kst(at).strftime("%Y-%m-%d %H:%M:%S"), (self._clock_x, baseline),
                        cv2.FONT_HERSHEY_SIMPLEX, self._scale, (255, 255, 255), 2, cv2.LINE_AA)
            cv2.circle(img, (w - self.band // 2, self.band // 2), max(4, self.band // 5), (0, 0, 255), -1)  # REC
            self._band = _Band(second, live, img)
        return self._band.image

    def draw(self, img: np.ndarray, at: datetime, out: np.ndarray | None = None) -> np.ndarray:
        """The frame to encode: the band, then the camera picture untouched; into ``out`` when given (a buffer
        of ``out_size``, reused frame after frame)."""
        if out is None:
            w, h = self.out_size
            out = np.empty((h, w, 3), np.uint8)
        out[: self.band] = self.band_image(at)
        out[self.band:] = img
        return out


class FrameMaker:
    """The encoder's frames from camera pictures: the band and the picture put together, then converted to I420
    by OpenCV (BT.601 limited range, as swscale would; ~3x faster than PyAV's own conversion), into two buffers
    made once per recording. Fresh buffers for every frame cost the encoding thread a page fault for every
    4 KiB written: at 1280x720 about 8 % of a core (perf, 2026-12-07).
    libx264 copies a frame into its own the moment it is sent, so it is handed the I420 buffer itself; a
    hardware encoder may hold on to a frame it was sent (Quick Sync does) and is handed a copy."""

    def __init__(self, overlay: Overlay, settings: EncoderSettings) -> None:
        w, h = overlay.out_size
        self.overlay = overlay
        self._copy = settings.hardware
        self._bgr = np.empty((h, w, 3), np.uint8)
        self._i420: np.ndarray[Any, np.dtype[np.uint8]] = np.empty((h * 3 // 2, w), np.uint8)

    def frame(self, picture: np.ndarray, at: datetime, pts_ms: int) -> av.VideoFrame:
        """The camera ``picture`` filmed ``at``, as the encoder's frame at ``pts_ms``. Valid until the next call."""
        cv2.cvtColor(self.overlay.draw(picture, at, self._bgr), cv2.COLOR_BGR2YUV_I420, dst=self._i420)
        if self._copy:
            vf = av.VideoFrame.from_ndarray(self._i420, format="yuv420p")
        else:
            vf = av.VideoFrame.from_numpy_buffer(self._i420, format="yuv420p")
        vf.pts, vf.time_base = pts_ms, Fraction(1, 1000)
        return vf


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
        self.fed_mono = float("-inf")  # the last frame queued for this file (``OpenCvRecorder.stop``)
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
            return
        self.fed_mono = frame.mono

    def _run(self) -> None:
        below_normal_priority()
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
        w, h = self.overlay.out_size
        with av.open(str(self.path), "w", format="mpegts", options=TS_OPTIONS) as out:
            stream = self.encoder.open_stream(out, (w, h), self.camera.fps)
            frames = FrameMaker(self.overlay, self.encoder)
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
                with _ENCODE_SLOT:
                    packets = stream.encode(frames.frame(frame.image, frame.at, pts))
                for packet in packets:
                    out.mux(packet)
                self.frames += 1
                self.last_frame_at = frame.at
            with _ENCODE_SLOT:
                packets = stream.encode()  # the frames x264 still holds (its lookahead)
            for packet in packets:
                out.mux(packet)


class OpenCvRecorder:
    """Implements ``Recorder`` with a camera in this process. The station runs it inside the recorder process
    (``devices/recorder_process.py``); tests and benchmarks drive it directly."""

    name = "opencv"

    def __init__(self, camera: Camera, root: Path, *, emit: Callable[[RecorderEvent], None],
                 min_free_bytes: int = 2 * 1024**3, encoder: EncoderSettings | None = None,
                 label_renderer: LabelRenderer = ascii_label,
                 disk_free: Callable[[Path], int] = lambda p: shutil.disk_usage(p).free,
                 on_first_live: Callable[[str, float], None] | None = None) -> None:
        self.camera = camera
        self.root = root
        self.emit = emit
        self.min_free_bytes = min_free_bytes
        self.encoder = encoder or EncoderSettings.for_size(camera.size)
        self.label_renderer = label_renderer
        self._disk_free = disk_free
        self._on_first_live = on_first_live
        self._session: _Session | None = None
        self._finishing: list[_Session] = []
        self._covered_mono = float("-inf")  # the last frame a stopped recording's file has (the module's note)
        self.start_mono = 0.0

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

    def start(self, job: RecordingJob, path: Path | None = None) -> None:
        """``path``: where to write (the recorder process is told the name its station already indexed)."""
        if self._session is not None:  # a pack never overlaps another; close the old one first
            self.stop(self._session.job.pack_key, PackOutcome.ABANDONED)
        ok, why = self.ready()
        if not ok:
            self.emit(RecordingFailed(job.pack_key, why, f"free={self._free_text()} camera={self.camera.detail}"))
            return
        path = path or video_path(self.root, job)
        session = _Session(job, path, self.camera, self.encoder, self.label_renderer, self.emit)
        session.thread.start()
        self.start_mono = time.monotonic()
        pre_roll = self.camera.attach(lambda f: self._feed(session, f))
        for f in pre_roll:
            if f.mono > self._covered_mono:  # not in the last recording's file already
                session.feed(f)
        self._session = session
        self.emit(RecordingStarted(job.pack_key, path, job.started_at))

    def _feed(self, session: _Session, frame: Frame) -> None:
        if session.first_live_mono is None:
            session.first_live_mono = frame.mono
            if self._on_first_live is not None:
                self._on_first_live(session.job.pack_key, frame.mono)
        session.feed(frame)

    def stop(self, pack_key: str, outcome: PackOutcome) -> None:
        session = self._session
        if session is None or session.job.pack_key != pack_key:
            return
        self.camera.detach()
        self._session = None
        session.outcome = outcome
        # read before the end is queued: a frame the camera thread queues after this read may be encoded here and
        # in the next pre-roll too, never in neither
        self._covered_mono = max(self._covered_mono, session.fed_mono)
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
