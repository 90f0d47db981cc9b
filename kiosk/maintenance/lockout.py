"""Wrong staff PINs: after `max_tries` in a row, no PIN is checked for `lockout_s`.

Kept in the state file by wall-clock time, so turning the kiosk off and on again
neither ends a lockout nor gives fresh tries.
"""
from __future__ import annotations

from kiosk.maintenance.state_db import StateDb


class Lockout:
    def __init__(self, db: StateDb, *, max_tries: int, lockout_s: float):
        self._db = db
        self.max_tries = max_tries
        self.lockout_s = lockout_s

    def _row(self) -> tuple[int, float]:
        with self._db.connect() as db:
            row = db.execute("SELECT failures, locked_until FROM lockout WHERE id = 1").fetchone()
        return row or (0, 0.0)

    def _save(self, failures: int, locked_until: float) -> None:
        with self._db.connect() as db:
            db.execute("INSERT OR REPLACE INTO lockout (id, failures, locked_until) VALUES (1, ?, ?)",
                       (failures, locked_until))

    def locked_until(self, wall_now: float) -> float | None:
        """When the lockout ends (wall-clock seconds), or None if PINs are checked now."""
        until = self._row()[1]
        return until if until > wall_now else None

    def tries_left(self) -> int:
        return self.max_tries - self._row()[0]

    def failed(self, wall_now: float) -> bool:
        """Counts a wrong PIN; True if that one started a lockout."""
        failures = self._row()[0] + 1
        if failures >= self.max_tries:
            self._save(0, wall_now + self.lockout_s)
            return True
        self._save(failures, 0.0)
        return False

    def succeeded(self) -> None:
        self._save(0, 0.0)
