"""The packing-station state machine: pure, ``(state, event) -> (state, effects)``.

It does no I/O and reads no clock: the station controller resolves a scan (is it a command, a packer
badge, an item of the open pack, a waybill or a parcel's packing slip in the database, a known item, a
courier label?) and hands in a typed event stamped with the time; the effects it gets back say what to play,
show, record and store. Because it is pure, every rule of the station is tested directly, and a scan's
feedback never waits on disk or network.

A parcel opened from its packing slip (``core/parcels.py``: collected lines that have no waybill yet) is
packed like a waybill, then waits for its courier label: when every item is in, the station asks for the
label (``SCAN_LABEL``, whatever the complete mode: the label scan is what completes it), and a good label
(checked on the DB thread, ``LabelScanned``) gives ``BindLabel`` + the completion; COMPLETE before it is
refused, a misread or a number in use is refused and the pack stays open.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from packdesk.core.enums import LineStatus, PackOutcome, ScanKind, ScanSource

# a line's ``claim_status`` after a supervisor force-cancelled its typed-in order (services/orders.py)
FORCE_CANCELLED = "FORCE_CANCELLED"

# ---------------------------------------------------------------- values the controller builds


class Command(enum.StrEnum):
    COMPLETE = "COMPLETE"
    CANCEL = "CANCEL"
    LOGOUT = "LOGOUT"


class CompleteMode(enum.StrEnum):
    AUTO = "auto"          # the last item scan completes the pack
    COMMAND = "command"    # the packer scans COMPLETE after the last item


@dataclass(frozen=True)
class PackerRef:
    packer_id: int | None
    name: str


@dataclass(frozen=True)
class ClaimHolder:
    """Another station packing this waybill right now (``core/claims.py``)."""

    station: str
    packer_name: str
    since: datetime


@dataclass(frozen=True)
class ItemRef:
    item_id: int
    name: str
    option_name: str = ""


@dataclass(frozen=True)
class PlanItem:
    item_id: int
    sku: str
    name: str
    option_name: str
    barcodes: tuple[str, ...]
    image_path: str = ""  # the item's own photo (a supervisor's: a file name in the picture cache), "" = none

    @property
    def ref(self) -> ItemRef:
        return ItemRef(self.item_id, self.name, self.option_name)


@dataclass(frozen=True)
class PlanLine:
    line_id: int
    order_no: str
    product_order_id: str
    product_name: str
    option_name: str
    quantity: int
    status: LineStatus
    components: tuple[tuple[int, int], ...]  # (item id, units per one sold); empty = not mapped
    packed_at: datetime | None = None
    claim_status: str = ""  # the marketplace's claim word, or FORCE_CANCELLED (a supervisor's, services/orders.py)
    instructions: str = ""  # what the buyer asked of it (engraving text, …), one per line
    image_url: str = ""  # the sales product's picture at the marketplace (its catalogue sync), "" = none

    @property
    def mapped(self) -> bool:
        return bool(self.components)


@dataclass(frozen=True)
class PackedBy:
    """Who completed a waybill's pack, where and when: an "already packed" refusal names them, so the packer
    can find the parcel (another station's table, this morning's shelf) instead of packing it twice."""

    station: str
    packer_name: str
    at: datetime


@dataclass(frozen=True)
class PackPlan:
    """Everything on one waybill (with the unlabelled lines of the same orders: 합포장), or in one parcel
    opened from its packing slip: then ``waybill_id`` is None, ``tracking_number`` is the parcel key (what the
    screen, the messages and the recording name until the label binds) and ``courier_code`` is empty."""

    waybill_id: int | None
    tracking_number: str
    courier_code: str
    recipient_name: str
    lines: tuple[PlanLine, ...]
    items: Mapping[int, PlanItem]
    parcel_id: int | None = None
    parcel_key: str = ""
    packed_by: PackedBy | None = None  # read only when nothing is left to pack (``queries.load_plan``)

    @property
    def awaits_label(self) -> bool:
        """A parcel with no waybill yet: its courier label is scanned, and bound, at the end of the pack."""
        return self.waybill_id is None

    @property
    def ident(self) -> tuple[str, int | None]:
        """What the pack is of: a waybill, or (no waybill yet) a parcel."""
        return ("waybill", self.waybill_id) if self.waybill_id is not None else ("parcel", self.parcel_id)

    def lines_with(self, *statuses: LineStatus) -> tuple[PlanLine, ...]:
        return tuple(ln for ln in self.lines if ln.status in statuses)

    @property
    def active_lines(self) -> tuple[PlanLine, ...]:
        return tuple(ln for ln in self.lines if ln.status.packable)

    def expected(self) -> dict[int, int]:
        """Units of each item that go in the box: line quantity x units per set, over packable lines."""
        need: dict[int, int] = {}
        for ln in self.active_lines:
            for item_id, per_unit in ln.components:
                need[item_id] = need.get(item_id, 0) + per_unit * ln.quantity
        return need

    def item_for_barcode(self, code: str) -> PlanItem | None:
        """Exact barcode, else a unique case-insensitive match (scans read from Hangul text lose case)."""
        for it in self.items.values():
            if code in it.barcodes:
                return it
        folded = code.lower()
        hits = [it for it in self.items.values() if any(b.lower() == folded for b in it.barcodes)]
        return hits[0] if len(hits) == 1 else None

    def items_of(self, lines: tuple[PlanLine, ...]) -> set[int]:
        return {item_id for ln in lines for item_id, _ in ln.components}

    def instructions_for(self, item_id: int) -> tuple[str, ...]:
        """What the buyers asked of the packable lines that put this item in the box (engraving text, …),
        each once, in line order: the packer must see it beside the item."""
        found: list[str] = []
        for ln in self.active_lines:
            if any(i == item_id for i, _ in ln.components):
                found += [t for t in ln.instructions.splitlines() if t.strip() and t not in found]
        return tuple(found)


# ---------------------------------------------------------------- messages and sounds


class Sound(enum.StrEnum):
    OK = "ok"              # waybill accepted, pack started
    ITEM = "item"          # an item counted
    COMPLETE = "complete"  # pack complete
    ERROR = "error"        # a refusal: stop and look
    WARNING = "warning"    # attention, nothing refused (partly cancelled, timed out, ...)
    LABEL = "label"        # every item is in: stick on the courier label and scan it


class Level(enum.StrEnum):
    INFO = "info"
    SUCCESS = "success"
    WARNING = "warning"
    ERROR = "error"


class Msg(enum.StrEnum):
    """Message codes; ``ui/messages.py`` renders each in Korean and English. Refusal codes double as the
    reason stored with the scan event."""

    READY = "ready"  # the station's start: nobody signed in yet (so it asks for a badge)
    PACKER_SET = "packer_set"
    LOGGED_OUT = "logged_out"
    PACK_STARTED = "pack_started"
    PACK_STARTED_PARTLY_CANCELLED = "pack_started_partly_cancelled"
    ITEM_OK = "item_ok"
    ALL_SCANNED_SCAN_COMPLETE = "all_scanned_scan_complete"
    PACK_COMPLETE = "pack_complete"
    CANCEL_CONFIRM = "cancel_confirm"  # CANCEL on a pack with items scanned: a second CANCEL throws them away
    PACK_CANCELLED = "pack_cancelled"
    PACK_TIMED_OUT = "pack_timed_out"
    SCAN_LABEL = "scan_label"  # a parcel's items are all in: its courier label is scanned next
    PACK_COMPLETE_LABEL_WARNING = "pack_complete_label_warning"  # bound, but its check digit is set to warn
    # refusals
    PACKER_REQUIRED = "packer_required"
    UNKNOWN_BARCODE = "unknown_barcode"
    ITEM_WITHOUT_WAYBILL = "item_without_waybill"
    WRONG_ITEM = "wrong_item"
    TOO_MANY = "too_many"
    CANCELLED_LINE_ITEM = "cancelled_line_item"
    PACKED_LINE_ITEM = "packed_line_item"
    WAYBILL_EMPTY = "waybill_empty"
    WAYBILL_CANCELLED = "waybill_cancelled"
    WAYBILL_FORCE_CANCELLED = "waybill_force_cancelled"  # a supervisor cancelled the typed-in order
    WAYBILL_CANCEL_REQUESTED = "waybill_cancel_requested"
    WAYBILL_ALREADY_PACKED = "waybill_already_packed"
    WAYBILL_UNMAPPED = "waybill_unmapped"
    RECORDING_UNAVAILABLE = "recording_unavailable"
    WAYBILL_SAME = "waybill_same"
    WAYBILL_CLAIMED = "waybill_claimed"
    OTHER_WAYBILL_ACTIVE = "other_waybill_active"
    NOT_COMPLETE = "not_complete"
    NO_ACTIVE_PACK = "no_active_pack"
    LOGOUT_DURING_PACK = "logout_during_pack"
    LINE_CANCELLED_MEANWHILE = "line_cancelled_meanwhile"  # not a scan's refusal: the order changed
    # staff (services/staff.py): the badge rule mid-pack, and a packer a supervisor deactivated
    PACKER_ALREADY = "packer_already"
    PACKER_CHANGE_DURING_PACK = "packer_change_during_pack"
    PACKER_INACTIVE = "packer_inactive"
    PACKER_DEACTIVATED = "packer_deactivated"  # signed out now (no pack open)
    PACKER_DEACTIVATED_AFTER_PACK = "packer_deactivated_after_pack"  # signs out when the open pack ends
    # the recorder's process died and is starting again (devices/recorder_process.py)
    RECORDER_RESTARTING = "recorder_restarting"  # no pack open
    RECORDER_GAP = "recorder_gap"  # the pack goes on, filmed again in a second file
    RECORDER_LOST_PACK_STOPPED = "recorder_lost_pack_stopped"  # recording required: the pack stopped
    LABEL_REQUIRED = "label_required"    # COMPLETE scanned while the parcel waits for its label
    LABEL_TOO_EARLY = "label_too_early"  # a good label scanned before every item is in
    LABEL_INVALID = "label_invalid"      # a misread label (length, check digit, characters): ``check`` says which
    LABEL_USED = "label_used"            # the number is another parcel's or order's already
    # multi-packs: a count barcode (``PD-QTY-<n>``), then the item scanned to confirm it, puts n units in at once
    ITEM_OK_MANY_LEFT = "item_ok_many_left"  # counted; so many left that a count would be quicker: said so
    COUNT_READY = "count_ready"              # a count scanned: the item's scan confirms it
    ITEM_COUNTED = "item_counted"            # the confirming scan: n units counted at once
    COUNT_CLEARED = "count_cleared"          # CANCEL with a count waiting: the count is dropped, the pack goes on
    COUNT_INVALID = "count_invalid"          # PD-QTY-0, or a number too long to be a count
    COUNT_MORE_THAN_LEFT = "count_more_than_left"  # the count is more than is left to scan (of that item)


@dataclass(frozen=True)
class Message:
    """``repeat``: how many times in a row this very refusal was given (the same code and parameters): a second
    wrong scan must look different from the first, or the packer thinks it was not read."""

    level: Level
    code: Msg
    params: Mapping[str, Any] = field(default_factory=dict)
    repeat: int = 1


# ---------------------------------------------------------------- events


@dataclass(frozen=True)
class Scan:
    code: str
    source: ScanSource
    at: datetime


@dataclass(frozen=True)
class WaybillScanned:
    scan: Scan
    plan: PackPlan
    pack_key: str  # a fresh uuid from the controller, used only if the pack starts
    recording_problem: str = ""  # why the recorder could not start now ("" = it can)
    claimed_by: ClaimHolder | None = None  # another station holds this waybill


@dataclass(frozen=True)
class ItemScanned:
    scan: Scan
    item: ItemRef | None  # None: no item has this barcode


@dataclass(frozen=True)
class CommandScanned:
    scan: Scan
    command: Command


@dataclass(frozen=True)
class CountScanned:
    """A count barcode (``PD-QTY-12``, the command sheet's or typed): the next scan of an item of the box puts
    ``count`` units of it in at once, when that many are left. 0: not a count (a misprint), refused."""

    scan: Scan
    count: int


@dataclass(frozen=True)
class PackerIdentified:
    scan: Scan
    packer: PackerRef
    active: bool = True  # False: the badge of a deactivated packer (refused, said so)


@dataclass(frozen=True)
class LabelScanned:
    """A code scanned while a parcel opened from its slip waits for its courier label, checked on the DB
    thread (``core/parcels.check_number``: the number's format for ``courier_code``, and not used by another
    parcel or order). ``number``: as it would be stored; ``problem``: why it cannot bind ("" = it can);
    ``warning``: it can, but a person should look (a check digit set to warn)."""

    scan: Scan
    courier_code: str
    number: str
    problem: str = ""
    warning: str = ""
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Timeout:
    at: datetime


@dataclass(frozen=True)
class LinesChanged:
    """Lines changed status elsewhere (a collection found a cancel, another station, a supervisor):
    line id -> its status now. Lines not in the open pack are ignored."""

    at: datetime
    statuses: Mapping[int, LineStatus]


@dataclass(frozen=True)
class PackersChanged:
    """The packers were read again (a supervisor changed them, here or at another station): packer id -> the
    packer as now, for the active ones. The signed-in packer follows a rename; deactivated, they are signed
    out at once, or when the open pack ends (the pack is never cut short)."""

    at: datetime
    active: Mapping[int, PackerRef]


@dataclass(frozen=True)
class RecorderLost:
    """The recorder's process died mid-work (it is being started again; what it had filmed is kept). With
    ``require_recording`` an open pack cannot go on with a hole in its video: it stops, and is packed again
    from its waybill; otherwise it goes on, filmed again from now in a second file."""

    at: datetime


@dataclass(frozen=True)
class Closing:
    """PackDesk is being closed (the packer said yes to the question): the open pack ends as ``CLOSED``."""

    at: datetime


Event = (WaybillScanned | ItemScanned | CommandScanned | CountScanned | PackerIdentified | LabelScanned | Timeout
         | LinesChanged | PackersChanged | Closing | RecorderLost)
# events that are no scan: they neither forget a CANCEL asked again nor a count waiting for its item
_NOT_SCANS = Timeout | LinesChanged | PackersChanged | RecorderLost | Closing

# ---------------------------------------------------------------- effects


@dataclass(frozen=True)
class PlaySound:
    sound: Sound


@dataclass(frozen=True)
class ShowMessage:
    message: Message


@dataclass(frozen=True)
class StartRecording:
    pack_key: str
    tracking_number: str
    packer_name: str
    at: datetime


@dataclass(frozen=True)
class StopRecording:
    pack_key: str
    outcome: PackOutcome
    at: datetime


@dataclass(frozen=True)
class BeginPack:
    pack_key: str
    plan: PackPlan
    packer: PackerRef
    at: datetime


@dataclass(frozen=True)
class EndPack:
    pack_key: str
    outcome: PackOutcome
    at: datetime
    packed_line_ids: tuple[int, ...]  # the lines marked packed (completed packs only)


@dataclass(frozen=True)
class BindLabel:
    """Bind this number to the parcel, in the transaction that completes its pack (the ``EndPack`` that
    follows): the pack, its lines' dispatches and its recording then carry the number."""

    pack_key: str
    parcel_id: int
    courier_code: str
    tracking_number: str
    at: datetime


@dataclass(frozen=True)
class LogScan:
    scan: Scan
    kind: ScanKind
    accepted: bool
    reason: str
    pack_key: str | None
    packer_name: str
    item_id: int | None = None
    quantity: int = 1  # units this scan counted: more than one for a count confirmed by the item's scan


Effect = PlaySound | ShowMessage | StartRecording | StopRecording | BeginPack | EndPack | BindLabel | LogScan

# ---------------------------------------------------------------- state


@dataclass(frozen=True)
class ActivePack:
    key: str
    plan: PackPlan
    started_at: datetime
    counts: Mapping[int, int]  # item id -> units scanned; replaced, never mutated

    def remaining(self) -> dict[int, int]:
        return {i: n - self.counts.get(i, 0) for i, n in self.plan.expected().items()
                if n - self.counts.get(i, 0) > 0}

    @property
    def all_scanned(self) -> bool:
        return not self.remaining()


@dataclass(frozen=True)
class StationConfig:
    complete_mode: CompleteMode = CompleteMode.AUTO
    require_recording: bool = False  # refuse to start a pack the recorder cannot film
    # an item scan that leaves at least this many of it to scan says a count barcode would be quicker (0: never)
    count_hint_at: int = 6


@dataclass(frozen=True)
class StationState:
    packer: PackerRef | None = None
    pack: ActivePack | None = None
    message: Message = Message(Level.INFO, Msg.READY)
    sign_out_after_pack: bool = False  # the packer was deactivated mid-pack
    # CANCEL was scanned once on a pack with items in it: the next CANCEL ends the pack, any other scan keeps it
    cancel_armed: bool = False
    # the pack completed last, as it ended: its box stays on screen until the next pack starts
    done: ActivePack | None = None
    # a count barcode scanned: the next scan of an item of the box counts this many units (0: none waiting)
    pending_count: int = 0


Result = tuple[StationState, list[Effect]]


# ---------------------------------------------------------------- transitions


def step(state: StationState, event: Event, config: StationConfig) -> Result:
    """The one entry point: the new state and what to do about it. A CANCEL waiting for its second scan is
    forgotten by any other scan, and with the pack's end."""
    new, effects = _dispatch(state, event, config)
    if new.cancel_armed:
        arming = isinstance(event, CommandScanned) and event.command is Command.CANCEL
        if new.pack is None or (not arming and not isinstance(event, _NOT_SCANS)):
            new = replace(new, cancel_armed=False)
    # a count is for the very next scan: any other scan (a wrong item, a refusal) drops it, so a count scanned
    # by mistake never lands on a later item; and it ends with the pack
    if new.pending_count and (new.pack is None or not isinstance(event, CountScanned | _NOT_SCANS)):
        new = replace(new, pending_count=0)
    return new, effects


def _dispatch(state: StationState, event: Event, config: StationConfig) -> Result:
    match event:
        case PackerIdentified():
            return _on_packer(state, event)
        case CommandScanned():
            return _on_command(state, event)
        case CountScanned():
            return _on_count(state, event)
        case WaybillScanned():
            return _on_waybill(state, event, config)
        case ItemScanned():
            return _on_item(state, event, config)
        case LabelScanned():
            return _on_label(state, event)
        case Timeout():
            return _on_timeout(state, event)
        case LinesChanged():
            return _on_lines_changed(state, event)
        case PackersChanged():
            return _on_packers_changed(state, event)
        case RecorderLost():
            return _on_recorder_lost(state, event, config)
        case Closing():
            return _on_closing(state, event)
        case _:
            raise TypeError(f"not a station event: {event!r}")


def _packer_name(state: StationState) -> str:
    return state.packer.name if state.packer else ""


def _key(state: StationState) -> str | None:
    return state.pack.key if state.pack else None


def _say(state: StationState, level: Level, code: Msg, sound: Sound, effects: list[Effect],
         **params: Any) -> Result:
    msg = Message(level, code, params)
    last = state.message
    if level is Level.ERROR and (last.level, last.code, last.params) == (level, code, msg.params):
        msg = replace(msg, repeat=last.repeat + 1)  # the same refusal again: counted, so it looks new
    return replace(state, message=msg), [*effects, PlaySound(sound), ShowMessage(msg)]


def _refuse(state: StationState, scan: Scan, kind: ScanKind, code: Msg, *, item_id: int | None = None,
            **params: Any) -> Result:
    log = LogScan(scan, kind, False, code.value, _key(state), _packer_name(state), item_id)
    return _say(state, Level.ERROR, code, Sound.ERROR, [log], barcode=scan.code, **params)


def _accept_log(state: StationState, scan: Scan, kind: ScanKind, item_id: int | None = None,
                quantity: int = 1) -> LogScan:
    return LogScan(scan, kind, True, "", _key(state), _packer_name(state), item_id, quantity)


def _on_packer(state: StationState, ev: PackerIdentified) -> Result:
    if not ev.active:
        return _refuse(state, ev.scan, ScanKind.PACKER, Msg.PACKER_INACTIVE, name=ev.packer.name)
    # Mid-pack the packer cannot change: the pack, its video and its record name one person. Their own
    # badge again changes nothing.
    if state.pack is not None:
        if ev.packer != state.packer:
            return _refuse(state, ev.scan, ScanKind.PACKER, Msg.PACKER_CHANGE_DURING_PACK, name=ev.packer.name)
        log = _accept_log(state, ev.scan, ScanKind.PACKER)
        return _say(state, Level.INFO, Msg.PACKER_ALREADY, Sound.OK, [log], name=ev.packer.name)
    state = replace(state, packer=ev.packer)
    log = _accept_log(state, ev.scan, ScanKind.PACKER)
    return _say(state, Level.INFO, Msg.PACKER_SET, Sound.OK, [log], name=ev.packer.name)


def _on_command(state: StationState, ev: CommandScanned) -> Result:
    pack = state.pack
    if ev.command is Command.LOGOUT:
        if pack is not None:
            return _refuse(state, ev.scan, ScanKind.COMMAND, Msg.LOGOUT_DURING_PACK)
        log = _accept_log(state, ev.scan, ScanKind.COMMAND)
        return _say(replace(state, packer=None), Level.INFO, Msg.LOGGED_OUT, Sound.OK, [log])
    if pack is None:
        return _refuse(state, ev.scan, ScanKind.COMMAND, Msg.NO_ACTIVE_PACK)
    if ev.command is Command.CANCEL:
        log = _accept_log(state, ev.scan, ScanKind.COMMAND)
        if state.pending_count:  # a count scanned by mistake: CANCEL drops the count, not the pack
            return _say(replace(state, pending_count=0), Level.INFO, Msg.COUNT_CLEARED, Sound.OK, [log],
                        count=state.pending_count)
        scanned = sum(pack.counts.values())
        if scanned and not state.cancel_armed:  # progress is not thrown away on one scan: asked again
            return _say(replace(state, cancel_armed=True), Level.WARNING, Msg.CANCEL_CONFIRM, Sound.WARNING, [log],
                        tracking=pack.plan.tracking_number, scanned=scanned)
        return _finish(state, pack, PackOutcome.CANCELLED, ev.scan.at, [log])
    # COMPLETE
    remaining = pack.remaining()
    if remaining:
        return _refuse(state, ev.scan, ScanKind.COMMAND, Msg.NOT_COMPLETE, remaining=sum(remaining.values()))
    if pack.plan.awaits_label:
        return _refuse(state, ev.scan, ScanKind.COMMAND, Msg.LABEL_REQUIRED, tracking=pack.plan.tracking_number)
    log = _accept_log(state, ev.scan, ScanKind.COMMAND)
    return _finish(state, pack, PackOutcome.COMPLETED, ev.scan.at, [log])


MAX_COUNT = 9999  # a count barcode's most: more digits is a misread (or another barcode), not a count


def _on_count(state: StationState, ev: CountScanned) -> Result:
    """A count barcode: held for the next scan, which must be an item of the box with at least that many left
    (the packer confirms what the count is of by scanning it). Refused at once when no item has that many
    left, so a count scanned in error is said before the item is."""
    pack = state.pack
    if pack is None:
        return _refuse(state, ev.scan, ScanKind.COMMAND, Msg.NO_ACTIVE_PACK)
    if not 1 <= ev.count <= MAX_COUNT:
        return _refuse(state, ev.scan, ScanKind.COMMAND, Msg.COUNT_INVALID)
    most = max(pack.remaining().values(), default=0)
    if ev.count > most:
        return _refuse(state, ev.scan, ScanKind.COMMAND, Msg.COUNT_MORE_THAN_LEFT, count=ev.count, left=most)
    log = _accept_log(state, ev.scan, ScanKind.COMMAND)
    return _say(replace(state, pending_count=ev.count), Level.INFO, Msg.COUNT_READY, Sound.OK, [log],
                count=ev.count)


def _on_waybill(state: StationState, ev: WaybillScanned, config: StationConfig) -> Result:
    plan, scan = ev.plan, ev.scan
    tracking = plan.tracking_number
    if state.pack is not None:
        if state.pack.plan.ident == plan.ident:
            log = LogScan(scan, ScanKind.WAYBILL, False, Msg.WAYBILL_SAME.value, _key(state),
                          _packer_name(state))
            return _say(state, Level.WARNING, Msg.WAYBILL_SAME, Sound.WARNING, [log], tracking=tracking)
        return _refuse(state, scan, ScanKind.WAYBILL, Msg.OTHER_WAYBILL_ACTIVE,
                       tracking=state.pack.plan.tracking_number)
    if state.packer is None:
        return _refuse(state, scan, ScanKind.WAYBILL, Msg.PACKER_REQUIRED)
    if not plan.lines:
        return _refuse(state, scan, ScanKind.WAYBILL, Msg.WAYBILL_EMPTY, tracking=tracking)
    if plan.lines_with(LineStatus.CANCEL_REQUESTED):
        return _refuse(state, scan, ScanKind.WAYBILL, Msg.WAYBILL_CANCEL_REQUESTED, tracking=tracking)
    active = plan.active_lines
    if not active:
        done = plan.lines_with(LineStatus.PACKED, LineStatus.DISPATCHED, LineStatus.SHIPPED)
        if done:
            packed_at = max((ln.packed_at for ln in done if ln.packed_at), default=None)
            by = plan.packed_by
            where: dict[str, Any] = {"packed_at": packed_at}
            if by:
                where |= {"packed_at": by.at, "station": by.station, "packer": by.packer_name}
            return _refuse(state, scan, ScanKind.WAYBILL, Msg.WAYBILL_ALREADY_PACKED, tracking=tracking, **where)
        # every line is cancelled here; by a supervisor's force-cancel only: say that, not a buyer's cancel
        if all(ln.claim_status == FORCE_CANCELLED for ln in plan.lines_with(LineStatus.CANCELLED)):
            return _refuse(state, scan, ScanKind.WAYBILL, Msg.WAYBILL_FORCE_CANCELLED, tracking=tracking)
        return _refuse(state, scan, ScanKind.WAYBILL, Msg.WAYBILL_CANCELLED, tracking=tracking)
    unmapped = [ln for ln in active if not ln.mapped]
    if unmapped:
        names = ", ".join(f"{ln.product_name} {ln.option_name}".strip() for ln in unmapped)
        return _refuse(state, scan, ScanKind.WAYBILL, Msg.WAYBILL_UNMAPPED, tracking=tracking, products=names)
    if ev.claimed_by is not None:
        return _refuse(state, scan, ScanKind.WAYBILL, Msg.WAYBILL_CLAIMED, tracking=tracking,
                       station=ev.claimed_by.station, packer=ev.claimed_by.packer_name, since=ev.claimed_by.since)
    if ev.recording_problem and config.require_recording:
        return _refuse(state, scan, ScanKind.WAYBILL, Msg.RECORDING_UNAVAILABLE, tracking=tracking,
                       problem=ev.recording_problem)

    pack = ActivePack(key=ev.pack_key, plan=plan, started_at=scan.at, counts={})
    packer = state.packer
    state = replace(state, pack=pack, done=None)
    effects: list[Effect] = [
        BeginPack(pack.key, plan, packer, scan.at),
        StartRecording(pack.key, tracking, packer.name, scan.at),
        _accept_log(state, scan, ScanKind.WAYBILL),
    ]
    if plan.lines_with(LineStatus.CANCELLED):
        return _say(state, Level.WARNING, Msg.PACK_STARTED_PARTLY_CANCELLED, Sound.WARNING, effects,
                    tracking=tracking, recipient=plan.recipient_name)
    return _say(state, Level.INFO, Msg.PACK_STARTED, Sound.OK, effects, tracking=tracking,
                recipient=plan.recipient_name)


def _on_item(state: StationState, ev: ItemScanned, config: StationConfig) -> Result:
    scan, item, pack = ev.scan, ev.item, state.pack
    if item is None:
        return _refuse(state, scan, ScanKind.UNKNOWN, Msg.UNKNOWN_BARCODE)
    if pack is None:
        return _refuse(state, scan, ScanKind.ITEM, Msg.ITEM_WITHOUT_WAYBILL, item_id=item.item_id,
                       name=item.name, option=item.option_name)
    plan = pack.plan
    expected = plan.expected()
    if item.item_id not in expected:
        if item.item_id in plan.items_of(plan.lines_with(LineStatus.CANCELLED)):
            code = Msg.CANCELLED_LINE_ITEM
        elif item.item_id in plan.items_of(plan.lines_with(LineStatus.PACKED, LineStatus.DISPATCHED,
                                                           LineStatus.SHIPPED)):
            code = Msg.PACKED_LINE_ITEM
        else:
            code = Msg.WRONG_ITEM
        return _refuse(state, scan, ScanKind.ITEM, code, item_id=item.item_id, name=item.name,
                       option=item.option_name)
    have = pack.counts.get(item.item_id, 0)
    if have >= expected[item.item_id]:
        return _refuse(state, scan, ScanKind.ITEM, Msg.TOO_MANY, item_id=item.item_id, name=item.name,
                       option=item.option_name, expected=expected[item.item_id])
    add = state.pending_count or 1  # a count waiting: this scan confirms it
    left = expected[item.item_id] - have
    if add > left:
        return _refuse(state, scan, ScanKind.ITEM, Msg.COUNT_MORE_THAN_LEFT, item_id=item.item_id, name=item.name,
                       option=item.option_name, count=add, left=left)

    pack = replace(pack, counts={**pack.counts, item.item_id: have + add})
    state = replace(state, pack=pack, pending_count=0)
    log = _accept_log(state, scan, ScanKind.ITEM, item.item_id, add)
    # ``item_id``: the row the screen marks as the one just scanned
    if pack.all_scanned:
        if plan.awaits_label:  # in either complete mode: the label scan is what completes it
            return _say(state, Level.WARNING, Msg.SCAN_LABEL, Sound.LABEL, [log], tracking=plan.tracking_number,
                        item_id=item.item_id)
        if config.complete_mode is CompleteMode.AUTO:
            return _finish(state, pack, PackOutcome.COMPLETED, scan.at, [log])
        return _say(state, Level.SUCCESS, Msg.ALL_SCANNED_SCAN_COMPLETE, Sound.ITEM, [log], item_id=item.item_id)
    said = {"name": item.name, "option": item.option_name, "item_id": item.item_id, "scanned": have + add,
            "expected": expected[item.item_id]}
    if add > 1:
        return _say(state, Level.INFO, Msg.ITEM_COUNTED, Sound.ITEM, [log], count=add, **said)
    if config.count_hint_at and left - 1 >= config.count_hint_at:  # a count barcode would be quicker: say so
        return _say(state, Level.INFO, Msg.ITEM_OK_MANY_LEFT, Sound.ITEM, [log], left=left - 1, **said)
    return _say(state, Level.INFO, Msg.ITEM_OK, Sound.ITEM, [log], **said)


def _on_label(state: StationState, ev: LabelScanned) -> Result:
    """The courier label of the open parcel. A number in use is said whenever it is scanned; a misread only
    once the label is wanted (before that, an unreadable code is just not an item of this box)."""
    scan, pack = ev.scan, state.pack
    parcel_id = pack.plan.parcel_id if pack is not None and pack.plan.awaits_label else None
    if pack is None or parcel_id is None:  # the pack ended while the label was looked up (timed out)
        return _refuse(state, scan, ScanKind.UNKNOWN, Msg.UNKNOWN_BARCODE)
    params = {**ev.params, "number": ev.number, "tracking": pack.plan.tracking_number}
    if ev.problem == "tracking_used":
        return _refuse(state, scan, ScanKind.LABEL, Msg.LABEL_USED, **params)
    remaining = pack.remaining()
    if ev.problem:
        if remaining:
            return _refuse(state, scan, ScanKind.UNKNOWN, Msg.UNKNOWN_BARCODE)
        return _refuse(state, scan, ScanKind.LABEL, Msg.LABEL_INVALID, **{**params, "check": ev.problem})
    if remaining:
        return _refuse(state, scan, ScanKind.LABEL, Msg.LABEL_TOO_EARLY, **params,
                       remaining=sum(remaining.values()))
    bind = BindLabel(pack.key, parcel_id, ev.courier_code, ev.number, scan.at)
    return _finish(state, pack, PackOutcome.COMPLETED, scan.at, [_accept_log(state, scan, ScanKind.LABEL), bind],
                   tracking=ev.number, warning=ev.warning)


def _on_timeout(state: StationState, ev: Timeout) -> Result:
    if state.pack is None:
        return state, []
    return _finish(state, state.pack, PackOutcome.TIMED_OUT, ev.at, [])


def _on_closing(state: StationState, ev: Closing) -> Result:
    """The video stops and the pack is stored as closed, nothing packed; no sound or message: the window
    is going away."""
    pack = state.pack
    if pack is None:
        return state, []
    return replace(state, pack=None), [StopRecording(pack.key, PackOutcome.CLOSED, ev.at),
                                       EndPack(pack.key, PackOutcome.CLOSED, ev.at, ())]


def _on_lines_changed(state: StationState, ev: LinesChanged) -> Result:
    """The open pack's plan follows the database. A line cancelled (or with a cancel request) meanwhile is
    said at once, loudly: its items must come out of the box, or the parcel be held. Other changes (e.g.
    confirmed at the marketplace) only update the plan."""
    pack = state.pack
    if pack is None:
        return state, []
    changed = {ln.line_id: ev.statuses[ln.line_id] for ln in pack.plan.lines
               if ln.line_id in ev.statuses and ev.statuses[ln.line_id] is not ln.status}
    if not changed:
        return state, []
    lines = tuple(replace(ln, status=changed.get(ln.line_id, ln.status)) for ln in pack.plan.lines)
    cancelled = [ln for ln in pack.plan.lines if ln.line_id in changed and ln.status.packable
                 and changed[ln.line_id] in (LineStatus.CANCELLED, LineStatus.CANCEL_REQUESTED)]
    state = replace(state, pack=replace(pack, plan=replace(pack.plan, lines=lines)))
    if not cancelled:
        return state, []
    names = ", ".join(f"{ln.product_name} {ln.option_name}".strip() for ln in cancelled)
    return _say(state, Level.ERROR, Msg.LINE_CANCELLED_MEANWHILE, Sound.ERROR, [],
                tracking=pack.plan.tracking_number, products=names)


def _on_packers_changed(state: StationState, ev: PackersChanged) -> Result:
    packer = state.packer
    if packer is None or packer.packer_id is None:
        return state, []
    now = ev.active.get(packer.packer_id)
    if now is not None:  # still active (renamed, perhaps; back before their pack ended)
        return replace(state, packer=now, sign_out_after_pack=False), []
    if state.pack is None:
        return _say(replace(state, packer=None), Level.WARNING, Msg.PACKER_DEACTIVATED, Sound.WARNING, [],
                    name=packer.name)
    if state.sign_out_after_pack:
        return state, []
    return _say(replace(state, sign_out_after_pack=True), Level.WARNING, Msg.PACKER_DEACTIVATED_AFTER_PACK,
                Sound.WARNING, [], name=packer.name)


def _on_recorder_lost(state: StationState, ev: RecorderLost, config: StationConfig) -> Result:
    pack = state.pack
    if pack is None:
        return _say(state, Level.WARNING, Msg.RECORDER_RESTARTING, Sound.WARNING, [])
    tracking = pack.plan.tracking_number
    if config.require_recording:
        effects: list[Effect] = [StopRecording(pack.key, PackOutcome.ABANDONED, ev.at),
                                 EndPack(pack.key, PackOutcome.ABANDONED, ev.at, ())]
        state, signed_out = _sign_out_if_due(replace(state, pack=None))
        return _say(state, Level.WARNING, Msg.RECORDER_LOST_PACK_STOPPED, Sound.WARNING, effects,
                    tracking=tracking, **signed_out)
    effects = [StartRecording(pack.key, tracking, _packer_name(state), ev.at)]
    return _say(state, Level.WARNING, Msg.RECORDER_GAP, Sound.WARNING, effects, tracking=tracking)


_FINISH = {
    PackOutcome.COMPLETED: (Level.SUCCESS, Msg.PACK_COMPLETE, Sound.COMPLETE),
    PackOutcome.CANCELLED: (Level.WARNING, Msg.PACK_CANCELLED, Sound.WARNING),
    PackOutcome.TIMED_OUT: (Level.WARNING, Msg.PACK_TIMED_OUT, Sound.WARNING),
}


def _finish(state: StationState, pack: ActivePack, outcome: PackOutcome, at: datetime,
            effects: list[Effect], *, tracking: str = "", warning: str = "") -> Result:
    """``tracking``: the number the pack completes under when it is not the plan's (a label bound at the end);
    ``warning``: that label's check digit is set to warn, and is wrong: say so with the completion."""
    packed = tuple(ln.line_id for ln in pack.plan.active_lines) if outcome is PackOutcome.COMPLETED else ()
    effects = [*effects, StopRecording(pack.key, outcome, at), EndPack(pack.key, outcome, at, packed)]
    level, code, sound = _FINISH[outcome]
    if warning:
        level, code, sound = Level.WARNING, Msg.PACK_COMPLETE_LABEL_WARNING, Sound.WARNING
    done = pack if outcome is PackOutcome.COMPLETED else None
    state, signed_out = _sign_out_if_due(replace(state, pack=None, done=done))
    return _say(state, level, code, sound, effects, tracking=tracking or pack.plan.tracking_number, **signed_out)


def _sign_out_if_due(state: StationState) -> tuple[StationState, dict[str, str]]:
    """A packer deactivated mid-pack leaves with the pack's end; its message names them (``signed_out``)."""
    if not state.sign_out_after_pack or state.packer is None:
        return state, {}
    return replace(state, packer=None, sign_out_after_pack=False), {"signed_out": state.packer.name}


class StationMachine:
    """Holds the current state; the controller feeds it events and carries out the effects."""

    def __init__(self, config: StationConfig, state: StationState | None = None) -> None:
        self.config = config
        self.state = state or StationState()

    def handle(self, event: Event) -> list[Effect]:
        self.state, effects = step(self.state, event, self.config)
        return effects
