"""Packing slips on paper (포장 지시서): one A4 page per parcel (more when its items run over), drawn with the
barcode sheet's primitives (``ui/barcode_sheet.py``: whole-pixel bars, quiet zones, PDF at 300 dpi) so the
parcel barcode scans like every other code PackDesk prints.

Each slip: a big Code 128 of the parcel key (what opens the pack at the station), the key in large type for
typing it in, the recipient and address (the slip goes with the box), the orders, the waybill if the parcel
has one (else: the courier label is scanned at the end of the pack), and per order line what the buyer asked
of it (engraving text, ✎) and its items with their quantities and barcodes as text (``services/slips.py``
says why not as bars). The slip's own words follow the screen language; the shop's data is printed as it came.

Qt main thread only (Qt fonts and paint devices), like ``render_sheet``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from PySide6.QtCore import QRect, QRectF, Qt
from PySide6.QtGui import QFont, QFontDatabase, QFontMetricsF, QGuiApplication, QPaintDevice

from packdesk.core.errors import KnownError
from packdesk.core.kst import kst_text
from packdesk.services.slips import Slip, SlipLine
from packdesk.ui.barcode_sheet import (
    BarsOp,
    FrameOp,
    Layout,
    PageOp,
    RuleOp,
    TextOp,
    code128_modules,
    mm_to_px,
    module_px,
    render_document,
    wrap_text,
)
from packdesk.ui.i18n import both, one, plural, tr
from packdesk.ui.orders_view import courier_text

__all__ = ["slip_layout", "write_slips"]

_MARGIN_MM = 12.0
_BIG_BAR_MM = 20.0          # the parcel barcode: scanned from arm's length off a box flap
_BIG_MODULES = 2            # its bars twice the sheet's narrowest: forgiving of a creased or cheap print
_GAP_MM = 2.0
_INDENT_MM = 6.0
_LEFT = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop
_RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop
_CENTER = Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop


@dataclass(frozen=True)
class _Block:
    """A run of operations of a known height, placed at y = 0: moved down whole onto a page."""

    ops: tuple[PageOp, ...]
    height: int


def _place(block: _Block, y: int, page: list[PageOp]) -> int:
    """Put ``block`` on ``page`` at ``y``; returns where the next one goes."""
    page.extend(_shift(op, y) for op in block.ops)
    return y + block.height


def _shift(op: PageOp, dy: int) -> PageOp:
    if isinstance(op, TextOp):
        return TextOp(op.rect.translated(0, dy), op.text, op.font, op.flags)
    if isinstance(op, BarsOp):
        return BarsOp(op.x, op.y + dy, op.module_px, op.height, op.modules)
    if isinstance(op, FrameOp):
        return FrameOp(op.rect.translated(0, dy))
    return RuleOp(op.x1, op.x2, op.y + dy)


class _SlipLayout:
    def __init__(self, device: QPaintDevice, dpi: int, page_px: tuple[int, int], printed_at: datetime) -> None:
        self.device, self.dpi = device, dpi
        self.page_w, self.page_h = page_px
        self.margin = mm_to_px(_MARGIN_MM, dpi)
        self.content_w = self.page_w - 2 * self.margin
        self.gap = mm_to_px(_GAP_MM, dpi)
        self.indent = mm_to_px(_INDENT_MM, dpi)
        self.printed_at = printed_at
        base = QGuiApplication.font()
        fixed = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        self.title_font = self._font(base, 16.0, bold=True)
        self.key_font = self._font(fixed, 20.0, bold=True)
        self.label_font = self._font(base, 10.0, bold=True)
        self.text_font = self._font(base, 11.0)
        self.line_font = self._font(base, 11.0, bold=True)
        self.item_font = self._font(base, 11.0)
        self.code_font = self._font(fixed, 10.0)
        self.units_font = self._font(base, 16.0, bold=True)
        self.small_font = self._font(base, 8.0)

    @staticmethod
    def _font(base: QFont, points: float, *, bold: bool = False) -> QFont:
        font = QFont(base)
        font.setPointSizeF(points)
        font.setBold(bold)
        return font

    def _line_h(self, font: QFont) -> int:
        return math.ceil(QFontMetricsF(font, self.device).lineSpacing())

    def _text(self, ops: list[PageOp], x: int, y: int, w: int, text: str, font: QFont,
              flags: Qt.AlignmentFlag = _LEFT, max_lines: int = 3) -> int:
        """Wrapped text at (x, y); returns the height it took."""
        h = self._line_h(font)
        lines = wrap_text(text, font, self.device, w, max_lines) or ("",)
        for n, line in enumerate(lines):
            ops.append(TextOp(QRectF(x, y + n * h, w, h), line, font, flags))
        return len(lines) * h

    # ------------------------------------------------------------------ blocks of one slip

    def _head(self, slip: Slip, continued: bool) -> _Block:
        ops: list[PageOp] = []
        x, w = self.margin, self.content_w
        title = tr("포장 지시서 / Packing slip") + (tr(" (계속 / continued)") if continued else "")
        self._text(ops, x, 0, w * 2 // 3, title, self.title_font, max_lines=1)
        self._text(ops, x + w // 3, 0, w - w // 3, slip.platform, self.text_font, _RIGHT, max_lines=1)
        y = self._line_h(self.title_font) + self.gap
        ops.append(RuleOp(x, x + w, y))
        y += self.gap * 2
        modules = code128_modules(slip.parcel_key)
        mpx = module_px(self.dpi) * _BIG_MODULES
        if len(modules) * mpx > w:  # cannot happen with a parcel key; a longer code still fits at the base size
            mpx = module_px(self.dpi)
        bars_w = len(modules) * mpx
        bar_h = mm_to_px(_BIG_BAR_MM, self.dpi)
        ops.append(BarsOp(x + (w - bars_w) // 2, y, mpx, bar_h, modules))
        y += bar_h + self.gap
        y += self._text(ops, x, y, w, slip.parcel_key, self.key_font, _CENTER, max_lines=1) + self.gap
        ops.append(RuleOp(x, x + w, y))
        return _Block(tuple(ops), y + self.gap * 2)

    def _recipient(self, slip: Slip) -> _Block:
        ops: list[PageOp] = []
        label_w = mm_to_px(42, self.dpi)
        x, w = self.margin, self.content_w
        if slip.tracking_number:
            waybill = f"{courier_text(slip.courier_code)} {slip.tracking_number}"
        else:
            waybill = tr("없음 — 포장 끝에 택배 송장(라벨)을 스캔 / none — scan the courier label at the end")
        rows = ((tr("받는 분 / Recipient"), slip.recipient_name),
                (tr("주소 / Address"), f"[{slip.zip_code}] {slip.address}" if slip.zip_code else slip.address),
                (tr("주문 / Orders"), ", ".join(slip.order_nos)),
                (tr("송장 / Waybill"), waybill))
        y = 0
        for label, value in rows:
            self._text(ops, x, y, label_w, label, self.label_font, max_lines=1)
            y += max(self._text(ops, x + label_w, y, w - label_w, value, self.text_font),
                     self._line_h(self.label_font)) + self.gap // 2
        y += self.gap
        ops.append(RuleOp(x, x + w, y))
        y += self.gap * 2
        units = slip.units
        self._text(ops, x, y, w, both(f"상품 {len(slip.lines)}건 · {units}개",
                                      f"Items: {plural(len(slip.lines), 'line')}, {plural(units, 'unit')}"),
                   self.label_font)
        return _Block(tuple(ops), y + self._line_h(self.label_font) + self.gap)

    def _line(self, line: SlipLine) -> _Block:
        """An order line with its items, kept together on one page."""
        ops: list[PageOp] = []
        x, w = self.margin, self.content_w
        option = f" ({line.option_name})" if line.option_name else ""
        header = f"{line.order_no} · {line.product_name}{option} × {line.quantity}"
        y = self._text(ops, x, 0, w, header, self.line_font, max_lines=2) + self.gap // 2
        ix = x + self.indent
        for asked in line.instructions.splitlines():  # engraving text and the like: what must not be missed
            if asked.strip():
                y += self._text(ops, ix, y, w - self.indent, f"✎ {one('요청', 'Asked')}: {asked.strip()}",
                                self.line_font, max_lines=3) + self.gap // 2
        name_w = (w - self.indent) * 55 // 100
        code_w = (w - self.indent) * 30 // 100
        units_w = w - self.indent - name_w - code_w
        if not line.items:
            y += self._text(ops, ix, y, w - self.indent, tr(
                "⚠ 출고상품에 연결되지 않음 — 관리자에게 요청 / not linked to a shipping item — ask a supervisor"),
                self.item_font, max_lines=2)
        for it in line.items:
            name = f"{it.name} {it.option_name}".strip()
            box_top = y
            used = self._text(ops, ix, y, name_w - self.gap, f"□ {name}", self.item_font, max_lines=2)
            code = it.barcode or tr("(바코드 없음 / no barcode)")
            used_code = self._text(ops, ix + name_w, y, code_w - self.gap, code, self.code_font, max_lines=1)
            used_code += self._text(ops, ix + name_w, y + used_code, code_w - self.gap, f"SKU {it.sku}",
                                    self.small_font, max_lines=1)
            used_units = self._text(ops, ix + name_w + code_w, y, units_w, f"× {it.units}", self.units_font, _RIGHT,
                                    max_lines=1)
            y = box_top + max(used, used_code, used_units) + self.gap // 2
        return _Block(tuple(ops), y + self.gap)

    # ------------------------------------------------------------------ pages

    def pages(self, slips: Sequence[Slip]) -> list[list[PageOp]]:
        top, bottom = self.margin, self.page_h - self.margin
        pages: list[list[PageOp]] = []
        for slip in slips:
            first = len(pages)
            page: list[PageOp] = []
            y = _place(self._head(slip, False), top, page)
            y = _place(self._recipient(slip), y, page)
            for line in slip.lines:
                block = self._line(line)
                if y + block.height > bottom and y > top:
                    pages.append(page)
                    page = []
                    y = _place(self._head(slip, True), top, page)
                y = _place(block, y, page)
            pages.append(page)
            count = len(pages) - first
            for n in range(count):
                pages[first + n].append(self._footer(slip, n + 1, count))
        return pages or [[]]

    def _footer(self, slip: Slip, n: int, count: int) -> TextOp:
        y = self.page_h - self.margin + mm_to_px(1.5, self.dpi)
        h = self._line_h(self.small_font)
        printed = kst_text(self.printed_at, "%Y-%m-%d %H:%M")
        text = one(f"{slip.parcel_key} · {n} / {count} · PackDesk {printed} 출력",
                   f"{slip.parcel_key} · {n} / {count} · printed by PackDesk {printed}")
        return TextOp(QRectF(QRect(self.margin, y, self.content_w, h)), text, self.small_font, _RIGHT)


def slip_layout(slips: Sequence[Slip], printed_at: datetime) -> Layout:
    """The ``Layout`` (``ui/barcode_sheet.py``) of these slips."""
    return lambda device, dpi, page_px: _SlipLayout(device, dpi, page_px, printed_at).pages(slips)


def write_slips(slips: Sequence[Slip], path: Path, printed_at: datetime) -> list[Path]:
    """Save the slips as one PDF (print it) or PNG pages; raises ``KnownError("slip_save_failed")``."""
    try:
        return render_document(Path(path), tr("PackDesk 포장 지시서 / Packing slips"), slip_layout(slips, printed_at))
    except (OSError, ValueError) as e:
        raise KnownError("slip_save_failed", detail=repr(e), path=str(path)) from e
