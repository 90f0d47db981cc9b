"""The stub's SQLite registry: residents, households, cards, and the protocol's own
records (challenges, sessions, issuances, audit).

Every request opens its own connection and works inside one transaction, so two
requests never share mutable state in memory.
"""
from __future__ import annotations

import sqlite3
import tomllib
from contextlib import contextmanager
from datetime import date
from pathlib import Path

from printouts.records import HouseholdMember

SCHEMA = """
CREATE TABLE IF NOT EXISTS municipalities (code TEXT PRIMARY KEY, name TEXT NOT NULL, mayor TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS offered_documents (
    municipality TEXT NOT NULL REFERENCES municipalities(code), type TEXT NOT NULL,
    fee_yen INTEGER NOT NULL, PRIMARY KEY (municipality, type));
CREATE TABLE IF NOT EXISTS households (
    id TEXT PRIMARY KEY, municipality TEXT NOT NULL REFERENCES municipalities(code), address TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS residents (
    id TEXT PRIMARY KEY, household TEXT NOT NULL REFERENCES households(id), position INTEGER NOT NULL,
    name TEXT NOT NULL, name_kana TEXT NOT NULL, birth_date TEXT NOT NULL, sex TEXT NOT NULL,
    relationship TEXT NOT NULL, became_resident_on TEXT NOT NULL, my_number TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS cards (
    cert_sha256 TEXT PRIMARY KEY, resident TEXT NOT NULL REFERENCES residents(id), card_id TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS challenges (
    id TEXT PRIMARY KEY, terminal TEXT NOT NULL, nonce BLOB NOT NULL, expires_at REAL NOT NULL,
    used INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS sessions (
    id TEXT PRIMARY KEY, terminal TEXT NOT NULL, resident TEXT NOT NULL, cert_sha256 TEXT NOT NULL,
    expires_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS issuances (
    request_id TEXT PRIMARY KEY, session TEXT NOT NULL REFERENCES sessions(id), terminal TEXT NOT NULL,
    document_type TEXT NOT NULL, copies INTEGER NOT NULL, serial TEXT NOT NULL UNIQUE,
    pdf BLOB NOT NULL, manifest TEXT NOT NULL, signature BLOB NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('issued', 'printed', 'voided')), created_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS audit (
    at REAL NOT NULL, event TEXT NOT NULL, terminal TEXT, session TEXT, request TEXT,
    outcome TEXT NOT NULL);
"""


class Registry:
    def __init__(self, path: Path):
        self.path = Path(path)

    @contextmanager
    def transaction(self):
        """One connection per unit of work; IMMEDIATE so concurrent writers queue
        instead of interleaving."""
        conn = sqlite3.connect(self.path, timeout=10, isolation_level=None)
        conn.row_factory = sqlite3.Row
        try:
            conn.execute("BEGIN IMMEDIATE")
            yield conn
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        finally:
            conn.close()

    def create(self, seed: dict) -> None:
        conn = sqlite3.connect(self.path)
        with conn:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.executescript(SCHEMA)
            for m in seed["municipalities"]:
                conn.execute("INSERT INTO municipalities VALUES (?,?,?)", (m["code"], m["name"], m["mayor"]))
                for d in m.get("documents", []):
                    conn.execute("INSERT INTO offered_documents VALUES (?,?,?)",
                                 (m["code"], d["type"], d["fee_yen"]))
            for h in seed["households"]:
                conn.execute("INSERT INTO households VALUES (?,?,?)", (h["id"], h["municipality"], h["address"]))
                for position, r in enumerate(h["members"]):
                    conn.execute("INSERT INTO residents VALUES (?,?,?,?,?,?,?,?,?,?)",
                                 (r["id"], h["id"], position, r["name"], r["name_kana"],
                                  r["birth_date"].isoformat(), r["sex"], r["relationship"],
                                  r["became_resident_on"].isoformat(), r["my_number"]))
        conn.close()

    def register_card(self, cert_sha256: str, resident: str, card_id: str) -> None:
        with self.transaction() as conn:
            conn.execute("INSERT INTO cards VALUES (?,?,?)", (cert_sha256, resident, card_id))


def load_seed(path: Path) -> dict:
    with open(path, "rb") as f:
        return tomllib.load(f)


def member_from_row(row: sqlite3.Row) -> HouseholdMember:
    return HouseholdMember(name=row["name"], name_kana=row["name_kana"],
                           birth_date=date.fromisoformat(row["birth_date"]), sex=row["sex"],
                           relationship=row["relationship"],
                           became_resident_on=date.fromisoformat(row["became_resident_on"]))
