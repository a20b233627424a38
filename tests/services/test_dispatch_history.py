"""The sent history's query: only sent entries, newest first, a page at a time; a search matches part of a
tracking number (separators ignored), an order number or a product-order number; a 발주확인 the uploader did
just before the send is named."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from packdesk.core import models as m
from packdesk.core.db import Database
from packdesk.core.enums import LineStatus, OutboxState
from packdesk.services.dispatch_history import sent_history


def entries(db: Database) -> list[int]:
    """One outbox entry per demo line, the first four sent (the last of them after a 발주확인), the fifth
    still waiting."""
    now = datetime.now(UTC)
    ids = []
    with db.session() as s:
        lines = s.scalars(select(m.OrderLine).where(m.OrderLine.waybill_id.is_not(None)).order_by(m.OrderLine.id)
                          .limit(5)).all()
        for n, line in enumerate(lines):
            e = m.DispatchEntry(line_id=line.id, account_id=line.account_id, product_order_id=line.product_order_id,
                                courier_code="CJGLS", tracking_number=f"68880000000{n}",
                                state=OutboxState.SENT if n < 4 else OutboxState.PENDING, attempts=1,
                                sent_at=now if n < 4 else None, created_at=now)
            s.add(e)
            s.flush()
            ids.append(e.id)
        s.add(m.LineStatusChange(line_id=lines[3].id, status=LineStatus.CONFIRMED, source=f"dispatch:{ids[3]} 발주확인",
                                 changed_at=now))
    return ids


def test_sent_entries_newest_first_a_page_at_a_time(demo_db: Database) -> None:
    ids = entries(demo_db)
    with demo_db.session() as s:
        assert [e.id for e in sent_history(s)] == ids[3::-1]  # the waiting one is not history
        assert [e.id for e in sent_history(s, limit=2, offset=2)] == [ids[1], ids[0]]
        first = sent_history(s)
    assert [e.confirmed_first for e in first] == [True, False, False, False]
    assert first[0].attempts == 1 and first[0].sent_at is not None and first[0].account


def test_search_by_tracking_order_or_product_order_number(demo_db: Database) -> None:
    ids = entries(demo_db)
    with demo_db.session() as s:
        assert [e.id for e in sent_history(s, "6888-0000-0001")] == [ids[1]]
        assert [e.id for e in sent_history(s, " 00002 ")] == [ids[2]]
        one = sent_history(s)[-1]
        assert ids[0] in [e.id for e in sent_history(s, one.order_no)]
        assert [e.id for e in sent_history(s, one.product_order_id)] == [ids[0]]
        assert sent_history(s, "68880000000%") == [] and sent_history(s, "no such") == []
