"""Payment over ccTalk: the wire format, change planning, and the PaymentDevice against
the emulated coin acceptor, note validator and hoppers on a real pty."""
from __future__ import annotations

import itertools
import os
import subprocess
import sys
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from devices.payment import (
    Credit,
    DeviceLost,
    EventsLost,
    FraudCoin,
    Jammed,
    PaymentDevice,
    PaymentDeviceLost,
    PaymentProtocolError,
    Rejected,
    SimulatedPaymentDevice,
)
from devices.payment import cctalk
from devices.payment.cash import can_pay, offer_for
from devices.payment.cctalk_emulator import CcTalkEmulator
from devices.payment.cctalk_link import CcTalkLink
from devices.payment.emulated_devices import DEFAULT_LEVELS, LOW_LEVEL_TRIGGER

TIMEOUT = 0.3
BOUND_S = 10 * TIMEOUT  # far above any legitimate wait: only a hang gets near it

frames = st.builds(
    cctalk.Frame,
    destination=st.integers(0, 255),
    source=st.integers(0, 255),
    header=st.integers(0, 255),
    data=st.binary(max_size=cctalk.MAX_DATA),
)


# --- wire format -----------------------------------------------------------------


def test_simple_poll_has_the_bytes_of_the_specification():
    assert cctalk.encode(cctalk.Frame(2, 1, cctalk.Header.SIMPLE_POLL)) == bytes([2, 0, 1, 254, 255])


@given(frames)
def test_frames_round_trip_and_sum_to_zero(frame):
    raw = cctalk.encode(frame)
    assert sum(raw) % 256 == 0
    assert cctalk.decode(raw) == frame


@given(frames, st.data())
def test_any_corrupted_byte_is_refused(frame, data):
    raw = bytearray(cctalk.encode(frame))
    index = data.draw(st.integers(0, len(raw) - 1))
    raw[index] ^= data.draw(st.integers(1, 255))
    with pytest.raises(cctalk.CcTalkFrameError) as refused:
        cctalk.decode(bytes(raw))
    if index != 1:  # a changed length byte makes it the wrong size instead
        assert refused.value.reason == "checksum"


@given(frames, st.data())
def test_a_cut_frame_is_truncated(frame, data):
    raw = cctalk.encode(frame)
    cut = raw[: data.draw(st.integers(0, len(raw) - 1))]
    with pytest.raises(cctalk.CcTalkFrameError) as refused:
        cctalk.decode(cut)
    assert refused.value.reason == "truncated"


def test_bytes_past_the_announced_length_are_a_length_error():
    with pytest.raises(cctalk.CcTalkFrameError, match="6 bytes where its length byte announces 5") as refused:
        cctalk.decode(bytes([2, 0, 1, 254, 255, 0]))
    assert refused.value.reason == "length"


def test_a_bad_checksum_names_the_expected_byte():
    with pytest.raises(cctalk.CcTalkFrameError, match="checksum 0x00, expected 0xFF"):
        cctalk.decode(bytes([2, 0, 1, 254, 0]))


def _device_buffer(start: int, count: int) -> tuple[cctalk.EventBuffer, list[tuple[int, int]]]:
    """A device whose counter stood at `start` posts `count` numbered events."""
    counter, newest_first, posted = start, [], []
    for n in range(count):
        counter = cctalk.next_counter(counter)
        event = (n % 16 + 1, n // 16)
        posted.append(event)
        newest_first.insert(0, event)
    buffer = cctalk.EventBuffer(counter, tuple(newest_first[: cctalk.EVENT_PAIRS]))
    return cctalk.decode_event_buffer(cctalk.encode_event_buffer(buffer)), posted


@given(st.integers(0, 255), st.integers(0, 12))
def test_unread_events_come_once_oldest_first_and_overflow_is_counted(start, count):
    buffer, posted = _device_buffer(start, count)
    events, lost = cctalk.unread_events(start, buffer)
    assert lost == max(0, count - cctalk.EVENT_PAIRS)
    assert events == posted[lost:]
    assert cctalk.unread_events(buffer.counter, buffer) == ([], 0)


def test_the_event_counter_wraps_from_255_to_1():
    assert cctalk.next_counter(255) == 1
    assert cctalk.next_counter(0) == 1
    buffer, posted = _device_buffer(254, 3)
    assert buffer.counter == 2
    assert cctalk.unread_events(254, buffer) == (posted, 0)


def test_coin_and_bill_ids():
    assert cctalk.monetary_id("JP", 10, 3) == b"JP010A"
    assert cctalk.parse_monetary_id(b"JP500A") == ("JP", 500)
    assert cctalk.parse_monetary_id(b"JP1000A") == ("JP", 1000)
    assert cctalk.parse_monetary_id(b"......") is None
    assert cctalk.enabled_positions(cctalk.inhibit_mask([1, 3, 16])) == {1, 3, 16}


# --- change --------------------------------------------------------------------------


def _payable_by_brute_force(amount: int, levels: dict[int, int]) -> bool:
    ranges = [range(levels[d] + 1) for d in levels]
    return any(sum(n * d for n, d in zip(counts, levels)) == amount for counts in itertools.product(*ranges))


@given(st.fixed_dictionaries({d: st.integers(0, 4) for d in (10, 50, 100, 500)}), st.integers(0, 250))
def test_greedy_change_finds_a_way_whenever_there_is_one(levels, tens):
    assert can_pay(tens * 10, levels) == _payable_by_brute_force(tens * 10, levels)


def test_the_offer_refuses_inserts_whose_change_cannot_be_given():
    # 540 yen in stock: enough for any change after a 500 coin (at most 490), not after a note.
    offer = offer_for(300, {10: 9, 50: 1, 100: 4, 500: 0})
    assert offer.accepted == {10, 50, 100, 500}
    assert offer.refused == {1000}
    assert offer_for(300, {10: 0, 50: 0, 100: 9, 500: 9}).accepted == {10}


# --- through the pty -------------------------------------------------------------------


@pytest.fixture
def emulator():
    with CcTalkEmulator() as emulator:
        yield emulator


@pytest.fixture
def device(emulator):
    with PaymentDevice.open(emulator.tty_path, timeout=TIMEOUT) as device:
        yield device


def credits(events) -> list[int]:
    return [e.value for e in events if isinstance(e, Credit)]


def test_each_coin_is_credited_once_even_when_polls_are_missed(emulator, device):
    device.start_accepting(1000)
    for value in (10, 50, 100):
        assert emulator.bus.insert_coin(value)
    assert credits(device.poll()) == [10, 50, 100]
    assert device.poll() == []
    emulator.bus.insert_coin(500)
    emulator.bus.insert_coin(100)
    assert credits(device.poll()) == [500, 100]


def test_more_events_than_the_device_buffers_are_reported_lost(emulator, device):
    device.start_accepting(1000)
    for _ in range(7):
        emulator.bus.insert_coin(10)
    events = device.poll()
    assert events[0] == EventsLost("coin acceptor", 2)
    assert credits(events) == [10] * 5


def test_a_fraud_coin_is_reported_and_not_credited(emulator, device):
    device.start_accepting(300)
    emulator.bus.insert_fraud_coin()
    assert device.poll() == [FraudCoin(cctalk.REJECT_SLUG, "slug (counterfeit coin) rejected")]


def test_a_jam_is_reported_and_nothing_is_credited_past_it(emulator, device):
    device.start_accepting(300)
    emulator.bus.jam()
    assert not emulator.bus.insert_coin(100)
    assert device.poll() == [Jammed("coin acceptor", "credit sensor blocked")]
    emulator.bus.clear_jam()
    assert emulator.bus.insert_coin(100)
    assert credits(device.poll()) == [100]


def test_an_empty_hopper_is_told_before_paying_and_enforced(emulator, device):
    emulator.bus.set_hopper_level(10, 0)
    offer = device.offer(300)
    assert offer.accepted == {10} and offer.refused == {50, 100, 500, 1000}
    assert device.start_accepting(300) == offer
    assert not emulator.bus.insert_coin(500)  # the mask makes the mechanism give it back
    assert device.poll() == [Rejected(500, "coin not accepted")]


def test_a_payout_short_of_coins_reports_the_shortfall(emulator, device):
    for denomination in (50, 500):
        emulator.bus.set_hopper_level(denomination, 0)
    emulator.bus.set_hopper_level(10, 2)
    emulator.bus.set_hopper_level(100, 3)
    payout = device.pay_out(1000)
    assert payout.coins == {100: 3, 10: 2}
    assert (payout.paid, payout.shortfall, payout.complete) == (320, 680, False)
    assert payout.problems == ("the hoppers hold no coins to make the last 680 yen",)
    assert emulator.bus.hopper_levels() == {10: 0, 50: 0, 100: 0, 500: 0}


def test_change_is_paid_largest_coins_first(emulator, device):
    payout = device.pay_out(660)
    assert payout.complete and payout.coins == {500: 1, 100: 1, 50: 1, 10: 1}
    levels = emulator.bus.hopper_levels()
    assert levels == {d: DEFAULT_LEVELS[d] - 1 for d in DEFAULT_LEVELS}
    assert device.change_available() == levels


def test_a_low_hopper_is_reported(emulator, device):
    emulator.bus.set_hopper_level(50, LOW_LEVEL_TRIGGER)
    assert [(h.denomination, h.low) for h in device.hoppers()] == [(10, False), (50, True), (100, False), (500, False)]


def test_a_device_that_disappears_is_lost_within_the_timeout(emulator, device):
    device.start_accepting(300)
    emulator.bus.disappear()
    started = time.monotonic()
    [lost] = device.poll()
    assert isinstance(lost, DeviceLost) and "no answer from the coin acceptor" in lost.reason
    assert time.monotonic() - started < BOUND_S
    with pytest.raises(PaymentDeviceLost):
        device.change_available()
    payout = device.pay_out(100)
    assert payout.paid == 0 and "payout stopped: no answer" in payout.problems[0]


def test_a_garbage_byte_is_a_protocol_error_naming_it_and_loses_no_coin(emulator, device):
    device.start_accepting(300)
    emulator.bus.insert_coin(100)
    emulator.bus.send_garbage(b"\xa5")
    with pytest.raises(PaymentProtocolError, match="garbage byte 0xA5 .* coin acceptor"):
        device.poll()
    assert credits(device.poll()) == [100]


def test_a_coin_inserted_outside_a_payment_is_given_back(emulator, device):
    assert not emulator.bus.insert_coin(100)
    device.start_accepting(300)
    assert device.poll() == []
    device.stop()
    assert not emulator.bus.insert_coin(100)
    assert credits(device.poll()) == []


def test_one_and_five_yen_coins_are_given_back(emulator, device):
    device.start_accepting(300)
    emulator.bus.insert_coin(1)
    emulator.bus.insert_coin(5)
    assert device.poll() == [Rejected(1, "coin not accepted"), Rejected(5, "coin not accepted")]


def test_a_note_is_stacked_from_escrow_while_it_is_wanted(emulator, device):
    device.start_accepting(300)
    assert emulator.bus.insert_note(1000)
    assert device.poll() == []  # in escrow: the device routes it to the stacker
    assert device.poll() == [Credit(1000, "note")]
    assert not emulator.bus.insert_note(1000)  # paid: everything inhibited again
    assert device.poll() == [Rejected(None, "note validator inhibited")]


def test_a_note_in_escrow_goes_back_once_coins_have_paid(emulator, device):
    device.start_accepting(300)
    emulator.bus.insert_note(1000)
    for _ in range(3):
        emulator.bus.insert_coin(100)
    assert credits(device.poll()) == [100, 100, 100]
    assert device.poll() == [Rejected(None, "note returned from escrow")]


def test_a_refund_stops_accepting_and_pays_back(emulator, device):
    device.start_accepting(700)
    for value in (500, 100):
        emulator.bus.insert_coin(value)
    inserted = sum(credits(device.poll()))
    payout = device.refund(inserted)
    assert payout.complete and payout.coins == {500: 1, 100: 1}
    assert not emulator.bus.insert_coin(100)


def test_an_unknown_header_is_refused_by_name(emulator):
    link = CcTalkLink.serial(emulator.tty_path, timeout=TIMEOUT)
    try:
        with pytest.raises(PaymentProtocolError, match=r"coin acceptor \(address 2\) refused header 1 \(NAK\)"):
            link.request(cctalk.COIN_ACCEPTOR, 1, device="coin acceptor")
    finally:
        link.close()


def test_a_single_wire_bus_echo_is_read_back_and_checked():
    with CcTalkEmulator(echo=True) as emulator:
        with PaymentDevice.open(emulator.tty_path, timeout=TIMEOUT, echo=True) as device:
            device.start_accepting(300)
            emulator.bus.insert_coin(100)
            assert credits(device.poll()) == [100]
            assert device.pay_out(60).complete
    with CcTalkEmulator() as emulator:  # no echo where one is expected: the reply is not our frame
        with pytest.raises(PaymentProtocolError, match="echoed"):
            PaymentDevice.open(emulator.tty_path, timeout=TIMEOUT, echo=True)


def test_the_emulator_runs_on_its_own_and_prints_its_tty():
    emulator = subprocess.Popen(
        [sys.executable, "-m", "devices.payment.cctalk_emulator"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        tty_path = emulator.stdout.readline().strip()
        assert tty_path.startswith("/dev/") and os.path.exists(tty_path)
        emulator.stdin.write("coin 100\n")
        emulator.stdin.flush()
        assert emulator.stdout.readline().startswith("returned")  # no payment open
    finally:
        emulator.stdin.close()
        assert emulator.wait(timeout=BOUND_S) == 0


# --- the embedded default ----------------------------------------------------------------


def test_the_simulated_device_pays_with_change():
    device = SimulatedPaymentDevice()
    device.start_accepting(350)
    device.bus.insert_coin(100)
    device.bus.insert_note(1000)
    events = device.poll() + device.poll()
    assert sum(credits(events)) == 1100
    device.stop()
    assert device.pay_out(750).coins == {500: 1, 100: 2, 50: 1}


def test_the_simulated_device_reports_a_lost_bus_at_once():
    device = SimulatedPaymentDevice(notes=False)
    device.bus.disappear()
    assert isinstance(device.poll()[0], DeviceLost)
    with pytest.raises(PaymentDeviceLost):
        device.offer(300)
