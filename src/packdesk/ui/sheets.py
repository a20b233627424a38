"""What goes on the starter barcode sheet: commands, packer badges, demo waybills and demo items, so a
new user can try every path of the station with a real scanner before any marketplace is connected.

The sheet is for the staff, so its captions follow the screen language (``ui/i18n.py``); the packers' and
the demo items' names are shown as they are."""

from __future__ import annotations

from collections.abc import Iterable

from packdesk.channels.demo import ITEMS, Scenario
from packdesk.core import words
from packdesk.core.station import Command, PackerRef
from packdesk.services.returns import CONDITION_CODES, RETURNS_OFF, RETURNS_ON
from packdesk.services.station import COMMAND_PREFIX, COMMON_COUNTS, COUNT_PREFIX
from packdesk.ui.barcode_sheet import SheetEntry, SheetSection
from packdesk.ui.i18n import both, tr

COMMAND_LABELS = {
    Command.COMPLETE: "포장 완료 / Complete pack",
    Command.CANCEL: "포장 취소 / Cancel pack",
    Command.LOGOUT: "작업 종료 / Sign out",
}
SCENARIO_LABELS = {
    Scenario.SIMPLE: "기본 주문 / Simple order",
    Scenario.TEA_SET: "12개입 세트 / 12-pack set",
    Scenario.GIFT_SET: "선물세트 / Gift set",
    Scenario.PARTLY_CANCELLED: "일부 취소 / Partly cancelled",
    Scenario.CANCELLED: "취소 주문 / Cancelled order",
    Scenario.CANCEL_REQUESTED: "취소 요청 / Cancel requested",
    Scenario.UNMAPPED: "미연결 상품 / Unlinked product",
    Scenario.COMBINED: "합포장 / Combined shipping",
    Scenario.TSHIRTS: "옵션 상품 / Options",
}


def badge_section(badges: Iterable[tuple[str, str | None]]) -> SheetSection:
    """(name, badge code) pairs as the packer-badges section: the starter sheet's, and the staff screen's
    badge sheet (``ui/staff_view.py``, drawn with ``BADGE_STYLE``)."""
    return SheetSection(tr("작업자 / Packer badges"), [SheetEntry(badge, name) for name, badge in badges if badge])


def returns_section() -> SheetSection:
    """Returns inspection (반품 검수): the mode on and off, and a returned item's four conditions, scanned right
    after the item (complete and cancel are the packing commands above)."""
    conditions = [SheetEntry(code, both(*words.label(words.CONDITION, c.value))) for code, c in CONDITION_CODES.items()]
    return SheetSection(tr("반품 검수 / Returns inspection"), [
        SheetEntry(RETURNS_ON, tr("반품 검수 시작 / Start returns inspection")),
        SheetEntry(RETURNS_OFF, tr("포장으로 돌아가기 / Back to packing")),
        *conditions,
    ])


def starter_sheet(packers: list[tuple[PackerRef, str | None]]) -> list[SheetSection]:
    return [
        SheetSection(tr("명령 바코드 / Command barcodes"),
                     [SheetEntry(f"{COMMAND_PREFIX}{c.value}", tr(label)) for c, label in COMMAND_LABELS.items()]),
        # a multi-pack: the count, then the item's scan puts that many in (other counts are typed in the entry)
        SheetSection(tr("수량 바코드 / Count barcodes"),
                     [SheetEntry(f"{COUNT_PREFIX}{n}", both(f"수량 {n}개 → 상품 스캔", f"Count {n} → scan the item"))
                      for n in COMMON_COUNTS]),
        returns_section(),
        badge_section((p.name, badge) for p, badge in packers),
        SheetSection(tr("데모 송장 / Demo waybills"),
                     [SheetEntry(code, tr(label)) for code, label in SCENARIO_LABELS.items()]),
        SheetSection(tr("데모 상품 / Demo items"),
                     [SheetEntry(it.barcodes[0], f"{it.name} {it.option_name}".strip()) for it in ITEMS]),
    ]
