"""Order sheets: reading (header below titles, empty rows, bad files), guessing the columns, every row check with
its row number in Korean and English, line identity, the template round trip, and the failure file that goes
back in once fixed."""

from __future__ import annotations

import itertools
import string
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook

from packdesk.channels import excel as xl
from packdesk.channels.excel import ExcelError, Sheet, guess_columns, parse_rows, read_sheet
from packdesk.core.enums import LineStatus
from packdesk.core.words.sheets import EXCEL

HEADERS = ("주문번호", "상품코드", "옵션", "상품명", "수량", "받는분", "휴대폰", "주소", "우편번호", "배송메세지",
           "택배사", "송장번호")
GOOD = ("A-1", "P1", "", "머그컵", 1, "홍길동", "010-1234-5678", "서울시 강남구 1", "06236", "", "", "")


def write(path: Path, rows: list[tuple[Any, ...]], headers: tuple[Any, ...] = HEADERS,
          above: list[tuple[Any, ...]] | None = None) -> Path:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "주문목록"
    for r in above or []:
        ws.append(r)
    ws.append(headers)
    for r in rows:
        ws.append(r)
    wb.save(path)
    return path


def row(**changes: Any) -> tuple[Any, ...]:
    values = dict(zip(HEADERS, GOOD, strict=True))
    values.update({h: changes[k] for k, h in (("order", "주문번호"), ("code", "상품코드"), ("option", "옵션"),
                                              ("qty", "수량"), ("name", "받는분"), ("phone", "휴대폰"),
                                              ("address", "주소"), ("courier", "택배사"), ("tracking", "송장번호"))
                   if k in changes})
    return tuple(values[h] for h in HEADERS)


def parsed(tmp_path: Path, rows: list[tuple[Any, ...]], **kw: Any) -> xl.Parsed:
    sheet = read_sheet(write(tmp_path / "orders.xlsx", rows, **kw))
    return parse_rows(sheet, guess_columns(sheet.headers))


def errors_by_row(p: xl.Parsed) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {}
    for e in p.errors:
        out.setdefault(e.row, []).append(e.code)
    return out


def fields(template: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(template) if f}


# ------------------------------------------------------------------------------------------------ texts


def test_every_text_has_korean_and_english_with_the_same_placeholders() -> None:
    for code, (ko, en) in EXCEL.items():
        assert ko and en and ko != en, code
        assert fields(ko) == fields(en), code
        assert any("\uac00" <= ch <= "\ud7a3" for ch in ko), f"{code}: Korean text has no Hangul"
    ko, en = xl.texts("excel_missing_required", {"field": ("수량", "Quantity")})
    assert (ko, en) == ("필수 항목이 비어 있습니다: 수량", "Required field is empty: Quantity")


# ------------------------------------------------------------------------------------------------ columns


def test_columns_are_guessed_from_korean_headers() -> None:
    headers = ["상품주문번호", "주문번호", "받는분 연락처", "받는분", "수취인 주소", "상세 주소", "받는분 우편번호",
               "구매수량", "선택옵션", "옵션명", "상품명", "판매자상품코드", "배송메세지", "택배사", "운송장번호",
               "오류 사유 / Reason"]
    assert guess_columns(headers) == {
        "order_no": "주문번호", "product_code": "판매자상품코드", "option_code": "선택옵션", "product_name": "상품명",
        "option_name": "옵션명", "quantity": "구매수량", "recipient": "받는분", "phone": "받는분 연락처",
        "zip_code": "받는분 우편번호", "address": "수취인 주소", "address_detail": "상세 주소",
        "message": "배송메세지", "courier": "택배사", "tracking_number": "운송장번호"}


def test_columns_are_guessed_from_english_headers_and_marks() -> None:
    assert guess_columns(["Order No.", "SKU", "Option", "Qty", "Recipient", "Mobile", "Address", "Zip Code",
                          "Carrier", "Tracking Number"]) == {
        "order_no": "Order No.", "product_code": "SKU", "option_code": "Option", "quantity": "Qty",
        "recipient": "Recipient", "phone": "Mobile", "zip_code": "Zip Code", "address": "Address",
        "courier": "Carrier", "tracking_number": "Tracking Number"}
    # required marks, spaces and numbered duplicates: the first of equals wins, each header used once
    assert guess_columns(["주문 번호(필수)", "수취인 연락처1", "수취인 연락처2", "수취인명*", "수량"]) == {
        "order_no": "주문 번호(필수)", "quantity": "수량", "recipient": "수취인명*", "phone": "수취인 연락처1"}
    assert guess_columns(["hotel", "비고", ""]) == {}


# ------------------------------------------------------------------------------------------------ reading


def test_header_below_title_rows_is_found_and_row_numbers_are_the_sheets(tmp_path: Path) -> None:
    path = write(tmp_path / "s.xlsx", [GOOD, (None,) * len(HEADERS), row(order="A-2")],
                 above=[("11월 25일 주문",), (), ("담당: 김",)])
    sheet = read_sheet(path)
    assert sheet.header_row == 4 and sheet.title == "주문목록" and sheet.file_name == "s.xlsx"
    assert sheet.headers == HEADERS and [r.row for r in sheet.rows] == [5, 7]  # the empty row 6 is skipped
    assert sheet.preamble[0] == ("11월 25일 주문",)
    assert read_sheet(path, header_row=4).rows == sheet.rows
    assert sheet.first_values()["받는분"] == "홍길동"


def test_duplicate_and_empty_headers_get_names_of_their_own(tmp_path: Path) -> None:
    path = write(tmp_path / "s.xlsx", [("A", "P", "x", "y", 1)], headers=("주문번호", "상품코드", "옵션", "옵션", None))
    assert read_sheet(path).headers == ("주문번호", "상품코드", "옵션", "옵션 (2)", "(E)")


def test_files_that_are_no_order_sheets_give_one_clear_error(tmp_path: Path) -> None:
    text = tmp_path / "orders.xlsx"
    text.write_text("주문번호,수량\n1,2\n", encoding="utf-8")
    with pytest.raises(ExcelError) as e:
        read_sheet(text)
    assert e.value.code == "excel_file_unreadable"
    assert e.value.ko == "엑셀 파일(.xlsx)로 읽을 수 없습니다: orders.xlsx"
    assert e.value.en == "Cannot read this as an Excel file (.xlsx): orders.xlsx"
    with pytest.raises(ExcelError) as e:
        read_sheet(write(tmp_path / "empty.xlsx", []))
    assert e.value.code == "excel_file_empty" and "empty.xlsx" in e.value.ko
    with pytest.raises(ExcelError) as e:
        read_sheet(tmp_path / "missing.xlsx")
    assert e.value.code == "excel_file_unreadable"


def test_reading_reports_progress(tmp_path: Path) -> None:
    path = write(tmp_path / "s.xlsx", [row(order=f"A-{n}") for n in range(1200)])
    seen: list[tuple[int, int]] = []
    sheet = read_sheet(path, progress=lambda done, total: seen.append((done, total)))
    assert len(sheet.rows) == 1200 and len(seen) >= 4
    assert seen[-1] == (1201, 1201) and all(a[0] < b[0] for a, b in itertools.pairwise(seen))


# ------------------------------------------------------------------------------------------------ checking


def test_good_rows_become_orders_with_their_lines(tmp_path: Path) -> None:
    p = parsed(tmp_path, [
        row(order="A-1", code="P1", option="BK", qty=2, courier="CJ대한통운", tracking="6412-3456-7890"),
        ("A-1", "P2", "", "텀블러", "3", None, None, None, None, None, "cj", 641234567886),  # blanks: the order's
        row(order="A-1", code="P1", option="BK", qty=1),            # the same product again: a line of its own
        row(order=20261125001, code=5000000001, phone=1012345678, courier="롯데", tracking="123456789013"),
    ])
    assert p.errors == () and p.rows_read == 4 and p.valid_rows == 4
    a, b = p.orders
    assert (a.order_no, a.recipient_name, a.recipient_phone, a.address) == ("A-1", "홍길동", "010-1234-5678",
                                                                             "서울시 강남구 1")
    assert [lr.product_order_id for lr in a.lines] == ["A-1|P1|BK", "A-1|P2|", "A-1|P1|BK#2"]
    first = a.lines[0]
    assert (first.quantity, first.status, first.courier_code, first.tracking_number) == (
        2, LineStatus.CONFIRMED, "CJGLS", "641234567890")  # hyphens dropped: the barcode holds the digits
    assert first.option_name == "BK"  # no option-name column: the option is its name
    assert (a.lines[1].quantity, a.lines[1].courier_code, a.lines[1].tracking_number) == (3, "CJGLS", "641234567886")
    assert a.lines[2].courier_code == "" and a.lines[2].tracking_number == ""
    assert b.order_no == "20261125001" and b.lines[0].product_code == "5000000001"
    assert b.recipient_phone == "01012345678"  # Excel dropped the leading 0 of a number cell: put back
    assert b.lines[0].courier_code == "HYUNDAI"
    assert p.row_of == {"A-1|P1|BK": 2, "A-1|P2|": 3, "A-1|P1|BK#2": 4, "20261125001|5000000001|": 5}


BAD_ROWS: list[tuple[dict[str, Any], str, str, str | None, str | None]] = [
    ({"order": None}, "excel_missing_required", "order_no", "필수 항목이 비어 있습니다: 주문번호",
     "Required field is empty: Order number"),
    ({"code": " "}, "excel_missing_required", "product_code", "필수 항목이 비어 있습니다: 상품코드",
     "Required field is empty: Product code"),
    ({"qty": None}, "excel_missing_required", "quantity", "필수 항목이 비어 있습니다: 수량",
     "Required field is empty: Quantity"),
    ({"name": ""}, "excel_missing_required", "recipient", "필수 항목이 비어 있습니다: 수취인",
     "Required field is empty: Recipient"),
    ({"phone": None}, "excel_missing_required", "phone", "필수 항목이 비어 있습니다: 연락처",
     "Required field is empty: Phone"),
    ({"address": None}, "excel_missing_required", "address", "필수 항목이 비어 있습니다: 주소",
     "Required field is empty: Address"),
    ({"phone": "010-abcd-5678"}, "excel_bad_phone", "phone", "연락처 형식이 아닙니다 (숫자 8~15자리): 010-abcd-5678",
     "Not a phone number (8 to 15 digits): 010-abcd-5678"),
    ({"phone": "123-4567"}, "excel_bad_phone", "phone", None, None),                 # 7 digits
    ({"phone": "+82 (10) 1234-5678-9999"}, "excel_bad_phone", "phone", None, None),  # 16 digits
    ({"qty": 0}, "excel_bad_quantity", "quantity", "수량은 1~1,000,000의 정수여야 합니다: 0",
     "Quantity must be a whole number from 1 to 1,000,000: 0"),
    ({"qty": -2}, "excel_bad_quantity", "quantity", None, None),
    ({"qty": 1.5}, "excel_bad_quantity", "quantity", None, None),
    ({"qty": "두 개"}, "excel_bad_quantity", "quantity", None, None),
    ({"qty": 1_000_001}, "excel_bad_quantity", "quantity", None, None),
    ({"courier": "번개택배", "tracking": "123456789"}, "excel_unknown_courier", "courier",
     "알 수 없는 택배사입니다: 번개택배", "Unknown courier: 번개택배"),
    ({"courier": "CJ", "tracking": "12#4567"}, "excel_bad_tracking", "tracking_number",
     "송장번호는 영문·숫자·하이픈(-) 6~30자입니다: 12#4567",
     "A tracking number is 6 to 30 letters, digits or hyphens: 12#4567"),
    ({"courier": "CJ", "tracking": "12345"}, "excel_bad_tracking", "tracking_number", None, None),
    ({"courier": "CJ", "tracking": "1" * 31}, "excel_bad_tracking", "tracking_number", None, None),
    ({"tracking": "123456789"}, "excel_courier_missing", "courier", "송장번호가 있으면 택배사도 적어 주세요: 123456789",
     "A tracking number needs a courier: 123456789"),
    ({"order": "A" * 65}, "excel_too_long", "order_no", "너무 깁니다 (최대 64자): 주문번호",
     "Too long (at most 64 characters): Order number"),
]


@pytest.mark.parametrize(("changes", "code", "field_name", "ko", "en"), BAD_ROWS,
                         ids=[f"{case[1].removeprefix('excel_')}-{n}" for n, case in enumerate(BAD_ROWS)])
def test_each_bad_row_is_named_with_its_row_number_and_reason(tmp_path: Path, changes: dict[str, Any], code: str,
                                                              field_name: str, ko: str | None,
                                                              en: str | None) -> None:
    p = parsed(tmp_path, [row(order="OK-1"), row(**{"order": "BAD-1", **changes}),
                          row(order="OK-2")])
    assert [rec.order_no for rec in p.orders] == ["OK-1", "OK-2"]
    assert p.error_rows == (3,)
    (e,) = p.errors
    assert (e.row, e.code, e.field) == (3, code, field_name)
    if ko is not None:
        assert (e.ko, e.en) == (ko, en)
    assert e.text_ko.startswith("3행: ") and e.text_en.startswith("Row 3: ")


def test_limits_that_are_fine(tmp_path: Path) -> None:
    p = parsed(tmp_path, [row(order="Q", qty=1_000_000), row(order="R", qty="1,000"), row(order="S", qty=2.0),
                          row(order="T", phone="+82 (10) 1234-5678", courier="EMS", tracking="EE123456789KR"),
                          row(order="U", phone="02 123 4567", courier="EMS", tracking="1" * 30)])
    assert p.errors == ()
    assert [o.lines[0].quantity for o in p.orders[:3]] == [1_000_000, 1000, 2]
    assert p.orders[3].lines[0].courier_code == "EMS" and p.orders[4].lines[0].courier_code == "EMS"


def test_several_problems_in_one_row_are_all_named(tmp_path: Path) -> None:
    p = parsed(tmp_path, [row(qty=0, phone="x", name=None)])
    assert errors_by_row(p) == {2: ["excel_missing_required", "excel_bad_phone", "excel_bad_quantity"]}


def test_an_order_with_a_bad_row_is_held_back_whole(tmp_path: Path) -> None:
    p = parsed(tmp_path, [row(order="A", code="P1"), row(order="B"), row(order="A", code="P2", qty=0),
                          row(order="A", code="P3")])
    assert [o.order_no for o in p.orders] == ["B"]
    assert errors_by_row(p) == {2: ["excel_order_has_errors"], 4: ["excel_bad_quantity"],
                                5: ["excel_order_has_errors"]}
    held = next(e for e in p.errors if e.row == 2)
    assert held.ko == "같은 주문의 다른 행(4행)에 오류가 있어 이 주문은 가져오지 않습니다"
    assert held.en == "Not imported: another row of this order (row 4) has an error"


def test_a_required_field_without_a_column_stops_the_check(tmp_path: Path) -> None:
    sheet = read_sheet(write(tmp_path / "s.xlsx", [GOOD]))
    columns = guess_columns(sheet.headers)
    del columns["phone"], columns["quantity"]
    with pytest.raises(ExcelError) as e:
        parse_rows(sheet, columns)
    assert e.value.code == "excel_required_unmapped"
    assert e.value.ko == "필수 항목의 열을 고르세요: 수량, 연락처"
    assert e.value.en == "Choose a column for the required fields: Quantity, Phone"
    with pytest.raises(ExcelError):
        parse_rows(sheet, {**columns, "phone": "없는 열", "quantity": "수량"})  # a header the sheet lacks


def test_line_keys_fit_the_column_and_stay_the_same() -> None:
    assert xl.line_key("A-1", "P", "", 1) == "A-1|P|" and xl.line_key("A-1", "P", "X", 3) == "A-1|P|X#3"
    long = xl.line_key("O" * 40, "P" * 40, "옵션" * 30, 2)
    assert len(long) <= 64 and long == xl.line_key("O" * 40, "P" * 40, "옵션" * 30, 2)
    assert long != xl.line_key("O" * 40, "P" * 40, "옵션" * 30, 3)


# ------------------------------------------------------------------------------------------------ files we write


def test_template_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "template.xlsx"
    xl.write_template(path)
    sheet = read_sheet(path)
    assert sheet.header_row == 1 and sheet.headers == tuple(f.ko for f in xl.FIELDS)
    columns = guess_columns(sheet.headers)
    assert columns == {f.key: f.ko for f in xl.FIELDS}  # every field found by its Korean name
    p = parse_rows(sheet, columns)
    assert p.errors == () and len(p.orders) == 1
    order = p.orders[0]
    assert order.address == "서울특별시 강남구 테헤란로 123 4층"
    assert order.lines[0].product_order_id == "20261125-0001|MUG-001|BK"

    wb = load_workbook(path)
    ws = wb["주문"]
    assert ws.freeze_panes == "A2"
    assert ws.column_dimensions["J"].width == 40  # the address
    assert ws["A1"].fill.fgColor.rgb.endswith(xl.REQUIRED_FILL) and ws["D1"].fill.fgColor.rgb.endswith(xl.HEADER_FILL)
    assert ws["H3"].number_format == "@"  # a phone typed later stays text: 010 keeps its 0
    assert wb.sheetnames == ["주문", "안내 Help"] and wb["안내 Help"]["A2"].value == "주문번호 / Order number"


def test_failure_file_holds_the_original_rows_and_reasons_and_goes_back_in(tmp_path: Path) -> None:
    rows = [row(order="A"), row(order="B", qty=0), row(order="C", phone="전화없음"),
            row(order="B", code="P9"), row(order="D", courier="번개", tracking="555555555553")]  # a 한진 number
    source = write(tmp_path / "orders.xlsx", rows, above=[("스마트 주문서",)])
    sheet = read_sheet(source)
    p = parse_rows(sheet, guess_columns(sheet.headers))
    assert [o.order_no for o in p.orders] == ["A"] and p.error_rows == (4, 5, 6, 7)
    out = tmp_path / "orders-오류행.xlsx"
    assert xl.write_failure_file(out, sheet, p.errors) == 4

    ws = load_workbook(out).active
    assert ws is not None
    values = [tuple(c.value for c in r) for r in ws.iter_rows()]
    assert values[0][0] == "스마트 주문서"
    assert values[1] == (*HEADERS, xl.REASON_HEADER)
    assert [v[:len(HEADERS)] for v in values[2:]] == [tuple(None if c == "" else c for c in r) for r in rows[1:]]
    reasons = [v[-1] for v in values[2:]]
    assert reasons[0] == ("4행: 수량은 1~1,000,000의 정수여야 합니다: 0 / "
                          "Row 4: Quantity must be a whole number from 1 to 1,000,000: 0")
    assert reasons[1].startswith("5행: 연락처 형식이 아닙니다") and "Row 5: Not a phone number" in reasons[1]
    assert reasons[2].startswith("6행: 같은 주문의 다른 행(4행)")
    assert "알 수 없는 택배사입니다: 번개" in reasons[3] and "Unknown courier: 번개" in reasons[3]
    assert ws.freeze_panes == "A3" and ws.column_dimensions["M"].width == 70

    # fixed in Excel (the reason column may stay), then read again: all good, the same line keys
    wb = load_workbook(out)
    ws = wb.active
    assert ws is not None
    ws["E3"], ws["G4"], ws["K6"] = 2, "010-2222-3333", "한진"
    wb.save(out)
    again = read_sheet(out)
    assert again.header_row == 2
    fixed = parse_rows(again, guess_columns(again.headers))
    assert fixed.errors == ()
    assert sorted(fixed.row_of) == ["B|P1|", "B|P9|", "C|P1|", "D|P1|"]
    assert [o.order_no for o in fixed.orders] == ["B", "C", "D"]

    # still wrong after a fix: the next failure file has the new reason in the same last column
    ws = wb.active
    assert ws is not None
    ws["K6"] = "번개"
    wb.save(out)
    again = read_sheet(out)
    second = tmp_path / "again.xlsx"
    assert xl.write_failure_file(second, again, parse_rows(again, guess_columns(again.headers)).errors) == 1
    ws = load_workbook(second).active
    assert ws is not None
    assert [c.value for c in ws[2]] == [*HEADERS, xl.REASON_HEADER]
    assert ws["A3"].value == "D" and ws["M3"].value.startswith("6행: 알 수 없는 택배사입니다: 번개")


def test_writing_to_a_folder_that_is_not_there_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ExcelError) as e:
        xl.write_template(tmp_path / "no" / "such" / "template.xlsx")
    assert e.value.code == "excel_export_failed" and "template.xlsx" in e.value.ko
    assert not list(tmp_path.iterdir())


def test_sheet_lookup_helpers() -> None:
    sheet = Sheet("f.xlsx", "t", 1, ("a", "b"), ("a", "b"), (), (xl.SheetRow(2, ("x",)),))
    assert sheet.column("b") == 1 and sheet.column("c") is None
    assert sheet.first_values() == {"a": "x", "b": ""}


def test_a_tracking_number_its_courier_cannot_have_issued_is_refused_or_warned_as_set(tmp_path: Path) -> None:
    from packdesk.core.tracking import with_check_digit

    good = with_check_digit("64123456788")
    misread = good[:-1] + str((int(good[-1]) + 1) % 10)
    rows = [row(order="A", courier="CJ대한통운", tracking=misread), row(order="B", courier="로젠", tracking="123456"),
            row(order="C", courier="CJ대한통운", tracking=good)]
    p = parsed(tmp_path, rows)
    assert errors_by_row(p) == {2: ["tracking_check_digit"], 3: ["tracking_length"]}
    assert [o.order_no for o in p.orders] == ["C"]
    refused = next(e for e in p.errors if e.row == 2)
    assert "검증 숫자" in refused.ko and "check digit" in refused.en
    sheet = read_sheet(write(tmp_path / "w.xlsx", rows))
    warned = parse_rows(sheet, guess_columns(sheet.headers), check_digit={"CJGLS": "warn"})
    assert [o.order_no for o in warned.orders] == ["A", "C"] and errors_by_row(warned) == {3: ["tracking_length"]}
