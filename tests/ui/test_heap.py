"""The station's heap kept out of a scan's way (ui/heap.py)."""

from __future__ import annotations

import gc
import weakref

import pytest

from packdesk.ui.heap import HeapKeeper, quiet_station


class Cycle:
    def __init__(self) -> None:
        self.me = self


@pytest.fixture
def unfrozen():  # type: ignore[no-untyped-def]
    yield
    gc.unfreeze()


def test_started_station_objects_are_frozen_and_garbage_is_collected_only_when_quiet(qapp, unfrozen) -> None:  # type: ignore[no-untyped-def]
    quiet = [False]
    keeper = HeapKeeper(lambda: quiet[0])
    keeper.start()
    assert gc.get_freeze_count() > 0 and keeper.passes == 1
    garbage = Cycle()
    gone = weakref.ref(garbage)
    del garbage
    assert not keeper.tidy_if_quiet() and keeper.passes == 1  # a scan in hand: left alone
    quiet[0] = True
    frozen = gc.get_freeze_count()
    survivor = Cycle()  # alive: frozen with the rest
    assert keeper.tidy_if_quiet() and keeper.passes == 2
    assert gone() is None and gc.get_freeze_count() > frozen and survivor.me is survivor
    keeper.stop()
    assert gc.get_freeze_count() == 0  # a closed station gives its objects back


def test_quiet_means_nothing_in_hand_and_no_scan_for_a_while() -> None:
    now = [100.0]
    busy = [False]
    last: list[float | None] = [None]
    quiet = quiet_station(lambda: busy[0], lambda: last[0], quiet_s=10, clock=lambda: now[0])
    assert quiet()  # never scanned
    last[0] = 95.0
    assert not quiet()
    now[0] = 105.0
    assert quiet()
    busy[0] = True
    assert not quiet()


def test_a_running_station_froze_its_heap(station) -> None:  # type: ignore[no-untyped-def]
    assert gc.get_freeze_count() > 10_000  # the started station's objects, out of the full collections' walk
