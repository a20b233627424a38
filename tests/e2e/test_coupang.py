"""A Coupang day end to end (issue #22), against the fake Wing server built from Coupang's docs, with only the
product's own windows and functions: the account typed into the collection window (auto-confirm ticked by
default, a courier code of its own), *Collect now*, products linked, each order's label number typed in by a
supervisor (the day-one flow), packing at the station with a wedge scanner, and the outbox's upload.

The day holds: an engraved item whose text the packer sees beside it; an order cancelled before packing (the
next collection notices it though Coupang lists it no more, and the station refuses its waybill); one cancelled
after packing (its upload is held: pull the parcel); a box split in WING (its other items go as a split
shipment); and a courier code Coupang does not know (named in the outbox, fixed in the account, resent)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from PySide6.QtCore import QDateTime, Qt
from PySide6.QtGui import QInputMethodEvent
from PySide6.QtWidgets import QApplication, QInputDialog
from sqlalchemy import select

from packdesk.core import models as m
from packdesk.core.enums import ChannelKind, LineStatus, OutboxState, RunStatus
from packdesk.services.accounts import set_paused
from packdesk.services.settings import CollectionSettings, Settings
from packdesk.services.staff import list_staff
from packdesk.ui.collect_runs import COUNTS
from tests import coupang_shop as shop
from tests.fakes.coupang import FakeCoupang
from tests.ui.conftest import Packer
from tests.ui.test_collect_view import click, settled
from tests.ui.test_outbox_view import open_from_menu, row_texts
from tests.waiting import wait_until

pytestmark = pytest.mark.gui


@pytest.fixture
def fake() -> Iterator[FakeCoupang]:
    with FakeCoupang(rate_limit=None) as f:
        yield f


def collect_now(qtbot: Any, w: Any) -> None:
    """*Collect now* over the last day, as a supervisor presses it; waits for the run to end."""
    w.from_edit.setDateTime(QDateTime.currentDateTime().addDays(-1))
    w.to_edit.setDateTime(QDateTime.currentDateTime().addSecs(300))
    with qtbot.waitSignal(w.run_finished, timeout=20_000):
        qtbot.mouseClick(w.collect_button, Qt.MouseButton.LeftButton)


def entry_states(st: Any) -> dict[str, tuple[OutboxState, str]]:
    with st.db.session() as s:
        return {e.product_order_id: (e.state, e.last_error_code) for e in s.scalars(select(m.DispatchEntry))}


def line_of(st: Any, pid: str) -> m.OrderLine:
    with st.db.session() as s:
        return s.scalars(select(m.OrderLine).where(m.OrderLine.product_order_id == pid)).one()


def test_a_coupang_day(make_station, qtbot, fake, monkeypatch, expect_warnings) -> None:  # type: ignore[no-untyped-def]
    engraved = fake.add_sheet([{"etcInfoValues": ["각인 문구: 사랑해"]}, {}], receiver=shop.receiver(0))
    early = fake.add_sheet(1, receiver=shop.receiver(1))          # cancelled before packing
    late = fake.add_sheet(1, receiver=shop.receiver(2))           # cancelled after packing
    split = fake.add_sheet(3, status="INSTRUCT", receiver=shop.receiver(3))
    fake.ship_split(split.shipment_box_id, [split.vendor_item_ids[0]], "612345678901")   # done in WING
    hanjin = fake.add_sheet(1, receiver=shop.receiver(4))         # goes by 한진, whose code the account got wrong

    st = make_station(Settings(recorder="off", demo_channel=False, collection=CollectionSettings(enabled=False)),
                      packers=("박포장",))
    with st.db.session() as s:
        badge = next(p.badge_code for p in list_staff(s) if p.name == "박포장")

    # the account, typed into the collection window; *Collect now*
    w = st.window.open_collect()
    settled(qtbot, w)
    w.kind_combo.setCurrentIndex(w.kind_combo.findData(ChannelKind.COUPANG))
    assert w.auto_confirm.isChecked()                             # what a Coupang seller expects
    ime = QInputMethodEvent("", [])
    ime.setCommitString("쿠팡 윙")
    QApplication.sendEvent(w.name_edit, ime)
    form = w.kind_forms[ChannelKind.COUPANG]
    for key, text in (("external_id", fake.vendor_id), ("access_key", fake.access_key), ("secret", fake.secret_key),
                      ("base_url", fake.base_url), ("courier_codes", "HANJIN=HANJIN_OLD")):
        qtbot.keyClicks(form[key], text)
    click(qtbot, w, w.add_button)
    with st.db.session() as s:
        account = s.scalars(select(m.ChannelAccount).where(m.ChannelAccount.name == "쿠팡 윙")).one().id
    w.account_combo.setCurrentIndex(w.account_combo.findData(account))
    collect_now(qtbot, w)
    assert "완료: 주문 5건, 신규 8건" in w.message.text()
    assert fake.status(engraved.shipment_box_id) == "INSTRUCT"    # confirmed after collecting
    shipped_in_wing = f"{split.shipment_box_id}-{split.vendor_item_ids[0]}"
    assert line_of(st, shipped_in_wing).status is LineStatus.SHIPPED

    # products linked to shipping items; each order's label number typed in by a supervisor
    shop.link_products(st.db, account)
    numbers = {s.shipment_box_id: shop.give_waybill(st.db, account, s.order_id, f"6500000{n:04d}")
               for n, s in enumerate((engraved, early, late, split))}
    numbers[hanjin.shipment_box_id] = shop.give_waybill(st.db, account, hanjin.order_id, "41234567890",
                                                        courier="HANJIN")

    # the buyer cancels ``early``: Coupang lists it no more; the next collection notices it all the same
    fake.cancel(early.shipment_box_id)
    collect_now(qtbot, w)
    assert "취소 1" in w.runs.item(0, COUNTS).text()              # one line cancelled
    assert line_of(st, f"{early.shipment_box_id}-{early.vendor_item_ids[0]}").status is LineStatus.CANCELLED
    w.reject()

    set_paused(st.db, account, True)   # the supervisor holds uploads while the morning's boxes are packed
    p = Packer(qtbot, st)
    p.scan(badge)
    p.scan(numbers[early.shipment_box_id])
    assert "취소된 주문입니다" in p.banner() and p.sounds[-1] == "error"

    p.scan(numbers[engraved.shipment_box_id])
    mug, other = (fake.sheet(engraved.shipment_box_id)["orderItems"][i] for i in (0, 1))
    assert p.view.instruction_texts() == [(mug["sellerProductName"], "각인 문구: 사랑해")]   # big, beside the item
    p.scan(shop.barcode_of(str(mug["vendorItemId"])))
    p.scan(shop.barcode_of(str(other["vendorItemId"])))
    assert p.banner().startswith("포장 완료")  # the completed box stays on screen until the next waybill

    for box in (late, split, hanjin):
        p.scan(numbers[box.shipment_box_id])
        for it in fake.sheet(box.shipment_box_id)["orderItems"]:
            if f"{box.shipment_box_id}-{it['vendorItemId']}" != shipped_in_wing:
                p.scan(shop.barcode_of(str(it["vendorItemId"])))
        assert p.banner().startswith("포장 완료"), p.banner()

    fake.cancel(late.shipment_box_id)                             # cancelled after packing
    set_paused(st.db, account, False)
    uploader = st.background.uploader
    uploader.run_once(retry_now=True)
    assert uploader.wait_idle(10)
    states = entry_states(st)
    late_pid = f"{late.shipment_box_id}-{late.vendor_item_ids[0]}"
    hanjin_pid = f"{hanjin.shipment_box_id}-{hanjin.vendor_item_ids[0]}"
    assert states.pop(late_pid) == (OutboxState.HELD, "line_cancelled")          # pull the parcel
    assert states.pop(hanjin_pid) == (OutboxState.REJECTED, "coupang_courier_rejected")
    assert {state for state, _ in states.values()} == {OutboxState.SENT}         # the others did not wait
    assert len(states) == 4                                       # engraved ×2, the split box's other two
    assert line_of(st, late_pid).status is LineStatus.CANCELLED
    split_sent = [d for d in fake.invoices if d["shipmentBoxId"] == split.shipment_box_id
                  and d["invoiceNumber"] == numbers[split.shipment_box_id]]
    assert [(d["vendorItemId"], d["splitShipping"], d["preSplitShipped"]) for d in split_sent] == [
        (vid, True, True) for vid in split.vendor_item_ids[1:]]
    assert not [d for d in fake.invoices if d["shipmentBoxId"] in (late.shipment_box_id, early.shipment_box_id)]

    # the outbox names the courier problem; the supervisor fixes the account's codes and resends from there
    view = open_from_menu(st)
    qtbot.waitUntil(lambda: view.tables["rejected"].rowCount() == 1 and view.tables["held"].rowCount() == 1,
                    timeout=5000)
    (said,) = row_texts(view, "rejected", 8)
    assert "쿠팡이 모르는 택배사 코드" in said and "HANJIN → HANJIN_OLD" in said
    assert "택배를 빼세요" in row_texts(view, "held", 8)[0]
    view.reject()
    w = st.window.open_collect()
    settled(qtbot, w)
    w.accounts.selectRow(next(r for r in range(w.accounts.rowCount()) if w.accounts.item(r, 0).text() == "쿠팡 윙"))
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("", True))        # the wrong code removed
    click(qtbot, w, w.courier_codes_button)
    assert "Courier codes: none" in w.account_message.text()
    w.reject()
    view = open_from_menu(st)
    qtbot.waitUntil(lambda: view.tables["rejected"].rowCount() == 1, timeout=5000)
    view.select("rejected", [view.entries["rejected"][0].id])
    assert view.courier_combo.currentText() == "한진택배 (HANJIN)"  # the entry's courier, chosen in the list
    with qtbot.waitSignal(view.action_done, timeout=5000):
        qtbot.mouseClick(view.resend_button, Qt.MouseButton.LeftButton)
    wait_until(lambda: entry_states(st)[hanjin_pid][0] is OutboxState.SENT, timeout=10, what="the resend to go",
               interval=0.05)
    view.reject()
    assert [d["deliveryCompanyCode"] for d in fake.invoices if d["shipmentBoxId"] == hanjin.shipment_box_id] == \
        ["HANJIN"]
    with st.db.session() as s:
        runs = s.scalars(select(m.CollectionRun).order_by(m.CollectionRun.id)).all()
    assert [r.status for r in runs] == [RunStatus.SUCCEEDED] * 2
