"""Sabangnet's own words reach people: over real HTTP against the fake, a refused key, a server in
maintenance and a web server's refusal page each fail the collection run with Sabangnet's text kept with the
run (``error_params``) and rendered as words, in Korean and English, never as a bare code."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from packdesk.channels import xml_relay as relays
from packdesk.core import models as m
from packdesk.core.db import Database
from packdesk.core.enums import ChannelKind, RunStatus
from packdesk.services.accounts import AccountSpec, add_account
from packdesk.services.collect import Collector, failure_of
from packdesk.ui.messages import error_text
from tests.fakes.sabangnet import MSG_KEY, MSG_MAINTENANCE, FakeSabangnet
from tests.services.test_sabangnet_flow import free_port

IP_REFUSED = "접근이 허용되지 않은 IP 입니다. (203.0.113.5)"


@pytest.fixture
def fake() -> Iterator[FakeSabangnet]:
    with FakeSabangnet() as f:
        yield f
    relays.close_all()


def sabangnet_account(db: Database, fake: FakeSabangnet, key: str, name: str = "사방넷 본점") -> int:
    """A Sabangnet account as the collection window adds it, its request XML served on loopback."""
    port = free_port()
    account_id = add_account(db, AccountSpec(ChannelKind.SABANGNET, name, {
        "external_id": fake.company_id, "secret": key, "api_url": fake.base_url,
        "relay_public_url": f"http://127.0.0.1:{port}", "relay_port": str(port)}))
    with db.session() as s:  # tests bind the host to loopback only
        acc = s.get_one(m.ChannelAccount, account_id)
        acc.options = acc.options[:-1] + ', "relay_bind": "127.0.0.1"}'
    return account_id


def collect(db: Database, account_id: int) -> m.CollectionRun:
    now = datetime.now(UTC)
    return Collector(db).run_manual(account_id, now - timedelta(days=1), now, started_by="tester")


def test_a_refused_key_fails_the_run_with_sabangnets_words(db: Database, fake: FakeSabangnet,
                                                           expect_warnings: pytest.LogCaptureFixture) -> None:
    run = collect(db, sabangnet_account(db, fake, key="not-the-key"))
    assert (run.status, run.error_code) == (RunStatus.FAILED, "channel_auth")
    assert failure_of(run).params["message"] == MSG_KEY
    ko, en = error_text(failure_of(run))
    assert ko.startswith("마켓 인증 실패") and MSG_KEY in ko
    assert en.startswith("Marketplace login failed") and MSG_KEY in en  # Sabangnet's words as it said them
    assert "not-the-key" not in run.error_detail + run.error_params


def test_maintenance_says_what_sabangnet_said(db: Database, fake: FakeSabangnet,
                                               expect_warnings: pytest.LogCaptureFixture) -> None:
    account_id = sabangnet_account(db, fake, key=fake.auth_key)
    fake.fail_next("text_error")  # 200, Sabangnet's plain-text answer: the server is in maintenance
    run = collect(db, account_id)
    assert (run.status, run.error_code) == (RunStatus.FAILED, "channel_transient")
    ko, en = error_text(failure_of(run))
    assert ko.startswith("마켓 연결 오류") and MSG_MAINTENANCE in ko
    assert en.startswith("Marketplace connection error") and MSG_MAINTENANCE in en


def test_a_refusal_page_keeps_its_korean_text(db: Database, fake: FakeSabangnet,
                                              expect_warnings: pytest.LogCaptureFixture) -> None:
    account_id = sabangnet_account(db, fake, key=fake.auth_key)
    fake.fail_next(403, message=IP_REFUSED)  # the web server's own page, in EUC-KR
    run = collect(db, account_id)
    assert (run.status, run.error_code) == (RunStatus.FAILED, "channel_auth")
    assert failure_of(run).params["message"] == IP_REFUSED  # no <title>, no tags: the page's words
    ko, en = error_text(failure_of(run))
    assert IP_REFUSED in ko and IP_REFUSED in en
    # and a good call afterwards collects
    fake.add_order(1, status="002")
    assert collect(db, account_id).status is RunStatus.SUCCEEDED
