"""What staff read back about the kiosk's day: faults it met and sessions it served.

Fed from the worker's reports as the frame loop receives them (`note`), so it holds
the kiosk's own view: a code per fault and change owed, never who was served.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from kiosk.events import (CardPresence, CardProblem, PaymentCancelled, PaymentProblem, Printed, PrintProblem,
                          ServiceProblem, ServiceStatus, WorkerReport)
from kiosk.maintenance.state_db import StateDb
from kiosk.clock import WallClock

# Card problems that point at the kiosk rather than at the resident's card or PIN.
DEVICE_CARD_PROBLEMS = {"reader", "card_error"}


@dataclass(frozen=True)
class Fault:
    at: dt.datetime  # in Japan time
    code: str
    owed_yen: int = 0


def fault_of(report: WorkerReport | CardPresence | ServiceStatus, now: dt.datetime) -> Fault | None:
    """The fault a report tells of, if it is one staff should know about."""
    if isinstance(report, ServiceStatus):
        return None if report.reachable else Fault(now, "service_unreachable")
    if isinstance(report, CardPresence):
        return Fault(now, "reader_lost") if report.reader_lost else None
    if isinstance(report, CardProblem):
        return Fault(now, report.code) if report.code in DEVICE_CARD_PROBLEMS else None
    if isinstance(report, ServiceProblem):
        return Fault(now, report.code) if report.code in ("service_unreachable", "internal_error") else None
    if isinstance(report, (PaymentProblem, PrintProblem)):
        return Fault(now, report.code, report.owed)
    if isinstance(report, (PaymentCancelled, Printed)) and report.owed:
        return Fault(now, "change_owed", report.owed)
    return None


class History:
    def __init__(self, db: StateDb, clock: WallClock):
        """`clock` dates faults and sessions, so their days are the journal's."""
        self._db, self._clock = db, clock
        self._last_visit: int | None = None

    def note(self, report: WorkerReport | CardPresence | ServiceStatus) -> Fault | None:
        """Counts a session the first time a report names a new visit; keeps any fault."""
        now = self._clock.now()
        day = now.date().isoformat()
        if isinstance(report, WorkerReport) and report.visit and report.visit != self._last_visit:
            self._last_visit = report.visit
            with self._db.connect() as db:
                db.execute("INSERT INTO sessions (day, count) VALUES (?, 1) "
                           "ON CONFLICT (day) DO UPDATE SET count = count + 1", (day,))
        fault = fault_of(report, now)
        if fault is not None:
            with self._db.connect() as db:
                db.execute("INSERT INTO faults (at, day, code, owed_yen) VALUES (?, ?, ?, ?)",
                           (fault.at.isoformat(timespec="seconds"), day, fault.code, fault.owed_yen))
        return fault

    def sessions_on(self, day: dt.date) -> int:
        with self._db.connect() as db:
            row = db.execute("SELECT count FROM sessions WHERE day = ?", (day.isoformat(),)).fetchone()
        return row[0] if row else 0

    def faults_on(self, day: dt.date) -> int:
        with self._db.connect() as db:
            return db.execute("SELECT COUNT(*) FROM faults WHERE day = ?", (day.isoformat(),)).fetchone()[0]

    def recent_faults(self, limit: int = 4) -> list[Fault]:
        with self._db.connect() as db:
            rows = db.execute("SELECT at, code, owed_yen FROM faults ORDER BY id DESC LIMIT ?", (limit,)).fetchall()
        return [Fault(dt.datetime.fromisoformat(at), code, owed) for at, code, owed in rows]
