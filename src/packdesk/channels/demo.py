"""The built-in demo channel: a realistic, deterministic shop so the app is useful on first start and the
tests have data. It behaves like a marketplace (orders with Korean names and addresses, multi-line
orders, sets, combined shipping, a cancelled order, a cancel request, an unmapped new product) and also
ships the catalogue (items, barcodes, product mappings) a real seller would have set up by hand.

The named waybills in ``Scenario`` are what the tests and the user guide's walk-through use
(docs/user-guide.md, "Try it with a real scanner").
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from packdesk.channels.base import (
    DispatchItem,
    ItemRecord,
    ItemResult,
    LineRecord,
    MappingRecord,
    OrderRecord,
    WriteResult,
)
from packdesk.core.enums import ChannelKind, LineStatus


def ean13(body12: str) -> str:
    """EAN-13 with its check digit, so the demo barcodes are valid for any scanner setting."""
    digits = [int(c) for c in body12]
    check = (10 - (sum(digits[0::2]) + 3 * sum(digits[1::2])) % 10) % 10
    return body12 + str(check)


ITEMS: tuple[ItemRecord, ...] = (
    ItemRecord("MUG-WH-01", "세라믹 머그컵", "화이트", (ean13("880123400001"),)),
    ItemRecord("MUG-BK-01", "세라믹 머그컵", "블랙", (ean13("880123400002"),)),
    ItemRecord("TMB-500", "스텐 텀블러 500ml", "", (ean13("880123400003"),)),
    ItemRecord("TEA-GR", "녹차 티백", "낱개", (ean13("880123400004"),)),
    ItemRecord("COASTER-01", "원목 코스터", "", (ean13("880123400005"),)),
    ItemRecord("GIFTBOX-S", "선물 상자", "소", (ean13("880123400006"),)),
    ItemRecord("TS-BLK-S", "오버핏 티셔츠", "블랙 / S", ("ts-blk-s",)),
    ItemRecord("TS-BLK-M", "오버핏 티셔츠", "블랙 / M", ("ts-blk-m",)),
    ItemRecord("TS-BLK-L", "오버핏 티셔츠", "블랙 / L", ("ts-blk-l",)),
)
BARCODE = {it.sku: it.barcodes[0] for it in ITEMS}


@dataclass(frozen=True)
class Product:
    code: str
    option_code: str
    name: str
    option_name: str


P_MUG_WH = Product("5000000001", "OPT-WH", "세라믹 머그컵 350ml", "색상: 화이트")
P_MUG_BK = Product("5000000001", "OPT-BK", "세라믹 머그컵 350ml", "색상: 블랙")
P_TUMBLER = Product("5000000002", "", "스텐 텀블러 500ml", "")
P_TEA12 = Product("5000000003", "", "녹차 티백 12개입", "")
P_COASTER4 = Product("5000000004", "", "원목 코스터 4P", "")
P_GIFTSET = Product("5000000005", "", "머그컵 선물세트", "")
P_NEW = Product("5000000006", "", "신상품 캔들 (미등록)", "")
P_TS = {size: Product("5000000007", f"OPT-{size}", "오버핏 티셔츠", f"블랙 / {size}") for size in "SML"}

MAPPINGS: tuple[MappingRecord, ...] = (
    MappingRecord(P_MUG_WH.code, P_MUG_WH.option_code, "MUG-WH-01", 1),
    MappingRecord(P_MUG_BK.code, P_MUG_BK.option_code, "MUG-BK-01", 1),
    MappingRecord(P_TUMBLER.code, "", "TMB-500", 1),
    MappingRecord(P_TEA12.code, "", "TEA-GR", 12),
    MappingRecord(P_COASTER4.code, "", "COASTER-01", 4),
    MappingRecord(P_GIFTSET.code, "", "MUG-WH-01", 1),
    MappingRecord(P_GIFTSET.code, "", "COASTER-01", 2),
    MappingRecord(P_GIFTSET.code, "", "GIFTBOX-S", 1),
    *(MappingRecord(p.code, p.option_code, f"TS-BLK-{size}", 1) for size, p in P_TS.items()),
)

PACKERS: tuple[tuple[str, str], ...] = (("김민수", "PD-PACKER-001"), ("이서연", "PD-PACKER-002"),
                                        ("박지훈", "PD-PACKER-003"))


class Scenario:
    """Waybills of the demo set, by what they show."""

    SIMPLE = "601000000011"          # 머그컵 화이트 x2 + 텀블러 x1: three scans
    TEA_SET = "601000000022"         # 녹차 티백 12개입: twelve scans of one item
    GIFT_SET = "601000000033"        # 선물세트 = mug + 2 coasters + box, and a 4-pack of coasters
    PARTLY_CANCELLED = "601000000044"  # two lines, one cancelled: pack the other, refuse the cancelled item
    CANCELLED = "601000000055"       # whole order cancelled: refuse
    CANCEL_REQUESTED = "601000000066"  # buyer asked to cancel: hold
    UNMAPPED = "601000000077"        # new product with no mapping: refuse, name it
    COMBINED = "601000000088"        # 합포장: two orders of one buyer on one waybill + an unlabelled line
    TSHIRTS = "601000000099"         # Code 128 lowercase barcodes


COURIER = "CJGLS"
SURNAMES = "김이박최정강조윤장임한오서신권황안송류홍"
GIVEN = ("민준", "서연", "도윤", "하은", "시우", "지민", "예준", "수아", "주원", "지우", "하준", "서윤", "은우", "채원")
STREETS = ("서울특별시 강남구 테헤란로 {n}", "서울특별시 마포구 월드컵북로 {n}", "부산광역시 해운대구 센텀중앙로 {n}",
           "경기도 성남시 분당구 판교역로 {n}", "인천광역시 연수구 송도과학로 {n}", "대구광역시 수성구 동대구로 {n}",
           "광주광역시 서구 상무중앙로 {n}", "대전광역시 유성구 대학로 {n}")
MESSAGES = ("", "부재 시 문 앞에 놓아주세요", "경비실에 맡겨주세요", "배송 전 연락 바랍니다", "")


class DemoChannel:
    """A marketplace that always has the same shop, with order times relative to ``now``."""

    kind = ChannelKind.DEMO

    def __init__(self, now: datetime, extra_orders: int = 24) -> None:
        self._orders = _build_orders(now, extra_orders)

    def collect(self, since: datetime, until: datetime) -> list[OrderRecord]:
        return [o for o in self._orders if o.ordered_at is not None and since <= o.ordered_at < until]

    def dispatch(self, items: Iterable[DispatchItem | tuple[str, str, str, datetime]], *,
                 checked: bool = False) -> WriteResult:
        """발송처리 in the demo shop: every item is accepted (the results have Naver's shape), so the demo's
        outbox drains. Accepting a repeat too, as a real marketplace shows "already dispatched", is what
        lets the uploader resend an unknown outcome here without asking first."""
        done = [DispatchItem(*it) for it in items]
        return WriteResult({it.product_order_id: ItemResult(it.product_order_id, True) for it in done})

    @staticmethod
    def catalogue() -> tuple[tuple[ItemRecord, ...], tuple[MappingRecord, ...]]:
        return ITEMS, MAPPINGS


def _line(order_no: str, n: int, p: Product, qty: int = 1, status: LineStatus = LineStatus.CONFIRMED,
          tracking: str = "") -> LineRecord:
    channel_status, claim = {
        LineStatus.CANCELLED: ("CANCELED", "CANCEL_DONE"),
        LineStatus.CANCEL_REQUESTED: ("PAYED", "CANCEL_REQUEST"),
    }.get(status, ("PAYED", ""))
    return LineRecord(f"{order_no}-{n}", p.code, p.option_code, p.name, p.option_name, qty, status,
                      channel_status, claim, COURIER if tracking else "", tracking)


def _build_orders(now: datetime, extra: int) -> list[OrderRecord]:
    rnd = random.Random(20261124)
    orders: list[OrderRecord] = []

    def person() -> tuple[str, str, str, str]:
        name = rnd.choice(SURNAMES) + rnd.choice(GIVEN)
        phone = f"010-{rnd.randint(2000, 9999)}-{rnd.randint(1000, 9999)}"
        addr = rnd.choice(STREETS).format(n=rnd.randint(1, 300)) + f", {rnd.randint(101, 1504)}호"
        return name, phone, f"{rnd.randint(1, 63999):05d}", addr

    def order(n: int, lines: list[tuple[Product, int, LineStatus]], tracking: str,
              who: tuple[str, str, str, str] | None = None, labelled: int | None = None) -> None:
        name, phone, zip_code, addr = who or person()
        order_no = f"2026{n:08d}"
        at = now - timedelta(hours=2 + n % 40, minutes=n * 7 % 60)
        recs = tuple(
            _line(order_no, i + 1, p, qty, st, tracking if labelled is None or i < labelled else "")
            for i, (p, qty, st) in enumerate(lines))
        orders.append(OrderRecord(order_no, name, name, phone, zip_code, addr, rnd.choice(MESSAGES), at,
                                  at + timedelta(minutes=3), recs))

    ok = LineStatus.CONFIRMED
    order(1, [(P_MUG_WH, 2, ok), (P_TUMBLER, 1, ok)], Scenario.SIMPLE)
    order(2, [(P_TEA12, 1, ok)], Scenario.TEA_SET)
    order(3, [(P_GIFTSET, 1, ok), (P_COASTER4, 1, ok)], Scenario.GIFT_SET)
    order(4, [(P_MUG_BK, 1, ok), (P_TUMBLER, 1, LineStatus.CANCELLED)], Scenario.PARTLY_CANCELLED)
    order(5, [(P_MUG_WH, 1, LineStatus.CANCELLED), (P_TEA12, 1, LineStatus.CANCELLED)], Scenario.CANCELLED)
    order(6, [(P_TUMBLER, 1, LineStatus.CANCEL_REQUESTED)], Scenario.CANCEL_REQUESTED)
    order(7, [(P_NEW, 1, ok), (P_MUG_WH, 1, ok)], Scenario.UNMAPPED)
    buyer = person()
    order(8, [(P_MUG_BK, 1, ok), (P_COASTER4, 1, ok)], Scenario.COMBINED, who=buyer, labelled=1)
    order(9, [(P_TUMBLER, 1, ok)], Scenario.COMBINED, who=buyer)
    order(10, [(P_TS["S"], 1, ok), (P_TS["M"], 2, ok), (P_TS["L"], 1, LineStatus.NEW)], Scenario.TSHIRTS)

    products = [P_MUG_WH, P_MUG_BK, P_TUMBLER, P_TEA12, P_COASTER4, P_GIFTSET, *P_TS.values()]
    for k in range(extra):
        n = 11 + k
        picked = rnd.sample(products, rnd.choice((1, 1, 1, 2, 2, 3)))
        order(n, [(p, rnd.choice((1, 1, 1, 2)), ok) for p in picked], f"6020000{n:05d}")
    return orders
