"""The station's words: every message code (``core/station.py`` ``Msg``), the short names of refusals (the
reason stored with a refused scan, for reports and the evidence sheet), what was scanned, how a pack ended.

Data only; ``core/words/__init__.py`` merges it into the one catalogue and renders it.
"""

from __future__ import annotations

from packdesk.core.enums import PackOutcome, ScanKind
from packdesk.core.station import Msg

# code -> (Korean, English); {names} are filled from the message parameters
STATION: dict[str, tuple[str, str]] = {
    Msg.READY: ("작업자 바코드를 스캔하세요", "Scan your packer badge"),
    Msg.PACKER_SET: ("작업자: {name} — 송장을 스캔하세요", "Packer: {name} — scan a waybill"),
    Msg.LOGGED_OUT: ("작업 종료 — 작업자 바코드를 스캔하세요", "Signed out — scan a packer badge"),
    Msg.PACK_STARTED: ("포장 시작: {tracking} ({recipient}) — 상품을 스캔하세요",
                       "Packing {tracking} ({recipient}) — scan the items"),
    Msg.PACK_STARTED_PARTLY_CANCELLED: ("포장 시작: {tracking} — 취소된 상품은 넣지 마세요",
                                        "Packing {tracking} — leave out the cancelled items"),
    # {item}: the item's name and, when it has one, its option ("오버핏 티셔츠 · 블랙 / L"): for clothes the
    # option is what tells two items apart (``station_text``)
    Msg.ITEM_OK: ("{item}  {scanned} / {expected} 확인", "{item}  {scanned} / {expected} checked"),
    Msg.ALL_SCANNED_SCAN_COMPLETE: ("모든 상품 확인 — 완료 바코드를 스캔하세요",
                                    "All items checked — scan COMPLETE"),
    Msg.PACK_COMPLETE: ("포장 완료: {tracking}", "Pack complete: {tracking}"),
    Msg.CANCEL_CONFIRM: ("취소를 한 번 더 스캔하면 스캔한 상품 {scanned}개를 버립니다 — 계속하려면 상품을 스캔하세요",
                         "Scan CANCEL again to throw away {scanned} scanned item(s) — scan an item to go on"),
    Msg.PACK_CANCELLED: ("포장 취소: {tracking}", "Pack cancelled: {tracking}"),
    Msg.PACK_TIMED_OUT: ("시간 초과로 포장 중단: {tracking}", "Pack stopped, idle too long: {tracking}"),
    Msg.PACKER_REQUIRED: ("작업자 바코드를 먼저 스캔하세요", "Scan your packer badge first"),
    Msg.UNKNOWN_BARCODE: ("알 수 없는 바코드: {barcode}", "Unknown barcode: {barcode}"),
    Msg.ITEM_WITHOUT_WAYBILL: ("송장을 먼저 스캔하세요 ({item})", "Scan a waybill first ({item})"),
    Msg.WRONG_ITEM: ("다른 상품입니다: {item} — 이 주문에 없습니다", "Wrong item: {item} is not in this order"),
    Msg.TOO_MANY: ("수량 초과: {item} (필요 {expected}개)", "Too many: {item} (needs {expected})"),
    Msg.CANCELLED_LINE_ITEM: ("취소된 상품입니다: {item} — 넣지 마세요", "Cancelled item: {item} — leave it out"),
    Msg.PACKED_LINE_ITEM: ("이미 포장된 상품입니다: {item}", "Already packed: {item}"),
    Msg.WAYBILL_EMPTY: ("송장에 주문이 없습니다: {tracking}", "No order on waybill {tracking}"),
    Msg.WAYBILL_CANCELLED: ("취소된 주문입니다 — 출고 금지: {tracking}", "Order cancelled — do not ship: {tracking}"),
    Msg.WAYBILL_FORCE_CANCELLED: ("관리자가 강제 취소한 주문입니다 — 출고 금지: {tracking}",
                                  "Order force-cancelled by a supervisor — do not ship: {tracking}"),
    Msg.WAYBILL_CANCEL_REQUESTED: ("취소 요청된 주문 — 보류하세요: {tracking}",
                                   "Cancel requested — hold this parcel: {tracking}"),
    Msg.WAYBILL_ALREADY_PACKED: ("이미 포장된 송장입니다: {tracking} ({packed_at})",
                                 "Waybill already packed: {tracking} ({packed_at})"),
    Msg.WAYBILL_UNMAPPED: ("출고상품에 연결되지 않은 상품 — 관리자에게 요청하세요: {products}",
                           "Not linked to a shipping item — ask a supervisor: {products}"),
    Msg.RECORDING_UNAVAILABLE: ("녹화할 수 없어 포장을 시작하지 않습니다: {problem}",
                                "Cannot record, pack not started: {problem}"),
    Msg.WAYBILL_CLAIMED: ("다른 스테이션에서 포장 중: {station} ({packer}) {since} 부터 — {tracking}",
                          "Being packed at {station} ({packer}) since {since} — {tracking}"),
    Msg.WAYBILL_SAME: ("이미 포장 중인 송장입니다: {tracking}", "Already packing this waybill: {tracking}"),
    Msg.OTHER_WAYBILL_ACTIVE: ("포장 중인 송장 {tracking}을(를) 먼저 완료하거나 취소하세요",
                               "Finish or cancel waybill {tracking} first"),
    Msg.NOT_COMPLETE: ("아직 {remaining}개 남았습니다", "{remaining} item(s) still to scan"),
    Msg.NO_ACTIVE_PACK: ("포장 중인 송장이 없습니다", "No pack in progress"),
    Msg.LOGOUT_DURING_PACK: ("포장을 완료하거나 취소한 뒤 종료하세요", "Finish or cancel the pack before signing out"),
    Msg.LINE_CANCELLED_MEANWHILE: ("포장 중 주문이 취소되었습니다: {products} — 빼거나 포장을 취소하세요 ({tracking})",
                                   "Cancelled while packing: {products} — take it out or cancel the pack "
                                   "({tracking})"),
    Msg.PACKER_ALREADY: ("작업자 {name} — 이미 작업 중입니다. 포장을 계속하세요",
                         "{name} is signed in already — carry on packing"),
    Msg.PACKER_CHANGE_DURING_PACK: ("포장 중에는 작업자를 바꿀 수 없습니다 — 완료하거나 취소한 뒤 스캔하세요",
                                    "Finish or cancel this pack before changing packer"),
    Msg.PACKER_INACTIVE: ("사용 중지된 작업자입니다: {name} — 관리자에게 문의하세요",
                          "This packer is deactivated: {name} — ask a supervisor"),
    Msg.PACKER_DEACTIVATED: ("작업자 {name}이(가) 사용 중지되어 작업이 종료되었습니다 — 작업자 바코드를 스캔하세요",
                             "{name} was deactivated and is signed out — scan a packer badge"),
    Msg.PACKER_DEACTIVATED_AFTER_PACK: ("작업자 {name}이(가) 사용 중지되었습니다 — 이 포장을 마치면 작업이 종료됩니다",
                                        "{name} was deactivated — signed out when this pack ends"),
    Msg.RECORDER_RESTARTING: ("녹화 프로그램이 멈춰 다시 시작합니다 — 잠시 후 녹화됩니다",
                              "The recorder stopped and is restarting — recording again in a moment"),
    Msg.RECORDER_GAP: ("녹화가 잠시 끊겼습니다 — 포장을 계속하세요, 곧 다시 녹화됩니다 ({tracking})",
                       "Recording paused briefly — go on packing, it records again in a moment ({tracking})"),
    Msg.RECORDER_LOST_PACK_STOPPED: ("녹화가 끊겨 포장을 중단했습니다 — 송장을 다시 스캔하세요: {tracking}",
                                     "Recording was lost, the pack stopped — scan the waybill again: {tracking}"),
    # a parcel opened from its packing slip gets its courier label at the end (core/station.py)
    Msg.SCAN_LABEL: ("택배 송장(라벨)을 스캔하세요", "Scan the courier label"),
    Msg.PACK_COMPLETE_LABEL_WARNING: ("포장 완료: {tracking} — 송장번호 검증 숫자가 맞지 않습니다. 라벨을 확인하세요",
                                      "Pack complete: {tracking} — the tracking number's check digit is wrong. "
                                      "Check the label"),
    Msg.LABEL_REQUIRED: ("송장 라벨을 먼저 스캔하세요 — 라벨을 스캔하면 포장이 완료됩니다",
                         "Scan the label first — the label scan completes the pack"),
    Msg.LABEL_TOO_EARLY: ("상품을 먼저 모두 스캔하세요 ({remaining}개 남음) — 송장 라벨은 마지막에",
                          "Scan the items first ({remaining} left) — the label comes last"),
    Msg.LABEL_INVALID: ("송장 라벨 거부 — {detail}", "Label refused — {detail}"),
    Msg.LABEL_USED: ("이미 다른 택배({used_by})에 쓰인 송장번호입니다 — 이 라벨은 쓸 수 없습니다: {number}",
                     "This tracking number is already on another parcel ({used_by}) — do not use this label: "
                     "{number}"),
    # multi-packs (core/station.py): a count barcode, then the item's scan confirms it
    Msg.ITEM_OK_MANY_LEFT: ("{item}  {scanned} / {expected} 확인 — {left}개 남음: "
                            "수량 바코드 스캔 또는 상품을 계속 스캔",
                            "{item}  {scanned} / {expected} checked — {left} left: scan the count or keep scanning"),
    Msg.COUNT_READY: ("수량 {count}개 — 상품을 스캔해 확인하세요", "Count {count} — scan the item to confirm"),
    Msg.ITEM_COUNTED: ("{item}  ×{count} 수량 확인 — {scanned} / {expected}",
                       "{item}  ×{count} count confirmed — {scanned} / {expected}"),
    Msg.COUNT_CLEARED: ("수량 {count}개 취소 — 포장을 계속하세요", "Count {count} dropped — go on packing"),
    Msg.COUNT_INVALID: ("수량 바코드가 아닙니다: {barcode}", "Not a count barcode: {barcode}"),
    Msg.COUNT_MORE_THAN_LEFT: ("수량 {count}개는 남은 수량({left}개)보다 많습니다 — 수량을 취소했습니다",
                               "Count {count} is more than is left ({left}) — the count is dropped"),
}
# an item scan that confirmed a count barcode (a multi-pack's units counted at once): "×12 (수량 확인)"
COUNTED = ("수량 확인", "count confirmed")
# "already packed" when the pack that completed it is known (``PackPlan.packed_by``): when, where and by whom
ALREADY_PACKED_BY = ("이미 포장된 송장입니다: {tracking} — {packed_at}, {station}, 작업자 {packer}",
                     "Waybill already packed: {tracking} — {packed_at} at {station} by {packer}")
# parcel-level stops: the whole parcel must not go out. They look unlike an item refusal (ui/station_view.py)
# and say where the parcel goes
HOLD_CODES = frozenset({Msg.WAYBILL_CANCELLED, Msg.WAYBILL_FORCE_CANCELLED, Msg.WAYBILL_CANCEL_REQUESTED})
HOLD = ("보류 선반에 두세요", "Put it on the hold shelf")
# added to a pack's last message when its packer was deactivated during it (core/station.py ``signed_out``)
SIGNED_OUT = (" — 작업자 {signed_out} 사용 중지로 작업 종료, 작업자 바코드를 스캔하세요",
              " — {signed_out} is deactivated and signed out: scan a packer badge")


# refusal codes (stored as the scan's reason) as short names for reports and the evidence sheet
REASONS: dict[str, tuple[str, str]] = {
    Msg.PACKER_REQUIRED: ("작업자 없음", "No packer"),
    Msg.UNKNOWN_BARCODE: ("알 수 없는 바코드", "Unknown barcode"),
    Msg.ITEM_WITHOUT_WAYBILL: ("송장 없이 상품 스캔", "Item scanned without a waybill"),
    Msg.WRONG_ITEM: ("다른 상품", "Wrong item"),
    Msg.TOO_MANY: ("수량 초과", "Too many"),
    Msg.CANCELLED_LINE_ITEM: ("취소된 상품", "Cancelled item"),
    Msg.PACKED_LINE_ITEM: ("이미 포장된 상품", "Item already packed"),
    Msg.WAYBILL_EMPTY: ("주문 없는 송장", "Waybill without an order"),
    Msg.WAYBILL_CANCELLED: ("취소된 주문", "Cancelled order"),
    Msg.WAYBILL_FORCE_CANCELLED: ("강제 취소된 주문", "Force-cancelled order"),
    Msg.WAYBILL_CANCEL_REQUESTED: ("취소 요청된 주문", "Cancel requested"),
    Msg.WAYBILL_ALREADY_PACKED: ("이미 포장된 송장", "Waybill already packed"),
    Msg.WAYBILL_UNMAPPED: ("연결 안 된 상품", "Product not linked"),
    Msg.RECORDING_UNAVAILABLE: ("녹화 불가", "Cannot record"),
    Msg.WAYBILL_SAME: ("같은 송장 다시 스캔", "Same waybill again"),
    Msg.WAYBILL_CLAIMED: ("다른 스테이션에서 포장 중", "Packed at another station"),
    Msg.OTHER_WAYBILL_ACTIVE: ("다른 송장 포장 중", "Another waybill open"),
    Msg.NOT_COMPLETE: ("완료 전 완료 바코드", "Complete scanned too early"),
    Msg.NO_ACTIVE_PACK: ("포장 중 아님", "No pack in progress"),
    Msg.LOGOUT_DURING_PACK: ("포장 중 종료 시도", "Sign-out during a pack"),
    Msg.PACKER_CHANGE_DURING_PACK: ("포장 중 작업자 변경", "Packer change during a pack"),
    Msg.PACKER_INACTIVE: ("사용 중지된 작업자", "Deactivated packer"),
    Msg.LABEL_REQUIRED: ("라벨 전 완료 바코드", "Complete scanned before the label"),
    Msg.LABEL_TOO_EARLY: ("상품보다 먼저 라벨", "Label before the items"),
    Msg.LABEL_INVALID: ("잘못 읽힌 송장 라벨", "Misread label"),
    Msg.LABEL_USED: ("이미 쓰인 송장번호", "Tracking number in use"),
    Msg.COUNT_INVALID: ("잘못된 수량 바코드", "Not a count"),
    Msg.COUNT_MORE_THAN_LEFT: ("남은 수량보다 많은 수량", "Count more than is left"),
}

# what was scanned, as the review and the evidence sheet name it
KINDS: dict[str, tuple[str, str]] = {
    ScanKind.WAYBILL: ("송장", "waybill"), ScanKind.ITEM: ("상품", "item"), ScanKind.COMMAND: ("명령", "command"),
    ScanKind.PACKER: ("작업자", "packer"), ScanKind.LABEL: ("송장 라벨", "courier label"),
    ScanKind.UNKNOWN: ("알 수 없음", "unknown"),
}

# how a pack ended (``PackOutcome``), as the review lists it and the evidence sheet prints it
OUTCOMES: dict[str, tuple[str, str]] = {
    PackOutcome.OPEN: ("진행 중", "open"), PackOutcome.COMPLETED: ("완료", "completed"),
    PackOutcome.CANCELLED: ("취소", "cancelled"), PackOutcome.TIMED_OUT: ("시간 초과", "timed out"),
    PackOutcome.ABANDONED: ("중단", "abandoned"),
    PackOutcome.CLOSED: ("취소: PackDesk 종료", "cancelled: PackDesk closed"),
}
