"""The reports window in the real station: a pack and two refusals made by scanning show up in the hour
chart, the packer table and the refusal reasons; the report is saved to Excel."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction

from packdesk.channels.demo import BARCODE, Scenario
from packdesk.services.reports import backlog, parcels_to_pull
from packdesk.ui import i18n, ops
from packdesk.ui.i18n import HANGUL
from packdesk.ui.reports_view import ReportsWindow
from tests.ui.conftest import Packer

pytestmark = pytest.mark.gui


def test_a_days_work_in_the_report_and_its_excel_file(station, qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    p = Packer(qtbot, station)
    p.scan("PD-PACKER-001")
    p.scan(Scenario.SIMPLE)
    p.scan(BARCODE["TEA-GR"])            # wrong item: refused
    for code in (BARCODE["MUG-WH-01"], BARCODE["MUG-WH-01"], BARCODE["TMB-500"]):
        p.scan(code)
    p.scan(Scenario.CANCELLED)           # cancelled order: refused
    station.service.worker.wait_idle(5)

    action = next(a for a in station.window.findChildren(QAction) if a.text().startswith("보고서"))
    action.trigger()  # no PIN on this station: opens at once
    reports = station.window._reports
    assert isinstance(reports, ReportsWindow)
    qtbot.waitUntil(lambda: reports.report is not None and not reports.busy, timeout=5000)
    report = reports.report
    assert report.packs == 1 and "포장 1건" in reports.summary.text()
    assert sorted(v for _, v in reports.hour_chart.bars if v) == [1] and len(reports.hour_chart.bars) >= 12  # the day
    assert reports.packer_table.rowCount() == 1 and reports.packer_table.item(0, 1).text() == "김민수"
    reasons = [reports.reason_table.item(r, 0).text() for r in range(reports.reason_table.rowCount())]
    assert sorted(reasons) == ["다른 상품 / Wrong item", "취소된 주문 / Cancelled order"]
    assert len(reports.reason_chart.bars) == 2
    reports.grab()  # the charts paint without error

    with qtbot.waitSignal(reports.exported, timeout=5000) as saved:
        reports.export_to(tmp_path / "report.xlsx")
    book = openpyxl.load_workbook(saved.args[0])
    assert book["작업자별"]["B2"].value == "김민수" and book["작업자별"]["C2"].value == 1
    assert {row[0].value for row in book["거절 사유"].iter_rows(min_row=2)} == {"다른 상품", "취소된 주문"}
    reports.close()


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_chart_labels_in_the_screens_languages_the_backlog_and_the_parcels_to_pull(  # type: ignore[no-untyped-def]
        station, qtbot, any_language, lang: str) -> None:
    i18n.set_language(lang)
    p = Packer(qtbot, station)
    p.scan("PD-PACKER-001")
    p.scan(Scenario.SIMPLE)
    p.scan(BARCODE["TEA-GR"])            # wrong item: refused, a bar in the reasons chart
    station.service.worker.wait_idle(5)
    reports = station.window.open_reports()
    assert isinstance(reports, ReportsWindow)
    qtbot.waitUntil(lambda: reports.report is not None and ops.pending(reports) == 0, timeout=5000)  # both reads
    (label, _), = reports.reason_chart.bars
    assert label == ("다른 상품 / Wrong item" if lang == "ko" else "Wrong item")  # both languages, or English only
    assert all(":00" in hour and not HANGUL.search(hour) for hour, _ in reports.hour_chart.bars)
    reports.grab()  # the charts paint without error

    # the backlog: what the service counts for each account, in the table and in the tab's title
    with station.db.session() as s:
        expected = backlog(s)
        to_pull = parcels_to_pull(s)
    assert expected and sum(r.total for r in expected) > 0
    table = reports.backlog_table
    shown = [[table.item(r, c).data(Qt.ItemDataRole.DisplayRole) for c in range(6)] for r in range(table.rowCount())]
    assert shown == [[r.account, *r.counts(), r.total] for r in expected]
    title = reports.tabs.tabText(reports.backlog_tab)
    total = sum(r.total for r in expected)
    assert title == (f"남은 주문 {total}건 / Backlog: {total} orders" if lang == "ko" else f"Backlog: {total} orders")
    # the parcels to pull: the demo's cancel-requested order is held (its waybill refused at the station)
    held = [r for r in to_pull if r.tracking_number == Scenario.CANCEL_REQUESTED]
    assert held and held[0].why == "held"
    rows = {reports.pull_table.item(r, 1).text(): reports.pull_table.item(r, 0).text()
            for r in range(reports.pull_table.rowCount())}
    assert rows[Scenario.CANCEL_REQUESTED].startswith("보류 — 취소 요청" if lang == "ko" else "Held — cancel requested")
    if lang == "en":
        reports.tabs.setCurrentIndex(reports.pull_tab)
        headers = [reports.pull_table.horizontalHeaderItem(c).text() for c in range(reports.pull_table.columnCount())]
        assert not [t for t in [*headers, *rows.values(), reports.tabs.tabText(reports.pull_tab)] if HANGUL.search(t)]
    reports.close()
