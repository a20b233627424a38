"""The first-run set-up, gone through the way a person does: typing the station name and the PIN, choosing
the synthetic camera and watching its picture, scanning the test barcode at scanner speed, pressing Next and
Finish. Finishing writes settings.json and the station starts with it; cancelling writes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QInputMethodEvent
from PySide6.QtWidgets import QApplication, QLineEdit, QPlainTextEdit, QRadioButton, QWidget, QWizard

from packdesk.app import parse_args, realpacking_probe, wants_first_run
from packdesk.paths import AppDirs
from packdesk.services.auth import check_pin
from packdesk.services.settings import Settings, load_settings
from packdesk.ui.first_run import SCAN_TEST_CODE, FirstRunWizard
from tests.ui.conftest import SCANNER_KEY_DELAY_MS, Packer

pytestmark = pytest.mark.gui

HUMAN_KEY_DELAY_MS = 120  # a person: slower than the scanner key gap (40 ms; 70 ms in the GUI tests)


def show(qtbot, wizard: FirstRunWizard) -> FirstRunWizard:  # type: ignore[no-untyped-def]
    qtbot.addWidget(wizard)
    wizard.show()
    qtbot.waitExposed(wizard)
    wizard.activateWindow()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is not None)
    return wizard


def click(qtbot, wizard: QWizard, which: QWizard.WizardButton) -> None:  # type: ignore[no-untyped-def]
    button = wizard.button(which)
    assert button.isEnabled() and button.isVisible(), which
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def choose(qtbot, radio: QRadioButton) -> None:  # type: ignore[no-untyped-def]
    """A click on the round button itself (the widget is as wide as the page; its text ends before)."""
    qtbot.mouseClick(radio, Qt.MouseButton.LeftButton, pos=QPoint(8, radio.height() // 2))
    assert radio.isChecked()


def type_into(qtbot, field: QLineEdit, text: str) -> None:  # type: ignore[no-untyped-def]
    field.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is field)
    qtbot.keyClicks(field, text, delay=HUMAN_KEY_DELAY_MS)
    qtbot.waitUntil(lambda: field.text() == text, timeout=3000)


def scan(qtbot, code: str) -> None:  # type: ignore[no-untyped-def]
    """Key presses at scanner speed into whatever has focus, then Enter (``Packer.type_code``)."""
    target: QWidget = QApplication.focusWidget() or QApplication.activeWindow()  # type: ignore[assignment]
    for ch in code:
        shift = Qt.KeyboardModifier.ShiftModifier if ch.isupper() else Qt.KeyboardModifier.NoModifier
        qtbot.keyClick(target, ch, shift, delay=SCANNER_KEY_DELAY_MS)
    qtbot.keyClick(target, Qt.Key.Key_Return, delay=SCANNER_KEY_DELAY_MS)


def test_going_through_the_set_up_writes_settings_the_station_starts_with(  # type: ignore[no-untyped-def]
        qtbot, dirs: AppDirs, tmp_path: Path, make_station) -> None:
    assert not dirs.settings_file.exists()
    w = show(qtbot, FirstRunWizard(dirs))
    next_button = w.button(QWizard.WizardButton.NextButton)
    # 1. station name: nothing typed, no Next
    assert w.currentPage() is w.name_page and not next_button.isEnabled()
    type_into(qtbot, w.name_page.name_edit, "PACK-2")
    click(qtbot, w, QWizard.WizardButton.NextButton)
    # 2. folders: the data folder is shown (changed only with --data-dir), the video folder chosen
    assert w.currentPage() is w.folders_page
    assert w.folders_page.data_edit.text() == str(dirs.data) and w.folders_page.data_edit.isReadOnly()
    assert "--data-dir" in " ".join(lbl.text() for lbl in w.folders_page.findChildren(type(w.folders_page.message)))
    video = tmp_path / "big-disk" / "videos"
    w.folders_page.video_edit.setText(str(video))
    click(qtbot, w, QWizard.WizardButton.NextButton)
    # 3. camera: the synthetic camera, and its live picture
    page = w.camera_page
    assert w.currentPage() is page
    page.resolution.setCurrentIndex(page.resolution.findData("320x240"))
    page.choice.setCurrentIndex(page.choice.findData("synthetic"))
    qtbot.waitUntil(lambda: page.camera is not None and page.camera.spec == "synthetic", timeout=3000)
    first = page.camera
    qtbot.waitUntil(lambda: page.preview.pixmap() is not None and not page.preview.pixmap().isNull(), timeout=5000)
    qtbot.waitUntil(lambda: first.frames_captured > 3, timeout=5000)  # live, not one still
    click(qtbot, w, QWizard.WizardButton.NextButton)
    assert page.camera is None  # the preview's camera is closed on leaving the page
    # 4. scanner: a wrong barcode is named, the one on screen ticks
    assert w.currentPage() is w.scanner_page and not w.scanner_page.scanned_ok
    scan(qtbot, "8801234000017")
    qtbot.waitUntil(lambda: "8801234000017" in w.scanner_page.result.text())
    assert "다른 바코드" in w.scanner_page.result.text() and not w.scanner_page.scanned_ok
    scan(qtbot, SCAN_TEST_CODE)
    qtbot.waitUntil(lambda: w.scanner_page.scanned_ok)
    assert "스캔 성공" in w.scanner_page.result.text() and "Scan OK" in w.scanner_page.result.text()
    assert w.scanner_page.port_edit.text() == ""  # the scan was taken, not typed into a field
    click(qtbot, w, QWizard.WizardButton.NextButton)
    # 5. recorder: off (this test's station films nothing)
    assert w.currentPage() is w.recorder_page and not w.recorder_page.rp_box.isEnabled()
    choose(qtbot, w.recorder_page.buttons["off"])
    assert w.recorder_page.recorder() == "off"
    click(qtbot, w, QWizard.WizardButton.NextButton)
    # 6. PIN twice
    assert w.currentPage() is w.pin_page and not next_button.isEnabled()
    type_into(qtbot, w.pin_page.pin, "2468")
    type_into(qtbot, w.pin_page.pin_again, "2468")
    click(qtbot, w, QWizard.WizardButton.NextButton)
    # 7. no account now: the demo shop
    assert w.currentPage() is w.account_page and w.account_page.later.isChecked()
    click(qtbot, w, QWizard.WizardButton.NextButton)
    assert w.currentPage() is w.done_page
    assert "PACK-2" in w.done_page.summary.text() and "확인됨 / tested OK" in w.done_page.summary.text()
    click(qtbot, w, QWizard.WizardButton.FinishButton)
    assert w.result() == QWizard.DialogCode.Accepted and not w.add_account_after

    saved, err = load_settings(dirs.settings_file)
    assert err is None and saved == w.result_settings
    assert saved.station_name == "PACK-2" and saved.recorder == "off" and saved.demo_channel
    assert saved.camera.source == "synthetic" and saved.camera.resolution == "320x240"
    assert saved.recording.video_root == str(video) and video.is_dir()
    assert check_pin("2468", saved.supervisor.pin_hash) and not check_pin("1234", saved.supervisor.pin_hash)
    assert not saved.serial.enabled

    # ... and the station starts with them, on the demo shop, scans reaching it again
    st = make_station(saved)
    assert "PACK-2" in st.window.windowTitle() and st.window.gate.has_pin
    packer = Packer(qtbot, st)
    packer.scan("PD-PACKER-001")
    assert "김민수" in packer.banner()


def test_two_different_pins_keep_the_wizard_on_the_pin_page(qtbot, dirs: AppDirs) -> None:  # type: ignore[no-untyped-def]
    w = show(qtbot, FirstRunWizard(dirs, Settings(station_name="PACK-3", recorder="off")))
    for _ in range(5):  # to the PIN page with what was already set
        click(qtbot, w, QWizard.WizardButton.NextButton)
    assert w.currentPage() is w.pin_page
    type_into(qtbot, w.pin_page.pin, "1357")
    type_into(qtbot, w.pin_page.pin_again, "1358")
    click(qtbot, w, QWizard.WizardButton.NextButton)
    assert w.currentPage() is w.pin_page
    assert "두 PIN이 다릅니다" in w.pin_page.message.text() and "differ" in w.pin_page.message.text()
    assert w.pin_page.pin_again.text() == ""
    type_into(qtbot, w.pin_page.pin_again, "12")  # too short, and still different
    w.pin_page.pin.clear()
    type_into(qtbot, w.pin_page.pin, "12")
    click(qtbot, w, QWizard.WizardButton.NextButton)
    assert w.currentPage() is w.pin_page and "4-12" in w.pin_page.message.text()
    assert not dirs.settings_file.exists()


def test_cancelling_writes_nothing(qtbot, dirs: AppDirs) -> None:  # type: ignore[no-untyped-def]
    w = show(qtbot, FirstRunWizard(dirs))
    type_into(qtbot, w.name_page.name_edit, "PACK-9")
    click(qtbot, w, QWizard.WizardButton.NextButton)
    click(qtbot, w, QWizard.WizardButton.NextButton)
    w.camera_page.choice.setCurrentIndex(w.camera_page.choice.findData("synthetic"))
    qtbot.waitUntil(lambda: w.camera_page.camera is not None)
    click(qtbot, w, QWizard.WizardButton.CancelButton)
    assert w.result() == QWizard.DialogCode.Rejected and w.result_settings is None
    assert not dirs.settings_file.exists() and w.camera_page.camera is None


def test_a_serial_scanner_ticks_the_test_and_is_kept(qtbot, dirs: AppDirs, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from tests.fakes.serial_port import FakeScanner

    port = FakeScanner(tmp_path / "scanner")
    port.plug()
    w = show(qtbot, FirstRunWizard(dirs, Settings(station_name="PACK-4", camera={"source": "synthetic"})))
    for _ in range(3):
        click(qtbot, w, QWizard.WizardButton.NextButton)
    page = w.scanner_page
    assert w.currentPage() is page
    page.port_edit.setText(str(port.link))
    qtbot.mouseClick(page.findChild(type(w.button(QWizard.WizardButton.NextButton)), "serialConnect"),
                     Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.serial_state.property("state") == "connected", timeout=5000)
    port.write(f"{SCAN_TEST_CODE}\r".encode())
    qtbot.waitUntil(lambda: page.scanned_ok, timeout=5000)
    settings = w.build_settings()
    assert settings.serial.enabled and settings.serial.port == str(port.link)
    w.reject()
    assert page.scanner is None  # the port is free for the station
    port.unplug()


def test_realpacking_choice_with_its_connection_test(qtbot, dirs: AppDirs) -> None:  # type: ignore[no-untyped-def]
    from tests.fakes.realpacking import FakeRealPacking

    with FakeRealPacking() as fake:
        w = show(qtbot, FirstRunWizard(dirs, Settings(station_name="PACK-5", camera={"source": "synthetic"}),
                                       realpacking_test=realpacking_probe))
        for _ in range(4):
            click(qtbot, w, QWizard.WizardButton.NextButton)
        page = w.recorder_page
        assert w.currentPage() is page
        choose(qtbot, page.buttons["realpacking"])
        assert page.rp_box.isEnabled()
        page.port.setValue(fake.port)
        qtbot.mouseClick(page.test_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: page.test_result.property("ok") is True, timeout=5000)
        page.host.clear()
        click(qtbot, w, QWizard.WizardButton.NextButton)
        assert w.currentPage() is page and "IP" in page.message.text()
        type_into(qtbot, page.host, "127.0.0.1")
        click(qtbot, w, QWizard.WizardButton.NextButton)
        assert w.currentPage() is w.pin_page
        settings = w.build_settings()
        assert settings.recorder == "realpacking" and settings.realpacking.port == fake.port
        w.reject()


def test_over_a_running_station_the_apps_scan_routing_reaches_the_wizard(qtbot, station, dirs: AppDirs) -> None:  # type: ignore[no-untyped-def]
    """No key filter of its own (``scan_filter=False``): the app's routing (``ui/scans.py``) finds the wizard's
    ``take_scan`` because it is the active window, and the station packs nothing."""
    banner = station.window.view.banner.text()
    w = FirstRunWizard(dirs, Settings(station_name="PACK-6", camera={"source": "synthetic"}), scan_filter=False)
    show(qtbot, w)
    for _ in range(3):
        click(qtbot, w, QWizard.WizardButton.NextButton)
    assert w.currentPage() is w.scanner_page
    qtbot.waitUntil(lambda: QApplication.activeWindow() is w)
    with qtbot.waitSignal(station.key_filter.scanned):
        scan(qtbot, SCAN_TEST_CODE)
    assert w.scanner_page.scanned_ok and station.window.view.banner.text() == banner
    w.reject()


def test_the_test_barcode_on_screen_decodes_to_the_expected_code(qtbot) -> None:  # type: ignore[no-untyped-def]
    import zxingcpp
    from PySide6.QtGui import QImage

    from packdesk.ui.first_run import barcode_pixmap

    image = barcode_pixmap(SCAN_TEST_CODE).toImage().convertToFormat(QImage.Format.Format_Grayscale8)
    found = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.Code128)
    assert [b.text for b in found] == [SCAN_TEST_CODE]


@pytest.mark.parametrize(("argv", "existed", "problem", "shown"), [
    ([], False, None, True),                              # a new PC
    ([], True, None, False),                              # set up already
    ([], False, "bad file", False),                       # a bad file is explained on the station instead
    (["--screenshot", "x.png"], False, None, False),      # unattended runs
    (["--barcode-sheet", "x.pdf"], False, None, False),
    (["--no-first-run"], False, None, False),
    (["--first-run"], True, None, True),
    (["--first-run", "--screenshot", "x.png"], True, None, True),
])
def test_when_the_set_up_is_shown(argv: list[str], existed: bool, problem: object, shown: bool) -> None:
    assert wants_first_run(parse_args(argv), settings_existed=existed, problem=problem) is shown


def test_first_run_and_no_first_run_exclude_each_other(capsys) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SystemExit):
        parse_args(["--first-run", "--no-first-run"])
    assert "not allowed with" in capsys.readouterr().err


def test_building_the_station_never_shows_the_set_up(station) -> None:  # type: ignore[no-untyped-def]
    assert not any(isinstance(w, QWizard) for w in QApplication.topLevelWidgets() if w.isVisible())


def type_lines(qtbot, field: QPlainTextEdit, lines: list[str]) -> None:  # type: ignore[no-untyped-def]
    """Names typed one a line: Hangul through the input method (QTest cannot press keys for it), Enter between."""
    field.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is field)
    field.clear()
    for n, line in enumerate(lines):
        if n:
            qtbot.keyClick(field, Qt.Key.Key_Return, delay=HUMAN_KEY_DELAY_MS)
        ime = QInputMethodEvent("", [])
        ime.setCommitString(line)
        QApplication.sendEvent(field, ime)
    qtbot.waitUntil(lambda: field.toPlainText() == "\n".join(lines), timeout=3000)


def test_without_the_demo_shop_it_asks_for_packers_and_the_station_starts_with_them(  # type: ignore[no-untyped-def]
        qtbot, dirs: AppDirs, make_station) -> None:
    w = show(qtbot, FirstRunWizard(dirs, Settings(station_name="PACK-10", recorder="off",
                                                  camera={"source": "synthetic"})))
    for _ in range(5):  # to the PIN page with what was already set
        click(qtbot, w, QWizard.WizardButton.NextButton)
    type_into(qtbot, w.pin_page.pin, "2468")
    type_into(qtbot, w.pin_page.pin_again, "2468")
    click(qtbot, w, QWizard.WizardButton.NextButton)
    # an account now: no demo shop, so no packers yet: the wizard asks for them
    assert w.currentPage() is w.account_page
    choose(qtbot, w.account_page.now)
    click(qtbot, w, QWizard.WizardButton.NextButton)
    page = w.staff_page
    assert w.currentPage() is page and not w.button(QWizard.WizardButton.NextButton).isEnabled()
    type_lines(qtbot, page.names_edit, ["김하나", "김하나 "])
    click(qtbot, w, QWizard.WizardButton.NextButton)
    assert w.currentPage() is page
    assert page.message.text() == "2번째 줄: 같은 이름이 두 번 있습니다: 김하나 (1번째 줄과 같음) / " \
                                  "Line 2: The same name is listed twice: 김하나 (see line 1)"
    type_lines(qtbot, page.names_edit, ["김하나", "", "이두리"])
    click(qtbot, w, QWizard.WizardButton.NextButton)
    assert w.currentPage() is w.done_page
    assert "작업자 / Packers: 김하나, 이두리" in w.done_page.summary.text()
    click(qtbot, w, QWizard.WizardButton.FinishButton)
    assert w.result() == QWizard.DialogCode.Accepted and w.add_account_after
    assert w.packer_names == ("김하나", "이두리")
    saved, _ = load_settings(dirs.settings_file)
    assert not saved.demo_channel

    # the station starts as app.main starts it, with those packers made before it runs
    st = make_station(saved, packers=w.packer_names)
    packer = Packer(qtbot, st)
    assert [p.name for p, _ in st.service.packers] == ["김하나", "이두리"]
    assert packer.banner() == "작업자 바코드를 스캔하세요"
    assert "작업자 바코드를 스캔하세요" in packer.view.waybill_label.text()
    badge = dict((p.name, b) for p, b in st.service.packers)["이두리"]
    assert badge is not None and badge.startswith("PD-STAFF-")
    packer.scan(badge)
    assert packer.banner() == "작업자: 이두리 — 송장을 스캔하세요"


def test_choosing_the_demo_shop_after_all_skips_the_packers(qtbot, dirs: AppDirs) -> None:  # type: ignore[no-untyped-def]
    w = show(qtbot, FirstRunWizard(dirs, Settings(station_name="PACK-11", recorder="off",
                                                  camera={"source": "synthetic"})))
    for _ in range(5):
        click(qtbot, w, QWizard.WizardButton.NextButton)
    type_into(qtbot, w.pin_page.pin, "2468")
    type_into(qtbot, w.pin_page.pin_again, "2468")
    click(qtbot, w, QWizard.WizardButton.NextButton)
    choose(qtbot, w.account_page.now)
    click(qtbot, w, QWizard.WizardButton.NextButton)
    type_lines(qtbot, w.staff_page.names_edit, ["김하나"])
    click(qtbot, w, QWizard.WizardButton.NextButton)
    click(qtbot, w, QWizard.WizardButton.BackButton)
    click(qtbot, w, QWizard.WizardButton.BackButton)
    choose(qtbot, w.account_page.later)
    click(qtbot, w, QWizard.WizardButton.NextButton)
    assert w.currentPage() is w.done_page and "데모 작업자 3명" in w.done_page.summary.text()
    click(qtbot, w, QWizard.WizardButton.FinishButton)
    assert w.packer_names == () and w.result_settings is not None and w.result_settings.demo_channel
