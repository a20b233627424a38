"""Packing with the built-in recorder on the synthetic camera: the packer sees REC, the video is indexed
with its pack, and it plays in the app's own player (QtMultimedia)."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QUrl
from PySide6.QtMultimedia import QMediaPlayer, QVideoSink
from sqlalchemy import select

from packdesk.channels.demo import BARCODE, Scenario
from packdesk.core import models as m
from packdesk.core.enums import PackOutcome, RecordingStatus
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
    camera = st.service.recorder.camera
    qtbot.waitUntil(lambda: not picture.pixmap().isNull(), timeout=5000)  # the live preview shows the camera
    qtbot.waitUntil(lambda: camera.frames_captured >= 35, timeout=5000)   # a full 1 s pre-roll
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
