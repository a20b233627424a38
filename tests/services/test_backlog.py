"""What is left on the floor: orders still to pack by account and age (Korean days), and the held and cancelled
parcels to pull off the line (issue #20). Plain records, read on any session (the report screen reads them
through ops.read)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import insert

from packdesk.core import models as m
from packdesk.core.db import Database
from packdesk.core.enums import LineStatus
from packdesk.core.kst import KST
from packdesk.services.reports import PULL_CANCELLED, PULL_HELD, BacklogRow, backlog, parcels_to_pull

NOW = datetime(2026, 12, 6, 0, 30, tzinfo=KST)  # half past midnight in Korea: still the 5th in UTC


def seed(db: Database) -> None:
    with db.session() as s:
        shop, coupang = (s.execute(insert(m.ChannelAccount).values(kind=k, name=n)).inserted_primary_key[0]
                         for k, n in (("smartstore", "우리 상점"), ("coupang", "쿠팡 상점")))
        waybill = s.execute(insert(m.Waybill).values(courier_code="CJGLS", tracking_number="601000009999")
                            ).inserted_primary_key[0]
        # (account, order no., came in, statuses of its lines, packed, waybill)
        plan = [
            (shop, "A-today", NOW - timedelta(minutes=20), [LineStatus.NEW, LineStatus.CONFIRMED], False, None),
            (shop, "A-yday", NOW - timedelta(minutes=40), [LineStatus.CONFIRMED], False, None),  # 23:50 the 5th
            (shop, "A-3d", NOW - timedelta(days=3), [LineStatus.CONFIRMED, LineStatus.PACKED], False, None),
            (shop, "A-old", NOW - timedelta(days=4), [LineStatus.NEW], False, None),
            (shop, "A-packed", NOW - timedelta(days=1), [LineStatus.PACKED], True, None),         # not work left
            (coupang, "C-held", NOW - timedelta(days=2), [LineStatus.CANCEL_REQUESTED], False, waybill),
            (coupang, "C-cancel-packed", NOW - timedelta(days=2), [LineStatus.CANCELLED], True, None),
            (coupang, "C-cancel-early", NOW - timedelta(days=2), [LineStatus.CANCELLED], False, None),  # no box
            (coupang, "C-2d", NOW - timedelta(days=2), [LineStatus.NEW], False, None),
        ]
        for n, (account, order_no, came, statuses, packed, wb) in enumerate(plan):
            oid = s.execute(insert(m.Order).values(account_id=account, order_no=order_no, recipient_name="김하늘",
                                                   paid_at=came, created_at=NOW)).inserted_primary_key[0]
            s.execute(insert(m.OrderLine), [
                {"order_id": oid, "account_id": account, "product_order_id": f"{order_no}-{i}", "product_code": "P",
                 "quantity": 1, "status": st, "packed_at": NOW - timedelta(hours=5) if packed else None,
                 "waybill_id": wb, "updated_at": NOW - timedelta(minutes=n)}
                for i, st in enumerate(statuses)])


def test_orders_left_to_pack_by_account_and_korean_day(db: Database) -> None:
    seed(db)
    with db.session() as s:
        rows = backlog(s, now=NOW)
    assert rows == [BacklogRow("우리 상점", today=1, one_day=1, two_three_days=1, older=1),
                    BacklogRow("쿠팡 상점", today=0, one_day=0, two_three_days=1, older=0)]
    assert rows[0].total == 4


def test_held_and_cancelled_parcels_to_pull(db: Database) -> None:
    seed(db)
    with db.session() as s:
        rows = parcels_to_pull(s)
        recent = parcels_to_pull(s, since=NOW - timedelta(minutes=5, seconds=30))
    assert [(r.order_no, r.why, r.tracking_number) for r in rows] == [
        ("C-held", PULL_HELD, "601000009999"), ("C-cancel-packed", PULL_CANCELLED, "")]
    assert rows[1].packed_at is not None and rows[1].packed_at.tzinfo is not None
    assert [r.order_no for r in recent] == ["C-held"]  # changed within the period asked for
