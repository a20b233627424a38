"""A recording process to be killed: records the noisy synthetic camera and prints how many frames it has
handed to the encoder (and fed in all: on a busy machine the encoder's queue holds some), so the parent knows
what a SIGKILL interrupted."""

from __future__ import annotations

import sys
import threading
from datetime import UTC, datetime
from pathlib import Path

from packdesk.devices.camera import SYNTHETIC_NOISY, Camera
from packdesk.devices.opencv_recorder import OpenCvRecorder
from packdesk.devices.recorder import RecordingJob, RecordingStarted


def main(root: str) -> None:
    cam = Camera(SYNTHETIC_NOISY, (640, 480), 30.0, pre_roll_s=0.0)
    started = threading.Event()
    rec = OpenCvRecorder(cam, Path(root), emit=lambda e: isinstance(e, RecordingStarted) and (
        print(f"path {e.path}", flush=True), started.set()), min_free_bytes=0)
    cam.start()
    fed = 0

    def count(frame: object) -> None:
        nonlocal fed
        fed += 1
        if fed % 15 == 0:  # handed to the encoder (fed less those still queued for it), and fed in all
            print(f"fed {fed - session.queue.qsize()} {fed}", flush=True)

    while cam.latest() is None:
        threading.Event().wait(0.01)
    rec.start(RecordingJob("kill", "601000000011", "STATION-1", "packer", datetime.now(UTC)))
    session = rec._session
    assert session is not None
    original = session.feed

    def feed(frame):  # type: ignore[no-untyped-def]
        original(frame)
        count(frame)

    session.feed = feed  # type: ignore[method-assign]
    threading.Event().wait(3600)  # until killed


if __name__ == "__main__":
    main(sys.argv[1])
