"""Product links: listing and filtering sales products, linking (12-pack, gift set), replacing, unlinking,
refusing bad input without losing anything, and the Excel round trip."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import select

from packdesk.channels.demo import Scenario
from packdesk.core import models as m
from packdesk.core.db import Database
from packdesk.core.enums import ChannelKind
from packdesk.core.queries import load_plan
from packdesk.services import mapping as mp
from packdesk.services.mapping import HEADERS, LinkState, MappingError, MappingFileError, ProductFilter

NEW = ("5000000006", "")  # the demo's unlinked product


def item_ids(db: Database) -> dict[str, int]:
    with db.session() as s:
        return {r.sku: r.id for r in s.execute(select(m.Item.sku, m.Item.id))}


def product(db: Database, code: str, option: str = "") -> mp.SalesProductRow:
    with db.session() as s:
        acc = s.scalar(select(m.ChannelAccount.id).where(m.ChannelAccount.kind == ChannelKind.DEMO))
        assert acc is not None
        row = mp.find_sales_product(s, acc, code, option)
    assert row is not None
    return row


def mapping_rows(db: Database) -> list[tuple[Any, ...]]:
    """Every stored link row, ids included: 'nothing changed' means exactly this list is the same."""
    P = m.ProductMapping
    with db.session() as s:
        return [tuple(r) for r in s.execute(select(P.id, P.account_id, P.product_code, P.option_code, P.item_id,
                                                   P.quantity).order_by(P.id))]


def comps(row: mp.SalesProductRow) -> list[tuple[str, int]]:
    return [(c.sku, c.quantity) for c in row.components]


def write_sheet(path: Path, rows: list[tuple[Any, ...]], headers: tuple[str, ...] = HEADERS) -> Path:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(headers)
    for r in rows:
        ws.append(r)
    wb.save(path)
    return path


# ------------------------------------------------------------------------------------------------ list


def test_list_shows_every_sales_product_with_its_link_unlinked_first(demo_db: Database) -> None:
    with demo_db.session() as s:
        rows = mp.list_sales_products(s)
    assert len(rows) == 10
    first = rows[0]
    assert (first.product_code, first.option_code, first.linked) == (*NEW, False)
    assert first.product_name == "신상품 캔들 (미등록)" and first.account_name.startswith("데모 상점")
    gift = next(r for r in rows if r.product_code == "5000000005")
    assert comps(gift) == [("MUG-WH-01", 1), ("COASTER-01", 2), ("GIFTBOX-S", 1)]
    assert gift.components[2].name == "선물 상자" and gift.components[2].label == "선물 상자 소"
    assert all(r.linked for r in rows[1:])


def test_filters_state_text_new_and_account(demo_db: Database) -> None:
    with demo_db.session() as s:
        assert [r.product_code for r in mp.list_sales_products(s, ProductFilter(state=LinkState.UNLINKED))] == \
            ["5000000006"]
        assert len(mp.list_sales_products(s, ProductFilter(state=LinkState.LINKED))) == 9
        assert {r.product_code for r in mp.list_sales_products(s, ProductFilter(text="머그컵"))} == \
            {"5000000001", "5000000005"}
        assert [r.option_code for r in mp.list_sales_products(s, ProductFilter(text="opt-bk"))] == ["OPT-BK"]
        assert [r.product_code for r in mp.list_sales_products(s, ProductFilter(text=" 0000006 "))] == ["5000000006"]
        assert mp.list_sales_products(s, ProductFilter(text="%")) == []  # LIKE wildcards are plain text
        assert len(mp.list_sales_products(s, ProductFilter(new_only=True))) == 10
        tea = mp.list_sales_products(s, ProductFilter(text="티백"))[0]
        assert mp.mark_seen(s, [tea.id]) == 1
    with demo_db.session() as s:
        assert len(mp.list_sales_products(s, ProductFilter(new_only=True))) == 9
        other = m.ChannelAccount(kind=ChannelKind.NAVER, name="스마트스토어")
        s.add(other)
        s.flush()
        s.add(m.SalesProduct(account_id=other.id, product_code="N-1", product_name="네이버 상품"))
        s.flush()
        rows = mp.list_sales_products(s, ProductFilter(account_id=other.id))
        assert [(r.account_name, r.product_code) for r in rows] == [("스마트스토어", "N-1")]
        assert [a.name for a in mp.list_accounts(s)] == ["데모 상점 / Demo shop", "스마트스토어"]


def test_find_items_by_sku_name_and_barcode(demo_db: Database) -> None:
    from packdesk.channels.demo import BARCODE

    with demo_db.session() as s:
        assert [i.sku for i in mp.find_items(s, "giftbox")] == ["GIFTBOX-S"]
        assert [i.sku for i in mp.find_items(s, "선물")] == ["GIFTBOX-S"]
        assert [i.sku for i in mp.find_items(s, BARCODE["COASTER-01"])] == ["COASTER-01"]
        s.add(m.Item(sku="AA-TS-BLK-M2", name="다른 상품"))
        s.flush()
        assert [i.sku for i in mp.find_items(s, "TS-BLK-M")] == ["TS-BLK-M", "AA-TS-BLK-M2"]  # exact first
        by_barcode = mp.find_items(s, "ts-blk-m")
        assert by_barcode[0].sku == "TS-BLK-M" and by_barcode[0].barcodes == ("ts-blk-m",)
        assert len(mp.find_items(s, "")) == 10 and len(mp.find_items(s, "", limit=3)) == 3


# ------------------------------------------------------------------------------------------------ link


def test_link_a_twelve_pack_makes_the_waybill_packable(demo_db: Database) -> None:
    ids = item_ids(demo_db)
    sp = product(demo_db, *NEW)
    assert sp.is_new
    with demo_db.session() as s:
        assert [ln.mapped for ln in load_plan(s, Scenario.UNMAPPED).lines] == [False, True]  # type: ignore[union-attr]
        row = mp.link(s, sp.id, [(ids["TEA-GR"], 12)])
    assert comps(row) == [("TEA-GR", 12)] and not row.is_new
    with demo_db.session() as s:
        plan = load_plan(s, Scenario.UNMAPPED)
        assert plan is not None and all(ln.mapped for ln in plan.lines)
        assert plan.lines[0].components == ((ids["TEA-GR"], 12),)


def test_link_a_gift_set_then_replace_it(demo_db: Database) -> None:
    ids = item_ids(demo_db)
    sp = product(demo_db, *NEW)
    with demo_db.session() as s:
        mp.link(s, sp.id, [(ids["MUG-BK-01"], 1), (ids["COASTER-01"], 2), (ids["GIFTBOX-S"], 1)])
    assert comps(product(demo_db, *NEW)) == [("MUG-BK-01", 1), ("COASTER-01", 2), ("GIFTBOX-S", 1)]
    # replace: keep one item with a new quantity (the unique constraint must not trip), drop the others
    with demo_db.session() as s:
        mp.link(s, sp.id, [(ids["GIFTBOX-S"], 3), (ids["TMB-500"], 1)])
    assert comps(product(demo_db, *NEW)) == [("GIFTBOX-S", 3), ("TMB-500", 1)]
    assert len([r for r in mapping_rows(demo_db) if r[2] == NEW[0]]) == 2


def test_unlink_makes_the_station_refuse_it_again(demo_db: Database) -> None:
    sp = product(demo_db, "5000000005")
    with demo_db.session() as s:
        assert mp.unlink(s, sp.id) == 3
    assert not product(demo_db, "5000000005").linked
    with demo_db.session() as s:
        plan = load_plan(s, Scenario.GIFT_SET)
        assert plan is not None and [ln.mapped for ln in plan.lines] == [False, True]


@pytest.mark.parametrize(("components", "code"), [
    ([], "mapping_no_components"),
    ([("GIFTBOX-S", 0)], "mapping_bad_quantity"),
    ([("GIFTBOX-S", -2)], "mapping_bad_quantity"),
    ([("GIFTBOX-S", 1.5)], "mapping_bad_quantity"),
    ([("GIFTBOX-S", True)], "mapping_bad_quantity"),
    ([("GIFTBOX-S", 10000)], "mapping_bad_quantity"),
    ([("GIFTBOX-S", 1), (99999, 1)], "mapping_unknown_item"),
    ([("GIFTBOX-S", 1), ("GIFTBOX-S", 2)], "mapping_duplicate_item"),
])
def test_bad_links_are_refused_with_words_and_nothing_is_lost(demo_db: Database, components: list[Any],
                                                              code: str) -> None:
    ids = item_ids(demo_db)
    gift = product(demo_db, "5000000005")
    before = mapping_rows(demo_db)
    resolved = [(ids.get(i, i), q) for i, q in components]
    with pytest.raises(MappingError) as err, demo_db.session() as s:
        mp.link(s, gift.id, resolved)
    assert err.value.code == code
    assert err.value.ko and err.value.en and err.value.ko != err.value.en
    assert mapping_rows(demo_db) == before and product(demo_db, "5000000005").is_new


def test_unknown_sales_product_is_refused(demo_db: Database) -> None:
    with pytest.raises(MappingError) as err, demo_db.session() as s:
        mp.link(s, 424242, [(1, 1)])
    assert err.value.code == "mapping_unknown_product" and "판매상품" in err.value.ko
    with pytest.raises(MappingError), demo_db.session() as s:
        mp.unlink(s, 424242)


# ------------------------------------------------------------------------------------------------ Excel


def test_export_layout_one_row_per_item(demo_db: Database, tmp_path: Path) -> None:
    path = tmp_path / "links.xlsx"
    with demo_db.session() as s:
        assert mp.export_mappings(s, path) == 11
    wb = load_workbook(path)
    ws = wb.active
    assert ws is not None
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0] == HEADERS
    assert rows[0][1] == "상품코드 / Product code" and rows[0][5] == "출고상품 SKU / Item SKU"
    assert all(c.font.bold for c in ws[1]) and ws.freeze_panes == "A2"
    assert ws.column_dimensions["D"].width >= 40 and ws.column_dimensions["G"].width >= 8
    gift = [r for r in rows[1:] if r[1] == "5000000005"]
    assert [(r[5], r[6]) for r in gift] == [("MUG-WH-01", 1), ("COASTER-01", 2), ("GIFTBOX-S", 1)]
    assert gift[0][0] == "데모 상점 / Demo shop" and gift[0][3] == "머그컵 선물세트"
    assert ("데모 상점 / Demo shop", "5000000001", "OPT-BK", "세라믹 머그컵 350ml", "색상: 블랙", "MUG-BK-01",
            1) in rows
    assert not any(r[1] == NEW[0] for r in rows)  # unlinked: not a link
    wb.close()
    with demo_db.session() as s:
        assert mp.export_mappings(s, path, include_unlinked=True) == 12
    wb = load_workbook(path)
    last = list(wb.active.iter_rows(values_only=True))[-1]  # type: ignore[union-attr]
    assert (last[1], last[3], last[5], last[6]) == (NEW[0], "신상품 캔들 (미등록)", None, None)
    wb.close()


@pytest.mark.parametrize("include_unlinked", [False, True])
def test_export_then_import_changes_nothing(demo_db: Database, tmp_path: Path, include_unlinked: bool) -> None:
    path = tmp_path / "links.xlsx"
    with demo_db.session() as s:
        mp.export_mappings(s, path, include_unlinked=include_unlinked)
    before = mapping_rows(demo_db)
    with demo_db.session() as s:
        preview = mp.preview_import(s, path)
    assert preview.errors == () and preview.changes == ()
    assert len(preview.valid) == 11 and preview.unchanged == 9
    assert preview.skipped_unlinked == (1 if include_unlinked else 0)
    with demo_db.session() as s:
        assert mp.apply_import(s, preview) == mp.ImportResult(0, 0)
    assert mapping_rows(demo_db) == before
    with demo_db.session() as s:
        assert all(r.is_new for r in mp.list_sales_products(s))  # not even "seen" changed


def test_import_applies_good_rows_and_reports_bad_ones_by_row(demo_db: Database, tmp_path: Path) -> None:
    acc = "데모 상점 / Demo shop"
    path = write_sheet(tmp_path / "edit.xlsx", [
        (acc, "5000000006", "", "캔들", "", "GIFTBOX-S", 2),          # 2: good: links the new product
        (acc, "5000000003", "", "", "", "TEA-GR", 10),                # 3: good: 12-pack becomes a 10-pack
        ("없는 상점", "5000000002", "", "", "", "TMB-500", 2),         # 4: unknown account
        (acc, "5000000002", "", "", "", "NO-SUCH-SKU", 1),            # 5: unknown SKU
        (acc, "5000000004", "", "", "", "COASTER-01", 0),             # 6: quantity not positive
        (acc, "5000000004", "", "", "", "COASTER-01", "네개"),         # 7: quantity not a number
        (acc, None, "", "이름만", "", "MUG-WH-01", 1),                 # 8: missing product code
        (acc, "5000000005", "", "", "", "MUG-BK-01", 1),              # 9: gift set, good row ...
        (acc, "5000000005", "", "", "", "COASTER-01", 2.5),           # 10: ... but this one is bad
        (acc, "5000000001", "OPT-WH", "", "", "MUG-WH-01", 2),        # 11: duplicate SKU for a product
        (acc, "5000000001", "OPT-WH", "", "", "MUG-WH-01", 3),        # 12
        (acc, "5000000007", "OPT-S", "", "", None, 1),                # 13: missing SKU
    ])
    before = {r.product_code + r.option_code: comps(r) for r in _all(demo_db)}
    with demo_db.session() as s:
        preview = mp.preview_import(s, path)
    assert [(p.product_code, p.rows) for p in preview.changes] == [("5000000006", (2,)), ("5000000003", (3,))]
    reasons = {(e.row, e.code) for e in preview.errors}
    assert reasons == {(4, "row_unknown_account"), (5, "row_unknown_sku"), (6, "row_bad_quantity"),
                       (7, "row_bad_quantity"), (8, "row_missing_product_code"), (10, "row_bad_quantity"),
                       (9, "row_product_has_errors"), (12, "row_duplicate"), (11, "row_product_has_errors"),
                       (13, "row_missing_sku")}
    assert preview.error_rows == (4, 5, 6, 7, 8, 9, 10, 11, 12, 13)
    by_row = {e.row: e for e in preview.errors}
    assert "없는 계정" in by_row[4].ko and "Unknown account" in by_row[4].en and "없는 상점" in by_row[4].en
    assert "NO-SUCH-SKU" in by_row[5].ko and "수량" in by_row[7].ko and "네개" in by_row[7].ko
    assert "10" in by_row[9].ko and "row 10" in by_row[9].en
    assert "11" in by_row[12].ko
    with demo_db.session() as s:
        assert mp.apply_import(s, preview) == mp.ImportResult(2, 2)
    after = {r.product_code + r.option_code: comps(r) for r in _all(demo_db)}
    assert after["5000000006"] == [("GIFTBOX-S", 2)] and after["5000000003"] == [("TEA-GR", 10)]
    untouched = {k: v for k, v in before.items() if k not in ("5000000006", "5000000003")}
    assert {k: after[k] for k in untouched} == untouched
    assert not product(demo_db, *NEW).is_new and product(demo_db, "5000000005").is_new


def _all(db: Database) -> list[mp.SalesProductRow]:
    with db.session() as s:
        return mp.list_sales_products(s)


def test_import_reads_numbers_excel_made_of_codes_and_quantities(demo_db: Database, tmp_path: Path) -> None:
    path = write_sheet(tmp_path / "typed.xlsx", [
        ("데모 상점 / Demo shop", 5000000006, None, None, None, "giftbox-s", 2.0),   # lower-case SKU, float qty
        ("데모 상점 / Demo shop", 5000000006, None, None, None, "TMB-500", " 3 "),
    ], headers=("계정", "Product code", "옵션코드 / Option code", "상품명", "Option name", "출고상품 sku", "수량"))
    with demo_db.session() as s:
        preview = mp.preview_import(s, path)
        assert preview.errors == ()
        mp.apply_import(s, preview)
    assert comps(product(demo_db, *NEW)) == [("GIFTBOX-S", 2), ("TMB-500", 3)]


def test_import_replaces_the_whole_link_of_products_in_the_file(demo_db: Database, tmp_path: Path) -> None:
    path = write_sheet(tmp_path / "set.xlsx", [
        ("데모 상점 / Demo shop", "5000000005", "", "", "", "MUG-BK-01", 1),
        ("데모 상점 / Demo shop", "5000000005", "", "", "", "GIFTBOX-S", 1),
    ])
    with demo_db.session() as s:
        mp.apply_import(s, mp.preview_import(s, path))
    assert comps(product(demo_db, "5000000005")) == [("MUG-BK-01", 1), ("GIFTBOX-S", 1)]
    assert comps(product(demo_db, "5000000004")) == [("COASTER-01", 4)]  # not in the file: untouched


def test_import_stops_whole_when_an_item_vanished_since_the_preview(demo_db: Database, tmp_path: Path) -> None:
    with demo_db.session() as s:
        s.add(m.Item(sku="TEMP-1", name="임시"))
    path = write_sheet(tmp_path / "t.xlsx", [("데모 상점 / Demo shop", "5000000006", "", "", "", "TEMP-1", 1),
                                             ("데모 상점 / Demo shop", "5000000002", "", "", "", "TEA-GR", 1)])
    with demo_db.session() as s:
        preview = mp.preview_import(s, path)
    assert len(preview.changes) == 2
    with demo_db.session() as s:
        s.execute(m.Item.__table__.delete().where(m.Item.sku == "TEMP-1"))
    before = mapping_rows(demo_db)
    with pytest.raises(MappingError) as err, demo_db.session() as s:
        mp.apply_import(s, preview)
    assert err.value.code == "mapping_import_stale" and mapping_rows(demo_db) == before


def _not_xlsx(p: Path) -> Path:
    p.write_text("계정,상품코드\n데모,1\n", encoding="utf-8")
    return p


def _wrong_headers(p: Path) -> Path:
    return write_sheet(p, [("a", "b")], headers=("주문번호", "상품명", "수량"))


def _empty_book(p: Path) -> Path:
    Workbook().save(p)
    return p


@pytest.mark.parametrize(("make", "name", "code"), [
    (_not_xlsx, "links.csv", "mapping_file_unreadable"),
    (_not_xlsx, "fake.xlsx", "mapping_file_unreadable"),
    (lambda p: p, "missing.xlsx", "mapping_file_unreadable"),
    (_wrong_headers, "orders.xlsx", "mapping_file_headers"),
    (_empty_book, "empty.xlsx", "mapping_file_headers"),
])
def test_a_wrong_file_gives_one_clear_error(demo_db: Database, tmp_path: Path, make: Any, name: str,
                                            code: str) -> None:
    path = make(tmp_path / name)
    before = mapping_rows(demo_db)
    with pytest.raises(MappingFileError) as err, demo_db.session() as s:
        mp.preview_import(s, path)
    assert err.value.code == code
    ko, en = err.value.ko, err.value.en
    assert ko and en and ("엑셀" in ko or "머리글" in ko) and ("Excel" in en or "headers" in en)
    if code == "mapping_file_headers":
        assert "상품코드 / Product code" in en
    else:
        assert name in ko
    assert mapping_rows(demo_db) == before


def test_export_to_an_unwritable_place_is_explained(demo_db: Database, tmp_path: Path) -> None:
    with pytest.raises(MappingFileError) as err, demo_db.session() as s:
        mp.export_mappings(s, tmp_path / "no-such-dir" / "links.xlsx")
    assert err.value.code == "mapping_export_failed" and "links.xlsx" in err.value.ko
    assert not list(tmp_path.glob("**/.packdesk-*"))
