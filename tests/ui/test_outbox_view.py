"""The dispatch outbox in the real station window: the status bar says online/offline and how many
dispatches wait; a supervisor sees refusals in the marketplace's words, fixes a courier code and resends,
marks a held (cancelled) parcel handled; a pack made while offline waits and goes out once back online."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QInputMethodEvent
from PySide6.QtWidgets import QApplication, QMessageBox
from sqlalchemy import select

from packdesk.channels.demo import BARCODE, Scenario
from packdesk.core import models as m
from packdesk.core.enums import ChannelKind, LineStatus, OutboxState
from packdesk.core.words import CATALOGUE
from packdesk.services import mapping
from packdesk.services import orders as so
from packdesk.services.accounts import AccountSpec, add_account
from packdesk.services.collect import Collector
from packdesk.ui.outbox_view import OutboxView, reason_text
from tests.fakes.naver import FakeNaver
from tests.ui.conftest import Packer
from tests.ui.picking import pick

pytestmark = pytest.mark.gui


def outbox_entry(station: Any, scenario: str, state: OutboxState, *, courier: str = "CJGLS", code: str = "",
                 message: str = "", line_status: LineStatus = LineStatus.PACKED, due_in: float = 0) -> int:
    """An outbox entry for the first line of a demo waybill, as the uploader would have left it."""
    now = datetime.now(UTC)
    with station.db.session() as s:
        wb = s.scalars(select(m.Waybill).where(m.Waybill.tracking_number == scenario)).one()
        line = s.scalars(select(m.OrderLine).where(m.OrderLine.waybill_id == wb.id).order_by(m.OrderLine.id)).first()
        line.status = line_status
        e = m.DispatchEntry(line_id=line.id, account_id=line.account_id, product_order_id=line.product_order_id,
                            courier_code=courier, tracking_number=scenario, state=state, attempts=1,
                            next_attempt_at=now + timedelta(seconds=due_in), last_error_code=code,
                            last_error_message=message, created_at=now)
        s.add(e)
        s.flush()
        return e.id


def state_of(station: Any, entry_id: int) -> m.DispatchEntry:
    with station.db.session() as s:
        return s.get_one(m.DispatchEntry, entry_id)


def open_from_menu(station: Any) -> OutboxView:
    """File → 발송 대기함 / Dispatch outbox…, as a supervisor opens it."""
    window = station.window
    file_menu = window.menuBar().actions()[0].menu()
    next(a for a in file_menu.actions() if a.text() == "발송 대기함… / Dispatch outbox…").trigger()
    view = window.findChild(OutboxView)
    assert view is not None and view.isVisible()
    return view


def type_hangul(widget: Any, text: str) -> None:
    """Hangul arrives through the input method, not as key presses."""
    ime = QInputMethodEvent("", [])
    ime.setCommitString(text)
    QApplication.sendEvent(widget, ime)


def close_view(qtbot: Any, view: OutboxView) -> None:
    view.reject()
    qtbot.waitUntil(lambda: not view._reading, timeout=5000)


def row_texts(view: OutboxView, key: str, col: int) -> list[str]:
    t = view.tables[key]
    return [t.item(r, col).text() for r in range(t.rowCount())]


def test_supervisor_resends_with_a_fixed_courier_and_marks_a_held_parcel_handled(  # type: ignore[no-untyped-def]
        qtbot, station, monkeypatch) -> None:
    window = station.window
    qtbot.waitUntil(lambda: window.online_label.text() == "● 온라인", timeout=5000)  # demo: no network
    rejected = outbox_entry(station, Scenario.SIMPLE, OutboxState.REJECTED, courier="CJ", code="000400",
                            message="요청이 올바르지 않습니다. (HttpMessageNotReadableException)")
    held = outbox_entry(station, Scenario.CANCEL_REQUESTED, OutboxState.HELD, code="line_cancel_requested",
                        line_status=LineStatus.CANCEL_REQUESTED)
    waiting = outbox_entry(station, Scenario.TEA_SET, OutboxState.PENDING, code="channel_transient", due_in=3600)
    window.deps.uploader.publish_counts()
    qtbot.waitUntil(lambda: window.outbox_label.text() == "전송 대기 1 · 거부 1 · 보류 1", timeout=5000)
    assert "color: #b71c1c" in window.outbox_label.styleSheet()  # refusals and holds want a supervisor

    view = open_from_menu(station)
    qtbot.waitUntil(lambda: view.tables["rejected"].rowCount() == 1, timeout=5000)
    assert view.tabs.tabText(1) == "거부됨 / Rejected (1)" and view.tabs.tabText(2).endswith("(1)")
    assert "전송 대기 1 · 거부 1 · 보류 1" in view.summary.text()
    assert row_texts(view, "rejected", 8) == ["[000400] 요청이 올바르지 않습니다. (HttpMessageNotReadableException)"]
    assert row_texts(view, "held", 8) == ["구매자가 취소를 요청했습니다 — 택배를 보류하세요 (발송하지 않음) / "
                                          "Buyer asked to cancel — hold the parcel (not dispatched)"]
    assert row_texts(view, "waiting", 8) == [
        "마켓 연결 오류 — 다시 시도합니다 / Marketplace connection error — will retry"]
    assert row_texts(view, "rejected", 4) == [Scenario.SIMPLE]
    assert row_texts(view, "rejected", 3) == ["CJ"] and row_texts(view, "held", 3) == ["CJ대한통운 (CJGLS)"]  # words

    # waiting: nothing to resend; it may only be marked handled
    view.select("waiting", [waiting])
    assert not view.resend_button.isEnabled() and view.handled_button.isEnabled()

    # rejected: the courier is chosen from the list by name (stored as "CJ", shown as the courier it spells);
    # another one is picked and the entry resent; the demo shop takes it at once
    view.select("rejected", [rejected])
    assert view.courier_combo.currentText() == "CJ대한통운 (CJGLS)" and view.resend_button.isEnabled()
    pick(qtbot, view.courier_combo, "한진택배 (HANJIN)")
    with qtbot.waitSignal(view.action_done, timeout=5000) as done:
        qtbot.mouseClick(view.resend_button, Qt.MouseButton.LeftButton)
    assert done.args == ["resend"] and "다시 전송합니다: 1건" in view.message.text()
    qtbot.waitUntil(lambda: state_of(station, rejected).state is OutboxState.SENT, timeout=5000)
    assert state_of(station, rejected).courier_code == "HANJIN"

    # held: the parcel was pulled; marked handled with a note, after a confirmation
    asked: list[str] = []
    monkeypatch.setattr(QMessageBox, "question",
                        lambda *a, **k: (asked.append(a[2]), QMessageBox.StandardButton.Yes)[1])
    view.select("held", [held])
    type_hangul(view.note_edit, "택배 회수")
    with qtbot.waitSignal(view.action_done, timeout=5000):
        qtbot.mouseClick(view.handled_button, Qt.MouseButton.LeftButton)
    assert asked and "더 이상 전송하지 않습니다" in asked[0]
    held_entry = state_of(station, held)
    assert held_entry.state is OutboxState.HANDLED
    assert view.tables["held"].rowCount() == 0 and row_texts(view, "handled", 1) == [held_entry.product_order_id]
    qtbot.waitUntil(lambda: window.outbox_label.text() == "전송 대기 1", timeout=5000)
    assert window.outbox_label.styleSheet() == ""
    close_view(qtbot, view)
    assert window.open_outbox() is view  # one screen, shown again
    close_view(qtbot, view)


def test_declining_the_confirmation_changes_nothing(qtbot, station, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    held = outbox_entry(station, Scenario.CANCELLED, OutboxState.HELD, code="line_cancelled",
                        line_status=LineStatus.CANCELLED)
    view = station.window.open_outbox()
    qtbot.waitUntil(lambda: view.tables["held"].rowCount() == 1, timeout=5000)
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.No)
    view.select("held", [held])
    with qtbot.assertNotEmitted(view.action_done, wait=100):
        qtbot.mouseClick(view.handled_button, Qt.MouseButton.LeftButton)
    assert state_of(station, held).state is OutboxState.HELD
    assert view.courier_combo.currentText() == "CJ대한통운 (CJGLS)"  # the entry's courier
    pick(qtbot, view.courier_combo, "택배사 선택 / Choose a courier")
    qtbot.mouseClick(view.resend_button, Qt.MouseButton.LeftButton)  # no courier chosen: said, not stored
    assert "택배사를 고르세요" in view.message.text()
    assert state_of(station, held).state is OutboxState.HELD
    close_view(qtbot, view)


def test_reason_texts_korean_first() -> None:
    for code in ("line_cancelled", "line_cancel_requested", "dispatched_other_tracking", "dispatch_error"):
        ko, en = CATALOGUE[code]
        assert ko and en and any("\uac00" <= ch <= "\ud7a3" for ch in ko), code
        assert ("{message}" in ko) == ("{message}" in en), code
    assert reason_text("", "") == ""
    assert reason_text("104121", "이미 사용된 송장번호입니다.") == "[104121] 이미 사용된 송장번호입니다."
    assert reason_text("dispatched_other_tracking", "CJGLS 1234").startswith(
        "마켓에 이미 다른 송장으로 발송처리됨: CJGLS 1234 / ")
    assert reason_text("channel_rate_limited", "").startswith("마켓 요청 한도 초과")


@pytest.fixture
def naver() -> Iterator[FakeNaver]:
    with FakeNaver(rate_limit=None) as fake:
        yield fake


def test_pack_made_offline_waits_then_goes_out_when_back_online(qtbot, station, naver) -> None:  # type: ignore[no-untyped-def]
    """A SmartStore line packed while offline: no dialog, the pack completes, the status bar counts it waiting;
    online again, it is dispatched (once) and the count drops to zero."""
    order = naver.add_order(1, placeOrderStatus="OK")
    pid = order.product_order_ids[0]
    db = station.db  # the account as the set-up adds it, the order collected, its product linked, its label typed
    account_id = add_account(db, AccountSpec(ChannelKind.NAVER, "우리 스토어", {
        "external_id": naver.client_id, "secret": naver.client_secret, "base_url": naver.base_url}))
    now = datetime.now(UTC)
    assert Collector(db).run_manual(account_id, now - timedelta(days=1), now + timedelta(minutes=5),
                                    started_by="t").lines == 1
    with db.session() as s:
        mug = mapping.find_items(s, "MUG-WH-01")[0]
        (product,) = [r for r in mapping.list_sales_products(s, mapping.ProductFilter(limit=None))
                      if r.account_id == account_id]
        mapping.link(s, product.id, [(mug.id, 1)])
        so.attach_tracking(s, so.search_orders(s, order.order_id)[0].id, "CJGLS", "688800000000", "관리자")
    window = station.window
    uploader = window.deps.uploader
    uploader.is_online = lambda: False  # what the monitor says when the marketplace cannot be reached
    window.on_connectivity(False)
    assert window.online_label.text() == "● 오프라인 · 포장 계속" and "Offline" in window.online_label.toolTip()

    p = Packer(qtbot, station)
    with qtbot.assertNotEmitted(window.error_shown):
        p.scan("PD-PACKER-001")
        p.scan("688800000000")
        p.scan(BARCODE["MUG-WH-01"])
    assert p.banner() == "포장 완료: 688800000000" and p.sounds[-1] == "complete"
    qtbot.waitUntil(lambda: uploader.counts().waiting == 1, timeout=5000)  # queued with the pack
    assert uploader.run_once().skipped_accounts == 1  # the 30-second pass: offline, the queue waits
    qtbot.waitUntil(lambda: window.outbox_label.text() == "전송 대기 1", timeout=5000)
    assert naver.dispatches == []

    uploader.is_online = lambda: True
    window.on_connectivity(True)
    uploader.kick(retry_now=True)  # what the monitor's "online" does
    qtbot.waitUntil(lambda: window.outbox_label.text() == "전송 대기 0", timeout=10_000)
    assert [(d["productOrderId"], d["trackingNumber"]) for d in naver.dispatches] == [(pid, "688800000000")]
    with station.db.session() as s:
        assert s.scalars(select(m.OrderLine.status).where(m.OrderLine.product_order_id == pid)).one() \
            is LineStatus.DISPATCHED
    assert window.online_label.text() == "● 온라인"
