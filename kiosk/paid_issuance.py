"""One paid document, from the center's issuance to the receipt, on the worker thread.

    issue (kiosk request id) -> binding to the card -> acceptor open for the fee ->
    credits as they come -> paid: change -> print, sheet by sheet -> printed at the
    center -> receipt -> Printed

Every step goes to the journal before it is acted on, so a power cut anywhere is
finished by kiosk.reconcile at the next start. The rules this keeps:

- No money is taken before the center issued the document and it is bound to this
  card and to the offer the resident chose (its fee, document and municipality), and
  none for a printer that is not ready.
- Whatever ends the payment (the resident, its time limit, a jam, a lost acceptor,
  change that cannot be given) gives back what was inserted and voids the request.
- Nothing that left the printer part-way is a valid document: a failed job is
  cancelled whole and voided at the center, so its pages verify as voided.
- Paper out mid-job: reprint after fix. The kiosk waits up to `reprint_wait_s` for
  the printer to be ready again (a clerk refills it), then asks the center for a new
  issuance of the same document in the same session (new request id, new serial) and
  prints that; the center then holds the first request voided and the second printed.
  If the printer is not back in time, or the reprint fails, the fee is refunded and
  the center holds only the voided request. Either way the resident pays once.
"""
from __future__ import annotations

import datetime as dt
import logging
import secrets
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Callable

from cryptography import x509

from devices.payment import Credit, DeviceLost, EventsLost, Jammed, PaymentDevice, PaymentError, Payout
from devices.printer.base import (DocumentPrinter, OutOfPaper, PaperState, PrinterError, PrinterStatus, ReceiptPrinter,
                                  sheets_of)
from kiosk import journal as j
from kiosk.binding import BindingError, Expected, check_binding
from kiosk.clock import WallClock
from kiosk.events import (FeeQuoted, PaymentCancelled, PaymentOpened, PaymentProblem, PaymentProgress, Printed,
                          PrinterWaiting, PrintProblem, PrintProgress, ServiceProblem, WorkerReport)
from kiosk.issuance_client import IssuanceClient, IssuanceError, IssuedDocument, ServiceRefused, ServiceUnreachable
from kiosk.journal import Journal
from contract.documents import DOCUMENT_TITLES
from contract.issuance import DocumentOffer, DocumentOptions, IssuanceRequest
from printouts.receipt import Receipt

log = logging.getLogger("kiosk.paid")

POLL_INTERVAL_S = 0.1  # how often the acceptor is asked for credit while a payment is open
BAD_POLLS_LIMIT_S = 3.0  # garbled answers for this long in a row: the acceptor is as good as lost
# Waits before each attempt to confirm a print; the worker thread waits, never the frame loop.
CONFIRM_ATTEMPT_DELAYS_S = (0.0, 0.5, 2.0, 5.0)


@dataclass(frozen=True)
class Settings:
    terminal_id: str
    manifest_signers: dict[str, x509.Certificate]  # by municipality code: each signs its own
    print_timeout_s: float
    payment_timeout_s: float  # since the last coin (or the opening) before the payment is cancelled
    reprint_wait_s: float  # how long a paper-out waits for a refill before refunding
    store_name: str = ""
    store_number: str = ""
    clock: WallClock = WallClock.real()  # the receipt's and transaction number's time, the print-by check's


@dataclass
class Visit:
    """What the center and the card told the worker for this visit."""

    number: int
    certificate_der: bytes | None = None
    session_id: str | None = None
    offers: tuple[DocumentOffer, ...] = ()  # the session's, as the resident was shown them

    def offer(self, document_type: str) -> DocumentOffer | None:
        return next((o for o in self.offers if o.type == document_type and o.available), None)


class _Stop(Exception):
    """Ends the pipeline once its report has been sent and the journal closed."""


def new_transaction_number(now: dt.datetime) -> str:
    """Printed on the receipt: when, plus randomness, never who."""
    return f"{now.astimezone(j.JST):%y%m%d%H%M%S}-{secrets.token_hex(2).upper()}"


def hoppers_yen(payment: PaymentDevice) -> int:
    return sum(value * count for value, count in payment.change_available().items())


class PaidIssuance:
    def __init__(self, *, issuance: IssuanceClient, printer: DocumentPrinter, payment: PaymentDevice,
                 journal: Journal, receipt_printer: ReceiptPrinter | None, settings: Settings,
                 report: Callable[[WorkerReport], None], still_wanted: Callable[[], bool],
                 cancelled: threading.Event):
        self.center, self.printer, self.payment, self.journal = issuance, printer, payment, journal
        self.receipt_printer, self.settings, self._report = receipt_printer, settings, report
        self._still_wanted, self._cancelled = still_wanted, cancelled
        self.txn = ""
        self.credited = 0
        self.change_given = 0
        self._bad_polls = 0

    # --- before paying -------------------------------------------------------------

    def quote(self, visit: Visit, fee: int) -> None:
        try:
            offer = self.payment.offer(fee)
        except PaymentError as exc:
            log.warning("fee quote failed visit=%s: %s", visit.number, exc)
            self._report(PaymentProblem(visit.number, "payment_unavailable"))
            return
        self._report(FeeQuoted(visit.number, fee, tuple(sorted(offer.accepted)), tuple(sorted(offer.refused))))

    # --- the whole pipeline --------------------------------------------------------

    def run(self, visit: Visit, document_type: str, options: DocumentOptions, copies: int) -> None:
        offer = visit.offer(document_type)
        if offer is None:  # the screens offer only what the session did: a bug, and nothing asked yet
            log.error("no offer for the document asked visit=%s type=%s", visit.number, document_type)
            self._report(ServiceProblem(visit.number, "document_not_offered"))
            return
        ready = self._printer_status()
        if not ready.ready:
            log.warning("printer not ready before issuing visit=%s: %s", visit.number, ready.message)
            self._report(PrintProblem(visit.number, "printer_printer_unavailable"))
            return
        self.txn = new_transaction_number(self.settings.clock.now())
        self.journal.begin(self.txn, document_type, copies)
        try:
            document, request_id = self._issue(visit, offer, options, copies, first=True)
            self._take_payment(visit, request_id, document.manifest.fee_yen, document)
            self._print(visit, offer, options, copies, document, request_id)
        except _Stop:
            return
        except Exception:
            # A bug: take no more coins; the journal keeps the session open, and the
            # reconciliation after this visit gives the money back and voids.
            try:
                self.payment.stop()
            except PaymentError:
                pass
            raise

    def _issue(self, visit: Visit, offer: DocumentOffer, options: DocumentOptions, copies: int,
               first: bool) -> tuple[IssuedDocument, str]:
        request_id = str(uuid.uuid4())
        self._step(j.ISSUING, request_id=request_id)
        try:
            document = self.center.issue(IssuanceRequest(session_id=visit.session_id, request_id=request_id,
                                                         document_type=offer.type, copies=copies,
                                                         options=options))
        except IssuanceError as exc:
            if isinstance(exc, ServiceRefused):
                self._step(j.REFUSED, request_id=request_id, detail=exc.code)
            else:
                # The center may have issued it before the answer was lost: void the
                # whole request so no document can ever come of it (Yokohama, 2023).
                self._void(request_id)
            if first:
                self._close("refused" if isinstance(exc, ServiceRefused) else "voided")
                self._report(ServiceProblem(visit.number, exc.code))
                raise _Stop from exc
            raise
        expected = Expected(card_certificate_der=visit.certificate_der, session_id=visit.session_id,
                            request_id=request_id, terminal_id=self.settings.terminal_id,
                            offer=offer, copies=copies, options=options)
        try:
            check_binding(document, expected, self.settings.manifest_signers, clock=self.settings.clock)
        except BindingError as exc:
            log.warning("binding refused request=%s check=%s", request_id, exc.reason)
            self._void(request_id)
            if first:
                self._step(j.FAULT, detail=f"binding_{exc.reason}")
                self._close("voided")
                self._report(PrintProblem(visit.number, f"binding_{exc.reason}"))
                raise _Stop from exc
            raise
        self._step(j.ISSUED, request_id=request_id, amount=document.manifest.fee_yen)
        return document, request_id

    # --- payment -------------------------------------------------------------------

    def _take_payment(self, visit: Visit, request_id: str, fee: int, document: IssuedDocument) -> None:
        self._step(j.PAYMENT_OPEN, amount=fee)
        try:
            offer = self.payment.start_accepting(fee)
        except PaymentError as exc:
            log.warning("acceptor would not open txn=%s: %s", self.txn, exc)
            self._end_payment(visit, request_id, "payment_unavailable")
        self._report(PaymentOpened(visit.number, fee, len(document.manifest.pages), tuple(sorted(offer.accepted))))
        last_credit = time.monotonic()
        while self.credited < fee:
            if self._cancelled.is_set() or not self._still_wanted():
                self._end_payment(visit, request_id, None)
            if time.monotonic() - last_credit > self.settings.payment_timeout_s:
                log.info("payment time limit txn=%s credited=%d", self.txn, self.credited)
                self._end_payment(visit, request_id, None)
            time.sleep(POLL_INTERVAL_S)
            if self._poll(visit, request_id, fee):
                last_credit = time.monotonic()
        try:
            self.payment.stop()
        except PaymentError as exc:
            log.warning("acceptor lost at the end of the payment txn=%s: %s", self.txn, exc)
            self._step(j.FAULT, detail="payment_lost")
            self._end_payment(visit, request_id, "payment_lost")
        self._poll(visit, request_id, fee, report=False)  # a coin already past the gate still counts
        self._step(j.PAID, amount=self.credited)
        change = self.credited - fee
        if change:
            payout = self._pay(j.CHANGE, j.CHANGE_PAID, change)
            self.change_given = payout.paid
            if not payout.complete:
                # The resident would leave short-changed: give the fee back too, print nothing.
                log.warning("change short txn=%s: %s", self.txn, "; ".join(payout.problems))
                self._step(j.FAULT, detail="change_short")
                self._end_payment(visit, request_id, "change_short")

    def _poll(self, visit: Visit, request_id: str, fee: int, report: bool = True) -> bool:
        """Credits since the last poll, journaled before they are counted."""
        credited_before = self.credited
        try:
            events = self.payment.poll()
            self._bad_polls = 0
        except PaymentError as exc:  # line noise: nothing read is lost, the next poll has it
            self._bad_polls += 1
            log.warning("acceptor poll failed txn=%s (%d in a row): %s", self.txn, self._bad_polls, exc)
            if self._bad_polls * POLL_INTERVAL_S >= BAD_POLLS_LIMIT_S:
                self._step(j.FAULT, detail="payment_lost")
                self._end_payment(visit, request_id, "payment_lost")
            return False
        for event in events:
            if isinstance(event, Credit):
                self._step(j.CREDIT, amount=event.value, detail=event.medium, coins={event.value: 1})
                self.credited += event.value
            elif isinstance(event, Jammed):
                log.warning("acceptor jammed txn=%s: %s", self.txn, event.reason)
                self._step(j.FAULT, detail="payment_jammed")
                self._end_payment(visit, request_id, "payment_jammed")
            elif isinstance(event, DeviceLost):
                log.warning("acceptor lost txn=%s: %s", self.txn, event.reason)
                self._step(j.FAULT, detail="payment_lost")
                self._end_payment(visit, request_id, "payment_lost")
            elif isinstance(event, EventsLost):
                # Credits may be missing: a clerk settles it from the cash box count.
                log.error("acceptor lost %d events txn=%s", event.count, self.txn)
                self._step(j.FAULT, detail="payment_events_lost")
            else:
                log.info("acceptor txn=%s: %s", self.txn, event)
        if report and self.credited != credited_before:
            self._report(PaymentProgress(visit.number, min(self.credited, fee), fee))
        return self.credited != credited_before

    def _end_payment(self, visit: Visit, request_id: str, problem: str | None) -> None:
        """Stop accepting, give back everything inserted (less change already given),
        void the request, and end with PaymentCancelled or PaymentProblem."""
        try:
            self.payment.stop()
            self._poll_quietly()
        except PaymentError as exc:
            log.warning("acceptor would not stop txn=%s: %s", self.txn, exc)
        refunded, owed = self._refund(self.credited - self.change_given)
        refunded += self.change_given  # all the resident got back
        self._void(request_id)
        self._close("refunded" if self.credited else "voided")
        if problem is None:
            self._report(PaymentCancelled(visit.number, refunded, owed))
        else:
            self._report(PaymentProblem(visit.number, problem, refunded, owed))
        raise _Stop

    def _poll_quietly(self) -> None:
        for event in self.payment.poll():
            if isinstance(event, Credit):
                self._step(j.CREDIT, amount=event.value, detail=event.medium, coins={event.value: 1})
                self.credited += event.value

    def _refund(self, amount: int) -> tuple[int, int]:
        """(given back, owed by staff)."""
        if amount <= 0:
            return 0, 0
        payout = self._pay(j.REFUND, j.REFUNDED, amount)
        if not payout.complete:
            self._step(j.OWED, amount=payout.shortfall, detail="; ".join(payout.problems)[:200])
        return payout.paid, payout.shortfall

    def _pay(self, intent: str, done: str, amount: int) -> Payout:
        try:
            before = hoppers_yen(self.payment)
        except PaymentError as exc:
            self._step(intent, amount=amount, detail="")
            self._step(done, amount=0)
            return Payout(amount, {}, (f"acceptor unreachable: {exc}",))
        self._step(intent, amount=amount, detail=str(before))
        payout = self.payment.pay_out(amount)
        self._step(done, amount=payout.paid, coins=payout.coins)
        return payout

    # --- printing ------------------------------------------------------------------

    def _print(self, visit: Visit, offer: DocumentOffer, options: DocumentOptions, copies: int,
               document: IssuedDocument, request_id: str) -> None:
        fee = document.manifest.fee_yen
        try:
            result_pages = self._print_one(visit, document, request_id, copies)
        except OutOfPaper as exc:
            self._void(request_id)
            self._step(j.FAULT, detail="printer_paper_out")
            document, request_id = self._reprint_after_fix(visit, offer, options, copies, exc)
            try:
                result_pages = self._print_one(visit, document, request_id, copies)
            except PrinterError as again:
                self._print_failed(visit, request_id, again)
        except PrinterError as exc:
            self._print_failed(visit, request_id, exc)
        refused = self._confirm(request_id)
        if refused:
            # The center holds the request void (past its print-by time): the paper is
            # not a valid document, so the resident gets the fee back.
            self._step(j.FAULT, detail=f"confirm_{refused}")
            self._void(request_id)
            self._refund_and_close(visit, "confirm_refused")
        self._receipt(offer.type, copies, fee)
        owed = self.credited - fee - self.change_given
        self._close("printed")
        log.info("printed txn=%s request=%s pages=%d copies=%d", self.txn, request_id, result_pages, copies)
        self._report(Printed(visit.number, result_pages, copies, self.change_given, owed))

    def _print_one(self, visit: Visit, document: IssuedDocument, request_id: str, copies: int) -> int:
        self._step(j.PRINTING, request_id=request_id)
        sheets = sheets_of(len(document.manifest.pages)) * copies
        self._report(PrintProgress(visit.number, 0, sheets))

        def sheet_out(n: int, of: int) -> None:
            self._step(j.SHEET, request_id=request_id, amount=n)
            self._report(PrintProgress(visit.number, n, of))

        result = self.printer.print_pdf(document.pdf, title=document.manifest.serial, copies=copies,
                                        timeout=self.settings.print_timeout_s, on_sheet=sheet_out)
        self._step(j.PRINTED, request_id=request_id)
        return result.pages

    def _reprint_after_fix(self, visit: Visit, offer: DocumentOffer, options: DocumentOptions, copies: int,
                           cause: OutOfPaper) -> tuple[IssuedDocument, str]:
        log.warning("paper out after %d sheets txn=%s; waiting up to %gs for a refill", cause.sheets_out,
                    self.txn, self.settings.reprint_wait_s)
        self._report(PrinterWaiting(visit.number, "printer_paper_out"))
        deadline = time.monotonic() + self.settings.reprint_wait_s
        while not self._printer_status().ready:
            if time.monotonic() >= deadline or not self._still_wanted():
                self._refund_and_close(visit, "printer_paper_out")
            time.sleep(0.5)
        self._step(j.REPRINT)
        try:
            return self._issue(visit, offer, options, copies, first=False)
        except (IssuanceError, BindingError) as exc:
            log.warning("reprint not issued txn=%s: %s", self.txn, exc)
            self._refund_and_close(visit, "printer_paper_out")

    def _print_failed(self, visit: Visit, request_id: str, exc: PrinterError) -> None:
        """Cancelled whole already (print_pdf); whatever came out is voided with the request."""
        log.warning("print failed txn=%s request=%s reason=%s sheets_out=%d: %s", self.txn, request_id,
                    exc.reason, exc.sheets_out, exc)
        self._void(request_id)
        self._step(j.FAULT, detail=f"printer_{exc.reason}")
        self._refund_and_close(visit, f"printer_{exc.reason}")

    def _refund_and_close(self, visit: Visit, code: str) -> None:
        refunded, owed = self._refund(self.credited - self.change_given)
        self._close("refunded")
        self._report(PrintProblem(visit.number, code, refunded, owed))
        raise _Stop

    def _confirm(self, request_id: str) -> str | None:
        """Unconfirmed by its print-by time, the center would void a printed document,
        so a lost confirmation is retried while there is time; still lost, the journal
        keeps the session open and the worker's next reconciliation confirms it.
        Returns the center's refusal code if it refused."""
        for delay in CONFIRM_ATTEMPT_DELAYS_S:
            time.sleep(delay)
            try:
                self.center.confirm_printed(request_id)
                self._step(j.CONFIRMED, request_id=request_id)
                return None
            except ServiceUnreachable as exc:
                log.warning("printed, confirmation not delivered request=%s: %s", request_id, exc.code)
            except IssuanceError as exc:
                log.error("printed but the center refused the confirmation request=%s code=%s", request_id, exc.code)
                return exc.code
        log.error("printed but not confirmed yet request=%s", request_id)
        return None

    def _receipt(self, document_type: str, copies: int, fee: int) -> None:
        if self.receipt_printer is None:
            return
        try:
            receipt = Receipt(store_name=self.settings.store_name, store_number=self.settings.store_number,
                              terminal_id=self.settings.terminal_id, issued_at=self.settings.clock.now(),
                              document_title=DOCUMENT_TITLES.get(document_type, document_type), copies=copies,
                              fee_yen=fee, paid_yen=self.credited, change_yen=self.credited - fee,
                              transaction_number=self.txn)
            self.receipt_printer.print_receipt(receipt)
            self._step(j.RECEIPT)
        except PrinterError as exc:  # the certificate is out and paid for: a missing receipt ends nothing
            log.warning("receipt not printed txn=%s reason=%s", self.txn, exc.reason)
            self._step(j.FAULT, detail=f"receipt_{exc.reason}")
        except ValueError as exc:  # a store name the printer cannot print
            log.error("receipt not printed txn=%s: %s", self.txn, exc)
            self._step(j.FAULT, detail="receipt_layout")

    # --- helpers -------------------------------------------------------------------

    def _printer_status(self) -> PrinterStatus:
        try:
            return self.printer.status()
        except PrinterError as exc:
            return PrinterStatus(False, PaperState.UNKNOWN, message=str(exc))

    def _void(self, request_id: str) -> None:
        self._step(j.VOIDING, request_id=request_id)
        try:
            self.center.void(request_id)
            self._step(j.VOIDED, request_id=request_id)
        except IssuanceError as exc:
            # Left for the next start's reconciliation, which voids it again.
            log.error("void failed request=%s code=%s", request_id, exc.code)

    def _step(self, step: str, **values) -> None:
        self.journal.step(self.txn, step, **values)

    def _close(self, outcome: str) -> None:
        """Closed only once the center knows every request's fate; otherwise reconcile finishes it."""
        entry = self.journal.entry(self.txn)
        settled = all(entry.settled(r) for r in entry.request_ids)
        if settled:
            self._step(j.CLOSED, detail=outcome)

