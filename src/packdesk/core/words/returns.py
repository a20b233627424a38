"""Returns inspection's words (``core/returns.py`` ``RMsg``) and the returned items' conditions.

Data only; ``core/words/__init__.py`` merges it into the one catalogue and renders it.
"""

from __future__ import annotations

from packdesk.core.returns import Condition, ReturnScanKind, RMsg

# code -> (Korean, English); {names} are filled from the message parameters
RETURNS: dict[str, tuple[str, str]] = {
    RMsg.READY: ("반품 검수 — 반품 송장, 원래 송장 또는 주문번호를 스캔하세요",
                 "Returns inspection — scan the return label, the original waybill or the order number"),
    RMsg.LEFT: ("포장 모드로 돌아왔습니다 — 송장을 스캔하세요", "Back to packing — scan a waybill"),
    RMsg.STARTED: ("반품 검수 녹화 중: {tracking} (주문 {orders}) — "
                   "상품을 꺼내며 하나씩 스캔하세요 (보낸 상품 {expected}개)",
                   "Recording the return of {tracking} (order {orders}) — scan each item as it comes out "
                   "({expected} sent)"),
    RMsg.STARTED_UNKNOWN: ("녹화 중 — 모르는 반품 송장입니다: {return_code}. 원래 송장 또는 주문번호를 스캔하세요",
                           "Recording — unknown return label: {return_code}. "
                           "Scan the original waybill or order number"),
    RMsg.LINKED: ("원 주문 연결: {tracking} (주문 {orders}) — 상품을 꺼내며 하나씩 스캔하세요",
                  "Linked to {tracking} (order {orders}) — scan each item as it comes out"),
    RMsg.ORIGINAL_NOT_FOUND: ("원 주문을 찾을 수 없습니다: {barcode} — 원래 송장 또는 주문번호를 스캔하세요",
                              "No original order for {barcode} — scan the original waybill or order number"),
    RMsg.ITEM_EXPECTED: ("{item}  {scanned} / {expected} 반품 확인 — 상태 바코드를 스캔하세요",
                         "{item}  {scanned} / {expected} returned — scan its condition"),
    RMsg.ITEM_NOT_OURS: ("보낸 상품이 아닙니다: {item} — 기록했습니다. 상태 바코드를 스캔하세요",
                         "Not what was sent: {item} — recorded. Scan its condition"),
    RMsg.MARKED: ("{line_no}번 {item}: {condition}", "#{line_no} {item}: {condition}"),
    RMsg.COMPLETE: ("반품 검수 완료: {return_code} — 보낸 {expected}개 중 {returned}개 반품, "
                    "다른 상품 {not_ours}개, 문제 {problems}개",
                    "Return inspected: {return_code} — {returned} of {expected} sent came back, {not_ours} not ours, "
                    "{problems} with a problem"),
    RMsg.CANCELLED: ("반품 검수 취소: {return_code}", "Return inspection cancelled: {return_code}"),
    RMsg.TIMED_OUT: ("시간 초과로 반품 검수 중단: {return_code}",
                     "Return inspection stopped, idle too long: {return_code}"),
    RMsg.PACK_OPEN: ("포장 중에는 반품 검수로 바꿀 수 없습니다 — 포장을 완료하거나 취소하세요",
                     "Finish or cancel the pack before switching to returns"),
    RMsg.PACKER_REQUIRED: ("작업자 바코드를 먼저 스캔하세요", "Scan your packer badge first"),
    RMsg.INSPECTION_OPEN: ("검수 중인 반품 {return_code}을(를) 먼저 완료하거나 취소하세요",
                           "Complete or cancel the return {return_code} first"),
    RMsg.NO_INSPECTION: ("검수 중인 반품이 없습니다 — 반품 송장을 먼저 스캔하세요",
                         "No return open — scan the return label first"),
    RMsg.NO_ITEM_TO_MARK: ("상품을 먼저 스캔한 뒤 상태를 스캔하세요", "Scan the item first, then its condition"),
    RMsg.UNMARKED: ("상태가 표시되지 않은 상품 {count}개 — 상태 바코드를 스캔하세요",
                    "{count} item(s) have no condition — scan their condition"),
    RMsg.NO_ORIGINAL: ("원 주문이 연결되지 않았습니다 — 원래 송장 또는 주문번호를 스캔하거나 취소하세요",
                       "No original order linked — scan the original waybill or order number, or cancel"),
    RMsg.ITEM_BEFORE_ORIGINAL: ("원래 송장 또는 주문번호를 먼저 스캔하세요",
                                "Scan the original waybill or order number first"),
    RMsg.RECORDING_UNAVAILABLE: ("녹화할 수 없어 반품 검수를 시작하지 않습니다: {problem}",
                                 "Cannot record, return inspection not started: {problem}"),
    RMsg.LOGOUT_IN_RETURNS: ("반품 검수 모드를 먼저 끝내세요 (포장으로 돌아가기) — 그다음 작업 종료",
                             "Leave returns mode first (back to packing) — then sign out"),
    # a KnownError (services/returns.py): the inspection's write failed
    "return_not_stored": ("반품 검수가 저장되지 않았습니다 — 관리자에게 알리세요",
                          "The return inspection was not saved — tell a supervisor"),
}

# a returned item's condition, as the screen, the review and the command sheet name it
CONDITIONS: dict[str, tuple[str, str]] = {
    Condition.OK: ("정상", "Good"),
    Condition.DAMAGED: ("파손", "Damaged"),
    Condition.MISSING_PART: ("구성품 누락", "Missing part"),
    Condition.OTHER_PRODUCT: ("다른 상품", "Other product"),
}

# what a returns scan was, as the review lists it
RETURN_KINDS: dict[str, tuple[str, str]] = {
    ReturnScanKind.RETURN: ("반품 송장", "return label"),
    ReturnScanKind.ORIGINAL: ("원 주문", "original order"),
    ReturnScanKind.ITEM: ("상품", "item"),
    ReturnScanKind.CONDITION: ("상태", "condition"),
    ReturnScanKind.COMMAND: ("명령", "command"),
}
