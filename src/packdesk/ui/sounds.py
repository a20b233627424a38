"""Feedback sounds. ``requested`` is emitted for every sound asked for, so tests (and a machine with no
audio device) can check the right one was asked for; playing is best effort and never blocks a scan."""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, QUrl, Signal

from packdesk.core.station import Sound
from packdesk.ui.resources import sound_path

log = logging.getLogger("packdesk.sounds")


class SoundPlayer(QObject):
    requested = Signal(str)

    def __init__(self, parent: QObject | None = None, *, enabled: bool = True) -> None:
        super().__init__(parent)
        self._effects: dict[Sound, object] = {}
        # why nothing can be heard ("" = sounds play): the station says so on screen
        self.off_reason = "" if enabled else "sounds switched off"
        if not enabled:
            return
        try:
            from PySide6.QtMultimedia import QMediaDevices, QSoundEffect
        except ImportError as e:  # Linux without libpulse0: stay silent, say why once
            log.info("sounds off: QtMultimedia unavailable (%s)", e)
            self.off_reason = f"QtMultimedia unavailable ({e})"
            return
        if not QMediaDevices.audioOutputs():
            log.info("sounds off: no audio output device")
            self.off_reason = "no audio output device"
            return
        for sound in Sound:
            path = sound_path(sound.value)
            effect = QSoundEffect(self)
            effect.setSource(QUrl.fromLocalFile(str(path)))
            effect.setVolume(1.0)
            self._effects[sound] = effect

    def play(self, sound: Sound) -> None:
        self.requested.emit(sound.value)
        effect = self._effects.get(sound)
        if effect is not None:
            effect.play()  # type: ignore[attr-defined]
