"""One PC per station name: a second PC under a live station's name is refused (and told which PC has it);
the same PC restarts under its name; a PC unseen for two minutes, or shut down cleanly, frees it."""

from datetime import UTC, datetime, timedelta

import pytest

from packdesk.core import stations
from packdesk.core.db import Database

T0 = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
PC1, PC2 = "11111111-1111-1111-1111-111111111111", "22222222-2222-2222-2222-222222222222"


def test_a_second_pc_under_a_live_name_is_refused(db: Database) -> None:
    with db.session() as s:
        stations.register(s, "STATION-1", PC1, "포장대-PC1", T0)
    with db.session() as s, pytest.raises(stations.StationNameTaken) as refused:
        stations.register(s, "STATION-1", PC2, "PC2", T0 + timedelta(seconds=30))
    assert refused.value.params["host"] == "포장대-PC1" and refused.value.params["station"] == "STATION-1"
    with db.session() as s:
        stations.register(s, "STATION-2", PC2, "PC2", T0)       # another name is free
        stations.register(s, "STATION-1", PC1, "포장대-PC1", T0 + timedelta(minutes=1))  # a restart of PC1


def test_an_unseen_pc_loses_its_name_and_learns_it_at_its_next_heartbeat(db: Database) -> None:
    with db.session() as s:
        stations.register(s, "STATION-1", PC1, "PC1", T0)
    with db.session() as s:
        assert stations.heartbeat(s, "STATION-1", PC1, T0 + timedelta(seconds=30))
    with db.session() as s, pytest.raises(stations.StationNameTaken):  # seen 1.5 min ago: still alive
        stations.register(s, "STATION-1", PC2, "PC2", T0 + timedelta(minutes=2))
    with db.session() as s:  # PC1 crashed after its last heartbeat: PC2 takes the name
        stations.register(s, "STATION-1", PC2, "PC2", T0 + timedelta(seconds=30) + stations.STALE
                          + timedelta(seconds=1))
    with db.session() as s:
        assert not stations.heartbeat(s, "STATION-1", PC1, T0 + timedelta(minutes=3))


def test_a_clean_shutdown_frees_the_name_at_once(db: Database) -> None:
    with db.session() as s:
        stations.register(s, "STATION-1", PC1, "PC1", T0)
        stations.release(s, "STATION-1", PC1)
        stations.release(s, "STATION-1", PC2)  # not the holder: changes nothing
    with db.session() as s:
        stations.register(s, "STATION-1", PC2, "PC2", T0 + timedelta(seconds=1))
