"""The courier table: one courier, each marketplace's code for it, chosen once."""

import pytest

from packdesk.core.couriers import (
    BY_CODE,
    COURIERS,
    UnknownCourier,
    from_channel,
    label,
    resolve,
    to_channel,
)
from packdesk.core.enums import ChannelKind


def test_codes_are_unique_per_marketplace() -> None:
    assert len(BY_CODE) == len(COURIERS)
    for attr in ("coupang", "sabangnet"):
        codes = [getattr(c, attr) for c in COURIERS if getattr(c, attr)]
        assert len(codes) == len(set(codes)), attr


@pytest.mark.parametrize(("text", "code"), [
    ("CJ대한통운", "CJGLS"), ("cj 대한통운", "CJGLS"), ("CJGLS", "CJGLS"), ("롯데택배", "HYUNDAI"),
    ("LOTTE", "HYUNDAI"),
    ("로젠", "KGB"), ("우체국택배", "EPOST"), ("Korea Post", "EPOST"), ("경동택배", "KDEXP"), ("한진", "HANJIN"),
])
def test_people_name_couriers_many_ways(text: str, code: str) -> None:
    assert resolve(text).code == code


@pytest.mark.parametrize("text", ["", "  ", "무슨택배", "XYZ"])
def test_an_unknown_courier_is_refused(text: str) -> None:
    with pytest.raises(UnknownCourier):
        resolve(text)


def test_each_marketplace_gets_its_own_code_and_back() -> None:
    # the historic quirks: Coupang and Naver call 롯데 HYUNDAI and 로젠 KGB; Sabangnet numbers them
    assert to_channel("HYUNDAI", ChannelKind.COUPANG) == "HYUNDAI" and to_channel("KGB", ChannelKind.SABANGNET) == "007"
    assert to_channel("CVSNET", ChannelKind.COUPANG) == "CVS"
    assert to_channel("NONGHYUP", ChannelKind.COUPANG) == "NHLOGIS"
    assert to_channel("CJGLS", ChannelKind.NAVER) == "CJGLS" and to_channel("CJGLS", ChannelKind.SABANGNET) == "001"
    for c in COURIERS:
        for kind in (ChannelKind.NAVER, ChannelKind.COUPANG, ChannelKind.SABANGNET):
            try:
                theirs = to_channel(c.code, kind)
            except UnknownCourier:
                continue
            assert from_channel(theirs, kind) == c.code
    assert from_channel("CJ 대한통운", ChannelKind.COUPANG) == "CJGLS"  # Coupang's sheets give a name
    assert from_channel("", ChannelKind.COUPANG) == "" and from_channel("???", ChannelKind.COUPANG) == ""


def test_an_account_overrides_a_code_and_a_missing_one_is_refused() -> None:
    assert to_channel("CJGLS", ChannelKind.SABANGNET, {"CJGLS": "055"}) == "055"
    assert from_channel("055", ChannelKind.SABANGNET, {"CJGLS": "055"}) == "CJGLS"
    with pytest.raises(UnknownCourier):
        to_channel("HDEXP", ChannelKind.SABANGNET)      # no Sabangnet code known: never sent as another
    with pytest.raises(UnknownCourier):
        to_channel("NOPE", ChannelKind.NAVER)
    assert label("EPOST") == "우체국택배 (EPOST)" and label("ZZZ") == "ZZZ"
