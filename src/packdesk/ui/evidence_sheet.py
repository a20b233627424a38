"""Renders a claim's evidence sheet to PDF (A4): facts, scans with times, a frame at each item scan, and the
file's hash with its chain link. Written next to the exported clip; each names the other.

Runs on the Qt main thread (QPdfWriter + QPainter); gathering and frame decoding (``services/evidence``)
can run before, off the UI thread.

Language: the sheet stays bilingual, Korean first, whatever the screen language (``ui/i18n.py``): it is sent
to a marketplace or a customer with a claim, a reader outside the warehouse, not shown to the staff. Its
Korean texts are therefore data for this module's check (tests/ui/test_i18n_sources.py), each marked
``# i18n: data`` on its line; the words of codes (what was scanned, why a scan was refused, how the pack ended)
come from the catalogue (``core/words``) in both languages, never as a bare code.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import QMarginsF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QImage, QPageLayout, QPageSize, QPainter, QPdfWriter, QPen

from packdesk.core import words
from packdesk.core.kst import kst_text
from packdesk.services.evidence import Evidence, EvidenceScan
from packdesk.services.video_link import VideoLink

DPI = 150


def _qimage(frame: np.ndarray) -> QImage:
    h, w = frame.shape[:2]
    return QImage(frame.data, w, h, frame.strides[0], QImage.Format.Format_BGR888).copy()


def evidence_path(clip: Path) -> Path:
    """The sheet beside its clip: ``<clip name>_evidence.pdf``."""
    return clip.with_name(f"{clip.stem}_evidence.pdf")


def scan_line(sc: EvidenceScan) -> str:
    """One scan as the sheet prints it: mark, time, offset into the video, what was scanned, and why it was
    refused — "✘ … 상품: 머그컵 — 수량 초과 / Too many", never the stored code ``too_many``."""
    mark = "✔" if sc.accepted else "✘"
    kind = " / ".join(words.label(words.KIND, sc.kind))
    reason = f" — {' / '.join(words.reason(sc.reason))}" if sc.reason else ""
    what = sc.item_name or sc.code
    if sc.quantity > 1:  # a multi-pack's count, confirmed by this item scan
        what += f" ×{sc.quantity} ({' / '.join(words.COUNTED)})"
    return f"{mark} {kst_text(sc.at)}  (+{max(0.0, sc.offset_s):6.1f} s)  {kind}: {what}{reason}"


def draw_qr(p: QPainter, text: str, x: float, y: float, size: float) -> None:
    """``text`` as a QR code, ``size`` wide with its quiet zone, each module a filled square (vector: sharp
    at any printer's resolution). Error correction L: a presigned link is ~500 characters, and the lowest
    level keeps the modules large enough to scan from paper."""
    import segno

    qr = segno.make(text, error="l", micro=False, boost_error=False)
    rows = list(qr.matrix_iter(scale=1, border=4))
    cell = size / len(rows)
    p.fillRect(QRectF(x, y, size, size), QColor("#ffffff"))
    for r, row in enumerate(rows):
        for c, dark in enumerate(row):
            if dark:
                p.fillRect(QRectF(x + c * cell, y + r * cell, cell, cell), QColor("#000000"))


def write_evidence_sheet(ev: Evidence, pdf_path: Path, clip_name: str, link: VideoLink | None = None) -> Path:
    """``link``: the buyer's video link made in the review, printed as a QR code with its expiry."""
    pdf = QPdfWriter(str(pdf_path))
    pdf.setResolution(DPI)
    pdf.setPageLayout(QPageLayout(QPageSize(QPageSize.PageSizeId.A4), QPageLayout.Orientation.Portrait,
                                  QMarginsF(12, 12, 12, 12), QPageLayout.Unit.Millimeter))
    pdf.setTitle(f"PackDesk evidence {ev.tracking_number}")
    p = QPainter(pdf)
    page = pdf.pageLayout().paintRectPixels(DPI)
    width, height = page.width(), page.height()
    y = 0.0

    def font(pt: float, bold: bool = False) -> QFont:
        f = QFont()
        f.setPointSizeF(pt)
        f.setBold(bold)
        return f

    def line(text: str, pt: float = 10, bold: bool = False, color: str = "#000000") -> None:
        nonlocal y
        p.setFont(font(pt, bold))
        p.setPen(QColor(color))
        h = p.fontMetrics().height() * 1.25
        if y + h > height:
            new_page()
        p.drawText(QRectF(0, y, width, h), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, text)
        y += h

    def new_page() -> None:
        nonlocal y
        pdf.newPage()
        y = 0.0

    line("포장 증거 자료 / Packing evidence", 18, True)  # i18n: data
    line(f"송장 / Waybill: {ev.tracking_number}    주문 / Order: {ev.order_nos}", 12, True)  # i18n: data
    line(f"수령인 / Recipient: {ev.recipient_initials}    작업자 / Packer: {ev.packer_name}    "  # i18n: data
         f"스테이션 / Station: {ev.station}")  # i18n: data
    recorded = f"{kst_text(ev.started_at)} ~ {kst_text(ev.ended_at)} (KST)"
    outcome = " / ".join(words.label(words.OUTCOME, ev.outcome))
    line(f"녹화 / Recorded: {recorded}    결과 / Outcome: {outcome}")  # i18n: data
    line(f"영상 / Video clip: {clip_name}")  # i18n: data
    if link is not None:
        qr_size = min(width, height) * 0.3  # ~56 mm on A4
        if y + qr_size > height:
            new_page()
        draw_qr(p, link.url, 0, y, qr_size)
        p.setFont(font(10, True))
        p.setPen(QColor("#000000"))
        p.drawText(QRectF(qr_size + 12, y, width - qr_size - 12, qr_size / 2),
                   Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignBottom | Qt.TextFlag.TextWordWrap,
                   "영상 링크 — 휴대폰으로 찍으면 포장 영상이 열립니다 / "  # i18n: data
                   "Video link — scan with a phone to watch the packing")
        p.setFont(font(9))
        p.drawText(QRectF(qr_size + 12, y + qr_size / 2 + 4, width - qr_size - 12, qr_size / 2),
                   Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop | Qt.TextFlag.TextWordWrap,
                   f"{kst_text(link.expires_at)} (KST)까지 열림 / opens until then")  # i18n: data
        y += qr_size
    y += 8
    line("스캔 기록 / Scans", 12, True)  # i18n: data
    for sc in ev.scans:
        line(scan_line(sc), 9, color="#000000" if sc.accepted else "#b71c1c")
    y += 8
    line("스캔 시점의 화면 / The video at each scan", 12, True)  # i18n: data
    cols, gap = 2, 12.0
    cell_w = (width - gap * (cols - 1)) / cols
    for n, (i, frame) in enumerate(sorted(ev.frames.items())):
        img = _qimage(frame)
        cell_h = cell_w * img.height() / img.width()
        caption_h = 28.0
        col = n % cols
        if col == 0 and y + cell_h + caption_h > height:
            new_page()
        x = col * (cell_w + gap)
        target = QRectF(x, y, cell_w, cell_h)
        p.drawImage(target, img)
        p.setPen(QPen(QColor("#444444"), 1))
        p.drawRect(target)
        sc = ev.scans[i]
        p.setFont(font(8))
        p.setPen(QColor("#000000"))
        p.drawText(QRectF(x, y + cell_h, cell_w, caption_h), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop,
                   f"{kst_text(sc.at)}  {sc.item_name or sc.code}")
        if col == cols - 1 or n == len(ev.frames) - 1:
            y += cell_h + caption_h + 6
    y += 8
    line("원본 파일 무결성 / Original file integrity", 12, True)  # i18n: data
    line(f"파일 / File: {ev.path.name} ({ev.size_bytes:,} bytes)", 9)  # i18n: data
    line(f"SHA-256: {ev.sha256}", 9)
    if ev.chain_seq is not None:
        line(f"체인 / Chain: {ev.station} #{ev.chain_seq}  link {ev.chain_hash}", 8)  # i18n: data
        line(f"이전 / previous {ev.chain_prev}", 8)  # i18n: data
    if ev.pack_chain_seq is not None:
        line(f"스캔·결과 체인 / Scans and outcome chain: {ev.station} #{ev.pack_chain_seq}", 8)  # i18n: data
        line(f"link {ev.pack_chain_hash}", 8)
    line("packdesk verify 로 원본·스캔·결과가 변경되지 않았음을 확인할 수 있습니다 / "  # i18n: data
         "'packdesk verify' proves the original, the scans and the outcome unaltered", 8, color="#555555")
    p.end()
    return pdf_path
