from datetime import UTC, datetime, timedelta, timezone

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, insert, select, text, update
from sqlalchemy.exc import IntegrityError

from packdesk.core import models as m
from packdesk.core.db import Database, current_revision, head_revision
from packdesk.core.errors import SchemaTooNew
from packdesk.paths import AppDirs


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


def engine_at(dirs: AppDirs, revision: str) -> tuple[str, Engine]:
    """A new database migrated up to ``revision`` only (a station that has not been upgraded yet), and an
    engine on it: the test fills it as that station had, then opens it as PackDesk does."""
    from alembic import command

    from packdesk.core.db import alembic_config, make_engine
    from tests.conftest import fresh_database_url

    url = fresh_database_url(dirs)
    eng = make_engine(url)
    cfg = alembic_config(eng)
    with eng.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
    return url, eng


def test_upgrade_keeps_existing_recordings(dirs) -> None:  # type: ignore[no-untyped-def]
    """A station upgraded with videos already indexed: the new columns get their defaults."""
    url, eng = engine_at(dirs, "0001")
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


def test_upgrade_of_a_station_with_orders_keeps_them_and_widens_free_text(dirs) -> None:  # type: ignore[no-untyped-def]
    """A station with collected orders, their history and a dispatch upgraded from 0013: tables that other rows
    point at are rebuilt on SQLite (foreign keys are set aside for the migration, checked, and back on after),
    nothing is lost, and the free text a marketplace fills takes any length on both engines."""
    url, eng = engine_at(dirs, "0013")
    at = {"at": datetime(2026, 11, 24, 1, 0)}
    with eng.begin() as conn:
        for sql in (
                "INSERT INTO channel_accounts (kind, name, external_id, active, auto_confirm, options, created_at, "
                "paused) VALUES ('demo', 'd', '', true, false, '{}', :at, false)",
                "INSERT INTO orders (account_id, order_no, buyer_name, recipient_name, recipient_phone, zip_code, "
                "address, delivery_message, created_at, updated_at) VALUES (1, 'O1', '', '홍길동', '010', '04524', "
                "'서울', '', :at, :at)",
                "INSERT INTO order_lines (order_id, account_id, product_order_id, product_code, option_code, "
                "product_name, option_name, quantity, status, channel_status, claim_status, created_at, updated_at) "
                "VALUES (1, 1, 'P1', 'C1', '', '머그', '', 1, 'new', '', '', :at, :at)",
                "INSERT INTO line_status_history (line_id, status, channel_status, claim_status, source, changed_at) "
                "VALUES (1, 'new', '', '', 'collect:1', :at)",
                "INSERT INTO dispatch_outbox (line_id, account_id, product_order_id, courier_code, tracking_number, "
                "state, attempts, last_error_code, last_error_message, created_at, updated_at) VALUES (1, 1, 'P1', "
                "'CJGLS', '600000000001', 'pending', 0, '', '', :at, :at)"):
            conn.execute(text(sql), at)
    eng.dispose()
    db = Database.open(url)
    try:
        assert current_revision(db.engine) == head_revision()
        with db.session() as s:
            line = s.scalars(select(m.OrderLine)).one()
            assert (line.order.recipient_name, line.product_name) == ("홍길동", "머그")
            assert s.scalar(select(m.DispatchEntry.tracking_number)) == "600000000001"
            line.product_name = "가" * 5000
            line.order.address = "서울 " * 2000
            line.order.recipient_name = "홍" * 500
        with db.session() as s:
            line = s.scalars(select(m.OrderLine)).one()
            assert (len(line.product_name), len(line.order.address), len(line.order.recipient_name)) \
                == (5000, 6000, 500)
        with pytest.raises(IntegrityError), db.session() as s:  # foreign keys are enforced again
            s.execute(insert(m.ItemBarcode).values(item_id=999, barcode="X"))
    finally:
        db.close()


def test_upgrade_to_0017_keeps_lines_and_parcels_and_adds_an_empty_line_courier(dirs) -> None:  # type: ignore[no-untyped-def]
    """A station with a parcel waiting for its label and a line with its waybill, upgraded from 0016: nothing is
    lost, no line names a courier (NULL), and one can be stored; the downgrade drops the column only."""
    url, eng = engine_at(dirs, "0016")
    at = {"at": datetime(2026, 12, 5, 1, 0)}
    with eng.begin() as conn:
        for sql in (
                "INSERT INTO channel_accounts (kind, name, external_id, active, auto_confirm, options, created_at, "
                "paused) VALUES ('excel', '자사몰', '', true, false, '{}', :at, false)",
                "INSERT INTO orders (account_id, order_no, buyer_name, recipient_name, recipient_phone, zip_code, "
                "address, delivery_message, created_at, updated_at) VALUES (1, 'O1', '', '홍길동', '010', '04524', "
                "'서울', '', :at, :at)",
                "INSERT INTO waybills (courier_code, tracking_number, created_at) VALUES ('CJGLS', '600000000001', "
                ":at)",
                "INSERT INTO parcels (key, account_id, group_key, waybill_source, created_at) VALUES "
                "('PD-P-ABCDEFGH', 1, 'g', '', :at)",
                "INSERT INTO order_lines (order_id, account_id, product_order_id, product_code, option_code, "
                "product_name, option_name, quantity, status, channel_status, claim_status, created_at, updated_at, "
                "parcel_id) VALUES (1, 1, 'P1', 'C1', '', '머그', '', 1, 'confirmed', '', '', :at, :at, 1)",
                "INSERT INTO order_lines (order_id, account_id, product_order_id, product_code, option_code, "
                "product_name, option_name, quantity, status, channel_status, claim_status, created_at, updated_at, "
                "waybill_id) VALUES (1, 1, 'P2', 'C2', '', '컵', '', 2, 'confirmed', '', '', :at, :at, 1)"):
            conn.execute(text(sql), at)
    eng.dispose()
    db = Database.open(url)
    try:
        assert current_revision(db.engine) == head_revision() and head_revision() >= "0017"
        with db.session() as s:
            rows = s.execute(select(m.OrderLine.product_order_id, m.OrderLine.parcel_id, m.OrderLine.waybill_id,
                                    m.OrderLine.courier_code).order_by(m.OrderLine.id)).all()
            assert [tuple(r) for r in rows] == [("P1", 1, None, None), ("P2", None, 1, None)]
            assert s.scalar(select(m.Parcel.key)) == "PD-P-ABCDEFGH"
            s.execute(update(m.OrderLine).where(m.OrderLine.product_order_id == "P1").values(courier_code="HANJIN"))
        with db.session() as s:
            assert s.scalar(select(m.OrderLine.courier_code).where(m.OrderLine.product_order_id == "P1")) == "HANJIN"
    finally:
        db.close()
    from alembic import command

    from packdesk.core.db import alembic_config, make_engine

    eng = make_engine(url)
    with eng.begin() as conn:
        cfg = alembic_config(eng)
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0016")
    with eng.connect() as conn:
        assert conn.execute(text("SELECT product_order_id, parcel_id FROM order_lines ORDER BY id")).all() == [
            ("P1", 1), ("P2", None)]
    eng.dispose()
