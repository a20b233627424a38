"""Packing slips (포장 지시서 / pick list): one per parcel waiting to be packed, to pick by and to open its pack.

For labels stuck on at the station (선출력 label stock, or labels printed by batch in the morning): the slip's
big barcode is the parcel key (``core/parcels.py``); scanned at the station it opens the parcel's pack, the
items are checked as for a waybill, and the courier label stuck on the box is scanned last and bound to the
parcel (``core/station.py``). A parcel that has its waybill already gets a slip too (it opens by either).

A slip carries what goes with the box on paper: the recipient (name, address), the order numbers, and per
order line what the buyer asked of it (engraving text: Coupang's etcInfoValues) and the items it stands
for, from the product links (items × set quantity, as the station counts them), each with its barcode *as
text*: an item is checked by scanning the item itself, so the slip prints no
item's bars a packer could scan instead of the goods.

Reads only; nothing personal is logged. ``for_orders`` (the orders window's selection) and ``for_day`` (a
day's batch, in Korea time) return ``Slip`` values; ``ui/packing_slip.py`` draws them.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import Exists, exists, select
from sqlalchemy.orm import Session

from packdesk.core import models as m
from packdesk.core import parcels, queries
from packdesk.core.kst import KST
from packdesk.core.station import PackPlan

log = logging.getLogger("packdesk.slips")


@dataclass(frozen=True)
class SlipItem:
    name: str
    option_name: str
    sku: str
    barcode: str  # "" when the item has none
    units: int    # of this item for the line: set quantity × the line's quantity


@dataclass(frozen=True)
class SlipLine:
    """One order line, as the marketplace sold it, and the items it stands for (none: not linked yet)."""

    order_no: str
    product_name: str
    option_name: str
    quantity: int
    items: tuple[SlipItem, ...]
    instructions: str = ""   # what the buyer asked of it (engraving text, …), one per line: printed with it


@dataclass(frozen=True)
class Slip:
    parcel_key: str
    platform: str            # the account's name (스마트스토어 본점, 쿠팡, …)
    recipient_name: str
    zip_code: str
    address: str
    order_nos: tuple[str, ...]
    lines: tuple[SlipLine, ...]
    courier_code: str = ""   # the parcel's waybill, when it has one already
    tracking_number: str = ""

    @property
    def units(self) -> int:
        return sum(it.units for ln in self.lines for it in ln.items)

    @property
    def unlinked(self) -> tuple[SlipLine, ...]:
        """Lines the station will refuse until a supervisor links their product to items."""
        return tuple(ln for ln in self.lines if not ln.items)


def _ready() -> Exists:
    """A parcel with a line still to pack (correlated with ``m.Parcel``)."""
    L = m.OrderLine
    return exists().where(L.parcel_id == m.Parcel.id, L.status.in_(parcels.READY))


def for_orders(s: Session, order_ids: Sequence[int]) -> list[Slip]:
    """The slips of the parcels the orders' lines wait in (to pack; an order that came with its waybill, or is
    packed, has none)."""
    if not order_ids:
        return []
    L = m.OrderLine
    parcel_ids = select(L.parcel_id).where(L.order_id.in_(list(order_ids)), L.parcel_id.is_not(None))
    ids = list(s.scalars(select(m.Parcel.id).where(m.Parcel.id.in_(parcel_ids), _ready())
                         .order_by(m.Parcel.created_at, m.Parcel.id)))
    return slips(s, ids)


def for_day(s: Session, day: date | None, *, account_id: int | None = None,
            without_waybill: bool = True) -> list[Slip]:
    """The day's batch: parcels with something to pack, made on ``day`` in Korea time (``None``: any day),
    of one account or all, and by default only those still without a waybill (the labels are bound at the
    station). By account, then in the order they were made."""
    P = m.Parcel
    q = select(P.id).where(_ready())
    if day is not None:
        start = datetime.combine(day, time(), KST)
        q = q.where(P.created_at >= start, P.created_at < start + timedelta(days=1))
    if account_id is not None:
        q = q.where(P.account_id == account_id)
    if without_waybill:
        q = q.where(P.waybill_id.is_(None))
    return slips(s, list(s.scalars(q.order_by(P.account_id, P.created_at, P.id))))


def slips(s: Session, parcel_ids: Sequence[int]) -> list[Slip]:
    """One slip per parcel, in the order given: its lines to pack as the station will read them
    (``core/queries``: the parcel's plan, or its waybill's once it has one)."""
    P, A, W = m.Parcel, m.ChannelAccount, m.Waybill
    out: list[Slip] = []
    for pid in parcel_ids:
        row = s.execute(select(P.id, P.key, P.waybill_id, A.name, W.courier_code, W.tracking_number)
                        .join(A, A.id == P.account_id).outerjoin(W, W.id == P.waybill_id).where(P.id == pid)).first()
        if row is None:
            continue
        if row.waybill_id is None:
            plan = queries.load_parcel_plan(s, row)
        else:
            found = queries.load_plan(s, row.tracking_number, queries.find_waybill_by_id(s, row.waybill_id))
            if found is None:
                continue
            plan = found
        slip = _slip(s, row.key, row.name, plan, row.courier_code or "", row.tracking_number or "")
        if slip.lines:
            out.append(slip)
    log.info("%d packing slip(s) read", len(out))
    return out


def _slip(s: Session, key: str, platform: str, plan: PackPlan, courier: str, tracking: str) -> Slip:
    lines: list[SlipLine] = []
    for ln in plan.active_lines:
        items = tuple(SlipItem(plan.items[item_id].name, plan.items[item_id].option_name, plan.items[item_id].sku,
                               plan.items[item_id].barcodes[0] if plan.items[item_id].barcodes else "",
                               per_set * ln.quantity)
                      for item_id, per_set in ln.components)
        lines.append(SlipLine(ln.order_no, ln.product_name, ln.option_name, ln.quantity, items, ln.instructions))
    order_nos = tuple(dict.fromkeys(ln.order_no for ln in lines))
    where = s.execute(select(m.Order.zip_code, m.Order.address).join(m.OrderLine, m.OrderLine.order_id == m.Order.id)
                      .where(m.OrderLine.id.in_([ln.line_id for ln in plan.active_lines]))
                      .order_by(m.Order.order_no).limit(1)).first()
    return Slip(key, platform, plan.recipient_name, where.zip_code if where else "", where.address if where else "",
                order_nos, tuple(lines), courier, tracking)
