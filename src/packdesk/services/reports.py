"""Supervisor reports, without Qt: packs per hour per packer and station, refusals by reason, storage used;
and their Excel export.

Hours are the warehouse's (KST), bucketed here in Python rather than with each database's date functions
(SQLite's ``strftime`` and PostgreSQL's ``date_trunc`` differ): a month of a busy warehouse is ~100,000
packs, a fraction of a second to read as three short columns. Refusals are grouped in SQL. Everything reads
through one short session; the report screen runs it off the UI thread.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import Integer, and_, cast, func, or_, select
from sqlalchemy.orm import Session

from packdesk.core import models as m
from packdesk.core import words
from packdesk.core.db import Database
from packdesk.core.enums import LineStatus, PackOutcome
from packdesk.core.errors import KnownError
from packdesk.core.kst import KST
from packdesk.core.models import utcnow


@dataclass(frozen=True)
class HourRow:
    hour: datetime          # start of the hour, KST
    station: str
    packer: str
    packs: int


@dataclass(frozen=True)
class StorageRow:
    station: str
    recordings: int
    bytes: int
    kept: int               # marked keep (claims): never deleted by retention


@dataclass
class Report:
    since: datetime
    until: datetime
    hours: list[HourRow] = field(default_factory=list)
    refusals: list[tuple[str, int]] = field(default_factory=list)   # (reason code, count), most first
    scans: int = 0                                                    # all scans in the period
    storage: list[StorageRow] = field(default_factory=list)           # every recording not deleted
    disk_free: int | None = None                                      # bytes free where the videos are
    disk_total: int | None = None

    @property
    def packs(self) -> int:
        return sum(r.packs for r in self.hours)

    def per_hour(self) -> list[tuple[datetime, int]]:
        """Packs in each hour of the period that had any, all stations and packers together."""
        total: Counter[datetime] = Counter()
        for r in self.hours:
            total[r.hour] += r.packs
        return sorted(total.items())

    def per_packer(self) -> list[tuple[str, str, int, float]]:
        """(station, packer, packs, packs per working hour): an hour with at least one pack counts as worked."""
        packs: Counter[tuple[str, str]] = Counter()
        hours: Counter[tuple[str, str]] = Counter()
        for r in self.hours:
            packs[(r.station, r.packer)] += r.packs
            hours[(r.station, r.packer)] += 1
        return sorted(((st, p, n, n / hours[(st, p)]) for (st, p), n in packs.items()), key=lambda x: (-x[2], x[:2]))


def build_report(db: Database, since: datetime, until: datetime, video_root: Path | None = None) -> Report:
    """The report of ``[since, until)`` (aware datetimes); storage is the state now."""
    report = Report(since, until)
    with db.session() as s:
        PS = m.PackSession
        rows = s.execute(select(PS.ended_at, PS.station, PS.packer_name)
                         .where(PS.outcome == PackOutcome.COMPLETED, PS.ended_at >= since, PS.ended_at < until))
        buckets: Counter[tuple[datetime, str, str]] = Counter()
        for ended, station, packer in rows:
            assert ended is not None  # the where clause compares it
            hour = ended.astimezone(KST).replace(minute=0, second=0, microsecond=0)
            buckets[(hour, station, packer)] += 1
        report.hours = [HourRow(h, st, p, n) for (h, st, p), n in sorted(buckets.items())]
        SE = m.ScanEvent
        in_period = (SE.scanned_at >= since, SE.scanned_at < until)
        report.scans = s.scalar(select(func.count()).select_from(SE).where(*in_period)) or 0
        report.refusals = sorted(((reason or "unknown", n) for reason, n in s.execute(
            select(SE.reason, func.count()).where(*in_period, SE.accepted.is_(False)).group_by(SE.reason))),
            key=lambda x: (-x[1], x[0]))
        R = m.Recording
        report.storage = [StorageRow(st, n, int(size or 0), int(kept or 0)) for st, n, size, kept in s.execute(
            select(R.station, func.count(), func.sum(R.size_bytes),
                   func.sum(cast(R.keep, Integer)))
            .where(R.deleted_at.is_(None)).group_by(R.station).order_by(R.station))]
    if video_root is not None:
        try:
            usage = shutil.disk_usage(video_root if video_root.exists() else video_root.parent)
            report.disk_free, report.disk_total = usage.free, usage.total
        except OSError:
            pass
    return report


# ------------------------------------------------------------------ what is left on the floor

@dataclass(frozen=True)
class BacklogRow:
    """Orders of one account still to pack, by how many Korean days ago they came in (paid, else ordered,
    else stored): today, yesterday, 2–3 days, older."""

    account: str
    today: int
    one_day: int
    two_three_days: int
    older: int

    @property
    def total(self) -> int:
        return self.today + self.one_day + self.two_three_days + self.older

    def counts(self) -> tuple[int, int, int, int]:
        return (self.today, self.one_day, self.two_three_days, self.older)


def _age_column(came: datetime, today: date) -> int:
    days = (today - came.astimezone(KST).date()).days
    return 0 if days <= 0 else 1 if days == 1 else 2 if days <= 3 else 3


def backlog(s: Session, now: datetime | None = None) -> list[BacklogRow]:
    """Orders with a line still to pack (new or confirmed), per account and age, the account with most first.
    An order counts once, on the day it came in; a cancelled or packed line is not work left."""
    L, Ord, A = m.OrderLine, m.Order, m.ChannelAccount
    today = (now or utcnow()).astimezone(KST).date()
    rows = s.execute(select(A.name, Ord.id, func.coalesce(Ord.paid_at, Ord.ordered_at, Ord.created_at))
                     .join(Ord, Ord.account_id == A.id).join(L, L.order_id == Ord.id)
                     .where(L.status.in_((LineStatus.NEW, LineStatus.CONFIRMED))).distinct())
    counts: dict[str, list[int]] = {}
    for account, _order, came in rows:
        counts.setdefault(account, [0, 0, 0, 0])[_age_column(came, today)] += 1
    return sorted((BacklogRow(a, *c) for a, c in counts.items()), key=lambda r: (-r.total, r.account))


PULL_HELD, PULL_CANCELLED = "held", "cancelled"


@dataclass(frozen=True)
class PullRow:
    """A parcel to take off the line before the courier takes it: its order was cancelled after it was packed
    (``cancelled``), or the buyer asked to cancel and it waits for the seller's answer (``held``, on the hold
    shelf — the station refuses its waybill meanwhile)."""

    tracking_number: str       # the waybill on the box, "" when it has none yet
    account: str
    order_no: str
    recipient_name: str
    why: str                   # PULL_HELD or PULL_CANCELLED
    packed_at: datetime | None
    changed_at: datetime       # when the line last changed (the cancellation came in)


def parcels_to_pull(s: Session, since: datetime | None = None) -> list[PullRow]:
    """Held and cancelled parcels to pull, newest change first: every line held (cancel requested: it stays on
    the list however old, until the seller answers), and every cancelled line that had been packed, cancelled
    since ``since`` (None: ever; the box of a cancellation weeks old has long been dealt with). One row per order
    and waybill."""
    L, Ord, A, W = m.OrderLine, m.Order, m.ChannelAccount, m.Waybill
    held = L.status == LineStatus.CANCEL_REQUESTED
    cancelled_packed = and_(L.status == LineStatus.CANCELLED, L.packed_at.is_not(None))
    q = (select(W.tracking_number, A.name, Ord.order_no, Ord.recipient_name, L.status, L.packed_at, L.updated_at)
         .join(Ord, Ord.id == L.order_id).join(A, A.id == Ord.account_id).outerjoin(W, W.id == L.waybill_id)
         .where(or_(held, cancelled_packed)))
    if since is not None:
        q = q.where(or_(held, L.updated_at >= since))
    found: dict[tuple[str, str, str], PullRow] = {}
    for tracking, account, order_no, recipient, status, packed_at, changed in s.execute(q):
        why = PULL_HELD if status == LineStatus.CANCEL_REQUESTED else PULL_CANCELLED
        key = (tracking or "", account, order_no)
        row = PullRow(tracking or "", account, order_no, recipient, why, packed_at, changed)
        old = found.get(key)
        if old is None or row.changed_at > old.changed_at or (row.why == PULL_HELD and old.why != PULL_HELD):
            found[key] = row  # a parcel with a held line is held: the seller has not answered yet
    return sorted(found.values(), key=lambda r: (r.changed_at, r.order_no), reverse=True)


# ------------------------------------------------------------------ Excel

class ReportExportError(KnownError):
    code = "report_export_failed"


def export_report(report: Report, path: Path,
                  reason_text: Callable[[str], tuple[str, str]] = words.reason) -> Path:
    """Three sheets with Korean headers (English beneath), fitted widths, frozen header, filters; saved
    atomically (a failed save leaves no half file). ``reason_text(code) -> (ko, en)`` names refusals (the
    catalogue's short names)."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill

    wb = Workbook()
    head_font, head_fill = Font(bold=True), PatternFill("solid", fgColor="DDEBF7")

    def sheet(title: str, headers: list[tuple[str, str, int]], rows: list[list[object]]) -> None:
        ws = wb.create_sheet(title)
        ws.append([f"{ko}\n{en}" for ko, en, _ in headers])
        for col, (_, _, width) in enumerate(headers, start=1):
            cell = ws.cell(row=1, column=col)
            cell.font, cell.fill = head_font, head_fill
            cell.alignment = Alignment(wrap_text=True, vertical="center")
            ws.column_dimensions[cell.column_letter].width = width
        ws.row_dimensions[1].height = 32
        for row in rows:
            ws.append(row)
        ws.freeze_panes = "A2"
        ws.auto_filter.ref = ws.dimensions

    period = f"{report.since.astimezone(KST):%Y-%m-%d %H:%M} ~ {report.until.astimezone(KST):%Y-%m-%d %H:%M}"
    sheet("시간대별 포장", [("시간 (KST)", "Hour", 18), ("스테이션", "Station", 16), ("작업자", "Packer", 14),
                       ("포장 수", "Packs", 10)],
          [[r.hour.strftime("%Y-%m-%d %H:00"), r.station, r.packer, r.packs] for r in report.hours])
    sheet("작업자별", [("스테이션", "Station", 16), ("작업자", "Packer", 14), ("포장 수", "Packs", 10),
                   ("시간당 포장", "Packs per hour", 14)],
          [[st, p, n, round(rate, 1)] for st, p, n, rate in report.per_packer()])
    total_refused = sum(n for _, n in report.refusals)
    sheet("거절 사유", [("사유", "Reason", 36), ("Reason", "(English)", 36), ("건수", "Count", 10),
                    ("비율(%)", "Share (%)", 10)],
          [[*reason_text(code), n, round(100 * n / total_refused, 1)] for code, n in report.refusals])
    sheet("저장 공간", [("스테이션", "Station", 16), ("영상 수", "Recordings", 12), ("용량(MB)", "Size (MB)", 12),
                    ("보관 표시", "Kept", 10)],
          [[r.station, r.recordings, round(r.bytes / 1e6, 1), r.kept] for r in report.storage])
    info = wb.active
    assert info is not None
    info.title = "요약"
    for row in (["PackDesk 보고서 / report", period], ["포장 / packs", report.packs], ["스캔 / scans", report.scans],
                ["거절 / refused", total_refused],
                ["영상 여유 공간(GB) / free for videos (GB)",
                 round(report.disk_free / 1e9, 1) if report.disk_free is not None else "-"]):
        info.append(row)
    info.column_dimensions["A"].width, info.column_dimensions["B"].width = 40, 36
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".xlsx.tmp")
    os.close(fd)
    try:
        wb.save(tmp)
        os.replace(tmp, path)
    except OSError as e:
        Path(tmp).unlink(missing_ok=True)
        raise ReportExportError(detail=f"{path}: {e}", path=str(path)) from e
    return path
