"""Card, network and printer work for one resident, off the frame loop.

One worker thread runs the jobs in order and reports through `report` (pygame's
event queue in the app). The worker holds what the card and the center told it for
this visit (certificate, session id) and forgets it when the visit ends.
"""
from __future__ import annotations

import logging
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Callable

from cryptography import x509

from devices.card.errors import (CardError, CardRemoved, NoCard, NotMyNumberCard, OldJukiCard, PinBlocked,
                                 ReaderUnavailable, WrongPin)
from devices.card.jpki_client import JpkiClient
from devices.card.transports import CardTransport
from devices.printer.base import DocumentPrinter, PrinterError
from kiosk.binding import BindingError, Expected, check_binding
from kiosk.events import (Authenticated, CardProblem, CardReady, PinWrong, Printed, PrintProblem,
                          ServiceProblem, WorkerReport)
from kiosk.issuance_client import IssuanceClient, IssuanceError, ServiceUnreachable
from municipal.protocol import IssuanceRequest

log = logging.getLogger("kiosk.worker")

CARD_PROBLEMS: dict[type[CardError], str] = {
    NotMyNumberCard: "not_my_number",
    OldJukiCard: "old_card",
    CardRemoved: "card_removed",
    NoCard: "card_removed",
    ReaderUnavailable: "reader",
    PinBlocked: "pin_blocked",
}


# Waits before each attempt to confirm a print; the worker thread waits, never the frame loop.
CONFIRM_ATTEMPT_DELAYS_S = (0.0, 0.5, 2.0, 5.0)


def card_problem_code(exc: CardError) -> str:
    return next((code for kind, code in CARD_PROBLEMS.items() if isinstance(exc, kind)), "card_error")


@dataclass
class _Visit:
    number: int
    certificate_der: bytes | None = None
    session_id: str | None = None


class SessionWorker:
    def __init__(self, transport: CardTransport, issuance: IssuanceClient, printer: DocumentPrinter, *,
                 terminal_id: str, manifest_signer: x509.Certificate, print_timeout_s: float,
                 report: Callable[[WorkerReport], None]):
        self._card = JpkiClient(transport)
        self._issuance = issuance
        self._printer = printer
        self._terminal_id = terminal_id
        self._signer = manifest_signer
        self._print_timeout_s = print_timeout_s
        self._report = report
        self._jobs = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kiosk-worker")
        self._visit = _Visit(0)

    def shutdown(self) -> None:
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
        """Forget everything about the resident; late jobs of this visit do nothing."""
        self._visit = _Visit(-1)
        self._jobs.submit(self._card.close)

    def authenticate(self, visit: int, pin: bytearray) -> None:
        pin_copy = bytearray(pin)  # the caller wipes its own copy now; the job wipes this one
        self._submit(lambda v: self._authenticate(v, pin_copy), visit)

    def issue_and_print(self, visit: int, document_type: str, copies: int) -> None:
        self._submit(lambda v: self._issue_and_print(v, document_type, copies), visit)

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
            pin[:] = bytes(len(pin))
        try:
            session = self._issuance.open_session(challenge, visit.certificate_der, signature)
        except IssuanceError as exc:
            log.info("authentication refused visit=%s code=%s", visit.number, exc.code)
            self._report(ServiceProblem(visit.number, exc.code))
            return
        visit.session_id = session.session_id
        available = tuple(d for d in session.documents if d.available)
        log.info("authenticated visit=%s documents=%d available=%d", visit.number, len(session.documents),
                 len(available))
        if not available and session.documents:
            # Nothing can be issued now: tell the resident why (closed, not registered, ...).
            self._report(ServiceProblem(visit.number, session.documents[0].refusal or "no_documents"))
            return
        self._report(Authenticated(visit.number, available))

    def _issue_and_print(self, visit: _Visit, document_type: str, copies: int) -> None:
        request_id = str(uuid.uuid4())
        try:
            document = self._issuance.issue(IssuanceRequest(
                session_id=visit.session_id, request_id=request_id, document_type=document_type, copies=copies))
        except IssuanceError as exc:
            if isinstance(exc, ServiceUnreachable):
                # The center may have issued it before the answer was lost: void the
                # whole request so no document can ever come of it (Yokohama, 2023).
                self._void(request_id)
            self._report(ServiceProblem(visit.number, exc.code))
            return
        expected = Expected(card_certificate_der=visit.certificate_der, session_id=visit.session_id,
                            request_id=request_id, terminal_id=self._terminal_id,
                            document_type=document_type, copies=copies)
        try:
            check_binding(document, expected, self._signer)
            result = self._printer.print_pdf(document.pdf, title=document.manifest.serial, copies=copies,
                                             timeout=self._print_timeout_s)
        except BindingError as exc:
            log.warning("binding refused request=%s check=%s", request_id, exc.reason)
            self._void(request_id)
            self._report(PrintProblem(visit.number, f"binding_{exc.reason}"))
            return
        except PrinterError as exc:
            log.warning("print failed request=%s reason=%s", request_id, exc.reason)
            self._void(request_id)
            self._report(PrintProblem(visit.number, f"printer_{exc.reason}"))
            return
        self._confirm_printed(request_id)
        log.info("printed request=%s pages=%d copies=%d", request_id, result.pages, copies)
        self._report(Printed(visit.number, result.pages, copies))

    def _confirm_printed(self, request_id: str) -> None:
        """Unconfirmed by its print-by time, the center would void a printed document,
        so a lost confirmation is retried while there is time."""
        for delay in CONFIRM_ATTEMPT_DELAYS_S:
            time.sleep(delay)
            try:
                self._issuance.confirm_printed(request_id)
                return
            except ServiceUnreachable as exc:
                log.warning("printed, confirmation not delivered request=%s: %s", request_id, exc.code)
            except IssuanceError as exc:
                log.error("printed but the center refused the confirmation request=%s code=%s", request_id, exc.code)
                return
        log.error("printed but never confirmed request=%s", request_id)

    def _void(self, request_id: str) -> None:
        try:
            self._issuance.void(request_id)
        except IssuanceError as exc:
            log.error("void failed request=%s code=%s", request_id, exc.code)
