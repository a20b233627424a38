"""Collection: ask a channel for orders in a window and store them, counted, as one collection run.

Storing is an upsert keyed by (account, marketplace product-order id): collecting twice never
duplicates, and a later status (a cancel) updates the line and is kept in its history. A status that
would move a line backwards from what we did here (packed -> new) is not applied; a cancel always is,
because that parcel must be pulled.

What a database would refuse never fails the others: free text is cleaned (``core/text.clean_text``) and
kept whole (TEXT columns); an order whose identifier exceeds its column or holds a control character, or
that the database refuses anyway, is set aside — not stored, counted in the run and named in its detail — and
every other order is stored, the same on SQLite and PostgreSQL.

Every run ends: ``succeeded``, ``failed`` with its reason, or ``abandoned`` when it is found running with no
process behind it (its lease ``run:<id>`` lapsed, or its process is gone from this PC); its counts grow with
each stored batch, so a run cut short says what it stored. A failed run keeps its error's words for people
(``error_params``: the marketplace's message, a hint such as a wrong PC clock), so the collection window can
say why (``failure_of``).

Some marketplaces leave a fully cancelled order out of their lists (Coupang). A channel that ``FollowsUp``
is asked, after its lists, about the open lines of the window they did not show and about the cancels it
can list; what it says updates those lines' status only (there is no order data to store), with history.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Column, String, delete, insert, select, update
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from packdesk.channels import registry
from packdesk.channels.base import (
    Channel,
    ChannelError,
    Confirms,
    FollowsUp,
    LineRecord,
    OrderRecord,
    close_channel,
)
from packdesk.channels.registry import AccountSettings
from packdesk.core import leases, parcels
from packdesk.core import models as m
from packdesk.core.catalog import register_sales_products
from packdesk.core.db import Database
from packdesk.core.enums import NO_MARKETPLACE, LineStatus, RunStatus
from packdesk.core.errors import KnownError, Words, describe_error
from packdesk.core.kst import KST, kst
from packdesk.core.models import utcnow
from packdesk.core.text import clean_text
from packdesk.core.words import words
from packdesk.services.returns_expected import collect_expected_returns
from packdesk.services.secrets import backend_name, get_secret

log = logging.getLogger("packdesk.collect")

_OURS = (LineStatus.PACKED, LineStatus.DISPATCHED, LineStatus.SHIPPED)
_CANCELS = (LineStatus.CANCELLED, LineStatus.CANCEL_REQUESTED)
_GONE_OUT = (LineStatus.DISPATCHED, LineStatus.SHIPPED)  # a later cancel there is a return: nothing to pull here
_OPEN = (LineStatus.NEW, LineStatus.CONFIRMED, LineStatus.PACKED, LineStatus.CANCEL_REQUESTED)


@dataclass(frozen=True)
class SetAside:
    """An order not stored, and why: a person looks it up at the marketplace. Names the order and the field,
    never the buyer."""

    order_no: str
    field: str          # the record's field ("" when the database refused the order as a whole)
    reason: str         # "too_long", "bad_characters", "out_of_range", "db_refused"
    detail: str = ""

    def __str__(self) -> str:
        shown = clean_text(self.order_no)
        shown = shown if len(shown) <= 64 else shown[:64] + "…"
        return f"{shown}: {' '.join(p for p in (self.field, self.reason) if p)}" + (
            f" ({self.detail})" if self.detail else "")


@dataclass
class CollectCounts:
    orders: int = 0
    lines: int = 0
    registered: int = 0
    cancel_requested: int = 0
    cancelled: int = 0
    tracking_registered: int = 0
    tracking_sent: int = 0
    set_aside: int = 0
    returns: int = 0  # expected returns new or changed (services/returns_expected.py)
    aside: list[SetAside] = field(default_factory=list, repr=False, compare=False)  # the orders set aside

    def as_dict(self) -> dict[str, int]:
        """The counts, by the names of ``CollectionRun``'s columns."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "aside"}

    def add(self, other: CollectCounts) -> None:
        for k, v in other.as_dict().items():
            setattr(self, k, getattr(self, k) + v)
        self.aside.extend(other.aside)

    def aside_text(self) -> str:
        """The orders set aside, one a line, for the run's error detail."""
        return "\n".join(str(a) for a in self.aside)


STORE_CHUNK = 300  # orders per transaction: a big collection never holds SQLite's write lock for long


def _in_chunks(values: list[Any], size: int = 500) -> Iterator[list[Any]]:
    for i in range(0, len(values), size):
        yield values[i:i + size]


# ------------------------------------------------------------------ what a database would refuse

def _length(*columns: Any) -> int | None:
    """The tightest length of the columns a value is written to (None: TEXT, no limit)."""
    lengths = [c.type.length for c in columns if isinstance(c.type, String) and c.type.length]
    return min(lengths) if lengths else None


def _c(model: type[m.Base], name: str) -> Column[Any]:
    return model.__table__.c[name]


_O, _L, _SP, _H, _W = m.Order, m.OrderLine, m.SalesProduct, m.LineStatusChange, m.Waybill
# every text a record carries -> its limit, from the model (so the check follows the schema)
ORDER_LIMITS: dict[str, int | None] = {f: _length(_c(_O, f)) for f in (
    "order_no", "buyer_name", "recipient_name", "recipient_phone", "zip_code", "address", "delivery_message")}
LINE_LIMITS: dict[str, int | None] = {
    "product_order_id": _length(_c(_L, "product_order_id")),
    "product_code": _length(_c(_L, "product_code"), _c(_SP, "product_code")),
    "option_code": _length(_c(_L, "option_code"), _c(_SP, "option_code")),
    "product_name": _length(_c(_L, "product_name"), _c(_SP, "product_name")),
    "option_name": _length(_c(_L, "option_name"), _c(_SP, "option_name")),
    "channel_status": _length(_c(_L, "channel_status"), _c(_H, "channel_status")),
    "claim_status": _length(_c(_L, "claim_status"), _c(_H, "claim_status")),
    "courier_code": _length(_c(_W, "courier_code"), _c(_L, "courier_code")),
    "tracking_number": _length(_c(_W, "tracking_number")),
    "instructions": _length(_c(_L, "instructions")),  # TEXT: cleaned, kept whole
}
# identifiers: what the marketplace knows the order by and we send back (a dispatch names the product order).
# Cleaned, one would be another order's, or no order's: an identifier with a control character is set aside.
IDENTIFIERS = frozenset({"order_no", "product_order_id", "product_code", "option_code", "channel_status",
                         "claim_status", "courier_code", "tracking_number"})
# recipient_name is indexed (the review searches by it): PostgreSQL's index entries hold at most 2,704 bytes,
# and 500 characters of at most 4 bytes each fit
MAX_INDEXED_TEXT = 500
MAX_INT = 2**31 - 1  # INTEGER on PostgreSQL (SQLite would store more)


def _prepared(rec: OrderRecord) -> OrderRecord | SetAside:
    """``rec`` with its free text cleaned (the same object when nothing needed it, nearly always), or why the
    database would refuse it."""
    def clean(obj: Any, limits: dict[str, int | None]) -> dict[str, Any] | SetAside:  # Any: replace()'s fields
        changed: dict[str, str] = {}
        for name, limit in limits.items():
            value = getattr(obj, name)
            if not isinstance(value, str):
                return SetAside(rec.order_no, name, "not_text", type(value).__name__)
            cleaned = clean_text(value)
            if cleaned is not value and cleaned != value:
                if name in IDENTIFIERS:
                    return SetAside(rec.order_no, name, "bad_characters")
                changed[name] = cleaned
            if limit is not None and len(cleaned) > limit:
                return SetAside(rec.order_no, name, "too_long", f"{len(cleaned)} > {limit}")
        return changed

    order = clean(rec, ORDER_LIMITS)
    if isinstance(order, SetAside):
        return order
    recipient = len(order.get("recipient_name", rec.recipient_name))
    if recipient > MAX_INDEXED_TEXT:
        return SetAside(rec.order_no, "recipient_name", "too_long", f"{recipient} > {MAX_INDEXED_TEXT}")
    lines = []
    for lr in rec.lines:
        qty = lr.quantity
        if isinstance(qty, bool) or not isinstance(qty, int) or not -MAX_INT - 1 <= qty <= MAX_INT:
            return SetAside(rec.order_no, "quantity", "out_of_range", str(qty)[:20])
        changed = clean(lr, LINE_LIMITS)
        if isinstance(changed, SetAside):
            return changed
        lines.append(replace(lr, **changed) if changed else lr)
    if not order and all(a is b for a, b in zip(lines, rec.lines, strict=True)):
        return rec
    return replace(rec, **order, lines=tuple(lines))


def prepare_records(records: Iterable[OrderRecord]) -> tuple[list[OrderRecord], list[SetAside]]:
    """The records cleaned for storing, and the orders set aside (see the module's docstring)."""
    ready: list[OrderRecord] = []
    aside: list[SetAside] = []
    for rec in records:
        got = _prepared(rec)
        if isinstance(got, SetAside):
            aside.append(got)
        else:
            ready.append(got)
    return ready, aside


def _refused_data(e: DBAPIError) -> bool:
    """The database refused what was given (a value, a constraint, an index entry too big), not the connection."""
    return isinstance(e, DataError | IntegrityError) or str(getattr(e.orig, "sqlstate", "") or "").startswith("54")


# ------------------------------------------------------------------ storing

def store_orders(s: Session, account_id: int, records: list[OrderRecord], source: str) -> CollectCounts:
    """Upsert ``records`` in this session, set by set (a few statements per table, not per row). The records
    are stored as they are: ``store_orders_in_chunks`` cleans them and sets aside what would be refused."""
    counts = CollectCounts(orders=len(records))
    if not records:
        return counts
    now = utcnow()
    by_no = {rec.order_no: rec for rec in records}  # a repeated order: its last record wins
    order_fields = ("buyer_name", "recipient_name", "recipient_phone", "zip_code", "address", "delivery_message",
                    "ordered_at", "paid_at")
    order_ids = _order_ids(s, account_id, list(by_no))
    new_orders = [{"account_id": account_id, "order_no": no, "created_at": now, "updated_at": now,
                   **{f: getattr(rec, f) for f in order_fields}} for no, rec in by_no.items() if no not in order_ids]
    if new_orders:
        s.execute(insert(m.Order), new_orders)
    old_orders = [{"id": order_ids[no], "updated_at": now, **{f: getattr(rec, f) for f in order_fields}}
                  for no, rec in by_no.items() if no in order_ids]
    if old_orders:
        s.execute(update(m.Order), old_orders)
    if new_orders:
        order_ids = _order_ids(s, account_id, list(by_no))

    lines = {lr.product_order_id: (rec.order_no, lr) for rec in by_no.values() for lr in rec.lines}
    counts.lines = sum(len(rec.lines) for rec in records)
    existing = _lines(s, account_id, list(lines))
    waybill_ids = _waybill_ids(s, {lr.tracking_number: lr.courier_code for _, lr in lines.values()
                                   if lr.tracking_number}, now)
    line_fields = ("product_code", "option_code", "product_name", "option_name", "quantity", "channel_status",
                   "claim_status", "instructions")
    new_lines, old_lines, changed = [], [], []
    for pid, (order_no, lr) in lines.items():
        # the courier named without a number too (an Excel sheet's): the courier export goes by it; None: none
        values = {**{f: getattr(lr, f) for f in line_fields}, "courier_code": lr.courier_code or None}
        wid = waybill_ids.get(lr.tracking_number) if lr.tracking_number else None
        old = existing.get(pid)
        if old is None:
            status = lr.status
            counts.registered += 1
            is_change = True
            new_lines.append({"order_id": order_ids[order_no], "account_id": account_id, "product_order_id": pid,
                              "status": status, "waybill_id": wid, "created_at": now, "updated_at": now, **values})
            counts.tracking_registered += wid is not None
        else:
            _, old_status, old_wid = old
            keep_ours = old_status in _OURS and lr.status not in _CANCELS
            status = old_status if keep_ours else lr.status
            is_change = status != old_status
            row = {"id": old[0], "order_id": order_ids[order_no], "status": status, "updated_at": now, **values}
            if wid is not None and wid != old_wid:
                row["waybill_id"] = wid
                counts.tracking_registered += 1
            old_lines.append(row)
        if is_change:
            counts.cancelled += status is LineStatus.CANCELLED
            counts.cancel_requested += status is LineStatus.CANCEL_REQUESTED
            changed.append((pid, status, lr))
    if new_lines:
        s.execute(insert(m.OrderLine), new_lines)
    for part in _split_by_keys(old_lines):
        s.execute(update(m.OrderLine), part)
    if changed:
        ids = {pid: row[0] for pid, row in _lines(s, account_id, [pid for pid, _, _ in changed]).items()}
        s.execute(insert(m.LineStatusChange), [
            {"line_id": ids[pid], "status": status, "channel_status": lr.channel_status,
             "claim_status": lr.claim_status, "source": source[:80], "changed_at": now} for pid, status, lr in changed])
    register_sales_products(s, account_id, [(lr.product_code, lr.option_code, lr.product_name, lr.option_name)
                                            for _, lr in lines.values()], now)
    # lines that came without a tracking number wait in a parcel for their waybill (core/parcels.py)
    parcels.assign(s, now, [account_id])
    return counts


def store_orders_in_chunks(db: Database, account_id: int, records: list[OrderRecord], source: str,
                           chunk: int | None = None, run_id: int | None = None) -> CollectCounts:
    """``store_orders`` a few hundred orders per transaction: the station keeps writing its scans meanwhile
    (SQLite has one writer at a time). Storing is idempotent, so a crash half way is mended by the next run.

    Records are cleaned and the orders a database would refuse set aside first (``prepare_records``); a batch
    the database refuses all the same is stored again order by order, and only the orders it still refuses are
    set aside. With ``run_id``, that run's counts grow in each batch's own transaction."""
    chunk = chunk or STORE_CHUNK
    ready, aside = prepare_records(records)
    total = CollectCounts(set_aside=len(aside), aside=aside)
    if aside and run_id is not None:
        with db.session() as s:
            _count_in_run(s, run_id, CollectCounts(set_aside=len(aside)))
    for i in range(0, len(ready), chunk):
        part = ready[i:i + chunk]
        try:
            total.add(_store_batch(db, account_id, part, source, run_id))
        except DBAPIError as e:
            if not _refused_data(e):
                raise
            log.warning("account %s: the database refused a batch of %d order(s) (%s); storing them one by one",
                        account_id, len(part), describe_error(e))
            for rec in part:
                try:
                    total.add(_store_batch(db, account_id, [rec], source, run_id))
                except DBAPIError as one:
                    if not _refused_data(one):
                        raise
                    refused = SetAside(rec.order_no, "", "db_refused", describe_error(one))
                    total.add(CollectCounts(set_aside=1, aside=[refused]))
                    if run_id is not None:
                        with db.session() as s:
                            _count_in_run(s, run_id, CollectCounts(set_aside=1))
    if total.aside:
        log.warning("account %s: %d order(s) set aside, not stored: %s", account_id, len(total.aside),
                    "; ".join(str(a) for a in total.aside[:20]) + (" …" if len(total.aside) > 20 else ""))
    return total


def _store_batch(db: Database, account_id: int, records: list[OrderRecord], source: str,
                 run_id: int | None) -> CollectCounts:
    with db.session() as s:
        counts = store_orders(s, account_id, records, source)
        if run_id is not None:
            _count_in_run(s, run_id, counts)
    return counts


def _count_in_run(s: Session, run_id: int, counts: CollectCounts) -> None:
    R = m.CollectionRun
    grown = {k: getattr(R, k) + v for k, v in counts.as_dict().items() if v}
    if grown:  # nothing counted (a follow-up that changed no line): no statement
        s.execute(update(R).where(R.id == run_id).values(grown))


def store_line_statuses(s: Session, account_id: int, lines: Mapping[str, LineRecord], source: str) -> CollectCounts:
    """A marketplace's word on lines it shows no order for (a fully cancelled Coupang box): their status, claim
    and marketplace status only, with history, by the rules of ``store_orders`` (a cancel always applies, other
    statuses never undo a pack). Lines never collected here are left alone (nothing to store of them), and so
    are lines that went out: a cancel after dispatch is a return, not a parcel to pull."""
    counts = CollectCounts()
    if not lines:
        return counts
    now = utcnow()
    changed: list[tuple[int, LineRecord]] = []
    for pid, (line_id, status, _) in _lines(s, account_id, list(lines)).items():
        lr = lines[pid]
        if status in _GONE_OUT or lr.status is status:
            continue
        if status is LineStatus.PACKED and lr.status not in _CANCELS:
            continue
        changed.append((line_id, lr))
        counts.cancelled += lr.status is LineStatus.CANCELLED
        counts.cancel_requested += lr.status is LineStatus.CANCEL_REQUESTED
    for line_id, lr in changed:
        s.execute(update(m.OrderLine).where(m.OrderLine.id == line_id).values(
            status=lr.status, channel_status=clean_text(lr.channel_status)[:40],
            claim_status=clean_text(lr.claim_status)[:40], updated_at=now))
    if changed:
        s.execute(insert(m.LineStatusChange), [
            {"line_id": line_id, "status": lr.status, "channel_status": clean_text(lr.channel_status)[:40],
             "claim_status": clean_text(lr.claim_status)[:40], "source": source[:80], "changed_at": now}
            for line_id, lr in changed])
    return counts


def _follow_up(db: Database, account_id: int, channel: Channel, records: Sequence[OrderRecord], since: datetime,
               until: datetime) -> Mapping[str, LineRecord]:
    """Ask a channel whose lists leave out fully cancelled orders (``follow_up``) about the cancels it can list
    and about the account's open lines paid in the window that its lists did not show."""
    if not isinstance(channel, FollowsUp):
        return {}
    listed = {ln.product_order_id for rec in records for ln in rec.lines}
    L, Ord = m.OrderLine, m.Order
    with db.session() as s:
        unlisted = [pid for pid in s.scalars(
            select(L.product_order_id).join(Ord, Ord.id == L.order_id)
            .where(L.account_id == account_id, L.status.in_(_OPEN), Ord.paid_at >= since, Ord.paid_at < until)
            .order_by(L.id)) if pid not in listed]
    return channel.follow_up(since, until, unlisted)


def _params_json(params: Mapping[str, Any]) -> str:
    """An error's parameters for people as JSON (``Words`` as ``{"ko", "en"}``); anything else is left out."""
    out: dict[str, Any] = {}
    for k, v in params.items():
        if isinstance(v, Words):
            out[k] = {"ko": v.ko, "en": v.en}
        elif v is None or isinstance(v, str | int | float | bool):
            out[k] = v
    return json.dumps(out, ensure_ascii=False)


def failure_of(run: m.CollectionRun) -> KnownError:
    """A failed run's error as it was raised: its code with its words for people (the marketplace's message, a
    hint such as the PC clock), so a window can say why, not just that it failed."""
    try:
        raw = json.loads(run.error_params or "{}")
    except ValueError:
        raw = {}
    params = {k: Words(v["ko"], v["en"]) if isinstance(v, dict) and set(v) == {"ko", "en"} else v
              for k, v in (raw.items() if isinstance(raw, dict) else ())}
    return KnownError(run.error_code or "error", detail=run.error_detail, **params)


def run_error_words(run: m.CollectionRun, account: str) -> Words:
    """A run's error in words (never its bare code), with what the words need: the orders set aside, the
    account, and what the error itself said (the marketplace's message, a hint such as a wrong PC clock);
    ("", "") when it ended without one. The collection window and the runs export say the same."""
    if not run.error_code:
        return Words("", "")
    backend = backend_name() if run.error_code == "secret_store_unavailable" else ""
    return words(run.error_code, {"count": run.set_aside, "account": account, "backend": backend,
                                  **failure_of(run).params})


@dataclass(frozen=True)
class AccountRow:
    """An account as the collection window lists it: a plain record read off the UI thread."""

    id: int
    name: str
    kind: str
    external_id: str
    active: bool
    paused: bool
    auto_confirm: bool


@dataclass(frozen=True)
class RunRow:
    """A collection run as the collection window lists it, its error already in words (``run_error_words``)."""

    started_at: datetime
    account: str  # the account's name ("?" when it is gone)
    trigger: str
    started_by: str
    window_from: datetime | None
    window_to: datetime | None
    status: RunStatus
    orders: int
    lines: int
    registered: int
    cancel_requested: int
    cancelled: int
    tracking_registered: int
    tracking_sent: int
    set_aside: int
    error_code: str
    error_detail: str
    error: Words
    id: int = 0  # the run's id: the window keeps a chosen run chosen across its re-reads
    returns: int = 0  # expected returns stored or updated (services/returns_expected.py)


@dataclass(frozen=True)
class Overview:
    """What the collection window shows: every account (by id) and the latest runs (newest first)."""

    accounts: list[AccountRow]
    runs: list[RunRow]


def overview(s: Session, limit: int = 200) -> Overview:
    """The accounts and the latest ``limit`` runs, read in one session (the window re-reads it every 2 s)."""
    accounts = [AccountRow(a.id, a.name, a.kind, a.external_id, a.active, a.paused, a.auto_confirm)
                for a in s.scalars(select(m.ChannelAccount).order_by(m.ChannelAccount.id))]
    names = {a.id: a.name for a in accounts}
    runs = []
    for r in s.scalars(select(m.CollectionRun).order_by(m.CollectionRun.id.desc()).limit(limit)):
        name = names.get(r.account_id, "?")
        runs.append(RunRow(r.started_at, name, r.trigger, r.started_by, r.window_from, r.window_to, r.status,
                           r.orders, r.lines, r.registered, r.cancel_requested, r.cancelled, r.tracking_registered,
                           r.tracking_sent, r.set_aside, r.error_code or "", r.error_detail or "",
                           run_error_words(r, name), r.id, r.returns or 0))
    return Overview(accounts, runs)


def _order_ids(s: Session, account_id: int, order_nos: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for part in _in_chunks(order_nos):
        found.update(s.execute(select(m.Order.order_no, m.Order.id)
                               .where(m.Order.account_id == account_id, m.Order.order_no.in_(part))).all())
    return found


def _lines(s: Session, account_id: int, pids: list[str]) -> dict[str, tuple[int, LineStatus, int | None]]:
    found: dict[str, tuple[int, LineStatus, int | None]] = {}
    for part in _in_chunks(pids):
        for pid, lid, status, wid in s.execute(
                select(m.OrderLine.product_order_id, m.OrderLine.id, m.OrderLine.status, m.OrderLine.waybill_id)
                .where(m.OrderLine.account_id == account_id, m.OrderLine.product_order_id.in_(part))):
            found[pid] = (lid, status, wid)
    return found


def _waybill_ids(s: Session, couriers: dict[str, str], now: datetime) -> dict[str, int]:
    """Ids of these tracking numbers' waybills, made for the ones not known yet (courier as given)."""
    if not couriers:
        return {}
    numbers = list(couriers)

    def known() -> dict[str, int]:
        found: dict[str, int] = {}
        for part in _in_chunks(numbers):
            found.update(s.execute(select(m.Waybill.tracking_number, m.Waybill.id)
                                   .where(m.Waybill.tracking_number.in_(part))).all())
        return found

    found = known()
    missing = [{"courier_code": couriers[n], "tracking_number": n, "created_at": now}
               for n in numbers if n not in found]
    if missing:
        s.execute(insert(m.Waybill), missing)
        found = known()
    return found


def _split_by_keys(rows: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Bulk UPDATE by primary key needs the same keys in every row of one execute."""
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(tuple(sorted(row)), []).append(row)
    return list(groups.values())


# ------------------------------------------------------------------ runs: each one ends

# A run holds the lease ``run:<id>`` (held by this process, ``leases.PROCESS``) from the moment it is made, and
# renews it every LEASE_RENEW while it goes on; ``close_abandoned_runs`` ends the runs whose lease lapsed or
# whose process is gone. The lease and the run are made in one transaction: a run is never seen without it.
COLLECT_LEASE = timedelta(seconds=60)
LEASE_RENEW = 20.0  # seconds
_live_runs: set[int] = set()  # runs this process is doing now
_live_lock = threading.Lock()


def run_lease(run_id: int) -> str:
    return f"run:{run_id}"


def begin_run(db: Database, now: datetime | None = None, **values: Any) -> int:
    """A RUNNING run (``values``: its columns) held by this process; ``end_run`` ends it."""
    now = now or utcnow()
    with db.session() as s:
        run = m.CollectionRun(started_at=now, **values)
        s.add(run)
        s.flush()
        run_id = run.id
        leases.acquire(s, run_lease(run_id), leases.PROCESS, now, COLLECT_LEASE)
        with _live_lock:  # before the commit: a sweep in this process never sees it without the mark
            _live_runs.add(run_id)
    return run_id


def end_run(db: Database, run_id: int, status: RunStatus, code: str = "", detail: str = "",
            counts: CollectCounts | None = None, params: Mapping[str, Any] | None = None) -> m.CollectionRun:
    """Say how the run ended (with its final counts, and the error's words for people) and give its lease
    back."""
    try:
        with db.session() as s:
            run = s.get_one(m.CollectionRun, run_id)
            for k, v in (counts.as_dict() if counts is not None else {}).items():
                setattr(run, k, v)
            run.status, run.finished_at = status, utcnow()
            run.error_code, run.error_detail = code[:40], detail
            run.error_params = _params_json(params or {})
            s.execute(delete(m.Lease).where(m.Lease.name == run_lease(run_id)))
        return run
    finally:
        with _live_lock:
            _live_runs.discard(run_id)


@contextlib.contextmanager
def _renewing(db: Database, names: Sequence[str], holder: str, clock: Callable[[], datetime]) -> Iterator[None]:
    """Keep these leases while the body runs (a big collection takes minutes)."""
    stop = threading.Event()

    def renew() -> None:
        while not stop.wait(LEASE_RENEW):
            try:
                with db.session() as s:
                    for name in names:
                        leases.acquire(s, name, holder, clock(), COLLECT_LEASE)
            except Exception as e:  # the server away: the run itself will say so
                log.warning("could not renew the leases %s: %s", ", ".join(names), describe_error(e))

    t = threading.Thread(target=renew, name=f"packdesk-lease-{names[0]}", daemon=True)
    t.start()
    try:
        yield
    finally:
        stop.set()
        t.join(5)


@contextlib.contextmanager
def run_kept(db: Database, run_id: int, clock: Callable[[], datetime] = utcnow) -> Iterator[None]:
    """While the body runs, the run's lease is renewed; if the body is interrupted by anything it does not
    handle itself (a KeyboardInterrupt, a bug in the caller), the run ends ``failed`` instead of running on."""
    try:
        with _renewing(db, [run_lease(run_id)], leases.PROCESS, clock):
            yield
    except BaseException as e:
        with contextlib.suppress(Exception):
            if run_id in _live_runs:
                end_run(db, run_id, RunStatus.FAILED, "collect_failed", describe_error(e))
        raise


def close_abandoned_runs(db: Database, now: datetime | None = None, by: str = "") -> int:
    """End as ``abandoned`` every run found RUNNING with no process behind it: its lease is gone or lapsed, or
    its process no longer runs on this PC. Its counts stay what it had stored. Returns how many."""
    now = now or utcnow()
    R, L = m.CollectionRun, m.Lease
    with db.session() as s:
        running = list(s.scalars(select(R.id).where(R.status == RunStatus.RUNNING)))
        if not running:
            return 0
        held = {name: (holder, expires) for name, holder, expires in s.execute(
            select(L.name, L.holder, L.expires_at).where(L.name.in_([run_lease(i) for i in running])))}
        with _live_lock:
            live = set(_live_runs)
        gone: list[tuple[int, str]] = []
        for run_id in running:
            holder, expires = held.get(run_lease(run_id), ("", None))
            if expires is None:
                why = "no process holds it"
            elif expires < now:
                why = f"{holder} stopped renewing it at {expires:%Y-%m-%d %H:%M:%S} UTC"
            elif leases.process_gone(holder) or (holder == leases.PROCESS and run_id not in live):
                why = f"{holder} is gone"
            else:
                continue
            gone.append((run_id, why))
        for run_id, why in gone:
            s.execute(update(R).where(R.id == run_id, R.status == RunStatus.RUNNING)
                      .values(status=RunStatus.ABANDONED, finished_at=now, error_code="run_abandoned",
                              error_detail=f"found running with no process behind it ({why}) by "
                                           f"{by or leases.PROCESS}; its counts are what it had stored"))
            s.execute(delete(L).where(L.name == run_lease(run_id)))
    if gone:
        log.warning("collection run(s) %s had no process behind them: marked abandoned",
                    ", ".join(str(r) for r, _ in gone))
    return len(gone)


def run_collection(db: Database, account_id: int, channel: Channel, since: datetime, until: datetime,
                   trigger: str, started_by: str = "", clock: Callable[[], datetime] = utcnow) -> m.CollectionRun:
    """One counted run. A channel error fails the run with its code, anything unexpected (a bug, the database
    gone) with ``collect_failed``; what it had stored by then stays stored and counted. Orders the database
    would refuse are set aside (``orders_set_aside``, the run still succeeds): one order never blocks the rest."""
    run_id = begin_run(db, clock(), account_id=account_id, trigger=trigger, started_by=started_by,
                       window_from=since, window_to=until)
    with run_kept(db, run_id, clock):
        try:
            records = channel.collect(since, until)
            followed = _follow_up(db, account_id, channel, records, since, until)
            counts = store_orders_in_chunks(db, account_id, records, source=f"collect:{run_id}", run_id=run_id)
            if followed:
                with db.session() as s:
                    status_counts = store_line_statuses(s, account_id, followed, source=f"collect:{run_id}")
                    _count_in_run(s, run_id, status_counts)
                counts.add(status_counts)
            returns_error = _collect_returns(db, account_id, channel, since, until, run_id, counts)
        except ChannelError as e:
            log.warning("collection run %s failed: %s (%s)", run_id, e.code, e.detail)
            return end_run(db, run_id, RunStatus.FAILED, e.code, e.detail, params=e.params)
        except Exception as e:
            log.error("collection run %s failed: %s", run_id, describe_error(e), exc_info=True)
            return end_run(db, run_id, RunStatus.FAILED, "collect_failed", describe_error(e))
        if counts.aside:
            return end_run(db, run_id, RunStatus.SUCCEEDED, "orders_set_aside", counts.aside_text(), counts)
        if returns_error is not None:
            return end_run(db, run_id, RunStatus.SUCCEEDED, "returns_not_collected",
                           f"{returns_error.code}: {returns_error.detail}", counts,
                           params={"message": words(returns_error.code, returns_error.params)})
        return end_run(db, run_id, RunStatus.SUCCEEDED, counts=counts)


def _collect_returns(db: Database, account_id: int, channel: Channel, since: datetime, until: datetime, run_id: int,
                     counts: CollectCounts) -> ChannelError | None:
    """The run's expected returns, after its orders (so their lines link): counted in the run as they are
    stored. A marketplace error here does not undo the orders stored: the run succeeds and says so (the next
    run reads the returns again)."""
    try:
        returned = collect_expected_returns(db, account_id, channel, since, until)
    except ChannelError as e:
        log.warning("collection run %s: returns not read: %s (%s)", run_id, e.code, e.detail)
        return e
    if returned:
        with db.session() as s:
            _count_in_run(s, run_id, CollectCounts(returns=returned))
        counts.add(CollectCounts(returns=returned))
    return None


# ------------------------------------------------------------------ collection runs for accounts

MAX_MANUAL_WINDOW = timedelta(days=5)
FIRST_RUN_LOOKBACK = timedelta(days=1)
# Scheduled runs start this far before the last run's end: a change a marketplace makes visible a little
# late, stamped before that end, is still collected. Storing is idempotent, so the overlap costs nothing.
SCHEDULE_OVERLAP = timedelta(minutes=10)
# With several stations, each account's scheduled run is done by one of them: the one holding the account's
# lease ``collect:<id>``, renewed every LEASE_RENEW while it runs. A station that dies lets it lapse within
# COLLECT_LEASE, and another station's follow-up (every minute) runs that time's collection instead.
FOLLOW_UP_FOR = timedelta(hours=2)  # a scheduled time is caught up by the follow-up for this long after it


class CollectRangeError(KnownError):
    code = "collect_range_invalid"


class AccountNotReady(KnownError):
    code = "account_not_ready"


ChannelFactory = Callable[[m.ChannelAccount], Channel]


def make_channel(account: m.ChannelAccount) -> Channel:
    """The channel adapter for an account, built by its market (``channels/registry.py``); its secret comes
    from the OS keyring, never the database."""
    market = registry.market(account.kind)
    if market is None:
        raise AccountNotReady(detail=f"account {account.id}: {account.kind} has no collector yet",
                              account=account.name)
    secret = ""
    if market.needs_secret:
        secret = get_secret(account.id) or ""
        if not secret:
            raise AccountNotReady(detail=f"account {account.id}: no secret in the keyring", account=account.name)
    options = json.loads(account.options or "{}")
    return registry.build(market, AccountSettings(account.id, account.name, account.external_id, options, secret))


def last_slot(times: Sequence[str], now: datetime, weekdays_only: bool = False) -> datetime | None:
    """The latest scheduled time ("HH:MM", Korea time) at or before ``now`` within the last 7 days; on
    weekends none when ``weekdays_only``."""
    local = kst(now)
    best: datetime | None = None
    for back in range(8):
        day = (local - timedelta(days=back)).date()
        if weekdays_only and day.weekday() >= 5:
            continue
        for at in times:
            hour, minute = (int(x) for x in at.split(":"))
            t = datetime(day.year, day.month, day.day, hour, minute, tzinfo=KST)
            if t <= local and (best is None or t > best):
                best = t
        if best is not None:
            return best.astimezone(UTC)
    return None


class Collector:
    """Runs collections for accounts: manual (a chosen window of at most 5 days) or scheduled (from where
    the last successful run stopped). Each run is counted and stored; 발주확인 follows when the account
    says so. Runs on whatever thread calls it (APScheduler's pool, or a UI op) — never the UI thread."""

    def __init__(self, db: Database, channel_factory: ChannelFactory = make_channel,
                 clock: Callable[[], datetime] = utcnow, station: str = "") -> None:
        self.db = db
        self.station = station  # with several stations on one server, one of them collects (a lease)
        self.channel_factory = channel_factory
        self.clock = clock
        self._lock = threading.Lock()  # one run at a time per station: runs never overlap
        self._meta = threading.Lock()
        self._running: set[int] = set()  # accounts whose scheduled run this process is doing

    def accounts(self) -> list[m.ChannelAccount]:
        """Accounts there is something to collect from: active, with a marketplace behind them (a sales
        platform of Excel sheets, or typed-in orders, has none)."""
        with self.db.session() as s:
            return list(s.scalars(select(m.ChannelAccount)
                                  .where(m.ChannelAccount.active, m.ChannelAccount.paused.is_(False),
                                         m.ChannelAccount.kind.not_in(NO_MARKETPLACE))
                                  .order_by(m.ChannelAccount.id)))

    def close_abandoned(self) -> int:
        """End the runs a crash or a switched-off PC left running (``close_abandoned_runs``): at start, and
        before every scheduled and follow-up collection."""
        return close_abandoned_runs(self.db, self.clock(), by=self.station)

    def run_manual(self, account_id: int, since: datetime, until: datetime, started_by: str) -> m.CollectionRun:
        if until <= since:
            raise CollectRangeError("collect_range_invalid", detail=f"{since} >= {until}")
        if until - since > MAX_MANUAL_WINDOW:
            raise CollectRangeError("collect_range_too_long", detail=f"{until - since}", days=5)
        with self.db.session() as s:
            account = s.get_one(m.ChannelAccount, account_id)
            if account.paused:
                raise AccountNotReady("account_paused", detail=f"account {account_id} is paused", account=account.name)
        return self._run(account_id, since, until, "manual", started_by)

    def confirm_now(self, account_id: int) -> int:
        """Manual 발주확인 of the account's new lines (accounts not set to confirm automatically)."""
        with self._lock:
            with self.db.session() as s:
                account = s.get_one(m.ChannelAccount, account_id)
            channel = self.channel_factory(account)
            try:
                if not isinstance(channel, Confirms):
                    return 0
                return confirm_new_lines(self.db, account_id, channel, source="confirm:manual")
            finally:
                close_channel(channel)

    def run_scheduled(self, started_by: str = "schedule", slot: datetime | None = None) -> list[m.CollectionRun]:
        """The collection of scheduled time ``slot`` (now when the scheduler fires it) for every account that
        has not had it: each account by one station, the holder of its lease (``_take``). Runs found running
        with no process behind them are ended first (``close_abandoned_runs``)."""
        now = self.clock()
        slot = slot or now
        self.close_abandoned()
        runs = []
        for acc in self.accounts():
            with self._turn(acc.id, slot, now) as mine:
                if mine:
                    last = acc.last_collected_until
                    since = last - SCHEDULE_OVERLAP if last else now - FIRST_RUN_LOOKBACK
                    runs.append(self._run(acc.id, max(since, now - MAX_MANUAL_WINDOW), now, "schedule", started_by))
        return runs

    def run_time(self, at: str, started_by: str = "schedule", weekdays_only: bool = False) -> list[m.CollectionRun]:
        """The scheduler's call at "HH:MM": the slot is that time itself, the same on every station whatever
        their clocks' few seconds of difference (or a run fired late after the PC woke up)."""
        slot = last_slot([at], self.clock(), weekdays_only)
        return self.run_scheduled(started_by, slot=slot) if slot is not None else []

    def follow_up(self, times: Sequence[str], weekdays_only: bool = False) -> list[m.CollectionRun]:
        """Every minute on every station: the last scheduled time (of ``times``, "HH:MM" Korea time) that some
        account has not had — because the station that took it went away mid-run, or no station was on at
        that moment — is collected now. A time that was run, even one that failed, is not run again (the next
        scheduled time retries); one more than FOLLOW_UP_FOR ago is left to the next."""
        now = self.clock()
        slot = last_slot(times, now, weekdays_only)
        if slot is None or now - slot > FOLLOW_UP_FOR:
            return []
        return self.run_scheduled(started_by=f"{self.station or 'schedule'} (follow-up)", slot=slot)

    def _take(self, account_id: int, slot: datetime, now: datetime) -> bool:
        """True when this station is to collect ``account_id`` for ``slot``: no scheduled run has finished
        (well or not) up to that time, and the account's lease is free or ours. A run that was abandoned did
        not finish: that time is collected again."""
        R = m.CollectionRun
        with self.db.session() as s:
            done = s.scalar(select(R.id).where(R.account_id == account_id, R.trigger == "schedule",
                                               R.status.in_([RunStatus.SUCCEEDED, RunStatus.FAILED]),
                                               R.window_to >= slot).limit(1))
            if done is not None:
                return False
            if self.station and not leases.acquire(s, f"collect:{account_id}", self.station, now, COLLECT_LEASE):
                log.info("scheduled collection of account %s left to %s", account_id,
                         leases.holder(s, f"collect:{account_id}", now))
                return False
        return True

    @contextlib.contextmanager
    def _turn(self, account_id: int, slot: datetime, now: datetime) -> Iterator[bool]:
        """Whether this station collects ``account_id`` for ``slot`` now: not already doing it (the scheduled
        job and the follow-up may fire together here), and taken (``_take``). While the body runs the lease
        is kept; after it, given back."""
        with self._meta:
            busy = account_id in self._running
            self._running.add(account_id)
        if busy:
            yield False
            return
        try:
            if not self._take(account_id, slot, now):
                yield False
                return
            try:
                with self._renewing(account_id):
                    yield True
            finally:
                if self.station:
                    with self.db.session() as s:
                        leases.release(s, f"collect:{account_id}", self.station)
        finally:
            with self._meta:
                self._running.discard(account_id)

    def _renewing(self, account_id: int) -> contextlib.AbstractContextManager[None]:
        """Keep the account's lease while a run goes on (a big collection takes minutes)."""
        if not self.station:
            return contextlib.nullcontext()
        return _renewing(self.db, [f"collect:{account_id}"], self.station, self.clock)

    def _run(self, account_id: int, since: datetime, until: datetime, trigger: str, started_by: str) -> m.CollectionRun:
        with self._lock:
            with self.db.session() as s:
                account = s.get_one(m.ChannelAccount, account_id)
            try:
                channel = self.channel_factory(account)
            except KnownError as e:
                return _failed_run(self.db, account_id, since, until, trigger, started_by, e.code, e.detail,
                                   e.params)
            except Exception as e:
                log.error("collection for account %s not started: %s", account_id, describe_error(e), exc_info=True)
                return _failed_run(self.db, account_id, since, until, trigger, started_by, "collect_failed",
                                   describe_error(e))
            try:
                run = run_collection(self.db, account_id, channel, since, until, trigger, started_by=started_by,
                                     clock=self.clock)
                if run.status is RunStatus.SUCCEEDED:
                    with self.db.session() as s:
                        acc = s.get_one(m.ChannelAccount, account_id)
                        if acc.last_collected_until is None or acc.last_collected_until < until:
                            acc.last_collected_until = until
                    if account.auto_confirm and isinstance(channel, Confirms):
                        confirm_new_lines(self.db, account_id, channel, source=f"confirm:{run.id}")
                return run
            finally:
                close_channel(channel)


def _failed_run(db: Database, account_id: int, since: datetime, until: datetime, trigger: str, started_by: str,
                code: str, detail: str, params: Mapping[str, Any] | None = None) -> m.CollectionRun:
    log.warning("collection for account %s not started: %s (%s)", account_id, code, detail)
    with db.session() as s:
        run = m.CollectionRun(account_id=account_id, trigger=trigger, started_by=started_by, window_from=since,
                              window_to=until, status=RunStatus.FAILED, finished_at=utcnow(), error_code=code,
                              error_detail=detail, error_params=_params_json(params or {}))
        s.add(run)
    return run


def confirm_new_lines(db: Database, account_id: int, channel: Confirms, source: str) -> int:
    """발주확인 for the account's NEW lines; only what the marketplace accepted becomes CONFIRMED."""
    with db.session() as s:
        pending = {r.product_order_id: r.id for r in s.execute(
            select(m.OrderLine.product_order_id, m.OrderLine.id)
            .where(m.OrderLine.account_id == account_id, m.OrderLine.status == LineStatus.NEW))}
    if not pending:
        return 0
    try:
        result = channel.confirm(list(pending))
    except ChannelError as e:
        log.warning("발주확인 failed for account %s: %s (%s)", account_id, e.code, e.detail)
        return 0
    done = [pid for pid in result.succeeded if pid in pending]
    now = utcnow()
    refreshed = list(result.refreshed)
    if refreshed:  # the marketplace's view after the confirm (a changed address) is stored first
        store_orders_in_chunks(db, account_id, refreshed, source=source)
    with db.session() as s:
        for pid in done:
            line = s.get_one(m.OrderLine, pending[pid])
            if line.status is LineStatus.NEW:
                line.status = LineStatus.CONFIRMED
                s.add(m.LineStatusChange(line_id=line.id, status=LineStatus.CONFIRMED,
                                         channel_status=line.channel_status, claim_status=line.claim_status,
                                         source=source, changed_at=now))
    for failure in result.failed:
        log.warning("발주확인 refused for %s: %s", failure.product_order_id, failure.message)
    return len(done)
