"""Parcels: the lines that ship together get one stable key, and the courier's waybill binds to it.

A collected marketplace order arrives with no tracking number: the number comes from the courier under the
seller's contract (a courier program's Excel round trip, a pre-printed label bound at the station, or a
number typed by a supervisor). Until then its lines belong to a *parcel*:

- ``assign`` puts every ready-to-pack line without a waybill or a parcel (and whose order has no labelled line:
  that box has its label) into one: the open parcel of the
  same account and recipient (name, phone, postcode, address — 합포장: one buyer's orders to one address ship
  in one box), or a new one. A parcel is open until its waybill binds; lines that arrive after that start a
  new parcel (that box already has its label). A line whose order has a line with a waybill still to pack
  gets no parcel: it travels in that waybill's box, as the station packs it (``core/queries.load_plan``).
  Idempotent: calling it again changes nothing.
- ``bind`` attaches a courier + tracking number to a parcel: the number is checked (``core/tracking.py``),
  must not be another parcel's, and the waybill is set on the parcel and on each of its lines without one,
  so the station, the outbox and review work from it exactly as for a waybill collected with its order.
  Binding the number a parcel already has changes nothing (re-importing a sheet is harmless).

The parcel key (``PD-P-`` + 8 characters) is what the packing slip's barcode holds and what the courier export
sends as the customer reference. It is random, not a counter: keys made by stations on separate databases
never meet, and one cannot be guessed from another. The recipient is kept only as a hash (``group_key``).
"""

from __future__ import annotations

import hashlib
import re
import secrets
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, exists, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from packdesk.core import models as m
from packdesk.core import tracking
from packdesk.core.couriers import BY_CODE
from packdesk.core.db import changed_rows
from packdesk.core.enums import LineStatus
from packdesk.core.errors import KnownError

KEY_PREFIX = "PD-P-"
_KEY_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: read aloud and typed without doubt
_KEY = re.compile(rf"^{KEY_PREFIX}[{_KEY_ALPHABET}]{{8}}$")
READY = (LineStatus.NEW, LineStatus.CONFIRMED)


class BindRefused(KnownError):
    """A number that cannot bind to this parcel; the code says why (``tracking_*`` from the check,
    ``tracking_used``, ``parcel_has_waybill``, ``parcel_not_found``, ``parcel_empty``, ``bind_courier_unknown``)."""

    code = "bind_refused"


def new_key() -> str:
    return KEY_PREFIX + "".join(secrets.choice(_KEY_ALPHABET) for _ in range(8))


def looks_like_key(code: str) -> bool:
    """A scan or a sheet cell that is a parcel key (any case: a scan read from Hangul text loses it)."""
    return bool(_KEY.match(code.strip().upper()))


def _fold(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFC", text or "")).casefold()  # "김 민지" is "김민지"


def group_key(recipient_name: str, phone: str, zip_code: str, address: str) -> str:
    """Who and where a box goes, as a hash: equal for the same recipient written with other spaces or case."""
    digits = re.sub(r"\D", "", phone or "")
    raw = "\x1f".join((_fold(recipient_name), digits, _fold(zip_code), _fold(address)))
    return hashlib.sha256(raw.encode()).hexdigest()


def unplaced() -> ColumnElement[bool]:
    """Order lines with neither a waybill nor a parcel, as one expression: SQLite's planner, with no statistics at
    a station, takes a ``col IS NULL`` for a selective index search, and nearly every line has no parcel (or,
    shipped, has a waybill). No index is chosen for this one, so the statement's other, selective conditions
    decide how its lines are read (tests/services/test_station_scale.py)."""
    return func.coalesce(m.OrderLine.waybill_id, m.OrderLine.parcel_id).is_(None)


def assign(s: Session, now: datetime, account_ids: Iterable[int] | None = None) -> int:
    """Put ready lines with neither waybill nor parcel into parcels; returns how many lines were placed.
    Lines that name different couriers (``OrderLine.courier_code``, an Excel sheet's) never share a parcel: each
    courier's export takes its own boxes. A line that names none joins any open parcel of its recipient."""
    L, Ord, P = m.OrderLine, m.Order, m.Parcel
    labelled = aliased(m.OrderLine)
    rides = select(labelled.id).where(labelled.order_id == L.order_id, labelled.waybill_id.is_not(None),
                                      labelled.status.in_(READY))
    # Read by the one index that names them, the lines ready to pack (status first): "neither waybill nor parcel"
    # is one expression and the accounts are picked here, so SQLite's planner, with no statistics, has no other
    # index to take. It took whichever of the waybill, parcel or account indexes its schema listed first (an
    # order that varies between databases), and with some it walked every line (tests/services/test_station_scale.py).
    q = (select(L.id, L.account_id, L.courier_code, Ord.recipient_name, Ord.recipient_phone, Ord.zip_code,
                Ord.address)
         .join(Ord, Ord.id == L.order_id)
         .where(L.status.in_(READY), unplaced(), ~exists(rides)))
    accounts = None if account_ids is None else set(account_ids)
    groups: dict[tuple[int, str, str], list[int]] = {}
    for r in s.execute(q.order_by(L.id)):
        if accounts is not None and r.account_id not in accounts:
            continue
        gk = group_key(r.recipient_name, r.recipient_phone, r.zip_code, r.address)
        groups.setdefault((r.account_id, gk, r.courier_code or ""), []).append(r.id)
    if not groups:
        return 0
    # (account, recipient) -> its open parcels as [id, the courier its lines name ("" = none)], oldest first
    open_parcels: dict[tuple[int, str], list[list[Any]]] = {}
    named = select(func.max(L.courier_code)).where(L.parcel_id == P.id).correlate(P).scalar_subquery()
    for account_id in {a for a, _, _ in groups}:
        keys = sorted({g for a, g, _ in groups if a == account_id})
        for part in range(0, len(keys), 500):
            for r in s.execute(select(P.id, P.group_key, named.label("courier")).where(
                    P.account_id == account_id, P.waybill_id.is_(None), P.group_key.in_(keys[part:part + 500]))
                    .order_by(P.id)):
                open_parcels.setdefault((account_id, r.group_key), []).append([r.id, r.courier or ""])
    placed = 0
    # lines that name a courier first, so the ones that name none join a box they made rather than a new one
    for (account_id, gk, courier), line_ids in sorted(groups.items(), key=lambda g: g[0][2] == ""):
        candidates = open_parcels.setdefault((account_id, gk), [])
        slot = next((p for p in candidates if not courier or p[1] in (courier, "")), None)
        if slot is None:
            slot = [_create(s, account_id, gk, now), courier]
            candidates.append(slot)
        elif courier:
            slot[1] = courier
        placed += changed_rows(s.execute(update(L).where(L.id.in_(line_ids), L.parcel_id.is_(None))
                                         .values(parcel_id=slot[0]))) or 0
    return placed


def _create(s: Session, account_id: int, gk: str, now: datetime) -> int:
    for _ in range(5):  # a key collision is ~1 in 10^12 per pair; try again rather than fail the collection
        try:
            with s.begin_nested():
                return s.execute(m.Parcel.__table__.insert().values(
                    key=new_key(), account_id=account_id, group_key=gk, waybill_source="", created_at=now,
                ).returning(m.Parcel.id)).scalar_one()
        except IntegrityError:
            continue
    raise RuntimeError("could not make a unique parcel key")


def named_courier(s: Session, parcel_id: int) -> str:
    """The courier the parcel's lines still to pack name (``OrderLine.courier_code``, an order sheet's), "" when
    none does: the label it waits for is that courier's (``assign`` keeps one courier per parcel)."""
    L = m.OrderLine
    return s.scalar(select(func.max(L.courier_code)).where(L.parcel_id == parcel_id, L.status.in_(READY))) or ""


def find_by_key(s: Session, key: str) -> int | None:
    return s.scalar(select(m.Parcel.id).where(m.Parcel.key == key.strip().upper()))


@dataclass(frozen=True)
class Bound:
    parcel_id: int
    parcel_key: str
    waybill_id: int
    courier_code: str
    tracking_number: str
    already: bool          # the parcel had this very number: nothing changed
    warning: str = ""      # accepted with a warning (a check digit set to warn)


def check_number(s: Session, raw: str, courier_code: str, check_digit: Mapping[str, str] | None = None,
                 parcel_id: int | None = None) -> tracking.TrackingCheck:
    """The format check, then: not already another parcel's or another order's waybill. ``problem`` set
    (``tracking_used``, with ``used_by``: the parcel key or order number that has it) when it is."""
    checked = tracking.check(raw, courier_code, check_digit)
    if not checked.ok:
        return checked
    owner = used_by(s, checked.number, parcel_id)
    if owner:
        return tracking.TrackingCheck(checked.number, "tracking_used",
                                      params={**(checked.params or {}), "used_by": owner})
    return checked


def used_by(s: Session, number: str, parcel_id: int | None = None) -> str:
    """Who has this tracking number (as stored: ``tracking.normalize``) already, "" when nobody other than
    parcel ``parcel_id``: a parcel's key or an order number."""
    W, P, L, Ord = m.Waybill, m.Parcel, m.OrderLine, m.Order
    wb = s.execute(select(W.id).where(_same_number(number))).first()
    if wb is None:
        return ""
    owner = s.execute(select(P.id, P.key).where(P.waybill_id == wb.id)).first()
    if owner is not None:
        return "" if owner.id == parcel_id else owner.key
    order_no = s.scalar(select(Ord.order_no).join(L, L.order_id == Ord.id).where(L.waybill_id == wb.id).limit(1))
    if order_no is not None:
        return order_no
    packed = s.scalar(select(m.PackSession.id).where(m.PackSession.waybill_id == wb.id).limit(1))
    return f"#{packed}" if packed is not None else ""  # a waybill row with no lines and no packs: free


def _same_number(number: str) -> Any:
    """The waybill with this (normalised) number: an exact match uses the unique index; numbers with letters
    also match stored in another case (``upper()`` cannot use the index, so only then)."""
    W = m.Waybill
    if number.isdigit():
        return W.tracking_number == number
    return func.upper(W.tracking_number) == number


def bind(s: Session, parcel_id: int, courier_code: str, raw_number: str, *, now: datetime, source: str,
         check_digit: Mapping[str, str] | None = None) -> Bound:
    """Give the parcel its waybill (see the module docstring). Raises ``BindRefused``."""
    if courier_code not in BY_CODE:
        raise BindRefused("bind_courier_unknown", courier=courier_code)
    P, L, W = m.Parcel, m.OrderLine, m.Waybill
    parcel = s.execute(select(P.id, P.key, P.waybill_id).where(P.id == parcel_id)).first()
    if parcel is None:
        raise BindRefused("parcel_not_found", parcel=str(parcel_id))
    checked = check_number(s, raw_number, courier_code, check_digit, parcel_id)
    if not checked.ok:
        raise BindRefused(checked.problem, parcel=parcel.key, **dict(checked.params or {}))
    if parcel.waybill_id is not None:
        current = s.execute(select(W.courier_code, W.tracking_number).where(W.id == parcel.waybill_id)).one()
        if current.tracking_number.upper() == checked.number:
            return Bound(parcel.id, parcel.key, parcel.waybill_id, current.courier_code, current.tracking_number,
                         already=True)
        raise BindRefused("parcel_has_waybill", parcel=parcel.key, number=checked.number,
                          current=current.tracking_number)
    if not s.scalar(select(func.count()).select_from(L).where(L.parcel_id == parcel.id)):
        raise BindRefused("parcel_empty", parcel=parcel.key)
    wb_id = s.scalar(select(W.id).where(_same_number(checked.number)))
    if wb_id is None:  # (an existing row here has no lines and no packs: used_by said it is free)
        wb_id = s.execute(W.__table__.insert().values(courier_code=courier_code, tracking_number=checked.number,
                                                      created_at=now).returning(W.id)).scalar_one()
    else:
        s.execute(update(W).where(W.id == wb_id).values(courier_code=courier_code))
    # only while the parcel has none: two stations binding different labels at once cannot both win
    took = s.execute(update(P).where(P.id == parcel.id, P.waybill_id.is_(None))
                     .values(waybill_id=wb_id, waybill_source=source[:80], waybill_bound_at=now)
                     .returning(P.id)).first()
    if took is None:  # bound meanwhile by another station: say by which number
        current = s.scalar(select(W.tracking_number).join(P, P.waybill_id == W.id).where(P.id == parcel.id))
        raise BindRefused("parcel_has_waybill", parcel=parcel.key, number=checked.number, current=current or "")
    s.execute(update(L).where(L.parcel_id == parcel.id, L.waybill_id.is_(None)).values(waybill_id=wb_id))
    return Bound(parcel.id, parcel.key, wb_id, courier_code, checked.number, already=False,
                 warning=checked.warning)
