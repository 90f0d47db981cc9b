"""Card, network, payment and printer work for one resident, off the frame loop.

One worker thread runs the jobs in order and reports through `report` (pygame's
event queue in the app). The worker holds what the card and the center told it for
this visit (certificate, session id, offers) and forgets it when the visit ends; the
center session lasts the visit, so a resident can take several documents. A paid document
is kiosk.paid_issuance's pipeline; the journal's unfinished sessions are reconciled
on this same thread at start and after every visit, never beside a payment.
"""
from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Callable

from devices.card.errors import (CardError, CardRemoved, NoCard, NotMyNumberCard, OldJukiCard, PinBlocked,
                                 ReaderUnavailable, WrongPin)
from devices.card.card_commands import wipe
from devices.card.jpki_client import JpkiClient
from devices.card.transports import CardTransport
from devices.payment import PaymentDevice
from devices.printer.base import DocumentPrinter, ReceiptPrinter
from kiosk.events import Authenticated, CardProblem, CardReady, PinWrong, ServiceProblem, WorkerReport
from kiosk.issuance_client import IssuanceClient, IssuanceError
from kiosk.journal import Journal
from kiosk.paid_issuance import PaidIssuance, Settings
from kiosk.paid_issuance import Visit as _Visit
from kiosk.reconcile import Reconciled, reconcile
from contract.issuance import DocumentOptions

log = logging.getLogger("kiosk.worker")

CARD_PROBLEMS: dict[type[CardError], str] = {
    NotMyNumberCard: "not_my_number",
    OldJukiCard: "old_card",
    CardRemoved: "card_removed",
    NoCard: "card_removed",
    ReaderUnavailable: "reader",
    PinBlocked: "pin_blocked",
}


def card_problem_code(exc: CardError) -> str:
    return next((code for kind, code in CARD_PROBLEMS.items() if isinstance(exc, kind)), "card_error")


class SessionWorker:
    def __init__(self, transport: CardTransport, issuance: IssuanceClient, printer: DocumentPrinter, *,
                 payment: PaymentDevice, journal: Journal, settings: Settings,
                 report: Callable[[WorkerReport], None], receipt_printer: ReceiptPrinter | None = None):
        self._card = JpkiClient(transport)
        self._issuance = issuance
        # The devices are public for maintenance mode (a serial port opens once, a
        # simulated printer keeps its paper) and the demo's autopilot (payment.bus).
        self.printer = printer
        self.payment = payment
        self.journal = journal
        self.receipt_printer = receipt_printer
        self._settings = settings
        self._report = report
        self._jobs = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kiosk-worker")
        self._visit = _Visit(0)
        self._cancel = threading.Event()  # set from the main thread; the open payment polls it
        self.last_reconciled: list[Reconciled] = []

    def shutdown(self) -> None:
        self._cancel.set()  # a payment still open is refunded, not left open
        self._jobs.shutdown(wait=True, cancel_futures=True)

    def _submit(self, job: Callable[[_Visit], None], visit: int) -> None:
        def run():
            current = self._visit
            if current.number != visit:
                return  # the visit ended before the job started
            try:
                job(current)
            except Exception:  # a bug must end in a screen, not a dead worker
                log.exception("worker job failed visit=%s", visit)
                self._report(ServiceProblem(visit, "internal_error"))
        self._jobs.submit(run)

    # --- commands from the state machine (main thread) ---------------------------

    def begin_visit(self, visit: int) -> None:
        self._visit = _Visit(visit)

    def open_card(self, visit: int) -> None:
        """The card is on the reader: open it and read the PIN tries left."""
        self._submit(self._open_card, visit)

    def end_visit(self) -> None:
        """Forget everything about the resident; late jobs of this visit do nothing.
        A payment still open ends as cancelled: money back, request voided."""
        self._visit = _Visit(-1)
        self._cancel.set()
        self._jobs.submit(self._card.close)
        self.reconcile()

    def paper_refilled(self, sheets: int) -> None:
        """A clerk filled the tray: the books count from here, and a simulated printer
        (the demo's folder printer) gets the paper too, so a paper-out reprint can go on."""
        self.journal.paper_refilled(sheets)
        load = getattr(self.printer, "load_paper", None)
        if load is not None:
            load(sheets)

    def reconcile(self) -> None:
        """Finish every session the journal holds open (at start: those a power cut left)."""
        self._jobs.submit(self._reconcile)

    def authenticate(self, visit: int, pin: bytearray) -> None:
        pin_copy = bytearray(pin)  # the caller wipes its own copy now; the job wipes this one
        self._submit(lambda v: self._authenticate(v, pin_copy), visit)

    def quote_fee(self, visit: int, fee_yen: int) -> None:
        """Answer FeeQuoted: what the machine takes for this fee, given its change."""
        self._submit(lambda v: self._pipeline(v).quote(v, fee_yen), visit)

    def request_and_pay(self, visit: int, document_type: str, options: DocumentOptions, copies: int) -> None:
        """Issue, check the binding, take the fee, print, confirm (kiosk.paid_issuance)."""
        self._cancel.clear()
        self._submit(lambda v: self._pipeline(v).run(v, document_type, options, copies), visit)

    def cancel_payment(self, visit: int) -> None:
        """From the main thread, while a payment is open: stop, refund, void."""
        if visit == self._visit.number:
            self._cancel.set()

    # --- jobs (worker thread) ----------------------------------------------------

    def _open_card(self, visit: _Visit) -> None:
        try:
            self._card.open()
            tries = self._card.auth_pin_tries_left()
        except CardError as exc:
            log.info("card open failed visit=%s problem=%s", visit.number, card_problem_code(exc))
            self._report(CardProblem(visit.number, card_problem_code(exc)))
            return
        log.info("card ready visit=%s tries_left=%s", visit.number, tries)
        if tries == 0:
            self._report(CardProblem(visit.number, "pin_blocked"))
        else:
            self._report(CardReady(visit.number, tries))

    def _authenticate(self, visit: _Visit, pin: bytearray) -> None:
        try:
            self._card.verify_auth_pin(pin)  # wipes `pin`
            visit.certificate_der = self._card.read_auth_certificate()
            challenge = self._issuance.challenge()
            signature = self._card.sign_auth(challenge.nonce)
        except WrongPin as exc:
            self._report(PinWrong(visit.number, exc.tries_left))
            return
        except CardError as exc:
            log.info("card failed visit=%s error=%s: %s", visit.number, type(exc).__name__, exc)
            self._report(CardProblem(visit.number, card_problem_code(exc)))
            return
        except IssuanceError as exc:
            self._report(ServiceProblem(visit.number, exc.code))
            return
        finally:
            wipe(pin)
        try:
            session = self._issuance.open_session(challenge, visit.certificate_der, signature)
        except IssuanceError as exc:
            log.info("authentication refused visit=%s code=%s", visit.number, exc.code)
            self._report(ServiceProblem(visit.number, exc.code))
            return
        visit.session_id, visit.offers = session.session_id, tuple(session.documents)
        log.info("authenticated visit=%s documents=%d available=%d", visit.number, len(session.documents),
                 sum(d.available for d in session.documents))
        # Unavailable offers too: the screens name what is closed now and when it opens,
        # or, when nothing is available, why (closed, not registered, ...).
        self._report(Authenticated(visit.number, tuple(session.documents)))

    def _pipeline(self, visit: _Visit) -> PaidIssuance:
        return PaidIssuance(issuance=self._issuance, printer=self.printer, payment=self.payment,
                            journal=self.journal, receipt_printer=self.receipt_printer, settings=self._settings,
                            report=self._report, still_wanted=lambda: self._visit is visit, cancelled=self._cancel)

    def _reconcile(self) -> None:
        try:
            self.last_reconciled = reconcile(self.journal, self._issuance, self.payment)
        except Exception:  # a bug here must not stop the kiosk; the journal keeps the sessions
            log.exception("reconciliation failed")
