"""What changed in the orders since the last look: a cursor over ``line_status_history``.

Every status a line takes is a history row (collection, packing, dispatch, a supervisor), so polling that
table by id every few seconds tells a station what other stations and its own background jobs changed,
on SQLite and PostgreSQL alike (LISTEN/NOTIFY would be PostgreSQL only). Ids are taken when a row is
inserted but become visible when its transaction commits, so a row with a lower id can appear after a
higher one: each look re-reads an overlap of recent ids and skips the ones it has seen.
"""

from __future__ import annotations

from collections import deque

from sqlalchemy import func, select

from packdesk.core import models as m
from packdesk.core.db import Database
from packdesk.core.enums import LineStatus

OVERLAP = 500      # ids re-read each look: rows committed late, out of order
MAX_ROWS = 5000    # at most this many changes a look (a huge collection is caught up over a few looks)


class ChangeFeed:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.cursor = 0
        self._seen: deque[int] = deque()
        self._seen_set: set[int] = set()
        with db.session() as s:
            self.cursor = s.scalar(select(func.max(m.LineStatusChange.id))) or 0
        self._read()  # what is there already is not news

    def poll(self) -> dict[int, LineStatus]:
        """Line id -> its latest status, for every line changed since the last look."""
        return self._read()

    def _read(self) -> dict[int, LineStatus]:
        H = m.LineStatusChange
        with self.db.session() as s:
            rows = s.execute(select(H.id, H.line_id, H.status).where(H.id > self.cursor - OVERLAP)
                             .order_by(H.id).limit(MAX_ROWS + OVERLAP)).all()
        changed: dict[int, LineStatus] = {}
        for hid, line_id, status in rows:
            if hid in self._seen_set:
                continue
            self._seen.append(hid)
            self._seen_set.add(hid)
            changed[line_id] = status
            self.cursor = max(self.cursor, hid)
        while self._seen and self._seen[0] <= self.cursor - OVERLAP:  # out of the window: forget
            self._seen_set.discard(self._seen.popleft())
        return changed
