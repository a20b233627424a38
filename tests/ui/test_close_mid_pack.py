"""Closing PackDesk mid-pack (the window's X, Ctrl+Q) asks first; No goes on packing; Yes ends the video as
"cancelled: PackDesk closed" (not "recovered after crash"), and the next start names the parcel in orange."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QMessageBox
from sqlalchemy import func, select

from packdesk.channels.demo import Scenario
from packdesk.core import models as m
from packdesk.core.enums import PackOutcome, RecordingStatus
from packdesk.services.integrity import verify
from packdesk.ui.station_view import BANNER_STYLE, Level
from tests.ui.conftest import Packer
from tests.ui.test_recording_gui import recording_settings

pytestmark = pytest.mark.gui


def answer_close_question(qtbot, button: QMessageBox.StandardButton, seen: list[str]) -> None:  # type: ignore[no-untyped-def]
    """Click ``button`` on the question once it is up (it runs its own event loop), as a person would."""
    def click() -> None:
        box = next((w for w in QApplication.topLevelWidgets()
                    if isinstance(w, QMessageBox) and w.objectName() == "closeMidPack" and w.isVisible()), None)
        if box is None:
            QTimer.singleShot(10, click)
            return
        seen.append(box.text())
        qtbot.mouseClick(box.button(button), Qt.MouseButton.LeftButton)

    QTimer.singleShot(0, click)


def outcomes(st) -> list[PackOutcome]:  # type: ignore[no-untyped-def]
    st.service.worker.wait_idle(5)
    with st.db.session() as s:
        return list(s.scalars(select(m.PackSession.outcome).order_by(m.PackSession.id)))


def test_ctrl_q_mid_pack_asks_and_no_keeps_packing(make_station, qtbot) -> None:  # type: ignore[no-untyped-def]
    st = make_station()
    p = Packer(qtbot, st)
    p.scan("PD-PACKER-001")
    p.scan(Scenario.SIMPLE)
    seen: list[str] = []
    answer_close_question(qtbot, QMessageBox.StandardButton.No, seen)
    # to the window, so the key goes through Qt's shortcut map as a person's Ctrl+Q does
    QTest.keyClick(st.window.windowHandle(), Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: bool(seen), timeout=5000)
    assert Scenario.SIMPLE in seen[0] and "닫을까요" in seen[0] and "Close?" in seen[0]  # both languages
    assert st.window.isVisible() and st.service.state.pack is not None  # still packing
    assert outcomes(st) == [PackOutcome.OPEN]


def test_closing_mid_pack_ends_the_video_as_closed_and_the_next_start_names_the_parcel(make_station, qtbot,
                                                                                        tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    st = make_station(recording_settings(tmp_path))
    p = Packer(qtbot, st)
    recorder = st.service.recorder
    qtbot.waitUntil(lambda: recorder.frames_captured >= 20, timeout=30000)  # the recorder's process is filming
    p.scan("PD-PACKER-001")
    p.scan(Scenario.SIMPLE)

    def recording() -> bool:
        st.service.worker.wait_idle(5)
        with st.db.session() as s:
            return s.scalar(select(func.count()).select_from(m.Recording)) == 1

    qtbot.waitUntil(recording, timeout=5000)
    seen: list[str] = []
    answer_close_question(qtbot, QMessageBox.StandardButton.Yes, seen)
    assert st.window.close()  # the window's X
    assert seen and not st.window.isVisible()
    st.close()  # what main does once the window is gone
    with st.db.session() as s:
        rec = s.scalars(select(m.Recording)).one()
        ps = s.scalars(select(m.PackSession)).one()
        links = s.scalar(select(func.count()).select_from(m.ChainEntry).where(m.ChainEntry.kind == "recording"))
        pack_links = s.scalar(select(func.count()).select_from(m.ChainEntry).where(m.ChainEntry.kind == "pack"))
    assert ps.outcome is PackOutcome.CLOSED and ps.ended_at is not None
    assert rec.status is RecordingStatus.COMPLETE and rec.pack_outcome is PackOutcome.CLOSED
    assert "recovered" not in rec.note and rec.sha256 and links == 1  # a clean end, chained as it closed
    assert pack_links == 1  # and the pack's scans and outcome with it
    assert Path(rec.path).stat().st_size == rec.size_bytes

    again = make_station(recording_settings(tmp_path))  # the next start
    notice = again.window.view.interrupted
    assert notice.isVisible() and notice.property("tracking") == Scenario.SIMPLE
    assert Scenario.SIMPLE in notice.text() and "닫았습니다" in notice.text() and "was closed" in notice.text()
    assert BANNER_STYLE[Level.WARNING][0] in notice.styleSheet()  # orange
    with again.db.session() as s:  # this start changed nothing of it (no "recovered after crash")
        assert s.scalars(select(m.Recording.status)).one() is RecordingStatus.COMPLETE
    assert verify(again.db, tmp_path / "videos").ok
    p2 = Packer(qtbot, again)
    p2.scan("PD-PACKER-001")
    assert notice.isVisible()
    p2.scan(Scenario.SIMPLE)  # packed again: the notice has done its work
    assert not notice.isVisible()

