"""The recordings review in the real window: a pack filmed through the real recorder and synthetic camera, then
found by scanning its waybill into the review (the station must not pack it again), played (the position
advances), sought by clicking a scan event, stepped, sped up, shown full screen; kept (retention skips it),
noted, exported (the clip exists and plays) and its folder opened; the pack's history listed."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import av
import pytest
from PySide6.QtCore import QPoint, Qt, QUrl
from PySide6.QtGui import QInputMethodEvent
from PySide6.QtMultimedia import QMediaPlayer, QVideoSink
from PySide6.QtWidgets import QApplication, QPushButton
from sqlalchemy import func, insert, select

from packdesk.channels.demo import BARCODE, Scenario
from packdesk.core import models as m
from packdesk.core.enums import PackOutcome, RecordingStatus
from packdesk.core.kst import KST
from packdesk.core.models import utcnow
from packdesk.services.retention import purge_old_videos
from packdesk.services.review import PAGE, ExportMethod, ExportResult, RecordingRow
from packdesk.ui import i18n
from packdesk.ui.review_view import ReviewWindow
from tests.ui.conftest import Packer
from tests.ui.test_recording_gui import recording_settings

pytestmark = [
    pytest.mark.gui,
    # the offscreen platform: no GPU, so QVideoWidget converts frames on the CPU; windows cannot be raised; and
    # after a window-state change (full screen) the video widget's native child window has no platform handle
    pytest.mark.qt_log_ignore("No RHI backend", "This plugin does not support raise",
                              r"QBackingStore::flush\(\) called for +QVideoWindow", extend=True),
]


def recorded_pack(make_station, qtbot, tmp_path: Path):  # type: ignore[no-untyped-def]
    """A real pack of SIMPLE filmed with a 1 s pre-roll: mug, a wrong item (tea, refused), tumbler, mug; about
    half a second of video between scans, so each scan has its own moment in the video."""
    st = make_station(recording_settings(tmp_path))
    p = Packer(qtbot, st)
    camera = st.service.recorder  # the recorder process publishes its camera's frame count
    qtbot.waitUntil(lambda: camera.frames_captured >= 35, timeout=30_000)  # that process started, a full pre-roll

    def film(frames: int = 15) -> None:
        n0 = camera.frames_captured
        qtbot.waitUntil(lambda: camera.frames_captured >= n0 + frames, timeout=5000)

    p.scan("PD-PACKER-001")
    p.scan(Scenario.SIMPLE)
    for code in (BARCODE["MUG-WH-01"], BARCODE["TEA-GR"], BARCODE["TMB-500"], BARCODE["MUG-WH-01"]):
        film()
        p.scan(code)
    assert "포장 완료" in p.banner()

    def indexed() -> m.Recording | None:
        st.service.worker.wait_idle(5)
        with st.db.session() as s:
            return s.scalars(select(m.Recording).where(m.Recording.status == RecordingStatus.COMPLETE)).first()

    qtbot.waitUntil(lambda: indexed() is not None, timeout=10_000)
    return st, p, indexed()


def open_review(st, qtbot) -> ReviewWindow:  # type: ignore[no-untyped-def]
    review = st.window.open_review()
    qtbot.waitExposed(review)
    qtbot.waitUntil(lambda: QApplication.activeWindow() is review, timeout=3000)
    return review


def finish(review: ReviewWindow, qtbot) -> None:  # type: ignore[no-untyped-def]
    qtbot.waitUntil(lambda: not review.busy, timeout=10_000)
    review.close()


def scan_events(st) -> int:  # type: ignore[no-untyped-def]
    st.service.worker.wait_idle(5)
    with st.db.session() as s:
        return s.scalar(select(func.count()).select_from(m.ScanEvent))  # type: ignore[return-value]


def shown_frame_ms(review: ReviewWindow) -> int:
    frame = review.player_panel.video.videoSink().videoFrame()
    return frame.startTime() // 1000 if frame.isValid() else -1


def test_a_scanned_waybill_plays_and_a_scan_event_seeks_there(make_station, qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    st, p, rec = recorded_pack(make_station, qtbot, tmp_path)
    review = open_review(st, qtbot)
    review.search_box.setFocus()
    qtbot.waitUntil(review.search_box.hasFocus)
    events_before, banner_before = scan_events(st), p.banner()

    # a scanner burst into the review: the key filter swallows it and the review searches it, not the station
    with qtbot.waitSignal(review.recording_loaded, timeout=10_000) as loaded:
        p.type_code(Scenario.SIMPLE)
    assert loaded.args == [rec.id]
    assert review.search_box.text() == Scenario.SIMPLE and review.model.rowCount() == 1
    assert scan_events(st) == events_before and p.banner() == banner_before  # no "already packed" refusal
    assert st.service.state.pack is None

    # the scans beside the video, with their moments in it: waybill, mug, tea (refused), tumbler, mug
    scans = review.scan_rows()
    assert [sc.accepted for sc in scans] == [True, True, False, True, True]
    offsets = [sc.offset_ms for sc in scans]
    assert all(o is not None for o in offsets) and offsets == sorted(offsets)
    assert 800 <= offsets[0] <= 1600  # the waybill scan comes after the 1 s pre-roll
    assert "녹차 티백" in review.scan_list.item(2).text() and "다른 상품" in review.scan_list.item(2).text()

    # play: the position advances
    review.player_panel.play_button.click()
    qtbot.waitUntil(lambda: review.player.position() >= 500, timeout=5000)
    assert review.player.playbackState() == QMediaPlayer.PlaybackState.PlayingState
    review.player_panel.play_button.click()
    qtbot.waitUntil(lambda: review.player.playbackState() == QMediaPlayer.PlaybackState.PausedState)

    # click "tea scanned (refused)": the video shows that moment
    target = offsets[2]
    item = review.scan_list.item(2)
    qtbot.mouseClick(review.scan_list.viewport(), Qt.MouseButton.LeftButton,
                     pos=review.scan_list.visualItemRect(item).center())
    qtbot.waitUntil(lambda: abs(shown_frame_ms(review) - target) <= 70, timeout=5000)
    assert abs(review.player.position() - target) <= 40

    # one frame forward, two, one back: exactly the recording's neighbouring frames (the camera's own times)
    times = review.player_panel.frame_times
    assert len(times) == rec.frames
    i = times.index(shown_frame_ms(review))
    for button, expected in ((review.player_panel.forward_button, i + 1), (review.player_panel.forward_button, i + 2),
                             (review.player_panel.back_button, i + 1)):
        button.click()
        qtbot.waitUntil(lambda e=expected: shown_frame_ms(review) == times[e], timeout=5000)

    # speed and full screen
    review.player_panel.speed.setCurrentIndex(review.player_panel.speed.findText("4x"))
    assert review.player.playbackRate() == 4.0
    review.player_panel.set_speed(0.5)
    assert review.player.playbackRate() == 0.5
    review.player_panel.full_button.click()
    qtbot.waitUntil(review.isFullScreen)
    assert review.player_panel.isVisible() and review.scan_list.isVisible() and not review.table.isVisible()
    qtbot.keyClick(review, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not review.isFullScreen() and review.table.isVisible())

    finish(review, qtbot)
    st.window.activateWindow()  # the supervisor goes back to the station window
    qtbot.waitUntil(lambda: QApplication.activeWindow() is st.window, timeout=3000)
    p.scan(Scenario.SIMPLE)  # the review closed: scans pack again (and this one is refused: already packed)
    assert "이미 포장된" in p.banner()


def test_keep_note_export_and_open_folder(make_station, qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    st, _, rec = recorded_pack(make_station, qtbot, tmp_path)
    review = open_review(st, qtbot)
    with qtbot.waitSignal(review.recording_loaded, timeout=10_000):
        review.search_for(Scenario.SIMPLE)

    # keep: retention, a year from now, still does not delete it
    with qtbot.waitSignal(review.saved, timeout=5000, check_params_cb=lambda what: what == "keep"):
        review.keep_check.click()
    assert review.model.rows[0].keep
    result = purge_old_videos(st.db, older_than_days=90, now=utcnow() + timedelta(days=365))
    assert (result.deleted, result.kept) == (0, 1) and Path(rec.path).exists()

    review.note_edit.setPlainText("쿠팡 클레임 #A-778: 고객이 텀블러 누락 주장 — 영상상 포장됨")
    with qtbot.waitSignal(review.saved, timeout=5000, check_params_cb=lambda what: what == "note"):
        review.save_note_button.click()
    with st.db.session() as s:
        row = s.get(m.Recording, rec.id)
        assert row is not None and row.keep and row.note.startswith("쿠팡 클레임 #A-778")

    # the whole video as .mp4: exists, named after the waybill, and plays in QtMultimedia
    out = tmp_path / "claims"
    with qtbot.waitSignal(review.exported, timeout=20_000) as done:
        review.export_to(out, "whole")
    whole: ExportResult = done.args[0]
    assert whole.path.exists() and whole.path.parent == out and whole.path.name.startswith(f"{Scenario.SIMPLE}_")
    assert whole.path.suffix == ".mp4" and whole.method is ExportMethod.REMUX
    assert "내보냄" in review.status_label.text() and str(whole.path) in review.status_label.text()
    sheet = whole.path.with_name(f"{whole.path.stem}_evidence.pdf")  # issue #12: the clip's evidence sheet
    assert review.last_evidence == sheet and sheet.read_bytes().startswith(b"%PDF")
    assert sheet.name in review.status_label.text()
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(str(sheet))
    text = "".join(page.get_textpage().get_text_range() for page in doc)
    doc.close()
    assert whole.path.name in text and Scenario.SIMPLE in text  # the sheet names its clip
    player, sink = QMediaPlayer(), QVideoSink()
    player.setVideoSink(sink)
    frames: list[int] = []
    sink.videoFrameChanged.connect(lambda f: frames.append(1))
    player.setSource(QUrl.fromLocalFile(str(whole.path)))
    with qtbot.waitSignal(player.mediaStatusChanged, timeout=15_000,
                          check_params_cb=lambda s: s == QMediaPlayer.MediaStatus.EndOfMedia):
        player.play()
    # it plays to the end in Qt's player (which may skip late frames on a busy machine); every frame is in it
    assert frames and player.error() == QMediaPlayer.Error.NoError
    with av.open(str(whole.path)) as container:
        assert sum(1 for _ in container.decode(video=0)) >= rec.frames - 2

    # an in-out clip from the player's position: the refused tea scan, a second either side (within the video:
    # the pack ends about a second after the tea, and on a loaded machine the film may end before that second)
    tea = review.scan_rows()[2].offset_ms
    assert tea is not None
    start, end = max(0, tea - 1000), min(tea + 1000, (review.player_panel.length_ms() or 0) - 200)
    assert end - start >= 1500
    review.player_panel.seek(start)
    qtbot.waitUntil(lambda: abs(review.player.position() - start) <= 40)
    review.in_button.click()
    review.player_panel.seek(end)
    qtbot.waitUntil(lambda: abs(review.player.position() - end) <= 40)
    review.out_button.click()
    assert review.in_ms is not None and review.out_ms is not None and review.out_ms > review.in_ms
    with qtbot.waitSignal(review.exported, timeout=20_000) as done:
        review.export_to(out, "range")
    clip: ExportResult = done.args[0]
    assert clip.path.exists() and clip.path != whole.path
    assert clip.start_ms <= review.in_ms + 40 and clip.end_ms >= review.out_ms - 40
    with av.open(str(clip.path)) as c:
        n = sum(1 for _ in c.decode(video=0))
    assert n >= (review.out_ms - review.in_ms) * 30 // 1000 - 3  # every frame at 30 fps (more when cut earlier)

    # open the folders: what the file manager would be asked to show
    urls: list[QUrl] = []
    review.open_url = lambda url: urls.append(url) or True  # type: ignore[assignment,func-returns-value]
    review.open_folder_button.click()
    review.open_export_button.click()
    assert urls == [QUrl.fromLocalFile(str(Path(rec.path).parent)), QUrl.fromLocalFile(str(out))]
    finish(review, qtbot)


def test_pack_history_by_order_number_and_recipient(make_station, qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    st, _, rec = recorded_pack(make_station, qtbot, tmp_path)
    with st.db.session() as s:
        order_no, recipient = s.execute(select(m.Order.order_no, m.Order.recipient_name)
                                        .where(m.Order.order_no == rec.order_nos)).one()
    review = open_review(st, qtbot)
    with qtbot.waitSignal(review.history_loaded, timeout=10_000) as got:
        review.search_for(order_no)
    assert review.model.rows[0].id == rec.id
    h = got.args[0]
    assert [pk.packer_name for pk in h.packs] == ["김민수"] and h.packs[0].outcome is PackOutcome.COMPLETED

    tree = review.history_tree
    texts = []
    for i in range(tree.topLevelItemCount()):
        top = tree.topLevelItem(i)
        texts.append(" | ".join(top.text(c) for c in range(3)))
        texts += [" | ".join(top.child(j).text(c) for c in range(3)) for j in range(top.childCount())]
    joined = "\n".join(texts)
    assert f"주문 / Order {order_no}" in joined and recipient in joined
    assert "완료 / completed" in joined and "김민수" in joined
    assert "✗ 녹차 티백" in joined and "다른 상품입니다" in joined  # the refused scan, in the station's words
    assert joined.count("✓") == 4
    (link,) = review.history_recording_items()
    assert link.data(0, Qt.ItemDataRole.UserRole) == rec.id and "녹화 영상" in link.text(1)

    # the recipient's name typed in Hangul (an input method commits it; QTest cannot type Hangul)
    review.search_box.clear()
    review.search_box.setFocus()
    qtbot.waitUntil(review.search_box.hasFocus)
    ev = QInputMethodEvent()
    ev.setCommitString(recipient)
    QApplication.sendEvent(review.search_box, ev)
    qtbot.waitUntil(lambda: review.search_box.text() == recipient, timeout=3000)
    with qtbot.waitSignal(review.searched, timeout=5000):
        review.search_button.click()
    assert rec.id in [r.id for r in review.model.rows]
    assert review.model.data(review.model.index(0, 3)) == recipient
    finish(review, qtbot)


def test_a_pack_without_video_still_has_its_history(station, qtbot) -> None:  # type: ignore[no-untyped-def]
    p = Packer(qtbot, station)  # recording off
    for code in ("PD-PACKER-002", Scenario.SIMPLE, BARCODE["MUG-WH-01"], BARCODE["MUG-WH-01"], BARCODE["TMB-500"]):
        p.scan(code)
    assert "포장 완료" in p.banner()
    review = open_review(station, qtbot)
    with qtbot.waitSignal(review.history_loaded, timeout=10_000) as got:
        p.type_code(Scenario.SIMPLE)  # scanned into the review
    assert review.model.rowCount() == 0 and "찾는 녹화가 없습니다" in review.status_label.text()
    (pack,) = got.args[0].packs
    assert pack.packer_name == "이서연" and pack.outcome is PackOutcome.COMPLETED and not pack.recordings
    assert len(pack.scans) == 4 and review.history_tree.topLevelItemCount() == 2  # the order, the pack
    finish(review, qtbot)


def test_thousands_of_rows_page_in_and_sort(station, qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    now = utcnow()
    with station.db.engine.begin() as c:
        c.execute(insert(m.Recording), [
            {"tracking_number": f"9{i:011d}", "station": f"S{i % 3 + 1}", "packer_name": ("김민수", "이영희")[i % 2],
             "path": str(tmp_path / f"{i}.ts"), "started_at": now - timedelta(minutes=i),
             "duration_ms": 1000 * (i % 97),
             "status": RecordingStatus.COMPLETE, "pack_outcome": PackOutcome.COMPLETED}
            for i in range(3000)])
    review = open_review(station, qtbot)
    with qtbot.waitSignal(review.searched, timeout=10_000):
        review.period_check.setChecked(False)  # every day, not only today's
    assert review.model.rowCount() == PAGE and review.model.has_more
    assert "더 / scroll down for more" in review.result_label.text()
    with qtbot.waitSignal(review.searched, timeout=10_000):
        review.table.scrollToBottom()  # the view asks the model for more at the end
        review.model.fetchMore(review.table.rootIndex())
    assert review.model.rowCount() == 2 * PAGE
    rows: list[RecordingRow] = review.model.rows
    assert [r.started_at for r in rows] == sorted((r.started_at for r in rows), reverse=True)
    assert len({r.id for r in rows}) == 2 * PAGE

    header = review.table.horizontalHeader()
    qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton,
                     pos=QPoint(header.sectionViewportPosition(6) + 5, header.height() // 2))  # length column
    lengths = [r.duration_ms for r in review.model.rows]
    assert lengths == sorted(lengths) or lengths == sorted(lengths, reverse=True)

    # filters narrow it; a recording whose file is gone says so
    review.station_combo.setCurrentText("S2")
    with qtbot.waitSignal(review.searched, timeout=10_000):
        review.search()
    assert {r.station for r in review.model.rows} == {"S2"}
    # recorded at S2: on a shared database its file is on that PC, and the review says where
    with qtbot.waitSignal(review.failed, timeout=10_000, check_params_cb=lambda c: c == "recording_file_elsewhere"):
        review.load_recording(review.model.rows[0].id)
    assert "S2에서 녹화되어" in review.status_label.text()
    with station.db.engine.begin() as c:  # one of this station's own, its file gone: said as such
        own = c.execute(insert(m.Recording).values(
            tracking_number="900000000000", station="STATION-1", path=str(tmp_path / "gone.ts"), started_at=now,
            status=RecordingStatus.COMPLETE, pack_outcome=PackOutcome.COMPLETED)).inserted_primary_key[0]
    with qtbot.waitSignal(review.failed, timeout=10_000, check_params_cb=lambda c: c == "recording_file_missing"):
        review.load_recording(own)
    assert "영상 파일이 없습니다" in review.status_label.text()
    assert not review.export_whole_button.isEnabled() and review.keep_check.isEnabled()
    finish(review, qtbot)


def test_verify_button_runs_in_the_background_and_names_what_changed(make_station, qtbot, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                                     expect_warnings) -> None:
    st, _, rec = recorded_pack(make_station, qtbot, tmp_path)
    review = open_review(st, qtbot)
    with qtbot.waitSignal(review.verified, timeout=20_000) as done:
        review.verify_button.click()
        assert not review.verify_button.isEnabled()
    # the result stays beside the button even when the first recording's load rewrites the status line
    assert done.args[0].ok and "변조 없음" in review.verify_label.text()
    data = bytearray(Path(rec.path).read_bytes())
    data[len(data) // 3] ^= 0x10
    Path(rec.path).write_bytes(bytes(data))
    with qtbot.waitSignal(review.verified, timeout=20_000) as done:
        review.verify_button.click()
    assert [p.kind for p in done.args[0].problems] == ["altered"]
    assert "문제 1건" in review.verify_label.text() and "altered" in review.verify_label.toolTip()
    assert review.verify_button.isEnabled()
    finish(review, qtbot)


def test_a_search_for_the_recording_already_shown_says_it_is_loaded(make_station, qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The first showing loads today's first recording. Scanning that recording's waybill afterwards finds what is
    already on the screen: the player keeps it (no second load) and the review still says the recording is ready,
    so whoever waits for the scanned recording (a supervisor's next click, a test) is not left waiting."""
    st, _, rec = recorded_pack(make_station, qtbot, tmp_path)
    review = st.window.open_review()
    with qtbot.waitSignal(review.recording_loaded, timeout=10_000) as first:
        qtbot.waitExposed(review)
    assert first.args == [rec.id]
    qtbot.waitUntil(lambda: not review.busy, timeout=10_000)
    source = review.player.source()
    with qtbot.waitSignal(review.recording_loaded, timeout=10_000) as again:
        review.take_scan(Scenario.SIMPLE)
    assert again.args == [rec.id] and review.player.source() == source
    finish(review, qtbot)


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_opens_on_todays_recordings_by_korea_day_and_a_scan_searches_every_day(  # type: ignore[no-untyped-def]
        station, qtbot, tmp_path: Path, any_language, lang: str) -> None:
    i18n.set_language(lang)
    midnight = datetime.combine(datetime.now(KST).date(), time(0), tzinfo=KST)  # today began, in Korea
    with station.db.engine.begin() as c:
        c.execute(insert(m.Recording), [
            {"tracking_number": tn, "station": "STATION-1", "packer_name": "김민수", "path": str(tmp_path / f"{tn}.ts"),
             "started_at": at.astimezone(UTC), "duration_ms": 5000, "status": RecordingStatus.COMPLETE,
             "pack_outcome": PackOutcome.COMPLETED}
            for tn, at in (("900000000001", midnight + timedelta(minutes=1)),
                           ("900000000002", midnight - timedelta(minutes=1)),  # yesterday evening in Korea
                           ("900000000003", midnight - timedelta(days=3)))])
    review = station.window.open_review()
    qtbot.waitUntil(lambda: not review.busy and review.model.rowCount() > 0,
                    timeout=10_000)  # searched on opening, without a click
    assert [r.tracking_number for r in review.model.rows] == ["900000000001"]
    assert review.period_check.isChecked()
    assert review.from_date.date().toPython() == review.to_date.date().toPython() == midnight.date()
    with qtbot.waitSignal(review.searched, timeout=10_000):
        review.take_scan("900000000003")  # a claim about a parcel packed days ago
    assert [r.tracking_number for r in review.model.rows] == ["900000000003"] and not review.period_check.isChecked()
    finish(review, qtbot)


@pytest.mark.qt_log_ignore("Could not open media", extend=True)  # the files are not there: the length is the index's
@pytest.mark.parametrize("lang", ["ko", "en"])
def test_player_icons_are_drawn_and_the_length_is_the_recordings_own_before_play(  # type: ignore[no-untyped-def]
        station, qtbot, tmp_path: Path, any_language, lang: str) -> None:
    i18n.set_language(lang)
    review = open_review(station, qtbot)
    panel = review.player_panel
    buttons = [panel.play_button, panel.back_button, panel.forward_button, panel.full_button]
    assert all(not b.icon().isNull() for b in buttons)  # Qt's own icons, not glyphs a Linux font lacks
    texts = [b.text() for b in review.findChildren(QPushButton)]
    assert not [t for t in texts if set(t) & set("⏸⛶▶◀")], texts
    assert panel.play_button.text() == ("재생 / Play" if lang == "ko" else "Play")
    panel.load(tmp_path / "first.mp4", length_ms=61_500)
    assert panel.time_label.text() == "00:00.0 / 01:01.5" and panel.slider.maximum() == 61_500
    panel.load(tmp_path / "second.mp4", length_ms=4_200)  # its own length at once, not the previous one's
    assert panel.time_label.text() == "00:00.0 / 00:04.2" and panel.length_ms() == 4_200
    panel.unload()

    # a refusal's long reason wraps in the scans panel: no horizontal scrollbar to read it
    review.resize(1400, 900)
    review.scan_list.addItem("00:01.2  10:00:00  ✗ " + "원목 코스터 세트 — 이 송장에 없는 상품입니다 " * 6)
    qtbot.waitUntil(lambda: review.scan_list.isVisible())
    assert review.scan_list.wordWrap()
    assert review.scan_list.horizontalScrollBar().maximum() == 0
    finish(review, qtbot)
