"""Korean numbers written internationally become the domestic form; everything else stays as written."""

from __future__ import annotations

import pytest

from packdesk.core.phones import domestic, hyphenated


@pytest.mark.parametrize(("typed", "stored"), [
    ("+82 10-2345-6780", "010-2345-6780"),
    ("+82-10-2345-6780", "010-2345-6780"),
    ("82 10 2345 6780", "010-2345-6780"),
    ("+82 2-123-4567", "02-123-4567"),
    ("+82 (0)10 2345 6780", "010-2345-6780"),
    ("0082-10-2345-6780", "010-2345-6780"),
    ("821023456780", "010-2345-6780"),
    (" +82 31-1234-5678 ", "031-1234-5678"),
    ("+82 505-123-4567", "0505-123-4567"),
])
def test_international_korean_numbers_become_domestic(typed: str, stored: str) -> None:
    assert domestic(typed) == stored


@pytest.mark.parametrize("typed", ["010-2345-6780", "01023456780", "02-823-4567", "+1 555 123 4567", "+82 99",
                                   "1588-1234", "", "전화 없음"])
def test_anything_else_stays_as_written(typed: str) -> None:
    assert domestic(typed) == typed


def test_hyphens_follow_the_area_code() -> None:
    assert [hyphenated(d) for d in ("01023456780", "0212345678", "0311234567", "050212345678", "12345")] == [
        "010-2345-6780", "02-1234-5678", "031-123-4567", "0502-1234-5678", "12345"]
