"""Short tones for key events, made at start from sine waves (no audio files).

tap: each accepted touch; chime: take your card (two notes, falling); alert: a problem
screen; done: a certificate is out. Without an audio device the kiosk stays silent
and says so once in the log; it never fails for want of sound.
"""
from __future__ import annotations

import array
import logging
import math

import pygame

from kiosk.screens import View
from kiosk.states import CHIME_EVERY_S

log = logging.getLogger("kiosk.sounds")

RATE = 22050
VOLUME = 0.35  # of full scale: audible in a shop, never harsh
FADE_S = 0.008  # each note fades in and out, so it starts and stops without a click
# (frequency Hz, seconds); a frequency of 0 is a pause
TONES: dict[str, tuple[tuple[float, float], ...]] = {
    "tap": ((1320.0, 0.035),),
    "chime": ((1046.5, 0.28), (0.0, 0.04), (784.0, 0.45)),
    "alert": ((440.0, 0.16), (0.0, 0.07), (440.0, 0.16)),
    "done": ((659.3, 0.12), (0.0, 0.02), (880.0, 0.22)),
}


def samples(notes: tuple[tuple[float, float], ...], rate: int = RATE, channels: int = 1) -> array.array:
    """Signed 16-bit samples of the notes, interleaved for `channels`."""
    out = array.array("h")
    fade = max(1, int(FADE_S * rate))
    for freq, seconds in notes:
        count = int(seconds * rate)
        if not freq:
            out.extend(array.array("h", bytes(2 * count * channels)))
            continue
        # One comprehension per note: these are made at every start, before the first frame.
        wave = array.array("h", [int(32767 * VOLUME * min(1.0, i / fade, (count - 1 - i) / fade)
                                     * math.sin(2 * math.pi * freq * i / rate)) for i in range(count)])
        if channels > 1:
            wave = array.array("h", [v for v in wave for _ in range(channels)])
        out.extend(wave)
    return out


class Sounds:
    def __init__(self):
        self._sounds: dict[str, pygame.mixer.Sound] = {}
        self._screen: str | None = None
        self._played_at: float | None = None
        try:
            if not pygame.mixer.get_init():
                pygame.mixer.init(frequency=RATE, size=-16, channels=1, allowedchanges=0)
            rate, size, channels = pygame.mixer.get_init()
            if size != -16:
                raise pygame.error(f"mixer format {size} is not signed 16-bit")
            self._sounds = {name: pygame.mixer.Sound(buffer=samples(notes, rate, channels).tobytes())
                            for name, notes in TONES.items()}
        except pygame.error as e:
            log.info("no sound: %s", e)

    @property
    def available(self) -> bool:
        return bool(self._sounds)

    def play(self, name: str) -> None:
        sound = self._sounds.get(name)
        if sound is not None:
            sound.play()

    def cue(self, view: View, now: float) -> None:
        """Called every frame: a screen's sound once as it appears, and again every
        CHIME_EVERY_S while a flashing reminder (take your card) stays."""
        if view.name != self._screen:
            self._screen, self._played_at = view.name, None
        if view.sound and (self._played_at is None or view.flash and now - self._played_at >= CHIME_EVERY_S):
            self.play(view.sound)
            self._played_at = now

    def length_s(self, name: str) -> float:
        sound = self._sounds.get(name)
        return sound.get_length() if sound is not None else 0.0
