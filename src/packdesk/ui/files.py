"""The file dialogs of every screen: where they open, and the folder each kind of file was last put in.

Qt's static dialogs open, given no folder, in the process's working folder — on Windows the install folder,
where nobody keeps a sheet or a label (issue #20). Every dialog in ``ui/`` goes through here instead
(``tests/test_architecture.py`` finds any other ``QFileDialog`` call): it opens in the folder last used for the
same *purpose* (a courier sheet, a label, a report…), else in the user's documents folder. The folders are kept
per purpose in ``dialog-folders.json`` in the data folder (set once by the composition root, ``remember_in``), so
they survive a restart; a store that cannot be read or written only forgets, it never stops the dialog.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

from PySide6.QtCore import QStandardPaths
from PySide6.QtWidgets import QFileDialog, QWidget

log = logging.getLogger("packdesk.files")
STORE_NAME = "dialog-folders.json"

_store: Path | None = None
_folders: dict[str, str] = {}


def remember_in(data_dir: Path | None) -> None:
    """Keep the last folders in ``data_dir`` (None: in memory only, for this run)."""
    global _store
    _store = data_dir / STORE_NAME if data_dir is not None else None
    _folders.clear()
    if _store is None or not _store.is_file():
        return
    try:
        loaded = json.loads(_store.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        log.info("dialog folders not read from %s: %s", _store, e)
        return
    if isinstance(loaded, dict):
        _folders.update({str(k): str(v) for k, v in loaded.items() if isinstance(v, str)})


def documents() -> Path:
    """The user's documents folder (home when the system names none, or it is missing)."""
    docs = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
    return Path(docs) if docs and Path(docs).is_dir() else Path.home()


def start_folder(purpose: str) -> Path:
    """Where a dialog for ``purpose`` opens: the folder last used for it while it still exists, else documents."""
    last = _folders.get(purpose)
    return Path(last) if last and Path(last).is_dir() else documents()


def remember(purpose: str, chosen: Path) -> None:
    """``chosen`` (a file, or a folder) was picked for ``purpose``: its folder is where the next dialog opens."""
    folder = chosen if chosen.is_dir() else chosen.parent
    _folders[purpose] = str(folder.resolve())
    if _store is None:
        return
    tmp = _store.with_suffix(".tmp")
    try:
        tmp.write_text(json.dumps(_folders, ensure_ascii=False, indent=1), encoding="utf-8")
        os.replace(tmp, _store)
    except OSError as e:  # a full or read-only disk: the next start opens in documents again, nothing else lost
        log.warning("dialog folders not saved to %s: %s", _store, e)


def open_file(parent: QWidget | None, purpose: str, title: str, filters: str = "") -> Path | None:
    """An existing file to read; None when the person cancelled."""
    path, _ = QFileDialog.getOpenFileName(parent, title, str(start_folder(purpose)), filters)
    return _chosen(purpose, path)


def save_file(parent: QWidget | None, purpose: str, title: str, name: str, filters: str = "") -> Path | None:
    """A file to write, ``name`` suggested in the purpose's folder; None when the person cancelled."""
    path, _ = QFileDialog.getSaveFileName(parent, title, str(start_folder(purpose) / name), filters)
    return _chosen(purpose, path)


def folder(parent: QWidget | None, purpose: str, title: str, start: Path | None = None) -> Path | None:
    """A folder; ``start`` overrides where it opens (a folder already set, e.g. the videos'). None: cancelled."""
    path = QFileDialog.getExistingDirectory(parent, title, str(start or start_folder(purpose)))
    return _chosen(purpose, path)


def _chosen(purpose: str, path: str) -> Path | None:
    if not path:
        return None
    p = Path(path)
    remember(purpose, p)
    return p
