"""Drives the real UI as a resident's finger would: it reads the buttons on screen
and posts touch events at their centres. It saves one screenshot per screen shown
and a transcript of every screen's text (transcript.jsonl) for tests to read.

Its outcome names how the visit ended: "printed", "problem:<code>" (the problem
screen shown), "not_offered:<code>" (the document wanted was not on the list; the
center's reason), "closed" (the service was closed), "cancelled", "stopped" or "gave_up"."""
from __future__ import annotations

import json
import logging
from pathlib import Path

import pygame

from devices.payment.cash import COINS, NOTES
from kiosk.screens import Button, View
from kiosk.states import Machine

log = logging.getLogger("kiosk.autopilot")

STEP_S = 0.15  # between two taps in a window, so a person watching can follow
GIVE_UP_S = 90.0


class Hand:
    """What a resident does besides touching the screen, on simulated devices: coins
    into the acceptor, the card off the reader. Either may be missing (real devices)."""

    def __init__(self, payment=None, card=None):
        self._bus = getattr(payment, "bus", None)  # the simulated acceptor's controls
        self._card = card  # an in-process transport, which can be "pulled"

    def can_pay(self) -> bool:
        return self._bus is not None

    def pay(self, due: int, credited: int) -> int:
        """Inserts one coin or note towards what is still due, the largest that fits.
        Returns its value, or 0 if the acceptor refused it."""
        left = due - credited
        if left >= NOTES[0] and self._bus.insert_note(NOTES[0]):
            return NOTES[0]
        coin = next(c for c in sorted(COINS, reverse=True) if c <= max(left, min(COINS)))
        return coin if self._bus.insert_coin(coin) else 0

    # The demo's keyboard, for a person at a window: coins and notes, the card on and off.
    KEYS = {"1": 10, "2": 50, "3": 100, "4": 500, "5": 1000}

    def key(self, char: str) -> None:
        if char in self.KEYS and self._bus is not None:
            value = self.KEYS[char]
            if value in NOTES:
                self._bus.insert_note(value)
            else:
                self._bus.insert_coin(value)
        elif char == "c" and self.can_pull_card():
            if self._card.card_present():
                self._card.remove()
            else:
                self._card.insert()

    def can_pull_card(self) -> bool:
        return self._card is not None and hasattr(self._card, "remove")

    def pull_card(self) -> None:
        if self._card.card_present():
            self._card.remove()


class Autopilot:
    def __init__(self, pin: str, out_dir: Path, documents: tuple[str, ...] = ("residence_record",),
                 hand: Hand | None = None, cancel_payment: bool = False, watched: bool = True):
        """`watched`: in a window, taps come STEP_S apart; headless, as soon as the
        screen they act on is drawn (every step waits for a screen, never for time)."""
        self.pin = pin
        self.out_dir = Path(out_dir)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self.documents = list(documents)
        self.hand = hand or Hand()
        self.cancel_payment = cancel_payment
        self.outcome: str | None = None  # as the module's docstring says
        self._seen: set[tuple] = set()
        self._shots = 0
        self._step_s = STEP_S if watched else 0.0
        self._next_step_at = 0.0
        self._inserted = 0  # money put into the current payment; the next coin waits for its credit
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
        self._next_step_at = now + self._step_s
        return False

    def _decide(self, view: View, machine: Machine) -> str | None:
        name = view.name
        v = machine.visit
        if name == "closed":  # outside the service window: no card is taken, so no visit
            self.outcome = "closed"
            return "stop"
        if name == "welcome":
            if self._left_welcome:
                self.outcome = self.outcome or ("printed" if machine.completed_visits else "stopped")
                return "stop"
            self._left_welcome = True
            return "start"
        if name == "pin":
            if not self._typing:
                self._typing = [f"digit:{d}" for d in self.pin] + ["ok"]
            return self._typing.pop(0)
        if name == "choose_document":
            return self._choose(view, machine)
        if name == "members":
            # Every page of the household is looked at (and shot), then everyone is listed.
            return "page:next" if _has(view, "page:next") else ("next" if self._all_ticked(machine) else "all")
        if name in ("options", "copies"):
            return "next"
        if name == "fee":
            if not _has(view, "pay"):
                return None
            self._inserted = 0
            return "pay"
        if name == "paying":
            if self.cancel_payment and v.credited:
                return "cancel"
            if self.hand.can_pay() and self._inserted <= v.credited < v.due:
                self._inserted = v.credited + self.hand.pay(v.due, v.credited)
            return None
        if name == "more":
            self.documents.pop(0)
            self.outcome = "printed"
            return "another" if self.documents and _has(view, "another") else "finish"
        if name == "take_card":
            if not self.hand.can_pull_card():
                return "stop"  # a real reader: the card stays until a person takes it
            self.hand.pull_card()
            return None
        if name == "take_documents":
            return "ok"
        if name == "cancelled":
            self.outcome = "cancelled"
            return "ok"
        if name.startswith("problem-"):
            self.outcome = f"problem:{name.removeprefix('problem-')}"
            return "ok"
        return None  # waiting on the card, the center or the printer

    def _choose(self, view: View, machine: Machine) -> str:
        wanted = self.documents[0]
        if _has(view, f"doc:{wanted}"):
            return f"doc:{wanted}"
        if _has(view, "page:next"):
            return "page:next"
        offer = next((d for d in machine.visit.documents if d.type == wanted), None)
        self.outcome = f"not_offered:{offer.refusal if offer and offer.refusal else 'document_not_offered'}"
        return "cancel"

    @staticmethod
    def _all_ticked(machine: Machine) -> bool:
        v = machine.visit
        return v.members == {m.id for m in v.document.members}

    def _tap(self, action: str, targets: list[tuple[Button, pygame.Rect]]) -> None:
        rect = next((r for b, r in targets if b.action == action), None)
        if rect is None:
            log.warning("no button %s on screen", action)
            return
        for kind in (pygame.MOUSEBUTTONDOWN, pygame.MOUSEBUTTONUP):
            pygame.event.post(pygame.event.Event(kind, pos=rect.center, button=1))

    def _record(self, view: View, surface: pygame.Surface) -> None:
        # A page of a list (its buttons) is a screen of its own.
        key = (view.name, view.title, tuple(view.lines), view.warning, tuple(b.label for b in view.buttons))
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


def _has(view: View, action: str) -> bool:
    return any(b.action == action for b in view.buttons)
