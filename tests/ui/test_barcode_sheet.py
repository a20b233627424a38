"""The barcode sheet must scan: every test here decodes what was rendered with a real decoder (zxing-cpp).

Looking at the bars is not enough: a one-pixel smear, a lost quiet zone or a wrong code set in a
digit run all look fine and fail at the station, so the pixels are read back and compared with the
codes (and with the library's module pattern) instead.
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from pathlib import Path

import barcode
import pytest
import zxingcpp
from PySide6.QtGui import QImage

from packdesk.ui.barcode_sheet import (
    BAR_HEIGHT_MM,
    MIN_MODULE_MM,
    PNG_DPI,
    QUIET_ZONE_MODULES,
    SheetEntry,
    SheetSection,
    code128_modules,
    render_sheet,
)

pytestmark = pytest.mark.gui

A4_PNG_PX = (1654, 2339)  # 210 x 297 mm at 200 dpi
PNG_MODULE_PX = 3  # smallest whole number of 200-dpi pixels that is at least 0.33 mm

SECTIONS = (
    SheetSection(
        "명령 바코드 / Command barcodes",
        (
            SheetEntry("PD-CMD-COMPLETE", "포장 완료 / Complete pack"),
            SheetEntry("PD-CMD-CANCEL", "취소 / Cancel"),
            SheetEntry("PD-CMD-REPRINT", "송장 재출력 / Reprint label"),
            SheetEntry("PD-CMD-SKIP", "건너뛰기 / Skip item"),
            SheetEntry("PD-PACKER-0001", "작업자 배지 김민수 / Packer badge Kim Minsu"),
            SheetEntry("PD-PACKER-0002", "작업자 배지 이서연 / Packer badge Lee Seoyeon"),
        ),
    ),
    SheetSection(
        "데모 상품 / Demo items",
        (
            SheetEntry("mug-wh-01", "머그컵 흰색 / White mug"),
            SheetEntry("tee-bk-l", "티셔츠 검정 L / Black T-shirt L"),
            SheetEntry("sock-gr-3p", "양말 회색 3켤레 / Grey socks, 3 pairs"),
            SheetEntry("8801234567893", "EAN-13 상품코드 / EAN-13 item code"),
            SheetEntry("8809876543210", "EAN-13 상품코드 / EAN-13 item code"),
            SheetEntry("640012345678", "송장번호 / Tracking number"),
            SheetEntry("123456789012", "송장번호 / Tracking number"),
        ),
    ),
)


def _codes(sections: tuple[SheetSection, ...]) -> list[str]:
    return [entry.code for section in sections for entry in section.entries]


def _many_sections() -> tuple[SheetSection, ...]:
    """Enough entries for several pages, mixing code sets B and C and a full-width code."""
    sections = []
    for s in range(3):
        entries = []
        for i in range(14):
            n = s * 100 + i
            code = (
                f"sku-{n:03d}-xl",
                f"{9_000_000_000_000 + n * 7919}",
                f"{100_000_000_000 + n * 104_729}",
                f"PD-CMD-X{n}",
            )[i % 4]
            entries.append(SheetEntry(code, f"항목 {n} / Item {n}"))
        sections.append(SheetSection(f"구역 {s + 1} / Section {s + 1}", tuple(entries)))
    sections[1] = SheetSection(
        sections[1].title,
        (*sections[1].entries, SheetEntry("PD-LONG-CODE-THAT-NEEDS-A-WHOLE-ROW-42", "긴 코드 / Long code")),
    )
    return tuple(sections)


def _gray(path: Path) -> QImage:
    image = QImage(str(path))
    assert not image.isNull(), path
    return image.convertToFormat(QImage.Format.Format_Grayscale8)


def _decode(image: QImage) -> list[zxingcpp.Barcode]:
    return zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.Code128)


class _Pixels:
    """Byte access to a Grayscale8 QImage (rows are padded to bytesPerLine)."""

    def __init__(self, image: QImage) -> None:
        self.width, self.height = image.width(), image.height()
        self._bpl = image.bytesPerLine()
        self._bits = bytes(image.constBits())

    def __call__(self, x: int, y: int) -> int:
        return self._bits[y * self._bpl + x]

    def row(self, y: int, x0: int, x1: int) -> bytes:
        return self._bits[y * self._bpl + x0 : y * self._bpl + x1]


def test_code128_modules_is_the_library_symbol_inside_quiet_zones() -> None:
    for code in ("PD-CMD-COMPLETE", "mug-wh-01", "8801234567893", "640012345678"):
        modules = code128_modules(code)
        quiet = "0" * QUIET_ZONE_MODULES
        assert modules == quiet + barcode.Code128(code).build()[0] + quiet
        assert set(modules) == {"0", "1"}
        # start symbol + data/shift symbols + checksum, 11 modules each, then 13-module stop pattern
        assert (len(modules) - 2 * QUIET_ZONE_MODULES - 13) % 11 == 0


@pytest.mark.parametrize("code", ["", "상품-01", "tab\there", "é"])
def test_code128_modules_rejects_what_a_scanner_cannot_type(code: str) -> None:
    with pytest.raises(ValueError, match=r"ASCII|비어"):
        code128_modules(code)


def test_png_sheet_scans_back_to_exactly_the_codes(qapp, tmp_path: Path) -> None:
    path = tmp_path / "sheet.png"
    pages = render_sheet(SECTIONS, path)

    assert pages[0] == path
    decoded: list[str] = []
    for page in pages:
        image = QImage(str(page))
        assert (image.width(), image.height()) == A4_PNG_PX
        assert round(image.dotsPerMeterX() * 0.0254) == PNG_DPI
        decoded += [b.text for b in _decode(image.convertToFormat(QImage.Format.Format_Grayscale8))]
    assert Counter(decoded) == Counter(_codes(SECTIONS))


def test_png_bars_are_whole_pixel_modules_matching_the_library_pattern(qapp, tmp_path: Path) -> None:
    """Pixel-exact: each module is 3 solid pixels, quiet zones are white, bars are ~12 mm tall."""
    assert PNG_MODULE_PX * 25.4 / PNG_DPI >= MIN_MODULE_MM
    (page,) = render_sheet(SECTIONS, tmp_path / "sheet.png")
    image = _gray(page)
    px = _Pixels(image)
    quiet_px = QUIET_ZONE_MODULES * PNG_MODULE_PX
    found = _decode(image)
    assert len(found) == len(_codes(SECTIONS))

    for result in found:
        corners = (result.position.top_left, result.position.top_right, result.position.bottom_left)
        y = (result.position.top_left.y + result.position.bottom_left.y) // 2
        x0 = max(0, min(p.x for p in corners) - quiet_px - 10)
        x1 = min(px.width, max(p.x for p in corners) + quiet_px + 10)
        row = px.row(y, x0, x1)
        assert set(row) <= {0, 255}, f"{result.text}: grey (smeared) pixels in the bars"
        dark = [i for i, v in enumerate(row) if v == 0]
        first, last = x0 + dark[0], x0 + dark[-1]
        assert all(px(x, y) == 255 for x in range(first - quiet_px, first)), "left quiet zone"
        assert all(px(x, y) == 255 for x in range(last + 1, last + 1 + quiet_px)), "right quiet zone"

        symbol = code128_modules(result.text)[QUIET_ZONE_MODULES:-QUIET_ZONE_MODULES]
        assert last + 1 - first == len(symbol) * PNG_MODULE_PX
        for m, bit in enumerate(symbol):
            xs = range(first + m * PNG_MODULE_PX, first + (m + 1) * PNG_MODULE_PX)
            want = 0 if bit == "1" else 255
            assert all(px(x, y) == want for x in xs), f"{result.text}: module {m} is not {bit}"

        top = y
        while px(first, top - 1) == 0:
            top -= 1
        bottom = y
        while px(first, bottom + 1) == 0:
            bottom += 1
        height_mm = (bottom + 1 - top) * 25.4 / PNG_DPI
        assert abs(height_mm - BAR_HEIGHT_MM) <= 0.2


def test_png_sheet_flows_over_pages_without_cutting_anything(qapp, tmp_path: Path) -> None:
    sections = _many_sections()
    path = tmp_path / "sheet.png"
    pages = render_sheet(sections, path)

    assert len(pages) >= 2
    assert pages == [path, *(tmp_path / f"sheet-{n}.png" for n in range(2, len(pages) + 1))]
    band = round(5 * PNG_DPI / 25.4)  # nothing within 5 mm of the paper edge
    decoded: Counter[str] = Counter()
    for page in pages:
        assert page.is_file()
        image = _gray(page)
        px = _Pixels(image)
        white_rows = b"\xff" * px.width
        for y in (*range(band), *range(px.height - band, px.height)):
            assert px.row(y, 0, px.width) == white_rows, f"{page.name}: ink at top/bottom edge, y={y}"
        for y in range(px.height):
            assert px.row(y, 0, band) == b"\xff" * band, f"{page.name}: ink at left edge, y={y}"
            assert px.row(y, px.width - band, px.width) == b"\xff" * band, f"{page.name}: right edge"
        on_page = [b.text for b in _decode(image)]
        assert on_page, f"{page.name} has no barcode"
        decoded.update(on_page)
    # every code is on exactly one page, whole (a barcode cut at a page break would not decode)
    assert decoded == Counter(_codes(sections))


def test_pdf_sheet_is_a_multi_page_pdf(qapp, tmp_path: Path) -> None:
    path = tmp_path / "sheet.pdf"
    assert render_sheet(_many_sections(), path) == [path]

    data = path.read_bytes()
    assert data.startswith(b"%PDF-")
    pages = len(re.findall(rb"/Type\s*/Page\b(?!s)", data))
    assert 2 <= pages <= 6
    assert re.search(rb"/Count\s+%d\b" % pages, data)


def test_pdf_sheet_scans_back_to_exactly_the_codes(qapp, tmp_path: Path) -> None:
    pdfium = pytest.importorskip("pypdfium2", reason="pypdfium2 renders the PDF for the decoder")
    path = tmp_path / "sheet.pdf"
    render_sheet(_many_sections(), path)

    decoded: Counter[str] = Counter()
    document = pdfium.PdfDocument(str(path))
    try:
        for index in range(len(document)):
            page = document[index]
            width_pt, height_pt = page.get_size()
            assert (round(width_pt * 25.4 / 72), round(height_pt * 25.4 / 72)) == (210, 297)
            bitmap = page.render(scale=300 / 72, grayscale=True)  # the writer's own 300 dpi grid
            image = QImage(
                bytes(bitmap.buffer),
                bitmap.width,
                bitmap.height,
                bitmap.stride,
                QImage.Format.Format_Grayscale8,
            ).copy()
            decoded.update(b.text for b in _decode(image))
            bitmap.close()
            page.close()
    finally:
        document.close()
    assert decoded == Counter(_codes(_many_sections()))


@pytest.mark.parametrize("name", ["sheet.jpg", "sheet", "sheet.svg"])
def test_unsupported_suffix_is_refused_in_korean_and_english(qapp, tmp_path: Path, name: str) -> None:
    with pytest.raises(ValueError) as excinfo:
        render_sheet(SECTIONS, tmp_path / name)
    assert "지원하지 않는" in str(excinfo.value)
    assert "Unsupported" in str(excinfo.value)
    assert list(tmp_path.iterdir()) == []


def test_suffix_is_case_insensitive(qapp, tmp_path: Path) -> None:
    path = tmp_path / "SHEET.PNG"
    assert render_sheet(SECTIONS[:1], path) == [path]
    assert path.is_file()


def test_bad_code_fails_before_any_file_is_written(qapp, tmp_path: Path) -> None:
    bad = (SheetSection("x", (SheetEntry("PD-CMD-COMPLETE", "ok"), SheetEntry("상품", "not ASCII"))),)
    for name in ("sheet.pdf", "sheet.png"):
        with pytest.raises(ValueError, match="ASCII"):
            render_sheet(bad, tmp_path / name)
    assert list(tmp_path.iterdir()) == []


def test_code_too_long_for_the_page_is_refused(qapp, tmp_path: Path) -> None:
    too_long = (SheetSection("x", (SheetEntry("X" * 60, "too long"),)),)
    with pytest.raises(ValueError, match="A4"):
        render_sheet(too_long, tmp_path / "sheet.png")


def test_empty_sheet_still_renders_one_page(qapp, tmp_path: Path) -> None:
    path = tmp_path / "sheet.png"
    assert render_sheet([], path) == [path]
    assert _decode(_gray(path)) == []


def test_refuses_to_run_off_the_gui_thread(qapp, tmp_path: Path) -> None:
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            render_sheet(SECTIONS, tmp_path / "sheet.png")
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join()
    assert len(errors) == 1
    assert isinstance(errors[0], RuntimeError)
    assert "main thread" in str(errors[0])
    assert list(tmp_path.iterdir()) == []
