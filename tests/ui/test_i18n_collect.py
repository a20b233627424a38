"""The order-collection window in English only (``language: en``), the way a supervisor sets up marketplace
accounts and collects: every text on it — the runs and the accounts, the form of each kind of account with
its help, a refused field, a connection test, a run's counts, a failed run, the questions it asks — holds no
Korean but the shop's own (account names come from the shop as they are)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import QDateTime, Qt
from PySide6.QtGui import QInputMethodEvent
from PySide6.QtWidgets import QApplication, QInputDialog, QMessageBox, QTabWidget
from sqlalchemy import select

from packdesk.core import models as m
from packdesk.core.enums import ChannelKind
from packdesk.services.secrets import delete_secret
from packdesk.services.settings import Settings
from packdesk.ui.collect_runs import ACCOUNT, COUNTS, ERROR, METHOD, STATUS
from tests.fakes.naver import FakeNaver
from tests.ui.test_collect_view import click, settled
from tests.ui.texts import korean_left, shop_words, visible_texts

pytestmark = pytest.mark.gui


@pytest.fixture
def naver() -> Iterator[FakeNaver]:
    with FakeNaver(rate_limit=None) as fake:
        yield fake


def type_hangul(widget, text: str) -> None:  # type: ignore[no-untyped-def]
    ime = QInputMethodEvent("", [])  # Hangul arrives through the input method, not as key presses
    ime.setCommitString(text)
    QApplication.sendEvent(widget, ime)


def add(qtbot, w, kind: ChannelKind, name: str, values: dict[str, str]) -> str:  # type: ignore[no-untyped-def]
    """Fill the form of ``kind`` as a person would and press "Add account"; what the window says."""
    w.kind_combo.setCurrentIndex(w.kind_combo.findData(kind))
    w.name_edit.clear()
    type_hangul(w.name_edit, name)
    for key, edit in w.kind_forms[kind].items():
        edit.clear()
        if values.get(key):
            qtbot.keyClicks(edit, values[key])
    click(qtbot, w, w.add_button)
    return w.account_message.text()


def row_of(w, name: str) -> int:  # type: ignore[no-untyped-def]
    return next(r for r in range(w.accounts.rowCount()) if w.accounts.item(r, 0).text() == name)


def test_the_collection_window_in_english(  # type: ignore[no-untyped-def]
        make_station, qtbot, naver, english_screens, expect_warnings, monkeypatch) -> None:
    naver.add_order(2)
    naver.add_products(3)
    st = make_station(Settings(recorder="off", language="en"))
    w = st.window.open_collect()
    settled(qtbot, w)
    tabs = w.findChildren(QTabWidget)[0]
    seen = visible_texts(w) + [tabs.tabText(i) for i in range(tabs.count())]
    assert w.windowTitle() == "Order collection" and [tabs.tabText(i) for i in range(tabs.count())] == \
        ["Runs", "Accounts"]
    assert [w.kind_combo.itemText(i) for i in range(w.kind_combo.count())] == \
        ["Naver SmartStore", "Coupang Wing", "Sabangnet"]
    assert "Application ID" in seen and "Vendor ID" in seen and "Public address of this PC for request XML" in seen
    assert any(t.startswith("product + option code (recommended): product number") for t in seen)  # its help
    rule = w.kind_choices[ChannelKind.NAVER]["code_rule"]
    assert [rule.itemText(i) for i in range(rule.count())] == ["product + option code (recommended)", "seller code"]

    # refused fields: one missing, one in the wrong form, Sabangnet's relay missing
    said = [add(qtbot, w, ChannelKind.NAVER, "우리 스토어", {"secret": naver.client_secret})]
    assert said[-1] == "Required: Application ID"
    said.append(add(qtbot, w, ChannelKind.COUPANG, "쿠팡본점",
                    {"external_id": "12345", "access_key": "ak-123", "secret": "sk-secret"}))
    assert said[-1] == "Not in the expected form: Vendor ID"
    said.append(add(qtbot, w, ChannelKind.SABANGNET, "사방넷 본점",
                    {"external_id": "sbn-id", "secret": "sbn-key", "api_url": "https://sbadmin13.sabangnet.co.kr/RTL"}))
    assert said[-1] == "Required: public address+port, or upload+public address"
    said.append(add(qtbot, w, ChannelKind.NAVER, "", {}))
    assert said[-1] == "Required: Name, Application ID, Application secret"  # every one at once
    assert [k for k, e in w._form_widgets(ChannelKind.NAVER).items() if e.property("invalid")] == \
        ["name", "external_id", "secret"]

    # one account of each kind
    said.append(add(qtbot, w, ChannelKind.NAVER, "우리 스토어", {"external_id": naver.client_id,
                                                                "secret": naver.client_secret,
                                                                "base_url": naver.base_url}))
    assert said[-1] == "Added: 우리 스토어 (secret in the OS keyring)"
    said.append(add(qtbot, w, ChannelKind.COUPANG, "쿠팡본점",
                    {"external_id": "A00012345", "access_key": "ak-123", "secret": "sk-secret"}))
    said.append(add(qtbot, w, ChannelKind.SABANGNET, "사방넷 본점",
                    {"external_id": "sbn-id", "secret": "sbn-key", "api_url": "https://sbadmin13.sabangnet.co.kr/RTL",
                     "relay_public_url": "http://203.0.113.5:8765", "relay_port": "8765"}))
    assert said[-1] == "Added: 사방넷 본점 (secret in the OS keyring)"
    coupang, sabangnet = row_of(w, "쿠팡본점"), row_of(w, "사방넷 본점")
    assert w.accounts.item(coupang, 1).text() == "Coupang Wing" and w.accounts.item(sabangnet, 4).text() == "active"

    # pause, auto-confirm, and the connection test (fine for Naver; Sabangnet without its secret)
    w.accounts.selectRow(coupang)
    click(qtbot, w, w.pause_button)
    said.append(w.account_message.text())
    assert said[-1].startswith("Paused: no collection") and w.pause_button.text() == "Resume"
    assert w.accounts.item(coupang, 4).text() == "paused"
    assert "쿠팡본점 (paused)" in [w.account_combo.itemText(i) for i in range(w.account_combo.count())]
    seen += visible_texts(w)
    click(qtbot, w, w.pause_button)
    said.append(w.account_message.text())
    assert w.accounts.item(coupang, 3).text() == "yes"  # Coupang's form starts with auto-confirm ticked
    click(qtbot, w, w.confirm_mode_button)
    said.append(w.account_message.text())
    assert said[-2:] == ["Resumed", "Auto-confirm off"] and w.accounts.item(coupang, 3).text() == ""
    click(qtbot, w, w.confirm_mode_button)
    said.append(w.account_message.text())
    assert said[-1] == "Auto-confirm on" and w.accounts.item(coupang, 3).text() == "yes"
    w.accounts.selectRow(row_of(w, "우리 스토어"))
    qtbot.mouseClick(w.test_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: w.account_message.text() == "Connected", timeout=5000)
    with st.db.session() as s:
        ids = {a.name: a.id for a in s.scalars(select(m.ChannelAccount))}
    delete_secret(ids["사방넷 본점"])
    w.accounts.selectRow(row_of(w, "사방넷 본점"))
    qtbot.mouseClick(w.test_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: w.account_message.text().startswith("The account is not set up"), timeout=5000)
    said.append(w.account_message.text())
    assert said[-1] == "The account is not set up: 사방넷 본점"

    # the code rule: what it is, and what a change does, asked before it is made
    asked: list[str] = []
    monkeypatch.setattr(QInputDialog, "getItem",
                        lambda _p, title, label, *a, **k: asked.extend((title, label)) or ("seller code", True))
    monkeypatch.setattr(QMessageBox, "question",
                        lambda _p, title, text, *a, **k: asked.extend((title, text)) or QMessageBox.StandardButton.Yes)
    w.accounts.selectRow(row_of(w, "우리 스토어"))
    click(qtbot, w, w.code_rule_button)
    said.append(w.account_message.text())
    assert said[-1] == "Code rule: seller code (0 links kept under the old codes)"
    assert asked[0] == "Code rule" and asked[1].startswith("product + option code (recommended)")
    assert asked[3].startswith("From the next collection and sync")

    # collecting: a run's counts, a refused window, a run that failed
    w.account_combo.setCurrentIndex(w.account_combo.findData(ids["우리 스토어"]))
    w.from_edit.setDateTime(QDateTime.currentDateTime().addDays(-2))
    w.to_edit.setDateTime(QDateTime.currentDateTime().addSecs(60))
    with qtbot.waitSignal(w.run_finished, timeout=10_000):
        qtbot.mouseClick(w.collect_button, Qt.MouseButton.LeftButton)
        said.append(w.message.text())
    assert said[-1] == "Collecting…" and w.message.text() == "Done: 1 order, 2 new"
    said.append(w.message.text())
    assert [w.runs.item(0, c).text() for c in (ACCOUNT, METHOD, STATUS, COUNTS)] == [
        "우리 스토어", "manual", "done", "1 order · 2 new · 0 set aside"]
    with qtbot.waitSignal(w.run_finished, timeout=10_000):
        qtbot.mouseClick(w.confirm_button, Qt.MouseButton.LeftButton)
    said.append(w.message.text())
    assert said[-1] == "2 confirmed"
    with qtbot.waitSignal(w.sync_finished, timeout=10_000):
        qtbot.mouseClick(w.sync_button, Qt.MouseButton.LeftButton)
        said.append(w.message.text())
    said.append(w.message.text())
    assert said[-2:] == ["Syncing products…", "Products synced: 9, 9 new, 0 gone"]  # 3 products × 3 options
    w.from_edit.setDateTime(QDateTime.currentDateTime().addDays(-7))
    with qtbot.waitSignal(w.run_finished, timeout=5000):
        qtbot.mouseClick(w.collect_button, Qt.MouseButton.LeftButton)
    said.append(w.message.text())
    assert said[-1] == "A collection covers at most 5 days"
    w.account_combo.setCurrentIndex(w.account_combo.findData(ids["사방넷 본점"]))
    w.from_edit.setDateTime(QDateTime.currentDateTime().addDays(-1))
    with qtbot.waitSignal(w.run_finished, timeout=5000):
        qtbot.mouseClick(w.collect_button, Qt.MouseButton.LeftButton)
    said.append(w.message.text())
    assert said[-1].startswith("The account is not set up")
    assert [w.runs.item(0, c).text() for c in (ACCOUNT, STATUS, COUNTS, ERROR)] == [
        "사방넷 본점", "failed", "0 orders · 0 new · 0 set aside", "The account is not set up: 사방넷 본점"]
    seen += visible_texts(w)

    # removing an account: the question, and what was removed
    w.accounts.selectRow(row_of(w, "쿠팡본점"))
    click(qtbot, w, w.remove_button)
    said.append(w.account_message.text())
    assert said[-1] == "Removed: 0 orders removed, 0 kept" and asked[-2] == "Remove account"
    assert asked[-1].startswith("Removes this account's products")
    assert w.accounts.item(row_of(w, "쿠팡본점"), 4).text() == "removed"
    seen += visible_texts(w) + said + asked
    w.reject()

    assert korean_left(seen, shop_words(st.db)) == []
