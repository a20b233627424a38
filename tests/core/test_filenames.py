"""One cleaning for file names made from unchecked text (a tracking number, a template's name)."""

from __future__ import annotations

from pathlib import Path

import pytest

from packdesk.core.filenames import safe_file_part


@pytest.mark.parametrize(("text", "named"), [
    ("601000000011", "601000000011"),
    ("CJ 1234/56", "CJ_1234_56"),
    ("x/../../..", "x_________"),
    ("..\\..\\win", "______win"),
    ("a:b*c?d\"e<f>g|h", "a_b_c_d_e_f_g_h"),
    ("nul\x00byte\r\n", "nul_byte__"),
    ("CON", "_CON"), ("lpt1", "_lpt1"), ("CONSOLE", "CONSOLE"),
    ("", "waybill"), ("..", "__"), ("우체국-택배", "우체국-택배"),
])
def test_unchecked_text_becomes_one_plain_name_part(text: str, named: str, tmp_path: Path) -> None:
    assert safe_file_part(text) == named
    assert (tmp_path / f".{named}.part.mp4").resolve().parent == tmp_path.resolve()


def test_long_text_is_cut_and_an_empty_one_takes_the_fallback() -> None:
    assert safe_file_part("9" * 100) == "9" * 40 and safe_file_part("", "courier") == "courier"
