"""The stub's SQLite registry: municipalities and their rules, residents, family
registers, seal registrations, tax records, cards, and the protocol's own records
(terminals, challenges, sessions, issuances, voided requests, audit).

Every unit of work (a request's read, or its one write) runs inside its own
transaction on a connection it holds alone, so two requests never share mutable state
in memory: a connection goes back to the process's pool only once its transaction has
ended.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import sqlite3
import threading
import tomllib
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

from municipal.revocation import REVOCATION_SCHEMA

REGISTRY_VERSION = 3  # PRAGMA user_version: demo data of an older layout is recreated
SCHEMA = """
CREATE TABLE municipalities (
    code TEXT PRIMARY KEY, name TEXT NOT NULL, mayor TEXT NOT NULL, hours TEXT NOT NULL,
    closed TEXT NOT NULL, maintenance_days TEXT NOT NULL, age_limit INTEGER NOT NULL,
    my_number_allowed INTEGER NOT NULL, name_limit INTEGER NOT NULL, address_limit INTEGER NOT NULL,
    family_register_hours TEXT NOT NULL, family_register_closed TEXT NOT NULL);
CREATE TABLE offered_documents (
    municipality TEXT NOT NULL REFERENCES municipalities(code), type TEXT NOT NULL,
    fee_yen INTEGER NOT NULL, PRIMARY KEY (municipality, type));
CREATE TABLE households (
    id TEXT PRIMARY KEY, municipality TEXT NOT NULL REFERENCES municipalities(code), address TEXT NOT NULL);
CREATE TABLE family_registers (
    id TEXT PRIMARY KEY, municipality TEXT NOT NULL REFERENCES municipalities(code),
    domicile TEXT NOT NULL, head TEXT NOT NULL, events TEXT NOT NULL);
CREATE TABLE residents (
    id TEXT PRIMARY KEY, household TEXT NOT NULL REFERENCES households(id), position INTEGER NOT NULL,
    name TEXT NOT NULL, name_kana TEXT NOT NULL, birth_date TEXT NOT NULL, sex TEXT NOT NULL,
    relationship TEXT NOT NULL, became_resident_on TEXT NOT NULL, my_number TEXT NOT NULL,
    nationality TEXT, residence_card_number TEXT, status_of_residence TEXT, period_of_stay TEXT,
    period_expires_on TEXT,
    family_register TEXT REFERENCES family_registers(id), family_register_enrolled INTEGER NOT NULL,
    removed_on TEXT, moved_out_on TEXT, protected INTEGER NOT NULL);
CREATE TABLE register_persons (
    register TEXT NOT NULL REFERENCES family_registers(id), position INTEGER NOT NULL,
    resident TEXT REFERENCES residents(id), name TEXT NOT NULL, birth_date TEXT NOT NULL,
    father TEXT NOT NULL, mother TEXT NOT NULL, relationship TEXT NOT NULL, events TEXT NOT NULL,
    PRIMARY KEY (register, position));
CREATE TABLE seals (
    resident TEXT NOT NULL REFERENCES residents(id), impression TEXT NOT NULL,
    registered_on TEXT NOT NULL, cancelled_on TEXT);
CREATE TABLE tax_records (
    resident TEXT NOT NULL REFERENCES residents(id), fiscal_year INTEGER NOT NULL, address TEXT NOT NULL,
    income_yen INTEGER NOT NULL, salary_revenue_yen INTEGER NOT NULL, deductions_yen INTEGER NOT NULL,
    taxable_income_yen INTEGER NOT NULL, municipal_tax_yen INTEGER NOT NULL,
    prefectural_tax_yen INTEGER NOT NULL, dependants INTEGER NOT NULL,
    PRIMARY KEY (resident, fiscal_year));
CREATE TABLE cards (
    cert_sha256 TEXT PRIMARY KEY, resident TEXT NOT NULL REFERENCES residents(id), card_id TEXT NOT NULL,
    issued_on TEXT NOT NULL);
-- The center's list of terminals (municipal.terminals): a client certificate TLS
-- accepted is a terminal's only while its serial (lower-case hex) is listed here.
CREATE TABLE terminals (
    terminal_id TEXT NOT NULL, serial TEXT NOT NULL, registered_at INTEGER NOT NULL,
    PRIMARY KEY (terminal_id, serial));
CREATE TABLE challenges (
    id TEXT PRIMARY KEY, terminal TEXT NOT NULL, nonce BLOB NOT NULL, expires_at REAL NOT NULL,
    used INTEGER NOT NULL DEFAULT 0);
-- The indexes on expires_at and at: municipal.housekeeping deletes rows past their life by them.
CREATE INDEX challenges_expiry ON challenges (expires_at);
CREATE TABLE sessions (
    id TEXT PRIMARY KEY, terminal TEXT NOT NULL, resident TEXT NOT NULL, cert_sha256 TEXT NOT NULL,
    expires_at REAL NOT NULL);
CREATE INDEX sessions_expiry ON sessions (expires_at);
CREATE TABLE issuances (
    request_id TEXT PRIMARY KEY, session TEXT NOT NULL REFERENCES sessions(id), terminal TEXT NOT NULL,
    request TEXT NOT NULL, serial TEXT NOT NULL UNIQUE, pdf BLOB NOT NULL, manifest TEXT NOT NULL,
    signature BLOB NOT NULL, content TEXT NOT NULL, code TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('issued', 'printed', 'voided')), created_at REAL NOT NULL,
    print_by REAL NOT NULL);
CREATE INDEX issuances_open ON issuances (state, print_by);
-- municipal.housekeeping drops each PDF at its print-by time, by this index.
CREATE INDEX issuances_pdf_kept ON issuances (print_by) WHERE length(pdf) > 0;
-- A request the kiosk voided before (or without) its issuance being recorded: the
-- request id can never produce a document for that terminal afterwards.
CREATE TABLE voided_requests (
    request_id TEXT NOT NULL, terminal TEXT NOT NULL, at REAL NOT NULL, PRIMARY KEY (terminal, request_id));
CREATE INDEX voided_requests_at ON voided_requests (at);
CREATE TABLE audit (
    at REAL NOT NULL, event TEXT NOT NULL, terminal TEXT, session TEXT, request TEXT,
    outcome TEXT NOT NULL);
CREATE INDEX audit_at ON audit (at);
"""

# Seed columns that may be left out, with their defaults.
_RESIDENT_OPTIONAL = {"nationality": None, "residence_card_number": None, "status_of_residence": None,
                      "period_of_stay": None, "period_expires_on": None, "family_register": None,
                      "family_register_enrolled": False, "removed_on": None, "moved_out_on": None,
                      "protected": False}


# Idle connections kept per process. Opening one parses the schema, and closing the
# last one checkpointed the WAL and deleted it: together ~1.5 ms per unit of work.
POOL_SIZE = 8
LOCK_TIMEOUT_S = 10.0  # how long a writer waits for another's transaction to end


class Registry:
    def __init__(self, path: Path):
        self.path = Path(path)
        self._idle: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._pid = os.getpid()

    def _connect(self) -> sqlite3.Connection:
        with self._lock:
            if self._pid != os.getpid():
                # A forked child must not use its parent's SQLite connections.
                self._idle, self._pid = [], os.getpid()
            if self._idle:
                return self._idle.pop()
        # Used by one holder at a time, whichever thread that is.
        conn = sqlite3.connect(self.path, timeout=LOCK_TIMEOUT_S, isolation_level=None, check_same_thread=False)
        conn.row_factory = sqlite3.Row
        return conn

    def _release(self, conn: sqlite3.Connection) -> None:
        """Back to the pool only with no transaction open on it."""
        with self._lock:
            if not conn.in_transaction and self._pid == os.getpid() and len(self._idle) < POOL_SIZE:
                self._idle.append(conn)
                return
        conn.close()

    @contextmanager
    def transaction(self):
        """One transaction per unit of work; IMMEDIATE so concurrent writers queue
        instead of interleaving."""
        conn = self._connect()
        try:
            conn.execute("BEGIN IMMEDIATE")
            yield conn
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        finally:
            self._release(conn)

    @asynccontextmanager
    async def writing(self):
        """transaction() for an event loop: while another process holds the write
        lock (a staff command, the public site), the loop serves other requests
        instead of sleeping in SQLite's busy handler (which sleeps 1, 2, 5, 10... ms
        at a time); the lock is tried again every 0.2 to 1 ms. The body must not
        await: it holds the write lock."""
        conn = self._connect()
        try:
            await _begin_immediate(conn)
            yield conn
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        finally:
            self._release(conn)

    @contextmanager
    def reading(self):
        """A transaction for reads: one snapshot, no write lock (WAL readers see the
        last commit)."""
        conn = self._connect()
        try:
            conn.execute("BEGIN")
            yield conn
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        finally:
            self._release(conn)

    def create(self, seed: dict) -> None:
        """Build the registry from a seed (municipal/seed/residents.toml's shape)."""
        conn = sqlite3.connect(self.path)
        with conn:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute(f"PRAGMA user_version = {REGISTRY_VERSION}")
            conn.executescript(SCHEMA + REVOCATION_SCHEMA)
            for m in seed["municipalities"]:
                conn.execute("INSERT INTO municipalities VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", (
                    m["code"], m["name"], m["mayor"], m["hours"], json.dumps(m["closed"]),
                    json.dumps([d.isoformat() for d in m["maintenance_days"]]), m["age_limit"],
                    m["my_number_allowed"], m["name_limit"], m["address_limit"],
                    m["family_register_hours"], json.dumps(m["family_register_closed"])))
                conn.executemany("INSERT INTO offered_documents VALUES (?,?,?)",
                                 [(m["code"], d["type"], d["fee_yen"]) for d in m["documents"]])
            for r in seed.get("family_registers", []):
                conn.execute("INSERT INTO family_registers VALUES (?,?,?,?,?)",
                             (r["id"], r["municipality"], r["domicile"], r["head"], _json(r["events"])))
                for position, p in enumerate(r["persons"]):
                    conn.execute("INSERT INTO register_persons VALUES (?,?,?,?,?,?,?,?,?)", (
                        r["id"], position, p.get("resident"), p["name"], p["birth_date"].isoformat(),
                        p["father"], p["mother"], p["relationship"], _json(p["events"])))
            for h in seed["households"]:
                conn.execute("INSERT INTO households VALUES (?,?,?)", (h["id"], h["municipality"], h["address"]))
                for position, r in enumerate(h["members"]):
                    r = {**_RESIDENT_OPTIONAL, **r}
                    conn.execute("INSERT INTO residents VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", (
                        r["id"], h["id"], position, r["name"], r["name_kana"], _iso(r["birth_date"]),
                        r["sex"], r["relationship"], _iso(r["became_resident_on"]), r["my_number"],
                        r["nationality"], r["residence_card_number"], r["status_of_residence"],
                        r["period_of_stay"], _iso(r["period_expires_on"]), r["family_register"],
                        r["family_register_enrolled"], _iso(r["removed_on"]), _iso(r["moved_out_on"]),
                        r["protected"]))
            for s in seed.get("seals", []):
                conn.execute("INSERT INTO seals VALUES (?,?,?,?)", (
                    s["resident"], s["impression"], _iso(s["registered_on"]), _iso(s.get("cancelled_on"))))
            for t in seed.get("tax_records", []):
                conn.execute("INSERT INTO tax_records VALUES (?,?,?,?,?,?,?,?,?,?)", (
                    t["resident"], t["fiscal_year"], t["address"], t["income_yen"], t["salary_revenue_yen"],
                    t["deductions_yen"], t["taxable_income_yen"], t["municipal_tax_yen"],
                    t["prefectural_tax_yen"], t["dependants"]))
        conn.close()

    def register_card(self, cert_sha256: str, resident: str, card_id: str, issued_on: dt.date) -> None:
        with self.transaction() as conn:
            conn.execute("INSERT INTO cards VALUES (?,?,?,?)", (cert_sha256, resident, card_id, issued_on.isoformat()))


async def _begin_immediate(conn: sqlite3.Connection) -> None:
    conn.execute("PRAGMA busy_timeout = 0")  # busy: fail at once, and wait here instead
    try:
        deadline, pause = asyncio.get_running_loop().time() + LOCK_TIMEOUT_S, 0.0002
        while True:
            try:
                conn.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                busy = exc.sqlite_errorcode & 0xFF == sqlite3.SQLITE_BUSY  # extended codes included
                if not busy or asyncio.get_running_loop().time() > deadline:
                    raise
            await asyncio.sleep(pause)
            pause = min(2 * pause, 0.001)
    finally:
        conn.execute(f"PRAGMA busy_timeout = {int(LOCK_TIMEOUT_S * 1000)}")


def registry_version(path: Path) -> int | None:
    if not path.exists():
        return None
    conn = sqlite3.connect(path)
    try:
        return conn.execute("PRAGMA user_version").fetchone()[0]
    finally:
        conn.close()


def _iso(value: dt.date | None) -> str | None:
    return None if value is None else value.isoformat()


def _json(events: list[dict]) -> str:
    return json.dumps([{**e, "on": e["on"].isoformat()} for e in events], ensure_ascii=False)


def load_seed(path: Path) -> dict:
    with open(path, "rb") as f:
        return tomllib.load(f)
