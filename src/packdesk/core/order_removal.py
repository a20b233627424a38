"""Which orders no station has started packing, and removing them: one rule for removing an account
(``services/accounts.py``) and for deleting one order (``services/orders.py``).

Started means a line was packed, a pack session was opened on one of its lines' waybills or parcels, or a
station is claiming such a waybill or parcel right now (it scanned it and its pack is about to start). Such an order is
evidence (its packs, scans and recordings point at it) and is never removed; it can only be cancelled.
Both are SQL, so the rule holds for the order as it is in the database at that moment.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, delete, exists, select
from sqlalchemy.orm import Session

from packdesk.core import models as m
from packdesk.core.db import changed_rows


def packing_started() -> ColumnElement[bool]:
    """True for an order (correlated with ``m.Order``) that a station started packing."""
    L = m.OrderLine
    return exists(select(L.id).where(
        L.order_id == m.Order.id,
        L.packed_session_id.is_not(None)
        | exists().where(m.PackSession.waybill_id == L.waybill_id)
        | exists().where(m.WaybillClaim.waybill_id == L.waybill_id)
        # a parcel opened from its packing slip (no waybill yet): its pack, or a station claiming it
        | exists().where(m.PackSession.parcel_id == L.parcel_id)
        | exists().where(m.ParcelClaim.parcel_id == L.parcel_id)))


def unstarted_orders(*where: Any) -> Select[int]:
    """Ids of the orders matching ``where`` that no station started packing."""
    return select(m.Order.id).where(*where, ~packing_started())


def delete_orders(s: Session, order_ids: list[int]) -> int:
    """Orders, their lines and their lines' history (no pack touched them: nothing else points at them).
    Their waybills stay: a number PackDesk printed on a label is never handed out again."""
    if not order_ids:
        return 0
    line_ids = select(m.OrderLine.id).where(m.OrderLine.order_id.in_(order_ids))
    s.execute(delete(m.LineStatusChange).where(m.LineStatusChange.line_id.in_(line_ids)))
    s.execute(delete(m.DispatchEntry).where(m.DispatchEntry.line_id.in_(line_ids)))
    s.execute(delete(m.OrderLine).where(m.OrderLine.order_id.in_(order_ids)))
    return int(changed_rows(s.execute(delete(m.Order).where(m.Order.id.in_(order_ids)))) or 0)
