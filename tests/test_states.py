"""The state machine on its own: what a resident would notice about timeouts, the
PIN keypad and leftovers from a previous visit."""
from __future__ import annotations

from kiosk.events import Authenticated, CardPresence, CardReady, PinWrong, Printed, Tap
from kiosk.screens import build_view
from kiosk.states import Machine, State
from municipal.protocol import DocumentOffer

TIMEOUT = 30.0


class RecordingWorker:
    def __init__(self):
        self.calls: list[tuple] = []

    def begin_visit(self, visit):
        self.calls.append(("begin", visit))

    def open_card(self, visit):
        self.calls.append(("open", visit))

    def end_visit(self):
        self.calls.append(("end",))

    def authenticate(self, visit, pin):
        self.calls.append(("authenticate", visit, bytes(pin)))

    def issue_and_print(self, visit, document_type, copies):
        self.calls.append(("print", visit, document_type, copies))


def machine_at_pin(now=0.0):
    worker = RecordingWorker()
    m = Machine(worker, language="ja", inactivity_timeout_s=TIMEOUT, now=now)
    m.handle(Tap("start"), now)
    m.handle(CardReady(m.visit.number, tries_left=3), now)
    assert m.state is State.PIN
    return m, worker


def type_digits(m, digits, now=0.0):
    for d in digits:
        m.handle(Tap(f"digit:{d}"), now)


def test_inactivity_on_the_pin_screen_returns_to_welcome_and_forgets_the_digits():
    m, worker = machine_at_pin()
    type_digits(m, "12")
    pin_buffer = m.visit.pin
    m.tick(TIMEOUT - 1)
    assert m.state is State.PIN
    m.tick(TIMEOUT + 0.1)
    assert m.state is State.WELCOME
    assert pin_buffer == bytearray() and m.visit.pin == bytearray()
    assert worker.calls[-1] == ("end",)
    assert build_view(m).name == "welcome"


def test_each_tap_restarts_the_inactivity_limit():
    m, _ = machine_at_pin()
    m.handle(Tap("digit:1"), TIMEOUT - 5)
    m.tick(TIMEOUT + 5)
    assert m.state is State.PIN


def test_a_late_report_from_an_ended_visit_is_ignored():
    m, _ = machine_at_pin()
    old_visit = m.visit.number
    m.tick(TIMEOUT + 1)
    m.handle(Tap("start"), TIMEOUT + 2)
    m.handle(Authenticated(old_visit, (DocumentOffer(type="residence_record", fee_yen=200, available=True),)), TIMEOUT + 3)
    assert m.state is State.PLACE_CARD


def test_ok_with_fewer_than_four_digits_sends_nothing_to_the_card():
    m, worker = machine_at_pin()
    type_digits(m, "123")
    m.handle(Tap("ok"), 0)
    assert m.state is State.PIN
    assert not any(call[0] == "authenticate" for call in worker.calls)


def test_the_keypad_takes_four_digits_and_hands_them_over_once():
    m, worker = machine_at_pin()
    type_digits(m, "123456")
    assert build_view(m).pin_filled == 4
    m.handle(Tap("ok"), 0)
    assert m.state is State.CHECKING
    assert ("authenticate", m.visit.number, b"1234") in worker.calls
    assert m.visit.pin == bytearray()  # the screen side no longer holds it


def test_a_wrong_pin_shows_the_tries_the_card_reported():
    m, _ = machine_at_pin()
    type_digits(m, "9999")
    m.handle(Tap("ok"), 0)
    m.handle(PinWrong(m.visit.number, tries_left=1), 0)
    view = build_view(m)
    assert m.state is State.PIN
    assert any("1回" in line for line in view.lines)
    assert view.warning and "最後の1回" in view.warning


def test_switching_language_keeps_the_visit_and_the_next_resident_gets_the_default():
    m, _ = machine_at_pin()
    type_digits(m, "12")
    m.handle(Tap("lang:en"), 1)
    assert m.state is State.PIN and len(m.visit.pin) == 2
    assert build_view(m).title == "Enter your PIN"
    m.handle(Tap("cancel"), 2)
    assert m.language == "ja"


def test_no_inactivity_limit_while_the_kiosk_itself_is_working():
    m, _ = machine_at_pin()
    type_digits(m, "1234")
    m.handle(Tap("ok"), 0)
    m.tick(TIMEOUT * 10)
    assert m.state is State.CHECKING


def test_a_card_placed_while_waiting_is_opened_once_it_is_there():
    worker = RecordingWorker()
    m = Machine(worker, language="ja", inactivity_timeout_s=TIMEOUT, now=0)
    m.handle(Tap("start"), 0)
    assert not any(call[0] == "open" for call in worker.calls)
    m.handle(CardPresence(True), 1)
    assert ("open", m.visit.number) in worker.calls


def test_a_card_already_on_the_reader_is_opened_at_start():
    worker = RecordingWorker()
    m = Machine(worker, language="ja", inactivity_timeout_s=TIMEOUT, now=0)
    m.handle(CardPresence(True), 0)
    m.handle(Tap("start"), 1)
    assert ("open", m.visit.number) in worker.calls


def test_taking_the_card_away_during_pin_entry_ends_with_a_clear_screen():
    m, _ = machine_at_pin()
    type_digits(m, "12")
    m.handle(CardPresence(False), 1)
    assert m.state is State.PROBLEM
    assert build_view(m).name == "problem-card_removed"
    assert m.visit.pin == bytearray()


def test_a_lost_reader_shows_the_reader_screen():
    m, _ = machine_at_pin()
    m.handle(CardPresence(False, reader_lost=True), 1)
    assert build_view(m).name == "problem-reader"


def test_taking_the_card_after_printing_returns_to_welcome():
    m, worker = machine_at_pin()
    type_digits(m, "1234")
    m.handle(Tap("ok"), 0)
    m.handle(Authenticated(m.visit.number, (DocumentOffer(type="residence_record", fee_yen=200, available=True),)), 0)
    m.handle(Tap("doc:residence_record"), 0)
    m.handle(Tap("print"), 0)
    m.handle(Printed(m.visit.number, pages=1, copies=1), 0)
    assert m.state is State.DONE
    m.handle(CardPresence(False), 1)
    assert m.state is State.WELCOME
    assert worker.calls[-1] == ("end",)


def test_touching_start_with_the_reader_gone_says_so_at_once():
    worker = RecordingWorker()
    m = Machine(worker, language="ja", inactivity_timeout_s=TIMEOUT, now=0)
    m.handle(CardPresence(False, reader_lost=True), 0)
    m.handle(Tap("start"), 1)
    assert build_view(m).name == "problem-reader"
