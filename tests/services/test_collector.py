"""Collection runs for real accounts against the fake SmartStore on 127.0.0.1: secrets from the keyring,
manual windows of at most 5 days, scheduled runs that continue where the last one stopped, 발주확인."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from packdesk.core import models as m
from packdesk.core.db import Database
from packdesk.core.enums import ChannelKind, LineStatus, RunStatus
from packdesk.core.errors import KnownError
from packdesk.services.collect import Collector
from packdesk.services.secrets import set_secret
from tests.fakes.naver import FakeNaver


@pytest.fixture
def naver() -> Iterator[FakeNaver]:
    with FakeNaver(rate_limit=None) as fake:
        yield fake


def add_account(db: Database, fake: FakeNaver, *, auto_confirm: bool = False, secret: str | None = None) -> int:
    with db.session() as s:
        acc = m.ChannelAccount(kind=ChannelKind.NAVER, name="내 스토어", external_id=fake.client_id,
                               auto_confirm=auto_confirm, options=json.dumps({"base_url": fake.base_url}))
        s.add(acc)
        s.flush()
        account_id = acc.id
    set_secret(account_id, secret or fake.client_secret)
    return account_id


def lines(db: Database) -> dict[str, LineStatus]:
    with db.session() as s:
        rows = s.execute(select(m.OrderLine.product_order_id, m.OrderLine.status))
        return {r.product_order_id: r.status for r in rows}


def test_manual_run_collects_counts_and_is_idempotent(db: Database, naver: FakeNaver) -> None:
    acc = add_account(db, naver)
    naver.add_order(2)
    naver.add_order([{"productName": "머그컵", "quantity": 2}])
    now = datetime.now(UTC)
    c = Collector(db)
    run = c.run_manual(acc, now - timedelta(days=2), now + timedelta(minutes=1), started_by="관리자")
    assert (run.status, run.trigger, run.started_by) == (RunStatus.SUCCEEDED, "manual", "관리자")
    assert (run.orders, run.lines, run.registered) == (2, 3, 3)
    again = c.run_manual(acc, now - timedelta(days=2), now + timedelta(minutes=1), started_by="관리자")
    assert (again.orders, again.registered, again.cancelled) == (2, 0, 0) and len(lines(db)) == 3


@pytest.mark.parametrize(("days", "code"), [(6, "collect_range_too_long"), (-1, "collect_range_invalid")])
def test_manual_window_is_at_most_five_days(db: Database, naver: FakeNaver, days: int, code: str) -> None:
    acc = add_account(db, naver)
    now = datetime.now(UTC)
    with pytest.raises(KnownError) as e:
        Collector(db).run_manual(acc, now - timedelta(days=days), now, started_by="x")
    assert e.value.code == code


def later() -> datetime:
    """The station's clock a second after the marketplace's (runs end at 'now'; orders were made just before)."""
    return datetime.now(UTC) + timedelta(seconds=1)


def test_scheduled_runs_continue_and_pick_up_cancel_requests(db: Database, naver: FakeNaver) -> None:
    add_account(db, naver)
    order = naver.add_order(1)
    c = Collector(db, clock=later)
    (first,) = c.run_scheduled()
    assert first.status is RunStatus.SUCCEEDED and first.registered == 1 and first.trigger == "schedule"
    pid = order.product_order_ids[0]
    naver.request_cancel(pid)
    (second,) = c.run_scheduled()
    assert second.window_from == first.window_to - timedelta(minutes=10)  # overlaps the last run's end
    assert second.cancel_requested == 1 and lines(db)[pid] is LineStatus.CANCEL_REQUESTED


def test_auto_confirm_confirms_new_lines_at_the_marketplace(db: Database, naver: FakeNaver) -> None:
    acc = add_account(db, naver, auto_confirm=True)
    order = naver.add_order(2)
    now = datetime.now(UTC)
    Collector(db).run_manual(acc, now - timedelta(hours=1), now + timedelta(minutes=1), started_by="x")
    assert set(lines(db).values()) == {LineStatus.CONFIRMED}
    assert {c["productOrderId"] for c in naver.confirmations} == set(order.product_order_ids)


def test_bad_secret_fails_the_run_with_auth_error(db: Database, naver: FakeNaver, expect_warnings) -> None:  # type: ignore[no-untyped-def]
    acc = add_account(db, naver, secret="$2a$04$AAAAAAAAAAAAAAAAAAAAAA")
    naver.add_order(1)
    (run,) = Collector(db, clock=later).run_scheduled()
    assert run.status is RunStatus.FAILED and run.error_code == "channel_auth" and lines(db) == {}
    with db.session() as s:
        assert s.get_one(m.ChannelAccount, acc).last_collected_until is None  # the next run retries the window


def test_missing_secret_is_a_clear_failed_run(db: Database, naver: FakeNaver, memory_keyring,  # type: ignore[no-untyped-def]
                                              expect_warnings) -> None:
    add_account(db, naver)
    memory_keyring.store.clear()
    (run,) = Collector(db).run_scheduled()
    assert run.status is RunStatus.FAILED and run.error_code == "account_not_ready"


def test_no_secret_in_database_logs_or_settings_after_a_full_run(db: Database, naver: FakeNaver, dirs,  # type: ignore[no-untyped-def]
                                                                 expect_warnings) -> None:
    """Grep everything PackDesk wrote for the client secret (and its bcrypt salt part)."""
    from packdesk.log import setup_logging

    setup_logging(dirs.logs)
    acc = add_account(db, naver, auto_confirm=True)
    naver.add_order(3)
    c = Collector(db, clock=later)
    c.run_scheduled()
    naver.fail_next(None, 401)
    c.run_manual(acc, datetime.now(UTC) - timedelta(hours=2), datetime.now(UTC), started_by="x")
    with db.engine.connect() as conn:  # every row of every table, whatever the engine
        for table in m.Base.metadata.sorted_tables:
            for row in conn.execute(table.select()):
                assert naver.client_secret not in repr(tuple(row)), f"secret found in {table.name}"
    db.engine.dispose()
    secret = naver.client_secret.encode()
    written = [p for p in dirs.data.rglob("*") if p.is_file()]  # the SQLite file (if SQLite), log, settings
    assert any(p.name == "packdesk.log" for p in written)
    for p in written:
        assert secret not in p.read_bytes(), f"secret found in {p}"
    assert all(naver.client_secret not in r.getMessage() for r in expect_warnings.records)


def test_with_two_stations_one_runs_the_scheduled_collection(db: Database, naver: FakeNaver) -> None:
    add_account(db, naver)
    naver.add_order(1)
    a, b = Collector(db, clock=later, station="S1"), Collector(db, clock=later, station="S2")
    at = a_minute_ago_kst()  # both stations' schedulers fire at that time, a few seconds apart
    assert len(a.run_time(at)) == 1
    assert b.run_time(at) == []  # S1 did this time's collection
    with db.session() as s:
        assert s.scalar(select(m.CollectionRun.id).where(m.CollectionRun.trigger == "schedule")) is not None


def a_minute_ago_kst() -> str:
    """A scheduled time ("HH:MM", Korea time) that has just passed."""
    from packdesk.core.kst import kst

    return kst(datetime.now(UTC) - timedelta(minutes=1)).strftime("%H:%M")


def test_a_station_gone_mid_run_is_taken_over_by_another(db: Database, naver: FakeNaver,  # type: ignore[no-untyped-def]
                                                         expect_warnings) -> None:
    from sqlalchemy import update

    from packdesk.core import leases
    from packdesk.services.collect import COLLECT_LEASE, run_lease

    acc = add_account(db, naver)
    naver.add_order(1)
    times = [a_minute_ago_kst()]
    now = later()
    with db.session() as s:  # S1 took this time's collection, started it... and its PC went off
        assert leases.acquire(s, f"collect:{acc}", "S1", now, COLLECT_LEASE)
        run = m.CollectionRun(account_id=acc, trigger="schedule", started_by="S1", window_from=now - timedelta(days=1),
                              window_to=now)
        s.add(run)
        s.flush()
        assert leases.acquire(s, run_lease(run.id), "4242@the-other-pc", now, COLLECT_LEASE)  # as begin_run does
    s2 = Collector(db, clock=later, station="S2")
    assert s2.follow_up(times) == []  # S1's leases still hold: it may just be slow
    with db.session() as s:  # a minute without S1 renewing them
        s.execute(update(m.Lease).values(expires_at=now - timedelta(seconds=1)))
    [run] = s2.follow_up(times)
    assert (run.status, run.trigger, run.orders) == (RunStatus.SUCCEEDED, "schedule", 1)
    assert run.started_by == "S2 (follow-up)" and len(lines(db)) == 1
    with db.session() as s:
        left = s.scalars(select(m.CollectionRun).where(m.CollectionRun.started_by == "S1")).one()
        assert (left.status, left.error_code) == (RunStatus.ABANDONED, "run_abandoned")
        assert "4242@the-other-pc" in left.error_detail and "S2" in left.error_detail and left.finished_at
        assert s.scalars(select(m.Lease.name)).all() == []  # the account's given back, the run's removed
    # that time is done now: neither S2 nor S1 (back again) collects it twice
    assert s2.follow_up(times) == [] and Collector(db, clock=later, station="S1").follow_up(times) == []


def test_a_time_that_ran_and_failed_is_not_repeated_every_minute(db: Database, naver: FakeNaver,  # type: ignore[no-untyped-def]
                                                                 expect_warnings) -> None:
    add_account(db, naver, secret="$2a$04$AAAAAAAAAAAAAAAAAAAAAA")  # a wrong secret: refused
    c = Collector(db, clock=later, station="S1")
    at = a_minute_ago_kst()
    [run] = c.run_time(at)
    assert run.status is RunStatus.FAILED
    assert c.follow_up([at]) == []  # the next scheduled time tries again, not every minute


def test_the_last_scheduled_time_in_korea_time() -> None:
    from packdesk.services.collect import last_slot

    friday_22_kst = datetime(2026, 11, 27, 13, 0, tzinfo=UTC)
    assert last_slot(["09:00", "16:00"], friday_22_kst) == datetime(2026, 11, 27, 7, 0, tzinfo=UTC)  # 16:00 KST
    sunday_10_kst = datetime(2026, 11, 29, 1, 0, tzinfo=UTC)
    assert last_slot(["09:00", "16:00"], sunday_10_kst) == datetime(2026, 11, 29, 0, 0, tzinfo=UTC)
    assert last_slot(["09:00", "16:00"], sunday_10_kst, weekdays_only=True) == datetime(2026, 11, 27, 7, 0, tzinfo=UTC)
    monday_8_kst = datetime(2026, 11, 29, 23, 0, tzinfo=UTC)
    assert last_slot(["09:00"], monday_8_kst) == datetime(2026, 11, 29, 0, 0, tzinfo=UTC)  # Sunday's
    assert last_slot([], monday_8_kst) is None


def test_the_scheduled_job_and_the_follow_up_firing_together_collect_once(db: Database, naver: FakeNaver) -> None:
    import threading

    from packdesk.services.collect import make_channel

    add_account(db, naver)
    naver.add_order(1)
    inside, go_on = threading.Event(), threading.Event()

    def slow_channel(account: m.ChannelAccount):  # type: ignore[no-untyped-def]
        inside.set()
        assert go_on.wait(10)
        return make_channel(account)

    c = Collector(db, channel_factory=slow_channel, clock=later, station="S1")
    at = a_minute_ago_kst()
    got: list[list[m.CollectionRun]] = []
    t = threading.Thread(target=lambda: got.append(c.run_time(at)))
    t.start()
    assert inside.wait(10)
    assert c.follow_up([at]) == []  # this station is collecting that account already
    go_on.set()
    t.join(10)
    assert len(got[0]) == 1 and got[0][0].status is RunStatus.SUCCEEDED
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(m.CollectionRun)) == 1
