"""File dialogs open in the user's documents, then where that kind of file was last put — never in the program's
working folder (on Windows, the install folder) — and remember it across a restart (issue #20). Driven through
real screens: the Orders window's *Save label…* and the Reports window's export, in both languages."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog

from packdesk.ui import files, i18n

pytestmark = pytest.mark.gui
TIMEOUT = 5000


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_dialogs_open_in_documents_then_the_last_folder_of_their_kind_even_after_a_restart(  # type: ignore[no-untyped-def]
        station, qtbot, tmp_path: Path, monkeypatch, any_language, lang: str) -> None:
    i18n.set_language(lang)
    install = tmp_path / "Program Files" / "PackDesk"
    install.mkdir(parents=True)
    monkeypatch.chdir(install)  # what a shortcut's working folder is on Windows
    docs = tmp_path / "Documents"
    docs.mkdir()
    monkeypatch.setattr(files, "documents", lambda: docs)
    opened_in: list[Path] = []
    answer: list[Path] = []

    def save_dialog(_parent: Any, title: str, start: str, _filters: str = "") -> tuple[str, str]:
        opened_in.append(Path(start))
        return str(answer[-1]), "PDF (*.pdf)"

    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(save_dialog))
    w = station.window.open_orders()  # File → 주문… / Orders… (the window made now, in the language set)
    qtbot.waitUntil(lambda: not w.busy and any(r.waybills for r in w.rows), timeout=TIMEOUT)
    row = next(r for r in w.rows if r.waybills)
    with qtbot.waitSignal(w.detail_loaded, timeout=TIMEOUT):
        w.select_order(row.id)
    labels = tmp_path / "shipping" / "labels"
    labels.mkdir(parents=True)
    answer.append(labels / "first.pdf")
    with qtbot.waitSignal(w.label_saved, timeout=TIMEOUT):
        qtbot.mouseClick(w.label_button, Qt.MouseButton.LeftButton)
    assert opened_in[-1].parent == docs and opened_in[-1].name.endswith(".pdf")  # documents, the name suggested
    assert not str(opened_in[-1]).startswith(os.getcwd())
    answer.append(labels / "second.pdf")
    with qtbot.waitSignal(w.label_saved, timeout=TIMEOUT):
        qtbot.mouseClick(w.label_button, Qt.MouseButton.LeftButton)
    assert opened_in[-1].parent == labels.resolve()  # where the last label went
    w.close()

    # another kind of file starts in documents; after a restart (the store read again) labels still go to labels
    files.remember_in(station.window.deps.data_dir)
    assert files.start_folder("report") == docs and files.start_folder("label") == labels.resolve()
    for f in labels.iterdir():
        f.unlink()
    labels.rmdir()  # the folder is gone: documents again, not an error
    assert files.start_folder("label") == docs


def test_a_damaged_store_forgets_and_never_stops_a_dialog(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / files.STORE_NAME).write_text("{not json", encoding="utf-8")
    monkeypatch.setattr(files, "documents", lambda: tmp_path)
    files.remember_in(tmp_path)
    assert files.start_folder("label") == tmp_path
    (tmp_path / "sub").mkdir()
    files.remember("label", tmp_path / "sub" / "x.pdf")
    files.remember_in(tmp_path)  # read back: the store was rewritten whole
    assert files.start_folder("label") == (tmp_path / "sub").resolve()
    files.remember_in(None)
