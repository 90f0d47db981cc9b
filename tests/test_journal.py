"""The local journal's books for the staff screens, and reconciliation of what a
power cut or a lost network left open, against a fake center and the real payment
driver on its emulated bus."""
from __future__ import annotations

import datetime as dt
import sqlite3

import pytest

from devices.payment import SimulatedPaymentDevice
from kiosk import journal as j
from kiosk.issuance_client import ServiceRefused, ServiceUnreachable
from kiosk.journal import JST, Journal
from kiosk.reconcile import reconcile


@pytest.fixture
def journal(tmp_path):
    book = Journal(tmp_path / "journal.sqlite")
    yield book
    book.close()


def hoppers(device) -> int:
    return sum(v * c for v, c in device.change_available().items())


def printed_session(journal: Journal, txn: str, fee: int, paid: int, copies: int = 1) -> None:
    journal.begin(txn, "residence_record", copies)
    journal.step(txn, j.ISSUING, request_id=f"{txn}-R")
    journal.step(txn, j.ISSUED, request_id=f"{txn}-R", amount=fee)
    journal.step(txn, j.CREDIT, amount=paid, coins={paid: 1})
    journal.step(txn, j.PAID, amount=paid)
    for sheet in (1, 2):
        journal.step(txn, j.SHEET, amount=sheet)
    journal.step(txn, j.PRINTED, request_id=f"{txn}-R")
    journal.step(txn, j.CONFIRMED, request_id=f"{txn}-R")
    journal.step(txn, j.CLOSED, detail="printed")


def test_the_journal_is_written_through_to_disk(journal, tmp_path):
    with sqlite3.connect(tmp_path / "journal.sqlite") as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert journal._db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL


def test_day_totals_count_one_japanese_day(journal):
    printed_session(journal, "T1", fee=300, paid=500, copies=2)
    journal.begin("T2", "seal_certificate", 1)
    journal.step("T2", j.ISSUED, request_id="T2-R", amount=200)
    journal.step("T2", j.CREDIT, amount=100, coins={100: 1})
    journal.step("T2", j.FAULT, detail="payment_jammed")
    journal.step("T2", j.REFUNDED, amount=100, coins={100: 1})
    journal.step("T2", j.CLOSED, detail="refunded")
    today = dt.datetime.now(JST).date()
    assert journal.day_totals(today) == {"documents": 2, "fees_yen": 300, "refunds_yen": 100, "faults": 1}
    assert journal.day_totals(today - dt.timedelta(days=1)) == {"documents": 0, "fees_yen": 0, "refunds_yen": 0,
                                                                "faults": 0}


def test_paper_left_counts_down_from_the_last_refill(journal):
    assert journal.paper_left() is None  # never told how much is in the tray
    journal.paper_refilled(100)
    printed_session(journal, "T1", fee=200, paid=200)
    assert journal.paper_left() == 98
    journal.paper_refilled(500)
    assert journal.paper_left() == 500
    with pytest.raises(ValueError):
        journal.paper_refilled(-1)


def test_cash_since_collection(journal):
    printed_session(journal, "T1", fee=200, paid=1000)
    printed_session(journal, "T2", fee=200, paid=100)
    printed_session(journal, "T3", fee=200, paid=100)
    assert journal.cash_since_collection() == {100: 2, 1000: 1}
    journal.cash_collected()
    assert journal.cash_since_collection() == {}
    printed_session(journal, "T4", fee=200, paid=500)
    assert journal.cash_since_collection() == {500: 1}


class Center:
    def __init__(self, confirm_error=None, void_error=None):
        self.confirm_error, self.void_error = confirm_error, void_error
        self.calls = []

    def confirm_printed(self, request_id):
        self.calls.append(("printed", request_id))
        if self.confirm_error:
            raise self.confirm_error

    def void(self, request_id):
        self.calls.append(("void", request_id))
        if self.void_error:
            raise self.void_error


def test_a_payment_open_at_the_cut_gets_its_credit_back_and_is_voided(journal):
    device = SimulatedPaymentDevice()
    before = hoppers(device)
    journal.begin("T1", "residence_record", 1)
    journal.step("T1", j.ISSUING, request_id="R1")
    journal.step("T1", j.ISSUED, request_id="R1", amount=200)
    journal.step("T1", j.PAYMENT_OPEN, amount=200)
    journal.step("T1", j.CREDIT, amount=100, coins={100: 1})
    journal.step("T1", j.CREDIT, amount=50, coins={50: 1})
    center = Center()
    (result,) = reconcile(journal, center, device)
    assert (result.outcome, result.refunded, result.owed) == ("refunded", 150, 0)
    assert before - hoppers(device) == 150
    assert center.calls == [("void", "R1")]
    assert journal.unfinished() == []
    assert reconcile(journal, center, device) == []  # never twice


def printed_not_confirmed(journal) -> None:
    """Session T1: request R1 issued, paid 200 yen in coins, printed, not yet confirmed."""
    journal.begin("T1", "residence_record", 1)
    for step in (j.ISSUING, j.ISSUED, j.PRINTING, j.PRINTED):
        journal.step("T1", step, request_id="R1", amount=200 if step == j.ISSUED else None)
    journal.step("T1", j.CREDIT, amount=200, coins={100: 2})


def test_a_printed_job_not_yet_confirmed_is_confirmed(journal):
    printed_not_confirmed(journal)
    device = SimulatedPaymentDevice()
    before = hoppers(device)
    center = Center()
    (result,) = reconcile(journal, center, device)
    assert result.outcome == "printed" and center.calls == [("printed", "R1")]
    assert hoppers(device) == before  # the fee is kept


def test_an_unreachable_center_leaves_the_session_open_until_it_answers(journal):
    journal.begin("T1", "residence_record", 1)
    journal.step("T1", j.ISSUING, request_id="R1")
    journal.step("T1", j.ISSUED, request_id="R1", amount=200)
    journal.step("T1", j.CREDIT, amount=200, coins={100: 2})
    device = SimulatedPaymentDevice()
    before = hoppers(device)
    (first,) = reconcile(journal, Center(void_error=ServiceUnreachable("down")), device)
    assert first.outcome == "open" and before - hoppers(device) == 200  # refunded already, voided not yet
    (second,) = reconcile(journal, Center(), device)
    assert second.outcome == "refunded" and before - hoppers(device) == 200  # not refunded twice


def test_a_confirmation_the_center_refuses_is_refunded(journal):
    printed_not_confirmed(journal)
    device = SimulatedPaymentDevice()
    (result,) = reconcile(journal, Center(confirm_error=ServiceRefused("request_expired", "late")), device)
    assert (result.outcome, result.refunded) == ("refunded", 200)


def test_a_payout_cut_short_is_measured_not_paid_twice(journal):
    device = SimulatedPaymentDevice()
    journal.begin("T1", "residence_record", 1)
    journal.step("T1", j.ISSUING, request_id="R1")
    journal.step("T1", j.ISSUED, request_id="R1", amount=200)
    journal.step("T1", j.CREDIT, amount=1000, coins={1000: 1})
    journal.step("T1", j.PAID, amount=1000)
    before = hoppers(device)
    journal.step("T1", j.CHANGE, amount=800, detail=str(before))
    device.pay_out(800)  # the change came out; the power went before it was written
    (result,) = reconcile(journal, Center(), device)
    assert (result.outcome, result.refunded) == ("refunded", 200)  # the fee, and only the fee
    assert before - hoppers(device) == 1000
    entry = journal.entry("T1")
    assert entry.total(j.CHANGE_PAID) == 800
