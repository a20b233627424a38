"""포장 지시서 / Packing slips: print the slips of the selected order's parcel, or a day's batch, as one PDF.

Opened from the orders window (its selection, or the day) and from the File menu (the day). What is printed
and why: ``services/slips.py``; how: ``ui/packing_slip.py``. The slips are read on a thread of their own (a
short read beside the station's scans) and drawn on the Qt thread. A batch is by account and by the day the
parcels were made, in Korea time, and by default only parcels still without a waybill (the labels are bound
at the station); nothing to print is said, not saved as an empty file.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

from PySide6.QtCore import QDate, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from packdesk.core.db import Database
from packdesk.core.errors import KnownError
from packdesk.core.kst import kst
from packdesk.core.models import utcnow
from packdesk.services import slips
from packdesk.services.dbworker import Job
from packdesk.services.mapping import Account, list_accounts
from packdesk.ui import files
from packdesk.ui.i18n import both, plural, tr, two_lines
from packdesk.ui.levels import show_level
from packdesk.ui.messages import error_text
from packdesk.ui.orders_view import _Worked
from packdesk.ui.packing_slip import write_slips

log = logging.getLogger("packdesk.ui.slips")


class SlipDialog(_Worked, QDialog):
    saved = Signal(str)            # the first file written
    refused = Signal(str)          # the error code, after it is on screen
    accounts_loaded = Signal(int)

    def __init__(self, db: Database, order_ids: Sequence[int] = (), order_text: str = "",
                 parent: QWidget | None = None, clock: Callable[[], datetime] = utcnow) -> None:
        super().__init__(parent)
        self.db, self.clock = db, clock
        self.order_ids = tuple(order_ids)
        self._closed = False
        self.printed: list[slips.Slip] = []
        self.setWindowTitle(tr("포장 지시서 / Packing slips"))
        self._build(order_text)
        self._update_buttons()
        self._read("slip-accounts", list_accounts, self._accounts_loaded)

    def _build(self, order_text: str) -> None:
        intro = QLabel(two_lines("포장 지시서의 바코드를 스캔하면 포장이 시작되고, 상품을 모두 넣은 뒤 "
                                 "붙인 택배 송장(라벨)을 스캔하면 그 번호가 택배에 연결되며 포장이 끝납니다.",
                                 "Scanning a slip's barcode opens the parcel's pack; once every item is in, the "
                                 "courier label stuck on the box is scanned: its number binds to the parcel and "
                                 "the pack completes."))
        intro.setWordWrap(True)
        self.selection_radio = QRadioButton(objectName="slipSelection")
        self.selection_radio.setText(
            both(f"선택한 주문의 택배 ({order_text})", f"The selected order's parcel ({order_text})") if order_text
            else tr("선택한 주문의 택배 / The selected order's parcel"))
        self.selection_radio.setEnabled(bool(self.order_ids))
        self.day_radio = QRadioButton(tr("하루치 / A day's batch"), objectName="slipDay")
        (self.selection_radio if self.order_ids else self.day_radio).setChecked(True)
        self.date_edit = QDateEdit(objectName="slipDate")
        self.date_edit.setCalendarPopup(True)
        self.date_edit.setDisplayFormat("yyyy-MM-dd")
        today = kst(self.clock()).date()
        self.date_edit.setDate(QDate(today.year, today.month, today.day))
        self.any_date = QCheckBox(tr("모든 날짜 / Any date"), objectName="slipAnyDate")
        self.any_date.toggled.connect(lambda on: self.date_edit.setEnabled(not on))
        date_row = QHBoxLayout()
        date_row.addWidget(self.date_edit, 1)
        date_row.addWidget(self.any_date)
        self.account_combo = QComboBox(objectName="slipAccount")
        self.account_combo.addItem(tr("모든 계정 / All accounts"), None)
        self.without_waybill = QCheckBox(tr("송장 없는 택배만 / Only parcels without a waybill"),
                                         objectName="slipWithoutWaybill")
        self.without_waybill.setChecked(True)
        form = QFormLayout()
        form.addRow(QLabel(tr("날짜 (한국 시간) / Date (Korea time)")), date_row)
        form.addRow(QLabel(tr("계정 / Account")), self.account_combo)
        form.addRow(QLabel(""), self.without_waybill)
        for radio in (self.selection_radio, self.day_radio):
            radio.toggled.connect(lambda _: self._update_buttons())
        self.message = QLabel("", objectName="slipMessage")
        self.message.setWordWrap(True)
        self.save_button = QPushButton(tr("PDF 저장… / Save PDF…"), objectName="saveSlips")
        self.save_button.clicked.connect(self._save_clicked)
        self.close_button = QPushButton(tr("닫기 / Close"), objectName="closeSlips")
        self.close_button.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addWidget(self.save_button)
        buttons.addStretch(1)
        buttons.addWidget(self.close_button)
        lay = QVBoxLayout(self)
        lay.addWidget(intro)
        lay.addWidget(self.selection_radio)
        lay.addWidget(self.day_radio)
        lay.addLayout(form)
        lay.addWidget(self.message)
        lay.addLayout(buttons)

    def _accounts_loaded(self, accounts: list[Account]) -> None:
        for a in accounts:
            self.account_combo.addItem(a.name, a.id)
        self.accounts_loaded.emit(len(accounts))

    # ------------------------------------------------------------------ acts

    def _query(self) -> Job[list[slips.Slip]]:
        if self.selection_radio.isChecked() and self.order_ids:
            ids = self.order_ids
            return lambda s: slips.for_orders(s, ids)
        qd = self.date_edit.date()
        day: date | None = None if self.any_date.isChecked() else date(qd.year(), qd.month(), qd.day())
        account_id: int | None = self.account_combo.currentData()
        without = self.without_waybill.isChecked()
        return lambda s: slips.for_day(s, day, account_id=account_id, without_waybill=without)

    def _save_clicked(self) -> None:
        name = f"packing-slips-{kst(self.clock()).strftime('%Y%m%d-%H%M')}.pdf"
        chosen = files.save_file(self, "packing-slips", tr("포장 지시서 저장 / Save packing slips"), name,
                                 "PDF (*.pdf);;PNG (*.png)")
        if chosen:
            self.save(chosen)

    def save(self, path: Path) -> None:
        """Read the slips the choices say (off this thread), then write them to ``path`` on this (the Qt) one."""
        self._read("slips", self._query(), lambda found: self._write_file(found, path))
        self._update_buttons()

    def _write_file(self, found: list[slips.Slip], path: Path) -> None:
        if not found:
            self._show_refusal(KnownError("slip_none"))
            return
        try:
            written = write_slips(found, path, self.clock())
        except KnownError as e:
            self._show_refusal(e)
            return
        self.printed = found
        self.show_message("success", both(f"포장 지시서 {len(found)}장 저장됨: {written[0]}",
                                          f"{plural(len(found), 'packing slip')} saved: {written[0]}"))
        log.info("%d packing slip(s) saved to %s", len(found), written[0])
        self.saved.emit(str(written[0]))

    # ------------------------------------------------------------------ _Worked

    def _update_buttons(self) -> None:
        self.save_button.setEnabled(not self.busy)
        day = self.day_radio.isChecked()
        for w in (self.date_edit, self.any_date, self.account_combo, self.without_waybill):
            w.setEnabled(day and (w is not self.date_edit or not self.any_date.isChecked()))

    def show_message(self, level: str, text: str) -> None:
        show_level(self.message, level, text)

    def _show_refusal(self, error: KnownError) -> None:
        ko, en = error_text(error)
        self.show_message("error", two_lines(ko, en))
        log.info("packing slips refused: %s (%s)", error.code, error.detail)
        self.refused.emit(error.code)

    def done(self, result: Any) -> None:
        self._closed = True
        super().done(result)
