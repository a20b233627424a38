"""Words of expected returns (``services/returns_expected.py``): the marketplaces' return and exchange statuses
(SmartStore's claim statuses, Coupang's receipt statuses) and claim types, kept under the marketplace-status
namespace with the other words marketplaces send, and what a collection run says when it could not read them.

Data only; ``core/words/__init__.py`` merges it into the one catalogue.
"""

from __future__ import annotations

# marketplace word -> (Korean, English): SmartStore §3.5 / §4.3, Coupang B.8
RETURN_STATUS: dict[str, tuple[str, str]] = {
    # claim types (SmartStore's claimType words; ours are the same in lower case)
    "RETURN": ("반품", "Return"),
    "EXCHANGE": ("교환", "Exchange"),
    # SmartStore
    "RETURN_REQUEST": ("반품 요청", "Return requested"),
    "EXCHANGE_REQUEST": ("교환 요청", "Exchange requested"),
    "COLLECTING": ("수거 중", "Being picked up"),
    "COLLECT_DONE": ("수거 완료", "Picked up"),
    "RETURN_DONE": ("반품 완료", "Return done"),
    "RETURN_REJECT": ("반품 거부", "Return refused"),
    "EXCHANGE_REDELIVERING": ("교환 재배송 중", "Exchange reshipping"),
    "EXCHANGE_DONE": ("교환 완료", "Exchange done"),
    "EXCHANGE_REJECT": ("교환 거부", "Exchange refused"),
    # Coupang
    "RETURNS_UNCHECKED": ("반품 접수", "Return received"),
    "VENDOR_WAREHOUSE_CONFIRM": ("입고 완료", "Arrived at the warehouse"),
    "REQUEST_COUPANG_CHECK": ("쿠팡 확인 요청", "Coupang check requested"),
    "RETURNS_COMPLETED": ("반품 완료", "Return done"),
}

# a collection run's words (services/collect.py)
RETURNS_ERRORS: dict[str, tuple[str, str]] = {
    "returns_not_collected": ("주문은 수집했지만 반품·교환을 읽지 못했습니다 (다음 수집 때 다시 읽습니다): {message}",
                              "Orders collected, but the returns and exchanges could not be read (the next "
                              "collection reads them again): {message}"),
}
