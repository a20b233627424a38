"""Issue #17 for collection, on SQLite and (with PACKDESK_TEST_DATABASE_URL) PostgreSQL, against the fake
SmartStore over real HTTP:
- one bad order never blocks the others: NUL and control characters are cleaned, long free text is kept whole,
  an order whose identifier cannot be stored (or that the database refuses) is set aside, counted and named;
- no buyer's name, phone, address or delivery message reaches the log file, whatever fails;
- every run ends: a run killed mid-way is found abandoned at the next start with what it had stored, an
  unexpected error fails it with its counts, and a reply nested too deep is a bad reply, not a run left running.
"""

from __future__ import annotations

import json
import logging
import logging.handlers
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from packdesk.channels.base import LineRecord, OrderRecord
from packdesk.core import models as m
from packdesk.core.db import Database
from packdesk.core.enums import ChannelKind, LineStatus, RunStatus
from packdesk.paths import AppDirs
from packdesk.services import collect
from packdesk.services.collect import Collector, store_orders
from packdesk.services.schedule import Jobs
from packdesk.services.secrets import set_secret
from tests.children import kill_9
from tests.fakes.naver import FakeNaver
from tests.waiting import wait_until

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def naver() -> Iterator[FakeNaver]:
    with FakeNaver(rate_limit=None) as fake:
        yield fake


def add_account(db: Database, fake: FakeNaver) -> int:
    with db.session() as s:
        acc = m.ChannelAccount(kind=ChannelKind.NAVER, name="내 스토어", external_id=fake.client_id,
                               options=json.dumps({"base_url": fake.base_url}))
        s.add(acc)
        s.flush()
        account_id = acc.id
    set_secret(account_id, fake.client_secret)
    return account_id


def later() -> datetime:
    return datetime.now(UTC) + timedelta(seconds=1)


def collect_now(db: Database, account_id: int, **kwargs: Any) -> m.CollectionRun:
    now = datetime.now(UTC)
    return Collector(db, **kwargs).run_manual(account_id, now - timedelta(days=1), now + timedelta(minutes=1), "관리자")


def runs(db: Database) -> list[m.CollectionRun]:
    with db.session() as s:
        return list(s.scalars(select(m.CollectionRun).order_by(m.CollectionRun.id)))


def count(db: Database, model: type[m.Base]) -> int:
    with db.session() as s:
        return s.scalar(select(func.count()).select_from(model)) or 0


# ---------------------------------------------------------------- one bad order never blocks the others

def test_hostile_fields_are_cleaned_or_kept_whole_and_bad_identifiers_set_aside(db: Database, naver: FakeNaver,
                                                                                expect_warnings: Any) -> None:
    acc = add_account(db, naver)
    for _ in range(13):
        naver.add_order(1)
    naver.add_order([{"productName": "머그\x00컵"}], order_id="ORD-NUL", shippingMemo="문 앞\r\n경비실\x07 호출",
                    shippingAddress={"name": "홍\x00길동"})
    naver.add_order([{"productName": "가" * 400, "productOption": "옵션 " * 200}], order_id="ORD-LONG-NAME")
    naver.add_order(1, order_id="ORD-LONG-RECIPIENT", shippingAddress={"name": "김" * 150})
    naver.add_order(1, order_id="ORD-LONG-ADDRESS", shippingAddress={"baseAddress": "서울 " * 600},
                    shippingMemo="부재 시 " * 300)
    naver.add_order([{"productOrderId": "9" * 70}], order_id="ORD-LONG-ID")
    naver.add_order(1, order_id="ORD\x00NUL-ID")
    naver.add_order([{"quantity": 3_000_000_000}], order_id="ORD-HUGE-QTY")

    first = collect_now(db, acc)
    assert (first.status, first.orders, first.lines, first.set_aside) == (RunStatus.SUCCEEDED, 17, 17, 3)
    assert first.error_code == "orders_set_aside"
    detail = first.error_detail.splitlines()
    assert sorted(detail) == ["ORD-HUGE-QTY: quantity out_of_range (3000000000)",
                              "ORD-LONG-ID: product_order_id too_long (70 > 64)",
                              "ORDNUL-ID: order_no bad_characters"]
    with db.session() as s:
        orders = {o.order_no: o for o in s.scalars(select(m.Order))}
        names = {ln.product_order_id: ln.product_name for ln in s.scalars(select(m.OrderLine))}
        products = set(s.scalars(select(m.SalesProduct.product_name)))
    assert len(orders) == 17 and not {"ORD-LONG-ID", "ORD\x00NUL-ID", "ORDNUL-ID", "ORD-HUGE-QTY"} & set(orders)
    nul = orders["ORD-NUL"]
    assert (nul.recipient_name, nul.delivery_message) == ("홍길동", "문 앞\n경비실 호출")
    assert "머그컵" in names.values() and "가" * 400 in names.values() and "가" * 400 in products
    assert orders["ORD-LONG-RECIPIENT"].recipient_name == "김" * 150
    assert len(orders["ORD-LONG-ADDRESS"].address) > 1700 and orders["ORD-LONG-ADDRESS"].address.startswith("서울 서울")
    assert orders["ORD-LONG-ADDRESS"].delivery_message == ("부재 시 " * 300)

    again = collect_now(db, acc)  # the next run (a scheduled retry) gives the same result: never blocked
    assert (again.status, again.orders, again.registered, again.set_aside) == (RunStatus.SUCCEEDED, 17, 0, 3)
    assert count(db, m.Order) == 17


def test_an_order_the_database_refuses_is_set_aside_and_the_others_stored(db: Database, naver: FakeNaver,
                                                                          expect_warnings: Any) -> None:
    acc = add_account(db, naver)
    for i in range(6):
        naver.add_order(1, order_id=f"ORD-{i}", shippingAddress={"name": "거부될 이름" if i == 4 else f"손님{i}"})
    db_refuses(db, "거부될 이름")
    run = collect_now(db, acc)
    assert (run.status, run.orders, run.set_aside, run.error_code) == (RunStatus.SUCCEEDED, 5, 1, "orders_set_aside")
    assert run.error_detail.startswith("ORD-4: db_refused (IntegrityError: ")
    with db.session() as s:
        assert sorted(s.scalars(select(m.Order.order_no))) == ["ORD-0", "ORD-1", "ORD-2", "ORD-3", "ORD-5"]


def db_refuses(db: Database, recipient: str) -> None:
    """The database itself refuses an order to ``recipient``: a constraint (PostgreSQL's error then lists the
    whole refused row in its DETAIL)."""
    with db.engine.begin() as conn:
        if db.engine.dialect.name == "sqlite":
            conn.exec_driver_sql(f"CREATE TRIGGER test_refuse BEFORE INSERT ON orders WHEN NEW.recipient_name = "
                                 f"'{recipient}' BEGIN SELECT RAISE(ABORT, 'refused by the test'); END")
        else:
            conn.exec_driver_sql(f"ALTER TABLE orders ADD CONSTRAINT test_refuse "
                                 f"CHECK (recipient_name <> '{recipient}')")


def db_breaks(db: Database, recipient: str) -> None:
    """Storing an order to ``recipient`` fails with an error that is not about the data (the server's trouble)."""
    with db.engine.begin() as conn:
        if db.engine.dialect.name == "sqlite":
            conn.exec_driver_sql(f"CREATE TRIGGER test_break BEFORE INSERT ON orders WHEN NEW.recipient_name = "
                                 f"'{recipient}' BEGIN SELECT json('{{'); END")
        else:
            conn.exec_driver_sql(f"CREATE FUNCTION test_break() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                                 f"IF NEW.recipient_name = '{recipient}' THEN RAISE EXCEPTION 'broken by the test' "
                                 f"USING ERRCODE = 'XX000'; END IF; RETURN NEW; END $$")
            conn.exec_driver_sql("CREATE TRIGGER test_break BEFORE INSERT ON orders FOR EACH ROW "
                                 "EXECUTE FUNCTION test_break()")


# ---------------------------------------------------------------- no buyer's data in the log

def buyer(i: int) -> dict[str, str]:
    return {"name": f"비밀손님{i}", "orderer": f"주문자비밀{i}", "phone": f"010-7777-{1000 + i}",
            "base": f"기밀시 은밀구 {i}번길", "detail": f"{i}0{i}호 비밀", "memo": f"경비실 암호 {i}{i}{i}"}


def seed_buyer(fake: FakeNaver, i: int) -> None:
    b = buyer(i)
    fake.add_order(1, order_id=f"ORD-P{i}", order={"ordererName": b["orderer"], "ordererTel": b["phone"]},
                   shippingAddress={"name": b["name"], "tel1": b["phone"], "baseAddress": b["base"],
                                    "detailedAddress": b["detail"]}, shippingMemo=b["memo"])


def test_no_buyer_data_in_the_log_after_failing_collections_and_stores(db: Database, naver: FakeNaver,
                                                                       dirs: AppDirs, tmp_path: Path,
                                                                       expect_warnings: Any) -> None:
    from packdesk.log import ring, setup_logging
    from packdesk.services import excel_orders as eo
    from tests.services.test_excel_orders import order_row, preview_file, write

    path = setup_logging(dirs.logs)
    assert path is not None
    try:
        acc = add_account(db, naver)
        for i in range(10):
            seed_buyer(naver, i)
        db_refuses(db, buyer(3)["name"])
        collector = Collector(db, clock=later)
        job = Jobs._safe("collect-09:00", collector.run_scheduled)  # how the app runs a scheduled collection
        job()  # one order refused by the database: set aside
        for i in (10, 11):
            seed_buyer(naver, i)
        db_breaks(db, buyer(11)["name"])
        job()  # the database fails mid-store: the run fails

        # an Excel import whose store fails, and a raw store failure logged with its traceback
        with db.session() as s:
            platform = eo.create_platform(s, "엑셀 판매처")
        sheet = write(tmp_path / "orders.xlsx", [order_row("X-1", name=buyer(11)["name"], phone=buyer(11)["phone"])])
        with pytest.raises(Exception, match=r"broken by the test|malformed JSON"):
            eo.import_preview(db, preview_file(db, platform, sheet), "관리자")
        try:
            with db.session() as s:
                store_orders(s, acc, [record_of(3)], source="test")
        except Exception as e:
            logging.getLogger("packdesk.ops").error("bug in op %s", "store", exc_info=e)  # as ui/ops.py logs a bug
            logging.getLogger("packdesk.dbworker").exception("database job failed")
        else:
            pytest.fail("the database took an order it refuses")

        for h in logging.getLogger("packdesk").handlers:
            h.flush()
        written = path.read_text(encoding="utf-8")
        with db.session() as s:
            details = "\n".join(s.scalars(select(m.CollectionRun.error_detail)))
        assert "Traceback" in written  # the failures were logged, with their tracebacks
        for i in range(12):
            for what, value in buyer(i).items():
                for text, where in ((written, "the log file"), ("\n".join(ring.records), "the log view"),
                                    (details, "a run's error detail")):
                    assert value not in text, f"buyer {i}'s {what} in {where}"
        assert "set aside" in written and ("broken by the test" in written or "malformed JSON" in written)
        first, second, excel = runs(db)
        assert (first.status, first.set_aside, second.status, second.error_code) == (
            RunStatus.SUCCEEDED, 1, RunStatus.FAILED, "collect_failed")
        assert (excel.trigger, excel.status) == ("excel", RunStatus.FAILED)
    finally:
        root = logging.getLogger("packdesk")
        for h in list(root.handlers):
            if isinstance(h, logging.handlers.RotatingFileHandler):
                root.removeHandler(h)
                h.close()


def record_of(i: int) -> OrderRecord:
    b = buyer(i)
    return OrderRecord(f"RAW-{i}", b["orderer"], b["name"], b["phone"], "04524", f"{b['base']} {b['detail']}",
                       b["memo"], None, None, (LineRecord(f"RAW-{i}-1", "C1", "", "머그", "", 1, LineStatus.NEW),))


# ---------------------------------------------------------------- every run ends

def test_a_run_killed_mid_way_is_abandoned_at_the_next_start_with_what_it_stored(db: Database, naver: FakeNaver,
                                                                                 tmp_path: Path,
                                                                                 expect_warnings: Any) -> None:
    acc = add_account(db, naver)
    for _ in range(30):
        naver.add_order(2)
    env = {**os.environ, "PYTHONPATH": f"{REPO}{os.pathsep}{REPO / 'src'}", "PACKDESK_TEST_SECRET": naver.client_secret,
           "PACKDESK_HOME": str(tmp_path / "child-home")}
    child = subprocess.Popen([sys.executable, "-m", "tests.services.collect_child", db.url, str(acc), "5", "3"],
                             cwd=REPO, env=env, stdout=subprocess.PIPE, text=True)
    try:
        wait_until(lambda: any(r.orders == 15 for r in runs(db)) or child.poll() is not None, timeout=60,
                   what="the child's third stored batch", interval=0.05)
    finally:
        out = kill_9(child)
    assert "stored 3" in out and "finished" not in out
    [left] = runs(db)
    assert (left.status, left.orders, left.lines) == (RunStatus.RUNNING, 15, 30)  # counted as it went

    station = Collector(db, clock=later, station="S1")
    assert station.close_abandoned() == 1  # what the next start does (app.py), before anything else
    [left] = runs(db)
    assert (left.status, left.orders, left.lines, left.error_code) == (RunStatus.ABANDONED, 15, 30, "run_abandoned")
    assert left.finished_at is not None and f"{child.pid}@" in left.error_detail
    assert count(db, m.Lease) == 0 and count(db, m.OrderLine) == 30  # nothing half-stored
    [rest] = station.run_scheduled()  # the next collection gets the rest
    assert (rest.status, rest.orders, rest.registered) == (RunStatus.SUCCEEDED, 30, 30)
    assert count(db, m.OrderLine) == 60 and station.close_abandoned() == 0


def test_an_unexpected_error_mid_run_fails_the_run_with_what_it_stored(db: Database, monkeypatch: pytest.MonkeyPatch,
                                                                       expect_warnings: Any) -> None:
    """A bug (a record no channel should give) in the second batch: the run fails saying so, the first batch
    stays stored and counted, nothing is raised at the caller and nothing is left running."""
    with db.session() as s:
        account = m.ChannelAccount(kind=ChannelKind.DEMO, name="demo")
        s.add(account)
        s.flush()
        acc = account.id
    good = [OrderRecord(f"O{i}", "", f"손님{i}", "010", "04524", "서울", "", None, None,
                        (LineRecord(f"P{i}", "C1", "", "머그", "", 1, LineStatus.NEW),)) for i in range(6)]
    bad = OrderRecord("O-BUG", "", "손님", "010", "04524", "서울", "", None, None,
                      (LineRecord("P-BUG", "C1", "", "머그", "", 1, "no such status"),))  # type: ignore[arg-type]

    class Buggy:
        kind = ChannelKind.DEMO

        def collect(self, since: datetime, until: datetime) -> list[OrderRecord]:
            return [*good[:3], bad, *good[3:]]

    monkeypatch.setattr(collect, "STORE_CHUNK", 3)
    run = collect_now(db, acc, channel_factory=lambda _a: Buggy())
    assert (run.status, run.error_code, run.orders, run.lines) == (RunStatus.FAILED, "collect_failed", 3, 3)
    assert run.finished_at is not None and "no such status" in run.error_detail
    assert count(db, m.Lease) == 0 and Collector(db).close_abandoned() == 0


def test_a_reply_nested_too_deep_is_a_bad_reply_not_a_run_left_running(db: Database, naver: FakeNaver,
                                                                      expect_warnings: Any) -> None:
    acc = add_account(db, naver)
    naver.add_order(1)
    naver.fail_next("last-changed-statuses", "deep")
    run = collect_now(db, acc)
    assert (run.status, run.error_code, run.orders) == (RunStatus.FAILED, "channel_bad_reply", 0)
    assert "nested too deep" in run.error_detail and count(db, m.Lease) == 0
    again = collect_now(db, acc)  # the marketplace answers again: collected
    assert (again.status, again.orders) == (RunStatus.SUCCEEDED, 1)

