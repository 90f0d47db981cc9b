"""Drives the real UI as a resident's finger would: it reads the buttons on screen
and posts touch events at their centres. It saves one screenshot per screen shown
and a transcript of every screen's text (transcript.jsonl) for tests to read."""
from __future__ import annotations

import json
import logging
from pathlib import Path

import pygame

from kiosk.screens import Button, View
from kiosk.states import Machine

log = logging.getLogger("kiosk.autopilot")

STEP_S = 0.15  # between two taps, so every screen is drawn before it is left
GIVE_UP_S = 90.0


class Autopilot:
    def __init__(self, pin: str, out_dir: Path, document_type: str = "residence_record"):
        self.pin = pin
        self.out_dir = Path(out_dir)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self.document_type = document_type
        self.outcome: str | None = None  # "printed", or "problem:<code>", or "gave_up"
        self._seen: set[tuple] = set()
        self._shots = 0
        self._next_step_at = 0.0
        self._started_at: float | None = None
        self._typing: list[str] = []
        self._left_welcome = False

    def after_frame(self, view: View, targets: list[tuple[Button, pygame.Rect]],
                    surface: pygame.Surface, machine: Machine, now: float) -> bool:
        self._started_at = self._started_at if self._started_at is not None else now
        self._record(view, surface)
        if now - self._started_at > GIVE_UP_S:
            self.outcome = "gave_up"
            return True
        if now < self._next_step_at:
            return False
        action = self._decide(view, machine)
        if action == "stop":
            return True
        if action is not None:
            self._tap(action, targets)
            self._next_step_at = now + STEP_S
        return False

    def _decide(self, view: View, machine: Machine) -> str | None:
        name = view.name
        if name == "welcome":
            if machine.completed_visits:
                self.outcome = "printed"
                return "stop"
            if self._left_welcome:
                return "stop"
            self._left_welcome = True
            return "start"
        if name == "pin":
            if not self._typing:
                self._typing = [f"digit:{d}" for d in self.pin] + ["ok"]
            return self._typing.pop(0)
        if name == "choose_document":
            return f"doc:{self.document_type}"
        if name == "confirm":
            return "print"
        if name == "done":
            return "finish"
        if name.startswith("problem-"):
            self.outcome = f"problem:{name.removeprefix('problem-')}"
            return "ok"
        return None  # waiting on the card, the center or the printer

    def _tap(self, action: str, targets: list[tuple[Button, pygame.Rect]]) -> None:
        rect = next((r for b, r in targets if b.action == action), None)
        if rect is None:
            log.warning("no button %s on screen", action)
            return
        for kind in (pygame.MOUSEBUTTONDOWN, pygame.MOUSEBUTTONUP):
            pygame.event.post(pygame.event.Event(kind, pos=rect.center, button=1))

    def _record(self, view: View, surface: pygame.Surface) -> None:
        key = (view.name, view.title, tuple(view.lines), view.warning)
        if key in self._seen:
            return
        self._seen.add(key)
        self._shots += 1
        shot = self.out_dir / f"{self._shots:02d}-{view.name}.png"
        pygame.image.save(surface, str(shot))
        entry = {"screen": view.name, "title": view.title, "lines": view.lines, "warning": view.warning,
                 "buttons": [b.label for b in view.buttons], "screenshot": shot.name}
        with open(self.out_dir / "transcript.jsonl", "a", encoding="utf-8") as f:
            f.write(json.dumps(entry, ensure_ascii=False) + "\n")
