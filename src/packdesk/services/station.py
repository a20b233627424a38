"""The station service: turns raw scans into station events and carries out the machine's effects.

It runs on the UI thread (it is called from key events) and never waits on I/O there:
- commands, packer badges and the items of the open pack are recognised from memory, at once;
- anything else (a waybill, a parcel's packing slip, an item not in this box, a courier label) is looked up
  on the DB thread, and the scans that arrive meanwhile queue behind it so they are handled in the order they
  were made;
- pack sessions, scan events and completions are written on the DB thread, in order; a label bound at the
  end of a parcel's pack is bound in the transaction that completes it (``packing.bind_label``).
It imports no Qt: the UI hands in ``post`` (run on the UI thread) and a ``StationListener``.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy.exc import DisconnectionError, IntegrityError, OperationalError
from sqlalchemy.orm import Session

from packdesk.core import claims, packing, parcels, queries, recordings
from packdesk.core.couriers import BY_CODE
from packdesk.core.disk import is_disk_full, says_disk_full, where
from packdesk.core.enums import LineStatus, PackOutcome, ScanSource
from packdesk.core.errors import KnownError, Words
from packdesk.core.kst import KST
from packdesk.core.models import utcnow
from packdesk.core.station import (
    BeginPack,
    BindLabel,
    ClaimHolder,
    Closing,
    Command,
    CommandScanned,
    CountScanned,
    Effect,
    EndPack,
    Event,
    ItemRef,
    ItemScanned,
    LabelScanned,
    LinesChanged,
    LogScan,
    PackerIdentified,
    PackerRef,
    PackersChanged,
    PackPlan,
    PlaySound,
    RecorderLost,
    Scan,
    Sound,
    StartRecording,
    StationConfig,
    StationMachine,
    StationState,
    StopRecording,
    Timeout,
    WaybillScanned,
)
from packdesk.core.tracking import TrackingCheck
from packdesk.devices.recorder import (
    Recorder,
    RecorderCrashed,
    RecorderEvent,
    RecordingFailed,
    RecordingFinished,
    RecordingJob,
    RecordingStarted,
)
from packdesk.services.dbworker import DbWorker
from packdesk.services.returns import ReturnsDesk, abandon_open_inspections

log = logging.getLogger("packdesk.station")

COMMAND_PREFIX = "PD-CMD-"
COMMAND_CODES: dict[str, Command] = {f"{COMMAND_PREFIX}{c.value}": c for c in Command}
# a count barcode: ``PD-QTY-12`` then the item's scan puts 12 in (core/station.py ``CountScanned``); the command
# sheet prints the common ones, any other is typed in the entry box
COUNT_PREFIX = "PD-QTY-"
COMMON_COUNTS = (6, 10, 12, 24, 50, 100)


def count_of(code: str) -> int | None:
    """The count a count barcode says (0: it has the prefix but no count in it); None: not a count barcode."""
    code = code.strip().upper()
    if not code.startswith(COUNT_PREFIX):
        return None
    digits = code[len(COUNT_PREFIX):]
    return int(digits) if digits.isdigit() and len(digits) <= 6 else 0


class StationListener(Protocol):
    def on_state(self, state: StationState) -> None: ...

    def on_sound(self, sound: Sound) -> None: ...

    def on_error(self, error: KnownError) -> None: ...

    def on_notice(self, notice: KnownError) -> None:
        """Good news with a code, rendered like an error (``ui/messages.py``) but not shown as one."""
        ...


class RecordingProblem(KnownError):
    """The recorder could not record; the code names why (camera_unavailable, disk_low, ...)."""


class PackNotStored(KnownError):
    code = "pack_not_stored"


class PackAlreadyCompleted(KnownError):
    code = "pack_already_completed"


class DiskFull(KnownError):
    """The disk holding the database or the videos is full: names the disk and folder (``core/disk.where``)
    and, in ``pack``, what became of the pack (held in memory, completed but not yet saved)."""

    code = "disk_full"


RETRY_HELD_S = 2.0  # how often held writes are tried again while the disk is full
COUNTS_EVERY_S = 60.0  # today's counts are read again this often (other stations pack too), and after a pack


@dataclass(frozen=True)
class DayCounts:
    """What the station shows of the day: packs completed here since midnight (Korea time), and parcels left
    to pack in the warehouse."""

    packed_today: int
    left: int


@dataclass(frozen=True)
class Resolution:
    plan: PackPlan | None = None
    item: ItemRef | None = None
    claimed_by: ClaimHolder | None = None
    label: TrackingCheck | None = None  # a courier label for the open parcel, checked
    waits: bool = False  # the code is a waybill or parcel whose pack's writes are still queued: look up in order


class Claimer(Protocol):
    def __call__(self, s: Session, target_id: int, kind: claims.Claimable = claims.WAYBILL) -> ClaimHolder | None: ...


@dataclass(frozen=True)
class LabelWanted:
    """The open pack is a parcel with no waybill: a code that is no item may be its courier label, checked
    for the seller's contracted courier (settings ``waybill``)."""

    parcel_id: int
    courier: str
    check_digit: Mapping[str, str] | None = None

    def check(self, s: Session, code: str) -> TrackingCheck:
        return parcels.check_number(s, code, self.courier, self.check_digit, self.parcel_id)


Ident = tuple[str, int | None]  # what a pack is of (``PackPlan.ident``): ("waybill", id) or ("parcel", id)


def resolve(s: Session, code: str, claim: Claimer | None = None, label: LabelWanted | None = None,
            busy: frozenset[Ident] = frozenset()) -> Resolution:
    """A code that is not a command, a badge or an item of the open pack: a waybill or a parcel's packing slip
    (claimed for this station in the same transaction), an item, a courier label (``label``: the open parcel
    waits for one), or nothing.

    The claim comes *before* the lines are read. Read first, a station could see a waybill's lines still
    unpacked while another station's completion commits and frees its claim, then claim and start a pack
    that can never be stored (measured: two stations on PostgreSQL did it). Claimed first, the claim waits
    for the other station's transaction, and the lines read after it show them packed.

    A parcel that has its waybill already (an import, a label bound before) is packed as that waybill, by
    either barcode. While a label is wanted, a waybill number scanned is a label that is taken (another
    parcel's or order's), said as such; a parcel slip is another pack, as ever.

    ``busy``: the waybills and parcels whose packs' writes are queued behind this lookup (it went ``first``, ahead
    of them: ``DbWorker.submit``). Such a code is answered ``waits`` before anything is claimed: its lines and
    claim are what those writes change, so it is looked up again, in order."""
    parcel = queries.find_parcel(s, code)  # no statement unless the code looks like a parcel key
    if parcel is not None:
        wb = queries.find_waybill_by_id(s, parcel.waybill_id) if parcel.waybill_id is not None else None
        if wb is not None:
            if ("waybill", wb.id) in busy:
                return Resolution(waits=True)
            claimed_by = claim(s, wb.id) if claim else None
            return Resolution(plan=queries.load_plan(s, wb.tracking_number, wb), claimed_by=claimed_by)
        if ("parcel", parcel.id) in busy:
            return Resolution(waits=True)
        claimed_by = claim(s, parcel.id, claims.PARCEL) if claim else None
        return Resolution(plan=queries.load_parcel_plan(s, parcel), claimed_by=claimed_by)
    wb = queries.find_waybill(s, code)
    if wb is not None:
        if label is not None:
            owner = parcels.used_by(s, wb.tracking_number.upper(), label.parcel_id)
            if owner:
                return Resolution(label=TrackingCheck(wb.tracking_number, "tracking_used", params={
                    "number": wb.tracking_number, "courier": label.courier, "used_by": owner}))
            return Resolution(label=label.check(s, code))  # a waybill row nobody uses: free to bind
        if ("waybill", wb.id) in busy:
            return Resolution(waits=True)
        claimed_by = claim(s, wb.id) if claim else None
        return Resolution(plan=queries.load_plan(s, code, wb), claimed_by=claimed_by)
    item = queries.find_item(s, code)
    if item is None and label is not None:
        return Resolution(label=label.check(s, code))
    return Resolution(item=item)


WRITES = (BeginPack, LogScan, EndPack)  # the effects that go to the DB thread (after the screen is drawn)


class StationService:
    def __init__(self, worker: DbWorker, recorder: Recorder, listener: StationListener, *, station: str,
                 config: StationConfig, idle_timeout: timedelta = timedelta(minutes=10),
                 claim_expiry: timedelta = claims.DEFAULT_EXPIRY, clock: Callable[[], datetime] = utcnow,
                 label_courier: str = "CJGLS", check_digit: Mapping[str, str] | None = None,
                 video_folder: Path | None = None, on_completed: Callable[[], object] = lambda: None) -> None:
        """``label_courier``, ``check_digit``: the seller's contracted courier and its check-digit modes
        (settings ``waybill``): what a courier label scanned for a parcel must be. ``video_folder``: where the
        recorder writes, named when that disk fills. ``on_completed``: a completed pack is stored, its
        dispatches queued with it (the uploader sends them at once instead of at its next pass)."""
        self.worker = worker
        self.recorder = recorder
        self.listener = listener
        self.station = station
        self.machine = StationMachine(config)
        self.idle_timeout = idle_timeout
        self.claim_expiry = claim_expiry
        self.clock = clock
        self.packers: list[tuple[PackerRef, str | None]] = []
        self._inactive_badges: dict[str, PackerRef] = {}  # lower-case badge -> deactivated packer
        self._queue: deque[Scan] = deque()
        self._looking_up = False
        self._last_activity: datetime | None = None
        self.last_scan_monotonic: float | None = None  # when the last scan came (time.monotonic; ui/heap.py)
        self._jobs: dict[str, RecordingJob] = {}
        self.label_courier = label_courier
        self.check_digit = dict(check_digit or {})
        # pack key -> the label its completion binds, from its scan until that completion is stored (or failed)
        self._labels: dict[str, BindLabel] = {}
        # pack key -> what the pack is of, from its beginning until its end is stored: what the writes still
        # queued touch, for a lookup that goes ahead of them (``_look_up``)
        self._busy: dict[str, Ident] = {}
        self.db_online = True  # the warehouse server answers (``set_db_online``, from the database monitor)
        # the parcel the last run left unfinished (closed mid-pack, or a crash): (tracking number, outcome)
        self.interrupted: tuple[str, PackOutcome] | None = None
        self.video_folder = video_folder
        self.on_completed = on_completed
        db_file = worker.db.engine.url.database if worker.db.engine.dialect.name == "sqlite" else None
        self.data_folder = Path(db_file).absolute().parent if db_file and db_file != ":memory:" else None
        self.held = 0  # writes the full disk refused, kept in memory by the worker (UI thread's count)
        self._tracking: dict[str, str] = {}  # pack key -> its waybill, while the pack is open
        self._unsaved: dict[str, tuple[str, PackOutcome]] = {}  # pack key -> (tracking, outcome): ended, not stored
        self._saved_late: list[str] = []  # packs stored only once the disk had room again (said then)
        self._saved_count = 0  # held writes stored so far in this hold
        self._last_retry = 0.0
        # today's counts (``refresh_counts``), read beside the DB thread and handed to this on the UI thread
        self.on_counts: Callable[[DayCounts], None] | None = None
        self._counts_at = 0.0
        worker.watch_held(self._writes_held, self._writes_saved)
        self.returns = ReturnsDesk(self)  # returns inspection (반품 검수): takes the scans while its mode is on

    @property
    def state(self) -> StationState:
        return self.machine.state

    @property
    def busy(self) -> bool:
        """A lookup is in flight or scans are queued behind one."""
        return self._looking_up or bool(self._queue)

    @property
    def recordings_pending(self) -> bool:
        """A recording was started and its end has not been reported yet (the recorder is still closing it)."""
        return bool(self._jobs)

    def start(self) -> None:
        """Close packs a crash left open, find the parcel the last run left unfinished, and load the packers
        (a small table, kept in memory). Only the process holding the data folder runs this
        (``services/instance.py``): what it closes and chains belongs to no live process."""
        with self.worker.db.session() as s:
            abandoned = packing.abandon_open_packs(s, self.station, self.clock())
            abandon_open_inspections(s, self.station, self.clock())
            claims.release_station(s, self.station)
            recordings.recover_interrupted(s, self.station)
            self.interrupted = packing.interrupted_pack(s, self.station)
            self.packers = queries.active_packers(s)
            self._inactive_badges = queries.inactive_badges(s)
        if abandoned:
            log.warning("closed %d pack(s) left open by the last run as abandoned", abandoned)
        self.listener.on_state(self.state)

    def close_open_pack(self) -> None:
        """PackDesk is closing with a pack open (the packer was asked): its video ends as "cancelled:
        PackDesk closed" and the pack is stored closed, so the next start names the parcel."""
        self.returns.close(self.clock())
        if self.state.pack is not None:
            log.info("closing mid-pack: %s ends as closed", self.state.pack.plan.tracking_number)
            self._handle(Closing(self.clock()))

    # ------------------------------------------------------------------ input

    def scan(self, code: str, source: ScanSource) -> None:
        code = code.strip()
        if not code:
            return
        self.last_scan_monotonic = time.monotonic()
        self._queue.append(Scan(code, source, self.clock()))
        self._pump()

    def set_db_online(self, online: bool) -> None:
        """The shared database went away or came back. While away, a scan that needs it (a waybill, an item
        not in the open box) is refused at once with the reason, instead of waiting for a timeout; the open
        pack's items still count from memory, and what could not be written fails whole (one transaction)."""
        if online != self.db_online:
            log.warning("warehouse database %s", "back" if online else "unreachable")
        self.db_online = online

    def on_lines_changed(self, statuses: Mapping[int, LineStatus]) -> None:
        """Lines changed elsewhere (``services/changes.py``): the open pack follows, and a cancel is said."""
        if self.state.pack is not None and statuses:
            self._handle(LinesChanged(self.clock(), statuses))

    def choose_packer(self, packer: PackerRef) -> None:
        """A packer picked by name (no badge): the same as scanning their badge."""
        self._handle(PackerIdentified(Scan(f"#{packer.name}", ScanSource.MANUAL, self.clock()), packer))

    def reload_packers(self, then: Callable[[], None] | None = None) -> None:
        """Read the packers again on the DB thread (the staff screen changed them, or another station did), then
        ``then`` on this thread. A new badge works at once, a deactivated or replaced one no longer does, and
        the signed-in packer follows (``core/station.py`` ``PackersChanged``)."""
        def read(s: Session) -> tuple[list[tuple[PackerRef, str | None]], dict[str, PackerRef]]:
            return queries.active_packers(s), queries.inactive_badges(s)

        self.worker.submit(read, on_done=lambda r: self._packers_loaded(*r, then=then),
                           on_error=lambda e: log.warning("packers not reloaded: %r", e))

    def _packers_loaded(self, packers: list[tuple[PackerRef, str | None]], inactive: dict[str, PackerRef], *,
                        then: Callable[[], None] | None) -> None:
        self.packers, self._inactive_badges = packers, inactive
        before = self.state
        effects = self.machine.handle(PackersChanged(self.clock(), {p.packer_id: p for p, _ in packers
                                                                    if p.packer_id is not None}))
        for fx in effects:
            self._apply(fx)
        if self.state != before:  # only a change is drawn (reloads also come every minute)
            self.listener.on_state(self.state)
        if then is not None:
            then()

    def refresh_counts(self) -> None:
        """Read today's counts beside the DB thread (``DbWorker.read_aside``: never on the UI thread, where on a
        shared server it is a round trip, nor in the writes' queue, where a scan would wait for it), then hand
        them to ``on_counts``."""
        if self.on_counts is None:
            return
        self._counts_at = time.monotonic()
        midnight = self.clock().astimezone(KST).replace(hour=0, minute=0, second=0, microsecond=0)

        def read(s: Session) -> DayCounts:
            return DayCounts(*queries.station_counts(s, self.station, midnight))

        self.worker.read_aside(read, on_done=lambda c: self.on_counts(c) if self.on_counts else None,
                               on_error=lambda e: log.warning("today's counts not read: %r", e))

    def tick(self) -> None:
        """Called every second or so by the UI: ends a pack nobody has touched for ``idle_timeout``."""
        if self.on_counts is not None and time.monotonic() - self._counts_at >= COUNTS_EVERY_S:
            self.refresh_counts()
        if self.held and time.monotonic() - self._last_retry >= RETRY_HELD_S:
            self._last_retry = time.monotonic()
            self.worker.retry_held()
        now = self.clock()
        self.returns.tick(now, self.idle_timeout)
        if (self.state.pack is not None and self._last_activity is not None
                and now - self._last_activity >= self.idle_timeout):
            self._handle(Timeout(now))

    # ------------------------------------------------------------------ resolution

    def _pump(self) -> None:
        while self._queue and not self._looking_up:
            scan = self._queue.popleft()
            if self.returns.take(scan):  # returns mode's (services/returns.py): handled, or looked up
                continue
            event = self._resolve_in_memory(scan)
            if event is not None:
                self._handle(event)
                continue
            if not self.db_online:
                self.listener.on_sound(Sound.ERROR)
                self.listener.on_error(KnownError("db_unreachable", detail="scan while the database is away",
                                                  code_scanned=scan.code))
                continue
            if self.held:  # a new pack on top of writes only in memory could pack a parcel twice: not yet
                self.listener.on_sound(Sound.ERROR)
                self.listener.on_error(self._disk_full(self.data_folder, "scan while writes are held",
                                                       code_scanned=scan.code))
                continue
            self._looking_up = True
            pack_key = str(uuid.uuid4())
            packer = self.state.packer.name if self.state.packer else ""
            label = self._label_wanted()
            mine = self.state.pack.plan.ident if self.state.pack is not None else None

            def take(s: Session, target_id: int, kind: claims.Claimable = claims.WAYBILL, key: str = pack_key,
                     who: str = packer, mine: tuple[str, int | None] | None = mine) -> ClaimHolder | None:
                if mine == ("waybill" if kind is claims.WAYBILL else "parcel", target_id):
                    return None  # the open pack's own, scanned again: held already, under the pack's key
                return claims.claim(s, target_id, station=self.station, packer_name=who, pack_key=key,
                                    now=self.clock(), expiry=self.claim_expiry, kind=kind)

            self._look_up(scan, partial(resolve, code=scan.code, claim=take, label=label), pack_key)

    def _look_up(self, scan: Scan, job: Callable[..., Resolution], pack_key: str, first: bool = True) -> None:
        """Look the scan up on the DB thread. ``first``: ahead of the writes queued there (a waybill scanned the
        moment a pack completed does not wait for that pack's ~10 ms of writes). Those writes change only the
        packs they are of (lines packed, claims released, a label bound), so the lookup is told which waybills
        and parcels those are and answers ``waits`` for them (``resolve``); a label number being bound is
        looked up in order from the start (it is no waybill until its pack's end is stored)."""
        if first and scan.code.upper() in {b.tracking_number.upper() for b in self._labels.values()}:
            first = False
        self.worker.submit(partial(job, busy=frozenset(self._busy.values())) if first else job,
                           on_done=partial(self._resolved, scan, pack_key=pack_key, again=job),
                           on_error=partial(self._lookup_failed, scan), first=first)

    def is_known_code(self, code: str) -> bool:
        """A command or a packer badge: codes nobody types by accident (the key filter lets them through even
        from a field where a person writes, ``ui/keyfilter.py``)."""
        folded = code.strip().lower()
        if count_of(code) is not None or self.returns.is_known_code(code):
            return True
        return code.strip().upper() in COMMAND_CODES or any(b is not None and b.lower() == folded
                                                            for _, b in self.packers)

    def _label_wanted(self) -> LabelWanted | None:
        """The open pack is a parcel waiting for its courier label (the state a queued scan will meet: scans
        are handled one after another, each after the lookup before it)."""
        pack = self.state.pack
        if pack is None or pack.plan.parcel_id is None or not pack.plan.awaits_label:
            return None
        return LabelWanted(pack.plan.parcel_id, self.label_courier, self.check_digit)

    def _resolve_in_memory(self, scan: Scan) -> Event | None:
        command = COMMAND_CODES.get(scan.code.upper())
        if command is not None:
            return CommandScanned(scan, command)
        count = count_of(scan.code)
        if count is not None:
            return CountScanned(scan, count)
        folded = scan.code.lower()
        for packer, badge in self.packers:
            if badge is not None and badge.lower() == folded:
                return PackerIdentified(scan, packer)
        if folded in self._inactive_badges:
            return PackerIdentified(scan, self._inactive_badges[folded], active=False)
        pack = self.state.pack
        if pack is not None:
            item = pack.plan.item_for_barcode(scan.code)
            if item is not None:
                return ItemScanned(scan, item.ref)
        return None

    def _resolved(self, scan: Scan, r: Resolution, pack_key: str, again: Callable[..., Resolution]) -> None:
        if r.waits:  # its pack's writes were queued behind the lookup: again, after them
            self._look_up(scan, again, pack_key, first=False)
            return
        self._looking_up = False
        if r.label is not None:
            params = dict(r.label.params or {})
            courier = BY_CODE.get(self.label_courier)
            if courier is not None:  # the courier's name in each language, not its code
                params["courier"] = Words(courier.name, courier.name_en)
            self._handle(LabelScanned(scan, self.label_courier, r.label.number, r.label.problem, r.label.warning,
                                      params))
        elif r.plan is not None:
            ok, problem = self.recorder.ready()
            started = self._handle(WaybillScanned(scan, r.plan, pack_key, "" if ok else problem, r.claimed_by))
            if not started and r.claimed_by is None:  # claimed for a pack that did not start: give it back
                self.worker.submit(lambda s: claims.release(s, pack_key), keep="claim released")
            if not started and problem == "disk_low" and self.video_folder is not None:  # which disk, and where
                self.listener.on_error(RecordingProblem("disk_low_not_started", detail="pack not started",
                                                        **where(self.video_folder)))
        else:
            self._handle(ItemScanned(scan, r.item))
        self._pump()

    def _lookup_failed(self, scan: Scan, e: BaseException) -> None:
        self._looking_up = False
        self.listener.on_sound(Sound.ERROR)
        if is_disk_full(e):  # this PC's disk, not the server (SQLite says "database or disk is full")
            self.listener.on_error(self._disk_full(self.data_folder, repr(e), code_scanned=scan.code))
            self._pump()
            return
        # a connection that broke is the server, not the scan: say so (the monitor confirms it within seconds)
        code = "db_unreachable" if isinstance(e, OperationalError | DisconnectionError) else "lookup_failed"
        self.listener.on_error(KnownError(code, detail=repr(e), code_scanned=scan.code))
        self._pump()

    # ------------------------------------------------------------------ effects

    def _handle(self, event: Event) -> bool:
        """Feed the machine and carry out its effects; True when a pack began."""
        if not isinstance(event, Timeout | LinesChanged | PackersChanged | Closing | RecorderLost):  # no scan
            self._last_activity = event.scan.at
        effects = self.machine.handle(event)
        # the packer's feedback first (sound, recorder command, the screen), then the writes: handed to the DB
        # thread before the redraw, a write's Python (SQLAlchemy's) ran beside the redraw's and the two took turns
        # at the interpreter lock. The writes keep their order; the screen never waited for them.
        writes = [fx for fx in effects if isinstance(fx, WRITES)]
        for fx in effects:
            if not isinstance(fx, WRITES):
                self._apply(fx)
        try:
            self.listener.on_state(self.state)
        finally:  # a screen that fails to draw never costs a stored scan
            for fx in writes:
                self._apply(fx)
        return any(isinstance(fx, BeginPack) for fx in effects)

    def _apply(self, fx: Effect) -> None:
        match fx:
            case PlaySound():
                self.listener.on_sound(fx.sound)
            case StartRecording():
                pack = self.state.pack
                orders = sorted({ln.order_no for ln in pack.plan.lines}) if pack else []
                job = RecordingJob(fx.pack_key, fx.tracking_number, self.station, fx.packer_name, fx.at,
                                   tuple(orders))
                self._jobs[fx.pack_key] = job
                self.recorder.start(job)
            case StopRecording():
                self.recorder.stop(fx.pack_key, fx.outcome)
            case BeginPack():
                self._tracking[fx.pack_key] = fx.plan.tracking_number
                self._busy[fx.pack_key] = fx.plan.ident
                self.worker.submit(lambda s: packing.begin_pack(s, fx, self.station),
                                   on_error=lambda e: self._store_failed(fx.pack_key, e),
                                   keep=f"pack begun {fx.plan.tracking_number}")
            case LogScan():
                self.worker.submit(lambda s: packing.log_scan(s, fx, self.station),
                                   keep=f"scan {fx.scan.code[:40]}")
            case BindLabel():  # stored with the completion that follows it (EndPack), in one transaction
                self._labels[fx.pack_key] = fx
            case EndPack():
                bind = self._labels.get(fx.pack_key)
                tracking = self._tracking.pop(fx.pack_key, "")
                self._unsaved[fx.pack_key] = (bind.tracking_number if bind else tracking, fx.outcome)
                self.worker.submit(lambda s: self._end_pack(s, fx, bind),
                                   on_done=lambda _n: self._pack_stored(fx.pack_key),
                                   on_error=lambda e: self._store_failed(fx.pack_key, e, fx.outcome, ended=True),
                                   keep=f"pack end {fx.pack_key}")
            case _:  # ShowMessage: the new state carries it
                pass

    # ------------------------------------------------------------------ recorder events (UI thread)

    def on_recorder_event(self, ev: RecorderEvent) -> None:
        """What the recorder reports later, routed here on the UI thread: index the video, warn on failure."""
        match ev:
            case RecordingStarted():
                job = self._jobs.get(ev.pack_key)
                self.worker.submit(lambda s: recordings.recording_started(
                    s, pack_key=ev.pack_key, tracking_number=job.tracking_number if job else "",
                    order_nos=",".join(job.order_nos) if job else "", station=self.station,
                    packer_name=job.packer_name if job else "", recorder=self.recorder.name, path=str(ev.path),
                    started_at=ev.started_at), keep="video started")
            case RecordingFinished():
                self._jobs.pop(ev.pack_key, None)
                self.worker.submit(lambda s: recordings.recording_finished(
                    s, pack_key=ev.pack_key, path=str(ev.path), started_at=ev.started_at, ended_at=ev.ended_at,
                    frames=ev.frames, dropped=ev.dropped, size_bytes=ev.size_bytes, outcome=ev.outcome,
                    sha256=ev.sha256), keep="video finished")
            case RecordingFailed():
                if ev.pack_key is not None:
                    self._jobs.pop(ev.pack_key, None)
                    self.worker.submit(partial(recordings.recording_failed, pack_key=ev.pack_key),
                                       keep="video failed")
                log.warning("recording problem %s: %s", ev.code, ev.detail)
                code = ev.code
                if code == "recording_failed" and says_disk_full(ev.detail):
                    code = "recording_disk_full"  # the encoder's write refused: ENOSPC, "No space left on device"
                params = where(self.video_folder) if self.video_folder is not None and code in (
                    "disk_low", "recording_failed", "recording_disk_full") else {}
                self.listener.on_sound(Sound.WARNING)
                self.listener.on_error(RecordingProblem(code, detail=ev.detail, **params))
            case RecorderCrashed():
                # its file keeps what was written (hashed and chained); the machine says whether the pack
                # goes on (a StartRecording for the rest of it) or stops, and warns
                for key, path in ev.cut:
                    self._jobs.pop(key, None)
                    if path is not None:
                        self.worker.submit(partial(recordings.recording_interrupted, pack_key=key, path=str(path)),
                                           keep="video interrupted")
                    else:
                        self.worker.submit(partial(recordings.recording_failed, pack_key=key),
                                           keep="video failed")
                log.warning("recorder lost: %s", ev.detail)
                self._handle(RecorderLost(self.clock()))

    def _end_pack(self, s: Session, fx: EndPack, bind: BindLabel | None) -> int:
        """(DB thread) Close the pack; a parcel's label is bound first, in the same transaction."""
        if bind is not None:
            packing.bind_label(s, bind, f"station:{self.station}", self.check_digit)
        return packing.end_pack(s, fx)

    def _store_failed(self, pack_key: str, e: BaseException, outcome: PackOutcome | None = None, *,
                      ended: bool = False) -> None:
        """A pack's beginning or (``ended``) its end was not stored."""
        self._unsaved.pop(pack_key, None)
        if ended:
            self._ended(pack_key)
        self.listener.on_sound(Sound.ERROR)
        if is_disk_full(e):
            self.listener.on_error(self._disk_full(self.data_folder, repr(e), pack_key=pack_key))
        elif isinstance(e, parcels.BindRefused):  # the number was taken meanwhile: neither bound nor completed
            self.listener.on_error(e)
        elif isinstance(e, IntegrityError) and outcome is PackOutcome.COMPLETED:
            self.listener.on_error(PackAlreadyCompleted(detail=str(e.orig), pack_key=pack_key))
        else:
            self.listener.on_error(PackNotStored(detail=repr(e), pack_key=pack_key))

    # ------------------------------------------------------------------ a full disk (worker callbacks, UI thread)

    def _writes_held(self, name: str, count: int, e: BaseException) -> None:
        """The disk refused a write; the worker keeps it. Said when the hold begins and when a pack ends on it
        (completed, not yet saved); the scans between are counted silently (the packer keeps packing)."""
        first = self.held == 0
        self.held = count
        if first or name.startswith("pack end"):
            self.listener.on_sound(Sound.ERROR)
            self.listener.on_error(self._disk_full(self.data_folder, repr(e)))

    def _ended(self, pack_key: str) -> None:
        """The pack's end is stored or failed: nothing of it is queued any more."""
        self._busy.pop(pack_key, None)
        self._labels.pop(pack_key, None)

    def _pack_stored(self, pack_key: str) -> None:
        self._ended(pack_key)
        tracking, outcome = self._unsaved.pop(pack_key, ("", PackOutcome.COMPLETED))
        if outcome is PackOutcome.COMPLETED:
            self.refresh_counts()
            self.on_completed()
        if self.held:  # stored from memory after the disk had room again: said with the rest
            self._saved_late.append(tracking)

    def _writes_saved(self, names: list[str], remaining: int) -> None:
        """Held writes were stored (the disk has room again); once all are, say so and name the packs saved."""
        self.held = remaining
        self._saved_count += len(names)
        if remaining:
            return
        done, self._saved_late = [t for t in self._saved_late if t], []
        count, self._saved_count = self._saved_count, 0
        ko = " ".join(f"포장 {t} 저장됨." for t in done)
        en = " ".join(f"Pack {t} is saved." for t in done)
        self.listener.on_notice(KnownError("disk_space_back", count=count, pack=Words(ko, en)))

    def _disk_full(self, folder: Path | None, detail: str, **params: Any) -> DiskFull:
        """The full disk named, and what became of the pack: ended and not yet saved, open and held, or none."""
        place = where(folder) if folder is not None else {"folder": "?", "disk": "?", "free": "?"}
        return DiskFull(detail=detail, pack=self._pack_words(), held=self.held, **place, **params)

    def _pack_words(self) -> Words:
        ended = [(t, o) for t, o in self._unsaved.values()]
        if ended:
            t, outcome = ended[-1]
            if outcome is PackOutcome.COMPLETED:
                return Words(f"포장 {t}은(는) 완료되었지만 아직 저장되지 않았습니다 (메모리에 보관 중, 공간이 생기면 "
                             f"저장됩니다 — 프로그램을 끄지 마세요).",
                             f"Pack {t} is complete but not saved yet (held in memory, saved when there is room "
                             f"— do not close PackDesk).")
            return Words(f"포장 {t} 종료({outcome.value})가 아직 저장되지 않았습니다 (메모리에 보관 중).",
                         f"Pack {t} ended ({outcome.value}) but is not saved yet (held in memory).")
        pack = self.state.pack
        if pack is not None:
            t = pack.plan.tracking_number
            return Words(f"포장 중인 {t}: 스캔은 메모리에 보관되며 공간이 생기면 저장됩니다 — 포장은 계속할 수 "
                         f"있습니다.",
                         f"Pack {t} is open: its scans are held in memory and saved when there is room — "
                         f"packing can go on.")
        return Words("스캔은 메모리에 보관되며 공간이 생기면 저장됩니다. 새 포장은 공간을 만든 뒤에 시작됩니다.",
                     "Scans are held in memory and saved when there is room. A new pack starts once there is "
                     "room.")
