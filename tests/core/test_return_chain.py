"""A return inspection's chain link (core/chain.py ``append_return``): it covers the inspection's scans, each
item line's final condition and "sent by the order", and the inspection row, so an edit to any of them
changes the hash recomputed from the database. Rows written as the station writes them, against a real
database (SQLite, or PostgreSQL with PACKDESK_TEST_DATABASE_URL)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from packdesk.core import chain
from packdesk.core import models as m
from packdesk.core.db import Database
from packdesk.core.enums import PackOutcome, ScanSource

T0 = datetime(2026, 12, 6, 1, 0, tzinfo=UTC)
RS, RI = m.ReturnScan, m.ReturnItem


def _inspection(s: Session, station: str = "S1") -> int:
    """An inspection of return label RT-1: an item (marked damaged, then corrected to good), then COMPLETE."""
    iid = s.execute(insert(m.ReturnInspection).values(
        key="k-1", station=station, packer_name="김민수", return_code="RT-1", order_nos="202600000001",
        started_at=T0, outcome=PackOutcome.OPEN).returning(m.ReturnInspection.id)).scalar_one()
    scans: list[tuple[str, str, int, str]] = [
        ("RT-1", "return", 0, ""), ("8800000000011", "item", 1, ""), ("PD-RET-DAMAGED", "condition", 1, "damaged"),
        ("PD-RET-OK", "condition", 1, "ok"), ("PD-CMD-COMPLETE", "command", 0, "")]
    for n, (code, kind, line, cond) in enumerate(scans):
        s.execute(insert(RS).values(inspection_id=iid, station=station, packer_name="김민수",
                                    scanned_at=T0 + timedelta(seconds=n), code=code, source=ScanSource.WEDGE,
                                    kind=kind, accepted=True, reason="", line_no=line, condition=cond))
    # ended as ``services/returns.end_inspection`` ends it: an UPDATE, the item lines, and the link, in one go
    s.execute(update(m.ReturnInspection).where(m.ReturnInspection.id == iid)
              .values(ended_at=T0 + timedelta(seconds=9), outcome=PackOutcome.COMPLETED))
    s.execute(insert(RI).values(inspection_id=iid, line_no=1, code="8800000000011", expected=True, condition="ok"))
    chain.append_return(s, iid)
    return iid


def _recomputed(s: Session, iid: int) -> tuple[str, str]:
    """(the link's stored hash, the hash the database's rows give now)."""
    link = s.scalars(select(m.ChainEntry).where(m.ChainEntry.kind == chain.RETURN,
                                                m.ChainEntry.recording_id == iid)).one()
    ri = s.scalars(select(m.ReturnInspection).where(m.ReturnInspection.id == iid)
                   .execution_options(populate_existing=True)).one()
    digest, count = chain.return_scans_digest(chain.return_scans(s, iid))
    return link.entry_hash, chain.return_link_hash(link.prev_hash, ri, digest, count)


def test_the_link_covers_the_inspection_as_it_ended(db: Database) -> None:
    with db.session() as s:
        iid = _inspection(s)
    with db.session() as s:
        link = s.scalars(select(m.ChainEntry)).one()
        stored, now = _recomputed(s, iid)
    assert (link.kind, link.version, link.recording_id, link.size_bytes, link.seq, link.prev_hash) == (
        chain.RETURN, chain.RETURN_VERSION, iid, 5, 1, chain.GENESIS)
    assert stored == now  # made from the rows as stored: the outcome and end its UPDATE wrote, the item lines
    with db.session() as s:
        fields = chain.return_link_fields(link.prev_hash, s.get_one(m.ReturnInspection, iid), link.file_sha256, 5)
    assert len(fields) == len(chain.RETURN_LINK_FIELDS)
    assert dict(zip(chain.RETURN_LINK_FIELDS, fields, strict=True))["outcome"] == "completed"


SCAN = select(RS.id).where(RS.kind == "condition", RS.condition == "damaged").scalar_subquery()
Edit = Callable[[int], Any]


@pytest.mark.parametrize("edit", [
    pytest.param(lambda iid: update(RS).where(RS.id == SCAN).values(condition="ok"), id="condition-scanned"),
    pytest.param(lambda iid: update(RI).where(RI.inspection_id == iid).values(condition="damaged"),
                 id="final-condition"),
    pytest.param(lambda iid: update(RI).where(RI.inspection_id == iid).values(expected=False), id="sent-by-order"),
    pytest.param(lambda iid: delete(RS).where(RS.id == SCAN), id="scan-deleted"),
    pytest.param(lambda iid: delete(RI).where(RI.inspection_id == iid), id="item-line-deleted"),
    pytest.param(lambda iid: update(RS).where(RS.id == SCAN).values(scanned_at=T0 + timedelta(minutes=5)),
                 id="scan-time"),
    pytest.param(lambda iid: update(m.ReturnInspection).where(m.ReturnInspection.id == iid)
                 .values(outcome=PackOutcome.CANCELLED), id="outcome"),
    pytest.param(lambda iid: update(m.ReturnInspection).where(m.ReturnInspection.id == iid)
                 .values(return_code="RT-2"), id="return-code"),
])
def test_an_edit_changes_the_recomputed_hash(db: Database, edit: Edit) -> None:
    with db.session() as s:
        iid = _inspection(s)
    with db.session() as s:
        assert s.execute(edit(iid)).rowcount == 1
    with db.session() as s:
        stored, now = _recomputed(s, iid)
    assert stored != now


def test_a_scan_line_is_json_with_the_items_end_state() -> None:
    """One JSON list a line: a code with a quote or a line feed cannot shift a field; the item line's "sent by
    the order" and final condition follow the condition scanned."""
    row = type("Row", (), dict(id=7, scanned_at=T0, code='A"\nB', source=ScanSource.WEDGE, kind="item",
                               accepted=True, reason="", item_id=None, line_no=2, condition="", sent=False,
                               final="other_product", station="S1", packer_name="김민수"))
    line = chain.return_scan_line(row)
    assert b"\n" not in line and line.decode("utf-8").startswith('[7, "2026-12-06T01:00:00.000000+00:00", "A\\"\\nB"')
    assert line.decode("utf-8").endswith('2, "", false, "other_product", "S1", "김민수"]')
