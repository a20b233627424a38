"""The review's "video link" button: the recording shown goes to the seller's storage (once; a second click
uploads nothing) and its expiring link is shown, copied to the clipboard, and printed as a QR code on the
evidence sheet exported after it (``ui/evidence_sheet.py``).

The upload runs through ``ui/ops.run`` on a thread of its own (``services/video_link.py``), never the UI's or the
station's DB thread; the keys are read from the OS keyring there too (a Secret Service call can take a while).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QBoxLayout, QHBoxLayout, QLabel, QLineEdit, QPushButton

from packdesk.core.db import Database
from packdesk.core.errors import KnownError
from packdesk.core.kst import kst_text
from packdesk.core.models import utcnow
from packdesk.services import video_link
from packdesk.services.settings import VideoLinkSettings
from packdesk.services.video_link import VideoLink
from packdesk.services.video_uploads import QueueProgress
from packdesk.ui import ops
from packdesk.ui.i18n import both, one


class VideoLinkControl(QObject):
    """The button and the link's field, a row of their own in the review's claim box. ``settings``: set by the
    main window (no storage set: the click says how to set it up)."""

    linked = Signal(object)     # VideoLink, once shown and copied

    def __init__(self, db: Database, box: QBoxLayout, work_dir: Path, *, current: Callable[[], int | None],
                 say: Callable[[str], None], problem: Callable[[KnownError], None],
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.db, self.work_dir = db, work_dir
        self.current, self.say, self.problem = current, say, problem
        # the station's storage settings as they are now (a save in the settings dialog counts at once)
        self.settings: Callable[[], VideoLinkSettings | None] = lambda: None
        self.links: dict[int, VideoLink] = {}   # recording id -> its newest link (this window's life)
        self.button = QPushButton(one("영상 링크 / Video link", "Video link"), objectName="videoLink")
        self.button.setToolTip(both("구매자에게 보낼 영상 링크: 올리고, 복사합니다",
                                    "A link for the buyer: uploads the video, copies the link"))
        self.field = QLineEdit(objectName="videoLinkUrl")
        self.field.setReadOnly(True)
        self.field.setMinimumWidth(160)
        self.button.setEnabled(False)
        row = QHBoxLayout()
        row.addWidget(self.button)
        row.addWidget(self.field, 1)
        box.addLayout(row)
        self.button.clicked.connect(self.make_link)

    @property
    def busy(self) -> bool:
        return ops.pending(self) > 0

    def recording_changed(self, recording_id: int | None, has_file: bool) -> None:
        """Another recording shown: its link if this window made one that still works, else none."""
        self.button.setEnabled(recording_id is not None and has_file)
        known = self.links.get(recording_id) if recording_id is not None else None
        self.field.setText(known.url if known and known.expires_at > utcnow() else "")

    def link_for(self, recording_id: int) -> VideoLink | None:
        """The link the evidence sheet prints (None: none made, or expired)."""
        known = self.links.get(recording_id)
        return known if known and known.expires_at > utcnow() else None

    def make_link(self) -> None:
        rid, s = self.current(), self.settings() or VideoLinkSettings()
        if rid is None:
            return
        db, work = self.db, self.work_dir

        def fn() -> VideoLink:
            st = video_link.storage(s.endpoint, s.bucket, s.region, s.prefix)
            throttle = video_link.Throttle(s.max_upload_kb_per_s * 1000 if s.max_upload_kb_per_s else None)
            return video_link.video_link(db, rid, st, timedelta(days=s.link_days), work, throttle=throttle)

        self.button.setEnabled(False)
        self.say(both("영상을 올리는 중…", "Uploading the video…"))
        ops.run(self, "video-link", fn, lambda got: self._done(rid, got), self._refused)

    def _done(self, rid: int, got: VideoLink) -> None:
        self.links[rid] = got
        self.button.setEnabled(True)
        if self.current() == rid:
            self.field.setText(got.url)
            self.field.setCursorPosition(0)
        clipboard = QGuiApplication.clipboard()
        if clipboard is not None:
            clipboard.setText(got.url)
        self.say(both(f"영상 링크를 복사했습니다 — {_until(got.expires_at)}까지 열립니다",
                      f"Video link copied — it opens until {_until(got.expires_at)}"))
        self.linked.emit(got)

    def _refused(self, e: KnownError) -> None:
        self.button.setEnabled(self.current() is not None)
        self.problem(e)


class UploadStatus(QLabel):
    """The video upload queue in the status bar (app.py adds it when uploads are automatic): how many videos
    wait, how far the one on its way is, how many cannot be uploaded; hidden while nothing waits."""

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("videoUploadStatus")
        self.hide()

    def show_progress(self, p: QueueProgress) -> None:
        if not (p.waiting or p.failed):
            self.hide()
            return
        text = both(f"영상 올리기 {p.waiting}개 대기", f"Videos to upload: {p.waiting}")
        if p.bytes_total and p.bytes_done < p.bytes_total:
            text += f" · {p.bytes_done * 100 // p.bytes_total}%"
        if p.failed:
            text += " · " + both(f"올릴 수 없음 {p.failed}", f"cannot upload: {p.failed}")
        self.setText(text)
        self.show()


def _until(at: datetime) -> str:
    return kst_text(at)
