"""A real full disk: a small tmpfs holds the station's SQLite database and its videos, and is filled to the
last byte mid-pack and mid-recording. The packer is told which disk and folder, not "server unreachable";
every scan is kept and, once space is freed, all of them are in the database in order; the pack is said
complete-but-unsaved, then saved; the video keeps what was filmed until the disk filled."""

from __future__ import annotations

import errno
import os
import queue
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import cv2
import pytest
from sqlalchemy import select, text

from packdesk.channels.demo import BARCODE, Scenario
from packdesk.core import models as m
from packdesk.core.db import Database, sqlite_url
from packdesk.core.enums import LineStatus, PackOutcome, RecordingStatus, ScanSource
from packdesk.core.station import Msg, StationConfig
from packdesk.devices.camera import SYNTHETIC, Camera
from packdesk.devices.opencv_recorder import OpenCvRecorder
from packdesk.services.dbworker import DbWorker
from packdesk.services.demo_setup import ensure_demo
from packdesk.services.station import StationService
from packdesk.ui.messages import error_text
from tests.services.test_station_service import Clock, Listener
from tests.waiting import wait_until

SIZE = "24m"


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A tmpfs of ``SIZE`` mounted for this test (root only; skipped, saying why, where mounting is refused)."""
    mnt = tmp_path / "disk"
    mnt.mkdir()
    if os.name != "posix" or os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root on Linux")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={SIZE}", "tmpfs", str(mnt)], capture_output=True,
                          text=True)
    if done.returncode != 0:
        pytest.skip(f"mounting a tmpfs was refused: {done.stderr.strip()}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def fill(disk: Path) -> Path:
    """Write a file until the disk refuses: ENOSPC. Returns it (delete it to free the space)."""
    filler = disk / "filler.bin"
    chunk = b"\0" * 65536
    with open(filler, "wb", buffering=0) as f:
        try:
            while True:
                f.write(chunk)
        except OSError as e:
            assert e.errno == errno.ENOSPC
        small = b"\0" * 512
        try:
            while True:
                f.write(small)
        except OSError as e:
            assert e.errno == errno.ENOSPC
    return filler


@dataclass
class Station:
    svc: StationService
    worker: DbWorker
    listener: Listener
    recorder: OpenCvRecorder
    posted: queue.Queue[Callable[[], None]]

    def pump(self) -> None:
        while True:
            try:
                self.posted.get_nowait()()
            except queue.Empty:
                return

    def settle(self) -> None:
        while True:
            assert self.worker.wait_idle(10)
            self.pump()
            if self.worker.wait_idle(0) and self.posted.empty():
                return

    def scan(self, *codes: str) -> None:
        for c in codes:
            self.svc.scan(c, ScanSource.WEDGE)
            self.settle()

    def until(self, what: str, predicate: Callable[[], bool], timeout: float = 20.0) -> None:
        def check() -> bool:
            self.pump()
            return predicate()
        wait_until(check, timeout, what)


@pytest.fixture
def station(small_disk: Path) -> Iterator[Station]:
    db = Database.open(sqlite_url(small_disk / "packdesk.sqlite3"), create=True)
    ensure_demo(db, datetime.now(UTC))
    posted: queue.Queue[Callable[[], None]] = queue.Queue()
    camera = Camera(SYNTHETIC, (320, 240), 15.0, pre_roll_s=0.5)
    camera.start()
    wait_until(lambda: camera.frames_captured >= 10, what="the camera to run")  # else the pack goes unfilmed
    holder: list[StationService] = []
    recorder = OpenCvRecorder(camera, small_disk / "videos", min_free_bytes=1,
                              emit=lambda ev: posted.put(lambda: holder[0].on_recorder_event(ev)))
    worker = DbWorker(db, posted.put)
    listener = Listener()
    svc = StationService(worker, recorder, listener, station="S1", config=StationConfig(), clock=Clock(),
                         video_folder=small_disk / "videos")
    holder.append(svc)
    svc.start()
    st = Station(svc, worker, listener, recorder, posted)
    try:
        yield st
    finally:
        recorder.close()
        worker.close()
        db.close()


def test_disk_filled_mid_pack_and_mid_recording(station: Station, small_disk: Path,
                                                expect_warnings) -> None:  # type: ignore[no-untyped-def]
    st, db = station, station.worker.db
    st.scan("PD-PACKER-001", Scenario.COMBINED)
    assert st.svc.state.message.code is Msg.PACK_STARTED
    st.until("the video to be indexed and a second of it written", lambda: st.recorder._session is not None
             and st.recorder._session.frames >= 30 and st.recorder._session.path.exists()
             and st.recorder._session.path.stat().st_size > 10_000 and st.worker.wait_idle(0))
    st.scan(BARCODE["MUG-BK-01"])
    with db.engine.connect() as c:  # the write-ahead log emptied: the next write needs new space on the disk
        c.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))

    filler = fill(small_disk)
    # the rest of the box, with twenty coasters too many (each refused, each a scan event to keep): 25 scans
    items = [BARCODE["COASTER-01"]] * 24 + [BARCODE["TMB-500"]]
    st.scan(BARCODE["COASTER-01"])
    assert st.svc.held >= 1, "the database took a write on a full disk: the test did not fill it"
    st.until("the recorder to hit the full disk", lambda: any(e.code == "recording_disk_full"
                                                              for e in st.listener.errors))
    st.scan(*items[1:])  # the pack completes on the full disk
    assert st.svc.state.message.code is Msg.PACK_COMPLETE
    scans = [Scenario.COMBINED, BARCODE["MUG-BK-01"], *items]
    st.scan(Scenario.GIFT_SET)  # a new pack waits for room: refused, saying why (never dropped unsaid)
    assert st.listener.errors[-1].code == "disk_full"
    assert st.listener.errors[-1].params["code_scanned"] == Scenario.GIFT_SET

    codes = [e.code for e in st.listener.errors]
    assert "db_unreachable" not in codes and "disk_full" in codes
    full = next(e for e in st.listener.errors if e.code == "disk_full")
    ko, en = error_text(full)
    assert str(small_disk) in ko and str(small_disk) in en and full.params["disk"] == str(small_disk)
    completed = error_text([e for e in st.listener.errors if e.code == "disk_full"][-1])[1]
    assert f"Pack {Scenario.COMBINED} is complete but not saved yet" in completed
    video_msg = error_text(next(e for e in st.listener.errors if e.code == "recording_disk_full"))
    assert str(small_disk / "videos") in video_msg[0] and str(small_disk / "videos") in video_msg[1]
    with db.session() as s:
        assert s.scalars(select(m.PackSession.outcome)).all() == [PackOutcome.OPEN]

    filler.unlink()  # room again: the held writes go in, in order
    st.svc._last_retry = 0.0
    st.svc.tick()
    st.settle()
    assert st.svc.held == 0
    back = st.listener.notices[-1]
    assert back.code == "disk_space_back" and f"Pack {Scenario.COMBINED} is saved." in error_text(back)[1]
    with db.session() as s:
        session = s.scalars(select(m.PackSession)).one()
        stored = s.scalars(select(m.ScanEvent.code).where(m.ScanEvent.pack_session_id == session.id)
                           .order_by(m.ScanEvent.id)).all()
        lines = s.scalars(select(m.OrderLine.status).where(m.OrderLine.packed_session_id == session.id)).all()
        rec = s.scalars(select(m.Recording)).one()
    assert session.outcome is PackOutcome.COMPLETED and len(lines) == 3 and set(lines) == {LineStatus.PACKED}
    assert stored == scans
    assert rec.status is RecordingStatus.FAILED  # said as failed; the file keeps what was filmed until then
    cap = cv2.VideoCapture(rec.path)
    ok, _ = cap.read()
    cap.release()
    assert ok, "the video filmed before the disk filled is unreadable"
