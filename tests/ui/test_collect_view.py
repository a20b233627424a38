"""The order-collection window against the fake SmartStore: add an account (secret to the keyring), test
the connection, collect a chosen window, see the run counted; a cancel request collected later makes the
station refuse that line."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import QDateTime, Qt
from PySide6.QtGui import QInputMethodEvent
from PySide6.QtWidgets import QApplication, QLabel
from sqlalchemy import select

from packdesk.core import models as m
from packdesk.services import orders as so
from packdesk.ui.collect_runs import ACCOUNT, COUNTS, ERROR, METHOD, STATUS
from tests.fakes.naver import FakeNaver
from tests.ui.conftest import Packer

pytestmark = pytest.mark.gui


@pytest.fixture
def naver() -> Iterator[FakeNaver]:
    with FakeNaver(rate_limit=None) as fake:
        yield fake


def settled(qtbot, w) -> None:  # type: ignore[no-untyped-def]
    """The window's reads and account changes have answered (they run off the UI thread, ui/ops.py)."""
    qtbot.waitUntil(lambda: not w.busy, timeout=10_000)


def click(qtbot, w, button) -> None:  # type: ignore[no-untyped-def]
    """A person's click on one of the window's buttons, and its answer."""
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    settled(qtbot, w)


def add_account_by_typing(qtbot, w, fake: FakeNaver) -> None:  # type: ignore[no-untyped-def]
    ime = QInputMethodEvent("", [])  # Hangul arrives through the input method, not as key presses
    ime.setCommitString("우리 스토어")
    QApplication.sendEvent(w.name_edit, ime)
    qtbot.keyClicks(w.app_id_edit, fake.client_id)
    qtbot.keyClicks(w.secret_edit, fake.client_secret)
    qtbot.keyClicks(w.base_url_edit, fake.base_url)
    click(qtbot, w, w.add_button)


def test_add_account_test_connection_and_collect(station, qtbot, naver, memory_keyring) -> None:  # type: ignore[no-untyped-def]
    naver.add_order(2)
    w = station.window.open_collect()
    settled(qtbot, w)
    add_account_by_typing(qtbot, w, naver)
    assert "OS 키링" in w.account_message.text() and w.secret_edit.text() == ""
    with station.db.session() as s:
        acc = s.scalars(select(m.ChannelAccount).where(m.ChannelAccount.name == "우리 스토어")).one()
    assert naver.client_secret in memory_keyring.store.values()
    w.accounts.selectRow(next(r for r in range(w.accounts.rowCount()) if w.accounts.item(r, 0).text() == "우리 스토어"))
    qtbot.mouseClick(w.test_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "연결 성공" in w.account_message.text(), timeout=5000)

    w.account_combo.setCurrentIndex(w.account_combo.findData(acc.id))
    w.from_edit.setDateTime(QDateTime.currentDateTime().addDays(-2))
    w.to_edit.setDateTime(QDateTime.currentDateTime().addSecs(60))
    with qtbot.waitSignal(w.run_finished, timeout=10_000):
        qtbot.mouseClick(w.collect_button, Qt.MouseButton.LeftButton)
        assert w.progress.isVisible() and not w.collect_button.isEnabled()  # busy, and the window still answers
    assert "완료: 주문 1건, 신규 2건" in w.message.text()
    assert w.runs.item(0, ACCOUNT).text() == "우리 스토어" and w.runs.item(0, METHOD).text() == "수동 / manual"
    assert w.runs.item(0, COUNTS).text() == "주문 1 · 신규 2 · 보류 0"
    assert "상품 2" in w.runs.item(0, COUNTS).toolTip() and "2 lines" in w.runs.item(0, COUNTS).toolTip()
    assert w.collect_button.isEnabled() and not w.progress.isVisible()
    assert naver.confirmations == []  # this account confirms by hand
    with qtbot.waitSignal(w.run_finished, timeout=10_000):
        qtbot.mouseClick(w.confirm_button, Qt.MouseButton.LeftButton)
    assert "발주확인 2건" in w.message.text() and len(naver.confirmations) == 2
    w.reject()


def test_more_than_five_days_is_refused_with_a_message(station, qtbot, naver) -> None:  # type: ignore[no-untyped-def]
    w = station.window.open_collect()
    settled(qtbot, w)
    add_account_by_typing(qtbot, w, naver)
    w.account_combo.setCurrentIndex(w.account_combo.count() - 1)
    w.from_edit.setDateTime(QDateTime.currentDateTime().addDays(-7))
    with qtbot.waitSignal(w.run_finished, timeout=5000):
        qtbot.mouseClick(w.collect_button, Qt.MouseButton.LeftButton)
    assert "최대 5일" in w.message.text() and "at most 5 days" in w.message.text()
    w.reject()


def test_collected_cancel_request_is_refused_at_the_station(station, qtbot, naver) -> None:  # type: ignore[no-untyped-def]
    order = naver.add_order([{"productName": "머그컵"}])
    w = station.window.open_collect()
    settled(qtbot, w)
    add_account_by_typing(qtbot, w, naver)
    w.account_combo.setCurrentIndex(w.account_combo.count() - 1)
    w.to_edit.setDateTime(QDateTime.currentDateTime().addSecs(60))
    with qtbot.waitSignal(w.run_finished, timeout=10_000):
        qtbot.mouseClick(w.collect_button, Qt.MouseButton.LeftButton)
    pid = order.product_order_ids[0]
    with station.db.session() as s:  # the courier label printed for it, its number typed in by a supervisor
        so.attach_tracking(s, so.search_orders(s, order.order_id)[0].id, "CJGLS", "688800000000", "관리자")
    naver.request_cancel(pid)
    w.from_edit.setDateTime(QDateTime.currentDateTime().addSecs(-600))
    with qtbot.waitSignal(w.run_finished, timeout=10_000):
        qtbot.mouseClick(w.collect_button, Qt.MouseButton.LeftButton)
    assert "취소요청 1" in w.runs.item(0, COUNTS).text()  # one cancel request counted
    w.reject()
    p = Packer(qtbot, station)
    p.scan("PD-PACKER-001")
    p.scan("688800000000")
    assert "취소 요청된 주문" in p.banner() and p.sounds[-1] == "error"


def test_accounts_of_each_kind_pause_confirm_mode_and_removal(station, qtbot, memory_keyring, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtWidgets import QMessageBox

    from packdesk.core.enums import ChannelKind

    w = station.window.open_collect()
    settled(qtbot, w)
    w.kind_combo.setCurrentIndex(w.kind_combo.findData(ChannelKind.COUPANG))
    assert w.kind_pages.currentIndex() == w.kind_combo.currentIndex()
    form = w.kind_forms[ChannelKind.COUPANG]
    ime = QInputMethodEvent("", [])  # Hangul comes through the input method
    ime.setCommitString("쿠팡본점")
    QApplication.sendEvent(w.name_edit, ime)
    qtbot.keyClicks(form["external_id"], "12345")  # not a vendor id
    qtbot.keyClicks(form["access_key"], "ak-123")
    qtbot.keyClicks(form["secret"], "sk-secret")
    click(qtbot, w, w.add_button)
    assert "형식이 맞지 않습니다" in w.account_message.text() and "Vendor ID" in w.account_message.text()
    form["external_id"].clear()
    qtbot.keyClicks(form["external_id"], "A00012345")
    click(qtbot, w, w.add_button)
    assert "OS 키링" in w.account_message.text() and form["secret"].text() == ""
    assert "sk-secret" in memory_keyring.store.values()
    row = next(r for r in range(w.accounts.rowCount()) if w.accounts.item(r, 0).text() == "쿠팡본점")
    assert "쿠팡" in w.accounts.item(row, 1).text() and w.accounts.item(row, 2).text() == "A00012345"

    w.accounts.selectRow(row)
    click(qtbot, w, w.pause_button)
    assert "일시 중지" in w.accounts.item(row, 4).text() and w.pause_button.text().startswith("다시 시작")
    assert any("일시 중지" in w.account_combo.itemText(i) for i in range(w.account_combo.count()))
    click(qtbot, w, w.pause_button)
    assert "사용 중" in w.accounts.item(row, 4).text()
    assert w.accounts.item(row, 3).text() == "예 / yes"  # a Coupang account confirms what it collects by default
    click(qtbot, w, w.confirm_mode_button)
    assert w.accounts.item(row, 3).text() == ""

    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    click(qtbot, w, w.remove_button)
    assert "삭제됨" in w.account_message.text() and "삭제됨" in w.accounts.item(row, 4).text()
    assert "sk-secret" not in memory_keyring.store.values()
    assert not w.remove_button.isEnabled()
    w.reject()


def test_code_rule_is_a_choice_in_words_and_a_change_says_what_happens_to_links(  # type: ignore[no-untyped-def]
        station, qtbot, naver, memory_keyring, monkeypatch) -> None:
    import json

    from PySide6.QtWidgets import QComboBox, QInputDialog, QMessageBox

    from packdesk.core.enums import ChannelKind

    w = station.window.open_collect()
    settled(qtbot, w)
    help_label = w.findChild(QLabel, f"help_{ChannelKind.NAVER.value}_code_rule")
    assert help_label is not None and "권장" in help_label.text() and "old links stay" in help_label.text()
    assert "product_option" not in help_label.text() and "seller_code" not in help_label.text()
    rule = w.findChild(QComboBox, f"account_{ChannelKind.NAVER.value}_code_rule")
    assert rule is not None and "code_rule" not in w.kind_forms[ChannelKind.NAVER]  # a choice, not a text field
    assert [rule.itemText(i) for i in range(rule.count())] == [
        "상품+옵션 코드 (권장) / product + option code (recommended)", "판매자 코드 / seller code"]
    assert rule.currentText().startswith("상품+옵션 코드")  # the default, as before
    add_account_by_typing(qtbot, w, naver)
    with station.db.session() as s:
        acc = s.scalars(select(m.ChannelAccount).where(m.ChannelAccount.name == "우리 스토어")).one()
        assert json.loads(acc.options)["code_rule"] == "product_option"  # the value stored, as typed before
        s.add(m.ProductMapping(account_id=acc.id, product_code="P1", option_code="", item_id=s.scalars(
            select(m.Item.id)).first(), quantity=1))
    w.accounts.selectRow(next(r for r in range(w.accounts.rowCount()) if w.accounts.item(r, 0).text() == "우리 스토어"))
    assert w.code_rule_button.isEnabled()

    asked: list[str] = []
    offered: list[list[str]] = []
    monkeypatch.setattr(QInputDialog, "getItem", lambda _p, _t, _l, items, *a, **k: offered.append(items)
                        or ("판매자 코드 / seller code", True))
    monkeypatch.setattr(QMessageBox, "question",
                        lambda _p, _t, text, *a, **k: asked.append(text) or QMessageBox.StandardButton.No)
    click(qtbot, w, w.code_rule_button)  # said no: nothing changes
    assert offered[0] == [rule.itemText(i) for i in range(rule.count())]  # the same words as the form
    assert asked and "다시 연결" in asked[0] and "old links stay" in asked[0]
    with station.db.session() as s:
        assert json.loads(s.get_one(m.ChannelAccount, acc.id).options)["code_rule"] == "product_option"

    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    click(qtbot, w, w.code_rule_button)
    said = w.account_message.text()
    assert said == ("코드 규칙: 판매자 코드 (옛 코드의 연결 1개는 남음) / "
                    "Code rule: seller code (1 link kept under the old codes)")
    with station.db.session() as s:
        assert json.loads(s.get_one(m.ChannelAccount, acc.id).options)["code_rule"] == "seller_code"
        assert s.scalar(select(m.ProductMapping.product_code).where(m.ProductMapping.account_id == acc.id)) == "P1"
    w.reject()


def test_a_seller_code_rule_chosen_in_the_form_is_stored(station, qtbot, naver, memory_keyring) -> None:  # type: ignore[no-untyped-def]
    import json

    from PySide6.QtWidgets import QComboBox

    from packdesk.core.enums import ChannelKind

    w = station.window.open_collect()
    settled(qtbot, w)
    rule = w.findChild(QComboBox, f"account_{ChannelKind.NAVER.value}_code_rule")
    rule.setFocus()
    qtbot.keyClick(rule, Qt.Key.Key_Down)  # a person picks the second choice with the keyboard
    assert rule.currentText() == "판매자 코드 / seller code"
    add_account_by_typing(qtbot, w, naver)
    with station.db.session() as s:
        acc = s.scalars(select(m.ChannelAccount).where(m.ChannelAccount.name == "우리 스토어")).one()
    assert json.loads(acc.options)["code_rule"] == "seller_code"
    w.reject()


def test_a_coupang_account_confirms_by_default_keeps_courier_codes_and_names_a_wrong_clock(  # type: ignore[no-untyped-def]
        station, qtbot, monkeypatch, expect_warnings) -> None:
    """Issue #22: the form's auto-confirm starts ticked for Coupang (not for SmartStore); the courier codes have a
    field and a button; a collection refused for a wrong PC clock says so in the window, in Coupang's words."""
    import json
    from datetime import UTC, datetime, timedelta

    from PySide6.QtWidgets import QInputDialog

    from packdesk.core.enums import ChannelKind
    from tests.fakes.coupang import FakeClock, FakeCoupang

    w = station.window.open_collect()
    settled(qtbot, w)
    w.kind_combo.setCurrentIndex(w.kind_combo.findData(ChannelKind.COUPANG))
    assert w.auto_confirm.isChecked() and w.auto_confirm.isEnabled()
    w.kind_combo.setCurrentIndex(w.kind_combo.findData(ChannelKind.NAVER))
    assert not w.auto_confirm.isChecked()
    w.kind_combo.setCurrentIndex(w.kind_combo.findData(ChannelKind.COUPANG))
    assert w.auto_confirm.isChecked()
    help_label = w.findChild(QLabel, f"help_{ChannelKind.COUPANG.value}_courier_codes")
    assert help_label is not None and "KGB=KGBPS" in help_label.text()
    with FakeCoupang(rate_limit=None, clock=FakeClock(datetime.now(UTC) + timedelta(minutes=10))) as skewed:
        form = w.kind_forms[ChannelKind.COUPANG]
        ime = QInputMethodEvent("", [])
        ime.setCommitString("쿠팡본점")
        QApplication.sendEvent(w.name_edit, ime)
        for key, text in (("external_id", skewed.vendor_id), ("access_key", skewed.access_key),
                          ("secret", skewed.secret_key), ("base_url", skewed.base_url), ("courier_codes", "KGB KGBPS")):
            qtbot.keyClicks(form[key], text)
        click(qtbot, w, w.add_button)
        assert "형식이 맞지 않습니다" in w.account_message.text() and "Courier codes" in w.account_message.text()
        form["courier_codes"].clear()
        qtbot.keyClicks(form["courier_codes"], "KGB=KGBPS")
        click(qtbot, w, w.add_button)
        assert "OS 키링" in w.account_message.text()
        with station.db.session() as s:
            acc = s.scalars(select(m.ChannelAccount).where(m.ChannelAccount.name == "쿠팡본점")).one()
        assert acc.auto_confirm and json.loads(acc.options)["courier_codes"] == {"KGB": "KGBPS"}

        w.account_combo.setCurrentIndex(w.account_combo.findData(acc.id))
        w.to_edit.setDateTime(QDateTime.currentDateTime().addSecs(60))
        with qtbot.waitSignal(w.run_finished, timeout=10_000):
            qtbot.mouseClick(w.collect_button, Qt.MouseButton.LeftButton)
    said = w.message.text()
    assert "Specified signature is expired" in said and "PC 시계가 맞지 않을 수 있습니다" in said
    assert "the PC clock may be wrong" in said
    assert "PC 시계" in w.runs.item(0, ERROR).text() and "channel_auth" not in w.runs.item(0, ERROR).text()
    assert "코드: channel_auth / Code: channel_auth" in w.runs.item(0, ERROR).toolTip()  # the code: a report's

    w.accounts.selectRow(next(r for r in range(w.accounts.rowCount()) if w.accounts.item(r, 0).text() == "쿠팡본점"))
    assert w.courier_codes_button.isEnabled()
    offered: list[str] = []
    monkeypatch.setattr(QInputDialog, "getText", lambda _p, _t, _l, _m, current, *a, **k: offered.append(current)
                        or ("KGB=KGBLS, 한진=HANJIN", True))
    click(qtbot, w, w.courier_codes_button)
    assert offered == ["KGB=KGBPS"] and "KGB=KGBLS, HANJIN=HANJIN" in w.account_message.text()
    w.change_courier_codes("KGB")                        # no "=": named, nothing changed
    settled(qtbot, w)
    assert "Courier codes" in w.account_message.text()
    with station.db.session() as s:
        assert json.loads(s.get_one(m.ChannelAccount, acc.id).options)["courier_codes"] == {
            "KGB": "KGBLS", "HANJIN": "HANJIN"}
    w.reject()


# --- every run ends, and the progress bar with it (issue #17) ------------------------------------------------
def test_a_run_left_running_by_a_dead_process_is_shown_abandoned_at_the_next_start(  # type: ignore[no-untyped-def]
        make_station, qtbot, dirs, expect_warnings) -> None:
    import os
    import subprocess
    import sys
    from pathlib import Path

    from packdesk.core.db import Database, sqlite_url

    db = Database.open(sqlite_url(dirs.database), create=True)  # the station's database, before its first start
    with db.session() as s:
        acc = m.ChannelAccount(kind=m.ChannelKind.NAVER, name="우리 스토어", external_id="x")
        s.add(acc)
        s.flush()
        account_id = acc.id
    db.close()
    repo = Path(__file__).resolve().parents[2]
    crash = ("import os, sys\nfrom packdesk.core.db import Database\nfrom packdesk.services.collect import begin_run\n"
             "db = Database.open(sys.argv[1])\nbegin_run(db, account_id=int(sys.argv[2]), trigger='manual')\n"
             "os._exit(9)  # the process dies mid-run: no end_run, no lease given back\n")
    dead = subprocess.run([sys.executable, "-c", crash, sqlite_url(dirs.database), str(account_id)], cwd=repo,
                          env={**os.environ, "PYTHONPATH": f"{repo / 'src'}"}, timeout=60)
    assert dead.returncode == 9

    station = make_station()  # the next start
    w = station.window.open_collect()
    settled(qtbot, w)
    row = next(r for r in range(w.runs.rowCount()) if w.runs.item(r, ACCOUNT).text() == "우리 스토어")
    assert w.runs.item(row, STATUS).text() == "중단됨 / abandoned"
    assert w.runs.item(row, ERROR).text().startswith("이 수집을 하던 프로그램이 중간에 멈췄습니다")
    assert not w.progress.isVisible() and w.collect_button.isEnabled()
    w.reject()


def test_an_unexpected_error_ends_the_run_and_the_progress_bar(station, qtbot, expect_warnings) -> None:  # type: ignore[no-untyped-def]
    class Broken:
        kind = m.ChannelKind.DEMO

        def collect(self, since, until):  # type: ignore[no-untyped-def]
            raise RuntimeError("a bug in a channel")

    w = station.window.open_collect()
    settled(qtbot, w)
    w.collector.channel_factory = lambda account: Broken()
    w.account_combo.setCurrentIndex(0)
    with qtbot.waitSignal(w.run_finished, timeout=10_000):
        qtbot.mouseClick(w.collect_button, Qt.MouseButton.LeftButton)
    assert "예기치 않은 오류" in w.message.text() and "unexpected error" in w.message.text()
    assert w.runs.item(0, STATUS).text() == "실패 / failed"
    assert w.runs.item(0, ERROR).text().startswith("수집이 예기치 않은")
    assert "RuntimeError: a bug in a channel" in w.runs.item(0, ERROR).toolTip()
    assert not w.progress.isVisible() and w.collect_button.isEnabled()
    w.reject()


def test_without_a_keyring_no_account_is_added_and_removal_says_what_happened(  # type: ignore[no-untyped-def]
        station, qtbot, naver, memory_keyring, monkeypatch, expect_warnings) -> None:
    import keyring
    from keyring.backends import fail
    from PySide6.QtWidgets import QMessageBox

    def names() -> list[str]:
        return [w.accounts.item(r, 0).text() for r in range(w.accounts.rowCount())]

    w = station.window.open_collect()
    settled(qtbot, w)
    add_account_by_typing(qtbot, w, naver)  # with a keyring: added
    assert "우리 스토어" in names()
    keyring.set_keyring(fail.Keyring())  # then the keyring goes (locked, its service stopped, a new Linux PC)
    try:
        w.name_edit.clear()
        w.app_id_edit.clear()
        w.base_url_edit.clear()
        ime = QInputMethodEvent("", [])
        ime.setCommitString("둘째 스토어")
        QApplication.sendEvent(w.name_edit, ime)
        qtbot.keyClicks(w.app_id_edit, naver.client_id)
        qtbot.keyClicks(w.secret_edit, naver.client_secret)
        click(qtbot, w, w.add_button)
        said = w.account_message.text()
        assert said.startswith("계정을 추가하지 않았습니다") and "keyring.backends.fail.Keyring" in said
        assert "둘째 스토어" not in names()

        monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
        w.accounts.selectRow(names().index("우리 스토어"))
        click(qtbot, w, w.remove_button)  # no uncaught exception (pytest-qt fails on one)
        said = w.account_message.text()
        assert said.startswith("삭제됨") and "시크릿은 지우지 못했습니다" in said and "could not be erased" in said
        assert "삭제됨" in w.accounts.item(names().index("우리 스토어"), 4).text()
    finally:
        keyring.set_keyring(memory_keyring)
    w.reject()
