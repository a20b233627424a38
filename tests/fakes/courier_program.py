"""A courier's label program (CJ대한통운's, 롯데's…), as far as PackDesk sees it: it reads PackDesk's export
sheet, issues one tracking number per parcel (rows with the same customer reference share one, as these
programs merge a 합포장's rows), and writes its result sheet the way such programs do: a title row above the
header, a 순번 and the number in front of the uploaded columns, numbers as text with dashes, as numbers
(612345678906) or as Excel floats (612345678906.0), as .xlsx or as a CSV in CP949 or UTF-8 with a BOM.

Used by the courier-sheet tests (services, screen) and end to end: nothing here touches the database.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from openpyxl import Workbook, load_workbook

from packdesk.core import tracking

NumberStyle = Literal["dashes", "number", "float", "mixed"]


@dataclass(frozen=True)
class Issued:
    reference: str                 # the customer reference the row came with (PackDesk's parcel key)
    number: str                    # the tracking number, digits only
    row: dict[str, object]         # the uploaded row, by header


def dashed(number: str) -> str:
    """6123-4567-8906 (4-4-rest), as labels and result sheets print numbers."""
    return "-".join(number[i:i + 4] for i in range(0, len(number), 4)) if len(number) > 8 else number


class CourierProgram:
    def __init__(self, courier: str = "CJGLS", reference_header: str = "고객주문번호",
                 tracking_header: str = "운송장번호", first: int = 6123_4567_000) -> None:
        self.courier = courier
        self.reference_header = reference_header
        self.tracking_header = tracking_header
        self._next = first

    def next_number(self) -> str:
        """A number this courier could have issued: the right length, and its check digit where it has one."""
        rule = tracking.rule_for(self.courier)
        length = rule.lengths[-1]
        self._next += 1
        if rule.mod7:
            return tracking.with_check_digit(str(self._next).rjust(length - 1, "1")[-(length - 1):])
        return str(self._next).rjust(length, "6")[-length:]

    def read_upload(self, export: Path) -> tuple[list[str], list[dict[str, object]]]:
        """The headers and rows of an uploaded sheet (its first worksheet, header on row 1)."""
        wb = load_workbook(export, read_only=True, data_only=True)
        try:
            rows = [list(r) for r in wb.worksheets[0].iter_rows(values_only=True)]
        finally:
            wb.close()
        headers = [str(h) for h in rows[0]]
        return headers, [dict(zip(headers, r, strict=False)) for r in rows[1:] if any(v is not None for v in r)]

    def issue(self, export: Path) -> tuple[list[str], list[Issued]]:
        headers, rows = self.read_upload(export)
        given: dict[str, str] = {}
        out = []
        for row in rows:
            ref = str(row.get(self.reference_header) or "")
            if ref not in given:
                given[ref] = self.next_number()
            out.append(Issued(ref, given[ref], row))
        return headers, out

    def _cell(self, number: str, style: NumberStyle, i: int) -> object:
        if style == "mixed":
            style = ("dashes", "number", "float")[i % 3]  # type: ignore[assignment]
        if style == "number":
            return int(number)
        if style == "float":
            return float(number)
        return dashed(number)

    def result_rows(self, headers: list[str], issued: list[Issued], style: NumberStyle) -> list[list[object]]:
        out: list[list[object]] = [["순번", self.tracking_header, *headers]]
        for i, it in enumerate(issued):
            out.append([i + 1, self._cell(it.number, style, i), *(it.row.get(h) for h in headers)])
        return out

    def write_xlsx(self, path: Path, headers: list[str], issued: list[Issued], *,
                   numbers: NumberStyle = "mixed", title: str = "운송장 출력 결과") -> Path:
        wb = Workbook()
        ws = wb.active
        assert ws is not None
        ws.title = "출력결과"
        if title:
            ws.append([title])
            ws.append([])
        for r in self.result_rows(headers, issued, numbers):
            ws.append(r)
        wb.save(path)
        return path

    def write_csv(self, path: Path, headers: list[str], issued: list[Issued], *, encoding: str = "cp949",
                  numbers: NumberStyle = "dashes", title: str = "운송장 출력 결과") -> Path:
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\r\n")
        if title:
            w.writerow([title])
        for r in self.result_rows(headers, issued, "dashes" if numbers in ("mixed", "float") else numbers):
            w.writerow(["" if v is None else v for v in r])
        path.write_bytes(buf.getvalue().encode(encoding))
        return path

    def run(self, export: Path, result: Path, fmt: Literal["xlsx", "csv-cp949", "csv-utf8-bom"] = "xlsx",
            numbers: NumberStyle = "mixed") -> list[Issued]:
        """Upload ``export``, print, save the result as ``fmt``: the issued numbers, one per row."""
        headers, issued = self.issue(export)
        if fmt == "xlsx":
            self.write_xlsx(result, headers, issued, numbers=numbers)
        else:
            self.write_csv(result, headers, issued, encoding="cp949" if fmt == "csv-cp949" else "utf-8-sig",
                           numbers=numbers)
        return issued
