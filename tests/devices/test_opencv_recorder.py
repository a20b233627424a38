"""The built-in recorder through its real pipeline: camera thread -> queue -> overlay -> x264 -> MPEG-TS."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from packdesk.core.enums import PackOutcome
from packdesk.core.kst import kst
from packdesk.devices import opencv_recorder
from packdesk.devices.camera import SYNTHETIC, Camera, CameraState, Frame, OpenCvSource, SyntheticSource
from packdesk.devices.opencv_recorder import (
    TS_OPTIONS,
    EncoderSettings,
    FrameMaker,
    OpenCvRecorder,
    Overlay,
    ascii_label,
    band_height,
    choose_encoder,
    encoder_candidates,
    probe_encoder,
    video_path,
)
from packdesk.devices.recorder import (
    RecorderEvent,
    RecorderState,
    RecordingFailed,
    RecordingFinished,
    RecordingJob,
    RecordingStarted,
)
from tests.waiting import wait_until

FPS = 30.0


def job(key: str = "k1", waybill: str = "601000000011") -> RecordingJob:
    return RecordingJob(key, waybill, "STATION-1", "김민수", datetime.now(UTC))


def read_frames(path: Path) -> list[np.ndarray]:
    cap = cv2.VideoCapture(str(path))
    frames = []
    while True:
        ok, f = cap.read()
        if not ok:
            break
        frames.append(f)
    cap.release()
    return frames


@pytest.fixture
def camera() -> Iterator[Camera]:
    cam = Camera(SYNTHETIC, (640, 480), FPS, pre_roll_s=1.0)
    cam.start()
    wait_until(lambda: cam.frames_captured >= FPS * 1.2, what="pre-roll to fill")
    yield cam
    cam.stop()


def finished(events: list[RecorderEvent]) -> RecordingFinished:
    wait_until(lambda: any(isinstance(e, RecordingFinished) for e in events), 10, "the file to close")
    return next(e for e in events if isinstance(e, RecordingFinished))


def test_records_pre_roll_and_live_frames_with_overlay(camera: Camera, tmp_path: Path) -> None:
    events: list[RecorderEvent] = []
    rec = OpenCvRecorder(camera, tmp_path, emit=events.append, min_free_bytes=0)
    assert rec.state is RecorderState.IDLE and rec.ready() == (True, "")
    rec.start(job())
    assert rec.state is RecorderState.RECORDING
    started = events[0]
    assert isinstance(started, RecordingStarted) and started.path.suffix == ".ts"
    n0 = camera.frames_captured
    wait_until(lambda: camera.frames_captured >= n0 + 45, what="1.5 s of live frames")
    rec.stop("k1", PackOutcome.COMPLETED)
    done = finished(events)
    assert done.outcome is PackOutcome.COMPLETED and done.dropped == 0
    assert done.started_at < started.started_at  # the pre-roll reaches back before the scan
    frames = read_frames(done.path)
    assert len(frames) == done.frames >= 30 + 45  # 1 s pre-roll + live
    assert done.size_bytes == done.path.stat().st_size > 10_000
    band = band_height(480)
    with av.open(str(done.path)) as c:  # a real H.264 stream, the band added above the 640x480 picture
        s = c.streams.video[0]
        assert s.codec_context.name == "h264" and (s.width, s.height) == (640, 480 + band) == (640, 512)
        decoded = sum(1 for _ in c.decode(video=0))
    assert decoded == len(frames)
    duration = (done.ended_at - done.started_at).total_seconds()
    assert abs(duration - (len(frames) - 1) / FPS) < 0.2
    # the band: black with white text and the red REC dot; the camera's picture below it, whole
    f = frames[-1]
    top = f[:band]
    assert np.median(top) < 20 and (top > 200).any(axis=2).sum() > 150  # waybill, names, clock
    b, g, r = f[band // 2, 640 - band // 2].astype(int)
    assert r > 150 and g < 80 and b < 80
    picture = f[band:]
    assert picture.shape == (480, 640, 3) and np.median(picture[:30]) > 60  # the rows the bar used to hide
    assert np.median(picture[-30:]) > 60
    # the pre-roll's band has the station only: the live band's text reaches further (waybill and packer)
    def text_extent(frame: np.ndarray) -> int:
        bright = np.nonzero((frame[:band, :330] > 200).any(axis=(0, 2)))[0]
        return int(bright.max()) if len(bright) else 0

    assert text_extent(frames[0]) + 60 < text_extent(frames[-1])


def record_live(camera: Camera, tmp_path: Path, live_frames: int, outcome: PackOutcome) -> RecordingFinished:
    """One recording of ``job()`` with its pre-roll and ``live_frames`` captured after the start, ended so."""
    events: list[RecorderEvent] = []
    rec = OpenCvRecorder(camera, tmp_path, emit=events.append, min_free_bytes=0)
    rec.start(job())
    n0 = camera.frames_captured
    wait_until(lambda: camera.frames_captured >= n0 + live_frames, what=f"{live_frames} live frames")
    rec.stop("k1", outcome)
    return finished(events)


def test_clock_in_overlay_advances(camera: Camera, tmp_path: Path) -> None:
    done = record_live(camera, tmp_path, 40, PackOutcome.CANCELLED)
    frames = read_frames(done.path)
    clock_region = [f[:band_height(480), 400:600] for f in (frames[0], frames[-1])]
    assert done.outcome is PackOutcome.CANCELLED
    assert not np.array_equal(*clock_region)  # two seconds apart: the burned-in time changed


def test_file_source_goes_through_the_same_path(tmp_path: Path) -> None:
    clip = tmp_path / "clip.mp4"
    with av.open(str(clip), "w") as out:
        st = out.add_stream("mpeg4", rate=30)
        st.width, st.height, st.pix_fmt = 320, 240, "yuv420p"
        for i in range(20):
            img = np.full((240, 320, 3), i * 10, np.uint8)
            for p in st.encode(av.VideoFrame.from_ndarray(img, format="bgr24")):
                out.mux(p)
        for p in st.encode():
            out.mux(p)
    source = OpenCvSource(str(clip), (320, 240), FPS)
    try:  # a file is decoded on the camera's thread alone, without FFmpeg's frame threads
        assert source.decoder_threads == 1 and source.read() is not None
    finally:
        source.close()
    cam = Camera(str(clip), (320, 240), FPS, pre_roll_s=0.5)
    cam.start()
    try:
        wait_until(lambda: cam.frames_captured >= 40, what="the file to loop")  # 20 frames, looped
        assert cam.state == CameraState.RUNNING
        events: list[RecorderEvent] = []
        rec = OpenCvRecorder(cam, tmp_path / "v", emit=events.append, min_free_bytes=0)
        rec.start(job())
        n0 = cam.frames_captured
        wait_until(lambda: cam.frames_captured >= n0 + 15, what="live frames")
        rec.stop("k1", PackOutcome.COMPLETED)
        done = finished(events)
        assert len(read_frames(done.path)) == done.frames >= 15
    finally:
        cam.stop()


def test_disk_guard_refuses_to_start(camera: Camera, tmp_path: Path) -> None:
    events: list[RecorderEvent] = []
    rec = OpenCvRecorder(camera, tmp_path, emit=events.append, min_free_bytes=10 * 1024**3,
                         disk_free=lambda p: 1024**3)
    assert rec.ready() == (False, "disk_low")
    rec.start(job())
    assert events == [RecordingFailed("k1", "disk_low", events[0].detail)]  # type: ignore[union-attr]
    assert "1.1 GB" in events[0].detail and rec.state is RecorderState.IDLE  # type: ignore[union-attr]
    assert not list(tmp_path.rglob("*.ts"))


def test_unavailable_camera_is_reported(tmp_path: Path, expect_warnings) -> None:  # type: ignore[no-untyped-def]
    states: list[str] = []
    cam = Camera(str(tmp_path / "missing.mp4"), on_status=lambda s, d: states.append(s))
    cam.start()
    try:
        wait_until(lambda: cam.state == CameraState.FAILED, what="camera failure")
        events: list[RecorderEvent] = []
        rec = OpenCvRecorder(cam, tmp_path, emit=events.append, min_free_bytes=0)
        assert rec.state is RecorderState.FAILED
        rec.start(job())
        assert isinstance(events[0], RecordingFailed) and events[0].code == "camera_unavailable"
    finally:
        cam.stop()
    assert (states[0] == CameraState.FAILED and "missing.mp4" in cam.detail) or states


def test_file_names_by_day_and_waybill_never_overwrite(tmp_path: Path) -> None:
    j = RecordingJob("k", "601/000 11", "S", "p", datetime(2026, 11, 24, 1, 2, 3, tzinfo=UTC))
    p1 = video_path(tmp_path, j)
    local = kst(j.started_at)
    assert p1.parent.name == local.strftime("%Y-%m-%d") and p1.name == f"601_000_11_{local:%H%M%S}.ts"
    p1.parent.mkdir(parents=True)
    p1.touch()
    assert video_path(tmp_path, j).name.endswith("_2.ts")


def test_sigkill_loses_at_most_two_seconds(tmp_path: Path) -> None:
    """A recording process killed without warning leaves a playable file missing at most ~2 s."""
    child = subprocess.Popen([sys.executable, "-m", "tests.devices.recording_child", str(tmp_path)],
                             stdout=subprocess.PIPE, text=True, cwd=Path(__file__).resolve().parents[2],
                             env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])})
    path: Path | None = None
    fed = total = 0
    try:
        assert child.stdout is not None
        for line in child.stdout:
            if line.startswith("path "):
                path = Path(line.split(" ", 1)[1].strip())
            elif line.startswith("fed "):
                fed, total = (int(x) for x in line.split()[1:3])  # handed to the encoder; fed in all
                if fed >= 150:  # 5 s handed to the encoder (a busy machine queues more before it)
                    child.send_signal(signal.SIGKILL)
                    break
    finally:
        child.kill()
        child.wait(10)
        if child.stdout:
            child.stdout.close()
    assert path is not None and path.exists()
    recovered = len(read_frames(path))
    print(f"SIGKILL: {fed} frames fed, {recovered} readable")
    # lost: what x264 still held (its look-ahead), never more than 2 s of what it was handed
    assert recovered >= fed - 2 * FPS, f"{fed} frames handed to the encoder, {recovered} readable after SIGKILL"
    assert recovered <= total + 30  # never more than was fed (the frames fed between the line and the kill)
    with av.open(str(path)) as c:  # PyAV agrees
        assert sum(1 for _ in c.decode(video=0)) == recovered


def test_stop_for_another_pack_is_ignored_and_start_closes_a_forgotten_one(camera: Camera, tmp_path: Path) -> None:
    events: list[RecorderEvent] = []
    rec = OpenCvRecorder(camera, tmp_path, emit=events.append, min_free_bytes=0)
    rec.start(job("a"))
    rec.stop("zzz", PackOutcome.COMPLETED)
    assert rec.state is RecorderState.RECORDING
    rec.start(job("b", "601000000022"))
    wait_until(lambda: any(isinstance(e, RecordingFinished) for e in events), 10, "a's file to close")
    first = next(e for e in events if isinstance(e, RecordingFinished))
    assert first.pack_key == "a" and first.outcome is PackOutcome.ABANDONED
    rec.close()
    keys = [e.pack_key for e in events if isinstance(e, RecordingFinished)]
    assert keys == ["a", "b"]


def test_ip_camera_url_goes_through_the_same_path(tmp_path: Path) -> None:
    """An http:// camera source (FFmpeg reads the stream); served from 127.0.0.1."""
    import functools
    import threading
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    clip = tmp_path / "cam.mp4"
    with av.open(str(clip), "w") as out:
        st = out.add_stream("mpeg4", rate=30)
        st.width, st.height, st.pix_fmt = 320, 240, "yuv420p"
        for i in range(60):
            for p in st.encode(av.VideoFrame.from_ndarray(np.full((240, 320, 3), i * 4, np.uint8), format="bgr24")):
                out.mux(p)
        for p in st.encode():
            out.mux(p)

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(tmp_path)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    cam = Camera(f"http://127.0.0.1:{server.server_address[1]}/cam.mp4", (320, 240), FPS, pre_roll_s=0.5)
    try:
        cam.start()
        wait_until(lambda: cam.frames_captured >= 30, what="frames from the URL")
        assert cam.state == CameraState.RUNNING and cam.latest() is not None
        assert cam.latest().image.shape == (240, 320, 3)  # type: ignore[union-attr]
    finally:
        cam.stop()
        server.shutdown()
        server.server_close()
        thread.join(5)


def test_band_is_added_outside_the_picture_in_whole_macroblocks() -> None:
    assert [band_height(h) for h in (240, 480, 600, 720, 1080)] == [24, 32, 40, 48, 72]
    assert all((h + band_height(h)) % 16 == 0 for h in (480, 720, 1080))
    j = job()
    img = SyntheticSource((1280, 720)).read()
    assert img is not None
    out = Overlay(j, (1280, 720), ascii_label).draw(img, j.started_at)
    assert out.shape == (768, 1280, 3) and np.array_equal(out[48:], img)  # not one pixel of the picture covered


def test_frames_made_in_reused_buffers_are_encoded_as_they_were_made() -> None:
    """``FrameMaker`` writes every frame into the same two buffers and hands libx264 the I420 one itself. Had x264
    kept a reference instead of copying the frame in, later frames would overwrite earlier ones before they were
    encoded. Encoded losslessly (CRF 0, the recorder's settings otherwise), every frame decodes to exactly the
    picture and band it was made from.
    (It compared the stream with one made from a fresh copy of every frame, byte for byte: under CPU load x264
    made a different stream from the same frames now and then, 20 of 30 runs beside two busy processes, while the
    frames decoded losslessly were right every time.)"""
    size = (320, 240)
    source = SyntheticSource(size, noise=3.0)
    pictures = [source.read() for _ in range(40)]
    j = job()
    settings = replace(EncoderSettings.for_size(size), crf=0)
    ats = [j.started_at + timedelta(seconds=i / FPS) for i in range(len(pictures))]
    reference = Overlay(j, size, ascii_label)
    expected = [cv2.cvtColor(reference.draw(p, at), cv2.COLOR_BGR2YUV_I420)
                for p, at in zip(pictures, ats, strict=True)]
    assert len({e.tobytes() for e in expected}) == len(expected)  # every frame differs from the others

    def encode(frames: list[av.VideoFrame] | None = None) -> list[np.ndarray]:
        buf = io.BytesIO()
        with av.open(buf, "w", format="mpegts") as out:
            stream = settings.open_stream(out, reference.out_size, FPS)
            make = FrameMaker(Overlay(j, size, ascii_label), settings)
            for i, (picture, at) in enumerate(zip(pictures, ats, strict=True)):
                vf = frames[i] if frames is not None else make.frame(picture, at, round(i * 1000 / FPS))
                out.mux(stream.encode(vf))
            out.mux(stream.encode())
        buf.seek(0)
        with av.open(buf) as c:
            return [f.to_ndarray(format="yuv420p") for f in c.decode(video=0)]

    got = encode()
    assert len(got) == len(expected) and all(np.array_equal(g, e) for g, e in zip(got, expected, strict=True))
    # and the check sees the fault it is for: frames all made before any is encoded share the buffer, and the
    # stream is the last frame over and over
    make = FrameMaker(Overlay(j, size, ascii_label), settings)
    early = [make.frame(p, at, round(i * 1000 / FPS)) for i, (p, at) in enumerate(zip(pictures, ats, strict=True))]
    assert all(np.array_equal(g, expected[-1]) for g in encode(early))


def ts_tables_per_second(path: Path, seconds: float) -> float:
    """PAT packets (PID 0) in an MPEG-TS file per second of its video."""
    data = path.read_bytes()
    pat = sum(1 for i in range(0, len(data), 188) if data[i + 1] & 0x1F == 0 and data[i + 2] == 0)
    return pat / seconds


def test_the_file_repeats_its_tables_once_a_second_not_ten_times(camera: Camera, tmp_path: Path) -> None:
    """FFmpeg's muxer repeats PAT and PMT ten times a second by default: 12 % of a 640x480 recording's bytes."""
    assert TS_OPTIONS["pat_period"] == "1"
    done = record_live(camera, tmp_path, 60, PackOutcome.COMPLETED)
    seconds = done.frames / FPS
    assert seconds >= 2.5 and ts_tables_per_second(done.path, seconds) <= 1.5
    assert len(read_frames(done.path)) == done.frames  # and it plays from its start, every frame


def test_pre_roll_frames_carry_no_waybill() -> None:
    """Frames filmed before the scan show the station and the time only: two packs at the same station and
    second differ in their band only from the scan on."""
    a, b = job("a", "601000000011"), job("b", "602999999998")
    b = replace(b, started_at=a.started_at)
    oa, ob = Overlay(a, (640, 480), ascii_label), Overlay(b, (640, 480), ascii_label)
    before = a.started_at - timedelta(milliseconds=400)
    after = a.started_at + timedelta(milliseconds=400)
    if int(before.timestamp()) != int(after.timestamp()):  # the clocks would differ anyway: compare within a second
        before, after = a.started_at - timedelta(milliseconds=1), a.started_at
    assert not oa.is_live(before) and oa.is_live(after)
    assert np.array_equal(oa.band_image(before), ob.band_image(before))
    assert not np.array_equal(oa.band_image(after), ob.band_image(after))
    assert not np.array_equal(oa.band_image(before), oa.band_image(after))  # the waybill appears at the scan


def test_hardware_encoder_that_fails_falls_back_to_libx264(monkeypatch: pytest.MonkeyPatch) -> None:
    """On this PC every hardware H.264 encoder fails to open (the wheel's NVENC/QSV/AMF are stubs here, Media
    Foundation is Windows-only) and a made-up one does not exist: libx264 is chosen, once, and remembered."""
    assert encoder_candidates("auto", "win32") == ("h264_nvenc", "h264_qsv", "h264_amf", "h264_mf", "libx264")
    assert encoder_candidates("auto", "linux") == ("libx264",)
    assert encoder_candidates("libx264") == ("libx264",)
    assert probe_encoder("h264_fakehw", (320, 256), 30.0) and probe_encoder("h264_nvenc", (320, 256), 30.0)
    assert probe_encoder("libx264", (320, 256), 30.0) == ""
    probed: list[str] = []
    real = opencv_recorder.probe_encoder
    monkeypatch.setattr(opencv_recorder, "probe_encoder", lambda c, s, f: probed.append(c) or real(c, s, f))
    monkeypatch.setattr(opencv_recorder, "_CHOSEN", {})
    candidates = ("h264_fakehw", *encoder_candidates("auto", "win32"))
    assert choose_encoder(candidates, (320, 256), 30.0) == "libx264"
    assert probed == list(candidates)
    assert choose_encoder(candidates, (320, 256), 30.0) == "libx264" and len(probed) == len(candidates)  # cached


def test_a_hardware_encoder_that_works_is_chosen_first(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(opencv_recorder, "probe_encoder", lambda c, s, f: "" if c == "h264_qsv" else "no device")
    monkeypatch.setattr(opencv_recorder, "_CHOSEN", {})
    assert choose_encoder(encoder_candidates("auto", "win32"), (640, 512), 30.0) == "h264_qsv"
    settings = EncoderSettings.for_size((1280, 720), "h264_qsv")
    assert settings.hardware and settings.pix_fmt == "nv12" and "crf" not in settings.options()


def test_hd_recording_uses_the_faster_preset(tmp_path: Path) -> None:
    sd = EncoderSettings.for_size((640, 480))
    assert sd.preset == "veryfast" and sd.options() == {
        "preset": "veryfast", "crf": "30.8", "threads": "1", "tune": "psnr", "x264-params": "subme=1:me=dia:trellis=1"}
    hd = EncoderSettings.for_size((1280, 720))
    assert hd == EncoderSettings.for_size((1920, 1080)) and hd.preset == "superfast" and hd.options()["tune"] == "psnr"
    cam = Camera(SYNTHETIC, (1280, 720), FPS, pre_roll_s=0.3)
    cam.start()
    try:
        wait_until(lambda: cam.frames_captured >= 10, what="HD frames")
        events: list[RecorderEvent] = []
        rec = OpenCvRecorder(cam, tmp_path, emit=events.append, min_free_bytes=0)
        rec.start(job())
        n0 = cam.frames_captured
        wait_until(lambda: cam.frames_captured >= n0 + 15, what="live HD frames")
        rec.stop("k1", PackOutcome.COMPLETED)
        done = finished(events)
    finally:
        cam.stop()
    with av.open(str(done.path)) as c:
        assert (c.streams.video[0].width, c.streams.video[0].height) == (1280, 768)
        assert sum(1 for _ in c.decode(video=0)) == done.frames >= 15


def test_one_frame_is_encoded_at_a_time_across_recordings(camera: Camera, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """Two recordings finishing side by side share one encoding slot: the recorder never runs two x264s at
    once (on a two-core PC the station's window keeps a core)."""
    held: list[bool] = []
    real_open = EncoderSettings.open_stream

    def open_stream(self, out, size, fps):  # type: ignore[no-untyped-def]
        stream = real_open(self, out, size, fps)

        class Watched:
            def encode(self, frame=None):  # type: ignore[no-untyped-def]
                held.append(opencv_recorder._ENCODE_SLOT.locked())
                return stream.encode(frame)

        return Watched()

    monkeypatch.setattr(EncoderSettings, "open_stream", open_stream)
    events: list[RecorderEvent] = []
    rec = OpenCvRecorder(camera, tmp_path, emit=events.append, min_free_bytes=0)
    rec.start(job("a"))
    rec.start(job("b", "601000000022"))  # a's 1 s pre-roll is still being encoded (b's own begins after it)
    n0 = camera.frames_captured
    wait_until(lambda: camera.frames_captured >= n0 + 10, what="live frames")
    rec.close()
    done = [e for e in events if isinstance(e, RecordingFinished)]
    assert sorted(e.pack_key for e in done) == ["a", "b"]
    assert len(held) >= sum(e.frames for e in done) >= 40 and all(held)


class HandheldCamera:
    """A camera whose frames the test takes one by one (no thread, no clock): frame ``n`` is at ``T0 + n/FPS``."""

    state = CameraState.RUNNING
    detail = ""
    size = (320, 240)
    fps = FPS

    def __init__(self, pre_roll_frames: int) -> None:
        self.ring: deque[Frame] = deque(maxlen=pre_roll_frames)
        self.sink: Callable[[Frame], None] | None = None
        self.n = 0

    def at(self, n: int) -> datetime:
        return T0 + timedelta(seconds=n / FPS)

    def attach(self, sink: Callable[[Frame], None]) -> list[Frame]:
        self.sink = sink
        return list(self.ring)

    def detach(self) -> None:
        self.sink = None

    def stop(self) -> None:
        pass

    def shoot(self, frames: int) -> None:
        for _ in range(frames):
            self.n += 1
            f = Frame(np.full((240, 320, 3), 40 + self.n % 200, np.uint8), self.at(self.n), self.n / FPS)
            self.ring.append(f)
            if self.sink is not None:
                self.sink(f)


T0 = datetime(2026, 12, 7, 3, 0, tzinfo=UTC)


def test_each_camera_frame_goes_into_one_file(tmp_path: Path) -> None:
    """Back to back, a pack's pre-roll begins where the last pack's file ended (none lost, none in both: encoding
    the whole pre-roll again for each pack outran the recorder); after a pause, it is the whole pre-roll."""
    cam = HandheldCamera(pre_roll_frames=30)
    events: list[RecorderEvent] = []
    rec = OpenCvRecorder(cam, tmp_path, emit=events.append, min_free_bytes=0)  # type: ignore[arg-type]
    cam.shoot(40)
    rec.start(job("k1", "601000000011"))  # frames 11-40 are its pre-roll
    cam.shoot(10)          # 41-50 live
    rec.stop("k1", PackOutcome.CANCELLED)
    cam.shoot(5)           # 51-55: between the packs
    rec.start(job("k2", "601000000022"))  # back to back: its pre-roll is 51-55, not 26-55
    cam.shoot(10)          # 56-65
    rec.stop("k2", PackOutcome.CANCELLED)
    cam.shoot(45)          # 66-110: a pause longer than the pre-roll
    rec.start(job("k3", "601000000033"))  # 81-110
    cam.shoot(5)           # 111-115
    rec.stop("k3", PackOutcome.CANCELLED)
    rec.close()
    wait_until(lambda: sum(isinstance(e, RecordingFinished) for e in events) == 3, 10, "the three files to close")
    done = {e.pack_key: e for e in events if isinstance(e, RecordingFinished)}
    spans = {k: (d.started_at, d.ended_at, d.frames) for k, d in done.items()}
    assert spans == {"k1": (cam.at(11), cam.at(50), 40), "k2": (cam.at(51), cam.at(65), 15),
                     "k3": (cam.at(81), cam.at(115), 35)}
    assert [len(read_frames(done[k].path)) for k in ("k1", "k2", "k3")] == [40, 15, 35]
