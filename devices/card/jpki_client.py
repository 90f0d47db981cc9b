"""The kiosk's view of a My Number card's JPKI AP: user authentication, and the
signature certificate behind its password."""
from __future__ import annotations

import hashlib

from cryptography import x509

from devices.card import apdu as A
from devices.card.card_commands import CardCommands, is_four_digits, is_signature_password
from devices.card.errors import CardProtocolError, NotMyNumberCard, OldJukiCard
from devices.card.transports import CardTransport

TOKEN_MY_NUMBER_CARD = b"JPKIAPICCTOKEN2"
TOKEN_OLD_JUKI_CARD = b"JPKIAPICCTOKEN"
AUTH_PIN_LENGTH = 4
SIGNATURE_LENGTH = 256  # RSA-2048
# The first READ BINARY asks for a full 256 bytes, not just the 4-byte DER header: it
# carries the length and the start of the certificate, so an L-byte certificate takes
# ceil(L / 256) reads, the fewest that short APDUs allow.
_FIRST_READ = A.MAX_SHORT_LE
_MAX_CERTIFICATE_LENGTH = 0x8000  # READ BINARY offsets stop at 7FFF


class JpkiClient:
    def __init__(self, transport: CardTransport):
        self.transport = transport
        self.token: bytes | None = None
        self._card = CardCommands(transport)

    def open(self) -> None:
        """Connect, select the JPKI AP and check this is a My Number card, not a Juki card."""
        self.transport.connect()
        if not self._card.select_aid(A.JPKI_AID):
            raise NotMyNumberCard("the card has no JPKI application")
        self._card.select_ef(A.FID_TOKEN)
        self.token = self._card.read_binary(0, A.TOKEN_LENGTH).rstrip(b" \x00")
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
        return self._card.tries_left(A.FID_AUTH_PIN)

    def verify_auth_pin(self, pin: bytearray) -> None:
        """Verify the 4-digit PIN. The bytearray is zeroed before this returns, whatever happens."""
        self._card.verify(A.FID_AUTH_PIN, pin, "PIN", f"{AUTH_PIN_LENGTH} digits", is_four_digits)

    def read_auth_certificate(self) -> bytes:
        return self._read_certificate(A.FID_AUTH_CERT)

    def read_auth_ca_certificate(self) -> bytes:
        return self._read_certificate(A.FID_AUTH_CA_CERT)

    def sign_auth(self, message: bytes) -> bytes:
        """PKCS#1 v1.5 SHA-256 signature with the authentication key; needs a verified PIN."""
        self._card.select_ef(A.FID_AUTH_KEY)
        digest_info = A.sha256_digest_info(hashlib.sha256(message).digest())
        response = self._card.send(A.compute_digital_signature(digest_info))
        if response.sw != A.SW_OK:
            raise CardProtocolError("the card refused to sign", response.sw)
        if len(response.data) != SIGNATURE_LENGTH:
            raise CardProtocolError(f"signature of {len(response.data)} bytes")
        return response.data

    def signature_password_tries_left(self) -> int:
        return self._card.tries_left(A.FID_SIGNATURE_PASSWORD)

    def read_signature_certificate(self, password: bytearray) -> bytes:
        """The certificate holding name, address, birth date and sex: readable only after
        the signature password (6-16 of A-Z 0-9). The bytearray is zeroed, whatever happens."""
        self._card.verify(A.FID_SIGNATURE_PASSWORD, password, "signature password",
                          "6 to 16 characters of A-Z and 0-9", is_signature_password)
        return self._read_certificate(A.FID_SIGNATURE_CERT)

    def read_signature_ca_certificate(self) -> bytes:
        return self._read_certificate(A.FID_SIGNATURE_CA_CERT)

    def _read_certificate(self, fid: int) -> bytes:
        self._card.select_ef(fid)
        data = self._card.read_whole(_FIRST_READ, _der_total_length)
        try:
            x509.load_der_x509_certificate(data)
        except (ValueError, x509.InvalidVersion) as e:  # InvalidVersion: an X.509 v2, say
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
