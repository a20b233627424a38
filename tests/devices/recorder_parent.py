"""A station stand-in to be killed: starts the recorder process, starts a recording, and prints what the test
needs (the recorder's pid, the file, when the first live frame was filmed, how many frames the camera has
made), then waits to be killed with kill -9."""

from __future__ import annotations

import sys
import threading
from datetime import UTC, datetime
from pathlib import Path

from packdesk.devices.camera import SYNTHETIC_NOISY
from packdesk.devices.recorder import RecorderEvent, RecordingJob, RecordingStarted
from packdesk.devices.recorder_process import ProcessRecorder, RecorderConfig


def main(root: str) -> None:
    def emit(ev: RecorderEvent) -> None:
        if isinstance(ev, RecordingStarted):
            print(f"path {ev.path}", flush=True)

    rec = ProcessRecorder(RecorderConfig(SYNTHETIC_NOISY, (640, 480), Path(root), pre_roll_s=0.0), emit=emit,
                          min_free_bytes=0)
    print(f"recorder {rec.pid}", flush=True)
    pause = threading.Event()
    while rec.ready() != (True, ""):
        pause.wait(0.02)
    rec.start(RecordingJob("kill-parent", "601000000011", "STATION-1", "packer", datetime.now(UTC)))
    while "kill-parent" not in rec.first_live_mono:
        pause.wait(0.02)
    print(f"live {rec.first_live_mono['kill-parent']} {rec.frames_captured}", flush=True)
    while True:
        print(f"frames {rec.frames_captured}", flush=True)
        pause.wait(0.1)


if __name__ == "__main__":
    main(sys.argv[1])
