"""The virtual card's APDU contract, the same through the in-process transport and pcscd+vpcd."""
from __future__ import annotations

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from devices.card import apdu as A
from devices.card.cardfile import CardFile
from tests.card_helpers import send
from devices.card.virtual_card import ATR, VirtualCard

SELECT_JPKI = A.select_aid(A.JPKI_AID)
UNKNOWN_AID = bytes.fromhex("D392F000260100000099")
CARD_INFO_AID = bytes.fromhex("D3921000310001010408")
CARD_FACE_AID = bytes.fromhex("D3921000310001010402")


def select_pin(slot) -> None:
    assert send(slot, SELECT_JPKI, A.select_fid(A.FID_AUTH_PIN)) == "9000"


@pytest.mark.parametrize(
    "command, expected",
    [
        (SELECT_JPKI, "9000"),
        (A.select_aid(UNKNOWN_AID), "6A82"),
        (A.select_aid(CARD_INFO_AID), "9000"),
        (A.select_aid(CARD_FACE_AID), "6A82"),  # not emulated
        (A.select_fid(0x0001), "9000"),  # signature certificate
        (A.select_fid(0x0011), "6A82"),  # the card-info PIN lives in the other AP
        (bytes.fromhex("00A4"), "6700"),
        (bytes.fromhex("00A4020C0300"), "6700"),
        (bytes.fromhex("00A4020C020006FF"), "6700"),  # P2=0C takes no Le
        (bytes.fromhex("00CA000000"), "6D00"),
        (bytes.fromhex("10A4020C020006"), "6E00"),
        (bytes.fromhex("80A4020C020006"), "6E00"),  # SELECT is an ISO command
        (bytes.fromhex("002A008003010203"), "6E00"),  # the signature is proprietary
        (bytes.fromhex("00B0000004"), "6986"),  # no EF selected yet
    ],
)
def test_status_words_after_selecting_the_ap(slot, command, expected):
    assert send(slot, SELECT_JPKI, command) == expected


def test_elementary_files_need_the_ap_selected_first(slot):
    assert send(slot, A.select_fid(A.FID_TOKEN)) == "6A82"


def test_token_is_padded_with_spaces_to_20_bytes(slot):
    response = send(slot, SELECT_JPKI, A.select_fid(A.FID_TOKEN), A.read_binary(0, 20))
    assert bytes.fromhex(response) == b"JPKIAPICCTOKEN2".ljust(20) + b"\x90\x00"


def test_reading_past_the_end_answers_6b00(slot, card_file):
    length = len(CardFile.load(card_file).auth_certificate_der)
    assert send(slot, SELECT_JPKI, A.select_fid(A.FID_AUTH_CERT), A.read_binary(length, 1)) == "6B00"


def test_certificate_reads_back_in_256_byte_chunks(slot, card_file):
    expected = CardFile.load(card_file).auth_certificate_der
    send(slot, SELECT_JPKI, A.select_fid(A.FID_AUTH_CERT))
    data = b""
    while len(data) < len(expected):
        response = slot.transport.transmit(A.read_binary(len(data), 256))
        assert response[-2:] == b"\x90\x00"
        data += response[:-2]
    assert data == expected


def test_private_key_is_never_readable(slot):
    assert send(slot, SELECT_JPKI, A.select_fid(A.FID_AUTH_KEY), A.read_binary(0, 4)) == "6982"


def test_empty_verify_reports_tries_without_spending_one(slot, card_file):
    select_pin(slot)
    assert send(slot, A.empty_verify()) == "63C3"
    assert send(slot, A.empty_verify()) == "63C3"
    assert CardFile.load(card_file).auth_pin_tries_left == 3


def test_wrong_pin_counts_down_and_persists_in_the_card_file(slot, card_file):
    select_pin(slot)
    assert send(slot, A.verify(bytearray(b"9999"))) == "63C2"
    assert CardFile.load(card_file).auth_pin_tries_left == 2
    assert send(slot, A.empty_verify()) == "63C2"


def test_third_wrong_pin_blocks_and_the_block_survives_a_reload(slot, card_file):
    select_pin(slot)
    assert send(slot, A.verify(bytearray(b"9999"))) == "63C2"
    assert send(slot, A.verify(bytearray(b"9999"))) == "63C1"
    assert send(slot, A.verify(bytearray(b"9999"))) == "63C0"
    assert send(slot, A.verify(bytearray(b"1234"))) == "6984"
    assert send(slot, A.empty_verify()) == "6984"

    slot.reinsert(VirtualCard(card_file))
    slot.transport.connect()
    select_pin(slot)
    assert send(slot, A.verify(bytearray(b"1234"))) == "6984"
    assert CardFile.load(card_file).auth_pin_tries_left == 0


def test_right_pin_resets_the_counter(slot, card_file):
    select_pin(slot)
    send(slot, A.verify(bytearray(b"9999")))
    assert send(slot, A.verify(bytearray(b"1234"))) == "9000"
    assert send(slot, A.empty_verify()) == "63C3"
    assert CardFile.load(card_file).auth_pin_tries_left == 3


def sign_command(message: bytes) -> bytes:
    digest = hashes.Hash(hashes.SHA256())
    digest.update(message)
    return A.compute_digital_signature(A.sha256_digest_info(digest.finalize()))


def test_signature_verifies_with_the_certificate_key(slot, card_file):
    select_pin(slot)
    send(slot, A.verify(bytearray(b"1234")))
    response = bytes.fromhex(send(slot, A.select_fid(A.FID_AUTH_KEY), sign_command(b"challenge")))
    assert response[-2:] == b"\x90\x00" and len(response) == 258
    cert = x509.load_der_x509_certificate(CardFile.load(card_file).auth_certificate_der)
    cert.public_key().verify(response[:-2], b"challenge", padding.PKCS1v15(), hashes.SHA256())


def test_signing_without_the_pin_answers_6982(slot):
    assert send(slot, SELECT_JPKI, A.select_fid(A.FID_AUTH_KEY), sign_command(b"x")) == "6982"


def test_reselecting_the_ap_drops_the_verified_state(slot):
    select_pin(slot)
    send(slot, A.verify(bytearray(b"1234")))
    assert send(slot, SELECT_JPKI, A.select_fid(A.FID_AUTH_KEY), sign_command(b"x")) == "6982"


def test_power_cycle_drops_the_verified_state(slot):
    select_pin(slot)
    send(slot, A.verify(bytearray(b"1234")))
    slot.transport.disconnect()
    slot.transport.connect()
    assert send(slot, SELECT_JPKI, A.select_fid(A.FID_AUTH_KEY), sign_command(b"x")) == "6982"


def test_atr_is_the_my_number_card_atr(card_file):
    assert VirtualCard(card_file).atr == ATR == bytes.fromhex("3BE000FF8131FE4514")
