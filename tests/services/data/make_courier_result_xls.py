"""Writes ``courier-result.xls``, an old-format (BIFF8) result sheet as a courier label program saves one: a
title row and a date row above the header, tracking numbers stored as numbers and as text with dashes; and
``courier-result-cells.xls``, the cell kinds a reader must get right: a summary sheet before the result sheet,
an empty first column and empty rows above the header, real date and date-time cells, a TRUE cell, a blank
cell that only has a format.

Run once; the .xls it writes is committed (no maintained library writes .xls, and PackDesk only reads it):

    python -m pip install --target /tmp/xlwt-gen xlwt
    PYTHONPATH=/tmp/xlwt-gen python tests/services/data/make_courier_result_xls.py

tests/services/test_courier_sheets.py stores the orders XLS-1001..XLS-1004 and imports the first file, and
reads the second.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import xlwt  # type: ignore[import-not-found]


def mod7(body: str) -> str:
    return f"{body}{int(body) % 7}"


def main() -> None:
    wb = xlwt.Workbook(encoding="utf-8")
    ws = wb.add_sheet("운송장출력")
    ws.write_merge(0, 0, 0, 4, "CJ대한통운 운송장 출력 내역")
    ws.write(1, 0, "출력일자: 2026-12-07")
    for col, header in enumerate(("순번", "운송장번호", "주문번호", "받는분성명", "품목명")):
        ws.write(2, col, header)
    a, b, c = mod7("61234567890"), mod7("61234567891"), mod7("61234567892")
    rows = (
        (1, float(a), "XLS-1001", "김민지", "원목 코스터 x2"),             # a number cell: 612345678906.0
        (2, f"{b[:4]}-{b[4:8]}-{b[8:]}", "XLS-1002", "박서준", "머그컵 x1"),  # text with dashes
        (3, float(c), "XLS-1003", "이도윤", "머그컵 x1"),
        (4, "", "XLS-1004", "최하은", "머그컵 x1"),                       # the program issued none
    )
    for r, values in enumerate(rows, start=3):
        for col, v in enumerate(values):
            ws.write(r, col, v)
    wb.save(str(Path(__file__).with_name("courier-result.xls")))
    cells()


def cells() -> None:
    wb = xlwt.Workbook(encoding="utf-8")
    summary = wb.add_sheet("요약")
    summary.write(0, 0, "구분")
    summary.write(0, 1, "건수")
    summary.write(1, 0, "출력")
    summary.write(1, 1, 2)
    ws = wb.add_sheet("운송장출력")
    day = xlwt.easyxf(num_format_str="yyyy-mm-dd")
    stamp = xlwt.easyxf(num_format_str="yyyy-mm-dd hh:mm")
    # rows 1-2 and column A left empty: row numbers must still be Excel's (the header is row 3)
    for col, header in enumerate(("운송장번호", "고객주문번호", "출력일", "출력시각", "재출력"), start=1):
        ws.write(2, col, header)
    ws.write(3, 1, float(mod7("61234567893")))
    ws.write(3, 2, "PD-P-CELLS001")
    ws.write(3, 3, date(2026, 12, 7), day)
    ws.write(3, 4, datetime(2026, 12, 7, 14, 30), stamp)
    ws.write(3, 5, True)
    ws.write(4, 1, "", xlwt.easyxf("font: bold on"))   # blank, formatted: no number
    ws.write(4, 2, "PD-P-CELLS002")
    ws.write(4, 3, date(2026, 12, 8), day)
    wb.save(str(Path(__file__).with_name("courier-result-cells.xls")))


if __name__ == "__main__":
    main()
