"""The demo's hands on the simulated devices: what the autopilot and the window's
keyboard do instead of a resident's coins and card."""
from __future__ import annotations

from devices.card.transports import InProcessTransport
from devices.card.virtual_card import VirtualCard
from devices.payment import Credit, SimulatedPaymentDevice
from kiosk.autopilot import Hand
from tests.fixtures.cards import new_card_file


def test_keys_insert_coins_and_a_note_into_an_open_payment():
    payment = SimulatedPaymentDevice()
    hand = Hand(payment=payment)
    payment.start_accepting(1200)
    for key in "35":  # a 100-yen coin, then a 1000-yen note
        hand.key(key)
    credits = []
    for _ in range(5):  # a note waits in escrow for a poll or two
        credits += [e.value for e in payment.poll() if isinstance(e, Credit)]
    assert sorted(credits) == [100, 1000]


def test_the_c_key_takes_the_card_off_the_reader_and_puts_it_back(tmp_path):
    new_card_file(tmp_path / "card.card")
    transport = InProcessTransport(VirtualCard(tmp_path / "card.card"))
    hand = Hand(card=transport)
    assert transport.card_present()
    hand.key("c")
    assert not transport.card_present()
    hand.key("c")
    assert transport.card_present()


def test_keys_do_nothing_without_simulated_devices():
    hand = Hand()  # a kiosk with real devices: no coin slot or card to play with
    hand.key("3")
    hand.key("c")
    assert not hand.can_pay() and not hand.can_pull_card()
