"""Orders from Excel (수기 주문 엑셀): sales platforms, their saved column mappings, the preview of a sheet against
the database, the import as a counted collection run, and the two exports (orders, collection runs).

A sales platform is a ``ChannelAccount`` of kind EXCEL; its column mapping lives in the account's ``options``
JSON (``{"columns": {"order_no": "주문번호", ...}, "header_row": 1}``). Reading and checking the sheet is
``channels/excel.py``; here the checked rows meet the database:

- a line already imported (same platform, same line key) is skipped as a duplicate, except that a row with a
  tracking number for a line that has no waybill yet gives it that waybill ("waybill added");
- lines are stored with ``store_orders_in_chunks`` (short transactions, sales products registered) as
  CONFIRMED — a sheet has no 발주확인 — and the import is recorded as a ``CollectionRun`` (trigger "excel");
- products with no product link are imported all the same and counted, to be linked in Product links.

Exports write .xlsx with Korean / English headers, fitted widths, a frozen header and filters, saved atomically.
Qt-free: the screen is ``ui/excel_orders_view.py``.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import or_, select, tuple_
from sqlalchemy.orm import Session

from packdesk.channels.base import OrderRecord
from packdesk.channels.excel import (
    BY_KEY,
    ExcelError,
    Parsed,
    RowError,
    Sheet,
    parse_rows,
    save_workbook,
)
from packdesk.core import models as m
from packdesk.core.couriers import BY_CODE
from packdesk.core.db import Database
from packdesk.core.enums import ChannelKind, LineStatus, RunStatus
from packdesk.core.errors import KnownError, describe_error
from packdesk.core.kst import KST
from packdesk.core.words import words
from packdesk.services.collect import (
    STORE_CHUNK,
    CollectCounts,
    begin_run,
    end_run,
    run_error_words,
    run_kept,
    store_orders_in_chunks,
)

log = logging.getLogger("packdesk.excel_orders")


TRIGGER = "excel"
MAX_PLATFORM_NAME = 100

class PlatformError(ExcelError):
    """A sales platform cannot be made or found; nothing was written."""

    @property
    def ko(self) -> str:
        return error_texts(self)[0]

    @property
    def en(self) -> str:
        return error_texts(self)[1]


def error_texts(error: KnownError) -> tuple[str, str]:
    """(Korean, English) for an error of the Excel import (the sheet's or the platform's)."""
    return words(error.code, error.params)


# ---------------------------------------------------------------------------------------------- platforms


@dataclass(frozen=True)
class Platform:
    id: int
    name: str
    columns: Mapping[str, str]      # field key -> header; "" = deliberately no column
    header_row: int | None


def _platform(acc: m.ChannelAccount) -> Platform:
    try:
        options = json.loads(acc.options or "{}")
    except ValueError:
        options = {}
    columns = options.get("columns") if isinstance(options, dict) else None
    columns = {k: str(v) for k, v in columns.items() if k in BY_KEY} if isinstance(columns, dict) else {}
    header_row = options.get("header_row") if isinstance(options, dict) else None
    return Platform(acc.id, acc.name, columns, header_row if isinstance(header_row, int) and header_row > 0 else None)


def list_platforms(s: Session) -> list[Platform]:
    A = m.ChannelAccount
    return [_platform(a) for a in s.scalars(select(A).where(A.kind == ChannelKind.EXCEL, A.active)
                                            .order_by(A.name, A.id))]


def get_platform(s: Session, account_id: int) -> Platform:
    acc = s.get(m.ChannelAccount, account_id)
    if acc is None or acc.kind is not ChannelKind.EXCEL:
        raise PlatformError("excel_platform_unknown", detail=f"account {account_id}")
    return _platform(acc)


def create_platform(s: Session, name: str) -> Platform:
    """A new sales platform (an EXCEL account) with no mapping yet."""
    name = " ".join(name.split())
    if not name:
        raise PlatformError("excel_platform_name_empty")
    if len(name) > MAX_PLATFORM_NAME:
        raise PlatformError("excel_platform_name_long", limit=MAX_PLATFORM_NAME)
    A = m.ChannelAccount
    existing = s.scalar(select(A).where(A.kind == ChannelKind.EXCEL, A.name == name))
    if existing is not None:
        if existing.active:
            raise PlatformError("excel_platform_exists", name=name)
        existing.active = True  # removed once, named again: the same platform, its orders and links
        s.flush()
        return _platform(existing)
    acc = A(kind=ChannelKind.EXCEL, name=name, options=json.dumps({"columns": {}}, ensure_ascii=False))
    s.add(acc)
    s.flush()
    log.info("sales platform %r created (account %s)", name, acc.id)
    return _platform(acc)


def save_mapping(s: Session, account_id: int, columns: Mapping[str, str | None], header_row: int | None) -> Platform:
    """Remember the platform's columns (every field, "" where none is chosen) and header row; the account's
    other options are kept."""
    acc = s.get(m.ChannelAccount, account_id)
    if acc is None or acc.kind is not ChannelKind.EXCEL:
        raise PlatformError("excel_platform_unknown", detail=f"account {account_id}")
    try:
        options = json.loads(acc.options or "{}")
    except ValueError:
        options = {}
    if not isinstance(options, dict):
        options = {}
    options["columns"] = {key: (columns.get(key) or "") for key in BY_KEY}
    if header_row:
        options["header_row"] = header_row
    acc.options = json.dumps(options, ensure_ascii=False)
    s.flush()
    return _platform(acc)


def columns_for(sheet: Sheet, platform: Platform | None, guessed: Mapping[str, str]) -> dict[str, str]:
    """The mapping to start from for this sheet: the platform's saved one where its headers are in the sheet
    (a field saved as "no column" stays so), the guess for the rest."""
    saved = platform.columns if platform is not None else {}
    out: dict[str, str] = {}
    for key in BY_KEY:
        if key in saved and saved[key] == "":
            continue
        if key in saved and saved[key] in sheet.headers:
            out[key] = saved[key]
        elif key in guessed and guessed[key] not in out.values():
            out[key] = guessed[key]
    return out


# ---------------------------------------------------------------------------------------------- preview


@dataclass(frozen=True)
class Preview:
    """What importing a checked sheet into one platform would do, as the database is now."""

    account_id: int
    parsed: Parsed
    to_store: tuple[OrderRecord, ...]   # the orders with their new and waybill-added lines only
    new_rows: int                       # lines not imported before
    waybill_added: int                  # duplicates that bring a tracking number for a line without a waybill
    duplicates: int                     # lines imported before: skipped
    not_linked_rows: int                # of the lines to store, those whose product has no product link
    not_linked_products: int
    check_ms: float = 0.0

    @property
    def file_name(self) -> str:
        return self.parsed.file_name

    @property
    def rows_read(self) -> int:
        return self.parsed.rows_read

    @property
    def errors(self) -> tuple[RowError, ...]:
        return self.parsed.errors

    @property
    def error_rows(self) -> tuple[int, ...]:
        return self.parsed.error_rows

    @property
    def importable(self) -> int:
        return self.new_rows + self.waybill_added


def _existing_lines(s: Session, account_id: int, pids: Sequence[str]) -> dict[str, int | None]:
    L = m.OrderLine
    found: dict[str, int | None] = {}
    for i in range(0, len(pids), 500):
        found.update(s.execute(select(L.product_order_id, L.waybill_id)
                               .where(L.account_id == account_id, L.product_order_id.in_(pids[i:i + 500]))).all())
    return found


def _linked(s: Session, account_id: int, keys: set[tuple[str, str]]) -> set[tuple[str, str]]:
    P = m.ProductMapping
    found: set[tuple[str, str]] = set()
    listed = sorted(keys)
    for i in range(0, len(listed), 300):
        found.update((r.product_code, r.option_code) for r in s.execute(
            select(P.product_code, P.option_code).distinct()
            .where(P.account_id == account_id, tuple_(P.product_code, P.option_code).in_(listed[i:i + 300]))))
    return found


def preview(s: Session, account_id: int, parsed: Parsed) -> Preview:
    """Sort the good rows into new, waybill-added and duplicate against the database (a few bulk reads)."""
    started = time.perf_counter()
    get_platform(s, account_id)
    pids = [lr.product_order_id for rec in parsed.orders for lr in rec.lines]
    existing = _existing_lines(s, account_id, pids)
    to_store: list[OrderRecord] = []
    new = added = dup = 0
    keys: list[tuple[str, str]] = []
    for rec in parsed.orders:
        keep = []
        for lr in rec.lines:
            if lr.product_order_id not in existing:
                new += 1
            elif lr.tracking_number and existing[lr.product_order_id] is None:
                added += 1
            else:
                dup += 1
                continue
            keep.append(lr)
            keys.append((lr.product_code, lr.option_code))
        if keep:
            to_store.append(OrderRecord(rec.order_no, rec.buyer_name, rec.recipient_name, rec.recipient_phone,
                                        rec.zip_code, rec.address, rec.delivery_message, rec.ordered_at, rec.paid_at,
                                        tuple(keep)))
    linked = _linked(s, account_id, set(keys))
    unlinked = [k for k in keys if k not in linked]
    return Preview(account_id, parsed, tuple(to_store), new, added, dup, len(unlinked), len(set(unlinked)),
                   check_ms=(time.perf_counter() - started) * 1000)


def preview_sheet(db: Database, account_id: int, sheet: Sheet, columns: Mapping[str, str],
                  check_digit: Mapping[str, str] | None = None) -> Preview:
    """Check the sheet with these columns and compare it with the database, in one short read."""
    parsed = parse_rows(sheet, columns, check_digit=check_digit)
    with db.session() as s:
        return preview(s, account_id, parsed)


# ---------------------------------------------------------------------------------------------- import


@dataclass(frozen=True)
class ImportResult:
    run_id: int
    counts: CollectCounts
    new_rows: int
    waybill_added: int
    duplicates: int
    error_rows: int
    not_linked_products: int
    seconds: float = 0.0
    errors: tuple[RowError, ...] = field(default=(), repr=False)


def import_with_columns(db: Database, p: Preview, started_by: str, columns: Mapping[str, str | None],
                        header_row: int | None, progress: Callable[[int, int], None] | None = None) -> ImportResult:
    """The Excel screen's import: the columns as chosen are saved for the platform first (a short transaction of
    their own, so the next sheet from it maps itself), then ``import_preview``."""
    with db.session() as s:
        save_mapping(s, p.account_id, columns, header_row)
    return import_preview(db, p, started_by, progress=progress)


def import_preview(db: Database, p: Preview, started_by: str,
                   progress: Callable[[int, int], None] | None = None) -> ImportResult:
    """Store what the preview found to import, as one collection run, a few hundred orders per transaction;
    ``progress(lines stored, lines to store)`` after each. The database is compared again first (another
    station may have imported the same sheet since), so a duplicate is never stored twice."""
    started = time.perf_counter()
    with db.session() as s:
        fresh = preview(s, p.account_id, p.parsed)
    run_id = begin_run(db, account_id=p.account_id, trigger=TRIGGER, started_by=started_by[:100])
    records = list(fresh.to_store)
    total = CollectCounts()
    lines_total, lines_done = sum(len(rec.lines) for rec in records), 0
    with run_kept(db, run_id):
        try:
            for i in range(0, len(records), STORE_CHUNK):
                chunk = records[i:i + STORE_CHUNK]
                total.add(store_orders_in_chunks(db, p.account_id, chunk, source=f"excel:{run_id}", run_id=run_id))
                lines_done += sum(len(rec.lines) for rec in chunk)
                if progress is not None:  # in lines, as the preview counts them
                    progress(lines_done, lines_total)
        except Exception as e:
            log.exception("Excel import %s of %s failed", run_id, p.file_name)
            end_run(db, run_id, RunStatus.FAILED, str(getattr(e, "code", "excel_import_failed")), describe_error(e))
            raise
        end_run(db, run_id, RunStatus.SUCCEEDED, "orders_set_aside" if total.aside else "", total.aside_text(), total)
    if progress is not None and not records:
        progress(0, 0)
    result = ImportResult(run_id, total, fresh.new_rows, fresh.waybill_added, fresh.duplicates,
                          len(p.error_rows), fresh.not_linked_products, time.perf_counter() - started, p.errors)
    log.info("Excel import %s of %s into account %s by %s: %d new lines, %d waybills added, %d duplicates, "
             "%d rows with errors, %.1f s", run_id, p.file_name, p.account_id, started_by, result.new_rows,
             result.waybill_added, result.duplicates, result.error_rows, result.seconds)
    return result


# ---------------------------------------------------------------------------------------------- exports

LINE_STATUS_TEXT: Mapping[LineStatus, str] = {
    LineStatus.NEW: "신규 / New",
    LineStatus.CONFIRMED: "포장 대기 / Ready to pack",
    LineStatus.CANCEL_REQUESTED: "취소 요청 / Cancel requested",
    LineStatus.CANCELLED: "취소 / Cancelled",
    LineStatus.PACKED: "포장 완료 / Packed",
    LineStatus.DISPATCHED: "발송 처리 / Dispatched",
    LineStatus.SHIPPED: "배송 중 / Shipped",
}
TRIGGER_TEXT: Mapping[str, str] = {"manual": "수동 / Manual", "schedule": "자동 / Scheduled",
                                   "startup": "시작 / Startup", TRIGGER: "엑셀 / Excel"}
RUN_STATUS_TEXT: Mapping[RunStatus, str] = {RunStatus.RUNNING: "진행 중 / Running",
                                            RunStatus.SUCCEEDED: "완료 / Done", RunStatus.FAILED: "실패 / Failed",
                                            RunStatus.ABANDONED: "중단됨 / Abandoned"}

ORDER_COLUMNS: tuple[tuple[str, str, int], ...] = (
    ("판매처", "Platform", 18), ("주문번호", "Order no.", 20), ("수취인", "Recipient", 12),
    ("연락처", "Phone", 16), ("우편번호", "Zip", 9), ("주소", "Address", 44), ("상품코드", "Product code", 16),
    ("상품명", "Product", 28), ("옵션", "Option", 18), ("수량", "Qty", 7), ("상태", "Status", 18),
    ("택배사", "Courier", 14), ("송장번호", "Tracking no.", 18), ("포장 시각", "Packed at (KST)", 17),
)
RUN_COLUMNS: tuple[tuple[str, str, int], ...] = (
    ("시작", "Started (KST)", 17), ("판매처·계정", "Account", 20), ("방식", "Trigger", 14), ("실행자", "By", 14),
    ("기간 시작", "Window from", 17), ("기간 끝", "Window to", 17), ("상태", "Status", 12), ("주문", "Orders", 9),
    ("상품", "Lines", 9), ("신규 등록", "New", 10), ("취소 요청", "Cancel req.", 11), ("취소", "Cancelled", 10),
    ("송장 등록", "Tracking reg.", 12), ("송장 전송", "Tracking sent", 12), ("오류", "Error", 22),
)
DATE_FORMAT = "yyyy-mm-dd hh:mm"


def _kst(at: datetime | None) -> datetime | None:
    """Excel has no time zones: Korean wall time, without a zone."""
    return at.astimezone(KST).replace(tzinfo=None) if at is not None else None


def _write_table(path: Path, title: str, columns: Sequence[tuple[str, str, int]], rows: Sequence[Sequence[Any]],
                 text_columns: Sequence[int] = ()) -> None:
    """One sheet: "한국어 / English" headers, fitted widths, a frozen header, filters; written in streaming
    mode (an order list can be long) and saved atomically."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title)
    for col, (_, _, width) in enumerate(columns, start=1):
        ws.column_dimensions[get_column_letter(col)].width = width
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{max(1, len(rows) + 1)}"
    ws.row_dimensions[1].height = 32
    bold, fill = Font(bold=True), PatternFill("solid", fgColor="DDE3EA")
    wrap = Alignment(vertical="center", wrap_text=True)
    header = []
    for ko, en, _ in columns:
        cell = WriteOnlyCell(ws, value=f"{ko} / {en}")
        cell.font, cell.fill, cell.alignment = bold, fill, wrap
        header.append(cell)
    ws.append(header)
    for row in rows:
        out: list[Any] = []
        for col, v in enumerate(row):
            if isinstance(v, datetime):
                cell = WriteOnlyCell(ws, value=v)
                cell.number_format = DATE_FORMAT
                out.append(cell)
            elif col in text_columns and v not in (None, ""):
                cell = WriteOnlyCell(ws, value=str(v))
                cell.number_format = "@"  # codes stay text when someone edits the sheet
                out.append(cell)
            else:
                out.append(v)
        ws.append(out)
    save_workbook(wb, path)


def export_orders(s: Session, path: Path, account_id: int | None = None, since: datetime | None = None) -> int:
    """Orders with their lines (platform, order no., recipient, phone, address, product, option, quantity,
    status, courier, tracking number, packed at) to .xlsx; returns the lines written. ``since``: orders
    created or lines packed since then. This is how a seller gets the tracking numbers of sheet orders back."""
    L, Ord, A, W = m.OrderLine, m.Order, m.ChannelAccount, m.Waybill
    q = (select(A.name, Ord.order_no, Ord.recipient_name, Ord.recipient_phone, Ord.zip_code, Ord.address,
                L.product_code, L.product_name, L.option_name, L.option_code, L.quantity, L.status, W.courier_code,
                W.tracking_number, L.packed_at)
         .join(Ord, Ord.id == L.order_id).join(A, A.id == L.account_id).outerjoin(W, W.id == L.waybill_id)
         .order_by(A.name, Ord.order_no, L.id))
    if account_id is not None:
        q = q.where(L.account_id == account_id)
    if since is not None:
        q = q.where(or_(Ord.created_at >= since, L.packed_at >= since))
    rows = []
    for r in s.execute(q):
        courier = BY_CODE.get(r.courier_code or "")
        rows.append((r.name, r.order_no, r.recipient_name, r.recipient_phone, r.zip_code, r.address, r.product_code,
                     r.product_name, r.option_name or r.option_code, r.quantity, LINE_STATUS_TEXT.get(r.status, ""),
                     courier.name if courier else (r.courier_code or ""), r.tracking_number or "", _kst(r.packed_at)))
    _write_table(path, "주문", ORDER_COLUMNS, rows, text_columns=(1, 3, 4, 6, 12))
    log.info("exported %d order lines to %s", len(rows), path)
    return len(rows)


def export_runs(s: Session, path: Path, account_id: int | None = None, since: datetime | None = None) -> int:
    """Collection runs (when, account, trigger, who, window, status, the seven counts, error) to .xlsx,
    newest first; returns the runs written."""
    R, A = m.CollectionRun, m.ChannelAccount
    q = select(R, A.name).join(A, A.id == R.account_id).order_by(R.started_at.desc(), R.id.desc())
    if account_id is not None:
        q = q.where(R.account_id == account_id)
    if since is not None:
        q = q.where(R.started_at >= since)
    rows = []
    for run, name in s.execute(q):
        rows.append((_kst(run.started_at), name, TRIGGER_TEXT.get(run.trigger, run.trigger), run.started_by,
                     _kst(run.window_from), _kst(run.window_to), RUN_STATUS_TEXT.get(run.status, str(run.status)),
                     run.orders, run.lines, run.registered, run.cancel_requested, run.cancelled,
                     run.tracking_registered, run.tracking_sent,
                     " / ".join(run_error_words(run, name)) if run.error_code else ""))
    _write_table(path, "수집 기록", RUN_COLUMNS, rows)
    log.info("exported %d collection runs to %s", len(rows), path)
    return len(rows)


def days_ago(days: int | None, now: datetime | None = None) -> datetime | None:
    """The start of the Korean day ``days - 1`` days before today (1 = today); None = everything."""
    if not days:
        return None
    today = (now or datetime.now(UTC)).astimezone(KST).replace(hour=0, minute=0, second=0, microsecond=0)
    return (today - timedelta(days=days - 1)).astimezone(UTC)
