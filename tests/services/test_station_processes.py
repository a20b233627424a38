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
from tests.waiting import wait_until

pytestmark = pytest.mark.skipif(not TEST_DATABASE_URL, reason="needs PostgreSQL (scripts/test.sh runs it)")
ROOT = Path(__file__).resolve().parents[2]


def station(url: str, name: str, waybills: list[str], *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "tests.services.station_proc", url, name, "--waybills",
                             ",".join(waybills), *extra], stdout=subprocess.PIPE, text=True, cwd=ROOT,
                            env={**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'src'}"})


def result(p: subprocess.Popen[str]) -> dict:  # type: ignore[type-arg]
    out, _ = p.communicate(timeout=120)
    assert p.returncode == 0, out
    return json.loads(out.strip().splitlines()[-1])


@pytest.fixture
def shared(dirs) -> str:  # type: ignore[no-untyped-def]
    url = fresh_database_url(dirs)
    db = Database.open(url, create=True)
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


PG_DIR = os.environ.get("PACKDESK_TEST_PG_DIR", "")  # the test server's folder (scripts/test.sh sets it)


def pg_ctl(*args: str) -> None:
    """The test server's own pg_ctl, as its owner (restart reuses the options it was started with)."""
    pgbin = max(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name))
    runas = ["runuser", "-u", "postgres", "--"] if os.getuid() == 0 else []
    subprocess.run([*runas, str(pgbin / "pg_ctl"), "-D", f"{PG_DIR}/data", *args], check=True,
                   capture_output=True, timeout=120)


@pytest.mark.skipif(not PG_DIR, reason="needs the test server's folder to stop and start it (scripts/test.sh)")
def test_the_server_stopped_and_restarted_under_load_loses_and_doubles_nothing(dirs) -> None:  # type: ignore[no-untyped-def]
    """Two stations packing from one pool; the server is stopped (fast: open transactions are cut) for
    three seconds and started again. Each station scans a pack that was not stored again, as a packer told
    "not saved" does. In the end every parcel is packed exactly once, each line has exactly one dispatch,
    and every pack a station saw stored is in the database."""
    sys.path.insert(0, str(ROOT / "bench"))
    from stations import seed  # the benchmark's pool: 50 items, a parcel per order, one line of 1-2 units

    url = fresh_database_url(dirs)
    pool = seed(url, 300)
    listing = dirs.data / "pool.txt"
    listing.write_text("\n".join(pool))
    reverse = dirs.data / "pool-reversed.txt"
    reverse.write_text("\n".join(reversed(pool)))
    start = time.time() + 3.0
    a = station(url, "STATION-1", [f"@{listing}"], "--start-at", str(start), "--pack", "--pace-ms", "15",
                "--retry-s", "60")
    b = station(url, "STATION-2", [f"@{reverse}"], "--start-at", str(start), "--pack", "--pace-ms", "15",
                "--retry-s", "60", "--badge", "PD-PACKER-002")

    db = Database.open(url)

    def completed() -> int:
        with db.session() as s:
            return s.scalar(select(func.count()).select_from(m.PackSession)
                            .where(m.PackSession.outcome == PackOutcome.COMPLETED)) or 0

    wait_until(lambda: completed() >= 40, timeout=60, what="40 packs before the server is stopped", interval=0.1)
    before = completed()
    db.close()  # its pooled connections would die with the server
    pg_ctl("stop", "-m", "fast", "-w")
    time.sleep(3)
    pg_ctl("restart", "-w", "-l", f"{PG_DIR}/log")
    ra, rb = result(a), result(b)

    db = Database.open(url)
    with db.session() as s:
        packed = s.execute(select(m.Waybill.tracking_number, func.count()).join(
            m.PackSession, m.PackSession.waybill_id == m.Waybill.id).where(
            m.PackSession.outcome == PackOutcome.COMPLETED).group_by(m.Waybill.tracking_number)).all()
        dispatches = s.execute(select(m.DispatchEntry.line_id, func.count()).group_by(m.DispatchEntry.line_id)).all()
        lines_packed = s.scalar(select(func.count()).select_from(m.OrderLine)
                                .where(m.OrderLine.packed_at.is_not(None))) or 0
    db.close()
    print(f"\nstopped after {before} packs; retries {ra['retries']} + {rb['retries']}, errors "
          f"{sorted(set(ra['errors'] + rb['errors']))}, packed {ra['packed']} + {rb['packed']}")
    assert 40 <= before < len(pool), "the server was stopped while the stations were packing"
    assert ra["retries"] + rb["retries"] > 0 and ra["errors"] + rb["errors"]  # the outage was felt, and said
    assert all(n == 1 for _, n in packed) and len(packed) == len(pool)  # every parcel, once
    assert all(n == 1 for _, n in dispatches) and len(dispatches) == lines_packed == len(pool)
    assert set(ra["stored"]) | set(rb["stored"]) <= {wb for wb, _ in packed}  # nothing seen stored was lost
