"""The review service without Qt: search by every key, a pack's history, keep and note, the scans' places in the
video, and clip export from a real recording (whole, original, a keyframe remux, an exact re-encode).
The data-layer tests run on PostgreSQL too (scripts/test.sh)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from sqlalchemy import insert, select

from packdesk.channels.demo import BARCODE, Scenario
from packdesk.core import models as m
from packdesk.core.db import Database
from packdesk.core.enums import PackOutcome, RecordingStatus, ScanKind
from packdesk.core.filenames import safe_file_part
from packdesk.core.kst import kst
from packdesk.core.recordings import recording_finished, recording_started
from packdesk.core.station import Msg
from packdesk.devices.camera import SYNTHETIC, Camera, CameraState
from packdesk.devices.opencv_recorder import OpenCvRecorder
from packdesk.devices.recorder import RecorderEvent, RecordingFinished, RecordingJob
from packdesk.services import review
from packdesk.services.retention import purge_old_videos
from packdesk.services.review import ExportMethod, ReviewError, SearchField, SearchQuery
from tests.services.test_station_service import Rig
from tests.waiting import wait_until

T0 = datetime(2026, 11, 1, 1, 0, tzinfo=UTC)


def add_recording(db: Database, tracking: str, *, at: datetime, station: str = "S1", packer: str = "김민수",
                  path: str = "", **kw: object) -> int:
    with db.session() as s:
        values = {"tracking_number": tracking, "station": station, "packer_name": packer,
                  "path": path or f"/v/{tracking}.ts", "started_at": at, "ended_at": at + timedelta(seconds=20),
                  "duration_ms": 20_000, "status": RecordingStatus.COMPLETE, "pack_outcome": PackOutcome.COMPLETED,
                  "recorder": "opencv", **kw}
        return s.execute(insert(m.Recording).values(values).returning(m.Recording.id)).scalar_one()


def find(db: Database, **kw: object) -> list[str]:
    with db.session() as s:
        return [r.tracking_number for r in review.search(s, SearchQuery(**kw)).rows]  # type: ignore[arg-type]


def order_of(db: Database, tracking: str) -> tuple[str, str]:
    with db.session() as s:
        return s.execute(select(m.Order.order_no, m.Order.recipient_name).join(m.OrderLine)
                         .join(m.Waybill, m.Waybill.id == m.OrderLine.waybill_id)
                         .where(m.Waybill.tracking_number == tracking).order_by(m.Order.id)).first()  # type: ignore[return-value]


@pytest.fixture
def indexed(demo_db: Database) -> Database:
    """Recordings of the demo waybills: SIMPLE twice (a cancelled pack, then the completed one), the others once,
    at three stations and two packers over three days."""
    add_recording(demo_db, Scenario.SIMPLE, at=T0, station="S1", pack_outcome=PackOutcome.CANCELLED)
    add_recording(demo_db, Scenario.SIMPLE, at=T0 + timedelta(hours=1), station="S1")
    add_recording(demo_db, Scenario.TEA_SET, at=T0 + timedelta(days=1), station="S2", packer="이영희")
    add_recording(demo_db, Scenario.GIFT_SET, at=T0 + timedelta(days=2), station="S3")
    add_recording(demo_db, Scenario.TSHIRTS, at=T0 + timedelta(days=2, hours=1), station="S2", packer="이영희")
    return demo_db


def test_a_scanned_waybill_finds_its_recordings_newest_first(indexed: Database) -> None:
    with indexed.session() as s:
        rows = review.search(s, SearchQuery(Scenario.SIMPLE)).rows
    assert [r.tracking_number for r in rows] == [Scenario.SIMPLE] * 2
    assert rows[0].started_at > rows[1].started_at and rows[1].pack_outcome is PackOutcome.CANCELLED
    assert find(indexed, text=Scenario.SIMPLE[:-1]) == [Scenario.SIMPLE] * 2  # a typed prefix
    assert set(find(indexed, text=Scenario.SIMPLE[:-2])) == {Scenario.SIMPLE, Scenario.TEA_SET, Scenario.GIFT_SET,
                                                             Scenario.TSHIRTS}
    assert find(indexed, text="999999") == []


def test_an_order_number_finds_the_waybill_it_ships_under(indexed: Database) -> None:
    order_no, _ = order_of(indexed, Scenario.TEA_SET)
    assert find(indexed, text=order_no) == [Scenario.TEA_SET]
    assert find(indexed, text=order_no, field=SearchField.ORDER) == [Scenario.TEA_SET]
    assert find(indexed, text=order_no, field=SearchField.WAYBILL) == []


def test_a_recipient_name_finds_their_parcels(indexed: Database) -> None:
    _, name = order_of(indexed, Scenario.GIFT_SET)
    assert name and not name.isascii()
    assert Scenario.GIFT_SET in find(indexed, text=name)
    assert Scenario.GIFT_SET in find(indexed, text=name[:2], field=SearchField.RECIPIENT)  # surname + first syllable
    assert find(indexed, text=name, field=SearchField.WAYBILL) == []


def test_filters_by_period_station_and_packer(indexed: Database) -> None:
    day2 = dict(since=T0 + timedelta(days=1), until=T0 + timedelta(days=2))
    assert find(indexed, **day2) == [Scenario.TEA_SET]
    assert find(indexed, station="S2") == [Scenario.TSHIRTS, Scenario.TEA_SET]
    assert find(indexed, packer="김민수", since=T0 + timedelta(days=1)) == [Scenario.GIFT_SET]
    assert find(indexed, text=Scenario.SIMPLE, station="S2") == []
    assert len(find(indexed)) == 5


def test_pages_continue_where_the_last_one_ended(indexed: Database) -> None:
    seen: list[int] = []
    q = SearchQuery(limit=2)
    with indexed.session() as s:
        while True:
            page = review.search(s, q)
            seen += [r.id for r in page.rows]
            if not page.more:
                break
            q = SearchQuery(limit=2, after=page.next_after)
    with indexed.session() as s:
        everything = [r.id for r in review.search(s, SearchQuery()).rows]
    assert seen == everything and len(seen) == 5


def test_a_text_matching_too_many_waybills_says_so(indexed: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(review, "CANDIDATES", 2)
    with indexed.session() as s:
        numbers, more = review.matching_waybills(s, "60", SearchField.WAYBILL, cap=2)
    assert len(numbers) == 2 and more


def test_recipients_and_filter_lists(indexed: Database) -> None:
    with indexed.session() as s:
        rows = review.search(s, SearchQuery()).rows
        assert {r.tracking_number: r.recipient_name for r in rows} == {
            tn: order_of(indexed, tn)[1] for tn in (Scenario.SIMPLE, Scenario.TEA_SET, Scenario.GIFT_SET,
                                                    Scenario.TSHIRTS)}
    add_recording(indexed, "no-such-waybill", at=T0)
    with indexed.session() as s:
        assert review.search(s, SearchQuery("no-such-waybill")).rows[0].recipient_name == ""
        assert "김민수" in review.packer_names(s)


@pytest.fixture
def packed(demo_db: Database) -> Iterator[tuple[Rig, int]]:
    """A real pack through the station service: a wrong item refused mid-pack, then completed, its recording
    indexed, and the waybill scanned again afterwards (refused: already packed)."""
    rig = Rig(demo_db)
    rig.scan("PD-PACKER-001", Scenario.SIMPLE, BARCODE["MUG-WH-01"], BARCODE["TEA-GR"], BARCODE["TMB-500"],
             BARCODE["MUG-WH-01"])
    assert rig.message is Msg.PACK_COMPLETE
    key = rig.recorder.jobs[0].pack_key
    with demo_db.session() as s:
        waybill_at = s.scalar(select(m.ScanEvent.scanned_at).where(m.ScanEvent.kind == ScanKind.WAYBILL))
        started = waybill_at - timedelta(seconds=2)  # the camera's pre-roll
        rid = recording_started(s, pack_key=key, tracking_number=Scenario.SIMPLE, order_nos="202600000001",
                                station="S1", packer_name="김민수", recorder="opencv", path="/v/x.ts",
                                started_at=started)
    with demo_db.session() as s:
        recording_finished(s, pack_key=key, path="/v/x.ts", started_at=started, ended_at=rig.clock.now,
                           frames=0, dropped=0, size_bytes=0, outcome=PackOutcome.COMPLETED)
    rig.scan(Scenario.SIMPLE)
    assert rig.message is Msg.WAYBILL_ALREADY_PACKED
    yield rig, rid
    rig.worker.close()


def test_pack_history_tells_who_packed_it_and_every_scan(packed: tuple[Rig, int], demo_db: Database) -> None:
    _, rid = packed
    with demo_db.session() as s:
        h = review.pack_history(s, Scenario.SIMPLE)
        by_order = review.pack_history(s, order_of(demo_db, Scenario.SIMPLE)[0])
    assert h == by_order  # the same story from the order number
    assert h.tracking_numbers == [Scenario.SIMPLE] and [o.order_no for o in h.orders] == ["202600000001"]
    assert any("머그컵" in p for p in h.orders[0].products)
    (pack,) = h.packs
    assert (pack.packer_name, pack.station, pack.outcome) == ("김민수", "S1", PackOutcome.COMPLETED)
    assert [r.id for r in pack.recordings] == [rid]
    assert [(sc.kind, sc.accepted) for sc in pack.scans] == [
        (ScanKind.WAYBILL, True), (ScanKind.ITEM, True), (ScanKind.ITEM, False), (ScanKind.ITEM, True),
        (ScanKind.ITEM, True)]
    refused = next(sc for sc in pack.scans if not sc.accepted)
    assert refused.reason == Msg.WRONG_ITEM.value and refused.item_name.startswith("녹차 티백")
    assert [(sc.code, sc.reason) for sc in h.loose_scans] == [(Scenario.SIMPLE, Msg.WAYBILL_ALREADY_PACKED.value)]
    with demo_db.session() as s:
        assert review.pack_history(s, "nothing-like-it").empty


def test_each_scan_has_its_place_in_the_video(packed: tuple[Rig, int], demo_db: Database) -> None:
    _, rid = packed
    with demo_db.session() as s:
        scans = review.scans_in_video(s, rid)
    # the clock ticks 1 s per scan; the video began 2 s before the waybill scan (pre-roll)
    assert [sc.offset_ms for sc in scans][:5] == [2000, 3000, 4000, 5000, 6000]
    assert scans[0].kind is ScanKind.WAYBILL


def test_keep_protects_from_retention_and_notes_are_kept(db: Database, tmp_path: Path) -> None:
    files = {}
    for name in ("claimed", "ordinary"):
        p = tmp_path / f"{name}.ts"
        p.write_bytes(b"v" * 100)
        files[name] = (add_recording(db, name, at=T0, path=str(p)), p)
    with db.session() as s:
        review.set_keep(s, files["claimed"][0], True)
        review.set_note(s, files["claimed"][0], "쿠팡 클레임 #123: 머그컵 누락 주장")
    result = purge_old_videos(db, older_than_days=90, now=T0 + timedelta(days=365))
    assert (result.deleted, result.kept) == (1, 1)
    assert files["claimed"][1].exists() and not files["ordinary"][1].exists()
    with db.session() as s:
        row = review.recording(s, files["claimed"][0])
        assert row is not None and row.keep and row.note.startswith("쿠팡 클레임") and not row.deleted
        assert review.recording(s, files["ordinary"][0]).deleted  # type: ignore[union-attr]
        with pytest.raises(ReviewError):
            review.set_keep(s, 999_999, True)


# ---------------------------------------------------------------- export from a real recording

@pytest.fixture(scope="module")
def video(tmp_path_factory: pytest.TempPathFactory) -> RecordingFinished:
    """About 3 s of the synthetic camera through the real recorder (H.264 in MPEG-TS, one keyframe at 0)."""
    root = tmp_path_factory.mktemp("videos")
    cam = Camera(SYNTHETIC, (320, 240), 30.0, pre_roll_s=0.5)
    cam.start()
    wait_until(lambda: cam.state == CameraState.RUNNING and cam.frames_captured >= 15, what="the camera")
    events: list[RecorderEvent] = []
    rec = OpenCvRecorder(cam, root, emit=events.append, min_free_bytes=0)
    try:
        rec.start(RecordingJob("k", Scenario.SIMPLE, "S1", "김민수", datetime.now(UTC)))
        n0 = cam.frames_captured
        wait_until(lambda: cam.frames_captured >= n0 + 75, 10, "frames")
        rec.stop("k", PackOutcome.COMPLETED)
        wait_until(lambda: any(isinstance(e, RecordingFinished) for e in events), 10, "the file to close")
    finally:
        rec.close()
    return next(e for e in events if isinstance(e, RecordingFinished))


def frame_times(path: Path) -> list[int]:
    with av.open(str(path)) as c:
        s = c.streams.video[0]
        t0 = s.start_time or 0
        return sorted(int((f.pts - t0) * s.time_base * 1000) for f in c.decode(s))


def test_probe_reads_duration_and_keyframes(video: RecordingFinished) -> None:
    info = review.probe(video.path)
    assert info.keyframes_ms[0] == 0 and round(info.fps) == 30
    assert abs(info.duration_ms - len(frame_times(video.path)) * 1000 / 30) < 100


def test_probe_reads_the_filmed_rate_from_uneven_frame_times(tmp_path: Path) -> None:
    """The recorder stamps frames with the camera's times (ms): on a busy PC a few ms late, here and there.
    FFmpeg's guess for such an MPEG-TS is 2000 fps (it failed this test's neighbour under load as 120)."""
    path = tmp_path / "uneven.ts"
    late = [0, 3, 9, 1, 12, 0, 6, 2, 15, 4]  # ms behind the 30 fps beat
    with av.open(str(path), "w", format="mpegts") as out:
        stream = out.add_stream("libx264", rate=30)
        stream.width, stream.height, stream.pix_fmt = 160, 120, "yuv420p"
        stream.codec_context.time_base = Fraction(1, 1000)
        for i in range(90):
            frame = av.VideoFrame.from_ndarray(np.zeros((120, 160, 3), np.uint8), format="bgr24")
            frame.pts, frame.time_base = round(i * 1000 / 30) + late[i % len(late)], Fraction(1, 1000)
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    info = review.probe(path)
    assert round(info.fps) == 30 and len(info.frames_ms) == 90
    assert abs(info.duration_ms - 3000) < 50


def test_export_whole_is_every_frame_as_mp4(video: RecordingFinished, tmp_path: Path) -> None:
    r = review.export_clip(video.path, tmp_path / "out", tracking_number=Scenario.SIMPLE, started_at=video.started_at)
    assert r.method is ExportMethod.REMUX and r.path.suffix == ".mp4" and r.path.parent == tmp_path / "out"
    assert len(frame_times(r.path)) == len(frame_times(video.path)) == video.frames
    assert r.path.name.startswith(f"{Scenario.SIMPLE}_{kst(video.started_at):%Y%m%d-%H%M%S}_00m00s-00m0")
    assert not list((tmp_path / "out").glob(".*"))  # no part file left behind


def test_export_original_is_the_file_itself(video: RecordingFinished, tmp_path: Path) -> None:
    r = review.export_clip(video.path, tmp_path, tracking_number=Scenario.SIMPLE, started_at=video.started_at,
                           original=True)
    assert r.method is ExportMethod.COPY and r.path.suffix == ".ts"
    assert hashlib.sha256(r.path.read_bytes()).hexdigest() == video.sha256
    again = review.export_clip(video.path, tmp_path, tracking_number=Scenario.SIMPLE, started_at=video.started_at,
                               original=True)
    assert again.path != r.path and again.path.stem.endswith("_2")  # never overwrites


def test_a_range_near_a_keyframe_is_cut_there_without_reencoding(video: RecordingFinished, tmp_path: Path) -> None:
    r = review.export_clip(video.path, tmp_path, tracking_number=Scenario.SIMPLE, started_at=video.started_at,
                           start_ms=400, end_ms=1500)
    assert r.method is ExportMethod.REMUX
    assert r.start_ms == 0 and (r.requested_start_ms, r.requested_end_ms) == (400, 1500)  # from the keyframe at 0
    times = frame_times(r.path)
    # the copy stops at the first packet decoded after 1500 ms; frames shown later but decoded earlier (x264's
    # B-frames come after the frame they are shown before) are in too: at most the stream's reordering delay
    with av.open(str(video.path)) as c:
        s = c.streams.video[0]
        reorder_ms = max(int((pk.pts - pk.dts) * s.time_base * 1000) for pk in c.demux(s) if pk.dts is not None)
    assert 1500 <= times[-1] + r.start_ms <= 1500 + reorder_ms + 34 and len(times) >= 45
    assert "_00m00s-00m02s" in r.path.name


def test_a_range_far_from_a_keyframe_is_reencoded_exactly(video: RecordingFinished, tmp_path: Path) -> None:
    for kw in ({"start_ms": 1500, "end_ms": 2500}, {"start_ms": 300, "end_ms": 1300, "exact": True}):
        r = review.export_clip(video.path, tmp_path, tracking_number=Scenario.SIMPLE, started_at=video.started_at,
                               **kw)  # type: ignore[arg-type]
        assert r.method is ExportMethod.REENCODE
        assert abs(r.start_ms - kw["start_ms"]) <= 34 and abs(r.end_ms - kw["end_ms"]) <= 70
        times = frame_times(r.path)
        assert times[0] == 0 and 28 <= len(times) <= 32  # one second of 30 fps, starting at the in point


def test_export_problems_are_told(video: RecordingFinished, tmp_path: Path) -> None:
    with pytest.raises(ReviewError) as e:
        review.export_clip(tmp_path / "gone.ts", tmp_path, tracking_number="1", started_at=T0)
    assert e.value.code == "recording_file_missing"
    with pytest.raises(ReviewError) as e:
        review.export_clip(video.path, tmp_path, tracking_number="1", started_at=T0, start_ms=2000, end_ms=1000)
    assert e.value.code == "export_empty_range"


def test_clip_names_say_waybill_time_and_range() -> None:
    at = datetime(2026, 11, 24, 1, 2, 3, tzinfo=UTC)
    name = review.clip_name("CJ 1234/56", at, 3_200, 72_100)
    assert name == f"CJ_1234_56_{kst(at):%Y%m%d-%H%M%S}_00m03s-01m13s.mp4"


@pytest.mark.parametrize("hostile", ["x/../../..", "/../../escaped", "..\\..\\win", "CON", "../", ""])
def test_a_hostile_tracking_number_never_leaves_the_export_folder(video: RecordingFinished, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch,
                                                                  hostile: str) -> None:
    """A tracking number is whatever a label or a sheet said: the clip, its temporary file and the original's
    copy are all named through ``safe_file_part``, inside the folder the person chose."""
    out = tmp_path / "a" / "b" / "out"
    temps: list[Path] = []
    for name in ("_remux", "_reencode"):  # where the temporary file is written
        real = getattr(review, name)
        monkeypatch.setattr(review, name, lambda src, tmp, *a, real=real, **k: (temps.append(tmp), real(src, tmp, *a,
                                                                                                        **k))[1])
    results = [review.export_clip(video.path, out, tracking_number=hostile, started_at=video.started_at, **kw)
               for kw in ({}, {"start_ms": 1500, "end_ms": 2500}, {"original": True})]  # type: ignore[arg-type]
    assert len(temps) == 2 and all(t.parent == out and ".." not in t.name.split(".part")[0][1:] for t in temps)
    assert all(r.path.parent == out for r in results)
    assert all(r.path.name.startswith(f"{safe_file_part(hostile)}_2") for r in results)  # then the date
    outside = [p for p in tmp_path.rglob("*") if p.is_file() and out not in p.parents]
    assert outside == []
