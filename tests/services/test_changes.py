"""The change feed: every line status change is told once, including one whose transaction committed after
a later one's; what was there at start is not news."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import insert, select

from packdesk.core import models as m
from packdesk.core.db import Database
from packdesk.core.enums import LineStatus
from packdesk.services.changes import ChangeFeed


def history(db: Database, *rows: tuple[int, LineStatus], ids: list[int] | None = None) -> None:
    now = datetime.now(UTC)
    with db.session() as s:
        s.execute(insert(m.LineStatusChange), [
            {**({"id": ids[i]} if ids else {}), "line_id": line_id, "status": status, "source": "t", "changed_at": now}
            for i, (line_id, status) in enumerate(rows)])


def test_changes_are_told_once_and_late_commits_are_not_lost(demo_db: Database) -> None:
    with demo_db.session() as s:
        lines = list(s.scalars(select(m.OrderLine.id).order_by(m.OrderLine.id)))[:4]
        top = s.scalar(select(m.LineStatusChange.id).order_by(m.LineStatusChange.id.desc()).limit(1)) or 0
    feed = ChangeFeed(demo_db)
    assert feed.poll() == {}  # the demo's collection history is not news
    history(demo_db, (lines[0], LineStatus.CANCEL_REQUESTED), (lines[1], LineStatus.CONFIRMED),
            ids=[top + 2, top + 3])
    assert feed.poll() == {lines[0]: LineStatus.CANCEL_REQUESTED, lines[1]: LineStatus.CONFIRMED}
    assert feed.poll() == {}
    history(demo_db, (lines[2], LineStatus.CANCELLED), ids=[top + 1])  # took its id first, committed last
    assert feed.poll() == {lines[2]: LineStatus.CANCELLED}
    history(demo_db, (lines[0], LineStatus.CONFIRMED), (lines[0], LineStatus.CANCELLED), ids=[top + 4, top + 5])
    assert feed.poll() == {lines[0]: LineStatus.CANCELLED}  # the latest status of each line
