"""Printer faults end well: paper out in the middle of a multi-page certificate ends
in a reprint after the fix or a refund, and the center knows which; a print job past
its time limit is cancelled whole and voided. Nothing that left the printer part-way
verifies as a genuine document."""
from __future__ import annotations

from kiosk.events import PaymentOpened, Printed, PrinterWaiting, PrintProblem, PrintProgress
from contract.issuance import DocumentOptions
from tests.fixtures.paid import Reports, authenticate, center_states, paid_config, paid_worker, verify_printed
from tests.fixtures.printers import wait_until_idle
from tests.kiosk_runs import pdf_text
from tests.fixtures.stub import TEST_CLOCK

HOUSEHOLD_OF_ELEVEN = "R0900"  # a two-page 住民票: fronts and backs on two sheets


def run_paid(stub, tmp_path, printer: dict):
    reports = Reports()
    worker = paid_worker(paid_config(stub, tmp_path, HOUSEHOLD_OF_ELEVEN, printer=printer), reports)
    authenticate(worker, reports, HOUSEHOLD_OF_ELEVEN)
    worker.request_and_pay(1, "residence_record", DocumentOptions(), 1)
    opened = reports.wait_for(PaymentOpened)
    worker.payment.bus.insert_coin(100)
    worker.payment.bus.insert_coin(100)
    return worker, reports, opened


def printed_files(tmp_path):
    return sorted((tmp_path / "printed").glob("*.pdf"))


def test_paper_out_mid_certificate_without_a_refill_refunds_and_voids(stub, tmp_path):
    worker, reports, opened = run_paid(stub, tmp_path, {"paper_sheets": 1, "reprint_wait_s": 0.5})
    try:
        assert opened.pages == 4  # two sheets, front and back
        problem = reports.wait_for(PrintProblem)
        assert problem == PrintProblem(1, "printer_paper_out", refunded=200, owed=0)
        assert [(p.sheet, p.sheets) for p in reports.of(PrintProgress)] == [(0, 2), (1, 2)]
        assert list(center_states(stub[1]).values()) == ["voided"]
        (partial,) = printed_files(tmp_path)
        assert partial.name.endswith("-partial.pdf")  # the sheet that came out...
        verified = verify_printed(stub[1], pdf_text(partial))
        assert (verified.valid, verified.state) == (False, "voided")  # ...verifies as voided
        books = worker.journal.day_totals(TEST_CLOCK.now().date())
        assert books == {"documents": 0, "fees_yen": 0, "refunds_yen": 200, "faults": 1}
        assert worker.journal.unfinished() == []
    finally:
        worker.shutdown()


def test_paper_out_mid_certificate_reprints_after_the_refill(stub, tmp_path):
    reports = Reports()
    worker = paid_worker(paid_config(stub, tmp_path, HOUSEHOLD_OF_ELEVEN,
                                     printer={"paper_sheets": 1, "reprint_wait_s": 10}), reports)
    try:
        authenticate(worker, reports, HOUSEHOLD_OF_ELEVEN)
        before = sum(v * c for v, c in worker.payment.bus.hopper_levels().items())
        worker.request_and_pay(1, "residence_record", DocumentOptions(), 1)
        reports.wait_for(PaymentOpened)
        worker.payment.bus.insert_note(1000)
        # the clerk refills once the screen says the paper ran out, not a while after the tray emptied
        assert reports.wait_for(PrinterWaiting) == PrinterWaiting(1, "printer_paper_out")
        worker.paper_refilled(100)  # the staff screen's "paper refilled"
        assert reports.wait_for(Printed) == Printed(1, 4, 1, change=800)
        assert reports.of(PrinterWaiting) == [PrinterWaiting(1, "printer_paper_out")]  # the screen said why
        states = center_states(stub[1])
        assert sorted(states.values()) == ["printed", "voided"]  # the center knows: first voided, reprint printed
        partial, complete = sorted(printed_files(tmp_path), key=lambda p: "partial" not in p.name)
        assert "partial" in partial.name and "partial" not in complete.name
        assert verify_printed(stub[1], pdf_text(partial)).state == "voided"
        reprint = verify_printed(stub[1], pdf_text(complete))
        assert (reprint.valid, reprint.state) == (True, "printed")
        # paid once: 200 kept, 800 back as change, no refund
        assert before - sum(v * c for v, c in worker.payment.bus.hopper_levels().items()) == 800
        assert worker.journal.day_totals(TEST_CLOCK.now().date())["fees_yen"] == 200
        assert worker.journal.paper_left() == 100 - 2  # the reprint's two sheets, counted from the refill
    finally:
        worker.shutdown()


def test_a_print_job_past_its_time_limit_is_cancelled_whole_and_voided(stub, tmp_path):
    reports = Reports()
    worker = paid_worker(paid_config(stub, tmp_path, HOUSEHOLD_OF_ELEVEN, printer={"timeout_s": 1.0}), reports)
    worker.printer.stall()  # a hung printer: takes the job, moves no paper
    try:
        authenticate(worker, reports, HOUSEHOLD_OF_ELEVEN)
        worker.request_and_pay(1, "residence_record", DocumentOptions(), 1)
        reports.wait_for(PaymentOpened)
        worker.payment.bus.insert_coin(500)
        assert reports.wait_for(PrintProblem) == PrintProblem(1, "printer_job_timed_out", refunded=200)
        assert list(center_states(stub[1]).values()) == ["voided"]
        worker.printer.stall(False)  # the printer wakes up later...
        wait_until_idle(worker.printer)
        assert printed_files(tmp_path) == []  # ...and prints nothing of the cancelled job
    finally:
        worker.shutdown()


def test_a_jam_mid_job_voids_and_refunds(stub, tmp_path):
    reports = Reports()
    worker = paid_worker(paid_config(stub, tmp_path, HOUSEHOLD_OF_ELEVEN), reports)
    worker.printer.jam_after(1)
    try:
        authenticate(worker, reports, HOUSEHOLD_OF_ELEVEN)
        worker.request_and_pay(1, "residence_record", DocumentOptions(), 1)
        reports.wait_for(PaymentOpened)
        worker.payment.bus.insert_coin(100)
        worker.payment.bus.insert_coin(100)
        assert reports.wait_for(PrintProblem) == PrintProblem(1, "printer_job_failed", refunded=200)
        assert list(center_states(stub[1]).values()) == ["voided"]
    finally:
        worker.shutdown()
