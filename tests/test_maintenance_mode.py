"""Staff maintenance mode in the real frame loop (pygame, SDL dummy video), driven by
touch events at the buttons on screen, as a clerk's finger would.

The kiosk's monotonic clock is moved forward for the 5-second hold instead of
waiting; lockouts are timed by a fake wall clock, as they survive restarts."""
from __future__ import annotations

import datetime as dt
import subprocess
import threading
import time as real_time
from pathlib import Path
from types import SimpleNamespace

import pygame
import pytest
from pypdf import PdfReader

import kiosk.app
from devices.printer import FolderPrinter
from kiosk.app import run_loop
from kiosk.clock import WallClock as KioskClock
from kiosk.config import MaintenanceConfig
from kiosk.device_checks import Check
from kiosk.embedded import DEMO_STAFF_PIN_HASH, embedded_config
from kiosk.events import CardPresence, PrintProblem, ServiceStatus, Tap
from kiosk.journal import CREDIT, Journal
from kiosk.maintenance.mode import MaintenanceMode
from kiosk.maintenance.screen_graph import Screen
from kiosk.maintenance.setup import maintenance_mode
from kiosk.maintenance.state_db import FILE_NAME
from kiosk.screens import build_view
from kiosk.states import Machine, State
from tests.kiosk_runs import pdf_text

DEMO_PIN = "135790"
SCREEN = (1024, 600)
SHOTS = Path(__file__).resolve().parents[1] / "out" / "maintenance"
FRAMES = 30 * 20  # a scenario that needs longer than ~20 s of frames has hung


class IdleWorker:
    """The resident's worker: only what Start and Cancel ask of it."""

    def __getattr__(self, name):
        return lambda *args, **kwargs: None


class Clock:
    """The frame loop's monotonic clock, which a test can move forward."""

    def __init__(self):
        self.offset = 0.0

    def monotonic(self) -> float:
        return real_time.monotonic() + self.offset


class WallClock:
    def __init__(self):
        self.now = real_time.time()

    def __call__(self) -> float:
        return self.now


class Finger:
    """A FrameObserver running one scenario: a generator that yields to let a frame pass."""

    def __init__(self, clock: Clock, shots: str | None = None):
        self.clock = clock
        self.view = None
        self.targets = []
        self.surface = None
        self.frames = 0
        self.scenario = None
        self.shots = shots
        self._saved: set[str] = set()

    def after_frame(self, view, targets, surface, machine, now) -> bool:
        self.view, self.targets, self.surface = view, targets, surface
        self.frames += 1
        if self.shots and (view.name.startswith("maintenance-") or view.name == "out_of_service"):
            self._shot(view)
        if self.frames > FRAMES:
            raise AssertionError(f"scenario hung on screen {view.name}: {view.title} {view.lines} {view.warning}")
        try:
            next(self.scenario)
        except StopIteration:
            return True
        return False

    def _shot(self, view) -> None:
        name = f"{self.shots}-{view.name}" + ("-busy" if view.spinner else "")
        if name not in self._saved:
            self._saved.add(name)
            SHOTS.mkdir(parents=True, exist_ok=True)
            pygame.image.save(self.surface, str(SHOTS / f"{name}.png"))

    # --- touches ------------------------------------------------------------------

    def _post(self, kind, pos) -> None:
        pygame.event.post(pygame.event.Event(kind, pos=pos, button=1))

    def tap_at(self, pos):
        self._post(pygame.MOUSEBUTTONDOWN, pos)
        self._post(pygame.MOUSEBUTTONUP, pos)
        yield

    def tap(self, action: str):
        rect = next((r for b, r in self.targets if b.action == action), None)
        assert rect is not None, f"no button {action} on {self.view.name}: {[b.action for b, _ in self.targets]}"
        yield from self.tap_at(rect.center)

    def hold(self, pos, seconds: float):
        self._post(pygame.MOUSEBUTTONDOWN, pos)
        yield
        self.clock.offset += seconds
        self._post(pygame.MOUSEBUTTONUP, pos)
        yield

    def gesture(self):
        """Hold the top-left corner 5 s, then touch the bottom-left corner."""
        yield from self.hold((10, 10), 5.2)
        yield from self.tap_at((10, SCREEN[1] - 10))
        yield

    def type_pin(self, pin: str):
        for digit in pin:
            yield from self.tap(f"digit:{digit}")
        yield from self.tap("ok")

    def until(self, condition, what: str = ""):
        while not condition(self.view):
            yield

    def on(self, name: str):
        yield from self.until(lambda v: v.name == name)

    def go(self, action: str, screen: str):
        """Tap a button and wait for the screen it leads to."""
        yield from self.tap(action)
        yield from self.on(screen)


@pytest.fixture
def clock(monkeypatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(kiosk.app, "time", SimpleNamespace(monotonic=clock.monotonic))
    return clock


@pytest.fixture
def kiosk_parts(tmp_path):
    pygame.display.init()
    pygame.font.init()
    surface = pygame.display.set_mode(SCREEN)
    journal = Journal(tmp_path / "journal.sqlite")
    yield SimpleNamespace(surface=surface, journal=journal, printed=tmp_path / "printed", state=tmp_path / "state",
                          commands=[], wall=WallClock())
    journal.close()
    pygame.display.quit()


HEALTHY = [Check("card_reader", True, "in-process virtual card reader (no hardware)"),
           Check("document_printer", True, "print folder is writable"),
           Check("payment", True, "answers; change in the hoppers: 100 yen × 80, 10 yen × 90"),
           Check("issuance_center", True, "reachable; terminal certificate accepted"),
           Check("clock", True, "synchronised with a time server (NTP)")]


def staff_mode(parts, machine: Machine, *, checks=None, returncode: int = 0, printer=None, journal=None,
               **config) -> MaintenanceMode:
    def command(argv):
        parts.commands.append(tuple(argv))
        return subprocess.CompletedProcess(argv, returncode, "", "Failed to restart kiosk.service: Access denied")

    settings = {"staff_pin_hash": DEMO_STAFF_PIN_HASH, "state_dir": parts.state, **config}
    return MaintenanceMode(MaintenanceConfig(**settings), machine, terminal_id="KIOSK-0001", screen_size=SCREEN,
                           checks=lambda: list(checks or HEALTHY), printer=printer or FolderPrinter(parts.printed),
                           journal=journal or parts.journal, command=command, language="en", wall_clock=parts.wall)


MONDAY_MORNING = KioskClock.playing(dt.datetime(2026, 11, 30, 10, 0))  # the service window is open


def new_machine(clock: KioskClock = MONDAY_MORNING) -> Machine:
    return Machine(IdleWorker(), language="en", inactivity_timeout_s=60, now=real_time.monotonic(), clock=clock)


def run(parts, clock, machine, mode, scenario, shots: str | None = None) -> Finger:
    finger = Finger(clock, shots)
    finger.scenario = scenario(finger)
    run_loop(machine, parts.surface, finger, mode)
    mode.jobs.devices.submit(lambda: None).result(timeout=30)  # no job outlives its test
    settle(mode)
    return finger


def actions(mode: MaintenanceMode) -> list[str]:
    return [r.action for r in mode.audit.records()]


def settle(mode: MaintenanceMode) -> None:
    """Waits for the records thread to write what the last frames asked of it."""
    mode.jobs.records.submit(lambda: None).result(timeout=10)


def at_pin_pad(f: Finger):
    yield from f.on("welcome")
    yield from f.gesture()
    yield from f.on("maintenance-pin")


def checked(view) -> bool:
    """The device screen is whole: the re-check and the day's summary are both in."""
    return view.name == "maintenance-status" and any(line.startswith(("Checked at", "点検時刻"))
                                                     for line in view.lines)


def signed_in(f: Finger):
    yield from at_pin_pad(f)
    yield from f.type_pin(DEMO_PIN)
    yield from f.until(checked)


def at_actions(f: Finger):
    yield from signed_in(f)
    yield from f.go("goto:actions", "maintenance-actions")


# --- the way in -------------------------------------------------------------------

def test_the_corner_gesture_opens_the_staff_pin_pad_on_the_welcome_screen(kiosk_parts, clock):
    machine = new_machine()
    mode = staff_mode(kiosk_parts, machine)

    def scenario(f):
        yield from at_pin_pad(f)
        yield from f.type_pin(DEMO_PIN)
        yield from f.until(checked)
        text = " ".join(f.view.lines)
        assert "Card reader (OK)" in text and "Clock (OK)" in text and "100 yen × 80" in text
        yield from f.go("exit", "welcome")

    run(kiosk_parts, clock, machine, mode, scenario, shots="entry")
    settle(mode)
    assert actions(mode)[:3] == ["pin_pad_opened", "sign_in", "recheck_devices"]
    assert actions(mode)[-1] == "sign_out"
    assert all(r.who in ("staff", "-") for r in mode.audit.records())
    assert machine.state is State.WELCOME


def test_a_short_hold_or_a_slow_second_touch_opens_nothing(kiosk_parts, clock):
    machine = new_machine()
    mode = staff_mode(kiosk_parts, machine)

    def scenario(f):
        yield from f.on("welcome")
        yield from f.hold((10, 10), 3.0)  # too short
        yield from f.tap_at((10, SCREEN[1] - 10))
        for _ in range(5):
            yield
        assert not mode.active
        yield from f.hold((10, 10), 5.2)
        clock.offset += 2.5  # the second touch comes too late
        yield from f.tap_at((10, SCREEN[1] - 10))
        for _ in range(5):
            yield
        assert not mode.active and f.view.name == "welcome"

    run(kiosk_parts, clock, machine, mode, scenario)


def test_the_gesture_during_a_residents_session_does_nothing(kiosk_parts, clock):
    machine = new_machine()
    mode = staff_mode(kiosk_parts, machine)

    def scenario(f):
        yield from f.on("welcome")
        yield from f.go("start", "place_card")
        yield from f.gesture()
        yield from f.gesture()
        for _ in range(5):
            yield
        assert not mode.active
        assert f.view.name == "place_card"
        yield from f.tap("cancel")
        yield from f.until(lambda v: v.name != "place_card")

    run(kiosk_parts, clock, machine, mode, scenario)
    settle(mode)
    assert mode.audit.records() == []


def test_wrong_staff_pins_lock_the_pad_until_the_lockout_ends(kiosk_parts, clock):
    machine = new_machine()
    mode = staff_mode(kiosk_parts, machine, max_tries=3, lockout_s=600)

    def scenario(f):
        yield from at_pin_pad(f)
        for left in (2, 1):
            yield from f.type_pin("111111")
            yield from f.until(lambda v: v.warning and f"Tries left: {left}" in v.warning)
        yield from f.type_pin("111111")
        yield from f.until(lambda v: v.warning and "Try again after" in v.warning)
        yield from f.type_pin(DEMO_PIN)  # the right PIN is not even checked while locked
        yield from f.until(lambda v: not mode.sign_in.verifying)
        for _ in range(3):
            yield
        assert f.view.name == "maintenance-pin" and "Try again after" in f.view.warning
        kiosk_parts.wall.now += 601
        yield from f.type_pin(DEMO_PIN)
        yield from f.until(lambda v: v.name == "maintenance-status")

    run(kiosk_parts, clock, machine, mode, scenario, shots="lockout")
    settle(mode)
    assert actions(mode) == ["pin_pad_opened", "sign_in_refused", "sign_in_refused", "sign_in_refused",
                             "locked_out", "sign_in_refused", "sign_in", "recheck_devices"]
    assert "tries_left=0" in mode.audit.records()[3].detail


def test_a_lockout_survives_a_restart(kiosk_parts, clock):
    first = staff_mode(kiosk_parts, new_machine(), max_tries=2, lockout_s=900)

    def lock_it(f):
        yield from f.on("welcome")
        yield from f.gesture()
        for _ in range(2):
            yield from f.type_pin("2468")
            yield from f.until(lambda v: not first.sign_in.verifying)
        yield from f.until(lambda v: v.warning and "Try again after" in v.warning)

    run(kiosk_parts, clock, first.machine, first, lock_it)

    kiosk_parts.wall.now += 300  # off and on again, five minutes later
    machine = new_machine()
    second = staff_mode(kiosk_parts, machine, max_tries=2, lockout_s=900)

    def after_restart(f):
        yield from at_pin_pad(f)
        assert "Try again after" in f.view.warning
        yield from f.type_pin(DEMO_PIN)
        yield from f.until(lambda v: not second.sign_in.verifying)
        for _ in range(3):
            yield
        assert f.view.name == "maintenance-pin"
        yield from f.go("cancel", "welcome")

    run(kiosk_parts, clock, machine, second, after_restart)
    settle(second)
    assert actions(second)[-3:] == ["pin_pad_opened", "sign_in_refused", "pin_pad_closed"]
    assert second.audit.records()[-2].detail == "locked out"


# --- what staff see ---------------------------------------------------------------------

def test_device_problems_counts_and_faults_in_plain_words(kiosk_parts, clock):
    machine = new_machine()
    checks = HEALTHY[:1] + [Check("receipt_printer", False, "the receipt printer is out of paper")] + HEALTHY[1:]
    mode = staff_mode(kiosk_parts, machine, checks=checks)
    kiosk_parts.journal.paper_refilled(500)
    for report in (PrintProblem(1, "printer_paper_out", refunded=300, owed=50),
                   CardPresence(False, reader_lost=True), ServiceStatus(False)):
        mode.note(report)

    def scenario(f):
        yield from at_pin_pad(f)
        yield from f.type_pin(DEMO_PIN)
        # the re-check and the day's summary come from two threads: wait for what both give
        yield from f.until(lambda v: "Document printer (OK): 500 sheets left" in " ".join(v.lines))
        text = " ".join(f.view.lines)
        assert "× Receipt printer (Problem): the receipt printer is out of paper" in text
        assert f.view.alert
        yield from f.tap("lang:ja")
        yield from f.until(lambda v: v.title == "保守：機器の状態")
        assert "× レシートプリンタ (異常)" in " ".join(f.view.lines)
        yield from f.tap("goto:today")
        yield from f.until(lambda v: v.name == "maintenance-today" and "異常：3件" in v.lines)
        yield from f.tap("lang:en")
        yield from f.until(lambda v: v.title == "Maintenance: today")
        text = "\n".join(f.view.lines)
        assert "Sessions: 1" in text and "Certificates printed: 0" in text and "Faults: 3" in text
        assert "The document printer failed: out of paper. ¥50 is owed to a resident." in text
        assert "The card reader was disconnected" in text
        assert "The issuance center could not be reached." in text

    run(kiosk_parts, clock, machine, mode, scenario, shots="status")


class SlowBooks:
    """The journal, whose paper count answers only once the test lets it: the records
    thread behind the devices thread, as on a loaded machine."""

    def __init__(self, journal: Journal):
        self.journal, self.go = journal, threading.Event()

    def __getattr__(self, name):
        return getattr(self.journal, name)

    def paper_left(self):
        self.go.wait(30)
        return self.journal.paper_left()


def test_the_device_screen_is_busy_until_the_days_summary_is_in(kiosk_parts, clock):
    machine = new_machine()
    kiosk_parts.journal.paper_refilled(500)
    books = SlowBooks(kiosk_parts.journal)
    mode = staff_mode(kiosk_parts, machine, journal=books)

    def scenario(f):
        yield from at_pin_pad(f)
        yield from f.type_pin(DEMO_PIN)
        yield from f.until(lambda v: "Card reader (OK)" in " ".join(v.lines))  # the re-check is in
        text = " ".join(f.view.lines)
        assert f.view.spinner and "Reading today's records…" in f.view.lines
        assert "sheets left" not in text and "Checked at" not in text
        books.go.set()
        yield from f.until(checked)
        assert "Document printer (OK): 500 sheets left" in " ".join(f.view.lines) and not f.view.spinner

    try:
        run(kiosk_parts, clock, machine, mode, scenario)
    finally:
        books.go.set()


def test_staff_can_come_in_while_the_service_is_closed_for_the_night(kiosk_parts, clock):
    machine = new_machine(KioskClock.playing(dt.datetime(2026, 11, 30, 23, 30)))
    mode = staff_mode(kiosk_parts, machine)

    def scenario(f):
        yield from f.on("closed")
        yield from f.gesture()
        yield from f.on("maintenance-pin")
        yield from f.type_pin(DEMO_PIN)
        yield from f.until(checked)
        assert "Now 2026-11-30 23:30" in f.view.lines[-1]  # the kiosk's clock, as on every screen
        yield from f.go("exit", "closed")

    run(kiosk_parts, clock, machine, mode, scenario)


# --- actions ---------------------------------------------------------------------------

def test_test_print_produces_a_page(kiosk_parts, clock):
    machine = new_machine()
    mode = staff_mode(kiosk_parts, machine)

    def scenario(f):
        yield from at_actions(f)
        yield from f.go("test_print", "maintenance-result")
        assert f.view.lines == ["Test page printed (1 page)."]

    run(kiosk_parts, clock, machine, mode, scenario, shots="print")
    [pdf] = kiosk_parts.printed.glob("*.pdf")
    assert len(PdfReader(pdf).pages) == 1
    assert "Testpage" in pdf_text(pdf) and "KIOSK-0001" in pdf_text(pdf)
    settle(mode)
    record = next(r for r in mode.audit.records() if r.action == "test_print")
    assert record.who == "staff" and record.detail.startswith("printed pages=1")


def test_a_failed_test_print_says_why(kiosk_parts, clock):
    machine = new_machine()
    kiosk_parts.printed.write_text("a file where the print folder should be")
    mode = staff_mode(kiosk_parts, machine)

    def scenario(f):
        yield from at_actions(f)
        yield from f.go("test_print", "maintenance-result")
        assert f.view.alert and "The test page was not printed" in f.view.warning

    run(kiosk_parts, clock, machine, mode, scenario)
    settle(mode)
    assert next(r for r in mode.audit.records() if r.action == "test_print").detail.startswith("failed:")


def test_paper_refilled_resets_the_paper_counter(kiosk_parts, clock):
    machine = new_machine()
    mode = staff_mode(kiosk_parts, machine, paper_tray_sheets=250)
    kiosk_parts.journal.paper_refilled(500)
    kiosk_parts.journal.begin("T1", "residence_record", 1)
    for _ in range(3):
        kiosk_parts.journal.step("T1", "sheet", amount=1)
    assert kiosk_parts.journal.paper_left() == 497

    def scenario(f):
        yield from at_actions(f)
        yield from f.go("paper_refilled", "maintenance-result")
        assert f.view.lines == ["Paper counter set to 250 sheets."]

    run(kiosk_parts, clock, machine, mode, scenario)
    assert kiosk_parts.journal.paper_left() == 250
    settle(mode)
    assert [r.detail for r in mode.audit.records() if r.action == "paper_refilled"] == ["sheets=250"]


def test_collecting_cash_prints_a_slip_and_resets_the_count(kiosk_parts, clock):
    machine = new_machine()
    mode = staff_mode(kiosk_parts, machine)
    journal = kiosk_parts.journal
    journal.begin("T1", "residence_record", 1)
    journal.step("T1", CREDIT, amount=1000, coins={1000: 1})
    journal.step("T1", CREDIT, amount=300, coins={100: 3})
    journal.begin("T2", "seal_certificate", 1)
    journal.step("T2", CREDIT, amount=500, coins={500: 1})

    def scenario(f):
        yield from at_actions(f)
        yield from f.tap("goto:collect")
        yield from f.until(lambda v: v.name == "maintenance-collect" and "Total: ¥1,800" in v.lines)
        assert "¥1,000 × 1, ¥500 × 1, ¥100 × 3" in f.view.lines
        yield from f.go("collect_cash", "maintenance-result")
        assert f.view.lines == ["Collected ¥1,800. Slip printed on the document printer."]
        yield from f.go("goto:actions", "maintenance-actions")
        yield from f.tap("goto:collect")
        yield from f.until(lambda v: v.name == "maintenance-collect" and "Total: ¥0" in v.lines)

    run(kiosk_parts, clock, machine, mode, scenario, shots="cash")
    assert journal.cash_since_collection() == {}
    [slip] = kiosk_parts.printed.glob("*.pdf")
    text = pdf_text(slip)
    assert "Cashcollectionslip" in text and "KIOSK-0001" in text
    assert "¥1,000×1" in text and "¥100×3" in text and "¥1,800" in text
    settle(mode)
    [record] = [r for r in mode.audit.records() if r.action == "cash_collected"]
    assert record.who == "staff" and "total_yen=1800" in record.detail and "1000x1" in record.detail


def test_a_slip_that_cannot_print_leaves_the_cash_counted(kiosk_parts, clock):
    machine = new_machine()
    kiosk_parts.printed.write_text("not a folder")
    mode = staff_mode(kiosk_parts, machine)
    kiosk_parts.journal.begin("T1", "residence_record", 1)
    kiosk_parts.journal.step("T1", CREDIT, amount=500, coins={500: 1})

    def scenario(f):
        yield from at_actions(f)
        yield from f.tap("goto:collect")
        yield from f.until(lambda v: "Total: ¥500" in v.lines)
        yield from f.go("collect_cash", "maintenance-result")
        assert "nothing was reset" in f.view.warning

    run(kiosk_parts, clock, machine, mode, scenario)
    assert kiosk_parts.journal.cash_since_collection() == {500: 1}


class SlowPrinter(FolderPrinter):
    """Prints once the test lets it."""

    def __init__(self, folder: Path):
        super().__init__(folder)
        self.go = threading.Event()

    def print_pdf(self, *args, **kwargs):
        self.go.wait(30)
        return super().print_pdf(*args, **kwargs)


def test_a_job_that_ends_after_sign_out_shows_nothing_on_the_pin_pad(kiosk_parts, clock):
    """Staff start a test print and leave; someone opens the pad before it ends. Its
    result must not open a staff screen (its Close button leads to the actions)."""
    machine = new_machine()
    printer = SlowPrinter(kiosk_parts.printed)
    mode = staff_mode(kiosk_parts, machine, printer=printer)

    def scenario(f):
        yield from at_actions(f)
        yield from f.go("test_print", "maintenance-working")
        yield from f.go("goto:actions", "maintenance-actions")
        yield from f.go("goto:status", "maintenance-status")
        yield from f.go("exit", "welcome")
        yield from at_pin_pad(f)
        printer.go.set()
        yield from f.until(lambda v: mode.busy is None)  # the print's result has been taken
        assert f.view.name == "maintenance-pin" and "goto:actions" not in [b.action for b, _ in f.targets]

    try:
        run(kiosk_parts, clock, machine, mode, scenario)
    finally:
        printer.go.set()
    settle(mode)
    assert actions(mode)[-2:] == ["pin_pad_opened", "test_print"]


def test_stopping_the_kiosk_signs_staff_out_and_keeps_the_last_records(kiosk_parts, clock):
    machine = new_machine()
    mode = staff_mode(kiosk_parts, machine)
    run(kiosk_parts, clock, machine, mode, signed_in)
    mode.note(ServiceStatus(False))  # the last fault, just before the kiosk stops
    mode.shutdown()
    last = mode.audit.records()[-1]
    assert (last.who, last.action, last.detail) == ("staff", "sign_out", "kiosk_stopped")
    assert mode.history.faults_on(machine.clock.now().date()) == 1
    assert not mode.active and mode.sign_in.who == "-"


def test_a_failed_frame_closes_the_pad_and_wipes_the_digits(kiosk_parts):
    machine = new_machine()
    mode = staff_mode(kiosk_parts, machine)
    touches = [(pygame.MOUSEBUTTONDOWN, (10, 10), 0.0), (pygame.MOUSEBUTTONUP, (10, 10), 5.2),
               (pygame.MOUSEBUTTONDOWN, (10, SCREEN[1] - 10), 5.5)]
    assert [mode.wants_entry(pygame.event.Event(kind, pos=pos, button=1), at, machine)
            for kind, pos, at in touches] == [False, False, True]
    for digit in "1357":
        mode.handle(Tap(f"digit:{digit}"), 0.0)
    digits = mode.sign_in.pin
    mode.active = False  # what the frame loop does after a frame failed
    assert bytes(digits) == b"" and not mode.active
    settle(mode)
    assert [(r.action, r.detail) for r in mode.audit.records()] == [("pin_pad_opened", ""),
                                                                     ("pin_pad_closed", "frame_failed")]


def test_out_of_service_shows_on_the_residents_screen_and_back(kiosk_parts, clock):
    machine = new_machine()
    mode = staff_mode(kiosk_parts, machine)

    def scenario(f):
        yield from at_actions(f)
        yield from f.go("goto:service", "maintenance-service")
        yield from f.go("out_of_service:printer", "maintenance-result")
        yield from f.go("goto:actions", "maintenance-actions")
        assert "Out of service: Printer out of order" in f.view.title
        yield from f.go("goto:status", "maintenance-status")
        yield from f.go("exit", "out_of_service")
        assert "start" not in [b.action for b, _ in f.targets]
        # staff can still come in while it is out of service, and put it back
        yield from f.gesture()
        yield from f.on("maintenance-pin")
        yield from f.type_pin(DEMO_PIN)
        yield from f.until(checked)
        yield from f.go("goto:actions", "maintenance-actions")
        yield from f.go("goto:service", "maintenance-service")
        yield from f.go("back_in_service", "maintenance-result")
        yield from f.go("goto:actions", "maintenance-actions")
        yield from f.go("goto:status", "maintenance-status")
        yield from f.go("exit", "welcome")

    run(kiosk_parts, clock, machine, mode, scenario, shots="service")
    assert machine.out_of_service is None
    settle(mode)
    records = [(r.action, r.detail) for r in mode.audit.records() if "service" in r.action]
    assert records == [("out_of_service", "reason=printer"), ("back_in_service", "")]


def test_out_of_service_is_kept_across_a_restart(kiosk_parts, clock, caplog):
    caplog.set_level("INFO", logger="kiosk.states")
    first = staff_mode(kiosk_parts, new_machine())
    first.sign_in.who, first.screen = "staff", Screen.SERVICE
    first.handle(Tap("out_of_service:payment"), 0.0)
    settle(first)
    machine = new_machine()
    staff_mode(kiosk_parts, machine)
    assert machine.out_of_service == "payment"
    assert [r.getMessage() for r in caplog.records] == ["out of service: payment"] * 2  # set, then kept
    assert build_view(machine, 0.0).name == "out_of_service"


def test_restart_and_shut_down_run_their_commands_after_a_yes(kiosk_parts, clock):
    machine = new_machine()
    mode = staff_mode(kiosk_parts, machine, returncode=1)

    def scenario(f):
        yield from at_actions(f)
        yield from f.go("shutdown", "maintenance-confirm")
        yield from f.go("no", "maintenance-actions")
        assert kiosk_parts.commands == []
        yield from f.go("restart", "maintenance-confirm")
        yield from f.go("yes", "maintenance-result")
        assert "Access denied" in f.view.warning
        yield from f.go("goto:actions", "maintenance-actions")
        yield from f.go("shutdown", "maintenance-confirm")
        yield from f.go("yes", "maintenance-result")

    run(kiosk_parts, clock, machine, mode, scenario, shots="restart")
    assert kiosk_parts.commands == [("systemctl", "restart", "kiosk"), ("systemctl", "poweroff")]
    settle(mode)
    details = [r.detail for r in mode.audit.records() if r.action in ("restart", "shutdown")]
    assert details[0] == "requested: systemctl restart kiosk"
    assert details[1].startswith("failed: exit 1")


def test_an_untouched_maintenance_screen_closes_itself(kiosk_parts, clock):
    machine = new_machine()
    mode = staff_mode(kiosk_parts, machine, idle_timeout_s=30)

    def scenario(f):
        yield from signed_in(f)
        clock.offset += 31
        yield from f.on("welcome")

    run(kiosk_parts, clock, machine, mode, scenario)
    settle(mode)
    assert (mode.audit.records()[-1].action, mode.audit.records()[-1].detail) == ("sign_out", "idle_timeout")


def test_the_audit_log_holds_no_pin(kiosk_parts, clock):
    machine = new_machine()
    mode = staff_mode(kiosk_parts, machine)

    def scenario(f):
        yield from at_pin_pad(f)
        yield from f.type_pin("97531")
        yield from f.until(lambda v: v.warning)
        yield from f.type_pin(DEMO_PIN)
        yield from f.on("maintenance-status")

    run(kiosk_parts, clock, machine, mode, scenario)
    settle(mode)
    raw = (kiosk_parts.state / FILE_NAME).read_bytes()
    assert b"97531" not in raw and DEMO_PIN.encode() not in raw


def test_the_device_screen_runs_the_real_checks_on_the_embedded_defaults(stub, kiosk_parts, clock, tmp_path):
    url, data = stub
    config = embedded_config(data, url, "R0001", tmp_path / "printed")
    machine = new_machine()
    mode = maintenance_mode(config, machine)

    def scenario(f):
        yield from signed_in(f)
        assert "カードリーダー (正常)" in f.view.lines[0]  # the kiosk's language, ja
        yield from f.tap("lang:en")
        yield from f.until(lambda v: v.title == "Maintenance: devices")
        text = "\n".join(f.view.lines)
        for device in ("Card reader (OK)", "Document printer (OK)", "Issuance center (OK)"):
            assert device in text
        assert f"reachable at {url}" in text
        assert len([line for line in f.view.lines if line.startswith(("○", "×"))]) == len(mode.checks) >= 5
        yield from f.tap("goto:today")
        yield from f.until(lambda v: v.name == "maintenance-today" and "Sessions: 0" in v.lines)
        assert "Certificates printed: 0" in f.view.lines and "Fees taken: ¥0" in f.view.lines

    run(kiosk_parts, clock, machine, mode, scenario, shots="real")
    assert [r.action for r in mode.audit.records()][:3] == ["pin_pad_opened", "sign_in", "recheck_devices"]


def test_an_unreadable_state_file_at_sign_in_is_said_not_crashed(kiosk_parts, clock):
    machine = new_machine()
    mode = staff_mode(kiosk_parts, machine)

    def scenario(f):
        yield from at_pin_pad(f)
        (kiosk_parts.state / FILE_NAME).write_bytes(b"not a database, overwritten by accident" * 100)
        yield from f.type_pin(DEMO_PIN)
        yield from f.until(lambda v: v.warning and "Failed" in v.warning)
        assert f.view.name == "maintenance-pin" and mode.sign_in.who == "-"  # not signed in

    run(kiosk_parts, clock, machine, mode, scenario)
