"""The mypy plugin in scripts/mypy_qt_properties.py: PySide6's Qt-property keywords and its stub corrections
pass, and a misspelt property or a wrong value is still an error (the gate stays a gate)."""

from __future__ import annotations

from pathlib import Path

import pytest
from mypy import api

ROOT = Path(__file__).resolve().parents[1]

SNIPPET = """\
import datetime
from PySide6.QtCore import QDate
from PySide6.QtGui import QImage, QPixmapCache
from PySide6.QtWidgets import QDateEdit, QLabel
ok = QLabel("x", objectName="ok")
wrong_value = QLabel("x", objectName=3)
misspelt = QLabel("x", objectNme="typo")
picker = QDateEdit(QDate(2026, 1, 2), objectName="d", calendarPopup=True)
day: datetime.date = QDate(2026, 1, 2).toPython()
reveal_type(QPixmapCache.find("key"))
saved: bool = QImage().save("page.png", "PNG")
"""


@pytest.mark.slow
def test_plugin_accepts_qt_properties_and_still_refuses_mistakes(tmp_path: Path) -> None:
    source = tmp_path / "snippet.py"
    source.write_text(SNIPPET, encoding="utf-8")
    out, err, status = api.run([str(source), "--config-file", str(ROOT / "pyproject.toml"), "--no-error-summary",
                                "--cache-dir", str(ROOT / ".mypy_cache")])
    found = {(int(ln.split(":")[1]), ln.rsplit("[", 1)[-1].rstrip("]")) for ln in out.splitlines()
             if "snippet.py:" in ln and ": error: " in ln}
    assert status == 1, err
    assert found == {(6, "call-overload"), (7, "call-overload")}, out  # the wrong value, the misspelt property
    assert 'snippet.py:10: note: Revealed type is "PySide6.QtGui.QPixmap | None"' in out, out
