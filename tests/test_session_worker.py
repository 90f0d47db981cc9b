"""The worker's duties towards the issuance center when the network fails: a request
whose answer was lost is voided whole, before any money is taken, and a printed
document's confirmation is retried rather than left for the center to void."""
from __future__ import annotations

import queue

from devices.card.transports import InProcessTransport
from devices.card.virtual_card import VirtualCard
from devices.payment import SimulatedPaymentDevice
from devices.printer.folder import FolderPrinter
from kiosk import journal as j
from kiosk import paid_issuance
from kiosk.events import ServiceProblem
from kiosk.issuance_client import ServiceRefused, ServiceUnreachable
from kiosk.journal import Journal
from kiosk.paid_issuance import PaidIssuance, Settings
from kiosk.session_worker import SessionWorker
from municipal.cli import card_path
from municipal.pki import PkiFiles
from contract.issuance import DocumentOffer, DocumentOptions


class FlakyCenter:
    """Stands in for the issuance client: records calls, fails as told."""

    def __init__(self, issue_error=None, confirm_failures=0, confirm_refusal=None):
        self.issue_error, self.confirm_failures, self.confirm_refusal = issue_error, confirm_failures, confirm_refusal
        self.calls: list[tuple[str, str]] = []

    def issue(self, request):
        self.calls.append(("issue", request.request_id))
        raise self.issue_error

    def confirm_printed(self, request_id):
        self.calls.append(("printed", request_id))
        if self.confirm_failures:
            self.confirm_failures -= 1
            raise ServiceUnreachable("connection reset")
        if self.confirm_refusal:
            raise ServiceRefused(self.confirm_refusal, "refused")

    def void(self, request_id):
        self.calls.append(("void", request_id))


def settings(stub_template) -> Settings:
    signers = {code: PkiFiles(stub_template / "pki").municipal_signer(code).cert
               for code in ("999001", "999002", "999003")}
    return Settings(terminal_id="KIOSK-0001", manifest_signers=signers, print_timeout_s=5, payment_timeout_s=5,
                    reprint_wait_s=0)


def worker_for(stub_template, tmp_path, center, reports):
    transport = InProcessTransport(VirtualCard(card_path(stub_template, "R0001")))
    worker = SessionWorker(transport, center, FolderPrinter(tmp_path / "printed"), payment=SimulatedPaymentDevice(),
                           journal=Journal(tmp_path / "journal.sqlite"), settings=settings(stub_template),
                           report=reports.append)
    worker.begin_visit(1)
    worker._visit.session_id = "S1"
    worker._visit.offers = (DocumentOffer(type="residence_record", municipality="999001", fee_yen=200, available=True),)
    return worker


def test_a_lost_issuance_answer_voids_that_very_request_and_takes_no_money(stub_template, tmp_path):
    center, reports = FlakyCenter(issue_error=ServiceUnreachable("read timeout")), []
    worker = worker_for(stub_template, tmp_path, center, reports)
    worker.request_and_pay(1, "residence_record", DocumentOptions(), 1)
    worker.shutdown()
    (first, asked), (then, voided) = center.calls
    assert (first, then) == ("issue", "void") and voided == asked
    assert reports == [ServiceProblem(1, "service_unreachable")]
    assert not (tmp_path / "printed").exists() or not list((tmp_path / "printed").iterdir())  # nothing printed
    assert not worker.payment.bus.insert_coin(100)  # the acceptor never opened
    assert worker.journal.outcomes() and set(worker.journal.outcomes().values()) == {"voided"}


def test_a_refused_issuance_is_journaled_closed_without_a_void(stub_template, tmp_path):
    center, reports = FlakyCenter(issue_error=ServiceRefused("outside_hours", "closed")), []
    worker = worker_for(stub_template, tmp_path, center, reports)
    worker.request_and_pay(1, "residence_record", DocumentOptions(), 1)
    worker.shutdown()
    assert [call for call, _ in center.calls] == ["issue"]
    assert reports == [ServiceProblem(1, "outside_hours")]
    assert worker.journal.unfinished() == []


def pipeline(stub_template, tmp_path, center) -> PaidIssuance:
    journal = Journal(tmp_path / "journal.sqlite")
    run = PaidIssuance(issuance=center, printer=FolderPrinter(tmp_path), payment=SimulatedPaymentDevice(),
                       journal=journal, receipt_printer=None, settings=settings(stub_template),
                       report=queue.Queue().put, still_wanted=lambda: True, cancelled=None)
    run.txn = "T1"
    journal.begin("T1", "residence_record", 1)
    return run


def test_a_confirmation_lost_on_the_way_is_sent_again(stub_template, tmp_path, monkeypatch):
    monkeypatch.setattr(paid_issuance, "CONFIRM_ATTEMPT_DELAYS_S", (0.0, 0.0, 0.0))
    center = FlakyCenter(confirm_failures=2)  # fails twice, then gets through
    run = pipeline(stub_template, tmp_path, center)
    assert run._confirm("Q1") is None
    assert center.calls == [("printed", "Q1")] * 3
    assert run.journal.entry("T1").has(j.CONFIRMED, "Q1")


def test_a_confirmation_never_delivered_leaves_the_session_open_for_reconciliation(stub_template, tmp_path,
                                                                                  monkeypatch):
    monkeypatch.setattr(paid_issuance, "CONFIRM_ATTEMPT_DELAYS_S", (0.0, 0.0))
    run = pipeline(stub_template, tmp_path, FlakyCenter(confirm_failures=5))
    assert run._confirm("Q1") is None
    assert not run.journal.entry("T1").has(j.CONFIRMED)
    assert [e.txn for e in run.journal.unfinished()] == ["T1"]
