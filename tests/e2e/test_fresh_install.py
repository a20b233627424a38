"""A fresh install with the demo shop off, driven as people drive it through the real windows (offscreen):
the first-run set-up (station name, no recording, the supervisor PIN, "add a marketplace account now", one
packer's name); the station starts as ``app.main`` starts it and opens the accounts screen; a SmartStore account
is typed in and the night's orders (no tracking number) are collected from the fake over real HTTP; their
products get items with barcodes on the product-link screen (behind the PIN); the packer's badge is printed on
the staff screen and read back off the PDF; the courier waybills screen exports the parcels, the courier
program prints them and writes its CP949 result sheet, the screen imports it; the packer scans the badge, each
label and the goods at scanner speed; the station's own uploader tells SmartStore, once per product order.

Nothing is done around the product: no rows written by hand, no service called in a window's place. What is
checked is what the windows show, the station's open pack, its outbox's counts and what the fake received."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QDateTime, Qt
from PySide6.QtWidgets import QApplication, QFileDialog, QTabWidget, QWizard

from packdesk.paths import AppDirs
from packdesk.services.settings import load_settings
from packdesk.ui.collect_view import CollectWindow
from packdesk.ui.first_run import FirstRunWizard
from packdesk.ui.mapping_view import CreateItemsDialog, MappingView
from packdesk.ui.supervisor import PinDialog
from tests.fakes.courier_program import CourierProgram
from tests.fakes.naver import FakeNaver
from tests.ui.conftest import Packer
from tests.ui.test_collect_view import add_account_by_typing
from tests.ui.test_courier_view import answer_dialogs, click_tab
from tests.ui.test_courier_view import open_screen as open_courier
from tests.ui.test_first_run import HUMAN_KEY_DELAY_MS, choose, click, show, type_into, type_lines
from tests.ui.test_i18n_orders import click as press
from tests.ui.test_i18n_orders import menu_action
from tests.ui.test_mapping_view import click_line
from tests.ui.test_packing_slip import codes, pdf_pages
from tests.ui.test_staff_view import click_row, close_staff, member, open_staff
from tests.ui.test_supervisor import type_pin

pytestmark = pytest.mark.gui
TIMEOUT = 10_000
PIN = "2580"
PACKER = "김포장"
BUYER_A = {"name": "김민지", "tel1": "010-2345-6789", "zipCode": "06236",
           "baseAddress": "서울특별시 강남구 테헤란로 7", "detailedAddress": "1층"}
BUYER_B = {"name": "박서준", "tel1": "010-8765-4321", "zipCode": "48058",
           "baseAddress": "부산광역시 해운대구 센텀로 1", "detailedAddress": "2층"}
GOODS_BARCODES = ("8809000000014", "8809000000021", "8809000000038")  # printed on the goods, one per product


@pytest.fixture
def naver() -> Iterator[FakeNaver]:
    with FakeNaver(rate_limit=None) as fake:
        yield fake


def seed_the_night(naver: FakeNaver) -> dict[str, tuple[str, ...]]:
    """Paid and 발주확인-ed orders, no tracking number: buyer A's two orders (a mug and a tumbler; two bags) go in
    one box (합포장), buyer B's mug in another. Returns each buyer's product orders."""
    a1 = naver.add_order(2, placeOrderStatus="OK", shippingAddress=BUYER_A)
    a2 = naver.add_order([{"quantity": 2}], placeOrderStatus="OK", shippingAddress=BUYER_A)
    mug_option = naver.product_order(a1.product_order_ids[0])["productOrder"]["optionCode"]
    b = naver.add_order([{"productName": "머그컵", "productOption": "색상: 화이트", "optionManageCode": "MUG-WH",
                          "sellerProductCode": "MUG", "productId": "9000000000", "optionCode": mug_option}],
                        placeOrderStatus="OK", shippingAddress=BUYER_B)
    return {BUYER_A["name"]: a1.product_order_ids + a2.product_order_ids, BUYER_B["name"]: b.product_order_ids}


def first_run(qtbot, dirs: AppDirs) -> FirstRunWizard:  # type: ignore[no-untyped-def]
    """The set-up on a new PC: every page as a person answers it; Finish."""
    assert not dirs.settings_file.exists()
    w = show(qtbot, FirstRunWizard(dirs))
    type_into(qtbot, w.name_page.name_edit, "PACK-1")
    click(qtbot, w, QWizard.WizardButton.NextButton)
    assert w.currentPage() is w.folders_page
    click(qtbot, w, QWizard.WizardButton.NextButton)
    camera = w.camera_page  # no webcam on this PC: the synthetic camera
    camera.choice.setCurrentIndex(camera.choice.findData("synthetic"))
    qtbot.waitUntil(lambda: camera.camera is not None and camera.camera.spec == "synthetic", timeout=TIMEOUT)
    click(qtbot, w, QWizard.WizardButton.NextButton)
    assert w.currentPage() is w.scanner_page  # the scanner test is optional (tests/ui/test_first_run.py tries it)
    click(qtbot, w, QWizard.WizardButton.NextButton)
    assert w.currentPage() is w.recorder_page
    choose(qtbot, w.recorder_page.buttons["off"])
    click(qtbot, w, QWizard.WizardButton.NextButton)
    assert w.currentPage() is w.pin_page
    type_into(qtbot, w.pin_page.pin, PIN)
    type_into(qtbot, w.pin_page.pin_again, PIN)
    click(qtbot, w, QWizard.WizardButton.NextButton)
    assert w.currentPage() is w.account_page
    choose(qtbot, w.account_page.now)  # a real SmartStore: no demo shop, so the packers are asked for
    click(qtbot, w, QWizard.WizardButton.NextButton)
    assert w.currentPage() is w.staff_page
    type_lines(qtbot, w.staff_page.names_edit, [PACKER])
    click(qtbot, w, QWizard.WizardButton.NextButton)
    assert w.currentPage() is w.done_page and f"작업자 / Packers: {PACKER}" in w.done_page.summary.text()
    click(qtbot, w, QWizard.WizardButton.FinishButton)
    assert w.result() == QWizard.DialogCode.Accepted and w.add_account_after and w.packer_names == (PACKER,)
    return w


def collect(qtbot, w: CollectWindow, naver: FakeNaver) -> None:  # type: ignore[no-untyped-def]
    """The accounts tab: the SmartStore account typed in; the runs tab: collect up to now."""
    tabs = w.findChild(QTabWidget)
    assert tabs is not None
    click_tab(qtbot, tabs, 1)
    add_account_by_typing(qtbot, w, naver)
    assert "OS 키링" in w.account_message.text(), w.account_message.text()
    click_tab(qtbot, tabs, 0)
    index = w.account_combo.findText("우리 스토어")
    assert index >= 0
    w.account_combo.setCurrentIndex(index)
    w.to_edit.setDateTime(QDateTime.currentDateTime().addSecs(60))  # the minute shown: up to now
    with qtbot.waitSignal(w.run_finished, timeout=TIMEOUT):
        press(qtbot, w.collect_button)
    assert "완료: 주문 3건, 신규 4건" in w.message.text(), w.message.text()
    w.reject()


def open_as_supervisor(qtbot, st, title: str) -> None:  # type: ignore[no-untyped-def]
    """File → ``title``: in packer mode the PIN dialog asks first, typed at a person's speed."""
    menu_action(st, title).trigger()
    if st.window.gate.is_supervisor():
        return
    qtbot.waitUntil(lambda: isinstance(st.window.gate.dialog, PinDialog) and st.window.gate.dialog.isVisible(),
                    timeout=TIMEOUT)
    type_pin(qtbot, st.window.gate.dialog, PIN)
    qtbot.waitUntil(lambda: st.window.gate.dialog is None and st.window.gate.is_supervisor(), timeout=TIMEOUT)


def link_products(qtbot, st) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """The product-link screen: every collected product selected (click, Shift+click), an item made for each,
    the number under each product's barcode typed in (a scanner's burst of keys is for the station's scans:
    synthetic keys carry no time stamp, so a stalled test process could split one). Returns each new item's
    SKU -> its barcode."""
    open_as_supervisor(qtbot, st, "상품 연결… / Product links…")
    v = st.window._mapping_view
    assert isinstance(v, MappingView)
    qtbot.waitUntil(lambda: not v.busy and v.model.rowCount() == 3, timeout=TIMEOUT)
    assert "미연결 3개" in v.counts.text(), v.counts.text()
    table = v.table
    for row, modifier in ((0, Qt.KeyboardModifier.NoModifier), (2, Qt.KeyboardModifier.ShiftModifier)):
        idx = v.proxy.index(row, 1)
        table.scrollTo(idx)
        qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, modifier, table.visualRect(idx).center())
    qtbot.waitUntil(lambda: len(v.selected_rows()) == 3)
    press(qtbot, v.create_button)
    qtbot.waitUntil(lambda: isinstance(v.create_dialog, CreateItemsDialog) and v.create_dialog.isVisible())
    d = v.create_dialog
    assert d is not None and len(d.lines) == 3 and d.next_after_scan.isChecked()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is d)
    for line, code in enumerate(GOODS_BARCODES):
        click_line(qtbot, d, line)
        with qtbot.waitSignal(d.barcode_added, timeout=TIMEOUT) as added:
            type_into(qtbot, d.barcode_input, code)
            qtbot.keyClick(d.barcode_input, Qt.Key.Key_Return, delay=HUMAN_KEY_DELAY_MS)
        assert added.args == [line, code]
    barcode_of = {ln.sku: ln.barcodes[0] for ln in d.lines}
    with qtbot.waitSignal(v.items_created, timeout=TIMEOUT) as made:
        press(qtbot, d.create_button)
    assert made.args == [3]
    qtbot.waitUntil(lambda: not v.busy and "미연결 0개" in v.counts.text(), timeout=TIMEOUT)
    press(qtbot, v.close_button)
    qtbot.waitUntil(lambda: st.window._mapping_view is None)
    return barcode_of


def print_badge(qtbot, st, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:  # type: ignore[no-untyped-def]
    """The staff screen: the packer from the set-up, their badge printed to PDF; the code a scanner reads off
    the paper (rendered and decoded) is what the packer scans."""
    view = open_staff(qtbot, st)
    assert [mb.name for mb in view.members] == [PACKER] and member(view, PACKER).active
    click_row(qtbot, view, PACKER)
    sheet = tmp_path / "badge.pdf"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(sheet), "PDF (*.pdf)"))
    with qtbot.waitSignal(view.printed, timeout=TIMEOUT):
        press(qtbot, view.print_button)
    assert sheet.read_bytes().startswith(b"%PDF")
    (page,) = pdf_pages(sheet)
    (badge,) = codes(page)
    assert badge == member(view, PACKER).badge_code and badge.startswith("PD-STAFF-")
    close_staff(qtbot, st, view)
    return badge


def waybills_from_the_courier(qtbot, st, monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
                              tmp_path: Path) -> dict[str, str]:
    """The courier waybills screen: export for CJ대한통운 → the courier program (CP949 CSV result) → import.
    Returns each recipient's tracking number, as the program printed it on their label."""
    export, result = tmp_path / "cj-upload.xlsx", tmp_path / "cj-result.csv"
    answer_dialogs(monkeypatch, [export], [result])
    open_as_supervisor(qtbot, st, "택배 송장… / Courier waybills…")
    view = open_courier(qtbot, st)
    assert view.current_template() is not None and view.current_template().id == "cj"
    with qtbot.waitSignal(view.counted, timeout=TIMEOUT):
        view.account_combo.setCurrentIndex(view.account_combo.findText("우리 스토어"))
    qtbot.waitUntil(lambda: not view.busy, timeout=TIMEOUT)
    assert view.count_label.text() == "내보낼 택배 2개 (상품 4줄) / 2 parcels to export (4 lines)"
    with qtbot.waitSignal(view.exported, timeout=TIMEOUT) as exported:
        press(qtbot, view.export_button)
    assert exported.args[0].parcels == 2 and exported.args[0].path == export

    issued = CourierProgram().run(export, result, "csv-cp949")
    number_of = {str(it.row["받는분성명"]): it.number for it in issued}
    assert len(set(number_of.values())) == 2

    click_tab(qtbot, view.tabs, 1)
    with qtbot.waitSignal(view.previewed, timeout=TIMEOUT, check_params_cb=lambda p: p is not None):
        press(qtbot, view.choose_button)
    qtbot.waitUntil(lambda: not view.busy, timeout=TIMEOUT)
    assert view.summary.text() == "송장 등록 2 / Will bind 2", view.summary.text()
    with qtbot.waitSignal(view.imported, timeout=TIMEOUT):
        press(qtbot, view.import_button)
    qtbot.waitUntil(lambda: not view.busy, timeout=TIMEOUT)
    assert view.message.text().startswith("송장을 등록했습니다: 2개"), view.message.text()
    press(qtbot, view.close_button)
    assert not view.isVisible()
    return number_of


def back_to_the_station(qtbot, st) -> None:  # type: ignore[no-untyped-def]
    st.window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is st.window and QApplication.focusWidget() is not None)


def test_a_fresh_install_with_a_smartstore_account_packs_and_dispatches(  # type: ignore[no-untyped-def]
        qtbot, dirs: AppDirs, naver: FakeNaver, make_station, monkeypatch, tmp_path: Path) -> None:
    # (``naver`` before ``make_station``: the station shuts down before the marketplace goes away)
    product_orders = seed_the_night(naver)

    # 1. the set-up, then the station as app.main builds it from what the wizard returned
    w = first_run(qtbot, dirs)
    saved, problem = load_settings(dirs.settings_file)
    assert problem is None and saved == w.result_settings and not saved.demo_channel
    st = make_station(saved, packers=w.packer_names)
    packer = Packer(qtbot, st)
    assert [p.name for p, _ in st.service.packers] == [PACKER]
    assert packer.banner() == "작업자 바코드를 스캔하세요"
    assert "작업자 모드" in st.window.mode_label.text()  # the set-up's PIN guards the supervisor's screens

    # 2. the accounts screen opens (the set-up asked for it): account typed in, the night's orders collected
    collect_window = st.window.open_collect()
    assert isinstance(collect_window, CollectWindow)
    collect(qtbot, collect_window, naver)
    back_to_the_station(qtbot, st)

    # 3. products linked to items, 4. the packer's badge, 5. the waybills from the courier program
    barcode_of = link_products(qtbot, st)
    badge = print_badge(qtbot, st, monkeypatch, tmp_path)
    number_of = waybills_from_the_courier(qtbot, st, monkeypatch, tmp_path)
    back_to_the_station(qtbot, st)

    # 6. the packer: badge, then each parcel's label and the goods the screen lists
    assert packer.banner() == "작업자 바코드를 스캔하세요"
    packer.scan(badge)
    assert packer.banner() == f"작업자: {PACKER} — 송장을 스캔하세요"
    assert not st.window.gate.is_supervisor()  # a badge ends supervisor mode
    for recipient, number in number_of.items():
        packer.scan(number)
        assert packer.banner().startswith("포장 시작") and packer.sounds[-1] == "ok", packer.banner()
        pack = st.service.state.pack
        assert pack is not None
        plan = pack.plan
        assert plan.recipient_name == recipient and plan.tracking_number == number
        assert sorted(ln.product_order_id for ln in plan.lines) == sorted(product_orders[recipient])
        expected = plan.expected()
        assert sorted(packer.view.row_texts()) == sorted(
            (plan.items[i].name, f"0 / {n}") for i, n in expected.items())
        for item_id, units in expected.items():
            for _ in range(units):
                packer.scan(barcode_of[plan.items[item_id].sku])
        assert packer.banner() == f"포장 완료: {number}" and packer.sounds[-1] == "complete"
    st.service.worker.wait_idle(5)

    # 7. the station's uploader sends the numbers; SmartStore receives each product order once
    uploader = st.background.uploader
    uploader.kick(retry_now=True)
    qtbot.waitUntil(lambda: len(naver.dispatches) == 4 and uploader.counts().waiting == 0, timeout=TIMEOUT)
    assert uploader.run_once(retry_now=True).sent == 0  # nothing twice
    sent = sorted((d["productOrderId"], d["deliveryCompanyCode"], d["trackingNumber"]) for d in naver.dispatches)
    assert sent == sorted((pid, "CJGLS", number_of[recipient])
                          for recipient, pids in product_orders.items() for pid in pids)
    qtbot.waitUntil(lambda: st.window.outbox_label.text() == "전송 대기 0", timeout=TIMEOUT)

