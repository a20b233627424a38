"""A printable A4 sheet of Code 128 barcodes, so a new user can try the station with a real scanner.

The sheet carries the app's command barcodes, packer badges and demo item barcodes. It is drawn with
QPainter rather than by the ``python-barcode`` writers because the bars must land on whole device pixels
(a bar that is 2.6 pixels wide gets smeared by the printer driver or the PNG viewer and stops scanning)
and because the captions are Korean, which the library's Pillow writer cannot lay out.

Threading: Qt fonts and paint devices belong to the GUI thread, so :func:`render_sheet` must be called
on the Qt main thread while a ``QGuiApplication`` (or ``QApplication``) exists; it raises
``RuntimeError`` otherwise instead of crashing inside Qt.

The sheet is for the staff: its own texts (the default title, "continued", the error messages) follow the
screen language (``ui/i18n.py``), like the captions the caller gives it (``ui/sheets.py``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import barcode
from barcode.errors import BarcodeError
from PySide6.QtCore import QLine, QMarginsF, QRect, QRectF, Qt, QThread
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontDatabase,
    QFontMetricsF,
    QGuiApplication,
    QImage,
    QPageLayout,
    QPageSize,
    QPaintDevice,
    QPainter,
    QPdfWriter,
    QPen,
    QTextLayout,
)

from packdesk.ui.i18n import both, one, tr

__all__ = ["BADGE_STYLE", "BarsOp", "FrameOp", "Layout", "PageOp", "RuleOp", "SheetEntry", "SheetSection",
           "SheetStyle", "TextOp", "code128_modules", "mm_to_px", "module_px", "render_document",
           "render_sheet", "wrap_text"]

PNG_DPI = 200
PDF_DPI = 300

# ISO/IEC 15417 asks for at least 10 modules of white on each side; scanners give up without it.
QUIET_ZONE_MODULES = 10
# Below ~0.33 mm per module cheap office printers bleed the bars together and handheld scanners misread.
MIN_MODULE_MM = 0.33
BAR_HEIGHT_MM = 12.0

_A4_MM = (210.0, 297.0)
_MARGIN_MM = 12.0
_COLUMNS = 2
_GUTTER_MM = 6.0
_CELL_PAD_MM = 2.5
_ROW_GAP_MM = 3.0
_SECTION_GAP_MM = 5.0
_TEXT_GAP_MM = 1.0
# A caption longer than this is elided, so that every row stays far shorter than a page and can
# always be moved whole to the next page instead of being cut.
_LABEL_MAX_LINES = 3

_BAR_COLOR = QColor(0, 0, 0)
_TEXT_COLOR = QColor(0, 0, 0)
_CUT_LINE_COLOR = QColor(190, 190, 190)
_RULE_COLOR = QColor(120, 120, 120)


@dataclass(frozen=True)
class SheetStyle:
    """How tall the bars and how big the captions are: the starter sheet packs many codes on a page; a badge
    is read from further off and at an angle, and the packer's name on it is read across the room."""

    bar_height_mm: float = BAR_HEIGHT_MM
    label_points: float = 8.5
    label_bold: bool = False


# packer badges (ui/staff_view.py): bars two thirds taller, the name in big bold type; still two a row, to cut out
BADGE_STYLE = SheetStyle(bar_height_mm=20.0, label_points=16.0, label_bold=True)


@dataclass(frozen=True)
class SheetEntry:
    """One barcode on the sheet."""

    code: str  # what the scanner must read: printable ASCII
    label: str  # caption under the human-readable code, e.g. "포장 완료 / Complete pack"


@dataclass(frozen=True)
class SheetSection:
    """A titled group of entries (commands, badges, demo items) so people find what to scan."""

    title: str
    entries: Sequence[SheetEntry]


def _check_code(code: str) -> None:
    if not code:
        raise ValueError(tr("바코드 값이 비어 있습니다. / The barcode value is empty."))
    bad = sorted({ch for ch in code if not " " <= ch <= "~"})
    if bad:
        shown = ", ".join(repr(ch) for ch in bad)
        raise ValueError(
            both(f"바코드에는 인쇄 가능한 ASCII 문자만 쓸 수 있습니다: {shown}",
                 f"Barcodes may only contain printable ASCII characters: {shown}")
        )


def code128_modules(code: str) -> str:
    """Return the Code 128 module pattern of ``code`` ('1' = bar, '0' = space), quiet zones included.

    The symbol itself (start, data, checksum, stop) comes from ``python-barcode`` so that the encoding
    tables are the library's well-tested ones; only the quiet zones are added here, because the library
    leaves them to its writers and this module draws the bars itself.
    """
    _check_code(code)
    try:
        symbol = "".join(barcode.Code128(code).build())
    except BarcodeError as exc:  # pragma: no cover - _check_code already rejects what the library does
        raise ValueError(both("Code 128로 만들 수 없습니다", f"Cannot encode as Code 128: {code!r}")) from exc
    quiet = "0" * QUIET_ZONE_MODULES
    return f"{quiet}{symbol}{quiet}"


# --- layout ------------------------------------------------------------------------------------------
# A page is a list of these operations in device pixels; other printed documents (ui/packing_slip.py) lay
# out their own pages with them and are written by ``render_document``, so every bar PackDesk prints is
# drawn the same way.


@dataclass(frozen=True)
class TextOp:
    rect: QRectF
    text: str
    font: QFont
    flags: Qt.AlignmentFlag


@dataclass(frozen=True)
class BarsOp:
    x: int
    y: int
    module_px: int
    height: int
    modules: str


@dataclass(frozen=True)
class FrameOp:
    rect: QRect


@dataclass(frozen=True)
class RuleOp:
    x1: int
    x2: int
    y: int


PageOp = TextOp | BarsOp | FrameOp | RuleOp
# (paint device to measure text on, its dpi, page size in pixels) -> the pages' operations
Layout = Callable[[QPaintDevice, int, tuple[int, int]], list[list[PageOp]]]


@dataclass(frozen=True)
class _PreparedEntry:
    entry: SheetEntry
    modules: str
    label_lines: tuple[str, ...]
    wide: bool  # too wide for a column: gets a full-width row of its own


@dataclass(frozen=True)
class _Row:
    entries: tuple[_PreparedEntry, ...]
    height: int


def mm_to_px(mm: float, dpi: int) -> int:
    return round(mm * dpi / 25.4)


def module_px(dpi: int) -> int:
    """Whole device pixels per module, never thinner than MIN_MODULE_MM at print size."""
    return max(1, math.ceil(MIN_MODULE_MM * dpi / 25.4 - 1e-9))


def wrap_text(text: str, font: QFont, device: QPaintDevice, width: int, max_lines: int) -> tuple[str, ...]:
    """``text`` word-wrapped to ``width`` device pixels in ``font``, at most ``max_lines`` lines, the last one
    elided: a block of text never outgrows its place on the page."""
    if not text:
        return ()
    layout = QTextLayout(text, font, device)
    starts: list[tuple[int, int]] = []
    layout.beginLayout()
    while True:
        line = layout.createLine()
        if not line.isValid():
            break
        line.setLineWidth(width)
        starts.append((line.textStart(), line.textLength()))
    layout.endLayout()
    lines = [text[s : s + n].strip() for s, n in starts]
    if len(lines) > max_lines:
        rest = text[starts[max_lines - 1][0] :].strip()
        elided = QFontMetricsF(font, device).elidedText(rest, Qt.TextElideMode.ElideRight, width)
        lines = [*lines[: max_lines - 1], elided]
    return tuple(lines)


class _SheetLayout:
    """Places everything in device pixels of one paint device, so bars stay on the pixel grid."""

    def __init__(self, device: QPaintDevice, dpi: int, page_px: tuple[int, int], title: str,
                 style: SheetStyle = SheetStyle()) -> None:
        self._device = device
        self._dpi = dpi
        self._page_w, self._page_h = page_px
        self._title = title
        self.module_px = module_px(dpi)
        self.bar_h = mm_to_px(style.bar_height_mm, dpi)
        self.margin = mm_to_px(_MARGIN_MM, dpi)
        self.gutter = mm_to_px(_GUTTER_MM, dpi)
        self.pad = mm_to_px(_CELL_PAD_MM, dpi)
        self.row_gap = mm_to_px(_ROW_GAP_MM, dpi)
        self.section_gap = mm_to_px(_SECTION_GAP_MM, dpi)
        self.text_gap = mm_to_px(_TEXT_GAP_MM, dpi)
        self.content_w = self._page_w - 2 * self.margin
        self.col_w = (self.content_w - (_COLUMNS - 1) * self.gutter) // _COLUMNS

        base = QGuiApplication.font()
        self.title_font = self._font(base, 15.0, bold=True)
        self.section_font = self._font(base, 11.5, bold=True)
        self.label_font = self._font(base, style.label_points, bold=style.label_bold)
        self.footer_font = self._font(base, 7.5)
        self.code_font = self._font(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont), 10.0)

    @staticmethod
    def _font(base: QFont, points: float, *, bold: bool = False) -> QFont:
        font = QFont(base)
        font.setPointSizeF(points)
        font.setBold(bold)
        return font

    def _metrics(self, font: QFont) -> QFontMetricsF:
        return QFontMetricsF(font, self._device)

    def _line_h(self, font: QFont) -> int:
        return math.ceil(self._metrics(font).lineSpacing())

    def _wrap(self, text: str, width: int) -> tuple[str, ...]:
        """Word-wrap a caption to the cell, eliding the tail so a row can never outgrow a page."""
        return wrap_text(text, self.label_font, self._device, width, _LABEL_MAX_LINES)

    def _prepare(self, entry: SheetEntry) -> _PreparedEntry:
        modules = code128_modules(entry.code)
        bars_w = len(modules) * self.module_px
        if bars_w > self.content_w:
            raise ValueError(
                both(f"바코드가 너무 길어 A4 용지 폭에 들어가지 않습니다: {entry.code!r}",
                     f"Barcode too long to fit the width of an A4 page: {entry.code!r}")
            )
        wide = bars_w > self.col_w
        width = self.content_w if wide else self.col_w
        return _PreparedEntry(entry, modules, self._wrap(entry.label, width - 2 * self.pad), wide)

    def _entry_h(self, prepared: _PreparedEntry) -> int:
        h = self.pad + self.bar_h + self.text_gap + self._line_h(self.code_font)
        if prepared.label_lines:
            h += self.text_gap + len(prepared.label_lines) * self._line_h(self.label_font)
        return h + self.pad

    def _rows(self, section: SheetSection) -> list[_Row]:
        """Fill rows left to right; an entry too wide for a column takes a row to itself."""
        rows: list[_Row] = []
        pending: list[_PreparedEntry] = []

        def flush() -> None:
            if pending:
                rows.append(_Row(tuple(pending), max(self._entry_h(p) for p in pending)))
                pending.clear()

        for entry in section.entries:
            prepared = self._prepare(entry)
            if prepared.wide:
                flush()
                rows.append(_Row((prepared,), self._entry_h(prepared)))
                continue
            pending.append(prepared)
            if len(pending) == _COLUMNS:
                flush()
        flush()
        return rows

    def _entry_ops(self, prepared: _PreparedEntry, cell: QRect) -> list[PageOp]:
        ops: list[PageOp] = [FrameOp(cell)]
        bars_w = len(prepared.modules) * self.module_px
        bx = cell.x() + (cell.width() - bars_w) // 2
        y = cell.y() + self.pad
        ops.append(BarsOp(bx, y, self.module_px, self.bar_h, prepared.modules))
        y += self.bar_h + self.text_gap
        inner_x = cell.x() + self.pad
        inner_w = cell.width() - 2 * self.pad
        centered = Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop
        code_h = self._line_h(self.code_font)
        code = self._metrics(self.code_font).elidedText(prepared.entry.code, Qt.TextElideMode.ElideMiddle, inner_w)
        ops.append(TextOp(QRectF(inner_x, y, inner_w, code_h), code, self.code_font, centered))
        y += code_h + self.text_gap
        label_h = self._line_h(self.label_font)
        for line in prepared.label_lines:
            ops.append(TextOp(QRectF(inner_x, y, inner_w, label_h), line, self.label_font, centered))
            y += label_h
        return ops

    def _header_ops(self) -> tuple[list[PageOp], int]:
        title_h = self._line_h(self.title_font)
        left = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop
        title = self._metrics(self.title_font).elidedText(self._title, Qt.TextElideMode.ElideRight, self.content_w)
        ops: list[PageOp] = [
            TextOp(QRectF(self.margin, self.margin, self.content_w, title_h), title, self.title_font, left)
        ]
        rule_y = self.margin + title_h + self.text_gap
        ops.append(RuleOp(self.margin, self.margin + self.content_w, rule_y))
        return ops, rule_y + self.section_gap

    def _section_title_op(self, text: str, y: int) -> TextOp:
        h = self._line_h(self.section_font)
        text = self._metrics(self.section_font).elidedText(text, Qt.TextElideMode.ElideRight, self.content_w)
        flags = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop
        return TextOp(QRectF(self.margin, y, self.content_w, h), text, self.section_font, flags)

    def _footer_op(self, page_no: int, pages: int) -> TextOp:
        # Inside the bottom margin but clear of the edge, which many printers cannot reach.
        y = self._page_h - self.margin + mm_to_px(1.5, self._dpi)
        h = self._line_h(self.footer_font)
        flags = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop
        return TextOp(QRectF(self.margin, y, self.content_w, h), f"{page_no} / {pages}", self.footer_font, flags)

    def pages(self, sections: Sequence[SheetSection]) -> list[list[PageOp]]:
        """Flow sections over pages, moving whole rows (and a section title with its first row)."""
        header, top = self._header_ops()
        bottom = self._page_h - self.margin
        section_title_h = self._line_h(self.section_font) + self.text_gap
        pages: list[list[PageOp]] = [list(header)]
        y = top

        def new_page() -> None:
            nonlocal y
            pages.append(list(header))
            y = top

        for section in sections:
            rows = self._rows(section)
            first_h = rows[0].height if rows else 0
            if y > top and y + section_title_h + first_h > bottom:
                new_page()
            pages[-1].append(self._section_title_op(section.title, y))
            y += section_title_h
            for row in rows:
                if y + row.height > bottom:
                    new_page()
                    title = one(f"{section.title} (계속 / continued)", f"{section.title} (continued)")
                    pages[-1].append(self._section_title_op(title, y))
                    y += section_title_h
                x = self.margin
                for prepared in row.entries:
                    width = self.content_w if prepared.wide else self.col_w
                    pages[-1].extend(self._entry_ops(prepared, QRect(x, y, width, row.height)))
                    x += width + self.gutter
                y += row.height + self.row_gap
            y += self.section_gap - self.row_gap
        for number, ops in enumerate(pages, start=1):
            ops.append(self._footer_op(number, len(pages)))
        return pages


# --- painting ----------------------------------------------------------------------------------------


def paint_page(painter: QPainter, ops: Sequence[PageOp], dpi: int) -> None:
    """Paint one page, batched by kind.

    Batching keeps the number of calls into Qt per page small and independent of the number of bars:
    it is faster, and it limits exposure to PySide6 6.12.0 on Python 3.11, where every call of a
    void C++ method drops a reference to ``None`` (enough of them abort the interpreter).
    """
    # Antialiasing off and integer rects: every bar edge sits exactly on a device pixel.
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
    frames = [op.rect.adjusted(0, 0, -1, -1) for op in ops if isinstance(op, FrameOp)]
    if frames:
        cut_pen = QPen(_CUT_LINE_COLOR)
        cut_pen.setStyle(Qt.PenStyle.DashLine)
        cut_pen.setWidth(max(1, mm_to_px(0.15, dpi)))
        painter.setPen(cut_pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRects(frames)
    rules = [QLine(op.x1, op.y, op.x2, op.y) for op in ops if isinstance(op, RuleOp)]
    if rules:
        rule_pen = QPen(_RULE_COLOR)
        rule_pen.setWidth(max(1, mm_to_px(0.3, dpi)))
        painter.setPen(rule_pen)
        painter.drawLines(rules)
    bars = [rect for op in ops if isinstance(op, BarsOp) for rect in _bar_rects(op)]
    if bars:
        # No pen: a QRect then fills exactly width x height device pixels, no outline to widen bars.
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(_BAR_COLOR)
        painter.drawRects(bars)
    texts = sorted((op for op in ops if isinstance(op, TextOp)), key=lambda op: id(op.font))
    painter.setPen(_TEXT_COLOR)
    current: QFont | None = None
    for text in texts:
        if text.font is not current:
            painter.setFont(text.font)
            current = text.font
        painter.drawText(text.rect, int(text.flags), text.text)


def _bar_rects(bars: BarsOp) -> list[QRect]:
    """One rectangle per run of bar modules, so adjacent modules never show seams."""
    rects: list[QRect] = []
    x = bars.x
    for run in _runs(bars.modules):
        width = len(run) * bars.module_px
        if run[0] == "1":
            rects.append(QRect(x, bars.y, width, bars.height))
        x += width
    return rects


def _runs(modules: str) -> list[str]:
    runs: list[str] = []
    start = 0
    for i in range(1, len(modules) + 1):
        if i == len(modules) or modules[i] != modules[start]:
            runs.append(modules[start:i])
            start = i
    return runs


def _require_gui_thread() -> None:
    app = QGuiApplication.instance()
    if app is None:
        raise RuntimeError(
            tr("바코드 시트를 만들려면 QGuiApplication이 필요합니다. / "
               "Rendering the barcode sheet needs a QGuiApplication.")
        )
    if QThread.currentThread() is not app.thread():
        raise RuntimeError(
            tr("바코드 시트는 Qt 메인 스레드에서만 만들 수 있습니다. / "
               "The barcode sheet can only be rendered on the Qt main thread.")
        )


def _page_path(path: Path, number: int) -> Path:
    return path if number == 1 else path.with_name(f"{path.stem}-{number}{path.suffix}")


def _render_png(layout: Layout, path: Path) -> list[Path]:
    page_px = (mm_to_px(_A4_MM[0], PNG_DPI), mm_to_px(_A4_MM[1], PNG_DPI))
    dots_per_meter = round(PNG_DPI / 0.0254)

    def blank(size: tuple[int, int]) -> QImage:
        image = QImage(size[0], size[1], QImage.Format.Format_RGB32)
        # The DPI makes point-sized fonts come out at their print size and tells viewers the page is A4.
        image.setDotsPerMeterX(dots_per_meter)
        image.setDotsPerMeterY(dots_per_meter)
        image.fill(QColor(255, 255, 255))
        return image

    probe = blank((1, 1))  # a same-DPI device to measure text on before any page exists
    pages = layout(probe, PNG_DPI, page_px)
    written: list[Path] = []
    for number, ops in enumerate(pages, start=1):
        image = blank(page_px)
        painter = QPainter(image)
        try:
            paint_page(painter, ops, PNG_DPI)
        finally:
            painter.end()
        target = _page_path(path, number)
        if not image.save(str(target), "PNG"):
            raise OSError(both("PNG 파일을 저장하지 못했습니다", f"Could not write the PNG file: {target}"))
        written.append(target)
    return written


def _render_pdf(layout: Layout, path: Path, title: str) -> list[Path]:
    if not path.parent.is_dir():
        # QPdfWriter would only log a warning and produce nothing; fail loudly instead.
        raise OSError(both("폴더가 없습니다", f"Folder does not exist: {path.parent}"))
    writer = QPdfWriter(str(path))
    writer.setResolution(PDF_DPI)
    writer.setTitle(title)
    writer.setCreator("PackDesk")
    # Zero device margins: the sheet keeps its own margins, and page coordinates then equal paper ones.
    writer.setPageLayout(QPageLayout(QPageSize(QPageSize.PageSizeId.A4), QPageLayout.Orientation.Portrait, QMarginsF()))
    # Lay out before QPainter.begin() creates the file, so a bad entry leaves no half-written PDF.
    pages = layout(writer, PDF_DPI, (writer.width(), writer.height()))
    painter = QPainter()
    if not painter.begin(writer):
        raise OSError(both("PDF 파일을 만들지 못했습니다", f"Could not write the PDF file: {path}"))
    try:
        for number, ops in enumerate(pages, start=1):
            if number > 1 and not writer.newPage():
                raise OSError(both("PDF 페이지를 추가하지 못했습니다", f"Could not add a PDF page: {path}"))
            paint_page(painter, ops, PDF_DPI)
    finally:
        painter.end()
    return [path]


def render_sheet(
    sections: Sequence[SheetSection],
    path: Path,
    *,
    title: str | None = None,
    style: SheetStyle = SheetStyle(),
) -> list[Path]:
    """Write an A4 barcode sheet and return the files written.

    ``.pdf`` gives one multi-page PDF at 300 dpi (for printing); ``.png`` gives one PNG per page at
    200 dpi (for previewing or printing from an image viewer): ``path`` itself for page 1, then
    ``name-2.png``, ``name-3.png`` … Any other suffix raises ``ValueError``. Must be called on the Qt
    main thread with a ``QGuiApplication`` alive (see the module docstring).

    Every code is validated before a file is created, so a bad entry leaves nothing half-written. Pages
    left over from an earlier, longer sheet (``name-4.png`` …) are not deleted: they are the user's files.
    ``title`` defaults to "PackDesk 바코드 시트 / Barcode sheet", in the screen language; ``style`` sizes the bars
    and captions (``BADGE_STYLE`` for packer badges).
    """
    if title is None:
        title = one("PackDesk 바코드 시트 / Barcode sheet", "PackDesk barcode sheet")
    sheet_title = title
    return render_document(path, title, lambda device, dpi, page_px: _SheetLayout(
        device, dpi, page_px, sheet_title, style).pages(sections))


def render_document(path: Path, title: str, layout: Layout) -> list[Path]:
    """Write the pages ``layout`` makes (A4) as ``render_sheet`` writes a sheet: ``.pdf`` at 300 dpi, ``.png`` one
    file per page at 200 dpi; other suffixes raise ``ValueError``; Qt main thread only. ``layout`` runs before
    any file is created, so what it refuses (a code no scanner can read) leaves nothing half-written."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".pdf", ".png"):
        raise ValueError(
            both(f"지원하지 않는 파일 형식입니다: {path.suffix or '(없음)'} (.pdf 또는 .png만 가능)",
                 f"Unsupported file type: {path.suffix or '(none)'} (only .pdf or .png)")
        )
    _require_gui_thread()
    if suffix == ".pdf":
        return _render_pdf(layout, path, title)
    return _render_png(layout, path)
