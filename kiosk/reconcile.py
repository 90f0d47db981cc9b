"""Finishing every paid session the journal holds open, with the center and the cash.

Runs on the worker thread at start (after a power cut, say) and after each visit,
before any new payment. Each unfinished session ends one of two ways:

- printed: the printer finished the whole job. The center is told (confirmed).
- refunded and voided: anything else. Whatever came out of the printer belongs to a
  request the center now holds void, and the resident's money comes back: credit of a
  payment open at the cut, the fee of a paid one, change not yet given.

A payout that was cut short (an intent with no record of what came out) is measured
against the hoppers' value the intent recorded. The center unreachable leaves the
session open for the next run; money already given back is journaled and never paid
twice.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

from devices.payment import PaymentDevice, PaymentError
from kiosk import journal as j
from kiosk.issuance_client import IssuanceClient, IssuanceError, ServiceUnreachable
from kiosk.journal import Entry, Journal

log = logging.getLogger("kiosk.reconcile")


@dataclass(frozen=True)
class Reconciled:
    txn: str
    outcome: str  # printed, refunded, voided, or open (the center could not be reached)
    refunded: int = 0
    owed: int = 0


def reconcile(journal: Journal, center: IssuanceClient, payment: PaymentDevice | None) -> list[Reconciled]:
    results = []
    for entry in journal.unfinished():
        try:
            results.append(_finish(journal, center, payment, entry))
        except ServiceUnreachable as exc:
            log.warning("reconcile txn=%s left open: center unreachable (%s)", entry.txn, exc.code)
            results.append(Reconciled(entry.txn, "open"))
    for result in results:
        log.info("reconciled txn=%s outcome=%s refunded=%d owed=%d", result.txn, result.outcome, result.refunded,
                 result.owed)
    return results


def _finish(journal: Journal, center: IssuanceClient, payment: PaymentDevice | None, entry: Entry) -> Reconciled:
    txn = entry.txn

    def step(name: str, **values) -> None:
        journal.step(txn, name, **values)

    if payment is not None:
        try:
            payment.stop()  # a payment open at the cut takes no more
        except PaymentError as exc:
            log.warning("reconcile txn=%s: acceptor would not stop: %s", txn, exc)
    _settle_cut_payout(entry, payment, step)
    entry = journal.entry(txn)

    last = entry.request_id
    if last and entry.has(j.PRINTED, last) and not entry.has(j.VOIDING, last):
        if not entry.has(j.CONFIRMED, last):
            try:
                center.confirm_printed(last)
                step(j.CONFIRMED, request_id=last)
            except ServiceUnreachable:
                raise
            except IssuanceError as exc:
                step(j.FAULT, detail=f"confirm_{exc.code}")
                return _refund_and_void(journal, center, payment, journal.entry(txn), step)
        _void_others(entry, center, step, keep=last)
        refunded, owed = _give_back(entry.credited - entry.fee - entry.given_back - entry.total(j.OWED),
                                    payment, step, j.CHANGE, j.CHANGE_PAID)  # change not yet given
        step(j.CLOSED, detail="printed")
        return Reconciled(txn, "printed", refunded, owed)
    return _refund_and_void(journal, center, payment, entry, step)


def _refund_and_void(journal: Journal, center: IssuanceClient, payment: PaymentDevice | None, entry: Entry,
                     step) -> Reconciled:
    """Nothing valid was printed: every request voided, the resident's money back."""
    refunded, owed = _give_back(entry.credited - entry.given_back - entry.total(j.OWED), payment, step,
                                j.REFUND, j.REFUNDED)
    _void_others(entry, center, step, keep=None)
    outcome = "refunded" if entry.credited else "voided"
    step(j.CLOSED, detail=outcome)
    return Reconciled(entry.txn, outcome, refunded, owed)


def _give_back(amount: int, payment: PaymentDevice | None, step, intent: str, done: str) -> tuple[int, int]:
    """Pay `amount` from the hoppers: (paid, owed by staff)."""
    if amount <= 0:
        return 0, 0
    if payment is None:
        step(j.OWED, amount=amount, detail="no acceptor at reconciliation")
        return 0, amount
    try:
        before = sum(v * c for v, c in payment.change_available().items())
        step(intent, amount=amount, detail=str(before))
        payout = payment.pay_out(amount)
    except PaymentError as exc:
        step(j.OWED, amount=amount, detail=f"acceptor unreachable: {exc}"[:200])
        return 0, amount
    step(done, amount=payout.paid, coins=payout.coins)
    if not payout.complete:
        step(j.OWED, amount=payout.shortfall, detail="; ".join(payout.problems)[:200])
    return payout.paid, payout.shortfall


def _void_others(entry: Entry, center: IssuanceClient, step, keep: str | None) -> None:
    for request_id in entry.request_ids:
        if request_id == keep or entry.settled(request_id):
            continue
        step(j.VOIDING, request_id=request_id)
        center.void(request_id)  # ServiceUnreachable leaves the session open
        step(j.VOIDED, request_id=request_id)


def _settle_cut_payout(entry: Entry, payment: PaymentDevice | None, step) -> None:
    """A CHANGE or REFUND whose outcome was never written: what came out is what the
    hoppers lost since the intent recorded their value."""
    intent = entry.unsettled_payout()
    if intent is None:
        return
    done = j.CHANGE_PAID if intent.step == j.CHANGE else j.REFUNDED
    came_out = 0
    if payment is not None and intent.detail:
        try:
            now = sum(v * c for v, c in payment.change_available().items())
            came_out = max(0, min(intent.amount or 0, int(intent.detail) - now))
        except PaymentError as exc:
            log.warning("reconcile txn=%s: hoppers unreadable, payout counted as not made: %s", entry.txn, exc)
    step(done, amount=came_out, detail="measured at reconciliation")
