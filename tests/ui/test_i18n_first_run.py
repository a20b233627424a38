"""The first-run set-up and the printed barcode sheets in English only (``language: en``).

The wizard is gone through the way a person does (tests/ui/test_first_run.py's helpers): every page, the
refusals on the name, folder, camera, recorder and PIN pages, the scanner test after a wrong and a good scan,
the serial and RealPacking tests, the summary; no text on it holds Korean. The wizard opens in the language
of the settings this PC already has, bilingual on a new PC, and its first page chooses the station's language.

The barcode sheets are for the staff, so they follow the screen language: their painted texts are read from
the drawing operations, not the pixels. The evidence sheet goes to a marketplace or a customer: it stays
Korean first with English in any screen language."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtWidgets import QWizard

from packdesk.core.enums import ScanKind
from packdesk.paths import AppDirs
from packdesk.services.settings import Settings, load_settings
from packdesk.ui import barcode_sheet, i18n
from packdesk.ui.first_run import SCAN_TEST_CODE, FirstRunWizard
from packdesk.ui.i18n import HANGUL
from tests.ui.test_first_run import choose, click, scan, show, type_into, type_lines
from tests.ui.texts import korean_left, shop_words, visible_texts

pytestmark = pytest.mark.gui

NEXT, BACK, FINISH = QWizard.WizardButton.NextButton, QWizard.WizardButton.BackButton, QWizard.WizardButton.FinishButton


def wizard_texts(w: FirstRunWizard) -> list[str]:
    """What the wizard shows: its widgets, and the page titles, subtitles and button texts it draws."""
    texts = visible_texts(w)
    for page_id in w.pageIds():
        page = w.page(page_id)
        texts += [page.title(), page.subTitle()]
    texts += [w.buttonText(b) for b in (NEXT, BACK, FINISH, QWizard.WizardButton.CancelButton)]
    return [t for t in texts if t]


def test_the_set_up_in_english(qtbot, english_screens, dirs: AppDirs, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from packdesk.app import realpacking_probe
    from tests.fakes.realpacking import FakeRealPacking

    with FakeRealPacking() as fake:
        w = show(qtbot, FirstRunWizard(dirs, realpacking_test=realpacking_probe))
        seen = wizard_texts(w)  # every page is built at once: all their labels, radio buttons, combos
        assert w.windowTitle() == "PackDesk first-time set-up"
        assert w.buttonText(NEXT) == "Next >" and w.buttonText(BACK) == "< Back"

        # 1. name: typed, rubbed out (Next waits and the page says why), typed again; English only chosen
        page = w.name_page
        assert "Welcome — name this station" in page.title() and not w.button(NEXT).isEnabled()
        type_into(qtbot, page.name_edit, "P")
        page.name_edit.clear()
        assert page.message.text() == "Type a name for this station" and not w.button(NEXT).isEnabled()
        seen += wizard_texts(w)
        type_into(qtbot, page.name_edit, "PACK-7")
        assert page.message.text() == ""
        assert [page.language_choice.itemText(i) for i in range(page.language_choice.count())] == \
            ["Korean + English", "English only"]
        page.language_choice.setCurrentIndex(page.language_choice.findData("en"))
        click(qtbot, w, NEXT)

        # 2. folders: a relative path is refused
        page = w.folders_page
        assert w.currentPage() is page
        page.video_edit.setText("videos")
        click(qtbot, w, NEXT)
        assert w.currentPage() is page and page.message.text() == "Type a full path (e.g. D:\\PackDesk\\videos)"
        seen += wizard_texts(w)
        page.video_edit.setText(str(tmp_path / "videos"))
        click(qtbot, w, NEXT)

        # 3. camera: an address that is not one is refused, on the picture and under it; then the synthetic one
        page = w.camera_page
        assert w.currentPage() is page
        page.choice.setCurrentIndex(page.choice.findData("url"))
        page.path_edit.setText("camera-7")
        page.start_preview()
        assert page.preview.text() == "A URL starts with rtsp:// or http://"
        click(qtbot, w, NEXT)
        assert w.currentPage() is page and page.message.text() == "A URL starts with rtsp:// or http://"
        seen += wizard_texts(w)
        page.choice.setCurrentIndex(page.choice.findData("file"))
        page.path_edit.setText(str(tmp_path / "no-such.mp4"))
        click(qtbot, w, NEXT)
        assert page.message.text() == f"No such video file: {tmp_path / 'no-such.mp4'}"
        seen += wizard_texts(w)
        page.resolution.setCurrentIndex(page.resolution.findData("320x240"))
        page.choice.setCurrentIndex(page.choice.findData("synthetic"))
        qtbot.waitUntil(lambda: page.camera is not None and page.camera.spec == "synthetic", timeout=3000)
        click(qtbot, w, NEXT)

        # 4. scanner: a wrong barcode, then the one on screen; the serial scanner with no port
        page = w.scanner_page
        assert w.currentPage() is page
        assert page.result.text() == "Waiting for a scan…"
        scan(qtbot, "8801234000017")
        qtbot.waitUntil(lambda: "8801234000017" in page.result.text())
        assert page.result.text() == "✘ Another barcode: 8801234000017 — scan the one on screen"
        seen += wizard_texts(w)
        scan(qtbot, SCAN_TEST_CODE)
        qtbot.waitUntil(lambda: page.scanned_ok)
        assert page.result.text() == "✔ Scan OK — the scanner reads right"
        page.connect_serial()
        assert page.serial_state.text() == "Type the port"
        seen += wizard_texts(w)
        click(qtbot, w, NEXT)

        # 5. recorder: RealPacking, its connection test, then its IP rubbed out and refused
        page = w.recorder_page
        assert w.currentPage() is page
        choose(qtbot, page.buttons["realpacking"])
        page.port.setValue(fake.port)
        page.test_realpacking()
        assert page.test_result.text() == "connecting…"
        qtbot.waitUntil(lambda: page.test_result.property("ok") is True, timeout=5000)
        assert page.test_result.text().startswith("Connected")
        seen += wizard_texts(w)
        page.host.clear()
        click(qtbot, w, NEXT)
        assert w.currentPage() is page and page.message.text() == "Type RealPacking's IP address"
        seen += wizard_texts(w)
        choose(qtbot, page.buttons["off"])
        click(qtbot, w, NEXT)

        # 6. PIN: two different ones, then too short
        page = w.pin_page
        assert w.currentPage() is page
        type_into(qtbot, page.pin, "1357")
        type_into(qtbot, page.pin_again, "1358")
        click(qtbot, w, NEXT)
        assert w.currentPage() is page and page.message.text() == "The two PINs differ — type them again"
        seen += wizard_texts(w)
        page.pin.clear()
        type_into(qtbot, page.pin, "12")
        type_into(qtbot, page.pin_again, "12")
        click(qtbot, w, NEXT)
        assert w.currentPage() is page and page.message.text() == "A PIN is 4 to 12 digits"
        seen += wizard_texts(w)
        page.pin.clear()
        page.pin_again.clear()
        type_into(qtbot, page.pin, "2468")
        type_into(qtbot, page.pin_again, "2468")
        click(qtbot, w, NEXT)

        # 7. account: now (no demo shop); 8. the packers: a name twice, then two; 9. the summary
        assert w.currentPage() is w.account_page
        choose(qtbot, w.account_page.now)
        click(qtbot, w, NEXT)
        page = w.staff_page
        assert w.currentPage() is page and page.title().endswith("Packers</span>") and page.subTitle() == "Who packs?"
        type_lines(qtbot, page.names_edit, ["Sam", "sam"])
        click(qtbot, w, NEXT)
        assert w.currentPage() is page
        assert page.message.text() == "Line 2: The same name is listed twice: sam (see line 1)"
        seen += wizard_texts(w)
        type_lines(qtbot, page.names_edit, ["Sam", "Kim"])
        click(qtbot, w, NEXT)
        assert w.currentPage() is w.done_page
        summary = w.done_page.summary.text().split("\n")
        assert summary[0] == "Station: PACK-7" and "Scanner: tested OK" in summary
        assert "Recording: No recording" in summary and "Supervisor PIN: set" in summary
        assert "Marketplace: add after set-up" in summary and "Screen language: English only" in summary
        assert "Packers: Sam, Kim" in summary
        seen += wizard_texts(w)
        dirs.settings_file.mkdir()  # the settings cannot be written: Finish says so and stays
        click(qtbot, w, FINISH)
        assert w.currentPage() is w.done_page and w.done_page.message.text().startswith("Could not save: ")
        seen += wizard_texts(w)
        dirs.settings_file.rmdir()
        click(qtbot, w, FINISH)

    assert w.result() == QWizard.DialogCode.Accepted
    saved, err = load_settings(dirs.settings_file)
    assert err is None and saved.language == "en" and saved.station_name == "PACK-7"
    assert w.packer_names == ("Sam", "Kim") and not saved.demo_channel
    assert korean_left(seen) == []
    for expected in ("Data folder (database, settings, logs)", "Auto (a webcam, else synthetic)",
                     "PackDesk records (the camera chosen before)", "Open the accounts screen when set-up ends",
                     "Screen language", "Serial scanner (optional)", "Web reception port"):
        assert expected in seen, expected


def test_the_language_is_chosen_on_the_first_page(qtbot, dirs: AppDirs) -> None:  # type: ignore[no-untyped-def]
    """Bilingual wizard (the default): Korean + English is chosen; a PC set up in English keeps English."""
    w = show(qtbot, FirstRunWizard(dirs))
    choice = w.name_page.language_choice
    assert [choice.itemText(i) for i in range(choice.count())] == ["한국어 + English", "English only"]
    w.name_page.name_edit.setText("PACK-8")
    assert choice.currentData() == "ko" and w.build_settings().language == "ko"
    assert w.windowTitle() == "PackDesk 처음 설정 / First-time set-up"
    choice.setCurrentIndex(choice.findData("en"))
    assert w.build_settings().language == "en"
    w.reject()
    again = show(qtbot, FirstRunWizard(dirs, Settings(station_name="PACK-8", language="en")))
    assert again.name_page.language_choice.currentData() == "en"
    assert again.build_settings().language == "en"
    again.reject()


@pytest.mark.parametrize(("settings", "title"), [
    (None, "PackDesk 처음 설정 / First-time set-up"),                          # a new PC: bilingual
    (Settings(language="ko"), "PackDesk 처음 설정 / First-time set-up"),
    (Settings(language="en"), "PackDesk first-time set-up"),                  # --first-run over an English station
])
def test_the_wizard_opens_in_the_language_of_the_settings_it_has(  # type: ignore[no-untyped-def]
        qtbot, any_language, monkeypatch, dirs: AppDirs, settings: Settings | None, title: str) -> None:
    from packdesk.ui import first_run

    opened: list[str] = []

    def exec_(self) -> int:  # type: ignore[no-untyped-def]
        opened.append(self.windowTitle())
        return int(QWizard.DialogCode.Rejected)

    monkeypatch.setattr(first_run.FirstRunWizard, "exec", exec_)
    i18n.set_language("en" if settings is None else "ko")  # whatever was set before does not count
    assert first_run.run_first_run(dirs, settings) is None
    assert opened == [title]


def _painted_texts(monkeypatch, render) -> list[str]:  # type: ignore[no-untyped-def]
    """The texts ``render`` has the barcode sheet paint, from its drawing operations."""
    texts: list[str] = []
    paint = barcode_sheet.paint_page

    def recording(painter, ops, dpi):  # type: ignore[no-untyped-def]
        texts.extend(op.text for op in ops if isinstance(op, barcode_sheet.TextOp))
        paint(painter, ops, dpi)

    monkeypatch.setattr(barcode_sheet, "paint_page", recording)
    render()
    return texts


def test_the_starter_barcode_sheet_in_english(  # type: ignore[no-untyped-def]
        make_station, english_screens, monkeypatch, tmp_path: Path) -> None:
    st = make_station(Settings(recorder="off", language="en"))
    texts = _painted_texts(monkeypatch, lambda: st.window.save_sheet(tmp_path / "sheet.png"))
    assert texts[0] == "PackDesk barcode sheet"
    for expected in ("Command barcodes", "Complete pack", "Cancel pack", "Sign out", "Packer badges",
                     "Demo waybills", "Simple order", "Combined shipping", "Demo items"):
        assert any(t == expected or t.startswith(expected) for t in texts), expected
    assert korean_left(texts, shop_words(st.db)) == []


def test_the_barcode_sheets_own_texts_in_english(  # type: ignore[no-untyped-def]
        qapp, english_screens, monkeypatch, tmp_path: Path) -> None:
    from packdesk.ui.barcode_sheet import SheetEntry, SheetSection, code128_modules, render_sheet

    long_section = SheetSection("Items", [SheetEntry(f"ITEM-{n:03d}", f"Item {n}") for n in range(60)])
    texts = _painted_texts(monkeypatch, lambda: render_sheet([long_section], tmp_path / "long.png"))
    assert "Items (continued)" in texts and texts[0] == "PackDesk barcode sheet"
    errors = []
    for bad in (lambda: code128_modules(""), lambda: code128_modules("상품-01"),
                lambda: render_sheet([long_section], tmp_path / "sheet.txt")):
        with pytest.raises(ValueError) as e:
            bad()
        errors.append(str(e.value))
    with pytest.raises(OSError) as e:
        render_sheet([long_section], tmp_path / "no-such-folder" / "sheet.pdf")
    errors.append(str(e.value))
    assert errors[0] == "The barcode value is empty." and errors[2].startswith("Unsupported file type: .txt")
    assert errors[3].startswith("Folder does not exist")
    # the refused code itself is shown as typed
    assert korean_left(texts + errors, {"'상'", "'품'"}) == []


def test_the_evidence_sheet_stays_korean_first_in_english(  # type: ignore[no-untyped-def]
        qapp, english_screens, monkeypatch, tmp_path: Path) -> None:
    """Its reader is outside the warehouse (a marketplace, a customer): the screen language does not apply."""
    from PySide6.QtGui import QPainter

    from packdesk.services.evidence import Evidence, EvidenceScan
    from packdesk.ui import evidence_sheet

    drawn: list[str] = []

    class Recording(QPainter):
        def drawText(self, *args) -> None:  # type: ignore[no-untyped-def, override]
            drawn.append(args[-1])
            super().drawText(*args)

    monkeypatch.setattr(evidence_sheet, "QPainter", Recording)
    at = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
    ev = Evidence(1, "601000000011", "202600000001", "홍**", "PACK-1", "김민수", at, at, tmp_path / "clip.ts",
                  1234, "ab" * 32, 1, "cd" * 32, "00" * 32, "complete",
                  [EvidenceScan(at, 1.0, "8801234000017", ScanKind.ITEM, True, "", "머그컵")],
                  {0: np.zeros((48, 64, 3), np.uint8)})
    evidence_sheet.write_evidence_sheet(ev, tmp_path / "evidence.pdf", "clip.mp4")
    assert drawn[0] == "포장 증거 자료 / Packing evidence"
    assert "송장 / Waybill: 601000000011    주문 / Order: 202600000001" in drawn
    assert any(t.startswith("✔") and "상품 / item: 머그컵" in t for t in drawn)
    assert any(HANGUL.search(t) for t in drawn if "Original file integrity" in t)
