"""The courier program round trip: templates, the export of parcels waiting for a label, and the import of the
program's result sheet (.xlsx, .xls, CSV) with its preview, one-transaction bind and failure file."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import select

from packdesk.channels import excel as xl
from packdesk.channels.base import LineRecord, OrderRecord
from packdesk.core import models as m
from packdesk.core import parcels
from packdesk.core.db import Database
from packdesk.core.enums import LineStatus
from packdesk.core.tracking import with_check_digit
from packdesk.paths import AppDirs
from packdesk.services import courier_sheets as cs
from packdesk.services.collect import store_orders
from packdesk.services.excel_orders import create_platform
from tests.fakes.courier_program import CourierProgram, dashed

DATA = Path(__file__).with_name("data")
CJ = cs.STARTER_BY_ID["cj"]
NOW = datetime(2026, 12, 7, 1, 0, tzinfo=UTC)


def line(pid: str, name: str = "원목 코스터", option: str = "", qty: int = 1,
         status: LineStatus = LineStatus.CONFIRMED, tracking: str = "") -> LineRecord:
    return LineRecord(pid, f"P-{name}", option, name, option, qty, status, courier_code="CJGLS" if tracking else "",
                      tracking_number=tracking)


def order(no: str, *lines: LineRecord, recipient: str = "김민지", phone: str = "010-1234-5678",
          address: str = "서울 강남구 테헤란로 1", message: str = "") -> OrderRecord:
    return OrderRecord(no, recipient, recipient, phone, "06236", address, message, NOW, NOW,
                       lines or (line(f"{no}-1"),))


@pytest.fixture
def shop(db: Database) -> int:
    with db.session() as s:
        return create_platform(s, "자사몰").id


def store(db: Database, account: int, *records: OrderRecord) -> None:
    with db.session() as s:
        store_orders(s, account, list(records), "test")


def parcel_keys(db: Database) -> dict[str, str]:
    """product-order id -> its parcel's key."""
    with db.session() as s:
        return dict(s.execute(select(m.OrderLine.product_order_id, m.Parcel.key)
                              .join(m.Parcel, m.Parcel.id == m.OrderLine.parcel_id)).all())


def waybills(db: Database) -> dict[str, str]:
    """product-order id -> its tracking number."""
    with db.session() as s:
        return dict(s.execute(select(m.OrderLine.product_order_id, m.Waybill.tracking_number)
                              .join(m.Waybill, m.Waybill.id == m.OrderLine.waybill_id)).all())


def export(db: Database, path: Path, template: cs.Template = CJ, flt: cs.ExportFilter | None = None,
           now: datetime | None = None) -> cs.ExportResult:
    with db.session() as s:
        return cs.export_parcels(s, template, path, flt or cs.ExportFilter(), now=now)


def sheet_rows(path: Path) -> list[list[object]]:
    wb = load_workbook(path, read_only=True)
    try:
        return [list(r) for r in wb.worksheets[0].iter_rows(values_only=True)]
    finally:
        wb.close()


def read(path: Path, template: cs.Template = CJ) -> tuple[cs.ResultFile, cs.ResultColumns]:
    result = cs.read_result_file(path, template=template)
    return result, cs.guess_columns(result.sheet, template)


def preview(db: Database, path: Path, template: cs.Template = CJ, check_digit: dict[str, str] | None = None,
            account_ids: tuple[int, ...] = ()) -> cs.ImportPreview:
    result, columns = read(path, template)
    return cs.preview_file(db, template, result, columns, check_digit=check_digit, account_ids=account_ids)


def classes(p: cs.ImportPreview | cs.ImportResult) -> dict[int, str]:
    return {r.row: r.status.value for r in p.rows}


# ---------------------------------------------------------------------------------------------- templates


def test_starting_templates_are_there_without_a_file_and_edits_are_kept(dirs: AppDirs) -> None:
    path = cs.templates_file(dirs.config)
    got = cs.load_templates(path)
    assert [t.name for t in got.templates] == ["CJ대한통운", "롯데택배", "한진택배", "로젠택배", "우체국택배"]
    assert [t.courier for t in got.templates] == ["CJGLS", "HYUNDAI", "HANJIN", "KGB", "EPOST"]
    assert got.problem is None and not path.exists()
    for t in got.templates:  # every one can be exported and brings its result back by the parcel key
        assert cs.check_template(t) == t and t.header_of("parcel_key") and t.result.tracking

    edited = CJ.model_copy(update={"rows": "line", "columns": (
        *CJ.columns, cs.Column(header="운임구분", field="fixed", value="신용"))})
    cs.save_template(path, edited)
    assert path.with_name("settings.json").parent == path.parent  # beside settings.json
    again = cs.load_templates(path).get("cj")
    assert again.rows == "line" and again.columns[-1] == cs.Column(header="운임구분", field="fixed", value="신용")
    assert cs.load_templates(path).get("lotte") == cs.STARTER_BY_ID["lotte"]

    remembered = cs.ResultColumns(reference="고객번호", tracking="송장", header_row=3)
    assert cs.remember_columns(path, "cj", remembered).result == remembered
    assert cs.load_templates(path).get("cj").result == remembered and cs.load_templates(path).get("cj").rows == "line"

    assert cs.reset_template(path, "cj") == CJ
    assert cs.load_templates(path).get("cj") == CJ


@pytest.mark.parametrize(("change", "code"), [
    ({"name": "  "}, "courier_template_name_empty"),
    ({"courier": "NOPE"}, "courier_template_courier"),
    ({"columns": ()}, "courier_template_no_columns"),
    ({"columns": (cs.Column(header="고객주문번호", field="parcel_key"), cs.Column(header=" ", field="recipient"))},
     "courier_template_header_empty"),
    ({"columns": (cs.Column(header="고객주문번호", field="parcel_key"), cs.Column(header="고객주문번호",
                                                                           field="order_nos"))},
     "courier_template_header_twice"),
    ({"columns": (cs.Column(header="고객주문번호", field="parcel_key"), cs.Column(header="X", field="nope"))},
     "courier_template_field_unknown"),
    ({"columns": (cs.Column(header="받는분", field="recipient"),)}, "courier_template_no_key"),
])
def test_a_template_that_cannot_export_is_refused_and_not_saved(dirs: AppDirs, change: dict[str, object],
                                                               code: str) -> None:
    path = cs.templates_file(dirs.config)
    with pytest.raises(cs.CourierSheetError) as e:
        cs.save_template(path, CJ.model_copy(update=change))
    assert e.value.code == code and e.value.ko and e.value.en
    assert not path.exists()


def test_a_bad_templates_file_is_kept_aside_and_the_starting_templates_used(dirs: AppDirs,
                                                                           expect_warnings: object) -> None:
    path = cs.templates_file(dirs.config)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text('{"templates": [{"id": "cj", "name": "x", "courier": "CJGLS", "columns": []}]}',
                    encoding="utf-8")
    got = cs.load_templates(path)
    assert got.problem is not None and got.problem.code == "courier_templates_bad_file"
    assert got.get("cj") == CJ and path.with_name(path.name + ".bad").exists() and not path.exists()
    assert "courier_template_no_columns" in got.problem.en


# ---------------------------------------------------------------------------------------------- export


def test_export_writes_one_row_per_parcel_with_its_key_and_marks_it_exported(db: Database, shop: int,
                                                                            tmp_path: Path) -> None:
    store(db, shop,
          order("A", line("A-1", qty=2), line("A-2", "머그컵", "화이트"), message="문 앞에 두세요"),
          order("B", line("B-1")),                                   # the same buyer: 합포장 with A
          order("C", line("C-1", "머그컵", "블랙", 3), recipient="박서준", phone="01098765432"),
          order("D", line("D-1", tracking=with_check_digit("61234567890")), recipient="이도윤"),  # came with one
          order("E", recipient="최하은"))
    store(db, shop, order("E", line("E-1", status=LineStatus.CANCELLED), recipient="최하은"))  # nothing to pack now
    keys = parcel_keys(db)
    with db.session() as s:
        assert cs.count_export(s, cs.ExportFilter()) == cs.ExportCount(parcels=2, lines=4)
    out = export(db, tmp_path / "cj.xlsx", now=NOW)
    assert (out.parcels, out.rows) == (2, 2) and set(out.parcel_keys) == {keys["A-1"], keys["C-1"]}

    rows = sheet_rows(tmp_path / "cj.xlsx")
    assert rows[0] == [c.header for c in CJ.columns]
    got = {r[rows[0].index("고객주문번호")]: dict(zip(rows[0], r, strict=True)) for r in rows[1:]}
    ab = got[keys["A-1"]]
    assert ab["받는분성명"] == "김민지"
    assert ab["받는분전화번호"] == ab["받는분기타연락처"] == "010-1234-5678"   # one phone: in both columns
    assert ab["받는분우편번호"] == "06236" and ab["받는분주소(전체, 분할)"] == "서울 강남구 테헤란로 1"
    assert ab["품목명"] == "원목 코스터 x3, 머그컵(화이트) x1"                 # A's 2 and B's 1 coasters added up
    assert (ab["내품수량"], ab["박스수량"], ab["배송메세지1"]) == (4, 1, "문 앞에 두세요")
    assert got[keys["C-1"]]["품목명"] == "머그컵(블랙) x3" and got[keys["C-1"]]["받는분전화번호"] == "01098765432"
    wb = load_workbook(tmp_path / "cj.xlsx")
    ws = wb.worksheets[0]
    assert ws.cell(2, 4).number_format == "@"  # the postcode is a text cell: 06236 keeps its 0
    wb.close()

    with db.session() as s:
        exported = dict(s.execute(select(m.Parcel.key, m.Parcel.exported_at)).all())
        assert exported[keys["A-1"]] == NOW and exported[keys["C-1"]] == NOW and exported[keys["E-1"]] is None
        assert cs.count_export(s, cs.ExportFilter()).parcels == 0                # exported once: not again
        assert cs.count_export(s, cs.ExportFilter(include_exported=True)).parcels == 2
    assert export(db, tmp_path / "again.xlsx").parcels == 0
    assert sheet_rows(tmp_path / "again.xlsx") == [rows[0]]


def test_export_per_line_repeats_the_parcel_key_and_filters_by_account_and_day(db: Database, shop: int,
                                                                              tmp_path: Path) -> None:
    with db.session() as s:
        other = create_platform(s, "오픈마켓").id
    store(db, shop, order("A", line("A-1", qty=2), line("A-2", "머그컵", "화이트")))
    store(db, other, order("Z", line("Z-1")))
    keys = parcel_keys(db)
    per_line = CJ.model_copy(update={"rows": "line", "columns": (
        cs.Column(header="참조", field="parcel_key"), cs.Column(header="주문", field="order_nos"),
        cs.Column(header="상품주문", field="product_order_ids"), cs.Column(header="상품", field="items"),
        cs.Column(header="수량", field="quantity"), cs.Column(header="판매처", field="account"),
        cs.Column(header="운임", field="fixed", value="신용"))})
    today = cs.today()
    yesterday = cs.day_range(today - timedelta(days=1), today - timedelta(days=1))
    with db.session() as s:
        assert cs.count_export(s, cs.ExportFilter(*yesterday)).parcels == 0
        assert cs.count_export(s, cs.ExportFilter(*cs.day_range(today, today))).parcels == 2
    out = export(db, tmp_path / "lines.xlsx", per_line, cs.ExportFilter(*cs.day_range(today, today), (shop,)))
    assert (out.parcels, out.rows) == (1, 2)
    assert sheet_rows(tmp_path / "lines.xlsx")[1:] == [
        [keys["A-1"], "A", "A-1", "원목 코스터 x2", 2, "자사몰", "신용"],
        [keys["A-1"], "A", "A-2", "머그컵(화이트) x1", 1, "자사몰", "신용"]]
    with db.session() as s:
        assert cs.count_export(s, cs.ExportFilter(account_ids=(other,))).parcels == 1


def test_a_parcel_whose_sheet_named_another_courier_waits_for_that_couriers_template(db: Database, shop: int,
                                                                                     tmp_path: Path) -> None:
    """An order sheet's 택배사 column (no number yet) decides: the CJ template leaves the 한진 parcel out and counts
    it "for another courier"; the 한진 template takes it; a parcel naming no courier goes with any template."""
    def named(pid: str, courier: str) -> LineRecord:
        return LineRecord(pid, "P-코스터", "", "원목 코스터", "", 1, LineStatus.CONFIRMED, courier_code=courier)

    store(db, shop, order("A", named("A-1", "CJGLS")), order("H", named("H-1", "HANJIN"), recipient="박서준"),
          order("N", named("N-1", ""), recipient="이도윤"))
    keys = parcel_keys(db)
    hanjin = cs.STARTER_BY_ID["hanjin"]
    with db.session() as s:
        assert cs.count_export(s, cs.ExportFilter()) == cs.ExportCount(parcels=3, lines=3)      # no template yet
        assert cs.count_export(s, cs.ExportFilter(), "CJGLS") == cs.ExportCount(2, 2, other_courier=1)
        assert cs.count_export(s, cs.ExportFilter(), "HANJIN") == cs.ExportCount(2, 2, other_courier=1)
        assert cs.count_export(s, cs.ExportFilter(), "EPOST") == cs.ExportCount(1, 1, other_courier=2)
    out = export(db, tmp_path / "cj.xlsx", now=NOW)
    assert set(out.parcel_keys) == {keys["A-1"], keys["N-1"]}
    with db.session() as s:
        assert s.scalar(select(m.Parcel.exported_at).where(m.Parcel.key == keys["H-1"])) is None  # not marked
        assert cs.count_export(s, cs.ExportFilter(), "CJGLS") == cs.ExportCount(0, 0, other_courier=1)
    out = export(db, tmp_path / "hanjin.xlsx", hanjin, now=NOW)
    assert out.parcel_keys == (keys["H-1"],)
    assert [r[hanjin.columns.index(next(c for c in hanjin.columns if c.field == "parcel_key"))]
            for r in sheet_rows(tmp_path / "hanjin.xlsx")[1:]] == [keys["H-1"]]
    with db.session() as s:
        assert cs.count_export(s, cs.ExportFilter(), "HANJIN") == cs.ExportCount(0, 0, other_courier=0)


def test_a_file_that_cannot_be_written_marks_nothing(db: Database, shop: int, tmp_path: Path) -> None:
    store(db, shop, order("A"))
    from packdesk.channels.excel import ExcelError

    with pytest.raises(ExcelError):
        export(db, tmp_path / "no-such-folder" / "cj.xlsx")
    with db.session() as s:
        assert cs.count_export(s, cs.ExportFilter()).parcels == 1


# ---------------------------------------------------------------------------------------------- import


def test_a_result_sheet_as_the_program_writes_it_binds_every_parcel_once(db: Database, shop: int,
                                                                        tmp_path: Path) -> None:
    store(db, shop, order("A", line("A-1"), line("A-2", "머그컵")), order("B", recipient="박서준"),
          order("C", recipient="이도윤"), order("D", recipient="최하은"))
    export(db, tmp_path / "cj.xlsx")
    program = CourierProgram()
    issued = program.run(tmp_path / "cj.xlsx", tmp_path / "result.xlsx", numbers="mixed")  # dashes, int, float
    rows = sheet_rows(tmp_path / "result.xlsx")
    assert rows[0][0] == "운송장 출력 결과" and isinstance(rows[4][1], int)  # a number cell (.xls: a float)
    assert rows[3][1] == dashed(issued[0].number) and "-" in rows[3][1]

    p = preview(db, tmp_path / "result.xlsx")
    assert p.file.sheet.header_row == 3 and p.columns.reference == "고객주문번호"
    assert p.columns.tracking == "운송장번호" and p.counts[cs.RowClass.MATCHED] == 4 == p.to_bind
    assert waybills(db) == {}  # a preview writes nothing

    result = cs.import_preview(db, p, by="관리자")
    assert (result.bound, result.unchanged, result.not_bound, result.changed_since_preview) == (4, 0, 0, 0)
    keys = parcel_keys(db)
    number_of = {it.reference: it.number for it in issued}
    assert waybills(db) == {pid: number_of[key] for pid, key in keys.items()}
    with db.session() as s:
        bound = s.execute(select(m.Parcel.key, m.Parcel.waybill_source, m.Waybill.courier_code)
                          .join(m.Waybill, m.Waybill.id == m.Parcel.waybill_id)).all()
    assert {r[1] for r in bound} == {"import:result.xlsx"} and {r[2] for r in bound} == {"CJGLS"}

    again = cs.import_preview(db, preview(db, tmp_path / "result.xlsx"))  # the same file again: nothing changes
    assert (again.bound, again.unchanged, again.not_bound) == (0, 4, 0)
    assert set(classes(again).values()) == {"already"} and waybills(db) == {pid: number_of[key]
                                                                             for pid, key in keys.items()}


@pytest.mark.parametrize("fmt", ["csv-cp949", "csv-utf8-bom"])
def test_csv_results_in_cp949_and_utf8_with_bom(db: Database, shop: int, tmp_path: Path, fmt: str) -> None:
    store(db, shop, order("A"), order("B", recipient="박서준"))
    export(db, tmp_path / "cj.xlsx")
    result_path = tmp_path / "result.csv"
    issued = CourierProgram().run(tmp_path / "cj.xlsx", result_path, fmt)  # type: ignore[arg-type]
    raw = result_path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") == (fmt == "csv-utf8-bom")
    if fmt == "csv-cp949":
        raw.decode("cp949")
        with pytest.raises(UnicodeDecodeError):
            raw.decode("utf-8")
    result, columns = read(result_path)
    assert result.kind == "csv" and result.encoding == ("cp949" if fmt == "csv-cp949" else "utf-8-sig")
    assert result.sheet.headers[:3] == ("순번", "운송장번호", "받는분성명")
    p = cs.preview_file(db, CJ, result, columns)
    assert p.to_bind == 2
    cs.import_preview(db, p)
    assert sorted(waybills(db).values()) == sorted(it.number for it in issued)


def test_an_old_xls_result_matched_by_order_number(db: Database, shop: int) -> None:
    """courier-result.xls: made once by data/make_courier_result_xls.py (title and date rows, numbers stored as
    numbers and as text with dashes, a row the program issued no number for)."""
    store(db, shop, *(order(f"XLS-100{i}", recipient=f"수취인{i}") for i in range(1, 5)))
    result, columns = read(DATA / "courier-result.xls")
    assert (result.kind, result.sheets, result.sheet.header_row) == ("xls", ("운송장출력",), 3)
    assert (columns.reference, columns.order_no, columns.tracking) == ("", "주문번호", "운송장번호")
    p = cs.preview_file(db, CJ, result, columns)
    assert classes(p) == {4: "matched", 5: "matched", 6: "matched", 7: "invalid"}
    assert [r.reference for r in p.rows] == ["XLS-1001", "XLS-1002", "XLS-1003", "XLS-1004"]
    assert p.rows[3].code == "tracking_empty"
    cs.import_preview(db, p)
    assert waybills(db) == {"XLS-1001-1": with_check_digit("61234567890"),
                            "XLS-1002-1": with_check_digit("61234567891"),
                            "XLS-1003-1": with_check_digit("61234567892")}


def test_an_old_xls_keeps_excel_row_numbers_dates_and_empty_cells() -> None:
    """courier-result-cells.xls (data/make_courier_result_xls.py): the result sheet is the second, with an
    empty column A and empty rows above the header; dates are dates, as in an .xlsx; a formatted blank cell is
    empty, not an empty number."""
    result = cs.read_result_file(DATA / "courier-result-cells.xls", template=CJ, sheet_name="운송장출력")
    assert (result.kind, result.sheets, result.sheet.title) == ("xls", ("요약", "운송장출력"), "운송장출력")
    assert result.sheet.header_row == 3
    assert result.sheet.headers == ("(A)", "운송장번호", "고객주문번호", "출력일", "출력시각", "재출력")
    first, second = result.sheet.rows
    assert (first.row, second.row) == (4, 5)
    assert first.values == (None, float(with_check_digit("61234567893")), "PD-P-CELLS001", date(2026, 12, 7),
                            datetime(2026, 12, 7, 14, 30), True)
    assert second.values[:4] == (None, None, "PD-P-CELLS002", date(2026, 12, 8))
    assert set(second.values[4:]) <= {None}
    assert cs.number_text(first.values[1]) == (with_check_digit("61234567893"), "")
    assert [xl.cell_text(v) for v in first.values[3:5]] == ["2026-12-07", "2026-12-07 14:30"]
    columns = cs.guess_columns(result.sheet, CJ)
    assert (columns.reference, columns.tracking) == ("고객주문번호", "운송장번호")
    # no sheet named: the first, as xlrd read it
    assert cs.read_result_file(DATA / "courier-result-cells.xls").sheet.title == "요약"


def test_an_old_xls_is_read_by_its_content_whatever_its_name(db: Database, shop: int, tmp_path: Path) -> None:
    """A program that saves BIFF under another name (or none): the bytes decide, as for every other kind."""
    store(db, shop, order("XLS-1001"))
    for name in ("result.xlsx", "result"):
        copy = tmp_path / name
        copy.write_bytes((DATA / "courier-result.xls").read_bytes())
        result, columns = read(copy)
        assert (result.kind, result.sheet.header_row, columns.order_no) == ("xls", 3, "주문번호")
        assert classes(cs.preview_file(db, CJ, result, columns))[4] == "matched"


@pytest.mark.parametrize("cut", ["truncated", "scrambled"])
def test_a_damaged_xls_is_refused_in_both_languages(tmp_path: Path, cut: str,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    good = (DATA / "courier-result.xls").read_bytes()
    damaged = good[:len(good) // 2] if cut == "truncated" else good[:8] + bytes(range(256)) * 8
    for name in ("damaged.xls", "damaged.xlsx"):  # through calamine's own opening and through its bytes
        (tmp_path / name).write_bytes(damaged)
        with pytest.raises(cs.CourierSheetError) as e:
            cs.read_result_file(tmp_path / name)
        assert e.value.code == "courier_file_unreadable"
        assert cs.error_texts(e.value) == (f"결과 파일을 읽을 수 없습니다 (.xlsx, .xls, .csv): {name}",
                                           f"Cannot read the result file (.xlsx, .xls, .csv): {name}")
        assert "Error" in e.value.detail   # calamine's own words, for the log


def test_an_html_table_saved_as_xls_and_a_tab_separated_file_are_read(tmp_path: Path) -> None:
    page = ("<html><head><meta charset='utf-8'></head><body><table><tr><td colspan=3>운송장 출력</td></tr>"
            "<tr><th>운송장번호</th><th>고객주문번호</th><th>품목명</th></tr>"
            "<tr><td>6123-4567-8906</td><td>PD-P-ABCDEFGH</td><td>머그컵 x1</td></tr></table></body></html>")
    (tmp_path / "result.xls").write_text(page, encoding="utf-8")
    result, columns = read(tmp_path / "result.xls")
    assert (result.kind, result.sheet.header_row, columns.reference, columns.tracking) == (
        "html", 2, "고객주문번호", "운송장번호")
    assert result.sheet.rows[0].values == ("6123-4567-8906", "PD-P-ABCDEFGH", "머그컵 x1")
    (tmp_path / "result.txt").write_bytes("운송장번호\t고객주문번호\n612345678906\tPD-P-ABCDEFGH\n".encode("cp949"))
    tsv, _ = read(tmp_path / "result.txt")
    assert tsv.sheet.rows[0].values == ("612345678906", "PD-P-ABCDEFGH")


def test_a_file_that_is_no_sheet_is_refused(tmp_path: Path) -> None:
    (tmp_path / "photo.xls").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4)
    with pytest.raises(cs.CourierSheetError) as e:
        cs.read_result_file(tmp_path / "photo.xls")
    assert e.value.code == "courier_file_unreadable" and "photo.xls" in e.value.en


@pytest.mark.parametrize(("cell", "text", "problem"), [
    (612345678906, "612345678906", ""),
    (612345678906.0, "612345678906", ""),
    ("6123-4567-8906", "6123-4567-8906", ""),
    ("612345678906.0", "612345678906", ""),
    ('="612345678906"', "612345678906", ""),
    ("'612345678906", "612345678906", ""),
    ("6.12345678906E+11", "612345678906", ""),      # every digit still there
    ("6.12346E+11", "6.12346E+11", "number_scientific"),
    ("6.1234567890612E+11", "6.1234567890612E+11", "number_not_whole"),
    (6123.5, "6123.5", "number_not_whole"),
    (1.2345678901234567e18, "1234567890123456768", "number_float_digits"),
    (None, "", ""),
])
def test_numbers_as_the_programs_write_them(cell: object, text: str, problem: str) -> None:
    assert cs.number_text(cell) == (text, problem)


def test_every_row_is_classified_before_anything_is_written(db: Database, shop: int, tmp_path: Path) -> None:
    store(db, shop, order("A", recipient="가"), order("B", recipient="나"), order("C", recipient="다"),
          order("D", recipient="라"), order("E", recipient="마"), order("F", recipient="바"),
          order("G", recipient="사"), order("H", recipient="아"),
          order("W", line("W-1", tracking=with_check_digit("61234567800")), recipient="자"))   # came with one
    keys = parcel_keys(db)
    with db.session() as s:
        pid = {k: parcels.find_by_key(s, v) for k, v in keys.items()}
        parcels.bind(s, pid["B-1"], "CJGLS", with_check_digit("61234567801"), now=NOW, source="t")
        parcels.bind(s, pid["C-1"], "CJGLS", with_check_digit("61234567802"), now=NOW, source="t")
    store(db, shop, order("D", line("D-1", status=LineStatus.CANCELLED), recipient="라"))  # cancelled since
    n = {i: with_check_digit(f"612345679{i:02d}") for i in range(20)}
    bad_digit = n[1][:-1] + str((int(n[1][-1]) + 1) % 10)
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["CJ대한통운 출력 결과"])
    ws.append(["순번", "운송장번호", "고객주문번호", "주문번호"])
    rows = [
        (n[0], keys["A-1"], ""),                          # 3 matched
        (n[0], keys["A-1"], ""),                          # 4 repeat: the same parcel and number again
        (with_check_digit("61234567801"), keys["B-1"], ""),  # 5 already had this number
        ("", "PD-P-ZZZZZZZZ", ""),                        # 6 unknown key
        ("", "", "NO-SUCH-ORDER"),                        # 7 unknown order number
        ("", "", ""),                                     # 8 (only 순번): no reference at all
        (bad_digit, keys["E-1"], ""),                     # 9 check digit: refused
        ("61234", keys["E-1"], ""),                       # 10 wrong length
        ("6.12346E+11", keys["E-1"], ""),                 # 11 scientific notation that lost digits
        (with_check_digit("61234567802"), keys["F-1"], ""),  # 12 number of parcel C
        (with_check_digit("61234567800"), keys["G-1"], ""),  # 13 order W's own waybill
        (n[2], keys["C-1"], ""),                          # 14 parcel has another number
        (n[3], keys["D-1"], ""),                          # 15 all its lines cancelled
        (n[4], "", "H"),                                  # 16 matched by order number
        (n[0], keys["E-1"], ""),                          # 17 row 3 gave this number to parcel A
        (n[5], keys["A-1"], ""),                          # 18 row 3 gave parcel A another number
    ]
    for i, (number, key, order_no) in enumerate(rows, start=1):
        ws.append([i, number, key, order_no])
    wb.save(tmp_path / "result.xlsx")
    p = preview(db, tmp_path / "result.xlsx")
    assert classes(p) == {3: "matched", 4: "repeat", 5: "already", 6: "unknown", 7: "unknown", 8: "unknown",
                          9: "invalid", 10: "invalid", 11: "invalid", 12: "used", 13: "used", 14: "has_other",
                          15: "cancelled", 16: "matched", 17: "used", 18: "has_other"}
    code = {r.row: r.code for r in p.rows}
    assert code == {3: "", 4: "file_repeat", 5: "", 6: "ref_unknown", 7: "ref_unknown", 8: "ref_empty",
                    9: "tracking_check_digit", 10: "tracking_length", 11: "number_scientific", 12: "tracking_used",
                    13: "tracking_used", 14: "parcel_has_waybill", 15: "parcel_cancelled", 16: "",
                    17: "file_number_twice", 18: "file_conflict"}
    by_row = {r.row: r for r in p.rows}
    assert by_row[12].params["used_by"] == keys["C-1"] and by_row[13].params["used_by"] == "W"
    assert by_row[16].reference == "H" and by_row[16].parcel_key == keys["H-1"]
    assert by_row[14].reason == (f"이 택배는 이미 송장번호 {with_check_digit('61234567802')}이(가) 있습니다 "
                                 f"(새 번호 {n[2]})",
                                 f"This parcel already has tracking number {with_check_digit('61234567802')} "
                                 f"(new: {n[2]})")
    assert by_row[10].reason[1] == "CJGLS tracking numbers have 10, 12 digits (this one: 5, 61234)"
    assert p.to_bind == 2 and len(p.failures) == 12
    assert waybills(db) == {"B-1": with_check_digit("61234567801"), "C-1": with_check_digit("61234567802"),
                            "W-1": with_check_digit("61234567800")}

    # the failure file: the rows not bound, as they were, with the reason in Korean and English
    written = cs.write_failure_file(tmp_path / "failed.xlsx", p.file, p.failures)
    out = sheet_rows(tmp_path / "failed.xlsx")
    assert written == 12 and out[0] == ["CJ대한통운 출력 결과", None, None, None, None]
    assert out[1] == ["순번", "운송장번호", "고객주문번호", "주문번호", "오류 사유 / Reason"]
    assert [r[0] for r in out[2:]] == [4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 15, 16]  # 순번 = row - 2
    assert out[2][4] == ("6행: 알 수 없는 참조 — PackDesk에 없는 참조입니다: PD-P-ZZZZZZZZ / "
                         "Row 6: Unknown reference — Not a parcel PackDesk knows: PD-P-ZZZZZZZZ")
    assert out[8][4].startswith("12행: 다른 택배의 번호 — 이미 다른 택배(") and "Number on another parcel" in out[8][4]

    result = cs.import_preview(db, p)
    assert (result.bound, result.unchanged, result.not_bound) == (2, 2, 12)
    got = waybills(db)
    assert got["A-1"] == n[0] and got["H-1"] == n[4] and "E-1" not in got and "D-1" not in got


def test_a_warn_mode_number_is_bound_with_a_warning(db: Database, shop: int, tmp_path: Path) -> None:
    store(db, shop, order("A"))
    key = parcel_keys(db)["A-1"]
    good = with_check_digit("61234567890")
    off = good[:-1] + str((int(good[-1]) + 1) % 10)
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["운송장번호", "고객주문번호"])
    ws.append([off, key])
    wb.save(tmp_path / "result.xlsx")
    assert classes(preview(db, tmp_path / "result.xlsx")) == {2: "invalid"}
    p = preview(db, tmp_path / "result.xlsx", check_digit={"CJGLS": "warn"})
    assert classes(p) == {2: "matched"} and p.warnings == 1 and p.rows[0].code == "warn_check_digit"
    assert p.rows[0].reason[0].startswith("검증 숫자가 맞지 않지만")
    result = cs.import_preview(db, p)
    assert result.bound == 1 and result.warnings == 1 and waybills(db) == {"A-1": off}


def test_a_number_bound_elsewhere_after_the_preview_is_reported_and_the_rest_bound(db: Database, shop: int,
                                                                                   tmp_path: Path) -> None:
    store(db, shop, order("A"), order("B", recipient="박서준"))
    export(db, tmp_path / "cj.xlsx")
    issued = CourierProgram().run(tmp_path / "cj.xlsx", tmp_path / "result.xlsx")
    p = preview(db, tmp_path / "result.xlsx")
    assert p.to_bind == 2
    with db.session() as s:  # meanwhile, at a station, parcel A gets a pre-printed label
        parcels.bind(s, parcels.find_by_key(s, issued[0].reference) or 0, "CJGLS",
                     with_check_digit("61234567999"), now=NOW, source="station:2")
    result = cs.import_preview(db, p)
    assert (result.bound, result.not_bound, result.changed_since_preview) == (1, 1, 1)
    assert result.failures[0].code == "parcel_has_waybill" and result.failures[0].parcel_key == issued[0].reference
    assert waybills(db)["B-1"] == issued[1].number


def test_account_filter_keeps_other_accounts_parcels_out(db: Database, shop: int, tmp_path: Path) -> None:
    with db.session() as s:
        other = create_platform(s, "오픈마켓").id
    store(db, shop, order("A"))
    store(db, other, order("A"))  # the same order number in another account
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["운송장번호", "주문번호"])
    ws.append([with_check_digit("61234567890"), "A"])
    wb.save(tmp_path / "result.xlsx")
    p = preview(db, tmp_path / "result.xlsx")
    assert classes(p) == {2: "unknown"} and p.rows[0].code == "ref_ambiguous"
    p = preview(db, tmp_path / "result.xlsx", account_ids=(other,))
    assert classes(p) == {2: "matched"}


def test_missing_columns_are_asked_for(db: Database, shop: int, tmp_path: Path) -> None:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["받는분성명", "품목명"])
    ws.append(["김민지", "머그컵 x1"])
    wb.save(tmp_path / "result.xlsx")
    result, columns = read(tmp_path / "result.xlsx")
    with pytest.raises(cs.CourierSheetError) as e:
        cs.preview_file(db, CJ, result, columns)
    assert e.value.code == "courier_columns_missing"
    assert e.value.ko == "열을 고르세요: 택배 키 또는 주문번호, 송장번호"
    assert e.value.en == "Choose the columns: parcel key or order number, tracking number"


def test_no_buyer_data_in_the_log(db: Database, shop: int, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    store(db, shop, order("A", recipient="홍길동", address="비밀시 비밀구 1", message="경비실에 맡겨주세요"))
    export(db, tmp_path / "cj.xlsx")
    CourierProgram().run(tmp_path / "cj.xlsx", tmp_path / "result.xlsx")
    p = preview(db, tmp_path / "result.xlsx")
    cs.import_preview(db, p, by="관리자")
    cs.write_failure_file(tmp_path / "f.xlsx", p.file, p.rows)
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "courier export" in text and "courier import" in text
    for secret in ("홍길동", "010-1234-5678", "비밀시", "경비실"):
        assert secret not in text


def test_templates_file_is_json_a_person_can_read(dirs: AppDirs) -> None:
    path = cs.templates_file(dirs.config)
    cs.save_template(path, CJ.model_copy(update={"name": "CJ 계약"}))
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert doc["version"] == 1 and doc["templates"][0]["name"] == "CJ 계약"
    assert doc["templates"][0]["columns"][0] == {"header": "받는분성명", "field": "recipient", "value": ""}
