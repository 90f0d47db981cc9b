"""The maintenance records in the kiosk's state folder: one small SQLite file.

Each call opens its own short connection, so the frame loop's thread and the action
threads never share one; writes are single statements, committed at once.
"""
from __future__ import annotations

import sqlite3
from contextlib import closing, contextmanager
from pathlib import Path

FILE_NAME = "maintenance.sqlite"

SCHEMA = """
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,        -- UTC, ISO 8601
    who TEXT NOT NULL,       -- "staff", or "-" before anyone signed in
    action TEXT NOT NULL,
    detail TEXT NOT NULL     -- identifiers and outcomes, never resident data
);
CREATE TABLE IF NOT EXISTS lockout (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    failures INTEGER NOT NULL,
    locked_until REAL NOT NULL  -- wall-clock seconds, so it holds across restarts
);
CREATE TABLE IF NOT EXISTS faults (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    day TEXT NOT NULL,       -- the Japan date it happened on
    code TEXT NOT NULL,
    owed_yen INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS sessions (
    day TEXT PRIMARY KEY,
    count INTEGER NOT NULL
);
"""


class StateDb:
    def __init__(self, state_dir: Path):
        state_dir.mkdir(parents=True, exist_ok=True)
        self.path = state_dir / FILE_NAME
        with self.connect() as db:
            db.executescript(SCHEMA)

    @contextmanager
    def connect(self):
        with closing(sqlite3.connect(self.path, timeout=5)) as db:
            with db:  # commits, or rolls back on an error
                yield db
