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


# ------------------------------------------------------------------------------------------------ catalogue columns


def _account(db: Database) -> int:
    with db.session() as s:
        acc = s.scalar(select(m.ChannelAccount.id).where(m.ChannelAccount.kind == ChannelKind.DEMO))
    assert acc is not None
    return acc


def add_products(db: Database, *products: tuple[str, str, str, str], status: str = "SALE", seller_code: str = "",
                 deleted: bool = False) -> list[int]:
    """(code, option code, name, option name) sales products of the demo account, as a catalogue sync stores
    them; returns their ids."""
    acc = _account(db)
    with db.session() as s:
        made = [m.SalesProduct(account_id=acc, product_code=c, option_code=o, product_name=n, option_name=on,
                               status=status, seller_code=seller_code, deleted=deleted) for c, o, n, on in products]
        s.add_all(made)
        s.flush()
        return [sp.id for sp in made]


def test_rows_carry_the_marketplace_status_and_seller_code_and_deleted_ones_hide(demo_db: Database) -> None:
    add_products(demo_db, ("7000000001", "", "단종 머그 (품절)", ""), status="OUTOFSTOCK", seller_code="MUG-OLD")
    add_products(demo_db, ("7000000002", "", "단종 텀블러", ""), status="DELETE", deleted=True)
    with demo_db.session() as s:
        shown = mp.list_sales_products(s)
        assert "7000000002" not in {r.product_code for r in shown} and len(shown) == 11  # deleted: hidden
        old = next(r for r in shown if r.product_code == "7000000001")
        assert (old.status, old.seller_code, old.deleted, old.code) == ("OUTOFSTOCK", "MUG-OLD", False, "7000000001")
        assert mp.status_text(old.status) == ("품절", "Out of stock") and mp.status_text("") == ("주문에서 확인",
                                                                                              "Seen in orders")
        assert mp.status_text("SOMETHING_NEW") == ("SOMETHING_NEW", "SOMETHING_NEW")
        every = mp.list_sales_products(s, ProductFilter(include_deleted=True))
        gone = next(r for r in every if r.product_code == "7000000002")
        assert len(every) == 12 and gone.deleted and gone.status == "DELETE"
        assert [r.product_code for r in mp.list_sales_products(s, ProductFilter(text="단종"))] == ["7000000001"]
        assert {r.product_code for r in mp.list_sales_products(s, ProductFilter(text="단종", include_deleted=True))} \
            == {"7000000001", "7000000002"}
        assert [r.product_code for r in mp.list_sales_products(s, ProductFilter(text="mug-old"))] == ["7000000001"]
        assert mp.count_sales_products(s) == mp.ProductCounts(11, 2, 11)
        assert mp.count_sales_products(s, ProductFilter(include_deleted=True)) == mp.ProductCounts(12, 3, 12)
        mug = next(r for r in every if r.option_code == "OPT-BK")
        assert mug.code == "5000000001 / OPT-BK" and mug.label == "세라믹 머그컵 350ml 색상: 블랙"


def test_every_word_must_match_somewhere(demo_db: Database) -> None:
    with demo_db.session() as s:
        assert [r.option_code for r in mp.list_sales_products(s, ProductFilter(text="머그컵 블랙"))] == ["OPT-BK"]
        assert [r.option_code for r in mp.list_sales_products(s, ProductFilter(text="티셔츠  m"))] == ["OPT-M"]
        assert mp.list_sales_products(s, ProductFilter(text="머그컵 없는말")) == []


def _catalogue(db: Database, n: int = 1000) -> None:
    """n products of three options each in two accounts, a third linked, some new, some deleted: enough for a
    page of 300 to cut through every link state."""
    from sqlalchemy import insert

    with db.session() as s:
        other = m.ChannelAccount(kind=ChannelKind.NAVER, name="가 스토어")  # sorts before the demo shop by name
        s.add(other)
        s.flush()
        acc_ids = [_account(db), other.id]
        item = s.scalar(select(m.Item.id).where(m.Item.sku == "TEA-GR"))
        sales, links = [], []
        for i in range(n):
            acc = acc_ids[i % 2]
            for k in range(3):
                sales.append({"account_id": acc, "product_code": f"P{(i * 7919) % n:05d}", "option_code": f"O{k}",
                              "product_name": f"상품 {i % 13}", "option_name": f"색상 {k}", "is_new": i % 5 == 0,
                              "deleted": i % 17 == 0, "status": "SALE"})
                if (i + k) % 3 == 0:
                    links.append({"account_id": acc, "product_code": f"P{(i * 7919) % n:05d}", "option_code": f"O{k}",
                                  "item_id": item, "quantity": 1})
        s.execute(insert(m.SalesProduct), sales)
        s.execute(insert(m.ProductMapping), links)


@pytest.mark.parametrize("f", [
    ProductFilter(), ProductFilter(state=LinkState.UNLINKED), ProductFilter(state=LinkState.LINKED),
    ProductFilter(new_only=True), ProductFilter(include_deleted=True), ProductFilter(text="상품 1"),
    ProductFilter(text="색상"), ProductFilter(text="p00"),
    ProductFilter(new_only=True, state=LinkState.LINKED, limit=100),
    ProductFilter(text="색상 2", state=LinkState.UNLINKED, include_deleted=True),
], ids=lambda f: f"{f.state}-{f.text or 'no words'}-{'new' if f.new_only else ''}{'del' if f.include_deleted else ''}")
def test_a_page_is_the_head_of_the_whole_order_and_counted_right(demo_db: Database, f: ProductFilter) -> None:
    """The page the screen gets (cut and ordered by the database, in link-state passes when no words are
    typed) is exactly the head of the full list, whose order is: not linked, new, account, code."""
    from dataclasses import replace

    _catalogue(demo_db)
    with demo_db.session() as s:
        everything = mp.list_sales_products(s, replace(f, limit=None))
        page = mp.product_page(s, f)
        accounts = {a.id: a.name for a in mp.list_accounts(s)}
    assert f.limit is not None and len(everything) > f.limit, "the filter must leave more than a page"
    assert [r.id for r in page.rows] == [r.id for r in everything[:f.limit]]
    assert page.truncated and page.counts == mp.ProductCounts(
        len(everything), sum(not r.linked for r in everything), sum(r.is_new for r in everything))
    keys = [(r.linked, not r.is_new, r.account_id, r.product_code, r.option_code) for r in everything]
    assert keys == sorted(keys) and set(accounts) >= {r.account_id for r in everything}
    assert all(f.include_deleted or not r.deleted for r in everything)
    assert all(comps(r) == [("TEA-GR", 1)] for r in page.rows if r.linked and r.product_code.startswith("P"))


def test_a_small_result_counts_itself(demo_db: Database) -> None:
    with demo_db.session() as s:
        page = mp.product_page(s, ProductFilter(text="머그컵"))
    assert [r.product_code for r in page.rows] == ["5000000001", "5000000001", "5000000005"]
    assert page.counts == mp.ProductCounts(3, 0, 3) and not page.truncated


def test_a_scanned_barcode_finds_its_item_first_even_among_many(demo_db: Database) -> None:
    from packdesk.channels.demo import BARCODE

    with demo_db.session() as s:
        s.add_all(m.Item(sku=f"A-{n:03d}-{BARCODE['TEA-GR']}", name="비슷한 코드") for n in range(80))
        s.flush()
        found = mp.find_items(s, BARCODE["TEA-GR"])
        assert found[0].sku == "TEA-GR" and found[0].matches_exactly(BARCODE["TEA-GR"]) and len(found) == 50
        assert not found[1].matches_exactly(BARCODE["TEA-GR"])
        assert mp.find_items(s, "TS-BLK-M")[0].sku == "TS-BLK-M"
        owner = mp.barcode_owner(s, BARCODE["GIFTBOX-S"])
        assert owner is not None and (owner.sku, owner.label) == ("GIFTBOX-S", "선물 상자 소")
        assert mp.barcode_owner(s, "TS-BLK-S").sku == "TS-BLK-S"  # type: ignore[union-attr]  # any case
        assert mp.barcode_owner(s, "8800000000000") is None and mp.barcode_owner(s, " ") is None


# ------------------------------------------------------------------------------------------------ new items

SHIRT = (("8000000001", "101", "린넨 셔츠", "색상: 화이트 / 사이즈: M"),
         ("8000000001", "102", "린넨 셔츠", "색상: 블루 / 사이즈: M"),
         ("8000000001", "103", "린넨 셔츠", "색상: 블랙 / 사이즈: L"))


def shirt_rows(db: Database) -> list[mp.SalesProductRow]:
    ids = add_products(db, *SHIRT)
    with db.session() as s:
        return mp.get_sales_products(s, ids)


def item_rows(db: Database, *skus: str) -> list[tuple[str, str, str, tuple[str, ...]]]:
    with db.session() as s:
        items = s.scalars(select(m.Item).where(m.Item.sku.in_(skus)).order_by(m.Item.sku)).all()
        return [(it.sku, it.name, it.option_name, tuple(b.barcode for b in it.barcodes)) for it in items]


def everything(db: Database) -> tuple[Any, ...]:
    """Items, barcodes and links as stored: 'nothing written' means exactly this is the same."""
    with db.session() as s:
        return (s.execute(select(m.Item.id, m.Item.sku)).all(), s.execute(select(m.ItemBarcode.barcode)).all(),
                mapping_rows(db))


def test_names_and_skus_follow_the_rules() -> None:
    row = mp.SalesProductRow(1, 1, "shop", "8000000001", "101", "린넨 셔츠", "색상: 화이트", True, False, (),
                             "SALE", "")
    assert mp.item_name(row, mp.NameRule.PRODUCT_AND_OPTION) == ("린넨 셔츠", "색상: 화이트")
    assert mp.item_name(row, mp.NameRule.OPTION_ONLY) == ("색상: 화이트", "")
    assert mp.item_name(row, mp.NameRule.TYPED, "  여름 셔츠 화이트 ") == ("여름 셔츠 화이트", "")
    single = mp.SalesProductRow(1, 1, "shop", "8000000002", "", "x" * 250, "", True, False, (), "", "")
    assert mp.item_name(single, mp.NameRule.OPTION_ONLY) == ("x" * 200, "")  # no option: the product's name
    assert mp.default_sku(row) == "8000000001-101" and mp.default_sku(single) == "8000000002"
    from dataclasses import replace

    assert mp.default_sku(replace(row, seller_code=" SHIRT-WH-M ")) == "SHIRT-WH-M"
    assert mp.default_sku(replace(single, product_code="C" * 70)) == "C" * 64


@pytest.mark.parametrize("rule", [mp.NameRule.PRODUCT_AND_OPTION, mp.NameRule.OPTION_ONLY])
def test_items_for_several_options_in_one_step(demo_db: Database, rule: mp.NameRule) -> None:
    rows = shirt_rows(demo_db)
    new = [mp.NewItem(r.id, mp.default_sku(r), *mp.item_name(r, rule), barcodes=(f"880555000{n}",))
           for n, r in enumerate(rows)]
    with demo_db.session() as s:
        linked = mp.create_items(s, new)
    assert [(r.option_code, comps(r), r.is_new) for r in linked] == [
        ("101", [("8000000001-101", 1)], False), ("102", [("8000000001-102", 1)], False),
        ("103", [("8000000001-103", 1)], False)]
    made = item_rows(demo_db, "8000000001-101", "8000000001-102", "8000000001-103")
    if rule is mp.NameRule.PRODUCT_AND_OPTION:
        assert [(name, option) for _, name, option, _ in made] == [(name, option) for _, _, name, option in SHIRT]
    else:
        assert [(name, option) for _, name, option, _ in made] == [
            ("색상: 화이트 / 사이즈: M", ""), ("색상: 블루 / 사이즈: M", ""), ("색상: 블랙 / 사이즈: L", "")]
    assert [codes for *_, codes in made] == [("8805550000",), ("8805550001",), ("8805550002",)]


def test_a_typed_name_several_barcodes_and_a_twelve_pack_make_the_waybill_packable(demo_db: Database) -> None:
    """The demo's unlinked candle becomes an item of its own, sold as a 12-pack: the station's plan for the
    waybill that was refused now names the item, its barcodes and 12 per unit."""
    sp = product(demo_db, *NEW)
    with demo_db.session() as s:
        (row,) = mp.create_items(s, [mp.NewItem(sp.id, "CANDLE-12", *mp.item_name(sp, mp.NameRule.TYPED, "소이 캔들"),
                                                barcodes=("8801234999991", "CANDLE-OLD"), quantity=12)])
    assert comps(row) == [("CANDLE-12", 12)] and row.components[0].name == "소이 캔들" and not row.is_new
    assert item_rows(demo_db, "CANDLE-12") == [("CANDLE-12", "소이 캔들", "", ("8801234999991", "CANDLE-OLD"))]
    with demo_db.session() as s:
        plan = load_plan(s, Scenario.UNMAPPED)
    assert plan is not None and all(ln.mapped for ln in plan.lines)
    candle = next(ln for ln in plan.lines if ln.product_name == "신상품 캔들 (미등록)")
    (item_id, per_unit), = candle.components
    assert per_unit == 12 and plan.items[item_id].barcodes == ("8801234999991", "CANDLE-OLD")
    assert plan.item_for_barcode("candle-old") is plan.items[item_id]


def test_creating_an_item_for_a_linked_product_relinks_it(demo_db: Database) -> None:
    gift = product(demo_db, "5000000005")
    with demo_db.session() as s:
        (row,) = mp.create_items(s, [mp.NewItem(gift.id, "GIFTSET-01", "머그컵 선물세트")])
    assert comps(row) == [("GIFTSET-01", 1)]
    assert comps(product(demo_db, "5000000004")) == [("COASTER-01", 4)]  # others untouched


def _refused(db: Database, new: list[mp.NewItem]) -> list[tuple[int, str]]:
    before = everything(db)
    with pytest.raises(mp.ItemsRefused) as err, db.session() as s:
        mp.create_items(s, new)
    assert everything(db) == before, "a refusal writes nothing"
    e = err.value
    assert e.code == "items_refused" and "출고상품을 만들지 않았습니다" in e.ko and "No item was created" in e.en
    assert e.params["count"] == len(e.problems) and all(p.ko and p.en and p.ko != p.en for p in e.problems)
    return [(p.index, p.code) for p in e.problems]


def test_sku_clashes_are_explained_naming_the_item(demo_db: Database) -> None:
    rows = shirt_rows(demo_db)
    problems = _refused(demo_db, [
        mp.NewItem(rows[0].id, "TEA-GR", "셔츠"),          # the demo's tea
        mp.NewItem(rows[1].id, "tea-gr", "셔츠"),          # the same in other case (imports match any case)
        mp.NewItem(rows[2].id, "SHIRT-1", "셔츠"),
    ])
    assert problems == [(0, "item_sku_taken"), (1, "item_sku_taken")]
    with pytest.raises(mp.ItemsRefused) as err, demo_db.session() as s:
        mp.create_items(s, [mp.NewItem(rows[0].id, "TEA-GR", "셔츠")])
    p = err.value.problems[0]
    assert "TEA-GR (녹차 티백 낱개)" in p.ko and "already belongs to another item: TEA-GR (녹차 티백 낱개)" in p.en
    assert "1번째 줄: SKU TEA-GR는 이미" in err.value.ko and "line 1: SKU TEA-GR already" in err.value.en
    assert _refused(demo_db, [mp.NewItem(rows[0].id, "SHIRT", "셔츠"), mp.NewItem(rows[1].id, "shirt ", "셔츠")]) \
        == [(1, "item_sku_repeated")]
    assert _refused(demo_db, [mp.NewItem(rows[0].id, "  ", "셔츠"), mp.NewItem(rows[1].id, "S" * 65, "셔츠")]) \
        == [(0, "item_sku_empty"), (1, "item_sku_too_long")]


def test_barcode_clashes_are_explained_naming_the_item(demo_db: Database) -> None:
    from packdesk.channels.demo import BARCODE

    rows = shirt_rows(demo_db)
    problems = _refused(demo_db, [
        mp.NewItem(rows[0].id, "S-1", "셔츠", barcodes=(BARCODE["MUG-WH-01"], "8805550001")),
        mp.NewItem(rows[1].id, "S-2", "셔츠", barcodes=("8805550001", "TS-BLK-m")),   # twice; another item's (any case)
        mp.NewItem(rows[2].id, "S-3", "셔츠", barcodes=("PD-CMD-COMPLETE", "pd-packer-001", "셔츠 바코드", "")),
    ])
    assert problems == [(0, "item_barcode_taken"), (1, "item_barcode_repeated"), (1, "item_barcode_taken"),
                        (2, "item_barcode_reserved"), (2, "item_barcode_reserved"), (2, "item_barcode_bad"),
                        (2, "item_barcode_bad")]
    with pytest.raises(mp.ItemsRefused) as err, demo_db.session() as s:
        mp.create_items(s, [mp.NewItem(rows[0].id, "S-1", "셔츠", barcodes=(BARCODE["MUG-WH-01"],))])
    p = err.value.problems[0]
    code = BARCODE["MUG-WH-01"]
    assert p.ko == f"바코드 {code}는 이미 다른 출고상품의 바코드입니다: MUG-WH-01 (세라믹 머그컵 화이트)"
    assert p.en.startswith(f"Barcode {BARCODE['MUG-WH-01']} already belongs to another item: MUG-WH-01")
    assert not mp.barcode_looks_valid("셔츠") and not mp.barcode_looks_valid("88 01")
    assert mp.barcode_looks_valid("a-B_1")


def test_other_bad_lines_are_listed_each(demo_db: Database) -> None:
    rows = shirt_rows(demo_db)
    assert _refused(demo_db, []) == [(-1, "item_none")]
    assert _refused(demo_db, [
        mp.NewItem(424242, "X-1", "없는 상품"),
        mp.NewItem(rows[0].id, "X-2", " "),
        mp.NewItem(rows[0].id, "X-3", "셔츠", quantity=0),
        mp.NewItem(rows[1].id, "X-4", "가" * 201),
        mp.NewItem(rows[2].id, "X-5", "셔츠", quantity=10000),
    ]) == [(0, "mapping_unknown_product"), (1, "item_name_empty"), (2, "item_product_repeated"),
           (2, "mapping_bad_quantity"), (3, "item_name_too_long"), (4, "mapping_bad_quantity")]


def test_an_sku_saved_elsewhere_meanwhile_is_refused_not_crashed(demo_db: Database,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """Two stations creating the same SKU at once: the checks passed on both, the unique index stops one."""
    rows = shirt_rows(demo_db)
    monkeypatch.setattr(mp, "check_new_items", lambda s, new: [])
    before = everything(demo_db)
    with pytest.raises(mp.ItemsRefused) as err, demo_db.session() as s:
        mp.create_items(s, [mp.NewItem(rows[0].id, "TEA-GR", "셔츠")])
    assert [p.code for p in err.value.problems] == ["item_conflict"] and "다시 시도" in err.value.ko
    assert everything(demo_db) == before


# ------------------------------------------------------------------------------------------------ failure file


def test_failure_file_gives_the_bad_rows_back_as_they_were_and_imports_once_fixed(demo_db: Database,
                                                                                  tmp_path: Path) -> None:
    acc = "데모 상점 / Demo shop"
    path = write_sheet(tmp_path / "edit.xlsx", [
        (acc, "5000000006", "", "캔들", "", "GIFTBOX-S", 2),            # 2: good
        (acc, "5000000002", "", "텀블러", "", "NO-SUCH-SKU", 1),        # 3: unknown SKU
        (acc, "5000000005", "", "선물세트", "", "MUG-BK-01", 1),         # 4: good row of a set ...
        (acc, "5000000005", "", "선물세트", "", "COASTER-01", "두개"),    # 5: ... whose other row is bad
        (acc, "0012345", "", "앞자리 0", "", "TMB-500", 1),              # 6: unknown product code is fine (text kept)
    ])
    wb = load_workbook(path)
    ws = wb.active
    assert ws is not None
    ws.cell(1, 8, "메모 / Note")
    ws.cell(3, 8, "확인 필요")
    wb.save(path)
    with demo_db.session() as s:
        preview = mp.preview_import(s, path)
    assert preview.error_rows == (3, 4, 5)
    out = tmp_path / "edit-실패.xlsx"
    assert mp.write_failure_file(out, preview) == 3
    wb = load_workbook(out)
    ws = wb.active
    assert ws is not None
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0] == (*HEADERS, "메모 / Note", "오류 사유 / Reason")
    assert [r[:8] for r in rows[1:]] == [(acc, "5000000002", None, "텀블러", None, "NO-SUCH-SKU", 1, "확인 필요"),
                                        (acc, "5000000005", None, "선물세트", None, "MUG-BK-01", 1, None),
                                        (acc, "5000000005", None, "선물세트", None, "COASTER-01", "두개", None)]
    reasons = [r[8] for r in rows[1:]]
    assert reasons[0] == "3행: 없는 출고상품 SKU입니다: NO-SUCH-SKU / Row 3: Unknown item SKU: NO-SUCH-SKU"
    assert reasons[1].startswith("4행: 같은 상품의 다른 행(5)에 오류가") and "Row 4: Not imported" in reasons[1]
    assert "수량" in reasons[2] and "두개" in reasons[2] and "Quantity" in reasons[2]
    assert ws.freeze_panes == "A2" and ws["I1"].font.bold

    # fixed in Excel: the SKU and the quantity; imported as it is (the reason column is ignored)
    ws["F2"] = "TMB-500"
    ws["G4"] = 2
    wb.save(out)
    wb.close()
    with demo_db.session() as s:
        again = mp.preview_import(s, out)
    assert again.errors == () and len(again.valid) == 3 and len(again.changes) == 1 and again.unchanged == 1
    with demo_db.session() as s:
        mp.apply_import(s, again)
    assert comps(product(demo_db, "5000000002")) == [("TMB-500", 1)]  # was already exactly this: unchanged
    assert comps(product(demo_db, "5000000005")) == [("MUG-BK-01", 1), ("COASTER-01", 2)]

    # a failure file failing again gets new reasons in place of the old ones, not a second column
    ws_wb = load_workbook(out)
    ws_wb.active["F2"] = "STILL-WRONG"  # type: ignore[index]
    ws_wb.save(out)
    with demo_db.session() as s:
        third = mp.preview_import(s, out)
    assert mp.write_failure_file(tmp_path / "third.xlsx", third) == 1
    header = next(load_workbook(tmp_path / "third.xlsx").active.iter_rows(values_only=True))  # type: ignore[union-attr]
    assert header == (*HEADERS, "메모 / Note", "오류 사유 / Reason")


def test_failure_file_to_an_unwritable_place_is_explained(demo_db: Database, tmp_path: Path) -> None:
    path = write_sheet(tmp_path / "bad.xlsx", [("데모 상점 / Demo shop", "5000000002", "", "", "", "NOPE", 1)])
    with demo_db.session() as s:
        preview = mp.preview_import(s, path)
    with pytest.raises(MappingFileError) as err:
        mp.write_failure_file(tmp_path / "no-such-dir" / "f.xlsx", preview)
    assert err.value.code == "mapping_export_failed" and "f.xlsx" in err.value.ko and "f.xlsx" in err.value.en
