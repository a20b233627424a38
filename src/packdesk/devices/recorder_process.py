"""The station's recorder in a process of its own: camera, pre-roll, overlay and encoder leave the UI process.

Why: sharing the interpreter (and its lock) with the window, capture and x264 made a waybill scan take
78 ms at the median instead of 4 (issue #18). Now the station's process only sends commands (start, stop,
close) down a pipe and reads events back (ready, camera status, the first live frame, finished with the
file's hash, failed, log lines); the live preview comes through shared memory, already scaled down to the
preview's size (``preview_share.py``). Inside the recorder process the work is ``OpenCvRecorder`` as before:
a capture thread, an encoder thread per recording, MPEG-TS flushed per packet, the SHA-256 of the closed
file. The process is started with multiprocessing's *spawn*, the same on Windows as here.

When a process dies:
- the recorder's (killed, a camera driver's crash): the station's watcher thread waits on the pipe and the
  process handle together, so it sees the death at once. It reports ``RecorderCrashed`` (the file keeps what
  was written: MPEG-TS flushed per packet reads up to its last packet) and starts a new recorder process;
  the station decides whether the open pack goes on, filmed in a second file, or stops
  (``recording.require_recording``, ``core/station.py``).
- the station's (kill -9, a crash): the recorder's end of the command pipe reaches end-of-file (and on
  POSIX its parent's id changes); it ends the open recording as a stop would, the file closed whole, and
  exits within a second or so. The next start of the station finds the index row still "recording" and
  keeps the file, hashed and chained (``core/recordings.recover_interrupted``).

Pipes, not multiprocessing queues: a send is in the pipe when it returns (a queue's feeder thread dies
with its process and can take the last events with it), and a pipe can be waited on beside the process.
"""

from __future__ import annotations

import atexit
import contextlib
import importlib
import logging
import multiprocessing
import multiprocessing.connection
import os
import shutil
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from packdesk.core.enums import PackOutcome
from packdesk.devices.camera import Camera, CameraState, first_available_source
from packdesk.devices.opencv_recorder import (
    EncoderSettings,
    OpenCvRecorder,
    ascii_label,
    band_height,
    choose_encoder,
    encoder_candidates,
    video_path,
)
from packdesk.devices.preview_share import PreviewShare
from packdesk.devices.recorder import (
    RecorderCrashed,
    RecorderEvent,
    RecorderState,
    RecordingFailed,
    RecordingFinished,
    RecordingJob,
    RecordingStarted,
)
from packdesk.native_logs import quiet_video_libraries, route_native_logs

log = logging.getLogger("packdesk.recorder.process")

PREVIEW_FPS = 10.0  # the station's preview looks ten times a second
CAMERA_OPEN_S = 15.0  # some webcams take seconds to open; the recorder says it is ready when it knows
QUICK_CRASH_S = 10.0  # a recorder process that dies sooner than this after its start is restarted more slowly


@dataclass(frozen=True)
class RecorderConfig:
    """What the recorder process needs (it is pickled to it)."""

    source: str  # as the settings say ("auto": the first webcam that opens; without one see ``demo``)
    size: tuple[int, int]
    root: Path
    fps: float = 30.0
    pre_roll_s: float = 3.0
    encoder: str = "auto"  # "auto": a hardware H.264 encoder where one works, else libx264; or "libx264"
    preview_size: tuple[int, int] = (240, 180)
    # "module:function" rendering the overlay's text (Korean: Qt's fonts, ui/overlay_text.py); "": cv2, ASCII only.
    # Named, not passed: unpickling a function would import Qt before the camera has started to open.
    label_renderer: str = ""
    demo: bool = False  # "auto" without a webcam films the synthetic scene only in demo mode (else "No camera")


def fit(size: tuple[int, int], box: tuple[int, int]) -> tuple[int, int]:
    """``size`` scaled to fit in ``box``, keeping its shape (1280x720 in 240x180 -> 240x135)."""
    w, h = size
    scale = min(box[0] / w, box[1] / h)
    return max(1, round(w * scale)), max(1, round(h * scale))


def preview_picture(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """``image`` at the preview's ``size``: bilinear to twice the size, then averaged down. ~0.6 ms at any
    camera size; OpenCV's area resize straight from 1280x720 (a 5.33 ratio) took 4 ms, 6 % of a core at 15 Hz."""
    w, h = size
    return cv2.resize(cv2.resize(image, (2 * w, 2 * h), interpolation=cv2.INTER_LINEAR), size,
                      interpolation=cv2.INTER_AREA)


# ---------------------------------------------------------------------------------------------- the child


class _Outbox:
    """Sends to the station from any of the recorder process's threads; a station that is gone is ignored
    (what is left to do is close the file)."""

    def __init__(self, conn: multiprocessing.connection.Connection) -> None:
        self._conn = conn
        self._lock = threading.Lock()
        self.gone = False

    def send(self, msg: tuple[Any, ...]) -> None:
        with self._lock:
            if self.gone:
                return
            try:
                self._conn.send(msg)
            except (OSError, EOFError, ValueError):
                self.gone = True


class _ForwardLogs(logging.Handler):
    """The recorder process's log lines go to the station's log (one log file, one writer)."""

    def __init__(self, out: _Outbox) -> None:
        super().__init__(logging.INFO)
        self.out = out

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.out.send(("log", record.levelno, record.name, self.format(record)))
        except Exception:
            self.handleError(record)


def _parent_gone(parent_pid: int) -> bool:
    """POSIX: a process whose parent died is adopted by another (its parent id changes). Windows has no
    such thing: the pipe's end-of-file says it there."""
    return sys.platform != "win32" and os.getppid() != parent_pid


def child_main(config: RecorderConfig, conn: multiprocessing.connection.Connection, share_name: str,
               parent_pid: int, encoder_hint: str = "") -> None:
    """The recorder process: runs until told to close, or until the station is gone."""
    out = _Outbox(conn)
    root_log = logging.getLogger("packdesk")
    root_log.setLevel(logging.INFO)
    root_log.addHandler(_ForwardLogs(out))
    root_log.propagate = False
    share = PreviewShare.attach(share_name, config.preview_size)
    quiet_video_libraries()  # before the webcam probe: OpenCV's "can't open camera" lines go nowhere
    # OpenCV's own thread pool off: its workers wait for work by spinning on sched_yield, and split a resize or a
    # colour conversion that the camera's and the encoder's threads already run side by side. At 1280x720 the
    # pool's one worker (on a two-core PC) took ~8 % of a core, ~2-3 points at 640x480 (perf and
    # bench/recording.py, 2026-12-07).
    cv2.setNumThreads(1)
    # probed here, not in the UI's process
    source = first_available_source(demo=config.demo) if config.source == "auto" else config.source
    opened = threading.Event()

    def camera_status(state: str, detail: str) -> None:
        out.send(("camera", state, detail))
        opened.set()

    camera = Camera(source, config.size, config.fps, config.pre_roll_s, on_status=camera_status)
    camera.start()  # opens the source on its own thread, meanwhile the rest gets ready
    render = ascii_label
    if config.label_renderer:
        try:
            module, name = config.label_renderer.split(":")
            render = getattr(importlib.import_module(module), name)
            render("PackDesk", 16)  # loads the fonts now, not at the first scan
            route_native_logs()  # Qt is loaded now: its messages (fonts) go to the log through the pipe
        except Exception as e:
            log.warning("overlay text falls back to ASCII: %s", e)
            render = ascii_label
    w, h = config.size
    codec = encoder_hint or choose_encoder(encoder_candidates(config.encoder), (w, h + band_height(h)), config.fps)

    def forward(ev: RecorderEvent) -> None:
        if not isinstance(ev, RecordingStarted):  # the station announced it when it asked
            out.send(("event", ev))

    rec = OpenCvRecorder(camera, config.root, emit=forward, min_free_bytes=0,
                         encoder=EncoderSettings.for_size(config.size, codec), label_renderer=render,
                         on_first_live=lambda key, mono: out.send(("live", key, mono)))
    opened.wait(CAMERA_OPEN_S)  # a start waiting in the pipe finds the camera open (or known to have failed)
    out.send(("ready", codec, os.getpid(), cv2.getNumThreads()))
    box = config.preview_size
    period = 1.0 / PREVIEW_FPS
    next_preview = time.monotonic()
    shown = None
    code = 1
    try:
        while True:
            try:
                msg = conn.recv() if conn.poll(max(0.0, next_preview - time.monotonic())) else None
            except (EOFError, OSError):
                out.gone = True  # the station's end of the pipe closed: it died
                break
            if msg is not None:
                if msg[0] == "close":
                    break
                if msg[0] == "start":
                    rec.start(msg[1], Path(msg[2]))
                elif msg[0] == "stop":
                    rec.stop(msg[1], msg[2])
            if time.monotonic() >= next_preview:
                next_preview = max(next_preview + period, time.monotonic() - period)
                frame = camera.latest()
                wanted = share.wanted or config.preview_size
                if frame is not None and (frame is not shown or wanted != box):
                    shown, box = frame, wanted
                    share.write(preview_picture(frame.image, fit(config.size, box)))
                share.set_frames_captured(camera.frames_captured)
                if _parent_gone(parent_pid):
                    out.gone = True
                    break
        code = 0
    except Exception:
        log.exception("recorder process failed")  # the station sees it exit, and starts another
    finally:
        try:
            rec.close()  # an open recording ends (abandoned) with its file closed whole; the camera stops
            share.close()
            with contextlib.suppress(OSError):
                conn.close()
        finally:
            # Everything is written and closed: leave now, without the interpreter's teardown (nothing is left
            # for it to do, and a camera thread stuck in its driver must not hold the exit up)
            for stream in (sys.stdout, sys.stderr):
                with contextlib.suppress(Exception):
                    stream.flush()
            os._exit(code)


# ---------------------------------------------------------------------------------------------- the station


@dataclass
class _Child:
    proc: multiprocessing.process.BaseProcess
    conn: multiprocessing.connection.Connection
    started: float = field(default_factory=time.monotonic)
    ready: bool = False


class ProcessRecorder:
    """Implements ``Recorder``; the camera and the encoding run in a recorder process (see the module's
    docstring). ``start`` and ``stop`` only write a few hundred bytes to a pipe: the scan's result is on
    screen before the recorder has done anything."""

    name = "opencv"

    def __init__(self, config: RecorderConfig, *, emit: Callable[[RecorderEvent], None],
                 on_camera_status: Callable[[str, str], None] | None = None, min_free_bytes: int = 2 * 1024**3,
                 disk_free: Callable[[Path], int] = lambda p: shutil.disk_usage(p).free) -> None:
        self.config = config
        self.root = config.root
        self.emit = emit
        self.min_free_bytes = min_free_bytes
        self._on_camera_status = on_camera_status or (lambda state, detail: None)
        self._disk_free = disk_free
        self._share = PreviewShare.create(config.preview_size)
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._child: _Child | None = None
        self._job: RecordingJob | None = None
        self._path: Path | None = None
        self._sent = False  # the open recording's start reached a recorder process
        self._finishing: dict[str, Path] = {}  # stopped, its file not reported closed yet
        self._camera_state = CameraState.STOPPED
        self.camera_detail = ""
        self.encoder = ""  # the H.264 encoder the recorder process found working
        self.opencv_threads = 0  # the threads OpenCV runs its work on in the recorder process (one: its own)
        self.crashes = 0
        self._quick_crashes = 0
        self._unready_deaths = 0
        self.start_mono: dict[str, float] = {}  # pack key -> when ``start`` was called (benchmarks)
        self.first_live_mono: dict[str, float] = {}  # pack key -> its first frame filmed after the scan
        self._spawn()
        self._watcher = threading.Thread(target=self._watch, name="packdesk-recorder-watch", daemon=True)
        self._watcher.start()
        # a program that ends without closing the station still lets its recorder close its file and exit
        # (before multiprocessing's own exit handler would terminate it as a stray daemon)
        atexit.register(self.close)

    # ------------------------------------------------------------------ Recorder

    @property
    def state(self) -> RecorderState:
        if self._child is None or self._camera_state == CameraState.FAILED:
            return RecorderState.FAILED
        return RecorderState.RECORDING if self._job is not None else RecorderState.IDLE

    def ready(self) -> tuple[bool, str]:
        """Can a recording start now? — and if not, why, for people."""
        why = self._disk_problem()
        if why:
            return False, why
        child = self._child
        if child is None or not child.ready:
            return False, "recorder_starting"
        if self._camera_state != CameraState.RUNNING:
            return False, "camera_unavailable"
        return True, ""

    def start(self, job: RecordingJob) -> None:
        """Returns at once. While a recorder process is starting (or starting again after a crash) the
        recording waits in the pipe, or here, and begins when it is up."""
        with self._lock:
            if self._job is not None:  # a pack never overlaps another; close the old one first
                self._stop_locked(self._job.pack_key, PackOutcome.ABANDONED)
            child = self._child
            # the camera's state comes from this recorder process (a crash resets it), in a message that can be
            # read before the process's "ready": a camera known to have failed refuses at once either way
            why = self._disk_problem() or ("camera_unavailable" if child is not None
                                           and self._camera_state == CameraState.FAILED else "")
            if why:
                self.emit(RecordingFailed(job.pack_key, why, f"free={self._free_text()} camera={self.camera_detail}"))
                return
            path = video_path(self.root, job)
            self._job, self._path, self._sent = job, path, False
            self.start_mono[job.pack_key] = time.monotonic()
            self.emit(RecordingStarted(job.pack_key, path, job.started_at))  # before any answer can come back
            if child is not None:
                self._send(child, ("start", job, str(path)))

    def stop(self, pack_key: str, outcome: PackOutcome) -> None:
        with self._lock:
            self._stop_locked(pack_key, outcome)

    def close(self, timeout: float = 10.0) -> None:
        """Ends an open recording (abandoned), lets the recorder process close its files and exit."""
        if self._closing.is_set():
            return
        self._closing.set()
        atexit.unregister(self.close)
        with self._lock:
            if self._job is not None:
                self._stop_locked(self._job.pack_key, PackOutcome.ABANDONED)
            child = self._child
            if child is not None:
                self._send(child, ("close",))
        # the watcher reads its last events, reaps it and ends; only the watcher waits on the process (two
        # threads reaping one child race: the loser sees it gone and alive at once)
        self._watcher.join(timeout)
        if self._watcher.is_alive() and child is not None:  # it did not exit: it has not been reaped either
            log.warning("recorder process %s did not close in %.0f s: killed", child.proc.pid, timeout)
            child.proc.kill()
            self._watcher.join(10)
        with contextlib.suppress(OSError):
            if child is not None:
                child.conn.close()
        self._share.close()

    # ------------------------------------------------------------------ preview, status

    def preview_frame(self, after: int = 0) -> tuple[int, np.ndarray] | None:
        """The live picture, already at the preview's size, when newer than number ``after``."""
        return None if self._closing.is_set() else self._share.read(after)

    def set_preview_box(self, size: tuple[int, int]) -> None:
        """The station shows the picture in a box of ``size``: the recorder process scales it to fit."""
        self._share.want(size)

    @property
    def frames_captured(self) -> int:
        return 0 if self._closing.is_set() else self._share.frames_captured

    @property
    def pid(self) -> int | None:
        child = self._child
        return child.proc.pid if child is not None else None

    # ------------------------------------------------------------------ internals

    def _disk_problem(self) -> str:
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            return "disk_low" if self._disk_free(self.root) < self.min_free_bytes else ""
        except OSError:
            return "disk_low"

    def _free_text(self) -> str:
        try:
            return f"{self._disk_free(self.root) / 1e9:.1f} GB"
        except OSError:
            return "?"

    def _send(self, child: _Child, msg: tuple[Any, ...]) -> None:
        """Under the lock (one writer at a time). A dead process's pipe refuses: the watcher deals with it."""
        try:
            child.conn.send(msg)
        except (OSError, ValueError):
            return
        if msg[0] == "start":
            self._sent = True

    def _stop_locked(self, pack_key: str, outcome: PackOutcome) -> None:
        job = self._job
        if job is None or job.pack_key != pack_key:
            return
        sent, child, path = self._sent, self._child, self._path
        self._job, self._path, self._sent = None, None, False
        if sent and child is not None and path is not None:
            self._send(child, ("stop", pack_key, outcome))
            self._finishing[pack_key] = path
        elif not sent:  # it never reached a recorder process: no file was made
            self.emit(RecordingFailed(pack_key, "recorder_starting", "the recorder process was not running"))

    def _spawn(self) -> None:
        ctx = multiprocessing.get_context("spawn")
        ours, theirs = ctx.Pipe()
        config = self.config if self._unready_deaths < 2 else replace(self.config, label_renderer="")
        proc = ctx.Process(target=child_main, name="packdesk-recorder", daemon=True,
                           args=(config, theirs, self._share.name, os.getpid(), self.encoder))
        proc.start()
        theirs.close()  # only the recorder process holds its end: the station's death is its end-of-file
        child = _Child(proc, ours)
        with self._lock:
            if self._closing.is_set():
                proc.kill()
                proc.join(5)
                return
            self._child = child
            if self._job is not None and not self._sent:  # asked for while no recorder process was up
                self._send(child, ("start", self._job, str(self._path)))
        log.info("recorder process %s started", proc.pid)

    def _watch(self) -> None:
        """Reads the recorder process's messages; when it dies, reports it and starts another."""
        while True:
            child = self._child
            if child is None:
                return
            try:
                ready = multiprocessing.connection.wait([child.conn, child.proc.sentinel])
            except OSError:
                ready = [child.proc.sentinel]
            if child.conn in ready:
                try:
                    msg = child.conn.recv()
                except (EOFError, OSError):
                    msg = None
                if msg is not None:
                    self._on_message(child, msg)
                    continue
            child.proc.join(5)  # its pipe closed, or it ended: it is exiting
            if child.proc.is_alive():
                child.proc.kill()
                child.proc.join(5)
            self._drain(child)
            if self._closing.is_set():
                return
            self._crashed(child)
            if self._closing.wait(self._restart_delay(child)):
                return
            self._spawn()

    def _drain(self, child: _Child) -> None:
        """What it sent before it died (a finished recording, a last log line)."""
        with contextlib.suppress(EOFError, OSError):
            while child.conn.poll():
                self._on_message(child, child.conn.recv())

    def _on_message(self, child: _Child, msg: tuple[Any, ...]) -> None:
        kind = msg[0]
        if kind == "event":
            if isinstance(msg[1], RecordingFinished | RecordingFailed) and msg[1].pack_key is not None:
                with self._lock:
                    self._finishing.pop(msg[1].pack_key, None)
            self.emit(msg[1])
        elif kind == "camera":
            self._camera_state, self.camera_detail = msg[1], msg[2]
            self._on_camera_status(msg[1], msg[2])
        elif kind == "live":
            self.first_live_mono[msg[1]] = msg[2]
        elif kind == "log":
            logging.getLogger(msg[2]).log(msg[1], "%s", msg[3])
        elif kind == "ready":
            self.encoder, self.opencv_threads = msg[1], msg[3]
            child.ready = True
            self._unready_deaths = 0
            log.info("recorder process %s ready (H.264 encoder %s, OpenCV on %d thread(s))", msg[2], msg[1], msg[3])
            if self._camera_state == CameraState.RUNNING:  # the status line names the encoder now
                self._on_camera_status(self._camera_state, self.camera_detail)

    def _crashed(self, child: _Child) -> None:
        with self._lock:
            job, path, sent = self._job, self._path, self._sent
            cut = [*self._finishing.items(), *([(job.pack_key, path if sent else None)] if job else [])]
            self._job, self._path, self._sent = None, None, False
            self._finishing.clear()
            self._child = None
            self._camera_state = CameraState.STOPPED
            self.crashes += 1
        if not child.ready:
            self._unready_deaths += 1
            if self._unready_deaths == 2:
                log.warning("recorder process died twice while starting: overlay text falls back to ASCII")
        code = child.proc.exitcode
        log.warning("recorder process %s ended unexpectedly (exit code %s); starting it again", child.proc.pid, code)
        self._on_camera_status(CameraState.STOPPED, "녹화 프로그램 다시 시작 중 / recorder restarting")
        self.emit(RecorderCrashed(f"recorder process {child.proc.pid} exit code {code}", tuple(cut)))

    def _restart_delay(self, child: _Child) -> float:
        """At once; but a recorder process that keeps dying soon after its start (a broken camera driver)
        is given 1, 2, 4 … 30 s, so it does not take the machine with it."""
        if time.monotonic() - child.started > QUICK_CRASH_S:
            self._quick_crashes = 0
            return 0.0
        self._quick_crashes += 1
        return 0.0 if self._quick_crashes == 1 else min(30.0, 2.0 ** (self._quick_crashes - 2))
