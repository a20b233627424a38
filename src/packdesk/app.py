"""Composition root: read settings, open the database, build the adapters, wire them, start Qt.

``build_station`` is what ``main`` runs and what the GUI tests run, so the tests drive the same window,
filter and service the packer gets.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from packdesk import APP_NAME, __version__
from packdesk.core.db import Database, sqlite_url
from packdesk.core.enums import ScanSource
from packdesk.core.errors import KnownError
from packdesk.core.models import utcnow
from packdesk.core.station import StationConfig
from packdesk.log import setup_logging
from packdesk.paths import AppDirs, app_dirs
from packdesk.services.settings import Settings, load_settings

log = logging.getLogger("packdesk.app")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="packdesk", description=f"{APP_NAME}: 포장 스테이션 / packing station")
    p.add_argument("--version", action="version", version=f"{APP_NAME} {__version__}")
    p.add_argument("--data-dir", type=Path, help="keep all data, settings, logs and videos in this folder "
                                                  "(portable install); default: the per-user folders")
    p.add_argument("--no-demo", action="store_true", help="do not set up the demo shop")
    p.add_argument("--barcode-sheet", type=Path, metavar="FILE.pdf|png",
                   help="write the starter barcode sheet and exit")
    p.add_argument("--screenshot", type=Path, metavar="FILE.png",
                   help="start, run --scans if given, save a picture of the window and exit")
    p.add_argument("--scans", nargs="*", default=[], metavar="CODE",
                   help="with --screenshot: scans to feed the station first")
    return p.parse_args(argv)


@dataclass
class Station:
    """Everything ``build_station`` made; ``close`` stops it in the right order."""

    dirs: AppDirs
    settings: Settings
    db: Database
    window: object
    service: object
    key_filter: object
    closers: list[object] = field(default_factory=list)

    def close(self) -> None:
        for c in reversed(self.closers):
            c()  # type: ignore[operator]


def build_station(dirs: AppDirs, settings: Settings, *, demo: bool = True, sounds: bool = True) -> Station:
    """Build the running station on an existing QApplication."""
    from PySide6.QtWidgets import QApplication

    from packdesk.devices.recorder import NullRecorder
    from packdesk.devices.serial_scanner import SerialConfig, SerialScanner
    from packdesk.services.dbworker import DbWorker
    from packdesk.services.demo_setup import ensure_demo
    from packdesk.services.station import StationService
    from packdesk.ui.bridge import MainThreadPoster
    from packdesk.ui.keyfilter import WedgeKeyFilter
    from packdesk.ui.main_window import MainWindow
    from packdesk.ui.sounds import SoundPlayer

    app = QApplication.instance()
    assert isinstance(app, QApplication), "build_station needs a QApplication"
    db = Database.open(settings.database_url or sqlite_url(dirs.database))
    if demo and settings.demo_channel:
        ensure_demo(db, utcnow())
    poster = MainThreadPoster()
    worker = DbWorker(db, poster.post)
    window = MainWindow(settings.station_name, SoundPlayer(enabled=sounds))
    service = StationService(
        worker, NullRecorder(), window, station=settings.station_name,
        config=StationConfig(complete_mode=settings.complete_mode),
        idle_timeout=timedelta(minutes=settings.idle_timeout_min),
    )
    service.start()
    window.attach(service)
    window.set_db_label(f"DB: {db.engine.url.render_as_string(hide_password=True)}")
    key_filter = WedgeKeyFilter(settings.scanner.wedge_config(), window)
    key_filter.scanned.connect(lambda code: service.scan(code, ScanSource.WEDGE))
    app.installEventFilter(key_filter)
    station = Station(dirs, settings, db, window, service, key_filter)
    station.closers += [db.close, worker.close, lambda: app.removeEventFilter(key_filter), poster.deleteLater]

    if settings.serial.enabled and settings.serial.port:
        serial = SerialScanner(
            SerialConfig(settings.serial.port, settings.serial.baudrate, settings.serial.terminator),
            on_scan=lambda code: poster.post(lambda: service.scan(code, ScanSource.SERIAL)),
            on_status=lambda st: poster.post(lambda: window.on_serial_status(st)),
        )
        serial.start()
        station.closers.append(serial.stop)
    return station





def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    dirs = app_dirs(args.data_dir).ensure()
    log_file = setup_logging(dirs.logs)
    log.info("%s %s starting; data in %s, log %s", APP_NAME, __version__, dirs.data, log_file)
    sys.excepthook = lambda *exc: log.critical("uncaught exception", exc_info=exc)  # type: ignore[assignment]

    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QMessageBox

    from packdesk.ui.messages import error_text

    app = QApplication(sys.argv[:1])
    app.setApplicationName(APP_NAME)
    app.setApplicationVersion(__version__)
    settings, problem = load_settings(dirs.settings_file)
    try:
        station = build_station(dirs, settings, demo=not args.no_demo)
    except KnownError as e:
        ko, en = error_text(e)
        log.error("cannot start: %s (%s)", e.code, e.detail)
        QMessageBox.critical(None, APP_NAME, f"{ko}\n{en}\n\n{e.detail}")
        return 2
    window = station.window
    if args.barcode_sheet:
        for path in window.save_sheet(args.barcode_sheet):  # type: ignore[attr-defined]
            print(path)
        station.close()
        return 0
    window.show()  # type: ignore[attr-defined]
    if problem is not None:
        window.on_error(problem)  # type: ignore[attr-defined]
    if args.screenshot:
        for code in args.scans:
            station.service.scan(code, ScanSource.WEDGE)  # type: ignore[attr-defined]

        def shoot() -> None:
            if station.service.busy:  # type: ignore[attr-defined]
                QTimer.singleShot(50, shoot)
                return
            window.grab().save(str(args.screenshot))  # type: ignore[attr-defined]
            print(args.screenshot)
            app.quit()

        QTimer.singleShot(300, shoot)
    code = app.exec()
    station.close()
    return code
