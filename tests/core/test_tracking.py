"""The tracking-number check: every valid number of each rule is accepted, every detectable misread refused."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from packdesk.core import tracking
from packdesk.core.tracking import MOD7_LENGTHS, check, mod7_ok, with_check_digit


def bodies(length: int) -> st.SearchStrategy[str]:
    return st.text("0123456789", min_size=length - 1, max_size=length - 1)


MOD7 = [(code, n) for code, lengths in MOD7_LENGTHS.items() for n in lengths]


@pytest.mark.parametrize(("courier", "length"), MOD7)
@given(data=st.data())
def test_every_number_that_follows_the_rule_is_accepted(courier: str, length: int, data: st.DataObject) -> None:
    number = with_check_digit(data.draw(bodies(length)))
    assert check(number, courier).ok
    # as labels and sheets print it: with hyphens and spaces
    printed = f"{number[:4]}-{number[4:8]} {number[8:]}"
    assert check(printed, courier).number == number
    assert check(printed, courier).ok


@pytest.mark.parametrize(("courier", "length"), MOD7)
@given(data=st.data())
def test_every_single_digit_misread_the_rule_can_see_is_refused(courier: str, length: int,
                                                                 data: st.DataObject) -> None:
    number = with_check_digit(data.draw(bodies(length)))
    pos = data.draw(st.integers(0, length - 1))
    digit = data.draw(st.sampled_from([d for d in "0123456789" if d != number[pos]]))
    misread = number[:pos] + digit + number[pos + 1:]
    detectable = pos == length - 1 or abs(int(digit) - int(number[pos])) != 7  # 10^k is coprime with 7
    result = check(misread, courier)
    if detectable:
        assert result.problem == "tracking_check_digit"
    else:
        assert result.ok and mod7_ok(misread)


@pytest.mark.parametrize(("courier", "length"), MOD7)
def test_a_dropped_or_added_digit_is_a_wrong_length(courier: str, length: int) -> None:
    number = with_check_digit("3" * (length - 1))
    assert check(number[:-1], courier).problem in ("tracking_length", "tracking_check_digit")
    if length + 1 not in MOD7_LENGTHS[courier] and length - 1 not in MOD7_LENGTHS[courier]:
        assert check(number[:-1], courier).problem == "tracking_length"
        assert check(number + "1", courier).problem == "tracking_length"


def test_public_sample_numbers_pass() -> None:
    # numbers of the shapes seen on public labels (docs/marketplaces/couriers.md: 11 of 11 follow the rule)
    for courier, body in (("CJGLS", "56123456789"), ("HANJIN", "42011234567"), ("HYUNDAI", "23456789012"),
                          ("KGB", "3012345678")):
        assert check(with_check_digit(body), courier).ok


def test_korea_post_is_thirteen_digits_without_a_check_digit() -> None:
    assert check("6070-1234-56789", "EPOST").ok
    assert check("607012345678", "EPOST").problem == "tracking_length"
    assert check("60701234567AB", "EPOST").problem == "tracking_not_digits"


def test_check_digit_can_be_set_to_warn_per_courier() -> None:
    wrong = with_check_digit("12345678901")[:-1] + "9"
    assert check(wrong, "CJGLS").problem == "tracking_check_digit"
    warned = check(wrong, "CJGLS", {"CJGLS": tracking.WARN})
    assert warned.ok and warned.warning == "tracking_check_digit"
    assert check(wrong, "HANJIN", {"CJGLS": tracking.WARN}).problem == "tracking_check_digit"


@pytest.mark.parametrize(("raw", "problem"), [("", "tracking_empty"), ("  - ", "tracking_empty"),
                                              ("12345678901가", "tracking_not_digits"),
                                              ("1234.5678.90", "tracking_not_digits")])
def test_what_is_not_a_number_at_all(raw: str, problem: str) -> None:
    assert check(raw, "CJGLS").problem == problem


def test_other_couriers_digits_eight_to_twenty_international_letters() -> None:
    assert check("12345678", "KDEXP").ok
    assert check("1234567", "KDEXP").problem == "tracking_length"
    assert check("EE123456789KR", "EMS").ok
    assert check("ee 1234 5678 9kr", "EMS").number == "EE123456789KR"
    assert check("EE12345678９KR", "EMS").number == "EE123456789KR"  # a full-width digit, as IMEs type it
    assert check("EE123456789KR★", "EMS").problem == "tracking_bad_characters"
