"""The pack station screen: what a packer reads at arm's length, gloved, standing.

One big banner says what just happened (colour by level), the waybill header says which parcel, and the
table lists what goes in the box with scanned / expected in large digits. A parcel opened from its packing
slip shows its key (no waybill yet); once its items are all in, a bar under the header asks for the courier
label until it is scanned, whatever the banner says meanwhile (a misread label's refusal). The view only
draws the station state it is given; every rule lives in ``core/station.py``.
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QPainter, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from packdesk.core.enums import LineStatus, PackOutcome
from packdesk.core.station import ActivePack, Level, PackerRef, PlanItem, StationState
from packdesk.devices.hangul import hangul_to_keys
from packdesk.ui.cells import item_at
from packdesk.ui.i18n import both, one, pair, tr, two_lines
from packdesk.ui.messages import station_text
from packdesk.ui.resources import state_pixmap

BANNER_STYLE = {
    Level.INFO: ("#0d47a1", "#ffffff"),
    Level.SUCCESS: ("#1b5e20", "#ffffff"),
    Level.WARNING: ("#ff8f00", "#000000"),
    Level.ERROR: ("#b71c1c", "#ffffff"),
}
DONE_BG = QColor("#c8e6c9")
REFUSED_BG = QColor("#eeeeee")
STATE_IMAGE_SIZE = 120  # beside a 150 px banner: seen from across the table
COLUMNS = ("", "상품 / Item", "옵션 / Option", "바코드 / Barcode", "스캔 / Scanned", "요청사항 / Instructions")
INSTRUCTIONS_COL = 5      # engraving text and other per-item requests: big, beside the item; shown when any
INSTRUCTIONS_FG, INSTRUCTIONS_BG = QColor("#b71c1c"), QColor("#fff59d")


def placeholder_image(item: PlanItem, size: int = 56) -> QPixmap:
    """Until items have photos: a tile with the item's first letter, so rows differ at a glance."""
    pix = QPixmap(size, size)
    hue = (item.item_id * 47) % 360
    pix.fill(QColor.fromHsv(hue, 60, 230))
    p = QPainter(pix)
    f = QFont()
    f.setPixelSize(size // 2)
    f.setBold(True)
    p.setFont(f)
    p.setPen(QColor.fromHsv(hue, 200, 90))
    p.drawText(pix.rect(), Qt.AlignmentFlag.AlignCenter, item.name[:1])
    p.end()
    return pix


class StationView(QWidget):
    rendered = Signal()                 # after every redraw (tests and the latency benchmark wait on it)
    manual_entry = Signal(str)          # the typed entry box, for damaged labels
    packer_chosen = Signal(object)      # PackerRef picked by name

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("stationView")
        self.banner = QLabel(objectName="banner")
        self.banner.setWordWrap(True)
        self.banner.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.banner.setMinimumHeight(150)
        self.banner_en = QLabel(objectName="bannerEn")
        self.banner_en.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.banner_en.setWordWrap(True)
        # the state's image, left of the text: its shape tells ready / complete / warning / refused at a
        # glance, without reading and without colour (ui/resources.py)
        self.state_image = QLabel(objectName="stateImage")
        self.state_image.setFixedSize(STATE_IMAGE_SIZE, STATE_IMAGE_SIZE)
        self.state_image.setAlignment(Qt.AlignmentFlag.AlignCenter)
        banner_box = QFrame(objectName="bannerBox")
        bl = QHBoxLayout(banner_box)
        bl.addWidget(self.state_image, 0, Qt.AlignmentFlag.AlignVCenter)
        texts = QVBoxLayout()
        texts.addWidget(self.banner)
        texts.addWidget(self.banner_en)
        bl.addLayout(texts, 1)
        self._banner_box = banner_box
        self.show_state_image(Level.INFO)
        # the parcel the last run left unfinished (``show_interrupted``): orange, until the next pack starts
        self.interrupted = QLabel(objectName="interrupted")
        self.interrupted.setWordWrap(True)
        bg, fg = BANNER_STYLE[Level.WARNING]
        self.interrupted.setStyleSheet(f"#interrupted {{ font-size: 24px; font-weight: bold; padding: 10px; "
                                       f"border-radius: 8px; background: {bg}; color: {fg}; }}")
        self.interrupted.hide()

        self.waybill_label = QLabel(objectName="waybill")
        self.packer_label = QLabel(objectName="packer")
        self.progress_label = QLabel(objectName="progress")
        header = QHBoxLayout()
        header.addWidget(self.waybill_label, 3)
        header.addWidget(self.progress_label, 1)
        header.addWidget(self.packer_label, 1, Qt.AlignmentFlag.AlignRight)

        self.table = QTableWidget(0, len(COLUMNS), objectName="items")
        self.table.setHorizontalHeaderLabels([tr(c) for c in COLUMNS])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.table.setIconSize(QSize(56, 56))
        hh = self.table.horizontalHeader()
        hh.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        hh.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        hh.setSectionResizeMode(INSTRUCTIONS_COL, QHeaderView.ResizeMode.Stretch)
        self.table.setColumnHidden(INSTRUCTIONS_COL, True)
        self.table.verticalHeader().setDefaultSectionSize(68)

        # a parcel's items are all in: the courier label is what it waits for (stays up through refusals)
        self.label_prompt = QLabel(objectName="labelPrompt")
        self.label_prompt.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.label_prompt.setWordWrap(True)
        self.label_prompt.hide()

        self.notice = QLabel(objectName="notice")  # cancelled lines: what to leave out
        self.notice.setWordWrap(True)
        self.notice.hide()

        self.entry = QLineEdit(objectName="manualEntry")
        self.entry.setPlaceholderText(tr("바코드 직접 입력 후 Enter / Type a barcode, then Enter"))
        self.entry.returnPressed.connect(self._submit_entry)
        self.entry_button = QPushButton(tr("입력 / Enter"))
        self.entry_button.clicked.connect(self._submit_entry)
        self.packer_combo = QComboBox(objectName="packerCombo")
        self._packers: list[PackerRef] | None = None
        self.packer_combo.activated.connect(self._packer_activated)
        footer = QHBoxLayout()
        footer.addWidget(self.entry, 3)
        footer.addWidget(self.entry_button)
        footer.addSpacing(24)
        footer.addWidget(QLabel(tr("작업자 / Packer")))
        footer.addWidget(self.packer_combo, 1)

        self._top = QHBoxLayout()
        self._top.addWidget(banner_box, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.interrupted)
        layout.addLayout(self._top)
        layout.addLayout(header)
        layout.addWidget(self.label_prompt)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.notice)
        layout.addLayout(footer)
        self.setStyleSheet("""
            #banner { font-size: 40px; font-weight: bold; }
            #bannerEn { font-size: 22px; }
            #waybill { font-size: 26px; font-weight: bold; }
            #packer, #progress { font-size: 22px; }
            #items { font-size: 22px; }
            #notice { font-size: 22px; font-weight: bold; color: #b71c1c; }
            #labelPrompt { font-size: 34px; font-weight: bold; color: #000000; background: #ffd600;
                           border: 4px solid #000000; border-radius: 8px; padding: 12px; }
            #manualEntry, QComboBox, QPushButton { font-size: 18px; min-height: 40px; }
        """)

    def show_state_image(self, level: Level) -> None:
        self.state_image.setPixmap(state_pixmap(level, STATE_IMAGE_SIZE))
        self.state_image.setProperty("level", level.value)

    def show_interrupted(self, tracking: str, outcome: PackOutcome) -> None:
        """Which parcel the last run left unfinished: PackDesk closed mid-pack (asked first), or stopped
        (a crash, a power cut). Its pack was not stored as packed: it is to be packed again."""
        if outcome is PackOutcome.CLOSED:
            text = two_lines(f"중단된 포장: 송장 {tracking} — 포장 중에 PackDesk를 닫았습니다. 다시 스캔해 포장하세요",
                             f"Interrupted: waybill {tracking} — PackDesk was closed while packing it. Scan it "
                             "again to pack it")
        else:
            text = two_lines(f"중단된 포장: 송장 {tracking} — 포장 중에 PackDesk가 멈췄습니다. 다시 스캔해 포장하세요",
                             f"Interrupted: waybill {tracking} — PackDesk stopped while packing it. Scan it again "
                             "to pack it")
        self.interrupted.setText(text)
        self.interrupted.setProperty("tracking", tracking)
        self.interrupted.show()

    def set_preview(self, preview: QWidget) -> None:
        """The camera picture and REC indicator, beside the banner."""
        self._top.addWidget(preview, 0, Qt.AlignmentFlag.AlignTop)

    # ------------------------------------------------------------------ input

    def set_packers(self, packers: list[PackerRef], current: PackerRef | None) -> None:
        """The names to pick from; filled again only when they changed (the station re-reads them every minute,
        and a refill would close the list in a packer's hand)."""
        if packers == self._packers:
            self._select_packer(current)
            return
        self._packers = list(packers)
        self.packer_combo.clear()
        self.packer_combo.addItem(tr("— 선택 / choose —"), None)
        for p in packers:
            self.packer_combo.addItem(p.name, p)
        self._select_packer(current)

    def _select_packer(self, current: PackerRef | None) -> None:
        idx = self.packer_combo.findText(current.name) if current else 0
        self.packer_combo.setCurrentIndex(max(idx, 0))

    def _packer_activated(self, index: int) -> None:
        packer = self.packer_combo.itemData(index)
        if packer is not None:
            self.packer_chosen.emit(packer)

    def _submit_entry(self) -> None:
        # a barcode typed in Hangul mode is still a barcode: read it back to the keys (devices/hangul.py)
        text = hangul_to_keys(self.entry.text().strip())
        self.entry.clear()
        if text:
            self.manual_entry.emit(text)

    # ------------------------------------------------------------------ drawing

    def render(self, state: StationState) -> None:  # type: ignore[override]
        ko, en = pair(*station_text(state.message))
        self.banner.setText(ko)
        self.banner_en.setText(en)
        bg, fg = BANNER_STYLE[state.message.level]
        self._banner_box.setStyleSheet(f"#bannerBox {{ background: {bg}; border-radius: 8px; }}"
                                       f" QLabel {{ color: {fg}; }}")
        self._banner_box.setProperty("level", state.message.level.value)
        self.show_state_image(state.message.level)
        self.packer_label.setText(one(f"작업자 {state.packer.name}", f"Packer {state.packer.name}") if state.packer
                                  else tr("작업자 없음 / no packer"))
        self._select_packer(state.packer)
        self._render_pack(state.pack, state.packer)
        if state.pack is not None:  # a pack began: the interrupted parcel's notice has done its work
            self.interrupted.hide()
        self.rendered.emit()

    def _render_pack(self, pack: ActivePack | None, packer: PackerRef | None) -> None:
        if pack is None:
            # idle: with nobody signed in, a waybill would only be refused: the heading asks for a badge
            self.waybill_label.setText(tr("대기 중 — 송장을 스캔하세요 / Waiting for a waybill") if packer else
                                       tr("작업자 대기 중 — 작업자 바코드를 스캔하세요 / Waiting for a packer badge"))
            self.progress_label.setText("")
            self.table.setRowCount(0)
            self.table.setColumnHidden(INSTRUCTIONS_COL, True)
            self.notice.hide()
            self.label_prompt.hide()
            return
        plan = pack.plan
        if plan.awaits_label:  # opened from its packing slip: the parcel key until the label binds
            self.waybill_label.setText(one(f"택배 {plan.parcel_key} · {plan.recipient_name} (송장 라벨 전)",
                                           f"Parcel {plan.parcel_key} · {plan.recipient_name} (no label yet)"))
        else:
            self.waybill_label.setText(one(f"송장 {plan.tracking_number} · {plan.recipient_name}",
                                           f"Waybill {plan.tracking_number} · {plan.recipient_name}"))
        if plan.awaits_label and pack.all_scanned:
            self.label_prompt.setText(two_lines("▶ 택배 송장(라벨)을 붙이고 스캔하세요",
                                                "▶ Stick on the courier label and scan it"))
            self.label_prompt.show()
        else:
            self.label_prompt.hide()
        expected = plan.expected()
        total = sum(expected.values())
        done = sum(min(pack.counts.get(i, 0), n) for i, n in expected.items())
        self.progress_label.setText(f"{done} / {total}")
        self.table.setRowCount(len(expected))
        asked = {item_id: plan.instructions_for(item_id) for item_id in expected}
        shown = any(asked.values())  # the column (and its cells) only for a box with something asked
        self.table.setColumnHidden(INSTRUCTIONS_COL, not shown)
        for row, (item_id, need) in enumerate(expected.items()):
            it = plan.items[item_id]
            have = pack.counts.get(item_id, 0)
            cells = [QTableWidgetItem(), QTableWidgetItem(it.name), QTableWidgetItem(it.option_name),
                     QTableWidgetItem(", ".join(it.barcodes)), QTableWidgetItem(f"{have} / {need}")]
            cells[0].setIcon(placeholder_image(it))
            cells[4].setTextAlignment(Qt.AlignmentFlag.AlignCenter)
            f = cells[4].font()
            f.setPointSize(24)
            f.setBold(True)
            cells[4].setFont(f)
            for col, cell in enumerate(cells):
                if have >= need:
                    cell.setBackground(DONE_BG)
                self.table.setItem(row, col, cell)
            if shown:
                self._render_instructions(row, asked[item_id])
        left_out = [ln for ln in plan.lines if ln.status is LineStatus.CANCELLED]
        if left_out:
            names = ", ".join(f"{ln.product_name} {ln.option_name}".strip() for ln in left_out)
            self.notice.setText(both("취소 — 넣지 마세요", f"Cancelled — leave out: {names}"))
            self.notice.show()
        else:
            self.notice.hide()

    def _render_instructions(self, row: int, texts: tuple[str, ...]) -> None:
        """What the buyer asked of this item (e.g. "각인 문구: 사랑해"), in big red on yellow: read before packing."""
        cell = QTableWidgetItem("\n".join(texts))
        if texts:
            f = cell.font()
            f.setPointSize(24)
            f.setBold(True)
            cell.setFont(f)
            cell.setForeground(INSTRUCTIONS_FG)
            cell.setBackground(INSTRUCTIONS_BG)
        self.table.setItem(row, INSTRUCTIONS_COL, cell)
        if len(texts) > 1:
            self.table.resizeRowToContents(row)

    def instruction_texts(self) -> list[tuple[str, str]]:
        """(item name, its instructions) per row that has some, as the packer reads them."""
        rows = [(item_at(self.table, r, 1).text(), item_at(self.table, r, INSTRUCTIONS_COL).text())
                for r in range(self.table.rowCount())]
        return [r for r in rows if r[1]] if not self.table.isColumnHidden(INSTRUCTIONS_COL) else []

    def row_texts(self) -> list[tuple[str, str]]:
        """(item name, "scanned / expected") per row: what a packer reads off the table."""
        return [(item_at(self.table, r, 1).text(), item_at(self.table, r, 4).text())
                for r in range(self.table.rowCount())]
