"""Pictures of every main screen for README.md and docs/user-guide.md, taken from the real windows built by the
app's own composition root, on a real X display of a full-HD screen (Xvfb: ``xvfb-run -a -s "-screen 0
1920x1080x24"``, ``QT_QPA_PLATFORM=xcb``; ``apt-get install xvfb`` where it is missing).

    xvfb-run -a -s "-screen 0 1920x1080x24" env QT_QPA_PLATFORM=xcb \
        .venv/bin/python scripts/screenshots.py [en] [demo|day]

Writes ``docs/screenshots/*.png`` (with ``en``: the screens in English only, ``*-en.png``). Two sittings, both by
default, or the one named:

- ``demo``: the demo shop, a packer, packs scanned (one refused; the packing and the refusal both at 1280x800
  and maximised at 1920x1080, ``-1280`` / ``-1920``), a parcel back from the buyer inspected in returns mode;
  the supervisors' screens, among them the settings' video storage (a real S3 server on this PC,
  ``tests/fakes/s3.py``), a recorded pack found in the review, its buyer's video link made and its order's
  claim bundle exported, the return played beside its outbound pack; the reports of that day.
- ``day``: a day at a warehouse with no demo shop (docs/user-guide.md, "하루 업무 / A day at the warehouse"),
  built only through the product's own functions and windows, never by writing rows: a SmartStore account
  talking real HTTP to the fake in ``tests/fakes/naver.py``, packers added, the morning's orders collected and
  their products linked; the courier export, the courier program's result sheet (``tests/fakes/courier_program.py``)
  previewed and bound, parcels packed by their waybills; the afternoon's orders, their packing slips printed and a
  slip's parcel packed until the station asks for the courier label (a misread label refused, the good one
  bound); the staff screen; the orders window with a parcel waiting for its waybill and a number typed for it.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "screenshots"
SIZE = (1280, 800)  # the windows of the day's pictures: a common small office screen
SCREEN = (1920, 1080)  # the X display: a full-HD screen, where the station is also shown maximised
RETURN_LABEL = "561234567890"  # a courier's return label on the parcel that came back (unknown to PackDesk)
STORAGE_BUCKET = "myshop-pack-videos"  # the seller's bucket for the buyer's video links

# the day's shop: what its SmartStore sells (as the marketplace names it), the items those are in the warehouse
# (a gift set is items, not an item of its own), its buyers and its packers
PRODUCTS: dict[str, dict[str, Any]] = {
    "bean": {"productName": "핸드드립 원두 200g", "productOption": "분쇄: 홀빈", "optionManageCode": "BEAN-200-WB",
             "sellerProductCode": "BEAN-200", "unitPrice": 14000, "productId": "8810001111",
             "optionCode": "41000000001"},
    "mug": {"productName": "머그컵", "productOption": "색상: 화이트", "optionManageCode": "MUG-WH",
            "sellerProductCode": "MUG", "unitPrice": 9000, "productId": "8810002222", "optionCode": "41000000002"},
    "coaster": {"productName": "원목 코스터", "productOption": None, "optionManageCode": None,
                "sellerProductCode": "COASTER", "unitPrice": 4000, "productId": "8810003333", "optionCode": None},
    "tumbler": {"productName": "스테인리스 텀블러", "productOption": "용량: 500ml / 색상: 블랙",
                "optionManageCode": "TUM-500-BK", "sellerProductCode": "TUM", "unitPrice": 15000,
                "productId": "8810004444", "optionCode": "41000000004"},
    "bag": {"productName": "캔버스 에코백", "productOption": None, "optionManageCode": None,
            "sellerProductCode": "BAG-01", "unitPrice": 12000, "productId": "8810005555", "optionCode": None},
    "gift": {"productName": "커피 선물세트", "productOption": None, "optionManageCode": None,
             "sellerProductCode": "GIFT-01", "unitPrice": 32000, "productId": "8810006666", "optionCode": None},
}
# the shipping items made from the products (SKU, the item's name, its barcode body: EAN-13 without the check
# digit); the gift set is linked to two of them instead
ITEMS = {"bean": ("BEAN-200-WB", "핸드드립 원두 200g 홀빈", "880123450001"),
         "mug": ("MUG-WH-01", "머그컵 화이트", "880123450002"),
         "coaster": ("COASTER-01", "원목 코스터", "880123450003"),
         "tumbler": ("TMB-500-BK", "스테인리스 텀블러 500ml 블랙", "880123450004"),
         "bag": ("BAG-CANVAS", "캔버스 에코백", "880123450005")}
GIFT_SET = (("bean", 2), ("mug", 1))
BUYERS = {
    "minji": ("김민지", "010-2345-6789", "06236", "서울특별시 강남구 테헤란로 7", "3층 301호"),
    "seojun": ("박서준", "010-8765-4321", "48058", "부산광역시 해운대구 센텀중앙로 79", "1204호"),
    "haneul": ("이하늘", "010-3456-7890", "34134", "대전광역시 유성구 대학로 99", "학생회관 2층"),
    "hyunwoo": ("최현우", "010-4567-8901", "21998", "인천광역시 연수구 컨벤시아대로 165", "A동 805호"),
    "daeun": ("정다은", "010-5678-9012", "61949", "광주광역시 서구 상무중앙로 110", "902동 1503호"),
    "jihoon": ("한지훈", "010-6789-0123", "16514", "경기도 수원시 영통구 광교중앙로 140", "B동 1101호"),
    "seoa": ("윤서아", "010-7890-1234", "10403", "경기도 고양시 일산동구 중앙로 1036", "7층"),
}
# (buyer, [(product, quantity)], delivery message): two orders of one buyer go in one box (합포장)
MORNING = (("minji", [("bean", 2), ("mug", 1)], "문 앞에 놓아주세요"),
           ("minji", [("coaster", 1)], "문 앞에 놓아주세요"),
           ("seojun", [("gift", 1)], "부재 시 경비실에 맡겨주세요"),
           ("haneul", [("tumbler", 1), ("bag", 1)], ""),
           ("hyunwoo", [("coaster", 2)], "배송 전 연락 바랍니다"))
AFTERNOON = (("daeun", [("bean", 1), ("mug", 2)], "문 앞에 놓아주세요"),
             ("daeun", [("bag", 1)], "문 앞에 놓아주세요"),
             ("jihoon", [("gift", 1)], "선물 포장 부탁드립니다"),
             ("seoa", [("tumbler", 2)], ""))
PACKERS = ("김지현", "이준호", "박서연", "정민수")  # 정민수 has left: deactivated, kept in the history


def ean13(body: str) -> str:
    """An EAN-13 (Korean 880 prefix) with its check digit, as printed on the goods."""
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(body))
    return f"{body}{(10 - total % 10) % 10}"


class Shooter:
    """Runs the Qt event loop while the app works and saves widgets as the pictures."""

    def __init__(self, app: Any, suffix: str) -> None:
        self.app, self.suffix = app, suffix

    def pump(self, seconds: float = 0.3) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            self.app.processEvents()
            time.sleep(0.01)

    def until(self, done: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
        """Work the event loop until ``done()``; a picture of a screen still loading is no use: fail loudly."""
        end = time.monotonic() + timeout
        while not done():
            if time.monotonic() > end:
                raise RuntimeError(f"screenshots: timed out waiting for {what}")
            self.app.processEvents()
            time.sleep(0.01)

    def shot(self, widget: Any, name: str, prepare: Callable[[], None] | None = None,
             size: tuple[int, int] | None = None) -> Path:
        from PySide6.QtCore import QPoint, Qt
        from PySide6.QtGui import QPainter
        from PySide6.QtMultimediaWidgets import QVideoWidget

        if prepare:
            prepare()
        if size:
            widget.resize(*size)
        widget.show()
        widget.raise_()
        self.pump(0.6)
        path = OUT / f"{name}{self.suffix}.png"
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
        return path


class Desk:
    """The station's scanner, as the packer uses it: one code at a time, each handled before the next."""

    def __init__(self, sh: Shooter, service: Any) -> None:
        self.sh, self.service = sh, service

    def settle(self) -> None:
        for _ in range(500):
            self.sh.app.processEvents()
            if not self.service.busy:
                break
            time.sleep(0.01)
        self.sh.pump(0.2)

    def scan(self, *codes: str) -> None:
        from packdesk.core.enums import ScanSource

        for code in codes:
            self.service.scan(code, ScanSource.WEDGE)
            self.settle()
            self.sh.pump(0.4)  # a bit of video between scans

    def scan_items(self) -> None:
        """Everything the open pack lists, each unit by its item's barcode (as the screen asks for it)."""
        pack = self.service.state.pack
        assert pack is not None, "no pack is open"
        for item_id, units in pack.plan.expected().items():
            for _ in range(units):
                self.scan(pack.plan.items[item_id].barcodes[0])

    @property
    def message(self) -> Any:
        return self.service.state.message.code


@contextmanager
def station_in(language: str, storage: Any = None, **options: Any) -> Iterator[Any]:
    """A whole station (``app.build_station``) on a throwaway data folder, closed afterwards; ``storage``: the
    settings' video storage (``VideoLinkSettings``), for the buyer's video links."""
    from PySide6.QtWidgets import QApplication

    from packdesk.app import build_station
    from packdesk.paths import app_dirs
    from packdesk.services.settings import CameraSettings, RecordingSettings, Settings

    with tempfile.TemporaryDirectory(prefix="packdesk-shots-") as tmp:
        dirs = app_dirs(tmp).ensure()
        settings = Settings(recorder="opencv", camera=CameraSettings(source="synthetic", pre_roll_s=1.0),
                            recording=RecordingSettings(min_free_gb=0.1), language=language,
                            demo_channel=options.get("demo", True))
        if storage is not None:
            settings = settings.model_copy(update={"video_link": storage})
        station = build_station(dirs, settings, sounds=False, create_database=True, **options)  # a throwaway folder
        try:
            end = time.monotonic() + 30  # the recorder's own process starts (about a second)
            while not station.service.recorder.ready()[0]:
                if time.monotonic() > end:
                    raise RuntimeError(f"screenshots: the recorder: {station.service.recorder.ready()[1]}")
                QApplication.processEvents()
                time.sleep(0.01)
            station.window.resize(*SIZE)
            station.window.show()
            yield station
        finally:
            station.close()
            station.window.close()


def demo_screens(sh: Shooter, language: str) -> None:
    sys.path.insert(0, str(ROOT))  # the fakes in tests/fakes/: the seller's storage, a keyring
    from tests.fakes.s3 import REGION, FakeS3

    from packdesk.services import video_link
    from packdesk.services.settings import VideoLinkSettings

    with throwaway_keyring(), FakeS3() as s3:
        # the seller's own storage for the buyer's video links, as Settings -> Video storage names it (the keys
        # in the OS keyring, here the throwaway one)
        s3.client().create_bucket(Bucket=STORAGE_BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
        video_link.save_keys(s3.access_key, s3.secret_key)
        storage = VideoLinkSettings(endpoint=s3.endpoint, bucket=STORAGE_BUCKET, region=REGION, link_days=3)
        with station_in(language, storage) as station:
            demo_station(sh, station)
            demo_supervisor(sh, station, language)


def demo_station(sh: Shooter, station: Any) -> None:
    """The packer's screens: a gift set packed (a refused scan), a pack recording, then a return inspected."""
    from packdesk.channels.demo import BARCODE, Scenario
    from packdesk.core.station import Msg
    from packdesk.services.returns import RETURNS_OFF, RETURNS_ON

    window, desk = station.window, Desk(sh, station.service)
    sh.pump(1.5)  # the camera's pre-roll
    desk.scan("PD-PACKER-001", Scenario.GIFT_SET, BARCODE["MUG-WH-01"], BARCODE["COASTER-01"],
              BARCODE["COASTER-01"])
    both_sizes(sh, window, "station-packing")
    desk.scan(BARCODE["TEA-GR"])
    both_sizes(sh, window, "station-refused")
    for code in ("COASTER-01", "COASTER-01", "COASTER-01", "COASTER-01", "GIFTBOX-S"):
        desk.scan(BARCODE[code])
    sh.shot(window, "station-complete")
    desk.scan(Scenario.SIMPLE, BARCODE["MUG-WH-01"])
    sh.shot(window, "station-recording")
    desk.scan(BARCODE["TMB-500"], BARCODE["MUG-WH-01"])
    assert desk.message is Msg.PACK_COMPLETE, desk.message
    sh.until(lambda: len(complete_recordings(station)) >= 2, "the packs' recordings closed")

    # days later the SIMPLE parcel comes back: opened on camera in returns mode (the courier's return label is
    # not known here, the original waybill links it), a mug as sent, a tea that was never in the box
    desk.scan(RETURNS_ON, RETURN_LABEL, Scenario.SIMPLE, BARCODE["MUG-WH-01"], "PD-RET-OK", BARCODE["TEA-GR"],
              "PD-RET-OTHER", BARCODE["TMB-500"])
    panel = window.returns_panel
    assert panel.isVisible() and len(panel.out_texts()) == 3, panel.out_texts()
    sh.shot(window, "station-returns")
    desk.scan("PD-RET-DAMAGED", "PD-CMD-COMPLETE", RETURNS_OFF)
    assert panel.isHidden()
    station.service.worker.wait_idle(5)


def demo_supervisor(sh: Shooter, station: Any, language: str) -> None:
    """The supervisor's screens over what the station did: settings, collection, links, outbox, the review
    (with the buyer's video link and a claim bundle), the return beside its outbound pack, reports, orders."""
    from PySide6.QtWidgets import QTabWidget

    from packdesk.channels.demo import Scenario
    from packdesk.services.settings import Settings
    from packdesk.ui import files
    from packdesk.ui.claim_bundle_view import PURPOSE, ClaimBundleDialog

    window = station.window
    # the two packs and the return: their recordings closed and indexed
    sh.until(lambda: len(complete_recordings(station)) >= 3, "the recordings indexed")

    dialog = window.open_settings()
    sh.shot(dialog, "settings")
    dialog.show_page("video_link")
    dialog.storage.test()  # the storage the settings name, with the keyring's keys
    sh.until(lambda: dialog.storage.result.property("code") == "ok", "the storage test")
    sh.shot(dialog, "settings-storage")
    dialog.reject()
    collect = window.open_collect()
    sh.until(lambda: collect.runs.rowCount() > 0, "the collection runs")
    collect.runs.selectRow(0)  # its whole story in the detail pane
    sh.shot(collect, "collection-runs")
    tabs = collect.findChildren(QTabWidget)[0]
    sh.shot(collect, "collection-accounts", lambda: tabs.setCurrentIndex(1))
    collect.reject()
    mapping = window.open_mapping()
    sh.until(lambda: mapping.model.rowCount() > 0, "the product links")
    rows = [str(mapping.model.data(mapping.model.index(i, 0))) for i in range(mapping.model.rowCount())]
    mapping.table.selectRow(next(i for i, text in enumerate(rows) if "선물세트" in text))  # a set: its items
    sh.shot(mapping, "product-links")
    mapping.close()
    outbox = window.open_outbox()  # the demo shop's packs went out as they completed: what was sent
    sh.shot(outbox, "dispatch-outbox", lambda: outbox.tabs.setCurrentWidget(outbox.history))
    outbox.close()

    review = window.open_review()
    review.resize(1400, 900)
    loaded: list[int] = []
    review.recording_loaded.connect(loaded.append)
    review.search_for(Scenario.SIMPLE)
    sh.until(lambda: not review.busy and bool(review.model.rows), "the review's search")
    outbound = next(r for r in review.model.rows if r.tracking_number == Scenario.SIMPLE)
    review.select_recording(outbound.id)
    sh.until(lambda: outbound.id in loaded and not review.busy, "the recording loaded")
    if review.scan_list.count() > 2:  # jump to "tumbler scanned", as a supervisor answering a claim does
        review.scan_list.setCurrentRow(2)
        review._scan_clicked(review.scan_list.item(2))
        sh.pump(2.0)  # the player seeks and shows that frame
    sh.shot(review, "review")

    # the buyer's video link: uploaded to the seller's storage, shown, copied
    linked: list[object] = []
    review.video_link.linked.connect(linked.append)
    review.video_link.button.click()
    sh.until(lambda: bool(linked) and not review.busy, "the video link", timeout=60)
    sh.shot(review, "video-link")

    # the claim bundle of that recording's order, one ZIP, in the folder chosen last time
    folder = station.dirs.data / "claims"
    folder.mkdir(parents=True, exist_ok=True)
    files.remember(PURPOSE, folder)
    review.claim_bundle_button.click()
    bundle = review.findChild(ClaimBundleDialog)
    assert bundle is not None
    sh.until(lambda: bundle.subject is not None and bundle.export_button.isEnabled(), "the claim bundle's order")
    exported: list[object] = []
    bundle.exported.connect(exported.append)
    bundle.export_button.click()
    sh.until(lambda: bool(exported) and not bundle.busy, "the claim bundle", timeout=60)
    sh.shot(bundle, "claim-bundle")
    bundle.reject()

    # the return's video beside the outbound pack's
    review.returns_button.click()
    returns = review.returns_window
    assert returns is not None
    shown: list[int] = []
    returns.loaded.connect(shown.append)
    sh.until(lambda: bool(shown) and not returns.busy, "the return beside its pack", timeout=60)
    for side in ("return", "outbound"):  # each player at its pack's last scan, as a claim is answered
        scans = returns.scan_lists[side]
        if scans.count():
            scans.setCurrentRow(scans.count() - 1)
            returns._jump(returns.players[side], scans.item(scans.count() - 1))
    sh.pump(2.0)  # the players seek and show those frames
    sh.shot(returns, "returns-review")
    returns.done(0)
    sh.until(lambda: not review.busy, "the review idle")
    review.close()

    reports = window.open_reports()
    sh.pump(1.5)
    sh.shot(reports, "reports")
    reports.close()
    excel = window.open_excel_orders()
    sh.shot(excel, "excel-orders")
    excel.close()
    orders = window.open_orders()
    sh.until(lambda: bool(orders.rows) and not orders.busy, "the orders")
    packed = next(r for r in orders.rows if any(number == Scenario.SIMPLE for _, number in r.waybills))
    orders.select_order(packed.id)  # the order packed, came back and was claimed: its lines' history
    sh.until(lambda: orders.detail is not None and orders.detail.row.id == packed.id and not orders.busy,
             "the order's detail")
    sh.shot(orders, "orders")
    orders.close()

    from packdesk.ui.first_run import FirstRunWizard

    wizard = FirstRunWizard(station.dirs, Settings(language=language), scan_filter=False)
    sh.shot(wizard, "first-run")
    wizard.reject()


def complete_recordings(station: Any) -> list[Any]:
    """The complete recordings, once the station's worker has indexed what it was given."""
    from sqlalchemy import select

    from packdesk.core import models as m
    from packdesk.core.enums import RecordingStatus

    station.service.worker.wait_idle(5)
    with station.db.session() as s:
        return list(s.scalars(select(m.Recording).where(m.Recording.status == RecordingStatus.COMPLETE)))


def both_sizes(sh: Shooter, window: Any, name: str) -> None:
    """The station at a common small office screen (1280x800) and maximised on a full-HD one (1920x1080), the
    two a packer's PC has (issue #20): ``<name>-1280`` and ``<name>-1920``. Xvfb runs no window manager, which
    is what maximises a window: there the window is given the screen's free area itself, as one would."""
    sh.shot(window, f"{name}-1280", size=SIZE)
    area = window.screen().availableGeometry()
    window.showMaximized()
    end = time.monotonic() + 2.0
    while window.width() < area.width() and time.monotonic() < end:
        sh.pump(0.05)
    if window.width() < area.width():  # nothing maximised it: no window manager
        window.setGeometry(area)
        sh.until(lambda: window.size() == area.size(), "the station at the screen's size")
    sh.shot(window, f"{name}-1920")
    window.showNormal()
    window.resize(*SIZE)
    sh.until(lambda: (window.width(), window.height()) == SIZE, "the station back at 1280x800")


@contextmanager
def throwaway_keyring() -> Iterator[None]:
    """The fake accounts' and storage's throwaway secrets stay out of this PC's keyring."""
    import keyring

    sys.path.insert(0, str(ROOT))
    from tests.fakes.memory_keyring import MemoryKeyring

    previous = keyring.get_keyring()
    keyring.set_keyring(MemoryKeyring())
    try:
        yield
    finally:
        keyring.set_keyring(previous)


def day_screens(sh: Shooter, language: str) -> None:
    sys.path.insert(0, str(ROOT))  # the fakes in tests/fakes/: the marketplace, the courier program, a keyring
    from tests.fakes.naver import FakeNaver

    with (throwaway_keyring(), FakeNaver(rate_limit=None) as naver,
          station_in(language, demo=False, packers=PACKERS) as station,
          tempfile.TemporaryDirectory(prefix="packdesk-day-files-") as files):
        day_at_the_warehouse(sh, station, naver, Path(files))


def collect(station: Any, naver: Any, account: int, orders: Any) -> None:
    """The marketplace gets ``orders`` (paid, 발주확인 done), then PackDesk collects them, as *Collect now* does."""
    from datetime import UTC, datetime, timedelta

    for buyer, lines, memo in orders:
        name, phone, zip_code, address, detail = BUYERS[buyer]
        naver.add_order([{**PRODUCTS[p], "quantity": n} for p, n in lines], placeOrderStatus="OK",
                        shippingMemo=memo, shippingAddress={"name": name, "tel1": phone, "zipCode": zip_code,
                                                            "baseAddress": address, "detailedAddress": detail})
    now = datetime.now(UTC)
    run = station.background.collector.run_manual(account, now - timedelta(hours=12), now + timedelta(minutes=5),
                                                  started_by="관리자")
    assert run.status.value == "succeeded", (run.status, run.error_code, run.error_detail)


def link_products(db: Any) -> None:
    """The supervisor's product links: each product becomes a shipping item; the gift set is two of them."""
    from packdesk.services import mapping

    with db.session() as s:
        products = {r.product_code: r for r in mapping.list_sales_products(s, mapping.ProductFilter(limit=None))}
        by_key = {key: products[spec["productId"]] for key, spec in PRODUCTS.items()}
        made = mapping.create_items(s, [
            mapping.NewItem(by_key[key].id, sku, name, "", (ean13(body),)) for key, (sku, name, body) in ITEMS.items()])
        item_of = {row.product_code: row.components[0].item_id for row in made}
        mapping.link(s, by_key["gift"].id, [(item_of[PRODUCTS[key]["productId"]], n) for key, n in GIFT_SET])


def day_at_the_warehouse(sh: Shooter, station: Any, naver: Any, files: Path) -> None:
    from PySide6.QtCore import QSize, Qt
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtPdf import QPdfDocument
    from tests.fakes.courier_program import CourierProgram, Issued

    from packdesk.core.enums import ChannelKind
    from packdesk.core.station import Msg
    from packdesk.core.tracking import with_check_digit
    from packdesk.services import orders as so
    from packdesk.services import staff
    from packdesk.services.accounts import AccountSpec, add_account

    window, db, desk = station.window, station.db, Desk(sh, station.service)
    sh.pump(1.5)  # the camera's pre-roll
    # the morning: the account as the set-up adds it, a packer gone, the orders collected, products linked
    account = add_account(db, AccountSpec(ChannelKind.NAVER, "내 스마트스토어", {
        "external_id": naver.client_id, "secret": naver.client_secret, "base_url": naver.base_url}))
    with db.session() as s:
        members = {mb.name: mb for mb in staff.list_staff(s)}
        staff.deactivate_packer(s, members["정민수"].id)
    window.reload_packers()
    collect(station, naver, account, MORNING)
    link_products(db)

    # the courier program's round trip: export, the program's result sheet, preview, bind
    courier = window.open_courier()
    courier.resize(*SIZE)
    sh.until(lambda: courier.last_count is not None and not courier.busy, "the courier screen")
    courier.account_combo.setCurrentIndex(courier.account_combo.findData(account))  # (period: all not exported)
    sh.until(lambda: not courier.busy and courier.last_count.parcels == 4, "the export count")
    sh.shot(courier, "courier-export", size=SIZE)
    upload = files / "cj-upload.xlsx"
    exported: list[object] = []
    courier.exported.connect(exported.append)
    courier.export_to(upload)
    sh.until(lambda: bool(exported) and not courier.busy, "the export")
    program = CourierProgram()
    headers, issued = program.issue(upload)
    # a parcel the seller typed into the courier program by hand (an exchange): PackDesk has no reference for it
    by_hand = Issued("", program.next_number(), {
        "받는분성명": "오민석", "받는분전화번호": "010-2222-3333", "받는분기타연락처": "010-2222-3333",
        "받는분우편번호": "03154", "받는분주소(전체, 분할)": "서울특별시 종로구 종로 1 교보빌딩",
        "품목명": "교환품 머그컵 x1", "내품수량": 1, "박스수량": 1})
    result = program.write_xlsx(files / "cj-result.xlsx", headers, [*issued, by_hand])
    courier.tabs.setCurrentIndex(1)
    courier.load_file(result)
    sh.until(lambda: courier.preview is not None and not courier.busy, "the import preview")
    sh.shot(courier, "courier-import", size=SIZE)
    courier.import_now()
    sh.until(lambda: courier.last_result is not None and not courier.busy, "the waybills bound")
    assert courier.last_result.bound == len(issued), courier.last_result
    courier.close()

    # packing: two packers take turns at the station; each box opens by the courier label on it
    numbers = [it.number for it in issued]
    for badge_of, number in (("김지현", numbers[0]), ("이준호", numbers[1])):
        desk.scan(members[badge_of].badge_code, number)
        desk.scan_items()
        assert desk.message is Msg.PACK_COMPLETE, desk.message

    # the afternoon's orders, for pre-printed labels: packing slips, then the station binds each label
    collect(station, naver, account, AFTERNOON)
    slips_dialog = window.open_slips()
    sh.until(lambda: slips_dialog.account_combo.count() > 1, "the slip dialog's accounts")
    saved: list[str] = []
    slips_dialog.saved.connect(saved.append)
    slips_dialog.save(files / "packing-slips.pdf")
    sh.until(lambda: bool(saved), "the packing slips")
    printed = slips_dialog.printed
    slips_dialog.close()
    boxed = max(range(len(printed)), key=lambda i: len(printed[i].order_nos))  # 정다은's two orders, one box
    pdf = QPdfDocument()
    pdf.load(saved[0])
    assert pdf.pageCount() == len(printed), (pdf.pageCount(), len(printed))  # one page each
    page = pdf.pagePointSize(boxed)
    width = 900
    rendered = pdf.render(boxed, QSize(width, round(width * page.height() / page.width())))
    paper = QImage(rendered.size(), QImage.Format.Format_RGB32)  # the page is transparent: put it on paper
    paper.fill(Qt.GlobalColor.white)
    painter = QPainter(paper)
    painter.drawImage(0, 0, rendered)
    painter.end()
    path = OUT / f"packing-slip{sh.suffix}.png"
    paper.convertToFormat(QImage.Format.Format_Grayscale8).save(str(path))  # black print: grey keeps it small
    print(path)

    desk.scan(members["김지현"].badge_code, printed[boxed].parcel_key)
    desk.scan_items()
    assert desk.message is Msg.SCAN_LABEL, desk.message
    sh.shot(window, "station-label")
    label = with_check_digit("58412345670")
    desk.scan(label[:-1] + str((int(label[-1]) + 1) % 10))  # a smudged label, misread
    assert desk.message is Msg.LABEL_INVALID, desk.message
    sh.shot(window, "station-label-refused")
    desk.scan(label)
    assert desk.message is Msg.PACK_COMPLETE, desk.message
    station.service.worker.wait_idle(5)

    # the supervisor's screens at the end of the day
    staff_view = window.open_staff()
    sh.until(lambda: len(staff_view.members) == len(PACKERS) and not staff_view.busy, "the staff list")
    sh.shot(staff_view, "staff")
    staff_view.close()

    orders = window.open_orders()
    sh.until(lambda: len(orders.rows) == len(MORNING) + len(AFTERNOON) and not orders.busy, "the orders")
    waiting = next(r for r in orders.rows if r.recipient_name == BUYERS["jihoon"][0])
    orders.select_order(waiting.id)
    sh.until(lambda: orders.detail is not None and orders.detail.row.id == waiting.id and not orders.busy,
             "the order's detail")
    assert orders.detail.needs_waybill
    orders.tracking_edit.setText(with_check_digit("58412345681"))  # the label printed at the courier's office
    orders.tracking_edit.setFocus()
    sh.shot(orders, "orders-waybill", size=SIZE)
    with db.session() as s:  # what the next picture-taker would see: the orders window leaves it waiting
        assert so.order_detail(s, waiting.id).needs_waybill
    orders.close()


def main(*args: str) -> int:
    language = next((a for a in args if a in ("ko", "en")), "ko")
    parts = [a for a in args if a in ("demo", "day")] or ["demo", "day"]
    os.environ.setdefault("QT_QPA_PLATFORM", "xcb")
    from PySide6.QtWidgets import QApplication

    app = QApplication(sys.argv[:1])
    screen = app.primaryScreen().size()
    if (screen.width(), screen.height()) != SCREEN:
        raise SystemExit(f"screenshots: the X display is {screen.width()}x{screen.height()}, the pictures need "
                         f'{SCREEN[0]}x{SCREEN[1]}: xvfb-run -a -s "-screen 0 {SCREEN[0]}x{SCREEN[1]}x24"')
    OUT.mkdir(parents=True, exist_ok=True)
    sh = Shooter(app, "" if language == "ko" else f"-{language}")
    if "demo" in parts:
        demo_screens(sh, language)
    if "day" in parts:
        day_screens(sh, language)
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
