"""A return inspection's own scans, its items' final conditions and its outcome join the station's hash chain
when it ends (or when the next start abandons it after a crash), and ``verify`` names what was edited behind
the app's back. The station service against a database (SQLite, or PostgreSQL with
PACKDESK_TEST_DATABASE_URL), without Qt; the recorder is a spy (the return's video is chained apart, as any
recording: ``tests/services/test_returns.py``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import delete, insert, select, update

from packdesk.channels.demo import BARCODE, Scenario
from packdesk.core import chain
from packdesk.core import models as m
from packdesk.core.chain import PACK, RETURN
from packdesk.core.db import Database
from packdesk.core.enums import PackOutcome, ScanSource
from packdesk.core.returns import RMsg
from packdesk.services.integrity import verify
from tests.services.test_station_service import Rig

MUG, TUMBLER, TEA = BARCODE["MUG-WH-01"], BARCODE["TMB-500"], BARCODE["TEA-GR"]
RS, RI, INSP = m.ReturnScan, m.ReturnItem, m.ReturnInspection


def inspect(rig: Rig, label: str = "RT-777") -> None:
    """A return under a label PackDesk does not know, linked by the original waybill: the mug marked damaged
    then corrected to good, a tea set the order never sent marked "other product", COMPLETE."""
    rig.scan("PD-CMD-RETURNS", label, Scenario.SIMPLE, MUG, "PD-RET-DAMAGED", "PD-RET-OK", TEA, "PD-RET-OTHER",
             "PD-CMD-COMPLETE", "PD-CMD-PACKING")
    assert rig.svc.returns.state.message.code is RMsg.LEFT


@pytest.fixture
def returned(demo_db: Database, expect_warnings) -> Iterator[Rig]:  # type: ignore[no-untyped-def]
    """The order packed (a pack link), then its return inspected (a return link)."""
    rig = Rig(demo_db)
    rig.scan("PD-PACKER-001", Scenario.SIMPLE, MUG, TUMBLER, MUG)
    inspect(rig)
    yield rig
    rig.worker.close()


def inspection_ids(db: Database) -> list[int]:
    with db.session() as s:
        return list(s.scalars(select(INSP.id).order_by(INSP.id)))


def test_an_ended_inspection_is_chained_with_every_scan_and_verifies_clean(demo_db: Database, returned: Rig) -> None:
    (iid,) = inspection_ids(demo_db)
    with demo_db.session() as s:
        links = s.scalars(select(m.ChainEntry).order_by(m.ChainEntry.seq)).all()
        scans = s.scalars(select(RS.code).where(RS.inspection_id == iid).order_by(RS.id)).all()
    assert [ln.kind for ln in links] == [PACK, RETURN]
    assert len(scans) == 8 and (links[1].recording_id, links[1].size_bytes) == (iid, 8)
    assert scans[-1] == "PD-CMD-COMPLETE"  # the scan that ended it is covered too
    report = verify(demo_db, station="S1")
    assert report.ok, report.problems
    assert (report.checked_links, report.checked_packs, report.checked_returns) == (2, 1, 1)


def damaged_scan() -> Any:
    return select(RS.id).where(RS.condition == "damaged").scalar_subquery()


@pytest.mark.parametrize(("edit", "named"), [
    pytest.param(lambda iid: update(RS).where(RS.id == damaged_scan()).values(condition="ok"), "scans_changed",
                 id="return-scan-condition"),
    pytest.param(lambda iid: update(RI).where(RI.inspection_id == iid, RI.line_no == 2).values(condition="ok"),
                 "scans_changed", id="final-condition"),
    pytest.param(lambda iid: update(RI).where(RI.inspection_id == iid, RI.line_no == 2).values(expected=True),
                 "scans_changed", id="sent-by-the-order"),
    pytest.param(lambda iid: delete(RS).where(RS.id == damaged_scan()), "scans_changed", id="scan-deleted"),
    pytest.param(lambda iid: update(RS).where(RS.id == damaged_scan()).values(inspection_id=None),
                 "scans_changed", id="scan-taken-out"),
    pytest.param(lambda iid: update(INSP).where(INSP.id == iid).values(outcome=PackOutcome.CANCELLED),
                 "outcome_changed", id="outcome"),
    pytest.param(lambda iid: update(INSP).where(INSP.id == iid).values(original_pack_session_id=None),
                 "return_changed", id="original-pack"),
    pytest.param(lambda iid: update(INSP).where(INSP.id == iid).values(packer_name="다른 사람"),
                 "return_changed", id="packer"),
])
def test_an_edited_return_scan_condition_or_outcome_is_named(demo_db: Database, returned: Rig,
                                                            edit: Callable[[int], Any], named: str) -> None:
    (iid,) = inspection_ids(demo_db)
    with demo_db.session() as s:
        assert s.execute(edit(iid)).rowcount == 1
    report = verify(demo_db, station="S1")
    assert [(p.kind, p.inspection_id, p.pack_session_id) for p in report.problems] == [(named, iid, None)]
    if named == "outcome_changed":
        assert "outcome cancelled, chained as completed" in report.problems[0].detail


def test_a_scan_added_and_an_inspection_deleted_are_named(demo_db: Database, returned: Rig) -> None:
    (iid,) = inspection_ids(demo_db)
    with demo_db.session() as s:  # an item "found" in the box after the fact
        s.execute(insert(RS).values(inspection_id=iid, station="S1", packer_name="김민수",
                                    scanned_at=returned.clock.now, code=TUMBLER, source=ScanSource.WEDGE,
                                    kind="item", accepted=True, reason="", line_no=3))
    assert [(p.kind, p.inspection_id) for p in verify(demo_db, station="S1").problems] == [("scans_changed", iid)]
    with demo_db.session() as s:  # the whole inspection removed: its link stays and names it
        s.execute(delete(RS).where(RS.inspection_id == iid))
        s.execute(delete(RI).where(RI.inspection_id == iid))
        s.execute(delete(INSP).where(INSP.id == iid))
    assert [(p.kind, p.inspection_id) for p in verify(demo_db, station="S1").problems] == [("return_missing", iid)]


def test_an_inspection_left_open_by_a_crash_is_chained_when_the_next_start_abandons_it(
        demo_db: Database, expect_warnings) -> None:  # type: ignore[no-untyped-def]
    rig = Rig(demo_db)
    rig.scan("PD-PACKER-001", "PD-CMD-RETURNS", "RT-1")
    rig.worker.close()  # the app dies mid-inspection
    again = Rig(demo_db)
    try:
        with demo_db.session() as s:
            insp = s.scalars(select(INSP)).one()
            link = s.scalars(select(m.ChainEntry)).one()
        assert insp.outcome is PackOutcome.ABANDONED
        assert (link.kind, link.recording_id, link.size_bytes) == (RETURN, insp.id, 1)  # its one scan: the label
        assert verify(demo_db, station="S1").ok
        with demo_db.session() as s:
            s.execute(update(INSP).values(outcome=PackOutcome.COMPLETED))
        assert [p.kind for p in verify(demo_db, station="S1").problems] == ["outcome_changed"]
    finally:
        again.worker.close()


def test_inspections_ended_before_returns_were_chained_verify_clean(  # type: ignore[no-untyped-def]
        demo_db: Database, monkeypatch: pytest.MonkeyPatch, expect_warnings) -> None:
    """A database from before return links: PackDesk then ended an inspection without appending one, and the
    station's next link followed the one before (simulated by the same code with ``append_return`` doing
    nothing, so the chain stays whole, as it was). It verifies clean; an inspection ended after its station's
    first return link with none is ``unchained``."""
    rig = Rig(demo_db)
    try:
        rig.scan("PD-PACKER-001", Scenario.SIMPLE, MUG, TUMBLER, MUG)
        with monkeypatch.context() as mp:
            mp.setattr(chain, "append_return", lambda s, iid: None)
            inspect(rig, "RT-OLD")
            rig.scan(Scenario.TEA_SET, "PD-CMD-CANCEL")  # a pack after it: its link follows the first pack's
        with demo_db.session() as s:
            assert s.scalars(select(m.ChainEntry.kind).order_by(m.ChainEntry.seq)).all() == [PACK, PACK]
        report = verify(demo_db, station="S1")
        assert report.ok, report.problems
        assert report.checked_returns == 0
        inspect(rig, "RT-NEW")  # the first return link; then one ended with none (its link removed)
        inspect(rig, "RT-LOST")
        *_, lost = inspection_ids(demo_db)
        with demo_db.session() as s:
            s.execute(delete(m.ChainEntry).where(m.ChainEntry.kind == RETURN, m.ChainEntry.recording_id == lost))
        assert [(p.kind, p.inspection_id) for p in verify(demo_db, station="S1").problems] == [("unchained", lost)]
    finally:
        rig.worker.close()
