"""The reports window in the real station: a pack and two refusals made by scanning show up in the hour
chart, the packer table and the refusal reasons; the report is saved to Excel."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest
from PySide6.QtGui import QAction

from packdesk.channels.demo import BARCODE, Scenario
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
