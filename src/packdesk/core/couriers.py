"""The Korean couriers, with each marketplace's code for them: one table for every channel and the outbox.

A waybill's courier is chosen once, as PackDesk's own code, and each channel translates it when it talks
to its marketplace (and back when it reads one). PackDesk's code is Naver's ``deliveryCompanyCode``: Naver's
203-entry table is the widest of the three and the one the data already holds.

Sources (``docs/marketplaces/couriers.md``): Naver §6.1 [C]; Coupang B.6 [C]
(HYUNDAI is 롯데, KGB is 로젠: historic quirks);
Sabangnet A.3, seen in clients only [K]/[1] and with one conflict (CJ 001 vs 055): an account can override
any Sabangnet code in its options (``courier_codes``), and a courier without a known code is refused with a
clear message instead of being sent as something else.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass

from packdesk.core.enums import ChannelKind


@dataclass(frozen=True)
class Courier:
    code: str                     # PackDesk's (= Naver's) code
    name: str                     # Korean name, as printed on the label
    name_en: str
    coupang: str = ""             # "" = Coupang has no code for it
    sabangnet: str = ""
    aliases: tuple[str, ...] = ()  # other names people and marketplaces use


COURIERS: tuple[Courier, ...] = (
    Courier("CJGLS", "CJ대한통운", "CJ Logistics", "CJGLS", "001", ("CJ", "대한통운", "CJ택배", "CJ GLS")),
    Courier("HYUNDAI", "롯데택배", "Lotte Global Logistics", "HYUNDAI", "002", ("롯데", "LOTTE", "현대택배")),
    Courier("HANJIN", "한진택배", "Hanjin", "HANJIN", "004", ("한진",)),
    Courier("KGB", "로젠택배", "Logen", "KGB", "007", ("로젠", "LOGEN")),
    Courier("EPOST", "우체국택배", "Korea Post", "EPOST", "009", ("우체국", "우편택배", "KOREA POST")),
    Courier("KDEXP", "경동택배", "Kyungdong Express", "KDEXP", "013", ("경동",)),
    Courier("DAESIN", "대신택배", "Daesin", "DAESIN", "037", ("대신",)),
    Courier("ILYANG", "일양로지스", "Ilyang Logis", "ILYANG", "", ("일양", "일양택배")),
    Courier("HDEXP", "합동택배", "Hapdong Express", "HDEXP", "", ("합동",)),
    Courier("CHUNIL", "천일택배", "Chunil Express", "CHUNIL", "", ("천일",)),
    Courier("KUNYOUNG", "건영택배", "Kunyoung", "KUNYOUNG", "", ("건영",)),
    Courier("CVSNET", "GS Postbox 택배", "GS Postbox (CVSnet)", "CVS", "114", ("CVSnet", "편의점택배", "GS편의점택배")),
    Courier("CUPARCEL", "CU 편의점택배", "CU Parcel", "", "", ("CU택배", "CU편의점택배")),
    Courier("NONGHYUP", "농협택배", "NongHyup Logistics", "NHLOGIS", "", ("농협",)),
    Courier("REGISTPOST", "우편등기", "Registered mail", "REGISTPOST", "", ("등기",)),
    Courier("HOMEPICK", "홈픽택배", "Homepick", "", "", ("홈픽",)),
    Courier("EMS", "EMS", "EMS", "EMS", ""),
    Courier("DHL", "DHL", "DHL", "DHL", ""),
    Courier("FEDEX", "FedEx", "FedEx", "FEDEX", ""),
    Courier("UPS", "UPS", "UPS", "UPS", ""),
    Courier("CH1", "기타택배", "Other courier", "", "999", ("기타",)),
)

BY_CODE: Mapping[str, Courier] = {c.code: c for c in COURIERS}
DEFAULT_COURIER = "CJGLS"


class UnknownCourier(ValueError):
    """A courier name or code that matches no courier (or, for a marketplace, one it has no code for)."""


def _key(text: str) -> str:
    """Compare names the way people write them: no spaces, dots, dashes or brackets; any case."""
    return re.sub(r"[\s.\-()_/]", "", unicodedata.normalize("NFC", text)).upper()


_BY_KEY: dict[str, Courier] = {}
for _c in COURIERS:
    for _name in (_c.code, _c.name, _c.name_en, *_c.aliases):
        _BY_KEY.setdefault(_key(_name), _c)


def resolve(text: str) -> Courier:
    """A courier from what a person or a sheet says: our code, a name, an alias (``CJ대한통운``, ``cj``,
    ``롯데``, ``HYUNDAI``). Raises ``UnknownCourier``."""
    found = _BY_KEY.get(_key(text))
    if found is None or not text.strip():
        raise UnknownCourier(text)
    return found


def to_channel(code: str, kind: ChannelKind, overrides: Mapping[str, str] | None = None) -> str:
    """Our courier code as ``kind`` writes it. ``overrides`` (an account's own table) win. Raises
    ``UnknownCourier`` when the marketplace has no code for that courier."""
    if overrides and overrides.get(code):
        return overrides[code]
    courier = BY_CODE.get(code)
    if courier is None:
        raise UnknownCourier(code)
    if kind in (ChannelKind.NAVER, ChannelKind.DEMO, ChannelKind.EXCEL):
        return courier.code
    theirs = courier.coupang if kind is ChannelKind.COUPANG else courier.sabangnet if kind is ChannelKind.SABANGNET \
        else courier.code
    if not theirs:
        raise UnknownCourier(code)
    return theirs


def from_channel(value: str, kind: ChannelKind, overrides: Mapping[str, str] | None = None) -> str:
    """A marketplace's courier code (or name, as Coupang's sheets give it) as our code; "" if unknown."""
    value = value.strip()
    if not value:
        return ""
    for ours, theirs in (overrides or {}).items():
        if theirs == value:
            return ours
    for c in COURIERS:
        theirs = c.coupang if kind is ChannelKind.COUPANG else c.sabangnet if kind is ChannelKind.SABANGNET \
            else c.code
        if theirs and theirs == value:
            return c.code
    try:
        return resolve(value).code
    except UnknownCourier:
        return ""


def label(code: str) -> str:
    """``CJ대한통운 (CJGLS)`` for people; the bare code when it is not in the table."""
    c = BY_CODE.get(code)
    return f"{c.name} ({c.code})" if c else code
