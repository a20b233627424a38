"""The Excel orders screen driven like a supervisor from the real main window: add a sales platform, pick a
sheet, fix a column the guess missed, read the preview, import with a progress bar, save the failure file, the
template and the exports; and a 5,000-row sheet imported while the window keeps drawing."""

from __future__ import annotations

import itertools
import json
import time
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QAction, QInputMethodEvent
from PySide6.QtWidgets import QApplication, QFileDialog, QWidget
from sqlalchemy import func, select

from packdesk.channels import excel as xl
from packdesk.core import models as m
from packdesk.core.enums import ChannelKind, LineStatus, RunStatus
from packdesk.core.tracking import with_check_digit
from packdesk.services import excel_orders as eo
from packdesk.ui.excel_orders_view import ExcelOrdersView

pytestmark = pytest.mark.gui

TIMEOUT = 10_000
HEADERS = ("주문번호", "상품코드", "옵션", "상품명", "수량", "받는분", "HP", "주소", "택배사", "송장번호", "비고")


def order_row(order: str, code: str = "P1", qty: Any = 1, tracking: str = "") -> tuple[Any, ...]:
    return (order, code, "", "머그컵", qty, "홍길동", "010-1234-5678", "서울시 강남구 테헤란로 1",
            "CJ대한통운" if tracking else "", tracking, "")


def write(path: Path, rows: list[tuple[Any, ...]], streamed: bool = True) -> Path:
    """``streamed``: openpyxl's fast writer, whose files do not say their size (as some shop exports);
    otherwise as Excel writes them, size noted."""
    wb = Workbook(write_only=streamed)
    ws = wb.create_sheet("주문") if streamed else wb.active
    assert ws is not None
    ws.append(HEADERS)
    for r in rows:
        ws.append(r)
    wb.save(path)
    return path


def click(qtbot, button: QWidget) -> None:  # type: ignore[no-untyped-def]
    assert button.isEnabled(), f"{button.objectName()} is disabled"
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def type_korean(qtbot, widget: Any, text: str) -> None:  # type: ignore[no-untyped-def]
    """Korean arrives committed by the input method (QTest cannot press keys for Hangul)."""
    widget.setFocus()
    ev = QInputMethodEvent("", [])
    ev.setCommitString(text)
    QApplication.sendEvent(widget, ev)
    qtbot.waitUntil(lambda: widget.text() == text)


def answer_save_dialog(monkeypatch: pytest.MonkeyPatch, path: Path) -> None:
    """The file dialogs are the OS's; answer them with a path."""
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(path), "Excel (*.xlsx)")))


def open_from_menu(qtbot, station) -> ExcelOrdersView:  # type: ignore[no-untyped-def]
    window = station.window
    action = next(a for a in window.findChildren(QAction)
                  if a.text() == "엑셀 주문 가져오기… / Import orders from Excel…")
    action.trigger()  # File → 엑셀 주문 가져오기…
    view = window._excel_orders_view  # a closed one may linger until Qt deletes it
    assert isinstance(view, ExcelOrdersView) and view.isVisible()
    qtbot.waitUntil(lambda: not view.busy, timeout=TIMEOUT)
    return view


def add_platform(qtbot, view: ExcelOrdersView, name: str) -> None:  # type: ignore[no-untyped-def]
    type_korean(qtbot, view.new_platform, name)
    with qtbot.waitSignal(view.platforms_loaded, timeout=TIMEOUT):
        click(qtbot, view.add_platform_button)
    assert view.platform_combo.currentText() == name and view.new_platform.text() == ""


def close(qtbot, station, view: ExcelOrdersView) -> None:  # type: ignore[no-untyped-def]
    qtbot.waitUntil(lambda: not view.busy, timeout=TIMEOUT)
    click(qtbot, view.close_button)
    qtbot.waitUntil(lambda: station.window._excel_orders_view is None)


def platform_lines(station, name: str) -> dict[str, tuple[int, LineStatus]]:  # type: ignore[no-untyped-def]
    L, A = m.OrderLine, m.ChannelAccount
    with station.db.session() as s:
        return {r.product_order_id: (r.quantity, r.status) for r in s.execute(
            select(L.product_order_id, L.quantity, L.status).join(A, A.id == L.account_id).where(A.name == name))}


def test_a_sheet_is_mapped_previewed_and_imported(qtbot, station, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    view = open_from_menu(qtbot, station)
    assert view.platform_combo.count() == 0 and "판매처를 먼저 추가하세요" in view.message.text()
    add_platform(qtbot, view, "자사몰 수기")

    path = write(tmp_path / "11월25일 주문.xlsx", [
        order_row("A-1", "P1"), order_row("A-1", "P2", qty=2), order_row("B-7", "P1", tracking="641234567890"),
        order_row("C-3", "P3", qty=0),
    ])
    with qtbot.waitSignal(view.previewed, timeout=TIMEOUT) as blocker:
        view.load_file(path)
    assert blocker.args == [None]  # "HP" is no phone header the guess knows
    assert "11월25일 주문.xlsx" in view.file_label.text() and "4행" in view.file_label.text()
    assert view.combos["order_no"].currentText() == "주문번호" and view.combos["recipient"].currentText() == "받는분"
    assert view.combos["phone"].currentText() == "(없음 / none)"
    assert "필수 항목의 열을 고르세요: 연락처" in view.summary.text() and "Phone" in view.summary.text()
    assert not view.import_button.isEnabled()

    # the supervisor picks the phone column: type its name into the combo
    combo = view.combos["phone"]
    combo.setFocus()
    with qtbot.waitSignal(view.previewed, timeout=TIMEOUT, check_params_cb=lambda p: p is not None) as blocker:
        qtbot.keyClicks(combo, "HP")
    assert combo.currentText() == "HP"
    phone_row = [f.key for f in xl.FIELDS].index("phone")
    assert view.mapping.item(phone_row, 2).text() == "010-1234-5678"  # the first row's value beside it
    preview: eo.Preview = blocker.args[0]
    assert (preview.new_rows, preview.duplicates, preview.error_rows) == (3, 0, (5,))
    summary = view.summary.text()
    assert "읽은 행 4개" in summary and "새로 가져올 행 3개" in summary and "3 new rows to import" in summary
    assert "상품 연결이 없는 상품 2개 (3행)" in summary
    assert view.error_title.text().startswith("오류가 있는 행 1개")
    cells = [view.errors.item(0, c).text() for c in range(4)]
    assert cells[:2] == ["5", "수량 / Quantity"] and "1~1,000,000" in cells[2] and "whole number" in cells[3]
    assert view.import_button.text() == "가져오기 (3행) / Import (3 rows)" and view.failure_button.isEnabled()

    progress: list[tuple[int, int]] = []
    view.progress_changed.connect(lambda done, total: progress.append((done, total)))
    with qtbot.waitSignal(view.imported, timeout=TIMEOUT) as blocker:
        click(qtbot, view.import_button)
        assert view.importing and view.progress.isVisible() and not view.import_button.isEnabled()
    result: eo.ImportResult = blocker.args[0]
    assert (result.new_rows, result.error_rows) == (3, 1) and (3, 3) in progress
    assert "가져왔습니다: 새 행 3개" in view.message.text() and "Imported: 3 new rows" in view.message.text()
    assert platform_lines(station, "자사몰 수기") == {"A-1|P1|": (1, LineStatus.CONFIRMED),
                                                    "A-1|P2|": (2, LineStatus.CONFIRMED),
                                                    "B-7|P1|": (1, LineStatus.CONFIRMED)}
    with station.db.session() as s:
        run = s.get_one(m.CollectionRun, result.run_id)
        assert (run.trigger, run.status, run.started_by, run.registered) == ("excel", RunStatus.SUCCEEDED,
                                                                             station.settings.station_name, 3)
        acc = s.scalars(select(m.ChannelAccount).where(m.ChannelAccount.kind == ChannelKind.EXCEL)).one()
        assert json.loads(acc.options)["columns"]["phone"] == "HP"  # remembered for this platform
    qtbot.waitUntil(lambda: not view.busy and view.preview is not None and view.preview.duplicates == 3,
                    timeout=TIMEOUT)
    assert not view.import_button.isEnabled() and not view.progress.isVisible()
    assert "이미 가져온 행 3개 (건너뜀)" in view.summary.text()
    close(qtbot, station, view)

    # opened again: the platform's columns come back with the same file, nothing left to import
    again = open_from_menu(qtbot, station)
    assert again is not view and again.platform_combo.currentText() == "자사몰 수기"
    with qtbot.waitSignal(again.previewed, timeout=TIMEOUT) as blocker:
        again.load_file(path)
    assert blocker.args[0] is not None and blocker.args[0].importable == 0
    assert again.combos["phone"].currentText() == "HP"
    close(qtbot, station, again)


def test_failure_file_template_and_exports(qtbot, station, tmp_path: Path,  # type: ignore[no-untyped-def]
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    view = open_from_menu(qtbot, station)
    add_platform(qtbot, view, "쿠팡 수기")
    source = write(tmp_path / "orders.xlsx", [order_row("A-1"), order_row("B-1", qty="두 개"),
                                              order_row("C-1", tracking="12#4")])
    with qtbot.waitSignal(view.previewed, timeout=TIMEOUT, check_params_cb=lambda p: p is None):
        view.load_file(source)
    view.set_column("phone", "HP")  # as chosen in the combo
    qtbot.waitUntil(lambda: view.preview is not None and not view.busy, timeout=TIMEOUT)
    assert view.preview.error_rows == (3, 4)
    with qtbot.waitSignal(view.imported, timeout=TIMEOUT):
        click(qtbot, view.import_button)
    qtbot.waitUntil(lambda: not view.busy, timeout=TIMEOUT)

    failures = tmp_path / "orders-오류행.xlsx"
    answer_save_dialog(monkeypatch, failures)
    with qtbot.waitSignal(view.failure_saved, timeout=TIMEOUT) as blocker:
        click(qtbot, view.failure_button)
    assert blocker.args == [str(failures), 2] and "실패 행 2개를 저장했습니다" in view.message.text()
    wb = load_workbook(failures)
    ws = wb.active
    assert ws is not None
    assert [c.value for c in ws[1]] == [*HEADERS, xl.REASON_HEADER]
    assert [ws.cell(r, 1).value for r in (2, 3)] == ["B-1", "C-1"] and ws.cell(2, 5).value == "두 개"
    assert ws.cell(3, 12).value.startswith("4행: 송장번호는")
    ws.cell(2, 5).value, ws.cell(3, 10).value = 2, "641234567890"  # fixed in Excel
    wb.save(failures)
    with qtbot.waitSignal(view.previewed, timeout=TIMEOUT, check_params_cb=lambda p: p is not None) as blocker:
        view.load_file(failures)
    assert (blocker.args[0].new_rows, blocker.args[0].errors) == (2, ())
    with qtbot.waitSignal(view.imported, timeout=TIMEOUT):
        click(qtbot, view.import_button)
    assert sorted(platform_lines(station, "쿠팡 수기")) == ["A-1|P1|", "B-1|P1|", "C-1|P1|"]
    qtbot.waitUntil(lambda: not view.busy, timeout=TIMEOUT)

    template = tmp_path / "양식.xlsx"
    answer_save_dialog(monkeypatch, template)
    with qtbot.waitSignal(view.template_saved, timeout=TIMEOUT):
        click(qtbot, view.template_button)
    assert xl.read_sheet(template).headers[:2] == ("주문번호", "상품코드")

    orders = tmp_path / "주문.xlsx"
    answer_save_dialog(monkeypatch, orders)
    with qtbot.waitSignal(view.exported, timeout=TIMEOUT) as blocker:
        click(qtbot, view.export_orders_button)
    assert blocker.args == [str(orders), 3]  # this platform's lines only
    ws = load_workbook(orders).active
    assert ws is not None and ws["B1"].value == "주문번호 / Order no." and ws["M4"].value == "641234567890"

    runs = tmp_path / "runs"  # no suffix typed: .xlsx is added
    answer_save_dialog(monkeypatch, runs)
    view.only_platform.setChecked(False)
    with qtbot.waitSignal(view.exported, timeout=TIMEOUT) as blocker:
        click(qtbot, view.export_runs_button)
    assert blocker.args == [str(tmp_path / "runs.xlsx"), 3]  # the demo's startup run and our two imports
    close(qtbot, station, view)


def test_a_5000_row_sheet_imports_while_the_window_keeps_drawing(qtbot, station,  # type: ignore[no-untyped-def]
                                                                  tmp_path: Path) -> None:
    path = write(tmp_path / "big.xlsx", [order_row(f"O{n // 2:05d}", f"P{n % 40}",
                                                   tracking=with_check_digit(f"5{n:010d}")) for n in range(5000)],
                 streamed=False)
    view = open_from_menu(qtbot, station)
    add_platform(qtbot, view, "대량")

    ticks: list[float] = []
    timer = QTimer()
    timer.setInterval(15)
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    timer.start()
    progress: list[tuple[int, int]] = []
    view.progress_changed.connect(lambda done, total: progress.append((done, total)))
    started = time.perf_counter()
    with qtbot.waitSignal(view.previewed, timeout=30_000):
        view.load_file(path)
        assert view.busy and view.sheet is None  # the call returned at once; the file is read on a thread
    view.set_column("phone", "HP")
    qtbot.waitUntil(lambda: view.preview is not None and not view.busy, timeout=30_000)
    read_s = time.perf_counter() - started
    assert view.preview.new_rows == 5000 and view.preview.errors == ()
    assert any(total >= 5000 and 0 < done < total for done, total in progress)  # reading showed its progress

    click(qtbot, view.import_button)
    assert view.importing
    click(qtbot, view.close_button)  # not while importing: it says so and stays
    assert view.isVisible() and "가져오는 중입니다" in view.message.text()
    import_started = time.perf_counter()
    with qtbot.waitSignal(view.imported, timeout=30_000) as blocker:
        pass
    import_s = time.perf_counter() - import_started
    timer.stop()
    during = [t for t in ticks if t >= started]
    gaps = [b - a for a, b in itertools.pairwise(during)]
    stored = [(done, total) for done, total in progress if total == 5000]  # reading counted 5,001 sheet rows
    print(f"\n5000 rows: read+checked {read_s:.2f} s, imported {import_s:.2f} s; {len(during)} timer ticks, "
          f"longest gap {max(gaps) * 1000:.0f} ms, {len(stored)} progress updates while storing")
    assert blocker.args[0].new_rows == 5000 and blocker.args[0].counts.orders == 2500
    assert len(stored) >= 5 and stored[-1] == (5000, 5000)
    assert len(during) > (read_s + import_s) / 0.015 / 4  # the timer kept firing
    # the longest gap is printed above, not asserted: speed belongs to benchmarks, and a loaded CI machine
    # once stretched it past a second (1.07 s) while the timer still fired throughout
    with station.db.session() as s:
        assert s.scalar(select(func.count()).select_from(m.OrderLine).join(m.ChannelAccount)
                        .where(m.ChannelAccount.name == "대량")) == 5000
    close(qtbot, station, view)
