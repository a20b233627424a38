"""The other direction: in Korean (the default) every text a person reads holds Korean — none is left in
English only, Qt's own buttons included (its Korean translation is loaded with the language).

Every main window is opened from the station's menus, and the first-run set-up is built; what may stay
without Korean is listed: the shop's data, values that are the same in any language (setting values such as
``opencv``, codes, addresses), and one column header that names the English column beside the Korean one."""

from __future__ import annotations

import re

from PySide6.QtWidgets import QDialogButtonBox, QTabWidget, QWidget, QWizard

from packdesk.channels.demo import BARCODE, Scenario
from packdesk.core import couriers
from packdesk.paths import AppDirs
from packdesk.services.settings import Settings
from packdesk.ui import i18n
from packdesk.ui.first_run import FirstRunWizard
from packdesk.ui.i18n import HANGUL
from tests.ui.conftest import Packer
from tests.ui.test_i18n_first_run import wizard_texts
from tests.ui.texts import shop_words, strip, visible_texts

WORD = re.compile(r"[A-Za-z]{3,}")
# the same in any language: setting values, codes, units, the app's name
VALUES = {"auto", "command", "opencv", "libx264", "realpacking", "off", "local", "server", "demo", "product_option",
          "seller_code", "CRLF", "TAB", "utf-8", "euc-kr", "SKU", "REC"}
# English on purpose: the Excel import errors' "사유" column (the reason in Korean) has "Reason" (in English)
# beside it; the language choice offers "English only" to people who read no Korean
ENGLISH_ON_PURPOSE = {"Reason", "English only"}
# couriers called by their brand in Korean too (DHL, EMS, FedEx, UPS), listed with their code: "DHL (DHL)"
BRANDS = {couriers.label(c.code) for c in couriers.COURIERS if c.name == c.name_en}
CODE = re.compile(r"^[A-Z0-9][A-Z0-9-]*$")  # a code shown as it is (the scanner test's barcode, a station name)


def english_only(texts: list[str], data: set[str]) -> list[str]:
    left = set()
    for t in texts:
        rest = strip(t, data)
        if HANGUL.search(rest) or rest.strip() in VALUES | ENGLISH_ON_PURPOSE | BRANDS or CODE.match(rest):
            continue
        if "://" in rest or "/dev/" in rest or rest.startswith("PackDesk —"):  # addresses, ports; app — station
            continue
        if WORD.search(rest):
            left.add(t)
    return sorted(left)


def window_texts(win: QWidget) -> list[str]:
    texts = visible_texts(win)
    for tabs in win.findChildren(QTabWidget):
        texts += [tabs.tabText(i) for i in range(tabs.count())]
    return texts


def test_every_window_in_korean_holds_korean(make_station, qtbot, dirs: AppDirs) -> None:  # type: ignore[no-untyped-def]
    assert i18n.language() == "ko"
    st = make_station(Settings(recorder="off"))
    p = Packer(qtbot, st)
    w = st.window
    p.scan("PD-PACKER-001")
    p.scan(Scenario.SIMPLE)

    def station_texts() -> list[str]:  # the banner's small line is its English, under the Korean big one
        return [t for t in visible_texts(w) if t != p.view.banner_en.text()]

    seen = station_texts()
    p.scan(BARCODE["TEA-GR"])  # refused
    seen += station_texts()
    windows = [w.open_settings(), w.open_collect(), w.open_mapping(), w.open_outbox(), w.open_review(),
               w.open_reports(), w.open_orders(), w.open_excel_orders(), w.open_staff(), w.open_courier()]
    mapping, reports, orders, staff, courier = windows[2], windows[5], windows[6], windows[8], windows[9]
    qtbot.waitUntil(lambda: not windows[1].busy and not mapping.busy and mapping.model.rowCount() > 0
                    and reports.report is not None
                    and not reports.busy and not orders.busy and orders.table.rowCount() > 0
                    and not staff.busy and staff.table.rowCount() > 0
                    and not courier.busy and courier.last_count is not None, timeout=5000)
    for win in windows:
        seen += window_texts(win)
    buttons = windows[0].findChildren(QDialogButtonBox)[0]  # the settings' Save and Cancel: Qt's own texts
    assert {b.text().replace("&", "") for b in buttons.buttons()} >= {"저장", "취소"}
    wizard = FirstRunWizard(dirs, Settings(), scan_filter=False)
    qtbot.addWidget(wizard)
    seen += wizard_texts(wizard)
    assert wizard.buttonText(QWizard.WizardButton.NextButton).startswith("다음")
    for win in windows:
        win.close()

    assert len(seen) > 300
    left = english_only(seen, shop_words(st.db))
    assert left == [], "\n".join(left)
