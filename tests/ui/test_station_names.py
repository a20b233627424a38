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
