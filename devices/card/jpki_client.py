"""The kiosk's view of a My Number card: the JPKI user-authentication functions only."""
from __future__ import annotations

import hashlib

from cryptography import x509

from devices.card import apdu as A
from devices.card.errors import (
    CardProtocolError,
    InvalidPinFormat,
    NotMyNumberCard,
    OldJukiCard,
    PinBlocked,
    WrongPin,
)
from devices.card.transports import CardTransport

TOKEN_MY_NUMBER_CARD = b"JPKIAPICCTOKEN2"
TOKEN_OLD_JUKI_CARD = b"JPKIAPICCTOKEN"
AUTH_PIN_LENGTH = 4
SIGNATURE_LENGTH = 256  # RSA-2048
_DER_HEADER_READ = 4  # 30 82 LL LL: enough for any certificate a card can hold
_MAX_CERTIFICATE_LENGTH = 0x8000  # READ BINARY offsets stop at 7FFF


class JpkiClient:
    def __init__(self, transport: CardTransport):
        self.transport = transport
        self.token: bytes | None = None

    def open(self) -> None:
        """Connect, select the JPKI AP and check this is a My Number card, not a Juki card."""
        self.transport.connect()
        if self._send(A.select_aid(A.JPKI_AID)).sw != A.SW_OK:
            raise NotMyNumberCard("the card has no JPKI application")
        self._select_ef(A.FID_TOKEN)
        self.token = self._read_binary(0, A.TOKEN_LENGTH).rstrip(b" \x00")
        if self.token == TOKEN_OLD_JUKI_CARD:
            raise OldJukiCard("a Basic Resident Register card, not a My Number card")
        if self.token != TOKEN_MY_NUMBER_CARD:
            raise NotMyNumberCard(f"unknown JPKI token {self.token!r}")

    def close(self) -> None:
        self.transport.disconnect()

    def __enter__(self) -> "JpkiClient":
        self.open()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def auth_pin_tries_left(self) -> int:
        """What the card reports, read without spending a try."""
        self._select_ef(A.FID_AUTH_PIN)
        response = self._send(A.empty_verify())
        if response.sw == A.SW_PIN_BLOCKED:
            return 0
        if response.sw1 == A.SW1_VERIFY_FAILED and response.sw2 & 0xF0 == 0xC0:
            return response.sw2 & 0x0F
        raise CardProtocolError("unexpected answer to an empty VERIFY", response.sw)

    def verify_auth_pin(self, pin: bytearray) -> None:
        """Verify the 4-digit PIN. The bytearray is zeroed before this returns, whatever happens."""
        if not isinstance(pin, bytearray):
            raise TypeError("pass the PIN as a bytearray, so it can be wiped")
        command = bytearray()
        try:
            if len(pin) != AUTH_PIN_LENGTH or not all(0x30 <= b <= 0x39 for b in pin):
                raise InvalidPinFormat(f"the PIN is {AUTH_PIN_LENGTH} digits")
            self._select_ef(A.FID_AUTH_PIN)
            command = A.verify(pin)
            response = self._send(command)
        finally:
            _wipe(pin)
            _wipe(command)
        if response.sw == A.SW_OK:
            return
        if response.sw == A.SW_PIN_BLOCKED or response.sw == A.verify_failed_sw(0):
            raise PinBlocked("the PIN is blocked; only the municipal office can unblock it")
        if response.sw1 == A.SW1_VERIFY_FAILED and response.sw2 & 0xF0 == 0xC0:
            raise WrongPin(response.sw2 & 0x0F)
        raise CardProtocolError("unexpected answer to VERIFY", response.sw)

    def read_auth_certificate(self) -> bytes:
        return self._read_certificate(A.FID_AUTH_CERT)

    def read_auth_ca_certificate(self) -> bytes:
        return self._read_certificate(A.FID_AUTH_CA_CERT)

    def sign_auth(self, message: bytes) -> bytes:
        """PKCS#1 v1.5 SHA-256 signature with the authentication key; needs a verified PIN."""
        self._select_ef(A.FID_AUTH_KEY)
        digest_info = A.sha256_digest_info(hashlib.sha256(message).digest())
        response = self._send(A.compute_digital_signature(digest_info))
        if response.sw != A.SW_OK:
            raise CardProtocolError("the card refused to sign", response.sw)
        if len(response.data) != SIGNATURE_LENGTH:
            raise CardProtocolError(f"signature of {len(response.data)} bytes")
        return response.data

    def _send(self, command: bytes | bytearray) -> A.Response:
        return A.Response.parse(self.transport.transmit(command))

    def _select_ef(self, fid: int) -> None:
        response = self._send(A.select_fid(fid))
        if response.sw != A.SW_OK:
            raise CardProtocolError(f"cannot select EF {fid:04X}", response.sw)

    def _read_binary(self, offset: int, length: int) -> bytes:
        response = self._send(A.read_binary(offset, length))
        if response.sw != A.SW_OK:
            raise CardProtocolError(f"cannot read {length} bytes at {offset}", response.sw)
        if not response.data or len(response.data) > length:
            raise CardProtocolError(f"asked {length} bytes at {offset}, got {len(response.data)}")
        return response.data

    def _read_certificate(self, fid: int) -> bytes:
        self._select_ef(fid)
        data = self._read_binary(0, _DER_HEADER_READ)
        total = _der_total_length(data)
        while len(data) < total:
            data += self._read_binary(len(data), min(A.MAX_SHORT_LE, total - len(data)))
        data = data[:total]
        try:
            x509.load_der_x509_certificate(data)
        except ValueError as e:
            raise CardProtocolError(f"EF {fid:04X} does not hold a certificate: {e}") from e
        return data


def _der_total_length(header: bytes) -> int:
    """Length of the DER SEQUENCE starting with header, tag and length bytes included."""
    if len(header) < 2 or header[0] != 0x30:
        raise CardProtocolError("the file does not start with a DER SEQUENCE")
    first = header[1]
    if first < 0x80:
        return 2 + first
    count = first & 0x7F
    if not 1 <= count <= 2 or len(header) < 2 + count:
        raise CardProtocolError("unsupported DER length encoding")
    total = 2 + count + int.from_bytes(header[2:2 + count], "big")
    if total > _MAX_CERTIFICATE_LENGTH:
        raise CardProtocolError(f"certificate of {total} bytes cannot fit a card EF")
    return total


def _wipe(buffer: bytearray) -> None:
    buffer[:] = bytes(len(buffer))
