"""What the kiosk reads from its devices, fuzzed: any bytes a card, a receipt printer or
a ccTalk device answers give either a parsed value that holds together or the layer's
own typed error (CardError, PrinterError, CcTalkFrameError or ValueError where the
parser documents it, PaymentError), never another exception.

tests/test_jpki_client.py and tests/test_certificate_read.py already fuzz the JPKI
client's opening, PIN and authentication-certificate reads over an in-memory card;
this adds the card's status-word parser, the readers they leave out, the card-info
AP, the PC/SC transport's 61xx / 6Cxx handling, the ESC/POS status bytes and every
ccTalk reader."""
from __future__ import annotations

from unittest import mock

from cryptography import x509
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from devices.card import apdu as A
from devices.card import card_info_files as F
from devices.card import my_number
from devices.card.card_info_client import CardInfoClient
from devices.card.errors import CardError, CardProtocolError
from devices.card.jpki_client import SIGNATURE_LENGTH, JpkiClient
from devices.card.transports import PcscTransport
from devices.payment import PaymentError
from devices.payment import cctalk
from devices.payment.cctalk_host import EventSource, Hopper
from devices.payment.cctalk_link import CcTalkLink
from devices.printer import escpos_receipt
from devices.printer.base import PrinterError, PrinterUnavailable, PrintJobTimedOut
from devices.printer.escpos_receipt import (EscposReceiptPrinter, ProtocolError, ReceiptPrinterFault,
                                            ReceiptPrinterStatus)
from printouts.receipt import ReceiptLine
from tests.card_helpers import ScriptedTransport

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# --- the card: status words, and every reader over garbage answers -------------------

@FUZZ
@given(st.binary(max_size=300))
def test_a_card_answer_is_data_and_a_status_word_or_a_protocol_error(raw):
    try:
        response = A.Response.parse(raw)
    except CardProtocolError:
        assert len(raw) < 2
        return
    assert response.data + response.sw.to_bytes(2, "big") == raw
    assert (response.sw1, response.sw2) == (raw[-2], raw[-1])


status_words = st.one_of(st.just(A.SW_OK), st.sampled_from([  # OK half the time, so parsing goes on
    0x6282, 0x63C0, 0x63C2, 0x63CF, 0x6300, 0x6700, 0x6982, 0x6984, 0x6A82, 0x6B00, 0x6C10, 0x6110, 0x6100,
])).map(lambda sw: sw.to_bytes(2, "big"))
card_answers = st.one_of(
    st.binary(max_size=300),
    status_words,
    st.tuples(st.binary(max_size=300), status_words).map(b"".join),
    st.tuples(st.binary(max_size=8), status_words).map(lambda parts: b"\x30\x82" + parts[0] + parts[1]),
    st.tuples(st.binary(max_size=40), status_words).map(lambda parts: b"\xff\x20" + parts[0] + parts[1]),
    # DER and BER-TLV headers cut short
    st.tuples(st.sampled_from([b"\x30", b"\x30\x81", b"\x30\x82\x01", b"\xff", b"\xff\x20", b"\xff\x20\x82\x01"]),
              status_words).map(b"".join),
)


def _outcome(action):
    """The value an action returns, or None when it raises a CardError."""
    try:
        return action()
    except CardError:
        return None


class DrawingCard(ScriptedTransport):
    """Answers each command with an answer drawn for its kind: a SELECT mostly
    succeeds, so that the reads and signatures behind it get garbage of their own."""

    def __init__(self, data):
        super().__init__()
        self._data = data

    def _exchange(self, apdu: bytes) -> bytes:
        if apdu[1] == A.INS_SELECT:
            return self._data.draw(st.one_of(st.just(b"\x90\x00"), card_answers))
        if apdu[1] == A.INS_COMPUTE_SIGNATURE:
            return self._data.draw(st.one_of(
                st.tuples(st.binary(min_size=SIGNATURE_LENGTH, max_size=SIGNATURE_LENGTH), status_words).map(b"".join),
                card_answers))
        return self._data.draw(card_answers)


@FUZZ
@given(st.data())
def test_every_jpki_reader_gives_a_sound_value_or_a_card_error(data):
    client = JpkiClient(DrawingCard(data))
    _outcome(client.open)
    for tries in (_outcome(client.auth_pin_tries_left), _outcome(client.signature_password_tries_left)):
        assert tries is None or 0 <= tries <= 15
    for read in (client.read_auth_ca_certificate, client.read_signature_ca_certificate,
                 lambda: client.read_signature_certificate(bytearray(b"ABC123"))):
        der = _outcome(read)
        if der is not None:
            x509.load_der_x509_certificate(der)
    signature = _outcome(lambda: client.sign_auth(b"message"))
    assert signature is None or len(signature) == SIGNATURE_LENGTH


def _basic_facts_files():
    """Basic-facts files as the card-info AP keeps them, some with bytes changed."""
    text = st.text(max_size=30)
    valid = st.builds(F.encode_basic_facts, text, text, st.text("0123456789", min_size=8, max_size=8),
                      st.sampled_from(["1", "2", "9", "3", ""]))
    return st.one_of(valid, st.tuples(valid, st.integers(0, 200), st.integers(0, 255)).map(
        lambda v: v[0][:v[1]] + bytes([v[2]]) + v[0][v[1] + 1:]), st.binary(max_size=300))


class FileCard(ScriptedTransport):
    """Every SELECT and VERIFY succeeds; READ BINARY reads `content` like an EF would."""

    def __init__(self, content: bytes):
        super().__init__()
        self.content = content

    def _exchange(self, apdu: bytes) -> bytes:
        if apdu[1] != A.INS_READ_BINARY:
            return b"\x90\x00"
        offset, le = (apdu[2] << 8) | apdu[3], apdu[4] or 256
        if offset >= len(self.content):
            return b"\x6b\x00"
        return self.content[offset:offset + le] + b"\x90\x00"


@FUZZ
@given(st.data())
def test_every_card_info_reader_gives_a_sound_value_or_a_card_error(data):
    client = CardInfoClient(DrawingCard(data))
    _outcome(client.open)
    tries = _outcome(client.pin_tries_left)
    assert tries is None or 0 <= tries <= 15
    _outcome(lambda: client.verify_pin(bytearray(b"1234")))
    number = _outcome(client.read_my_number)
    assert number is None or my_number.is_valid(number)
    facts = _outcome(client.read_basic_facts)
    assert facts is None or facts.sex in F.SEXES


@FUZZ
@given(content=st.one_of(_basic_facts_files(), st.text("0123456789", max_size=14).map(
    lambda digits: F.tlv(F.TAG_MY_NUMBER, digits.encode("ascii")))))
def test_card_info_files_parse_or_are_a_card_error(content):
    client = CardInfoClient(FileCard(content))
    facts = _outcome(client.read_basic_facts)
    assert facts is None or facts.sex in F.SEXES
    number = _outcome(client.read_my_number)
    assert number is None or my_number.is_valid(number)


class GarbagePyscard:
    """A pyscard connection answering (data, sw1, sw2) from a script, then 90 00."""

    def __init__(self, answers):
        self._answers = iter(answers)

    def transmit(self, command):
        return next(self._answers, ([], 0x90, 0x00))


pyscard_answers = st.tuples(st.lists(st.integers(0, 255), max_size=300),
                            st.sampled_from([0x90, 0x61, 0x6C, 0x63, 0x69, 0x6A, 0x62]), st.integers(0, 255))


@FUZZ
@given(answers=st.lists(pyscard_answers, max_size=300))
def test_the_pcsc_transport_follows_any_61xx_and_6cxx_chain_to_an_answer_or_a_card_error(answers):
    transport = PcscTransport()
    transport._connection = GarbagePyscard(answers)
    client = JpkiClient(transport)  # as if opened: open() would connect through pcscd
    tries = _outcome(client.auth_pin_tries_left)
    assert tries is None or 0 <= tries <= 15
    der = _outcome(client.read_auth_certificate)
    if der is not None:
        x509.load_der_x509_certificate(der)


# --- the receipt printer's status bytes ----------------------------------------------

class ScriptedPort:
    """pyserial's side of a receipt printer: each write gets the next scripted answer
    (possibly empty: silence); reading past the answers times out at once."""

    def __init__(self, answers: list[bytes]):
        self.port, self.timeout, self.write_timeout = "/dev/fuzz", None, None
        self._answers, self._pending = iter(answers), bytearray()

    def write(self, data: bytes) -> int:
        self._pending += next(self._answers, b"")
        return len(data)

    def read(self, size: int) -> bytes:
        answer, self._pending = bytes(self._pending[:size]), self._pending[size:]
        return answer

    def reset_input_buffer(self) -> None:
        self._pending.clear()

    def close(self) -> None:
        pass


# Real-time status bytes have the form 0xx1xx10; GS r answers 0xx0xxxx.
realtime_bytes = st.integers(0, 255).map(lambda b: (b & ~0x93 & 0xFF) | 0x12)
printer_answers = st.one_of(st.binary(max_size=2), realtime_bytes.map(lambda b: bytes([b])),
                            st.integers(0, 0x6F).map(lambda b: bytes([b & ~0x90 & 0xFF])))
PRINTER_ERRORS = (ReceiptPrinterFault, ProtocolError, PrintJobTimedOut, PrinterUnavailable)


def _printer(answers: list[bytes]):
    port = ScriptedPort(answers)
    return mock.patch.object(escpos_receipt.serial, "Serial", lambda *args, **kwargs: port)


@FUZZ
@given(st.lists(realtime_bytes, min_size=4, max_size=4))
def test_any_four_realtime_status_bytes_read_as_a_status(answers):
    with _printer([bytes([b]) for b in answers]):
        status = EscposReceiptPrinter("/dev/fuzz").status(timeout=1.0)
    assert isinstance(status, ReceiptPrinterStatus)
    assert status.as_printer_status().ready == (status.online and status.paper_ok and not status.cover_open
                                                and not status.error)


@FUZZ
@given(st.lists(printer_answers, max_size=16))
def test_any_printer_answers_give_a_status_or_a_printer_error(answers):
    with _printer(answers):
        try:
            status = EscposReceiptPrinter("/dev/fuzz").print_lines([ReceiptLine("テスト")], timeout=1.0)
        except PrinterError as exc:
            assert isinstance(exc, PRINTER_ERRORS), exc
            return
    assert status.online and status.paper_ok and not status.cover_open and not status.error


# --- ccTalk --------------------------------------------------------------------------

@FUZZ
@given(st.binary(max_size=300))
def test_any_bytes_decode_to_the_frame_they_encode_or_a_frame_error(raw):
    try:
        frame = cctalk.decode(raw)
    except cctalk.CcTalkFrameError as exc:
        assert exc.reason in ("truncated", "length", "checksum")
        return
    assert cctalk.encode(frame) == raw


@FUZZ
@given(st.binary(max_size=20))
def test_any_reply_data_parses_back_to_itself_or_is_a_value_error(data):
    parsers = {
        "events": (cctalk.decode_event_buffer, cctalk.encode_event_buffer),
        "hopper status": (cctalk.HopperStatus.decode, cctalk.HopperStatus.encode),
        "inhibit mask": (cctalk.enabled_positions, cctalk.inhibit_mask),
    }
    for parse, encode in parsers.values():
        try:
            value = parse(data)
        except ValueError:
            continue
        assert encode(value) == data
    try:
        coin = cctalk.parse_monetary_id(data)
    except ValueError:
        coin = None
    assert coin is None or (isinstance(coin[0], str) and coin[1] >= 0)
    assert all(isinstance(fault, str) for fault in cctalk.hopper_faults(data))


class ScriptedBus:
    """pyserial's side of a ccTalk bus: each frame written gets the next scripted
    reply (bytes, possibly none), and on a single-wire bus its echo first."""

    def __init__(self, replies: list[bytes], echoes: list[bytes | None]):
        self._replies, self._echoes, self._pending = iter(replies), iter(echoes), bytearray()

    def write(self, data: bytes) -> int:
        echo = next(self._echoes, None)
        self._pending += (data if echo is None else echo) + next(self._replies, b"")
        return len(data)

    read, reset_input_buffer, close = ScriptedPort.read, ScriptedPort.reset_input_buffer, ScriptedPort.close


def _reply(source: int, header: int, data: bytes) -> bytes:
    return cctalk.encode(cctalk.Frame(cctalk.HOST, source, header, data))


ADDRESSES = [cctalk.COIN_ACCEPTOR, cctalk.FIRST_HOPPER]
replies = st.one_of(
    st.binary(max_size=30),
    st.builds(_reply, st.sampled_from(ADDRESSES + [9]), st.sampled_from([cctalk.ACK, cctalk.ACK, cctalk.NAK, 7]),
              st.one_of(st.binary(max_size=16), st.sampled_from([b"Coin Acceptor", b"Payout", b"JP100A", b"......",
                                                                 b"JP1X0A"]))),
)


@FUZZ
@given(replies=st.lists(replies, max_size=40), echoes=st.lists(st.one_of(st.none(), st.binary(max_size=8)),
                                                                 max_size=4), echo=st.booleans())
def test_devices_on_a_bus_of_any_replies_give_values_or_payment_errors(replies, echoes, echo):
    link = CcTalkLink(ScriptedBus(replies, echoes if echo else []), timeout=0.01, echo=echo)
    acceptor, hopper = EventSource(link, cctalk.COIN_ACCEPTOR, cctalk.COIN_KIND), Hopper(link, cctalk.FIRST_HOPPER)
    for action in (acceptor.identify, acceptor.read, hopper.identify, hopper.level,
                   lambda: hopper.dispense(3, timeout=0)):
        try:
            action()
        except PaymentError:
            pass
    assert all(value >= 0 for value in acceptor.values.values())
