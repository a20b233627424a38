"""The review's "video link" button on a pack filmed through the real recorder: the video goes to the fake S3
(the storage set in the station's settings, the keys in the keyring), the link is shown and on the clipboard and
plays as MP4; the evidence sheet exported after it carries the link as a QR code a phone reads; wrong keys are
said in both languages."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import av
import httpx
import pypdfium2 as pdfium
import pytest
import zxingcpp
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication

from packdesk.channels.demo import Scenario
from packdesk.services import video_link
from packdesk.services.settings import VideoLinkSettings
from packdesk.services.video_link import VideoLink
from packdesk.services.video_uploads import QueueProgress
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


def test_the_button_uploads_shows_copies_and_the_sheet_prints_the_qr(make_station, qtbot, tmp_path: Path,
                                                                     s3: FakeS3) -> None:  # type: ignore[no-untyped-def]
    bucket = s3.bucket()
    settings = recording_settings(tmp_path).model_copy(update={"video_link": VideoLinkSettings(
        endpoint=s3.endpoint, bucket=bucket, region=REGION, link_days=2)})
    video_link.save_keys(s3.access_key, "not-the-secret")
    st, _, _ = recorded_pack(lambda _s: make_station(settings), qtbot, tmp_path)
    review = open_review(st, qtbot)
    with qtbot.waitSignal(review.recording_loaded, timeout=10_000):
        review.search_for(Scenario.SIMPLE)
    control = review.video_link
    assert control.button.isEnabled() and control.field.text() == ""

    # wrong keys: said, nothing uploaded, the button usable again
    with qtbot.waitSignal(review.failed, timeout=20_000, check_params_cb=lambda c: c == "video_link_keys_refused"):
        qtbot.mouseClick(control.button, Qt.MouseButton.LeftButton)
    assert "키를 거부했습니다" in review.status_label.text() and "refused the keys" in review.status_label.text()
    assert control.button.isEnabled() and control.field.text() == ""
    assert "Contents" not in s3.client().list_objects_v2(Bucket=bucket)

    video_link.save_keys(s3.access_key, s3.secret_key)
    with qtbot.waitSignal(control.linked, timeout=30_000) as made:
        qtbot.mouseClick(control.button, Qt.MouseButton.LeftButton)
    got: VideoLink = made.args[0]
    clipboard = QApplication.clipboard()
    assert clipboard is not None and clipboard.text() == got.url == control.field.text()
    assert "영상 링크를 복사했습니다" in review.status_label.text()
    answer = httpx.get(got.url)
    assert answer.status_code == 200 and answer.headers["content-type"] == "video/mp4"
    with av.open(io.BytesIO(answer.content)) as c:
        assert sum(1 for _ in c.decode(c.streams.video[0])) >= 30
    assert Scenario.SIMPLE not in got.key

    # the evidence sheet exported now carries the link as a QR code that reads back as the link
    with qtbot.waitSignal(review.exported, timeout=20_000):
        review.export_to(tmp_path / "claims", "whole")
    assert review.last_evidence is not None
    doc = pdfium.PdfDocument(str(review.last_evidence))
    try:
        bitmap = doc[0].render(scale=200 / 72, grayscale=True)
        image = QImage(bytes(bitmap.buffer), bitmap.width, bitmap.height, bitmap.stride,
                       QImage.Format.Format_Grayscale8).copy()
        text = doc[0].get_textpage().get_text_range()
    finally:
        doc.close()
    codes = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)
    assert [c.text for c in codes] == [got.url]
    assert "영상 링크" in text and "Video link" in text
    finish(review, qtbot)


def test_the_upload_queue_s_progress_in_the_status_bar(qtbot) -> None:  # type: ignore[no-untyped-def]
    status = UploadStatus()
    qtbot.addWidget(status)
    status.show_progress(QueueProgress(3, 0, recording_id=7, bytes_done=2_500_000, bytes_total=10_000_000))
    assert not status.isHidden() and status.text() == "영상 올리기 3개 대기 / Videos to upload: 3 · 25%"
    status.show_progress(QueueProgress(1, 2))
    assert "올릴 수 없음 2" in status.text() and "cannot upload: 2" in status.text() and "%" not in status.text()
    status.show_progress(QueueProgress(0, 0))
    assert status.isHidden()
