"""The settings screen as a supervisor uses it (issue #20), in both languages: pages listed on the left with no
tab scroll arrows at 1280x800; every choice in words, saved as the same value; the camera chosen from the webcams
found; the video folder showing the folder in use, changed with its browse button; and a saved change that applies
at the next start offering "Restart now", which closes the station as a person does and asks for the relaunch."""

from __future__ import annotations

import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QApplication,
    QDialogButtonBox,
    QFileDialog,
    QMessageBox,
    QPushButton,
    QTabBar,
    QTabWidget,
)

from packdesk.channels.demo import Scenario
from packdesk.devices import camera
from packdesk.services import restart
from packdesk.services.settings import Settings, load_settings
from packdesk.ui import restart as ui_restart
from packdesk.ui.settings_dialog import SettingsDialog
from packdesk.ui.settings_fields import CHOICE_WORDS, CameraChoice
from tests.ui.conftest import Packer
from tests.ui.picking import pick
from tests.ui.test_close_mid_pack import answer_close_question
from tests.ui.texts import visible_texts

pytestmark = pytest.mark.gui
NUMBERS = {"serial.baudrate", "camera.resolution"}  # a number or a size is its own word


@pytest.fixture(autouse=True)
def webcams_0_and_2(monkeypatch: pytest.MonkeyPatch) -> None:
    """This PC has webcams 0 and 2 (the probe opens real devices; the test PC has none)."""
    monkeypatch.setattr(camera, "webcams", lambda candidates=camera.WEBCAM_INDEXES: ["0", "2"])


@pytest.fixture
def quits(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[bool]]:
    """The application's quit, recorded instead of ending the test's event loop."""
    calls: list[bool] = []
    monkeypatch.setattr(ui_restart, "quit_app", lambda: calls.append(True))
    yield calls
    restart.cancel()


def open_settings(qtbot: Any, station: Any) -> SettingsDialog:
    """File → 설정… / Settings…"""
    window = station.window
    menu = window.menuBar().actions()[0].menu()
    next(a for a in menu.actions() if a.text() in ("설정… / Settings…", "Settings…")).trigger()
    dialog = window.findChildren(SettingsDialog)[-1]
    qtbot.waitUntil(lambda: dialog.isVisible() and dialog.fields["camera.source"].widget.found is not None,
                    timeout=5000)
    return dialog


def go_to(qtbot: Any, d: SettingsDialog, title: str) -> None:
    """A click on the page's name in the list on the left."""
    row = next(i for i in range(d.page_list.count()) if d.page_list.item(i).text() == title)
    rect = d.page_list.visualItemRect(d.page_list.item(row))
    qtbot.mouseClick(d.page_list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert d.stack.currentIndex() == row


def save(qtbot: Any, d: SettingsDialog) -> None:
    qtbot.mouseClick(d.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Save),
                     Qt.MouseButton.LeftButton)


def restart_question() -> QMessageBox | None:
    return next((w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox)
                 and w.objectName() == "restartQuestion" and w.isVisible()), None)


def click_button(qtbot: Any, box: QMessageBox, text: str) -> None:
    qtbot.mouseClick(next(b for b in box.findChildren(QPushButton) if b.text() == text), Qt.MouseButton.LeftButton)


def test_every_choice_is_in_words_and_saves_the_same_value(qtbot, station) -> None:  # type: ignore[no-untyped-def]
    d = open_settings(qtbot, station)
    for path, f in d.fields.items():
        combo = f.widget
        if path in NUMBERS or not hasattr(combo, "itemData") or path == "waybill.courier":
            continue
        values = [combo.itemData(i) for i in range(combo.count())]
        assert set(values) <= set(CHOICE_WORDS[path]), path  # a new value without words fails here
        assert [combo.itemText(i) for i in range(combo.count())] == [CHOICE_WORDS[path][v] for v in values], path
    assert d.fields["recorder"].widget.currentText() == "녹화하지 않음 / No recording"
    go_to(qtbot, d, "스테이션 / Station")
    pick(qtbot, d.fields["recorder"].widget, "리얼패킹 프로그램이 녹화 / The RealPacking program records")
    pick(qtbot, d.fields["complete_mode"].widget, "완료 바코드를 스캔해야 완료 / Scan COMPLETE to finish")
    go_to(qtbot, d, "송장 / Waybills")
    pick(qtbot, d.fields["waybill.courier"].widget, "한진택배 (HANJIN)")
    go_to(qtbot, d, "데이터베이스 / Database")
    assert d.fields["database.mode"].widget.currentText() == "이 PC만 (SQLite) / This PC only (SQLite)"
    save(qtbot, d)
    saved, err = load_settings(station.dirs.settings_file)
    assert err is None and (saved.recorder, saved.complete_mode, saved.waybill.courier) == (
        "realpacking", "command", "HANJIN")
    qtbot.waitUntil(lambda: restart_question() is not None, timeout=3000)
    click_button(qtbot, restart_question(), "나중에 / Later")  # the station goes on as it started
    assert station.window.isVisible() and not restart.requested()


def test_pages_on_the_left_fit_1280x800_without_scroll_arrows(qtbot, station, any_language) -> None:  # type: ignore[no-untyped-def]
    from packdesk.ui import i18n

    for language in ("ko", "en"):
        i18n.set_language(language)
        d = SettingsDialog(Settings(), station.window)
        d.show()
        qtbot.waitExposed(d)
        assert d.width() <= 1280 and d.height() <= 800 - 40  # the screen less a taskbar
        assert not d.findChildren(QTabWidget) and not d.findChildren(QTabBar)
        assert d.page_list.count() == 11 and not d.page_list.verticalScrollBar().isVisible()  # 10 + video storage
        titles = [d.page_list.item(i).text() for i in range(d.page_list.count())]
        assert titles[0] == ("스테이션 / Station" if language == "ko" else "Station")
        # every title whole: the list is as wide as its longest ("영상 저장소 / Video storage" was cut)
        assert d.page_list.viewport().width() >= d.page_list.sizeHintForColumn(0)
        assert not d.page_list.horizontalScrollBar().isVisible()
        for title in titles:  # every page can be reached, its fields fit its width
            go_to(qtbot, d, title)
            page = d.stack.currentWidget()
            qtbot.waitUntil(lambda p=page: not p.horizontalScrollBar().isVisible(), timeout=3000)  # once laid out
        # the storage's address and bucket wide enough to read (the region's long label once left them 115 px)
        d.show_page("video_link")
        for path in ("video_link.endpoint", "video_link.bucket"):
            field = d.fields[path].widget
            qtbot.waitUntil(lambda f=field: f.width() >= 400, timeout=3000)
        d.reject()


def test_the_camera_is_chosen_from_the_webcams_found(qtbot, station, monkeypatch, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    d = SettingsDialog(Settings(camera={"source": "1"}), station.window)
    qtbot.addWidget(d)
    cam = d.fields["camera.source"].widget
    assert isinstance(cam, CameraChoice)
    qtbot.waitUntil(lambda: cam.found is not None, timeout=5000)
    assert [cam.choice.itemText(i) for i in range(cam.choice.count())] == [
        "자동 / Automatic", "웹캠 0 / Webcam 0", "웹캠 1 / Webcam 1 — 연결 안 됨 / not connected", "웹캠 2 / Webcam 2",
        "동영상 파일 / Video file", "IP 카메라 주소 (rtsp://, http://) / IP camera URL",
        "가상 카메라 (시험용) / Synthetic camera (for trying)"]
    assert cam.found_label.text() == "웹캠 2대 찾음 / 2 webcams found"
    assert d.fields["camera.source"].get() == "1"  # opening the screen changes nothing
    d.show_page("camera")
    d.show()
    pick(qtbot, cam.choice, "웹캠 2 / Webcam 2")
    assert d.fields["camera.source"].get() == "2" and not cam.path_edit.isEnabled()
    video = tmp_path / "table.mp4"
    video.write_bytes(b"")
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(video), ""))
    pick(qtbot, cam.choice, "동영상 파일 / Video file")
    qtbot.mouseClick(cam.browse, Qt.MouseButton.LeftButton)
    assert d.fields["camera.source"].get() == str(video)
    pick(qtbot, cam.choice, "IP 카메라 주소 (rtsp://, http://) / IP camera URL")
    cam.path_edit.clear()
    qtbot.keyClicks(cam.path_edit, "rtsp://192.168.0.10/stream")
    assert d.fields["camera.source"].get() == "rtsp://192.168.0.10/stream"
    pick(qtbot, cam.choice, "자동 / Automatic")
    d._save()
    assert d.result_settings is not None and d.result_settings.camera.source == "auto"


def test_the_video_folder_is_the_one_in_use(qtbot, station, monkeypatch, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    d = open_settings(qtbot, station)
    folder = d.fields["recording.video_root"]
    go_to(qtbot, d, "녹화 / Recording")
    assert folder.widget.edit.text() == str(station.window.deps.video_root) != ""  # the default, not a blank
    assert folder.get() == ""  # left as it is: still the default
    chosen = tmp_path / "영상"
    chosen.mkdir()
    opened_in: list[str] = []
    monkeypatch.setattr(QFileDialog, "getExistingDirectory",
                        lambda parent, title, start: (opened_in.append(start), str(chosen))[1])
    qtbot.mouseClick(folder.widget.browse, Qt.MouseButton.LeftButton)
    assert opened_in == [str(station.window.deps.video_root)] and folder.widget.edit.text() == str(chosen)
    save(qtbot, d)
    saved, _ = load_settings(station.dirs.settings_file)
    assert saved.recording.video_root == str(chosen)
    qtbot.waitUntil(lambda: restart_question() is not None, timeout=3000)
    restart_question().close()


def test_restart_now_closes_the_station_and_asks_for_the_relaunch(qtbot, station, quits) -> None:  # type: ignore[no-untyped-def]
    d = open_settings(qtbot, station)
    assert d.findChild(type(d.error), "nextStartNote").text() == \
        "다시 시작하면 적용되는 설정에는 ↻ 표시가 있습니다 / Settings marked ↻ apply at the next start"
    assert "무작업 제한(분) / Idle timeout (min) ↻" in visible_texts(d)  # read at start: marked
    d.fields["idle_timeout_min"].widget.setFocus()
    qtbot.keyClick(d.fields["idle_timeout_min"].widget, Qt.Key.Key_Up)
    save(qtbot, d)
    qtbot.waitUntil(lambda: restart_question() is not None, timeout=3000)
    box = restart_question()
    assert "지금 다시 시작할까요?" in box.text() and "Restart now?" in box.text()
    assert box.defaultButton().text() == "나중에 / Later"  # a scanner's Enter does not restart
    click_button(qtbot, box, "지금 다시 시작 / Restart now")
    assert quits == [True] and not station.window.isVisible() and restart.requested()
    assert load_settings(station.dirs.settings_file)[0].idle_timeout_min == 11  # saved before


def test_restart_mid_pack_asks_and_no_keeps_packing(make_station, qtbot, quits) -> None:  # type: ignore[no-untyped-def]
    st = make_station()
    p = Packer(qtbot, st)
    p.scan("PD-PACKER-001")
    p.scan(Scenario.SIMPLE)
    d = open_settings(qtbot, st)
    d.fields["idle_timeout_min"].put(20)
    save(qtbot, d)
    qtbot.waitUntil(lambda: restart_question() is not None, timeout=3000)
    seen: list[str] = []
    answer_close_question(qtbot, QMessageBox.StandardButton.No, seen)
    click_button(qtbot, restart_question(), "지금 다시 시작 / Restart now")
    assert seen and st.window.isVisible() and st.service.state.pack is not None
    assert quits == [] and not restart.requested()


def test_a_new_pin_alone_asks_for_no_restart(qtbot, station) -> None:  # type: ignore[no-untyped-def]
    d = open_settings(qtbot, station)
    qtbot.keyClicks(d.pin_new, "2468")
    qtbot.keyClicks(d.pin_again, "2468")
    save(qtbot, d)
    assert not d.isVisible() and restart_question() is None


def test_restart_and_camera_in_english(make_station, qtbot, quits, english_screens) -> None:  # type: ignore[no-untyped-def]
    st = make_station(Settings(recorder="off", language="en"))
    d = open_settings(qtbot, st)
    cam = d.fields["camera.source"].widget
    assert [cam.choice.itemText(i) for i in range(cam.choice.count())][:3] == [
        "Automatic", "Webcam 0", "Webcam 2"] and cam.found_label.text() == "2 webcams found"
    assert d.fields["recorder"].widget.currentText() == "No recording"
    assert d.fields["waybill.courier"].widget.currentText() == "CJ Logistics (CJGLS)"
    go_to(qtbot, d, "Camera")
    pick(qtbot, cam.choice, "Webcam 0")
    save(qtbot, d)
    qtbot.waitUntil(lambda: restart_question() is not None, timeout=3000)
    box = restart_question()
    assert box.text() == "Settings saved. The changed settings apply when PackDesk starts again. Restart now?"
    click_button(qtbot, box, "Restart now")
    assert quits == [True] and restart.requested()


def test_choice_words_cover_every_value_of_the_model() -> None:
    """A value added to a choice in the settings model without words would show as a bare code."""
    def choices(model: Any, prefix: str = "") -> dict[str, list[Any]]:
        out: dict[str, list[Any]] = {}
        for name, field in type(model).model_fields.items():
            value = getattr(model, name)
            if isinstance(value, BaseModel):
                out |= choices(value, f"{prefix}{name}.")
            elif typing.get_origin(field.annotation) is typing.Literal:
                out[f"{prefix}{name}"] = list(typing.get_args(field.annotation))
            elif isinstance(field.annotation, type) and hasattr(field.annotation, "__members__"):
                out[f"{prefix}{name}"] = [m.value for m in field.annotation]  # type: ignore[attr-defined]
        return out

    found = {k: v for k, v in choices(Settings()).items() if k not in NUMBERS}
    assert set(found) == set(CHOICE_WORDS)
    for path, values in found.items():
        assert set(values) == set(CHOICE_WORDS[path]), path
