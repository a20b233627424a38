from datetime import UTC, datetime, timedelta, timezone

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import insert, select, text
from sqlalchemy.exc import IntegrityError

from packdesk.core import models as m
from packdesk.core.db import Database, current_revision, head_revision
from packdesk.core.errors import SchemaTooNew


def test_schema_is_created_by_migrations_and_matches_models(db: Database) -> None:
    assert current_revision(db.engine) == head_revision()
    with db.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(ctx, m.Base.metadata)
    assert diff == []


def test_sqlite_pragmas_wal_and_foreign_keys(db: Database) -> None:
    if db.engine.dialect.name == "sqlite":
        with db.engine.connect() as conn:
            assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
    with pytest.raises(IntegrityError), db.session() as s:  # foreign keys hold on every engine
        s.execute(insert(m.ItemBarcode).values(item_id=999, barcode="X"))


def test_reopen_is_idempotent(db: Database) -> None:
    again = Database.open(db.url)
    assert current_revision(again.engine) == head_revision()
    again.close()


def test_newer_schema_is_refused(db: Database) -> None:
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = 'ffff_from_the_future'"))
    with pytest.raises(SchemaTooNew):
        Database.open(db.url)


def test_timestamps_come_back_aware_utc(db: Database) -> None:
    kst = timezone(timedelta(hours=9))
    at = datetime(2026, 11, 24, 18, 30, tzinfo=kst)
    with db.session() as s:
        acc = m.ChannelAccount(kind=m.ChannelKind.DEMO, name="demo")
        s.add(acc)
        s.flush()
        s.add(m.Order(account_id=acc.id, order_no="1", ordered_at=at))
    with db.session() as s:
        got = s.scalar(select(m.Order.ordered_at))
    assert got == at and got.tzinfo == UTC
    with pytest.raises(Exception, match="naive"), db.session() as s:
        s.add(m.Order(account_id=acc.id, order_no="2", ordered_at=datetime(2026, 1, 1)))


def test_line_unique_per_account_and_waybill_completed_once(db: Database) -> None:
    now = datetime.now(UTC)
    with db.session() as s:
        acc = m.ChannelAccount(kind=m.ChannelKind.DEMO, name="demo")
        s.add(acc)
        s.flush()
        order = m.Order(account_id=acc.id, order_no="O1")
        wb = m.Waybill(courier_code="CJGLS", tracking_number="600000000001")
        s.add_all([order, wb])
        s.flush()
        s.add(m.OrderLine(order_id=order.id, account_id=acc.id, product_order_id="P1", product_code="A",
                          quantity=1))
        acc_id, order_id, wb_id = acc.id, order.id, wb.id
    with pytest.raises(IntegrityError), db.session() as s:
        s.add(m.OrderLine(order_id=order_id, account_id=acc_id, product_order_id="P1", product_code="A",
                          quantity=1))

    def session(key: str, outcome: m.PackOutcome) -> m.PackSession:
        return m.PackSession(key=key, waybill_id=wb_id, station="S1", packer_name="p", started_at=now,
                             outcome=outcome)

    with db.session() as s:  # any number of cancelled attempts, one completion
        s.add_all([session("a", m.PackOutcome.CANCELLED), session("b", m.PackOutcome.CANCELLED),
                   session("c", m.PackOutcome.COMPLETED)])
    with pytest.raises(IntegrityError), db.session() as s:
        s.add(session("d", m.PackOutcome.COMPLETED))


def test_upgrade_keeps_existing_recordings(dirs) -> None:  # type: ignore[no-untyped-def]
    """A station upgraded with videos already indexed: the new columns get their defaults."""
    from alembic import command

    from packdesk.core.db import alembic_config, make_engine
    from tests.conftest import fresh_database_url

    url = fresh_database_url(dirs)
    eng = make_engine(url)
    cfg = alembic_config(eng)
    with eng.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0001")
    with eng.begin() as conn:
        conn.execute(text("INSERT INTO recordings (tracking_number, station, packer_name, path, started_at, "
                          "size_bytes, status, sha256, note) VALUES ('601', 'S1', 'p', '/v/a.ts', :at, 123, "
                          "'complete', '', '')"), {"at": datetime(2026, 11, 24, 1, 0)})
    eng.dispose()
    db = Database.open(url)
    with db.session() as s:
        rec = s.scalars(select(m.Recording)).one()
        assert (rec.size_bytes, rec.keep, rec.pack_outcome, rec.order_nos) == (123, False, m.PackOutcome.OPEN, "")
    db.close()
