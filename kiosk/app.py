"""The frame loop: events in, state machine, screen out. It never waits on a device."""
from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Protocol

import pygame

from kiosk.event_queue import KIOSK_EVENT
from kiosk.events import Tap
from kiosk.render import Renderer
from kiosk.screens import Button, View, build_view
from kiosk.sd_notify import notifier
from kiosk.sounds import Sounds
from kiosk.states import Machine

if TYPE_CHECKING:
    from kiosk.autopilot import Hand
    from kiosk.maintenance.mode import MaintenanceMode

log = logging.getLogger("kiosk.app")

FPS = 30
MAX_FRAME_FAILURES = 30  # a second of failing frames: give up and let systemd restart


class FrameObserver(Protocol):
    """Sees every drawn frame (the autopilot). Returns True to stop the kiosk."""

    def after_frame(self, view: View, targets: list[tuple[Button, pygame.Rect]],
                    surface: pygame.Surface, machine: Machine, now: float) -> bool: ...


def hit(targets: list[tuple[Button, pygame.Rect]], pos) -> Button | None:
    return next((b for b, rect in targets if rect.collidepoint(pos)), None)


def run_loop(machine: Machine, surface: pygame.Surface, observer: FrameObserver | None = None,
             maintenance: MaintenanceMode | None = None, hand: Hand | None = None,
             demo_devices: bool = False) -> None:
    """`hand` takes the demo's keys (1-5 coins and a note, c the card) on simulated devices;
    `demo_devices` marks every screen when the config names stand-ins for hardware."""
    renderer = Renderer(surface, demo_devices=demo_devices)
    sounds: Sounds | None = None  # made in the first frame that draws nothing: its tones take ~10 ms
    clock = pygame.time.Clock()
    targets: list[tuple[Button, pygame.Rect]] = []
    pressed: Button | None = None
    shown: View | None = None
    failures = 0
    while True:
        now = time.monotonic()
        try:
            for event in pygame.event.get():
                if event.type == pygame.QUIT:
                    return
                if maintenance is not None and maintenance.wants_entry(event, now, machine):
                    pressed = None  # the touch that completed the staff gesture is used up
                    continue
                if event.type == pygame.MOUSEBUTTONDOWN and event.button == 1:
                    pressed = hit(targets, event.pos)
                elif event.type == pygame.MOUSEBUTTONUP and event.button == 1:
                    # A tap counts where the finger went down and came up on the same button.
                    released = hit(targets, event.pos)
                    if released is not None and released == pressed:
                        if sounds is not None:
                            sounds.play("tap")
                        staff = maintenance is not None and maintenance.active
                        (maintenance if staff else machine).handle(Tap(released.action), now)
                    pressed = None
                elif event.type == pygame.KEYDOWN and hand is not None:
                    hand.key(event.unicode)
                elif event.type == KIOSK_EVENT:
                    machine.handle(event.report, now)
                    if maintenance is not None:
                        maintenance.note(event.report)
            machine.tick(now)
            staff = maintenance is not None and maintenance.active
            view = maintenance.view(now) if staff else build_view(machine, now)
            if sounds is not None:
                sounds.cue(view, now)
            # Drawing is most of a frame's cost: an unchanged still screen is not drawn
            # again, so an idle kiosk on the welcome screen uses almost no CPU.
            if view != shown or view.spinner or view.flash:
                targets = renderer.draw(view, now)
                pygame.display.flip()
                shown = view
            elif sounds is None:  # a still screen's frame has time to spare; a drawing frame has none
                sounds = Sounds()
        except Exception:  # a bug must end on a screen, never at a terminal prompt
            failures += 1
            log.exception("frame failed (%d in a row) in %s", failures, machine.state.value)
            if failures >= MAX_FRAME_FAILURES:
                raise  # systemd restarts the kiosk; the journal settles any payment at start
            if maintenance is not None:
                maintenance.active = False
            machine.recover(now)
            shown = None
            clock.tick(FPS)
            continue
        failures = 0
        notifier().frame(now, view.name)  # READY=1 after the first frame, then the watchdog
        if observer is not None and observer.after_frame(view, targets, surface, machine, now):
            return
        clock.tick(FPS)
