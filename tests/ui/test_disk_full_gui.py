"""The station window on a full disk, as the packer sees it: the disk and folder named in red (not the
warehouse server), the pack said complete but not saved, then green once there is room and it is saved."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from packdesk.channels.demo import BARCODE, Scenario
from packdesk.core import models as m
from packdesk.core.enums import PackOutcome
from packdesk.ui.station_view import BANNER_STYLE, Level
from tests.conftest import TEST_DATABASE_URL
from tests.services.test_disk_full import FullDisk
from tests.ui.conftest import Packer

pytestmark = [pytest.mark.gui,
              pytest.mark.skipif(bool(TEST_DATABASE_URL), reason="a one-PC station's own disk: SQLite only")]


def test_full_disk_mid_pack_on_the_station_window(make_station, qtbot, expect_warnings) -> None:  # type: ignore[no-untyped-def]
    st = make_station()
    p = Packer(qtbot, st)
    box = st.window.view._banner_box
    folder = str(st.service.data_folder)
    p.scan("PD-PACKER-001")
    p.scan(Scenario.SIMPLE)
    disk = FullDisk(st.db.engine)
    try:
        assert st.service.worker.wait_idle(5)  # the waybill's writes are in: the disk fills now
        disk.full = True
        p.scan(BARCODE["MUG-WH-01"])  # counted from memory; its scan event waits for room
        qtbot.waitUntil(lambda: "디스크가 가득 찼습니다" in p.banner(), timeout=3000)
        assert folder in p.banner() and "창고 서버" not in p.banner()
        assert box.colours == BANNER_STYLE[Level.ERROR] and p.sounds[-1] == "error"
        p.scan(BARCODE["TMB-500"])
        p.scan(BARCODE["MUG-WH-01"])
        qtbot.waitUntil(lambda: "완료되었지만 아직 저장되지 않았습니다" in p.banner(), timeout=3000)
        assert Scenario.SIMPLE in p.banner()
        disk.full = False  # room again: the window's own timer stores what was held
        qtbot.waitUntil(lambda: "공간이 생겨" in p.banner(), timeout=10_000)
        assert f"포장 {Scenario.SIMPLE} 저장됨" in p.banner() and box.colours == BANNER_STYLE[Level.SUCCESS]
    finally:
        disk.remove()
    st.service.worker.wait_idle(5)
    with st.db.session() as s:
        assert s.scalars(select(m.PackSession.outcome)).all() == [PackOutcome.COMPLETED]
        assert s.scalars(select(m.ScanEvent.code).order_by(m.ScanEvent.id)).all() == [
            "PD-PACKER-001", Scenario.SIMPLE, BARCODE["MUG-WH-01"], BARCODE["TMB-500"], BARCODE["MUG-WH-01"]]
