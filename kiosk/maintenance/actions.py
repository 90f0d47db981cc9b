"""What staff actions do, on maintenance mode's worker threads: read the day's summary,
re-check the devices, print a test page, reset the paper count, collect the cash,
restart or shut down. Each returns what the screen shows (Outcome or Loaded) and
writes its own audit record; `who` and `language` are passed in, so no thread reads
the frame loop's state."""
from __future__ import annotations

import datetime as dt
import logging
import subprocess
from dataclasses import dataclass, field
from typing import Callable, Protocol

from devices.printer.base import DocumentPrinter, PrinterError, ReceiptPrinter
from kiosk.clock import WallClock
from kiosk.config import MaintenanceConfig
from kiosk.device_checks import Check, printer_test_page
from kiosk.i18n import N_
from kiosk.maintenance.audit import AuditLog
from kiosk.maintenance.history import Fault, History
from kiosk.maintenance.jobs import Loaded, Outcome
from kiosk.maintenance.slips import CollectionSlip, slip_pdf, slip_receipt_lines

log = logging.getLogger("kiosk.maintenance")


class Journal(Protocol):
    """The kiosk's books (kiosk/journal.py), as far as staff need them."""

    def day_totals(self, day: dt.date) -> dict: ...
    def paper_left(self) -> int | None: ...
    def paper_refilled(self, sheets: int) -> None: ...
    def cash_since_collection(self) -> dict[int, int]: ...
    def cash_collected(self) -> None: ...


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


@dataclass
class Devices:
    """What the actions work on: the running kiosk's devices and books."""

    terminal_id: str
    checks: Callable[[], list[Check]]
    printer: DocumentPrinter
    printer_timeout_s: float = 120.0
    receipt_printer: ReceiptPrinter | None = None
    journal: Journal | None = None
    refill_paper: Callable[[int], None] | None = None  # the books' count, and a simulated tray's
    command: Callable[[tuple[str, ...]], subprocess.CompletedProcess] = run_command


class StaffActions:
    def __init__(self, config: MaintenanceConfig, devices: Devices, audit: AuditLog, history: History,
                 clock: WallClock):
        """`clock` is the kiosk's wall clock (the journal's): today's totals, the slip's time."""
        self._config, self._d, self._audit, self._history, self._clock = config, devices, audit, history, clock

    def read_summary(self) -> Loaded:
        today = self._clock.now().date()
        s = Summary(sessions=self._history.sessions_on(today), faults_today=self._history.faults_on(today),
                    recent_faults=self._history.recent_faults())
        journal = self._d.journal
        if journal is None:
            s.journal_problem = "no journal"
        else:
            try:
                s.day_totals = journal.day_totals(today)
                s.paper_left = journal.paper_left()
                s.cash = journal.cash_since_collection()
            except Exception as exc:  # an unreadable journal must not hide the rest
                log.exception("journal unreadable")
                s.journal_problem = f"{type(exc).__name__}: {exc}"
        return Loaded("summary", s)

    def recheck(self, who: str) -> Loaded:
        checks = self._d.checks()
        failed = [c.name for c in checks if not c.ok]
        self._audit.record(who, "recheck_devices", f"{len(checks)} checks, failed: {', '.join(failed) or 'none'}")
        return Loaded("recheck", checks)

    def test_print(self, who: str) -> Outcome:
        try:
            result = self._d.printer.print_pdf(printer_test_page(self._d.terminal_id), title="Test page",
                                               timeout=self._d.printer_timeout_s)
        except PrinterError as exc:
            self._audit.record(who, "test_print", f"failed: {exc.reason}: {exc}")
            return Outcome("test_print", "The test page was not printed: {error}", {"error": str(exc)}, True)
        self._audit.record(who, "test_print", f"printed pages={result.pages} job={result.job_id}")
        return Outcome("test_print", "Test page printed ({pages} page).", {"pages": result.pages})

    def paper_refilled(self, who: str) -> Outcome:
        if self._d.refill_paper is None:
            return Outcome("paper_refilled", "This kiosk keeps no paper count.", problem=True)
        sheets = self._config.paper_tray_sheets
        self._d.refill_paper(sheets)
        self._audit.record(who, "paper_refilled", f"sheets={sheets}")
        return Outcome("paper_refilled", "Paper counter set to {sheets} sheets.", {"sheets": sheets})

    def collect_cash(self, who: str, language: str) -> Outcome:
        journal = self._d.journal
        if journal is None:
            return Outcome("collect_cash", "This kiosk keeps no cash count.", problem=True)
        counts = journal.cash_since_collection()
        slip = CollectionSlip(self._d.terminal_id, self._clock.now(), who, dict(counts))
        try:
            if self._d.receipt_printer is not None:
                self._d.receipt_printer.print_lines(slip_receipt_lines(slip, language), timeout=30.0)
                where = N_("receipt printer")  # translated on the screen
            else:
                self._d.printer.print_pdf(slip_pdf(slip, language), title="Cash collection slip",
                                          timeout=self._d.printer_timeout_s)
                where = N_("document printer")
        except PrinterError as exc:
            # The counter stays as it was: the money is still counted until a slip exists.
            self._audit.record(who, "cash_collection_failed", f"slip not printed: {exc.reason}")
            return Outcome("collect_cash", "The slip was not printed, so nothing was reset: {error}",
                           {"error": str(exc)}, True)
        journal.cash_collected()
        coins = " ".join(f"{value}x{count}" for value, count in sorted(counts.items(), reverse=True))
        self._audit.record(who, "cash_collected", f"total_yen={slip.total} {coins} slip={where}".strip())
        return Outcome("collect_cash", "Collected ¥{total:,}. Slip printed on the {where}.",
                       {"total": slip.total, "where": where})

    def system(self, who: str, what: str) -> Outcome:
        """Restart or shut down, by the configured command."""
        argv = self._config.restart_command if what == "restart" else self._config.shutdown_command
        if not argv:
            self._audit.record(who, what, "not configured")
            return Outcome(what, "Not available on this kiosk.", problem=True)
        self._audit.record(who, what, "requested: " + " ".join(argv))
        try:
            run = self._d.command(argv)
        except (OSError, subprocess.SubprocessError) as exc:
            self._audit.record(who, what, f"failed: {exc}")
            return Outcome(what, "Failed: {error}", {"error": str(exc)}, problem=True)
        if run.returncode != 0:
            why = (run.stderr or "").strip().splitlines()[:1] or [f"exit status {run.returncode}"]
            self._audit.record(who, what, f"failed: exit {run.returncode}: {why[0]}")
            return Outcome(what, "Failed: {error}", {"error": why[0]}, problem=True)
        if what == "restart":
            return Outcome(what, "Restarting…")
        return Outcome(what, "Shutting down…")
