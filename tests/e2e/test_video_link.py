"""A packing-video link for the buyer, end to end through the product's own windows: a packer packs a parcel at
the station (the real recorder filming the synthetic camera); the supervisor sets the shop's S3-compatible storage
in the settings (the keys typed into the dialog go to the OS keyring), opens the review, scans the waybill, presses
"video link"; the link on the clipboard is fetched over HTTP from the storage (a real S3 server on 127.0.0.1) and
plays as MP4, every frame of the recording, not re-encoded; the object's name says nothing of the parcel or the
buyer, and the bucket's listing holds that video alone."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import av
import httpx
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from sqlalchemy import select

from packdesk.channels.demo import Scenario
from packdesk.core import models as m
from packdesk.core.enums import UploadState
from packdesk.services import video_link
from packdesk.services.schedule import Jobs
from packdesk.services.settings import VideoLinkSettings, load_settings
from packdesk.ui.video_link_view import UploadStatus
from tests.fakes.s3 import REGION, FakeS3
from tests.ui.test_recording_gui import recording_settings
from tests.ui.test_review_view import finish, open_review, recorded_pack

pytestmark = [
    pytest.mark.gui,
    pytest.mark.qt_log_ignore("No RHI backend", "This plugin does not support raise", extend=True),
]


@pytest.fixture
def s3() -> Iterator[FakeS3]:
    with FakeS3() as server:
        yield server


def pictures(data: bytes | Path) -> list[str]:
    """Every decoded picture's hash: equal lists are the same frames, pixel for pixel (a re-encoding changes
    them; the container's packaging of the same H.264, MPEG-TS or MP4, does not)."""
    src = io.BytesIO(data) if isinstance(data, bytes) else str(data)
    with av.open(src) as c:
        return [hashlib.sha256(f.to_ndarray(format="yuv420p").tobytes()).hexdigest()
                for f in c.decode(c.streams.video[0])]


def test_a_packed_parcel_s_video_reaches_the_buyer_through_an_expiring_link(
        make_station, qtbot, tmp_path: Path, s3: FakeS3) -> None:  # type: ignore[no-untyped-def]
    bucket = s3.bucket()
    st, _, rec = recorded_pack(make_station, qtbot, tmp_path)  # packed at the station, keystroke by keystroke

    # the supervisor sets the storage up in the settings
    d = st.window.open_settings()
    d.fields["video_link.endpoint"].put(s3.endpoint)
    d.fields["video_link.bucket"].put(bucket)
    d.fields["video_link.region"].put(REGION)
    d.fields["video_link.link_days"].put(3)
    qtbot.keyClicks(d.storage.access_key, s3.access_key)
    qtbot.keyClicks(d.storage.secret_key, s3.secret_key)
    d.storage.test()
    qtbot.waitUntil(lambda: d.storage.result.property("code") == "ok", timeout=10_000)
    d._save()
    qtbot.waitUntil(lambda: st.window.settings.video_link.bucket == bucket, timeout=5000)
    saved, _ = load_settings(st.dirs.settings_file)
    assert saved.video_link.bucket == bucket and s3.secret_key not in st.dirs.settings_file.read_text()

    # the review: the waybill scanned, the link made and copied
    review = open_review(st, qtbot)
    with qtbot.waitSignal(review.recording_loaded, timeout=10_000):
        review.search_for(Scenario.SIMPLE)
    with qtbot.waitSignal(review.video_link.linked, timeout=30_000) as made:
        qtbot.mouseClick(review.video_link.button, Qt.MouseButton.LeftButton)
    clipboard = QApplication.clipboard()
    assert clipboard is not None
    url = clipboard.text()
    assert url == made.args[0].url and url.startswith(f"{s3.endpoint}/{bucket}/")

    # the buyer opens it: an MP4 that plays, the recording's own frames
    answer = httpx.get(url)
    assert answer.status_code == 200 and answer.headers["content-type"] == "video/mp4"
    assert answer.content[4:8] == b"ftyp" and 0 < answer.content.find(b"moov") < answer.content.find(b"mdat")
    with av.open(io.BytesIO(answer.content)) as c:
        assert c.format.name.startswith("mov,mp4") and c.streams.video[0].codec_context.name == "h264"
    shown = pictures(answer.content)
    assert len(shown) >= 30 and shown == pictures(Path(rec.path))

    # nothing of the parcel in the storage's names; the link opens that video, the bucket nothing else
    names = [o["Key"] for o in s3.client().list_objects_v2(Bucket=bucket)["Contents"]]
    assert len(names) == 1 and url.split("?")[0].endswith(names[0])
    for private in (Scenario.SIMPLE, "202600000001", rec.packer_name):
        assert private not in names[0] and private not in url
    assert httpx.get(url.split("?")[0]).status_code == 403
    finish(review, qtbot)


def test_with_auto_upload_a_packed_parcel_s_video_is_in_the_storage_by_itself(
        make_station, qtbot, tmp_path: Path, s3: FakeS3) -> None:  # type: ignore[no-untyped-def]
    """Settings: upload every completed pack. The station's scheduler (not the station's threads) runs the
    queue; the packed parcel's video is in the storage, and the review's link then uploads nothing."""
    bucket = s3.bucket()
    video_link.save_keys(s3.access_key, s3.secret_key)
    settings = recording_settings(tmp_path).model_copy(update={"video_link": VideoLinkSettings(
        endpoint=s3.endpoint, bucket=bucket, region=REGION, auto_upload=True)})
    st, _, rec = recorded_pack(lambda _s: make_station(settings), qtbot, tmp_path)
    jobs = st.jobs
    assert isinstance(jobs, Jobs)
    jobs.scheduler.modify_job("video-upload", next_run_time=datetime.now().astimezone())  # its next pass, now

    def state() -> UploadState | None:
        with st.db.session() as s:
            return s.scalar(select(m.VideoUpload.state).where(m.VideoUpload.recording_id == rec.id))

    qtbot.waitUntil(lambda: state() is UploadState.DONE, timeout=30_000)

    def status_bar_says_nothing_waits() -> bool:  # the queue's progress reaches the window through its event loop
        status = st.window.findChild(UploadStatus, "videoUploadStatus")
        return status is not None and status.isHidden()

    qtbot.waitUntil(status_bar_says_nothing_waits, timeout=10_000)
    (name,) = [o["Key"] for o in s3.client().list_objects_v2(Bucket=bucket)["Contents"]]
    puts = s3.count("put")
    review = open_review(st, qtbot)
    with qtbot.waitSignal(review.recording_loaded, timeout=10_000):
        review.search_for(Scenario.SIMPLE)
    with qtbot.waitSignal(review.video_link.linked, timeout=30_000) as made:
        qtbot.mouseClick(review.video_link.button, Qt.MouseButton.LeftButton)
    assert made.args[0].upload.already_there and made.args[0].key == name and s3.count("put") == puts
    assert pictures(httpx.get(made.args[0].url).content) == pictures(Path(rec.path))
    finish(review, qtbot)
