"""Reads the station needs, written as Core selects on indexed columns (~5x faster than ORM loads:
docs/architecture.md#measured-facts-behind-the-design), so a waybill scan resolves in about a millisecond
even with a million lines.

The waybill scan's statements are built once, with bind parameters, and run on the session's connection:
building a select of twenty columns and running it through the ORM layer cost more CPU than the round trip
to the server, and on a warehouse server's stations CPU is what the scans wait for (bench/stations.py)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Row, and_, bindparam, func, or_, select
from sqlalchemy.orm import Session

from packdesk.core import models as m
from packdesk.core import parcels
from packdesk.core.enums import LineStatus, PackOutcome
from packdesk.core.station import ItemRef, PackedBy, PackerRef, PackPlan, PlanItem, PlanLine

_R = TypeVar("_R")

_WAYBILL_COLS = (m.Waybill.id, m.Waybill.courier_code, m.Waybill.tracking_number)
_WAYBILL = select(*_WAYBILL_COLS).where(m.Waybill.tracking_number == bindparam("number"))
_WAYBILL_ANY_CASE = select(*_WAYBILL_COLS).where(func.lower(m.Waybill.tracking_number) == bindparam("number")).limit(2)
_WAYBILL_BY_ID = select(*_WAYBILL_COLS).where(m.Waybill.id == bindparam("waybill_id"))
_PARCEL = select(m.Parcel.id, m.Parcel.key, m.Parcel.waybill_id).where(m.Parcel.key == bindparam("key"))


def find_waybill(s: Session, tracking_number: str) -> Row[int, str, str] | None:
    """(id, courier_code, tracking_number) of the waybill with this number (a unique case-insensitive match
    for numbers with letters, read from Hangul text that cannot tell case)."""
    c = s.connection()
    wb = c.execute(_WAYBILL, {"number": tracking_number}).first()
    if wb is None and any(ch.isalpha() for ch in tracking_number):
        wb = _unique(c.execute(_WAYBILL_ANY_CASE, {"number": tracking_number.lower()}).all())
    return wb


def find_waybill_by_id(s: Session, waybill_id: int) -> Row[int, str, str] | None:
    """(id, courier_code, tracking_number): a parcel's waybill, when its slip is scanned after it got one."""
    return s.connection().execute(_WAYBILL_BY_ID, {"waybill_id": waybill_id}).first()


def find_parcel(s: Session, code: str) -> Row[int, str, int | None] | None:
    """(id, key, waybill_id) of the parcel whose packing slip says ``code`` (any case: a scan read from
    Hangul text loses it); ``None`` when ``code`` is no parcel key or no parcel has it."""
    if not parcels.looks_like_key(code):
        return None
    return s.connection().execute(_PARCEL, {"key": code.strip().upper()}).first()


def _plan_select(of: str) -> Any:
    """The lines of a waybill (``of="waybill_id"``) or of a parcel (``of="parcel_id"``) with the links of
    their products, the linked items and their barcodes (a line has a row per link and barcode), plus the
    lines of the same orders that have neither a waybill nor a parcel of their own: they travel in the same
    box (합포장), and a cancelled one is shown to be left out. A line waiting in another parcel is that
    parcel's: it gets its own slip and label (``core/parcels.py``), so it is not packed here too."""
    L, Ord, P, It, B, SP = m.OrderLine, m.Order, m.ProductMapping, m.Item, m.ItemBarcode, m.SalesProduct
    own = getattr(L, of) == bindparam(of)
    order_ids = select(L.order_id).where(own).scalar_subquery()
    return (
        select(L.id, L.account_id, L.product_order_id, L.product_code, L.option_code, L.product_name,
               L.option_name, L.quantity, L.status, L.packed_at, L.claim_status, L.instructions, Ord.order_no,
               Ord.recipient_name, P.id.label("link_id"), P.item_id, P.quantity.label("per_set"), It.sku,
               It.name.label("item_name"), It.option_name.label("item_option"), It.image_path, B.barcode,
               SP.image_url)
        .join(Ord, Ord.id == L.order_id)
        .outerjoin(SP, and_(SP.account_id == L.account_id, SP.product_code == L.product_code,
                            SP.option_code == L.option_code))
        .outerjoin(P, and_(P.account_id == L.account_id, P.product_code == L.product_code,
                           P.option_code == L.option_code))
        .outerjoin(It, It.id == P.item_id).outerjoin(B, B.item_id == It.id)
        # Every line read is of the pack's orders (its own lines are too), so the orders come first and both
        # engines read the lines by ``order_id``'s index. Written as "own, or of the same orders and ...", the
        # lines were walked whole on both: PostgreSQL cannot join an ``IN`` subquery inside an ``OR`` (a
        # sequential scan, 32 ms on 400,000 lines), and SQLite's planner, with no statistics at a station (nothing
        # runs ANALYZE), took ``parcel_id IS NULL`` for a selective index search over nearly every line (110 ms a
        # scan on a million). "Neither a waybill nor a parcel" is one expression (``parcels.unplaced``).
        # tests/services/test_station_scale.py holds both engines to it.
        .where(L.order_id.in_(order_ids), or_(own, parcels.unplaced()))
        .order_by(Ord.order_no, L.id, P.id, B.id)
    )


_PLAN = _plan_select("waybill_id")
_PARCEL_PLAN = _plan_select("parcel_id")


def load_plan(s: Session, tracking_number: str, waybill: Row[int, str, str] | None = None) -> PackPlan | None:
    """The waybill's lines, plus the lines of the same orders that have no waybill (nor parcel) of their own
    (they travel in the same box: 합포장). ``None`` when no waybill has this number. ``waybill``: the row
    ``find_waybill`` already found (the station claims it before reading its lines)."""
    wb = waybill if waybill is not None else find_waybill(s, tracking_number)
    if wb is None:
        return None
    # one query (each round trip to a shared server counts, bench/stations.py)
    rows = s.connection().execute(_PLAN, {"waybill_id": wb.id}).all()
    lines, items, recipient = _assemble(rows)
    packed_by = None
    if lines and not any(ln.status.packable for ln in lines):  # a refusal's path only: one more read is free
        packed_by = completed_by(s, wb.id)
    return PackPlan(wb.id, wb.tracking_number, wb.courier_code, recipient, lines, items, packed_by=packed_by)


_COMPLETED_BY = (select(m.PackSession.station, m.PackSession.packer_name, m.PackSession.ended_at)
                 .where(m.PackSession.waybill_id == bindparam("waybill_id"),
                        m.PackSession.outcome == PackOutcome.COMPLETED))


def completed_by(s: Session, waybill_id: int) -> PackedBy | None:
    """Where, by whom and when the waybill's pack completed; ``None`` when no station here packed it (the
    marketplace says it shipped)."""
    row = s.connection().execute(_COMPLETED_BY, {"waybill_id": waybill_id}).first()
    if row is None or row.ended_at is None:
        return None
    return PackedBy(row.station, row.packer_name, row.ended_at)


def station_counts(s: Session, station: str, since: datetime) -> tuple[int, int]:
    """(packs this station completed since ``since`` — the start of the day in Korea —, parcels left to pack
    in the warehouse: waybills, and parcels still without one, that have a line ready to pack)."""
    PS, L = m.PackSession, m.OrderLine
    packed = s.scalar(select(func.count()).select_from(PS).where(
        PS.station == station, PS.outcome == PackOutcome.COMPLETED, PS.ended_at >= since)) or 0
    ready = L.status.in_([st for st in LineStatus if st.packable])
    waybills = s.scalar(select(func.count(func.distinct(L.waybill_id))).where(ready, L.waybill_id.is_not(None))) or 0
    parcels_left = s.scalar(select(func.count(func.distinct(L.parcel_id))).where(
        ready, L.waybill_id.is_(None), L.parcel_id.is_not(None))) or 0
    return packed, waybills + parcels_left


def load_parcel_plan(s: Session, parcel: Row[*tuple[Any, ...]]) -> PackPlan:
    """A parcel opened from its packing slip, before it has a waybill (``find_parcel``'s row): its lines, as
    ``load_plan`` reads a waybill's. The plan's tracking number is the parcel key until the label binds."""
    rows = s.connection().execute(_PARCEL_PLAN, {"parcel_id": parcel.id}).all()
    lines, items, recipient = _assemble(rows)
    return PackPlan(None, parcel.key, "", recipient, lines, items, parcel.id, parcel.key)


def _assemble(rows: Sequence[Row[*tuple[Any, ...]]]) -> tuple[tuple[PlanLine, ...], dict[int, PlanItem], str]:
    """The plan's lines, items and recipient from ``_plan_select``'s rows."""
    first: dict[int, Any] = {}  # line id -> its first row, in order
    components: dict[int, list[tuple[int, int]]] = defaultdict(list)
    links: dict[int, set[int]] = defaultdict(set)
    info: dict[int, Any] = {}
    barcodes: dict[int, list[str]] = defaultdict(list)
    for r in rows:
        first.setdefault(r.id, r)
        if r.link_id is None:
            continue
        if r.link_id not in links[r.id]:
            links[r.id].add(r.link_id)
            components[r.id].append((r.item_id, r.per_set))
        info[r.item_id] = r
        if r.barcode is not None and r.barcode not in barcodes[r.item_id]:
            barcodes[r.item_id].append(r.barcode)
    items = {iid: PlanItem(iid, r.sku, r.item_name, r.item_option, tuple(barcodes[iid]), r.image_path)
             for iid, r in info.items()}
    lines = tuple(
        PlanLine(r.id, r.order_no, r.product_order_id, r.product_name, r.option_name, r.quantity, r.status,
                 tuple(components[r.id]), r.packed_at, r.claim_status or "", r.instructions or "",
                 r.image_url or "")
        for r in first.values()
    )
    recipient = next(iter(first.values())).recipient_name if first else ""
    return lines, items, recipient


def _unique(rows: Sequence[_R]) -> _R | None:
    return rows[0] if len(rows) == 1 else None


def find_item(s: Session, barcode: str) -> ItemRef | None:
    """By exact barcode; failing that, by a unique case-insensitive match (a scan read from Hangul text
    cannot tell M from m: see devices/hangul.py)."""
    q = select(m.Item.id, m.Item.name, m.Item.option_name).join(m.ItemBarcode, m.ItemBarcode.item_id == m.Item.id)
    row = s.execute(q.where(m.ItemBarcode.barcode == barcode)).first()
    if row is None and any(c.isalpha() for c in barcode):
        row = _unique(s.execute(q.where(func.lower(m.ItemBarcode.barcode) == barcode.lower()).limit(2)).all())
    return ItemRef(row.id, row.name, row.option_name) if row else None


def active_packers(s: Session) -> list[tuple[PackerRef, str | None]]:
    """(packer, badge code) for every active packer, by name: small, cached by the station."""
    return [(PackerRef(r.id, r.name), r.badge_code) for r in s.execute(
        select(m.Packer.id, m.Packer.name, m.Packer.badge_code).where(m.Packer.active).order_by(m.Packer.name))]


def inactive_badges(s: Session) -> dict[str, PackerRef]:
    """Badge code (lower case) -> packer, for the deactivated packers: a station refuses such a badge by
    name ("deactivated") instead of calling it an unknown barcode."""
    P = m.Packer
    return {r.badge_code.lower(): PackerRef(r.id, r.name) for r in s.execute(
        select(P.id, P.name, P.badge_code).where(~P.active, P.badge_code.is_not(None)))}
