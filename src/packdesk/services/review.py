"""The supervisor's recordings review, without Qt: search, a pack's history, claims (keep, note), clip export.

Search is written for a million recordings and more (``bench/review_search.py``), in portable Core SQL:
- every text search is an exact or prefix match on an indexed column, never ``LIKE '%x%'``: a waybill on
  ``recordings.tracking_number``; an order number on the ``orders (account_id, order_no)`` unique index (the
  account list is tiny, so ``account_id IN (1, 2, 3) AND order_no …`` is an index range per account);
  a recipient name on ``orders.recipient_name`` (indexed by migration 0009; without it a name search read
  the whole orders table, ~115 ms at a million);
  orders reach recordings through their lines' waybill (``order_lines.order_id`` and
  ``waybills.tracking_number`` are indexed), so a pack that was cancelled or never completed is found too,
  not only the lines a completed pack marked;
- a prefix is a range (``col >= 'abc' AND col < 'abd'``), which both SQLite and PostgreSQL (C collation,
  as ``scripts/pg-test-server.sh`` makes it) answer from a b-tree index; ``LIKE 'abc%'`` is not indexable in
  SQLite's default case-insensitive mode;
- a text search first collects at most ``CANDIDATES`` matching waybills (one short index scan each), then
  reads their recordings by ``tracking_number``: the work is bounded whatever the text, and a text that
  matches more (a short prefix) says so (``capped``) instead of sorting the whole table;
- without text, recordings come newest first from the ``started_at`` index, filtered by station and packer,
  and the scan stops after one page (``PAGE`` rows); the next page continues from the last row's
  (started_at, id) (keyset paging: no OFFSET, so page 50 costs what page 1 does).

Clip export: the original file byte for byte (.ts, its hash the one the index and chain hold); the whole
video as .mp4 by packet copy (no re-encoding, every frame); or a range, cut from the H.264 stream without
re-encoding from the keyframe at or before the in point (the clip may start up to ``max_keyframe_gap_ms``
early), or, when that keyframe is further back (x264 puts one every ~8 s) or an exact cut is asked for,
that range alone re-encoded. Clips are .mp4, the container every phone and PC plays.
"""

from __future__ import annotations

import enum
import logging
import math
import shutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from fractions import Fraction
from pathlib import Path
from typing import Any, NamedTuple

from sqlalchemy import Select, and_, func, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from packdesk.core import models as m
from packdesk.core.db import changed_rows
from packdesk.core.enums import PackOutcome, RecordingStatus, ScanKind
from packdesk.core.errors import KnownError
from packdesk.core.filenames import safe_file_part
from packdesk.core.kst import kst
from packdesk.core.text import search_text

log = logging.getLogger("packdesk.review")

PAGE = 250               # rows one search returns; the table asks for the next page as it is scrolled
CANDIDATES = 2000        # waybills one text search may match before it says "narrow it down"
MAX_NOTE = 4000


class SearchField(enum.StrEnum):
    ANY = "any"              # waybill or order number; a recipient name too when the text has letters
    WAYBILL = "waybill"
    ORDER = "order"
    RECIPIENT = "recipient"


@dataclass(frozen=True)
class SearchQuery:
    text: str = ""
    field: SearchField = SearchField.ANY
    since: datetime | None = None    # recordings started at or after (aware)
    until: datetime | None = None    # … and before (aware, exclusive)
    station: str = ""
    packer: str = ""
    limit: int = PAGE
    after: tuple[datetime, int] | None = None  # keyset: the (started_at, id) of the last row already shown


class RecordingRow(NamedTuple):
    """One recording as the results table shows it (a named tuple: a search builds thousands)."""

    id: int
    tracking_number: str
    order_nos: str
    station: str
    packer_name: str
    started_at: datetime
    duration_ms: int
    size_bytes: int
    status: RecordingStatus
    pack_outcome: PackOutcome
    keep: bool
    note: str
    deleted: bool            # retention removed the file; the row stays
    path: str
    recorder: str
    pack_session_id: int | None
    pack_key: str
    recipient_name: str      # the first order's recipient on this waybill ("" when none)


@dataclass(frozen=True)
class SearchResult:
    rows: list[RecordingRow]
    more: bool               # another page follows (``SearchQuery.after`` = the last row's started_at, id)
    capped: bool = False     # the text matched more than ``CANDIDATES`` waybills: narrow it down

    @property
    def next_after(self) -> tuple[datetime, int] | None:
        return (self.rows[-1].started_at, self.rows[-1].id) if self.more and self.rows else None


class ReviewError(KnownError):
    """Review actions a person can act on: the code selects the words (``ui/review_view.py``)."""


# ---------------------------------------------------------------- search

def _prefix_upper(text: str) -> str:
    """The smallest string above every string starting with ``text`` (code-point order)."""
    last = ord(text[-1])
    return text[:-1] + chr(last + 1) if last < 0x10FFFF else text + "\U0010ffff"


def prefix_match(col: Any, text: str) -> ColumnElement[bool]:
    """``col`` starts with ``text``, as an index range (exact match included)."""
    return and_(col >= text, col < _prefix_upper(text))


_R = m.Recording
# the recipient per row: a correlated lookup through indexed keys (waybill number -> lines -> order), done
# only for the rows a page returns; one statement, so no second round trip with a long IN list
_RECIPIENT = (select(m.Order.recipient_name)
              .join(m.OrderLine, m.OrderLine.order_id == m.Order.id)
              .join(m.Waybill, m.Waybill.id == m.OrderLine.waybill_id)
              .where(m.Waybill.tracking_number == _R.tracking_number)
              .order_by(m.Order.id).limit(1).correlate(_R).scalar_subquery())
_ROW_COLS = (_R.id, _R.tracking_number, _R.order_nos, _R.station, _R.packer_name, _R.started_at, _R.duration_ms,
             _R.size_bytes, _R.status, _R.pack_outcome, _R.keep, _R.note, _R.deleted_at.is_not(None).label("deleted"),
             _R.path, _R.recorder, _R.pack_session_id, _R.pack_key,
             func.coalesce(_RECIPIENT, "").label("recipient_name"))  # in RecordingRow's order


def _rows(s: Session, stmt: Select[*tuple[Any, ...]]) -> list[RecordingRow]:
    """Core execution straight into named tuples: no ORM result layer for thousands of rows."""
    return [RecordingRow._make(r) for r in s.connection().execute(stmt)]


def _has_letters(text: str) -> bool:
    return any(c.isalpha() for c in text)


def _waybills_of_orders(s: Session, cond: ColumnElement[bool], cap: int) -> list[str]:
    """Tracking numbers of the waybills whose lines belong to the orders matching ``cond``."""
    Ord, L, W = m.Order, m.OrderLine, m.Waybill
    q = (select(W.tracking_number).distinct()
         .join(L, L.waybill_id == W.id).join(Ord, Ord.id == L.order_id).where(cond).limit(cap))
    return list(s.scalars(q))


def _order_no_match(s: Session, text: str) -> ColumnElement[bool]:
    """``order_no`` has no index of its own, but ``(account_id, order_no)`` is unique: naming every account
    (a handful, as literal values) lets both engines range-scan that index once per account."""
    accounts = list(s.scalars(select(m.ChannelAccount.id)))
    return and_(m.Order.account_id.in_(accounts), prefix_match(m.Order.order_no, text))


def matching_waybills(s: Session, text: str, fld: SearchField, cap: int = CANDIDATES) -> tuple[list[str], bool]:
    """Tracking numbers the text names (as a waybill, an order number or a recipient), at most ``cap``;
    the flag says whether there may be more."""
    fld = SearchField(fld)  # a plain string from a widget's item data works too
    text = search_text(text)
    if not text:
        return [], False
    found: dict[str, None] = {}
    more = False

    def add(numbers: Iterable[str]) -> None:
        nonlocal more
        for n in numbers:
            found.setdefault(n, None)
        more = more or len(found) > cap

    R = m.Recording
    if fld in (SearchField.ANY, SearchField.WAYBILL):
        add(s.scalars(select(R.tracking_number).distinct().where(prefix_match(R.tracking_number, text))
                      .limit(cap + 1)))
    if fld in (SearchField.ANY, SearchField.ORDER):
        add(_waybills_of_orders(s, _order_no_match(s, text), cap + 1))
    if fld is SearchField.RECIPIENT or (fld is SearchField.ANY and _has_letters(text)):
        add(_waybills_of_orders(s, prefix_match(m.Order.recipient_name, text), cap + 1))
    numbers = list(found)
    return numbers[:cap], more


def _filters(q: SearchQuery) -> list[ColumnElement[bool]]:
    R = m.Recording
    conds: list[ColumnElement[bool]] = []
    if q.since is not None:
        conds.append(R.started_at >= q.since)
    if q.until is not None:
        conds.append(R.started_at < q.until)
    if q.station:
        conds.append(R.station == q.station)
    if q.packer:
        conds.append(R.packer_name == q.packer)
    if q.after is not None:  # the next page, newest first; written so the started_at index bounds it
        at, rid = q.after
        conds.append(and_(R.started_at <= at, or_(R.started_at < at, R.id < rid)))
    return conds


def search(s: Session, q: SearchQuery) -> SearchResult:
    """Recordings matching the query, newest first, one page of at most ``q.limit``."""
    R = m.Recording
    text = search_text(q.text)
    stmt: Select[*tuple[Any, ...]] = select(*_ROW_COLS).where(*_filters(q))
    capped = False
    if text:
        numbers, capped = matching_waybills(s, text, q.field)
        if not numbers:
            return SearchResult([], False)
        stmt = stmt.where(R.tracking_number.in_(numbers))
    rows = _rows(s, stmt.order_by(R.started_at.desc(), R.id.desc()).limit(q.limit + 1))
    return SearchResult(rows[: q.limit], len(rows) > q.limit, capped)


def recording(s: Session, recording_id: int) -> RecordingRow | None:
    rows = _rows(s, select(*_ROW_COLS).where(m.Recording.id == recording_id))
    return rows[0] if rows else None


def known_stations(s: Session) -> list[str]:
    """Stations that have chained recordings: one index probe per station on ``recording_chain (station,
    seq)`` (a loose index scan written portably), not a scan of the table."""
    C = m.ChainEntry
    names: list[str] = []
    last: str | None = None
    while len(names) < 200:
        q = select(C.station).order_by(C.station).limit(1)
        if last is not None:
            q = q.where(C.station > last)
        last = s.scalar(q)
        if last is None:
            break
        names.append(last)
    return names


def packer_names(s: Session) -> list[str]:
    return list(s.scalars(select(m.Packer.name).order_by(m.Packer.name)))


# ---------------------------------------------------------------- claims

def set_keep(s: Session, recording_id: int, keep: bool) -> None:
    """A claimed recording is kept: retention (``services/retention.py``) never deletes it."""
    if changed_rows(s.execute(update(m.Recording).where(m.Recording.id == recording_id).values(keep=keep))) != 1:
        raise ReviewError("recording_not_found", recording_id=recording_id)
    log.info("recording %d keep=%s", recording_id, keep)


def set_note(s: Session, recording_id: int, note: str) -> None:
    if changed_rows(s.execute(update(m.Recording).where(m.Recording.id == recording_id)
                              .values(note=note[:MAX_NOTE]))) != 1:
        raise ReviewError("recording_not_found", recording_id=recording_id)


# ---------------------------------------------------------------- pack history

@dataclass(frozen=True)
class ScanRow:
    id: int
    scanned_at: datetime
    code: str
    kind: ScanKind
    accepted: bool
    reason: str              # the station's message code for a refusal (``core.station.Msg``)
    item_name: str
    packer_name: str
    station: str
    offset_ms: int | None = None   # where it is in the video (scan time - first frame), when it has one
    quantity: int = 1              # units counted: more than one when the scan confirmed a count barcode


@dataclass(frozen=True)
class PackRecord:
    session_id: int
    key: str
    tracking_number: str
    station: str
    packer_name: str
    started_at: datetime
    ended_at: datetime | None
    outcome: PackOutcome
    scans: list[ScanRow]
    recordings: list[RecordingRow]


@dataclass(frozen=True)
class OrderInfo:
    order_no: str
    recipient_name: str
    products: list[str]      # "name option × qty (status)"


@dataclass(frozen=True)
class PackHistory:
    tracking_numbers: list[str]
    orders: list[OrderInfo]
    packs: list[PackRecord]
    loose_scans: list[ScanRow] = field(default_factory=list)  # scans of the waybill outside any pack (refused)
    loose_recordings: list[RecordingRow] = field(default_factory=list)  # recordings with no pack session row

    @property
    def empty(self) -> bool:
        return not (self.orders or self.packs or self.loose_scans or self.loose_recordings)


def _scan_rows(s: Session, cond: ColumnElement[bool]) -> list[ScanRow]:
    E, It = m.ScanEvent, m.Item
    q = (select(E.id, E.scanned_at, E.code, E.kind, E.accepted, E.reason, E.packer_name, E.station, It.name,
                It.option_name, E.quantity)
         .outerjoin(It, It.id == E.item_id).where(cond).order_by(E.scanned_at, E.id))
    return [ScanRow(r.id, r.scanned_at, r.code, r.kind, r.accepted, r.reason,
                    f"{r.name} {r.option_name}".strip() if r.name else "", r.packer_name, r.station,
                    quantity=r.quantity or 1)
            for r in s.execute(q)]


def pack_scans(s: Session, pack_session_id: int) -> list[ScanRow]:
    """A pack's scans, accepted or refused, in time order, with their items' names."""
    return _scan_rows(s, m.ScanEvent.pack_session_id == pack_session_id)


def pack_history(s: Session, text: str) -> PackHistory:
    """Everything about one waybill, or the waybills of one order: orders and products, every pack of it
    (station, packer, start, end, outcome), every scan in each pack accepted or refused with the reason,
    scans of the waybill refused outside a pack, and the recordings."""
    text = text.strip()
    W, L, Ord, P, R = m.Waybill, m.OrderLine, m.Order, m.PackSession, m.Recording
    wb = s.execute(select(W.id, W.tracking_number).where(W.tracking_number == text)).all()
    if not wb:
        accounts = list(s.scalars(select(m.ChannelAccount.id)))
        wb = s.execute(select(W.id, W.tracking_number).distinct().join(L, L.waybill_id == W.id)
                       .join(Ord, Ord.id == L.order_id).where(Ord.account_id.in_(accounts), Ord.order_no == text)).all()
    numbers = [r.tracking_number for r in wb] or [text]
    ids = [r.id for r in wb]
    orders: list[OrderInfo] = []
    if ids:
        order_ids = select(L.order_id).where(L.waybill_id.in_(ids)).scalar_subquery()
        by_order: dict[int, OrderInfo] = {}
        for r in s.execute(select(Ord.id, Ord.order_no, Ord.recipient_name, L.product_name, L.option_name, L.quantity,
                                  L.status).join(L, L.order_id == Ord.id).where(Ord.id.in_(order_ids))
                           .order_by(Ord.order_no, L.id)):
            info = by_order.setdefault(r.id, OrderInfo(r.order_no, r.recipient_name, []))
            info.products.append(f"{r.product_name} {r.option_name}".strip() + f" × {r.quantity} ({r.status})")
        orders = list(by_order.values())
    packs: list[PackRecord] = []
    seen_recordings: set[int] = set()
    if ids:
        sessions = s.execute(select(P.id, P.key, P.station, P.packer_name, P.started_at, P.ended_at, P.outcome,
                                    W.tracking_number).join(W, W.id == P.waybill_id)
                             .where(P.waybill_id.in_(ids)).order_by(P.started_at, P.id)).all()
        for p in sessions:
            recs = _rows(s, select(*_ROW_COLS).where(R.pack_session_id == p.id).order_by(R.started_at, R.id))
            seen_recordings.update(r.id for r in recs)
            packs.append(PackRecord(p.id, p.key, p.tracking_number, p.station, p.packer_name, p.started_at,
                                    p.ended_at, p.outcome, _scan_rows(s, m.ScanEvent.pack_session_id == p.id),
                                    recs))
    loose_recs = [r for r in _rows(s, select(*_ROW_COLS).where(R.tracking_number.in_(numbers))
                                   .order_by(R.started_at, R.id)) if r.id not in seen_recordings]
    E = m.ScanEvent
    loose = _scan_rows(s, and_(E.code.in_(numbers), E.pack_session_id.is_(None))) if wb else []
    return PackHistory(numbers if wb else [], orders, packs, loose, loose_recs)


def scans_in_video(s: Session, recording_id: int) -> list[ScanRow]:
    """The scans of a recording's pack, each with its offset in the video: scan time minus the first
    frame's time (a recording starts with the camera's pre-roll, so the waybill scan is a second or more
    in). Scans before the first frame or after the last get no offset."""
    R = m.Recording
    rec = s.execute(select(R.pack_session_id, R.pack_key, R.started_at, R.ended_at, R.duration_ms)
                    .where(R.id == recording_id)).first()
    if rec is None:
        raise ReviewError("recording_not_found", recording_id=recording_id)
    sid = rec.pack_session_id
    if sid is None and rec.pack_key:
        sid = s.scalar(select(m.PackSession.id).where(m.PackSession.key == rec.pack_key))
    if sid is None:
        return []
    duration = rec.duration_ms or (int((rec.ended_at - rec.started_at).total_seconds() * 1000)
                                   if rec.ended_at else 0)
    out = []
    for sc in _scan_rows(s, m.ScanEvent.pack_session_id == sid):
        off = round((sc.scanned_at - rec.started_at).total_seconds() * 1000)
        ok = off >= 0 and (duration <= 0 or off <= duration + 1000)
        out.append(ScanRow(sc.id, sc.scanned_at, sc.code, sc.kind, sc.accepted, sc.reason, sc.item_name,
                           sc.packer_name, sc.station, min(off, duration) if ok and duration > 0 else
                           (off if ok else None), sc.quantity))
    return out


# ---------------------------------------------------------------- export

class ExportMethod(enum.StrEnum):
    COPY = "copy"            # the original file, byte for byte (its SHA-256 is the one the index holds)
    REMUX = "remux"          # packets copied into .mp4, no re-encoding: starts at a keyframe
    REENCODE = "reencode"    # decoded and encoded again: cut at the exact frame


@dataclass(frozen=True)
class ExportResult:
    path: Path
    method: ExportMethod
    start_ms: int            # what the clip really covers, in the source video's time
    end_ms: int
    requested_start_ms: int
    requested_end_ms: int


def recording_and_scans(s: Session, recording_id: int) -> tuple[RecordingRow, list[ScanRow]]:
    """What the review screen shows of one recording, in one read; a recording gone meanwhile is refused."""
    row = recording(s, recording_id)
    if row is None:
        raise ReviewError("recording_not_found", recording_id=recording_id)
    return row, scans_in_video(s, recording_id)


def _mmss(ms: int, up: bool = False) -> str:
    sec = math.ceil(ms / 1000) if up else ms // 1000
    return f"{sec // 60:02d}m{sec % 60:02d}s"


def clip_name(tracking_number: str, started_at: datetime, start_ms: int, end_ms: int, suffix: str = ".mp4") -> str:
    """``<waybill>_<YYYYMMDD-HHMMSS>_<start>-<end>.mp4``: the recording's start in the station's local time
    (the time the overlay shows), then the range within the video, e.g. ``…_00m03s-00m12s.mp4``."""
    stamp = kst(started_at).strftime("%Y%m%d-%H%M%S")
    return f"{safe_file_part(tracking_number)}_{stamp}_{_mmss(start_ms)}-{_mmss(end_ms, up=True)}{suffix}"


def _free_path(folder: Path, name: str) -> Path:
    path = folder / name
    stem, suffix = path.stem, path.suffix
    n = 2
    while path.exists():
        path = folder / f"{stem}_{n}{suffix}"
        n += 1
    return path


@dataclass(frozen=True)
class VideoInfo:
    duration_ms: int
    fps: float
    keyframes_ms: list[int]  # presentation times of the keyframes, from the first frame
    frames_ms: list[int] = field(default_factory=list)  # every frame's time: the camera's clock, not a grid


def _require_file(src: Path) -> None:
    if not src.is_file():
        raise ReviewError("recording_file_missing", detail=str(src), path=str(src))


def probe(src: Path) -> VideoInfo:
    """Duration, frame rate, keyframe and frame times, read from the packets (no decoding)."""
    import av

    _require_file(src)
    with av.open(str(src)) as inp:
        s = inp.streams.video[0]
        tb, t0 = s.time_base or Fraction(1, 90000), s.start_time or 0
        keys: list[int] = []
        frames: list[int] = []
        for pk in inp.demux(s):
            if pk.pts is None:
                continue
            at = int((pk.pts - t0) * tb * 1000)
            frames.append(at)
            if pk.is_keyframe:
                keys.append(at)
        declared = float(s.average_rate or s.guessed_rate or 30)
    frames.sort()
    last = frames[-1] if frames else 0
    # the rate the frames were filmed at. Not FFmpeg's guess: our MPEG-TS carries no rate, and the recorder
    # stamps frames with the camera's own times, a few ms uneven on a busy PC; from those FFmpeg guesses 120
    # or 2000 fps, and the clip export and the player's frame step would use that
    fps = (len(frames) - 1) * 1000 / (last - frames[0]) if len(frames) > 1 and last > frames[0] else declared
    return VideoInfo(last + round(1000 / fps) if fps else last, fps, sorted(keys), frames)


def playable_copy(src: Path, dest: Path) -> Path:
    """The whole recording as .mp4 by packet copy (milliseconds for a pack-length video). The player plays
    this: Qt's FFmpeg backend seeks an MPEG-TS to the next keyframe (up to 8 s off), an MP4 to the frame."""
    _remux(src, dest, None, None)
    return dest


def _remux(src: Path, dest: Path, from_key_ms: int | None, end_ms: int | None) -> tuple[int, int]:
    """Copy packets from the keyframe at ``from_key_ms`` (or the start) through ``end_ms`` (or the end) into
    an .mp4. Returns the (first, last) frame times copied."""
    import av

    dest.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(src)) as inp, av.open(str(dest), "w", format="mp4", options={"movflags": "+faststart"}) as out:
        s = inp.streams.video[0]
        tb, t0 = s.time_base or Fraction(1, 90000), s.start_time or 0
        o = out.add_stream_from_template(s)
        started = from_key_ms is None
        shift: int | None = None
        first_ms, last_ms = -1, 0
        for pk in inp.demux(s):
            if pk.dts is None or pk.pts is None:
                continue
            at = int((pk.pts - t0) * tb * 1000)
            if not started:
                if not (pk.is_keyframe and at >= (from_key_ms or 0)):
                    continue
                started = True
            if end_ms is not None and int((pk.dts - t0) * tb * 1000) > end_ms:
                break  # decode order: every frame shown up to end_ms has been copied (dts <= pts)
            if shift is None:
                shift = pk.dts
            first_ms = at if first_ms < 0 else min(first_ms, at)
            last_ms = max(last_ms, at)
            pk.pts -= shift
            pk.dts -= shift
            pk.stream = o
            out.mux(pk)
    return max(first_ms, 0), last_ms


def _reencode(src: Path, dest: Path, start_ms: int, end_ms: int, fps: float) -> tuple[int, int]:
    import av

    dest.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(src)) as inp, av.open(str(dest), "w", format="mp4", options={"movflags": "+faststart"}) as out:
        s = inp.streams.video[0]
        tb, t0 = s.time_base or Fraction(1, 90000), s.start_time or 0
        o = out.add_stream("libx264", rate=round(fps) or 30, options={"preset": "veryfast", "crf": "23"})
        o.width, o.height, o.pix_fmt = s.codec_context.width, s.codec_context.height, "yuv420p"
        o.codec_context.time_base = Fraction(1, 1000)
        first_ms, last_ms = -1, 0
        for frame in inp.decode(s):
            if frame.pts is None:
                continue
            at = int((frame.pts - t0) * tb * 1000)
            if at < start_ms:
                continue
            if at > end_ms:
                break
            if first_ms < 0:
                first_ms = at
            last_ms = at
            out_frame = frame.reformat(format="yuv420p")  # a fresh frame: no picture type carried over
            out_frame.pts, out_frame.time_base = at - start_ms, Fraction(1, 1000)
            for pk in o.encode(out_frame):
                out.mux(pk)
        for pk in o.encode():
            out.mux(pk)
    if first_ms < 0:
        dest.unlink(missing_ok=True)
        raise ReviewError("export_empty_range", detail=f"{src} {start_ms}-{end_ms}")
    return first_ms, last_ms


def export_clip(src: Path, dest_dir: Path, *, tracking_number: str, started_at: datetime,
                start_ms: int | None = None, end_ms: int | None = None, exact: bool = False,
                max_keyframe_gap_ms: int = 1000, original: bool = False,
                progress: Callable[[str], None] | None = None) -> ExportResult:
    """Export a recording into ``dest_dir`` under a name that says what it is (``clip_name``).

    - ``original``: the file itself, copied byte for byte (.ts; its hash matches the index and the chain);
    - no range: the whole video as .mp4 by packet copy (every frame, nothing re-encoded);
    - a range: packet copy from the keyframe at or before ``start_ms`` when that keyframe is at most
      ``max_keyframe_gap_ms`` early, else (or with ``exact``) the range alone, re-encoded.
    """
    _require_file(src)
    dest_dir.mkdir(parents=True, exist_ok=True)
    info = probe(src)
    if original:
        name = clip_name(tracking_number, started_at, 0, info.duration_ms, suffix=src.suffix or ".ts")
        dest = _free_path(dest_dir, name)
        shutil.copy2(src, dest)
        return ExportResult(dest, ExportMethod.COPY, 0, info.duration_ms, 0, info.duration_ms)
    whole = start_ms is None and end_ms is None
    req_start = max(0, start_ms or 0)
    req_end = min(info.duration_ms, end_ms if end_ms is not None else info.duration_ms)
    if req_end <= req_start:
        raise ReviewError("export_empty_range", detail=f"{req_start}-{req_end}")
    key = max((k for k in info.keyframes_ms if k <= req_start), default=info.keyframes_ms[0] if info.keyframes_ms
              else 0)
    frame_ms = 1000 / info.fps if info.fps else 34
    if whole or (not exact and req_start - key <= max_keyframe_gap_ms):
        if progress:
            progress("remux")
        tmp = dest_dir / f".{safe_file_part(tracking_number)}.part.mp4"
        first, last = _remux(src, tmp, None if whole else key, None if whole else req_end)
        method = ExportMethod.REMUX
    else:
        if progress:
            progress("reencode")
        tmp = dest_dir / f".{safe_file_part(tracking_number)}.part.mp4"
        first, last = _reencode(src, tmp, req_start, req_end, info.fps)
        method = ExportMethod.REENCODE
    end = min(info.duration_ms, round(last + frame_ms))
    dest = _free_path(dest_dir, clip_name(tracking_number, started_at, first, end))
    tmp.replace(dest)
    log.info("exported %s [%d-%d ms] by %s to %s", src.name, first, end, method, dest)
    return ExportResult(dest, method, first, end, req_start, req_end)
