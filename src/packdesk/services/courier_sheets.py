"""Waybills from the courier program: the day's parcels out as an Excel sheet, the courier's result sheet of
issued tracking numbers back in (택배사 프로그램 엑셀 왕복).

A contracted Korean seller gets tracking numbers from the courier's own Windows label program (CJ대한통운,
롯데, 한진, 로젠, 우체국 each have one): PackDesk exports the parcels waiting for a label, the program reads
that sheet and prints the labels, and its result sheet (the same rows with a tracking number each) comes back
here and binds each number to its parcel (``core/parcels.py``). No courier publishes its program's columns and
every program lets its user map them, so the columns are a *template*, editable and saved; the five shipped
are starting points, not specifications.

- **Templates** live in ``courier-templates.json`` in the config folder, beside ``settings.json``, written the
  same atomic way. Not in the database: no table fits (``channel_accounts.options`` is per marketplace
  account, a template is per courier program) and a new table needs a migration. The price: a warehouse with
  several stations sets its templates up on the PC that runs the courier program, which is where they are used.
- **Export**: parcels with no waybill and at least one line still to pack, filtered by when they were collected
  (Korea time), account, and whether an earlier export held them, and by courier: a parcel whose lines name a
  courier (an Excel order sheet's 택배사 column, ``OrderLine.courier_code``) goes out only with that courier's
  template, and is counted "for another courier" by the others; one row per parcel (or per line), PackDesk's
  parcel key in the customer-reference column so the result comes back matched; ``parcels.exported_at`` set.
- **Import**: the result sheet as the programs write it (.xlsx, old .xls, CSV in CP949 or UTF-8, and the HTML
  table some programs save as ".xls"), title rows above the header, numbers with dashes or stored as numbers.
  Each row is matched by parcel key, else order number, else product-order id, and classified before anything
  is written (``RowClass``); the import re-checks every row inside its one transaction (another station may
  have bound a number since), binds the matched ones, each in a savepoint, and reports the rows refused then.
  Re-importing the same file changes nothing: every row is "already had this number".

Qt-free; the screen is ``ui/courier_view.py``. Buyers' names, phones and addresses never reach the log.
"""

from __future__ import annotations

import codecs
import csv
import enum
import html.parser
import io
import json
import logging
import os
import re
import time
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import case, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from packdesk.channels import excel as xl
from packdesk.core import models as m
from packdesk.core import parcels, tracking
from packdesk.core.couriers import BY_CODE
from packdesk.core.db import Database
from packdesk.core.enums import LineStatus
from packdesk.core.errors import KnownError, Words
from packdesk.core.kst import KST
from packdesk.core.models import utcnow
from packdesk.core.words import IMPORT, known, words

log = logging.getLogger("packdesk.courier_sheets")

TEMPLATES_FILE = "courier-templates.json"
TEMPLATES_VERSION = 1
SOURCE_PREFIX = "import:"

def texts(code: str, params: Mapping[str, Any] | None = None) -> tuple[str, str]:
    """(Korean, English) for a code of this module, of the tracking check (in an import's words where they
    differ from the screen's: no "scan again") or of the sheet reader."""
    return words(f"{IMPORT}.{code}" if known(f"{IMPORT}.{code}") else code, params)


class CourierSheetError(KnownError):
    """A template, a result file or a mapping that cannot be used; nothing was written."""

    code = "courier_sheet_error"

    @property
    def ko(self) -> str:
        return texts(self.code, self.params)[0]

    @property
    def en(self) -> str:
        return texts(self.code, self.params)[1]


def error_texts(error: KnownError) -> tuple[str, str]:
    """(Korean, English) for an error of this module or of the sheet reader (``channels/excel.py``)."""
    return texts(error.code, error.params)


# ---------------------------------------------------------------------------------------------- templates


@dataclass(frozen=True)
class ExportField:
    key: str
    ko: str
    en: str


EXPORT_FIELDS: tuple[ExportField, ...] = (
    ExportField("parcel_key", "택배 키 (고객 참조)", "Parcel key (customer reference)"),
    ExportField("recipient", "받는 분", "Recipient"),
    ExportField("phone1", "전화 1", "Phone 1"),
    # an order has one phone: it goes in both columns, because programs that want a mobile number in their
    # second column refuse the row when it is empty, and the same number twice on a label harms nobody
    ExportField("phone2", "전화 2 (전화 1과 같은 번호)", "Phone 2 (the same number as phone 1)"),
    ExportField("zip_code", "우편번호", "Postcode"),
    ExportField("address", "주소", "Address"),
    ExportField("message", "배송 메시지", "Delivery message"),
    ExportField("items", "상품 (글자로)", "Items (as text)"),
    ExportField("quantity", "총 수량", "Total quantity"),
    ExportField("order_nos", "주문번호", "Order numbers"),
    ExportField("product_order_ids", "상품주문번호", "Product-order ids"),
    ExportField("account", "판매처·계정", "Account"),
    ExportField("boxes", "박스 수량 (1)", "Box count (1)"),
    ExportField("fixed", "고정 값", "Fixed text"),
)
FIELD_BY_KEY: Mapping[str, ExportField] = {f.key: f for f in EXPORT_FIELDS}
_NUMBER_FIELDS = frozenset({"quantity", "boxes"})  # written as numbers; everything else as text ("@")


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class Column(_Model):
    """One column of the export: its header as the courier program wants it, and what PackDesk puts there."""

    header: str = Field(max_length=100)
    field: str = Field(max_length=40)
    value: str = Field("", max_length=200)   # the text of a "fixed" column


class ResultColumns(_Model):
    """Which columns of the program's result sheet hold what: remembered per template ("" = none)."""

    reference: str = Field("", max_length=100)        # the customer reference: PackDesk's parcel key
    order_no: str = Field("", max_length=100)
    product_order_id: str = Field("", max_length=100)
    tracking: str = Field("", max_length=100)
    header_row: int | None = Field(None, ge=1, le=xl.HEADER_SCAN_ROWS)


class Template(_Model):
    id: str = Field(min_length=1, max_length=40)
    name: str = Field(max_length=60)
    courier: str = Field(max_length=32)
    rows: Literal["parcel", "line"] = "parcel"        # one row per parcel, or per line of it
    columns: tuple[Column, ...] = ()
    result: ResultColumns = Field(default_factory=ResultColumns)
    starter: str = Field("", max_length=40)           # the starting template it can be reset to

    def header_of(self, field_key: str) -> str:
        return next((c.header for c in self.columns if c.field == field_key), "")


def _cols(*pairs: tuple[str, str]) -> tuple[Column, ...]:
    return tuple(Column(header=h, field=f) for h, f in pairs)


# Column names as these programs' bulk-upload sheets commonly have them: a start to adjust in the editor
# (every program maps columns), not a specification — no courier publishes one.
STARTING_TEMPLATES: tuple[Template, ...] = (
    Template(id="cj", starter="cj", name="CJ대한통운", courier="CJGLS", columns=_cols(
        ("받는분성명", "recipient"), ("받는분전화번호", "phone1"), ("받는분기타연락처", "phone2"),
        ("받는분우편번호", "zip_code"), ("받는분주소(전체, 분할)", "address"), ("품목명", "items"),
        ("내품수량", "quantity"), ("박스수량", "boxes"), ("배송메세지1", "message"), ("고객주문번호", "parcel_key"),
    ), result=ResultColumns(reference="고객주문번호", tracking="운송장번호")),
    Template(id="lotte", starter="lotte", name="롯데택배", courier="HYUNDAI", columns=_cols(
        ("수하인명", "recipient"), ("수하인전화번호", "phone1"), ("수하인휴대폰번호", "phone2"),
        ("수하인우편번호", "zip_code"), ("수하인주소", "address"), ("상품명", "items"), ("수량", "quantity"),
        ("배송메시지", "message"), ("고객주문번호", "parcel_key"),
    ), result=ResultColumns(reference="고객주문번호", tracking="운송장번호")),
    Template(id="hanjin", starter="hanjin", name="한진택배", courier="HANJIN", columns=_cols(
        ("받는분", "recipient"), ("받는분전화", "phone1"), ("받는분핸드폰", "phone2"), ("우편번호", "zip_code"),
        ("주소", "address"), ("품명", "items"), ("수량", "quantity"), ("박스수량", "boxes"), ("메모", "message"),
        ("주문번호", "parcel_key"),
    ), result=ResultColumns(reference="주문번호", tracking="운송장번호")),
    Template(id="logen", starter="logen", name="로젠택배", courier="KGB", columns=_cols(
        ("수하인명", "recipient"), ("수하인주소", "address"), ("우편번호", "zip_code"), ("수하인전화", "phone1"),
        ("수하인핸드폰", "phone2"), ("택배수량", "boxes"), ("품목명", "items"), ("수량", "quantity"),
        ("배송메세지", "message"), ("주문번호", "parcel_key"),
    ), result=ResultColumns(reference="주문번호", tracking="송장번호")),
    Template(id="epost", starter="epost", name="우체국택배", courier="EPOST", columns=_cols(
        ("수취인명", "recipient"), ("수취인우편번호", "zip_code"), ("수취인주소", "address"),
        ("수취인전화번호", "phone1"), ("수취인휴대폰", "phone2"), ("내용품명", "items"), ("수량", "quantity"),
        ("배송시요청사항", "message"), ("주문번호", "parcel_key"),
    ), result=ResultColumns(reference="주문번호", tracking="등기번호")),
)
STARTER_BY_ID: Mapping[str, Template] = {t.id: t for t in STARTING_TEMPLATES}


class _TemplateFile(_Model):
    version: int = TEMPLATES_VERSION
    templates: tuple[Template, ...] = ()


def templates_file(config_dir: Path) -> Path:
    """Beside ``settings.json``: this PC's courier program, this PC's templates."""
    return Path(config_dir) / TEMPLATES_FILE


def check_template(t: Template) -> Template:
    """A template the export can write: a name, a known courier, columns with headers (each once) and known
    fields, and the parcel key among them. Raises ``CourierSheetError``."""
    name = " ".join(t.name.split())
    if not name:
        raise CourierSheetError("courier_template_name_empty")
    if t.courier not in BY_CODE:
        raise CourierSheetError("courier_template_courier", courier=t.courier)
    if not t.columns:
        raise CourierSheetError("courier_template_no_columns")
    seen: set[str] = set()
    columns = []
    for n, c in enumerate(t.columns, start=1):
        header = c.header.strip()
        if not header:
            raise CourierSheetError("courier_template_header_empty", n=n)
        if c.field not in FIELD_BY_KEY:
            raise CourierSheetError("courier_template_field_unknown", n=n, detail=c.field)
        if header in seen:
            raise CourierSheetError("courier_template_header_twice", header=header)
        seen.add(header)
        columns.append(c.model_copy(update={"header": header, "value": c.value if c.field == "fixed" else ""}))
    if not any(c.field == "parcel_key" for c in columns):
        raise CourierSheetError("courier_template_no_key")
    return t.model_copy(update={"name": name, "columns": tuple(columns)})


@dataclass(frozen=True)
class TemplateSet:
    templates: tuple[Template, ...]
    problem: CourierSheetError | None = None   # the file was bad: kept aside, the starting templates used

    def get(self, template_id: str) -> Template:
        found = next((t for t in self.templates if t.id == template_id), None)
        if found is None:
            raise CourierSheetError("courier_template_unknown", detail=template_id)
        return found


def load_templates(path: Path) -> TemplateSet:
    """The saved templates, and every starting template the file does not have (a new release's shows up).
    A file that cannot be read is kept aside as ``.bad`` and the starting templates are used: the export
    must never be blocked by it."""
    saved: tuple[Template, ...] = ()
    problem: CourierSheetError | None = None
    if path.exists():
        try:
            doc = _TemplateFile.model_validate(json.loads(path.read_text(encoding="utf-8")))
            saved = tuple(check_template(t) for t in doc.templates)
        except (OSError, UnicodeError, ValueError, ValidationError, CourierSheetError) as e:
            bad = path.with_name(path.name + ".bad")
            problems = e.code if isinstance(e, CourierSheetError) else type(e).__name__
            try:
                os.replace(path, bad)
            except OSError:
                bad = path
            log.warning("courier templates file %s is invalid (%s); kept as %s, starting templates used",
                        path, problems, bad)
            problem = CourierSheetError("courier_templates_bad_file", kept_as=bad.name, problems=problems,
                                        detail=repr(e))
            saved = ()
    ids = {t.id for t in saved}
    templates = list(saved) + [t for t in STARTING_TEMPLATES if t.id not in ids]
    order = {t.id: i for i, t in enumerate(STARTING_TEMPLATES)}
    templates.sort(key=lambda t: (order.get(t.id, len(order)), t.name))
    return TemplateSet(tuple(templates), problem)


def save_templates(path: Path, templates: Sequence[Template]) -> None:
    """Atomic (as ``settings.json``): a power cut leaves the old file or the new one."""
    doc = _TemplateFile(templates=tuple(templates))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(doc.model_dump_json(indent=2), encoding="utf-8")
        os.replace(tmp, path)
    except OSError as e:
        raise CourierSheetError("courier_templates_save_failed", name=path.name, detail=repr(e)) from e


def save_template(path: Path, template: Template) -> Template:
    """Check ``template`` and store it in place of the one with its id (or as a new one)."""
    template = check_template(template)
    current = list(load_templates(path).templates)
    at = next((i for i, t in enumerate(current) if t.id == template.id), None)
    if at is None:
        current.append(template)
    else:
        current[at] = template
    save_templates(path, current)
    log.info("courier template %s saved (%d columns, one row per %s)", template.id, len(template.columns),
             template.rows)
    return template


def reset_template(path: Path, template_id: str) -> Template:
    """A template back to the starting one it came from (its result columns too)."""
    current = load_templates(path)
    starter = STARTER_BY_ID.get(current.get(template_id).starter)
    if starter is None:
        raise CourierSheetError("courier_template_unknown", detail=f"{template_id} has no starting template")
    fresh = starter.model_copy(update={"id": template_id})
    save_templates(path, [fresh if t.id == template_id else t for t in current.templates])
    log.info("courier template %s reset to its starting template", template_id)
    return fresh


def remember_columns(path: Path, template_id: str, columns: ResultColumns) -> Template:
    """The result sheet's columns, kept with the template for the next import."""
    template = load_templates(path).get(template_id).model_copy(update={"result": columns})
    return save_template(path, template)


# ---------------------------------------------------------------------------------------------- export


@dataclass(frozen=True)
class ExportFilter:
    """Which parcels to export. ``since``/``until``: when the parcel was collected (its first line stored),
    UTC, ``until`` excluded; ``account_ids`` empty = every account."""

    since: datetime | None = None
    until: datetime | None = None
    account_ids: tuple[int, ...] = ()
    include_exported: bool = False


def day_range(first: date, last: date) -> tuple[datetime, datetime]:
    """Korean days ``first`` to ``last`` (both included) as a UTC range, the end excluded."""
    start = datetime(first.year, first.month, first.day, tzinfo=KST)
    end = datetime(last.year, last.month, last.day, tzinfo=KST) + timedelta(days=1)
    return start.astimezone(UTC), end.astimezone(UTC)


def today(now: datetime | None = None) -> date:
    """Today in Korea."""
    return (now or datetime.now(UTC)).astimezone(KST).date()


@dataclass(frozen=True)
class Account:
    id: int
    name: str


def list_accounts(s: Session) -> list[Account]:
    """Accounts that have parcels (the filter's choices)."""
    A, P = m.ChannelAccount, m.Parcel
    ids = select(P.account_id).distinct()
    return [Account(r.id, r.name) for r in s.execute(select(A.id, A.name).where(A.id.in_(ids)).order_by(A.name))]


def _ready_parcels(flt: ExportFilter, courier: str | None = None, *, other: bool = False) -> Any:
    """Parcels with no waybill and a line still to pack, as ``flt`` selects them. With ``courier`` (a template's):
    those whose lines name no other courier (``OrderLine.courier_code``: none, or this one), or with ``other``
    the rest — the parcels "for another courier"."""
    P, L = m.Parcel, m.OrderLine
    has_ready = select(L.id).where(L.parcel_id == P.id, L.status.in_(parcels.READY)).exists()
    q = select(P.id).where(P.waybill_id.is_(None), has_ready)
    if courier is not None:
        named_other = select(L.id).where(L.parcel_id == P.id, L.status.in_(parcels.READY),
                                         L.courier_code.is_not(None), L.courier_code != courier).exists()
        q = q.where(named_other if other else ~named_other)
    if not flt.include_exported:
        q = q.where(P.exported_at.is_(None))
    if flt.account_ids:
        q = q.where(P.account_id.in_(list(flt.account_ids)))
    if flt.since is not None:
        q = q.where(P.created_at >= flt.since)
    if flt.until is not None:
        q = q.where(P.created_at < flt.until)
    return q


@dataclass(frozen=True)
class ExportCount:
    parcels: int
    lines: int
    other_courier: int = 0   # parcels the filter selects whose lines name another courier than the template's


def count_export(s: Session, flt: ExportFilter, courier: str | None = None) -> ExportCount:
    """How many parcels (and lines still to pack in them) an export with ``flt`` would write with a template
    of ``courier`` (``None``: any courier), and how many it leaves for another courier's template."""
    L = m.OrderLine
    ids = _ready_parcels(flt, courier).subquery()
    n_parcels = s.scalar(select(func.count()).select_from(ids)) or 0
    n_lines = s.scalar(select(func.count()).select_from(L).where(L.parcel_id.in_(select(ids.c.id)),
                                                                   L.status.in_(parcels.READY))) or 0
    other = 0
    if courier is not None:
        other = s.scalar(select(func.count()).select_from(_ready_parcels(flt, courier, other=True).subquery())) or 0
    return ExportCount(n_parcels, n_lines, other)


@dataclass(frozen=True)
class _Line:
    parcel_id: int
    parcel_key: str
    product_order_id: str
    product_name: str
    option_name: str
    quantity: int
    order_no: str
    recipient: str
    phone: str
    zip_code: str
    address: str
    message: str
    account: str


def item_text(name: str, option: str, quantity: int) -> str:
    """"머그컵(화이트) x1": what goes in the box, as a label's item line says it."""
    label = f"{name}({option})" if option and option != name else (name or option)
    return f"{label} x{quantity}"


def items_text(lines: Iterable[_Line]) -> str:
    """The parcel's items, the same product and option added up: "원목 코스터 x2, 머그컵(화이트) x1"."""
    total: dict[tuple[str, str], int] = {}
    for ln in lines:
        key = (ln.product_name, ln.option_name)
        total[key] = total.get(key, 0) + ln.quantity
    return ", ".join(item_text(name, option, qty) for (name, option), qty in total.items())


def _unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(v for v in values if v))


def _values(template: Template, lines: Sequence[_Line]) -> list[object]:
    """One sheet row for these lines (a parcel's, or one line's)."""
    first = lines[0]
    out: list[object] = []
    for c in template.columns:
        f = c.field
        if f == "parcel_key":
            v: object = first.parcel_key
        elif f == "recipient":
            v = first.recipient
        elif f in ("phone1", "phone2"):
            v = first.phone
        elif f == "zip_code":
            v = first.zip_code
        elif f == "address":
            v = first.address
        elif f == "message":
            v = " / ".join(_unique(ln.message.strip() for ln in lines))
        elif f == "items":
            v = items_text(lines)
        elif f == "quantity":
            v = sum(ln.quantity for ln in lines)
        elif f == "order_nos":
            v = ", ".join(_unique(ln.order_no for ln in lines))
        elif f == "product_order_ids":
            v = ", ".join(_unique(ln.product_order_id for ln in lines))
        elif f == "account":
            v = first.account
        elif f == "boxes":
            v = 1
        else:  # fixed
            v = c.value
        out.append(v)
    return out


def _lines_of(s: Session, parcel_ids: Sequence[int]) -> dict[int, list[_Line]]:
    P, L, Ord, A = m.Parcel, m.OrderLine, m.Order, m.ChannelAccount
    out: dict[int, list[_Line]] = defaultdict(list)
    for i in range(0, len(parcel_ids), 500):
        q = (select(P.id, P.key, L.product_order_id, L.product_name, L.option_name, L.quantity, Ord.order_no,
                    Ord.recipient_name, Ord.recipient_phone, Ord.zip_code, Ord.address, Ord.delivery_message, A.name)
             .join(L, L.parcel_id == P.id).join(Ord, Ord.id == L.order_id).join(A, A.id == P.account_id)
             .where(P.id.in_(parcel_ids[i:i + 500]), L.status.in_(parcels.READY)).order_by(P.id, L.id))
        for r in s.execute(q):
            out[r[0]].append(_Line(*tuple(r)))
    return out


@dataclass(frozen=True)
class ExportResult:
    path: Path
    parcels: int
    rows: int
    parcel_keys: tuple[str, ...] = field(repr=False, default=())


def export_parcels(s: Session, template: Template, path: Path, flt: ExportFilter,
                   now: datetime | None = None) -> ExportResult:
    """Write the parcels ``flt`` selects, but for those whose lines name another courier than ``template``'s,
    to ``path`` (.xlsx) with ``template``'s columns and mark them exported. The file is written before the
    mark, in the caller's transaction: a file that cannot be saved marks nothing. Raises ``ExcelError``
    ("excel_export_failed") then."""
    template = check_template(template)
    now = now or utcnow()
    # a parcel whose lines name another courier waits for that courier's template (and is not marked)
    ids = list(s.scalars(_ready_parcels(flt, template.courier).order_by(m.Parcel.created_at, m.Parcel.id)))
    by_parcel = _lines_of(s, ids)
    rows: list[list[object]] = []
    for pid in ids:
        lines = by_parcel.get(pid, [])
        if not lines:
            continue
        if template.rows == "line":
            rows.extend(_values(template, [ln]) for ln in lines)
        else:
            rows.append(_values(template, lines))
    _write_sheet(path, template, rows)
    exported = [pid for pid in ids if by_parcel.get(pid)]
    for i in range(0, len(exported), 500):
        s.execute(update(m.Parcel).where(m.Parcel.id.in_(exported[i:i + 500])).values(exported_at=now))
    keys = tuple(by_parcel[pid][0].parcel_key for pid in exported)
    log.info("courier export (template %s, %s): %d parcels, %d rows to %s", template.id, template.courier,
             len(exported), len(rows), path.name)
    return ExportResult(Path(path), len(exported), len(rows), keys)


def _write_sheet(path: Path, template: Template, rows: Sequence[Sequence[object]]) -> None:
    """The header as the program wants it on row 1, no title: programs read the first row as headers. Text
    columns are text cells ("@"), so 010…, 06236 and the parcel key stay as written."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Sheet1")
    for col, c in enumerate(template.columns, start=1):
        wide = c.field in ("address", "items")
        ws.column_dimensions[get_column_letter(col)].width = 40 if wide else max(10, min(24, len(c.header) * 2 + 2))
    bold = Font(bold=True)
    header = []
    for c in template.columns:
        cell = WriteOnlyCell(ws, value=c.header)
        cell.font = bold
        header.append(cell)
    ws.append(header)
    for row in rows:
        out = []
        for c, v in zip(template.columns, row, strict=True):
            if c.field in _NUMBER_FIELDS:
                out.append(v)
                continue
            cell = WriteOnlyCell(ws, value=str(v) if v not in (None, "") else None)
            cell.number_format = "@"
            out.append(cell)
        ws.append(out)
    xl.save_workbook(wb, Path(path))


# ---------------------------------------------------------------------------------------------- reading a result


@dataclass(frozen=True)
class ResultFile:
    """A result sheet as read: the sheet, the file's other sheets (a workbook), how it was read."""

    path: Path
    sheet: xl.Sheet
    sheets: tuple[str, ...]
    kind: Literal["xlsx", "xls", "csv", "html"]
    encoding: str = ""


_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
TRACKING_ALIASES = ("운송장번호", "송장번호", "운송장", "등기번호", "송장", "운송장no", "송장no", "trackingnumber",
                    "trackingno", "tracking", "waybill", "waybillno", "invoiceno", "invoicenumber")
REFERENCE_ALIASES = ("고객주문번호", "고객참조", "참조번호", "고객번호", "택배키", "parcelkey", "reference",
                     "customerreference", "customerref")
ORDER_ALIASES = ("주문번호", "쇼핑몰주문번호", "orderno", "ordernumber", "orderid")
PID_ALIASES = ("상품주문번호", "productorderid", "productorderno")
RESULT_FIELDS: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    ("reference", "택배 키 (고객 참조)", "Parcel key (customer reference)", REFERENCE_ALIASES),
    ("order_no", "주문번호", "Order number", ORDER_ALIASES),
    ("product_order_id", "상품주문번호", "Product-order id", PID_ALIASES),
    ("tracking", "송장번호", "Tracking number", TRACKING_ALIASES),
)


def _hints(template: Template | None) -> list[str]:
    out = [*TRACKING_ALIASES, *REFERENCE_ALIASES, *ORDER_ALIASES, *PID_ALIASES]
    if template is not None:
        r = template.result
        out += [h for h in (r.reference, r.order_no, r.product_order_id, r.tracking) if h]
        out += [c.header for c in template.columns]
    return out


def read_result_file(path: Path, *, template: Template | None = None, sheet_name: str | None = None,
                     header_row: int | None = None) -> ResultFile:
    """Read a courier program's result sheet, whatever it is underneath (the content decides, not the name):
    .xlsx, an old .xls (BIFF, via python-calamine), an HTML table saved as ".xls", or CSV / tab-separated text in UTF-8
    (with or without a BOM), UTF-16 or CP949. The header row is ``header_row``, else found (the template's
    headers help, its remembered row wins a tie). Raises ``CourierSheetError`` / ``ExcelError``."""
    path = Path(path)
    name = path.name
    try:
        with open(path, "rb") as f:
            magic = f.read(8)
    except OSError as e:
        raise CourierSheetError("courier_file_unreadable", name=name, detail=repr(e)) from e
    hints = _hints(template)
    prefer = template.result.header_row if template is not None else None
    if magic.startswith(b"PK\x03\x04"):
        names = xl.sheet_names(path)
        sheet = xl.read_sheet(path, header_row, hints=hints, prefer_row=prefer, sheet_name=sheet_name)
        return ResultFile(path, sheet, names, "xlsx")
    if magic == _OLE2:
        names, title, rows = _xls_rows(path, sheet_name)
        sheet = xl.sheet_from_rows(name, title, rows, header_row, hints=hints, prefer_row=prefer)
        return ResultFile(path, sheet, names, "xls")
    raw = path.read_bytes()
    text, encoding = _decode(raw, name)
    stripped = text.lstrip()[:2048].lower()
    if stripped.startswith("<") and "<table" in text[:65536].lower():
        tables = _html_tables(text)
        if tables:
            titles = tuple(f"Table{i + 1}" for i in range(len(tables)))
            at = titles.index(sheet_name) if sheet_name in titles else 0
            sheet = xl.sheet_from_rows(name, titles[at], tables[at], header_row, hints=hints, prefer_row=prefer)
            return ResultFile(path, sheet, titles, "html", encoding)
    if "\x00" in text:
        raise CourierSheetError("courier_file_unreadable", name=name, detail="binary content")
    first = text.splitlines()[0] if text else ""
    delimiter = "\t" if first.count("\t") > first.count(",") else ","
    text_rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    sheet = xl.sheet_from_rows(name, path.stem[:31] or "Sheet1",
                               ([c if c != "" else None for c in r] for r in text_rows),
                               header_row, hints=hints, prefer_row=prefer)
    return ResultFile(path, sheet, (sheet.title,), "csv", encoding)


def _decode(raw: bytes, name: str) -> tuple[str, str]:
    """Text from a CSV as Korean PCs save it: UTF-8 with a BOM (Excel's "CSV UTF-8"), UTF-16 with a BOM
    (Excel's "Unicode text"), plain UTF-8, or CP949 (Excel's "CSV" on a Korean Windows, and most programs)."""
    if raw.startswith(codecs.BOM_UTF8):
        return raw[len(codecs.BOM_UTF8):].decode("utf-8", errors="replace"), "utf-8-sig"
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return raw.decode("utf-16", errors="replace"), "utf-16"
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("cp949"), "cp949"
    except UnicodeDecodeError as e:
        raise CourierSheetError("courier_file_unreadable", name=name, detail=repr(e)) from e


def _xls_rows(path: Path, sheet_name: str | None) -> tuple[tuple[str, ...], str, list[list[object]]]:
    """The cells of an old .xls (BIFF) sheet, read with python-calamine: numbers as it keeps them (a float,
    or an int where the file stored a small whole number), dates as dates (like .xlsx through openpyxl),
    empty cells as ``None``, rows counted from the sheet's first row so row numbers match what Excel shows."""
    from python_calamine import CalamineWorkbook

    try:
        # calamine picks its reader by the name; the content said BIFF, so a file named otherwise (a result
        # saved as ".xlsx" or with no extension) is given as bytes and calamine finds the format itself
        if path.suffix.lower() == ".xls":
            book = CalamineWorkbook.from_path(path)
        else:
            with open(path, "rb") as f:
                book = CalamineWorkbook.from_filelike(f)
        with book:
            names = tuple(book.sheet_names)
            if not names:
                raise xl.ExcelError("excel_file_empty", name=path.name, detail="no worksheet")
            title = sheet_name if sheet_name in names else names[0]
            cells = book.get_sheet_by_index(names.index(title)).to_python(skip_empty_area=False)
    except xl.ExcelError:
        raise
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as e:
        # CalamineError for a damaged file; a panic in calamine's Rust code reaches Python as pyo3's
        # PanicException, a BaseException: either way this file cannot be read, and the reader is not broken
        raise CourierSheetError("courier_file_unreadable", name=path.name, detail=repr(e)) from e
    rows: list[list[object]] = [[None if v == "" else v for v in row] for row in cells]
    return names, title, rows


class _TableParser(html.parser.HTMLParser):
    """The cells of every <table> (what a program writing "xls" as HTML puts in it)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tables: list[list[list[object]]] = []
        self._row: list[object] | None = None
        self._cell: list[str] | None = None
        self._depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self._depth += 1
            self.tables.append([])
        elif tag == "tr" and self._depth:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []
        elif tag == "br" and self._cell is not None:
            self._cell.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._row is not None and self._cell is not None:
            text = " ".join("".join(self._cell).split())
            self._row.append(text or None)
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.tables[-1].append(self._row)
            self._row = None
        elif tag == "table" and self._depth:
            self._depth -= 1

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def _html_tables(text: str) -> list[list[list[object]]]:
    p = _TableParser()
    p.feed(text)
    p.close()
    return [t for t in p.tables if t]


def guess_columns(sheet: xl.Sheet, template: Template) -> ResultColumns:
    """The result columns to start from: the template's remembered ones where the sheet has them, the parcel
    key's export header for the reference, then the usual names. A header is used once."""
    remembered = template.result
    used: set[str] = set()
    chosen: dict[str, str] = {}
    norm = {h: xl.norm_header(h) for h in sheet.headers}
    for key, _, _, aliases in RESULT_FIELDS:
        wanted = [getattr(remembered, key)]
        if key == "reference":
            wanted.append(template.header_of("parcel_key"))
        hit = next((h for h in wanted if h and h in sheet.headers and h not in used), "")
        if not hit:
            for alias in aliases:
                hit = next((h for h in sheet.headers if norm[h] == alias and h not in used), "")
                if hit:
                    break
        if hit:
            chosen[key] = hit
            used.add(hit)
    return ResultColumns(**chosen, header_row=sheet.header_row)


# ---------------------------------------------------------------------------------------------- the preview


class RowClass(enum.StrEnum):
    MATCHED = "matched"        # will bind (or was bound, in an import's result)
    ALREADY = "already"        # the parcel has this very number: no change
    REPEAT = "repeat"          # the same parcel and number as an earlier row of the file: no change
    UNKNOWN = "unknown"        # no parcel PackDesk knows (or several)
    INVALID = "invalid"        # not a number this courier issues
    USED = "used"              # the number is another parcel's or order's
    HAS_OTHER = "has_other"    # the parcel has another number already
    CANCELLED = "cancelled"    # every line of the parcel is cancelled


CLASS_TEXT: Mapping[RowClass, tuple[str, str]] = {
    RowClass.MATCHED: ("송장 등록", "Will bind"),
    RowClass.ALREADY: ("이미 같은 번호", "Already has this number"),
    RowClass.REPEAT: ("같은 파일에 반복", "Repeated in the file"),
    RowClass.UNKNOWN: ("알 수 없는 참조", "Unknown reference"),
    RowClass.INVALID: ("잘못된 송장번호", "Invalid number"),
    RowClass.USED: ("다른 택배의 번호", "Number on another parcel"),
    RowClass.HAS_OTHER: ("다른 번호가 이미 있음", "Parcel has another number"),
    RowClass.CANCELLED: ("주문 모두 취소", "All lines cancelled"),
}
NO_CHANGE = frozenset({RowClass.ALREADY, RowClass.REPEAT})
NOT_BOUND = frozenset(RowClass) - NO_CHANGE - {RowClass.MATCHED}
_REFUSAL_CLASS: Mapping[str, RowClass] = {
    "tracking_used": RowClass.USED, "parcel_has_waybill": RowClass.HAS_OTHER, "parcel_empty": RowClass.CANCELLED,
    "parcel_not_found": RowClass.UNKNOWN,
}


@dataclass(frozen=True)
class PreviewRow:
    row: int                  # the sheet's row number
    status: RowClass
    reference: str            # what the row was matched by (a parcel key, an order number…): no buyer data
    number: str               # the tracking number as it would be stored
    parcel_id: int | None = None
    parcel_key: str = ""
    code: str = ""            # why (every class but MATCHED/ALREADY), or a MATCHED row's warning
    params: Mapping[str, Any] = field(default_factory=dict)

    @property
    def reason(self) -> tuple[str, str]:
        """(Korean, English) of why; ("", "") when there is nothing to say."""
        return texts(self.code, self.params) if self.code else ("", "")

    @property
    def warning(self) -> bool:
        return self.status is RowClass.MATCHED and bool(self.code)


@dataclass(frozen=True)
class ImportPreview:
    """What importing a result sheet would do, as the database is now."""

    template: Template
    file: ResultFile
    columns: ResultColumns
    account_ids: tuple[int, ...]
    check_digit: Mapping[str, str]
    rows: tuple[PreviewRow, ...]
    check_ms: float = 0.0

    def count(self, status: RowClass) -> int:
        return sum(1 for r in self.rows if r.status is status)

    @property
    def counts(self) -> dict[RowClass, int]:
        return {c: self.count(c) for c in RowClass}

    @property
    def to_bind(self) -> int:
        return self.count(RowClass.MATCHED)

    @property
    def warnings(self) -> int:
        return sum(1 for r in self.rows if r.warning)

    @property
    def failures(self) -> tuple[PreviewRow, ...]:
        return tuple(r for r in self.rows if r.status in NOT_BOUND)


_SCIENTIFIC = re.compile(r"^[+]?(\d+)(?:\.(\d*))?[eE]([+-]?\d+)$")
_EXCEL_TEXT = re.compile(r'^=\s*"(.*)"$')  # ="612345678901": a CSV's way to keep a number as text
_WHOLE_POINT_ZERO = re.compile(r"^(\d+)\.0+$")


def number_text(value: object) -> tuple[str, str]:
    """A tracking-number cell as text, and a problem code ("" = none). Numbers as the programs write them:
    612345678901.0 → "612345678901"; "6.12346E+11" lost its digits and is refused (one that still holds all
    of them, "6.12345678901E+11", is read); a number past Excel's 15 digits may be wrong and is refused."""
    if value is None:
        return "", ""
    if isinstance(value, bool):
        return str(value), "number_not_whole"
    if isinstance(value, int):
        return str(value), ""
    if isinstance(value, float):
        if value != value or not value.is_integer():  # NaN, or a fraction
            return xl.cell_text(value), "number_not_whole"
        if abs(value) >= 1e15:
            return f"{value:.0f}", "number_float_digits"
        return str(int(value)), ""
    text = str(value).strip()
    quoted = _EXCEL_TEXT.match(text)
    if quoted:
        text = quoted.group(1).strip()
    text = text.lstrip("'")
    sci = _SCIENTIFIC.match(text)
    if sci:
        whole, frac, exp = sci.group(1), sci.group(2) or "", int(sci.group(3))
        if exp < len(frac) or exp < 0:
            return text, "number_not_whole"
        if exp > len(frac):
            return text, "number_scientific"  # the notation keeps fewer digits than the number has
        return (whole + frac).lstrip("0") or "0", ""
    point = _WHOLE_POINT_ZERO.match(text)
    return (point.group(1) if point else text), ""


@dataclass(frozen=True)
class _ParcelInfo:
    id: int
    key: str
    account_id: int
    number: str            # its waybill's tracking number, "" when none
    lines: int
    cancelled: int


@dataclass(frozen=True)
class _SheetRow:
    row: int
    reference: str
    order_no: str
    product_order_id: str
    number: object


def _sheet_rows(sheet: xl.Sheet, columns: ResultColumns) -> list[_SheetRow]:
    idx = {key: sheet.column(getattr(columns, key)) if getattr(columns, key) else None
           for key, _, _, _ in RESULT_FIELDS}
    missing: list[tuple[str, str]] = []
    if idx["reference"] is None and idx["order_no"] is None and idx["product_order_id"] is None:
        missing.append(("택배 키 또는 주문번호", "parcel key or order number"))
    if idx["tracking"] is None:
        missing.append(("송장번호", "tracking number"))
    if missing:
        raise CourierSheetError("courier_columns_missing", fields=Words(", ".join(k for k, _ in missing),
                                                                        ", ".join(e for _, e in missing)))

    def get(values: tuple[object, ...], key: str) -> object:
        i = idx[key]
        return values[i] if i is not None and i < len(values) else None

    return [_SheetRow(r.row, xl.cell_text(get(r.values, "reference")), xl.cell_text(get(r.values, "order_no")),
                      xl.cell_text(get(r.values, "product_order_id")), get(r.values, "tracking"))
            for r in sheet.rows]


def _in_parts(values: Sequence[Any], size: int = 500) -> Iterable[Sequence[Any]]:
    for i in range(0, len(values), size):
        yield values[i:i + size]


class _Lookup:
    """The parcels a sheet's references point at, read in a few bulk queries."""

    def __init__(self, s: Session, rows: Sequence[_SheetRow], account_ids: Sequence[int]) -> None:
        P, L, Ord = m.Parcel, m.OrderLine, m.Order
        accounts = list(account_ids)
        keys = sorted({v.strip().upper() for r in rows for v in (r.reference, r.order_no, r.product_order_id)
                       if parcels.looks_like_key(v)})
        texts_ = sorted({v for r in rows for v in (r.reference, r.order_no, r.product_order_id)
                         if v and not parcels.looks_like_key(v)})
        self.by_key: dict[str, int] = {}
        for part in _in_parts(keys):
            q = select(P.key, P.id).where(P.key.in_(part))
            if accounts:
                q = q.where(P.account_id.in_(accounts))
            self.by_key.update({k: i for k, i in s.execute(q)})
        # order number / product-order id -> the parcels of its lines (None: a line with no parcel)
        self.by_order: dict[str, set[int | None]] = defaultdict(set)
        self.by_pid: dict[str, set[int | None]] = defaultdict(set)
        for part in _in_parts(texts_):
            q1 = select(Ord.order_no, L.parcel_id).join(L, L.order_id == Ord.id).where(Ord.order_no.in_(part))
            q2 = select(L.product_order_id, L.parcel_id).where(L.product_order_id.in_(part))
            if accounts:
                q1 = q1.where(Ord.account_id.in_(accounts))
                q2 = q2.where(L.account_id.in_(accounts))
            for no, pid in s.execute(q1):
                self.by_order[no].add(pid)
            for no, pid in s.execute(q2):
                self.by_pid[no].add(pid)
        ids = sorted(set(self.by_key.values()) | {i for d in (self.by_order, self.by_pid) for v in d.values()
                                                  for i in v if i is not None})
        self.parcels: dict[int, _ParcelInfo] = {}
        W = m.Waybill
        for part in _in_parts(ids):
            counts = {r.parcel_id: (r.n, r.cancelled or 0) for r in s.execute(
                select(L.parcel_id, func.count().label("n"),
                       func.sum(case((L.status == LineStatus.CANCELLED, 1), else_=0)).label("cancelled"))
                .where(L.parcel_id.in_(part)).group_by(L.parcel_id))}
            for r in s.execute(select(P.id, P.key, P.account_id, W.tracking_number)
                               .outerjoin(W, W.id == P.waybill_id).where(P.id.in_(part))):
                n, cancelled = counts.get(r.id, (0, 0))
                self.parcels[r.id] = _ParcelInfo(r.id, r.key, r.account_id, (r.tracking_number or "").upper(), n,
                                                 cancelled)

    def find(self, row: _SheetRow) -> tuple[_ParcelInfo | None, str, str, dict[str, Any]]:
        """(parcel, what it was found by, problem code, params): by parcel key, else order number, else
        product-order id (the reference cell is tried as either when it is not a key)."""
        values = (row.reference, row.order_no, row.product_order_id)
        key = next((v.strip().upper() for v in values if parcels.looks_like_key(v)), "")
        if key:
            pid = self.by_key.get(key)
            if pid is None:
                return None, key, "ref_unknown", {"reference": key}
            return self.parcels[pid], key, "", {}
        candidates = [(row.order_no, self.by_order), (row.reference, self.by_order),
                      (row.product_order_id, self.by_pid), (row.reference, self.by_pid)]
        shown = next((v for v in values if v), "")
        for value, table in candidates:
            if not value or value not in table:
                continue
            found = table[value]
            ids = {i for i in found if i is not None}
            if len(ids) == 1:
                return self.parcels[ids.pop()], value, "", {}
            if len(ids) > 1:
                return None, value, "ref_ambiguous", {"reference": value, "count": len(ids)}
            return None, value, "ref_no_parcel", {"reference": value}
        if not shown:
            return None, "", "ref_empty", {}
        return None, shown, "ref_unknown", {"reference": shown}


def _classify(s: Session, template: Template, sheet: xl.Sheet, columns: ResultColumns,
              account_ids: Sequence[int], check_digit: Mapping[str, str]) -> tuple[PreviewRow, ...]:
    courier = template.courier
    rows = _sheet_rows(sheet, columns)
    lookup = _Lookup(s, rows, account_ids)
    out: list[PreviewRow] = []
    first_of_parcel: dict[int, tuple[int, str]] = {}   # parcel -> (row, number) of its first MATCHED row
    first_of_number: dict[str, tuple[int, int]] = {}   # number -> (row, parcel)
    for r in rows:
        parcel, ref, problem, params = lookup.find(r)
        text, number_problem = number_text(r.number)
        checked = tracking.check(text, courier, check_digit)
        number = checked.number
        if parcel is None:
            out.append(PreviewRow(r.row, RowClass.UNKNOWN, ref, number, code=problem, params=params))
            continue

        def row(status: RowClass, code: str = "", shown: str = number, found: _ParcelInfo = parcel,
                at: int = r.row, by: str = ref, **p: Any) -> PreviewRow:
            return PreviewRow(at, status, by, shown, found.id, found.key, code, p)

        if number_problem:
            out.append(row(RowClass.INVALID, number_problem, shown=text, number=text))
        elif not checked.ok:
            out.append(row(RowClass.INVALID, checked.problem, **dict(checked.params or {})))
        elif parcel.number == number:
            out.append(row(RowClass.ALREADY))
        elif parcel.number:
            out.append(row(RowClass.HAS_OTHER, "parcel_has_waybill", parcel=parcel.key, current=parcel.number,
                           number=number))
        elif parcel.lines == 0 or parcel.cancelled == parcel.lines:
            out.append(row(RowClass.CANCELLED, "parcel_cancelled", parcel=parcel.key))
        elif parcel.id in first_of_parcel:
            other, current = first_of_parcel[parcel.id]
            if current == number:
                out.append(row(RowClass.REPEAT, "file_repeat", other=other))
            else:
                out.append(row(RowClass.HAS_OTHER, "file_conflict", other=other, current=current, number=number))
        elif number in first_of_number:
            out.append(row(RowClass.USED, "file_number_twice", other=first_of_number[number][0], number=number))
        elif (used := parcels.check_number(s, number, courier, check_digit, parcel.id)).problem:
            out.append(row(RowClass.USED if used.problem == "tracking_used" else RowClass.INVALID, used.problem,
                           **dict(used.params or {})))
        else:
            first_of_parcel[parcel.id] = (r.row, number)
            first_of_number[number] = (r.row, parcel.id)
            warning = "warn_check_digit" if checked.warning else ""
            out.append(row(RowClass.MATCHED, warning, number=number) if warning else row(RowClass.MATCHED))
    return tuple(out)


def preview(s: Session, template: Template, result: ResultFile, columns: ResultColumns, *,
            check_digit: Mapping[str, str] | None = None, account_ids: Sequence[int] = ()) -> ImportPreview:
    """Classify every row of the result sheet (``RowClass``) against the database; nothing is written."""
    started = time.perf_counter()
    digits = dict(check_digit or {})
    rows = _classify(s, template, result.sheet, columns, account_ids, digits)
    return ImportPreview(template, result, columns, tuple(account_ids), digits, rows,
                         (time.perf_counter() - started) * 1000)


def preview_file(db: Database, template: Template, result: ResultFile, columns: ResultColumns, *,
                 check_digit: Mapping[str, str] | None = None, account_ids: Sequence[int] = ()) -> ImportPreview:
    """``preview`` in one short read of its own."""
    with db.session() as s:
        return preview(s, template, result, columns, check_digit=check_digit, account_ids=account_ids)


# ---------------------------------------------------------------------------------------------- the import


@dataclass(frozen=True)
class ImportResult:
    rows: tuple[PreviewRow, ...]      # every row as it ended: MATCHED = bound now
    bound: int
    unchanged: int                    # already had this number (or repeated in the file)
    not_bound: int
    warnings: int
    seconds: float = 0.0
    changed_since_preview: int = 0    # rows whose class differed inside the transaction from the preview's

    @property
    def failures(self) -> tuple[PreviewRow, ...]:
        return tuple(r for r in self.rows if r.status in NOT_BOUND)


def import_preview(db: Database, p: ImportPreview, *, by: str = "", now: datetime | None = None) -> ImportResult:
    """Bind every matched row's number to its parcel, in ONE transaction. Inside it each row is classified
    again (another station may have bound a number since the preview), and each bind runs in a savepoint: a
    row refused at write time is reported with its reason and the others are bound all the same."""
    started = time.perf_counter()
    now = now or utcnow()
    source = f"{SOURCE_PREFIX}{p.file.path.name}"[:80]
    final: list[PreviewRow] = []
    with db.session() as s:
        rows = _classify(s, p.template, p.file.sheet, p.columns, p.account_ids, p.check_digit)
        changed = sum(1 for a, b in zip(rows, p.rows, strict=False) if a.status is not b.status)
        for r in rows:
            if r.status is not RowClass.MATCHED or r.parcel_id is None:
                final.append(r)
                continue
            try:
                with s.begin_nested():
                    parcels.bind(s, r.parcel_id, p.template.courier, r.number, now=now, source=source,
                                 check_digit=p.check_digit)
                final.append(r)
            except parcels.BindRefused as e:
                status = _REFUSAL_CLASS.get(e.code, RowClass.INVALID)
                final.append(PreviewRow(r.row, status, r.reference, r.number, r.parcel_id, r.parcel_key, e.code,
                                        dict(e.params)))
            except IntegrityError as e:  # a station bound it between our check and our write
                log.info("courier import row %s: bind raced another station (%s)", r.row, type(e).__name__)
                final.append(PreviewRow(r.row, RowClass.USED, r.reference, r.number, r.parcel_id, r.parcel_key,
                                        "tracking_used", {"number": r.number, "used_by": "?"}))
    bound = sum(1 for r in final if r.status is RowClass.MATCHED)
    unchanged = sum(1 for r in final if r.status in NO_CHANGE)
    result = ImportResult(tuple(final), bound, unchanged, len(final) - bound - unchanged,
                          sum(1 for r in final if r.warning), time.perf_counter() - started, changed)
    log.info("courier import of %s (template %s, %s) by %s: %d bound, %d unchanged, %d not bound, %d warnings, "
             "%.2f s", p.file.path.name, p.template.id, p.template.courier, by or "-", result.bound,
             result.unchanged, result.not_bound, result.warnings, result.seconds)
    return result


def write_failure_file(path: Path, result_file: ResultFile, rows: Iterable[PreviewRow]) -> int:
    """The rows not bound, as they were in the result sheet (its title rows and header too), with the class
    and the reason in Korean and English in a last column, like the Excel orders import's failure file.
    Returns the rows written."""
    errors = []
    for r in rows:
        if r.status not in NOT_BOUND:
            continue
        ko_class, en_class = CLASS_TEXT[r.status]
        ko, en = r.reason
        errors.append(xl.RowError(r.row, "", r.code, f"{ko_class} — {ko}" if ko else ko_class,
                                  f"{en_class} — {en}" if en else en_class))
    return xl.write_failure_file(Path(path), result_file.sheet, errors)
