"""Returns in the review: a returned parcel's video beside its outbound pack's, each with its scans.

A claim on a returned item ("you sent it broken", "this is not what I bought") is answered with both films: the
box packed here (every item scanned in) and the same order opened when it came back (every item scanned out,
with its condition). The list shows the newest inspections, or those of a return label, waybill or order typed or
scanned in the search box; picking one loads both players; clicking a scan jumps its own video there. *Export
claim bundle* puts both films, the outbound pack's scans and the return's in one bundle for the picked inspection
(``services/claim_bundle.return_subject``, through the orders' and review's own dialog). Reads and file work run
off the UI thread (``ui/ops.py``); the players are the review's own (``PlayerPanel``).
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import Qt, QUrl, Signal
from PySide6.QtMultimedia import QMediaPlayer
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from packdesk.core import words
from packdesk.core.db import Database
from packdesk.core.errors import KnownError
from packdesk.core.kst import kst_text
from packdesk.services import claim_bundle, review
from packdesk.services.returns import InspectionRow, ReturnScanRow, SideBySide, list_inspections, side_by_side
from packdesk.ui import ops
from packdesk.ui.claim_bundle_view import BUTTON_TEXT as CLAIM_BUNDLE_TEXT
from packdesk.ui.claim_bundle_view import ClaimBundleDialog, open_claim_bundle
from packdesk.ui.i18n import both, one, tr
from packdesk.ui.messages import error_text
from packdesk.ui.review_view import REFUSED_FG, PlayerPanel, clock, scan_text

log = logging.getLogger("packdesk.ui.returns")

LIST_COLUMNS = ("시각 / Time", "반품 송장 / Return label", "원 송장 / Original waybill", "주문 / Order",
                "작업자 / Packer", "결과 / Outcome")


@dataclass(frozen=True)
class _Side:
    """One player's video, ready to play (a playable copy of a .ts), or why not."""

    path: Path | None
    fps: float
    frame_times: list[int]
    length_ms: int | None
    problem: str = ""


def return_scan_text(sc: ReturnScanRow) -> str:
    what = sc.item_name or sc.code
    kind = both(*words.label(words.RETURN_KIND, sc.kind))
    if sc.kind == "condition":
        what = both(*words.label(words.CONDITION, sc.condition))
        return f"#{sc.line_no} {kind}: {what}"
    if sc.kind == "item":
        mark = "✓" if not sc.reason else "✗"
        extra = "" if not sc.reason else f" — {both(*words.station_words(sc.reason, {'name': what}))}"
        return f"{mark} #{sc.line_no} {what}{extra}"
    if not sc.accepted:
        return f"✗ {kind} {sc.code} — {both(*words.station_words(sc.reason, {'barcode': sc.code}))}"
    return f"✓ {kind} {sc.code}"


class ReturnReviewWindow(QDialog):
    """Return inspections, each played beside its outbound pack."""

    loaded = Signal(int)  # an inspection's two sides are shown (tests wait on it)

    def __init__(self, db: Database, *, station_name: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("returnReview")
        self.setWindowTitle(tr("반품 검수 영상 / Returns review"))
        self.db = db
        self.station_name = station_name
        self.scratch = Path(tempfile.mkdtemp(prefix="packdesk-returns-"))
        self.current: SideBySide | None = None
        self._gen = 0
        self.rows: list[InspectionRow] = []
        # the players still opening their file, and which (``loaded`` waits for them; the old file's own status
        # changes, as ``load`` stops it, are not the new one's)
        self._opening: dict[str, QUrl] = {}
        self.search_box = QLineEdit(objectName="returnSearch")
        self.search_box.setPlaceholderText(tr("반품 송장 · 원 송장 · 주문번호 / return label, waybill, order no."))
        self.search_box.returnPressed.connect(self.search)
        self.search_button = QPushButton(tr("검색 / Search"), objectName="returnSearchButton")
        self.search_button.clicked.connect(self.search)
        self.claim_bundle_button = QPushButton(tr(CLAIM_BUNDLE_TEXT), objectName="claimBundle")
        self.claim_bundle_button.setEnabled(False)  # until an inspection is shown
        self.claim_bundle_button.clicked.connect(self.export_claim_bundle)
        self.message = QLabel("", objectName="returnMessage")
        self.message.setWordWrap(True)
        self.table = QTableWidget(0, len(LIST_COLUMNS), objectName="returnList")
        self.table.setHorizontalHeaderLabels([tr(c) for c in LIST_COLUMNS])
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.itemSelectionChanged.connect(self._picked)
        self.players: dict[str, PlayerPanel] = {}
        self.scan_lists: dict[str, QListWidget] = {}
        self.titles: dict[str, QLabel] = {}
        sides = QGridLayout()
        for col, (side, title) in enumerate((("return", tr("반품 영상 / Return video")),
                                             ("outbound", tr("출고 영상 / Outbound video")))):
            self.titles[side] = QLabel(title, objectName=f"{side}Title")
            self.titles[side].setWordWrap(True)
            self.players[side] = PlayerPanel(self)
            self.players[side].player.mediaStatusChanged.connect(lambda st, side=side: self._media(side, st))
            self.scan_lists[side] = QListWidget(objectName=f"{side}Scans")
            self.scan_lists[side].itemClicked.connect(lambda item, p=self.players[side]: self._jump(p, item))
            sides.addWidget(self.titles[side], 0, col)
            sides.addWidget(self.players[side], 1, col)
            sides.addWidget(self.scan_lists[side], 2, col)
        sides.setRowStretch(1, 3)
        sides.setRowStretch(2, 2)
        bar = QHBoxLayout()
        bar.addWidget(self.search_box, 1)
        bar.addWidget(self.search_button)
        bar.addWidget(self.claim_bundle_button)
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.message)
        layout.addLayout(sides, 3)
        self.resize(1400, 900)
        self.search()

    @property
    def busy(self) -> bool:
        return ops.pending(self) > 0

    def _problem(self, error: BaseException) -> None:
        known = error if isinstance(error, KnownError) else KnownError("error", detail=repr(error))
        self.message.setText(both(*error_text(known)))

    # ------------------------------------------------------------------ the list

    def take_scan(self, code: str) -> None:
        self.search_box.setText(code)
        self.search()

    def search(self) -> None:
        text = self.search_box.text()
        ops.read(self, "returns-list", self.db, lambda s: list_inspections(s, text), self._listed, self._problem)

    def _listed(self, rows: list[InspectionRow]) -> None:
        self.table.clearSelection()  # a single result is picked again below, and loads
        self.rows = rows
        self.table.setRowCount(len(rows))
        for r, row in enumerate(rows):
            texts = (kst_text(row.started_at), row.return_code, row.tracking_number, row.order_nos, row.packer_name,
                     both(*words.label(words.OUTCOME, row.outcome.value)))
            for c, text in enumerate(texts):
                self.table.setItem(r, c, QTableWidgetItem(text))
        self.message.setText("" if rows else tr("반품 검수가 없습니다 / No return inspections"))
        if len(rows) == 1:
            self.table.selectRow(0)

    def _picked(self) -> None:
        selected = self.table.selectionModel().selectedRows()
        if selected:
            self.show_inspection(self.rows[selected[0].row()].id)

    # ------------------------------------------------------------------ the two sides

    def show_inspection(self, inspection_id: int) -> None:
        self._gen += 1
        gen = self._gen
        ops.read(self, "returns-side-by-side", self.db, lambda s: side_by_side(s, inspection_id),
                 lambda sbs: self._read(gen, sbs), self._problem)

    def _read(self, gen: int, sbs: SideBySide) -> None:
        if gen != self._gen:
            return
        self.current = sbs
        self.claim_bundle_button.setEnabled(True)
        insp = sbs.inspection
        self.titles["return"].setText(both(f"반품 영상 — {insp.return_code} · {kst_text(insp.started_at)}",
                                           f"Return video — {insp.return_code} · {kst_text(insp.started_at)}"))
        out = sbs.outbound_video
        self.titles["outbound"].setText(
            both(f"출고 영상 — {out.tracking_number} · {kst_text(out.started_at)}",
                 f"Outbound video — {out.tracking_number} · {kst_text(out.started_at)}") if out is not None
            else tr("출고 영상 없음 / No outbound video"))
        self._fill("return", [(return_scan_text(sc), sc.offset_ms, sc.accepted) for sc in sbs.return_scans])
        self._fill("outbound", [(scan_text(sc, out.tracking_number if out else ""), sc.offset_ms, sc.accepted)
                                for sc in sbs.outbound_scans])
        videos = (sbs.return_video, sbs.outbound_video)
        scratch = self.scratch
        ops.run(self, "returns-videos", lambda: [self._prepare(v, scratch, gen) for v in videos],
                lambda sides: self._play(gen, sides), self._problem)

    def _fill(self, side: str, scans: list[tuple[str, int | None, bool]]) -> None:
        lst = self.scan_lists[side]
        lst.clear()
        for text, offset, accepted in scans:
            item = QListWidgetItem(f"{clock(offset)}  {text}")
            item.setData(Qt.ItemDataRole.UserRole, offset)
            if not accepted:
                item.setForeground(REFUSED_FG)
            lst.addItem(item)

    def export_claim_bundle(self) -> ClaimBundleDialog | None:
        """Everything for a claim on the shown return: its video and the outbound pack's, each with its scans."""
        if self.current is None:
            return None
        iid = self.current.inspection.id
        return open_claim_bundle(self, self.db, lambda s: claim_bundle.return_subject(s, iid))

    def _prepare(self, video: review.RecordingRow | None, scratch: Path, gen: int) -> _Side:
        """(a thread of its own) The file made playable, as the review does (``review.playable_copy``)."""
        if video is None:
            return _Side(None, 30.0, [], None)
        src = Path(video.path)
        if video.deleted or not src.is_file():
            return _Side(None, 30.0, [], None, video.path)
        info = review.probe(src)
        playable = src
        if src.suffix.lower() == ".ts":
            try:
                playable = review.playable_copy(src, scratch / f"ret-{video.id}-{gen}.mp4")
            except Exception as e:  # a damaged tail: play the file itself, seeking is coarser
                log.info("no playable copy of %s (%s); playing the original", src, e)
        return _Side(playable, info.fps, info.frames_ms, video.duration_ms or info.duration_ms)

    def _play(self, gen: int, sides: list[_Side]) -> None:
        if gen != self._gen or self.current is None:
            return
        missing = []
        self._opening = {side: QUrl.fromLocalFile(str(ready.path))
                         for side, ready in zip(("return", "outbound"), sides, strict=True) if ready.path}
        for side, ready in zip(("return", "outbound"), sides, strict=True):
            self.players[side].load(ready.path, ready.fps, ready.frame_times, ready.length_ms)
            if ready.problem:
                missing.append(ready.problem)
        self.message.setText(one(f"영상 파일이 없습니다: {', '.join(missing)}",
                                 f"Video file missing: {', '.join(missing)}") if missing else "")
        if not self._opening:
            self.loaded.emit(self.current.inspection.id)

    def _media(self, side: str, status: QMediaPlayer.MediaStatus) -> None:
        """A player opened its file (or could not): its first frame shown; both open, the two sides are loaded."""
        player = self.players[side].player
        if self._opening.get(side) != player.source() or status not in (QMediaPlayer.MediaStatus.LoadedMedia,
                                                                        QMediaPlayer.MediaStatus.InvalidMedia):
            return
        del self._opening[side]
        self.players[side].player.pause()
        if not self._opening and self.current is not None:
            self.loaded.emit(self.current.inspection.id)

    def _jump(self, player: PlayerPanel, item: QListWidgetItem) -> None:
        offset = item.data(Qt.ItemDataRole.UserRole)
        if offset is not None:
            player.seek(int(offset))

    def done(self, result: int) -> None:
        for p in self.players.values():
            p.unload()
        with contextlib.suppress(OSError):
            shutil.rmtree(self.scratch, ignore_errors=True)
        super().done(result)
