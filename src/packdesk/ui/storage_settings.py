"""The settings' "video storage" tab: where the buyer's video links point (``services/video_link.py``).

The address, bucket, region, folder, link lifetime and upload limit are ordinary settings (declared in
``services/settings.py``; the dialog builds their widgets into this tab's form). The two keys are not: they
are typed here, go to the OS keyring when the dialog is saved, and are never shown again (a field left empty
keeps the stored key). "Test" signs a request with what is typed and says what the storage answered.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import QObject
from PySide6.QtWidgets import (
    QDialog,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from packdesk.core.errors import KnownError
from packdesk.services import video_link
from packdesk.services.secrets import get_named_secret
from packdesk.ui import ops
from packdesk.ui.i18n import tr, two_lines
from packdesk.ui.messages import error_text

log = logging.getLogger("packdesk.ui.storage")

SECTION = "video_link"
PROVIDERS_HINT = ("AWS S3 · 네이버 클라우드 Object Storage · Cloudflare R2 · MinIO — 버킷은 비공개로 두세요: 링크가 "
                  "그 영상 하나만 엽니다 / AWS S3 · Naver Cloud Object Storage · Cloudflare R2 · MinIO — keep the "
                  "bucket private: a link opens that one video only")


AddPage = Callable[[str, str, QWidget], None]  # the settings dialog's add_page(key, title, page)

class StorageTab(QObject):
    """The tab's own widgets (keys, test) and what they do; ``form`` is where the dialog puts the settings."""

    def __init__(self, dialog: QDialog, add_page: AddPage, forms: dict[str, QFormLayout]) -> None:
        super().__init__(dialog)
        self.dialog = dialog
        page = QWidget(objectName="storageTab")
        lay = QVBoxLayout(page)
        hint = QLabel(tr(PROVIDERS_HINT))
        hint.setWordWrap(True)
        lay.addWidget(hint)
        form = QFormLayout()
        # each label above its field: the region's label (its examples) is long, and a field beside it was left
        # too narrow to read an address or a bucket
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapAllRows)
        lay.addLayout(form)
        forms[SECTION] = form
        keys = QFormLayout()
        lay.addLayout(keys)
        lay.addStretch(1)
        self.access_key = QLineEdit(objectName="storageAccessKey")
        self.secret_key = QLineEdit(objectName="storageSecretKey")
        self.secret_key.setEchoMode(QLineEdit.EchoMode.Password)
        stored = self._stored()
        for edit in (self.access_key, self.secret_key):
            edit.setPlaceholderText(tr("저장됨 — 바꿀 때만 입력 / stored — type only to change it") if stored
                                    else tr("OS 키링에 저장됩니다 / kept in the OS keyring"))
        keys.addRow(tr("액세스 키 / Access key"), self.access_key)
        keys.addRow(tr("시크릿 키 / Secret key"), self.secret_key)
        self.result = QLabel(objectName="storageResult")
        self.result.setWordWrap(True)
        self.test_button = QPushButton(tr("저장소 연결 테스트 / Test the storage"), objectName="storageTest")
        self.test_button.clicked.connect(self.test)
        keys.addRow(self.test_button, self.result)
        add_page(SECTION, tr("영상 저장소 / Video storage"), page)
        dialog.accepted.connect(self.save_keys)

    @staticmethod
    def _stored() -> bool:
        try:
            return bool(get_named_secret(video_link.SECRET_KEY_SECRET))
        except KnownError:
            return False

    def _storage(self) -> video_link.Storage | None:
        """What is typed (keys: the typed ones, else the keyring's), or None with the reason shown."""
        candidate = getattr(self.dialog, "candidate", lambda: None)()
        if candidate is None:
            return None
        vl = candidate.video_link
        try:
            access = self.access_key.text().strip() or get_named_secret(video_link.ACCESS_KEY_SECRET) or ""
            secret = self.secret_key.text().strip() or get_named_secret(video_link.SECRET_KEY_SECRET) or ""
        except KnownError as e:
            self._show(e)
            return None
        if not (vl.endpoint and vl.bucket and access and secret):
            self._show(video_link.VideoLinkError("video_link_not_set_up"))
            return None
        return video_link.Storage(vl.endpoint, vl.bucket, vl.region or "us-east-1", access, secret, vl.prefix)

    def test(self) -> None:
        st = self._storage()
        if st is None:
            return
        self.result.setText(tr("연결 중… / connecting…"))
        self.result.setProperty("code", "")
        ops.run(self, "storage-test", lambda: video_link.check(st), lambda _: self._ok(), self._show)

    def _ok(self) -> None:
        self.result.setText(tr("연결됨: 키와 버킷 확인 / Connected: keys and bucket work"))
        self.result.setProperty("code", "ok")
        self.result.setStyleSheet("color: #1b5e20;")

    def _show(self, error: KnownError) -> None:
        self.result.setText(two_lines(*error_text(error)))
        self.result.setProperty("code", error.code)
        self.result.setStyleSheet("color: #b71c1c; font-weight: bold;")

    def save_keys(self) -> None:
        """On save: typed keys into the keyring (both, or the one typed beside the stored other)."""
        access, secret = self.access_key.text().strip(), self.secret_key.text().strip()
        if not (access or secret):
            return
        try:
            video_link.save_keys(access or get_named_secret(video_link.ACCESS_KEY_SECRET) or "",
                                 secret or get_named_secret(video_link.SECRET_KEY_SECRET) or "")
        except KnownError as e:  # no keyring on this PC: said where the settings are
            log.warning("storage keys not stored: %s (%s)", e.code, e.detail)
            self._show(e)
            return
        self.access_key.clear()
        self.secret_key.clear()
        log.info("video storage keys stored in the OS keyring")


def add_page(dialog: QDialog, add: AddPage, forms: dict[str, QFormLayout]) -> StorageTab:
    """The settings dialog's hook: the page, its form for the ``video_link`` settings, the keys and the test."""
    return StorageTab(dialog, add, forms)
