"""The kiosk's state graph, declared in one place as a table.

Each row says what an event does in a state and which states it may lead to; the
passing of time (`Tick`) and the recovery from a bug (`Recover`) are rows like any
other. At import the table is checked: every state is reachable from the welcome
screen and can get back to it. At run time a handler that leads anywhere it did not
declare is a bug, and ends on the problem screen.

States decide; screens draw. Only the main thread calls `Machine.handle`,
`Machine.tick` and `Machine.recover`; device work is asked of the worker and comes
back as events.
"""
from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from enum import Enum
from typing import Callable, Protocol

from contract import service_window
from contract.issuance import DocumentOffer, DocumentOptions
from devices.card import card_commands
from kiosk.clock import WallClock
from kiosk.graph_check import graph_gaps
from kiosk.events import (Authenticated, CardPresence, CardProblem, CardReady, FeeQuoted, PaymentCancelled,
                          PaymentOpened, PaymentProblem, PaymentProgress, PinWrong, Printed, PrinterWaiting,
                          PrintProblem, PrintProgress, ServiceProblem, ServiceStatus, Tap, WorkerReport)

log = logging.getLogger("kiosk.states")

PIN_LENGTH = 4
MAX_COPIES = 5
TILES_PER_PAGE = 4  # choice and check tiles on one screen; more go on further pages
MORE_TIME_PROMPT_S = 15.0  # "need more time?" shows this long before a screen's limit
# Further documents without a new PIN while the center's session lasts (600 s there).
MORE_DOCUMENTS_WINDOW_S = 540.0
LEAVE_S = 10.0  # "take your certificate" stays this long, then welcome
CHIME_EVERY_S = 6.0  # the take-your-card chime repeats until the card is gone


class State(Enum):
    WELCOME = "welcome"
    PLACE_CARD = "place_card"
    PIN = "pin"
    CHECKING = "checking"
    CHOOSE_DOCUMENT = "choose_document"
    MEMBERS = "members"  # whom a 住民票 lists
    OPTIONS = "options"  # what it shows
    COPIES = "copies"
    FEE = "fee"  # the total and what the machine takes
    PREPARING = "preparing"  # the center issues it, the kiosk checks it is this card's
    PAYING = "paying"
    REFUNDING = "refunding"
    PRINTING = "printing"
    MORE = "more"  # printed: another document, or finish
    TAKE_CARD = "take_card"
    TAKE_DOCUMENTS = "take_documents"
    CANCELLED = "cancelled"
    PROBLEM = "problem"


# The resident is not expected to touch anything here: the worker or the card ends them.
NO_INACTIVITY_LIMIT = {State.WELCOME, State.CHECKING, State.PREPARING, State.REFUNDING, State.PRINTING,
                       State.TAKE_CARD, State.TAKE_DOCUMENTS}
# Money or paper is on the move: the visit must not end under it, whatever the card does.
MONEY_STATES = {State.PREPARING, State.PAYING, State.REFUNDING, State.PRINTING}
# Once the first document is out, taking the card away is how a resident leaves.
CHOOSING_STATES = {State.CHOOSE_DOCUMENT, State.MEMBERS, State.OPTIONS, State.COPIES, State.FEE}


@dataclass(frozen=True)
class Tick:
    """Time passes (every frame): inactivity limits, leaving screens, the service window."""


@dataclass(frozen=True)
class Recover:
    """A frame failed with a bug: the resident needs a screen with a way out."""


TICK, RECOVER = Tick(), Recover()


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
    authenticated_at: float | None = None
    page: int = 0  # of the tiles on a choosing screen
    # the document being chosen
    document: DocumentOffer | None = None
    members: set[str] = field(default_factory=set)
    include: set[str] = field(default_factory=set)
    copies: int = 1
    quote: FeeQuoted | None = None
    # the payment and print of it
    due: int = 0
    credited: int = 0
    sheets: tuple[int, int] = (0, 0)
    printer_waiting: str | None = None  # why printing stopped until staff fix it
    change: int = 0
    refunded: int = 0
    owed: int = 0
    printed_documents: int = 0
    problem: str | None = None
    hours: str | None = None  # when the service opens, with service_closed

    def wipe(self) -> None:
        card_commands.wipe(self.pin)
        self.pin.clear()

    @property
    def fee(self) -> int:
        return self.document.fee_yen * self.copies if self.document else 0

    def options(self) -> DocumentOptions:
        doc = self.document
        everyone = {m.id for m in doc.members}
        members = None if not doc.members or self.members == everyone else tuple(self.members)
        return DocumentOptions(members=members, include=tuple(self.include))


@dataclass(frozen=True)
class Closed:
    """The national service window is shut: when it opens, and how many days from today."""

    opens: dt.datetime
    days_away: int


class Machine:
    def __init__(self, worker: Worker, *, language: str, inactivity_timeout_s: float, now: float,
                 clock: WallClock = WallClock.real()):
        """`now` is the frame loop's monotonic time; `clock` the wall clock in Japan time
        (real by default; the demo plays one) that the service window is read on."""
        self.worker = worker
        self.clock = clock
        self.language = language
        self.default_language = language
        self.inactivity_timeout_s = inactivity_timeout_s
        self.state = State.WELCOME
        self.visit = Visit()
        self.last_input_at = now
        self.entered_at = now  # when the current state began (chimes, leaving screens)
        self.completed_visits = 0
        self.visits_started = 0
        self.card_present = False  # as the card monitor last reported
        self.reader_lost = False
        self.out_of_service: str | None = None  # set by staff in maintenance mode
        self.center_reachable = True  # as the service watch last reported
        self.closed: Closed | None = None  # outside the national service window
        self.language_menu = False
        self.large_text = False
        self.high_contrast = False
        self.prompting = False  # "need more time?" is on screen
        self.leaving_with_documents = False  # the visit ended with paper in the tray
        self.check_window()

    # --- entry points ------------------------------------------------------------

    def handle(self, event: Tap | WorkerReport | CardPresence | ServiceStatus, now: float) -> None:
        if isinstance(event, WorkerReport) and event.visit != self.visit.number:
            return  # a report from a visit that already ended
        if isinstance(event, ServiceStatus):
            self.center_reachable = event.reachable
            return  # a visit under way finds out by itself, and no fee is taken
        if isinstance(event, CardPresence):
            self.card_present, self.reader_lost = event.present, event.reader_lost
        if isinstance(event, Tap):
            self.last_input_at = now
            if self._display_tap(event.action):
                return
        self._dispatch(event, now)

    def tick(self, now: float) -> None:
        """Called every frame: time limits of the current screen, and the service window."""
        self._dispatch(TICK, now)

    def recover(self, now: float) -> None:
        """After a bug in a frame: the resident gets the "something went wrong" screen and
        a way out. Money and paper on the move are left to the worker, which reports."""
        self._dispatch(RECOVER, now)

    def set_out_of_service(self, reason: str | None) -> None:
        """Staff take the kiosk out of service (a reason) or put it back (None). A visit
        under way finishes; the welcome screen then takes no card."""
        if reason != self.out_of_service:
            log.info("out of service: %s", reason or "no (back in service)")
        self.out_of_service = reason

    @property
    def in_service(self) -> bool:
        return self.out_of_service is None and self.center_reachable

    def more_documents_allowed(self, now: float) -> bool:
        started = self.visit.authenticated_at
        return started is not None and now - started < MORE_DOCUMENTS_WINDOW_S

    def check_window(self) -> bool:
        """Reads the wall clock against the national service window; True if open."""
        wall = self.clock.now()
        if service_window.is_open(wall):
            self.closed = None
        else:
            opens = service_window.next_opening(wall)
            self.closed = Closed(opens, (opens.date() - wall.date()).days)
        return self.closed is None

    # --- the table at work --------------------------------------------------------

    def _dispatch(self, event: object, now: float) -> None:
        row = TRANSITIONS.get((self.state, type(event)))
        if row is None:
            return
        new_state = row.handler(self, event, now)
        if new_state is None or new_state is self.state:
            return
        if new_state not in row.targets:
            log.error("bug: %s in %s led to undeclared %s", type(event).__name__, self.state.value,
                      new_state.value)
            new_state = self._problem("internal_error")
        self._enter(new_state, now)

    def _enter(self, state: State, now: float) -> None:
        log.info("state %s -> %s", self.state.value, state.value)
        self.state = state
        self.last_input_at = self.entered_at = now
        self.prompting = self.language_menu = False
        if state is State.WELCOME:
            self.check_window()  # the next resident must not see a stale "open"

    # --- helpers used by the transitions -----------------------------------------

    def _display_tap(self, action: str) -> bool:
        """Language and display taps work on every screen and change nothing else."""
        if self.prompting:
            if action == "more_time":
                self.prompting = False
                return True
            return action != "end_now"  # behind the prompt, only its buttons count
        if action == "lang:menu":
            self.language_menu = not self.language_menu
        elif action.startswith("lang:"):
            self.language = action.split(":", 1)[1]
            self.language_menu = False
        elif action == "a11y:text":
            self.large_text = not self.large_text
        elif action == "a11y:contrast":
            self.high_contrast = not self.high_contrast
        else:
            return False
        return True

    def _idle_expired(self, now: float) -> bool:
        """Raises "need more time?" near the screen's limit; True once the limit passed."""
        idle = now - self.last_input_at
        self.prompting = idle >= self.inactivity_timeout_s - MORE_TIME_PROMPT_S
        if idle >= self.inactivity_timeout_s:
            log.info("inactivity timeout in %s", self.state.value)
            return True
        return False

    def _leave(self) -> State:
        """The resident is done: wipe the visit, then make sure the card and any paper
        go home with them."""
        self.leaving_with_documents = self.visit.printed_documents > 0
        self._end_visit()
        if self.card_present:
            return State.TAKE_CARD
        return State.TAKE_DOCUMENTS if self.leaving_with_documents else State.WELCOME

    def _start_visit(self) -> State:
        self.visits_started += 1
        self.visit = Visit(number=self.visits_started)
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
        self.large_text = self.high_contrast = False
        return State.WELCOME

    def _problem(self, code: str, refunded: int = 0, owed: int = 0, hours: str | None = None) -> State:
        self.visit.wipe()  # nothing typed survives a problem
        self.visit.problem, self.visit.hours = code, hours
        self.visit.refunded, self.visit.owed = refunded, owed
        log.info("problem shown code=%s refunded=%d owed=%d", code, refunded, owed)
        return State.PROBLEM


# --- transitions: what an event does in a state; each returns the next state or None --

def _welcome_tap(m: Machine, tap: Tap, now: float) -> State | None:
    """No card is taken outside the service window, out of service or without the center."""
    if tap.action != "start" or not m.in_service or not m.check_window():
        return None
    return m._start_visit()


def _window_tick(m: Machine, _tick: Tick, now: float) -> None:
    m.check_window()  # the welcome screen follows the window by itself; a visit under way goes on


def _cancel_tap(m: Machine, tap: Tap, now: float) -> State | None:
    return m._leave() if tap.action in ("cancel", "end_now") else None


def _inactivity_tick(m: Machine, _tick: Tick, now: float) -> State | None:
    return m._leave() if m._idle_expired(now) else None


def _paying_tick(m: Machine, _tick: Tick, now: float) -> State | None:
    """A payment left unattended is cancelled and refunded, never kept."""
    if m.visit.credited >= m.visit.due:
        return None  # paid: printing starts, nothing to cancel
    if not m._idle_expired(now):
        return None
    m.worker.cancel_payment(m.visit.number)
    return State.REFUNDING


def _leaving_tick(m: Machine, _tick: Tick, now: float) -> State | None:
    return m._end_visit() if now - m.entered_at >= LEAVE_S else None


def _recover(m: Machine, _recover: Recover, now: float) -> State:
    m.prompting = m.language_menu = False  # a bug in an overlay must not come back with it
    return m._problem("internal_error")


def _card_placed(m: Machine, ev: CardPresence, now: float) -> State | None:
    if ev.reader_lost:
        return m._problem("reader")
    if ev.present:
        m.worker.open_card(m.visit.number)
    return None


def _card_taken_away(m: Machine, ev: CardPresence, now: float) -> State | None:
    """The card left while the resident still needed it: nothing more can be done."""
    if ev.present:
        return None
    if m.state in CHOOSING_STATES and m.visit.printed_documents:
        return m._leave()  # leaving after a first document: no more to choose
    return m._problem("reader" if ev.reader_lost else "card_removed")


def _card_gone(m: Machine, ev: CardPresence, now: float) -> State | None:
    if ev.present:
        return None
    return State.TAKE_DOCUMENTS if m.leaving_with_documents else State.WELCOME


def _card_ready(m: Machine, ev: CardReady, now: float) -> State:
    m.visit.tries_left = ev.tries_left
    return State.PIN


def _card_problem(m: Machine, ev: CardProblem, now: float) -> State:
    if ev.code == "pin_blocked":
        m.visit.tries_left = 0
    return m._problem(ev.code)


def _pin_tap(m: Machine, tap: Tap, now: float) -> State | None:
    pin = m.visit.pin
    if tap.action.startswith("digit:") and len(pin) < PIN_LENGTH:
        pin.append(ord(tap.action[-1]))
    elif tap.action == "clear":
        m.visit.wipe()
    elif tap.action == "ok" and len(pin) == PIN_LENGTH:
        m.worker.authenticate(m.visit.number, pin)
        m.visit.wipe()
        return State.CHECKING
    return _cancel_tap(m, tap, now)


def _pin_wrong(m: Machine, ev: PinWrong, now: float) -> State:
    m.visit.tries_left = ev.tries_left
    m.visit.pin_was_wrong = True
    return State.PIN if ev.tries_left > 0 else m._problem("pin_blocked")


def _authenticated(m: Machine, ev: Authenticated, now: float) -> State:
    """The offers may include documents not available now; if none is, say why."""
    m.visit.documents = ev.documents
    m.visit.authenticated_at = m.entered_at  # the PIN went out then: the center's session is younger
    if any(d.available for d in ev.documents):
        return State.CHOOSE_DOCUMENT
    if not ev.documents:
        return m._problem("no_documents")
    first = ev.documents[0]
    closed = first.refusal == "service_closed"  # hours only where coming back later helps
    return m._problem(first.refusal or "no_documents", hours=first.opening_hours if closed else None)


def _service_problem(m: Machine, ev: ServiceProblem, now: float) -> State:
    return m._problem(ev.code, hours=ev.hours)


def _page_tap(m: Machine, tap: Tap) -> bool:
    if tap.action == "page:next":
        m.visit.page += 1
    elif tap.action == "page:prev":
        m.visit.page = max(0, m.visit.page - 1)
    else:
        return False
    return True


def _choose_tap(m: Machine, tap: Tap, now: float) -> State | None:
    v = m.visit
    if _page_tap(m, tap):
        return None
    if tap.action.startswith("doc:"):
        wanted = tap.action.split(":", 1)[1]
        v.document = next((d for d in v.documents if d.type == wanted and d.available), None)
        if v.document is None:
            return None
        v.members = {mem.id for mem in v.document.members if mem.is_cardholder}
        v.include, v.copies, v.quote, v.page = set(), 1, None, 0
        if len(v.document.members) > 1:
            return State.MEMBERS
        return State.OPTIONS if v.document.options else State.COPIES
    return _cancel_tap(m, tap, now)


def _members_tap(m: Machine, tap: Tap, now: float) -> State | None:
    v = m.visit
    if _page_tap(m, tap):
        return None
    if tap.action.startswith("member:"):
        v.members ^= {tap.action.split(":", 1)[1]}
    elif tap.action == "all":
        v.members = {mem.id for mem in v.document.members}
    elif tap.action == "next" and v.members:
        v.page = 0
        return State.OPTIONS if v.document.options else State.COPIES
    elif tap.action == "back":
        v.page = 0
        return State.CHOOSE_DOCUMENT
    return _cancel_tap(m, tap, now)


def _options_tap(m: Machine, tap: Tap, now: float) -> State | None:
    v = m.visit
    if _page_tap(m, tap):
        return None
    if tap.action.startswith("option:"):
        v.include ^= {tap.action.split(":", 1)[1]}
    elif tap.action == "next":
        return State.COPIES
    elif tap.action == "back":
        v.page = 0
        return State.MEMBERS if len(v.document.members) > 1 else State.CHOOSE_DOCUMENT
    return _cancel_tap(m, tap, now)


def _copies_tap(m: Machine, tap: Tap, now: float) -> State | None:
    v = m.visit
    if tap.action == "copies+":
        v.copies = min(MAX_COPIES, v.document.max_copies, v.copies + 1)
    elif tap.action == "copies-":
        v.copies = max(1, v.copies - 1)
    elif tap.action == "next":
        v.quote = None
        m.worker.quote_fee(v.number, v.fee)
        return State.FEE
    elif tap.action == "back":
        if v.document.options:
            return State.OPTIONS
        return State.MEMBERS if len(v.document.members) > 1 else State.CHOOSE_DOCUMENT
    return _cancel_tap(m, tap, now)


def _fee_quoted(m: Machine, ev: FeeQuoted, now: float) -> None:
    m.visit.quote = ev


def _fee_tap(m: Machine, tap: Tap, now: float) -> State | None:
    v = m.visit
    if tap.action == "pay" and v.quote is not None:
        v.due, v.credited = v.fee, 0
        m.worker.request_and_pay(v.number, v.document.type, v.options(), v.copies)
        return State.PREPARING
    if tap.action == "back":
        return State.COPIES
    return _cancel_tap(m, tap, now)


def _payment_opened(m: Machine, ev: PaymentOpened, now: float) -> State:
    m.visit.due, m.visit.credited = ev.due, 0
    return State.PAYING


def _payment_progress(m: Machine, ev: PaymentProgress, now: float) -> None:
    m.visit.credited, m.visit.due = ev.credited, ev.due


def _paying_tap(m: Machine, tap: Tap, now: float) -> State | None:
    if tap.action in ("cancel", "end_now") and m.visit.credited < m.visit.due:
        m.worker.cancel_payment(m.visit.number)
        return State.REFUNDING
    return None


def _payment_cancelled(m: Machine, ev: PaymentCancelled, now: float) -> State:
    m.visit.refunded, m.visit.owed = ev.refunded, ev.owed
    return State.CANCELLED


def _money_problem(m: Machine, ev: PaymentProblem | PrintProblem, now: float) -> State:
    return m._problem(ev.code, ev.refunded, ev.owed)


def _print_progress(m: Machine, ev: PrintProgress, now: float) -> State:
    m.visit.sheets = (ev.sheet, ev.sheets)
    m.visit.printer_waiting = None
    return State.PRINTING


def _printer_waiting(m: Machine, ev: PrinterWaiting, now: float) -> None:
    m.visit.printer_waiting = ev.code


def _printed(m: Machine, ev: Printed, now: float) -> State:
    v = m.visit
    v.change, v.owed = ev.change, ev.owed
    v.printed_documents += 1
    v.sheets = (v.sheets[1] or ev.pages * ev.copies,) * 2
    m.completed_visits += 1
    return State.MORE


def _more_tap(m: Machine, tap: Tap, now: float) -> State | None:
    v = m.visit
    if tap.action == "another" and m.more_documents_allowed(now):
        v.document, v.page, v.change, v.owed = None, 0, 0, 0
        return State.CHOOSE_DOCUMENT
    return m._leave() if tap.action in ("finish", "end_now") else None


def _more_card_gone(m: Machine, ev: CardPresence, now: float) -> State | None:
    return None if ev.present else m._leave()


def _back_to_start_tap(m: Machine, tap: Tap, now: float) -> State | None:
    return m._leave() if tap.action in ("ok", "end_now") else None


def _take_documents_tap(m: Machine, tap: Tap, now: float) -> State | None:
    return m._end_visit() if tap.action == "ok" else None


# --- the table ------------------------------------------------------------------

Handler = Callable[[Machine, object, float], "State | None"]


@dataclass(frozen=True)
class Row:
    """What an event does in a state, and every state it may lead to (staying is always allowed)."""

    handler: Handler
    targets: frozenset[State] = frozenset()


def row(handler: Handler, *targets: State | frozenset[State]) -> Row:
    states: set[State] = set()
    for target in targets:
        states |= target if isinstance(target, frozenset) else {target}
    return Row(handler, frozenset(states))


S = State
LEAVING = frozenset({S.TAKE_CARD, S.TAKE_DOCUMENTS, S.WELCOME})  # where `_leave` goes

TRANSITIONS: dict[tuple[State, type], Row] = {
    (S.WELCOME, Tap): row(_welcome_tap, S.PLACE_CARD, S.PROBLEM),
    (S.WELCOME, Tick): row(_window_tick),
    (S.PLACE_CARD, Tap): row(_cancel_tap, LEAVING),
    (S.PLACE_CARD, CardPresence): row(_card_placed, S.PROBLEM),
    (S.PLACE_CARD, CardReady): row(_card_ready, S.PIN),
    (S.PLACE_CARD, CardProblem): row(_card_problem, S.PROBLEM),
    (S.PIN, Tap): row(_pin_tap, S.CHECKING, LEAVING),
    (S.PIN, CardPresence): row(_card_taken_away, S.PROBLEM),
    (S.CHECKING, CardPresence): row(_card_taken_away, S.PROBLEM),
    (S.CHECKING, PinWrong): row(_pin_wrong, S.PIN, S.PROBLEM),
    (S.CHECKING, CardProblem): row(_card_problem, S.PROBLEM),
    (S.CHECKING, Authenticated): row(_authenticated, S.CHOOSE_DOCUMENT, S.PROBLEM),
    (S.CHECKING, ServiceProblem): row(_service_problem, S.PROBLEM),
    (S.CHOOSE_DOCUMENT, Tap): row(_choose_tap, S.MEMBERS, S.OPTIONS, S.COPIES, LEAVING),
    (S.MEMBERS, Tap): row(_members_tap, S.OPTIONS, S.COPIES, S.CHOOSE_DOCUMENT, LEAVING),
    (S.OPTIONS, Tap): row(_options_tap, S.COPIES, S.MEMBERS, S.CHOOSE_DOCUMENT, LEAVING),
    (S.COPIES, Tap): row(_copies_tap, S.FEE, S.OPTIONS, S.MEMBERS, S.CHOOSE_DOCUMENT, LEAVING),
    (S.FEE, Tap): row(_fee_tap, S.PREPARING, S.COPIES, LEAVING),
    (S.FEE, FeeQuoted): row(_fee_quoted),
    (S.FEE, PaymentProblem): row(_money_problem, S.PROBLEM),
    (S.PREPARING, PaymentOpened): row(_payment_opened, S.PAYING),
    (S.PREPARING, ServiceProblem): row(_service_problem, S.PROBLEM),
    (S.PREPARING, PrintProblem): row(_money_problem, S.PROBLEM),
    (S.PREPARING, PaymentProblem): row(_money_problem, S.PROBLEM),
    (S.PAYING, Tap): row(_paying_tap, S.REFUNDING),
    (S.PAYING, Tick): row(_paying_tick, S.REFUNDING),
    (S.PAYING, PaymentProgress): row(_payment_progress),
    (S.PAYING, PaymentCancelled): row(_payment_cancelled, S.CANCELLED),
    (S.PAYING, PaymentProblem): row(_money_problem, S.PROBLEM),
    (S.PAYING, PrintProgress): row(_print_progress, S.PRINTING),
    (S.PAYING, PrintProblem): row(_money_problem, S.PROBLEM),
    (S.PAYING, Printed): row(_printed, S.MORE),
    (S.REFUNDING, PaymentCancelled): row(_payment_cancelled, S.CANCELLED),
    (S.REFUNDING, PaymentProblem): row(_money_problem, S.PROBLEM),
    (S.REFUNDING, PrintProgress): row(_print_progress, S.PRINTING),  # paid in full just before the cancel
    (S.REFUNDING, Printed): row(_printed, S.MORE),
    (S.REFUNDING, PrintProblem): row(_money_problem, S.PROBLEM),
    (S.PRINTING, PrintProgress): row(_print_progress),
    (S.PRINTING, PrinterWaiting): row(_printer_waiting),
    (S.PRINTING, Printed): row(_printed, S.MORE),
    (S.PRINTING, PrintProblem): row(_money_problem, S.PROBLEM),
    (S.PRINTING, ServiceProblem): row(_service_problem, S.PROBLEM),
    (S.MORE, Tap): row(_more_tap, S.CHOOSE_DOCUMENT, LEAVING),
    (S.MORE, CardPresence): row(_more_card_gone, LEAVING),
    (S.TAKE_CARD, CardPresence): row(_card_gone, S.TAKE_DOCUMENTS, S.WELCOME),
    (S.TAKE_DOCUMENTS, Tap): row(_take_documents_tap, S.WELCOME),
    (S.TAKE_DOCUMENTS, Tick): row(_leaving_tick, S.WELCOME),
    (S.CANCELLED, Tap): row(_back_to_start_tap, LEAVING),
    (S.PROBLEM, Tap): row(_back_to_start_tap, LEAVING),
}
for _state in CHOOSING_STATES:  # after a first document, taking the card is how a resident leaves
    TRANSITIONS[(_state, CardPresence)] = row(_card_taken_away, S.PROBLEM, LEAVING)
for _state in set(State) - NO_INACTIVITY_LIMIT - {S.PAYING}:
    TRANSITIONS[(_state, Tick)] = row(_inactivity_tick, LEAVING)
for _state in set(State) - MONEY_STATES - {S.WELCOME}:  # the welcome screen has nothing to lose
    TRANSITIONS[(_state, Recover)] = row(_recover, S.PROBLEM)


class StateGraphError(AssertionError):
    """The table would let a resident reach a state the kiosk cannot bring back to welcome."""


def check_graph(table: dict[tuple[State, type], Row]) -> None:
    """Every state is reachable from WELCOME and can get back to it, through declared targets."""
    unreachable, no_way_back = graph_gaps(table, State, State.WELCOME, State.WELCOME)
    if unreachable or no_way_back:
        raise StateGraphError(f"unreachable from welcome: {sorted(s.value for s in unreachable)}; "
                              f"no way back to welcome: {sorted(s.value for s in no_way_back)}")


check_graph(TRANSITIONS)
