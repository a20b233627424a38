"""Several stations on one database: a waybill is packed by one station at a time, never twice.
Runs on SQLite and (scripts/test.sh) on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import event, select

from packdesk.channels.demo import BARCODE, Scenario
from packdesk.core import claims
from packdesk.core import models as m
from packdesk.core.db import Database
from packdesk.core.enums import PackOutcome
from packdesk.core.models import utcnow
from packdesk.core.station import Msg
from packdesk.services.station import resolve
from tests.services.test_station_service import Clock, Rig


@pytest.fixture
def two(demo_db: Database) -> Iterator[tuple[Rig, Rig, Clock]]:
    clock = Clock()
    a, b = Rig(demo_db, station="STATION-1", clock=clock), Rig(demo_db, station="STATION-3", clock=clock)
    a.scan("PD-PACKER-001")
    b.scan("PD-PACKER-002")
    yield a, b, clock
    a.worker.close()
    b.worker.close()


def test_second_station_is_told_who_packs_it(two: tuple[Rig, Rig, Clock]) -> None:
    a, b, _ = two
    a.scan(Scenario.SIMPLE)
    assert a.message is Msg.PACK_STARTED
    b.scan(Scenario.SIMPLE)
    assert b.message is Msg.WAYBILL_CLAIMED and b.svc.state.pack is None
    params = b.svc.state.message.params
    assert (params["station"], params["packer"]) == ("STATION-1", "김민수")
    for code in (BARCODE["MUG-WH-01"], BARCODE["MUG-WH-01"], BARCODE["TMB-500"]):
        a.scan(code)
    assert a.message is Msg.PACK_COMPLETE
    b.scan(Scenario.SIMPLE)
    assert b.message is Msg.WAYBILL_ALREADY_PACKED  # a finished pack is never packed twice


def test_a_crashed_stations_claim_expires(two: tuple[Rig, Rig, Clock], demo_db: Database, expect_warnings) -> None:  # type: ignore[no-untyped-def]
    a, b, clock = two
    a.scan(Scenario.TEA_SET)
    a.worker.close()  # STATION-1 dies mid-pack (no release)
    b.scan(Scenario.TEA_SET)
    assert b.message is Msg.WAYBILL_CLAIMED
    clock.now += timedelta(minutes=11)  # past the 10-minute expiry
    b.scan(Scenario.TEA_SET)
    assert b.message is Msg.PACK_STARTED
    for _ in range(12):
        b.scan(BARCODE["TEA-GR"])
    assert b.message is Msg.PACK_COMPLETE
    with demo_db.session() as s:
        outcomes = s.execute(select(m.PackSession.station, m.PackSession.outcome)).all()
    assert ("STATION-3", PackOutcome.COMPLETED) in outcomes


def test_scanning_keeps_a_long_pack_claimed(two: tuple[Rig, Rig, Clock]) -> None:
    a, b, clock = two
    a.scan(Scenario.TEA_SET)
    for _ in range(3):  # 27 minutes of slow packing, a scan every 9 minutes
        clock.now += timedelta(minutes=9)
        a.scan(BARCODE["TEA-GR"])
    b.scan(Scenario.TEA_SET)
    assert b.message is Msg.WAYBILL_CLAIMED


def test_supervisor_release_and_refused_waybills_hold_nothing(two: tuple[Rig, Rig, Clock], demo_db: Database) -> None:
    a, b, _ = two
    a.scan(Scenario.GIFT_SET)
    with demo_db.session() as s:
        holder = claims.release_by_supervisor(s, Scenario.GIFT_SET)
    assert holder is not None and holder.station == "STATION-1"
    b.scan(Scenario.GIFT_SET)
    assert b.message is Msg.PACK_STARTED
    a.scan("PD-CMD-CANCEL")
    a.scan(Scenario.CANCELLED)  # refused (cancelled order): must not leave a claim behind
    with demo_db.session() as s:
        stations = s.scalars(select(m.WaybillClaim.station)).all()
    assert stations == ["STATION-3"]


def test_a_waybill_is_found_claimed_and_read_in_three_statements(demo_db: Database) -> None:
    """Each statement is a round trip to a shared server (bench/stations.py): the waybill, the claim, then its
    lines with their links, items and barcodes in one read. (Through psycopg 3 the claim once took a second
    statement on every scan: the insert's rowcount read -1, so it went on to its "already claimed" path.)"""
    statements: list[str] = []

    def seen(conn, cursor, statement, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
        statements.append(statement.split()[0])

    def take(s, waybill_id: int) -> claims.ClaimHolder | None:  # type: ignore[no-untyped-def]
        return claims.claim(s, waybill_id, station="STATION-1", packer_name="김포장", pack_key="k1", now=utcnow())

    event.listen(demo_db.engine, "before_cursor_execute", seen)
    try:
        with demo_db.session() as s:
            r = resolve(s, Scenario.GIFT_SET, take)
    finally:
        event.remove(demo_db.engine, "before_cursor_execute", seen)
    assert statements == ["SELECT", "INSERT", "SELECT"]
    assert r.claimed_by is None and r.plan is not None and r.plan.lines
    assert all(ln.components for ln in r.plan.lines) and all(it.barcodes for it in r.plan.items.values())
    assert max(len(ln.components) for ln in r.plan.lines) >= 3  # the gift set: mug, coasters, box


def test_the_open_waybill_scanned_again_keeps_its_claim(two: tuple[Rig, Rig, Clock]) -> None:
    """Scanned again at its own station, the open pack's waybill is not claimed anew (that put the lookup's key
    on the claim, and the release of a pack that did not start then dropped the open pack's claim)."""
    a, b, _ = two
    a.scan(Scenario.SIMPLE, Scenario.SIMPLE)
    assert a.message is Msg.WAYBILL_SAME
    b.scan(Scenario.SIMPLE)
    assert b.message is Msg.WAYBILL_CLAIMED
