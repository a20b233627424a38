"""Recording cost for every resolution and encoder the recorder offers, on the synthetic camera and on real
webcam footage, through the recorder as a station runs it: in its own process
(``devices/recorder_process.py``), the overlay's band drawn with the station's fonts.

Sources: ``synthetic`` is the noisy synthetic camera (sensor-like noise so x264 has real work); ``clip`` is a
real webcam clip (``bench/_footage.py``: a hand moving a box over a table, 640x480) looped through the
camera-file source, resized by the camera like any source of another size. Synthetic footage flatters the
bitrate about 3x; other sizes of the clip are the clip scaled, which flatters the larger ones too.
Resolutions: ``camera.RESOLUTIONS``. Encoders: the H.264 encoders PyAV can open on this PC (hardware ones
need their device and driver), each named to the recorder (``recording.encoder``; one that fails there falls
back to libx264, and the row says which encoder made the file).

For each, after a full pre-roll, reports:
- dropped frames: queue drops, and live frames missing against fps x duration (the camera fell behind);
- CPU: CPU time of this process and the recorder's while recording / wall time (share of ONE core), split into
  the recorder process (capture + overlay + encode) and this one (the pipe, the preview's shared memory), and
  the camera alone before it;
- MB per hour of video;
- mean PSNR of the file against the camera picture: every frame decoded, matched to the camera frame it came
  from (the source is replayed: it is deterministic), compared over the middle 3/4 of the picture's rows (the
  overlay's band above the picture is left out);
- scan to first frame: from ``start()`` (the waybill scan) to the first live frame in the recording.
Targets (issue #18) where they apply: 640x480 real footage <= 100 MB/hour at >= 33 dB, <= 20 % of one core,
0 dropped; 1280x720 libx264 0 dropped and <= 45 % of one core; first frame <= 100 ms.

    .venv/bin/python bench/recording.py [--seconds 60] [--sources synthetic,clip] [--resolutions 640x480,...]
                                        [--encoders libx264,...] [--clip FILE] [--quick]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from fractions import Fraction
from pathlib import Path
from typing import Any

import _result
import av
import cv2
import numpy as np
from _footage import CLIP_SOURCE, FETCH_HINT, real_clip, sha256, stand_in_clip

from packdesk.core.enums import PackOutcome
from packdesk.devices.camera import RESOLUTIONS, SYNTHETIC_NOISY, open_source
from packdesk.devices.recorder import RecorderEvent, RecordingFailed, RecordingFinished, RecordingJob

LIBX264 = "libx264"
# H.264 encoders worth trying, hardware first (NVIDIA, Intel Quick Sync, AMD, Windows Media Foundation, Linux
# VA-API, macOS, ARM boards), the software one last: what exists depends on the PyAV build and the machine
H264_ENCODERS = ("h264_nvenc", "h264_qsv", "h264_amf", "h264_mf", "h264_vaapi", "h264_videotoolbox",
                 "h264_v4l2m2m", LIBX264)
SOURCES = ("synthetic", "clip")
LABELS = "packdesk.ui.overlay_text:render_label"  # the station's overlay text (Qt's fonts, Korean)
TARGETS: dict[tuple[str, str], dict[str, float]] = {  # (source, resolution) -> issue #18's targets
    ("clip", "640x480"): {"mb_per_hour": 100, "psnr_mean_db": 33, "cpu_one_core": 0.20, "dropped": 0,
                          "first_frame_ms": 100},
    ("clip", "1280x720"): {"cpu_one_core": 0.45, "dropped": 0, "first_frame_ms": 100},
    ("synthetic", "1280x720"): {"cpu_one_core": 0.45, "dropped": 0, "first_frame_ms": 100},
}


def h264_encoders() -> list[str]:
    """The H.264 encoders that open and encode a frame here (a hardware encoder without its device fails)."""
    found = []
    for name in H264_ENCODERS:
        for pix_fmt in ("yuv420p", "nv12"):
            try:
                ctx = av.CodecContext.create(name, "w")
                ctx.width, ctx.height, ctx.pix_fmt = 320, 240, pix_fmt  # type: ignore[attr-defined]
                ctx.time_base = Fraction(1, 30)
                frame = av.VideoFrame.from_ndarray(np.zeros((240, 320, 3), np.uint8), format="bgr24")
                frame = frame.reformat(format=pix_fmt)
                frame.pts = 0
                ctx.encode(frame)  # type: ignore[attr-defined]
                ctx.encode(None)  # type: ignore[attr-defined]
            except Exception:  # not in this build, no device, no driver: not available
                continue
            found.append(name)
            break
    return found


def tree_cpu_seconds() -> float:
    """CPU seconds of this process, its reaped children and its live descendants (a recorder running in a
    child process counts as much as one running in a thread). Linux reads /proc; elsewhere this process."""
    t = os.times()
    total = t.user + t.system + t.children_user + t.children_system
    tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    try:
        parents: dict[int, int] = {}
        times: dict[int, float] = {}
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            with contextlib.suppress(OSError):
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                parents[int(entry.name)] = int(fields[1])
                times[int(entry.name)] = (int(fields[11]) + int(fields[12])) / tick
    except OSError:
        return total
    mine, frontier = set(), {os.getpid()}
    while frontier:
        frontier = {pid for pid, ppid in parents.items() if ppid in frontier and pid not in mine}
        mine |= frontier
    return total + sum(times[p] for p in mine)


def cpu_share(seconds: float) -> float:
    c0, w0 = tree_cpu_seconds(), time.perf_counter()
    threading.Event().wait(seconds)
    return (tree_cpu_seconds() - c0) / (time.perf_counter() - w0)


class Reference:
    """The camera pictures again, in order: the source replayed through the product's own ``open_source``
    and resized as the camera does (``Camera._run``), kept for a short window."""

    KEEP = 32

    def __init__(self, spec: str, size: tuple[int, int], fps: float) -> None:
        self.source = open_source(spec, size, fps)
        self.size = size
        self.frames: dict[int, np.ndarray] = {}
        self.next = 0

    def get(self, n: int) -> np.ndarray:
        while self.next <= n:
            img = self.source.read()
            if img is None:
                raise RuntimeError("the reference source stopped")
            if (img.shape[1], img.shape[0]) != self.size:
                img = cv2.resize(img, self.size, interpolation=cv2.INTER_AREA)
            self.frames[self.next] = img
            self.frames.pop(self.next - self.KEEP, None)
            self.next += 1
        return self.frames[n]

    def close(self) -> None:
        self.source.close()


def psnr_against_camera(path: Path, reference: Callable[[], Reference], first_guess: int,
                        dropped: int, slack: int = 3) -> dict[str, Any]:
    """Mean PSNR of the file's frames against the camera frames they were made from, over the middle 3/4 of the
    rows (clear of the overlay).

    Which camera frame made file frame i: camera frame i + d_i, where d_0 is near ``first_guess`` (the oldest
    pre-roll frame) and d only grows, by the frames dropped before encoding (``dropped``, plus one for a frame
    skipped as a duplicate timestamp). The d_i are chosen together, by the cheapest path over thumbnails
    (dynamic programming): matching frame by frame goes astray in a still scene, where neighbours look alike."""
    ref = reference()
    w, h = ref.size
    margin = h // 8

    def thumb(region: np.ndarray) -> np.ndarray:
        gray = cv2.cvtColor(region[margin: region.shape[0] - margin], cv2.COLOR_BGR2GRAY)
        return cv2.resize(gray, (80, 60), interpolation=cv2.INTER_AREA).astype(np.float32)

    def frames() -> Iterator[np.ndarray]:
        with av.open(str(path)) as container:
            for frame in container.decode(video=0):
                yield frame.to_ndarray(format="bgr24")

    # pass 1: thumbnails of the file (the picture found in it) and of the camera frames it can have come from
    file_thumbs: list[np.ndarray] = []
    ref_thumbs: list[np.ndarray] = []

    def ref_thumb(n: int) -> np.ndarray:
        while len(ref_thumbs) <= n:
            ref_thumbs.append(thumb(ref.get(len(ref_thumbs))))
        return ref_thumbs[n]

    top = 0
    lo = max(0, first_guess - slack)
    step = dropped + 1
    hi = first_guess + slack + step
    try:
        for img in frames():
            fh, fw = img.shape[:2]
            if fw != w or fh < h:
                raise RuntimeError(f"file frames are {fw}x{fh}, the camera's {w}x{h}: adapt psnr_against_camera")
            if not file_thumbs and fh != h:  # a band added above or below the picture shifts it
                top = min((0, fh - h), key=lambda t: min(float(np.mean((thumb(img[t:t + h]) - ref_thumb(n)) ** 2))
                                                         for n in range(lo, hi + 1)))
            file_thumbs.append(thumb(img[top:top + h]))
        ref_thumb(len(file_thumbs) + hi)
    finally:
        ref.close()
    if not file_thumbs:
        return {"psnr_mean_db": None, "psnr_min_db": None, "psnr_frames": 0}
    offsets = range(lo, hi + 1)
    cost = np.array([float(np.mean((file_thumbs[0] - ref_thumbs[d]) ** 2)) if d <= first_guess + slack else np.inf
                     for d in offsets])
    came: list[np.ndarray] = []
    for i in range(1, len(file_thumbs)):
        best_prev = np.empty(len(offsets), dtype=np.int64)
        best_cost = np.empty(len(offsets))
        for k in range(len(offsets)):
            window = cost[max(0, k - step): k + 1]
            j = int(np.argmin(window))
            best_prev[k], best_cost[k] = max(0, k - step) + j, window[j]
        here = np.array([float(np.mean((file_thumbs[i] - ref_thumbs[i + d]) ** 2)) for d in offsets])
        cost = best_cost + here
        came.append(best_prev)
    k = int(np.argmin(cost))
    path_k = [k]
    for prev in reversed(came):
        k = int(prev[k])
        path_k.append(k)
    source_index = [i + offsets[k] for i, k in enumerate(reversed(path_k))]

    # pass 2: full-size PSNR of each file frame against its camera frame
    values: list[float] = []
    ref = reference()
    try:
        for i, img in enumerate(frames()):
            camera = ref.get(source_index[i])[margin:h - margin]
            values.append(min(99.0, float(cv2.PSNR(img[top + margin: top + h - margin], camera))))
    finally:
        ref.close()
    worst = sorted(range(len(values)), key=values.__getitem__)[:5]
    if values[worst[0]] < 25:  # worth a look: say which frames, and which camera frames they were matched to
        print(f"  lowest PSNR: {[(i, source_index[i], round(values[i], 1)) for i in worst]}", file=sys.stderr)
    return {"psnr_mean_db": round(statistics.fmean(values), 2), "psnr_min_db": round(min(values), 2),
            "psnr_frames": len(values)}


def own_cpu_seconds() -> float:
    t = os.times()
    return t.user + t.system


def process_cpu_seconds(pid: int | None) -> float:
    """CPU seconds of another process (the recorder's), from /proc (Linux); 0 where that cannot be read."""
    if pid is None:
        return 0.0
    with contextlib.suppress(OSError, IndexError, ValueError):
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return 0.0


def measure(source: str, spec: str, resolution: str, encoder: str, fps: float, seconds: float, pre_roll: float,
            baseline_s: float, folder: Path) -> dict[str, Any]:
    """One recording of ``seconds`` after a full pre-roll, as a station makes it (the recorder in its own
    process, the overlay drawn with the station's fonts); then its file's quality."""
    from packdesk.devices.recorder_process import ProcessRecorder, RecorderConfig

    size = RESOLUTIONS[resolution]
    events: list[RecorderEvent] = []
    done = threading.Event()

    def emit(e: RecorderEvent) -> None:
        events.append(e)
        if isinstance(e, RecordingFinished | RecordingFailed):
            done.set()

    config = RecorderConfig(spec, size, folder, fps, pre_roll, encoder, label_renderer=LABELS)
    rec = ProcessRecorder(config, emit=emit, min_free_bytes=0)
    try:
        deadline = time.monotonic() + 60 + pre_roll * 3
        while not rec.ready()[0] or rec.frames_captured < fps * pre_roll:  # a full pre-roll, as at a station
            if time.monotonic() > deadline:
                raise RuntimeError(f"recorder on {spec}: {rec.ready()[1]}, {rec.frames_captured} frames, "
                                   f"{rec.camera_detail}")
            threading.Event().wait(0.05)
        pid = rec.pid
        c0, w0 = tree_cpu_seconds(), time.perf_counter()
        threading.Event().wait(baseline_s)
        baseline = (tree_cpu_seconds() - c0) / (time.perf_counter() - w0)

        job = RecordingJob("bench", "601000000011", "STATION-1", "김민수", datetime.now(UTC))
        captured0 = rec.frames_captured
        ring = min(captured0, max(1, int(pre_roll * fps)))
        c0, w0 = tree_cpu_seconds(), time.perf_counter()
        child0, own0 = process_cpu_seconds(pid), own_cpu_seconds()
        rec.start(job)
        threading.Event().wait(seconds)
        captured = rec.frames_captured - captured0
        rec.stop("bench", PackOutcome.COMPLETED)
        if not done.wait(120):
            raise RuntimeError("the recording did not finish within 120 s")
        wall = time.perf_counter() - w0
        share = (tree_cpu_seconds() - c0) / wall
        child_share = (process_cpu_seconds(pid) - child0) / wall
        own_share = (own_cpu_seconds() - own0) / wall
        first_live, started = rec.first_live_mono.get("bench"), rec.start_mono.get("bench")
        used = rec.encoder
    finally:
        rec.close()
    failed = [e for e in events if isinstance(e, RecordingFailed)]
    if failed:
        raise RuntimeError(f"recording failed: {failed[0].code} {failed[0].detail}")
    fin = next(e for e in events if isinstance(e, RecordingFinished))
    first_ms = (first_live - started) * 1000 if first_live is not None and started is not None else None
    expected = int(seconds * fps)
    row: dict[str, Any] = {
        "source": source, "resolution": resolution, "encoder": used or encoder, "fps": fps, "seconds": seconds,
        "frames_in_file": fin.frames, "live_frames_captured": captured, "expected_live_frames": expected,
        "dropped_in_queue": fin.dropped, "missing_vs_expected": max(0, expected - captured),
        "cpu_one_core": round(share, 3), "cpu_one_core_camera_only": round(baseline, 3),
        "cpu_one_core_recorder_process": round(child_share, 3), "cpu_one_core_station_process": round(own_share, 3),
        "mb_per_hour": round(fin.size_bytes / 1e6 / (fin.frames / fps) * 3600, 1) if fin.frames else None,
        "first_frame_ms": round(first_ms, 1) if first_ms is not None else None, "file_bytes": fin.size_bytes,
    }
    # the recorder process publishes its frame count with the preview (10 times a second): a few frames of slack
    row.update(psnr_against_camera(fin.path, lambda: Reference(spec, size, fps), captured0 - ring, fin.dropped,
                                   slack=6))
    fin.path.unlink(missing_ok=True)
    target = TARGETS.get((source, resolution))
    if target is not None:
        row["targets"] = target
        row["meets_targets"] = meets(row, target)
    return row


def meets(row: dict[str, Any], target: dict[str, float]) -> bool:
    checks: dict[str, Callable[[float], bool]] = {
        "mb_per_hour": lambda t: row["mb_per_hour"] is not None and row["mb_per_hour"] <= t,
        "psnr_mean_db": lambda t: row["psnr_mean_db"] is not None and row["psnr_mean_db"] >= t,
        "cpu_one_core": lambda t: row["cpu_one_core"] <= t,
        "dropped": lambda t: row["dropped_in_queue"] + max(0, row["missing_vs_expected"] - 1) <= t,
        "first_frame_ms": lambda t: row["first_frame_ms"] is not None and row["first_frame_ms"] <= t,
    }
    return all(checks[k](v) for k, v in target.items())


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=60.0, help="of live recording per run, after the pre-roll")
    ap.add_argument("--sources", default=",".join(SOURCES), help=f"comma-separated, of {', '.join(SOURCES)}")
    ap.add_argument("--resolutions", default="", help="comma-separated (default: every one camera.RESOLUTIONS has)")
    ap.add_argument("--encoders", default="", help="comma-separated (default: every H.264 encoder available)")
    ap.add_argument("--fps", type=float, default=30.0)
    ap.add_argument("--pre-roll", type=float, default=3.0)
    ap.add_argument("--clip", type=Path, default=None, help="a webcam clip to loop (default: bench/_footage.py)")
    _result.add_arguments(ap)
    a = ap.parse_args()
    sources = [s for s in a.sources.split(",") if s]
    if unknown := set(sources) - set(SOURCES):
        ap.error(f"unknown sources: {', '.join(sorted(unknown))}")
    resolutions = [r for r in a.resolutions.split(",") if r] or sorted(RESOLUTIONS, key=lambda r: RESOLUTIONS[r])
    if unknown := set(resolutions) - set(RESOLUTIONS):
        ap.error(f"unknown resolutions: {', '.join(sorted(unknown))} (camera.RESOLUTIONS: {', '.join(RESOLUTIONS)})")
    available = h264_encoders()
    encoders = [e for e in a.encoders.split(",") if e] or available
    skipped = {e: "cannot be opened here" for e in encoders if e not in available}
    encoders = [e for e in encoders if e not in skipped]
    seconds, pre_roll, baseline_s = a.seconds, a.pre_roll, 5.0
    if a.quick:
        resolutions, seconds, pre_roll, baseline_s = resolutions[:1], 1.0, 0.5, 0.5
    with tempfile.TemporaryDirectory(prefix="packdesk-bench-") as tmp:
        specs: dict[str, str] = {}
        footage = "synthetic camera, noise sigma 3"
        clip_sha = ""
        if "synthetic" in sources:
            specs["synthetic"] = SYNTHETIC_NOISY
        if "clip" in sources:
            clip = real_clip(a.clip)
            if clip is None and not a.quick:
                raise SystemExit(f"no real webcam clip on this PC: {FETCH_HINT}")
            if clip is None:
                clip = stand_in_clip(Path(tmp))
                footage = "stand-in clip (quick run: the real clip is not on this PC)"
            else:
                footage = CLIP_SOURCE if a.clip is None else str(a.clip)
                clip_sha = sha256(clip)
            specs["clip"] = str(clip)
        run = _result.start("recording", a, {
            "sources": sources, "resolutions": resolutions, "encoders": encoders, "encoders_available": available,
            "encoders_skipped": skipped, "fps": a.fps, "seconds": seconds, "pre_roll_s": pre_roll,
            "clip": footage if "clip" in sources else None, "clip_sha256": clip_sha or None,
        }, _result.CORE_PACKAGES + _result.QT_PACKAGES + _result.VIDEO_PACKAGES)
        rows = []
        for source, spec in specs.items():
            for resolution in resolutions:
                for encoder in encoders:
                    print(f"{source} {resolution} {encoder} ...", file=sys.stderr, flush=True)
                    row = measure(source, spec, resolution, encoder, a.fps, seconds, pre_roll, baseline_s,
                                  Path(tmp) / "videos")
                    print(json.dumps(row), file=sys.stderr, flush=True)
                    rows.append(row)
    run.write({"runs": rows})
    print(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
