"""The screen language: Korean first with English (the default), or English only (``language: en``).

The station window in English is checked the way a packer sees it: every text on it — menus, status bar,
banner, table, footer — after a pack, a refusal and an error, must hold no Korean other than the data's own
(item, recipient and packer names come from the shop as they are)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from packdesk.channels.demo import BARCODE, Scenario
from packdesk.core.errors import KnownError
from packdesk.services.settings import Settings
from packdesk.ui import i18n
from packdesk.ui.i18n import HANGUL, both, english, korean, one, pair, tr, two_lines
from tests.ui.conftest import Packer
from tests.ui.texts import shop_words, strip, visible_texts


@pytest.mark.parametrize(("text", "expected"), [
    ("상품 / Item", "Item"),
    ("— 선택 / choose —", "— choose —"),
    ("● 오프라인 — 포장은 계속됩니다 / Offline — packing goes on", "● Offline — packing goes on"),
    ("스캐너: 키보드 / Scanner: keyboard", "Scanner: keyboard"),
    ("세라믹 머그컵  1 / 2 확인", "세라믹 머그컵  1 / 2 확인"),  # Korean after the split: not two languages
    ("601000000011 / 2", "601000000011 / 2"),                    # no Korean at all
    ("포장 완료", "포장 완료"),                                    # Korean only: left whole (the test below sees it)
])
def test_the_english_half(text: str, expected: str) -> None:
    assert english(text) == expected
    assert korean(text) == (text if expected == text else text[: text.rindex(" / ")])


def test_korean_first_is_the_default_and_english_only_is_chosen(any_language) -> None:  # type: ignore[no-untyped-def]
    assert Settings().language == "ko" and i18n.language() == "ko"
    assert tr("상품 / Item") == "상품 / Item" and both("송장", "Waybill 1") == "송장 / Waybill 1"
    assert pair("포장 완료", "Pack complete") == ("포장 완료", "Pack complete") and one("송장", "Waybill") == "송장"
    assert two_lines("삭제합니다.", "Deletes it.") == "삭제합니다.\nDeletes it."
    i18n.set_language("en")
    assert tr("상품 / Item") == "Item" and both("송장", "Waybill 1") == "Waybill 1"
    assert pair("포장 완료", "Pack complete") == ("Pack complete", "") and one("송장", "Waybill") == "Waybill"
    assert two_lines("삭제합니다.", "Deletes it.") == "Deletes it."
    with pytest.raises(ValueError):
        i18n.set_language("ja")


def test_the_station_in_english_shows_no_korean_but_the_datas(  # type: ignore[no-untyped-def]
        make_station, qtbot, any_language, expect_warnings) -> None:
    st = make_station(Settings(recorder="off", language="en"))
    p = Packer(qtbot, st)
    w = st.window
    p.scan("PD-PACKER-001")
    p.scan(Scenario.SIMPLE)
    assert p.banner().startswith("Packing 601000000011") and p.view.banner_en.text() == ""
    seen = visible_texts(w)
    p.scan(BARCODE["TEA-GR"])  # not in this box: refused, in English
    assert p.banner().startswith("Wrong item") and p.sounds[-1] == "error"
    seen += visible_texts(w)
    p.scan(BARCODE["MUG-WH-01"])
    seen += visible_texts(w)
    w.on_error(KnownError("db_unreachable", detail="test", code_scanned="601000000022"))
    assert "warehouse server" in p.banner().lower() and w.statusBar().currentMessage() == p.banner()
    seen += [*visible_texts(w), w.statusBar().currentMessage()]
    w.on_outbox_counts(2, 1, 0)
    w.on_connectivity(False)
    w.on_camera_status("running", "카메라 / camera: synthetic")  # what the camera says (devices/camera.py)
    assert w.recorder_label.text().endswith("camera: synthetic")
    seen += visible_texts(w)

    data = shop_words(st.db)  # the shop's own words, shown as they are
    korean = [t for t in seen if HANGUL.search(strip(t, data))]
    assert korean == [], sorted(set(korean))
    assert any("Offline" in t for t in visible_texts(w)) and any("2 waiting" in t for t in visible_texts(w))

    # the dispatch outbox, with the parcel just packed waiting in it, and the supervisor PIN dialog
    from sqlalchemy import select

    from packdesk.core import models as m
    from packdesk.services.accounts import set_paused
    from packdesk.services.auth import hash_pin
    from packdesk.ui.supervisor import PinDialog, SupervisorGate

    with st.db.session() as s:  # uploads held (a completed pack would otherwise go out at once)
        set_paused(st.db, s.scalars(select(m.ChannelAccount.id)).one(), True)
    p.scan(BARCODE["MUG-WH-01"])
    p.scan(BARCODE["TMB-500"])
    assert p.banner().startswith("Pack complete")
    outbox = w.open_outbox()
    with qtbot.waitSignal(outbox.refreshed, timeout=5000):
        outbox.refresh()
    assert outbox.tables["waiting"].rowCount() == 2  # the two lines of the pack, waiting for their upload
    pin = PinDialog(SupervisorGate(hash_pin("1234", rounds=4)), w)
    qtbot.keyClicks(pin.pin, "9999", delay=120)
    pin.submit()
    assert pin.message.text() == "Wrong PIN"
    reports = w.open_reports()
    qtbot.waitUntil(lambda: reports.report is not None and not reports.busy, timeout=5000)
    assert reports.report.packs == 1 and reports.summary.text().startswith("1 pack · ")
    screens = visible_texts(outbox) + [outbox.tabs.tabText(i) for i in range(outbox.tabs.count())] \
        + visible_texts(pin) + visible_texts(reports) + [reports.tabs.tabText(i) for i in range(reports.tabs.count())] \
        + [label for label, _ in reports.hour_chart.bars + reports.reason_chart.bars]
    reports.close()
    review = w.open_review()
    with qtbot.waitSignal(review.searched, timeout=5000):
        review.search_box.setText("no-such-waybill")
        review.search()
    assert "No recording matches" in review.status_label.text() and review.result_label.text() == "0 recordings"
    screens += visible_texts(review) + [review.field_combo.itemText(i) for i in range(review.field_combo.count())] \
        + [review.history_tree.headerItem().text(c) for c in range(3)] \
        + [review.model.headerData(c, Qt.Orientation.Horizontal) for c in range(review.model.columnCount())]
    review.close()
    assert "Claim" in screens and "Note (claim number, what happened…)" in screens  # group titles, placeholders
    left = [t for t in screens if HANGUL.search(strip(t, data))]
    pin.close()
    outbox.close()
    assert left == [], sorted(set(left))


def test_the_settings_screen_in_english(qtbot, any_language) -> None:  # type: ignore[no-untyped-def]
    from packdesk.ui.settings_dialog import SettingsDialog

    i18n.set_language("en")
    d = SettingsDialog(Settings(language="en"))
    qtbot.addWidget(d)
    pages = [d.page_list.item(i).text() for i in range(d.page_list.count())]
    texts = visible_texts(d) + pages
    d.fields["station_name"].put("")
    assert d.candidate() is None and d.error.text().startswith("Invalid value:\nStation name")
    texts.append(d.error.text())
    assert "Screen language ↻" in texts and "Database ↻" in texts and "This PC only (SQLite)" in texts
    assert pages[:2] == ["Station", "Scanner"] and "Settings marked ↻ apply at the next start" in texts
    assert [t for t in texts if HANGUL.search(t)] == []
