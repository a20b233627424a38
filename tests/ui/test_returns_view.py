"""반품 예정 / Expected returns, opened from the orders window as a supervisor does: the open returns listed with
the marketplace's status in words, the closed ones behind a tick, one found by its pickup label scanned into the
search box and by the original label; the same list in English holds no Korean but the shop's own words."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QWidget
from sqlalchemy import select

from packdesk.channels.base import ReturnLine, ReturnRecord
from packdesk.core import models as m
from packdesk.core.db import Database
from packdesk.services.returns_expected import store_expected_returns
from packdesk.services.settings import Settings
from packdesk.ui.orders_view import OrdersWindow
from packdesk.ui.returns_view import COLUMNS, ExpectedReturnsDialog
from tests.ui.conftest import Packer
from tests.ui.test_orders_view import open_orders
from tests.ui.texts import korean_left, shop_words, visible_texts

pytestmark = pytest.mark.gui
TIMEOUT = 10_000
PICKUP = "512345678904"


def click(qtbot, button: QWidget) -> None:  # type: ignore[no-untyped-def]
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def seed(db: Database) -> tuple[str, str]:
    """Two returns on collected orders of the shop: one being picked up, one done. (order no., its waybill)"""
    with db.session() as s:
        lines = list(s.scalars(select(m.OrderLine).where(m.OrderLine.waybill_id.is_not(None))
                               .order_by(m.OrderLine.id).limit(2)))
        first, second = lines
        now = datetime.now(UTC)
        orders = {ln.id: s.get_one(m.Order, ln.order_id) for ln in lines}
        store_expected_returns(s, first.account_id, "demo", [
            ReturnRecord("C-1", "return", "COLLECT_DONE", orders[first.id].order_no,
                         (ReturnLine(first.product_order_id, 1),), reason_code="BROKEN", reason_text="깨짐",
                         courier_code="CJGLS", tracking_number=PICKUP, requested_at=now - timedelta(hours=2),
                         updated_at=now),
            ReturnRecord("C-2", "exchange", "EXCHANGE_DONE", orders[second.id].order_no,
                         (ReturnLine(second.product_order_id, 1),), requested_at=now - timedelta(days=1))])
        assert first.waybill is not None
        return orders[first.id].order_no, first.waybill.tracking_number


def open_returns(qtbot, w: OrdersWindow) -> ExpectedReturnsDialog:  # type: ignore[no-untyped-def]
    with qtbot.waitSignal(w.returns_opened, timeout=TIMEOUT) as opened:
        click(qtbot, w.returns_button)
    dialog = opened.args[0]
    assert isinstance(dialog, ExpectedReturnsDialog)
    qtbot.waitUntil(lambda: dialog.table.rowCount() > 0, timeout=TIMEOUT)
    return dialog


def row_texts(dialog: ExpectedReturnsDialog, row: int) -> dict[str, str]:
    return {c: dialog.table.item(row, i).text() for i, c in enumerate(COLUMNS)}


def test_expected_returns_are_listed_and_found_by_a_scanned_label(station, qtbot) -> None:  # type: ignore[no-untyped-def]
    order_no, sent = seed(station.db)
    w = open_orders(station, qtbot)
    dialog = open_returns(qtbot, w)
    assert dialog.table.rowCount() == 1                        # only the open one
    row = row_texts(dialog, 0)
    assert row["상태 / Status"] == "수거 완료 / Picked up" and row["유형 / Type"] == "반품 / Return"
    assert row["주문번호 / Order no."] == order_no and row["회수 송장 / Return waybill"] == f"{PICKUP} (CJGLS)"
    assert row["원 송장 / Original waybill"] == sent and row["사유 / Reason"] == "BROKEN — 깨짐"
    assert "× 1" in row["상품 / Items"]
    with qtbot.waitSignal(dialog.loaded, timeout=TIMEOUT):
        click(qtbot, dialog.open_only)                         # the closed ones too
    assert dialog.table.rowCount() == 2
    assert row_texts(dialog, 1)["상태 / Status"] == "교환 완료 / Exchange done"
    p = Packer(qtbot, station)
    for code, how in ((PICKUP, "회수 송장"), (sent, "원 송장")):       # the labels scanned at the returns desk
        with qtbot.waitSignal(dialog.found, timeout=TIMEOUT) as found:
            p.type_code(code)
        assert found.args[0] is not None and found.args[0].claim_id == "C-1"
        assert dialog.search_edit.text() == code and how in dialog.message.text()
        assert dialog.table.selectedItems()[0].row() == 0
    assert w.search_edit.text() == ""                          # the orders window behind did not take the scans
    dialog.search_edit.setText("없는번호")
    with qtbot.waitSignal(dialog.found, timeout=TIMEOUT) as found:
        click(qtbot, dialog.find_button)
    assert found.args[0] is None and dialog.message.property("level") == "error"
    click(qtbot, dialog.close_button)
    w.close()


def test_expected_returns_in_english(make_station, qtbot, english_screens) -> None:  # type: ignore[no-untyped-def]
    st = make_station(Settings(recorder="off", language="en"))
    seed(st.db)
    next(a for a in st.window.findChildren(QAction) if a.text() == "Orders…").trigger()
    w = st.window._orders
    assert isinstance(w, OrdersWindow)
    qtbot.waitExposed(w)
    dialog = open_returns(qtbot, w)
    with qtbot.waitSignal(dialog.loaded, timeout=TIMEOUT):
        click(qtbot, dialog.open_only)
    cells = [dialog.table.item(r, c).text() for r in range(dialog.table.rowCount())
             for c in range(dialog.table.columnCount())]
    headers = [dialog.table.horizontalHeaderItem(c).text() for c in range(dialog.table.columnCount())]
    assert "Picked up" in cells and "Exchange done" in cells and "Return waybill" in headers
    assert korean_left([*visible_texts(dialog), *cells, *headers], shop_words(st.db) | {"깨짐"}) == []
    dialog.close()
