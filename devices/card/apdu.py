"""APDU building and parsing for the My Number card's applications (ISO 7816-4 short APDUs)."""
from __future__ import annotations

from dataclasses import dataclass

from devices.card.errors import CardProtocolError

CLA_ISO = 0x00
CLA_PROPRIETARY = 0x80

INS_SELECT = 0xA4
INS_READ_BINARY = 0xB0
INS_VERIFY = 0x20
INS_COMPUTE_SIGNATURE = 0x2A
INS_GET_RESPONSE = 0xC0

P1_SELECT_BY_FID = 0x02
P1_SELECT_BY_AID = 0x04
P2_NO_FCI = 0x0C
P2_VERIFY_SPECIFIC_PIN = 0x80

SW_OK = 0x9000
SW_WRONG_LENGTH = 0x6700
SW_PIN_BLOCKED = 0x6984
SW_SECURITY_NOT_SATISFIED = 0x6982
SW_NOT_FOUND = 0x6A82
SW_END_OF_FILE = 0x6282  # warning: end of file reached before Le bytes
SW_WRONG_P1P2 = 0x6B00
SW_INS_NOT_SUPPORTED = 0x6D00
SW_CLA_NOT_SUPPORTED = 0x6E00
SW1_MORE_DATA = 0x61
SW1_WRONG_LE = 0x6C
SW1_VERIFY_FAILED = 0x63

JPKI_AID = bytes.fromhex("D392F000260100000001")
FID_TOKEN = 0x0006
FID_AUTH_CERT = 0x000A
FID_AUTH_CA_CERT = 0x000B
FID_AUTH_KEY = 0x0017
FID_AUTH_PIN = 0x0018
FID_SIGNATURE_CERT = 0x0001
FID_SIGNATURE_CA_CERT = 0x0002
FID_SIGNATURE_KEY = 0x001A
FID_SIGNATURE_PASSWORD = 0x001B

CARD_INFO_AID = bytes.fromhex("D3921000310001010408")  # card-info input support AP
FID_CARD_INFO_MY_NUMBER = 0x0001
FID_CARD_INFO_BASIC_FACTS = 0x0002
FID_CARD_INFO_PIN = 0x0011

CARD_FACE_AID = bytes.fromhex("D3921000310001010402")  # not emulated: answers 6A 82

TOKEN_LENGTH = 20
MAX_SHORT_LE = 256

SHA256_DIGEST_INFO_PREFIX = bytes.fromhex("3031300d060960864801650304020105000420")


def verify_failed_sw(tries_left: int) -> int:
    return 0x63C0 | tries_left


@dataclass(frozen=True)
class Response:
    data: bytes
    sw: int

    @property
    def sw1(self) -> int:
        return self.sw >> 8

    @property
    def sw2(self) -> int:
        return self.sw & 0xFF

    @classmethod
    def parse(cls, raw: bytes) -> "Response":
        if len(raw) < 2:
            raise CardProtocolError(f"response of {len(raw)} bytes has no status word")
        return cls(bytes(raw[:-2]), int.from_bytes(raw[-2:], "big"))


def status(sw: int, data: bytes = b"") -> bytes:
    return data + sw.to_bytes(2, "big")


def _command(cla: int, ins: int, p1: int, p2: int, data: bytes = b"", le: int | None = None) -> bytes:
    if len(data) > 255:
        raise ValueError("short APDUs carry at most 255 data bytes")
    apdu = bytes([cla, ins, p1, p2])
    if data:
        apdu += bytes([len(data)]) + data
    if le is not None:
        if not 1 <= le <= MAX_SHORT_LE:
            raise ValueError(f"Le {le} out of range")
        apdu += bytes([le & 0xFF])  # 256 is encoded as 00
    return apdu


def select_aid(aid: bytes) -> bytes:
    return _command(CLA_ISO, INS_SELECT, P1_SELECT_BY_AID, P2_NO_FCI, aid)


def select_fid(fid: int) -> bytes:
    return _command(CLA_ISO, INS_SELECT, P1_SELECT_BY_FID, P2_NO_FCI, fid.to_bytes(2, "big"))


def read_binary(offset: int, length: int) -> bytes:
    if not 0 <= offset <= 0x7FFF:
        raise ValueError(f"offset {offset} out of range")
    return _command(CLA_ISO, INS_READ_BINARY, offset >> 8, offset & 0xFF, le=length)


def verify(pin: bytearray) -> bytearray:
    """A bytearray, so the caller can wipe the PIN from the command after sending it."""
    if not 0 < len(pin) <= 255:
        raise ValueError("PIN length out of range")
    return bytearray([CLA_ISO, INS_VERIFY, 0x00, P2_VERIFY_SPECIFIC_PIN, len(pin)]) + pin


def empty_verify() -> bytes:
    """Asks for the tries left without spending one."""
    return _command(CLA_ISO, INS_VERIFY, 0x00, P2_VERIFY_SPECIFIC_PIN)


def compute_digital_signature(digest_info: bytes) -> bytes:
    return _command(CLA_PROPRIETARY, INS_COMPUTE_SIGNATURE, 0x00, 0x80, digest_info, le=MAX_SHORT_LE)


def get_response(length: int) -> bytes:
    return _command(CLA_ISO, INS_GET_RESPONSE, 0x00, 0x00, le=length)


def with_le(command: bytes, le_byte: int) -> bytes:
    """The same command asking for another Le (the card answered 6C xx)."""
    header, body = command[:4], command[4:]
    if len(body) == 1:  # case 2: only the old Le
        body = b""
    elif body and len(body) == body[0] + 2:  # case 4: drop the old Le
        body = body[:-1]
    return header + body + bytes([le_byte])


def sha256_digest_info(digest: bytes) -> bytes:
    if len(digest) != 32:
        raise ValueError("a SHA-256 digest is 32 bytes")
    return SHA256_DIGEST_INFO_PREFIX + digest


def is_verify(apdu: bytes) -> bool:
    return len(apdu) >= 2 and apdu[1] == INS_VERIFY


def masked_hex(apdu: bytes) -> str:
    """Hex for traces and logs; a VERIFY's PIN bytes never leave as anything but ****."""
    if is_verify(apdu) and len(apdu) > 5:
        return apdu[:5].hex(" ").upper() + " ****"
    return apdu.hex(" ").upper()
