from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from packdesk.channels.base import ChannelTransientError, OrderRecord
from packdesk.channels.demo import BARCODE, DemoChannel, Scenario, ean13
from packdesk.core import models as m
from packdesk.core.db import Database
from packdesk.core.enums import ChannelKind, LineStatus, RunStatus
from packdesk.core.queries import find_item, load_plan
from packdesk.services.collect import run_collection
from packdesk.services.demo_setup import ensure_demo


def count(db: Database, model: type) -> int:
    with db.session() as s:
        return s.scalar(select(func.count()).select_from(model)) or 0


def test_ean13_check_digit() -> None:
    assert ean13("880123400001") == "8801234000017"
    assert ean13("400638133393") == "4006381333931"  # a known EAN-13


def test_demo_is_realistic_and_collection_is_counted(demo_db: Database) -> None:
    with demo_db.session() as s:
        run = s.scalars(select(m.CollectionRun)).one()
        assert run.status is RunStatus.SUCCEEDED and run.trigger == "startup"
        assert run.orders == 34 and run.lines >= 40 and run.registered == run.lines
        assert run.cancelled == 3 and run.cancel_requested == 1 and run.tracking_registered == run.lines - 1
        names = s.scalars(select(m.Order.recipient_name)).all()
        assert all(len(n) >= 2 for n in names) and any("김" in n or "이" in n for n in names)
        assert s.scalar(select(func.count()).select_from(m.Packer)) == 3


def test_ensure_demo_twice_never_duplicates(demo_db: Database) -> None:
    before = {t: count(demo_db, t) for t in (m.Order, m.OrderLine, m.Item, m.ProductMapping, m.Waybill)}
    ensure_demo(demo_db, datetime.now(UTC))
    assert {t: count(demo_db, t) for t in before} == before
    with demo_db.session() as s:
        second = s.scalars(select(m.CollectionRun).order_by(m.CollectionRun.id.desc())).first()
        assert second is not None and second.registered == 0 and second.cancelled == 0


def test_later_cancel_updates_line_and_keeps_history(demo_db: Database) -> None:
    now = datetime.now(UTC)
    recs = DemoChannel(now).collect(now - timedelta(days=5), now + timedelta(minutes=1))
    simple = next(o for o in recs if o.lines[0].tracking_number == Scenario.SIMPLE)
    from dataclasses import replace

    cancelled = replace(simple, lines=(replace(simple.lines[0], status=LineStatus.CANCELLED), *simple.lines[1:]))

    class Once:
        kind = ChannelKind.DEMO

        def collect(self, since: datetime, until: datetime) -> list[OrderRecord]:
            return [cancelled]

    with demo_db.session() as s:
        acc = s.scalar(select(m.ChannelAccount.id))
    run = run_collection(demo_db, acc, Once(), now - timedelta(days=1), now, "manual")
    assert run.cancelled == 1 and run.registered == 0
    with demo_db.session() as s:
        po_id = simple.lines[0].product_order_id
        line = s.scalars(select(m.OrderLine).where(m.OrderLine.product_order_id == po_id)).one()
        assert line.status is LineStatus.CANCELLED
        hist = s.scalars(select(m.LineStatusChange.status).where(m.LineStatusChange.line_id == line.id)
                         .order_by(m.LineStatusChange.id)).all()
        assert hist == [LineStatus.CONFIRMED, LineStatus.CANCELLED]


def test_failed_channel_fails_the_run_and_stores_nothing(demo_db: Database, expect_warnings) -> None:  # type: ignore[no-untyped-def]
    class Down:
        kind = ChannelKind.DEMO

        def collect(self, since: datetime, until: datetime) -> list[OrderRecord]:
            raise ChannelTransientError(detail="HTTP 503")

    before = count(demo_db, m.OrderLine)
    now = datetime.now(UTC)
    run = run_collection(demo_db, 1, Down(), now - timedelta(days=1), now, "manual")
    assert run.status is RunStatus.FAILED and run.error_code == "channel_transient" and run.error_detail == "HTTP 503"
    assert count(demo_db, m.OrderLine) == before


def test_plans_for_each_scenario(demo_db: Database) -> None:
    with demo_db.session() as s:
        simple = load_plan(s, Scenario.SIMPLE)
        assert simple is not None and simple.recipient_name
        assert sorted((simple.items[i].sku, n) for i, n in simple.expected().items()) == [
            ("MUG-WH-01", 2), ("TMB-500", 1)]
        tea = load_plan(s, Scenario.TEA_SET)
        assert tea is not None and [(tea.items[i].sku, n) for i, n in tea.expected().items()] == [("TEA-GR", 12)]
        gift = load_plan(s, Scenario.GIFT_SET)
        assert gift is not None
        assert sorted((gift.items[i].sku, n) for i, n in gift.expected().items()) == [
            ("COASTER-01", 6), ("GIFTBOX-S", 1), ("MUG-WH-01", 1)]
        combined = load_plan(s, Scenario.COMBINED)
        assert combined is not None and len({ln.order_no for ln in combined.lines}) == 2
        assert len(combined.lines) == 3  # the unlabelled second line of the first order travels too
        partly = load_plan(s, Scenario.PARTLY_CANCELLED)
        assert partly is not None and [ln.status for ln in partly.lines] == [LineStatus.CONFIRMED, LineStatus.CANCELLED]
        unmapped = load_plan(s, Scenario.UNMAPPED)
        assert unmapped is not None and [ln.mapped for ln in unmapped.lines] == [False, True]
        assert load_plan(s, "000000000000") is None
        assert find_item(s, BARCODE["TEA-GR"]).name == "녹차 티백"  # type: ignore[union-attr]
        assert find_item(s, "ts-blk-m") is not None and find_item(s, "nope") is None


def test_collected_products_are_registered_as_sales_products(demo_db: Database) -> None:
    with demo_db.session() as s:
        rows = s.execute(select(m.SalesProduct.product_code, m.SalesProduct.option_code, m.SalesProduct.is_new)).all()
    codes = {(r.product_code, r.option_code) for r in rows}
    assert ("5000000006", "") in codes  # the unmapped new product is there to be linked
    assert ("5000000001", "OPT-WH") in codes and ("5000000001", "OPT-BK") in codes
    assert len(rows) == len(codes) and all(r.is_new for r in rows)
    ensure_demo(demo_db, datetime.now(UTC))
    with demo_db.session() as s:
        assert s.scalar(select(func.count()).select_from(m.SalesProduct)) == len(rows)


def test_storing_in_small_transactions_counts_the_same_and_repeats_change_nothing(db: Database) -> None:
    """A big collection is stored a few hundred orders per transaction (the station keeps writing meanwhile):
    the counts are those of one transaction, and storing the same records again registers nothing."""
    from packdesk.services.collect import store_orders, store_orders_in_chunks

    now = datetime.now(UTC)
    recs = DemoChannel(now).collect(now - timedelta(days=5), now + timedelta(minutes=1))
    with db.session() as s:
        a, b = m.ChannelAccount(kind=ChannelKind.DEMO, name="one"), m.ChannelAccount(kind=ChannelKind.DEMO, name="two")
        s.add_all([a, b])
        s.flush()
        one, two = a.id, b.id
    with db.session() as s:
        whole = store_orders(s, one, recs, source="test")
    chunked = store_orders_in_chunks(db, two, recs, source="test", chunk=3)
    assert whole == chunked and chunked.registered == chunked.lines == sum(len(r.lines) for r in recs)
    assert chunked.tracking_registered == sum(1 for r in recs for ln in r.lines if ln.tracking_number)
    again = store_orders_in_chunks(db, two, recs, source="test", chunk=7)
    assert again.registered == again.cancelled == again.cancel_requested == again.tracking_registered == 0
    with db.session() as s:
        for acc in (one, two):
            lines = s.scalar(select(func.count()).select_from(m.OrderLine).where(m.OrderLine.account_id == acc))
            products = s.scalar(select(func.count()).select_from(m.SalesProduct)
                                .where(m.SalesProduct.account_id == acc))
            history = s.scalar(select(func.count()).select_from(m.LineStatusChange)
                               .join(m.OrderLine, m.OrderLine.id == m.LineStatusChange.line_id)
                               .where(m.OrderLine.account_id == acc))
            assert (lines, history) == (chunked.lines, chunked.lines)
            assert products == len({(ln.product_code, ln.option_code) for r in recs for ln in r.lines})
