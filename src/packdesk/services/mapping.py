"""Product links: which physical items (and how many of each) one unit of a marketplace product means.

A station refuses a waybill whose product has no ``ProductMapping`` rows, so a supervisor links every
sales product to items here: a 12-pack to 12 of one item, a gift set to several items. The same links
go out to and come back from Excel, because sellers keep them in spreadsheets.

Rules kept here, whoever calls:
- a link replaces the product's rows in one transaction and is checked completely before anything is
  written (at least one item, each item exists and appears once, quantity a whole number 1..9999);
- an import never unlinks and never touches a product that has an error in any of its rows (a gift set
  with one bad row would otherwise be packed without that item); products whose rows equal what is stored
  are left alone, so importing an exported file changes nothing.

Errors are ``MappingError`` (a ``KnownError``): a stable code and parameters, with the Korean and English
words in ``TEXT`` (services cannot use Qt's ``tr``; the import preview must carry its reasons as text).
Qt-free: the screen is ``ui/mapping_view.py``.
"""

from __future__ import annotations

import enum
import logging
import os
import re
import tempfile
import time
import warnings
import zipfile
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import delete, exists, func, insert, or_, select, tuple_, update
from sqlalchemy.orm import Session

from packdesk.core import models as m
from packdesk.core.errors import KnownError

log = logging.getLogger("packdesk.mapping")

MAX_QUANTITY = 9999
MAX_PRODUCT_CODE = 64    # column sizes of product_mappings
MAX_OPTION_CODE = 128

# code -> (Korean, English); {names} are filled from the parameters
TEXT: dict[str, tuple[str, str]] = {
    "mapping_unknown_product": ("판매상품을 찾을 수 없습니다 — 목록을 새로 고치세요",
                                "Sales product not found — refresh the list"),
    "mapping_no_components": ("출고상품을 하나 이상 추가하세요", "Add at least one item"),
    "mapping_bad_quantity": ("수량은 1~9999의 정수여야 합니다: {value}",
                             "Quantity must be a whole number from 1 to 9999: {value}"),
    "mapping_unknown_item": ("없는 출고상품입니다: {item}", "No such item: {item}"),
    "mapping_duplicate_item": ("같은 출고상품이 두 번 들어 있습니다: {item}", "The same item is listed twice: {item}"),
    "mapping_import_stale": ("가져오는 동안 출고상품이 바뀌었습니다 — 다시 가져오세요",
                             "Items changed while importing — import the file again"),
    "mapping_file_unreadable": ("엑셀 파일(.xlsx)로 읽을 수 없습니다: {name}",
                                "Cannot read this as an Excel file (.xlsx): {name}"),
    "mapping_file_headers": ("상품 연결 양식이 아닙니다 — 첫 줄의 머리글이 다릅니다. 필요한 머리글: {expected}",
                             "Not a product-link sheet — the first row's headers differ. Expected: {expected}"),
    "mapping_export_failed": ("파일을 저장할 수 없습니다 (다른 프로그램에서 열려 있나요?): {name}",
                              "Cannot save the file (is it open in another program?): {name}"),
    # one row of an import
    "row_missing_account": ("계정이 비어 있습니다", "Account is empty"),
    "row_unknown_account": ("없는 계정입니다: {value}", "Unknown account: {value}"),
    "row_ambiguous_account": ("같은 이름의 계정이 여러 개입니다: {value}", "Several accounts have this name: {value}"),
    "row_missing_product_code": ("상품코드가 비어 있습니다", "Product code is empty"),
    "row_code_too_long": ("{field}가 너무 깁니다 (최대 {limit}자)", "{field_en} is too long (at most {limit})"),
    "row_missing_sku": ("출고상품 SKU가 비어 있습니다", "Item SKU is empty"),
    "row_unknown_sku": ("없는 출고상품 SKU입니다: {value}", "Unknown item SKU: {value}"),
    "row_bad_quantity": ("수량은 1~9999의 정수여야 합니다: {value}",
                         "Quantity must be a whole number from 1 to 9999: {value}"),
    "row_duplicate": ("같은 상품에 같은 SKU가 또 있습니다 ({first}행과 중복)",
                      "The same SKU again for this product (see row {first})"),
    "row_product_has_errors": ("같은 상품의 다른 행({rows})에 오류가 있어 이 상품은 가져오지 않습니다",
                               "Not imported: another row of this product has an error (row {rows})"),
}


class _Params(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return ""


def texts(code: str, params: dict[str, Any] | None = None) -> tuple[str, str]:
    """(Korean, English) for a code of this module."""
    ko, en = TEXT.get(code, ("오류가 발생했습니다", "Something went wrong"))
    p = _Params(params or {})
    return ko.format_map(p), en.format_map(p)


class MappingError(KnownError):
    """Bad input to a link or an import: nothing was written."""

    code = "mapping_error"

    @property
    def ko(self) -> str:
        return texts(self.code, self.params)[0]

    @property
    def en(self) -> str:
        return texts(self.code, self.params)[1]


class MappingFileError(MappingError):
    """The file as a whole cannot be imported (not an xlsx, wrong headers)."""


# ---------------------------------------------------------------------------------------------- reading


class LinkState(enum.StrEnum):
    ALL = "all"
    LINKED = "linked"
    UNLINKED = "unlinked"


@dataclass(frozen=True)
class ProductFilter:
    account_id: int | None = None
    state: LinkState = LinkState.ALL
    text: str = ""          # part of the product code, option code, product name or option name
    new_only: bool = False


@dataclass(frozen=True)
class Account:
    id: int
    name: str
    kind: str


@dataclass(frozen=True)
class Component:
    """One item of a link: ``quantity`` of it per unit sold."""

    item_id: int
    sku: str
    name: str
    option_name: str
    quantity: int

    @property
    def label(self) -> str:
        return f"{self.name} {self.option_name}".strip()


@dataclass(frozen=True)
class SalesProductRow:
    id: int
    account_id: int
    account_name: str
    product_code: str
    option_code: str
    product_name: str
    option_name: str
    is_new: bool
    deleted: bool
    components: tuple[Component, ...]

    @property
    def linked(self) -> bool:
        return bool(self.components)

    @property
    def key(self) -> tuple[int, str, str]:
        return (self.account_id, self.product_code, self.option_code)


@dataclass(frozen=True)
class ItemRow:
    id: int
    sku: str
    name: str
    option_name: str
    barcodes: tuple[str, ...]

    @property
    def label(self) -> str:
        return f"{self.name} {self.option_name}".strip()


def list_accounts(s: Session) -> list[Account]:
    A = m.ChannelAccount
    return [Account(r.id, r.name, str(r.kind)) for r in s.execute(select(A.id, A.name, A.kind).order_by(A.name, A.id))]


def _components(s: Session, account_ids: Iterable[int]) -> dict[tuple[int, str, str], tuple[Component, ...]]:
    P, It = m.ProductMapping, m.Item
    ids = set(account_ids)
    found: dict[tuple[int, str, str], list[Component]] = defaultdict(list)
    if not ids:
        return {}
    for r in s.execute(select(P.account_id, P.product_code, P.option_code, P.quantity, It.id, It.sku, It.name,
                              It.option_name).join(It, It.id == P.item_id)
                       .where(P.account_id.in_(ids)).order_by(P.id)):
        found[(r.account_id, r.product_code, r.option_code)].append(
            Component(r.id, r.sku, r.name, r.option_name, r.quantity))
    return {k: tuple(v) for k, v in found.items()}


def _linked_clause() -> Any:
    P, SP = m.ProductMapping, m.SalesProduct
    return exists().where(P.account_id == SP.account_id, P.product_code == SP.product_code,
                          P.option_code == SP.option_code)


def _select_products() -> Any:
    SP, A = m.SalesProduct, m.ChannelAccount
    return (select(SP.id, SP.account_id, A.name.label("account_name"), SP.product_code, SP.option_code,
                   SP.product_name, SP.option_name, SP.is_new, SP.deleted)
            .join(A, A.id == SP.account_id))


def _rows(s: Session, q: Any) -> list[SalesProductRow]:
    found = s.execute(q).all()
    comps = _components(s, {r.account_id for r in found})
    return [SalesProductRow(r.id, r.account_id, r.account_name, r.product_code, r.option_code, r.product_name,
                            r.option_name, bool(r.is_new), bool(r.deleted),
                            comps.get((r.account_id, r.product_code, r.option_code), ()))
            for r in found]


def list_sales_products(s: Session, f: ProductFilter | None = None) -> list[SalesProductRow]:
    """Sales products with their links; unlinked first, then new ones, then by account and code."""
    f = f or ProductFilter()
    SP = m.SalesProduct
    q = _select_products()
    if f.account_id is not None:
        q = q.where(SP.account_id == f.account_id)
    if f.state is LinkState.LINKED:
        q = q.where(_linked_clause())
    elif f.state is LinkState.UNLINKED:
        q = q.where(~_linked_clause())
    if f.new_only:
        q = q.where(SP.is_new.is_(True))
    needle = f.text.strip().lower()
    if needle:
        q = q.where(or_(*(func.lower(c).contains(needle, autoescape=True)
                          for c in (SP.product_code, SP.option_code, SP.product_name, SP.option_name))))
    rows = _rows(s, q)
    rows.sort(key=lambda r: (r.linked, not r.is_new, r.account_name, r.product_code, r.option_code))
    return rows


def get_sales_product(s: Session, sales_product_id: int) -> SalesProductRow | None:
    rows = _rows(s, _select_products().where(m.SalesProduct.id == sales_product_id))
    return rows[0] if rows else None


def find_sales_product(s: Session, account_id: int, product_code: str, option_code: str = "") -> SalesProductRow | None:
    SP = m.SalesProduct
    rows = _rows(s, _select_products().where(SP.account_id == account_id, SP.product_code == product_code,
                                             SP.option_code == option_code))
    return rows[0] if rows else None


def find_items(s: Session, text: str, limit: int = 50) -> list[ItemRow]:
    """Items whose SKU, name, option or a barcode contains ``text`` (any case); exact SKU or barcode
    matches first, so a scanned barcode puts its item on top."""
    It, B = m.Item, m.ItemBarcode
    q = select(It.id, It.sku, It.name, It.option_name)
    needle = text.strip().lower()
    if needle:
        by_barcode = select(B.item_id).where(func.lower(B.barcode).contains(needle, autoescape=True))
        q = q.where(or_(func.lower(It.sku).contains(needle, autoescape=True),
                        func.lower(It.name).contains(needle, autoescape=True),
                        func.lower(It.option_name).contains(needle, autoescape=True),
                        It.id.in_(by_barcode)))
    found = s.execute(q.order_by(It.sku).limit(limit)).all()
    barcodes: dict[int, list[str]] = defaultdict(list)
    if found:
        for b in s.execute(select(B.item_id, B.barcode).where(B.item_id.in_([r.id for r in found])).order_by(B.id)):
            barcodes[b.item_id].append(b.barcode)
    items = [ItemRow(r.id, r.sku, r.name, r.option_name, tuple(barcodes[r.id])) for r in found]
    items.sort(key=lambda it: not (it.sku.lower() == needle or any(b.lower() == needle for b in it.barcodes)))
    return items


# ---------------------------------------------------------------------------------------------- writing


def _check_quantity(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_QUANTITY:
        raise MappingError("mapping_bad_quantity", value=value)
    return value


def _check_components(s: Session, components: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    if not components:
        raise MappingError("mapping_no_components")
    checked = [(item_id, _check_quantity(qty)) for item_id, qty in components]
    ids = [item_id for item_id, _ in checked]
    existing = {r.id: r.sku for r in s.execute(select(m.Item.id, m.Item.sku).where(m.Item.id.in_(ids)))}
    for item_id in ids:
        if item_id not in existing:
            raise MappingError("mapping_unknown_item", item=item_id)
    seen: set[int] = set()
    for item_id in ids:
        if item_id in seen:
            raise MappingError("mapping_duplicate_item", item=existing[item_id])
        seen.add(item_id)
    return checked


_CHUNK = 300  # products per statement: 3 parameters each stays under SQLite's oldest limit of 999


def _replace(s: Session, links: Sequence[tuple[tuple[int, str, str], Sequence[tuple[int, int]]]]) -> None:
    """Make each (key, components) the product's whole link, and the product no longer new. Set-wise
    statements, so an import of thousands of products holds the database thread for milliseconds, not
    seconds. Deletes run before inserts (the unit of work would insert first and break the unique
    constraint for an item that stays in a link)."""
    P, SP = m.ProductMapping, m.SalesProduct
    keys = [key for key, _ in links]
    for i in range(0, len(keys), _CHUNK):
        chunk = keys[i:i + _CHUNK]
        s.execute(delete(P).where(tuple_(P.account_id, P.product_code, P.option_code).in_(chunk)))
        s.execute(update(SP).where(tuple_(SP.account_id, SP.product_code, SP.option_code).in_(chunk),
                                   SP.is_new.is_(True)).values(is_new=False))
    rows = [{"account_id": a, "product_code": pc, "option_code": oc, "item_id": item_id, "quantity": qty}
            for (a, pc, oc), components in links for item_id, qty in components]
    if rows:
        s.execute(insert(P), rows)


def link(s: Session, sales_product_id: int, components: Sequence[tuple[int, int]]) -> SalesProductRow:
    """Make ``components`` [(item id, quantity per unit sold), ...] the product's whole link; it is no
    longer new. Everything is checked before anything is written."""
    sp = s.get(m.SalesProduct, sales_product_id)
    if sp is None:
        raise MappingError("mapping_unknown_product", detail=f"sales product {sales_product_id}")
    checked = _check_components(s, components)
    key = (sp.account_id, sp.product_code, sp.option_code)
    _replace(s, [(key, checked)])
    s.flush()
    log.info("linked %s to %s", key, checked)
    row = get_sales_product(s, sales_product_id)
    assert row is not None
    return row


def unlink(s: Session, sales_product_id: int) -> int:
    """Remove every item of the product's link (the station will refuse it again); returns how many."""
    sp = s.get(m.SalesProduct, sales_product_id)
    if sp is None:
        raise MappingError("mapping_unknown_product", detail=f"sales product {sales_product_id}")
    P = m.ProductMapping
    removed = s.execute(delete(P).where(P.account_id == sp.account_id, P.product_code == sp.product_code,
                                        P.option_code == sp.option_code)).rowcount
    sp.is_new = False
    log.info("unlinked %s (%d rows)", (sp.account_id, sp.product_code, sp.option_code), removed)
    return int(removed or 0)


def mark_seen(s: Session, sales_product_ids: Iterable[int]) -> int:
    ids = list(sales_product_ids)
    if not ids:
        return 0
    SP = m.SalesProduct
    return int(s.execute(update(SP).where(SP.id.in_(ids), SP.is_new.is_(True)).values(is_new=False)).rowcount or 0)


# ---------------------------------------------------------------------------------------------- Excel

# (Korean, English) per column, in file order
COLUMNS: tuple[tuple[str, str], ...] = (
    ("계정", "Account"),
    ("상품코드", "Product code"),
    ("옵션코드", "Option code"),
    ("상품명", "Product name"),
    ("옵션명", "Option name"),
    ("출고상품 SKU", "Item SKU"),
    ("수량", "Quantity"),
)
HEADERS = tuple(f"{ko} / {en}" for ko, en in COLUMNS)
WIDTHS = (24, 18, 18, 44, 26, 20, 10)
SHEET_TITLE = "상품연결"


def export_mappings(s: Session, path: Path, include_unlinked: bool = False) -> int:
    """Write every link, one row per item, to ``path`` (.xlsx); returns the rows written. With
    ``include_unlinked`` each unlinked sales product gets a row with empty SKU and quantity to fill in
    (an import skips such rows)."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    P, A, SP = m.ProductMapping, m.ChannelAccount, m.SalesProduct
    names = {(r.account_id, r.product_code, r.option_code): (r.product_name, r.option_name)
             for r in s.execute(select(SP.account_id, SP.product_code, SP.option_code, SP.product_name,
                                       SP.option_name))}
    rows: list[tuple[Any, ...]] = []
    for r in s.execute(select(A.name, P.account_id, P.product_code, P.option_code, m.Item.sku, P.quantity)
                       .join(A, A.id == P.account_id).join(m.Item, m.Item.id == P.item_id)
                       .order_by(A.name, P.account_id, P.product_code, P.option_code, P.id)):
        pname, oname = names.get((r.account_id, r.product_code, r.option_code), ("", ""))
        rows.append((r.name, r.product_code, r.option_code, pname, oname, r.sku, r.quantity))
    blank_from = len(rows)
    if include_unlinked:
        for r in s.execute(select(A.name, SP.product_code, SP.option_code, SP.product_name, SP.option_name)
                           .join(A, A.id == SP.account_id).where(~_linked_clause())
                           .order_by(A.name, SP.product_code, SP.option_code)):
            rows.append((r.name, r.product_code, r.option_code, r.product_name, r.option_name, None, None))

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = SHEET_TITLE
    ws.append(HEADERS)
    bold, fill = Font(bold=True), PatternFill("solid", fgColor="DDE3EA")
    for cell in ws[1]:
        cell.font, cell.fill = bold, fill
        cell.alignment = Alignment(vertical="center", wrap_text=True)
    todo = PatternFill("solid", fgColor="FFF3C4")
    for n, row in enumerate(rows):
        ws.append(row)
        if n >= blank_from:
            for cell in ws[ws.max_row]:
                cell.fill = todo
    for col, width in enumerate(WIDTHS, start=1):
        letter = get_column_letter(col)
        ws.column_dimensions[letter].width = width
        if col in (2, 3, 6):  # codes stay text when someone types into the sheet (no lost leading zeros)
            for (cell,) in ws.iter_rows(min_row=2, min_col=col, max_col=col):
                cell.number_format = "@"
    ws.row_dimensions[1].height = 32
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(HEADERS))}{max(1, len(rows) + 1)}"

    path = Path(path)
    try:
        fd, tmp = tempfile.mkstemp(suffix=".xlsx", prefix=".packdesk-", dir=path.parent)
        os.close(fd)
        try:
            wb.save(tmp)
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    except OSError as e:
        raise MappingFileError("mapping_export_failed", name=path.name, detail=repr(e)) from e
    log.info("exported %d link rows to %s", len(rows), path)
    return len(rows)


@dataclass(frozen=True)
class FileRow:
    """One data row of an import file as read, before checking."""

    row: int  # the spreadsheet's row number (the header is row 1)
    account: str
    product_code: str
    option_code: str
    product_name: str
    option_name: str
    sku: str
    quantity: object


@dataclass(frozen=True)
class RowError:
    row: int
    code: str
    ko: str
    en: str


@dataclass(frozen=True)
class ValidRow:
    row: int
    account_id: int
    product_code: str
    option_code: str
    item_id: int
    sku: str
    quantity: int


@dataclass(frozen=True)
class ProductPlan:
    """One product the import will (re)link: its whole new link."""

    account_id: int
    product_code: str
    option_code: str
    components: tuple[tuple[int, int], ...]  # (item id, quantity)
    rows: tuple[int, ...]


@dataclass(frozen=True)
class ImportPreview:
    file_name: str
    rows_read: int                     # non-empty data rows
    valid: tuple[ValidRow, ...]        # rows that would be imported (changed or not)
    errors: tuple[RowError, ...]       # rows that will not be imported, and why
    skipped_unlinked: int              # rows with neither SKU nor quantity: an unlinked product, left alone
    changes: tuple[ProductPlan, ...]   # products whose link differs from the database
    unchanged: int                     # products whose link is already exactly this
    parse_ms: float = 0.0
    check_ms: float = 0.0

    @property
    def error_rows(self) -> tuple[int, ...]:
        return tuple(sorted({e.row for e in self.errors}))


@dataclass(frozen=True)
class ImportResult:
    products: int
    rows: int


def _cell_text(v: object) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, datetime | date):
        return v.isoformat()
    return str(v).strip()


def _norm_header(v: object) -> str:
    return re.sub(r"\s+", " ", re.sub(r"\s*/\s*", "/", _cell_text(v))).strip().lower()


_ACCEPTED = [{_norm_header(h), _norm_header(ko), _norm_header(en)}
             for h, (ko, en) in zip(HEADERS, COLUMNS, strict=True)]


def read_mapping_file(path: Path) -> list[FileRow]:
    """The data rows of a link sheet (first worksheet, headers in row 1). Raises ``MappingFileError``
    when the file is not an .xlsx or its headers are not ours; the rows themselves are checked later."""
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    path = Path(path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl's style/extension notes about files from other tools
            wb = load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, OSError, KeyError, ValueError, TypeError) as e:
        raise MappingFileError("mapping_file_unreadable", name=path.name, detail=repr(e)) from e
    ws = wb.worksheets[0] if wb.worksheets else None
    rows_iter = ws.iter_rows(values_only=True) if ws is not None else iter(())
    try:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                header = next(rows_iter, None)
                ok = header is not None and len(header) >= len(HEADERS) and all(
                    _norm_header(v) in acc for v, acc in zip(header, _ACCEPTED, strict=False))
                if not ok:
                    raise MappingFileError("mapping_file_headers", expected=", ".join(HEADERS),
                                           detail=f"header row: {header!r}")
                out: list[FileRow] = []
                for n, values in enumerate(rows_iter, start=2):
                    cells = (*values[:len(HEADERS)], *([None] * (len(HEADERS) - len(values))))
                    if all(_cell_text(v) == "" for v in cells):
                        continue
                    texts_ = [_cell_text(v) for v in cells[:6]]
                    out.append(FileRow(n, *texts_, cells[6]))
        except MappingFileError:
            raise
        except (zipfile.BadZipFile, OSError, KeyError, ValueError, TypeError) as e:
            raise MappingFileError("mapping_file_unreadable", name=path.name, detail=repr(e)) from e
    finally:
        close = getattr(rows_iter, "close", None)
        if close is not None:
            close()  # an unfinished sheet reader keeps the zip file open past wb.close()
        wb.close()
    return out


def _quantity(v: object) -> int | None:
    if isinstance(v, bool) or v is None:
        return None
    if isinstance(v, float):
        v = int(v) if v.is_integer() else None
    elif isinstance(v, str):
        t = v.strip()
        if re.fullmatch(r"\d+(\.0+)?", t):
            v = int(t.split(".")[0])
        else:
            return None
    if isinstance(v, int) and 1 <= v <= MAX_QUANTITY:
        return v
    return None


def validate_rows(s: Session, rows: Sequence[FileRow], file_name: str = "") -> ImportPreview:
    """Check every row against the database (a few bulk reads) and plan the changes."""
    started = time.perf_counter()
    accounts: dict[str, list[int]] = defaultdict(list)
    accounts_folded: dict[str, list[int]] = defaultdict(list)
    for acc in list_accounts(s):
        accounts[acc.name.strip()].append(acc.id)
        accounts_folded[acc.name.strip().lower()].append(acc.id)
    skus: dict[str, int] = {r.sku: r.id for r in s.execute(select(m.Item.sku, m.Item.id))}
    skus_folded: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for sku, item_id in skus.items():
        skus_folded[sku.lower()].append((sku, item_id))

    def err(row: int, code: str, **params: Any) -> RowError:
        ko, en = texts(code, params)
        return RowError(row, code, ko, en)

    errors: list[RowError] = []
    skipped = 0
    # rows grouped by product (by the account they name, resolved or not): one bad row holds its product back
    groups: dict[tuple[object, str, str], list[FileRow]] = defaultdict(list)
    good: dict[int, ValidRow] = {}
    for r in rows:
        if not r.sku and _cell_text(r.quantity) == "":
            skipped += 1   # an unlinked product's row from an export: nothing to import
            continue
        problems: list[RowError] = []
        account_id: int | None = None
        if not r.account:
            problems.append(err(r.row, "row_missing_account"))
        else:
            ids = accounts.get(r.account) or accounts_folded.get(r.account.lower(), [])
            if not ids:
                problems.append(err(r.row, "row_unknown_account", value=r.account))
            elif len(ids) > 1:
                problems.append(err(r.row, "row_ambiguous_account", value=r.account))
            else:
                account_id = ids[0]
        groups[(account_id if account_id is not None else r.account.lower(), r.product_code, r.option_code)].append(r)
        if not r.product_code:
            problems.append(err(r.row, "row_missing_product_code"))
        elif len(r.product_code) > MAX_PRODUCT_CODE:
            problems.append(err(r.row, "row_code_too_long", field="상품코드", field_en="Product code",
                                limit=MAX_PRODUCT_CODE))
        if len(r.option_code) > MAX_OPTION_CODE:
            problems.append(err(r.row, "row_code_too_long", field="옵션코드", field_en="Option code",
                                limit=MAX_OPTION_CODE))
        item_id: int | None = None
        if not r.sku:
            problems.append(err(r.row, "row_missing_sku"))
        else:
            item_id = skus.get(r.sku)
            if item_id is None:
                folded = skus_folded.get(r.sku.lower(), [])
                item_id = folded[0][1] if len(folded) == 1 else None
            if item_id is None:
                problems.append(err(r.row, "row_unknown_sku", value=r.sku))
        qty = _quantity(r.quantity)
        if qty is None:
            problems.append(err(r.row, "row_bad_quantity", value=_cell_text(r.quantity) or "(빈 칸 / empty)"))
        if problems:
            errors.extend(problems)
        else:
            assert account_id is not None and item_id is not None and qty is not None
            good[r.row] = ValidRow(r.row, account_id, r.product_code, r.option_code, item_id, r.sku, qty)

    current = _components(s, {v.account_id for v in good.values()})
    valid: list[ValidRow] = []
    changes: list[ProductPlan] = []
    unchanged = 0
    for group in groups.values():
        linkable = [r for r in group if r.row in good]
        if not linkable:
            continue
        first_for_item: dict[int, int] = {}
        for r in linkable:
            v = good[r.row]
            if v.item_id in first_for_item:
                errors.append(err(r.row, "row_duplicate", first=first_for_item[v.item_id]))
                del good[r.row]
            else:
                first_for_item[v.item_id] = r.row
        bad_rows = sorted({e.row for e in errors} & {r.row for r in group})
        kept = [good[r.row] for r in group if r.row in good]
        if bad_rows:
            listed = ", ".join(map(str, bad_rows))
            errors.extend(err(v.row, "row_product_has_errors", rows=listed) for v in kept)
            continue
        valid.extend(kept)
        key = (kept[0].account_id, kept[0].product_code, kept[0].option_code)
        comps = tuple((v.item_id, v.quantity) for v in kept)
        if sorted(comps) == sorted((c.item_id, c.quantity) for c in current.get(key, ())):
            unchanged += 1
        else:
            changes.append(ProductPlan(*key, comps, tuple(v.row for v in kept)))
    errors.sort(key=lambda e: e.row)
    valid.sort(key=lambda v: v.row)
    return ImportPreview(file_name, len(rows), tuple(valid), tuple(errors), skipped, tuple(changes), unchanged,
                         check_ms=(time.perf_counter() - started) * 1000)


def preview_import(s: Session, path: Path) -> ImportPreview:
    """Read and check a link sheet without writing anything."""
    started = time.perf_counter()
    rows = read_mapping_file(path)
    parse_ms = (time.perf_counter() - started) * 1000
    p = validate_rows(s, rows, Path(path).name)
    log.info("import preview of %s: %d rows read in %.0f ms, checked in %.0f ms; %d changes, %d errors",
             Path(path).name, p.rows_read, parse_ms, p.check_ms, len(p.changes), len(p.errors))
    return ImportPreview(p.file_name, p.rows_read, p.valid, p.errors, p.skipped_unlinked, p.changes, p.unchanged,
                         parse_ms=parse_ms, check_ms=p.check_ms)


def apply_import(s: Session, preview: ImportPreview) -> ImportResult:
    """Write the preview's changes (in the caller's one transaction); rows with errors were never part of
    them. Checked again first: an item deleted since the preview stops the whole import."""
    item_ids = {item_id for plan in preview.changes for item_id, _ in plan.components}
    if item_ids:
        present = set(s.scalars(select(m.Item.id).where(m.Item.id.in_(item_ids))))
        if present != item_ids:
            raise MappingError("mapping_import_stale", detail=f"items gone: {sorted(item_ids - present)}")
    _replace(s, [((p.account_id, p.product_code, p.option_code), p.components) for p in preview.changes])
    rows = sum(len(p.components) for p in preview.changes)
    log.info("imported %s: %d products relinked (%d rows)", preview.file_name, len(preview.changes), rows)
    return ImportResult(len(preview.changes), rows)
