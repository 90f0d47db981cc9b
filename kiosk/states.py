"""The kiosk's state graph, declared in one place as a table.

States decide; screens draw. Only the main thread calls `Machine.handle` and
`Machine.tick`; device work is asked of the worker and comes back as events.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from enum import Enum
from typing import Callable, Protocol

from kiosk.events import (Authenticated, CardPresence, CardProblem, CardReady, PinWrong, Printed, PrintProblem,
                          ServiceProblem, Tap, WorkerReport)
from municipal.protocol import DocumentOffer, DocumentOptions

log = logging.getLogger("kiosk.states")

PIN_LENGTH = 4
MAX_COPIES = 5


class State(Enum):
    WELCOME = "welcome"
    PLACE_CARD = "place_card"
    PIN = "pin"
    CHECKING = "checking"
    CHOOSE_DOCUMENT = "choose_document"
    CONFIRM = "confirm"
    PRINTING = "printing"
    DONE = "done"
    PROBLEM = "problem"


# While the kiosk waits on a device or the center, the resident is not expected to
# touch anything; the worker's own time limits end those states.
NO_INACTIVITY_LIMIT = {State.WELCOME, State.CHECKING, State.PRINTING}


class Worker(Protocol):
    def begin_visit(self, visit: int) -> None: ...
    def open_card(self, visit: int) -> None: ...
    def end_visit(self) -> None: ...
    def authenticate(self, visit: int, pin: bytearray) -> None: ...
    def quote_fee(self, visit: int, fee_yen: int) -> None:
        """Answer FeeQuoted: what the machine takes for this fee, given its change."""
    def request_and_pay(self, visit: int, document_type: str, options: DocumentOptions, copies: int) -> None:
        """Issue, check the binding, take the fee, print, confirm. Reports PaymentOpened,
        PaymentProgress..., then PrintProgress... and Printed; or PaymentCancelled,
        PaymentProblem, PrintProblem, ServiceProblem. Every paid step is journaled."""
    def cancel_payment(self, visit: int) -> None:
        """Called from the main thread while a payment is open: stop, refund, void."""


@dataclass
class Visit:
    """Everything about the current resident. Replaced whole when the visit ends."""

    number: int = 0
    pin: bytearray = field(default_factory=bytearray)
    tries_left: int | None = None
    pin_was_wrong: bool = False
    documents: tuple[DocumentOffer, ...] = ()
    document: DocumentOffer | None = None
    copies: int = 1
    problem: str | None = None
    printed_pages: int = 0

    def wipe(self) -> None:
        self.pin[:] = bytes(len(self.pin))
        self.pin.clear()


class Machine:
    def __init__(self, worker: Worker, *, language: str, inactivity_timeout_s: float, now: float):
        self.worker = worker
        self.language = language
        self.default_language = language
        self.inactivity_timeout_s = inactivity_timeout_s
        self.state = State.WELCOME
        self.visit = Visit()
        self.last_input_at = now
        self.completed_visits = 0
        self.card_present = False  # as the card monitor last reported
        self.reader_lost = False
        self._visits_started = 0

    # --- entry points ------------------------------------------------------------

    def handle(self, event: Tap | WorkerReport | CardPresence, now: float) -> None:
        if isinstance(event, WorkerReport) and event.visit != self.visit.number:
            return  # a report from a visit that already ended
        if isinstance(event, CardPresence):
            self.card_present, self.reader_lost = event.present, event.reader_lost
        if isinstance(event, Tap):
            self.last_input_at = now
            if event.action.startswith("lang:"):
                self.language = event.action.split(":", 1)[1]
                return
        handler = TRANSITIONS.get((self.state, type(event)))
        if handler is None:
            return
        new_state = handler(self, event)
        if new_state is not None and new_state is not self.state:
            log.info("state %s -> %s", self.state.value, new_state.value)
            self.state = new_state
            self.last_input_at = now

    def tick(self, now: float) -> None:
        """Called every frame: the inactivity limit of the current screen."""
        if self.state in NO_INACTIVITY_LIMIT:
            return
        if now - self.last_input_at >= self.inactivity_timeout_s:
            log.info("inactivity timeout in %s", self.state.value)
            self._end_visit()
            self.state = State.WELCOME

    # --- helpers used by the transitions -----------------------------------------

    def _start_visit(self) -> State:
        self._visits_started += 1
        self.visit = Visit(number=self._visits_started)
        self.worker.begin_visit(self.visit.number)
        if self.reader_lost:
            return self._problem("reader")
        if self.card_present:  # placed before Start was touched
            self.worker.open_card(self.visit.number)
        return State.PLACE_CARD

    def _end_visit(self) -> State:
        self.visit.wipe()
        self.visit = Visit()
        self.worker.end_visit()
        self.language = self.default_language
        return State.WELCOME

    def _problem(self, code: str) -> State:
        self.visit.wipe()  # nothing typed survives a problem
        self.visit.problem = code
        log.info("problem shown code=%s", code)
        return State.PROBLEM


# --- transitions: (state, event type) -> what happens -----------------------------

def _welcome_tap(m: Machine, tap: Tap) -> State | None:
    return m._start_visit() if tap.action == "start" else None


def _place_card_tap(m: Machine, tap: Tap) -> State | None:
    return m._end_visit() if tap.action == "cancel" else None


def _card_placed(m: Machine, ev: CardPresence) -> State | None:
    if ev.reader_lost:
        return m._problem("reader")
    if ev.present:
        m.worker.open_card(m.visit.number)
    return None


def _card_taken_away(m: Machine, ev: CardPresence) -> State | None:
    """The card left while the resident still needed it: nothing more can be done."""
    if ev.present:
        return None
    return m._problem("reader" if ev.reader_lost else "card_removed")


def _card_taken_after_printing(m: Machine, ev: CardPresence) -> State | None:
    return None if ev.present else m._end_visit()


def _card_ready(m: Machine, ev: CardReady) -> State:
    m.visit.tries_left = ev.tries_left
    return State.PIN


def _card_problem(m: Machine, ev: CardProblem) -> State:
    if ev.code == "pin_blocked":
        m.visit.tries_left = 0
    return m._problem(ev.code)


def _pin_tap(m: Machine, tap: Tap) -> State | None:
    pin = m.visit.pin
    if tap.action.startswith("digit:") and len(pin) < PIN_LENGTH:
        pin.append(ord(tap.action[-1]))
    elif tap.action == "clear":
        m.visit.wipe()
    elif tap.action == "ok" and len(pin) == PIN_LENGTH:
        m.worker.authenticate(m.visit.number, pin)
        m.visit.wipe()
        return State.CHECKING
    elif tap.action == "cancel":
        return m._end_visit()
    return None


def _pin_wrong(m: Machine, ev: PinWrong) -> State:
    m.visit.tries_left = ev.tries_left
    m.visit.pin_was_wrong = True
    return State.PIN if ev.tries_left > 0 else m._problem("pin_blocked")


def _authenticated(m: Machine, ev: Authenticated) -> State:
    m.visit.documents = ev.documents
    return State.CHOOSE_DOCUMENT if ev.documents else m._problem("no_documents")


def _service_problem(m: Machine, ev: ServiceProblem | PrintProblem) -> State:
    return m._problem(ev.code)


def _choose_tap(m: Machine, tap: Tap) -> State | None:
    if tap.action.startswith("doc:"):
        wanted = tap.action.split(":", 1)[1]
        m.visit.document = next((d for d in m.visit.documents if d.type == wanted), None)
        m.visit.copies = 1
        return State.CONFIRM if m.visit.document else None
    return m._end_visit() if tap.action == "cancel" else None


def _confirm_tap(m: Machine, tap: Tap) -> State | None:
    if tap.action == "copies+":
        m.visit.copies = min(MAX_COPIES, m.visit.copies + 1)
    elif tap.action == "copies-":
        m.visit.copies = max(1, m.visit.copies - 1)
    elif tap.action == "back":
        return State.CHOOSE_DOCUMENT
    elif tap.action == "print":
        m.worker.issue_and_print(m.visit.number, m.visit.document.type, m.visit.copies)
        return State.PRINTING
    elif tap.action == "cancel":
        return m._end_visit()
    return None


def _printed(m: Machine, ev: Printed) -> State:
    m.visit.printed_pages = ev.pages * ev.copies
    m.completed_visits += 1
    return State.DONE


def _finish_tap(m: Machine, tap: Tap) -> State | None:
    return m._end_visit() if tap.action in ("finish", "ok") else None


Transition = Callable[[Machine, object], "State | None"]

TRANSITIONS: dict[tuple[State, type], Transition] = {
    (State.WELCOME, Tap): _welcome_tap,
    (State.PLACE_CARD, Tap): _place_card_tap,
    (State.PLACE_CARD, CardPresence): _card_placed,
    (State.PLACE_CARD, CardReady): _card_ready,
    (State.PLACE_CARD, CardProblem): _card_problem,
    (State.PIN, Tap): _pin_tap,
    (State.PIN, CardPresence): _card_taken_away,
    (State.CHECKING, CardPresence): _card_taken_away,
    (State.CHOOSE_DOCUMENT, CardPresence): _card_taken_away,
    (State.CONFIRM, CardPresence): _card_taken_away,
    (State.CHECKING, PinWrong): _pin_wrong,
    (State.CHECKING, CardProblem): _card_problem,
    (State.CHECKING, Authenticated): _authenticated,
    (State.CHECKING, ServiceProblem): _service_problem,
    (State.CHOOSE_DOCUMENT, Tap): _choose_tap,
    (State.CONFIRM, Tap): _confirm_tap,
    (State.PRINTING, Printed): _printed,
    (State.PRINTING, PrintProblem): _service_problem,
    (State.PRINTING, ServiceProblem): _service_problem,
    (State.DONE, Tap): _finish_tap,
    (State.DONE, CardPresence): _card_taken_after_printing,
    (State.PROBLEM, Tap): _finish_tap,
}


def _check_graph() -> None:
    """Every state must have a way out, so no resident is ever stuck."""
    with_exit = {state for state, _ in TRANSITIONS}
    stuck = set(State) - with_exit
    if stuck:
        raise AssertionError(f"states without a transition: {stuck}")


_check_graph()
