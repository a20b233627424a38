"""The dispatch uploader against the fake SmartStore over real HTTP: every packed line reaches the
marketplace exactly once — through outages, 429 storms, 5xx answers, per-item refusals, cancellations after
packing and a process killed mid-upload — and supervisors can fix and resend or mark handled."""

from __future__ import annotations

import json
import logging
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from packdesk.channels.demo import DemoChannel
from packdesk.channels.http import RateLimiters, RetryPolicy
from packdesk.channels.naver import NaverChannel
from packdesk.core import models as m
from packdesk.core.db import Database
from packdesk.core.enums import ChannelKind, LineStatus, OutboxState, RunStatus
from packdesk.services.dispatch import OutboxCounts, Uploader, backoff_delay
from packdesk.services.schedule import Jobs
from packdesk.services.secrets import get_secret, set_secret
from tests.children import kill_9
from tests.fakes.naver import FakeNaver, SeededOrder
from tests.waiting import wait_until

REPO = Path(__file__).resolve().parents[2]


class Clock:
    """The uploader's clock: moves only when told, so a backoff is waited out without waiting."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC) + timedelta(seconds=1)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def naver() -> Iterator[FakeNaver]:
    with FakeNaver(rate_limit=None) as fake:
        yield fake


@pytest.fixture
def make_uploader() -> Iterator[Any]:
    """Uploaders closed at the test's end (they keep a channel, and its connections, per account)."""
    made: list[Uploader] = []

    def make(*args: Any, **kwargs: Any) -> Uploader:
        made.append(Uploader(*args, **kwargs))
        return made[-1]

    yield make
    for up in made:
        up.close()


def add_account(db: Database, fake: FakeNaver) -> int:
    with db.session() as s:
        acc = m.ChannelAccount(kind=ChannelKind.NAVER, name="내 스토어", external_id=fake.client_id,
                               options=json.dumps({"base_url": fake.base_url}))
        s.add(acc)
        s.flush()
        s.add(m.CollectionRun(account_id=acc.id, trigger="schedule", status=RunStatus.SUCCEEDED,
                              finished_at=datetime.now(UTC)))
        account_id = acc.id
    set_secret(account_id, fake.client_secret)
    return account_id


def seed_packed(db: Database, account_id: int, orders: Sequence[SeededOrder], *, courier: str = "CJGLS",
                status: LineStatus = LineStatus.PACKED) -> dict[str, int]:
    """Each order packed under its own waybill, one PENDING outbox entry per line (as ``end_pack`` leaves
    them). Returns entry id by product-order id."""
    now = datetime.now(UTC)
    entries: dict[str, int] = {}
    with db.session() as s:
        base = s.scalar(select(m.Waybill.id).order_by(m.Waybill.id.desc()).limit(1)) or 0
        for n, o in enumerate(orders, start=base + 1):
            order = m.Order(account_id=account_id, order_no=o.order_id)
            waybill = m.Waybill(courier_code=courier, tracking_number=f"68{n:010d}")
            s.add_all([order, waybill])
            s.flush()
            for pid in o.product_order_ids:
                line = m.OrderLine(order_id=order.id, account_id=account_id, product_order_id=pid, product_code="P1",
                                   product_name="머그컵", quantity=1, status=status, waybill_id=waybill.id,
                                   packed_at=now)
                s.add(line)
                s.flush()
                entry = m.DispatchEntry(line_id=line.id, account_id=account_id, product_order_id=pid,
                                        courier_code=courier, tracking_number=waybill.tracking_number,
                                        state=OutboxState.PENDING, next_attempt_at=now, created_at=now, updated_at=now)
                s.add(entry)
                s.flush()
                entries[pid] = entry.id
    return entries


def naver_factory(fake: FakeNaver, **options: Any) -> Any:
    """Real NaverChannels on the fake; retries and rate waits run at once (injected sleep)."""
    limiters = RateLimiters()

    def make(account: m.ChannelAccount) -> NaverChannel:
        secret = get_secret(account.id)
        assert secret
        return NaverChannel(account.external_id, secret, base_url=fake.base_url, sleep=lambda s: None,
                            limiters=limiters, **options)

    return make


def states(db: Database) -> dict[str, OutboxState]:
    with db.session() as s:
        return dict(s.execute(select(m.DispatchEntry.product_order_id, m.DispatchEntry.state)).all())


def entry(db: Database, entry_id: int) -> m.DispatchEntry:
    with db.session() as s:
        return s.get_one(m.DispatchEntry, entry_id)


def line(db: Database, pid: str) -> m.OrderLine:
    with db.session() as s:
        return s.scalars(select(m.OrderLine).where(m.OrderLine.product_order_id == pid)).one()


def history(db: Database, pid: str) -> list[tuple[LineStatus, str]]:
    with db.session() as s:
        return [(h.status, h.source) for h in s.scalars(
            select(m.LineStatusChange).join(m.OrderLine, m.OrderLine.id == m.LineStatusChange.line_id)
            .where(m.OrderLine.product_order_id == pid).order_by(m.LineStatusChange.id))]


def dispatched(fake: FakeNaver) -> Counter[str]:
    return Counter(d["productOrderId"] for d in fake.dispatches)


def dispatch_posts(fake: FakeNaver) -> int:
    return len(fake.calls("/dispatch", method="POST"))


def tracking_sent(db: Database, account_id: int) -> int:
    with db.session() as s:
        return s.scalar(select(m.CollectionRun.tracking_sent).where(m.CollectionRun.account_id == account_id)
                        .order_by(m.CollectionRun.id.desc()).limit(1)) or 0


# --- the happy path, and never twice ---------------------------------------------------------------------
def test_each_dispatch_is_sent_once_and_never_again(db: Database, naver: FakeNaver, make_uploader: Any) -> None:
    acc = add_account(db, naver)
    orders = [naver.add_order(2), naver.add_order(1)]
    ids = seed_packed(db, acc, orders)
    clock = Clock()
    counts: list[OutboxCounts] = []
    up = make_uploader(db, naver_factory(naver), clock=clock, on_counts=counts.append)
    assert up.counts() == OutboxCounts(waiting=3)

    report = up.run_once()
    assert report.sent == 3 and set(states(db).values()) == {OutboxState.SENT}
    assert dispatched(naver) == Counter({pid: 1 for pid in ids})
    # one status read before the one dispatch call: the channel does not read again what was just read
    assert len(naver.calls("/query", method="POST")) == 1 and dispatch_posts(naver) == 1
    assert {(d["deliveryCompanyCode"], d["trackingNumber"]) for d in naver.dispatches} == {
        ("CJGLS", "680000000001"), ("CJGLS", "680000000002")}
    pid = orders[0].product_order_ids[0]
    assert line(db, pid).status is LineStatus.DISPATCHED and history(db, pid)[-1] == (
        LineStatus.DISPATCHED, f"dispatch:{ids[pid]}")
    assert entry(db, ids[pid]).sent_at is not None and entry(db, ids[pid]).attempts == 1
    assert tracking_sent(db, acc) == 3  # counted into the account's latest finished collection run
    assert counts[-1] == OutboxCounts()

    posts = len(naver.requests)
    clock.advance(3600)
    assert up.run_once().sent == 0 and len(naver.requests) == posts  # nothing left: not even a read
    assert make_uploader(db, naver_factory(naver), clock=clock).run_once().sent == 0  # nor after a restart
    assert dispatched(naver) == Counter({pid: 1 for pid in ids}) and tracking_sent(db, acc) == 3


def test_demo_shop_queue_drains(demo_db: Database, expect_warnings: Any, make_uploader: Any) -> None:
    """The demo channel accepts every dispatch; a line the demo shows cancelled is held, not sent."""
    with demo_db.session() as s:
        acc = s.scalar(select(m.ChannelAccount.id).where(m.ChannelAccount.kind == ChannelKind.DEMO))
        lines = s.scalars(select(m.OrderLine).where(m.OrderLine.account_id == acc).order_by(m.OrderLine.id)
                          .limit(4)).all()
        waybill = s.scalars(select(m.Waybill)).first()
        assert acc is not None and waybill is not None
        now = datetime.now(UTC)
        for ln in lines[:3]:
            s.add(m.DispatchEntry(line_id=ln.id, account_id=acc, product_order_id=ln.product_order_id,
                                  courier_code=waybill.courier_code, tracking_number=waybill.tracking_number,
                                  next_attempt_at=now, created_at=now))
            ln.status = LineStatus.PACKED
        lines[2].status = LineStatus.CANCELLED  # the collector learnt of a cancel after packing
        cancelled_pid = lines[2].product_order_id
    up = make_uploader(demo_db, clock=Clock())  # the app's own factory: make_channel
    report = up.run_once()
    assert (report.sent, report.held) == (2, 1) and up.counts() == OutboxCounts(held=1)
    with demo_db.session() as s:
        run = s.scalars(select(m.CollectionRun).where(m.CollectionRun.account_id == acc)).one()
    assert run.tracking_sent == 2
    assert line(demo_db, cancelled_pid).status is LineStatus.CANCELLED
    held = up.entries([OutboxState.HELD])
    assert [(e.product_order_id, e.error_code) for e in held] == [(cancelled_pid, "line_cancelled")]
    assert held[0].account == "데모 상점 / Demo shop" and held[0].order_no


def test_demo_channel_dispatch_has_naver_result_shape() -> None:
    result = DemoChannel(datetime.now(UTC), extra_orders=0).dispatch(
        [("A-1", "CJGLS", "123456", datetime.now(UTC))])
    assert result.succeeded == ["A-1"] and result["A-1"].ok and not result.failed


# --- outages, storms, 5xx -------------------------------------------------------------------------------
def test_server_down_for_the_whole_run_then_up(db: Database, naver: FakeNaver, make_uploader: Any) -> None:
    acc = add_account(db, naver)
    ids = seed_packed(db, acc, [naver.add_order(2), naver.add_order(1)])
    naver.stop()  # connection refused from now on
    clock = Clock()
    up = make_uploader(db, naver_factory(naver), clock=clock, rng=random.Random(5).random)
    due: list[datetime] = []
    for attempt in (1, 2, 3):
        report = up.run_once()
        assert report.sent == 0 and report.retry == 3
        e = entry(db, ids[next(iter(ids))])
        assert e.state is OutboxState.PENDING and e.attempts == attempt and e.last_error_code == "channel_transient"
        assert e.next_attempt_at is not None
        step = 30 * 2 ** (attempt - 1)  # exponential, with jitter in [0.5, 1) of the step
        assert step / 2 <= (e.next_attempt_at - clock.now).total_seconds() < step
        assert up.run_once().retry == 0  # not due yet: nothing tried
        due.append(e.next_attempt_at)
        clock.advance(step)
    assert up.counts() == OutboxCounts(waiting=3)
    naver.start()  # same port: the marketplace is back
    report = up.run_once()
    assert report.sent == 3 and set(states(db).values()) == {OutboxState.SENT}
    assert dispatched(naver) == Counter({pid: 1 for pid in ids})
    # one status read before the one dispatch call: the channel does not read again what was just read
    assert len(naver.calls("/query", method="POST")) == 1 and dispatch_posts(naver) == 1


def test_429_storm_backs_off_and_sends_each_once(db: Database, naver: FakeNaver, make_uploader: Any) -> None:
    acc = add_account(db, naver)
    ids = seed_packed(db, acc, [naver.add_order(3)])
    clock = Clock()
    up = make_uploader(db, naver_factory(naver), clock=clock, rng=random.Random(1).random)
    naver.fail_next(None, 429, count=10)  # every call, the token's included, refused at the gate
    first = up.run_once()
    assert first.retry == 3 and entry(db, ids[next(iter(ids))]).last_error_code == "channel_rate_limited"
    requests = len(naver.requests)
    assert up.run_once().retry == 0 and len(naver.requests) == requests  # backing off: not one call
    clock.advance(30)
    assert up.run_once().retry == 3  # the storm goes on
    clock.advance(60)
    naver.fail_next("dispatch", 429, count=4)  # and now only the dispatch POST is refused, 4 times in a row
    third = up.run_once()
    assert third.retry == 3 and naver.dispatches == []
    assert entry(db, ids[next(iter(ids))]).last_error_code == "GW.RATE_LIMIT"
    assert "요청이 많아" in entry(db, ids[next(iter(ids))]).last_error_message
    clock.advance(240)
    assert up.run_once().sent == 3
    assert dispatched(naver) == Counter({pid: 1 for pid in ids}) and entry(db, ids[next(iter(ids))]).attempts == 4


def test_5xx_on_part_of_the_queue_is_settled_per_item(db: Database, naver: FakeNaver, make_uploader: Any) -> None:
    """35 lines, requests of 30: the first request is applied but answered 500 (read back: sent), the second
    answered 503 without being applied (retried later). Nothing is posted twice."""
    acc = add_account(db, naver)
    ids = seed_packed(db, acc, [naver.add_order(5) for _ in range(7)])
    clock = Clock()
    up = make_uploader(db, naver_factory(naver), clock=clock)
    naver.fail_next("dispatch", 500, process=True)
    naver.fail_next("dispatch", 503)
    report = up.run_once()
    assert (report.sent, report.retry) == (30, 5)
    pending = [pid for pid, st in states(db).items() if st is OutboxState.PENDING]
    assert len(pending) == 5 and entry(db, ids[pending[0]]).last_error_code == "GW.BLOCK.01"
    assert len(dispatched(naver)) == 30 and dispatch_posts(naver) == 2
    clock.advance(60)
    assert up.run_once().sent == 5
    assert dispatched(naver) == Counter({pid: 1 for pid in ids}) and dispatch_posts(naver) == 3
    assert tracking_sent(db, acc) == 35


def test_unknown_outcome_is_read_back_before_it_is_resent(db: Database, naver: FakeNaver, make_uploader: Any) -> None:
    """The dispatch is applied but its answer never comes (client timeout), and reading it back fails too:
    the entry goes back to PENDING with the outcome unknown. The next pass reads first and finds it sent."""
    acc = add_account(db, naver)
    ids = seed_packed(db, acc, [naver.add_order(2)])
    clock = Clock()
    armed: list[bool] = []

    def monotonic() -> float:  # asked before every request: once Naver has applied it, reads fail
        if naver.dispatches and not armed:
            armed.append(True)
            naver.fail_next("query", 503, count=2)  # the read-back after the timeout (both tries)
        return time.monotonic()

    up = make_uploader(db, naver_factory(naver, timeout=0.5, retry=RetryPolicy(attempts=2), clock=monotonic),
                       clock=clock)
    naver.fail_next("dispatch", "timeout", process=True, delay=3)
    report = up.run_once()
    assert report.retry == 2 and len(dispatched(naver)) == 2  # applied at the marketplace, unknown here
    assert {entry(db, i).state for i in ids.values()} == {OutboxState.PENDING}
    clock.advance(60)
    report = up.run_once()
    assert report.sent == 2 and dispatch_posts(naver) == 1  # settled by reading: not posted again
    assert dispatched(naver) == Counter({pid: 1 for pid in ids})


# --- refusals and supervisors ---------------------------------------------------------------------------
def test_definitive_refusal_is_kept_for_a_supervisor_who_marks_it_handled(
        db: Database, naver: FakeNaver, expect_warnings: Any, make_uploader: Any) -> None:
    acc = add_account(db, naver)
    order = naver.add_order(3)
    ids = seed_packed(db, acc, [order])
    bad = order.product_order_ids[1]
    naver.fail_dispatch(bad, code="104121", message="이미 사용된 송장번호입니다.", times=None)
    clock = Clock()
    up = make_uploader(db, naver_factory(naver), clock=clock)
    report = up.run_once()
    assert (report.sent, report.rejected) == (2, 1) and up.counts() == OutboxCounts(rejected=1)
    (shown,) = up.entries([OutboxState.REJECTED])
    assert (shown.product_order_id, shown.error_code) == (bad, "104121")
    assert shown.error_message == "이미 사용된 송장번호입니다."  # the marketplace's own words
    assert any("refused" in r.getMessage() for r in expect_warnings.records)
    clock.advance(7200)
    assert up.run_once().rejected == 0 and dispatch_posts(naver) == 1  # a refusal is not retried by itself

    assert up.mark_handled([ids[bad]], by="관리자", note="셀러센터에서 입력") == 1
    assert entry(db, ids[bad]).state is OutboxState.HANDLED and up.counts() == OutboxCounts()
    assert line(db, bad).status is LineStatus.DISPATCHED and history(db, bad)[-1] == (
        LineStatus.DISPATCHED, "handled:관리자 셀러센터에서 입력")
    assert up.mark_handled([ids[bad]], by="관리자") == 0  # already handled: nothing changes
    assert up.run_once().sent == 0 and bad not in dispatched(naver)


def test_supervisor_fixes_the_courier_code_and_resends(db: Database, naver: FakeNaver, expect_warnings: Any,
                                                       make_uploader: Any) -> None:
    acc = add_account(db, naver)
    order = naver.add_order(1)
    (entry_id,) = seed_packed(db, acc, [order], courier="CJ").values()
    clock = Clock()
    up = make_uploader(db, naver_factory(naver), clock=clock)
    assert up.run_once().rejected == 1  # Naver refuses the whole request: not a carrier code it knows
    rejected = entry(db, entry_id)
    assert rejected.last_error_code == "000400" and "요청이 올바르지 않습니다" in rejected.last_error_message
    with pytest.raises(Exception, match="dispatch_courier_required"):
        up.resend([entry_id], courier_code="  ")
    assert up.resend([entry_id], courier_code="CJGLS", by="관리자") == 1
    fixed = entry(db, entry_id)
    assert (fixed.state, fixed.courier_code, fixed.attempts, fixed.last_error_code) == (
        OutboxState.PENDING, "CJGLS", 0, "")
    assert up.resend([entry_id]) == 0  # only refused or held entries are resent
    assert up.run_once().sent == 1
    assert [(d["productOrderId"], d["deliveryCompanyCode"]) for d in naver.dispatches] == [
        (order.product_order_ids[0], "CJGLS")]


def test_line_cancelled_after_packing_is_held_not_dispatched(db: Database, naver: FakeNaver,
                                                             expect_warnings: Any, make_uploader: Any) -> None:
    acc = add_account(db, naver)
    ok, requested, done_here, done_there = (naver.add_order(1) for _ in range(4))
    ids = seed_packed(db, acc, [ok, requested, done_here, done_there])
    naver.request_cancel(requested.product_order_ids[0])        # at the marketplace only
    naver.complete_cancel(done_there.product_order_ids[0])      # at the marketplace only
    naver.complete_cancel(done_here.product_order_ids[0])       # and collected here too
    with db.session() as s:
        s.execute(update(m.OrderLine).where(m.OrderLine.product_order_id == done_here.product_order_ids[0])
                  .values(status=LineStatus.CANCELLED))
    up = make_uploader(db, naver_factory(naver), clock=Clock())
    report = up.run_once()
    assert (report.sent, report.held) == (1, 3) and up.counts() == OutboxCounts(held=3)
    assert list(dispatched(naver)) == [ok.product_order_ids[0]]
    req = requested.product_order_ids[0]
    assert line(db, req).status is LineStatus.CANCEL_REQUESTED  # the station learns it now, with history
    assert history(db, req)[-1] == (LineStatus.CANCEL_REQUESTED, f"dispatch:{ids[req]}")
    assert line(db, done_there.product_order_ids[0]).status is LineStatus.CANCELLED
    codes = {e.product_order_id: e.error_code for e in up.entries([OutboxState.HELD])}
    assert codes == {req: "line_cancel_requested", done_here.product_order_ids[0]: "line_cancelled",
                     done_there.product_order_ids[0]: "line_cancelled"}
    assert any("pull the parcel" in r.getMessage() for r in expect_warnings.records)

    assert up.resend([ids[req]], by="관리자") == 1  # still cancel-requested at Naver: held again, not sent
    assert up.run_once().held == 1 and req not in dispatched(naver)
    assert up.mark_handled([ids[req]], by="관리자", note="택배 회수") == 1  # the parcel was pulled
    assert line(db, req).status is LineStatus.CANCEL_REQUESTED
    assert history(db, req)[-1] == (LineStatus.CANCEL_REQUESTED, "handled:관리자 택배 회수")
    assert up.counts() == OutboxCounts(held=2)


# --- crashes -----------------------------------------------------------------------------------------------
def test_sending_left_by_a_crash_is_reconciled_before_anything_is_sent(db: Database, naver: FakeNaver,
                                                                       make_uploader: Any) -> None:
    """What a crash leaves: entries SENDING whose request reached Naver, and one whose request never left.
    A new uploader reads them first: the first are recorded sent without a request, the other is sent."""
    acc = add_account(db, naver)
    order = naver.add_order(3)
    ids = seed_packed(db, acc, [order])
    landed, lost = order.product_order_ids[:2], order.product_order_ids[2]
    with db.session() as s:
        s.execute(update(m.DispatchEntry).values(state=OutboxState.SENDING, attempts=1))
        items = [(e.product_order_id, e.courier_code, e.tracking_number, e.created_at)
                 for e in s.scalars(select(m.DispatchEntry).where(m.DispatchEntry.product_order_id.in_(landed)))]
    ch = NaverChannel(naver.client_id, naver.client_secret, base_url=naver.base_url)
    try:
        assert ch.dispatch(items).succeeded == list(landed)  # the crashed process's request, applied
    finally:
        ch.close()
    up = make_uploader(db, naver_factory(naver), clock=Clock())
    report = up.run_once()
    assert report.reconciled == 3 and report.sent == 3
    assert dispatch_posts(naver) == 2  # the crashed one + the one for the entry that never left
    assert dispatched(naver) == Counter({pid: 1 for pid in ids})
    assert [d["productOrderId"] for d in naver.dispatches][-1] == lost


def test_sending_of_another_station_is_left_alone_until_its_lease_runs_out(db: Database, naver: FakeNaver,
                                                                           make_uploader: Any) -> None:
    acc = add_account(db, naver)
    ids = seed_packed(db, acc, [naver.add_order(1)])
    clock = Clock()
    up = make_uploader(db, naver_factory(naver), clock=clock)
    assert up.run_once().reconciled == 0  # first pass: nothing SENDING; sent
    (entry_id,) = ids.values()
    other = seed_packed(db, acc, [naver.add_order(1)])
    (other_id,) = other.values()
    with db.session() as s:  # another station claimed it and is (maybe) sending it right now
        s.execute(update(m.DispatchEntry).where(m.DispatchEntry.id == other_id)
                  .values(state=OutboxState.SENDING, updated_at=clock.now))
    assert up.run_once().reconciled == 0 and entry(db, other_id).state is OutboxState.SENDING
    clock.advance(16 * 60)  # past the lease: that station died mid-call
    report = up.run_once()
    assert report.reconciled == 1 and report.sent == 1
    assert entry(db, entry_id).state is entry(db, other_id).state is OutboxState.SENT


def test_process_killed_mid_upload_then_restarted(db: Database, naver: FakeNaver, tmp_path: Path,
                                                  make_uploader: Any) -> None:
    """kill -9 while Naver holds the answer to a dispatch it has applied: 30 entries SENDING (written before
    the request), 10 not yet tried. The restarted uploader reconciles the 30 and sends the 10: all 40 sent,
    each exactly once."""
    acc = add_account(db, naver)
    ids = seed_packed(db, acc, [naver.add_order(5) for _ in range(8)])
    naver.fail_next("dispatch", "timeout", process=True, delay=60)  # applied, then the answer waits
    env = {**os.environ, "PYTHONPATH": f"{REPO}{os.pathsep}{REPO / 'src'}", "PACKDESK_TEST_SECRET": naver.client_secret,
           "PACKDESK_HOME": str(tmp_path / "child-home")}
    child = subprocess.Popen([sys.executable, "-m", "tests.services.dispatch_child", db.url, naver.base_url,
                              naver.client_id], cwd=REPO, env=env, stdout=subprocess.PIPE, text=True)
    try:
        wait_until(lambda: len(naver.dispatches) == 30 or child.poll() is not None, timeout=60,
                   what="the child's first dispatch to be applied")
        assert child.poll() is None, "the child ended before it was killed"
        assert Counter(states(db).values()) == {OutboxState.SENDING: 30, OutboxState.PENDING: 10}
    finally:
        out = kill_9(child)
    assert "started" in out and "finished" not in out
    report = make_uploader(db, naver_factory(naver), clock=Clock()).run_once()
    assert (report.reconciled, report.sent) == (30, 40)
    assert set(states(db).values()) == {OutboxState.SENT}
    assert dispatched(naver) == Counter({pid: 1 for pid in ids}) and dispatch_posts(naver) == 2
    assert tracking_sent(db, acc) == 40


# --- concurrency, offline, pure parts -------------------------------------------------------------------
class SlowDemo(DemoChannel):
    """The demo shop, with a dispatch that waits to be let go and counts how many run at once."""

    def __init__(self, gate: threading.Event, entered: threading.Event, log: list[int]) -> None:
        super().__init__(datetime.now(UTC), extra_orders=0)
        self.gate, self.entered, self.log = gate, entered, log
        self.running = 0

    def dispatch(self, items: Any, **kwargs: Any) -> Any:
        self.running += 1
        self.log.append(self.running)
        self.entered.set()
        assert self.gate.wait(10)
        self.running -= 1
        return super().dispatch(items, **kwargs)


def test_two_uploads_of_one_account_never_overlap(demo_db: Database, make_uploader: Any) -> None:
    with demo_db.session() as s:
        acc = s.scalar(select(m.ChannelAccount.id).where(m.ChannelAccount.kind == ChannelKind.DEMO))
        lines = s.scalars(select(m.OrderLine).where(m.OrderLine.status == LineStatus.CONFIRMED).limit(3)).all()
        now = datetime.now(UTC)
        for ln in lines[:2]:
            ln.status = LineStatus.PACKED
            s.add(m.DispatchEntry(line_id=ln.id, account_id=acc, product_order_id=ln.product_order_id,
                                  courier_code="CJGLS", tracking_number="601000000011", created_at=now,
                                  next_attempt_at=now))
        late = lines[2]
    gate, entered, concurrency = threading.Event(), threading.Event(), []
    channel = SlowDemo(gate, entered, concurrency)
    up = make_uploader(demo_db, lambda account: channel, clock=Clock())
    first = threading.Thread(target=up.run_once)
    first.start()
    assert entered.wait(10)
    with demo_db.session() as s:  # packed while the first upload is stuck in its request
        s.get_one(m.OrderLine, late.id).status = LineStatus.PACKED
        s.add(m.DispatchEntry(line_id=late.id, account_id=acc, product_order_id=late.product_order_id,
                              courier_code="CJGLS", tracking_number="601000000022", created_at=now,
                              next_attempt_at=now))
    second = up.run_once()  # finds the account busy: skips it and asks the running drain to go round again
    assert second.skipped_accounts == 1 and second.sent == 0
    gate.set()
    first.join(10)
    assert concurrency == [1, 1] and up.counts() == OutboxCounts()


def test_offline_pauses_network_accounts_and_kick_resumes(db: Database, naver: FakeNaver, make_uploader: Any) -> None:
    acc = add_account(db, naver)
    ids = seed_packed(db, acc, [naver.add_order(2)])
    online = threading.Event()
    counts: list[OutboxCounts] = []
    up = make_uploader(db, naver_factory(naver), clock=Clock(), is_online=online.is_set, on_counts=counts.append)
    report = up.run_once()
    assert report.skipped_accounts == 1 and naver.requests == [] and counts[-1] == OutboxCounts(waiting=2)
    assert {entry(db, i).attempts for i in ids.values()} == {0}  # an outage costs no attempts
    online.set()
    up.kick(retry_now=True)
    up.kick()  # folded into the running one
    wait_until(lambda: up.counts() == OutboxCounts(), what="the queue to drain after the kick")
    assert up.wait_idle(10)
    assert dispatched(naver) == Counter({pid: 1 for pid in ids}) and counts[-1] == OutboxCounts()
    up.close()
    up.kick()  # closed: ignored
    assert up.run_once().sent == 0


def test_account_without_secret_is_reported_once_and_its_entries_wait(
        db: Database, naver: FakeNaver, memory_keyring: Any, expect_warnings: Any, make_uploader: Any) -> None:
    acc = add_account(db, naver)
    seed_packed(db, acc, [naver.add_order(1)])
    memory_keyring.store.clear()
    up = make_uploader(db, clock=Clock())  # make_channel: the secret comes from the keyring
    for _ in range(3):
        assert up.run_once().skipped_accounts == 1
    warned = [r for r in expect_warnings.records if "cannot run" in r.getMessage() and r.levelno >= logging.WARNING]
    assert len(warned) == 1 and "account_not_ready" in warned[0].getMessage()
    assert up.counts() == OutboxCounts(waiting=1) and naver.requests == []


def test_backoff_is_exponential_capped_and_jittered() -> None:
    assert backoff_delay(1, 30, 1800, lambda: 0.0) == timedelta(seconds=15)
    assert backoff_delay(1, 30, 1800, lambda: 0.999999) < timedelta(seconds=30)
    assert backoff_delay(4, 30, 1800, lambda: 0.0) == timedelta(seconds=120)
    assert backoff_delay(20, 30, 1800, lambda: 0.0) == timedelta(seconds=900)  # half the cap at least
    rng = random.Random(3)
    delays = {backoff_delay(3, 30, 1800, rng.random) for _ in range(20)}
    assert len(delays) == 20 and all(timedelta(seconds=60) <= d < timedelta(seconds=120) for d in delays)


def test_the_dispatch_job_repeats_on_its_interval() -> None:
    ran: list[int] = []
    jobs = Jobs()
    jobs.every("dispatch", lambda: ran.append(1), seconds=0.05, first_run_in=0)
    jobs.start()
    try:
        wait_until(lambda: len(ran) >= 3, what="three runs of the interval job")
    finally:
        jobs.stop()


def test_a_parcels_lines_go_in_one_request_past_the_chunk_size(db: Database, naver: FakeNaver,
                                                                 make_uploader: Any) -> None:
    """Coupang takes a box's items in one request only: the uploader never splits a waybill across chunks."""
    acc = add_account(db, naver)
    orders = [naver.add_order(3), naver.add_order(1)]
    seed_packed(db, acc, orders)
    up = make_uploader(db, naver_factory(naver), clock=Clock(), chunk=2)
    assert up.run_once().sent == 4
    posts = naver.calls("/dispatch", method="POST")
    assert [len(json.loads(p.body)["dispatchProductOrders"]) for p in posts] == [3, 1]


def test_a_tracking_number_the_marketplace_keeps_without_dashes_counts_as_ours() -> None:
    """Labels print 6550-1234-5678; Sabangnet keeps 655012345678. A dispatch of unknown outcome found there
    is sent, not sent again (which Sabangnet would refuse as already registered)."""
    from packdesk.channels.base import LineRecord
    from packdesk.services.dispatch import _classify, _Entry

    entry = _Entry(1, 1, "17117400", "CJGLS", "6550-1234-5678", 1, datetime.now(UTC), LineStatus.PACKED)
    remote = LineRecord("17117400", "P", "", "", "", 1, LineStatus.CONFIRMED, courier_code="CJGLS",
                        tracking_number="655012345678")
    outcome = _classify(entry, remote)
    assert outcome is not None and outcome.state is OutboxState.SENT


# --- several stations: one uploads each account at a time ------------------------------------------------
def test_one_station_uploads_an_account_and_another_takes_over_when_it_is_gone(db: Database, naver: FakeNaver,
                                                                               make_uploader: Any) -> None:
    acc = add_account(db, naver)
    first = seed_packed(db, acc, [naver.add_order(1)])
    clock = Clock()
    one = make_uploader(db, naver_factory(naver), clock=clock, station="STATION-1")
    two = make_uploader(db, naver_factory(naver), clock=clock, station="STATION-2")
    assert one.run_once().sent == 1
    second = seed_packed(db, acc, [naver.add_order(1)])
    assert two.run_once().sent == 0 and two.run_once().skipped_accounts == 1  # STATION-1 holds it
    clock.advance(30)
    assert one.run_once().sent == 1  # renewed by its pass
    third = seed_packed(db, acc, [naver.add_order(1)])
    clock.advance(39)
    assert two.run_once().sent == 0  # 39 s since STATION-1's last pass: still its
    clock.advance(2)                 # STATION-1 stopped (crashed): its lease lapses after 40 s
    assert two.run_once().sent == 1
    assert dispatched(naver) == Counter({pid: 1 for pid in [*first, *second, *third]})
    fourth = seed_packed(db, acc, [naver.add_order(1)])
    assert one.run_once().skipped_accounts == 1  # back again: it waits for STATION-2's lease to lapse
    two.close()  # a clean shutdown hands the account over at once
    assert one.run_once().sent == 1 and dispatched(naver)[next(iter(fourth))] == 1


def test_the_upload_leader_killed_mid_upload_another_station_finishes_nothing_twice(
        db: Database, naver: FakeNaver, tmp_path: Path, make_uploader: Any) -> None:
    acc = add_account(db, naver)
    ids = seed_packed(db, acc, [naver.add_order(1) for _ in range(40)])
    naver.fail_next("dispatch", "timeout", process=True, delay=60)  # applied, then the answer waits
    env = {**os.environ, "PYTHONPATH": f"{REPO}{os.pathsep}{REPO / 'src'}", "PACKDESK_TEST_SECRET": naver.client_secret,
           "PACKDESK_HOME": str(tmp_path / "child-home")}
    child = subprocess.Popen([sys.executable, "-m", "tests.services.dispatch_child", db.url, naver.base_url,
                              naver.client_id, "STATION-1"], cwd=REPO, env=env, stdout=subprocess.PIPE, text=True)
    try:
        wait_until(lambda: len(naver.dispatches) == 30 or child.poll() is not None, timeout=60,
                   what="the leader's first dispatch to be applied")
        assert child.poll() is None, "the leader ended before it was killed"
        child.send_signal(signal.SIGKILL)
        assert child.wait(10) == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(10)
        assert child.stdout is not None
        child.stdout.close()
    clock = Clock()
    other = make_uploader(db, naver_factory(naver), clock=clock, station="STATION-2")
    assert other.run_once().sent == 0  # the dead leader's lease has not lapsed yet
    clock.advance(41)
    report = other.run_once()
    assert (report.reconciled, report.sent) == (30, 40)
    assert set(states(db).values()) == {OutboxState.SENT}
    assert dispatched(naver) == Counter({pid: 1 for pid in ids}) and dispatch_posts(naver) == 2
