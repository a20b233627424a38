"""클레임 자료 내보내기 / Export claim bundle, driven as a supervisor would: from the review window for a real
filmed pack (the bundle's evidence sheet is the real PDF, drawn on the UI thread mid-run), and from the orders
window for a pack filmed by no local recorder (its scans and their chain link still make a bundle); a never
packed order's button stays off."""

from __future__ import annotations

import hashlib
import threading
import zipfile
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QApplication, QFileDialog, QWidget

from packdesk.channels.demo import BARCODE, Scenario
from packdesk.services import claim_bundle as cb
from packdesk.services.settings import Settings
from packdesk.ui import ops
from packdesk.ui.claim_bundle_view import ClaimBundleDialog
from packdesk.ui.orders_view import OrdersWindow
from tests.ui.conftest import Packer
from tests.ui.test_orders_view import open_orders
from tests.ui.test_review_view import finish, recorded_pack
from tests.ui.texts import korean_left, shop_words, visible_texts

pytestmark = [
    pytest.mark.gui,
    pytest.mark.qt_log_ignore("No RHI backend", "This plugin does not support raise",
                              r"QBackingStore::flush\(\) called for +QVideoWindow", extend=True),
]
TIMEOUT = 60_000


def click(qtbot, button: QWidget) -> None:  # type: ignore[no-untyped-def]
    qtbot.waitUntil(button.isEnabled, timeout=TIMEOUT)
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def dialog_of(window: QWidget, qtbot) -> ClaimBundleDialog:  # type: ignore[no-untyped-def]
    dialogs = window.findChildren(ClaimBundleDialog)
    assert len(dialogs) == 1
    qtbot.waitExposed(dialogs[0])
    qtbot.waitUntil(lambda: dialogs[0].subject is not None, timeout=TIMEOUT)
    return dialogs[0]


def choose(qtbot, monkeypatch, dialog: ClaimBundleDialog, folder: Path) -> None:  # type: ignore[no-untyped-def]
    folder.mkdir(parents=True, exist_ok=True)
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(folder))
    click(qtbot, dialog.choose_button)
    assert str(folder) in dialog.folder_label.text()


def test_the_review_exports_the_selected_recordings_order(make_station, qtbot, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                          monkeypatch) -> None:
    st, _p, rec = recorded_pack(make_station, qtbot, tmp_path)
    review = st.window.open_review()
    assert not review.claim_bundle_button.isEnabled()  # nothing on the screen yet
    with qtbot.waitSignal(review.recording_loaded, timeout=10_000) as first:
        qtbot.waitExposed(review)  # the first showing loads today's newest recording
    assert first.args == [rec.id]
    with qtbot.waitSignal(review.recording_loaded, timeout=10_000) as again:
        review.select_recording(rec.id)  # choosing what is already shown still says it is ready
    assert again.args == [rec.id]
    click(qtbot, review.claim_bundle_button)
    dialog = dialog_of(review, qtbot)
    assert dialog.subject is not None and dialog.subject.recording_ids == (rec.id,)
    assert "202600000001" in dialog.info.text() and "1 recording" in dialog.info.text()
    choose(qtbot, monkeypatch, dialog, tmp_path / "claims")
    click(qtbot, dialog.as_folder)
    steps: list[int] = []
    dialog.progressed.connect(lambda done, _total: steps.append(done))
    with qtbot.waitSignal(dialog.exported, timeout=TIMEOUT) as done:
        click(qtbot, dialog.export_button)
    result = done.args[0]
    assert isinstance(result, cb.BundleResult) and result.path.is_dir()
    assert steps == list(range(1, steps[-1] + 1)) and dialog.progress.isHidden()
    assert str(result.path) in dialog.message.text() and dialog.open_button.isEnabled()
    [entry] = result.entries
    assert entry.state == "ok"
    original = result.path / entry.original
    assert hashlib.sha256(original.read_bytes()).hexdigest() == rec.sha256
    pdf = pdfium.PdfDocument(str(result.path / entry.sheet))  # the real sheet, drawn on the UI thread
    text = pdf[0].get_textpage().get_text_range()
    assert Scenario.SIMPLE in text and rec.sha256 in text.replace("\r", "").replace("\n", "")
    opened: list[str] = []
    dialog.open_url = lambda url: opened.append(url.toLocalFile()) or True
    click(qtbot, dialog.open_button)
    assert opened == [str(result.path)]
    dialog.close()
    finish(review, qtbot)


def pack_simple(qtbot, station) -> None:  # type: ignore[no-untyped-def]
    p = Packer(qtbot, station)
    p.scan("PD-PACKER-001")
    p.scan(Scenario.SIMPLE)
    for code in (BARCODE["MUG-WH-01"], BARCODE["TMB-500"], BARCODE["MUG-WH-01"]):
        p.scan(code)
    assert p.level() == "success"


def test_the_orders_window_exports_the_selected_order_as_a_zip(station, qtbot, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                               monkeypatch) -> None:
    pack_simple(qtbot, station)
    w = open_orders(station, qtbot)
    w.search_edit.setText(Scenario.TEA_SET)  # never packed: nothing to export
    w.search()
    qtbot.waitUntil(lambda: w.detail is not None and w.detail.row.order_no == "202600000002", timeout=TIMEOUT)
    assert not w.claim_bundle_button.isEnabled()
    w.search_edit.setText(Scenario.SIMPLE)
    w.search()
    qtbot.waitUntil(lambda: w.detail is not None and w.detail.row.order_no == "202600000001", timeout=TIMEOUT)
    click(qtbot, w.claim_bundle_button)
    dialog = dialog_of(w, qtbot)
    assert dialog.subject is not None and (len(dialog.subject.recording_ids), len(dialog.subject.pack_session_ids)) \
        == (0, 1)
    assert dialog.as_zip.isChecked()  # one file to attach to a claim, unless the person picks a folder
    choose(qtbot, monkeypatch, dialog, tmp_path / "claims")
    with qtbot.waitSignal(dialog.exported, timeout=TIMEOUT) as done:
        click(qtbot, dialog.export_button)
    result = done.args[0]
    assert result.path.suffix == ".zip" and [f.name for f in (tmp_path / "claims").iterdir()] == [result.path.name]
    assert (result.packs, result.scans, result.entries) == (1, 4, [])
    with zipfile.ZipFile(result.path) as z:
        names = set(z.namelist())
    stem = result.path.stem
    assert {f"{stem}/{cb.SUMS}", f"{stem}/{cb.HOW_TO}", f"{stem}/scans.csv", f"{stem}/chain/links.txt"} <= names
    dialog.close()
    qtbot.waitUntil(lambda: not w.busy, timeout=TIMEOUT)
    w.close()
    QApplication.processEvents()


def test_the_dialog_in_english_and_a_folder_it_cannot_write(make_station, qtbot, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                             monkeypatch, english_screens) -> None:
    """In English every text on the dialog is English (the shop's own words aside); a place it cannot write
    (a file where the folder should be) is refused in words, with nothing left behind."""
    st = make_station(Settings(recorder="off", language="en"))
    pack_simple(qtbot, st)
    next(a for a in st.window.findChildren(QAction) if a.text() == "Orders…").trigger()
    w = st.window._orders
    assert isinstance(w, OrdersWindow)
    qtbot.waitExposed(w)
    w.search_edit.setText(Scenario.SIMPLE)
    w.search()
    qtbot.waitUntil(lambda: w.detail is not None and w.detail.row.order_no == "202600000001", timeout=TIMEOUT)
    assert w.claim_bundle_button.text() == "Export claim bundle"
    click(qtbot, w.claim_bundle_button)
    dialog = dialog_of(w, qtbot)
    data = shop_words(st.db)
    assert korean_left(visible_texts(dialog), data) == []
    assert "Order 202600000001: 0 recordings, 1 pack" in dialog.info.text()
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file")
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(blocked))
    click(qtbot, dialog.choose_button)
    with qtbot.waitSignal(dialog.refused, timeout=TIMEOUT) as refused:
        click(qtbot, dialog.export_button)
    assert refused.args == ["claim_bundle_write_failed"]
    assert "Could not save the claim bundle" in dialog.message.text() and str(blocked) in dialog.message.text()
    assert dialog.export_button.isEnabled() and not dialog.open_button.isEnabled()
    assert [f.name for f in tmp_path.iterdir() if f.name.startswith((".claim", "claim"))] == []
    choose(qtbot, monkeypatch, dialog, tmp_path / "claims")
    with qtbot.waitSignal(dialog.exported, timeout=TIMEOUT):
        click(qtbot, dialog.export_button)
    assert "Claim bundle saved" in dialog.message.text()
    assert korean_left(visible_texts(dialog), data) == []

    # again, and the dialog closed (and deleted) while the bundle is made: its progress has no one to tell, and
    # the bundle is still made whole
    gone = threading.Event()
    dialog.destroyed.connect(lambda *_: gone.set())
    write_csv = cb._write_csv

    def csv_after_close(path: Path, rows: list[list[str]]) -> None:
        assert gone.wait(TIMEOUT / 1000)
        write_csv(path, rows)

    monkeypatch.setattr(cb, "_write_csv", csv_after_close)
    click(qtbot, dialog.export_button)
    dialog.close()
    qtbot.waitUntil(lambda: gone.is_set() and ops.pending() == 0, timeout=TIMEOUT)
    made = sorted(f.name for f in (tmp_path / "claims").iterdir())
    assert len(made) == 2 and all(f.endswith(".zip") for f in made)
    qtbot.waitUntil(lambda: not w.busy, timeout=TIMEOUT)
    w.close()
