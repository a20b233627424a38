"""A station's work does not grow with the warehouse's history: the statements of a pack read the rows of that
pack, not the table.

Timing a scan on a big database is a benchmark's job (bench/scan_latency.py); here SQLite counts its own work,
the virtual-machine instructions it runs (``set_progress_handler``), which is the same on every run for the same
data, however busy the machine. The same station work is counted on the demo shop alone and on the demo shop
with 10,000 orders of history beside it: a statement that walks the table (a plan that took
``parcel_id IS NULL`` for a selective search: 110 ms a waybill scan on a million lines) does ten times the work
on the bigger one.

That count is SQLite's, whatever engine the run tests: it is the embedded default, and the engine whose planner
has no statistics at a station (nothing runs ANALYZE there). On PostgreSQL (the run's second engine), whose
autovacuum keeps statistics, the planner is asked instead: every statement of the same work, with its own
parameters, on the same history, is planned without a sequential scan of a table that history fills (the same
waybill lookup read the whole ``order_lines`` table there: the ``IN`` subquery inside an ``OR`` cannot be joined,
32 ms on 400,000 lines)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, insert, select, text

from packdesk.channels.demo import BARCODE, P_MUG_WH, P_TUMBLER, Scenario
from packdesk.core import models as m
from packdesk.core.db import Database, sqlite_url
from packdesk.core.enums import LineStatus, PackOutcome
from packdesk.core.station import Msg
from packdesk.services import returns
from packdesk.services.demo_setup import ensure_demo
from packdesk.services.station import DayCounts
from tests.conftest import TEST_DATABASE_URL
from tests.services.test_station_labels import LABEL, collect
from tests.services.test_station_service import Rig

NOW = datetime(2026, 11, 24, 1, 0, tzinfo=UTC)
# the tables a season of history fills: a station's statement must reach their rows by an index
HISTORY_TABLES = {"waybills", "orders", "order_lines", "pack_sessions"}
STEP = 10  # the progress handler is called every STEP instructions (of one step of a statement)


class Counted:
    """The SQLite VM instructions run on a database's connections (on any thread) while ``on`` is set."""

    def __init__(self, db: Database) -> None:
        self.steps = 0
        self.on = False
        self._lock = threading.Lock()  # the DB thread and the reader thread both count
        event.listen(db.engine, "before_cursor_execute", self._before)

    def _before(self, conn: Any, *_: Any) -> None:
        conn.connection.driver_connection.set_progress_handler(self._tick, STEP)  # whichever connection runs it

    def _tick(self) -> int:
        if self.on:
            with self._lock:
                self.steps += STEP
        return 0  # go on


def history(db: Database, orders: int) -> None:
    """``orders`` past orders of the demo shop's products, two lines each on a waybill of their own, packed at this
    station and dispatched days ago: what a warehouse's database holds after a season. Written in bulk: their
    rows are the setting here, not the flow under test."""
    with db.session() as s:
        account = s.scalar(select(m.ChannelAccount.id))
        products = s.execute(select(m.ProductMapping.product_code, m.ProductMapping.option_code)).all()
        base = (s.scalar(select(m.Order.id).order_by(m.Order.id.desc())) or 0) + 1
        wb_base = (s.scalar(select(m.Waybill.id).order_by(m.Waybill.id.desc())) or 0) + 1
        line_base = (s.scalar(select(m.OrderLine.id).order_by(m.OrderLine.id.desc())) or 0) + 1
    if not orders:
        return
    with db.engine.begin() as c:
        c.execute(insert(m.Waybill), [{"id": wb_base + i, "courier_code": "CJGLS",
                                       "tracking_number": f"5{i:011d}", "created_at": NOW} for i in range(orders)])
        c.execute(insert(m.Order), [{"id": base + i, "account_id": account, "order_no": f"H{i}",
                                     "recipient_name": "수령인", "created_at": NOW, "updated_at": NOW}
                                    for i in range(orders)])
        c.execute(insert(m.OrderLine), [
            {"id": line_base + 2 * i + k, "order_id": base + i, "account_id": account,
             "product_order_id": f"H{i}-{k}", "product_code": products[(i + k) % len(products)][0],
             "option_code": products[(i + k) % len(products)][1], "quantity": 1, "status": LineStatus.DISPATCHED,
             "waybill_id": wb_base + i, "created_at": NOW, "updated_at": NOW}
            for i in range(orders) for k in (0, 1)])
        if c.dialect.name == "postgresql":  # ids given above: the sequences go on after them
            for table in ("waybills", "orders", "order_lines"):
                c.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                               f"(SELECT max(id) FROM {table}))"))
        c.execute(insert(m.PackSession), [  # packed at this station, days ago
            {"key": f"history-{i}", "waybill_id": wb_base + i, "station": "S1", "packer_name": "김민수",
             "started_at": NOW - timedelta(days=1 + i % 90, minutes=1), "ended_at": NOW - timedelta(days=1 + i % 90),
             "outcome": PackOutcome.COMPLETED} for i in range(orders)])


def reverse_indexes(db: Database) -> None:
    """Make each history table's indexes again in the reverse order. Where two indexes look as good to SQLite's
    planner (no statistics), it takes the one its schema lists first, and that order is not the same in every
    database: the migrations that copy a table make its indexes again in an order that changes from one run of
    Python to the next. Counted in both orders, a statement that leans on the tie fails in one."""
    with db.engine.begin() as c:
        for table in sorted(HISTORY_TABLES):
            made = c.exec_driver_sql("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? "
                                     "AND sql IS NOT NULL ORDER BY rowid", (table,)).all()
            for name, _ in made:
                c.exec_driver_sql(f'DROP INDEX "{name}"')
            for _, sql in reversed(made):
                c.exec_driver_sql(sql)


@pytest.fixture(params=["indexes as made", "indexes reversed"])
def databases(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[dict[int, Database]]:
    dbs: dict[int, Database] = {}
    for orders in (0, 10_000):
        db = Database.open(sqlite_url(tmp_path / f"history{orders}.sqlite3"), create=True)
        ensure_demo(db, NOW)
        history(db, orders)
        if request.param == "indexes reversed":
            reverse_indexes(db)
        dbs[orders] = db
    yield dbs
    for db in dbs.values():
        db.close()


def pack_and_open(db: Database) -> None:
    """A station's work: a packer signs in, packs a waybill (its lines looked up and claimed, the scans logged,
    the pack stored, today's counts read after it), opens the 합포장 one (two orders and a line with no waybill in
    one box) and cancels it."""
    rig = Rig(db)
    counts: list[DayCounts] = []
    rig.svc.on_counts = counts.append
    try:
        rig.scan("PD-PACKER-001", Scenario.SIMPLE, BARCODE["MUG-WH-01"], BARCODE["TMB-500"], BARCODE["MUG-WH-01"])
        assert rig.message is Msg.PACK_COMPLETE and counts, rig.message
        rig.scan(Scenario.COMBINED)
        assert rig.message is Msg.PACK_STARTED and len(rig.svc.state.pack.plan.active_lines) >= 3  # type: ignore[union-attr]
        rig.scan("PD-CMD-CANCEL")
    finally:
        rig.worker.close()


def return_lookups(db: Database) -> None:
    """A returns station's look-ups, each in its own transaction as its DB thread runs them
    (``services/returns.py``): a returned parcel's original waybill, its order number, a courier's return label
    PackDesk has never seen (the commonest scan there: the station then asks for the original), and an item that
    came out of the box."""
    with db.session() as s:
        order_no = s.scalar(select(m.Order.order_no).join(m.OrderLine, m.OrderLine.order_id == m.Order.id)
                            .join(m.Waybill, m.Waybill.id == m.OrderLine.waybill_id)
                            .where(m.Waybill.tracking_number == Scenario.SIMPLE).limit(1))
    assert order_no
    for code, item_first, found in ((Scenario.SIMPLE, False, "original"), (order_no, False, "original"),
                                    ("491234567890", False, None), (BARCODE["MUG-WH-01"], True, "item")):
        with db.session() as s:
            looked = returns.look_up(s, code, item_first=item_first)
        assert (looked.original is not None, looked.item is not None) == (found == "original", found == "item"), \
            (code, looked)


def slip_and_label(db: Database) -> None:
    """An order collected without a tracking number (stored as a collection stores it: it waits in a parcel),
    packed from its packing slip, and the courier label stuck on it scanned and bound (its number checked, not
    used by another parcel or order)."""
    key = collect(db, "N-9001", "한지민", (P_MUG_WH, 1), (P_TUMBLER, 1))
    rig = Rig(db)
    try:
        rig.scan("PD-PACKER-001", key, BARCODE["MUG-WH-01"], BARCODE["TMB-500"])
        assert rig.message is Msg.SCAN_LABEL, rig.message
        rig.scan(LABEL)
        assert rig.message is Msg.PACK_COMPLETE, rig.message
    finally:
        rig.worker.close()


WORK = {"a pack": pack_and_open, "returns": return_lookups, "a slip and its label": slip_and_label}


def station_work(db: Database, work: Callable[[Database], None]) -> int:
    """The VM instructions of ``work``."""
    counted = Counted(db)
    counted.on = True
    work(db)
    counted.on = False
    return counted.steps


@pytest.mark.parametrize("work", WORK)
def test_a_stations_work_reads_the_same_rows_with_a_seasons_history_beside_it(
        databases: dict[int, Database], work: str) -> None:
    small, big = station_work(databases[0], WORK[work]), station_work(databases[10_000], WORK[work])
    # the same rows read, give or take the deeper indexes of the bigger tables; a walk of 20,000 lines would be
    # hundreds of thousands of instructions more
    assert big <= small * 1.25 + 2_000, f"{small:,} instructions on the demo shop, {big:,} with 10,000 orders more"


def seq_scans(plan: dict[str, Any]) -> list[str]:
    """The tables of ``HISTORY_TABLES`` a PostgreSQL plan (EXPLAIN's JSON) reads by sequential scan."""
    found = [plan["Relation Name"]] if plan.get("Node Type") == "Seq Scan" and \
        plan.get("Relation Name") in HISTORY_TABLES else []
    for child in plan.get("Plans", []):
        found += seq_scans(child)
    return found


@pytest.mark.skipif(not TEST_DATABASE_URL, reason="needs PostgreSQL (scripts/test.sh runs it)")
@pytest.mark.parametrize("work", WORK)
def test_on_postgresql_no_statement_of_a_stations_work_scans_the_history(db: Database, work: str) -> None:
    ensure_demo(db, NOW)
    history(db, 10_000)
    with db.engine.begin() as c:
        c.execute(text("ANALYZE"))  # what autovacuum does on a live server
    ran: list[tuple[str, Any]] = []

    def note(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        if not executemany and statement.lstrip().split()[0].upper() in {"SELECT", "UPDATE", "DELETE", "WITH"}:
            ran.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", note)
    WORK[work](db)
    event.remove(db.engine, "before_cursor_execute", note)
    assert len(ran) >= 5
    scanned = []
    with db.engine.connect() as c:
        for statement, parameters in ran:
            (plan,) = c.exec_driver_sql("EXPLAIN (FORMAT JSON) " + statement, parameters).scalar_one()
            if tables := seq_scans(plan["Plan"]):
                scanned.append(f"{tables}: {' '.join(statement.split())[:300]}")
    assert not scanned, "\n".join(scanned)
