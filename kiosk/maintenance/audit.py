"""Who did what in maintenance mode, and when: every sign-in, refusal and action.

Records hold a staff identifier, an action name and outcomes (counts, yen, reason
codes, device answers); nothing a resident typed or owns. Each record also goes to
the log, which systemd keeps in the journal.
"""
from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from kiosk.maintenance.state_db import StateDb

log = logging.getLogger("kiosk.maintenance.audit")


@dataclass(frozen=True)
class AuditRecord:
    at: str
    who: str
    action: str
    detail: str


class AuditLog:
    def __init__(self, db: StateDb):
        self._db = db

    def record(self, who: str, action: str, detail: str = "") -> None:
        at = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
        with self._db.connect() as db:
            db.execute("INSERT INTO audit (at, who, action, detail) VALUES (?, ?, ?, ?)", (at, who, action, detail))
        log.info("maintenance who=%s action=%s %s", who, action, detail,
                 extra={"kiosk_event": f"maintenance_{action}"})

    def records(self) -> list[AuditRecord]:
        with self._db.connect() as db:
            return [AuditRecord(*row) for row in db.execute("SELECT at, who, action, detail FROM audit ORDER BY id")]

    def last_of(self, *actions: str) -> AuditRecord | None:
        marks = ", ".join("?" * len(actions))
        with self._db.connect() as db:
            row = db.execute(f"SELECT at, who, action, detail FROM audit WHERE action IN ({marks}) "
                             "ORDER BY id DESC LIMIT 1", actions).fetchone()
        return AuditRecord(*row) if row else None
