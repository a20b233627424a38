"""Day one at a real warehouse, end to end, for SmartStore, Coupang and Sabangnet against their fakes over real
HTTP, through the product's own functions only (no row written by hand): an account added as the set-up adds it,
orders collected with no tracking number, their products linked to items, a packer added; then the waybills come
either from the courier program (export → the program's result sheet as such programs write it → import) or from
pre-printed labels bound at the station (packing slips → scan the slip, the items, the label); the station packs
every parcel; the outbox uploads; the marketplace receives each product order exactly once, with the courier and
the number of its parcel."""

from __future__ import annotations

import socket
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from packdesk.channels import xml_relay as relays
from packdesk.core import models as m
from packdesk.core.db import Database
from packdesk.core.enums import ChannelKind, PackOutcome
from packdesk.core.station import Msg
from packdesk.core.tracking import with_check_digit
from packdesk.services import mapping, slips, staff
from packdesk.services import orders as so
from packdesk.services.accounts import AccountSpec, add_account
from packdesk.services.collect import Collector
from packdesk.services.courier_sheets import (
    STARTER_BY_ID,
    ExportFilter,
    RowClass,
    export_parcels,
    guess_columns,
    import_preview,
    preview_file,
    read_result_file,
)
from packdesk.services.dispatch import Uploader
from tests.fakes.coupang import FakeCoupang
from tests.fakes.courier_program import CourierProgram
from tests.fakes.naver import FakeNaver
from tests.fakes.sabangnet import FakeSabangnet
from tests.services.test_station_service import Clock, Rig

BUYER_A = {"name": "김민지", "phone": "010-2345-6789", "zip": "06236", "addr": "서울특별시 강남구 테헤란로 7"}
BUYER_B = {"name": "박서준", "phone": "010-8765-4321", "zip": "48058", "addr": "부산광역시 해운대구 센텀로 1"}


@dataclass
class Market:
    """One marketplace's fake, seen as the product sees it, and what it received."""

    kind: ChannelKind
    spec: Callable[[], AccountSpec]
    seed: Callable[[], None]                       # two orders of buyer A (합포장) and one of buyer B
    sent: Callable[[], list[tuple[str, str, str]]]  # (product order, courier code as the market has it, number)
    courier: str                                    # how the market writes CJ대한통운


class Now(Clock):
    """The station's clock at the real time: the marketplaces check a dispatch date against the order's."""

    def __call__(self) -> datetime:
        return datetime.now(UTC)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def naver_market(fake: FakeNaver) -> Market:
    def seed() -> None:
        for buyer, n in ((BUYER_A, 2), (BUYER_A, 1), (BUYER_B, 1)):
            fake.add_order(n, placeOrderStatus="OK", shippingAddress={
                "name": buyer["name"], "tel1": buyer["phone"], "zipCode": buyer["zip"],
                "baseAddress": buyer["addr"], "detailedAddress": "1층"})

    return Market(
        ChannelKind.NAVER,
        lambda: AccountSpec(ChannelKind.NAVER, "내 스마트스토어", {
            "external_id": fake.client_id, "secret": fake.client_secret, "base_url": fake.base_url}),
        seed,
        lambda: [(d["productOrderId"], d["deliveryCompanyCode"], d["trackingNumber"]) for d in fake.dispatches],
        "CJGLS")


def coupang_market(fake: FakeCoupang) -> Market:
    def seed() -> None:
        for buyer, n in ((BUYER_A, 2), (BUYER_A, 1), (BUYER_B, 1)):
            fake.add_sheet(n, receiver={"name": buyer["name"], "safeNumber": buyer["phone"],
                                        "addr1": buyer["addr"], "addr2": "1층", "postCode": buyer["zip"]})

    return Market(
        ChannelKind.COUPANG,
        lambda: AccountSpec(ChannelKind.COUPANG, "쿠팡", {
            "external_id": fake.vendor_id, "access_key": fake.access_key, "secret": fake.secret_key,
            "base_url": fake.base_url}, auto_confirm=True),
        seed,
        lambda: [(f"{i['shipmentBoxId']}-{i['vendorItemId']}", i["deliveryCompanyCode"], i["invoiceNumber"])
                 for i in fake.invoices],
        "CJGLS")


def sabangnet_market(fake: FakeSabangnet) -> Market:
    port = free_port()

    def seed() -> None:
        for buyer, n in ((BUYER_A, 2), (BUYER_A, 1), (BUYER_B, 1)):
            fake.add_order(n, status="002", RECEIVE_NAME=buyer["name"], RECEIVE_TEL=buyer["phone"],
                           RECEIVE_CEL=buyer["phone"], RECEIVE_ZIPCODE=buyer["zip"], RECEIVE_ADDR=buyer["addr"])

    return Market(
        ChannelKind.SABANGNET,
        lambda: AccountSpec(ChannelKind.SABANGNET, "사방넷", {
            "external_id": fake.company_id, "secret": fake.auth_key, "api_url": fake.base_url,
            "relay_public_url": f"http://127.0.0.1:{port}", "relay_port": str(port)}),
        seed,
        lambda: [(str(i["idx"]), i["tak_code"], i["tak_invoice"]) for i in fake.invoices],
        "001")


@pytest.fixture(params=["smartstore", "coupang", "sabangnet"])
def market(request: pytest.FixtureRequest) -> Iterator[Market]:
    if request.param == "smartstore":
        with FakeNaver(rate_limit=None) as naver:
            yield naver_market(naver)
    elif request.param == "coupang":
        with FakeCoupang(rate_limit=None) as coupang:
            yield coupang_market(coupang)
    else:
        with FakeSabangnet() as sabangnet:
            yield sabangnet_market(sabangnet)
        relays.close_all()


@dataclass
class Shop:
    db: Database
    account: int
    badge: str
    barcodes: dict[int, str]  # item id -> its barcode, as printed on the goods


def open_shop(db: Database, market: Market) -> Shop:
    """The morning: the account (as the set-up adds it), a packer, the orders collected, their products linked."""
    account = add_account(db, market.spec())
    if market.kind is ChannelKind.SABANGNET:  # the request-XML host listens on loopback only in tests
        with db.session() as s:
            acc = s.get_one(m.ChannelAccount, account)  # (an option of the account, not an order row)
            acc.options = acc.options[:-1] + ', "relay_bind": "127.0.0.1"}'
    with db.session() as s:
        badge = staff.add_packer(s, "김포장").badge_code
    market.seed()
    now = datetime.now(UTC)
    run = Collector(db).run_manual(account, now - timedelta(days=1), now + timedelta(minutes=5), started_by="관리자")
    assert run.status.value == "succeeded" and run.lines == 4, (run.status, run.error_code, run.error_detail)
    with db.session() as s:
        products = [r for r in mapping.list_sales_products(s, mapping.ProductFilter(limit=None))
                    if r.account_id == account]
        made = [mapping.NewItem(p.id, f"SKU-{n}", p.product_name, p.option_name, (f"880100000{n:04d}",))
                for n, p in enumerate(products)]
        mapping.create_items(s, made)
        barcodes = {it.id: it.barcodes[0].barcode for it in s.scalars(select(m.Item))}
    with db.session() as s:  # nothing is packable yet: every collected line waits in a parcel for its label
        waiting = [so.order_detail(s, r.id) for r in so.search_orders(s) if r.account_id == account]
        assert len(waiting) == 3 and all(d.needs_waybill and not d.row.waybills for d in waiting)
        assert len({d.parcel_key for d in waiting}) == 2  # buyer A's two orders are one box (합포장)
    return Shop(db, account, badge, barcodes)


def label_and_link(s: Any, order_id: int, courier: str, number: str) -> tuple[str, dict[int, str]]:
    """A supervisor's morning for one collected order, through the product: every sales product linked to a new
    item (its barcode as on the goods), the label's number typed in, a packer added. (badge, item id -> barcode)"""
    products = mapping.list_sales_products(s, mapping.ProductFilter(limit=None))
    mapping.create_items(s, [mapping.NewItem(p.id, f"SKU-{n}", p.product_name, p.option_name, (f"88010{n:08d}",))
                             for n, p in enumerate(products)])
    so.attach_tracking(s, order_id, courier, number, "관리자")
    badge = staff.add_packer(s, "김포장").badge_code
    return badge, {it.id: it.barcodes[0].barcode for it in s.scalars(select(m.Item))}


def pack(rig: Rig, barcodes: dict[int, str], opening_code: str, label: str | None = None) -> None:
    """A packer opens the box by ``opening_code`` (waybill or slip) and scans what the screen lists."""
    rig.scan(opening_code)
    assert rig.message in (Msg.PACK_STARTED, Msg.PACK_STARTED_PARTLY_CANCELLED), rig.message
    pack_ = rig.svc.state.pack
    assert pack_ is not None
    for item_id, units in pack_.plan.expected().items():
        for _ in range(units):
            rig.scan(barcodes[item_id])
    if label is not None:
        assert rig.message is Msg.SCAN_LABEL
        rig.scan(label)
    assert rig.message is Msg.PACK_COMPLETE, rig.message


def pack_at_station(db: Database, badge: str, barcodes: dict[int, str], *opening_codes: str) -> None:
    """A packer signs in with ``badge`` and packs each box opened by one of ``opening_codes``."""
    rig = Rig(db, clock=Now())
    try:
        rig.scan(badge)
        for code in opening_codes:
            pack(rig, barcodes, code)
    finally:
        rig.worker.close()


def upload(db: Database, expected: int = 4) -> None:
    """The uploader's pass sends ``expected`` tracking numbers; the next sends none: never twice."""
    up = Uploader(db)
    try:
        assert up.run_once(retry_now=True).sent == expected
        assert up.run_once(retry_now=True).sent == 0  # never twice
    finally:
        up.close()


def parcels_by_key(db: Database) -> dict[str, list[str]]:
    with db.session() as s:
        rows = s.execute(select(m.Parcel.key, m.OrderLine.product_order_id)
                         .join(m.OrderLine, m.OrderLine.parcel_id == m.Parcel.id)).all()
    out: dict[str, list[str]] = {}
    for key, pid in rows:
        out.setdefault(key, []).append(pid)
    return out


def assert_received(market: Market, db: Database, number_of: dict[str, str]) -> None:
    """Each product order once, with the courier and the number of its parcel."""
    sent = market.sent()
    assert Counter(pid for pid, _, _ in sent) == Counter({pid: 1 for pid in number_of})
    for pid, courier, number in sent:
        assert (courier, number.replace("-", "")) == (market.courier, number_of[pid])


@pytest.mark.parametrize("fmt", ["xlsx", "csv-cp949"])
def test_courier_program_round_trip_then_pack_and_dispatch(db: Database, market: Market, tmp_path: Path,
                                                           fmt: Any) -> None:
    shop = open_shop(db, market)
    template = STARTER_BY_ID["cj"]
    export = tmp_path / "cj-upload.xlsx"
    with db.session() as s:
        exported = export_parcels(s, template, export, ExportFilter())
    assert exported.parcels == 2
    # the courier program: title row, numbers with dashes / as numbers / as floats, in its own format
    result = tmp_path / ("cj-result.xlsx" if fmt == "xlsx" else "cj-result.csv")
    issued = CourierProgram().run(export, result, fmt, numbers="mixed")
    rf = read_result_file(result, template=template)
    preview = preview_file(db, template, rf, guess_columns(rf.sheet, template))
    assert preview.count(RowClass.MATCHED) == 2 and preview.failures == ()
    assert import_preview(db, preview, by="관리자").bound == 2
    again = preview_file(db, template, read_result_file(result, template=template), guess_columns(rf.sheet, template))
    assert again.count(RowClass.ALREADY) == 2 and again.count(RowClass.MATCHED) == 0  # re-import: no change

    number_of_key = {i.reference: i.number for i in issued}
    pack_at_station(db, shop.badge, shop.barcodes, *number_of_key.values())  # by the courier's label on each box
    upload(db)
    assert_received(market, db, {pid: number_of_key[key] for key, pids in parcels_by_key(db).items()
                                 for pid in pids})


def test_pre_printed_labels_bound_at_the_station_then_dispatch(db: Database, market: Market) -> None:
    shop = open_shop(db, market)
    with db.session() as s:
        day = slips.for_day(s, None, account_id=shop.account)  # the morning's packing slips
    assert len(day) == 2
    labels = {slip.parcel_key: with_check_digit(f"6000123450{n}") for n, slip in enumerate(day)}  # label stock
    rig = Rig(db, clock=Now())
    try:
        rig.scan(shop.badge)
        for key, label in labels.items():
            misread = label[:-1] + str((int(label[-1]) + 1) % 10)
            rig.scan(key)
            pack_ = rig.svc.state.pack
            assert pack_ is not None
            for item_id, units in pack_.plan.expected().items():
                for _ in range(units):
                    rig.scan(shop.barcodes[item_id])
            assert rig.message is Msg.SCAN_LABEL
            rig.scan(misread)  # a smudged label: refused before it binds, the pack waits
            assert rig.message is Msg.LABEL_INVALID and rig.svc.state.pack is not None
            rig.scan(label)
            assert rig.message is Msg.PACK_COMPLETE
    finally:
        rig.worker.close()
    with db.session() as s:
        outcomes = s.scalars(select(m.PackSession.outcome)).all()
    assert outcomes == [PackOutcome.COMPLETED] * 2
    upload(db)
    assert_received(market, db, {pid: labels[key] for key, pids in parcels_by_key(db).items() for pid in pids})
