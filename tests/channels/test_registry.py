"""Markets are declared adapters (issue #19 §4): a registry of markets, each declaring its account fields, its
address and its abilities; the services read the registry and ask a channel's abilities by protocol, never by
``hasattr``. A fourth, fake market registered here goes through the real collector, uploader, accounts and
connectivity probe without any service module naming it (``tests/fakes/tiny_market.py``)."""

from __future__ import annotations

import ast
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from packdesk.channels import registry
from packdesk.channels.base import ChannelAuthError, close_channel
from packdesk.channels.registry import AccountSettings, Capability, Market
from packdesk.core import models as m
from packdesk.core.db import Database
from packdesk.core.enums import ChannelKind, OutboxState, RunStatus
from packdesk.services.accounts import KINDS, AccountSpec, add_account, check_connection
from packdesk.services.catalogue import CatalogueSyncer
from packdesk.services.collect import AccountNotReady, Collector, make_channel
from packdesk.services.connectivity import account_hosts
from packdesk.services.secrets import get_secret
from tests.e2e.test_day_one import label_and_link, pack_at_station, upload
from tests.fakes import tiny_market as tiny

SRC = Path(__file__).resolve().parents[2] / "src" / "packdesk"


def test_a_fourth_market_collects_and_dispatches_through_the_real_services(db: Database) -> None:
    with tiny.serving() as (shop, url), tiny.registered():
        now = datetime.now(UTC)
        shop.add_order("T-1", [("T-1-1", "CUP", "작은 컵", 2)], paid=now - timedelta(hours=1))
        assert tiny.KIND in KINDS and KINDS[tiny.KIND].label == "작은 마켓 / Tiny Market"  # offered in the form
        account_id = add_account(db, AccountSpec(tiny.KIND, "작은 가게", {
            "external_id": "shop-1", "secret": tiny.KEY, "base_url": url}))
        assert get_secret(account_id) == tiny.KEY
        with db.session() as s:
            account = s.get_one(m.ChannelAccount, account_id)
            assert account.kind == tiny.KIND and s.scalar(select(m.ChannelAccount.options)
                                                          .where(m.ChannelAccount.id == account_id)) \
                == f'{{"base_url": "{url}"}}'
        assert account_hosts(db) == [("127.0.0.1", urlsplit(url).port)]  # the connectivity probe asks its host
        check_connection(account)
        assert shop.pings == 1

        run = Collector(db).run_manual(account_id, now - timedelta(days=1), now + timedelta(minutes=5),
                                       started_by="관리자")
        assert run.status is RunStatus.SUCCEEDED and (run.orders, run.lines) == (1, 1)
        with db.session() as s:  # labelled, linked and packed at the station as any market's order
            order = s.scalars(select(m.Order).where(m.Order.account_id == account_id)).one()
            badge, barcodes = label_and_link(s, order.id, "HYUNDAI", "245612345672")
        pack_at_station(db, badge, barcodes, "245612345672")
        upload(db, 1)  # then nothing: exactly once
        assert shop.dispatched == [{"id": "T-1-1", "courier": "HYUNDAI", "tracking": "245612345672"}]
        with db.session() as s:
            assert s.scalars(select(m.DispatchEntry.state)).all() == [OutboxState.SENT]


def test_an_unknown_key_fails_the_connection_test_and_an_unregistered_market_is_not_ready(
        db: Database, expect_warnings: pytest.LogCaptureFixture) -> None:
    with tiny.serving() as (_, url), tiny.registered():
        account_id = add_account(db, AccountSpec(tiny.KIND, "틀린 키", {
            "external_id": "shop-1", "secret": "wrong", "base_url": url}))
        with db.session() as s:
            account = s.get_one(m.ChannelAccount, account_id)
        with pytest.raises(ChannelAuthError):
            check_connection(account)
        assert not CatalogueSyncer(db, make_channel).supports(account)  # it declares no catalogue
    assert tiny.KIND not in KINDS
    with db.session() as s:
        account = s.get_one(m.ChannelAccount, account_id)  # its row stays readable without its market
    assert account.kind == tiny.KIND
    with pytest.raises(AccountNotReady):
        make_channel(account)
    run = Collector(db).run_manual(account_id, datetime.now(UTC) - timedelta(hours=1), datetime.now(UTC), "관리자")
    assert run.status is RunStatus.FAILED and run.error_code == "account_not_ready"
    assert "tinymarket has no collector" in expect_warnings.text


def test_a_market_is_registered_once_and_its_kind_fits_the_column() -> None:
    with tiny.registered(), pytest.raises(ValueError, match="registered already"):
        registry.register(tiny.MARKET)
    with pytest.raises(ValueError):
        Market("x" * 25, "긴 이름 / Long", frozenset({Capability.COLLECT}), tiny.MARKET.factory)
    with pytest.raises(ValueError, match="CONFIRM"):
        Market("y", "확인 / Confirm", frozenset({Capability.COLLECT}), tiny.MARKET.factory, can_confirm=True)


def test_a_declaration_that_differs_from_its_client_is_refused_when_built() -> None:
    closed = []

    class Closing(tiny.TinyClient):
        def close(self) -> None:
            closed.append(True)
            super().close()

    lying = Market("liar", "거짓 / Liar", frozenset({Capability.COLLECT, Capability.CATALOGUE}),
                   lambda settings: Closing("http://127.0.0.1:9", "k"), can_confirm=False)
    with pytest.raises(TypeError, match=r"lacks \['CATALOGUE'\], has undeclared \['CONNECTION_TEST', 'DISPATCH', "
                                        r"'LOOK_UP'\]"):
        registry.build(lying, AccountSettings(1, "x", "", {}, "k"))
    assert closed == [True]  # what it opened is released


@pytest.mark.parametrize(("kind", "options"), [
    (ChannelKind.NAVER, {}),
    (ChannelKind.COUPANG, {"access_key": "ak"}),
    (ChannelKind.SABANGNET, {"api_url": "https://sbadmin13.sabangnet.co.kr",
                             "relay_put_url": "https://h/{name}", "relay_get_url": "https://h/{name}"}),
    (ChannelKind.DEMO, {}),
])
def test_each_built_in_market_declares_what_its_client_does(kind: ChannelKind, options: dict[str, str]) -> None:
    market = registry.market(kind)
    assert market is not None
    channel = registry.build(market, AccountSettings(1, "x", "A00012345", options, "secret"))  # checks it
    assert channel.kind is kind and registry.abilities(channel) == market.capabilities
    close_channel(channel)


def test_built_in_markets_in_the_form_order_and_their_addresses() -> None:
    from packdesk.channels import coupang, naver

    assert list(KINDS) == [ChannelKind.NAVER, ChannelKind.COUPANG, ChannelKind.SABANGNET]  # the demo shop is not added
    assert [mk.kind for mk in registry.markets()][:4] == [*KINDS, ChannelKind.DEMO]
    assert registry.market(ChannelKind.NAVER).default_address == naver.DEFAULT_BASE_URL  # type: ignore[union-attr]
    assert registry.market(ChannelKind.COUPANG).default_address == coupang.DEFAULT_BASE_URL  # type: ignore[union-attr]
    assert not registry.market(ChannelKind.DEMO).network  # type: ignore[union-attr]
    assert registry.market(ChannelKind.EXCEL) is None and registry.market(ChannelKind.MANUAL) is None


# the abilities a channel may have, as methods; and the names a channel or its client goes by
CAPABILITY_METHODS = {"collect", "confirm", "dispatch", "lookup", "follow_up", "products", "test_connection"}


def _capability_probes(source: str, where: str) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(source)):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                and node.func.id in ("hasattr", "getattr") and len(node.args) >= 2):
            continue
        target, name = ast.unparse(node.args[0]), node.args[1]
        asks_ability = isinstance(name, ast.Constant) and name.value in CAPABILITY_METHODS
        if asks_ability or "channel" in target.lower() or "client" in target.lower():
            found.append(f"{where}:{node.lineno}: {ast.unparse(node)}")
    return found


def test_no_service_or_screen_asks_a_channel_its_abilities_by_attribute() -> None:
    """``isinstance`` on the protocols of channels/base.py, or the market's declaration: a new ability is one
    protocol and one Capability, not a string spelled in four modules."""
    probes = [p for layer in ("services", "ui") for path in sorted((SRC / layer).rglob("*.py"))
              for p in _capability_probes(path.read_text(encoding="utf-8"), str(path.relative_to(SRC)))]
    assert probes == []


def test_the_probe_check_finds_what_it_looks_for() -> None:
    code = ('def f(channel, rows, self):\n    getattr(channel, "close", None)\n    hasattr(rows, "lookup")\n'
            '    getattr(rows, "close")\n    callable(getattr(self.client, "kind", None))\n')
    assert [p.split(": ", 1)[1] for p in _capability_probes(code, "sample.py")] == [
        "getattr(channel, 'close', None)", "hasattr(rows, 'lookup')", "getattr(self.client, 'kind', None)"]
