"""The one way a screen runs work off the UI thread (Anki's ``QueryOp``/``CollectionOp``, Picard's ``run_task``).

Every op is started on the UI thread by a screen (its *owner*) and answered on the UI thread:

- ``run``: a function on a thread of its own — a service call that opens its own short transactions, a
  marketplace call, a file read or written;
- ``read``: a query on a read session of its own (``services/dbworker.read``), on a thread of its own, that
  returns plain records (the frozen dataclasses of ``services/``), never ORM objects; reads need no order with the
  station's writes, so they do not queue behind them;
- ``write``: a job on the station's DB worker (``services/dbworker.py``), in order with the station's scans and
  packs: one writer. Short jobs only (the station waits behind them); a long import is a ``run`` of a service that
  commits in batches of its own.

What comes back: ``done(result)``, or a ``KnownError`` for ``refused`` (the screen shows it in both languages).
Anything else is a bug: logged with its traceback, and handed to ``refused`` as ``KnownError(bug_code)`` so the
person still sees that it did not work. An answer for a screen that has closed (deleted, or a dialog closed for
good) is dropped: what it would report on is gone. ``pending(owner)`` counts the owner's ops in flight (screens'
``busy``); tests wait on it instead of sleeping.

This module is the only one in ``ui/`` that imports ``threading`` or ``concurrent.futures``, and no ``ui`` module
opens a database session (``tests/test_architecture.py``).
"""

from __future__ import annotations

import concurrent.futures as cf
import logging
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import shiboken6
from PySide6.QtCore import QCoreApplication, QObject, Qt, QThread
from PySide6.QtWidgets import QWidget

from packdesk.core.db import Database
from packdesk.core.errors import KnownError, describe_error
from packdesk.services import dbworker
from packdesk.services.dbworker import DbWorker, Job
from packdesk.ui.bridge import MainThreadPoster

log = logging.getLogger("packdesk.ops")
T = TypeVar("T")
Done = Callable[[T], None]
Refused = Callable[[KnownError], None]

_poster: MainThreadPoster | None = None
_lanes: dict[str, cf.ThreadPoolExecutor] = {}  # name -> its one thread (``run(..., lane=True)``), kept for the process
_pending: Counter[int] = Counter()  # id(owner) -> ops in flight; touched on the UI thread only


class Bug(KnownError):
    """What ``refused`` gets for anything that is not a ``KnownError``: our bug, already logged with its
    traceback. ``error`` is what was raised, for a screen that names its kind."""

    def __init__(self, code: str, error: BaseException) -> None:
        super().__init__(code, detail=describe_error(error))
        self.error = error


def kind(e: KnownError) -> str:
    """The name of what went wrong: the exception a bug raised, else the refusal's own class."""
    return type(e.error if isinstance(e, Bug) else e).__name__


@dataclass(frozen=True)
class _Failed:
    """An op's exception carried back as a value (so the DB worker does not log a refusal as its own failure)."""

    error: BaseException


def pending(owner: QObject | None = None) -> int:
    """Ops in flight for ``owner`` (all owners' if None), counted from start until the answer is handled."""
    return _pending[id(owner)] if owner is not None else sum(_pending.values())


def run(owner: QObject, name: str, fn: Callable[[], T], done: Done[T] | None = None,
        refused: Refused | None = None, *, bug_code: str = "error", lane: bool = False) -> None:
    """``fn()`` on a thread of its own (``packdesk-<name>``). ``lane``: on the one thread all ops of ``name``
    share, one after another in the order asked — for many small jobs that must not take the cores from the
    station at once (the product pictures a pack asks for, ``ui/thumbnails.py``)."""
    deliver = _start(owner, name, done, refused, bug_code)

    def work() -> None:
        deliver(_call(fn))

    if lane:
        if name not in _lanes:
            _lanes[name] = cf.ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"packdesk-{name}")
        _lanes[name].submit(work)
    else:
        threading.Thread(target=work, name=f"packdesk-{name}", daemon=True).start()


def read(owner: QObject, name: str, db: Database, job: Job[T], done: Done[T] | None = None,
         refused: Refused | None = None, *, bug_code: str = "error") -> None:
    """``job(session)`` on a read session of its own, off the UI thread."""
    run(owner, name, lambda: dbworker.read(db, job), done, refused, bug_code=bug_code)


def write(owner: QObject, name: str, worker: DbWorker, job: Job[T], done: Done[T] | None = None,
          refused: Refused | None = None, *, bug_code: str = "error") -> None:
    """``job(session)`` in a short transaction of its own on the station's DB worker, in order with its writes
    (a refusal rolls it back: nothing written)."""
    deliver = _start(owner, name, done, refused, bug_code)
    future = worker.submit(job, log_failure=False)  # a failure rolls the transaction back

    def answered(f: cf.Future[Any]) -> None:
        if f.cancelled():  # the worker is closed: the app is shutting down
            deliver(_Failed(KnownError("error", detail="database worker closed")))
        elif (e := f.exception()) is not None:
            deliver(_Failed(e))
        else:
            deliver(f.result())

    future.add_done_callback(answered)


def progress(owner: QObject, fn: Callable[..., None]) -> Callable[..., None]:
    """``fn`` for a worker thread to report progress with: each call is posted to the UI thread and runs there
    only while ``owner`` still exists, so a screen closed meanwhile is simply not told and the work goes on
    (a signal of a deleted window, emitted from the worker, raised there: a claim bundle failed as a bug when its
    dialog closed mid-way on a loaded machine). The worker never waits. Made on the UI thread."""
    app = QCoreApplication.instance()
    assert app is not None and QThread.currentThread() is app.thread(), "made on the UI thread"
    poster = _ui_poster()

    def call(*args: Any) -> None:
        poster.post(lambda: None if _gone(owner) else fn(*args))

    return call


def on_ui_thread(fn: Callable[..., T], timeout: float = 300.0) -> Callable[..., T]:
    """``fn`` for a worker thread to call: each call runs on the UI thread and the worker waits for its result
    (or its exception). For the few things Qt draws only on its main thread in the middle of a long run (an
    evidence sheet's PDF inside a claim bundle). Made on the UI thread; called there, it simply runs."""
    app = QCoreApplication.instance()
    assert app is not None and QThread.currentThread() is app.thread(), "made on the UI thread"
    poster = _ui_poster()

    def call(*args: Any, **kwargs: Any) -> T:
        if QThread.currentThread() is app.thread():
            return fn(*args, **kwargs)
        answer: cf.Future[T] = cf.Future()

        def run() -> None:
            try:
                answer.set_result(fn(*args, **kwargs))
            except BaseException as e:  # carried back to the waiting worker, which raises it
                answer.set_exception(e)

        poster.post(run)
        return answer.result(timeout)

    return call


def _ui_poster() -> MainThreadPoster:
    global _poster
    if _poster is None or not shiboken6.isValid(_poster):
        _poster = MainThreadPoster()
    return _poster


def _call(fn: Callable[[], T]) -> T | _Failed:
    try:
        return fn()
    except Exception as e:  # carried to the UI thread, which sorts refusals from bugs
        return _Failed(e)


def _start(owner: QObject, name: str, done: Done[Any] | None, refused: Refused | None,
           bug_code: str) -> Callable[[Any], None]:
    """Count the op for ``owner``; return what a worker thread calls with the outcome (posted to the UI thread)."""
    app = QCoreApplication.instance()
    assert app is not None and QThread.currentThread() is app.thread(), "ops start on the UI thread"
    poster = _ui_poster()
    key = id(owner)
    _pending[key] += 1

    def handle(outcome: Any) -> None:
        _pending[key] -= 1
        if _pending[key] <= 0:
            del _pending[key]
        if isinstance(outcome, _Failed):
            error = _as_known(name, outcome.error, bug_code)
            if _gone(owner):
                log.info("op %s failed after its screen closed: %s", name, error)
            elif refused is not None:
                refused(error)
            else:
                log.warning("op %s refused with no one to tell: %s %s (%s)", name, error.code, error.params,
                            error.detail)
        elif not _gone(owner) and done is not None:
            done(outcome)

    return lambda outcome: poster.post(lambda: handle(outcome))


def _as_known(name: str, e: BaseException, bug_code: str) -> KnownError:
    if isinstance(e, KnownError):
        log.info("op %s refused: %s %s (%s)", name, e.code, e.params, e.detail)
        return e
    log.error("bug in op %s", name, exc_info=e)
    return Bug(bug_code, e)


def _gone(owner: QObject) -> bool:
    """The screen the answer is for no longer exists: deleted, or a dialog that deletes itself on close has been
    shown and closed (its deletion may still be queued behind the answer)."""
    if not shiboken6.isValid(owner):
        return True
    return (isinstance(owner, QWidget) and owner.testAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            and owner.testAttribute(Qt.WidgetAttribute.WA_WState_ExplicitShowHide) and not owner.isVisible())
