"""Station processes against one PostgreSQL server (the PostgreSQL pass of scripts/test.sh runs these):
two stations scanning the same waybill at the same moment — exactly one wins; a station killed mid-pack —
another finishes the waybill once its claim lapses."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from packdesk.channels.demo import Scenario
from packdesk.core import models as m
from packdesk.core.db import Database
from packdesk.core.enums import PackOutcome
from packdesk.services.demo_setup import ensure_demo
from tests.conftest import TEST_DATABASE_URL, fresh_database_url

pytestmark = pytest.mark.skipif(not TEST_DATABASE_URL, reason="needs PostgreSQL (scripts/test.sh runs it)")
ROOT = Path(__file__).resolve().parents[2]


def station(url: str, name: str, waybills: list[str], *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "tests.services.station_proc", url, name, "--waybills",
                             ",".join(waybills), *extra], stdout=subprocess.PIPE, text=True, cwd=ROOT,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})


def result(p: subprocess.Popen[str]) -> dict:  # type: ignore[type-arg]
    out, _ = p.communicate(timeout=120)
    assert p.returncode == 0, out
    return json.loads(out.strip().splitlines()[-1])


@pytest.fixture
def shared(dirs) -> str:  # type: ignore[no-untyped-def]
    url = fresh_database_url(dirs)
    db = Database.open(url)
    ensure_demo(db, datetime.now(UTC))
    db.close()
    return url


def test_two_stations_scan_one_waybill_at_the_same_moment(shared: str) -> None:
    for attempt in range(3):  # a few waybills, each raced by two processes at the same instant
        wb = [Scenario.SIMPLE, Scenario.TEA_SET, Scenario.GIFT_SET][attempt]
        start = time.time() + 3.0
        a = station(shared, "STATION-1", [wb], "--start-at", str(start))
        b = station(shared, "STATION-2", [wb], "--start-at", str(start), "--badge", "PD-PACKER-002")
        outcomes = sorted([result(a)["outcomes"][wb], result(b)["outcomes"][wb]])
        assert outcomes == ["pack_started", "waybill_claimed"], outcomes


def test_both_pack_everything_they_can_and_nothing_twice(shared: str) -> None:
    db = Database.open(shared)
    with db.session() as s:
        pool = sorted(s.scalars(select(m.Waybill.tracking_number)))
    db.close()
    start = time.time() + 3.0
    a = station(shared, "STATION-1", pool, "--start-at", str(start), "--pack")
    b = station(shared, "STATION-2", list(reversed(pool)), "--start-at", str(start), "--pack",
                "--badge", "PD-PACKER-002")
    ra, rb = result(a), result(b)
    assert ra["errors"] == [] and rb["errors"] == []
    db = Database.open(shared)
    with db.session() as s:
        completed = s.execute(select(m.PackSession.waybill_id, func.count()).where(
            m.PackSession.outcome == PackOutcome.COMPLETED).group_by(m.PackSession.waybill_id)).all()
        dispatches = s.execute(select(m.DispatchEntry.line_id, func.count()).group_by(m.DispatchEntry.line_id)).all()
    db.close()
    assert all(n == 1 for _, n in completed) and len(completed) == ra["packed"] + rb["packed"] >= 20
    assert all(n == 1 for _, n in dispatches)


def test_a_killed_stations_waybill_is_finished_by_another(shared: str) -> None:
    a = station(shared, "STATION-1", [Scenario.TEA_SET])
    result(a)  # STATION-1 started the pack and exited without finishing (as if killed)
    db = Database.open(shared)
    with db.session() as s:  # ...and its claim has lapsed (10 minutes later)
        s.execute(update(m.WaybillClaim).values(renewed_at=datetime(2000, 1, 1, tzinfo=UTC)))
    db.close()
    b = station(shared, "STATION-2", [Scenario.TEA_SET], "--pack", "--badge", "PD-PACKER-002")
    rb = result(b)
    assert rb["outcomes"][Scenario.TEA_SET] == "pack_started" and rb["packed"] == 1
