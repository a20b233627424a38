"""Pictures of every main screen for README.md, taken from the real windows built by the app's own composition
root, on a real X display (Xvfb: ``xvfb-run -a -s "-screen 0 1600x1000x24"``, ``QT_QPA_PLATFORM=xcb``).

    xvfb-run -a -s "-screen 0 1600x1000x24" env QT_QPA_PLATFORM=xcb .venv/bin/python scripts/screenshots.py [en]

Writes ``docs/screenshots/*.png`` (with ``en``: the screens in English only, ``*-en.png``). Each picture
shows the screen in use: the demo shop, a packer, packs scanned (one refused), a recorded pack found in the
review, the reports of that day.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "screenshots"


def main(language: str = "ko") -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "xcb")
    from PySide6.QtCore import QPoint, Qt
    from PySide6.QtGui import QPainter
    from PySide6.QtMultimediaWidgets import QVideoWidget
    from PySide6.QtWidgets import QApplication, QTabWidget, QWidget

    from packdesk.app import build_station
    from packdesk.channels.demo import BARCODE, Scenario
    from packdesk.core.enums import ScanSource
    from packdesk.paths import app_dirs
    from packdesk.services.settings import CameraSettings, RecordingSettings, Settings

    app = QApplication(sys.argv[:1])
    OUT.mkdir(parents=True, exist_ok=True)
    tmp = tempfile.TemporaryDirectory(prefix="packdesk-shots-")
    dirs = app_dirs(tmp.name).ensure()
    settings = Settings(recorder="opencv", camera=CameraSettings(source="synthetic", pre_roll_s=1.0),
                        recording=RecordingSettings(min_free_gb=0.1), language=language)
    suffix = "" if language == "ko" else f"-{language}"
    station = build_station(dirs, settings, sounds=False, create_database=True)  # a throwaway folder
    window = station.window
    window.resize(1280, 800)  # type: ignore[attr-defined]
    window.show()  # type: ignore[attr-defined]
    service = station.service

    def pump(seconds: float = 0.3) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            app.processEvents()
            time.sleep(0.01)

    def settle() -> None:
        for _ in range(500):
            app.processEvents()
            if not service.busy:  # type: ignore[attr-defined]
                break
            time.sleep(0.01)
        pump(0.2)

    def scan(*codes: str) -> None:
        for code in codes:
            service.scan(code, ScanSource.WEDGE)  # type: ignore[attr-defined]
            settle()
            pump(0.4)  # a bit of video between scans

    def shot(widget: QWidget, name: str, prepare: Callable[[], None] | None = None) -> None:
        if prepare:
            prepare()
        widget.show()
        widget.raise_()
        pump(0.6)
        path = OUT / f"{name}{suffix}.png"
        picture = widget.grab()
        # a QVideoWidget draws on a surface of its own that grab() does not see: paint the frame its sink
        # holds (the one on screen) where the widget is
        for video in widget.findChildren(QVideoWidget):
            frame = video.videoSink().videoFrame()
            if video.isVisible() and frame.isValid():
                image = frame.toImage().scaled(video.size(), Qt.AspectRatioMode.KeepAspectRatio,
                                               Qt.TransformationMode.SmoothTransformation)
                at = video.mapTo(widget, QPoint((video.width() - image.width()) // 2,
                                                (video.height() - image.height()) // 2))
                painter = QPainter(picture)
                painter.drawImage(at, image)
                painter.end()
        picture.save(str(path))
        print(path)

    pump(1.5)  # the camera's pre-roll
    scan("PD-PACKER-001", Scenario.GIFT_SET, BARCODE["MUG-WH-01"], BARCODE["COASTER-01"], BARCODE["COASTER-01"])
    shot(window, "station-packing")  # type: ignore[arg-type]
    scan(BARCODE["TEA-GR"])
    shot(window, "station-refused")  # type: ignore[arg-type]
    for code in ("COASTER-01", "COASTER-01", "COASTER-01", "COASTER-01", "GIFTBOX-S"):
        scan(BARCODE[code])
    shot(window, "station-complete")  # type: ignore[arg-type]
    scan(Scenario.SIMPLE, BARCODE["MUG-WH-01"])
    shot(window, "station-recording")  # type: ignore[arg-type]
    scan(BARCODE["TMB-500"], BARCODE["MUG-WH-01"])
    service.worker.wait_idle(5)  # type: ignore[attr-defined]
    pump(2.0)  # the recordings close and are indexed

    w = window  # type: ignore[assignment]
    dialog = w.open_settings()  # type: ignore[attr-defined]
    shot(dialog, "settings")
    dialog.reject()
    collect = w.open_collect()  # type: ignore[attr-defined]
    shot(collect, "collection-runs")
    tabs = collect.findChildren(QTabWidget)[0]
    shot(collect, "collection-accounts", lambda: tabs.setCurrentIndex(1))
    collect.reject()
    mapping = w.open_mapping()  # type: ignore[attr-defined]
    shot(mapping, "product-links")
    mapping.close()
    outbox = w.open_outbox()  # type: ignore[attr-defined]
    shot(outbox, "dispatch-outbox")
    outbox.close()
    review = w.open_review()  # type: ignore[attr-defined]
    review.resize(1400, 900)
    review.search_box.setText(Scenario.SIMPLE)
    review.search()
    pump(2.0)
    if review.model.rowCount():
        review.load_recording(review.model.rows[0].id)
        pump(3.0)
        if review.scan_list.count() > 2:  # jump to "tumbler scanned", as a supervisor answering a claim does
            review.scan_list.setCurrentRow(2)
            review._scan_clicked(review.scan_list.item(2))
            pump(2.0)
    shot(review, "review")
    review.close()
    reports = w.open_reports()  # type: ignore[attr-defined]
    pump(1.5)
    shot(reports, "reports")
    reports.close()
    if hasattr(w, "open_excel_orders"):
        excel = w.open_excel_orders()
        shot(excel, "excel-orders")
        excel.close()
    if hasattr(w, "open_orders"):
        orders = w.open_orders()
        shot(orders, "orders")
        orders.close()

    from packdesk.ui.first_run import FirstRunWizard

    wizard = FirstRunWizard(dirs, Settings(language=language), scan_filter=False)
    shot(wizard, "first-run")
    wizard.reject()
    station.close()
    window.close()  # type: ignore[attr-defined]
    tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:2]))
