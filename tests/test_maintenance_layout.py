"""Every maintenance screen in Japanese and English on both panels: text fits, each
touch target is at least 15 mm each way and none overlap, with a long day's worth of
checks and faults. And the staff gesture's corners hold no button of the resident's."""
from __future__ import annotations

import datetime as dt
import time

import pygame
import pytest

from kiosk.config import MaintenanceConfig
from kiosk.device_checks import Check
from kiosk.embedded import DEMO_STAFF_PIN_HASH
from kiosk.maintenance.gesture import CornerGesture
from kiosk.maintenance.history import Fault
from kiosk.maintenance.actions import Summary
from kiosk.maintenance.jobs import Outcome
from kiosk.maintenance.mode import MaintenanceMode
from kiosk.maintenance.screen_graph import Screen
from kiosk.maintenance.views import FAULTS, build_view
from kiosk.render import Renderer
from kiosk.screens import build_view as resident_view
from kiosk.states import Machine
from printouts.receipt import JST

PANELS = {(1024, 600): (154.0, 86.0), (1920, 1080): (332.0, 187.0)}  # visible area in mm

CHECKS = [
    Check("card_reader", True, "reader 'ACS ACR1252 Dual Reader [ACR1252 Dual Reader PICC] 00 00' present"),
    Check("card", True, "no card on the reader (place a test card to check that one answers)"),
    Check("document_printer", False, "CUPS queue KioskPDF is stopped: Filter failed (out of paper, a door is open)"),
    Check("receipt_printer", True, "online; paper near its end: change the roll soon"),
    Check("payment", True, "answers; change in the hoppers: 10 yen × 100, 50 yen × 50, 100 yen × 100 (low), "
                           "500 yen × 40"),
    Check("journal", True, "the paid-session journal /var/lib/kiosk/kiosk-journal.sqlite can be written"),
    Check("issuance_center", False, "cannot connect to the issuance center at https://issuance.example.jp:8443: "
                                    "[Errno 111] Connection refused"),
    Check("clock", True, "synchronised with a time server (NTP)"),
]


@pytest.fixture(scope="module", autouse=True)
def display():
    pygame.display.init()
    pygame.font.init()
    yield


def every_screen(mode: MaintenanceMode):
    """(name, setup) for each screen in a busy state."""
    now = dt.datetime.now(JST)
    mode.checks, mode.checked_at = CHECKS, now
    mode.summary = Summary(day_totals={"documents": 123, "fees_yen": 45600, "refunds_yen": 1200, "faults": 9},
                           sessions=140, faults_today=9, paper_left=12,
                           cash={1000: 41, 500: 12, 100: 230, 50: 9, 10: 77},
                           recent_faults=[Fault(now, code, 1230) for code in ("change_owed", "printer_job_timed_out",
                                                                               "payment_jammed", "reader_lost")])
    pad = mode.sign_in
    yield "pin", dict(screen=Screen.PIN), dict(wrong=True, tries_left=1)
    yield "pin-locked", dict(screen=Screen.PIN), dict(wrong=False, locked_until=pad.wall() + 900)
    yield "status", dict(screen=Screen.STATUS, busy="recheck", summary_pending=1), {}
    yield "status-summary", dict(screen=Screen.STATUS, busy=None, summary_pending=1), {}
    yield "today", dict(screen=Screen.TODAY), {}
    yield "actions", dict(screen=Screen.ACTIONS), {}
    yield "collect", dict(screen=Screen.COLLECT), {}
    yield "service", dict(screen=Screen.SERVICE), {}
    yield "confirm-restart", dict(screen=Screen.CONFIRM, confirming="restart"), {}
    yield "confirm-shutdown", dict(screen=Screen.CONFIRM, confirming="shutdown"), {}
    yield "working", dict(screen=Screen.WORKING, busy="collect_cash"), {}
    yield "result", dict(screen=Screen.RESULT, notice=Outcome(
        "collect_cash", "The slip was not printed, so nothing was reset: {error}",
        {"error": "CUPS queue KioskPDF is stopped: Filter failed"}, problem=True)), {}


@pytest.mark.parametrize("size", list(PANELS), ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("language", ["ja", "en"])
def test_every_maintenance_screen_fits(size, language, tmp_path):
    machine = Machine(None, language=language, inactivity_timeout_s=60, now=0.0)
    machine.set_out_of_service("maintenance_work")
    mode = MaintenanceMode(MaintenanceConfig(staff_pin_hash=DEMO_STAFF_PIN_HASH, state_dir=tmp_path),
                           machine, terminal_id="KIOSK-0001", screen_size=size, checks=list, printer=None,
                           language=language)
    surface = pygame.Surface(size)
    renderer = Renderer(surface)
    mm_x, mm_y = size[0] / PANELS[size][0], size[1] / PANELS[size][1]
    problems = []
    for name, state, pad in every_screen(mode):
        for target, values in ((mode, state), (mode.sign_in, pad)):
            for key, value in values.items():
                setattr(target, key, value)
        view = build_view(mode, time.monotonic())
        assert view.name == f"maintenance-{name.split('-')[0]}"
        targets = renderer.draw(view, 0.25)
        problems += [f"{name}: text does not fit: {text!r}" for _, text in renderer.overflows]
        for i, (b, rect) in enumerate(targets):
            if rect.width / mm_x < 15 or rect.height / mm_y < 15:
                problems.append(f"{name}: {b.label!r} is under 15 mm")
            problems += [f"{name}: {b.label!r} overlaps {o.label!r}" for o, r in targets[i + 1:] if rect.colliderect(r)]
    assert problems == []


def test_every_fault_reads_in_plain_words():
    from kiosk.maintenance.views import _Screens

    class Staff:
        language = "ja"

    screens = _Screens(Staff(), 0.0)
    now = dt.datetime.now(JST)
    for code in [*FAULTS, "printer_paper_out", "printer_job_failed", "binding_pdf_sha256"]:
        text = screens.fault_text(Fault(now, code, 100))
        assert code not in text and "{" not in text, text


@pytest.mark.parametrize("size", list(PANELS), ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("language", ["ja", "en"])
@pytest.mark.parametrize("out_of_service", [None, "printer"])
def test_the_gesture_corners_hold_no_button_of_the_welcome_screen(size, language, out_of_service):
    machine = Machine(None, language=language, inactivity_timeout_s=60, now=0.0)
    machine.set_out_of_service(out_of_service)
    targets = Renderer(pygame.Surface(size)).draw(resident_view(machine, 0.0), 0.0)
    corners = CornerGesture(size)
    zones = [pygame.Rect(0, 0, corners.side, corners.side),
             pygame.Rect(0, size[1] - corners.side, corners.side, corners.side)]
    assert [b.label for b, rect in targets if any(rect.colliderect(zone) for zone in zones)] == []


def test_the_corners_are_a_finger_wide():
    for size, (w_mm, h_mm) in PANELS.items():
        side = CornerGesture(size).side
        assert side / (size[1] / h_mm) >= 12  # at least 12 mm: a fingertip finds it
