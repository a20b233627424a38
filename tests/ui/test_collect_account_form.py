"""The account form refuses what is missing all at once (issue #20): every missing field is named in one
message, in Korean and English, and marked on the form (its box and its label) until it is typed in again; a
form with a field missing and another malformed names both kinds. A person fills it in one go after that."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QInputMethodEvent
from PySide6.QtWidgets import QApplication
from sqlalchemy import func, select

from packdesk.core import models as m
from packdesk.core.enums import ChannelKind
from packdesk.services.settings import Settings
from tests.ui.test_collect_view import click, settled

pytestmark = pytest.mark.gui


def marked(w, kind: ChannelKind) -> list[str]:  # type: ignore[no-untyped-def]
    return [key for key, widget in w._form_widgets(kind).items() if widget.property("invalid")]


def accounts(st) -> int:  # type: ignore[no-untyped-def]
    with st.db.session() as s:
        return s.scalar(select(func.count()).select_from(m.ChannelAccount).where(
            m.ChannelAccount.kind == ChannelKind.SABANGNET)) or 0


def every_missing_field_at_once(qtbot, st, english: bool) -> None:  # type: ignore[no-untyped-def]
    w = st.window.open_collect()
    settled(qtbot, w)
    w.kind_combo.setCurrentIndex(w.kind_combo.findData(ChannelKind.SABANGNET))
    form = w.kind_forms[ChannelKind.SABANGNET]
    qtbot.keyClicks(form["external_id"], "sbn-id")   # only the ID typed
    click(qtbot, w, w.add_button)
    said = w.account_message.text()
    en = ("Required: Name, API key, API address, public address+port, or upload+public address")
    ko = "입력하세요: 이름, 연동 키, API 주소, 요청 XML 공개 주소+포트, 또는 업로드 주소+공개 주소"
    assert said == (en if english else f"{ko} / {en}")
    assert marked(w, ChannelKind.SABANGNET) == ["name", "secret", "api_url", "relay_public_url", "relay_port",
                                                "relay_put_url", "relay_get_url"]
    assert "b71c1c" in w._field_labels[(ChannelKind.SABANGNET, "secret")].styleSheet()  # its label marked too
    assert accounts(st) == 0

    qtbot.keyClicks(form["secret"], "sbn-key")       # typing in a marked field takes its mark off
    assert "secret" not in marked(w, ChannelKind.SABANGNET) and "api_url" in marked(w, ChannelKind.SABANGNET)
    assert w._field_labels[(ChannelKind.SABANGNET, "secret")].styleSheet() == ""
    qtbot.keyClicks(form["api_url"], "sbadmin13")   # not an address, and the name still missing
    click(qtbot, w, w.add_button)
    en = "Required: Name, public address+port, or upload+public address — not in the expected form: API address"
    ko = "입력하세요: 이름, 요청 XML 공개 주소+포트, 또는 업로드 주소+공개 주소 — 형식이 맞지 않습니다: API 주소"
    assert w.account_message.text() == (en if english else f"{ko} / {en}")
    assert marked(w, ChannelKind.SABANGNET)[:2] == ["name", "api_url"]

    ime = QInputMethodEvent("", [])                  # now all of it, in one go
    ime.setCommitString("사방넷 본점")
    QApplication.sendEvent(w.name_edit, ime)
    form["api_url"].clear()
    for key, text in (("api_url", "https://sbadmin13.sabangnet.co.kr/RTL"),
                      ("relay_public_url", "http://203.0.113.5:8765"), ("relay_port", "8765")):
        qtbot.keyClicks(form[key], text)
    click(qtbot, w, w.add_button)
    assert w.account_message.text().startswith("Added: 사방넷 본점" if english else "추가됨: 사방넷 본점")
    assert marked(w, ChannelKind.SABANGNET) == [] and accounts(st) == 1

    w.name_edit.clear()                              # refused again, then another market chosen: marks go
    click(qtbot, w, w.add_button)
    assert marked(w, ChannelKind.SABANGNET) == ["name", "secret"]  # the key went to the keyring: empty
    w.kind_combo.setCurrentIndex(w.kind_combo.findData(ChannelKind.COUPANG))
    assert marked(w, ChannelKind.SABANGNET) == [] and marked(w, ChannelKind.COUPANG) == []
    w.reject()


def test_every_missing_field_is_named_and_marked_in_korean(make_station, qtbot, memory_keyring) -> None:  # type: ignore[no-untyped-def]
    every_missing_field_at_once(qtbot, make_station(), english=False)


def test_every_missing_field_is_named_and_marked_in_english(  # type: ignore[no-untyped-def]
        make_station, qtbot, memory_keyring, english_screens) -> None:
    every_missing_field_at_once(qtbot, make_station(Settings(recorder="off", language="en")), english=True)
