"""Every code a person can be shown has Korean and English text, and the texts use only parameters the
code is given (a missing one would print as a blank, a wrong name as a crash)."""

from __future__ import annotations

import string
from datetime import UTC, datetime

from packdesk.core.errors import KnownError
from packdesk.core.station import Level, Message, Msg
from packdesk.core.words.errors import ERRORS as ERROR_TEXT
from packdesk.core.words.station import STATION as STATION_TEXT
from packdesk.ui.messages import error_text, station_text


def fields(template: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(template) if f}


def test_every_station_message_has_both_languages_with_the_same_fields() -> None:
    assert set(STATION_TEXT) == set(Msg)
    for code, (ko, en) in STATION_TEXT.items():
        assert (ko and en and ko != en) or code is Msg.ITEM_OK, code
        assert fields(ko) == fields(en), code
        assert any("\uac00" <= ch <= "\ud7a3" for ch in ko), f"{code}: Korean text has no Hangul"


def test_error_texts_have_both_languages() -> None:
    for code, (ko, en) in ERROR_TEXT.items():
        assert ko and en and fields(ko) == fields(en), code


def test_rendering_fills_parameters_and_formats_times_in_kst() -> None:
    at = datetime(2026, 11, 24, 1, 5, tzinfo=UTC)
    ko, en = station_text(Message(Level.ERROR, Msg.WAYBILL_ALREADY_PACKED, {"tracking": "601", "packed_at": at}))
    assert ko.startswith("이미 포장된 송장입니다: 601 (") and ko.endswith("10:05)")
    assert en.startswith("Waybill already packed: 601")
    ko, en = error_text(KnownError("no_such_code"))
    assert (ko, en) == ERROR_TEXT["error"]


def test_a_two_language_parameter_gives_each_text_its_own_half() -> None:
    """An account field's label is written "한국어 / English": the pair says it once in each language."""
    e = KnownError("account_field_required", field="애플리케이션 ID / Application ID")
    assert error_text(e) == ("입력하세요: 애플리케이션 ID", "Required: Application ID")
    e = KnownError("channel_auth", message="키가 틀립니다 / 401")  # the API's own words: not two languages
    assert "키가 틀립니다 / 401" in error_text(e)[0] and "키가 틀립니다 / 401" in error_text(e)[1]


def test_an_item_is_named_with_its_option_never_split_at_its_slash() -> None:
    """Options are often written "블랙 / L": that is the shop's word, not a "한국어 / English" pair."""
    params = {"name": "오버핏 티셔츠", "option": "블랙 / L", "scanned": 1, "expected": 2}
    assert station_text(Message(Level.INFO, Msg.ITEM_OK, params)) == (
        "오버핏 티셔츠 · 블랙 / L  1 / 2 확인", "오버핏 티셔츠 · 블랙 / L  1 / 2 checked")
    ko, en = station_text(Message(Level.ERROR, Msg.WRONG_ITEM, {"name": "머그컵", "option": ""}))
    assert ko == "다른 상품입니다: 머그컵 — 이 주문에 없습니다" and en == "Wrong item: 머그컵 is not in this order"


def test_already_packed_names_the_day_the_station_and_the_packer() -> None:
    at = datetime(2026, 11, 24, 1, 5, tzinfo=UTC)
    params = {"tracking": "601", "packed_at": at, "station": "STATION-2", "packer": "이서연"}
    ko, en = station_text(Message(Level.ERROR, Msg.WAYBILL_ALREADY_PACKED, params))
    assert ko == "이미 포장된 송장입니다: 601 — 2026-11-24 10:05, STATION-2, 작업자 이서연"
    assert en == "Waybill already packed: 601 — 2026-11-24 10:05 at STATION-2 by 이서연"
