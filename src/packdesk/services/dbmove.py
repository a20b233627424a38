"""One-time move of a single station's SQLite data to the warehouse's PostgreSQL server.

The target is migrated to this app's schema and must be empty (no rows in PackDesk's tables): merging two
histories is not a move. Tables are copied parent-first in batches with their ids, PostgreSQL's id
sequences are set past the copied ids, and every table's row count is compared. The SQLite file is only
read: if anything goes wrong, the station keeps working on it as before.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import func, select, text

from packdesk.core import models as m
from packdesk.core.db import Database
from packdesk.core.errors import KnownError

log = logging.getLogger("packdesk.dbmove")
BATCH = 2000


class MoveRefused(KnownError):
    code = "db_move_refused"


@dataclass
class MoveReport:
    counts: dict[str, int] = field(default_factory=dict)


def _count(db: Database, table: object) -> int:
    with db.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())  # type: ignore[arg-type]


def move_to_server(source_url: str, target_url: str, progress: Callable[[str, int], None] | None = None) -> MoveReport:
    source = Database.open(source_url)  # must exist: a move never makes up an empty station to copy
    try:
        target = Database.open(target_url, create=True)  # a new server's database gets its tables here
    except BaseException:
        source.close()
        raise
    try:
        tables = [t for t in m.Base.metadata.sorted_tables]
        busy = [t.name for t in tables if _count(target, t)]
        if busy:
            raise MoveRefused(detail=f"target not empty: {', '.join(busy)}", tables=", ".join(busy))
        report = MoveReport()
        with source.engine.connect() as src, target.engine.begin() as dst:
            for t in tables:
                rows = src.execute(t.select().order_by(*t.primary_key.columns)).mappings()
                n = 0
                while batch := rows.fetchmany(BATCH):
                    dst.execute(t.insert(), [dict(r) for r in batch])
                    n += len(batch)
                report.counts[t.name] = n
                if progress:
                    progress(t.name, n)
            if target.engine.dialect.name == "postgresql":
                for t in tables:
                    if "id" in t.c and t.c.id.autoincrement is not False and t.c.id.primary_key:
                        dst.execute(text(f"SELECT setval(pg_get_serial_sequence('{t.name}', 'id'), "
                                         f"COALESCE((SELECT MAX(id) FROM {t.name}), 0) + 1, false)"))
        for t in tables:  # verify
            have = _count(target, t)
            if have != report.counts[t.name]:
                raise MoveRefused("db_move_mismatch", detail=f"{t.name}: copied {report.counts[t.name]}, found {have}")
        log.info("moved %d rows in %d tables to the server", sum(report.counts.values()), len(tables))
        return report
    finally:
        source.close()
        target.close()
