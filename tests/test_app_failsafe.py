"""A bug in a frame ends on the "something went wrong" screen with a way back, not at a
terminal prompt; a frame that keeps failing gives up so systemd restarts the kiosk."""
from __future__ import annotations

import os
import time

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")

import pygame  # noqa: E402
import pytest  # noqa: E402

import kiosk.app  # noqa: E402
from kiosk.events import CardPresence, CardReady, Tap  # noqa: E402
from kiosk.screens import build_view  # noqa: E402
from kiosk.screen_catalogue import OrdersOnly  # noqa: E402
from kiosk.states import Machine, State  # noqa: E402
from tests.fixtures.stub import TEST_CLOCK  # noqa: E402


class Watch:
    """Stops the loop once a screen named `until` is drawn, or after `frames`."""

    def __init__(self, until: str, frames: int = 200):
        self.until, self.frames, self.seen = until, frames, []

    def after_frame(self, view, targets, surface, machine, now):
        self.seen.append(view.name)
        self.frames -= 1
        return view.name == self.until or self.frames <= 0


@pytest.fixture
def surface():
    pygame.display.init()
    pygame.font.init()
    yield pygame.display.set_mode((1024, 600))
    pygame.display.quit()


def machine_at_pin():
    now = time.monotonic()  # the frame loop's clock
    m = Machine(OrdersOnly(), language="en", inactivity_timeout_s=60, now=now, clock=TEST_CLOCK)
    m.handle(Tap("start"), now)
    m.handle(CardPresence(True), now)
    m.handle(CardReady(m.visit.number, tries_left=3), now)
    assert m.state is State.PIN
    return m


def test_a_bug_on_a_screen_shows_something_went_wrong_and_the_way_back(surface, monkeypatch):
    def pin_screen_with_a_bug(machine, now):
        if machine.state is State.PIN:
            raise KeyError("a bug on the PIN screen")
        return build_view(machine, now)

    monkeypatch.setattr(kiosk.app, "build_view", pin_screen_with_a_bug)
    m = machine_at_pin()
    watch = Watch(until="problem-internal_error")
    kiosk.app.run_loop(m, surface, watch)
    assert watch.seen[-1] == "problem-internal_error"
    assert m.visit.pin == bytearray()
    view = build_view(m, 0.0)
    assert any(b.action == "ok" for b in view.buttons)


def test_a_frame_that_keeps_failing_gives_up(surface, monkeypatch):
    def always_broken(machine, now):
        raise KeyError("broken everywhere")

    monkeypatch.setattr(kiosk.app, "build_view", always_broken)
    with pytest.raises(KeyError):
        kiosk.app.run_loop(machine_at_pin(), surface, Watch(until="never"))
