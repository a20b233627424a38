"""The whole evidence is chained: each pack's scan events and its outcome join the station's hash chain when the
pack ends, filmed or not, and ``verify`` names a scan or an outcome edited behind the app's back. The station
service against a database (SQLite, or PostgreSQL with PACKDESK_TEST_DATABASE_URL), without Qt; the station's
recorder is a spy (no local video: a RealPacking station, or the recorder off)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import delete, func, insert, select, update

from packdesk.channels.demo import BARCODE, Scenario
from packdesk.core import chain
from packdesk.core import models as m
from packdesk.core.chain import PACK
from packdesk.core.db import Database
from packdesk.core.enums import PackOutcome, ScanKind, ScanSource
from packdesk.core.station import Msg
from packdesk.devices.recorder import RecordingFailed
from packdesk.services.integrity import verify
from tests.services.test_station_service import Rig

MUG, TUMBLER, TEA = BARCODE["MUG-WH-01"], BARCODE["TMB-500"], BARCODE["TEA-GR"]


@pytest.fixture
def packed(demo_db: Database, expect_warnings) -> Iterator[Rig]:  # type: ignore[no-untyped-def]
    """Two packs at station S1: the first completed with a refused scan among its items (its recording failed),
    the second cancelled."""
    rig = Rig(demo_db)
    rig.scan("PD-PACKER-001", Scenario.SIMPLE, MUG, TEA, TUMBLER)
    key = rig.svc.state.pack.key  # type: ignore[union-attr]
    rig.svc.on_recorder_event(RecordingFailed(key, "camera_unavailable", "unplugged"))
    rig.scan(MUG)
    assert rig.message is Msg.PACK_COMPLETE
    rig.scan(Scenario.TEA_SET, TEA, "PD-CMD-CANCEL", "PD-CMD-CANCEL")  # a pack with progress: asked twice
    assert rig.message is Msg.PACK_CANCELLED
    yield rig
    rig.worker.close()


def pack_ids(db: Database) -> list[int]:
    with db.session() as s:
        return list(s.scalars(select(m.PackSession.id).order_by(m.PackSession.id)))


def test_every_pack_is_chained_with_every_scan_and_verifies_clean(demo_db: Database, packed: Rig) -> None:
    """Scans are written in order before the pack's end, on the same DB thread: the completing scan too."""
    first, second = pack_ids(demo_db)
    with demo_db.session() as s:
        links = s.scalars(select(m.ChainEntry).order_by(m.ChainEntry.seq)).all()
        counts = dict(s.execute(select(m.ScanEvent.pack_session_id, func.count()).group_by(
            m.ScanEvent.pack_session_id)).all())
        last_scan = s.scalars(select(m.ScanEvent).where(m.ScanEvent.pack_session_id == first)
                              .order_by(m.ScanEvent.id.desc()).limit(1)).one()
    assert [(ln.kind, ln.recording_id, ln.size_bytes) for ln in links] == [
        (PACK, first, 5), (PACK, second, 4)]  # waybill + 4 items (one refused); waybill, item, cancel twice
    assert counts[first] == 5 and counts[second] == 4
    assert (last_scan.code, last_scan.accepted) == (MUG, True)  # the scan that completed it
    report = verify(demo_db, station="S1")
    assert report.ok, report.problems
    assert (report.checked_links, report.checked_packs) == (2, 2)


def scan_of(pack: int, code: str) -> object:
    return select(m.ScanEvent.id).where(m.ScanEvent.pack_session_id == pack, m.ScanEvent.code == code).limit(1
                                                                                                            ).scalar_subquery()


@pytest.mark.parametrize(("edit", "named"), [
    (lambda p: update(m.ScanEvent).where(m.ScanEvent.id == scan_of(p, TEA)).values(code=MUG), "scans_changed"),
    (lambda p: update(m.ScanEvent).where(m.ScanEvent.id == scan_of(p, TEA)).values(accepted=True, reason=""),
     "scans_changed"),
    (lambda p: delete(m.ScanEvent).where(m.ScanEvent.id == scan_of(p, TEA)), "scans_changed"),
    (lambda p: update(m.ScanEvent).where(m.ScanEvent.id == scan_of(p, TEA)).values(pack_session_id=None),
     "scans_changed"),
    (lambda p: update(m.ScanEvent).where(m.ScanEvent.id == scan_of(p, TUMBLER)).values(
        scanned_at=datetime(2026, 11, 24, 0, 59, tzinfo=UTC)), "scans_changed"),
    (lambda p: update(m.PackSession).where(m.PackSession.id == p).values(outcome=PackOutcome.CANCELLED),
     "outcome_changed"),
    (lambda p: update(m.PackSession).where(m.PackSession.id == p).values(packer_name="다른 사람"), "pack_changed"),
])
def test_an_edited_scan_or_outcome_is_named(demo_db: Database, packed: Rig, edit, named: str) -> None:  # type: ignore[no-untyped-def]
    """A scan's code, verdict or time edited, a scan deleted or taken out of its pack; the outcome edited; the
    packer edited: each is named, on the pack it touched."""
    first, _ = pack_ids(demo_db)
    with demo_db.session() as s:
        assert s.execute(edit(first)).rowcount == 1
    report = verify(demo_db, station="S1")
    assert [(p.kind, p.pack_session_id) for p in report.problems] == [(named, first)]


def test_a_scan_added_to_a_pack_is_named(demo_db: Database, packed: Rig) -> None:
    _, second = pack_ids(demo_db)
    with demo_db.session() as s:  # an item "scanned" into the cancelled pack after the fact
        s.execute(insert(m.ScanEvent).values(pack_session_id=second, station="S1", packer_name="김민수",
                                             scanned_at=packed.clock.now, code=TEA, source=ScanSource.WEDGE,
                                             kind=ScanKind.ITEM, accepted=True, reason=""))
    assert [(p.kind, p.pack_session_id) for p in verify(demo_db, station="S1").problems] == [
        ("scans_changed", second)]


def test_a_deleted_pack_and_a_pack_with_its_link_removed_are_named(demo_db: Database, packed: Rig) -> None:
    _, second = pack_ids(demo_db)
    with demo_db.session() as s:  # the cancelled pack removed whole (it packed no line): its link stays
        s.execute(delete(m.ScanEvent).where(m.ScanEvent.pack_session_id == second))
        s.execute(delete(m.PackSession).where(m.PackSession.id == second))
    assert [(p.kind, p.pack_session_id) for p in verify(demo_db, station="S1").problems] == [
        ("pack_missing", second)]
    with demo_db.session() as s:  # and its link too (the newest: no gap in the chain, no anchor here)
        s.execute(delete(m.ChainEntry).where(m.ChainEntry.recording_id == second, m.ChainEntry.kind == PACK))
    assert verify(demo_db, station="S1").ok
    packed.scan(Scenario.TEA_SET, "PD-CMD-CANCEL")  # a third pack, ended after the first pack link
    third = pack_ids(demo_db)[-1]
    with demo_db.session() as s:
        s.execute(delete(m.ChainEntry).where(m.ChainEntry.recording_id == third, m.ChainEntry.kind == PACK))
    kinds = [(p.kind, p.pack_session_id) for p in verify(demo_db, station="S1").problems]
    assert kinds == [("unchained", third)]


def test_a_pack_left_open_by_a_crash_is_chained_when_the_next_start_abandons_it(
        demo_db: Database, expect_warnings) -> None:  # type: ignore[no-untyped-def]
    rig = Rig(demo_db)
    rig.scan("PD-PACKER-001", Scenario.TEA_SET, TEA, TEA)
    rig.worker.close()  # the app dies mid-pack
    again = Rig(demo_db)
    try:
        with demo_db.session() as s:
            ps = s.scalars(select(m.PackSession)).one()
            link = s.scalars(select(m.ChainEntry)).one()
        assert ps.outcome is PackOutcome.ABANDONED and (link.kind, link.recording_id, link.size_bytes) == (
            PACK, ps.id, 3)
        assert verify(demo_db, station="S1").ok
    finally:
        again.worker.close()


def test_packs_ended_before_the_chain_covered_packs_are_not_reported(demo_db: Database, packed: Rig) -> None:
    """A database from before pack links: ended packs and no pack link verify as they did."""
    with demo_db.session() as s:
        s.execute(delete(m.ChainEntry).where(m.ChainEntry.kind == PACK))
    assert verify(demo_db, station="S1").ok


def test_a_link_appended_meanwhile_is_followed_not_failed(demo_db: Database, packed: Rig,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """Retention's deletion link (another transaction) can take the next number between the read of the head
    and the insert: the pack's end follows it in a savepoint instead of failing with it."""
    real, stale = chain._last, [True]

    def last(s, station: str) -> tuple[int, str]:  # type: ignore[no-untyped-def]
        seq, prev = real(s, station)
        if stale.pop() if stale else False:
            return seq - 1, "0" * 64  # the head as it was before the other transaction's link
        return seq, prev

    monkeypatch.setattr(chain, "_last", last)
    errors = len(packed.listener.errors)
    packed.scan(Scenario.TEA_SET, "PD-CMD-CANCEL")
    assert len(packed.listener.errors) == errors and not stale and packed.message is Msg.PACK_CANCELLED
    with demo_db.session() as s:
        assert s.scalars(select(m.ChainEntry.seq).order_by(m.ChainEntry.seq)).all() == [1, 2, 3]
    assert verify(demo_db, station="S1").ok
