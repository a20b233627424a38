"""The command line: version, portable data dir, barcode sheet, screenshot; run as a real process."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from packdesk import __version__


def run(*args: str, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    env.pop("PACKDESK_HOME", None)
    return subprocess.run([sys.executable, "-m", "packdesk", *args], capture_output=True, text=True,
                          timeout=timeout, cwd=cwd, env=env)


def test_version(tmp_path: Path) -> None:
    r = run("--version", cwd=tmp_path)
    assert r.returncode == 0 and r.stdout.strip() == f"PackDesk {__version__}"


def test_portable_data_dir_gets_db_settings_and_rotating_log(tmp_path: Path) -> None:
    data = tmp_path / "portable"
    sheet = tmp_path / "sheet.pdf"
    r = run("--data-dir", str(data), "--barcode-sheet", str(sheet), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert sheet.read_bytes().startswith(b"%PDF")
    assert (data / "packdesk.sqlite3").exists()
    log = (data / "logs" / "packdesk.log").read_text(encoding="utf-8")
    assert "PackDesk" in log and "starting" in log


def test_screenshot_after_scans(tmp_path: Path) -> None:
    shot = tmp_path / "shot.png"
    r = run("--data-dir", str(tmp_path / "d"), "--screenshot", str(shot), "--scans", "PD-PACKER-001",
            "601000000011", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert shot.stat().st_size > 20_000


def test_verify_command_exit_codes(tmp_path: Path) -> None:
    """Record one pack through the app, verify clean (0), flip a byte, verify again (1, named)."""
    data = tmp_path / "d"
    r = run("--data-dir", str(data), "--screenshot", str(tmp_path / "s.png"), "--scans", "PD-PACKER-001",
            "601000000011", "8801234000017", "8801234000017", "8801234000031", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    ok = run("verify", "--data-dir", str(data), cwd=tmp_path)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    # the video and the pack
    assert "nothing altered" in ok.stdout and "chain links: 2 (packs: 1, returns: 0)" in ok.stdout
    video = next((data / "videos").rglob("*.ts"))
    raw = bytearray(video.read_bytes())
    raw[-100] ^= 0xFF
    video.write_bytes(bytes(raw))
    bad = run("verify", "--data-dir", str(data), cwd=tmp_path)
    assert bad.returncode == 1 and "altered" in bad.stdout and str(video) in bad.stdout


@pytest.mark.parametrize(("edit", "named"), [
    ("UPDATE scan_events SET code = '8801234000024' WHERE id = (SELECT MAX(id) FROM scan_events "
     "WHERE kind = 'item')", "scans_changed"),
    ("DELETE FROM scan_events WHERE id = (SELECT MIN(id) FROM scan_events WHERE kind = 'item')", "scans_changed"),
    ("UPDATE pack_sessions SET outcome = 'cancelled'", "outcome_changed")])
def test_verify_names_an_edited_scan_or_outcome(tmp_path: Path, edit: str, named: str) -> None:
    """The pack's scans and outcome are evidence too (the evidence sheet prints them): edited in the database
    behind the app's back, ``verify`` fails and names what changed."""
    data = tmp_path / "d"
    r = run("--data-dir", str(data), "--screenshot", str(tmp_path / "s.png"), "--scans", "PD-PACKER-001",
            "601000000011", "8801234000017", "8801234000017", "8801234000031", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    with sqlite3.connect(data / "packdesk.sqlite3") as con:
        assert con.execute(edit).rowcount >= 1
    bad = run("verify", "--data-dir", str(data), cwd=tmp_path)
    assert bad.returncode == 1 and f"{{'{named}': 1}}" in bad.stdout, bad.stdout
    assert next(ln for ln in bad.stdout.splitlines() if ln.startswith(named))


def test_self_test_packs_films_and_verifies_headless(tmp_path: Path) -> None:
    r = run("self-test", cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    import json

    report = json.loads(r.stdout.strip().splitlines()[-1])
    assert report["ok"] and report["pack"] == "pack_complete" and report["recordings"] == 1
    assert report["verify"] == "ok"


def test_staff_add_and_list(tmp_path: Path) -> None:
    """Packers from the command line (an owner setting up many PCs): each badge printed, a taken name refused."""
    data = str(tmp_path / "d")
    r = run("staff", "--data-dir", data, "add", "김하나", "Sam Park", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    made = [line.split("\t") for line in r.stdout.splitlines()]
    assert [name for _, name in made] == ["김하나", "Sam Park"]
    assert all(code.startswith("PD-STAFF-") and len(code) == 15 for code, _ in made)
    again = run("staff", "--data-dir", data, "add", "sam park", cwd=tmp_path)
    assert again.returncode == 1
    assert "같은 이름의 작업자가 이미 있습니다" in again.stderr and "already called sam park" in again.stderr
    listed = run("staff", "--data-dir", data, "list", cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    by_name = sorted(made, key=lambda c: c[1])
    assert listed.stdout.splitlines() == [f"{code}\tactive\t0\t{name}" for code, name in by_name]
