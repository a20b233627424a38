"""Pre-printed labels bound at the station: a parcel opened from its packing slip, packed, then its courier
label scanned, checked and bound in the transaction that completes the pack. The station service against a
database (SQLite, or PostgreSQL with PACKDESK_TEST_DATABASE_URL), without Qt.

Orders come in through ``services/collect.store_orders`` with records as a marketplace sends them (no
tracking number), into the demo shop's account, whose products are linked to items already."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from packdesk.channels.base import LineRecord, OrderRecord
from packdesk.channels.demo import BARCODE, P_MUG_WH, P_TEA12, P_TUMBLER, Product, Scenario
from packdesk.core import claims, parcels
from packdesk.core import models as m
from packdesk.core.chain import file_digest
from packdesk.core.db import Database
from packdesk.core.enums import ChannelKind, LineStatus, OutboxState, PackOutcome, ScanKind, ScanSource
from packdesk.core.station import CompleteMode, Msg, Sound
from packdesk.core.tracking import with_check_digit
from packdesk.devices.recorder import RecordingFinished, RecordingStarted
from packdesk.services.collect import store_orders
from packdesk.services.integrity import verify
from tests.services.test_station_service import Clock, HeldWorker, Rig, watch_db_jobs

NOW = datetime(2026, 12, 6, 0, 30, tzinfo=UTC)
MUG, TUMBLER, TEA = BARCODE["MUG-WH-01"], BARCODE["TMB-500"], BARCODE["TEA-GR"]
LABEL = with_check_digit("56123456789")            # a CJ대한통운 number as its labels print it (mod 7)
LABEL_2 = with_check_digit("56123456790")
MISREAD = LABEL[:-1] + str((int(LABEL[-1]) + 1) % 10)  # the check digit read wrong


def demo_account(db: Database) -> int:
    with db.session() as s:
        return s.scalars(select(m.ChannelAccount.id).where(m.ChannelAccount.kind == ChannelKind.DEMO)).one()


def collect(db: Database, order_no: str, recipient: str, *lines: tuple[Product, int]) -> str:
    """An order as a marketplace sends it (no tracking number), stored as a collection stores it; returns the
    key of the parcel it waits in (what its packing slip's barcode says)."""
    record = OrderRecord(order_no, recipient, recipient, "010-2345-6789", "06236", f"서울 강남구 {order_no}", "", NOW,
                         NOW, tuple(LineRecord(f"{order_no}-{i}", p.code, p.option_code, p.name, p.option_name, qty,
                                               LineStatus.CONFIRMED) for i, (p, qty) in enumerate(lines, 1)))
    with db.session() as s:
        store_orders(s, demo_account(db), [record], "test")
    with db.session() as s:
        return s.scalars(select(m.Parcel.key).join(m.OrderLine, m.OrderLine.parcel_id == m.Parcel.id)
                         .join(m.Order, m.Order.id == m.OrderLine.order_id)
                         .where(m.Order.order_no == order_no)).first() or ""


@pytest.fixture
def rig(demo_db: Database) -> Iterator[Rig]:
    r = Rig(demo_db)
    yield r
    r.worker.close()


@pytest.fixture
def key(demo_db: Database) -> str:
    return collect(demo_db, "N-1001", "한지민", (P_MUG_WH, 2), (P_TUMBLER, 1))


def test_a_slip_opens_the_pack_the_label_binds_and_completes_it(rig: Rig, demo_db: Database, key: str) -> None:
    rig.scan("PD-PACKER-001", key.lower())  # a scan read in Hangul mode loses the case
    assert rig.message is Msg.PACK_STARTED and rig.recorder.calls == [("start", key)]
    plan = rig.svc.state.pack.plan  # type: ignore[union-attr]
    assert plan.parcel_key == key and plan.waybill_id is None and plan.recipient_name == "한지민"
    rig.scan(MUG, TUMBLER, MUG)
    assert rig.message is Msg.SCAN_LABEL and rig.listener.sounds[-1] is Sound.LABEL
    rig.scan(MISREAD)
    assert rig.message is Msg.LABEL_INVALID and rig.listener.sounds[-1] is Sound.ERROR
    assert rig.svc.state.message.params["check"] == "tracking_check_digit" and rig.svc.state.pack is not None
    rig.scan("PD-CMD-COMPLETE")
    assert rig.message is Msg.LABEL_REQUIRED and rig.svc.state.pack is not None
    with demo_db.session() as s:
        assert s.scalar(select(m.Parcel.waybill_id).where(m.Parcel.key == key)) is None  # refused before binding
    rig.scan(f"{LABEL[:4]}-{LABEL[4:8]}-{LABEL[8:]}")  # as the label prints it
    assert rig.message is Msg.PACK_COMPLETE and rig.svc.state.message.params["tracking"] == LABEL
    assert rig.listener.sounds[-1] is Sound.COMPLETE and rig.recorder.calls[-1] == ("stop", PackOutcome.COMPLETED)
    with demo_db.session() as s:
        parcel = s.scalars(select(m.Parcel).where(m.Parcel.key == key)).one()
        wb = s.get_one(m.Waybill, parcel.waybill_id)
        assert (wb.courier_code, wb.tracking_number, parcel.waybill_source) == ("CJGLS", LABEL, "station:S1")
        ps = s.scalars(select(m.PackSession)).one()
        assert (ps.outcome, ps.waybill_id, ps.parcel_id) == (PackOutcome.COMPLETED, wb.id, parcel.id)
        lines = s.scalars(select(m.OrderLine).where(m.OrderLine.parcel_id == parcel.id)).all()
        assert {(ln.status, ln.waybill_id, ln.packed_session_id) for ln in lines} == {
            (LineStatus.PACKED, wb.id, ps.id)}
        outbox = s.execute(select(m.DispatchEntry.line_id, m.DispatchEntry.courier_code,
                                  m.DispatchEntry.tracking_number, m.DispatchEntry.state)).all()
        assert sorted(outbox) == sorted((ln.id, "CJGLS", LABEL, OutboxState.PENDING) for ln in lines)
        labels = s.execute(select(m.ScanEvent.code, m.ScanEvent.accepted, m.ScanEvent.reason)
                           .where(m.ScanEvent.kind == ScanKind.LABEL).order_by(m.ScanEvent.id)).all()
        assert [(r.accepted, r.reason) for r in labels] == [(False, "label_invalid"), (True, "")]
        assert all(e == ps.id for e in s.scalars(select(m.ScanEvent.pack_session_id).where(
            m.ScanEvent.kind != ScanKind.PACKER)))
        assert s.scalar(select(func.count()).select_from(m.ParcelClaim)) == 0
    rig.scan(key)  # the slip again: the parcel has its waybill now, and it is packed
    assert rig.message is Msg.WAYBILL_ALREADY_PACKED


@pytest.mark.parametrize("taken_by", ["parcel", "order"])
def test_a_number_already_used_is_refused_before_it_binds(rig: Rig, demo_db: Database, key: str,
                                                          taken_by: str) -> None:
    if taken_by == "parcel":
        other = collect(demo_db, "N-2002", "오세훈", (P_TEA12, 1))
        with demo_db.session() as s:
            oid = parcels.find_by_key(s, other)
            assert oid is not None
            parcels.bind(s, oid, "CJGLS", LABEL, now=NOW, source="import:test.xlsx")
        number, owner = LABEL, other
    else:
        number, owner = Scenario.SIMPLE, "202600000001"  # a demo order's own waybill, scanned as a label
    rig.scan("PD-PACKER-001", key, MUG)
    rig.scan(number)
    assert rig.message is Msg.LABEL_USED and rig.svc.state.message.params["used_by"] == owner
    rig.scan(TUMBLER, MUG)
    assert rig.message is Msg.SCAN_LABEL
    rig.scan(number)
    assert rig.message is Msg.LABEL_USED and rig.listener.sounds[-1] is Sound.ERROR
    assert rig.svc.state.pack is not None and rig.svc.state.pack.plan.parcel_key == key
    rig.scan(LABEL_2)
    assert rig.message is Msg.PACK_COMPLETE
    with demo_db.session() as s:
        assert s.scalar(select(m.Waybill.tracking_number).join(m.Parcel, m.Parcel.waybill_id == m.Waybill.id)
                        .where(m.Parcel.key == key)) == LABEL_2


def test_a_good_label_before_the_items_is_refused_and_unknown_codes_stay_unknown(rig: Rig, key: str) -> None:
    rig.scan("PD-PACKER-001", key, MUG)
    rig.scan(LABEL)
    assert rig.message is Msg.LABEL_TOO_EARLY and rig.svc.state.message.params["remaining"] == 2
    rig.scan("NOT-A-LABEL")
    assert rig.message is Msg.UNKNOWN_BARCODE
    rig.scan(TEA)  # an item of another order: a wrong item, as ever, not a label
    assert rig.message is Msg.WRONG_ITEM


def test_in_command_mode_the_label_scan_completes(demo_db: Database, key: str) -> None:
    rig = Rig(demo_db, mode=CompleteMode.COMMAND)
    try:
        rig.scan("PD-PACKER-001", key, MUG, MUG, TUMBLER)
        assert rig.message is Msg.SCAN_LABEL
        rig.scan(LABEL)
        assert rig.message is Msg.PACK_COMPLETE
    finally:
        rig.worker.close()


def test_a_check_digit_set_to_warn_binds_and_says_so(rig: Rig, demo_db: Database, key: str) -> None:
    rig.svc.check_digit = {"CJGLS": "warn"}
    rig.scan("PD-PACKER-001", key, MUG, MUG, TUMBLER, MISREAD)
    assert rig.message is Msg.PACK_COMPLETE_LABEL_WARNING and rig.listener.sounds[-1] is Sound.WARNING
    with demo_db.session() as s:
        assert s.scalar(select(m.PackSession.outcome)) is PackOutcome.COMPLETED
        assert s.scalar(select(m.Waybill.tracking_number).join(m.Parcel, m.Parcel.waybill_id == m.Waybill.id)
                        ) == MISREAD


def test_a_parcel_with_a_waybill_opens_by_either_barcode_as_that_waybill(rig: Rig, demo_db: Database,
                                                                         key: str) -> None:
    with demo_db.session() as s:
        pid = parcels.find_by_key(s, key)
        assert pid is not None
        parcels.bind(s, pid, "CJGLS", LABEL, now=NOW, source="import:result.xlsx")
    rig.scan("PD-PACKER-001", key)
    assert rig.message is Msg.PACK_STARTED and rig.recorder.calls == [("start", LABEL)]
    rig.scan("PD-CMD-CANCEL", LABEL)  # by its waybill too
    assert rig.message is Msg.PACK_STARTED and rig.svc.state.pack.plan.tracking_number == LABEL  # type: ignore[union-attr]
    rig.scan(MUG, TUMBLER, MUG)  # no label asked for: it has one
    assert rig.message is Msg.PACK_COMPLETE
    with demo_db.session() as s:
        assert s.scalar(select(func.count()).select_from(m.DispatchEntry)
                        .where(m.DispatchEntry.tracking_number == LABEL)) == 2


def test_a_parcel_whose_lines_are_all_cancelled_is_refused_like_a_waybill(rig: Rig, demo_db: Database,
                                                                          key: str) -> None:
    record = OrderRecord("N-1001", "한지민", "한지민", "010-2345-6789", "06236", "서울 강남구 N-1001", "", NOW, NOW,
                         (LineRecord("N-1001-1", P_MUG_WH.code, P_MUG_WH.option_code, P_MUG_WH.name,
                                     P_MUG_WH.option_name, 2, LineStatus.CANCELLED, "CANCELED", "CANCEL_DONE"),
                          LineRecord("N-1001-2", P_TUMBLER.code, "", P_TUMBLER.name, "", 1, LineStatus.CANCELLED,
                                     "CANCELED", "CANCEL_DONE")))
    with demo_db.session() as s:
        store_orders(s, demo_account(demo_db), [record], "test")  # the buyer cancelled: collected again
    rig.scan("PD-PACKER-001", key)
    assert rig.message is Msg.WAYBILL_CANCELLED and rig.svc.state.message.params["tracking"] == key
    with demo_db.session() as s:
        assert s.scalar(select(func.count()).select_from(m.ParcelClaim)) == 0  # refused: nothing held


def test_the_number_taken_between_the_scan_and_the_bind_stores_neither(rig: Rig, demo_db: Database, key: str,
                                                                       expect_warnings) -> None:  # type: ignore[no-untyped-def]
    other = collect(demo_db, "N-2002", "오세훈", (P_TEA12, 1))
    rig.scan("PD-PACKER-001", key, MUG, MUG, TUMBLER)
    rig.svc.scan(LABEL, ScanSource.WEDGE)
    assert rig.worker.wait_idle(5)  # looked up (free), not yet handled: the answer waits for the UI thread
    with demo_db.session() as s:  # meanwhile an import gives the number to another parcel
        oid = parcels.find_by_key(s, other)
        assert oid is not None
        parcels.bind(s, oid, "CJGLS", LABEL, now=NOW, source="import:late.xlsx")
    rig.settle()
    assert [e.code for e in rig.listener.errors] == ["tracking_used"] and rig.listener.sounds[-1] is Sound.ERROR
    with demo_db.session() as s:
        assert s.scalar(select(m.Parcel.waybill_id).where(m.Parcel.key == key)) is None
        assert s.scalar(select(func.count()).select_from(m.OrderLine)
                        .where(m.OrderLine.status == LineStatus.PACKED)) == 0
        assert s.scalar(select(m.PackSession.outcome)) is PackOutcome.OPEN  # closed as abandoned at next start


@pytest.mark.parametrize("started_late", [False, True])
def test_the_recording_is_indexed_under_the_bound_number_and_the_chain_verifies(
        rig: Rig, demo_db: Database, key: str, tmp_path: Path, started_late: bool) -> None:
    video = tmp_path / "v" / f"{key}_x.ts"
    video.parent.mkdir()
    video.write_bytes(b"\x47" * 188 * 50)
    sha, size = file_digest(video)
    rig.scan("PD-PACKER-001", key)
    pack_key = rig.svc.state.pack.key  # type: ignore[union-attr]
    started = RecordingStarted(pack_key, video, NOW)
    if not started_late:
        rig.svc.on_recorder_event(started)
        rig.settle()
        with demo_db.session() as s:
            assert s.scalar(select(m.Recording.tracking_number)) == key  # under the parcel key until it binds
    rig.scan(MUG, MUG, TUMBLER, LABEL)
    if started_late:  # the recorder's "started" reached the station after the label bound
        rig.svc.on_recorder_event(started)
    rig.svc.on_recorder_event(RecordingFinished(pack_key, video, NOW, NOW + timedelta(seconds=20), 600, 0, size,
                                                PackOutcome.COMPLETED, sha))
    rig.settle()
    with demo_db.session() as s:
        rec = s.scalars(select(m.Recording)).one()
        assert (rec.tracking_number, rec.pack_key) == (LABEL, pack_key) and "N-1001" in rec.order_nos
        assert s.scalars(select(m.ChainEntry.kind).order_by(m.ChainEntry.seq)).all() == ["pack", "recording"]
    assert verify(demo_db, tmp_path / "v", station="S1").ok


def test_two_stations_one_parcel_and_every_claim_is_let_go(demo_db: Database, key: str, expect_warnings) -> None:  # type: ignore[no-untyped-def]
    clock = Clock()
    a, b = Rig(demo_db, station="STATION-1", clock=clock), Rig(demo_db, station="STATION-3", clock=clock)
    try:
        a.scan("PD-PACKER-001", key)
        b.scan("PD-PACKER-002", key)
        assert b.message is Msg.WAYBILL_CLAIMED and b.svc.state.message.params["station"] == "STATION-1"
        a.scan(key)  # the open parcel's slip again at its own station: said, and the claim kept as it was
        assert a.message is Msg.WAYBILL_SAME
        b.scan(key)
        assert b.message is Msg.WAYBILL_CLAIMED
        with demo_db.session() as s:
            holder = claims.release_by_supervisor(s, key.lower())  # the supervisor types the slip's key
        assert holder is not None and holder.station == "STATION-1"
        b.scan(key)
        assert b.message is Msg.PACK_STARTED
        b.scan("PD-CMD-CANCEL")
        a.scan("PD-CMD-CANCEL")
        with demo_db.session() as s:
            assert s.scalar(select(func.count()).select_from(m.ParcelClaim)) == 0
        a.scan(key)
        a.worker.close()  # STATION-1 dies holding the parcel; at its next start it holds nothing
        a2 = Rig(demo_db, station="STATION-1", clock=clock)
        a2.worker.close()
        with demo_db.session() as s:
            assert s.scalar(select(func.count()).select_from(m.ParcelClaim)) == 0
    finally:
        a.worker.close()
        b.worker.close()


def test_a_slip_is_found_claimed_and_read_in_three_statements(demo_db: Database, key: str) -> None:
    """As a waybill scan (tests/services/test_claims.py): each statement is a round trip to a shared server."""
    from sqlalchemy import event

    from packdesk.core.models import utcnow
    from packdesk.services.station import resolve

    statements: list[str] = []

    def seen(conn, cursor, statement, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
        statements.append(statement.split()[0])

    def take(s, target_id: int, kind: claims.Claimable = claims.WAYBILL) -> claims.ClaimHolder | None:  # type: ignore[no-untyped-def]
        return claims.claim(s, target_id, station="S1", packer_name="김포장", pack_key="k1", now=utcnow(), kind=kind)

    event.listen(demo_db.engine, "before_cursor_execute", seen)
    try:
        with demo_db.session() as s:
            r = resolve(s, key.lower(), take)
    finally:
        event.remove(demo_db.engine, "before_cursor_execute", seen)
    assert statements == ["SELECT", "INSERT", "SELECT"]
    assert r.claimed_by is None and r.plan is not None and r.plan.parcel_key == key and len(r.plan.lines) == 2


@pytest.mark.parametrize("again", ["slip", "label"])
def test_the_parcel_just_completed_scanned_again_at_once_is_packed_already(
        rig: Rig, demo_db: Database, key: str, again: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A lookup may go ahead of the writes queued on the DB thread (``DbWorker.submit(first=True)``), but not
    ahead of the pack it is of: the slip of the parcel whose end is still queued waits for it, and so does the
    label that end binds (no waybill until then: ahead of it, it would read as an unknown code)."""
    rig.scan("PD-PACKER-001", key, MUG, TUMBLER, MUG)
    assert rig.message is Msg.SCAN_LABEL
    ran = watch_db_jobs(monkeypatch)
    held = HeldWorker(rig)
    rig.svc.scan(LABEL, ScanSource.WEDGE)  # bound and completed by the end queued behind the held job
    rig.svc.scan(key if again == "slip" else LABEL, ScanSource.WEDGE)
    held.release()
    first = [f"look up {key}, waits"] if again == "slip" else []  # the label goes in order from the start
    assert ran == [f"look up {LABEL}", *first, "end", f"look up {key if again == 'slip' else LABEL}"]
    assert rig.message is Msg.WAYBILL_ALREADY_PACKED and rig.svc.state.pack is None
    with demo_db.session() as s:
        assert s.scalar(select(func.count()).select_from(m.PackSession)) == 1
        assert s.scalar(select(func.count()).select_from(m.ParcelClaim)) == 0
