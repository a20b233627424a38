"""Pre-printed labels bound at the station, through the real window as a supervisor and a packer use it: a
Coupang order collected from the fake (no tracking number), its products linked to items, its packing slip
printed from the orders window (PDF, read back by a decoder), the slip's barcode scanned at scanner speed,
the items, a misread label (refused, the pack waits), the right label: complete, and the outbox holds one
dispatch per line with that number."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication, QFileDialog
from sqlalchemy import select

from packdesk.core import models as m
from packdesk.core.enums import ChannelKind, LineStatus, PackOutcome
from packdesk.core.tracking import with_check_digit
from packdesk.services import mapping
from packdesk.services.accounts import AccountSpec, add_account
from packdesk.services.collect import Collector
from packdesk.ui.slips_view import SlipDialog
from tests.fakes.coupang import FakeCoupang
from tests.ui.conftest import Packer
from tests.ui.test_orders_view import TIMEOUT, back_to_station, click, open_orders
from tests.ui.test_packing_slip import codes, pdf_pages

pytestmark = pytest.mark.gui

LABEL = with_check_digit("56123456789")                  # CJ대한통운, the settings' default courier
MISREAD = LABEL[:-1] + str((int(LABEL[-1]) + 3) % 10)    # one digit read wrong: the check digit catches it
ITEMS = ("CPG-MUG-01", "CPG-TEA-02")


@pytest.fixture
def fake() -> Iterator[FakeCoupang]:
    with FakeCoupang(rate_limit=None) as f:
        yield f


def collect_and_link(station, fake: FakeCoupang) -> str:  # type: ignore[no-untyped-def]
    """A Coupang order as it arrives (no waybill), collected as the app does, its two products linked to
    items made for them (barcodes as on the goods); returns its order number."""
    db = station.db
    account = add_account(db, AccountSpec(ChannelKind.COUPANG, "쿠팡", {
        "external_id": fake.vendor_id, "access_key": fake.access_key, "secret": fake.secret_key,
        "base_url": fake.base_url}, auto_confirm=True))
    fake.add_sheet(2, receiver={"name": "김*지", "addr1": "서울특별시 강남구 테헤란로 7", "addr2": "301호",
                                "postCode": "06236"})
    now = datetime.now(UTC)
    run = Collector(db).run_manual(account, now - timedelta(days=1), now + timedelta(minutes=5), started_by="t")
    assert run.status.value == "succeeded" and run.lines == 2
    with db.session() as s:
        products = [r for r in mapping.list_sales_products(s, mapping.ProductFilter(limit=None))
                    if r.account_id == account]
        mapping.create_items(s, [mapping.NewItem(p.id, sku, p.product_name, p.option_name, (sku,))
                                 for p, sku in zip(products, ITEMS, strict=True)])
        return s.scalars(select(m.Order.order_no).where(m.Order.account_id == account)).one()


def test_print_the_slip_scan_it_pack_and_bind_the_label(station, qtbot, tmp_path: Path, fake: FakeCoupang,  # type: ignore[no-untyped-def]
                                                        monkeypatch) -> None:
    order_no = collect_and_link(station, fake)
    p = Packer(qtbot, station)

    # the supervisor prints the order's packing slip from the orders window
    w = open_orders(station, qtbot)
    w.search_edit.setText(order_no)
    w.search()
    qtbot.waitUntil(lambda: w.detail is not None and w.detail.row.order_no == order_no, timeout=TIMEOUT)
    with qtbot.waitSignal(w.slips_opened, timeout=TIMEOUT) as opened:
        click(qtbot, w.slips_button)
    dialog = opened.args[0]
    assert isinstance(dialog, SlipDialog) and dialog.selection_radio.isChecked() and order_no in \
        dialog.selection_radio.text()
    target = tmp_path / "slips.pdf"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), "PDF (*.pdf)"))
    with qtbot.waitSignal(dialog.saved, timeout=TIMEOUT):
        click(qtbot, dialog.save_button)
    assert [s.order_nos for s in dialog.printed] == [(order_no,)]
    (page,) = pdf_pages(target)
    (key,) = codes(page)  # the parcel's barcode, and nothing else to scan on the paper
    assert key == dialog.printed[0].parcel_key and key.startswith("PD-P-")
    click(qtbot, dialog.close_button)
    back_to_station(station, qtbot, w)

    # the packer opens the parcel with the slip, packs, and binds the label stuck on the box
    p.scan("PD-PACKER-001")
    p.scan(key)
    assert "포장 시작" in p.banner() and key in p.banner() and p.sounds[-1] == "ok"
    assert key in p.view.waybill_label.text() and "김*지" in p.view.waybill_label.text()
    assert not p.view.label_prompt.isVisible()
    p.scan(ITEMS[0])
    p.scan("PD-CMD-COMPLETE")  # too early: an item is missing
    assert "남았습니다" in p.banner() and p.level() == "error"
    p.scan(ITEMS[1])
    assert p.banner() == "택배 송장(라벨)을 스캔하세요" and p.view.banner_en.text() == "Scan the courier label"
    assert p.sounds[-1] == "label" and p.level() == "warning" and p.view.label_prompt.isVisible()
    p.scan(MISREAD)
    assert "송장 라벨 거부" in p.banner() and "Label refused" in p.view.banner_en.text() and MISREAD in p.banner()
    assert p.level() == "error" and p.sounds[-1] == "error"
    assert station.service.state.pack is not None and p.view.label_prompt.isVisible()  # still waiting for it
    p.scan("PD-CMD-COMPLETE")
    assert "송장 라벨을 먼저 스캔하세요" in p.banner()
    with station.db.session() as s:
        assert s.scalar(select(m.Parcel.waybill_id).where(m.Parcel.key == key)) is None  # nothing bound yet
    p.scan(LABEL)
    assert p.banner() == f"포장 완료: {LABEL}" and p.sounds[-1] == "complete" and p.level() == "success"
    assert not p.view.label_prompt.isVisible() and station.service.state.pack is None
    assert all(have == need for have, need in (t.split(" / ") for _, t in p.view.row_texts()))  # the box, all in
    assert station.service.worker.wait_idle(5)
    with station.db.session() as s:
        lines = s.scalars(select(m.OrderLine).join(m.Order, m.Order.id == m.OrderLine.order_id)
                          .where(m.Order.order_no == order_no)).all()
        assert len(lines) == 2 and {ln.status for ln in lines} == {LineStatus.PACKED}
        outbox = s.execute(select(m.DispatchEntry.line_id, m.DispatchEntry.courier_code,
                                  m.DispatchEntry.tracking_number)).all()
        assert sorted(outbox) == sorted((ln.id, "CJGLS", LABEL) for ln in lines)
        ps = s.scalars(select(m.PackSession).where(m.PackSession.outcome == PackOutcome.COMPLETED)).one()
        assert ps.parcel_id is not None and ps.waybill_id == lines[0].waybill_id
    assert QApplication.activeWindow() is station.window
