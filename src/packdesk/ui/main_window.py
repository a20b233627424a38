"""The main window: the station view, a status bar that tells the station's health, and the menu."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence, QResizeEvent
from PySide6.QtWidgets import QLabel, QMainWindow, QMenu, QMessageBox, QWidget

from packdesk import APP_NAME
from packdesk.core import couriers
from packdesk.core.enums import LineStatus, ScanSource
from packdesk.core.errors import KnownError
from packdesk.core.station import Level, PackerRef, Sound, StationState
from packdesk.devices.camera import NO_CAMERA
from packdesk.devices.serial_scanner import ScannerState, ScannerStatus
from packdesk.log import log_file
from packdesk.services.catalogue import CatalogueSyncer
from packdesk.services.collect import Collector
from packdesk.services.dispatch import Uploader
from packdesk.services.pictures import PictureCache
from packdesk.services.settings import Settings, save_settings
from packdesk.services.station import StationService
from packdesk.services.video_uploads import QueueProgress
from packdesk.ui import files, returns_panel
from packdesk.ui.about import AboutDialog
from packdesk.ui.barcode_sheet import render_sheet
from packdesk.ui.collect_view import CollectWindow
from packdesk.ui.i18n import both, english, korean, one, pair, short, tr, two_lines
from packdesk.ui.messages import error_text
from packdesk.ui.outbox_view import OutboxView
from packdesk.ui.restart import offer_restart
from packdesk.ui.settings_dialog import SettingsDialog
from packdesk.ui.sheets import starter_sheet
from packdesk.ui.sounds import SoundPlayer
from packdesk.ui.station_view import StationView, restyle, station_metrics
from packdesk.ui.supervisor import SupervisorGate
from packdesk.ui.video_link_view import UploadStatus

if TYPE_CHECKING:  # imported when first opened
    from packdesk.ui.reports_view import ReportsWindow
    from packdesk.ui.staff_view import StaffView

log = logging.getLogger("packdesk.ui")


SCANNER_STATE = {  # a serial scanner's state in the status bar (its port and error are in the tooltip)
    ScannerState.STOPPED: "스캐너: 중지됨 / Scanner: stopped",
    ScannerState.CONNECTING: "스캐너: 연결 중 / Scanner: connecting",
    ScannerState.CONNECTED: "스캐너: 연결됨 / Scanner: connected",
    ScannerState.DISCONNECTED: "스캐너: 연결 끊김 / Scanner: not connected",
}


def set_field(label: QLabel, text: str, tip: str = "", style: str | None = None) -> None:
    """A status-bar field: ``text`` ("한국어 / English") in the screen's language alone, ``tip`` (or ``text``)
    whole in the tooltip; ``style`` when given (a field in trouble is red, and back to plain when it is not)."""
    label.setText(short(text))
    label.setToolTip(tr(tip or text))
    if style is not None:
        restyle(label, style)


@dataclass(frozen=True)
class WindowDeps:
    """Everything the main window is given, once, by the composition root (``app.build_station``)."""

    station_name: str
    settings: Settings               # as started; the window keeps the one saved since (``settings``)
    settings_path: Path
    sounds: SoundPlayer
    pictures: PictureCache           # services/pictures.py
    collector: Collector             # services/collect.py
    syncer: CatalogueSyncer          # services/catalogue.py
    uploader: Uploader               # services/dispatch.py
    video_root: Path
    anchor_file: Path                # services/integrity.py
    data_dir: Path                   # paths.AppDirs.data, shown in About
    db_server: str | None            # "host:port" of the warehouse server; None: this PC's SQLite file
    db_address: str                  # the whole address (no password), in the label's tooltip
    realpacking_test: Callable[[Settings], tuple[bool, str]] | None = None


@dataclass(frozen=True)
class MenuEntry:
    """One menu item (``MENU``): the menu it sits in, its text, what it does; a supervisor's screen asks for the
    PIN in packer mode. ``keep``: the window keeps the action under this name (its state changes later)."""

    menu: str
    text: str
    run: Callable[[MainWindow], object]
    supervisor: bool = True
    shortcut: str = ""
    checkable: bool = False
    keep: str = ""


class MainWindow(QMainWindow):
    error_shown = Signal(str)  # the error code, after it is on screen
    lock_action: QAction         # made from ``MENU`` (``keep``)
    full_screen_action: QAction
    returns_action: QAction

    def __init__(self, deps: WindowDeps, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.deps = deps
        self.settings = deps.settings  # replaced when the settings dialog saves (applied at the next start)
        supervisor = deps.settings.supervisor
        self.gate = SupervisorGate(supervisor.pin_hash, supervisor.auto_lock_min, parent=self)  # ui/supervisor.py
        self._last_packer: object = None
        self.setWindowTitle(f"{APP_NAME} — {deps.station_name}")
        self.sounds = deps.sounds
        self.service: StationService | None = None
        self.view = StationView(self)
        self.setCentralWidget(self.view)
        self.view.thumbnails.set_pictures(deps.pictures)
        self.view.show_sound(deps.sounds.off_reason)
        self.resize(1280, 800)  # when not full screen or maximised (``show_station``)

        # The status bar: seven short fields in the screen's language, each with its whole text (both languages,
        # the details) in its tooltip, so that they fit one line at 1280 px; a field in trouble says so in red.
        self.station_label = QLabel(deps.station_name)
        self.station_label.setToolTip(both("스테이션", f"Station: {deps.station_name}"))
        self.scanner_label = QLabel("")
        set_field(self.scanner_label, "스캐너: 키보드 / Scanner: keyboard",
                  "스캐너: 키보드 (키보드처럼 입력하는 스캐너) / "
                  "Scanner: keyboard (a scanner that types as a keyboard)")
        self.recorder_label = QLabel("")
        self.db_label = QLabel("")
        self.mode_label = QLabel("", objectName="modeLabel")
        for w in (self.mode_label, self.station_label, self.scanner_label, self.recorder_label, self.db_label):
            self.statusBar().addPermanentWidget(w)
        self.gate.changed.connect(lambda _: self._show_mode())
        # --- dispatch outbox (ui/outbox_view.py): online/offline and what waits to be sent ---
        self.online_label = QLabel(short("연결 확인 중 / Checking connection"), objectName="onlineLabel")
        self.outbox_label = QLabel("", objectName="outboxLabel")
        for w in (self.online_label, self.outbox_label):
            self.statusBar().addPermanentWidget(w)
        for w in self.statusBar().findChildren(QLabel):  # a narrow screen cuts a label's end, never the window
            w.setMinimumWidth(40)
        self._outbox_view: OutboxView | None = None
        # --- end dispatch outbox ---
        # short in the status bar (it shares the line with six other labels); the whole address in its tooltip
        self.set_db_label(one("DB: 이 PC", "DB: this PC") if deps.db_server is None
                          else one(f"DB: 창고 서버 {deps.db_server}", f"DB: server {deps.db_server}"),
                          deps.db_address)
        self._mapping_view: QWidget | None = None
        self._excel_orders_view: QWidget | None = None
        self._courier_view: QWidget | None = None
        self._review: QWidget | None = None
        self._reports: ReportsWindow | None = None
        self._orders: QWidget | None = None
        self._staff_view: StaffView | None = None
        self._build_menus()
        self._upload_status: UploadStatus | None = None  # made when the upload queue first says something

        self._tick = QTimer(self)
        self._tick.setInterval(1000)
        self._tick.timeout.connect(self.gate.check_idle)
        self._show_mode()

    def _build_menus(self) -> None:
        """The menu bar from ``MENU``, in its order; each menu where its first entry names it."""
        menus: dict[str, QMenu] = {}
        for entry in MENU:
            if entry.menu not in menus:
                menus[entry.menu] = self.menuBar().addMenu(tr(entry.menu))
            action = QAction(tr(entry.text), self)
            action.setCheckable(entry.checkable)
            if entry.shortcut:  # spelled out: the platform's "Quit" key is empty on Windows (and offscreen)
                action.setShortcut(QKeySequence(entry.shortcut))
            action.triggered.connect(partial(self._menu_chosen, entry))
            menus[entry.menu].addAction(action)
            if entry.keep:
                setattr(self, entry.keep, action)

    def _menu_chosen(self, entry: MenuEntry, _checked: bool = False) -> None:
        if entry.supervisor:
            self.as_supervisor(lambda: entry.run(self))
        else:
            entry.run(self)

    # ------------------------------------------------------------------ the window's size

    def show_station(self, full_screen: bool) -> None:
        """The station opens full screen (settings ``full_screen``), or maximised; F11 switches."""
        self.set_full_screen(full_screen)

    def set_full_screen(self, on: bool) -> None:
        """Full screen, or (F11 again) maximised: a packing station never shows as a small window."""
        self.full_screen_action.setChecked(on)
        if on:
            self.showFullScreen()
        else:
            self.showNormal()  # leaving full screen first: some window managers ignore maximise from it
            self.showMaximized()

    def resizeEvent(self, event: QResizeEvent) -> None:
        """Every size of the station follows the window's, computed once here (``station_metrics``)."""
        super().resizeEvent(event)
        m = station_metrics(event.size().width(), event.size().height())
        if m != self.view.metrics:
            self.view.apply_metrics(m)
            font = f"font-size: {m.px('status')}px;"
            self.statusBar().setStyleSheet(f"QStatusBar, QStatusBar QLabel {{ {font} }}")
            self.menuBar().setStyleSheet(f"QMenuBar {{ {font} }}")

    # ------------------------------------------------------------------ packer and supervisor mode

    def as_supervisor(self, then: Callable[[], object]) -> None:
        """A supervisor's screen, opened from the menu: asks for the PIN in packer mode."""
        self.gate.require(self, then)

    def _show_mode(self) -> None:
        if not self.gate.has_pin:
            set_field(self.mode_label, "PIN 없음 / No PIN",
                      "관리자 PIN 없음: 누구나 관리 화면을 엽니다 (설정 → 관리자) / "
                      "No supervisor PIN: anyone opens the supervisor's screens (Settings → Supervisor)",
                      "color: #e65100;")
        elif self.gate.is_supervisor():
            set_field(self.mode_label, "● 관리자 모드 / Supervisor",
                      "관리자 모드: 관리 화면이 열려 있습니다 / Supervisor mode: the supervisor's screens are open",
                      "color: #0d47a1; font-weight: bold;")
        else:
            set_field(self.mode_label, "작업자 모드 / Packer",
                      "작업자 모드: 관리 화면은 PIN을 묻습니다 / Packer mode: the supervisor's screens ask for the PIN")
        self.lock_action.setEnabled(self.gate.has_pin and self.gate.is_supervisor())

    def attach(self, service: StationService) -> None:
        self.service = service
        self.view.manual_entry.connect(lambda code: service.scan(code, ScanSource.MANUAL))
        self.view.packer_chosen.connect(service.choose_packer)
        self.view.command_pressed.connect(lambda code: service.scan(code, ScanSource.MANUAL))
        service.on_counts = self.view.show_counts  # read on the DB thread: at start, after a pack, every minute
        service.refresh_counts()
        self._tick.timeout.connect(service.tick)
        self._tick.start()
        self.view.set_packers([p for p, _ in service.packers], service.state.packer)
        self.recorder_label.setText(one("녹화", "Rec") + f": {service.recorder.name}")  # the camera says more soon
        self.recorder_label.setToolTip(both("녹화", f"Recording: {service.recorder.name}"))
        if service.interrupted is not None:
            self.view.show_interrupted(*service.interrupted)
        self.returns_panel = returns_panel.install(self.view, service, self.returns_action)

    def switch_returns(self) -> None:
        """The menu's returns-inspection switch: the mode as its barcodes switch it (ui/returns_panel.py)."""
        if self.service is not None:
            self.service.returns.switch(self.returns_action.isChecked())

    def on_video_uploads(self, progress: QueueProgress) -> None:
        """The video upload queue's progress (services/video_uploads.py), in the status bar while videos wait."""
        if self._upload_status is None:
            self._upload_status = UploadStatus()
            self.statusBar().addPermanentWidget(self._upload_status)
        self._upload_status.show_progress(progress)

    def detach(self) -> None:
        """The station has stopped (``Station.close``): no pack left to ask about when the window closes."""
        self._tick.stop()
        self.service = None
        self.view.thumbnails.close()  # no picture read for it after the station stopped

    # ------------------------------------------------------------------ StationListener

    def on_state(self, state: StationState) -> None:
        if state.packer != self._last_packer:  # a packer's badge (or another name) ends supervisor mode
            renamed = (isinstance(self._last_packer, PackerRef) and state.packer is not None
                       and state.packer.packer_id == self._last_packer.packer_id)  # on the staff screen: not a packer
            self._last_packer = state.packer
            if not renamed:
                self.gate.lock()
        self.view.render(state)

    def on_sound(self, sound: Sound) -> None:
        self.sounds.play(sound)

    def on_error(self, error: KnownError) -> None:
        log.warning("shown to packer: %s (%s)", error.code, error.detail)
        self._show_coded(error, Level.ERROR)

    def on_notice(self, notice: KnownError) -> None:
        """Good news the station has words for (the disk has room again, the held packs are saved)."""
        log.info("shown to packer: %s", notice.code)
        self._show_coded(notice, Level.SUCCESS)

    def _show_coded(self, error: KnownError, level: Level) -> None:
        ko, en = error_text(error)
        big, small = pair(ko, en)
        self.view.banner.setText(big)
        self.view.banner_en.setText(small)
        self.view.paint_banner(level)
        self.statusBar().showMessage(both(ko, en), 15000)
        self.error_shown.emit(error.code)

    # ------------------------------------------------------------------ other

    def on_serial_status(self, status: ScannerStatus) -> None:
        ok = status.state is ScannerState.CONNECTED
        # the state in the bar ("연결됨", "연결 끊김"); the port, its speed and the error in the tooltip
        set_field(self.scanner_label, SCANNER_STATE[status.state],
                  both(f"시리얼 스캐너: {korean(status.detail)}", f"Serial scanner: {english(status.detail)}")
                  if status.detail else SCANNER_STATE[status.state],
                  "" if ok else "color: #b71c1c; font-weight: bold;")

    def on_camera_status(self, state: str, detail: str) -> None:
        failed = state == "failed"
        camera = tr(detail)  # the data (the camera's address) is on the English side of "카메라 / camera: …"
        shown = camera if len(camera) <= 32 else camera[:31] + "…"  # the whole of it in the tooltip
        name = self.service.recorder.name if self.service else ""
        encoder = getattr(self.service.recorder, "encoder", "") if self.service else ""  # H.264 encoder in use
        self.recorder_label.setText(one("녹화", "Rec") + f": {encoder or name} · {shown}")
        self.recorder_label.setToolTip(two_lines(f"녹화: {name}{f' ({encoder})' if encoder else ''}",
                                                 f"Recording: {name}{f' ({encoder})' if encoder else ''}")
                                       + "\n" + tr(detail))
        restyle(self.recorder_label, "color: #b71c1c; font-weight: bold;" if failed else "")
        if failed:
            code = "no_camera" if detail in (NO_CAMERA, tr(NO_CAMERA)) else "camera_unavailable"
            self.on_error(KnownError(code, detail=tr(detail)))

    def set_db_label(self, text: str, detail: str = "") -> None:
        self._db_text = text
        self._db_detail = detail
        self.db_label.setText(text)
        self.db_label.setToolTip(detail)

    def open_about(self) -> AboutDialog:
        """Help → About: version, licence and notices, the data folder and the log file (ui/about.py)."""
        dialog = AboutDialog(self.deps.data_dir, log_file(), self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog

    def open_collect(self) -> CollectWindow:
        packer = self.service.state.packer if self.service else None
        operator = packer.name if packer else self.settings.station_name
        window = CollectWindow(self.deps.collector, operator, self, syncer=self.deps.syncer)
        window.open()
        return window

    def open_settings(self) -> SettingsDialog:
        dialog = SettingsDialog(self.settings, self, realpacking_test=self.deps.realpacking_test,
                                encoder_in_use=getattr(self.service.recorder, "encoder", "") if self.service else "",
                                video_folder=self.deps.video_root)
        dialog.finished.connect(lambda _: self._settings_closed(dialog))
        dialog.open()
        return dialog

    # --- product links (ui/mapping_view.py) ---
    def open_mapping(self) -> QWidget | None:
        """The product-link screen, on the station's database thread; one at a time."""
        from packdesk.ui.mapping_view import MappingView

        if self.service is None:
            return None
        if self._mapping_view is not None:
            self._mapping_view.raise_()
            self._mapping_view.activateWindow()
            return self._mapping_view
        view = MappingView(self.service.worker.db, worker=self.service.worker, parent=self, pictures=self.deps.pictures)
        view.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        view.finished.connect(lambda _: setattr(self, "_mapping_view", None))
        self._mapping_view = view
        view.open()
        return view
    # --- end product links ---

    # --- Excel orders (ui/excel_orders_view.py) ---
    def open_excel_orders(self) -> QWidget | None:
        """Orders from Excel sheets (import, failure file, template, exports); one at a time. Its file and
        database work runs as ops (ui/ops.py): platforms and mappings on the station's DB worker, the import in
        batches of its own."""
        from packdesk.ui.excel_orders_view import ExcelOrdersView

        if self.service is None:
            return None
        if self._excel_orders_view is not None:
            self._excel_orders_view.raise_()
            self._excel_orders_view.activateWindow()
            return self._excel_orders_view
        packer = self.service.state.packer
        operator = packer.name if packer else (self.settings.station_name if self.settings else "")
        view = ExcelOrdersView(self.service.worker, operator, parent=self,
                               check_digit=self.settings.waybill.check_digit if self.settings else None)
        view.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        view.finished.connect(lambda _: setattr(self, "_excel_orders_view", None))
        self._excel_orders_view = view
        view.open()
        return view
    # --- end Excel orders ---

    # --- courier waybills (ui/courier_view.py) ---
    def open_courier(self) -> QWidget | None:
        """The courier program's Excel round trip (export, result import, templates); one window, kept and
        shown again. Its templates sit beside settings.json; the number check follows the settings."""
        from packdesk.services.courier_sheets import templates_file
        from packdesk.ui.courier_view import CourierView

        if self.service is None:
            return None
        packer = self.service.state.packer
        operator = packer.name if packer else self.settings.station_name
        view = self._courier_view
        if not isinstance(view, CourierView):
            view = CourierView(self.service.worker, templates_file(self.deps.settings_path.parent),
                               check_digit=self.settings.waybill.check_digit,
                               contracted_courier=self.settings.waybill.courier, operator=operator, parent=self)
            self._courier_view = view
        view.operator = operator
        view.check_digit = dict(self.settings.waybill.check_digit)
        view.show()
        view.raise_()
        view.activateWindow()
        return view
    # --- end courier waybills ---

    # --- dispatch outbox (ui/outbox_view.py) ---
    def open_outbox(self) -> OutboxView:
        """The supervisor's outbox screen; one, kept and shown again (its lists re-read on show)."""
        packer = self.service.state.packer if self.service else None
        operator = packer.name if packer else self.settings.station_name
        if self._outbox_view is None:
            self._outbox_view = OutboxView(self.deps.uploader, operator, self)
        self._outbox_view.operator = operator  # who resends or marks handled: in the log and line history
        self._outbox_view.open()
        return self._outbox_view

    def on_outbox_counts(self, waiting: int, rejected: int, held: int) -> None:
        """Shows "전송 대기 N / N waiting"; refused or held dispatches in red: a supervisor must look."""
        parts = [(one(f"전송 대기 {waiting}", f"{waiting} waiting"),
                  both(f"송장 전송 대기 {waiting}", f"{waiting} tracking uploads waiting"))]
        if rejected:
            parts.append((one(f"거부 {rejected}", f"{rejected} rejected"),
                          both(f"마켓이 거부 {rejected}", f"{rejected} refused by the marketplace")))
        if held:
            parts.append((one(f"보류 {held}", f"{held} held"), both(f"보류 {held}", f"{held} held")))
        set_field(self.outbox_label, " · ".join(text for text, _ in parts),
                  "\n".join(tip for _, tip in parts) + "\n" + tr("파일 → 발송 대기함 / File → Dispatch outbox"),
                  "color: #b71c1c; font-weight: bold;" if rejected or held else "")

    def on_db_status(self, ok: bool) -> None:
        """The warehouse server (several stations): gone is shown at once; packing waits for it."""
        if self.service is not None:
            self.service.set_db_online(ok)
        if ok:
            set_field(self.db_label, getattr(self, "_db_text", "") + short(" ● 연결됨 / connected"),
                      getattr(self, "_db_detail", ""))
        else:
            set_field(self.db_label, "● 서버 연결 끊김 / Server lost",
                      "● 창고 서버 연결 끊김 — 다시 연결될 때까지 새 포장 불가 / "
                      "Warehouse server lost — no new packs until it is back",
                      "color: #b71c1c; font-weight: bold;")
            self.statusBar().showMessage(tr("창고 서버에 연결할 수 없습니다 / The warehouse server cannot be reached"),
                                         10000)

    def on_connectivity(self, online: bool) -> None:
        """Offline is no error for the packer: packing goes on, dispatches wait and go out later."""
        if online:
            set_field(self.online_label, "● 온라인 / Online",
                      "온라인: 송장 전송과 주문 수집이 됩니다 / Online: tracking uploads and collection run",
                      "color: #1b5e20;")
        else:
            set_field(self.online_label, "● 오프라인 · 포장 계속 / Offline · packing goes on",
                      "오프라인 — 포장은 계속되고, 송장 전송은 다시 연결되면 나갑니다 / "
                      "Offline — packing goes on; tracking uploads go out when the connection is back",
                      "color: #e65100; font-weight: bold;")
    # --- end dispatch outbox ---

    def on_lines_changed(self, statuses: Mapping[int, LineStatus]) -> None:
        """Lines other stations or the background jobs changed: the open pack follows (services/station.py)."""
        if self.service is not None:
            self.service.on_lines_changed(statuses)

    # --- recordings review (ui/review_view.py) ---
    def open_review(self) -> QWidget | None:
        """The recordings review: one window, kept and shown again. While it is active, scans search there
        instead of packing (``app.py`` routes them to its ``take_scan``)."""
        from packdesk.ui.review_view import ReviewWindow

        if self.service is None:
            return None
        if self._review is None:
            self._review = ReviewWindow(self.service.worker.db, worker=self.service.worker,
                                        station_name=self.settings.station_name if self.settings else "",
                                        parent=self)
            self._review.video_root = self.deps.video_root
            self._review.anchor_file = self.deps.anchor_file
            self._review.video_link.settings = lambda: self.settings.video_link
        self._review.show()
        self._review.raise_()
        self._review.activateWindow()
        return self._review
    # --- end recordings review ---

    def open_reports(self) -> QWidget | None:
        """Packs per hour, refusals, storage: one window, kept, refreshed when shown."""
        from packdesk.ui.reports_view import ReportsWindow

        if self.service is None:
            return None
        if self._reports is None:
            self._reports = ReportsWindow(self.service.worker.db, self.deps.video_root, parent=self)
        self._reports.show()
        self._reports.raise_()
        self._reports.activateWindow()
        self._reports.refresh()
        return self._reports

    # --- orders (ui/orders_view.py) ---
    def open_orders(self) -> QWidget | None:
        """Orders: search, their line history, typing one in, force-cancel and delete; one window, kept,
        refreshed when shown. While it (or its form) is active, scans go to its ``take_scan``."""
        from packdesk.ui.orders_view import OrdersWindow

        if self.service is None:
            return None
        packer = self.service.state.packer
        operator = packer.name if packer else (self.settings.station_name if self.settings else "")
        window = self._orders
        if not isinstance(window, OrdersWindow):
            waybill = self.settings.waybill if self.settings else None
            window = OrdersWindow(self.service.worker.db, self.service.worker, operator, parent=self,
                                  courier=waybill.courier if waybill else couriers.DEFAULT_COURIER,
                                  check_digit=dict(waybill.check_digit) if waybill else None)
            self._orders = window
        window.operator = operator  # who types in, cancels or deletes: in the log and the line history
        window.show()
        window.raise_()
        window.activateWindow()
        window.refresh()
        return window
    # --- end orders ---

    # --- staff (ui/staff_view.py) ---
    def open_staff(self) -> QWidget | None:
        """The packers: add, rename, deactivate, new badge, print badges. One window, kept and shown again (its
        list is read anew on show); each change is read back by the station at once (``reload_packers``)."""
        from packdesk.ui.staff_view import StaffView

        if self.service is None:
            return None
        if self._staff_view is None:
            view = StaffView(self.service.worker, parent=self)
            view.changed.connect(self.reload_packers)
            self._staff_view = view
        self._staff_view.open()
        self._staff_view.raise_()
        self._staff_view.activateWindow()
        return self._staff_view

    def reload_packers(self) -> None:
        """The packers changed (the staff screen, or another station): the station and the name box follow."""
        service = self.service
        if service is None:
            return
        service.reload_packers(lambda: self.view.set_packers([p for p, _ in service.packers], service.state.packer))
    # --- end staff ---

    # --- packing slips (ui/slips_view.py) ---
    def open_slips(self) -> QWidget | None:
        """A day's packing slips (포장 지시서): their barcodes open parcels at the station, labels bound last."""
        from packdesk.ui.slips_view import SlipDialog

        if self.service is None:
            return None
        dialog = SlipDialog(self.service.worker.db, parent=self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog
    # --- end packing slips ---

    def _settings_closed(self, dialog: SettingsDialog) -> None:
        if dialog.result_settings is not None:
            save_settings(dialog.result_settings, self.deps.settings_path)
            self.settings = dialog.result_settings
            self.gate.pin_hash = self.settings.supervisor.pin_hash  # a new PIN counts at once (mode stays)
            self._show_mode()
            self.statusBar().showMessage(
                tr("설정 저장됨 — 다시 시작하면 적용됩니다 / Settings saved — restart to apply"), 15000)
            log.info("settings saved to %s", self.deps.settings_path)
            if dialog.changed_for_next_start(dialog.result_settings):
                offer_restart(self)

    def save_sheet_dialog(self) -> None:
        chosen = files.save_file(self, "barcode-sheet", tr("바코드 시트 저장 / Save barcode sheet"),
                                 "packdesk-barcodes.pdf", "PDF (*.pdf);;PNG (*.png)")
        if chosen:
            self.save_sheet(chosen)

    def save_sheet(self, path: Path) -> list[Path]:
        assert self.service is not None
        written = render_sheet(starter_sheet([p for p in self.service.packers]), path)
        self.statusBar().showMessage(both("저장됨", f"Saved: {', '.join(map(str, written))}"), 10000)
        return written

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self._may_close():
            event.ignore()
            return
        self._tick.stop()
        super().closeEvent(event)

    def _may_close(self) -> bool:
        """Closing (the window's X, Ctrl+Q) with a pack or a return inspection open asks first. No: the work goes
        on. Yes: a pack is stored as closed and its video ends as "cancelled: PackDesk closed" (the next start
        names the parcel); an inspection is stored as closed with its video up to that moment."""
        if self.service is None:
            return True
        returns = self.service.returns
        if returns.open and returns.state.inspection is not None:
            code = returns.state.inspection.return_code
            if not self._ask_close(two_lines(
                    f"반품 {code}을(를) 검수하는 중입니다. PackDesk를 닫으면 이 검수는 '닫힘'으로 저장되고 영상은 "
                    "지금까지만 남습니다. 닫을까요?",
                    f"Return {code} is being inspected. Closing PackDesk stores this inspection as closed, with "
                    "its video up to now. Close?")):
                log.info("close asked mid-inspection (%s): no, the inspection goes on", code)
                return False
            returns.close(self.service.clock())
        pack = self.service.state.pack
        if pack is None:
            return True
        tracking = pack.plan.tracking_number
        if not self._ask_close(two_lines(
                f"송장 {tracking}을(를) 포장하는 중입니다. PackDesk를 닫으면 이 포장은 취소되고 영상은 "
                "'취소: PackDesk 종료'로 끝납니다. 닫을까요?",
                f"Waybill {tracking} is being packed. Closing PackDesk cancels this pack and ends its video as "
                "'cancelled: PackDesk closed'. Close?")):
            log.info("close asked mid-pack (%s): no, packing goes on", tracking)
            return False
        self.service.close_open_pack()
        return True

    def _ask_close(self, question: str) -> bool:
        """Yes or No, No the default: an Enter from a scanner must not close."""
        box = QMessageBox(QMessageBox.Icon.Question, APP_NAME, question,
                          QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, self)
        box.setObjectName("closeMidPack")
        box.setDefaultButton(QMessageBox.StandardButton.No)
        box.exec()
        close = box.clickedButton() is box.button(QMessageBox.StandardButton.Yes)
        box.deleteLater()
        return close


# The menu bar, top to bottom. A new screen is one line here (and its ``open_…`` method above); ``supervisor``
# entries ask for the PIN in packer mode.
FILE = "파일 / File"
VIEW = "보기 / View"
HELP = "도움말 / Help"
MENU: tuple[MenuEntry, ...] = (
    MenuEntry(FILE, "바코드 시트 저장… / Save barcode sheet…", MainWindow.save_sheet_dialog, supervisor=False),
    MenuEntry(FILE, "주문 수집… / Order collection…", MainWindow.open_collect),
    MenuEntry(FILE, "설정… / Settings…", MainWindow.open_settings),
    MenuEntry(FILE, "상품 연결… / Product links…", MainWindow.open_mapping),
    MenuEntry(FILE, "엑셀 주문 가져오기… / Import orders from Excel…", MainWindow.open_excel_orders),
    MenuEntry(FILE, "택배 송장… / Courier waybills…", MainWindow.open_courier),
    MenuEntry(FILE, "발송 대기함… / Dispatch outbox…", MainWindow.open_outbox),
    MenuEntry(FILE, "녹화 영상 검토… / Review recordings…", MainWindow.open_review),
    MenuEntry(FILE, "보고서… / Reports…", MainWindow.open_reports),
    MenuEntry(FILE, "주문… / Orders…", MainWindow.open_orders),
    MenuEntry(FILE, "작업자… / Staff…", MainWindow.open_staff),
    MenuEntry(FILE, "포장 지시서… / Packing slips…", MainWindow.open_slips),
    MenuEntry(FILE, "관리자 모드 잠금 / Lock supervisor mode", lambda w: w.gate.lock(), supervisor=False,
              keep="lock_action"),
    MenuEntry(FILE, "종료 / Quit", MainWindow.close, supervisor=False, shortcut="Ctrl+Q"),
    MenuEntry(VIEW, "전체 화면 / Full screen", lambda w: w.set_full_screen(w.full_screen_action.isChecked()),
              supervisor=False, shortcut="F11", checkable=True, keep="full_screen_action"),
    MenuEntry(VIEW, "반품 검수 모드 / Returns inspection mode", MainWindow.switch_returns, supervisor=False,
              checkable=True, keep="returns_action"),
    MenuEntry(HELP, "정보 / About", MainWindow.open_about, supervisor=False),
)
