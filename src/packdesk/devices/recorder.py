"""The one interface the station drives recorders through, and the "recording off" recorder.

The station machine emits StartRecording / StopRecording effects; the station service turns them into
calls here. Real recorders (OpenCV capture, the RealPacking program) implement the same protocol, own
their threads, and must return from these calls at once: the UI thread calls them. What happens later
(file opened, file closed, failure) comes back as ``RecorderEvent`` values through the ``emit`` callback
the recorder was built with; the app routes them to the UI thread.
"""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol

from packdesk.core.enums import PackOutcome

log = logging.getLogger("packdesk.recorder")


@dataclass(frozen=True)
class RecordingJob:
    pack_key: str
    tracking_number: str
    station: str
    packer_name: str
    started_at: datetime
    order_nos: tuple[str, ...] = ()


@dataclass(frozen=True)
class RecordingStarted:
    pack_key: str
    path: Path
    started_at: datetime


@dataclass(frozen=True)
class RecordingFinished:
    pack_key: str
    path: Path
    started_at: datetime      # first frame in the file (the pre-roll reaches back before the scan)
    ended_at: datetime        # last frame
    frames: int
    dropped: int
    size_bytes: int
    outcome: PackOutcome
    sha256: str = ""          # of the closed file ("" when the video is not ours, e.g. RealPacking)


@dataclass(frozen=True)
class RecordingFailed:
    pack_key: str | None
    code: str                 # "camera_unavailable", "disk_low", "recording_failed", "recorder_unreachable"
    detail: str


@dataclass(frozen=True)
class RecorderCrashed:
    """The recorder's process died (killed, a driver crash) and is being started again. ``cut``: (pack key,
    file) of each recording it had not closed yet, the open one and any still finishing; a file keeps what
    was written, as after a power cut (None: the start never reached that process, no file). The station
    decides whether the open pack goes on."""

    detail: str
    cut: tuple[tuple[str, Path | None], ...] = ()


RecorderEvent = RecordingStarted | RecordingFinished | RecordingFailed | RecorderCrashed


class RecorderState(enum.StrEnum):
    OFF = "off"
    IDLE = "idle"
    RECORDING = "recording"
    FAILED = "failed"


class Recorder(Protocol):
    name: str

    @property
    def state(self) -> RecorderState: ...

    def ready(self) -> tuple[bool, str]: ...

    def start(self, job: RecordingJob) -> None: ...

    def stop(self, pack_key: str, outcome: PackOutcome) -> None: ...

    def close(self) -> None: ...


class NullRecorder:
    """Recording switched off: packs are logged, no video is made."""

    name = "off"

    @property
    def state(self) -> RecorderState:
        return RecorderState.OFF

    def ready(self) -> tuple[bool, str]:
        return True, ""

    def start(self, job: RecordingJob) -> None:
        log.debug("recording off: pack %s (%s) not recorded", job.pack_key, job.tracking_number)

    def stop(self, pack_key: str, outcome: PackOutcome) -> None:
        log.debug("recording off: pack %s ended %s", pack_key, outcome)

    def close(self) -> None:
        pass
