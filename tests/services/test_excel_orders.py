"""Orders from Excel against the database: platforms and their saved columns, the preview's counts, the import
as a collection run, re-imports that change nothing, the fixed failure file, tracking numbers added later, the
two exports, and a packed sheet order that queues no dispatch."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from packdesk.channels import excel as xl
from packdesk.channels.demo import BARCODE
from packdesk.core import models as m
from packdesk.core.db import Database
from packdesk.core.enums import ChannelKind, LineStatus, RunStatus
from packdesk.core.station import Msg
from packdesk.services import excel_orders as eo
from packdesk.services.collect import CollectCounts, begin_run, end_run
from packdesk.services.excel_orders import PlatformError
from tests.services.test_station_service import Rig

HEADERS = ("주문번호", "상품코드", "옵션", "상품명", "수량", "수취인", "연락처", "주소", "택배사", "송장번호")


def order_row(order: str, code: str = "P1", option: str = "", qty: Any = 1, phone: Any = "010-1234-5678",
              courier: str = "", tracking: str = "", name: str = "홍길동", product: str = "머그컵") -> tuple[Any, ...]:
    return (order, code, option, product, qty, name, phone, "서울시 강남구 테헤란로 1", courier, tracking)


def write(path: Path, rows: list[tuple[Any, ...]], headers: tuple[str, ...] = HEADERS) -> Path:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(headers)
    for r in rows:
        ws.append(r)
    wb.save(path)
    return path




def preview_file(db: Database, platform: eo.Platform, path: Path) -> eo.Preview:
    sheet = xl.read_sheet(path)
    return eo.preview_sheet(db, platform.id, sheet, xl.guess_columns(sheet.headers))


def snapshot(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    """Every stored row the import touches, ids and update times included: 'nothing changed' means equal."""
    with db.session() as s:
        return {
            "orders": [tuple(r) for r in s.execute(select(m.Order.id, m.Order.order_no, m.Order.updated_at))],
            "lines": [tuple(r) for r in s.execute(select(m.OrderLine.id, m.OrderLine.product_order_id,
                                                         m.OrderLine.waybill_id, m.OrderLine.status,
                                                         m.OrderLine.updated_at))],
            "waybills": [tuple(r) for r in s.execute(select(m.Waybill.id, m.Waybill.tracking_number))],
            "history": [tuple(r) for r in s.execute(select(m.LineStatusChange.id))],
            "products": [tuple(r) for r in s.execute(select(m.SalesProduct.id, m.SalesProduct.product_code))],
        }


def lines(db: Database, account_id: int) -> dict[str, tuple[Any, ...]]:
    L, W = m.OrderLine, m.Waybill
    with db.session() as s:
        return {r.product_order_id: (r.quantity, r.status, r.courier_code, r.tracking_number) for r in s.execute(
            select(L.product_order_id, L.quantity, L.status, W.courier_code, W.tracking_number)
            .outerjoin(W, W.id == L.waybill_id).where(L.account_id == account_id))}


# ------------------------------------------------------------------------------------------------ platforms


def test_platforms_are_excel_accounts_with_their_columns_saved(db: Database, platform: eo.Platform) -> None:
    with db.session() as s:
        assert [(p.name, dict(p.columns), p.header_row) for p in eo.list_platforms(s)] == [("자사몰 수기", {}, None)]
        acc = s.get_one(m.ChannelAccount, platform.id)
        assert acc.kind is ChannelKind.EXCEL and acc.active
        acc.options = json.dumps({"columns": {}, "memo": "keep me"})
    with db.session() as s:
        saved = eo.save_mapping(s, platform.id, {"order_no": "주문번호", "phone": "HP", "quantity": None}, 3)
    assert saved.header_row == 3 and saved.columns["order_no"] == "주문번호" and saved.columns["quantity"] == ""
    with db.session() as s:
        options = json.loads(s.get_one(m.ChannelAccount, platform.id).options)
        assert options["memo"] == "keep me" and options["header_row"] == 3
        assert set(options["columns"]) == set(xl.BY_KEY) and options["columns"]["phone"] == "HP"
        assert eo.get_platform(s, platform.id).columns == saved.columns
        demo = s.scalar(select(m.ChannelAccount.id).where(m.ChannelAccount.kind == ChannelKind.DEMO))
        assert demo is None  # a plain database: the only account is ours


@pytest.mark.parametrize(("name", "code"), [("  ", "excel_platform_name_empty"),
                                            ("자사몰  수기", "excel_platform_exists"),
                                            ("가" * 101, "excel_platform_name_long")])
def test_bad_platform_names_are_refused(db: Database, platform: eo.Platform, name: str, code: str) -> None:
    with db.session() as s, pytest.raises(PlatformError) as e:
        eo.create_platform(s, name)
    assert e.value.code == code and e.value.ko and e.value.en and e.value.ko != e.value.en
    with db.session() as s:
        assert len(eo.list_platforms(s)) == 1


def test_a_platform_of_another_kind_is_not_a_platform(demo_db: Database) -> None:
    with demo_db.session() as s:
        demo = s.scalar(select(m.ChannelAccount.id))
        assert demo is not None
        with pytest.raises(PlatformError) as e:
            eo.get_platform(s, demo)
        assert e.value.code == "excel_platform_unknown"
        assert eo.list_platforms(s) == []


def test_saved_columns_come_first_then_the_guess(tmp_path: Path) -> None:
    sheet = xl.read_sheet(write(tmp_path / "s.xlsx", [order_row("A")],
                                headers=("주문번호", "상품코드", "옵션", "상품명", "수량", "수취인", "HP", "주소",
                                         "택배사", "송장번호")))
    guessed = xl.guess_columns(sheet.headers)
    assert "phone" not in guessed
    saved = eo.Platform(1, "p", {"phone": "HP", "option_code": "", "tracking_number": "Gone"}, 1)
    columns = eo.columns_for(sheet, saved, guessed)
    assert columns["phone"] == "HP"                   # saved, and in the sheet
    assert "option_code" not in columns               # saved as "no column": stays so
    assert columns["tracking_number"] == "송장번호"     # saved header gone from this sheet: the guess
    assert eo.columns_for(sheet, None, guessed) == guessed


# ------------------------------------------------------------------------------------------------ preview + import


def test_preview_counts_new_errors_and_not_linked(db: Database, platform: eo.Platform, tmp_path: Path) -> None:
    with db.session() as s:
        item = m.Item(sku="MUG", name="머그")
        s.add(item)
        s.flush()
        s.add(m.ProductMapping(account_id=platform.id, product_code="P1", option_code="", item_id=item.id))
    path = write(tmp_path / "orders.xlsx", [
        order_row("A", "P1"), order_row("A", "P2"), order_row("B", "P2", "L"), order_row("C", "P3", qty=0),
        order_row("D", "P2", phone="없음"), order_row("E", "P4", courier="CJ대한통운", tracking="111122223332"),
    ])
    p = preview_file(db, platform, path)
    assert (p.rows_read, p.new_rows, p.waybill_added, p.duplicates, p.importable) == (6, 4, 0, 0, 4)
    assert p.error_rows == (5, 6) and [e.code for e in p.errors] == ["excel_bad_quantity", "excel_bad_phone"]
    assert (p.not_linked_rows, p.not_linked_products) == (3, 3)  # P2, P2/L, P4: P1 is linked
    assert [o.order_no for o in p.to_store] == ["A", "B", "E"] and p.file_name == "orders.xlsx"
    assert snapshot(db)["orders"] == []  # a preview writes nothing


def test_import_stores_orders_lines_waybills_products_and_a_run(db: Database, platform: eo.Platform,
                                                               tmp_path: Path) -> None:
    path = write(tmp_path / "orders.xlsx", [
        order_row("A", "P1", "BK", qty=2, courier="CJ대한통운", tracking="6412-3456-7890"),
        order_row("A", "P2", courier="cj", tracking="641234567890"),   # same parcel
        order_row("B", "P1", "BK", courier="롯데", tracking="999988887774"),
        order_row("C", "P3", qty=0),
    ])
    p = preview_file(db, platform, path)
    seen: list[tuple[int, int]] = []
    result = eo.import_preview(db, p, "김민수", progress=lambda done, total: seen.append((done, total)))
    assert (result.new_rows, result.waybill_added, result.duplicates, result.error_rows) == (3, 0, 0, 1)
    assert seen == [(3, 3)]  # lines stored of lines to store
    assert lines(db, platform.id) == {
        "A|P1|BK": (2, LineStatus.CONFIRMED, "CJGLS", "641234567890"),
        "A|P2|": (1, LineStatus.CONFIRMED, "CJGLS", "641234567890"),
        "B|P1|BK": (1, LineStatus.CONFIRMED, "HYUNDAI", "999988887774"),
    }
    with db.session() as s:
        order = s.scalar(select(m.Order).where(m.Order.order_no == "A"))
        assert order is not None and (order.recipient_name, order.recipient_phone) == ("홍길동", "010-1234-5678")
        assert s.scalar(select(func.count()).select_from(m.Waybill)) == 2
        products = {(sp.product_code, sp.option_code, sp.product_name, sp.is_new)
                    for sp in s.scalars(select(m.SalesProduct).where(m.SalesProduct.account_id == platform.id))}
        assert products == {("P1", "BK", "머그컵", True), ("P2", "", "머그컵", True)}  # to link in Product links
        run = s.get_one(m.CollectionRun, result.run_id)
        assert (run.account_id, run.trigger, run.started_by, run.status) == (platform.id, "excel", "김민수",
                                                                              RunStatus.SUCCEEDED)
        assert run.finished_at is not None and run.window_from is None
        assert (run.orders, run.lines, run.registered, run.tracking_registered) == (2, 3, 3, 3)
        sources = set(s.scalars(select(m.LineStatusChange.source)))
        assert sources == {f"excel:{result.run_id}"}


def test_a_courier_named_without_a_tracking_number_is_kept_on_the_line(db: Database, platform: eo.Platform,
                                                                       tmp_path: Path) -> None:
    """The 택배사 column of a row with no number yet decides the courier export later (services/courier_sheets):
    kept on the line; the rows naming none keep none; one buyer's orders naming two couriers are two boxes."""
    path = write(tmp_path / "orders.xlsx", [
        order_row("A", "P1", courier="한진"), order_row("B", "P2", courier="cj"), order_row("C", "P3"),
        order_row("D", "P4", courier="CJ대한통운", tracking="641234567890")])
    p = preview_file(db, platform, path)
    assert p.errors == () and p.new_rows == 4
    eo.import_preview(db, p, "김민수")
    L = m.OrderLine
    with db.session() as s:
        got = {r.product_order_id: (r.courier_code, r.parcel_id is not None, r.waybill_id is not None)
               for r in s.execute(select(L.product_order_id, L.courier_code, L.parcel_id, L.waybill_id))}
        n_parcels = s.scalar(select(func.count()).select_from(m.Parcel))
    assert got == {"A|P1|": ("HANJIN", True, False), "B|P2|": ("CJGLS", True, False), "C|P3|": (None, True, False),
                   "D|P4|": ("CJGLS", False, True)}
    assert n_parcels == 2   # 홍길동's orders: a 한진 box and a CJ box (C, naming none, joins one of them)


def test_a_sheet_with_long_names_and_addresses_is_imported_whole(db: Database, platform: eo.Platform,
                                                                 tmp_path: Path) -> None:
    """The same on both engines: a product name or an address over 300 characters is kept whole (it was a row
    error, and an address with its detail was cut at 300). Control characters cannot be written into a sheet
    (XML has no place for them); the store cleans them like any order's (tests/services/test_collect_trust.py)."""
    long_name, long_address = "대용량 머그컵" * 50, "서울특별시 " * 80 + "끝"
    row = list(order_row("L-1", product=long_name))
    row[7] = long_address
    p = preview_file(db, platform, write(tmp_path / "long.xlsx", [tuple(row)]))
    assert p.errors == () and p.new_rows == 1
    result = eo.import_preview(db, p, "김민수")
    assert (result.counts.orders, result.counts.set_aside) == (1, 0)
    with db.session() as s:
        assert s.scalars(select(m.Order.address)).one() == long_address
        assert s.scalars(select(m.OrderLine.product_name)).one() == long_name


def test_importing_the_same_file_again_changes_nothing(db: Database, platform: eo.Platform, tmp_path: Path) -> None:
    path = write(tmp_path / "orders.xlsx", [order_row("A", "P1"), order_row("A", "P1"), order_row("B", "P2",
                                            courier="한진", tracking="555544443333")])
    eo.import_preview(db, preview_file(db, platform, path), "김민수")
    before = snapshot(db)
    assert len(before["lines"]) == 3  # the repeated product is a line of its own (A|P1|#2)
    again = preview_file(db, platform, path)
    assert (again.new_rows, again.waybill_added, again.duplicates, again.importable) == (0, 0, 3, 0)
    result = eo.import_preview(db, again, "김민수")
    assert (result.new_rows, result.duplicates, result.counts.lines) == (0, 3, 0)
    assert snapshot(db) == before
    with db.session() as s:
        runs = s.scalars(select(m.CollectionRun).order_by(m.CollectionRun.id)).all()
        assert [(r.trigger, r.registered) for r in runs] == [("excel", 3), ("excel", 0)]


def test_the_fixed_failure_file_imports_only_what_was_missing(db: Database, platform: eo.Platform,
                                                             tmp_path: Path) -> None:
    source = write(tmp_path / "orders.xlsx", [
        order_row("A", "P1"), order_row("B", "P1"), order_row("B", "P1", qty="많이"), order_row("C", "P2"),
        order_row("D", "P3", phone="010"),
    ])
    sheet = xl.read_sheet(source)
    first = eo.preview_sheet(db, platform.id, sheet, xl.guess_columns(sheet.headers))
    assert first.new_rows == 2 and first.error_rows == (3, 4, 6)
    eo.import_preview(db, first, "김민수")
    failures = tmp_path / "orders-오류행.xlsx"
    assert xl.write_failure_file(failures, sheet, first.errors) == 3

    wb = load_workbook(failures)
    ws = wb.active
    assert ws is not None
    assert [c.value for c in ws[1]] == [*HEADERS, xl.REASON_HEADER]
    ws["E3"], ws["G4"] = 3, "010-5555-6666"  # the person fixes the quantity and the phone
    wb.save(failures)
    fixed = preview_file(db, platform, failures)
    assert fixed.errors == () and (fixed.new_rows, fixed.duplicates) == (3, 0)
    eo.import_preview(db, fixed, "김민수")
    assert lines(db, platform.id) == {pid: (qty, LineStatus.CONFIRMED, None, None) for pid, qty in (
        ("A|P1|", 1), ("C|P2|", 1), ("B|P1|", 1), ("B|P1|#2", 3), ("D|P3|", 1))}
    # the whole original, fixed the same way, now brings nothing new
    wb = load_workbook(source)
    ws = wb.active
    assert ws is not None
    ws["E4"], ws["G6"] = 3, "010-5555-6666"
    wb.save(source)
    assert preview_file(db, platform, source).importable == 0


def test_a_duplicate_row_with_a_tracking_number_gives_the_line_its_waybill(db: Database, platform: eo.Platform,
                                                                          tmp_path: Path) -> None:
    eo.import_preview(db, preview_file(db, platform, write(tmp_path / "day1.xlsx", [
        order_row("A", "P1"), order_row("B", "P1", courier="CJ", tracking="100020003005")])), "김민수")
    # the next day the seller's sheet has the tracking numbers
    day2 = write(tmp_path / "day2.xlsx", [order_row("A", "P1", courier="우체국", tracking="6000500040003"),
                                          order_row("B", "P1", courier="CJ", tracking="777788889990"),
                                          order_row("C", "P9")])
    p = preview_file(db, platform, day2)
    assert (p.new_rows, p.waybill_added, p.duplicates) == (1, 1, 1)  # B keeps the waybill it has
    result = eo.import_preview(db, p, "김민수")
    assert (result.waybill_added, result.counts.tracking_registered) == (1, 1)
    assert lines(db, platform.id) == {
        "A|P1|": (1, LineStatus.CONFIRMED, "EPOST", "6000500040003"),
        "B|P1|": (1, LineStatus.CONFIRMED, "CJGLS", "100020003005"),
        "C|P9|": (1, LineStatus.CONFIRMED, None, None),
    }
    assert preview_file(db, platform, day2).importable == 0


def test_a_failed_store_fails_the_run(db: Database, platform: eo.Platform, tmp_path: Path,
                                      monkeypatch: pytest.MonkeyPatch, expect_warnings: Any) -> None:
    p = preview_file(db, platform, write(tmp_path / "orders.xlsx", [order_row("A")]))

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise OSError("disk gone")

    monkeypatch.setattr(eo, "store_orders_in_chunks", broken)
    with pytest.raises(OSError):
        eo.import_preview(db, p, "김민수")
    with db.session() as s:
        run = s.scalars(select(m.CollectionRun)).one()
        assert run.status is RunStatus.FAILED and run.finished_at is not None and "disk gone" in run.error_detail


# ------------------------------------------------------------------------------------------------ exports


def header_texts(ws: Any) -> list[str]:
    return [c.value for c in ws[1]]


def test_order_export_lists_lines_with_couriers_and_tracking(demo_db: Database, tmp_path: Path) -> None:
    with demo_db.session() as s:
        platform = eo.create_platform(s, "자사몰")
    eo.import_preview(demo_db, preview_file(demo_db, platform, write(tmp_path / "o.xlsx", [
        order_row("X-1", "P1", "BK", qty=2, courier="CJ대한통운", tracking="641234567890", phone=1012345678),
        order_row("X-2", "P2")])), "김민수")
    path = tmp_path / "export" / "orders.xlsx"
    path.parent.mkdir()
    with demo_db.session() as s:
        line = s.scalar(select(m.OrderLine).where(m.OrderLine.product_order_id == "X-1|P1|BK"))
        assert line is not None
        line.status, line.packed_at = LineStatus.PACKED, datetime(2026, 11, 25, 1, 30, tzinfo=UTC)
    with demo_db.session() as s:
        assert eo.export_orders(s, path, account_id=platform.id) == 2
    wb = load_workbook(path)
    ws = wb.active
    assert ws is not None and ws.title == "주문"
    assert header_texts(ws) == [f"{ko} / {en}" for ko, en, _ in eo.ORDER_COLUMNS]
    assert header_texts(ws)[:2] == ["판매처 / Platform", "주문번호 / Order no."]
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref == "A1:N3"
    assert [ws.column_dimensions[c].width for c in "ABF"] == [18, 20, 44]
    first = [c.value for c in ws[2]]
    assert first == ["자사몰", "X-1", "홍길동", "01012345678", None, "서울시 강남구 테헤란로 1", "P1", "머그컵", "BK",
                     2, "포장 완료 / Packed", "CJ대한통운", "641234567890", datetime(2026, 11, 25, 10, 30)]  # KST
    assert ws["M2"].number_format == "@" and ws["N2"].number_format == eo.DATE_FORMAT
    assert [c.value for c in ws[3]][10:13] == ["포장 대기 / Ready to pack", None, None]
    with demo_db.session() as s:  # every account, and a period
        assert eo.export_orders(s, path) > 2
        assert eo.export_orders(s, path, since=datetime.now(UTC) + timedelta(days=1)) == 0


def test_run_export_has_the_seven_counts(demo_db: Database, tmp_path: Path) -> None:
    with demo_db.session() as s:
        platform = eo.create_platform(s, "자사몰")
    eo.import_preview(demo_db, preview_file(demo_db, platform, write(tmp_path / "o.xlsx", [order_row("X-1")])),
                      "김민수")
    path = tmp_path / "runs.xlsx"
    with demo_db.session() as s:
        assert eo.export_runs(s, path) == 2  # the demo's startup run and the import
        assert eo.export_runs(s, tmp_path / "one.xlsx", account_id=platform.id) == 1
    ws = load_workbook(path).active
    assert ws is not None and ws.title == "수집 기록"
    assert header_texts(ws) == [f"{ko} / {en}" for ko, en, _ in eo.RUN_COLUMNS]
    assert header_texts(ws)[7:14] == ["주문 / Orders", "상품 / Lines", "신규 등록 / New", "취소 요청 / Cancel req.",
                                      "취소 / Cancelled", "송장 등록 / Tracking reg.", "송장 전송 / Tracking sent"]
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref == "A1:O3" and ws.column_dimensions["B"].width == 20
    newest = [c.value for c in ws[2]]
    assert newest[1:4] == ["자사몰", "엑셀 / Excel", "김민수"] and newest[6] == "완료 / Done"
    assert newest[7:14] == [1, 1, 1, 0, 0, 0, 0] and isinstance(newest[0], datetime)
    assert [c.value for c in ws[3]][2] == "시작 / Startup"


def test_run_export_says_a_runs_error_in_words(demo_db: Database, tmp_path: Path) -> None:
    """The error column reads as the collection window does, in both languages: never a bare code."""
    with demo_db.session() as s:
        platform = eo.create_platform(s, "자사몰")
    run_id = begin_run(demo_db, account_id=platform.id, trigger="manual", started_by="김민수",
                       status=RunStatus.RUNNING)
    end_run(demo_db, run_id, RunStatus.FAILED, "channel_auth", "401 from the API",
            params={"message": "(키가 틀립니다)", "hint": ""})
    run_id = begin_run(demo_db, account_id=platform.id, trigger="manual", started_by="김민수",
                       status=RunStatus.RUNNING)
    end_run(demo_db, run_id, RunStatus.SUCCEEDED, "orders_set_aside", "X-9: too long",
            CollectCounts(orders=3, set_aside=2))
    path = tmp_path / "runs.xlsx"
    with demo_db.session() as s:
        assert eo.export_runs(s, path, account_id=platform.id) == 2
    ws = load_workbook(path).active
    assert ws is not None
    errors = [row[14].value for row in ws.iter_rows(min_row=2)]
    assert errors == [
        "주문 2건은 데이터베이스에 넣을 수 없어 보류했습니다 (나머지는 저장됨) — 주문번호와 이유는 오류 내용을 "
        "보세요 / 2 orders could not be stored and were set aside (the rest were stored) — the error detail "
        "names them and why",
        "마켓 인증 실패 — 계정 정보를 확인하세요 (키가 틀립니다) / Marketplace login failed — check the account "
        "(키가 틀립니다)"]


def test_an_export_that_cannot_be_written_is_a_clear_error(db: Database, tmp_path: Path) -> None:
    """...and leaves nothing half-open behind: the write-only workbook's sheet writer, once collected, used to
    raise into whatever ran next (CI saw it fail another test's set-up)."""
    import gc
    import sys

    unraisable: list[object] = []
    code = ""
    hook, sys.unraisablehook = sys.unraisablehook, unraisable.append
    try:
        with db.session() as s:
            try:
                eo.export_orders(s, tmp_path / "missing" / "orders.xlsx")
            except xl.ExcelError as e:
                code = e.code  # the exception (and the frames holding the workbook) go at the block's end
        gc.collect()
    finally:
        sys.unraisablehook = hook
    assert code == "excel_export_failed"
    assert unraisable == []


def test_days_ago_starts_at_korean_midnight() -> None:
    now = datetime(2026, 11, 25, 16, 0, tzinfo=UTC)  # 01:00 on the 26th in Korea
    assert eo.days_ago(1, now) == datetime(2026, 11, 25, 15, 0, tzinfo=UTC)
    assert eo.days_ago(7, now) == datetime(2026, 11, 19, 15, 0, tzinfo=UTC)
    assert eo.days_ago(0, now) is None


# ------------------------------------------------------------------------------------------------ packing


@pytest.fixture
def rig(demo_db: Database) -> Iterator[Rig]:
    r = Rig(demo_db)
    yield r
    r.worker.close()


def test_a_packed_sheet_order_queues_no_dispatch(demo_db: Database, rig: Rig, tmp_path: Path) -> None:
    """Nothing to tell a marketplace about a sheet order: its tracking number goes back by the order export."""
    with demo_db.session() as s:
        platform = eo.create_platform(s, "자사몰")
        mug = s.scalar(select(m.Item.id).where(m.Item.sku == "MUG-WH-01"))
        s.add(m.ProductMapping(account_id=platform.id, product_code="MUG", option_code="", item_id=mug, quantity=1))
        queued_before = s.scalar(select(func.count()).select_from(m.DispatchEntry))
    p = preview_file(demo_db, platform, write(tmp_path / "o.xlsx", [
        order_row("X-1", "MUG", qty=2, courier="CJ대한통운", tracking="700070007000")]))
    assert p.not_linked_rows == 0
    eo.import_preview(demo_db, p, "김민수")

    rig.scan("PD-PACKER-001", "700070007000")
    assert rig.message is Msg.PACK_STARTED
    rig.scan(BARCODE["MUG-WH-01"], BARCODE["MUG-WH-01"])
    assert rig.message is Msg.PACK_COMPLETE
    with demo_db.session() as s:
        line = s.scalars(select(m.OrderLine).where(m.OrderLine.account_id == platform.id)).one()
        assert line.status is LineStatus.PACKED and line.packed_at is not None
        assert s.scalar(select(func.count()).select_from(m.DispatchEntry)) == queued_before
        assert s.scalar(select(func.count()).select_from(m.DispatchEntry)
                        .where(m.DispatchEntry.line_id == line.id)) == 0
