"""The kiosk's tones: what they sound like, and silence (not a crash) without audio."""
from __future__ import annotations

import pygame
import pytest

from kiosk.screens import View
from kiosk.sounds import RATE, TONES, Sounds, samples
from kiosk.states import CHIME_EVERY_S


def notes(name: str) -> list[tuple[float, float]]:
    """(frequency from zero crossings, seconds) of each sounding stretch of a tone;
    stretches are split where at least 10 ms of silence lies between them."""
    data = list(samples(TONES[name]))
    gap = RATE // 100
    stretches, start, quiet = [], None, 0
    for i, v in enumerate(data + [0] * gap):
        quiet = quiet + 1 if v == 0 else 0
        if v and start is None:
            start = i
        elif start is not None and quiet >= gap:
            stretches.append(data[start:i - gap + 1])
            start = None
    return [(sum(1 for a, b in zip(p, p[1:]) if (a < 0) != (b < 0)) / 2 / (len(p) / RATE), len(p) / RATE)
            for p in stretches]


def test_the_card_chime_is_two_falling_notes():
    (high, first), (low, second) = notes("chime")
    assert high > low * 1.2 and first > 0.2 and second > 0.3
    assert abs(high - 1046.5) < 30 and abs(low - 784) < 30


def test_a_tap_is_a_short_click_and_an_alert_repeats():
    ((_, tap),) = notes("tap")
    assert tap < 0.06
    assert len(notes("alert")) == 2


def test_tones_never_clip():
    assert all(abs(v) < 32767 * 0.5 for name in TONES for v in samples(TONES[name]))


def test_sounds_play_on_a_dummy_device(monkeypatch):
    monkeypatch.setenv("SDL_AUDIODRIVER", "dummy")
    pygame.mixer.quit()
    sounds = Sounds()
    assert sounds.available and sounds.length_s("chime") == pytest.approx(0.77, abs=0.01)
    sounds.play("chime")
    pygame.mixer.quit()


def test_no_audio_device_means_silence(monkeypatch):
    monkeypatch.setenv("SDL_AUDIODRIVER", "no-such-driver")
    pygame.mixer.quit()
    sounds = Sounds()
    assert not sounds.available
    sounds.play("chime")  # a no-op, never an error in front of a resident


def test_each_screen_sounds_once_and_the_card_reminder_repeats():
    sounds = Sounds.__new__(Sounds)  # no device needed: only what is played is counted
    sounds._screen, sounds._played_at, played = None, None, []
    sounds.play = played.append
    printed = View("more", "Printed", sound="done")
    take_card = View("take_card", "Take your card", warning="Do not forget your card!", flash=True, sound="chime")
    for t in range(0, 20):
        sounds.cue(printed, t * 0.1)
    for t in range(0, 130):
        sounds.cue(take_card, 10 + t * 0.1)  # 13 s on screen
    sounds.cue(View("welcome", "Welcome"), 30)
    assert played == ["done", "chime", "chime", "chime"]  # at 10 s, 10 + CHIME_EVERY_S, 10 + 2x
    assert CHIME_EVERY_S == 6.0
