"""The settings' video-storage tab: the storage typed in, the keys typed once into the OS keyring (never into
settings.json), and the connection test saying what the storage answered — against the fake S3 server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtWidgets import QLineEdit, QWidget

from packdesk.services import video_link
from packdesk.services.settings import Settings, load_settings
from packdesk.ui.settings_dialog import SettingsDialog
from tests.fakes.memory_keyring import MemoryKeyring
from tests.fakes.s3 import REGION, FakeS3

pytestmark = pytest.mark.gui


@pytest.fixture
def s3() -> Iterator[FakeS3]:
    with FakeS3() as server:
        yield server


def fill(qtbot, d: SettingsDialog, s3: FakeS3, bucket: str, secret: str) -> None:  # type: ignore[no-untyped-def]
    d.fields["video_link.endpoint"].put(s3.endpoint)
    d.fields["video_link.bucket"].put(bucket)
    d.fields["video_link.region"].put(REGION)
    qtbot.keyClicks(d.storage.access_key, s3.access_key)
    qtbot.keyClicks(d.storage.secret_key, secret)


def test_the_page_holds_the_storage_and_its_keys(qtbot) -> None:  # type: ignore[no-untyped-def]
    d = SettingsDialog(Settings())
    qtbot.addWidget(d)
    d.show_page("video_link")
    page = d.findChild(QWidget, "storageTab")
    assert page is not None and d.stack.currentWidget().isAncestorOf(page)
    for path in ("video_link.endpoint", "video_link.bucket", "video_link.link_days"):
        assert page.isAncestorOf(d.fields[path].widget)
    assert d.storage.secret_key.echoMode() == QLineEdit.EchoMode.Password


def test_wrong_keys_are_said_then_right_ones_connect_and_go_to_the_keyring(
        station, qtbot, s3: FakeS3, memory_keyring: MemoryKeyring) -> None:  # type: ignore[no-untyped-def]
    bucket = s3.bucket()
    d = station.window.open_settings()
    fill(qtbot, d, s3, bucket, "not-the-secret")
    d.storage.test()
    qtbot.waitUntil(lambda: d.storage.result.property("code") == "video_link_keys_refused", timeout=10_000)
    assert "키를 거부했습니다" in d.storage.result.text() and "refused the keys" in d.storage.result.text()
    d.storage.secret_key.clear()
    qtbot.keyClicks(d.storage.secret_key, s3.secret_key)
    d.fields["video_link.bucket"].put("no-such-bucket-here")
    d.storage.test()
    qtbot.waitUntil(lambda: d.storage.result.property("code") == "video_link_bucket_missing", timeout=10_000)
    d.fields["video_link.bucket"].put(bucket)
    d.storage.test()
    qtbot.waitUntil(lambda: d.storage.result.property("code") == "ok", timeout=10_000)
    d._save()
    assert memory_keyring.store[("PackDesk", video_link.SECRET_KEY_SECRET)] == s3.secret_key
    assert memory_keyring.store[("PackDesk", video_link.ACCESS_KEY_SECRET)] == s3.access_key
    text = station.dirs.settings_file.read_text()
    assert s3.secret_key not in text and s3.access_key not in text
    saved, _ = load_settings(station.dirs.settings_file)
    assert (saved.video_link.endpoint, saved.video_link.bucket) == (s3.endpoint, bucket)
    assert video_link.storage(saved.video_link.endpoint, saved.video_link.bucket, REGION).secret_key == s3.secret_key


def test_nothing_typed_is_said_not_set_up(qtbot) -> None:  # type: ignore[no-untyped-def]
    d = SettingsDialog(Settings())
    qtbot.addWidget(d)
    d.storage.test()
    assert d.storage.result.property("code") == "video_link_not_set_up"
