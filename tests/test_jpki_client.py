"""JpkiClient against the virtual card, through both transports, and against garbage."""
from __future__ import annotations

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from devices.card import apdu as A
from devices.card.cardfile import CardFile
from devices.card.errors import (
    CardError,
    CardProtocolError,
    CardRemoved,
    InvalidPinFormat,
    NoCard,
    NotMyNumberCard,
    OldJukiCard,
    PinBlocked,
    ReaderUnavailable,
    WrongPin,
)
from devices.card.jpki_client import JpkiClient
from devices.card.transports import PcscTransport
from devices.card.virtual_card import ATR, VirtualCard
from tests.card_helpers import ScriptedTransport


class BlankCard:
    """A contactless card with no JPKI application (a transit card, say)."""

    atr = ATR

    def reset(self) -> None:
        pass

    def process(self, apdu: bytes) -> bytes:
        return bytes.fromhex("6A82")


@pytest.fixture
def open_client(card_slot, card_file):
    """An opened client on a fresh card (PIN 1234)."""
    client = JpkiClient(card_slot(VirtualCard(card_file)).transport)
    client.open()
    return client


def tries_in_file(card_file) -> int:
    return CardFile.load(card_file).auth_pin_tries_left


def test_open_reads_the_my_number_token(open_client):
    assert open_client.token == b"JPKIAPICCTOKEN2"


def test_tries_left_starts_at_three(open_client):
    assert open_client.auth_pin_tries_left() == 3


def test_wrong_pin_reports_tries_and_persists(open_client, card_file):
    with pytest.raises(WrongPin) as raised:
        open_client.verify_auth_pin(bytearray(b"0000"))
    assert raised.value.tries_left == 2
    assert open_client.auth_pin_tries_left() == 2
    assert tries_in_file(card_file) == 2


def test_three_wrong_pins_block_the_card_even_after_reload(card_slot, card_file):
    slot = card_slot(VirtualCard(card_file))
    client = JpkiClient(slot.transport)
    client.open()
    for tries_left in (2, 1):
        with pytest.raises(WrongPin):
            client.verify_auth_pin(bytearray(b"0000"))
        assert client.auth_pin_tries_left() == tries_left
    with pytest.raises(PinBlocked):
        client.verify_auth_pin(bytearray(b"0000"))

    slot.reinsert(VirtualCard(card_file))
    client.open()
    assert client.auth_pin_tries_left() == 0
    with pytest.raises(PinBlocked):
        client.verify_auth_pin(bytearray(b"1234"))
    assert tries_in_file(card_file) == 0


def test_right_pin_resets_the_counter(open_client, card_file):
    with pytest.raises(WrongPin):
        open_client.verify_auth_pin(bytearray(b"0000"))
    open_client.verify_auth_pin(bytearray(b"1234"))
    assert open_client.auth_pin_tries_left() == 3
    assert tries_in_file(card_file) == 3


def test_pin_is_wiped_and_never_traced(open_client):
    pin = bytearray(b"1234")
    open_client.verify_auth_pin(pin)
    assert pin == bytearray(4)
    trace = " ".join(f"{command} {response}" for command, response in open_client.transport.trace)
    assert "****" in trace
    assert "31 32 33 34" not in trace


@pytest.mark.parametrize("pin", [b"", b"123", b"12345", b"12a4", b"12 4", "１２３４".encode()])
def test_invalid_pin_format_never_reaches_the_card(open_client, card_file, pin):
    open_client.transport.trace.clear()
    buffer = bytearray(pin)
    with pytest.raises(InvalidPinFormat):
        open_client.verify_auth_pin(buffer)
    assert list(open_client.transport.trace) == []
    assert buffer == bytearray(len(pin))
    assert tries_in_file(card_file) == 3


def test_certificates_parse_and_match_the_card_file(open_client, card_file):
    card = CardFile.load(card_file)
    assert open_client.read_auth_certificate() == card.auth_certificate_der
    assert open_client.read_auth_ca_certificate() == card.auth_ca_certificate_der


def test_signature_verifies_with_the_certificate_key(open_client):
    open_client.verify_auth_pin(bytearray(b"1234"))
    signature = open_client.sign_auth(b"municipal challenge")
    assert len(signature) == 256
    cert = x509.load_der_x509_certificate(open_client.read_auth_certificate())
    cert.public_key().verify(signature, b"municipal challenge", padding.PKCS1v15(), hashes.SHA256())


def test_signing_without_the_pin_is_refused_with_6982(open_client):
    with pytest.raises(CardProtocolError) as raised:
        open_client.sign_auth(b"x")
    assert raised.value.sw == A.SW_SECURITY_NOT_SATISFIED


def test_a_card_without_jpki_is_not_a_my_number_card(card_slot):
    with pytest.raises(NotMyNumberCard):
        JpkiClient(card_slot(BlankCard()).transport).open()


def test_old_juki_card_token_is_recognised(card_slot, make_card_file):
    card = VirtualCard(make_card_file(token="JPKIAPICCTOKEN"))
    with pytest.raises(OldJukiCard):
        JpkiClient(card_slot(card).transport).open()


def test_unknown_token_is_not_a_my_number_card(card_slot, make_card_file):
    card = VirtualCard(make_card_file(token="SOMETHINGELSE"))
    with pytest.raises(NotMyNumberCard):
        JpkiClient(card_slot(card).transport).open()


def test_removed_card(card_slot, card_file):
    slot = card_slot(VirtualCard(card_file))
    client = JpkiClient(slot.transport)
    client.open()
    slot.remove()
    with pytest.raises(CardRemoved):
        client.auth_pin_tries_left()
    assert not slot.transport.card_present()
    with pytest.raises(NoCard):
        client.open()


@pytest.mark.pcsc
def test_missing_reader_is_reader_unavailable(pcscd):
    with pytest.raises(ReaderUnavailable):
        PcscTransport("No Such Reader").connect()


class GarbageTransport(ScriptedTransport):
    """Answers each command with the next canned byte string (SW 90 00 once they run out)."""

    def __init__(self, answers: list[bytes]):
        super().__init__()
        self._answers = iter(answers)

    def _exchange(self, apdu: bytes) -> bytes:
        return next(self._answers, b"\x90\x00")


_answer = st.one_of(
    st.binary(max_size=300),
    st.sampled_from([b"", b"\x90\x00", b"\x63\xc2", b"\x69\x84", b"\x6a\x82", b"\x61\x10"]),
    st.binary(max_size=8).map(lambda b: b"\x30\x82" + b + b"\x90\x00"),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(answers=st.lists(_answer, max_size=12), steps=st.permutations(range(5)))
def test_garbage_answers_only_raise_card_errors(answers, steps):
    client = JpkiClient(GarbageTransport(answers))
    actions = [
        client.open,
        client.auth_pin_tries_left,
        lambda: client.verify_auth_pin(bytearray(b"1234")),
        client.read_auth_certificate,
        lambda: client.sign_auth(b"m"),
    ]
    for step in steps:
        try:
            actions[step]()
        except CardError:
            pass


class ScriptedPyscardConnection:
    """Stands in for a pyscard connection: replays (data, sw1, sw2) answers, records commands."""

    def __init__(self, answers):
        self.answers = list(answers)
        self.sent: list[bytes] = []

    def transmit(self, command):
        self.sent.append(bytes(command))
        return self.answers.pop(0)


def test_pcsc_transport_follows_61xx_with_get_response():
    transport = PcscTransport()
    transport._connection = ScriptedPyscardConnection([([1, 2], 0x61, 0x03), ([3, 4, 5], 0x90, 0x00)])
    assert transport.transmit(A.read_binary(0, 5)) == bytes([1, 2, 3, 4, 5, 0x90, 0x00])
    assert transport._connection.sent[1] == bytes.fromhex("00C0000003")


def test_pcsc_transport_resends_with_the_le_from_6cxx():
    transport = PcscTransport()
    transport._connection = ScriptedPyscardConnection([([], 0x6C, 0x14), ([0x41] * 20, 0x90, 0x00)])
    assert transport.transmit(A.read_binary(0, 0x20)) == b"A" * 20 + b"\x90\x00"
    assert transport._connection.sent[1] == bytes.fromhex("00B0000014")
