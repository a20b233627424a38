"""Packing with the built-in recorder on the synthetic camera: the packer sees REC, the video is indexed
with its pack, and it plays in the app's own player (QtMultimedia)."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest
from PySide6.QtCore import QUrl
from PySide6.QtMultimedia import QMediaPlayer, QVideoSink
from PySide6.QtWidgets import QLabel
from sqlalchemy import select

from packdesk.channels.demo import BARCODE, Scenario
from packdesk.core import models as m
from packdesk.core.enums import PackOutcome, RecordingStatus
from packdesk.services.integrity import verify
from packdesk.services.settings import CameraSettings, RecordingSettings, Settings
from tests.ui.conftest import Packer

pytestmark = pytest.mark.gui


def recording_settings(tmp_path: Path, **kw: object) -> Settings:
    return Settings(recorder="opencv", camera=CameraSettings(source="synthetic", pre_roll_s=1.0),
                    recording=RecordingSettings(video_root=str(tmp_path / "videos"), min_free_gb=0.1, **kw))


def test_pack_is_filmed_indexed_and_plays(make_station, qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    st = make_station(recording_settings(tmp_path))
    p = Packer(qtbot, st)
    rec_label = st.window.findChild(object, "recIndicator")
    picture = st.window.findChild(object, "preview")
    camera = st.service.recorder  # the recorder process publishes its camera's frame count
    qtbot.waitUntil(lambda: not picture.pixmap().isNull(), timeout=30_000)  # the live preview shows the camera
    # scaled in the recorder process, fitted to the picture's box (a share of the window's width) keeping its aspect
    shown = picture.pixmap().size()
    assert shown.width() <= picture.width() and shown.height() <= picture.height()
    assert picture.width() in (shown.width(), shown.height() * 4 // 3) or shown.height() == picture.height()
    qtbot.waitUntil(lambda: camera.frames_captured >= 35, timeout=30_000)  # the process started, a 1 s pre-roll
    assert rec_label.property("state") == "idle"
    p.scan("PD-PACKER-001")
    p.scan(Scenario.SIMPLE)
    qtbot.waitUntil(lambda: rec_label.property("state") == "recording", timeout=2000)
    assert "REC" in rec_label.text()
    n0 = camera.frames_captured
    qtbot.waitUntil(lambda: camera.frames_captured >= n0 + 20, timeout=5000)
    for code in (BARCODE["MUG-WH-01"], BARCODE["TMB-500"], BARCODE["MUG-WH-01"]):
        p.scan(code)
    assert "포장 완료" in p.banner()
    qtbot.waitUntil(lambda: rec_label.property("state") == "idle", timeout=2000)

    def indexed() -> m.Recording | None:
        st.service.worker.wait_idle(5)
        with st.db.session() as s:
            return s.scalars(select(m.Recording).where(m.Recording.status == RecordingStatus.COMPLETE)).first()

    qtbot.waitUntil(lambda: indexed() is not None, timeout=10_000)
    rec = indexed()
    assert rec is not None and rec.tracking_number == Scenario.SIMPLE and rec.packer_name == "김민수"
    assert rec.pack_outcome is PackOutcome.COMPLETED and rec.order_nos == "202600000001"
    assert rec.frames >= 50 and rec.duration_ms >= 1500 and rec.size_bytes == Path(rec.path).stat().st_size
    assert Path(rec.path).parent.parent == tmp_path / "videos"

    player, sink = QMediaPlayer(), QVideoSink()
    player.setVideoSink(sink)
    frames: list[int] = []
    sink.videoFrameChanged.connect(lambda f: frames.append(1))
    player.setSource(QUrl.fromLocalFile(rec.path))
    with qtbot.waitSignal(player.mediaStatusChanged, timeout=10_000,
                          check_params_cb=lambda s: s == QMediaPlayer.MediaStatus.EndOfMedia):
        player.play()
    assert len(frames) >= rec.frames - 2 and player.error() == QMediaPlayer.Error.NoError


def test_disk_low_is_shown_and_can_block_packing(make_station, qtbot, tmp_path: Path, expect_warnings) -> None:  # type: ignore[no-untyped-def]
    st = make_station(recording_settings(tmp_path, require_recording=True))
    st.service.recorder.min_free_bytes = 10**18  # "the disk is full"
    p = Packer(qtbot, st)
    p.scan("PD-PACKER-001")
    p.scan(Scenario.SIMPLE)
    assert "녹화할 수 없어" in p.banner() and "디스크 공간" in p.banner() and p.sounds[-1] == "error"
    assert str(tmp_path / "videos") in p.banner()  # the folder named
    assert st.service.state.pack is None


def test_camera_failure_is_shown_to_the_packer(make_station, qtbot, tmp_path: Path, expect_warnings) -> None:  # type: ignore[no-untyped-def]
    s = recording_settings(tmp_path)
    s.camera.source = str(tmp_path / "unplugged.mp4")  # a source that cannot open
    st = make_station(s)
    # the camera fails at once, possibly before this line: wait for what the packer sees
    qtbot.waitUntil(lambda: "카메라를 사용할 수 없습니다" in st.window.view.banner.text(), timeout=5000)
    rec_label = st.window.findChild(object, "recIndicator")
    qtbot.waitUntil(lambda: rec_label.property("state") == "failed", timeout=2000)
    p = Packer(qtbot, st)
    p.scan("PD-PACKER-001")
    p.scan(Scenario.SIMPLE)  # not required: the pack goes on, unfilmed, with a warning
    assert st.service.state.pack is not None


def test_a_killed_recorder_is_said_at_once_and_the_pack_is_filmed_again(  # type: ignore[no-untyped-def]
        make_station, qtbot, tmp_path: Path, expect_warnings) -> None:
    """kill -9 of the recorder process mid-pack: the packer sees the orange banner and hears the warning
    within a second, the pack goes on, and it is filmed again within three; both files are in the evidence."""
    st = make_station(recording_settings(tmp_path))
    p = Packer(qtbot, st)
    rec = st.service.recorder
    qtbot.waitUntil(lambda: rec.ready() == (True, ""), timeout=30_000)
    p.scan("PD-PACKER-001")
    p.scan(Scenario.SIMPLE)
    key = st.service.state.pack.key
    qtbot.waitUntil(lambda: key in rec.first_live_mono, timeout=5000)
    n0 = rec.frames_captured
    qtbot.waitUntil(lambda: rec.frames_captured >= n0 + 30, timeout=5000)
    killed = time.monotonic()
    os.kill(rec.pid, signal.SIGKILL)
    qtbot.waitUntil(lambda: p.level() == "warning", timeout=5000)
    said = time.monotonic() - killed
    assert "녹화가 잠시 끊겼습니다" in p.banner() and p.sounds[-1] == "warning"
    assert st.service.state.pack is not None and st.service.state.pack.key == key
    qtbot.waitUntil(lambda: rec.first_live_mono.get(key, 0) > killed, timeout=10_000)
    again = rec.first_live_mono[key] - killed
    print(f"station: the kill said after {said * 1000:.0f} ms, filming again after {again:.2f} s")
    assert said < 1.0 and again < 3.0
    rec_label = st.window.findChild(object, "recIndicator")
    qtbot.waitUntil(lambda: rec_label.property("state") == "recording", timeout=2000)
    for code in (BARCODE["MUG-WH-01"], BARCODE["TMB-500"], BARCODE["MUG-WH-01"]):
        p.scan(code)
    assert "포장 완료" in p.banner()

    def rows() -> list[m.Recording]:
        st.service.worker.wait_idle(5)
        with st.db.session() as s:
            return list(s.scalars(select(m.Recording).order_by(m.Recording.id)))

    qtbot.waitUntil(lambda: [r.status for r in rows()] == [RecordingStatus.RECOVERED, RecordingStatus.COMPLETE],
                    timeout=10_000)
    cut, rest = rows()
    assert cut.pack_key == rest.pack_key == key and rest.pack_outcome is PackOutcome.COMPLETED
    assert "recorder process" in cut.note and cut.size_bytes == Path(cut.path).stat().st_size > 0
    assert verify(st.db, tmp_path / "videos").ok  # both files hashed and chained


def test_a_killed_recorder_stops_the_pack_when_recording_is_required(  # type: ignore[no-untyped-def]
        make_station, qtbot, tmp_path: Path, expect_warnings) -> None:
    st = make_station(recording_settings(tmp_path, require_recording=True))
    p = Packer(qtbot, st)
    rec = st.service.recorder
    qtbot.waitUntil(lambda: rec.ready() == (True, ""), timeout=30_000)
    p.scan("PD-PACKER-001")
    p.scan(Scenario.SIMPLE)
    p.scan(BARCODE["MUG-WH-01"])
    os.kill(rec.pid, signal.SIGKILL)
    qtbot.waitUntil(lambda: p.level() == "warning", timeout=5000)
    assert "송장을 다시 스캔하세요" in p.banner() and p.sounds[-1] == "warning"
    assert st.service.state.pack is None
    qtbot.waitUntil(lambda: rec.ready() == (True, ""), timeout=10_000)
    p.scan(Scenario.SIMPLE)  # packed again from the start, filmed whole
    assert st.service.state.pack is not None and "포장 시작" in p.banner()


def test_the_encoder_in_use_is_named(make_station, qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The status line and the settings screen say which H.264 encoder the recorder process found working
    (here libx264: this PC has no hardware encoder that opens)."""
    st = make_station(recording_settings(tmp_path))
    rec = st.service.recorder
    qtbot.waitUntil(lambda: rec.ready() == (True, ""), timeout=30_000)
    qtbot.waitUntil(lambda: "(libx264)" in st.window.recorder_label.toolTip(), timeout=5000)
    assert "libx264" in st.window.recorder_label.text()
    dialog = st.window.open_settings()
    try:
        assert dialog.findChild(QLabel, "encoderInUse").text() == "libx264"
        assert dialog.fields["recording.encoder"].get() == "auto"
    finally:
        dialog.reject()
