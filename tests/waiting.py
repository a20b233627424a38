"""Waiting on conditions, never on fixed sleeps: a test that would hang fails with what it waited for."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest


def wait_until(predicate: Callable[[], bool], timeout: float = 5.0, what: str = "condition",
               interval: float = 0.005) -> None:
    """``interval``: between two looks (longer for a predicate that costs, like a database query)."""
    deadline = time.monotonic() + timeout
    pause = threading.Event()
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        pause.wait(interval)
