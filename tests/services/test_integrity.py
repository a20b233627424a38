"""Tamper evidence: record through the real recorder, then alter the evidence every way a person could;
each change is found and named, and an untouched set verifies clean."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import delete, select, update

from packdesk.core import models as m
from packdesk.core.db import Database
from packdesk.core.enums import PackOutcome, RecordingStatus
from packdesk.core.recordings import recording_finished, recording_started, recover_interrupted
from packdesk.devices.camera import SYNTHETIC, Camera, CameraState
from packdesk.devices.opencv_recorder import OpenCvRecorder
from packdesk.devices.recorder import RecorderEvent, RecordingFinished, RecordingJob
from packdesk.services.integrity import ANCHOR_FILE, read_anchors, update_anchor, verify
from packdesk.services.retention import purge_old_videos
from tests.waiting import wait_until

N = 4


@pytest.fixture(scope="module")
def videos(tmp_path_factory: pytest.TempPathFactory) -> list[RecordingFinished]:
    """Four real recordings (made once for the module), each about half a second."""
    root = tmp_path_factory.mktemp("videos")
    cam = Camera(SYNTHETIC, (320, 240), 30.0, pre_roll_s=0.2)
    cam.start()
    wait_until(lambda: cam.state == CameraState.RUNNING and cam.frames_captured >= 6, what="the camera")
    events: list[RecorderEvent] = []
    rec = OpenCvRecorder(cam, root, emit=events.append, min_free_bytes=0)
    try:
        for i in range(N):
            rec.start(RecordingJob(f"k{i}", f"60100000{i:04d}", "S1", "김민수", datetime.now(UTC)))
            n0 = cam.frames_captured
            wait_until(lambda n0=n0: cam.frames_captured >= n0 + 15, what="frames")
            rec.stop(f"k{i}", PackOutcome.COMPLETED)
        wait_until(lambda: sum(isinstance(e, RecordingFinished) for e in events) == N, 10, "files to close")
    finally:
        rec.close()
    return [e for e in events if isinstance(e, RecordingFinished)]


@pytest.fixture
def indexed(db: Database, videos: list[RecordingFinished], tmp_path: Path) -> Iterator[Path]:
    """The recordings copied into this test's folder and indexed + chained as the station does."""
    root = tmp_path / "v"
    for ev in videos:
        dst = root / ev.path.parent.name / ev.path.name
        dst.parent.mkdir(parents=True, exist_ok=True)
        dst.write_bytes(ev.path.read_bytes())
        with db.session() as s:
            recording_started(s, pack_key=ev.pack_key, tracking_number=ev.path.stem.split("_")[0], order_nos="",
                              station="S1", packer_name="김민수", recorder="opencv", path=str(dst),
                              started_at=ev.started_at)
        with db.session() as s:
            recording_finished(s, pack_key=ev.pack_key, path=str(dst), started_at=ev.started_at,
                               ended_at=ev.ended_at, frames=ev.frames, dropped=ev.dropped, size_bytes=ev.size_bytes,
                               outcome=ev.outcome, sha256=ev.sha256)
    yield root


def paths(db: Database) -> list[Path]:
    with db.session() as s:
        return [Path(p) for p in s.scalars(select(m.Recording.path).order_by(m.Recording.id))]


def test_untouched_set_verifies_clean(db: Database, indexed: Path) -> None:
    report = verify(db, indexed)
    assert report.ok, report.problems
    assert (report.checked_files, report.checked_links) == (N, N) and report.bytes_hashed > 0
    with db.session() as s:
        links = s.scalars(select(m.ChainEntry).order_by(m.ChainEntry.seq)).all()
    assert [ln.seq for ln in links] == [1, 2, 3, 4] and links[1].prev_hash == links[0].entry_hash


def test_a_flipped_byte_is_found(db: Database, indexed: Path, expect_warnings) -> None:  # type: ignore[no-untyped-def]
    p = paths(db)[1]
    data = bytearray(p.read_bytes())
    data[len(data) // 2] ^= 0x01
    p.write_bytes(bytes(data))
    report = verify(db, indexed)
    assert [(x.kind, x.path) for x in report.problems] == [("altered", str(p))]


def test_truncation_is_found(db: Database, indexed: Path, expect_warnings) -> None:  # type: ignore[no-untyped-def]
    p = paths(db)[2]
    p.write_bytes(p.read_bytes()[:-188])  # one MPEG-TS packet less
    assert [x.kind for x in verify(db, indexed).problems] == ["altered"]


def test_a_deleted_file_is_found(db: Database, indexed: Path, expect_warnings) -> None:  # type: ignore[no-untyped-def]
    p = paths(db)[0]
    p.unlink()
    assert [(x.kind, x.path) for x in verify(db, indexed).problems] == [("missing", str(p))]


def test_two_swapped_files_are_both_found(db: Database, indexed: Path, expect_warnings) -> None:  # type: ignore[no-untyped-def]
    a, b = paths(db)[0], paths(db)[3]
    da, dbytes = a.read_bytes(), b.read_bytes()
    a.write_bytes(dbytes)
    b.write_bytes(da)
    report = verify(db, indexed)
    assert sorted((x.kind, x.path) for x in report.problems) == sorted([("altered", str(a)), ("altered", str(b))])


def test_an_edited_index_row_is_found(db: Database, indexed: Path, expect_warnings) -> None:  # type: ignore[no-untyped-def]
    with db.session() as s:
        rid = s.scalars(select(m.Recording.id).order_by(m.Recording.id)).all()[1]
        s.execute(update(m.Recording).where(m.Recording.id == rid).values(tracking_number="999999999999"))
    report = verify(db, indexed)
    assert [(x.kind, x.recording_id) for x in report.problems] == [("row_changed", rid)]


def test_a_deleted_index_row_and_a_deleted_link_are_found(db: Database, indexed: Path, expect_warnings) -> None:  # type: ignore[no-untyped-def]
    with db.session() as s:
        ids = s.scalars(select(m.Recording.id).order_by(m.Recording.id)).all()
        s.execute(delete(m.Recording).where(m.Recording.id == ids[0]))
    kinds = verify(db, indexed).kinds()
    assert kinds == {"row_missing": 1, "unindexed": 1}  # and its file is now nobody's
    with db.session() as s:
        s.execute(delete(m.ChainEntry).where(m.ChainEntry.seq == 3))
    kinds = verify(db, indexed).kinds()
    assert kinds["chain_broken"] == 1 and kinds["unchained"] == 1


def test_unindexed_file_and_retention_deletions(db: Database, indexed: Path, expect_warnings) -> None:  # type: ignore[no-untyped-def]
    stray = indexed / "2026-01-01" / "stray.ts"
    stray.parent.mkdir()
    stray.write_bytes(b"\x47" * 188)
    p = paths(db)[1]
    with db.session() as s:  # every recording but p is claimed: retention deletes p alone, and chains that
        s.execute(update(m.Recording).where(m.Recording.path != str(p)).values(keep=True))
    assert purge_old_videos(db, older_than_days=1, now=datetime.now(UTC) + timedelta(days=3),
                            station="S1").deleted == 1
    assert not p.exists()
    assert [(x.kind, x.path) for x in verify(db, indexed).problems] == [("unindexed", str(stray))]


def test_a_file_removed_by_hand_and_marked_deleted_is_not_retention(db: Database, indexed: Path,
                                                                    expect_warnings) -> None:  # type: ignore[no-untyped-def]
    p = paths(db)[2]
    p.unlink()
    with db.session() as s:  # made to look like retention: the row says deleted, but no deletion link exists
        s.execute(update(m.Recording).where(m.Recording.path == str(p)).values(deleted_at=datetime.now(UTC)))
    assert [(x.kind, x.path) for x in verify(db, indexed).problems] == [("deleted_unrecorded", str(p))]


@pytest.mark.parametrize(("change", "named"), [({"packer_name": "다른 사람"}, "row_changed"),
                                               ({"pack_outcome": PackOutcome.CANCELLED}, "outcome_changed"),
                                               ({"pack_key": "forged"}, "row_changed")])
def test_who_packed_it_and_how_it_ended_are_covered_too(db: Database, indexed: Path, expect_warnings,
                                                          change: dict[str, object], named: str) -> None:  # type: ignore[no-untyped-def]
    """An outcome edited alone is named as such (the link is tried with each outcome); other edits: the row."""
    with db.session() as s:
        s.execute(update(m.Recording).where(m.Recording.path == str(paths(db)[0])).values(**change))
    assert [x.kind for x in verify(db, indexed).problems] == [named]


def test_removing_the_newest_recordings_whole_is_caught_by_this_pcs_anchor(db: Database, indexed: Path,
                                                                           tmp_path: Path, expect_warnings) -> None:  # type: ignore[no-untyped-def]
    anchor = tmp_path / ANCHOR_FILE
    assert update_anchor(db, "S1", anchor) == "advanced" and update_anchor(db, "S1", anchor) == "ok"
    assert read_anchors(anchor)["S1"][0] == N
    assert verify(db, indexed, anchors=read_anchors(anchor)).ok
    newest = paths(db)[-1]
    newest.unlink()  # the last file, its row and its link: nothing left points at them
    with db.session() as s:
        rid = s.scalar(select(m.Recording.id).where(m.Recording.path == str(newest)))
        s.execute(delete(m.ChainEntry).where(m.ChainEntry.recording_id == rid))
        s.execute(delete(m.Recording).where(m.Recording.id == rid))
    assert verify(db, indexed).ok  # without the anchor the chain looks whole
    assert [x.kind for x in verify(db, indexed, anchors=read_anchors(anchor)).problems] == ["chain_truncated"]
    assert update_anchor(db, "S1", anchor) == "truncated" and read_anchors(anchor)["S1"][0] == N  # kept


def test_a_crash_left_file_is_hashed_and_chained_at_start(db: Database, tmp_path: Path, expect_warnings) -> None:  # type: ignore[no-untyped-def]
    partial = tmp_path / "partial.ts"
    partial.write_bytes(b"\x47" * 188 * 50)
    with db.session() as s:
        recording_started(s, pack_key="crash", tracking_number="601", order_nos="", station="S1", packer_name="p",
                          recorder="opencv", path=str(partial), started_at=datetime.now(UTC) - timedelta(seconds=5))
    with db.session() as s:
        assert recover_interrupted(s, "S1") == 1
    with db.session() as s:
        rec = s.scalars(select(m.Recording)).one()
        assert rec.status is RecordingStatus.RECOVERED and "recovered after crash" in rec.note
        assert rec.size_bytes == 188 * 50 and len(rec.sha256) == 64
        assert s.scalars(select(m.ChainEntry.recording_id)).all() == [rec.id]
    assert verify(db, tmp_path).ok


def test_one_station_verifies_its_own_chain_and_files(db: Database, indexed: Path, expect_warnings) -> None:  # type: ignore[no-untyped-def]
    """On a shared database another station's files are on its PC: verifying this station does not call them
    missing, and a file in the shared folder that another station's row names is not unindexed."""
    elsewhere = paths(db)[-1]
    with db.session() as s:  # the last recording was made at another station, on its own disk
        s.execute(update(m.Recording).where(m.Recording.path == str(elsewhere)).values(station="S2"))
        s.execute(update(m.ChainEntry).where(m.ChainEntry.seq == N).values(station="S2", seq=1))
    report = verify(db, indexed, station="S1")
    assert report.ok and report.checked_links == N - 1
    elsewhere.unlink()
    assert verify(db, indexed, station="S1").ok

    everyone = verify(db, indexed)
    assert set(everyone.kinds()) >= {"missing"}
