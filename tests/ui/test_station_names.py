"""Two PCs sharing one database under one station name: the second is refused before it touches anything
of the first (its open packs, claims, recordings); once the first closes, the name is free."""

from __future__ import annotations

from pathlib import Path

import pytest

from packdesk.app import build_station
from packdesk.core import stations
from packdesk.core.db import sqlite_url
from packdesk.paths import app_dirs
from packdesk.services.settings import Settings
from tests.ui.conftest import Packer

pytestmark = pytest.mark.gui


def test_the_second_pc_under_one_name_is_refused_until_the_first_closes(make_station, qtbot, dirs,
                                                                          tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    first = make_station()
    p = Packer(qtbot, first)
    p.scan("PD-PACKER-001")
    p.scan("601000000011")  # a pack open at the first PC
    other_pc = app_dirs(tmp_path / "pc2").ensure()
    assert other_pc.host_id() != dirs.host_id()
    shared = Settings(recorder="off", database_url=sqlite_url(dirs.database))
    with pytest.raises(stations.StationNameTaken) as refused:
        build_station(other_pc, shared, sounds=False)
    assert refused.value.params["station"] == "STATION-1"
    assert first.service.state.pack is not None  # the first PC's pack is untouched
    p.scan("PD-CMD-CANCEL")

    first.service.worker.wait_idle(5)
    first.close()
    first.window.close()
    second = build_station(other_pc, shared, sounds=False)
    try:
        assert second.settings.station_name == "STATION-1"
    finally:
        second.close()
        second.window.close()
        second.window.deleteLater()


def test_a_lost_server_is_shown_and_a_new_pack_refused_with_the_reason(station, qtbot, expect_warnings) -> None:  # type: ignore[no-untyped-def]
    """What the database monitor does on a shared server (it runs only there): status bar and station."""
    w = station.window
    assert w.db_label.text() == "DB: 이 PC" and w.db_label.toolTip().startswith("sqlite:///")
    w.on_db_status(False)
    station.service.set_db_online(False)
    assert "연결 끊김" in w.db_label.text() and "server lost" in w.db_label.toolTip()
    p = Packer(qtbot, station)
    p.scan("PD-PACKER-001")  # a badge is known from memory
    p.type_code("601000000011")
    qtbot.waitUntil(lambda: "창고 서버에 연결할 수 없습니다" in p.banner(), timeout=3000)
    assert p.sounds[-1] == "error" and station.service.state.pack is None
    w.on_db_status(True)
    station.service.set_db_online(True)
    p.scan("601000000011")
    assert station.service.state.pack is not None and "연결됨" in w.db_label.text()


def test_a_line_cancelled_elsewhere_while_packing_stops_the_packer(station, qtbot) -> None:  # type: ignore[no-untyped-def]
    """Another station's collection (or a supervisor) cancels a line of the open box: within seconds the
    station says so, loudly, and the cancelled item is refused."""
    from sqlalchemy import select

    from packdesk.channels.demo import BARCODE, Scenario
    from packdesk.core import models as m
    from packdesk.core.enums import LineStatus
    from packdesk.core.models import utcnow

    p = Packer(qtbot, station)
    p.scan("PD-PACKER-001")
    p.scan(Scenario.SIMPLE)  # mug x2 + tumbler
    with station.db.session() as s:  # elsewhere: the tumbler's line is cancelled
        wb = s.scalar(select(m.Waybill.id).where(m.Waybill.tracking_number == Scenario.SIMPLE))
        line = s.scalars(select(m.OrderLine).where(m.OrderLine.waybill_id == wb,
                                                   m.OrderLine.product_name.like("%텀블러%"))).one()
        line.status = LineStatus.CANCELLED
        s.add(m.LineStatusChange(line_id=line.id, status=LineStatus.CANCELLED, source="collect:9", changed_at=utcnow()))
    station.jobs.scheduler.get_job("changes").func()  # the 3-second job, now
    qtbot.waitUntil(lambda: "포장 중 주문이 취소되었습니다" in p.banner(), timeout=3000)
    assert p.sounds[-1] == "error" and "텀블러" in p.banner()
    p.scan(BARCODE["TMB-500"])
    assert "취소된 상품" in p.banner()
    p.scan(BARCODE["MUG-WH-01"])
    p.scan(BARCODE["MUG-WH-01"])
    assert "포장 완료" in p.banner()


def test_a_long_camera_detail_is_cut_in_the_status_bar_and_whole_in_its_tooltip(station) -> None:  # type: ignore[no-untyped-def]
    w = station.window
    detail = "rtsp://192.168.0.31:554/stream1 · 640x480 · 30 fps · 연결됨 / connected"
    w.on_camera_status("ok", detail)
    assert w.recorder_label.text().endswith("…") and len(w.recorder_label.text()) < len(detail)
    assert w.recorder_label.toolTip().endswith("\n" + detail)
    w.on_camera_status("ok", "synthetic")
    assert w.recorder_label.text().endswith("synthetic")
