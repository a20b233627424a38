"""One thread for the station's database work, run in submission order (Anki's collection executor).

Order matters: a pack's scan events are written after its session row, and a re-scan of a waybill just
completed is looked up after the completion is stored. Results come back through ``post``, which the UI
sets to "run this on the Qt main thread"; tests pass a direct call.

A full disk (a one-PC station's SQLite file; ``core/disk.py``) must not lose what the packer did. A write
submitted with ``keep`` (a pack begun, a scan, a completion, a video's index row) that the disk refuses is
*held*: kept in memory, in order, and every later kept write queues behind it instead of running ahead of
it. ``retry_held`` (the station calls it every few seconds) and any job that comes after run the held
writes again, oldest first, each in its own transaction as before. Kept rather than refused: the scans are
things that happened (the box is packed, the items are in it); refusing them would make the packer pack
again what is packed. What is not safe to do on memory alone, starting a *new* pack, the station refuses
while writes are held (``services/station.py``). Held writes live only as long as the process: ``close``
tries them once more and logs loudly what it could not save.

A read that needs no order with the writes and may take long (today's counts over a whole warehouse's backlog:
half a second on a million order lines) goes ``read_aside``: on a reader thread of its own, so a scan queued
behind it is not held up (it was: one count every minute made one waybill scan take 450 ms).

A scan's lookup may go ``first``: on the same thread, ahead of every job queued and not yet begun. A waybill
scanned the moment the last pack completed would otherwise wait for that pack's writes (~10 ms of them). Only the
caller knows whether the queued writes could change what the lookup reads; the station says what they touch and
sends the lookup in order when it might (``services/station.py``). One thread still does every write, one
after another: nothing runs beside anything else. Once a ``first`` job is done, the thread waits (up to
``UI_TURN_S``) until its answer is handled on the UI thread before it takes the next job: the screen drawing a
waybill then has the interpreter to itself instead of sharing it with the pack end's Python.
"""

from __future__ import annotations

import concurrent.futures as cf
import logging
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from packdesk.core.db import Database
from packdesk.core.disk import is_disk_full
from packdesk.core.errors import describe_error

log = logging.getLogger("packdesk.dbworker")
UI_TURN_S = 0.2  # the longest the DB thread leaves the interpreter to the screen drawing a lookup's answer
T = TypeVar("T")
Post = Callable[[Callable[[], None]], None]
Job = Callable[[Session], T]  # a unit of database work, given its session: services' functions take one


def read(db: Database, job: Job[T]) -> T:
    """``job`` on a short session of its own, on the calling thread: a screen's read (``ui/ops.py``) needs no
    order with the station's writes, so it does not queue behind them on the worker."""
    with db.session() as s:
        return job(s)


def direct(fn: Callable[[], None]) -> None:
    fn()


@dataclass
class Held:
    """A kept write the disk refused: run again later, in order. ``name`` says what it is (log, station)."""

    name: str
    job: Callable[[Session], Any]
    on_done: Callable[[Any], None] | None
    on_error: Callable[[BaseException], None] | None


OnHeld = Callable[[str, int, BaseException], None]   # the write just held, how many are held, why
OnSaved = Callable[[list[str], int], None]             # the held writes now stored (names), how many remain


class DbWorker:
    def __init__(self, db: Database, post: Post = direct) -> None:
        self.db = db
        self.post = post
        self._pool = cf.ThreadPoolExecutor(max_workers=1, thread_name_prefix="packdesk-db")
        # the jobs waiting for the DB thread: each pool task runs the next one, a ``first`` job before the rest
        self._queued: deque[tuple[Callable[[], Any], cf.Future[Any]]] = deque()
        self._queued_first: deque[tuple[Callable[[], Any], cf.Future[Any]]] = deque()
        self._queue_lock = threading.Lock()
        self._aside = cf.ThreadPoolExecutor(max_workers=1, thread_name_prefix="packdesk-db-read")
        self._pending = 0
        self._lock = threading.Lock()
        self._idle = threading.Event()
        self._idle.set()
        self._closed = False
        self._held: deque[Held] = deque()  # touched on the DB thread only
        self._on_held: OnHeld | None = None
        self._on_saved: OnSaved | None = None
        self._last_full: BaseException = OSError("disk full")  # the latest refusal, for the log and the station

    def watch_held(self, on_held: OnHeld, on_saved: OnSaved) -> None:
        """Be told (through ``post``) when a kept write is held for a full disk, and when held ones are stored."""
        self._on_held, self._on_saved = on_held, on_saved

    @property
    def held(self) -> int:
        """How many kept writes wait for disk space (read from any thread: a snapshot)."""
        return len(self._held)

    def submit(self, job: Callable[[Session], T], on_done: Callable[[T], None] | None = None,
               on_error: Callable[[BaseException], None] | None = None, *, keep: str | None = None,
               log_failure: bool = True, first: bool = False) -> cf.Future[T]:
        """Run ``job`` in its own short transaction on the DB thread; report back through ``post``.
        ``keep``: the write's name; a full disk then holds it instead of failing it (the module's docstring).
        ``log_failure=False``: the caller reads the failure from the future and tells a refusal from a bug itself
        (``ui/ops.py``); the transaction is rolled back either way.
        ``first``: run before the jobs queued and not yet begun (after the other ``first`` ones), and the thread
        waits for its answer to be handled before it goes on (``_tell``); the module's docstring says when that
        is safe.
        After ``close`` nothing runs: the returned future is cancelled (shutdown in progress)."""
        if self._closed:
            return self._dropped()
        self._began()

        def run() -> T | None:
            answered: threading.Event | None = None  # a first job's answer, once the UI thread handled it
            try:
                self._flush()  # what the disk refused before goes first
                if keep is not None and self._held:  # still refused: this one waits behind, in order
                    self._hold(Held(keep, job, on_done, on_error), None)
                    return None
                try:
                    with self.db.session() as s:
                        result = job(s)
                except BaseException as e:
                    if keep is not None and is_disk_full(e):
                        self._hold(Held(keep, job, on_done, on_error), e)
                        return None
                    if log_failure:
                        log.exception("database job failed")
                    answered = self._tell(on_error, e, handled=first)
                    raise
                answered = self._tell(on_done, result, handled=first)
                return result
            finally:
                self._ended()  # counted done (``wait_idle``) before the wait: whoever waits may be the UI thread
                if answered is not None and not answered.wait(UI_TURN_S):
                    log.debug("the answer to a first job was not handled within %.1f s: going on", UI_TURN_S)

        future: cf.Future[T] = cf.Future()
        with self._queue_lock:
            (self._queued_first if first else self._queued).append((run, future))
        self._pool.submit(self._run_next)
        return future

    def _run_next(self) -> None:
        """(DB thread) One pool task per job submitted: run the next job, a ``first`` one if any waits."""
        with self._queue_lock:
            run, future = self._queued_first.popleft() if self._queued_first else self._queued.popleft()
        if not future.set_running_or_notify_cancel():
            self._ended()  # cancelled by its caller while it waited: it never runs
            return
        try:
            future.set_result(run())
        except BaseException as e:
            future.set_exception(e)

    def read_aside(self, job: Callable[[Session], T], on_done: Callable[[T], None] | None = None,
                   on_error: Callable[[BaseException], None] | None = None) -> cf.Future[T]:
        """Run the read ``job`` on a session of its own on the reader thread, beside the writes (it sees what
        they have committed when it starts; it never waits for the ones queued); report back through ``post``.
        ``wait_idle`` waits for it too."""
        if self._closed:
            return self._dropped()
        self._began()

        def run() -> T:
            try:
                try:
                    result = read(self.db, job)
                except BaseException as e:
                    log.warning("database read failed: %s", describe_error(e))
                    self._tell(on_error, e)
                    raise
                self._tell(on_done, result)
                return result
            finally:
                self._ended()

        return self._aside.submit(run)

    def _tell(self, fn: Callable[[Any], None] | None, what: Any, *, handled: bool = False) -> threading.Event | None:
        """``fn(what)`` through ``post`` (on the UI thread at a station), if there is an ``fn``. ``handled``: also
        return an event set once ``fn`` has run. The answer to a ``first`` job (a scan's lookup, which the screen
        draws at once) is waited for that way before the thread goes on (at most ``UI_TURN_S``): going straight
        on to the next write, this thread's Python (SQLAlchemy's: a pack's end is ~10 ms of it) took turns at
        the interpreter lock with that drawing, and a waybill took 17 ms to show instead of 12 (median, back to
        back, ``bench/scan_latency.py``)."""
        if fn is None:
            return None
        if not handled:
            self.post(partial(fn, what))
            return None
        done = threading.Event()

        def handle() -> None:
            try:
                fn(what)
            finally:
                done.set()

        self.post(handle)
        return done

    @staticmethod
    def _dropped() -> cf.Future[Any]:
        log.info("database job dropped: the station is shutting down")
        f: cf.Future[Any] = cf.Future()
        f.cancel()
        return f

    def _began(self) -> None:
        with self._lock:
            self._pending += 1
            self._idle.clear()

    def _ended(self) -> None:
        with self._lock:
            self._pending -= 1
            if self._pending == 0:
                self._idle.set()

    def retry_held(self) -> None:
        """Try the held writes again (on the DB thread); cheap when none are held."""
        if self._held and not self._closed:
            self.submit(lambda s: None)  # every job flushes first

    def _hold(self, h: Held, why: BaseException | None) -> None:
        self._held.append(h)
        self._last_full = why or self._last_full
        log.warning("disk full: %s held in memory (%d held): %s", h.name, len(self._held),
                    describe_error(self._last_full))
        if self._on_held is not None:
            cb, n, err = self._on_held, len(self._held), self._last_full
            self.post(lambda: cb(h.name, n, err))

    def _flush(self) -> None:
        """(DB thread) Run the held writes, oldest first, until the disk refuses one again."""
        saved: list[str] = []
        while self._held:
            h = self._held[0]
            try:
                with self.db.session() as s:
                    result = h.job(s)
            except BaseException as e:
                if is_disk_full(e):
                    self._last_full = e
                    break
                self._held.popleft()  # refused for another reason: said as its own failure would have been
                log.error("held database write %s failed: %s", h.name, describe_error(e))
                self._tell(h.on_error, e)
                continue
            self._held.popleft()
            saved.append(h.name)
            self._tell(h.on_done, result)
        if saved:
            log.warning("disk space back: %d held write(s) stored, %d still held", len(saved), len(self._held))
            if self._on_saved is not None:
                cb, n = self._on_saved, len(self._held)
                self.post(lambda: cb(saved, n))

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until every submitted job has run (tests, benchmarks, shutdown)."""
        return self._idle.wait(timeout)

    def close(self) -> None:
        if self._held and not self._closed:
            self._pool.submit(self._flush)  # a last try; what stays held is lost with the process: say so
        self._closed = True
        self._aside.shutdown(wait=True)  # reads queued before run, as writes do: wait_idle is not left waiting
        self._pool.shutdown(wait=True)
        if self._held:
            log.error("disk full at shutdown: %d database write(s) could not be saved: %s", len(self._held),
                      ", ".join(h.name for h in self._held))
