"""Packing slips on paper must scan: the PDF is rendered (pypdfium2) and read back with a real decoder
(zxing-cpp), as the barcode sheet's tests do. Only the parcel key is printed as bars: an item's barcode on
paper could be scanned instead of the item."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
import zxingcpp
from PySide6.QtGui import QImage

from packdesk.core.errors import KnownError
from packdesk.services.slips import Slip, SlipItem, SlipLine
from packdesk.ui.packing_slip import write_slips

pytestmark = pytest.mark.gui
AT = datetime(2026, 12, 6, 0, 30, tzinfo=UTC)


def slip(key: str, lines: int = 2) -> Slip:
    return Slip(key, "스마트스토어", "김민지", "06236", "서울특별시 강남구 테헤란로 1, 101호", ("2026120600001",),
                tuple(SlipLine("2026120600001", f"머그컵 선물세트 {n}", "화이트", 2,
                               (SlipItem("세라믹 머그컵", "화이트", "MUG-WH-01", "8801234000018", 2),
                                SlipItem("원목 코스터", "", "COASTER-01", "8801234000049", 8)))
                      for n in range(lines)))


def pdf_pages(path: Path) -> list[QImage]:
    pdfium = pytest.importorskip("pypdfium2", reason="pypdfium2 renders the PDF for the decoder")
    images: list[QImage] = []
    document = pdfium.PdfDocument(str(path))
    try:
        for index in range(len(document)):
            page = document[index]
            bitmap = page.render(scale=300 / 72, grayscale=True)  # the writer's own 300 dpi grid
            images.append(QImage(bytes(bitmap.buffer), bitmap.width, bitmap.height, bitmap.stride,
                                 QImage.Format.Format_Grayscale8).copy())
            bitmap.close()
            page.close()
    finally:
        document.close()
    return images


def codes(image: QImage) -> list[str]:
    return [b.text for b in zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.Code128)]


def test_each_parcel_gets_a_page_whose_barcode_is_its_key(qapp, tmp_path: Path) -> None:
    path = tmp_path / "slips.pdf"
    assert write_slips([slip("PD-P-ABCD2345"), slip("PD-P-WXYZ6789")], path, AT) == [path]
    pages = pdf_pages(path)
    assert [codes(p) for p in pages] == [["PD-P-ABCD2345"], ["PD-P-WXYZ6789"]]  # no item's bars on paper


def test_a_long_slip_runs_over_pages_each_with_the_key(qapp, tmp_path: Path) -> None:
    path = tmp_path / "slips.pdf"
    write_slips([slip("PD-P-ABCD2345", lines=30), slip("PD-P-WXYZ6789", lines=1)], path, AT)
    decoded = [codes(p) for p in pdf_pages(path)]
    assert len(decoded) >= 3 and decoded[-1] == ["PD-P-WXYZ6789"]
    assert Counter(c for page in decoded[:-1] for c in page) == {"PD-P-ABCD2345": len(decoded) - 1}


def test_png_pages_scan_too(qapp, tmp_path: Path) -> None:
    written = write_slips([slip("PD-P-ABCD2345")], tmp_path / "slip.png", AT)
    assert written == [tmp_path / "slip.png"]
    image = QImage(str(written[0])).convertToFormat(QImage.Format.Format_Grayscale8)
    assert codes(image) == ["PD-P-ABCD2345"]


def test_a_folder_that_is_gone_is_said_in_both_languages(qapp, tmp_path: Path) -> None:
    with pytest.raises(KnownError) as e:
        write_slips([slip("PD-P-ABCD2345")], tmp_path / "gone" / "slips.pdf", AT)
    assert e.value.code == "slip_save_failed" and e.value.params["path"].endswith("slips.pdf")


def test_what_the_buyer_asked_is_printed_with_its_line(qapp) -> None:  # type: ignore[no-untyped-def]
    """Engraving text (Coupang's etcInfoValues) goes on the slip under its order line, ahead of the items."""
    from PySide6.QtGui import QImage

    from packdesk.ui.barcode_sheet import TextOp
    from packdesk.ui.packing_slip import slip_layout

    plain = slip("PD-P-ABCD2345", lines=1)
    asked = Slip(plain.parcel_key, "쿠팡", plain.recipient_name, plain.zip_code, plain.address, plain.order_nos,
                 (SlipLine("25000012345101", "도자기 머그컵", "화이트", 1, plain.lines[0].items,
                           "각인 문구: 사랑해\n포장: 선물용"),))
    page = QImage(2480, 3508, QImage.Format.Format_Grayscale8)
    texts = [op.text for ops in slip_layout([asked, plain], AT)(page, 300, (2480, 3508)) for op in ops
             if isinstance(op, TextOp)]
    at = texts.index("✎ 요청: 각인 문구: 사랑해")
    assert texts[at + 1] == "✎ 요청: 포장: 선물용" and texts[at - 1].startswith("25000012345101 · 도자기 머그컵")
    assert sum(t.startswith("✎") for t in texts) == 2   # the other slip asks nothing
