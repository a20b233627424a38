"""ui/ops.py: answers come back on the UI thread, writes go through the station's DB worker, a refusal is told and
a bug is logged, an answer for a closed screen is dropped, and the pending count says when all is done."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import shiboken6
from PySide6.QtCore import Qt, QThread
from PySide6.QtWidgets import QApplication, QDialog, QWidget
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from packdesk.core.db import Database
from packdesk.core.errors import KnownError
from packdesk.core.models import Packer
from packdesk.services import staff
from packdesk.services.dbworker import DbWorker
from packdesk.ui import ops


@pytest.fixture
def worker(db: Database) -> Iterator[DbWorker]:
    w = DbWorker(db)
    yield w
    w.close()


def on_ui_thread() -> bool:
    app = QApplication.instance()
    return app is not None and QThread.currentThread() is app.thread()


def test_run_answers_on_the_ui_thread_and_counts_until_then(qtbot) -> None:  # type: ignore[no-untyped-def]
    owner = QWidget()
    qtbot.addWidget(owner)
    release = threading.Event()
    ran_on: list[str] = []
    got: list[tuple[int, bool]] = []

    def work() -> int:
        ran_on.append(threading.current_thread().name)
        release.wait(5)
        return 42

    ops.run(owner, "answer", work, lambda r: got.append((r, on_ui_thread())))
    assert ops.pending(owner) == 1 and ops.pending() >= 1
    release.set()
    qtbot.waitUntil(lambda: ops.pending(owner) == 0, timeout=5000)
    assert got == [(42, True)]
    assert ran_on == ["packdesk-answer"]


def test_a_known_error_is_a_refusal_and_anything_else_a_logged_bug(qtbot, expect_warnings) -> None:  # type: ignore[no-untyped-def]
    owner = QWidget()
    qtbot.addWidget(owner)
    refusals: list[KnownError] = []

    def refuse() -> None:
        raise KnownError("staff_name_taken", name="김")

    def crash() -> None:
        raise ZeroDivisionError("boom")

    ops.run(owner, "refuse", refuse, lambda _: pytest.fail("no result"), refusals.append)
    qtbot.waitUntil(lambda: ops.pending(owner) == 0, timeout=5000)
    assert [(e.code, e.params) for e in refusals] == [("staff_name_taken", {"name": "김"})]
    assert not [r for r in expect_warnings.records if r.levelno >= logging.ERROR]

    ops.run(owner, "crash", crash, lambda _: pytest.fail("no result"), refusals.append, bug_code="staff_error")
    qtbot.waitUntil(lambda: ops.pending(owner) == 0, timeout=5000)
    assert refusals[-1].code == "staff_error" and "ZeroDivisionError" in refusals[-1].detail
    assert isinstance(refusals[-1], ops.Bug) and ops.kind(refusals[-1]) == "ZeroDivisionError"
    assert ops.kind(refusals[0]) == "KnownError"
    bug = [r for r in expect_warnings.records if r.levelno >= logging.ERROR]
    assert len(bug) == 1 and "bug in op crash" in bug[0].getMessage() and bug[0].exc_info is not None


def test_an_answer_for_a_closed_screen_is_dropped(qtbot) -> None:  # type: ignore[no-untyped-def]
    dialog = QDialog()
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    release = threading.Event()
    got: list[Any] = []
    ops.run(dialog, "before-show", lambda: 1, got.append)  # not shown yet: not closed
    qtbot.waitUntil(lambda: ops.pending(dialog) == 0, timeout=5000)
    assert got == [1]
    dialog.show()
    qtbot.waitExposed(dialog)
    ops.run(dialog, "late", lambda: release.wait(5), got.append, got.append)
    dialog.close()
    release.set()
    qtbot.waitUntil(lambda: ops.pending() == 0, timeout=5000)
    assert got == [1]


def test_an_answer_for_a_deleted_owner_is_dropped(qtbot) -> None:  # type: ignore[no-untyped-def]
    owner = QWidget()
    release = threading.Event()
    got: list[Any] = []
    ops.run(owner, "late", lambda: release.wait(5), got.append, got.append)
    owner.deleteLater()
    qtbot.waitUntil(lambda: not shiboken6.isValid(owner), timeout=5000)
    release.set()
    qtbot.waitUntil(lambda: ops.pending() == 0, timeout=5000)
    assert got == []


def test_progress_reaches_its_window_on_the_ui_thread_and_never_a_deleted_one(qtbot) -> None:  # type: ignore[no-untyped-def]
    """A worker reports progress to a window's own signal; the window is deleted half-way (a dialog closed while
    its bundle is made): the reports after that are dropped on the UI thread, and the work is finished whole."""
    from PySide6.QtCore import QObject, Signal

    class Window(QWidget):
        progressed = Signal(int, int)

    window = Window()
    seen: list[tuple[int, int, bool]] = []
    window.progressed.connect(lambda d, t: seen.append((d, t, QThread.currentThread() is window.thread())))
    half_way, deleted = threading.Event(), threading.Event()
    tell = ops.progress(window, window.progressed.emit)
    keeper = QObject()  # owns the op: it outlives the window, as the review outlives its bundle dialog

    def work() -> int:
        for n in range(1, 7):
            if n == 4:
                half_way.set()
                assert deleted.wait(5)
            tell(n, 6)
        return 6

    done: list[int] = []
    ops.run(keeper, "progress", work, done.append)
    qtbot.waitUntil(half_way.is_set, timeout=5000)
    qtbot.waitUntil(lambda: len(seen) == 3, timeout=5000)
    window.deleteLater()
    qtbot.waitUntil(lambda: not shiboken6.isValid(window), timeout=5000)
    deleted.set()
    qtbot.waitUntil(lambda: done == [6], timeout=5000)
    assert seen == [(1, 6, True), (2, 6, True), (3, 6, True)]


def test_writes_go_through_the_db_worker_and_reads_return_records(qtbot, db: Database,  # type: ignore[no-untyped-def]
                                                                   worker: DbWorker) -> None:
    owner = QWidget()
    qtbot.addWidget(owner)
    threads: list[str] = []
    refusals: list[KnownError] = []

    def add(s: Session) -> Any:
        threads.append(threading.current_thread().name)
        return staff.add_packer(s, "박포장")

    def add_then_refuse(s: Session) -> None:
        staff.add_packer(s, "최롤백")
        raise KnownError("staff_name_taken", name="최롤백")

    ops.write(owner, "add", worker, add, lambda _: None, refusals.append)
    ops.write(owner, "refuse", worker, add_then_refuse, lambda _: pytest.fail("refused"), refusals.append)
    qtbot.waitUntil(lambda: ops.pending(owner) == 0, timeout=5000)
    assert threads[0].startswith("packdesk-db")
    assert [e.code for e in refusals] == ["staff_name_taken"]
    with db.session() as s:  # the refused write rolled back: nothing of it stored
        assert s.scalar(select(func.count()).select_from(Packer).where(Packer.name == "최롤백")) == 0

    listed: list[Any] = []
    ops.read(owner, "list", db, staff.list_staff, listed.append)
    qtbot.waitUntil(lambda: ops.pending(owner) == 0, timeout=5000)
    assert [m.name for m in listed[0]] == ["박포장"] and isinstance(listed[0][0], staff.StaffMember)


def test_on_ui_thread_runs_a_workers_call_on_the_ui_thread_and_hands_back_its_answer(qtbot) -> None:  # type: ignore[no-untyped-def]
    """A long run that needs Qt's main thread for one step (an evidence sheet's PDF) waits for it there."""
    owner = QWidget()
    qtbot.addWidget(owner)
    where: list[bool] = []

    def draw(n: int) -> int:
        where.append(on_ui_thread())
        if n < 0:
            raise KnownError("claim_bundle_write_failed", path="x")
        return n * 2

    call = ops.on_ui_thread(draw)
    assert call(1) == 2 and where == [True]  # on the UI thread already: it simply runs

    def work() -> tuple[int, str]:
        assert not on_ui_thread()
        try:
            call(-1)
        except KnownError as e:
            return call(21), e.code
        return 0, ""

    answers: list[Any] = []
    ops.run(owner, "ui-step", work, answers.append)
    qtbot.waitUntil(lambda: bool(answers), timeout=5000)
    assert answers == [(42, "claim_bundle_write_failed")] and where == [True, True, True]


def test_a_lane_runs_its_ops_one_after_another_on_one_thread(qtbot) -> None:  # type: ignore[no-untyped-def]
    """``lane=True`` (the station's pictures): one thread for the name, the ops in the order asked, never two at
    once — the second waits until the first, held here, is let go."""
    owner = QWidget()
    qtbot.addWidget(owner)
    first_running, let_go = threading.Event(), threading.Event()
    ran: list[tuple[int, str]] = []
    answers: list[int] = []

    def job(n: int) -> int:
        if n == 0:
            first_running.set()
            assert let_go.wait(5)
        ran.append((n, threading.current_thread().name))
        return n

    for n in range(4):
        ops.run(owner, "lane-test", lambda n=n: job(n), answers.append, lane=True)
    assert first_running.wait(5)
    assert ran == []  # the others wait behind the first on the lane, none on a thread of its own
    let_go.set()
    qtbot.waitUntil(lambda: ops.pending(owner) == 0, timeout=5000)
    assert answers == [0, 1, 2, 3] and [n for n, _ in ran] == [0, 1, 2, 3]
    (thread,) = {name for _, name in ran}
    assert thread.startswith("packdesk-lane-test")
