"""Recording cost on this machine: the real camera thread + recorder, 640x480 at 30 fps with the overlay.

The source is the noisy synthetic camera (sensor-like noise, so x264 has real work; a static scene would
flatter the bitrate). Reports:
- dropped frames: queue drops, and frames missing against fps x duration;
- CPU: process CPU time while recording / wall time (share of ONE core), and the camera-only baseline;
- MB per hour of video;
- scan-to-first-frame: from ``start()`` (the waybill scan) to the first live frame in the recording.
Targets: 0 dropped, <= 35 % of one core, <= 150 MB/hour, <= 100 ms.

``--process`` measures the station's way (issue #18): the recorder in its own process, CPU split into that
process's (capture + encode) and what is left in the station's (the pipe, the preview's copies).

    .venv/bin/python bench/recording.py [--seconds 60] [--resolution 640x480] [--fps 30] [--process]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

from packdesk.core.enums import PackOutcome
from packdesk.devices.camera import RESOLUTIONS, SYNTHETIC_NOISY, Camera
from packdesk.devices.opencv_recorder import OpenCvRecorder
from packdesk.devices.recorder import RecorderEvent, RecordingFinished, RecordingJob

OUT = Path(__file__).resolve().parent / "out"


def cpu_share(seconds: float, fn=None) -> float:  # type: ignore[no-untyped-def]
    c0, w0 = time.process_time(), time.perf_counter()
    (fn or (lambda: None))()
    threading.Event().wait(seconds)
    return (time.process_time() - c0) / (time.perf_counter() - w0)


def process_cpu_s(pid: int) -> float:
    """CPU seconds (user + system) of another process, from /proc (Linux)."""
    import os

    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure_process(a: argparse.Namespace) -> dict[str, object]:
    from packdesk.devices.recorder_process import ProcessRecorder, RecorderConfig

    size = RESOLUTIONS[a.resolution]
    events: list[RecorderEvent] = []
    done = threading.Event()

    def emit(e: RecorderEvent) -> None:
        events.append(e)
        if isinstance(e, RecordingFinished):
            done.set()

    with tempfile.TemporaryDirectory() as tmp:
        rec = ProcessRecorder(RecorderConfig(SYNTHETIC_NOISY, size, Path(tmp), a.fps, a.pre_roll, a.encoder),
                              emit=emit, min_free_bytes=0)
        while rec.ready() != (True, "") or rec.frames_captured < a.fps * a.pre_roll:
            threading.Event().wait(0.05)
        pid = rec.pid
        assert pid is not None
        w0, child0 = time.perf_counter(), process_cpu_s(pid)
        threading.Event().wait(5.0)
        baseline = (process_cpu_s(pid) - child0) / (time.perf_counter() - w0)
        captured0 = rec.frames_captured
        c0, w0, child0 = time.process_time(), time.perf_counter(), process_cpu_s(pid)
        rec.start(RecordingJob("bench", "601000000011", "STATION-1", "김민수", datetime.now(UTC)))
        threading.Event().wait(a.seconds)
        rec.stop("bench", PackOutcome.COMPLETED)
        done.wait(60)
        wall = time.perf_counter() - w0
        child_share = (process_cpu_s(pid) - child0) / wall
        station_share = (time.process_time() - c0) / wall
        captured = rec.frames_captured - captured0
        latency_ms = (rec.first_live_mono["bench"] - rec.start_mono["bench"]) * 1000
        encoder = rec.encoder
        rec.close()
    fin = next(e for e in events if isinstance(e, RecordingFinished))
    video_s = fin.frames / a.fps
    return {
        "mode": "process", "resolution": a.resolution, "fps": a.fps, "seconds": a.seconds, "pre_roll_s": a.pre_roll,
        "encoder": encoder, "frames_in_file": fin.frames, "live_frames_captured": captured,
        "expected_live_frames": int(a.seconds * a.fps), "dropped_in_queue": fin.dropped,
        "missing_vs_expected": max(0, int(a.seconds * a.fps) - captured),
        "cpu_share_one_core_recorder_process": round(child_share, 3),
        "cpu_share_one_core_recorder_process_camera_only": round(baseline, 3),
        "cpu_share_one_core_station_process": round(station_share, 3),
        "mb_per_hour": round(fin.size_bytes / 1e6 / video_s * 3600, 1),
        "scan_to_first_live_frame_ms": round(latency_ms, 1), "file_bytes": fin.size_bytes,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--resolution", default="640x480", choices=sorted(RESOLUTIONS))
    ap.add_argument("--fps", type=float, default=30.0)
    ap.add_argument("--pre-roll", type=float, default=3.0)
    ap.add_argument("--process", action="store_true", help="the recorder in its own process, as at a station")
    ap.add_argument("--encoder", default="auto", help="with --process: auto (hardware first) or libx264")
    a = ap.parse_args()
    if a.process:
        result = measure_process(a)
        print(json.dumps(result, indent=2))
        OUT.mkdir(exist_ok=True)
        (OUT / f"recording_process_{a.resolution}.json").write_text(json.dumps(result, indent=2))
        return 0

    size = RESOLUTIONS[a.resolution]
    cam = Camera(SYNTHETIC_NOISY, size, a.fps, pre_roll_s=a.pre_roll)
    cam.start()
    while cam.frames_captured < a.fps * a.pre_roll:  # a full pre-roll, as at a running station
        threading.Event().wait(0.05)
    baseline = cpu_share(5.0)

    events: list[RecorderEvent] = []
    done = threading.Event()

    def emit(e: RecorderEvent) -> None:
        events.append(e)
        if isinstance(e, RecordingFinished):
            done.set()

    with tempfile.TemporaryDirectory() as tmp:
        rec = OpenCvRecorder(cam, Path(tmp), emit=emit, min_free_bytes=0)
        job = RecordingJob("bench", "601000000011", "STATION-1", "김민수", datetime.now(UTC))
        captured0 = cam.frames_captured
        c0, w0 = time.process_time(), time.perf_counter()
        rec.start(job)
        session = rec._session
        assert session is not None
        threading.Event().wait(a.seconds)
        rec.stop("bench", PackOutcome.COMPLETED)
        done.wait(30)
        wall = time.perf_counter() - w0
        share = (time.process_time() - c0) / wall
        captured = cam.frames_captured - captured0
        fin = next(e for e in events if isinstance(e, RecordingFinished))
        latency_ms = ((session.first_live_mono or 0) - rec.start_mono) * 1000
        video_s = fin.frames / a.fps
        result = {
            "resolution": a.resolution, "fps": a.fps, "seconds": a.seconds, "pre_roll_s": a.pre_roll,
            "frames_in_file": fin.frames, "live_frames_captured": captured,
            "expected_live_frames": int(a.seconds * a.fps),
            "dropped_in_queue": fin.dropped,
            "missing_vs_expected": max(0, int(a.seconds * a.fps) - captured),
            "cpu_share_one_core_recording": round(share, 3), "cpu_share_one_core_camera_only": round(baseline, 3),
            "mb_per_hour": round(fin.size_bytes / 1e6 / video_s * 3600, 1),
            "scan_to_first_live_frame_ms": round(latency_ms, 1),
            "file_bytes": fin.size_bytes,
        }
        cam.stop()
    result["meets_targets"] = (result["dropped_in_queue"] == 0 and result["missing_vs_expected"] <= 1
                               and result["cpu_share_one_core_recording"] <= 0.35 and result["mb_per_hour"] <= 150
                               and result["scan_to_first_live_frame_ms"] <= 100)
    print(json.dumps(result, indent=2))
    OUT.mkdir(exist_ok=True)
    (OUT / f"recording_{a.resolution}.json").write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
