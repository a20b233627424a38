"""A serial scanner wired into the real window: scans reach the station as `serial`, and unplugging it
is visible in the status bar until it comes back."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from packdesk.channels.demo import BARCODE, Scenario
from packdesk.core import models as m
from packdesk.core.enums import ScanSource
from packdesk.services.settings import SerialSettings, Settings
from tests.fakes.serial_port import FakeScanner
from tests.ui.conftest import Packer

pytestmark = pytest.mark.gui


def test_serial_and_wedge_scanners_together(make_station, qtbot, tmp_path: Path, expect_warnings) -> None:  # type: ignore[no-untyped-def]
    port = FakeScanner(tmp_path / "scanner")
    port.plug()
    st = make_station(Settings(recorder="off", serial=SerialSettings(enabled=True, port=str(port.link))))
    window, view = st.window, st.window.view
    qtbot.waitUntil(lambda: "연결됨" in window.scanner_label.text(), timeout=5000)
    wedge = Packer(qtbot, st)
    wedge.scan("PD-PACKER-001")  # badge by keyboard wedge
    with qtbot.waitSignal(view.rendered, timeout=5000):
        port.write(f"{Scenario.SIMPLE}\r".encode())  # waybill by serial scanner
    qtbot.waitUntil(lambda: Scenario.SIMPLE in view.waybill_label.text() and not st.service.busy)

    port.unplug()
    qtbot.waitUntil(lambda: "연결 끊김" in window.scanner_label.text(), timeout=5000)
    assert "b71c1c" in window.scanner_label.styleSheet()  # red while unplugged
    wedge.scan(BARCODE["MUG-WH-01"])  # the wedge keeps working meanwhile
    port.plug()
    qtbot.waitUntil(lambda: "연결됨" in window.scanner_label.text(), timeout=5000)
    with qtbot.waitSignal(view.rendered, timeout=5000):
        port.write(f"{BARCODE['MUG-WH-01']}\r\n".encode())
    assert view.row_texts()[0] == ("세라믹 머그컵", "2 / 2")
    st.service.worker.wait_idle(5)
    with st.db.session() as s:
        sources = s.scalars(select(m.ScanEvent.source).order_by(m.ScanEvent.id)).all()
    assert sources == [ScanSource.WEDGE, ScanSource.SERIAL, ScanSource.WEDGE, ScanSource.SERIAL]
    st.close()
    port.unplug()
