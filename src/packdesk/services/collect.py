"""Collection: ask a channel for orders in a window and store them, counted, as one collection run.

Storing is an upsert keyed by (account, marketplace product-order id): collecting twice never
duplicates, and a later status (a cancel) updates the line and is kept in its history. A status that
would move a line backwards from what we did here (packed -> new) is not applied; a cancel always is,
because that parcel must be pulled.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, fields
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from packdesk.channels.base import Channel, ChannelError, OrderRecord
from packdesk.core import models as m
from packdesk.core.catalog import register_sales_product
from packdesk.core.db import Database
from packdesk.core.enums import LineStatus, RunStatus
from packdesk.core.models import utcnow

log = logging.getLogger("packdesk.collect")

_OURS = (LineStatus.PACKED, LineStatus.DISPATCHED, LineStatus.SHIPPED)
_CANCELS = (LineStatus.CANCELLED, LineStatus.CANCEL_REQUESTED)


@dataclass
class CollectCounts:
    orders: int = 0
    lines: int = 0
    registered: int = 0
    cancel_requested: int = 0
    cancelled: int = 0
    tracking_registered: int = 0
    tracking_sent: int = 0

    def as_dict(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def _waybill_id(s: Session, courier: str, tracking: str) -> int:
    wid = s.scalar(select(m.Waybill.id).where(m.Waybill.tracking_number == tracking))
    if wid is None:
        wb = m.Waybill(courier_code=courier, tracking_number=tracking)
        s.add(wb)
        s.flush()
        wid = wb.id
    return wid


def store_orders(s: Session, account_id: int, records: list[OrderRecord], source: str) -> CollectCounts:
    counts = CollectCounts(orders=len(records))
    now = utcnow()
    for rec in records:
        order = s.scalar(select(m.Order).where(m.Order.account_id == account_id,
                                               m.Order.order_no == rec.order_no))
        if order is None:
            order = m.Order(account_id=account_id, order_no=rec.order_no)
            s.add(order)
        for attr in ("buyer_name", "recipient_name", "recipient_phone", "zip_code", "address",
                     "delivery_message", "ordered_at", "paid_at"):
            setattr(order, attr, getattr(rec, attr))
        s.flush()
        for lr in rec.lines:
            counts.lines += 1
            line = s.scalar(select(m.OrderLine).where(m.OrderLine.account_id == account_id,
                                                      m.OrderLine.product_order_id == lr.product_order_id))
            new_status = lr.status
            if line is None:
                line = m.OrderLine(order_id=order.id, account_id=account_id, product_order_id=lr.product_order_id,
                                   status=new_status)
                s.add(line)
                counts.registered += 1
                changed = True
            else:
                keep_ours = line.status in _OURS and new_status not in _CANCELS
                changed = not keep_ours and line.status != new_status
                if keep_ours:
                    new_status = line.status
            if changed:
                counts.cancelled += new_status is LineStatus.CANCELLED
                counts.cancel_requested += new_status is LineStatus.CANCEL_REQUESTED
            line.status = new_status
            for attr in ("product_code", "option_code", "product_name", "option_name", "quantity",
                         "channel_status", "claim_status"):
                setattr(line, attr, getattr(lr, attr))
            register_sales_product(s, account_id, lr.product_code, lr.option_code, lr.product_name, lr.option_name,
                                   now)
            if lr.tracking_number:
                wid = _waybill_id(s, lr.courier_code, lr.tracking_number)
                if line.waybill_id != wid:
                    line.waybill_id = wid
                    counts.tracking_registered += 1
            s.flush()
            if changed:
                s.add(m.LineStatusChange(line_id=line.id, status=new_status, channel_status=lr.channel_status,
                                         claim_status=lr.claim_status, source=source, changed_at=now))
    return counts


def run_collection(db: Database, account_id: int, channel: Channel, since: datetime, until: datetime,
                   trigger: str) -> m.CollectionRun:
    """One counted run. A channel error fails the run (with its code) and stores nothing of it."""
    with db.session() as s:
        run = m.CollectionRun(account_id=account_id, trigger=trigger, window_from=since, window_to=until)
        s.add(run)
        s.flush()
        run_id = run.id
    try:
        records = channel.collect(since, until)
        with db.session() as s:
            counts = store_orders(s, account_id, records, source=f"collect:{run_id}")
            run = s.get_one(m.CollectionRun, run_id)
            for k, v in counts.as_dict().items():
                setattr(run, k, v)
            run.status, run.finished_at = RunStatus.SUCCEEDED, utcnow()
    except ChannelError as e:
        log.warning("collection run %s failed: %s (%s)", run_id, e.code, e.detail)
        with db.session() as s:
            run = s.get_one(m.CollectionRun, run_id)
            run.status, run.finished_at = RunStatus.FAILED, utcnow()
            run.error_code, run.error_detail = e.code, e.detail
    with db.session() as s:
        return s.get_one(m.CollectionRun, run_id)
