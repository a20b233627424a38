"""Composition root: read settings, open the database, build the adapters, wire them, start Qt.

``build_station`` is what ``main`` runs and what the GUI tests run, so the tests drive the same window,
filter and service the packer gets.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from packdesk import APP_NAME, __version__
from packdesk.core import stations
from packdesk.core.db import Database, sqlite_url
from packdesk.core.enums import ScanSource
from packdesk.core.errors import KnownError
from packdesk.core.models import utcnow
from packdesk.core.station import StationConfig
from packdesk.devices.recorder import NullRecorder, Recorder, RecorderEvent
from packdesk.log import setup_logging
from packdesk.native_logs import route_native_logs
from packdesk.paths import AppDirs, app_dirs
from packdesk.services import restart
from packdesk.services.background import Background, video_root
from packdesk.services.instance import InstanceLock
from packdesk.services.schedule import Jobs
from packdesk.services.settings import Settings, SettingsUnusable, database_url, load_settings, save_settings

if TYPE_CHECKING:
    from PySide6.QtWidgets import QApplication

    from packdesk.services.dbworker import DbWorker
    from packdesk.services.station import StationService
    from packdesk.ui.activation import ActivationServer
    from packdesk.ui.bridge import MainThreadPoster
    from packdesk.ui.heap import HeapKeeper
    from packdesk.ui.keyfilter import WedgeKeyFilter
    from packdesk.ui.main_window import MainWindow, WindowDeps
    from packdesk.ui.preview import PreviewSource

log = logging.getLogger("packdesk.app")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="packdesk", description=f"{APP_NAME}: 포장 스테이션 / packing station")
    p.add_argument("--version", action="version", version=f"{APP_NAME} {__version__}")
    p.epilog = ("packdesk verify [--data-dir DIR] [--station NAME | --all]: 녹화 무결성 검사 / prove the recordings "
                "unaltered; packdesk self-test: 자체 점검 / a headless pack, filmed and verified; packdesk "
                "move-to-server URL: 이 PC의 데이터를 창고 서버로 / move this PC's data to the warehouse server; "
                "packdesk staff add NAME | list: 작업자 / packers")
    p.add_argument("--data-dir", type=Path, help="keep all data, settings, logs and videos in this folder "
                                                  "(portable install); default: the per-user folders")
    p.add_argument("--no-demo", action="store_true", help="do not set up the demo shop")
    p.add_argument("--barcode-sheet", type=Path, metavar="FILE.pdf|png",
                   help="write the starter barcode sheet and exit")
    p.add_argument("--screenshot", type=Path, metavar="FILE.png",
                   help="start, run --scans if given, save a picture of the window and exit")
    p.add_argument("--scans", nargs="*", default=[], metavar="CODE",
                   help="with --screenshot: scans to feed the station first")
    first = p.add_mutually_exclusive_group()
    first.add_argument("--first-run", action="store_true",
                       help="처음 설정 마법사 보이기 / show the first-run set-up, also when settings exist")
    first.add_argument("--no-first-run", action="store_true",
                       help="처음 설정 건너뛰기: 기본값으로 시작 / skip the first-run set-up, start with defaults")
    return p.parse_args(argv)


def wants_first_run(args: argparse.Namespace, *, settings_existed: bool, problem: object) -> bool:
    """The set-up wizard: asked for, or a PC with no settings file yet. Never for a bad file (that is
    explained on the station instead) nor in unattended runs (screenshot, barcode sheet)."""
    if args.first_run or args.no_first_run:
        return bool(args.first_run)
    return not settings_existed and problem is None and not args.screenshot and not args.barcode_sheet


@dataclass
class Station:
    """Everything ``build_station`` made; ``close`` stops it in the right order (last made, first stopped)."""

    dirs: AppDirs
    settings: Settings
    db: Database
    window: MainWindow
    service: StationService
    key_filter: WedgeKeyFilter
    background: Background
    stack: ExitStack = field(default_factory=ExitStack)

    @property
    def jobs(self) -> Jobs:
        """The scheduled work (collection, retention, dispatch, …): services/background.py."""
        return self.background.jobs

    def close(self) -> None:
        """Once: a second call (a test's fixture after the test closed it) finds nothing left to stop."""
        self.stack.close()


def build_recorder(settings: Settings, dirs: AppDirs, emit: Callable[[RecorderEvent], None],
                   on_camera_status: Callable[[str, str], None], *,
                   demo: bool = False) -> tuple[Recorder, PreviewSource | None]:
    """The recorder the settings ask for, and where the live preview comes from. The built-in one runs in a
    process of its own (``devices/recorder_process.py``); ``camera.source = auto`` on a PC without a webcam
    films the synthetic scene only in ``demo`` mode, otherwise the station shows "No camera"."""
    if settings.recorder == "opencv":
        from packdesk.devices.camera import RESOLUTIONS
        from packdesk.devices.recorder_process import ProcessRecorder, RecorderConfig
        from packdesk.ui.preview import PICTURE_SIZE

        cs = settings.camera
        config = RecorderConfig(cs.source, RESOLUTIONS[cs.resolution], video_root(settings, dirs), float(cs.fps),
                                cs.pre_roll_s, settings.recording.encoder, PICTURE_SIZE,
                                label_renderer="packdesk.ui.overlay_text:render_label", demo=demo)
        recorder = ProcessRecorder(config, emit=emit, on_camera_status=on_camera_status,
                                   min_free_bytes=int(settings.recording.min_free_gb * 1024**3))
        return recorder, recorder
    if settings.recorder == "realpacking":
        from packdesk.devices.realpacking import RealPackingRecorder

        return RealPackingRecorder(settings.realpacking.config(), emit=emit), None
    return NullRecorder(), None


def realpacking_probe(settings: Settings) -> tuple[bool, str]:
    """The settings screen's connection test (blocking: the dialog runs it off the UI thread)."""
    from packdesk.devices.realpacking import probe_connection

    return probe_connection(settings.realpacking.config())


def build_station(dirs: AppDirs, settings: Settings, *, demo: bool = True, sounds: bool = True,
                  create_database: bool = False, instance: InstanceLock | None = None,
                  packers: Sequence[str] = ()) -> Station:
    """The running station on an existing QApplication, built top to bottom; each part is stopped in reverse by
    ``Station.close``. Nothing is touched before this process holds the data folder (``instance``, or the lock
    taken here, released last): the start-up clean-up is only right when no other live process owns what it
    closes. ``create_database``: the deliberate path that may make a new database (core/db.py). ``packers``:
    the first-run set-up's names, made before the station starts so their badges sign in at once."""
    from PySide6.QtWidgets import QApplication

    from packdesk.services.dbworker import DbWorker
    from packdesk.ui import files
    from packdesk.ui.bridge import MainThreadPoster
    from packdesk.ui.i18n import set_language
    from packdesk.ui.keyfilter import WedgeKeyFilter
    from packdesk.ui.main_window import MainWindow
    from packdesk.ui.scans import scan_router

    app = QApplication.instance()
    assert isinstance(app, QApplication), "build_station needs a QApplication"
    with ExitStack() as stack:
        if instance is None:  # raises InstanceRunning before anything is touched
            stack.callback(InstanceLock(dirs.data).acquire().release)
        set_language(settings.language)  # before any window is built (ui/i18n.py)
        db = Database.open(database_url(settings, dirs.database), create=create_database)
        stack.callback(db.close)
        db.checkpoint_in_background()  # not inside a scan's commit (core/db.py); stopped by db.close
        background = Background(db, settings, dirs)  # claims the station name, or refuses before anything else
        stack.callback(background.leave)
        prepare_database(db, demo=demo and settings.demo_channel, packers=packers)
        poster = MainThreadPoster()
        worker = DbWorker(db, poster.post)
        stack.callback(worker.close)
        stack.callback(poster.deleteLater)
        stack.callback(poster.close)
        files.remember_in(dirs.data)  # file dialogs reopen where each kind of file was last put (ui/files.py)
        window = MainWindow(window_deps(settings, dirs, db, background, sounds=sounds))
        service = start_packing(stack, settings, dirs, worker, window, poster, background.uploader.kick,
                                demo=demo and settings.demo_channel)
        stack.enter_context(background.running(window, poster.post))
        stack.callback(keep_heap_out_of_the_way(service).stop)
        route = scan_router(service.scan)  # a window that takes scans itself gets them (ui/scans.py)
        key_filter = WedgeKeyFilter(settings.scanner.wedge_config(), window, known_code=service.is_known_code)
        key_filter.scanned.connect(lambda code: route(code, ScanSource.WEDGE))
        app.installEventFilter(key_filter)
        stack.callback(app.removeEventFilter, key_filter)
        start_serial(stack, settings, window, poster, route)
        return Station(dirs, settings, db, window, service, key_filter, background, stack.pop_all())


def keep_heap_out_of_the_way(service: StationService) -> HeapKeeper:
    """The started station's objects frozen out of the garbage collector's full walks (ui/heap.py)."""
    from packdesk.ui.heap import HeapKeeper, quiet_station

    keeper = HeapKeeper(quiet_station(lambda: service.busy, lambda: service.last_scan_monotonic))
    keeper.start()
    return keeper


def prepare_database(db: Database, *, demo: bool, packers: Sequence[str]) -> None:
    """The demo shop, and the packers the first-run set-up asked for."""
    if demo:
        from packdesk.services.demo_setup import ensure_demo

        ensure_demo(db, utcnow())
    if packers:
        from packdesk.services.staff import add_packers

        with db.session() as s:
            add_packers(s, packers)


def window_deps(settings: Settings, dirs: AppDirs, db: Database, background: Background, *,
                sounds: bool) -> WindowDeps:
    from packdesk.ui.main_window import WindowDeps
    from packdesk.ui.sounds import SoundPlayer

    url = db.engine.url
    return WindowDeps(
        station_name=settings.station_name, settings=settings, settings_path=dirs.settings_file,
        sounds=SoundPlayer(enabled=sounds), pictures=background.pictures, collector=background.collector,
        syncer=background.syncer, uploader=background.uploader, video_root=background.video_root,
        anchor_file=background.anchor_file, data_dir=dirs.data,
        db_server=None if url.get_backend_name() == "sqlite" else f"{url.host or ''}:{url.port or 5432}",
        db_address=url.render_as_string(hide_password=True), realpacking_test=realpacking_probe)


def start_packing(stack: ExitStack, settings: Settings, dirs: AppDirs, worker: DbWorker, window: MainWindow,
                  poster: MainThreadPoster, on_completed: Callable[[], object], *, demo: bool) -> StationService:
    """The recorder and the station service, started and shown in the window. Stopped: the recorder closed, its
    last events indexed and chained (a video closed at shutdown too), then the window lets go of the service."""
    from packdesk.services.station import StationService
    from packdesk.ui.preview import CameraPreview

    recorder, camera = build_recorder(
        settings, dirs, lambda ev: poster.post(lambda: service.on_recorder_event(ev)),  # from recorder threads
        lambda state, detail: poster.post(lambda: window.on_camera_status(state, detail)), demo=demo)
    service = StationService(
        worker, recorder, window, station=settings.station_name,
        config=StationConfig(complete_mode=settings.complete_mode,
                             require_recording=settings.recording.require_recording,
                             count_hint_at=settings.count_hint_at),
        idle_timeout=timedelta(minutes=settings.idle_timeout_min),
        claim_expiry=timedelta(minutes=settings.claim_expiry_min),
        label_courier=settings.waybill.courier, check_digit=settings.waybill.check_digit,  # labels bound at packing
        video_folder=video_root(settings, dirs) if settings.recorder == "opencv" else None,  # named when it fills
        on_completed=on_completed)
    service.start()
    window.attach(service)
    stack.callback(window.detach)
    window.view.set_preview(CameraPreview(recorder, camera))  # it and its timer go with the window

    def recorder_events() -> None:
        poster.drain()
        worker.wait_idle(10)

    stack.callback(recorder_events)
    stack.callback(recorder.close)
    return service


def start_serial(stack: ExitStack, settings: Settings, window: MainWindow, poster: MainThreadPoster,
                 route: Callable[[str, ScanSource], None]) -> None:
    """The serial scanner, when one is set: its scans routed as the keyboard's."""
    if not (settings.serial.enabled and settings.serial.port):
        return
    from packdesk.devices.serial_scanner import SerialConfig, SerialScanner

    serial = SerialScanner(
        SerialConfig(settings.serial.port, settings.serial.baudrate, settings.serial.terminator),
        on_scan=lambda code: poster.post(lambda: route(code, ScanSource.SERIAL)),
        on_status=lambda st: poster.post(lambda: window.on_serial_status(st)))
    serial.start()
    stack.callback(serial.stop)


def refuse_start(error: KnownError, *, dialog: bool) -> int:
    """Say why PackDesk does not start: in the log, on stderr in both languages and, for a person at the
    screen, in a message box (never in unattended runs: nobody would close it). The exit code: 2."""
    from packdesk.ui.messages import error_text

    ko, en = error_text(error)
    log.error("not started: %s (%s)", error.code, error.detail)
    print(f"{ko}\n{en}", file=sys.stderr, flush=True)
    if dialog:
        from PySide6.QtWidgets import QMessageBox

        QMessageBox.critical(None, APP_NAME, f"{ko}\n{en}\n\n{error.detail}")
    return 2


def verify_main(argv: Sequence[str]) -> int:
    """``packdesk verify``: check the database, re-hash every recording, walk every chain; exit 1 if anything
    is wrong. It takes no lock: it only reads, and may run while the station packs."""
    from packdesk.core.errors import DatabaseError
    from packdesk.services.integrity import ANCHOR_FILE, read_anchors, verify
    from packdesk.ui.messages import error_text

    p = argparse.ArgumentParser(prog="packdesk verify",
                                description="녹화 무결성 검사 / prove the recordings unaltered")
    p.add_argument("--data-dir", type=Path)
    which = p.add_mutually_exclusive_group()
    which.add_argument("--station", help="this station's recordings (default: this PC's station name)")
    which.add_argument("--all", action="store_true", help="every station's (all files reachable from here)")
    a = p.parse_args(argv)
    dirs = app_dirs(a.data_dir).ensure()
    setup_logging(dirs.logs)
    try:
        settings, _ = load_settings(dirs.settings_file)
    except SettingsUnusable as e:
        return refuse_start(e, dialog=False)
    try:  # the start-up checks: SQLite's quick_check of every page, PackDesk's schema and version
        db = Database.open(database_url(settings, dirs.database))
    except DatabaseError as e:
        ko, en = error_text(e)
        print(f"database: {e.code} — {e.detail}\n{ko}\n{en}")
        print(f"FAILED — 데이터베이스 / database: {e.code}")
        return 1
    print(f"database: ok ({db.location})")
    station = None if a.all else (a.station or settings.station_name)

    def progress(done: int, total: int) -> None:
        if done == total or done % 50 == 0:
            print(f"\r  {done} / {total}", end="", file=sys.stderr, flush=True)

    report = verify(db, video_root(settings, dirs), progress=progress, station=station,
                    anchors=read_anchors(dirs.data / ANCHOR_FILE))
    db.close()
    print(file=sys.stderr)
    print(f"files hashed: {report.checked_files} ({report.bytes_hashed / 1e6:.1f} MB), "
          f"chain links: {report.checked_links} (packs: {report.checked_packs}, returns: {report.checked_returns})")
    for prob in report.problems:
        print(f"{prob.kind:18} {prob.detail}")
    print("OK — 변조 없음 / nothing altered" if report.ok else
          f"FAILED — 문제 {len(report.problems)}건 / {len(report.problems)} problem(s): {report.kinds()}")
    return 0 if report.ok else 1


def move_main(argv: Sequence[str]) -> int:
    """``packdesk move-to-server URL``: copy this PC's SQLite data into the warehouse's PostgreSQL server."""
    p = argparse.ArgumentParser(
        prog="packdesk move-to-server",
        description="이 PC의 데이터를 창고 서버로 옮기기 / move this PC's data to the warehouse server")
    p.add_argument("url", help="postgresql+psycopg://user:password@host:5432/packdesk")
    p.add_argument("--data-dir", type=Path)
    a = p.parse_args(argv)
    dirs = app_dirs(a.data_dir).ensure()
    setup_logging(dirs.logs)
    try:  # the station must not write to the file being copied
        lock = InstanceLock(dirs.data).acquire()
    except KnownError as e:
        return refuse_start(e, dialog=False)
    try:
        return _move(a.url, dirs)
    finally:
        lock.release()


def _move(url: str, dirs: AppDirs) -> int:
    from packdesk.core import words
    from packdesk.core.db import check_connection
    from packdesk.services.dbmove import move_to_server
    from packdesk.ui.messages import error_text

    check = check_connection(url)
    if not check.ok:
        print("\n".join(words.label(words.DB_CHECK_NS, check.code)) + f"\n({check.code}: {check.detail})")
        return 2
    try:
        report = move_to_server(sqlite_url(dirs.database), url,
                                progress=lambda table, n: print(f"  {table}: {n}", flush=True))
    except KnownError as e:
        ko, en = error_text(e)
        print(f"{ko}\n{en}\n({e.code}: {e.detail})")
        return 1
    print(f"OK — {sum(report.counts.values())} rows moved and verified; {dirs.database} is unchanged. "
          "Set database_url in settings to use the server.")
    return 0


def staff_main(argv: Sequence[str]) -> int:
    """``packdesk staff add NAME…`` / ``packdesk staff list``: packers from the command line, for an owner setting
    up many PCs (a shared server needs it once). The same rules as the staff screen (``services/staff.py``)."""
    from packdesk.services import staff
    from packdesk.ui.messages import error_text

    p = argparse.ArgumentParser(prog="packdesk staff", description="작업자 / packers")
    p.add_argument("--data-dir", type=Path)
    sub = p.add_subparsers(dest="action", required=True)
    add = sub.add_parser("add", help="작업자 추가 / add packers (prints each badge code)")
    add.add_argument("names", nargs="+", metavar="NAME")
    sub.add_parser("list", help="작업자 목록 / list the packers")
    a = p.parse_args(argv)
    dirs = app_dirs(a.data_dir).ensure()
    setup_logging(dirs.logs)
    try:
        settings, _ = load_settings(dirs.settings_file)
    except SettingsUnusable as e:
        return refuse_start(e, dialog=False)
    try:  # a folder with no settings yet is a new PC being set up: its database may be made here
        # (docs/operations.md, "The data folder")
        db = Database.open(database_url(settings, dirs.database), create=not dirs.settings_file.exists())
    except KnownError as e:
        return refuse_start(e, dialog=False)
    try:
        if a.action == "add":
            for name in a.names:
                try:
                    with db.session() as s:
                        made = staff.add_packer(s, name)
                except staff.StaffError as e:
                    ko, en = error_text(e)
                    print(f"{ko} / {en}", file=sys.stderr)
                    return 1
                print(f"{made.badge_code}\t{made.name}")
            return 0
        with db.session() as s:
            for mb in staff.list_staff(s):
                print(f"{mb.badge_code}\t{'active' if mb.active else 'inactive'}\t{mb.packs}\t{mb.name}")
        return 0
    finally:
        db.close()


def self_test_main(argv: Sequence[str]) -> int:
    """``packdesk self-test``: the whole station, headless, on a throwaway data folder: the demo shop, the
    synthetic camera through the real recorder, a pack scanned to completion, its video indexed, hashed
    and chained, and ``verify`` clean. Proves an installed (or bundled) PackDesk works; exit 0 or 1."""
    import json
    import os
    import tempfile
    import time

    p = argparse.ArgumentParser(prog="packdesk self-test", description="자체 점검 / self-test, headless")
    p.add_argument("--data-dir", type=Path, help="default: a temporary folder, removed afterwards")
    a = p.parse_args(argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    tmp = None if a.data_dir else tempfile.TemporaryDirectory(prefix="packdesk-selftest-")
    dirs = app_dirs(a.data_dir if tmp is None else Path(tmp.name)).ensure()
    setup_logging(dirs.logs)
    route_native_logs()

    from PySide6.QtWidgets import QApplication

    from packdesk.core.station import Msg
    from packdesk.services.integrity import verify
    from packdesk.services.settings import CameraSettings, RecordingSettings

    app = QApplication.instance() or QApplication(sys.argv[:1])
    settings = Settings(recorder="opencv", camera=CameraSettings(source="synthetic", pre_roll_s=0.5),
                        recording=RecordingSettings(min_free_gb=0.1))
    report: dict[str, object] = {"version": __version__, "data": str(dirs.data)}
    try:  # a folder of its own, or one with no settings yet, gets a new database; a running station's is refused
        station = build_station(dirs, settings, sounds=False, create_database=not dirs.settings_file.exists())
    except KnownError as e:
        if tmp is not None:
            tmp.cleanup()
        return refuse_start(e, dialog=False)
    ok = False
    try:
        service = station.service

        def settle(seconds: float = 10.0) -> None:
            end = time.monotonic() + seconds
            while time.monotonic() < end:
                app.processEvents()
                if not service.busy:
                    return
                time.sleep(0.005)

        from packdesk.channels.demo import BARCODE, Scenario

        settle()
        time.sleep(0.8)  # the camera's pre-roll fills
        codes = ["PD-PACKER-001", Scenario.SIMPLE, BARCODE["MUG-WH-01"], BARCODE["TMB-500"], BARCODE["MUG-WH-01"]]
        for code in codes:
            service.scan(code, ScanSource.WEDGE)
            settle()
        message = service.state.message.code
        report["pack"] = message.value
        end = time.monotonic() + 15
        recordings = 0
        from sqlalchemy import func, select

        from packdesk.core import models as m
        from packdesk.core.enums import RecordingStatus

        while time.monotonic() < end and not recordings:
            app.processEvents()
            service.worker.wait_idle(1)
            with station.db.session() as s:
                recordings = s.scalar(select(func.count()).select_from(m.Recording)
                                      .where(m.Recording.status == RecordingStatus.COMPLETE)) or 0
            time.sleep(0.05)
        report["recordings"] = recordings
        checked = verify(station.db, video_root(settings, dirs), station=settings.station_name)
        report["verify"] = checked.kinds() or "ok"
        ok = message is Msg.PACK_COMPLETE and recordings == 1 and checked.ok
    finally:
        station.close()
        station.window.close()
        if tmp is not None:
            tmp.cleanup()
    report["ok"] = ok
    print(json.dumps(report, ensure_ascii=False))
    return 0 if ok else 1


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["verify"]:
        return verify_main(argv[1:])
    if argv[:1] == ["self-test"]:
        return self_test_main(argv[1:])
    if argv[:1] == ["move-to-server"]:
        return move_main(argv[1:])
    if argv[:1] == ["staff"]:
        return staff_main(argv[1:])
    args = parse_args(argv)
    dirs = app_dirs(args.data_dir).ensure()
    log_file = setup_logging(dirs.logs)
    route_native_logs()
    log.info("%s %s starting; data in %s, log %s", APP_NAME, __version__, dirs.data, log_file)
    sys.excepthook = lambda *exc: log.critical("uncaught exception", exc_info=exc)

    from PySide6.QtWidgets import QApplication

    app = QApplication(sys.argv[:1])
    app.setApplicationName(APP_NAME)
    app.setApplicationVersion(__version__)
    from packdesk.ui.resources import icon

    app.setWindowIcon(icon())
    unattended = bool(args.screenshot or args.barcode_sheet)
    held = hold_data_folder(dirs, unattended=unattended)
    if isinstance(held, int):
        return held
    instance, activation = held
    try:
        return _run(app, args, dirs, instance, activation)
    finally:
        activation.close()
        instance.release()
        restart.relaunch(argv, instance)  # asked for by the settings screen; after the lock is free


def hold_data_folder(dirs: AppDirs, *, unattended: bool) -> tuple[InstanceLock, ActivationServer] | int:
    """This process's hold on the data folder, and the socket a second start asks to come forward; or, when
    another PackDesk holds it, that copy brought to the front (exit 0) or the refusal said (exit 2)."""
    from packdesk.services.instance import InstanceRunning
    from packdesk.ui.activation import ActivationServer, activate_running

    try:
        instance = InstanceLock(dirs.data).acquire()
    except InstanceRunning as e:
        if not unattended and activate_running(dirs.data):
            log.info("PackDesk already runs on %s (pid %s): brought it to the front", dirs.data, e.params["pid"])
            return 0
        return refuse_start(e, dialog=not unattended)
    return instance, ActivationServer(dirs.data)


def _run(app: QApplication, args: argparse.Namespace, dirs: AppDirs, instance: InstanceLock,
         activation: ActivationServer) -> int:
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QInputDialog

    from packdesk.ui.messages import error_text

    unattended = bool(args.screenshot or args.barcode_sheet)
    settings_existed = dirs.settings_file.exists()
    try:
        settings, problem = load_settings(dirs.settings_file)
    except SettingsUnusable as e:  # the station name, database or PIN would silently change: stop
        return refuse_start(e, dialog=not unattended)
    add_account = False
    new_packers: tuple[str, ...] = ()
    first_run = wants_first_run(args, settings_existed=settings_existed, problem=problem)
    if first_run:
        from packdesk.ui.first_run import run_first_run

        first = run_first_run(dirs, settings if settings_existed else None, realpacking_test=realpacking_probe)
        if first is None:
            log.info("first-run set-up cancelled: nothing saved, not started")
            return 0
        settings, add_account, new_packers = first.settings, first.add_account, first.packers
    # the only places a database is made: the first-run set-up, or a folder with no settings yet (a new PC,
    # also with --no-first-run); a set-up station whose database is missing or empty stops (core/db.py)
    create = first_run or not settings_existed
    while True:
        try:
            station = build_station(dirs, settings, demo=not args.no_demo, create_database=create, instance=instance,
                                    packers=new_packers)
            break
        except stations.StationNameTaken as e:  # another PC is this station: name this one differently
            ko, en = error_text(e)
            log.error("cannot start: %s (%s)", e.code, e.detail)
            name, ok = QInputDialog.getText(None, APP_NAME, f"{ko}\n{en}\n\n새 스테이션 이름 / New station name:")
            if not ok or not name.strip():
                return 2
            settings = settings.model_copy(update={"station_name": name.strip()[:64]})
            save_settings(settings, dirs.settings_file)
        except KnownError as e:
            return refuse_start(e, dialog=not unattended)
    window = station.window
    activation.window = window  # a second start now brings the station forward (before: the set-up)
    if args.barcode_sheet:
        for path in window.save_sheet(args.barcode_sheet):
            print(path)
        station.close()
        return 0
    window.show_station(settings.full_screen)
    if problem is not None:
        window.on_error(problem)
    if add_account:  # chosen at the end of the first-run set-up
        window.open_collect()
    if args.screenshot:
        for code in args.scans:
            station.service.scan(code, ScanSource.WEDGE)

        def shoot() -> None:
            # scans resolved, and the recordings they ended indexed (a quit before that leaves a row "recording")
            service = station.service
            if service.busy or (service.recordings_pending and service.state.pack is None):
                QTimer.singleShot(50, shoot)
                return
            window.grab().save(str(args.screenshot))
            print(args.screenshot)
            # nobody to ask "close mid-pack?" (Qt 6's quit closes the windows): a pack left open ends as closed
            station.service.close_open_pack()
            app.quit()

        QTimer.singleShot(300, shoot)
    code = app.exec()
    station.close()
    return code
