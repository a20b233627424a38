"""A Sabangnet account end to end, as the app builds it (``make_channel``: secret from the keyring, the shared
request-XML host): a scheduled collection, a pack's lines through the outbox to Sabangnet exactly once, a
later cancellation seen by the next collection, and the connectivity probe's host."""

from __future__ import annotations

import socket
from collections import Counter
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from packdesk.channels import xml_relay as relays
from packdesk.core import models as m
from packdesk.core.db import Database
from packdesk.core.enums import ChannelKind, LineStatus
from packdesk.services import orders as so
from packdesk.services.accounts import AccountSpec, add_account
from packdesk.services.collect import Collector
from packdesk.services.connectivity import account_hosts
from tests.e2e.test_day_one import label_and_link, pack_at_station, upload
from tests.fakes.sabangnet import FakeSabangnet


@pytest.fixture
def fake() -> Iterator[FakeSabangnet]:
    with FakeSabangnet() as f:
        yield f
    relays.close_all()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_collect_pack_dispatch_and_cancel(db: Database, fake: FakeSabangnet) -> None:
    port = free_port()
    account_id = add_account(db, AccountSpec(ChannelKind.SABANGNET, "사방넷", {
        "external_id": fake.company_id, "secret": fake.auth_key, "api_url": fake.base_url,
        "relay_public_url": f"http://127.0.0.1:{port}", "relay_port": str(port)}))
    with db.session() as s:  # tests bind the host to loopback only
        acc = s.get_one(m.ChannelAccount, account_id)
        acc.options = acc.options[:-1] + ', "relay_bind": "127.0.0.1"}'
    first = fake.add_order(2, RECEIVE_NAME="김수취", status="002")
    second = fake.add_order(1, status="002")
    assert account_hosts(db) == [("127.0.0.1", int(fake.base_url.rsplit(":", 1)[1].split("/")[0]))]

    collector = Collector(db)
    (run,) = collector.run_scheduled()
    assert run.status.value == "succeeded" and (run.orders, run.lines) == (2, 3)
    with db.session() as s:
        lines = {ln.product_order_id: ln for ln in s.scalars(select(m.OrderLine))}
        assert lines[str(first[0].idx)].status is LineStatus.CONFIRMED
        assert lines[str(first[0].idx)].product_code in (first[0].fields.get("SKU_ID"), first[0].fields["PRODUCT_ID"])
        order = s.scalars(select(m.Order).where(m.Order.recipient_name == "김수취")).one()
        assert order.order_no.startswith(first[0].order_id)
    # the first order's label typed in (with dashes, as printed), its products linked, and packed at the station
    with db.session() as s:
        badge, barcodes = label_and_link(s, so.search_orders(s, "김수취")[0].id, "CJGLS", "6550-1234-5676")
    pack_at_station(db, badge, barcodes, "655012345676")
    upload(db, 2)  # then nothing: exactly once
    assert Counter(str(inv["idx"]) for inv in fake.invoices) == Counter({str(x.idx): 1 for x in first})
    assert {inv["tak_invoice"] for inv in fake.invoices} == {"655012345676"}  # sent without dashes
    assert {fake.line(x.idx).delivery_id for x in first} == {"001"}  # CJ in Sabangnet's codes

    fake.set_status(second[0].idx, "007")  # the buyer asks to cancel
    (again,) = collector.run_scheduled()
    assert again.cancel_requested == 1
    with db.session() as s:
        assert s.scalars(select(m.OrderLine.status).where(
            m.OrderLine.product_order_id == str(second[0].idx))).one() is LineStatus.CANCEL_REQUESTED
