"""The worker's duties towards the issuance center when the network fails: a request
whose answer was lost is voided whole, and a printed document's confirmation is
retried rather than left for the center to void."""
from __future__ import annotations

from devices.card.transports import InProcessTransport
from devices.card.virtual_card import VirtualCard
from devices.printer.folder import FolderPrinter
from kiosk import session_worker
from kiosk.events import ServiceProblem
from kiosk.issuance_client import ServiceUnreachable
from kiosk.session_worker import SessionWorker
from municipal.cli import card_path
from municipal.pki import PkiFiles


class FlakyCenter:
    """Stands in for the issuance client: records calls, fails as told."""

    def __init__(self, issue_error=None, confirm_failures=0):
        self.issue_error, self.confirm_failures = issue_error, confirm_failures
        self.calls: list[tuple[str, str]] = []

    def issue(self, request):
        self.calls.append(("issue", request.request_id))
        raise self.issue_error

    def confirm_printed(self, request_id):
        self.calls.append(("printed", request_id))
        if self.confirm_failures:
            self.confirm_failures -= 1
            raise ServiceUnreachable("connection reset")

    def void(self, request_id):
        self.calls.append(("void", request_id))


def worker_for(stub_template, tmp_path, center, reports):
    transport = InProcessTransport(VirtualCard(card_path(stub_template, "R0001")))
    signer = PkiFiles(stub_template / "pki").load("municipal-signer").cert
    worker = SessionWorker(transport, center, FolderPrinter(tmp_path), terminal_id="KIOSK-0001",
                           manifest_signer=signer, print_timeout_s=5, report=reports.append)
    worker.begin_visit(1)
    worker._visit.session_id = "S1"
    return worker


def test_a_lost_issuance_answer_voids_that_very_request(stub_template, tmp_path):
    center, reports = FlakyCenter(issue_error=ServiceUnreachable("read timeout")), []
    worker = worker_for(stub_template, tmp_path, center, reports)
    worker.issue_and_print(1, "residence_record", 1)
    worker.shutdown()
    (first, asked), (then, voided) = center.calls
    assert (first, then) == ("issue", "void") and voided == asked
    assert reports == [ServiceProblem(1, "service_unreachable")]
    assert list(tmp_path.iterdir()) == []  # nothing printed


def test_a_confirmation_lost_on_the_way_is_sent_again(stub_template, tmp_path, monkeypatch):
    monkeypatch.setattr(session_worker, "CONFIRM_ATTEMPT_DELAYS_S", (0.0, 0.0, 0.0))
    center, reports = FlakyCenter(confirm_failures=2), []  # fails twice, then gets through
    worker = worker_for(stub_template, tmp_path, center, reports)
    worker._confirm_printed("Q1")
    assert center.calls == [("printed", "Q1")] * 3
