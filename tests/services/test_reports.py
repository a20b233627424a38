"""Supervisor reports from the database: packs per hour per packer and station (KST hours), refusals by
reason, storage; and the Excel file."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import openpyxl
from sqlalchemy import insert

from packdesk.core import models as m
from packdesk.core.db import Database
from packdesk.core.enums import PackOutcome, RecordingStatus, ScanKind, ScanSource
from packdesk.services.reports import KST, build_report, export_report

DAY = datetime(2026, 11, 27, tzinfo=KST)  # a Friday in the warehouse


def seed(db: Database) -> None:
    with db.session() as s:
        wb = [{"courier_code": "CJGLS", "tracking_number": f"6010{i:08d}"} for i in range(12)]
        s.execute(insert(m.Waybill), wb)
        sessions = []
        # 09:xx: 김민수 3 packs at STATION-1; 10:xx: 김민수 1, 이지은 2 at STATION-2; one cancelled, one the day before
        plan = [(9, 5, "STATION-1", "김민수"), (9, 20, "STATION-1", "김민수"), (9, 59, "STATION-1", "김민수"),
                (10, 1, "STATION-1", "김민수"), (10, 15, "STATION-2", "이지은"), (10, 40, "STATION-2", "이지은")]
        for i, (h, mi, st, p) in enumerate(plan, start=1):
            end = DAY.replace(hour=h, minute=mi)
            sessions.append({"key": f"k{i}", "waybill_id": i, "station": st, "packer_name": p,
                             "started_at": end - timedelta(minutes=2), "ended_at": end,
                             "outcome": PackOutcome.COMPLETED})
        sessions.append({"key": "k7", "waybill_id": 7, "station": "STATION-1", "packer_name": "김민수",
                         "started_at": DAY.replace(hour=11), "ended_at": DAY.replace(hour=11, minute=3),
                         "outcome": PackOutcome.CANCELLED})
        sessions.append({"key": "k8", "waybill_id": 8, "station": "STATION-1", "packer_name": "김민수",
                         "started_at": DAY - timedelta(hours=2), "ended_at": DAY - timedelta(hours=1),
                         "outcome": PackOutcome.COMPLETED})
        s.execute(insert(m.PackSession), sessions)
        scans = []
        for reason, n in (("wrong_item", 3), ("too_many", 1), ("", 10), ("waybill_cancelled", 2)):
            for k in range(n):
                scans.append({"station": "STATION-1", "scanned_at": DAY.replace(hour=9, minute=k), "code": "X",
                              "source": ScanSource.WEDGE, "kind": ScanKind.ITEM, "accepted": reason == "",
                              "reason": reason})
        scans.append({"station": "STATION-1", "scanned_at": DAY - timedelta(days=3), "code": "old",
                      "source": ScanSource.WEDGE, "kind": ScanKind.ITEM, "accepted": False, "reason": "too_many"})
        s.execute(insert(m.ScanEvent), scans)
        recs = [{"tracking_number": "t", "station": st, "path": f"/v/{i}.ts", "started_at": DAY, "size_bytes": size,
                 "status": RecordingStatus.COMPLETE, "keep": keep, "deleted_at": deleted}
                for i, (st, size, keep, deleted) in enumerate([
                    ("STATION-1", 3_000_000, False, None), ("STATION-1", 2_000_000, True, None),
                    ("STATION-2", 5_000_000, False, None), ("STATION-2", 9_000_000, False, DAY)])]
        s.execute(insert(m.Recording), recs)


def test_packs_per_hour_per_packer_and_station(db: Database, tmp_path: Path) -> None:
    seed(db)
    r = build_report(db, DAY.astimezone(UTC), (DAY + timedelta(days=1)).astimezone(UTC), tmp_path)
    assert r.packs == 6  # the cancelled pack and yesterday's are not counted
    assert [(h.hour.hour, h.station, h.packer, h.packs) for h in r.hours] == [
        (9, "STATION-1", "김민수", 3), (10, "STATION-1", "김민수", 1), (10, "STATION-2", "이지은", 2)]
    assert [(h.hour, n) for h, n in r.per_hour()] == [(9, 3), (10, 3)]
    # 김민수 packed 4 in the 2 hours he worked; 이지은 2 in 1
    assert r.per_packer() == [("STATION-1", "김민수", 4, 2.0), ("STATION-2", "이지은", 2, 2.0)]
    assert r.scans == 16 and r.refusals == [("wrong_item", 3), ("waybill_cancelled", 2), ("too_many", 1)]
    assert [(s.station, s.recordings, s.bytes, s.kept) for s in r.storage] == [
        ("STATION-1", 2, 5_000_000, 1), ("STATION-2", 1, 5_000_000, 0)]
    assert r.disk_free is not None and r.disk_total is not None and 0 < r.disk_free <= r.disk_total


def test_the_excel_report_has_korean_headers_and_every_number(db: Database, tmp_path: Path) -> None:
    seed(db)
    r = build_report(db, DAY.astimezone(UTC), (DAY + timedelta(days=1)).astimezone(UTC))
    out = export_report(r, tmp_path / "sub" / "report.xlsx", lambda code: (f"사유:{code}", f"reason:{code}"))
    book = openpyxl.load_workbook(out)
    assert book.sheetnames == ["요약", "시간대별 포장", "작업자별", "거절 사유", "저장 공간"]
    hours = book["시간대별 포장"]
    assert hours["A1"].value == "시간 (KST)\nHour" and hours.freeze_panes == "A2"
    assert hours.column_dimensions["A"].width == 18 and hours.auto_filter.ref
    assert [[c.value for c in row] for row in hours.iter_rows(min_row=2)] == [
        ["2026-11-27 09:00", "STATION-1", "김민수", 3], ["2026-11-27 10:00", "STATION-1", "김민수", 1],
        ["2026-11-27 10:00", "STATION-2", "이지은", 2]]
    reasons = [[c.value for c in row] for row in book["거절 사유"].iter_rows(min_row=2)]
    assert reasons[0] == ["사유:wrong_item", "reason:wrong_item", 3, 50.0]
    assert [c.value for c in book["저장 공간"][2]] == ["STATION-1", 2, 5.0, 1]
    assert not list(tmp_path.glob("sub/*.tmp"))


def test_the_excel_report_names_refusals_in_words_not_codes(db: Database, tmp_path: Path) -> None:
    """Without a screen to ask, the report takes the catalogue's short names (core/words): never ``too_many``."""
    seed(db)
    r = build_report(db, DAY.astimezone(UTC), (DAY + timedelta(days=1)).astimezone(UTC))
    book = openpyxl.load_workbook(export_report(r, tmp_path / "report.xlsx"))
    reasons = [[c.value for c in row][:3] for row in book["거절 사유"].iter_rows(min_row=2)]
    assert reasons == [["다른 상품", "Wrong item", 3], ["취소된 주문", "Cancelled order", 2],
                       ["수량 초과", "Too many", 1]]
