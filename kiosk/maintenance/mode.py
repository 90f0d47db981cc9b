"""Maintenance mode: the staff's screens over the resident's, and what their taps do.

The frame loop asks four things of it: `wants_entry` (sees each touch; True when the
corner gesture completes on the welcome screen), `active`, `handle(tap, now)` while
active, and `view(now)` to draw. `note(report)` keeps the day's faults and sessions.

Everything that touches a device, a command or the state file runs on one of two
worker threads (devices; records and PIN checks), whose results come back through a
queue read at the start of each frame: the frame loop never waits.
"""
from __future__ import annotations

import datetime as dt
import logging
import queue
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Callable, Protocol

import pygame

from devices.printer.base import DocumentPrinter, PrinterError
from kiosk.config import MaintenanceConfig
from kiosk.device_checks import Check, printer_test_page
from kiosk.events import CardPresence, ServiceStatus, Tap, WorkerReport
from kiosk.i18n import N_
from kiosk.maintenance.audit import AuditLog
from kiosk.maintenance.gesture import CornerGesture
from kiosk.maintenance.history import Fault, History
from kiosk.maintenance.lockout import Lockout
from kiosk.maintenance.slips import CollectionSlip, slip_pdf, slip_receipt_lines
from kiosk.maintenance.staff_pin import MAX_DIGITS, MIN_DIGITS, verify_pin
from kiosk.maintenance.state_db import StateDb
from kiosk.maintenance.views import JOBS, build_view
from kiosk.screens import View
from kiosk.screens import build_view as resident_view
from kiosk.states import Machine, State
from printouts.receipt import JST

log = logging.getLogger("kiosk.maintenance")

STAFF = "staff"  # one staff PIN, so one identity in the audit log
NOBODY = "-"  # before a PIN was accepted
OUT_OF_SERVICE_REASONS = ("printer", "payment", "card_reader", "maintenance_work")


class Journal(Protocol):
    """The kiosk's books (kiosk/journal.py), as far as staff need them."""

    def day_totals(self, day: dt.date) -> dict: ...
    def paper_left(self) -> int | None: ...
    def paper_refilled(self, sheets: int) -> None: ...
    def cash_since_collection(self) -> dict[int, int]: ...
    def cash_collected(self) -> None: ...


class SlipPrinter(Protocol):
    """The receipt printer's part here: print a list of ReceiptLines and cut."""

    def print_lines(self, lines, *, timeout: float = 30.0): ...


def run_command(argv: tuple[str, ...]) -> subprocess.CompletedProcess:
    return subprocess.run(argv, capture_output=True, text=True, timeout=60)


@dataclass
class Summary:
    """What the staff screens show, read off the frame loop."""

    day_totals: dict = field(default_factory=dict)
    sessions: int = 0
    faults_today: int = 0
    recent_faults: list[Fault] = field(default_factory=list)
    paper_left: int | None = None
    cash: dict[int, int] = field(default_factory=dict)
    journal_problem: str | None = None


@dataclass(frozen=True)
class Outcome:
    """A finished action: `notice` for the screen (English msgid and values), `problem` if it failed."""

    job: str
    notice: str
    values: dict = field(default_factory=dict)
    problem: bool = False


@dataclass(frozen=True)
class Loaded:
    """A finished job whose result the screens read: sign_in, summary, recheck."""

    job: str
    data: object


class MaintenanceMode:
    def __init__(self, config: MaintenanceConfig, machine: Machine, *, terminal_id: str,
                 screen_size: tuple[int, int], checks: Callable[[], list[Check]], printer: DocumentPrinter,
                 printer_timeout_s: float = 120.0, receipt_printer: SlipPrinter | None = None,
                 journal: Journal | None = None, refill_paper: Callable[[int], None] | None = None,
                 command: Callable[[tuple[str, ...]], subprocess.CompletedProcess] = run_command,
                 language: str = "ja", wall_clock: Callable[[], float] = time.time):
        self.config = config
        self.default_language = language
        self.machine = machine
        self.terminal_id = terminal_id
        self._checks_fn, self._printer, self._receipt = checks, printer, receipt_printer
        self._printer_timeout_s = printer_timeout_s
        self._journal, self._command, self._wall = journal, command, wall_clock
        # The worker's, where it runs: it fills a simulated tray as well as the books.
        self._refill_paper = refill_paper or (journal.paper_refilled if journal is not None else None)
        db = StateDb(config.state_dir)
        self.audit = AuditLog(db)
        self.lockout = Lockout(db, max_tries=config.max_tries, lockout_s=config.lockout_s)
        self.history = History(db)
        self._gesture = CornerGesture(screen_size)
        self._results: queue.Queue[Outcome | Loaded] = queue.Queue()
        self._devices = ThreadPoolExecutor(1, thread_name_prefix="maintenance-devices")
        self._records = ThreadPoolExecutor(1, thread_name_prefix="maintenance-records")
        # Read once at start, before the frame loop runs; kept current from job results.
        self.locked_until = self.lockout.locked_until(wall_clock())
        self.tries_left = self.lockout.tries_left()
        last = self.audit.last_of("out_of_service", "back_in_service")
        if last is not None and last.action == "out_of_service":
            machine.out_of_service = last.detail.removeprefix("reason=")  # a restart keeps it
        self.active = False
        self.language = language
        self.screen = "pin"
        self.who = NOBODY
        self.pin = bytearray()
        self.pin_wrong = False
        self.verifying = False
        self.busy: str | None = None  # the device job running (a JOBS key)
        self.notice: Outcome | None = None
        self.confirming: str | None = None  # restart or shutdown, waiting for Yes
        self.checks: list[Check] | None = None
        self.checked_at: dt.datetime | None = None
        self.summary = Summary()
        self._last_input = 0.0

    # --- the frame loop's side ------------------------------------------------------

    def wants_entry(self, event: pygame.event.Event, now: float, machine: Machine) -> bool:
        """Sees every touch before the resident's screen does. True means the gesture
        was completed by this touch: maintenance opened and the touch is used up."""
        if self.active or getattr(event, "button", None) != 1:
            return False
        if machine.state is not State.WELCOME:
            self._gesture.reset()  # never during a resident's session
            return False
        if event.type == pygame.MOUSEBUTTONDOWN and self._gesture.down(event.pos, now):
            self._open(now)
            return True
        if event.type == pygame.MOUSEBUTTONUP:
            self._gesture.up(event.pos, now)
        return False

    def note(self, report: WorkerReport | CardPresence | ServiceStatus) -> None:
        self._records.submit(self._guarded, "note", self.history.note, report)

    def handle(self, tap: Tap, now: float) -> None:
        self._poll()
        self._last_input = now
        action = tap.action
        if action.startswith("lang:"):
            self.language = action.split(":", 1)[1]
        elif self.screen == "pin":
            self._pin_tap(action, now)
        elif action == "exit":
            self._close("exit")
        elif action.startswith("goto:"):
            self._go(action.split(":", 1)[1])
        elif self.screen == "confirm":
            self._confirm_tap(action)
        else:
            self._action(action)

    def view(self, now: float) -> View:
        self._poll()
        if now - self._last_input >= self.config.idle_timeout_s and not self.verifying:
            self._close("idle_timeout")
            return resident_view(self.machine, now)
        return build_view(self, now)

    # --- entering and leaving -----------------------------------------------------

    def _open(self, now: float) -> None:
        self.active, self.screen, self.who = True, "pin", NOBODY
        self.language = self.default_language
        self.pin_wrong, self.notice = False, None
        self._last_input = now
        self._record(NOBODY, "pin_pad_opened")

    def _close(self, why: str) -> None:
        self._wipe_pin()
        if self.who == STAFF:
            self._record(STAFF, "sign_out", why)
        else:
            self._record(NOBODY, "pin_pad_closed", why)
        self.active, self.who, self.screen, self.confirming = False, NOBODY, "pin", None
        self._gesture.reset()

    def _wipe_pin(self) -> None:
        self.pin[:] = bytes(len(self.pin))
        self.pin.clear()

    def _pin_tap(self, action: str, now: float) -> None:
        if self.verifying:
            return
        if action == "cancel":
            self._close("cancelled")
        elif action == "clear":
            self._wipe_pin()
        elif action.startswith("digit:") and len(self.pin) < MAX_DIGITS:
            self.pin.append(ord(action[-1]))
        elif action == "ok" and len(self.pin) >= MIN_DIGITS:
            pin = bytearray(self.pin)  # the thread wipes its copy once checked
            self._wipe_pin()
            self.verifying = True
            self._records.submit(self._guarded, "sign_in", self._check_pin, pin)

    def _check_pin(self, pin: bytearray) -> Loaded:
        try:
            return self._sign_in(pin)
        finally:
            pin[:] = bytes(len(pin))

    def _sign_in(self, pin: bytearray) -> Loaded:
        wall = self._wall()
        until = self.lockout.locked_until(wall)
        if until is not None:
            self.audit.record(NOBODY, "sign_in_refused", "locked out")
            return Loaded("sign_in", ("locked", until, 0))
        if verify_pin(pin, self.config.staff_pin_hash):
            self.lockout.succeeded()
            self.audit.record(STAFF, "sign_in", "staff PIN accepted")
            return Loaded("sign_in", ("ok", None, self.lockout.max_tries))
        locked = self.lockout.failed(wall)
        left = self.lockout.tries_left()
        self.audit.record(NOBODY, "sign_in_refused", f"wrong staff PIN, tries_left={0 if locked else left}")
        if locked:
            self.audit.record(NOBODY, "locked_out", f"for {self.lockout.lockout_s:g} s")
            return Loaded("sign_in", ("locked", wall + self.lockout.lockout_s, 0))
        return Loaded("sign_in", ("wrong", None, left))

    # --- screens and actions ------------------------------------------------------

    def _go(self, screen: str) -> None:
        self.screen, self.notice, self.confirming = screen, None, None
        if screen in ("today", "collect", "status"):
            self._refresh_summary()

    def _confirm_tap(self, action: str) -> None:
        what, self.confirming = self.confirming, None
        self.screen = "actions"
        if action == "yes" and what in ("restart", "shutdown"):
            self._run(what, self._system, what)

    def _action(self, action: str) -> None:
        if action == "recheck":
            self._run("recheck", self._recheck)
        elif action == "test_print":
            self._run("test_print", self._test_print)
        elif action == "paper_refilled":
            self._run("paper_refilled", self._paper_refilled)
        elif action == "collect_cash":
            self._run("collect_cash", self._collect_cash)
        elif action in ("restart", "shutdown"):
            self.screen, self.confirming, self.notice = "confirm", action, None
        elif action.startswith("out_of_service:"):
            reason = action.split(":", 1)[1]
            if reason in OUT_OF_SERVICE_REASONS:
                self.machine.out_of_service = reason
                self._record(STAFF, "out_of_service", f"reason={reason}")
                self._done("out_of_service", "The kiosk is out of service.")
        elif action == "back_in_service" and self.machine.out_of_service:
            self.machine.out_of_service = None
            self._record(STAFF, "back_in_service")
            self._done("back_in_service", "The kiosk is back in service.")

    def _done(self, job: str, notice: str) -> None:
        self.screen, self.notice = "result", Outcome(job, notice)

    def _run(self, job: str, fn: Callable, *args) -> None:
        """Starts a device job; its result screen follows when it is done."""
        if self.busy is not None:
            self.screen = "result"
            self.notice = Outcome(job, "Wait until this has finished: {what}", {"what": JOBS[self.busy]}, True)
            return
        self.busy, self.notice = job, None
        if job != "recheck":  # a re-check shows on the device screen itself
            self.screen = "working"
        self._devices.submit(self._guarded, job, fn, *args)

    def _refresh_summary(self) -> None:
        self._records.submit(self._guarded, "summary", self._read_summary)

    def _record(self, who: str, action: str, detail: str = "") -> None:
        self._records.submit(self._guarded, "record", self.audit.record, who, action, detail)

    def _guarded(self, job: str, fn: Callable, *args) -> None:
        """Runs a job on a worker thread; whatever happens, the frame loop hears of it."""
        try:
            outcome = fn(*args)
        except Exception as exc:  # a surprise must reach the screen, not kill the thread silently
            log.exception("maintenance job %s failed", job)
            outcome = Outcome(job, "Failed: {error}", {"error": f"{type(exc).__name__}: {exc}"}, problem=True)
        if isinstance(outcome, (Outcome, Loaded)):
            self._results.put(outcome)

    def _poll(self) -> None:
        while True:
            try:
                outcome = self._results.get_nowait()
            except queue.Empty:
                return
            self._apply(outcome)

    def _apply(self, outcome: Outcome | Loaded) -> None:
        if outcome.job == "note":
            return  # a fault that could not be kept is in the log; staff are not interrupted
        if outcome.job == "sign_in" and isinstance(outcome, Outcome):  # the state file failed
            self.verifying, self.notice = False, outcome
            return
        if outcome.job == "sign_in":
            self.verifying = False
            result, self.locked_until, self.tries_left = outcome.data
            if result == "ok" and self.active:
                self.who, self.pin_wrong = STAFF, False
                self._go("status")
                self._run("recheck", self._recheck)
            else:
                self.pin_wrong = result == "wrong"
            return
        if outcome.job == "summary" and isinstance(outcome, Loaded):
            self.summary = outcome.data
            return
        if outcome.job == self.busy:
            self.busy = None
        if isinstance(outcome, Loaded):  # the devices re-checked
            self.checks, self.checked_at = outcome.data, dt.datetime.now(JST)
        else:
            self.notice = outcome
            if self.active:
                self.screen = "result"
        self._refresh_summary()

    # --- jobs (worker threads) ----------------------------------------------------

    def _read_summary(self) -> Loaded:
        today = dt.datetime.now(JST).date()
        s = Summary(sessions=self.history.sessions_on(today), faults_today=self.history.faults_on(today),
                    recent_faults=self.history.recent_faults())
        if self._journal is None:
            s.journal_problem = "no journal"
        else:
            try:
                s.day_totals = self._journal.day_totals(today)
                s.paper_left = self._journal.paper_left()
                s.cash = self._journal.cash_since_collection()
            except Exception as exc:  # an unreadable journal must not hide the rest
                log.exception("journal unreadable")
                s.journal_problem = f"{type(exc).__name__}: {exc}"
        return Loaded("summary", s)

    def _recheck(self) -> Loaded:
        checks = self._checks_fn()
        failed = [c.name for c in checks if not c.ok]
        self.audit.record(self.who, "recheck_devices",
                          f"{len(checks)} checks, failed: {', '.join(failed) or 'none'}")
        return Loaded("recheck", checks)

    def _test_print(self) -> Outcome:
        try:
            result = self._printer.print_pdf(printer_test_page(self.terminal_id), title="Test page",
                                             timeout=self._printer_timeout_s)
        except PrinterError as exc:
            self.audit.record(self.who, "test_print", f"failed: {exc.reason}: {exc}")
            return Outcome("test_print", "The test page was not printed: {error}", {"error": str(exc)}, True)
        self.audit.record(self.who, "test_print", f"printed pages={result.pages} job={result.job_id}")
        return Outcome("test_print", "Test page printed ({pages} page).", {"pages": result.pages})

    def _paper_refilled(self) -> Outcome:
        if self._refill_paper is None:
            return Outcome("paper_refilled", "This kiosk keeps no paper count.", problem=True)
        sheets = self.config.paper_tray_sheets
        self._refill_paper(sheets)
        self.audit.record(self.who, "paper_refilled", f"sheets={sheets}")
        return Outcome("paper_refilled", "Paper counter set to {sheets} sheets.", {"sheets": sheets})

    def _collect_cash(self) -> Outcome:
        if self._journal is None:
            return Outcome("collect_cash", "This kiosk keeps no cash count.", problem=True)
        counts = self._journal.cash_since_collection()
        slip = CollectionSlip(self.terminal_id, dt.datetime.now(dt.timezone.utc), self.who, dict(counts))
        try:
            if self._receipt is not None:
                self._receipt.print_lines(slip_receipt_lines(slip, self.language), timeout=30.0)
                where = N_("receipt printer")  # translated on the screen
            else:
                self._printer.print_pdf(slip_pdf(slip, self.language), title="Cash collection slip",
                                        timeout=self._printer_timeout_s)
                where = N_("document printer")
        except PrinterError as exc:
            # The counter stays as it was: the money is still counted until a slip exists.
            self.audit.record(self.who, "cash_collection_failed", f"slip not printed: {exc.reason}")
            return Outcome("collect_cash", "The slip was not printed, so nothing was reset: {error}",
                           {"error": str(exc)}, True)
        self._journal.cash_collected()
        coins = " ".join(f"{value}x{count}" for value, count in sorted(counts.items(), reverse=True))
        self.audit.record(self.who, "cash_collected", f"total_yen={slip.total} {coins} slip={where}".strip())
        return Outcome("collect_cash", "Collected ¥{total:,}. Slip printed on the {where}.",
                       {"total": slip.total, "where": where})

    def _system(self, what: str) -> Outcome:
        argv = self.config.restart_command if what == "restart" else self.config.shutdown_command
        if not argv:
            self.audit.record(self.who, what, "not configured")
            return Outcome(what, "Not available on this kiosk.", problem=True)
        self.audit.record(self.who, what, "requested: " + " ".join(argv))
        try:
            run = self._command(argv)
        except (OSError, subprocess.SubprocessError) as exc:
            self.audit.record(self.who, what, f"failed: {exc}")
            return Outcome(what, "Failed: {error}", {"error": str(exc)}, problem=True)
        if run.returncode != 0:
            why = (run.stderr or "").strip().splitlines()[:1] or [f"exit status {run.returncode}"]
            self.audit.record(self.who, what, f"failed: exit {run.returncode}: {why[0]}")
            return Outcome(what, "Failed: {error}", {"error": why[0]}, problem=True)
        if what == "restart":
            return Outcome(what, "Restarting…")
        return Outcome(what, "Shutting down…")
