"""The station screen as packers read it (issue #20): full screen and sized from the window, the option big and
named, the row just scanned, what to do next, the command buttons, refusals that look different, "already
packed" with when, where and who, the completed box, today's counts. Driven at scanner speed in both languages."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from packdesk.channels.demo import BARCODE, Scenario
from packdesk.core.kst import KST
from packdesk.core.models import utcnow
from packdesk.core.station import Command, Level
from packdesk.services.settings import Settings
from packdesk.ui.i18n import HANGUL
from packdesk.ui.sounds import SoundPlayer
from packdesk.ui.station_view import BANNER_STYLE, JUST_SCANNED_BG, OPTION_COL, PREVIEW_SHARE

pytestmark = pytest.mark.gui

MUG, TUMBLER, TEA = BARCODE["MUG-WH-01"], BARCODE["TMB-500"], BARCODE["TEA-GR"]


def test_the_station_opens_full_screen_and_f11_leaves_it(station, qtbot) -> None:  # type: ignore[no-untyped-def]
    assert Settings().full_screen  # the default
    w = station.window
    w.show_station(True)
    qtbot.waitUntil(w.isFullScreen)
    qtbot.keyClick(w, Qt.Key.Key_F11)
    qtbot.waitUntil(lambda: not w.isFullScreen() and w.isMaximized())
    assert not w.full_screen_action.isChecked()
    qtbot.keyClick(w, Qt.Key.Key_F11)
    qtbot.waitUntil(w.isFullScreen)
    w.show_station(False)  # the setting off: maximised
    qtbot.waitUntil(lambda: w.isMaximized() and not w.isFullScreen())


def test_everything_scales_with_the_window(station, packer, qtbot) -> None:  # type: ignore[no-untyped-def]
    """Fonts, rows, the status bar and the camera picture follow the window: bigger on 1920x1080 than on
    1280x800, and the whole window fits a 1280x800 screen."""
    w, view = station.window, packer.view
    packer.scan("PD-PACKER-001")
    packer.scan(Scenario.TSHIRTS)

    def measure(width: int, height: int) -> dict[str, int]:
        w.resize(width, height)
        qtbot.waitUntil(lambda: w.size().width() == width and w.size().height() == height)
        QApplication.processEvents()
        status = w.station_label.font().pixelSize()
        return {"banner": view.banner.font().pixelSize(), "heading": view.waybill_label.font().pixelSize(),
                "row": view.table.rowHeight(0), "option": view.table.item(0, OPTION_COL).font().pixelSize(),
                "header": view.table.horizontalHeader().height(), "status": status,
                "preview": view._preview.picture.width(), "state_image": view.state_image.width()}

    small, big = measure(1280, 800), measure(1920, 1080)
    for key in small:
        assert big[key] > small[key], key
    assert big["preview"] == round(1920 * PREVIEW_SHARE) and small["preview"] == round(1280 * PREVIEW_SHARE)
    assert w.minimumSizeHint().width() <= 1280 and w.minimumSizeHint().height() <= 800
    assert big["option"] > view.table.font().pixelSize()  # the option bigger than the item's name (at 1080)


def test_the_option_is_named_and_the_row_just_scanned_is_marked(station, packer) -> None:  # type: ignore[no-untyped-def]
    view = packer.view
    packer.scan("PD-PACKER-001")
    packer.scan(Scenario.TSHIRTS)
    assert view.option_texts() == ["블랙 / S", "블랙 / M", "블랙 / L"]
    assert view.scanned_row is None
    packer.scan("ts-blk-m")
    assert packer.banner() == "오버핏 티셔츠 · 블랙 / M  1 / 2 확인"
    assert view.scanned_row == 1 and view.table.item(1, OPTION_COL).background().color() == JUST_SCANNED_BG
    packer.scan("ts-blk-l")
    assert view.scanned_row == 2 and view.table.item(1, OPTION_COL).background().color() != JUST_SCANNED_BG
    packer.scan(TEA)  # refused: the banner names the item, no row is marked as counted
    assert view.scanned_row is None and "녹차" in packer.banner()


def test_what_to_do_next_is_always_said(station, packer) -> None:  # type: ignore[no-untyped-def]
    heading = packer.view.waybill_label
    assert "작업자 바코드를 스캔하세요" in heading.text() and "작업자 바코드" in packer.banner()
    packer.scan("PD-PACKER-001")
    assert "송장을 스캔하세요" in heading.text()
    packer.scan("PD-CMD-LOGOUT")
    assert "작업자 바코드를 스캔하세요" in heading.text() and "송장" not in heading.text()
    assert "작업자 바코드를 스캔하세요" in packer.banner()


def test_the_command_buttons_do_what_the_barcodes_do(station, packer, qtbot) -> None:  # type: ignore[no-untyped-def]
    view = packer.view
    buttons = view.command_buttons
    for command, button in buttons.items():
        assert f"PD-CMD-{command.value}" in button.text() and button.focusPolicy() == Qt.FocusPolicy.NoFocus
    packer.scan("PD-PACKER-001")
    assert not buttons[Command.COMPLETE].isEnabled() and buttons[Command.LOGOUT].isEnabled()
    packer.scan(Scenario.GIFT_SET)
    packer.scan(MUG)
    assert buttons[Command.CANCEL].isEnabled() and not buttons[Command.LOGOUT].isEnabled()

    def press(command: Command) -> None:
        with qtbot.waitSignal(view.rendered, timeout=3000):
            qtbot.mouseClick(buttons[command], Qt.MouseButton.LeftButton)

    press(Command.COMPLETE)  # items left: refused, like the barcode
    assert "남았습니다" in packer.banner() and packer.level() == "error"
    press(Command.CANCEL)  # an item is in: asked again
    assert "1개를 버립니다" in packer.banner() and buttons[Command.CANCEL].property("armed")
    assert "취소 한 번 더" in buttons[Command.CANCEL].text()
    assert view.progress_label.text() == "1 / 8"
    packer.scan(MUG)  # an item scanned: the cancel is forgotten
    assert not buttons[Command.CANCEL].property("armed")
    press(Command.CANCEL)
    press(Command.CANCEL)
    assert "포장 취소" in packer.banner() and station.service.state.pack is None
    press(Command.LOGOUT)
    assert station.service.state.packer is None and "작업자 바코드" in view.waybill_label.text()


def test_parcel_stops_look_unlike_a_wrong_item_and_a_repeat_shows(station, packer) -> None:  # type: ignore[no-untyped-def]
    view = packer.view
    box = view._banner_box
    packer.scan("PD-PACKER-001")
    for code in (Scenario.CANCELLED, Scenario.CANCEL_REQUESTED):
        packer.scan(code)
        assert box.property("look") == "hold" and view.state_image.property("level") == "hold"
        assert view.instruction.isVisible() and "보류 선반에 두세요" in view.instruction.text()
    packer.scan(Scenario.SIMPLE)
    flashes = view.flashes
    packer.scan(TEA)
    assert box.property("look") == "error" and not view.instruction.isVisible()
    assert not view.repeat_badge.isVisible() and view.flashes == flashes + 1
    packer.scan(TEA)  # the same wrong item again: counted and flashed, not silently the same screen
    assert view.repeat_badge.isVisible() and view.repeat_badge.text() == "×2" and view.flashes == flashes + 2
    packer.scan(TEA)
    assert view.repeat_badge.text() == "×3"
    packer.qtbot.waitUntil(lambda: not box.property("flashing"), timeout=3000)  # the flash ends by itself
    packer.scan(MUG)
    assert not view.repeat_badge.isVisible()


def test_sound_off_is_said_on_screen(station, packer, qtbot) -> None:  # type: ignore[no-untyped-def]
    assert station.window.sounds.off_reason  # the test stations have no sound
    assert packer.view.sound_label.isVisible() and "소리 꺼짐" in packer.view.sound_label.text()
    packer.view.show_sound("")
    assert not packer.view.sound_label.isVisible()
    assert SoundPlayer(enabled=False).off_reason


def test_already_packed_says_when_where_and_by_whom_and_the_box_stays(station, packer, qtbot) -> None:  # type: ignore[no-untyped-def]
    view = packer.view
    counts = view.counts_label
    qtbot.waitUntil(lambda: "오늘 포장 0" in counts.text(), timeout=5000)
    left = int(counts.text().split("남은 포장 ")[1].split()[0])
    for code in ("PD-PACKER-001", Scenario.SIMPLE, MUG, TUMBLER, MUG):
        packer.scan(code)
    assert view.row_texts() == [("세라믹 머그컵", "2 / 2"), ("스텐 텀블러 500ml", "1 / 1")]  # kept on screen
    qtbot.waitUntil(lambda: f"오늘 포장 1 · 남은 포장 {left - 1}" in counts.text(), timeout=5000)
    packer.scan(TEA)  # a stray scan: refused, the box stays
    assert view.row_texts()[0] == ("세라믹 머그컵", "2 / 2")
    packer.scan(Scenario.SIMPLE)
    today = utcnow().astimezone(KST).strftime("%Y-%m-%d")
    assert "이미 포장된 송장" in packer.banner()
    assert today in packer.banner() and "STATION-1" in packer.banner() and "김민수" in packer.banner()
    packer.scan(Scenario.TEA_SET)  # the next waybill replaces the box
    assert view.row_texts() == [("녹차 티백", "0 / 12")]


def test_the_station_in_english(any_language, make_station, qtbot) -> None:  # type: ignore[no-untyped-def]
    from tests.ui.conftest import Packer

    packer = Packer(qtbot, make_station(Settings(recorder="off", language="en")))
    view = packer.view
    assert view.waybill_label.text() == "▶ Scan a packer badge"
    packer.scan("PD-PACKER-001")
    packer.scan(Scenario.TSHIRTS)
    packer.scan("ts-blk-s")
    assert packer.banner() == "오버핏 티셔츠 · 블랙 / S  1 / 1 checked"  # the shop's words, as they came
    packer.scan("PD-CMD-CANCEL")
    assert packer.banner() == "Scan CANCEL again to throw away 1 scanned item — scan an item to go on"
    assert view.command_buttons[Command.CANCEL].text() == "Cancel again\nPD-CMD-CANCEL"
    packer.scan("PD-CMD-CANCEL")
    packer.scan(Scenario.CANCEL_REQUESTED)
    assert view.instruction.text() == "Put it on the hold shelf"
    qtbot.waitUntil(lambda: "Packed today 0" in view.counts_label.text(), timeout=5000)
    shown = [view.banner.text(), view.instruction.text(), view.waybill_label.text(), view.counts_label.text(),
             view.sound_label.text(), *(b.text() for b in view.command_buttons.values())]
    assert not any(HANGUL.search(t) for t in shown), shown


def test_the_banner_is_painted_in_its_levels_colours(station, packer) -> None:  # type: ignore[no-untyped-def]
    """The banner's colours are a palette painted by the box (not a style sheet per scan): what is on screen is
    the level's background, with its text in the level's colour."""
    from collections import Counter

    box = packer.view._banner_box

    def painted() -> tuple[str, set[str]]:
        img = box.grab().toImage()
        seen = Counter(img.pixelColor(x, y).name() for x in range(0, img.width(), 3) for y in range(0, img.height(), 3))
        return seen.most_common(1)[0][0], set(seen)

    packer.scan("PD-PACKER-001")
    packer.scan(Scenario.SIMPLE)
    bg, seen = painted()
    assert (bg, BANNER_STYLE[Level.INFO][1] in seen) == (BANNER_STYLE[Level.INFO][0], True)
    packer.scan(TEA)  # refused: red, its text white
    packer.qtbot.waitUntil(lambda: not box.property("flashing"), timeout=3000)
    bg, seen = painted()
    assert bg == BANNER_STYLE[Level.ERROR][0] and BANNER_STYLE[Level.ERROR][1] in seen
    for code in (MUG, TUMBLER, MUG):
        packer.scan(code)
    assert "포장 완료" in packer.banner()
    bg, seen = painted()  # complete: green
    assert bg == BANNER_STYLE[Level.SUCCESS][0] and BANNER_STYLE[Level.SUCCESS][1] in seen


def test_the_box_is_fitted_again_when_the_table_gets_another_height(station, packer, qtbot) -> None:  # type: ignore[no-untyped-def]
    """The table's height changes with no new drawing (a window system lays the maximised window out after its
    resize drew; a prompt shown above the table): the box's rows are fitted to it at once, not at the next scan."""
    w, view, table = station.window, packer.view, packer.view.table
    w.set_full_screen(False)
    w.showNormal()
    w.resize(1280, 1000)
    qtbot.waitUntil(lambda: w.height() == 1000, timeout=3000)
    for code in ("PD-PACKER-001", Scenario.GIFT_SET, MUG, BARCODE["COASTER-01"]):
        packer.scan(code)

    def fitted() -> bool:
        return sum(table.rowHeight(r) for r in range(table.rowCount())) <= table.viewport().height()

    qtbot.waitUntil(fitted, timeout=3000)
    before = table.viewport().height()
    view.label_prompt.setText("▶")  # a prompt above the table: nothing drawn again
    view.label_prompt.show()
    qtbot.waitUntil(lambda: table.viewport().height() < before, timeout=3000)
    qtbot.waitUntil(fitted, timeout=3000)


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_the_status_bar_shows_every_field_whole_at_1280x800(  # type: ignore[no-untyped-def]
        make_station, qtbot, any_language, expect_warnings, lang: str) -> None:
    """Seven fields on one line at 1280 px, each in its longest everyday state (no PIN, a serial scanner that
    lost its port, a camera with a long address, the server lost, offline, refusals and holds waiting): every
    field shows its whole text, and its tooltip has both languages and the details."""
    from PySide6.QtWidgets import QLabel

    from packdesk.devices.serial_scanner import ScannerState, ScannerStatus

    st = make_station(Settings(recorder="off", language=lang))
    w = st.window
    w.resize(1280, 800)
    qtbot.waitUntil(lambda: w.size().width() == 1280)
    w.on_serial_status(ScannerStatus(ScannerState.DISCONNECTED,
                                     "연결 끊김 / connection lost on COM12: [Errno 5] Input/output error"))
    w.on_camera_status("running", "카메라 / camera: rtsp://192.168.100.131:554/cam/realmonitor?channel=1")
    w.on_db_status(False)
    w.on_connectivity(False)
    w.on_outbox_counts(1234, 56, 7)
    QApplication.processEvents()
    fields = [w.mode_label, w.station_label, w.scanner_label, w.recorder_label, w.db_label, w.online_label,
              w.outbox_label]
    assert all(f.isVisible() for f in fields)
    cut = [(f.text(), f.width(), f.sizeHint().width()) for f in fields if f.width() < f.sizeHint().width()]
    assert cut == [], repr(cut)
    assert sum(f.width() for f in fields) < 1280
    assert "COM12" in w.scanner_label.toolTip() and "Errno 5" in w.scanner_label.toolTip()
    assert "realmonitor" in w.recorder_label.toolTip() and w.recorder_label.text().endswith("…")
    if lang == "ko":  # the bar in Korean alone; the tooltip in both
        assert "Offline" not in w.online_label.text() and "Offline" in w.online_label.toolTip()
        assert w.outbox_label.text() == "전송 대기 1234 · 거부 56 · 보류 7"
        assert "refused" in w.outbox_label.toolTip() and "연결 끊김" in w.scanner_label.text()
    else:
        assert not [f.text() for f in w.statusBar().findChildren(QLabel) if HANGUL.search(f.text() + f.toolTip())]
        assert w.outbox_label.text() == "1234 waiting · 56 rejected · 7 held"
    assert all("b71c1c" in f.styleSheet() for f in (w.scanner_label, w.db_label, w.outbox_label))  # in trouble
    assert "e65100" in w.online_label.styleSheet() and "e65100" in w.mode_label.styleSheet()
