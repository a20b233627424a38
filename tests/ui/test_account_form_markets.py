"""The account form lists the registered markets and builds each one's fields from its declaration: a fourth
market registered from a test (``tests/fakes/tiny_market.py``) is offered, its account added by typing and its
connection tested, with no screen or service module naming it (issue #19 §4)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QInputMethodEvent
from PySide6.QtWidgets import QApplication, QLineEdit
from sqlalchemy import select

from packdesk.core import models as m
from tests.fakes import tiny_market as tiny
from tests.ui.test_collect_view import click, settled

pytestmark = pytest.mark.gui


@pytest.fixture
def shop() -> Iterator[tuple[tiny.TinyShop, str]]:
    with tiny.serving() as served, tiny.registered():
        yield served


def test_a_registered_market_is_in_the_form_with_its_fields(station, qtbot, memory_keyring, shop) -> None:  # type: ignore[no-untyped-def]
    served, url = shop
    w = station.window.open_collect()
    settled(qtbot, w)
    index = w.kind_combo.findData(tiny.KIND)
    assert index == w.kind_combo.count() - 1 and "작은 마켓" in w.kind_combo.itemText(index)  # after the built-in ones
    w.kind_combo.setCurrentIndex(index)
    assert w.kind_pages.currentIndex() == index and not w.auto_confirm.isEnabled()  # it declares no 발주확인
    form = w.kind_forms[tiny.KIND]
    assert list(form) == ["external_id", "secret", "base_url"]
    assert form["secret"].echoMode() is QLineEdit.EchoMode.Password
    ime = QInputMethodEvent("", [])  # Hangul arrives through the input method
    ime.setCommitString("작은 가게")
    QApplication.sendEvent(w.name_edit, ime)
    qtbot.keyClicks(form["external_id"], "shop-1")
    qtbot.keyClicks(form["secret"], tiny.KEY)
    qtbot.keyClicks(form["base_url"], url)
    click(qtbot, w, w.add_button)
    assert "OS 키링" in w.account_message.text() and form["secret"].text() == ""
    assert tiny.KEY in memory_keyring.store.values()
    with station.db.session() as s:
        account = s.scalars(select(m.ChannelAccount).where(m.ChannelAccount.name == "작은 가게")).one()
        assert account.kind == tiny.KIND and account.external_id == "shop-1"
    row = next(r for r in range(w.accounts.rowCount()) if w.accounts.item(r, 0).text() == "작은 가게")
    assert "작은 마켓" in w.accounts.item(row, 1).text()
    w.accounts.selectRow(row)
    assert w.test_button.isEnabled() and not w.code_rule_button.isEnabled() and not w.courier_codes_button.isEnabled()
    qtbot.mouseClick(w.test_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "연결 성공" in w.account_message.text(), timeout=5000)
    assert served.pings == 1
