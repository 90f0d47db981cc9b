"""A misbehaving card, over both transports and through the kiosk-vcard command line.

Whatever the card does (slow, pulled out mid-exchange, malformed answers), the client
raises a typed CardError within a bounded time, never hangs, never an IndexError.
"""
from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from devices.card.card_faults import MALFORMED_MODES, CardFaults, FaultyCard
from devices.card.cardfile import CardFile
from devices.card.errors import CardError, CardProtocolError, CardRemoved, ReaderUnavailable
from devices.card.jpki_client import JpkiClient
from devices.card.transports import PcscTransport
from devices.card.virtual_card import VirtualCard
from tests.fixtures.pcsc import wait_for

REPO = Path(__file__).resolve().parents[1]
BOUND_S = 30.0  # far above any legitimate duration: only a hang gets near it


class CountingCard:
    """Passes everything through and counts the APDUs the reader started sending."""

    def __init__(self, card):
        self.card = card
        self.started = 0

    @property
    def atr(self) -> bytes:
        return self.card.atr

    def reset(self) -> None:
        self.card.reset()

    def process(self, apdu: bytes) -> bytes:
        self.started += 1
        return self.card.process(apdu)


def outcome_within(action, timeout: float = BOUND_S):
    """Run action in a thread; its result or exception, failing the test if it hangs."""
    box: dict = {}

    def run():
        try:
            box["result"] = action()
        except BaseException as e:  # handed back to the test thread
            box["error"] = e

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(timeout)
    assert not thread.is_alive(), f"still running after {timeout} s"
    return box.get("error", box.get("result"))


def card_gone(transport) -> bool:
    try:
        return not transport.card_present()
    except ReaderUnavailable:
        return False


@pytest.fixture
def faulty(card_file):
    return FaultyCard(VirtualCard(card_file), CardFaults(seed=7))


def test_card_pulled_while_the_certificate_is_read_is_card_removed(card_slot, card_file):
    faults = CardFaults()
    counting = CountingCard(FaultyCard(VirtualCard(card_file), faults))
    slot = card_slot(counting)
    client = JpkiClient(slot.transport)
    client.open()
    faults.set(delay_s=1.0)
    opened = counting.started
    box: list = []

    def read():
        box.append(outcome_within(client.read_auth_certificate))

    reading = threading.Thread(target=read, daemon=True)
    reading.start()
    # select EF and the DER header answered: the certificate body is being read
    wait_for(lambda: counting.started >= opened + 3, "the certificate body read to start")
    slot.remove()
    reading.join(BOUND_S)
    assert isinstance(box[0], CardRemoved)
    wait_for(lambda: card_gone(slot.transport), "the reader to report the card gone")


def test_slow_answers_still_succeed(card_slot, faulty, card_file):
    client = JpkiClient(card_slot(faulty).transport)
    faulty.faults.set(delay_s=0.2)
    client.open()
    assert outcome_within(client.read_auth_certificate) == CardFile.load(card_file).auth_certificate_der


@pytest.mark.parametrize("mode", MALFORMED_MODES)
def test_a_malformed_answer_is_a_protocol_error_and_the_card_still_works(card_slot, faulty, mode):
    client = JpkiClient(card_slot(faulty).transport)
    client.open()
    faulty.faults.set(malformed=mode, malformed_count=1)
    assert isinstance(outcome_within(client.read_auth_certificate), CardProtocolError)
    assert outcome_within(client.auth_pin_tries_left) == 3


def test_garbage_on_every_answer_is_never_anything_but_a_card_error(card_slot, faulty):
    client = JpkiClient(card_slot(faulty).transport)
    faulty.faults.set(malformed="garbage")
    for action in (client.open, client.read_auth_certificate, client.auth_pin_tries_left):
        assert isinstance(outcome_within(action), CardError)


def test_dropped_connection_is_card_removed_and_the_card_can_go_back(card_slot, faulty):
    slot = card_slot(faulty)
    client = JpkiClient(slot.transport)
    client.open()
    faulty.faults.set(drop_after_apdus=2)
    assert isinstance(outcome_within(client.read_auth_certificate), CardRemoved)
    wait_for(lambda: card_gone(slot.transport), "the reader to report the card gone")
    slot.reinsert(faulty)
    client.open()
    assert outcome_within(client.auth_pin_tries_left) == 3


def kiosk_vcard(*args: str) -> dict:
    done = subprocess.run([sys.executable, "-m", "devices.card.vpcd_card", *args], cwd=REPO,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.mark.pcsc
def test_kiosk_vcard_serve_obeys_remove_insert_and_faults(spare_vpcd_reader, card_file, tmp_path):
    reader, port = spare_vpcd_reader
    control = str(tmp_path / "vcard.sock")
    serve = subprocess.Popen([sys.executable, "-m", "devices.card.vpcd_card", "serve",
                              "--card", str(card_file), "--port", str(port), "--control", control],
                             cwd=REPO, stderr=subprocess.PIPE, text=True)
    transport = PcscTransport(reader)
    try:
        wait_for(lambda: Path(control).exists(), "the control socket", timeout=30)
        wait_for(transport.card_present, "the served card in the reader")

        assert kiosk_vcard("remove", "--control", control)["inserted"] is False
        wait_for(lambda: not transport.card_present(), "the card removed")
        assert kiosk_vcard("insert", "--control", control)["inserted"] is True
        wait_for(transport.card_present, "the card back in")

        client = JpkiClient(transport)
        client.open()
        answer = kiosk_vcard("faults", "--malformed", "truncated", "--malformed-count", "1",
                             "--control", control)
        assert answer["faults"]["malformed"] == "truncated"
        assert isinstance(outcome_within(client.read_auth_certificate), CardProtocolError)
        kiosk_vcard("faults", "--drop-after", "0", "--control", control)
        assert isinstance(outcome_within(client.auth_pin_tries_left), CardRemoved)
        client.close()
        assert kiosk_vcard("status", "--control", control)["inserted"] is False
    finally:
        serve.terminate()
        _, log = serve.communicate(timeout=30)
    assert serve.returncode == 0, log
    assert "1234" not in log
