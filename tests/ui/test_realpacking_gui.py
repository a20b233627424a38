"""The station driving the RealPacking program (a fake of it on 127.0.0.1): start on the waybill scan,
stop on completion, the packer warned when it does not answer, and the settings connection test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select

from packdesk.channels.demo import BARCODE, Scenario
from packdesk.core import models as m
from packdesk.core.enums import PackOutcome, RecordingStatus
from packdesk.services.settings import RealPackingSettings, Settings
from tests.fakes.realpacking import FakeRealPacking
from tests.ui.conftest import Packer

pytestmark = pytest.mark.gui


@pytest.fixture
def realpacking() -> Iterator[FakeRealPacking]:
    with FakeRealPacking() as fake:
        yield fake


def settings_for(fake: FakeRealPacking) -> Settings:
    return Settings(recorder="realpacking", realpacking=RealPackingSettings(port=fake.port, timeout_s=0.5))


def test_pack_starts_and_stops_realpacking(make_station, qtbot, realpacking) -> None:  # type: ignore[no-untyped-def]
    st = make_station(settings_for(realpacking))
    p = Packer(qtbot, st)
    p.scan("PD-PACKER-001")
    p.scan(Scenario.SIMPLE)
    qtbot.waitUntil(lambda: realpacking.paths() == ["/start"], timeout=3000)
    start = realpacking.received[0]
    assert start.query == {"waybill": Scenario.SIMPLE, "station": "STATION-1", "packer": "김민수"}
    for code in (BARCODE["MUG-WH-01"], BARCODE["TMB-500"], BARCODE["MUG-WH-01"]):
        p.scan(code)
    qtbot.waitUntil(lambda: realpacking.paths() == ["/start", "/stop"], timeout=3000)
    assert realpacking.received[1].query == {"waybill": Scenario.SIMPLE}

    def indexed() -> m.Recording | None:
        st.service.worker.wait_idle(5)
        with st.db.session() as s:
            return s.scalars(select(m.Recording).where(m.Recording.status == RecordingStatus.COMPLETE)).first()

    qtbot.waitUntil(lambda: indexed() is not None, timeout=5000)
    rec = indexed()
    assert rec is not None and rec.recorder == "realpacking" and rec.path == f"realpacking:{Scenario.SIMPLE}"
    assert rec.pack_outcome is PackOutcome.COMPLETED


def test_realpacking_down_warns_the_packer_and_packing_goes_on(make_station, qtbot, realpacking,  # type: ignore[no-untyped-def]
                                                              expect_warnings) -> None:
    st = make_station(settings_for(realpacking))
    realpacking.go_down()
    p = Packer(qtbot, st)
    p.scan("PD-PACKER-001")
    p.scan(Scenario.SIMPLE)
    qtbot.waitUntil(lambda: "리얼패킹 프로그램에 연결할 수 없습니다" in p.banner(), timeout=5000)
    assert p.sounds[-1] == "warning" and st.service.state.pack is not None
    p.scan(BARCODE["MUG-WH-01"])
    assert p.view.row_texts()[0] == ("세라믹 머그컵", "1 / 2")


def test_settings_connection_test_runs_off_the_ui_thread(station, qtbot, realpacking) -> None:  # type: ignore[no-untyped-def]
    dialog = station.window.open_settings()
    dialog.fields["realpacking.port"].put(realpacking.port)
    dialog.test_realpacking()
    qtbot.waitUntil(lambda: dialog.rp_result.property("ok") is True, timeout=5000)
    realpacking.go_down()
    dialog.test_realpacking()
    qtbot.waitUntil(lambda: dialog.rp_result.property("ok") is False, timeout=5000)
    dialog.fields["realpacking.start_request"].put("FETCH start")  # not a method
    assert dialog.candidate() is None and "녹화 시작 요청" in dialog.error.text()
    dialog.reject()
