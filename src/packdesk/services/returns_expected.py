"""Expected returns: the returns and exchanges the marketplaces tell of (SmartStore's RETURN/EXCHANGE claims,
Coupang's return receipts), kept so the station knows a parcel coming back when it arrives, and found again by
whatever is on it or in the hand.

Collecting. Each collection run asks a channel that ``CollectsReturns`` (``channels/registry.Capability.RETURNS``;
a market without it is skipped) after its orders are stored, so a return's lines link to the lines collected
here. One row per (account, claim): a later run updates its status, reason, pickup waybill and times, adds
lines it did not have, and never loses a pickup waybill the marketplace stops showing. The run counts the
expected returns it stored or changed (``collection_runs.returns``). Nothing of the buyer is stored here: the
order row keeps what is kept of them.

Finding (``find_expected_return``): by the return's own waybill (the pickup label), by the original waybill
(the parcel that went out: a line's waybill, or its parcel's), by the order number, or by a product-order id.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, String, func, insert, or_, select, update
from sqlalchemy.orm import Session

from packdesk.channels.base import CollectsReturns, ReturnRecord
from packdesk.core import models as m
from packdesk.core.db import Database
from packdesk.core.models import utcnow
from packdesk.core.text import clean_text
from packdesk.core.tracking import normalize

log = logging.getLogger("packdesk.returns")

# statuses after which nothing more comes back (done, or refused by the seller)
CLOSED = frozenset({"RETURN_DONE", "RETURN_REJECT", "EXCHANGE_DONE", "EXCHANGE_REJECT", "RETURNS_COMPLETED"})
MATCHES = ("return_waybill", "original_waybill", "order_no", "product_order_id")  # how a code found one


@dataclass(frozen=True)
class ExpectedLine:
    product_order_id: str
    quantity: int
    line_id: int | None       # the line collected here, when there is one
    product_name: str = ""
    option_name: str = ""


@dataclass(frozen=True)
class ExpectedReturnView:
    """An expected return as the station and the orders window read it: plain data, read in one session.
    Times are UTC (``kst_text`` shows them in Korea time); words are the marketplace's."""

    id: int
    account_id: int
    account: str                  # the account's name
    market: str                   # its kind (a ``ChannelKind`` value for the built-in markets)
    claim_id: str
    claim_type: str               # "return" or "exchange"
    status: str                   # the marketplace's word: ``words.label(words.MARKET, status)`` names it
    order_no: str
    order_id: int | None
    lines: tuple[ExpectedLine, ...]
    reason_code: str
    reason_text: str
    courier_code: str             # the pickup's (our code), "" when none named
    tracking_number: str          # the return waybill, "" when none booked
    original_tracking: tuple[str, ...]  # the waybills the order went out under, as known here
    requested_at: datetime | None
    updated_at: datetime | None
    collected_at: datetime
    matched_by: str = ""          # which kind of code found it (``MATCHES``); "" when listed

    @property
    def open(self) -> bool:
        """Still to come back (not done, not refused)."""
        return self.status not in CLOSED


# ------------------------------------------------------------------ collecting

def collect_expected_returns(db: Database, account_id: int, channel: object, since: datetime,
                             until: datetime) -> int:
    """Ask ``channel`` for the returns and exchanges of ``[since, until)`` and store them; how many expected
    returns were new or changed. A channel without the ability is skipped (0). Its errors are raised: the
    collection run decides what they mean for it (``services/collect.run_collection``)."""
    if not isinstance(channel, CollectsReturns):
        return 0
    records = channel.returns(since, until)
    if not records:
        return 0
    with db.session() as s:
        account = s.get_one(m.ChannelAccount, account_id)
        return store_expected_returns(s, account_id, str(account.kind), records)


def _limit(model: type[m.Base], name: str) -> int | None:
    col = model.__table__.c[name]
    return col.type.length if isinstance(col.type, String) else None


_E, _EL = m.ExpectedReturn, m.ExpectedReturnLine
_TEXT = {f: _limit(_E, f) for f in ("claim_type", "status", "reason_code", "reason_text", "courier_code",
                                    "tracking_number")}
_IDS = {"claim_id": _limit(_E, "claim_id"), "order_no": _limit(_E, "order_no")}
_PID = _limit(_EL, "product_order_id")


def _cleaned(rec: ReturnRecord) -> dict[str, Any] | None:
    """The record's values as stored (text cleaned and cut to its column), or None when an identifier cannot be
    stored as it is (too long, a control character): that claim is left out and logged, the others go on."""
    out: dict[str, Any] = {}
    for name, limit in _IDS.items():
        value = getattr(rec, name)
        if clean_text(value) != value or not value or (limit is not None and len(value) > limit):
            return None
        out[name] = value
    for name, limit in _TEXT.items():
        value = clean_text(getattr(rec, name)).strip()
        out[name] = value[:limit] if limit is not None else value
    out["tracking_number"] = normalize(out["tracking_number"])[:_TEXT["tracking_number"] or 40]
    out["requested_at"], out["updated_at"] = rec.requested_at, rec.updated_at
    lines: dict[str, int] = {}
    for pid, qty in rec.lines:
        if not pid or clean_text(pid) != pid or (_PID is not None and len(pid) > _PID):
            return None
        lines[pid] = lines.get(pid, 0) + max(0, min(int(qty), 2**31 - 1))
    out["lines"] = lines
    return out


def _in_chunks(values: Sequence[Any], size: int = 500) -> Iterator[Sequence[Any]]:
    for i in range(0, len(values), size):
        yield values[i:i + size]


def store_expected_returns(s: Session, account_id: int, market: str, records: Iterable[ReturnRecord],
                           now: datetime | None = None) -> int:
    """Upsert ``records`` of one account in this session (see the module's docstring); how many were new or
    changed (a run's ``returns`` count)."""
    now = now or utcnow()
    wanted: dict[str, dict[str, Any]] = {}
    for rec in records:
        values = _cleaned(rec)
        if values is None:
            log.warning("account %s: return claim %r left out (an identifier that cannot be stored)", account_id,
                        clean_text(rec.claim_id)[:80])
            continue
        if rec.claim_id in wanted:  # one claim twice: its lines together, the rest as last read
            values["lines"] = {**wanted[rec.claim_id]["lines"], **values["lines"]}
        wanted[rec.claim_id] = values
    if not wanted:
        return 0
    claim_ids = list(wanted)
    existing: dict[str, m.ExpectedReturn] = {}
    for part in _in_chunks(claim_ids):
        existing.update((e.claim_id, e) for e in s.scalars(
            select(_E).where(_E.account_id == account_id, _E.claim_id.in_(part))))
    order_ids = _ids_by(s, m.Order.order_no, m.Order.id, m.Order.account_id, account_id,
                        {v["order_no"] for v in wanted.values()})
    line_ids = _ids_by(s, m.OrderLine.product_order_id, m.OrderLine.id, m.OrderLine.account_id, account_id,
                       {pid for v in wanted.values() for pid in v["lines"]})
    fields = ("claim_type", "status", "order_no", "reason_code", "reason_text", "courier_code", "tracking_number",
              "requested_at", "updated_at")
    have: dict[int, dict[str, tuple[int | None, int]]] = {}  # expected return -> its lines (line id, quantity)
    for part in _in_chunks([e.id for e in existing.values()]):
        for rid, pid, lid, qty in s.execute(select(_EL.expected_return_id, _EL.product_order_id, _EL.line_id,
                                                   _EL.quantity).where(_EL.expected_return_id.in_(part))):
            have.setdefault(rid, {})[pid] = (lid, qty)
    rows: dict[str, m.ExpectedReturn] = {}
    changed: set[str] = set()
    for claim_id, values in wanted.items():
        row = existing.get(claim_id)
        order_id = order_ids.get(values["order_no"])
        if row is None:
            row = m.ExpectedReturn(account_id=account_id, market=market, claim_id=claim_id, order_id=order_id,
                                   created_at=now, collected_at=now, **{f: values[f] for f in fields})
            s.add(row)
            changed.add(claim_id)
        else:
            if not values["tracking_number"]:  # a pickup waybill once shown is kept
                values["tracking_number"], values["courier_code"] = row.tracking_number, \
                    values["courier_code"] or row.courier_code
            if any(getattr(row, f) != values[f] for f in fields if f not in ("requested_at", "updated_at")) or (
                    values["updated_at"] is not None and row.updated_at != values["updated_at"]):
                changed.add(claim_id)
            for f in fields:
                if values[f] is not None or f not in ("requested_at", "updated_at"):
                    setattr(row, f, values[f])
            row.collected_at = now
            if order_id is not None:
                row.order_id = order_id
        rows[claim_id] = row
    s.flush()  # the new rows' ids
    new_lines = []
    for claim_id, values in wanted.items():
        row, known = rows[claim_id], have.get(rows[claim_id].id, {})
        for pid, qty in values["lines"].items():
            lid = line_ids.get(pid)
            if pid not in known:
                new_lines.append({"expected_return_id": row.id, "product_order_id": pid, "quantity": qty,
                                  "line_id": lid})
                changed.add(claim_id)
            elif known[pid][1] != qty or (known[pid][0] is None and lid is not None):
                s.execute(update(_EL).where(_EL.expected_return_id == row.id, _EL.product_order_id == pid)
                          .values(quantity=qty, line_id=lid if lid is not None else known[pid][0]))
                changed.add(claim_id)
    if new_lines:
        s.execute(insert(_EL), new_lines)
    counted = len(changed)
    log.info("account %s: %d return claim(s) read, %d new or changed", account_id, len(wanted), counted)
    return counted


def _ids_by(s: Session, key: Any, ident: Any, account_col: Any, account_id: int, values: set[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for part in _in_chunks(sorted(values)):
        found.update(s.execute(select(key, ident).where(account_col == account_id, key.in_(part))).all())
    return found


# ------------------------------------------------------------------ finding

def find_expected_return(s: Session, code: str) -> ExpectedReturnView | None:
    """The expected return a scanned or typed ``code`` names: its return waybill, else the original waybill of
    its order (a line's, or its parcel's), else its order number, else one of its product-order ids — the first
    kind that matches decides. Several under one code (two claims on one order): the newest still open, else the
    newest. None when nothing matches."""
    raw = clean_text(code or "").strip()
    if not raw:
        return None
    number = normalize(raw)
    E, L, P, W, Ord = m.ExpectedReturn, m.OrderLine, m.Parcel, m.Waybill, m.Order
    tries: list[tuple[str, Select[int]]] = []
    if number:
        tries.append(("return_waybill", select(E.id).where(E.tracking_number == number)))
        waybills = select(W.id).where(W.tracking_number == number if number.isdigit()
                                      else func.upper(W.tracking_number) == number)
        lines = select(L.id).where(or_(L.waybill_id.in_(waybills),
                                       L.parcel_id.in_(select(P.id).where(P.waybill_id.in_(waybills)))))
        orders = select(L.order_id).where(L.id.in_(lines))
        tries.append(("original_waybill", select(E.id).where(or_(
            E.id.in_(select(_EL.expected_return_id).where(_EL.line_id.in_(lines))), E.order_id.in_(orders)))))
    tries.append(("order_no", select(E.id).where(or_(E.order_no == raw,
                                                     E.order_id.in_(select(Ord.id).where(Ord.order_no == raw))))))
    tries.append(("product_order_id", select(E.id).where(
        E.id.in_(select(_EL.expected_return_id).where(_EL.product_order_id == raw)))))
    for how, ids in tries:
        rows = list(s.scalars(select(E).where(E.id.in_(ids)).order_by(E.requested_at.desc().nulls_last(), E.id.desc())))
        if rows:
            best = next((r for r in rows if r.status not in CLOSED), rows[0])
            return _views(s, [best], how)[0]
    return None


def list_expected_returns(s: Session, limit: int = 500, open_only: bool = False) -> list[ExpectedReturnView]:
    """The latest expected returns (newest request first), for a supervisor's list."""
    E = m.ExpectedReturn
    q = select(E).where(E.status.not_in(CLOSED)) if open_only else select(E)
    rows = list(s.scalars(q.order_by(E.requested_at.desc().nulls_last(), E.id.desc()).limit(limit)))
    return _views(s, rows, "")


def _views(s: Session, rows: Sequence[m.ExpectedReturn], matched_by: str) -> list[ExpectedReturnView]:
    if not rows:
        return []
    ids = [r.id for r in rows]
    names = dict(s.execute(select(m.ChannelAccount.id, m.ChannelAccount.name)
                           .where(m.ChannelAccount.id.in_({r.account_id for r in rows}))).all())
    L = m.OrderLine
    lines: dict[int, list[ExpectedLine]] = {}
    for rid, pid, qty, lid, name, option in s.execute(
            select(_EL.expected_return_id, _EL.product_order_id, _EL.quantity, _EL.line_id, L.product_name,
                   L.option_name).outerjoin(L, L.id == _EL.line_id)
            .where(_EL.expected_return_id.in_(ids)).order_by(_EL.id)):
        lines.setdefault(rid, []).append(ExpectedLine(pid, qty, lid, name or "", option or ""))
    order_ids = {r.order_id for r in rows if r.order_id is not None}
    sent: dict[int, list[str]] = {}
    if order_ids:
        W, P = m.Waybill, m.Parcel
        for oid, own, parcel in s.execute(
                select(L.order_id, W.tracking_number, select(W.tracking_number).join(P, P.waybill_id == W.id)
                       .where(P.id == L.parcel_id).scalar_subquery())
                .outerjoin(W, W.id == L.waybill_id).where(L.order_id.in_(order_ids)).order_by(L.id)):
            for number in (own, parcel):
                if number and number not in sent.setdefault(oid, []):
                    sent[oid].append(number)
    return [ExpectedReturnView(
        id=r.id, account_id=r.account_id, account=names.get(r.account_id, "?"), market=str(r.market),
        claim_id=r.claim_id, claim_type=r.claim_type, status=r.status, order_no=r.order_no, order_id=r.order_id,
        lines=tuple(lines.get(r.id, ())), reason_code=r.reason_code, reason_text=r.reason_text,
        courier_code=r.courier_code, tracking_number=r.tracking_number,
        original_tracking=tuple(sent.get(r.order_id, ())) if r.order_id is not None else (),
        requested_at=r.requested_at, updated_at=r.updated_at, collected_at=r.collected_at, matched_by=matched_by)
        for r in rows]
