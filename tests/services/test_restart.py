"""Restarting PackDesk: the same program and arguments again (without the one-time set-up flag), started only
when asked, and only once this process's one-instance lock is released, so the new process can take it."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from packdesk.services import restart
from packdesk.services.instance import InstanceLock, InstanceRunning


@pytest.fixture(autouse=True)
def _no_request_left() -> Any:
    yield
    restart.cancel()


def test_the_command_is_this_packdesk_with_its_arguments(monkeypatch: pytest.MonkeyPatch) -> None:
    argv = ["--data-dir", "D:\\포장 데이터", "--no-demo", "--first-run"]
    assert restart.command(argv) == [sys.executable, "-m", "packdesk", "--data-dir", "D:\\포장 데이터", "--no-demo"]
    monkeypatch.setattr(sys, "frozen", True, raising=False)  # the Windows bundle: its own program
    assert restart.command(argv) == [sys.executable, "--data-dir", "D:\\포장 데이터", "--no-demo"]


def test_nothing_starts_unless_asked(tmp_path: Path) -> None:
    started: list[Any] = []
    lock = InstanceLock(tmp_path).acquire()
    assert not restart.relaunch([], lock, popen=lambda *a, **k: started.append(a))
    assert started == [] and lock.held  # an ordinary exit: main releases it itself
    restart.request()
    restart.cancel()  # the window stayed open
    assert not restart.relaunch([], lock, popen=lambda *a, **k: started.append(a)) and started == []
    lock.release()


def test_the_new_process_starts_after_the_lock_is_free(tmp_path: Path) -> None:
    lock = InstanceLock(tmp_path).acquire()
    with pytest.raises(InstanceRunning):  # what a second start meets while this process holds the folder
        InstanceLock(tmp_path).acquire()
    seen: list[tuple[list[str], dict[str, Any]]] = []

    def popen(cmd: list[str], **kwargs: Any) -> None:
        InstanceLock(tmp_path).acquire().release()  # the new process's first step: the folder is free
        seen.append((cmd, kwargs))

    restart.request()
    assert restart.relaunch(["--data-dir", str(tmp_path)], lock, popen=popen)
    ((cmd, kwargs),) = seen
    assert cmd == [sys.executable, "-m", "packdesk", "--data-dir", str(tmp_path)]
    assert kwargs.get("start_new_session") or kwargs.get("creationflags")  # it outlives this process
    assert not restart.requested()  # once


def test_a_start_that_fails_is_logged_and_the_exit_goes_on(tmp_path: Path, expect_warnings) -> None:  # type: ignore[no-untyped-def]
    def popen(cmd: list[str], **kwargs: Any) -> None:
        raise FileNotFoundError(2, "No such file", cmd[0])

    restart.request()
    assert not restart.relaunch([], InstanceLock(tmp_path).acquire(), popen=popen)
    assert "start PackDesk again by hand" in expect_warnings.text
