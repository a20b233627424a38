"""Returns inspection through the station service against the demo database (services/returns.py)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from packdesk.channels.demo import BARCODE, Scenario
from packdesk.core import models as m
from packdesk.core.db import Database
from packdesk.core.enums import PackOutcome
from packdesk.core.returns import RMsg
from packdesk.core.station import Msg, Sound
from packdesk.devices.recorder import RecordingFinished, RecordingStarted
from packdesk.services.returns import find_original, list_inspections, side_by_side
from tests.services.test_station_service import Rig

VIDEO = Path("return.mp4")
PACK_SIMPLE = ("PD-PACKER-001", Scenario.SIMPLE, BARCODE["MUG-WH-01"], BARCODE["TMB-500"], BARCODE["MUG-WH-01"])


@pytest.fixture
def rig(demo_db: Database) -> Iterator[Rig]:
    r = Rig(demo_db)
    yield r
    r.worker.close()


def rmsg(rig: Rig) -> RMsg:
    return rig.svc.returns.state.message.code


def test_find_original_by_waybill_and_by_order_number(rig: Rig, demo_db: Database) -> None:
    rig.scan(*PACK_SIMPLE)
    with demo_db.session() as s:
        by_waybill = find_original(s, Scenario.SIMPLE)
        assert by_waybill is not None and by_waybill.pack_session_id is not None
        assert sorted(by_waybill.expected.values()) == [1, 2]
        by_order = find_original(s, by_waybill.order_nos[0])
        assert by_order == by_waybill
        assert find_original(s, "RT-UNKNOWN-1") is None


def test_a_return_of_a_packed_order_is_inspected_stored_and_filmed(rig: Rig, demo_db: Database) -> None:
    rig.scan(*PACK_SIMPLE)
    rig.scan("PD-CMD-RETURNS")
    assert rig.svc.returns.state.active and rmsg(rig) is RMsg.READY
    rig.scan(Scenario.SIMPLE)
    assert rmsg(rig) is RMsg.STARTED
    job = rig.recorder.jobs[-1]
    assert job.tracking_number == Scenario.SIMPLE and rig.recorder.calls[-1] == ("start", Scenario.SIMPLE)
    rig.scan(BARCODE["MUG-WH-01"], "PD-RET-OK", BARCODE["TEA-GR"], "PD-RET-OTHER")
    assert rmsg(rig) is RMsg.MARKED
    rig.scan("PD-CMD-COMPLETE")
    assert rmsg(rig) is RMsg.COMPLETE and rig.recorder.calls[-1] == ("stop", PackOutcome.COMPLETED)
    # the recorder's own events index and chain the video under the inspection's key
    rig.svc.on_recorder_event(RecordingStarted(job.pack_key, VIDEO, job.started_at))
    rig.settle()
    rig.svc.on_recorder_event(RecordingFinished(job.pack_key, VIDEO, job.started_at, job.started_at
                                                + timedelta(seconds=5), 50, 0, 10, PackOutcome.COMPLETED, "ab" * 32))
    rig.settle()
    with demo_db.session() as s:
        insp = s.scalars(select(m.ReturnInspection)).one()
        original = s.scalars(select(m.PackSession).where(m.PackSession.outcome == PackOutcome.COMPLETED)).one()
        assert insp.outcome is PackOutcome.COMPLETED and insp.original_pack_session_id == original.id
        assert insp.waybill_id == original.waybill_id and insp.return_code == Scenario.SIMPLE
        items = s.scalars(select(m.ReturnItem).order_by(m.ReturnItem.line_no)).all()
        assert [(i.expected, i.condition) for i in items] == [(True, "ok"), (False, "other_product")]
        kinds = s.scalars(select(m.ReturnScan.kind).where(m.ReturnScan.inspection_id == insp.id)
                          .order_by(m.ReturnScan.id)).all()
        assert kinds == ["return", "item", "condition", "item", "condition", "command"]
        rec = s.scalars(select(m.Recording).where(m.Recording.pack_key == insp.key)).one()
        assert s.scalars(select(m.ChainEntry).where(m.ChainEntry.recording_id == rec.id,
                                                    m.ChainEntry.kind == "recording")).one()


def test_an_unknown_return_label_then_the_order_number_links_it(rig: Rig, demo_db: Database) -> None:
    rig.scan(*PACK_SIMPLE)
    rig.scan("PD-CMD-RETURNS", "RT-98765")
    assert rmsg(rig) is RMsg.STARTED_UNKNOWN and rig.recorder.calls[-1] == ("start", "RT-98765")
    rig.scan("NOT-AN-ORDER")
    assert rmsg(rig) is RMsg.ORIGINAL_NOT_FOUND and rig.listener.sounds[-1] is Sound.ERROR
    with demo_db.session() as s:
        order_no = s.scalars(select(m.Order.order_no).join(m.OrderLine).join(m.Waybill)
                             .where(m.Waybill.tracking_number == Scenario.SIMPLE)).first()
    assert order_no
    rig.scan(order_no)
    assert rmsg(rig) is RMsg.LINKED
    rig.scan(BARCODE["TMB-500"], "PD-RET-DAMAGED", "PD-CMD-COMPLETE")
    assert rmsg(rig) is RMsg.COMPLETE
    with demo_db.session() as s:
        insp = s.scalars(select(m.ReturnInspection)).one()
        assert insp.return_code == "RT-98765" and insp.order_nos == order_no and insp.waybill_id is not None


def test_the_mode_waits_for_the_pack_and_packing_comes_back(rig: Rig) -> None:
    rig.scan("PD-PACKER-001", Scenario.SIMPLE, "PD-CMD-RETURNS")
    assert not rig.svc.returns.state.active and rmsg(rig) is RMsg.PACK_OPEN
    assert rig.svc.state.pack is not None  # the pack goes on
    rig.scan("PD-CMD-CANCEL", "PD-CMD-RETURNS", "PD-CMD-PACKING")
    assert not rig.svc.returns.state.active and rmsg(rig) is RMsg.LEFT
    rig.scan(Scenario.SIMPLE)
    assert rig.message is Msg.PACK_STARTED  # a waybill packs again


def test_an_open_return_times_out_and_a_crash_leaves_it_abandoned(rig: Rig, demo_db: Database) -> None:
    rig.scan("PD-PACKER-001", "PD-CMD-RETURNS", "RT-1")
    rig.clock.now += timedelta(minutes=11)
    rig.svc.tick()
    rig.settle()
    assert rmsg(rig) is RMsg.TIMED_OUT and rig.recorder.calls[-1] == ("stop", PackOutcome.TIMED_OUT)
    rig.scan("RT-2")
    rig.worker.close()  # the app dies mid-inspection
    again = Rig(demo_db)
    with demo_db.session() as s:
        assert sorted(s.scalars(select(m.ReturnInspection.outcome))) == sorted(
            [PackOutcome.TIMED_OUT, PackOutcome.ABANDONED])
    again.worker.close()


def test_the_review_reads_a_return_beside_its_outbound_pack(rig: Rig, demo_db: Database) -> None:
    rig.scan(*PACK_SIMPLE)  # packed unfilmed (the spy recorder reports nothing): its scans all the same
    rig.scan("PD-CMD-RETURNS", "RT-555", Scenario.SIMPLE, BARCODE["TMB-500"], "PD-RET-MISSING", "PD-CMD-COMPLETE")
    rig.scan("PD-CMD-RETURNS", "RT-556", "PD-CMD-CANCEL")
    with demo_db.session() as s:
        assert [r.return_code for r in list_inspections(s)] == ["RT-556", "RT-555"]
        (row,) = list_inspections(s, Scenario.SIMPLE)                # by the original waybill
        assert row.return_code == "RT-555" and row.tracking_number == Scenario.SIMPLE
        assert [r.return_code for r in list_inspections(s, "RT-556")] == ["RT-556"]
        sbs = side_by_side(s, row.id)
    assert sbs.return_video is None and sbs.outbound_video is None
    assert [(sc.kind, sc.accepted) for sc in sbs.return_scans] == [
        ("return", True), ("original", True), ("item", True), ("condition", True), ("command", True)]
    assert sbs.return_scans[3].condition == "missing_part" and sbs.return_scans[2].item_name
    assert [sc.code for sc in sbs.outbound_scans][:2] == [Scenario.SIMPLE, BARCODE["MUG-WH-01"]]
