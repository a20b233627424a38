"""Naver SmartStore (``channels/naver.py``, docs/marketplaces/smartstore.md)."""

from __future__ import annotations

from packdesk.channels.base import Channel
from packdesk.channels.registry import API_ADDRESS_LABEL, AccountSettings, Capability, FieldSpec, Market
from packdesk.core.enums import ChannelKind

DEFAULT_BASE_URL = "https://api.commerce.naver.com/external"

CODE_RULE_HELP = (
    "상품+옵션 코드 (권장): 상품번호 + 옵션 조합 — 주문과 상품 목록이 같은 코드로 이어집니다. "
    "판매자 코드: 판매자 관리코드 (없으면 상품번호 + 옵션). 나중에 바꾸면 상품이 새 코드로 다시 나타나 연결이 "
    "필요합니다 (기존 연결은 옛 코드에 남음) / product + option code (recommended): product number + option "
    "combination. seller code: the seller's own management code (else product + option). Changed later, products "
    "appear again under the new codes to be linked; the old links stay with the old codes.")
# the stored values (channels/naver.CODE_RULES) as a supervisor reads them; the first is NaverChannel's default
CODE_RULE_CHOICES = (("product_option", "상품+옵션 코드 (권장) / product + option code (recommended)"),
                     ("seller_code", "판매자 코드 / seller code"))


def _build(settings: AccountSettings) -> Channel:
    from packdesk.channels.naver import NaverChannel

    return NaverChannel(settings.external_id, settings.secret,
                        **{k: v for k, v in settings.options.items() if k in ("base_url", "code_rule")})


MARKET = Market(
    ChannelKind.NAVER, "네이버 스마트스토어 / Naver SmartStore",
    frozenset({Capability.COLLECT, Capability.CONFIRM, Capability.DISPATCH, Capability.LOOK_UP,
               Capability.CATALOGUE, Capability.CONNECTION_TEST, Capability.RETURNS}),
    _build,
    fields=(
        FieldSpec("external_id", "애플리케이션 ID / Application ID"),
        FieldSpec("secret", "애플리케이션 시크릿 / Application secret", secret=True, placeholder="$2a$04$…"),
        FieldSpec("base_url", API_ADDRESS_LABEL, required=False, pattern=r"https?://\S+"),
        FieldSpec("catalogue_hour", "상품 동기화 시각 (0-23시, 비우면 설정값) / Product sync hour (empty: settings)",
                  required=False, placeholder="6", pattern=r"([01]?\d|2[0-3])", integer=True),
        FieldSpec("code_rule", "판매상품 코드 규칙 / Sales product codes", required=False,
                  pattern=r"product_option|seller_code", help=CODE_RULE_HELP, choices=CODE_RULE_CHOICES),
    ),
    default_address=DEFAULT_BASE_URL)
