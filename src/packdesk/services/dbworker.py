"""One thread for the station's database work, run in submission order (Anki's collection executor).

Order matters: a pack's scan events are written after its session row, and a re-scan of a waybill just
completed is looked up after the completion is stored. Results come back through ``post``, which the UI
sets to "run this on the Qt main thread"; tests pass a direct call.
"""

from __future__ import annotations

import concurrent.futures as cf
import logging
import threading
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.orm import Session

from packdesk.core.db import Database

log = logging.getLogger("packdesk.dbworker")
T = TypeVar("T")
Post = Callable[[Callable[[], None]], None]


def direct(fn: Callable[[], None]) -> None:
    fn()


class DbWorker:
    def __init__(self, db: Database, post: Post = direct) -> None:
        self.db = db
        self.post = post
        self._pool = cf.ThreadPoolExecutor(max_workers=1, thread_name_prefix="packdesk-db")
        self._pending = 0
        self._lock = threading.Lock()
        self._idle = threading.Event()
        self._idle.set()
        self._closed = False

    def submit(self, job: Callable[[Session], T], on_done: Callable[[T], None] | None = None,
               on_error: Callable[[BaseException], None] | None = None) -> cf.Future[T]:
        """Run ``job`` in its own short transaction on the DB thread; report back through ``post``.
        After ``close`` nothing runs: the returned future is cancelled (shutdown in progress)."""
        if self._closed:
            log.info("database job dropped: the station is shutting down")
            f: cf.Future[T] = cf.Future()
            f.cancel()
            return f
        with self._lock:
            self._pending += 1
            self._idle.clear()

        def run() -> T:
            try:
                with self.db.session() as s:
                    result = job(s)
            except BaseException as e:
                log.exception("database job failed")
                if on_error is not None:
                    self.post(lambda err=e: on_error(err))
                raise
            else:
                if on_done is not None:
                    self.post(lambda res=result: on_done(res))
                return result
            finally:
                with self._lock:
                    self._pending -= 1
                    if self._pending == 0:
                        self._idle.set()

        return self._pool.submit(run)

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until every submitted job has run (tests, benchmarks, shutdown)."""
        return self._idle.wait(timeout)

    def close(self) -> None:
        self._closed = True
        self._pool.shutdown(wait=True)
