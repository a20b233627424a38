"""Which x264 settings the recorder uses, and why: candidate settings on real webcam footage, each encoded
through the recorder's own frame path (the overlay's band and the conversion in ``FrameMaker``, ``open_stream``), with
the bitrate, the picture's fidelity and the encoder's CPU.

The recorder's settings (``EncoderSettings.for_size``) must keep an hour of 640x480 within 100 MB at a mean
PSNR of 33 dB against the camera's picture (issue #18) for as little CPU as possible: the station's PC packs
while it records. This bench shows the trade-off the choice was made on: the chosen settings beside the ones
used before and the presets around them.

Footage: the real clip (``bench/_footage.py``), each frame resized as the camera resizes, decoded once into
memory and encoded back to back. Reported per candidate:
- MB per hour of video;
- PSNR of each decoded frame against the picture it was made from, over the middle 3/4 of the picture's rows
  (the band above it left out): mean and lowest;
- the share of the file that is the container's (MPEG-TS tables, packet headers and padding), not H.264;
- CPU: the encoding thread's CPU time (band, conversion, x264 with one thread) per second of video, as a share
  of one core. Encoded back to back, with warm caches: a station's recorder, woken 30 times a second, spends
  more (``bench/recording.py`` measures that, capture included).

    .venv/bin/python bench/encoder_settings.py [--resolutions 640x480,1280x720] [--clip FILE] [--quick]
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import _result
import av
import cv2
import numpy as np
from _footage import CLIP_SOURCE, FETCH_HINT, real_clip, sha256, stand_in_clip

from packdesk.devices.camera import RESOLUTIONS, open_source
from packdesk.devices.opencv_recorder import TS_OPTIONS, EncoderSettings, FrameMaker, Overlay
from packdesk.devices.recorder import RecordingJob

LABELS = "packdesk.ui.overlay_text:render_label"  # the station's overlay text (Qt's fonts, Korean)
FPS = 30.0
TARGET = {"mb_per_hour": 100.0, "psnr_mean_db": 33.0}  # issue #18, 640x480 real footage


FFMPEG_TABLES = {**TS_OPTIONS, "pat_period": "0.1", "sdt_period": "0.5"}  # FFmpeg's defaults, used before


@dataclass(frozen=True)
class Candidate:
    name: str
    settings: EncoderSettings
    mux: dict[str, str] = field(default_factory=lambda: dict(TS_OPTIONS))  # the MPEG-TS muxer's options


def candidates(size: tuple[int, int]) -> list[Candidate]:
    """The chosen settings first, then what they were chosen against."""
    chosen = EncoderSettings.for_size(size)
    if size[0] * size[1] <= 800 * 600:
        before = EncoderSettings(preset="veryfast", crf=32, tune="psnr", x264_params="subme=3:me=dia:trellis=1")
        return [
            Candidate("chosen", chosen),
            Candidate("chosen, tables 10 times a second (FFmpeg's default)", chosen, FFMPEG_TABLES),
            Candidate("before: subme 3, crf 32, tables 10 times a second", before, FFMPEG_TABLES),
            Candidate("before, tables once a second", before),
            Candidate("chosen with crf 30.5", replace(chosen, crf=30.5)),
            Candidate("chosen with crf 31", replace(chosen, crf=31)),
            Candidate("chosen with subme 2", replace(chosen, x264_params="subme=2:me=dia:trellis=1")),
            Candidate("chosen without trellis, crf 30.5",
                      replace(chosen, crf=30.5, x264_params="subme=1:me=dia:trellis=0")),
            Candidate("veryfast, crf 28 (x264's defaults)", EncoderSettings(preset="veryfast", crf=28)),
            Candidate("veryfast psnr, crf 31", EncoderSettings(preset="veryfast", crf=31, tune="psnr")),
            Candidate("superfast psnr, crf 31", EncoderSettings(preset="superfast", crf=31, tune="psnr")),
            Candidate("ultrafast psnr, crf 30", EncoderSettings(preset="ultrafast", crf=30, tune="psnr")),
        ]
    return [
        Candidate("chosen", chosen),
        Candidate("before: superfast, crf 28", EncoderSettings(preset="superfast", crf=28)),
        Candidate("superfast psnr, crf 28", EncoderSettings(preset="superfast", crf=28, tune="psnr")),
        Candidate("ultrafast psnr, crf 28", EncoderSettings(preset="ultrafast", crf=28, tune="psnr")),
    ]


def camera_pictures(spec: str, size: tuple[int, int], limit: int) -> list[np.ndarray]:
    """The clip once through (at most ``limit`` frames), as the camera delivers it (``open_source``, which loops
    a file, resized as ``Camera._run`` does)."""
    with av.open(spec) as container:
        length = sum(1 for _ in container.decode(video=0))
    source = open_source(spec, size, FPS)
    pictures: list[np.ndarray] = []
    try:
        while len(pictures) < min(length, limit):
            img = source.read()
            if img is None:
                break
            if (img.shape[1], img.shape[0]) != size:
                img = cv2.resize(img, size, interpolation=cv2.INTER_AREA)
            pictures.append(img)
    finally:
        source.close()
    return pictures


def encode(candidate: Candidate, pictures: list[np.ndarray], size: tuple[int, int]) -> tuple[float, bytes, int, int]:
    """The pictures as the recorder encodes them: the encoding thread's CPU seconds, the file, the H.264 bytes in
    it, the band's rows."""
    from packdesk.ui.overlay_text import render_label

    settings = candidate.settings
    started = datetime.now(UTC)
    overlay = Overlay(RecordingJob("bench", "601000000011", "STATION-1", "김민수", started), size, render_label)
    buf = io.BytesIO()
    cpu = 0.0
    h264 = 0
    with av.open(buf, "w", format="mpegts", options=candidate.mux) as out:
        stream = settings.open_stream(out, overlay.out_size, FPS)
        frames = FrameMaker(overlay, settings)
        for i, picture in enumerate(pictures):
            t = time.thread_time()
            packets = stream.encode(frames.frame(picture, started + timedelta(seconds=i / FPS), round(i * 1000 / FPS)))
            cpu += time.thread_time() - t
            for packet in packets:
                h264 += packet.size
                out.mux(packet)
        t = time.thread_time()
        packets = stream.encode()
        cpu += time.thread_time() - t
        for packet in packets:
            h264 += packet.size
            out.mux(packet)
    return cpu, buf.getvalue(), h264, overlay.band


def measure(candidate: Candidate, pictures: list[np.ndarray], size: tuple[int, int], repeat: int) -> dict[str, Any]:
    """Encode ``pictures`` with the candidate's settings ``repeat`` times (the least CPU counts: a shared
    machine's CPU time varies by a quarter from run to run; the bytes do not); then decode and compare."""
    cpu, data, h264, band = encode(candidate, pictures, size)
    for _ in range(repeat - 1):
        cpu = min(cpu, encode(candidate, pictures, size)[0])
    w, h = size
    margin = h // 8
    values: list[float] = []
    with av.open(io.BytesIO(data)) as container:
        for i, frame in enumerate(container.decode(video=0)):
            img = frame.to_ndarray(format="bgr24")
            values.append(min(99.0, float(cv2.PSNR(img[band + margin: band + h - margin],
                                                     pictures[i][margin:h - margin]))))
    if len(values) != len(pictures):
        raise RuntimeError(f"{candidate.name}: {len(values)} frames decoded of {len(pictures)}")
    seconds = len(pictures) / FPS
    row: dict[str, Any] = {
        "name": candidate.name, "resolution": f"{w}x{h}", "options": candidate.settings.options(),
        "mux": candidate.mux, "frames": len(pictures), "mb_per_hour": round(len(data) / 1e6 / seconds * 3600, 1),
        "container_share": round(1 - h264 / len(data), 3),  # the file's bytes that are not H.264: tables, headers
        "psnr_mean_db": round(statistics.fmean(values), 2), "psnr_min_db": round(min(values), 2),
        "cpu_one_core": round(cpu / seconds, 3),
    }
    if (w, h) == (640, 480):
        row["meets_size_and_quality"] = (row["mb_per_hour"] <= TARGET["mb_per_hour"]
                                         and row["psnr_mean_db"] >= TARGET["psnr_mean_db"])
    return row


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--resolutions", default="640x480,1280x720", help="comma-separated, of camera.RESOLUTIONS")
    ap.add_argument("--clip", type=Path, default=None, help="a webcam clip (default: bench/_footage.py)")
    ap.add_argument("--repeat", type=int, default=3, help="encodings per candidate; the least CPU counts")
    _result.add_arguments(ap)
    a = ap.parse_args()
    resolutions = [r for r in a.resolutions.split(",") if r]
    if unknown := set(resolutions) - set(RESOLUTIONS):
        ap.error(f"unknown resolutions: {', '.join(sorted(unknown))} (camera.RESOLUTIONS: {', '.join(RESOLUTIONS)})")
    limit = 10**6
    with tempfile.TemporaryDirectory(prefix="packdesk-bench-") as tmp:
        clip = real_clip(a.clip)
        if clip is None and not a.quick:
            raise SystemExit(f"no real webcam clip on this PC: {FETCH_HINT}")
        if clip is None:
            clip = stand_in_clip(Path(tmp))
            footage, clip_sha = "stand-in clip (quick run: the real clip is not on this PC)", ""
        else:
            footage, clip_sha = (CLIP_SOURCE if a.clip is None else str(a.clip)), sha256(clip)
        if a.quick:
            resolutions, limit, a.repeat = resolutions[:1], 15, 1
        run = _result.start("encoder_settings", a, {
            "resolutions": resolutions, "fps": FPS, "clip": footage, "clip_sha256": clip_sha or None,
            "target_640x480": TARGET, "repeat": a.repeat,
        }, _result.CORE_PACKAGES + _result.QT_PACKAGES + _result.VIDEO_PACKAGES)
        rows = []
        for resolution in resolutions:
            size = RESOLUTIONS[resolution]
            pictures = camera_pictures(str(clip), size, limit)
            chosen = candidates(size)
            for candidate in chosen[:2] if a.quick else chosen:
                rows.append(measure(candidate, pictures, size, a.repeat))
                print(json.dumps(rows[-1]), flush=True)
    run.write({"runs": rows})  # each row was printed as it was measured
    return 0


if __name__ == "__main__":
    sys.exit(main())
