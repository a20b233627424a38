"""The station service against the demo database, without Qt: a queue stands in for the UI thread."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from packdesk.channels.demo import BARCODE, Scenario
from packdesk.core import models as m
from packdesk.core.db import Database
from packdesk.core.enums import LineStatus, PackOutcome, ScanKind, ScanSource
from packdesk.core.errors import KnownError
from packdesk.core.station import CompleteMode, Msg, Scan, Sound, StationConfig, StationState
from packdesk.devices.recorder import RecorderState, RecordingJob
from packdesk.services.dbworker import DbWorker
from packdesk.services.station import DayCounts, StationService


class SpyRecorder:
    name = "spy"

    def __init__(self) -> None:
        self.calls: list[tuple[str, object]] = []
        self.jobs: list[RecordingJob] = []
        self.problem = ""

    @property
    def state(self) -> RecorderState:
        return RecorderState.IDLE

    def ready(self) -> tuple[bool, str]:
        return not self.problem, self.problem

    def start(self, job: RecordingJob) -> None:
        self.calls.append(("start", job.tracking_number))
        self.jobs.append(job)

    def stop(self, pack_key: str, outcome: PackOutcome) -> None:
        self.calls.append(("stop", outcome))

    def close(self) -> None:
        pass


class Listener:
    def __init__(self) -> None:
        self.states: list[StationState] = []
        self.sounds: list[Sound] = []
        self.errors: list[KnownError] = []
        self.notices: list[KnownError] = []

    def on_state(self, state: StationState) -> None:
        self.states.append(state)

    def on_sound(self, sound: Sound) -> None:
        self.sounds.append(sound)

    def on_error(self, error: KnownError) -> None:
        self.errors.append(error)

    def on_notice(self, notice: KnownError) -> None:
        self.notices.append(notice)


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 24, 1, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


class Rig:
    def __init__(self, db: Database, mode: CompleteMode = CompleteMode.AUTO, require_recording: bool = False,
                 station: str = "S1", clock: Clock | None = None) -> None:
        self.posted: queue.Queue[Callable[[], None]] = queue.Queue()
        self.worker = DbWorker(db, self.posted.put)
        self.recorder = SpyRecorder()
        self.listener = Listener()
        self.clock = clock or Clock()
        self.svc = StationService(self.worker, self.recorder, self.listener, station=station,
                                  config=StationConfig(complete_mode=mode, require_recording=require_recording),
                                  clock=self.clock)
        self.svc.start()

    def settle(self) -> None:
        """Run posted callbacks on this ("UI") thread until the DB thread has nothing left."""
        while True:
            assert self.worker.wait_idle(5)
            try:
                self.posted.get_nowait()()
            except queue.Empty:
                if self.worker.wait_idle(0) and self.posted.empty():
                    return

    def scan(self, *codes: str) -> None:
        for c in codes:
            self.svc.scan(c, ScanSource.WEDGE)
        self.settle()

    @property
    def message(self) -> Msg:
        return self.svc.state.message.code


@pytest.fixture
def rig(demo_db: Database) -> Iterator[Rig]:
    r = Rig(demo_db)
    yield r
    r.worker.close()


def test_happy_path_is_stored_end_to_end(rig: Rig, demo_db: Database) -> None:
    rig.scan("PD-PACKER-001", Scenario.SIMPLE)
    assert rig.message is Msg.PACK_STARTED and rig.recorder.calls == [("start", Scenario.SIMPLE)]
    rig.scan(BARCODE["MUG-WH-01"], BARCODE["TMB-500"], BARCODE["MUG-WH-01"])
    assert rig.message is Msg.PACK_COMPLETE
    assert rig.listener.sounds == [Sound.OK, Sound.OK, Sound.ITEM, Sound.ITEM, Sound.COMPLETE]
    assert rig.recorder.calls[-1] == ("stop", PackOutcome.COMPLETED)
    with demo_db.session() as s:
        ps = s.scalars(select(m.PackSession)).one()
        assert ps.outcome is PackOutcome.COMPLETED and ps.packer_name == "김민수" and ps.station == "S1"
        lines = s.scalars(select(m.OrderLine).where(m.OrderLine.packed_session_id == ps.id)).all()
        assert len(lines) == 2 and {ln.status for ln in lines} == {LineStatus.PACKED}
        events = s.scalars(select(m.ScanEvent).order_by(m.ScanEvent.id)).all()
        assert [e.kind for e in events] == [ScanKind.PACKER, ScanKind.WAYBILL] + [ScanKind.ITEM] * 3
        assert all(e.accepted for e in events) and all(e.pack_session_id == ps.id for e in events[1:])


def test_rescanning_a_packed_waybill_is_refused_from_the_database(rig: Rig) -> None:
    rig.scan("PD-PACKER-001", Scenario.SIMPLE, BARCODE["MUG-WH-01"], BARCODE["TMB-500"], BARCODE["MUG-WH-01"])
    rig.scan(Scenario.SIMPLE)
    assert rig.message is Msg.WAYBILL_ALREADY_PACKED and rig.listener.sounds[-1] is Sound.ERROR


def test_scans_made_during_a_lookup_are_handled_in_order(rig: Rig) -> None:
    # waybill then items typed before the waybill lookup returns: items must count toward it
    for code in ("PD-PACKER-001", Scenario.SIMPLE, BARCODE["MUG-WH-01"], BARCODE["MUG-WH-01"], BARCODE["TMB-500"]):
        rig.svc.scan(code, ScanSource.WEDGE)
    assert rig.svc.busy
    rig.settle()
    assert rig.message is Msg.PACK_COMPLETE and not rig.svc.busy


def test_refusals_are_logged_with_reason(rig: Rig, demo_db: Database) -> None:
    rig.scan("PD-PACKER-001", Scenario.PARTLY_CANCELLED)
    assert rig.message is Msg.PACK_STARTED_PARTLY_CANCELLED
    rig.scan(BARCODE["TMB-500"])  # the tumbler line is cancelled
    assert rig.message is Msg.CANCELLED_LINE_ITEM
    rig.scan(BARCODE["TEA-GR"])   # exists, not in this box: looked up in the database
    assert rig.message is Msg.WRONG_ITEM
    rig.scan("NO-SUCH-CODE")
    assert rig.message is Msg.UNKNOWN_BARCODE
    rig.scan("pd-cmd-cancel")     # commands read in any case
    assert rig.message is Msg.PACK_CANCELLED
    with demo_db.session() as s:
        reasons = s.scalars(select(m.ScanEvent.reason).where(~m.ScanEvent.accepted).order_by(m.ScanEvent.id)).all()
        assert reasons == ["cancelled_line_item", "wrong_item", "unknown_barcode"]
        assert s.scalars(select(m.PackSession.outcome)).one() is PackOutcome.CANCELLED
        assert not s.scalars(select(m.OrderLine).where(m.OrderLine.status == LineStatus.PACKED)).all()


def test_choose_packer_by_name_and_idle_timeout(rig: Rig, demo_db: Database) -> None:
    packer, _ = rig.svc.packers[0]
    rig.svc.choose_packer(packer)
    rig.scan(Scenario.TEA_SET)
    assert rig.svc.state.pack is not None
    rig.svc.tick()
    assert rig.svc.state.pack is not None  # one second is not idle
    rig.clock.now += timedelta(minutes=11)
    rig.svc.tick()
    rig.settle()
    assert rig.message is Msg.PACK_TIMED_OUT and rig.recorder.calls[-1] == ("stop", PackOutcome.TIMED_OUT)
    with demo_db.session() as s:
        assert s.scalars(select(m.PackSession.outcome)).one() is PackOutcome.TIMED_OUT


def test_open_pack_from_a_crash_is_abandoned_at_start(rig: Rig, demo_db: Database, expect_warnings) -> None:  # type: ignore[no-untyped-def]
    rig.scan("PD-PACKER-001", Scenario.TEA_SET)
    rig.worker.close()  # the app dies mid-pack
    again = Rig(demo_db)
    with demo_db.session() as s:
        assert s.scalars(select(m.PackSession.outcome)).one() is PackOutcome.ABANDONED
    again.scan("PD-PACKER-001", Scenario.TEA_SET)
    assert again.message is Msg.PACK_STARTED
    again.worker.close()


def test_the_next_start_names_the_parcel_the_last_run_left_unfinished(rig: Rig, demo_db: Database,
                                                                     expect_warnings) -> None:  # type: ignore[no-untyped-def]
    assert rig.svc.interrupted is None
    rig.scan("PD-PACKER-001", Scenario.SIMPLE)
    rig.svc.close_open_pack()  # closed mid-pack, after asking
    rig.settle()
    assert rig.recorder.calls[-1] == ("stop", PackOutcome.CLOSED) and rig.svc.state.pack is None
    rig.worker.close()
    closed = Rig(demo_db)
    assert closed.svc.interrupted == (Scenario.SIMPLE, PackOutcome.CLOSED)
    closed.scan("PD-PACKER-001", Scenario.TEA_SET)
    closed.worker.close()  # the app dies mid-pack
    crashed = Rig(demo_db)
    assert crashed.svc.interrupted == (Scenario.TEA_SET, PackOutcome.ABANDONED)
    crashed.scan("PD-PACKER-001", Scenario.SIMPLE, BARCODE["MUG-WH-01"], BARCODE["TMB-500"], BARCODE["MUG-WH-01"])
    assert crashed.message is Msg.PACK_COMPLETE
    crashed.worker.close()
    done = Rig(demo_db)
    assert done.svc.interrupted is None  # the last pack was completed: nothing to say
    done.worker.close()


def test_a_waybill_completed_elsewhere_is_reported(rig: Rig, demo_db: Database, expect_warnings) -> None:  # type: ignore[no-untyped-def]
    rig.scan("PD-PACKER-001", Scenario.TEA_SET)
    with demo_db.session() as s:  # another station completes the same waybill meanwhile
        wb = s.scalar(select(m.Waybill.id).where(m.Waybill.tracking_number == Scenario.TEA_SET))
        s.add(m.PackSession(key="other", waybill_id=wb, station="S2", packer_name="x", started_at=rig.clock.now,
                            outcome=PackOutcome.COMPLETED))
    rig.scan(*[BARCODE["TEA-GR"]] * 12)
    assert [e.code for e in rig.listener.errors] == ["pack_already_completed"]
    assert rig.listener.sounds[-1] is Sound.ERROR


def test_recordings_are_indexed_from_start_to_finish(rig: Rig, demo_db: Database, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from packdesk.core.enums import RecordingStatus
    from packdesk.devices.recorder import RecordingFinished, RecordingStarted

    rig.scan("PD-PACKER-001", Scenario.COMBINED)
    job = rig.recorder.jobs[-1]
    assert job.order_nos == ("202600000008", "202600000009") and job.station == "S1"
    video = tmp_path / "v.ts"
    rig.svc.on_recorder_event(RecordingStarted(job.pack_key, video, job.started_at))
    rig.settle()
    with demo_db.session() as s:
        rec = s.scalars(select(m.Recording)).one()
        assert (rec.status, rec.tracking_number, rec.order_nos) == (
            RecordingStatus.RECORDING, Scenario.COMBINED, "202600000008,202600000009")
        assert rec.pack_session_id is not None and rec.recorder == "spy"
    rig.scan("PD-CMD-CANCEL")
    start = job.started_at - timedelta(seconds=3)
    rig.svc.on_recorder_event(RecordingFinished(job.pack_key, video, start, job.started_at + timedelta(seconds=9),
                                                360, 0, 1234, PackOutcome.CANCELLED))
    rig.settle()
    with demo_db.session() as s:
        rec = s.scalars(select(m.Recording)).one()
        assert (rec.status, rec.pack_outcome, rec.duration_ms, rec.size_bytes, rec.frames) == (
            RecordingStatus.COMPLETE, PackOutcome.CANCELLED, 12000, 1234, 360)  # a cancelled pack keeps its video


def test_recording_failure_warns_and_packing_goes_on(rig: Rig, expect_warnings) -> None:  # type: ignore[no-untyped-def]
    from packdesk.devices.recorder import RecordingFailed

    rig.scan("PD-PACKER-001", Scenario.SIMPLE)
    rig.svc.on_recorder_event(RecordingFailed(rig.recorder.jobs[-1].pack_key, "disk_low", "free=0.5 GB"))
    rig.settle()
    assert [e.code for e in rig.listener.errors] == ["disk_low"] and rig.listener.sounds[-1] is Sound.WARNING
    rig.scan(BARCODE["MUG-WH-01"])
    assert rig.message is Msg.ITEM_OK


def test_required_recording_blocks_the_pack(demo_db: Database) -> None:
    r = Rig(demo_db, require_recording=True)
    r.recorder.problem = "camera_unavailable"
    r.scan("PD-PACKER-001", Scenario.SIMPLE)
    assert r.message is Msg.RECORDING_UNAVAILABLE and r.recorder.calls == []
    r.recorder.problem = ""
    r.scan(Scenario.SIMPLE)
    assert r.message is Msg.PACK_STARTED
    r.worker.close()


def test_interrupted_recording_is_recovered_at_start(rig: Rig, demo_db: Database, tmp_path,  # type: ignore[no-untyped-def]
                                                     expect_warnings) -> None:
    from packdesk.core.enums import RecordingStatus
    from packdesk.devices.recorder import RecordingStarted

    rig.scan("PD-PACKER-001", Scenario.SIMPLE)
    video = tmp_path / "partial.ts"
    video.write_bytes(b"x" * 4096)
    job = rig.recorder.jobs[-1]
    rig.svc.on_recorder_event(RecordingStarted(job.pack_key, video, job.started_at))
    rig.settle()
    rig.worker.close()  # killed mid-pack
    again = Rig(demo_db)
    with demo_db.session() as s:
        rec = s.scalars(select(m.Recording)).one()
        assert (rec.status, rec.size_bytes, rec.pack_outcome) == (RecordingStatus.RECOVERED, 4096,
                                                                  PackOutcome.ABANDONED)
    again.worker.close()


@pytest.mark.parametrize("required", [False, True])
def test_a_crashed_recorder_keeps_the_cut_file_and_the_pack_goes_on_or_stops(
        demo_db: Database, tmp_path, expect_warnings, required: bool) -> None:  # type: ignore[no-untyped-def]
    """The recorder's process died mid-pack: its file is kept (hashed, chained); the packer hears the warning;
    the rest of the pack is filmed in a second file, or, when recording is required, the pack stops."""
    from packdesk.core.enums import RecordingStatus
    from packdesk.devices.recorder import RecorderCrashed, RecordingStarted

    rig = Rig(demo_db, require_recording=required)
    rig.scan("PD-PACKER-001", Scenario.SIMPLE, BARCODE["MUG-WH-01"])
    job = rig.recorder.jobs[-1]
    cut = tmp_path / "cut.ts"
    cut.write_bytes(b"\x47" * 188 * 20)
    rig.svc.on_recorder_event(RecordingStarted(job.pack_key, cut, job.started_at))
    rig.settle()
    rig.svc.on_recorder_event(RecorderCrashed("recorder process 1 exit code -9", ((job.pack_key, cut),)))
    rig.settle()
    assert rig.listener.sounds[-1] is Sound.WARNING and rig.svc.state.message.level.value == "warning"
    with demo_db.session() as s:
        rec = s.scalars(select(m.Recording)).one()
        assert rec.status is RecordingStatus.RECOVERED and len(rec.sha256) == 64 and "recorder process" in rec.note
        assert s.scalars(select(m.ChainEntry.recording_id).where(m.ChainEntry.kind == "recording")).all() == [rec.id]
    if required:
        assert rig.message is Msg.RECORDER_LOST_PACK_STOPPED and rig.svc.state.pack is None
        assert rig.recorder.calls[-1] == ("stop", PackOutcome.ABANDONED) and not rig.svc.recordings_pending
        rig.scan(Scenario.SIMPLE)  # the claim was given back: the same waybill starts again, filmed whole
        assert rig.message is Msg.PACK_STARTED and rig.recorder.jobs[-1].pack_key != job.pack_key
    else:
        again = rig.recorder.jobs[-1]
        assert rig.message is Msg.RECORDER_GAP and rig.svc.state.pack is not None
        assert again.pack_key == job.pack_key and again.started_at > job.started_at and again is not job
        rig.svc.on_recorder_event(RecordingStarted(again.pack_key, tmp_path / "rest.ts", again.started_at))
        rig.settle()
        rig.scan(BARCODE["TMB-500"], BARCODE["MUG-WH-01"])
        assert rig.message is Msg.PACK_COMPLETE
        with demo_db.session() as s:
            rows = s.scalars(select(m.Recording).order_by(m.Recording.id)).all()
            assert [(r.pack_key, r.tracking_number, r.status) for r in rows] == [
                (job.pack_key, Scenario.SIMPLE, RecordingStatus.RECOVERED),
                (job.pack_key, Scenario.SIMPLE, RecordingStatus.RECORDING)]  # the rest, until its file closes
    rig.worker.close()


def test_worker_refuses_work_after_close(demo_db: Database) -> None:
    w = DbWorker(demo_db)
    w.close()
    assert w.submit(lambda s: 1).cancelled() and w.read_aside(lambda s: 1).cancelled()


def test_first_jobs_run_before_the_queued_ones_in_their_own_order(demo_db: Database) -> None:
    w = DbWorker(demo_db)
    running, go = threading.Event(), threading.Event()
    w.submit(lambda s: (running.set(), go.wait(60)))
    assert running.wait(5)
    ran: list[str] = []
    futures = [w.submit(lambda s, n=n: ran.append(n) or n, first=n.startswith("first"))
               for n in ("write 1", "first 1", "write 2", "first 2")]
    cancelled = w.submit(lambda s: ran.append("cancelled"))
    assert cancelled.cancel()  # its caller gave up on it while it waited: it never runs, and idle still comes
    go.set()
    assert w.wait_idle(5) and [f.result() for f in futures] == ["write 1", "first 1", "write 2", "first 2"]
    assert ran == ["first 1", "first 2", "write 1", "write 2"]
    w.close()


def test_the_db_thread_waits_for_a_first_jobs_answer_to_be_handled(demo_db: Database,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """A lookup's answer is drawn at once; the thread does not start the next write (Python that would take
    turns with the drawing at the interpreter lock) until it is handled, or ``UI_TURN_S`` has passed."""
    from packdesk.services import dbworker

    monkeypatch.setattr(dbworker, "UI_TURN_S", 60.0)  # a loaded machine's pauses never end the wait here
    posted: queue.Queue[Callable[[], None]] = queue.Queue()
    w = DbWorker(demo_db, posted.put)
    ran: list[str] = []
    w.submit(lambda s: "found", on_done=ran.append, first=True)
    after = w.submit(lambda s: ran.append("next write"))
    answer = posted.get(timeout=5)
    with pytest.raises(TimeoutError):
        after.result(timeout=0.05)  # held while the answer waits for the UI thread
    answer()
    after.result(timeout=5)
    assert ran == ["found", "next write"]
    monkeypatch.setattr(dbworker, "UI_TURN_S", 0.01)
    w.submit(lambda s: "nobody handles this", on_done=ran.append, first=True)
    w.submit(lambda s: ran.append("goes on")).result(timeout=30)  # UI_TURN_S later: never held for long
    assert ran[-1] == "goes on"
    w.close()


def test_a_long_count_never_holds_a_scan_up(rig: Rig, monkeypatch: pytest.MonkeyPatch) -> None:
    """Today's counts (half a second over a million order lines) are read beside the writes' queue: a waybill
    scanned meanwhile is looked up, claimed and begun while the count is still reading."""
    from packdesk.core import queries

    reading, finish = threading.Event(), threading.Event()

    def slow_counts(s, station, since):  # type: ignore[no-untyped-def]
        reading.set()
        assert finish.wait(10)
        return 7, 3

    monkeypatch.setattr(queries, "station_counts", slow_counts)
    counts: list[DayCounts] = []
    rig.svc.on_counts = counts.append
    rig.scan("PD-PACKER-001")
    rig.svc.refresh_counts()
    assert reading.wait(5)
    rig.svc.scan(Scenario.SIMPLE, ScanSource.WEDGE)
    rig.worker.submit(lambda s: None).result(timeout=5)  # the writes' queue: past the lookup and its claim
    while not rig.posted.empty():
        rig.posted.get_nowait()()
    assert rig.svc.state.pack is not None and rig.svc.state.pack.plan.tracking_number == Scenario.SIMPLE
    assert counts == [] and not rig.worker.wait_idle(0)  # still counting: wait_idle waits for it too
    finish.set()
    rig.settle()
    assert counts == [DayCounts(7, 3)]


def test_completing_a_pack_queues_its_dispatches_in_the_same_transaction(rig: Rig, demo_db: Database) -> None:
    from packdesk.core.enums import OutboxState

    rig.scan("PD-PACKER-001", Scenario.COMBINED)  # 합포장: two orders, three lines, one waybill
    for code in (BARCODE["MUG-BK-01"], *[BARCODE["COASTER-01"]] * 4, BARCODE["TMB-500"]):
        rig.scan(code)
    assert rig.message is Msg.PACK_COMPLETE
    with demo_db.session() as s:
        entries = s.scalars(select(m.DispatchEntry)).all()
        packed = s.scalars(select(m.OrderLine.id).where(m.OrderLine.status == LineStatus.PACKED)).all()
    assert sorted(e.line_id for e in entries) == sorted(packed) and len(entries) == 3
    assert {(e.courier_code, e.tracking_number, e.state) for e in entries} == {
        ("CJGLS", Scenario.COMBINED, OutboxState.PENDING)}


def test_with_the_server_away_a_new_pack_is_refused_at_once_and_the_open_one_goes_on(rig: Rig,
                                                                                    expect_warnings) -> None:  # type: ignore[no-untyped-def]
    rig.scan("PD-PACKER-001", Scenario.SIMPLE, BARCODE["MUG-WH-01"])
    rig.svc.set_db_online(False)
    rig.scan(BARCODE["TMB-500"])  # an item of the open box: from memory, counted
    assert rig.message is Msg.ITEM_OK
    rig.scan(Scenario.GIFT_SET)   # needs the database: refused at once with the reason, not a timeout
    assert rig.listener.errors[-1].code == "db_unreachable" and rig.listener.sounds[-1] is Sound.ERROR
    assert rig.listener.errors[-1].params["code_scanned"] == Scenario.GIFT_SET and not rig.svc.busy
    rig.svc.set_db_online(True)
    rig.scan(BARCODE["MUG-WH-01"])
    assert rig.message is Msg.PACK_COMPLETE


def test_a_lookup_that_loses_the_connection_says_the_server_is_away(rig: Rig, expect_warnings) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy.exc import OperationalError

    rig.scan("PD-PACKER-001")
    rig.svc._lookup_failed(Scan("601000000099", ScanSource.WEDGE, rig.clock()),
                           OperationalError("SELECT", {}, Exception("server closed the connection unexpectedly")))
    rig.svc._lookup_failed(Scan("601000000098", ScanSource.WEDGE, rig.clock()), ValueError("a bug"))
    assert [e.code for e in rig.listener.errors] == ["db_unreachable", "lookup_failed"]


def test_the_database_probe(db: Database, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from packdesk.services.connectivity import database_probe

    assert database_probe(db)()
    gone = Database.open(f"sqlite:///{tmp_path}/x.sqlite3", create=True)
    gone.engine.dispose()
    (tmp_path / "x.sqlite3").unlink()
    (tmp_path / "x.sqlite3").mkdir()  # now a folder: the file cannot be opened
    assert not database_probe(gone)()


def test_a_count_barcode_confirmed_by_the_item_is_stored_and_chained(rig: Rig, demo_db: Database,
                                                                    expect_warnings) -> None:  # type: ignore[no-untyped-def]
    """The 12-pack of tea in two scans: ``PD-QTY-12`` (any case, from the sheet or typed) then the tea. The scan
    event says 12 units, the pack's chain link covers it, and a quantity edited afterwards is caught."""
    from sqlalchemy import update

    from packdesk.services.integrity import verify

    tea = BARCODE["TEA-GR"]
    rig.scan("PD-PACKER-001", Scenario.TEA_SET, tea)
    assert rig.message is Msg.ITEM_OK_MANY_LEFT and rig.svc.state.message.params["left"] == 11
    assert rig.svc.is_known_code("pd-qty-11")  # passes the key filter even from a typing field
    rig.scan("pd-qty-11")
    assert rig.message is Msg.COUNT_READY and rig.svc.state.pending_count == 11
    rig.scan(tea)
    assert rig.message is Msg.PACK_COMPLETE
    with demo_db.session() as s:
        events = s.execute(select(m.ScanEvent.code, m.ScanEvent.kind, m.ScanEvent.quantity)
                           .where(m.ScanEvent.pack_session_id.is_not(None)).order_by(m.ScanEvent.id)).all()
    assert [(k, q) for _, k, q in events] == [(ScanKind.WAYBILL, 1), (ScanKind.ITEM, 1), (ScanKind.COMMAND, 1),
                                              (ScanKind.ITEM, 11)]
    assert verify(demo_db, station="S1").ok
    with demo_db.session() as s:  # 11 made 1 by hand: the pack's link no longer matches its scans
        s.execute(update(m.ScanEvent).where(m.ScanEvent.quantity == 11).values(quantity=1))
    assert not verify(demo_db, station="S1").ok
    assert "scans_changed" in expect_warnings.text


def test_a_count_that_is_no_number_is_refused(rig: Rig) -> None:
    rig.scan("PD-PACKER-001", Scenario.TEA_SET, "PD-QTY-X2")
    assert rig.message is Msg.COUNT_INVALID and rig.svc.state.pending_count == 0


def test_the_screen_is_drawn_before_the_writes_and_a_failed_drawing_loses_no_scan(rig: Rig, demo_db: Database) -> None:
    """The redraw runs before the scan's writes go to the DB thread (they would share the interpreter with it);
    a redraw that raises still hands them over."""
    order: list[str] = []
    submit = rig.worker.submit
    rig.worker.submit = lambda job, *a, **k: (order.append("write"), submit(job, *a, **k))[1]  # type: ignore[method-assign]
    drawn = rig.listener.on_state
    rig.listener.on_state = lambda state: (order.append("draw"), drawn(state))[1]  # type: ignore[method-assign]
    rig.scan("PD-PACKER-001", Scenario.SIMPLE)
    order.clear()
    rig.scan(BARCODE["MUG-WH-01"])
    assert order == ["draw", "write"]

    def broken(state: StationState) -> None:
        raise RuntimeError("a drawing bug")

    rig.listener.on_state = broken  # type: ignore[method-assign]
    with pytest.raises(RuntimeError):
        rig.svc.scan(BARCODE["TMB-500"], ScanSource.WEDGE)
    rig.settle()
    with demo_db.session() as s:
        assert s.scalar(select(func.count()).select_from(m.ScanEvent).where(m.ScanEvent.kind == ScanKind.ITEM)) == 2


class HeldWorker:
    """The DB thread held by a job of the test's until ``release``: what the station queues meanwhile waits."""

    def __init__(self, rig: Rig) -> None:
        self.rig, self._go, running = rig, threading.Event(), threading.Event()
        rig.worker.submit(lambda s: (running.set(), self._go.wait(60)))
        assert running.wait(5)

    def release(self) -> None:
        self._go.set()
        self.rig.settle()


def watch_db_jobs(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The lookups and pack ends as the DB thread runs them: ("look up CODE" or "look up CODE, waits"; "end")."""
    from packdesk.core import packing
    from packdesk.services import station

    ran: list[str] = []
    real_resolve, real_end = station.resolve, packing.end_pack

    def resolve(s, code, *a, **kw):  # type: ignore[no-untyped-def]
        r = real_resolve(s, code, *a, **kw)
        ran.append(f"look up {code}" + (", waits" if r.waits else ""))
        return r

    def end_pack(s, fx):  # type: ignore[no-untyped-def]
        ran.append("end")
        return real_end(s, fx)

    monkeypatch.setattr(station, "resolve", resolve)
    monkeypatch.setattr(packing, "end_pack", end_pack)
    return ran


def test_a_waybill_scanned_the_moment_a_pack_completes_is_looked_up_ahead_of_its_writes(
        rig: Rig, demo_db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    """The next waybill does not wait for the pack just completed to be stored (~10 ms of writes on a busy
    database): its lookup goes first, and both packs are stored as they happened."""
    rig.scan("PD-PACKER-001", Scenario.SIMPLE, BARCODE["MUG-WH-01"], BARCODE["TMB-500"])
    ran = watch_db_jobs(monkeypatch)
    held = HeldWorker(rig)
    rig.svc.scan(BARCODE["MUG-WH-01"], ScanSource.WEDGE)  # completes: its scan and its end are queued
    rig.svc.scan(Scenario.TEA_SET, ScanSource.WEDGE)
    held.release()
    assert ran == [f"look up {Scenario.TEA_SET}", "end"]
    assert rig.message is Msg.PACK_STARTED and rig.svc.state.pack.plan.tracking_number == Scenario.TEA_SET  # type: ignore[union-attr]
    with demo_db.session() as s:
        sessions = s.execute(select(m.PackSession.outcome, m.Waybill.tracking_number)
                             .join(m.Waybill, m.Waybill.id == m.PackSession.waybill_id)
                             .order_by(m.PackSession.id)).all()
        assert [tuple(r) for r in sessions] == [(PackOutcome.COMPLETED, Scenario.SIMPLE),
                                                (PackOutcome.OPEN, Scenario.TEA_SET)]
        claimed = s.scalars(select(m.Waybill.tracking_number).join(
            m.WaybillClaim, m.WaybillClaim.waybill_id == m.Waybill.id)).all()
        assert claimed == [Scenario.TEA_SET]  # the completed one let go, the new one held


def test_the_waybill_just_completed_scanned_again_at_once_is_looked_up_after_its_writes(
        rig: Rig, demo_db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    """Ahead of its own pack's end, the waybill would read its lines unpacked and open a second pack of a
    packed parcel: it is answered "waits" (nothing claimed) and looked up again once the end is stored."""
    rig.scan("PD-PACKER-001", Scenario.SIMPLE, BARCODE["MUG-WH-01"], BARCODE["TMB-500"])
    ran = watch_db_jobs(monkeypatch)
    held = HeldWorker(rig)
    rig.svc.scan(BARCODE["MUG-WH-01"], ScanSource.WEDGE)
    rig.svc.scan(Scenario.SIMPLE, ScanSource.WEDGE)
    held.release()
    assert ran == [f"look up {Scenario.SIMPLE}, waits", "end", f"look up {Scenario.SIMPLE}"]
    assert rig.message is Msg.WAYBILL_ALREADY_PACKED and rig.svc.state.pack is None
    with demo_db.session() as s:
        assert s.scalar(select(func.count()).select_from(m.PackSession)) == 1
        assert s.scalar(select(func.count()).select_from(m.WaybillClaim)) == 0
