"""Returns inspection (반품 검수) at the station: pure, ``(state, event) -> (state, effects)``, like
``core/station.py``.

A returned parcel is opened on camera to prove what came back (Coupang asks for such video for claims on
returned goods above ₩50,000). In returns mode the first code scanned is the return: the courier's return
label, or the original waybill or order number. The video starts at once (the box is being opened), whether
or not PackDesk knows the code; a return label it cannot place asks for the original waybill or order number,
and that scan links the inspection to the original order. Each item that comes out is scanned: one the
original order sent ticks, any other (a swapped item, a stranger's barcode) is kept as "not ours". After each
item a condition barcode marks it (정상 / 파손 / 구성품 누락 / 다른 상품); COMPLETE needs every item marked,
so the record never says less than the video shows.

The station service (``services/station.py``) switches scans here while the mode is on; the same recording
and chaining paths film and chain the inspection (``services/returns.py``).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from packdesk.core.enums import PackOutcome
from packdesk.core.station import Command, ItemRef, Level, PackerRef, PlaySound, Scan, Sound, StopRecording


class Condition(enum.StrEnum):
    """What a returned item is like, marked by its condition barcode right after its scan."""

    OK = "ok"                      # 정상
    DAMAGED = "damaged"            # 파손
    MISSING_PART = "missing_part"  # 구성품 누락
    OTHER_PRODUCT = "other_product"  # 다른 상품 (not what was sent: a swap)


class RMsg(enum.StrEnum):
    """Returns-mode message codes; their words are in ``core/words/returns.py``."""

    READY = "return_ready"                        # mode on: scan the return label, waybill or order number
    LEFT = "return_mode_left"                     # back to packing
    STARTED = "return_started"                    # original found: take the items out and scan each
    STARTED_UNKNOWN = "return_started_unknown"    # recording; the return label is unknown: scan the original
    LINKED = "return_linked"                      # the original found from the second scan
    ORIGINAL_NOT_FOUND = "return_original_not_found"
    ITEM_EXPECTED = "return_item_expected"        # an item the original sent: ticked; mark its condition
    ITEM_NOT_OURS = "return_item_not_ours"        # not in the original order: kept as "not ours"
    MARKED = "return_marked"                      # the condition set for the last item
    COMPLETE = "return_complete"
    CANCELLED = "return_cancelled"
    TIMED_OUT = "return_timed_out"
    # refusals
    PACK_OPEN = "return_pack_open"                # returns mode asked with a pack open
    PACKER_REQUIRED = "return_packer_required"
    INSPECTION_OPEN = "return_inspection_open"    # leaving (or a second return) with one open
    NO_INSPECTION = "return_no_inspection"        # an item, condition or COMPLETE with no return open
    NO_ITEM_TO_MARK = "return_no_item_to_mark"
    UNMARKED = "return_unmarked"                  # COMPLETE with items whose condition is not marked
    NO_ORIGINAL = "return_no_original"            # COMPLETE before the original order is known
    ITEM_BEFORE_ORIGINAL = "return_item_before_original"
    RECORDING_UNAVAILABLE = "return_recording_unavailable"
    LOGOUT_IN_RETURNS = "return_logout_in_returns"  # sign-out asked in returns mode: leave it first


@dataclass(frozen=True)
class ReturnMessage:
    level: Level
    code: RMsg
    params: Mapping[str, Any] = field(default_factory=dict)
    repeat: int = 1


# ---------------------------------------------------------------- what the service looks up


@dataclass(frozen=True)
class ExpectedItem:
    """An item the original parcel held, how many, and its barcodes (scans of it are known without a lookup)."""

    item_id: int
    name: str
    option_name: str
    quantity: int
    barcodes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Original:
    """The original order as PackDesk has it: its waybill, orders, outbound pack (the session that completed
    it, if any) and what went in the box."""

    waybill_id: int | None
    tracking_number: str
    order_nos: tuple[str, ...]
    items: tuple[ExpectedItem, ...]
    pack_session_id: int | None = None

    def item_for_barcode(self, code: str) -> ExpectedItem | None:
        folded = code.lower()
        for it in self.items:
            if code in it.barcodes or any(b.lower() == folded for b in it.barcodes):
                return it
        return None

    @property
    def expected(self) -> dict[int, int]:
        return {it.item_id: it.quantity for it in self.items}


# ---------------------------------------------------------------- events


@dataclass(frozen=True)
class EnterReturns:
    scan: Scan
    packer: PackerRef | None
    pack_open: bool  # the station has a pack open: finish it first


@dataclass(frozen=True)
class LeaveReturns:
    scan: Scan


@dataclass(frozen=True)
class ReturnCodeScanned:
    """A code that is no item of the open return, looked up: the original it names (None: unknown here).
    ``key``: a fresh uuid for the inspection, used only if one starts."""

    scan: Scan
    key: str
    original: Original | None
    packer: PackerRef | None
    recording_problem: str = ""


@dataclass(frozen=True)
class ReturnItemScanned:
    scan: Scan
    item: ItemRef | None  # None: no item here has this barcode (kept as "not ours", by its code)


@dataclass(frozen=True)
class ConditionScanned:
    scan: Scan
    condition: Condition


@dataclass(frozen=True)
class ReturnCommandScanned:
    scan: Scan
    command: Command  # COMPLETE or CANCEL (the packing sheet's own barcodes); LOGOUT is refused


@dataclass(frozen=True)
class ReturnTimeout:
    at: datetime


@dataclass(frozen=True)
class ReturnClosing:
    at: datetime


ReturnEvent = (EnterReturns | LeaveReturns | ReturnCodeScanned | ReturnItemScanned | ConditionScanned
               | ReturnCommandScanned | ReturnTimeout | ReturnClosing)

# ---------------------------------------------------------------- effects


@dataclass(frozen=True)
class StartReturnRecording:
    key: str
    name: str  # what the video is indexed under: the original waybill, else the code scanned
    order_nos: tuple[str, ...]
    packer_name: str
    at: datetime


@dataclass(frozen=True)
class BeginInspection:
    key: str
    return_code: str
    original: Original | None
    packer: PackerRef
    at: datetime


@dataclass(frozen=True)
class LinkOriginal:
    key: str
    original: Original


class ReturnScanKind(enum.StrEnum):
    RETURN = "return"        # the first scan: return label, waybill or order number
    ORIGINAL = "original"    # the original's waybill or order number, after an unknown return label
    ITEM = "item"
    CONDITION = "condition"
    COMMAND = "command"


@dataclass(frozen=True)
class LogReturnScan:
    key: str | None
    scan: Scan
    kind: ReturnScanKind
    accepted: bool
    reason: str = ""
    item_id: int | None = None
    line_no: int = 0  # the returned item this scan is (or marks), 1-based; 0: none
    condition: str = ""
    expected: bool = False


@dataclass(frozen=True)
class ReturnLine:
    """One item that came out of the box."""

    line_no: int
    code: str
    item_id: int | None
    name: str
    option_name: str
    expected: bool
    condition: Condition | None = None


@dataclass(frozen=True)
class EndInspection:
    key: str
    outcome: PackOutcome
    at: datetime
    lines: tuple[ReturnLine, ...]


@dataclass(frozen=True)
class ShowReturnMessage:
    message: ReturnMessage


ReturnEffect = (PlaySound | ShowReturnMessage | StartReturnRecording | StopRecording | BeginInspection
                | LinkOriginal | LogReturnScan | EndInspection)

# ---------------------------------------------------------------- state


@dataclass(frozen=True)
class Inspection:
    key: str
    return_code: str
    started_at: datetime
    original: Original | None
    lines: tuple[ReturnLine, ...] = ()

    def counts(self) -> dict[int, int]:
        """Units of each expected item that came back so far."""
        out: dict[int, int] = {}
        for ln in self.lines:
            if ln.expected and ln.item_id is not None:
                out[ln.item_id] = out.get(ln.item_id, 0) + 1
        return out

    @property
    def unmarked(self) -> tuple[ReturnLine, ...]:
        return tuple(ln for ln in self.lines if ln.condition is None)


@dataclass(frozen=True)
class ReturnsState:
    active: bool = False
    inspection: Inspection | None = None
    done: Inspection | None = None  # the inspection completed last: stays on screen until the next
    message: ReturnMessage = ReturnMessage(Level.INFO, RMsg.READY)


ReturnResult = tuple[ReturnsState, list[ReturnEffect]]


# ---------------------------------------------------------------- transitions


def step(state: ReturnsState, event: ReturnEvent, *, require_recording: bool = False) -> ReturnResult:
    match event:
        case EnterReturns():
            return _on_enter(state, event)
        case LeaveReturns():
            return _on_leave(state, event)
        case ReturnCodeScanned():
            return _on_code(state, event, require_recording)
        case ReturnItemScanned():
            return _on_item(state, event)
        case ConditionScanned():
            return _on_condition(state, event)
        case ReturnCommandScanned():
            return _on_command(state, event)
        case ReturnTimeout():
            return _end(state, PackOutcome.TIMED_OUT, event.at, [])
        case ReturnClosing():
            insp = state.inspection
            if insp is None:
                return state, []
            return replace(state, inspection=None), [StopRecording(insp.key, PackOutcome.CLOSED, event.at),
                                                     EndInspection(insp.key, PackOutcome.CLOSED, event.at,
                                                                   insp.lines)]
        case _:
            raise TypeError(f"not a returns event: {event!r}")


def _say(state: ReturnsState, level: Level, code: RMsg, sound: Sound, effects: list[ReturnEffect],
         **params: Any) -> ReturnResult:
    msg = ReturnMessage(level, code, params)
    last = state.message
    if level is Level.ERROR and (last.level, last.code, last.params) == (level, code, msg.params):
        msg = replace(msg, repeat=last.repeat + 1)
    return replace(state, message=msg), [*effects, PlaySound(sound), ShowReturnMessage(msg)]


def _key(state: ReturnsState) -> str | None:
    return state.inspection.key if state.inspection else None


def _refuse(state: ReturnsState, scan: Scan, kind: ReturnScanKind, code: RMsg, **params: Any) -> ReturnResult:
    log = LogReturnScan(_key(state), scan, kind, False, code.value)
    return _say(state, Level.ERROR, code, Sound.ERROR, [log], barcode=scan.code, **params)


def _on_enter(state: ReturnsState, ev: EnterReturns) -> ReturnResult:
    if ev.pack_open:
        return _say(state, Level.ERROR, RMsg.PACK_OPEN, Sound.ERROR, [])
    if ev.packer is None:
        return _say(state, Level.ERROR, RMsg.PACKER_REQUIRED, Sound.ERROR, [])
    if state.active:  # the mode's barcode again: nothing changes, it says what to do
        return _say(state, state.message.level, state.message.code, Sound.OK, [], **state.message.params)
    return _say(ReturnsState(active=True), Level.INFO, RMsg.READY, Sound.OK, [])


def _on_leave(state: ReturnsState, ev: LeaveReturns) -> ReturnResult:
    if state.inspection is not None:
        return _refuse(state, ev.scan, ReturnScanKind.COMMAND, RMsg.INSPECTION_OPEN,
                       return_code=state.inspection.return_code)
    return _say(ReturnsState(active=False), Level.INFO, RMsg.LEFT, Sound.OK, [])


def _on_code(state: ReturnsState, ev: ReturnCodeScanned, require_recording: bool) -> ReturnResult:
    insp, scan = state.inspection, ev.scan
    if insp is not None:
        if insp.original is not None:  # a code that is no item and names an order: not what came out
            if ev.original is not None:
                return _refuse(state, scan, ReturnScanKind.RETURN, RMsg.INSPECTION_OPEN, return_code=insp.return_code)
            return _item(state, scan, None)
        if ev.original is None:
            return _refuse(state, scan, ReturnScanKind.ORIGINAL, RMsg.ORIGINAL_NOT_FOUND)
        linked = replace(insp, original=ev.original)
        state = replace(state, inspection=linked)
        log = LogReturnScan(insp.key, scan, ReturnScanKind.ORIGINAL, True)
        return _say(state, Level.INFO, RMsg.LINKED, Sound.OK, [LinkOriginal(insp.key, ev.original), log],
                    tracking=ev.original.tracking_number, orders=", ".join(ev.original.order_nos))
    if ev.packer is None:
        return _refuse(state, scan, ReturnScanKind.RETURN, RMsg.PACKER_REQUIRED)
    if ev.recording_problem and require_recording:
        return _refuse(state, scan, ReturnScanKind.RETURN, RMsg.RECORDING_UNAVAILABLE, problem=ev.recording_problem)
    original = ev.original
    insp = Inspection(ev.key, scan.code, scan.at, original)
    state = replace(state, inspection=insp, done=None)
    name = original.tracking_number if original is not None else scan.code
    effects: list[ReturnEffect] = [
        BeginInspection(ev.key, scan.code, original, ev.packer, scan.at),
        StartReturnRecording(ev.key, name, original.order_nos if original else (), ev.packer.name, scan.at),
        LogReturnScan(ev.key, scan, ReturnScanKind.RETURN, True),
    ]
    if original is None:
        return _say(state, Level.WARNING, RMsg.STARTED_UNKNOWN, Sound.WARNING, effects, return_code=scan.code)
    return _say(state, Level.INFO, RMsg.STARTED, Sound.OK, effects, tracking=original.tracking_number,
                orders=", ".join(original.order_nos), expected=sum(original.expected.values()))


def _on_item(state: ReturnsState, ev: ReturnItemScanned) -> ReturnResult:
    return _item(state, ev.scan, ev.item)


def _item(state: ReturnsState, scan: Scan, item: ItemRef | None) -> ReturnResult:
    insp = state.inspection
    if insp is None:
        return _refuse(state, scan, ReturnScanKind.ITEM, RMsg.NO_INSPECTION)
    if insp.original is None:
        return _refuse(state, scan, ReturnScanKind.ITEM, RMsg.ITEM_BEFORE_ORIGINAL)
    expected = insp.original.expected
    have = insp.counts()
    ours = item is not None and have.get(item.item_id, 0) < expected.get(item.item_id, 0)
    line = ReturnLine(len(insp.lines) + 1, scan.code, item.item_id if item else None,
                      item.name if item else "", item.option_name if item else "", ours)
    state = replace(state, inspection=replace(insp, lines=(*insp.lines, line)))
    log = LogReturnScan(insp.key, scan, ReturnScanKind.ITEM, True, "" if ours else RMsg.ITEM_NOT_OURS.value,
                        line.item_id, line.line_no, expected=ours)
    if ours:
        assert item is not None
        return _say(state, Level.SUCCESS, RMsg.ITEM_EXPECTED, Sound.ITEM, [log], name=item.name,
                    option=item.option_name, item_id=item.item_id, scanned=have.get(item.item_id, 0) + 1,
                    expected=expected[item.item_id], line_no=line.line_no)
    return _say(state, Level.WARNING, RMsg.ITEM_NOT_OURS, Sound.WARNING, [log], barcode=scan.code,
                name=item.name if item else scan.code, option=item.option_name if item else "",
                line_no=line.line_no)


def _on_condition(state: ReturnsState, ev: ConditionScanned) -> ReturnResult:
    insp = state.inspection
    if insp is None:
        return _refuse(state, ev.scan, ReturnScanKind.CONDITION, RMsg.NO_INSPECTION)
    if not insp.lines:
        return _refuse(state, ev.scan, ReturnScanKind.CONDITION, RMsg.NO_ITEM_TO_MARK)
    last = insp.lines[-1]  # the item just scanned (a second condition corrects it)
    marked = replace(last, condition=ev.condition)
    state = replace(state, inspection=replace(insp, lines=(*insp.lines[:-1], marked)))
    log = LogReturnScan(insp.key, ev.scan, ReturnScanKind.CONDITION, True, item_id=last.item_id,
                        line_no=last.line_no, condition=ev.condition.value, expected=last.expected)
    level, sound = (Level.SUCCESS, Sound.ITEM) if ev.condition is Condition.OK else (Level.WARNING, Sound.WARNING)
    return _say(state, level, RMsg.MARKED, sound, [log], name=last.name or last.code, option=last.option_name,
                condition=ev.condition.value, line_no=last.line_no)


def _on_command(state: ReturnsState, ev: ReturnCommandScanned) -> ReturnResult:
    insp = state.inspection
    if ev.command is Command.LOGOUT:  # leave returns mode first: a sign-out mid-inspection would orphan it
        if insp is not None:
            return _refuse(state, ev.scan, ReturnScanKind.COMMAND, RMsg.INSPECTION_OPEN, return_code=insp.return_code)
        return _refuse(state, ev.scan, ReturnScanKind.COMMAND, RMsg.LOGOUT_IN_RETURNS)
    if insp is None:
        return _refuse(state, ev.scan, ReturnScanKind.COMMAND, RMsg.NO_INSPECTION)
    log = LogReturnScan(insp.key, ev.scan, ReturnScanKind.COMMAND, True, reason=ev.command.value.lower())
    if ev.command is Command.CANCEL:
        return _end(state, PackOutcome.CANCELLED, ev.scan.at, [log])
    if insp.original is None:
        return _refuse(state, ev.scan, ReturnScanKind.COMMAND, RMsg.NO_ORIGINAL, return_code=insp.return_code)
    if insp.unmarked:
        return _refuse(state, ev.scan, ReturnScanKind.COMMAND, RMsg.UNMARKED, count=len(insp.unmarked))
    return _end(state, PackOutcome.COMPLETED, ev.scan.at, [log])


_ENDS = {
    PackOutcome.COMPLETED: (Level.SUCCESS, RMsg.COMPLETE, Sound.COMPLETE),
    PackOutcome.CANCELLED: (Level.WARNING, RMsg.CANCELLED, Sound.WARNING),
    PackOutcome.TIMED_OUT: (Level.WARNING, RMsg.TIMED_OUT, Sound.WARNING),
}


def _end(state: ReturnsState, outcome: PackOutcome, at: datetime, effects: list[ReturnEffect]) -> ReturnResult:
    insp = state.inspection
    if insp is None:
        return state, []
    effects = [*effects, StopRecording(insp.key, outcome, at), EndInspection(insp.key, outcome, at, insp.lines)]
    level, code, sound = _ENDS[outcome]
    expected = insp.original.expected if insp.original else {}
    back = insp.counts()
    state = replace(state, inspection=None, done=insp if outcome is PackOutcome.COMPLETED else None)
    return _say(state, level, code, sound, effects, return_code=insp.return_code,
                returned=sum(back.values()), expected=sum(expected.values()),
                not_ours=sum(1 for ln in insp.lines if not ln.expected),
                problems=sum(1 for ln in insp.lines if ln.condition not in (None, Condition.OK)))


class ReturnsMachine:
    """Holds the returns state; the station service feeds it events and carries out the effects."""

    def __init__(self, *, require_recording: bool = False) -> None:
        self.require_recording = require_recording
        self.state = ReturnsState()

    def handle(self, event: ReturnEvent) -> list[ReturnEffect]:
        self.state, effects = step(self.state, event, require_recording=self.require_recording)
        return effects
