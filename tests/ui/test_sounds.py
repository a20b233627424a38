from packdesk.core.station import Sound
from packdesk.paths import resources_dir
from packdesk.ui.sounds import SoundPlayer


def test_every_sound_has_a_file_and_is_requested(qtbot) -> None:  # type: ignore[no-untyped-def]
    for s in Sound:
        assert (resources_dir() / "sounds" / f"{s.value}.wav").stat().st_size > 1000
    player = SoundPlayer()
    with qtbot.waitSignal(player.requested) as blocker:
        player.play(Sound.ERROR)
    assert blocker.args == ["error"]
