"""The frame loop's inbox: worker threads post their reports (kiosk.events) into
SDL's event queue, which kiosk.app reads between frames. The only pygame in the
event path, so the state machine and the worker import without it."""
from __future__ import annotations

import pygame

from kiosk.events import CardPresence, ServiceStatus, WorkerReport

# Worker reports travel through SDL's thread-safe event queue under this type.
KIOSK_EVENT = pygame.USEREVENT + 1


def post(report: WorkerReport | CardPresence | ServiceStatus) -> None:
    """Called from worker threads; SDL's event queue is safe to push to from any thread."""
    pygame.event.post(pygame.event.Event(KIOSK_EVENT, report=report))
