"""A Coupang account end to end, as the app builds it (``make_channel``: access key in the options, secret key
from the keyring): a collection, 발주확인 with the re-read sheet stored, a packed box through the outbox to
Coupang exactly once (롯데 sent as HYUNDAI), and the connectivity probe's host."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from packdesk.core import models as m
from packdesk.core.db import Database
from packdesk.core.enums import ChannelKind, LineStatus, OutboxState
from packdesk.services.accounts import AccountSpec, add_account
from packdesk.services.collect import Collector
from packdesk.services.connectivity import account_hosts
from packdesk.services.dispatch import Uploader
from tests.fakes.coupang import FakeCoupang


@pytest.fixture
def fake() -> Iterator[FakeCoupang]:
    with FakeCoupang(rate_limit=None) as f:
        yield f


def test_collect_confirm_pack_dispatch(db: Database, fake: FakeCoupang) -> None:
    account_id = add_account(db, AccountSpec(ChannelKind.COUPANG, "쿠팡", {
        "external_id": fake.vendor_id, "access_key": fake.access_key, "secret": fake.secret_key,
        "base_url": fake.base_url}, auto_confirm=True))
    sheet = fake.add_sheet(2, receiver={"name": "김*수", "addr1": "서울시 강남구", "addr2": "101호",
                                        "postCode": "06236"})
    host = fake.base_url.split("//", 1)[1]
    assert account_hosts(db) == [(host.split(":")[0], int(host.split(":")[1]))]

    now = datetime.now(UTC)
    run = Collector(db).run_manual(account_id, now - timedelta(days=1), now + timedelta(minutes=5), started_by="t")
    assert run.status.value == "succeeded" and (run.orders, run.lines) == (1, 2)
    with db.session() as s:
        lines = list(s.scalars(select(m.OrderLine).order_by(m.OrderLine.id)))
        assert {ln.status for ln in lines} == {LineStatus.CONFIRMED}  # auto 발주확인 after collecting
        assert lines[0].product_order_id == f"{sheet.shipment_box_id}-{sheet.vendor_item_ids[0]}"
        order = s.get_one(m.Order, lines[0].order_id)
        assert order.recipient_name == "김*수" and "101호" in order.address
        wb = m.Waybill(courier_code="HYUNDAI", tracking_number="245612345678")  # 롯데택배
        s.add(wb)
        s.flush()
        for ln in lines:
            ln.waybill_id, ln.status = wb.id, LineStatus.PACKED
            s.add(m.DispatchEntry(line_id=ln.id, account_id=account_id, product_order_id=ln.product_order_id,
                                  courier_code="HYUNDAI", tracking_number=wb.tracking_number,
                                  state=OutboxState.PENDING, next_attempt_at=now))
    assert fake.status(sheet.shipment_box_id) == "INSTRUCT"
    up = Uploader(db)
    try:
        assert up.run_once(retry_now=True).sent == 2
        assert up.run_once(retry_now=True).sent == 0
    finally:
        up.close()
    assert Counter(inv["vendorItemId"] for inv in fake.invoices) == Counter(
        {v: 1 for v in sheet.vendor_item_ids})
    assert {inv["deliveryCompanyCode"] for inv in fake.invoices} == {"HYUNDAI"}
    assert fake.status(sheet.shipment_box_id) == "DEPARTURE"
