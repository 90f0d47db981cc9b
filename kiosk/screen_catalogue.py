"""Every screen a resident can meet, built by driving a real Machine with events.

Layout tests render each of these at every panel size and in every language, and the
gallery shows them side by side. The worker is a stand-in that only takes orders:
what it would report is posted here as events, as the real worker would.
"""
from __future__ import annotations

import datetime as dt
from typing import Iterator

from kiosk.clock import JST, WallClock
from kiosk.events import (Authenticated, CardPresence, CardReady, FeeQuoted, PaymentCancelled, PaymentOpened,
                          PaymentProgress, PinWrong, Printed, PrinterWaiting, PrintProgress, Tap)
from kiosk.screens import PROBLEMS, View, build_view
from kiosk.states import Machine, State
from contract.issuance import DocumentOffer, MemberChoice

TIMEOUT = 60.0
# The walks happen on a Tuesday morning, inside the national service window; the
# closed welcome screen is shown on a year-end day, its longest text.
OPEN_DAY = dt.datetime(2026, 11, 24, 10, 0, tzinfo=JST)
YEAR_END_DAY = dt.datetime(2026, 12, 31, 10, 0, tzinfo=JST)
# A long household and every option, so the fullest screens are the ones checked.
HOUSEHOLD = (
    MemberChoice(id="m1", name="山田　太郎", is_cardholder=True),
    MemberChoice(id="m2", name="山田　花子", is_cardholder=False),
    MemberChoice(id="m3", name="NGUYEN VAN AN THANH LONG MINH", is_cardholder=False),
    MemberChoice(id="m4", name="長谷川　美千代子", is_cardholder=False),
    MemberChoice(id="m5", name="山田　一郎", is_cardholder=False),
)
DOCUMENTS = (
    DocumentOffer(type="residence_record", municipality="999001", fee_yen=200, available=True,
                  options=("relationship", "domicile", "my_number", "nationality", "residence_card",
                           "residence_status"), members=HOUSEHOLD),
    DocumentOffer(type="residence_record_items", municipality="999001", fee_yen=200, available=True,
                  members=HOUSEHOLD),
    DocumentOffer(type="seal_certificate", municipality="999001", fee_yen=200, available=True),
    DocumentOffer(type="tax_certificate", municipality="999001", fee_yen=300, available=True),
    DocumentOffer(type="family_register_full", municipality="999001", fee_yen=450, available=True),
    DocumentOffer(type="family_register_individual", municipality="999001", fee_yen=450, available=True),
    DocumentOffer(type="family_register_annex", municipality="999001", fee_yen=300, available=True),
    DocumentOffer(type="family_register_full", municipality="999001", fee_yen=450, available=False,
                  refusal="service_closed", opening_hours="mon-fri 09:00-17:00"),
)
EXTRA_PROBLEMS = ("counter_only", "printer_paper_out", "binding_certificate", "confirm_refused")


class OrdersOnly:
    """A worker that does nothing: the catalogue posts its reports itself."""

    def __getattr__(self, name):
        return lambda *args, **kwargs: None


class Walk:
    def __init__(self, language: str, wall: dt.datetime = OPEN_DAY):
        self.now = 0.0
        self.m = Machine(OrdersOnly(), language=language, inactivity_timeout_s=TIMEOUT, now=0.0,
                         clock=WallClock.playing(wall))
        self.m.default_language = language

    def tap(self, *actions: str) -> Walk:
        for action in actions:
            self.m.handle(Tap(action), self.now)
        return self

    def report(self, *events) -> Walk:
        for event in events:
            if hasattr(event, "visit"):
                event = type(event)(**{**event.__dict__, "visit": self.m.visit.number})
            self.m.handle(event, self.now)
        return self

    def view(self) -> View:
        return build_view(self.m, self.now)

    def at_pin(self, tries: int = 3) -> Walk:
        self.tap("start").report(CardPresence(True), CardReady(0, tries_left=tries))
        return self

    def at_documents(self) -> Walk:
        return self.at_pin().tap("digit:1", "digit:2", "digit:3", "digit:4", "ok").report(
            Authenticated(0, DOCUMENTS))


def every_view(language: str) -> Iterator[View]:
    w = Walk(language)
    yield w.view()  # welcome
    w.m.language_menu = True
    yield w.view()
    w.m.language_menu = False
    w.m.out_of_service = "maintenance"
    yield w.view()
    w.m.out_of_service = None
    w.m.center_reachable = False
    yield w.view()
    yield Walk(language, wall=YEAR_END_DAY).view()  # closed: when it opens, no Start

    w = Walk(language).tap("start")
    yield w.view()  # place the card
    w.report(CardPresence(True), CardReady(0, tries_left=3)).tap("digit:1", "digit:2")
    yield w.view()  # PIN, two digits typed
    w.tap("digit:3", "digit:4", "ok")
    yield w.view()  # checking
    w.report(PinWrong(0, tries_left=1))
    yield w.view()  # wrong PIN, last try

    w = Walk(language).at_documents()
    for page in range(2):
        w.m.visit.page = page
        yield w.view()  # the documents, both pages
    w.m.visit.page = 0
    w.tap("doc:residence_record")
    for page in range(2):
        w.m.visit.page = page
        yield w.view()  # household members
    w.m.visit.members.clear()
    yield w.view()  # nobody ticked: a warning, no Next
    w.tap("all", "next")
    for page in range(2):
        w.m.visit.page = page
        yield w.view()  # options
    w.tap("option:relationship", "next", "copies+")
    yield w.view()  # copies
    w.tap("next")
    yield w.view()  # fee, change not known yet
    w.report(FeeQuoted(0, due=400, accepted=(10, 50, 100, 500), refused=(1000,)))
    yield w.view()
    w.tap("pay")
    yield w.view()  # preparing
    w.report(PaymentOpened(0, due=400, pages=2, accepted=(10, 50, 100, 500)), PaymentProgress(0, 300, 400))
    yield w.view()
    w.m.prompting = True
    yield w.view()  # need more time?
    w.m.prompting = False
    w.report(PaymentProgress(0, 500, 400))
    yield w.view()  # paid
    w.report(PrintProgress(0, 3, 4))
    yield w.view()
    w.report(PrinterWaiting(0, "printer_paper_out"))
    yield w.view()  # paper out: staff refill, then a reprint
    w.report(PrintProgress(0, 0, 4), PrintProgress(0, 3, 4))
    w.report(Printed(0, pages=2, copies=2, change=100, owed=0))
    yield w.view()  # printed: another?
    w.tap("finish")
    yield w.view()  # take your card
    w.report(CardPresence(False))
    yield w.view()  # take your certificate

    w = Walk(language).at_documents().tap("doc:seal_certificate", "next")
    w.report(FeeQuoted(0, due=200, accepted=(10, 50, 100), refused=(500, 1000))).tap("pay")
    w.report(PaymentOpened(0, due=200, pages=1, accepted=(10, 50, 100)), PaymentProgress(0, 150, 200))
    w.tap("cancel")
    yield w.view()  # returning the money
    w.report(PaymentCancelled(0, refunded=150, owed=0))
    yield w.view()

    for code in (*PROBLEMS, *EXTRA_PROBLEMS):
        w = Walk(language).at_pin()
        w.m.visit.problem = code
        money_moved = code.startswith(("printer_", "payment_", "confirm_"))
        w.m.visit.refunded, w.m.visit.owed = (400, 100) if money_moved else (0, 0)
        w.m.visit.hours = "mon-fri 09:00-17:00" if code == "service_closed" else None
        w.m.state = State.PROBLEM
        yield w.view()
