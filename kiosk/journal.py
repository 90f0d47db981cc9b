"""The kiosk's local journal: every paid session's steps, the cash and the paper.

SQLite in WAL mode with synchronous=FULL, so a step is on disk before the kiosk acts
on it: a power cut leaves either the step and maybe its action, or neither. At start,
kiosk.reconcile finishes every unfinished session from these steps. A payout's intent
carries the hoppers' value at that moment, so a payout cut short can be measured.

Identifiers, amounts and steps only: a transaction number, the center's request ids,
document types, yen and sheet counts. Nothing about the resident.
"""
from __future__ import annotations

import datetime as dt
import os
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path

from kiosk.clock import JST, WallClock  # the kiosk's books keep Japan's days

# The steps of a paid session, in the order they normally come.
ISSUING = "issuing"  # request id chosen, about to ask the center
REFUSED = "refused"  # the center refused the request: nothing was issued; detail = its code
ISSUED = "issued"  # the center answered and the document is bound to the card; amount = fee
PAYMENT_OPEN = "payment_open"  # amount = due
CREDIT = "credit"  # a coin or note counted; amount = its value
PAID = "paid"  # amount = everything credited
CHANGE = "change"  # about to pay change; amount = change, detail = hoppers' yen before
CHANGE_PAID = "change_paid"  # amount = change that came out
PRINTING = "printing"  # about to send the document to the printer
SHEET = "sheet"  # amount = sheets of this job out so far
PRINTED = "printed"  # the printer finished the whole job
CONFIRMED = "confirmed"  # the center knows it was printed
RECEIPT = "receipt"
REFUND = "refund"  # about to give money back; amount, detail = hoppers' yen before
REFUNDED = "refunded"  # amount = money that came out
VOIDING = "voiding"  # about to void request_id at the center
VOIDED = "voided"
REPRINT = "reprint"  # paper ran out: a new request for the same paid document
OWED = "owed"  # amount the hoppers could not pay: staff owe it to the resident
FAULT = "fault"  # detail = what went wrong, for the books
CLOSED = "closed"  # detail = outcome: printed, refunded, voided, refused

OUTCOMES = ("printed", "refunded", "voided", "refused")

# Test only: the kiosk process dies right after this step is on disk (power cut tests).
CRASH_AT_ENV = "KIOSK_TEST_CRASH_AT"

SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    txn TEXT PRIMARY KEY, started_at REAL NOT NULL, document_type TEXT NOT NULL,
    copies INTEGER NOT NULL, outcome TEXT);
CREATE TABLE IF NOT EXISTS steps (
    id INTEGER PRIMARY KEY, txn TEXT NOT NULL REFERENCES sessions(txn), at REAL NOT NULL,
    step TEXT NOT NULL, request_id TEXT, amount INTEGER, detail TEXT);
CREATE INDEX IF NOT EXISTS steps_by_txn ON steps(txn, id);
CREATE TABLE IF NOT EXISTS cash (
    id INTEGER PRIMARY KEY, at REAL NOT NULL, txn TEXT, direction TEXT NOT NULL CHECK (direction IN ('in', 'out')),
    value INTEGER NOT NULL, count INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS paper (id INTEGER PRIMARY KEY, at REAL NOT NULL, refill INTEGER, used INTEGER);
CREATE TABLE IF NOT EXISTS collections (id INTEGER PRIMARY KEY, at REAL NOT NULL, last_cash_id INTEGER NOT NULL);
"""


@dataclass(frozen=True)
class Step:
    step: str
    request_id: str | None
    amount: int | None
    detail: str | None


@dataclass(frozen=True)
class Entry:
    """One paid session as the journal has it, with what its steps add up to."""

    txn: str
    document_type: str
    copies: int
    steps: tuple[Step, ...]

    def has(self, step: str, request_id: str | None = None) -> bool:
        return any(s.step == step and (request_id is None or s.request_id == request_id) for s in self.steps)

    def total(self, step: str) -> int:
        return sum(s.amount or 0 for s in self.steps if s.step == step)

    def last(self, step: str) -> Step | None:
        return next((s for s in reversed(self.steps) if s.step == step), None)

    def settled(self, request_id: str) -> bool:
        """The center knows this request's fate: printed, voided, or never issued."""
        return any(s.request_id == request_id and s.step in (CONFIRMED, VOIDED, REFUSED) for s in self.steps)

    @property
    def request_ids(self) -> list[str]:
        """Every request this session asked the center for, in order."""
        return list(dict.fromkeys(s.request_id for s in self.steps if s.step == ISSUING))

    @property
    def request_id(self) -> str | None:
        ids = self.request_ids
        return ids[-1] if ids else None

    @property
    def fee(self) -> int:
        issued = self.last(ISSUED)
        return issued.amount if issued else 0

    @property
    def credited(self) -> int:
        return self.total(CREDIT)

    @property
    def given_back(self) -> int:
        """Change and refunds that came out of the hoppers."""
        return self.total(CHANGE_PAID) + self.total(REFUNDED)

    def unsettled_payout(self) -> Step | None:
        """A CHANGE or REFUND intent with no record of what came out."""
        pending = None
        for s in self.steps:
            if s.step in (CHANGE, REFUND):
                pending = s
            elif s.step in (CHANGE_PAID, REFUNDED):
                pending = None
        return pending


class Journal:
    def __init__(self, path: str | os.PathLike[str], clock: WallClock = WallClock.real()):
        """`clock` dates every row, so the day's totals are the days the receipts name."""
        self.path = Path(path)
        self._clock = clock
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(SCHEMA)
        self._lock = threading.Lock()  # the worker writes; the staff screens read
        self._crash_at = os.environ.get(CRASH_AT_ENV)

    def close(self) -> None:
        self._db.close()

    def _now(self) -> float:
        return self._clock.now().timestamp()

    def _write(self, sql: str, args: tuple) -> None:
        with self._lock:
            self._db.execute(sql, args)

    # --- a paid session ----------------------------------------------------------

    def begin(self, txn: str, document_type: str, copies: int) -> None:
        self._write("INSERT INTO sessions (txn, started_at, document_type, copies) VALUES (?,?,?,?)",
                    (txn, self._now(), document_type, copies))

    def step(self, txn: str, step: str, *, request_id: str | None = None, amount: int | None = None,
             detail: str | None = None, coins: dict[int, int] | None = None) -> None:
        """Record a step; `coins` that went in (CREDIT) or out (CHANGE_PAID, REFUNDED)
        go to the cash books in the same transaction."""
        now = self._now()
        with self._lock:
            with self._db:
                self._db.execute("BEGIN IMMEDIATE")
                self._db.execute("INSERT INTO steps (txn, at, step, request_id, amount, detail) VALUES (?,?,?,?,?,?)",
                                 (txn, now, step, request_id, amount, detail))
                direction = "in" if step == CREDIT else "out"
                for value, count in (coins or {}).items():
                    if count:
                        self._db.execute("INSERT INTO cash (at, txn, direction, value, count) VALUES (?,?,?,?,?)",
                                         (now, txn, direction, value, count))
                if step == SHEET:
                    self._db.execute("INSERT INTO paper (at, used) VALUES (?, 1)", (now,))
                if step == CLOSED:
                    self._db.execute("UPDATE sessions SET outcome = ? WHERE txn = ?", (detail, txn))
        if self._crash_at == step:
            os._exit(86)  # test only: the power cut, right after the step is on disk

    def entry(self, txn: str) -> Entry:
        with self._lock:
            session = self._db.execute("SELECT document_type, copies FROM sessions WHERE txn = ?", (txn,)).fetchone()
            rows = self._db.execute("SELECT step, request_id, amount, detail FROM steps WHERE txn = ? ORDER BY id",
                                    (txn,)).fetchall()
        return Entry(txn, session[0], session[1], tuple(Step(*row) for row in rows))

    def unfinished(self) -> list[Entry]:
        with self._lock:
            txns = [row[0] for row in self._db.execute(
                "SELECT txn FROM sessions WHERE outcome IS NULL ORDER BY started_at")]
        return [self.entry(txn) for txn in txns]

    def outcomes(self) -> dict[str, str | None]:
        with self._lock:
            return dict(self._db.execute("SELECT txn, outcome FROM sessions"))

    # --- the books, for the staff maintenance screens -------------------------------

    def day_totals(self, day: dt.date) -> dict:
        """One day in Japan: documents printed (copies), fees kept, money refunded, faults."""
        start = dt.datetime.combine(day, dt.time(), JST).timestamp()
        end = start + 86400
        with self._lock:
            documents, fees = self._db.execute(
                "SELECT COALESCE(SUM(s.copies), 0), COALESCE(SUM((SELECT amount FROM steps i WHERE i.txn = s.txn"
                " AND i.step = ? ORDER BY id DESC LIMIT 1)), 0) FROM sessions s WHERE s.outcome = 'printed'"
                " AND (SELECT MAX(at) FROM steps c WHERE c.txn = s.txn AND c.step = ?) BETWEEN ? AND ?",
                (ISSUED, CLOSED, start, end)).fetchone()
            refunds, faults = self._db.execute(
                "SELECT COALESCE(SUM(CASE WHEN step = ? THEN amount END), 0),"
                " COUNT(CASE WHEN step = ? THEN 1 END) FROM steps WHERE at >= ? AND at < ?",
                (REFUNDED, FAULT, start, end)).fetchone()
        return {"documents": documents, "fees_yen": fees, "refunds_yen": refunds, "faults": faults}

    def paper_left(self) -> int | None:
        """Sheets left since the last refill; None if no refill was ever recorded."""
        with self._lock:
            refill = self._db.execute("SELECT id, refill FROM paper WHERE refill IS NOT NULL"
                                      " ORDER BY id DESC LIMIT 1").fetchone()
            if refill is None:
                return None
            used = self._db.execute("SELECT COALESCE(SUM(used), 0) FROM paper WHERE id > ?", (refill[0],)).fetchone()
        return max(0, refill[1] - used[0])

    def paper_refilled(self, sheets: int) -> None:
        if sheets < 0:
            raise ValueError(f"a refill cannot hold {sheets} sheets")
        self._write("INSERT INTO paper (at, refill) VALUES (?, ?)", (self._now(), sheets))

    def cash_since_collection(self) -> dict[int, int]:
        """Coins and notes taken in since the last collection: yen value -> count."""
        with self._lock:
            rows = self._db.execute(
                "SELECT value, SUM(count) FROM cash WHERE direction = 'in'"
                " AND id > COALESCE((SELECT last_cash_id FROM collections ORDER BY id DESC LIMIT 1), 0)"
                " GROUP BY value ORDER BY value").fetchall()
        return {value: count for value, count in rows}

    def cash_collected(self) -> None:
        self._write("INSERT INTO collections (at, last_cash_id) VALUES (?, (SELECT COALESCE(MAX(id), 0) FROM cash))",
                    (self._now(),))
