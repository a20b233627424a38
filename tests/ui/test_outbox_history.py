"""The outbox's history tab, driven as a supervisor checks that a number reached the marketplace: what the
uploader sent is listed newest first with its time in Korea time, courier in words, market, account, order and
tries; a tracking number typed (dashes and all) or an order number finds it; a page at a time; and the same in
English with no Korean but the shop's own words."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import Qt
from sqlalchemy import select

from packdesk.channels.demo import Scenario
from packdesk.core import models as m
from packdesk.core.enums import OutboxState
from packdesk.core.kst import kst_text
from packdesk.services.settings import Settings
from packdesk.ui.outbox_history import COLUMNS
from packdesk.ui.outbox_view import OutboxView
from tests.ui.test_outbox_view import close_view, outbox_entry
from tests.ui.texts import korean_left, shop_words, visible_texts

pytestmark = pytest.mark.gui
SENT = (Scenario.SIMPLE, Scenario.TEA_SET, Scenario.GIFT_SET)


def send_three(station: Any) -> None:
    """Three packed lines in the outbox, then one upload pass: the demo shop accepts them."""
    for number in SENT:
        outbox_entry(station, number, OutboxState.PENDING)
    assert station.background.uploader.run_once(retry_now=True).sent == 3


def open_history(qtbot: Any, station: Any) -> OutboxView:
    """File → the outbox; a click on its last tab, the history."""
    view = station.window.open_outbox()
    bar = view.tabs.tabBar()
    with qtbot.waitSignal(view.history.loaded, timeout=5000):
        qtbot.mouseClick(bar, Qt.MouseButton.LeftButton, pos=bar.tabRect(bar.count() - 1).center())
    assert view.current_key() == "history" and not view.action_bar.isVisible()
    return view


def column(view: OutboxView, col: int) -> list[str]:
    t = view.history.table
    return [t.item(r, col).text() for r in range(t.rowCount())]


def search(qtbot: Any, view: OutboxView, text: str) -> None:
    box = view.history.search_edit
    box.clear()
    qtbot.keyClicks(box, text)
    with qtbot.waitSignal(view.history.loaded, timeout=5000):
        qtbot.keyClick(box, Qt.Key.Key_Return)


def order_no_of(station: Any, tracking: str) -> str:
    with station.db.session() as s:
        return s.scalars(select(m.Order.order_no).join(m.OrderLine, m.OrderLine.order_id == m.Order.id)
                         .join(m.Waybill, m.Waybill.id == m.OrderLine.waybill_id)
                         .where(m.Waybill.tracking_number == tracking)).first()


def test_a_supervisor_finds_what_was_sent(qtbot, station) -> None:  # type: ignore[no-untyped-def]
    send_three(station)
    view = open_history(qtbot, station)
    assert view.tabs.tabText(4) == "전송 기록 / Sent"
    assert column(view, 1) == list(reversed(SENT))  # newest first
    assert set(column(view, 2)) == {"CJ대한통운 (CJGLS)"}
    assert set(column(view, 3)) == {"데모 상점 / Demo shop"}
    assert set(column(view, 8)) == {"접수됨 / Accepted"} and set(column(view, 9)) == {"2"}  # one try before, one now
    with station.db.session() as s:
        sent_at = s.scalars(select(m.DispatchEntry.sent_at).where(m.DispatchEntry.tracking_number == SENT[0])).one()
    assert column(view, 0)[-1] == kst_text(sent_at)  # Korea time
    assert view.history.table.horizontalHeaderItem(0).text() == "전송 시각 (한국 시간) / Sent (Korea time)"

    search(qtbot, view, "6010-0000-0022")  # as a label prints it
    assert column(view, 1) == [Scenario.TEA_SET]
    order_no = order_no_of(station, Scenario.GIFT_SET)
    search(qtbot, view, order_no)
    assert column(view, 5) == [order_no] and column(view, 1) == [Scenario.GIFT_SET]
    search(qtbot, view, "999999")
    assert view.history.table.rowCount() == 0
    assert view.history.message.text() == "'999999'(으)로 전송된 기록이 없습니다 / Nothing sent matches '999999'"

    view.history.page_size = 2  # a page at a time
    search(qtbot, view, "")
    assert column(view, 1) == [Scenario.GIFT_SET, Scenario.TEA_SET] and view.history.page_label.text() == "1–2"
    assert view.history.older_button.isEnabled() and not view.history.newer_button.isEnabled()
    with qtbot.waitSignal(view.history.loaded, timeout=5000):
        qtbot.mouseClick(view.history.older_button, Qt.MouseButton.LeftButton)
    assert column(view, 1) == [Scenario.SIMPLE] and view.history.page_label.text() == "3–3"
    assert not view.history.older_button.isEnabled() and view.history.newer_button.isEnabled()
    with qtbot.waitSignal(view.history.loaded, timeout=5000):
        qtbot.mouseClick(view.history.newer_button, Qt.MouseButton.LeftButton)
    assert column(view, 1) == [Scenario.GIFT_SET, Scenario.TEA_SET]

    view.tabs.setCurrentIndex(0)  # back to a list with actions
    assert view.action_bar.isVisible()
    close_view(qtbot, view)


def test_the_history_and_the_courier_list_in_english(make_station, qtbot, english_screens) -> None:  # type: ignore[no-untyped-def]
    station = make_station(Settings(recorder="off", language="en"))
    send_three(station)
    outbox_entry(station, Scenario.COMBINED, OutboxState.REJECTED, courier="HYUNDAI", code="000400", message="bad")
    view = open_history(qtbot, station)
    assert view.tabs.tabText(4) == "Sent"
    assert [view.history.table.horizontalHeaderItem(c).text() for c in range(len(COLUMNS))][:3] == [
        "Sent (Korea time)", "Tracking no.", "Courier"]
    assert set(column(view, 2)) == {"CJ Logistics (CJGLS)"} and set(column(view, 3)) == {"Demo shop"}
    assert set(column(view, 8)) == {"Accepted"}
    search(qtbot, view, "nothing-like-it")
    assert view.history.message.text() == "Nothing sent matches 'nothing-like-it'"
    view.tabs.setCurrentIndex(1)
    qtbot.waitUntil(lambda: view.tables["rejected"].rowCount() == 1, timeout=5000)
    with station.db.session() as s:
        rejected = s.scalars(select(m.DispatchEntry.id).where(m.DispatchEntry.state == OutboxState.REJECTED)).one()
    view.select("rejected", [rejected])
    assert view.courier_combo.currentText() == "Lotte Global Logistics (HYUNDAI)"
    assert view.courier_combo.itemText(0) == "Choose a courier"
    assert korean_left(visible_texts(view), shop_words(station.db)) == []
    close_view(qtbot, view)
