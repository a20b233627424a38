"""The station's database as the station opens it."""

from __future__ import annotations


def test_the_station_checkpoints_in_the_background(station) -> None:  # type: ignore[no-untyped-def]
    if station.db.engine.dialect.name != "sqlite":
        assert station.db.checkpointer is None
    else:
        assert station.db.checkpointer is not None and station.db.checkpointer._thread.is_alive()
