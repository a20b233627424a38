"""The dispatch uploader: drains the outbox (``dispatch_outbox``) to the marketplaces, exactly once.

Completing a pack writes one PENDING entry per packed line in the same transaction that marks the line
packed (``core/packing.py``). This module is the only path from there to a marketplace.

States and who moves them::

    PENDING --claim (committed before the HTTP call)--> SENDING --accepted--> SENT (final; line DISPATCHED)
       ^  ^                                               |------refused for good--> REJECTED --+
       |  +----------- transient / unknown, backoff -------+                                    |
       |                                                                                        |
       +-- supervisor: fix courier code and resend <-- REJECTED, HELD                           |
    PENDING/SENDING --line cancelled (here or at the marketplace)--> HELD (pull the parcel)      |
    PENDING/REJECTED/HELD --supervisor: done elsewhere--> HANDLED (final) <---------------------+

Exactly once rests on three rules:

1. An entry is claimed (PENDING -> SENDING, a conditional ``UPDATE ... WHERE state = 'pending'``, so two
   threads or two stations cannot both claim it) and committed *before* the dispatch request. After the
   call every claimed entry is recorded SENT, REJECTED or PENDING, again only ``WHERE state = 'sending'``.
2. Nothing is sent without first reading the marketplace's current status of its product order (one query
   per chunk). What the marketplace already shows with our courier and tracking number is recorded SENT
   without sending; a cancel there holds the entry; another tracking number there is a rejection for a
   person. So a PENDING entry whose earlier try had an unknown outcome (timeout, crash) is reconciled
   before it is resent, and SENT is never sent again (it is never claimed).
3. SENDING found by a process that is not sending it is an unknown outcome: at the first pass of each
   account after start (a crash or kill -9 left it), or older than ``lease`` (another station died
   mid-call), it is reconciled by the same read before anything else of that account is sent.
   Caveat with several stations: a station that restarts also reconciles what another one is sending at
   that moment. The worst case is a second request that Naver refuses (a product order no longer PAYED,
   shown to a supervisor), never a second dispatch; the entry does not record which station claimed it.

A channel that cannot read statuses (the demo shop) must accept repeats; its unknown outcomes are resent.

Threads: ``run_once`` runs on APScheduler's pool or on ``kick``'s thread, never the UI thread; one lock per
account so two uploads of one account never overlap (a request that finds the lock taken makes the running
drain go round once more). Every database write is one short transaction with no network call inside, so
packing never waits on a marketplace. No ORM object leaves this module: callers get plain records.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from packdesk.channels import registry
from packdesk.channels.base import (
    ChannelAuthError,
    ChannelError,
    Dispatches,
    DispatchItem,
    LineRecord,
    LooksUp,
    close_channel,
)
from packdesk.core import leases
from packdesk.core import models as m
from packdesk.core.db import Database, changed_rows
from packdesk.core.enums import LineStatus, OutboxState, RunStatus
from packdesk.core.errors import KnownError
from packdesk.core.models import utcnow
from packdesk.services.collect import make_channel

log = logging.getLogger("packdesk.dispatch")

# how often the scheduler runs a dispatch pass (app.py); the user guide says it (tests/test_docs.py checks)
PASS_EVERY_S = 15

# our codes, shown like the marketplace's (ui/outbox_view.py has their words)
LINE_CANCELLED = "line_cancelled"                   # held: cancelled (here or at the marketplace)
LINE_CANCEL_REQUESTED = "line_cancel_requested"     # held: the buyer asked to cancel
OTHER_TRACKING = "dispatched_other_tracking"        # the marketplace shows another courier/tracking number
DISPATCH_ERROR = "dispatch_error"                   # our bug while sending: logged, retried
NO_RESULT = "channel_no_result"

WAITING = (OutboxState.PENDING, OutboxState.SENDING)
_CANCELS = {LineStatus.CANCELLED: LINE_CANCELLED, LineStatus.CANCEL_REQUESTED: LINE_CANCEL_REQUESTED}


# --- plain records ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class OutboxCounts:
    waiting: int = 0    # PENDING + SENDING
    rejected: int = 0
    held: int = 0


@dataclass
class UploadReport:
    """What one pass did, summed over accounts (tests and the log read it)."""

    sent: int = 0            # accepted now, or found already accepted (reconciled)
    rejected: int = 0
    held: int = 0
    retry: int = 0           # back to PENDING with a backoff
    reconciled: int = 0      # SENDING entries settled by reading the marketplace
    skipped_accounts: int = 0  # offline, busy, or the channel could not be built

    def add(self, other: UploadReport) -> UploadReport:
        for f in ("sent", "rejected", "held", "retry", "reconciled", "skipped_accounts"):
            setattr(self, f, getattr(self, f) + getattr(other, f))
        return self


@dataclass(frozen=True)
class OutboxEntry:
    """An outbox row as the supervisor screen shows it."""

    id: int
    account: str
    order_no: str
    product_order_id: str
    product_name: str
    courier_code: str
    tracking_number: str
    state: OutboxState
    attempts: int
    next_attempt_at: datetime | None
    error_code: str
    error_message: str
    created_at: datetime
    updated_at: datetime
    sent_at: datetime | None


@dataclass(frozen=True)
class _Entry:
    id: int
    line_id: int
    product_order_id: str
    courier_code: str
    tracking_number: str
    attempts: int
    created_at: datetime
    line_status: LineStatus


@dataclass(frozen=True)
class _Outcome:
    """Where one entry goes next. ``line`` is a status the marketplace told us the line now has;
    ``acknowledged``: the marketplace's 발주확인 was done just before the send (Coupang), for the line's history."""

    state: OutboxState
    code: str = ""
    message: str = ""
    line: LineRecord | None = None
    acknowledged: bool = False


StatusReader = Callable[[Sequence[str]], Mapping[str, LineRecord]]


def status_reader(channel: object) -> StatusReader | None:
    """How to read the marketplace's current status of product orders (a channel that ``LooksUp``), or None
    if the channel cannot."""
    return channel.lookup if isinstance(channel, LooksUp) else None


def _needs_network(kind: str) -> bool:
    """Accounts of a market with no server (the demo shop) drain while offline."""
    market = registry.market(kind)
    return market is None or market.network


def backoff_delay(attempts: int, base: float, cap: float, rng: Callable[[], float]) -> timedelta:
    """After the ``attempts``-th failed try: min(cap, base * 2^(attempts-1)), times a jitter in [0.5, 1) so
    stations that failed together do not come back together, and never less than half the step."""
    step = min(cap, base * 2 ** max(0, attempts - 1))
    return timedelta(seconds=step * (0.5 + rng() / 2))


def _classify(entry: _Entry, remote: LineRecord | None) -> _Outcome | None:
    """What the marketplace's current view of the line means for this entry; None: send it.

    The marketplace's word, when we have it, beats our line status: it is fresher (a cancel request can be
    withdrawn) and it is what a dispatch would be judged by. Our tracking number there means it was sent
    (whatever came after, e.g. a cancel request on a parcel already on its way)."""
    if remote is None:
        return _Outcome(OutboxState.HELD, _CANCELS[entry.line_status]) if entry.line_status in _CANCELS else None
    if remote.tracking_number:
        # a marketplace that names the courier in words we cannot map (remote courier "") is judged by the number
        if _same_number(remote.tracking_number, entry.tracking_number) and remote.courier_code in ("",
                                                                                                 entry.courier_code):
            return _Outcome(OutboxState.SENT)
        if remote.status is LineStatus.SHIPPED:
            return _Outcome(OutboxState.REJECTED, OTHER_TRACKING,
                            f"{remote.courier_code} {remote.tracking_number}".strip())
    if remote.status in _CANCELS:
        return _Outcome(OutboxState.HELD, _CANCELS[remote.status], remote.claim_status or remote.channel_status,
                        line=remote)
    return None


# --- the uploader -------------------------------------------------------------------------------------------
class Uploader:
    """Drains the outbox per account. ``channel_factory`` builds a channel with ``dispatch`` (and, for
    reconciliation, a way to read statuses: see ``status_reader``); channels are kept per account so a
    Naver token is reused between passes."""

    def __init__(
        self,
        db: Database,
        channel_factory: Callable[[m.ChannelAccount], Any] = make_channel,
        *,
        clock: Callable[[], datetime] = utcnow,
        rng: Callable[[], float] = random.random,
        is_online: Callable[[], bool] = lambda: True,
        on_counts: Callable[[OutboxCounts], None] | None = None,
        chunk: int = 30,
        base_delay: float = 30.0,
        max_delay: float = 1800.0,
        lease: timedelta = timedelta(minutes=15),
        station: str = "",
        leader_ttl: timedelta = timedelta(seconds=40),
    ) -> None:
        """``station``: with several stations on one database, one of them uploads each account at a time
        (a lease, ``dispatch:<account>``, renewed every chunk; another station takes over once it lapses).
        Exactly once does not rest on it (claims are conditional updates): it keeps the others from racing."""
        self.db = db
        self.channel_factory = channel_factory
        self.clock = clock
        self.rng = rng
        self.is_online = is_online
        self.on_counts = on_counts
        self.chunk = chunk
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.lease = lease
        self.station = station
        self.leader_ttl = leader_ttl
        self._leading: set[int] = set()
        self._meta = threading.Lock()
        self._locks: dict[int, threading.Lock] = {}
        self._again: set[int] = set()
        self._reconciled: set[int] = set()     # accounts whose leftover SENDING entries were settled
        self._left_sending: set[int] = set()   # entries this process left SENDING (recording failed)
        self._channels: dict[int, Dispatches] = {}
        self._built_from: dict[int, str] = {}  # the account options each channel was made with
        self._last_problem: dict[int, str] = {}
        self._closed = False
        self._active = 0
        self._idle = threading.Condition(self._meta)
        self._kick_thread: threading.Thread | None = None
        self._kick_again = False
        self._kick_retry_now = False

    # -- running -----------------------------------------------------------------------------------------
    def run_once(self, *, retry_now: bool = False) -> UploadReport:
        """One pass over every account with work. While offline only network-free accounts drain.
        ``retry_now``: entries waiting out a backoff are due now (the connection just came back)."""
        report = UploadReport()
        if not self._enter():
            return report
        try:
            online = self.is_online()
            if retry_now and online:
                self._pull_forward()
            for account in self._accounts_with_work():
                if self._closed:
                    break
                if not online and _needs_network(account.kind):
                    report.skipped_accounts += 1
                    continue
                if not self._lead(account.id):  # another station uploads this account now
                    report.skipped_accounts += 1
                    continue
                report.add(self.drain_account(account.id, _account=account))
        finally:
            self._leave()
        self.publish_counts()
        return report

    def kick(self, *, retry_now: bool = False) -> None:
        """``run_once`` on a background thread (after a supervisor's resend, when the connection is back,
        at start). Kicks while one runs are folded into one more pass."""
        with self._meta:
            if self._closed:
                return
            self._kick_retry_now |= retry_now
            if self._kick_thread is not None and self._kick_thread.is_alive():
                self._kick_again = True
                return
            self._kick_thread = threading.Thread(target=self._kick_loop, name="packdesk-dispatch", daemon=True)
            self._kick_thread.start()

    def _kick_loop(self) -> None:
        while True:
            with self._meta:
                retry_now, self._kick_retry_now, self._kick_again = self._kick_retry_now, False, False
            try:
                self.run_once(retry_now=retry_now)
            except Exception:
                log.exception("dispatch upload failed")
            with self._meta:
                if not self._kick_again or self._closed:
                    self._kick_thread = None
                    self._idle.notify_all()
                    return

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Until no pass is running and no kick is pending (tests, shutdown)."""
        with self._meta:
            return self._idle.wait_for(lambda: self._active == 0 and self._kick_thread is None, timeout)

    def close(self, timeout: float = 10.0) -> None:
        """No new passes; a running one stops after its current chunk; channels are closed."""
        with self._meta:
            self._closed = True
            self._kick_again = False
        with self._meta:
            self._idle.wait_for(lambda: self._active == 0, timeout)
            thread = self._kick_thread
        if thread is not None:
            thread.join(timeout)
        for channel in self._channels.values():
            close_channel(channel)
        self._channels.clear()
        with self._meta:
            leading, self._leading = set(self._leading), set()
        for account_id in leading:  # a clean shutdown hands the accounts over at once
            try:
                with self.db.session() as s:
                    leases.release(s, f"dispatch:{account_id}", self.station)
            except Exception:
                log.info("could not release the upload lease of account %s", account_id, exc_info=True)

    def _enter(self) -> bool:
        with self._meta:
            if self._closed:
                return False
            self._active += 1
            return True

    def _leave(self) -> None:
        with self._meta:
            self._active -= 1
            self._idle.notify_all()

    # -- one account -------------------------------------------------------------------------------------
    def drain_account(self, account_id: int, *, _account: m.ChannelAccount | None = None) -> UploadReport:
        with self._meta:
            lock = self._locks.setdefault(account_id, threading.Lock())
        if not lock.acquire(blocking=False):
            with self._meta:
                self._again.add(account_id)  # the running drain goes round once more
            return UploadReport(skipped_accounts=1)
        report = UploadReport()
        try:
            while True:
                with self._meta:
                    self._again.discard(account_id)
                report.add(self._drain(account_id, _account))
                with self._meta:
                    if account_id not in self._again or self._closed:
                        break
        finally:
            lock.release()
        return report

    def _drain(self, account_id: int, account: m.ChannelAccount | None) -> UploadReport:
        report = UploadReport()
        channel = self._channel(account_id, account)
        if channel is None:
            report.skipped_accounts += 1
            return report
        reader = status_reader(channel)
        try:
            if not self._reconcile(account_id, reader, report):
                return report  # the marketplace could not be read: send nothing new for now
            while not self._closed:
                entries = self._due(account_id)
                if not entries or not self._lead(account_id):  # renewed every chunk; lost: stop sending
                    break
                if not self._send_chunk(account_id, channel, reader, entries, report):
                    break  # transient trouble: leave the rest for later rather than hammer
        except ChannelAuthError as e:
            self._forget_channel(account_id)
            self._problem(account_id, e)
        return report

    def _lead(self, account_id: int) -> bool:
        """Hold (or take, or renew) this account's upload lease; always True without a station name."""
        if not self.station:
            return True
        with self.db.session() as s:
            held = leases.acquire(s, f"dispatch:{account_id}", self.station, self.clock(), self.leader_ttl)
        with self._meta:
            if held and account_id not in self._leading:
                self._leading.add(account_id)
                self._reconciled.discard(account_id)  # taken over: settle what the last holder left first
                log.info("station %s uploads account %s now", self.station, account_id)
            elif not held:
                self._leading.discard(account_id)
        return held

    def _channel(self, account_id: int, account: m.ChannelAccount | None) -> Dispatches | None:
        """The account's channel, kept between passes (a Naver token is reused) and made again once the
        account's options changed (a supervisor fixed a courier code: the next send uses it)."""
        if account is None:
            with self.db.session() as s:
                account = s.get_one(m.ChannelAccount, account_id)
        if account_id in self._channels:
            if self._built_from.get(account_id) == account.options:
                return self._channels[account_id]
            log.info("account %s: its options changed; its channel is made again", account_id)
            self._forget_channel(account_id)
        try:
            channel = self.channel_factory(account)
        except KnownError as e:
            self._problem(account_id, e)
            return None
        if not isinstance(channel, Dispatches):
            self._problem(account_id, KnownError("account_not_ready", detail=f"{account.kind} cannot dispatch"))
            close_channel(channel)
            return None
        self._channels[account_id] = channel
        self._built_from[account_id] = account.options
        return channel

    def _forget_channel(self, account_id: int) -> None:
        channel = self._channels.pop(account_id, None)
        if channel is not None:
            close_channel(channel)

    def _problem(self, account_id: int, e: KnownError) -> None:
        """An account that cannot upload is logged as a warning once, then quietly until it changes."""
        first = self._last_problem.get(account_id) != e.code
        self._last_problem[account_id] = e.code
        (log.warning if first else log.info)("dispatch for account %s cannot run: %s (%s)", account_id, e.code,
                                             e.detail)

    # -- reconciliation ----------------------------------------------------------------------------------
    def _reconcile(self, account_id: int, reader: StatusReader | None, report: UploadReport) -> bool:
        """Settle SENDING entries nobody is sending: at this account's first pass after start, older than the
        lease, or left by this process. False: they could not be settled (do not send anything else)."""
        now = self.clock()
        with self._meta:
            first = account_id not in self._reconciled
            left = set(self._left_sending)
        with self.db.session() as s:
            q = self._entries_query().where(m.DispatchEntry.account_id == account_id,
                                            m.DispatchEntry.state == OutboxState.SENDING)
            rows = [self._entry(r) for r in s.execute(q)]
        stale = [e for e, updated in rows if first or updated < now - self.lease or e.id in left]
        for part in _chunks(stale, max(self.chunk, 1)):
            remote: Mapping[str, LineRecord] = {}
            if reader is not None:  # without one the channel accepts repeats (demo): those are sent again
                try:
                    remote = reader([e.product_order_id for e in part])
                except ChannelAuthError:
                    raise
                except ChannelError as exc:
                    log.info("account %s: %d dispatch(es) of unknown outcome, marketplace unreadable (%s)",
                             account_id, len(part), exc.code)
                    return False
            # not at the marketplace (or no way to ask): PENDING, due now; the send reads once more first
            outcomes = {e.id: (_classify(e, remote.get(e.product_order_id)) if reader is not None else None)
                        or _Outcome(OutboxState.PENDING) for e in part}
            self._record(account_id, part, outcomes, expect=OutboxState.SENDING, report=report, due_now=True)
            report.reconciled += len(part)
            log.info("account %s: %d dispatch(es) of unknown outcome reconciled", account_id, len(part))
        with self._meta:
            self._reconciled.add(account_id)
            self._left_sending.difference_update(e.id for e in stale)
        return True

    # -- sending -----------------------------------------------------------------------------------------
    def _due(self, account_id: int) -> list[_Entry]:
        now = self.clock()
        with self.db.session() as s:
            q = (self._entries_query()
                 .where(m.DispatchEntry.account_id == account_id, m.DispatchEntry.state == OutboxState.PENDING,
                        (m.DispatchEntry.next_attempt_at.is_(None)) | (m.DispatchEntry.next_attempt_at <= now))
                 .order_by(m.DispatchEntry.id).limit(self.chunk * 3))
            rows = [self._entry(r)[0] for r in s.execute(q)]
        picked: list[_Entry] = []
        seen: set[str] = set()
        for e in rows:  # one entry per product order in a request; a second one waits for the next chunk
            # a parcel's lines stay together past the chunk size (Coupang takes a box's items in one request)
            full = len(picked) >= self.chunk and e.tracking_number != picked[-1].tracking_number
            if e.product_order_id not in seen and not full:
                seen.add(e.product_order_id)
                picked.append(e)
        return picked

    def _send_chunk(self, account_id: int, channel: Dispatches, reader: StatusReader | None, entries: list[_Entry],
                    report: UploadReport) -> bool:
        """Read, claim, send, record one chunk. False: stop this account for now."""
        outcomes: dict[int, _Outcome] = {}
        remote: Mapping[str, LineRecord] = {}
        if reader is not None:
            try:
                remote = reader([e.product_order_id for e in entries])
            except ChannelAuthError:
                raise
            except ChannelError as exc:
                self._retry_later(account_id, entries, exc.code, _message(exc), report, counts_attempt=True)
                return False
        for e in entries:
            decided = _classify(e, remote.get(e.product_order_id))
            if decided is not None:
                outcomes[e.id] = decided
        if outcomes:
            self._record(account_id, [e for e in entries if e.id in outcomes], outcomes,
                         expect=OutboxState.PENDING, report=report)
        to_send = [e for e in entries if e.id not in outcomes]
        claimed = self._claim(to_send)
        if not claimed:
            return True
        items = [DispatchItem(e.product_order_id, e.courier_code, e.tracking_number, e.created_at) for e in claimed]
        try:  # just read: the channel need not read them again before sending
            result = channel.dispatch(items, checked=reader is not None)
        except ChannelAuthError as exc:  # may have been partly sent: the next pass reads before resending
            self._retry_later(account_id, claimed, exc.code, _message(exc), report, expect=OutboxState.SENDING)
            raise
        except ChannelError as exc:
            self._retry_later(account_id, claimed, exc.code, _message(exc), report, expect=OutboxState.SENDING)
            return False
        except Exception:
            log.exception("dispatch of %d item(s) for account %s failed", len(claimed), account_id)
            self._retry_later(account_id, claimed, DISPATCH_ERROR, "", report, expect=OutboxState.SENDING)
            return False
        keep_going = True
        sent_outcomes: dict[int, _Outcome] = {}
        for e in claimed:
            r = result.items.get(e.product_order_id)
            if r is None:
                sent_outcomes[e.id] = _Outcome(OutboxState.PENDING, NO_RESULT, "")
            elif r.ok:
                sent_outcomes[e.id] = _Outcome(OutboxState.SENT, acknowledged=r.acknowledged)
            elif r.cancelled:  # refused because it is cancelled there: pull the parcel, as a cancel read first
                sent_outcomes[e.id] = _Outcome(
                    OutboxState.HELD, LINE_CANCELLED, f"[{r.code}] {r.message}".strip(),
                    line=LineRecord(e.product_order_id, "", "", "", "", 0, LineStatus.CANCELLED, claim_status="CANCEL"))
            elif r.retryable:
                sent_outcomes[e.id] = _Outcome(OutboxState.PENDING, r.code, r.message)
            else:
                sent_outcomes[e.id] = _Outcome(OutboxState.REJECTED, r.code or "channel_rejected", r.message)
            keep_going &= sent_outcomes[e.id].state is not OutboxState.PENDING
        try:
            self._record(account_id, claimed, sent_outcomes, expect=OutboxState.SENDING, report=report)
        except Exception:
            with self._meta:  # what happened is unknown to the database now: reconcile them next pass
                self._left_sending.update(e.id for e in claimed)
            raise
        return keep_going

    def _claim(self, entries: list[_Entry]) -> list[_Entry]:
        """PENDING -> SENDING, committed before the request. Conditional: an entry another thread or
        station claimed (or a supervisor changed) meanwhile is not ours to send."""
        if not entries:
            return []
        now = self.clock()
        with self.db.session() as s:
            ids = set(s.execute(
                update(m.DispatchEntry)
                .where(m.DispatchEntry.id.in_([e.id for e in entries]), m.DispatchEntry.state == OutboxState.PENDING)
                .values(state=OutboxState.SENDING, attempts=m.DispatchEntry.attempts + 1, updated_at=now)
                .returning(m.DispatchEntry.id)).scalars())
        return [replace(e, attempts=e.attempts + 1) for e in entries if e.id in ids]

    def _retry_later(self, account_id: int, entries: list[_Entry], code: str, message: str, report: UploadReport,
                     *, expect: OutboxState = OutboxState.PENDING, counts_attempt: bool = False) -> None:
        log.info("account %s: %d dispatch(es) to retry later (%s)", account_id, len(entries), code)
        bumped = [replace(e, attempts=e.attempts + 1) for e in entries] if counts_attempt else entries
        self._record(account_id, bumped, {e.id: _Outcome(OutboxState.PENDING, code, message) for e in entries},
                     expect=expect, report=report, set_attempts=counts_attempt)

    # -- recording ---------------------------------------------------------------------------------------
    def _record(self, account_id: int, entries: Sequence[_Entry], outcomes: Mapping[int, _Outcome], *,
                expect: OutboxState, report: UploadReport, due_now: bool = False, set_attempts: bool = False) -> None:
        """Every outcome of a chunk in one transaction, each only if the entry is still in ``expect``."""
        now = self.clock()
        sent_lines: list[int] = []
        with self.db.session() as s:
            for e in entries:
                out = outcomes[e.id]
                values: dict[str, Any] = {"state": out.state, "updated_at": now, "last_error_code": out.code[:40],
                                          "last_error_message": out.message}
                if set_attempts:
                    values["attempts"] = e.attempts
                if out.state is OutboxState.SENT:
                    values["sent_at"] = now
                elif out.state is OutboxState.PENDING:
                    values["next_attempt_at"] = now if due_now or not out.code else \
                        now + backoff_delay(max(1, e.attempts), self.base_delay, self.max_delay, self.rng)
                changed = changed_rows(s.execute(update(m.DispatchEntry)
                                                 .where(m.DispatchEntry.id == e.id, m.DispatchEntry.state == expect)
                                                 .values(**values)))
                if not changed:
                    log.info("outbox entry %s changed meanwhile; not recorded as %s", e.id, out.state)
                    continue
                if out.state is OutboxState.SENT:
                    report.sent += 1
                    sent_lines.append(e.line_id)
                    if out.acknowledged:  # the box was still unconfirmed: its 발주확인 went just before
                        log.info("dispatch of %s: 발주확인 done first (the order was not confirmed yet)",
                                 e.product_order_id)
                        self._line_status(s, e.line_id, LineStatus.CONFIRMED, f"dispatch:{e.id} 발주확인", now,
                                          unless=(LineStatus.DISPATCHED, LineStatus.SHIPPED, LineStatus.CANCELLED),
                                          keep_status=True)
                    self._line_status(s, e.line_id, LineStatus.DISPATCHED, f"dispatch:{e.id}", now,
                                      unless=(LineStatus.DISPATCHED, LineStatus.SHIPPED, LineStatus.CANCELLED))
                elif out.state is OutboxState.REJECTED:
                    report.rejected += 1
                    log.warning("dispatch of %s (%s %s) refused: %s %s", e.product_order_id, e.courier_code,
                                e.tracking_number, out.code, out.message)
                elif out.state is OutboxState.HELD:
                    report.held += 1
                    log.warning("dispatch of %s held: the line is cancelled (%s) — pull the parcel %s",
                                e.product_order_id, out.code, e.tracking_number)
                    if out.line is not None:
                        self._line_status(s, e.line_id, out.line.status, f"dispatch:{e.id}", now,
                                          channel_status=out.line.channel_status or None,
                                          claim_status=out.line.claim_status)
                elif out.code:
                    report.retry += 1
            if sent_lines:
                self._count_sent(s, account_id, len(sent_lines))

    @staticmethod
    def _line_status(s: Session, line_id: int, status: LineStatus, source: str, now: datetime, *,
                     unless: Sequence[LineStatus] = (), channel_status: str | None = None,
                     claim_status: str | None = None, keep_status: bool = False) -> None:
        """The line's new status with its history row. ``keep_status``: only the history row (a step the line
        went through at the marketplace while its own status stays, e.g. 발주확인 of a packed line)."""
        line = s.get_one(m.OrderLine, line_id)
        if line.status is status or line.status in unless:
            return
        if keep_status:
            s.add(m.LineStatusChange(line_id=line_id, status=status, channel_status=line.channel_status,
                                     claim_status=line.claim_status, source=source[:80], changed_at=now))
            return
        line.status = status
        if channel_status is not None:
            line.channel_status = channel_status
        if claim_status is not None:
            line.claim_status = claim_status
        s.add(m.LineStatusChange(line_id=line_id, status=status, channel_status=line.channel_status,
                                 claim_status=line.claim_status, source=source[:80], changed_at=now))

    @staticmethod
    def _count_sent(s: Session, account_id: int, n: int) -> None:
        """Into the account's latest *finished* collection run: a running one is about to overwrite its
        counts with what it collected, so adding to it would be lost. One atomic ``UPDATE``."""
        latest = (select(func.max(m.CollectionRun.id))
                  .where(m.CollectionRun.account_id == account_id, m.CollectionRun.status == RunStatus.SUCCEEDED)
                  .scalar_subquery())
        s.execute(update(m.CollectionRun).where(m.CollectionRun.id == latest)
                  .values(tracking_sent=m.CollectionRun.tracking_sent + n))

    # -- queries -----------------------------------------------------------------------------------------
    @staticmethod
    def _entries_query() -> Any:
        return (select(m.DispatchEntry.id, m.DispatchEntry.line_id, m.DispatchEntry.product_order_id,
                       m.DispatchEntry.courier_code, m.DispatchEntry.tracking_number, m.DispatchEntry.attempts,
                       m.DispatchEntry.created_at, m.DispatchEntry.updated_at, m.OrderLine.status)
                .join(m.OrderLine, m.OrderLine.id == m.DispatchEntry.line_id))

    @staticmethod
    def _entry(r: Any) -> tuple[_Entry, datetime]:
        return _Entry(r.id, r.line_id, r.product_order_id, r.courier_code, r.tracking_number, r.attempts,
                      r.created_at, r.status), r.updated_at

    def _accounts_with_work(self) -> list[m.ChannelAccount]:
        with self.db.session() as s:
            ids = select(m.DispatchEntry.account_id).where(m.DispatchEntry.state.in_(WAITING)).distinct()
            return list(s.scalars(select(m.ChannelAccount)
                                  .where(m.ChannelAccount.id.in_(ids), m.ChannelAccount.active,
                                         m.ChannelAccount.paused.is_(False))  # a paused account's wait
                                  .order_by(m.ChannelAccount.id)))

    def _pull_forward(self) -> None:
        now = self.clock()
        with self.db.session() as s:
            s.execute(update(m.DispatchEntry)
                      .where(m.DispatchEntry.state == OutboxState.PENDING, m.DispatchEntry.next_attempt_at > now)
                      .values(next_attempt_at=now))

    def counts(self) -> OutboxCounts:
        with self.db.session() as s:
            by_state = dict(s.execute(select(m.DispatchEntry.state, func.count())
                                      .where(m.DispatchEntry.state.in_(
                                          [*WAITING, OutboxState.REJECTED, OutboxState.HELD]))
                                      .group_by(m.DispatchEntry.state)).all())
        return OutboxCounts(waiting=by_state.get(OutboxState.PENDING, 0) + by_state.get(OutboxState.SENDING, 0),
                            rejected=by_state.get(OutboxState.REJECTED, 0), held=by_state.get(OutboxState.HELD, 0))

    def publish_counts(self) -> OutboxCounts:
        counts = self.counts()
        if self.on_counts is not None:
            self.on_counts(counts)
        return counts

    def entries(self, states: Iterable[OutboxState], limit: int = 500, *, newest_first: bool = False
                ) -> list[OutboxEntry]:
        """Entries in these states with their order and product (the supervisor's lists): oldest first, what
        has waited longest on top; ``newest_first`` for lists that only grow (handled)."""
        with self.db.session() as s:
            rows = s.execute(
                select(m.DispatchEntry, m.Order.order_no, m.OrderLine.product_name, m.OrderLine.option_name,
                       m.ChannelAccount.name)
                .join(m.OrderLine, m.OrderLine.id == m.DispatchEntry.line_id)
                .join(m.Order, m.Order.id == m.OrderLine.order_id)
                .join(m.ChannelAccount, m.ChannelAccount.id == m.DispatchEntry.account_id)
                .where(m.DispatchEntry.state.in_(list(states)))
                .order_by(m.DispatchEntry.id.desc() if newest_first else m.DispatchEntry.id).limit(limit)).all()
            return [OutboxEntry(
                id=d.id, account=account, order_no=order_no, product_order_id=d.product_order_id,
                product_name=" ".join(p for p in (product, option) if p), courier_code=d.courier_code,
                tracking_number=d.tracking_number, state=d.state, attempts=d.attempts,
                next_attempt_at=d.next_attempt_at, error_code=d.last_error_code, error_message=d.last_error_message,
                created_at=d.created_at, updated_at=d.updated_at, sent_at=d.sent_at)
                for d, order_no, product, option, account in rows]

    # -- supervisor actions ------------------------------------------------------------------------------
    def resend(self, entry_ids: Iterable[int], *, courier_code: str | None = None, by: str = "") -> int:
        """REJECTED or HELD -> PENDING, due now, attempts from zero; optionally with a corrected courier
        code. A held line the marketplace still shows cancelled is held again at the next pass. Returns
        how many entries changed."""
        ids = list(entry_ids)
        values: dict[str, Any] = {"state": OutboxState.PENDING, "next_attempt_at": self.clock(), "attempts": 0,
                                  "last_error_code": "", "last_error_message": "", "updated_at": self.clock()}
        if courier_code is not None:
            courier_code = courier_code.strip()
            if not courier_code:
                raise KnownError("dispatch_courier_required", detail="empty courier code")
            values["courier_code"] = courier_code[:32]
        with self.db.session() as s:
            changed = s.execute(update(m.DispatchEntry)
                                .where(m.DispatchEntry.id.in_(ids),
                                       m.DispatchEntry.state.in_([OutboxState.REJECTED, OutboxState.HELD]))
                                .values(**values).returning(m.DispatchEntry.id)).scalars().all()
        log.info("%s resent outbox entries %s%s", by or "someone", sorted(changed),
                 f" with courier {courier_code}" if courier_code else "")
        self.publish_counts()
        return len(changed)

    def mark_handled(self, entry_ids: Iterable[int], *, by: str = "", note: str = "") -> int:
        """PENDING, REJECTED or HELD -> HANDLED: a supervisor says it was done elsewhere (entered in the
        seller centre, or the parcel pulled). Never sent after. The line's history says who: a rejected or
        waiting line becomes DISPATCHED (its tracking number is at the marketplace by hand); a held
        (cancelled) line keeps its status and gets a history row."""
        ids = list(entry_ids)
        now = self.clock()
        with self.db.session() as s:
            rows = s.execute(update(m.DispatchEntry)
                             .where(m.DispatchEntry.id.in_(ids), m.DispatchEntry.state.in_(
                                 [OutboxState.PENDING, OutboxState.REJECTED, OutboxState.HELD]))
                             .values(state=OutboxState.HANDLED, updated_at=now)
                             .returning(m.DispatchEntry.id, m.DispatchEntry.line_id)).all()
            source = f"handled:{by}" + (f" {note}" if note else "")
            for _, line_id in rows:
                line = s.get_one(m.OrderLine, line_id)
                if line.status in _CANCELS or line.status in (LineStatus.DISPATCHED, LineStatus.SHIPPED):
                    s.add(m.LineStatusChange(line_id=line_id, status=line.status, channel_status=line.channel_status,
                                             claim_status=line.claim_status, source=source[:80], changed_at=now))
                else:
                    self._line_status(s, line_id, LineStatus.DISPATCHED, source, now)
        log.info("%s marked outbox entries %s handled elsewhere %s", by or "someone", sorted(i for i, _ in rows), note)
        self.publish_counts()
        return len(rows)


def _same_number(a: str, b: str) -> bool:
    """Tracking numbers as the label prints them (``6550-1234-5678``) and as a marketplace keeps them."""
    return a.replace("-", "").replace(" ", "") == b.replace("-", "").replace(" ", "")


def _message(e: ChannelError) -> str:
    message = e.params.get("message", "")
    return message if isinstance(message, str) else ""


def _chunks(items: Sequence[Any], size: int) -> list[Sequence[Any]]:
    return [items[i:i + size] for i in range(0, len(items), size)]


