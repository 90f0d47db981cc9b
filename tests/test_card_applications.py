"""The card's two applications the kiosk may touch, beyond user authentication: the JPKI
signature certificate behind its password, and the card-info input support AP behind
its PIN. Raw APDUs against the virtual card and the clients on top, over both transports."""
from __future__ import annotations

import datetime

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from devices.card import apdu as A
from devices.card.card_info_client import BasicFacts, CardInfoClient
from devices.card.cardfile import CardFile
from devices.card.errors import CardProtocolError, InvalidPinFormat, PinBlocked, WrongPin
from devices.card.jpki_client import JpkiClient
from tests.card_helpers import send
from devices.card.virtual_card import VirtualCard
from tests.fixtures.cards import TEST_HOLDER

SELECT_JPKI = A.select_aid(A.JPKI_AID)
SELECT_CARD_INFO = A.select_aid(A.CARD_INFO_AID)
SIGNATURE_PASSWORD = b"SIGN2024"  # tests/fixtures/cards.py defaults
AUTH_PIN = b"1234"
CARD_INFO_PIN = b"5678"


def read_all(slot) -> bytes:
    """The selected EF in 256-byte chunks, until the card answers 6B 00."""
    data = b""
    while True:
        response = slot.transport.transmit(A.read_binary(len(data), 256))
        if response[-2:] == b"\x6b\x00":
            return data
        assert response[-2:] == b"\x90\x00"
        data += response[:-2]


def sign_command(message: bytes) -> bytes:
    digest = hashes.Hash(hashes.SHA256())
    digest.update(message)
    return A.compute_digital_signature(A.sha256_digest_info(digest.finalize()))


def verify_signature_password(slot) -> None:
    assert send(slot, SELECT_JPKI, A.select_fid(A.FID_SIGNATURE_PASSWORD),
                A.verify(bytearray(SIGNATURE_PASSWORD))) == "9000"


def verify_card_info_pin(slot) -> None:
    assert send(slot, SELECT_CARD_INFO, A.select_fid(A.FID_CARD_INFO_PIN),
                A.verify(bytearray(CARD_INFO_PIN))) == "9000"


# --- JPKI AP: signature certificate, key and password --------------------------------

@pytest.mark.parametrize("ap, command, expected", [
    (SELECT_JPKI, A.select_fid(A.FID_SIGNATURE_CERT), "9000"),
    (SELECT_JPKI, A.select_fid(A.FID_SIGNATURE_CA_CERT), "9000"),
    (SELECT_JPKI, A.select_fid(A.FID_SIGNATURE_KEY), "9000"),
    (SELECT_JPKI, A.select_fid(A.FID_SIGNATURE_PASSWORD), "9000"),
    (SELECT_JPKI, A.select_fid(A.FID_CARD_INFO_PIN), "6A82"),  # belongs to the other AP
    (SELECT_CARD_INFO, A.select_fid(A.FID_CARD_INFO_PIN), "9000"),
    (SELECT_CARD_INFO, A.select_fid(A.FID_CARD_INFO_MY_NUMBER), "9000"),
    (SELECT_CARD_INFO, A.select_fid(A.FID_CARD_INFO_BASIC_FACTS), "9000"),
    (SELECT_CARD_INFO, A.select_fid(A.FID_TOKEN), "6A82"),  # a JPKI EF
    (SELECT_CARD_INFO, A.select_fid(A.FID_AUTH_PIN), "6A82"),
    (SELECT_CARD_INFO, bytes.fromhex("00CA000000"), "6D00"),
    (SELECT_CARD_INFO, bytes.fromhex("10A4020C020011"), "6E00"),
    (SELECT_CARD_INFO, bytes.fromhex("00A4020C0300"), "6700"),
    (SELECT_CARD_INFO, A.select_aid(A.CARD_FACE_AID), "6A82"),  # card-face AP: not emulated
    (SELECT_CARD_INFO, A.read_binary(0, 4), "6986"),  # no EF selected yet
])
def test_status_words_in_each_ap(slot, ap, command, expected):
    assert send(slot, ap, command) == expected


def test_signature_certificate_needs_the_password(slot, card_file):
    assert send(slot, SELECT_JPKI, A.select_fid(A.FID_SIGNATURE_CERT), A.read_binary(0, 4)) == "6982"
    verify_signature_password(slot)
    send(slot, A.select_fid(A.FID_SIGNATURE_CERT))
    assert read_all(slot) == CardFile.load(card_file).signature_certificate_der


def test_the_auth_pin_does_not_open_the_signature_certificate(slot):
    assert send(slot, SELECT_JPKI, A.select_fid(A.FID_AUTH_PIN), A.verify(bytearray(AUTH_PIN))) == "9000"
    assert send(slot, A.select_fid(A.FID_SIGNATURE_CERT), A.read_binary(0, 4)) == "6982"


def test_signature_ca_certificate_is_free(slot, card_file):
    send(slot, SELECT_JPKI, A.select_fid(A.FID_SIGNATURE_CA_CERT))
    assert read_all(slot) == CardFile.load(card_file).signature_ca_certificate_der


def test_signature_key_is_never_readable(slot):
    verify_signature_password(slot)
    assert send(slot, A.select_fid(A.FID_SIGNATURE_KEY), A.read_binary(0, 4)) == "6982"


def test_signature_password_empty_verify_reports_five_tries(slot, card_file):
    assert send(slot, SELECT_JPKI, A.select_fid(A.FID_SIGNATURE_PASSWORD), A.empty_verify()) == "63C5"
    assert CardFile.load(card_file).signature_password_tries_left == 5


def test_five_wrong_passwords_block_it_and_the_block_persists(slot, card_file):
    send(slot, SELECT_JPKI, A.select_fid(A.FID_SIGNATURE_PASSWORD))
    for tries_left in (4, 3, 2, 1, 0):
        assert send(slot, A.verify(bytearray(b"WRONG1"))) == f"63C{tries_left}"
        assert CardFile.load(card_file).signature_password_tries_left == tries_left
    assert send(slot, A.verify(bytearray(SIGNATURE_PASSWORD))) == "6984"
    assert send(slot, A.empty_verify()) == "6984"

    slot.reinsert(VirtualCard(card_file))
    slot.transport.connect()
    assert send(slot, SELECT_JPKI, A.select_fid(A.FID_SIGNATURE_PASSWORD),
                A.verify(bytearray(SIGNATURE_PASSWORD))) == "6984"
    # The other PINs keep their own counters.
    assert send(slot, A.select_fid(A.FID_AUTH_PIN), A.empty_verify()) == "63C3"
    assert CardFile.load(card_file).card_info_pin_tries_left == 3


def test_right_password_resets_its_counter(slot, card_file):
    send(slot, SELECT_JPKI, A.select_fid(A.FID_SIGNATURE_PASSWORD), A.verify(bytearray(b"WRONG1")))
    assert send(slot, A.verify(bytearray(SIGNATURE_PASSWORD))) == "9000"
    assert send(slot, A.empty_verify()) == "63C5"
    assert CardFile.load(card_file).signature_password_tries_left == 5


def test_signature_with_the_signature_key_verifies_with_the_signature_certificate(slot, card_file):
    verify_signature_password(slot)
    response = bytes.fromhex(send(slot, A.select_fid(A.FID_SIGNATURE_KEY), sign_command(b"contract")))
    assert response[-2:] == b"\x90\x00" and len(response) == 258
    cert = x509.load_der_x509_certificate(CardFile.load(card_file).signature_certificate_der)
    cert.public_key().verify(response[:-2], b"contract", padding.PKCS1v15(), hashes.SHA256())


def test_each_key_needs_its_own_pin(slot):
    verify_signature_password(slot)
    assert send(slot, A.select_fid(A.FID_AUTH_KEY), sign_command(b"x")) == "6982"
    assert send(slot, SELECT_JPKI, A.select_fid(A.FID_AUTH_PIN), A.verify(bytearray(AUTH_PIN))) == "9000"
    assert send(slot, A.select_fid(A.FID_SIGNATURE_KEY), sign_command(b"x")) == "6982"


@pytest.mark.parametrize("reselect", [SELECT_JPKI, SELECT_CARD_INFO])
def test_selecting_an_ap_drops_the_signature_password(slot, reselect):
    verify_signature_password(slot)
    send(slot, reselect)
    assert send(slot, SELECT_JPKI, A.select_fid(A.FID_SIGNATURE_KEY), sign_command(b"x")) == "6982"
    assert send(slot, A.select_fid(A.FID_SIGNATURE_CERT), A.read_binary(0, 4)) == "6982"


def test_a_failed_select_keeps_the_verified_state(slot):
    verify_signature_password(slot)
    assert send(slot, A.select_aid(A.CARD_FACE_AID)) == "6A82"
    assert send(slot, A.select_fid(A.FID_SIGNATURE_KEY), sign_command(b"x"))[-4:] == "9000"


# --- card-info input support AP ------------------------------------------------------

def test_card_info_files_need_the_pin(slot):
    for fid in (A.FID_CARD_INFO_MY_NUMBER, A.FID_CARD_INFO_BASIC_FACTS):
        assert send(slot, SELECT_CARD_INFO, A.select_fid(fid), A.read_binary(0, 17)) == "6982"


def test_the_jpki_pins_do_not_open_the_card_info_files(slot):
    send(slot, SELECT_JPKI, A.select_fid(A.FID_AUTH_PIN), A.verify(bytearray(AUTH_PIN)))
    assert send(slot, SELECT_CARD_INFO, A.select_fid(A.FID_CARD_INFO_MY_NUMBER), A.read_binary(0, 17)) == "6982"


def test_my_number_file_is_ff100c_and_twelve_ascii_digits_in_17_bytes(slot):
    verify_card_info_pin(slot)
    send(slot, A.select_fid(A.FID_CARD_INFO_MY_NUMBER))
    assert read_all(slot) == b"\xff\x10\x0c" + TEST_HOLDER["my_number"].encode("ascii") + b"\x00\x00"


def test_basic_facts_file_is_ber_tlv(slot):
    verify_card_info_pin(slot)
    send(slot, A.select_fid(A.FID_CARD_INFO_BASIC_FACTS))
    name, address = (TEST_HOLDER[k].encode("utf-8") for k in ("name", "address"))
    body = (b"\xdf\x21\x02\x00\x01" + b"\xdf\x22" + bytes([len(name)]) + name
            + b"\xdf\x23" + bytes([len(address)]) + address
            + b"\xdf\x24\x08" + b"19900215" + b"\xdf\x25\x01" + b"2")
    assert read_all(slot) == b"\xff\x20" + bytes([len(body)]) + body


def test_card_info_pin_has_three_tries_and_blocks(slot, card_file):
    send(slot, SELECT_CARD_INFO, A.select_fid(A.FID_CARD_INFO_PIN))
    assert send(slot, A.empty_verify()) == "63C3"
    for tries_left in (2, 1, 0):
        assert send(slot, A.verify(bytearray(b"0000"))) == f"63C{tries_left}"
    assert send(slot, A.verify(bytearray(CARD_INFO_PIN))) == "6984"
    assert CardFile.load(card_file).card_info_pin_tries_left == 0
    assert CardFile.load(card_file).auth_pin_tries_left == 3


def test_selecting_an_ap_drops_the_card_info_pin(slot):
    verify_card_info_pin(slot)
    send(slot, SELECT_JPKI, SELECT_CARD_INFO)
    assert send(slot, A.select_fid(A.FID_CARD_INFO_MY_NUMBER), A.read_binary(0, 17)) == "6982"


# --- the clients ---------------------------------------------------------------------

@pytest.fixture
def jpki(slot):
    client = JpkiClient(slot.transport)
    client.open()
    return client


@pytest.fixture
def card_info(slot):
    client = CardInfoClient(slot.transport)
    client.open()
    return client


def test_client_reads_the_signature_certificate_with_the_password(jpki, card_file):
    password = bytearray(SIGNATURE_PASSWORD)
    assert jpki.read_signature_certificate(password) == CardFile.load(card_file).signature_certificate_der
    assert password == bytearray(len(SIGNATURE_PASSWORD))
    assert jpki.read_signature_ca_certificate() == CardFile.load(card_file).signature_ca_certificate_der
    trace = " ".join(f"{command} {response}" for command, response in jpki.transport.trace)
    assert SIGNATURE_PASSWORD.hex(" ").upper() not in trace


def test_client_reports_a_wrong_password_with_the_cards_count(jpki, card_file):
    with pytest.raises(WrongPin) as raised:
        jpki.read_signature_certificate(bytearray(b"WRONG1"))
    assert raised.value.tries_left == 4 == jpki.signature_password_tries_left()


def test_client_reports_a_blocked_password(make_card_file, card_slot):
    blocked = JpkiClient(card_slot(VirtualCard(make_card_file(signature_password_tries=0))).transport)
    blocked.open()
    with pytest.raises(PinBlocked):
        blocked.read_signature_certificate(bytearray(SIGNATURE_PASSWORD))


@pytest.mark.parametrize("password", [b"", b"ABC12", b"A" * 17, b"sign2024", b"SIGN 2024", b"SIGN-2024",
                                      "ＳＩＧＮ２０２４".encode()])
def test_a_malformed_password_never_reaches_the_card(jpki, card_file, password):
    jpki.transport.trace.clear()
    buffer = bytearray(password)
    with pytest.raises(InvalidPinFormat):
        jpki.read_signature_certificate(buffer)
    assert list(jpki.transport.trace) == []
    assert buffer == bytearray(len(password))
    assert CardFile.load(card_file).signature_password_tries_left == 5


def test_card_info_client_reads_my_number_and_facts(card_info):
    assert card_info.pin_tries_left() == 3
    pin = bytearray(CARD_INFO_PIN)
    card_info.verify_pin(pin)
    assert pin == bytearray(4)
    assert card_info.read_my_number() == "123456789018"
    assert card_info.read_basic_facts() == BasicFacts(
        name="試験 花子", address="架空県みどり市試験町1番1号",
        birth_date=datetime.date(1990, 2, 15), sex="2")


def test_long_facts_use_the_ber_long_form(card_slot, make_card_file):
    address = "架空県みどり市" + "とても長い町名" * 40  # > 255 UTF-8 bytes: 82 LL LL
    client = CardInfoClient(card_slot(VirtualCard(make_card_file(address=address))).transport)
    client.open()
    client.verify_pin(bytearray(CARD_INFO_PIN))
    assert client.read_basic_facts().address == address


def test_card_info_client_needs_the_pin_first(card_info):
    with pytest.raises(CardProtocolError) as raised:
        card_info.read_my_number()
    assert raised.value.sw == A.SW_SECURITY_NOT_SATISFIED


def test_card_info_client_reports_a_wrong_pin(card_info, card_file):
    with pytest.raises(WrongPin) as raised:
        card_info.verify_pin(bytearray(b"0000"))
    assert raised.value.tries_left == 2
    assert CardFile.load(card_file).card_info_pin_tries_left == 2


@pytest.mark.parametrize("pin", [b"", b"123", b"12345", b"12a4"])
def test_a_malformed_card_info_pin_never_reaches_the_card(card_info, card_file, pin):
    card_info.transport.trace.clear()
    with pytest.raises(InvalidPinFormat):
        card_info.verify_pin(bytearray(pin))
    assert list(card_info.transport.trace) == []


class BadCheckDigitCard:
    """A card-info AP whose My Number fails the check digit: a forged or broken card."""

    def __init__(self, card: VirtualCard):
        self._card = card
        self.atr = card.atr

    def reset(self) -> None:
        self._card.reset()

    def process(self, apdu: bytes) -> bytes:
        response = self._card.process(apdu)
        return response.replace(b"456789018", b"456789017")  # the 12th digit, 8 -> 7


def test_a_bad_check_digit_is_a_protocol_error(card_slot, card_file):
    client = CardInfoClient(card_slot(BadCheckDigitCard(VirtualCard(card_file))).transport)
    client.open()
    client.verify_pin(bytearray(CARD_INFO_PIN))
    with pytest.raises(CardProtocolError, match="check digit"):
        client.read_my_number()
