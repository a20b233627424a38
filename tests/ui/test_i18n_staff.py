"""The staff screen and the station's staff messages in English (``language: en``).

Driven the way a supervisor and a packer use them: the list, a refused name, a packer added, renamed,
deactivated (its confirmation) and reactivated, a new badge code (its confirmation), badges printed; at the
station a badge refused mid-pack, a deactivated packer signed out and their badge refused. Every text read
holds no Korean other than the shop's own words (the packers' names)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFileDialog, QMessageBox

from packdesk.channels.demo import Scenario
from packdesk.services.settings import Settings
from packdesk.ui import barcode_sheet
from tests.ui.conftest import Packer
from tests.ui.test_i18n_orders import commit
from tests.ui.test_staff_view import act, click_row, close_staff, member, open_staff, row_texts
from tests.ui.texts import korean_left, shop_words, visible_texts

pytestmark = pytest.mark.gui


def test_the_staff_screen_and_the_stations_staff_messages_in_english(  # type: ignore[no-untyped-def]
        make_station, qtbot, monkeypatch, english_screens, tmp_path: Path) -> None:
    st = make_station(Settings(recorder="off", language="en"))
    packer = Packer(qtbot, st)
    seen: list[str] = []

    def look() -> None:
        seen.extend([packer.view.banner.text(), packer.view.banner_en.text(), *visible_texts(st.window)])

    look()
    assert packer.banner() == "Scan your packer badge" and packer.view.waybill_label.text() == \
        "▶ Scan a packer badge"
    assert "Staff…" in [a.text() for a in st.window.findChildren(QAction)]
    asked: list[str] = []

    def yes(*args: Any, **kwargs: Any) -> QMessageBox.StandardButton:
        asked.extend(args[1:3])  # title, text
        return QMessageBox.StandardButton.Yes

    monkeypatch.setattr(QMessageBox, "question", yes)
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        lambda *a, **k: (asked.extend(a[1:3]), (str(tmp_path / "badges.png"), "PNG (*.png)"))[1])
    painted: list[str] = []
    paint = barcode_sheet.paint_page
    monkeypatch.setattr(barcode_sheet, "paint_page", lambda p, ops, dpi: (
        painted.extend(op.text for op in ops if isinstance(op, barcode_sheet.TextOp)), paint(p, ops, dpi)))

    view = open_staff(qtbot, st, "Staff…")
    assert view.windowTitle() == "Staff"
    assert [view.table.horizontalHeaderItem(c).text() for c in range(4)] == \
        ["Name", "Badge code", "State", "Packs done"]
    seen += visible_texts(view)
    commit(qtbot, view.name_edit, "김민수")
    with qtbot.waitSignal(view.refused, timeout=10_000):
        view.add_button.click()
    assert view.message.text().startswith("An active packer is already called 김민수")
    seen += visible_texts(view)
    commit(qtbot, view.name_edit, "Sam Park")
    act(qtbot, view, view.add_button)
    sam = member(view, "Sam Park")
    assert view.message.text() == f"Packer added: Sam Park ({sam.badge_code}) — print their badge"
    assert row_texts(view, "Sam Park") == ["Sam Park", sam.badge_code, "Active", "0"]
    seen += visible_texts(view)
    click_row(qtbot, view, "Sam Park")
    commit(qtbot, view.name_edit, "Sam Park B")
    act(qtbot, view, view.rename_button)
    assert view.message.text() == "Renamed: Sam Park → Sam Park B"
    act(qtbot, view, view.active_button)
    assert view.message.text() == "Deactivated: Sam Park B" and view.active_button.text() == "Reactivate"
    assert row_texts(view, "Sam Park B")[2] == "Deactivated"
    seen += visible_texts(view)
    act(qtbot, view, view.active_button)
    assert view.message.text() == "Reactivated: Sam Park B — the same badge signs in"
    act(qtbot, view, view.badge_button)
    sam = member(view, "Sam Park B")
    assert view.message.text() == f"New badge code: Sam Park B {sam.badge_code} — print it"
    seen += visible_texts(view)
    with qtbot.waitSignal(view.printed, timeout=10_000):
        view.print_button.click()
    assert view.message.text().startswith("1 badge saved: ")
    assert painted[:2] == ["PackDesk packer badges", "Packer badges"] and "Sam Park B" in painted
    seen += visible_texts(view) + asked + painted
    assert asked[0] == "Deactivate" and asked[1].startswith("Deactivate Sam Park B?")
    assert asked[2] == "New badge code" and asked[4] == "Save badges"

    # the station: a badge mid-pack is refused; a packer deactivated while packing leaves with the pack's end
    close_staff(qtbot, st, view)
    packer.scan("PD-PACKER-001")
    assert packer.view.waybill_label.text() == "▶ Scan a waybill"
    packer.scan(Scenario.SIMPLE)
    packer.scan(sam.badge_code)
    assert packer.banner() == "Finish or cancel this pack before changing packer" and packer.view.banner_en.text() == ""
    look()
    packer.scan("PD-PACKER-001")
    assert packer.banner() == "김민수 is signed in already — carry on packing"
    look()
    view = open_staff(qtbot, st, "Staff…")
    click_row(qtbot, view, "김민수")
    with qtbot.waitSignal(packer.view.rendered, timeout=10_000):
        act(qtbot, view, view.active_button)
    assert packer.banner() == "김민수 was deactivated — signed out when this pack ends"
    look()
    close_staff(qtbot, st, view)
    packer.scan("PD-CMD-CANCEL")
    assert packer.banner() == f"Pack cancelled: {Scenario.SIMPLE} — 김민수 is deactivated and signed out: " \
                              "scan a packer badge"
    look()
    packer.scan("PD-PACKER-001")
    assert packer.banner() == "This packer is deactivated: 김민수 — ask a supervisor"
    look()

    assert len(seen) > 60
    assert korean_left(seen, shop_words(st.db)) == []
