"""A full disk on a one-PC station (SQLite in the data folder): named as this PC's disk and folder, never as
the warehouse server; every scan kept in memory, in order, and stored once there is room; the pack's fate
said. Here the disk's refusal is injected (SQLite's own SQLITE_FULL error, raised for every write while the
"disk" is full); ``test_disk_full_tmpfs.py`` fills a real small disk."""

from __future__ import annotations

import errno
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event, select
from sqlalchemy.exc import OperationalError

from packdesk.channels.demo import BARCODE, Scenario
from packdesk.core import models as m
from packdesk.core.db import Database
from packdesk.core.disk import disk_of, is_disk_full, says_disk_full, where
from packdesk.core.enums import LineStatus, PackOutcome
from packdesk.core.errors import KnownError
from packdesk.core.station import Msg
from packdesk.devices.recorder import RecordingFailed
from packdesk.services.dbworker import DbWorker
from packdesk.ui.messages import error_text
from tests.conftest import TEST_DATABASE_URL
from tests.services.test_station_service import Rig

sqlite_only = pytest.mark.skipif(bool(TEST_DATABASE_URL), reason="a one-PC station's own disk: SQLite only")


def sqlite_full() -> sqlite3.OperationalError:
    """What SQLite raises when the disk (or its file) cannot grow: SQLITE_FULL."""
    err = sqlite3.OperationalError("database or disk is full")
    err.sqlite_errorcode = 13  # type: ignore[attr-defined]
    err.sqlite_errorname = "SQLITE_FULL"  # type: ignore[attr-defined]
    return err


class FullDisk:
    """While ``full``, every write statement fails as SQLite fails it on a full disk; reads still work."""

    def __init__(self, engine: Engine) -> None:
        self.full = False
        self.engine = engine
        event.listen(engine, "before_cursor_execute", self._check)

    def _check(self, conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool) -> None:
        if self.full and statement.lstrip().split(None, 1)[0].upper() in ("INSERT", "UPDATE", "DELETE"):
            raise sqlite_full()

    def remove(self) -> None:
        event.remove(self.engine, "before_cursor_execute", self._check)


@pytest.fixture
def disk(demo_db: Database) -> Iterator[FullDisk]:
    d = FullDisk(demo_db.engine)
    yield d
    d.remove()


@pytest.fixture
def rig(demo_db: Database, tmp_path: Path) -> Iterator[Rig]:
    r = Rig(demo_db)
    r.svc.video_folder = tmp_path / "videos"
    yield r
    r.worker.close()


def test_a_full_disk_is_told_apart_from_a_lost_connection() -> None:
    assert is_disk_full(OperationalError("INSERT", {}, sqlite_full()))
    assert is_disk_full(OSError(errno.ENOSPC, "No space left on device"))
    try:
        try:
            raise OSError(errno.ENOSPC, "No space left on device")
        except OSError as inner:
            raise RuntimeError("write failed") from inner
    except RuntimeError as outer:
        assert is_disk_full(outer)
    lost = OperationalError("SELECT", {}, Exception("server closed the connection unexpectedly"))
    busy = sqlite3.OperationalError("database is locked")
    busy.sqlite_errorcode = 5  # type: ignore[attr-defined]
    assert not is_disk_full(lost) and not is_disk_full(OperationalError("INSERT", {}, busy))
    assert not is_disk_full(OSError(errno.EACCES, "Permission denied"))
    assert says_disk_full("OSError: [Errno 28] No space left on device: '/v/a.ts'")
    assert not says_disk_full("RuntimeError: camera unplugged")


def test_the_disk_is_named_by_its_mount_point_or_drive(tmp_path: Path) -> None:
    place = where(tmp_path / "not" / "made" / "yet")
    assert place["folder"] == str(tmp_path / "not" / "made" / "yet")
    assert Path(place["disk"]) in [tmp_path, *tmp_path.parents] and place["free"] != "?"
    assert disk_of(Path("/")) == str(Path("/").absolute().anchor or "/")


@sqlite_only
def test_mid_pack_the_scans_are_kept_the_pack_is_said_unsaved_and_all_stored_when_there_is_room(
        rig: Rig, disk: FullDisk, demo_db: Database, expect_warnings) -> None:  # type: ignore[no-untyped-def]
    rig.scan("PD-PACKER-001", Scenario.SIMPLE)
    assert rig.message is Msg.PACK_STARTED
    disk.full = True
    rig.scan(BARCODE["MUG-WH-01"])  # counted from memory; its scan event is refused by the disk: held
    assert rig.message is Msg.ITEM_OK and rig.svc.held == 1
    full = rig.listener.errors[-1]
    assert full.code == "disk_full" and full.params["folder"] == str(rig.svc.data_folder)
    ko, en = error_text(full)
    assert str(rig.svc.data_folder) in ko and str(rig.svc.data_folder) in en and full.params["disk"] in en
    assert "창고 서버" not in ko and "server" not in en and Scenario.SIMPLE in en and "held in memory" in en
    rig.scan(BARCODE["TMB-500"], BARCODE["MUG-WH-01"])  # the pack completes while the disk is full
    assert rig.message is Msg.PACK_COMPLETE
    ko, en = error_text(rig.listener.errors[-1])
    assert f"Pack {Scenario.SIMPLE} is complete but not saved yet" in en and "완료되었지만 아직 저장되지" in ko
    assert rig.svc.held == 4  # three scans and the completion, in memory
    rig.scan(Scenario.GIFT_SET)  # a new pack on memory alone could pack a parcel twice: refused, and why
    assert rig.listener.errors[-1].code == "disk_full"
    assert rig.listener.errors[-1].params["code_scanned"] == Scenario.GIFT_SET and rig.message is Msg.PACK_COMPLETE
    assert "db_unreachable" not in [e.code for e in rig.listener.errors]
    with demo_db.session() as s:
        assert s.scalars(select(m.PackSession.outcome)).all() == [PackOutcome.OPEN]
    rig.svc.tick()  # still full: tried again, still held, nothing said twice
    rig.settle()
    assert rig.svc.held == 4 and not rig.listener.notices

    disk.full = False  # room again
    rig.svc._last_retry = 0.0
    rig.svc.tick()
    rig.settle()
    assert rig.svc.held == 0
    back = rig.listener.notices[-1]
    assert back.code == "disk_space_back" and back.params["count"] == 4
    assert f"Pack {Scenario.SIMPLE} is saved." in error_text(back)[1]
    with demo_db.session() as s:
        session = s.scalars(select(m.PackSession)).one()
        codes = s.scalars(select(m.ScanEvent.code).where(m.ScanEvent.pack_session_id == session.id)
                          .order_by(m.ScanEvent.id)).all()
        lines = s.scalars(select(m.OrderLine.status).where(m.OrderLine.packed_session_id == session.id)).all()
    assert session.outcome is PackOutcome.COMPLETED
    assert codes == [Scenario.SIMPLE, BARCODE["MUG-WH-01"], BARCODE["TMB-500"], BARCODE["MUG-WH-01"]]
    assert lines and set(lines) == {LineStatus.PACKED}
    rig.scan(Scenario.GIFT_SET)  # and packing goes on
    assert rig.message is Msg.PACK_STARTED


@sqlite_only
def test_a_lookup_the_disk_refuses_names_the_disk_not_the_server(rig: Rig, disk: FullDisk,
                                                                 expect_warnings) -> None:  # type: ignore[no-untyped-def]
    rig.scan("PD-PACKER-001")
    disk.full = True
    rig.scan(Scenario.SIMPLE)  # its claim is a write: refused
    assert [e.code for e in rig.listener.errors] == ["disk_full"] and rig.svc.state.pack is None
    assert rig.listener.errors[0].params["code_scanned"] == Scenario.SIMPLE
    assert "A new pack starts once there is room" in error_text(rig.listener.errors[0])[1]
    disk.full = False
    rig.scan(Scenario.SIMPLE)
    assert rig.message is Msg.PACK_STARTED


def test_the_recorder_s_disk_problems_name_the_video_folder(rig: Rig, expect_warnings) -> None:  # type: ignore[no-untyped-def]
    rig.scan("PD-PACKER-001", Scenario.SIMPLE)
    key = rig.recorder.jobs[-1].pack_key
    rig.svc.on_recorder_event(RecordingFailed(key, "recording_failed",
                                              "OSError: [Errno 28] No space left on device: 'a.ts'"))
    rig.svc.on_recorder_event(RecordingFailed(None, "disk_low", "free=0.5 GB"))
    rig.svc.on_recorder_event(RecordingFailed(None, "recording_failed", "ValueError: a bug"))
    rig.settle()
    full, low, other = rig.listener.errors
    folder = str(rig.svc.video_folder)
    assert (full.code, low.code, other.code) == ("recording_disk_full", "disk_low", "recording_failed")
    for e in (full, low, other):
        ko, en = error_text(e)
        assert folder in ko and folder in en
    assert "recording stopped" in error_text(full)[1] and "Packing goes on" in error_text(full)[1]
    rig.scan(BARCODE["MUG-WH-01"])
    assert rig.message is Msg.ITEM_OK


@sqlite_only
def test_held_writes_run_in_order_and_one_refused_for_another_reason_is_said(demo_db: Database,
                                                                            disk: FullDisk,
                                                                            expect_warnings) -> None:  # type: ignore[no-untyped-def]
    w = DbWorker(demo_db)
    held: list[tuple[str, int]] = []
    saved: list[tuple[list[str], int]] = []
    w.watch_held(lambda name, n, e: held.append((name, n)), lambda names, n: saved.append((names, n)))
    ran: list[str] = []
    failed: list[BaseException] = []

    def write(name: str, fail_after: bool = False) -> Any:
        def job(s: Any) -> str:
            s.execute(m.Packer.__table__.update().where(m.Packer.id == -1).values(name=name))
            if fail_after and not disk.full:
                raise ValueError("refused: not a disk problem")
            ran.append(name)
            return name
        return job

    disk.full = True
    w.submit(write("a"), keep="a")
    w.submit(write("b", fail_after=True), keep="b", on_error=failed.append)
    w.submit(write("c"), keep="c")
    w.submit(lambda s: ran.append("read"))  # a read runs meanwhile
    assert w.wait_idle(5)
    assert held == [("a", 1), ("b", 2), ("c", 3)] and ran == ["read"] and w.held == 3
    disk.full = False
    w.retry_held()
    assert w.wait_idle(5)
    assert ran == ["read", "a", "c"] and [str(e) for e in failed] == ["refused: not a disk problem"]
    assert saved == [(["a", "c"], 0)] and w.held == 0
    w.close()


def test_the_disk_full_text_has_both_languages() -> None:
    from packdesk.core.errors import Words

    e = KnownError("disk_full", folder="/data", disk="/mnt", free="0 B", pack=Words("가", "A"))
    ko, en = error_text(e)
    assert ko.startswith("디스크가 가득 찼습니다: /mnt") and ko.endswith("가")
    assert en.startswith("The disk is full: /mnt (folder /data, 0 B free)") and en.endswith("A")
