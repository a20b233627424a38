"""Order sheets in Excel (수기 주문 엑셀): read an .xlsx, map its columns to our fields, check every row, and
write the two files people get back from us: an empty template and a failure file.

Like every channel this returns plain records (``OrderRecord`` / ``LineRecord``) and touches no database:
``services/excel_orders.py`` finds duplicates and stores. Sellers' sheets differ per sales platform, so the
columns are mapped by their header text (saved per platform) and guessed from common Korean and English
names the first time.

Rules kept here:
- a line's identity is ``주문번호|상품코드|옵션`` with ``#2``, ``#3``… for a repeat of the same key within one
  order of the file, so importing the same sheet twice never duplicates;
- an order is one parcel: when any of its rows has an error the whole order is held back (its other rows get
  the reason "another row of this order has an error"), so it is never packed half and shipped twice, and a
  fixed failure file numbers its lines exactly as the original would have;
- order fields left blank on a later row of the same order (merged cells, or typed once) come from the
  order's first row;
- every reason is a code with Korean and English text (``TEXT``) and carries the sheet's row number.

Qt-free; openpyxl in read-only mode for speed.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import itertools
import logging
import os
import re
import tempfile
import unicodedata
import warnings
import zipfile
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from packdesk.channels.base import LineRecord, OrderRecord
from packdesk.core.couriers import UnknownCourier, resolve
from packdesk.core.enums import LineStatus
from packdesk.core.errors import KnownError
from packdesk.core.phones import domestic
from packdesk.core.tracking import check as check_tracking
from packdesk.core.words import words

log = logging.getLogger("packdesk.excel")

MAX_QUANTITY = 1_000_000
MAX_DATA_ROWS = 100_000
MAX_PID = 64              # order_lines.product_order_id
HEADER_SCAN_ROWS = 20     # the header is looked for in the first rows (titles may sit above it)
Progress = Callable[[int, int], None]

def texts(code: str, params: Mapping[str, Any] | None = None) -> tuple[str, str]:
    """(Korean, English) for a code of this module (words in ``core/words/sheets.py``)."""
    return words(code, params)


class ExcelError(KnownError):
    """The sheet (or a file we write) cannot be used as a whole; nothing was imported or written."""

    code = "excel_error"

    @property
    def ko(self) -> str:
        return texts(self.code, self.params)[0]

    @property
    def en(self) -> str:
        return texts(self.code, self.params)[1]


# ---------------------------------------------------------------------------------------------- fields


@dataclass(frozen=True)
class Field:
    key: str
    ko: str
    en: str
    required: bool
    limit: int                 # most characters the database keeps (0: any, free text kept whole, or not text)
    aliases: tuple[str, ...]   # header names people use, compared after ``norm_header``

    @property
    def label(self) -> tuple[str, str]:
        return (self.ko, self.en)


FIELDS: tuple[Field, ...] = (
    Field("order_no", "주문번호", "Order number", True, 64,
          ("주문번호", "주문코드", "주문id", "orderno", "ordernumber", "orderid", "order")),
    Field("product_code", "상품코드", "Product code", True, 64,
          ("상품코드", "상품번호", "자체상품코드", "판매자상품코드", "품번", "품번코드", "상품id", "sku", "productcode",
           "productid", "productno", "itemcode")),
    Field("option_code", "옵션코드", "Option code", False, 128,
          ("옵션코드", "옵션", "단품코드", "옵션id", "optioncode", "option", "optionid")),
    Field("product_name", "상품명", "Product name", False, 0,
          ("상품명", "상품이름", "품명", "productname", "itemname", "product")),
    Field("option_name", "옵션명", "Option name", False, 0,
          ("옵션명", "옵션정보", "옵션내용", "옵션이름", "optionname")),
    Field("quantity", "수량", "Quantity", True, 0,
          ("수량", "주문수량", "구매수량", "개수", "qty", "quantity")),
    Field("recipient", "수취인", "Recipient", True, 500,  # indexed: services/collect.MAX_INDEXED_TEXT
          ("수취인", "수취인명", "수취인이름", "받는분", "받는분성명", "받는분이름", "받는사람", "수령인", "수령자",
           "recipient", "recipientname", "receiver", "receivername")),
    Field("phone", "연락처", "Phone", True, 40,
          ("연락처", "휴대폰", "휴대폰번호", "휴대전화", "핸드폰", "전화번호", "수취인연락처", "수취인전화번호",
           "수취인휴대폰", "받는분연락처", "받는분전화번호", "받는분핸드폰", "phone", "mobile", "tel", "telephone",
           "phonenumber")),
    Field("zip_code", "우편번호", "Zip code", False, 10,
          ("우편번호", "우편", "zip", "zipcode", "postcode", "postalcode")),
    Field("address", "주소", "Address", True, 0,
          ("주소", "배송지", "배송주소", "배송지주소", "수취인주소", "받는분주소", "기본주소", "address",
           "shippingaddress", "address1")),
    Field("address_detail", "상세주소", "Address (detail)", False, 0,
          ("상세주소", "주소상세", "배송지상세", "나머지주소", "address2", "addressdetail", "addressline2")),
    Field("message", "배송메시지", "Delivery message", False, 0,
          ("배송메시지", "배송메세지", "배송요청사항", "요청사항", "배송메모", "메모", "deliverymessage", "message",
           "memo", "note")),
    Field("courier", "택배사", "Courier", False, 0,
          ("택배사", "택배회사", "택배사명", "배송업체", "운송사", "courier", "carrier", "deliverycompany")),
    Field("tracking_number", "송장번호", "Tracking number", False, 0,
          ("송장번호", "운송장번호", "운송장", "송장", "trackingnumber", "tracking", "trackingno", "invoiceno",
           "invoicenumber", "waybill")),
)
BY_KEY: Mapping[str, Field] = {f.key: f for f in FIELDS}
REQUIRED: tuple[str, ...] = tuple(f.key for f in FIELDS if f.required)
_ORDER_FIELDS = ("recipient", "zip_code", "message")  # taken from the order's first row when blank


def norm_header(text: object) -> str:
    """A header as compared: no spaces, punctuation, "(필수)"/"required" marks or trailing digits; any case."""
    t = unicodedata.normalize("NFC", cell_text(text)).lower()
    t = re.sub(r"[(\[](필수|선택|required|optional)[)\]]", "", t)
    t = re.sub(r"[\s._\-()/\[\]*:#·]", "", t)
    return re.sub(r"\d+$", "", t) or t


def _alias_score(header: str, alias: str) -> tuple[int, int] | None:
    """How well a normalized header matches one alias: exact, then ending with it (Korean names put the head
    last: 수취인주소 is an address, 받는분연락처 a phone), then containing it; longer aliases first."""
    if header == alias:
        return (3, len(alias))
    if len(alias) < 2 or (alias.isascii() and len(alias) < 4):
        return None  # "tel", "sku" inside a longer word mean nothing
    if header.endswith(alias):
        return (2, len(alias))
    if alias in header:
        return (1, len(alias))
    return None


def guess_columns(headers: Sequence[str]) -> dict[str, str]:
    """Field key -> header, for every field some header looks like. Each header and each field is used once:
    the best matches are taken first, and among equal ones the leftmost column."""
    candidates: list[tuple[tuple[int, int], int, str, str]] = []
    for col, h in enumerate(headers):
        n = norm_header(h)
        if not n:
            continue
        for f in FIELDS:
            best = max((s for a in f.aliases if (s := _alias_score(n, a)) is not None), default=None)
            if best is not None:
                candidates.append((best, col, f.key, h))
    candidates.sort(key=lambda c: (-c[0][0], -c[0][1], c[1]))
    chosen: dict[str, str] = {}
    used: set[int] = set()
    for _, col, key, h in candidates:
        if key in chosen or col in used:
            continue
        chosen[key] = h
        used.add(col)
    return {f.key: chosen[f.key] for f in FIELDS if f.key in chosen}


# ---------------------------------------------------------------------------------------------- reading


@dataclass(frozen=True)
class SheetRow:
    row: int                       # the spreadsheet's row number
    values: tuple[object, ...]     # the cells as read (for the failure file)


@dataclass(frozen=True)
class Sheet:
    file_name: str
    title: str
    header_row: int
    headers: tuple[str, ...]               # one unique name per column: what a mapping refers to
    raw_headers: tuple[object, ...]        # the header cells as in the file
    preamble: tuple[tuple[object, ...], ...]  # the rows above the header, as in the file
    rows: tuple[SheetRow, ...]             # the non-empty rows below the header
    sheets: tuple[str, ...] = ()           # every worksheet of the workbook, in order (to choose another)

    def column(self, header: str) -> int | None:
        try:
            return self.headers.index(header)
        except ValueError:
            return None

    def first_values(self) -> dict[str, str]:
        """Header -> the first data row's text (shown beside the mapping as an example)."""
        first = self.rows[0].values if self.rows else ()
        return {h: cell_text(first[i]) if i < len(first) else "" for i, h in enumerate(self.headers)}


def cell_text(v: object) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, datetime):
        return v.strftime("%Y-%m-%d %H:%M") if (v.hour, v.minute, v.second) != (0, 0, 0) else v.date().isoformat()
    if isinstance(v, date | time):
        return v.isoformat()
    return str(v).strip()


def _column_letter(i: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(i + 1)


def _unique_headers(raw: Sequence[object]) -> tuple[str, ...]:
    seen: dict[str, int] = defaultdict(int)
    out = []
    for i, v in enumerate(raw):
        name = cell_text(v) or f"({_column_letter(i)})"
        seen[name] += 1
        out.append(name if seen[name] == 1 else f"{name} ({seen[name]})")
    return tuple(out)


def _header_score(values: Sequence[object], hints: set[str]) -> int:
    aliases = {a for f in FIELDS for a in f.aliases} | hints
    return sum(1 for v in values if (n := norm_header(v)) and n in aliases)


def read_sheet(path: Path, header_row: int | None = None, *, hints: Iterable[str] = (),
               prefer_row: int | None = None, progress: Progress | None = None,
               sheet_name: str | None = None) -> Sheet:
    """A worksheet of an .xlsx (``sheet_name``, else the likeliest: ``likeliest_sheet``): its header row
    (given, or found among the first rows as the one with the most known header names; ``hints`` are a
    saved mapping's headers, ``prefer_row`` wins ties) and its non-empty rows below; ``Sheet.sheets`` names
    every worksheet. Raises ``ExcelError`` when the file is not an .xlsx or holds no orders."""
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    path = Path(path)
    name = path.name
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl's notes about styles and extensions of other tools
            wb = load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, OSError, KeyError, ValueError, TypeError) as e:
        raise ExcelError("excel_file_unreadable", name=name, detail=repr(e)) from e
    rows_iter: Any = iter(())
    try:
        if not wb.worksheets:
            raise ExcelError("excel_file_empty", name=name, detail="no worksheet")
        hints = tuple(hints)
        ws = likeliest_sheet(wb.worksheets, hints) if sheet_name is None else next(
            (w for w in wb.worksheets if w.title == sheet_name), None)
        if ws is None:
            raise ExcelError("excel_file_empty", name=name, detail=f"no worksheet {sheet_name!r}")
        total = int(ws.max_row or 0)  # the file's own note of its size: a progress estimate only
        ws.reset_dimensions()          # some programs write a wrong one; read what is there
        rows_iter = ws.iter_rows(values_only=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sheet = sheet_from_rows(name, ws.title, rows_iter, header_row, hints=hints, prefer_row=prefer_row,
                                    progress=progress, total=total)
        return dataclasses.replace(sheet, sheets=tuple(w.title for w in wb.worksheets))
    except ExcelError:
        raise
    except (zipfile.BadZipFile, OSError, KeyError, ValueError, TypeError) as e:
        raise ExcelError("excel_file_unreadable", name=name, detail=repr(e)) from e
    finally:
        close = getattr(rows_iter, "close", None)
        if close is not None:
            close()  # an unfinished sheet reader keeps the zip file open past wb.close()
        wb.close()


def likeliest_sheet(worksheets: Sequence[Any], hints: Iterable[str] = ()) -> Any:
    """The worksheet that holds the orders: the one whose header row (among its first rows) matches the most
    known column names (and ``hints``, a saved mapping's headers); the first on a tie, or when none looks
    like an order sheet. A seller's workbook often opens on an instruction or summary sheet."""
    if len(worksheets) == 1:
        return worksheets[0]
    known = {norm_header(h) for h in hints}
    best, best_score = worksheets[0], 1  # a single matching cell is no header
    for ws in worksheets:
        # the file's own note of its width may be wrong (some programs write "A1"): read a wide enough band
        width = min(max(int(ws.max_column or 0), 100), 1000)
        rows = ws.iter_rows(max_row=HEADER_SCAN_ROWS, max_col=width, values_only=True)
        try:
            score = max((_header_score(values, known) for values in itertools.islice(rows, HEADER_SCAN_ROWS)),
                        default=0)
        finally:
            rows.close()  # an unfinished reader keeps the zip file open
        if score > best_score:
            best, best_score = ws, score
    return best


def sheet_names(path: Path) -> tuple[str, ...]:
    """The worksheets of an .xlsx, in order. Raises ``ExcelError`` when it is not one."""
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            wb = load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, OSError, KeyError, ValueError, TypeError) as e:
        raise ExcelError("excel_file_unreadable", name=Path(path).name, detail=repr(e)) from e
    try:
        return tuple(ws.title for ws in wb.worksheets)
    finally:
        wb.close()


def sheet_from_rows(name: str, title: str, rows: Iterable[Sequence[object]], header_row: int | None = None, *,
                    hints: Iterable[str] = (), prefer_row: int | None = None, progress: Progress | None = None,
                    total: int = 0) -> Sheet:
    """A ``Sheet`` from rows of cells however they were read (an .xlsx, an old .xls, a CSV): the header
    row given or found as ``read_sheet`` finds it, the non-empty rows below. Raises ``ExcelError``
    ("excel_file_empty", "excel_too_many_rows")."""
    rows_iter = iter(rows)
    head: list[tuple[object, ...]] = []
    for values in rows_iter:
        head.append(tuple(values))
        if len(head) >= HEADER_SCAN_ROWS:
            break
    if header_row is None:
        header_row = _find_header_row(head, {norm_header(h) for h in hints}, prefer_row)
    if not 1 <= header_row <= len(head):
        raise ExcelError("excel_file_empty", name=name, detail=f"header row {header_row} of {len(head)}")
    data: list[SheetRow] = []
    empty_run = 0
    n = header_row
    for n, values in enumerate(itertools.chain(head[header_row:], rows_iter), start=header_row + 1):
        if all(v is None or cell_text(v) == "" for v in values):
            empty_run += 1
            if empty_run > 10_000:
                break  # a formatted but empty tail of the sheet
            continue
        empty_run = 0
        data.append(SheetRow(n, tuple(values)))
        if len(data) > MAX_DATA_ROWS:
            raise ExcelError("excel_too_many_rows", limit=f"{MAX_DATA_ROWS:,}", detail=name)
        if progress is not None and n % 250 == 0:
            progress(n, total if total >= n else 0)  # 0: the size is not known (no or a wrong note)
    raw_header = head[header_row - 1]
    width = max([len(raw_header), *(len(r.values) for r in data)], default=0)
    while width and not any(width <= len(vals) and cell_text(vals[width - 1])
                            for vals in (raw_header, *(r.values for r in data))):
        width -= 1  # trailing columns with neither header nor data
    raw_header = tuple(raw_header[:width]) + (None,) * (width - len(raw_header))
    if not width or not data:
        raise ExcelError("excel_file_empty", name=name, detail=f"header row {header_row}, {len(data)} rows")
    if progress is not None:
        progress(n, n)
    return Sheet(name, title, header_row, _unique_headers(raw_header), raw_header,
                 tuple(head[:header_row - 1]), tuple(data))


def _find_header_row(head: Sequence[Sequence[object]], hints: set[str], prefer_row: int | None) -> int:
    scores = [_header_score(values, hints) for values in head]
    best = max(scores, default=0)
    if best >= 2:
        if prefer_row is not None and 1 <= prefer_row <= len(scores) and scores[prefer_row - 1] == best:
            return prefer_row
        return scores.index(best) + 1
    for i, values in enumerate(head):  # nothing looks like a header: the first non-empty row is one
        if any(cell_text(v) for v in values):
            return i + 1
    return 1


# ---------------------------------------------------------------------------------------------- checking


@dataclass(frozen=True)
class RowError:
    row: int
    field: str     # the field's key, "" for the whole row
    code: str
    ko: str
    en: str

    @property
    def text_ko(self) -> str:
        return f"{self.row}행: {self.ko}"

    @property
    def text_en(self) -> str:
        return f"Row {self.row}: {self.en}"


@dataclass(frozen=True)
class Parsed:
    """A sheet checked with one column mapping: the orders of the good rows, and every row's errors."""

    file_name: str
    rows_read: int
    orders: tuple[OrderRecord, ...]
    row_of: Mapping[str, int]            # product order id -> its sheet row
    errors: tuple[RowError, ...]         # by row
    columns: Mapping[str, str] = field(default_factory=dict)

    @property
    def error_rows(self) -> tuple[int, ...]:
        return tuple(sorted({e.row for e in self.errors}))

    @property
    def valid_rows(self) -> int:
        return len(self.row_of)


def line_key(order_no: str, product_code: str, option_code: str, n: int = 1) -> str:
    """The line's product-order id: readable when it fits the column, else the order number and a digest."""
    key = f"{order_no}|{product_code}|{option_code}" + (f"#{n}" if n > 1 else "")
    if len(key) <= MAX_PID:
        return key
    return f"{order_no[:23]}~{hashlib.sha256(key.encode()).hexdigest()[:40]}"


def _phone(v: object) -> str | None:
    """The phone as written; a number cell lost its leading 0 to Excel (010… became 10…): put it back."""
    if isinstance(v, int | float) and not isinstance(v, bool):
        if isinstance(v, float) and not v.is_integer():
            return None
        digits = str(int(v))
        text = "0" + digits if not digits.startswith("0") and 8 <= len(digits) <= 10 else digits
    else:
        text = cell_text(v)
    if not re.fullmatch(r"[\d\-()+ ]+", text) or not 8 <= sum(c.isdigit() for c in text) <= 15:
        return None
    return domestic(text)  # +82 10-2345-6780 is 010-2345-6780 (core/phones.py)


def zip_code(text: str) -> str | None:
    """The postcode as Korea writes it, or None when it is none. Five digits since 2015; a cell saved as a
    number lost its leading 0 (04524 became 4524), so four digits get it back; the old six digits (123-456
    or 123456) are kept as written. Anything else would be stored wrong on a label: refused."""
    if re.fullmatch(r"\d{5}|\d{3}-?\d{3}", text):
        return text
    if re.fullmatch(r"[1-9]\d{3}", text):
        return "0" + text
    return None


def _quantity(v: object) -> int | None:
    if isinstance(v, bool) or v is None:
        return None
    if isinstance(v, float):
        if not v.is_integer():
            return None
        v = int(v)
    elif isinstance(v, str):
        t = v.strip().replace(",", "")
        if not re.fullmatch(r"\d+(\.0+)?", t):
            return None
        v = int(t.split(".")[0])
    if isinstance(v, int) and 1 <= v <= MAX_QUANTITY:
        return v
    return None


_TRACKING = re.compile(r"[0-9A-Za-z\-]{6,30}")


def parse_rows(sheet: Sheet, columns: Mapping[str, str], status: LineStatus = LineStatus.CONFIRMED,
               check_digit: Mapping[str, str] | None = None) -> Parsed:
    """Check every row with this mapping (field key -> header) and build the orders of the good ones.
    Raises ``ExcelError`` when a required field has no column. ``check_digit``: couriers whose wrong check
    digit only warns (``core/tracking.check``)."""
    idx = {key: sheet.column(h) for key, h in columns.items() if h and key in BY_KEY}
    idx = {k: i for k, i in idx.items() if i is not None}
    missing = [BY_KEY[k] for k in REQUIRED if k not in idx]
    if missing:
        raise ExcelError("excel_required_unmapped", fields=(", ".join(f.ko for f in missing),
                                                            ", ".join(f.en for f in missing)))

    def get(values: tuple[object, ...], key: str) -> object:
        i = idx.get(key)
        return values[i] if i is not None and i < len(values) else None

    errors: dict[int, list[RowError]] = defaultdict(list)
    first_of_order: dict[str, tuple[dict[str, str], object]] = {}  # order no -> (its first row's texts, phone)
    order_rows: dict[str, list[int]] = defaultdict(list)   # order no -> its rows, in file order
    good: dict[int, tuple[dict[str, str], int, str]] = {}  # row -> (texts, quantity, courier code)

    def err(row: int, key: str, code: str, **params: Any) -> None:
        ko, en = texts(code, params)
        errors[row].append(RowError(row, key, code, ko, en))

    for r in sheet.rows:
        v = r.values
        t = {f.key: cell_text(get(v, f.key)) for f in FIELDS}
        phone_raw = get(v, "phone")
        order_no = t["order_no"]
        if order_no:
            order_rows[order_no].append(r.row)
            if order_no not in first_of_order:
                first_of_order[order_no] = (dict(t), phone_raw)
            else:  # a later row of the order: what it leaves blank is the order's (merged or typed once)
                first, first_phone = first_of_order[order_no]
                for k in _ORDER_FIELDS:
                    t[k] = t[k] or first[k]
                if not t["address"]:
                    t["address"], t["address_detail"] = first["address"], first["address_detail"]
                if not t["phone"]:
                    phone_raw, t["phone"] = first_phone, first["phone"]
        for key in REQUIRED:
            if not t[key]:
                err(r.row, key, "excel_missing_required", field=BY_KEY[key].label)
        for f in FIELDS:
            if f.limit and len(t[f.key]) > f.limit:
                err(r.row, f.key, "excel_too_long", field=f.label, limit=f.limit)
        if t["phone"]:
            phone = _phone(phone_raw)
            if phone is None:
                err(r.row, "phone", "excel_bad_phone", value=t["phone"])
            else:
                t["phone"] = phone
        if t["zip_code"]:
            zip_text = zip_code(t["zip_code"])
            if zip_text is None:
                err(r.row, "zip_code", "excel_bad_zip", value=t["zip_code"])
            else:
                t["zip_code"] = zip_text
        qty = _quantity(get(v, "quantity"))
        if qty is None and t["quantity"]:
            err(r.row, "quantity", "excel_bad_quantity", value=t["quantity"])
        courier = ""
        if t["courier"]:
            try:
                courier = resolve(t["courier"]).code
            except UnknownCourier:
                err(r.row, "courier", "excel_unknown_courier", value=t["courier"])
        if t["tracking_number"]:
            tracking = t["tracking_number"]
            bare = tracking.replace("-", "")
            if not _TRACKING.fullmatch(tracking) or len(bare) < 6:
                err(r.row, "tracking_number", "excel_bad_tracking", value=tracking)
            elif not t["courier"]:
                err(r.row, "courier", "excel_courier_missing", value=tracking)
            elif courier:  # the courier's own rule: length, check digit (a misread or mistyped number)
                checked = check_tracking(tracking, courier, check_digit)
                if not checked.ok:
                    err(r.row, "tracking_number", checked.problem, **dict(checked.params or {}))
                bare = checked.number
            t["tracking_number"] = bare  # a barcode holds the digits only: 6412-3456-7890 scans as 641234567890
        if r.row not in errors:
            good[r.row] = (t, qty or 0, courier)

    # an order with any bad row is held back whole
    orders: list[OrderRecord] = []
    row_of: dict[str, int] = {}
    for order_no, rows in order_rows.items():
        bad = [n for n in rows if n in errors]
        if bad:
            listed = ", ".join(f"{n}" for n in bad)
            for n in rows:
                if n not in errors:
                    err(n, "", "excel_order_has_errors", rows=(f"{listed}행", f"row {listed}"))
            continue
        seen: dict[tuple[str, str], int] = defaultdict(int)
        lines: list[LineRecord] = []
        for n in rows:
            t, qty, courier = good[n]
            seen[(t["product_code"], t["option_code"])] += 1
            pid = line_key(order_no, t["product_code"], t["option_code"], seen[(t["product_code"], t["option_code"])])
            row_of[pid] = n
            lines.append(LineRecord(
                product_order_id=pid, product_code=t["product_code"], option_code=t["option_code"],
                product_name=t["product_name"], option_name=t["option_name"] or (
                    t["option_code"] if "option_name" not in idx else ""),
                quantity=qty, status=status, courier_code=courier,
                tracking_number=t["tracking_number"]))
        t = good[rows[0]][0]
        address = " ".join(p for p in (t["address"], t["address_detail"]) if p)
        orders.append(OrderRecord(order_no=order_no, buyer_name="", recipient_name=t["recipient"],
                                  recipient_phone=t["phone"], zip_code=t["zip_code"], address=address,
                                  delivery_message=t["message"], ordered_at=None, paid_at=None, lines=tuple(lines)))
    all_errors = tuple(e for n in sorted(errors) for e in errors[n])
    return Parsed(sheet.file_name, len(sheet.rows), tuple(orders), row_of, all_errors, dict(columns))


# ---------------------------------------------------------------------------------------------- writing


def save_workbook(wb: Any, path: Path) -> None:
    """Saved whole or not at all: a temp file beside the target, then one rename."""
    path = Path(path)
    try:
        fd, tmp = tempfile.mkstemp(suffix=".xlsx", prefix=".packdesk-", dir=path.parent)
        os.close(fd)
        try:
            wb.save(tmp)
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    except OSError as e:
        _discard(wb)
        raise ExcelError("excel_export_failed", name=path.name, detail=repr(e)) from e


def _discard(wb: Any) -> None:
    """A write-only workbook that was never saved still has each sheet's writer open on a temporary file;
    left to the garbage collector, its generator raises into whatever runs then. Close them now."""
    for ws in getattr(wb, "worksheets", []):
        if getattr(ws, "closed", True) is False:
            with contextlib.suppress(Exception):
                ws.close()


HEADER_FILL = "DDE3EA"
REQUIRED_FILL = "FFE0B2"
TEMPLATE_TITLE = "주문"
TEMPLATE_EXAMPLE: Mapping[str, object] = {
    "order_no": "20261125-0001", "product_code": "MUG-001", "option_code": "BK", "product_name": "세라믹 머그컵",
    "option_name": "블랙", "quantity": 2, "recipient": "홍길동", "phone": "010-1234-5678", "zip_code": "06236",
    "address": "서울특별시 강남구 테헤란로 123", "address_detail": "4층", "message": "문 앞에 놓아 주세요",
    "courier": "CJ대한통운", "tracking_number": "",
}
TEMPLATE_WIDTHS: Mapping[str, int] = {
    "order_no": 18, "product_code": 14, "option_code": 12, "product_name": 24, "option_name": 14, "quantity": 8,
    "recipient": 12, "phone": 16, "zip_code": 10, "address": 40, "address_detail": 16, "message": 26,
    "courier": 14, "tracking_number": 18,
}
_TEXT_FIELDS = ("order_no", "product_code", "option_code", "phone", "zip_code", "tracking_number")


def write_template(path: Path) -> None:
    """An order sheet to fill in: Korean headers (required ones coloured), one example row, and a second sheet
    that says what each column is, in Korean and English. Code columns are text, so 010… keeps its 0."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = TEMPLATE_TITLE
    ws.append([f.ko for f in FIELDS])
    ws.append([TEMPLATE_EXAMPLE.get(f.key, "") for f in FIELDS])
    bold = Font(bold=True)
    for col, f in enumerate(FIELDS, start=1):
        cell = ws.cell(1, col)
        cell.font = bold
        cell.fill = PatternFill("solid", fgColor=REQUIRED_FILL if f.required else HEADER_FILL)
        cell.alignment = Alignment(horizontal="center", vertical="center")
        letter = get_column_letter(col)
        ws.column_dimensions[letter].width = TEMPLATE_WIDTHS.get(f.key, 14)
        if f.key in _TEXT_FIELDS:
            for r in range(2, 1001):  # typed numbers stay text (no lost leading zeros, no 1.23E+11)
                ws.cell(r, col).number_format = "@"
    ws.row_dimensions[1].height = 24
    ws.freeze_panes = "A2"

    help_ws = wb.create_sheet("안내 Help")
    help_ws.append(["열 / Column", "필수 / Required", "설명", "Description"])
    notes = {
        "order_no": ("상품마다 한 행, 같은 주문은 같은 주문번호", "One row per product; rows of one order share it"),
        "product_code": ("상품 연결에 쓰입니다", "Used to link the product to items"),
        "option_code": ("옵션이 없으면 비워 두세요", "Leave empty when there is none"),
        "quantity": ("1 이상의 정수", "A whole number, 1 or more"),
        "phone": ("숫자 8~15자리 (- 사용 가능)", "8 to 15 digits (hyphens allowed)"),
        "address": ("같은 주문의 다음 행은 비워도 됩니다", "May be left empty on later rows of the same order"),
        "courier": ("예: CJ대한통운, 롯데택배, 한진, 우체국", "e.g. CJ대한통운, 롯데택배, 한진, 우체국"),
        "tracking_number": ("있으면 입력 (택배사도 함께)", "If known (with the courier)"),
    }
    for f in FIELDS:
        ko, en = notes.get(f.key, ("", ""))
        help_ws.append([f"{f.ko} / {f.en}", "필수 / required" if f.required else "", ko, en])
    for cell in help_ws[1]:
        cell.font = bold
        cell.fill = PatternFill("solid", fgColor=HEADER_FILL)
    for letter, width in zip("ABCD", (26, 16, 44, 44), strict=True):
        help_ws.column_dimensions[letter].width = width
    save_workbook(wb, path)
    log.info("order template written to %s", path)


REASON_HEADER = "오류 사유 / Reason"


def write_failure_file(path: Path, sheet: Sheet, errors: Sequence[RowError]) -> int:
    """The rows that were not imported, as they were (the rows above the header and the header too), with
    the reasons in a last column: fix them in Excel and import this file again. Returns the rows written."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    by_row: dict[int, list[RowError]] = defaultdict(list)
    for e in errors:
        by_row[e.row].append(e)
    width = len(sheet.raw_headers)
    if width and cell_text(sheet.raw_headers[-1]) == REASON_HEADER:
        width -= 1  # a failure file failing again: its old reasons give way to the new ones
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = sheet.title[:31] or "Sheet1"
    for values in sheet.preamble:
        ws.append(list(values))
    ws.append([*sheet.raw_headers[:width], REASON_HEADER])
    written = 0
    for r in sheet.rows:
        found = by_row.get(r.row)
        if not found:
            continue
        cells = list(r.values[:width]) + [None] * (width - len(r.values))
        reason = (f"{r.row}행: " + "; ".join(e.ko for e in found) + f" / Row {r.row}: "
                  + "; ".join(e.en for e in found))
        ws.append([*cells, reason])
        written += 1
    header_at = len(sheet.preamble) + 1
    bold, red = Font(bold=True), Font(color="B71C1C")
    for cell in ws[header_at]:
        cell.font = bold
        cell.fill = PatternFill("solid", fgColor=HEADER_FILL)
    reason_col = width + 1
    ws.cell(header_at, reason_col).fill = PatternFill("solid", fgColor="FFCDD2")
    for row in ws.iter_rows(min_row=header_at + 1, min_col=reason_col, max_col=reason_col):
        for cell in row:
            cell.font = red
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    for col in range(1, width + 1):
        longest = max([len(cell_text(sheet.raw_headers[col - 1])),
                       *(len(cell_text(r.values[col - 1])) for r in sheet.rows[:200]
                         if r.row in by_row and col - 1 < len(r.values))], default=8)
        ws.column_dimensions[get_column_letter(col)].width = min(50, max(8, longest * 1.6 + 2))
    ws.column_dimensions[get_column_letter(reason_col)].width = 70
    ws.freeze_panes = ws.cell(header_at + 1, 1).coordinate
    save_workbook(wb, path)
    log.info("failure file of %s: %d rows written to %s", sheet.file_name, written, path)
    return written
