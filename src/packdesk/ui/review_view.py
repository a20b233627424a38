"""Recordings review: find a pack's video, watch it beside its scans, keep the evidence for a claim.

A supervisor answers "the item was missing" here: scan or type the waybill (or an order number, or the
recipient's name), pick the recording, and the video plays with every scan of that pack listed beside it;
clicking "세라믹 머그컵 scanned" jumps the video there. A claimed recording is marked keep (retention never
deletes it), gets a note, and is exported whole or as an in–out clip for the marketplace or the customer.

Scans: while this window is the active window, the composition root routes
scanner input to ``take_scan`` instead of the station (``app.py``), so a waybill scanned here is searched,
never packed. Every database read and every file operation runs off the UI thread (``ui/ops.py``);
writes go to the station's database thread.

Playback: Qt's FFmpeg backend seeks an MPEG-TS file only to the next keyframe (x264 puts one every ~8 s),
so the player plays an .mp4 made from the recording by packet copy (no re-encoding, a few ms for a pack);
in an MP4 it seeks to the exact frame, which is what "jump to the scan" and frame stepping need.
"""

from __future__ import annotations

import bisect
import contextlib
import logging
import shutil
import tempfile
import weakref
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QDate,
    QEvent,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    QUrl,
    Signal,
)
from PySide6.QtGui import QCloseEvent, QColor, QDesktopServices, QIcon, QKeyEvent
from PySide6.QtMultimedia import QMediaPlayer
from PySide6.QtMultimediaWidgets import QVideoWidget
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDateEdit,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSlider,
    QSplitter,
    QStyle,
    QTableView,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from packdesk.core import words
from packdesk.core.db import Database
from packdesk.core.enums import PackOutcome, RecordingStatus, ScanKind
from packdesk.core.errors import KnownError
from packdesk.core.kst import KST, kst_text
from packdesk.core.station import Level, Message, Msg
from packdesk.services import claim_bundle, dbworker, review
from packdesk.services.dbworker import DbWorker, Job
from packdesk.services.evidence import Evidence, gather, with_frames
from packdesk.services.review import ExportMethod, ExportResult, PackHistory, RecordingRow, ScanRow, SearchField
from packdesk.ui import files, ops
from packdesk.ui.claim_bundle_view import BUTTON_TEXT as CLAIM_BUNDLE_TEXT
from packdesk.ui.claim_bundle_view import ClaimBundleDialog, open_claim_bundle
from packdesk.ui.evidence_sheet import evidence_path, write_evidence_sheet
from packdesk.ui.i18n import both, one, plural, tr, two_lines
from packdesk.ui.messages import COUNTED_TEXT, KIND_TEXT, error_text, station_text
from packdesk.ui.video_link_view import VideoLinkControl

log = logging.getLogger("packdesk.ui.review")

# how a pack ended ("완료 / completed"; shown through ``tr``)
OUTCOME_TEXT = {o: " / ".join(words.label(words.OUTCOME, o)) for o in PackOutcome}
FIELD_TEXT = {
    SearchField.ANY: "전체 / Any", SearchField.WAYBILL: "송장 / Waybill", SearchField.ORDER: "주문번호 / Order no.",
    SearchField.RECIPIENT: "수령인 / Recipient",
}
EXPORT_METHOD_TEXT = {
    ExportMethod.COPY: "원본 그대로 / the original file",
    ExportMethod.REMUX: "재인코딩 없음 / not re-encoded",
    ExportMethod.REENCODE: "정확히 자르려고 재인코딩 / re-encoded for an exact cut",
}
SPEEDS = (0.5, 1.0, 2.0, 4.0)
COLUMNS = ("시작 / Started", "송장 / Waybill", "주문 / Orders", "수령인 / Recipient", "스테이션 / Station",
           "작업자 / Packer", "길이 / Length", "결과 / Outcome", "보관 / Keep", "메모 / Note")
REFUSED_FG = QColor("#b71c1c")
GONE_FG = QColor("#9e9e9e")


def problem_text(error: BaseException) -> tuple[str, str]:
    if isinstance(error, KnownError):
        return error_text(error)
    return error_text(KnownError("error", detail=repr(error)))


def clock(ms: int | None) -> str:
    """``mm:ss.s`` for a position in a video."""
    if ms is None:
        return "--:--.-"
    ms = max(0, ms)
    return f"{ms // 60000:02d}:{ms % 60000 / 1000:04.1f}"


def reason_text(sc: ScanRow, tracking_number: str = "") -> str:
    """A refusal in the station's own words (Korean / English)."""
    try:
        msg = Msg(sc.reason)
    except ValueError:
        return sc.reason
    ko, en = station_text(Message(Level.ERROR, msg, {"name": sc.item_name, "barcode": sc.code,
                                                     "tracking": tracking_number or sc.code}))
    return both(ko, en)


def scan_text(sc: ScanRow, tracking_number: str = "") -> str:
    what = sc.item_name or sc.code
    if sc.kind is not ScanKind.ITEM or not sc.item_name:
        what = f"{tr(KIND_TEXT.get(sc.kind, str(sc.kind)))} {sc.code}"
    if sc.accepted:
        return f"✓ {what} ×{sc.quantity} ({tr(COUNTED_TEXT)})" if sc.quantity > 1 else f"✓ {what}"
    return f"✗ {what} — {reason_text(sc, tracking_number)}"


# ---------------------------------------------------------------- results table

class RecordingTableModel(QAbstractTableModel):
    """The search results: thousands of rows held as tuples, sorted in memory, more pages fetched as the
    view scrolls to the end (``more_wanted``)."""

    more_wanted = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.rows: list[RecordingRow] = []
        self.has_more = False
        self.loading = False
        self._sort: tuple[int, Qt.SortOrder] | None = None

    def set_rows(self, rows: list[RecordingRow], has_more: bool) -> None:
        self.beginResetModel()
        self.rows, self.has_more = list(rows), has_more
        self._apply_sort()
        self.endResetModel()

    def append_rows(self, rows: list[RecordingRow], has_more: bool) -> None:
        seen = {r.id for r in self.rows}
        new = [r for r in rows if r.id not in seen]
        self.has_more = has_more
        if self._sort is not None:  # a sorted table stays sorted as pages arrive
            self.layoutAboutToBeChanged.emit()
            self.rows.extend(new)
            self._apply_sort()
            self.layoutChanged.emit()
        elif new:
            self.beginInsertRows(QModelIndex(), len(self.rows), len(self.rows) + len(new) - 1)
            self.rows.extend(new)
            self.endInsertRows()

    def update_row(self, recording_id: int, **changes: Any) -> None:
        for i, r in enumerate(self.rows):
            if r.id == recording_id:
                self.rows[i] = r._replace(**changes)
                self.dataChanged.emit(self.index(i, 0), self.index(i, len(COLUMNS) - 1))

    def row_of(self, recording_id: int) -> int | None:
        return next((i for i, r in enumerate(self.rows) if r.id == recording_id), None)

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def canFetchMore(self, parent: QModelIndex | QPersistentModelIndex) -> bool:
        return not parent.isValid() and self.has_more and not self.loading

    def fetchMore(self, parent: QModelIndex | QPersistentModelIndex) -> None:
        if self.canFetchMore(parent):
            self.loading = True
            self.more_wanted.emit()

    def _cell(self, r: RecordingRow, col: int) -> str:
        match col:
            case 0:
                return kst_text(r.started_at)
            case 1:
                return r.tracking_number
            case 2:
                return r.order_nos
            case 3:
                return r.recipient_name
            case 4:
                return r.station
            case 5:
                return r.packer_name
            case 6:
                return clock(r.duration_ms)
            case 7:
                gone = tr(" · 파일 삭제됨 / file deleted") if r.deleted else ""
                failed = "" if r.status in (RecordingStatus.COMPLETE, RecordingStatus.RECOVERED) else \
                    f" · {r.status}"
                return tr(OUTCOME_TEXT.get(r.pack_outcome, str(r.pack_outcome))) + failed + gone
            case 8:
                return tr("보관 / keep") if r.keep else ""
            case _:
                return r.note.splitlines()[0] if r.note else ""

    def _key(self, col: int) -> Callable[[RecordingRow], Any]:
        if col == 0:
            return lambda r: (r.started_at, r.id)
        if col == 6:
            return lambda r: r.duration_ms
        if col == 8:
            return lambda r: r.keep
        return lambda r: self._cell(r, col)

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        r = self.rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return self._cell(r, index.column())
        if role == Qt.ItemDataRole.UserRole:
            return r
        if role == Qt.ItemDataRole.ForegroundRole and r.deleted:
            return GONE_FG
        if role == Qt.ItemDataRole.ToolTipRole:  # the whole text of a cell however narrow its column
            return r.note if index.column() == 9 else self._cell(r, index.column()) or None
        if role == Qt.ItemDataRole.TextAlignmentRole and index.column() == 6:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return tr(COLUMNS[section])
        return None

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        self.layoutAboutToBeChanged.emit()
        self._sort = (column, order)
        self._apply_sort()
        self.layoutChanged.emit()

    def _apply_sort(self) -> None:
        if self._sort is not None:
            col, order = self._sort
            self.rows.sort(key=self._key(col), reverse=order == Qt.SortOrder.DescendingOrder)


# ---------------------------------------------------------------- player

class PlayerPanel(QWidget):
    """The video with its controls: play/pause, seek bar, ±1 frame, 0.5x–4x, and the full-screen button."""

    full_screen_requested = Signal()  # the window decides what full screen means (``ReviewWindow``)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("playerPanel")
        self.player = QMediaPlayer(self)
        self.video = QVideoWidget(self, objectName="video")
        self.video.setMinimumSize(320, 240)
        self.player.setVideoOutput(self.video)
        self.frame_ms = 1000 / 30
        self.frame_times: list[int] = []
        # Qt's own icons, not glyphs: Linux fonts lack ⏸ and ⛶ (they showed as boxes, issue #20)
        self.play_button = QPushButton(self._icon(QStyle.StandardPixmap.SP_MediaPlay), tr("재생 / Play"),
                                       objectName="playButton")
        self.back_button = QPushButton(self._icon(QStyle.StandardPixmap.SP_MediaSeekBackward), "-1",
                                       objectName="frameBack")
        self.back_button.setToolTip(tr("한 프레임 뒤로 / one frame back"))
        self.forward_button = QPushButton(self._icon(QStyle.StandardPixmap.SP_MediaSeekForward), "+1",
                                          objectName="frameForward")
        self.forward_button.setToolTip(tr("한 프레임 앞으로 / one frame forward"))
        self.speed = QComboBox(objectName="speedCombo")
        for rate in SPEEDS:
            self.speed.addItem(f"{rate:g}x", rate)
        self.speed.setCurrentIndex(SPEEDS.index(1.0))
        self.full_button = QPushButton(self._icon(QStyle.StandardPixmap.SP_TitleBarMaxButton),
                                       tr("전체 화면 / Full screen"), objectName="fullScreen")
        self.slider = QSlider(Qt.Orientation.Horizontal, objectName="seekSlider")
        self.time_label = QLabel(f"{clock(0)} / {clock(0)}", objectName="timeLabel")

        controls = QHBoxLayout()
        for w in (self.play_button, self.back_button, self.forward_button, self.speed, self.full_button):
            controls.addWidget(w)
        controls.addStretch(1)
        controls.addWidget(self.time_label)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.video, 1)
        lay.addWidget(self.slider)
        lay.addLayout(controls)

        self.play_button.clicked.connect(self.toggle_play)
        self.back_button.clicked.connect(lambda: self.step(-1))
        self.forward_button.clicked.connect(lambda: self.step(1))
        self.speed.currentIndexChanged.connect(lambda i: self.player.setPlaybackRate(self.speed.itemData(i)))
        self.full_button.clicked.connect(self.full_screen_requested)
        self.slider.sliderMoved.connect(self.seek)
        self.player.durationChanged.connect(self._duration_changed)
        self.player.positionChanged.connect(self._position_changed)
        self.player.playbackStateChanged.connect(self._state_changed)
        self.video.videoSink().videoFrameChanged.connect(self._frame_shown)
        # a frame step under way: the frame wanted and the positions still known to lie before / after it
        self._step_target: tuple[int, int, int, int] | None = None  # (want, lo, hi, tries left)
        self._length_ms: int | None = None

    def _icon(self, pixmap: QStyle.StandardPixmap) -> QIcon:
        return self.style().standardIcon(pixmap)

    def load(self, path: Path | None, fps: float = 30.0, frame_times: list[int] | None = None,
             length_ms: int | None = None) -> None:
        """``length_ms``: the recording's own length (from the index), shown at once — the player learns it
        only once the file is open, and until then its duration is the previous recording's."""
        self.player.stop()
        self._length_ms = length_ms
        self.slider.setRange(0, max(0, length_ms or 0))
        self.slider.setValue(0)
        self.time_label.setText(f"{clock(0)} / {clock(length_ms)}")
        if self.player.videoOutput() is None:
            self.player.setVideoOutput(self.video)
        self.frame_ms = 1000 / fps if fps > 0 else 1000 / 30
        self.frame_times = list(frame_times or [])
        self._step_target = None
        self.player.setSource(QUrl.fromLocalFile(str(path)) if path else QUrl())
        self.setEnabled(path is not None)

    def unload(self) -> None:
        """Stop and let go of the file; the video widget is detached first, so the player's last (empty)
        frame does not land on a window that is being hidden."""
        self.player.setVideoOutput(None)
        self.player.stop()
        self.player.setSource(QUrl())

    def toggle_play(self) -> None:
        self._step_target = None
        if self.player.playbackState() == QMediaPlayer.PlaybackState.PlayingState:
            self.player.pause()
        else:
            self.player.play()

    def seek(self, ms: int) -> None:
        """Show the frame at ``ms``: a stopped player is paused first, so the frame is drawn."""
        self._step_target = None
        if self.player.playbackState() == QMediaPlayer.PlaybackState.StoppedState:
            self.player.pause()
        self.player.setPosition(max(0, min(int(ms), self.player.duration() or int(ms))))

    def shown_ms(self) -> int | None:
        """The time of the frame on screen (not the player's position, which lies between frames)."""
        frame = self.video.videoSink().videoFrame()
        return frame.startTime() // 1000 if frame.isValid() and frame.startTime() >= 0 else None

    def step(self, frames: int) -> None:
        """Frame by frame. QMediaPlayer has no frame step: pause, then seek to the neighbouring frame's own
        time (the recording's frames follow the camera's clock, so a fixed 1/fps step could skip or repeat
        one); without the frame list, one nominal frame duration."""
        if self.player.playbackState() != QMediaPlayer.PlaybackState.PausedState:
            self.player.pause()
        shown = self.shown_ms()
        here = shown if shown is not None else self.player.position()
        if not self.frame_times:
            self.seek(round(here + frames * self.frame_ms))
            return
        t = self.frame_times
        i = max(0, bisect.bisect_right(t, here) - 1)
        j = max(0, min(len(t) - 1, i + frames))
        # Qt shows, at a position, the first frame whose start + nominal duration lies beyond it (measured: with
        # frames at 2094 and 2109 ms it shows 2094 at 2121 ms; with 2133 and 2170 it shows 2170 at 2169 ms). The
        # camera's frames are unevenly spaced, so frame j shows only in [t[j-1] + d, t[j] + d): seek to its middle.
        # That rule is the backend's, not a promise: the frame that does show is checked (``_frame_shown``) and
        # the position bisected between t[j-1] and t[j] + d until frame j is on screen
        d = self.frame_ms
        lo = max(t[j - 1] + d, t[j]) if j > 0 else t[j]
        pos = int((lo + t[j] + d) / 2)
        self.seek(pos)
        self._step_target = (t[j], t[j - 1] if j > 0 else 0, int(t[j] + 2 * d), 8)

    def _frame_shown(self) -> None:
        """After a frame step's seek: if the backend drew a neighbour instead, move half way towards the frame
        wanted (at most eight times; each seek draws one frame)."""
        if self._step_target is None or self.player.playbackState() != QMediaPlayer.PlaybackState.PausedState:
            return
        shown = self.shown_ms()
        want, lo, hi, tries = self._step_target
        if shown is None or shown == want or tries <= 0:
            self._step_target = None
            return
        pos = self.player.position()
        if shown < want:
            lo = max(lo, pos + 1)
        else:
            hi = min(hi, pos - 1)
        nxt = (lo + hi) // 2
        if lo > hi or nxt == pos:
            self._step_target = None
            return
        self._step_target = (want, lo, hi, tries - 1)
        self.player.setPosition(nxt)

    def set_speed(self, rate: float) -> None:
        self.speed.setCurrentIndex(SPEEDS.index(rate))

    def keyPressEvent(self, event: QKeyEvent) -> None:
        """With the player focused: Space plays or pauses, ← → step one frame."""
        key = event.key()
        if key == Qt.Key.Key_Space:
            self.toggle_play()
        elif key in (Qt.Key.Key_Left, Qt.Key.Key_Right):
            self.step(1 if key == Qt.Key.Key_Right else -1)
        else:
            super().keyPressEvent(event)

    def length_ms(self) -> int | None:
        """The loaded recording's length: the index's until the player has opened the file, then the file's."""
        return self._length_ms

    def _duration_changed(self, d: int) -> None:
        if d > 0:
            self._length_ms = d
        self.slider.setRange(0, max(0, self._length_ms or 0))
        self.time_label.setText(f"{clock(self.player.position())} / {clock(self._length_ms)}")

    def _position_changed(self, ms: int) -> None:
        if not self.slider.isSliderDown():
            self.slider.setValue(ms)
        self.time_label.setText(f"{clock(ms)} / {clock(self._length_ms)}")

    def _state_changed(self, state: QMediaPlayer.PlaybackState) -> None:
        playing = state == QMediaPlayer.PlaybackState.PlayingState
        self.play_button.setIcon(self._icon(QStyle.StandardPixmap.SP_MediaPause if playing
                                            else QStyle.StandardPixmap.SP_MediaPlay))
        self.play_button.setText(tr("일시정지 / Pause") if playing else tr("재생 / Play"))


# ---------------------------------------------------------------- the window

@dataclass(frozen=True)
class _Loaded:
    row: RecordingRow
    scans: list[ScanRow]
    playable: Path | None      # what the player opens (an .mp4 copy of a .ts recording), None: no file
    fps: float
    frame_times: list[int]
    problem: KnownError | None
    length_ms: int | None = None  # the recording's own: the index's, else the file's probe


class ReviewWindow(QMainWindow):
    """The recordings review. One per main window: closing it hides it (and stops the video)."""

    searched = Signal(int)              # rows shown after a search (or a page) arrived
    verify_progressed = Signal(int, int)  # (done, total), from the verifying thread
    verified = Signal(object)           # the VerifyReport
    recording_loaded = Signal(int)      # the recording id, once the player has the video (or knows it has none)
    history_loaded = Signal(object)     # PackHistory
    saved = Signal(str)                 # "keep" or "note", once stored
    exported = Signal(object)           # ExportResult
    failed = Signal(str)                # an error code, after it is on screen

    def __init__(self, db: Database, *, worker: DbWorker, station_name: str = "",
                 parent: QWidget | None = None, scratch_dir: Path | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(tr("녹화 영상 검토 / Recordings review"))
        self.setObjectName("reviewWindow")
        self.resize(1400, 900)
        self.db = db
        self.worker = worker
        self.station_name = station_name
        # the player's .mp4 copies; a folder of our own, removed with the window (or at exit)
        self.scratch = scratch_dir or Path(tempfile.mkdtemp(prefix="packdesk-review-"))
        if scratch_dir is None:
            weakref.finalize(self, shutil.rmtree, self.scratch, ignore_errors=True)
        self.open_url: Callable[[QUrl], bool] = QDesktopServices.openUrl  # tests swap it for a recorder
        self.current: RecordingRow | None = None
        self.in_ms: int | None = None
        self.out_ms: int | None = None
        self.last_export_dir: Path | None = None
        self.last_evidence: Path | None = None
        self._search_gen = 0
        self._load_gen = 0
        self._query = review.SearchQuery()
        self._next_after: tuple[datetime, int] | None = None
        self._await_media: int | None = None
        self._build()
        self._load_filters()

    # ------------------------------------------------------------ building

    def _build(self) -> None:
        self.search_box = QLineEdit(objectName="reviewSearch")
        self.search_box.setPlaceholderText(tr("송장번호 · 주문번호 · 수령인 — 스캔하거나 입력 / "
                                              "waybill, order no., recipient — scan or type"))
        self.search_box.setClearButtonEnabled(True)
        self.field_combo = QComboBox(objectName="searchField")
        for f, label in FIELD_TEXT.items():
            self.field_combo.addItem(tr(label), f)
        self.period_check = QCheckBox(tr("기간 / Period"), objectName="periodCheck")
        # opens on today's recordings, today being Korea's day like every time on the screen (not the PC's zone)
        self.period_check.setChecked(True)
        today = QDate(datetime.now(KST).date())  # type: ignore[call-overload]
        self.from_date = QDateEdit(today, objectName="fromDate")
        self.to_date = QDateEdit(today, objectName="toDate")
        for e in (self.from_date, self.to_date):
            e.setCalendarPopup(True)
            e.setDisplayFormat("yyyy-MM-dd")
        self.station_combo = QComboBox(objectName="stationCombo")
        self.packer_combo = QComboBox(objectName="packerCombo")
        for c, label in ((self.station_combo, tr("모든 스테이션 / all stations")),
                         (self.packer_combo, tr("모든 작업자 / all packers"))):
            c.setEditable(True)
            c.addItem("", "")
            c.lineEdit().setPlaceholderText(label)  # type: ignore[union-attr]
            c.setMinimumWidth(170)
        self.search_button = QPushButton(tr("검색 / Search"), objectName="searchButton")
        self.result_label = QLabel("", objectName="resultLabel")

        bar = QHBoxLayout()
        bar.addWidget(self.search_box, 3)
        bar.addWidget(self.field_combo)
        bar.addWidget(self.period_check)
        bar.addWidget(self.from_date)
        bar.addWidget(QLabel("–"))
        bar.addWidget(self.to_date)
        bar.addWidget(self.station_combo)
        bar.addWidget(self.packer_combo)
        bar.addWidget(self.search_button)
        # --- tamper evidence (issue #12): verify every recording and the hash chains, in the background ---
        self.verify_button = QPushButton(tr("무결성 검사 / Verify recordings"), objectName="verifyButton")
        self.verify_button.clicked.connect(self.verify_recordings)
        self.verify_progress = QProgressBar(objectName="verifyProgress")
        self.verify_progress.hide()
        # the archive's result stays beside its button: loading a recording rewrites the status line below
        self.verify_label = QLabel("", objectName="verifyResult")
        bar.addWidget(self.verify_button)
        bar.addWidget(self.verify_progress)
        bar.addWidget(self.verify_label)
        # returns (ui/return_review.py): a returned parcel's video beside its outbound pack's
        self.returns_button = QPushButton(tr("반품 검수 영상 / Returns"), objectName="returnsButton")
        self.returns_button.clicked.connect(self.open_returns)
        bar.addWidget(self.returns_button)
        self.returns_window: QWidget | None = None

        self.model = RecordingTableModel(self)
        self.table = QTableView(objectName="reviewResults")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(24)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.horizontalHeader().setStretchLastSection(True)
        header = self.table.horizontalHeader()
        for col, width in enumerate((150, 120, 130, 90, 90, 80, 70, 150, 70)):
            self.table.setColumnWidth(col, max(width, header.sectionSizeHint(col)))  # never a clipped title
        # the outcome column as wide as its longest words (a failed, deleted recording's included), so a row's
        # reason is read whole; the cheap way, from the texts themselves, not by measuring thousands of rows
        fm = self.table.fontMetrics()
        longest = max(fm.horizontalAdvance(tr(t) + tr(" · 파일 삭제됨 / file deleted") + " · recovered")
                      for t in OUTCOME_TEXT.values())
        self.table.setColumnWidth(7, max(self.table.columnWidth(7), longest + 16))
        self.table.horizontalHeader().setSortIndicator(0, Qt.SortOrder.DescendingOrder)
        self.table.setSortingEnabled(True)

        self.player_panel = PlayerPanel()
        self.player = self.player_panel.player
        self.scan_list = QListWidget(objectName="scanList")
        self.scan_list.setMinimumWidth(320)
        # a refusal's reason wraps onto more lines instead of running off under a horizontal scrollbar
        self.scan_list.setWordWrap(True)
        self.scan_list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.scan_list.setResizeMode(QListWidget.ResizeMode.Adjust)
        self.scan_list.setTextElideMode(Qt.TextElideMode.ElideNone)
        scans_box = QGroupBox(tr("스캔 — 누르면 그 장면으로 / Scans — click to jump there"))
        QVBoxLayout(scans_box).addWidget(self.scan_list)
        self.info_label = QLabel("", objectName="recordingInfo")
        self.info_label.setWordWrap(True)
        player_box = QWidget()
        pl = QVBoxLayout(player_box)
        pl.setContentsMargins(0, 0, 0, 0)
        pl.addWidget(self.info_label)
        pl.addWidget(self.player_panel, 1)
        video_split = QSplitter(Qt.Orientation.Horizontal)
        video_split.addWidget(player_box)
        video_split.addWidget(scans_box)
        video_split.setStretchFactor(0, 3)
        video_split.setStretchFactor(1, 1)

        # claim: keep, note, clip, folder
        self.keep_check = QCheckBox(tr("보관 — 자동 삭제 안 함 (클레임) / Keep — retention never deletes it (claim)"),
                                    objectName="keepCheck")
        self.note_edit = QPlainTextEdit(objectName="noteEdit")
        self.note_edit.setPlaceholderText(tr("메모 (클레임 번호, 내용…) / Note (claim number, what happened…)"))
        self.note_edit.setMaximumHeight(90)
        self.save_note_button = QPushButton(tr("메모 저장 / Save note"), objectName="saveNote")
        self.in_button = QPushButton(one("[ 시작점 / In", "[ In"), objectName="inPoint")
        self.out_button = QPushButton(one("] 끝점 / Out", "] Out"), objectName="outPoint")
        self.range_label = QLabel("", objectName="rangeLabel")
        self.export_whole_button = QPushButton(one("전체 내보내기 (.mp4) / Export whole", "Export whole (.mp4)"),
                                               objectName="exportWhole")
        self.export_range_button = QPushButton(one("구간 내보내기 (.mp4) / Export in–out", "Export in–out (.mp4)"),
                                               objectName="exportRange")
        self.export_original_button = QPushButton(one("원본 복사 (.ts) / Copy original", "Copy original (.ts)"),
                                                  objectName="exportOriginal")
        self.export_original_button.setToolTip(tr("원본 파일 그대로: 해시가 색인과 일치 / "
                                                  "the file itself: its hash matches the index"))
        self.open_folder_button = QPushButton(tr("폴더 열기 / Open folder"), objectName="openFolder")
        self.open_export_button = QPushButton(tr("내보낸 폴더 열기 / Open export folder"),
                                              objectName="openExportFolder")
        self.open_export_button.setEnabled(False)
        self.claim_bundle_button = QPushButton(tr(CLAIM_BUNDLE_TEXT), objectName="claimBundle")
        self.status_label = QLabel("", objectName="reviewStatus")
        self.status_label.setWordWrap(True)
        claim_box = QGroupBox(tr("클레임 / Claim"))
        cl = QVBoxLayout(claim_box)
        cl.addWidget(self.keep_check)
        note_row = QHBoxLayout()
        note_row.addWidget(self.note_edit, 1)
        note_row.addWidget(self.save_note_button)
        cl.addLayout(note_row)
        range_row = QHBoxLayout()
        for w in (self.in_button, self.out_button, self.range_label):
            range_row.addWidget(w)
        range_row.addStretch(1)
        cl.addLayout(range_row)
        export_row = QHBoxLayout()
        for w in (self.export_whole_button, self.export_range_button, self.export_original_button,
                  self.open_folder_button, self.open_export_button, self.claim_bundle_button):
            export_row.addWidget(w)
        cl.addLayout(export_row)
        self.video_link = VideoLinkControl(self.db, cl, self.scratch / "links", say=self._say, parent=self,
                                           current=lambda: self.current.id if self.current else None,
                                           problem=self._show_problem)
        cl.addWidget(self.status_label)

        self.history_tree = QTreeWidget(objectName="historyTree")
        self.history_tree.setHeaderLabels([tr("시각 / Time"), tr("내용 / What"),
                                           tr("스테이션 · 작업자 / Station · packer")])
        self.history_tree.setColumnWidth(0, 150)
        self.history_tree.setColumnWidth(1, 420)
        history_box = QGroupBox(tr("포장 이력 / Pack history"))
        QVBoxLayout(history_box).addWidget(self.history_tree)

        bottom = QSplitter(Qt.Orientation.Horizontal)
        bottom.addWidget(claim_box)
        bottom.addWidget(history_box)
        self._not_in_full_screen: list[QWidget] = [self.info_label, bottom]  # hidden while the video fills the screen
        main_split = QSplitter(Qt.Orientation.Vertical)
        main_split.addWidget(self.table)
        main_split.addWidget(video_split)
        main_split.addWidget(bottom)
        main_split.setStretchFactor(0, 2)
        main_split.setStretchFactor(1, 4)
        main_split.setStretchFactor(2, 2)

        central = QWidget()
        lay = QVBoxLayout(central)
        bar_box = QWidget()
        bar_box.setLayout(bar)
        lay.addWidget(bar_box)
        lay.addWidget(self.result_label)
        self._not_in_full_screen += [bar_box, self.result_label, self.table]
        lay.addWidget(main_split, 1)
        self.setCentralWidget(central)
        self._set_recording_controls(False)

        self.search_box.returnPressed.connect(self.search)
        self.search_button.clicked.connect(self.search)
        self.field_combo.currentIndexChanged.connect(lambda _: self._search_if_text())
        self.period_check.toggled.connect(self._period_toggled)
        self.from_date.dateChanged.connect(lambda _: self.search() if self.period_check.isChecked() else None)
        self.to_date.dateChanged.connect(lambda _: self.search() if self.period_check.isChecked() else None)
        self.station_combo.activated.connect(lambda _: self.search())
        self.packer_combo.activated.connect(lambda _: self.search())
        self.model.more_wanted.connect(self.load_more)
        self.table.selectionModel().currentRowChanged.connect(self._row_changed)
        self.scan_list.itemClicked.connect(self._scan_clicked)
        self.scan_list.itemActivated.connect(self._scan_clicked)
        self.keep_check.clicked.connect(self.set_keep)
        self.save_note_button.clicked.connect(self.save_note)
        self.in_button.clicked.connect(lambda: self.set_in_point(self.player.position()))
        self.out_button.clicked.connect(lambda: self.set_out_point(self.player.position()))
        self.export_whole_button.clicked.connect(lambda: self._export_clicked("whole"))
        self.export_range_button.clicked.connect(lambda: self._export_clicked("range"))
        self.export_original_button.clicked.connect(lambda: self._export_clicked("original"))
        self.open_folder_button.clicked.connect(self.open_folder)
        self.open_export_button.clicked.connect(self.open_export_folder)
        self.claim_bundle_button.clicked.connect(self.export_claim_bundle)
        self.player_panel.full_screen_requested.connect(self.toggle_full_screen)
        self.player_panel.video.installEventFilter(self)
        self.history_tree.itemActivated.connect(self._history_activated)
        self.history_tree.itemDoubleClicked.connect(self._history_activated)
        self.player.mediaStatusChanged.connect(self._media_status)
        self.player.errorOccurred.connect(self._player_error)

    def _set_recording_controls(self, on: bool, has_file: bool = False) -> None:
        self.video_link.recording_changed(self.current.id if on and self.current else None, has_file)
        for w in (self.keep_check, self.note_edit, self.save_note_button, self.open_folder_button,
                  self.claim_bundle_button):
            w.setEnabled(on)
        for w in (self.in_button, self.out_button, self.export_whole_button, self.export_range_button,
                  self.export_original_button):
            w.setEnabled(on and has_file)

    # ------------------------------------------------------------ background work

    def open_returns(self) -> QWidget:
        from packdesk.ui.return_review import ReturnReviewWindow  # it builds on this module's player

        if self.returns_window is None:
            self.returns_window = ReturnReviewWindow(self.db, station_name=self.station_name, parent=self)
        self.returns_window.show()
        self.returns_window.raise_()
        return self.returns_window

    @property
    def busy(self) -> bool:
        """Something runs in the background (tests wait for this before closing)."""
        return ops.pending(self) > 0

    def _in_thread(self, name: str, fn: Callable[[], Any], done: Callable[[Any], None]) -> None:
        ops.run(self, f"review-{name}", fn, done, self._show_problem)

    def _read(self, name: str, job: Job[Any], done: Callable[[Any], None]) -> None:
        ops.read(self, f"review-{name}", self.db, job, done, self._show_problem)

    def _write(self, name: str, job: Job[Any], done: Callable[[Any], None]) -> None:
        """Writes go to the station's one database thread (one writer: docs/architecture.md, conventions)."""
        ops.write(self, f"review-{name}", self.worker, job, done, self._show_problem)

    def _show_problem(self, error: BaseException) -> None:
        self.model.loading = False
        code = error.code if isinstance(error, KnownError) else "error"
        log.info("review: %s (%s)", code, getattr(error, "detail", repr(error)))
        self.status_label.setText(two_lines(*problem_text(error)))
        self.status_label.setStyleSheet("color: #b71c1c;")
        self.failed.emit(code)

    def _say(self, text: str) -> None:
        self.status_label.setStyleSheet("")
        self.status_label.setText(text)

    # ------------------------------------------------------------ verify (issue #12)

    video_root: Path | None = None  # set by the main window: where unindexed videos are looked for
    anchor_file: Path | None = None  # set by the main window: this PC's memory of the chain heads

    def verify_recordings(self) -> None:
        from packdesk.services.integrity import read_anchors, verify

        self.verify_button.setEnabled(False)
        self.verify_progress.setRange(0, 0)
        self.verify_progress.show()
        self.verify_label.setText("")
        self.verify_label.setToolTip("")
        self._say(tr("무결성 검사 중… / Verifying…"))
        if not getattr(self, "_verify_wired", False):
            self.verify_progressed.connect(self._verify_step)
            self._verify_wired = True
        anchors = read_anchors(self.anchor_file) if self.anchor_file else None
        station = self.station_name or None
        tell = ops.progress(self, self.verify_progressed.emit)  # only while this window exists
        ops.run(self, "verify", lambda: verify(self.db, self.video_root, station=station, anchors=anchors,
                                               progress=tell),
                self._verified, self._verify_failed)

    def _verify_step(self, done: int, total: int) -> None:
        self.verify_progress.setRange(0, max(total, 1))
        self.verify_progress.setValue(done)

    def _verified(self, report: Any) -> None:
        self.verify_button.setEnabled(True)
        self.verify_progress.hide()
        if report.ok:
            said = both("변조 없음", f"Nothing altered — {plural(report.checked_files, 'file')}, "
                                     f"{plural(report.checked_links, 'link')}")
            self.verify_label.setStyleSheet("color: #1b5e20;")
            self.verify_label.setText(said)
            self.verify_label.setToolTip("")
            self._say(said)
        else:
            lines = [f"{p.kind}: {p.detail}" for p in report.problems[:20]]
            more = f"\n… +{len(report.problems) - 20}" if len(report.problems) > 20 else ""
            said = both(f"문제 {len(report.problems)}건", plural(len(report.problems), 'problem'))
            self.verify_label.setStyleSheet("color: #b71c1c; font-weight: bold;")
            self.verify_label.setText(said)
            self.verify_label.setToolTip("\n".join(lines) + more)
            self.status_label.setStyleSheet("color: #b71c1c;")
            self.status_label.setText(said + "\n" + "\n".join(lines) + more)
        self.verified.emit(report)

    def _verify_failed(self, error: BaseException) -> None:
        self.verify_button.setEnabled(True)
        self.verify_progress.hide()
        self._show_problem(error)

    # ------------------------------------------------------------ filters

    def _load_filters(self) -> None:
        self._read("filters", lambda s: (review.known_stations(s), review.packer_names(s)), self._filters_loaded)

    def _filters_loaded(self, result: tuple[list[str], list[str]]) -> None:
        stations, packers = result
        if self.station_name and self.station_name not in stations:
            stations = [self.station_name, *stations]
        for combo, names in ((self.station_combo, stations), (self.packer_combo, packers)):
            have = {combo.itemText(i) for i in range(combo.count())}
            for n in names:
                if n not in have:
                    combo.addItem(n, n)

    def _period_toggled(self, on: bool) -> None:
        self._period_toggled_quiet(on)
        self.search()

    def _period_toggled_quiet(self, on: bool) -> None:
        self.from_date.setEnabled(on)
        self.to_date.setEnabled(on)

    def _search_if_text(self) -> None:
        if self.search_box.text().strip():
            self.search()

    def query(self) -> review.SearchQuery:
        since = until = None
        if self.period_check.isChecked():
            since = _day_start(self.from_date.date())
            until = _day_start(self.to_date.date()) + timedelta(days=1)
        return review.SearchQuery(text=self.search_box.text().strip(),
                                  field=SearchField(self.field_combo.currentData()), since=since, until=until,
                                  station=self.station_combo.currentText().strip(),
                                  packer=self.packer_combo.currentText().strip())

    # ------------------------------------------------------------ search

    def take_scan(self, code: str) -> None:
        """A scan while this window is active (routed here by ``app.py``): search it at once, over every day (a
        claim is about a parcel packed days ago, not today's)."""
        self.period_check.blockSignals(True)
        self.period_check.setChecked(False)
        self.period_check.blockSignals(False)
        self._period_toggled_quiet(False)
        self.search_for(code, SearchField.ANY)

    def search_for(self, text: str, fld: SearchField = SearchField.ANY) -> None:
        self.search_box.setText(text)
        self.field_combo.blockSignals(True)
        self.field_combo.setCurrentIndex(list(FIELD_TEXT).index(fld))
        self.field_combo.blockSignals(False)
        self.search()

    def search(self) -> None:
        self._search_gen += 1
        gen = self._search_gen
        self._query = self.query()
        self.model.loading = True
        self.result_label.setText(tr("검색 중… / searching…"))
        q = self._query
        self._read("search", lambda s: review.search(s, q), lambda res: self._searched(gen, res, append=False))

    def load_more(self) -> None:
        """The next page (the table scrolled to its end)."""
        if self._next_after is None:
            self.model.loading = False
            return
        gen = self._search_gen
        q = replace(self._query, after=self._next_after)
        self._read("search-more", lambda s: review.search(s, q), lambda res: self._searched(gen, res, append=True))

    def _searched(self, gen: int, result: review.SearchResult, *, append: bool) -> None:
        if gen != self._search_gen:
            return  # a newer search is on its way
        self._next_after = result.next_after
        if append:
            self.model.append_rows(result.rows, result.more)
        else:
            self.model.set_rows(result.rows, result.more)
        self.model.loading = False
        n = len(self.model.rows)
        more = tr(" — 아래로 스크롤하면 더 / scroll down for more") if result.more else ""
        capped = tr(" — 일치가 너무 많아 일부만 (더 입력하세요) / too many matches: type more") if result.capped else ""
        self.result_label.setText(both(f"{n:,}건", plural(n, "recording")) + f"{more}{capped}")
        if not append:
            if result.rows:
                self.select_recording(result.rows[0].id)  # the one already shown is not loaded again
                self.table.scrollToTop()
            else:
                self._clear_recording()
                self._say(tr("찾는 녹화가 없습니다 / No recording matches"))
                if self._query.text:  # a pack without video (recording off, refused) still has its history
                    self._load_history(self._query.text)
        self.searched.emit(n)

    # ------------------------------------------------------------ one recording

    def _row_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        row = self.model.data(self.model.index(current.row(), 0), Qt.ItemDataRole.UserRole) \
            if current.isValid() else None
        if row is not None and (self.current is None or row.id != self.current.id):
            self.load_recording(row.id)

    def select_recording(self, recording_id: int) -> None:
        """The recording chosen (a search's first row, the history, a test): loaded, or, when it is already on
        the screen (the first showing loaded it), said to be ready without loading it again."""
        row = self.model.row_of(recording_id)
        if row is not None:
            self.table.selectRow(row)
            if self.current is not None and self.current.id == recording_id and self._await_media is None:
                self.recording_loaded.emit(recording_id)
        else:
            self.load_recording(recording_id)

    def load_recording(self, recording_id: int) -> None:
        """The recording's details and scans from the database, its playable copy from the file; then the
        player, the scan list and the pack history."""
        self._load_gen += 1
        gen = self._load_gen
        scratch = self.scratch

        def fn() -> _Loaded:
            row, scans = dbworker.read(self.db, lambda s: review.recording_and_scans(s, recording_id))
            src = Path(row.path)
            if row.deleted:
                return _Loaded(row, scans, None, 30.0, [],
                               review.ReviewError("recording_file_missing", path=row.path))
            if not src.is_file():  # on a shared database the file may be on the PC that recorded it
                code = "recording_file_elsewhere" if row.station != self.station_name else "recording_file_missing"
                return _Loaded(row, scans, None, 30.0, [],
                               review.ReviewError(code, path=row.path, station=row.station))
            info = review.probe(src)
            playable = src
            if src.suffix.lower() == ".ts":
                try:
                    playable = review.playable_copy(src, scratch / f"rec-{row.id}-{gen}.mp4")
                except Exception as e:  # a damaged tail (crash): play the file itself, seeking is coarser
                    log.info("no playable copy of %s (%s); playing the original", src, e)
            return _Loaded(row, scans, playable, info.fps, info.frames_ms, None, row.duration_ms or info.duration_ms)

        self._in_thread("load", fn, lambda loaded: self._loaded(gen, loaded))

    def _loaded(self, gen: int, loaded: _Loaded) -> None:
        if gen != self._load_gen:
            return
        old = self.player.source().toLocalFile()
        self.current = loaded.row
        self.in_ms = self.out_ms = None
        self._update_range()
        self._show_details(loaded.row)
        self._fill_scans(loaded.scans, loaded.row.tracking_number)
        self._set_recording_controls(True, has_file=loaded.problem is None)
        self._load_history(loaded.row.tracking_number)
        if loaded.problem is not None:
            self.player_panel.load(None)
            self._show_problem(loaded.problem)
            self.recording_loaded.emit(loaded.row.id)
        else:
            self._say("")
            self._await_media = loaded.row.id
            self.player_panel.load(loaded.playable, loaded.fps, loaded.frame_times, loaded.length_ms)
        if old and Path(old).parent == self.scratch and old != str(loaded.playable):
            with contextlib.suppress(OSError):
                Path(old).unlink(missing_ok=True)

    def _media_status(self, status: QMediaPlayer.MediaStatus) -> None:
        if self._await_media is not None and status in (QMediaPlayer.MediaStatus.LoadedMedia,
                                                        QMediaPlayer.MediaStatus.InvalidMedia):
            rid, self._await_media = self._await_media, None
            self.player.pause()  # show the first frame
            self.recording_loaded.emit(rid)

    def _player_error(self, _error: QMediaPlayer.Error, text: str) -> None:
        log.info("player: %s", text)
        self._say(both("재생할 수 없습니다", f"Cannot play: {text}"))

    def _clear_recording(self) -> None:
        self._load_gen += 1  # a load still on its way is no longer wanted
        self.current = None
        self.player_panel.unload()
        self.scan_list.clear()
        self.history_tree.clear()
        self.info_label.setText("")
        self.keep_check.setChecked(False)
        self.note_edit.setPlainText("")
        self._set_recording_controls(False)

    def _show_details(self, r: RecordingRow) -> None:
        state = tr(OUTCOME_TEXT.get(r.pack_outcome, str(r.pack_outcome)))
        gone = tr(" · 파일 삭제됨 / file deleted") if r.deleted else ""
        self.info_label.setText(f"<b>{r.tracking_number}</b> · {kst_text(r.started_at)} · {r.station} · "
                                f"{r.packer_name} · {state} · {clock(r.duration_ms)} · "
                                f"{r.size_bytes / 1e6:.1f} MB{gone}")
        self.keep_check.setChecked(r.keep)
        self.note_edit.setPlainText(r.note)

    def _fill_scans(self, scans: list[ScanRow], tracking_number: str) -> None:
        self.scan_list.clear()
        for sc in scans:
            item = QListWidgetItem(f"{clock(sc.offset_ms)}  {kst_text(sc.scanned_at, '%H:%M:%S')}  "
                                   f"{scan_text(sc, tracking_number)}")
            item.setData(Qt.ItemDataRole.UserRole, sc.offset_ms)
            item.setData(Qt.ItemDataRole.UserRole + 1, sc)
            if not sc.accepted:
                item.setForeground(REFUSED_FG)
            if sc.offset_ms is None:
                item.setToolTip(tr("영상 밖의 스캔 / not within the video"))
            self.scan_list.addItem(item)

    def scan_rows(self) -> list[ScanRow]:
        return [self.scan_list.item(i).data(Qt.ItemDataRole.UserRole + 1) for i in range(self.scan_list.count())]

    def _scan_clicked(self, item: QListWidgetItem) -> None:
        offset = item.data(Qt.ItemDataRole.UserRole)
        if offset is not None:
            self.player_panel.seek(offset)

    # ------------------------------------------------------------ history

    def _load_history(self, tracking_number: str) -> None:
        gen = self._load_gen
        self._read("history", lambda s: review.pack_history(s, tracking_number),
                   lambda h: self._history_ready(gen, h))

    def _history_ready(self, gen: int, h: PackHistory) -> None:
        if gen != self._load_gen:
            return
        t = self.history_tree
        t.clear()
        for o in h.orders:
            top = QTreeWidgetItem(["", one(f"주문 / Order {o.order_no} — 수령인 / recipient {o.recipient_name}",
                                           f"Order {o.order_no} — recipient {o.recipient_name}"), ""])
            for product in o.products:
                QTreeWidgetItem(top, ["", product, ""])
            t.addTopLevelItem(top)
        for p in h.packs:
            ended = f" – {kst_text(p.ended_at, '%H:%M:%S')}" if p.ended_at else ""
            top = QTreeWidgetItem([kst_text(p.started_at) + ended,
                                   one(f"포장 / Pack {p.tracking_number}: {OUTCOME_TEXT.get(p.outcome, p.outcome)}",
                                       f"Pack {p.tracking_number}: {tr(OUTCOME_TEXT.get(p.outcome, str(p.outcome)))}"),
                                   f"{p.station} · {p.packer_name}"])
            for rec in p.recordings:
                self._recording_link(top, rec)
            for sc in p.scans:
                item = QTreeWidgetItem(top, [kst_text(sc.scanned_at), scan_text(sc, p.tracking_number),
                                             f"{sc.station} · {sc.packer_name}"])
                if not sc.accepted:
                    item.setForeground(1, REFUSED_FG)
            t.addTopLevelItem(top)
            top.setExpanded(True)
        for rec in h.loose_recordings:
            self._recording_link(t.invisibleRootItem(), rec)
        if h.loose_scans:
            top = QTreeWidgetItem(["", tr("포장 밖에서 거부된 스캔 / scans refused outside a pack"), ""])
            for sc in h.loose_scans:
                item = QTreeWidgetItem(top, [kst_text(sc.scanned_at), scan_text(sc),
                                             f"{sc.station} · {sc.packer_name}"])
                item.setForeground(1, REFUSED_FG)
            t.addTopLevelItem(top)
            top.setExpanded(True)
        self.history_loaded.emit(h)

    def _recording_link(self, parent: QTreeWidgetItem, rec: RecordingRow) -> None:
        gone = one(" (파일 삭제됨 / file deleted)", " (file deleted)") if rec.deleted else ""
        mark = "▶" if self.current is None or rec.id != self.current.id else "●"
        item = QTreeWidgetItem(parent, [kst_text(rec.started_at),
                                        one(f"{mark} 녹화 영상 / recording {clock(rec.duration_ms)}{gone}",
                                            f"{mark} recording {clock(rec.duration_ms)}{gone}"),
                                        f"{rec.station} · {rec.packer_name}"])
        item.setData(0, Qt.ItemDataRole.UserRole, rec.id)
        item.setToolTip(1, rec.path)

    def history_recording_items(self) -> list[QTreeWidgetItem]:
        out: list[QTreeWidgetItem] = []
        stack = [self.history_tree.topLevelItem(i) for i in range(self.history_tree.topLevelItemCount())]
        while stack:
            item = stack.pop(0)
            if item is None:  # (only past the count: never)
                continue
            if item.data(0, Qt.ItemDataRole.UserRole) is not None:
                out.append(item)
            stack.extend(item.child(i) for i in range(item.childCount()))
        return out

    def _history_activated(self, item: QTreeWidgetItem, _column: int = 0) -> None:
        rid = item.data(0, Qt.ItemDataRole.UserRole)
        if rid is not None and (self.current is None or rid != self.current.id):
            self.select_recording(int(rid))

    # ------------------------------------------------------------ claims

    def set_keep(self, keep: bool) -> None:
        if self.current is None:
            return
        rid = self.current.id
        self._write("keep", lambda s: review.set_keep(s, rid, keep), lambda _: self._kept(rid, keep))

    def _kept(self, rid: int, keep: bool) -> None:
        self.model.update_row(rid, keep=keep)
        if self.current is not None and self.current.id == rid:
            self.current = self.current._replace(keep=keep)
        self._say(tr("보관합니다 — 자동 삭제되지 않습니다 / Kept: retention will not delete it") if keep else
                  tr("보관 해제 — 보존 기간이 지나면 삭제됩니다 / No longer kept: retention applies"))
        self.saved.emit("keep")

    def save_note(self) -> None:
        if self.current is None:
            return
        rid, note = self.current.id, self.note_edit.toPlainText().strip()
        self._write("note", lambda s: review.set_note(s, rid, note), lambda _: self._noted(rid, note))

    def _noted(self, rid: int, note: str) -> None:
        self.model.update_row(rid, note=note)
        if self.current is not None and self.current.id == rid:
            self.current = self.current._replace(note=note)
        self._say(tr("메모 저장됨 / Note saved"))
        self.saved.emit("note")

    # ------------------------------------------------------------ clips

    def set_in_point(self, ms: int) -> None:
        self.in_ms = max(0, int(ms))
        self._update_range()

    def set_out_point(self, ms: int) -> None:
        self.out_ms = max(0, int(ms))
        self._update_range()

    def _update_range(self) -> None:
        if self.in_ms is None and self.out_ms is None:
            self.range_label.setText(
                tr("구간: 시작점·끝점을 재생 위치로 / range: set in and out at the player position"))
        else:
            end = clock(self.out_ms) if self.out_ms is not None else tr("끝 / end")
            self.range_label.setText(both("구간", f"Range: {clock(self.in_ms or 0)} – {end}"))

    def _export_clicked(self, mode: str) -> None:
        chosen = files.folder(self, "recording-export", tr("내보낼 폴더 / Export to folder"), self.last_export_dir)
        if chosen:
            self.export_to(chosen, mode)

    def export_to(self, folder: Path, mode: str = "whole") -> None:
        """``mode``: "whole" (.mp4, every frame), "range" (.mp4, in–out) or "original" (the .ts itself)."""
        r = self.current
        if r is None:
            return
        start = end = None
        if mode == "range":
            start, end = self.in_ms or 0, self.out_ms
            if end is not None and end <= start:
                self._show_problem(review.ReviewError("export_empty_range"))
                return
        self._say(tr("내보내는 중… / Exporting…"))
        src = Path(r.path)

        def fn() -> tuple[ExportResult, Evidence]:
            result = review.export_clip(src, folder, tracking_number=r.tracking_number, started_at=r.started_at,
                                        start_ms=start, end_ms=end, original=mode == "original")
            return result, with_frames(gather(self.db, r.id))  # the sheet's facts and frames, off the UI thread

        self._in_thread("export", fn, self._exported_with_evidence)

    def _exported_with_evidence(self, done: tuple[ExportResult, Evidence]) -> None:
        """A clip for a claim goes out with its evidence sheet (issue #12): same name + "_evidence.pdf",
        and the sheet names the clip, so each points to the other."""
        result, evidence = done
        self.last_evidence = write_evidence_sheet(evidence, evidence_path(result.path), result.path.name,
                                                  link=self.video_link.link_for(evidence.recording_id))
        self._exported(result)

    def _exported(self, result: ExportResult) -> None:
        self.last_export_dir = result.path.parent
        self.open_export_button.setEnabled(True)
        how = tr(EXPORT_METHOD_TEXT[result.method])
        early = ""
        if result.method is ExportMethod.REMUX and result.start_ms < result.requested_start_ms - 50:
            early = " — " + both(f"시작점 앞 키프레임 {clock(result.start_ms)}부터",
                                 f"from the keyframe at {clock(result.start_ms)} before the in point")
        sheet = "\n" + both("증거 자료", f"Evidence sheet: {self.last_evidence.name}") if self.last_evidence else ""
        self._say(both("내보냄", f"Exported: {result.path}")
                  + f"\n{clock(result.start_ms)} – {clock(result.end_ms)} · {how}{early}{sheet}")
        self.exported.emit(result)

    def export_claim_bundle(self) -> ClaimBundleDialog | None:
        """Everything for a claim on the selected recording's order, in one folder or zip (issue #21)."""
        if self.current is None:
            return None
        rid = self.current.id
        return open_claim_bundle(self, self.db, lambda s: claim_bundle.recording_subject(s, rid))

    def open_folder(self) -> None:
        """The folder holding the recording, in the PC's file manager."""
        if self.current is not None:
            self.open_url(QUrl.fromLocalFile(str(Path(self.current.path).parent)))

    def open_export_folder(self) -> None:
        if self.last_export_dir is not None:
            self.open_url(QUrl.fromLocalFile(str(self.last_export_dir)))

    # ------------------------------------------------------------ full screen

    @property
    def full_screen(self) -> bool:
        return self.isFullScreen()

    def toggle_full_screen(self) -> None:
        """The video and its scans fill the screen; Esc (or the button, or a double click) comes back. The
        window itself goes full screen: the video is never moved to another window (native video surfaces
        do not like being reparented)."""
        going = not self.isFullScreen()
        for w in self._not_in_full_screen:
            w.setVisible(not going)
        self.menuBar().setVisible(not going)
        if going:
            self._was_maximized = self.isMaximized()
            self.showFullScreen()
        elif getattr(self, "_was_maximized", False):
            self.showMaximized()
        else:
            self.showNormal()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Escape and self.isFullScreen():
            self.toggle_full_screen()
            return
        super().keyPressEvent(event)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.player_panel.video and event.type() == QEvent.Type.MouseButtonDblClick:
            self.toggle_full_screen()
            return True
        return super().eventFilter(watched, event)

    # ------------------------------------------------------------ closing

    def closeEvent(self, event: QCloseEvent) -> None:
        """Hidden, not destroyed (background work may still report back): the video stops and its copy goes."""
        if self.isFullScreen():
            self.toggle_full_screen()
        self.player_panel.unload()
        for p in self.scratch.glob("rec-*.mp4"):
            with contextlib.suppress(OSError):  # still open somewhere (Windows): the folder goes at exit
                p.unlink(missing_ok=True)
        self._await_media = None
        self.current = None
        super().closeEvent(event)

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        self.search_box.setFocus()
        if self._search_gen == 0:  # first shown: today's recordings, without a click
            self.search()
        if self.current is None and self.model.rows:
            index = self.table.currentIndex()
            if index.isValid():
                self.load_recording(self.model.rows[index.row()].id)


def _day_start(d: QDate) -> datetime:
    """Midnight of a calendar day in Korea, as an aware UTC time."""
    return datetime.combine(d.toPython(), time(0), tzinfo=KST).astimezone(UTC)
