"""The recorder in a process of its own, with real processes: what it records, what the station's process
does (nothing but a pipe and a small picture), and what happens when either process is killed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import av
import numpy as np
import pytest

from packdesk.core.chain import file_digest
from packdesk.core.enums import PackOutcome
from packdesk.devices.camera import SYNTHETIC
from packdesk.devices.opencv_recorder import ENCODER_NICE, Overlay, ascii_label, band_height
from packdesk.devices.recorder import (
    RecorderCrashed,
    RecorderEvent,
    RecorderState,
    RecordingFinished,
    RecordingJob,
    RecordingStarted,
)
from packdesk.devices.recorder_process import ProcessRecorder, RecorderConfig, fit
from tests.devices.test_opencv_recorder import read_frames
from tests.waiting import wait_until

ROOT = Path(__file__).resolve().parents[2]
STARTUP_S = 30.0  # a spawned interpreter importing numpy, OpenCV and PyAV, on a busy 2-core machine


def job(key: str = "k1", waybill: str = "601000000011") -> RecordingJob:
    return RecordingJob(key, waybill, "STATION-1", "김민수", datetime.now(UTC))


def alive(pid: int) -> bool:
    """Running (a zombie waiting for its parent to reap it is not)."""
    if Path("/proc/self").exists():
        try:
            return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
        except (FileNotFoundError, ProcessLookupError):
            return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def session_members(sid: int) -> list[int]:
    """Live processes of session ``sid`` (a process and everything it started, wherever they were re-parented)."""
    members = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                fields = (d / "stat").read_text().rsplit(")", 1)[1].split()
            except (FileNotFoundError, ProcessLookupError):
                continue
            if int(fields[3]) == sid and fields[0] != "Z":
                members.append(int(d.name))
    return members


def thread_nices(pid: int) -> list[int]:
    """The nice value of each thread of process ``pid`` (Linux)."""
    nices = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            nices.append(int((task / "stat").read_text().rsplit(")", 1)[1].split()[16]))
        except (FileNotFoundError, ProcessLookupError):
            continue
    return nices


def our_threads() -> set[str]:
    return {t.name for t in threading.enumerate()}


@pytest.fixture
def make_recorder(tmp_path: Path) -> Iterator[Callable[..., tuple[ProcessRecorder, list[RecorderEvent]]]]:
    made: list[ProcessRecorder] = []

    def make(**config: object) -> tuple[ProcessRecorder, list[RecorderEvent]]:
        events: list[RecorderEvent] = []
        cfg = RecorderConfig(**{"source": SYNTHETIC, "size": (640, 480), "root": tmp_path / "videos",  # type: ignore[arg-type]
                                "pre_roll_s": 1.0, **config})
        rec = ProcessRecorder(cfg, emit=events.append, min_free_bytes=0)
        made.append(rec)
        wait_until(lambda: rec.ready() == (True, ""), STARTUP_S, "the recorder process to be ready")
        return rec, events

    yield make
    for rec in made:
        rec.close()


def finished(events: list[RecorderEvent], key: str) -> RecordingFinished:
    def done() -> RecordingFinished | None:
        return next((e for e in events if isinstance(e, RecordingFinished) and e.pack_key == key), None)

    wait_until(lambda: done() is not None, 15, f"recording {key} to close")
    return done()  # type: ignore[return-value]


def test_records_in_a_process_of_its_own(make_recorder, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    rec, events = make_recorder()
    pid = rec.pid
    assert pid is not None and pid != os.getpid() and rec.encoder == "libx264"
    assert rec.opencv_threads == 1  # no OpenCV thread pool spinning beside the camera and the encoder
    wait_until(lambda: rec.frames_captured >= 35, what="a full pre-roll")
    got = rec.preview_frame()
    assert got is not None and got[1].shape == (180, 240, 3)  # scaled in the recorder process
    n = got[0]
    wait_until(lambda: rec.preview_frame(n) is not None, what="a newer preview picture")
    assert rec.preview_frame(rec.preview_frame()[0]) is None  # type: ignore[index]  # nothing new: no copy made

    rec.start(job())
    assert isinstance(events[0], RecordingStarted) and rec.state is RecorderState.RECORDING
    if sys.platform.startswith("linux"):  # the encoder's thread yields a little; capture and the rest do not
        base = os.getpriority(os.PRIO_PROCESS, pid)
        wait_until(lambda: base + ENCODER_NICE in thread_nices(pid), what="the encoder thread at nice +3")
        assert base in thread_nices(pid)
    n0 = rec.frames_captured
    wait_until(lambda: rec.frames_captured >= n0 + 30, what="1 s of live frames")
    rec.stop("k1", PackOutcome.COMPLETED)
    assert rec.state is RecorderState.IDLE
    done = finished(events, "k1")
    # capture and encoding never ran here: the only thread this process added watches the recorder process
    assert not {t for t in our_threads() if t.startswith(("packdesk-camera", "packdesk-encoder"))}
    assert "packdesk-recorder-watch" in our_threads()
    assert (done.sha256, done.size_bytes) == file_digest(done.path)  # hashed by the recorder process, as it closed
    frames = read_frames(done.path)
    assert len(frames) == done.frames >= 30 + 25 and frames[0].shape == (512, 640, 3)
    assert "k1" in rec.first_live_mono and rec.first_live_mono["k1"] >= rec.start_mono["k1"] - 0.05

    share = Path("/dev/shm") / rec._share.name
    assert share.exists()
    rec.close()
    assert not alive(pid) and not share.exists()  # no orphan, no shared memory left behind


def test_hd_camera_korean_overlay_and_preview(make_recorder, qapp) -> None:  # type: ignore[no-untyped-def]
    """1280x720: the preview comes 16:9 at the preview's width; the packer's Korean name is drawn in the
    recorder process with Qt's fonts (cv2 has no Hangul), exactly as this process would draw it."""
    from packdesk.ui.overlay_text import render_label

    rec, events = make_recorder(size=(1280, 720), pre_roll_s=0.3,
                                label_renderer="packdesk.ui.overlay_text:render_label")
    assert fit((1280, 720), (240, 180)) == (240, 135)
    wait_until(lambda: rec.preview_frame() is not None, what="a preview picture")
    assert rec.preview_frame()[1].shape == (135, 240, 3)  # type: ignore[index]
    j = job()
    rec.start(j)
    n0 = rec.frames_captured
    wait_until(lambda: rec.frames_captured >= n0 + 10, what="live HD frames")
    rec.stop("k1", PackOutcome.COMPLETED)
    done = finished(events, "k1")
    last = read_frames(done.path)[-1]
    band = band_height(720)
    assert last.shape == (720 + band, 1280, 3)
    at = j.started_at  # the label part of the band does not change with the clock
    expected = {name: Overlay(j, (1280, 720), r).band_image(at)[:, :700].astype(int)
                for name, r in (("qt", render_label), ("ascii", ascii_label))}
    got = last[:band, :700].astype(int)
    off = {name: float(np.abs(got - e).mean()) for name, e in expected.items()}
    assert off["qt"] < 4 < off["ascii"], off


def test_the_preview_comes_at_the_size_the_window_shows_it(make_recorder) -> None:  # type: ignore[no-untyped-def]
    """The station's window says the box it shows the picture in; the recorder process scales to it (the
    station only copies it to the screen), never beyond the shared memory's size."""
    rec, _ = make_recorder(size=(1280, 720), pre_roll_s=0.3, preview_size=(640, 480))

    def newest_shape() -> tuple[int, ...] | None:
        got = rec.preview_frame()
        return got[1].shape if got is not None else None

    wait_until(lambda: newest_shape() == (360, 640, 3), what="the largest preview before any box")
    rec.set_preview_box((320, 240))  # a smaller window
    wait_until(lambda: newest_shape() == (180, 320, 3), what="the preview at the window's box")
    rec.set_preview_box((2000, 1500))  # more than the shared memory holds: its size
    wait_until(lambda: newest_shape() == (360, 640, 3), what="the preview at the share's size")


def test_killed_recorder_is_seen_at_once_and_records_again(make_recorder, expect_warnings) -> None:  # type: ignore[no-untyped-def]
    rec, events = make_recorder(pre_roll_s=0.5)
    n0 = rec.frames_captured
    rec.start(job())
    wait_until(lambda: "k1" in rec.first_live_mono, what="the first live frame")
    wait_until(lambda: rec.frames_captured >= n0 + 90, what="3 s filmed")
    pid = rec.pid
    assert pid is not None
    filmed = 15 + rec.frames_captured - n0  # the pre-roll and the live frames so far
    killed = time.monotonic()
    os.kill(pid, signal.SIGKILL)
    wait_until(lambda: any(isinstance(e, RecorderCrashed) for e in events), 5, "the crash to be reported")
    seen = time.monotonic() - killed
    crash = next(e for e in events if isinstance(e, RecorderCrashed))
    assert rec.state is RecorderState.FAILED or rec.pid != pid
    _, cut_path = crash.cut[0]
    assert crash.cut == (("k1", events[0].path),) and cut_path is not None  # type: ignore[union-attr]
    # the station, told, asks for the rest of the pack: filmed as soon as a new recorder process is up
    rec.start(replace(job(), started_at=datetime.now(UTC)))
    wait_until(lambda: rec.first_live_mono.get("k1", 0) > killed, 10, "filming again")
    again = rec.first_live_mono["k1"] - killed
    print(f"kill -9 of the recorder: seen after {seen * 1000:.0f} ms, filming again after {again:.2f} s")
    assert seen < 1.0 and again < 3.0
    assert not alive(pid) and rec.pid != pid and rec.crashes == 1
    rec.stop("k1", PackOutcome.COMPLETED)
    done = finished(events, "k1")
    assert done.path != cut_path and done.frames > 0
    kept = read_frames(cut_path)
    print(f"the cut file: {len(kept)} of {filmed} frames filmed")
    assert len(kept) >= filmed - 60  # it plays up to where it was killed, less the encoder's backlog (<= 2 s)
    with av.open(str(cut_path)) as c:
        assert sum(1 for _ in c.decode(video=0)) == len(kept)


def test_recording_asked_for_while_no_recorder_process_is_up_starts_when_one_is(make_recorder, expect_warnings) -> None:  # type: ignore[no-untyped-def]
    rec, events = make_recorder(pre_roll_s=0.0)
    pid = rec.pid
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    wait_until(lambda: any(isinstance(e, RecorderCrashed) for e in events), 5, "the crash to be reported")
    assert next(e for e in events if isinstance(e, RecorderCrashed)).cut == ()  # nothing was being filmed
    rec.start(job("k2"))  # returns at once, whether the new recorder process is up yet or not
    wait_until(lambda: "k2" in rec.first_live_mono, STARTUP_S, "the queued recording to start")
    rec.stop("k2", PackOutcome.COMPLETED)
    assert finished(events, "k2").frames > 0


def test_killed_station_leaves_a_whole_file_and_no_process(tmp_path: Path) -> None:
    """kill -9 of the station's process mid-recording: the recorder process notices, closes the file as a
    stop would, and exits; the file plays and lacks at most the last second; nothing of the station's
    process tree is left running."""
    parent = subprocess.Popen([sys.executable, "-m", "tests.devices.recorder_parent", str(tmp_path)],
                              stdout=subprocess.PIPE, text=True, cwd=ROOT, start_new_session=True,
                              env={**os.environ, "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{ROOT}"})
    path: Path | None = None
    recorder, live, first = 0, 0.0, 0
    killed = 0.0
    try:
        assert parent.stdout is not None
        for line in parent.stdout:
            word, *rest = line.split()
            if word == "recorder":
                recorder = int(rest[0])
            elif word == "path":
                path = Path(rest[0])
            elif word == "live":
                live, first = float(rest[0]), int(rest[1])
            elif word == "frames" and live and int(rest[0]) >= first + 90:  # 3 s filmed
                killed = time.monotonic()
                os.kill(parent.pid, signal.SIGKILL)
                break
    finally:
        parent.kill()
        parent.wait(10)
        if parent.stdout:
            parent.stdout.close()
    assert path is not None and recorder and killed
    wait_until(lambda: not alive(int(recorder)), 10, "the recorder process to exit by itself")
    gone_after = time.monotonic() - killed
    wait_until(lambda: not session_members(parent.pid), 10, "every process the station started to end")
    assert path.stat().st_size % 188 == 0  # whole MPEG-TS packets: closed, not torn
    with av.open(str(path)) as c:
        decoded = [f.time for f in c.decode(video=0)]
    assert len(read_frames(path)) == len(decoded) >= 90
    lost = (killed - live) - (decoded[-1] - decoded[0])
    print(f"kill -9 of the station: recorder process gone after {gone_after:.2f} s, {lost:.2f} s of video lost")
    assert lost <= 1.0 and gone_after < 5.0
