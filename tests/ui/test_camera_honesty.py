"""``camera.source = auto`` on a PC whose webcam is unplugged: outside demo mode the station says "카메라 없음 /
No camera" in red and films no cartoon; ``recording.require_recording`` decides whether packing goes on. The
webcam is made absent by hand — OpenCV's camera back-ends are switched off through its own environment variables,
which the recorder's process inherits (``first_webcam`` finds none there) — so the test means the same on a PC
that has one."""

from __future__ import annotations

import pytest
from cv2 import videoio_registry
from sqlalchemy import func, select

from packdesk.channels.demo import Scenario
from packdesk.core import models as m
from packdesk.core.station import Msg
from packdesk.devices import camera as camera_module
from packdesk.services.settings import CameraSettings, RecordingSettings, Settings
from tests.ui.conftest import Packer

pytestmark = pytest.mark.gui


@pytest.fixture
def no_webcam(monkeypatch: pytest.MonkeyPatch) -> None:
    for backend in videoio_registry.getCameraBackends():  # priority 0 switches a back-end off (OpenCV's videoio)
        monkeypatch.setenv(f"OPENCV_VIDEOIO_PRIORITY_{videoio_registry.getBackendName(backend)}", "0")
    monkeypatch.setattr(camera_module, "first_webcam", lambda candidates=("0",): None)  # and in this process


def auto_camera(**kw: object) -> Settings:
    """A shop's own station (not the demo shop; its orders are the demo's, put there by ``demo_db``)."""
    return Settings(recorder="opencv", camera=CameraSettings(source="auto", pre_roll_s=0.5),
                    recording=RecordingSettings(min_free_gb=0.1, **kw), demo_channel=False)  # type: ignore[arg-type]


def test_no_webcam_is_a_red_no_camera_never_the_synthetic_scene(demo_db, make_station, qtbot, no_webcam,
                                                                expect_warnings) -> None:  # type: ignore[no-untyped-def]
    st = make_station(auto_camera())
    window, recorder = st.window, st.service.recorder
    qtbot.waitUntil(lambda: "카메라 없음" in window.recorder_label.text(), timeout=30000)  # the recorder's process
    assert "No camera" in window.recorder_label.text() and "b71c1c" in window.recorder_label.styleSheet()
    assert recorder.frames_captured == 0
    rec = window.findChild(object, "recIndicator")
    qtbot.waitUntil(lambda: rec.property("state") == "failed", timeout=3000)  # "⚠ cannot record", red
    p = Packer(qtbot, st)
    p.scan("PD-PACKER-001")
    p.scan(Scenario.SIMPLE)  # recording not required: the pack goes on, unfilmed, with a warning
    assert st.service.state.pack is not None
    qtbot.waitUntil(lambda: "warning" in p.sounds, timeout=3000)  # the recorder's "cannot film", said at once
    st.service.worker.wait_idle(5)
    with st.db.session() as s:
        assert s.scalar(select(func.count()).select_from(m.Recording)) == 0  # no video of a cartoon
    assert recorder.frames_captured == 0


def test_no_webcam_with_recording_required_refuses_the_pack(demo_db, make_station, qtbot, no_webcam,
                                                            expect_warnings) -> None:  # type: ignore[no-untyped-def]
    st = make_station(auto_camera(require_recording=True))
    qtbot.waitUntil(lambda: "카메라 없음" in st.window.recorder_label.text(), timeout=30000)
    p = Packer(qtbot, st)
    p.scan("PD-PACKER-001")
    p.scan(Scenario.SIMPLE)
    assert st.service.state.pack is None and st.service.state.message.code is Msg.RECORDING_UNAVAILABLE


def test_the_demo_shop_may_film_the_synthetic_scene(make_station, qtbot, no_webcam) -> None:  # type: ignore[no-untyped-def]
    st = make_station(auto_camera().model_copy(update={"demo_channel": True}))
    recorder = st.service.recorder
    qtbot.waitUntil(lambda: recorder.frames_captured > 0, timeout=30000)  # the recorder's process films it
    assert recorder.camera_detail.endswith(camera_module.SYNTHETIC)  # "카메라 / camera: synthetic"
