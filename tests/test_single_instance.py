"""One running PackDesk per data folder, proven with real processes: a second start brings the first to the
front or says which process holds the folder, and never touches the first's open pack, claim or recording."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from packdesk.channels.demo import BARCODE, Scenario
from packdesk.core import models as m
from packdesk.core.db import Database, sqlite_url
from packdesk.core.enums import PackOutcome, RecordingStatus
from packdesk.paths import AppDirs, app_dirs
from packdesk.services.demo_setup import ensure_demo
from packdesk.services.instance import InstanceLock, InstanceRunning
from packdesk.services.settings import CameraSettings, RecordingSettings, SerialSettings, Settings, save_settings
from tests.test_cli import run
from tests.waiting import wait_until

HOLD = ("import sys; from pathlib import Path; from packdesk.services.instance import InstanceLock; "
        "lock = InstanceLock(Path(sys.argv[1])).acquire(); print('held', flush=True); sys.stdin.read()")


@pytest.fixture
def holder(tmp_path: Path) -> Iterator[subprocess.Popen[str]]:
    """Another process holding the data folder and nothing else (no window to bring forward)."""
    data = tmp_path / "d"
    p = subprocess.Popen([sys.executable, "-c", HOLD, str(data)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         text=True)
    assert p.stdout is not None and p.stdout.readline().strip() == "held"
    yield p
    p.kill()
    p.wait()
    p.stdin.close()  # type: ignore[union-attr]
    p.stdout.close()


def test_the_lock_names_its_holder_and_is_freed_when_the_holder_is_killed(holder, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InstanceRunning) as refused:
        InstanceLock(tmp_path / "d").acquire()
    assert refused.value.params["pid"] == holder.pid
    holder.kill()  # SIGKILL: no clean-up code runs; the OS drops the lock with the process
    holder.wait()
    lock = InstanceLock(tmp_path / "d").acquire()
    assert lock.held
    lock.release()


def test_build_station_refuses_a_held_folder_before_opening_anything(holder, tmp_path: Path, qapp) -> None:  # type: ignore[no-untyped-def]
    from packdesk.app import build_station

    dirs = app_dirs(tmp_path / "d").ensure()
    with pytest.raises(InstanceRunning):
        build_station(dirs, Settings(recorder="off"), sounds=False, create_database=True)
    assert not dirs.database.exists()  # not even opened


def test_an_interactive_second_start_says_which_process_holds_the_folder(holder, tmp_path: Path,
                                                                           qtbot, monkeypatch, expect_warnings) -> None:  # type: ignore[no-untyped-def]
    """No window answers (the holder is headless): a message box names the process, in both languages."""
    from PySide6.QtWidgets import QMessageBox

    from packdesk.app import hold_data_folder

    shown: list[str] = []
    monkeypatch.setattr(QMessageBox, "critical", lambda parent, title, text: shown.append(text))
    assert hold_data_folder(app_dirs(tmp_path / "d"), unattended=False) == 2
    assert len(shown) == 1 and str(holder.pid) in shown[0]
    assert "이미 실행 중" in shown[0] and "already running" in shown[0]


def _station_folder(tmp_path: Path, port: Path) -> AppDirs:
    """A set-up station: its database (the demo shop) and settings: the real recorder on the synthetic
    camera, and a serial scanner on ``port`` through which the test scans."""
    dirs = app_dirs(tmp_path / "station").ensure()
    db = Database.open(sqlite_url(dirs.database), create=True)
    ensure_demo(db, datetime.now(UTC))
    db.close()
    save_settings(Settings(recorder="opencv", camera=CameraSettings(source="synthetic", pre_roll_s=0.5),
                           recording=RecordingSettings(min_free_gb=0.1),
                           serial=SerialSettings(enabled=True, port=str(port))), dirs.settings_file)
    return dirs


def _state(dirs: AppDirs) -> dict[str, object]:
    db = Database.open(sqlite_url(dirs.database))
    try:
        with db.session() as s:
            return {
                "packs": s.execute(select(m.PackSession.key, m.PackSession.outcome)).all(),
                "claims": s.execute(select(m.WaybillClaim.pack_key, m.WaybillClaim.station)).all(),
                "recordings": s.execute(select(m.Recording.pack_key, m.Recording.status, m.Recording.note)).all(),
                "links": s.scalar(select(func.count()).select_from(m.ChainEntry)  # the video's (packs chain too)
                                  .where(m.ChainEntry.kind == "recording")),
            }
    finally:
        db.close()


@pytest.mark.skipif(sys.platform == "win32", reason="the scanner is played through a pseudo-terminal")
def test_a_second_start_never_touches_the_first_ones_pack_claim_or_recording(tmp_path: Path) -> None:
    from tests.fakes.serial_port import FakeScanner

    port = FakeScanner(tmp_path / "scanner")
    port.plug()
    dirs = _station_folder(tmp_path, port.link)
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    env.pop("PACKDESK_HOME", None)
    first = subprocess.Popen([sys.executable, "-m", "packdesk", "--data-dir", str(dirs.data)], env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        log_file = dirs.logs / "packdesk.log"
        wait_until(lambda: log_file.exists() and "scanner connected" in log_file.read_text(encoding="utf-8"),
                   timeout=60, interval=0.1,
                   what="the first copy to open the scanner's port")  # pyserial drops what came before
        port.write(f"PD-PACKER-001\r{Scenario.SIMPLE}\r".encode())
        wait_until(lambda: _state(dirs)["recordings"] != [], timeout=60, interval=0.2,
                   what="the first copy to open the pack and start filming")
        during = _state(dirs)
        [(key, outcome)] = during["packs"]  # type: ignore[misc]
        assert outcome is PackOutcome.OPEN and during["claims"] == [(key, "STATION-1")]
        assert during["recordings"] == [(key, RecordingStatus.RECORDING, "")]

        again = run("--data-dir", str(dirs.data), cwd=tmp_path, timeout=60)  # the icon double-clicked
        assert again.returncode == 0, again.stderr
        log = log_file.read_text(encoding="utf-8")
        assert "a second start on this data folder: this window comes to the front" in log
        sheet = run("--data-dir", str(dirs.data), "--barcode-sheet", str(tmp_path / "s.pdf"), cwd=tmp_path)
        assert sheet.returncode == 2 and not (tmp_path / "s.pdf").exists()
        assert str(first.pid) in sheet.stderr and "이미 실행 중" in sheet.stderr and "already running" in sheet.stderr
        selftest = run("self-test", "--data-dir", str(dirs.data), cwd=tmp_path)
        assert selftest.returncode == 2 and str(first.pid) in selftest.stderr
        reading = run("verify", "--data-dir", str(dirs.data), cwd=tmp_path)  # verify only reads: allowed
        assert reading.returncode == 0, reading.stdout + reading.stderr
        assert _state(dirs) == during  # the pack still open, its claim held, its video still being written

        port.write(f"{BARCODE['MUG-WH-01']}\r{BARCODE['MUG-WH-01']}\r{BARCODE['TMB-500']}\r".encode())
        wait_until(lambda: _state(dirs)["links"] == 1, timeout=60, interval=0.2,
                   what="the first copy to complete the pack and chain its video")
        done = _state(dirs)
        assert done["packs"] == [(key, PackOutcome.COMPLETED)] and done["claims"] == []
        assert done["recordings"] == [(key, RecordingStatus.COMPLETE, "")]
    finally:
        first.kill()
        first.communicate()
        port.unplug()
    ok = run("verify", "--data-dir", str(dirs.data), cwd=tmp_path)
    assert ok.returncode == 0 and "nothing altered" in ok.stdout, ok.stdout + ok.stderr
