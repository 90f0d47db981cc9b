"""Layout of the card-info input support AP's files, written once for the virtual
card (encode) and the client (decode).

- EF 0001: `FF 10 0C` + the 12 My Number digits in ASCII. The doc infers a 17-byte
  file; the two bytes after the TLV are `00 00`, the padding ISO 7816-4 allows
  around BER-TLV objects, so a TLV reader stops cleanly after the number.
- EF 0002: `FF 20 <len> { DF 21 header, DF 22 name, DF 23 address, DF 24 birth
  date, DF 25 sex }`, UTF-8 values, BER lengths (81 / 82 long forms above 127). The
  header's content is not public; ours is a version byte pair `00 01` that clients skip.
  The birth date is YYYYMMDD in ASCII; the sex an ISO 5218 code ("1", "2", "9").
"""
from __future__ import annotations

from devices.card.errors import CardProtocolError

TAG_MY_NUMBER = 0xFF10
TAG_BASIC_FACTS = 0xFF20
TAG_HEADER = 0xDF21
TAG_NAME = 0xDF22
TAG_ADDRESS = 0xDF23
TAG_BIRTH_DATE = 0xDF24
TAG_SEX = 0xDF25

SEXES = ("1", "2", "9")  # ISO 5218: male, female, not applicable
MY_NUMBER_FILE_LENGTH = 17
BASIC_FACTS_HEADER = b"\x00\x01"
TLV_HEADER_MAX = 5  # two tag bytes, up to three length bytes (82 LL LL)


def encode_my_number(number: str) -> bytes:
    return tlv(TAG_MY_NUMBER, number.encode("ascii")).ljust(MY_NUMBER_FILE_LENGTH, b"\x00")


def encode_basic_facts(name: str, address: str, birth_date: str, sex: str) -> bytes:
    body = (tlv(TAG_HEADER, BASIC_FACTS_HEADER) + tlv(TAG_NAME, name.encode("utf-8"))
            + tlv(TAG_ADDRESS, address.encode("utf-8")) + tlv(TAG_BIRTH_DATE, birth_date.encode("ascii"))
            + tlv(TAG_SEX, sex.encode("ascii")))
    return tlv(TAG_BASIC_FACTS, body)


def tlv(tag: int, value: bytes) -> bytes:
    return tag.to_bytes(2, "big") + _ber_length(len(value)) + value


def _ber_length(length: int) -> bytes:
    if length < 0x80:
        return bytes([length])
    if length <= 0xFF:
        return bytes([0x81, length])
    if length <= 0xFFFF:
        return b"\x82" + length.to_bytes(2, "big")
    raise ValueError(f"a value of {length} bytes does not fit a card file")


def parse_tlv(data: bytes, offset: int = 0) -> tuple[int, bytes, int]:
    """(tag, value, offset after the value) of the TLV at offset; every tag of this AP is two bytes."""
    tag, length, start = _tlv_header(data, offset)
    end = start + length
    if end > len(data):
        raise CardProtocolError(f"TLV {tag:04X} of {length} bytes runs past the data")
    return tag, data[start:end], end


def tlv_total_length(header: bytes) -> int:
    """Bytes from the tag to the end of the value, known from the first TLV_HEADER_MAX bytes."""
    _, length, start = _tlv_header(header, 0)
    return start + length


def _tlv_header(data: bytes, offset: int) -> tuple[int, int, int]:
    if len(data) < offset + 3:
        raise CardProtocolError("TLV header cut short")
    tag = int.from_bytes(data[offset:offset + 2], "big")
    first = data[offset + 2]
    if first < 0x80:
        return tag, first, offset + 3
    count = first & 0x7F
    if count not in (1, 2) or len(data) < offset + 3 + count:
        raise CardProtocolError(f"TLV {tag:04X}: unsupported BER length")
    return tag, int.from_bytes(data[offset + 3:offset + 3 + count], "big"), offset + 3 + count
