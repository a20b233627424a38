"""Collection: ask a channel for orders in a window and store them, counted, as one collection run.

Storing is an upsert keyed by (account, marketplace product-order id): collecting twice never
duplicates, and a later status (a cancel) updates the line and is kept in its history. A status that
would move a line backwards from what we did here (packed -> new) is not applied; a cancel always is,
because that parcel must be pulled.

Some marketplaces leave a fully cancelled order out of their lists (Coupang). A channel with ``follow_up``
is asked, after its lists, about the open lines of the window they did not show and about the cancels it
can list; what it says updates those lines' status only (there is no order data to store), with history.

A failed run keeps its error's code and its words for people (``error_params``: the marketplace's message, a
hint such as a wrong PC clock), so the collection window can say why (``run_error``).
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from packdesk.channels.base import Channel, ChannelError, LineRecord, OrderRecord
from packdesk.core import leases, parcels
from packdesk.core import models as m
from packdesk.core.catalog import register_sales_products
from packdesk.core.db import Database
from packdesk.core.enums import NO_MARKETPLACE, ChannelKind, LineStatus, RunStatus
from packdesk.core.errors import KnownError, Words
from packdesk.core.kst import KST, kst
from packdesk.core.models import utcnow
from packdesk.services.secrets import get_secret

log = logging.getLogger("packdesk.collect")

_OURS = (LineStatus.PACKED, LineStatus.DISPATCHED, LineStatus.SHIPPED)
_CANCELS = (LineStatus.CANCELLED, LineStatus.CANCEL_REQUESTED)
_GONE_OUT = (LineStatus.DISPATCHED, LineStatus.SHIPPED)  # a later cancel there is a return: nothing to pull here
_OPEN = (LineStatus.NEW, LineStatus.CONFIRMED, LineStatus.PACKED, LineStatus.CANCEL_REQUESTED)


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

    def add(self, other: CollectCounts) -> None:
        for k, v in other.as_dict().items():
            setattr(self, k, getattr(self, k) + v)


STORE_CHUNK = 300  # orders per transaction: a big collection never holds SQLite's write lock for long


def _in_chunks(values: list[Any], size: int = 500) -> Iterator[list[Any]]:
    for i in range(0, len(values), size):
        yield values[i:i + size]


def store_orders(s: Session, account_id: int, records: list[OrderRecord], source: str) -> CollectCounts:
    """Upsert ``records`` in this session, set by set (a few statements per table, not per row)."""
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
        values = {f: getattr(lr, f) for f in line_fields}
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
                           chunk: int = STORE_CHUNK) -> CollectCounts:
    """``store_orders`` a few hundred orders per transaction: the station keeps writing its scans meanwhile
    (SQLite has one writer at a time). Storing is idempotent, so a crash half way is mended by the next run."""
    total = CollectCounts()
    for i in range(0, len(records), chunk):
        with db.session() as s:
            total.add(store_orders(s, account_id, records[i:i + chunk], source))
    return total


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
            status=lr.status, channel_status=lr.channel_status, claim_status=lr.claim_status, updated_at=now))
    if changed:
        s.execute(insert(m.LineStatusChange), [
            {"line_id": line_id, "status": lr.status, "channel_status": lr.channel_status,
             "claim_status": lr.claim_status, "source": source[:80], "changed_at": now} for line_id, lr in changed])
    return counts


def _follow_up(db: Database, account_id: int, channel: Channel, records: Sequence[OrderRecord], since: datetime,
               until: datetime) -> Mapping[str, LineRecord]:
    """Ask a channel whose lists leave out fully cancelled orders (``follow_up``) about the cancels it can list
    and about the account's open lines paid in the window that its lists did not show."""
    follow = getattr(channel, "follow_up", None)
    if not callable(follow):
        return {}
    listed = {ln.product_order_id for rec in records for ln in rec.lines}
    L, Ord = m.OrderLine, m.Order
    with db.session() as s:
        unlisted = [pid for pid in s.scalars(
            select(L.product_order_id).join(Ord, Ord.id == L.order_id)
            .where(L.account_id == account_id, L.status.in_(_OPEN), Ord.paid_at >= since, Ord.paid_at < until)
            .order_by(L.id)) if pid not in listed]
    return follow(since, until, unlisted)  # type: ignore[no-any-return]


def _params_json(params: Mapping[str, Any]) -> str:
    """An error's parameters for people as JSON (``Words`` as ``{"ko", "en"}``); anything else is left out."""
    out: dict[str, Any] = {}
    for k, v in params.items():
        if isinstance(v, Words):
            out[k] = {"ko": v.ko, "en": v.en}
        elif v is None or isinstance(v, str | int | float | bool):
            out[k] = v
    return json.dumps(out, ensure_ascii=False)


def run_error(run: m.CollectionRun) -> KnownError:
    """A failed run's error as it was raised: its code with its words for people (the marketplace's message, a
    hint such as the PC clock), so a window can say why, not just that it failed."""
    try:
        raw = json.loads(run.error_params or "{}")
    except ValueError:
        raw = {}
    params = {k: Words(v["ko"], v["en"]) if isinstance(v, dict) and set(v) == {"ko", "en"} else v
              for k, v in (raw.items() if isinstance(raw, dict) else ())}
    return KnownError(run.error_code or "error", detail=run.error_detail, **params)


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


def run_collection(db: Database, account_id: int, channel: Channel, since: datetime, until: datetime,
                   trigger: str, started_by: str = "") -> m.CollectionRun:
    """One counted run. A channel error fails the run (with its code) and stores nothing of it."""
    with db.session() as s:
        run = m.CollectionRun(account_id=account_id, trigger=trigger, started_by=started_by, window_from=since,
                              window_to=until)
        s.add(run)
        s.flush()
        run_id = run.id
    try:
        records = channel.collect(since, until)
        followed = _follow_up(db, account_id, channel, records, since, until)
        counts = store_orders_in_chunks(db, account_id, records, source=f"collect:{run_id}")
        if followed:
            with db.session() as s:
                counts.add(store_line_statuses(s, account_id, followed, source=f"collect:{run_id}"))
        with db.session() as s:
            run = s.get_one(m.CollectionRun, run_id)
            for k, v in counts.as_dict().items():
                setattr(run, k, v)
            run.status, run.finished_at = RunStatus.SUCCEEDED, utcnow()
    except ChannelError as e:
        log.warning("collection run %s failed: %s (%s)", run_id, e.code, e.detail)
        with db.session() as s:
            run = s.get_one(m.CollectionRun, run_id)
            run.status, run.finished_at = RunStatus.FAILED, utcnow()
            run.error_code, run.error_detail, run.error_params = e.code, e.detail, _params_json(e.params)
    with db.session() as s:
        return s.get_one(m.CollectionRun, run_id)


# ------------------------------------------------------------------ collection runs for accounts

MAX_MANUAL_WINDOW = timedelta(days=5)
FIRST_RUN_LOOKBACK = timedelta(days=1)
# Scheduled runs start this far before the last run's end: a change a marketplace makes visible a little
# late, stamped before that end, is still collected. Storing is idempotent, so the overlap costs nothing.
SCHEDULE_OVERLAP = timedelta(minutes=10)
# With several stations, each account's scheduled run is done by one of them: the one holding the account's
# lease ``collect:<id>``, renewed every LEASE_RENEW while it runs. A station that dies lets it lapse within
# COLLECT_LEASE, and another station's follow-up (every minute) runs that time's collection instead.
COLLECT_LEASE = timedelta(seconds=60)
LEASE_RENEW = 20.0  # seconds
FOLLOW_UP_FOR = timedelta(hours=2)  # a scheduled time is caught up by the follow-up for this long after it


class CollectRangeError(KnownError):
    code = "collect_range_invalid"


class AccountNotReady(KnownError):
    code = "account_not_ready"


ChannelFactory = Callable[[m.ChannelAccount], Channel]


def make_channel(account: m.ChannelAccount) -> Channel:
    """The channel adapter for an account; its secret comes from the OS keyring, never the database."""
    from packdesk.channels.demo import DemoChannel

    if account.kind is ChannelKind.DEMO:
        return DemoChannel(utcnow())
    if account.kind is ChannelKind.NAVER:
        from packdesk.channels.naver import NaverChannel

        secret = get_secret(account.id)
        if not secret:
            raise AccountNotReady(detail=f"account {account.id}: no secret in the keyring", account=account.name)
        options = json.loads(account.options or "{}")
        return NaverChannel(account.external_id, secret,
                            **{k: v for k, v in options.items() if k in ("base_url", "code_rule")})
    if account.kind is ChannelKind.SABANGNET:
        from packdesk.channels.sabangnet import SabangnetChannel
        from packdesk.services.relays import publisher_for

        secret = get_secret(account.id)
        if not secret:
            raise AccountNotReady(detail=f"account {account.id}: no secret in the keyring", account=account.name)
        options = json.loads(account.options or "{}")
        return SabangnetChannel(account.external_id, secret, api_url=str(options.get("api_url", "")),
                                publisher=publisher_for(options), courier_overrides=options.get("courier_codes"))
    if account.kind is ChannelKind.COUPANG:
        from packdesk.channels.coupang import CoupangChannel

        secret = get_secret(account.id)
        if not secret:
            raise AccountNotReady(detail=f"account {account.id}: no secret in the keyring", account=account.name)
        options = json.loads(account.options or "{}")
        extra = {k: v for k, v in options.items() if k in ("base_url",)}
        return CoupangChannel(account.external_id, str(options.get("access_key", "")), secret,
                              courier_overrides=options.get("courier_codes"), **extra)
    raise AccountNotReady(detail=f"account {account.id}: {account.kind} has no collector yet", account=account.name)


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
                if not hasattr(channel, "confirm"):
                    return 0
                return confirm_new_lines(self.db, account_id, channel, source="confirm:manual")
            finally:
                getattr(channel, "close", lambda: None)()

    def run_scheduled(self, started_by: str = "schedule", slot: datetime | None = None) -> list[m.CollectionRun]:
        """The collection of scheduled time ``slot`` (now when the scheduler fires it) for every account that
        has not had it: each account by one station, the holder of its lease (``_take``)."""
        now = self.clock()
        slot = slot or now
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
        (well or not) up to that time, and the account's lease is free or ours. A run left RUNNING by a
        station whose lease lapsed is marked failed, saying so."""
        R = m.CollectionRun
        with self.db.session() as s:
            done = s.scalar(select(R.id).where(R.account_id == account_id, R.trigger == "schedule",
                                               R.status != RunStatus.RUNNING, R.window_to >= slot).limit(1))
            if done is not None:
                return False
            if self.station:
                if not leases.acquire(s, f"collect:{account_id}", self.station, now, COLLECT_LEASE):
                    log.info("scheduled collection of account %s left to %s", account_id,
                             leases.holder(s, f"collect:{account_id}", now))
                    return False
                # ours now, and this process is not running it: a RUNNING scheduled run was left by a station
                # that went away (or by this one before a crash)
                abandoned = s.execute(update(R).where(R.account_id == account_id, R.status == RunStatus.RUNNING,
                                                      R.trigger == "schedule")
                                      .values(status=RunStatus.FAILED, finished_at=now, error_code="run_abandoned",
                                              error_detail=f"taken over by {self.station}")).rowcount
                if abandoned:
                    log.warning("scheduled collection of account %s taken over by %s (%d run(s) abandoned)",
                                account_id, self.station, abandoned)
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

    @contextlib.contextmanager
    def _renewing(self, account_id: int) -> Iterator[None]:
        """Keep the account's lease while a run goes on (a big collection takes minutes)."""
        if not self.station:
            yield
            return
        stop = threading.Event()

        def renew() -> None:
            while not stop.wait(LEASE_RENEW):
                try:
                    with self.db.session() as s:
                        leases.acquire(s, f"collect:{account_id}", self.station, self.clock(), COLLECT_LEASE)
                except Exception:  # the server away: the run itself will say so
                    log.warning("could not renew the collection lease of account %s", account_id, exc_info=True)

        t = threading.Thread(target=renew, name=f"packdesk-collect-lease-{account_id}", daemon=True)
        t.start()
        try:
            yield
        finally:
            stop.set()
            t.join(5)

    def _run(self, account_id: int, since: datetime, until: datetime, trigger: str, started_by: str) -> m.CollectionRun:
        with self._lock:
            with self.db.session() as s:
                account = s.get_one(m.ChannelAccount, account_id)
            try:
                channel = self.channel_factory(account)
            except KnownError as e:
                return _failed_run(self.db, account_id, since, until, trigger, started_by, e)
            try:
                run = run_collection(self.db, account_id, channel, since, until, trigger, started_by=started_by)
                if run.status is RunStatus.SUCCEEDED:
                    with self.db.session() as s:
                        acc = s.get_one(m.ChannelAccount, account_id)
                        if acc.last_collected_until is None or acc.last_collected_until < until:
                            acc.last_collected_until = until
                    if account.auto_confirm and hasattr(channel, "confirm"):
                        confirm_new_lines(self.db, account_id, channel, source=f"confirm:{run.id}")
                return run
            finally:
                close = getattr(channel, "close", None)
                if close is not None:
                    close()


def _failed_run(db: Database, account_id: int, since: datetime, until: datetime, trigger: str, started_by: str,
                e: KnownError) -> m.CollectionRun:
    log.warning("collection for account %s not started: %s (%s)", account_id, e.code, e.detail)
    with db.session() as s:
        run = m.CollectionRun(account_id=account_id, trigger=trigger, started_by=started_by, window_from=since,
                              window_to=until, status=RunStatus.FAILED, finished_at=utcnow(), error_code=e.code,
                              error_detail=e.detail, error_params=_params_json(e.params))
        s.add(run)
    return run


def confirm_new_lines(db: Database, account_id: int, channel: Any, source: str) -> int:
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
    refreshed = list(getattr(result, "refreshed", ()))
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
        log.warning("발주확인 refused for %s: %s", getattr(failure, "product_order_id", "?"),
                    getattr(failure, "message", ""))
    return len(done)
