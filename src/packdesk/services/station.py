"""The station service: turns raw scans into station events and carries out the machine's effects.

It runs on the UI thread (it is called from key events) and never waits on I/O there:
- commands, packer badges and the items of the open pack are recognised from memory, at once;
- anything else (a waybill, an item not in this box) is looked up on the DB thread, and the scans that
  arrive meanwhile queue behind it so they are handled in the order they were made;
- pack sessions, scan events and completions are written on the DB thread, in order.
It imports no Qt: the UI hands in ``post`` (run on the UI thread) and a ``StationListener``.
"""

from __future__ import annotations

import logging
import uuid
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy.exc import DisconnectionError, IntegrityError, OperationalError
from sqlalchemy.orm import Session

from packdesk.core import claims, packing, queries, recordings
from packdesk.core.enums import LineStatus, PackOutcome, ScanSource
from packdesk.core.errors import KnownError
from packdesk.core.models import utcnow
from packdesk.core.station import (
    BeginPack,
    ClaimHolder,
    Closing,
    Command,
    CommandScanned,
    Effect,
    EndPack,
    Event,
    ItemRef,
    ItemScanned,
    LinesChanged,
    LogScan,
    PackerIdentified,
    PackerRef,
    PackPlan,
    PlaySound,
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
from packdesk.devices.recorder import (
    Recorder,
    RecorderEvent,
    RecordingFailed,
    RecordingFinished,
    RecordingJob,
    RecordingStarted,
)
from packdesk.services.dbworker import DbWorker

log = logging.getLogger("packdesk.station")

COMMAND_PREFIX = "PD-CMD-"
COMMAND_CODES: dict[str, Command] = {f"{COMMAND_PREFIX}{c.value}": c for c in Command}


class StationListener(Protocol):
    def on_state(self, state: StationState) -> None: ...

    def on_sound(self, sound: Sound) -> None: ...

    def on_error(self, error: KnownError) -> None: ...


class RecordingProblem(KnownError):
    """The recorder could not record; the code names why (camera_unavailable, disk_low, ...)."""


class PackNotStored(KnownError):
    code = "pack_not_stored"


class PackAlreadyCompleted(KnownError):
    code = "pack_already_completed"


@dataclass(frozen=True)
class Resolution:
    plan: PackPlan | None = None
    item: ItemRef | None = None
    claimed_by: ClaimHolder | None = None


def resolve(s: Session, code: str, claim: Callable[[Session, int], ClaimHolder | None] | None = None) -> Resolution:
    """A code that is not a command, a badge or an item of the open pack: a waybill (claimed for this station
    in the same transaction), an item, or nothing.

    The claim comes *before* the lines are read. Read first, a station could see a waybill's lines still
    unpacked while another station's completion commits and frees its claim, then claim and start a pack
    that can never be stored (measured: two stations on PostgreSQL did it). Claimed first, the claim waits
    for the other station's transaction, and the lines read after it show them packed."""
    wb = queries.find_waybill(s, code)
    if wb is not None:
        claimed_by = claim(s, wb.id) if claim else None
        return Resolution(plan=queries.load_plan(s, code, wb), claimed_by=claimed_by)
    return Resolution(item=queries.find_item(s, code))


class StationService:
    def __init__(self, worker: DbWorker, recorder: Recorder, listener: StationListener, *, station: str,
                 config: StationConfig, idle_timeout: timedelta = timedelta(minutes=10),
                 claim_expiry: timedelta = claims.DEFAULT_EXPIRY, clock: Callable[[], datetime] = utcnow) -> None:
        self.worker = worker
        self.recorder = recorder
        self.listener = listener
        self.station = station
        self.machine = StationMachine(config)
        self.idle_timeout = idle_timeout
        self.claim_expiry = claim_expiry
        self.clock = clock
        self.packers: list[tuple[PackerRef, str | None]] = []
        self._queue: deque[Scan] = deque()
        self._looking_up = False
        self._last_activity: datetime | None = None
        self._jobs: dict[str, RecordingJob] = {}
        self.db_online = True  # the warehouse server answers (``set_db_online``, from the database monitor)
        # the parcel the last run left unfinished (closed mid-pack, or a crash): (tracking number, outcome)
        self.interrupted: tuple[str, PackOutcome] | None = None

    @property
    def state(self) -> StationState:
        return self.machine.state

    @property
    def busy(self) -> bool:
        """A lookup is in flight or scans are queued behind one."""
        return self._looking_up or bool(self._queue)

    def start(self) -> None:
        """Close packs a crash left open, find the parcel the last run left unfinished, and load the packers
        (a small table, kept in memory). Only the process holding the data folder runs this
        (``services/instance.py``): what it closes and chains belongs to no live process."""
        with self.worker.db.session() as s:
            abandoned = packing.abandon_open_packs(s, self.station, self.clock())
            claims.release_station(s, self.station)
            recordings.recover_interrupted(s, self.station)
            self.interrupted = packing.interrupted_pack(s, self.station)
            self.packers = queries.active_packers(s)
        if abandoned:
            log.warning("closed %d pack(s) left open by the last run as abandoned", abandoned)
        self.listener.on_state(self.state)

    def close_open_pack(self) -> None:
        """PackDesk is closing with a pack open (the packer was asked): its video ends as "cancelled:
        PackDesk closed" and the pack is stored closed, so the next start names the parcel."""
        if self.state.pack is not None:
            log.info("closing mid-pack: %s ends as closed", self.state.pack.plan.tracking_number)
            self._handle(Closing(self.clock()))

    # ------------------------------------------------------------------ input

    def scan(self, code: str, source: ScanSource) -> None:
        code = code.strip()
        if not code:
            return
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

    def tick(self) -> None:
        """Called every second or so by the UI: ends a pack nobody has touched for ``idle_timeout``."""
        now = self.clock()
        if (self.state.pack is not None and self._last_activity is not None
                and now - self._last_activity >= self.idle_timeout):
            self._handle(Timeout(now))

    # ------------------------------------------------------------------ resolution

    def _pump(self) -> None:
        while self._queue and not self._looking_up:
            scan = self._queue.popleft()
            event = self._resolve_in_memory(scan)
            if event is not None:
                self._handle(event)
                continue
            if not self.db_online:
                self.listener.on_sound(Sound.ERROR)
                self.listener.on_error(KnownError("db_unreachable", detail="scan while the database is away",
                                                  code_scanned=scan.code))
                continue
            self._looking_up = True
            pack_key = str(uuid.uuid4())
            packer = self.state.packer.name if self.state.packer else ""

            def take(s: Session, waybill_id: int, key: str = pack_key, who: str = packer) -> ClaimHolder | None:
                return claims.claim(s, waybill_id, station=self.station, packer_name=who, pack_key=key,
                                    now=self.clock(), expiry=self.claim_expiry)

            self.worker.submit(lambda s, code=scan.code, take=take: resolve(s, code, take),
                               on_done=lambda r, scan=scan, key=pack_key: self._resolved(scan, r, key),
                               on_error=lambda e, scan=scan: self._lookup_failed(scan, e))

    def is_known_code(self, code: str) -> bool:
        """A command or a packer badge: codes nobody types by accident (the key filter lets them through even
        from a field where a person writes, ``ui/keyfilter.py``)."""
        folded = code.strip().lower()
        return code.strip().upper() in COMMAND_CODES or any(b is not None and b.lower() == folded
                                                            for _, b in self.packers)

    def _resolve_in_memory(self, scan: Scan) -> Event | None:
        command = COMMAND_CODES.get(scan.code.upper())
        if command is not None:
            return CommandScanned(scan, command)
        folded = scan.code.lower()
        for packer, badge in self.packers:
            if badge is not None and badge.lower() == folded:
                return PackerIdentified(scan, packer)
        pack = self.state.pack
        if pack is not None:
            item = pack.plan.item_for_barcode(scan.code)
            if item is not None:
                return ItemScanned(scan, item.ref)
        return None

    def _resolved(self, scan: Scan, r: Resolution, pack_key: str) -> None:
        self._looking_up = False
        if r.plan is not None:
            ok, problem = self.recorder.ready()
            started = self._handle(WaybillScanned(scan, r.plan, pack_key, "" if ok else problem, r.claimed_by))
            if not started and r.claimed_by is None:  # claimed for a pack that did not start: give it back
                self.worker.submit(lambda s, key=pack_key: claims.release(s, key))
        else:
            self._handle(ItemScanned(scan, r.item))
        self._pump()

    def _lookup_failed(self, scan: Scan, e: BaseException) -> None:
        self._looking_up = False
        self.listener.on_sound(Sound.ERROR)
        # a connection that broke is the server, not the scan: say so (the monitor confirms it within seconds)
        code = "db_unreachable" if isinstance(e, OperationalError | DisconnectionError) else "lookup_failed"
        self.listener.on_error(KnownError(code, detail=repr(e), code_scanned=scan.code))
        self._pump()

    # ------------------------------------------------------------------ effects

    def _handle(self, event: Event) -> bool:
        """Feed the machine and carry out its effects; True when a pack began."""
        if not isinstance(event, Timeout | LinesChanged | Closing):
            self._last_activity = event.scan.at
        effects = self.machine.handle(event)
        for fx in effects:
            self._apply(fx)
        self.listener.on_state(self.state)
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
                self.worker.submit(lambda s, fx=fx: packing.begin_pack(s, fx, self.station),
                                   on_error=lambda e, fx=fx: self._store_failed(fx.pack_key, e))
            case LogScan():
                self.worker.submit(lambda s, fx=fx: packing.log_scan(s, fx, self.station))
            case EndPack():
                self.worker.submit(lambda s, fx=fx: packing.end_pack(s, fx),
                                   on_error=lambda e, fx=fx: self._store_failed(fx.pack_key, e, fx.outcome))
            case _:  # ShowMessage: the new state carries it
                pass

    # ------------------------------------------------------------------ recorder events (UI thread)

    def on_recorder_event(self, ev: RecorderEvent) -> None:
        """What the recorder reports later, routed here on the UI thread: index the video, warn on failure."""
        match ev:
            case RecordingStarted():
                job = self._jobs.get(ev.pack_key)
                self.worker.submit(lambda s, ev=ev, job=job: recordings.recording_started(
                    s, pack_key=ev.pack_key, tracking_number=job.tracking_number if job else "",
                    order_nos=",".join(job.order_nos) if job else "", station=self.station,
                    packer_name=job.packer_name if job else "", recorder=self.recorder.name, path=str(ev.path),
                    started_at=ev.started_at))
            case RecordingFinished():
                self._jobs.pop(ev.pack_key, None)
                self.worker.submit(lambda s, ev=ev: recordings.recording_finished(
                    s, pack_key=ev.pack_key, path=str(ev.path), started_at=ev.started_at, ended_at=ev.ended_at,
                    frames=ev.frames, dropped=ev.dropped, size_bytes=ev.size_bytes, outcome=ev.outcome,
                    sha256=ev.sha256))
            case RecordingFailed():
                if ev.pack_key is not None:
                    self._jobs.pop(ev.pack_key, None)
                    self.worker.submit(lambda s, key=ev.pack_key: recordings.recording_failed(s, key))
                log.warning("recording problem %s: %s", ev.code, ev.detail)
                self.listener.on_sound(Sound.WARNING)
                self.listener.on_error(RecordingProblem(ev.code, detail=ev.detail))

    def _store_failed(self, pack_key: str, e: BaseException, outcome: PackOutcome | None = None) -> None:
        self.listener.on_sound(Sound.ERROR)
        if isinstance(e, IntegrityError) and outcome is PackOutcome.COMPLETED:
            self.listener.on_error(PackAlreadyCompleted(detail=str(e.orig), pack_key=pack_key))
        else:
            self.listener.on_error(PackNotStored(detail=repr(e), pack_key=pack_key))
