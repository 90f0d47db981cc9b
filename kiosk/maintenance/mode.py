"""Maintenance mode: the staff's screens over the resident's, and what their taps do.

The frame loop asks four things of it: `wants_entry` (sees each touch; True when the
corner gesture completes on the welcome screen), `active`, `handle(tap, now)` while
active, and `view(now)` to draw. `note(report)` keeps the day's faults and sessions;
`shutdown()` when the kiosk stops.

Which screen follows which is the table in screen_graph.py; sign-in is sign_in.py,
what the actions do is actions.py. Everything that touches a device, a command or the
state file runs on a worker thread (jobs.py), whose results are taken at the start of
each frame: the frame loop never waits.
"""
from __future__ import annotations

import datetime as dt
import subprocess
import time
from typing import Callable

import pygame

from devices.printer.base import DocumentPrinter, ReceiptPrinter
from kiosk.config import MaintenanceConfig
from kiosk.device_checks import Check
from kiosk.events import CardPresence, ServiceStatus, Tap, WorkerReport
from kiosk.maintenance.actions import Devices, Journal, StaffActions, Summary, run_command
from kiosk.maintenance.audit import AuditLog
from kiosk.maintenance.gesture import CornerGesture
from kiosk.maintenance.history import History
from kiosk.maintenance.jobs import Jobs, Loaded, Outcome
from kiosk.maintenance.lockout import Lockout
from kiosk.maintenance.screen_graph import CHECKED, DONE, GESTURE, IDLE, TABLE, Screen
from kiosk.maintenance.sign_in import SignIn
from kiosk.maintenance.state_db import StateDb
from kiosk.maintenance.views import JOBS, REASONS, build_view
from kiosk.screens import View
from kiosk.screens import build_view as resident_view
from kiosk.states import Machine, State


class MaintenanceMode:
    def __init__(self, config: MaintenanceConfig, machine: Machine, *, terminal_id: str,
                 screen_size: tuple[int, int], checks: Callable[[], list[Check]], printer: DocumentPrinter,
                 printer_timeout_s: float = 120.0, receipt_printer: ReceiptPrinter | None = None,
                 journal: Journal | None = None, refill_paper: Callable[[int], None] | None = None,
                 command: Callable[[tuple[str, ...]], subprocess.CompletedProcess] = run_command,
                 language: str = "ja", wall_clock: Callable[[], float] = time.time):
        self.config = config
        self.machine = machine
        self.default_language = self.language = language
        db = StateDb(config.state_dir)
        self.audit = AuditLog(db)
        self.history = History(db, machine.clock)
        self.jobs = Jobs()
        self.sign_in = SignIn(config, self.audit, Lockout(db, max_tries=config.max_tries, lockout_s=config.lockout_s),
                              self.jobs, wall_clock)
        # The worker's refill, where it runs: it fills a simulated tray as well as the books.
        refill = refill_paper or (journal.paper_refilled if journal is not None else None)
        self._actions = StaffActions(config, Devices(terminal_id, checks, printer, printer_timeout_s,
                                                     receipt_printer, journal, refill, command),
                                     self.audit, self.history, machine.clock)
        self._gesture = CornerGesture(screen_size)
        last = self.audit.last_of("out_of_service", "back_in_service")
        if last is not None and last.action == "out_of_service":  # a restart keeps it
            machine.set_out_of_service(last.detail.removeprefix("reason="))
        self.screen = Screen.CLOSED
        self.busy: str | None = None  # the device job running (a JOBS key)
        self.notice: Outcome | None = None
        self.confirming: str | None = None  # restart or shutdown, waiting for Yes
        self.checks: list[Check] | None = None
        self.checked_at: dt.datetime | None = None
        self.summary = Summary()
        self.summary_pending = 0  # summaries asked for and not yet read

    # --- the frame loop's side ------------------------------------------------------

    @property
    def active(self) -> bool:
        return self.screen is not Screen.CLOSED

    @active.setter
    def active(self, value: bool) -> None:
        """The frame loop sets False after a failed frame: staff are signed out."""
        if value:
            raise ValueError("maintenance mode opens by the corner gesture only")
        if self.active:
            self.close("frame_failed")

    @property
    def loading(self) -> bool:
        """The device screen waits for the re-check and for the day's summary (paper left)."""
        return self.busy == "recheck" or self.summary_pending > 0

    def wants_entry(self, event: pygame.event.Event, now: float, machine: Machine) -> bool:
        """Sees every touch before the resident's screen does. True means the gesture
        was completed by this touch: maintenance opened and the touch is used up."""
        if self.active or getattr(event, "button", None) != 1:
            return False
        if machine.state is not State.WELCOME:
            self._gesture.reset()  # never during a resident's session
            return False
        if event.type == pygame.MOUSEBUTTONDOWN and self._gesture.down(event.pos, now):
            self.sign_in.touched(now)
            self._dispatch(GESTURE)
            return True
        if event.type == pygame.MOUSEBUTTONUP:
            self._gesture.up(event.pos, now)
        return False

    def note(self, report: WorkerReport | CardPresence | ServiceStatus) -> None:
        self.jobs.on_records("note", self.history.note, report)

    def handle(self, tap: Tap, now: float) -> None:
        """A tap on the screen last drawn (results are taken when the next one is built)."""
        self.sign_in.touched(now)
        if tap.action.startswith("lang:"):
            self.language = tap.action.split(":", 1)[1]
        else:
            self._dispatch(tap.action)

    def view(self, now: float) -> View:
        self._poll()
        if self.active and self.sign_in.idle(now):
            self._dispatch(IDLE)
        return build_view(self, now) if self.active else resident_view(self.machine, now)

    def shutdown(self) -> None:
        """The kiosk stops: staff are signed out and the records written."""
        if self.active:
            self.close("kiosk_stopped")
        self.jobs.shutdown()

    # --- the screen table's side (screen_graph.py) ----------------------------------

    def _dispatch(self, what: str) -> None:
        """`what` is a tap's action or an event; its kind picks the row."""
        row = TABLE.get((self.screen, what.split(":", 1)[0]))
        if row is None:
            return
        screen = row.handler(self, what)
        if screen is None:
            return
        if screen not in row.targets:
            raise AssertionError(f"maintenance {self.screen.value} -> {screen.value} is not in the table")
        self.screen = screen

    def open(self) -> Screen:
        self.language, self.notice = self.default_language, None
        self.sign_in.opened()
        return Screen.PIN

    def close(self, why: str) -> Screen:
        self.sign_in.closed(why)
        self.screen, self.confirming = Screen.CLOSED, None
        self._gesture.reset()
        return Screen.CLOSED

    def after_sign_in(self) -> Screen:
        self.sign_in.admit()
        self.enter(Screen.STATUS)
        return self.run("recheck")

    def enter(self, screen: Screen) -> Screen:
        self.notice, self.confirming = None, None
        if screen in (Screen.STATUS, Screen.TODAY, Screen.COLLECT):
            self._refresh_summary()
        return screen

    def run(self, job: str) -> Screen:
        """Starts a device job; its result screen follows when it is done."""
        if self.busy is not None:
            self.notice = Outcome(job, "Wait until this has finished: {what}", {"what": JOBS[self.busy]}, True)
            return Screen.RESULT
        self.busy, self.notice = job, None
        who, a = self.sign_in.who, self._actions
        if job in ("restart", "shutdown"):
            self.jobs.on_devices(job, a.system, who, job)
        elif job == "collect_cash":
            self.jobs.on_devices(job, a.collect_cash, who, self.language)
        else:
            self.jobs.on_devices(job, {"recheck": a.recheck, "test_print": a.test_print,
                                       "paper_refilled": a.paper_refilled}[job], who)
        return Screen.STATUS if job == "recheck" else Screen.WORKING

    def out_of_service(self, reason: str) -> Screen | None:
        if reason not in REASONS:
            return None
        self.machine.set_out_of_service(reason)
        self.sign_in.record("out_of_service", f"reason={reason}")
        self.notice = Outcome("out_of_service", "The kiosk is out of service.")
        return Screen.RESULT

    def back_in_service(self) -> Screen | None:
        if not self.machine.out_of_service:
            return None
        self.machine.set_out_of_service(None)
        self.sign_in.record("back_in_service")
        self.notice = Outcome("back_in_service", "The kiosk is back in service.")
        return Screen.RESULT

    # --- results from the worker threads --------------------------------------------

    def _refresh_summary(self) -> None:
        self.summary_pending += 1
        self.jobs.on_records("summary", self._actions.read_summary)

    def _poll(self) -> None:
        for outcome in self.jobs.finished():
            self._apply(outcome)

    def _apply(self, outcome: Outcome | Loaded) -> None:
        if outcome.job == "note":
            return  # a fault that could not be kept is in the log; staff are not interrupted
        if outcome.job == "sign_in":
            if isinstance(outcome, Outcome):  # the state file failed
                self.notice = outcome
            if self.sign_in.checked(outcome if isinstance(outcome, Loaded) else None):
                self._dispatch(CHECKED)
            return
        if outcome.job == "summary":
            self.summary_pending -= 1
            if isinstance(outcome, Loaded):
                self.summary = outcome.data
                return
        elif outcome.job == self.busy:
            self.busy = None
            self._refresh_summary()  # the job may have changed the counts
        if isinstance(outcome, Loaded):  # the devices re-checked
            self.checks, self.checked_at = outcome.data, self.machine.clock.now()
        else:
            self.notice = outcome
            self._dispatch(DONE)
