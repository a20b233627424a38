"""Sabangnet's own error text reaches the collection window over real HTTP against the fake: in the window's
message and in the runs table's error column, as words (never ``channel_auth``), in Korean and in English."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import QDateTime, Qt

from packdesk.channels import xml_relay as relays
from packdesk.services.settings import Settings
from packdesk.ui.collect_runs import ACCOUNT, ERROR
from tests.fakes.sabangnet import MSG_KEY, MSG_MAINTENANCE, FakeSabangnet
from tests.services.test_sabangnet_errors import sabangnet_account

pytestmark = pytest.mark.gui

@pytest.fixture
def fake() -> Iterator[FakeSabangnet]:
    with FakeSabangnet() as f:
        yield f
    relays.close_all()


def collect(qtbot, w, account_id: int) -> str:  # type: ignore[no-untyped-def]
    w.account_combo.setCurrentIndex(w.account_combo.findData(account_id))
    w.from_edit.setDateTime(QDateTime.currentDateTime().addDays(-1))
    w.to_edit.setDateTime(QDateTime.currentDateTime().addSecs(60))
    with qtbot.waitSignal(w.run_finished, timeout=15_000):
        qtbot.mouseClick(w.collect_button, Qt.MouseButton.LeftButton)
    return str(w.message.text())


def sabangnet_words_on_screen(qtbot, st, fake: FakeSabangnet, english: bool) -> None:  # type: ignore[no-untyped-def]
    refused = sabangnet_account(st.db, fake, key="not-the-key", name="사방넷 본점")
    busy = sabangnet_account(st.db, fake, key=fake.auth_key, name="사방넷 2호점")
    w = st.window.open_collect()
    w.refresh()
    qtbot.waitUntil(lambda: w.account_combo.findData(busy) >= 0, timeout=5000)

    said = collect(qtbot, w, refused)
    assert MSG_KEY in said and "channel_auth" not in said
    assert said.startswith("Marketplace login failed" if english else "마켓 인증 실패")
    assert english or "Marketplace login failed" in said
    error = w.runs.item(0, ERROR).text()
    assert MSG_KEY in error and "channel_auth" not in error and w.runs.item(0, ACCOUNT).text() == "사방넷 본점"

    fake.fail_next("text_error")  # the server in maintenance, in Sabangnet's words
    said = collect(qtbot, w, busy)
    assert MSG_MAINTENANCE in said
    assert said.startswith("Marketplace connection error" if english else "마켓 연결 오류")
    assert MSG_MAINTENANCE in w.runs.item(0, ERROR).text() and w.runs.item(0, ACCOUNT).text() == "사방넷 2호점"
    w.reject()


def test_sabangnets_words_in_the_collection_window_in_korean(  # type: ignore[no-untyped-def]
        make_station, qtbot, fake, expect_warnings) -> None:
    sabangnet_words_on_screen(qtbot, make_station(), fake, english=False)


def test_sabangnets_words_in_the_collection_window_in_english(  # type: ignore[no-untyped-def]
        make_station, qtbot, fake, english_screens, expect_warnings) -> None:
    sabangnet_words_on_screen(qtbot, make_station(Settings(recorder="off", language="en")), fake, english=True)
