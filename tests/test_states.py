"""The state machine on its own: what a resident would notice about timeouts, the
PIN keypad and leftovers from a previous visit."""
from __future__ import annotations

import datetime as dt
import logging

import pytest

from contract.service_window import JST
from kiosk.events import (Authenticated, CardPresence, CardReady, FeeQuoted, PaymentCancelled, PaymentOpened,
                          PaymentProgress, PinWrong, Printed, PrinterWaiting, PrintProblem, PrintProgress, Tap)
from kiosk.screens import build_view
from kiosk.states import MORE_TIME_PROMPT_S, TRANSITIONS, Machine, Row, State, StateGraphError, check_graph
from contract.issuance import DocumentOffer, DocumentOptions, MemberChoice

TIMEOUT = 30.0


class WallAt:
    """A wall clock in Japan time that only moves when the test moves it."""

    def __init__(self, moment: str = "2026-11-24 10:00"):  # a Tuesday morning, open
        self.set(moment)

    def set(self, moment: str) -> None:
        self.at = dt.datetime.fromisoformat(moment).replace(tzinfo=JST)

    def now(self) -> dt.datetime:
        return self.at


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

    def quote_fee(self, visit, fee_yen):
        self.calls.append(("quote", visit, fee_yen))

    def request_and_pay(self, visit, document_type, options, copies):
        self.calls.append(("pay", visit, document_type, options, copies))

    def cancel_payment(self, visit):
        self.calls.append(("cancel_payment", visit))


def new_machine(worker=None, now=0.0, wall: WallAt | None = None) -> Machine:
    return Machine(worker or RecordingWorker(), language="ja", inactivity_timeout_s=TIMEOUT, now=now,
                   clock=wall or WallAt())


def machine_at_pin(now=0.0, wall: WallAt | None = None):
    worker = RecordingWorker()
    m = new_machine(worker, now, wall)
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
    offer = DocumentOffer(type="residence_record", municipality="999001", fee_yen=200, available=True)
    m.handle(Authenticated(old_visit, (offer,)), TIMEOUT + 3)
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
    m = new_machine(worker)
    m.handle(Tap("start"), 0)
    assert not any(call[0] == "open" for call in worker.calls)
    m.handle(CardPresence(True), 1)
    assert ("open", m.visit.number) in worker.calls


def test_a_card_already_on_the_reader_is_opened_at_start():
    worker = RecordingWorker()
    m = new_machine(worker)
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


HOUSEHOLD = (MemberChoice(id="a", name="山田　太郎", is_cardholder=True),
             MemberChoice(id="b", name="山田　花子", is_cardholder=False),
             MemberChoice(id="c", name="山田　一郎", is_cardholder=False))
RESIDENCE = DocumentOffer(type="residence_record", municipality="999001", fee_yen=200, available=True,
                          options=("relationship", "my_number"), members=HOUSEHOLD)
SEAL = DocumentOffer(type="seal_certificate", municipality="999001", fee_yen=300, available=True)


def machine_at_documents(card_on_reader=True):
    m, worker = machine_at_pin()
    m.handle(CardPresence(card_on_reader), 0)
    type_digits(m, "1234")
    m.handle(Tap("ok"), 0)
    m.handle(Authenticated(m.visit.number, (RESIDENCE, SEAL)), 0)
    assert m.state is State.CHOOSE_DOCUMENT
    return m, worker


def tap(m, *actions, now=0.0):
    for action in actions:
        m.handle(Tap(action), now)


def pay_and_print(m, fee, now=0.0):
    n = m.visit.number
    m.handle(FeeQuoted(n, due=fee, accepted=(10, 50, 100, 500), refused=(1000,)), now)
    tap(m, "pay", now=now)
    assert m.state is State.PREPARING
    m.handle(PaymentOpened(n, due=fee, pages=1, accepted=(10, 50, 100, 500)), now)
    m.handle(PaymentProgress(n, credited=fee, due=fee), now)
    m.handle(PrintProgress(n, sheet=1, sheets=1), now)
    m.handle(Printed(n, pages=1, copies=1, change=0), now)
    assert m.state is State.MORE


def paying_for_a_seal_certificate(credited):
    """A ¥300 payment open, with `credited` yen inserted so far."""
    m, worker = machine_at_documents()
    tap(m, "doc:seal_certificate", "next")
    m.handle(FeeQuoted(m.visit.number, due=300, accepted=(100,), refused=()), 0)
    tap(m, "pay")
    m.handle(PaymentOpened(m.visit.number, due=300, pages=1, accepted=(100,)), 0)
    m.handle(PaymentProgress(m.visit.number, credited=credited, due=300), 0)
    return m, worker


def test_members_and_options_chosen_on_screen_are_what_the_center_is_asked_for():
    m, worker = machine_at_documents()
    tap(m, "doc:residence_record")
    assert m.state is State.MEMBERS
    view = build_view(m)
    ticks = {b.action: b.checked for b in view.buttons if b.style == "check"}
    assert ticks == {"member:a": True, "member:b": False, "member:c": False}  # the card holder by default
    tap(m, "member:c", "next", "option:my_number", "next", "copies+", "next")
    assert m.state is State.FEE and ("quote", m.visit.number, 400) in worker.calls
    tap(m, "pay")
    assert m.state is State.FEE, "no payment before the machine has said what it takes"
    m.handle(FeeQuoted(m.visit.number, due=400, accepted=(100,), refused=(500, 1000)), 0)
    assert "¥500" in build_view(m).warning
    tap(m, "pay")
    assert worker.calls[-1] == ("pay", m.visit.number, "residence_record",
                                DocumentOptions(members=("a", "c"), include=("my_number",)), 2)


def test_nobody_ticked_cannot_go_on_and_everyone_means_the_whole_household():
    m, worker = machine_at_documents()
    tap(m, "doc:residence_record", "member:a", "next")
    assert m.state is State.MEMBERS and build_view(m).warning
    tap(m, "all", "next", "next", "next", "pay")
    m.handle(FeeQuoted(m.visit.number, due=200, accepted=(100,), refused=()), 0)
    tap(m, "pay")
    assert worker.calls[-1][3] == DocumentOptions(members=None, include=())


def test_the_inserted_amount_counts_up_and_cancel_gives_it_back():
    m, worker = paying_for_a_seal_certificate(credited=200)
    assert build_view(m).big == "¥200 / ¥300"
    tap(m, "cancel")
    assert m.state is State.REFUNDING and worker.calls[-1] == ("cancel_payment", m.visit.number)
    m.handle(PaymentCancelled(m.visit.number, refunded=200), 1)
    assert m.state is State.CANCELLED
    assert any("¥200" in line for line in build_view(m).lines)


def test_walking_away_from_a_payment_refunds_it_after_asking_for_more_time():
    m, worker = paying_for_a_seal_certificate(credited=100)
    m.tick(TIMEOUT - MORE_TIME_PROMPT_S + 0.1)
    view = build_view(m)
    assert view.prompt and {b.action for b in view.buttons if b.style == "prompt"} == {"more_time", "end_now"}
    m.tick(TIMEOUT + 0.1)
    assert m.state is State.REFUNDING and ("cancel_payment", m.visit.number) in worker.calls


def test_more_time_keeps_the_screen_and_its_choices():
    m, _ = machine_at_documents()
    tap(m, "doc:residence_record", "member:b")
    m.tick(TIMEOUT - 1)
    assert build_view(m).prompt
    tap(m, "member:c", now=TIMEOUT - 1)  # behind the prompt: does nothing
    tap(m, "more_time", now=TIMEOUT - 1)
    m.tick(TIMEOUT + 5)
    assert m.state is State.MEMBERS and m.visit.members == {"a", "b"} and not build_view(m).prompt


def test_a_paid_print_that_fails_says_what_happened_to_the_money():
    m, _ = paying_for_a_seal_certificate(credited=300)
    m.handle(PrintProblem(m.visit.number, "printer_paper_out", refunded=300), 0)
    view = build_view(m)
    assert view.name == "problem-printer_paper_out" and view.alert
    assert any("¥300" in line for line in view.lines)


def test_a_second_document_needs_no_new_pin_and_the_card_is_asked_for_at_the_end():
    m, worker = machine_at_documents()
    tap(m, "doc:seal_certificate", "next")
    pay_and_print(m, 300)
    tap(m, "another")
    assert m.state is State.CHOOSE_DOCUMENT
    assert not [c for c in worker.calls if c[0] == "authenticate"][1:]
    tap(m, "doc:seal_certificate", "next")
    pay_and_print(m, 300)
    tap(m, "finish")
    view = build_view(m)
    assert m.state is State.TAKE_CARD and view.flash and view.sound == "chime"
    assert m.visit.documents == () and worker.calls[-1] == ("end",)  # nothing of the resident is kept
    m.tick(10_000)
    assert m.state is State.TAKE_CARD, "the kiosk waits until the card is really taken"
    m.handle(CardPresence(False), 10_001)
    assert m.state is State.TAKE_DOCUMENTS
    m.tick(10_020)
    assert m.state is State.WELCOME


def test_after_the_time_limit_another_document_needs_a_new_visit():
    m, _ = machine_at_documents()
    tap(m, "doc:seal_certificate", "next")
    pay_and_print(m, 300, now=600)
    assert not any(b.action == "another" for b in build_view(m, now=600).buttons)


def test_taking_the_card_after_a_document_is_how_a_resident_leaves():
    m, _ = machine_at_documents()
    tap(m, "doc:seal_certificate", "next")
    pay_and_print(m, 300)
    tap(m, "another")
    m.handle(CardPresence(False), 1)
    assert m.state is State.TAKE_DOCUMENTS and m.visit.documents == ()


def test_the_language_and_display_change_on_any_screen_without_losing_the_choice():
    m, _ = machine_at_documents()
    tap(m, "doc:residence_record", "member:b", "lang:menu")
    assert build_view(m).name == "language"
    tap(m, "lang:vi", "a11y:text", "a11y:contrast")
    view = build_view(m)
    assert m.state is State.MEMBERS and m.visit.members == {"a", "b"}
    assert view.name == "members" and view.large_text and view.high_contrast
    tap(m, "cancel")
    assert m.language == "ja" and not m.large_text, "the next resident starts on the defaults"


def test_out_of_service_offers_no_start():
    m = new_machine()
    m.out_of_service = "paper"
    view = build_view(m)
    assert view.name == "out_of_service" and not any(b.action == "start" for b in view.buttons)
    tap(m, "start")
    assert m.state is State.WELCOME


def test_touching_start_with_the_reader_gone_says_so_at_once():
    worker = RecordingWorker()
    m = new_machine(worker)
    m.handle(CardPresence(False, reader_lost=True), 0)
    m.handle(Tap("start"), 1)
    assert build_view(m).name == "problem-reader"


CLOSED = DocumentOffer(type="family_register_full", municipality="999001", fee_yen=450, available=False,
                       refusal="service_closed", opening_hours="mon-fri 09:00-17:00")


def offered_in_english(*offers):
    m, _ = machine_at_pin()
    type_digits(m, "1234")
    m.handle(Tap("ok"), 0)
    m.handle(Authenticated(m.visit.number, offers), 0)
    m.language = "en"
    return build_view(m)


def test_closed_now_says_when_it_opens():
    view = offered_in_english(CLOSED)
    assert view.name == "problem-service_closed"
    assert "Service hours: Weekdays 09:00-17:00" in view.lines


def test_a_document_closed_at_this_hour_is_named_with_its_hours_beside_the_open_ones():
    view = offered_in_english(SEAL, CLOSED)
    assert [b.action for b in view.buttons if b.style == "choice"] == ["doc:seal_certificate"]
    assert any("not available now" in line and "09:00-17:00" in line for line in view.lines)


def test_a_document_only_the_counter_may_issue_is_never_offered_as_closed_for_now():
    """Its hours are those of the office: coming back later would not help."""
    counter_only = CLOSED.model_copy(update={"refusal": "counter_only"})
    view = offered_in_english(SEAL, counter_only)
    assert not any("not available now" in line or "09:00" in line for line in view.lines)
    view = offered_in_english(counter_only)
    assert view.name == "problem-counter_only"
    assert not any("Service hours" in line for line in view.lines)


def test_paper_out_mid_print_tells_the_resident_what_happens_next():
    m, _ = paying_for_a_seal_certificate(credited=300)
    n = m.visit.number
    m.handle(PrintProgress(n, sheet=0, sheets=2), 0)
    m.handle(PrinterWaiting(n, "printer_paper_out"), 0)
    m.language = "en"
    view = build_view(m)
    assert view.name == "printer_waiting" and view.alert
    assert any("store staff" in line for line in view.lines)
    assert any("money is returned" in line for line in view.lines)
    m.handle(PrintProgress(n, sheet=0, sheets=2), 1)  # refilled: the reprint starts
    assert build_view(m).name == "printing"


# --- the national service window: closed before the card ------------------------------

def welcome_in(m, language: str):
    m.language = language
    return build_view(m)


def test_at_night_the_welcome_screen_says_closed_and_when_it_opens_and_takes_no_card():
    worker = RecordingWorker()
    m = new_machine(worker, wall=WallAt("2026-11-24 23:58"))
    m.handle(CardPresence(True), 0)  # a card laid on the reader anyway
    view = welcome_in(m, "en")
    assert view.name == "closed" and view.title == "Service closed now"
    assert view.lines[0] == "Service starts tomorrow at 06:30."
    assert not any(b.action == "start" for b in view.buttons)
    tap(m, "start")
    assert m.state is State.WELCOME and worker.calls == [], "no visit begins and the card is not read"


def test_the_welcome_screen_opens_by_itself_at_half_past_six():
    wall = WallAt("2026-11-25 06:29:59")
    m = new_machine(wall=wall)
    assert welcome_in(m, "en").lines[0] == "Service starts today at 06:30."
    wall.set("2026-11-25 06:30")
    m.tick(1)
    view = welcome_in(m, "en")
    assert view.name == "welcome" and any(b.action == "start" for b in view.buttons)
    tap(m, "start", now=2)
    assert m.state is State.PLACE_CARD


def test_the_welcome_screen_closes_by_itself_at_eleven():
    wall = WallAt("2026-11-24 22:59:59")
    m = new_machine(wall=wall)
    assert welcome_in(m, "en").name == "welcome"
    wall.set("2026-11-24 23:00")
    m.tick(1)
    assert welcome_in(m, "en").name == "closed"


def test_over_the_year_end_days_the_screen_names_the_day_it_opens():
    m = new_machine(wall=WallAt("2026-12-31 10:00"))
    view = welcome_in(m, "ja")
    assert view.name == "closed"
    assert "1月4日" in view.lines[0] and "06:30" in view.lines[0]
    assert any("12月29日" in line and "1月3日" in line for line in view.lines)
    assert "January 4" in welcome_in(m, "en").lines[0]


def test_a_visit_started_before_eleven_is_not_cut_off_at_eleven():
    wall = WallAt("2026-11-24 22:59")
    m, worker = machine_at_pin(wall=wall)
    wall.set("2026-11-24 23:00:30")
    m.tick(1)
    assert m.state is State.PIN
    type_digits(m, "1234", now=1)
    tap(m, "ok", now=1)
    m.handle(Authenticated(m.visit.number, (SEAL,)), 2)  # the center's own hours decide after the PIN
    m.tick(3)
    assert m.state is State.CHOOSE_DOCUMENT and build_view(m).name == "choose_document"
    tap(m, "cancel", now=4)
    m.handle(CardPresence(False), 5)
    assert m.state is State.WELCOME and build_view(m).name == "closed", "the next resident finds it closed"


# --- the table: declared targets, checked when built and when run ---------------------

def test_the_kiosks_table_passes_its_own_graph_check():
    check_graph(TRANSITIONS)


def test_the_graph_check_refuses_a_state_nothing_leads_to():
    without_cancel = {key: Row(r.handler, r.targets - {State.CANCELLED}) for key, r in TRANSITIONS.items()}
    with pytest.raises(StateGraphError, match="unreachable from welcome: \\['cancelled'\\]"):
        check_graph(without_cancel)


def test_the_graph_check_refuses_a_state_with_no_way_back_to_welcome():
    stuck_on_problem = {key: r for key, r in TRANSITIONS.items() if key[0] is not State.PROBLEM}
    with pytest.raises(StateGraphError, match="no way back to welcome: \\['problem'\\]"):
        check_graph(stuck_on_problem)


def test_a_handler_leading_where_it_did_not_declare_ends_on_the_problem_screen(monkeypatch, caplog):
    m, worker = machine_at_pin()
    type_digits(m, "12")
    buggy = Row(lambda machine, event, now: State.PAYING, frozenset({State.CHECKING}))
    monkeypatch.setitem(TRANSITIONS, (State.PIN, Tap), buggy)
    with caplog.at_level(logging.ERROR, logger="kiosk.states"):
        tap(m, "digit:3")
    assert m.state is State.PROBLEM and build_view(m).name == "problem-internal_error"
    assert m.visit.pin == bytearray(), "the digits typed are wiped with the problem"
    assert any("undeclared paying" in r.getMessage() for r in caplog.records)
