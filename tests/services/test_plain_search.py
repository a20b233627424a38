"""What a person types into a search box is matched as plain text, the same on SQLite and PostgreSQL: ``%`` and
``_`` are no wildcards, ``\\`` is no escape character (PostgreSQL's LIKE takes it as one unless told otherwise),
and a NUL character (which PostgreSQL refuses in any text) breaks no search."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from packdesk.channels.base import LineRecord, OrderRecord
from packdesk.core import models as m
from packdesk.core.db import Database
from packdesk.core.enums import ChannelKind, LineStatus
from packdesk.services import mapping as mp
from packdesk.services import review
from packdesk.services.collect import store_orders_in_chunks
from packdesk.services.orders import search_orders

# one name per trap: each search below must find its own row and nothing else
NAMES = {"pct": "할인 100% 머그", "pc0": "할인 1000 머그", "und": "머그_화이트", "unx": "머그X화이트",
         "bsl": "머그\\블랙", "bs0": "머그블랙", "sla": "머그/블랙2", "sl0": "머그블랙2"}


@pytest.fixture
def shop(db: Database) -> Database:
    with db.session() as s:
        acc = m.ChannelAccount(kind=ChannelKind.DEMO, name="검색")
        s.add(acc)
        s.flush()
        account_id = acc.id
        s.add_all([m.Item(sku=f"SKU-{key}", name=name) for key, name in NAMES.items()])
    records = [OrderRecord(f"ORD-{key}", "", name, "010-1111-2222", "04524", "서울", "", datetime.now(UTC), None,
                           (LineRecord(f"P-{key}", f"C-{key}", "", name, "", 1, LineStatus.NEW,
                                       courier_code="CJGLS", tracking_number=f"T{key.upper()}000001"),))
               for key, name in NAMES.items()]
    store_orders_in_chunks(db, account_id, records, source="test")
    return db


CASES = [("100%", {"pct"}), ("%", {"pct"}), ("_", {"und"}), ("머그_화", {"und"}), ("\\", {"bsl"}),
         ("머그\\블", {"bsl"}), ("/", {"sla"}), ("머그/블", {"sla"}), ("100%\x00", {"pct"}), ("\x00", set(NAMES))]


@pytest.mark.parametrize(("typed", "keys"), CASES)
def test_product_and_item_search_take_every_character_as_plain_text(shop: Database, typed: str, keys: set[str]) -> None:
    with shop.session() as s:
        products = mp.list_sales_products(s, mp.ProductFilter(text=typed, limit=None))
        items = mp.find_items(s, typed)
    assert {r.product_code.removeprefix("C-") for r in products} == keys
    assert {r.sku.removeprefix("SKU-") for r in items} == keys


@pytest.mark.parametrize(("typed", "keys"), CASES)
def test_order_search_takes_every_character_as_plain_text(shop: Database, typed: str, keys: set[str]) -> None:
    with shop.session() as s:
        found = search_orders(s, typed)
    assert {r.order_no.removeprefix("ORD-") for r in found} == keys


@pytest.mark.parametrize(("typed", "keys"), [("머그\\", {"bsl"}), ("머그_", {"und"}), ("할인 100%", {"pct"}),
                                              ("머그\\\x00블", {"bsl"}), ("\x00", set())])
def test_recording_search_by_recipient_takes_every_character_as_plain_text(shop: Database, typed: str,
                                                                          keys: set[str]) -> None:
    with shop.session() as s:
        numbers, _ = review.matching_waybills(s, typed, review.SearchField.RECIPIENT)
        assert review.search(s, review.SearchQuery(text=typed)).rows == []  # no recordings: nothing, no error
    assert {n.removeprefix("T").removesuffix("000001").lower() for n in numbers} == keys


def test_stored_names_keep_their_characters(shop: Database) -> None:
    """The search found them as typed because they were stored as given (only control characters go)."""
    with shop.session() as s:
        stored = set(s.scalars(select(m.OrderLine.product_name)))
    assert stored == set(NAMES.values())
