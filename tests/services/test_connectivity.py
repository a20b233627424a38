"""The connectivity monitor: probes, damping, listeners, jobs that pause offline and catch up online; and
the whole offline story with the uploader against the fake SmartStore going down and coming back."""

from __future__ import annotations

import json
import socket
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import delete, select

from packdesk.core import models as m
from packdesk.core.db import Database
from packdesk.core.enums import ChannelKind, OutboxState
from packdesk.services.connectivity import (
    ConnectivityMonitor,
    account_hosts,
    marketplace_probe,
    tcp_probe,
)
from packdesk.services.dispatch import OutboxCounts, Uploader
from tests.fakes.naver import FakeNaver
from tests.services.test_dispatch import Clock, add_account, dispatched, naver_factory, seed_packed, states
from tests.waiting import wait_until


class Switch:
    """A probe the test turns on and off, counting how often it was asked."""

    def __init__(self, up: bool = True) -> None:
        self.up = up
        self.calls = 0

    def __call__(self) -> bool:
        self.calls += 1
        return self.up


def inline(fn: Callable[[], None]) -> None:
    fn()


def test_state_listeners_and_damping() -> None:
    probe = Switch()
    mon = ConnectivityMonitor(probe, failures_to_offline=2, start_thread=inline)
    heard: list[bool] = []
    mon.add_listener(heard.append)
    assert mon.online and not mon.known  # before the first probe: try, don't wait
    assert mon.check_now() and heard == [True]  # the first result is always told
    assert mon.check_now() and heard == [True]  # no change, nothing told
    probe.up = False
    assert mon.check_now() and heard == [True]  # one failed probe is a blip, not an outage
    assert not mon.check_now() and heard == [True, False] and not mon.online
    assert not mon.check_now() and heard == [True, False]
    probe.up = True
    assert mon.check_now() and heard == [True, False, True]  # one good probe: back


def test_first_failed_probe_is_offline_at_once_and_probe_errors_count_as_failures(expect_warnings: Any) -> None:
    def broken() -> bool:
        raise OSError("no route")

    mon = ConnectivityMonitor(broken, start_thread=inline)
    assert not mon.check_now() and not mon.online and mon.known


def test_gated_job_skips_offline_and_runs_once_when_back() -> None:
    probe = Switch(up=False)
    mon = ConnectivityMonitor(probe, failures_to_offline=1, start_thread=inline)
    runs: list[str] = []
    job = mon.gated("collect-09:00", lambda: runs.append("collect"))
    job()  # not probed yet: runs
    assert runs == ["collect"]
    mon.check_now()
    job()
    job()  # twice skipped: made up once
    assert runs == ["collect"]
    probe.up = True
    mon.check_now()
    assert runs == ["collect", "collect"]
    mon.check_now()  # still online: nothing more to make up
    assert runs == ["collect", "collect"]


def test_failing_catch_up_and_listener_are_logged_not_raised(expect_warnings: Any) -> None:
    probe = Switch(up=False)
    mon = ConnectivityMonitor(probe, failures_to_offline=1, start_thread=inline)

    def boom(*_: object) -> None:
        raise RuntimeError("boom")

    mon.add_listener(boom)
    mon.check_now()
    mon.gated("dispatch", boom)()
    probe.up = True
    assert mon.check_now()
    messages = [r.getMessage() for r in expect_warnings.records]
    assert "connectivity listener failed" in messages and "dispatch failed after the connection came back" in messages


def test_monitor_thread_probes_on_its_own_and_stops() -> None:
    probe = Switch()
    mon = ConnectivityMonitor(probe, interval=0.01, offline_interval=0.01, failures_to_offline=1)
    heard: list[bool] = []
    mon.add_listener(heard.append)
    mon.start()
    try:
        wait_until(lambda: heard == [True], what="the first probe")
        probe.up = False
        wait_until(lambda: heard == [True, False], what="offline to be noticed")
        probe.up = True
        wait_until(lambda: heard == [True, False, True], what="online again")
    finally:
        mon.stop()
    calls = probe.calls
    mon.poke()  # stopped: nothing probes any more
    assert probe.calls == calls


def test_poke_probes_at_once() -> None:
    probe = Switch()
    mon = ConnectivityMonitor(probe, interval=3600)
    mon.start()
    try:
        wait_until(lambda: probe.calls == 1, what="the first probe")
        mon.poke()
        wait_until(lambda: probe.calls == 2, what="the poked probe")
    finally:
        mon.stop()


def test_tcp_probe_sees_a_listening_port_and_a_closed_one() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        assert tcp_probe("127.0.0.1", port, timeout=2)()
    assert not tcp_probe("127.0.0.1", port, timeout=2)()


def test_probe_targets_are_the_marketplace_accounts(db: Database) -> None:
    assert account_hosts(db) == [] and marketplace_probe(db)()  # demo shop only: nothing to be offline from
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        with db.session() as s:
            s.add(m.ChannelAccount(kind=ChannelKind.DEMO, name="데모"))
            s.add(m.ChannelAccount(kind=ChannelKind.NAVER, name="A", options=json.dumps(
                {"base_url": f"http://127.0.0.1:{port}/external"})))
            s.add(m.ChannelAccount(kind=ChannelKind.NAVER, name="B", options="{}"))
            s.add(m.ChannelAccount(kind=ChannelKind.NAVER, name="C", active=False, options="{}"))
        assert account_hosts(db) == [("127.0.0.1", port), ("api.commerce.naver.com", 443)]
        with db.session() as s:
            s.execute(delete(m.ChannelAccount).where(m.ChannelAccount.name == "B"))
        assert marketplace_probe(db, timeout=2)()
    assert not marketplace_probe(db, timeout=2)()


@pytest.fixture
def naver() -> Iterator[FakeNaver]:
    with FakeNaver(rate_limit=None) as fake:
        yield fake


def test_offline_uploads_pause_and_resume_by_themselves(db: Database, naver: FakeNaver) -> None:
    """The marketplace goes away: the monitor says offline, the uploader leaves the queue alone (no attempts
    spent, counts still published); it comes back: the monitor says online and the queue drains by itself,
    each dispatch once."""
    acc = add_account(db, naver)
    ids = seed_packed(db, acc, [naver.add_order(2), naver.add_order(1)])
    mon = ConnectivityMonitor(marketplace_probe(db, timeout=2), interval=0.02, offline_interval=0.02,
                              failures_to_offline=1)
    counts: list[OutboxCounts] = []
    up = Uploader(db, naver_factory(naver), clock=Clock(), is_online=lambda: mon.online, on_counts=counts.append)
    heard: list[bool] = []
    mon.add_listener(heard.append)
    mon.add_listener(lambda online: up.kick(retry_now=True) if online else None)
    naver.stop()
    mon.start()
    try:
        wait_until(lambda: heard == [False], what="offline")
        report = up.run_once()  # what the 30-second job does meanwhile
        assert report.skipped_accounts == 1 and counts[-1] == OutboxCounts(waiting=3)
        assert set(states(db).values()) == {OutboxState.PENDING}
        with db.session() as s:
            assert set(s.scalars(select(m.DispatchEntry.attempts))) == {0}
        naver.start()
        wait_until(lambda: heard == [False, True], what="online again")
        wait_until(lambda: up.counts() == OutboxCounts(), timeout=10, what="the queue to drain by itself")
        assert up.wait_idle(10)
    finally:
        mon.stop()
        up.close()
    assert dispatched(naver) == Counter({pid: 1 for pid in ids}) and counts[-1] == OutboxCounts()


def test_catch_up_runs_on_its_own_thread_by_default() -> None:
    probe = Switch(up=False)
    mon = ConnectivityMonitor(probe, failures_to_offline=1)
    ran = threading.Event()
    names: list[str] = []
    mon.check_now()
    mon.gated("collect", lambda: (names.append(threading.current_thread().name), ran.set()))()
    probe.up = True
    mon.check_now()
    assert ran.wait(5) and names == ["packdesk-catch-up"]
