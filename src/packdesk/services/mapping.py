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

- shipping items made straight from sales products (one per product or option, in one step) are checked
  completely first — SKU and barcodes unique, a barcode is never a station command or a packer badge —
  then created and linked in one transaction, so the station can pack the product at once.

The link screen lists products page by page (``ProductFilter.limit``): the order it shows (not linked
first, then new, then account and code) is the database's, and only the page's links are read, so a
filter over 30,000 sales products stays within tens of milliseconds (``bench/catalogue.py``).

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
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import case, delete, exists, func, insert, or_, select, tuple_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from packdesk.channels import excel as sheets
from packdesk.core import models as m
from packdesk.core.db import changed_rows
from packdesk.core.errors import KnownError, Words, describe_error
from packdesk.core.text import clean_text, contains, search_text
from packdesk.core.words import MARKET, label, words
from packdesk.services.station import COMMAND_PREFIX

log = logging.getLogger("packdesk.mapping")

MAX_QUANTITY = 9999
MAX_PRODUCT_CODE = 64    # column sizes of product_mappings
MAX_OPTION_CODE = 128
MAX_SKU = 64             # column sizes of items and item_barcodes
MAX_ITEM_NAME = 200
MAX_BARCODE = 64
PAGE_SIZE = 300          # products the link screen shows at once; a filter narrows the rest

def status_text(status: str) -> tuple[str, str]:
    """(Korean, English) of a marketplace status; an unknown word as it is, none as 주문에서 확인 (seen only
    in collected orders or imports)."""
    if not status:
        return "주문에서 확인", "Seen in orders"
    return label(MARKET, status.upper())


def texts(code: str, params: dict[str, Any] | None = None) -> tuple[str, str]:
    """(Korean, English) for a code of this module (words in ``core/words/sheets.py``)."""
    return words(code, params)


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
    text: str = ""          # words, each in a product or option code, seller code, product or option name
    new_only: bool = False
    include_deleted: bool = False  # products the marketplace no longer lists: hidden unless asked for
    limit: int | None = PAGE_SIZE  # None: every match (exports, tests)


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
    status: str = ""        # the marketplace's word (SALE, OUTOFSTOCK, ...); "" when only seen in orders
    seller_code: str = ""   # the seller's own management code, when the marketplace has one

    @property
    def linked(self) -> bool:
        return bool(self.components)

    @property
    def key(self) -> tuple[int, str, str]:
        return (self.account_id, self.product_code, self.option_code)

    @property
    def code(self) -> str:
        """The sales product's code as its links know it: product code, and option code when there is one."""
        return f"{self.product_code} / {self.option_code}" if self.option_code else self.product_code

    @property
    def label(self) -> str:
        return f"{self.product_name} {self.option_name}".strip() or self.code


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

    def matches_exactly(self, code: str) -> bool:
        """``code`` is this item's SKU or one of its barcodes (any case: a scan in Hangul mode loses it)."""
        folded = code.strip().lower()
        return bool(folded) and (self.sku.lower() == folded or any(b.lower() == folded for b in self.barcodes))


@dataclass(frozen=True)
class ProductCounts:
    total: int      # products matching the filter
    unlinked: int
    new: int


@dataclass(frozen=True)
class ProductPage:
    """What the link screen shows for a filter: the first ``limit`` products and the counts of all (``None``
    when the page is full and its counts were left for a second read, ``count_sales_products``)."""

    rows: list[SalesProductRow]
    counts: ProductCounts | None

    @property
    def truncated(self) -> bool:
        return self.counts is None or len(self.rows) < self.counts.total


def list_accounts(s: Session) -> list[Account]:
    A = m.ChannelAccount
    return [Account(r.id, r.name, str(r.kind)) for r in s.execute(select(A.id, A.name, A.kind).order_by(A.name, A.id))]


def _components(s: Session, account_ids: Iterable[int]) -> dict[tuple[int, str, str], tuple[Component, ...]]:
    """Every link of these accounts (validation of a whole import file)."""
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


def _by_code(keys: Iterable[tuple[int, str, str]]) -> Iterator[tuple[list[int], list[str], set[tuple[int, str, str]]]]:
    """Keys in groups for ``account_id IN (..) AND product_code IN (..)``: the unique index of product_mappings
    answers that by seeks (a row-value IN list would be a scan of the whole table on SQLite), and the option
    code is matched here. One group per ``_CODES`` product codes."""
    wanted = set(keys)
    codes = sorted({k[1] for k in wanted})
    accounts = sorted({k[0] for k in wanted})
    for i in range(0, len(codes), _CODES):
        yield accounts, codes[i:i + _CODES], wanted


def _components_of(s: Session, keys: Iterable[tuple[int, str, str]]) -> dict[tuple[int, str, str],
                                                                            tuple[Component, ...]]:
    """The links of these products only (a page of the list: never the whole catalogue's)."""
    P, It = m.ProductMapping, m.Item
    found: dict[tuple[int, str, str], list[Component]] = defaultdict(list)
    for accounts, codes, wanted in _by_code(keys):
        for account_id, code, option, qty, item_id, sku, name, option_name in s.connection().execute(
                select(P.account_id, P.product_code, P.option_code, P.quantity, It.id, It.sku, It.name,
                       It.option_name).join(It, It.id == P.item_id)
                .where(P.account_id.in_(accounts), P.product_code.in_(codes)).order_by(P.id)):
            key = (account_id, code, option)
            if key in wanted:
                found[key].append(Component(item_id, sku, name, option_name, qty))
    return {k: tuple(v) for k, v in found.items()}


def _linked_clause() -> Any:
    P, SP = m.ProductMapping, m.SalesProduct
    return exists().where(P.account_id == SP.account_id, P.product_code == SP.product_code,
                          P.option_code == SP.option_code)


def _select_products() -> Any:
    SP, A = m.SalesProduct, m.ChannelAccount
    return (select(SP.id, SP.account_id, A.name.label("account_name"), SP.product_code, SP.option_code,
                   SP.product_name, SP.option_name, SP.is_new, SP.deleted, SP.status, SP.seller_code)
            .join(A, A.id == SP.account_id))


def _rows(s: Session, q: Any) -> list[SalesProductRow]:
    found = s.connection().execute(q).all()
    comps = _components_of(s, ((r[1], r[3], r[4]) for r in found))
    return [SalesProductRow(sp_id, account_id, account_name, code, option, name, option_name, bool(is_new),
                            bool(deleted), comps.get((account_id, code, option), ()), status or "", seller or "")
            for sp_id, account_id, account_name, code, option, name, option_name, is_new, deleted, status, seller
            in found]


def _contains(s: Session, column: Any, word: str) -> Any:
    """``column`` holds ``word`` in any case, as plain text (``core/text.contains``)."""
    return contains(column, word, s.get_bind().dialect.name)


def _where(s: Session, q: Any, f: ProductFilter) -> Any:
    SP = m.SalesProduct
    if f.account_id is not None:
        q = q.where(SP.account_id == f.account_id)
    if not f.include_deleted:
        q = q.where(SP.deleted.is_(False))
    if f.state is LinkState.LINKED:
        q = q.where(_linked_clause())
    elif f.state is LinkState.UNLINKED:
        q = q.where(~_linked_clause())
    if f.new_only:
        q = q.where(SP.is_new.is_(True))
    # every word somewhere: "머그컵 블랙" finds the black option of a mug. The longest word first (the
    # likeliest to rule a product out, so the others are not tried), and names before codes (most searches
    # are names: a match ends the row's OR early)
    for word in sorted(dict.fromkeys(search_text(f.text).split()), key=len, reverse=True):
        q = q.where(or_(*(_contains(s, c, word) for c in (SP.product_name, SP.option_name, SP.product_code,
                                                          SP.option_code, SP.seller_code))))
    return q


def _page(s: Session, f: ProductFilter) -> list[int]:
    """The ids of the page in the screen's order: not linked first, then new, then account and code.

    Whether a product is linked is a lookup in product_mappings per product: at 30,000 products that and
    the word search are the costly parts, so the lookup is made only for products that may be shown:
    - words typed: one pass over the table finds the matches, each with its link state, and the database
      keeps the first page of them in order (a top-N sort; no list of all matches goes through Python);
    - no words (the whole catalogue, an account, new only): each link state and newness is its own query,
      walked in (account, code) order along the unique index and stopped as soon as the page is full, so
      most products are never looked at."""
    SP = m.SalesProduct
    conn = s.connection()  # Core rows: the ORM's row handling would cost more than the query here
    order = (SP.account_id, SP.product_code, SP.option_code)
    if f.limit is None or search_text(f.text):
        q = _where(s, select(SP.id), f).order_by(_linked_clause(), SP.is_new.desc(), *order)
        return list(conn.scalars(q if f.limit is None else q.limit(f.limit)))
    plain = ProductFilter(f.account_id, LinkState.ALL, "", f.new_only, f.include_deleted, None)
    ids: list[int] = []
    for is_linked in (False, True):
        if f.state is not LinkState.ALL and is_linked != (f.state is LinkState.LINKED):
            continue
        for is_new in (True, False):
            if (f.new_only and not is_new) or len(ids) >= f.limit:
                continue
            q = _where(s, select(SP.id), plain).where(_linked_clause() if is_linked else ~_linked_clause(),
                                                      SP.is_new.is_(is_new))
            ids.extend(conn.scalars(q.order_by(*order).limit(f.limit - len(ids))))
    return ids


def list_sales_products(s: Session, f: ProductFilter | None = None) -> list[SalesProductRow]:
    """Sales products with their links: not linked first, then new ones, then by account and code; at most
    ``f.limit`` of them (``None``: all). Deleted products only with ``include_deleted``. Only the page is
    read whole, with its links (see ``_page`` for how the order is found without sorting every product)."""
    return get_sales_products(s, _page(s, f or ProductFilter()))


def count_sales_products(s: Session, f: ProductFilter | None = None) -> ProductCounts:
    """How many products match the filter, how many of them are not linked and how many are new."""
    f = f or ProductFilter()
    SP = m.SalesProduct
    q = _where(s, select(func.count(), func.coalesce(func.sum(case((~_linked_clause(), 1), else_=0)), 0),
                         func.coalesce(func.sum(case((SP.is_new.is_(True), 1), else_=0)), 0)).select_from(SP), f)
    total, unlinked, new = s.execute(q).one()
    return ProductCounts(int(total), int(unlinked), int(new))


def product_page(s: Session, f: ProductFilter | None = None, *, count: bool = True) -> ProductPage:
    """The screen's read: the page, and the counts of every match (a count of its own only when the page is
    full, and only with ``count``: the screen shows a full page first and counts in a second read; a page that
    holds every match counts itself)."""
    f = f or ProductFilter()
    rows = list_sales_products(s, f)
    counts: ProductCounts | None
    if f.limit is not None and len(rows) >= f.limit:
        counts = count_sales_products(s, f) if count else None
    else:
        counts = ProductCounts(len(rows), sum(not r.linked for r in rows), sum(r.is_new for r in rows))
    return ProductPage(rows, counts)


def get_sales_product(s: Session, sales_product_id: int) -> SalesProductRow | None:
    rows = _rows(s, _select_products().where(m.SalesProduct.id == sales_product_id))
    return rows[0] if rows else None


def get_sales_products(s: Session, sales_product_ids: Iterable[int]) -> list[SalesProductRow]:
    """These products, in the order asked (unknown ids left out)."""
    ids = list(dict.fromkeys(sales_product_ids))
    found: dict[int, SalesProductRow] = {}
    for i in range(0, len(ids), _CODES):
        found.update((r.id, r) for r in _rows(s, _select_products().where(m.SalesProduct.id.in_(ids[i:i + _CODES]))))
    return [found[i] for i in ids if i in found]


def find_sales_product(s: Session, account_id: int, product_code: str, option_code: str = "") -> SalesProductRow | None:
    SP = m.SalesProduct
    rows = _rows(s, _select_products().where(SP.account_id == account_id, SP.product_code == product_code,
                                             SP.option_code == option_code))
    return rows[0] if rows else None


def _item_rows(s: Session, found: Sequence[Any]) -> list[ItemRow]:
    B = m.ItemBarcode
    barcodes: dict[int, list[str]] = defaultdict(list)
    if found:
        for b in s.execute(select(B.item_id, B.barcode).where(B.item_id.in_([r.id for r in found])).order_by(B.id)):
            barcodes[b.item_id].append(b.barcode)
    return [ItemRow(r.id, r.sku, r.name, r.option_name, tuple(barcodes[r.id])) for r in found]


def _exact_items(s: Session, code: str, limit: int = 10) -> list[Any]:
    """Items whose SKU or a barcode is ``code``: exactly (the unique indexes), else in any case."""
    It, B = m.Item, m.ItemBarcode
    q = select(It.id, It.sku, It.name, It.option_name)
    hits = s.execute(q.where(or_(It.sku == code, It.id.in_(select(B.item_id).where(B.barcode == code))))
                     .order_by(It.sku).limit(limit)).all()
    if not hits and code.lower() != code.upper():
        folded = code.lower()
        hits = s.execute(q.where(or_(func.lower(It.sku) == folded,
                                     It.id.in_(select(B.item_id).where(func.lower(B.barcode) == folded))))
                         .order_by(It.sku).limit(limit)).all()
    return list(hits)


def find_items(s: Session, text: str, limit: int = 50) -> list[ItemRow]:
    """Items whose SKU, name, option or a barcode contains ``text`` (any case); exact SKU or barcode
    matches first (looked up on their own, so a scanned barcode's item is never cut off by the limit)."""
    It, B = m.Item, m.ItemBarcode
    needle = search_text(text)
    exact = _exact_items(s, needle) if needle else []
    q = select(It.id, It.sku, It.name, It.option_name)
    if needle:
        by_barcode = select(B.item_id).where(_contains(s, B.barcode, needle))
        q = q.where(or_(_contains(s, It.sku, needle), _contains(s, It.name, needle),
                        _contains(s, It.option_name, needle), It.id.in_(by_barcode)))
    if exact:
        q = q.where(It.id.not_in([r.id for r in exact]))
    rest = s.execute(q.order_by(It.sku).limit(max(0, limit - len(exact)))).all()
    return _item_rows(s, [*exact, *rest][:limit])


def barcode_owner(s: Session, barcode: str) -> ItemRow | None:
    """The item that has this barcode (any case: the station matches a scan case-insensitively when it has
    to), or None."""
    code = clean_text(barcode).strip()
    if not code:
        return None
    B = m.ItemBarcode
    ids = list(s.scalars(select(B.item_id).where(B.barcode == code).limit(1))) or list(
        s.scalars(select(B.item_id).where(func.lower(B.barcode) == code.lower()).limit(1)))
    if not ids:
        return None
    It = m.Item
    return _item_rows(s, s.execute(select(It.id, It.sku, It.name, It.option_name).where(It.id == ids[0])).all())[0]


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
_CODES = 900  # product codes per statement, beside a few account ids: under that limit too


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
    removed = changed_rows(s.execute(delete(P).where(P.account_id == sp.account_id, P.product_code == sp.product_code,
                                                     P.option_code == sp.option_code)))
    sp.is_new = False
    log.info("unlinked %s (%d rows)", (sp.account_id, sp.product_code, sp.option_code), removed)
    return int(removed or 0)


def mark_seen(s: Session, sales_product_ids: Iterable[int]) -> int:
    ids = list(sales_product_ids)
    if not ids:
        return 0
    SP = m.SalesProduct
    return int(changed_rows(s.execute(update(SP).where(SP.id.in_(ids), SP.is_new.is_(True)).values(is_new=False))) or 0)


# ---------------------------------------------------------------------------------------------- new items


class NameRule(enum.StrEnum):
    """How an item made from a sales product is named."""

    PRODUCT_AND_OPTION = "product_option"  # 상품명 + 옵션명 (the default)
    OPTION_ONLY = "option"                 # 옵션명만 (the product's name when it has no option)
    TYPED = "typed"                        # typed by hand (one product at a time)


def item_name(row: SalesProductRow, rule: NameRule, typed: str = "") -> tuple[str, str]:
    """(name, option name) of the item made from ``row``: the station shows both, side by side."""
    if rule is NameRule.TYPED:
        return typed.strip(), ""
    if rule is NameRule.OPTION_ONLY:
        return (row.option_name.strip() or row.product_name.strip())[:MAX_ITEM_NAME], ""
    return row.product_name.strip()[:MAX_ITEM_NAME], row.option_name.strip()[:MAX_ITEM_NAME]


def default_sku(row: SalesProductRow) -> str:
    """The seller's own code when the marketplace has one, else "product code-option code"."""
    code = row.seller_code.strip() or (f"{row.product_code}-{row.option_code}" if row.option_code
                                       else row.product_code)
    return code.strip()[:MAX_SKU].strip()


@dataclass(frozen=True)
class NewItem:
    """A shipping item to make from one sales product, and link to it: ``quantity`` per unit sold (a
    12-pack is 12 of this item)."""

    sales_product_id: int
    sku: str
    name: str
    option_name: str = ""
    barcodes: tuple[str, ...] = ()
    quantity: int = 1


@dataclass(frozen=True)
class ItemProblem:
    index: int  # which ``NewItem`` (0-based; the dialog's line is index + 1); -1: the whole request
    code: str
    ko: str
    en: str


class ItemsRefused(MappingError):
    """Nothing was created: every problem of every line, so one look fixes them all."""

    code = "items_refused"

    def __init__(self, problems: Sequence[ItemProblem], *, detail: str = "") -> None:
        first = problems[0] if problems else ItemProblem(-1, "item_none", *texts("item_none"))
        line_ko = f"{first.index + 1}번째 줄: " if first.index >= 0 else ""
        line_en = f"line {first.index + 1}: " if first.index >= 0 else ""
        super().__init__(detail=detail or "; ".join(f"{p.index}:{p.code}" for p in problems),
                         count=len(problems), first=Words(line_ko + first.ko, line_en + first.en))
        self.problems = tuple(problems)


_BARCODE_CHARS = re.compile(r"[!-~]+")  # printable ASCII, no space: what a scanner sends (Hangul mode decoded)


def barcode_looks_valid(code: str) -> bool:
    """Up to ``MAX_BARCODE`` printable ASCII characters without spaces: what scanners send (a scan made in
    Hangul mode arrives decoded back to its keys). Typed Hangul is never a barcode."""
    return 0 < len(code) <= MAX_BARCODE and _BARCODE_CHARS.fullmatch(code) is not None


def _item_label(sku: str, name: str, option_name: str) -> str:
    return f"{sku} ({f'{name} {option_name}'.strip()})"


def check_new_items(s: Session, new: Sequence[NewItem]) -> list[ItemProblem]:
    """Everything that would stop ``create_items``, line by line (a few bulk reads; nothing written)."""
    problems: list[ItemProblem] = []

    def add(index: int, code: str, **params: Any) -> None:
        problems.append(ItemProblem(index, code, *texts(code, params)))

    if not new:
        add(-1, "item_none")
        return problems
    SP, It, B = m.SalesProduct, m.Item, m.ItemBarcode
    ids = [n.sales_product_id for n in new]
    present = set(s.scalars(select(SP.id).where(SP.id.in_(ids))))
    skus = {n.sku.strip().lower() for n in new if n.sku.strip()}
    taken_skus: dict[str, str] = {}
    if skus:
        for r in s.execute(select(It.sku, It.name, It.option_name).where(func.lower(It.sku).in_(sorted(skus)))):
            taken_skus[r.sku.lower()] = _item_label(r.sku, r.name, r.option_name)
    codes = {b.strip().lower() for n in new for b in n.barcodes if b.strip()}
    taken_codes: dict[str, str] = {}
    badges: set[str] = set()
    if codes:
        for c in s.execute(select(B.barcode, It.sku, It.name, It.option_name).join(It, It.id == B.item_id)
                           .where(func.lower(B.barcode).in_(sorted(codes)))):
            taken_codes[c.barcode.lower()] = _item_label(c.sku, c.name, c.option_name)
        badges = {b.lower() for b in s.scalars(select(m.Packer.badge_code).where(
            func.lower(m.Packer.badge_code).in_(sorted(codes)))) if b}
    first_product: dict[int, int] = {}
    first_sku: dict[str, int] = {}
    first_code: dict[str, int] = {}
    for i, n in enumerate(new):
        if n.sales_product_id not in present:
            add(i, "mapping_unknown_product")
        elif n.sales_product_id in first_product:
            add(i, "item_product_repeated", other=first_product[n.sales_product_id] + 1)
        else:
            first_product[n.sales_product_id] = i
        name = n.name.strip()
        if not name:
            add(i, "item_name_empty")
        elif len(name) > MAX_ITEM_NAME or len(n.option_name.strip()) > MAX_ITEM_NAME:
            add(i, "item_name_too_long", limit=MAX_ITEM_NAME)
        sku = n.sku.strip()
        if not sku:
            add(i, "item_sku_empty")
        elif len(sku) > MAX_SKU:
            add(i, "item_sku_too_long", sku=sku, limit=MAX_SKU)
        elif sku.lower() in taken_skus:
            add(i, "item_sku_taken", sku=sku, item=taken_skus[sku.lower()])
        elif sku.lower() in first_sku:
            add(i, "item_sku_repeated", sku=sku, other=first_sku[sku.lower()] + 1)
        else:
            first_sku[sku.lower()] = i
        for raw in n.barcodes:
            code = raw.strip()
            folded = code.lower()
            if not barcode_looks_valid(code):
                add(i, "item_barcode_bad", barcode=code, limit=MAX_BARCODE)
            elif folded.startswith(COMMAND_PREFIX.lower()) or folded in badges:
                add(i, "item_barcode_reserved", barcode=code)
            elif folded in taken_codes:
                add(i, "item_barcode_taken", barcode=code, item=taken_codes[folded])
            elif folded in first_code:
                add(i, "item_barcode_repeated", barcode=code, other=first_code[folded] + 1)
            else:
                first_code[folded] = i
        if isinstance(n.quantity, bool) or not isinstance(n.quantity, int) or not 1 <= n.quantity <= MAX_QUANTITY:
            add(i, "mapping_bad_quantity", value=n.quantity)
    return problems


def create_items(s: Session, new: Sequence[NewItem]) -> list[SalesProductRow]:
    """Make each ``NewItem`` (with its barcodes) and make it its sales product's whole link, in the caller's
    one transaction; a product that was linked is relinked to its new item. Everything is checked first
    (``ItemsRefused`` lists every problem; nothing is written). Returns the products, now linked."""
    problems = check_new_items(s, new)
    if problems:
        raise ItemsRefused(problems)
    products = {r.id: r for r in get_sales_products(s, [n.sales_product_id for n in new])}
    made: list[tuple[NewItem, m.Item]] = []
    for n in new:
        item = m.Item(sku=n.sku.strip(), name=n.name.strip(), option_name=n.option_name.strip(),
                      barcodes=[m.ItemBarcode(barcode=b.strip()) for b in n.barcodes])
        s.add(item)
        made.append((n, item))
    try:
        s.flush()
    except IntegrityError as e:  # two stations saving the same SKU at once: the unique index says no to one
        # (the caller rolls the transaction back: this refusal, like every other, writes nothing)
        raise ItemsRefused([ItemProblem(-1, "item_conflict", *texts("item_conflict"))], detail=describe_error(e)) from e
    _replace(s, [(products[n.sales_product_id].key, [(item.id, n.quantity)]) for n, item in made])
    s.flush()
    log.info("created %d items and linked them: %s", len(made),
             [(products[n.sales_product_id].key, item.sku, n.quantity) for n, item in made])
    return get_sales_products(s, [n.sales_product_id for n in new])


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
        for u in s.execute(select(A.name, SP.product_code, SP.option_code, SP.product_name, SP.option_name)
                           .join(A, A.id == SP.account_id).where(~_linked_clause(), SP.deleted.is_(False))
                           .order_by(A.name, SP.product_code, SP.option_code)):
            rows.append((u.name, u.product_code, u.option_code, u.product_name, u.option_name, None, None))

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
    values: tuple[object, ...] = ()  # every cell of the row as read, extra columns too (the failure file)


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
    source: sheets.Sheet | None = None  # the file as read: the failure file gives its bad rows back

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
    return _read_mapping_sheet(path).rows


@dataclass(frozen=True)
class _MappingSheet:
    title: str
    header: tuple[object, ...]
    rows: list[FileRow]


def _read_mapping_sheet(path: Path) -> _MappingSheet:
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
                assert header is not None
                out: list[FileRow] = []
                for n, values in enumerate(rows_iter, start=2):
                    cells = (*values[:len(HEADERS)], *([None] * (len(HEADERS) - len(values))))
                    if all(_cell_text(v) == "" for v in cells):
                        continue  # a note beside the table, or an empty row
                    texts_ = [_cell_text(v) for v in cells[:6]]
                    out.append(FileRow(n, texts_[0], texts_[1], texts_[2], texts_[3], texts_[4], texts_[5], cells[6],
                                       values=tuple(values)))
        except MappingFileError:
            raise
        except (zipfile.BadZipFile, OSError, KeyError, ValueError, TypeError) as e:
            raise MappingFileError("mapping_file_unreadable", name=path.name, detail=repr(e)) from e
    finally:
        close = getattr(rows_iter, "close", None)
        if close is not None:
            close()  # an unfinished sheet reader keeps the zip file open past wb.close()
        wb.close()
    return _MappingSheet(ws.title if ws is not None else SHEET_TITLE, tuple(header), out)


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
    for sku, sku_item in skus.items():
        skus_folded[sku.lower()].append((sku, sku_item))

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
            problems.append(err(r.row, "row_code_too_long", field=Words("상품코드", "Product code"),
                                limit=MAX_PRODUCT_CODE))
        if len(r.option_code) > MAX_OPTION_CODE:
            problems.append(err(r.row, "row_code_too_long", field=Words("옵션코드", "Option code"),
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
    sheet = _read_mapping_sheet(path)
    parse_ms = (time.perf_counter() - started) * 1000
    name = Path(path).name
    p = validate_rows(s, sheet.rows, name)
    log.info("import preview of %s: %d rows read in %.0f ms, checked in %.0f ms; %d changes, %d errors",
             name, p.rows_read, parse_ms, p.check_ms, len(p.changes), len(p.errors))
    source = sheets.Sheet(name, sheet.title, 1, tuple(_cell_text(v) for v in sheet.header), sheet.header, (),
                          tuple(sheets.SheetRow(r.row, r.values) for r in sheet.rows))
    return ImportPreview(p.file_name, p.rows_read, p.valid, p.errors, p.skipped_unlinked, p.changes, p.unchanged,
                         parse_ms=parse_ms, check_ms=p.check_ms, source=source)


def write_failure_file(path: Path, preview: ImportPreview) -> int:
    """The rows that will not be imported, as they were in the file (every column, the header row too), with
    the reasons in Korean and English in a last column: fixed in Excel, the file imports as it is (the
    reason column is ignored; a failure file failing again gets new reasons instead of a second column).
    Every row of a product with a bad row is in it, so the product comes back whole. Returns the rows."""
    if preview.source is None:
        raise MappingFileError("mapping_export_failed", name=Path(path).name, detail="preview without its rows")
    errors = [sheets.RowError(e.row, "", e.code, e.ko, e.en) for e in preview.errors]
    try:
        written = sheets.write_failure_file(Path(path), preview.source, errors)
    except sheets.ExcelError as e:
        raise MappingFileError("mapping_export_failed", name=Path(path).name, detail=e.detail) from e
    return written


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
