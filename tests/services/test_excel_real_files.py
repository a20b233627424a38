"""Sellers' real order sheets through the Excel import, into the database: orders behind an instruction sheet,
the courier of rows without a tracking number, postcodes saved as numbers, and phones written +82."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook
from sqlalchemy import select

from packdesk.channels import excel as xl
from packdesk.channels.sabangnet import orders_from_rows
from packdesk.core import models as m
from packdesk.core.db import Database
from packdesk.services import excel_orders as eo
from packdesk.services import orders as so

HEADERS = ("주문번호", "상품코드", "상품명", "수량", "수취인", "연락처", "우편번호", "주소", "택배사", "송장번호")
INSTRUCTIONS = (
    ("주문 엑셀 작성 안내",),
    ("1. 주문 시트에 한 행에 상품 하나씩 적어 주세요",),
    ("열", "설명"),
    ("주문번호", "같은 주문은 같은 번호"),
    ("수량", "1 이상"),
)


def row(order: str, *, phone: Any = "010-1234-5678", zip_code: Any = "06236", courier: str = "",
        tracking: str = "", code: str = "P1") -> tuple[Any, ...]:
    return (order, code, "머그컵", 1, "홍길동", phone, zip_code, "서울시 강남구 테헤란로 1", courier, tracking)


def workbook(path: Path, rows: list[tuple[Any, ...]], *, behind_instructions: bool = True) -> Path:
    """An order sheet as sellers send it: an instruction sheet first, the orders on the second."""
    wb = Workbook()
    first = wb.active
    assert first is not None
    if behind_instructions:
        first.title = "작성 안내"
        for r in INSTRUCTIONS:
            first.append(r)
        orders = wb.create_sheet("주문")
    else:
        first.title, orders = "주문", first
    orders.append(HEADERS)
    for r in rows:
        orders.append(r)
    wb.save(path)
    return path




def imported(db: Database, platform: eo.Platform, path: Path, **read: Any) -> tuple[eo.Preview, eo.ImportResult]:
    sheet = xl.read_sheet(path, **read)
    p = eo.preview_sheet(db, platform.id, sheet, xl.guess_columns(sheet.headers))
    return p, eo.import_preview(db, p, "tester")


def stored_orders(db: Database) -> dict[str, tuple[str, str]]:
    with db.session() as s:
        return {o.order_no: (o.recipient_phone, o.zip_code) for o in s.scalars(select(m.Order))}


# ------------------------------------------------------------------------------------------ 1. the sheet


def test_orders_behind_an_instruction_sheet_are_found_and_imported(db: Database, platform: eo.Platform,
                                                                   tmp_path: Path) -> None:
    path = workbook(tmp_path / "주문.xlsx", [row("A-1"), row("A-2"), row("A-3")])
    sheet = xl.read_sheet(path)
    assert (sheet.title, sheet.sheets, sheet.header_row) == ("주문", ("작성 안내", "주문"), 1)
    assert set(xl.REQUIRED) <= set(xl.guess_columns(sheet.headers))
    p, result = imported(db, platform, path)
    assert (p.new_rows, p.errors, result.new_rows) == (3, (), 3)
    assert set(stored_orders(db)) == {"A-1", "A-2", "A-3"}


def test_the_chosen_sheet_is_read_and_the_instructions_are_no_order_sheet(tmp_path: Path) -> None:
    path = workbook(tmp_path / "주문.xlsx", [row("A-1")])
    instructions = xl.read_sheet(path, sheet_name="작성 안내")
    assert instructions.title == "작성 안내" and instructions.sheets == ("작성 안내", "주문")
    with pytest.raises(xl.ExcelError) as ei:  # its columns cannot be mapped to orders
        xl.parse_rows(instructions, xl.guess_columns(instructions.headers))
    assert ei.value.code == "excel_required_unmapped"
    assert xl.read_sheet(path, sheet_name="주문").rows == xl.read_sheet(path).rows


def test_the_sheet_with_the_most_known_headers_wins_and_a_saved_mapping_counts(tmp_path: Path) -> None:
    wb = Workbook()
    summary = wb.active
    assert summary is not None
    summary.title = "요약"
    summary.append(("주문번호", "수량", "비고"))  # two known names: a summary, not the orders
    summary.append(("합계", 12, ""))
    own = wb.create_sheet("발주")
    own.append(("고객주문코드", "품목코드", "갯수", "받는이", "핸드폰", "도착지"))  # a seller's own names
    own.append(("X-1", "P1", 1, "홍길동", "010-1234-5678", "서울시"))
    wb.save(tmp_path / "own.xlsx")
    assert xl.read_sheet(tmp_path / "own.xlsx").title == "요약"  # 2 known names against 1 (핸드폰)
    hints = ("고객주문코드", "품목코드", "받는이", "도착지")  # the platform's saved columns
    assert xl.read_sheet(tmp_path / "own.xlsx", hints=hints).title == "발주"


def test_a_one_sheet_workbook_and_a_workbook_of_no_orders_read_their_first_sheet(tmp_path: Path) -> None:
    assert xl.read_sheet(workbook(tmp_path / "one.xlsx", [row("A-1")], behind_instructions=False)).title == "주문"
    wb = Workbook()
    a = wb.active
    assert a is not None
    a.title = "가"
    a.append(("메모",))
    a.append(("내용",))
    wb.create_sheet("나").append(("기타",))
    wb.save(tmp_path / "none.xlsx")
    assert xl.read_sheet(tmp_path / "none.xlsx").title == "가"


# ------------------------------------------------------------------------------------------ 2. the courier


def test_the_courier_stays_on_lines_without_a_tracking_number(db: Database, platform: eo.Platform,
                                                              tmp_path: Path) -> None:
    path = workbook(tmp_path / "c.xlsx", [row("C-1", courier="CJ대한통운"), row("C-2", courier="롯데택배"),
                                          row("C-3", courier="CJ대한통운", tracking="655012345676"), row("C-4")])
    sheet = xl.read_sheet(path)
    parsed = xl.parse_rows(sheet, xl.guess_columns(sheet.headers))
    couriers = {o.order_no: (o.lines[0].courier_code, o.lines[0].tracking_number) for o in parsed.orders}
    assert couriers == {"C-1": ("CJGLS", ""), "C-2": ("HYUNDAI", ""), "C-3": ("CJGLS", "655012345676"),
                        "C-4": ("", "")}
    p = eo.preview_sheet(db, platform.id, sheet, xl.guess_columns(sheet.headers))
    assert {o.order_no: o.lines[0].courier_code for o in p.to_store} == {"C-1": "CJGLS", "C-2": "HYUNDAI",
                                                                        "C-3": "CJGLS", "C-4": ""}


def test_an_unknown_courier_without_a_tracking_number_is_refused_in_both_languages(tmp_path: Path) -> None:
    sheet = xl.read_sheet(workbook(tmp_path / "c.xlsx", [row("C-1", courier="번개택배")]))
    parsed = xl.parse_rows(sheet, xl.guess_columns(sheet.headers))
    (e,) = parsed.errors
    assert (e.row, e.field, e.code) == (2, "courier", "excel_unknown_courier")
    assert "번개택배" in e.ko and e.en.startswith("Unknown courier")


# ------------------------------------------------------------------------------------------ 3. postcodes


def test_postcodes_saved_as_numbers_get_their_five_digits_back(db: Database, platform: eo.Platform,
                                                                tmp_path: Path) -> None:
    path = workbook(tmp_path / "z.xlsx", [row("Z-1", zip_code=4524), row("Z-2", zip_code=6236.0),
                                          row("Z-3", zip_code=12345), row("Z-4", zip_code="135-080"),
                                          row("Z-5", zip_code="04524"), row("Z-6", zip_code="4524"),
                                          row("Z-7", zip_code=135080), row("Z-8", zip_code=None)])
    p, result = imported(db, platform, path)
    assert p.errors == () and result.new_rows == 8
    assert {no: z for no, (_, z) in stored_orders(db).items()} == {
        "Z-1": "04524", "Z-2": "06236", "Z-3": "12345", "Z-4": "135-080", "Z-5": "04524", "Z-6": "04524",
        "Z-7": "135080", "Z-8": ""}


@pytest.mark.parametrize("bad", [452, 45.24, "0452", "1234567", "서울", "06236-1"])
def test_a_postcode_that_cannot_be_one_is_refused_with_a_reason(db: Database, platform: eo.Platform,
                                                                tmp_path: Path, bad: Any) -> None:
    path = workbook(tmp_path / "z.xlsx", [row("Z-1", zip_code=bad), row("Z-2")])
    p, _ = imported(db, platform, path)
    (e,) = p.errors
    assert (e.row, e.field, e.code) == (2, "zip_code", "excel_bad_zip")
    assert e.ko.startswith("우편번호는 숫자 5자리입니다") and e.en.startswith("A postcode is 5 digits")
    assert xl.cell_text(bad) in e.ko and xl.cell_text(bad) in e.en
    assert set(stored_orders(db)) == {"Z-2"}  # nothing of the refused row, the good one stored


# ------------------------------------------------------------------------------------------ 4. phones


def test_phones_written_plus_82_are_stored_domestic(db: Database, platform: eo.Platform, tmp_path: Path) -> None:
    path = workbook(tmp_path / "p.xlsx", [row("P-1", phone="+82 10-2345-6780"), row("P-2", phone="+82-10-2345-6780"),
                                          row("P-3", phone="82 10 2345 6780"), row("P-4", phone="+82 2-123-4567"),
                                          row("P-5", phone=821023456780), row("P-6", phone=1023456780),
                                          row("P-7", phone="010-9876-5432")])
    p, _ = imported(db, platform, path)
    assert p.errors == ()
    assert {no: ph for no, (ph, _) in stored_orders(db).items()} == {
        "P-1": "010-2345-6780", "P-2": "010-2345-6780", "P-3": "010-2345-6780", "P-4": "02-123-4567",
        "P-5": "010-2345-6780", "P-6": "01023456780", "P-7": "010-9876-5432"}


def test_sabangnet_and_typed_orders_store_plus_82_phones_domestic() -> None:
    rows = [{"IDX": "1", "ORDER_ID": "S-1", "ORDER_STATUS": "주문확인", "PRODUCT_ID": "P1", "SALE_CNT": "1",
             "RECEIVE_NAME": "김수취", "RECEIVE_CEL": "+82 10-2345-6780", "RECEIVE_ADDR": "서울시"}]
    (rec,) = orders_from_rows(rows)
    assert rec.recipient_phone == "010-2345-6780"
    typed = so.ManualOrder(order_no="M-1", recipient_name="홍길동", phone="+82 2-123-4567", zip_code="06236",
                           address="서울시 강남구", platform="전화 주문", country="KR",
                           lines=(so.ManualLine(item_id=1, quantity=1),))
    assert so.validate(typed).phone == "02-123-4567"
