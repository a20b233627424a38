"""The pack station screen: what a packer reads at arm's length, gloved, standing.

One big banner says what just happened (colour and image by level; a parcel that must not ship — cancelled,
cancel requested — has a look of its own and says to put it on the hold shelf; the same refusal again shows
"×2" and the banner flashes, so a second wrong scan never looks ignored), the heading says what to do next
or which parcel is open, and the table lists what goes in the box with its option (size, colour) big and
highlighted, scanned / expected in large digits, and the row just scanned marked. The completed box stays
on screen until the next waybill. Big buttons under the table do what the command barcodes do (each shows
its barcode); today's count and whether the sound is off sit beside them. A parcel opened from its packing
slip shows its key (no waybill yet); once its items are all in, a bar under the header asks for the courier
label until it is scanned, whatever the banner says meanwhile (a misread label's refusal).

Everything is sized from the window once (``station_metrics``, applied by the main window when it is
resized): the station runs full screen on monitors from 1280x800 to 1920x1080 and beyond. The view only
draws the station state it is given; every rule lives in ``core/station.py``.
"""

from __future__ import annotations

import enum
import functools
from dataclasses import dataclass, field

from PySide6.QtCore import QEvent, QObject, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QFont, QIcon, QPainter, QPaintEvent, QPalette, QPen, QPixmap
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
from packdesk.core.station import ActivePack, Command, Level, PackerRef, PackPlan, PlanLine, StationState
from packdesk.devices.hangul import hangul_to_keys
from packdesk.services.station import COMMAND_CODES, DayCounts
from packdesk.ui.barcode_sheet import code128_modules
from packdesk.ui.cells import item_at
from packdesk.ui.i18n import both, one, pair, tr, two_lines
from packdesk.ui.messages import HOLD_CODES, HOLD_TEXT, station_text
from packdesk.ui.resources import state_pixmap
from packdesk.ui.thumbnails import Thumbnails

BANNER_STYLE = {
    Level.INFO: ("#0d47a1", "#ffffff"),
    Level.SUCCESS: ("#1b5e20", "#ffffff"),
    Level.WARNING: ("#ff8f00", "#000000"),
    Level.ERROR: ("#b71c1c", "#ffffff"),
}
HOLD_STYLE = ("#212121", "#ffd600")  # a parcel-level stop: black and yellow, not the red of a wrong item
DONE_BG = QColor("#c8e6c9")
REFUSED_BG = QColor("#eeeeee")
JUST_SCANNED_BG = QColor("#ffee58")  # the row the last scan counted
ORDER_BG, ORDER_FG = QColor("#37474f"), QColor("#ffffff")  # one order of several in the box (합포장)
SET_BG, SET_FG = QColor("#ede7f6"), QColor("#4527a0")      # a set or pack: what goes in it follows, indented
GROUP_ROLE = Qt.ItemDataRole.UserRole + 1  # a header row's kind ("order", "set"); item rows have none
NAME_ROLE = Qt.ItemDataRole.UserRole + 2   # an item row's name as the item has it (its cell may be indented)
INDENT = "    "                            # a set's items, under its header
OPTION_FG, OPTION_BG = QColor("#0d47a1"), QColor("#bbdefb")
STATE_IMAGE_SIZE = 140  # beside the banner at 1080 px high: seen from across the table (scaled with the window)
COLUMNS = ("", "상품 / Item", "옵션 / Option", "바코드 / Barcode", "스캔 / Scanned", "요청사항 / Instructions")
NAME_COL, OPTION_COL, COUNT_COL = 1, 2, 4
INSTRUCTIONS_COL = 5      # engraving text and other per-item requests: big, beside the item; shown when any
INSTRUCTIONS_FG, INSTRUCTIONS_BG = QColor("#b71c1c"), QColor("#fff59d")
FLASH_MS = 400  # a refusal flashes the banner (inverted) this long
# the on-screen commands: what the printed command sheet's barcodes do, pressed (core/station.py Command)
COMMAND_BUTTONS = (
    (Command.COMPLETE, "완료 / Complete"),
    (Command.CANCEL, "취소 / Cancel"),
    (Command.LOGOUT, "작업 종료 / Sign out"),
)

# Sizes in pixels on a window 1080 px high; ``station_metrics`` scales them to the window.
BASE_PX = {
    "banner": 52, "banner_en": 28, "repeat": 72, "instruction": 34, "heading": 34, "progress": 40,
    "packer": 28, "counts": 26, "rows": 30, "option": 36, "count": 46, "instructions": 30, "header": 22,
    "row_height": 86, "icon": 78, "group_height": 56, "group": 26, "state_image": STATE_IMAGE_SIZE,
    "label_prompt": 40, "notice": 28,
    "interrupted": 26, "button": 26, "button_code": 18, "entry": 20, "status": 18,
    "rec": 22,
}
PREVIEW_SHARE = 0.22  # the camera picture's width, of the window's
PREVIEW_MIN_W = 200


@dataclass(frozen=True)
class Metrics:
    """The station's sizes for one window size: every font and box derives from the window's height (a
    1280x800 monitor gets 74 % of a 1920x1080 one's), the camera picture from its width."""

    unit: float
    preview_width: int

    def px(self, name: str) -> int:
        return max(8, round(BASE_PX[name] * self.unit))


def station_metrics(width: int, height: int, preview_max: int = 640) -> Metrics:
    unit = min(max(height / 1080, 0.55), 2.0)
    preview = min(max(round(width * PREVIEW_SHARE), PREVIEW_MIN_W), preview_max)
    return Metrics(unit, preview)


def barcode_pixmap(code: str, height: int, module: int = 2) -> QPixmap:
    """The command's Code 128 bars, as printed on the command sheet (``ui/barcode_sheet.py``)."""
    modules = code128_modules(code)
    pix = QPixmap(len(modules) * module, height)
    pix.fill(QColor("#ffffff"))
    p = QPainter(pix)
    for i, bit in enumerate(modules):
        if bit == "1":
            p.fillRect(i * module, 0, module, height, QColor("#000000"))
    p.end()
    return pix


def hold_pixmap(size: int) -> QPixmap:
    """The image of a parcel-level stop: a "no entry" sign in black and yellow (a parcel set aside), unlike
    the red cross of a refused scan (``ui/resources.py``)."""
    pix = QPixmap(size, size)
    pix.fill(Qt.GlobalColor.transparent)
    p = QPainter(pix)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    ring = max(4, size // 12)
    p.setPen(QPen(QColor("#000000"), ring))
    p.setBrush(QColor("#ffd600"))
    p.drawEllipse(ring, ring, size - 2 * ring, size - 2 * ring)
    bar_h = size // 5
    p.fillRect(size // 5, (size - bar_h) // 2, size * 3 // 5, bar_h, QColor("#000000"))
    p.end()
    return pix


def letter_pixmap(item_id: int, letter: str, size: int) -> QPixmap:
    """An item without a picture: a tile with its first letter, so rows differ at a glance (~1 ms to draw:
    ``_letter_tile`` keeps each one)."""
    pix = QPixmap(size, size)
    hue = (item_id * 47) % 360
    pix.fill(QColor.fromHsv(hue, 60, 230))
    p = QPainter(pix)
    f = QFont()
    f.setPixelSize(size // 2)
    f.setBold(True)
    p.setFont(f)
    p.setPen(QColor.fromHsv(hue, 200, 90))
    p.drawText(pix.rect(), Qt.AlignmentFlag.AlignCenter, letter)
    p.end()
    return pix


@dataclass
class ItemRow:
    """One item as a row: how many go in from its lines (``line_ids``) and how many of those are in."""

    item_id: int
    need: int
    line_ids: list[int] = field(default_factory=list)
    in_set: bool = False
    image_url: str = ""  # the marketplace picture of the product this row is (a plain line's), "" = none
    have: int = 0


@dataclass(frozen=True)
class GroupRow:
    """A header: one order of several on the waybill (``kind`` "order"), or a set / pack line ("set")."""

    kind: str
    line: PlanLine
    index: int = 0   # the order's place, 1-based (orders only)
    orders: int = 0  # how many orders the box holds (orders only)


def box_rows(pack: ActivePack) -> list[ItemRow | GroupRow]:
    """What goes in the box, as the packer assembles it. Grouped by order when the waybill holds several
    (합포장), and by set: a line sold as a set (several items, or several units of one: a gift set, a 4-pack)
    gets a header with its product's name, its items under it with their own counts; an item sold alone is a
    plain row (one row per item per order). A box of one order with no sets lists its items as ever.

    The core counts units per item (``ActivePack.counts``): the units scanned of an item fill its rows in
    this order (plain rows first, then the sets, order by order), and the row the last unit landed in is the
    one shown as just scanned."""
    plan = pack.plan
    lines = [ln for ln in plan.active_lines if ln.mapped]
    orders = list(dict.fromkeys(ln.order_no for ln in lines))
    rows: list[ItemRow | GroupRow] = []
    for index, order_no in enumerate(orders, 1):
        mine = [ln for ln in lines if ln.order_no == order_no]
        if len(orders) > 1:
            rows.append(GroupRow("order", mine[0], index, len(orders)))
        plain: dict[int, ItemRow] = {}
        for ln in mine:
            if not _is_set(ln):
                item_id = ln.components[0][0]
                row = plain.setdefault(item_id, ItemRow(item_id, 0, image_url=ln.image_url))
                row.need += ln.quantity
                row.line_ids.append(ln.line_id)
        rows += plain.values()
        for ln in mine:
            if _is_set(ln):
                rows.append(GroupRow("set", ln))
                rows += [ItemRow(item_id, per * ln.quantity, [ln.line_id], in_set=True)
                         for item_id, per in ln.components]
    left = dict(pack.counts)
    for r in rows:
        if isinstance(r, ItemRow):
            r.have = min(r.need, left.get(r.item_id, 0))
            left[r.item_id] = left.get(r.item_id, 0) - r.have
    return rows


def _is_set(ln: PlanLine) -> bool:
    return len(ln.components) > 1 or ln.components[0][1] > 1


def pictures_wanted(plan: PackPlan) -> list[tuple[str, str]]:
    """(own photo, marketplace URL) of every picture the box's rows can show: its items' and its lines'."""
    wanted = [(it.image_path, "") for it in plan.items.values() if it.image_path]
    for ln in plan.active_lines:
        if ln.image_url:
            wanted.append(("", ln.image_url))
            if ln.mapped and not _is_set(ln):
                wanted.append((plan.items[ln.components[0][0]].image_path, ln.image_url))
    return list(dict.fromkeys(wanted))


@functools.lru_cache(maxsize=512)
def _letter_tile(item_id: int, letter: str, size: int) -> QIcon:
    """An item's letter tile, drawn once per size (a scan redraws every row)."""
    return QIcon(letter_pixmap(item_id, letter, size))


class CommandButton(QPushButton):
    """A command pressed instead of scanned: its name big, its barcode's bars and value under it (the same
    barcode as on the printed command sheet). Never focused, so a scanner's Enter cannot press it."""

    def __init__(self, command: enum.StrEnum, code: str, title: str) -> None:
        super().__init__()
        self.setObjectName(f"command{command.value.title()}")
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setProperty("code", code)
        self.title = QLabel(title, objectName="commandTitle")
        self.bars = QLabel(objectName="commandBars")
        self.code = QLabel(code, objectName="commandCode")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        layout.setSpacing(2)
        for label in (self.title, self.bars, self.code):
            label.setAlignment(Qt.AlignmentFlag.AlignCenter)
            label.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)  # the press is the button's
            layout.addWidget(label)

    def set_title(self, title: str) -> None:
        self.title.setText(title)

    def text(self) -> str:
        """What the button says: its name and its barcode's value."""
        return f"{self.title.text()}\n{self.code.text()}"

    def apply_metrics(self, m: Metrics) -> None:
        bar_h = m.px("button_code")
        self.bars.setPixmap(barcode_pixmap(str(self.property("code")), bar_h, 1 if m.unit < 0.8 else 2))
        self.setMinimumHeight(m.px("button") + bar_h + m.px("button_code") + 24)


def restyle(widget: QWidget, sheet: str) -> None:
    """``widget``'s style sheet, set only when it changes: setting one re-polishes the widget and its children
    (~1 ms each, measured in bench/scan_latency.py's profile), which every scan's redraw would otherwise pay."""
    if widget.styleSheet() != sheet:
        widget.setStyleSheet(sheet)


def same_layout(a: object, b: object) -> bool:
    """Two drawings of the box table have the same rows: the same plan and sizes (the objects themselves), the
    same table height, the same rows."""
    if not (isinstance(a, tuple) and isinstance(b, tuple)):
        return False
    return a[0] is b[0] and a[1] is b[1] and a[2:] == b[2:]


class BannerBox(QFrame):
    """The banner's coloured box. Its colours are a palette, painted here: a style sheet per colour re-polished
    the box and its labels on every scan that changed the level (a refusal, its flash, a completion: 0.5 ms
    typical and 9 ms at the 90th percentile, against 0.13 and 0.22 ms for the palette on the same window)."""

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("bannerBox")
        self.colours = ("", "")

    def set_colours(self, bg: str, fg: str) -> None:
        if (bg, fg) == self.colours:
            return
        self.colours = (bg, fg)
        pal = self.palette()
        pal.setColor(QPalette.ColorRole.Window, QColor(bg))
        pal.setColor(QPalette.ColorRole.WindowText, QColor(fg))
        self.setPalette(pal)  # the labels inside inherit it: their text in ``fg``
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(self.palette().color(QPalette.ColorRole.Window))
        p.drawRoundedRect(self.rect(), 8, 8)


class StationView(QWidget):
    rendered = Signal()                 # after every redraw (tests and the latency benchmark wait on it)
    manual_entry = Signal(str)          # the typed entry box, for damaged labels
    packer_chosen = Signal(object)      # PackerRef picked by name
    command_pressed = Signal(str)       # an on-screen command button: the command's barcode, as if scanned

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("stationView")
        self.metrics = station_metrics(1920, 1080)
        self._state: StationState | None = None
        # the products' pictures, read off the UI thread when a pack opens (ui/thumbnails.py)
        self.thumbnails = Thumbnails(parent=self)
        self.thumbnails.ready.connect(self._pictures_in)
        self._picture_rows: list[int] = []  # header rows showing a set's picture (a label over the cell)
        # what the table shows now: the box's layout, and each row as drawn (entry, just scanned); None = redraw
        self._drawn_layout: object = None
        self._drawn_rows: list[tuple[ItemRow | GroupRow, bool] | None] = []
        self._prepared: tuple[int, str, int] | None = None  # (the plan, its waybill, the picture size) last asked
        self._shown_message: object = None  # the message last drawn: a new refusal flashes, a redraw does not
        self.flashes = 0  # refusals flashed so far (a test reads it: the flash itself is brief)
        self._flash = QTimer(self)
        self._flash.setSingleShot(True)
        self._flash.setInterval(FLASH_MS)
        self._flash.timeout.connect(self._end_flash)
        self._banner_colours = BANNER_STYLE[Level.INFO]
        self.banner = QLabel(objectName="banner")
        self.banner.setWordWrap(True)
        self.banner.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.banner_en = QLabel(objectName="bannerEn")
        self.banner_en.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.banner_en.setWordWrap(True)
        # a parcel-level stop: where the parcel goes (the hold shelf), in its own line
        self.instruction = QLabel(objectName="instruction")
        self.instruction.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.instruction.setWordWrap(True)
        self.instruction.hide()
        # the same refusal again: "×2", "×3" (core/station.py Message.repeat)
        self.repeat_badge = QLabel(objectName="repeatBadge")
        self.repeat_badge.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.repeat_badge.hide()
        # the state's image, left of the text: its shape tells ready / complete / warning / refused / hold at a
        # glance, without reading and without colour (ui/resources.py)
        self.state_image = QLabel(objectName="stateImage")
        self.state_image.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.state_image_size = STATE_IMAGE_SIZE
        banner_box = BannerBox()
        bl = QHBoxLayout(banner_box)
        bl.addWidget(self.state_image, 0, Qt.AlignmentFlag.AlignVCenter)
        texts = QVBoxLayout()
        texts.addWidget(self.banner)
        texts.addWidget(self.banner_en)
        texts.addWidget(self.instruction)
        bl.addLayout(texts, 1)
        bl.addWidget(self.repeat_badge, 0, Qt.AlignmentFlag.AlignVCenter)
        self._banner_box = banner_box
        self.show_state_image(Level.INFO)
        # the parcel the last run left unfinished (``show_interrupted``): orange, until the next pack starts
        self.interrupted = QLabel(objectName="interrupted")
        self.interrupted.setWordWrap(True)
        bg, fg = BANNER_STYLE[Level.WARNING]  # its size comes from the window (``apply_metrics``)
        self.interrupted.setStyleSheet(f"#interrupted {{ font-weight: bold; padding: 10px; border-radius: 8px; "
                                       f"background: {bg}; color: {fg}; }}")
        self.interrupted.hide()

        self.waybill_label = QLabel(objectName="waybill")  # the heading: which parcel, or what to scan next
        self.waybill_label.setWordWrap(True)
        self.packer_label = QLabel(objectName="packer")
        self.progress_label = QLabel(objectName="progress")
        header = QHBoxLayout()
        header.addWidget(self.waybill_label, 4)
        header.addWidget(self.progress_label, 1)
        header.addWidget(self.packer_label, 0, Qt.AlignmentFlag.AlignRight)

        self.table = QTableWidget(0, len(COLUMNS), objectName="items")
        self.table.setHorizontalHeaderLabels([tr(c) for c in COLUMNS])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.table.setWordWrap(False)
        self.table.viewport().installEventFilter(self)  # its height: the rows are fitted to it (``eventFilter``)
        hh = self.table.horizontalHeader()
        hh.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        hh.setSectionResizeMode(NAME_COL, QHeaderView.ResizeMode.Stretch)
        hh.setSectionResizeMode(INSTRUCTIONS_COL, QHeaderView.ResizeMode.Stretch)
        self.table.setColumnHidden(INSTRUCTIONS_COL, True)
        self.scanned_row: int | None = None  # the row just scanned (highlighted until the next scan)

        # a parcel's items are all in: the courier label is what it waits for (stays up through refusals)
        self.label_prompt = QLabel(objectName="labelPrompt")
        self.label_prompt.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.label_prompt.setWordWrap(True)
        self.label_prompt.hide()

        self.notice = QLabel(objectName="notice")  # cancelled lines: what to leave out
        self.notice.setWordWrap(True)
        self.notice.hide()

        # the commands, pressed instead of scanned (mouse or touch); never focused, so a scanner's Enter cannot
        # press one
        self.command_buttons: dict[Command, CommandButton] = {}
        codes = {c: code for code, c in COMMAND_CODES.items()}
        commands = QHBoxLayout()
        for command, title in COMMAND_BUTTONS:
            button = CommandButton(command, codes[command], tr(title))
            button.clicked.connect(lambda _=False, code=codes[command]: self.command_pressed.emit(code))
            self.command_buttons[command] = button
            commands.addWidget(button, 1)
        self.counts_label = QLabel(objectName="counts")  # today's packs here, and what is left
        self.counts_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.sound_label = QLabel(tr("소리 꺼짐 — 화면을 보세요 / Sound off — watch the screen"), objectName="soundOff")
        self.sound_label.setWordWrap(True)
        self.sound_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.sound_label.hide()
        side = QVBoxLayout()
        side.addWidget(self.counts_label)
        side.addWidget(self.sound_label)
        commands.addLayout(side, 1)

        self.entry = QLineEdit(objectName="manualEntry")
        self.entry.setPlaceholderText(tr("바코드 직접 입력 후 Enter / Type a barcode, then Enter"))
        self.entry.returnPressed.connect(self._submit_entry)
        self.entry_button = QPushButton(tr("입력 / Enter"), objectName="entryButton")
        self.entry_button.clicked.connect(self._submit_entry)
        self.packer_combo = QComboBox(objectName="packerCombo")
        self._packers: list[PackerRef] | None = None
        self.packer_combo.activated.connect(self._packer_activated)
        footer = QHBoxLayout()
        footer.addWidget(self.entry, 3)
        footer.addWidget(self.entry_button)
        footer.addSpacing(24)
        footer.addWidget(QLabel(tr("작업자 / Packer"), objectName="packerCaption"))
        footer.addWidget(self.packer_combo, 1)

        self._top = QHBoxLayout()
        self._top.addWidget(banner_box, 1)
        self._preview: QWidget | None = None
        self._mode_panel: QWidget | None = None  # another mode's screen (returns inspection): ``set_mode_panel``
        layout = QVBoxLayout(self)
        layout.addWidget(self.interrupted)
        layout.addLayout(self._top)
        layout.addLayout(header)
        layout.addWidget(self.label_prompt)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.notice)
        layout.addLayout(commands)
        layout.addLayout(footer)
        self.apply_metrics(self.metrics)

    # ------------------------------------------------------------------ sizes

    def apply_metrics(self, m: Metrics) -> None:
        """Every size of the screen from the window's (the main window calls this when it is resized)."""
        self.metrics = m
        px = m.px
        self.setStyleSheet(f"""
            #banner {{ font-size: {px("banner")}px; font-weight: bold; }}
            #bannerEn {{ font-size: {px("banner_en")}px; }}
            #instruction {{ font-size: {px("instruction")}px; font-weight: bold; }}
            #repeatBadge {{ font-size: {px("repeat")}px; font-weight: bold; padding: 0 {px("rows")}px; }}
            #waybill {{ font-size: {px("heading")}px; font-weight: bold; }}
            #progress {{ font-size: {px("progress")}px; font-weight: bold; }}
            #packer {{ font-size: {px("packer")}px; }}
            #counts {{ font-size: {px("counts")}px; font-weight: bold; }}
            #soundOff {{ font-size: {px("counts")}px; font-weight: bold; color: #e65100; }}
            #items {{ font-size: {px("rows")}px; }}
            #items QHeaderView::section {{ font-size: {px("header")}px; padding: 4px; }}
            #notice {{ font-size: {px("notice")}px; font-weight: bold; color: #b71c1c; }}
            #labelPrompt {{ font-size: {px("label_prompt")}px; font-weight: bold; color: #000000;
                            background: #ffd600; border: 4px solid #000000; border-radius: 8px; padding: 12px; }}
            #interrupted {{ font-size: {px("interrupted")}px; }}
            #packerCaption {{ font-size: {px("entry")}px; }}
            #manualEntry, QComboBox, #entryButton {{ font-size: {px("entry")}px; min-height: {px("entry") * 2}px; }}
            #commandTitle {{ font-size: {px("button")}px; font-weight: bold; }}
            #commandCode {{ font-size: {px("button_code")}px; }}
        """)
        self.state_image_size = px("state_image")
        self.state_image.setFixedSize(self.state_image_size, self.state_image_size)
        self.banner.setMinimumHeight(px("banner") * 2)
        self.table.setIconSize(QSize(px("icon"), px("icon")))
        self.table.verticalHeader().setDefaultSectionSize(px("row_height"))
        for button in self.command_buttons.values():
            button.apply_metrics(m)
        if self._preview is not None and hasattr(self._preview, "set_picture_width"):
            self._preview.set_picture_width(m.preview_width)
            self._preview.setStyleSheet(f"#recIndicator {{ font-size: {px('rec')}px; }}")
        if self._mode_panel is not None and hasattr(self._mode_panel, "apply_metrics"):
            self._mode_panel.apply_metrics(m)
        if self._state is not None:
            self._draw(self._state)

    def set_mode_panel(self, panel: QWidget) -> None:
        """Another mode's screen (returns inspection, ``ui/returns_panel.py``): shown by ``show_mode`` in the
        pack's place, beside the camera picture; the entry box and the packer's name stay."""
        self._mode_panel = panel
        self._top.insertWidget(0, panel, 1)
        panel.hide()

    def show_mode(self, on: bool) -> None:
        if self._mode_panel is None or self._mode_panel.isHidden() != on:
            return
        for w in (self._banner_box, self.waybill_label, self.progress_label, self.table, self.counts_label,
                  *self.command_buttons.values()):
            w.setVisible(not on)
        self._mode_panel.setVisible(on)

    def show_state_image(self, level: Level) -> None:
        self.state_image.setPixmap(state_pixmap(level, self.state_image_size))
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
        """The camera picture and REC indicator, beside the banner, sized with the window."""
        self._preview = preview
        self._top.addWidget(preview, 0, Qt.AlignmentFlag.AlignTop)
        self.apply_metrics(self.metrics)

    def show_counts(self, counts: DayCounts) -> None:
        """Today's packs at this station and the parcels left to pack (read on the DB thread)."""
        self.counts_label.setText(two_lines(f"오늘 포장 {counts.packed_today} · 남은 포장 {counts.left}",
                                            f"Packed today {counts.packed_today} · Left to pack {counts.left}"))

    def show_sound(self, off_reason: str) -> None:
        """Say on screen when the station cannot be heard: a packer relying on the beeps must know."""
        self.sound_label.setVisible(bool(off_reason))
        # the reason is the sound system's own words (English, for whoever fixes the PC), named as such
        why = two_lines(f"소리가 나지 않는 이유: {off_reason}", f"Why there is no sound: {off_reason}")
        self.sound_label.setToolTip(why if off_reason else "")

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
        self._state = state
        self._draw(state)
        if state.pack is not None:  # a pack began: the interrupted parcel's notice has done its work
            self.interrupted.hide()
        self.rendered.emit()

    def _draw(self, state: StationState) -> None:
        message = state.message
        hold = message.code in HOLD_CODES
        ko, en = pair(*station_text(message))
        self.banner.setText(ko)
        self.banner_en.setText(en)
        self.banner_en.setVisible(bool(en))
        self.instruction.setText(both(*HOLD_TEXT) if hold else "")
        self.instruction.setVisible(hold)
        self.repeat_badge.setText(f"×{message.repeat}")
        self.repeat_badge.setVisible(message.repeat > 1)
        self._banner_colours = HOLD_STYLE if hold else BANNER_STYLE[message.level]
        self._banner_box.setProperty("level", message.level.value)
        self._banner_box.setProperty("look", "hold" if hold else message.level.value)
        if hold:
            self.state_image.setPixmap(hold_pixmap(self.state_image_size))
            self.state_image.setProperty("level", "hold")
        else:
            self.show_state_image(message.level)
        if message is not self._shown_message and message.level is Level.ERROR:
            self._shown_message = message
            self.flashes += 1
            self._paint_banner(flash=True)
            self._flash.start()
        elif message is not self._shown_message:  # news after a refusal: shown at once, the flash cut short
            self._shown_message = message
            self._flash.stop()
            self._paint_banner()
        elif not self._flash.isActive():  # a redraw of the same message (a resize, a reload)
            self._paint_banner()
        self.packer_label.setText(one(f"작업자 {state.packer.name}", f"Packer {state.packer.name}") if state.packer
                                  else tr("작업자 없음 / no packer"))
        self._select_packer(state.packer)
        self._draw_commands(state)
        self._render_pack(state)

    def _paint_banner(self, flash: bool = False) -> None:
        """The banner's colours; a flash swaps them (a refusal, even the same one again, is seen to happen)."""
        bg, fg = self._banner_colours
        if flash:
            bg, fg = fg, bg
        self._banner_box.set_colours(bg, fg)
        self._banner_box.setProperty("flashing", flash)

    def _end_flash(self) -> None:
        self._paint_banner()

    def paint_banner(self, level: Level) -> None:
        """A coded error or notice from outside the station machine (``MainWindow._show_coded``)."""
        self._flash.stop()
        self._banner_colours = BANNER_STYLE[level]
        self._banner_box.setProperty("level", level.value)
        self._banner_box.setProperty("look", level.value)
        self.instruction.hide()
        self.repeat_badge.hide()
        self._paint_banner()
        self.show_state_image(level)

    def _draw_commands(self, state: StationState) -> None:
        """Which commands make sense now; CANCEL armed (asked again) turns its button red and says so."""
        pack = state.pack
        self.command_buttons[Command.COMPLETE].setEnabled(pack is not None)
        self.command_buttons[Command.CANCEL].setEnabled(pack is not None)
        self.command_buttons[Command.LOGOUT].setEnabled(pack is None and state.packer is not None)
        cancel = self.command_buttons[Command.CANCEL]
        title = (tr("취소 한 번 더 / Cancel again") if state.cancel_armed
                 else tr("취소 / Cancel"))
        cancel.set_title(title)
        cancel.setProperty("armed", state.cancel_armed)
        restyle(cancel, "QPushButton { background: #b71c1c; } QLabel { color: #ffffff; }" if state.cancel_armed else "")

    def _render_pack(self, state: StationState) -> None:
        pack, packer = state.pack, state.packer
        shown = pack or state.done  # the completed box stays until the next waybill
        if pack is None:
            # idle: the heading says what to scan next; with nobody signed in a waybill would only be refused
            if packer is None:
                self.waybill_label.setText(tr("▶ 작업자 바코드를 스캔하세요 / Scan a packer badge"))
            elif state.done is not None:
                t = state.done.plan.tracking_number
                self.waybill_label.setText(one(f"포장 완료: {t} — ▶ 다음 송장을 스캔하세요",
                                               f"Packed: {t} — ▶ scan the next waybill"))
            else:
                self.waybill_label.setText(tr("▶ 송장을 스캔하세요 / Scan a waybill"))
            self.label_prompt.hide()
            if shown is None:
                self.progress_label.setText("")
                self.table.setRowCount(0)
                self._drawn_layout = None
                self.table.setColumnHidden(INSTRUCTIONS_COL, True)
                self.notice.hide()
                self.scanned_row = None
                return
        else:
            plan = pack.plan
            if plan.awaits_label:  # opened from its packing slip: the parcel key until the label binds
                self.waybill_label.setText(one(f"택배 {plan.parcel_key} · {plan.recipient_name} (송장 라벨 전)",
                                               f"Parcel {plan.parcel_key} · {plan.recipient_name} (no label yet)"))
            else:
                self.waybill_label.setText(one(f"송장 {plan.tracking_number} · {plan.recipient_name}",
                                               f"Waybill {plan.tracking_number} · {plan.recipient_name}"))
            orders = len({ln.order_no for ln in plan.active_lines})
            if orders > 1:  # 합포장: several orders go in this one box (each is a group in the table)
                self.waybill_label.setText(self.waybill_label.text() + " · "
                                           + both(f"주문 {orders}건 — 합포장", f"{orders} orders — one box"))
            if plan.awaits_label and pack.all_scanned:
                self.label_prompt.setText(two_lines("▶ 택배 송장(라벨)을 붙이고 스캔하세요",
                                                    "▶ Stick on the courier label and scan it"))
                self.label_prompt.show()
            else:
                self.label_prompt.hide()
        assert shown is not None
        self._render_table(shown, state.message.params.get("item_id") if pack is not None else None)

    def _render_table(self, pack: ActivePack, scanned_item: object) -> None:
        """The box's rows. A scan in the same box changes a row or two (its count, the just-scanned highlight):
        only those are drawn again. A new box, a new size or new pictures draw every row."""
        plan = pack.plan
        px = self.metrics.px
        expected = plan.expected()
        total = sum(expected.values())
        done = sum(min(pack.counts.get(i, 0), n) for i, n in expected.items())
        self.progress_label.setText(f"{done} / {total}")
        icon = px("icon")
        if self._prepared != (id(plan), plan.tracking_number, icon):  # a new box (or size): its pictures are
            self._prepared = (id(plan), plan.tracking_number, icon)        # read now, off this thread
            self.thumbnails.prepare(pictures_wanted(plan), icon)
        rows = box_rows(pack)
        # the row the last scan's units landed in: the last of the item's rows that has any
        just_row = max((n for n, r in enumerate(rows) if isinstance(r, ItemRow) and r.item_id == scanned_item
                        and r.have), default=None)
        # the plan and the sizes by identity (held here, so never another's id), the rows by what they are
        layout = (plan, self.metrics, self.table.viewport().height(),
                  [r if isinstance(r, GroupRow) else (r.item_id, r.need, tuple(r.line_ids), r.in_set) for r in rows])
        drawn: list[tuple[ItemRow | GroupRow, bool] | None] = [(r, n == just_row) for n, r in enumerate(rows)]
        asked = {item_id: plan.instructions_for(item_id) for item_id in expected}
        shown = any(asked.values())  # the column (and its cells) only for a box with something asked
        if not same_layout(layout, self._drawn_layout):
            self._drawn_layout, self._drawn_rows = layout, [None] * len(rows)
            self._fit_rows(rows)  # first: a set's picture is sized to its header's height
            for r in self._picture_rows:  # the set pictures of the last drawing (labels over their cells)
                self.table.removeCellWidget(r, 0)
            self._picture_rows = []
            self.table.clearSpans()
            self.table.setRowCount(len(rows))
            self.table.setColumnHidden(INSTRUCTIONS_COL, not shown)
            for row, entry in enumerate(rows):
                if isinstance(entry, GroupRow):
                    self._render_group(row, entry, icon)
        for row, entry in enumerate(rows):
            if isinstance(entry, ItemRow) and drawn[row] != self._drawn_rows[row]:
                self._render_item(row, entry, plan, row == just_row, asked if shown else None, icon)
        self._drawn_rows = drawn
        self.scanned_row = just_row
        if self.scanned_row is not None:
            self.table.scrollToItem(item_at(self.table, self.scanned_row, NAME_COL))
        left_out = [ln for ln in plan.lines if ln.status is LineStatus.CANCELLED]
        if left_out:
            names = ", ".join(f"{ln.product_name} {ln.option_name}".strip() for ln in left_out)
            self.notice.setText(both("취소 — 넣지 마세요", f"Cancelled — leave out: {names}"))
            self.notice.show()
        else:
            self.notice.hide()

    def _render_item(self, row: int, entry: ItemRow, plan: PackPlan, just: bool,
                     asked: dict[int, tuple[str, ...]] | None, icon: int) -> None:
        px = self.metrics.px
        it = plan.items[entry.item_id]
        have, need = entry.have, entry.need
        name = QTableWidgetItem(f"{INDENT}{it.name}" if entry.in_set else it.name)
        name.setData(NAME_ROLE, it.name)
        cells = [QTableWidgetItem(), name, QTableWidgetItem(it.option_name),
                 QTableWidgetItem(", ".join(it.barcodes)), QTableWidgetItem(f"{have} / {need}")]
        picture = self.thumbnails.get(it.image_path, "" if entry.in_set else entry.image_url, icon)
        cells[0].setIcon(picture if picture is not None else _letter_tile(it.item_id, it.name[:1], icon))
        cells[0].setData(Qt.ItemDataRole.AccessibleDescriptionRole, "picture" if picture is not None
                         else "letter")
        cells[COUNT_COL].setTextAlignment(Qt.AlignmentFlag.AlignCenter)
        self._font(cells[COUNT_COL], px("count"))
        # the option (size, colour) is what tells two shirts apart: big, bold, on its own colour
        self._font(cells[OPTION_COL], px("option"))
        cells[OPTION_COL].setForeground(OPTION_FG)
        cells[OPTION_COL].setTextAlignment(Qt.AlignmentFlag.AlignCenter)
        if just:
            self._font(cells[NAME_COL], px("rows"))
        for col, cell in enumerate(cells):
            if just:
                cell.setBackground(JUST_SCANNED_BG)
            elif have >= need:
                cell.setBackground(DONE_BG)
            elif col == OPTION_COL and it.option_name:
                cell.setBackground(OPTION_BG)
            self.table.setItem(row, col, cell)
        if asked is not None:
            self._render_instructions(row, asked[entry.item_id])

    def _render_group(self, row: int, group: GroupRow, icon: int) -> None:
        """A header across the table: one order of several (합포장), or a set / pack and its quantity."""
        ln = group.line
        if group.kind == "order":
            text = both(f"주문 {group.index}/{group.orders} · {ln.order_no} — 합포장",
                        f"Order {group.index} of {group.orders} · {ln.order_no} — one box")
            bg, fg = ORDER_BG, ORDER_FG
        else:
            product = f"{ln.product_name} {ln.option_name}".strip()
            if len(ln.components) > 1:
                kind = both(f"세트 ×{ln.quantity}", f"set ×{ln.quantity}")
            else:
                per = ln.components[0][1]
                kind = both(f"{per}개 묶음 ×{ln.quantity}", f"pack of {per} ×{ln.quantity}")
            text = f"{product} — {kind}"
            bg, fg = SET_BG, SET_FG
        cell = QTableWidgetItem(text)
        cell.setData(GROUP_ROLE, group.kind)
        cell.setBackground(bg)
        cell.setForeground(fg)
        f = cell.font()
        f.setPixelSize(self.metrics.px("group"))
        f.setBold(True)
        cell.setFont(f)
        first = 0
        if group.kind == "set":
            # the set's own picture (the gift box as sold) in the picture column, its name across the rest. The
            # picture is a label over the cell: as the cell's icon, in a row lower than the rows' pictures, it
            # made every later cell change of the table cost 0.2 ms (measured: a 6-row box redrew in 8 ms, not 2)
            first = 1
            tile = QTableWidgetItem()
            tile.setData(GROUP_ROLE, group.kind)
            tile.setBackground(bg)
            self.table.setItem(row, 0, tile)
            # as high as the header, as wide as the rows' pictures (the column is sized to them)
            side = min(self.table.rowHeight(row) - 6, self.table.iconSize().width())
            picture = self.thumbnails.get_small("", ln.image_url, icon, side)
            if picture is not None:
                label = QLabel(objectName="setPicture")
                label.setAlignment(Qt.AlignmentFlag.AlignCenter)
                label.setPixmap(picture.pixmap(side))
                self.table.setCellWidget(row, 0, label)
                self._picture_rows.append(row)
        self.table.setItem(row, first, cell)
        for col in range(first + 1, len(COLUMNS)):
            self.table.setItem(row, col, QTableWidgetItem())
        self.table.setSpan(row, first, 1, len(COLUMNS) - first)

    def _fit_rows(self, rows: list[ItemRow | GroupRow]) -> None:
        """Row heights from the window; a box with more rows than fit (a gift set, 합포장) gets rows up to a
        third lower, so the packer sees the whole box without scrolling where that is enough. Pictures are
        drawn smaller with the rows (Qt scales an icon down, never up: no new read)."""
        px = self.metrics.px
        self.table.setRowCount(len(rows))
        heights = [px("group_height") if isinstance(r, GroupRow) else px("row_height") for r in rows]
        room = self.table.viewport().height()
        scale = 1.0
        if sum(heights) > room > 0:
            scale = max(0.65, room / sum(heights))
        for row, h in enumerate(heights):
            self.table.setRowHeight(row, max(24, int(h * scale)))
        icon = min(px("icon"), int(px("row_height") * scale) - 8)
        self.table.setIconSize(QSize(icon, icon))

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """The table got another height with no new drawing (the window maximised or resized, where the window
        system lays it out after the window's own resize drew; a notice shown above it): the box's rows are
        fitted to the new height now, not at the next scan."""
        if event.type() == QEvent.Type.Resize and watched is self.table.viewport():
            state = self._state
            shown = (state.pack or state.done) if state is not None else None
            if shown is not None and self.table.rowCount():
                self._render_table(shown, state.message.params.get("item_id") if state and state.pack else None)
        return False

    def _pictures_in(self) -> None:
        """Pictures came in from the worker: the rows are drawn again with them (no new message, no flash)."""
        state = self._state
        shown = (state.pack or state.done) if state is not None else None
        if shown is not None:
            self._drawn_layout = None  # every row again, with its picture
            self._render_table(shown, state.message.params.get("item_id") if state and state.pack else None)

    @staticmethod
    def _font(cell: QTableWidgetItem, pixels: int) -> None:
        f = cell.font()
        f.setPixelSize(pixels)
        f.setBold(True)
        cell.setFont(f)

    def _render_instructions(self, row: int, texts: tuple[str, ...]) -> None:
        """What the buyer asked of this item (e.g. "각인 문구: 사랑해"), in big red on yellow: read before packing."""
        cell = QTableWidgetItem("\n".join(texts))
        if texts:
            self._font(cell, self.metrics.px("instructions"))
            cell.setForeground(INSTRUCTIONS_FG)
            cell.setBackground(INSTRUCTIONS_BG)
        self.table.setItem(row, INSTRUCTIONS_COL, cell)
        if len(texts) > 1:
            self.table.resizeRowToContents(row)

    def instruction_texts(self) -> list[tuple[str, str]]:
        """(item name, its instructions) per row that has some, as the packer reads them."""
        rows = [(item_at(self.table, r, NAME_COL).data(NAME_ROLE), item_at(self.table, r, INSTRUCTIONS_COL).text())
                for r in self._item_rows()]
        return [r for r in rows if r[1]] if not self.table.isColumnHidden(INSTRUCTIONS_COL) else []

    def _item_rows(self) -> list[int]:
        return [r for r in range(self.table.rowCount()) if item_at(self.table, r, 0).data(GROUP_ROLE) is None]

    def row_texts(self) -> list[tuple[str, str]]:
        """(item name, "scanned / expected") per item row: what a packer reads off the table."""
        return [(item_at(self.table, r, NAME_COL).data(NAME_ROLE), item_at(self.table, r, COUNT_COL).text())
                for r in self._item_rows()]

    def option_texts(self) -> list[str]:
        """Each item row's option, as shown."""
        return [item_at(self.table, r, OPTION_COL).text() for r in self._item_rows()]

    def layout_texts(self) -> list[str]:
        """The table as the packer reads it, top to bottom: a header's text, or an item row's "name count"
        (a set's items indented)."""
        out = []
        for r in range(self.table.rowCount()):
            first = item_at(self.table, r, 0)
            if first.data(GROUP_ROLE) is not None:  # a set's header: its picture first, its name beside it
                out.append(first.text() or item_at(self.table, r, 1).text())
            else:
                out.append(f"{item_at(self.table, r, NAME_COL).text()} {item_at(self.table, r, COUNT_COL).text()}")
        return out

    def picture_kinds(self) -> list[str]:
        """Per item row: "picture" (a product picture is shown) or "letter" (the placeholder)."""
        return [item_at(self.table, r, 0).data(Qt.ItemDataRole.AccessibleDescriptionRole) for r in self._item_rows()]
