"""A paid document end to end through the real worker: the stub center over mutual TLS,
the in-process card, the real ccTalk payment driver on its emulated bus, the folder
printer and receipt, and the journal's books."""
from __future__ import annotations

import sqlite3
import time

import pytest

from kiosk.events import (FeeQuoted, PaymentCancelled, PaymentOpened, PaymentProblem, PaymentProgress, Printed,
                          PrintProblem, PrintProgress)
from contract.issuance import DocumentOptions
from tests.fixtures.paid import Reports, authenticate, center_states, paid_config, paid_worker
from tests.fixtures.stub import TEST_CLOCK


def hopper_yen(levels: dict[int, int]) -> int:
    return sum(value * count for value, count in levels.items())


@pytest.fixture
def kiosk(stub, tmp_path):
    reports = Reports()
    worker = paid_worker(paid_config(stub, tmp_path, payment={"timeout_s": 30}), reports)
    yield worker, reports, stub[1], tmp_path
    worker.shutdown()


def pay_and_wait_open(worker, reports, document="residence_record", copies=1) -> PaymentOpened:
    worker.request_and_pay(1, document, DocumentOptions(), copies)
    return reports.wait_for(PaymentOpened)


def test_fee_quote_names_what_the_machine_takes(kiosk):
    worker, reports, _, _ = kiosk
    authenticate(worker, reports, "R0001")
    worker.quote_fee(1, 200)
    assert reports.wait_for(FeeQuoted) == FeeQuoted(1, 200, (10, 50, 100, 500, 1000), ())
    for value in (10, 50, 100, 500):
        worker.payment.bus.set_hopper_level(value, 0)
    worker.quote_fee(1, 200)
    quoted = reports.wait_for(FeeQuoted)
    assert quoted.accepted == (10,) and set(quoted.refused) == {50, 100, 500, 1000}  # told before paying


def test_a_silent_acceptor_takes_no_money_and_leaves_no_valid_document(kiosk):
    worker, reports, data, _ = kiosk
    authenticate(worker, reports, "R0001")
    worker.payment.bus.disappear()
    worker.quote_fee(1, 200)
    assert reports.wait_for(PaymentProblem) == PaymentProblem(1, "payment_unavailable")
    worker.request_and_pay(1, "residence_record", DocumentOptions(), 1)
    assert reports.wait_for(PaymentProblem) == PaymentProblem(1, "payment_unavailable")
    assert list(center_states(data).values()) == ["voided"]  # issued, then voided: no paper, no money


def test_a_paid_document_is_printed_confirmed_and_receipted_with_change(kiosk):
    worker, reports, data, tmp_path = kiosk
    authenticate(worker, reports, "R0001")
    before = worker.payment.bus.hopper_levels()
    opened = pay_and_wait_open(worker, reports, copies=2)
    assert (opened.due, opened.pages) == (400, 2) and 1000 in opened.accepted
    assert worker.payment.bus.insert_coin(100)
    assert reports.wait_for(PaymentProgress) == PaymentProgress(1, 100, 400)
    assert worker.payment.bus.insert_note(1000)
    printed = reports.wait_for(Printed)
    assert printed == Printed(1, 2, 2, change=700, owed=0)
    assert [(p.sheet, p.sheets) for p in reports.of(PrintProgress)] == [(0, 2), (1, 2), (2, 2)]
    # the change really left the hoppers: 1100 in, 400 kept
    assert hopper_yen(before) - hopper_yen(worker.payment.bus.hopper_levels()) == 700
    assert list(center_states(data).values()) == ["printed"]
    assert len(list((tmp_path / "printed").glob("*-copy*.pdf"))) == 2
    (receipt,) = (tmp_path / "printed").glob("receipt-*.txt")
    text = receipt.read_text(encoding="utf-8")
    for expected in ("住民票の写し", "2通", "¥400", "¥1,100", "¥700", "KIOSK-0001", "デモ店"):
        assert expected in text
    assert "山田" not in text
    journal_dump = "\n".join(sqlite3.connect(worker.journal.path).iterdump())
    for personal in ("山田", "太郎", "若葉", "1980", "123456789018"):
        assert personal not in journal_dump  # identifiers, amounts and steps only
    books = worker.journal.day_totals(TEST_CLOCK.now().date())
    assert books == {"documents": 2, "fees_yen": 400, "refunds_yen": 0, "faults": 0}
    assert worker.journal.cash_since_collection() == {100: 1, 1000: 1}
    worker.journal.cash_collected()
    assert worker.journal.cash_since_collection() == {}


def test_several_documents_in_one_visit_share_the_center_session(kiosk):
    worker, reports, data, _ = kiosk
    authenticate(worker, reports, "R0001")
    for document in ("residence_record", "seal_certificate"):
        pay_and_wait_open(worker, reports, document)
        worker.payment.bus.insert_coin(100)
        worker.payment.bus.insert_coin(100)
        reports.wait_for(Printed)
    assert list(center_states(data).values()) == ["printed", "printed"]


def test_cancel_gives_back_what_was_inserted_and_voids_the_request(kiosk):
    worker, reports, data, tmp_path = kiosk
    authenticate(worker, reports, "R0001")
    before = worker.payment.bus.hopper_levels()
    pay_and_wait_open(worker, reports)
    worker.payment.bus.insert_coin(100)
    reports.wait_for(PaymentProgress)
    worker.cancel_payment(1)
    assert reports.wait_for(PaymentCancelled) == PaymentCancelled(1, refunded=100, owed=0)
    assert hopper_yen(before) - hopper_yen(worker.payment.bus.hopper_levels()) == 100
    assert list(center_states(data).values()) == ["voided"]
    assert not list((tmp_path / "printed").glob("*.pdf"))
    assert not worker.payment.bus.insert_coin(100)  # the acceptor is closed again
    assert worker.journal.unfinished() == []


def test_payment_time_limit_cancels_and_refunds(stub, tmp_path):
    reports = Reports()
    worker = paid_worker(paid_config(stub, tmp_path, payment={"timeout_s": 0.5}), reports)
    try:
        authenticate(worker, reports, "R0001")
        pay_and_wait_open(worker, reports)
        worker.payment.bus.insert_coin(50)
        assert reports.wait_for(PaymentCancelled, timeout=10) == PaymentCancelled(1, refunded=50)
        assert list(center_states(stub[1]).values()) == ["voided"]
    finally:
        worker.shutdown()


def test_a_jam_ends_the_payment_with_the_money_back(kiosk):
    worker, reports, data, _ = kiosk
    authenticate(worker, reports, "R0001")
    pay_and_wait_open(worker, reports)
    worker.payment.bus.insert_coin(100)
    reports.wait_for(PaymentProgress)
    worker.payment.bus.jam()
    assert reports.wait_for(PaymentProblem) == PaymentProblem(1, "payment_jammed", refunded=100, owed=0)
    assert list(center_states(data).values()) == ["voided"]
    assert worker.journal.day_totals(TEST_CLOCK.now().date())["refunds_yen"] == 100


def test_line_noise_on_the_bus_loses_no_coin(kiosk):
    worker, reports, data, _ = kiosk
    authenticate(worker, reports, "R0001")
    pay_and_wait_open(worker, reports)
    worker.payment.bus.insert_coin(100)
    worker.payment.bus.send_garbage(b"\xa5\x00")
    worker.payment.bus.insert_coin(100)
    assert reports.wait_for(Printed).change == 0
    assert list(center_states(data).values()) == ["printed"]


def test_a_lost_acceptor_says_what_is_owed(kiosk):
    worker, reports, data, _ = kiosk
    authenticate(worker, reports, "R0001")
    pay_and_wait_open(worker, reports)
    worker.payment.bus.insert_coin(100)
    reports.wait_for(PaymentProgress)
    worker.payment.bus.disappear()
    assert reports.wait_for(PaymentProblem) == PaymentProblem(1, "payment_lost", refunded=0, owed=100)
    assert list(center_states(data).values()) == ["voided"]


def test_change_that_cannot_be_given_gives_the_fee_back(kiosk):
    worker, reports, data, tmp_path = kiosk
    authenticate(worker, reports, "R0001")
    pay_and_wait_open(worker, reports)  # the offer takes a 1000-yen note: the hoppers are full
    for value in (50, 100, 500):
        worker.payment.bus.set_hopper_level(value, 0)  # then a clerk empties them (or they jam)
    worker.payment.bus.set_hopper_level(10, 30)
    worker.payment.bus.insert_note(1000)
    problem = reports.wait_for(PaymentProblem)
    # 300 yen of 10-yen coins came out; the other 700 is owed by staff; nothing printed
    assert problem == PaymentProblem(1, "change_short", refunded=300, owed=700)
    assert list(center_states(data).values()) == ["voided"]
    assert not list((tmp_path / "printed").glob("*.pdf"))


def test_nothing_is_issued_or_taken_while_the_printer_cannot_print(stub, tmp_path):
    reports = Reports()
    worker = paid_worker(paid_config(stub, tmp_path, printer={"paper_sheets": 0}), reports)
    try:
        authenticate(worker, reports, "R0001")
        worker.request_and_pay(1, "residence_record", DocumentOptions(), 1)
        problem = reports.wait_for(PrintProblem)
        assert problem.code == "printer_printer_unavailable" and problem.refunded == 0
        assert center_states(stub[1]) == {}
        assert not worker.payment.bus.insert_coin(100)
    finally:
        worker.shutdown()


def test_a_store_name_the_receipt_printer_cannot_print_is_refused_at_start(stub, tmp_path):
    from kiosk.config import ConfigError

    with pytest.raises(ConfigError, match=r"receipt_printer\.store_name.*U\+1F359"):
        paid_config(stub, tmp_path, receipt_printer={"store_name": "おにぎり🍙"})


def test_the_receipt_on_the_thermal_printer_and_a_receipt_printer_out_of_paper(stub, tmp_path, receipt_emulator):
    reports = Reports()
    receipt = {"kind": "escpos", "port": receipt_emulator.tty_path, "directory": None}
    worker = paid_worker(paid_config(stub, tmp_path, receipt_printer=receipt), reports)
    try:
        authenticate(worker, reports, "R0001")
        pay_and_wait_open(worker, reports)
        worker.payment.bus.insert_coin(500)
        assert reports.wait_for(Printed).change == 300
        (printed,) = receipt_emulator.receipts
        text = "\n".join(printed)
        for expected in ("住民票の写し", "¥200", "¥500", "¥300", "KIOSK-0001"):
            assert expected in text
        receipt_emulator.run_out_of_paper()
        pay_and_wait_open(worker, reports, "seal_certificate")
        worker.payment.bus.insert_coin(100)
        worker.payment.bus.insert_coin(100)
        reports.wait_for(Printed)  # the certificate is what was paid for; the receipt is not
        assert worker.journal.day_totals(TEST_CLOCK.now().date())["faults"] == 1
        assert list(center_states(stub[1]).values()) == ["printed", "printed"]
    finally:
        worker.shutdown()


def test_a_bug_mid_session_is_settled_by_the_reconciliation_after_the_visit(kiosk, monkeypatch):
    from kiosk.events import ServiceProblem

    worker, reports, data, _ = kiosk
    authenticate(worker, reports, "R0001")
    before = hopper_yen(worker.payment.bus.hopper_levels())

    def broken(*args, **kwargs):
        raise RuntimeError("a bug in a driver")

    monkeypatch.setattr(worker.printer, "print_pdf", broken)
    worker.request_and_pay(1, "residence_record", DocumentOptions(), 1)
    reports.wait_for(PaymentOpened)
    worker.payment.bus.insert_coin(500)
    with pytest.raises(AssertionError, match="internal_error"):
        reports.wait_for(Printed)
    assert not worker.payment.bus.insert_coin(100)  # the acceptor closed at once
    worker.end_visit()  # the reconciliation runs on the worker thread after the visit
    deadline = time.monotonic() + 20
    while not worker.last_reconciled and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [r.outcome for r in worker.last_reconciled] == ["refunded"]
    assert before - hopper_yen(worker.payment.bus.hopper_levels()) == 500
    assert list(center_states(data).values()) == ["voided"]
