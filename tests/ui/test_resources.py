"""Every resource loads through ``ui/resources.py``, and the station shows the image of its state beside the
banner: a box while it waits, a cross on a refusal, a check on a completed pack."""

from __future__ import annotations

import struct

import pytest
from PySide6.QtGui import QImage

from packdesk.channels.demo import BARCODE, Scenario
from packdesk.core.errors import KnownError
from packdesk.core.station import Level, Sound
from packdesk.ui import resources
from packdesk.ui.resources import icon, sound_path, state_pixmap

pytestmark = pytest.mark.gui


def test_app_icon_loads_and_the_windows_icon_has_every_size(qtbot) -> None:  # type: ignore[no-untyped-def]
    assert resources.icon_path().exists()
    assert QImage(str(resources.icon_path())).size().toTuple() == (256, 256)
    ic = icon()
    assert not ic.isNull() and not ic.pixmap(32, 32).isNull()
    data = resources.ico_path().read_bytes()
    reserved, kind, count = struct.unpack_from("<HHH", data, 0)
    assert (reserved, kind) == (0, 1)
    sizes = {struct.unpack_from("<B", data, 6 + 16 * i)[0] or 256 for i in range(count)}
    assert {16, 32, 48, 256} <= sizes


@pytest.mark.parametrize("level", list(Level))
def test_every_state_has_its_image(qtbot, level: Level) -> None:  # type: ignore[no-untyped-def]
    assert resources.state_image_path(level).exists()
    pix = state_pixmap(level, 96)
    assert not pix.isNull() and pix.width() == round(96 * pix.devicePixelRatio())


def test_state_images_differ_in_shape_not_only_in_colour(qtbot) -> None:  # type: ignore[no-untyped-def]
    """Without colour (a colour-blind packer, a washed-out screen) the four images still differ: compared as
    outline plus sign, i.e. each pixel as transparent, black, white or "some colour"."""
    n = 48

    def pattern(level: Level) -> tuple[int, ...]:
        img = state_pixmap(level, n).toImage()
        out = []
        for y in range(n):
            for x in range(n):
                c = img.pixelColor(x, y)
                out.append(0 if c.alpha() < 128 else 1 if c.lightness() < 60 else 2 if c.lightness() > 200 else 3)
        return tuple(out)

    patterns = {lv: pattern(lv) for lv in Level}
    for a in Level:
        for b in Level:
            if a < b:
                diff = sum(x != y for x, y in zip(patterns[a], patterns[b], strict=True))
                assert diff > n * n // 10, (a, b, diff)


def test_sounds_resolve_through_the_resource_module() -> None:
    for s in Sound:
        path = sound_path(s.value)
        assert path.name == f"{s.value}.wav" and path.stat().st_size > 1000
    with pytest.raises(ValueError):
        sound_path("fanfare")


def test_station_shows_the_state_image_beside_the_banner(station, packer) -> None:  # type: ignore[no-untyped-def]
    view = packer.view

    def showing(level: Level) -> bool:
        return (view.state_image.property("level") == level.value
                and view.state_image.pixmap().toImage() == state_pixmap(level, view.state_image_size).toImage())

    assert showing(Level.INFO)
    assert view.state_image.geometry().right() < view.banner.geometry().left()  # left of the text
    packer.scan("PD-PACKER-001")
    packer.scan(Scenario.SIMPLE)
    packer.scan(BARCODE["TEA-GR"])  # not in this order: refused
    assert packer.level() == "error" and showing(Level.ERROR)
    for code in (BARCODE["MUG-WH-01"], BARCODE["TMB-500"], BARCODE["MUG-WH-01"]):
        packer.scan(code)
    assert packer.level() == "success" and showing(Level.SUCCESS)
    assert not showing(Level.ERROR)


def test_an_error_outside_the_station_shows_the_error_image(station, packer, expect_warnings) -> None:  # type: ignore[no-untyped-def]
    station.window.on_error(KnownError("camera_unavailable", detail="test"))
    img = packer.view.state_image.pixmap().toImage()
    assert img == state_pixmap(Level.ERROR, packer.view.state_image_size).toImage()
