"""Returns inspection at the station: finding the original order, storing the inspection, and the desk that
runs ``core/returns.py`` inside the station service.

While returns mode is on, the station service hands every scan here first (``ReturnsDesk.take``). Commands,
condition barcodes and the items the original order sent are known from memory, at once; anything else is
looked up on the station's DB thread, queued like the station's own lookups so scans keep their order. The
video is the station's own: a ``RecordingJob`` under the inspection's key, indexed and chained by the
recorder events the station service already handles (``recordings.recording_started`` / ``_finished``).
It imports no Qt.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any

from sqlalchemy import Row, insert, or_, select, update
from sqlalchemy.orm import Session

from packdesk.core import chain, queries
from packdesk.core import models as m
from packdesk.core.enums import LineStatus, PackOutcome, RecordingStatus, ScanSource
from packdesk.core.errors import KnownError
from packdesk.core.returns import (
    BeginInspection,
    Condition,
    ConditionScanned,
    EndInspection,
    EnterReturns,
    ExpectedItem,
    LeaveReturns,
    LinkOriginal,
    LogReturnScan,
    Original,
    ReturnClosing,
    ReturnCodeScanned,
    ReturnCommandScanned,
    ReturnEffect,
    ReturnEvent,
    ReturnItemScanned,
    ReturnsMachine,
    ReturnsState,
    ReturnTimeout,
    StartReturnRecording,
)
from packdesk.core.station import ItemRef, PlaySound, Scan, Sound, StopRecording
from packdesk.devices.recorder import RecordingJob
from packdesk.services import review
from packdesk.services.returns_expected import find_expected_return

if TYPE_CHECKING:
    from packdesk.services.station import StationService

log = logging.getLogger("packdesk.returns")

# the mode's barcodes (printed on the command sheet, ``ui/barcode_sheet.py``): returns mode on, and back to packing
RETURNS_ON = "PD-CMD-RETURNS"
RETURNS_OFF = "PD-CMD-PACKING"
# a returned item's condition, scanned right after the item
CONDITION_CODES: dict[str, Condition] = {
    "PD-RET-OK": Condition.OK,
    "PD-RET-DAMAGED": Condition.DAMAGED,
    "PD-RET-MISSING": Condition.MISSING_PART,
    "PD-RET-OTHER": Condition.OTHER_PRODUCT,
}
_SENT = (LineStatus.NEW, LineStatus.CONFIRMED, LineStatus.PACKED, LineStatus.DISPATCHED, LineStatus.SHIPPED)


class ReturnNotStored(KnownError):
    code = "return_not_stored"


# ------------------------------------------------------------------ finding the original order


def find_original(s: Session, code: str) -> Original | None:
    """The original order a returned parcel's code names, from PackDesk's own data: the original waybill (or
    its parcel's packing slip), else an order number. ``None``: nothing here has this code (a courier's return
    label, most often: the station then asks for the original waybill or order number).

    A courier's return label the marketplaces told of (``services/returns_expected.py``: collected with the
    orders) is found through its expected return: the original waybill it names, else its order number."""
    code = code.strip()
    wb = _own_waybill(s, code)
    if wb is None:
        expected = find_expected_return(s, code)
        if expected is not None and expected.matched_by == "return_waybill":
            for number in (*expected.original_tracking, expected.order_no):
                if number and (wb := _own_waybill(s, number)) is not None:
                    break
    if wb is None:
        return None
    return _original(s, wb)


def _own_waybill(s: Session, code: str) -> Row[int, str, str] | None:
    """The waybill PackDesk's own data has for ``code``: a waybill, a parcel's packing slip, an order number."""
    wb = None
    parcel = queries.find_parcel(s, code)
    if parcel is not None and parcel.waybill_id is not None:
        wb = queries.find_waybill_by_id(s, parcel.waybill_id)
    if wb is None:
        wb = queries.find_waybill(s, code)
    if wb is None:
        waybill_id = s.scalar(select(m.OrderLine.waybill_id).join(m.Order, m.Order.id == m.OrderLine.order_id)
                              .where(m.Order.order_no == code, m.OrderLine.waybill_id.is_not(None))
                              .order_by(m.OrderLine.id).limit(1))
        wb = queries.find_waybill_by_id(s, waybill_id) if waybill_id is not None else None
    return wb


def _original(s: Session, wb: Row[int, str, str]) -> Original | None:
    plan = queries.load_plan(s, wb.tracking_number, wb)
    if plan is None:
        return None
    need: dict[int, int] = {}
    for ln in plan.lines:
        if ln.status in _SENT:  # what the box held: not the lines cancelled before it left
            for item_id, per_unit in ln.components:
                need[item_id] = need.get(item_id, 0) + per_unit * ln.quantity
    items = tuple(ExpectedItem(i, plan.items[i].name, plan.items[i].option_name, n, plan.items[i].barcodes)
                  for i, n in need.items() if i in plan.items)
    pack_id = s.scalar(select(m.PackSession.id).where(m.PackSession.waybill_id == wb.id,
                                                      m.PackSession.outcome == PackOutcome.COMPLETED).limit(1))
    orders = tuple(sorted({ln.order_no for ln in plan.lines}))
    return Original(wb.id, wb.tracking_number, orders, items, pack_id)


@dataclass(frozen=True)
class Looked:
    original: Original | None = None
    item: ItemRef | None = None


def look_up(s: Session, code: str, *, item_first: bool) -> Looked:
    """(DB thread) A code in returns mode: an item (what came out of the box) or an original order. With the
    original known, an item is what the packer is scanning (``item_first``); before it, the order."""
    if item_first:
        item = queries.find_item(s, code)
        return Looked(item=item) if item is not None else Looked(original=find_original(s, code))
    original = find_original(s, code)
    return Looked(original=original) if original is not None else Looked(item=queries.find_item(s, code))


# ------------------------------------------------------------------ storing (DB thread)


def _inspection_id(s: Session, key: str | None) -> int | None:
    if key is None:
        return None
    return s.scalar(select(m.ReturnInspection.id).where(m.ReturnInspection.key == key))


def _original_values(original: Original) -> dict[str, object]:
    return {"waybill_id": original.waybill_id, "order_nos": ",".join(original.order_nos),
            "original_pack_session_id": original.pack_session_id}


def begin_inspection(s: Session, fx: BeginInspection, station: str) -> int:
    values = _original_values(fx.original) if fx.original is not None else {}
    return s.execute(insert(m.ReturnInspection).values(
        key=fx.key, station=station, packer_id=fx.packer.packer_id, packer_name=fx.packer.name,
        return_code=fx.return_code[:128], started_at=fx.at, outcome=PackOutcome.OPEN, **values,
    ).returning(m.ReturnInspection.id)).scalar_one()


def link_original(s: Session, fx: LinkOriginal) -> None:
    s.execute(update(m.ReturnInspection).where(m.ReturnInspection.key == fx.key)
              .values(**_original_values(fx.original)))


def log_return_scan(s: Session, fx: LogReturnScan, station: str, packer_name: str) -> None:
    s.execute(insert(m.ReturnScan).values(
        inspection_id=_inspection_id(s, fx.key), station=station, packer_name=packer_name,
        scanned_at=fx.scan.at, code=fx.scan.code[:128], source=fx.scan.source, kind=fx.kind.value,
        accepted=fx.accepted, reason=fx.reason, item_id=fx.item_id, line_no=fx.line_no, condition=fx.condition))


def end_inspection(s: Session, fx: EndInspection) -> None:
    """Close the inspection with the items that came out, as the packer marked them, and chain it
    (``chain.append_return``: its scans, their final conditions and its outcome), in one transaction. The
    station's DB thread wrote every scan of it before this."""
    iid = _inspection_id(s, fx.key)
    if iid is None:
        raise LookupError(f"no return inspection {fx.key}")
    s.execute(update(m.ReturnInspection).where(m.ReturnInspection.id == iid)
              .values(ended_at=fx.at, outcome=fx.outcome))
    if fx.lines:
        s.execute(insert(m.ReturnItem), [
            {"inspection_id": iid, "line_no": ln.line_no, "code": ln.code[:128], "item_id": ln.item_id,
             "expected": ln.expected, "condition": ln.condition.value if ln.condition else ""}
            for ln in fx.lines])
    chain.append_return(s, iid)


def abandon_open_inspections(s: Session, station: str, at: datetime) -> int:
    """Inspections this station left open (the app was killed mid-inspection) are closed as abandoned, and
    chained as they were left (no item lines: those are written only when an inspection ends)."""
    ids = s.execute(update(m.ReturnInspection)
                    .where(m.ReturnInspection.station == station, m.ReturnInspection.outcome == PackOutcome.OPEN)
                    .values(outcome=PackOutcome.ABANDONED, ended_at=at)
                    .returning(m.ReturnInspection.id)).scalars().all()
    for iid in sorted(ids):
        chain.append_return(s, iid)
    return len(ids)


# ------------------------------------------------------------------ the desk inside the station service


class ReturnsDesk:
    """Returns mode for one station service: the machine, the lookups, and its effects carried out with the
    station's own worker, recorder and listener. ``on_state``: the screen, handed each new returns state."""

    def __init__(self, station: StationService) -> None:
        self.station = station
        self.machine = ReturnsMachine(require_recording=station.machine.config.require_recording)
        self.on_state: Callable[[ReturnsState], None] | None = None
        self._last_activity: datetime | None = None
        self._packer_name = ""

    @property
    def state(self) -> ReturnsState:
        return self.machine.state

    @property
    def open(self) -> bool:
        return self.state.inspection is not None

    def is_known_code(self, code: str) -> bool:
        code = code.strip().upper()
        return code in (RETURNS_ON, RETURNS_OFF) or code in CONDITION_CODES

    def switch(self, on: bool) -> None:
        """The menu's switch: the same as scanning the mode's barcode."""
        self.station.scan(RETURNS_ON if on else RETURNS_OFF, ScanSource.MANUAL)

    def take(self, scan: Scan) -> bool:
        """(UI thread, from the station's queue) A scan for returns mode: handled, or looked up (the station's
        queue waits for it). False: not returns mode's, the station handles it."""
        code = scan.code.upper()
        st = self.station
        if code == RETURNS_ON:
            self._handle(EnterReturns(scan, st.state.packer, st.state.pack is not None))
            return True
        if not self.state.active:  # leaving a mode that is off: nothing to do, the station's screen stays
            return code == RETURNS_OFF
        if code == RETURNS_OFF:
            self._handle(LeaveReturns(scan))
            return True
        condition = CONDITION_CODES.get(code)
        if condition is not None:
            self._handle(ConditionScanned(scan, condition))
            return True
        from packdesk.services.station import COMMAND_CODES  # that module makes this desk: imported when used
        command = COMMAND_CODES.get(code)
        if command is not None:
            self._handle(ReturnCommandScanned(scan, command))
            return True
        if not self.open and st.is_known_code(scan.code):  # a packer badge between returns: the station's
            return False
        original = self.state.inspection.original if self.state.inspection else None
        sent = original.item_for_barcode(scan.code) if original is not None else None
        if sent is not None:
            self._handle(ReturnItemScanned(scan, ItemRef(sent.item_id, sent.name, sent.option_name)))
            return True
        if not st.db_online:
            st.listener.on_sound(Sound.ERROR)
            st.listener.on_error(KnownError("db_unreachable", detail="return scan while the database is away",
                                            code_scanned=scan.code))
            return True
        st._looking_up = True
        st.worker.submit(partial(look_up, code=scan.code, item_first=original is not None),
                         on_done=partial(self._looked, scan), on_error=partial(st._lookup_failed, scan))
        return True

    def _looked(self, scan: Scan, found: Looked) -> None:
        st = self.station
        st._looking_up = False
        insp = self.state.inspection
        if found.original is None and (found.item is not None or (insp is not None and insp.original is not None)):
            self._handle(ReturnItemScanned(scan, found.item))  # no item either: what came out, by its code
        else:  # an order (to start or link), or nothing known before the original is: an unknown return label
            ok, problem = st.recorder.ready()
            self._handle(ReturnCodeScanned(scan, str(uuid.uuid4()), found.original, st.state.packer,
                                           "" if ok else problem))
        st._pump()

    def tick(self, now: datetime, idle: timedelta) -> None:
        if self.open and self._last_activity is not None and now - self._last_activity >= idle:
            self._handle(ReturnTimeout(now))

    def close(self, now: datetime) -> None:
        """PackDesk is closing: an open inspection's video stops and it is stored as closed."""
        if self.open:
            self._handle(ReturnClosing(now))

    # ------------------------------------------------------------------ effects

    def _handle(self, event: ReturnEvent) -> None:
        if not isinstance(event, ReturnTimeout | ReturnClosing):
            self._last_activity = event.scan.at
        packer = self.station.state.packer
        if packer is not None:
            self._packer_name = packer.name
        for fx in self.machine.handle(event):
            self._apply(fx)
        if self.on_state is not None:
            self.on_state(self.state)
        self.station.listener.on_state(self.station.state)  # the station's screen draws (and says it has)

    def _apply(self, fx: ReturnEffect) -> None:
        st = self.station
        name = st.station
        match fx:
            case PlaySound():
                st.listener.on_sound(fx.sound)
            case StartReturnRecording():
                job = RecordingJob(fx.key, fx.name, name, fx.packer_name, fx.at, fx.order_nos)
                st._jobs[fx.key] = job  # indexed and chained by the station's recorder events, as any pack's
                st.recorder.start(job)
            case StopRecording():
                st.recorder.stop(fx.pack_key, fx.outcome)
            case BeginInspection():
                st.worker.submit(lambda s: begin_inspection(s, fx, name), on_error=self._not_stored,
                                 keep=f"return begun {fx.return_code[:40]}")
            case LinkOriginal():
                st.worker.submit(lambda s: link_original(s, fx), on_error=self._not_stored, keep="return linked")
            case LogReturnScan():
                who = self._packer_name
                st.worker.submit(lambda s: log_return_scan(s, fx, name, who), keep=f"return scan {fx.scan.code[:40]}")
            case EndInspection():
                st.worker.submit(lambda s: end_inspection(s, fx), on_error=self._not_stored,
                                 keep=f"return end {fx.key}")
            case _:  # ShowReturnMessage: the new state carries it
                pass

    def _not_stored(self, e: BaseException) -> None:
        log.warning("return inspection not stored: %r", e)
        self.station.listener.on_sound(Sound.ERROR)
        self.station.listener.on_error(ReturnNotStored(detail=repr(e)))



# ------------------------------------------------------------------ review: the return beside its outbound pack


@dataclass(frozen=True)
class InspectionRow:
    id: int
    key: str
    return_code: str
    tracking_number: str  # the original waybill ("" while none is linked)
    order_nos: str
    station: str
    packer_name: str
    started_at: datetime
    outcome: PackOutcome


@dataclass(frozen=True)
class ReturnScanRow:
    scanned_at: datetime
    code: str
    kind: str               # core/returns.py ReturnScanKind
    accepted: bool
    reason: str
    item_name: str
    line_no: int
    condition: str
    offset_ms: int | None   # where it is in the return's video, when it has one
    id: int
    station: str
    packer_name: str


@dataclass(frozen=True)
class SideBySide:
    """What the review shows of one return: its video and scans, beside the outbound pack's video and scans."""

    inspection: InspectionRow
    return_video: review.RecordingRow | None
    return_scans: list[ReturnScanRow]
    outbound_video: review.RecordingRow | None
    outbound_scans: list[review.ScanRow]


def _inspection_rows(s: Session, *conds: Any, limit: int = 200) -> list[InspectionRow]:
    RI, W = m.ReturnInspection, m.Waybill
    q = (select(RI.id, RI.key, RI.return_code, W.tracking_number, RI.order_nos, RI.station, RI.packer_name,
                RI.started_at, RI.outcome).outerjoin(W, W.id == RI.waybill_id).where(*conds)
         .order_by(RI.started_at.desc(), RI.id.desc()).limit(limit))
    return [InspectionRow(r.id, r.key, r.return_code, r.tracking_number or "", r.order_nos, r.station,
                          r.packer_name, r.started_at, r.outcome) for r in s.execute(q)]


def list_inspections(s: Session, text: str = "", limit: int = 200) -> list[InspectionRow]:
    """The newest inspections; ``text``: only those whose return label, original waybill or order is it."""
    text = text.strip()
    if not text:
        return _inspection_rows(s, limit=limit)
    RI = m.ReturnInspection
    found = find_original(s, text)
    conds = [RI.return_code == text, RI.order_nos.contains(text, autoescape=True)]
    if found is not None and found.waybill_id is not None:
        conds.append(RI.waybill_id == found.waybill_id)
    return _inspection_rows(s, or_(*conds), limit=limit)


def _video(s: Session, cond: Any) -> review.RecordingRow | None:
    R = m.Recording
    rid = s.scalar(select(R.id).where(cond).order_by((R.status == RecordingStatus.COMPLETE).desc(), R.id.desc())
                   .limit(1))
    return review.recording(s, rid) if rid is not None else None


def inspection_row(s: Session, inspection_id: int) -> InspectionRow | None:
    """One inspection as the review lists it (also the heading of its claim bundle's texts)."""
    rows = _inspection_rows(s, m.ReturnInspection.id == inspection_id, limit=1)
    return rows[0] if rows else None


def inspection_scans(s: Session, inspection_id: int, video_started_at: datetime | None) -> list[ReturnScanRow]:
    """The inspection's scans in order, each placed in its video (``video_started_at``: that video's start) — the
    review's list beside the player, and a claim bundle's ``return_scans.csv``."""
    RS, It = m.ReturnScan, m.Item
    scans = []
    for r in s.execute(select(RS.id, RS.scanned_at, RS.code, RS.kind, RS.accepted, RS.reason, RS.line_no,
                              RS.condition, RS.station, RS.packer_name, It.name, It.option_name)
                       .outerjoin(It, It.id == RS.item_id)
                       .where(RS.inspection_id == inspection_id).order_by(RS.scanned_at, RS.id)):
        off = round((r.scanned_at - video_started_at).total_seconds() * 1000) if video_started_at else None
        scans.append(ReturnScanRow(r.scanned_at, r.code, r.kind, r.accepted, r.reason,
                                   f"{r.name} {r.option_name}".strip() if r.name else "", r.line_no, r.condition,
                                   off if off is not None and off >= 0 else None, r.id, r.station, r.packer_name))
    return scans


def side_by_side(s: Session, inspection_id: int) -> SideBySide:
    insp = inspection_row(s, inspection_id)
    if insp is None:
        raise review.ReviewError("recording_not_found", recording_id=inspection_id)
    video = _video(s, m.Recording.pack_key == insp.key)
    scans = inspection_scans(s, insp.id, video.started_at if video is not None else None)
    pack_id = s.scalar(select(m.ReturnInspection.original_pack_session_id)
                       .where(m.ReturnInspection.id == insp.id))
    out_video = _video(s, m.Recording.pack_session_id == pack_id) if pack_id is not None else None
    if out_video is not None:
        out_scans = review.scans_in_video(s, out_video.id)
    else:  # packed unfilmed (no recorder, or it failed): its scans all the same
        out_scans = next((p.scans for p in review.pack_history(s, insp.tracking_number).packs
                          if p.session_id == pack_id), []) if pack_id is not None else []
    return SideBySide(insp, video, scans, out_video, out_scans)
