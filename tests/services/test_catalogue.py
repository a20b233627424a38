"""Catalogue sync over a scripted catalogue: pages stored as they come, a failure or a cancel resumes at the
page it stopped on, and what a whole pass no longer sees is marked deleted, never removed."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from packdesk.channels.base import ChannelTransientError, ProductPage, ProductRecord
from packdesk.core import models as m
from packdesk.core.db import Database
from packdesk.core.enums import ChannelKind
from packdesk.services.catalogue import CURSOR_KEY, Cancel, CatalogueUnsupported, sync_catalogue


class Catalogue:
    """A marketplace catalogue served in pages of ``size``; ``fail_at`` makes one page call fail once."""

    def __init__(self, records: list[ProductRecord], size: int = 2) -> None:
        self.records, self.size = records, size
        self.asked: list[str | None] = []
        self.fail_at: str | None = None

    def products(self, cursor: str | None) -> ProductPage:
        self.asked.append(cursor)
        if cursor is not None and cursor == self.fail_at:
            self.fail_at = None
            raise ChannelTransientError(reason="timeout")
        start = int(cursor or 0)
        page = self.records[start:start + self.size]
        nxt = str(start + self.size) if start + self.size < len(self.records) else None
        return ProductPage(page, nxt, total=len(self.records))


def rec(code: str, option: str = "", name: str = "티셔츠", deleted: bool = False) -> ProductRecord:
    return ProductRecord(code, option, name, option and f"옵션 {option}", "DELETE" if deleted else "SALE",
                         f"SELLER-{code}-{option}", deleted)


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 28, 1, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


def account(db: Database) -> int:
    with db.session() as s:
        acc = m.ChannelAccount(kind=ChannelKind.NAVER, name="스토어", external_id="x")
        s.add(acc)
        s.flush()
        return acc.id


def products(db: Database) -> dict[tuple[str, str], m.SalesProduct]:
    with db.session() as s:
        return {(p.product_code, p.option_code): p for p in s.scalars(select(m.SalesProduct))}


def test_a_sync_stores_every_product_and_option_page_by_page(db: Database) -> None:
    acc = account(db)
    cat = Catalogue([rec("100", "1"), rec("100", "2"), rec("100", "3"), rec("200"), rec("300", deleted=True)])
    seen: list[tuple[int, int | None]] = []
    r = sync_catalogue(db, acc, cat, progress=lambda n, total: seen.append((n, total)), clock=Clock())
    assert (r.pages, r.products, r.new, r.deleted, r.complete) == (3, 5, 5, 0, True)
    assert seen == [(2, 5), (4, 5), (5, 5)]
    got = products(db)
    assert got[("100", "2")].option_name == "옵션 2" and got[("100", "2")].seller_code == "SELLER-100-2"
    assert got[("300", "")].deleted and got[("300", "")].status == "DELETE" and not got[("200", "")].deleted
    assert all(p.is_new for p in got.values())
    again = sync_catalogue(db, acc, cat, clock=Clock())
    assert (again.new, again.deleted) == (0, 0) and len(products(db)) == 5


def test_a_failed_page_resumes_where_it_stopped_and_a_cancel_too(db: Database, expect_warnings) -> None:  # type: ignore[no-untyped-def]
    acc = account(db)
    cat = Catalogue([rec(str(n)) for n in range(1, 8)])
    cat.fail_at = "4"
    clock = Clock()
    with pytest.raises(ChannelTransientError):
        sync_catalogue(db, acc, cat, clock=clock)
    with db.session() as s:
        assert json.loads(s.get_one(m.ChannelAccount, acc).options)[CURSOR_KEY] == "4"
    assert len(products(db)) == 4
    cat.asked.clear()
    r = sync_catalogue(db, acc, cat, clock=clock)
    assert r.resumed and r.complete and cat.asked == ["4", "6"] and len(products(db)) == 7

    stop = Cancel()  # what the collection window hands the sync
    cat.asked.clear()
    r = sync_catalogue(db, acc, cat, clock=clock, progress=lambda n, t: stop.set(), cancel=stop)
    assert not r.complete and cat.asked == [None]
    cat.asked.clear()
    assert sync_catalogue(db, acc, cat, clock=clock).resumed and cat.asked == ["2", "4", "6"]


def test_what_a_whole_pass_no_longer_lists_is_marked_deleted_and_kept(db: Database) -> None:
    acc = account(db)
    clock = Clock()
    sync_catalogue(db, acc, Catalogue([rec("100", "1"), rec("100", "2"), rec("200")]), clock=clock)
    with db.session() as s:  # a product first seen in an order, never in a sync: not the sync's to judge
        s.add(m.SalesProduct(account_id=acc, product_code="900", option_code="", product_name="주문에서"))
    r = sync_catalogue(db, acc, Catalogue([rec("100", "1")]), clock=clock)  # option 2 and product 200 are gone
    assert r.deleted == 2
    got = products(db)
    assert got[("100", "2")].deleted and got[("200", "")].deleted and not got[("100", "1")].deleted
    assert not got[("900", "")].deleted and len(got) == 4
    sync_catalogue(db, acc, Catalogue([rec("100", "1"), rec("200")]), clock=clock)  # back on sale
    assert not products(db)[("200", "")].deleted


def test_a_channel_without_a_catalogue_says_so(db: Database) -> None:
    with pytest.raises(CatalogueUnsupported):
        sync_catalogue(db, account(db), object())


def test_the_daily_sync_runs_once_a_day_from_each_accounts_hour(db: Database) -> None:
    from zoneinfo import ZoneInfo

    from packdesk.services.catalogue import CatalogueSyncer

    kst = ZoneInfo("Asia/Seoul")
    early, late = account(db), account_named(db, "늦은 스토어", {"catalogue_hour": 22})
    paused = account_named(db, "쉬는 스토어", {}, paused=True)
    made: list[int] = []

    def factory(acc: m.ChannelAccount) -> Catalogue:
        made.append(acc.id)
        return Catalogue([rec(f"{acc.id}00")])

    now = [datetime(2026, 11, 28, 5, 0, tzinfo=kst)]
    syncer = CatalogueSyncer(db, factory, clock=lambda: now[0])
    assert syncer.sync_due(default_hour=6) == [] and made == []          # 05:00: not yet
    now[0] = datetime(2026, 11, 28, 9, 40, tzinfo=kst)                   # switched on at 09:40: due
    assert [r.complete for r in syncer.sync_due(default_hour=6)] == [True] and made == [early]
    assert syncer.sync_due(default_hour=6) == []                          # once a day
    now[0] = datetime(2026, 11, 28, 22, 5, tzinfo=kst)
    syncer.sync_due(default_hour=6)
    assert made == [early, late] and paused not in made
    now[0] = datetime(2026, 11, 29, 6, 0, tzinfo=kst)                     # the next day
    syncer.sync_due(default_hour=6)
    assert made == [early, late, early]


def account_named(db: Database, name: str, options: dict[str, object], paused: bool = False) -> int:
    with db.session() as s:
        acc = m.ChannelAccount(kind=ChannelKind.NAVER, name=name, external_id="x", options=json.dumps(options),
                               paused=paused)
        s.add(acc)
        s.flush()
        return acc.id


def test_a_catalogue_with_hostile_names_and_codes_stores_every_other_product(db: Database,  # type: ignore[no-untyped-def]
                                                                            expect_warnings) -> None:
    """The same on both engines: NUL and control characters go from the names, a long name is kept whole, and a
    product whose code cannot be stored is left out (named in the log by its code) while the page goes on."""
    acc = account(db)
    cat = Catalogue([rec("100", "1", name="티\x00셔츠\x07"), rec("200", name="긴 이름 " * 100), rec("3" * 65),
                     rec("400", "옵\x00션"), rec("500")], size=5)
    r = sync_catalogue(db, acc, cat, clock=Clock())
    assert r.complete and r.pages == 1
    got = products(db)
    assert set(got) == {("100", "1"), ("200", ""), ("500", "")}
    assert got[("100", "1")].product_name == "티셔츠" and got[("200", "")].product_name == "긴 이름 " * 100
    assert any("left out" in rec.getMessage() and "3333" in rec.getMessage() for rec in expect_warnings.records)
