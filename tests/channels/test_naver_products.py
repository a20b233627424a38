"""SmartStore catalogue sync over real HTTP against the fake (built from the spec): every product and option
combination becomes a sales product named as orders name it, deleted ones are marked, a failure half way
resumes at its page, and the seller-code rule names products by the seller's own codes."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from packdesk.channels.base import ChannelTransientError
from packdesk.channels.http import RateLimiters
from packdesk.channels.naver import NaverChannel
from packdesk.core import models as m
from packdesk.core.db import Database
from packdesk.core.enums import ChannelKind
from packdesk.services.catalogue import sync_catalogue
from packdesk.services.collect import store_orders
from tests.fakes.naver import FakeNaver


@pytest.fixture
def naver() -> Iterator[FakeNaver]:
    with FakeNaver(rate_limit=None) as fake:
        yield fake


def channel(fake: FakeNaver, **kw: object) -> NaverChannel:
    return NaverChannel(fake.client_id, fake.client_secret, base_url=fake.base_url, sleep=lambda s: None,
                        limiters=RateLimiters(), **kw)  # type: ignore[arg-type]


def account(db: Database) -> int:
    with db.session() as s:
        acc = m.ChannelAccount(kind=ChannelKind.NAVER, name="스토어", external_id="x")
        s.add(acc)
        s.flush()
        return acc.id


def sales(db: Database) -> dict[tuple[str, str], m.SalesProduct]:
    with db.session() as s:
        return {(p.product_code, p.option_code): p for p in s.scalars(select(m.SalesProduct))}


def test_products_and_options_become_sales_products_named_as_orders_name_them(db: Database,
                                                                             naver: FakeNaver) -> None:
    tee = naver.add_product("오버핏 티셔츠", [
        {"optionName1": "블랙", "optionName2": "M", "sellerManagerCode": "TS-BLK-M"},
        {"optionName1": "블랙", "optionName2": "L", "sellerManagerCode": "TS-BLK-L"}],
        option_group_names=["색상", "사이즈"], seller_code="TS")
    mug = naver.add_product("머그컵", None, seller_code="MUG-01")
    gone = naver.add_product("단종 상품", 2)
    naver.delete_product(gone.origin_product_no)
    acc = account(db)
    ch = channel(naver, product_page_size=2)
    result = sync_catalogue(db, acc, ch)
    ch.close()
    assert result.complete and result.pages == 2
    got = sales(db)
    m1 = got[(str(tee.channel_product_no), str(tee.option_ids[0]))]
    assert (m1.product_name, m1.option_name, m1.seller_code, m1.status) == (
        "오버핏 티셔츠", "색상: 블랙 / 사이즈: M", "TS-BLK-M", "SALE")
    assert (str(mug.channel_product_no), "") in got and got[(str(mug.channel_product_no), "")].seller_code == "MUG-01"
    assert got[(str(gone.channel_product_no), "")].deleted

    # an order for the M shirt names the same sales product: collection and sync agree
    naver.add_order([naver.order_item(tee.origin_product_no, tee.option_ids[0])])
    now = datetime.now(UTC)
    ch = channel(naver)
    records = ch.collect(now - timedelta(hours=1), now + timedelta(minutes=1))
    ch.close()
    with db.session() as s:
        store_orders(s, acc, records, source="t")
    assert len(sales(db)) == len(got)  # no new sales product: the order's product was already there


def test_a_sync_that_fails_half_way_resumes_at_its_page(db: Database, naver: FakeNaver, expect_warnings) -> None:  # type: ignore[no-untyped-def]
    seeded = naver.add_products(5, options_per_product=2)
    acc = account(db)
    third = seeded[2].origin_product_no  # on the second page: its detail fails through every retry
    naver.fail_next(f"origin-products/{third}", 500, count=4)
    ch = channel(naver, product_page_size=2)
    with pytest.raises(ChannelTransientError):
        sync_catalogue(db, acc, ch)
    stored = len(sales(db))
    searches = len(naver.calls("/products/search"))
    result = sync_catalogue(db, acc, ch)
    ch.close()
    assert stored == 4  # the first page (two products, two options each)
    assert result.resumed and result.complete and len(sales(db)) == 10
    assert len(naver.calls("/products/search")) - searches == 2  # pages 2 and 3 only


def test_the_seller_code_rule(db: Database, naver: FakeNaver) -> None:
    naver.add_product("머그컵", [{"optionName1": "화이트", "sellerManagerCode": "MUG-WH"},
                                {"optionName1": "블랙", "sellerManagerCode": ""}], seller_code="MUG")
    acc = account(db)
    ch = channel(naver, code_rule="seller_code")
    sync_catalogue(db, acc, ch)
    ch.close()
    codes = set(sales(db))
    assert ("MUG-WH", "") in codes  # the seller's own option code
    assert any(c[1] for c in codes)  # the option without one falls back to product + option
