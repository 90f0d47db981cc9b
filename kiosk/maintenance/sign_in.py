"""Staff sign-in: the PIN pad's digits, the check against the stored hash off the
frame loop, wrong tries and the lockout, and who is signed in (for the audit log).

The digits typed live in one bytearray that is zeroed when checked, cleared or
closed; the check gets its own copy, zeroed on the records thread once checked.
"""
from __future__ import annotations

from typing import Callable

from devices.card.card_commands import wipe
from kiosk.config import MaintenanceConfig
from kiosk.maintenance.audit import AuditLog
from kiosk.maintenance.jobs import Jobs, Loaded
from kiosk.maintenance.lockout import Lockout
from kiosk.maintenance.staff_pin import MAX_DIGITS, MIN_DIGITS, verify_pin

STAFF = "staff"  # one staff PIN, so one identity in the audit log
NOBODY = "-"  # before a PIN was accepted


class SignIn:
    def __init__(self, config: MaintenanceConfig, audit: AuditLog, lockout: Lockout, jobs: Jobs,
                 wall_clock: Callable[[], float]):
        self._config, self._audit, self._lockout, self._jobs = config, audit, lockout, jobs
        self.wall = wall_clock
        self.who = NOBODY
        self.pin = bytearray()
        self.wrong = False  # the last PIN checked was wrong
        self.verifying = False
        self.last_input = 0.0
        # Read once at start, before the frame loop runs; kept current from each check.
        self.locked_until = lockout.locked_until(wall_clock())
        self.tries_left = lockout.tries_left()

    def record(self, action: str, detail: str = "") -> None:
        """An audit record in the name of whoever is at the pad, written off the frame loop."""
        self._jobs.on_records("record", self._audit.record, self.who, action, detail)

    def opened(self) -> None:
        self.who, self.wrong = NOBODY, False
        self.record("pin_pad_opened")

    def closed(self, why: str) -> None:
        self.wipe()
        self.record("sign_out" if self.who == STAFF else "pin_pad_closed", why)
        self.who = NOBODY

    def touched(self, now: float) -> None:
        self.last_input = now

    def idle(self, now: float) -> bool:
        """Untouched for the idle limit; never while a PIN is being checked."""
        return now - self.last_input >= self._config.idle_timeout_s and not self.verifying

    def wipe(self) -> None:
        wipe(self.pin)
        self.pin.clear()

    def type(self, action: str) -> None:
        """A digit, clear or OK on the pad; OK starts the check, reported as a Loaded "sign_in"."""
        if self.verifying:
            return
        if action == "clear":
            self.wipe()
        elif action.startswith("digit:") and len(self.pin) < MAX_DIGITS:
            self.pin.append(ord(action[-1]))
        elif action == "ok" and len(self.pin) >= MIN_DIGITS:
            pin = bytearray(self.pin)
            self.wipe()
            self.verifying = True
            self._jobs.on_records("sign_in", self._check, pin)

    def checked(self, result: Loaded | None) -> bool:
        """Takes the check's answer (None: the state file failed); True if the PIN was right."""
        self.verifying = False
        if result is None:
            return False
        verdict, self.locked_until, self.tries_left = result.data
        self.wrong = verdict == "wrong"
        return verdict == "ok"

    def admit(self) -> None:
        """The PIN was right and the pad still open: what follows is done as staff."""
        self.who = STAFF

    # --- the records thread ---------------------------------------------------------

    def _check(self, pin: bytearray) -> Loaded:
        try:
            return Loaded("sign_in", self._verdict(pin))
        finally:
            wipe(pin)

    def _verdict(self, pin: bytearray) -> tuple[str, float | None, int]:
        wall = self.wall()
        until = self._lockout.locked_until(wall)
        if until is not None:
            self._audit.record(NOBODY, "sign_in_refused", "locked out")
            return "locked", until, 0
        if verify_pin(pin, self._config.staff_pin_hash):
            self._lockout.succeeded()
            self._audit.record(STAFF, "sign_in", "staff PIN accepted")
            return "ok", None, self._lockout.max_tries
        locked = self._lockout.failed(wall)
        left = self._lockout.tries_left()
        self._audit.record(NOBODY, "sign_in_refused", f"wrong staff PIN, tries_left={0 if locked else left}")
        if locked:
            self._audit.record(NOBODY, "locked_out", f"for {self._lockout.lockout_s:g} s")
            return "locked", wall + self._lockout.lockout_s, 0
        return "wrong", None, left
